/*
 * bench/native/main.c — the engine alone, measured through the public C API.
 *
 * What it measures (each figure the MEDIAN of --runs repeated runs, min-max shown):
 *   ingest      tl_append_batch of every batch (background maintenance ON, busy policy "flush":
 *               on TL_EBUSY the write was accepted and we call tl_flush inline, as the binding's
 *               default does), then tl_flush so that everything is flushed. At --ooo-rate, in
 *               order (0.0) and at 0.20. L0 is sampled during ingest (max L0, compactions) to
 *               show that background compaction kept it bounded.
 *   compact     tl_compact after ingest (all data into L1), ms.
 *   scan        tl_iter_since(INT64_MIN) + tl_iter_next_batch into a 4096-record caller buffer,
 *               summing every ts and handle (a reader must touch the data). scan_f64: the
 *               same through tl_iter_next_batch_f64 with floating-point sums, the work the
 *               API benchmark's JS consumer does.
 *   range100    [t1, t1+100) random t1: iter open + next_batch drain + destroy, us per query.
 *   point       tl_snapshot_at on random existing ts (the one-call point lookup: handles into
 *               a 64-slot buffer, a second call with a larger one when more records share the
 *               ts), ns per lookup. point_iter: the same lookups as tl_iter_equal + drain +
 *               destroy.
 *   snapshot    tl_snapshot_acquire + release right after one tl_append, us per pair; after the
 *               bulk ingest, and with ~200K records in the active memtable.
 *   max / prev  tl_snapshot_max, tl_snapshot_prev(random ts), us per call.
 *   retention   tl_delete_before(half the data) + tl_compact, ms.
 *   memcpy      copying the same 16 B x records, as this machine's own limit.
 *   memory      separate run, data generated batch by batch (nothing pre-generated): RSS from
 *               /proc/self/statm minus the baseline taken before tl_open, per record: steady
 *               (after tl_compact) and peak (sampler thread every ~1 ms during ingest and
 *               compaction, and VmHWM when /proc/self/clear_refs can reset it).
 *
 * Data generator (the anchor's): ts_cursor += 1 per record; for record index > 1024, with
 * probability ooo-rate, ts moves back by 1 + rand % 1024; handle = record index + 1;
 * xorshift64. For the timed runs the arrays are generated BEFORE timing.
 *
 * Verification: every figure is checked by count and checksum (sum of handles and sum of ts,
 * mod 2^64) against what was generated; per-query expectations come from prefix sums over the
 * generated timestamps. Each figure prints VERIFIED or FAILED; --json ends with one JSON object
 * whose "verified" is true only when every check passed. Exit status 1 on any failure.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bench.h"

#define SCAN_BUF 4096
#define RANGE_QUERIES 20000
#define POINT_LOOKUPS 200000
#define MAX_CALLS 20000
#define PREV_CALLS 100000
#define SNAP_PAIRS 2000
#define BIG_MEMTABLE 200000

/* ------------------------------------------------------------------------------------------
 * Options, clock, rng
 * ---------------------------------------------------------------------------------------- */


double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

uint64_t xorshift64(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void usage(void) {
    fprintf(stderr, "usage: bench_native [--records N] [--batch-size B] [--ooo-rate R] "
                    "[--seed S] [--runs K] [--json]\n");
    exit(2);
}

static opts_t parse_opts(int argc, char **argv) {
    opts_t o = {5000000, 4096, 0.05, 12345, 5, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) { o.json = 1; continue; }
        if (!v) usage();
        if (strcmp(a, "--records") == 0) o.records = strtoull(v, NULL, 10);
        else if (strcmp(a, "--batch-size") == 0) o.batch = strtoull(v, NULL, 10);
        else if (strcmp(a, "--ooo-rate") == 0) o.ooo_rate = strtod(v, NULL);
        else if (strcmp(a, "--seed") == 0) o.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--runs") == 0) o.runs = atoi(v);
        else usage();
        i++;
    }
    if (o.records < 2048 || o.batch == 0 || o.runs < 1 || o.runs > RUNS_MAX || o.seed == 0 ||
        o.ooo_rate < 0 || o.ooo_rate > 1)
        usage();
    return o;
}

/* ------------------------------------------------------------------------------------------
 * Data: the generator, pre-generated arrays, prefix sums for expectations
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    uint64_t rng;
    int64_t cursor;
    double rate;
    size_t i;
} gen_t;

static void gen_next(gen_t *g, size_t n, int64_t *ts, uint64_t *h) {
    for (size_t k = 0; k < n; k++, g->i++) {
        int64_t t = ++g->cursor;
        if (g->i > 1024 && g->rate > 0) {
            double u = (double)(xorshift64(&g->rng) >> 11) * 0x1.0p-53;
            if (u < g->rate) t -= 1 + (int64_t)(xorshift64(&g->rng) % 1024);
        }
        ts[k] = t;
        h[k] = (uint64_t)g->i + 1;
    }
}


typedef struct {
    size_t n;
    int64_t *ts;
    uint64_t *h;
    digest_t all;
    int64_t ts_min, ts_max;
    /* prefix arrays over the ts domain: p*[k] = over records with ts < ts_min + k */
    uint64_t *pc, *ph, *pt;
} data_t;

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "bench_native: out of memory (%zu bytes)\n", n); exit(2); }
    return p;
}

