/*
 * api_fuzz.c — libFuzzer target: the whole public data API against a reference model.
 *
 * What it proves. For any byte string read as a program — a small config (manual or, one time
 * in eight, background maintenance; tiny pages, memtables, heads, windows, any origin and time
 * unit) followed by up to FZ_OPS_MAX ops: append, append_f64 (NaN, infinities, fractions, ±2^53
 * edges), batch and batch_f64 (invalid flags or one bad double reject the whole batch), bulk
 * batches, every delete form (t1 > t2 is EINVAL), flush, compact, maint_step, maint start/stop,
 * snapshots held across writes and across tl_close, iterators of every form left half-consumed,
 * next_batch / next_batch_f64 with fuzzed caps (0 included) and NULL columns, count, min, max,
 * next, prev, the f64 one-call reads, stats, validate, last_error — the engine never crashes,
 * never trips a sanitizer, every status is the documented one, and every read equals the model
 * (ties in insertion order). At close every accepted record is reported to on_drop exactly
 * once with its timestamp, and maintenance drops only records that had been deleted.
 *
 * How. The model is a sorted vector (fuzz_common.h); deletes are applied to it physically,
 * which is exact for the current state because a tombstone never hides later writes.
 * Handles are unique ids (or the bits of (double)id for f64 appends), so tie order and drop
 * accounting are checkable. Any mismatch aborts with a message (a crash for libFuzzer).
 */
#include <math.h>
#include <stdatomic.h>

#include "fuzz_common.h"

#define FZ_OPS_MAX 3000
#define FZ_IDS_MAX 6000 /* records per input; further inserts are skipped */
#define FZ_SLOTS 3
#define FZ_BUF 4096

typedef struct {
    tl_snapshot_t *s;
    fz_vec_t frozen;
    tl_iter_t *it;
    size_t it_pos, it_end;
} slot_t;

typedef struct {
    fz_in_t in;
    tl_config_t cfg;
    tl_timelog_t *tl;
    bool background, worker_on;
    atomic_bool closing; /* read by the drop callback on the maintenance thread */
    fz_vec_t model;
    slot_t slot[FZ_SLOTS];
    uint64_t next_id;
} st_t;

/* Per-id accounting: inserted ts, flags. */
enum { F_INS = 1, F_DEL = 2, F_DROP_M = 4, F_DROP_C = 8 };
static int64_t g_ts[FZ_IDS_MAX + 1];
static _Atomic uint8_t g_flag[FZ_IDS_MAX + 1]; /* the worker drops while the writer deletes */
static int64_t b_ts[FZ_BUF];
static uint64_t b_h[FZ_BUF];
static double b_d[FZ_BUF];

static uint64_t id_of(uint64_t h) {
    if (h <= FZ_IDS_MAX) return h;
    double d;
    memcpy(&d, &h, sizeof d);
    FZ_CHECK(d >= 1 && d <= FZ_IDS_MAX && d == floor(d), "unknown handle %" PRIu64, h);
    return (uint64_t)d;
}

static void on_drop(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    st_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = id_of(h[i]);
        FZ_CHECK(g_flag[id] & F_INS, "dropped id %" PRIu64 " never inserted", id);
        FZ_CHECK(!(g_flag[id] & (F_DROP_M | F_DROP_C)), "id %" PRIu64 " dropped twice", id);
        FZ_CHECK(g_ts[id] == ts[i], "drop ts %" PRId64 " want %" PRId64, ts[i], g_ts[id]);
        atomic_fetch_or(&g_flag[id], s->closing ? F_DROP_C : F_DROP_M);
    }
}

static bool ok_write(int st) { return st == TL_OK || st == TL_EBUSY; }

static uint64_t new_id(st_t *s, int64_t ts) {
    uint64_t id = s->next_id++;
    g_ts[id] = ts;
    atomic_store(&g_flag[id], F_INS);
    return id;
}

