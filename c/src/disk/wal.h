/*
 * wal.h — the write-ahead log: CRC32C-framed records in fixed-size segment files.
 *
 * A WAL is a directory of segment files wal-<16 hex digits>.log, numbered consecutively. Each
 * segment starts with a 64-byte header (magic, version, segment number, first sequence number,
 * segment size, CRC) followed by 8-aligned record frames
 *   [crc32c u32][length u32][type u8][flags u8][6 reserved zero bytes][seq u64][payload][pad]
 * (docs/format.md, "WAL segment"). Payloads are opaque here. Sequence numbers strictly increase
 * across the whole log. A segment that is full ends with a SEAL frame (type 255, no payload,
 * the seq of the segment's last record), made durable before the next segment is created; only
 * the last segment may lack it.
 *
 * Writer (tl_wal_open, then tl_wal_append / tl_wal_write / tl_wal_sync):
 *   - append copies a frame into a bounded buffer and never does I/O. A full buffer is queued
 *     for the next write and the next buffer filled; when every buffer is full (queued or being
 *     written) it returns TL_EBUSY and appends NOTHING: that is this layer's backpressure (the
 *     engine writes or syncs, then appends again, and maps the pressure to its own TL_EBUSY).
 *     Memory is opts.buffers buffers of opts.buffer_bytes, whatever the load.
 *   - write moves the buffered frames into the segment files (pwrite, no sync), rolling to a
 *     new segment when the next record does not fit: seal + fdatasync the full segment, create
 *     the next one (header, fdatasync, fsync of the directory), then go on.
 *   - sync = write + fdatasync: every record appended before the call is durable when it
 *     returns (*synced_seq says up to which seq). Group commit: many appends, one sync; a sync
 *     that finds its records already synced by another thread's sync returns at once.
 *   - append may run on one thread while write/sync run on another (a mutex guards the
 *     buffers; I/O runs outside it, on buffers append no longer fills); write, sync, truncate
 *     and close serialise.
 *   - any I/O failure is sticky: the writer refuses every later call with the same status and
 *     context. After a failed write or fdatasync the state of the OS's cache is unknown
 *     (fsyncgate), so the only safe continuation is close + reopen, which recovers.
 *   - truncate(keep_seq) deletes the oldest segments whose records all have seq < keep_seq
 *     (after a checkpoint), one at a time, syncing the directory after each: a crash can only
 *     leave a suffix of the log, never a gap.
 *
 * Recovery (tl_wal_open and tl_wal_scan read every record of every segment in order):
 *   - TORN TAIL: the last segment ends with a partial frame, or with zeros/garbage in which no
 *     well-formed frame appears. Normal after a crash: the bytes are cut (tl_wal_open truncates
 *     the file), counted in the report, and the log ends at the last valid record.
 *   - CORRUPTION: damage followed by a well-formed frame; a bad header (except a last segment
 *     no longer than a header: an interrupted creation, treated as torn); a sequence that does
 *     not increase; a segment number missing in the middle; a non-last segment not ending with
 *     its seal. TL_ECORRUPT naming the file and offset, unless opts.repair: then the longest
 *     consistent prefix is kept and the rest reported (bytes, records, segments) and removed.
 *   - records are delivered to the callback as they are read: when the scan then fails with
 *     TL_ECORRUPT, discard what was delivered (the open failed).
 *   - a WAL whose first segments were truncated starts at a later segment; the caller checks
 *     that report.first_seq does not skip records it needs (its checkpoint covers the rest).
 */
#ifndef TL_DISK_WAL_H
#define TL_DISK_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/io.h"

