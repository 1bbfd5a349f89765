/**
 * The read API shared by {@link Timelog} (each read sees the latest state) and
 * {@link Snapshot} (every read sees the state frozen when the snapshot was taken).
 *
 * Public ranges are half-open `[t1, t2)`; they become the engine's closed intervals here, so
 * `since(t)` can reach INT64_MAX without a sentinel.
 *
 * @module
 */
import { Status } from "./errors.ts";
import type { LogCore } from "./core.ts";
import type { NativePointer } from "./ffi/runtime.ts";
import {
  BATCH,
  type Batch,
  borrow,
  giveBack,
  type IterOwner,
  NativeIter,
  TimelogIterator,
} from "./iter.ts";
import { POINT_CAP } from "./core.ts";
import {
  atLeastMin,
  atMostMax,
  describe,
  inInt64,
  pred,
  type Timestamp,
  toBound,
  type Ts,
  TS_MAX,
  TS_MIN,
} from "./time.ts";

/** Where a read gets its native snapshot and who tracks the iterators it opens. */
export interface ReadOwner<V> extends IterOwner<V> {
  readonly core: LogCore<V>;
  /** Throws the ECLOSED error when the log (or snapshot) is closed. */
  assertOpen(action: string): void;
  /** A native snapshot for one read (fresh for a log, the pinned one for a Snapshot). */
  snapshot(action: string): NativePointer;
  /** One-call read of [lo, hi] (double bounds, ±Infinity = ends); returns the status. */
  readF64(lo: number, hi: number, ts: Float64Array, h: BigUint64Array, cap: number): number;
  /** readF64 with flags (TL_READ_REVERSE: the last records of [lo, hi], newest first). */
  readF64Ex(
    lo: number,
    hi: number,
    flags: number,
    ts: Float64Array,
    h: BigUint64Array,
    cap: number,
  ): number;
  /** One-call count of [lo, hi] into core.f64[0]; returns the status. */
  countF64(lo: number, hi: number): number;
  /** As-of lookups of q[0, n) (double queries) into the output columns; returns the status. */
  asofF64(
    q: Float64Array,
    n: number,
    ts: Float64Array,
    h: BigUint64Array,
    found: Uint8Array,
  ): number;
  /** Bucketed aggregates with double arguments into out; returns the status. */
  aggregateF64(
    lo: number,
    hi: number,
    start: number,
    every: number,
    nb: number,
    ops: number,
    out: Float64Array,
  ): number;
}

/** Columnar read result: `ts[i]` is the timestamp of `values[i]`. */
export interface Columns<V, T extends Ts> {
  /** Timestamps (Float64Array for number timestamps, BigInt64Array for bigint). */
  ts: T extends bigint ? BigInt64Array : Float64Array;
  /** Values (Float64Array for f64 logs, an array otherwise). */
  values: V extends number ? Float64Array | V[] : V[];
}

/**
 * Options of the range reads (`range`, `since`, `until`, `all`).
 *
 * @example
 * ```ts
 * import { Timelog, type ReadOptions } from "@timelog/timelog";
 * using log = new Timelog<string>();
 * log.extend([[1, "a"], [2, "b"], [3, "c"]]);
 * const newest: ReadOptions = { reverse: true, limit: 2 };
 * console.log([...log.all(newest)]); // [[3, "c"], [2, "b"]]
 * ```
 */
export interface ReadOptions {
  /** Newest first: timestamps descending, equal timestamps in reverse insertion order. */
  reverse?: boolean;
  /** At most this many records (a non-negative integer); the engine stops reading there. */
  limit?: number;
}

/** TL_READ_REVERSE (c/include/timelog.h). */
const READ_REVERSE = 1;

/** The options of a read without any (shared: nothing writes to it). */
const NO_READ_OPTS: { readonly flags: number; readonly limit: number } = Object.freeze({
  flags: 0,
  limit: Infinity,
});

