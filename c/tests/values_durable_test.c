/*
 * values_durable_test.c — durable logs of byte values on the real file system: values of every
 * size (empty, small, larger than a chunk) come back byte for byte after close and reopen,
 * from segment files, from the WAL tail and from both; a checkpoint writes again only the
 * chunk that grew; retention gives the disk back; a directory of byte values refuses to open
 * as another kind, and a damaged value chunk fails the open. Crashes and faults at every I/O
 * call: durable_crash_test.c (its bytes scenarios).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "timelog.h"

static char g_dir[512];

static const char *fresh_dir(const char *name) {
    snprintf(g_dir, sizeof g_dir, "/tmp/tl_vdur_%d_%s", (int)getpid(), name);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? g_dir : NULL;
}

static void remove_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)!system(cmd);
}

static tl_config_t vcfg(const char *dir) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.value_kind = TL_VALUES_BYTES;
    c.page_records = 256;
    c.memtable_records = 4096;
    c.window_size = 100000;
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

/* Record k: ts = k, value = k % 37 bytes from k, and 1 in 997 a 1.5 MiB value (own chunk). */
static uint32_t vlen(uint64_t k) { return (uint32_t)(k % 37) + (k % 997 == 5 ? 3u << 19 : 0u); }
static void vfill(uint64_t k, uint8_t *out) {
    for (uint32_t i = 0; i < vlen(k); i++) out[i] = (uint8_t)(k * 29 + i * 3 + 1);
}

static int append_keys(tl_timelog_t *tl, uint64_t k0, uint32_t n) {
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += vlen(k0 + i);
    int64_t *ts = malloc(n * sizeof *ts);
    uint32_t *ends = malloc(n * sizeof *ends);
    uint8_t *data = malloc(total + 1);
    uint32_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        ts[i] = (int64_t)(k0 + i);
        vfill(k0 + i, data + at);
        at += vlen(k0 + i);
        ends[i] = at;
    }
    int st = tl_append_bytes(tl, ts, data, ends, n, 0);
    free(ts);
    free(ends);
    free(data);
    return st == TL_EBUSY ? TL_OK : st;
}

/* Every visible record is key ts with its value, and the keys are exactly those in [lo, hi)
 * minus [dlo, dhi). */
static bool check_all(tl_timelog_t *tl, int64_t lo, int64_t hi, int64_t dlo, int64_t dhi) {
    enum { B = 256 };
    int64_t ts[B];
    uint64_t h[B];
    uint32_t ends[B];
    uint8_t *buf = malloc((size_t)B * (3u << 19) / 64 + (4u << 20)), *want = malloc(3u << 20);
    uint64_t cap = (size_t)B * (3u << 19) / 64 + (4u << 20), need = 0;
    tl_snapshot_t *s = NULL;
    tl_iter_t *it = NULL;
    bool ok = tl_snapshot_acquire(tl, &s) == TL_OK && tl_iter_since(s, INT64_MIN, &it) == TL_OK;
    int64_t next = lo;
    size_t n = 0;
    while (ok && tl_iter_next_batch(it, ts, h, B, &n) == TL_OK && n > 0) {
        ok = tl_values_read(tl, h, (uint32_t)n, buf, cap, ends, &need) == TL_OK;
        for (size_t i = 0; ok && i < n; i++) {
            if (next == dlo) next = dhi;
            uint32_t start = i ? ends[i - 1] : 0;
            vfill((uint64_t)ts[i], want);
            ok = ts[i] == next && ends[i] - start == vlen((uint64_t)ts[i]) &&
                 memcmp(buf + start, want, ends[i] - start) == 0;
            if (!ok) printf("  record %lld: want %lld\n", (long long)ts[i], (long long)next);
            next++;
        }
    }
    if (next == dlo) next = dhi;
    ok = ok && next == hi;
    tl_iter_destroy(it);
    tl_snapshot_release(s);
    free(buf);
    free(want);
    return ok;
}

