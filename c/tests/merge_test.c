/*
 * merge_test.c — the k-way merge against a brute-force reference: random sources (chains of
 * disjoint runs, duplicates, INT64_MIN/INT64_MAX records, pages of 1..64 records), random
 * tombstone sets and watermarks, random ranges and batch capacities. Output must match the
 * stable order (ts, rank, position in source) exactly, and the drop sink must see exactly
 * the hidden records, in order, before the records after them are returned.
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

static int rec_cmp(const void *pa, const void *pb) {
    const rec_t *a = pa, *b = pb;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* Expected visible and hidden records of [lo, hi], each in merge order. */
static rec_t want_vis[MAXSRC * MAXREC], want_hid[MAXSRC * MAXREC];
static uint32_t nwant_vis, nwant_hid;

static void reference(scen_t *s, int64_t lo, int64_t hi) {
    qsort(s->recs, s->nrec, sizeof(rec_t), rec_cmp);
    nwant_vis = nwant_hid = 0;
    for (uint32_t i = 0; i < s->nrec; i++) {
        const rec_t *r = &s->recs[i];
        if (r->ts < lo || r->ts > hi) continue;
        bool hidden = r->wm != TL_SEQ_MAX && ref_seq_at(s, r->ts) > r->wm;
        if (hidden) {
            want_hid[nwant_hid++] = *r;
        } else {
            want_vis[nwant_vis++] = *r;
        }
    }
}

/* ---- the merge under test ---- */

typedef struct sink_log {
    int64_t ts[MAXSRC * MAXREC];
    uint64_t h[MAXSRC * MAXREC];
    uint32_t call[MAXSRC * MAXREC]; /* the tl_merge_next call during which it was sunk */
    uint32_t n, cur_call, fail_after; /* fail_after: return ENOMEM once n would pass it */
} sink_log_t;

static tl_status_t log_sink(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    sink_log_t *l = ctx;
    if (n == 0) return TL_EINTERNAL;
    if (l->fail_after && l->n + n > l->fail_after) return TL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        l->ts[l->n] = ts[i];
        l->h[l->n] = h[i];
        l->call[l->n++] = l->cur_call;
    }
    return TL_OK;
}

static int64_t got_ts[MAXSRC * MAXREC + 64];
static uint64_t got_h[MAXSRC * MAXREC + 64];
static uint32_t vis_before[MAXSRC * MAXREC + 8]; /* visible records returned before call c */
static sink_log_t slog;

/* Drains a merge with random capacities; returns the number of visible records. */
static uint32_t drain(tl_merge_t *m, bool with_sink, int *bad) {
    uint32_t got = 0, call = 0;
    *bad = 0;
    for (;;) {
        size_t cap = tl_t_rnd() % 4 == 0 ? 1 + tl_t_rnd() % 3 : 1 + tl_t_rnd() % 700, n = 99;
        vis_before[call] = got;
        slog.cur_call = call++;
        bool no_ts = tl_t_rnd() % 16 == 0; /* either column may be skipped */
        tl_status_t st = tl_merge_next(m, no_ts ? NULL : got_ts + got, got_h + got, cap, &n);
        if (st == TL_EOF) {
            if (n != 0) *bad = 1;
            break;
        }
        if (st != TL_OK || n == 0 || n > cap) {
            *bad = 2;
            break;
        }
        if (no_ts) {
            for (size_t i = 0; i < n; i++) got_ts[got + i] = INT64_C(0x7eadbeef);
        }
        got += (uint32_t)n;
        if (got > MAXSRC * MAXREC) {
            *bad = 3;
            break;
        }
    }
    size_t n = 5;
    if (tl_merge_next(m, got_ts, got_h, 10, &n) != TL_EOF || n != 0) *bad = 4; /* stays EOF */
    (void)with_sink;
    return got;
}

