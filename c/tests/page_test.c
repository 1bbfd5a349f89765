/*
 * page_test.c — pages (allocation layout, refcounts, exact-size copies) and the sorted-column
 * search kernels, the latter against a linear-scan reference on random data with duplicates
 * and the int64 extremes.
 */
#include <pthread.h>
#include <string.h>

#include "mbsum.h"
#include "page.h"
#include "test.h"

TL_TEST(page_layout_and_refs) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_page_t *p = tl_page_new(&a, 64);
    CHECK(p != NULL);
    CHECK_EQ_U64(p->cap, 64);
    CHECK_EQ_U64(p->n, 0);
    CHECK_EQ_U64(atomic_load(&p->refs), 1);
    CHECK((uintptr_t)p->ts % 8 == 0 && (uintptr_t)p->h % 8 == 0);
    CHECK((char *)p->h == (char *)(p->ts + 64));
    CHECK_EQ_I64(f.live_bytes, (long long)tl_page_bytes(64));
    for (uint32_t i = 0; i < 64; i++) {
        p->ts[i] = (int64_t)i;
        p->h[i] = 1000 + i;
    }
    p->n = 64;
    tl_page_ref(p);
    CHECK_EQ_U64(atomic_load(&p->refs), 2);
    tl_page_unref(p);
    CHECK_EQ_I64(f.live_blocks, 1);
    tl_page_unref(p);
    CHECK_EQ_I64(f.live_blocks, 0);
    CHECK_EQ_I64(f.live_bytes, 0);
    tl_page_unref(NULL);
}

TL_TEST(page_new_failures) {
    fail_alloc_t f = {.fail_at = 1};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    CHECK(tl_page_new(&a, 64) == NULL);
    CHECK(tl_page_new(&a, 0) == NULL);
    CHECK_EQ_I64(f.live_blocks, 0);
    /* NULL allocator = libc. */
    tl_page_t *p = tl_page_new(NULL, 1);
    CHECK(p != NULL);
    tl_page_unref(p);
}

TL_TEST(page_copy_exact) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_page_t *p = tl_page_new(&a, 100);
    CHECK(p != NULL);
    for (uint32_t i = 0; i < 100; i++) {
        p->ts[i] = INT64_MIN + i;
        p->h[i] = i;
    }
    p->n = 100;
    tl_page_t *c = tl_page_copy(&a, p, 37);
    CHECK(c != NULL);
    CHECK_EQ_U64(c->cap, 37);
    CHECK_EQ_U64(c->n, 37);
    for (uint32_t i = 0; i < 37; i++) {
        CHECK_EQ_I64(c->ts[i], INT64_MIN + i);
        CHECK_EQ_U64(c->h[i], i);
    }
    tl_page_unref(c);
    f.fail_at = f.calls + 1;
    CHECK(tl_page_copy(&a, p, 10) == NULL);
    tl_page_unref(p);
    CHECK_EQ_I64(f.live_bytes, 0);
}

static uint32_t ref_lower(const int64_t *v, uint32_t from, uint32_t to, int64_t x) {
    while (from < to && v[from] < x) from++;
    return from;
}

static uint32_t ref_upper(const int64_t *v, uint32_t from, uint32_t to, int64_t x) {
    while (from < to && v[from] <= x) from++;
    return from;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Random sorted arrays with heavy duplicates and extremes; every slice, many keys. */
TL_TEST(search_kernels_random) {
    uint64_t seed = 0x5eed0001u;
    tl_t_rng = seed;
    int64_t v[70], keys[12];
    for (int iter = 0; iter < 400; iter++) {
        uint32_t n = (uint32_t)(tl_t_rnd() % 70);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t k = tl_t_rnd() % 10;
            v[i] = k == 0 ? INT64_MIN : k == 1 ? INT64_MAX : (int64_t)(tl_t_rnd() % 20) - 10;
        }
        qsort(v, n, sizeof(int64_t), cmp_i64);
        keys[0] = INT64_MIN;
        keys[1] = INT64_MAX;
        keys[2] = INT64_MIN + 1;
        keys[3] = INT64_MAX - 1;
        for (int k = 4; k < 12; k++) keys[k] = (int64_t)(tl_t_rnd() % 24) - 12;
        for (uint32_t from = 0; from <= n; from += 1 + (uint32_t)(tl_t_rnd() % 3)) {
            for (uint32_t to = from; to <= n; to += 1 + (uint32_t)(tl_t_rnd() % 3)) {
                for (int k = 0; k < 12; k++) {
                    int64_t x = keys[k];
                    uint32_t lo = ref_lower(v, from, to, x), up = ref_upper(v, from, to, x);
                    if (tl_ts_lower(v, from, to, x) != lo || tl_ts_upper(v, from, to, x) != up ||
                        tl_ts_gallop_upper(v, from, to, x) != up) {
                        printf("  seed %" PRIu64 " iter %d n %u [%u,%u) x %" PRId64 "\n", seed,
                               iter, n, from, to, x);
                    }
                    CHECK_EQ_U64(tl_ts_lower(v, from, to, x), lo);
                    CHECK_EQ_U64(tl_ts_upper(v, from, to, x), up);
                    CHECK_EQ_U64(tl_ts_gallop_upper(v, from, to, x), up);
                }
            }
        }
    }
}

