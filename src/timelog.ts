/**
 * `Timelog`: a time-indexed multimap of `[timestamp, value]` records, in memory or durable in a
 * directory (`path`).
 *
 * | operation                        | cost                                                   |
 * |----------------------------------|--------------------------------------------------------|
 * | `append`                         | O(1) amortized, one FFI call                           |
 * | `appendMany(n)` / `extend(n)`    | O(n), one FFI call                                     |
 * | `delete` / `deleteBefore`        | O(tombstones); records go in background compaction     |
 * | `range`, `since`, `until`, `all` | O(K log P) to start, then batches of 4096 per FFI call  |
 * | `at(ts)`                         | O(K log P + matches)                                   |
 * | `count`, `size`                  | O(K log P + tombstones): never visits the records      |
 * | `min`, `max`, `next`, `prev`     | O(K log P)                                             |
 * | `snapshot()`                     | O(1): nothing is copied                                |
 * | `sync()`                         | one FFI call; resolves after the next WAL fdatasync    |
 * | `checkpoint()`                   | O(records not yet on disk) + fsyncs                    |
 *
 * K = sources (memtable parts and segments, a handful), P = pages per source.
 *
 * @module
 */
import { closedError } from "./errors.ts";
import { libraryIdentity } from "./ffi/load.ts";
import { LogCore } from "./core.ts";
import type { NativePointer } from "./ffi/runtime.ts";
import type { NativeIter } from "./iter.ts";
import {
  BULK_INGEST,
  type Durability,
  LOW_LATENCY,
  resolveOptions,
  STREAMING,
  type TimelogOptions,
} from "./options.ts";
import type { ReadOwner } from "./reader.ts";
import { SeriesReader } from "./series.ts";
import { arrowChunks, type ArrowTable } from "./arrow.ts";
import { Snapshot } from "./snapshot.ts";
import { statsFrom, type TimelogStats } from "./stats.ts";
import { describe, now, type Timestamp, toTs, type Ts } from "./time.ts";
import { appendColumns, appendF64Columns, toColumns } from "./write.ts";

/** Reads on a live log: each takes a fresh O(1) snapshot for its own duration. */
class LiveOwner<V> implements ReadOwner<V> {
  constructor(readonly core: LogCore<V>) {}
  get life(): { readonly closed: boolean } {
    return this.core;
  }
  assertOpen(action: string): void {
    this.core.assertOpen(action);
  }
  snapshot(action: string): NativePointer {
    const core = this.core;
    if (core.closed) throw closedError("Timelog", action);
    core.check(core.sym.tl_snapshot_acquire(core.ptr, core.cell), action);
    return core.rt.readPointer(core.cell);
  }
  done(snap: NativePointer): void {
    this.core.sym.tl_snapshot_release(snap);
  }
  readF64(lo: number, hi: number, ts: Float64Array, h: BigUint64Array, cap: number): number {
    const core = this.core;
    if (core.closed) throw closedError("Timelog", "read");
    return core.sym.tl_read_f64(core.ptr, lo, hi, ts, h, cap, core.size);
  }
  readF64Ex(
    lo: number,
    hi: number,
    flags: number,
    ts: Float64Array,
    h: BigUint64Array,
    cap: number,
  ): number {
    const core = this.core;
    if (core.closed) throw closedError("Timelog", "read");
    return core.sym.tl_read_ex_f64(core.ptr, lo, hi, flags, ts, h, cap, core.size);
  }
  countF64(lo: number, hi: number): number {
    const core = this.core;
    if (core.closed) throw closedError("Timelog", "count records");
    return core.sym.tl_count_f64(core.ptr, lo, hi, core.f64);
  }
  asofF64(
    q: Float64Array,
    n: number,
    ts: Float64Array,
    h: BigUint64Array,
    found: Uint8Array,
  ): number {
    const core = this.core;
    if (core.closed) throw closedError("Timelog", "look up as of");
    return core.sym.tl_asof_many_f64(core.ptr, q, n, ts, h, found);
  }
  aggregateF64(
    lo: number,
    hi: number,
    start: number,
    every: number,
    nb: number,
    ops: number,
    out: Float64Array,
  ): number {
    const core = this.core;
    if (core.closed) throw closedError("Timelog", "aggregate");
    return core.sym.tl_aggregate_f64(core.ptr, lo, hi, start, every, nb, ops, out);
  }
  attach(iter: NativeIter<V>): void {
    this.core.children.add(iter);
  }
  detach(iter: NativeIter<V>): void {
    this.core.children.delete(iter);
  }
}

