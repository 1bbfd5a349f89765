/*
 * snapshot_test.c — snapshot isolation across writes, seals, deletes, flush and compaction;
 * O(1) acquisition whatever the memtable size; close with live snapshots; a reader thread
 * taking snapshots while the writer and the background worker run (for TSan).
 */
#include <pthread.h>
#include <stdatomic.h>
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

/* ---- the head's shared sorted view, and iterator block reuse ---- */

enum { HC_MAX = 600 };
typedef struct hc_model {
    int64_t ts[HC_MAX + 400];
    uint64_t h[HC_MAX + 400];
    uint32_t n;
} hc_model_t;

/* Checks a full scan of s against the model's first n records, stably sorted by ts. */
static int hc_check(tl_snapshot_t *s, const hc_model_t *m, uint32_t n) {
    static int64_t wts[HC_MAX + 400];
    static uint64_t wh[HC_MAX + 400];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) { /* insertion sort: stable */
        uint32_t j = k++;
        while (j > 0 && wts[j - 1] > m->ts[i]) {
            wts[j] = wts[j - 1];
            wh[j] = wh[j - 1];
            j--;
        }
        wts[j] = m->ts[i];
        wh[j] = m->h[i];
    }
    tl_iter_t *it = NULL;
    if (tl_iter_since(s, INT64_MIN, &it) != TL_OK) return 0;
    int64_t ts[37];
    uint64_t h[37];
    size_t got = 0;
    uint32_t pos = 0;
    int ok = 1;
    while (tl_iter_next_batch(it, ts, h, 37, &got) == TL_OK) {
        for (size_t i = 0; i < got; i++, pos++) {
            if (pos >= n || ts[i] != wts[pos] || h[i] != wh[pos]) ok = 0;
        }
    }
    tl_iter_destroy(it);
    uint64_t c = 0;
    if (tl_snapshot_count(s, INT64_MIN, INT64_MAX, &c) != TL_OK || c != n) ok = 0;
    return ok && pos == n;
}

/* Snapshots pinning different head counts: equal counts share the cached sort, newer counts
 * extend it (sort the new records, merge after the old ones: ties stay in insertion order),
 * older counts sort privately. Every view must match the stable sort of its own prefix. */
TL_TEST(test_head_sorted_cache) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.ooo_head_records = 512;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    static hc_model_t m;
    m.n = 0;
    for (uint32_t i = 0; i < 100; i++) { /* in order: the active part */
        m.ts[m.n] = 1000 + (int64_t)i * 2;
        m.h[m.n] = m.n + 1;
        CHECK_OK(tl_append(tl, m.ts[m.n], m.h[m.n]));
        m.n++;
    }
    tl_snapshot_t *snaps[16] = {0};
    uint32_t at[16];
    uint64_t x = 99;
    for (int k = 0; k < 16; k++) {
        uint32_t add = (uint32_t)(k % 4 == 3 ? 0 : 1 + k * 7 % 40);
        for (uint32_t i = 0; i < add; i++) { /* out of order, heavy duplicates (and ties with
                                                the active part) */
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            m.ts[m.n] = 1000 + (int64_t)((x >> 33) % 60) * 2;
            m.h[m.n] = m.n + 1;
            CHECK_OK(tl_append(tl, m.ts[m.n], m.h[m.n]));
            m.n++;
        }
        CHECK_OK(tl_snapshot_acquire(tl, &snaps[k]));
        at[k] = m.n;
        /* Read in a shuffled order: older snapshots after newer ones were cached. */
        if (k % 3 == 2) CHECK(hc_check(snaps[k - 1], &m, at[k - 1]));
        CHECK(hc_check(snaps[k], &m, at[k]));
        if (k % 5 == 4) CHECK(hc_check(snaps[k - 4], &m, at[k - 4]));
    }
    for (int k = 15; k >= 0; k--) {
        CHECK(hc_check(snaps[k], &m, at[k]));
        tl_snapshot_release(snaps[k]);
    }
    tl_close(tl);
}

