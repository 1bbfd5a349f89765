/*
 * timelog_int.h — the log object and the internal calls between engine files.
 *
 * Locks (always taken in this order, never the reverse):
 *   maint_mu  serializes maintenance jobs (worker, tl_flush/tl_compact/tl_maint_step);
 *   state_mu  guards tl->man and the memtable generation pointers; held for O(1) swaps,
 *             snapshot acquisition, and by the writer for the rest of a write call once that
 *             call made a structural change (so a batch is atomic for readers and can be
 *             rolled back on ENOMEM before anyone saw it);
 *   wk_mu     the worker's condvars (kick / progress); taken alone.
 * Callbacks (on_drop, log_fn, the drop queue) run with no engine lock held.
 */
#ifndef TL_TIMELOG_INT_H
#define TL_TIMELOG_INT_H

#include <pthread.h>
#include <time.h>

#include "arena.h"
#include "helper.h"
#include "hold.h"
#include "manifest.h"
#include "memtable.h"
#include "merge.h"

#define TL_ERR_CAP 1536u /* room for a path of TL_PATH_CAP and its context */

/* The clock of the worker's timed waits. Monotonic where condvars can be told to use it; Apple's
 * pthreads have no pthread_condattr_setclock and always wait on the realtime clock. */
#if defined(__APPLE__)
#define TL_COND_CLOCK CLOCK_REALTIME
#else
#define TL_COND_CLOCK CLOCK_MONOTONIC
#endif

/* The absolute time ms milliseconds from now on TL_COND_CLOCK: a pthread_cond_timedwait
 * deadline for the condvars set up with that clock (the worker's, the WAL syncer's). */
static inline struct timespec tl_deadline_in(uint32_t ms) {
    struct timespec ts;
    clock_gettime(TL_COND_CLOCK, &ts);
    ts.tv_sec += ms / 1000u;
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

typedef struct tl_counters {
    _Atomic uint64_t seals, flushes, compactions, pages_rewritten, pages_shared, busy, dropped,
        maint_errors, idle_jobs;
} tl_counters_t;

struct tl_timelog {
    tl_config_t cfg; /* normalized copy; cfg.allocator is the one every object points to */
    const tl_allocator_t *alloc; /* &arena.self: pages from chunks, the rest from cfg.allocator */
    tl_arena_t arena;
    _Atomic uint32_t refs; /* 1 for the open log + 1 per live snapshot */
    _Atomic bool closed;
    uint64_t seq; /* writer: last sequence number issued */
    _Atomic uint64_t seq_pub; /* seq, readable from any thread (stats) */
    pthread_mutex_t state_mu;
    tl_manifest_t *man; /* state_mu */
    tl_memtable_t mt; /* pointers: state_mu; counters: writer */
    _Atomic uint64_t sver; /* state version: bumped under state_mu after every change of the
                              pointers it guards (with mt.pub it tells a read view is current) */
    _Atomic(tl_snapshot_t *) view; /* the read view one-call reads reuse (snapshot.c), or NULL */
    pthread_mutex_t maint_mu;
    pthread_mutex_t wk_mu;
    pthread_cond_t wk_cv; /* wakes the worker */
    pthread_cond_t progress_cv; /* worker finished a job (writers waiting under EBUSY) */
    pthread_t wk_thread;
    bool wk_running, wk_stop, wk_kick; /* wk_mu */
    uint64_t wk_epoch; /* jobs completed; wk_mu */
    tl_dropq_t *dropq;
    struct tl_vstore *vs; /* TL_VALUES_BYTES: the values (vstore.h); NULL otherwise */
    _Atomic(size_t *) scratch; /* a reusable buffer of one-call reads (scratch.c), or NULL */
    /* The writer section (see tl_wr_enter): wr_seq is odd while a writer call runs and grows
     * by two per call; idle_req is set by the worker while it seals on the writer's behalf. */
    _Atomic uint64_t wr_seq;
    _Atomic uint32_t idle_req;
    tl_hold_t hold; /* two-thread reads hold maintenance off while they run (hold.h); the
                      * writer's asks */
    tl_helper_t helper; /* serves the writer's asks when the worker cannot (helper.h) */
    tl_helper_t ckpt; /* durable logs: runs the checkpoints the worker asks for (helper.h) */
    uint64_t ckpt_retry_ms; /* the ckpt thread's: no checkpoint before (a failure's backoff) */
    uint32_t ckpt_backoff_ms; /* the ckpt thread's: the next failure's backoff */
    tl_counters_t ctr;
    struct tl_dur *dur; /* durable logs: the WAL, files and syncer (durable/dur.h); else NULL */
    const struct tl_io *io; /* the file system a durable log uses (NULL = the OS; tests pass
                               a simulated one through tl_open_io) */
    uint32_t err_len;
    char err[TL_ERR_CAP]; /* last failure of a writer-thread call */
};

/* TL_EINVAL for NULL, TL_ESTATE once closed, else TL_OK: the guard of every writer call. */
static inline tl_status_t tl_check_open(const tl_timelog_t *tl) {
    if (tl == NULL) return TL_EINVAL;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) return TL_ESTATE;
    return TL_OK;
}

