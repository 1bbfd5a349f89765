/**
 * LogCore: the native state behind one Timelog, shared with its snapshots and iterators.
 *
 * It owns the `tl_timelog_t`, the handle table (object mode), the drop queue and its doorbell,
 * the pending `sync()` promises (durable logs, src/durable.ts) and the pin count. The doorbell
 * serves both: it rings when dropped handles wait in the queue and when a requested durable
 * seq is reached, so a durable log has a queue even without a handle table (except in
 * `"sync"` mode, where every write is durable when it returns and nothing waits).
 *
 * A value whose record the engine dropped is released only when no pin (live snapshot or
 * iterator) could still yield it: dropped handles wait in `#retired` while pins exist and are
 * released when the last pin goes. Statuses become exceptions here only.
 *
 * @module
 */
import { closedError, Status, statusError, TimelogBusyError, type TimelogError } from "./errors.ts";
import { SyncWaiters } from "./durable.ts";
import { ByteValues } from "./values.ts";
import { HandleTable } from "./handles.ts";
import { registerDoorbell, unregisterDoorbell } from "./drops.ts";
import type { NativePointer, NativeRuntime, TimelogSymbols } from "./ffi/runtime.ts";
import { native } from "./ffi/load.ts";
import type { ResolvedOptions } from "./options.ts";

/** tl_dropq_create_ex flag: the queue only rings (c/include/timelog.h). */
const DROPQ_BELL_ONLY = 1;
const DRAIN_CAP = 4096;
/** Bytes for tl_open_ex's failure reason (the engine truncates longer ones). */
const OPEN_ERR_CAP = 1024;
/** Records a point read fetches in its one FFI call before falling back to an iterator. */
export const POINT_CAP = 64;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Largest handle column kept for reuse (records): 512 KB. */
const COLUMN_MAX = 65536;

/** A write call's handle column, as doubles (to fill) and as raw bits (to pass). */
export interface HandleColumn {
  readonly values: Float64Array;
  readonly raw: BigUint64Array;
  readonly pooled: boolean;
}

function handleColumn(values: Float64Array, pooled: boolean): HandleColumn {
  return { values, raw: new BigUint64Array(values.buffer, 0, values.length), pooled };
}

/** Anything a log must close before itself (snapshots, iterators). */
export interface Child {
  close(): void;
}

/** Native state of one log. Internal: not exported from mod.ts. */
export class LogCore<V> {
  readonly rt: NativeRuntime;
  readonly sym: TimelogSymbols;
  readonly opts: ResolvedOptions;
  readonly table: HandleTable<V> | null;
  /** Byte-valued logs: the engine's values (encode on write, one read a batch). */
  readonly bytes: ByteValues<V> | null = null;
  readonly children: Set<Child> = new Set();
  /** Out-parameter cells, reused by every call (the JS thread is the only caller). */
  readonly cell: BigUint64Array = new BigUint64Array(1);
  readonly i64: BigInt64Array = new BigInt64Array(1);
  readonly u64: BigUint64Array = new BigUint64Array(1);
  readonly size: Uint32Array = new Uint32Array(2);
  readonly f64: Float64Array = new Float64Array(1);
  /** Batch buffers of finished reads, for the next ones (iter.ts's borrow / giveBack). */
  readonly batchPool: object[] = [];
  /** Point-read columns (at()): timestamps, and handles read both as bits and as doubles. */
  readonly pointTs: Float64Array = new Float64Array(POINT_CAP);
  readonly pointH: Float64Array = new Float64Array(POINT_CAP);
  readonly pointRaw: BigUint64Array = new BigUint64Array(this.pointH.buffer);
  /** Called once for every value the log stops holding. */
  onRelease: ((value: V) => void) | undefined;
  ptr: NativePointer = null;
  closed = false;
  #pins = 0;
  #retired: number[] = [];
  #dropq: NativePointer = null;
  #token = 0;
  #drainBuf = new Float64Array(DRAIN_CAP);
  #column: HandleColumn | null = null;
  #columnBusy = false;
  #syncs = new SyncWaiters();
  /** The doorbell no longer rings (stopped for process exit): sync() must not wait for it. */
  #bellStopped = false;

