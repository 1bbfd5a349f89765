/*
 * durable_test.c — durable logs on the real file system: what is written survives close and
 * reopen exactly (differentially against the reference model, over random appends, late
 * records, deletes, checkpoints and reopens), sync modes and the durable seq, the directory
 * lock, settings that must match, and damage that must be refused (or repaired on request).
 * Crash and fault behaviour over the simulated file system: durable_crash_test.c.
 */
#include <dirent.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "test.h"
#include "timelog.h"

static char g_dir[512];

/* A fresh empty directory under /tmp for each test. */
static const char *fresh_dir(const char *name) {
    snprintf(g_dir, sizeof g_dir, "/tmp/tl_durable_%d_%s", (int)getpid(), name);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) return NULL;
    return g_dir;
}

static void remove_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)!system(cmd);
}

static tl_config_t dcfg(const char *dir) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.page_records = 64;
    c.memtable_records = 1024;
    c.ooo_head_records = 64;
    c.window_size = 5000;
    c.maint_interval_ms = 5;
    tl_config_set_path(&c, dir, (uint32_t)strlen(dir));
    return c;
}

static tl_timelog_t *open_ok(const tl_config_t *c) {
    tl_timelog_t *tl = NULL;
    char err[512];
    tl_status_t st = tl_open_ex(c, &tl, err, sizeof err);
    if (st != TL_OK) printf("  open failed: %s (%s)\n", tl_strerror(st), err);
    return tl;
}

/* Every visible record, in order. */
static void dump(tl_timelog_t *tl, mdl_vec_t *out) {
    out->n = 0;
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return;
    if (tl_iter_since(s, INT64_MIN, &it) == TL_OK) {
        int64_t ts[512];
        uint64_t h[512];
        size_t k = 0;
        while (tl_iter_next_batch(it, ts, h, 512, &k) == TL_OK) {
            for (size_t i = 0; i < k; i++) mdl_vec_push(out, ts[i], h[i]);
        }
        tl_iter_destroy(it);
    }
    tl_snapshot_release(s);
}

/* The first index where a and b differ, or -1. */
static long diff_at(const mdl_vec_t *a, const mdl_vec_t *b) {
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        if (a->v[i].ts != b->v[i].ts || a->v[i].h != b->v[i].h) return (long)i;
    }
    return a->n == b->n ? -1 : (long)n;
}

