/**
 * `./dev bench api`: the API benchmark under Deno and under Bun, beside the C engine's own
 * figures (bench/native with the same records).
 *
 * The host's speed drifts by tens of percent within seconds, so the three programs run in
 * rounds, one after another (C, Deno, Bun), and every ratio to C is taken within a round:
 * `*_pct_of_c` is the median over rounds of that round's ratio. The other figures are medians
 * over rounds of each program's own median of --runs. With --json the last line is one JSON
 * array: one object per runtime, each with the C figures attached.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { median } from "./workload.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const get = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const records = get("--records", "2000000");
const runs = get("--runs", "3");
const rounds = Number(get("--rounds", "3"));

/** One program's figures as printed by its --json line. */
type Figures = Record<string, number | string | boolean>;

function run(cmd: string, argv: string[]): Figures {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 26 });
  process.stderr.write(r.stdout.split("\n").slice(0, -2).join("\n") + "\n");
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const common = ["--records", records, "--runs", runs, "--json"];
const programs = {
  native: (): Figures => run("zig-out/bin/bench_native", common),
  deno: (): Figures =>
    run("deno", [
      "run",
      "--allow-ffi",
      "--allow-env",
      "--allow-read",
      "bench/api_run.ts",
      ...common,
    ]),
  bun: (): Figures => run("bun", ["bench/api_run.ts", ...common]),
};
const seen: Record<keyof typeof programs, Figures[]> = { native: [], deno: [], bun: [] };
for (let r = 0; r < rounds; r++) {
  process.stderr.write(`-- round ${r + 1} of ${rounds}\n`);
  for (const [name, program] of Object.entries(programs)) {
    seen[name as keyof typeof programs].push(program());
  }
}

/** Median over rounds of one key. */
const over = (list: Figures[], key: string): number =>
  +median(list.map((f) => Number(f[key]))).toFixed(3);
/** Median over rounds of a runtime's figure as a percentage of C's in the same round. */
const pct = (list: Figures[], key: string, cKey: string): number =>
  +median(list.map((f, i) => (100 * Number(f[key])) / Number(seen.native[i][cKey]))).toFixed(1);

const out = (["deno", "bun"] as const).map((runtime): Figures => {
  const list = seen[runtime];
  const figures: Figures = { runtime, records: Number(records), runs: Number(runs), rounds };
  for (const key of Object.keys(list[0])) {
    if (typeof list[0][key] === "number" && !(key in figures)) figures[key] = over(list, key);
  }
  return {
    ...figures,
    f64_ingest_pct_of_c: pct(list, "f64_ingest_mrec_s", "ingest_mrec_s"),
    f64_scan_pct_of_c: pct(list, "f64_scan_mrec_s", "scan_mrec_s"),
    f64_scan_pct_of_c_f64: pct(list, "f64_scan_mrec_s", "scan_f64_mrec_s"),
    c_ingest_mrec_s: over(seen.native, "ingest_mrec_s"),
    c_scan_mrec_s: over(seen.native, "scan_mrec_s"),
    c_scan_f64_mrec_s: over(seen.native, "scan_f64_mrec_s"),
    c_point_ns: over(seen.native, "point_ns"),
    verified: [...list, ...seen.native].every((f) => f.verified === true),
  };
});
for (const r of out) {
  process.stderr.write(
    `${r.runtime}: f64 ingest ${r.f64_ingest_mrec_s} Mrec/s (${r.f64_ingest_pct_of_c}% of C), ` +
      `f64 scan ${r.f64_scan_mrec_s} Mrec/s (${r.f64_scan_pct_of_c}% of C; ` +
      `${r.f64_scan_pct_of_c_f64}% of C's f64 scan with the same FP sums), ` +
      `medians over ${rounds} rounds of ratios within a round\n`,
  );
}
if (json) console.log(JSON.stringify(out));
