/*
 * soak.c — long-running concurrent differential test: one writer, one reader per core,
 * background maintenance on, every snapshot checked against the model version it must show.
 *
 * What it proves. While a writer thread runs a random workload (append, append_f64, sorted /
 * unsorted / duplicated / bulk batches, f64 batches, every delete form, retention trims, flush,
 * compact, validate, rare maintenance stop/start) against a log whose background worker flushes
 * and compacts concurrently, every snapshot taken by any reader thread at any moment shows
 * EXACTLY the state after some write call that was in progress or finished when it was taken:
 * full scan in order (ties in insertion order), count, stats.records, min, max, next, prev and
 * random iterator ranges (open/range/since/until/equal, next_batch and _f64, random caps). Some
 * snapshots are held for a while (with a half-consumed iterator) and re-checked as the log
 * moves on, and after tl_close. After close, every accepted record was reported to on_drop
 * exactly once, and maintenance dropped only records that had been deleted.
 *
 * How. Write calls that change content get version numbers 1, 2, ... The writer appends the
 * op (with its batch payload) to an append-only op log, publishes `started = k`, makes the
 * engine call, then publishes `done = k`. A reader loads a = done, acquires a snapshot, loads
 * b = started: the snapshot must equal the model at some version j in [a, b] (the engine
 * publishes under its lock, so this is exactly linearizability of write calls against
 * snapshot acquisition). Each reader keeps a private model replica that it moves forward by
 * replaying the log (versions only ever move forward), so the writer never waits for readers
 * except when the slowest one lags by more than LAG_MAX ops. The log is chunked; a chunk is
 * freed once every reader has replayed past it. The run is split into epochs, each a fresh log
 * with a random config (tiny pages and memtables so seals, flushes and compactions never stop)
 * and timestamp domain; an epoch passes when no mismatch, crash or drop error occurred.
 *
 * Usage: soak [--seconds N | --minutes N] [--seed S] [--readers R] [--epoch-seconds E]
 *             [--epoch-seed S] (one epoch with that writer seed) [--verbose]
 * Env: TL_SEED (base seed), TL_SOAK_INJECT=N (self-test: log every Nth append with a wrong
 * timestamp, so the checkers must fail).
 * Prints per-epoch figures, totals and "# soak: N passed, M failed"; exits 1 on any failure
 * (the failing epoch's seed is printed with the mismatch: the writer's op sequence is a pure
 * function of it; the interleaving is not).
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "timelog.h"

/* ------------------------------------------------------------------------------------------
 * Utilities (the model, rng and vectors are in model.h, shared with model_test.c)
 * ---------------------------------------------------------------------------------------- */



static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "soak: out of memory\n"); exit(2); }
    return p;
}


/* ------------------------------------------------------------------------------------------
 * The op log: versioned content-changing write calls
 * ---------------------------------------------------------------------------------------- */

enum { OPK_APPEND, OPK_BATCH, OPK_DELETE };
typedef struct {
    uint8_t kind;
    uint32_t n; /* batch length */
    int64_t a, b; /* append: ts; delete: closed [a, b] (a > b: nothing) */
    uint64_t h;
    mdl_rec_t *recs; /* batch payload, freed with the chunk */
} op_t;

#define CHUNK_OPS 4096u
#define DIR_MAX (1u << 16) /* chunks per epoch: 268M versioned ops */
#define LAG_MAX (64u * CHUNK_OPS) /* the writer waits when the slowest reader lags this much */
#define READERS_MAX 64
#define ID_MAX (1u << 24) /* handle ids per epoch (drop accounting: one byte each) */

typedef struct { op_t ops[CHUNK_OPS]; } chunk_t;

typedef struct {
    chunk_t **dir; /* dir[c] holds versions c*CHUNK_OPS+1 .. (c+1)*CHUNK_OPS */
    size_t freed; /* chunks [0, freed) are freed */
    _Atomic uint64_t started, done;
} oplog_t;

static const op_t *oplog_get(const oplog_t *l, uint64_t v) {
    return &l->dir[(v - 1) / CHUNK_OPS]->ops[(v - 1) % CHUNK_OPS];
}

static void chunk_free(chunk_t *c) {
    if (!c) return;
    for (size_t i = 0; i < CHUNK_OPS; i++) free(c->ops[i].recs);
    free(c);
}

/* Applies one versioned op to a model. del_cb (writer only) sees every deleted record. */
static void apply_op(mdl_vec_t *m, const op_t *op,
                     void (*del_cb)(void *, const mdl_rec_t *, size_t), void *ctx) {
    if (op->kind == OPK_APPEND) { mdl_insert(m, op->a, op->h); return; }
    if (op->kind == OPK_BATCH) { mdl_insert_batch(m, op->recs, op->n); return; }
    mdl_delete(m, op->a, op->b, del_cb, ctx);
}

/* ------------------------------------------------------------------------------------------
 * Shared run state
 * ---------------------------------------------------------------------------------------- */

enum { DOM_SMALL, DOM_WIDE, DOM_SERIES, DOM_COUNT };
static const char *const dom_names[] = {"small", "wide", "series"};

/* Per-id state bits for drop accounting. */
enum { ID_INSERTED = 1, ID_DELETED = 2, ID_DROP_MAINT = 4, ID_DROP_CLOSE = 8, ID_DROP_TWICE = 16 };

typedef struct reader reader_t;

typedef struct {
    uint64_t seed;
    int epoch, dom, verbose;
    tl_config_t cfg;
    tl_timelog_t *tl;
    oplog_t log;
    atomic_int stop_readers, failed, closing;
    _Atomic(unsigned char) *ids; /* ID_MAX entries */
    _Atomic uint64_t bad_drops;
    int nreaders;
    reader_t *readers[READERS_MAX];
    pthread_mutex_t print_mu;
} shared_t;

static void failf(shared_t *sh, const char *who, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&sh->print_mu);
    printf("  SOAK FAIL epoch %d seed=0x%016" PRIx64 " dom=%s (%s): %s\n", sh->epoch, sh->seed,
           dom_names[sh->dom], who, msg);
    printf("  reproduce the writer sequence: soak --epoch-seed 0x%016" PRIx64 " --seconds 30\n",
           sh->seed);
    fflush(stdout);
    pthread_mutex_unlock(&sh->print_mu);
    atomic_store(&sh->failed, 1);
}

