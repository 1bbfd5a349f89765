/*
 * io_win.c — tl_io_t on Windows: not supported yet.
 *
 * Durable logs need a Windows port of io_posix.c (CreateFileW with FILE_SHARE_DELETE so a
 * replace can rename over an open file, FlushFileBuffers, MoveFileExW with
 * MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH, LockFileEx on the LOCK file, directory
 * listing by FindFirstFileW, and no directory fsync: NTFS journals the rename itself). Until
 * then the library still builds for Windows (in-memory logs work) and every disk call fails
 * with ENOSYS, which the shim reports as TL_EIO "durable logs are not supported on Windows
 * yet" (io.c, tl_io_err_sys).
 */
#if defined(_WIN32)

#include <errno.h>

#include "disk/io.h"

static int w_open(void *ctx, const char *path, int flags, int *fd) {
    (void)ctx, (void)path, (void)flags, (void)fd;
    return -ENOSYS;
}

static int64_t w_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off) {
    (void)ctx, (void)fd, (void)buf, (void)len, (void)off;
    return -ENOSYS;
}

static int64_t w_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off) {
    (void)ctx, (void)fd, (void)buf, (void)len, (void)off;
    return -ENOSYS;
}

static int w_fd(void *ctx, int fd) {
    (void)ctx, (void)fd;
    return -ENOSYS;
}

static int w_truncate(void *ctx, int fd, uint64_t size) {
    (void)ctx, (void)fd, (void)size;
    return -ENOSYS;
}

static int w_size(void *ctx, int fd, uint64_t *size) {
    (void)ctx, (void)fd;
    *size = 0;
    return -ENOSYS;
}

static int w_rename(void *ctx, const char *from, const char *to) {
    (void)ctx, (void)from, (void)to;
    return -ENOSYS;
}

static int w_path(void *ctx, const char *path) {
    (void)ctx, (void)path;
    return -ENOSYS;
}

static int w_list_dir(void *ctx, const char *path, tl_io_list_fn fn, void *arg) {
    (void)ctx, (void)path, (void)fn, (void)arg;
    return -ENOSYS;
}

static int w_lock_dir(void *ctx, const char *dir, int *lock) {
    (void)ctx, (void)dir;
    *lock = -1;
    return -ENOSYS;
}

static void w_sleep_us(void *ctx, uint32_t us) { (void)ctx, (void)us; }

static const tl_io_t k_win_io = {
    .ctx = NULL,
    .open = w_open,
    .pread = w_pread,
    .pwrite = w_pwrite,
    .datasync = w_fd,
    .truncate = w_truncate,
    .size = w_size,
    .close = w_fd,
    .rename = w_rename,
    .unlink = w_path,
    .mkdir = w_path,
    .sync_dir = w_path,
    .list_dir = w_list_dir,
    .lock_dir = w_lock_dir,
    .unlock_dir = w_fd,
    .map = NULL,
    .unmap = NULL,
    .sleep_us = w_sleep_us,
};

const tl_io_t *tl_io_default(void) { return &k_win_io; }

#endif /* _WIN32 */
