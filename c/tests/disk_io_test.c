/*
 * disk_io_test.c — the I/O shim (c/src/disk/io.c, io_posix.c) and the simulated file system
 * (c/tests/simfs.c) that the crash tests stand on.
 *
 * What it proves:
 *   - the same file and directory scenario behaves identically on the real file system (a
 *     mkdtemp directory, removed afterwards) and on simfs;
 *   - error records keep their context and format as "op path: text (errno N)"; corruption
 *     names the file and offset; long paths keep their tail;
 *   - the retry policy: EINTR/EAGAIN retried a bounded number of times with capped, growing
 *     sleeps on the calling thread; ENOSPC/EIO/EACCES/EROFS returned at once; short writes
 *     continued;
 *   - the directory lock: a second lock in the same process, and in a child process, fails
 *     with TL_ELOCKED; after unlock the child gets it;
 *   - simfs's crash model: unsynced bytes and unsynced directory entries are lost, synced ones
 *     survive, tearing keeps a prefix (zeros / garbage after it), runs are reproducible.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "disk/io.h"
#include "simfs.h"
#include "test.h"

/* ---------------------------------------------------------------------------------------------
 * Temp directories on the real file system
 * ------------------------------------------------------------------------------------------- */

static char g_tmp[512];

static const char *make_tmp(void) {
    const char *base = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/tl_disk_io_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(g_tmp);
}

/* rm -r of a directory tree (the test's own temp dir only). */
static int rm_rf_cb(void *arg, const char *name) {
    char p[TL_IO_PATH_CAP];
    if (tl_io_join(p, arg, name, NULL) != TL_OK) return -ENAMETOOLONG;
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        (void)tl_io_default()->list_dir(NULL, p, rm_rf_cb, p);
        (void)rmdir(p);
    } else {
        (void)unlink(p);
    }
    return 0;
}

static void rm_rf(const char *dir) {
    (void)tl_io_default()->list_dir(NULL, dir, rm_rf_cb, (void *)dir);
    (void)rmdir(dir);
}

/* ---------------------------------------------------------------------------------------------
 * One scenario, two file systems
 * ------------------------------------------------------------------------------------------- */

typedef struct { int n; char names[8][64]; } names_t;

static int collect(void *arg, const char *name) {
    names_t *ns = arg;
    if (ns->n < 8) snprintf(ns->names[ns->n++], 64, "%s", name);
    return 0;
}

static bool has(const names_t *ns, const char *name) {
    for (int i = 0; i < ns->n; i++) {
        if (strcmp(ns->names[i], name) == 0) return true;
    }
    return false;
}

/* Files, sizes, short reads at EOF, truncate, rename over, unlink, listing, mkdir, read_all,
 * replace, map: the behaviour the disk layer relies on. Returns 0 or the failing line. */
