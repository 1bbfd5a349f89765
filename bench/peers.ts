/**
 * Timelog beside what a user would pick instead (bench/peers/: a hand-written sorted
 * Float64Array pair, sorted-btree, in-memory SQLite), in the runtime running it, on two
 * shapes of data: the users' shape of issue 13 (bench/peers/users.ts) and the baseline shape
 * of the earlier figures (bench/peers/baseline.ts). Warm figures only: each workload runs
 * untimed 5 times on a 100K-record set first, then the figures are medians of K runs. The
 * fresh-process figures (first ingest, memory) come from bench/peers_fresh.ts, run by the
 * driver bench/peers_main.ts (`./dev bench peers`), which also merges both runtimes.
 *
 *   deno run --allow-ffi --allow-env --allow-read --v8-flags=--expose-gc bench/peers.ts \
 *     [--records N] [--runs K] [--json]
 *   bun bench/peers.ts [--records N] [--runs K] [--json]
 *
 * Before each peer's timed run a full garbage collection runs, untimed (Deno needs
 * --expose-gc for it), so no peer pays for the collection of the previous one's garbage.
 * Also `--settle-ms S` (500: idle time between the users' ingest and its reads) and
 * `--budget-ms B` (1500: a query workload stops after B ms; the figure is the mean of the
 * queries done). With --json the last line of stdout is one JSON object (keys in
 * bench/README.md). Exits 1 when any answer failed its check.
 *
 * @module
 */
import process from "node:process";
import { BASELINE_QUERIES, baselineOnce, baselineWorkload } from "./peers/baseline.ts";
import { makePeer } from "./peers/make.ts";
import { collect, type Fail, type Figures } from "./peers/measure.ts";
import { PEER_NAMES, type PeerName } from "./peers/peer.ts";
import { formatRuntime } from "./peers/table.ts";
import {
  POINT_QUERIES,
  RANGE_QUERIES,
  usersIngest100,
  usersOnce,
  usersWorkload,
} from "./peers/users.ts";
import { median } from "./workload.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const N = arg("--records", 1_000_000);
const RUNS = arg("--runs", 5);
const SETTLE_MS = arg("--settle-ms", 500);
const BUDGET_MS = arg("--budget-ms", 1500);
/** Warm-up: the JIT's top tier needs a few calls of each function. */
const WARM_ROUNDS = 5, WARM_RECORDS = Math.min(100_000, N), WARM_BUDGET_MS = 100;

const runtime = "Deno" in globalThis ? "deno" : "bun";
const version = (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno ??
  (globalThis as unknown as { Bun: { version: string } }).Bun.version;
const failures: string[] = [];
const failFor = (peer: PeerName, shape: string, n: number): Fail => (what) =>
  failures.push(`${peer} (${shape}, ${n} records): ${what}`);

const warmUsers = usersWorkload(WARM_RECORDS), warmBase = baselineWorkload(WARM_RECORDS);
for (let r = 0; r < WARM_ROUNDS; r++) {
  for (const p of PEER_NAMES) {
    const pace = { settleMs: 0, budgetMs: WARM_BUDGET_MS };
    await usersOnce(p, warmUsers, pace, failFor(p, "users", WARM_RECORDS));
    usersIngest100(p, warmUsers, failFor(p, "users", WARM_RECORDS));
    baselineOnce(p, warmBase, WARM_BUDGET_MS, failFor(p, "baseline", WARM_RECORDS));
  }
}

/**
 * One small instance of each peer, open until the timed runs end. V8 holds the transitions that
 * build an object's shape weakly: when the full collection before a timed run found no live
 * instance of a class (the previous run's peer closed and dropped), the shape went, the run's
 * new objects got new shapes, and every function optimized against the old ones was thrown away
 * and compiled again inside the timed pass (`--trace-deopt`: "embedded weak objects cleared", in
 * every peer's read path: Timelog's, the B-tree's, the array peer's). A warm figure then measured
 * compilation, where a user's long-lived log, tree or array keeps its shapes. (Timelog's own
 * per-read objects are anchored by the library: src/iter.ts, SHAPE_ANCHORS.)
 */
const keepers = PEER_NAMES.map((p) => {
  const peer = makePeer(p, "users");
  peer.ingest(warmUsers.d, warmUsers.d.ts.length);
  return peer;
});

/**
 * The peers in run r's order. Peers interleave within a run, so a slow period of the host hits
 * all of them alike; the order rotates from run to run, so that no peer always follows the same
 * one (in tests here, Timelog's ingest often read 1.4-2x slower right after SQLite's run than
 * after its own, with the same page faults: the cause is not pinned down).
 */
const rotation = (r: number): PeerName[] => PEER_NAMES.map((_, i) => PEER_NAMES[(i + r) % 4]);

const users = usersWorkload(N);
const usersRuns = new Map(PEER_NAMES.map((p) => [p, [] as Figures[]]));
for (let r = 0; r < RUNS; r++) {
  for (const p of rotation(r)) {
    const pace = { settleMs: SETTLE_MS, budgetMs: BUDGET_MS };
    collect();
    usersRuns.get(p)!.push(await usersOnce(p, users, pace, failFor(p, "users", N)));
  }
  for (const p of rotation(r)) {
    collect();
    Object.assign(usersRuns.get(p)![r], usersIngest100(p, users, failFor(p, "users", N)));
  }
}
const base = baselineWorkload(N);
const baseRuns = new Map(PEER_NAMES.map((p) => [p, [] as Figures[]]));
for (let r = 0; r < RUNS; r++) {
  for (const p of rotation(r)) {
    collect();
    baseRuns.get(p)!.push(baselineOnce(p, base, BUDGET_MS, failFor(p, "baseline", N)));
  }
}

/** Flat JSON keys `<prefix><figure>_<peer>`, each the median over runs, 4 digits. */
function medians(runs: Map<PeerName, Figures[]>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [p, list] of runs) {
    for (const k of Object.keys(list[0])) {
      out[`${prefix}${k}_${p}`] = +median(list.map((f) => f[k])).toPrecision(4);
    }
  }
  return out;
}

const verifiedBy = Object.fromEntries(
  PEER_NAMES.map((p) => [`verified_${p}`, !failures.some((f) => f.startsWith(`${p} `))]),
);
const result = {
  runtime,
  version,
  records: N,
  runs: RUNS,
  settle_ms: SETTLE_MS,
  budget_ms: BUDGET_MS,
  range_queries: RANGE_QUERIES,
  point_queries: POINT_QUERIES,
  baseline_queries: BASELINE_QUERIES,
  ...medians(usersRuns, ""),
  ...medians(baseRuns, "baseline_"),
  ...verifiedBy,
  verified: failures.length === 0,
  failures,
};
for (const k of keepers) k.close();
console.log(formatRuntime(result));
for (const f of failures) console.error(`FAILED verification: ${f}`);
if (argv.includes("--json")) console.log(JSON.stringify(result));
if (failures.length > 0) process.exit(1);
