/*
 * hold_test.c — reads on two threads hold maintenance off (hold.h): a hold point returns at
 * once when no read holds, waits while one does, gives up after TL_HOLD_MAX_NS and then owes
 * maintenance as long unpaused; maintenance jobs really pause at such points; and an as-of
 * call long enough for two threads takes its hold and gives it back, on success and error.
 * The writer's asks: served once at the next hold point however often asked, never without
 * a server, by the jobs' own hold points, and by the helper thread when woken.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "helper.h"
#include "hold.h"
#include "test.h"
#include "timelog_int.h"

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
    struct timespec t = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&t, NULL);
}

TL_TEST(test_no_reader_no_wait) {
    tl_hold_t h;
    memset(&h, 0, sizeof h);
    uint64_t t0 = now_ns();
    for (int i = 0; i < 1000; i++) tl_hold_point(&h);
    tl_hold_point(NULL);
    CHECK(now_ns() - t0 < TL_HOLD_MAX_NS); /* a thousand points, none waited its bound */
    CHECK_EQ_U64(h.free_until_ns, 0);
}

#define LEAVE_AFTER_NS 3000000ull

static void *leave_later(void *arg) {
    sleep_ns(LEAVE_AFTER_NS);
    tl_hold_leave(arg);
    return NULL;
}

TL_TEST(test_waits_while_a_reader_holds) {
    tl_hold_t h;
    memset(&h, 0, sizeof h);
    tl_hold_enter(&h);
    uint64_t t0 = now_ns();
    pthread_t th;
    CHECK(pthread_create(&th, NULL, leave_later, &h) == 0);
    tl_hold_point(&h);
    uint64_t waited = now_ns() - t0;
    pthread_join(th, NULL);
    CHECK(waited >= LEAVE_AFTER_NS); /* it returned only once the reader had left... */
    /* ...and not by giving up, unless the machine stalled the reader past the bound */
    CHECK(h.free_until_ns == 0 || waited >= TL_HOLD_MAX_NS);
    CHECK_EQ_U64(atomic_load(&h.readers), 0);
}

TL_TEST(test_bounded_then_owed) {
    tl_hold_t h;
    memset(&h, 0, sizeof h);
    tl_hold_enter(&h); /* a reader that never leaves */
    uint64_t t0 = now_ns();
    tl_hold_point(&h);
    uint64_t t1 = now_ns();
    CHECK(t1 - t0 >= TL_HOLD_MAX_NS);
    CHECK(h.free_until_ns >= t0 + 2 * TL_HOLD_MAX_NS); /* owed as long again after the wait */
    uint64_t owed = h.free_until_ns;
    if (now_ns() < owed) { /* still owed (the machine did not stall 20 ms meanwhile) */
        tl_hold_point(&h);
        CHECK_EQ_U64(h.free_until_ns, owed); /* returned at once: no second wait recorded */
    }
    tl_hold_leave(&h);
}

static tl_timelog_t *filled(int64_t n) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.value_kind = TL_VALUES_F64;
    c.page_records = 256;
    tl_timelog_t *tl = NULL;
    if (tl_open(&c, &tl) != TL_OK) return NULL;
    for (int64_t i = 0; i < n; i++) {
        double v = (double)i;
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        int64_t ts = i % 7 == 0 ? i / 2 : i; /* some late records: compaction merges */
        if (tl_append(tl, ts, bits) == TL_EBUSY && tl_flush(tl) != TL_OK) {
            tl_close(tl);
            return NULL;
        }
    }
    return tl;
}

/* A compaction run while a read holds waits at its hold points: at least the bound. */
TL_TEST(test_jobs_pause_at_hold_points) {
    tl_timelog_t *tl = filled(20000);
    CHECK(tl != NULL);
    CHECK_OK(tl_flush(tl));
    tl_hold_enter(&tl->hold);
    uint64_t t0 = now_ns();
    CHECK_OK(tl_compact(tl));
    uint64_t took = now_ns() - t0;
    tl_hold_leave(&tl->hold);
    CHECK(took >= TL_HOLD_MAX_NS);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.records, 20000);
    CHECK_EQ_U64(s.l0_segments, 0);
    tl_close(tl);
}

#define QUERIES 40000u

