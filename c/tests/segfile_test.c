/*
 * segfile_test.c — segment files (c/src/disk/segfile.c): round trips through pread and mmap on
 * simfs and on the real file system; power loss at every I/O call of a write (every tear mode,
 * unsynced directory entries lost or kept) never leaves a partial file under the final name;
 * EIO/ENOSPC at every call is reported with its context and leaves no file or the whole one;
 * every byte flip is TL_ECORRUPT at open or at the load of the blob holding the byte, and every
 * truncation is TL_ECORRUPT at open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/segfile.h"
#include "disk_util.h"
#include "test.h"

#define META 32

/* Blob i: its length and bytes, its meta; all derived from (seed, i). */
static size_t blob_len(uint64_t seed, int i) {
    static const size_t lens[] = {0, 1, 7, 8, 100, 4096, 65536, 300000, 13, 65535};
    return lens[(seed + (uint64_t)i) % 10];
}

static void blob_fill(uint64_t seed, int i, uint8_t *b, size_t n, uint8_t meta[META]) {
    for (size_t k = 0; k < n; k++) b[k] = (uint8_t)(seed + (uint64_t)i * 13 + k * 7 + (k >> 9));
    for (int k = 0; k < META; k++) meta[k] = (uint8_t)(i * 3 + k + (int)seed);
}

static uint8_t g_blob[300000], g_back[300000];

/* Writes `n` blobs to dir/name; returns the status of the first failing call. */
static tl_status_t write_file(const tl_io_t *io, const char *dir, const char *name,
                              uint64_t seed, int n, tl_io_err_t *e) {
    tl_segfile_writer_t *w;
    tl_status_t st = tl_segfile_create(io, dir, name, META, NULL, &w, e);
    for (int i = 0; st == TL_OK && i < n; i++) {
        uint8_t meta[META];
        size_t len = blob_len(seed, i);
        blob_fill(seed, i, g_blob, len, meta);
        st = tl_segfile_add(w, meta, g_blob, len, e);
    }
    if (st != TL_OK) {
        tl_segfile_abort(w);
        return st;
    }
    return tl_segfile_finish(w, e);
}

/* Opens dir/name and checks every blob and meta through pread and (when mapped) the view.
 * Returns 0, or the failing line; *st = the first non-OK status met. */
static int verify(const tl_io_t *io, const char *dir, const char *name, uint64_t seed, int n,
                  bool mmap, tl_status_t *st, tl_io_err_t *e) {
    tl_segfile_t *r;
    *st = tl_segfile_open(io, dir, name, mmap, NULL, &r, e);
    if (*st != TL_OK) return __LINE__;
    int line = 0;
    if (tl_segfile_count(r) != (uint64_t)n || tl_segfile_meta_bytes(r) != META) line = __LINE__;
    for (int i = 0; !line && i < n; i++) {
        uint8_t meta[META];
        size_t len = blob_len(seed, i);
        blob_fill(seed, i, g_blob, len, meta);
        if (tl_segfile_blob_len(r, i) != len || memcmp(tl_segfile_meta(r, i), meta, META)) {
            line = __LINE__;
            break;
        }
        *st = tl_segfile_read(r, i, g_back, sizeof g_back, e);
        if (*st != TL_OK || memcmp(g_back, g_blob, len) != 0) line = __LINE__;
        const uint8_t *v = NULL;
        if (!line && mmap) *st = tl_segfile_view(r, i, &v, e);
        if (!line && mmap && (*st != TL_OK || memcmp(v, g_blob, len) != 0)) line = __LINE__;
    }
    tl_segfile_close(r);
    return line;
}

