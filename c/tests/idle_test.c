/*
 * idle_test.c — idle maintenance: when writes pause for idle_ms, the background worker brings
 * the log to the shape tl_compact leaves (memtable sealed and flushed, L0 compacted into L1,
 * tombstones applied) on its own, once per quiet period; it never loses or duplicates a
 * record, even when writes resume while it seals (the writer-section handshake); idle_ms = 0
 * and manual mode leave the log alone. Run under TSan too (c/tests/sanitize.sh).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "test.h"
#include "timelog.h"

static tl_config_t idle_cfg(uint32_t idle_ms) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.page_records = 64;
    c.memtable_records = 4096; /* larger than any test's burst: only idle seals */
    c.ooo_head_records = 32;
    c.window_size = 5000;
    c.maint_interval_ms = 1000; /* the regular rounds stay out of the way */
    c.idle_ms = idle_ms;
    return c;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Polls stats until idle_jobs_total reaches `want` (up to ~5 s); the last stats in *s. */
static bool wait_idle(tl_timelog_t *tl, uint64_t want, tl_stats_t *s) {
    for (int i = 0; i < 500; i++) {
        if (tl_stats(tl, s) == TL_OK && s->idle_jobs_total >= want) return true;
        sleep_ms(10);
    }
    return false;
}

/* Scans everything: count, sum of handles, sortedness. */
static void scan(tl_timelog_t *tl, uint64_t *n, uint64_t *sum, bool *sorted) {
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    *n = *sum = 0;
    *sorted = true;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return;
    if (tl_iter_since(s, INT64_MIN, &it) == TL_OK) {
        int64_t ts[256], prev = INT64_MIN;
        uint64_t h[256];
        size_t k = 0;
        while (tl_iter_next_batch(it, ts, h, 256, &k) == TL_OK) {
            for (size_t i = 0; i < k; i++) {
                if (ts[i] < prev) *sorted = false;
                prev = ts[i];
                *sum += h[i];
            }
            *n += k;
        }
        tl_iter_destroy(it);
    }
    tl_snapshot_release(s);
}

TL_TEST(test_idle_brings_compact_shape) {
    tl_config_t c = idle_cfg(30);
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    uint64_t sum = 0, n = 0;
    for (int64_t i = 0; i < 3000; i++) {
        int64_t ts = i % 10 == 7 ? i - 500 : i; /* 10% late */
        CHECK_OK(tl_append(tl, ts, (uint64_t)i + 1));
        if (ts >= 100) sum += (uint64_t)i + 1, n++;
    }
    CHECK_OK(tl_delete_before(tl, 100));
    tl_stats_t s;
    CHECK(wait_idle(tl, 1, &s));
    CHECK_EQ_U64(s.memtable_records, 0);
    CHECK_EQ_U64(s.sealed_memtables, 0);
    CHECK_EQ_U64(s.l0_segments, 0);
    CHECK_EQ_U64(s.tombstones, 0); /* applied, then collected */
    CHECK(s.l1_segments >= 1);
    CHECK_EQ_U64(s.records, n);
    CHECK_EQ_U64(s.records_stored, n);
    uint64_t got_n, got_sum;
    bool sorted;
    scan(tl, &got_n, &got_sum, &sorted);
    CHECK_EQ_U64(got_n, n);
    CHECK_EQ_U64(got_sum, sum);
    CHECK(sorted);
    CHECK_OK(tl_validate(tl));
    /* Once per quiet period: nothing more happens while nothing is written... */
    sleep_ms(150);
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.idle_jobs_total, 1);
    /* ...and a write re-arms it. */
    CHECK_OK(tl_append(tl, 10, 7));
    CHECK(wait_idle(tl, 2, &s));
    CHECK_EQ_U64(s.memtable_records, 0);
    CHECK_EQ_U64(s.records, n + 1);
    tl_close(tl);
}

TL_TEST(test_idle_off_leaves_the_log_alone) {
    for (int mode = 0; mode < 2; mode++) {
        tl_config_t c = idle_cfg(mode == 0 ? 0 : 20);
        if (mode == 1) c.maintenance = TL_MAINT_MANUAL;
        tl_timelog_t *tl = NULL;
        CHECK_OK(tl_open(&c, &tl));
        for (int64_t i = 0; i < 500; i++) CHECK_OK(tl_append(tl, i, 1));
        sleep_ms(150);
        tl_stats_t s;
        CHECK_OK(tl_stats(tl, &s));
        CHECK_EQ_U64(s.idle_jobs_total, 0);
        CHECK_EQ_U64(s.memtable_records, 500);
        tl_close(tl);
    }
}

