/*
 * asof_test.c — as-of lookups (asof.c) through the public API against a brute-force model:
 * random appends with many duplicates and late records, deletes, flushes and compactions (so
 * lookups cross memtable, L0 and packed L1 sources, ties between them, and hidden candidates);
 * single lookups, columns in random and ascending order, int64 and double forms, the int64
 * ends, bad doubles, and an empty log. asof_miniblock_edges aims at the walk's miniblock
 * steps on packed pages: runs of equal timestamps across miniblock and page edges, queries at
 * every timestamp and either side of it, repeated, dense and sparse, packed and raw pages,
 * handle and double values, three sources and tombstones. asof_long_column_two_threads runs
 * columns long enough for the two-thread walk.
 */
#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "test.h"
#include "timelog.h"

enum { MAXREC = 13000, NQ = 700 };

typedef struct mrec {
    int64_t ts;
    uint64_t h;
    bool dead;
} mrec_t;

static mrec_t recs[MAXREC];
static size_t nrec;

/* The model's as-of record of x: the last inserted among the live records at the largest
 * ts <= x; -1 when none. */
static long model_asof(int64_t x) {
    long best = -1;
    for (size_t i = 0; i < nrec; i++) {
        if (recs[i].dead || recs[i].ts > x) continue;
        if (best < 0 || recs[i].ts >= recs[best].ts) best = (long)i;
    }
    return best;
}

static tl_timelog_t *open_log(uint32_t page) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = page;
    c.memtable_records = 256;
    c.sealed_max = 64;
    c.window_size = 500;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

static int64_t rand_ts(void) {
    uint64_t k = tl_t_rnd() % 40;
    if (k == 0) return INT64_MIN;
    if (k == 1) return INT64_MAX;
    return (int64_t)(tl_t_rnd() % 3000);
}

/* One random write or maintenance step. */
static void step(tl_timelog_t *tl) {
    uint64_t k = tl_t_rnd() % 100;
    if (k < 80 && nrec < MAXREC) {
        int64_t ts = rand_ts();
        uint64_t h = nrec + 1;
        int st = tl_append(tl, ts, h);
        if (st == TL_OK || st == TL_EBUSY) recs[nrec++] = (mrec_t){ts, h, false};
    } else if (k < 88) {
        int64_t a = (int64_t)(tl_t_rnd() % 3000), b = a + (int64_t)(tl_t_rnd() % 60);
        (void)tl_delete_range(tl, a, b);
        for (size_t i = 0; i < nrec; i++) recs[i].dead |= recs[i].ts >= a && recs[i].ts < b;
    } else if (k < 95) {
        (void)tl_flush(tl);
    } else {
        (void)tl_compact(tl);
    }
}

static int64_t qbuf[NQ], tsout[NQ];
static uint64_t hout[NQ];
static uint8_t fout[NQ];
static double qf[NQ], tfout[NQ];

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

TL_TEST(asof_random_vs_model) {
    for (int run = 0; run < 12; run++) {
        tl_t_rng = 0xA50F + (uint64_t)run * 7919;
        nrec = 0;
        tl_timelog_t *tl = open_log(run % 2 ? 64 : 1100);
        CHECK(tl != NULL);
        for (int round = 0; round < 6; round++) {
            for (int i = 0; i < 700; i++) step(tl);
            tl_snapshot_t *s = NULL;
            CHECK_OK(tl_snapshot_acquire(tl, &s));
            for (size_t i = 0; i < NQ; i++) { /* around stored timestamps; the ends as they are */
                int64_t t = rand_ts();
                qbuf[i] = t == INT64_MIN || t == INT64_MAX ? t : t + (int64_t)(tl_t_rnd() % 3) - 1;
                /* rounds 2 and 4 leave the ends out: their keys differ in a few low bits only,
                 * so they sort as packed words (with the ends, as (key, index) pairs) */
                if ((round == 2 || round == 4) && (t == INT64_MIN || t == INT64_MAX)) qbuf[i] = 7;
            }
            if (round % 2) qsort(qbuf, NQ, sizeof qbuf[0], cmp_i64);
            CHECK_OK(tl_snapshot_asof_many(s, qbuf, NQ, tsout, hout, fout));
            for (size_t i = 0; i < NQ; i++) {
                long w = model_asof(qbuf[i]);
                int64_t t1 = 0;
                uint64_t h1 = 0;
                int st = tl_snapshot_asof(s, qbuf[i], &t1, &h1);
                if (w < 0) {
                    CHECK(fout[i] == 0 && tsout[i] == 0 && hout[i] == 0);
                    CHECK_ST(st, TL_EOF);
                    continue;
                }
                if (!fout[i] || tsout[i] != recs[w].ts || hout[i] != recs[w].h) {
                    TL_FAIL_("run %d round %d: asof(%" PRId64 ") got (%d, %" PRId64 ", %" PRIu64
                             ") want (%" PRId64 ", %" PRIu64 ")", run, round, qbuf[i], fout[i],
                             tsout[i], hout[i], recs[w].ts, recs[w].h);
                }
                CHECK_OK(st);
                CHECK(t1 == recs[w].ts && h1 == recs[w].h);
            }
            tl_snapshot_release(s);
        }
        CHECK_OK(tl_validate(tl));
        tl_close(tl);
    }
}

