/*
 * alloc_fail_test.c — allocation-failure sweep over the public API.
 *
 * What it proves. For a fixed scenario that covers open, appends, f64 appends, sorted and
 * unsorted batch appends, every delete form, flush, maint_step, compaction, snapshots,
 * iterators, counts, min/max/next/prev and close, and for EVERY k from 1 to the number of
 * allocations the scenario makes: when the k-th allocation fails,
 *   - each call returns one of its documented statuses (a write: OK, EBUSY = accepted, or
 *     ENOMEM = nothing inserted / nothing deleted; flush/compact/maint_step: OK/EOF/ENOMEM with
 *     nothing lost; reads: a correct answer or ENOMEM);
 *   - right after an ENOMEM the log's content still equals the model (checked with injection
 *     disarmed), and at the end it equals the model and tl_validate passes;
 *   - snapshots taken earlier still show their frozen content;
 *   - every accepted record is reported to on_drop exactly once (maintenance or close);
 *   - nothing leaks: the counting allocator's live bytes and blocks are 0 after tl_close, and
 *     every sized free matches its allocation (size stored in a header and compared).
 * A second sweep runs the scenario in background mode with random failures (1 in 40), where
 * the maintenance worker must retry and lose nothing.
 *
 * How. The allocator counts allocations only while "armed"; verification runs disarmed, so
 * allocation k is the same call in every run of the deterministic manual-mode scenario.
 * The sweep runs twice: one failing allocation, then bursts of four consecutive failures
 * (error paths that allocate while cleaning up).
 * Env: TL_AF_MAX caps k (default: every allocation), TL_TRACE=1 prints each injected failure.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "test.h"
#include "timelog.h"

/* ------------------------------------------------------------------------------------------
 * Counting allocator with failure injection
 * ---------------------------------------------------------------------------------------- */

#define HDR 16u /* keeps malloc's 16-byte alignment */
#define MAGIC 0x7A11FA11u

typedef struct {
    pthread_mutex_t mu;
    bool armed;
    long count; /* armed allocations so far */
    long fail_at; /* 1-based armed allocation to fail; 0 = none */
    long fail_len; /* how many consecutive allocations fail from fail_at (>= 1) */
    unsigned fail_one_in; /* random mode (background sweep); 0 = off */
    uint64_t rng;
    long injected, size_mismatch;
    size_t live_bytes;
    long live_blocks;
} cnt_alloc_t;

static void *ca_alloc(void *ctx, size_t size) {
    cnt_alloc_t *a = ctx;
    pthread_mutex_lock(&a->mu);
    bool fail = false;
    if (a->armed) {
        a->count++;
        if (a->fail_at > 0 && a->count >= a->fail_at && a->count < a->fail_at + a->fail_len)
            fail = true;
        if (a->fail_one_in) {
            a->rng ^= a->rng << 13, a->rng ^= a->rng >> 7, a->rng ^= a->rng << 17;
            if (a->rng % a->fail_one_in == 0) fail = true;
        }
    }
    if (fail) a->injected++;
    pthread_mutex_unlock(&a->mu);
    if (fail || size > SIZE_MAX - HDR) return NULL;
    unsigned char *p = malloc(size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    uint32_t magic = MAGIC;
    memcpy(p + 8, &magic, sizeof magic);
    pthread_mutex_lock(&a->mu);
    a->live_bytes += size;
    a->live_blocks++;
    pthread_mutex_unlock(&a->mu);
    return p + HDR;
}

static void ca_free(void *ctx, void *ptr, size_t size) {
    cnt_alloc_t *a = ctx;
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t stored;
    uint32_t magic;
    memcpy(&stored, p, sizeof stored);
    memcpy(&magic, p + 8, sizeof magic);
    pthread_mutex_lock(&a->mu);
    if (magic != MAGIC || stored != size) a->size_mismatch++;
    a->live_bytes -= stored;
    a->live_blocks--;
    pthread_mutex_unlock(&a->mu);
    memset(p, 0xDD, HDR); /* catch a double free as a magic mismatch */
    free(p);
}

/* Sets armed; returns the previous value. */
static bool ca_arm(cnt_alloc_t *a, bool on) {
    pthread_mutex_lock(&a->mu);
    bool was = a->armed;
    a->armed = on;
    pthread_mutex_unlock(&a->mu);
    return was;
}

/* ------------------------------------------------------------------------------------------
 * Model (sorted by ts, ties in insertion order) and drop log
 * ---------------------------------------------------------------------------------------- */

typedef struct { int64_t ts; uint64_t h; } rec_t;
typedef struct { rec_t *v; size_t n, cap; } vec_t;

static void vec_push_at(vec_t *a, size_t i, int64_t ts, uint64_t h) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        if (!a->v) { fprintf(stderr, "alloc_fail_test: out of memory\n"); exit(2); }
    }
    memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof *a->v);
    a->v[i] = (rec_t){ts, h};
    a->n++;
}

