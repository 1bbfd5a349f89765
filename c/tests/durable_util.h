/*
 * durable_util.h — helpers shared by durable_crash_test.c and durable_corrupt_test.c
 * (header-only): scripted scenarios of write calls and maintenance calls on a durable log over
 * the simulated file system (simfs.h), the reference model's state after every prefix of the
 * write calls, and the prefix check of a reopened log.
 *
 * A scenario is a list of operations generated from a profile and a seed: write calls
 * (single appends, batches, range / before / at deletes), and sync, checkpoint, flush, compact
 * and reopen (close + open). Its first `nbase` operations are the base phase: run once without
 * faults on a fresh file system and closed, they leave a directory with segment files, a
 * manifest and a WAL tail for the measured phase (the rest) to open, recover and extend.
 * states[j] is the model after the first j write calls; seq_of[j] the engine seq call j got in
 * a clean run (to read tl_durable_seq as a count of calls).
 *
 * The prefix property (DESIGN.md §2): a reopened log equals states[j] for some j with
 * acked <= j <= attempted, acked being the write calls acknowledged durable (a SYNC-mode call
 * that returned, a tl_sync / tl_checkpoint / close that succeeded, tl_durable_seq) and
 * attempted every write call issued, failed ones included.
 */
#ifndef TL_TESTS_DURABLE_UTIL_H
#define TL_TESTS_DURABLE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "simfs.h"
#include "timelog.h"
#include "timelog_int.h"

#define DU_DIR "/db"
#define DU_MSG_CAP 512

enum {
    DU_APPEND, /* write calls */
    DU_BATCH,
    DU_DEL_RANGE,
    DU_DEL_BEFORE,
    DU_DEL_AT,
    DU_SYNC, /* the rest are not */
    DU_CKPT,
    DU_FLUSH,
    DU_COMPACT,
    DU_REOPEN
};

typedef struct {
    uint8_t kind;
    uint32_t off, n; /* DU_APPEND / DU_BATCH: records [off, off + n) of the scenario */
    int64_t a, b; /* deletes: range [a, b), before a, at a */
} du_op_t;

/* How a scenario is generated: its settings and the odds of each operation (percent). */
typedef struct {
    const char *name;
    uint64_t seed;
    uint32_t durability, value_kind;
    uint64_t wal_segment_bytes;
    uint32_t base_ops, ops; /* operations of the base and of the measured phase */
    uint32_t batch_max, big_batch; /* usual batch size bound; a big batch (1 in 8) */
    int p_batch, p_append, p_delete, p_sync, p_ckpt, p_flush, p_reopen; /* else compact */
    int late_one_in; /* one record in this many is late (up to 2000 time units) */
    int edge_one_in; /* one record in this many (0: none) at an int64 or 2^53 edge */
} du_profile_t;

typedef struct {
    du_profile_t pr;
    tl_config_t cfg;
    du_op_t *ops;
    uint32_t nops, nbase, opcap;
    int64_t *ts;
    uint64_t *h;
    size_t nrec, reccap;
    int64_t now; /* the generator: time so far and rng */
    uint64_t rng;
    uint32_t nwrites; /* write calls in total (base + measured) */
    mdl_vec_t *states; /* [nwrites + 1] */
    uint64_t *seq_of; /* [nwrites + 1] */
    uint64_t calls; /* I/O calls of the measured phase in a clean run */
    tl_simfs_t *base; /* the file system after the base phase (du_scen_count) */
} du_scen_t;

static inline bool du_is_write(int kind) { return kind <= DU_DEL_AT; }

/* ---- generation ------------------------------------------------------------------------ */

static inline void *du_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) abort();
    return q;
}

static inline du_op_t *du_push_op(du_scen_t *s) {
    if (s->nops == s->opcap) {
        s->opcap = s->opcap ? s->opcap * 2 : 64;
        s->ops = du_xrealloc(s->ops, s->opcap * sizeof *s->ops);
    }
    du_op_t *op = &s->ops[s->nops++];
    memset(op, 0, sizeof *op);
    return op;
}

