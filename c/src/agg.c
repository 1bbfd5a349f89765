/*
 * agg.c — bucketed aggregates (count, sum, min, max, mean, first, last) computed in the
 * engine, from per-page summaries where a whole page falls in one bucket.
 *
 * Buckets: bucket k (k < nbuckets) holds the visible records with lo <= ts <= hi and
 * start + k * every <= ts < start + (k + 1) * every (the last bucket stops at INT64_MAX). The
 * accumulation rules are summary.h's (NaN, +/-inf, -0, summation order), so a page read
 * through its summary and a page decoded give the same answer.
 *
 * No merge: every rule but first/last is order-free, so each source is read on its own and
 * the per-bucket accumulators are combined. first/last keep the timestamp they came from: a
 * smaller one replaces `first`, a larger or equal one replaces `last`. Sources are visited in
 * ascending rank and each chain and run in ascending order, which is read order, so among
 * equal timestamps the first record read stays first and the last read ends up last.
 *
 * Visibility: per run, the spans of [lo, hi] not hidden from it (the complement of the
 * fragments with seq > wm) are read; hidden records are never touched. Per span, a seek to
 * each end and a walk over the pages between:
 *   - a page wholly inside the span whose first and last timestamps fall in one bucket is
 *     added from the run's copy of its summary (O(1), the page is not touched), or, for a
 *     count, from the run's prefix counts;
 *   - any other page (an edge page, a page of a span cut by a tombstone, a raw page: the
 *     memtable, L0 and pages not packed have no summary) is read: a raw page in place, a
 *     packed one decoded 1024 records at a time (values only when an op needs them), and
 *     split into buckets by a search of each bucket's end in its timestamps.
 * Cost: O(K (log R + log P)) per span end, O(1) per summarized page, and the records of the
 * other pages once. A full-range sum of 5M packed records reads ~1,200 summaries (~60 KB,
 * cached) and no record. Memory: 56 bytes a bucket from the log's allocator during the call.
 */
#include <math.h>

#include "summary.h"
#include "timelog_int.h"

#define AGG_OPS_ALL (TL_AGG_COUNT | TL_AGG_SUM | TL_AGG_MIN | TL_AGG_MAX | TL_AGG_MEAN | \
                     TL_AGG_FIRST | TL_AGG_LAST)
#define CH 1024u /* records of a packed page decoded at a time */

typedef struct acc {
    uint64_t count;
    tl_sum_t s; /* n unused; sum, nan, keys, first/last value bits */
    int64_t first_ts, last_ts;
} acc_t;

typedef struct agg {
    int64_t start;
    uint64_t every;
    uint32_t nb;
    bool values; /* an op needs the values (else counts only) */
    int64_t lo, hi; /* clamped to the buckets' span */
    acc_t *acc;
    int64_t tsb[CH];
    uint64_t hb[CH];
} agg_t;

static inline uint32_t bucket_of(const agg_t *g, int64_t t) {
    return (uint32_t)(((uint64_t)t - (uint64_t)g->start) / g->every);
}

/* The last timestamp of bucket k (INT64_MAX when the bucket reaches past it). */
static int64_t bucket_last(int64_t start, uint64_t every, uint64_t k) {
    if (every > UINT64_MAX / (k + 1)) return INT64_MAX;
    uint64_t off = (k + 1) * every - 1, room = (uint64_t)INT64_MAX - (uint64_t)start;
    return off > room ? INT64_MAX : (int64_t)((uint64_t)start + off);
}

/* Adds a part of a bucket (s->n records, the first at t0, the last at t1) to a. */
static void acc_add(acc_t *a, const tl_sum_t *s, int64_t t0, int64_t t1) {
    if (a->count == 0) {
        a->count = s->n;
        a->s = *s;
        a->first_ts = t0;
        a->last_ts = t1;
        return;
    }
    a->count += s->n;
    a->s.sum += s->sum;
    a->s.nan |= s->nan;
    a->s.kmin = s->kmin < a->s.kmin ? s->kmin : a->s.kmin;
    a->s.kmax = s->kmax > a->s.kmax ? s->kmax : a->s.kmax;
    if (t0 < a->first_ts) {
        a->first_ts = t0;
        a->s.first = s->first;
    }
    if (t1 >= a->last_ts) {
        a->last_ts = t1;
        a->s.last = s->last;
    }
}