static uint64_t handle_id(uint64_t h) { /* ids are small integers or the bits of (double)id */
    if (h < ID_MAX) return h;
    double d;
    memcpy(&d, &h, sizeof d);
    return d >= 1 && d < ID_MAX && d == (double)(uint64_t)d ? (uint64_t)d : 0;
}

static void on_drop(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    shared_t *sh = ctx;
    (void)ts;
    unsigned char bit = atomic_load(&sh->closing) ? ID_DROP_CLOSE : ID_DROP_MAINT;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = handle_id(h[i]);
        if (id == 0) { atomic_fetch_add(&sh->bad_drops, 1); continue; }
        unsigned char prev = atomic_fetch_or(&sh->ids[id], bit);
        if (prev & (ID_DROP_MAINT | ID_DROP_CLOSE)) atomic_fetch_or(&sh->ids[id], ID_DROP_TWICE);
    }
}

/* ------------------------------------------------------------------------------------------
 * Checker: one snapshot against one model (used by readers and by the writer)
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    shared_t *sh;
    const char *who;
    uint64_t rng;
    int64_t ts[MDL_BUF_N];
    uint64_t h[MDL_BUF_N];
    double tsd[MDL_BUF_N];
    mdl_vec_t scan;
    mdl_chk_t k; /* the shared checks: rng = &rng, buffers ts/h/tsd */
} chk_t;

#define CFAIL(c, ...)                                                                     \
    do {                                                                                  \
        failf((c)->sh, (c)->who, __VA_ARGS__);                                            \
        return 0;                                                                         \
    } while (0)
#define CCHECK(c, cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) CFAIL((c), __VA_ARGS__);                                             \
    } while (0)
#define TRY(x)                                                                            \
    do {                                                                                  \
        if (!(x)) return 0;                                                               \
    } while (0)

/* The shared checks (model.c) report here. */
static void chk_fail(void *ctx, int line, const char *msg) {
    chk_t *c = ctx;
    failf(c->sh, c->who, "%s (model.c:%d)", msg, line);
}

static void chk_init(chk_t *c, shared_t *sh, const char *who, uint64_t rng) {
    *c = (chk_t){.sh = sh, .who = who, .rng = rng};
    c->k = (mdl_chk_t){.rng = &c->rng, .fail = chk_fail, .ctx = c, .ts = c->ts, .h = c->h,
                       .tsd = c->tsd, .caps = {1, 3, MDL_BUF_N, 64, 1000},
                       .f64_check_inexact = true};
}

static int check_points(chk_t *c, tl_snapshot_t *s, const mdl_vec_t *m, int64_t t) {
    TRY(mdl_check_minmax(&c->k, s, m));
    return mdl_check_next_prev(&c->k, s, m, t);
}

/* A read bound: extremes, existing timestamps and their neighbours, random values. */
static int64_t gen_read_bound(chk_t *c, const mdl_vec_t *m) {
    uint64_t *r = &c->rng;
    unsigned k = (unsigned)mdl_below(r, 10);
    int64_t any = m->n ? m->v[mdl_below(r, m->n)].ts : 0;
    switch (k) {
    case 0: return INT64_MIN;
    case 1: return INT64_MAX;
    case 2: case 3: case 4: return any;
    case 5: case 6: return mdl_sat_add(any, (int64_t)mdl_below(r, 9) - 4);
    case 7: return (int64_t)mdl_rng_next(r);
    case 8: return (int64_t)mdl_below(r, 211) - 5;
    default:
        return m->n ? mdl_sat_add(m->v[mdl_one_in(r, 2) ? 0 : m->n - 1].ts,
                                  mdl_one_in(r, 2) ? 1 : -1)
                    : 0;
    }
}

static int check_random_read(chk_t *c, tl_snapshot_t *s, const mdl_vec_t *m) {
    int64_t a = gen_read_bound(c, m), b = gen_read_bound(c, m);
    if (mdl_one_in(&c->rng, 2)) b = mdl_sat_add(a, (int64_t)mdl_below(&c->rng, 60) - 4);
    unsigned k = (unsigned)mdl_below(&c->rng, 8);
    if (k < MDL_Q_KINDS) return mdl_check_iter(&c->k, s, m, (int)k, a, b);
    if (k < 7) return mdl_check_count(&c->k, s, m, a, b);
    return check_points(c, s, m, a);
}

/* Everything except the full scan (which the caller has matched already). */
static int check_snapshot_rest(chk_t *c, tl_snapshot_t *s, const mdl_vec_t *m, int reads) {
    TRY(mdl_check_count(&c->k, s, m, INT64_MIN, INT64_MAX));
    tl_stats_t st;
    CCHECK(c, tl_snapshot_stats(s, &st) == TL_OK, "tl_snapshot_stats failed");
    CCHECK(c, st.records == m->n, "snapshot_stats.records %" PRIu64 " want %zu", st.records,
           m->n);
    TRY(check_points(c, s, m, gen_read_bound(c, m)));
    for (int i = 0; i < reads; i++) TRY(check_random_read(c, s, m));
    return 1;
}

/* Full scan of s into c->scan (ascending, random caps and open forms). */
static int scan_all(chk_t *c, tl_snapshot_t *s) {
    tl_iter_t *it = NULL;
    unsigned k = (unsigned)mdl_below(&c->rng, 3);
    int st = k == 0 ? tl_iter_since(s, INT64_MIN, &it)
             : k == 1 ? tl_iter_open(s, INT64_MIN, INT64_MAX, &it)
                      : tl_iter_range(s, INT64_MIN, INT64_MAX, &it);
    CCHECK(c, st == TL_OK && it, "full scan iterator -> %d", st);
    c->scan.n = 0; /* k == 2: range excludes INT64_MAX, added by equal(INT64_MAX) below */
    size_t cap = mdl_one_in(&c->rng, 3) ? 1 + (size_t)mdl_below(&c->rng, 100) : MDL_BUF_N, n = 0;
    while ((st = tl_iter_next_batch(it, c->ts, c->h, cap, &n)) == TL_OK) {
        mdl_vec_reserve(&c->scan, c->scan.n + n);
        for (size_t i = 0; i < n; i++) c->scan.v[c->scan.n++] = (mdl_rec_t){c->ts[i], c->h[i]};
    }
    tl_iter_destroy(it);
    CCHECK(c, st == TL_EOF, "full scan next_batch -> %d", st);
    if (k != 2) return 1;
    CCHECK(c, tl_iter_equal(s, INT64_MAX, &it) == TL_OK, "iter_equal(INT64_MAX) failed");
    while ((st = tl_iter_next_batch(it, c->ts, c->h, MDL_BUF_N, &n)) == TL_OK) {
        mdl_vec_reserve(&c->scan, c->scan.n + n);
        for (size_t i = 0; i < n; i++) c->scan.v[c->scan.n++] = (mdl_rec_t){c->ts[i], c->h[i]};
    }
    tl_iter_destroy(it);
    CCHECK(c, st == TL_EOF, "iter_equal(INT64_MAX) next_batch -> %d", st);
    return 1;
}