static void vec_push(vec_t *a, int64_t ts, uint64_t h) { vec_push_at(a, a->n, ts, h); }

static size_t bound(const vec_t *a, int64_t ts, bool upper) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid].ts < ts || (upper && a->v[mid].ts == ts)) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static void vec_copy(vec_t *dst, const vec_t *src) {
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++) vec_push(dst, src->v[i].ts, src->v[i].h);
}

static int cmp_h(const void *x, const void *y) {
    const rec_t *a = x, *b = y;
    return a->h < b->h ? -1 : a->h > b->h;
}

typedef struct {
    cnt_alloc_t al;
    tl_timelog_t *tl;
    vec_t model, inserted, frozen_a;
    tl_snapshot_t *snap_a;
    pthread_mutex_t drop_mu;
    vec_t dropped;
    long k;
    const char *where;
    int background;
    long enomem_seen;
    uint64_t next_h;
} sc_t;

static void on_drop(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    sc_t *c = ctx;
    pthread_mutex_lock(&c->drop_mu);
    for (size_t i = 0; i < n; i++) vec_push(&c->dropped, ts[i], h[i]);
    pthread_mutex_unlock(&c->drop_mu);
}

static void model_insert(sc_t *c, int64_t ts, uint64_t h) {
    vec_push_at(&c->model, bound(&c->model, ts, true), ts, h);
    vec_push(&c->inserted, ts, h);
}

static void model_delete(sc_t *c, int64_t lo, int64_t hi) { /* closed interval */
    size_t b = bound(&c->model, lo, false), e = bound(&c->model, hi, true);
    if (lo > hi || b >= e) return;
    memmove(&c->model.v[b], &c->model.v[e], (c->model.n - e) * sizeof(rec_t));
    c->model.n -= e - b;
}

#define AFAIL(c, ...)                                                                     \
    do {                                                                                  \
        printf("  ALLOC-FAIL k=%ld mode=%s at %s (alloc_fail_test.c:%d): ", (c)->k,        \
               (c)->background ? "background" : "manual", (c)->where, __LINE__);          \
        printf(__VA_ARGS__);                                                              \
        printf("\n");                                                                     \
        return 0;                                                                         \
    } while (0)
#define ACHECK(c, cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) AFAIL((c), __VA_ARGS__);                                             \
    } while (0)
#define TRY(x)                                                                            \
    do {                                                                                  \
        if (!(x)) return 0;                                                               \
    } while (0)

/* ------------------------------------------------------------------------------------------
 * Verification (disarmed)
 * ---------------------------------------------------------------------------------------- */

static int64_t vts[4096];
static uint64_t vh[4096];

static int scan_equals(sc_t *c, tl_snapshot_t *s, const vec_t *m, const char *what) {
    tl_iter_t *it = NULL;
    ACHECK(c, tl_iter_since(s, INT64_MIN, &it) == TL_OK, "%s: iter_since failed", what);
    size_t pos = 0, n = 0;
    int st;
    while ((st = tl_iter_next_batch(it, vts, vh, 7, &n)) == TL_OK) {
        for (size_t i = 0; i < n; i++, pos++) {
            if (pos >= m->n || vts[i] != m->v[pos].ts || vh[i] != m->v[pos].h) {
                tl_iter_destroy(it);
                AFAIL(c, "%s: record %zu differs (got ts %" PRId64 " h %" PRIu64 ", model has "
                      "%zu records)", what, pos, vts[i], vh[i], m->n);
            }
        }
    }
    tl_iter_destroy(it);
    ACHECK(c, st == TL_EOF && pos == m->n, "%s: %zu records, model %zu (st %d)", what, pos,
           m->n, st);
    return 1;
}