static void data_make(data_t *d, size_t n, double rate, uint64_t seed) {
    gen_t g = {seed, 0, rate, 0};
    d->n = n;
    d->ts = xmalloc(n * sizeof *d->ts);
    d->h = xmalloc(n * sizeof *d->h);
    gen_next(&g, n, d->ts, d->h);
    d->all = (digest_t){n, 0, 0};
    d->ts_min = INT64_MAX;
    d->ts_max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        d->all.sum_h += d->h[i];
        d->all.sum_ts += (uint64_t)d->ts[i];
        if (d->ts[i] < d->ts_min) d->ts_min = d->ts[i];
        if (d->ts[i] > d->ts_max) d->ts_max = d->ts[i];
    }
    d->pc = d->ph = d->pt = NULL;
}

/* Issue 13's users' shape (bench/peers/shapes.ts, here from xorshift64): ms timestamps from
 * a 2023 epoch, on-time records advancing by 0, 1 or 2 (a third share their predecessor's
 * timestamp), 5% late by 1..10,000 ms behind the newest on-time one; handle = index + 1. */
static void data_make_users(data_t *d, size_t n, uint64_t seed) {
    uint64_t s = seed ? seed : 1;
    int64_t newest = 1700000000000 + 10000;
    d->n = n;
    d->ts = xmalloc(n * sizeof *d->ts);
    d->h = xmalloc(n * sizeof *d->h);
    d->all = (digest_t){n, 0, 0};
    d->ts_min = INT64_MAX;
    d->ts_max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        bool late = (xorshift64(&s) & 0xffffffffu) < (uint64_t)(0.05 * 4294967296.0);
        int64_t t = late ? newest - 1 - (int64_t)(xorshift64(&s) % 10000)
                         : (newest += (int64_t)(xorshift64(&s) % 3));
        d->ts[i] = t;
        d->h[i] = i + 1;
        d->all.sum_h += d->h[i];
        d->all.sum_ts += (uint64_t)t;
        if (t < d->ts_min) d->ts_min = t;
        if (t > d->ts_max) d->ts_max = t;
    }
    d->pc = d->ph = d->pt = NULL;
}

/* Builds the prefix arrays (for the data set whose queries are verified). */
static void data_index(data_t *d) {
    size_t dom = (size_t)(d->ts_max - d->ts_min) + 1;
    d->pc = calloc(dom + 1, sizeof *d->pc);
    d->ph = calloc(dom + 1, sizeof *d->ph);
    d->pt = calloc(dom + 1, sizeof *d->pt);
    if (!d->pc || !d->ph || !d->pt) { fprintf(stderr, "out of memory\n"); exit(2); }
    for (size_t i = 0; i < d->n; i++) {
        size_t k = (size_t)(d->ts[i] - d->ts_min) + 1;
        d->pc[k]++;
        d->ph[k] += d->h[i];
        d->pt[k] += (uint64_t)d->ts[i];
    }
    for (size_t k = 1; k <= dom; k++) {
        d->pc[k] += d->pc[k - 1];
        d->ph[k] += d->ph[k - 1];
        d->pt[k] += d->pt[k - 1];
    }
}

static void data_free(data_t *d) {
    free(d->ts);
    free(d->h);
    free(d->pc);
    free(d->ph);
    free(d->pt);
    memset(d, 0, sizeof *d);
}

/* Expected digest of records with t1 <= ts < t2 (clamped to the data's domain). */
static digest_t expect_range(const data_t *d, int64_t t1, int64_t t2) {
    if (t1 < d->ts_min) t1 = d->ts_min;
    if (t2 > d->ts_max + 1) t2 = d->ts_max + 1;
    if (t1 >= t2) return (digest_t){0, 0, 0};
    size_t a = (size_t)(t1 - d->ts_min), b = (size_t)(t2 - d->ts_min);
    return (digest_t){d->pc[b] - d->pc[a], d->ph[b] - d->ph[a], d->pt[b] - d->pt[a]};
}

static bool digest_eq(digest_t a, digest_t b) {
    return a.n == b.n && a.sum_h == b.sum_h && a.sum_ts == b.sum_ts;
}

/* ------------------------------------------------------------------------------------------
 * Results: one figure = values over runs + a verification flag
 * ---------------------------------------------------------------------------------------- */

