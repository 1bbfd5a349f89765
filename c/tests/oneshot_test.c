/*
 * oneshot_test.c — the one-call f64 reads (oneshot.c): bounds conversion (±inf = the int64
 * ends, NaN/fractions/beyond 2^53 rejected), reads that fill exactly cap or stop early, counts,
 * and that they agree with the general API on the same data; reads and iterators that skip the
 * merge (direct.c) give exactly the merge's records.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "merge.h"
#include "test.h"
#include "timelog_int.h"

static tl_timelog_t *open_manual(void) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 128;
    tl_timelog_t *tl = NULL;
    if (tl_open(&c, &tl) != TL_OK) return NULL;
    return tl;
}

TL_TEST(read_f64_matches_iter_and_stops_at_cap) {
    tl_timelog_t *tl = open_manual();
    CHECK(tl != NULL);
    for (int64_t i = 0; i < 1000; i++) CHECK_OK(tl_append(tl, 999 - i, (uint64_t)i));
    CHECK_OK(tl_append(tl, 500, 7777)); /* duplicate at 500, inserted last */
    double ts[16];
    uint64_t h[16];
    size_t n = 99;
    CHECK_OK(tl_read_f64(tl, 500, 500, ts, h, 16, &n));
    CHECK_EQ_U64(n, 2);
    CHECK(ts[0] == 500.0 && ts[1] == 500.0);
    CHECK_EQ_U64(h[0], 499);
    CHECK_EQ_U64(h[1], 7777); /* insertion order among equal timestamps */
    CHECK_OK(tl_flush(tl));
    CHECK_OK(tl_read_f64(tl, 10, 1000, ts, h, 16, &n));
    CHECK_EQ_U64(n, 16); /* exactly cap: caller continues with an iterator */
    CHECK(ts[0] == 10.0 && ts[15] == 25.0);
    CHECK_OK(tl_read_f64(tl, 2000, 3000, ts, h, 16, &n));
    CHECK_EQ_U64(n, 0);
    CHECK_OK(tl_read_f64(tl, 5, 4, ts, h, 16, &n)); /* lo > hi: empty */
    CHECK_EQ_U64(n, 0);
    tl_close(tl);
}

TL_TEST(bounds_infinity_reach_int64_ends_and_bad_bounds_fail) {
    tl_timelog_t *tl = open_manual();
    CHECK(tl != NULL);
    CHECK_OK(tl_append(tl, INT64_MIN, 1));
    CHECK_OK(tl_append(tl, 0, 2));
    CHECK_OK(tl_append(tl, INT64_MAX, 3));
    double cnt = -1;
    CHECK_OK(tl_count_f64(tl, -INFINITY, INFINITY, &cnt));
    CHECK(cnt == 3.0);
    CHECK_OK(tl_count_f64(tl, 0, INFINITY, &cnt));
    CHECK(cnt == 2.0);
    uint64_t h[4];
    size_t n = 0;
    CHECK_OK(tl_read_f64(tl, 1, INFINITY, NULL, h, 4, &n));
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(h[0], 3);
    CHECK_ST(tl_count_f64(tl, NAN, 1, &cnt), TL_EINVAL);
    CHECK_ST(tl_count_f64(tl, 0.5, 1, &cnt), TL_EINVAL);
    CHECK_ST(tl_read_f64(tl, 0, 9007199254740994.0, NULL, h, 4, &n), TL_EINVAL);
    CHECK_ST(tl_read_f64(tl, 0, 1, NULL, h, 4, NULL), TL_EINVAL);
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    tl_iter_t *it = NULL;
    CHECK_ST(tl_iter_open_f64(s, -1.5, 1, &it), TL_EINVAL);
    CHECK(it == NULL);
    CHECK_OK(tl_iter_open_f64(s, -INFINITY, -1, &it));
    int64_t ts[4];
    CHECK_OK(tl_iter_next_batch(it, ts, h, 4, &n));
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_I64(ts[0], INT64_MIN);
    tl_iter_destroy(it);
    CHECK_OK(tl_snapshot_count_f64(s, -INFINITY, -1, &cnt));
    CHECK(cnt == 1.0);
    tl_snapshot_release(s);
    tl_close(tl);
}

