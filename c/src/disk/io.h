/*
 * io.h — the file-I/O shim: every disk call of the durable log goes through one vtable.
 *
 * Why a vtable: tests swap the operating system for a simulated file system (c/tests/simfs.c)
 * that can lose power at any call, tear the last write, or fail the k-th call with EIO or
 * ENOSPC; the code above (WAL, manifest file, segment files) cannot tell the difference.
 *
 * Two layers:
 *   - tl_io_t: raw operations. Each returns >= 0 on success and -errno on failure (a byte
 *     count for pread/pwrite, which may be short). No retries, no messages: an implementation
 *     is a thin mapping of the platform's calls (io_posix.c, io_win.c, simfs.c).
 *   - the tl_io_* functions below: what the disk layer calls. They retry EINTR and EAGAIN on
 *     the calling thread, at most TL_IO_ATTEMPTS times with a capped exponential sleep (never a
 *     thread per retry, never forever), loop over short reads and writes, and on failure fill
 *     a tl_io_err_t {status, errno, operation, path, offset, reason} that formats as
 *     "write /db/wal-0000000000000001.log: No space left on device (errno 28)".
 * Persistent errors (EIO, ENOSPC, EACCES, EROFS, ...) are returned at once, as TL_EIO (TL_ENOMEM
 * for ENOMEM; TL_ELOCKED when a directory lock is held elsewhere).
 *
 * Paths are plain strings, "dir/name", at most TL_IO_PATH_CAP - 1 bytes (TL_EINVAL beyond).
 * Thread safety: the shim holds no state; a tl_io_file_t is used by one thread at a time.
 */
#ifndef TL_DISK_IO_H
#define TL_DISK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tl_common.h"

#define TL_IO_PATH_CAP 1024u
#define TL_IO_ATTEMPTS 6u /* tries of one call on EINTR / EAGAIN (5 sleeps: 0.1 .. 1.6 ms) */
#define TL_IO_SLEEP_FIRST_US 100u
#define TL_IO_SLEEP_MAX_US 10000u
#define TL_IO_CHUNK_MAX ((size_t)1 << 30) /* largest single pread/pwrite request */

/* Open flags (combine with |). Files are created with mode 0644. */
enum {
    TL_IO_READ = 0, /* read only */
    TL_IO_RDWR = 1, /* read and write */
    TL_IO_CREATE = 2, /* create when missing (needs TL_IO_RDWR) */
    TL_IO_EXCL = 4, /* with TL_IO_CREATE: fail with EEXIST when present */
    TL_IO_TRUNC = 8 /* truncate to 0 bytes on open (needs TL_IO_RDWR) */
};

/* Listing callback: called once per entry name (never "." or ".."); return 0 to go on, or a
 * negative errno to stop the listing, which then returns that value. */
typedef int (*tl_io_list_fn)(void *arg, const char *name);

typedef struct tl_io {
    void *ctx;
    int (*open)(void *ctx, const char *path, int flags, int *fd);
    int64_t (*pread)(void *ctx, int fd, void *buf, size_t len, uint64_t off); /* 0 = EOF */
    int64_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, uint64_t off);
    int (*datasync)(void *ctx, int fd); /* data + size durable (F_FULLFSYNC on macOS) */
    int (*truncate)(void *ctx, int fd, uint64_t size);
    int (*size)(void *ctx, int fd, uint64_t *size);
    int (*close)(void *ctx, int fd); /* the fd is released even when it fails */
    int (*rename)(void *ctx, const char *from, const char *to); /* replaces `to` atomically */
    int (*unlink)(void *ctx, const char *path);
    int (*mkdir)(void *ctx, const char *path);
    int (*sync_dir)(void *ctx, const char *path); /* entries (create/rename/unlink) durable */
    int (*list_dir)(void *ctx, const char *path, tl_io_list_fn fn, void *arg);
    /* Exclusive lock of a directory, held until unlock_dir (or the process ends). A second
     * lock of the same directory fails with -EWOULDBLOCK, from this process or another. */
    int (*lock_dir)(void *ctx, const char *dir, int *lock);
    int (*unlock_dir)(void *ctx, int lock);
    /* Optional (may be NULL): read-only view of the first len bytes (len > 0) of a file that
     * nobody writes while it is mapped. */
    int (*map)(void *ctx, int fd, uint64_t len, const void **addr);
    int (*unmap)(void *ctx, const void *addr, uint64_t len);
    void (*sleep_us)(void *ctx, uint32_t us); /* the retry backoff; simfs only counts it */
} tl_io_t;

