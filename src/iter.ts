/**
 * Batch iterators over a snapshot.
 *
 * Records cross the FFI boundary 4096 at a time into typed arrays borrowed from a small pool,
 * so the per-record cost is a typed-array read, not an FFI call. Timestamps come back as
 * doubles for number-mode logs (exact: such logs only hold safe integers) and as int64 for
 * bigint-mode logs.
 *
 * The native state (`NativeIter`) is separate from the public `TimelogIterator`, so the log can
 * close it (it tracks the state, not the wrapper) and a `FinalizationRegistry` can release the
 * native iterator of a forgotten wrapper.
 *
 * @module
 */
import { closedError, Status } from "./errors.ts";
import type { Child, LogCore } from "./core.ts";
import type { NativePointer } from "./ffi/runtime.ts";
import type { HandleTable } from "./handles.ts";
import type { Ts } from "./time.ts";

/** Records per FFI crossing. */
export const BATCH = 4096;

/**
 * Results of nextBatch kept per batch buffer, by record count. A short range is read whole
 * into a pooled batch and handed out as views of its first n records; making two views and
 * their wrapper per read was a third of a 100-record range's cost in Bun and Deno, so the
 * views of each n are made once. At most this many (about 200 bytes each) per batch.
 */
const VIEWS_KEPT = 128;

/** Reusable column buffers for one batch. */
export interface Batch {
  readonly tsF: Float64Array;
  readonly tsI: BigInt64Array;
  readonly h: Float64Array;
  readonly hRaw: BigUint64Array;
  /** nextBatch's results for records [0, n) of an f64 batch, by n (see nextBatch). */
  readonly views: Map<number, { ts: Float64Array; values: Float64Array }>;
}

/**
 * nextBatch's result for a short read: frozen views of a pooled batch's first records. One
 * function makes them all, so the anchor in SHAPE_ANCHORS has the very shape they have.
 */
function frozenViews(
  ts: Float64Array,
  values: Float64Array,
): { readonly ts: Float64Array; readonly values: Float64Array } {
  return Object.freeze({ ts, values });
}

/** Borrows a batch buffer from the log's small pool (kept on its core: no lookup). */
export function borrow(core: { readonly batchPool: object[] }): Batch {
  const batch = core.batchPool.pop() as Batch | undefined;
  if (batch) return batch;
  const h = new Float64Array(BATCH);
  const ts = new ArrayBuffer(BATCH * 8);
  return {
    tsF: new Float64Array(ts),
    tsI: new BigInt64Array(ts),
    h,
    hRaw: new BigUint64Array(h.buffer),
    views: new Map(),
  };
}

/** Returns a batch buffer to the pool. */
export function giveBack(core: { readonly batchPool: object[] }, batch: Batch): void {
  const pool = core.batchPool;
  if (pool.length < 4) pool.push(batch);
}

/** What an iterator needs from the log or snapshot it reads (reader.ts's ReadOwner). */
export interface IterOwner<V> {
  /** Open while the owner is: what untracked iterators check (see NativeIter). */
  readonly life: { readonly closed: boolean };
  /** Tracks an open iterator so closing the owner closes it first. */
  attach(iter: NativeIter<V>): void;
  detach(iter: NativeIter<V>): void;
  /** Gives back a native snapshot the owner handed out. */
  done(snap: NativePointer): void;
}

/**
 * Native side of one iterator: its native iterator and the snapshot it reads (`snap`, given
 * back to `owner` on close), or none.
 * A range that fit in one batch when it was opened has no native iterator at all: its records
 * were read up front into `batch` (`it` null, `pending` records), with one FFI call instead of
 * snapshot + open + read + destroy + release.
 *
 * Such a range in an f64 log holds nothing that needs closing (no native iterator, no value
 * handles to pin), so it is not tracked: no pin, no attach to its owner, no finalizer (in Deno
 * those cost ~0.5 µs, more than the read). It sees its owner close through `life`.
 */
export class NativeIter<V> implements Child {
  readonly core: LogCore<V>;
  it: NativePointer;
  batch: Batch | null;
  /** "user": closed or exhausted normally; "parent": closed by its log or snapshot. */
  closedBy: "user" | "parent" | null = null;
  /** The owner's open state (its log's core, or its snapshot's state). */
  readonly life: { readonly closed: boolean };
  /** Pinned, attached to its owner and under the finalizer (see the class comment); only a
   * tracked iterator detaches and unpins when it closes. */
  readonly tracked: boolean;
  readonly #owner: IterOwner<V>;
  #snap: NativePointer;
  #pending: number;
  /** Records the native iterator may still return (a read's limit; Infinity when none). */
  #left: number;

