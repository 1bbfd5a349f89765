/*
 * run_test.c — runs and the run builder: layout invariants, searches and counts against a
 * brute-force reference, the page-sharing rule of tl_rb_push_page, snapshot views over a page
 * still being appended to, rewraps under a new watermark, and ENOMEM at every allocation
 * with a leak check.
 */
#include "run.h"
#include "test.h"

/* Sorted random timestamps with duplicates; extremes included when `edges`. */
static void gen_sorted(int64_t *ts, uint64_t *h, size_t n, bool edges) {
    int64_t t = (int64_t)(tl_t_rnd() % 100) - 50;
    for (size_t i = 0; i < n; i++) {
        if (tl_t_rnd() % 3) t += (int64_t)(tl_t_rnd() % 4);
        ts[i] = t;
        h[i] = 7000 + i;
    }
    if (edges && n >= 4) {
        ts[0] = INT64_MIN;
        if (tl_t_rnd() % 2) ts[1] = INT64_MIN;
        ts[n - 1] = INT64_MAX;
        if (tl_t_rnd() % 2) ts[n - 2] = INT64_MAX;
    }
}

static uint64_t ref_lower(const int64_t *ts, size_t n, int64_t x) {
    size_t i = 0;
    while (i < n && ts[i] < x) i++;
    return i;
}

static uint64_t ref_upper(const int64_t *ts, size_t n, int64_t x) {
    size_t i = 0;
    while (i < n && ts[i] <= x) i++;
    return i;
}

static int64_t pick_key(const int64_t *ts, size_t n) {
    switch (tl_t_rnd() % 6) {
    case 0: return INT64_MIN;
    case 1: return INT64_MAX;
    case 2: return n ? ts[tl_t_rnd() % n] : 0;
    default: return (int64_t)(tl_t_rnd() % 400) - 100;
    }
}

/* Checks every structural invariant of r and every accessor against ts/h. Returns 0 on
 * success (the CHECK macros return early, so a wrapper flag tells the caller). */
static int verify_failed;
static void verify_run(const tl_run_t *r, const int64_t *ts, const uint64_t *h, size_t n) {
    verify_failed = 1;
    CHECK(r != NULL);
    CHECK_EQ_U64(r->n, n);
    CHECK(r->npages >= 1);
    CHECK_EQ_U64(r->prefix[0], 0);
    CHECK_EQ_U64(r->prefix[r->npages], n);
    CHECK_EQ_I64(r->ts_min, ts[0]);
    CHECK_EQ_I64(r->ts_max, ts[n - 1]);
    for (uint32_t p = 0; p < r->npages; p++) {
        uint32_t c = tl_run_page_count(r, p);
        CHECK(c >= 1 && c <= r->pages[p]->cap);
        CHECK_EQ_I64(r->page_min[p], r->pages[p]->ts[0]);
        CHECK_EQ_I64(r->page_max[p], r->pages[p]->ts[c - 1]);
        CHECK(r->page_h[p] == r->pages[p]->h);
        CHECK(tl_page_ts(r->pages[p]) == r->pages[p]->ts);
        for (uint32_t k = 0; k < c; k++) {
            uint64_t i = r->prefix[p] + k;
            CHECK_EQ_I64(r->pages[p]->ts[k], ts[i]);
            CHECK_EQ_U64(r->pages[p]->h[k], h[i]);
        }
    }
    for (uint64_t i = 0; i < n; i += 1 + tl_t_rnd() % 3) {
        uint32_t p = tl_run_page_of(r, i);
        CHECK(r->prefix[p] <= i && i < r->prefix[p + 1]);
        CHECK_EQ_I64(tl_run_ts_at(r, i), ts[i]);
        CHECK_EQ_U64(tl_run_h_at(r, i), h[i]);
    }
    for (int k = 0; k < 60; k++) {
        int64_t x = pick_key(ts, n), y = pick_key(ts, n);
        CHECK_EQ_U64(tl_run_lower_bound(r, x), ref_lower(ts, n, x));
        CHECK_EQ_U64(tl_run_upper_bound(r, x), ref_upper(ts, n, x));
        tl_run_pos_t pl = tl_run_seek_lower(r, x);
        CHECK(pl.page < r->npages || (pl.page == r->npages && pl.off == 0));
        CHECK_EQ_U64(r->prefix[pl.page] + pl.off, ref_lower(ts, n, x));
        tl_run_pos_t ph = tl_run_seek_lower_h(r, x);
        CHECK(ph.page == pl.page && ph.off == pl.off);
        tl_run_pos_t pu = tl_run_seek_upper(r, x);
        CHECK(pu.page < r->npages || (pu.page == r->npages && pu.off == 0));
        CHECK_EQ_U64(r->prefix[pu.page] + pu.off, ref_upper(ts, n, x));
        uint64_t want = x <= y ? ref_upper(ts, n, y) - ref_lower(ts, n, x) : 0;
        CHECK_EQ_U64(tl_run_count(r, x, y), want);
        uint64_t eq = 0;
        tl_run_pos_t pe = tl_run_seek_equal(r, x, &eq);
        CHECK(pe.page == pl.page && pe.off == pl.off);
        CHECK_EQ_U64(eq, ref_upper(ts, n, x) - ref_lower(ts, n, x));
    }
    verify_failed = 0;
}

