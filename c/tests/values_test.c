/*
 * values_test.c — byte values (values.c, vstore.c) through the public API: round trips of
 * empty, small and multi-MiB values in and out of order, the checks (other append functions
 * refused, descending ends, bad handles, a small buffer), all-or-nothing
 * under injected ENOMEM (no value left behind, every byte freed at close), and release:
 * values of records dropped by retention are freed, chunk memory with them, but only once no
 * snapshot older than the drop is left, and a random model of appends, deletes, compactions
 * and snapshots whose every read is checked byte for byte.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "timelog.h"
#include "vstore.h"

static tl_timelog_t *open_bytes(const tl_allocator_t *a) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.value_kind = TL_VALUES_BYTES;
    c.page_records = 64;
    c.memtable_records = 256;
    if (a) c.allocator = *a;
    tl_timelog_t *tl = NULL;
    return tl_open(&c, &tl) == TL_OK ? tl : NULL;
}

/* The deterministic value of record k: k % 23 bytes (some empty), each derived from k. */
static uint32_t val_of(uint64_t k, uint8_t *out) {
    uint32_t len = (uint32_t)(k % 23);
    for (uint32_t i = 0; i < len; i++) out[i] = (uint8_t)(k * 31 + i * 7);
    return len;
}

/* Appends records [k0, k0 + n) at ts = key_ts(k) in one call. */
static int append_keys(tl_timelog_t *tl, uint64_t k0, uint32_t n, int64_t (*key_ts)(uint64_t)) {
    int64_t *ts = malloc(n * sizeof *ts);
    uint32_t *ends = malloc(n * sizeof *ends);
    uint8_t *data = malloc((size_t)n * 23);
    uint32_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        ts[i] = key_ts(k0 + i);
        at += val_of(k0 + i, data + at);
        ends[i] = at;
    }
    int st = tl_append_bytes(tl, ts, data, ends, n, 0);
    if (st == TL_EBUSY) st = TL_OK; /* accepted: maintenance is behind (manual mode) */
    free(ts);
    free(ends);
    free(data);
    return st;
}

static int64_t ts_id(uint64_t k) { return (int64_t)k; }

/* Reads [lo, hi) of s and checks every value against val_of(ts / div): the record's key. */
static bool check_keys(tl_timelog_t *tl, tl_snapshot_t *s, int64_t lo, int64_t hi, int64_t div,
                       uint64_t *count) {
    enum { B = 500 };
    int64_t ts[B];
    uint64_t h[B];
    uint32_t ends[B];
    static uint8_t buf[B * 23];
    uint8_t want[23];
    tl_iter_t *it = NULL;
    if (tl_iter_range(s, lo, hi, &it) != TL_OK) return false;
    bool ok = true;
    *count = 0;
    for (;;) {
        size_t n = 0;
        int st = tl_iter_next_batch(it, ts, h, B, &n);
        if (st == TL_EOF || n == 0) break;
        uint64_t need = 0;
        if (tl_values_read(tl, h, (uint32_t)n, buf, sizeof buf, ends, &need) != TL_OK) ok = false;
        for (size_t i = 0; ok && i < n; i++) {
            uint32_t start = i ? ends[i - 1] : 0, len = val_of((uint64_t)(ts[i] / div), want);
            ok = ends[i] - start == len && memcmp(buf + start, want, len) == 0;
        }
        *count += n;
        if (!ok) break;
    }
    tl_iter_destroy(it);
    return ok;
}

static bool check_range(tl_timelog_t *tl, tl_snapshot_t *s, int64_t lo, int64_t hi,
                        uint64_t *count) {
    return check_keys(tl, s, lo, hi, 1, count);
}

TL_TEST(values_round_trip) {
    tl_timelog_t *tl = open_bytes(NULL);
    CHECK(tl != NULL);
    CHECK_OK(append_keys(tl, 0, 3000, ts_id));
    CHECK_OK(append_keys(tl, 5000, 10, ts_id));
    CHECK_OK(append_keys(tl, 3000, 2000, ts_id)); /* behind the newest: out of order */
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    uint64_t n = 0;
    CHECK(check_range(tl, s, INT64_MIN, INT64_MAX, &n));
    CHECK_EQ_U64(n, 5010);
    tl_snapshot_release(s);
    CHECK_OK(tl_compact(tl)); /* flushed, packed: the handles travel through the codecs */
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK(check_range(tl, s, INT64_MIN, INT64_MAX, &n));
    CHECK_EQ_U64(n, 5010);
    tl_snapshot_release(s);
    uint64_t vs[4];
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], 5010);
    CHECK_EQ_U64(vs[3], 0);
    tl_close(tl);
}

