/**
 * The expected answers: prefix sums over a data set's timestamps, and query sets with their
 * expected record count and value sum per query. Every peer's answers are checked against
 * these, not against another peer.
 *
 * @module
 */
import type { Dataset } from "./shapes.ts";

/** A query set: start times, width, and per query the expected records and value sum. */
export interface Queries {
  t: Float64Array;
  w: number;
  n: Float64Array;
  sum: Float64Array;
}

/** Records, value sum and `ts - t0` sum of a set of records. */
export interface Totals {
  n: number;
  sum: number;
  tsSum: number;
}

/**
 * Prefix sums by timestamp: `[lo, hi)` totals in O(1).
 *
 * @example
 * ```ts
 * import { usersShape } from "./shapes.ts";
 * const e = new Expect(usersShape(1000));
 * console.log(e.between(e.tMin, e.tMax + 1).n); // 1000
 * ```
 */
export class Expect {
  readonly n: number;
  readonly t0: number;
  readonly tMin: number;
  readonly tMax: number;
  // Index i holds the totals of the records with ts - t0 < i.
  #cnt: Float64Array;
  #sum: Float64Array;
  #tsum: Float64Array;

  constructor(d: Dataset) {
    this.n = d.ts.length;
    this.t0 = d.t0;
    let lo = Infinity, hi = -Infinity;
    for (const t of d.ts) lo = Math.min(lo, t), hi = Math.max(hi, t);
    this.tMin = lo, this.tMax = hi;
    const len = hi - d.t0 + 2;
    this.#cnt = new Float64Array(len), this.#sum = new Float64Array(len);
    this.#tsum = new Float64Array(len);
    for (let i = 0; i < this.n; i++) {
      const o = d.ts[i] - d.t0;
      this.#cnt[o + 1]++, this.#sum[o + 1] += d.values[i], this.#tsum[o + 1] += o;
    }
    for (let i = 1; i < len; i++) {
      this.#cnt[i] += this.#cnt[i - 1], this.#sum[i] += this.#sum[i - 1];
      this.#tsum[i] += this.#tsum[i - 1];
    }
  }

  #at(a: Float64Array, t: number): number {
    return a[Math.max(0, Math.min(t - this.t0, a.length - 1))];
  }

  /** Totals of the records with `lo <= ts < hi`. */
  between(lo: number, hi: number): Totals {
    const c = this.#cnt, s = this.#sum, ts = this.#tsum;
    return {
      n: this.#at(c, hi) - this.#at(c, lo),
      sum: this.#at(s, hi) - this.#at(s, lo),
      tsSum: this.#at(ts, hi) - this.#at(ts, lo),
    };
  }

  /** The median timestamp: the first t with at least n/2 records at or before it. */
  median(): number {
    let t = this.tMin;
    while (this.#at(this.#cnt, t + 1) < this.n / 2) t++;
    return t;
  }

  /** A width in timestamp units holding about `records` records on average. */
  widthFor(records: number): number {
    return Math.max(1, Math.round((records * (this.tMax - this.tMin + 1)) / this.n));
  }

  /** `q` queries `[t, t + w)` with t from `start`, and their expected answers. */
  queries(q: number, w: number, start: () => number): Queries {
    const qs = { t: new Float64Array(q), w, n: new Float64Array(q), sum: new Float64Array(q) };
    for (let i = 0; i < q; i++) {
      const t = (qs.t[i] = start());
      const e = this.between(t, t + w);
      qs.n[i] = e.n, qs.sum[i] = e.sum;
    }
    return qs;
  }
}

/**
 * A deterministic uniform integer in [0, m) (xorshift32), for query start points.
 *
 * @example
 * ```ts
 * const rand = uniform(1);
 * console.log(rand(10) < 10); // true
 * ```
 */
export function uniform(seed: number): (m: number) => number {
  let s = seed | 0 || 1;
  return (m) => {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    return (s >>> 0) % Math.max(1, m);
  };
}