static int64_t rand_bound(const scen_t *s) {
    if (s->nrec > 0 && tl_t_rnd() % 3 == 0) return s->recs[tl_t_rnd() % s->nrec].ts;
    return rand_ts(tl_t_rnd() % 2 ? 40 : 4000);
}

TL_TEST(merge_random_vs_reference) {
    static scen_t s;
    uint64_t seed0 = 0x3e76e;
    for (int iter = 0; iter < 400; iter++) {
        uint64_t seed = seed0 + (uint64_t)iter;
        tl_t_rng = seed * 0x9e3779b97f4a7c15ull + 1;
        scen_make(&s);
        for (int q = 0; q < 6; q++) {
            int64_t lo = rand_bound(&s), hi = rand_bound(&s);
            if (q == 0) { lo = INT64_MIN; hi = INT64_MAX; }
            if (lo > hi && tl_t_rnd() % 4) { int64_t x = lo; lo = hi; hi = x; }
            reference(&s, lo, hi);
            bool with_sink = tl_t_rnd() % 2;
            tl_merge_t *m = NULL;
            CHECK_OK(tl_merge_open(NULL, s.srcs, s.nsrc, s.tombs, lo, hi, &m));
            memset(&slog, 0, sizeof(slog));
            if (with_sink) tl_merge_set_sink(m, log_sink, &slog);
            int bad = 0;
            uint32_t got = drain(m, with_sink, &bad);
            tl_merge_close(m);
            if (bad) TL_FAIL_("seed %" PRIu64 " q %d: protocol error %d", seed, q, bad);
            if (got != nwant_vis) {
                TL_FAIL_("seed %" PRIu64 " q %d: %u records, want %u", seed, q, got, nwant_vis);
            }
            for (uint32_t i = 0; i < got; i++) {
                bool ts_ok = got_ts[i] == want_vis[i].ts || got_ts[i] == INT64_C(0x7eadbeef);
                if (!ts_ok || got_h[i] != want_vis[i].h) {
                    TL_FAIL_("seed %" PRIu64 " q %d: record %u differs", seed, q, i);
                }
            }
            if (!with_sink) continue;
            if (slog.n != nwant_hid) {
                TL_FAIL_("seed %" PRIu64 " q %d: sink %u, want %u", seed, q, slog.n, nwant_hid);
            }
            /* Each hidden record reached the sink in order, no later than the call that
             * returned the first visible record after it. */
            uint32_t vis_lt = 0;
            for (uint32_t i = 0; i < slog.n; i++) {
                if (slog.ts[i] != want_hid[i].ts || slog.h[i] != want_hid[i].h) {
                    TL_FAIL_("seed %" PRIu64 " q %d: sunk record %u differs", seed, q, i);
                }
                while (vis_lt < nwant_vis && rec_cmp(&want_vis[vis_lt], &want_hid[i]) < 0) {
                    vis_lt++;
                }
                if (vis_before[slog.call[i]] > vis_lt) {
                    TL_FAIL_("seed %" PRIu64 " q %d: sunk record %u too late", seed, q, i);
                }
            }
        }
        scen_free(&s);
    }
}

static int src_rank_cmp(const void *pa, const void *pb) {
    const tl_source_t *a = pa, *b = pb;
    return (a->rank > b->rank) - (a->rank < b->rank);
}

/* The point reads (point.c) must return exactly what the merge returns for [t, t]: the
 * same reference, with random capacities (so a read stops inside a run of equal records and
 * resumes), one-record pages (equal records spanning pages), both columns optional; and a
 * single tl_point_read of a random slice gives the total and exactly that slice. */
