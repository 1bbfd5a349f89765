/*
 * mfile_test.c — the manifest container and its atomic replace (c/src/disk/mfile.c, io.c):
 * round trips on simfs and on the real file system; power loss at every I/O call of a chain
 * of replaces (every tear mode) yields the last acknowledged version or a later attempted one,
 * whole, never neither and never a mix; EIO/ENOSPC at every call is reported with its context
 * and leaves the old or the new version; every byte flip and every truncation is TL_ECORRUPT
 * naming the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/mfile.h"
#include "disk_util.h"
#include "test.h"

/* Version v's payload: 100 + 37 * v bytes, every byte derived from (v, index). */
static size_t payload(int v, uint8_t *buf) {
    size_t n = 100 + 37 * (size_t)v;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(v * 41 + i * 3);
    return n;
}

/* The version stored at dir/MANIFEST: 0 when missing, -1 when unreadable or not a version. */
static int version_of(const tl_io_t *io, const char *dir, tl_io_err_t *e) {
    uint8_t *p = NULL, want[1024];
    size_t n = 0;
    tl_status_t st = tl_mfile_read(io, dir, "MANIFEST", NULL, 1 << 20, &p, &n, e);
    if (st == TL_EOF) return 0;
    if (st != TL_OK) return -1;
    int v = -1;
    for (int c = 1; c <= 9 && v < 0; c++) {
        if (payload(c, want) == n && memcmp(want, p, n) == 0) v = c;
    }
    tl_mem_free(NULL, p, n);
    return v;
}

static tl_status_t put_version(const tl_io_t *io, const char *dir, int v, tl_io_err_t *e) {
    uint8_t buf[1024];
    size_t n = payload(v, buf);
    return tl_mfile_write(io, dir, "MANIFEST", buf, n, e);
}

