/*
 * model.c — the reference model and read checks shared by model_test.c and soak.c (see
 * model.h for what it models and why). No state of its own: everything lives in the caller's
 * vectors and mdl_chk_t, so concurrent soak readers can use it in parallel.
 */
#include "model.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rng and small helpers ----------------------------------------------------------- */

uint64_t mdl_rng_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t mdl_below(uint64_t *s, uint64_t n) { return n ? mdl_rng_next(s) % n : 0; }

bool mdl_one_in(uint64_t *s, unsigned n) { return mdl_below(s, n) == 0; }

int64_t mdl_sat_add(int64_t a, int64_t d) {
    if (d > 0 && a > INT64_MAX - d) return INT64_MAX;
    if (d < 0 && a < INT64_MIN - d) return INT64_MIN;
    return a + d;
}

uint64_t mdl_f64_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

int64_t mdl_f64_exact(int64_t ts) {
    if (ts > MDL_TWO53 || ts < -MDL_TWO53) ts /= 1024; /* |ts| <= 2^63 / 2^10 = 2^53 */
    return ts;
}

double mdl_bad_f64(uint64_t *s) {
    static const double bad[] = {0.5, -1.25, 9007199254740994.0, -9007199254740994.0, 1e300,
                                 -1e300};
    unsigned k = (unsigned)mdl_below(s, 9);
    if (k == 6) return __builtin_nan("");
    if (k == 7) return __builtin_inf();
    if (k == 8) return -__builtin_inf();
    return bad[k];
}

void mdl_fill_anchors(int64_t *anchors, size_t n, uint64_t *s) {
    static const int64_t fixed[] = {INT64_MIN, INT64_MIN + 1, -MDL_TWO53 - 1, -MDL_TWO53, -1000,
                                    -1, 0, 1, 7, 1000, MDL_TWO53, MDL_TWO53 + 1, INT64_MAX - 1,
                                    INT64_MAX};
    size_t nf = sizeof fixed / sizeof fixed[0];
    for (size_t i = 0; i < n; i++) anchors[i] = i < nf ? fixed[i] : (int64_t)mdl_rng_next(s);
}

/* ---- vectors and the sorted model ---------------------------------------------------- */

static void oom(void) {
    fprintf(stderr, "model: out of memory\n");
    exit(2);
}

void mdl_vec_reserve(mdl_vec_t *a, size_t need) {
    if (need <= a->cap) return;
    size_t cap = a->cap ? a->cap * 2 : 64;
    while (cap < need) cap *= 2;
    mdl_rec_t *v = realloc(a->v, cap * sizeof *v);
    if (!v) oom();
    a->v = v;
    a->cap = cap;
}

void mdl_vec_push(mdl_vec_t *a, int64_t ts, uint64_t h) {
    mdl_vec_reserve(a, a->n + 1);
    a->v[a->n++] = (mdl_rec_t){ts, h};
}

void mdl_vec_copy(mdl_vec_t *dst, const mdl_vec_t *src) {
    dst->n = 0;
    mdl_vec_reserve(dst, src->n);
    if (src->n) memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
}

void mdl_vec_free(mdl_vec_t *a) { free(a->v); *a = (mdl_vec_t){0}; }

size_t mdl_lower_bound(const mdl_vec_t *a, int64_t ts) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid].ts < ts) lo = mid + 1; else hi = mid;
    }
    return lo;
}

size_t mdl_upper_bound(const mdl_vec_t *a, int64_t ts) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid].ts <= ts) lo = mid + 1; else hi = mid;
    }
    return lo;
}

void mdl_span_closed(const mdl_vec_t *a, int64_t lo, int64_t hi, size_t *b, size_t *e) {
    if (lo > hi) { *b = *e = 0; return; }
    *b = mdl_lower_bound(a, lo);
    *e = mdl_upper_bound(a, hi);
}

void mdl_insert(mdl_vec_t *m, int64_t ts, uint64_t h) {
    size_t i = mdl_upper_bound(m, ts); /* after every record with the same ts */
    mdl_vec_reserve(m, m->n + 1);
    memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(mdl_rec_t));
    m->v[i] = (mdl_rec_t){ts, h};
    m->n++;
}

