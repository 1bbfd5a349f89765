/*
 * asof.c — as-of lookups: for a timestamp x, the newest visible record with ts <= x (among
 * records at that ts, the one written last), one at a time or a whole column per call.
 *
 * One lookup is query.c's last_le search carried to the record: per source, the chain's last
 * run starting at or before x, an upper-bound seek for x and a step back, a skyline check (a
 * hidden candidate jumps before its fragment); the best candidate over sources wins, a later
 * source on equal ts (tl_query_last_le_at). The record found is the last of its run at that
 * ts, so the handle is read at its position: a load for a raw page, one miniblock decode for a
 * packed one. O(K (log R + log P)) plus O(log) per hidden fragment crossed.
 *
 * A column (the join of two streams, merge_asof / kdb+ aj) is answered in one call. Lookups in
 * random order would each pay the cold misses of a point read; in ascending order consecutive
 * lookups land on the same or the next cache lines, which are then already loaded. So the
 * queries are sorted first (skipped when they already are): an LSD radix sort of (key, index)
 * pairs, 8 bits a pass, skipping the passes whose digit is the same for every key (timestamps
 * of one day differ in their low 3-5 bytes only), O(n) with two n-entry buffers from the
 * log's allocator. Equal consecutive queries reuse the answer. Answers go back to the caller's
 * positions. Memory: 32 bytes a query during the call.
 */
#include <math.h>

#include "timelog_int.h"

/* The handle of the record a hit points at. */
static uint64_t hit_handle(const tl_query_hit_t *hit) {
    const tl_run_t *r = hit->r;
    tl_run_pos_t p = hit->p;
    if (r->page_h[p.page] != NULL) return r->page_h[p.page][p.off];
    return tl_pcodec_h_at(r->page_v[p.page], p.off);
}

tl_status_t tl_snapshot_asof(tl_snapshot_t *s, int64_t ts, int64_t *ts_out, uint64_t *h_out) {
    if (s == NULL) return TL_EINVAL;
    tl_read_plan_t pl;
    tl_status_t st = tl_snapshot_read_plan(s, &pl);
    if (st != TL_OK) return st;
    tl_query_hit_t hit;
    tl_query_last_le_at(pl.srcs, pl.nsrc, pl.tombs, ts, &hit);
    if (!hit.found) return TL_EOF;
    if (ts_out != NULL) *ts_out = hit.ts;
    if (h_out != NULL) *h_out = hit_handle(&hit);
    return TL_OK;
}

/* ---- columns ---- */

typedef struct qent {
    uint64_t key; /* the query with its sign bit flipped: unsigned order = int64 order */
    uint64_t idx;
} qent_t;

/* Sorts a[0, n) by key (stable LSD radix, 8 bits a pass); tmp holds n entries. Returns the
 * array holding the result (a or tmp). */
static qent_t *radix_sort(qent_t *a, qent_t *tmp, size_t n) {
    static const unsigned PASSES = 8;
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        for (unsigned d = 0; d < PASSES; d++) count[d][(a[i].key >> (8 * d)) & 255]++;
    }
    for (unsigned d = 0; d < PASSES; d++) {
        size_t *c = count[d];
        if (c[(a[0].key >> (8 * d)) & 255] == n) continue; /* one digit for all: skip */
        size_t sum = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t k = c[b];
            c[b] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) tmp[c[(a[i].key >> (8 * d)) & 255]++] = a[i];
        qent_t *x = a;
        a = tmp;
        tmp = x;
    }
    return a;
}

/* One answer per query in ascending key order; writes through the out callback's arrays. */
typedef struct asof_out {
    int64_t *ts;
    double *tf;
    uint64_t *h;
    uint8_t *found;
} asof_out_t;

static void put(const asof_out_t *o, uint64_t i, const tl_query_hit_t *hit, uint64_t h) {
    if (o->found != NULL) o->found[i] = hit->found;
    if (o->ts != NULL) o->ts[i] = hit->found ? hit->ts : 0;
    if (o->tf != NULL) o->tf[i] = hit->found ? (double)hit->ts : NAN;
    if (o->h != NULL) o->h[i] = hit->found ? h : 0;
}

