/*
 * helper.h — a background thread that sleeps until kicked, runs one job, and sleeps again.
 *
 * Two of them serve a log beside its maintenance worker (worker.c):
 *   - the writer's asks (hold.h). The worker serves an ask at its jobs' hold points, within
 *     tens of microseconds, as long as it runs; when it sleeps or is blocked, this thread
 *     serves it: a sort of a few hundred records every few write calls;
 *   - a durable log's checkpoints (durable/checkpoint.c). They block for milliseconds in
 *     fdatasync, rename and unlink calls (9 checkpoints took 160 of a 200 ms paced run's
 *     milliseconds), and on a disk that stalls, for tens of them. Run on the worker, they held
 *     the flushes behind them: sealed memtables reached sealed_max and the writer waited out
 *     its backpressure (the bench data, fdatasync stalling 30 ms one time in three: writes
 *     up to 20 ms, p99 / median 2.2-3.7). On their own thread the worker keeps flushing.
 * Both run under SCHED_BATCH (bgthread.h): a wake-up never takes the writer's core in the
 * middle of a write call. A kick while the job runs makes it run once more after. Started
 * and stopped with the worker; all calls are the owner thread's but tl_helper_kick (any).
 */
#ifndef TL_HELPER_H
#define TL_HELPER_H

#include <pthread.h>

#include "tl_common.h"

typedef struct tl_helper {
    void (*job)(void *ctx); /* what a kick runs */
    void *ctx;
    const char *name; /* the thread's (bgthread.h: 15 bytes at most) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kick, stop; /* mu */
    bool running; /* the owner thread's */
    pthread_t th;
} tl_helper_t;

/* Starts a thread named `name` that runs job(ctx) once per kick (a no-op when running).
 * EINTERNAL when the system refuses a mutex, condition or thread (nothing is left running). */
tl_status_t tl_helper_start(tl_helper_t *hp, const char *name, void (*job)(void *ctx),
                            void *ctx);
/* Wakes the thread to run its job (a no-op when not running; kicks before the job starts
 * merge). Any thread. */
void tl_helper_kick(tl_helper_t *hp);
/* Stops and joins the thread after the job in progress (a no-op when not running); a kick
 * not yet served is dropped. */
void tl_helper_stop(tl_helper_t *hp);

#endif /* TL_HELPER_H */