static bool scan_equals(const mdl_vec_t *scan, const mdl_vec_t *m) {
    return scan->n == m->n && (m->n == 0 || memcmp(scan->v, m->v, m->n * sizeof(mdl_rec_t)) == 0);
}

/* Prints where scan and m first differ (for a failure message). */
static void describe_diff(char *out, size_t cap, const mdl_vec_t *scan, const mdl_vec_t *m) {
    size_t i = 0, lim = scan->n < m->n ? scan->n : m->n;
    while (i < lim && scan->v[i].ts == m->v[i].ts && scan->v[i].h == m->v[i].h) i++;
    if (i < lim)
        snprintf(out, cap, "scan has %zu, model %zu; first diff at %zu: got (%" PRId64 ", %"
                 PRIu64 ") want (%" PRId64 ", %" PRIu64 ")", scan->n, m->n, i, scan->v[i].ts,
                 scan->v[i].h, m->v[i].ts, m->v[i].h);
    else
        snprintf(out, cap, "scan has %zu, model %zu; equal up to %zu", scan->n, m->n, i);
}

/* ------------------------------------------------------------------------------------------
 * Reader threads
 * ---------------------------------------------------------------------------------------- */

#define HELD_MAX 2

typedef struct {
    tl_snapshot_t *s;
    mdl_vec_t frozen;
    tl_iter_t *it;
    size_t it_pos, it_end;
    int ttl; /* passes until release */
} held_t;

struct reader {
    shared_t *sh;
    int idx;
    pthread_t thread;
    chk_t c;
    char who[32];
    mdl_vec_t model; /* replica at version `cur` */
    uint64_t cur;
    _Atomic uint64_t applied; /* == cur, for the writer's chunk reclamation */
    held_t held[HELD_MAX];
    uint64_t snapshots, held_checks, window_sum, window_max;
};

static void replay_to(reader_t *rd, uint64_t v) {
    while (rd->cur < v) {
        apply_op(&rd->model, oplog_get(&rd->sh->log, rd->cur + 1), NULL, NULL);
        rd->cur++;
        if ((rd->cur & 255) == 0) atomic_store_explicit(&rd->applied, rd->cur,
                                                        memory_order_release);
    }
    atomic_store_explicit(&rd->applied, rd->cur, memory_order_release);
}

/* Moves the replica to the version in [max(cur, a), b] that the scan shows. */
static int match_version(reader_t *rd, uint64_t a, uint64_t b) {
    chk_t *c = &rd->c;
    uint64_t from = rd->cur > a ? rd->cur : a;
    replay_to(rd, from);
    char d1[400] = "";
    while (!scan_equals(&c->scan, &rd->model)) {
        if (!d1[0]) describe_diff(d1, sizeof d1, &c->scan, &rd->model);
        if (rd->cur >= b) {
            char d2[400];
            describe_diff(d2, sizeof d2, &c->scan, &rd->model);
            CFAIL(c, "snapshot matches no version in [%" PRIu64 ", %" PRIu64 "]: vs v%" PRIu64
                  ": %s; vs v%" PRIu64 ": %s", from, b, from, d1, b, d2);
        }
        replay_to(rd, rd->cur + 1);
    }
    c->k.records_checked += c->scan.n;
    uint64_t w = b - from;
    rd->window_sum += w;
    if (w > rd->window_max) rd->window_max = w;
    return 1;
}

static void held_drop(held_t *hd) {
    tl_iter_destroy(hd->it);
    tl_snapshot_release(hd->s);
    hd->it = NULL;
    hd->s = NULL;
}

/* Re-checks a held snapshot; advances its half-consumed iterator by one batch. */
static int held_check(reader_t *rd, held_t *hd, int reads) {
    chk_t *c = &rd->c;
    if (hd->it) {
        bool eof = false;
        TRY(mdl_batch_step(&c->k, hd->it, &hd->frozen, &hd->it_pos, hd->it_end,
                           mdl_one_in(&c->rng, 4), &eof, "live iterator on held snapshot"));
        if (eof) { tl_iter_destroy(hd->it); hd->it = NULL; }
    }
    TRY(scan_all(c, hd->s));
    if (!scan_equals(&c->scan, &hd->frozen)) {
        char d[400];
        describe_diff(d, sizeof d, &c->scan, &hd->frozen);
        CFAIL(c, "held snapshot changed: %s", d);
    }
    c->k.records_checked += c->scan.n;
    rd->held_checks++;
    return check_snapshot_rest(c, hd->s, &hd->frozen, reads);
}

/* Keeps s (which shows rd->model) in a held slot, maybe with an iterator. */
static int hold(reader_t *rd, tl_snapshot_t *s) {
    held_t *hd = &rd->held[mdl_below(&rd->c.rng, HELD_MAX)];
    held_drop(hd);
    hd->s = s;
    mdl_vec_copy(&hd->frozen, &rd->model);
    hd->ttl = 5 + (int)mdl_below(&rd->c.rng, 60);
    if (mdl_one_in(&rd->c.rng, 2)) {
        int q = (int)mdl_below(&rd->c.rng, MDL_Q_KINDS);
        int64_t a = mdl_one_in(&rd->c.rng, 2) ? INT64_MIN : gen_read_bound(&rd->c, &hd->frozen);
        int64_t b = q == MDL_Q_OPEN || q == MDL_Q_RANGE ? INT64_MAX : 0;
        int st = mdl_iter_make(s, &hd->frozen, q, a, b, &hd->it, &hd->it_pos, &hd->it_end);
        CCHECK(&rd->c, st == TL_OK && hd->it, "iterator on held snapshot -> %d", st);
    }
    return 1;
}