/* Columns long enough to be walked by two threads (TL_ASOF_SPLIT_MIN, 16384): many equal
 * queries (3000 distinct keys), so runs of them cross the chunks the threads claim; random
 * and ascending order, packed words and (key, index) pairs (the ends); each answer checked
 * against the single lookup, which asof_random_vs_model holds to the model. */
enum { LQ = 40000 };
static int64_t lq[LQ], lts[LQ];
static uint64_t lh[LQ];
static uint8_t lf[LQ];

/* asOfMany of lq[0, n) on s against the general search (tl_snapshot_asof), query by query;
 * the first difference fails the test. */
static void check_column_n(tl_snapshot_t *s, int run, size_t n) {
    CHECK_OK(tl_snapshot_asof_many(s, lq, n, lts, lh, lf));
    for (size_t i = 0; i < n; i++) {
        int64_t t1 = 0;
        uint64_t h1 = 0;
        bool want = tl_snapshot_asof(s, lq[i], &t1, &h1) == TL_OK;
        if (lf[i] != want || (want ? lts[i] != t1 || lh[i] != h1 : lts[i] != 0 || lh[i] != 0)) {
            TL_FAIL_("run %d: asof(%" PRId64 ") got (%d, %" PRId64 ", %" PRIu64
                     ") want (%d, %" PRId64 ", %" PRIu64 ")", run, lq[i], lf[i], lts[i], lh[i],
                     want, t1, h1);
        }
    }
}

static void check_column(tl_snapshot_t *s, int run) { check_column_n(s, run, LQ); }

/* The sort of a long column (by its top key bits into buckets, then each bucket by the
 * walking thread that claims it) on columns shaped to strain it: keys across a power of two
 * (a carry flips high bits that do not matter to the order), most keys in one bucket, three
 * distinct keys (fewer key bits than bucket bits), and lengths at the two-thread threshold. */
TL_TEST(asof_column_key_shapes) {
    tl_timelog_t *tl = open_log(1024);
    CHECK(tl != NULL);
    const int64_t base = ((int64_t)1 << 33) - 30000;
    for (int64_t i = 0; i < 20000; i++) {
        int st = tl_append(tl, base + 3 * i, (uint64_t)i + 1);
        CHECK(st == TL_OK || st == TL_EBUSY); /* EBUSY: stored, maintenance wanted */
        if (st == TL_EBUSY || i == 12000) CHECK_OK(tl_flush(tl));
        if (i == 15000) CHECK_OK(tl_compact(tl));
    }
    CHECK_OK(tl_delete_range(tl, base + 3000, base + 3300));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    tl_t_rng = 0x5EED;
    for (int shape = 0; shape < 5; shape++) {
        size_t n = shape == 3 ? 16384 : shape == 4 ? 16383 : LQ;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = tl_t_rnd();
            int64_t off = (int64_t)(r % 60200) - 100; /* uniform, across 2^33 */
            if (shape == 1 && r % 10 != 0) off = 1000 + (int64_t)(tl_t_rnd() % 100);
            if (shape == 2) off = (int64_t)(r % 3) * 7;
            lq[i] = base + off;
        }
        check_column_n(s, shape, n);
    }
    tl_snapshot_release(s);
    tl_close(tl);
}