/* ---- status.c ---- */
/* Records st with a formatted message as the log's last error (writer thread); returns st. */
tl_status_t tl_err_set(tl_timelog_t *tl, tl_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sends a message to cfg.log_fn when level <= cfg.log_level. Any thread, no lock held. */
void tl_log(tl_timelog_t *tl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- config.c ---- */
/* Validates *in and writes the normalized config (0 -> defaults) to *out. EINVAL. */
tl_status_t tl_config_normalize(const tl_config_t *in, tl_config_t *out);

/* ---- timelog.c ---- */
/* tl_open_ex with the file system a durable log uses (NULL = the OS): the crash and fault
 * tests open logs over a simulated one (disk/io.h). */
tl_status_t tl_open_io(const tl_config_t *cfg, const struct tl_io *io, tl_timelog_t **out,
                       char *err, uint32_t cap);

/* ---- write.c ---- */
struct tl_vmark;
/* tl_append_batch after its argument checks: n records with the given handles, one sequence
 * number, all or nothing. vm (a bytes log): the value store's mark before this call's values,
 * so a durable log logs their bytes with the call; NULL otherwise. */
tl_status_t tl_write_handles(tl_timelog_t *tl, const int64_t *ts, const uint64_t *handles,
                             size_t n, const struct tl_vmark *vm);
/* A bytes log's append (values.c): stores the values (data, ends as tl_append_bytes), then
 * writes the records; when they are not inserted the values are taken back. */
tl_status_t tl_write_bytes(tl_timelog_t *tl, const int64_t *ts, const uint8_t *data,
                           const uint32_t *ends, uint32_t n);

/* ---- scratch.c ---- */
/* A buffer of at least `bytes` for one call (the log's kept one when large enough); NULL on
 * ENOMEM. Give it back with tl_scratch_give; tl_scratch_drop frees the kept one. */
void *tl_scratch_take(tl_timelog_t *tl, size_t bytes);
void tl_scratch_give(tl_timelog_t *tl, void *buf);
void tl_scratch_drop(tl_timelog_t *tl);

/* ---- logref.c ---- */
/* Drops a reference on the log object (the open log and every snapshot hold one); the last
 * one frees it. */
void tl_log_unref(tl_timelog_t *tl);

/* ---- dropq.c (internal side of the queue) ---- */
void tl_dropq_ref_int(tl_dropq_t *q);
void tl_dropq_unref_int(tl_dropq_t *q);
/* Makes room for n more handles so that the pushes after a publish cannot fail. ENOMEM. */
tl_status_t tl_dropq_reserve(tl_dropq_t *q, size_t n);
/* Appends handles (room reserved, or grows; on ENOMEM the handles are lost: returns it). */
tl_status_t tl_dropq_push(tl_dropq_t *q, const uint64_t *h, size_t n);
/* Rings the doorbell (when set) without pushing anything: the durable layer tells an awaiting
 * runtime that the durable seq moved or the log failed. Any thread, no engine lock held. */
void tl_dropq_notify(tl_dropq_t *q);
/* True for a TL_DROPQ_BELL_ONLY queue (a log reports no drops to it). */
bool tl_dropq_bell_only(const tl_dropq_t *q);

/* ---- snapshot.c ---- */
/* Fills every field of *o from the snapshot (plans it if needed). ENOMEM. */
tl_status_t tl_snapshot_fill_stats(tl_snapshot_t *s, tl_stats_t *o);

/* The read view: one snapshot per log kept between one-call reads (oneshot.c), so a loop of
 * point reads with no write in between neither acquires, plans nor releases. take hands out
 * the kept view when it is still current (same sver and mt.pub) or a fresh snapshot; put
 * keeps it for the next read, or releases it when stale or when another is kept. A reader
 * owns the view between take and put, so concurrent readers simply get separate snapshots.
 * tl_view_drop releases the kept view: called after every publish that makes it stale, so it
 * never pins memory that maintenance freed, and at close (it holds a log reference). */
tl_status_t tl_view_take(tl_timelog_t *tl, tl_snapshot_t **out);
void tl_view_put(tl_timelog_t *tl, tl_snapshot_t *s);
void tl_view_drop(tl_timelog_t *tl);
/* What a query over a snapshot reads (asof.c, agg.c): the planned sources in ascending rank
 * order, the tombstones, the log's value kind and allocator. Plans the snapshot on its first
 * read (ENOMEM). Valid while s is. */
typedef struct tl_read_plan {
    const tl_source_t *srcs;
    uint32_t nsrc;
    uint32_t value_kind; /* tl_config_t.value_kind */
    const tl_tombs_t *tombs;
    const tl_allocator_t *alloc;
    tl_timelog_t *tl; /* the log (its scratch buffer) */
} tl_read_plan_t;
tl_status_t tl_snapshot_read_plan(tl_snapshot_t *s, tl_read_plan_t *out);

/* Marks a change of the state_mu-guarded pointers (caller holds state_mu). */
static inline void tl_state_bump(tl_timelog_t *tl) {
    atomic_fetch_add_explicit(&tl->sver, 1, memory_order_release);
}

#endif /* TL_TIMELOG_INT_H */
