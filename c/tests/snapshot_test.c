/*
 * snapshot_test.c — snapshot isolation across writes, seals, deletes, flush and compaction;
 * O(1) acquisition whatever the memtable size; close with live snapshots; a reader thread
 * taking snapshots while the writer and the background worker run (for TSan).
 */
#include <pthread.h>
#include <time.h>

#include "test.h"
#include "timelog.h"

static tl_timelog_t *open_log(int mode) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = mode;
    c.page_records = 64;
    c.memtable_records = 1000;
    c.ooo_head_records = 32;
    c.window_size = 500;
    c.maint_interval_ms = 1;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

/* Scans s and returns the count; checks sortedness; sums handles into *sum. */
static uint64_t scan(tl_snapshot_t *s, uint64_t *sum, int *sorted) {
    tl_iter_t *it = NULL;
    if (tl_iter_since(s, INT64_MIN, &it) != TL_OK) return UINT64_MAX;
    int64_t ts[100];
    uint64_t h[100];
    size_t got = 0;
    uint64_t n = 0;
    int64_t prev = INT64_MIN;
    *sum = 0;
    *sorted = 1;
    while (tl_iter_next_batch(it, ts, h, 100, &got) == TL_OK) {
        for (size_t i = 0; i < got; i++) {
            if (ts[i] < prev) *sorted = 0;
            prev = ts[i];
            *sum += h[i];
        }
        n += got;
    }
    tl_iter_destroy(it);
    return n;
}

TL_TEST(test_isolation) {
    tl_timelog_t *tl = open_log(TL_MAINT_MANUAL);
    CHECK(tl != NULL);
    tl_snapshot_t *snaps[6] = {0};
    uint64_t want_n[6], want_sum[6], sum = 0, n = 0;
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 700; i++) {
            int64_t t = (int64_t)(n * 3 % 2000) - (i % 5 == 0 ? 40 : 0);
            CHECK_OK(tl_append(tl, t, n + 1));
            sum += n + 1;
            n++;
        }
        CHECK_OK(tl_snapshot_acquire(tl, &snaps[round]));
        want_n[round] = n;
        want_sum[round] = sum;
        if (round == 1) CHECK_OK(tl_flush(tl));
        if (round == 3) CHECK_OK(tl_compact(tl));
    }
    CHECK_OK(tl_delete_range(tl, 0, 1000));
    CHECK_OK(tl_compact(tl));
    for (int r = 0; r < 6; r++) {
        uint64_t s = 0, c = 0;
        int sorted = 0;
        CHECK_EQ_U64(scan(snaps[r], &s, &sorted), want_n[r]);
        CHECK(sorted);
        CHECK_EQ_U64(s, want_sum[r]);
        CHECK_OK(tl_snapshot_count(snaps[r], INT64_MIN, INT64_MAX, &c));
        CHECK_EQ_U64(c, want_n[r]);
        tl_stats_t st;
        CHECK_OK(tl_snapshot_stats(snaps[r], &st));
        CHECK_EQ_U64(st.records, want_n[r]);
    }
    tl_close(tl); /* snapshots outlive the log */
    tl_snapshot_t *s2 = NULL;
    for (int r = 0; r < 6; r++) {
        uint64_t s = 0;
        int sorted = 0;
        CHECK_EQ_U64(scan(snaps[r], &s, &sorted), want_n[r]);
        tl_snapshot_release(snaps[r]);
    }
    (void)s2;
}

TL_TEST(test_acquire_is_constant_time) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.memtable_records = 1u << 20;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    static int64_t ts[4096];
    static uint64_t h[4096];
    for (int b = 0; b < 200; b++) { /* ~800 K records in the memtable */
        for (int i = 0; i < 4096; i++) {
            ts[i] = (int64_t)b * 4096 + i - (i % 20 == 0 ? 300 : 0);
            h[i] = (uint64_t)i;
        }
        CHECK_OK(tl_append_batch(tl, ts, h, 4096, 0));
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++) {
        tl_snapshot_t *s = NULL;
        CHECK_OK(tl_append(tl, INT64_MAX, 1));
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        tl_snapshot_release(s);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3;
    CHECK(us / 1000 < 50.0); /* generous: sanitizers and a shared VM; ~0.1 us optimized */
    tl_close(tl);
}

TL_TEST(test_acquire_after_close_and_misuse) {
    tl_timelog_t *tl = open_log(TL_MAINT_MANUAL);
    CHECK(tl != NULL);
    tl_snapshot_t *s = NULL, *s2 = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    tl_close(tl);
    CHECK_ST(tl_snapshot_acquire(tl, &s2), TL_ESTATE); /* struct alive: s pins it */
    CHECK_ST(tl_snapshot_acquire(NULL, &s2), TL_EINVAL);
    CHECK_ST(tl_snapshot_count(NULL, 0, 1, NULL), TL_EINVAL);
    tl_snapshot_release(s);
    tl_snapshot_release(NULL);
}

typedef struct reader {
    tl_timelog_t *tl;
    _Atomic int stop;
    int errors;
    uint64_t rounds;
} reader_t;

static void *reader_main(void *arg) {
    reader_t *r = arg;
    while (!r->stop) {
        tl_snapshot_t *s = NULL;
        if (tl_snapshot_acquire(r->tl, &s) != TL_OK) {
            r->errors++;
            break;
        }
        uint64_t sum = 0, c = 0;
        int sorted = 0;
        uint64_t n = scan(s, &sum, &sorted);
        tl_snapshot_count(s, INT64_MIN, INT64_MAX, &c);
        if (!sorted || n != c || n % 100 != 0) r->errors++; /* batches of 100 are atomic */
        tl_snapshot_release(s);
        r->rounds++;
    }
    return NULL;
}

TL_TEST(test_concurrent_reader_background) {
    tl_timelog_t *tl = open_log(TL_MAINT_BACKGROUND);
    CHECK(tl != NULL);
    reader_t r = {tl, 0, 0, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, reader_main, &r) == 0);
    int64_t ts[100];
    uint64_t h[100];
    uint64_t x = 7;
    for (int b = 0; b < 300; b++) {
        for (int i = 0; i < 100; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ts[i] = (int64_t)b * 100 + i - (int64_t)((x >> 33) % 8 == 0 ? (x >> 40) % 300 : 0);
            h[i] = 1;
        }
        tl_status_t st = tl_append_batch(tl, ts, h, 100, 0);
        CHECK(st == TL_OK || st == TL_EBUSY);
    }
    r.stop = 1;
    pthread_join(th, NULL);
    CHECK_EQ_U64(r.errors, 0);
    CHECK(r.rounds > 0);
    CHECK_OK(tl_compact(tl));
    tl_stats_t st;
    CHECK_OK(tl_stats(tl, &st));
    CHECK_EQ_U64(st.records, 30000);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

int main(void) {
    RUN(test_isolation);
    RUN(test_acquire_is_constant_time);
    RUN(test_acquire_after_close_and_misuse);
    RUN(test_concurrent_reader_background);
    return tl_test_done("snapshot_test");
}
