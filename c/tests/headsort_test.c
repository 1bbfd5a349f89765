/*
 * headsort_test.c — sorted views of the head (headsort.h): the cache grows by merging and a
 * count below it sorts privately; a full head becomes the cached sort plus a sort of the rest
 * (two runs whose merge, older first, is the stable sort of the whole head), or one sort when
 * the cache covers less than half; the writer never waits for a sort in progress; and in
 * background mode maintenance sorts the head ahead of the writer each time another quarter of
 * it has filled, so that the head change stores that sort as the head's run and moves the
 * records after it into the next head, and reads stay in stable order through flush and
 * compaction; the helper thread answers when maintenance is held.
 */
#include <pthread.h>
#include <time.h>

#include "headsort.h"
#include "test.h"
#include "timelog_int.h"
#include "txn.h"
#include "worker.h"

enum { CAP = 2048 };

/* A head of CAP records: ts in a small range (many ties), handle = arrival index. */
static tl_head_t *filled_head(uint64_t seed) {
    tl_head_t *hd = tl_head_new(tl_default_allocator(), CAP);
    if (hd == NULL) return NULL;
    uint64_t x = seed;
    for (uint32_t i = 0; i < CAP; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        hd->ts[i] = (int64_t)((x >> 33) % 700) - 350;
        hd->h[i] = i;
    }
    return hd;
}

/* Whether r holds records [0, n) of hd in stable order: ts ascending, ties by arrival. */
static bool is_stable_sort_of(const tl_run_t *r, const tl_head_t *hd, uint32_t from,
                              uint32_t n) {
    if (r == NULL || r->n != n - from) return false;
    static uint8_t seen[CAP];
    for (uint32_t i = 0; i < CAP; i++) seen[i] = 0;
    for (uint64_t i = 0; i < r->n; i++) {
        uint64_t h = tl_run_h_at(r, i);
        if (h < from || h >= n || seen[h] || tl_run_ts_at(r, i) != hd->ts[h]) return false;
        seen[h] = 1;
        if (i > 0) {
            int64_t a = tl_run_ts_at(r, i - 1), b = tl_run_ts_at(r, i);
            if (a > b || (a == b && tl_run_h_at(r, i - 1) >= h)) return false;
        }
    }
    return true;
}

TL_TEST(test_cache_extends_and_older_counts_sort_privately) {
    tl_head_t *hd = filled_head(11);
    CHECK(hd != NULL);
    const tl_allocator_t *a = tl_default_allocator();
    tl_run_t *r = NULL;
    CHECK_OK(tl_head_sorted(hd, a, 4096, false, 300, &r));
    CHECK(is_stable_sort_of(r, hd, 0, 300));
    CHECK(hd->sorted == r); /* published */
    tl_run_unref(r);
    CHECK_OK(tl_head_sorted(hd, a, 4096, true, 1500, &r)); /* extended: sort 1200, merge */
    CHECK(is_stable_sort_of(r, hd, 0, 1500));
    CHECK(hd->sorted == r);
    tl_run_t *again = NULL;
    CHECK_OK(tl_head_sorted(hd, a, 4096, false, 1500, &again)); /* the same count: shared */
    CHECK(again == r);
    tl_run_unref(again);
    tl_run_t *older = NULL;
    CHECK_OK(tl_head_sorted(hd, a, 4096, false, 700, &older)); /* below the cache: private */
    CHECK(is_stable_sort_of(older, hd, 0, 700));
    CHECK(older != r && hd->sorted == r);
    tl_run_unref(older);
    tl_run_unref(r);
    tl_head_unref(hd);
}