/* n new records: time moves on by 0..11 units per record, some records are late. */
static inline void du_push_recs(du_scen_t *s, uint32_t n) {
    if (s->nrec + n > s->reccap) {
        while (s->reccap < s->nrec + n) s->reccap = s->reccap ? s->reccap * 2 : 1024;
        s->ts = du_xrealloc(s->ts, s->reccap * sizeof *s->ts);
        s->h = du_xrealloc(s->h, s->reccap * sizeof *s->h);
    }
    static const int64_t edges[6] = {INT64_MIN, INT64_MIN + 1, -MDL_TWO53, MDL_TWO53,
                                     INT64_MAX - 1, INT64_MAX};
    for (uint32_t i = 0; i < n; i++) {
        size_t k = s->nrec + i;
        s->now += (int64_t)mdl_below(&s->rng, 12);
        bool late = s->pr.late_one_in > 0 && mdl_one_in(&s->rng, (unsigned)s->pr.late_one_in);
        s->ts[k] = late ? s->now - 1 - (int64_t)mdl_below(&s->rng, 2000) : s->now;
        if (s->pr.edge_one_in > 0 && mdl_one_in(&s->rng, (unsigned)s->pr.edge_one_in)) {
            s->ts[k] = edges[mdl_below(&s->rng, 6)];
        }
        /* f64 logs store double bits (quarter steps, as prices), handle logs a counter */
        s->h[k] = s->pr.value_kind == TL_VALUES_F64 ? mdl_f64_bits((double)(k % 977) * 0.25 + 100)
                                                     : 0x1000000000ull + k;
    }
    s->nrec += n;
}

/* Adds one operation: n records for DU_APPEND (1) / DU_BATCH; a, b for deletes. */
static inline void du_add(du_scen_t *s, int kind, uint32_t n, int64_t a, int64_t b) {
    du_op_t *op = du_push_op(s);
    op->kind = (uint8_t)kind;
    op->a = a;
    op->b = b;
    if (kind == DU_APPEND || kind == DU_BATCH) {
        op->n = kind == DU_APPEND ? 1 : n;
        op->off = (uint32_t)s->nrec;
        du_push_recs(s, op->n);
    }
    if (du_is_write(kind)) s->nwrites++;
}

/* Adds nops random operations with the profile's odds. */
static inline void du_gen_phase(du_scen_t *s, uint32_t nops) {
    const du_profile_t *p = &s->pr;
    uint64_t *rng = &s->rng;
    for (uint32_t i = 0; i < nops; i++) {
        int r = (int)mdl_below(rng, 100);
        if ((r -= p->p_batch) < 0) {
            uint32_t n = mdl_one_in(rng, 8) ? p->big_batch
                                            : 2 + (uint32_t)mdl_below(rng, p->batch_max);
            du_add(s, DU_BATCH, n, 0, 0);
        } else if ((r -= p->p_append) < 0) {
            du_add(s, DU_APPEND, 1, 0, 0);
        } else if ((r -= p->p_delete) < 0) {
            int which = (int)mdl_below(rng, 4);
            if (which == 3) { /* retention */
                du_add(s, DU_DEL_BEFORE, 0, s->now - 2500 - (int64_t)mdl_below(rng, 3000), 0);
            } else if (which == 2) {
                du_add(s, DU_DEL_AT, 0, s->nrec ? s->ts[mdl_below(rng, s->nrec)] : s->now, 0);
            } else {
                int64_t a = s->now - (int64_t)mdl_below(rng, 6000);
                du_add(s, DU_DEL_RANGE, 0, a, a + 1 + (int64_t)mdl_below(rng, 400));
            }
        } else if ((r -= p->p_sync) < 0) {
            du_add(s, DU_SYNC, 0, 0, 0);
        } else if ((r -= p->p_ckpt) < 0) {
            du_add(s, DU_CKPT, 0, 0, 0);
        } else if ((r -= p->p_flush) < 0) {
            du_add(s, DU_FLUSH, 0, 0, 0);
        } else if ((r -= p->p_reopen) < 0) {
            du_add(s, DU_REOPEN, 0, 0, 0);
        } else {
            du_add(s, DU_COMPACT, 0, 0, 0);
        }
    }
}

