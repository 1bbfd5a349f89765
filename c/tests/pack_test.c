/*
 * pack_test.c — the pack job (pack.c) in slices: a job packs at most the pages it is given and
 * says when raw pages are left, so the worker can flush between slices; a page the codec cannot
 * shrink is tried once and then skipped; the records read back the same whatever is packed.
 * And the flush a long job (a checkpoint) runs between its slices: only when a memtable waits.
 */
#include <string.h>

#include "jobs.h"
#include "test.h"
#include "timelog_int.h"
#include "txn.h"

enum { PAGE = 64, WINDOW = 1000 };

/* An empty manual log of 64-record pages and L1 windows of `window` time units. */
static tl_timelog_t *manual_log(uint32_t kind, int64_t window) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = PAGE;
    c.window_size = window;
    c.l0_max = 1;
    c.value_kind = kind;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

/* manual_log holding the records, compacted into L1 and left raw (tl_maint_step compacts
 * without packing). */
static tl_timelog_t *raw_l1(uint32_t kind, int64_t window, const int64_t *ts, const uint64_t *h,
                            size_t n) {
    tl_timelog_t *tl = manual_log(kind, window);
    if (tl == NULL) return NULL;
    if (tl_append_batch(tl, ts, h, n, 0) != TL_OK || tl_flush(tl) != TL_OK ||
        tl_maint_step(tl) != TL_OK) {
        tl_close(tl);
        return NULL;
    }
    return tl;
}

static tl_status_t pack(tl_timelog_t *tl, uint32_t max_pages, bool *did, bool *more) {
    pthread_mutex_lock(&tl->maint_mu);
    tl_status_t st = tl_pack_job(tl, 1, max_pages, did, more);
    pthread_mutex_unlock(&tl->maint_mu);
    return st;
}

static uint64_t packed_pages(tl_timelog_t *tl, uint64_t *pages) {
    tl_stats_t s;
    if (tl_stats(tl, &s) != TL_OK) return UINT64_MAX;
    *pages = s.pages;
    return s.pages_packed;
}

/* Sum and count of every record, read back through the public API. */
static void read_all(tl_timelog_t *tl, uint64_t *count, uint64_t *sum) {
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    *count = *sum = 0;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return;
    if (tl_iter_since(s, INT64_MIN, &it) == TL_OK) {
        int64_t ts[256];
        uint64_t h[256];
        size_t got = 0;
        while (tl_iter_next_batch(it, ts, h, 256, &got) == TL_OK && got > 0) {
            for (size_t i = 0; i < got; i++) *sum += (uint64_t)ts[i] * 31u + h[i];
            *count += got;
        }
        tl_iter_destroy(it);
    }
    tl_snapshot_release(s);
}

/* 200 pages of doubles k/256 in 13 windows: a job of 32 pages packs 32 and says more are
 * left until the last, and then every page but the newest window's is packed; the records
 * read back the same. */
TL_TEST(pack_job_goes_in_slices) {
    enum { N = 200 * PAGE };
    static int64_t ts[N];
    static uint64_t h[N];
    for (size_t i = 0; i < N; i++) {
        ts[i] = (int64_t)i;
        double v = (double)i / 256.0;
        memcpy(&h[i], &v, sizeof v);
    }
    tl_timelog_t *tl = raw_l1(TL_VALUES_F64, WINDOW, ts, h, N);
    CHECK(tl != NULL);
    uint64_t c0, s0, pages;
    read_all(tl, &c0, &s0);
    CHECK_EQ_U64(c0, N);
    CHECK_EQ_U64(packed_pages(tl, &pages), 0);
    const uint64_t newest = (N % WINDOW + PAGE - 1) / PAGE; /* the last window's pages */
    uint64_t jobs = 0, before = 0;
    bool did = false, more = true;
    while (more && jobs < 100) {
        CHECK_OK(pack(tl, 32, &did, &more));
        uint64_t now = packed_pages(tl, &pages);
        CHECK(did && now > before);
        CHECK(more ? now - before == 32 : now - before <= 32);
        before = now;
        jobs++;
    }
    CHECK(!more);
    CHECK_EQ_U64(jobs, (pages - newest + 31) / 32);
    CHECK_EQ_U64(before, pages - newest);
    CHECK_OK(pack(tl, 32, &did, &more)); /* nothing left */
    CHECK(!did && !more);
    uint64_t c1, s1;
    read_all(tl, &c1, &s1);
    CHECK_EQ_U64(c1, c0);
    CHECK_EQ_U64(s1, s0);
    tl_close(tl);
}