#define VERIFY(r, ts, h, n)                                                               \
    do {                                                                                  \
        verify_run(r, ts, h, n);                                                          \
        if (verify_failed) TL_FAIL_("verify_run failed (seed %" PRIu64 ")", seed);        \
    } while (0)

TL_TEST(builder_push_single) {
    uint64_t seed = 0xa11ce;
    tl_t_rng = seed;
    enum { N = 1000 };
    static int64_t ts[N];
    static uint64_t h[N];
    gen_sorted(ts, h, N, true);
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, 64);
    for (size_t i = 0; i < N; i++) CHECK_OK(tl_rb_push(&b, ts[i], h[i]));
    tl_run_t *r = NULL;
    CHECK_OK(tl_rb_finish(&b, 42, &r));
    CHECK_EQ_U64(r->wm, 42);
    CHECK_EQ_U64(r->npages, (N + 63) / 64);
    /* The short tail page was shrunk to its exact size. */
    CHECK_EQ_U64(r->pages[r->npages - 1]->cap, N % 64);
    VERIFY(r, ts, h, N);
    tl_run_unref(r);
    /* whole_pages keeps it at full capacity (the head sort's runs: their pages come from the
     * arena); the records are the same. */
    tl_rb_init(&b, NULL, 64);
    CHECK(!b.whole_pages); /* cleared by init */
    b.whole_pages = true;
    CHECK_OK(tl_rb_push_many(&b, ts, h, N));
    CHECK_OK(tl_rb_finish(&b, 7, &r));
    CHECK_EQ_U64(r->npages, (N + 63) / 64);
    for (uint32_t i = 0; i < r->npages; i++) CHECK_EQ_U64(r->pages[i]->cap, 64);
    CHECK_EQ_U64(r->pages[r->npages - 1]->n, N % 64);
    VERIFY(r, ts, h, N);
    tl_run_unref(r);
}