/* A write call: OK, or EBUSY (accepted under backpressure, e.g. under TSan's slowdown). */
#define CHECK_W(expr)                                                                        \
    do {                                                                                    \
        int w_ = (int)(expr);                                                               \
        if (w_ != TL_OK && w_ != TL_EBUSY) TL_FAIL_("%s -> %d", #expr, w_);                  \
    } while (0)

#define CHECK_SAME(tl, model)                                                               \
    do {                                                                                    \
        mdl_vec_t got_ = {0};                                                               \
        dump(tl, &got_);                                                                    \
        long d_ = diff_at(&got_, model);                                                    \
        size_t gn_ = got_.n;                                                                \
        mdl_vec_free(&got_);                                                                \
        if (d_ >= 0) TL_FAIL_("log differs from model at %ld (log %zu, model %zu records)", \
                              d_, gn_, (model)->n);                                         \
    } while (0)

/* Closes tl, reopens the directory with cfg into tl, checks it holds exactly the model and
 * reads its stats into *stats_out. */
#define REOPEN_SAME(tl, cfg, model, stats_out)                                              \
    do {                                                                                    \
        tl_close(tl);                                                                       \
        (tl) = open_ok(cfg);                                                                \
        CHECK((tl) != NULL);                                                                \
        CHECK_SAME(tl, model);                                                              \
        CHECK_OK(tl_stats(tl, stats_out));                                                  \
    } while (0)

static int count_files(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

TL_TEST(roundtrip_replay) {
    const char *dir = fresh_dir("roundtrip");
    tl_config_t c = dcfg(dir);
    c.idle_ms = 0; /* no idle checkpoint: everything comes back from the WAL */
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    mdl_vec_t m = {0};
    uint64_t rng = 7;
    for (int i = 0; i < 5000; i++) {
        int64_t ts = i * 10 - (int64_t)mdl_below(&rng, 3000); /* late by up to 300 records */
        CHECK_W(tl_append(tl, ts, (uint64_t)i));
        mdl_insert(&m, ts, (uint64_t)i);
    }
    tl_stats_t s;
    REOPEN_SAME(tl, &c, &m, &s);
    CHECK_EQ_U64(s.replayed_records, 5000); /* no checkpoint yet: all from the WAL */
    CHECK(s.wal_bytes > 5000 * 16);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
    mdl_vec_free(&m);
    remove_dir(dir);
}

TL_TEST(checkpoint_then_reopen) {
    const char *dir = fresh_dir("ckpt");
    tl_config_t c = dcfg(dir);
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    mdl_vec_t m = {0};
    for (int i = 0; i < 20000; i++) {
        CHECK_W(tl_append(tl, i, (uint64_t)i * 3));
        mdl_insert(&m, i, (uint64_t)i * 3);
    }
    CHECK_OK(tl_checkpoint(tl));
    CHECK_EQ_I64(count_files(dir, "MANIFEST"), 1);
    CHECK(count_files(dir, "seg-") >= 1);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    /* 313 pages, packed 32 at a time with flushes between: all of them, the newest too. */
    CHECK_EQ_U64(s.l0_segments, 0);
    CHECK_EQ_U64(s.pages_packed, s.pages);
    CHECK(s.pages >= 20000 / 64);
    for (int i = 20000; i < 20100; i++) {
        CHECK_W(tl_append(tl, i, 1));
        mdl_insert(&m, i, 1);
    }
    CHECK_W(tl_delete_range(tl, 100, 15000)); /* most of the checkpointed file */
    mdl_delete(&m, 100, 14999, NULL, NULL);
    CHECK_OK(tl_stats(tl, &s));
    CHECK(s.checkpoints_total >= 1); /* idle maintenance may add its own */
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_SAME(tl, &m);
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.replayed_records, 100); /* only what came after the checkpoint */
    /* A second checkpoint after the delete gives the deleted pages' space back. */
    uint64_t before = s.disk_bytes;
    CHECK_OK(tl_checkpoint(tl));
    CHECK_OK(tl_stats(tl, &s));
    CHECK(s.disk_bytes < before);
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_SAME(tl, &m);
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.replayed_records, 0);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
    mdl_vec_free(&m);
    remove_dir(dir);
}

/* Random appends (single, batches, late records), deletes of every kind, checkpoints and
 * reopens, with a small WAL segment and checkpoint threshold so that background checkpoints,
 * WAL truncation and segment-file garbage collection all run; after every reopen the log must
 * equal the model. */