TL_TEST(bytes_survive_reopen) {
    const char *dir = fresh_dir("reopen");
    tl_config_t c = vcfg(dir);
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_OK(append_keys(tl, 0, 6000)); /* in the WAL only */
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK(check_all(tl, 0, 6000, -1, -1));
    CHECK_OK(tl_checkpoint(tl)); /* into segment files */
    CHECK_OK(append_keys(tl, 6000, 3000)); /* and a WAL tail again */
    CHECK_OK(tl_delete_range(tl, 1000, 2000));
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK(check_all(tl, 0, 9000, 1000, 2000));
    tl_stats_t st;
    uint64_t vs[4];
    CHECK_OK(tl_stats(tl, &st));
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], st.records_stored); /* one live value per stored record, no more */
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_checkpoint(tl));
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK(check_all(tl, 0, 9000, 1000, 2000));
    CHECK_OK(tl_stats(tl, &st));
    CHECK_EQ_U64(st.replayed_records, 0);
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], 8000);
    CHECK_OK(tl_validate(tl));
    tl_close(tl);
    /* The directory holds byte values: another kind is refused, naming both. */
    tl_config_t f = c;
    f.value_kind = TL_VALUES_F64;
    char err[512];
    CHECK_ST(tl_open_ex(&f, &tl, err, sizeof err), TL_EINVAL);
    CHECK(strstr(err, "values bytes") != NULL);
    remove_dir(dir);
}

/* Chunks already on disk are not written again: a checkpoint after a few small appends writes
 * the chunk taking appends (at most 1 MiB) and the new pages, not the megabytes before. */
TL_TEST(bytes_checkpoint_writes_what_changed) {
    const char *dir = fresh_dir("incr");
    tl_config_t c = vcfg(dir);
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_OK(append_keys(tl, 0, 20000)); /* ~30 MiB: 20 large values and 20K small ones */
    CHECK_OK(tl_checkpoint(tl));
    tl_stats_t a, b;
    CHECK_OK(tl_stats(tl, &a));
    CHECK(a.disk_bytes > (20u << 20));
    CHECK_OK(append_keys(tl, 20000, 100));
    CHECK_OK(tl_checkpoint(tl));
    CHECK_OK(tl_stats(tl, &b));
    CHECK(b.disk_written_bytes - a.disk_written_bytes < (3u << 20));
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK(check_all(tl, 0, 20100, -1, -1));
    tl_close(tl);
    remove_dir(dir);
}

/* Retention: the chunks of dropped values leave memory and, at the next checkpoint, disk. */
TL_TEST(bytes_retention_frees_disk) {
    const char *dir = fresh_dir("retention");
    tl_config_t c = vcfg(dir);
    c.wal_segment_bytes = 1u << 20; /* so that truncation deletes WAL files: disk_bytes
                                       counts them; values cross WAL records and segments */
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    for (uint64_t k = 0; k < 40000; k += 4000) CHECK_OK(append_keys(tl, k, 4000));
    CHECK_OK(tl_checkpoint(tl));
    tl_stats_t a, b;
    CHECK_OK(tl_stats(tl, &a));
    CHECK_OK(tl_delete_before(tl, 36000));
    CHECK_OK(tl_compact(tl));
    CHECK_OK(tl_checkpoint(tl));
    CHECK_OK(tl_stats(tl, &b));
    CHECK(b.disk_bytes * 5 < a.disk_bytes); /* 90% of the values went */
    uint64_t vs[4];
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK_EQ_U64(vs[0], 4000);
    tl_close(tl);
    tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK(check_all(tl, 36000, 40000, -1, -1));
    CHECK_OK(tl_values_stats(tl, vs));
    CHECK(vs[2] <= (8u << 20)); /* only the chunks still named are loaded */
    tl_close(tl);
    remove_dir(dir);
}

/* A damaged byte inside a stored chunk fails the open (the blob's CRC), naming the file. */
TL_TEST(bytes_damaged_chunk_refused) {
    const char *dir = fresh_dir("damage");
    tl_config_t c = vcfg(dir);
    c.value_kind = TL_VALUES_BYTES;
    tl_timelog_t *tl = open_ok(&c);
    CHECK(tl != NULL);
    CHECK_OK(append_keys(tl, 0, 3000));
    CHECK_OK(tl_checkpoint(tl));
    tl_close(tl);
    char path[700];
    snprintf(path, sizeof path, "%s/seg-0000000000000001.tls", dir);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    /* The file holds the pages, then the chunks: most of its bytes are value bytes. */
    long off = (long)sb.st_size - (long)sb.st_size / 4;
    CHECK(fseek(f, off, SEEK_SET) == 0);
    int ch = fgetc(f);
    CHECK(fseek(f, off, SEEK_SET) == 0);
    fputc(ch ^ 0x40, f);
    fclose(f);
    char err[512];
    CHECK_ST(tl_open_ex(&c, &tl, err, sizeof err), TL_ECORRUPT);
    CHECK(strstr(err, "seg-0000000000000001.tls") != NULL);
    remove_dir(dir);
}

int main(void) {
    RUN(bytes_survive_reopen);
    RUN(bytes_checkpoint_writes_what_changed);
    RUN(bytes_retention_frees_disk);
    RUN(bytes_damaged_chunk_refused);
    return tl_test_done("values_durable_test");
}