static void answer_sorted(const tl_read_plan_t *pl, const qent_t *q, size_t n,
                          const asof_out_t *o) {
    tl_query_hit_t hit = {NULL, {0, 0}, 0, false};
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || q[i].key != q[i - 1].key) {
            tl_query_last_le_at(pl->srcs, pl->nsrc, pl->tombs, (int64_t)(q[i].key ^ (1ull << 63)),
                                &hit);
            h = hit.found && o->h != NULL ? hit_handle(&hit) : 0;
        }
        put(o, q[i].idx, &hit, h);
    }
}

/* Sorts the n queries in ent (unless sorted) and answers them. ent holds 2n entries. */
static tl_status_t asof_column(tl_snapshot_t *s, qent_t *ent, size_t n, bool sorted,
                               const asof_out_t *o) {
    tl_read_plan_t pl;
    tl_status_t st = tl_snapshot_read_plan(s, &pl);
    if (st != TL_OK) return st;
    const qent_t *q = sorted ? ent : radix_sort(ent, ent + n, n);
    answer_sorted(&pl, q, n, o);
    return TL_OK;
}

/* A query given as a double: an integer of any magnitude (beyond int64 it clamps to the
 * int64 ends, where the answer is the same), or -/+inf; NaN and fractions are refused. */
static bool query_f64(double d, int64_t *out) {
    if (d != d) return false;
    if (d >= 9223372036854775808.0) {
        *out = INT64_MAX;
        return true;
    }
    if (d < -9223372036854775808.0) {
        *out = INT64_MIN;
        return true;
    }
    int64_t v = (int64_t)d;
    if ((double)v != d) return false;
    *out = v;
    return true;
}

/* Fills ent[0, n) from int64 (q64) or double (qf) queries; false on a bad double. */
static bool load(qent_t *ent, const int64_t *q64, const double *qf, size_t n, bool *sorted) {
    *sorted = true;
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        if (q64 != NULL) x = q64[i];
        else if (!query_f64(qf[i], &x)) return false;
        ent[i] = (qent_t){(uint64_t)x ^ (1ull << 63), i};
        if (i > 0 && ent[i].key < ent[i - 1].key) *sorted = false;
    }
    return true;
}

static tl_status_t asof_many(tl_snapshot_t *s, const int64_t *q64, const double *qf, size_t n,
                             const asof_out_t *o) {
    if (s == NULL || (q64 == NULL && qf == NULL && n > 0)) return TL_EINVAL;
    if (n == 0) return TL_OK;
    if (n > SIZE_MAX / (2 * sizeof(qent_t))) return TL_EOVERFLOW;
    tl_read_plan_t pl;
    tl_status_t st = tl_snapshot_read_plan(s, &pl); /* for the allocator */
    if (st != TL_OK) return st;
    size_t bytes = 2 * n * sizeof(qent_t);
    qent_t *ent = tl_mem_alloc(pl.alloc, bytes);
    if (ent == NULL) return TL_ENOMEM;
    bool sorted;
    st = load(ent, q64, qf, n, &sorted) ? asof_column(s, ent, n, sorted, o) : TL_EINVAL;
    tl_mem_free(pl.alloc, ent, bytes);
    return st;
}

tl_status_t tl_snapshot_asof_many(tl_snapshot_t *s, const int64_t *ts, size_t n,
                                  int64_t *ts_out, uint64_t *h_out, uint8_t *found) {
    asof_out_t o = {ts_out, NULL, h_out, found};
    return asof_many(s, ts, NULL, n, &o);
}

tl_status_t tl_snapshot_asof_many_f64(tl_snapshot_t *s, const double *ts, uint32_t n,
                                      double *ts_out, uint64_t *h_out, uint8_t *found) {
    asof_out_t o = {NULL, ts_out, h_out, found};
    return asof_many(s, NULL, ts, n, &o);
}

tl_status_t tl_asof_many_f64(tl_timelog_t *tl, const double *ts, uint32_t n, double *ts_out,
                             uint64_t *h_out, uint8_t *found) {
    tl_snapshot_t *s = NULL;
    tl_status_t st = tl_view_take(tl, &s);
    if (st != TL_OK) return st;
    st = tl_snapshot_asof_many_f64(s, ts, n, ts_out, h_out, found);
    tl_view_put(tl, s);
    return st;
}