  constructor(opts: ResolvedOptions) {
    this.rt = native();
    this.sym = this.rt.symbols;
    this.opts = opts;
    this.table = opts.values === "any" ? new HandleTable<V>() : null;
    const cfg = new Uint8Array(this.sym.tl_config_size());
    this.sym.tl_config_init_defaults(cfg);
    for (const [key, value] of opts.engine) {
      this.check(this.sym.tl_config_set(cfg, key, value), "configure");
    }
    let action = "open the log";
    if (opts.path !== null) {
      const path = encoder.encode(opts.path);
      this.check(this.sym.tl_config_set_path(cfg, path, path.length), "configure the path");
      action = `open the log at "${opts.path}"`;
    }
    if (this.table || (opts.path !== null && opts.durability !== "sync")) {
      this.#openDropQueue(cfg);
    }
    const err = new Uint8Array(OPEN_ERR_CAP);
    const status = this.sym.tl_open_ex(cfg, this.cell, err, err.length);
    if (status !== Status.OK) {
      this.#closeDropQueue();
      const end = err.indexOf(0);
      throw statusError(status, action, decoder.decode(err.subarray(0, end < 0 ? 0 : end)));
    }
    this.ptr = this.rt.readPointer(this.cell);
    if (opts.codec !== null) {
      const check = (status: number, action: string) => this.check(status, action);
      this.bytes = new ByteValues<V>(this.sym, () => this.ptr, check, opts.codec);
    }
  }

