/*
 * timelog.h — the public C API of Timelog, and its manual.
 *
 * Timelog is an embedded, in-memory, time-indexed multimap: (timestamp, handle) records,
 * duplicates kept, built for "every record in [t1, t2)", cheap out-of-order ingest, fast
 * retention ("drop everything before T") and snapshot-consistent reads. A handle is an opaque
 * 64-bit payload: a key into the caller's own table, or the bits of a double.
 *
 * API tiers
 *   0. Version        tl_version, tl_abi_version (call first: a binding checks the ABI)
 *   1. Lifecycle      tl_config_init_defaults, tl_config_set, tl_config_set_path, tl_open,
 *                     tl_open_ex, tl_close, tl_strerror, tl_last_error
 *   1b. Durability    tl_sync, tl_sync_request, tl_durable_seq, tl_checkpoint
 *   2. Writes         tl_append, tl_append_f64, tl_append_batch, tl_append_batch_f64,
 *                     tl_delete_range, tl_delete_before, tl_delete_since, tl_delete_at
 *   3. Snapshots      tl_snapshot_acquire, tl_snapshot_release
 *   4. Reads          tl_iter_open (closed interval), tl_iter_range, tl_iter_since, tl_iter_until,
 *                     tl_iter_equal, tl_iter_next_batch, tl_iter_next_batch_f64, tl_iter_destroy,
 *                     tl_snapshot_count, tl_snapshot_min, tl_snapshot_max, tl_snapshot_next,
 *                     tl_snapshot_prev; one-call forms with double bounds: tl_iter_open_f64,
 *                     tl_snapshot_read_f64, tl_read_f64, tl_snapshot_count_f64, tl_count_f64;
 *                     newest first (TL_READ_REVERSE): tl_iter_open_ex, tl_iter_open_ex_f64,
 *                     tl_snapshot_read_ex_f64, tl_read_ex_f64; as-of lookups: tl_snapshot_asof,
 *                     tl_snapshot_asof_many, tl_snapshot_asof_many_f64, tl_asof_many_f64;
 *                     bucketed aggregates: tl_snapshot_aggregate, tl_snapshot_aggregate_f64,
 *                     tl_aggregate_f64
 *   5. Maintenance    tl_flush, tl_compact, tl_maint_step, tl_maint_start, tl_maint_stop
 *   6. Drops          tl_config_t.on_drop (batched callback), or a tl_dropq_t queue with a
 *                     doorbell for runtimes that must not be called on foreign threads
 *   7. Diagnostics    tl_stats, tl_snapshot_stats, tl_validate
 *
 * Semantics (the contract)
 *   - Time is int64 in a configured unit. The whole int64 range is data: INT64_MIN and
 *     INT64_MAX are ordinary timestamps, never sentinels.
 *   - Public ranges are half-open [t1, t2). t1 >= t2 reads as empty. Unbounded ends have their
 *     own calls (since/until); tl_iter_open and tl_snapshot_count take a closed interval
 *     [lo, hi] so that every range, including one ending at INT64_MAX, can be written.
 *   - Duplicates at one timestamp are all kept. Records with equal timestamps are returned in
 *     insertion order (the order of the write calls, and within one batch, array order).
 *   - Every write call takes one sequence number (a batch shares one). A delete is a tombstone
 *     that hides only records written before it: append(10,A); delete(5,15); append(10,B)
 *     leaves exactly B at 10.
 *   - A snapshot sees the log as it was when taken, whatever writes, deletes, flushes and
 *     compactions follow. Taking one is O(1): it never copies the memtable.
 *   - One writer thread (append, delete, flush, compact, maint_step, maint_start/stop, close)
 *     and any number of reader threads (snapshots, iterators, counts). Readers never wait for
 *     maintenance. A tl_snapshot_t or tl_iter_t is used by one thread at a time.
 *
 * Status codes. Every call that can fail returns a tl_status_t. The numeric values never change.
 *   TL_EBUSY on a write means the write WAS ACCEPTED and the engine is under pressure (sealed
 *   data waits for maintenance). Never retry such a write. TL_ENOMEM / TL_EOVERFLOW on a write
 *   mean nothing was inserted (batches are all-or-nothing). TL_EIO, TL_ECORRUPT and TL_ELOCKED
 *   come from durable logs (files in a directory): the failure's context (operation, file,
 *   offset, errno) is in the message.
 *
 * Ownership. Every buffer passed in is owned by the caller and only read (or written) during
 * the call. Objects handed out (tl_timelog_t, tl_snapshot_t, tl_iter_t, tl_dropq_t) are
 * released with their own release call. Closing a log while snapshots or iterators are alive
 * is safe: they stay readable, and the memory goes with the last of them.
 *
 * FFI shape. Flat functions; scalar or pointer arguments; no struct passes by value; results
 * come back through caller-owned buffers; 64-bit values appear only as arguments or inside
 * arrays. The *_f64 variants take timestamps as doubles (exact integers within +/-2^53) so
 * that JavaScript callers never allocate a BigInt on a hot path.
 */
#ifndef TIMELOG_H
#define TIMELOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define TL_API __declspec(dllexport)
#else
#define TL_API __attribute__((visibility("default")))
#endif

/* The library's semantic version (CHANGELOG.md says what each part promises). It must equal the
 * version in build.zig.zon, package.json and deno.json; a test checks that. */
#define TL_VERSION_MAJOR 0
#define TL_VERSION_MINOR 1
#define TL_VERSION_PATCH 0

/* The C ABI's version: bumped on ANY change a binding could notice — a function added, removed
 * or changed in signature or meaning, a struct layout, an enum or status value, a config key.
 * A binding built for one ABI refuses a library reporting another (tl_abi_version), so a stale
 * library fails at load with a clear message instead of misbehaving later. */
#define TL_ABI_VERSION 4

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */

/* The library version as "MAJOR.MINOR.PATCH" (static storage, never NULL). */
TL_API const char *tl_version(void);

