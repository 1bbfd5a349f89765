/**
 * The time-series queries of the API benchmark (bench/api_run.ts), each beside what a user
 * writes in plain JavaScript over the same records held as a sorted `Float64Array` pair
 * (timestamps ascending, ties in insertion order; sorting is not timed):
 *
 * - `aggregate_speedup_vs_js`: `aggregate(…, { every, ops: sum/min/max/first/last })` into
 *   100 buckets, against a loop that walks the sorted arrays bucket by bucket;
 * - `aggregate_fine_speedup_vs_js`: the same with buckets of 500 records' span (10,000 at 5M);
 * - `reverse_limit100_us`: `range(t, end, { reverse: true, limit: 100 })` at the end of the
 *   log, read with `nextBatch()` until it is drained, µs per read;
 * - `asof_many_speedup_vs_js`: `asOfMany` of 100,000 random timestamps, against a binary
 *   search per query over the sorted timestamps: medians of 5 alternated pairs, each on a
 *   fresh column.
 *
 * Each timed function runs untimed first (JIT warm-up) and is verified against the other side.
 *
 * @module
 */
import type { Timelog } from "../mod.ts";
import type { Data } from "./workload.ts";

/** Figures of one run and whether every answer matched. */
export interface SeriesFigures {
  aggregate_speedup_vs_js: number;
  aggregate_fine_speedup_vs_js: number;
  aggregate_js_ms: number;
  aggregate_ms: number;
  aggregate_fine_js_ms: number;
  aggregate_fine_ms: number;
  reverse_limit100_us: number;
  asof_many_speedup_vs_js: number;
  asof_many_js_ms: number;
  asof_many_ms: number;
  ok: boolean;
}

const sortedOf = new WeakMap<Data, { ts: Float64Array; values: Float64Array }>();

/** The records sorted by timestamp, ties in insertion order (a stable sort of indices). */
export function sortedPair(d: Data): { ts: Float64Array; values: Float64Array } {
  const known = sortedOf.get(d);
  if (known) return known;
  const idx = Array.from({ length: d.ts.length }, (_, i) => i);
  idx.sort((a, b) => d.ts[a] - d.ts[b] || a - b);
  const pair = {
    ts: Float64Array.from(idx, (i) => d.ts[i]),
    values: Float64Array.from(idx, (i) => d.values[i]),
  };
  sortedOf.set(d, pair);
  return pair;
}

function time<R>(fn: () => R): [number, R] {
  fn(); // warm-up
  const t0 = performance.now();
  const r = fn();
  return [performance.now() - t0, r];
}

/** The plain loop: per bucket sum, min, max, first, last (columns of nb). */
function jsAggregate(ts: Float64Array, vs: Float64Array, start: number, every: number, nb: number) {
  const out = new Float64Array(5 * nb).fill(NaN);
  let i = 0;
  const n = ts.length;
  for (let k = 0; k < nb; k++) {
    const end = start + (k + 1) * every;
    if (i >= n || ts[i] >= end) {
      out[k] = 0;
      continue;
    }
    let sum = 0, mn = Infinity, mx = -Infinity;
    const first = vs[i];
    let last = first;
    for (; i < n && ts[i] < end; i++) {
      const v = vs[i];
      sum += v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      last = v;
    }
    out[k] = sum;
    out[nb + k] = mn;
    out[2 * nb + k] = mx;
    out[3 * nb + k] = first;
    out[4 * nb + k] = last;
  }
  return out;
}

function sameColumns(js: Float64Array, log: Record<string, Float64Array>, nb: number): boolean {
  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  const names = ["sum", "min", "max", "first", "last"];
  return names.every((op, j) => log[op].every((v, k) => same(v, js[j * nb + k])));
}

function aggregateRun(
  log: Timelog<number>,
  s: { ts: Float64Array; values: Float64Array },
  nb: number,
) {
  const lo = s.ts[0], n = s.ts.length;
  const every = Math.ceil((s.ts[n - 1] - lo + 1) / nb);
  const ops = ["sum", "min", "max", "first", "last"] as const;
  const [tLog, got] = time(() => log.aggregate(lo, Infinity, { every, origin: lo, ops: [...ops] }));
  const [tJs, want] = time(() => jsAggregate(s.ts, s.values, lo, every, nb));
  const ok = got.start.length === nb &&
    sameColumns(want, got as unknown as Record<string, Float64Array>, nb);
  return { tLog, tJs, ok };
}

/** Binary search per query: the value of the last record with ts <= q (NaN when none). */
function jsAsOf(ts: Float64Array, vs: Float64Array, q: Float64Array): Float64Array {
  const out = new Float64Array(q.length);
  for (let j = 0; j < q.length; j++) {
    const x = q[j];
    let lo = 0, hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    out[j] = lo === 0 ? NaN : vs[lo - 1];
  }
  return out;
}

