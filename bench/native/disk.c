/*
 * bench/native/disk.c — the disk layer against the disk's own limit (built by `zig build bench`
 * as zig-out/bin/bench_disk).
 *
 * What it measures (each figure the MEDIAN of --runs runs, min-max shown):
 *   crc32c_sw / crc32c_hw  GB/s of tl_crc32c_sw / tl_crc32c_hw over a 1 MiB buffer (cached).
 *   fsync_us               latency of one 4 KiB pwrite + fdatasync at the end of a file.
 *   disk_sync1_mb_s        the disk's limit for the WAL's pattern: 64 KiB pwrites at the end of
 *                          a new file, fdatasync after each (what durability "sync" costs).
 *   wal_sync1_mb_s         the WAL doing the same: one 4096-record columnar payload (4096 x
 *                          (i64 ts, f64 value) = 64 KiB) appended, then tl_wal_sync, per record.
 *   disk_sync8_mb_s        512 KiB pwrites + fdatasync (eight records per sync).
 *   wal_sync8_mb_s         the WAL: 8 appends, then one tl_wal_sync (group commit).
 *   disk_nosync_mb_s       64 KiB pwrites, one fdatasync at the end (the write-back ceiling).
 * Files live in a fresh directory under --dir (default ./tmp, i.e. the repository's disk, not
 * a tmpfs), removed afterwards. 64 MiB are written per run by default (--mb); the WAL uses its
 * defaults (64 MiB segments, 1 MiB buffers), so a run includes a segment roll.
 *
 * Verification: every WAL run is read back with tl_wal_scan: record count and the sum of each
 * payload's first and last 8 bytes must match what was appended (VERIFIED / FAILED; exit 1 on
 * any failure). --json ends with one JSON object.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/crc32c.h"
#include "disk/wal.h"

#define RUNS_MAX 32
#define REC_RECORDS 4096
#define REC_BYTES (REC_RECORDS * 16)

static int g_runs = 5, g_mb = 64;
static bool g_json;
static const char *g_dir = "./tmp";
static int g_failed;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct { double med, min, max; } stat_t;

static stat_t summarize(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return (stat_t){v[n / 2], v[0], v[n - 1]};
}

static void report(const char *name, const char *unit, stat_t s, const char *note) {
    if (!g_json) {
        printf("%-18s %10.2f %-5s (min %.2f, max %.2f) %s\n", name, s.med, unit, s.min, s.max,
               note);
    }
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

/* A 4096-record columnar payload: ts[4096] then values[4096], as the engine would log. */
static void make_payload(uint8_t *p, uint64_t rec) {
    int64_t ts[REC_RECORDS];
    double v[REC_RECORDS];
    for (int i = 0; i < REC_RECORDS; i++) {
        ts[i] = (int64_t)(rec * REC_RECORDS + (uint64_t)i) * 1000;
        v[i] = (double)(rec + (uint64_t)i) * 0.5;
    }
    memcpy(p, ts, sizeof ts);
    memcpy(p + sizeof ts, v, sizeof v);
}

static uint64_t payload_sum(const uint8_t *p, uint32_t len) {
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, p + len - 8, 8);
    return a + b;
}

/* ---------------------------------------------------------------------------------------------
 * CRC32C
 * ------------------------------------------------------------------------------------------- */

static stat_t bench_crc(bool hw) {
    enum { BUF = 1 << 20 };
    static uint8_t buf[BUF];
    for (int i = 0; i < BUF; i++) buf[i] = (uint8_t)(i * 131 + 7);
    double v[RUNS_MAX];
    volatile uint32_t sink = 0;
    for (int r = 0; r < g_runs; r++) {
        int reps = hw ? 2048 : 512;
        double t0 = now_s();
        uint32_t c = 0;
        for (int k = 0; k < reps; k++) {
            c = hw ? tl_crc32c_hw(c, buf, BUF) : tl_crc32c_sw(c, buf, BUF);
        }
        sink ^= c;
        v[r] = (double)reps * BUF / (now_s() - t0) / 1e9;
    }
    (void)sink;
    return summarize(v, g_runs);
}