TL_TEST(snapshot_read_f64_is_isolated_from_later_writes) {
    tl_timelog_t *tl = open_manual();
    CHECK(tl != NULL);
    CHECK_OK(tl_append(tl, 10, 1));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK_OK(tl_append(tl, 10, 2));
    CHECK_OK(tl_delete_at(tl, 10));
    uint64_t h[4];
    size_t n = 0;
    CHECK_OK(tl_snapshot_read_f64(s, 10, 10, NULL, h, 4, &n));
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(h[0], 1);
    CHECK_OK(tl_read_f64(tl, 10, 10, NULL, h, 4, &n));
    CHECK_EQ_U64(n, 0);
    tl_snapshot_release(s);
    tl_close(tl);
}

/* Newest-first one-call reads and iterators: the last cap records, reversed; ties newest
 * first; points; unknown flags refused. */
TL_TEST(read_ex_reverse_returns_the_newest_first) {
    tl_timelog_t *tl = open_manual();
    CHECK(tl != NULL);
    int64_t t0[1000];
    uint64_t h0[1000];
    for (int64_t i = 0; i < 1000; i++) t0[i] = i, h0[i] = (uint64_t)i;
    int st = tl_append_batch(tl, t0, h0, 1000, 0);
    CHECK(st == TL_OK || st == TL_EBUSY);
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_append(tl, 500, 7777));
    CHECK_OK(tl_flush(tl));
    CHECK_OK(tl_append(tl, 500, 8888)); /* memtable: a newer source at the same ts */
    double ts[16];
    uint64_t h[16];
    size_t n = 99;
    CHECK_OK(tl_read_ex_f64(tl, -INFINITY, INFINITY, TL_READ_REVERSE, ts, h, 4, &n));
    CHECK_EQ_U64(n, 4);
    CHECK(ts[0] == 999.0 && ts[3] == 996.0);
    CHECK_EQ_U64(h[0], 999);
    CHECK_OK(tl_read_ex_f64(tl, 499, 501, TL_READ_REVERSE, ts, h, 16, &n));
    CHECK_EQ_U64(n, 5);
    uint64_t want[] = {501, 8888, 7777, 500, 499};
    for (int i = 0; i < 5; i++) CHECK_EQ_U64(h[i], want[i]);
    CHECK_OK(tl_read_ex_f64(tl, 500, 500, TL_READ_REVERSE, ts, h, 2, &n));
    CHECK_EQ_U64(n, 2);
    CHECK(h[0] == 8888 && h[1] == 7777 && ts[1] == 500.0);
    CHECK_ST(tl_read_ex_f64(tl, 0, 1, 2, ts, h, 2, &n), TL_EINVAL);
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    tl_iter_t *it = NULL;
    CHECK_ST(tl_iter_open_ex(s, 0, 10, 4, &it), TL_EINVAL);
    CHECK(it == NULL);
    CHECK_OK(tl_iter_open_ex_f64(s, 990, INFINITY, TL_READ_REVERSE, &it));
    int64_t t64[16];
    CHECK_OK(tl_iter_next_batch(it, t64, h, 16, &n));
    CHECK_EQ_U64(n, 10);
    CHECK(t64[0] == 999 && t64[9] == 990);
    CHECK_ST(tl_iter_next_batch(it, t64, h, 16, &n), TL_EOF);
    tl_iter_destroy(it);
    CHECK_OK(tl_iter_open_ex(s, 500, 500, TL_READ_REVERSE, &it)); /* the point cursor */
    CHECK_OK(tl_iter_next_batch_f64(it, ts, h, 16, &n));
    CHECK(n == 3 && h[0] == 8888 && h[2] == 500);
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    tl_close(tl);
}

/* One range of s read four ways against the merge itself (built from the snapshot's plan), up
 * to cap: tl_snapshot_read_f64 and iterators, which skip the merge when one source holds the
 * range and nothing hides it (direct.c), read in batches of `step` records, with timestamps as
 * doubles and as int64 (the cursor resumes inside miniblocks and pages). */