TL_TEST(asof_long_column_two_threads) {
    for (int run = 0; run < 4; run++) {
        tl_t_rng = 0xB16C + (uint64_t)run * 104729;
        nrec = 0;
        tl_timelog_t *tl = open_log(run % 2 ? 64 : 1100);
        CHECK(tl != NULL);
        for (int i = 0; i < 6000; i++) step(tl);
        tl_snapshot_t *s = NULL;
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        for (size_t i = 0; i < LQ; i++) {
            int64_t t = rand_ts();
            lq[i] = run < 2 && (t == INT64_MIN || t == INT64_MAX) ? 11 : t;
        }
        if (run % 2) qsort(lq, LQ, sizeof lq[0], cmp_i64);
        check_column(s, run);
        tl_snapshot_release(s);
        tl_close(tl);
    }
}

/* A log as users' ingest leaves it before maintenance catches up: time-ordered records with
 * late ones, dozens of sealed memtables, a few L0 runs, an L1 and tombstones. Most sources lie
 * wholly before or after a group of queries (the walk's group plan skips them, and takes the
 * best of those before it once a group): every answer against the general search. */
TL_TEST(asof_many_sources_in_time_order) {
    for (int run = 0; run < 4; run++) {
        tl_t_rng = 0x5EA1 + (uint64_t)run * 7919;
        tl_timelog_t *tl = open_log(run % 2 ? 64 : 1100);
        CHECK(tl != NULL);
        int64_t newest = 1000;
        for (int i = 0; i < 30000; i++) {
            bool late = tl_t_rnd() % 20 == 0;
            int64_t ts = late ? newest - 1 - (int64_t)(tl_t_rnd() % 300)
                              : (newest += (int64_t)(tl_t_rnd() % 3));
            int st = tl_append(tl, ts, (uint64_t)i + 1);
            CHECK(st == TL_OK || st == TL_EBUSY);
            if (i == 6000 || i == 9000) CHECK_OK(tl_flush(tl));
            if (i == 12000 && run >= 2) CHECK_OK(tl_compact(tl));
            if (i % 7000 == 6999) {
                int64_t a = newest - 2000 - (int64_t)(tl_t_rnd() % 3000);
                CHECK_OK(tl_delete_range(tl, a, a + 1 + (int64_t)(tl_t_rnd() % 40)));
            }
        }
        tl_snapshot_t *s = NULL;
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        tl_stats_t st;
        CHECK_OK(tl_snapshot_stats(s, &st));
        CHECK(st.sealed_memtables >= 16); /* many sources */
        for (size_t i = 0; i < LQ; i++) {
            lq[i] = 500 + (int64_t)(tl_t_rnd() % (uint64_t)(newest + 200));
        }
        if (run % 2 == 0) qsort(lq, LQ, sizeof lq[0], cmp_i64);
        check_column(s, run);
        tl_snapshot_release(s);
        tl_close(tl);
    }
}

TL_TEST(asof_f64_columns_and_bad_queries) {
    tl_timelog_t *tl = open_log(64);
    CHECK(tl != NULL);
    nrec = 0;
    for (int64_t i = 0; i < 300; i++) CHECK_OK(tl_append(tl, i * 10, (uint64_t)i + 1));
    CHECK_OK(tl_append(tl, 100, 999)); /* a newer record at 100 wins there */
    CHECK_OK(tl_compact(tl));
    double q[] = {-INFINITY, -1, 0, 5, 100, 105, 2995, INFINITY, 1e300, -1e300};
    uint32_t n = sizeof q / sizeof q[0];
    CHECK_OK(tl_asof_many_f64(tl, q, n, tfout, hout, fout));
    double wt[] = {NAN, NAN, 0, 0, 100, 100, 2990, 2990, 2990, NAN};
    uint64_t wh[] = {0, 0, 1, 1, 999, 999, 300, 300, 300, 0};
    for (uint32_t i = 0; i < n; i++) {
        CHECK(fout[i] == !isnan(wt[i]));
        CHECK(isnan(wt[i]) ? isnan(tfout[i]) : tfout[i] == wt[i]);
        CHECK_EQ_U64(hout[i], wh[i]);
    }
    double bad[] = {1, 2.5};
    CHECK_ST(tl_asof_many_f64(tl, bad, 2, tfout, hout, fout), TL_EINVAL);
    bad[1] = NAN;
    CHECK_ST(tl_asof_many_f64(tl, bad, 2, tfout, hout, NULL), TL_EINVAL);
    CHECK_OK(tl_asof_many_f64(tl, qf, 0, NULL, NULL, NULL)); /* nothing to do */
    CHECK_ST(tl_asof_many_f64(tl, NULL, 3, tfout, hout, fout), TL_EINVAL);
    tl_close(tl);
}