TL_TEST(roundtrip_pread_and_mmap) {
    tl_simfs_t *fs = tl_simfs_new(51);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_err_t e;
    tl_status_t st;
    CHECK_OK(write_file(io, "/db", "seg-1.tls", 3, 25, &e));
    CHECK(!tl_simfs_exists(fs, "/db/seg-1.tls.tmp"));
    CHECK_EQ_I64(verify(io, "/db", "seg-1.tls", 3, 25, false, &st, &e), 0);
    CHECK_EQ_I64(verify(io, "/db", "seg-1.tls", 3, 25, true, &st, &e), 0);
    CHECK_OK(write_file(io, "/db", "empty.tls", 0, 0, &e)); /* no blobs is valid */
    CHECK_EQ_I64(verify(io, "/db", "empty.tls", 0, 0, true, &st, &e), 0);
    tl_segfile_t *r;
    CHECK_OK(tl_segfile_open(io, "/db", "seg-1.tls", false, NULL, &r, &e));
    const uint8_t *v;
    CHECK_ST(tl_segfile_view(r, 0, &v, &e), TL_EINVAL); /* not mapped */
    CHECK_ST(tl_segfile_read(r, 25, g_back, sizeof g_back, &e), TL_EINVAL);
    CHECK_ST(tl_segfile_read(r, 6, g_back, 10, &e), TL_EINVAL); /* buffer short */
    CHECK(tl_segfile_meta(r, 25) == NULL && tl_segfile_blob_len(r, 25) == 0);
    tl_segfile_close(r);
    tl_segfile_writer_t *w;
    CHECK_ST(tl_segfile_create(io, "/db", "x", 12, NULL, &w, &e), TL_EINVAL);
    CHECK_ST(tl_segfile_open(io, "/db", "missing", true, NULL, &r, &e), TL_EIO);
    CHECK_EQ_I64(e.sys_errno, ENOENT);
    /* Abort leaves nothing behind. */
    CHECK_OK(tl_segfile_create(io, "/db", "gone.tls", META, NULL, &w, &e));
    uint8_t meta[META] = {0};
    CHECK_OK(tl_segfile_add(w, meta, g_blob, 100, &e));
    tl_segfile_abort(w);
    CHECK(!tl_simfs_exists(fs, "/db/gone.tls.tmp") && !tl_simfs_exists(fs, "/db/gone.tls"));
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

TL_TEST(roundtrip_on_the_real_file_system) {
    char dir[512], p[TL_IO_PATH_CAP];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tl_segfile_XXXXXX", base && *base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    const tl_io_t *io = tl_io_default();
    tl_io_err_t e;
    tl_status_t st, st2 = TL_OK;
    tl_status_t sw = write_file(io, dir, "seg.tls", 5, 30, &e);
    int l1 = verify(io, dir, "seg.tls", 5, 30, true, &st, &e);
    int l2 = verify(io, dir, "seg.tls", 5, 30, false, &st, &e);
    snprintf(p, sizeof p, "%s/seg.tls", dir);
    FILE *f = fopen(p, "r+b"); /* damage blob 1 (64 KiB) in its middle */
    tl_segfile_t *r = NULL;
    if (f != NULL) {
        fseek(f, 10000 + 40000, SEEK_SET);
        fputc(0x5a, f);
        fclose(f);
        st2 = tl_segfile_open(io, dir, "seg.tls", true, NULL, &r, &e);
    }
    int bad = 0;
    for (uint64_t i = 0; r != NULL && i < tl_segfile_count(r); i++) {
        const uint8_t *v;
        bad += tl_segfile_view(r, i, &v, &e) == TL_ECORRUPT;
    }
    tl_segfile_close(r);
    unlink(p);
    rmdir(dir);
    CHECK_OK(sw);
    CHECK_EQ_I64(l1, 0);
    CHECK_EQ_I64(l2, 0);
    CHECK_OK(st2);
    CHECK_EQ_I64(bad, 1);
}

/* Every allocation of writing and reading failed in turn: ENOMEM, nothing leaks, the final
 * name holds nothing or the whole file. */
TL_TEST(allocation_failures) {
    int completed = 0;
    for (long k = 1; !completed && k < 100; k++) {
        tl_simfs_t *fs = tl_simfs_new(52);
        const tl_io_t *io = tl_simfs_io(fs);
        tl_simfs_mkdir_durable(fs, "/db");
        fail_alloc_t fa = {.fail_at = k};
        tl_allocator_t a = {.ctx = &fa, .alloc = fa_alloc, .free = fa_free};
        tl_segfile_writer_t *w;
        tl_io_err_t e;
        uint8_t meta[META] = {0};
        tl_status_t st = tl_segfile_create(io, "/db", "a.tls", META, &a, &w, &e);
        for (int i = 0; st == TL_OK && i < 200; i++) {
            st = tl_segfile_add(w, meta, g_blob, 50, &e);
        }
        if (st == TL_OK) st = tl_segfile_finish(w, &e);
        else if (w != NULL) tl_segfile_abort(w);
        tl_segfile_t *r = NULL;
        if (st == TL_OK) st = tl_segfile_open(io, "/db", "a.tls", false, &a, &r, &e);
        completed = st == TL_OK && tl_segfile_count(r) == 200;
        tl_segfile_close(r);
        bool whole = true; /* under the final name: nothing, or the whole file */
        if (tl_simfs_exists(fs, "/db/a.tls")) {
            tl_segfile_t *r2 = NULL;
            whole = tl_segfile_open(io, "/db", "a.tls", false, NULL, &r2, &e) == TL_OK &&
                    tl_segfile_count(r2) == 200;
            tl_segfile_close(r2);
        }
        tl_simfs_free(fs);
        if ((st != TL_OK && st != TL_ENOMEM) || fa.live_blocks != 0 || !whole) {
            TL_FAIL_("allocation %ld failed: status %d, %ld blocks live", k, st, fa.live_blocks);
        }
    }
    CHECK(completed);
}

/* ---------------------------------------------------------------------------------------------
 * Power loss and faults at every call
 * ------------------------------------------------------------------------------------------- */

#define NB 12

static tl_simfs_t *setup(uint64_t seed) {
    tl_simfs_t *fs = tl_simfs_new(seed);
    tl_simfs_mkdir_durable(fs, "/db");
    return fs;
}

static uint64_t write_calls(void) {
    tl_simfs_t *fs = setup(1);
    tl_status_t st = write_file(tl_simfs_io(fs), "/db", "s.tls", 1, NB, NULL);
    uint64_t n = tl_simfs_calls(fs);
    tl_simfs_free(fs);
    return st == TL_OK ? n : 0;
}

/* After a crash or failure: no file under the final name, or the complete one. */
static int final_is_whole_or_absent(tl_simfs_t *fs, bool must_exist) {
    tl_io_err_t e;
    tl_status_t st;
    if (!tl_simfs_exists(fs, "/db/s.tls")) return must_exist ? __LINE__ : 0;
    int line = verify(tl_simfs_io(fs), "/db", "s.tls", 1, NB, true, &st, &e);
    return line ? line : 0;
}

TL_TEST(crash_at_every_call_leaves_no_partial_file) {
    uint64_t calls = write_calls(), points = 0, present = 0;
    CHECK(calls > 6);
    for (int mode = 0; mode < 2 * TL_SIM_TEAR_MODES; mode++) {
        for (uint64_t k = 1; k <= calls; k++) {
            tl_simfs_t *fs = setup(k * 17 + (uint64_t)mode);
            tl_simfs_keep_dir_ops(fs, mode >= TL_SIM_TEAR_MODES);
            tl_simfs_crash_at(fs, k, mode % TL_SIM_TEAR_MODES);
            tl_status_t st = write_file(tl_simfs_io(fs), "/db", "s.tls", 1, NB, NULL);
            tl_simfs_revive(fs);
            int line = final_is_whole_or_absent(fs, st == TL_OK);
            present += tl_simfs_exists(fs, "/db/s.tls");
            /* Writing again over whatever the crash left works. */
            tl_status_t again = write_file(tl_simfs_io(fs), "/db", "s.tls", 1, NB, NULL);
            if (line == 0 && again != TL_OK) line = __LINE__;
            if (line == 0) line = final_is_whole_or_absent(fs, true);
            tl_simfs_free(fs);
            if (line != 0) TL_FAIL_("mode %d crash at %" PRIu64 ": line %d", mode, k, line);
            points++;
        }
    }
    printf("  %" PRIu64 " crash points (%" PRIu64 " calls x %d tear modes x entries lost or "
           "kept): %" PRIu64 " left the whole file, the rest none\n", points, calls,
           TL_SIM_TEAR_MODES, present);
}

TL_TEST(fault_at_every_call_is_reported) {
    uint64_t calls = write_calls(), points = 0;
    const int errs[] = {EIO, ENOSPC};
    for (size_t m = 0; m < 2; m++) {
        for (uint64_t k = 1; k <= calls; k++) {
            tl_simfs_t *fs = setup(k);
            tl_simfs_fail_at(fs, k, errs[m], 1);
            tl_io_err_t e;
            tl_status_t st = write_file(tl_simfs_io(fs), "/db", "s.tls", 1, NB, &e);
            const char *op = tl_simfs_fault_op(fs);
            tl_simfs_revive(fs);
            /* Cleanup after a failure (close, unlink of the tmp) is best effort: silent. */
            bool ok = st == TL_OK ? op != NULL && (!strcmp(op, "unlink") || !strcmp(op, "close"))
                                  : st == TL_EIO && e.sys_errno == errs[m] && e.op != NULL &&
                                        strstr(e.path, "/db") == e.path;
            int line = final_is_whole_or_absent(fs, false);
            bool tmp_left = st != TL_OK && tl_simfs_exists(fs, "/db/s.tls.tmp");
            tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
            if (line == 0) line = final_is_whole_or_absent(fs, false);
            tl_simfs_free(fs);
            if (!ok || line != 0 || tmp_left) {
                TL_FAIL_("errno %d at call %" PRIu64 " (%s): status %d, line %d, tmp left %d",
                         errs[m], k, op ? op : "-", st, line, tmp_left);
            }
            points++;
        }
    }
    printf("  %" PRIu64 " fault points (%" PRIu64 " calls x EIO, ENOSPC)\n", points, calls);
}

/* ---------------------------------------------------------------------------------------------
 * Corruption
 * ------------------------------------------------------------------------------------------- */

/* Opens and loads every blob: TL_OK, or the first TL_ECORRUPT (with *off its offset). */
static tl_status_t load_all(const tl_io_t *io, bool mmap, uint64_t *off, tl_io_err_t *e) {
    tl_segfile_t *r;
    tl_status_t st = tl_segfile_open(io, "/db", "c.tls", mmap, NULL, &r, e);
    for (uint64_t i = 0; st == TL_OK && i < tl_segfile_count(r); i++) {
        const uint8_t *v;
        st = mmap ? tl_segfile_view(r, i, &v, e) : tl_segfile_read(r, i, g_back, sizeof g_back, e);
    }
    tl_segfile_close(r);
    *off = e->offset;
    return st;
}

TL_TEST(every_flip_and_truncation_is_corrupt) {
    tl_simfs_t *fs = setup(61);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_io_err_t e;
    tl_segfile_writer_t *w;
    CHECK_OK(tl_segfile_create(io, "/db", "c.tls", 16, NULL, &w, &e));
    for (int i = 0; i < 6; i++) { /* small blobs: every byte flipped stays cheap */
        uint8_t meta[16];
        memset(meta, i + 1, sizeof meta);
        CHECK_OK(tl_segfile_add(w, meta, g_blob, (size_t)(i * 21), &e));
    }
    CHECK_OK(tl_segfile_finish(w, &e));
    uint8_t *orig = NULL;
    size_t n = 0;
    CHECK(tl_simfs_get(fs, "/db/c.tls", &orig, &n) == 0);
    uint64_t off, cases = 0;
    CHECK_OK(load_all(io, true, &off, &e));
    for (size_t b = 0; b < n; b++) {
        for (int mm = 0; mm < 2; mm++) {
            du_flip(fs, "/db/c.tls", b, 0x04);
            tl_status_t st = load_all(io, mm, &off, &e);
            du_flip(fs, "/db/c.tls", b, 0x04);
            if (st != TL_ECORRUPT || strcmp(e.path, "/db/c.tls") != 0 || off > n) {
                TL_FAIL_("flip byte %zu (mmap %d): status %d offset %" PRIu64, b, mm, st, off);
            }
            cases++;
        }
    }
    for (size_t cut = 0; cut < n; cut++) {
        tl_simfs_put(fs, "/db/c.tls", orig, cut);
        tl_segfile_t *r;
        CHECK_ST(tl_segfile_open(io, "/db", "c.tls", cut & 1, NULL, &r, &e), TL_ECORRUPT);
        cases++;
    }
    printf("  %" PRIu64 " damaged segment files, all TL_ECORRUPT\n", cases);
    free(orig);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

int main(void) {
    RUN(roundtrip_pread_and_mmap);
    RUN(roundtrip_on_the_real_file_system);
    RUN(allocation_failures);
    RUN(crash_at_every_call_leaves_no_partial_file);
    RUN(fault_at_every_call_is_reported);
    RUN(every_flip_and_truncation_is_corrupt);
    return tl_test_done("segfile_test");
}
