/*
 * helper.h — a thread that answers the writer's asks (hold.h) when the maintenance worker
 * cannot.
 *
 * The worker serves an ask at its jobs' hold points, within tens of microseconds, as long as
 * it runs. In a durable log's checkpoint it spends milliseconds blocked in fdatasync, rename
 * and unlink calls instead (9 checkpoints took 160 of a 200 ms paced run's milliseconds, and
 * 80 of 361 asks waited over 300 us, most of them there). The helper sleeps until the writer
 * asks, serves the ask if nobody has yet, and sleeps again: a sort of a few hundred records
 * every few write calls. It runs under SCHED_BATCH (bgthread.h): its wake-up never takes the
 * writer's core in the middle of a write call, so it runs on a free core (the one the
 * blocked worker left) or at the next tick, when the worker's hold points serve first.
 * Started and stopped with the worker (worker.c); all calls are the owner thread's.
 */
#ifndef TL_HELPER_H
#define TL_HELPER_H

#include <pthread.h>

#include "hold.h"
#include "tl_common.h"

typedef struct tl_helper {
    tl_hold_t *hold; /* whose asks it serves */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kick, stop; /* mu */
    bool running; /* the owner thread's */
    pthread_t th;
} tl_helper_t;

/* Starts the thread serving h's asks (a no-op when running). EINTERNAL when the system
 * refuses a mutex, condition or thread (nothing is left running). */
tl_status_t tl_helper_start(tl_helper_t *hp, tl_hold_t *h);
/* Wakes the thread to serve an ask made before (a no-op when not running). */
void tl_helper_kick(tl_helper_t *hp);
/* Stops and joins the thread (a no-op when not running); an ask left is served by the worker
 * or never (a missed shortcut). */
void tl_helper_stop(tl_helper_t *hp);

#endif /* TL_HELPER_H */