/** Options of {@link Timelog.fromArrow}: the log's options and the columns to read. */
export interface FromArrowOptions extends Omit<TimelogOptions, "values"> {
  /** The timestamp column (default `"ts"`). */
  tsColumn?: string;
  /** The value column (default `"value"`). */
  valueColumn?: string;
}

/** Options of {@link Timelog} plus the release hook, which only object-mode logs call. */
export interface TimelogInit<V> extends TimelogOptions {
  /** Called once for each value the log stops holding (dropped after a delete, or at close). */
  onRelease?: (value: V) => void;
}

/**
 * A time-indexed multimap. Values are any JS value (`values: "any"`, default) or f64 numbers
 * stored in the engine (`values: "f64"`). Timestamps are int64 in `timeUnit`. With `path` the
 * log is durable: its writes go to a write-ahead log in that directory, and opening the
 * directory again recovers them (see {@link Timelog.sync}).
 *
 * @example
 * ```ts
 * import { Timelog } from "@timelog/timelog";
 * using log = new Timelog<string>();
 * log.append(10, "A");
 * log.delete(5, 15);
 * log.append(10, "B");
 * console.log(log.at(10)); // ["B"]: a delete hides only what was written before it
 * ```
 */
export class Timelog<V = unknown, T extends Ts = number> extends SeriesReader<V, T>
  implements Disposable {
  /** @internal */
  protected readonly owner: LiveOwner<V>;
  readonly #core: LogCore<V>;
  readonly #f64: boolean;
  readonly #bigTs: boolean;
  readonly #one = { ts: new BigInt64Array(1), v: new Float64Array(1) };

  /**
   * Opens an empty log, or with `path` a durable one holding what the directory holds.
   * Throws `TypeError`/`RangeError` for bad options, and {@link TimelogError} when a durable
   * log cannot be opened: `ELOCKED` (another live log holds the directory), `ECORRUPT` (a
   * damaged file, named in the message; `repair: true` keeps the longest consistent prefix),
   * `EIO`, or `EINVAL` (the directory was written with another time unit or value mode).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using ticks = new Timelog<number>({ values: "f64", timeUnit: "us" });
   * ```
   *
   * @example Durable
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * const dir = mkdtempSync(join(tmpdir(), "ticks-"));
   * const log = new Timelog<number>({ path: dir, values: "f64", durability: "interval" });
   * log.appendMany([1, 2, 3], [9.5, 9.75, 9.6]);
   * log.close(); // makes everything durable
   * using again = new Timelog<number>({ path: dir, values: "f64" });
   * console.log(again.size); // 3
   * again.close();
   * rmSync(dir, { recursive: true });
   * ```
   */
  constructor(options: TimelogInit<V> = {}) {
    super();
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new TypeError(`Timelog options must be an object, got ${describe(options)}`);
    }
    const { onRelease, ...rest } = options;
    if (onRelease !== undefined && typeof onRelease !== "function") {
      throw new TypeError("Option onRelease must be a function");
    }
    this.#core = new LogCore<V>(resolveOptions(rest));
    this.#core.onRelease = onRelease;
    this.owner = new LiveOwner(this.#core);
    this.#f64 = this.#core.opts.values === "f64";
    this.#bigTs = this.#core.opts.timestamps === "bigint";
  }

  /**
   * The version of the native library in use (`tl_version()`, e.g. `"0.1.0"`), which the
   * loader has checked speaks this binding's ABI. Loads the library on first use; throws
   * {@link TimelogError} `ENOLIB` when none can be loaded.
   *
   * @example
   * ```ts
   * import { Timelog, VERSION } from "@timelog/timelog";
   * console.log(Timelog.version === VERSION); // true: library and binding of one release
   * ```
   */
  static get version(): string {
    return libraryIdentity().version;
  }

  /**
   * A new f64 log holding the rows of an Apache Arrow table: its `ts` column (an Arrow
   * timestamp, whose unit becomes the log's `timeUnit`, or an integer column) and its Float64
   * `value` column (other numeric types are converted); `tsColumn` / `valueColumn` name
   * others. Record batches of int64/timestamp and Float64 columns are appended as they are,
   * without a copy. Every other option is {@link Timelog}'s (`values` is always `"f64"`).
   * Nulls, or a `timeUnit` that differs from the column's, are errors. apache-arrow is an
   * optional peer dependency; this reads the table through its own methods.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using src = new Timelog<number>({ values: "f64" });
   * src.appendMany([1, 2, 3], [0.5, 1.5, 2.5]);
   * using copy = Timelog.fromArrow(await src.toArrow());
   * console.log(copy.size, copy.options.timeUnit); // 3 "ms"
   * ```
   */
  static fromArrow(table: ArrowTable, options: FromArrowOptions = {}): Timelog<number> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`fromArrow options must be an object, got ${describe(options)}`);
    }
    const { tsColumn = "ts", valueColumn = "value", ...rest } = options;
    const { unit, chunks } = arrowChunks(table, tsColumn, valueColumn);
    if (rest.timeUnit !== undefined && unit !== undefined && rest.timeUnit !== unit) {
      throw new RangeError(
        `Cannot import from Arrow: column "${tsColumn}" is in ${unit}, not ${rest.timeUnit}`,
      );
    }
    const log = new Timelog<number>({ ...rest, timeUnit: rest.timeUnit ?? unit, values: "f64" });
    try {
      for (const c of chunks) log.appendMany(c.ts, c.values);
    } catch (err) {
      log.close();
      throw err;
    }
    return log;
  }

  /**
   * A log tuned for continuous streams (background maintenance, backpressure flushed inline).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = Timelog.forStreaming<string>();
   * ```
   */
  static forStreaming<V = unknown>(options: TimelogInit<V> = {}): Timelog<V> {
    return new Timelog<V>({ ...STREAMING, ...options });
  }

  /**
   * A log tuned for loading a lot at once (manual maintenance, big memtable): call
   * `compact()` when the load is done.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = Timelog.forBulkIngest<number>({ values: "f64" });
   * log.appendMany([1, 2], [0.5, 0.25]);
   * log.compact();
   * ```
   */
  static forBulkIngest<V = unknown>(options: TimelogInit<V> = {}): Timelog<V> {
    return new Timelog<V>({ ...BULK_INGEST, ...options });
  }

  /**
   * A log tuned for latency-sensitive writers (small memtable, writers never wait).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = Timelog.forLowLatency<string>();
   * ```
   */
  static forLowLatency<V = unknown>(options: TimelogInit<V> = {}): Timelog<V> {
    return new Timelog<V>({ ...LOW_LATENCY, ...options });
  }

  /**
   * The resolved unit, value mode, timestamp type, maintenance mode, busy policy, and for a
   * durable log its path and durability mode (both null in memory).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog();
   * console.log(log.options.timeUnit); // "ms"
   * ```
   */
  get options(): {
    timeUnit: string;
    values: string;
    timestamps: string;
    maintenance: string;
    busyPolicy: string;
    path: string | null;
    durability: Durability | null;
  } {
    const { timeUnit, values, timestamps, maintenance, busyPolicy, path, durability } =
      this.#core.opts;
    return { timeUnit, values, timestamps, maintenance, busyPolicy, path, durability };
  }

  #ts(value: unknown, what: string): Ts {
    return toTs(value, what, this.#core.opts.timeUnit, this.#bigTs);
  }

  /**
   * Appends one record; `append(value)` stamps it with the current time in `timeUnit`.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1_700_000_000_000, "tick");
   * log.append("now");
   * ```
   */
  append(value: V): void;
  append(ts: Timestamp, value: V): void;
  append(a: V | Timestamp, b?: V): void {
    const core = this.#core;
    // The hot case, one number into an f64 log, goes straight to the engine: this call is
    // mostly binding overhead (the engine's part is ~14 ns).
    if (
      this.#f64 && typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a) &&
      !core.closed
    ) {
      const status = core.sym.tl_append_f64(core.ptr, a, b);
      if (status !== 0) core.afterWrite(status, "append");
      return;
    }
    core.assertOpen("append");
    const one = arguments.length === 1;
    const ts = one ? now(core.opts.timeUnit) : this.#ts(a, "ts");
    const value = (one ? a : b) as V;
    if (core.bytes !== null) { // the engine stores the bytes: a batch of one
      appendColumns(core, toColumns(core, [ts], [value], "append"), "append");
      return;
    }
    let num: number;
    if (this.#f64) {
      if (typeof value !== "number") {
        throw new TypeError(
          `Cannot append: value must be a number in an f64 log, got ${describe(value)}`,
        );
      }
      num = value;
    } else num = (core.table as NonNullable<typeof core.table>).add(value);
    let status: number;
    if (typeof ts === "number") status = core.sym.tl_append_f64(core.ptr, ts, num);
    else {
      this.#one.ts[0] = ts;
      this.#one.v[0] = num;
      const raw = new BigUint64Array(this.#one.v.buffer);
      status = core.sym.tl_append_batch(core.ptr, this.#one.ts, raw, 1, 0);
    }
    if (status !== 0 && status !== 21 && !this.#f64) core.table?.release(num);
    core.afterWrite(status, "append");
  }

  /**
   * Appends columns: `ts[i]` with `values[i]`. All or nothing: a bad timestamp or value throws
   * before anything is stored. Typed arrays (`Float64Array`/`BigInt64Array` timestamps, a
   * `Float64Array` of values for f64 logs) go to the engine without conversion.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<number>({ values: "f64" });
   * log.appendMany(new Float64Array([1, 2, 3]), new Float64Array([10, 20, 30]));
   * ```
   */
  appendMany(
    ts: ArrayLike<number | bigint> | Float64Array | BigInt64Array,
    values: ArrayLike<V>,
  ): void {
    this.#core.assertOpen("append records");
    if (this.#f64 && appendF64Columns(this.#core, ts, values, "append records")) return;
    appendColumns(
      this.#core,
      toColumns(this.#core, ts, values, "append records"),
      "append records",
    );
  }

  /**
   * Appends `[ts, value]` pairs from any iterable, validated first and stored all at once.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.extend([[1, "a"], [2, "b"]]);
   * ```
   */
  extend(records: Iterable<readonly [Timestamp, V]>): void {
    this.#core.assertOpen("extend");
    if (records === null || typeof (records as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError("Cannot extend: records must be an iterable of [ts, value] pairs");
    }
    const ts: Ts[] = [];
    const values: V[] = [];
    for (const pair of records) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`Cannot extend: record ${ts.length} is not a [ts, value] pair`);
      }
      ts.push(this.#ts(pair[0], `record ${ts.length} timestamp`));
      values.push(pair[1]);
    }
    appendColumns(this.#core, toColumns(this.#core, ts, values, "extend"), "extend");
  }

  /**
   * Deletes `[t1, t2)`, or every record at exactly `ts` with one argument (INT64_MAX
   * included). Hides only records written before the call. `t1 > t2` is a RangeError.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1, "a");
   * log.append(5, "b");
   * log.delete(0, 3);
   * log.delete(5);
   * console.log(log.size); // 0
   * ```
   */
  delete(ts: Timestamp): void;
  delete(t1: Timestamp, t2: Timestamp): void;
  delete(...args: [Timestamp] | [Timestamp, Timestamp]): void {
    const core = this.#core;
    core.assertOpen("delete");
    const [t1, t2] = args;
    const lo = this.#ts(t1, args.length === 1 ? "ts" : "t1");
    if (args.length === 1) {
      core.afterWrite(core.sym.tl_delete_at(core.ptr, lo), "delete");
      return;
    }
    const hi = this.#ts(t2, "t2");
    if (lo > hi) throw new RangeError(`Cannot delete: t1 (${lo}) is greater than t2 (${hi})`);
    if (lo === hi) return;
    core.afterWrite(core.sym.tl_delete_range(core.ptr, lo, hi), "delete");
  }

  /**
   * Deletes every record with `ts < cutoff` (retention).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1, "old");
   * log.append(9, "new");
   * log.deleteBefore(5);
   * console.log(log.at(9), log.size); // ["new"] 1
   * ```
   */
  deleteBefore(cutoff: Timestamp): void {
    const core = this.#core;
    core.assertOpen("delete");
    core.afterWrite(core.sym.tl_delete_before(core.ptr, this.#ts(cutoff, "cutoff")), "delete");
  }

  /**
   * A consistent, O(1) view of the log as it is now. Close it (or `using`) when done.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * using snap = log.snapshot();
   * ```
   */
  snapshot(): Snapshot<V, T> {
    return new Snapshot<V, T>(this.#core);
  }

  #maint(action: string, fn: (ptr: NativePointer) => number): void {
    this.#core.assertOpen(action);
    this.#core.check(fn(this.#core.ptr), action);
  }

  /**
   * Seals the memtable and writes it into L0 segments now, in either maintenance mode.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>({ maintenance: "manual" });
   * log.append(1, "a");
   * log.flush();
   * ```
   */
  flush(): void {
    this.#maint("flush", (p) => this.#core.sym.tl_flush(p));
  }

  /**
   * Flushes, then compacts everything into L1 and applies every delete physically; returns
   * when done (in manual mode too). It then packs the stored pages into as few memory chunks
   * as they fill and gives free memory back to the system (open snapshots keep reading what
   * they read). Dropped values are released afterwards.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>({ maintenance: "manual" });
   * log.append(1, "a");
   * log.compact();
   * ```
   */
  compact(): void {
    this.#maint("compact", (p) => this.#core.sym.tl_compact(p));
    this.#core.drain();
  }

  /**
   * Manual mode: one unit of maintenance. Returns false when there was nothing to do.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>({ maintenance: "manual" });
   * while (log.step()) {}
   * ```
   */
  step(): boolean {
    const core = this.#core;
    core.assertOpen("run a maintenance step");
    const status = core.sym.tl_maint_step(core.ptr);
    if (status === 1) return false;
    core.check(status, "run a maintenance step");
    core.drain();
    return true;
  }

  /**
   * Starts the background maintenance thread (background mode; idempotent).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.stopMaintenance();
   * log.startMaintenance();
   * ```
   */
  startMaintenance(): void {
    this.#maint("start maintenance", (p) => this.#core.sym.tl_maint_start(p));
  }

  /**
   * Stops and joins the background maintenance thread (idempotent).
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.stopMaintenance();
   * ```
   */
  stopMaintenance(): void {
    this.#maint("stop maintenance", (p) => this.#core.sym.tl_maint_stop(p));
  }

  /**
   * Resolves once every write call that returned before it is durable: on disk, fdatasynced,
   * recovered by the next open after a crash or power loss. The engine's syncer thread does
   * the work and the promise settles when it reports back; the event loop keeps running, and
   * stays alive while a sync is pending. In `"sync"` mode and for in-memory logs it resolves
   * at once (every write is already durable, or nothing ever will be). Rejects with
   * {@link TimelogError} when the log has failed (`EIO`, with the engine's message naming the
   * file and the OS error) or is closed (`ECLOSED`). `close()` settles pending syncs: it makes
   * everything durable first.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * const dir = mkdtempSync(join(tmpdir(), "ticks-"));
   * const log = new Timelog<number>({ path: dir, values: "f64" });
   * log.appendMany([1, 2], [0.5, 0.25]);
   * await log.sync(); // both records survive a crash from here on
   * log.close();
   * rmSync(dir, { recursive: true });
   * ```
   */
  sync(): Promise<void> {
    return this.#core.sync();
  }

  /**
   * Writes a checkpoint now (durable logs; a no-op in memory): compacts everything, writes the
   * records not yet in segment files, makes the WAL durable, replaces the manifest and deletes
   * the WAL segments and files it no longer needs, so the next open replays nothing.
   * Maintenance also checkpoints on its own (`checkpointBytes` of WAL, or when idle); calling
   * it is optional. Everything written before it is durable when it returns.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * const dir = mkdtempSync(join(tmpdir(), "ticks-"));
   * const log = new Timelog<number>({ path: dir, values: "f64" });
   * log.append(1, 0.5);
   * log.checkpoint();
   * console.log(log.stats().walBytes < log.stats().diskBytes); // true
   * log.close();
   * rmSync(dir, { recursive: true });
   * ```
   */
  checkpoint(): void {
    this.#maint("checkpoint", (p) => this.#core.sym.tl_checkpoint(p));
    this.#core.settleSyncs();
    this.#core.drain();
  }

  /**
   * The highest sequence number whose write calls are all durable (0 for an in-memory log).
   * Every write call takes the next sequence number (`stats().seq` is the last one), so the
   * log is fully durable when `log.durableSeq === log.stats().seq`. A failed log keeps
   * reporting what was durable before it failed.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * const dir = mkdtempSync(join(tmpdir(), "ticks-"));
   * const log = new Timelog<number>({ path: dir, values: "f64", durability: "sync" });
   * log.append(1, 0.5);
   * console.log(log.durableSeq === log.stats().seq); // true: "sync" mode
   * log.close();
   * rmSync(dir, { recursive: true });
   * ```
   */
  get durableSeq(): number {
    this.#core.assertOpen("read the durable seq");
    return this.#core.durableSeq().durable;
  }

  /**
   * Engine and binding statistics as a plain object.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.append(1, "a");
   * console.log(log.stats().records); // 1
   * ```
   */
  stats(): TimelogStats {
    const core = this.#core;
    core.assertOpen("read stats");
    const raw = new BigUint64Array(32);
    core.check(core.sym.tl_stats(core.ptr, raw), "read stats");
    return statsFrom(raw, core);
  }

  /**
   * Checks every engine invariant; throws a TimelogError naming the first violation.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<string>();
   * log.validate();
   * ```
   */
  validate(): void {
    this.#maint("validate", (p) => this.#core.sym.tl_validate(p));
  }

  /**
   * True once `close()` has run.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * const log = new Timelog();
   * log.close();
   * console.log(log.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Closes snapshots and iterators, makes a durable log's writes durable (settling pending
   * `sync()` promises), stops maintenance, releases every held value; idempotent. On a durable
   * log that has failed with acknowledged writes not yet durable, it still releases everything,
   * then throws {@link TimelogError} (`EIO`) to say those writes are lost.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * const log = new Timelog<string>();
   * log.append(1, "a");
   * log.close();
   * log.close(); // no-op
   * ```
   */
  close(): void {
    this.#core.close();
  }

  /** Same as {@link Timelog.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