/* The operating system's file system: POSIX on Linux and macOS. On Windows it compiles, and
 * every call fails with ENOSYS ("durable logs are not supported on Windows yet"). A static
 * const object without state, shared by every caller. */
const tl_io_t *tl_io_default(void);

/* ---------------------------------------------------------------------------------------------
 * Error records: a failure keeps its context
 * ------------------------------------------------------------------------------------------- */

typedef struct tl_io_err {
    tl_status_t status; /* TL_OK when nothing failed */
    int sys_errno; /* the OS error (positive), 0 when the failure is not an OS error */
    uint64_t offset; /* TL_ECORRUPT: byte offset in the file where the damage starts */
    const char *op; /* static: "open", "write", "fdatasync", "rename", ... or NULL */
    const char *what; /* static: the reason of a corruption or a note, or NULL */
    char path[TL_IO_PATH_CAP]; /* the file or directory, truncated to its last bytes */
} tl_io_err_t;

/* Resets *e (accepts NULL). */
void tl_io_err_clear(tl_io_err_t *e);

/* Records an OS failure (neg_errno < 0) of op on path; maps the errno to a status (ENOMEM ->
 * TL_ENOMEM, everything else TL_EIO) and returns it. e may be NULL: only the status is
 * returned. */
tl_status_t tl_io_err_sys(tl_io_err_t *e, int neg_errno, const char *op, const char *path);

/* Records corruption of path at offset (TL_ECORRUPT) and returns TL_ECORRUPT. */
tl_status_t tl_io_err_corrupt(tl_io_err_t *e, const char *path, uint64_t offset,
                              const char *what);

/* Records any other status (TL_EINVAL, TL_ENOMEM, TL_ELOCKED, ...) with a reason. */
tl_status_t tl_io_err_set(tl_io_err_t *e, tl_status_t st, const char *op, const char *path,
                          const char *what);

/* Formats e into buf (NUL-terminated, truncated to cap) and returns the full length:
 *   I/O:      "write /db/wal-0000000000000001.log: No space left on device (errno 28)"
 *   corrupt:  "/db/MANIFEST: corrupt at offset 24: payload checksum mismatch"
 *   other:    "open /db: path too long" */
size_t tl_io_err_format(const tl_io_err_t *e, char *buf, size_t cap);

/* Static English text of an errno (the common file-system ones; "Unknown error" otherwise),
 * the same on every platform and safe from any thread. */
const char *tl_io_errno_text(int err);

/* ---------------------------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------------------------- */

typedef struct tl_io_file {
    const tl_io_t *io;
    int fd; /* -1 when not open */
    char path[TL_IO_PATH_CAP];
} tl_io_file_t;

/* out = dir + "/" + name. TL_EINVAL (recorded in e) when it does not fit TL_IO_PATH_CAP. */
tl_status_t tl_io_join(char out[TL_IO_PATH_CAP], const char *dir, const char *name,
                       tl_io_err_t *e);

/* Opens path (flags above) into *f. On failure f->fd is -1. */
tl_status_t tl_io_open(tl_io_file_t *f, const tl_io_t *io, const char *path, int flags,
                       tl_io_err_t *e);

/* Reads up to len bytes at off; *got < len only at end of file. */
tl_status_t tl_io_read(tl_io_file_t *f, void *buf, size_t len, uint64_t off, size_t *got,
                       tl_io_err_t *e);

/* Writes all len bytes at off (short writes are continued; a write that makes no progress is
 * TL_EIO). */