/* Random sizes and page sizes, all three push paths mixed. */
TL_TEST(builder_random_mixed) {
    uint64_t seed = 0xb0b;
    tl_t_rng = seed;
    enum { N = 3000 };
    static int64_t ts[N];
    static uint64_t h[N];
    for (int iter = 0; iter < 150; iter++) {
        size_t n = 1 + tl_t_rnd() % N;
        uint32_t pr = (uint32_t)(tl_t_rnd() % 3 == 0 ? 1 + tl_t_rnd() % 5 : 64 + tl_t_rnd() % 200);
        gen_sorted(ts, h, n, iter % 2 == 0);
        tl_run_builder_t b;
        tl_rb_init(&b, NULL, pr);
        size_t i = 0;
        while (i < n) {
            size_t take = 1 + tl_t_rnd() % (2 * pr + 2);
            if (take > n - i) take = n - i;
            uint64_t mode = tl_t_rnd() % 3;
            if (mode == 0) {
                for (size_t k = 0; k < take; k++) CHECK_OK(tl_rb_push(&b, ts[i + k], h[i + k]));
            } else if (mode == 1) {
                CHECK_OK(tl_rb_push_many(&b, ts + i, h + i, take));
            } else {
                /* A foreign page with spare capacity past `take` (as an active page). */
                tl_page_t *p = tl_page_new(NULL, (uint32_t)take + (uint32_t)(tl_t_rnd() % 3));
                CHECK(p != NULL);
                memcpy(p->ts, ts + i, take * sizeof(int64_t));
                memcpy(p->h, h + i, take * sizeof(uint64_t));
                p->n = p->cap; /* never read by the builder */
                CHECK_OK(tl_rb_push_page(&b, p, (uint32_t)take));
                tl_page_unref(p);
            }
            i += take;
        }
        tl_run_t *r = NULL;
        CHECK_OK(tl_rb_finish(&b, 1, &r));
        VERIFY(r, ts, h, n);
        tl_run_unref(r);
    }
}

static tl_page_t *make_page(uint32_t cap, uint32_t count, int64_t t0) {
    tl_page_t *p = tl_page_new(NULL, cap);
    for (uint32_t i = 0; i < count; i++) {
        p->ts[i] = t0 + i;
        p->h[i] = (uint64_t)(t0 + i);
    }
    p->n = count;
    return p;
}

TL_TEST(builder_push_page_rule) {
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, 64);
    tl_page_t *full = make_page(64, 64, 0), *half = make_page(64, 32, 100);
    tl_page_t *small = make_page(64, 10, 200), *full2 = make_page(64, 64, 300);
    tl_page_t *fit = make_page(64, 20, 210);
    /* No partly filled page: a full page is shared by reference. */
    CHECK_OK(tl_rb_push_page(&b, full, 64));
    CHECK_EQ_U64(b.pages_shared, 1);
    CHECK(b.pages[0] == full && b.cur == NULL);
    /* Half a page with nothing partly filled: shared too (count * 2 >= page_records). */
    CHECK_OK(tl_rb_push_page(&b, half, 32));
    CHECK_EQ_U64(b.pages_shared, 2);
    /* A small page is copied into a new partly filled page. */
    CHECK_OK(tl_rb_push_page(&b, small, 10));
    CHECK_EQ_U64(b.pages_shared, 2);
    CHECK(b.cur != NULL && b.cur->n == 10);
    /* A page that fits the partly filled one is copied into it. */
    CHECK_OK(tl_rb_push_page(&b, fit, 0));
    CHECK_OK(tl_rb_push_page(&b, fit, 20));
    CHECK_EQ_U64(b.pages_shared, 2);
    CHECK(b.cur != NULL && b.cur->n == 30);
    /* A full page that does not fit: the partly filled page is closed (exact size) and the
     * full page shared, so the layout after it stays aligned. */
    CHECK_OK(tl_rb_push_page(&b, full2, 64));
    CHECK_EQ_U64(b.pages_shared, 3);
    CHECK_EQ_U64(b.npages, 4);
    CHECK_EQ_U64(b.pages[2]->cap, 30);
    CHECK(b.pages[3] == full2);
    CHECK_EQ_U64(atomic_load(&full2->refs), 2);
    tl_run_t *r = NULL;
    CHECK_OK(tl_rb_finish(&b, 5, &r));
    CHECK_EQ_U64(r->n, 64 + 32 + 30 + 64);
    CHECK_EQ_I64(r->page_max[2], 229);
    CHECK_EQ_U64(r->npages, 4);
    CHECK_EQ_I64(r->page_max[1], 131);
    CHECK(b.pages == NULL && b.npages == 0 && b.n == 0);
    tl_run_unref(r);
    CHECK_EQ_U64(atomic_load(&full->refs), 1);
    tl_page_unref(full);
    tl_page_unref(half);
    tl_page_unref(small);
    tl_page_unref(fit);
    tl_page_unref(full2);
}