/* The model after each prefix of the write calls. */
static inline void du_build_states(du_scen_t *s) {
    s->states = calloc(s->nwrites + 1, sizeof *s->states);
    s->seq_of = calloc(s->nwrites + 1, sizeof *s->seq_of);
    if (s->states == NULL || s->seq_of == NULL) abort();
    mdl_vec_t m = {0};
    uint32_t w = 0;
    for (uint32_t i = 0; i < s->nops; i++) {
        const du_op_t *op = &s->ops[i];
        if (!du_is_write(op->kind)) continue;
        if (op->kind == DU_APPEND || op->kind == DU_BATCH) {
            mdl_rec_t *r = du_xrealloc(NULL, op->n * sizeof *r);
            for (uint32_t k = 0; k < op->n; k++) {
                r[k] = (mdl_rec_t){s->ts[op->off + k], s->h[op->off + k]};
            }
            mdl_insert_batch(&m, r, op->n);
            free(r);
        } else if (op->kind == DU_DEL_RANGE) {
            mdl_delete(&m, op->a, op->b - 1, NULL, NULL);
        } else if (op->kind == DU_DEL_BEFORE) {
            mdl_delete(&m, INT64_MIN, op->a - 1, NULL, NULL);
        } else {
            mdl_delete(&m, op->a, op->a, NULL, NULL);
        }
        mdl_vec_copy(&s->states[++w], &m);
    }
    mdl_vec_free(&m);
}

/* Sets up an empty scenario: the config (manual maintenance, small pages, memtables and
 * windows) and the generator; add operations with du_add / du_gen_phase, set nbase, then
 * du_scen_finish. */
static inline void du_scen_start(du_scen_t *s, const du_profile_t *p) {
    memset(s, 0, sizeof *s);
    s->pr = *p;
    tl_config_t *c = &s->cfg;
    tl_config_init_defaults(c);
    c->maintenance = TL_MAINT_MANUAL;
    c->page_records = 64;
    c->memtable_records = 256;
    c->ooo_head_records = 64;
    c->window_size = 1000;
    c->durability = p->durability;
    c->sync_interval_ms = 3600u * 1000u; /* the syncer never runs on its own: calls count */
    c->wal_segment_bytes = p->wal_segment_bytes;
    c->checkpoint_bytes = 16384;
    c->value_kind = p->value_kind;
    tl_config_set_path(c, DU_DIR, (uint32_t)strlen(DU_DIR));
    s->rng = p->seed;
    s->now = 10000;
}

static inline void du_scen_finish(du_scen_t *s) { du_build_states(s); }

/* A random scenario: the profile's base and measured phases. */
static inline void du_scen_init(du_scen_t *s, const du_profile_t *p) {
    du_scen_start(s, p);
    du_gen_phase(s, p->base_ops);
    s->nbase = s->nops;
    du_gen_phase(s, p->ops);
    du_scen_finish(s);
}

static inline void du_scen_free(du_scen_t *s) {
    for (uint32_t i = 0; i <= s->nwrites; i++) mdl_vec_free(&s->states[i]);
    free(s->states);
    free(s->seq_of);
    free(s->ops);
    free(s->ts);
    free(s->h);
    tl_simfs_free(s->base);
    memset(s, 0, sizeof *s);
}

/* ---- reading a log back ---------------------------------------------------------------- */

static inline void du_log(void *ctx, int level, const char *msg) {
    fprintf(stderr, "    [log %p level %d] %s\n", ctx, level, msg);
}

static inline tl_status_t du_open(const du_scen_t *s, tl_simfs_t *fs, bool repair,
                                  tl_timelog_t **tl, char *err) {
    tl_config_t c = s->cfg;
    c.repair = repair ? 1 : 0;
    if (getenv("TL_CRASH_DEBUG") != NULL) { /* the engine's own messages, to stderr */
        c.log_fn = du_log;
        c.log_ctx = fs;
        c.log_level = TL_LOG_DEBUG;
    }
    err[0] = '\0';
    return tl_open_io(&c, tl_simfs_io(fs), tl, err, DU_MSG_CAP);
}

/* ---- byte values: record k's value carries its model handle ---------------------------
 * A bytes log stores, for the record whose model handle is x, the value: x in 8 bytes, then
 * x % 29 bytes derived from x, one record in 211 a 20,000-byte tail, and one in 1000 a value
 * of 300,000 bytes in a chunk of its own (so values cross chunks, WAL segments and records). du_dump reads the value back and turns it into x again,
 * or into UINT64_MAX when any byte differs: the prefix check then compares bytes too. */

static inline uint32_t du_vlen(uint64_t x) {
    if (x % 1000 == 363) return 300000u; /* a chunk of its own (vstore.c: 256 KiB or more) */
    return 8u + (uint32_t)(x % 29) + (x % 211 == 0 ? 20000u : 0u);
}

static inline void du_vfill(uint64_t x, uint8_t *out) {
    memcpy(out, &x, 8);
    for (uint32_t i = 8; i < du_vlen(x); i++) out[i] = (uint8_t)(x * 7 + i * 13);
}