static int scenario(const tl_io_t *io, const char *dir) {
    char a[TL_IO_PATH_CAP], b[TL_IO_PATH_CAP], sub[TL_IO_PATH_CAP];
    tl_io_err_t e;
    tl_io_file_t f;
    if (tl_io_join(a, dir, "a.bin", &e) || tl_io_join(b, dir, "b.bin", &e)) return __LINE__;
    if (tl_io_join(sub, dir, "sub", &e) != TL_OK) return __LINE__;
    if (tl_io_open(&f, io, a, TL_IO_RDWR | TL_IO_CREATE | TL_IO_EXCL, &e)) return __LINE__;
    if (tl_io_write(&f, "hello world", 11, 0, &e) || tl_io_sync(&f, &e)) return __LINE__;
    uint64_t size = 0;
    char buf[32];
    size_t got = 0;
    if (tl_io_size(&f, &size, &e) || size != 11) return __LINE__;
    if (tl_io_read(&f, buf, sizeof buf, 6, &got, &e) || got != 5) return __LINE__;
    if (memcmp(buf, "world", 5) != 0) return __LINE__;
    if (tl_io_truncate(&f, 5, &e) || tl_io_size(&f, &size, &e) || size != 5) return __LINE__;
    const void *m = NULL;
    if (tl_io_map(&f, 5, &m, &e) || memcmp(m, "hello", 5) != 0) return __LINE__;
    tl_io_unmap(io, m, 5);
    if (tl_io_close(&f, &e) || f.fd != -1) return __LINE__;
    /* O_EXCL on an existing file: EEXIST with context. */
    int excl = TL_IO_RDWR | TL_IO_CREATE | TL_IO_EXCL;
    if (tl_io_open(&f, io, a, excl, &e) != TL_EIO) return __LINE__;
    if (e.sys_errno != EEXIST || strcmp(e.op, "open") != 0) return __LINE__;
    tl_io_piece_t pieces[2] = {{"new ", 4}, {"content", 7}};
    if (tl_io_replace(io, dir, "b.bin", pieces, 2, &e)) return __LINE__;
    if (tl_io_rename(io, b, a, &e) || tl_io_mkdir(io, sub, &e) || tl_io_mkdir(io, sub, &e)) {
        return __LINE__;
    }
    if (tl_io_sync_dir(io, dir, &e)) return __LINE__;
    names_t ns = {0};
    if (tl_io_list(io, dir, collect, &ns, &e) || !has(&ns, "a.bin") || has(&ns, "b.bin")) {
        return __LINE__;
    }
    if (!has(&ns, "sub") || has(&ns, "b.bin.tmp")) return __LINE__;
    uint8_t *all = NULL;
    size_t len = 0;
    if (tl_io_read_all(io, a, NULL, 1 << 20, &all, &len, &e) || len != 11) return __LINE__;
    int same = memcmp(all, "new content", 11) == 0;
    tl_mem_free(NULL, all, len);
    if (!same) return __LINE__;
    if (tl_io_read_all(io, a, NULL, 4, &all, &len, &e) != TL_ECORRUPT) return __LINE__;
    if (tl_io_unlink(io, a, &e) || tl_io_unlink(io, a, &e) != TL_EIO) return __LINE__;
    if (e.sys_errno != ENOENT || strstr(e.path, "a.bin") == NULL) return __LINE__;
    /* tl_io_remove: a present file goes, an absent one counts as removed. */
    if (tl_io_replace(io, dir, "b.bin", pieces, 2, &e) || tl_io_remove(io, b, &e)) return __LINE__;
    if (tl_io_open(&f, io, b, TL_IO_RDWR, &e) != TL_EIO || e.sys_errno != ENOENT) return __LINE__;
    if (tl_io_remove(io, b, &e) != TL_OK) return __LINE__;
    return 0;
}

TL_TEST(scenario_on_the_real_file_system) {
    const char *dir = make_tmp();
    CHECK(dir != NULL);
    int line = scenario(tl_io_default(), dir);
    char p[TL_IO_PATH_CAP];
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rm_rf(dir);
    CHECK_EQ_I64(line, 0);
}

