/**
 * Time-series queries answered by the engine: as-of lookups (`asOf`, `asOfMany`), bucketed
 * aggregates (`aggregate`) and Arrow export (`toArrow`), shared by {@link Timelog} and
 * {@link Snapshot} like the reads of {@link Reader}.
 *
 * Each is one FFI call over columns: the engine sorts and answers a whole column of as-of
 * queries, and aggregates from per-page summaries without sending records across.
 *
 * @module
 */
import { Status } from "./errors.ts";
import type { ByteValues } from "./values.ts";
import type { NativePointer } from "./ffi/runtime.ts";
import { Reader } from "./reader.ts";
import { type ArrowTable, readArrow } from "./arrow.ts";
import { describe, pred, type Timestamp, toBound, type Ts, TS_MAX, TS_MIN } from "./time.ts";

/** An aggregate of {@link SeriesReader.aggregate}. */
export type AggregateOp = "count" | "sum" | "min" | "max" | "mean" | "first" | "last";

/** The engine's TL_AGG_* bits, in the order its columns come out. */
const OPS: readonly AggregateOp[] = ["count", "sum", "min", "max", "mean", "first", "last"];

/** Options of {@link SeriesReader.aggregate}. */
export interface AggregateOptions {
  /** Bucket width in the log's time unit: a positive integer. */
  every: number | bigint;
  /** A bucket starts here (and every `every` before and after it); default 0. */
  origin?: Timestamp;
  /** What to compute per bucket; default `["count"]`. All but count need an f64 log. */
  ops?: readonly AggregateOp[];
}

/** Result of {@link SeriesReader.aggregate}: bucket starts and one column per op asked. */
export type AggregateColumns<T extends Ts = number> =
  & { start: T extends bigint ? BigInt64Array : Float64Array }
  & { [K in AggregateOp]?: Float64Array };

/** Result of {@link SeriesReader.asOfMany}: for query i, `found[i]` is 1 when a record was. */
export interface AsOfColumns<V, T extends Ts = number> {
  /** The record's timestamp (NaN, or 0n on bigint logs, where none). */
  ts: T extends bigint ? BigInt64Array : Float64Array;
  /** The record's value (NaN in f64 logs, undefined otherwise, where none). */
  values: V extends number ? Float64Array : Array<V | undefined>;
  /** 1 where a record at or before the query exists, else 0. */
  found: Uint8Array;
}

/** Largest query column of one call (the engine's uint32 count). */
const N_MAX = 0xffffffff;

/**
 * The time-series queries of a log or snapshot (see {@link Reader} for the reads). Not
 * constructed directly: {@link Timelog} and {@link Snapshot} are SeriesReaders.
 *
 * @example
 * ```ts
 * import { type SeriesReader, Timelog } from "@timelog/timelog";
 * using log = new Timelog<number>({ values: "f64" });
 * log.appendMany([1, 2], [10, 20]);
 * const reader: SeriesReader<number> = log.snapshot();
 * console.log(reader.asOf(5)); // [2, 20]
 * ```
 */