figure_t figs[F_COUNT] = {
    [F_INGEST] = {"ingest_mrec_s", "ingest (--ooo-rate)", "Mrec/s", {0}, 0, 0, 0},
    [F_INGEST_INORDER] = {"ingest_inorder_mrec_s", "ingest in order (0.0)", "Mrec/s", {0}, 0,
                          0, 0},
    [F_INGEST_OOO20] = {"ingest_ooo20_mrec_s", "ingest ooo 0.20", "Mrec/s", {0}, 0, 0, 0},
    [F_COMPACT] = {"compact_ms", "tl_compact after ingest", "ms", {0}, 0, 0, 0},
    [F_SCAN] = {"scan_mrec_s", "full scan (L1, 4096 buffer)", "Mrec/s", {0}, 0, 0, 0},
    [F_SCAN_RAW] = {"scan_raw_mrec_s", "  same, every page raw", "Mrec/s", {0}, 0, 0, 0},
    [F_SCAN_F64] = {"scan_f64_mrec_s", "  same, f64 columns + FP sums", "Mrec/s", {0}, 0, 0, 0},
    [F_RANGE] = {"range100_us", "range [t1,t1+100) query", "us", {0}, 0, 0, 0},
    [F_RANGE_RAW] = {"range100_raw_us", "  same, every page raw", "us", {0}, 0, 0, 0},
    [F_POINT] = {"point_ns", "point lookup (snapshot_at)", "ns", {0}, 0, 0, 0},
    [F_POINT_RAW] = {"point_raw_ns", "  same, every page raw", "ns", {0}, 0, 0, 0},
    [F_POINT_ITER] = {"point_iter_ns", "  same, iter_equal + drain", "ns", {0}, 0, 0, 0},
    [F_SNAP] = {"snapshot_after_write_us", "snapshot after 1 append", "us", {0}, 0, 0, 0},
    [F_SNAP_BIG] = {"snapshot_after_write_200k_us", "  same, 200K in memtable", "us", {0}, 0,
                    0, 0},
    [F_MAX] = {"max_ts_us", "tl_snapshot_max", "us", {0}, 0, 0, 0},
    [F_PREV] = {"prev_ts_us", "tl_snapshot_prev(random)", "us", {0}, 0, 0, 0},
    [F_DELETE] = {"delete_half_compact_ms", "delete_before(half)+compact", "ms", {0}, 0, 0, 0},
    [F_MEMCPY] = {"memcpy_gb_s", "memcpy same bytes", "GB/s", {0}, 0, 0, 0},
    [F_STEADY] = {"bytes_per_record_steady", "RSS/record, ticks k/256", "B", {0}, 0, 0, 0},
    [F_PEAK] = {"bytes_per_record_peak", "  peak during ingest+compact", "B", {0}, 0, 0, 0},
    [F_STEADY_WALK] = {"bytes_per_record_steady_walk", "RSS/record, price walk", "B", {0}, 0, 0,
                       0},
    [F_STEADY_HANDLES] = {"bytes_per_record_steady_handles", "RSS/record, bench data", "B",
                          {0}, 0, 0, 0},
    [F_STEADY_RAW] = {"bytes_per_record_steady_raw", "RSS/record, ticks, raw pages", "B", {0},
                      0, 0, 0},
    [F_REV100] = {"reverse_limit100_us", "newest 100 (reverse read)", "us", {0}, 0, 0, 0},
    [F_AGG_FULL] = {"aggregate_full_range_us", "aggregate, 1 bucket (f64)", "us", {0}, 0, 0, 0},
    [F_AGG100] = {"aggregate_100_us", "  same, 100 buckets", "us", {0}, 0, 0, 0},
    [F_AGG_FINE] = {"aggregate_fine_us", "  same, 500-record buckets", "us", {0}, 0, 0, 0},
    [F_ASOF] = {"asof_many_ns", "asof_many, 100K random", "ns", {0}, 0, 0, 0},
    [F_U_REV100] = {"users_reverse_limit100_us", "users' shape: newest 100", "us", {0}, 0, 0, 0},
    [F_U_AGG_FULL] = {"users_aggregate_full_range_us", "  aggregate, 1 bucket", "us", {0}, 0, 0,
                      0},
    [F_U_AGG100] = {"users_aggregate_100_us", "  aggregate, 100 buckets", "us", {0}, 0, 0, 0},
    [F_U_AGG_FINE] = {"users_aggregate_fine_us", "  aggregate, 500-record buckets", "us", {0}, 0,
                      0, 0},
    [F_U_ASOF] = {"users_asof_many_ns", "  asof_many, 100K random", "ns", {0}, 0, 0, 0},
};

void fig_add(int f, double v, bool ok) {
    figure_t *x = &figs[f];
    if (x->n < RUNS_MAX) x->v[x->n++] = v;
    x->used = true;
    if (!ok) x->failed = true;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double fig_median(figure_t *x) {
    if (x->n == 0) return 0;
    qsort(x->v, (size_t)x->n, sizeof x->v[0], cmp_double);
    return x->n % 2 ? x->v[x->n / 2] : (x->v[x->n / 2 - 1] + x->v[x->n / 2]) / 2;
}

void fail_msg(const char *what, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "FAILED %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ------------------------------------------------------------------------------------------
 * Engine helpers: open, ingest with the "flush" busy policy, verified full scan
 * ---------------------------------------------------------------------------------------- */

static int64_t buf_ts[SCAN_BUF];
static uint64_t buf_h[SCAN_BUF];

tl_timelog_t *open_log_cfg(bool raw, uint32_t value_kind) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_BACKGROUND;
    c.raw_pages = raw ? 1u : 0u;
    c.value_kind = value_kind;
    tl_timelog_t *tl = NULL;
    int st = tl_open(&c, &tl);
    if (st != TL_OK) {
        fprintf(stderr, "bench_native: tl_open -> %s\n", tl_strerror(st));
        exit(2);
    }
    return tl;
}

static tl_timelog_t *open_log(void) { return open_log_cfg(false, TL_VALUES_HANDLE); }

bool write_done(tl_timelog_t *tl, int st, uint64_t *busy) {
    if (st == TL_OK) return true;
    if (st != TL_EBUSY) return false;
    (*busy)++;
    return tl_flush(tl) == TL_OK;
}

typedef struct {
    double secs;
    uint64_t busy, l0_max_seen;
    tl_stats_t end; /* stats after the final flush */
} ingest_t;

static uint64_t l0_max_cfg(void) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    return c.l0_max;
}