#define TL_WAL_MAGIC "TLWALSEG" /* 8 bytes, no NUL on disk */
#define TL_WAL_VERSION 1u
#define TL_WAL_HEADER_BYTES 64u
#define TL_WAL_FRAME_BYTES 24u /* frame header; the payload follows, padded to 8 */
#define TL_WAL_TYPE_SEAL 255u /* reserved: the end-of-segment frame */
#define TL_WAL_SEGMENT_MIN ((uint64_t)4096)
#define TL_WAL_SEGMENT_MAX ((uint64_t)1 << 30)
#define TL_WAL_SEGMENT_DEFAULT ((uint64_t)64 << 20)
#define TL_WAL_BUFFER_MIN 1024u
#define TL_WAL_BUFFER_DEFAULT (1u << 20)
#define TL_WAL_BUFFERS_DEFAULT 2u
#define TL_WAL_BUFFERS_MAX 64u
#define TL_WAL_NAME_CAP 25u /* "wal-" + 16 hex digits + ".log" + NUL */

typedef struct tl_wal tl_wal_t;

typedef struct tl_wal_opts {
    uint64_t segment_bytes; /* size of new segment files: 4 KiB .. 1 GiB, multiple of 8 */
    uint32_t buffer_bytes; /* each write buffer: >= 1 KiB, multiple of 8 */
    uint32_t buffers; /* how many: 2 .. TL_WAL_BUFFERS_MAX (default 2) */
    bool repair; /* keep the longest consistent prefix instead of failing with ECORRUPT */
    bool lock; /* hold the directory lock while open (default true; false when the
                  caller already holds the lock of this directory) */
    bool use_mmap; /* read segments through mmap when the io offers it (default true) */
    uint64_t replay_from_seq; /* records below this seq are checked but not delivered */
    uint8_t unit_flag; /* frames whose flags carry this bit end a unit (a caller's call cut
                          into several records); a sync reports whole units only, so it never
                          needs to exclude appends. 0 (default): every frame is a unit */
    const tl_allocator_t *alloc; /* NULL = libc */
} tl_wal_opts_t;

/* Defaults: 64 MiB segments, 1 MiB buffers, strict, locked, mmap, replay everything. */
void tl_wal_opts_init(tl_wal_opts_t *o);

typedef struct tl_wal_rec {
    uint64_t seq;
    uint8_t type, flags;
    uint32_t len;
    const uint8_t *payload; /* valid during the callback only */
    uint64_t segment, offset; /* where the frame starts */
} tl_wal_rec_t;

/* Receives every valid record in order. Any status other than TL_OK stops the scan, which
 * returns that status. */
typedef tl_status_t (*tl_wal_visit_fn)(void *ctx, const tl_wal_rec_t *rec);

typedef struct tl_wal_report {
    uint64_t segments; /* segment files kept */
    uint64_t records; /* valid records kept (delivered or below replay_from_seq) */
    uint64_t first_seq, last_seq; /* of the kept records; 0 and 0 when none */
    uint64_t end_segment, end_offset; /* where the kept log ends (0, 0: no segment) */
    bool torn; /* a torn tail was found: cut */
    bool repaired; /* corruption was found and cut (repair mode) */
    uint64_t cut_bytes; /* bytes after the end of the kept log (removed by tl_wal_open) */
    uint64_t cut_records; /* well-formed records among them (0 for a torn tail) */
    uint64_t cut_segments; /* segment files removed entirely */
    tl_io_err_t damage; /* the first damage (torn tail or corruption): file, offset, reason;
                           status TL_OK when the log was clean */
} tl_wal_report_t;

/* Reads the WAL in dir (an existing directory: the caller creates it), delivering records to
 * fn (may be NULL), and fills *rep. Changes nothing on disk, takes no lock (a writer changing
 * the directory meanwhile can make it fail). Statuses: OK (clean, torn tail, or repaired when
 * opts.repair), ECORRUPT (strict mode; *err names file and offset), EIO, ENOMEM, EINVAL (bad
 * options), or the callback's status. */
tl_status_t tl_wal_scan(const tl_io_t *io, const char *dir, const tl_wal_opts_t *opts,
                        tl_wal_visit_fn fn, void *ctx, tl_wal_report_t *rep, tl_io_err_t *err);