/* Large arrays: gallop distances over many doublings. */
TL_TEST(search_kernels_long) {
    enum { N = 5000 };
    static int64_t v[N];
    for (uint32_t i = 0; i < N; i++) v[i] = (int64_t)(i / 3);
    for (int64_t x = -2; x < N / 3 + 2; x += 7) {
        for (uint32_t from = 0; from < N; from += 611) {
            uint32_t up = ref_upper(v, from, N, x);
            CHECK_EQ_U64(tl_ts_upper(v, from, N, x), up);
            CHECK_EQ_U64(tl_ts_gallop_upper(v, from, N, x), up);
            CHECK_EQ_U64(tl_ts_lower(v, from, N, x), ref_lower(v, from, N, x));
        }
    }
}

/* The interpolated searches and the from-a-guess kernels, from EVERY start position (good
 * guesses hit the branch-free window, bad ones the gallop fallback), on random data with
 * duplicates and extremes. */
TL_TEST(search_from_any_guess) {
    uint64_t seed = 0x5eed0002u;
    tl_t_rng = seed;
    int64_t v[90];
    for (int iter = 0; iter < 300; iter++) {
        uint32_t n = 1 + (uint32_t)(tl_t_rnd() % 90);
        uint32_t spread = 1 + (uint32_t)(tl_t_rnd() % 40);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t k = tl_t_rnd() % 16;
            v[i] = k == 0 ? INT64_MIN : k == 1 ? INT64_MAX : (int64_t)(tl_t_rnd() % spread);
        }
        qsort(v, n, sizeof(int64_t), cmp_i64);
        for (int k = 0; k < 10; k++) {
            int64_t x = k == 0   ? INT64_MIN
                        : k == 1 ? INT64_MAX
                        : k == 2 ? v[tl_t_rnd() % n]
                                 : (int64_t)(tl_t_rnd() % (spread + 4)) - 2;
            uint32_t lo = ref_lower(v, 0, n, x), up = ref_upper(v, 0, n, x);
            CHECK_EQ_U64(tl_ts_lower_interp(v, n, x, v[0], v[n - 1]), lo);
            CHECK_EQ_U64(tl_ts_upper_interp(v, n, x, v[0], v[n - 1]), up);
            uint32_t g = tl_ts_interp_guess(n, x, v[0], v[n - 1]);
            CHECK(g < n);
            for (g = 0; g < n; g++) {
                CHECK_EQ_U64(tl_ts_lower_from(v, n, g, x), lo);
                CHECK_EQ_U64(tl_ts_upper_from(v, n, g, x), up);
            }
        }
    }
}

/* The search table (tl_tab_fill / tl_tab_lower / tl_tab_upper) against the reference, on
 * shapes that stress its brackets: empty and overfull buckets (clusters, gaps), heavy
 * duplicates, spans reaching INT64_MIN..INT64_MAX (bucket arithmetic near overflow), a
 * single record, evenly spread, jittered and randomly spaced series; every entry against its
 * bucket start's lower bound, every key in and around the data. */