/* Records the codec cannot shrink (gaps up to 2^40, random 64-bit handles): a job of 8 pages
 * tries 8, packs none and marks them, so each job moves on and the jobs end after
 * ceil(pages / 8); every page but the newest window's is then marked, and a further job has
 * nothing to try. */
TL_TEST(incompressible_pages_are_tried_once) {
    enum { N = 40 * PAGE };
    static int64_t ts[N];
    static uint64_t h[N];
    uint64_t x = 0x9e3779b97f4a7c15u;
    int64_t t = 0;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t += 1 + (int64_t)(x >> 24);
        ts[i] = t;
        h[i] = x * 0x2545f4914f6cdd1du;
    }
    tl_timelog_t *tl = raw_l1(TL_VALUES_HANDLE, (int64_t)1 << 48, ts, h, N);
    CHECK(tl != NULL);
    bool did = true, more = true;
    uint32_t jobs = 0;
    while (more && jobs < 100) {
        CHECK_OK(pack(tl, 8, &did, &more));
        CHECK(!did);
        jobs++;
    }
    uint64_t pages;
    CHECK_EQ_U64(packed_pages(tl, &pages), 0);
    CHECK(pages >= 40);
    tl_manifest_t *m = tl_pin(tl);
    uint32_t l1 = tl_vec_len(m->l1), marked = 0, total = 0;
    for (uint32_t i = 0; i < l1; i++) {
        const tl_run_t *r = tl_vec_run(m->l1, i);
        for (uint32_t k = 0; k < r->npages; k++) {
            total++;
            marked += r->pages[k]->nopack;
        }
    }
    uint32_t newest = l1 > 0 ? tl_vec_run(m->l1, l1 - 1)->npages : 0;
    tl_manifest_unref(m);
    CHECK(l1 >= 2);
    CHECK_EQ_U64(marked, total - newest); /* all but the newest window's */
    CHECK_EQ_U64(jobs, (marked + 7) / 8);
    CHECK_OK(pack(tl, 8, &did, &more));
    CHECK(!did && !more);
    uint64_t c, s;
    read_all(tl, &c, &s);
    CHECK_EQ_U64(c, N);
    tl_close(tl);
}

/* tl_flush_between flushes the sealed memtables that wait, and nothing when none waits. */
TL_TEST(flush_between_flushes_what_waits) {
    tl_timelog_t *tl = manual_log(TL_VALUES_HANDLE, WINDOW);
    CHECK(tl != NULL);
    tl_stats_t s;
    tl_flush_between(tl); /* nothing sealed */
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.flushes_total, 0);
    for (int round = 0; round < 2; round++) {
        for (int64_t i = 0; i < 3 * PAGE; i++) CHECK_OK(tl_append(tl, round * 1000 + i, 1));
        bool busy = false;
        CHECK_OK(tl_seal(tl, &busy));
        CHECK(!busy);
    }
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.sealed_memtables, 2);
    tl_flush_between(tl);
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.sealed_memtables, 0);
    CHECK_EQ_U64(s.flushes_total, 1);
    CHECK_EQ_U64(s.l0_segments, 1);
    CHECK_EQ_U64(s.records, 6 * PAGE);
    tl_flush_between(tl); /* flushed already */
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.flushes_total, 1);
    tl_close(tl);
}

int main(void) {
    RUN(pack_job_goes_in_slices);
    RUN(incompressible_pages_are_tried_once);
    RUN(flush_between_flushes_what_waits);
    return tl_test_done("pack_test");
}