TL_TEST(builder_empty_and_reuse) {
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, 64);
    tl_run_t *r = (tl_run_t *)&b; /* must be overwritten with NULL */
    CHECK_OK(tl_rb_finish(&b, 0, &r));
    CHECK(r == NULL);
    CHECK_OK(tl_rb_push_many(&b, NULL, NULL, 0));
    CHECK_OK(tl_rb_push(&b, INT64_MAX, 1));
    CHECK_OK(tl_rb_finish(&b, 0, &r));
    CHECK_EQ_U64(r->n, 1);
    CHECK_EQ_I64(r->ts_min, INT64_MAX);
    CHECK_EQ_U64(tl_run_count(r, INT64_MAX, INT64_MAX), 1);
    CHECK_EQ_U64(tl_run_count(r, INT64_MIN, INT64_MAX - 1), 0);
    CHECK_EQ_U64(tl_run_count(r, INT64_MAX, INT64_MIN), 0);
    CHECK_EQ_U64(tl_run_lower_bound(r, INT64_MAX), 0);
    CHECK_EQ_U64(tl_run_upper_bound(r, INT64_MAX), 1);
    tl_run_unref(r);
    /* The builder is reusable after finish, and after abort. */
    CHECK_OK(tl_rb_push(&b, INT64_MIN, 2));
    tl_rb_abort(&b);
    CHECK_OK(tl_rb_push(&b, INT64_MIN, 3));
    CHECK_OK(tl_rb_finish(&b, 0, &r));
    CHECK_EQ_U64(tl_run_count(r, INT64_MIN, INT64_MIN), 1);
    CHECK_EQ_U64(tl_run_count(NULL, INT64_MIN, INT64_MAX), 0);
    tl_run_unref(r);
    tl_run_unref(NULL);
}

/* A snapshot view of an active memtable: the last page keeps growing after the view is made;
 * the view must keep its own counts and never read page->n. */
TL_TEST(from_pages_active_view) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_page_t *p0 = tl_page_new(&a, 64), *p1 = tl_page_new(&a, 64);
    CHECK(p0 && p1);
    int64_t ts[100];
    uint64_t h[100];
    for (int i = 0; i < 100; i++) {
        ts[i] = i / 2;
        h[i] = (uint64_t)i;
    }
    memcpy(p0->ts, ts, 64 * sizeof(int64_t));
    memcpy(p0->h, h, 64 * sizeof(uint64_t));
    p0->n = 64;
    memcpy(p1->ts, ts + 64, 10 * sizeof(int64_t));
    memcpy(p1->h, h + 64, 10 * sizeof(uint64_t));
    p1->n = 10;
    tl_page_t *pages[2] = {p0, p1};
    uint32_t counts[2] = {64, 10};
    tl_run_t *r = NULL;
    CHECK_OK(tl_run_from_pages(&a, pages, counts, 2, TL_SEQ_MAX, &r));
    CHECK_EQ_U64(atomic_load(&p1->refs), 2);
    /* The writer keeps appending to p1. */
    memcpy(p1->ts + 10, ts + 74, 26 * sizeof(int64_t));
    memcpy(p1->h + 10, h + 74, 26 * sizeof(uint64_t));
    p1->n = 36;
    uint64_t seed = 1;
    tl_t_rng = seed;
    VERIFY(r, ts, h, 74);
    CHECK_EQ_U64(r->wm, TL_SEQ_MAX);
    tl_run_t *empty = (tl_run_t *)pages;
    CHECK_OK(tl_run_from_pages(&a, pages, counts, 0, 0, &empty));
    CHECK(empty == NULL);
    f.fail_at = f.calls + 1;
    tl_run_t *r2 = (tl_run_t *)pages;
    CHECK_ST(tl_run_from_pages(&a, pages, counts, 2, 0, &r2), TL_ENOMEM);
    CHECK(r2 == NULL);
    CHECK_EQ_U64(atomic_load(&p1->refs), 2);
    tl_run_unref(r);
    tl_page_unref(p0);
    tl_page_unref(p1);
    CHECK_EQ_I64(f.live_blocks, 0);
    CHECK_EQ_I64(f.live_bytes, 0);
}