TL_TEST(scenario_on_simfs) {
    tl_simfs_t *fs = tl_simfs_new(1);
    tl_simfs_mkdir_durable(fs, "/db");
    int line = scenario(tl_simfs_io(fs), "/db");
    int fds = tl_simfs_open_fds(fs);
    tl_simfs_free(fs);
    CHECK_EQ_I64(line, 0);
    CHECK_EQ_I64(fds, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Error records
 * ------------------------------------------------------------------------------------------- */

TL_TEST(error_records_format_with_context) {
    tl_io_err_t e;
    char msg[256];
    CHECK_ST(tl_io_err_sys(&e, -ENOSPC, "write", "wal-0000000000000001.log"), TL_EIO);
    tl_io_err_format(&e, msg, sizeof msg);
    CHECK(strcmp(msg, "write wal-0000000000000001.log: No space left on device (errno 28)") == 0);
    CHECK_ST(tl_io_err_sys(&e, -ENOMEM, "read", "x"), TL_ENOMEM);
    CHECK_ST(tl_io_err_corrupt(&e, "/db/MANIFEST", 24, "payload checksum mismatch"),
             TL_ECORRUPT);
    tl_io_err_format(&e, msg, sizeof msg);
    CHECK(strcmp(msg, "/db/MANIFEST: corrupt at offset 24: payload checksum mismatch") == 0);
    /* Truncated output: NUL-terminated within cap, full length returned. */
    size_t full = tl_io_err_format(&e, msg, 10);
    CHECK(full > 10 && strlen(msg) == 9);
    /* A path longer than the record keeps its tail (the file name). */
    char longp[3000];
    memset(longp, 'd', sizeof longp);
    memcpy(longp + sizeof longp - 12, "/wal-001.log", 12);
    longp[sizeof longp - 1] = '\0';
    tl_io_err_sys(&e, -EIO, "fdatasync", longp);
    CHECK(strncmp(e.path, "...", 3) == 0);
    CHECK(strstr(e.path, "/wal-001.lo") != NULL);
    CHECK(strlen(e.path) == TL_IO_PATH_CAP - 1);
    CHECK(strcmp(tl_io_errno_text(EROFS), "Read-only file system") == 0);
    CHECK(strcmp(tl_io_errno_text(123456), "Unknown error") == 0);
    tl_io_err_clear(&e);
    tl_io_err_format(&e, msg, sizeof msg);
    CHECK(strcmp(msg, "no error") == 0);
    CHECK_ST(tl_io_err_sys(NULL, -EIO, "x", "y"), TL_EIO); /* NULL record: status only */
    char out[TL_IO_PATH_CAP];
    CHECK_ST(tl_io_join(out, longp, "x", &e), TL_EINVAL);
    CHECK(strcmp(e.what, "path too long") == 0);
}

TL_TEST(real_errors_carry_errno_and_path) {
    const char *dir = make_tmp();
    CHECK(dir != NULL);
    char p[TL_IO_PATH_CAP], msg[TL_IO_PATH_CAP + 128];
    tl_io_err_t e;
    tl_io_file_t f;
    tl_io_join(p, dir, "missing", &e);
    tl_status_t st = tl_io_open(&f, tl_io_default(), p, TL_IO_READ, &e);
    tl_io_err_format(&e, msg, sizeof msg);
    int ok1 = st == TL_EIO && e.sys_errno == ENOENT && strstr(msg, "No such file") != NULL &&
              strstr(msg, "/missing") != NULL && strncmp(msg, "open ", 5) == 0;
    /* Writing through a read-only descriptor: EBADF, named. */
    tl_io_join(p, dir, "ro", &e);
    tl_io_open(&f, tl_io_default(), p, TL_IO_RDWR | TL_IO_CREATE, &e);
    tl_io_close(&f, &e);
    tl_io_open(&f, tl_io_default(), p, TL_IO_READ, &e);
    st = tl_io_write(&f, "x", 1, 0, &e);
    int ok2 = st == TL_EIO && e.sys_errno == EBADF && strcmp(e.op, "write") == 0;
    tl_io_close(&f, NULL);
    /* Permission errors need a non-root user (root bypasses mode bits). */
    int ok3 = 1;
    if (geteuid() != 0) {
        char ro[TL_IO_PATH_CAP];
        tl_io_join(ro, dir, "rodir", &e);
        mkdir(ro, 0500);
        tl_io_join(p, ro, "f", &e);
        st = tl_io_open(&f, tl_io_default(), p, TL_IO_RDWR | TL_IO_CREATE, &e);
        ok3 = st == TL_EIO && e.sys_errno == EACCES;
        chmod(ro, 0700);
    } else {
        printf("  (root: EACCES on the real file system not testable; simfs injects it)\n");
    }
    rm_rf(dir);
    CHECK(ok1);
    CHECK(ok2);
    CHECK(ok3);
}

/* ---------------------------------------------------------------------------------------------
 * Retry policy and fault injection (simfs)
 * ------------------------------------------------------------------------------------------- */

TL_TEST(retry_policy) {
    tl_simfs_t *fs = tl_simfs_new(7);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_err_t e;
    tl_io_file_t f;
    CHECK_OK(tl_io_open(&f, tl_simfs_io(fs), "/db/f", TL_IO_RDWR | TL_IO_CREATE, &e));
    /* One EINTR: retried, succeeds, one sleep of the first step. */
    tl_simfs_fail_at(fs, 1, EINTR, 1);
    uint64_t c0 = tl_simfs_calls(fs);
    CHECK_OK(tl_io_write(&f, "abc", 3, 0, &e));
    CHECK_EQ_U64(tl_simfs_calls(fs) - c0, 2);
    CHECK_EQ_U64(tl_simfs_sleeps(fs), 1);
    CHECK_EQ_U64(tl_simfs_slept_us(fs), TL_IO_SLEEP_FIRST_US);
    /* Persistent EAGAIN: TL_IO_ATTEMPTS tries, doubling sleeps, then TL_EIO with the errno. */
    tl_simfs_fail_at(fs, 1, EAGAIN, 1000);
    c0 = tl_simfs_calls(fs);
    CHECK_ST(tl_io_sync(&f, &e), TL_EIO);
    CHECK_EQ_U64(tl_simfs_calls(fs) - c0, TL_IO_ATTEMPTS);
    CHECK_EQ_I64(e.sys_errno, EAGAIN);
    CHECK(strcmp(e.op, "fdatasync") == 0 && strcmp(e.path, "/db/f") == 0);
    uint64_t want = 0;
    for (unsigned k = 0; k + 1 < TL_IO_ATTEMPTS; k++) {
        uint64_t us = (uint64_t)TL_IO_SLEEP_FIRST_US << k;
        want += us > TL_IO_SLEEP_MAX_US ? TL_IO_SLEEP_MAX_US : us;
    }
    CHECK_EQ_U64(tl_simfs_slept_us(fs), TL_IO_SLEEP_FIRST_US + want);
    /* Persistent errors are not retried. */
    const int persistent[] = {ENOSPC, EIO, EACCES, EROFS, EDQUOT};
    for (size_t i = 0; i < sizeof persistent / sizeof *persistent; i++) {
        tl_simfs_fail_at(fs, 1, persistent[i], 1000);
        c0 = tl_simfs_calls(fs);
        uint64_t s0 = tl_simfs_sleeps(fs);
        CHECK_ST(tl_io_write(&f, "x", 1, 0, &e), TL_EIO);
        CHECK_EQ_U64(tl_simfs_calls(fs) - c0, 1);
        CHECK_EQ_U64(tl_simfs_sleeps(fs), s0);
        CHECK_EQ_I64(e.sys_errno, persistent[i]);
    }
    tl_simfs_fail_at(fs, 0, 0, 0);
    CHECK_OK(tl_io_close(&f, &e));
    tl_simfs_free(fs);
}

TL_TEST(short_writes_are_continued) {
    tl_simfs_t *fs = tl_simfs_new(11);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_simfs_short_writes(fs, true);
    tl_io_err_t e;
    tl_io_file_t f;
    uint8_t data[5000], back[5000];
    tl_t_rng = 99;
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)tl_t_rnd();
    CHECK_OK(tl_io_open(&f, tl_simfs_io(fs), "/db/f", TL_IO_RDWR | TL_IO_CREATE, &e));
    uint64_t c0 = tl_simfs_calls(fs);
    for (int i = 0; i < 20; i++) CHECK_OK(tl_io_write(&f, data, sizeof data, 0, &e));
    CHECK(tl_simfs_calls(fs) - c0 > 20); /* some writes were short and continued */
    size_t got = 0;
    CHECK_OK(tl_io_read(&f, back, sizeof back, 0, &got, &e));
    CHECK_EQ_U64(got, sizeof data);
    CHECK(memcmp(back, data, sizeof data) == 0);
    CHECK_OK(tl_io_close(&f, &e));
    tl_simfs_free(fs);
}

/* Every shim entry point fails with the injected errno and names its operation and path. */
TL_TEST(every_operation_reports_its_context) {
    tl_simfs_t *fs = tl_simfs_new(3);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_err_t e;
    tl_io_file_t f;
    CHECK_OK(tl_io_open(&f, io, "/db/f", TL_IO_RDWR | TL_IO_CREATE, &e));
    uint8_t b[4];
    size_t got;
    uint64_t sz;
    const void *m;
    for (int op = 0; op < 11; op++) {
        tl_simfs_fail_at(fs, 1, EROFS, 1);
        tl_status_t st;
        const char *want = NULL;
        switch (op) {
        case 0: st = tl_io_write(&f, "x", 1, 0, &e), want = "write"; break;
        case 1: st = tl_io_read(&f, b, 4, 0, &got, &e), want = "read"; break;
        case 2: st = tl_io_sync(&f, &e), want = "fdatasync"; break;
        case 3: st = tl_io_truncate(&f, 0, &e), want = "ftruncate"; break;
        case 4: st = tl_io_size(&f, &sz, &e), want = "fstat"; break;
        case 5: st = tl_io_rename(io, "/db/f", "/db/g", &e), want = "rename"; break;
        case 6: st = tl_io_unlink(io, "/db/f", &e), want = "unlink"; break;
        case 7: st = tl_io_mkdir(io, "/db/d", &e), want = "mkdir"; break;
        case 8: st = tl_io_sync_dir(io, "/db", &e), want = "fsync"; break;
        case 9: st = tl_io_list(io, "/db", collect, &(names_t){0}, &e), want = "readdir"; break;
        default: st = tl_io_map(&f, 1, &m, &e), want = "mmap"; break;
        }
        if (st != TL_EIO || e.sys_errno != EROFS || strcmp(e.op, want) != 0 ||
            strncmp(e.path, "/db", 3) != 0) {
            TL_FAIL_("op %d (%s): status %d errno %d op %s path %s", op, want, st, e.sys_errno,
                     e.op ? e.op : "-", e.path);
        }
    }
    tl_simfs_fail_at(fs, 1, EIO, 1);
    CHECK_ST(tl_io_close(&f, &e), TL_EIO); /* reported, and the descriptor is gone anyway */
    CHECK_EQ_I64(f.fd, -1);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0); /* as POSIX, a failed close still releases */
    CHECK(strcmp(tl_simfs_fault_op(fs), "close") == 0);
    tl_simfs_free(fs);
}