/* ---------------------------------------------------------------------------------------------
 * The disk alone
 * ------------------------------------------------------------------------------------------- */

/* Writes `total` bytes in `chunk` pwrites at the end of a new file, fdatasync after every
 * `per_sync` chunks (0: once at the end). MB/s. */
static double disk_run(const char *dir, size_t chunk, int per_sync, size_t total) {
    char path[1100];
    snprintf(path, sizeof path, "%s/raw.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open");
    uint8_t *buf = malloc(chunk);
    if (buf == NULL) die("malloc");
    memset(buf, 0x5a, chunk);
    double t0 = now_s();
    size_t n = total / chunk;
    for (size_t i = 0; i < n; i++) {
        if (pwrite(fd, buf, chunk, (off_t)(i * chunk)) != (ssize_t)chunk) die("pwrite");
        if (per_sync && (i + 1) % (size_t)per_sync == 0 && fdatasync(fd) != 0) die("fdatasync");
    }
    if (fdatasync(fd) != 0) die("fdatasync");
    double mb_s = (double)(n * chunk) / (now_s() - t0) / 1e6;
    close(fd);
    unlink(path);
    free(buf);
    return mb_s;
}

static stat_t bench_fsync_latency(const char *dir) {
    char path[1100];
    snprintf(path, sizeof path, "%s/lat.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open");
    uint8_t buf[4096];
    memset(buf, 1, sizeof buf);
    enum { N = 200 };
    double v[N];
    for (int i = 0; i < N; i++) {
        if (pwrite(fd, buf, sizeof buf, (off_t)i * 4096) != 4096) die("pwrite");
        double t0 = now_s();
        if (fdatasync(fd) != 0) die("fdatasync");
        v[i] = (now_s() - t0) * 1e6;
    }
    close(fd);
    unlink(path);
    return summarize(v, N);
}

/* ---------------------------------------------------------------------------------------------
 * The WAL
 * ------------------------------------------------------------------------------------------- */

typedef struct { uint64_t n, sum; } count_t;

static tl_status_t count_rec(void *ctx, const tl_wal_rec_t *r) {
    count_t *c = ctx;
    c->n++;
    c->sum += payload_sum(r->payload, r->len);
    return TL_OK;
}

static int rm_cb(void *arg, const char *name) {
    char p[TL_IO_PATH_CAP];
    if (tl_io_join(p, arg, name, NULL) == TL_OK) unlink(p);
    return 0;
}

/* Appends `total` bytes of 64 KiB records, syncing every `per_sync` records; MB/s. */
static double wal_run(const char *dir, int per_sync, size_t total, const uint8_t *payloads,
                      int npayloads) {
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/wal", dir);
    if (mkdir(sub, 0755) != 0) die("mkdir");
    const tl_io_t *io = tl_io_default();
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    char msg[2048];
    if (tl_wal_open(io, sub, &o, NULL, NULL, &w, &rep, &e) != TL_OK) goto fail;
    uint64_t n = total / REC_BYTES, want = 0;
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = payloads + (i % (uint64_t)npayloads) * REC_BYTES;
        want += payload_sum(p, REC_BYTES);
        if (tl_wal_append(w, i + 1, 1, 0, p, REC_BYTES, &e) != TL_OK) goto fail;
        if ((i + 1) % (uint64_t)per_sync == 0 && tl_wal_sync(w, NULL, &e) != TL_OK) goto fail;
    }
    if (tl_wal_sync(w, NULL, &e) != TL_OK) goto fail;
    double mb_s = (double)(n * REC_BYTES) / (now_s() - t0) / 1e6;
    if (tl_wal_close(w, &e) != TL_OK) goto fail;
    count_t c = {0};
    if (tl_wal_scan(io, sub, &o, count_rec, &c, &rep, &e) != TL_OK) goto fail;
    if (c.n != n || c.sum != want) {
        fprintf(stderr, "wal: FAILED verification (%llu records, want %llu)\n",
                (unsigned long long)c.n, (unsigned long long)n);
        g_failed = 1;
    }
    (void)io->list_dir(NULL, sub, rm_cb, sub);
    rmdir(sub);
    return mb_s;