  /**
   * A streaming iterator (`it` and the `snap` it reads, `filled` null), or a range read up
   * front (`it` and `snap` null, `filled` holding its `n` records). Attaches itself to
   * `owner` when tracked.
   */
  constructor(
    core: LogCore<V>,
    owner: IterOwner<V>,
    it: NativePointer,
    snap: NativePointer,
    filled: Batch | null,
    n: number,
    limit = Infinity,
  ) {
    this.core = core;
    this.it = it;
    this.life = owner.life;
    this.#owner = owner;
    this.#snap = snap;
    this.batch = filled ?? borrow(core);
    this.#pending = n;
    this.#left = limit;
    this.tracked = it !== null || core.table !== null;
    if (this.tracked) {
      core.pin();
      owner.attach(this);
    }
  }

  /** Reads the next batch; returns the record count (0 = exhausted). */
  fill(): number {
    if (this.it === null) { // read up front: one batch, then the end
      const n = this.#pending;
      this.#pending = 0;
      return n;
    }
    const { sym, opts, size } = this.core;
    const b = this.batch as Batch;
    const cap = this.#left < BATCH ? this.#left : BATCH; // a limit stops the engine there
    if (cap === 0) return 0;
    const status = opts.timestamps === "number"
      ? sym.tl_iter_next_batch_f64(this.it, b.tsF, b.hRaw, cap, size)
      : sym.tl_iter_next_batch(this.it, b.tsI, b.hRaw, cap, size);
    if (status === Status.EOF) return 0;
    this.core.check(status, "read the next records");
    this.#left -= size[0];
    return size[0];
  }