typedef struct { mdl_rec_t r; size_t i; } irec_t;

static int cmp_irec(const void *x, const void *y) { /* by ts, then array order: stable */
    const irec_t *a = x, *b = y;
    if (a->r.ts != b->r.ts) return a->r.ts < b->r.ts ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Stable-sorts the batch, then merges from the back (a batch record goes after model records
 * of equal ts). */
void mdl_insert_batch(mdl_vec_t *m, const mdl_rec_t *recs, size_t n) {
    if (n < 8) {
        for (size_t i = 0; i < n; i++) mdl_insert(m, recs[i].ts, recs[i].h);
        return;
    }
    irec_t *b = malloc(n * sizeof *b);
    if (!b) oom();
    for (size_t i = 0; i < n; i++) b[i] = (irec_t){recs[i], i};
    qsort(b, n, sizeof *b, cmp_irec);
    mdl_vec_reserve(m, m->n + n);
    size_t i = m->n, j = n, k = m->n + n;
    while (j > 0) {
        if (i > 0 && m->v[i - 1].ts > b[j - 1].r.ts) m->v[--k] = m->v[--i];
        else m->v[--k] = b[--j].r;
    }
    m->n += n;
    free(b);
}

size_t mdl_delete(mdl_vec_t *m, int64_t lo, int64_t hi,
                  void (*del_cb)(void *ctx, const mdl_rec_t *recs, size_t n), void *ctx) {
    size_t b, e;
    mdl_span_closed(m, lo, hi, &b, &e);
    if (b == e) return 0;
    if (del_cb) del_cb(ctx, &m->v[b], e - b);
    memmove(&m->v[b], &m->v[e], (m->n - e) * sizeof(mdl_rec_t));
    m->n -= e - b;
    return e - b;
}

/* ---- read checks --------------------------------------------------------------------- */

const char *const mdl_q_names[MDL_Q_KINDS] = {"open", "range", "since", "until", "equal"};

static void chk_fail(mdl_chk_t *k, int line, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->fail(k->ctx, line, msg);
}

#define KFAIL(k, ...)                                                                     \
    do {                                                                                  \
        chk_fail((k), __LINE__, __VA_ARGS__);                                             \
        return 0;                                                                         \
    } while (0)
#define KCHECK(k, cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) KFAIL((k), __VA_ARGS__);                                             \
    } while (0)
#define TRY(x)                                                                            \
    do {                                                                                  \
        if (!(x)) return 0;                                                               \
    } while (0)

int mdl_iter_make(tl_snapshot_t *s, const mdl_vec_t *m, int q, int64_t a, int64_t b,
                  tl_iter_t **it, size_t *beg, size_t *end) {
    switch (q) {
    case MDL_Q_OPEN: mdl_span_closed(m, a, b, beg, end); return tl_iter_open(s, a, b, it);
    case MDL_Q_RANGE:
        if (a >= b) *beg = *end = 0; else mdl_span_closed(m, a, b - 1, beg, end);
        return tl_iter_range(s, a, b, it);
    case MDL_Q_SINCE: mdl_span_closed(m, a, INT64_MAX, beg, end); return tl_iter_since(s, a, it);
    case MDL_Q_UNTIL:
        if (a == INT64_MIN) *beg = *end = 0; else mdl_span_closed(m, INT64_MIN, a - 1, beg, end);
        return tl_iter_until(s, a, it);
    default: mdl_span_closed(m, a, a, beg, end); return tl_iter_equal(s, a, it);
    }
}

static size_t pick_cap(mdl_chk_t *k) {
    unsigned i = (unsigned)mdl_below(k->rng, 6);
    return i < 5 ? k->caps[i] : 1 + (size_t)mdl_below(k->rng, 17);
}

