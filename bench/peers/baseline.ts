/**
 * The baseline shape run: the method behind every earlier peers figure, kept so the README's
 * figures keep a baseline. Ingest in batches of 4096 (Timelog ends it with `flush()`), then
 * Timelog's `compact()` (untimed, its time reported), then the reads; retention is timed, then
 * compacted (untimed) and checked.
 *
 * @module
 */
import { Expect, type Queries, uniform } from "./expect.ts";
import { makePeer } from "./make.ts";
import { type Fail, type Figures, msOf, timeQueries, timeScan } from "./measure.ts";
import type { PeerName } from "./peer.ts";
import { baselineShape, type Dataset } from "./shapes.ts";
import { TimelogPeer } from "./timelog.ts";

/** Queries per query workload. */
export const BASELINE_QUERIES = 10_000;
/** Records per write call. */
export const BASELINE_BATCH = 4096;

/** The data, the query sets and the retention cutoff of one size of the baseline shape. */
export interface BaselineWorkload {
  d: Dataset;
  range: Queries;
  point: Queries;
  count: Queries;
  cutoff: number;
  remaining: number;
}

/**
 * The baseline shape of `n` records: ranges `[t, t + 100)`, point lookups of existing
 * timestamps, counts over `[t, t + n/10)`; the same query sets as before the users' shape.
 *
 * @example
 * ```ts
 * const w = baselineWorkload(10_000);
 * console.log(w.count.w); // 1000
 * ```
 */
export function baselineWorkload(n: number): BaselineWorkload {
  const d = baselineShape(n);
  const e = new Expect(d);
  const rand = uniform(0x9e3779b9), q = BASELINE_QUERIES, maxTs = e.tMax;
  const width = Math.max(1, Math.floor(n / 10));
  const range = e.queries(q, 100, () => 1 + rand(maxTs - 100));
  const point = e.queries(q, 1, () => d.ts[rand(n)]);
  const count = e.queries(q, width, () => 1 + rand(maxTs - width));
  const cutoff = e.median();
  return { d, range, point, count, cutoff, remaining: e.between(cutoff, maxTs + 1).n };
}

/**
 * One run of peer `name` on `w`. Counts stop after `countBudgetMs` (a structure that visits
 * every counted record takes seconds): `count_queries` says how many were done.
 *
 * @example
 * ```ts
 * const f = baselineOnce("array", baselineWorkload(10_000), 50, console.error);
 * console.log(f.count_queries); // 10000
 * ```
 */
export function baselineOnce(
  name: PeerName,
  w: BaselineWorkload,
  countBudgetMs: number,
  fail: Fail,
): Figures {
  const d = w.d, n = d.ts.length, f: Figures = {};
  const peer = makePeer(name, "baseline");
  try {
    f.ingest_per_s = (n * 1000) / msOf(() => peer.ingest(d, BASELINE_BATCH));
    if (peer instanceof TimelogPeer) f.compact_ms = msOf(() => peer.log.compact());
    if (peer.size() !== n) fail(`ingest kept ${peer.size()} records, not ${n}`);
    f.scan_per_s = timeScan(peer, d.t0, { n, sum: d.valueSum, tsSum: d.tsSum }, fail);
    f.range100_per_s = timeQueries(peer, "range", w.range, Infinity, fail).perS;
    f.point_per_s = timeQueries(peer, "point", w.point, Infinity, fail).perS;
    const c = timeQueries(peer, "count", w.count, countBudgetMs, fail);
    f.count_per_s = c.perS, f.count_queries = c.done;
    f.retention_ms = msOf(() => peer.retain(w.cutoff));
    if (peer.size() !== w.remaining) fail(`retention kept ${peer.size()}, not ${w.remaining}`);
    if (peer instanceof TimelogPeer) {
      f.retention_compact_ms = msOf(() => peer.log.compact());
      if (peer.size() !== w.remaining) fail("remaining count after compaction");
    }
    return f;
  } finally {
    peer.close();
  }
}
