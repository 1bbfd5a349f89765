/*
 * api_test.c — the public API end to end in manual mode: lifecycle, config, appends (single,
 * batch fast path, out-of-order, f64), reads (every iterator form, counts, min/max/next/prev),
 * tie order across every structure, flush/compact/maint_step, EBUSY and close with drops.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "timelog.h"

static tl_timelog_t *open_manual(uint32_t page, uint32_t memtable, uint32_t head) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = page;
    c.memtable_records = memtable;
    c.ooo_head_records = head;
    c.window_size = 1000;
    tl_timelog_t *tl = NULL;
    if (tl_open(&c, &tl) != TL_OK) return NULL;
    return tl;
}

/* Reads [lo, hi] into ts/h (cap n_max) through batches of `step`; returns the count. */
static size_t read_all(tl_timelog_t *tl, int64_t lo, int64_t hi, int64_t *ts, uint64_t *h,
                       size_t n_max, size_t step) {
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return SIZE_MAX;
    if (tl_iter_open(s, lo, hi, &it) != TL_OK) return SIZE_MAX;
    size_t n = 0, got = 0;
    while (n < n_max) {
        size_t want = n_max - n < step ? n_max - n : step;
        tl_status_t st = tl_iter_next_batch(it, ts + n, h + n, want, &got);
        if (st == TL_EOF) break;
        if (st != TL_OK) return SIZE_MAX;
        n += got;
    }
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    return n;
}

TL_TEST(test_strerror_and_config) {
    CHECK(strstr(tl_strerror(TL_EBUSY), "accepted") != NULL);
    CHECK(strcmp(tl_strerror(12345), "unknown status") == 0);
    CHECK(tl_config_size() == sizeof(tl_config_t));
    tl_config_t c;
    tl_config_init_defaults(&c);
    CHECK_EQ_U64(c.page_records, 4096);
    CHECK_OK(tl_config_set(&c, TL_CFG_PAGE_RECORDS, 128));
    CHECK_EQ_U64(c.page_records, 128);
    CHECK_ST(tl_config_set(&c, TL_CFG_PAGE_RECORDS, 10), TL_EINVAL);
    CHECK_EQ_U64(c.page_records, 128);
    CHECK_ST(tl_config_set(&c, 999, 1), TL_EINVAL);
    CHECK_ST(tl_config_set(&c, TL_CFG_WINDOW_SIZE, -1), TL_EINVAL);
    tl_timelog_t *tl = NULL;
    c.page_records = 10;
    CHECK_ST(tl_open(&c, &tl), TL_EINVAL);
    CHECK(tl == NULL);
    char buf[32];
    CHECK(tl_last_error(NULL, buf, sizeof buf) == 6);
    CHECK(strcmp(buf, "no log") == 0);
}

TL_TEST(test_open_close_empty) {
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(NULL, &tl)); /* background mode by default */
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    int64_t x;
    CHECK_ST(tl_snapshot_min(s, &x), TL_EOF);
    CHECK_ST(tl_snapshot_max(s, &x), TL_EOF);
    uint64_t n = 9;
    CHECK_OK(tl_snapshot_count(s, INT64_MIN, INT64_MAX, &n));
    CHECK_EQ_U64(n, 0);
    tl_iter_t *it = NULL;
    CHECK_OK(tl_iter_since(s, INT64_MIN, &it));
    size_t got = 7;
    CHECK_ST(tl_iter_next_batch(it, NULL, NULL, 4, &got), TL_EOF);
    CHECK_EQ_U64(got, 0);
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    tl_close(tl);
    tl_close(NULL);
}