static double ref_ts[5000], rd_ts[5000];
static uint64_t ref_h[5000], rd_h[5000];
static int64_t rd_t64[5000];

static void iter_read(tl_snapshot_t *s, int64_t lo, int64_t hi, size_t cap, size_t step,
                      bool as_int, size_t *out) {
    tl_iter_t *it = NULL;
    size_t m = 0;
    *out = SIZE_MAX;
    CHECK_OK(tl_iter_open(s, lo, hi, &it));
    while (m < cap && it != NULL) {
        size_t got = 0, want = cap - m < step ? cap - m : step;
        tl_status_t st = as_int ? tl_iter_next_batch(it, rd_t64 + m, rd_h + m, want, &got)
                                : tl_iter_next_batch_f64(it, rd_ts + m, rd_h + m, want, &got);
        if (st == TL_EOF) break;
        if (st != TL_OK) TL_FAIL_("next_batch -> %d", st);
        for (size_t i = 0; as_int && i < got; i++) rd_ts[m + i] = (double)rd_t64[m + i];
        m += got;
    }
    tl_iter_destroy(it);
    *out = m;
}

static void same_records(const char *how, int64_t lo, int64_t hi, size_t cap, size_t n, size_t m) {
    if (n != m) TL_FAIL_("%s [%" PRId64 ", %" PRId64 "] cap %zu: %zu records, merge %zu", how, lo, hi, cap, n, m);
    for (size_t i = 0; i < n && i < m; i++) {
        if (rd_ts[i] != ref_ts[i] || rd_h[i] != ref_h[i]) {
            TL_FAIL_("%s [%" PRId64 ", %" PRId64 "] cap %zu record %zu: (%.17g, %" PRIu64
                     ") vs (%.17g, %" PRIu64 ")", how, lo, hi, cap, i, rd_ts[i], rd_h[i], ref_ts[i], ref_h[i]);
        }
    }
}

static void same_as_merge(tl_snapshot_t *s, int64_t lo, int64_t hi, size_t cap, size_t step) {
    tl_read_plan_t rp;
    CHECK_OK(tl_snapshot_read_plan(s, &rp));
    tl_merge_t *mg = NULL;
    size_t m = 0;
    CHECK_OK(tl_merge_open(NULL, rp.srcs, rp.nsrc, rp.tombs, lo, hi, &mg));
    while (m < cap) {
        size_t got = 0;
        if (tl_merge_next_f64(mg, ref_ts + m, ref_h + m, cap - m, &got) != TL_OK) break;
        m += got;
    }
    tl_merge_close(mg);
    size_t n = 99999;
    CHECK_OK(tl_snapshot_read_f64(s, (double)lo, (double)hi, rd_ts, rd_h, (uint32_t)cap, &n));
    same_records("read", lo, hi, cap, n, m);
    iter_read(s, lo, hi, cap, step, false, &n);
    same_records("iterator", lo, hi, cap, n, m);
    iter_read(s, lo, hi, cap, step, true, &n);
    same_records("int64 iterator", lo, hi, cap, n, m);
}

/* Many ranges of the log's current state: random ones, and ones that start or end on
 * miniblock (64) and page (1024) edges and one record either side, with caps that end inside,
 * at and past a miniblock. */
static void ranges_agree(tl_timelog_t *tl, uint64_t *rng, int64_t tmin, int64_t tmax) {
    static const size_t caps[] = {1, 7, 63, 64, 65, 200, 5000};
    static const size_t steps[] = {1, 5, 63, 64, 65, 1000, 5000};
    static const int64_t widths[] = {0, 1, 2, 63, 64, 65, 100, 1000, 4000};
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    for (int q = 0; q < 3000 && !tl_t_cur_failed; q++) {
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        uint64_t r = *rng;
        int64_t span = tmax - tmin + 20, lo = tmin - 10 + (int64_t)(r % (uint64_t)span);
        if (q % 3 == 1) lo = tmin + (int64_t)((r >> 20) % 40) * 64 + (int64_t)((r >> 8) % 3) - 1;
        if (q % 3 == 2) lo = tmin + (int64_t)((r >> 20) % 10) * 1024 + (int64_t)((r >> 8) % 3) - 1;
        int64_t hi = lo + widths[(r >> 32) % 9] + (q % 2 ? (int64_t)((r >> 40) % 3) - 1 : 0);
        same_as_merge(s, lo, hi, caps[(r >> 48) % 7], steps[(r >> 56) % 7]);
    }
    tl_snapshot_release(s);
}

