/*
 * rmerge_test.c — the reverse merge against a brute-force reference: random sources (chains
 * of disjoint runs, duplicates, INT64_MIN/INT64_MAX records, pages of 1..300 records, some of
 * them packed so the decode windows are crossed), random tombstone sets and watermarks,
 * random ranges and batch capacities. The output must be exactly the forward order reversed:
 * (ts, rank, position in source) descending. Also: the forward merge over the same sources,
 * reversed, equals it; the reverse point cursor; tie order by rank.
 */
#include "merge.h"
#include "test.h"

enum { MAXSRC = 6, MAXRUNS = 4, MAXREC = 3000, MAXTOMB = 10 };

typedef struct rec {
    int64_t ts;
    uint64_t h; /* src << 32 | position in source */
    uint32_t rank, pos;
    uint64_t wm;
} rec_t;

typedef struct scen {
    uint32_t nsrc;
    tl_run_t *runs[MAXSRC][MAXRUNS];
    tl_source_t srcs[MAXSRC];
    tl_tombs_t *tombs;
    int64_t tlo[MAXTOMB], thi[MAXTOMB];
    uint32_t ntomb; /* tombstone i has seq i + 1 */
    rec_t recs[MAXSRC * MAXREC];
    uint32_t nrec;
} scen_t;

static int64_t rand_ts(int64_t span) {
    uint64_t k = tl_t_rnd() % 50;
    if (k == 0) return INT64_MIN;
    if (k == 1) return INT64_MAX;
    if (k == 2) return INT64_MIN + 1;
    if (k == 3) return INT64_MAX - 1;
    return (int64_t)(tl_t_rnd() % (uint64_t)span) - span / 2;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static uint8_t scratch[1 << 20];
static uint64_t packed_pages; /* the random test must have read through some */

/* Packs about half of the pages (the codec declines some; they stay raw). */
static tl_status_t pack_some(void *ctx, tl_page_t *p, uint32_t count, tl_page_t **np) {
    (void)ctx;
    *np = NULL;
    if (tl_t_rnd() % 2 || count != p->cap) return TL_OK;
    tl_status_t st = TL_OK;
    *np = tl_page_pack(NULL, p->ts, p->h, count, 0, scratch, &st);
    packed_pages += *np != NULL;
    return st;
}

static void build_source(scen_t *s, uint32_t src, uint32_t rank, int64_t span) {
    static int64_t ts[MAXREC];
    static uint64_t hs[MAXREC];
    uint32_t n = (uint32_t)(tl_t_rnd() % 4 == 0 ? tl_t_rnd() % 5 : tl_t_rnd() % MAXREC);
    for (uint32_t i = 0; i < n; i++) ts[i] = rand_ts(span);
    qsort(ts, n, sizeof(int64_t), cmp_i64);
    uint32_t pr = (uint32_t)(tl_t_rnd() % 3 == 0 ? 1 + tl_t_rnd() % 3 : 64 + tl_t_rnd() % 240);
    uint32_t nr = 0, i = 0;
    while (i < n && nr < MAXRUNS) {
        uint32_t j = nr + 1 == MAXRUNS ? n : i + 1 + (uint32_t)(tl_t_rnd() % (n - i));
        while (j < n && ts[j] == ts[j - 1]) j++; /* runs of a chain are disjoint */
        tl_run_builder_t b;
        tl_rb_init(&b, NULL, pr);
        uint64_t wm = tl_t_rnd() % 5 == 0 ? TL_SEQ_MAX : tl_t_rnd() % (s->ntomb + 1);
        for (uint32_t k = i; k < j; k++) {
            hs[k] = (uint64_t)src << 32 | k;
            s->recs[s->nrec++] = (rec_t){ts[k], hs[k], rank, k, wm};
        }
        tl_rb_push_many(&b, ts + i, hs + i, j - i);
        tl_run_t *r = NULL, *packed = NULL;
        tl_rb_finish(&b, wm, &r);
        if (tl_run_remap(NULL, r, pack_some, NULL, &packed) == TL_OK && packed != NULL) {
            tl_run_unref(r);
            r = packed;
        }
        s->runs[src][nr++] = r;
        i = j;
    }
    s->srcs[src] = (tl_source_t){s->runs[src], nr, rank, true};
}

static void scen_make(scen_t *s) {
    memset(s, 0, sizeof(*s));
    int64_t span = tl_t_rnd() % 2 ? 40 : 4000;
    s->ntomb = (uint32_t)(tl_t_rnd() % MAXTOMB);
    for (uint32_t i = 0; i < s->ntomb; i++) {
        int64_t a = rand_ts(span), b = rand_ts(span);
        if (a > b) {
            int64_t x = a;
            a = b;
            b = x;
        }
        if (tl_t_rnd() % 2) {
            int64_t d = (int64_t)(tl_t_rnd() % 8);
            b = a <= INT64_MAX - d ? a + d : INT64_MAX;
        }
        s->tlo[i] = a;
        s->thi[i] = b;
        tl_tombs_t *t = NULL;
        tl_tombs_insert(s->tombs, NULL, a, b, i + 1, &t);
        tl_tombs_unref(s->tombs);
        s->tombs = t;
    }
    s->nsrc = 1 + (uint32_t)(tl_t_rnd() % MAXSRC);
    uint32_t ranks[MAXSRC];
    for (uint32_t i = 0; i < s->nsrc; i++) ranks[i] = i * 3 + 1;
    for (uint32_t i = s->nsrc; i-- > 1;) {
        uint32_t j = (uint32_t)(tl_t_rnd() % (i + 1)), x = ranks[i];
        ranks[i] = ranks[j];
        ranks[j] = x;
    }
    for (uint32_t i = 0; i < s->nsrc; i++) build_source(s, i, ranks[i], span);
}

static void scen_free(scen_t *s) {
    for (uint32_t i = 0; i < s->nsrc; i++) {
        for (uint32_t j = 0; j < s->srcs[i].nruns; j++) tl_run_unref(s->runs[i][j]);
    }
    tl_tombs_unref(s->tombs);
}

/* Descending merge order: the forward order reversed. */
static int rec_cmp_desc(const void *pa, const void *pb) {
    const rec_t *a = pa, *b = pb;
    if (a->ts != b->ts) return a->ts > b->ts ? -1 : 1;
    if (a->rank != b->rank) return a->rank > b->rank ? -1 : 1;
    return (a->pos < b->pos) - (a->pos > b->pos);
}

static bool hidden(const scen_t *s, const rec_t *r) {
    if (r->wm == TL_SEQ_MAX) return false;
    uint64_t best = 0;
    for (uint32_t i = 0; i < s->ntomb; i++) {
        if (s->tlo[i] <= r->ts && r->ts <= s->thi[i]) best = i + 1;
    }
    return best > r->wm;
}

static rec_t want[MAXSRC * MAXREC];
static int64_t got_ts[MAXSRC * MAXREC + 64];
static uint64_t got_h[MAXSRC * MAXREC + 64];
static double got_tf[MAXSRC * MAXREC + 64];
static uint64_t fwd_h[MAXSRC * MAXREC + 64];
static uint8_t mem[1 << 16] __attribute__((aligned(16)));

static uint32_t reference(scen_t *s, int64_t lo, int64_t hi) {
    qsort(s->recs, s->nrec, sizeof(rec_t), rec_cmp_desc);
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nrec; i++) {
        const rec_t *r = &s->recs[i];
        if (r->ts >= lo && r->ts <= hi && !hidden(s, r)) want[n++] = *r;
    }
    return n;
}