static int verify_now(sc_t *c, const char *what) {
    bool was = ca_arm(&c->al, false);
    tl_snapshot_t *s = NULL;
    int ok = tl_snapshot_acquire(c->tl, &s) == TL_OK;
    if (ok) ok = scan_equals(c, s, &c->model, what);
    tl_snapshot_release(s);
    tl_stats_t st;
    if (ok && (tl_stats(c->tl, &st) != TL_OK || st.records != c->model.n)) {
        ca_arm(&c->al, was);
        AFAIL(c, "%s: stats.records %" PRIu64 " model %zu", what, st.records, c->model.n);
    }
    if (ok && c->snap_a) ok = scan_equals(c, c->snap_a, &c->frozen_a, "snapshot A");
    ca_arm(&c->al, was);
    ACHECK(c, ok, "%s: verification failed", what);
    return 1;
}

/* A write's status: 1 accepted, 0 rejected with ENOMEM (content verified unchanged). */
static int write_status(sc_t *c, int st, bool *accepted) {
    *accepted = st == TL_OK || st == TL_EBUSY;
    if (*accepted) return 1;
    ACHECK(c, st == TL_ENOMEM, "write -> %d (want OK, EBUSY or ENOMEM)", st);
    c->enomem_seen++;
    return verify_now(c, "after write ENOMEM");
}

static int maint_status(sc_t *c, int st, bool eof_ok) {
    if (st == TL_OK || (eof_ok && st == TL_EOF)) return 1;
    ACHECK(c, st == TL_ENOMEM, "maintenance -> %d", st);
    c->enomem_seen++;
    return verify_now(c, "after maintenance ENOMEM");
}

/* ------------------------------------------------------------------------------------------
 * Scenario steps (armed)
 * ---------------------------------------------------------------------------------------- */

static uint64_t f64_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

static int do_append(sc_t *c, int64_t ts, bool f64) {
    uint64_t id = c->next_h++;
    uint64_t h = f64 ? f64_bits((double)id) : id;
    bool acc;
    int st = f64 ? tl_append_f64(c->tl, (double)ts, (double)id) : tl_append(c->tl, ts, h);
    TRY(write_status(c, st, &acc));
    if (acc) model_insert(c, ts, h);
    return 1;
}

static int do_batch(sc_t *c, const int64_t *ts, size_t n, bool f64) {
    uint64_t h[256];
    double d[256];
    for (size_t i = 0; i < n; i++) { h[i] = c->next_h++; d[i] = (double)ts[i]; }
    bool acc;
    int st = f64 ? tl_append_batch_f64(c->tl, d, h, n, 0) : tl_append_batch(c->tl, ts, h, n, 0);
    TRY(write_status(c, st, &acc));
    for (size_t i = 0; acc && i < n; i++) model_insert(c, ts[i], h[i]);
    return 1;
}

enum { D_RANGE, D_BEFORE, D_SINCE, D_AT };

static int do_delete(sc_t *c, int kind, int64_t a, int64_t b) {
    int st;
    switch (kind) {
    case D_RANGE: st = tl_delete_range(c->tl, a, b); break;
    case D_BEFORE: st = tl_delete_before(c->tl, a); break;
    case D_SINCE: st = tl_delete_since(c->tl, a); break;
    default: st = tl_delete_at(c->tl, a); break;
    }
    bool acc;
    TRY(write_status(c, st, &acc));
    if (!acc) return 1;
    if (kind == D_RANGE && a < b) model_delete(c, a, b - 1);
    if (kind == D_BEFORE && a != INT64_MIN) model_delete(c, INT64_MIN, a - 1);
    if (kind == D_SINCE) model_delete(c, a, INT64_MAX);
    if (kind == D_AT) model_delete(c, a, a);
    return 1;
}