static void model_delete(st_t *s, int64_t lo, int64_t hi) {
    size_t b, e;
    fz_span(&s->model, lo, hi, &b, &e);
    if (b == e) return;
    for (size_t i = b; i < e; i++) atomic_fetch_or(&g_flag[id_of(s->model.v[i].h)], F_DEL);
    memmove(&s->model.v[b], &s->model.v[e], (s->model.n - e) * sizeof(fz_rec_t));
    s->model.n -= e - b;
}

/* ----------------------------------------------------------------------------------------
 * Config
 * -------------------------------------------------------------------------------------- */

static void read_config(st_t *s) {
    static const int64_t win[8] = {0, 1, 7, 64, 1000, (int64_t)1 << 40, INT64_MAX, 3};
    fz_in_t *in = &s->in;
    tl_config_t *c = &s->cfg;
    tl_config_init_defaults(c);
    uint8_t b0 = fz_u8(in), b1 = fz_u8(in), b2 = fz_u8(in), b3 = fz_u8(in);
    s->background = (b0 & 7) == 7;
    c->maintenance = s->background ? TL_MAINT_BACKGROUND : TL_MAINT_MANUAL;
    c->time_unit = (tl_time_unit_t)((b0 >> 3) & 3);
    c->page_records = 64 + (uint32_t)(b1 & 0x3f) * ((b1 >> 6) + 1);
    c->memtable_records = (b2 & 0x80) ? 0 : 16 + (uint32_t)(b2 & 0x7f) * 8;
    c->ooo_head_records = (b3 & 0x80) ? 0 : 1 + (uint32_t)(b3 & 0x7f);
    uint8_t b4 = fz_u8(in), b5 = fz_u8(in);
    c->ooo_runs_max = b4 & 7;
    c->sealed_max = (b4 >> 3) & 7;
    c->l0_max = b5 & 7;
    c->busy_wait_ms = (b5 >> 3) & 1;
    c->maint_interval_ms = 1 + ((b5 >> 4) & 3);
    c->window_size = win[((b5 >> 6) | ((b4 >> 6) << 2)) & 7];
    uint8_t o = fz_u8(in);
    c->window_origin = o < 128 ? (int64_t)(o & 15) - 5 : o < 192 ? fz_special[o & 15]
                                                                 : (int64_t)fz_u64(in);
    c->on_drop = on_drop;
    c->on_drop_ctx = s;
}

/* ----------------------------------------------------------------------------------------
 * Checking reads
 * -------------------------------------------------------------------------------------- */

/* One next_batch call with fuzzed cap, variant and NULL columns, checked against m. */
static bool iter_step(st_t *s, tl_iter_t *it, const fz_vec_t *m, size_t *pos, size_t end) {
    uint8_t b = fz_u8(&s->in);
    size_t cap = (b & 0x3f) == 0x3f ? FZ_BUF : (b & 0x3f); /* 0 included */
    bool f64 = b & 0x40, no_ts = (b & 0x80) && (cap & 1), no_h = (b & 0x80) && !(cap & 1);
    size_t n = 777;
    int st = f64 ? tl_iter_next_batch_f64(it, no_ts ? NULL : b_d, no_h ? NULL : b_h, cap, &n)
                 : tl_iter_next_batch(it, no_ts ? NULL : b_ts, no_h ? NULL : b_h, cap, &n);
    if (cap == 0 && st != TL_EOF) { /* header is silent; the engine says EINVAL */
        FZ_CHECK(st == TL_EINVAL && n == 0, "cap 0 -> %d n=%zu", st, n);
        return true;
    }
    if (st == TL_EOF) {
        FZ_CHECK(n == 0 && *pos == end, "EOF n=%zu at %zu of %zu", n, *pos, end);
        return false;
    }
    FZ_CHECK(st == TL_OK && n >= 1 && n <= cap, "next_batch -> %d n=%zu cap=%zu", st, n, cap);
    FZ_CHECK(n <= end - *pos, "%zu extra records", n - (end - *pos));
    for (size_t i = 0; i < n; i++) {
        const fz_rec_t *w = &m->v[*pos + i];
        if (!no_h) FZ_CHECK(b_h[i] == w->h, "record %zu: h %" PRIu64 " want %" PRIu64,
                            *pos + i, b_h[i], w->h);
        if (!no_ts && f64) FZ_CHECK(b_d[i] == (double)w->ts, "record %zu: f64 ts %.17g want %"
                                    PRId64, *pos + i, b_d[i], w->ts);
        if (!no_ts && !f64) FZ_CHECK(b_ts[i] == w->ts, "record %zu: ts %" PRId64 " want %"
                                     PRId64, *pos + i, b_ts[i], w->ts);
    }
    *pos += n;
    return true;
}

