/**
 * The API benchmark in the runtime running it (Deno or Bun): f64 bulk ingest and columnar
 * scan, object-mode ingest and iteration, single appends, point lookups. Every figure is
 * verified by count and checksum. Each workload is a function that first runs untimed on a
 * 100K-record warm-up set (so the JIT has compiled it, as in any long-running process), then
 * timed on N records; figures are medians of K runs. Prints a table, and with --json one JSON
 * object last.
 *
 * The time-series queries (bench/series.ts) run twice: on the compacted log of the bench data
 * (4096-record batches, 5% up to 1024 late), and as `users_*` on issue 13's users' shape
 * (bench/peers/shapes.ts: ms timestamps, a third shared, 5% up to 10,000 ms late) ingested in
 * batches of 1,000 and read right away, with no `flush()` or `compact()`: the memtable, L0
 * segments and the L1 runs background maintenance has built so far are all read. Before them,
 * `users_asof_first_speedup_vs_js` is the log's first read: one `asOfMany` the moment ingest
 * ends (the worker still flushing, compacting and packing) against the binary search.
 *
 * Object iteration is timed over three passes of the freshly loaded log; obj_iter_mrec_s is
 * the median pass. The first pass after a bulk load of 2M objects also pays for the engine's
 * collection of that load (V8 finishes a ~60 ms mark-compact of the grown heap wherever it
 * lands): obj_iter_first_mrec_s reports that pass on its own.
 *
 *   deno run --allow-ffi --allow-env --allow-read bench/api_run.ts [--records N] [--runs K] [--json]
 *   bun bench/api_run.ts [--records N] [--runs K] [--json]
 *
 * @module
 */
import { Timelog } from "../mod.ts";
import { type Data, generate, median } from "./workload.ts";
import { asofFirstCall, asofFirstPrep, type SeriesFigures, seriesFigures } from "./series.ts";
import { type Dataset, usersShape } from "./peers/shapes.ts";

const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
function arg(name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}
const JSON_OUT = argv.includes("--json");
const N = arg("--records", 2_000_000);
const RUNS = arg("--runs", 5);
const BATCH = 4096;
const runtime = "Deno" in globalThis ? "deno" : "bun";
let verified = true;