export abstract class SeriesReader<V, T extends Ts = number> extends Reader<V, T> {
  #bound(value: unknown, what: string): Ts {
    const { opts } = this.owner.core;
    return toBound(value, what, opts.timeUnit, opts.timestamps === "bigint");
  }

  #withSnap<R>(action: string, fn: (snap: NativePointer) => R): R {
    const snap = this.owner.snapshot(action);
    try {
      return fn(snap);
    } finally {
      this.owner.done(snap);
    }
  }

  /**
   * The newest record at or before `ts` — the largest timestamp `<= ts`, and among records
   * there the one written last — as `[ts, value]`, or undefined when there is none.
   * O(K log P): no record is visited on the way.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using prices = new Timelog<number>({ values: "f64" });
   * prices.appendMany([10, 20, 20], [1.5, 2.5, 2.75]);
   * console.log(prices.asOf(25), prices.asOf(15)); // [20, 2.75] [10, 1.5]
   * console.log(prices.asOf(5)); // undefined
   * ```
   */
  asOf(ts: Timestamp): [T, V] | undefined {
    this.owner.assertOpen("look up as of");
    const r = this.asOfMany([this.#bound(ts, "ts")] as Ts[]);
    if (r.found[0] === 0) return undefined;
    return [r.ts[0] as T, (r.values as ArrayLike<V>)[0]];
  }

  /**
   * As {@link SeriesReader.asOf} for a whole column of timestamps (any order), in one call:
   * the join of two streams (`merge_asof`, kdb+'s `aj`). The engine sorts the queries and
   * walks the data once in order, so this is several times faster than a binary search per
   * query. Queries accept any point of the time line, like read bounds.
   *
   * A column of 16,384 queries or more is walked by two threads: the calling one and one the
   * engine starts for the call and joins before it returns (the answers are the same; on a
   * machine with a free core the call takes ~0.6-0.7 of the time). Shorter columns, or a
   * thread the system will not start, are walked by the calling thread alone.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using quotes = new Timelog<number>({ values: "f64" });
   * quotes.appendMany([100, 200, 300], [9.5, 9.75, 9.5]);
   * const trades = new Float64Array([250, 50, 300]);
   * const { ts, values, found } = quotes.asOfMany(trades);
   * console.log([...ts], [...values], [...found]); // [200, NaN, 300] [9.75, NaN, 9.5] [1, 0, 1]
   * ```
   */
  asOfMany(tsColumn: ArrayLike<Timestamp> | Float64Array | BigInt64Array): AsOfColumns<V, T> {
    this.owner.assertOpen("look up as of");
    const n = tsColumn.length;
    if (!Number.isSafeInteger(n) || n > N_MAX) {
      throw new RangeError(`Cannot look up as of: at most ${N_MAX} queries a call, got ${n}`);
    }
    const core = this.owner.core;
    const buf = new ArrayBuffer(16 * n);
    const found = new Uint8Array(n);
    const raw = new BigUint64Array(buf, 8 * n, n);
    let ts: Float64Array | BigInt64Array;
    if (core.opts.timestamps === "number") {
      ts = new Float64Array(buf, 0, n);
      const q = tsColumn instanceof Float64Array ? tsColumn : this.#queriesF64(tsColumn);
      const status = this.owner.asofF64(q, n, ts, raw, found);
      if (status === Status.EINVAL) this.#queriesF64(tsColumn); // throws naming the bad one
      core.check(status, "look up as of");
    } else {
      ts = new BigInt64Array(buf, 0, n);
      const before: number[] = []; // queries before the time line: nothing is at or before them
      const q = BigInt64Array.from(tsColumn as ArrayLike<unknown>, (t, i) => {
        const b = this.#bound(t, `ts[${i}]`);
        if (b < TS_MIN) before.push(i);
        return BigInt(b < TS_MIN ? TS_MIN : b > TS_MAX ? TS_MAX : b);
      });
      const out = ts;
      this.#withSnap("look up as of", (snap) => {
        core.check(core.sym.tl_snapshot_asof_many(snap, q, n, out, raw, found), "look up as of");
      });
      for (const i of before) {
        found[i] = 0;
        out[i] = 0n;
        raw[i] = 0n;
      }
    }
    const h = new Float64Array(buf, 8 * n, n);
    const table = core.table;
    let values: Float64Array | Array<V | undefined> = h;
    if (table) {
      values = new Array<V | undefined>(n);
      for (let i = 0; i < n; i++) values[i] = found[i] ? table.get(h[i]) : undefined;
    } else if (core.bytes !== null) {
      values = this.#asofBytes(core.bytes, h, found);
    } else if (core.opts.timestamps !== "number") {
      // The double-timestamp call writes NaN itself where nothing is found; this one writes 0.
      for (let i = 0; i < n; i++) if (!found[i]) h[i] = NaN;
    }
    return { ts, values, found } as unknown as AsOfColumns<V, T>;
  }

  /** A bytes log's as-of values: the found records' values decoded in one read. */
  #asofBytes(bytes: ByteValues<V>, h: Float64Array, found: Uint8Array): Array<V | undefined> {
    const n = found.length;
    const hit = new Float64Array(n);
    let k = 0;
    const raw = new BigUint64Array(h.buffer, h.byteOffset, n);
    const hitRaw = new BigUint64Array(hit.buffer);
    for (let i = 0; i < n; i++) if (found[i]) hitRaw[k++] = raw[i]; // bits, never numbers
    const got = bytes.decode(hit, 0, k);
    const out = new Array<V | undefined>(n);
    for (let i = 0, j = 0; i < n; i++) out[i] = found[i] ? got[j++] : undefined;
    return out;
  }

  /** Queries of a number-timestamp log as doubles (each checked like a read bound). */
  #queriesF64(col: ArrayLike<unknown>): Float64Array {
    return Float64Array.from(col, (t, i) => Number(this.#bound(t, `ts[${i}]`)));
  }

  /**
   * Per-bucket aggregates of the records with `t1 <= ts < t2`, computed in the engine:
   * buckets of `every` time units aligned on `origin` (default 0), from the one holding the
   * first record in range to the one holding the last (empty buckets included, count 0);
   * `t1`/`t2` may be `-Infinity`/`Infinity`. Columns come back as `Float64Array`s beside
   * `start`. Pages wholly inside a bucket are summarized without being read.
   *
   * `count` works on every log; `sum`, `min`, `max`, `mean`, `first`, `last` need an f64
   * log. NaN: `count` includes it; `sum`, `mean`, `min`, `max` become NaN (±Infinity follow
   * IEEE: `Infinity + -Infinity` is NaN); `first`/`last` return what is stored. `min`/`max`
   * order -0 before +0 (as `Math.min`/`Math.max`). Sums are taken page by page, so their
   * last bits can differ from a left-to-right loop (exact for integers below 2^53). An empty
   * bucket has count 0, sum 0 and NaN for the rest. OHLC is `first, max, min, last`.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using ticks = new Timelog<number>({ values: "f64" });
   * ticks.appendMany([0, 30_000, 61_000, 150_000], [10, 12, 11, 9]);
   * const bars = ticks.aggregate(-Infinity, Infinity, {
   *   every: 60_000,
   *   ops: ["first", "max", "min", "last", "count"],
   * });
   * console.log([...bars.start], [...bars.max!], [...bars.count!]);
   * // [0, 60000, 120000] [12, 11, 9] [2, 1, 1]
   * ```
   */
  aggregate(t1: Timestamp, t2: Timestamp, options: AggregateOptions): AggregateColumns<T> {
    this.owner.assertOpen("aggregate");
    const { every, origin, bits } = this.#aggOptions(options);
    const lo = this.#bound(t1, "t1"), end = this.#bound(t2, "t2");
    // The buckets run from the first record in range to the last (O(K log P) each).
    const first = lo < end ? this.next(pred(lo)) : undefined;
    const last = first !== undefined ? this.prev(end) : undefined;
    if (first === undefined || last === undefined || first > last) {
      return this.#aggColumns(0n, every, 0, bits, new Float64Array(0));
    }
    const start = BigInt(origin) + floorDiv(BigInt(first) - BigInt(origin), every) * every;
    if (start < TS_MIN) {
      throw new RangeError("Cannot aggregate: the first bucket starts before int64");
    }
    const nb = (BigInt(last) - start) / every + 1n;
    if (nb > BigInt(N_MAX)) {
      throw new RangeError(`Cannot aggregate: ${nb} buckets (at most ${N_MAX})`);
    }
    const nops = OPS.filter((_, i) => bits & (1 << i)).length;
    const out = new Float64Array(Number(nb) * nops);
    const core = this.owner.core;
    const safe = (x: bigint) => x >= -(2n ** 53n) && x <= 2n ** 53n;
    let status: number;
    if (core.opts.timestamps === "number" && safe(start) && safe(every)) {
      status = this.owner.aggregateF64(
        Number(first),
        Number(last),
        Number(start),
        Number(every),
        Number(nb),
        bits,
        out,
      );
    } else {
      status = this.#withSnap(
        "aggregate",
        (snap) =>
          core.sym.tl_snapshot_aggregate(
            snap,
            BigInt(first),
            BigInt(last),
            start,
            every,
            Number(nb),
            bits,
            out,
          ),
      );
    }
    core.check(status, "aggregate");
    return this.#aggColumns(start, every, Number(nb), bits, out);
  }

  #aggOptions(options: AggregateOptions): { every: bigint; origin: Ts; bits: number } {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Aggregate options must be an object, got ${describe(options)}`);
    }
    const { every, origin = 0, ops = ["count"] } = options;
    const ok = typeof every === "bigint"
      ? every > 0n && every <= TS_MAX
      : Number.isSafeInteger(every) && (every as number) > 0;
    if (!ok) throw new RangeError(`Option every must be a positive integer, got ${String(every)}`);
    if (!Array.isArray(ops) || ops.length === 0) {
      throw new TypeError("Option ops must be a non-empty array of aggregate names");
    }
    let bits = 0;
    for (const op of ops) {
      const i = OPS.indexOf(op);
      if (i < 0) {
        throw new TypeError(`Unknown aggregate ${JSON.stringify(op)} (one of ${OPS.join(", ")})`);
      }
      if (i > 0 && this.owner.core.opts.values !== "f64") {
        throw new TypeError(
          `Aggregate "${op}" needs an f64 log (values: "f64"); other logs count only`,
        );
      }
      bits |= 1 << i;
    }
    const o = this.#bound(origin, "origin");
    if (o < TS_MIN || o > TS_MAX) throw new RangeError(`Option origin must fit in int64, got ${o}`);
    return { every: BigInt(every), origin: o, bits };
  }

  #aggColumns(start: bigint, every: bigint, nb: number, bits: number, out: Float64Array) {
    const big = this.owner.core.opts.timestamps === "bigint";
    const starts = big ? new BigInt64Array(nb) : new Float64Array(nb);
    if (big) {
      for (let k = 0; k < nb; k++) starts[k] = start + BigInt(k) * every;
    } else { // number logs: exact doubles while within ±2^53 (BigInt steps cost ~50 ns each)
      const s0 = Number(start), e = Number(every);
      for (let k = 0; k < nb; k++) starts[k] = s0 + k * e;
    }
    const cols: Record<string, Float64Array | BigInt64Array> = { start: starts };
    let j = 0;
    OPS.forEach((op, i) => {
      if (bits & (1 << i)) cols[op] = out.subarray(j * nb, ++j * nb);
    });
    return cols as unknown as AggregateColumns<T>;
  }

  /**
   * The records with `t1 <= ts < t2` (default: all) of an f64 log as an Apache Arrow table:
   * a `ts` column of Arrow timestamps in the log's unit and a Float64 `value` column. The
   * engine writes both columns straight into the buffers the table wraps (no copy after
   * the read). Needs the optional peer dependency `apache-arrow`, which only this and
   * {@link Timelog.fromArrow} load.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<number>({ values: "f64" });
   * log.appendMany([1, 2], [0.5, 0.25]);
   * const table = await log.toArrow();
   * console.log(table.numRows, table.getChild("value")?.toArray()); // 2 Float64Array [0.5, 0.25]
   * ```
   */
  async toArrow(t1: Timestamp = -Infinity, t2: Timestamp = Infinity): Promise<ArrowTable> {
    this.owner.assertOpen("export to Arrow");
    const lo = this.#bound(t1, "t1"), end = this.#bound(t2, "t2");
    return await readArrow(this.owner, lo, end);
  }
}

/** floor(a / b) for b > 0. */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