/* A borrowed view over an active directory layout (every page full but the last): same
 * answers as a referencing view, no page reference taken or dropped, pages outlive it. */
TL_TEST(view_borrowed) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    enum { PR = 64, N = 3 * PR + 17 };
    tl_page_t *pages[4];
    int64_t ts[4 * PR];
    uint64_t h[4 * PR];
    uint64_t seed = 77;
    tl_t_rng = seed;
    gen_sorted(ts, h, 4 * PR, true);
    for (int i = 0; i < 4; i++) {
        pages[i] = tl_page_new(&a, PR);
        CHECK(pages[i] != NULL);
        memcpy(pages[i]->ts, ts + i * PR, PR * sizeof(int64_t));
        memcpy(pages[i]->h, h + i * PR, PR * sizeof(uint64_t));
        pages[i]->n = PR; /* the view must not read it: the last page is "still filling" */
    }
    tl_run_t *r = NULL;
    CHECK_OK(tl_run_view_borrowed(&a, pages, PR, N, TL_SEQ_MAX, &r));
    CHECK(r != NULL && r->borrowed);
    CHECK_EQ_U64(r->npages, 4);
    for (int i = 0; i < 4; i++) CHECK_EQ_U64(atomic_load(&pages[i]->refs), 1);
    VERIFY(r, ts, h, N);
    tl_run_t *one = NULL;
    CHECK_OK(tl_run_view_borrowed(&a, pages, PR, 1, 5, &one));
    CHECK(one != NULL && one->npages == 1 && one->n == 1 && one->ts_max == ts[0]);
    CHECK_EQ_U64(one->wm, 5);
    tl_run_unref(one);
    f.fail_at = f.calls + 1;
    tl_run_t *r2 = (tl_run_t *)pages;
    CHECK_ST(tl_run_view_borrowed(&a, pages, PR, N, 0, &r2), TL_ENOMEM);
    CHECK(r2 == NULL);
    tl_run_unref(r);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_U64(atomic_load(&pages[i]->refs), 1);
        tl_page_unref(pages[i]);
    }
    CHECK_EQ_I64(f.live_blocks, 0);
    CHECK_EQ_I64(f.live_bytes, 0);
}

/* A rewrap copies the run's arrays as they are (bounds, tables, summaries) under a new
 * watermark, taking one reference per page; a borrowed view's rewrap owns its pages; ENOMEM
 * leaves nothing behind. */
