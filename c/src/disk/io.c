/*
 * io.c — the shim over tl_io_t: retries, full-length loops, error records (see io.h).
 *
 * Structure. Every wrapper calls one vtable operation inside `again()`: EINTR and EAGAIN are
 * retried on the calling thread up to TL_IO_ATTEMPTS tries, sleeping TL_IO_SLEEP_FIRST_US,
 * then twice as long each time, capped at TL_IO_SLEEP_MAX_US (worst case 3.1 ms per call);
 * any other error is returned at once with its context. The lessons behind it: a retry loop
 * that never ends, or a thread spawned per retry, turns one sick disk into an exhausted
 * process; a persistent error (EIO, ENOSPC, EROFS, EACCES) does not heal by retrying.
 * Reads and writes larger than TL_IO_CHUNK_MAX, or answered short, are continued from where
 * they stopped.
 *
 * Invariants: a wrapper that fails fills the caller's tl_io_err_t (when given) and returns its
 * status; it never returns TL_OK with a partial effect it did not report (a short write is
 * continued, or the failure says where it stopped). close is never retried (the descriptor is
 * released by the first call whatever it returns).
 *
 * Complexity: O(1) calls per operation plus one per chunk or short transfer; no allocation
 * except tl_io_read_all's buffer.
 */
#include "disk/io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Error records
 * ------------------------------------------------------------------------------------------- */

void tl_io_err_clear(tl_io_err_t *e) {
    if (e == NULL) return;
    e->status = TL_OK;
    e->sys_errno = 0;
    e->offset = 0;
    e->op = NULL;
    e->what = NULL;
    e->path[0] = '\0';
}

/* Copies path, keeping its last bytes when it is too long (the file name is what matters). */
static void put_path(tl_io_err_t *e, const char *path) {
    if (path == NULL) path = "";
    size_t n = strlen(path);
    if (n < TL_IO_PATH_CAP) {
        memcpy(e->path, path, n + 1);
        return;
    }
    size_t keep = TL_IO_PATH_CAP - 4;
    memcpy(e->path, "...", 3);
    memcpy(e->path + 3, path + n - keep, keep + 1);
}

tl_status_t tl_io_err_set(tl_io_err_t *e, tl_status_t st, const char *op, const char *path,
                          const char *what) {
    if (e == NULL) return st;
    tl_io_err_clear(e);
    e->status = st;
    e->op = op;
    e->what = what;
    put_path(e, path);
    return st;
}

tl_status_t tl_io_err_sys(tl_io_err_t *e, int neg_errno, const char *op, const char *path) {
    int err = neg_errno < 0 ? -neg_errno : neg_errno;
    tl_status_t st = err == ENOMEM ? TL_ENOMEM : TL_EIO;
    const char *what = NULL;
#if defined(_WIN32)
    if (err == ENOSYS) what = "durable logs are not supported on Windows yet";
#endif
    tl_io_err_set(e, st, op, path, what);
    if (e != NULL) e->sys_errno = err;
    return st;
}

tl_status_t tl_io_err_corrupt(tl_io_err_t *e, const char *path, uint64_t offset,
                              const char *what) {
    tl_io_err_set(e, TL_ECORRUPT, NULL, path, what);
    if (e != NULL) e->offset = offset;
    return TL_ECORRUPT;
}

const char *tl_io_errno_text(int err) {
    switch (err) {
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case EINTR: return "Interrupted system call";
    case EIO: return "Input/output error";
    case EBADF: return "Bad file descriptor";
    case EAGAIN: return "Resource temporarily unavailable";
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return "Resource temporarily unavailable";
#endif
    case ENOMEM: return "Cannot allocate memory";
    case EACCES: return "Permission denied";
    case EEXIST: return "File exists";
    case EXDEV: return "Invalid cross-device link";
    case ENOTDIR: return "Not a directory";
    case EISDIR: return "Is a directory";
    case EINVAL: return "Invalid argument";
    case ENFILE: return "Too many open files in system";
    case EMFILE: return "Too many open files";
    case EFBIG: return "File too large";
    case ENOSPC: return "No space left on device";
    case EROFS: return "Read-only file system";
    case ENAMETOOLONG: return "File name too long";
    case ENOSYS: return "Function not implemented";
    case ENOTEMPTY: return "Directory not empty";
#if defined(EDQUOT)
    case EDQUOT: return "Disk quota exceeded";
#endif
#if defined(ESTALE)
    case ESTALE: return "Stale file handle";
#endif
#if defined(ELOOP)
    case ELOOP: return "Too many levels of symbolic links";
#endif
    default: return "Unknown error";
    }
}