TL_TEST(values_large_and_empty) {
    tl_timelog_t *tl = open_bytes(NULL);
    CHECK(tl != NULL);
    size_t big = (3u << 20) + 5; /* larger than a chunk: its own chunk */
    uint8_t *data = malloc(big + 2);
    for (size_t i = 0; i < big + 2; i++) data[i] = (uint8_t)(i * 13 + 1);
    int64_t ts[3] = {10, 20, 30};
    uint32_t ends[3] = {0, (uint32_t)big, (uint32_t)big + 2}; /* empty, big, two bytes */
    CHECK_OK(tl_append_bytes(tl, ts, data, ends, 3, 0));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    int64_t rts[3];
    uint64_t h[3], total = 0;
    size_t n = 0;
    uint8_t *out = malloc(big + 2);
    uint32_t rends[3];
    uint64_t need = 0;
    CHECK_OK(tl_snapshot_at(s, 20, h, 3, &total));
    CHECK_EQ_U64(total, 1);
    tl_snapshot_release(s);
    tl_iter_t *it = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK_OK(tl_iter_since(s, 0, &it));
    CHECK_OK(tl_iter_next_batch(it, rts, h, 3, &n));
    CHECK_EQ_U64(n, 3);
    /* The big value has a chunk of its own; the small ones share the chunk taking appends. */
    CHECK(h[0] >> 32 == h[2] >> 32 && h[1] >> 32 != h[0] >> 32);
    /* Too small a buffer: EOVERFLOW with the size needed, nothing written. */
    CHECK_ST(tl_values_read(tl, h, 3, out, 100, rends, &need), TL_EOVERFLOW);
    CHECK_EQ_U64(need, big + 2);
    CHECK_OK(tl_values_read(tl, h, 3, out, big + 2, rends, &need));
    CHECK_EQ_U64(rends[0], 0);
    CHECK_EQ_U64(rends[1], big);
    CHECK_EQ_U64(rends[2], big + 2);
    CHECK(memcmp(out, data, big + 2) == 0);
    /* A handle that names nothing: a chunk never made, an offset past the end. */
    uint64_t bad[2] = {(uint64_t)999 << 32, h[2] + (1u << 19)};
    CHECK_ST(tl_values_read(tl, bad, 1, out, big, rends, &need), TL_EINVAL);
    CHECK_ST(tl_values_read(tl, bad + 1, 1, out, big, rends, &need), TL_EINVAL);
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    uint64_t vs[4];
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[1], big + 2 + 12);
    CHECK(vs[2] >= big + 4);
    free(out);
    free(data);
    tl_close(tl);
}

TL_TEST(values_checks) {
    tl_timelog_t *tl = open_bytes(NULL);
    CHECK(tl != NULL);
    int64_t ts[2] = {1, 2};
    uint64_t h[2] = {0, 0};
    double tf[2] = {1, 2};
    uint8_t data[4] = {1, 2, 3, 4};
    uint32_t down[2] = {3, 1};
    CHECK_ST(tl_append(tl, 1, 0), TL_EINVAL); /* a bytes log's handles are the engine's */
    CHECK_ST(tl_append_f64(tl, 1, 0), TL_EINVAL);
    CHECK_ST(tl_append_batch(tl, ts, h, 2, 0), TL_EINVAL);
    CHECK_ST(tl_append_batch_f64(tl, tf, h, 2, 0), TL_EINVAL);
    CHECK_ST(tl_append_bytes(tl, ts, data, down, 2, 0), TL_EINVAL); /* ends descend */
    CHECK_ST(tl_append_bytes(tl, ts, data, down, 2, 1), TL_EINVAL); /* flags */
    double frac[2] = {1.5, 2};
    uint32_t ends[2] = {1, 4};
    CHECK_ST(tl_append_bytes_f64(tl, frac, data, ends, 2, 0), TL_EINVAL);
    CHECK_OK(tl_append_bytes_f64(tl, tf, data, ends, 2, TL_F64_SAFE));
    CHECK_OK(tl_append_bytes(tl, ts, NULL, NULL, 0, 0));
    uint64_t vs[4];
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], 2); /* the refused calls stored nothing */
    CHECK_EQ_U64(vs[1], 2 * 4 + 4);
    tl_close(tl);
    /* Another kind of log has no value store. */
    tl_config_t c;
    tl_config_init_defaults(&c);
    CHECK_OK(tl_open(&c, &tl));
    CHECK_ST(tl_append_bytes(tl, ts, data, ends, 2, 0), TL_EINVAL);
    uint64_t need;
    uint32_t e[2];
    CHECK_ST(tl_values_read(tl, h, 1, data, 4, e, &need), TL_EINVAL);
    CHECK_ST(tl_values_stats(tl, vs), TL_EINVAL);
    tl_close(tl);
}