/** 100,000 random timestamps over the span of the sorted records, from `x`. */
function randomColumn(s: { ts: Float64Array }, state: { x: bigint }): Float64Array {
  const end = s.ts[s.ts.length - 1] + 1;
  const q = new Float64Array(100_000);
  for (let i = 0; i < q.length; i++) {
    let x = state.x;
    x ^= (x << 13n) & 0xffff_ffff_ffff_ffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffff_ffff_ffff_ffffn;
    state.x = x;
    q[i] = s.ts[0] + Number(x % BigInt(end - s.ts[0]));
  }
  return q;
}

/** What {@link asofFirstCall} needs, made before the ingest it follows. */
export interface AsofFirstPrep {
  s: { ts: Float64Array; values: Float64Array };
  q: Float64Array;
}

/**
 * Prepares {@link asofFirstCall} for `d`: sorts the reference pair, makes the query column and
 * warms the binary search up on another column (as the JIT would be in a running program). Call
 * it before the ingest, so that nothing runs between the ingest's end and the first read.
 */
export function asofFirstPrep(d: Data): AsofFirstPrep {
  const s = sortedPair(d);
  const state = { x: 0x2545f4914f6cdd1dn };
  jsAsOf(s.ts, s.values, randomColumn(s, state));
  return { s, q: randomColumn(s, state) };
}

/**
 * The first `asOfMany` on a log the moment its ingest ends (no warm-up call: the log's first
 * read), beside the binary search over the same column: speed-up, and whether every answer
 * matched.
 */
export function asofFirstCall(
  log: Timelog<number>,
  { s, q }: AsofFirstPrep,
): { speedup: number; ok: boolean } {
  const t0 = performance.now();
  const got = log.asOfMany(q);
  const t1 = performance.now();
  const want = jsAsOf(s.ts, s.values, q);
  const t2 = performance.now();
  const ok = want.every((v, i) => Object.is(v, got.values[i]));
  return { speedup: +((t2 - t1) / (t1 - t0)).toFixed(2), ok };
}

/** Every figure of the module on an f64 log holding `d` (compacted or not). */
export function seriesFigures(log: Timelog<number>, d: Data): SeriesFigures {
  const s = sortedPair(d);
  const coarse = aggregateRun(log, s, 100);
  const fine = aggregateRun(log, s, Math.max(1, Math.floor(d.ts.length / 500)));
  const end = s.ts[s.ts.length - 1] + 1;
  const reads = 20_000;
  let revOk = true;
  const [tRev] = time(() => {
    for (let r = 0; r < reads; r++) {
      const it = log.range(0, end, { reverse: true, limit: 100 });
      const b = it.nextBatch();
      if (b === undefined || b.ts.length !== 100 || b.ts[0] !== end - 1) revOk = false;
      if (it.nextBatch() !== undefined) revOk = false; // drained: its buffer goes back
    }
  });
  // As-of: 5 pairs of calls on fresh random columns, the two sides alternated, medians (a
  // single call swung 2x with what else held the 2 cores: GC, JIT, the engine's worker).
  const state = { x: 88172645463325252n };
  const column = () => randomColumn(s, state);
  const tLog: number[] = [], tJs: number[] = [];
  let asofOk = true;
  for (let rep = 0; rep < 5; rep++) {
    const q = column();
    const [a, got] = time(() => log.asOfMany(q));
    const [b, want] = time(() => jsAsOf(s.ts, s.values, q));
    tLog.push(a);
    tJs.push(b);
    asofOk &&= want.every((v, i) => Object.is(v, got.values[i]));
  }
  const med = (xs: number[]) => [...xs].sort((p, r) => p - r)[xs.length >> 1];
  const tAsOf = med(tLog), tAsOfJs = med(tJs);
  return {
    aggregate_speedup_vs_js: +(coarse.tJs / coarse.tLog).toFixed(2),
    aggregate_fine_speedup_vs_js: +(fine.tJs / fine.tLog).toFixed(2),
    aggregate_js_ms: +coarse.tJs.toFixed(3),
    aggregate_ms: +coarse.tLog.toFixed(3),
    aggregate_fine_js_ms: +fine.tJs.toFixed(3),
    aggregate_fine_ms: +fine.tLog.toFixed(3),
    reverse_limit100_us: +((tRev * 1000) / reads).toFixed(3),
    asof_many_speedup_vs_js: +(tAsOfJs / tAsOf).toFixed(2),
    asof_many_js_ms: +tAsOfJs.toFixed(3),
    asof_many_ms: +tAsOf.toFixed(3),
    ok: coarse.ok && fine.ok && revOk && asofOk,
  };
}