TL_TEST(roundtrip_and_missing) {
    tl_simfs_t *fs = tl_simfs_new(41);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_err_t e;
    CHECK_EQ_I64(version_of(io, "/db", &e), 0);
    for (int v = 1; v <= 4; v++) {
        CHECK_OK(put_version(io, "/db", v, &e));
        CHECK_EQ_I64(version_of(io, "/db", &e), v);
    }
    CHECK(!tl_simfs_exists(fs, "/db/MANIFEST.tmp"));
    CHECK_OK(tl_mfile_write(io, "/db", "EMPTY", NULL, 0, &e));
    uint8_t *p = NULL;
    size_t n = 7;
    CHECK_OK(tl_mfile_read(io, "/db", "EMPTY", NULL, 10, &p, &n, &e));
    CHECK_EQ_U64(n, 0);
    tl_mem_free(NULL, p, n);
    /* A payload larger than the reader accepts. */
    CHECK_ST(tl_mfile_read(io, "/db", "MANIFEST", NULL, 10, &p, &n, &e), TL_ECORRUPT);
    CHECK(p == NULL && strstr(e.what, "larger") != NULL);
    /* A stale tmp file (a crash between write and rename) changes nothing. */
    tl_simfs_put(fs, "/db/MANIFEST.tmp", "junk", 4);
    CHECK_EQ_I64(version_of(io, "/db", &e), 4);
    CHECK_OK(put_version(io, "/db", 5, &e));
    CHECK_EQ_I64(version_of(io, "/db", &e), 5);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

TL_TEST(roundtrip_on_the_real_file_system) {
    char dir[512];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tl_mfile_XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    const tl_io_t *io = tl_io_default();
    tl_io_err_t e;
    int v0 = version_of(io, dir, &e);
    tl_status_t s1 = put_version(io, dir, 1, &e);
    tl_status_t s2 = put_version(io, dir, 2, &e);
    int v2 = version_of(io, dir, &e);
    char p[TL_IO_PATH_CAP];
    snprintf(p, sizeof p, "%s/MANIFEST", dir);
    FILE *f = fopen(p, "r+b"); /* damage the payload */
    if (f != NULL) {
        fseek(f, 40, SEEK_SET);
        fputc('!', f);
        fclose(f);
    }
    uint8_t *buf = NULL;
    size_t n = 0;
    tl_status_t s3 = tl_mfile_read(io, dir, "MANIFEST", NULL, 1 << 20, &buf, &n, &e);
    unlink(p);
    rmdir(dir);
    CHECK_EQ_I64(v0, 0);
    CHECK_OK(s1);
    CHECK_OK(s2);
    CHECK_EQ_I64(v2, 2);
    CHECK_ST(s3, TL_ECORRUPT);
    CHECK(e.offset == TL_MFILE_HEADER_BYTES && strstr(e.path, "/MANIFEST") != NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Power loss and faults at every call
 * ------------------------------------------------------------------------------------------- */

/* Replaces versions 2, 3, 4 over a durable version 1; *acked = the last acknowledged. */
static tl_status_t chain(tl_simfs_t *fs, int *acked, int *tried, tl_io_err_t *e) {
    *acked = 1;
    for (int v = 2; v <= 4; v++) {
        *tried = v;
        tl_status_t st = put_version(tl_simfs_io(fs), "/db", v, e);
        if (st != TL_OK) return st;
        *acked = v;
    }
    return TL_OK;
}

static tl_simfs_t *setup(uint64_t seed) {
    tl_simfs_t *fs = tl_simfs_new(seed);
    tl_simfs_mkdir_durable(fs, "/db");
    if (put_version(tl_simfs_io(fs), "/db", 1, NULL) != TL_OK) abort();
    return fs;
}

static uint64_t chain_calls(void) {
    tl_simfs_t *fs = setup(1);
    uint64_t c0 = tl_simfs_calls(fs);
    int acked, tried;
    tl_status_t st = chain(fs, &acked, &tried, NULL);
    uint64_t n = tl_simfs_calls(fs) - c0;
    tl_simfs_free(fs);
    return st == TL_OK && acked == 4 ? n : 0;
}

TL_TEST(crash_at_every_call_keeps_old_or_new) {
    uint64_t calls = chain_calls(), points = 0, olds = 0;
    CHECK(calls >= 15); /* 3 replaces x (open, 2 writes, fdatasync, close, rename, fsync) */
    for (int mode = 0; mode < 2 * TL_SIM_TEAR_MODES; mode++) {
        int tear = mode % TL_SIM_TEAR_MODES;
        for (uint64_t k = 1; k <= calls; k++) {
            tl_simfs_t *fs = setup(k * 7 + (uint64_t)mode);
            tl_simfs_keep_dir_ops(fs, mode >= TL_SIM_TEAR_MODES);
            tl_simfs_crash_at(fs, k, tear);
            int acked, tried;
            tl_io_err_t e;
            (void)chain(fs, &acked, &tried, &e);
            tl_simfs_revive(fs);
            int v = version_of(tl_simfs_io(fs), "/db", &e);
            /* And the next replace works on whatever the crash left. */
            tl_status_t st = put_version(tl_simfs_io(fs), "/db", 9, &e);
            int v9 = version_of(tl_simfs_io(fs), "/db", &e);
            tl_simfs_free(fs);
            if (v < acked || v > tried || st != TL_OK || v9 != 9) {
                TL_FAIL_("tear %d crash at %" PRIu64 ": version %d (acked %d, tried %d)", tear,
                         k, v, acked, tried);
            }
            olds += v == acked;
            points++;
        }
    }
    printf("  %" PRIu64 " crash points (%" PRIu64 " calls x %d tear modes x unsynced entries "
           "lost or kept): %" PRIu64 " acknowledged version, %" PRIu64 " the next one\n",
           points, calls, TL_SIM_TEAR_MODES, olds, points - olds);
}

TL_TEST(fault_at_every_call_is_reported) {
    uint64_t calls = chain_calls(), points = 0;
    const int errs[] = {EIO, ENOSPC};
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t k = 1; k <= calls; k++) {
            tl_simfs_t *fs = setup(k);
            tl_simfs_fail_at(fs, k, errs[m], 1);
            int acked, tried;
            tl_io_err_t e;
            tl_status_t st = chain(fs, &acked, &tried, &e);
            const char *op = tl_simfs_fault_op(fs);
            char msg[TL_IO_PATH_CAP + 128], want[32];
            tl_io_err_format(&e, msg, sizeof msg);
            snprintf(want, sizeof want, "(errno %d)", errs[m]);
            /* The cleanup unlink after a failure is best effort: a fault there is silent. */
            bool ok = st == TL_OK ? op != NULL && strcmp(op, "unlink") == 0
                                  : st == TL_EIO && e.sys_errno == errs[m] &&
                                        strstr(msg, want) != NULL &&
                                        strstr(e.path, "/db") == e.path;
            tl_simfs_revive(fs);
            int v = version_of(tl_simfs_io(fs), "/db", &e);
            tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
            int vc = version_of(tl_simfs_io(fs), "/db", &e);
            tl_simfs_free(fs);
            if (!ok || v < acked || v > tried || vc < acked || vc > tried) {
                TL_FAIL_("errno %d at call %" PRIu64 " (%s): status %d \"%s\", versions %d / "
                         "%d after crash (acked %d, tried %d)", errs[m], k, op ? op : "-", st,
                         msg, v, vc, acked, tried);
            }
            points++;
        }
    }
    printf("  %" PRIu64 " fault points (%" PRIu64 " calls x EIO, ENOSPC)\n", points, calls);
}

/* ---------------------------------------------------------------------------------------------
 * Corruption
 * ------------------------------------------------------------------------------------------- */

TL_TEST(every_flip_and_truncation_is_corrupt) {
    tl_simfs_t *fs = setup(3);
    const tl_io_t *io = tl_simfs_io(fs);
    uint8_t *orig = NULL;
    size_t n = 0;
    CHECK_OK(tl_simfs_get(fs, "/db/MANIFEST", &orig, &n) == 0 ? TL_OK : TL_EIO);
    tl_io_err_t e;
    uint8_t *p;
    size_t len;
    uint64_t cases = 0;
    for (size_t b = 0; b < n; b++) {
        for (int bit = 0; bit < 8; bit += 3) {
            du_flip(fs, "/db/MANIFEST", b, (uint8_t)(1u << bit));
            tl_status_t st = tl_mfile_read(io, "/db", "MANIFEST", NULL, 1 << 20, &p, &len, &e);
            du_flip(fs, "/db/MANIFEST", b, (uint8_t)(1u << bit));
            if (st != TL_ECORRUPT || strcmp(e.path, "/db/MANIFEST") != 0 || e.offset > n) {
                TL_FAIL_("flip byte %zu bit %d: status %d offset %" PRIu64, b, bit, st,
                         e.offset);
            }
            cases++;
        }
    }
    for (size_t cut = 0; cut < n; cut++) {
        tl_simfs_put(fs, "/db/MANIFEST", orig, cut);
        CHECK_ST(tl_mfile_read(io, "/db", "MANIFEST", NULL, 1 << 20, &p, &len, &e),
                 TL_ECORRUPT);
        cases++;
    }
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, orig, n);
    longer[n] = 0;
    tl_simfs_put(fs, "/db/MANIFEST", longer, n + 1);
    CHECK_ST(tl_mfile_read(io, "/db", "MANIFEST", NULL, 1 << 20, &p, &len, &e), TL_ECORRUPT);
    CHECK(strstr(e.what, "size") != NULL && e.offset == 16);
    tl_simfs_put(fs, "/db/MANIFEST", orig, n);
    CHECK_EQ_I64(version_of(io, "/db", &e), 1);
    printf("  %" PRIu64 " damaged manifests, all TL_ECORRUPT\n", cases);
    free(longer);
    free(orig);
    tl_simfs_free(fs);
}

int main(void) {
    RUN(roundtrip_and_missing);
    RUN(roundtrip_on_the_real_file_system);
    RUN(crash_at_every_call_keeps_old_or_new);
    RUN(fault_at_every_call_is_reported);
    RUN(every_flip_and_truncation_is_corrupt);
    return tl_test_done("mfile_test");
}