typedef struct race {
    tl_timelog_t *tl;
    atomic_bool stop;
    atomic_int bad;
    atomic_long snaps;
} race_t;

/* Takes snapshots while the writer and the idle seals race: each must be sorted and hold
 * what its count says. */
static void *reader(void *arg) {
    race_t *r = arg;
    while (!atomic_load(&r->stop)) {
        tl_snapshot_t *s = NULL;
        if (tl_snapshot_acquire(r->tl, &s) != TL_OK) continue;
        uint64_t cnt = 0, seen = 0;
        tl_iter_t *it = NULL;
        (void)tl_snapshot_count(s, INT64_MIN, INT64_MAX, &cnt);
        if (tl_iter_since(s, INT64_MIN, &it) == TL_OK) {
            int64_t ts[128], prev = INT64_MIN;
            size_t k = 0;
            while (tl_iter_next_batch(it, ts, NULL, 128, &k) == TL_OK) {
                for (size_t i = 0; i < k; i++) {
                    if (ts[i] < prev) atomic_fetch_add(&r->bad, 1);
                    prev = ts[i];
                }
                seen += k;
            }
            tl_iter_destroy(it);
        }
        if (seen != cnt) atomic_fetch_add(&r->bad, 1);
        tl_snapshot_release(s);
        atomic_fetch_add(&r->snaps, 1);
    }
    return NULL;
}

TL_TEST(test_idle_seal_races_writes) {
    tl_config_t c = idle_cfg(1);
    c.maint_interval_ms = 1;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    race_t r = {.tl = tl};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, reader, &r) == 0);
    tl_t_rng = 0x1d1e5eedULL;
    uint64_t n = 0, sum = 0, id = 0;
    int64_t t = 0;
    int64_t bts[200];
    uint64_t bh[200];
    /* At least 400 rounds, and on until the idle seal has raced them ten times: a loaded
     * machine runs the worker (SCHED_BATCH, no wake-up preemption) less promptly. */
    tl_stats_t s;
    for (int round = 0; round < 4000; round++) {
        if (round >= 400 && tl_stats(tl, &s) == TL_OK && s.idle_jobs_total >= 10) break;
        uint32_t burst = 1 + (uint32_t)(tl_t_rnd() % 200);
        bool batch = tl_t_rnd() % 2;
        for (uint32_t i = 0; i < burst; i++) {
            t += (int64_t)(tl_t_rnd() % 3);
            bts[i] = tl_t_rnd() % 8 == 0 ? t - (int64_t)(tl_t_rnd() % 300) : t;
            bh[i] = ++id;
            sum += id;
            if (!batch) {
                tl_status_t st = tl_append(tl, bts[i], bh[i]);
                CHECK(st == TL_OK || st == TL_EBUSY);
            }
        }
        if (batch) {
            tl_status_t st = tl_append_batch(tl, bts, bh, burst, 0);
            CHECK(st == TL_OK || st == TL_EBUSY);
        }
        n += burst;
        /* Pauses around idle_ms, so idle seals start just before, during and after writes. */
        struct timespec pause = {0, (long)(tl_t_rnd() % 3000) * 1000L};
        nanosleep(&pause, NULL);
    }
    sleep_ms(50);
    atomic_store(&r.stop, true);
    pthread_join(th, NULL);
    CHECK_EQ_I64(atomic_load(&r.bad), 0);
    CHECK(atomic_load(&r.snaps) > 0);
    CHECK(wait_idle(tl, 1, &s));
    CHECK(s.idle_jobs_total >= 10); /* the race was really run, many times */
    uint64_t got_n, got_sum;
    bool sorted;
    scan(tl, &got_n, &got_sum, &sorted);
    CHECK_EQ_U64(got_n, n);
    CHECK_EQ_U64(got_sum, sum);
    CHECK(sorted);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

int main(void) {
    RUN(test_idle_brings_compact_shape);
    RUN(test_idle_off_leaves_the_log_alone);
    RUN(test_idle_seal_races_writes);
    return tl_test_done("idle_test");
}