/* Timed: every batch, then tl_flush. L0 is sampled every 16 batches (tl_stats, O(1)). */
static tl_timelog_t *ingest(const data_t *d, size_t batch, bool raw, ingest_t *res, bool *ok) {
    tl_timelog_t *tl = open_log_cfg(raw, TL_VALUES_HANDLE);
    tl_stats_t st;
    memset(res, 0, sizeof *res);
    *ok = true;
    size_t k = 0;
    double t0 = now_s();
    for (size_t off = 0; off < d->n; off += batch, k++) {
        size_t n = d->n - off < batch ? d->n - off : batch;
        if (!write_done(tl, tl_append_batch(tl, d->ts + off, d->h + off, n, 0), &res->busy))
            *ok = false;
        if ((k & 15) == 0 && tl_stats(tl, &st) == TL_OK && st.l0_segments > res->l0_max_seen)
            res->l0_max_seen = st.l0_segments;
    }
    if (tl_flush(tl) != TL_OK) *ok = false;
    res->secs = now_s() - t0;
    if (tl_stats(tl, &res->end) != TL_OK) *ok = false;
    if (res->end.l0_segments > res->l0_max_seen) res->l0_max_seen = res->end.l0_segments;
    if (res->end.records != d->n || res->end.memtable_records || res->end.sealed_memtables) {
        fail_msg("ingest", "records %llu want %zu, memtable %llu, sealed %llu",
                 (unsigned long long)res->end.records, d->n,
                 (unsigned long long)res->end.memtable_records,
                 (unsigned long long)res->end.sealed_memtables);
        *ok = false;
    }
    return tl;
}

/* Drains it into the 4096-record buffer; digest + order check. */
static bool drain(tl_iter_t *it, digest_t *dg) {
    size_t n = 0;
    int st;
    int64_t prev = INT64_MIN;
    bool ordered = true;
    while ((st = tl_iter_next_batch(it, buf_ts, buf_h, SCAN_BUF, &n)) == TL_OK) {
        for (size_t i = 0; i < n; i++) {
            dg->sum_h += buf_h[i];
            dg->sum_ts += (uint64_t)buf_ts[i];
            ordered &= buf_ts[i] >= prev;
            prev = buf_ts[i];
        }
        dg->n += n;
    }
    return st == TL_EOF && ordered;
}

/* Full scan of the log's current state; returns seconds, or -1 on an API failure. */
static double scan_log(tl_snapshot_t *s, digest_t *dg) {
    tl_iter_t *it = NULL;
    *dg = (digest_t){0, 0, 0};
    double t0 = now_s();
    if (tl_iter_since(s, INT64_MIN, &it) != TL_OK) return -1;
    bool ok = drain(it, dg);
    tl_iter_destroy(it);
    double secs = now_s() - t0;
    return ok ? secs : -1;
}

bool verify_scan(tl_timelog_t *tl, digest_t want, const char *what) {
    tl_snapshot_t *s = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return false;
    digest_t got;
    double secs = scan_log(s, &got);
    tl_snapshot_release(s);
    if (secs >= 0 && digest_eq(got, want)) return true;
    fail_msg(what, "scan %llu records (want %llu), checksums %s", (unsigned long long)got.n,
             (unsigned long long)want.n, secs < 0 ? "(api/order error)" : "differ");
    return false;
}

/* ------------------------------------------------------------------------------------------
 * Read workloads on a snapshot of the compacted log
 * ---------------------------------------------------------------------------------------- */

static void bench_scan(tl_snapshot_t *s, const data_t *d, int fig) {
    digest_t got;
    double secs = scan_log(s, &got);
    bool ok = secs > 0 && digest_eq(got, d->all);
    if (!ok) fail_msg("scan", "%llu records of %zu", (unsigned long long)got.n, d->n);
    fig_add(fig, ok ? (double)got.n / secs / 1e6 : 0, ok);
}

/* The full scan as the bindings' columnar readers see it: tl_iter_next_batch_f64 into double
 * columns, consumed with floating-point sums (what bench/api_run.ts's JS consumer does), so
 * their scan rate can be set beside the engine's on equal work. The sums are exact while they
 * stay below 2^53, which the verification requires. */
static double buf_tsd[SCAN_BUF];

