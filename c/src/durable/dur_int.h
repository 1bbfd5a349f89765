/*
 * dur_int.h — the durable state's fields, shared by dur.c (lifecycle, logging, syncer),
 * checkpoint.c and recover.c. Nothing outside c/src/durable/ includes it.
 */
#ifndef TL_DUR_INT_H
#define TL_DUR_INT_H

#include <pthread.h>

#include "disk/io.h"
#include "durable/dmanifest.h"
#include "durable/dur.h"

/* The segment files a manifest names, sorted by id, with what a checkpoint needs to decide
 * whether one is worth rewriting (dfiles.c). */
typedef struct tl_dur_file {
    uint64_t id, blobs, bytes;
} tl_dur_file_t;
typedef struct tl_dur_files {
    tl_dur_file_t *v;
    uint32_t n, cap;
} tl_dur_files_t;

struct tl_dur {
    const tl_io_t *io;
    const tl_allocator_t *alloc;
    char dir[TL_IO_PATH_CAP];
    int lock; /* the directory lock, held while open */
    tl_wal_t *wal;
    uint32_t mode; /* TL_DURABILITY_* */
    uint32_t interval_ms;
    uint64_t checkpoint_bytes;
    uint64_t segment_bytes; /* of WAL segments */
    uint32_t max_values; /* value bytes per VALUES chunk (the WAL's largest payload, less its
                            header) */
    uint32_t chunk_records; /* records per APPEND chunk: what that payload carries raw, at most
                               what one batch blob holds */
    uint8_t *pack_buf; /* the writer's: an APPEND chunk compressed (NULL until the first) */
    size_t pack_cap;
    _Atomic bool replaying; /* open: the write calls replay the WAL, logging nothing */

    /* ---- checkpoints (ckpt_mu; set by recovery before the log is shared) ---- */
    uint64_t ckpt_seq; /* S of the manifest on disk: write calls <= S are in segment files */
    uint64_t ckpt_part; /* and the first ckpt_part records of call S + 1 */
    uint64_t next_file; /* id of the next segment file */
    _Atomic uint64_t logged; /* WAL bytes appended since open (writer; the worker reads it) */
    _Atomic uint64_t logged_ckpt; /* `logged` when the last checkpoint synced the WAL */
    pthread_mutex_t ckpt_mu; /* one checkpoint at a time; guards the fields above (files,
                                next_file, ckpt_*) and the pages' disk positions' writes */
    tl_dur_files_t files; /* segment files the manifest on disk names */
    _Atomic uint64_t seg_bytes; /* their total size (read by tl_stats on any thread) */
    _Atomic bool garbage; /* pages on disk were dropped: a checkpoint frees their files */

    /* ---- staged single appends (stage_mu: the writer adds, anyone empties them) ---- */
    pthread_mutex_t stage_mu;
    uint64_t stage_first; /* seq of stage_ts[0] */
    uint32_t stage_n;
    uint32_t stage_cap; /* TL_DUR_STAGE, or fewer when one WAL record cannot carry as many */
    int64_t stage_ts[TL_DUR_STAGE];
    uint64_t stage_h[TL_DUR_STAGE];

    /* ---- the syncer (mu) ---- */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the syncer */
    pthread_t th;
    bool th_live, stop, kick;
    uint64_t want; /* highest engine seq a sync request waits for */
    uint64_t rung; /* highest target the doorbell was rung for */
    _Atomic uint64_t durable_seq;

    /* ---- failure: the first persistent error, sticky ---- */
    _Atomic int failed; /* tl_status_t; TL_OK while healthy */
    tl_io_err_t err; /* mu: its context */

    /* ---- counters ---- */
    _Atomic uint64_t checkpoints;
    _Atomic uint64_t written; /* bytes of segment files and manifests written since open */
    uint64_t replayed, cut_bytes, cut_records; /* from the open */
};

/* Records the first persistent failure (sticky) with its context, rings the doorbell so an
 * awaiting sync learns of it, and returns st. Any thread. */
tl_status_t tl_dur_fail(tl_timelog_t *tl, tl_status_t st, const tl_io_err_t *err);

/* ---- dfiles.c: names, positions, the file table (a leaf: calls nothing in durable/) ---- */

/* Segment file names: "seg-<16 lowercase hex digits>.tls". */
#define TL_DUR_SEG_NAME_CAP 25u
void tl_dur_seg_name(char out[TL_DUR_SEG_NAME_CAP], uint64_t id);
bool tl_dur_seg_parse(const char *name, uint64_t *id);

/* The file table: add keeps it sorted (an existing id is updated); find is a binary search
 * (NULL when absent). ENOMEM. */
tl_status_t tl_dur_files_add(tl_dur_files_t *t, const tl_allocator_t *a, uint64_t id,
                             uint64_t blobs, uint64_t bytes);
tl_dur_file_t *tl_dur_files_find(const tl_dur_files_t *t, uint64_t id);
void tl_dur_files_free(tl_dur_files_t *t, const tl_allocator_t *a);

/* Segment file blob metadata (TL_DUR_META_BYTES, little-endian): u32 n, u32 0, i64 first ts,
 * i64 last ts: what the index says of each page, checked against the blob when it is loaded. */
#define TL_DUR_META_BYTES 24u

/* ---- recover.c ---- */

/* Rebuilds tl's state from the directory (d->io, d->dir): lock, manifest, segment files,
 * WAL replay through `apply`; leaves d->wal open for appending. *msg on failure. */
tl_status_t tl_dur_recover(tl_timelog_t *tl, tl_dur_t *d, tl_dur_apply_fn apply, char *msg,
                           size_t cap);

#endif /* TL_DUR_INT_H */