TL_TEST(random_differential) {
    const char *dir = fresh_dir("random");
    tl_config_t c = dcfg(dir);
    c.wal_segment_bytes = 16384;
    c.checkpoint_bytes = 65536;
    mdl_vec_t m = {0};
    uint64_t rng = 42;
    int64_t now = 1000000;
    uint64_t hseq = 1;
    static int64_t ts[3000];
    static uint64_t hh[3000];
    static mdl_rec_t recs[3000];
    for (int round = 0; round < 12; round++) {
        if (round % 4 == 3) c.durability = TL_DURABILITY_SYNC;
        else if (round % 4 == 2) c.durability = TL_DURABILITY_NONE;
        else c.durability = TL_DURABILITY_INTERVAL;
        tl_timelog_t *tl = open_ok(&c);
        CHECK(tl != NULL);
        if (getenv("TL_DEBUG")) printf("round %d\n", round);
        CHECK_SAME(tl, &m);
        CHECK_OK(tl_validate(tl));
        int ops = round % 4 == 3 ? 60 : 400;
        for (int op = 0; op < ops; op++) {
            uint64_t r = mdl_below(&rng, 100);
            if (r < 55) {
                size_t n = 1 + (size_t)mdl_below(&rng, mdl_one_in(&rng, 10) ? 3000 : 40);
                for (size_t i = 0; i < n; i++) {
                    now += (int64_t)mdl_below(&rng, 20);
                    ts[i] = mdl_one_in(&rng, 5) ? now - (int64_t)mdl_below(&rng, 10000) : now;
                    hh[i] = hseq++;
                    recs[i] = (mdl_rec_t){ts[i], hh[i]};
                }
                CHECK_W(tl_append_batch(tl, ts, hh, n, 0));
                mdl_insert_batch(&m, recs, n);
            } else if (r < 80) {
                int64_t t = now - (int64_t)mdl_below(&rng, 3000);
                CHECK_W(tl_append(tl, t, hseq));
                mdl_insert(&m, t, hseq++);
            } else if (r < 88) {
                int64_t a = now - (int64_t)mdl_below(&rng, 40000), b = a + (int64_t)mdl_below(&rng, 500);
                CHECK_W(tl_delete_range(tl, a, b));
                if (b > a) mdl_delete(&m, a, b - 1, NULL, NULL);
            } else if (r < 91) {
                int64_t cut = now - 30000 - (int64_t)mdl_below(&rng, 20000);
                CHECK_W(tl_delete_before(tl, cut));
                mdl_delete(&m, INT64_MIN, cut - 1, NULL, NULL);
            } else if (r < 93) {
                int64_t t = now - (int64_t)mdl_below(&rng, 1000);
                CHECK_W(tl_delete_at(tl, t));
                mdl_delete(&m, t, t, NULL, NULL);
            } else if (r < 95) {
                CHECK_OK(tl_checkpoint(tl));
            } else if (r < 97) {
                CHECK_OK(tl_sync(tl));
                uint64_t dseq = 0;
                tl_stats_t s;
                CHECK_OK(tl_stats(tl, &s));
                CHECK_OK(tl_durable_seq(tl, &dseq));
                CHECK(dseq >= s.seq);
            } else {
                CHECK_OK(tl_flush(tl));
            }
        }
        CHECK_SAME(tl, &m);
        if (getenv("TL_DEBUG")) {
            tl_stats_t s0;
            tl_stats(tl, &s0);
            printf("  end round %d: %zu records, seq %llu ckpts %llu\n", round, m.n,
                   (unsigned long long)s0.seq, (unsigned long long)s0.checkpoints_total);
        }
        tl_close(tl);
    }
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_SAME(tl, &m);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK(s.wal_bytes < 4 * 65536 + 16384); /* truncated behind the checkpoints */
    tl_close(tl);
    mdl_vec_free(&m);
    remove_dir(dir);
}

TL_TEST(sync_modes_durable_seq) {
    const char *dir = fresh_dir("sync");
    tl_config_t c = dcfg(dir);
    c.durability = TL_DURABILITY_SYNC;
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    uint64_t d = 0;
    for (int i = 0; i < 20; i++) {
        CHECK_W(tl_append(tl, i, 0));
        CHECK_OK(tl_durable_seq(tl, &d));
        CHECK_EQ_U64(d, (uint64_t)i + 1); /* SYNC: durable when the call returns */
    }
    tl_close(tl);
    c.durability = TL_DURABILITY_INTERVAL;
    c.sync_interval_ms = 60000; /* the syncer will not get there on its own */
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_OK(tl_durable_seq(tl, &d));
    CHECK_EQ_U64(d, 20); /* everything recovered is durable */
    CHECK_W(tl_append(tl, 100, 0));
    uint64_t target = 0;
    CHECK_OK(tl_sync_request(tl, &target));
    CHECK_EQ_U64(target, 21);
    for (int i = 0; i < 2000 && d < target; i++) {
        usleep(1000);
        CHECK_OK(tl_durable_seq(tl, &d));
    }
    CHECK_EQ_U64(d, 21); /* the request woke the syncer */
    CHECK_W(tl_append(tl, 101, 0));
    CHECK_OK(tl_sync(tl));
    CHECK_OK(tl_durable_seq(tl, &d));
    CHECK_EQ_U64(d, 22);
    tl_close(tl);
    remove_dir(dir);
}

