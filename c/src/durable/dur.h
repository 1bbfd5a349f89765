/*
 * dur.h — durable logs: what the engine core calls to make a log survive a crash.
 *
 * A durable log (a non-empty tl_config_t.path) keeps, beside its in-memory state:
 *   - a WAL (disk/wal.h) holding one record per write call, appended inside the call's
 *     transaction before it commits, so a write that returns is in the WAL buffer (and, per
 *     the durability mode, on disk);
 *   - segment files (disk/segfile.h) holding L1 pages as page-codec blobs, written by
 *     checkpoints (checkpoint.c); a page remembers where it is (tl_page_t.file_id, blob);
 *   - a manifest (disk/mfile.h + dmanifest.c) naming the L1 runs page by page, the tombstones,
 *     and the sequence number S the checkpoint covers: every write call with seq <= S is in
 *     the segment files, the WAL holds everything after.
 * Open (recover.c): manifest -> pages -> L1 runs and tombstones -> WAL replay from S + 1
 * through the engine's own write calls, unlogged.
 *
 * WAL record sequence numbers are (engine seq << TL_WREC_CHUNK_BITS) | chunk: a write call
 * too big for one WAL record is several records with consecutive chunk numbers, the last
 * flagged TL_WREC_LAST; replay applies a call only when its last chunk is there (a call torn
 * by a crash was never acknowledged). Truncating the WAL at a checkpoint is then keep_seq =
 * (S + 1) << TL_WREC_CHUNK_BITS, with no map between the two numberings.
 *
 * Single-record appends (the common call from JavaScript) are staged, up to TL_DUR_STAGE of
 * consecutive seqs, and reach the WAL as one APPEND_RUN record: a frame per record would triple
 * the bytes written (24-byte header + 8-byte count for 16 bytes of data). The stage is part of
 * the WAL's volatile state: the syncer, every sync and every other write call empty it into the
 * WAL first, so the WAL order is still the call order and syncs still cover every call made
 * before them. SYNC mode does not stage (each call is synced anyway).
 *
 * Threads: the writer appends (tl_dur_log_*); a syncer thread (INTERVAL / NONE modes) writes
 * and syncs the WAL in the background and serves tl_sync_request; checkpoints run under
 * maint_mu (the worker, or the writer in tl_checkpoint). The first persistent I/O error is
 * sticky (`failed`): writes and syncs return it, reads go on, close releases.
 */
#ifndef TL_DUR_H
#define TL_DUR_H

#include "disk/wal.h"
#include "timelog_int.h"

#define TL_WREC_APPEND 1u /* payload: u32 n, u32 0, i64 ts[n], u64 h[n] */
#define TL_WREC_DELETE 2u /* payload: i64 lo, i64 hi (a closed range) */
#define TL_WREC_APPEND_RUN 3u /* k consecutive single-record appends: u64 first seq, u32 k,
                                 u32 0, i64 ts[k], u64 h[k]; WAL seq = last seq << 16 */
#define TL_WREC_VALUES 4u /* a bytes log's new value bytes: u32 chunk id, u32 offset, bytes;
                             chunks of the call before its APPEND chunks (vstore.h) */
#define TL_WREC_APPEND_PACKED 5u /* an APPEND chunk compressed: a batch blob of the page codec
                                    (codec/pcodec.h, TL_PCODEC_UNSORTED), records in call order */
#define TL_DUR_STAGE 256u /* single appends staged before they become one APPEND_RUN */
#define TL_WREC_LAST 1u /* frame flag: the call's last (often only) chunk */
#define TL_WREC_CHUNK_BITS 16u
#define TL_DUR_SEQ_MAX (UINT64_MAX >> TL_WREC_CHUNK_BITS) /* engine seqs a WAL can number */

#define TL_DUR_MANIFEST "MANIFEST"

/* Counters of the durable state, for tl_stats. */
typedef struct tl_dur_stats {
    uint64_t durable_seq, wal_bytes, disk_bytes, checkpoints, replayed, cut_bytes, cut_records;
    uint64_t written;
} tl_dur_stats_t;

/* The durable part of a log (tl->dur; NULL for an in-memory log). */
typedef struct tl_dur tl_dur_t;