int mdl_batch_step(mdl_chk_t *k, tl_iter_t *it, const mdl_vec_t *m, size_t *pos, size_t end,
                   bool f64, bool *eof, const char *what) {
    size_t cap = pick_cap(k), n = 12345;
    unsigned nul = (unsigned)mdl_below(k->rng, 8); /* 0: no ts column, 1: no handle column */
    int64_t *ts = nul == 0 ? NULL : k->ts;
    double *tsd = nul == 0 ? NULL : k->tsd;
    uint64_t *h = nul == 1 ? NULL : k->h;
    int st = f64 ? tl_iter_next_batch_f64(it, tsd, h, cap, &n)
                 : tl_iter_next_batch(it, ts, h, cap, &n);
    *eof = st == TL_EOF;
    if (st == TL_EOF) {
        KCHECK(k, n == 0, "%s: EOF with n=%zu", what, n);
        KCHECK(k, *pos == end, "%s: EOF after %zu records, want %zu more", what, *pos, end - *pos);
        return 1;
    }
    KCHECK(k, st == TL_OK, "%s: next_batch%s -> %d", what, f64 ? "_f64" : "", st);
    KCHECK(k, n >= 1 && n <= cap, "%s: next_batch n=%zu cap=%zu", what, n, cap);
    KCHECK(k, n <= end - *pos, "%s: %zu extra records (pos %zu end %zu)", what, n, *pos, end);
    for (size_t i = 0; i < n; i++) {
        const mdl_rec_t *w = &m->v[*pos + i];
        int64_t got_ts = ts ? k->ts[i] : w->ts;
        if (f64) {
            bool exact = w->ts <= MDL_TWO53 && w->ts >= -MDL_TWO53;
            got_ts = (tsd && exact) ? (int64_t)k->tsd[i] : w->ts;
            KCHECK(k, !tsd || (!exact && !k->f64_check_inexact) || k->tsd[i] == (double)w->ts,
                   "%s: f64 ts %.17g want %" PRId64, what, k->tsd[i], w->ts);
        }
        uint64_t got_h = h ? k->h[i] : w->h;
        KCHECK(k, got_ts == w->ts && got_h == w->h,
               "%s: record %zu: got (%" PRId64 ", %" PRIu64 ") want (%" PRId64 ", %" PRIu64 ")",
               what, *pos + i, got_ts, got_h, w->ts, w->h);
    }
    *pos += n;
    k->records_checked += n;
    return 1;
}

/* Drains it, comparing with m[beg..end); then checks EOF is sticky. */
static int drain_check(mdl_chk_t *k, tl_iter_t *it, const mdl_vec_t *m, size_t beg, size_t end,
                       const char *what) {
    bool f64 = mdl_one_in(k->rng, 4), eof = false;
    size_t pos = beg;
    while (!eof) TRY(mdl_batch_step(k, it, m, &pos, end, f64, &eof, what));
    size_t n = 99;
    int st = tl_iter_next_batch(it, k->ts, k->h, MDL_BUF_N, &n);
    KCHECK(k, st == TL_EOF && n == 0, "%s: after EOF next_batch -> %d n=%zu", what, st, n);
    return 1;
}

int mdl_check_iter(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int q, int64_t a,
                   int64_t b) {
    char what[160];
    snprintf(what, sizeof what, "iter_%s(%" PRId64 ", %" PRId64 ") [model %zu recs]",
             mdl_q_names[q], a, b, m->n);
    tl_iter_t *it = NULL;
    size_t beg, end;
    int st = mdl_iter_make(s, m, q, a, b, &it, &beg, &end);
    KCHECK(k, st == TL_OK && it, "%s -> %d", what, st);
    int ok = drain_check(k, it, m, beg, end, what);
    tl_iter_destroy(it);
    return ok;
}

int mdl_check_count(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t lo, int64_t hi) {
    size_t b, e;
    mdl_span_closed(m, lo, hi, &b, &e);
    uint64_t n = 0;
    int st = tl_snapshot_count(s, lo, hi, &n);
    KCHECK(k, st == TL_OK && n == e - b,
           "count(%" PRId64 ", %" PRId64 ") -> %d n=%" PRIu64 " want %zu", lo, hi, st, n, e - b);
    return 1;
}