/* Drains the reverse merge with random capacities (and the f64 form now and then). */
static int drain_rev(tl_rmerge_t *m, uint32_t *got) {
    *got = 0;
    for (;;) {
        size_t cap = tl_t_rnd() % 4 == 0 ? 1 + tl_t_rnd() % 3 : 1 + tl_t_rnd() % 700, n = 99;
        bool f64 = tl_t_rnd() % 5 == 0;
        tl_status_t st = f64 ? tl_rmerge_next_f64(m, got_tf + *got, got_h + *got, cap, &n)
                             : tl_rmerge_next(m, got_ts + *got, got_h + *got, cap, &n);
        if (st == TL_EOF) return n == 0 ? 0 : 1;
        if (st != TL_OK || n == 0 || n > cap) return 2;
        for (size_t i = 0; f64 && i < n; i++) { /* doubles: equal to the wanted ts, rounded */
            size_t k = *got + i;
            bool ok = k < MAXSRC * MAXREC && got_tf[k] == (double)want[k].ts;
            got_ts[k] = ok ? want[k].ts : INT64_C(0x7eadbeef);
        }
        *got += (uint32_t)n;
        if (*got > MAXSRC * MAXREC) return 3;
    }
}

TL_TEST(rmerge_random_vs_reference) {
    static scen_t s;
    for (int iter = 0; iter < 300; iter++) {
        uint64_t seed = 0x7e5e + (uint64_t)iter;
        tl_t_rng = seed * 0x9e3779b97f4a7c15ull + 1;
        scen_make(&s);
        for (int q = 0; q < 6; q++) {
            int64_t lo = rand_ts(4000), hi = rand_ts(4000);
            if (q == 0) {
                lo = INT64_MIN;
                hi = INT64_MAX;
            }
            if (lo > hi && tl_t_rnd() % 4) {
                int64_t x = lo;
                lo = hi;
                hi = x;
            }
            uint32_t nw = reference(&s, lo, hi), got = 0;
            CHECK(tl_rmerge_bytes(s.srcs, s.nsrc) <= sizeof mem);
            tl_rmerge_t *m = tl_rmerge_init(mem, s.srcs, s.nsrc, s.tombs, lo, hi);
            int bad = drain_rev(m, &got);
            size_t n = 5;
            if (tl_rmerge_next(m, got_ts, got_h, 10, &n) != TL_EOF || n != 0) bad = 4;
            if (bad) TL_FAIL_("seed %" PRIu64 " q %d: protocol error %d", seed, q, bad);
            if (got != nw) TL_FAIL_("seed %" PRIu64 " q %d: %u records, want %u", seed, q, got, nw);
            for (uint32_t i = 0; i < got; i++) {
                if (got_h[i] != want[i].h || got_ts[i] != want[i].ts) {
                    TL_FAIL_("seed %" PRIu64 " q %d: record %u differs", seed, q, i);
                }
            }
            /* The forward merge of the same range, reversed, is the same sequence. */
            tl_merge_t *f = NULL;
            CHECK_OK(tl_merge_open(NULL, s.srcs, s.nsrc, s.tombs, lo, hi, &f));
            size_t fn = 0, k = 0;
            while (tl_merge_next(f, NULL, fwd_h + k, 512, &fn) == TL_OK) k += fn;
            tl_merge_close(f);
            CHECK_EQ_U64(k, got);
            for (size_t i = 0; i < k; i++) CHECK_EQ_U64(fwd_h[k - 1 - i], got_h[i]);
        }
        scen_free(&s);
    }
    CHECK(packed_pages > 100);
}

