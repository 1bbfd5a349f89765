/*
 * oneshot.c — reads shaped for FFI callers: double bounds, and one call instead of five.
 *
 * A JavaScript point read through the general API costs five crossings (snapshot acquire,
 * iterator open, next batch, destroy, release) plus two pointer objects; in Deno a crossing
 * whose int64 argument is a Number, or that returns a pointer, leaves V8's fast-call path
 * (research/ffi-limits.md §1). These entry points take timestamps as doubles (exact integers
 * within ±2^53; -inf/+inf stand for the unbounded ends, so INT64_MIN/INT64_MAX stay reachable)
 * and buffer capacities as uint32_t (a Number Deno passes on the fast path without a BigInt),
 * and do the whole read in one call, on an internal snapshot when given the log.
 *
 * The log-level reads (tl_read_f64, tl_count_f64) run on the log's read view (timelog_int.h):
 * the snapshot of the previous read when nothing was written since, so a loop of reads pays
 * no acquire, plan or release. Otherwise they are built from the public API only.
 */
#include <math.h>

#include "merge.h"
#include "timelog_int.h"

/* A double bound as an int64: ±inf for the ends, otherwise the *_f64 timestamp rule. */
static bool bound(double x, int64_t *out) { return tl_f64_bound(x, out); }

tl_status_t tl_iter_open_f64(tl_snapshot_t *s, double lo, double hi, tl_iter_t **out) {
    int64_t a, b;
    if (out == NULL) return TL_EINVAL;
    *out = NULL;
    if (!bound(lo, &a) || !bound(hi, &b)) return TL_EINVAL;
    return tl_iter_open(s, a, b, out);
}

tl_status_t tl_iter_open_ex_f64(tl_snapshot_t *s, double lo, double hi, uint32_t flags,
                               tl_iter_t **out) {
    int64_t a, b;
    if (out == NULL) return TL_EINVAL;
    *out = NULL;
    if (!bound(lo, &a) || !bound(hi, &b)) return TL_EINVAL;
    return tl_iter_open_ex(s, a, b, flags, out);
}

tl_status_t tl_snapshot_read_f64(tl_snapshot_t *s, double lo, double hi, double *ts,
                                 uint64_t *handles, uint32_t cap, size_t *n_out) {
    return tl_snapshot_read_ex_f64(s, lo, hi, 0, ts, handles, cap, n_out);
}

tl_status_t tl_snapshot_read_ex_f64(tl_snapshot_t *s, double lo, double hi, uint32_t flags,
                                    double *ts, uint64_t *handles, uint32_t cap,
                                    size_t *n_out) {
    if (n_out == NULL) return TL_EINVAL;
    *n_out = 0;
    int64_t a, b;
    if (s == NULL || !bound(lo, &a) || !bound(hi, &b)) return TL_EINVAL;
    if ((flags & ~TL_READ_REVERSE) != 0) return TL_EINVAL;
    if (a == b && flags == 0) { /* a point: no iterator */
        uint64_t total = 0;
        tl_status_t st = tl_snapshot_at(s, a, handles, cap, &total);
        size_t n = total < cap ? (size_t)total : cap;
        for (size_t i = 0; ts != NULL && i < n; i++) ts[i] = (double)a;
        *n_out = n;
        return st;
    }
    if (flags == 0 && a < b) { /* one source and nothing hidden: straight into the columns */
        tl_read_plan_t rp;
        tl_status_t st = tl_snapshot_read_plan(s, &rp);
        if (st != TL_OK) return st;
        if (tl_direct_read_f64(rp.srcs, rp.nsrc, rp.tombs, a, b, ts, handles, cap, n_out)) {
            return TL_OK;
        }
    }
    tl_iter_t *it = NULL;
    tl_status_t st = tl_iter_open_ex(s, a, b, flags, &it);
    size_t got = 0;
    /* Fill up to cap: next_batch may return fewer than asked before the end. */
    while (st == TL_OK && got < cap) {
        size_t n = 0;
        st = tl_iter_next_batch_f64(it, ts ? ts + got : NULL, handles ? handles + got : NULL,
                                    cap - got, &n);
        got += n;
    }
    tl_iter_destroy(it);
    *n_out = got;
    return st == TL_EOF ? TL_OK : st;
}

tl_status_t tl_read_f64(tl_timelog_t *tl, double lo, double hi, double *ts, uint64_t *handles,
                        uint32_t cap, size_t *n_out) {
    return tl_read_ex_f64(tl, lo, hi, 0, ts, handles, cap, n_out);
}

tl_status_t tl_read_ex_f64(tl_timelog_t *tl, double lo, double hi, uint32_t flags, double *ts,
                           uint64_t *handles, uint32_t cap, size_t *n_out) {
    if (n_out == NULL) return TL_EINVAL;
    *n_out = 0;
    tl_snapshot_t *s = NULL;
    tl_status_t st = tl_view_take(tl, &s);
    if (st != TL_OK) return st;
    st = tl_snapshot_read_ex_f64(s, lo, hi, flags, ts, handles, cap, n_out);
    tl_view_put(tl, s);
    return st;
}

tl_status_t tl_snapshot_count_f64(tl_snapshot_t *s, double lo, double hi, double *out) {
    int64_t a, b;
    uint64_t n = 0;
    if (out == NULL) return TL_EINVAL;
    *out = 0;
    if (!bound(lo, &a) || !bound(hi, &b)) return TL_EINVAL;
    tl_status_t st = tl_snapshot_count(s, a, b, &n);
    *out = (double)n;
    return st;
}

tl_status_t tl_count_f64(tl_timelog_t *tl, double lo, double hi, double *out) {
    if (out == NULL) return TL_EINVAL;
    *out = 0;
    tl_snapshot_t *s = NULL;
    tl_status_t st = tl_view_take(tl, &s);
    if (st != TL_OK) return st;
    st = tl_snapshot_count_f64(s, lo, hi, out);
    tl_view_put(tl, s);
    return st;
}