/* Every allocation of an append failing in turn: the call inserts nothing and stores no value
 * (stats and a read agree), a later append works, and close frees every byte. */
TL_TEST(values_enomem_all_or_nothing) {
    for (long fail = 1; fail < 400; fail++) {
        fail_alloc_t fa = {0, 0, 0, 0};
        tl_allocator_t a = {&fa, fa_alloc, fa_free};
        tl_timelog_t *tl = open_bytes(&a);
        CHECK(tl != NULL);
        CHECK_OK(append_keys(tl, 0, 40, ts_id));
        fa.fail_at = fa.calls + fail;
        int st = append_keys(tl, 1000, 1500, ts_id); /* crosses a seal and a chunk or two */
        fa.fail_at = 0;
        uint64_t vs[4];
        CHECK_OK(tl_values_stats(tl, vs));
        tl_snapshot_t *s = NULL;
        CHECK_OK(tl_snapshot_acquire(tl, &s));
        uint64_t n = 0;
        CHECK(check_range(tl, s, INT64_MIN, INT64_MAX, &n));
        tl_snapshot_release(s);
        if (st == TL_ENOMEM) {
            CHECK_EQ_U64(n, 40);
            CHECK_EQ_U64(vs[0], 40);
        } else {
            CHECK_OK(st);
            CHECK_EQ_U64(n, 1540);
            CHECK_EQ_U64(vs[0], 1540);
        }
        CHECK_OK(append_keys(tl, 5000, 10, ts_id));
        tl_close(tl);
        CHECK_EQ_I64(fa.live_blocks, 0);
        CHECK_EQ_I64(fa.live_bytes, 0);
        if (st != TL_ENOMEM) break; /* past the last allocation the call makes */
    }
}

static int64_t ts_spread(uint64_t k) { return (int64_t)(k * 10); }

/* Retention frees values and their chunks, but a snapshot older than the drop keeps every
 * value it can yield readable until it is released. */
TL_TEST(values_released_after_retention_and_snapshots) {
    tl_timelog_t *tl = open_bytes(NULL);
    CHECK(tl != NULL);
    const uint32_t N = 200000; /* ~2.6 MB of values: three chunks */
    for (uint32_t k = 0; k < N; k += 4000) CHECK_OK(append_keys(tl, k, 4000, ts_spread));
    CHECK_OK(tl_compact(tl));
    uint64_t before[4], vs[4];
    CHECK_OK(tl_values_stats(tl, before));
    CHECK_EQ_U64(before[0], N);
    tl_snapshot_t *old = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &old));
    CHECK_OK(tl_delete_before(tl, (int64_t)N * 10)); /* everything */
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], N); /* pinned by the old snapshot */
    CHECK_EQ_U64(vs[3], N);
    uint64_t n = 0;
    CHECK(check_keys(tl, old, INT64_MIN, INT64_MAX, 10, &n));
    CHECK_EQ_U64(n, N);
    tl_snapshot_release(old);
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], 0);
    CHECK_EQ_U64(vs[1], 0);
    CHECK_EQ_U64(vs[3], 0);
    CHECK(vs[2] <= (1u << 20)); /* at most the chunk taking appends */
    CHECK(before[2] >= 3u << 20);
    /* Half the data, then retention of the older half: about half the chunks go. */
    for (uint32_t k = 0; k < N; k += 4000) CHECK_OK(append_keys(tl, N + k, 4000, ts_spread));
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_delete_before(tl, (int64_t)(N + N / 2) * 10));
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], N / 2);
    CHECK(vs[2] <= before[2] / 2 + (2u << 20));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK(check_keys(tl, s, INT64_MIN, INT64_MAX, 10, &n));
    CHECK_EQ_U64(n, N / 2);
    tl_snapshot_release(s);
    tl_close(tl);
}

/* Random appends (in and out of order), deletes, flushes, compactions and snapshots held
 * across them; every snapshot is read in full and checked when it is released, and at the
 * end the store holds exactly the visible records' values once every snapshot is gone. */