TL_TEST(test_full_head_is_cache_plus_rest) {
    tl_head_t *hd = filled_head(12);
    CHECK(hd != NULL);
    const tl_allocator_t *a = tl_default_allocator();
    tl_run_t *c = NULL, *out[2] = {NULL, NULL};
    uint32_t k = 0;
    /* No cache: one sort of everything. */
    CHECK_OK(tl_head_runs(hd, a, 4096, true, CAP, out, &k));
    CHECK_EQ_U64(k, 1);
    CHECK(is_stable_sort_of(out[0], hd, 0, CAP));
    /* in one whole page: a page of page_records comes from the log's arena (headsort.c) */
    CHECK(out[0]->npages == 1 && out[0]->pages[0]->cap == 4096);
    tl_run_unref(out[0]);
    /* A cache of less than half: still one sort (two runs would not pay for themselves). */
    CHECK_OK(tl_head_sorted(hd, a, 4096, false, CAP / 2 - 1, &c));
    tl_run_unref(c);
    CHECK_OK(tl_head_runs(hd, a, 4096, true, CAP, out, &k));
    CHECK_EQ_U64(k, 1);
    CHECK(is_stable_sort_of(out[0], hd, 0, CAP));
    tl_run_unref(out[0]);
    /* A cache of 1600: that run itself, then the other 448 sorted; ties across the two runs
     * resolve by rank (the first is older), which is arrival order. */
    CHECK_OK(tl_head_sorted(hd, a, 4096, false, 1600, &c));
    CHECK_OK(tl_head_runs(hd, a, 4096, true, CAP, out, &k));
    CHECK_EQ_U64(k, 2);
    CHECK(out[0] == c);
    CHECK(is_stable_sort_of(out[0], hd, 0, 1600));
    CHECK(is_stable_sort_of(out[1], hd, 1600, CAP));
    tl_run_unref(out[0]);
    tl_run_unref(out[1]);
    /* A cache of exactly the count: that run alone, nothing sorted. */
    tl_run_unref(c);
    CHECK_OK(tl_head_sorted(hd, a, 4096, false, CAP, &c));
    CHECK_OK(tl_head_runs(hd, a, 4096, true, CAP, out, &k));
    CHECK_EQ_U64(k, 1);
    CHECK(out[0] == c);
    tl_run_unref(out[0]);
    tl_run_unref(c);
    tl_head_unref(hd);
}

TL_TEST(test_writer_never_waits_for_a_sort) {
    tl_head_t *hd = filled_head(13);
    CHECK(hd != NULL);
    tl_run_t *c = NULL;
    CHECK_OK(tl_head_sorted(hd, tl_default_allocator(), 4096, false, 1800, &c));
    pthread_mutex_lock(&hd->sort_mu); /* as a thread in the middle of a sort holds it */
    CHECK(tl_head_cached(hd, CAP, 1) == NULL);
    pthread_mutex_unlock(&hd->sort_mu);
    tl_run_t *got = tl_head_cached(hd, CAP, 1);
    CHECK(got == c);
    tl_run_unref(got);
    CHECK(tl_head_cached(hd, CAP, 1801) == NULL); /* covers less than asked */
    CHECK(tl_head_cached(hd, 1700, 1) == NULL); /* covers more than the count */
    tl_run_unref(c);
    tl_head_unref(hd);
}

/* Records of the whole log in read order; false if a read fails or there are more than cap. */
static bool read_all(tl_timelog_t *tl, int64_t *ts, uint64_t *h, size_t cap, size_t *n) {
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return false;
    bool ok = tl_iter_open(s, INT64_MIN, INT64_MAX, &it) == TL_OK;
    *n = 0;
    while (ok) {
        size_t got = 0;
        tl_status_t st = tl_iter_next_batch(it, ts + *n, h + *n, cap - *n, &got);
        *n += got;
        if (st == TL_EOF) break;
        ok = st == TL_OK && *n < cap;
    }
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    return ok;
}

enum { HEAD = 1024, LATE1 = 800, LATE2 = 300, TOTAL = 1 + LATE1 + LATE2 };

/* Read order: `total` records, ts ascending, ties in arrival order (handle order). */
static bool stable_order_n(tl_timelog_t *tl, size_t total) {
    static int64_t ts[TOTAL + 1];
    static uint64_t h[TOTAL + 1];
    size_t n = 0;
    if (total > TOTAL || !read_all(tl, ts, h, TOTAL + 1, &n) || n != total) return false;
    for (size_t i = 1; i < n; i++) {
        if (ts[i - 1] > ts[i] || (ts[i - 1] == ts[i] && h[i - 1] >= h[i])) return false;
    }
    return true;
}

/* The head's cached sort once it covers exactly n records (maintenance's, asked by the
 * writer), waiting up to 2 s on a loaded machine; NULL if it never does. */