TL_TEST(test_append_and_read) {
    tl_timelog_t *tl = open_manual(64, 1000, 16);
    CHECK(tl != NULL);
    for (int64_t i = 0; i < 500; i++) CHECK_OK(tl_append(tl, i * 2, (uint64_t)i));
    int64_t ts[1000];
    uint64_t h[1000];
    CHECK_EQ_U64(read_all(tl, INT64_MIN, INT64_MAX, ts, h, 1000, 7), 500);
    for (int i = 0; i < 500; i++) {
        CHECK_EQ_I64(ts[i], i * 2);
        CHECK_EQ_U64(h[i], i);
    }
    CHECK_EQ_U64(read_all(tl, 10, 20, ts, h, 1000, 100), 6);
    CHECK_EQ_I64(ts[0], 10);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

/* Random-ish out-of-order data through every structure; checks order and ties. */
TL_TEST(test_ooo_ties_all_levels) {
    tl_timelog_t *tl = open_manual(64, 300, 16);
    CHECK(tl != NULL);
    enum { N = 3000 };
    static int64_t ts[N], got_ts[N];
    static uint64_t h[N], got_h[N];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ts[i] = (int64_t)(x % 400); /* many duplicates */
        h[i] = (uint64_t)i;
    }
    for (int i = 0; i < N; i += 100) {
        CHECK_OK(tl_append_batch(tl, ts + i, h + i, 100, 0));
        if (i == 1000) CHECK_OK(tl_flush(tl));
        if (i == 2000) CHECK_OK(tl_compact(tl));
    }
    CHECK_OK(tl_validate(tl));
    for (int round = 0; round < 3; round++) {
        size_t n = read_all(tl, INT64_MIN, INT64_MAX, got_ts, got_h, N, 333);
        CHECK_EQ_U64(n, N);
        for (int i = 1; i < N; i++) {
            CHECK(got_ts[i - 1] <= got_ts[i]);
            /* insertion order = handle order for equal timestamps */
            if (got_ts[i - 1] == got_ts[i]) CHECK(got_h[i - 1] < got_h[i]);
        }
        if (round == 0) CHECK_OK(tl_flush(tl));
        if (round == 1) CHECK_OK(tl_compact(tl));
        CHECK_OK(tl_validate(tl));
    }
    tl_stats_t st;
    CHECK_OK(tl_stats(tl, &st));
    CHECK_EQ_U64(st.records, N);
    CHECK_EQ_U64(st.l0_segments, 0);
    CHECK_EQ_U64(st.sealed_memtables, 0);
    CHECK(st.l1_segments == 1);
    tl_close(tl);
}

/* Mostly in-order data with sparse late records (the ingest shape): batches split into long
 * sorted stretches (block copies across page ends and seals) and short ones; flushes merge
 * an in-order run with sparse late runs block by block. Checks order, ties and checksums. */
TL_TEST(test_sparse_late_stretches) {
    tl_timelog_t *tl = open_manual(64, 1000, 16);
    CHECK(tl != NULL);
    enum { N = 20000 };
    static int64_t ts[N], got_ts[N];
    static uint64_t h[N], got_h[N];
    uint64_t x = 2463534242ull, sum_ts = 0, sum_h = 0;
    int64_t cur = 0;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t t = cur += (int64_t)(x % 3); /* duplicates too */
        int phase = (i / 5000) % 2; /* sparse (1 in 40) then dense (1 in 5) late records */
        if (i > 100 && x % (phase ? 5u : 40u) == 0) t -= 1 + (int64_t)(x >> 40) % 200;
        ts[i] = t;
        h[i] = (uint64_t)i;
        sum_ts += (uint64_t)t;
        sum_h += (uint64_t)i;
    }
    for (int i = 0; i < N; i += 700) {
        size_t n = N - i < 700 ? (size_t)(N - i) : 700;
        tl_status_t st = tl_append_batch(tl, ts + i, h + i, n, 0);
        CHECK(st == TL_OK || st == TL_EBUSY);
        if (st == TL_EBUSY || i % 2800 == 0) CHECK_OK(tl_flush(tl));
    }
    for (int round = 0; round < 2; round++) {
        CHECK_OK(round == 0 ? tl_flush(tl) : tl_compact(tl));
        CHECK_OK(tl_validate(tl));
        CHECK_EQ_U64(read_all(tl, INT64_MIN, INT64_MAX, got_ts, got_h, N, 509), N);
        uint64_t gts = 0, gh = 0;
        for (int i = 0; i < N; i++) {
            gts += (uint64_t)got_ts[i];
            gh += got_h[i];
            if (i > 0) CHECK(got_ts[i - 1] <= got_ts[i]);
            if (i > 0 && got_ts[i - 1] == got_ts[i]) CHECK(got_h[i - 1] < got_h[i]);
        }
        CHECK_EQ_U64(gts, sum_ts);
        CHECK_EQ_U64(gh, sum_h);
    }
    tl_close(tl);
}