/* Drains an iterator over m[b..e); ENOMEM at any point is accepted (the read is abandoned). */
static int read_iter(sc_t *c, tl_snapshot_t *s, const vec_t *m, int64_t lo, int64_t hi) {
    tl_iter_t *it = NULL;
    int st = tl_iter_open(s, lo, hi, &it);
    if (st == TL_ENOMEM) { c->enomem_seen++; return 1; }
    ACHECK(c, st == TL_OK, "iter_open(%" PRId64 ", %" PRId64 ") -> %d", lo, hi, st);
    size_t pos = bound(m, lo, false), end = bound(m, hi, true), n = 0;
    if (lo > hi) pos = end = 0;
    while ((st = tl_iter_next_batch(it, vts, vh, 5, &n)) == TL_OK) {
        for (size_t i = 0; i < n; i++, pos++) {
            bool same = pos < end && vts[i] == m->v[pos].ts && vh[i] == m->v[pos].h;
            if (!same) { tl_iter_destroy(it); AFAIL(c, "iter_open: record %zu differs", pos); }
        }
    }
    tl_iter_destroy(it);
    if (st == TL_ENOMEM) { c->enomem_seen++; return 1; }
    ACHECK(c, st == TL_EOF && pos == end, "iter_open(%" PRId64 ", %" PRId64 "): st %d, %zu of "
           "%zu records", lo, hi, st, pos, end);
    return 1;
}

/* A point query: OK with want, EOF when want_idx >= m->n, or ENOMEM. */
static int read_point(sc_t *c, const char *what, int st, int64_t got, const vec_t *m,
                      size_t want_idx) {
    if (st == TL_ENOMEM) { c->enomem_seen++; return 1; }
    if (want_idx >= m->n) {
        ACHECK(c, st == TL_EOF, "%s -> %d, want EOF", what, st);
        return 1;
    }
    ACHECK(c, st == TL_OK && got == m->v[want_idx].ts, "%s -> %d %" PRId64 " want %" PRId64,
           what, st, got, m->v[want_idx].ts);
    return 1;
}

static int read_checks(sc_t *c, tl_snapshot_t *s, const vec_t *m) {
    TRY(read_iter(c, s, m, 20, 79));
    TRY(read_iter(c, s, m, INT64_MIN, INT64_MAX));
    TRY(read_iter(c, s, m, 60, 60));
    uint64_t cnt = 0;
    int st = tl_snapshot_count(s, 0, 100, &cnt);
    size_t want = bound(m, 100, true) - bound(m, 0, false);
    if (st == TL_ENOMEM) c->enomem_seen++;
    else ACHECK(c, st == TL_OK && cnt == want, "count -> %d %" PRIu64 " want %zu", st, cnt, want);
    int64_t got = 0;
    st = tl_snapshot_min(s, &got);
    TRY(read_point(c, "min", st, got, m, 0));
    st = tl_snapshot_max(s, &got);
    TRY(read_point(c, "max", st, got, m, m->n ? m->n - 1 : 0));
    st = tl_snapshot_next(s, 50, &got);
    TRY(read_point(c, "next(50)", st, got, m, bound(m, 50, true)));
    size_t lb = bound(m, 50, false);
    st = tl_snapshot_prev(s, 50, &got);
    return read_point(c, "prev(50)", st, got, m, lb ? lb - 1 : m->n);
}

static int take_snapshot_a(sc_t *c) {
    int st = tl_snapshot_acquire(c->tl, &c->snap_a);
    if (st == TL_ENOMEM) {
        ACHECK(c, c->snap_a == NULL, "snapshot_acquire ENOMEM left *out set");
        c->enomem_seen++;
        return 1;
    }
    ACHECK(c, st == TL_OK && c->snap_a, "snapshot_acquire -> %d", st);
    vec_copy(&c->frozen_a, &c->model);
    return 1;
}

static int maint_steps(sc_t *c) {
    if (c->background) return 1;
    for (int i = 0; i < 100; i++) {
        int st = tl_maint_step(c->tl);
        TRY(maint_status(c, st, true));
        if (st == TL_EOF) return 1;
    }
    AFAIL(c, "maint_step never reached EOF");
}

/* ------------------------------------------------------------------------------------------
 * The scenario
 * ---------------------------------------------------------------------------------------- */

