/*
 * delete_test.c — sequenced tombstones: a delete hides only older records, in the memtable,
 * after flush and after compaction; INT64 edges; argument rules; drops reported once.
 */
#include "test.h"
#include "timelog.h"

static tl_timelog_t *open_log(tl_drop_fn fn, void *ctx) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 256;
    c.ooo_head_records = 16;
    c.window_size = 100;
    c.on_drop = fn;
    c.on_drop_ctx = ctx;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

static size_t at(tl_timelog_t *tl, int64_t ts, uint64_t *h, size_t cap) {
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    size_t n = 0, got = 0;
    if (tl_snapshot_acquire(tl, &s) != TL_OK || tl_iter_equal(s, ts, &it) != TL_OK) return 999;
    while (n < cap && tl_iter_next_batch(it, NULL, h + n, cap - n, &got) == TL_OK) n += got;
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    return n;
}

static uint64_t count_all(tl_timelog_t *tl) {
    tl_snapshot_t *s = NULL;
    uint64_t n = 0;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return UINT64_MAX;
    tl_snapshot_count(s, INT64_MIN, INT64_MAX, &n);
    tl_snapshot_release(s);
    return n;
}

TL_TEST(test_sequenced_delete_every_stage) {
    for (int stage = 0; stage < 4; stage++) {
        tl_timelog_t *tl = open_log(NULL, NULL);
        CHECK(tl != NULL);
        for (int64_t i = 0; i < 50; i++) CHECK_OK(tl_append(tl, 100 + i, 1000 + (uint64_t)i));
        CHECK_OK(tl_append(tl, 10, 'A'));
        if (stage == 1) CHECK_OK(tl_flush(tl));
        if (stage == 2) CHECK_OK(tl_compact(tl));
        CHECK_OK(tl_delete_range(tl, 5, 15));
        CHECK_OK(tl_append(tl, 10, 'B'));
        if (stage == 3) CHECK_OK(tl_flush(tl));
        uint64_t h[4];
        CHECK_EQ_U64(at(tl, 10, h, 4), 1);
        CHECK_EQ_U64(h[0], 'B');
        CHECK_OK(tl_flush(tl));
        CHECK_EQ_U64(at(tl, 10, h, 4), 1);
        CHECK_EQ_U64(h[0], 'B');
        CHECK_OK(tl_compact(tl));
        CHECK_EQ_U64(at(tl, 10, h, 4), 1);
        CHECK_EQ_U64(h[0], 'B');
        CHECK_EQ_U64(count_all(tl), 51);
        tl_stats_t st;
        CHECK_OK(tl_stats(tl, &st));
        CHECK_EQ_U64(st.tombstones, 0); /* GC'd once nothing older remains */
        CHECK_OK(tl_validate(tl));
        tl_close(tl);
    }
}

TL_TEST(test_delete_arguments_and_edges) {
    tl_timelog_t *tl = open_log(NULL, NULL);
    CHECK(tl != NULL);
    CHECK_ST(tl_delete_range(tl, 5, 4), TL_EINVAL);
    CHECK_OK(tl_delete_range(tl, 5, 5));
    CHECK_OK(tl_delete_before(tl, INT64_MIN));
    int64_t ts[] = {INT64_MIN, -1, 0, 1, INT64_MAX - 1, INT64_MAX, INT64_MAX};
    uint64_t h[] = {1, 2, 3, 4, 5, 6, 7};
    CHECK_OK(tl_append_batch(tl, ts, h, 7, 0));
    CHECK_OK(tl_delete_at(tl, INT64_MAX));
    CHECK_EQ_U64(count_all(tl), 5);
    CHECK_OK(tl_delete_before(tl, 0));
    CHECK_EQ_U64(count_all(tl), 3);
    CHECK_OK(tl_delete_since(tl, 1));
    CHECK_EQ_U64(count_all(tl), 1);
    CHECK_OK(tl_append(tl, INT64_MAX, 8));
    CHECK_EQ_U64(count_all(tl), 2);
    CHECK_OK(tl_compact(tl));
    CHECK_EQ_U64(count_all(tl), 2);
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    int64_t x;
    CHECK_OK(tl_snapshot_max(s, &x));
    CHECK_EQ_I64(x, INT64_MAX);
    CHECK_OK(tl_snapshot_min(s, &x));
    CHECK_EQ_I64(x, 0);
    tl_snapshot_release(s);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

typedef struct sink {
    uint64_t n, sum;
} sink_t;

static void on_drop(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    sink_t *k = ctx;
    (void)ts;
    for (size_t i = 0; i < n; i++) k->sum += h[i];
    k->n += n;
}

TL_TEST(test_retention_drops_reported_once) {
    sink_t k = {0, 0};
    tl_timelog_t *tl = open_log(on_drop, &k);
    CHECK(tl != NULL);
    uint64_t sum_all = 0, sum_old = 0;
    for (uint64_t i = 1; i <= 3000; i++) {
        int64_t t = (int64_t)i;
        if (i % 7 == 0) t -= 50; /* some late records */
        CHECK_OK(tl_append(tl, t, i));
        sum_all += i;
        if (t < 1000) sum_old += i;
        if (i % 1000 == 0) CHECK_OK(tl_flush(tl));
    }
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_delete_before(tl, 1000));
    tl_snapshot_t *old = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &old));
    CHECK_OK(tl_compact(tl));
    CHECK_EQ_U64(k.sum, sum_old); /* removed physically, reported after publish */
    uint64_t n = 0;
    CHECK_OK(tl_snapshot_count(old, INT64_MIN, INT64_MAX, &n));
    CHECK_EQ_U64(n, count_all(tl));
    tl_snapshot_release(old);
    tl_stats_t st;
    CHECK_OK(tl_stats(tl, &st));
    CHECK_EQ_U64(st.records, st.records_stored);
    CHECK(st.pages_shared_total > 0);
    tl_close(tl);
    CHECK_EQ_U64(k.sum, sum_all);
    CHECK_EQ_U64(k.n, 3000);
}

TL_TEST(test_delete_seals_only_when_intersecting) {
    tl_timelog_t *tl = open_log(NULL, NULL);
    CHECK(tl != NULL);
    for (int64_t i = 100; i < 120; i++) CHECK_OK(tl_append(tl, i, (uint64_t)i));
    tl_stats_t st;
    CHECK_OK(tl_delete_range(tl, 0, 50)); /* outside [100, 119]: no seal */
    CHECK_OK(tl_stats(tl, &st));
    CHECK_EQ_U64(st.seals_total, 0);
    CHECK_EQ_U64(st.memtable_records, 20);
    CHECK_OK(tl_append(tl, 10, 1)); /* newer than the tombstone: visible */
    CHECK_EQ_U64(count_all(tl), 21);
    CHECK_OK(tl_delete_range(tl, 110, 111));
    CHECK_OK(tl_stats(tl, &st));
    CHECK_EQ_U64(st.seals_total, 1);
    CHECK_EQ_U64(count_all(tl), 20);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
}

int main(void) {
    RUN(test_sequenced_delete_every_stage);
    RUN(test_delete_arguments_and_edges);
    RUN(test_retention_drops_reported_once);
    RUN(test_delete_seals_only_when_intersecting);
    return tl_test_done("delete_test");
}