TL_TEST(test_iter_forms_and_points) {
    tl_timelog_t *tl = open_manual(64, 1000, 16);
    CHECK(tl != NULL);
    int64_t v[] = {INT64_MIN, -5, 0, 0, 7, 7, 7, 100, INT64_MAX, INT64_MAX};
    uint64_t hh[10];
    for (int i = 0; i < 10; i++) hh[i] = (uint64_t)i;
    CHECK_OK(tl_append_batch(tl, v, hh, 10, 0));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    uint64_t n = 0;
    CHECK_OK(tl_snapshot_count(s, INT64_MIN, INT64_MAX, &n));
    CHECK_EQ_U64(n, 10);
    CHECK_OK(tl_snapshot_count(s, 7, 7, &n));
    CHECK_EQ_U64(n, 3);
    CHECK_OK(tl_snapshot_count(s, 8, 7, &n));
    CHECK_EQ_U64(n, 0);
    int64_t t = 0;
    CHECK_OK(tl_snapshot_min(s, &t));
    CHECK_EQ_I64(t, INT64_MIN);
    CHECK_OK(tl_snapshot_max(s, &t));
    CHECK_EQ_I64(t, INT64_MAX);
    CHECK_OK(tl_snapshot_next(s, 7, &t));
    CHECK_EQ_I64(t, 100);
    CHECK_OK(tl_snapshot_prev(s, 7, &t));
    CHECK_EQ_I64(t, 0);
    CHECK_ST(tl_snapshot_next(s, INT64_MAX, &t), TL_EOF);
    CHECK_ST(tl_snapshot_prev(s, INT64_MIN, &t), TL_EOF);
    tl_iter_t *it = NULL;
    int64_t ts[16];
    uint64_t h[16];
    size_t got = 0;
    CHECK_OK(tl_iter_equal(s, 7, &it));
    CHECK_OK(tl_iter_next_batch(it, ts, h, 16, &got));
    CHECK_EQ_U64(got, 3);
    CHECK(h[0] == 4 && h[1] == 5 && h[2] == 6);
    tl_iter_destroy(it);
    CHECK_OK(tl_iter_since(s, 100, &it));
    CHECK_OK(tl_iter_next_batch(it, ts, h, 16, &got));
    CHECK_EQ_U64(got, 3);
    CHECK_EQ_I64(ts[2], INT64_MAX);
    tl_iter_destroy(it);
    CHECK_OK(tl_iter_until(s, 0, &it));
    CHECK_OK(tl_iter_next_batch(it, ts, h, 16, &got));
    CHECK_EQ_U64(got, 2);
    tl_iter_destroy(it);
    CHECK_OK(tl_iter_range(s, 5, 5, &it));
    CHECK_ST(tl_iter_next_batch(it, ts, h, 16, &got), TL_EOF);
    tl_iter_destroy(it);
    CHECK_OK(tl_iter_range(s, 0, 8, &it));
    double d[16];
    CHECK_OK(tl_iter_next_batch_f64(it, d, h, 16, &got));
    CHECK_EQ_U64(got, 5);
    CHECK(d[0] == 0.0 && d[4] == 7.0);
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    tl_close(tl);
}

TL_TEST(test_f64_appends) {
    tl_timelog_t *tl = open_manual(64, 1000, 16);
    CHECK(tl != NULL);
    CHECK_OK(tl_append_f64(tl, 5.0, 2.5));
    CHECK_ST(tl_append_f64(tl, 5.5, 1.0), TL_EINVAL);
    CHECK_ST(tl_append_f64(tl, NAN, 1.0), TL_EINVAL);
    CHECK_ST(tl_append_f64(tl, 1e300, 1.0), TL_EINVAL);
    double ts[3] = {1, 2, 3};
    uint64_t vals[3] = {10, 20, 30};
    CHECK_OK(tl_append_batch_f64(tl, ts, vals, 3, 0));
    ts[1] = 0.25;
    CHECK_ST(tl_append_batch_f64(tl, ts, vals, 3, 0), TL_EINVAL);
    int64_t out[8];
    uint64_t h[8];
    CHECK_EQ_U64(read_all(tl, INT64_MIN, INT64_MAX, out, h, 8, 8), 4);
    double v;
    memcpy(&v, &h[3], sizeof v);
    CHECK(out[3] == 5 && v == 2.5);
    CHECK_ST(tl_append_batch(tl, out, h, 1, 1), TL_EINVAL);
    tl_close(tl);
}

/* TL_F64_SAFE narrows the accepted range to JavaScript's safe integers, in both the stack path
 * and the large-batch path; a rejected batch inserts nothing. */