/* Recovers as tl_wal_scan, then makes the directory match the report (truncates a torn or
 * cut tail and fdatasyncs it; removes cut segments, newest first, syncing the directory after
 * each), and returns a writer positioned after the last kept record. *out is NULL on failure.
 * Also TL_ELOCKED when opts.lock and the directory is held by another live handle. */
tl_status_t tl_wal_open(const tl_io_t *io, const char *dir, const tl_wal_opts_t *opts,
                        tl_wal_visit_fn fn, void *ctx, tl_wal_t **out, tl_wal_report_t *rep,
                        tl_io_err_t *err);

/* Buffers one record (no I/O). seq must exceed every seq appended or recovered before; type
 * 1..254; len <= tl_wal_max_payload. Statuses: OK; EBUSY = NOT appended, the buffer is full
 * (call tl_wal_write or tl_wal_sync, then append again); EINVAL; or the sticky failure. */
tl_status_t tl_wal_append(tl_wal_t *w, uint64_t seq, uint8_t type, uint8_t flags,
                          const void *payload, uint32_t len, tl_io_err_t *err);

/* One piece of a payload gathered from several buffers (tl_wal_appendv). */
typedef struct tl_wal_piece {
    const void *data;
    size_t len;
} tl_wal_piece_t;

/* tl_wal_append with the payload gathered from pieces[0, npieces) (total <= max payload), so
 * a caller with a header and columns in separate buffers copies each byte once. */
tl_status_t tl_wal_appendv(tl_wal_t *w, uint64_t seq, uint8_t type, uint8_t flags,
                           const tl_wal_piece_t *pieces, uint32_t npieces, tl_io_err_t *err);

/* Writes the buffered records to the files without syncing them. */
tl_status_t tl_wal_write(tl_wal_t *w, tl_io_err_t *err);

/* Writes and fdatasyncs: every record appended before the call is durable. *synced_seq (may
 * be NULL) = the highest durable seq that ends a unit (opts.unit_flag; 0 when none): records
 * of a unit still being appended may be durable too, but are not reported. */
tl_status_t tl_wal_sync(tl_wal_t *w, uint64_t *synced_seq, tl_io_err_t *err);

/* Deletes the oldest segments all of whose records have seq < keep_seq; never the current
 * segment. *removed (may be NULL) = segment files deleted. */
tl_status_t tl_wal_truncate(tl_wal_t *w, uint64_t keep_seq, uint64_t *removed,
                            tl_io_err_t *err);

/* Syncs what is buffered and releases everything, whatever the outcome. Returns the sync's
 * status, or the sticky failure of a failed writer (what it held is not durable). Accepts
 * NULL. */
tl_status_t tl_wal_close(tl_wal_t *w, tl_io_err_t *err);

/* The largest payload one record can carry with these options. */
uint32_t tl_wal_max_payload(const tl_wal_t *w);

typedef struct tl_wal_stats {
    uint64_t appended_seq, written_seq, synced_seq; /* highest seq of each stage, 0 = none */
    /* Bytes waiting to be written, and the room of all buffers (each buffer's unused tail is
     * less than the frame that did not fit, or its segment roll came early) */
    uint64_t buffered_bytes, buffer_bytes;
    uint32_t buffers;
    uint64_t segment, segment_offset; /* where the next written byte goes */
    uint64_t segments; /* live segment files */
    uint64_t syncs, rolls; /* fdatasyncs issued, segments created */
    tl_status_t failed; /* the sticky failure, TL_OK when healthy */
    bool prefault_due; /* tl_wal_prefault has a buffer to fault in */
} tl_wal_stats_t;

void tl_wal_stats(tl_wal_t *w, tl_wal_stats_t *st);