static void bench_scan_f64(tl_snapshot_t *s, const data_t *d) {
    tl_iter_t *it = NULL;
    double sum_ts = 0, sum_h = 0;
    uint64_t n_all = 0;
    size_t n = 0;
    int st = TL_EINVAL;
    double t0 = now_s();
    if (tl_iter_since(s, INT64_MIN, &it) == TL_OK) {
        while ((st = tl_iter_next_batch_f64(it, buf_tsd, buf_h, SCAN_BUF, &n)) == TL_OK) {
            for (size_t i = 0; i < n; i++) {
                sum_ts += buf_tsd[i];
                sum_h += (double)buf_h[i];
            }
            n_all += n;
        }
        tl_iter_destroy(it);
    }
    double secs = now_s() - t0;
    bool ok = st == TL_EOF && n_all == d->all.n && sum_ts == (double)(int64_t)d->all.sum_ts &&
              sum_h == (double)d->all.sum_h;
    if (!ok) fail_msg("scan_f64", "%llu records of %zu, or sums differ", (unsigned long long)n_all,
                      d->n);
    fig_add(F_SCAN_F64, ok ? (double)n_all / secs / 1e6 : 0, ok);
}

static int64_t rand_ts(uint64_t *rng, int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    return lo + (int64_t)(xorshift64(rng) % (uint64_t)(hi - lo + 1));
}

static void bench_range(tl_snapshot_t *s, const data_t *d, uint64_t *rng, int fig) {
    int64_t *t1 = xmalloc(RANGE_QUERIES * sizeof *t1);
    digest_t want = {0, 0, 0}, got = {0, 0, 0};
    for (size_t q = 0; q < RANGE_QUERIES; q++) {
        t1[q] = rand_ts(rng, d->ts_min, d->ts_max - 100);
        digest_add(&want, expect_range(d, t1[q], t1[q] + 100));
    }
    bool ok = true;
    double t0 = now_s();
    for (size_t q = 0; q < RANGE_QUERIES; q++) {
        tl_iter_t *it = NULL;
        if (tl_iter_range(s, t1[q], t1[q] + 100, &it) != TL_OK) { ok = false; break; }
        ok &= drain(it, &got);
        tl_iter_destroy(it);
    }
    double secs = now_s() - t0;
    ok &= digest_eq(got, want);
    if (!ok) fail_msg("range100", "%llu records, want %llu", (unsigned long long)got.n,
                      (unsigned long long)want.n);
    fig_add(fig, secs / RANGE_QUERIES * 1e6, ok);
    free(t1);
}

/* Point lookups into `fig`; with `iter`, the same lookups through tl_iter_equal too. */
static void bench_point(tl_snapshot_t *s, const data_t *d, uint64_t *rng, int fig, bool iter) {
    int64_t *ts = xmalloc(POINT_LOOKUPS * sizeof *ts);
    digest_t want = {0, 0, 0}, got = {0, 0, 0};
    for (size_t q = 0; q < POINT_LOOKUPS; q++) {
        ts[q] = d->ts[xorshift64(rng) % d->n];
        digest_add(&want, expect_range(d, ts[q], ts[q] + 1));
    }
    bool ok = true;
    double t0 = now_s();
    for (size_t q = 0; q < POINT_LOOKUPS; q++) {
        uint64_t total = 0;
        if (tl_snapshot_at(s, ts[q], buf_h, 64, &total) != TL_OK) { ok = false; break; }
        if (total > 64 && tl_snapshot_at(s, ts[q], buf_h, SCAN_BUF, &total) != TL_OK) {
            ok = false;
            break;
        }
        size_t k = total < SCAN_BUF ? (size_t)total : SCAN_BUF;
        for (size_t i = 0; i < k; i++) got.sum_h += buf_h[i];
        got.sum_ts += (uint64_t)ts[q] * total;
        got.n += total;
    }
    double secs = now_s() - t0;
    ok &= digest_eq(got, want);
    if (!ok) fail_msg("point", "%llu records, want %llu", (unsigned long long)got.n,
                      (unsigned long long)want.n);
    fig_add(fig, secs / POINT_LOOKUPS * 1e9, ok);
    if (!iter) {
        free(ts);
        return;
    }
    got = (digest_t){0, 0, 0};
    ok = true;
    t0 = now_s();
    for (size_t q = 0; q < POINT_LOOKUPS; q++) {
        tl_iter_t *it = NULL;
        if (tl_iter_equal(s, ts[q], &it) != TL_OK) { ok = false; break; }
        ok &= drain(it, &got);
        tl_iter_destroy(it);
    }
    secs = now_s() - t0;
    ok &= digest_eq(got, want);
    if (!ok) fail_msg("point_iter", "%llu records, want %llu", (unsigned long long)got.n,
                      (unsigned long long)want.n);
    fig_add(F_POINT_ITER, secs / POINT_LOOKUPS * 1e9, ok);
    free(ts);
}