/* Several iterators on one snapshot: blocks are reused (one spare per snapshot), a spare too
 * small for a merge is replaced, and live iterators never share a block. */
TL_TEST(test_iterator_reuse) {
    tl_timelog_t *tl = open_log(TL_MAINT_MANUAL);
    CHECK(tl != NULL);
    for (int i = 0; i < 500; i++) CHECK_OK(tl_append(tl, (i * 37) % 500, (uint64_t)i + 1));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    tl_iter_t *e = NULL, *a = NULL, *b = NULL;
    CHECK_OK(tl_iter_range(s, 5, 5, &e)); /* empty: no plan, a header-only block */
    tl_iter_destroy(e);
    for (int round = 0; round < 50; round++) {
        CHECK_OK(tl_iter_equal(s, round * 7 % 500, &a));
        CHECK_OK(tl_iter_range(s, 100, 200, &b));
        CHECK(a != b);
        int64_t ts[200];
        size_t n = 0;
        CHECK_OK(tl_iter_next_batch(b, ts, NULL, 200, &n));
        CHECK_EQ_U64(n, 100);
        CHECK_OK(tl_iter_next_batch(a, ts, NULL, 200, &n));
        CHECK_EQ_U64(n, 1);
        CHECK_EQ_I64(ts[0], round * 7 % 500);
        if (round % 2) {
            tl_iter_destroy(a);
            tl_iter_destroy(b);
        } else {
            tl_iter_destroy(b);
            tl_iter_destroy(a);
        }
    }
    tl_snapshot_release(s);
    tl_close(tl);
}

/* Readers on two threads take fresh snapshots while the writer appends out-of-order records
 * into one head: the shared sorted view is built, extended and replaced concurrently. */
typedef struct hc_reader {
    tl_timelog_t *tl;
    _Atomic int stop;
    uint64_t errors, rounds;
} hc_reader_t;

static void *hc_reader_main(void *arg) {
    hc_reader_t *r = arg;
    uint64_t last = 0;
    while (!atomic_load(&r->stop)) {
        tl_snapshot_t *s = NULL;
        if (tl_snapshot_acquire(r->tl, &s) != TL_OK) {
            r->errors++;
            break;
        }
        uint64_t sum = 0, c = 0;
        int sorted = 0;
        uint64_t n = scan(s, &sum, &sorted);
        tl_snapshot_count(s, INT64_MIN, INT64_MAX, &c);
        if (!sorted || n != c || n < last || sum != n * (n + 1) / 2) r->errors++;
        last = n;
        tl_snapshot_release(s);
        r->rounds++;
    }
    return NULL;
}

TL_TEST(test_head_cache_threads) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.ooo_head_records = 256;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    CHECK_OK(tl_append(tl, 1000000, 1));
    hc_reader_t r[2] = {{tl, 0, 0, 0}, {tl, 0, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, hc_reader_main, &r[i]) == 0);
    uint64_t x = 5;
    for (uint64_t i = 2; i <= 3000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        tl_status_t st = tl_append(tl, (int64_t)((x >> 33) % 100000), i);
        CHECK(st == TL_OK || st == TL_EBUSY);
        if (i % 500 == 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    for (int i = 0; i < 2; i++) {
        atomic_store(&r[i].stop, 1);
        pthread_join(th[i], NULL);
        CHECK_EQ_U64(r[i].errors, 0);
    }
    tl_close(tl);
}

int main(void) {
    RUN(test_isolation);
    RUN(test_acquire_is_constant_time);
    RUN(test_acquire_after_close_and_misuse);
    RUN(test_concurrent_reader_background);
    RUN(test_head_sorted_cache);
    RUN(test_iterator_reuse);
    RUN(test_head_cache_threads);
    return tl_test_done("snapshot_test");
}
