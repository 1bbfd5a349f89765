/*
 * headsort_test.c — sorted views of the head (headsort.h): the cache grows by merging and a
 * count below it sorts privately; a full head becomes the cached sort plus a sort of the rest
 * (two runs whose merge, older first, is the stable sort of the whole head), or one sort when
 * the cache covers less than half; the writer never waits for a sort in progress; and in
 * background mode the worker sorts a three-quarters-full head ahead of the writer, whose head
 * change then stores two runs and reads stay in stable order through flush and compaction.
 */
#include <pthread.h>
#include <time.h>

#include "headsort.h"
#include "test.h"
#include "timelog_int.h"

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

/* Read order after the head change: ts ascending, ties in arrival order (handle order). */
static bool stable_order(tl_timelog_t *tl) {
    static int64_t ts[TOTAL + 1];
    static uint64_t h[TOTAL + 1];
    size_t n = 0;
    if (!read_all(tl, ts, h, TOTAL + 1, &n) || n != TOTAL) return false;
    for (size_t i = 1; i < n; i++) {
        if (ts[i - 1] > ts[i] || (ts[i - 1] == ts[i] && h[i - 1] >= h[i])) return false;
    }
    return true;
}

TL_TEST(test_worker_sorts_the_head_ahead) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.ooo_head_records = HEAD;
    c.idle_ms = 0; /* only the presort request wakes the worker for the head */
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    static int64_t ts[TOTAL];
    static uint64_t h[TOTAL];
    ts[0] = 1000000;
    for (uint32_t i = 1; i < TOTAL; i++) ts[i] = (int64_t)((i * 7919u) % 500u); /* late, ties */
    h[0] = 1u << 20; /* the in-order record; a late record's handle is its place in the head */
    for (uint32_t i = 1; i < TOTAL; i++) h[i] = i - 1;
    CHECK_OK(tl_append_batch(tl, ts, h, 1 + LATE1, 0)); /* head 800 / 1024: asks the worker */
    tl_run_t *cached = NULL;
    for (int i = 0; i < 2000 && cached == NULL; i++) { /* up to 2 s on a loaded machine */
        cached = tl_head_cached(tl->mt.head, LATE1, LATE1);
        if (cached == NULL) nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECK(cached != NULL);
    CHECK(is_stable_sort_of(cached, tl->mt.head, 0, LATE1));
    tl_run_unref(cached);
    CHECK_OK(tl_append_batch(tl, ts + 1 + LATE1, h + 1 + LATE1, LATE2, 0)); /* fills it */
    CHECK_EQ_U64(tl_vec_len(tl->mt.head_runs), 2); /* the worker's 800 + the writer's 224 */
    CHECK_EQ_U64(tl_vec_run(tl->mt.head_runs, 0)->n, LATE1);
    CHECK_EQ_U64(tl_vec_run(tl->mt.head_runs, 1)->n, HEAD - LATE1);
    CHECK_EQ_U64(tl->mt.head_n, LATE1 + LATE2 - HEAD);
    CHECK(stable_order(tl));
    CHECK_OK(tl_flush(tl)); /* the seal takes the two runs (and the new head) as they are */
    CHECK(stable_order(tl));
    CHECK_OK(tl_compact(tl));
    CHECK(stable_order(tl));
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

int main(void) {
    RUN(test_cache_extends_and_older_counts_sort_privately);
    RUN(test_full_head_is_cache_plus_rest);
    RUN(test_writer_never_waits_for_a_sort);
    RUN(test_worker_sorts_the_head_ahead);
    return tl_test_done("headsort_test");
}
