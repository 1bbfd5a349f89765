/*
 * maint_test.c — maintenance: manual steps, the background worker (flushes and compacts on
 * its own, keeps L0 bounded, start/stop idempotent, restart picks up pending work), bounded
 * write amplification (in-order ingest shares pages), backpressure in background mode, and
 * retry after failures with nothing lost.
 */
#include <stdatomic.h>
#include <time.h>

#include "test.h"
#include "timelog.h"

static tl_config_t base(int mode) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = mode;
    c.page_records = 64;
    c.memtable_records = 512;
    c.ooo_head_records = 32;
    c.l0_max = 2;
    c.window_size = 10000;
    c.maint_interval_ms = 1;
    return c;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

TL_TEST(test_manual_steps) {
    tl_config_t c = base(TL_MAINT_MANUAL);
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    CHECK_ST(tl_maint_step(tl), TL_EOF);
    for (int64_t i = 0; i < 2000; i++) CHECK_OK(tl_append(tl, i, 1) == TL_EBUSY ? 0 : 0);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK(s.sealed_memtables >= 3);
    CHECK_OK(tl_maint_step(tl)); /* flush */
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.sealed_memtables, 0);
    CHECK_EQ_U64(s.l0_segments, 1);
    CHECK_ST(tl_maint_step(tl), TL_EOF); /* one L0 < l0_max */
    CHECK_OK(tl_flush(tl));
    CHECK_OK(tl_maint_step(tl)); /* compaction: l0 == l0_max */
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.l0_segments, 0);
    CHECK_EQ_U64(s.records, 2000);
    CHECK_OK(tl_delete_range(tl, 0, 10));
    CHECK_OK(tl_maint_step(tl)); /* pending tombstone */
    CHECK_ST(tl_maint_step(tl), TL_EOF);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

TL_TEST(test_write_amplification_in_order) {
    tl_config_t c = base(TL_MAINT_MANUAL);
    c.window_size = 1000000;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    int64_t ts[640];
    uint64_t h[640];
    for (int b = 0; b < 100; b++) {
        for (int i = 0; i < 640; i++) {
            ts[i] = (int64_t)b * 640 + i;
            h[i] = 1;
        }
        tl_status_t st = tl_append_batch(tl, ts, h, 640, 0);
        CHECK(st == TL_OK || st == TL_EBUSY);
        CHECK_OK(tl_compact(tl));
    }
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.l1_segments, 1);
    /* 1000 pages of data compacted 100 times into one window: only boundary pages copied */
    CHECK(s.pages_rewritten_total <= 200);
    CHECK(s.pages_shared_total >= 1000);
    CHECK(s.bytes_data <= s.records * 18);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

TL_TEST(test_background_keeps_l0_bounded) {
    tl_config_t c = base(TL_MAINT_BACKGROUND);
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    CHECK_OK(tl_maint_start(tl)); /* idempotent */
    CHECK_ST(tl_maint_step(tl), TL_ESTATE);
    int64_t ts[256];
    uint64_t h[256];
    uint64_t n = 0;
    for (int b = 0; b < 400; b++) {
        for (int i = 0; i < 256; i++) {
            ts[i] = (int64_t)n - (i % 10 == 0 ? 100 : 0);
            h[i] = n++;
        }
        tl_status_t st = tl_append_batch(tl, ts, h, 256, 0);
        CHECK(st == TL_OK || st == TL_EBUSY);
    }
    tl_stats_t s;
    for (int tries = 0; tries < 2000; tries++) {
        CHECK_OK(tl_stats(tl, &s));
        if (s.sealed_memtables == 0 && s.l0_segments < c.l0_max) break;
        sleep_ms(1);
    }
    CHECK_EQ_U64(s.sealed_memtables, 0);
    CHECK(s.l0_segments < c.l0_max);
    CHECK(s.compactions_total > 0);
    CHECK_EQ_U64(s.records, n);
    CHECK_OK(tl_maint_stop(tl));
    CHECK_OK(tl_maint_stop(tl));
    CHECK_OK(tl_flush(tl)); /* synchronous in either mode */
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.sealed_memtables, 0);
    CHECK_OK(tl_maint_start(tl));
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.l0_segments, 0);
    CHECK_EQ_U64(s.records, n);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

TL_TEST(test_background_busy_is_accepted) {
    tl_config_t c = base(TL_MAINT_BACKGROUND);
    c.sealed_max = 1;
    c.busy_wait_ms = 0; /* never wait: EBUSY as soon as the queue is over */
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    CHECK_OK(tl_maint_stop(tl)); /* nobody drains: pressure builds */
    uint64_t busy = 0;
    for (int64_t i = 0; i < 5000; i++) {
        tl_status_t st = tl_append(tl, i, 1);
        CHECK(st == TL_OK || st == TL_EBUSY);
        busy += st == TL_EBUSY;
    }
    CHECK(busy > 0);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.records, 5000);
    CHECK_EQ_U64(s.busy_total, busy);
    CHECK_OK(tl_maint_start(tl)); /* the worker picks up the backlog */
    for (int tries = 0; tries < 2000; tries++) {
        CHECK_OK(tl_stats(tl, &s));
        if (s.sealed_memtables == 0) break;
        sleep_ms(1);
    }
    CHECK_EQ_U64(s.sealed_memtables, 0);
    tl_close(tl);
}

/* Allocator failing every other call for a while: the worker must retry and lose nothing. */
typedef struct flaky {
    _Atomic int fail;
    _Atomic unsigned long n;
} flaky_t;

static void *fl_alloc(void *ctx, size_t size) {
    flaky_t *f = ctx;
    unsigned long k = atomic_fetch_add(&f->n, 1);
    if (atomic_load(&f->fail) && (k % 3) == 0) return NULL;
    return malloc(size);
}

static void fl_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

TL_TEST(test_worker_retries_after_failures) {
    flaky_t f;
    atomic_init(&f.fail, 0);
    atomic_init(&f.n, 0);
    tl_config_t c = base(TL_MAINT_BACKGROUND);
    c.allocator = (tl_allocator_t){&f, fl_alloc, fl_free};
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    uint64_t n = 0;
    for (int64_t i = 0; i < 3000; i++) {
        atomic_store(&f.fail, 0);
        tl_status_t st = tl_append(tl, i, 1);
        CHECK(st == TL_OK || st == TL_EBUSY);
        n++;
        atomic_store(&f.fail, 1);
        if (i % 500 == 0) sleep_ms(2);
    }
    sleep_ms(30);
    atomic_store(&f.fail, 0);
    tl_stats_t s;
    for (int tries = 0; tries < 3000; tries++) {
        CHECK_OK(tl_stats(tl, &s));
        if (s.sealed_memtables == 0) break;
        sleep_ms(1);
    }
    CHECK_EQ_U64(s.records, n);
    CHECK_EQ_U64(s.sealed_memtables, 0);
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.records, n);
    tl_close(tl);
}

int main(void) {
    RUN(test_manual_steps);
    RUN(test_write_amplification_in_order);
    RUN(test_background_keeps_l0_bounded);
    RUN(test_background_busy_is_accepted);
    RUN(test_worker_retries_after_failures);
    return tl_test_done("maint_test");
}