/* ---------------------------------------------------------------------------------------------
 * Directory lock
 * ------------------------------------------------------------------------------------------- */

/* In a child process: 0 = got the lock, 1 = TL_ELOCKED, 2 = other failure. */
static int child_lock(const char *dir) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int lock;
        tl_status_t st = tl_io_lock(tl_io_default(), dir, &lock, NULL);
        _exit(st == TL_OK ? 0 : st == TL_ELOCKED ? 1 : 2);
    }
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws)) return 3;
    return WEXITSTATUS(ws);
}

TL_TEST(directory_lock_is_exclusive) {
    const char *dir = make_tmp();
    CHECK(dir != NULL);
    const tl_io_t *io = tl_io_default();
    tl_io_err_t e;
    int l1 = -1, l2 = -1;
    tl_status_t s1 = tl_io_lock(io, dir, &l1, &e);
    tl_status_t s2 = tl_io_lock(io, dir, &l2, &e); /* same process, second handle */
    char msg[TL_IO_PATH_CAP + 128];
    tl_io_err_format(&e, msg, sizeof msg);
    int other = child_lock(dir);
    tl_io_unlock(io, l1);
    int after = child_lock(dir);
    tl_status_t s3 = tl_io_lock(io, dir, &l2, &e);
    tl_io_unlock(io, l2);
    rm_rf(dir);
    CHECK_OK(s1);
    CHECK_ST(s2, TL_ELOCKED);
    CHECK(strstr(msg, "held by another live log") != NULL && strstr(msg, "lock ") == msg);
    CHECK_EQ_I64(other, 1);
    CHECK_EQ_I64(after, 0);
    CHECK_OK(s3);
    /* simfs: the same contract, and a crash (process death) releases it. */
    tl_simfs_t *fs = tl_simfs_new(5);
    tl_simfs_mkdir_durable(fs, "/db");
    CHECK_OK(tl_io_lock(tl_simfs_io(fs), "/db", &l1, &e));
    CHECK_ST(tl_io_lock(tl_simfs_io(fs), "/db", &l2, &e), TL_ELOCKED);
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK_OK(tl_io_lock(tl_simfs_io(fs), "/db", &l2, &e));
    tl_io_unlock(tl_simfs_io(fs), l1); /* stale handle from before the crash: ignored */
    CHECK_ST(tl_io_lock(tl_simfs_io(fs), "/db", &l1, &e), TL_ELOCKED);
    tl_io_unlock(tl_simfs_io(fs), l2);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

/* ---------------------------------------------------------------------------------------------
 * simfs's crash model
 * ------------------------------------------------------------------------------------------- */

static size_t file_len(tl_simfs_t *fs, const char *path) {
    uint8_t *d = NULL;
    size_t n = 0;
    if (tl_simfs_get(fs, path, &d, &n) != 0) return (size_t)-1;
    free(d);
    return n;
}

TL_TEST(simfs_loses_what_was_not_synced) {
    tl_simfs_t *fs = tl_simfs_new(9);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_err_t e;
    tl_io_file_t f;
    /* A new file, synced, but its directory entry not: gone after the crash. */
    CHECK_OK(tl_io_open(&f, io, "/db/a", TL_IO_RDWR | TL_IO_CREATE, &e));
    CHECK_OK(tl_io_write(&f, "0123456789", 10, 0, &e));
    CHECK_OK(tl_io_sync(&f, &e));
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK(!tl_simfs_exists(fs, "/db/a"));
    /* Entry synced: the synced bytes survive, later unsynced bytes do not. */
    CHECK_OK(tl_io_open(&f, io, "/db/a", TL_IO_RDWR | TL_IO_CREATE, &e));
    CHECK_OK(tl_io_write(&f, "0123456789", 10, 0, &e));
    CHECK_OK(tl_io_sync(&f, &e));
    CHECK_OK(tl_io_sync_dir(io, "/db", &e));
    CHECK_OK(tl_io_write(&f, "abcdef", 6, 10, &e));
    CHECK_EQ_U64(file_len(fs, "/db/a"), 16);
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK_EQ_U64(file_len(fs, "/db/a"), 10);
    /* A rename and an unlink are volatile until the directory is synced. */
    CHECK_OK(tl_io_rename(io, "/db/a", "/db/b", &e));
    CHECK(tl_simfs_exists(fs, "/db/b") && !tl_simfs_exists(fs, "/db/a"));
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK(tl_simfs_exists(fs, "/db/a") && !tl_simfs_exists(fs, "/db/b"));
    CHECK_OK(tl_io_unlink(io, "/db/a", &e));
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK(tl_simfs_exists(fs, "/db/a"));
    CHECK_OK(tl_io_unlink(io, "/db/a", &e));
    CHECK_OK(tl_io_sync_dir(io, "/db", &e));
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK(!tl_simfs_exists(fs, "/db/a"));
    /* mkdir is an entry of the parent: lost unless the parent is synced. */
    CHECK_OK(tl_io_mkdir(io, "/db/sub", &e));
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK(!tl_simfs_exists(fs, "/db/sub"));
    /* tl_io_mkdir_durable syncs the parent (found with or without a trailing slash). */
    CHECK_OK(tl_io_mkdir_durable(io, "/db/sub", &e));
    CHECK_OK(tl_io_mkdir_durable(io, "/db/sub/", &e)); /* exists: syncs again, OK */
    CHECK_OK(tl_io_mkdir_durable(io, "db//sub2/", &e));
    tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    CHECK(tl_simfs_exists(fs, "/db/sub") && tl_simfs_exists(fs, "/db/sub2"));
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

/* Writes 4 unsynced 100-byte writes after 100 synced bytes, crashes with a tear, returns the
 * surviving bytes (malloc'd) and checks the tear's shape. */
static int torn_shape(uint64_t seed, int tear) {
    tl_simfs_t *fs = tl_simfs_new(seed);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_file_t f;
    uint8_t w[500];
    for (int i = 0; i < 500; i++) w[i] = (uint8_t)(i % 251 + 1); /* never 0 */
    tl_io_open(&f, io, "/db/a", TL_IO_RDWR | TL_IO_CREATE, NULL);
    tl_io_write(&f, w, 100, 0, NULL);
    tl_io_sync(&f, NULL);
    tl_io_sync_dir(io, "/db", NULL);
    for (int k = 1; k < 5; k++) tl_io_write(&f, w + 100 * k, 100, 100 * (uint64_t)k, NULL);
    tl_simfs_crash(fs, tear);
    uint8_t *d = NULL;
    size_t n = 0;
    int bad = tl_simfs_get(fs, "/db/a", &d, &n) != 0 || n < 100 || n > 500;
    size_t match = 0; /* the intact prefix */
    while (!bad && match < n && d[match] == w[match]) match++;
    if (!bad && tear == TL_SIM_TEAR_PREFIX) bad = match != n;
    if (!bad && tear == TL_SIM_TEAR_ZERO) {
        for (size_t i = match; i < n; i++) bad |= d[i] != 0;
        bad |= match < n && n % 100 != 0; /* zeros fill the torn write to its end */
    }
    if (!bad && tear == TL_SIM_TEAR_GARBAGE) bad = match < 100 || n % 100 != 0;
    free(d);
    tl_simfs_free(fs);
    return bad ? -1 : (int)match;
}

TL_TEST(simfs_tears_the_last_write) {
    for (int tear = TL_SIM_TEAR_PREFIX; tear <= TL_SIM_TEAR_GARBAGE; tear++) {
        int seen_short = 0, seen_long = 0;
        for (uint64_t seed = 1; seed <= 60; seed++) {
            int m = torn_shape(seed, tear);
            if (m < 0) TL_FAIL_("tear %d seed %" PRIu64 ": wrong shape", tear, seed);
            seen_short |= m < 200;
            seen_long |= m > 300;
            CHECK_EQ_I64(m, torn_shape(seed, tear)); /* reproducible from the seed */
        }
        CHECK(seen_short && seen_long); /* the tear lands anywhere in the pending writes */
    }
}

int main(void) {
    RUN(scenario_on_the_real_file_system);
    RUN(scenario_on_simfs);
    RUN(error_records_format_with_context);
    RUN(real_errors_carry_errno_and_path);
    RUN(retry_policy);
    RUN(short_writes_are_continued);
    RUN(every_operation_reports_its_context);
    RUN(directory_lock_is_exclusive);
    RUN(simfs_loses_what_was_not_synced);
    RUN(simfs_tears_the_last_write);
    return tl_test_done("disk_io_test");
}