TL_TEST(rewrap_copies_the_arrays) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    uint64_t seed = 0x7e3;
    tl_t_rng = seed;
    enum { N = 5000, PR = 1024 }; /* pages of TL_TAB_MIN_CAP or more carry a table */
    static int64_t ts[N];
    static uint64_t h[N];
    gen_sorted(ts, h, N, true);
    for (size_t i = 0; i < N; i++) {
        double v = (double)(i % 97) / 4.0; /* doubles: the pages get value summaries */
        memcpy(&h[i], &v, sizeof v);
    }
    tl_run_builder_t b;
    tl_rb_init(&b, &a, PR);
    b.sums = true;
    CHECK_OK(tl_rb_push_many(&b, ts, h, N));
    tl_run_t *r = NULL;
    CHECK_OK(tl_rb_finish(&b, TL_SEQ_MAX, &r));
    CHECK(r->sum != NULL && r->tab != NULL);
    r->cover = (tl_cover_t){5, 6};
    tl_run_t *c = NULL;
    CHECK_OK(tl_run_rewrap(&a, r, 42, &c));
    CHECK(c != r && !c->borrowed);
    CHECK_EQ_U64(c->wm, 42);
    CHECK_EQ_U64(c->cover.seq, 0); /* the caller sets what the copy covers */
    CHECK_EQ_U64(c->n, r->n);
    CHECK_EQ_U64(c->npages, r->npages);
    CHECK(memcmp(c->page_min, r->page_min, r->npages * sizeof *r->page_min) == 0);
    CHECK(memcmp(c->page_max, r->page_max, r->npages * sizeof *r->page_max) == 0);
    CHECK(memcmp(c->tab, r->tab, (size_t)r->npages * TL_TAB * sizeof *r->tab) == 0);
    CHECK(memcmp(c->sum, r->sum, r->npages * sizeof *r->sum) == 0);
    for (uint32_t i = 0; i < r->npages; i++) {
        CHECK(c->pages[i] == r->pages[i] && c->page_h[i] == r->page_h[i]);
        CHECK_EQ_U64(atomic_load(&r->pages[i]->refs), 2);
    }
    VERIFY(c, ts, h, N);
    f.fail_at = f.calls + 1;
    tl_run_t *c2 = r;
    CHECK_ST(tl_run_rewrap(&a, r, 1, &c2), TL_ENOMEM);
    CHECK(c2 == NULL);
    CHECK_EQ_U64(atomic_load(&r->pages[0]->refs), 2);
    tl_run_unref(r); /* the copy keeps the pages */
    VERIFY(c, ts, h, N);
    tl_run_unref(c);
    /* A borrowed view: the copy references its pages and outlives the lender's. */
    tl_page_t *pages[2];
    for (int i = 0; i < 2; i++) {
        pages[i] = tl_page_new(&a, PR);
        CHECK(pages[i] != NULL);
        memcpy(pages[i]->ts, ts + i * PR, PR * sizeof(int64_t));
        memcpy(pages[i]->h, h + i * PR, PR * sizeof(uint64_t));
        pages[i]->n = PR;
    }
    tl_run_t *v = NULL;
    CHECK_OK(tl_run_view_borrowed(&a, pages, PR, PR + 9, TL_SEQ_MAX, &v));
    CHECK_OK(tl_run_rewrap(&a, v, 3, &c));
    CHECK(!c->borrowed && c->wm == 3);
    tl_run_unref(v);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_U64(atomic_load(&pages[i]->refs), 2);
        tl_page_unref(pages[i]);
    }
    VERIFY(c, ts, h, PR + 9);
    tl_run_unref(c);
    CHECK_EQ_I64(f.live_blocks, 0);
    CHECK_EQ_I64(f.live_bytes, 0);
}

/* Fences spread very unevenly (the interpolated fence search must fall back correctly):
 * clustered timestamps with huge gaps and the int64 extremes. */
TL_TEST(seek_skewed_fences) {
    enum { N = 64 * 40 };
    static int64_t ts[N];
    static uint64_t h[N];
    for (uint32_t i = 0; i < N; i++) {
        h[i] = i;
        if (i < 5) ts[i] = INT64_MIN + (int64_t)i;
        else if (i >= N - 5) ts[i] = INT64_MAX - (int64_t)(N - 1 - i);
        else if (i < N / 2) ts[i] = (int64_t)(i / 3);
        else ts[i] = (int64_t)1 << 50 | (int64_t)(i * i);
    }
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, 64);
    CHECK_OK(tl_rb_push_many(&b, ts, h, N));
    tl_run_t *r = NULL;
    CHECK_OK(tl_rb_finish(&b, 0, &r));
    uint64_t seed = 5;
    tl_t_rng = seed;
    VERIFY(r, ts, h, N);
    for (uint32_t i = 0; i < N; i += 7) {
        int64_t x = ts[i];
        CHECK_EQ_U64(tl_run_lower_bound(r, x), ref_lower(ts, N, x));
        CHECK_EQ_U64(tl_run_upper_bound(r, x), ref_upper(ts, N, x));
        if (x != INT64_MAX) CHECK_EQ_U64(tl_run_lower_bound(r, x + 1), ref_lower(ts, N, x + 1));
    }
    tl_run_unref(r);
}