tl_status_t tl_io_write(tl_io_file_t *f, const void *buf, size_t len, uint64_t off,
                        tl_io_err_t *e);

tl_status_t tl_io_sync(tl_io_file_t *f, tl_io_err_t *e); /* fdatasync */
tl_status_t tl_io_truncate(tl_io_file_t *f, uint64_t size, tl_io_err_t *e);
tl_status_t tl_io_size(tl_io_file_t *f, uint64_t *size, tl_io_err_t *e);

/* Closes f (no-op when not open; f->fd is -1 afterwards, even on failure). Not retried: the
 * descriptor is gone whatever close returns. */
tl_status_t tl_io_close(tl_io_file_t *f, tl_io_err_t *e);

/* Read-only view of the first len bytes (io->map), or TL_EINVAL when the implementation has
 * no map; *addr stays valid until tl_io_unmap. len == 0 gives *addr == NULL. */
tl_status_t tl_io_map(tl_io_file_t *f, uint64_t len, const void **addr, tl_io_err_t *e);
void tl_io_unmap(const tl_io_t *io, const void *addr, uint64_t len);

/* ---------------------------------------------------------------------------------------------
 * Directories and names
 * ------------------------------------------------------------------------------------------- */

tl_status_t tl_io_rename(const tl_io_t *io, const char *from, const char *to, tl_io_err_t *e);
tl_status_t tl_io_unlink(const tl_io_t *io, const char *path, tl_io_err_t *e);
/* tl_io_unlink where a file already absent counts as removed (ENOENT = OK): for deleting
 * files no manifest names any more, whose absence is the goal whoever got there first. */
tl_status_t tl_io_remove(const tl_io_t *io, const char *path, tl_io_err_t *e);
tl_status_t tl_io_mkdir(const tl_io_t *io, const char *path, tl_io_err_t *e); /* EEXIST = OK */
/* tl_io_mkdir, then an fsync of the parent directory, so that the directory's own entry
 * survives a power loss (fsyncs of the directory itself only make the entries inside it
 * durable). Done when the directory already existed too: a process that crashed between its
 * mkdir and this fsync left an entry the disk may not have yet. */
tl_status_t tl_io_mkdir_durable(const tl_io_t *io, const char *path, tl_io_err_t *e);
tl_status_t tl_io_sync_dir(const tl_io_t *io, const char *path, tl_io_err_t *e);
tl_status_t tl_io_list(const tl_io_t *io, const char *dir, tl_io_list_fn fn, void *arg,
                       tl_io_err_t *e);

/* Takes the directory's exclusive lock (the LOCK file, docs/format.md): TL_ELOCKED when
 * another live handle, in this process or another, holds it. */
tl_status_t tl_io_lock(const tl_io_t *io, const char *dir, int *lock, tl_io_err_t *e);
void tl_io_unlock(const tl_io_t *io, int lock);

/* Reads a whole file into a new buffer from `a` (*len bytes; free with tl_mem_free(a, *buf,
 * *len)). A file larger than max is TL_ECORRUPT ("file larger than its format allows"). A
 * missing file is TL_EIO with sys_errno ENOENT. */
tl_status_t tl_io_read_all(const tl_io_t *io, const char *path, const tl_allocator_t *a,
                           size_t max, uint8_t **buf, size_t *len, tl_io_err_t *e);

/* Atomic replace of dir/name with the concatenation of n pieces: write dir/name.tmp, fdatasync,
 * rename over dir/name, fsync dir. After a crash at any point dir/name holds the old content
 * or the new one, never a mix; a left-over name.tmp is overwritten by the next replace. On
 * failure the tmp file is removed (best effort) and dir/name is untouched or replaced whole. */
typedef struct tl_io_piece {
    const void *data;
    size_t len;
} tl_io_piece_t;

tl_status_t tl_io_replace(const tl_io_t *io, const char *dir, const char *name,
                          const tl_io_piece_t *pieces, size_t n, tl_io_err_t *e);

#endif /* TL_DISK_IO_H */