fail:
    tl_io_err_format(&e, msg, sizeof msg);
    fprintf(stderr, "wal: %s\n", msg);
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) g_runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mb") && i + 1 < argc) g_mb = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) g_dir = argv[++i];
        else if (!strcmp(argv[i], "--json")) g_json = true;
        else {
            fprintf(stderr, "usage: bench_disk [--runs K] [--mb N] [--dir D] [--json]\n");
            return 2;
        }
    }
    if (g_runs < 1 || g_runs > RUNS_MAX || g_mb < 1) return 2;
    mkdir(g_dir, 0755);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/bench_disk_XXXXXX", g_dir);
    if (mkdtemp(dir) == NULL) die("mkdtemp");
    size_t total = (size_t)g_mb << 20;
    enum { NP = 16 };
    uint8_t *payloads = malloc((size_t)NP * REC_BYTES);
    if (payloads == NULL) die("malloc");
    for (int i = 0; i < NP; i++) make_payload(payloads + (size_t)i * REC_BYTES, (uint64_t)i);
    if (!g_json) {
        printf("bench_disk: %s, %d MiB per run, %d runs (median, min-max), crc32c path %s\n",
               dir, g_mb, g_runs, tl_crc32c_impl());
    }
    stat_t sw = bench_crc(false), hw = bench_crc(true), lat = bench_fsync_latency(dir);
    report("crc32c_sw", "GB/s", sw, "slicing-by-8");
    report("crc32c_hw", "GB/s", hw, tl_crc32c_impl());
    report("fsync_us", "us", lat, "4 KiB pwrite + fdatasync (200 samples)");
    double d1[RUNS_MAX], w1[RUNS_MAX], d8[RUNS_MAX], w8[RUNS_MAX], dn[RUNS_MAX];
    for (int r = 0; r < g_runs; r++) { /* interleaved: the host's drift hits all alike */
        d1[r] = disk_run(dir, REC_BYTES, 1, total);
        w1[r] = wal_run(dir, 1, total, payloads, NP);
        d8[r] = disk_run(dir, 8 * REC_BYTES, 1, total);
        w8[r] = wal_run(dir, 8, total, payloads, NP);
        dn[r] = disk_run(dir, REC_BYTES, 0, total);
    }
    stat_t sd1 = summarize(d1, g_runs), sw1 = summarize(w1, g_runs);
    stat_t sd8 = summarize(d8, g_runs), sw8 = summarize(w8, g_runs);
    stat_t sdn = summarize(dn, g_runs);
    report("disk_sync1_mb_s", "MB/s", sd1, "64 KiB pwrite + fdatasync each");
    report("wal_sync1_mb_s", "MB/s", sw1,
           g_failed ? "FAILED" : "64 KiB record + sync each, VERIFIED");
    report("disk_sync8_mb_s", "MB/s", sd8, "512 KiB pwrite + fdatasync each");
    report("wal_sync8_mb_s", "MB/s", sw8, g_failed ? "FAILED" : "8 records per sync, VERIFIED");
    report("disk_nosync_mb_s", "MB/s", sdn, "64 KiB pwrites, one fdatasync");
    if (g_json) {
        printf("{\"crc32c_sw_gb_s\": %.3f, \"crc32c_hw_gb_s\": %.3f, \"fsync_us\": %.1f, "
               "\"disk_sync1_mb_s\": %.1f, \"wal_sync1_mb_s\": %.1f, \"disk_sync8_mb_s\": %.1f, "
               "\"wal_sync8_mb_s\": %.1f, \"disk_nosync_mb_s\": %.1f, \"verified\": %s}\n",
               sw.med, hw.med, lat.med, sd1.med, sw1.med, sd8.med, sw8.med, sdn.med,
               g_failed ? "false" : "true");
    }
    free(payloads);
    rmdir(dir);
    return g_failed;
}