/* The ABI version this library implements (TL_ABI_VERSION when it was built). Bindings call it
 * before anything else and refuse a mismatch. */
TL_API uint32_t tl_abi_version(void);

/* ---------------------------------------------------------------------------------------------
 * Opaque objects
 * ------------------------------------------------------------------------------------------- */

typedef struct tl_timelog tl_timelog_t; /* the log; one writer thread owns it */
typedef struct tl_snapshot tl_snapshot_t; /* read-only view; pins one version of the log */
typedef struct tl_iter tl_iter_t; /* cursor over a snapshot; borrows it */
typedef struct tl_dropq tl_dropq_t; /* queue of dropped handles with an optional doorbell */

/* ---------------------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------------------- */

typedef enum tl_status {
    TL_OK = 0, /* success */
    TL_EOF = 1, /* iterator exhausted; no such timestamp; maint_step found no work */
    TL_EINVAL = 10, /* bad argument: NULL, t1 > t2 on delete, bad config, non-integral f64 */
    TL_ESTATE = 20, /* wrong state: log closed, wrong maintenance mode, object misuse */
    TL_EBUSY = 21, /* writes: ACCEPTED under pressure, do not retry. Others: try again later */
    TL_ENOMEM = 30, /* allocation failed; a write inserted nothing */
    TL_EOVERFLOW = 31, /* a count or size would overflow; a write inserted nothing */
    TL_EIO = 40, /* I/O failure of a durable log; the message names operation, file, errno */
    TL_ECORRUPT = 41, /* corrupt file or stored data (bad checksum, version, length, code or
                         order); the message names the file and offset */
    TL_ELOCKED = 42, /* the directory is held by another live log (this or another process) */
    TL_EINTERNAL = 90 /* thread failure or a broken invariant (see tl_last_error) */
} tl_status_t;

/* Static English text for a status ("TL_EBUSY: write accepted under backpressure", ...).
 * Unknown codes give "unknown status". Never NULL. */
TL_API const char *tl_strerror(int status);

/* Copies the message of the last failure on this log (writer-thread calls only) into buf,
 * NUL-terminated and truncated to cap bytes. Returns the full message length. An empty
 * message means no failure has been recorded. tl may be NULL (message: "no log"). */
TL_API uint32_t tl_last_error(const tl_timelog_t *tl, char *buf, uint32_t cap);

/* ---------------------------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------------------------- */

typedef enum tl_time_unit { TL_TIME_S = 0, TL_TIME_MS = 1, TL_TIME_US = 2, TL_TIME_NS = 3 } tl_time_unit_t;

typedef enum tl_maint_mode {
    TL_MAINT_BACKGROUND = 0, /* a C thread flushes and compacts; started by tl_open */
    TL_MAINT_MANUAL = 1 /* nothing runs unless the writer calls flush/compact/maint_step */
} tl_maint_mode_t;

/* Allocation hook. free receives the size given to alloc. alloc returns NULL on failure.
 * Used for every allocation the engine makes, so tests can inject failures. */
typedef struct tl_allocator {
    void *ctx;
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *ptr, size_t size);
} tl_allocator_t;

typedef enum tl_log_level { TL_LOG_ERROR = 0, TL_LOG_WARN = 1, TL_LOG_INFO = 2, TL_LOG_DEBUG = 3 } tl_log_level_t;

/* Log hook. msg is valid only during the call. May run on the maintenance thread. */
typedef void (*tl_log_fn)(void *ctx, int level, const char *msg);

/* Drop hook: records physically removed because a tombstone covers them, reported in batches
 * only after the new state is published, outside every engine lock, on the thread that did
 * the work (maintenance thread, or the writer in flush/compact/maint_step). At tl_close every
 * record still stored (visible, tombstoned or unflushed alike) is reported once, on the closing
 * thread. The arrays are valid only during the call. The hook must not call into the engine
 * and must not block for long. A live older snapshot may still return a dropped handle: free
 * a payload only when no snapshot taken before the drop is alive. */
typedef void (*tl_drop_fn)(void *ctx, const int64_t *ts, const uint64_t *handles, size_t n);

/* Capacity of tl_config_t.path, the NUL included. */
#define TL_PATH_CAP 1024u

/* Values of tl_config_t.durability (durable logs). Every write call is one WAL record.
 *   INTERVAL  a background thread makes writes durable at least every sync_interval_ms;
 *             tl_sync (or tl_sync_request) is the barrier.
 *   SYNC      each write call returns after its record is durable (one fdatasync per call:
 *             a batch is its own group commit).
 *   NONE      the OS decides when written data reaches the disk; tl_sync, tl_checkpoint and
 *             tl_close still make everything durable. */
#define TL_DURABILITY_INTERVAL 0u
#define TL_DURABILITY_SYNC 1u
#define TL_DURABILITY_NONE 2u