/* Largest generated ts < t, or INT64_MIN when none (found through the prefix counts). */
static int64_t expect_prev(const data_t *d, int64_t t) {
    if (t > d->ts_max) return d->ts_max;
    for (int64_t x = t - 1; x >= d->ts_min; x--) {
        size_t k = (size_t)(x - d->ts_min);
        if (d->pc[k + 1] != d->pc[k]) return x;
    }
    return INT64_MIN;
}

static void bench_max_prev(tl_snapshot_t *s, const data_t *d, uint64_t *rng) {
    uint64_t bad = 0;
    int64_t out = 0;
    double t0 = now_s();
    for (size_t q = 0; q < MAX_CALLS; q++)
        bad += tl_snapshot_max(s, &out) != TL_OK || out != d->ts_max;
    double secs = now_s() - t0;
    if (bad) fail_msg("max", "%llu wrong answers", (unsigned long long)bad);
    fig_add(F_MAX, secs / MAX_CALLS * 1e6, bad == 0);

    int64_t *arg = xmalloc(PREV_CALLS * sizeof *arg), *res = xmalloc(PREV_CALLS * sizeof *res);
    int *st = xmalloc(PREV_CALLS * sizeof *st);
    for (size_t q = 0; q < PREV_CALLS; q++) arg[q] = rand_ts(rng, d->ts_min, d->ts_max + 1);
    t0 = now_s();
    for (size_t q = 0; q < PREV_CALLS; q++) st[q] = tl_snapshot_prev(s, arg[q], &res[q]);
    secs = now_s() - t0;
    bad = 0;
    for (size_t q = 0; q < PREV_CALLS; q++) {
        int64_t want = expect_prev(d, arg[q]);
        bad += want == INT64_MIN ? st[q] != TL_EOF : (st[q] != TL_OK || res[q] != want);
    }
    if (bad) fail_msg("prev", "%llu wrong answers", (unsigned long long)bad);
    fig_add(F_PREV, secs / PREV_CALLS * 1e6, bad == 0);
    free(arg);
    free(res);
    free(st);
}

/* Snapshot acquire+release right after one tl_append (timed: acquire and release only).
 * Appends ts = *next_ts++, handle = *next_h++; each snapshot's count is checked untimed. */
static double snap_after_write(tl_timelog_t *tl, int64_t *next_ts, uint64_t *next_h,
                               uint64_t count_before, digest_t *extra, bool *ok) {
    double secs = 0;
    uint64_t busy = 0;
    for (size_t i = 0; i < SNAP_PAIRS; i++) {
        int64_t ts = (*next_ts)++;
        uint64_t h = (*next_h)++;
        *ok &= write_done(tl, tl_append(tl, ts, h), &busy);
        digest_add(extra, (digest_t){1, h, (uint64_t)ts});
        tl_snapshot_t *s = NULL;
        double t0 = now_s();
        int st = tl_snapshot_acquire(tl, &s);
        double t1 = now_s();
        uint64_t n = 0;
        *ok &= st == TL_OK && tl_snapshot_count(s, INT64_MIN, INT64_MAX, &n) == TL_OK &&
               n == count_before + i + 1;
        double t2 = now_s();
        tl_snapshot_release(s);
        secs += (t1 - t0) + (now_s() - t2);
    }
    if (!*ok) fail_msg("snapshot after write", "a snapshot count was wrong");
    return secs / SNAP_PAIRS * 1e6;
}

/* A fresh log with ~BIG_MEMTABLE in-order records in the active memtable. */
static void bench_snap_big(uint64_t *memtable_records) {
    tl_timelog_t *tl = open_log();
    bool ok = true;
    uint64_t busy = 0;
    int64_t next_ts = 1;
    uint64_t next_h = 1;
    for (size_t off = 0; off < BIG_MEMTABLE; off += SCAN_BUF) {
        size_t n = BIG_MEMTABLE - off < SCAN_BUF ? BIG_MEMTABLE - off : SCAN_BUF;
        for (size_t i = 0; i < n; i++) { buf_ts[i] = next_ts++; buf_h[i] = next_h++; }
        ok &= write_done(tl, tl_append_batch(tl, buf_ts, buf_h, n, 0), &busy);
    }
    tl_stats_t st;
    ok &= tl_stats(tl, &st) == TL_OK;
    *memtable_records = st.memtable_records;
    digest_t extra = {0, 0, 0};
    double us = snap_after_write(tl, &next_ts, &next_h, BIG_MEMTABLE, &extra, &ok);
    fig_add(F_SNAP_BIG, us, ok);
    tl_close(tl);
}

/* ------------------------------------------------------------------------------------------
 * Retention, memcpy, memory
 * ---------------------------------------------------------------------------------------- */

static void bench_delete(tl_timelog_t *tl, const data_t *d, digest_t extra) {
    int64_t cut = d->ts_min + (d->ts_max - d->ts_min) / 2;
    digest_t want = expect_range(d, cut, d->ts_max + 1);
    digest_add(&want, extra); /* records appended after the data, all above ts_max */
    double t0 = now_s();
    bool ok = tl_delete_before(tl, cut) == TL_OK;
    ok &= tl_compact(tl) == TL_OK;
    double secs = now_s() - t0;
    tl_stats_t st;
    ok &= tl_stats(tl, &st) == TL_OK && st.records == want.n && st.records_stored == want.n;
    if (!ok) fail_msg("delete_before", "records %llu stored %llu want %llu",
                      (unsigned long long)st.records, (unsigned long long)st.records_stored,
                      (unsigned long long)want.n);
    ok &= verify_scan(tl, want, "delete_before scan");
    fig_add(F_DELETE, secs * 1e3, ok);
}

