/**
 * What every structure of `./dev bench peers` implements, and the accumulator its reads fill.
 *
 * An accumulator is a Float64Array: `[records, value sum, ts - t0 sum, disorder, last ts]`.
 * Queries add records and value sums; a full scan also adds timestamps and counts records
 * out of order, so a wrong order fails the check too.
 *
 * @module
 */
import type { Dataset } from "./shapes.ts";
import type { Queries } from "./expect.ts";

/** The peers, by the short names of the JSON keys. */
export const PEER_NAMES = ["timelog", "array", "btree", "sqlite"] as const;

/** One of {@link PEER_NAMES}. */
export type PeerName = (typeof PEER_NAMES)[number];

/** Column headers of the peers in the printed tables. */
export const PEER_LABELS: Record<PeerName, string> = {
  timelog: "timelog",
  array: "sorted array",
  btree: "sorted-btree",
  sqlite: "sqlite",
};

/**
 * A time-indexed multimap of f64 values, as the benchmark drives it.
 *
 * @example
 * ```ts
 * import { makePeer } from "./make.ts";
 * import { usersShape } from "./shapes.ts";
 * const peer: Peer = makePeer("array", "users");
 * peer.ingest(usersShape(1000), 100);
 * console.log(peer.size()); // 1000
 * ```
 */
export interface Peer {
  /** Loads every record of `d` in arrival order, `batch` records per write call. */
  ingest(d: Dataset, batch: number): void;
  /** Every record in timestamp order into `acc` (timestamps as `ts - t0`). */
  scan(acc: Float64Array, t0: number): void;
  /** Queries [lo, hi) of `qs`: the records of `[t, t + w)`, summed into acc. */
  range(qs: Queries, lo: number, hi: number, acc: Float64Array): void;
  /** Queries [lo, hi) of `qs`: every record at exactly `t` (w = 1), summed into acc. */
  point(qs: Queries, lo: number, hi: number, acc: Float64Array): void;
  /** Queries [lo, hi) of `qs`: the number of records in `[t, t + w)`, into acc[0]. */
  count(qs: Queries, lo: number, hi: number, acc: Float64Array): void;
  /** Deletes every record with ts < cutoff. */
  retain(cutoff: number): void;
  /** Number of records held. */
  size(): number;
  close(): void;
}

/**
 * A fresh accumulator (last ts at -Infinity, so the first record is in order).
 *
 * @example
 * ```ts
 * console.log(newAcc()[4]); // -Infinity
 * ```
 */
export function newAcc(): Float64Array {
  return Float64Array.of(0, 0, 0, 0, -Infinity);
}

/**
 * A bulk reader's per-batch consumer: adds one batch of columns to `acc`.
 *
 * @example
 * ```ts
 * const acc = newAcc();
 * sumBatch(Float64Array.of(10, 11), Float64Array.of(0.5, 1), 10, acc);
 * console.log(acc[0], acc[1], acc[2]); // 2 1.5 1
 * ```
 */
export function sumBatch(ts: Float64Array, vs: Float64Array, t0: number, acc: Float64Array): void {
  let v = acc[1], t = acc[2], bad = acc[3], prev = acc[4];
  for (let i = 0; i < ts.length; i++) {
    if (ts[i] < prev) bad++;
    prev = ts[i];
    t += ts[i] - t0;
    v += vs[i];
  }
  acc[0] += ts.length, acc[1] = v, acc[2] = t, acc[3] = bad, acc[4] = prev;
}
