/**
 * `sync()` of durable logs: promises that settle when the engine's durable sequence number
 * reaches their target, woken by the log's doorbell — never by polling, never by blocking the
 * event loop.
 *
 * `tl_sync_request` returns the target (the seq of the last write call) and starts a sync on
 * the engine's syncer thread; when the durable seq reaches the highest requested target, or
 * the log fails, the engine rings the drop queue's doorbell (src/drops.ts), and the log
 * settles its waiters on the JS thread from `tl_durable_seq`. While a waiter is pending, one
 * idle timer keeps the event loop alive: neither runtime's thread-safe callback does (Deno's
 * is unref'd, Bun's cannot be ref'd), so a script awaiting `sync()` would otherwise exit
 * before the bell. The timer never fires in practice and is cleared with the last waiter.
 *
 * @module
 */
import { TimelogError } from "./errors.ts";

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (err: TimelogError) => void;
}

/** The idle timer's period: long enough never to matter (about 12 days). */
const KEEP_ALIVE_MS = 2 ** 30;

/** Pending `sync()` promises of one log, in request order (targets never decrease). */
export class SyncWaiters {
  #waiters: Waiter[] = [];
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  /** Pending waiters. */
  get size(): number {
    return this.#waiters.length;
  }

  /** A promise that settles once the durable seq reaches `target`. */
  wait(target: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ target, resolve, reject });
      this.#keepAlive ??= setInterval(() => {}, KEEP_ALIVE_MS);
    });
  }

  /**
   * Resolves every waiter whose target is at or below `durable`. The others are rejected with
   * `failure` when it is given (the log failed: they will never be reached) and stay pending
   * otherwise.
   */
  settle(durable: number, failure?: TimelogError): void {
    const done = this.#waiters;
    let kept = 0;
    for (const w of done) {
      if (w.target <= durable) w.resolve();
      else if (failure !== undefined) w.reject(failure);
      else done[kept++] = w;
    }
    done.length = kept;
    if (kept === 0 && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }
}