static void bench_memcpy(const data_t *d) {
    size_t bytes = d->n * 16;
    unsigned char *dst = xmalloc(bytes);
    memset(dst, 1, bytes); /* fault the pages in before timing */
    double t0 = now_s();
    memcpy(dst, d->ts, d->n * 8);
    memcpy(dst + d->n * 8, d->h, d->n * 8);
    double secs = now_s() - t0;
    bool ok = memcmp(dst, d->ts, d->n * 8) == 0 && memcmp(dst + d->n * 8, d->h, d->n * 8) == 0;
    fig_add(F_MEMCPY, (double)bytes / secs / 1e9, ok);
    free(dst);
}

/* ------------------------------------------------------------------------------------------
 * Runs and report
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    uint64_t l0_max_seen, l0_end, compactions, flushes, busy, rewritten, shared;
} ingest_info_t;

static ingest_info_t infos[3]; /* --ooo-rate, 0.0, 0.20 */

static void info_update(int which, const ingest_t *ig) {
    ingest_info_t *x = &infos[which];
    if (ig->l0_max_seen > x->l0_max_seen) x->l0_max_seen = ig->l0_max_seen;
    x->l0_end = ig->end.l0_segments;
    x->compactions = ig->end.compactions_total;
    x->flushes = ig->end.flushes_total;
    x->busy = ig->busy;
    x->rewritten = ig->end.pages_rewritten_total;
    x->shared = ig->end.pages_shared_total;
}

static void run_ingest_only(const data_t *d, size_t batch, int fig, int which) {
    ingest_t ig;
    bool ok;
    tl_timelog_t *tl = ingest(d, batch, false, &ig, &ok);
    ok &= verify_scan(tl, d->all, figs[fig].key);
    fig_add(fig, (double)d->n / ig.secs / 1e6, ok);
    info_update(which, &ig);
    tl_close(tl);
}

/* tl_compact, then checks that the log holds every record in L1, its pages packed or not. */
static bool compact_check(tl_timelog_t *tl, const data_t *d, bool raw, double *secs) {
    double t0 = now_s();
    bool ok = tl_compact(tl) == TL_OK;
    *secs = now_s() - t0;
    tl_stats_t st;
    ok &= tl_stats(tl, &st) == TL_OK && st.l0_segments == 0 && st.records == d->n;
    ok &= raw ? st.pages_packed == 0 : st.pages_packed > 0;
    if (!ok) fail_msg("compact", "l0 %llu records %llu packed pages %llu (raw %d)",
                      (unsigned long long)st.l0_segments, (unsigned long long)st.records,
                      (unsigned long long)st.pages_packed, raw);
    return ok;
}

/* The reads again on the same data with every page raw (the default packs them): what
 * decoding costs, measured side by side in the same run. */
static void run_raw_reads(const opts_t *o, const data_t *d, int run) {
    uint64_t rng = o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(run + 1));
    ingest_t ig;
    bool ok;
    double secs;
    tl_timelog_t *tl = ingest(d, o->batch, true, &ig, &ok);
    if (!compact_check(tl, d, true, &secs) || !ok) fig_add(F_SCAN_RAW, 0, false);
    tl_snapshot_t *s = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) { fprintf(stderr, "snapshot failed\n"); exit(2); }
    bench_scan(s, d, F_SCAN_RAW);
    bench_range(s, d, &rng, F_RANGE_RAW);
    bench_point(s, d, &rng, F_POINT_RAW, false);
    tl_snapshot_release(s);
    tl_close(tl);
}

static void run_main(const opts_t *o, const data_t *d, int run) {
    uint64_t rng = o->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(run + 1));
    ingest_t ig;
    bool ok;
    tl_timelog_t *tl = ingest(d, o->batch, false, &ig, &ok);
    fig_add(F_INGEST, (double)d->n / ig.secs / 1e6, ok);
    info_update(0, &ig);

    double secs;
    ok = compact_check(tl, d, false, &secs);
    fig_add(F_COMPACT, secs * 1e3, ok);

    tl_snapshot_t *s = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) { fprintf(stderr, "snapshot failed\n"); exit(2); }
    bench_scan(s, d, F_SCAN);
    bench_scan_f64(s, d);
    bench_range(s, d, &rng, F_RANGE);
    bench_point(s, d, &rng, F_POINT, true);
    bench_max_prev(s, d, &rng);
    qdata_t q = {d->n, d->ts, d->h, d->ts_min, d->ts_max, d->pc, d->ph};
    bench_queries(s, &q, o->batch, &rng);
    tl_snapshot_release(s);

    int64_t next_ts = d->ts_max + 1;
    uint64_t next_h = d->n + 1;
    digest_t extra = {0, 0, 0};
    ok = true;
    double us = snap_after_write(tl, &next_ts, &next_h, d->n, &extra, &ok);
    fig_add(F_SNAP, us, ok);
    bench_delete(tl, d, extra);
    tl_close(tl);
}

