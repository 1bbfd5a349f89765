import { Timelog } from "../mod.ts";
import { generate } from "./workload.ts";
import * as fs from "node:fs";
const N = 5_000_000, B = 4096;
const d = generate(N, 0.05);
const mode = process.argv[2] ?? "interval";
for (let r = 0; r < 3; r++) {
  const dir = "/work/main/.ding";
  fs.rmSync(dir, { recursive: true, force: true });
  const log = mode === "memory" ? new Timelog<number>({ values: "f64" }) : new Timelog<number>({ path: dir, values: "f64" });
  const t = performance.now();
  for (let o = 0; o < N; o += B) log.appendMany(d.ts.subarray(o, o + B), d.values.subarray(o, o + B));
  if (mode !== "memory") await log.sync();
  const s = (performance.now() - t) / 1000;
  console.log(`${mode}: ${(N / s / 1e6).toFixed(1)} Mrec/s`);
  log.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