TL_TEST(test_asof_takes_and_gives_back_its_hold) {
    tl_timelog_t *tl = filled(50000);
    CHECK(tl != NULL);
    static double q[QUERIES], ts_out[QUERIES];
    static uint64_t h_out[QUERIES];
    static uint8_t found[QUERIES];
    for (uint32_t i = 0; i < QUERIES; i++) q[i] = (double)((i * 7919u) % 60000u);
    CHECK_OK(tl_asof_many_f64(tl, q, QUERIES, ts_out, h_out, found));
    CHECK_EQ_U64(atomic_load(&tl->hold.readers), 0);
    for (uint32_t i = 0; i < QUERIES; i++) { /* the newest record at or before q: ts <= q */
        CHECK(found[i]);
        CHECK(ts_out[i] <= q[i]);
    }
    q[QUERIES / 2] = NAN; /* a bad query: the call fails and still gives its hold back */
    CHECK_ST(tl_asof_many_f64(tl, q, QUERIES, ts_out, h_out, found), TL_EINVAL);
    CHECK_EQ_U64(atomic_load(&tl->hold.readers), 0);
    tl_close(tl);
}

static void count_serve(void *ctx) { (*(int *)ctx)++; }

TL_TEST(test_asks_are_served_once) {
    int served = 0;
    tl_hold_t h;
    memset(&h, 0, sizeof h);
    tl_hold_point(&h);
    tl_hold_ask(&h); /* nobody serves yet: the ask waits */
    tl_hold_serve(&h);
    tl_hold_point(&h);
    CHECK(atomic_load(&h.asked));
    h.ctx = &served;
    h.serve = count_serve;
    tl_hold_ask(&h); /* asks before a serve merge into one */
    tl_hold_point(&h);
    CHECK_EQ_U64(served, 1);
    tl_hold_point(&h);
    tl_hold_serve(&h);
    CHECK_EQ_U64(served, 1); /* not asked again: not served again */
    tl_hold_ask(&h);
    tl_hold_serve(&h);
    CHECK_EQ_U64(served, 2);
    CHECK(!atomic_load(&h.asked));
}

/* A compaction (manual mode: on this thread) serves an ask made before it at its hold
 * points, the way the worker serves the writer's while it compacts. */
TL_TEST(test_jobs_serve_asks) {
    tl_timelog_t *tl = filled(20000);
    CHECK(tl != NULL);
    CHECK_OK(tl_flush(tl));
    int served = 0;
    tl->hold.ctx = &served;
    tl->hold.serve = count_serve;
    tl_hold_ask(&tl->hold);
    CHECK_OK(tl_compact(tl));
    CHECK_EQ_U64(served, 1);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.records, 20000);
    tl_close(tl);
}

static void count_serve_atomic(void *ctx) { atomic_fetch_add((_Atomic int *)ctx, 1); }

/* Waits up to 2 s for *n to reach want. */
static bool reaches(_Atomic int *n, int want) {
    for (int i = 0; i < 2000 && atomic_load(n) < want; i++) sleep_ns(1000000);
    return atomic_load(n) >= want;
}

/* The helper thread (helper.h) serves each ask it is woken for, once; stopped, it serves
 * nothing and a kick is harmless; start and stop are idempotent. */
TL_TEST(test_helper_serves_asks) {
    _Atomic int served = 0;
    tl_hold_t h;
    memset(&h, 0, sizeof h);
    h.ctx = &served;
    h.serve = count_serve_atomic;
    tl_helper_t hp;
    memset(&hp, 0, sizeof hp);
    tl_helper_kick(&hp); /* not running: nothing */
    CHECK_OK(tl_helper_start(&hp, "tl-helper", tl_hold_serve_job, &h));
    CHECK_OK(tl_helper_start(&hp, "tl-helper", tl_hold_serve_job, &h));
    tl_hold_ask(&h);
    tl_helper_kick(&hp);
    CHECK(reaches(&served, 1));
    tl_helper_kick(&hp); /* woken without an ask: serves nothing */
    tl_hold_ask(&h);
    tl_helper_kick(&hp);
    CHECK(reaches(&served, 2));
    sleep_ns(20000000);
    CHECK_EQ_U64(atomic_load(&served), 2);
    tl_helper_stop(&hp);
    tl_helper_stop(&hp);
    tl_hold_ask(&h);
    tl_helper_kick(&hp);
    sleep_ns(20000000);
    CHECK_EQ_U64(atomic_load(&served), 2); /* stopped: the ask waits */
    CHECK(atomic_load(&h.asked));
}

int main(void) {
    RUN(test_no_reader_no_wait);
    RUN(test_waits_while_a_reader_holds);
    RUN(test_bounded_then_owed);
    RUN(test_jobs_pause_at_hold_points);
    RUN(test_asof_takes_and_gives_back_its_hold);
    RUN(test_asks_are_served_once);
    RUN(test_jobs_serve_asks);
    RUN(test_helper_serves_asks);
    return tl_test_done("hold_test");
}