TL_TEST(search_table_random) {
    uint64_t seed = 0x5eed0003u;
    tl_t_rng = seed;
    enum { N = 3000 };
    static int64_t v[N];
    static uint16_t tab[TL_TAB];
    for (int iter = 0; iter < 300; iter++) {
        uint32_t n = 1 + (uint32_t)(tl_t_rnd() % (iter % 3 == 0 ? 40 : N));
        unsigned shape = (unsigned)(tl_t_rnd() % 6);
        int64_t base = (int64_t)(tl_t_rnd() % 1000) - 500, t = base;
        for (uint32_t i = 0; i < n; i++) {
            switch (shape) {
            case 0: v[i] = t++; break; /* in order, one per tick */
            case 1: /* jitter (sorted below) */
                v[i] = t + (int64_t)(tl_t_rnd() % 9) - 4;
                t += 1;
                break;
            case 2: v[i] = (int64_t)(tl_t_rnd() % 7); break; /* few distinct values */
            case 3: /* two clusters, empty buckets between */
                v[i] = (int64_t)(tl_t_rnd() % 50) + (tl_t_rnd() % 2 ? 0 : 1000000);
                break;
            case 4: /* users' gaps of 0-2 ticks, now and then a jump: the table's guesses
                       drift from the even spread and back */
                t += (int64_t)(tl_t_rnd() % 3) + (tl_t_rnd() % 500 == 0 ? 5000 : 0);
                v[i] = t;
                break;
            default: { /* extremes and anything */
                uint64_t k = tl_t_rnd() % 8;
                v[i] = k == 0 ? INT64_MIN : k == 1 ? INT64_MAX : (int64_t)tl_t_rnd();
            }
            }
        }
        qsort(v, n, sizeof(int64_t), cmp_i64);
        CHECK(tl_tab_fill(tab, v, n));
        CHECK_EQ_U64(tab[0], 0);
        for (uint32_t b = 1; b < TL_TAB; b++) { /* each entry: its bucket start's lower bound */
            uint64_t span = (uint64_t)v[n - 1] - (uint64_t)v[0];
            int64_t start = (int64_t)((uint64_t)v[0] + tl_tab_start(span, b));
            CHECK_EQ_U64(tab[b], ref_lower(v, 0, n, start));
        }
        for (int k = 0; k < 200; k++) {
            int64_t x;
            switch (k % 5) {
            case 0: x = v[tl_t_rnd() % n]; break;
            case 1: /* a neighbour of a record (wrapping: out-of-span keys are replaced below) */
                x = (int64_t)((uint64_t)v[tl_t_rnd() % n] + (tl_t_rnd() % 2 ? 1u : UINT64_MAX));
                break;
            case 2: { /* anywhere in the span (wrapping arithmetic in uint64) */
                uint64_t span = (uint64_t)v[n - 1] - (uint64_t)v[0];
                uint64_t off = span == UINT64_MAX ? tl_t_rnd() : tl_t_rnd() % (span + 1);
                x = (int64_t)((uint64_t)v[0] + off);
                break;
            }
            case 3: x = k == 3 ? INT64_MIN : k == 8 ? INT64_MAX : (int64_t)tl_t_rnd(); break;
            default: x = (int64_t)(tl_t_rnd() % 2000) - 1000;
            }
            if (x < v[0] || x > v[n - 1]) { /* outside [kmin, kmax]: the caller never asks */
                x = v[tl_t_rnd() % n];
            }
            uint32_t lo = ref_lower(v, 0, n, x), up = ref_upper(v, 0, n, x);
            uint32_t gl = tl_tab_lower(tab, v, n, x, v[0], v[n - 1]);
            uint32_t gu = tl_tab_upper(tab, v, n, x, v[0], v[n - 1]);
            if (gl != lo || gu != up) {
                printf("  seed %" PRIu64 " iter %d shape %u n %u x %" PRId64 ": lower %u/%u "
                       "upper %u/%u\n", seed, iter, shape, n, x, gl, lo, gu, up);
            }
            CHECK_EQ_U64(gl, lo);
            CHECK_EQ_U64(gu, up);
        }
    }
    CHECK(!tl_tab_fill(tab, v, 70000)); /* beyond UINT16_MAX records: no table */
}

/* Pages carry a table from TL_TAB_MIN_CAP records on; a run copies it, and rebuilds it when
 * it uses another count of records than the table describes. */