static int reader_pass(reader_t *rd) {
    shared_t *sh = rd->sh;
    chk_t *c = &rd->c;
    uint64_t a = atomic_load_explicit(&sh->log.done, memory_order_acquire);
    tl_snapshot_t *s = NULL;
    int st = tl_snapshot_acquire(sh->tl, &s);
    uint64_t b = atomic_load_explicit(&sh->log.started, memory_order_acquire);
    CCHECK(c, st == TL_OK && s, "tl_snapshot_acquire -> %d", st);
    int ok = scan_all(c, s) && match_version(rd, a, b) &&
             check_snapshot_rest(c, s, &rd->model, 2 + (int)mdl_below(&c->rng, 6));
    rd->snapshots++;
    if (ok && mdl_one_in(&c->rng, 8)) ok = hold(rd, s);
    else tl_snapshot_release(s);
    if (ok) { /* one-call reads race the writer and maintenance for the log's read view */
        double n = -1, ts[4];
        uint64_t h[4];
        size_t got = 9;
        st = tl_count_f64(sh->tl, -INFINITY, INFINITY, &n);
        CCHECK(c, st == TL_OK && n >= 0, "count_f64 on the log -> %d", st);
        double t = (double)mdl_f64_exact(gen_read_bound(c, &rd->model));
        st = tl_read_f64(sh->tl, t, t, ts, h, 4, &got);
        CCHECK(c, st == TL_OK && got <= 4, "read_f64 on the log -> %d n=%zu", st, got);
    }
    for (int i = 0; ok && i < HELD_MAX; i++) {
        held_t *hd = &rd->held[i];
        if (!hd->s || !mdl_one_in(&c->rng, 4)) continue;
        ok = held_check(rd, hd, 1);
        if (--hd->ttl <= 0) held_drop(hd);
    }
    return ok;
}

static void *reader_main(void *arg) {
    reader_t *rd = arg;
    while (!atomic_load(&rd->sh->stop_readers) && !atomic_load(&rd->sh->failed)) {
        if (!reader_pass(rd)) break;
    }
    atomic_store(&rd->applied, UINT64_MAX); /* no longer replays: never hold the writer */
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Writer: workload generation
 * ---------------------------------------------------------------------------------------- */

#define ANCHORS_N 24
#define WBUF_N 8192

typedef struct {
    shared_t *sh;
    uint64_t rng;
    mdl_vec_t model;
    uint64_t next_id, version, ops, busy, validates, self_checks, trims;
    size_t model_max;
    int64_t cursor;
    int64_t anchors[ANCHORS_N];
    int worker_on;
    uint64_t inject; /* TL_SOAK_INJECT=N: log every Nth append wrongly (checker self-test) */
    double waited_s;
    int64_t ts[WBUF_N];
    uint64_t h[WBUF_N];
    double tsd[WBUF_N];
    chk_t c; /* the writer's own occasional exact check */
} writer_t;

static int64_t gen_ts(writer_t *w) {
    uint64_t *r = &w->rng;
    switch (w->sh->dom) {
    case DOM_SMALL: return (int64_t)mdl_below(r, 201);
    case DOM_WIDE:
        if (mdl_one_in(r, 16)) return (int64_t)mdl_rng_next(r);
        return mdl_sat_add(w->anchors[mdl_below(r, ANCHORS_N)], (int64_t)mdl_below(r, 7) - 3);
    default:
        if (mdl_one_in(r, 8)) return w->cursor - 1 - (int64_t)mdl_below(r, 300);
        return w->cursor++;
    }
}

static int64_t gen_bound(writer_t *w) {
    uint64_t *r = &w->rng;
    unsigned k = (unsigned)mdl_below(r, 16);
    if (k == 0) return INT64_MIN;
    if (k == 1) return INT64_MAX;
    if (k < 5 && w->model.n) return w->model.v[mdl_below(r, w->model.n)].ts;
    if (w->sh->dom == DOM_SMALL) return (int64_t)mdl_below(r, 211) - 5;
    if (w->sh->dom == DOM_SERIES) return w->cursor - (int64_t)mdl_below(r, 700) + 5;
    return mdl_sat_add(w->anchors[mdl_below(r, ANCHORS_N)], (int64_t)mdl_below(r, 9) - 4);
}

static int64_t gen_ts_f64(writer_t *w) {
    return mdl_f64_exact(gen_ts(w));
}

static void mark_deleted(void *ctx, const mdl_rec_t *v, size_t n) {
    shared_t *sh = ctx;
    for (size_t i = 0; i < n; i++) atomic_fetch_or(&sh->ids[handle_id(v[i].h)], ID_DELETED);
}

static uint64_t min_applied(shared_t *sh) {
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < sh->nreaders; i++) {
        uint64_t a = atomic_load_explicit(&sh->readers[i]->applied, memory_order_acquire);
        if (a < m) m = a;
    }
    return m;
}

/* Frees chunks every reader has replayed; waits while the slowest lags over LAG_MAX. */
static void reclaim(writer_t *w, uint64_t next_version) {
    shared_t *sh = w->sh;
    uint64_t m = min_applied(sh);
    if (m != UINT64_MAX && next_version > m + LAG_MAX) {
        double t0 = now_s();
        while (!atomic_load(&sh->failed) && next_version > (m = min_applied(sh)) + LAG_MAX &&
               m != UINT64_MAX)
            usleep(200);
        w->waited_s += now_s() - t0;
    }
    uint64_t upto = m == UINT64_MAX ? w->version : m; /* every version <= upto is replayed */
    while (sh->log.freed < upto / CHUNK_OPS) {
        chunk_free(sh->log.dir[sh->log.freed]);
        sh->log.dir[sh->log.freed++] = NULL;
    }
}

/* Reserves the log slot of the next version (allocating its chunk). NULL: epoch is full. */
static op_t *op_begin(writer_t *w) {
    uint64_t v = w->version + 1;
    size_t ci = (size_t)((v - 1) / CHUNK_OPS);
    if (ci >= DIR_MAX) return NULL;
    if ((v - 1) % CHUNK_OPS == 0) {
        reclaim(w, v);
        w->sh->log.dir[ci] = calloc(1, sizeof(chunk_t));
        if (!w->sh->log.dir[ci]) { fprintf(stderr, "soak: out of memory\n"); exit(2); }
    }
    return &w->sh->log.dir[ci]->ops[(v - 1) % CHUNK_OPS];
}

