/**
 * The doorbell: how records dropped by the engine reach JavaScript without ever making an
 * engine thread wait on the JS thread.
 *
 * The engine pushes dropped handles into a C-side queue (`tl_dropq_t`). The queue's own
 * notifier thread rings one process-wide thread-safe callback with the log's token, at most
 * once per empty→non-empty transition. The callback only schedules a drain; the log drains the
 * whole queue in one FFI call per 4096 handles, on the JS thread.
 *
 * Why this shape (research/ffi-limits.md §4): Deno's thread-safe callbacks block the calling C
 * thread until JS has run them, and closing one (or exiting) while a C thread is inside
 * crashes; Bun's return at once and are lost at exit. So the callback is created once and never
 * closed, it never keeps the process alive, and before the process exits every queue's
 * notifier is stopped — the exit waits while a ring is still being delivered.
 *
 * @module
 */
import type { NativePointer, NativeRuntime } from "./ffi/runtime.ts";

/** What a log registers to receive its doorbell. */
export interface DoorbellTarget {
  /** Drain the log's queue (runs on the JS thread, soon after a ring). */
  drain(): void;
  /** Stop the queue's notifier for process exit; true while a ring is still in flight. */
  stopForExit(): boolean;
}

const targets = new Map<number, DoorbellTarget>();
let pointer: NativePointer = null;
let nextToken = 1;
let exitHookInstalled = false;

function ring(token: number): void {
  const target = targets.get(token);
  if (target) queueMicrotask(() => target.drain());
}

/** Registers a log; returns its token and the callback pointer for tl_dropq_create. */
export function registerDoorbell(
  rt: NativeRuntime,
  target: DoorbellTarget,
): { token: number; pointer: NativePointer } {
  if (pointer === null) pointer = rt.threadSafeCallback(ring).pointer;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    rt.onBeforeExit(() => {
      let busy = false;
      for (const t of targets.values()) busy = t.stopForExit() || busy;
      return busy;
    });
  }
  const token = nextToken++;
  targets.set(token, target);
  return { token, pointer };
}

/** Forgets a log's token (after its queue is shut down). */
export function unregisterDoorbell(token: number): void {
  targets.delete(token);
}
