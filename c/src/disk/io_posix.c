/*
 * io_posix.c — tl_io_t over POSIX (Linux, macOS): the real file system.
 *
 * Structure: one static function per vtable slot, each a thin mapping of one system call that
 * returns -errno on failure (retries and messages live in io.c). The vtable is a static const
 * object without state, shared by every caller (tl_io_default).
 *
 * Platform choices, and why:
 *   - datasync: fdatasync on Linux (data and the size, not the mtime). On macOS fsync only
 *     reaches the drive's cache; F_FULLFSYNC asks the drive to flush it, so a power loss
 *     cannot lose a synced write. Filesystems without F_FULLFSYNC fall back to fsync.
 *   - sync_dir: open the directory read-only and fsync it, which makes creates, renames and
 *     unlinks in it durable. EINVAL (filesystems that cannot sync a directory) counts as done,
 *     as PostgreSQL and SQLite do: there is nothing more we could ask for.
 *   - lock_dir: flock(LOCK_EX | LOCK_NB) on dir/LOCK. flock locks belong to the open file
 *     description, so a second open of the same directory in the SAME process conflicts too
 *     (fcntl record locks would not: they are per process, and closing any descriptor of the
 *     file drops them). The LOCK file stays; its presence means nothing, only the lock does.
 *     On NFS, Linux emulates flock with byte-range locks: the same-process guarantee is lost
 *     there (documented in docs/disk.md).
 *   - close: EINTR from close is success (Linux and macOS release the descriptor anyway;
 *     retrying could close a descriptor another thread just got).
 *   - every descriptor is O_CLOEXEC, so a child process never inherits a lock or a file.
 *
 * Complexity: one system call per operation (listing: one per entry).
 */
#if !defined(_WIN32)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/io.h"

static int neg_errno(void) { return errno > 0 ? -errno : -EIO; }

static int px_open(void *ctx, const char *path, int flags, int *fd) {
    (void)ctx;
    int of = O_CLOEXEC | ((flags & TL_IO_RDWR) ? O_RDWR : O_RDONLY);
    if (flags & TL_IO_CREATE) of |= O_CREAT;
    if (flags & TL_IO_EXCL) of |= O_EXCL;
    if (flags & TL_IO_TRUNC) of |= O_TRUNC;
    int r = open(path, of, 0644);
    if (r < 0) return neg_errno();
    *fd = r;
    return 0;
}

static int64_t px_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off) {
    (void)ctx;
    if (off > (uint64_t)INT64_MAX) return -EINVAL;
    ssize_t r = pread(fd, buf, len, (off_t)off);
    return r < 0 ? neg_errno() : (int64_t)r;
}

static int64_t px_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off) {
    (void)ctx;
    if (off > (uint64_t)INT64_MAX) return -EINVAL;
    ssize_t r = pwrite(fd, buf, len, (off_t)off);
    return r < 0 ? neg_errno() : (int64_t)r;
}

/* fsync for files and directories, the strongest the platform offers. */
static int full_sync(int fd, bool data_only) {
#if defined(__APPLE__)
    (void)data_only;
    if (fcntl(fd, F_FULLFSYNC) == 0) return 0;
    return fsync(fd) == 0 ? 0 : neg_errno();
#elif defined(__linux__)
    int r = data_only ? fdatasync(fd) : fsync(fd);
    return r == 0 ? 0 : neg_errno();
#else
    (void)data_only;
    return fsync(fd) == 0 ? 0 : neg_errno();
#endif
}

static int px_datasync(void *ctx, int fd) {
    (void)ctx;
    return full_sync(fd, true);
}

static int px_truncate(void *ctx, int fd, uint64_t size) {
    (void)ctx;
    if (size > (uint64_t)INT64_MAX) return -EINVAL;
    return ftruncate(fd, (off_t)size) == 0 ? 0 : neg_errno();
}

static int px_size(void *ctx, int fd, uint64_t *size) {
    (void)ctx;
    struct stat st;
    if (fstat(fd, &st) != 0) return neg_errno();
    *size = st.st_size < 0 ? 0 : (uint64_t)st.st_size;
    return 0;
}

static int px_close(void *ctx, int fd) {
    (void)ctx;
    if (close(fd) == 0 || errno == EINTR) return 0;
    return neg_errno();
}

static int px_rename(void *ctx, const char *from, const char *to) {
    (void)ctx;
    return rename(from, to) == 0 ? 0 : neg_errno();
}

static int px_unlink(void *ctx, const char *path) {
    (void)ctx;
    return unlink(path) == 0 ? 0 : neg_errno();
}

static int px_mkdir(void *ctx, const char *path) {
    (void)ctx;
    return mkdir(path, 0755) == 0 ? 0 : neg_errno();
}

static int px_sync_dir(void *ctx, const char *path) {
    (void)ctx;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0) return neg_errno();
    int r = full_sync(fd, false);
    (void)close(fd);
    return r == -EINVAL ? 0 : r;
}

static int px_list_dir(void *ctx, const char *path, tl_io_list_fn fn, void *arg) {
    (void)ctx;
    DIR *d = opendir(path);
    if (d == NULL) return neg_errno();
    int r = 0;
    for (;;) {
        errno = 0;
        struct dirent *ent = readdir(d);
        if (ent == NULL) {
            if (errno != 0) r = neg_errno();
            break;
        }
        const char *n = ent->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
        r = fn(arg, n);
        if (r != 0) break;
    }
    (void)closedir(d);
    return r;
}

static int px_lock_dir(void *ctx, const char *dir, int *lock) {
    (void)ctx;
    char path[TL_IO_PATH_CAP];
    if (tl_io_join(path, dir, "LOCK", NULL) != TL_OK) return -ENAMETOOLONG;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return neg_errno();
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int r = neg_errno();
        (void)close(fd);
        return r;
    }
    *lock = fd;
    return 0;
}

static int px_unlock_dir(void *ctx, int lock) {
    (void)ctx;
    (void)flock(lock, LOCK_UN);
    return close(lock) == 0 ? 0 : neg_errno();
}

static int px_map(void *ctx, int fd, uint64_t len, const void **addr) {
    (void)ctx;
    if (len == 0 || len > (uint64_t)SIZE_MAX) return -EINVAL;
    void *p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return neg_errno();
    *addr = p;
    return 0;
}

static int px_unmap(void *ctx, const void *addr, uint64_t len) {
    (void)ctx;
    return munmap((void *)(uintptr_t)addr, (size_t)len) == 0 ? 0 : neg_errno();
}

static void px_sleep_us(void *ctx, uint32_t us) {
    (void)ctx;
    struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const tl_io_t k_posix_io = {
    .ctx = NULL,
    .open = px_open,
    .pread = px_pread,
    .pwrite = px_pwrite,
    .datasync = px_datasync,
    .truncate = px_truncate,
    .size = px_size,
    .close = px_close,
    .rename = px_rename,
    .unlink = px_unlink,
    .mkdir = px_mkdir,
    .sync_dir = px_sync_dir,
    .list_dir = px_list_dir,
    .lock_dir = px_lock_dir,
    .unlock_dir = px_unlock_dir,
    .map = px_map,
    .unmap = px_unmap,
    .sleep_us = px_sleep_us,
};

const tl_io_t *tl_io_default(void) { return &k_posix_io; }

#endif /* !_WIN32 */
