/**
 * The users' shape run (issue 13): one structure ingested in batches of 1,000, given an idle
 * settle, then read as it is (no `compact()`: Timelog keeps its default background
 * maintenance), then half deleted and scanned again; and apart, a second structure ingested in
 * batches of 100. Every answer is checked against the prefix sums.
 *
 * @module
 */
import { Expect, type Queries, type Totals, uniform } from "./expect.ts";
import { makePeer } from "./make.ts";
import { type Fail, type Figures, msOf, sleep, timeQueries, timeScan } from "./measure.ts";
import type { PeerName } from "./peer.ts";
import { type Dataset, usersShape } from "./shapes.ts";
import { TimelogPeer } from "./timelog.ts";

/** Range queries per range workload. */
export const RANGE_QUERIES = 10_000;
/** Point lookups per run. */
export const POINT_QUERIES = 100_000;

/** The data, the query sets and the retention cutoff of one size of the users' shape. */
export interface UsersWorkload {
  d: Dataset;
  range100: Queries;
  range1000: Queries;
  point: Queries;
  /** The median timestamp: retention deletes every record before it. */
  cutoff: number;
  /** What a scan after retention must return. */
  after: Totals;
}

/**
 * The users' shape of `n` records with its query sets (ranges of ~100 and ~1,000 records at
 * uniform random starts; point lookups at the timestamps of uniform random records).
 *
 * @example
 * ```ts
 * const w = usersWorkload(10_000);
 * console.log(w.point.t.length); // 100000
 * ```
 */
export function usersWorkload(n: number): UsersWorkload {
  const d = usersShape(n);
  const e = new Expect(d);
  const rand = uniform(0x9e3779b9);
  const ranges = (records: number): Queries => {
    const w = e.widthFor(records);
    return e.queries(RANGE_QUERIES, w, () => e.tMin + rand(e.tMax - w - e.tMin + 1));
  };
  const range100 = ranges(100), range1000 = ranges(1000);
  const point = e.queries(POINT_QUERIES, 1, () => d.ts[rand(n)]);
  const cutoff = e.median();
  return { d, range100, range1000, point, cutoff, after: e.between(cutoff, e.tMax + 1) };
}

/** How one run is paced: the idle settle after ingest and the budget of a query workload. */
export interface Pace {
  settleMs: number;
  budgetMs: number;
}

/**
 * One run of peer `name` on `w`: figures by key (`<workload>_per_s`, `retention_ms`, the
 * queries done per query workload, and Timelog's engine state at the reads).
 *
 * @example
 * ```ts
 * const pace = { settleMs: 0, budgetMs: 50 };
 * const f = await usersOnce("array", usersWorkload(10_000), pace, console.error);
 * console.log(f.scan_per_s > 0); // true
 * ```
 */
export async function usersOnce(
  name: PeerName,
  w: UsersWorkload,
  pace: Pace,
  fail: Fail,
): Promise<Figures> {
  const d = w.d, n = d.ts.length, f: Figures = {};
  const peer = makePeer(name, "users");
  try {
    f.ingest_per_s = (n * 1000) / msOf(() => peer.ingest(d, 1000));
    await sleep(pace.settleMs); // background maintenance runs, as in a user's idle process
    if (peer.size() !== n) fail(`ingest kept ${peer.size()} records, not ${n}`);
    if (peer instanceof TimelogPeer) {
      const s = peer.log.stats();
      f.at_reads_memtable_records = s.memtableRecords;
      f.at_reads_l0_segments = s.l0Segments;
      f.at_reads_l1_segments = s.l1Segments;
    }
    f.scan_per_s = timeScan(peer, d.t0, { n, sum: d.valueSum, tsSum: d.tsSum }, fail);
    for (const k of ["range100", "range1000", "point"] as const) {
      const r = timeQueries(peer, k === "point" ? "point" : "range", w[k], pace.budgetMs, fail);
      f[`${k}_per_s`] = r.perS, f[`${k}_queries`] = r.done;
    }
    f.retention_ms = msOf(() => peer.retain(w.cutoff));
    // At once, as a reader right after the delete would: Timelog's worker, kicked by the
    // tombstone, may be compacting meanwhile.
    f.scan_after_retention_per_s = timeScan(peer, d.t0, w.after, fail);
    if (peer.size() !== w.after.n) fail(`retention kept ${peer.size()}, not ${w.after.n}`);
  } finally {
    peer.close();
  }
  return f;
}

/**
 * The second ingest figure of peer `name`: a new structure loaded in batches of 100, its
 * size checked. Run in its own pass over the peers, so that this ingest, like the first, follows
 * another peer's run (right after the same peer's run it followed different work than the first
 * ingest did, and read up to 2x faster for it).
 *
 * @example
 * ```ts
 * const f = usersIngest100("array", usersWorkload(10_000), console.error);
 * console.log(f.ingest100_per_s > 0); // true
 * ```
 */
export function usersIngest100(name: PeerName, w: UsersWorkload, fail: Fail): Figures {
  const d = w.d, n = d.ts.length;
  const peer = makePeer(name, "users");
  try {
    const perS = (n * 1000) / msOf(() => peer.ingest(d, 100));
    if (peer.size() !== n) fail(`ingest in batches of 100 kept ${peer.size()}, not ${n}`);
    return { ingest100_per_s: perS };
  } finally {
    peer.close();
  }
}
