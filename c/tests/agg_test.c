/*
 * agg_test.c — bucketed aggregates (agg.c, summary.c) through the public API against a
 * brute-force model: f64 logs with random appends (duplicates, late records), deletes,
 * flushes and compactions (packed pages with summaries, raw pages, memtable sources at once),
 * random bucket grids (fine and coarse, origins off the data, buckets past the int64 end),
 * every op; values include -0, NaN and +/-inf. Values are integers and eighths, so every sum
 * is exact in any order and compared bit for bit. Also: the summary's rules on their own, the
 * summary pass of every instruction set (codec/cpu.h) against a scalar one, count-only on a
 * handle log, and the refusals.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "codec/cpu.h"
#include "mbsum.h"
#include "summary.h"
#include "test.h"
#include "timelog.h"

enum { MAXREC = 5000, MAXB = 300, NOPS = 7 };

typedef struct mrec {
    int64_t ts;
    double v;
    bool dead;
    uint32_t seq; /* insertion order */
} mrec_t;

/* Read order: by ts, equal timestamps in insertion order. */
static int cmp_read_order(const void *x, const void *y) {
    const struct mrec *a = x, *b = y;
    if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static mrec_t recs[MAXREC];
static size_t nrec;

static double rand_value(void) {
    uint64_t k = tl_t_rnd() % 200;
    if (k == 0) return NAN;
    if (k == 1) return INFINITY;
    if (k == 2) return -INFINITY;
    if (k < 8) return k % 2 ? -0.0 : 0.0;
    if (k < 100) return (double)((int64_t)(tl_t_rnd() % 2001) - 1000);
    return (double)((int64_t)(tl_t_rnd() % 801) - 400) / 8.0;
}

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static bool same(double a, double b) { return (isnan(a) && isnan(b)) || bits(a) == bits(b); }

/* Math.min / Math.max: NaN wins, -0 < +0. */
static double js_min(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}

static double js_max(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* The model's columns for one grid, in op bit order (records in read order: stable by ts). */
static double want[NOPS][MAXB];

static void model(int64_t lo, int64_t hi, int64_t start, int64_t every, uint32_t nb) {
    static mrec_t sorted[MAXREC];
    size_t n = 0;
    for (size_t i = 0; i < nrec; i++) {
        if (!recs[i].dead) sorted[n++] = recs[i];
    }
    qsort(sorted, n, sizeof sorted[0], cmp_read_order);
    static double cnt[MAXB], sum[MAXB], mn[MAXB], mx[MAXB], first[MAXB], last[MAXB];
    for (uint32_t k = 0; k < nb; k++) cnt[k] = sum[k] = 0;
    for (size_t i = 0; i < n; i++) { /* one pass, in read order */
        int64_t t = sorted[i].ts;
        if (t < lo || t > hi || t < start) continue;
        uint64_t k = (uint64_t)(t - start) / (uint64_t)every;
        if (k >= nb) continue;
        double v = sorted[i].v;
        mn[k] = cnt[k] == 0 ? v : js_min(mn[k], v);
        mx[k] = cnt[k] == 0 ? v : js_max(mx[k], v);
        if (cnt[k] == 0) first[k] = v;
        last[k] = v;
        sum[k] += v;
        cnt[k]++;
    }
    for (uint32_t k = 0; k < nb; k++) {
        bool any = cnt[k] > 0;
        double r[NOPS] = {cnt[k], sum[k], any ? mn[k] : NAN, any ? mx[k] : NAN,
                          any ? sum[k] / cnt[k] : NAN, any ? first[k] : NAN, any ? last[k] : NAN};
        for (int j = 0; j < NOPS; j++) want[j][k] = r[j];
    }
}

static tl_timelog_t *open_log(uint32_t page, uint32_t kind, bool raw) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = page;
    c.memtable_records = 256;
    c.sealed_max = 64;
    c.window_size = 700;
    c.value_kind = kind;
    c.raw_pages = raw;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

static void step(tl_timelog_t *tl) {
    uint64_t k = tl_t_rnd() % 100;
    if (k < 85 && nrec < MAXREC) {
        int64_t ts = (int64_t)(tl_t_rnd() % 3000);
        double v = rand_value();
        int st = tl_append_f64(tl, (double)ts, v);
        if (st == TL_OK || st == TL_EBUSY) {
            recs[nrec] = (mrec_t){ts, v, false, (uint32_t)nrec};
            nrec++;
        }
    } else if (k < 90) {
        int64_t a = (int64_t)(tl_t_rnd() % 3000), b = a + (int64_t)(tl_t_rnd() % 80);
        (void)tl_delete_range(tl, a, b);
        for (size_t i = 0; i < nrec; i++) recs[i].dead |= recs[i].ts >= a && recs[i].ts < b;
    } else if (k < 95) {
        (void)tl_flush(tl);
    } else {
        (void)tl_compact(tl);
    }
}

static double out[NOPS * MAXB];

/* The log's aggregate of one grid against the model's, bit for bit (tag: where, on failure). */
static void check_grid(tl_timelog_t *tl, int64_t lo, int64_t hi, int64_t start, int64_t every,
                       uint32_t nb, uint32_t ops, int run, int tag) {
    model(lo, hi, start, every, nb);
    CHECK_OK(tl_aggregate_f64(tl, lo == INT64_MIN ? -INFINITY : (double)lo,
                              hi == INT64_MAX ? INFINITY : (double)hi, (double)start,
                              (double)every, nb, ops, out));
    for (int j = 0, col = 0; j < NOPS; j++) {
        if (!(ops & (1u << j))) continue;
        for (uint32_t k = 0; k < nb; k++) {
            if (!same(out[col * nb + k], want[j][k])) {
                TL_FAIL_("run %d at %d (every %" PRId64 " start %" PRId64 ") op %d bucket %u: "
                         "got %.17g want %.17g",
                         run, tag, every, start, j, k, out[col * nb + k], want[j][k]);
                return;
            }
        }
        col++;
    }
}

TL_TEST(aggregate_random_vs_model) {
    for (int run = 0; run < 6; run++) {
        tl_t_rng = 0xA66 + (uint64_t)run * 104729;
        nrec = 0;
        tl_timelog_t *tl = open_log(run % 3 ? 64 : 1100, TL_VALUES_F64, run == 4);
        CHECK(tl != NULL);
        for (int round = 0; round < 8; round++) {
            for (int i = 0; i < 500; i++) step(tl);
            if (round % 3 == 2) CHECK_OK(tl_compact(tl));
            for (int q = 0; q < 6; q++) {
                int64_t every = q == 0 ? 4000 : 1 + (int64_t)(tl_t_rnd() % (q < 3 ? 40 : 900));
                int64_t start = (int64_t)(tl_t_rnd() % 400) - 200;
                uint32_t nb = 1 + (uint32_t)(tl_t_rnd() % MAXB);
                int64_t lo = (int64_t)(tl_t_rnd() % 3200) - 100;
                int64_t hi = lo + (int64_t)(tl_t_rnd() % 3200);
                if (q == 0) lo = INT64_MIN, hi = INT64_MAX;
                uint32_t ops = q == 1 ? TL_AGG_COUNT : 0x7fu;
                check_grid(tl, lo, hi, start, every, nb, ops, run, round * 100 + q);
            }
        }
        tl_close(tl);
    }
}

/* A NaN with its sign bit set (x86's default NaN, what inf - inf gives there): its key sorts
 * below -inf's, not above +inf's. */
static double neg_nan(void) {
    uint64_t b = 0xfff8000000000001ull;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* A value of stretch kind `kind`: plain integers, or with NaN (either sign), +inf, both
 * infinities (a NaN sum with numeric min / max), or signed zeros, so whole miniblocks hold
 * each case. */
static double stretch_value(uint32_t kind) {
    uint64_t r = tl_t_rnd() % 16;
    double plain = (double)((int64_t)(tl_t_rnd() % 801) - 400) / 8.0;
    switch (kind) {
    case 1: return r < 2 ? (r ? NAN : neg_nan()) : plain;
    case 2: return r < 2 ? INFINITY : plain;
    case 3: return r < 2 ? (r ? INFINITY : -INFINITY) : plain;
    case 4: return r < 8 ? (r % 2 ? -0.0 : 0.0) : (double)(r % 3);
    default: return plain;
    }
}

/* Miniblock summaries (mbsum.h) at their edges: packed pages of 576, 700, 1100 and 4096
 * records (full and short last miniblocks, pages whose fences are off the 64-grid), distinct
 * or duplicated timestamps (runs of equal timestamps across miniblock and page edges, where
 * first / last must follow read order), grids whose bucket edges fall on miniblock edges
 * (every 64 from 0 over distinct timestamps) or next to them, single-timestamp buckets, and
 * tombstones that cut miniblocks after the pages were packed. Runs 12-23 do the same on raw
 * pages (raw_pages), whose page and miniblock summaries are built as the pages are sealed:
 * exact-size tail pages end in a short miniblock. */
TL_TEST(aggregate_miniblock_edges) {
    static const uint32_t page[] = {64 * 9, 700, 1100, 4096};
    static const int64_t everies[] = {1, 2, 63, 64, 65, 128, 191, 500, 4096};
    for (int run = 0; run < 24; run++) {
        tl_t_rng = 0x3B5 + (uint64_t)run * 7919;
        nrec = 0;
        tl_timelog_t *tl = open_log(page[run % 4], TL_VALUES_F64, run >= 12);
        CHECK(tl != NULL);
        bool distinct = run % 3 == 0;
        int64_t t = 0;
        uint32_t kind = 0, left = 0;
        for (uint32_t i = 0; i < 4600; i++) {
            if (left == 0) {
                kind = (uint32_t)(tl_t_rnd() % 5);
                left = 10 + (uint32_t)(tl_t_rnd() % 150);
            }
            left--;
            if (distinct) t = i;
            else if (tl_t_rnd() % (run % 2 ? 3 : 40) == 0) t += 1 + (int64_t)(tl_t_rnd() % 3);
            double v = stretch_value(kind);
            CHECK_OK(tl_append_f64(tl, (double)t, v));
            recs[nrec] = (mrec_t){t, v, false, (uint32_t)nrec};
            nrec++;
        }
        CHECK_OK(tl_compact(tl));
        for (int d = 0; d < (run % 4) * 2; d++) { /* hidden spans inside packed pages */
            int64_t a = (int64_t)(tl_t_rnd() % (uint64_t)(t + 1));
            int64_t b = a + 1 + (int64_t)(tl_t_rnd() % 200);
            CHECK_OK(tl_delete_range(tl, a, b));
            for (size_t i = 0; i < nrec; i++) recs[i].dead |= recs[i].ts >= a && recs[i].ts < b;
        }
        for (int q = 0; q < 60; q++) {
            int64_t every = everies[tl_t_rnd() % (sizeof everies / sizeof everies[0])];
            int64_t start = q % 3 == 0 ? 0 : (int64_t)(tl_t_rnd() % 140) - 70;
            if (q % 5 == 4) start = (int64_t)(tl_t_rnd() % (uint64_t)(t + 1)); /* mid-data */
            uint32_t nb = 1 + (uint32_t)(tl_t_rnd() % MAXB);
            int64_t lo = INT64_MIN, hi = INT64_MAX;
            if (q % 4 == 1) { /* a span cut inside pages and miniblocks */
                lo = (int64_t)(tl_t_rnd() % (uint64_t)(t + 1));
                hi = lo + (int64_t)(tl_t_rnd() % 3000);
            }
            uint32_t ops = q % 7 == 6 ? TL_AGG_COUNT : 0x7fu;
            if (q % 7 == 5) ops = TL_AGG_FIRST | TL_AGG_LAST | TL_AGG_COUNT;
            check_grid(tl, lo, hi, start, every, nb, ops, run, q);
        }
        tl_close(tl);
    }
}

TL_TEST(aggregate_summary_rules) {
    double v[] = {3, -0.0, 0.0, -7.5, INFINITY, 2};
    uint64_t h[6];
    for (int i = 0; i < 6; i++) h[i] = bits(v[i]);
    tl_sum_t s;
    tl_sum_compute(&s, h, 6);
    CHECK(s.n == 6 && !s.nan && s.sum == INFINITY && s.first == h[0] && s.last == h[5]);
    CHECK(tl_sum_key((uint64_t)tl_sum_key(h[3])) == (int64_t)h[3]); /* its own inverse */
    CHECK((uint64_t)tl_sum_key((uint64_t)s.kmin) == h[3]);
    CHECK((uint64_t)tl_sum_key((uint64_t)s.kmax) == h[4]);
    tl_sum_compute(&s, h + 1, 2); /* -0 < +0 */
    CHECK((uint64_t)tl_sum_key((uint64_t)s.kmin) == bits(-0.0));
    CHECK((uint64_t)tl_sum_key((uint64_t)s.kmax) == bits(0.0));
    h[2] = bits(NAN);
    tl_sum_compute(&s, h, 3);
    CHECK(s.nan && isnan(s.sum));
    /* Miniblock summaries: a NaN of either sign shows in the keys; infinities do not. */
    CHECK(tl_mbsum_nan(s.kmin, s.kmax));
    CHECK(tl_mbsum_nan(tl_sum_key(bits(neg_nan())), tl_sum_key(bits(1.0))));
    CHECK(!tl_mbsum_nan(tl_sum_key(bits(-INFINITY)), tl_sum_key(bits(INFINITY))));
    static int64_t ts[130];
    static uint64_t hv[130];
    for (int i = 0; i < 130; i++) {
        ts[i] = 1000 + i / 3;
        hv[i] = bits(i == 70 ? INFINITY : (double)i);
    }
    tl_mbsum_t m[3];
    tl_mbsum_fences(m, ts, 130);
    tl_mbsum_page(&s, m, hv, 130);
    CHECK(s.n == 130 && s.sum == INFINITY);
    CHECK(m[0].fence == 1000 && m[1].fence == 1000 + 64 / 3 && m[2].fence == 1000 + 128 / 3);
    CHECK(m[0].sum == 2016 && m[1].sum == INFINITY && m[2].sum == 128 + 129);
    CHECK(tl_sum_key((uint64_t)m[1].kmin) == (int64_t)bits(64.0));
    CHECK(tl_sum_key((uint64_t)m[1].kmax) == (int64_t)bits(INFINITY));
    CHECK(tl_mbsum_bytes(130) == 3 * sizeof(tl_mbsum_t) && tl_mbsum_bytes(128) == 2 * 32);
}

/* The summary pass of every instruction set this build and CPU have (the C suite also runs
 * this file built for the baseline x86-64 CPU, agg_baseline_test, which has two) against a
 * scalar pass that adds in the same lane order, bit for bit: random doubles of any magnitude
 * with -0, NaN of either sign and infinities, every length from 1 to 200. */
TL_TEST(summary_pass_every_set_matches_scalar) {
    static uint64_t h[200];
    uint32_t ran = 0;
    for (uint32_t set = 0; set < tl_cpu_sets() && !tl_t_cur_failed; set++) {
        if (!tl_cpu_use_set(set)) continue;
        ran++;
        tl_t_rng = 0x5eed5e75;
        for (uint32_t n = 1; n <= 200 && !tl_t_cur_failed; n++) {
            for (uint32_t i = 0; i < n; i++) {
                uint64_t r = tl_t_rnd() % 100;
                double v = r < 3 ? -0.0 : r < 5 ? INFINITY : r < 7 ? -INFINITY : 0.0;
                h[i] = r < 7 ? bits(v) : tl_t_rnd(); /* any bits: NaNs, subnormals, huge */
                if (r == 7) h[i] = bits(NAN);
                if (r == 8) h[i] = bits(neg_nan());
            }
            double lane[8] = {0}, tail = 0;
            uint32_t nan = 0, whole = n / 8 * 8;
            int64_t mn = INT64_MAX, mx = INT64_MIN;
            for (uint32_t i = 0; i < n; i++) {
                double v;
                memcpy(&v, &h[i], sizeof v);
                if (i < whole) lane[i % 8] += v;
                else tail += v;
                nan |= v != v;
                int64_t k = tl_sum_key(h[i]);
                mn = k < mn ? k : mn;
                mx = k > mx ? k : mx;
            }
            double sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                         ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
            tl_sum_t s;
            tl_sum_compute(&s, h, n);
            CHECK(s.n == n && s.nan == nan && s.first == h[0] && s.last == h[n - 1]);
            CHECK(s.kmin == mn && s.kmax == mx);
            CHECK(memcmp(&s.sum, &sum, sizeof sum) == 0 || (s.sum != s.sum && sum != sum));
        }
    }
    CHECK(tl_cpu_use_set(UINT32_MAX));
    CHECK(ran >= 1);
#if defined(__x86_64__) && !defined(__AVX2__) && defined(__clang__)
    CHECK_EQ_U64(tl_cpu_sets(), 2);
#endif
}

/* Sums agree bit for bit, or are both NaN: which NaN an addition of two keeps depends on the
 * order of its operands, which a compiler may swap (the rules promise a NaN, not its bits). */
static bool same_sum(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b);
}

/* The one pass over a page that also summarizes its miniblocks gives, bit for bit, what
 * tl_sum_compute gives over the page and over each miniblock (a NaN sum as a NaN), in every
 * instruction set: the same random bits as above, every length from 1 to 300 (whole and
 * partial miniblocks). */
TL_TEST(page_pass_matches_separate_summaries) {
    static uint64_t h[300];
    static tl_mbsum_t m[5];
    uint32_t ran = 0;
    for (uint32_t set = 0; set < tl_cpu_sets() && !tl_t_cur_failed; set++) {
        if (!tl_cpu_use_set(set)) continue;
        ran++;
        tl_t_rng = 0x9a6e5u + set;
        for (uint32_t n = 1; n <= 300 && !tl_t_cur_failed; n++) {
            for (uint32_t i = 0; i < n; i++) {
                uint64_t r = tl_t_rnd() % 100;
                h[i] = r < 60 ? bits((double)(tl_t_rnd() % 100000) / 256.0) : tl_t_rnd();
                if (r == 60) h[i] = bits(-0.0);
                if (r == 61) h[i] = bits(tl_t_rnd() % 2 ? NAN : neg_nan());
                if (r == 62) h[i] = bits(-INFINITY);
            }
            tl_sum_t s, ref;
            tl_mbsum_page(&s, m, h, n);
            tl_sum_compute(&ref, h, n);
            CHECK(s.n == ref.n && s.nan == ref.nan && s.first == ref.first && s.last == ref.last);
            CHECK(s.kmin == ref.kmin && s.kmax == ref.kmax && same_sum(s.sum, ref.sum));
            for (uint32_t i = 0, j = 0; i < n; i += TL_PCODEC_MB, j++) {
                tl_sum_compute(&ref, h + i, n - i < TL_PCODEC_MB ? n - i : TL_PCODEC_MB);
                CHECK(same_sum(m[j].sum, ref.sum));
                CHECK(m[j].kmin == ref.kmin && m[j].kmax == ref.kmax);
            }
        }
    }
    CHECK(tl_cpu_use_set(UINT32_MAX));
    CHECK(ran >= 1);
}

TL_TEST(aggregate_handle_log_counts_only) {
    tl_timelog_t *tl = open_log(64, TL_VALUES_HANDLE, false);
    CHECK(tl != NULL);
    for (int64_t i = 0; i < 1000; i++) CHECK_OK(tl_append(tl, i, (uint64_t)i));
    CHECK_OK(tl_compact(tl));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK_OK(tl_snapshot_aggregate(s, INT64_MIN, INT64_MAX, 0, 300, 4, TL_AGG_COUNT, out));
    CHECK(out[0] == 300 && out[1] == 300 && out[2] == 300 && out[3] == 100);
    CHECK_ST(tl_snapshot_aggregate(s, 0, 10, 0, 300, 4, TL_AGG_SUM, out), TL_EINVAL);
    CHECK_ST(tl_snapshot_aggregate(s, 0, 10, 0, 0, 4, TL_AGG_COUNT, out), TL_EINVAL);
    CHECK_ST(tl_snapshot_aggregate(s, 0, 10, 0, 1, 4, 0x80u, out), TL_EINVAL);
    CHECK_ST(tl_snapshot_aggregate(s, 0, 10, 0, 1, 4, 0, out), TL_EINVAL);
    CHECK_ST(tl_snapshot_aggregate(s, 0, 10, 0, 1, 4, TL_AGG_COUNT, NULL), TL_EINVAL);
    CHECK_OK(tl_snapshot_aggregate(s, 0, 10, 0, 1, 0, TL_AGG_COUNT, NULL)); /* no bucket */
    /* Buckets reaching past INT64_MAX stop there. */
    CHECK_OK(tl_snapshot_aggregate(s, INT64_MIN, INT64_MAX, INT64_MAX - 5, INT64_MAX, 3,
                                   TL_AGG_COUNT, out));
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0);
    CHECK_OK(tl_snapshot_aggregate(s, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX, 3,
                                   TL_AGG_COUNT, out));
    CHECK(out[0] == 0 && out[1] == 1000 && out[2] == 0);
    CHECK_ST(tl_snapshot_aggregate_f64(s, 0, 10, 0.5, 1, 4, TL_AGG_COUNT, out), TL_EINVAL);
    tl_snapshot_release(s);
    tl_close(tl);
}

int main(void) {
    RUN(aggregate_random_vs_model);
    RUN(aggregate_miniblock_edges);
    RUN(aggregate_summary_rules);
    RUN(summary_pass_every_set_matches_scalar);
    RUN(page_pass_matches_separate_summaries);
    RUN(aggregate_handle_log_counts_only);
    return tl_test_done("agg_test");
}