static tl_run_t *run_of(const int64_t *ts, const uint64_t *h, size_t n, uint32_t pr,
                        uint64_t wm) {
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, pr);
    tl_rb_push_many(&b, ts, h, n);
    tl_run_t *r = NULL;
    tl_rb_finish(&b, wm, &r);
    return r;
}

TL_TEST(rmerge_ties_newest_first) {
    int64_t ts[] = {5, 5, 5, 7};
    uint64_t a[] = {1, 2, 3, 4}, b[] = {10, 11, 12, 13};
    tl_run_t *ra = run_of(ts, a, 4, 2, TL_SEQ_MAX), *rb = run_of(ts, b, 4, 3, TL_SEQ_MAX);
    tl_source_t srcs[2] = {{&ra, 1, 0, false}, {&rb, 1, 1, false}};
    tl_rmerge_t *m = tl_rmerge_init(mem, srcs, 2, NULL, 5, 7);
    size_t n = 0;
    CHECK_OK(tl_rmerge_next(m, got_ts, got_h, 100, &n));
    uint64_t want_h[] = {13, 4, 12, 11, 10, 3, 2, 1};
    CHECK_EQ_U64(n, 8);
    for (size_t i = 0; i < 8; i++) CHECK_EQ_U64(got_h[i], want_h[i]);
    /* The reverse point cursor: the records at 5, newest first, in batches of 2. */
    tl_point_t pt;
    tl_point_init(&pt, srcs, 2, NULL, 5);
    uint64_t want_p[] = {12, 11, 10, 3, 2, 1};
    size_t k = 0, got;
    while ((got = tl_point_next_rev(&pt, got_ts + k, got_h + k, 2)) > 0) k += got;
    CHECK_EQ_U64(k, 6);
    for (size_t i = 0; i < 6; i++) {
        CHECK_EQ_U64(got_h[i], want_p[i]);
        CHECK_EQ_I64(got_ts[i], 5);
    }
    tl_run_unref(ra);
    tl_run_unref(rb);
}

TL_TEST(rmerge_empty_and_extremes) {
    int64_t ts[] = {INT64_MIN, INT64_MIN, 0, INT64_MAX, INT64_MAX};
    uint64_t h[] = {1, 2, 3, 4, 5};
    tl_run_t *r = run_of(ts, h, 5, 2, TL_SEQ_MAX);
    tl_source_t src = {&r, 1, 0, false};
    size_t n = 9;
    tl_rmerge_t *m = tl_rmerge_init(mem, &src, 1, NULL, 1, 0); /* lo > hi: empty */
    CHECK_ST(tl_rmerge_next(m, got_ts, got_h, 10, &n), TL_EOF);
    CHECK_EQ_U64(n, 0);
    m = tl_rmerge_init(mem, &src, 1, NULL, INT64_MIN, INT64_MAX);
    CHECK_OK(tl_rmerge_next(m, got_ts, got_h, 10, &n));
    CHECK_EQ_U64(n, 5);
    for (size_t i = 0; i < 5; i++) CHECK_EQ_U64(got_h[i], 5 - i);
    m = tl_rmerge_init(mem, &src, 1, NULL, INT64_MIN, INT64_MIN);
    CHECK_OK(tl_rmerge_next(m, got_ts, got_h, 10, &n));
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(got_h[0], 2);
    m = tl_rmerge_init(mem, &src, 0, NULL, INT64_MIN, INT64_MAX); /* no source */
    CHECK_ST(tl_rmerge_next(m, got_ts, got_h, 10, &n), TL_EOF);
    tl_run_unref(r);
}

int main(void) {
    RUN(rmerge_random_vs_reference);
    RUN(rmerge_ties_newest_first);
    RUN(rmerge_empty_and_extremes);
    return tl_test_done("rmerge_test");
}