typedef struct tl_config {
    tl_time_unit_t time_unit; /* default TL_TIME_MS; sets the default window */
    tl_maint_mode_t maintenance; /* default TL_MAINT_BACKGROUND */
    uint32_t page_records; /* records per storage page; default 4096, min 64. Pages of 1024
                              to 65535 records carry a search table (faster seeks) */
    uint32_t memtable_records; /* active records that trigger a seal; default 262144 */
    uint32_t ooo_head_records; /* unsorted out-of-order buffer before it is sorted; 2048 */
    uint32_t ooo_runs_max; /* sorted out-of-order runs in the memtable before a seal; 32 */
    uint32_t sealed_max; /* sealed memtables waiting for flush before writes see EBUSY; 4 */
    uint32_t l0_max; /* L0 segments that trigger a compaction; default 4 */
    uint32_t busy_wait_ms; /* background mode: how long a writer waits for the worker before
                              returning TL_EBUSY (accepted); default 20; 0 = never wait */
    uint32_t maint_interval_ms; /* background worker's idle wake-up period; default 100 */
    int64_t window_size; /* L1 window width in time units; 0 = one hour in time_unit */
    int64_t window_origin; /* grid origin; default 0 */
    tl_allocator_t allocator; /* default: the C library's malloc/free */
    tl_log_fn log_fn; /* default none */
    void *log_ctx;
    int log_level; /* default TL_LOG_WARN */
    tl_drop_fn on_drop; /* default none: dropped records are not enumerated at all */
    void *on_drop_ctx;
    tl_dropq_t *drop_queue; /* alternative to on_drop: drops go to this queue (tl_open
                               takes a reference). Setting both is TL_EINVAL. */
    uint32_t idle_ms; /* background mode: after this long with no write call, maintenance
                         brings the log to its read-optimal shape on its own (memtable sealed
                         and flushed, L0 compacted into L1, tombstones applied, pages packed,
                         memory given back), as tl_compact would; default 300; 0 = never */
    uint32_t value_kind; /* what handles hold: TL_VALUES_HANDLE (default: opaque ids),
                            TL_VALUES_F64 (double bits; picks the codecs pages are packed
                            with, never changes what is stored) or TL_VALUES_BYTES (values
                            of any length stored by the engine: see "Byte values") */
    uint32_t raw_pages; /* 0 (default): maintenance packs immutable pages (compressed, decoded
                           while read); 1: every page stays raw (more memory, no decoding) */
    /* ---- durable logs (a non-empty path) ---- */
    char path[TL_PATH_CAP]; /* "" (default): the log lives in memory. Otherwise the directory
                               of a durable log (created if missing), NUL-terminated; set it
                               with tl_config_set_path */
    uint32_t durability; /* TL_DURABILITY_INTERVAL (default), _SYNC or _NONE; see below */
    uint32_t sync_interval_ms; /* INTERVAL: the longest a write stays volatile; default 100 */
    uint64_t wal_segment_bytes; /* size of each WAL segment file; default 64 MiB (4 KiB..1 GiB) */
    uint64_t checkpoint_bytes; /* WAL bytes after which maintenance writes a checkpoint
                                  (segment files + manifest) and truncates the WAL; 64 MiB */
    uint32_t repair; /* 1: open a damaged directory by keeping its longest consistent prefix
                        (what was cut is in tl_stats) instead of failing with TL_ECORRUPT */
} tl_config_t;

/* Values of tl_config_t.value_kind. */
#define TL_VALUES_HANDLE 0u
#define TL_VALUES_F64 1u
#define TL_VALUES_BYTES 2u

/* Fills *cfg with the defaults above. */
TL_API void tl_config_init_defaults(tl_config_t *cfg);

/* sizeof(tl_config_t), so a foreign caller can allocate the struct as an opaque buffer. */
TL_API uint32_t tl_config_size(void);

/* Keys for tl_config_set, for callers that cannot lay out C structs (FFI). */
typedef enum tl_config_key {
    TL_CFG_TIME_UNIT = 1,
    TL_CFG_MAINTENANCE = 2,
    TL_CFG_PAGE_RECORDS = 3,
    TL_CFG_MEMTABLE_RECORDS = 4,
    TL_CFG_OOO_HEAD_RECORDS = 5,
    TL_CFG_OOO_RUNS_MAX = 6,
    TL_CFG_SEALED_MAX = 7,
    TL_CFG_L0_MAX = 8,
    TL_CFG_BUSY_WAIT_MS = 9,
    TL_CFG_MAINT_INTERVAL_MS = 10,
    TL_CFG_WINDOW_SIZE = 11,
    TL_CFG_WINDOW_ORIGIN = 12,
    TL_CFG_LOG_LEVEL = 13,
    TL_CFG_IDLE_MS = 14,
    TL_CFG_VALUE_KIND = 15,
    TL_CFG_RAW_PAGES = 16,
    TL_CFG_DURABILITY = 17,
    TL_CFG_SYNC_INTERVAL_MS = 18,
    TL_CFG_WAL_SEGMENT_BYTES = 19,
    TL_CFG_CHECKPOINT_BYTES = 20,
    TL_CFG_REPAIR = 21
} tl_config_key_t;

/* Sets one scalar field. TL_EINVAL for an unknown key or a value out of the field's range
 * (the config is left unchanged). Full validation happens in tl_open. */
TL_API tl_status_t tl_config_set(tl_config_t *cfg, int32_t key, int64_t value);

/* Sets cfg->drop_queue (FFI callers cannot write pointer fields). q may be NULL. */
TL_API tl_status_t tl_config_set_drop_queue(tl_config_t *cfg, tl_dropq_t *q);

/* Copies path[0, len) (not NUL-terminated; len 0 = in memory) into cfg->path. EINVAL when it
 * holds a NUL byte or is TL_PATH_CAP bytes or longer. */
TL_API tl_status_t tl_config_set_path(tl_config_t *cfg, const char *path, uint32_t len);

/* ---------------------------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------------------------- */

/* Opens a log. cfg may be NULL (defaults). With an empty cfg->path the log is in memory and
 * starts empty. With a path it is durable: the directory is created if missing and locked,
 * and the state it holds is recovered (manifest -> segment files -> WAL replay; a torn WAL
 * tail from a crash is cut and counted in tl_stats). In background mode starts the
 * maintenance thread. Statuses: OK, EINVAL (bad config: page_records < 64, window_size < 0,
 * unknown enum, both on_drop and drop_queue set, an allocator with only one of alloc/free,
 * a durable directory written with another time unit, value kind or window grid), ENOMEM,
 * EINTERNAL (thread creation failed), and for durable logs ELOCKED (another live log holds
 * the directory), EIO, ECORRUPT (damage that is not a torn tail; cfg->repair recovers the
 * longest consistent prefix instead). *out is NULL on failure. */
TL_API tl_status_t tl_open(const tl_config_t *cfg, tl_timelog_t **out);

/* tl_open, and on failure the reason in err[0, cap) (NUL-terminated, truncated), e.g.
 * "open ./ticks/MANIFEST: corrupt at offset 24: payload checksum mismatch". err may be NULL. */