static inline tl_status_t du_append_bytes(const du_scen_t *s, tl_timelog_t *tl, uint32_t off,
                                          uint32_t n) {
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += du_vlen(s->h[off + i]);
    uint8_t *data = du_xrealloc(NULL, total ? total : 1);
    uint32_t *ends = du_xrealloc(NULL, n * sizeof *ends);
    uint32_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        du_vfill(s->h[off + i], data + at);
        at += du_vlen(s->h[off + i]);
        ends[i] = at;
    }
    tl_status_t st = tl_append_bytes(tl, s->ts + off, data, ends, n, 0);
    free(data);
    free(ends);
    return st;
}

/* One record whose value carries model handle x. */
static inline tl_status_t du_append_one(tl_timelog_t *tl, int64_t ts, uint64_t x) {
    static _Thread_local uint8_t v[300000];
    uint32_t end = du_vlen(x);
    du_vfill(x, v);
    return tl_append_bytes(tl, &ts, v, &end, 1, 0);
}

/* The model handles of a bytes log's values h[0, n) (in place). */
static inline tl_status_t du_values_back(tl_timelog_t *tl, uint64_t *h, size_t n) {
    /* Sized by a first call that only measures (a fixed worst-case buffer of 10 MB a batch
     * made the sanitizer runs of the crash test several times slower); per call: the
     * scenarios run on several threads. */
    uint32_t ends[512];
    uint64_t need = 0;
    tl_status_t st = tl_values_read(tl, h, (uint32_t)n, NULL, 0, ends, &need); /* all empty: OK */
    if (st != TL_OK && st != TL_EOVERFLOW) return st;
    uint8_t *buf = du_xrealloc(NULL, need ? need : 1), *want = du_xrealloc(NULL, 300000);
    if (st == TL_EOVERFLOW) st = tl_values_read(tl, h, (uint32_t)n, buf, need, ends, &need);
    if (st != TL_OK) {
        free(buf);
        free(want);
        return st;
    }
    for (size_t i = 0, start = 0; i < n; start = ends[i++]) {
        uint64_t x;
        memcpy(&x, buf + start, 8);
        du_vfill(x, want);
        bool same = ends[i] - start == du_vlen(x) && memcmp(buf + start, want, du_vlen(x)) == 0;
        h[i] = same ? x : UINT64_MAX;
    }
    free(buf);
    free(want);
    return TL_OK;
}

/* Every visible record, in order. */
static inline tl_status_t du_dump(tl_timelog_t *tl, mdl_vec_t *out) {
    int64_t ts[512];
    uint64_t h[512];
    out->n = 0;
    tl_snapshot_t *snap = NULL;
    tl_iter_t *it = NULL;
    tl_status_t st = tl_snapshot_acquire(tl, &snap);
    if (st != TL_OK) return st;
    st = tl_iter_since(snap, INT64_MIN, &it);
    size_t k = 0;
    while (st == TL_OK && (st = tl_iter_next_batch(it, ts, h, 512, &k)) == TL_OK) {
        if (tl->cfg.value_kind == TL_VALUES_BYTES && (st = du_values_back(tl, h, k)) != TL_OK) break;
        for (size_t i = 0; i < k; i++) mdl_vec_push(out, ts[i], h[i]);
    }
    tl_iter_destroy(it);
    tl_snapshot_release(snap);
    return st == TL_EOF ? TL_OK : st;
}

static inline bool du_same(const mdl_vec_t *a, const mdl_vec_t *b) {
    return a->n == b->n && (a->n == 0 || memcmp(a->v, b->v, a->n * sizeof *a->v) == 0);
}

/* The j in [lo, hi] (highest first) whose state the log shows, or -1. */
static inline long du_which_prefix(const du_scen_t *s, tl_timelog_t *tl, uint32_t lo,
                                   uint32_t hi) {
    mdl_vec_t got = {0};
    long found = -2;
    if (du_dump(tl, &got) == TL_OK) {
        if (hi > s->nwrites) hi = s->nwrites;
        found = -1;
        for (long j = hi; j >= (long)lo && found < 0; j--) {
            if (du_same(&got, &s->states[j])) found = j;
        }
    }
    mdl_vec_free(&got);
    return found;
}