/* One scripted build using every path; returns the builder status seen first. */
static tl_status_t scripted_build(const tl_allocator_t *a, tl_page_t *shared, tl_run_t **out) {
    int64_t ts[300];
    uint64_t h[300];
    for (int i = 0; i < 300; i++) {
        ts[i] = 1000 + i;
        h[i] = (uint64_t)i;
    }
    tl_run_builder_t b;
    tl_rb_init(&b, a, 64);
    tl_status_t st = TL_OK;
    for (int i = 0; i < 5 && st == TL_OK; i++) st = tl_rb_push(&b, i, (uint64_t)i);
    if (st == TL_OK) st = tl_rb_push_page(&b, shared, 64); /* closes a short page, shares */
    if (st == TL_OK) st = tl_rb_push_many(&b, ts, h, 300);
    for (int i = 0; i < 700 && st == TL_OK; i++) st = tl_rb_push(&b, 2000 + i, (uint64_t)i);
    if (st != TL_OK) {
        /* Sticky: later pushes are no-ops with the same status. */
        if (tl_rb_push(&b, 5000, 0) != st) return TL_EINTERNAL;
        if (tl_rb_push_many(&b, ts, h, 1) != st) return TL_EINTERNAL;
        if (tl_rb_push_page(&b, shared, 64) != st) return TL_EINTERNAL;
    }
    return tl_rb_finish(&b, 3, out);
}

TL_TEST(builder_enomem_every_allocation) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_page_t *shared = tl_page_new(&a, 64);
    CHECK(shared != NULL);
    for (int i = 0; i < 64; i++) {
        shared->ts[i] = 10 + i;
        shared->h[i] = 0;
    }
    long base_blocks = f.live_blocks;
    long long base_bytes = f.live_bytes;
    int ok_runs = 0;
    for (long k = 1; k < 200; k++) {
        f.calls = 0;
        f.fail_at = k;
        tl_run_t *r = NULL;
        tl_status_t st = scripted_build(&a, shared, &r);
        if (st == TL_OK) {
            CHECK(r != NULL);
            CHECK_EQ_U64(r->n, 5 + 64 + 300 + 700);
            ok_runs++;
            tl_run_unref(r);
        } else {
            CHECK_ST(st, TL_ENOMEM);
            CHECK(r == NULL);
        }
        CHECK_EQ_I64(f.live_blocks, base_blocks);
        CHECK_EQ_I64(f.live_bytes, base_bytes);
        CHECK_EQ_U64(atomic_load(&shared->refs), 1);
        if (f.calls < k) break; /* the build no longer reaches the k-th allocation */
    }
    /* Only the best-effort exact-size copy may fail without failing the build. */
    CHECK(ok_runs >= 1);
    tl_page_unref(shared);
    CHECK_EQ_I64(f.live_blocks, 0);
}

/* Large run: searches across many pages, duplicates spanning page boundaries. */
TL_TEST(run_many_pages_duplicates) {
    uint64_t seed = 0xfeed;
    tl_t_rng = seed;
    enum { N = 20000 };
    static int64_t ts[N];
    static uint64_t h[N];
    for (size_t i = 0; i < N; i++) {
        ts[i] = (int64_t)(i / 150) - 30; /* 150 equal ts per value, cross 64-record pages */
        h[i] = i;
    }
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, 64);
    CHECK_OK(tl_rb_push_many(&b, ts, h, N));
    tl_run_t *r = NULL;
    CHECK_OK(tl_rb_finish(&b, 9, &r));
    VERIFY(r, ts, h, N);
    for (int64_t x = -32; x < N / 150 - 28; x++) {
        CHECK_EQ_U64(tl_run_lower_bound(r, x), ref_lower(ts, N, x));
        CHECK_EQ_U64(tl_run_upper_bound(r, x), ref_upper(ts, N, x));
    }
    tl_run_unref(r);
}