TL_TEST(page_table_presence) {
    tl_page_t *small = tl_page_new(NULL, TL_TAB_MIN_CAP - 1);
    tl_page_t *big = tl_page_new(NULL, TL_TAB_MIN_CAP);
    CHECK(small && big);
    CHECK(small->tab == NULL && big->tab != NULL);
    CHECK_EQ_U64(tl_page_bytes(TL_TAB_MIN_CAP),
                 sizeof(tl_page_t) + TL_TAB_MIN_CAP * 16u + TL_TAB * sizeof(uint16_t) +
                     sizeof(tl_sum_t) + tl_mbsum_bytes(TL_TAB_MIN_CAP));
    for (uint32_t i = 0; i < TL_TAB_MIN_CAP; i++) big->ts[i] = 2 * (int64_t)i;
    big->n = TL_TAB_MIN_CAP;
    tl_page_tab_build(big, 100);
    CHECK_EQ_U64(big->tab_n, 100);
    tl_page_tab_build(small, 1);
    CHECK_EQ_U64(small->tab_n, 0);
    tl_page_unref(small);
    tl_page_unref(big);
}

/* Refcounts from several threads: the page is freed exactly once, by the last unref. */
static void *ref_worker(void *arg) {
    tl_page_t *p = arg;
    for (int i = 0; i < 100000; i++) {
        tl_page_ref(p);
        tl_page_unref(p);
    }
    tl_page_unref(p); /* the reference handed to this thread */
    return NULL;
}

TL_TEST(page_refs_threads) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_page_t *p = tl_page_new(&a, 64);
    CHECK(p != NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) tl_page_ref(p);
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, ref_worker, p) == 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    CHECK_EQ_U64(atomic_load(&p->refs), 1);
    tl_page_unref(p);
    CHECK_EQ_I64(f.live_blocks, 0);
}

/* A raw page's value summary and miniblock summaries: none until built; they describe exactly
 * the records they were built for; a copy of those records keeps them, a copy of fewer does
 * not. */
TL_TEST(page_raw_summary) {
    tl_page_t *p = tl_page_new(NULL, 100);
    CHECK(p != NULL);
    double v[100];
    for (uint32_t i = 0; i < 100; i++) {
        p->ts[i] = (int64_t)i;
        v[i] = i == 37 ? -5.5 : 0.25 * (double)i;
        memcpy(&p->h[i], &v[i], sizeof v[i]);
    }
    p->n = 100;
    CHECK(tl_page_sum(p) == NULL);
    tl_page_sum_build(p, 80);
    const tl_sum_t *s = tl_page_sum(p);
    CHECK(s != NULL);
    double want = 0;
    for (uint32_t i = 0; i < 80; i++) want += v[i];
    CHECK_EQ_U64(s->n, 80);
    CHECK(s->sum == want && s->nan == 0);
    CHECK(tl_sum_f64((uint64_t)tl_sum_key((uint64_t)s->kmin)) == -5.5);
    CHECK(tl_sum_f64((uint64_t)tl_sum_key((uint64_t)s->kmax)) == 19.75);
    CHECK(s->first == p->h[0] && s->last == p->h[79]);
    const tl_mbsum_t *mb = tl_page_mbsum(p); /* miniblocks [0, 64) and [64, 80) */
    CHECK(mb != NULL);
    double m0 = 0, m1 = 0;
    for (uint32_t i = 0; i < 80; i++) *(i < 64 ? &m0 : &m1) += v[i];
    CHECK(mb[0].fence == 0 && mb[1].fence == 64);
    CHECK(mb[0].sum == m0 && mb[1].sum == m1);
    CHECK(tl_sum_f64((uint64_t)tl_sum_key((uint64_t)mb[1].kmin)) == 16.0);
    CHECK(tl_sum_f64((uint64_t)tl_sum_key((uint64_t)mb[1].kmax)) == 19.75);
    tl_page_t *same = tl_page_copy(NULL, p, 80), *fewer = tl_page_copy(NULL, p, 50);
    CHECK(same != NULL && fewer != NULL);
    CHECK(tl_page_sum(same) != NULL && tl_page_sum(same)->sum == want);
    CHECK(tl_page_mbsum(same) != NULL && tl_page_mbsum(same)[1].sum == m1);
    CHECK(tl_page_sum(fewer) == NULL && tl_page_mbsum(fewer) == NULL);
    tl_page_unref(same);
    tl_page_unref(fewer);
    tl_page_unref(p);
}

int main(void) {
    RUN(page_layout_and_refs);
    RUN(page_new_failures);
    RUN(page_copy_exact);
    RUN(search_kernels_random);
    RUN(search_kernels_long);
    RUN(search_table_random);
    RUN(page_table_presence);
    RUN(page_raw_summary);
    RUN(search_from_any_guess);
    RUN(page_refs_threads);
    return tl_test_done("page_test");
}