TL_TEST(values_random_model) {
    tl_t_rng = 0x9e3779b97f4a7c15ull;
    tl_timelog_t *tl = open_bytes(NULL);
    CHECK(tl != NULL);
    enum { SNAPS = 4 };
    tl_snapshot_t *snap[SNAPS] = {0};
    uint64_t next = 0;
    for (int step = 0; step < 3000; step++) {
        uint64_t r = tl_t_rnd() % 100;
        if (r < 60) {
            uint32_t n = 1 + (uint32_t)(tl_t_rnd() % 200);
            CHECK_OK(append_keys(tl, next, n, ts_id));
            next += n;
        } else if (r < 70) {
            int64_t a = (int64_t)(tl_t_rnd() % (next + 1)), b = a + (int64_t)(tl_t_rnd() % 500);
            CHECK_OK(tl_delete_range(tl, a, b));
        } else if (r < 80) {
            CHECK_OK(tl_flush(tl));
        } else if (r < 85) {
            CHECK_OK(tl_compact(tl));
        } else {
            int k = (int)(tl_t_rnd() % SNAPS);
            if (snap[k]) {
                uint64_t n = 0;
                CHECK(check_range(tl, snap[k], INT64_MIN, INT64_MAX, &n));
                tl_snapshot_release(snap[k]);
                snap[k] = NULL;
            } else {
                CHECK_OK(tl_snapshot_acquire(tl, &snap[k]));
            }
        }
    }
    for (int k = 0; k < SNAPS; k++) {
        uint64_t n = 0;
        if (snap[k]) CHECK(check_range(tl, snap[k], INT64_MIN, INT64_MAX, &n));
        tl_snapshot_release(snap[k]);
    }
    CHECK_OK(tl_compact(tl));
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    uint64_t visible = 0, vs[4];
    CHECK(check_range(tl, s, INT64_MIN, INT64_MAX, &visible));
    tl_snapshot_release(s);
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], visible); /* compacted: every hidden record dropped, its value freed */
    CHECK_EQ_U64(vs[3], 0);
    tl_close(tl);
}

/* The value store's chunk table as recovery uses it: chunks put back at scattered ids, some
 * released (the table shifts its freed front out), then a put far past the end. Entries past
 * the table's end must be empty when it grows in place: a stale copy left by the shift made
 * chunk 16 alias chunk 13 (bytes overwritten, a double free at destroy). */
TL_TEST(vstore_table_grows_clean) {
    tl_vstore_t *vs = NULL;
    CHECK_OK(tl_vstore_create(NULL, &vs));
    uint8_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, entry[12];
    uint32_t len = 8;
    memcpy(entry, &len, 4);
    memcpy(entry + 4, v, 8);
    uint64_t h[4];
    for (uint32_t id = 10; id < 14; id++) {
        CHECK_OK(tl_vstore_put(vs, id, 0, entry, sizeof entry));
        h[id - 10] = (uint64_t)id << 32;
    }
    CHECK_OK(tl_vstore_ref(vs, h, 4));
    tl_vstore_retire(vs, h, 3); /* no manifest is tracked: released at once, 10-12 freed */
    uint8_t other[12];
    memcpy(other, entry, 4);
    memset(other + 4, 0xee, 8);
    CHECK_OK(tl_vstore_put(vs, 16, 0, other, sizeof other));
    uint8_t buf[16];
    uint32_t ends[1];
    uint64_t need = 0;
    CHECK_OK(tl_vstore_read(vs, &h[3], 1, buf, sizeof buf, ends, &need));
    CHECK(ends[0] == 8 && memcmp(buf, v, 8) == 0); /* chunk 13 kept its bytes */
    uint64_t h14 = (uint64_t)14 << 32, h16 = (uint64_t)16 << 32;
    CHECK_ST(tl_vstore_read(vs, &h14, 1, buf, sizeof buf, ends, &need), TL_EINVAL);
    CHECK_OK(tl_vstore_read(vs, &h16, 1, buf, sizeof buf, ends, &need));
    CHECK(buf[0] == 0xee);
    tl_vstats_t st;
    tl_vstore_stats(vs, &st);
    CHECK_EQ_U64(st.values, 1);
    tl_vstore_destroy(vs);
}

int main(void) {
    RUN(values_round_trip);
    RUN(values_large_and_empty);
    RUN(values_checks);
    RUN(values_enomem_all_or_nothing);
    RUN(values_released_after_retention_and_snapshots);
    RUN(values_random_model);
    RUN(vstore_table_grows_clean);
    return tl_test_done("values_test");
}