/* One write call read back from the WAL, for replay. */
typedef struct tl_dur_call {
    uint32_t type; /* TL_WREC_APPEND or TL_WREC_DELETE */
    uint64_t seq; /* the engine seq the call had */
    const int64_t *ts; /* APPEND: n records */
    const uint64_t *h;
    size_t n;
    int64_t lo, hi; /* DELETE: the closed range */
} tl_dur_call_t;

/* Applies a replayed call through the engine's write path with exactly its original seq
 * (write.c: tl_write_replay). Passed to tl_dur_open as a pointer so that the durable layer,
 * which the write path calls, never calls back into it by name. */
typedef tl_status_t (*tl_dur_apply_fn)(tl_timelog_t *tl, const tl_dur_call_t *call);

/* write.c: the apply function tl_open passes (declared here, beside its type). */
tl_status_t tl_write_replay(tl_timelog_t *tl, const tl_dur_call_t *call);

/* ---- dur.c: lifecycle, logging, syncing ---- */

/* Opens cfg->path for tl (which is set up but empty and not shared yet, its worker not
 * started): directory, lock, recovery (recover.c, replaying through `apply`), WAL writer,
 * syncer thread. On failure *msg holds the reason and tl->dur stays NULL. */
tl_status_t tl_dur_open(tl_timelog_t *tl, tl_dur_apply_fn apply, char *msg, size_t cap);
/* Stops the syncer, makes the WAL durable (unless failed), closes it, unlocks, frees. */
void tl_dur_close(tl_timelog_t *tl);

/* Logs a write call of seq `seq` (writer, inside the call's transaction, before it commits):
 * an append of n records, or a closed delete [lo, hi]. OK, or the failure (then the caller
 * rolls the call back: nothing was acknowledged). May write the WAL buffer to the file when it
 * is full (I/O on the writer thread: the backpressure of durable logs). */
tl_status_t tl_dur_log_append(tl_timelog_t *tl, uint64_t seq, const int64_t *ts,
                              const uint64_t *h, size_t n);
tl_status_t tl_dur_log_delete(tl_timelog_t *tl, uint64_t seq, int64_t lo, int64_t hi);
/* A bytes log's append: the bytes its values added to the store since *vm (VALUES records),
 * then its records (APPEND), chunks numbered on from 0, one call. */
struct tl_vmark;
tl_status_t tl_dur_log_bytes(tl_timelog_t *tl, uint64_t seq, const struct tl_vmark *vm,
                             const int64_t *ts, const uint64_t *h, size_t n);
/* After a write call committed (writer, no lock held): SYNC mode syncs now; the other modes
 * wake the syncer when the WAL buffer fills. OK or the failure (the write is in memory and
 * in the WAL buffer, but was not made durable). */
tl_status_t tl_dur_after_write(tl_timelog_t *tl);
/* The failure that put the log in its failed state (TL_OK when healthy); *msg gets its text. */
tl_status_t tl_dur_failed(tl_timelog_t *tl, char *msg, size_t cap);

/* Records st as the writer's last error with the failure's context ("<what>: the log's disk
 * failed ...: <file, offset, OS error>"); returns st. Writer thread. */
tl_status_t tl_dur_error(tl_timelog_t *tl, tl_status_t st, const char *what);

tl_status_t tl_dur_sync(tl_timelog_t *tl); /* blocking: everything appended is durable */
tl_status_t tl_dur_sync_request(tl_timelog_t *tl, uint64_t *target);
uint64_t tl_dur_durable_seq(tl_timelog_t *tl);
void tl_dur_stats(tl_timelog_t *tl, tl_dur_stats_t *out);

/* ---- checkpoint.c (the caller holds no engine lock: the job takes maint_mu itself) ---- */

/* True when the WAL has grown by checkpoint_bytes since the last checkpoint, or when dropped
 * pages left segment files to delete. */
bool tl_dur_checkpoint_wanted(tl_timelog_t *tl);
/* The checkpoint job (see tl_checkpoint): compact everything, write the pages not on disk,
 * sync the WAL, replace the manifest, truncate the WAL, delete unneeded files. */
tl_status_t tl_dur_checkpoint_job(tl_timelog_t *tl);
/* True when anything reached the WAL since the last checkpoint: idle maintenance then
 * checkpoints, so a quiet log reopens without replay and gives back deleted space. */
bool tl_dur_checkpoint_idle(tl_timelog_t *tl);

#endif /* TL_DUR_H */