TL_API tl_status_t tl_open_ex(const tl_config_t *cfg, tl_timelog_t **out, char *err,
                              uint32_t cap);

/* Closes the log: stops maintenance (joins the worker), makes everything written durable
 * (durable logs; a failed log releases without it), reports every stored record to on_drop /
 * the drop queue exactly once, unlocks the directory and releases the log. Accepts NULL.
 * Live snapshots and iterators stay valid and readable; the memory they pin goes with the last
 * of them. Must not race other writer calls. */
TL_API void tl_close(tl_timelog_t *tl);

/* ---------------------------------------------------------------------------------------------
 * Durability (durable logs; writer thread unless noted)
 *
 * Guarantee: after a crash or power loss, opening the directory yields exactly the state after
 * some prefix of the write calls that includes every durable one — never a record that was not
 * written, never a silent corruption. A write is durable when its call returned in SYNC mode,
 * or when a later tl_sync returned OK (or the durable seq passed its seq). A persistent I/O
 * error (EIO, ENOSPC, EACCES) puts the log in a failed state: every later write and sync
 * returns TL_EIO with the error in tl_last_error; reads keep working; tl_close releases
 * everything. On an in-memory log these calls return TL_OK (sync, checkpoint: nothing to do).
 * ------------------------------------------------------------------------------------------- */

/* Makes every write call that returned before it durable, then returns. OK, EIO (failed). */
TL_API tl_status_t tl_sync(tl_timelog_t *tl);

/* Starts making every write call that returned before it durable, without waiting: *target
 * is the sequence number to wait for (tl_durable_seq reaches it). The drop queue's doorbell
 * (tl_config_t.drop_queue) rings when the durable seq advances past a requested target or the
 * log fails, so a runtime can await it. OK, EIO (failed). */
TL_API tl_status_t tl_sync_request(tl_timelog_t *tl, uint64_t *target);

/* *out = the highest sequence number whose write calls are all durable. Any thread.
 * OK, EIO (the log has failed: *out is what was durable before), EINVAL. */
TL_API tl_status_t tl_durable_seq(tl_timelog_t *tl, uint64_t *out);

/* Writes a checkpoint now: seals and compacts everything into L1, writes the pages not yet on
 * disk into a new segment file, makes the WAL durable, replaces the manifest, then deletes the
 * WAL segments and segment files it no longer needs. Maintenance also checkpoints on its own
 * (checkpoint_bytes of WAL, or disk space to give back after deletes). OK, EIO, ENOMEM. */
TL_API tl_status_t tl_checkpoint(tl_timelog_t *tl);

/* ---------------------------------------------------------------------------------------------
 * Writes (writer thread)
 * ------------------------------------------------------------------------------------------- */

/* Appends one record. Any int64 timestamp; out-of-order is fine.
 * OK, EBUSY (accepted), ENOMEM (not inserted), EOVERFLOW (sequence exhausted), ESTATE. */
TL_API tl_status_t tl_append(tl_timelog_t *tl, int64_t ts, uint64_t handle);

/* Appends one record whose timestamp is a double holding an exact integer in
 * [-2^53, 2^53] and whose handle is the 64 bits of `value` (so an f64 payload, or a small
 * integer id stored as a double, round-trips exactly). EINVAL for NaN, infinities, fractions
 * or magnitudes above 2^53; otherwise as tl_append. */
TL_API tl_status_t tl_append_f64(tl_timelog_t *tl, double ts, double value);

/* Appends n records from caller-owned columns ts[n] and handles[n] with one sequence number.
 * n = 0 is OK. Sorted batches that start at or after the newest in-order record are copied in
 * bulk. All or nothing: ENOMEM / EOVERFLOW insert nothing. EBUSY: all accepted.
 * flags: reserved, pass 0 (EINVAL otherwise). */
TL_API tl_status_t tl_append_batch(tl_timelog_t *tl, const int64_t *ts, const uint64_t *handles,
                                   size_t n, uint32_t flags);

/* tl_append_batch_f64 flag: accept only safe integers, |ts| <= 2^53 - 1 (JavaScript's
 * Number.isSafeInteger), so a binding can leave its per-element check to the engine. */
#define TL_F64_SAFE 1u

/* As tl_append_batch with double timestamps (exact integers within +/-2^53; one bad value
 * rejects the whole batch with EINVAL and inserts nothing). values[] is read as raw 64-bit
 * handles, so a Float64Array of payloads can be passed as is. flags: 0, or TL_F64_SAFE. */
TL_API tl_status_t tl_append_batch_f64(tl_timelog_t *tl, const double *ts, const uint64_t *values,
                                       size_t n, uint32_t flags);

/* Tombstone [t1, t2). t1 == t2 is a no-op (OK); t1 > t2 is EINVAL. Hides only records written
 * before this call. Physical removal happens in flush/compaction (reported to on_drop). */
TL_API tl_status_t tl_delete_range(tl_timelog_t *tl, int64_t t1, int64_t t2);

/* Tombstone [INT64_MIN, cutoff): retention. cutoff == INT64_MIN is a no-op. */
TL_API tl_status_t tl_delete_before(tl_timelog_t *tl, int64_t cutoff);

/* Tombstone [t1, +inf), INT64_MAX included. */
TL_API tl_status_t tl_delete_since(tl_timelog_t *tl, int64_t t1);

/* Tombstone of the single timestamp ts, INT64_MAX included. */
TL_API tl_status_t tl_delete_at(tl_timelog_t *tl, int64_t ts);

/* ---------------------------------------------------------------------------------------------
 * Maintenance (writer thread)
 * ------------------------------------------------------------------------------------------- */

/* Seals the memtable and writes every sealed memtable into L0 segments, synchronously, in
 * either mode. OK, ENOMEM (nothing lost: inputs stay in place), ESTATE. */