size_t tl_io_err_format(const tl_io_err_t *e, char *buf, size_t cap) {
    char tmp[TL_IO_PATH_CAP + 256];
    int n;
    if (e == NULL || e->status == TL_OK) {
        n = snprintf(tmp, sizeof tmp, "no error");
    } else if (e->status == TL_ECORRUPT) {
        n = snprintf(tmp, sizeof tmp, "%s: corrupt at offset %llu: %s", e->path,
                     (unsigned long long)e->offset, e->what ? e->what : "bad data");
    } else if (e->sys_errno != 0) {
        n = snprintf(tmp, sizeof tmp, "%s %s: %s (errno %d)%s%s", e->op ? e->op : "io",
                     e->path, tl_io_errno_text(e->sys_errno), e->sys_errno,
                     e->what ? ": " : "", e->what ? e->what : "");
    } else {
        n = snprintf(tmp, sizeof tmp, "%s %s: %s", e->op ? e->op : "io", e->path,
                     e->what ? e->what : tl_strerror((int)e->status));
    }
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= sizeof tmp) len = sizeof tmp - 1;
    if (buf != NULL && cap > 0) {
        size_t k = len < cap - 1 ? len : cap - 1;
        memcpy(buf, tmp, k);
        buf[k] = '\0';
    }
    return len;
}

/* ---------------------------------------------------------------------------------------------
 * Retry policy
 * ------------------------------------------------------------------------------------------- */

/* After a failed try (r < 0): true when the call should be tried again, after the backoff
 * sleep. *attempt counts the tries made so far. */
static bool again(const tl_io_t *io, int64_t r, unsigned *attempt) {
    if (r != -EINTR && r != -EAGAIN) return false;
    if (*attempt >= TL_IO_ATTEMPTS) return false;
    uint32_t us = TL_IO_SLEEP_FIRST_US << (*attempt - 1);
    if (us > TL_IO_SLEEP_MAX_US) us = TL_IO_SLEEP_MAX_US;
    (*attempt)++;
    if (io->sleep_us != NULL) io->sleep_us(io->ctx, us);
    return true;
}

#define RETRY(io, r, call)                                                                  \
    do {                                                                                    \
        unsigned attempt_ = 1;                                                              \
        do (r) = (call);                                                                    \
        while ((r) < 0 && again((io), (r), &attempt_));                                     \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------------------------- */

tl_status_t tl_io_join(char out[TL_IO_PATH_CAP], const char *dir, const char *name,
                       tl_io_err_t *e) {
    size_t d = strlen(dir), n = strlen(name);
    bool slash = d > 0 && dir[d - 1] != '/';
    if (d + slash + n >= TL_IO_PATH_CAP) {
        out[0] = '\0';
        return tl_io_err_set(e, TL_EINVAL, "open", dir, "path too long");
    }
    memcpy(out, dir, d);
    if (slash) out[d++] = '/';
    memcpy(out + d, name, n + 1);
    return TL_OK;
}

tl_status_t tl_io_open(tl_io_file_t *f, const tl_io_t *io, const char *path, int flags,
                       tl_io_err_t *e) {
    f->io = io;
    f->fd = -1;
    size_t n = strlen(path);
    if (n >= TL_IO_PATH_CAP) return tl_io_err_set(e, TL_EINVAL, "open", path, "path too long");
    memcpy(f->path, path, n + 1);
    int r, fd = -1;
    RETRY(io, r, io->open(io->ctx, path, flags, &fd));
    if (r < 0) return tl_io_err_sys(e, r, "open", path);
    f->fd = fd;
    return TL_OK;
}

tl_status_t tl_io_read(tl_io_file_t *f, void *buf, size_t len, uint64_t off, size_t *got,
                       tl_io_err_t *e) {
    const tl_io_t *io = f->io;
    size_t done = 0;
    *got = 0;
    while (done < len) {
        size_t want = len - done < TL_IO_CHUNK_MAX ? len - done : TL_IO_CHUNK_MAX;
        int64_t r;
        RETRY(io, r, io->pread(io->ctx, f->fd, (uint8_t *)buf + done, want, off + done));
        if (r < 0) return tl_io_err_sys(e, (int)r, "read", f->path);
        if (r == 0) break; /* end of file */
        done += (size_t)r;
        *got = done;
    }
    return TL_OK;
}

tl_status_t tl_io_write(tl_io_file_t *f, const void *buf, size_t len, uint64_t off,
                        tl_io_err_t *e) {
    const tl_io_t *io = f->io;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done < TL_IO_CHUNK_MAX ? len - done : TL_IO_CHUNK_MAX;
        int64_t r;
        RETRY(io, r, io->pwrite(io->ctx, f->fd, (const uint8_t *)buf + done, want, off + done));
        if (r < 0) return tl_io_err_sys(e, (int)r, "write", f->path);
        if (r == 0) {
            tl_io_err_sys(e, -EIO, "write", f->path);
            if (e != NULL) e->what = "the write made no progress";
            return TL_EIO;
        }
        done += (size_t)r;
    }
    return TL_OK;
}