  close(by: "user" | "parent" = "parent"): void {
    if (this.closedBy !== null) return;
    this.closedBy = by;
    if (this.it !== null) this.core.sym.tl_iter_destroy(this.it);
    this.it = null;
    if (this.batch) giveBack(this.core, this.batch);
    this.batch = null;
    if (this.tracked) {
      this.#owner.detach(this);
      if (this.#snap !== null) this.#owner.done(this.#snap);
      this.#snap = null;
      this.core.unpin();
    }
  }
}

const iterFinalizer = new FinalizationRegistry<NativeIter<unknown>>((state) => {
  if (!state.core.closed) state.close("user");
});

/**
 * An iterator over `[timestamp, value]` records of a snapshot, in timestamp order (records
 * with equal timestamps in insertion order), or newest first when opened with
 * `{ reverse: true }`. `break` out of `for…of`, `close()` or `using` release the native
 * iterator at once.
 *
 * @example
 * ```ts
 * import { Timelog } from "@timelog/timelog";
 * using log = new Timelog<string>();
 * log.append(1, "a");
 * log.append(2, "b");
 * using it = log.range(0, 10);
 * for (const [ts, value] of it) console.log(ts, value);
 * ```
 */
export class TimelogIterator<V, T extends Ts = number>
  implements IterableIterator<[T, V]>, Disposable {
  #state: NativeIter<V> | null;
  #i = 0;
  #n = 0;
  /** The current batch's columns and decoder, cached so next() touches no option chains. */
  #ts: Float64Array | BigInt64Array | null = null;
  #h: Float64Array | null = null;
  /** A bytes log's decoded values of the current batch (decoded when it is read). */
  #vals: V[] | null = null;
  readonly #table: HandleTable<V> | null;

  /** @internal Created by Timelog and Snapshot reads. */
  constructor(state: NativeIter<V> | null) {
    this.#state = state;
    this.#table = state ? state.core.table : null;
    if (state?.tracked) iterFinalizer.register(this, state as NativeIter<unknown>, this);
  }

  /** The next record, or `{ done: true }` when exhausted. Throws if its log was closed. */
  next(): IteratorResult<[T, V], undefined> {
    let i = this.#i;
    // closedBy / life: a log or snapshot closing under us must not let buffered records
    // through. No recursion and one exit per outcome, so engines inline next() into for…of.
    const s = this.#state as NativeIter<V>;
    if (i >= this.#n || s.closedBy !== null || s.life.closed) {
      if (!this.#refill()) return { done: true, value: undefined };
      i = 0;
    }
    this.#i = i + 1;
    const vals = this.#vals;
    const h = (this.#h as Float64Array)[i];
    const table = this.#table;
    const value = (vals !== null ? vals[i] : table !== null ? table.get(h) : h) as V;
    return { done: false, value: [(this.#ts as Float64Array)[i] as T, value] };
  }

  /** Loads the next batch; false when exhausted or closed. Throws if the log was closed. */
  #refill(): boolean {
    const s = this.#state;
    if (s === null) return false;
    if (s.closedBy === "user") return false;
    if (s.closedBy === "parent" || s.life.closed) {
      throw closedError("Timelog or Snapshot", "read an iterator");
    }
    this.#n = s.fill();
    this.#i = 0;
    if (this.#n === 0) {
      this.close();
      return false;
    }
    const b = s.batch as Batch;
    this.#ts = s.core.opts.timestamps === "number" ? b.tsF : b.tsI;
    this.#h = b.h;
    // Decoded now, while the batch's snapshot still pins every value it names.
    this.#vals = s.core.bytes !== null ? s.core.bytes.decode(b.h, 0, this.#n) : null;
    return true;
  }

  /**
   * The next records as columns — up to 4096 at a time, without allocating in f64 mode —
   * or undefined when exhausted. `ts` and (f64 mode) `values` are views of reused buffers,
   * valid until the next call: copy what you keep (the returned object, read-only, may itself
   * be handed out again by a later read). Mixes freely with `next()`.
   *
   * @example
   * ```ts
   * import { Timelog } from "@timelog/timelog";
   * using log = new Timelog<number>({ values: "f64" });
   * log.appendMany([1, 2, 3], [10, 20, 30]);
   * using it = log.all();
   * let sum = 0;
   * for (let b = it.nextBatch(); b; b = it.nextBatch()) {
   *   for (let i = 0; i < b.values.length; i++) sum += b.values[i] as number;
   * }
   * console.log(sum); // 60
   * ```
   */
  nextBatch():
    | { ts: T extends bigint ? BigInt64Array : Float64Array; values: Float64Array | V[] }
    | undefined {
    const s = this.#state;
    if (this.#i === this.#n || s === null || s.closedBy !== null || s.life.closed) {
      if (!this.#refill()) return undefined;
    }
    const from = this.#i;
    const to = this.#n;
    this.#i = to;
    const table = this.#table;
    if (from === 0 && table === null && this.#vals === null && this.#ts instanceof Float64Array) {
      const b = (this.#state as NativeIter<V>).batch as Batch;
      let v = b.views.get(to);
      if (v === undefined) {
        if (b.views.size >= VIEWS_KEPT) b.views.clear();
        v = frozenViews(b.tsF.subarray(0, to), b.h.subarray(0, to));
        b.views.set(to, v);
      }
      return v as unknown as {
        ts: T extends bigint ? BigInt64Array : Float64Array;
        values: Float64Array | V[];
      };
    }
    const ts = (this.#ts as Float64Array).subarray(from, to);
    const h = (this.#h as Float64Array).subarray(from, to);
    // A plain loop: Array.from with a mapping function is several times slower in JSC.
    let values: Float64Array | V[] = h;
    if (this.#vals !== null) values = this.#vals.slice(from, to);
    else if (table) {
      const out: V[] = new Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = table.get(h[i]);
      values = out;
    }
    return { ts, values } as {
      ts: T extends bigint ? BigInt64Array : Float64Array;
      values: Float64Array | V[];
    };
  }

  /** Called by `for…of` on `break`: releases the native iterator. */
  return(): IteratorResult<[T, V], undefined> {
    this.close();
    return { done: true, value: undefined };
  }

  /** This iterator (so it works in `for…of`). */
  [Symbol.iterator](): this {
    return this;
  }

  /** Releases the native iterator; idempotent. Later `next()` calls report done. */
  close(): void {
    const s = this.#state;
    if (s === null) return;
    if (s.tracked) iterFinalizer.unregister(this);
    this.#i = this.#n = 0;
    if (s.closedBy === null) s.close("user");
  }

  /** Same as {@link TimelogIterator.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * @internal One instance of each per-read class, alive as long as this module (exported so
 * that the module keeps the binding). V8 holds the field transitions that build an object's
 * shape weakly, so a full collection at a moment when no iterator was alive (the usual moment:
 * a read's iterator lives for microseconds) dropped their shapes. The next read built new
 * ones, and every function of the read path optimized against the old shapes was thrown away
 * (`--trace-deopt`: "embedded weak objects cleared") and compiled again, tier by tier: in
 * Deno, the first ~500 100-record ranges after each full collection took 5-13 µs each against
 * 1-2 µs. The frozen views of a short read's nextBatch() (frozenViews) went the same way once
 * the logs that had read were closed, and with them the caller's compiled loop over the
 * batches: the peers bench, which opens a new log per run, read ~100-record ranges at 1.0-1.6
 * µs a query instead of 0.55. These anchors keep the shapes (tests/jit_test.ts); they
 * reference no log. Bun's JSC kept its compiled code without them.
 */
const anchorCore = { batchPool: [] as object[], table: null } as unknown as LogCore<unknown>;
const anchorOwner: IterOwner<unknown> = {
  life: { closed: true },
  attach(): void {},
  detach(): void {},
  done(): void {},
};
export const SHAPE_ANCHORS: readonly object[] = [
  new TimelogIterator<unknown>(null),
  new NativeIter<unknown>(anchorCore, anchorOwner, null, null, {} as Batch, 0),
  frozenViews(new Float64Array(0), new Float64Array(0)),
];