TL_API tl_status_t tl_flush(tl_timelog_t *tl);

/* Flushes, then compacts every L0 segment into L1 and applies every pending tombstone,
 * synchronously, in either mode: when it returns OK, all data is in L1 and no tombstone
 * hides stored data. Then it packs pages into as few memory chunks as they fill (copying the
 * pages of sparse chunks; snapshots keep reading what they read) and gives free memory back
 * to the system. OK, ENOMEM, ESTATE. */
TL_API tl_status_t tl_compact(tl_timelog_t *tl);

/* Manual mode only (ESTATE in background mode): one unit of work — flush the sealed
 * memtables, or else run one compaction if L0 is over l0_max or tombstones are pending.
 * Does not seal the active memtable. OK (did work), EOF (nothing to do), ENOMEM. */
TL_API tl_status_t tl_maint_step(tl_timelog_t *tl);

/* Background mode only (ESTATE otherwise): starts the worker. Idempotent. EINTERNAL if the
 * thread cannot be created. */
TL_API tl_status_t tl_maint_start(tl_timelog_t *tl);

/* Stops and joins the worker if running. Idempotent; OK in either mode. After it, the log
 * behaves as in manual mode until tl_maint_start (writes see EBUSY under pressure). */
TL_API tl_status_t tl_maint_stop(tl_timelog_t *tl);

/* ---------------------------------------------------------------------------------------------
 * Snapshots (any thread)
 * ------------------------------------------------------------------------------------------- */

/* Pins the current state in O(1): no record is copied. OK, ENOMEM, EINVAL (NULL),
 * ESTATE (the log is closed). */
TL_API tl_status_t tl_snapshot_acquire(tl_timelog_t *tl, tl_snapshot_t **out);

/* Releases a snapshot. Accepts NULL. Iterators opened on it must be destroyed first. */
TL_API void tl_snapshot_release(tl_snapshot_t *s);

/* ---------------------------------------------------------------------------------------------
 * Iterators (the thread that uses the snapshot)
 * ------------------------------------------------------------------------------------------- */

/* Records with lo <= ts <= hi (closed interval; lo > hi is empty), ascending by timestamp,
 * ties in insertion order. OK, ENOMEM, EINVAL. Valid until tl_iter_destroy, which must come
 * before tl_snapshot_release of s. */
TL_API tl_status_t tl_iter_open(tl_snapshot_t *s, int64_t lo, int64_t hi, tl_iter_t **out);

/* [t1, t2); t1 >= t2 gives an empty iterator. */
TL_API tl_status_t tl_iter_range(tl_snapshot_t *s, int64_t t1, int64_t t2, tl_iter_t **out);
/* [t1, +inf), INT64_MAX included. */
TL_API tl_status_t tl_iter_since(tl_snapshot_t *s, int64_t t1, tl_iter_t **out);
/* (-inf, t2). */
TL_API tl_status_t tl_iter_until(tl_snapshot_t *s, int64_t t2, tl_iter_t **out);
/* Exactly ts, in insertion order. */
TL_API tl_status_t tl_iter_equal(tl_snapshot_t *s, int64_t ts, tl_iter_t **out);

/* Copies up to cap next records into caller-owned ts[cap] and handles[cap]; *n_out = count.
 * OK with *n_out >= 1, or EOF with *n_out == 0 when exhausted (and on every later call).
 * ts or handles may be NULL to skip that column. */
TL_API tl_status_t tl_iter_next_batch(tl_iter_t *it, int64_t *ts, uint64_t *handles, size_t cap,
                                      size_t *n_out);

/* As tl_iter_next_batch with timestamps converted to double (exact within +/-2^53). */
TL_API tl_status_t tl_iter_next_batch_f64(tl_iter_t *it, double *ts, uint64_t *handles, size_t cap,
                                          size_t *n_out);

/* Destroys an iterator. Accepts NULL. */
TL_API void tl_iter_destroy(tl_iter_t *it);

/* ---------------------------------------------------------------------------------------------
 * Point queries on a snapshot (any thread). None of them visits every record.
 * ------------------------------------------------------------------------------------------- */

/* Number of visible records with lo <= ts <= hi (closed; lo > hi gives 0). Binary searches
 * per source, minus tombstoned spans; cost independent of the number of records counted. */
TL_API tl_status_t tl_snapshot_count(tl_snapshot_t *s, int64_t lo, int64_t hi, uint64_t *out);

/* The records at exactly ts, in insertion order: the handles of the first cap of them into
 * caller-owned handles[cap] (may be NULL: count only), and *total = how many there are (more
 * than cap: call again with a larger buffer). The point lookup in one call, with no iterator:
 * O(K (log R + log P)) plus the handles copied. OK, EINVAL, ENOMEM (only a snapshot's first
 * read can allocate). */
TL_API tl_status_t tl_snapshot_at(tl_snapshot_t *s, int64_t ts, uint64_t *handles, size_t cap,
                                  uint64_t *total);

/* Smallest / largest visible timestamp. EOF when the snapshot holds no visible record.
 * O(K log P) for K sources and P pages each (plus tombstoned spans skipped). */
TL_API tl_status_t tl_snapshot_min(tl_snapshot_t *s, int64_t *out);
TL_API tl_status_t tl_snapshot_max(tl_snapshot_t *s, int64_t *out);

/* Smallest visible timestamp > ts / largest visible timestamp < ts. EOF if none. */
TL_API tl_status_t tl_snapshot_next(tl_snapshot_t *s, int64_t ts, int64_t *out);
TL_API tl_status_t tl_snapshot_prev(tl_snapshot_t *s, int64_t ts, int64_t *out);

/* ---------------------------------------------------------------------------------------------
 * One-call reads with double bounds (for FFI callers; see the *_f64 note in the intro)
 *
 * Bounds are closed, exact integers within ±2^53, or -INFINITY / +INFINITY for the unbounded
 * ends (INT64_MIN / INT64_MAX). NaN, fractions and larger magnitudes are TL_EINVAL.
 * ------------------------------------------------------------------------------------------- */