/* Opens an iterator of a fuzzed form; sets the model span it owes. */
static tl_iter_t *iter_make(st_t *s, tl_snapshot_t *snap, const fz_vec_t *m, size_t *b,
                            size_t *e) {
    uint8_t k = fz_u8(&s->in) % 6;
    int64_t x = fz_ts(&s->in), y = fz_ts(&s->in);
    tl_iter_t *it = NULL;
    int st;
    switch (k) {
    case 0: fz_span(m, x, y, b, e); st = tl_iter_open(snap, x, y, &it); break;
    case 1:
        if (x >= y) *b = *e = 0; else fz_span(m, x, y - 1, b, e);
        st = tl_iter_range(snap, x, y, &it);
        break;
    case 2: fz_span(m, x, INT64_MAX, b, e); st = tl_iter_since(snap, x, &it); break;
    case 3:
        if (x == INT64_MIN) *b = *e = 0; else fz_span(m, INT64_MIN, x - 1, b, e);
        st = tl_iter_until(snap, x, &it);
        break;
    case 4: fz_span(m, x, x, b, e); st = tl_iter_equal(snap, x, &it); break;
    default: {
        double lo = (x & 1) ? -INFINITY : (double)(x % 100), hi = (y & 1) ? INFINITY
                                                                           : (double)(y % 100);
        fz_span(m, isinf(lo) ? INT64_MIN : (int64_t)lo, isinf(hi) ? INT64_MAX : (int64_t)hi,
                b, e);
        st = tl_iter_open_f64(snap, lo, hi, &it);
    }
    }
    FZ_CHECK(st == TL_OK && it != NULL, "iterator form %d -> %d", k, st);
    return it;
}

static void check_iter_full(st_t *s, tl_snapshot_t *snap, const fz_vec_t *m) {
    size_t b, e;
    tl_iter_t *it = iter_make(s, snap, m, &b, &e);
    size_t pos = b;
    for (int guard = 0; iter_step(s, it, m, &pos, e); guard++) {
        if (guard > 64) { /* enough fuzzed caps (or input exhausted): finish in big batches */
            size_t n = 0;
            int st;
            while ((st = tl_iter_next_batch(it, b_ts, b_h, FZ_BUF, &n)) == TL_OK) {
                for (size_t i = 0; i < n; i++)
                    FZ_CHECK(b_ts[i] == m->v[pos + i].ts && b_h[i] == m->v[pos + i].h,
                             "record %zu differs", pos + i);
                pos += n;
            }
            FZ_CHECK(st == TL_EOF && pos == e, "drain -> %d at %zu of %zu", st, pos, e);
            break;
        }
    }
    tl_iter_destroy(it);
}

static void check_point(const char *what, int st, int64_t got, const fz_vec_t *m, size_t i) {
    if (i >= m->n) {
        FZ_CHECK(st == TL_EOF, "%s -> %d (%" PRId64 "), want EOF", what, st, got);
        return;
    }
    FZ_CHECK(st == TL_OK && got == m->v[i].ts, "%s -> %d %" PRId64 " want %" PRId64, what, st,
             got, m->v[i].ts);
}