static bool all_verified(void) {
    for (int f = 0; f < F_COUNT; f++)
        if (figs[f].used && figs[f].failed) return false;
    return true;
}

static void print_table(const opts_t *o) {
    printf("\n%-32s %12s %12s %12s  %-7s %s\n", "figure (median of runs)", "median", "min",
           "max", "unit", "check");
    for (int f = 0; f < F_COUNT; f++) {
        figure_t *x = &figs[f];
        if (!x->used) { printf("%-32s %12s\n", x->label, "n/a"); continue; }
        double med = fig_median(x);
        printf("%-32s %12.3f %12.3f %12.3f  %-7s %s\n", x->label, med, x->v[0],
               x->v[x->n - 1], x->unit, x->failed ? "FAILED" : "VERIFIED");
    }
    static const char *const names[3] = {"--ooo-rate", "in order", "ooo 0.20"};
    printf("\ningest maintenance (background, l0_max %llu; last run; L0 max over all runs):\n",
           (unsigned long long)l0_max_cfg());
    for (int i = 0; i < 3; i++) {
        ingest_info_t *x = &infos[i];
        printf("  %-10s L0 max %llu, L0 at end %llu, flushes %llu, compactions %llu, "
               "pages rewritten %llu / shared %llu, busy %llu\n", names[i],
               (unsigned long long)x->l0_max_seen, (unsigned long long)x->l0_end,
               (unsigned long long)x->flushes, (unsigned long long)x->compactions,
               (unsigned long long)x->rewritten, (unsigned long long)x->shared,
               (unsigned long long)x->busy);
    }
    (void)o;
}

static void print_json(const opts_t *o) {
    printf("{\"records\":%zu,\"batch_size\":%zu,\"ooo_rate\":%g,\"seed\":%llu,\"runs\":%d",
           o->records, o->batch, o->ooo_rate, (unsigned long long)o->seed, o->runs);
    for (int f = 0; f < F_COUNT; f++) {
        if (figs[f].used) printf(",\"%s\":%.6g", figs[f].key, fig_median(&figs[f]));
        else printf(",\"%s\":null", figs[f].key);
    }
    printf(",\"ingest_l0_max\":%llu,\"ingest_compactions\":%llu,\"ingest_busy\":%llu",
           (unsigned long long)infos[0].l0_max_seen, (unsigned long long)infos[0].compactions,
           (unsigned long long)infos[0].busy);
    printf(",\"verified\":%s}\n", all_verified() ? "true" : "false");
}

int main(int argc, char **argv) {
    opts_t o = parse_opts(argc, argv);
    printf("bench_native: %zu records, batch %zu, ooo-rate %g, seed %llu, %d runs; default "
           "config, background maintenance, busy policy flush\n", o.records, o.batch,
           o.ooo_rate, (unsigned long long)o.seed, o.runs);
    bool hwm = false;
    bench_memory(&o, &hwm); /* first: before the big arrays exist */
    printf("memory run: data generated batch by batch; peak from %s\n",
           hwm ? "VmHWM (reset via clear_refs)" : "1 ms RSS sampler");
    data_t d_main, d_inorder, d_ooo20, d_users;
    data_make(&d_main, o.records, o.ooo_rate, o.seed);
    data_make(&d_inorder, o.records, 0.0, o.seed);
    data_make(&d_ooo20, o.records, 0.20, o.seed);
    data_make_users(&d_users, o.records, o.seed);
    data_index(&d_main);
    data_index(&d_users);
    printf("timed runs: data pre-generated before timing (ts %lld..%lld)\n",
           (long long)d_main.ts_min, (long long)d_main.ts_max);
    fflush(stdout);
    for (int run = 0; run < o.runs; run++) {
        run_main(&o, &d_main, run);
        run_raw_reads(&o, &d_main, run);
        run_ingest_only(&d_inorder, o.batch, F_INGEST_INORDER, 1);
        run_ingest_only(&d_ooo20, o.batch, F_INGEST_OOO20, 2);
        uint64_t urng = o.seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(run + 1));
        qdata_t uq = {d_users.n, d_users.ts, d_users.h, d_users.ts_min, d_users.ts_max,
                      d_users.pc, d_users.ph};
        bench_users_queries(&uq, &urng);
        uint64_t mem_records = 0;
        bench_snap_big(&mem_records);
        if (run == 0) printf("big-memtable snapshot: %llu records in the active memtable\n",
                             (unsigned long long)mem_records);
        bench_memcpy(&d_main);
        fprintf(stderr, "run %d/%d done\n", run + 1, o.runs);
    }
    print_table(&o);
    if (o.json) print_json(&o);
    data_free(&d_main);
    data_free(&d_inorder);
    data_free(&d_ooo20);
    data_free(&d_users);
    return all_verified() ? 0 : 1;
}