/** Validated read options: the engine flags and the limit (Infinity when none). */
function readOpts(options: ReadOptions | undefined): { flags: number; limit: number } {
  if (options === undefined) return NO_READ_OPTS; // no allocation on the usual short read
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Read options must be an object, got ${describe(options)}`);
  }
  const { reverse, limit } = options;
  if (reverse !== undefined && typeof reverse !== "boolean") {
    throw new TypeError(`Option reverse must be a boolean, got ${describe(reverse)}`);
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0) && limit !== Infinity) {
    throw new RangeError(`Option limit must be a non-negative integer, got ${String(limit)}`);
  }
  return { flags: reverse ? READ_REVERSE : 0, limit: limit ?? Infinity };
}

/** A bound for the *_f64 entry points: the int64 ends become ±Infinity. */
function f64(t: Ts): number {
  return t === TS_MIN ? -Infinity : t === TS_MAX ? Infinity : Number(t);
}

/**
 * Read methods of a log or snapshot. Not constructed directly.
 *
 * Read bounds may name any point of the time line on every log: `±Infinity`, `TS_MIN`,
 * `TS_MAX`, integers of any size and any bigint, clamped exactly (a number-timestamp log,
 * which only stores safe integers, answers `since(TS_MIN)` and `next(TS_MAX)` like a bigint
 * log). Writes still refuse timestamps the log could not return exactly.
 */
export abstract class Reader<V, T extends Ts = number> {
  /** @internal */
  protected abstract readonly owner: ReadOwner<V>;

  /** Every read starts here: closed first (even for empty ranges), then the bound (any
   * point of the time line: see toBound). */
  #ts(value: Timestamp, what: string, action: string): Ts {
    this.owner.assertOpen(action);
    const { opts } = this.owner.core;
    return toBound(value, what, opts.timeUnit, opts.timestamps === "bigint");
  }

  #out(v: bigint): T {
    return (this.owner.core.opts.timestamps === "number" ? Number(v) : v) as T;
  }

  #iter(lo: Ts, hi: Ts, action: string, options?: ReadOptions): TimelogIterator<V, T> {
    const { flags, limit } = readOpts(options);
    lo = atLeastMin(lo); // bounds past the time line (toBound) clamp to its ends
    hi = atMostMax(hi);
    if (lo > hi || limit === 0) return new TimelogIterator<V, T>(null);
    const owner = this.owner;
    const core = owner.core;
    // Read first: a range that fits in one batch (the usual short query) needs no native
    // snapshot or iterator; a bigger one discards this batch and streams (one extra batch,
    // under 3 ns a record for ranges past 4096 records).
    const batch = borrow(core);
    let n = -1;
    try {
      n = this.#readWhole(lo, hi, action, batch, flags, limit);
    } finally {
      if (n < 0) giveBack(core, batch);
    }
    if (n >= 0) { // an f64 range read up front is not tracked: see NativeIter
      return new TimelogIterator<V, T>(new NativeIter(core, owner, null, null, batch, n));
    }
    const snap = owner.snapshot(action);
    const status = core.opts.timestamps === "number"
      ? core.sym.tl_iter_open_ex_f64(snap, f64(lo), f64(hi), flags, core.cell)
      : core.sym.tl_iter_open_ex(snap, lo, hi, flags, core.cell);
    if (status !== Status.OK) {
      owner.done(snap);
      core.check(status, action);
    }
    const it = core.rt.readPointer(core.cell);
    return new TimelogIterator<V, T>(new NativeIter(core, owner, it, snap, null, 0, limit));
  }

  /**
   * All of the closed range [lo, hi] in one FFI call into `batch`, when it holds fewer than
   * BATCH records (or the limit's count) and the log has number timestamps: returns the count;
   * otherwise -1 (read it by streaming).
   */
  #readWhole(
    lo: Ts,
    hi: Ts,
    action: string,
    batch: Batch,
    flags = 0,
    limit = Infinity,
  ): number {
    const core = this.owner.core;
    if (core.opts.timestamps !== "number") return -1;
    const cap = limit < BATCH ? limit : BATCH;
    const status = flags === 0 && cap === BATCH
      ? this.owner.readF64(f64(lo), f64(hi), batch.tsF, batch.hRaw, BATCH)
      : this.owner.readF64Ex(f64(lo), f64(hi), flags, batch.tsF, batch.hRaw, cap);
    if (status !== Status.OK) core.check(status, action);
    const n = core.size[0];
    // Everything when the read stopped short of BATCH, or when the limit was reached.
    return n < BATCH || n === limit ? n : -1;
  }

  /** Runs `fn` on a native snapshot and gives it back. */
  #with<R>(action: string, fn: (snap: NativePointer) => R): R {
    const snap = this.owner.snapshot(action);
    try {
      return fn(snap);
    } finally {
      this.owner.done(snap);
    }
  }

  /**
   * Records with `t1 <= ts < t2`, in timestamp order (ties in insertion order).
   * `t1 >= t2` is empty. `{ reverse: true }` reads newest first (timestamps descending, ties
   * in reverse insertion order: the engine merges backwards); `{ limit: n }` stops after n
   * records, so the newest n of a range cost about n records, whatever the range holds.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(5, "x");
   * log.append(7, "y");
   * console.log([...log.range(0, 10)]); // [[5, "x"], [7, "y"]]
   * console.log([...log.range(0, 10, { reverse: true, limit: 1 })]); // [[7, "y"]]
   * ```
   */
  range(t1: Timestamp, t2: Timestamp, options?: ReadOptions): TimelogIterator<V, T> {
    const lo = this.#ts(t1, "t1", "read a range");
    const hi = this.#ts(t2, "t2", "read a range");
    if (lo >= hi) return this.#iter(TS_MAX, TS_MIN, "read a range", options); // checks options
    return this.#iter(lo, pred(hi), "read a range", options);
  }

  /**
   * Records with `ts >= t` (INT64_MAX included). Options as {@link Reader.range}.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(5, "x");
   * console.log([...log.since(5)].length); // 1
   * ```
   */
  since(t: Timestamp, options?: ReadOptions): TimelogIterator<V, T> {
    const lo = this.#ts(t, "t", "read since a timestamp");
    return this.#iter(lo, TS_MAX, "read since a timestamp", options);
  }

  /**
   * Records with `ts < t`. Options as {@link Reader.range}: `until(t, { reverse: true,
   * limit: 1 })` is the last record before t.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(5, "x");
   * console.log([...log.until(5)].length); // 0
   * ```
   */
  until(t: Timestamp, options?: ReadOptions): TimelogIterator<V, T> {
    const hi = this.#ts(t, "t", "read until a timestamp");
    return typeof hi === "number" || hi > TS_MIN
      ? this.#iter(TS_MIN, pred(hi), "read until a timestamp", options)
      : this.#iter(TS_MAX, TS_MIN, "read until a timestamp", options); // empty; checks options
  }

  /**
   * Every record, in timestamp order. Options as {@link Reader.range}: `all({ reverse: true,
   * limit: 100 })` is the newest 100.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<number>({ values: "f64" });
   * log.append(2, 0.5);
   * for (const [ts, v] of log.all()) console.log(ts, v);
   * for (const [ts, v] of log.all({ reverse: true, limit: 10 })) console.log(ts, v);
   * ```
   */
  all(options?: ReadOptions): TimelogIterator<V, T> {
    this.owner.assertOpen("read every record");
    return this.#iter(TS_MIN, TS_MAX, "read every record", options);
  }

  /**
   * Same as {@link Reader.all}: `for (const [ts, v] of log)`.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1, "a");
   * console.log([...log]); // [[1, "a"]]
   * ```
   */
  [Symbol.iterator](): TimelogIterator<V, T> {
    return this.all();
  }

  /**
   * The values stored at exactly `ts`, in insertion order.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(7, "a");
   * log.append(7, "b");
   * console.log(log.at(7)); // ["a", "b"]
   * ```
   */
  at(ts: Timestamp): V[] {
    const t = this.#ts(ts, "ts", "read a timestamp");
    if (!inInt64(t)) return []; // past the time line: nothing can be there
    const core = this.owner.core;
    if (core.opts.timestamps === "number") {
      // One FFI call into a small dedicated buffer; an iterator only past POINT_CAP duplicates.
      const status = this.owner.readF64(
        t as number,
        t as number,
        core.pointTs,
        core.pointRaw,
        POINT_CAP,
      );
      if (status !== Status.OK) core.check(status, "read a timestamp");
      const n = core.size[0];
      if (n < POINT_CAP) {
        const h = core.pointH;
        const vals = core.valuesOf(h, 0, n);
        if (vals !== null) return vals;
        const out: V[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = h[i] as V;
        return out;
      }
    }
    return this.#atAll(t);
  }

  /** at() past POINT_CAP duplicates (or on bigint logs): through an iterator. Kept out of
   * at() itself: a `using` declaration there would wrap every call, fast path included, in
   * the disposal machinery (measured in Deno: ~250 ns per at()). */
  #atAll(t: Ts): V[] {
    const out: V[] = [];
    using it = this.#iter(t, t, "read a timestamp");
    for (const [, value] of it) out.push(value);
    return out;
  }

  /**
   * Number of records with `t1 <= ts < t2`; `count()` counts everything and `count(t1)`
   * everything from `t1` on. Never visits the records.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1, "a");
   * log.append(9, "b");
   * console.log(log.count(), log.count(5), log.count(0, 5)); // 2 1 1
   * ```
   */
  count(t1?: Timestamp, t2?: Timestamp): number {
    this.owner.assertOpen("count records");
    let lo = t1 === undefined ? TS_MIN : this.#ts(t1, "t1", "count records");
    let hi: Ts = TS_MAX;
    if (t2 !== undefined) {
      const end = this.#ts(t2, "t2", "count records");
      if (end <= lo) return 0;
      hi = pred(end);
    }
    lo = atLeastMin(lo); // bounds past the time line (toBound) clamp to its ends
    hi = atMostMax(hi);
    if (lo > hi) return 0;
    const core = this.owner.core;
    if (core.opts.timestamps === "number") {
      core.check(this.owner.countF64(f64(lo), f64(hi)), "count records");
      return core.f64[0];
    }
    return this.#with("count records", (snap) => {
      core.check(core.sym.tl_snapshot_count(snap, lo, hi, core.u64), "count records");
      return Number(core.u64[0]);
    });
  }

  /**
   * Number of records (same as `count()`).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1, "a");
   * console.log(log.size); // 1
   * ```
   */
  get size(): number {
    return this.count();
  }

  #point(action: string, call: (snap: NativePointer) => number): T | undefined {
    const core = this.owner.core;
    return this.#with(action, (snap) => {
      const status = call(snap);
      if (status === Status.EOF) return undefined;
      core.check(status, action);
      return this.#out(core.i64[0]);
    });
  }

  /**
   * Smallest timestamp, or undefined when empty.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(3, "a");
   * log.append(1, "b");
   * console.log(log.min(), log.max()); // 1 3
   * ```
   */
  min(): T | undefined {
    const { sym, i64 } = this.owner.core;
    return this.#point("find the first timestamp", (s) => sym.tl_snapshot_min(s, i64));
  }

  /**
   * Largest timestamp, or undefined when empty. O(K log P): never scans the records.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(3, "a");
   * console.log(log.max()); // 3
   * ```
   */
  max(): T | undefined {
    const { sym, i64 } = this.owner.core;
    return this.#point("find the last timestamp", (s) => sym.tl_snapshot_max(s, i64));
  }

  /**
   * Smallest timestamp strictly greater than `ts`, or undefined.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(3, "a");
   * log.append(8, "b");
   * console.log(log.next(3), log.prev(8)); // 8 3
   * ```
   */
  next(ts: Timestamp): T | undefined {
    const t = this.#ts(ts, "ts", "find the next timestamp");
    if (typeof t === "bigint" && t >= TS_MAX) return undefined;
    if (typeof t === "bigint" && t < TS_MIN) return this.min(); // everything is after a point before the time line
    const { sym, i64 } = this.owner.core;
    return this.#point("find the next timestamp", (s) => sym.tl_snapshot_next(s, t, i64));
  }

  /**
   * Largest timestamp strictly less than `ts`, or undefined.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(3, "a");
   * console.log(log.prev(4)); // 3
   * ```
   */
  prev(ts: Timestamp): T | undefined {
    const t = this.#ts(ts, "ts", "find the previous timestamp");
    if (typeof t === "bigint" && t <= TS_MIN) return undefined;
    if (typeof t === "bigint" && t > TS_MAX) return this.max(); // everything is before a point after the time line
    const { sym, i64 } = this.owner.core;
    return this.#point("find the previous timestamp", (s) => sym.tl_snapshot_prev(s, t, i64));
  }

  /**
   * Records with `t1 <= ts < t2` as columns, read in one pass for bulk consumers. Options
   * as {@link Reader.range} (newest first, at most `limit` records).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<number>({ values: "f64" });
   * log.appendMany([1, 2, 3], [0.1, 0.2, 0.3]);
   * const { ts, values } = log.rangeColumns(0, 10);
   * console.log(ts.length, values[2]); // 3 0.3
   * ```
   */
  rangeColumns(t1: Timestamp, t2: Timestamp, options?: ReadOptions): Columns<V, T> {
    let lo = this.#ts(t1, "t1", "read columns");
    let end = this.#ts(t2, "t2", "read columns");
    const { flags, limit } = readOpts(options);
    lo = atLeastMin(lo); // bounds past the time line (toBound) clamp to its ends
    if (!inInt64(end)) end = end < 0 ? TS_MIN : TS_MAX + 1n; // [lo, TS_MAX]: pred(end) is TS_MAX
    if (lo >= end || !inInt64(lo) || limit === 0) {
      return this.#with("read columns", (snap) => this.#columns(snap, 1, 0));
    }
    // Small ranges: one FFI call into a pooled batch, then exact-size copies.
    const batch = borrow(this.owner.core);
    try {
      const n = this.#readWhole(lo, pred(end), "read columns", batch, flags, limit);
      if (n >= 0) return this.#fromBatch(batch.tsF, batch.h, n);
    } finally {
      giveBack(this.owner.core, batch);
    }
    return this.#with("read columns", (snap) => this.#columns(snap, lo, end, flags, limit));
  }

  #fromBatch(tsBuf: Float64Array, h: Float64Array, n: number): Columns<V, T> {
    // One ArrayBuffer for both columns: in Deno each new ArrayBuffer costs ~2 µs (views ~50 ns).
    const core = this.owner.core;
    const objects = core.opts.values !== "f64";
    const buf = new ArrayBuffer(n * (objects ? 8 : 16));
    const ts = new Float64Array(buf, 0, n);
    ts.set(tsBuf.subarray(0, n));
    let values: Float64Array | V[];
    if (objects) {
      values = core.valuesOf(h, 0, n) as V[];
    } else {
      values = new Float64Array(buf, 8 * n, n);
      values.set(h.subarray(0, n));
    }
    return { ts, values } as unknown as Columns<V, T>;
  }

  #columns(snap: NativePointer, lo: Ts, end: Ts, flags = 0, limit = Infinity): Columns<V, T> {
    const core = this.owner.core;
    const { sym } = core;
    const bigTs = core.opts.timestamps === "bigint";
    let n = 0;
    if (lo < end) {
      core.check(sym.tl_snapshot_count(snap, lo, pred(end), core.u64), "read columns");
      n = Math.min(Number(core.u64[0]), limit);
    }
    const buf = new ArrayBuffer(16 * n); // one allocation for both columns (see #fromBatch)
    const ts = bigTs ? new BigInt64Array(buf, 0, n) : new Float64Array(buf, 0, n);
    const vals = new Float64Array(buf, 8 * n, n);
    if (n > 0) {
      core.check(sym.tl_iter_open_ex(snap, lo, pred(end), flags, core.cell), "read columns");
      const it = core.rt.readPointer(core.cell);
      try {
        const raw = new BigUint64Array(vals.buffer, vals.byteOffset, n);
        const status = bigTs
          ? sym.tl_iter_next_batch(it, ts as BigInt64Array, raw, n, core.size)
          : sym.tl_iter_next_batch_f64(it, ts as Float64Array, raw, n, core.size);
        core.check(status, "read columns");
      } finally {
        sym.tl_iter_destroy(it);
      }
    }
    const values: Float64Array | V[] = core.valuesOf(vals, 0, n) ?? vals;
    return { ts, values } as unknown as Columns<V, T>;
  }
}