  /**
   * The values of handles h[from, to) as read from the engine (their bits in h's memory):
   * the handle table's values, a bytes log's decoded values, or null for an f64 log (the
   * doubles are the values).
   */
  valuesOf(h: Float64Array, from: number, to: number): V[] | null {
    const bytes = this.bytes;
    if (bytes !== null) return bytes.decode(h, from, to);
    const table = this.table;
    if (table === null) return null;
    const out: V[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = table.get(h[i]);
    return out;
  }

  #openDropQueue(cfg: Uint8Array): void {
    const bell = registerDoorbell(this.rt, {
      drain: () => {
        try {
          this.settleSyncs();
        } finally {
          this.drain();
        }
      },
      stopForExit: () => {
        // The event loop ran empty with the log still open: make its writes durable, as
        // close() would, before the queue stops ringing.
        if (this.opts.path !== null && !this.closed) this.sym.tl_sync(this.ptr);
        if (this.#dropq === null) return false;
        if (this.sym.tl_dropq_shutdown(this.#dropq) === Status.EBUSY) return true;
        this.#bellStopped = true;
        return false;
      },
    });
    this.#token = bell.token;
    // A log without a handle table (f64 values) needs the bell for sync() only: a bell-only
    // queue keeps the engine from collecting every dropped record (and copying all at close).
    const flags = this.table ? 0 : DROPQ_BELL_ONLY;
    const status = this.sym.tl_dropq_create_ex(null, bell.pointer, bell.token, flags, this.cell);
    if (status !== Status.OK) {
      unregisterDoorbell(bell.token);
      throw statusError(status, "create the drop queue");
    }
    this.#dropq = this.rt.readPointer(this.cell);
    this.check(this.sym.tl_config_set_drop_queue(cfg, this.#dropq), "configure the drop queue");
  }

  /** The engine's message for the last failure on this log. */
  lastError(): string {
    if (this.ptr === null) return "";
    const buf = new Uint8Array(512);
    const len = this.sym.tl_last_error(this.ptr, buf, buf.length);
    return decoder.decode(buf.subarray(0, Math.min(len, buf.length - 1)));
  }

  /** Throws for any status but OK; returns OK. */
  check(status: number, action: string): number {
    if (status !== Status.OK) throw statusError(status, action, this.lastError());
    return status;
  }

  /** Applies the busy policy to a write's status (EBUSY means the write was accepted). */
  afterWrite(status: number, action: string): void {
    if (status === Status.OK) return;
    if (status !== Status.EBUSY) throw statusError(status, action, this.lastError());
    switch (this.opts.busyPolicy) {
      case "flush":
        this.check(this.sym.tl_flush(this.ptr), "flush under backpressure");
        return;
      case "silent":
        return;
      case "raise":
        throw new TimelogBusyError(
          `${action}: the write was accepted, but sealed data is waiting for maintenance ` +
            "(backpressure). Do not retry it; call flush() or let maintenance catch up.",
        );
    }
  }

  /**
   * A handle column of n entries for one write call. Calls of one size (a bulk load's fixed
   * batch) get the same buffer back, so ingest allocates no ArrayBuffer per batch (Deno
   * spends ~2 µs on each, and counts it as external memory that brings the next GC closer).
   * Exclusive until {@link LogCore.giveColumn}; a nested write (a getter calling back into
   * the log) gets a fresh one.
   */
  takeColumn(n: number): HandleColumn {
    const c = this.#column;
    if (this.#columnBusy || n > COLUMN_MAX) return handleColumn(new Float64Array(n), false);
    this.#columnBusy = true;
    if (c !== null && c.values.length === n) return c;
    return this.#column = handleColumn(new Float64Array(n), true);
  }

  /** Returns the column taken by {@link LogCore.takeColumn} (no-op for an unpooled one). */
  giveColumn(c: HandleColumn): void {
    if (c.pooled) this.#columnBusy = false;
  }

  /** Throws the "closed" error when the log is closed. */
  assertOpen(action: string): void {
    if (this.closed) throw closedError("Timelog", action);
  }

  /** A snapshot or iterator starts pinning values. */
  pin(): void {
    this.#pins++;
  }

  /** A snapshot or iterator stops pinning values; the last unpin releases retired values. */
  unpin(): void {
    if (--this.#pins === 0 && this.#retired.length > 0) {
      const retired = this.#retired;
      const errors: unknown[] = [];
      this.#retired = [];
      for (const h of retired) this.#release(h, errors);
      if (errors.length > 0) throw errors[0];
    }
  }

  /** Live pins (tests and stats). */
  get pins(): number {
    return this.#pins;
  }

  /** Values dropped by the engine but still pinned. */
  get retiredCount(): number {
    return this.#retired.length;
  }

  /**
   * Moves every queued dropped handle out of the engine; releases or retires each. A throwing
   * onRelease does not stop the others: the first error is rethrown once all are handled.
   */
  drain(): void {
    if (this.#dropq === null) return;
    const raw = new BigUint64Array(this.#drainBuf.buffer);
    const errors: unknown[] = [];
    for (;;) {
      const status = this.sym.tl_dropq_drain(this.#dropq, raw, DRAIN_CAP, this.size);
      if (status !== Status.OK) break;
      const n = this.size[0] + this.size[1] * 2 ** 32;
      // Without a handle table (a durable f64 log) the values are the doubles: nothing to free.
      for (let i = 0; this.table !== null && i < n; i++) {
        const handle = this.#drainBuf[i];
        if (this.#pins > 0) this.#retired.push(handle);
        else this.#release(handle, errors);
      }
      if (n < DRAIN_CAP) break;
    }
    if (errors.length > 0) throw errors[0];
  }

  #release(handle: number, errors: unknown[]): void {
    try {
      this.table?.release(handle, this.onRelease);
    } catch (err) {
      errors.push(err);
    }
  }

  /** The highest seq whose write calls are all durable (0 in memory), and the log's health. */
  durableSeq(): { durable: number; status: number } {
    const status = this.sym.tl_durable_seq(this.ptr, this.u64);
    return { durable: Number(this.u64[0]), status };
  }

  /** The error a failed durable log reports, with the engine's message. */
  #failure(status: number, action: string): TimelogError {
    this.sym.tl_sync_request(this.ptr, this.u64); // fails again, recording the reason
    return statusError(status, action, this.lastError());
  }

  /** See Timelog.sync(). */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(closedError("Timelog", "sync"));
    if (this.opts.path === null) return Promise.resolve();
    const status = this.sym.tl_sync_request(this.ptr, this.u64);
    if (status !== Status.OK) return Promise.reject(statusError(status, "sync", this.lastError()));
    const target = Number(this.u64[0]);
    const now = this.durableSeq();
    if (now.durable >= target) {
      // Earlier waiters the durable seq has reached too settle first, so that promises keep
      // request order even when the syncer made them durable and its doorbell is not yet
      // handled on this thread (seen once in a clean run: 50 sync() calls settled out of order).
      this.#syncs.settle(now.durable);
      return Promise.resolve();
    }
    if (now.status !== Status.OK) return Promise.reject(this.#failure(now.status, "sync"));
    if (this.#dropq === null || this.#bellStopped) {
      // No doorbell: "sync" mode (tl_sync_request synced inline, so this is a no-op), or the
      // process is exiting (an exit listener writing more): sync here, blocking.
      const st = this.sym.tl_sync(this.ptr);
      return st === Status.OK
        ? Promise.resolve()
        : Promise.reject(statusError(st, "sync", this.lastError()));
    }
    return this.#syncs.wait(target);
  }

  /** Settles the sync() promises the durable seq has reached (on a doorbell ring). */
  settleSyncs(): void {
    if (this.closed || this.#syncs.size === 0) return;
    const { durable, status } = this.durableSeq();
    this.#syncs.settle(durable, status === Status.OK ? undefined : this.#failure(status, "sync"));
  }

  /**
   * Close of a durable log, first step: makes every write durable and settles every sync()
   * promise. Returns the error close() must report: the log failed with acknowledged writes
   * not durable.
   */
  #syncForClose(): TimelogError | undefined {
    const status = this.sym.tl_sync(this.ptr);
    const { durable } = this.durableSeq();
    if (status === Status.OK) {
      this.#syncs.settle(Infinity);
      return undefined;
    }
    const err = statusError(status, "make the log durable at close", this.lastError());
    this.#syncs.settle(durable, err);
    const stats = new BigUint64Array(32);
    this.sym.tl_stats(this.ptr, stats);
    return durable < Number(stats[9]) ? err : undefined; // stats[9]: seq, the last write's
  }

  /**
   * Closes children, makes a durable log's writes durable, closes the engine (which reports
   * every stored handle), then the queue. Every step runs even when an onRelease callback
   * throws; the first error is rethrown at the end.
   */
  close(): void {
    if (this.closed) return;
    const errors: unknown[] = [];
    for (const child of [...this.children]) {
      try {
        child.close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (this.opts.path !== null) {
      const lost = this.#syncForClose();
      if (lost !== undefined) errors.push(lost);
    }
    this.closed = true;
    this.sym.tl_close(this.ptr);
    this.ptr = null;
    try {
      this.drain();
    } catch (err) {
      errors.push(err);
    }
    // Backstop: the engine reports every stored handle at close; anything left is released too.
    this.table?.releaseAll((value) => {
      try {
        this.onRelease?.(value);
      } catch (err) {
        errors.push(err);
      }
    });
    this.#closeDropQueue();
    if (errors.length > 0) throw errors[0];
  }

  #closeDropQueue(): void {
    const q = this.#dropq;
    if (q === null) return;
    const finish = (): void => {
      if (this.sym.tl_dropq_shutdown(q) === Status.EBUSY) {
        // The notifier is inside the doorbell (Deno delivers it on the event loop): retry.
        setTimeout(finish, 1);
        return;
      }
      this.sym.tl_dropq_release(q);
      this.#dropq = null;
      unregisterDoorbell(this.#token);
    };
    finish();
  }
}
