/*
 * model.h — the reference model shared by the differential tests (model_test.c, soak.c).
 *
 * What it models. The visible content of a timelog: a vector of {ts, handle} records kept
 * sorted by (ts, insertion order) — an insert goes after every record with the same ts, which
 * is the engine's tie order. Deletes are applied physically (a tombstone never hides later
 * writes, so for the current state that is equivalent to sequenced tombstones). On top of it:
 * the read checks that compare one engine snapshot with one model state — iterators of every
 * kind (open/range/since/until/equal) drained with next_batch / next_batch_f64 at random caps
 * and with a NULL ts or handle column, count, min, max, next, prev — plus the small helpers
 * both tests need (splitmix64 rng, saturating add, double bits).
 *
 * Why both tests use it. model_test.c (single-threaded, every step checked) and soak.c
 * (concurrent readers checking snapshots against replayed model versions) must agree on what
 * "correct" means; one copy of the model and of the checks keeps them from drifting apart.
 * The checks draw their random choices from the caller's rng (mdl_chk_t.rng) in a fixed
 * order, so a seed still yields the same sequence in each test, and report a mismatch
 * through the caller's fail callback (each test prints it in its own format).
 */
#ifndef TL_TESTS_MODEL_H
#define TL_TESTS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timelog.h"

#define MDL_TWO53 9007199254740992ll
#define MDL_BUF_N 4096

typedef struct { int64_t ts; uint64_t h; } mdl_rec_t;
typedef struct { mdl_rec_t *v; size_t n, cap; } mdl_vec_t;

/* ---- rng and small helpers ----------------------------------------------------------- */

uint64_t mdl_rng_next(uint64_t *s); /* splitmix64 */
uint64_t mdl_below(uint64_t *s, uint64_t n); /* uniform-ish in [0, n); 0 when n == 0 */
bool mdl_one_in(uint64_t *s, unsigned n); /* true with probability 1/n */
int64_t mdl_sat_add(int64_t a, int64_t d); /* a + d saturated to the int64 range */
uint64_t mdl_f64_bits(double d);
/* ts brought into +/-2^53 (exactly representable as a double): out-of-range values / 1024. */
int64_t mdl_f64_exact(int64_t ts);
/* A timestamp append_f64 must reject: fractional, beyond +/-2^53, NaN or infinite. */
double mdl_bad_f64(uint64_t *s);
/* Timestamp anchors: the int64 extremes, +/-2^53, 0 and neighbours, then random values. */
void mdl_fill_anchors(int64_t *anchors, size_t n, uint64_t *s);

/* ---- vectors and the sorted model ---------------------------------------------------- */

void mdl_vec_reserve(mdl_vec_t *a, size_t need);
void mdl_vec_push(mdl_vec_t *a, int64_t ts, uint64_t h);
void mdl_vec_copy(mdl_vec_t *dst, const mdl_vec_t *src);
void mdl_vec_free(mdl_vec_t *a);

size_t mdl_lower_bound(const mdl_vec_t *a, int64_t ts); /* first index with v.ts >= ts */
size_t mdl_upper_bound(const mdl_vec_t *a, int64_t ts); /* first index with v.ts > ts */
/* Index range [*b, *e) of records with lo <= ts <= hi (empty when lo > hi). */
void mdl_span_closed(const mdl_vec_t *a, int64_t lo, int64_t hi, size_t *b, size_t *e);

/* Inserts after every record with the same ts (insertion order). */
void mdl_insert(mdl_vec_t *m, int64_t ts, uint64_t h);
/* Same result as n mdl_insert calls in array order, in O(m + n log n). */
void mdl_insert_batch(mdl_vec_t *m, const mdl_rec_t *recs, size_t n);
/* Removes lo <= ts <= hi; del_cb (optional) first sees the removed records. Returns how many. */
size_t mdl_delete(mdl_vec_t *m, int64_t lo, int64_t hi,
                  void (*del_cb)(void *ctx, const mdl_rec_t *recs, size_t n), void *ctx);

/* ---- read checks: one snapshot against one model ------------------------------------- */

enum { MDL_Q_OPEN, MDL_Q_RANGE, MDL_Q_SINCE, MDL_Q_UNTIL, MDL_Q_EQUAL, MDL_Q_KINDS };
extern const char *const mdl_q_names[MDL_Q_KINDS];

typedef struct {
    uint64_t *rng; /* the caller's rng: every random choice of a check is drawn from it */
    void (*fail)(void *ctx, int line, const char *msg); /* line: in model.c */
    void *ctx;
    int64_t *ts; /* MDL_BUF_N-record output buffers for next_batch */
    uint64_t *h;
    double *tsd;
    size_t caps[5]; /* next_batch caps to pick from (else a random 1..17) */
    bool f64_check_inexact; /* also compare f64 output for |ts| > 2^53 with (double)ts */
    uint64_t records_checked; /* records compared by mdl_batch_step */
} mdl_chk_t;

/* Opens an iterator of kind q with bounds a, b; sets the model span [*beg, *end) it must
 * yield. Returns the engine status. */
int mdl_iter_make(tl_snapshot_t *s, const mdl_vec_t *m, int q, int64_t a, int64_t b,
                  tl_iter_t **it, size_t *beg, size_t *end);
/* One next_batch (or _f64) call; checks its output against m[*pos .. end). Sets *eof.
 * The check functions return 1 when the engine agrees, else report through k->fail and
 * return 0. */
int mdl_batch_step(mdl_chk_t *k, tl_iter_t *it, const mdl_vec_t *m, size_t *pos, size_t end,
                   bool f64, bool *eof, const char *what);
/* Opens an iterator of kind q, drains it against the model, checks that EOF is sticky. */
int mdl_check_iter(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int q, int64_t a,
                   int64_t b);
int mdl_check_count(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t lo, int64_t hi);
/* tl_snapshot_at(t) with a random cap (sometimes no handle buffer): the total and exactly the
 * first cap handles, nothing written past them. */
int mdl_check_at(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t t);
int mdl_check_minmax(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m);
int mdl_check_next_prev(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t t);
/* The log-level one-call reads (tl_count_f64, tl_read_f64 at a random cap) over [a, b] on the
 * log's current state, which must be m. Bounds go through doubles: the int64 ends become
 * -/+inf, others mdl_f64_exact. */
int mdl_check_log_reads(mdl_chk_t *k, tl_timelog_t *tl, const mdl_vec_t *m, int64_t a,
                        int64_t b);

/* ---- the time-series queries (model_queries.c) --------------------------------------- */

/* A newest-first iterator over [a, b] (tl_iter_open_ex with TL_READ_REVERSE), read to a random
 * limit at random caps, int64 or double timestamps: the span of m read from its end. */
int mdl_check_rev(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t a, int64_t b);
/* tl_snapshot_asof(x), then a column of 16 queries around x (and the ends) through
 * tl_snapshot_asof_many and tl_snapshot_asof_many_f64. */
int mdl_check_asof(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t x);
/* tl_snapshot_aggregate over [a, b] on a random grid: every op when the handles are double
 * bits (f64_values), else counts only; each bucket against the model's slice. */
int mdl_check_agg(mdl_chk_t *k, tl_snapshot_t *s, const mdl_vec_t *m, int64_t a, int64_t b,
                  bool f64_values);

#endif
