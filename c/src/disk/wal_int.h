/*
 * wal_int.h — what the WAL reader (wal_read.c) hands the writer (wal.c): the kept segments
 * and the segments to remove. Private to c/src/disk/wal*.c.
 */
#ifndef TL_DISK_WAL_INT_H
#define TL_DISK_WAL_INT_H

#include "disk/wal.h"

typedef struct tl_wal_seginfo {
    uint64_t number, first_seq, last_seq, records;
    uint64_t segment_bytes; /* from its header: the size it may grow to */
    uint64_t end; /* where its valid frames end (the kept length) */
    uint64_t size; /* its file size when read */
    bool sealed;
} tl_wal_seginfo_t;

typedef struct tl_wal_recovery {
    const tl_allocator_t *alloc;
    tl_wal_seginfo_t *segs; /* kept segments, ascending */
    size_t nsegs, cap;
    uint64_t *drop; /* segment numbers to remove entirely, ascending */
    size_t ndrop, dcap;
    uint64_t next_number; /* the number the next new segment gets */
} tl_wal_recovery_t;

/* tl_wal_scan that also returns the recovery plan; free it with tl_wal_recovery_free. */
tl_status_t tl_wal_recover(const tl_io_t *io, const char *dir, const tl_wal_opts_t *o,
                           tl_wal_visit_fn fn, void *ctx, tl_wal_recovery_t *rc,
                           tl_wal_report_t *rep, tl_io_err_t *err);
void tl_wal_recovery_free(tl_wal_recovery_t *rc);

/* TL_EINVAL (recorded in err) when the options are out of range. */
tl_status_t tl_wal_opts_check(const tl_wal_opts_t *o, const char *dir, tl_io_err_t *err);

/* Grows an array of `size`-byte elements to hold at least `need` (doubling). */
bool tl_wal_grow(const tl_allocator_t *a, void **v, size_t *cap, size_t need, size_t size);

#endif /* TL_DISK_WAL_INT_H */