static tl_run_t *cached_sort(tl_timelog_t *tl, uint32_t n) {
    tl_run_t *c = NULL;
    for (int i = 0; i < 2000 && c == NULL; i++) {
        c = tl_head_cached(tl->mt.head, n, n);
        if (c == NULL) nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return c;
}

/* A background log with a head of HEAD records and no idle maintenance, so that only the
 * writer's asks sort the head ahead (manual: nobody does); NULL when it does not open. */
static tl_timelog_t *head_log(bool manual) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.ooo_head_records = HEAD;
    c.idle_ms = 0;
    c.maintenance = manual ? TL_MAINT_MANUAL : TL_MAINT_BACKGROUND;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

/* Record 0 in order, then n - 1 late ones in a small range (ties); a late record's handle is
 * its place in the head. */
static void late_records(int64_t *ts, uint64_t *h, uint32_t n) {
    ts[0] = 1000000;
    h[0] = 1u << 20;
    for (uint32_t i = 1; i < n; i++) {
        ts[i] = (int64_t)((i * 7919u) % 500u);
        h[i] = i - 1;
    }
}

TL_TEST(test_head_sorted_ahead_of_the_writer) {
    tl_timelog_t *tl = head_log(false);
    CHECK(tl != NULL);
    static int64_t ts[TOTAL];
    static uint64_t h[TOTAL];
    late_records(ts, h, TOTAL);
    CHECK_OK(tl_append_batch(tl, ts, h, 1 + LATE1, 0)); /* head 800 / 1024: asks */
    tl_run_t *cached = cached_sort(tl, LATE1);
    CHECK(cached != NULL);
    CHECK(is_stable_sort_of(cached, tl->mt.head, 0, LATE1));
    tl_run_unref(cached);
    CHECK_OK(tl_append_batch(tl, ts + 1 + LATE1, h + 1 + LATE1, LATE2, 0)); /* fills it */
    CHECK_EQ_U64(tl_vec_len(tl->mt.head_runs), 1); /* the 800 sorted ahead, as they are */
    CHECK_EQ_U64(tl_vec_run(tl->mt.head_runs, 0)->n, LATE1);
    CHECK_EQ_U64(tl->mt.head_n, LATE2); /* the full head's last 224, moved, and 76 more */
    for (uint32_t i = 0; i < LATE2; i++) CHECK_EQ_U64(tl->mt.head->h[i], LATE1 + i);
    CHECK(stable_order_n(tl, TOTAL));
    CHECK_OK(tl_flush(tl)); /* the seal takes the run (and sorts the new head) */
    CHECK(stable_order_n(tl, TOTAL));
    CHECK_OK(tl_compact(tl));
    CHECK(stable_order_n(tl, TOTAL));
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

/* The writer asks again each time another quarter of the head has filled: the cache follows
 * the head in steps (and in manual mode nobody sorts ahead). */
TL_TEST(test_asks_every_quarter) {
    enum { STEP = HEAD / 4 + 10 };
    static int64_t ts[1 + 3 * STEP];
    static uint64_t h[1 + 3 * STEP];
    late_records(ts, h, 1 + 3 * STEP);
    for (int manual = 0; manual <= 1; manual++) {
        tl_timelog_t *tl = head_log(manual);
        CHECK(tl != NULL);
        CHECK_OK(tl_append_batch(tl, ts, h, 1 + STEP, 0)); /* a quarter and more: asks */
        if (manual) {
            nanosleep(&(struct timespec){0, 20000000}, NULL);
            CHECK(tl_head_cached(tl->mt.head, STEP, 1) == NULL); /* nobody answered */
            tl_close(tl);
            continue;
        }
        tl_run_t *r = cached_sort(tl, STEP);
        CHECK(r != NULL);
        CHECK(is_stable_sort_of(r, tl->mt.head, 0, STEP));
        tl_run_unref(r);
        CHECK_OK(tl_append_batch(tl, ts + 1 + STEP, h + 1 + STEP, 10, 0)); /* no new quarter */
        nanosleep(&(struct timespec){0, 20000000}, NULL);
        r = tl_head_cached(tl->mt.head, STEP + 10, 1);
        CHECK(r != NULL && r->n == STEP); /* not asked: the cache stayed */
        tl_run_unref(r);
        CHECK_OK(tl_append_batch(tl, ts + 11 + STEP, h + 11 + STEP, 2 * STEP - 10, 0));
        r = cached_sort(tl, 3 * STEP); /* another quarter: asked again, the cache extended */
        CHECK(r != NULL);
        CHECK(is_stable_sort_of(r, tl->mt.head, 0, 3 * STEP));
        tl_run_unref(r);
        CHECK(stable_order_n(tl, 1 + 3 * STEP));
        tl_close(tl);
    }
}

/* The helper thread answers the writer's ask while maintenance cannot run a job (here: the
 * test holds maint_mu, as a long compaction would; a checkpoint blocked in fdatasync is the
 * case met in practice). */
TL_TEST(test_helper_sorts_while_maintenance_is_held) {
    tl_timelog_t *tl = head_log(false);
    CHECK(tl != NULL);
    static int64_t ts[1 + LATE1];
    static uint64_t h[1 + LATE1];
    late_records(ts, h, 1 + LATE1);
    pthread_mutex_lock(&tl->maint_mu);
    CHECK_OK(tl_append_batch(tl, ts, h, 1 + LATE1, 0));
    tl_run_t *r = cached_sort(tl, LATE1);
    pthread_mutex_unlock(&tl->maint_mu);
    CHECK(r != NULL);
    CHECK(is_stable_sort_of(r, tl->mt.head, 0, LATE1));
    tl_run_unref(r);
    tl_close(tl);
}

/* While two sealed memtables wait for their flush, maintenance is what bounds the ingest: an
 * ask is then not answered (the writer sorts its head itself, as it would wait anyway); once
 * the flushes are done, the next quarter's ask is. */
TL_TEST(no_sort_ahead_while_a_flush_waits) {
    tl_timelog_t *tl = head_log(false);
    CHECK(tl != NULL);
    enum { STEP = HEAD / 4 + 10 };
    static int64_t ts[2 + 2 * STEP];
    static uint64_t h[2 + 2 * STEP];
    late_records(ts + 1, h + 1, 1 + 2 * STEP); /* two records in order, then the late ones */
    ts[0] = ts[1];
    h[0] = h[1];
    pthread_mutex_lock(&tl->maint_mu); /* no flush can run */
    for (int k = 0; k < 2; k++) { /* two memtables wait for their flush */
        CHECK_OK(tl_append_batch(tl, ts, h, 1, 0));
        CHECK_OK(tl_seal(tl, NULL));
    }
    CHECK_OK(tl_append_batch(tl, ts, h, 1, 0)); /* the new generation's first, in order */
    CHECK_OK(tl_append_batch(tl, ts + 2, h + 2, STEP, 0)); /* a quarter late: asks */
    int64_t next = 1000001;
    uint64_t hn = 1u << 20;
    CHECK_OK(tl_append_batch(tl, &next, &hn, 1, 0)); /* unanswered: wakes the helper */
    nanosleep(&(struct timespec){0, 50000000}, NULL);
    CHECK(!atomic_load(&tl->hold.asked)); /* taken by the helper... */
    CHECK(tl_head_cached(tl->mt.head, STEP, 1) == NULL); /* ...which did not sort */
    pthread_mutex_unlock(&tl->maint_mu);
    tl_maint_kick(tl);
    tl_stats_t st;
    for (int i = 0; i < 2000; i++) { /* the worker flushes (kicked by the seal) */
        CHECK_OK(tl_stats(tl, &st));
        if (st.sealed_memtables == 0) break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECK_EQ_U64(st.sealed_memtables, 0);
    CHECK_OK(tl_append_batch(tl, ts + 2 + STEP, h + 2 + STEP, STEP, 0)); /* another quarter */
    next++;
    CHECK_OK(tl_append_batch(tl, &next, &hn, 1, 0));
    tl_run_t *r = cached_sort(tl, 2 * STEP);
    CHECK(r != NULL);
    CHECK(is_stable_sort_of(r, tl->mt.head, 0, 2 * STEP));
    tl_run_unref(r);
    tl_close(tl);
}

int main(void) {
    RUN(test_cache_extends_and_older_counts_sort_privately);
    RUN(test_full_head_is_cache_plus_rest);
    RUN(test_writer_never_waits_for_a_sort);
    RUN(test_head_sorted_ahead_of_the_writer);
    RUN(test_asks_every_quarter);
    RUN(test_helper_sorts_while_maintenance_is_held);
    RUN(no_sort_ahead_while_a_flush_waits);
    return tl_test_done("headsort_test");
}