static void check_points(st_t *s, tl_snapshot_t *snap, const fz_vec_t *m) {
    int64_t x = fz_ts(&s->in), lo = fz_ts(&s->in), got = 0;
    check_point("min", tl_snapshot_min(snap, &got), got, m, 0);
    check_point("max", tl_snapshot_max(snap, &got), got, m, m->n ? m->n - 1 : 0);
    check_point("next", tl_snapshot_next(snap, x, &got), got, m, fz_upper(m, x));
    size_t lb = fz_lower(m, x);
    check_point("prev", tl_snapshot_prev(snap, x, &got), got, m, lb ? lb - 1 : m->n);
    size_t b, e;
    uint64_t n = 0;
    fz_span(m, lo, x, &b, &e);
    int st = tl_snapshot_count(snap, lo, x, &n);
    FZ_CHECK(st == TL_OK && n == e - b, "count(%" PRId64 ", %" PRId64 ") -> %d %" PRIu64
             " want %zu", lo, x, st, n, e - b);
}

/* The f64 one-call reads: count and read of [lo, hi] with small or infinite bounds. */
static void check_f64_reads(st_t *s, tl_snapshot_t *snap, const fz_vec_t *m) {
    uint8_t k = fz_u8(&s->in);
    double lo = (k & 1) ? -INFINITY : (double)((int8_t)fz_u8(&s->in));
    double hi = (k & 2) ? INFINITY : (double)((int8_t)fz_u8(&s->in));
    if (k & 4) lo = (k & 8) ? NAN : 0.5; /* invalid bounds */
    size_t b = 0, e = 0, cap = fz_u8(&s->in) % 70, n = 999;
    bool bad = (k & 4) != 0;
    if (!bad)
        fz_span(m, isinf(lo) ? INT64_MIN : (int64_t)lo, isinf(hi) ? INT64_MAX : (int64_t)hi, &b,
                &e);
    double cnt = -1;
    int st = snap ? tl_snapshot_count_f64(snap, lo, hi, &cnt) : tl_count_f64(s->tl, lo, hi, &cnt);
    FZ_CHECK(bad ? st == TL_EINVAL : (st == TL_OK && cnt == (double)(e - b)),
             "count_f64 -> %d %.0f want %zu (bad %d)", st, cnt, e - b, bad);
    st = snap ? tl_snapshot_read_f64(snap, lo, hi, b_d, b_h, cap, &n)
              : tl_read_f64(s->tl, lo, hi, b_d, b_h, cap, &n);
    if (bad) { FZ_CHECK(st == TL_EINVAL, "read_f64 bad bounds -> %d", st); return; }
    size_t want = e - b < cap ? e - b : cap;
    FZ_CHECK(st == TL_OK && n == want, "read_f64 -> %d n=%zu want %zu", st, n, want);
    for (size_t i = 0; i < n; i++)
        FZ_CHECK(b_d[i] == (double)m->v[b + i].ts && b_h[i] == m->v[b + i].h,
                 "read_f64 record %zu differs", i);
}

/* A read of a fuzzed kind on snap, which must show m. */
static void check_read(st_t *s, tl_snapshot_t *snap, const fz_vec_t *m) {
    uint8_t k = fz_u8(&s->in) % 4;
    if (k == 0) check_iter_full(s, snap, m);
    else if (k == 1) check_points(s, snap, m);
    else if (k == 2) check_f64_reads(s, snap, m);
    else {
        tl_stats_t st;
        FZ_CHECK(tl_snapshot_stats(snap, &st) == TL_OK && st.records == m->n,
                 "snapshot_stats.records %" PRIu64 " want %zu", st.records, m->n);
    }
}

/* Full scan of snap equals m exactly. */
static void check_all(tl_snapshot_t *snap, const fz_vec_t *m) {
    tl_iter_t *it = NULL;
    FZ_CHECK(tl_iter_since(snap, INT64_MIN, &it) == TL_OK, "iter_since");
    size_t pos = 0, n = 0;
    int st;
    while ((st = tl_iter_next_batch(it, b_ts, b_h, FZ_BUF, &n)) == TL_OK) {
        FZ_CHECK(pos + n <= m->n, "scan: %zu extra", pos + n - m->n);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(b_ts[i] == m->v[pos + i].ts && b_h[i] == m->v[pos + i].h,
                     "scan record %zu: got (%" PRId64 ", %" PRIu64 ") want (%" PRId64 ", %"
                     PRIu64 ")", pos + i, b_ts[i], b_h[i], m->v[pos + i].ts, m->v[pos + i].h);
        pos += n;
    }
    tl_iter_destroy(it);
    FZ_CHECK(st == TL_EOF && pos == m->n, "scan -> %d, %zu of %zu", st, pos, m->n);
    uint64_t c = 0;
    FZ_CHECK(tl_snapshot_count(snap, INT64_MIN, INT64_MAX, &c) == TL_OK && c == m->n,
             "count all %" PRIu64 " want %zu", c, m->n);
}