/* n >= 1 sorted records (h NULL when only counted) split into their buckets. */
static void agg_records(agg_t *g, const int64_t *ts, const uint64_t *h, uint32_t n) {
    uint32_t i = 0;
    while (i < n) {
        uint32_t k = bucket_of(g, ts[i]);
        int64_t last = bucket_last(g->start, g->every, k);
        uint32_t j = ts[n - 1] <= last ? n : tl_ts_upper(ts, i + 1, n, last);
        tl_sum_t s = {j - i, 0, 0, 0, 0, 0, 0};
        if (h != NULL) tl_sum_compute(&s, h + i, j - i);
        acc_add(&g->acc[k], &s, ts[i], ts[j - 1]);
        i = j;
    }
}

/* Records [o0, o1) of page p of r. */
static void agg_page(agg_t *g, const tl_run_t *r, uint32_t p, uint32_t o0, uint32_t o1) {
    uint32_t cnt = tl_run_page_count(r, p);
    bool summed = !g->values || (r->sum != NULL && r->sum[p].n == cnt);
    if (o0 == 0 && o1 == cnt && summed) {
        int64_t a = r->page_min[p], b = r->page_max[p];
        uint32_t k = bucket_of(g, a);
        if (k == bucket_of(g, b)) {
            tl_sum_t s = {cnt, 0, 0, 0, 0, 0, 0};
            acc_add(&g->acc[k], g->values ? &r->sum[p] : &s, a, b);
            return;
        }
    }
    if (r->page_h[p] != NULL) { /* raw: read in place */
        const int64_t *ts = tl_page_ts(r->pages[p]);
        agg_records(g, ts + o0, g->values ? r->page_h[p] + o0 : NULL, o1 - o0);
        return;
    }
    for (uint32_t c = o0; c < o1; c += CH) {
        uint32_t e = o1 - c < CH ? o1 : c + CH;
        tl_pcodec_decode(r->page_v[p], c, e, g->tsb, g->values ? g->hb : NULL);
        agg_records(g, g->tsb, g->values ? g->hb : NULL, e - c);
    }
}

/* The records of r with a <= ts <= b (r->ts_min <= b, a <= r->ts_max). */
static void agg_span(agg_t *g, const tl_run_t *r, int64_t a, int64_t b) {
    tl_run_pos_t pa = {0, 0}, pb = {r->npages, 0};
    if (a > r->ts_min) pa = tl_run_seek_lower(r, a);
    if (b < r->ts_max) pb = tl_run_seek_upper(r, b);
    for (uint32_t p = pa.page; p < r->npages && p <= pb.page; p++) {
        uint32_t o0 = p == pa.page ? pa.off : 0;
        uint32_t o1 = p == pb.page ? pb.off : tl_run_page_count(r, p);
        if (o0 < o1) agg_page(g, r, p, o0, o1);
    }
}

/* The visible records of r in [lo, hi]: the spans between the fragments that hide r's. */
static void agg_run(agg_t *g, const tl_run_t *r, const tl_tombs_t *tb) {
    int64_t a = g->lo > r->ts_min ? g->lo : r->ts_min;
    int64_t b = g->hi < r->ts_max ? g->hi : r->ts_max;
    if (a > b) return;
    if (tb == NULL || r->wm == TL_SEQ_MAX) {
        agg_span(g, r, a, b);
        return;
    }
    int64_t cur = a;
    for (uint32_t i = tl_tombs_find(tb, a); i < tb->n && tb->v[i].lo <= b; i++) {
        const tl_tomb_t *f = &tb->v[i];
        if (f->seq <= r->wm) continue;
        if (f->lo > cur) agg_span(g, r, cur, f->lo - 1);
        if (f->hi >= b) return;
        cur = f->hi + 1; /* hi < b: no wrap */
    }
    agg_span(g, r, cur, b);
}

/* A min / max key back to its double. */
static inline double key_f64(int64_t k) { return tl_sum_f64((uint64_t)tl_sum_key((uint64_t)k)); }