/* Publishes the op as started; the caller makes the engine call, then op_end. */
static void op_publish(writer_t *w) {
    atomic_store_explicit(&w->sh->log.started, w->version + 1, memory_order_release);
}

static int op_end(writer_t *w, const op_t *op, int st, const char *what) {
    if (st == TL_EBUSY) w->busy++;
    if (st != TL_OK && st != TL_EBUSY) {
        failf(w->sh, "writer", "%s -> %d (%s)", what, st, tl_strerror(st));
        return 0;
    }
    apply_op(&w->model, op, mark_deleted, w->sh);
    w->version++;
    atomic_store_explicit(&w->sh->log.done, w->version, memory_order_release);
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * Writer: operations
 * ---------------------------------------------------------------------------------------- */

static uint64_t new_id(writer_t *w) {
    uint64_t id = w->next_id++;
    atomic_fetch_or(&w->sh->ids[id], ID_INSERTED);
    return id;
}

static int w_append(writer_t *w) {
    op_t *op = op_begin(w);
    if (!op) return -1;
    bool f64 = mdl_one_in(&w->rng, 5);
    int64_t ts = f64 ? gen_ts_f64(w) : gen_ts(w);
    uint64_t id = new_id(w);
    *op = (op_t){.kind = OPK_APPEND, .a = ts, .h = f64 ? mdl_f64_bits((double)id) : id};
    if (w->inject && id % w->inject == 0) op->a = mdl_sat_add(ts, 1); /* self-test: a lie */
    op_publish(w);
    int st = f64 ? tl_append_f64(w->sh->tl, (double)ts, (double)id)
                 : tl_append(w->sh->tl, ts, id);
    return op_end(w, op, st, f64 ? "tl_append_f64" : "tl_append");
}

enum { B_SORTED, B_UNSORTED, B_DUPS, B_EMPTY, B_BULK, B_KINDS };

/* Fills w->ts with a batch of the given kind; returns n. */
static size_t gen_batch(writer_t *w, int kind) {
    uint64_t *r = &w->rng;
    size_t n = 1 + (size_t)mdl_below(r, mdl_one_in(r, 8) ? 700 : 48);
    if (kind == B_EMPTY) return 0;
    if (kind == B_BULK) n = 1 + (size_t)mdl_below(r, 3 * (uint64_t)w->sh->cfg.memtable_records);
    if (n > WBUF_N) n = WBUF_N;
    int64_t d0 = gen_ts(w), d1 = gen_ts(w);
    int64_t t = w->model.n ? w->model.v[w->model.n - 1].ts : d0;
    if (w->sh->dom == DOM_SERIES && kind == B_BULK) t = w->cursor;
    for (size_t i = 0; i < n; i++) {
        if (kind == B_DUPS) w->ts[i] = mdl_one_in(r, 3) ? d1 : d0;
        else if (kind == B_BULK) w->ts[i] = t = mdl_sat_add(t, (int64_t)mdl_below(r, 3));
        else w->ts[i] = gen_ts(w);
    }
    if (w->sh->dom == DOM_SERIES && kind == B_BULK) w->cursor = mdl_sat_add(t, 1);
    if (kind == B_SORTED) { /* insertion sort: stable */
        for (size_t i = 1; i < n; i++) {
            int64_t x = w->ts[i];
            size_t j = i;
            while (j > 0 && w->ts[j - 1] > x) { w->ts[j] = w->ts[j - 1]; j--; }
            w->ts[j] = x;
        }
    }
    return n;
}

/* A batch (int64 or f64 timestamps); sometimes invalid (flags, bad double): EINVAL. */
static int w_batch(writer_t *w) {
    bool f64 = mdl_one_in(&w->rng, 4);
    size_t n = gen_batch(w, (int)mdl_below(&w->rng, B_KINDS));
    if (f64)
        for (size_t i = 0; i < n; i++) w->tsd[i] = (double)(w->ts[i] = gen_ts_f64(w));
    if (mdl_one_in(&w->rng, 20)) { /* invalid: nothing may change (readers would notice) */
        int st;
        if (f64 && n) {
            w->tsd[mdl_below(&w->rng, n)] = mdl_bad_f64(&w->rng);
            st = tl_append_batch_f64(w->sh->tl, w->tsd, w->h, n, 0);
        } else {
            st = tl_append_batch(w->sh->tl, w->ts, w->h, n, 1u + (uint32_t)mdl_below(&w->rng, 8));
        }
        if (st == TL_EINVAL) return 1;
        failf(w->sh, "writer", "invalid batch (f64 %d, n %zu) -> %d, want EINVAL", f64, n, st);
        return 0;
    }
    op_t *op = op_begin(w);
    if (!op) return -1;
    mdl_rec_t *recs = xmalloc(n * sizeof *recs);
    for (size_t i = 0; i < n; i++) {
        uint64_t id = new_id(w);
        w->h[i] = id;
        recs[i] = (mdl_rec_t){w->ts[i], id};
    }
    *op = (op_t){.kind = OPK_BATCH, .n = (uint32_t)n, .recs = recs};
    op_publish(w);
    int st = f64 ? tl_append_batch_f64(w->sh->tl, w->tsd, w->h, n, 0)
                 : tl_append_batch(w->sh->tl, w->ts, w->h, n, 0);
    return op_end(w, op, st, f64 ? "tl_append_batch_f64" : "tl_append_batch");
}

/* Deletes through form k (0 range, 1 before, 2 since, 3 at) of [lo, hi] (closed). */
static int w_delete_form(writer_t *w, int k, int64_t t1, int64_t t2) {
    op_t *op = op_begin(w);
    if (!op) return -1;
    int64_t lo = 1, hi = 0; /* the closed interval removed; empty = a no-op, still a version */
    if (k == 0 && t1 < t2) { lo = t1; hi = t2 - 1; } /* [t1, t2) */
    if (k == 1 && t1 != INT64_MIN) { lo = INT64_MIN; hi = t1 - 1; }
    if (k == 2) { lo = t1; hi = INT64_MAX; }
    if (k == 3) lo = hi = t1;
    *op = (op_t){.kind = OPK_DELETE, .a = lo, .b = hi};
    op_publish(w);
    tl_timelog_t *tl = w->sh->tl;
    int st = k == 0 ? tl_delete_range(tl, t1, t2)
             : k == 1 ? tl_delete_before(tl, t1)
             : k == 2 ? tl_delete_since(tl, t1) : tl_delete_at(tl, t1);
    static const char *const names[] = {"delete_range", "delete_before", "delete_since",
                                        "delete_at"};
    return op_end(w, op, st, names[k]);
}

static int w_delete(writer_t *w) {
    int k = (int)mdl_below(&w->rng, 4);
    int64_t t1 = gen_bound(w), t2 = gen_bound(w);
    if (k == 0 && mdl_one_in(&w->rng, 2)) t2 = mdl_sat_add(t1, (int64_t)mdl_below(&w->rng, 12));
    if (k == 1 && w->sh->dom == DOM_SERIES) t1 = w->cursor - 200 - (int64_t)mdl_below(&w->rng, 400);
    if (k == 0 && t1 > t2) {
        int st = tl_delete_range(w->sh->tl, t1, t2);
        if (st == TL_EINVAL) return 1;
        failf(w->sh, "writer", "delete_range(t1 > t2) -> %d, want EINVAL", st);
        return 0;
    }
    return w_delete_form(w, k, t1, t2);
}

/* Keeps the model small: retention from the old end, then from the new end if needed. */
static int w_trim(writer_t *w) {
    int64_t cut = w->model.v[w->model.n / 2].ts;
    w->trims++;
    int ok = w_delete_form(w, 1, cut, 0);
    if (ok == 1 && w->model.n > w->model_max) ok = w_delete_form(w, 2, cut, 0);
    return ok;
}

/* Acquires a snapshot now and compares it exactly with the writer's model. */
static int w_self_check(writer_t *w) {
    tl_snapshot_t *s = NULL;
    chk_t *c = &w->c;
    CCHECK(c, tl_snapshot_acquire(w->sh->tl, &s) == TL_OK, "writer snapshot_acquire");
    int ok = scan_all(c, s);
    if (ok && !scan_equals(&c->scan, &w->model)) {
        char d[400];
        describe_diff(d, sizeof d, &c->scan, &w->model);
        failf(w->sh, "writer", "exact check at v%" PRIu64 ": %s", w->version, d);
        ok = 0;
    }
    if (ok) ok = check_snapshot_rest(c, s, &w->model, 4);
    tl_snapshot_release(s);
    /* The one-call reads on the log (its read view, shared with the readers' calls below). */
    for (int i = 0; ok && i < 2; i++) {
        int64_t a = gen_read_bound(c, &w->model);
        int64_t b = mdl_one_in(&c->rng, 2) ? a : gen_read_bound(c, &w->model);
        ok = mdl_check_log_reads(&c->k, w->sh->tl, &w->model, a, b);
    }
    w->self_checks++;
    return ok;
}

/* maint_step with the worker on is ESTATE; with it stopped the header leaves it open. */
static int maint_step_ok(writer_t *w, int st) {
    if (w->worker_on) return st == TL_ESTATE;
    return st == TL_ESTATE || st == TL_OK || st == TL_EOF;
}

static int w_maint(writer_t *w) {
    tl_timelog_t *tl = w->sh->tl;
    unsigned k = (unsigned)mdl_below(&w->rng, 100);
    int st, ok;
    const char *what;
    if (k < 50) { what = "tl_flush"; ok = (st = tl_flush(tl)) == TL_OK; }
    else if (k < 75) { what = "tl_compact"; ok = (st = tl_compact(tl)) == TL_OK; }
    else if (k < 95) { w->validates++; what = "tl_validate"; ok = (st = tl_validate(tl)) == 0; }
    else if (k < 98) { what = "tl_maint_step"; ok = maint_step_ok(w, st = tl_maint_step(tl)); }
    else {
        what = w->worker_on ? "tl_maint_stop" : "tl_maint_start";
        st = w->worker_on ? tl_maint_stop(tl) : tl_maint_start(tl);
        ok = st == TL_OK;
        w->worker_on = !w->worker_on;
    }
    if (!ok) {
        char err[256];
        tl_last_error(tl, err, sizeof err);
        failf(w->sh, "writer", "%s -> %d (%s) %s", what, st, tl_strerror(st), err);
    }
    return ok;
}

/* One writer step: returns 1 ok, 0 failure, -1 epoch full. */
static int writer_step(writer_t *w) {
    w->ops++;
    if (w->model.n > w->model_max) return w_trim(w);
    if (!w->worker_on && mdl_one_in(&w->rng, 100)) { /* stopped only briefly */
        w->worker_on = 1;
    const char *inj = getenv("TL_SOAK_INJECT");
    w->inject = inj ? strtoull(inj, NULL, 0) : 0;
        if (tl_maint_start(w->sh->tl) == TL_OK) return 1;
        failf(w->sh, "writer", "tl_maint_start failed");
        return 0;
    }
    unsigned k = (unsigned)mdl_below(&w->rng, 1000);
    if (k < 620) return w_append(w);
    if (k < 820) return w_batch(w);
    if (k < 980) return w_delete(w);
    if (k < 998) return w_maint(w);
    return w_self_check(w);
}

/* ------------------------------------------------------------------------------------------
 * Epochs
 * ---------------------------------------------------------------------------------------- */

static void make_config(shared_t *sh, uint64_t *r) {
    static const uint32_t mem[] = {64, 128, 256, 512, 1024, 4096};
    static const int64_t win[] = {1, 7, 16, 64, 1000, 0};
    static const int64_t origin[] = {0, 0, 3, -5, INT64_MAX, INT64_MIN};
    tl_config_t *c = &sh->cfg;
    tl_config_init_defaults(c);
    c->maintenance = TL_MAINT_BACKGROUND;
    c->page_records = 64 + (mdl_one_in(r, 3) ? (uint32_t)mdl_below(r, 200) : 0);
    c->memtable_records = mem[mdl_below(r, 6)];
    c->ooo_head_records = mdl_one_in(r, 2) ? 64 : 8 + (uint32_t)mdl_below(r, 120);
    c->ooo_runs_max = 1 + (uint32_t)mdl_below(r, 4);
    c->sealed_max = 1 + (uint32_t)mdl_below(r, 4);
    c->l0_max = 1 + (uint32_t)mdl_below(r, 4);
    c->busy_wait_ms = (uint32_t)mdl_below(r, 4);
    c->maint_interval_ms = 1 + (uint32_t)mdl_below(r, 10);
    c->window_size = win[mdl_below(r, 6)];
    c->window_origin = origin[mdl_below(r, 6)];
    if (sh->dom == DOM_SMALL && c->window_size == 0) c->window_size = 10;
    c->on_drop = on_drop;
    c->on_drop_ctx = sh;
}

/* After close: each accepted id dropped exactly once; maintenance dropped only deleted ids. */
static int check_drops(shared_t *sh, uint64_t next_id, uint64_t *dropped) {
    uint64_t bad = atomic_load(&sh->bad_drops), shown = 0;
    if (bad) failf(sh, "drops", "%" PRIu64 " dropped handles were never inserted", bad);
    *dropped = 0;
    for (uint64_t id = 1; id < next_id; id++) {
        unsigned s = atomic_load_explicit(&sh->ids[id], memory_order_relaxed);
        unsigned drops = s & (ID_DROP_MAINT | ID_DROP_CLOSE);
        const char *why = NULL;
        if (!(s & ID_INSERTED)) { if (s) why = "dropped but never inserted"; continue; }
        if (s & ID_DROP_TWICE) why = "dropped more than once";
        else if (!drops) why = "never dropped";
        else if (drops == (ID_DROP_MAINT | ID_DROP_CLOSE)) why = "dropped by both";
        else if ((s & ID_DROP_MAINT) && !(s & ID_DELETED)) why = "maintenance dropped live";
        *dropped += drops != 0;
        if (why && shown++ < 5) failf(sh, "drops", "id %" PRIu64 ": %s (state 0x%x)", id, why, s);
    }
    return !bad && !shown;
}

typedef struct {
    double seconds;
    uint64_t ops, versions, written, snapshots, held_checks, records, self_checks, dropped;
    uint64_t window_max;
    double waited_s, window_mean;
} epoch_stats_t;

static void writer_init(writer_t *w, shared_t *sh, uint64_t *r) {
    w->sh = sh;
    w->rng = mdl_rng_next(r);
    w->next_id = 1;
    w->worker_on = 1;
    const char *inj = getenv("TL_SOAK_INJECT");
    w->inject = inj ? strtoull(inj, NULL, 0) : 0;
    w->cursor = (int64_t)mdl_below(r, 1000000) - 500000;
    static const size_t sizes[] = {300, 1200, 1200, 3000, 8000};
    w->model_max = sizes[mdl_below(r, 5)];
    mdl_fill_anchors(w->anchors, ANCHORS_N, &w->rng);
    chk_init(&w->c, sh, "writer", mdl_rng_next(r));
}

static void readers_start(shared_t *sh, int n, uint64_t *r) {
    sh->nreaders = n;
    for (int i = 0; i < n; i++) {
        reader_t *rd = calloc(1, sizeof *rd);
        if (!rd) { fprintf(stderr, "soak: out of memory\n"); exit(2); }
        rd->sh = sh;
        rd->idx = i;
        snprintf(rd->who, sizeof rd->who, "reader %d", i);
        chk_init(&rd->c, sh, rd->who, mdl_rng_next(r));
        sh->readers[i] = rd;
        if (pthread_create(&rd->thread, NULL, reader_main, rd) != 0) {
            fprintf(stderr, "soak: pthread_create failed\n");
            exit(2);
        }
    }
}

/* Stops the readers, finishes the log (compact, validate, exact check), closes it with the
 * readers' held snapshots alive, re-checks those, and accounts drops. */
static int epoch_finish(shared_t *sh, writer_t *w, epoch_stats_t *es) {
    atomic_store(&sh->stop_readers, 1);
    for (int i = 0; i < sh->nreaders; i++) pthread_join(sh->readers[i]->thread, NULL);
    int ok = !atomic_load(&sh->failed);
    if (ok && tl_compact(sh->tl) != TL_OK) { failf(sh, "writer", "final compact"); ok = 0; }
    if (ok && tl_validate(sh->tl) != TL_OK) { failf(sh, "writer", "final validate"); ok = 0; }
    if (ok) ok = w_self_check(w);
    if (tl_maint_stop(sh->tl) != TL_OK) { failf(sh, "writer", "maint_stop"); ok = 0; }
    atomic_store(&sh->closing, 1);
    tl_close(sh->tl);
    sh->tl = NULL;
    for (int i = 0; i < sh->nreaders; i++) {
        reader_t *rd = sh->readers[i];
        for (int k = 0; k < HELD_MAX; k++) {
            if (ok && rd->held[k].s) ok = held_check(rd, &rd->held[k], 3);
            held_drop(&rd->held[k]);
            mdl_vec_free(&rd->held[k].frozen);
        }
        es->snapshots += rd->snapshots;
        es->held_checks += rd->held_checks;
        es->records += rd->c.k.records_checked;
        es->window_mean += (double)rd->window_sum;
        if (rd->window_max > es->window_max) es->window_max = rd->window_max;
    }
    es->window_mean /= es->snapshots ? (double)es->snapshots : 1.0;
    es->records += w->c.k.records_checked;
    if (ok) ok = check_drops(sh, w->next_id, &es->dropped);
    return ok;
}

static void epoch_free(shared_t *sh, writer_t *w) {
    for (int i = 0; i < sh->nreaders; i++) {
        reader_t *rd = sh->readers[i];
        mdl_vec_free(&rd->model);
        mdl_vec_free(&rd->c.scan);
        free(rd);
    }
    for (size_t c = sh->log.freed; c < DIR_MAX; c++) chunk_free(sh->log.dir[c]);
    free(sh->log.dir);
    free((void *)sh->ids);
    mdl_vec_free(&w->model);
    mdl_vec_free(&w->c.scan);
    pthread_mutex_destroy(&sh->print_mu);
    free(w);
    free(sh);
}

/* One epoch: a fresh log, writer + readers for `seconds`. Returns 1 when it passed. */
static int run_epoch(int idx, uint64_t seed, double seconds, int nreaders, int verbose,
                     epoch_stats_t *es) {
    shared_t *sh = calloc(1, sizeof *sh);
    writer_t *w = calloc(1, sizeof *w);
    if (!sh || !w) { fprintf(stderr, "soak: out of memory\n"); exit(2); }
    uint64_t r = seed;
    sh->seed = seed;
    sh->epoch = idx;
    sh->dom = (int)((seed & 3) % DOM_COUNT);
    sh->verbose = verbose;
    pthread_mutex_init(&sh->print_mu, NULL);
    sh->ids = calloc(ID_MAX, 1);
    sh->log.dir = calloc(DIR_MAX, sizeof *sh->log.dir);
    if (!sh->ids || !sh->log.dir) { fprintf(stderr, "soak: out of memory\n"); exit(2); }
    make_config(sh, &r);
    writer_init(w, sh, &r);
    int st = tl_open(&sh->cfg, &sh->tl);
    if (st != TL_OK) {
        failf(sh, "writer", "tl_open -> %d", st);
        epoch_free(sh, w);
        return 0;
    }
    readers_start(sh, nreaders, &r);
    double t0 = now_s();
    int step = 1;
    while (step == 1 && w->next_id + WBUF_N + 16 < ID_MAX) {
        step = writer_step(w);
        if ((w->ops & 255) == 0 && (now_s() - t0 >= seconds || atomic_load(&sh->failed)))
            break;
    }
    es->seconds = now_s() - t0;
    int ok = epoch_finish(sh, w, es) && step != 0; /* always: it joins the readers */
    es->ops = w->ops;
    es->versions = w->version;
    es->written = w->next_id - 1;
    es->self_checks = w->self_checks;
    es->waited_s = w->waited_s;
    const tl_config_t *c = &sh->cfg;
    printf("soak: epoch %d seed=0x%016" PRIx64 " %-6s page %u mem %u head %u runs %u sealed %u"
           " l0 %u win %" PRId64 " model<=%zu: %" PRIu64 " ops (%.0f/s), busy %" PRIu64
           ", %" PRIu64 " snapshots (+%" PRIu64 " held re-checks), %" PRIu64 " records"
           " checked, window mean %.2f max %" PRIu64 ", drops %" PRIu64 "%s: %s\n",
           idx, seed, dom_names[sh->dom], c->page_records, c->memtable_records,
           c->ooo_head_records, c->ooo_runs_max, c->sealed_max, c->l0_max, c->window_size,
           w->model_max, es->ops, (double)es->ops / es->seconds, w->busy, es->snapshots,
           es->held_checks, es->records, es->window_mean, es->window_max, es->dropped,
           w->waited_s > 0.01 ? " (writer waited for readers)" : "", ok ? "ok" : "FAILED");
    fflush(stdout);
    epoch_free(sh, w);
    return ok;
}

/* ------------------------------------------------------------------------------------------
 * Command line
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    double seconds, epoch_seconds;
    uint64_t seed, epoch_seed;
    int readers, verbose, have_epoch_seed;
} opts_t;

static void usage(void) {
    fprintf(stderr, "usage: soak [--seconds N | --minutes N] [--seed S] [--readers R]\n"
                    "            [--epoch-seconds E] [--epoch-seed S] [--verbose]\n");
    exit(2);
}

static opts_t parse_args(int argc, char **argv) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    opts_t o = {.seconds = 20, .readers = ncpu > 0 ? (int)ncpu : 2};
    o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    const char *env = getenv("TL_SEED");
    if (env && *env) o.seed = strtoull(env, NULL, 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) { o.verbose = 1; continue; }
        if (!v) usage();
        i++;
        if (!strcmp(a, "--seconds")) o.seconds = strtod(v, NULL);
        else if (!strcmp(a, "--minutes")) o.seconds = 60 * strtod(v, NULL);
        else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--readers")) o.readers = atoi(v);
        else if (!strcmp(a, "--epoch-seconds")) o.epoch_seconds = strtod(v, NULL);
        else if (!strcmp(a, "--epoch-seed")) { o.epoch_seed = strtoull(v, NULL, 0);
                                                o.have_epoch_seed = 1; }
        else usage();
    }
    if (o.readers < 1) o.readers = 1;
    if (o.readers > READERS_MAX) o.readers = READERS_MAX;
    if (o.seconds <= 0) usage();
    if (o.epoch_seconds <= 0) o.epoch_seconds = o.seconds < 120 ? o.seconds / 4 : 30;
    if (o.epoch_seconds < 1) o.epoch_seconds = 1;
    return o;
}

static void stats_add(epoch_stats_t *t, const epoch_stats_t *e) {
    t->ops += e->ops;
    t->versions += e->versions;
    t->written += e->written;
    t->snapshots += e->snapshots;
    t->held_checks += e->held_checks;
    t->records += e->records;
    t->self_checks += e->self_checks;
    t->waited_s += e->waited_s;
    t->seconds += e->seconds;
}

int main(int argc, char **argv) {
    opts_t o = parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("soak: %.0f s, base seed 0x%016" PRIx64 ", 1 writer + %d readers, background "
           "maintenance\n", o.seconds, o.seed, o.readers);
    double t0 = now_s(), left;
    int passed = 0, failed = 0;
    epoch_stats_t tot = {0};
    for (int i = 0; (left = o.seconds - (now_s() - t0)) > 0.5 && !failed; i++) {
        uint64_t s = o.seed + (uint64_t)i; /* low two bits pick the domain: cycle them */
        uint64_t seed = (mdl_rng_next(&s) & ~3ull) | (uint64_t)(i % 3);
        if (o.have_epoch_seed) seed = o.epoch_seed;
        double secs = left < o.epoch_seconds * 1.5 ? left : o.epoch_seconds;
        if (o.have_epoch_seed) secs = left;
        epoch_stats_t es = {0};
        if (run_epoch(i + 1, seed, secs, o.readers, o.verbose, &es)) passed++; else failed++;
        stats_add(&tot, &es);
        if (o.have_epoch_seed) break;
    }
    printf("soak: %.1f s, %d epochs: writer ops %" PRIu64 " (%.0f ops/s, %" PRIu64
           " content-changing, %" PRIu64 " records written), snapshots checked %" PRIu64
           " (+%" PRIu64 " held re-checks, +%" PRIu64 " writer exact checks), records checked %"
           PRIu64 ", writer waited %.2f s\n", now_s() - t0, passed + failed, tot.ops,
           (double)tot.ops / (tot.seconds > 0 ? tot.seconds : 1), tot.versions, tot.written,
           tot.snapshots, tot.held_checks, tot.self_checks, tot.records, tot.waited_s);
    printf("# soak: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