TL_TEST(point_random_vs_reference) {
    static scen_t s;
    uint64_t seed0 = 0x90147;
    for (int iter = 0; iter < 400; iter++) {
        uint64_t seed = seed0 + (uint64_t)iter;
        tl_t_rng = seed * 0x9e3779b97f4a7c15ull + 1;
        scen_make(&s);
        tl_source_t byrank[MAXSRC];
        memcpy(byrank, s.srcs, s.nsrc * sizeof(tl_source_t));
        qsort(byrank, s.nsrc, sizeof(tl_source_t), src_rank_cmp);
        for (int q = 0; q < 12; q++) {
            int64_t t = rand_bound(&s);
            reference(&s, t, t);
            tl_point_t pt;
            tl_point_init(&pt, byrank, s.nsrc, s.tombs, t);
            uint32_t got = 0;
            for (;;) {
                size_t cap = tl_t_rnd() % 3 == 0 ? 1 : 1 + tl_t_rnd() % 9;
                bool no_h = tl_t_rnd() % 8 == 0;
                size_t n = tl_point_next(&pt, got_ts + got, no_h ? NULL : got_h + got, cap);
                if (n > cap) TL_FAIL_("seed %" PRIu64 " q %d: %zu > cap %zu", seed, q, n, cap);
                if (n == 0) break;
                for (size_t i = 0; i < n && no_h; i++) got_h[got + i] = UINT64_MAX; /* unread */
                got += (uint32_t)n;
                if (got > nwant_vis) break;
            }
            if (!pt.done || tl_point_next(&pt, got_ts, got_h, 4) != 0) {
                TL_FAIL_("seed %" PRIu64 " q %d: not done after the end", seed, q);
            }
            if (got != nwant_vis) {
                TL_FAIL_("seed %" PRIu64 " q %d: %u records, want %u", seed, q, got, nwant_vis);
            }
            for (uint32_t i = 0; i < got; i++) {
                bool h_ok = got_h[i] == want_vis[i].h || got_h[i] == UINT64_MAX;
                if (got_ts[i] != t || !h_ok) {
                    TL_FAIL_("seed %" PRIu64 " q %d: record %u differs", seed, q, i);
                }
            }
            /* One stateless read of a random slice: the total, the slice, nothing past it. */
            uint64_t skip = tl_t_rnd() % (nwant_vis + 3);
            size_t cap = tl_t_rnd() % 7;
            for (size_t i = 0; i <= cap; i++) got_h[i] = UINT64_MAX;
            uint64_t total = tl_point_read(byrank, s.nsrc, tl_tombs_seq_at(s.tombs, t), t, skip,
                                           got_h, cap);
            if (total != nwant_vis) {
                TL_FAIL_("seed %" PRIu64 " q %d: read total %" PRIu64 ", want %u", seed, q,
                         total, nwant_vis);
            }
            for (size_t i = 0; i <= cap; i++) {
                uint64_t want = i < cap && skip + i < nwant_vis ? want_vis[skip + i].h : UINT64_MAX;
                if (got_h[i] != want) {
                    TL_FAIL_("seed %" PRIu64 " q %d: read skip %" PRIu64 " slot %zu differs",
                             seed, q, skip, i);
                }
            }
        }
        scen_free(&s);
    }
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

TL_TEST(merge_empty_cases) {
    tl_merge_t *m = NULL;
    size_t n = 7;
    int64_t ts[4];
    CHECK_OK(tl_merge_open(NULL, NULL, 0, NULL, INT64_MIN, INT64_MAX, &m));
    CHECK_ST(tl_merge_next(m, ts, NULL, 4, &n), TL_EOF);
    CHECK_EQ_U64(n, 0);
    tl_merge_close(m);
    int64_t t1[3] = {1, 2, 3};
    uint64_t h1[3] = {1, 2, 3};
    tl_run_t *r = run_of(t1, h1, 3, 64, 0);
    tl_source_t src[2] = {{&r, 1, 0, false}, {NULL, 0, 1, false}};
    CHECK_OK(tl_merge_open(NULL, src, 2, NULL, 3, 2, &m)); /* lo > hi */
    CHECK_ST(tl_merge_next(m, ts, NULL, 4, &n), TL_EOF);
    tl_merge_close(m);
    CHECK_OK(tl_merge_open(NULL, src, 2, NULL, 4, INT64_MAX, &m)); /* past the data */
    CHECK_ST(tl_merge_next(m, ts, NULL, 4, &n), TL_EOF);
    tl_merge_close(m);
    CHECK_OK(tl_merge_open(NULL, src, 2, NULL, 2, 2, &m));
    CHECK_OK(tl_merge_next(m, ts, NULL, 0, &n)); /* cap 0: nothing, not exhausted */
    CHECK_EQ_U64(n, 0);
    CHECK_OK(tl_merge_next(m, ts, NULL, 4, &n));
    CHECK(n == 1 && ts[0] == 2);
    CHECK_ST(tl_merge_next(m, ts, NULL, 4, &n), TL_EOF);
    tl_merge_close(m);
    tl_merge_close(NULL);
    tl_run_unref(r);
}

/* Equal timestamps come out by rank (oldest first), whatever the source order. */
TL_TEST(merge_tie_order_by_rank) {
    int64_t t[4] = {5, 5, 5, 6};
    uint64_t ha[4] = {10, 11, 12, 13}, hb[4] = {20, 21, 22, 23}, hc[4] = {30, 31, 32, 33};
    tl_run_t *a = run_of(t, ha, 4, 1, 0), *b = run_of(t, hb, 4, 2, 0);
    tl_run_t *c = run_of(t, hc, 4, 64, TL_SEQ_MAX);
    tl_source_t src[3] = {{&a, 1, 7, false}, {&b, 1, 2, false}, {&c, 1, 9, false}};
    tl_merge_t *m = NULL;
    CHECK_OK(tl_merge_open(NULL, src, 3, NULL, INT64_MIN, INT64_MAX, &m));
    uint64_t h[16];
    size_t n = 0;
    CHECK_OK(tl_merge_next(m, NULL, h, 16, &n));
    CHECK_EQ_U64(n, 12);
    uint64_t want[12] = {20, 21, 22, 10, 11, 12, 30, 31, 32, 23, 13, 33};
    for (int i = 0; i < 12; i++) CHECK_EQ_U64(h[i], want[i]);
    tl_merge_close(m);
    tl_run_unref(a);
    tl_run_unref(b);
    tl_run_unref(c);
}

/* Records at the int64 extremes, tombstones touching them, ranges ending there. */
TL_TEST(merge_int64_extremes) {
    int64_t t[6] = {INT64_MIN, INT64_MIN, 0, INT64_MAX - 1, INT64_MAX, INT64_MAX};
    uint64_t hh[6] = {1, 2, 3, 4, 5, 6};
    tl_run_t *r = run_of(t, hh, 6, 1, 1);
    tl_tombs_t *tb = NULL;
    CHECK_OK(tl_tombs_insert(NULL, NULL, INT64_MAX, INT64_MAX, 2, &tb));
    tl_source_t src = {&r, 1, 0, false};
    tl_merge_t *m = NULL;
    int64_t ts[8];
    uint64_t h[8];
    size_t n = 0;
    CHECK_OK(tl_merge_open(NULL, &src, 1, tb, INT64_MIN, INT64_MAX, &m));
    CHECK_OK(tl_merge_next(m, ts, h, 8, &n));
    CHECK_EQ_U64(n, 4); /* both INT64_MAX records hidden */
    CHECK(ts[0] == INT64_MIN && ts[3] == INT64_MAX - 1);
    tl_merge_close(m);
    CHECK_OK(tl_merge_open(NULL, &src, 1, NULL, INT64_MAX, INT64_MAX, &m));
    CHECK_OK(tl_merge_next(m, ts, h, 8, &n));
    CHECK(n == 2 && h[0] == 5 && h[1] == 6);
    tl_merge_close(m);
    CHECK_OK(tl_merge_open(NULL, &src, 1, NULL, INT64_MIN, INT64_MIN, &m));
    CHECK_OK(tl_merge_next(m, ts, h, 8, &n));
    CHECK(n == 2 && h[0] == 1 && h[1] == 2);
    tl_merge_close(m);
    tl_tombs_t *tb2 = NULL;
    CHECK_OK(tl_tombs_insert(tb, NULL, INT64_MIN, 0, 3, &tb2));
    CHECK_OK(tl_merge_open(NULL, &src, 1, tb2, INT64_MIN, INT64_MAX, &m));
    CHECK_OK(tl_merge_next(m, ts, h, 8, &n));
    CHECK(n == 1 && h[0] == 4);
    tl_merge_close(m);
    tl_tombs_unref(tb);
    tl_tombs_unref(tb2);
    tl_run_unref(r);
}

/* A large single source: a scan is a page copy and returns everything in order. */
TL_TEST(merge_single_source_scan) {
    enum { N = 100000 };
    static int64_t ts[N], out_ts[N];
    static uint64_t hs[N], out_h[N];
    for (size_t i = 0; i < N; i++) {
        ts[i] = (int64_t)(i / 3);
        hs[i] = i;
    }
    tl_run_t *r = run_of(ts, hs, N, 4096, 0);
    tl_source_t src = {&r, 1, 0, false};
    tl_merge_t *m = NULL;
    CHECK_OK(tl_merge_open(NULL, &src, 1, NULL, INT64_MIN, INT64_MAX, &m));
    size_t got = 0, n = 0;
    while (tl_merge_next(m, out_ts + got, out_h + got, 5000, &n) == TL_OK) got += n;
    CHECK_EQ_U64(got, N);
    CHECK(memcmp(ts, out_ts, sizeof(ts)) == 0 && memcmp(hs, out_h, sizeof(hs)) == 0);
    tl_merge_close(m);
    tl_run_unref(r);
}

TL_TEST(merge_sink_error_is_sticky) {
    int64_t t[5] = {1, 2, 3, 4, 5};
    uint64_t hh[5] = {1, 2, 3, 4, 5};
    tl_run_t *r = run_of(t, hh, 5, 64, 1);
    tl_tombs_t *tb = NULL;
    CHECK_OK(tl_tombs_insert(NULL, NULL, 2, 3, 2, &tb));
    tl_source_t src = {&r, 1, 0, false};
    tl_merge_t *m = NULL;
    CHECK_OK(tl_merge_open(NULL, &src, 1, tb, INT64_MIN, INT64_MAX, &m));
    memset(&slog, 0, sizeof(slog));
    slog.fail_after = 1;
    tl_merge_set_sink(m, log_sink, &slog);
    int64_t ts[8];
    size_t n = 9;
    CHECK_ST(tl_merge_next(m, ts, NULL, 8, &n), TL_ENOMEM);
    CHECK_EQ_U64(n, 0);
    CHECK_ST(tl_merge_next(m, ts, NULL, 8, &n), TL_ENOMEM);
    tl_merge_close(m);
    tl_tombs_unref(tb);
    tl_run_unref(r);
}

TL_TEST(merge_open_enomem) {
    fail_alloc_t f = {.fail_at = 1};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_merge_t *m = (tl_merge_t *)&f;
    CHECK_ST(tl_merge_open(&a, NULL, 0, NULL, 0, 1, &m), TL_ENOMEM);
    CHECK(m == NULL);
    CHECK_OK(tl_merge_open(&a, NULL, 0, NULL, 0, 1, &m));
    tl_merge_close(m);
    CHECK_EQ_I64(f.live_blocks, 0);
    CHECK_EQ_I64(f.live_bytes, 0);
}

int main(void) {
    RUN(merge_empty_cases);
    RUN(merge_tie_order_by_rank);
    RUN(merge_int64_extremes);
    RUN(merge_single_source_scan);
    RUN(merge_sink_error_is_sticky);
    RUN(merge_open_enomem);
    RUN(merge_random_vs_reference);
    RUN(point_random_vs_reference);
    return tl_test_done("merge_test");
}