tl_status_t tl_io_sync(tl_io_file_t *f, tl_io_err_t *e) {
    int r;
    RETRY(f->io, r, f->io->datasync(f->io->ctx, f->fd));
    return r < 0 ? tl_io_err_sys(e, r, "fdatasync", f->path) : TL_OK;
}

tl_status_t tl_io_truncate(tl_io_file_t *f, uint64_t size, tl_io_err_t *e) {
    int r;
    RETRY(f->io, r, f->io->truncate(f->io->ctx, f->fd, size));
    return r < 0 ? tl_io_err_sys(e, r, "ftruncate", f->path) : TL_OK;
}

tl_status_t tl_io_size(tl_io_file_t *f, uint64_t *size, tl_io_err_t *e) {
    int r;
    *size = 0;
    RETRY(f->io, r, f->io->size(f->io->ctx, f->fd, size));
    return r < 0 ? tl_io_err_sys(e, r, "fstat", f->path) : TL_OK;
}

tl_status_t tl_io_close(tl_io_file_t *f, tl_io_err_t *e) {
    if (f->fd < 0) return TL_OK;
    int r = f->io->close(f->io->ctx, f->fd);
    f->fd = -1;
    return r < 0 ? tl_io_err_sys(e, r, "close", f->path) : TL_OK;
}

tl_status_t tl_io_map(tl_io_file_t *f, uint64_t len, const void **addr, tl_io_err_t *e) {
    *addr = NULL;
    if (len == 0) return TL_OK;
    if (f->io->map == NULL) return tl_io_err_set(e, TL_EINVAL, "mmap", f->path, "no mmap");
    int r;
    RETRY(f->io, r, f->io->map(f->io->ctx, f->fd, len, addr));
    return r < 0 ? tl_io_err_sys(e, r, "mmap", f->path) : TL_OK;
}

void tl_io_unmap(const tl_io_t *io, const void *addr, uint64_t len) {
    if (addr != NULL && io->unmap != NULL) (void)io->unmap(io->ctx, addr, len);
}

/* ---------------------------------------------------------------------------------------------
 * Directories and names
 * ------------------------------------------------------------------------------------------- */

tl_status_t tl_io_rename(const tl_io_t *io, const char *from, const char *to, tl_io_err_t *e) {
    int r;
    RETRY(io, r, io->rename(io->ctx, from, to));
    return r < 0 ? tl_io_err_sys(e, r, "rename", from) : TL_OK;
}

tl_status_t tl_io_unlink(const tl_io_t *io, const char *path, tl_io_err_t *e) {
    int r;
    RETRY(io, r, io->unlink(io->ctx, path));
    return r < 0 ? tl_io_err_sys(e, r, "unlink", path) : TL_OK;
}

tl_status_t tl_io_remove(const tl_io_t *io, const char *path, tl_io_err_t *e) {
    int64_t r;
    RETRY(io, r, io->unlink(io->ctx, path));
    return r < 0 && r != -ENOENT ? tl_io_err_sys(e, r, "unlink", path) : TL_OK;
}

tl_status_t tl_io_mkdir(const tl_io_t *io, const char *path, tl_io_err_t *e) {
    int r;
    RETRY(io, r, io->mkdir(io->ctx, path));
    return r < 0 && r != -EEXIST ? tl_io_err_sys(e, r, "mkdir", path) : TL_OK;
}

tl_status_t tl_io_mkdir_durable(const tl_io_t *io, const char *path, tl_io_err_t *e) {
    tl_status_t st = tl_io_mkdir(io, path, e);
    if (st != TL_OK) return st;
    /* The parent: path without its last component ("/db" -> "/", "db" -> ".", "a/b/" -> "a"). */
    char parent[TL_IO_PATH_CAP];
    size_t n = strlen(path);
    if (n >= sizeof parent) return tl_io_err_set(e, TL_EINVAL, "mkdir", path, "path too long");
    memcpy(parent, path, n + 1);
    while (n > 1 && parent[n - 1] == '/') n--; /* trailing slashes */
    while (n > 0 && parent[n - 1] != '/') n--; /* the last component */
    while (n > 1 && parent[n - 1] == '/') n--; /* the slashes before it */
    if (n == 0) memcpy(parent, ".", 2);
    else parent[n] = '\0';
    return tl_io_sync_dir(io, parent, e);
}

tl_status_t tl_io_sync_dir(const tl_io_t *io, const char *path, tl_io_err_t *e) {
    int r;
    RETRY(io, r, io->sync_dir(io->ctx, path));
    return r < 0 ? tl_io_err_sys(e, r, "fsync", path) : TL_OK;
}