static int scenario_writes(sc_t *c) {
    int64_t ts[256];
    c->where = "appends";
    for (int64_t i = 0; i < 150; i++) TRY(do_append(c, i % 3 ? 200 + i : (i * 37) % 101, false));
    c->where = "batch sorted";
    for (int64_t i = 0; i < 100; i++) ts[i] = 400 + i / 2;
    TRY(do_batch(c, ts, 100, false));
    c->where = "batch unsorted";
    for (int64_t i = 0; i < 50; i++) ts[i] = (i * 13) % 60;
    TRY(do_batch(c, ts, 50, false));
    c->where = "batch f64";
    for (int64_t i = 0; i < 20; i++) ts[i] = 90 - i;
    TRY(do_batch(c, ts, 20, true));
    c->where = "append f64";
    for (int64_t i = 0; i < 5; i++) TRY(do_append(c, 30 + i, true));
    c->where = "snapshot A";
    TRY(take_snapshot_a(c));
    c->where = "deletes";
    TRY(do_delete(c, D_RANGE, 10, 40));
    TRY(do_delete(c, D_AT, 450, 0));
    TRY(do_delete(c, D_BEFORE, 5, 0));
    TRY(do_delete(c, D_SINCE, 1000, 0));
    return 1;
}

static int scenario(sc_t *c, const tl_config_t *cfg) {
    c->where = "open";
    int st = tl_open(cfg, &c->tl);
    if (st == TL_ENOMEM) {
        ACHECK(c, c->tl == NULL, "tl_open ENOMEM left *out set");
        return 1;
    }
    ACHECK(c, st == TL_OK, "tl_open -> %d", st);
    TRY(scenario_writes(c));
    c->where = "flush";
    TRY(maint_status(c, tl_flush(c->tl), false));
    c->where = "appends 2";
    for (int64_t i = 0; i < 80; i++) TRY(do_append(c, (i * 7) % 150, false));
    c->where = "maint_step";
    TRY(maint_steps(c));
    c->where = "reads on snapshot A";
    if (c->snap_a) TRY(read_checks(c, c->snap_a, &c->frozen_a));
    c->where = "compact";
    TRY(maint_status(c, tl_compact(c->tl), false));
    c->where = "reads on snapshot B";
    tl_snapshot_t *b = NULL;
    st = tl_snapshot_acquire(c->tl, &b);
    ACHECK(c, st == TL_OK || st == TL_ENOMEM, "snapshot B -> %d", st);
    int ok = st == TL_OK ? read_checks(c, b, &c->model) : 1;
    tl_snapshot_release(b);
    TRY(ok);
    c->where = "extremes, delete, compact";
    TRY(do_append(c, INT64_MAX, false));
    TRY(do_append(c, INT64_MIN, false));
    TRY(do_delete(c, D_AT, INT64_MAX, 0));
    TRY(do_delete(c, D_RANGE, 0, 30));
    TRY(maint_status(c, tl_compact(c->tl), false));
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * One run: scenario, final checks, close, leak and drop accounting
 * ---------------------------------------------------------------------------------------- */

static void make_config(sc_t *c, tl_config_t *cfg) {
    tl_config_init_defaults(cfg);
    cfg->maintenance = c->background ? TL_MAINT_BACKGROUND : TL_MAINT_MANUAL;
    cfg->page_records = 64;
    cfg->memtable_records = 128;
    cfg->ooo_head_records = 16;
    cfg->ooo_runs_max = 2;
    cfg->sealed_max = 2;
    cfg->l0_max = 2;
    cfg->window_size = 50;
    cfg->maint_interval_ms = 1;
    cfg->busy_wait_ms = 1;
    cfg->allocator = (tl_allocator_t){&c->al, ca_alloc, ca_free};
    cfg->on_drop = on_drop;
    cfg->on_drop_ctx = c;
}

static int final_checks(sc_t *c) {
    c->where = "final verification";
    bool was = ca_arm(&c->al, false);
    if (c->background) ACHECK(c, tl_compact(c->tl) == TL_OK, "final compact (disarmed)");
    TRY(verify_now(c, "final"));
    ACHECK(c, tl_validate(c->tl) == TL_OK, "tl_validate");
    ca_arm(&c->al, was);
    return 1;
}

static int drops_match(sc_t *c) {
    c->where = "drop accounting";
    qsort(c->inserted.v, c->inserted.n, sizeof(rec_t), cmp_h);
    qsort(c->dropped.v, c->dropped.n, sizeof(rec_t), cmp_h);
    ACHECK(c, c->dropped.n == c->inserted.n, "%zu drops reported for %zu accepted records",
           c->dropped.n, c->inserted.n);
    for (size_t i = 0; i < c->inserted.n; i++) {
        ACHECK(c, c->dropped.v[i].h == c->inserted.v[i].h &&
                      c->dropped.v[i].ts == c->inserted.v[i].ts,
               "drop %zu: handle %" PRIu64 " vs inserted %" PRIu64, i, c->dropped.v[i].h,
               c->inserted.v[i].h);
    }
    return 1;
}

typedef struct { long allocs, injected, enomem; } run_info_t;

static int run_one(long k, long len, int background, unsigned one_in, uint64_t seed,
                   run_info_t *info) {
    sc_t *c = calloc(1, sizeof *c);
    if (!c) return 0;
    pthread_mutex_init(&c->al.mu, NULL);
    pthread_mutex_init(&c->drop_mu, NULL);
    c->k = k;
    c->background = background;
    c->next_h = 1;
    c->al.fail_at = k;
    c->al.fail_len = len;
    c->al.fail_one_in = one_in;
    c->al.rng = seed | 1;
    c->al.armed = true;
    tl_config_t cfg;
    make_config(c, &cfg);
    int ok = scenario(c, &cfg);
    if (ok && c->tl) ok = final_checks(c);
    tl_snapshot_release(c->snap_a);
    tl_close(c->tl); /* armed: close itself runs under injection too */
    ca_arm(&c->al, false);
    c->where = "after close";
    if (ok && (c->al.live_bytes || c->al.live_blocks || c->al.size_mismatch)) {
        printf("  ALLOC-FAIL k=%ld: leak after close: %zu bytes in %ld blocks, %ld sized-free "
               "mismatches\n", k, c->al.live_bytes, c->al.live_blocks, c->al.size_mismatch);
        ok = 0;
    }
    if (ok && c->tl) ok = drops_match(c);
    info->allocs = c->al.count;
    info->injected = c->al.injected;
    info->enomem = c->enomem_seen;
    free(c->model.v);
    free(c->inserted.v);
    free(c->frozen_a.v);
    free(c->dropped.v);
    pthread_mutex_destroy(&c->al.mu);
    pthread_mutex_destroy(&c->drop_mu);
    free(c);
    return ok;
}

/* ------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------- */

TL_TEST(clean_run_counts_allocations) {
    run_info_t info;
    CHECK(run_one(0, 1, 0, 0, 1, &info));
    CHECK(info.injected == 0 && info.enomem == 0);
    CHECK(info.allocs > 10);
}

/* Sweeps k = 1..(allocations + 2), failing len consecutive allocations from the k-th. */
static int sweep(long len) {
    run_info_t info;
    if (!run_one(0, 1, 0, 0, 1, &info)) return 0;
    long total = info.allocs, limit = total + 2, failures = 0, enomems = 0;
    const char *cap = getenv("TL_AF_MAX");
    if (cap && atol(cap) > 0 && atol(cap) < limit) limit = atol(cap);
    for (long k = 1; k <= limit && failures < 5; k++) {
        if (!run_one(k, len, 0, 0, 1, &info)) failures++;
        enomems += info.enomem > 0;
        if (getenv("TL_TRACE"))
            printf("  k=%ld len=%ld: injected %ld, ENOMEM seen %ld\n", k, len, info.injected,
                   info.enomem);
    }
    if (getenv("TL_TEST_VERBOSE"))
        printf("  len %ld: swept k=1..%ld over %ld allocations: %ld runs saw ENOMEM\n", len,
               limit, total, enomems);
    return failures == 0 && enomems > 0; /* the sweep really exercised failure paths */
}

TL_TEST(fail_every_kth_allocation_manual) { CHECK(sweep(1)); }

TL_TEST(fail_bursts_of_four_manual) { CHECK(sweep(4)); }

TL_TEST(random_failures_background) {
    long failures = 0, injected = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        run_info_t info;
        if (!run_one(-1, 1, 1, 40, seed * 0x9E3779B97F4A7C15ull, &info)) failures++;
        injected += info.injected;
        if (failures >= 3) break;
    }
    CHECK(failures == 0);
    CHECK(injected > 0);
}

int main(void) {
    RUN(clean_run_counts_allocations);
    RUN(fail_every_kth_allocation_manual);
    RUN(fail_bursts_of_four_manual);
    RUN(random_failures_background);
    return tl_test_done("alloc_fail_test");
}