TL_TEST(lock_and_settings) {
    const char *dir = fresh_dir("lock");
    tl_config_t c = dcfg(dir);
    tl_timelog_t *tl = open_ok(&c), *tl2 = NULL;
    CHECK(tl != NULL);
    char err[512];
    CHECK_ST(tl_open_ex(&c, &tl2, err, sizeof err), TL_ELOCKED);
    CHECK(tl2 == NULL);
    CHECK(strstr(err, dir) != NULL);
    for (int i = 0; i < 100; i++) CHECK_W(tl_append(tl, i, 0));
    CHECK_OK(tl_checkpoint(tl));
    tl_close(tl);
    tl_config_t other = c;
    other.window_size = 7000;
    CHECK_ST(tl_open_ex(&other, &tl2, err, sizeof err), TL_EINVAL);
    CHECK(strstr(err, "window") != NULL);
    other = c;
    other.value_kind = TL_VALUES_F64;
    CHECK_ST(tl_open_ex(&other, &tl2, err, sizeof err), TL_EINVAL);
    /* the refused opens released the lock */
    tl = open_ok(&c);
    CHECK(tl != NULL);
    tl_close(tl);
    CHECK_ST(tl_config_set_path(&c, "a\0b", 3), TL_EINVAL);
    remove_dir(dir);
}

static int flip_byte(const char *path, long off) {
    FILE *f = fopen(path, "r+b");
    if (f == NULL) return -1;
    if (off < 0) {
        fseek(f, 0, SEEK_END);
        off += ftell(f);
    }
    fseek(f, off, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    return 0;
}

static const char *first_file(const char *dir, const char *prefix, char *out, size_t cap) {
    DIR *d = opendir(dir);
    if (d == NULL) return NULL;
    struct dirent *e;
    const char *res = NULL;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            snprintf(out, cap, "%s/%s", dir, e->d_name);
            res = out;
            break;
        }
    }
    closedir(d);
    return res;
}

TL_TEST(damage_refused_or_repaired) {
    const char *dir = fresh_dir("damage");
    tl_config_t c = dcfg(dir);
    tl_timelog_t *tl = open_ok(&c), *tl2 = NULL;
    CHECK(tl != NULL);
    for (int i = 0; i < 3000; i++) CHECK_W(tl_append(tl, i, (uint64_t)i));
    CHECK_OK(tl_checkpoint(tl));
    for (int i = 3000; i < 3400; i++) CHECK_W(tl_append(tl, i, (uint64_t)i));
    tl_close(tl);
    char path[700], err[512];
    /* a damaged segment file: refused, naming the file */
    CHECK(first_file(dir, "seg-", path, sizeof path) != NULL);
    CHECK_OK(flip_byte(path, 200));
    CHECK_ST(tl_open_ex(&c, &tl2, err, sizeof err), TL_ECORRUPT);
    CHECK(strstr(err, "seg-") != NULL);
    c.repair = 1; /* repair never guesses at pages: still refused */
    CHECK_ST(tl_open_ex(&c, &tl2, err, sizeof err), TL_ECORRUPT);
    CHECK_OK(flip_byte(path, 200));
    c.repair = 0;
    /* a damaged manifest: refused */
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    CHECK_OK(flip_byte(path, 40));
    CHECK_ST(tl_open_ex(&c, &tl2, err, sizeof err), TL_ECORRUPT);
    CHECK(strstr(err, "MANIFEST") != NULL);
    CHECK_OK(flip_byte(path, 40));
    /* a damaged WAL record followed by good ones: refused, then repaired to the prefix */
    CHECK(first_file(dir, "wal-", path, sizeof path) != NULL);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    tl = open_ok(&c); /* intact again */
    CHECK(tl != NULL);
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.records, 3400);
    tl_close(tl);
    CHECK(first_file(dir, "wal-", path, sizeof path) != NULL);
    CHECK_OK(flip_byte(path, 64 + 24 + 100)); /* inside the first record after the header */
    CHECK_ST(tl_open_ex(&c, &tl2, err, sizeof err), TL_ECORRUPT);
    CHECK(strstr(err, "wal-") != NULL);
    c.repair = 1;
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_OK(tl_stats(tl, &s));
    CHECK(s.recovery_cut_bytes > 0);
    CHECK(s.records >= 3000 && s.records < 3400); /* the checkpoint, plus a prefix */
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
    remove_dir(dir);
}

/* A batch larger than one WAL record (small segments) is split into chunks and comes back
 * whole; f64 values keep their bits. */