tl_status_t tl_io_list(const tl_io_t *io, const char *dir, tl_io_list_fn fn, void *arg,
                       tl_io_err_t *e) {
    /* Not retried: the callback may have seen part of the listing already. */
    int r = io->list_dir(io->ctx, dir, fn, arg);
    return r < 0 ? tl_io_err_sys(e, r, "readdir", dir) : TL_OK;
}

tl_status_t tl_io_lock(const tl_io_t *io, const char *dir, int *lock, tl_io_err_t *e) {
    int r;
    *lock = -1;
    /* EAGAIN here means "held": reported at once, never retried (the holder may live long). */
    unsigned attempt = 1;
    do r = io->lock_dir(io->ctx, dir, lock);
    while (r == -EINTR && again(io, r, &attempt));
#if defined(EWOULDBLOCK)
    bool held = r == -EWOULDBLOCK || r == -EAGAIN;
#else
    bool held = r == -EAGAIN;
#endif
    if (held) {
        tl_io_err_set(e, TL_ELOCKED, "lock", dir, "directory held by another live log");
        if (e != NULL) e->sys_errno = -r;
        return TL_ELOCKED;
    }
    return r < 0 ? tl_io_err_sys(e, r, "lock", dir) : TL_OK;
}

void tl_io_unlock(const tl_io_t *io, int lock) {
    if (lock >= 0) (void)io->unlock_dir(io->ctx, lock);
}

tl_status_t tl_io_read_all(const tl_io_t *io, const char *path, const tl_allocator_t *a,
                           size_t max, uint8_t **buf, size_t *len, tl_io_err_t *e) {
    *buf = NULL;
    *len = 0;
    tl_io_file_t f;
    uint64_t size = 0;
    tl_status_t st = tl_io_open(&f, io, path, TL_IO_READ, e);
    if (st == TL_OK) st = tl_io_size(&f, &size, e);
    if (st == TL_OK && size > max) {
        st = tl_io_err_corrupt(e, path, max, "file larger than its format allows");
    }
    uint8_t *p = NULL;
    if (st == TL_OK) {
        p = tl_mem_alloc(a, (size_t)size);
        if (p == NULL) st = tl_io_err_set(e, TL_ENOMEM, "read", path, "out of memory");
    }
    size_t got = 0;
    if (st == TL_OK) st = tl_io_read(&f, p, (size_t)size, 0, &got, e);
    tl_status_t cst = tl_io_close(&f, st == TL_OK ? e : NULL);
    if (st == TL_OK) st = cst;
    if (st != TL_OK) {
        tl_mem_free(a, p, (size_t)size);
        return st;
    }
    /* A file that shrank between fstat and read keeps its readable prefix; the formats check
     * their own lengths. The buffer keeps its allocated size for the free. */
    if (got < size) memset(p + got, 0, (size_t)size - got);
    *buf = p;
    *len = (size_t)size;
    return TL_OK;
}

/* Writes the pieces into an open file from offset 0. */
static tl_status_t write_pieces(tl_io_file_t *f, const tl_io_piece_t *pieces, size_t n,
                                tl_io_err_t *e) {
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        tl_status_t st = tl_io_write(f, pieces[i].data, pieces[i].len, off, e);
        if (st != TL_OK) return st;
        off += pieces[i].len;
    }
    return TL_OK;
}

tl_status_t tl_io_replace(const tl_io_t *io, const char *dir, const char *name,
                          const tl_io_piece_t *pieces, size_t n, tl_io_err_t *e) {
    char final_path[TL_IO_PATH_CAP], tmp_path[TL_IO_PATH_CAP], tmp_name[256];
    if (strlen(name) + 5 > sizeof tmp_name) {
        return tl_io_err_set(e, TL_EINVAL, "open", name, "file name too long");
    }
    snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    tl_status_t st = tl_io_join(final_path, dir, name, e);
    if (st == TL_OK) st = tl_io_join(tmp_path, dir, tmp_name, e);
    if (st != TL_OK) return st;
    tl_io_file_t f;
    st = tl_io_open(&f, io, tmp_path, TL_IO_RDWR | TL_IO_CREATE | TL_IO_TRUNC, e);
    if (st != TL_OK) return st;
    st = write_pieces(&f, pieces, n, e);
    if (st == TL_OK) st = tl_io_sync(&f, e);
    tl_status_t cst = tl_io_close(&f, st == TL_OK ? e : NULL);
    if (st == TL_OK) st = cst;
    if (st == TL_OK) st = tl_io_rename(io, tmp_path, final_path, e);
    if (st != TL_OK) {
        (void)tl_io_unlink(io, tmp_path, NULL); /* best effort: the next replace truncates it */
        return st;
    }
    /* From here the new content is in place; this makes the rename itself durable. */
    return tl_io_sync_dir(io, dir, e);
}