static void check_current(st_t *s, bool full) {
    tl_snapshot_t *snap = NULL;
    FZ_CHECK(tl_snapshot_acquire(s->tl, &snap) == TL_OK && snap, "snapshot_acquire");
    if (full) check_all(snap, &s->model);
    else check_read(s, snap, &s->model);
    tl_snapshot_release(snap);
}

/* ----------------------------------------------------------------------------------------
 * Writes
 * -------------------------------------------------------------------------------------- */

/* A double timestamp: mostly exact integers, sometimes NaN, infinities, fractions, 2^53+2. */
static double fz_tsd(st_t *s) {
    static const double bad[8] = {NAN, INFINITY, -INFINITY, 0.5, -1.25, 9007199254740994.0,
                                  -9007199254740994.0, 1e300};
    uint8_t k = fz_u8(&s->in);
    if (k >= 240) return bad[k & 7];
    if (k == 239) return -0.0;
    int64_t t = fz_ts(&s->in);
    if (t > FZ_TWO53 || t < -FZ_TWO53) t /= 1024;
    return (double)t;
}

static void op_append(st_t *s, bool f64) {
    if (s->next_id > FZ_IDS_MAX) return;
    if (!f64) {
        int64_t ts = fz_ts(&s->in);
        int st = tl_append(s->tl, ts, s->next_id);
        FZ_CHECK(ok_write(st), "append -> %d", st);
        fz_insert(&s->model, ts, new_id(s, ts));
        return;
    }
    double d = fz_tsd(s);
    int64_t ts = 0;
    bool valid = fz_f64_ts(d, &ts);
    int st = tl_append_f64(s->tl, d, (double)s->next_id);
    if (!valid) { FZ_CHECK(st == TL_EINVAL, "append_f64(%.17g) -> %d", d, st); return; }
    FZ_CHECK(ok_write(st), "append_f64(%.17g) -> %d", d, st);
    fz_insert(&s->model, ts, fz_bits((double)new_id(s, ts)));
}

/* batch / batch_f64 / bulk. The whole batch is rejected by a flag or one bad double; the only
 * flag accepted is TL_F64_SAFE on batch_f64, which narrows the rule to safe integers. */
static void op_batch(st_t *s, int kind) {
    fz_in_t *in = &s->in;
    size_t n = kind == 2 ? 64 + (size_t)fz_u8(in) * 2 : fz_u8(in) % 48;
    if (s->next_id + n > FZ_IDS_MAX) return;
    uint32_t flags = (fz_u8(in) & 0x1f) == 0x1f ? 1u << (fz_u8(in) & 31) : 0;
    bool safe = kind == 1 && flags == TL_F64_SAFE;
    bool valid = flags == 0 || safe;
    const int64_t lim = safe ? FZ_TWO53 - 1 : FZ_TWO53; /* batch_f64's timestamp rule */
    int64_t t = fz_ts(in);
    uint8_t step = fz_u8(in);
    for (size_t i = 0; i < n; i++) {
        if (kind == 2) { /* bulk: a run with a fuzzed step (0: all equal) and late records */
            b_ts[i] = t;
            int64_t d = (int64_t)(step & 7) - ((step & 0x80) && i % 5 == 4 ? 9 : 0);
            t = (d > 0 && t > INT64_MAX - d) || (d < 0 && t < INT64_MIN - d) ? t : t + d;
        } else if (kind == 1) {
            b_d[i] = fz_tsd(s);
            if (!fz_f64_ts_within(b_d[i], lim, &b_ts[i])) valid = false;
        } else {
            b_ts[i] = fz_ts(in);
        }
        b_h[i] = s->next_id + i;
    }
    int st = kind == 1 ? tl_append_batch_f64(s->tl, b_d, b_h, n, flags)
                       : tl_append_batch(s->tl, b_ts, b_h, n, flags);
    if (!valid) { FZ_CHECK(st == TL_EINVAL, "invalid batch -> %d", st); return; }
    FZ_CHECK(ok_write(st), "batch kind %d n=%zu -> %d", kind, n, st);
    for (size_t i = 0; i < n; i++) fz_insert(&s->model, b_ts[i], new_id(s, b_ts[i]));
}