function check(what: string, ok: boolean): void {
  if (!ok) {
    verified = false;
    console.error(`FAILED verification: ${what}`);
  }
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** f64 ingest: appendMany of 4096-record columns, then flush (background maintenance on). */
function ingestF64(d: Data): Timelog<number> {
  const log = new Timelog<number>({ values: "f64" });
  for (let off = 0; off < d.ts.length; off += BATCH) {
    log.appendMany(d.ts.subarray(off, off + BATCH), d.values.subarray(off, off + BATCH));
  }
  log.flush();
  return log;
}

/** The users' shape as a user ingests it: batches of 1,000, no flush, no compact. */
function ingestUsers(d: Dataset): Timelog<number> {
  const log = new Timelog<number>({ values: "f64" });
  for (let off = 0; off < d.ts.length; off += 1000) {
    log.appendMany(d.ts.subarray(off, off + 1000), d.values.subarray(off, off + 1000));
  }
  return log;
}

/** Consumes one batch of columns (what a bulk reader does per batch). */
function sumColumns(ts: Float64Array, values: Float64Array, acc: Float64Array): void {
  let t = acc[0], v = acc[1];
  for (let i = 0; i < ts.length; i++) {
    t += ts[i];
    v += values[i];
  }
  acc[0] = t;
  acc[1] = v;
  acc[2] += ts.length;
}

/** Columnar full scan: nextBatch() into reused typed arrays; returns [tsSum, valueSum, n]. */
function scanF64(log: Timelog<number>): Float64Array {
  const acc = new Float64Array(3);
  using it = log.all();
  for (let b = it.nextBatch(); b; b = it.nextBatch()) {
    sumColumns(b.ts, b.values as Float64Array, acc);
  }
  return acc;
}

/** Object ingest: appendMany with a column of objects, then flush. */
function ingestObjects(d: Data, objs: { id: number }[]): Timelog<{ id: number }> {
  const log = new Timelog<{ id: number }>();
  for (let off = 0; off < d.ts.length; off += BATCH) {
    log.appendMany(d.ts.subarray(off, off + BATCH), objs.slice(off, off + BATCH));
  }
  log.flush();
  return log;
}

/** Object iteration with for…of; returns [n, idSum]. */
function iterObjects(log: Timelog<{ id: number }>): [number, number] {
  let n = 0, idSum = 0;
  for (const [, v] of log) {
    n++;
    idSum += v.id;
  }
  return [n, idSum];
}

/** Point lookups at existing timestamps; returns values found. */
function lookups(log: Timelog<{ id: number }>, d: Data, q: number): number {
  let found = 0;
  for (let i = 0; i < q; i++) found += log.at(d.ts[(i * 7919) % d.ts.length]).length;
  return found;
}

/** Single append(ts, number) calls; returns the log (to verify its size). */
function appends(m: number): Timelog<number> {
  const log = new Timelog<number>({ values: "f64" });
  for (let i = 0; i < m; i++) log.append(i, i);
  return log;
}

const Q = 100_000;
type Figures = {
  f64Ingest: number;
  scan: number;
  objIngest: number;
  iter: number;
  iterFirst: number;
  point: number;
  append: number;
  series: SeriesFigures;
  usersSeries: SeriesFigures;
  usersAsofFirst: number;
};

function once(d: Data, u: Dataset, objs: { id: number }[], out: Figures | null): void {
  const n = d.ts.length;
  let f!: Timelog<number>;
  const tIngest = time(() => (f = ingestF64(d)));
  check("f64 ingest count", f.size === n);
  f.compact();
  let acc!: Float64Array;
  const tScan = time(() => (acc = scanF64(f)));
  check("f64 scan checksum", acc[2] === n && acc[0] === d.tsSum && acc[1] === d.valueSum);
  const series = seriesFigures(f, d);
  check("time-series queries agree with the JS references", series.ok);
  f.close();
  const prep = asofFirstPrep(u); // sorted reference and queries made before the ingest
  const ul = ingestUsers(u);
  const first = asofFirstCall(ul, prep);
  check("first as-of on the users' shape agrees with the JS reference", first.ok);
  check("users' shape ingest count", ul.size === u.ts.length);
  const usersSeries = seriesFigures(ul, u);
  check("time-series queries on the users' shape agree with the JS references", usersSeries.ok);
  ul.close();
  let o!: Timelog<{ id: number }>;
  const tObj = time(() => (o = ingestObjects(d, objs)));
  o.compact();
  const tIters: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    let it!: [number, number];
    tIters.push(time(() => (it = iterObjects(o))));
    check("object iteration checksum", it[0] === n && it[1] === d.valueSum);
  }
  let found = 0;
  const tPoint = time(() => (found = lookups(o, d, Q)));
  check("point lookups found", found >= Q);
  o.close();
  const m = Math.min(n, 2_000_000);
  let a!: Timelog<number>;
  const tAppend = time(() => (a = appends(m)));
  check("single appends count", a.size === m);
  a.close();
  if (out) {
    out.f64Ingest = n / tIngest / 1000;
    out.scan = n / tScan / 1000;
    out.objIngest = n / tObj / 1000;
    out.iter = n / median(tIters) / 1000;
    out.iterFirst = n / tIters[0] / 1000;
    out.point = (tPoint * 1000) / Q;
    out.append = m / tAppend / 1000;
    out.series = series;
    out.usersSeries = usersSeries;
    out.usersAsofFirst = first.speedup;
  }
}

const warm = generate(100_000, 0.05);
once(
  warm,
  usersShape(100_000),
  Array.from({ length: warm.ts.length }, (_, i) => ({ id: i + 1 })),
  null,
);
const data = generate(N, 0.05);
const users = usersShape(N);
const objs = Array.from({ length: N }, (_, i) => ({ id: i + 1 }));
const runs: Figures[] = [];
for (let r = 0; r < RUNS; r++) {
  const fig = {} as Figures;
  once(data, users, objs, fig);
  runs.push(fig);
}
type Num = Exclude<keyof Figures, "series" | "usersSeries" | "usersAsofFirst">;
const med = (k: Num) => +median(runs.map((r) => r[k])).toFixed(k === "point" ? 3 : 2);
const seriesKeys = Object.keys(runs[0].series).filter((k) => k !== "ok") as Array<
  Exclude<keyof SeriesFigures, "ok">
>;
const seriesMed = Object.fromEntries([
  ...seriesKeys.map((k) => [k, +median(runs.map((r) => r.series[k])).toFixed(3)]),
  ...seriesKeys.map((k) => [`users_${k}`, +median(runs.map((r) => r.usersSeries[k])).toFixed(3)]),
]);
const result = {
  runtime,
  records: N,
  runs: RUNS,
  f64_ingest_mrec_s: med("f64Ingest"),
  f64_scan_mrec_s: med("scan"),
  obj_ingest_mrec_s: med("objIngest"),
  obj_iter_mrec_s: med("iter"),
  obj_iter_first_mrec_s: med("iterFirst"),
  append_mcalls_s: med("append"),
  point_us: med("point"),
  ...seriesMed,
  users_asof_first_speedup_vs_js: +median(runs.map((r) => r.usersAsofFirst)).toFixed(2),
  verified,
};
console.log(`${runtime}: ${N} records, median of ${RUNS} runs after a 100K-record warm-up`);
for (const [k, v] of Object.entries(result)) {
  if (typeof v === "number") console.log(`  ${k.padEnd(34)} ${v}`);
}
if (JSON_OUT) console.log(JSON.stringify(result));
