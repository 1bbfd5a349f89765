/*
 * bench/native/queries.c — the time-series queries of the engine, on the bench data:
 *   reverse_limit100_us     the newest 100 records of the whole log: tl_iter_open_ex with
 *                           TL_READ_REVERSE, one next_batch of 100, destroy (us per read);
 *   aggregate_full_range_us one bucket over everything, sum/min/max/first/last, on an f64 log
 *                           holding the same records (values = handle as a double), compacted
 *                           (its pages packed, each with a summary), us per call;
 *   aggregate_100_us        100 buckets over the data's span, the same ops;
 *   aggregate_fine_us       buckets of 500 records' span (10,000 at 5M records);
 *   asof_many_ns            tl_snapshot_asof_many of 100,000 random timestamps, ns per query.
 * users_*: the same five on issue 13's users' shape (ms timestamps with gaps of 0-2, 5% late
 * by up to 10,000 ms; main.c makes it) as a user writes and reads it: one f64 log fed in
 * batches of 1,000 and a snapshot taken at once, with no flush or compact, so the reads meet
 * the memtable, sealed memtables, L0 runs and whatever pages maintenance has not packed yet.
 * Every answer is verified: the reverse read against the top of the data's timestamp counts,
 * aggregates against sums over the generated columns (handles are exact doubles), as-of
 * answers by their timestamps against the data's prefix counts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define REV_QUERIES 20000
#define ASOF_QUERIES 100000
#define AGG_OPS (TL_AGG_SUM | TL_AGG_MIN | TL_AGG_MAX | TL_AGG_FIRST | TL_AGG_LAST)

/* Sum of the `k` largest timestamps (counted from the per-ts counts of the domain). */
static uint64_t top_ts_sum(const qdata_t *d, size_t k) {
    uint64_t sum = 0;
    for (int64_t x = d->ts_max; x >= d->ts_min && k > 0; x--) {
        size_t i = (size_t)(x - d->ts_min);
        uint64_t c = d->pc[i + 1] - d->pc[i];
        uint64_t take = c < k ? c : k;
        sum += take * (uint64_t)x;
        k -= take;
    }
    return sum;
}

static void bench_reverse(tl_snapshot_t *s, const qdata_t *d, int fig) {
    static int64_t ts[100];
    static uint64_t h[100];
    uint64_t want = top_ts_sum(d, 100), bad = 0;
    double t0 = now_s();
    for (size_t q = 0; q < REV_QUERIES; q++) {
        tl_iter_t *it = NULL;
        size_t n = 0;
        bad += tl_iter_open_ex(s, INT64_MIN, INT64_MAX, TL_READ_REVERSE, &it) != TL_OK;
        bad += tl_iter_next_batch(it, ts, h, 100, &n) != TL_OK || n != 100;
        tl_iter_destroy(it);
        uint64_t sum = 0;
        for (size_t i = 0; i < 100; i++) {
            sum += (uint64_t)ts[i];
            bad += i > 0 && ts[i] > ts[i - 1];
        }
        bad += sum != want;
    }
    double secs = now_s() - t0;
    if (bad) fail_msg(figs[fig].key, "%llu wrong reads", (unsigned long long)bad);
    fig_add(fig, secs / REV_QUERIES * 1e6, bad == 0);
}

/* Expected sum/min/max of the handles (as doubles) of records with t1 <= ts < t2. */
static void expect_agg(const qdata_t *d, int64_t t1, int64_t t2, double *sum) {
    if (t1 < d->ts_min) t1 = d->ts_min;
    if (t2 > d->ts_max + 1) t2 = d->ts_max + 1;
    *sum = t1 >= t2 ? 0 : (double)(d->ph[t2 - d->ts_min] - d->ph[t1 - d->ts_min]);
}

/* Times `reps` aggregate calls of nb buckets spanning the data; verifies the sums. */
static void time_agg(tl_snapshot_t *s, const qdata_t *d, uint32_t nb, int reps, int fig) {
    int64_t span = d->ts_max - d->ts_min + 1, every = (span + nb - 1) / nb;
    double *out = xmalloc((size_t)nb * 5 * sizeof *out);
    bool ok = true;
    double t0 = now_s();
    for (int r = 0; r < reps; r++) {
        ok &= tl_snapshot_aggregate(s, INT64_MIN, INT64_MAX, d->ts_min, every, nb, AGG_OPS, out) ==
              TL_OK;
    }
    double secs = now_s() - t0;
    for (uint32_t k = 0; k < nb && ok; k++) {
        double want;
        int64_t a = d->ts_min + (int64_t)k * every;
        expect_agg(d, a, a + every, &want);
        ok &= out[k] == want; /* exact: integers below 2^53 */
    }
    ok &= nb != 1 || (out[1] == 1.0 && out[2] == (double)d->n);
    if (!ok) fail_msg(figs[fig].key, "wrong sums, min or max");
    fig_add(fig, secs / reps * 1e6, ok);
    free(out);
}