/* Writes the op columns in bit order: out[j * nb + k]. */
static void agg_finish(const agg_t *g, uint32_t ops, double *out) {
    for (uint32_t bit = 1; bit <= TL_AGG_LAST; bit <<= 1) {
        if (!(ops & bit)) continue;
        for (uint32_t k = 0; k < g->nb; k++) {
            const acc_t *a = &g->acc[k];
            double v = NAN;
            bool any = a->count > 0, num = any && !a->s.nan;
            switch (bit) {
            case TL_AGG_COUNT: v = (double)a->count; break;
            case TL_AGG_SUM: v = any ? a->s.sum : 0.0; break;
            case TL_AGG_MEAN: v = any ? a->s.sum / (double)a->count : NAN; break;
            case TL_AGG_MIN: v = num ? key_f64(a->s.kmin) : NAN; break;
            case TL_AGG_MAX: v = num ? key_f64(a->s.kmax) : NAN; break;
            case TL_AGG_FIRST: v = any ? tl_sum_f64(a->s.first) : NAN; break;
            default: v = any ? tl_sum_f64(a->s.last) : NAN; break;
            }
            out[k] = v;
        }
        out += g->nb;
    }
}

tl_status_t tl_snapshot_aggregate(tl_snapshot_t *s, int64_t lo, int64_t hi, int64_t start,
                                  int64_t every, uint32_t nbuckets, uint32_t ops, double *out) {
    if (s == NULL || every < 1 || ops == 0 || (ops & ~AGG_OPS_ALL) != 0) return TL_EINVAL;
    if (nbuckets == 0) return TL_OK;
    if (out == NULL) return TL_EINVAL;
    tl_read_plan_t pl;
    tl_status_t st = tl_snapshot_read_plan(s, &pl);
    if (st != TL_OK) return st;
    bool values = (ops & ~TL_AGG_COUNT) != 0;
    if (values && pl.value_kind != TL_VALUES_F64) return TL_EINVAL; /* handles: counts only */
    agg_t *g = tl_mem_alloc(pl.alloc, sizeof *g);
    acc_t *acc = tl_mem_calloc(pl.alloc, nbuckets, sizeof *acc);
    if (g == NULL || acc == NULL) {
        tl_mem_free(pl.alloc, g, sizeof *g);
        tl_mem_free(pl.alloc, acc, (size_t)nbuckets * sizeof *acc);
        return TL_ENOMEM;
    }
    *g = (agg_t){start, (uint64_t)every, nbuckets, values, lo, hi, acc, {0}, {0}};
    if (g->lo < start) g->lo = start; /* only what the buckets hold */
    int64_t span_last = bucket_last(start, (uint64_t)every, nbuckets - 1u);
    if (g->hi > span_last) g->hi = span_last;
    const tl_tombs_t *tb = pl.tombs != NULL && pl.tombs->n > 0 ? pl.tombs : NULL;
    for (uint32_t i = 0; i < pl.nsrc && g->lo <= g->hi; i++) {
        tl_run_t *const *runs = pl.srcs[i].runs;
        uint32_t n = pl.srcs[i].nruns;
        for (uint32_t j = tl_chain_first_ge(runs, n, g->lo); j < n; j++) {
            if (runs[j]->ts_min > g->hi) break;
            agg_run(g, runs[j], tb);
        }
    }
    agg_finish(g, ops, out);
    tl_mem_free(pl.alloc, acc, (size_t)nbuckets * sizeof *acc);
    tl_mem_free(pl.alloc, g, sizeof *g);
    return TL_OK;
}

tl_status_t tl_snapshot_aggregate_f64(tl_snapshot_t *s, double lo, double hi, double start,
                                      double every, uint32_t nbuckets, uint32_t ops,
                                      double *out) {
    int64_t a, b, st0, ev;
    if (!tl_f64_bound(lo, &a) || !tl_f64_bound(hi, &b) || !tl_f64_to_ts(start, &st0) ||
        !tl_f64_to_ts(every, &ev)) {
        return TL_EINVAL;
    }
    return tl_snapshot_aggregate(s, a, b, st0, ev, nbuckets, ops, out);
}

tl_status_t tl_aggregate_f64(tl_timelog_t *tl, double lo, double hi, double start, double every,
                             uint32_t nbuckets, uint32_t ops, double *out) {
    tl_snapshot_t *s = NULL;
    tl_status_t st = tl_view_take(tl, &s);
    if (st != TL_OK) return st;
    st = tl_snapshot_aggregate_f64(s, lo, hi, start, every, nbuckets, ops, out);
    tl_view_put(tl, s);
    return st;
}