/* Faults in the next buffer appends will fill, ahead of them, once the one they fill holds 64
 * KiB (or is half full, if smaller), on the first pass round the ring (afterwards every
 * buffer has been touched). Linux: madvise(MADV_POPULATE_WRITE), which changes no byte, so it
 * may run on any thread while appends go on (not during tl_wal_close); elsewhere it does
 * nothing. Why: a buffer is one 2
 * MiB huge page from the engine's allocator, and its first store took the append that made it
 * 3-4 ms on a VM whose host had taken the memory back. Returns whether it did (the
 * stats' prefault_due says whether it would). */
bool tl_wal_prefault(tl_wal_t *w);

/* ---------------------------------------------------------------------------------------------
 * The format, on memory (wal_seg.c): used by the reader, the writer, the tests and wal_fuzz
 * ------------------------------------------------------------------------------------------- */

typedef struct tl_wal_hdr {
    uint64_t segment, first_seq, segment_bytes;
} tl_wal_hdr_t;

/* The file name of a segment ("wal-000000000000002a.log"), and the reverse: true when name is
 * exactly such a name (lowercase hex). */
void tl_wal_name(char out[TL_WAL_NAME_CAP], uint64_t segment);
bool tl_wal_parse_name(const char *name, uint64_t *segment);

void tl_wal_hdr_encode(uint8_t out[TL_WAL_HEADER_BYTES], const tl_wal_hdr_t *h);
/* NULL when p[0..n) starts with a valid header (filled into *h), else the static reason. */
const char *tl_wal_hdr_decode(const uint8_t *p, size_t n, tl_wal_hdr_t *h);

/* Bytes a frame of len payload bytes occupies (header + payload, padded to 8). */
static inline uint64_t tl_wal_frame_size(uint32_t len) {
    return ((uint64_t)TL_WAL_FRAME_BYTES + len + 7) & ~(uint64_t)7;
}

/* Writes one frame (tl_wal_frame_size(len) bytes, padding zeroed) at out. */
void tl_wal_frame_encode(uint8_t *out, uint64_t seq, uint8_t type, uint8_t flags,
                         const void *payload, uint32_t len);
/* The same with the payload gathered from pieces whose lengths sum to len. */
void tl_wal_frame_encodev(uint8_t *out, uint64_t seq, uint8_t type, uint8_t flags,
                          const tl_wal_piece_t *pieces, uint32_t npieces, uint32_t len);

/* NULL when a well-formed frame (lengths, reserved and padding bytes, checksum; not its seq)
 * starts at p with avail bytes readable; fills *rec (payload points into p). Else the reason. */
const char *tl_wal_frame_check(const uint8_t *p, size_t avail, tl_wal_rec_t *rec);

enum { TL_WAL_END_CLEAN = 0, TL_WAL_END_TORN = 1, TL_WAL_END_CORRUPT = 2 };

typedef struct tl_wal_seg {
    int end_kind; /* TL_WAL_END_*: how the segment's valid frames end */
    uint64_t end; /* offset after the last valid frame (>= the header) */
    uint64_t records, first_seq, last_seq; /* valid records (the seal not counted) */
    bool sealed; /* ends with its seal frame */
    const char *why; /* the reason the frame at `end` is invalid, NULL when clean */
    uint64_t later_records; /* CORRUPT: well-formed frames found after `end` */
} tl_wal_seg_t;

/* Scans the frames of one segment image seg[0..len) whose header is h: validates each frame,
 * delivers records with seq >= deliver_from to fn (may be NULL), stops at the first invalid
 * frame and classifies what follows (see the recovery rules above). Returns TL_OK, or the
 * callback's status. Never reads outside seg[0..len). */
tl_status_t tl_wal_seg_scan(const uint8_t *seg, size_t len, const tl_wal_hdr_t *h,
                            uint64_t deliver_from, tl_wal_visit_fn fn, void *ctx,
                            tl_wal_seg_t *out);

#endif /* TL_DISK_WAL_H */
