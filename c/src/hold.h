/*
 * hold.h — reads that run on two threads hold background maintenance off while they run.
 *
 * On a machine with few cores, a read that starts a helper thread (tl_asof_many of
 * TL_ASOF_SPLIT_MIN queries or more) competes with the maintenance worker, which right after
 * an ingest is flushing, compacting and packing: three runnable threads on two cores. The
 * scheduler then parks one of the read's threads for a tick (4 ms here) in the middle of its
 * chunk, and the caller waits for it: the first as-of call after a 5M-record ingest took 11 ms
 * against 5.5-7 ms with the worker stopped (C, 2 cores). Lowering the worker's nice value did
 * not help (the read's threads still waited for the next tick), so maintenance steps aside on
 * its own: jobs call tl_hold_point between pages, which waits while a holding read runs.
 *
 * Bounded both ways: a pause lasts at most TL_HOLD_MAX_NS, and after a pause that reached
 * that bound the maintenance runs unpaused for as long again, so reads that never stop slow
 * maintenance down by half at most, never starve it (writers under backpressure wait for it).
 *
 * The same points serve the writer's asks: a small piece of work (the head's sort ahead of
 * the writer, headsort.h) that is useful only if done within a few write calls. Asked at the
 * top of the worker's round alone, it waited for whole jobs: on the bench data paced at 25
 * Mrec/s durable, the worker, busy with flushes, compactions and checkpoints, served 26 of
 * 109 asks, half of them milliseconds late, and the writer sorted the full head itself
 * (25-40 us in every tenth 4096-record call). Served at hold points, between pages, the ask
 * waits tens of microseconds while the worker runs; while it sleeps or is blocked, the
 * helper thread serves it (helper.h).
 */
#ifndef TL_HOLD_H
#define TL_HOLD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The longest pause of maintenance at one point (and the unpaused time owed after it). */
#define TL_HOLD_MAX_NS 20000000ull

typedef struct tl_hold {
    _Atomic uint32_t readers; /* holding reads running now (any thread) */
    uint64_t free_until_ns; /* maintenance's own (maint_mu): no pause before this time */
    /* The writer's ask, and who serves it: set before the worker first starts (serve NULL:
     * asks stay unserved). serve must take no lock that a job holds. */
    _Atomic bool asked;
    void (*serve)(void *ctx);
    void *ctx;
} tl_hold_t;

/* A read that wants every core starts (enter) and ends (leave) holding maintenance off. */
void tl_hold_enter(tl_hold_t *h);
void tl_hold_leave(tl_hold_t *h);

/* Called by maintenance jobs (under maint_mu) between pages: serves an ask (tl_hold_serve),
 * then returns at once unless a holding read runs; then waits until none does, or
 * TL_HOLD_MAX_NS. h may be NULL (never waits). */
void tl_hold_point(tl_hold_t *h);

/* The writer asks for h->serve to run soon (any thread; asks before it is served merge). */
void tl_hold_ask(tl_hold_t *h);
/* Runs h->serve once if asked since it last ran; one relaxed load when not. Any thread, any
 * number at once (one of them serves), no engine lock held but maint_mu. */
void tl_hold_serve(tl_hold_t *h);
/* tl_hold_serve as a helper thread's job (helper.h: job(ctx) with ctx the tl_hold_t). */
void tl_hold_serve_job(void *h);

#endif /* TL_HOLD_H */
