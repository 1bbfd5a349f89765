/*
 * bench/native/bench.h — what the native benchmark's files share: options, the figure table,
 * verification digests and the engine helpers (main.c defines them; memory.c runs the memory
 * workloads with them).
 */
#ifndef TL_BENCH_H
#define TL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timelog.h"

#define RUNS_MAX 64

typedef struct {
    size_t records, batch;
    double ooo_rate;
    uint64_t seed;
    int runs, json;
} opts_t;

typedef struct {
    uint64_t n, sum_h, sum_ts;
} digest_t;

/* One figure: values over runs and a verification flag. */
typedef struct {
    const char *key, *label, *unit;
    double v[RUNS_MAX];
    int n;
    bool failed, used;
} figure_t;

enum {
    F_INGEST, F_INGEST_INORDER, F_INGEST_OOO20, F_COMPACT, F_SCAN, F_SCAN_RAW, F_SCAN_F64,
    F_RANGE, F_RANGE_RAW, F_POINT, F_POINT_RAW, F_POINT_ITER, F_SNAP, F_SNAP_BIG, F_MAX, F_PREV,
    F_DELETE, F_MEMCPY, F_STEADY, F_PEAK, F_STEADY_WALK, F_STEADY_HANDLES, F_STEADY_RAW,
    F_REV100, F_AGG_FULL, F_AGG100, F_AGG_FINE, F_ASOF, F_U_REV100, F_U_AGG_FULL, F_U_AGG100,
    F_U_AGG_FINE, F_U_ASOF, F_COUNT
};

extern figure_t figs[F_COUNT];

double now_s(void);
uint64_t xorshift64(uint64_t *s);
void *xmalloc(size_t n);
void fig_add(int f, double v, bool ok);
void fail_msg(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void digest_add(digest_t *a, digest_t b) {
    a->n += b.n;
    a->sum_h += b.sum_h;
    a->sum_ts += b.sum_ts;
}

/* A log with the default config and background maintenance; `raw` keeps every page raw,
 * `value_kind` says what handles hold (packing codecs). Exits on failure. */
tl_timelog_t *open_log_cfg(bool raw, uint32_t value_kind);
/* Busy policy "flush": TL_EBUSY means accepted; relieve the pressure inline. */
bool write_done(tl_timelog_t *tl, int st, uint64_t *busy);
/* Full scan of the log's current state against `want`; prints what differs. */
bool verify_scan(tl_timelog_t *tl, digest_t want, const char *what);

/* The generated data as the query benchmarks see it: columns, range, and prefix arrays over
 * the ts domain (pc: record counts, ph: handle sums of records with ts < ts_min + k). */
typedef struct {
    size_t n;
    const int64_t *ts;
    const uint64_t *h;
    int64_t ts_min, ts_max;
    const uint64_t *pc, *ph;
} qdata_t;

/* queries.c: reverse reads and as-of on the main snapshot; aggregates on an f64 copy. */
void bench_queries(tl_snapshot_t *main_snap, const qdata_t *d, size_t batch, uint64_t *rng);
/* queries.c: the same queries (F_U_*) on the users' shape as users read it: an f64 log fed
 * in batches of 1,000 and read at once, with no flush or compact. */
void bench_users_queries(const qdata_t *u, uint64_t *rng);

/* memory.c: the memory figures (F_STEADY ..), each a separate log fed batch by batch. */
void bench_memory(const opts_t *o, bool *peak_from_hwm);

#endif /* TL_BENCH_H */