/* tl_iter_open with double bounds. */
TL_API tl_status_t tl_iter_open_f64(tl_snapshot_t *s, double lo, double hi, tl_iter_t **out);

/* The first cap records of [lo, hi] on s, in order, into ts[cap] (as doubles; may be NULL)
 * and handles[cap] (may be NULL). *n_out = count; *n_out < cap means that was every record.
 * OK (also when empty), EINVAL, ENOMEM. One call = open + read + destroy. */
TL_API tl_status_t tl_snapshot_read_f64(tl_snapshot_t *s, double lo, double hi, double *ts,
                                        uint64_t *handles, uint32_t cap, size_t *n_out);

/* tl_snapshot_read_f64 on the log's current state (any thread). Reads the state as of the
 * last completed write, like a snapshot taken at the call; the engine keeps that snapshot
 * between calls while nothing changes, so a loop of reads with no write in between costs no
 * snapshot work. Concurrent callers get separate snapshots. */
TL_API tl_status_t tl_read_f64(tl_timelog_t *tl, double lo, double hi, double *ts,
                               uint64_t *handles, uint32_t cap, size_t *n_out);

/* tl_snapshot_count with double bounds; *out is the count as a double (exact below 2^53). */
TL_API tl_status_t tl_snapshot_count_f64(tl_snapshot_t *s, double lo, double hi, double *out);

/* tl_snapshot_count_f64 on the log's current state (as tl_read_f64, same kept snapshot). */
TL_API tl_status_t tl_count_f64(tl_timelog_t *tl, double lo, double hi, double *out);

/* ---------------------------------------------------------------------------------------------
 * Newest-first reads (flags of the *_ex reads)
 *
 * TL_READ_REVERSE reads [lo, hi] backwards: timestamps descending, and records with equal
 * timestamps in reverse insertion order (the newest write first) — exactly the forward order
 * reversed. The engine merges backwards from hi, so reading the newest n records of a range
 * costs about n records whatever the range holds: a limit is simply the capacity of the reads
 * (stop after n). Flags other than TL_READ_REVERSE are TL_EINVAL; flags 0 is the forward read.
 * ------------------------------------------------------------------------------------------- */

#define TL_READ_REVERSE 1u

/* tl_iter_open with flags: the iterator returns [lo, hi] (closed) in the order flags choose.
 * OK, ENOMEM, EINVAL (NULL, unknown flags). Same lifetime rules as tl_iter_open. */
TL_API tl_status_t tl_iter_open_ex(tl_snapshot_t *s, int64_t lo, int64_t hi, uint32_t flags,
                                   tl_iter_t **out);

/* tl_iter_open_f64 with flags. */
TL_API tl_status_t tl_iter_open_ex_f64(tl_snapshot_t *s, double lo, double hi, uint32_t flags,
                                       tl_iter_t **out);

/* tl_snapshot_read_f64 with flags: with TL_READ_REVERSE, the LAST cap records of [lo, hi],
 * newest first (*n_out < cap means that was every record). */
TL_API tl_status_t tl_snapshot_read_ex_f64(tl_snapshot_t *s, double lo, double hi, uint32_t flags,
                                           double *ts, uint64_t *handles, uint32_t cap,
                                           size_t *n_out);

/* tl_read_f64 with flags (the log's current state, through its kept read view). */
TL_API tl_status_t tl_read_ex_f64(tl_timelog_t *tl, double lo, double hi, uint32_t flags,
                                  double *ts, uint64_t *handles, uint32_t cap, size_t *n_out);

/* ---------------------------------------------------------------------------------------------
 * As-of lookups: the newest visible record at or before a timestamp
 *
 * For x, the record with the largest ts <= x, and among records at that ts the one written
 * last — what a stream's value "as of" x is (merge_asof, kdb+'s aj). O(K (log R + log P)) per
 * lookup, no record visited on the way. The column forms answer n lookups in one call: they
 * sort the queries (unless already ascending; O(n), 32 bytes a query of scratch from the
 * log's allocator) so that consecutive lookups share cache lines, and write each answer at
 * its query's position.
 * ------------------------------------------------------------------------------------------- */

/* The as-of record of x: *ts_out = its ts, *h_out = its handle (either may be NULL).
 * OK, EOF (no visible record at or before x), EINVAL, ENOMEM (a snapshot's first read). */
TL_API tl_status_t tl_snapshot_asof(tl_snapshot_t *s, int64_t ts, int64_t *ts_out,
                                    uint64_t *h_out);

/* The as-of records of ts[0, n) (any order, duplicates fine): for each i, found[i] = 1 and
 * ts_out[i], h_out[i] = the record's timestamp and handle, or found[i] = 0, ts_out[i] = 0 and
 * h_out[i] = 0 when there is none. Any output may be NULL. OK (n = 0 too), EINVAL, ENOMEM,
 * EOVERFLOW. */
TL_API tl_status_t tl_snapshot_asof_many(tl_snapshot_t *s, const int64_t *ts, size_t n,
                                         int64_t *ts_out, uint64_t *h_out, uint8_t *found);

/* As tl_snapshot_asof_many with double queries and timestamps: a query is any integer-valued
 * double (beyond the int64 range it stands for the nearest end) or -/+INFINITY; NaN or a
 * fraction fails the call with EINVAL and writes nothing. ts_out[i] is NaN where there is no
 * record (and the record's ts as a double otherwise: exact within +/-2^53). On a log of
 * doubles (TL_VALUES_F64), h_out[i] is the bits of a quiet NaN where there is no record, so
 * h_out read as doubles is the value column, NaN where nothing is. */
TL_API tl_status_t tl_snapshot_asof_many_f64(tl_snapshot_t *s, const double *ts, uint32_t n,
                                             double *ts_out, uint64_t *h_out, uint8_t *found);