TL_TEST(read_f64_without_a_merge_matches_the_merge) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 1024; /* 16 miniblocks a packed page */
    c.memtable_records = 4096;
    c.value_kind = TL_VALUES_F64;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    uint64_t rng = 88172645463325252ull;
    /* Three records a timestamp on average, 5% up to 500 late, negative and positive ts. */
    int64_t t = -15000, tmin = t;
    for (uint64_t i = 0; i < 40000; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int64_t ts = (rng % 100) < 5 ? t - 1 - (int64_t)((rng >> 8) % 500) : (t += (rng >> 8) % 3 == 0);
        double v = (double)(i % 1000) / 256.0;
        uint64_t bits;
        memcpy(&bits, &v, 8);
        tl_status_t st = tl_append(tl, ts, bits); /* EBUSY: accepted, maintenance is due */
        CHECK(st == TL_OK || st == TL_EBUSY);
        if (st == TL_EBUSY) CHECK_OK(tl_flush(tl));
        if (ts < tmin) tmin = ts;
    }
    /* The memtable and L0 runs overlap: reads merge. */
    ranges_agree(tl, &rng, tmin, t);
    if (tl_t_cur_failed) return;
    CHECK_OK(tl_compact(tl));
    tl_stats_t z;
    CHECK_OK(tl_stats(tl, &z));
    /* One L1 chain, packed but for its last page (not full): both kinds read directly. */
    CHECK(z.pages_packed > 0 && z.pages_packed + 1 >= z.pages);
    ranges_agree(tl, &rng, tmin, t);
    if (tl_t_cur_failed) return;
    /* A tail in the memtable past L1 (its own source), then one record inside L1's range. */
    for (int64_t i = 1; i <= 3000; i++) {
        tl_status_t st = tl_append(tl, t + i / 2, (uint64_t)i);
        CHECK(st == TL_OK || st == TL_EBUSY);
    }
    ranges_agree(tl, &rng, tmin, t + 1500);
    if (tl_t_cur_failed) return;
    CHECK_OK(tl_append(tl, tmin + 5000, 42));
    ranges_agree(tl, &rng, tmin, t + 1500);
    if (tl_t_cur_failed) return;
    /* Tombstones over part of L1: ranges meeting them merge, the others stay direct. */
    CHECK_OK(tl_flush(tl));
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_delete_range(tl, tmin + 2000, tmin + 2300));
    CHECK_OK(tl_delete_range(tl, tmin + 7000, tmin + 7001));
    ranges_agree(tl, &rng, tmin, t + 1500);
    if (tl_t_cur_failed) return;
    /* Retention over those: a range that starts under it reads directly from past its end
     * (or nothing, when it ends there too)... */
    CHECK_OK(tl_delete_before(tl, tmin + 9000));
    ranges_agree(tl, &rng, tmin, t + 1500);
    if (tl_t_cur_failed) return;
    /* ...unless a record written after the delete lies there: it is visible, so it merges. */
    CHECK_OK(tl_append(tl, tmin + 8000, 43));
    ranges_agree(tl, &rng, tmin, t + 1500);
    tl_close(tl);
}

int main(void) {
    RUN(read_f64_matches_iter_and_stops_at_cap);
    RUN(bounds_infinity_reach_int64_ends_and_bad_bounds_fail);
    RUN(snapshot_read_f64_is_isolated_from_later_writes);
    RUN(read_ex_reverse_returns_the_newest_first);
    RUN(read_f64_without_a_merge_matches_the_merge);
    return tl_test_done("oneshot_test");
}
