/**
 * Retention keeps reads fast: a full scan right after `deleteBefore(median)` against a scan
 * of a fresh log holding only the surviving records (issue 13: the first at >= 90% of the
 * second). Users' shape (bench/peers/shapes.ts: 1M records, batches of 1,000, up to 10 s
 * late, no `compact()`); both logs get the same idle time for background maintenance before
 * the delete and before the scans. After one untimed scan of each (the JIT's warm-up), the
 * two scans alternate K times; every scan is checked
 * (record count and value sum equal to the fresh log's, timestamps ascending).
 *
 *   deno run --allow-ffi --allow-env --allow-read bench/retention.ts [--records N] [--runs K]
 *   bun bench/retention.ts [--records N] [--runs K]
 *
 * Prints the median rates and the median (range) of the per-pair ratio, then one JSON line
 * (`scan_after_retention_per_s`, `scan_fresh_survivors_per_s`, `ratio_median`, `ratio_min`,
 * `ratio_max`, `verified`); exits 1 when a check failed.
 *
 * @module
 */
import process from "node:process";
import { Timelog } from "../mod.ts";
import { usersShape } from "./peers/shapes.ts";
import { median } from "./workload.ts";

const args = process.argv.slice(2);
const get = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = get("--records", 1_000_000);
const RUNS = get("--runs", 9);
const SETTLE_MS = 600;
const BATCH = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ingest(log: Timelog<number>, ts: Float64Array, values: Float64Array): void {
  for (let o = 0; o < ts.length; o += BATCH) {
    log.appendMany(ts.subarray(o, o + BATCH), values.subarray(o, o + BATCH));
  }
}

/** One full scan: rate in records/s, count, value sum, and whether timestamps ascend. */
function scan(log: Timelog<number>): { rate: number; n: number; sum: number; ordered: boolean } {
  const t0 = performance.now();
  let n = 0, sum = 0, last = -Infinity, ordered = true;
  using it = log.all();
  for (let b = it.nextBatch(); b; b = it.nextBatch()) {
    const ts = b.ts, vs = b.values as Float64Array;
    for (let i = 0; i < ts.length; i++) {
      if (ts[i] < last) ordered = false;
      last = ts[i];
      sum += vs[i];
    }
    n += ts.length;
  }
  return { rate: n / ((performance.now() - t0) / 1000), n, sum, ordered };
}

const d = usersShape(N);
const cut = Float64Array.from(d.ts).sort()[N >> 1];
const keep: number[] = [];
for (let i = 0; i < N; i++) if (d.ts[i] >= cut) keep.push(i);
const keptTs = Float64Array.from(keep, (i) => d.ts[i]);
const keptValues = Float64Array.from(keep, (i) => d.values[i]);

using retained = new Timelog<number>({ values: "f64" });
ingest(retained, d.ts, d.values);
await sleep(SETTLE_MS);
retained.deleteBefore(cut);
using fresh = new Timelog<number>({ values: "f64" });
ingest(fresh, keptTs, keptValues);
await sleep(SETTLE_MS);

scan(retained); // untimed warm-up: the JIT compiles the scan loop on the first pass
scan(fresh);
let verified = true;
const after: number[] = [], base: number[] = [], ratios: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const a = scan(retained), b = scan(fresh);
  if (a.n !== keep.length || b.n !== keep.length || a.sum !== b.sum || !a.ordered || !b.ordered) {
    verified = false;
    process.stderr.write(`VERIFY FAILED: run ${r}: ${JSON.stringify({ a, b })}\n`);
  }
  after.push(a.rate);
  base.push(b.rate);
  ratios.push(a.rate / b.rate);
}
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const out = {
  runtime,
  records: N,
  survivors: keep.length,
  runs: RUNS,
  scan_after_retention_per_s: Math.round(median(after)),
  scan_fresh_survivors_per_s: Math.round(median(base)),
  ratio_median: +median(ratios).toFixed(3),
  ratio_min: +Math.min(...ratios).toFixed(3),
  ratio_max: +Math.max(...ratios).toFixed(3),
  verified,
};
console.log(
  `${runtime}: scan after deleteBefore ${(out.scan_after_retention_per_s / 1e6).toFixed(0)} ` +
    `Mrec/s, fresh log of the ${keep.length} survivors ` +
    `${(out.scan_fresh_survivors_per_s / 1e6).toFixed(0)} Mrec/s: ratio ${out.ratio_median} ` +
    `(${out.ratio_min}-${out.ratio_max}) over ${RUNS} alternated pairs, ` +
    (verified ? "VERIFIED" : "FAILED"),
);
console.log(JSON.stringify(out));
if (!verified) process.exit(1);
