/*
 * bgthread.h — what the engine's background threads (the maintenance worker, a durable log's
 * WAL syncer) do first: take a name, and (the worker) give way to the writer.
 */
#ifndef TL_BGTHREAD_H
#define TL_BGTHREAD_H

#include <stdbool.h>

/* Names the calling thread (Linux: up to 15 bytes, shown by `top -H`, `ps -L`, gdb) and, with
 * `batch` on Linux, moves it to SCHED_BATCH: same priority, but a wake-up never preempts the
 * thread that is running, so a woken background thread waits for a free core or the next tick
 * instead of taking the writer's core in the middle of a write call. Right for work the writer
 * does not wait for (the worker); wrong for work it does (the syncer: see dur.c). Failures
 * keep the defaults. */
void tl_bgthread_init(const char *name, bool batch);

#endif /* TL_BGTHREAD_H */
