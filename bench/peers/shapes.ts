/**
 * The two data shapes of `./dev bench peers`, generated deterministically (the same columns in
 * Deno and in Bun: 32-bit integer arithmetic only) into pre-allocated Float64Array columns.
 *
 * - **users**: what issue 13's user logs. Timestamps in ms from a 2023 epoch origin; on-time
 *   records advance by a gap of 0, 1 or 2 ms (so about a third share their predecessor's
 *   timestamp); 5% of records are late by a uniform 1..10,000 ms behind the newest on-time
 *   record (they do not advance it); value of record k is k/256 (doubles with few significant
 *   bits, as sensor readings often are).
 * - **baseline**: the shape every earlier figure was measured on, `generate(n, 0.05)` of
 *   bench/workload.ts (ts += 1, 5% up to 1024 late, value = index + 1), kept so the README's
 *   figures keep a baseline.
 *
 * @module
 */
import { generate } from "../workload.ts";

/** Columns in arrival order, with the totals every full read is checked against. */
export interface Dataset {
  /** Integer timestamps (ms for the users' shape), in arrival order. */
  ts: Float64Array;
  values: Float64Array;
  /**
   * Origin of the timestamp checksum. Sums are of `ts - t0`: epoch-ms timestamps summed as
   * they are pass 2^53 and would round differently in scan order and in arrival order.
   */
  t0: number;
  /** Sum of `ts - t0` over all records; exact in any order. */
  tsSum: number;
  /** Sum of all values; exact in any order (integers, or multiples of 1/256 below 2^44). */
  valueSum: number;
}

/** First on-time timestamp of the users' shape (2023-11-14T22:13:20Z) less LATE_MAX_MS. */
export const USERS_T0 = 1_700_000_000_000;
/** Users' shape: the latest a late record arrives, in ms. */
export const LATE_MAX_MS = 10_000;
/** Users' shape: the share of late records. */
export const LATE_RATE = 0.05;

/**
 * mulberry32: a small 32-bit generator whose stream is identical in every JS engine.
 *
 * @example
 * ```ts
 * const next = mulberry32(1);
 * console.log(next() < 2 ** 32, Number.isInteger(next())); // true true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * The users' shape: `n` records, see the module comment.
 *
 * @example
 * ```ts
 * const d = usersShape(1000);
 * console.log(d.ts.length, d.values[256]); // 1000 1
 * ```
 */
export function usersShape(n: number, seed = 13): Dataset {
  const next = mulberry32(seed);
  const lateBelow = Math.floor(LATE_RATE * 2 ** 32);
  const ts = new Float64Array(n), values = new Float64Array(n);
  // Start LATE_MAX_MS in, so that no late record falls before t0 (offsets stay >= 0).
  let newest = USERS_T0 + LATE_MAX_MS;
  let tsSum = 0, valueSum = 0;
  for (let k = 0; k < n; k++) {
    const t = next() < lateBelow ? newest - 1 - (next() % LATE_MAX_MS) : (newest += next() % 3);
    ts[k] = t;
    values[k] = k / 256;
    tsSum += t - USERS_T0;
    valueSum += k / 256;
  }
  return { ts, values, t0: USERS_T0, tsSum, valueSum };
}

/**
 * The baseline shape: bench/workload.ts's `generate(n, 0.05)` (timestamps from 1, t0 = 0).
 *
 * @example
 * ```ts
 * const d = baselineShape(2000);
 * console.log(d.ts[0], d.values[0], d.t0); // 1 1 0
 * ```
 */
export function baselineShape(n: number): Dataset {
  const d = generate(n, 0.05);
  return { ts: d.ts, values: d.values, t0: 0, tsSum: d.tsSum, valueSum: d.valueSum };
}
