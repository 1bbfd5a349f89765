/**
 * `./dev bench api`: the API benchmark under Deno and under Bun, beside the C engine's own
 * figures measured in the same run (bench/native with the same records). With --json the last
 * line is one JSON array: one object per runtime, each with the C figures attached.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";

const args = process.argv.slice(2);
const json = args.includes("--json");
const get = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const records = get("--records", "2000000");
const runs = get("--runs", "5");

/** One runtime's figures as printed by api_run.ts (numbers, plus runtime and verified). */
type Figures = Record<string, number | string | boolean>;

function run(cmd: string, argv: string[]): Figures {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 26 });
  process.stderr.write(r.stdout.split("\n").slice(0, -2).join("\n") + "\n");
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const native = run("zig-out/bin/bench_native", ["--records", records, "--runs", runs, "--json"]);
const flags = ["run", "--allow-ffi", "--allow-env", "--allow-read", "bench/api_run.ts"];
const common = ["--records", records, "--runs", runs, "--json"];
const out = [
  run("deno", [...flags, ...common]),
  run("bun", ["bench/api_run.ts", ...common]),
].map((r): Figures => ({
  ...r,
  c_ingest_mrec_s: native.ingest_mrec_s,
  c_scan_mrec_s: native.scan_mrec_s,
  c_scan_f64_mrec_s: native.scan_f64_mrec_s,
  c_point_ns: native.point_ns,
  verified: r.verified === true && native.verified === true,
}));
for (const r of out) {
  const ratio = (a: Figures[string], b: Figures[string]) =>
    `${((100 * Number(a)) / Number(b)).toFixed(0)}%`;
  process.stderr.write(
    `${r.runtime}: f64 ingest ${r.f64_ingest_mrec_s} Mrec/s (${
      ratio(r.f64_ingest_mrec_s, r.c_ingest_mrec_s)
    } of C), ` +
      `f64 scan ${r.f64_scan_mrec_s} Mrec/s (${ratio(r.f64_scan_mrec_s, r.c_scan_mrec_s)} of C; ${
        ratio(r.f64_scan_mrec_s, r.c_scan_f64_mrec_s)
      } of C's f64 scan with the same FP sums)\n`,
  );
}
if (json) console.log(JSON.stringify(out));