/* tl_snapshot_asof_many_f64 on the log's current state (through its kept read view). */
TL_API tl_status_t tl_asof_many_f64(tl_timelog_t *tl, const double *ts, uint32_t n,
                                    double *ts_out, uint64_t *h_out, uint8_t *found);

/* ---------------------------------------------------------------------------------------------
 * Byte values (a log opened with value_kind TL_VALUES_BYTES, in memory or durable)
 *
 * The engine stores each record's value, a byte string of any length (0 included), and the
 * record's handle names it: reads return handles as for any log, and tl_values_read turns a
 * batch of them into bytes. A value stays readable through every snapshot or iterator that
 * can yield its record; once its record is dropped (deleted, then removed by maintenance) and
 * no snapshot older than the drop is left, its memory is released: values live in 1 MiB
 * chunks (a value of 256 KiB or more in its own), freed when none of their values is live.
 * Handles are the engine's: the other append functions fail with EINVAL on such a log, and
 * dropped records are not reported to on_drop or a drop queue (there is nothing for the
 * caller to release).
 * ------------------------------------------------------------------------------------------- */

/* Largest value a durable log stores (256 MiB); in memory, up to 4 GiB - 5. */
#define TL_VALUE_DURABLE_MAX (256u << 20)

/* Appends n records: ts[i] with the bytes data[ends[i-1], ends[i]) (ends ascending, ends[-1]
 * = 0), with one sequence number, as tl_append_batch (all or nothing; EBUSY: accepted).
 * EINVAL also for a log of another value kind, descending ends, or (durable) a value above
 * TL_VALUE_DURABLE_MAX. A durable log logs the values' bytes with the records (WAL) and
 * stores their chunks in its segment files at checkpoints. flags: reserved, 0. */
TL_API tl_status_t tl_append_bytes(tl_timelog_t *tl, const int64_t *ts, const uint8_t *data,
                                   const uint32_t *ends, uint32_t n, uint32_t flags);

/* As tl_append_bytes with double timestamps, checked as tl_append_batch_f64 (flags: 0 or
 * TL_F64_SAFE). */
TL_API tl_status_t tl_append_bytes_f64(tl_timelog_t *tl, const double *ts, const uint8_t *data,
                                       const uint32_t *ends, uint32_t n, uint32_t flags);

/* The values of h[0, n) (handles read from a snapshot or iterator that is still live) back to
 * back in buf[0, cap): ends[i] = the end of value i. *need = the bytes they take (set on OK
 * and on EOVERFLOW). EOVERFLOW (nothing copied) when they exceed cap or 2^32 - 1 bytes;
 * EINVAL for a log of another kind or a handle that names no stored value. Any thread. */
TL_API tl_status_t tl_values_read(tl_timelog_t *tl, const uint64_t *h, uint32_t n, uint8_t *buf,
                                  uint64_t cap, uint32_t *ends, uint64_t *need);

/* out[0] = live values, out[1] = their bytes (4 bytes of length each included), out[2] =
 * bytes of the chunks held, out[3] = values dropped but still pinned by an older snapshot.
 * EINVAL for a log of another kind. Any thread. */
TL_API tl_status_t tl_values_stats(tl_timelog_t *tl, uint64_t out[4]);

/* ---------------------------------------------------------------------------------------------
 * Bucketed aggregates, computed in the engine
 *
 * Bucket k (k < nbuckets) holds the visible records with lo <= ts <= hi and
 * start + k * every <= ts < start + (k + 1) * every (the last bucket stops at INT64_MAX).
 * ops is a set of TL_AGG_* bits; out receives one column of nbuckets doubles per op, in bit
 * order (COUNT, SUM, MIN, MAX, MEAN, FIRST, LAST): out[j * nbuckets + k] for the j-th op
 * asked. Values are the handles read as doubles, so every op but TL_AGG_COUNT needs a log
 * opened with value_kind TL_VALUES_F64 (TL_EINVAL otherwise).
 *
 * Results: count (NaN values included); sum, the IEEE sum (NaN when a value is NaN or when
 * +inf and -inf both occur; summed page by page, so the last bits may differ from a
 * left-to-right sum; exact for integers below 2^53); min / max, NaN when a value is NaN,
 * else the extreme with -0 < +0 (JavaScript's Math.min / Math.max); mean = sum / count;
 * first / last, the value of the first / last record in read order (ties in insertion order),
 * bit for bit. An empty bucket has count 0, sum 0 and NaN for the others.
 *
 * Cost: pages packed by maintenance carry a summary of their values, so a page whose records
 * all fall in one bucket costs O(1) and is not read; only pages cut by a bucket edge or a
 * tombstone, and raw pages (memtable, L0, pages not packed), are read. Memory: 56 bytes a
 * bucket during the call, from the log's allocator.
 * ------------------------------------------------------------------------------------------- */

#define TL_AGG_COUNT 0x01u
#define TL_AGG_SUM 0x02u
#define TL_AGG_MIN 0x04u
#define TL_AGG_MAX 0x08u
#define TL_AGG_MEAN 0x10u
#define TL_AGG_FIRST 0x20u
#define TL_AGG_LAST 0x40u

/* Bucketed aggregates of s (see above). every >= 1; nbuckets = 0 writes nothing. OK,
 * EINVAL (NULL, every < 1, no op or an unknown bit, value ops on a log that does not hold
 * doubles), ENOMEM. */
TL_API tl_status_t tl_snapshot_aggregate(tl_snapshot_t *s, int64_t lo, int64_t hi,
                                         int64_t start, int64_t every, uint32_t nbuckets,
                                         uint32_t ops, double *out);

/* tl_snapshot_aggregate with double arguments: lo and hi as the one-call reads' bounds
 * (-/+INFINITY for the ends), start and every exact integers within +/-2^53. */
TL_API tl_status_t tl_snapshot_aggregate_f64(tl_snapshot_t *s, double lo, double hi,
                                             double start, double every, uint32_t nbuckets,
                                             uint32_t ops, double *out);