/* Every search of a run against the reference for key x: 0, or the line of the mismatch. */
static int check_seeks(const tl_run_t *r, const int64_t *ts, size_t n, int64_t x) {
    uint64_t l = ref_lower(ts, n, x), u = ref_upper(ts, n, x), eq = UINT64_MAX;
    tl_run_pos_t pl = tl_run_seek_lower(r, x), ph = tl_run_seek_lower_h(r, x);
    tl_run_pos_t pu = tl_run_seek_upper(r, x), pe = tl_run_seek_equal(r, x, &eq);
    if (r->prefix[pl.page] + pl.off != l || ph.page != pl.page || ph.off != pl.off) return __LINE__;
    if (pe.page != pl.page || pe.off != pl.off || eq != u - l) return __LINE__;
    if (r->prefix[pu.page] + pu.off != u) return __LINE__;
    if (tl_run_lower_bound(r, x) != l || tl_run_upper_bound(r, x) != u) return __LINE__;
    return 0;
}

/* Runs of packed pages (the codec's bracketed searches behind the search tables): pages with
 * and without tables, even and skewed spacing (bursts of out-of-order-like density), runs of
 * equal timestamps inside a miniblock, across miniblock edges and across page ends, and keys
 * between pages, below and above the run. Every key of the run and its neighbours. */
TL_TEST(packed_run_searches) {
    uint64_t seed = 0x9ac4ed;
    tl_t_rng = seed;
    enum { N = 4 * 4096 + 700 };
    static int64_t ts[N];
    static uint64_t h[N];
    static uint8_t scratch[16 * 4096 + 4096];
    static const uint32_t page_sizes[] = {4096, 1500, 65, 4096};
    for (uint32_t kind = 0; kind < 4; kind++) {
        int64_t t = -5000;
        for (size_t i = 0; i < N; i++) {
            if (kind == 0) t += 3; /* even */
            if (kind == 1) t += tl_t_rnd() % 8 == 0 ? (int64_t)(tl_t_rnd() % 500) : 1; /* skew */
            if (kind == 2 && tl_t_rnd() % 90 == 0) t += 1 + (int64_t)(tl_t_rnd() % 3); /* runs */
            if (kind == 3 && (i % 4096 > 4000 || i % 4096 < 50)) t += 0; /* across page ends */
            else if (kind == 3) t += 1 + (int64_t)(tl_t_rnd() % 2);
            ts[i] = t;
            h[i] = 100 + i * 3 + tl_t_rnd() % 2;
        }
        uint32_t psz = page_sizes[kind];
        tl_page_t *pages[N / 65 + 1];
        uint32_t counts[N / 65 + 1], np = 0;
        for (size_t off = 0; off < N; off += psz, np++) {
            uint32_t c = N - off < psz ? (uint32_t)(N - off) : psz;
            tl_status_t st;
            pages[np] = tl_page_pack(NULL, ts + off, h + off, c, TL_PCODEC_ALWAYS, scratch, &st);
            CHECK(pages[np] != NULL && tl_page_packed(pages[np]));
            counts[np] = c;
        }
        tl_run_t *r = NULL;
        CHECK_OK(tl_run_from_pages(NULL, pages, counts, np, 0, &r));
        for (uint32_t i = 0; i < np; i++) tl_page_unref(pages[i]);
        for (uint32_t p = 0; p < r->npages; p++) CHECK(r->page_h[p] == NULL);
        for (size_t i = 0; i < N; i += kind == 0 ? 1 : 1 + tl_t_rnd() % 3) {
            for (int64_t dx = -1; dx <= 1; dx++) CHECK_EQ_I64(check_seeks(r, ts, N, ts[i] + dx), 0);
        }
        CHECK_EQ_I64(check_seeks(r, ts, N, INT64_MIN), 0);
        CHECK_EQ_I64(check_seeks(r, ts, N, INT64_MAX), 0);
        tl_run_unref(r);
    }
}

int main(void) {
    RUN(builder_push_single);
    RUN(builder_random_mixed);
    RUN(builder_push_page_rule);
    RUN(builder_empty_and_reuse);
    RUN(from_pages_active_view);
    RUN(builder_enomem_every_allocation);
    RUN(run_many_pages_duplicates);
    RUN(view_borrowed);
    RUN(rewrap_copies_the_arrays);
    RUN(seek_skewed_fences);
    RUN(packed_run_searches);
    return tl_test_done("run_test");
}
