/**
 * Snapshots: a log frozen at one moment, readable for as long as needed.
 *
 * Taking one is O(1) in the engine (it pins a manifest; nothing is copied). A snapshot pins
 * the values it can still return: values the engine drops meanwhile are released only after
 * the last pin goes. `close()` / `using` release it; a `FinalizationRegistry` releases the
 * native snapshot of a forgotten one (safety net only: it may run late or never).
 *
 * @module
 */
import { closedError } from "./errors.ts";
import type { Child, LogCore } from "./core.ts";
import type { NativePointer } from "./ffi/runtime.ts";
import type { NativeIter } from "./iter.ts";
import type { ReadOwner } from "./reader.ts";
import { SeriesReader } from "./series.ts";
import type { Ts } from "./time.ts";

/** Native side of a snapshot; what the log and the finalizer hold (never the wrapper). */
export class SnapState<V> implements ReadOwner<V>, Child {
  readonly core: LogCore<V>;
  ptr: NativePointer;
  closed = false;
  readonly iters: Set<NativeIter<V>> = new Set();

  /** A snapshot of core's log as it is now; with core null, a closed one over nothing (the
   * shape anchor at the end of this module). */
  constructor(core: LogCore<V> | null) {
    if (core === null) {
      this.core = null as unknown as LogCore<V>;
      this.ptr = null;
      this.closed = true;
      return;
    }
    core.assertOpen("take a snapshot");
    this.core = core;
    core.check(core.sym.tl_snapshot_acquire(core.ptr, core.cell), "take a snapshot");
    this.ptr = core.rt.readPointer(core.cell);
    core.pin();
    core.children.add(this);
  }

  get life(): { readonly closed: boolean } {
    return this;
  }

  assertOpen(action: string): void {
    if (this.closed) throw closedError("Snapshot", action);
  }

  snapshot(action: string): NativePointer {
    this.assertOpen(action);
    return this.ptr;
  }

  done(_snap: NativePointer): void {}

  readF64(lo: number, hi: number, ts: Float64Array, h: BigUint64Array, cap: number): number {
    const ptr = this.snapshot("read");
    return this.core.sym.tl_snapshot_read_f64(ptr, lo, hi, ts, h, cap, this.core.size);
  }

  readF64Ex(
    lo: number,
    hi: number,
    flags: number,
    ts: Float64Array,
    h: BigUint64Array,
    cap: number,
  ): number {
    const ptr = this.snapshot("read");
    return this.core.sym.tl_snapshot_read_ex_f64(ptr, lo, hi, flags, ts, h, cap, this.core.size);
  }

  countF64(lo: number, hi: number): number {
    const ptr = this.snapshot("count records");
    return this.core.sym.tl_snapshot_count_f64(ptr, lo, hi, this.core.f64);
  }

  asofF64(
    q: Float64Array,
    n: number,
    ts: Float64Array,
    h: BigUint64Array,
    found: Uint8Array,
  ): number {
    const ptr = this.snapshot("look up as of");
    return this.core.sym.tl_snapshot_asof_many_f64(ptr, q, n, ts, h, found);
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
    const ptr = this.snapshot("aggregate");
    return this.core.sym.tl_snapshot_aggregate_f64(ptr, lo, hi, start, every, nb, ops, out);
  }

  attach(iter: NativeIter<V>): void {
    this.iters.add(iter);
  }

  detach(iter: NativeIter<V>): void {
    this.iters.delete(iter);
  }

  close(): void {
    if (this.closed) return;
    for (const it of [...this.iters]) it.close("parent");
    this.closed = true;
    this.core.sym.tl_snapshot_release(this.ptr);
    this.ptr = null;
    this.core.children.delete(this);
    this.core.unpin();
  }
}

const snapFinalizer = new FinalizationRegistry<SnapState<unknown>>((state) => state.close());

/**
 * A read-only view of a {@link Timelog} as it was when taken, with the same read methods.
 * Later writes, deletes, flushes and compactions never change what it returns.
 *
 * @example
 * ```ts
 * import { Timelog } from "@timelog/timelog";
 * using log = new Timelog<string>();
 * log.append(1, "a");
 * using snap = log.snapshot();
 * log.append(2, "b");
 * console.log(snap.count(), log.count()); // 1 2
 * ```
 */
export class Snapshot<V, T extends Ts = number> extends SeriesReader<V, T> implements Disposable {
  /** @internal */
  protected readonly owner: SnapState<V>;

  /** @internal Use `Timelog.snapshot()`. */
  constructor(core: LogCore<V> | null) {
    super();
    this.owner = new SnapState(core);
    snapFinalizer.register(this, this.owner as SnapState<unknown>, this);
  }

  /** True once closed (by `close()`, `using`, or its log closing). */
  get closed(): boolean {
    return this.owner.closed;
  }

  /** Releases the snapshot and its open iterators; idempotent. */
  close(): void {
    snapFinalizer.unregister(this);
    this.owner.close();
  }

  /** Same as {@link Snapshot.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * @internal A closed Snapshot over nothing, alive as long as this module (exported so that the
 * module keeps the binding), for the reason of src/iter.ts's SHAPE_ANCHORS: a full collection
 * at a moment when no snapshot was alive dropped the shapes of Snapshot and SnapState, and with
 * them the compiled code of a caller that takes a snapshot per query (Deno; tests/jit_test.ts).
 */
export const SNAPSHOT_ANCHOR: object = new Snapshot<unknown>(null);