/* as-of of random timestamps: each answer's ts must be the largest generated ts <= query. */
static void bench_asof(tl_snapshot_t *s, const qdata_t *d, uint64_t *rng, int fig) {
    int64_t *q = xmalloc(ASOF_QUERIES * sizeof *q), *ts = xmalloc(ASOF_QUERIES * sizeof *ts);
    uint64_t *h = xmalloc(ASOF_QUERIES * sizeof *h);
    uint8_t *found = xmalloc(ASOF_QUERIES);
    for (size_t i = 0; i < ASOF_QUERIES; i++) {
        q[i] = d->ts_min + (int64_t)(xorshift64(rng) % (uint64_t)(d->ts_max - d->ts_min + 1));
    }
    double t0 = now_s();
    bool ok = tl_snapshot_asof_many(s, q, ASOF_QUERIES, ts, h, found) == TL_OK;
    double secs = now_s() - t0;
    for (size_t i = 0; i < ASOF_QUERIES && ok; i++) {
        size_t k = (size_t)(q[i] - d->ts_min);
        int64_t t = q[i];
        while (d->pc[k + 1] == d->pc[k]) k--, t--; /* ts_min holds a record: stops there */
        ok &= found[i] && ts[i] == t;
    }
    if (!ok) fail_msg(figs[fig].key, "a wrong answer");
    fig_add(fig, secs / ASOF_QUERIES * 1e9, ok);
    free(q);
    free(ts);
    free(h);
    free(found);
}

/* An f64 log of d's records (handles as doubles: exact integers), fed in batches of `batch`,
 * then compacted or not; NULL (failure recorded under fig) when it cannot be built. */
static tl_timelog_t *f64_log(const qdata_t *d, size_t batch, bool compact, int fig) {
    tl_timelog_t *tl = open_log_cfg(false, TL_VALUES_F64);
    uint64_t busy = 0, *v = xmalloc(d->n * sizeof *v);
    for (size_t i = 0; i < d->n; i++) {
        double x = (double)d->h[i];
        memcpy(&v[i], &x, sizeof x);
    }
    bool ok = true;
    for (size_t off = 0; off < d->n; off += batch) {
        size_t n = d->n - off < batch ? d->n - off : batch;
        ok &= write_done(tl, tl_append_batch(tl, d->ts + off, v + off, n, 0), &busy);
    }
    if (compact) ok &= tl_compact(tl) == TL_OK;
    free(v);
    if (!ok) {
        fail_msg(figs[fig].key, "could not build the f64 log");
        fig_add(fig, 0, false);
        tl_close(tl);
        return NULL;
    }
    return tl;
}

/* The aggregates of one snapshot: 1 bucket, 100, and buckets of ~500 records. */
static void time_aggs(tl_snapshot_t *s, const qdata_t *d, int full, int b100, int fine) {
    time_agg(s, d, 1, 200, full);
    time_agg(s, d, 100, 50, b100);
    time_agg(s, d, (uint32_t)(d->n / 500), 5, fine);
}

void bench_queries(tl_snapshot_t *main_snap, const qdata_t *d, size_t batch, uint64_t *rng) {
    bench_reverse(main_snap, d, F_REV100);
    bench_asof(main_snap, d, rng, F_ASOF);
    tl_timelog_t *tl = f64_log(d, batch, true, F_AGG_FULL);
    tl_snapshot_t *s = NULL;
    if (tl == NULL) return;
    if (tl_snapshot_acquire(tl, &s) == TL_OK) {
        time_aggs(s, d, F_AGG_FULL, F_AGG100, F_AGG_FINE);
        tl_snapshot_release(s);
    } else {
        fail_msg("aggregate", "no snapshot");
    }
    tl_close(tl);
}

void bench_users_queries(const qdata_t *u, uint64_t *rng) {
    tl_timelog_t *tl = f64_log(u, 1000, false, F_U_AGG_FULL);
    tl_snapshot_t *s = NULL;
    if (tl == NULL) return;
    if (tl_snapshot_acquire(tl, &s) == TL_OK) { /* at once: what ingest and the worker left */
        bench_reverse(s, u, F_U_REV100);
        bench_asof(s, u, rng, F_U_ASOF);
        time_aggs(s, u, F_U_AGG_FULL, F_U_AGG100, F_U_AGG_FINE);
        tl_snapshot_release(s);
    } else {
        fail_msg("users' queries", "no snapshot");
    }
    tl_close(tl);
}