/* On a log of doubles, the double form's h_out is the value column: NaN's bits where no
 * record is (a binding hands it out as is); the int64 form, and any log of handles, write 0. */
TL_TEST(asof_f64_values_nan_where_none) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.value_kind = TL_VALUES_F64;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    for (int64_t i = 1; i <= 40000; i++) { /* long enough for the two-thread walk */
        double v = (double)i / 4;
        uint64_t b;
        memcpy(&b, &v, sizeof b);
        CHECK_OK(tl_append(tl, i * 10, b));
    }
    enum { N = 20000 };
    static double q[N], t[N];
    static int64_t q64[N], t64[N];
    static uint64_t h[N], h64[N];
    static uint8_t f[N], f64[N];
    for (uint32_t i = 0; i < N; i++) {
        q[i] = (double)((int64_t)(tl_t_rnd() % 420000) - 10000); /* some before the first */
        q64[i] = (int64_t)q[i];
    }
    CHECK_OK(tl_asof_many_f64(tl, q, N, t, h, f));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK_OK(tl_snapshot_asof_many(s, q64, N, t64, h64, f64));
    uint32_t none = 0;
    for (uint32_t i = 0; i < N; i++) {
        int64_t k = q64[i] < 10 ? 0 : (q64[i] > 400000 ? 40000 : q64[i] / 10);
        double v;
        memcpy(&v, &h[i], sizeof v);
        CHECK(f[i] == (k > 0) && f64[i] == f[i]);
        if (k == 0) {
            none++;
            CHECK_EQ_U64(h[i], 0x7ff8000000000000ull);
            CHECK(isnan(t[i]) && isnan(v));
            CHECK_EQ_U64(h64[i], 0);
        } else {
            CHECK(v == (double)k / 4 && t[i] == (double)(k * 10));
            CHECK_EQ_U64(h64[i], h[i]);
        }
    }
    CHECK(none > 100);
    tl_snapshot_release(s);
    tl_close(tl);
}

TL_TEST(asof_empty_log_and_int64_ends) {
    tl_timelog_t *tl = open_log(64);
    CHECK(tl != NULL);
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    int64_t t = 7;
    CHECK_ST(tl_snapshot_asof(s, INT64_MAX, &t, NULL), TL_EOF);
    tl_snapshot_release(s);
    CHECK_OK(tl_append(tl, INT64_MIN, 1));
    CHECK_OK(tl_append(tl, INT64_MAX, 2));
    CHECK_OK(tl_append(tl, INT64_MAX, 3));
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    uint64_t h = 0;
    CHECK_OK(tl_snapshot_asof(s, INT64_MIN, &t, &h));
    CHECK(t == INT64_MIN && h == 1);
    CHECK_OK(tl_snapshot_asof(s, INT64_MAX - 1, &t, &h));
    CHECK(t == INT64_MIN && h == 1);
    CHECK_OK(tl_snapshot_asof(s, INT64_MAX, &t, &h));
    CHECK(t == INT64_MAX && h == 3);
    tl_snapshot_release(s);
    CHECK_OK(tl_delete_at(tl, INT64_MAX));
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK_OK(tl_snapshot_asof(s, INT64_MAX, &t, &h));
    CHECK(t == INT64_MIN && h == 1); /* the hidden candidates are skipped */
    tl_snapshot_release(s);
    tl_close(tl);
}