int mdl_check_at(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t t) {
    size_t b, e;
    mdl_span_closed(m, t, t, &b, &e);
    size_t cap = pick_cap(k);
    bool count_only = mdl_one_in(k->rng, 8);
    uint64_t total = 12345;
    for (size_t i = 0; i < cap && i < MDL_BUF_N; i++) k->h[i] = UINT64_MAX;
    int st = tl_snapshot_at(s, t, count_only ? NULL : k->h, cap, &total);
    KCHECK(k, st == TL_OK && total == e - b, "at(%" PRId64 ", cap %zu) -> %d total=%" PRIu64
           " want %zu", t, cap, st, total, e - b);
    for (size_t i = 0; i < cap && i < MDL_BUF_N; i++) {
        uint64_t want = !count_only && i < e - b ? m->v[b + i].h : UINT64_MAX;
        KCHECK(k, k->h[i] == want, "at(%" PRId64 ", cap %zu) slot %zu: got %" PRIu64
               " want %" PRIu64, t, cap, i, k->h[i], want);
    }
    k->records_checked += e - b;
    return 1;
}

/* Checks a point query result: want_idx >= m->n means "none" (EOF). */
static int check_point(mdl_chk_t *k, const char *what, int64_t arg, int st, int64_t got,
                       const mdl_vec_t *m, size_t want_idx) {
    if (want_idx >= m->n) {
        KCHECK(k, st == TL_EOF, "%s(%" PRId64 ") -> %d (%" PRId64 "), want EOF", what, arg, st,
               got);
        return 1;
    }
    KCHECK(k, st == TL_OK && got == m->v[want_idx].ts,
           "%s(%" PRId64 ") -> %d %" PRId64 ", want %" PRId64, what, arg, st, got,
           m->v[want_idx].ts);
    return 1;
}

int mdl_check_minmax(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m) {
    int64_t got = 0;
    int st = tl_snapshot_min(s, &got);
    TRY(check_point(k, "min", 0, st, got, m, 0));
    st = tl_snapshot_max(s, &got);
    return check_point(k, "max", 0, st, got, m, m->n ? m->n - 1 : 0);
}

int mdl_check_next_prev(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t t) {
    int64_t got = 0;
    int st = tl_snapshot_next(s, t, &got);
    TRY(check_point(k, "next", t, st, got, m, mdl_upper_bound(m, t)));
    size_t lb = mdl_lower_bound(m, t);
    st = tl_snapshot_prev(s, t, &got);
    return check_point(k, "prev", t, st, got, m, lb ? lb - 1 : m->n);
}

/* A bound as the double the f64 reads take, and the int64 it stands for. */
static double f64_bound(int64_t t, int64_t *as) {
    if (t == INT64_MIN || t == INT64_MAX) {
        *as = t;
        return t == INT64_MIN ? -INFINITY : INFINITY;
    }
    *as = mdl_f64_exact(t);
    return (double)*as;
}

int mdl_check_log_reads(mdl_chk_t *k, tl_timelog_t *tl, const mdl_vec_t *m, int64_t a,
                        int64_t b) {
    int64_t lo, hi;
    double dlo = f64_bound(a, &lo), dhi = f64_bound(b, &hi);
    size_t beg, end;
    mdl_span_closed(m, lo, hi, &beg, &end);
    double cnt = -1;
    int st = tl_count_f64(tl, dlo, dhi, &cnt);
    KCHECK(k, st == TL_OK && cnt == (double)(end - beg),
           "count_f64(%.17g, %.17g) -> %d %.17g want %zu", dlo, dhi, st, cnt, end - beg);
    size_t cap = pick_cap(k), n = 12345;
    st = tl_read_f64(tl, dlo, dhi, k->tsd, k->h, cap, &n);
    size_t want = end - beg < cap ? end - beg : cap;
    KCHECK(k, st == TL_OK && n == want, "read_f64(%.17g, %.17g, cap %zu) -> %d n=%zu want %zu",
           dlo, dhi, cap, st, n, want);
    for (size_t i = 0; i < n; i++) {
        const mdl_rec_t *w = &m->v[beg + i];
        KCHECK(k, k->tsd[i] == (double)w->ts && k->h[i] == w->h,
               "read_f64 record %zu: got (%.17g, %" PRIu64 ") want (%" PRId64 ", %" PRIu64 ")",
               i, k->tsd[i], k->h[i], w->ts, w->h);
    }
    k->records_checked += n;
    return 1;
}