static void op_delete(st_t *s, int k) {
    int64_t a = fz_ts(&s->in), b = k == 0 ? fz_ts(&s->in) : 0;
    int st;
    switch (k) {
    case 0:
        st = tl_delete_range(s->tl, a, b);
        if (a > b) { FZ_CHECK(st == TL_EINVAL, "delete_range(t1 > t2) -> %d", st); return; }
        if (a < b) model_delete(s, a, b - 1);
        break;
    case 1:
        st = tl_delete_before(s->tl, a);
        if (a != INT64_MIN) model_delete(s, INT64_MIN, a - 1);
        break;
    case 2: st = tl_delete_since(s->tl, a); model_delete(s, a, INT64_MAX); break;
    default: st = tl_delete_at(s->tl, a); model_delete(s, a, a); break;
    }
    FZ_CHECK(ok_write(st), "delete form %d -> %d", k, st);
}

static void op_maint(st_t *s, int k) {
    tl_stats_t t;
    int st;
    switch (k) {
    case 0:
        FZ_CHECK(tl_flush(s->tl) == TL_OK, "flush");
        FZ_CHECK(tl_stats(s->tl, &t) == TL_OK && t.memtable_records == 0 &&
                 t.sealed_memtables == 0, "after flush: memtable not empty");
        break;
    case 1:
        FZ_CHECK(tl_compact(s->tl) == TL_OK, "compact");
        FZ_CHECK(tl_stats(s->tl, &t) == TL_OK && t.l0_segments == 0 &&
                 t.records_stored == s->model.n && t.records == s->model.n,
                 "after compact: l0 %" PRIu64 " stored %" PRIu64 " model %zu", t.l0_segments,
                 t.records_stored, s->model.n);
        break;
    case 2:
        st = tl_maint_step(s->tl);
        if (s->background && s->worker_on) FZ_CHECK(st == TL_ESTATE, "maint_step bg -> %d", st);
        else if (!s->background) FZ_CHECK(st == TL_OK || st == TL_EOF, "maint_step -> %d", st);
        break;
    default:
        if (!s->background) {
            FZ_CHECK(tl_maint_start(s->tl) == TL_ESTATE, "maint_start in manual mode");
            FZ_CHECK(tl_maint_stop(s->tl) == TL_OK, "maint_stop in manual mode");
        } else {
            st = s->worker_on ? tl_maint_stop(s->tl) : tl_maint_start(s->tl);
            FZ_CHECK(st == TL_OK, "maint toggle -> %d", st);
            s->worker_on = !s->worker_on;
        }
    }
}

static void op_diag(st_t *s) {
    tl_stats_t t;
    FZ_CHECK(tl_stats(s->tl, &t) == TL_OK, "stats");
    FZ_CHECK(t.records == s->model.n && t.records_stored >= t.records,
             "stats records %" PRIu64 " stored %" PRIu64 " model %zu", t.records,
             t.records_stored, s->model.n);
    int st = tl_validate(s->tl);
    char err[200];
    uint32_t cap = fz_u8(&s->in) % sizeof err, len = tl_last_error(s->tl, err, cap);
    FZ_CHECK(st == TL_OK, "validate -> %d", st);
    if (cap) FZ_CHECK(strlen(err) == (len < cap ? len : cap - 1), "last_error length");
}

/* ----------------------------------------------------------------------------------------
 * Snapshots and the op loop
 * -------------------------------------------------------------------------------------- */

