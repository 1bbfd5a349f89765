/*
 * model_queries.c — the read checks of the time-series queries against the reference model
 * (model.h), shared like model.c: newest-first iterators (every kind, random caps, a random
 * limit taken as a prefix), as-of lookups (single, int64 column, double column), and bucketed
 * aggregates (every op on logs holding doubles, count on the others).
 *
 * The model is sorted by (ts, insertion), so the reverse of a span is the span read from its
 * end, the as-of record of x is the record just before upper_bound(x), and a bucket's records
 * are a contiguous slice, aggregated left to right with the engine's documented rules. The
 * handles of these tests are small integers or exact doubles, so every sum is exact in any
 * order and compared bit for bit.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

static void qfail(mdl_chk_t *k, int line, const char *msg) { k->fail(k->ctx, line, msg); }

#define QCHECK(k, cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            char m_[512];                                                                 \
            snprintf(m_, sizeof m_, __VA_ARGS__);                                         \
            qfail((k), __LINE__, m_);                                                     \
            return 0;                                                                     \
        }                                                                                 \
    } while (0)

int mdl_check_rev(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t a, int64_t b) {
    size_t beg, end;
    mdl_span_closed(m, a, b, &beg, &end);
    tl_iter_t *it = NULL;
    int st = tl_iter_open_ex(s, a, b, TL_READ_REVERSE, &it);
    QCHECK(k, st == TL_OK && it, "iter_open_ex(%" PRId64 ", %" PRId64 ", REVERSE) -> %d", a, b,
           st);
    size_t pos = end, limit = (size_t)mdl_below(k->rng, end - beg + 3);
    bool f64 = mdl_one_in(k->rng, 3);
    while (pos > beg && end - pos < limit) {
        size_t cap = 1 + (size_t)mdl_below(k->rng, mdl_one_in(k->rng, 2) ? 5 : MDL_BUF_N), n = 0;
        st = f64 ? tl_iter_next_batch_f64(it, k->tsd, k->h, cap, &n)
                 : tl_iter_next_batch(it, k->ts, k->h, cap, &n);
        QCHECK(k, st == TL_OK && n >= 1 && n <= cap && n <= pos - beg,
               "reverse [%" PRId64 ", %" PRId64 "]: next_batch -> %d n=%zu cap %zu left %zu", a,
               b, st, n, cap, pos - beg);
        for (size_t i = 0; i < n; i++) {
            const mdl_rec_t *w = &m->v[pos - 1 - i];
            bool ts_ok = f64 ? k->tsd[i] == (double)w->ts : k->ts[i] == w->ts;
            QCHECK(k, ts_ok && k->h[i] == w->h,
                   "reverse [%" PRId64 ", %" PRId64 "] record %zu: h %" PRIu64 " want (%" PRId64
                   ", %" PRIu64 ")", a, b, end - pos + i, k->h[i], w->ts, w->h);
        }
        pos -= n;
        k->records_checked += n;
    }
    if (pos == beg) {
        size_t n = 9;
        st = tl_iter_next_batch(it, k->ts, k->h, 4, &n);
        QCHECK(k, st == TL_EOF && n == 0, "reverse: after the last record -> %d n=%zu", st, n);
    }
    tl_iter_destroy(it);
    return 1;
}

/* The model's as-of record of x: the index, or m->n when there is none. */
static size_t asof_index(const mdl_vec_t *m, int64_t x) {
    size_t u = mdl_upper_bound(m, x);
    return u == 0 ? m->n : u - 1;
}

int mdl_check_asof(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t x) {
    int64_t t = 0;
    uint64_t h = 0;
    size_t w = asof_index(m, x);
    int st = tl_snapshot_asof(s, x, &t, &h);
    if (w == m->n) {
        QCHECK(k, st == TL_EOF, "asof(%" PRId64 ") -> %d, want EOF", x, st);
    } else {
        QCHECK(k, st == TL_OK && t == m->v[w].ts && h == m->v[w].h,
               "asof(%" PRId64 ") -> %d (%" PRId64 ", %" PRIu64 ") want (%" PRId64 ", %" PRIu64
               ")", x, st, t, h, m->v[w].ts, m->v[w].h);
    }
    /* A column around x: x itself, neighbours, the ends and records' timestamps. */
    enum { NQ = 16 };
    int64_t q[NQ];
    double qd[NQ], td[NQ];
    uint8_t found[NQ];
    for (int i = 0; i < NQ; i++) {
        uint64_t r = mdl_below(k->rng, 6);
        q[i] = r == 0 ? INT64_MIN : r == 1 ? INT64_MAX : mdl_sat_add(x, (int64_t)r - 3);
        if (r == 5 && m->n) q[i] = m->v[mdl_below(k->rng, m->n)].ts;
        qd[i] = (double)mdl_f64_exact(q[i]);
        if (q[i] == INT64_MIN) qd[i] = -INFINITY;
        if (q[i] == INT64_MAX) qd[i] = INFINITY;
    }
    st = tl_snapshot_asof_many(s, q, NQ, k->ts, k->h, found);
    QCHECK(k, st == TL_OK, "asof_many -> %d", st);
    for (int i = 0; i < NQ; i++) {
        size_t wi = asof_index(m, q[i]);
        bool ok = wi == m->n ? !found[i] && k->ts[i] == 0 && k->h[i] == 0
                             : found[i] && k->ts[i] == m->v[wi].ts && k->h[i] == m->v[wi].h;
        QCHECK(k, ok, "asof_many[%d] of %" PRId64 ": found %d ts %" PRId64 " h %" PRIu64, i,
               q[i], found[i], k->ts[i], k->h[i]);
    }
    st = tl_snapshot_asof_many_f64(s, qd, NQ, td, k->h, found);
    QCHECK(k, st == TL_OK, "asof_many_f64 -> %d", st);
    for (int i = 0; i < NQ; i++) {
        int64_t x64 = isinf(qd[i]) ? (qd[i] < 0 ? INT64_MIN : INT64_MAX) : (int64_t)qd[i];
        size_t wi = asof_index(m, x64);
        bool ok = wi == m->n ? !found[i] && isnan(td[i])
                             : found[i] && td[i] == (double)m->v[wi].ts && k->h[i] == m->v[wi].h;
        QCHECK(k, ok, "asof_many_f64[%d] of %.17g: found %d", i, qd[i], found[i]);
    }
    return 1;
}

