/*
 * query_test.c — count, first_ge and last_le against a brute-force reference over random
 * sources (chains of runs, duplicates, INT64_MIN/INT64_MAX, pages of 1..64 records), random
 * tombstone sets and watermarks; plus a cross-check of count against the merge output and
 * hand-written cases where the candidate record is hidden and the search must jump.
 */
#include "merge.h"
#include "test.h"

/* ---- a random scenario and its reference ---- */

enum { MAXSRC = 7, MAXRUNS = 4, MAXREC = 4000, MAXTOMB = 12 };

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

static uint64_t ref_seq_at(const scen_t *s, int64_t t) {
    uint64_t best = 0;
    for (uint32_t i = 0; i < s->ntomb; i++) {
        if (s->tlo[i] <= t && t <= s->thi[i]) best = i + 1;
    }
    return best;
}

/* Builds source `src`: n sorted records split into up to MAXRUNS disjoint runs. */
static void build_source(scen_t *s, uint32_t src, uint32_t rank, int64_t span) {
    static int64_t ts[MAXREC];
    static uint64_t hs[MAXREC];
    uint32_t n = (uint32_t)(tl_t_rnd() % 4 == 0 ? tl_t_rnd() % 5 : tl_t_rnd() % MAXREC);
    for (uint32_t i = 0; i < n; i++) ts[i] = rand_ts(span);
    qsort(ts, n, sizeof(int64_t), cmp_i64);
    uint32_t pr = (uint32_t)(tl_t_rnd() % 3 == 0 ? 1 + tl_t_rnd() % 3 : 64);
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
        tl_rb_finish(&b, wm, &s->runs[src][nr++]);
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
        if (a > b) { int64_t x = a; a = b; b = x; }
        if (tl_t_rnd() % 2) { /* short tombstones too */
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
    for (uint32_t i = s->nsrc; i-- > 1;) { /* shuffle: source order != rank order */
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

static bool ref_visible(const scen_t *s, const rec_t *r) {
    return r->wm == TL_SEQ_MAX || ref_seq_at(s, r->ts) <= r->wm;
}

static uint64_t ref_count(const scen_t *s, int64_t lo, int64_t hi) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->nrec; i++) {
        const rec_t *r = &s->recs[i];
        n += r->ts >= lo && r->ts <= hi && ref_visible(s, r);
    }
    return n;
}

static bool ref_first_ge(const scen_t *s, int64_t x, int64_t *out) {
    bool found = false;
    for (uint32_t i = 0; i < s->nrec; i++) {
        const rec_t *r = &s->recs[i];
        if (r->ts >= x && ref_visible(s, r) && (!found || r->ts < *out)) {
            *out = r->ts;
            found = true;
        }
    }
    return found;
}

static bool ref_last_le(const scen_t *s, int64_t x, int64_t *out) {
    bool found = false;
    for (uint32_t i = 0; i < s->nrec; i++) {
        const rec_t *r = &s->recs[i];
        if (r->ts <= x && ref_visible(s, r) && (!found || r->ts > *out)) {
            *out = r->ts;
            found = true;
        }
    }
    return found;
}

static int64_t rand_point(const scen_t *s) {
    uint64_t k = tl_t_rnd() % 8;
    if (k == 0 && s->ntomb > 0) {
        uint32_t i = (uint32_t)(tl_t_rnd() % s->ntomb);
        return tl_t_rnd() % 2 ? s->tlo[i] : s->thi[i];
    }
    if (k == 1 && s->nrec > 0) return s->recs[tl_t_rnd() % s->nrec].ts;
    return rand_ts(tl_t_rnd() % 2 ? 40 : 4000);
}

TL_TEST(query_random_vs_reference) {
    static scen_t s;
    for (int iter = 0; iter < 500; iter++) {
        uint64_t seed = 0x9e71 + (uint64_t)iter;
        tl_t_rng = seed * 0x9e3779b97f4a7c15ull + 1;
        scen_make(&s);
        for (int q = 0; q < 40; q++) {
            int64_t lo = rand_point(&s), hi = rand_point(&s);
            if (q == 0) { lo = INT64_MIN; hi = INT64_MAX; }
            if (lo > hi && tl_t_rnd() % 4) { int64_t x = lo; lo = hi; hi = x; }
            uint64_t got = tl_query_count(s.srcs, s.nsrc, s.tombs, lo, hi);
            uint64_t want = ref_count(&s, lo, hi);
            if (got != want) {
                TL_FAIL_("seed %" PRIu64 " q %d: count %" PRIu64 " want %" PRIu64, seed, q, got,
                         want);
            }
            int64_t x = rand_point(&s), a = 0, b = 0;
            bool fa = ref_first_ge(&s, x, &a);
            tl_status_t st = tl_query_first_ge(s.srcs, s.nsrc, s.tombs, x, &b);
            if (st != (fa ? TL_OK : TL_EOF) || (fa && a != b)) {
                TL_FAIL_("seed %" PRIu64 " q %d: first_ge(%" PRId64 ")", seed, q, x);
            }
            fa = ref_last_le(&s, x, &a);
            st = tl_query_last_le(s.srcs, s.nsrc, s.tombs, x, &b);
            if (st != (fa ? TL_OK : TL_EOF) || (fa && a != b)) {
                TL_FAIL_("seed %" PRIu64 " q %d: last_le(%" PRId64 ")", seed, q, x);
            }
        }
        /* count agrees with what a merge returns. */
        tl_merge_t *m = NULL;
        int64_t lo = rand_point(&s), hi = rand_point(&s);
        CHECK_OK(tl_merge_open(NULL, s.srcs, s.nsrc, s.tombs, lo, hi, &m));
        static int64_t buf[512];
        uint64_t total = 0;
        size_t n = 0;
        while (tl_merge_next(m, buf, NULL, 512, &n) == TL_OK) total += n;
        tl_merge_close(m);
        CHECK_EQ_U64(total, tl_query_count(s.srcs, s.nsrc, s.tombs, lo, hi));
        scen_free(&s);
    }
}

static tl_run_t *run_of(const int64_t *ts, size_t n, uint32_t pr, uint64_t wm) {
    tl_run_builder_t b;
    tl_rb_init(&b, NULL, pr);
    for (size_t i = 0; i < n; i++) tl_rb_push(&b, ts[i], i);
    tl_run_t *r = NULL;
    tl_rb_finish(&b, wm, &r);
    return r;
}

/* Hidden candidates: the search must jump over whole fragments, in both directions, and
 * across the runs of a chain, and stop at fragments touching the int64 extremes. */
TL_TEST(query_jumps_over_fragments) {
    int64_t t1[6] = {INT64_MIN, 10, 11, 12, 20, 30};
    int64_t t2[4] = {40, 41, 50, INT64_MAX};
    tl_run_t *chain[2] = {run_of(t1, 6, 1, 1), run_of(t2, 4, 2, 1)};
    tl_source_t src = {chain, 2, 0, false};
    tl_tombs_t *tb = NULL, *t = NULL;
    CHECK_OK(tl_tombs_insert(NULL, NULL, 10, 20, 2, &tb));
    CHECK_OK(tl_tombs_insert(tb, NULL, 30, 45, 3, &t));
    tl_tombs_unref(tb);
    tb = t;
    int64_t out = 0;
    CHECK_OK(tl_query_first_ge(&src, 1, tb, 5, &out));
    CHECK_EQ_I64(out, 50); /* 10..20 and 30..45 hidden, across the chain boundary */
    CHECK_OK(tl_query_last_le(&src, 1, tb, 49, &out));
    CHECK_EQ_I64(out, INT64_MIN);
    CHECK_OK(tl_query_first_ge(&src, 1, tb, INT64_MIN, &out));
    CHECK_EQ_I64(out, INT64_MIN);
    CHECK_OK(tl_query_last_le(&src, 1, tb, INT64_MAX, &out));
    CHECK_EQ_I64(out, INT64_MAX);
    CHECK_EQ_U64(tl_query_count(&src, 1, tb, INT64_MIN, INT64_MAX), 3);
    CHECK_EQ_U64(tl_query_count(&src, 1, tb, 11, 44), 0);
    CHECK_EQ_U64(tl_query_count(&src, 1, tb, 1, 0), 0);
    /* Fragments reaching the extremes end the search. */
    CHECK_OK(tl_tombs_insert(tb, NULL, 46, INT64_MAX, 4, &t));
    tl_tombs_unref(tb);
    tb = t;
    CHECK_ST(tl_query_first_ge(&src, 1, tb, 5, &out), TL_EOF);
    CHECK_OK(tl_tombs_insert(tb, NULL, INT64_MIN, 0, 5, &t));
    tl_tombs_unref(tb);
    tb = t;
    CHECK_ST(tl_query_last_le(&src, 1, tb, INT64_MAX, &out), TL_EOF);
    CHECK_EQ_U64(tl_query_count(&src, 1, tb, INT64_MIN, INT64_MAX), 0);
    /* A run above every tombstone (wm >= all seqs), or a mutable view, sees everything. */
    tl_run_t *fresh = run_of(t2, 4, 64, TL_SEQ_MAX);
    tl_source_t both[2] = {src, {&fresh, 1, 1, false}};
    CHECK_OK(tl_query_last_le(both, 2, tb, INT64_MAX, &out));
    CHECK_EQ_I64(out, INT64_MAX);
    CHECK_EQ_U64(tl_query_count(both, 2, tb, INT64_MIN, INT64_MAX), 4);
    CHECK_ST(tl_query_first_ge(NULL, 0, tb, 0, &out), TL_EOF);
    CHECK_ST(tl_query_last_le(NULL, 0, NULL, 0, &out), TL_EOF);
    tl_run_unref(fresh);
    tl_run_unref(chain[0]);
    tl_run_unref(chain[1]);
    tl_tombs_unref(tb);
}

int main(void) {
    RUN(query_jumps_over_fragments);
    RUN(query_random_vs_reference);
    return tl_test_done("query_test");
}