TL_TEST(test_f64_safe_flag) {
    tl_timelog_t *tl = open_manual(64, 1000, 16);
    CHECK(tl != NULL);
    const double two53 = 9007199254740992.0;
    uint64_t vals[2] = {1, 2};
    double edge[2] = {two53 - 1, -(two53 - 1)};
    CHECK_OK(tl_append_batch_f64(tl, edge, vals, 2, TL_F64_SAFE));
    double beyond[2] = {0, two53};
    CHECK_ST(tl_append_batch_f64(tl, beyond, vals, 2, TL_F64_SAFE), TL_EINVAL);
    beyond[1] = -two53;
    CHECK_ST(tl_append_batch_f64(tl, beyond, vals, 2, TL_F64_SAFE), TL_EINVAL);
    CHECK_OK(tl_append_batch_f64(tl, beyond, vals, 2, 0)); /* without the flag: exact, taken */
    CHECK_ST(tl_append_batch_f64(tl, edge, vals, 2, TL_F64_SAFE << 1), TL_EINVAL);
    enum { BIG = 5000 }; /* above the stack chunk: the allocated path */
    double *ts = malloc(BIG * sizeof *ts);
    uint64_t *h = malloc(BIG * sizeof *h);
    CHECK(ts != NULL && h != NULL);
    for (size_t i = 0; i < BIG; i++) {
        ts[i] = (double)i;
        h[i] = i;
    }
    ts[BIG - 1] = two53;
    CHECK_ST(tl_append_batch_f64(tl, ts, h, BIG, TL_F64_SAFE), TL_EINVAL);
    ts[BIG - 1] = two53 - 1;
    tl_status_t st = tl_append_batch_f64(tl, ts, h, BIG, TL_F64_SAFE);
    CHECK(st == TL_OK || st == TL_EBUSY); /* EBUSY: accepted (manual maintenance) */
    free(ts);
    free(h);
    double n = 0;
    CHECK_OK(tl_count_f64(tl, -INFINITY, INFINITY, &n));
    CHECK(n == 4 + BIG);
    tl_close(tl);
}

TL_TEST(test_busy_manual) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 100;
    c.sealed_max = 2;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    int busy = 0;
    for (int64_t i = 0; i < 1000; i++) {
        tl_status_t st = tl_append(tl, i, (uint64_t)i);
        CHECK(st == TL_OK || st == TL_EBUSY);
        busy += st == TL_EBUSY;
    }
    CHECK(busy > 0);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.records, 1000); /* EBUSY writes were accepted */
    CHECK(s.busy_total > 0);
    CHECK_OK(tl_maint_step(tl));
    CHECK_OK(tl_maint_step(tl) == TL_OK ? TL_OK : TL_OK);
    CHECK_ST(tl_maint_start(tl), TL_ESTATE);
    CHECK_OK(tl_maint_stop(tl));
    CHECK_OK(tl_compact(tl));
    CHECK_ST(tl_maint_step(tl), TL_EOF);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

typedef struct drops {
    uint64_t n, sum;
} drops_t;

static void on_drop(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    drops_t *d = ctx;
    (void)ts;
    for (size_t i = 0; i < n; i++) d->sum += h[i];
    d->n += n;
}

TL_TEST(test_close_reports_everything_once) {
    drops_t d = {0, 0};
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 200;
    c.ooo_head_records = 16;
    c.on_drop = on_drop;
    c.on_drop_ctx = &d;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    uint64_t want = 0;
    for (uint64_t i = 1; i <= 2000; i++) {
        int64_t t = (int64_t)((i * 7919) % 1500);
        if (i == 1999) t = INT64_MAX;
        CHECK_OK(tl_append(tl, t, i));
        want += i;
        if (i == 700) CHECK_OK(tl_compact(tl));
        if (i == 1400) CHECK_OK(tl_flush(tl));
    }
    CHECK_OK(tl_delete_range(tl, 100, 200));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    tl_close(tl);
    CHECK_EQ_U64(d.n, 2000);
    CHECK_EQ_U64(d.sum, want);
    /* the snapshot outlives the log */
    uint64_t n = 0;
    CHECK_OK(tl_snapshot_count(s, INT64_MIN, INT64_MAX, &n));
    CHECK(n > 0 && n < 2000);
    tl_snapshot_release(s);
}

int main(void) {
    RUN(test_strerror_and_config);
    RUN(test_open_close_empty);
    RUN(test_append_and_read);
    RUN(test_ooo_ties_all_levels);
    RUN(test_sparse_late_stretches);
    RUN(test_iter_forms_and_points);
    RUN(test_f64_appends);
    RUN(test_f64_safe_flag);
    RUN(test_busy_manual);
    RUN(test_close_reports_everything_once);
    return tl_test_done("api_test");
}