/* ---- miniblock edges ---- */

enum { EREC = 14000, EQ = 3 * 2 * 4200 };
static int64_t ets[EREC], eq[EQ], ets_out[EQ];
static uint64_t eh[EREC], eh_out[EQ];
static uint8_t ef[EQ];
static long eord[EREC]; /* live record indices sorted by (ts, insertion) */
static size_t nlive;

static int cmp_eord(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    if (recs[x].ts != recs[y].ts) return recs[x].ts < recs[y].ts ? -1 : 1;
    return (x > y) - (x < y);
}

/* The model's answer by bisection over eord (model_asof is too slow for these sizes). */
static long edge_model(int64_t x) {
    size_t lo = 0, hi = nlive; /* first position with ts > x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (recs[eord[mid]].ts <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo == 0 ? -1 : eord[lo - 1];
}

/* Appends recs[from, nrec) in one batch. */
static void edge_append(tl_timelog_t *tl, size_t from) {
    for (size_t i = from; i < nrec; i++) {
        ets[i - from] = recs[i].ts;
        eh[i - from] = recs[i].h;
    }
    CHECK_OK(tl_append_batch(tl, ets, eh, nrec - from, 0));
}

/* Checks the n queries of eq against the model, as a column and one by one. */
static void edge_check(tl_snapshot_t *s, size_t n, const char *what) {
    CHECK_OK(tl_snapshot_asof_many(s, eq, n, ets_out, eh_out, ef));
    for (size_t i = 0; i < n; i++) {
        long w = edge_model(eq[i]);
        int64_t t1 = 0;
        uint64_t h1 = 0;
        int st = tl_snapshot_asof(s, eq[i], &t1, &h1);
        bool ok = w < 0 ? !ef[i] && st == TL_EOF
                        : ef[i] && ets_out[i] == recs[w].ts && eh_out[i] == recs[w].h &&
                              st == TL_OK && t1 == recs[w].ts && h1 == recs[w].h;
        if (!ok) {
            TL_FAIL_("%s: asof(%" PRId64 ") got (%d, %" PRId64 ", %" PRIu64 ") want %s%" PRId64
                     ", %" PRIu64, what, eq[i], ef[i], ets_out[i], eh_out[i], w < 0 ? "none " : "",
                     w < 0 ? 0 : recs[w].ts, w < 0 ? 0 : recs[w].h);
            return;
        }
    }
}

/* Queries at every stored timestamp and either side of it, each twice in a row (ascending),
 * plus the ends; then a sparse ascending set (two or three queries a page, still as many as the pages, so
 * the walk answers them: long fence steps). */
static void edge_queries(tl_snapshot_t *s, const char *what) {
    nlive = 0;
    for (size_t i = 0; i < nrec; i++) {
        if (!recs[i].dead) eord[nlive++] = (long)i;
    }
    qsort(eord, nlive, sizeof eord[0], cmp_eord);
    size_t n = 0;
    eq[n++] = INT64_MIN;
    eq[n++] = recs[eord[0]].ts - 1;
    for (size_t i = 0; i < nlive && n + 6 <= EQ; i++) {
        int64_t t = recs[eord[i]].ts;
        if (i > 0 && recs[eord[i - 1]].ts == t) continue;
        for (int64_t d = -1; d <= 1; d++) {
            eq[n++] = t + d;
            eq[n++] = t + d;
        }
    }
    eq[n++] = INT64_MAX;
    edge_check(s, n, what);
    size_t m = 0;
    for (size_t i = 0; i < nlive; i += 300 + tl_t_rnd() % 500) eq[m++] = recs[eord[i]].ts;
    edge_check(s, m, what);
    /* Two queries near each 1100th record: once compacted, those are the first records of
     * the pages, so the walk answers in miniblock 0 of page after page (a miniblock cache
     * kept across pages would answer from the page before). */
    m = 0;
    for (size_t i = 1; i + 1 < nlive; i += 1100) {
        eq[m++] = recs[eord[i]].ts;
        eq[m++] = recs[eord[i + 1]].ts;
    }
    edge_check(s, m, what);
}

TL_TEST(asof_miniblock_edges) {
    for (int cfg = 0; cfg < 4; cfg++) { /* bit 0: raw pages; bit 1: double values */
        tl_t_rng = 0xED6E + (uint64_t)cfg;
        tl_config_t c;
        tl_config_init_defaults(&c);
        c.maintenance = TL_MAINT_MANUAL;
        c.page_records = 1100; /* not a multiple of 64: every page ends in a short miniblock */
        c.raw_pages = cfg & 1;
        c.value_kind = cfg & 2 ? TL_VALUES_F64 : TL_VALUES_HANDLE;
        tl_timelog_t *tl = NULL;
        CHECK_OK(tl_open(&c, &tl));
        /* Runs of equal timestamps of lengths around the miniblock (64) and the page size, so
         * they start and end at fences and run across them. */
        static const uint32_t lens[] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 5, 63, 64, 65, 127, 128, 129, 1100};
        nrec = 0;
        int64_t t = -5000;
        while (nrec < 11000) {
            uint32_t len = lens[tl_t_rnd() % (sizeof lens / sizeof lens[0])];
            for (uint32_t k = 0; k < len && nrec < 11000; k++) {
                uint64_t h = nrec + 1;
                if (cfg & 2) { /* 20-bit mantissas at scattered exponents: neither ALP nor
                                * INT pays, XOR does (its values decode only in sequence) */
                    double v = ldexp(1.0 + (double)(tl_t_rnd() % (1u << 20)) * 0x1.0p-20,
                                     (int)(tl_t_rnd() % 400) - 200);
                    memcpy(&h, &v, sizeof h);
                }
                recs[nrec++] = (mrec_t){t, h, false};
            }
            t += 1 + (int64_t)(tl_t_rnd() % 3);
        }
        edge_append(tl, 0);
        CHECK_OK(tl_compact(tl)); /* L1 */
        tl_stats_t st;
        CHECK_OK(tl_stats(tl, &st));
        CHECK(cfg & 1 ? st.pages_packed == 0 : st.pages_packed > 0);
        tl_snapshot_t *s = NULL;
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        edge_queries(s, cfg & 1 ? "L1 raw" : "L1 packed");
        tl_snapshot_release(s);
        /* An L0 and a memtable on top: ties at old timestamps (the later source wins) and
         * new ones between them; then tombstones, inside runs and across fences. */
        for (int layer = 0; layer < 2; layer++) {
            size_t from = nrec;
            for (int k = 0; k < 800; k++) {
                int64_t x = -5000 + (int64_t)(tl_t_rnd() % (uint64_t)(t + 5100));
                uint64_t h = nrec + 1;
                if (cfg & 2) {
                    double v = 1e6 + (double)nrec;
                    memcpy(&h, &v, sizeof h);
                }
                recs[nrec++] = (mrec_t){x, h, false};
            }
            edge_append(tl, from);
            if (layer == 0) CHECK_OK(tl_flush(tl));
        }
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        edge_queries(s, "three sources");
        tl_snapshot_release(s);
        for (int k = 0; k < 12; k++) {
            int64_t a = -5000 + (int64_t)(tl_t_rnd() % (uint64_t)(t + 5000));
            int64_t b = a + 1 + (int64_t)(tl_t_rnd() % 200);
            CHECK_OK(tl_delete_range(tl, a, b));
            for (size_t i = 0; i < nrec; i++) recs[i].dead |= recs[i].ts >= a && recs[i].ts < b;
        }
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        edge_queries(s, "tombstones");
        tl_snapshot_release(s);
        CHECK_OK(tl_compact(tl)); /* the tombstones applied: one packed (or raw) L1 again */
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        edge_queries(s, "compacted");
        tl_snapshot_release(s);
        CHECK_OK(tl_validate(tl));
        tl_close(tl);
    }
}

int main(void) {
    RUN(asof_random_vs_model);
    RUN(asof_long_column_two_threads);
    RUN(asof_column_key_shapes);
    RUN(asof_many_sources_in_time_order);
    RUN(asof_f64_columns_and_bad_queries);
    RUN(asof_f64_values_nan_where_none);
    RUN(asof_empty_log_and_int64_ends);
    RUN(asof_miniblock_edges);
    return tl_test_done("asof_test");
}