TL_TEST(big_batch_chunks_f64) {
    const char *dir = fresh_dir("chunks");
    tl_config_t c = dcfg(dir);
    c.wal_segment_bytes = 8192;
    c.value_kind = TL_VALUES_F64;
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    enum { N = 5000 };
    static int64_t ts[N];
    static uint64_t h[N];
    mdl_vec_t m = {0};
    for (int i = 0; i < N; i++) {
        ts[i] = (i * 7919) % N; /* unsorted */
        h[i] = mdl_f64_bits(i * 0.25);
        mdl_insert(&m, ts[i], h[i]);
    }
    CHECK_W(tl_append_batch(tl, ts, h, N, 0));
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_SAME(tl, &m);
    CHECK_OK(tl_checkpoint(tl));
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_SAME(tl, &m);
    /* Pages loaded from segment files carry their value summaries: aggregates over them
     * (10 buckets, each of whole pages and cut ones) equal the model's. */
    double out[3 * 10], want_sum[10] = {0}, want_max[10], cnt[10] = {0};
    for (int b = 0; b < 10; b++) want_max[b] = -1;
    for (size_t i = 0; i < m.n; i++) {
        double v;
        memcpy(&v, &m.v[i].h, sizeof v);
        int b = (int)(m.v[i].ts / 500);
        cnt[b] += 1;
        want_sum[b] += v;
        if (v > want_max[b]) want_max[b] = v;
    }
    CHECK_OK(tl_aggregate_f64(tl, -INFINITY, INFINITY, 0, 500, 10,
                              TL_AGG_COUNT | TL_AGG_SUM | TL_AGG_MAX, out));
    for (int b = 0; b < 10; b++) {
        CHECK(out[b] == cnt[b]);
        CHECK(out[10 + b] == want_sum[b]); /* quarters: exact in any order */
        CHECK(out[20 + b] == want_max[b]);
    }
    /* ... and their miniblock summaries (computed on load): 250 buckets of 20 records cut
     * almost every miniblock, 50 of 100 hold whole ones; ts are distinct, so first / last are
     * the values at the bucket's first and last ts. */
    enum { FB = 250 };
    static double fo[4 * FB];
    for (int64_t every = 20; every <= 100; every += 80) {
        uint32_t nb = (uint32_t)(N / every);
        CHECK_OK(tl_aggregate_f64(tl, -INFINITY, INFINITY, 0, (double)every, nb,
                                  TL_AGG_SUM | TL_AGG_MIN | TL_AGG_FIRST | TL_AGG_LAST, fo));
        for (uint32_t b = 0; b < nb; b++) {
            double sum = 0, mn = INFINITY, first = NAN, last = NAN;
            for (size_t i = 0; i < m.n; i++) {
                if (m.v[i].ts / every != b) continue;
                double v;
                memcpy(&v, &m.v[i].h, sizeof v);
                sum += v;
                mn = v < mn ? v : mn;
                if (m.v[i].ts == (int64_t)b * every) first = v;
                if (m.v[i].ts == (int64_t)(b + 1) * every - 1) last = v;
            }
            CHECK(fo[b] == sum && fo[nb + b] == mn && fo[2 * nb + b] == first &&
                  fo[3 * nb + b] == last);
        }
    }
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK(s.pages_packed > 0); /* the loaded pages are packed ones */
    tl_close(tl);
    mdl_vec_free(&m);
    remove_dir(dir);
}

/* Batches reach the WAL compressed (APPEND_PACKED) when that saves a quarter, else as they
 * are: rising timestamps with late records and slowly changing values take a few bytes a
 * record and come back exactly, extremes included; random timestamps and values (nothing to
 * save) take their 16 bytes and come back too. Both from the WAL alone (no checkpoint). */