static double bits_f64(uint64_t b) {
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* Math.min / Math.max on two non-NaN values: -0 < +0. */
static double min2(double a, double b) { return a < b || (a == b && signbit(a)) ? a : b; }
static double max2(double a, double b) { return a > b || (a == b && signbit(b)) ? a : b; }

/* The model's aggregate of records [i, j) (the bucket's slice): out[7] in op bit order. */
static void model_bucket(const mdl_vec_t *m, size_t i, size_t j, double *o) {
    double sum = 0, mn = 0, mx = 0;
    bool nan = false;
    for (size_t r = i; r < j; r++) {
        double v = bits_f64(m->v[r].h);
        sum += v;
        nan |= v != v;
        if (v == v) {
            mn = r == i ? v : min2(mn, v);
            mx = r == i ? v : max2(mx, v);
        }
    }
    bool any = j > i;
    o[0] = (double)(j - i);
    o[1] = sum;
    o[2] = any && !nan ? mn : NAN;
    o[3] = any && !nan ? mx : NAN;
    o[4] = any ? sum / (double)(j - i) : NAN;
    o[5] = any ? bits_f64(m->v[i].h) : NAN;
    o[6] = any ? bits_f64(m->v[j - 1].h) : NAN;
}

static bool same(double a, double b) {
    uint64_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return x == y || (a != a && b != b);
}

int mdl_check_agg(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t a, int64_t b,
                  bool f64_values) {
    enum { NB_MAX = 64, NOPS = 7 };
    static double out[NB_MAX * NOPS];
    uint32_t nb = 1 + (uint32_t)mdl_below(k->rng, NB_MAX);
    uint64_t every = 1 + mdl_below(k->rng, mdl_one_in(k->rng, 4) ? UINT64_MAX / 2 : 40);
    int64_t start = mdl_sat_add(a, -(int64_t)mdl_below(k->rng, 9));
    if (mdl_one_in(k->rng, 8)) start = INT64_MIN;
    uint32_t ops = f64_values ? 1u + (uint32_t)mdl_below(k->rng, 127) : TL_AGG_COUNT;
    int st = tl_snapshot_aggregate(s, a, b, start, (int64_t)every, nb, ops, out);
    QCHECK(k, st == TL_OK, "aggregate(%" PRId64 ", %" PRId64 ", every %" PRIu64 ") -> %d", a,
           b, every, st);
    size_t col = 0;
    for (uint32_t op = 0; op < NOPS; op++) {
        if (!(ops & (1u << op))) continue;
        for (uint32_t kb = 0; kb < nb; kb++) {
            /* Bucket kb: [start + kb * every, start + (kb + 1) * every) within [a, b]. */
            __int128 lo128 = (__int128)start + (__int128)kb * every;
            __int128 hi128 = lo128 + every - 1;
            int64_t lo = lo128 > INT64_MAX ? INT64_MAX : (int64_t)lo128;
            int64_t hi = hi128 > INT64_MAX ? INT64_MAX : (int64_t)hi128;
            if (lo < a) lo = a;
            if (hi > b) hi = b;
            size_t i = 0, j = 0;
            if (lo128 <= INT64_MAX && lo <= hi) mdl_span_closed(m, lo, hi, &i, &j);
            double want[NOPS];
            model_bucket(m, i, j, want);
            double got = out[col * nb + kb];
            QCHECK(k, same(got, want[op]),
                   "aggregate [%" PRId64 ", %" PRId64 "] start %" PRId64 " every %" PRIu64
                   " op %u bucket %u: %.17g want %.17g", a, b, start, every, op, kb, got,
                   want[op]);
        }
        col++;
    }
    return 1;
}
