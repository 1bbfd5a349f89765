/*
 * simfs.h — a simulated file system for the disk-layer tests: a tl_io_t that can lose power.
 *
 * Model (see simfs.c for the details):
 *   - a file has DURABLE bytes (as of its last fdatasync) and VOLATILE bytes (what reads see);
 *     writes and truncates since the last fdatasync are kept in order as the file's pending
 *     operations;
 *   - a directory has DURABLE entries (as of its last fsync) and VOLATILE entries: creates,
 *     renames, unlinks and mkdirs change only the volatile ones (a crash may keep them all,
 *     per directory, with tl_simfs_keep_dir_ops);
 *   - tl_simfs_crash() is a power loss: every file's volatile bytes become its durable bytes,
 *     every directory's entries its durable entries, files no durable entry reaches vanish,
 *     descriptors and locks are dropped. With a tear mode, the file written last keeps a
 *     random prefix of its pending operations and the next one torn at a random byte: the
 *     torn region is cut off (PREFIX), zero-filled (ZERO) or random bytes (GARBAGE). REORDER
 *     keeps a random subset instead of a prefix (pages written back out of order).
 *   - fault injection: the k-th call (counted over every call but sleep) fails with a chosen
 *     errno, once or for `times` calls; short writes (a random prefix of a write, then the
 *     shim must continue); crash_at(k): the k-th call finds the power gone — the crash happens
 *     before it has any effect, and every later call fails with EIO until tl_simfs_revive
 *     (the process is dead; the test then recovers as a new process would).
 * Everything random comes from the seed: a run is reproducible.
 * Thread safety: one mutex serialises every call and every accessor below (tests may write and
 * sync from two threads; a log's syncer and worker threads call in while the test looks).
 */
#ifndef TL_TESTS_SIMFS_H
#define TL_TESTS_SIMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/io.h"

typedef struct tl_simfs tl_simfs_t;

enum {
    TL_SIM_TEAR_NONE = 0, /* crash loses everything not durable */
    TL_SIM_TEAR_PREFIX = 1, /* + the last file keeps a prefix of its pending writes, torn */
    TL_SIM_TEAR_ZERO = 2, /* as PREFIX, the torn write's tail reads as zeros */
    TL_SIM_TEAR_GARBAGE = 3, /* as PREFIX, the torn write's tail is random bytes */
    TL_SIM_TEAR_REORDER = 4, /* the last file keeps a random SUBSET of its pending writes */
    TL_SIM_TEAR_MODES = 5
};

tl_simfs_t *tl_simfs_new(uint64_t seed); /* aborts on out of memory (test code) */
void tl_simfs_free(tl_simfs_t *fs);
/* A copy of fs (files, directories, pending writes, durable and volatile alike) with its own
 * seed, no descriptors, faults or crash armed, and its call count at 0: a state built once
 * (by a scenario's setup) is cloned for each crash or fault point. fs must have no open
 * descriptor, lock or mapping (aborts otherwise). */
tl_simfs_t *tl_simfs_clone(tl_simfs_t *fs, uint64_t seed);
const tl_io_t *tl_simfs_io(tl_simfs_t *fs);

/* Power loss now (see the model). */
void tl_simfs_crash(tl_simfs_t *fs, int tear);

/* Arms a power loss at call number k (1-based, counted from now: the k-th call from now on
 * crashes). 0 disarms. After it fires every call fails with EIO until tl_simfs_revive. */
void tl_simfs_crash_at(tl_simfs_t *fs, uint64_t k, int tear);
bool tl_simfs_dead(const tl_simfs_t *fs);
void tl_simfs_revive(tl_simfs_t *fs);

/* Fails `times` calls starting with the k-th call from now with -err (EIO, ENOSPC, EINTR,
 * EAGAIN, EACCES, EROFS, ...); the failed calls have no effect. k = 0 disarms. */
void tl_simfs_fail_at(tl_simfs_t *fs, uint64_t k, int err, uint64_t times);

/* The vtable operation ("pwrite", "datasync", ...) that met the first injected fault since
 * tl_simfs_fail_at, or the crash since tl_simfs_crash_at; NULL when none did. close and
 * unlock_dir release their descriptor even when they fail, as POSIX close does. */
const char *tl_simfs_fault_op(const tl_simfs_t *fs);
const char *tl_simfs_crash_op(const tl_simfs_t *fs);

/* When on, about one write in four transfers a random non-empty prefix only. */
void tl_simfs_short_writes(tl_simfs_t *fs, bool on);

/* When on, a crash lets each directory (at random, one in two) keep its unsynced entries, as a
 * journaling file system that committed a rename or create nobody fsynced: an entry may then
 * outlive the crash while the file's unsynced bytes do not. Catches a missing fdatasync before
 * a rename. */
void tl_simfs_keep_dir_ops(tl_simfs_t *fs, bool on);

/* When on, every call is printed to stderr (number, operation, path or descriptor): for
 * debugging one crash or fault point. */
void tl_simfs_trace(tl_simfs_t *fs, bool on);

/* Calls made so far (every vtable call except sleep_us). */
uint64_t tl_simfs_calls(const tl_simfs_t *fs);
/* Total backoff the shim asked for, and how many sleeps. */
uint64_t tl_simfs_slept_us(const tl_simfs_t *fs);
uint64_t tl_simfs_sleeps(const tl_simfs_t *fs);
/* Open descriptors, locks and mappings (leak checks). */
int tl_simfs_open_fds(const tl_simfs_t *fs);

/* Test helpers, outside the call count and fault injection: */
/* mkdir -p, durable at once (entries synced). */
void tl_simfs_mkdir_durable(tl_simfs_t *fs, const char *path);
/* A copy of the file's current (volatile) bytes, malloc'd; -ENOENT when missing. */
int tl_simfs_get(tl_simfs_t *fs, const char *path, uint8_t **data, size_t *len);
/* Creates or replaces the file with these bytes, durable at once (data and entry). */
int tl_simfs_put(tl_simfs_t *fs, const char *path, const void *data, size_t len);
bool tl_simfs_exists(tl_simfs_t *fs, const char *path);
/* Number of entries in a directory (volatile view), -1 when missing. */
int tl_simfs_count(tl_simfs_t *fs, const char *dir);

#endif /* TL_TESTS_SIMFS_H */
