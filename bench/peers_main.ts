/**
 * `./dev bench peers`: the peers benchmark under Deno and under Bun, with its fresh-process
 * figures, merged into one table per runtime and one JSON array.
 *
 * 1. Warm figures: bench/peers.ts under Deno, then under Bun (both shapes, medians of K runs
 *    after warm-up), each printing one JSON line.
 * 2. Fresh-process figures of the users' shape: K rounds; in each, bench/peers_fresh.ts once
 *    per runtime per peer, a new process each time (first ingest with no warm-up; RSS growth
 *    per record, one structure per process since the JS heap never shrinks). Each figure is
 *    the median over the K processes.
 *
 * Prints both runtimes' tables on stdout; with --json the last line is one JSON array with
 * one object per runtime. Exits 1 when any check of any program failed.
 *
 *   deno run --allow-ffi --allow-env --allow-read --allow-run bench/peers_main.ts \
 *     [--records N] [--runs K] [--json] [--runtimes deno,bun] [--settle-ms S] [--budget-ms B]
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { PEER_NAMES } from "./peers/peer.ts";
import { formatRuntime, type RuntimeFigures } from "./peers/table.ts";
import { median } from "./workload.ts";

const args = process.argv.slice(2);
const get = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const records = get("--records", "1000000");
const runs = get("--runs", "5");
const settleMs = get("--settle-ms", "500");
const runtimes = get("--runtimes", "deno,bun").split(",") as ("deno" | "bun")[];
const started = performance.now();

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const DENO = ["run", "--allow-ffi", "--allow-env", "--allow-read"];
/** The command line of a program under a runtime. */
function command(runtime: "deno" | "bun", file: string, flags: string[]): [string, string[]] {
  // --expose-gc: both programs collect garbage, untimed, where it would skew a figure.
  return runtime === "deno"
    ? ["deno", [...DENO, "--v8-flags=--expose-gc", here(file), ...flags]]
    : ["bun", [here(file), ...flags]];
}

/** Runs a program; its figures are the last stdout line (a failed check still prints it). */
function run(runtime: "deno" | "bun", file: string, flags: string[]): RuntimeFigures {
  const [cmd, argv] = command(runtime, file, flags);
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.stderr) process.stderr.write(r.stderr);
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    const why = `${cmd} ${argv.join(" ")} exited with ${r.status} and no JSON line`;
    process.stderr.write(`${why}\n${r.stdout ?? ""}${r.error ?? ""}\n`);
    return { verified: false, failures: [why] };
  }
}

const say = (s: string) =>
  process.stderr.write(`peers: ${s} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
const passThrough = ["--records", records, "--runs", runs, "--settle-ms", settleMs];
if (args.includes("--budget-ms")) passThrough.push("--budget-ms", get("--budget-ms", ""));

const warm = new Map<string, RuntimeFigures>();
for (const rt of runtimes) {
  say(`${rt}: warm runs of both shapes`);
  warm.set(rt, run(rt, "./peers.ts", [...passThrough, "--json"]));
}

const fresh = new Map(runtimes.map((rt) => [rt, [] as RuntimeFigures[]]));
for (let k = 0; k < Number(runs); k++) {
  say(`fresh processes, round ${k + 1} of ${runs}`);
  for (const rt of runtimes) {
    for (const peer of PEER_NAMES) {
      const flags = ["--peer", peer, "--records", records, "--settle-ms", settleMs];
      fresh.get(rt)!.push({ peer, ...run(rt, "./peers_fresh.ts", flags) });
    }
  }
}

/** One runtime's warm figures with the fresh-process medians and the merged checks. */
function merge(rt: "deno" | "bun"): RuntimeFigures {
  const out: RuntimeFigures = { runtime: rt, ...warm.get(rt), fresh_processes: Number(runs) };
  const failures = [...((out.failures as string[] | undefined) ?? [])];
  for (const peer of PEER_NAMES) {
    const list = fresh.get(rt)!.filter((f) => f.peer === peer);
    for (const key of ["ingest_first_per_s", "mem_bytes_per_record", "open_first_ms"]) {
      const xs = list.map((f) => f[key]).filter((x): x is number => typeof x === "number");
      if (xs.length > 0) out[`${key}_${peer}`] = +median(xs).toPrecision(4);
    }
    const opened = list.map((f) => Number(f.mem_open_bytes)).filter(Number.isFinite);
    if (opened.length > 0) out[`mem_open_bytes_${peer}`] = median(opened);
    const ok = list.every((f) => f.verified === true);
    for (const f of list) failures.push(...((f.failures as string[] | undefined) ?? []));
    out[`verified_${peer}`] = out[`verified_${peer}`] === true && ok;
  }
  out.verified = out.verified === true && PEER_NAMES.every((p) => out[`verified_${p}`]);
  out.failures = failures;
  for (const key of ["ingest", "ingest_first", "scan", "range100", "range1000", "point"]) {
    const t = out[`${key}_per_s_timelog`], a = out[`${key}_per_s_array`];
    if (typeof t === "number" && typeof a === "number") {
      out[`${key}_timelog_vs_array`] = +(t / a).toFixed(3);
    }
  }
  return out;
}

const merged = runtimes.map(merge);
for (const fig of merged) console.log(formatRuntime(fig) + "\n");
for (const fig of merged) {
  for (const f of fig.failures as string[]) console.error(`FAILED verification: ${f}`);
}
say(`done`);
if (args.includes("--json")) console.log(JSON.stringify(merged));
if (!merged.every((f) => f.verified === true)) process.exit(1);