/* tl_snapshot_aggregate_f64 on the log's current state (through its kept read view). */
TL_API tl_status_t tl_aggregate_f64(tl_timelog_t *tl, double lo, double hi, double start,
                                    double every, uint32_t nbuckets, uint32_t ops, double *out);

/* ---------------------------------------------------------------------------------------------
 * Drop queue (for runtimes whose callbacks must not run on engine threads)
 * ------------------------------------------------------------------------------------------- */

/* Doorbell: called with the token given at creation, from a notifier thread owned by the
 * queue (never from the maintenance thread, which must not wait on a foreign runtime), at
 * most once per transition of the queue from empty to non-empty: after a ring, it rings
 * again only once tl_dropq_drain has emptied the queue and new handles arrive. */
typedef void (*tl_doorbell_fn)(uint32_t token);

/* Creates a queue. doorbell may be NULL (poll with tl_dropq_drain). alloc may be NULL (libc).
 * The caller holds one reference, released by tl_dropq_release. OK, ENOMEM, EINTERNAL. */
TL_API tl_status_t tl_dropq_create(const tl_allocator_t *alloc, tl_doorbell_fn doorbell,
                                   uint32_t token, tl_dropq_t **out);

/* tl_dropq_create with flags: TL_DROPQ_BELL_ONLY makes a queue that only rings — a log
 * configured with it reports no drops (nothing is queued, close copies nothing) and uses the
 * doorbell for durability only (tl_sync_request): a binding whose values need no release
 * (f64 logs) awaits syncs without collecting every dropped record. */
#define TL_DROPQ_BELL_ONLY 1u
TL_API tl_status_t tl_dropq_create_ex(const tl_allocator_t *alloc, tl_doorbell_fn doorbell,
                                      uint32_t token, uint32_t flags, tl_dropq_t **out);

/* Moves up to cap queued handles (oldest first) into handles[cap]; *n_out = count. OK when at
 * least one was moved, EOF when the queue was empty. Any thread. */
TL_API tl_status_t tl_dropq_drain(tl_dropq_t *q, uint64_t *handles, size_t cap, size_t *n_out);

/* Queued handle count. Any thread. */
TL_API tl_status_t tl_dropq_pending(tl_dropq_t *q, uint64_t *out);

/* Stops ringing: no new doorbell call starts after this returns. OK when no doorbell call is
 * in progress (the notifier thread has been joined); EBUSY while one is still inside the
 * doorbell — let the foreign runtime run it, then call again. Idempotent. */
TL_API tl_status_t tl_dropq_shutdown(tl_dropq_t *q);

/* Releases the caller's reference. The queue is freed when the last log using it has closed.
 * The caller must have seen tl_dropq_shutdown return OK first if a doorbell was set (EBUSY
 * otherwise, and nothing is released). Accepts NULL (OK). */
TL_API tl_status_t tl_dropq_release(tl_dropq_t *q);

/* ---------------------------------------------------------------------------------------------
 * Diagnostics
 * ------------------------------------------------------------------------------------------- */

/* All fields are uint64 so a foreign caller can read the struct as a uint64 array of
 * TL_STATS_FIELDS entries; field order never changes (new fields are appended). */
typedef struct tl_stats {
    uint64_t records; /* visible records (tombstone-aware, computed without scanning) */
    uint64_t records_stored; /* physically stored records, tombstoned ones included */
    uint64_t memtable_records; /* active + out-of-order, not yet sealed */
    uint64_t sealed_memtables; /* sealed, waiting for flush */
    uint64_t l0_segments;
    uint64_t l1_segments;
    uint64_t pages;
    uint64_t tombstones; /* tombstone fragments still held */
    uint64_t bytes_data; /* bytes held by pages and memtable buffers */
    uint64_t seq; /* last sequence number issued */
    uint64_t seals_total;
    uint64_t flushes_total;
    uint64_t compactions_total;
    uint64_t pages_rewritten_total; /* write amplification: pages written by compaction */
    uint64_t pages_shared_total; /* pages compaction kept without rewriting */
    uint64_t busy_total; /* writes that returned TL_EBUSY */
    uint64_t dropped_total; /* records reported as dropped */
    uint64_t maint_errors_total; /* background failures (retried with backoff) */
    uint64_t idle_jobs_total; /* times idle maintenance brought the log to its compact shape */
    uint64_t pages_packed; /* of `pages`, those stored compressed (tl_config_t.raw_pages) */
    /* durable logs (0 in memory) */
    uint64_t durable_seq; /* every write call with a seq up to this is durable */
    uint64_t wal_bytes; /* bytes in the WAL's segment files */
    uint64_t disk_bytes; /* bytes of every file of the log: WAL, segment files, manifest */
    uint64_t checkpoints_total;
    uint64_t replayed_records; /* records replayed from the WAL at open */
    uint64_t recovery_cut_bytes; /* WAL bytes cut at open: a torn tail, or what repair cut */
    uint64_t recovery_cut_records; /* well-formed records among them (repair only) */
    uint64_t disk_written_bytes; /* bytes written to the log's files since open: WAL records,
                                    segment files, manifests (write amplification) */
} tl_stats_t;

#define TL_STATS_FIELDS 28u

/* Fills *out for the log's current state. OK, EINVAL, ESTATE (closed). Any thread. */
TL_API tl_status_t tl_stats(tl_timelog_t *tl, tl_stats_t *out);

/* Fills *out for the state pinned by s (counters are the log's at acquisition). */
TL_API tl_status_t tl_snapshot_stats(tl_snapshot_t *s, tl_stats_t *out);

/* Checks every structural invariant of the current state (sorted pages, fence keys,
 * non-overlapping L1 windows, tombstone ordering, watermarks, counts). OK or EINTERNAL with
 * the first violation in tl_last_error. O(records). */
TL_API tl_status_t tl_validate(tl_timelog_t *tl);

#ifdef __cplusplus
}
#endif

#endif /* TIMELOG_H */