/* Write calls whose seq is at most dseq (seq_of ascends). */
static inline uint32_t du_calls_upto(const du_scen_t *s, uint64_t dseq) {
    uint32_t lo = 0, hi = s->nwrites; /* seq_of[0] = 0 <= dseq */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (s->seq_of[mid] <= dseq) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* ---- running a scenario ---------------------------------------------------------------- */

typedef struct {
    uint32_t attempted, done, acked; /* write calls issued / that returned OK / durable */
    uint32_t w; /* write calls of ops before the current one */
    tl_status_t st; /* the first failure (TL_OK: none) */
    int fail_op; /* its operation (-1: an open, nops: the final close) */
    bool fail_write; /* it was a write call (its records may be applied in memory) */
    char msg[DU_MSG_CAP]; /* its message (tl_last_error, or the open's) */
    tl_timelog_t *tl; /* open at the failure (DU_KEEP_OPEN), else NULL */
    bool close_failed; /* an injected fault met a tl_close (which returns nothing) */
    int bad_reopen; /* a REOPEN op after a clean close that did not show every call: its op
                       index + 1 (msg says what it showed), else 0 */
} du_run_t;

enum { DU_KEEP_OPEN = 1, DU_RECORD_SEQ = 2 };

static inline tl_status_t du_op_call(du_scen_t *s, tl_timelog_t *tl, const du_op_t *op) {
    switch (op->kind) {
    case DU_APPEND:
        if (s->pr.value_kind == TL_VALUES_BYTES) return du_append_bytes(s, tl, op->off, 1);
        return tl_append(tl, s->ts[op->off], s->h[op->off]);
    case DU_BATCH:
        if (s->pr.value_kind == TL_VALUES_BYTES) return du_append_bytes(s, tl, op->off, op->n);
        return tl_append_batch(tl, s->ts + op->off, s->h + op->off, op->n, 0);
    case DU_DEL_RANGE: return tl_delete_range(tl, op->a, op->b);
    case DU_DEL_BEFORE: return tl_delete_before(tl, op->a);
    case DU_DEL_AT: return tl_delete_at(tl, op->a);
    case DU_SYNC: return tl_sync(tl);
    case DU_CKPT: return tl_checkpoint(tl);
    case DU_FLUSH: return tl_flush(tl);
    case DU_COMPACT: return tl_compact(tl);
    default: return TL_EINVAL;
    }
}

/* Closes tl. A close acknowledges every write only when no I/O failed so far in the run: a
 * log that failed before (maybe on its syncer or worker thread, unseen by any call) releases
 * without syncing. True when it was such a clean close. */
static inline bool du_close(tl_simfs_t *fs, tl_timelog_t *tl, du_run_t *r) {
    const char *before = tl_simfs_fault_op(fs);
    tl_close(tl);
    const char *after = tl_simfs_fault_op(fs);
    if (after != before) r->close_failed = true; /* void: nobody is told */
    bool clean = !tl_simfs_dead(fs) && after == NULL;
    if (clean) r->acked = r->done;
    return clean;
}

static inline void du_fail(du_run_t *r, tl_status_t st, int op, bool write, tl_timelog_t *tl,
                           const char *msg) {
    r->st = st;
    r->fail_op = op;
    r->fail_write = write;
    if (msg != NULL) snprintf(r->msg, sizeof r->msg, "%s", msg);
    else tl_last_error(tl, r->msg, sizeof r->msg);
}

/* Runs ops [from, to) on a log it opens (and closes at the end), stopping at the first
 * failure. r->w must hold the write calls of ops before `from`; on return r says what was
 * attempted and acknowledged. With DU_KEEP_OPEN a failure leaves the log open in r->tl;
 * with DU_RECORD_SEQ the seq of each write call is stored in s->seq_of. */
static inline void du_run(du_scen_t *s, tl_simfs_t *fs, uint32_t from, uint32_t to, int flags,
                          du_run_t *r) {
    char err[DU_MSG_CAP];
    tl_timelog_t *tl = NULL;
    r->st = TL_OK;
    r->tl = NULL;
    tl_status_t st = du_open(s, fs, false, &tl, err);
    if (st != TL_OK) {
        du_fail(r, st, -1, false, NULL, err);
        return;
    }
    for (uint32_t i = from; i < to; i++) {
        const du_op_t *op = &s->ops[i];
        bool write = du_is_write(op->kind);
        if (op->kind == DU_REOPEN) {
            bool clean = du_close(fs, tl, r);
            tl = NULL;
            /* tl_close returns nothing: when the log failed before it (maybe on a background
             * thread, before any call could see it) or in its final sync, the calls since the
             * last acknowledgement are lost without any caller being told. What comes after
             * would not be a prefix of the calls: the run ends here, as at a crash (a caller
             * that needs to know asks tl_sync or tl_durable_seq before closing). */
            if (!clean) return;
            st = du_open(s, fs, false, &tl, err);
            if (st != TL_OK) {
                du_fail(r, st, -1, false, NULL, err);
                return;
            }
            /* every call was acknowledged by the clean close: all of them must be back */
            long j = r->acked == r->done ? du_which_prefix(s, tl, r->done, r->done) : r->done;
            if (j != (long)r->done) { /* the run ends here: what follows means nothing */
                j = du_which_prefix(s, tl, 0, s->nwrites);
                r->bad_reopen = (int)i + 1;
                snprintf(r->msg, sizeof r->msg, "reopen after a clean close at op %u shows the "
                         "prefix %ld, not %u", i, j, r->done);
                tl_close(tl);
                return;
            }
            continue;
        }
        if (write) r->attempted = ++r->w;
        st = du_op_call(s, tl, op);
        if (st == TL_EBUSY) st = TL_OK; /* accepted under backpressure */
        if (st != TL_OK) {
            du_fail(r, st, (int)i, write, tl, NULL);
            break;
        }
        if (write) {
            r->done = r->w;
            if (flags & DU_RECORD_SEQ) s->seq_of[r->w] = tl->seq;
            if (s->cfg.durability == TL_DURABILITY_SYNC) r->acked = r->done;
        } else if (op->kind == DU_SYNC || op->kind == DU_CKPT) {
            r->acked = r->done;
        }
        uint64_t dseq = 0;
        (void)tl_durable_seq(tl, &dseq); /* *out is set even on a failed log */
        uint32_t d = du_calls_upto(s, dseq);
        if (d > r->acked && d <= r->done) r->acked = d;
    }
    if (r->st != TL_OK && (flags & DU_KEEP_OPEN)) {
        r->tl = tl;
        return;
    }
    if (r->st != TL_OK) {
        tl_close(tl);
        return;
    }
    du_close(fs, tl, r);
}

/* A fresh file system holding the scenario's base phase (run clean and closed); with no
 * base phase, an empty one. */
static inline tl_simfs_t *du_base(du_scen_t *s, uint64_t seed, bool record) {
    tl_simfs_t *fs = tl_simfs_new(seed);
    if (s->nbase == 0) return fs; /* the measured phase creates the directory */
    du_run_t r;
    memset(&r, 0, sizeof r);
    du_run(s, fs, 0, s->nbase, record ? DU_RECORD_SEQ : 0, &r);
    if (r.st != TL_OK || r.bad_reopen || r.acked != r.w) {
        fprintf(stderr, "  %s: base phase failed: %s (%s)\n", s->pr.name, tl_strerror(r.st),
                r.msg);
        abort();
    }
    return fs;
}

/* A run of the measured phase, starting from the base phase's counts. */
static inline void du_run_measured(du_scen_t *s, tl_simfs_t *fs, int flags, du_run_t *r) {
    memset(r, 0, sizeof *r);
    for (uint32_t i = 0; i < s->nbase; i++) r->w += du_is_write(s->ops[i].kind);
    r->attempted = r->done = r->acked = r->w;
    du_run(s, fs, s->nbase, s->nops, flags, r);
}

/* The clean run: builds s->base, records seq_of and the measured phase's I/O calls. */
static inline void du_scen_count(du_scen_t *s) {
    s->base = du_base(s, 1, true);
    tl_simfs_t *fs = tl_simfs_clone(s->base, 1);
    uint64_t c0 = tl_simfs_calls(fs);
    du_run_t r;
    du_run_measured(s, fs, DU_RECORD_SEQ, &r);
    s->calls = tl_simfs_calls(fs) - c0;
    if (r.st != TL_OK || r.bad_reopen || r.acked != s->nwrites || tl_simfs_open_fds(fs) != 0) {
        fprintf(stderr, "  %s: clean run failed: %s (%s)\n", s->pr.name, tl_strerror(r.st),
                r.msg);
        abort();
    }
    tl_simfs_free(fs);
}

/* A copy of the base phase's file system, for one crash or fault point. */
static inline tl_simfs_t *du_fresh(du_scen_t *s, uint64_t seed) {
    return tl_simfs_clone(s->base, seed);
}

#endif /* TL_TESTS_DURABLE_UTIL_H */
