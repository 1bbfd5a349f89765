/*
 * hold.c — maintenance steps aside while a read runs on two threads, and serves the writer's
 * asks (see hold.h).
 */
#include "hold.h"

#include <time.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void tl_hold_enter(tl_hold_t *h) {
    atomic_fetch_add_explicit(&h->readers, 1, memory_order_relaxed);
}

void tl_hold_leave(tl_hold_t *h) {
    atomic_fetch_sub_explicit(&h->readers, 1, memory_order_relaxed);
}

void tl_hold_ask(tl_hold_t *h) { atomic_store_explicit(&h->asked, true, memory_order_release); }

void tl_hold_serve(tl_hold_t *h) {
    if (h->serve == NULL || !atomic_load_explicit(&h->asked, memory_order_relaxed)) return;
    if (atomic_exchange_explicit(&h->asked, false, memory_order_acq_rel)) h->serve(h->ctx);
}

void tl_hold_serve_job(void *h) { tl_hold_serve(h); }

void tl_hold_point(tl_hold_t *h) {
    if (h == NULL) return;
    tl_hold_serve(h);
    /* The common case, between every two pages of a job: two relaxed loads. */
    if (atomic_load_explicit(&h->readers, memory_order_relaxed) == 0) return;
    uint64_t t0 = now_ns();
    if (t0 < h->free_until_ns) return;
    /* Sleeping (not spinning) is the point: the core goes to the read's threads. A read
     * holding it takes milliseconds, so 50 us steps cost it nothing noticeable. */
    const struct timespec step = {0, 50000};
    while (atomic_load_explicit(&h->readers, memory_order_relaxed) > 0) {
        uint64_t t = now_ns();
        if (t - t0 >= TL_HOLD_MAX_NS) {
            h->free_until_ns = t + TL_HOLD_MAX_NS;
            return;
        }
        nanosleep(&step, NULL);
    }
}