TL_TEST(wal_packs_batches) {
    enum { N = 20000, B = 500 };
    static int64_t ts[N];
    static uint64_t h[N];
    for (int kind = 0; kind < 2; kind++) {
        const char *dir = fresh_dir(kind == 0 ? "packed" : "unpacked");
        tl_config_t c = dcfg(dir);
        c.idle_ms = 0; /* no idle checkpoint: everything comes back from the WAL */
        c.value_kind = TL_VALUES_F64;
        tl_timelog_t *tl = open_ok(&c);
        CHECK(tl != NULL);
        mdl_vec_t m = {0};
        uint64_t rng = 11 + (uint64_t)kind;
        int64_t now = 1700000000000;
        for (int i = 0; i < N; i++) {
            now += (int64_t)mdl_below(&rng, 3);
            ts[i] = mdl_one_in(&rng, 20) ? now - (int64_t)mdl_below(&rng, 10000) : now;
            h[i] = mdl_f64_bits((double)(i % 977) * 0.25 + 100);
            if (kind == 1) {
                ts[i] = (int64_t)mdl_rng_next(&rng);
                h[i] = mdl_rng_next(&rng);
            }
        }
        if (kind == 0) {
            ts[777] = INT64_MIN;
            ts[778] = INT64_MAX;
        }
        for (int i = 0; i < N; i++) mdl_insert(&m, ts[i], h[i]);
        for (int i = 0; i < N; i += B) CHECK_W(tl_append_batch(tl, ts + i, h + i, B, 0));
        tl_stats_t s;
        REOPEN_SAME(tl, &c, &m, &s);
        CHECK_EQ_U64(s.replayed_records, N);
        if (kind == 0) CHECK(s.wal_bytes < (uint64_t)N * 4);
        else CHECK(s.wal_bytes > (uint64_t)N * 16);
        CHECK_OK(tl_validate(tl));
        tl_close(tl);
        mdl_vec_free(&m);
        remove_dir(dir);
    }
}

#if defined(__linux__)
/* Counts the process's threads named `name` (/proc/self/task/<tid>/comm); *batch gets how many
 * of them run under SCHED_BATCH. */
static int named_threads(const char *name, int *batch) {
    int n = 0;
    *batch = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[64] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        bool got = fgets(comm, sizeof comm, f) != NULL;
        fclose(f);
        comm[strcspn(comm, "\n")] = 0;
        if (!got || strcmp(comm, name) != 0) continue;
        n++;
        if (sched_getscheduler((pid_t)atoi(e->d_name)) == SCHED_BATCH) (*batch)++;
    }
    closedir(d);
    return n;
}
#endif

/* The WAL syncer, the maintenance worker and the checkpoint thread are named (bgthread.h)
 * and run as batch threads, so a wake-up of one never preempts the writer (dur.c, worker.c,
 * helper.h say what was measured). */
TL_TEST(background_threads_named_and_batch) {
    const char *dir = fresh_dir("threads");
    tl_config_t c = dcfg(dir); /* "interval": the mode with a syncer */
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
#if defined(__linux__)
    int sync = 0, sync_batch = 0, maint = 0, maint_batch = 0, ckpt = 0, ckpt_batch = 0;
    for (int tries = 0; tries < 200; tries++) { /* each thread names itself when it starts */
        sync = named_threads("tl-sync", &sync_batch);
        maint = named_threads("tl-maint", &maint_batch);
        ckpt = named_threads("tl-ckpt", &ckpt_batch);
        if (sync == 1 && sync_batch == 1 && maint == 1 && maint_batch == 1 && ckpt == 1 &&
            ckpt_batch == 1) {
            break;
        }
        usleep(5000);
    }
    CHECK(sync == 1 && sync_batch == 1);
    CHECK(maint == 1 && maint_batch == 1);
    CHECK(ckpt == 1 && ckpt_batch == 1);
#endif
    tl_close(tl);
#if defined(__linux__)
    int b = 0;
    CHECK(named_threads("tl-sync", &b) == 0 && named_threads("tl-maint", &b) == 0);
    CHECK(named_threads("tl-ckpt", &b) == 0);
#endif
    remove_dir(dir);
}

int main(void) {
    RUN(roundtrip_replay);
    RUN(checkpoint_then_reopen);
    RUN(random_differential);
    RUN(sync_modes_durable_seq);
    RUN(lock_and_settings);
    RUN(damage_refused_or_repaired);
    RUN(big_batch_chunks_f64);
    RUN(wal_packs_batches);
    RUN(background_threads_named_and_batch);
    return tl_test_done("durable_test");
}