static void slot_drop(slot_t *sl) {
    tl_iter_destroy(sl->it);
    tl_snapshot_release(sl->s);
    sl->it = NULL;
    sl->s = NULL;
}

static void op_snapshot(st_t *s, int k) {
    slot_t *sl = &s->slot[fz_u8(&s->in) % FZ_SLOTS];
    if (k == 0 && s->tl) { /* acquire */
        slot_drop(sl);
        FZ_CHECK(tl_snapshot_acquire(s->tl, &sl->s) == TL_OK && sl->s, "snapshot_acquire");
        fz_copy(&sl->frozen, &s->model);
    } else if (k == 1) {
        slot_drop(sl);
    } else if (k == 2 && sl->s) { /* (re)open the slot's iterator */
        tl_iter_destroy(sl->it);
        sl->it = iter_make(s, sl->s, &sl->frozen, &sl->it_pos, &sl->it_end);
    } else if (k == 3 && sl->it) {
        if (!iter_step(s, sl->it, &sl->frozen, &sl->it_pos, sl->it_end)) {
            size_t n = 5;
            FZ_CHECK(tl_iter_next_batch(sl->it, b_ts, b_h, 4, &n) == TL_EOF && n == 0,
                     "EOF not sticky");
        }
    } else if (k == 4 && sl->s) {
        if (fz_u8(&s->in) & 1) check_all(sl->s, &sl->frozen);
        else check_read(s, sl->s, &sl->frozen);
    } else if (s->tl) {
        check_current(s, false);
    }
}

/* Close with the slots' snapshots alive: drops, then the slots must still read right. */
static void close_log(st_t *s) {
    if (!s->tl) return;
    FZ_CHECK(tl_maint_stop(s->tl) == TL_OK, "maint_stop before close");
    s->closing = true;
    tl_close(s->tl);
    s->tl = NULL;
    for (uint64_t id = 1; id < s->next_id; id++) {
        uint8_t f = atomic_load(&g_flag[id]);
        FZ_CHECK(f & (F_DROP_M | F_DROP_C), "id %" PRIu64 " never dropped (flags %u)", id, f);
        FZ_CHECK(!(f & F_DROP_M) || (f & F_DEL), "maintenance dropped live id %" PRIu64, id);
    }
}

static void run_op(st_t *s, uint8_t op) {
    if (!s->tl && (op < 26 || op >= 32)) op = 26 + op % 6; /* closed: snapshot ops only */
    if (op < 8) op_append(s, false);
    else if (op < 10) op_append(s, true);
    else if (op < 13) op_batch(s, op - 10);
    else if (op < 17) op_delete(s, op - 13);
    else if (op < 21) op_maint(s, op - 17);
    else if (op < 22) op_diag(s);
    else if (op < 23) check_current(s, true);
    else if (op < 26) check_f64_reads(s, NULL, &s->model);
    else if (op < 32) op_snapshot(s, op - 26);
    else if (op == 32) close_log(s);
    else op_append(s, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_t *s = calloc(1, sizeof *s);
    FZ_CHECK(s != NULL, "calloc");
    s->in = (fz_in_t){data, size, 0};
    s->next_id = 1;
    read_config(s);
    int st = tl_open(&s->cfg, &s->tl);
    FZ_CHECK(st == TL_OK && s->tl, "tl_open -> %d", st);
    s->worker_on = s->background;
    for (int i = 0; i < FZ_OPS_MAX && fz_more(&s->in); i++) run_op(s, fz_u8(&s->in) % 40);
    if (s->tl) {
        check_current(s, true);
        FZ_CHECK(tl_validate(s->tl) == TL_OK, "final validate");
        close_log(s);
    }
    for (int i = 0; i < FZ_SLOTS; i++) {
        if (s->slot[i].s) check_all(s->slot[i].s, &s->slot[i].frozen);
        slot_drop(&s->slot[i]);
        fz_vfree(&s->slot[i].frozen);
    }
    for (uint64_t id = 0; id < s->next_id; id++) atomic_store(&g_flag[id], 0);
    fz_vfree(&s->model);
    free(s);
    return 0;
}
