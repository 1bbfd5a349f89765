/*
 * dur.c — a durable log's lifecycle, its WAL records and its syncer (dur.h says what a durable
 * log keeps and why).
 *
 * Logging: a write call's record is appended to the WAL's buffer inside the call's
 * transaction (no I/O), before it commits: if the append fails the call rolls back, so a call
 * that returned OK is in the WAL. A full buffer is written out by the writer itself (that is a
 * durable log's backpressure), then the append is retried. An append of more records than one
 * WAL record can carry becomes several chunks (dur.h).
 *
 * Syncer (INTERVAL and NONE): one thread per log that, every sync_interval_ms or when kicked
 * (a full buffer, a sync request), writes the WAL (NONE) or writes and fdatasyncs it
 * (INTERVAL, or any mode with a request pending), then publishes the durable seq and rings the
 * drop queue's doorbell when a requested target is reached, so an awaiting runtime learns it
 * without polling. The syncer never waits on a runtime: the doorbell's notifier thread does.
 * Failure: the first persistent error is kept (status + formatted context) and returned by
 * every later write and sync; the WAL itself refuses everything after its first I/O error.
 *
 * A sync publishes the durable seq of whole calls only: the WAL is opened with unit_flag =
 * TL_WREC_LAST, so it reports the last durable record that ENDS a call. A sync may still make
 * the first chunks of a call durable (recovery drops such a torn call); it never waits for the
 * writer, nor the writer for it (a lock held across both made every byte-value append wait
 * out a concurrent fdatasync: p99 2-2.4 ms against a median of 54 us).
 *
 * Lock order: stage_mu -> the WAL's locks (an APPEND_RUN is appended under stage_mu); the
 * syncer's mu is a leaf (never held while calling into the engine or the WAL).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "bgthread.h"
#include "codec/pcodec.h"
#include "disk/le.h"
#include "durable/dur_int.h"
#include "vstore.h"

/* The WAL stores the engine's int64/uint64 columns as they are in memory, and the format is
 * little-endian (docs/format.md): every supported platform is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "durable logs need a little-endian platform"
#endif

/* ---- failure ---- */

static void ring(tl_timelog_t *tl) {
    if (tl->dropq != NULL) tl_dropq_notify(tl->dropq);
}

tl_status_t tl_dur_fail(tl_timelog_t *tl, tl_status_t st, const tl_io_err_t *err) {
    tl_dur_t *d = tl->dur;
    pthread_mutex_lock(&d->mu);
    if (atomic_load_explicit(&d->failed, memory_order_relaxed) == TL_OK) {
        if (err != NULL) d->err = *err;
        else tl_io_err_set(&d->err, st, "durable log", d->dir, "failed");
        atomic_store_explicit(&d->failed, (int)st, memory_order_release);
        tl_log(tl, TL_LOG_ERROR, "durable log failed: %s", tl_strerror((int)st));
    }
    pthread_mutex_unlock(&d->mu);
    ring(tl);
    return st;
}

tl_status_t tl_dur_failed(tl_timelog_t *tl, char *msg, size_t cap) {
    tl_dur_t *d = tl->dur;
    tl_status_t st = (tl_status_t)atomic_load_explicit(&d->failed, memory_order_acquire);
    if (st != TL_OK && msg != NULL && cap > 0) {
        pthread_mutex_lock(&d->mu);
        tl_io_err_format(&d->err, msg, cap);
        pthread_mutex_unlock(&d->mu);
    }
    return st;
}

tl_status_t tl_dur_error(tl_timelog_t *tl, tl_status_t st, const char *what) {
    char msg[TL_ERR_CAP];
    if (tl_dur_failed(tl, msg, sizeof msg) == TL_OK) {
        snprintf(msg, sizeof msg, "%s", tl_strerror((int)st));
    }
    return tl_err_set(tl, st, "%s: the log's disk failed (reads still work; close and reopen "
                      "to recover): %s", what, msg);
}

/* ---- logging (writer) ---- */

/* Appends one frame, writing the buffer out when it is full (once: a second EBUSY means the
 * record cannot fit at all, which the chunk size rules out). */
static tl_status_t append(tl_timelog_t *tl, uint64_t wseq, uint8_t type, uint8_t flags,
                          const tl_wal_piece_t *pieces, uint32_t np) {
    tl_dur_t *d = tl->dur;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    tl_status_t st = tl_wal_appendv(d->wal, wseq, type, flags, pieces, np, &err);
    if (st == TL_EBUSY) {
        st = tl_wal_write(d->wal, &err); /* the writer's own backpressure: write it out */
        if (st == TL_OK) st = tl_wal_appendv(d->wal, wseq, type, flags, pieces, np, &err);
    }
    if (st == TL_OK) {
        size_t len = 0;
        for (uint32_t i = 0; i < np; i++) len += pieces[i].len;
        atomic_fetch_add_explicit(&d->logged, tl_wal_frame_size((uint32_t)len),
                                  memory_order_relaxed);
    }
    if (st == TL_EIO || st == TL_ECORRUPT) return tl_dur_fail(tl, st, &err);
    if (st != TL_OK) {
        tl_err_set(tl, st, "WAL append: %s", err.what ? err.what : tl_strerror((int)st));
    }
    return st;
}

/* Empties the stage into the WAL as one APPEND_RUN record (caller holds stage_mu). */
static tl_status_t stage_flush_locked(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    uint32_t k = d->stage_n;
    if (k == 0) return TL_OK;
    uint8_t hdr[16];
    tl_le64_store(hdr, d->stage_first);
    tl_le32_store(hdr + 8, k);
    tl_le32_store(hdr + 12, 0);
    tl_wal_piece_t p[3] = {{hdr, 16}, {d->stage_ts, (size_t)k * 8}, {d->stage_h, (size_t)k * 8}};
    uint64_t last = d->stage_first + k - 1;
    tl_status_t st = append(tl, last << TL_WREC_CHUNK_BITS, TL_WREC_APPEND_RUN, TL_WREC_LAST, p, 3);
    if (st == TL_OK) d->stage_n = 0;
    return st;
}

static tl_status_t stage_flush(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    pthread_mutex_lock(&d->stage_mu);
    tl_status_t st = stage_flush_locked(tl);
    pthread_mutex_unlock(&d->stage_mu);
    return st;
}

/* Stages one single-record append (flushing a full or non-consecutive stage first). */
static tl_status_t stage_one(tl_timelog_t *tl, uint64_t seq, int64_t ts, uint64_t h) {
    tl_dur_t *d = tl->dur;
    pthread_mutex_lock(&d->stage_mu);
    tl_status_t st = TL_OK;
    if (d->stage_n == d->stage_cap || (d->stage_n > 0 && seq != d->stage_first + d->stage_n)) {
        st = stage_flush_locked(tl);
    }
    if (st == TL_OK) {
        if (d->stage_n == 0) d->stage_first = seq;
        d->stage_ts[d->stage_n] = ts;
        d->stage_h[d->stage_n] = h;
        d->stage_n++;
    }
    pthread_mutex_unlock(&d->stage_mu);
    return st;
}

/* Whether a write call is to be logged: not in memory, nor while replaying (*skip), and not on
 * a failed log or past the seqs a WAL can number (the status). */
static tl_status_t log_ready(tl_timelog_t *tl, uint64_t seq, bool *skip) {
    tl_dur_t *d = tl->dur;
    *skip = d == NULL || d->replaying;
    if (*skip) return TL_OK;
    tl_status_t st = (tl_status_t)atomic_load_explicit(&d->failed, memory_order_acquire);
    if (st != TL_OK) return st;
    return seq > TL_DUR_SEQ_MAX ? TL_EOVERFLOW : TL_OK;
}

/* One APPEND chunk: compressed (APPEND_PACKED) when the page codec shrinks it by a quarter,
 * else as it is. The codec's INT columns cost the writer ~5 ns a record and cut the WAL's
 * bytes 5-10 times on timestamps that mostly rise and values that change little, which is
 * what lets a durable log ingest faster than the disk takes 16-byte records. The buffer is
 * the writer's alone (write calls are serialised; the stage, which others flush, never packs);
 * without memory for it the chunk goes uncompressed. */
static tl_status_t log_chunk(tl_timelog_t *tl, uint64_t wseq, uint8_t flags, const int64_t *ts,
                             const uint64_t *h, size_t k) {
    tl_dur_t *d = tl->dur;
    size_t bound = tl_pcodec_bound((uint32_t)k), len = 0;
    if (bound > d->pack_cap) {
        uint8_t *b = tl_mem_alloc(d->alloc, bound);
        if (b != NULL) {
            tl_mem_free(d->alloc, d->pack_buf, d->pack_cap);
            d->pack_buf = b;
            d->pack_cap = bound;
        }
    }
    if (bound <= d->pack_cap) {
        size_t cap = 8 + (size_t)k * 16; /* no larger than the chunk uncompressed */
        len = tl_pcodec_encode(ts, h, (uint32_t)k, TL_PCODEC_UNSORTED, d->pack_buf,
                               cap < d->pack_cap ? cap : d->pack_cap);
    }
    if (len > 0) {
        tl_wal_piece_t p = {d->pack_buf, len};
        return append(tl, wseq, TL_WREC_APPEND_PACKED, flags, &p, 1);
    }
    uint8_t hdr[8];
    tl_le32_store(hdr, (uint32_t)k);
    tl_le32_store(hdr + 4, 0);
    tl_wal_piece_t p[3] = {{hdr, 8}, {ts, k * 8}, {h, k * 8}};
    return append(tl, wseq, TL_WREC_APPEND, flags, p, 3);
}

/* How many APPEND chunks a call of n records takes. */
static size_t append_chunks(const tl_dur_t *d, size_t n) {
    return (n + d->chunk_records - 1) / d->chunk_records;
}

/* The APPEND chunks of a call, numbered from `first` (after its VALUES chunks). */
static tl_status_t log_records(tl_timelog_t *tl, uint64_t seq, size_t first, const int64_t *ts,
                               const uint64_t *h, size_t n) {
    tl_dur_t *d = tl->dur;
    tl_status_t st = TL_OK;
    size_t per = d->chunk_records, chunks = append_chunks(d, n);
    for (size_t c = 0; c < chunks && st == TL_OK; c++) {
        size_t off = c * per, k = n - off < per ? n - off : per;
        uint8_t flags = c + 1 == chunks ? TL_WREC_LAST : 0;
        st = log_chunk(tl, seq << TL_WREC_CHUNK_BITS | (first + c), flags, ts + off, h + off, k);
    }
    return st;
}

tl_status_t tl_dur_log_append(tl_timelog_t *tl, uint64_t seq, const int64_t *ts,
                              const uint64_t *h, size_t n) {
    bool skip;
    tl_status_t st = log_ready(tl, seq, &skip);
    if (skip || st != TL_OK) return st;
    tl_dur_t *d = tl->dur;
    if (n == 1 && d->mode != TL_DURABILITY_SYNC) return stage_one(tl, seq, ts[0], h[0]);
    if ((st = stage_flush(tl)) != TL_OK) return st; /* the WAL keeps the call order */
    if (append_chunks(d, n) > ((size_t)1 << TL_WREC_CHUNK_BITS)) return TL_EOVERFLOW;
    return log_records(tl, seq, 0, ts, h, n);
}

tl_status_t tl_dur_log_bytes(tl_timelog_t *tl, uint64_t seq, const struct tl_vmark *vm,
                             const int64_t *ts, const uint64_t *h, size_t n) {
    bool skip;
    tl_status_t st = log_ready(tl, seq, &skip);
    if (skip || st != TL_OK) return st;
    tl_dur_t *d = tl->dur;
    if ((st = stage_flush(tl)) != TL_OK) return st;
    /* A batch's values go on in the chunk taking appends, then into new chunks (a value of
     * 256 KiB or more into one of its own): at most n + 1 ranges. */
    enum { RANGES = 64 };
    tl_vrange_t stack[RANGES], *rg = stack;
    size_t cap = n + 1 < RANGES ? RANGES : n + 1;
    if (cap > RANGES) {
        rg = tl_mem_alloc(d->alloc, cap * sizeof *rg);
        if (rg == NULL) return TL_ENOMEM;
    }
    uint32_t nr = 0;
    st = tl_vstore_ranges(tl->vs, vm, rg, (uint32_t)cap, &nr);
    size_t per = d->max_values, chunks = append_chunks(d, n);
    for (uint32_t i = 0; i < nr; i++) chunks += (rg[i].len + per - 1) / per;
    if (st == TL_OK && chunks > ((size_t)1 << TL_WREC_CHUNK_BITS)) st = TL_EOVERFLOW;
    size_t c = 0;
    for (uint32_t i = 0; i < nr && st == TL_OK; i++) {
        for (uint32_t off = 0; off < rg[i].len && st == TL_OK; off += (uint32_t)per, c++) {
            uint32_t k = rg[i].len - off < per ? rg[i].len - off : (uint32_t)per;
            uint8_t hdr[8];
            tl_le32_store(hdr, rg[i].id);
            tl_le32_store(hdr + 4, rg[i].off + off);
            tl_wal_piece_t p[2] = {{hdr, 8}, {rg[i].data + off, k}};
            st = append(tl, seq << TL_WREC_CHUNK_BITS | c, TL_WREC_VALUES, 0, p, 2);
        }
    }
    if (st == TL_OK) st = log_records(tl, seq, c, ts, h, n);
    if (rg != stack) tl_mem_free(d->alloc, rg, cap * sizeof *rg);
    return st;
}

tl_status_t tl_dur_log_delete(tl_timelog_t *tl, uint64_t seq, int64_t lo, int64_t hi) {
    bool skip;
    tl_status_t st = log_ready(tl, seq, &skip);
    if (skip || st != TL_OK) return st;
    if ((st = stage_flush(tl)) != TL_OK) return st;
    uint8_t rec[16];
    tl_le64_store(rec, (uint64_t)lo);
    tl_le64_store(rec + 8, (uint64_t)hi);
    tl_wal_piece_t p = {rec, 16};
    return append(tl, seq << TL_WREC_CHUNK_BITS, TL_WREC_DELETE, TL_WREC_LAST, &p, 1);
}

/* Publishes what the WAL reports durable. */
static void note_synced(tl_dur_t *d, uint64_t synced_wseq) {
    uint64_t s = synced_wseq >> TL_WREC_CHUNK_BITS;
    uint64_t cur = atomic_load_explicit(&d->durable_seq, memory_order_relaxed);
    if (s > cur) atomic_store_explicit(&d->durable_seq, s, memory_order_release);
}

static void kick(tl_dur_t *d) {
    pthread_mutex_lock(&d->mu);
    d->kick = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

tl_status_t tl_dur_after_write(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    if (d == NULL || d->replaying) return TL_OK;
    if (d->mode == TL_DURABILITY_SYNC) return tl_dur_sync(tl);
    tl_wal_stats_t ws;
    tl_wal_stats(d->wal, &ws);
    /* Write behind once a buffer is full (buffer_bytes counts all of them): the syncer has
     * the others' room to catch up in. And once the buffer filling holds 64 KiB on the WAL's
     * first pass, so that the syncer faults the next one in before this thread first writes
     * into it (tl_wal_prefault). */
    if ((ws.buffered_bytes * ws.buffers >= ws.buffer_bytes || ws.prefault_due) && d->th_live) {
        kick(d);
    }
    return TL_OK;
}

/* ---- syncing ---- */

tl_status_t tl_dur_sync(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    tl_status_t st = (tl_status_t)atomic_load_explicit(&d->failed, memory_order_acquire);
    if (st != TL_OK) return st;
    if ((st = stage_flush(tl)) != TL_OK) return st;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    uint64_t synced = 0; /* the end of a whole call (unit_flag) */
    st = tl_wal_sync(d->wal, &synced, &err);
    if (st == TL_OK) note_synced(d, synced);
    return st == TL_OK ? TL_OK : tl_dur_fail(tl, st, &err);
}

tl_status_t tl_dur_sync_request(tl_timelog_t *tl, uint64_t *target) {
    tl_dur_t *d = tl->dur;
    *target = tl->seq;
    tl_status_t st = (tl_status_t)atomic_load_explicit(&d->failed, memory_order_acquire);
    if (st != TL_OK) return st;
    if (atomic_load_explicit(&d->durable_seq, memory_order_acquire) >= *target) {
        ring(tl); /* already durable: the awaiting side still hears the bell */
        return TL_OK;
    }
    if (!d->th_live) { /* SYNC mode has no syncer: sync now */
        st = tl_dur_sync(tl);
        ring(tl);
        return st;
    }
    pthread_mutex_lock(&d->mu);
    if (*target > d->want) d->want = *target;
    d->kick = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return TL_OK;
}

uint64_t tl_dur_durable_seq(tl_timelog_t *tl) {
    return atomic_load_explicit(&tl->dur->durable_seq, memory_order_acquire);
}

/* One round of the syncer: write (NONE, no request) or write + fdatasync. */
static void sync_round(tl_timelog_t *tl, uint64_t want) {
    tl_dur_t *d = tl->dur;
    if (atomic_load_explicit(&d->failed, memory_order_acquire) != TL_OK) return;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    bool do_sync = d->mode == TL_DURABILITY_INTERVAL ||
                   want > atomic_load_explicit(&d->durable_seq, memory_order_acquire);
    uint64_t synced = 0;
    if (stage_flush(tl) != TL_OK) return; /* the failure is recorded (append) */
    tl_status_t st;
    if (do_sync) {
        st = tl_wal_sync(d->wal, &synced, &err); /* whole calls only (unit_flag) */
        if (st == TL_OK) note_synced(d, synced);
    } else {
        st = tl_wal_write(d->wal, &err);
    }
    if (st != TL_OK) {
        tl_dur_fail(tl, st, &err);
        return;
    }
    pthread_mutex_lock(&d->mu);
    bool bell = d->want > d->rung &&
                atomic_load_explicit(&d->durable_seq, memory_order_relaxed) >= d->want;
    if (bell) d->rung = d->want;
    pthread_mutex_unlock(&d->mu);
    if (bell) ring(tl);
}

static void *syncer_main(void *arg) {
    tl_timelog_t *tl = arg;
    tl_dur_t *d = tl->dur;
    /* A batch thread, as the worker: woken at every full WAL buffer, it otherwise took the
     * writer's core for its copy of the buffer into the page cache (C, the bench data paced at
     * 30 Mrec/s, durable: calls preempted for 250-470 us each; p99 / median 2.62-2.94, median
     * 2.87, over five runs, as a batch thread 2.04-2.62, median 2.48). With two WAL buffers a
     * batch syncer lagged a writer at full speed, which then wrote its buffer out itself
     * (60.7 -> 56.3 Mrec/s); with four, the writer queues three while the syncer catches up:
     * as fast as it goes, five alternated runs, 30.6-49.2 Mrec/s (median 41.7) as a normal
     * thread, 38.6-48.6 (43.3) as a batch one. */
    tl_bgthread_init("tl-sync", true);
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        if (!d->kick) {
            struct timespec dl = tl_deadline_in(d->interval_ms);
            pthread_cond_timedwait(&d->cv, &d->mu, &dl);
            if (d->stop) break;
        }
        d->kick = false;
        uint64_t want = d->want;
        pthread_mutex_unlock(&d->mu);
        (void)tl_wal_prefault(d->wal); /* ahead of the writer's first store into a buffer */
        sync_round(tl, want);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* ---- lifecycle ---- */

static tl_status_t sync_init(tl_dur_t *d) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) return TL_EINTERNAL;
#if !defined(__APPLE__)
    pthread_condattr_setclock(&ca, TL_COND_CLOCK);
#endif
    int a = pthread_mutex_init(&d->mu, NULL), b = pthread_cond_init(&d->cv, &ca);
    int c = pthread_mutex_init(&d->ckpt_mu, NULL), e = pthread_mutex_init(&d->stage_mu, NULL);
    pthread_condattr_destroy(&ca);
    if (a == 0 && b == 0 && c == 0 && e == 0) return TL_OK;
    if (a == 0) pthread_mutex_destroy(&d->mu);
    if (b == 0) pthread_cond_destroy(&d->cv);
    if (c == 0) pthread_mutex_destroy(&d->ckpt_mu);
    if (e == 0) pthread_mutex_destroy(&d->stage_mu);
    return TL_EINTERNAL;
}

static void dur_free(tl_dur_t *d) {
    tl_dur_files_free(&d->files, d->alloc);
    tl_mem_free(d->alloc, d->pack_buf, d->pack_cap);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->ckpt_mu);
    pthread_mutex_destroy(&d->stage_mu);
    tl_mem_free(d->alloc, d, sizeof *d);
}

tl_status_t tl_dur_open(tl_timelog_t *tl, tl_dur_apply_fn apply, char *msg, size_t cap) {
    tl_dur_t *d = tl_mem_calloc(&tl->cfg.allocator, 1, sizeof *d);
    if (d == NULL) return TL_ENOMEM;
    d->io = tl->io != NULL ? tl->io : tl_io_default();
    d->alloc = &tl->cfg.allocator;
    d->mode = tl->cfg.durability;
    d->interval_ms = tl->cfg.sync_interval_ms;
    d->checkpoint_bytes = tl->cfg.checkpoint_bytes;
    d->segment_bytes = tl->cfg.wal_segment_bytes;
    d->lock = -1;
    d->next_file = 1; /* segment file ids start at 1 (0 means "not on disk") */
    memcpy(d->dir, tl->cfg.path, sizeof d->dir < TL_PATH_CAP ? sizeof d->dir : TL_PATH_CAP);
    d->dir[sizeof d->dir - 1] = '\0';
    atomic_init(&d->failed, TL_OK);
    atomic_init(&d->durable_seq, 0);
    atomic_init(&d->garbage, false);
    atomic_init(&d->seg_bytes, 0);
    atomic_init(&d->replaying, false);
    atomic_init(&d->logged, 0);
    atomic_init(&d->written, 0);
    atomic_init(&d->logged_ckpt, 0);
    atomic_init(&d->checkpoints, 0);
    if (sync_init(d) != TL_OK) {
        tl_mem_free(d->alloc, d, sizeof *d);
        return TL_EINTERNAL;
    }
    tl->dur = d;
    tl_status_t st = tl_dur_recover(tl, d, apply, msg, cap);
    if (st == TL_OK && d->mode != TL_DURABILITY_SYNC) {
        if (pthread_create(&d->th, NULL, syncer_main, tl) != 0) st = TL_EINTERNAL;
        else d->th_live = true;
        if (st != TL_OK) snprintf(msg, cap, "cannot start the WAL syncer thread");
    }
    if (st != TL_OK) {
        tl->dur = NULL;
        tl_io_err_t err;
        (void)tl_wal_close(d->wal, &err);
        if (d->lock >= 0) tl_io_unlock(d->io, d->lock);
        dur_free(d);
    }
    return st;
}

void tl_dur_close(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    if (d == NULL) return;
    if (d->th_live) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        d->th_live = false;
    }
    tl_io_err_t err;
    tl_io_err_clear(&err);
    (void)stage_flush(tl); /* a failure is recorded, and then the close below reports it */
    tl_status_t st = tl_wal_close(d->wal, &err); /* syncs what is buffered unless failed */
    if (st != TL_OK && atomic_load_explicit(&d->failed, memory_order_relaxed) == TL_OK) {
        char msg[TL_ERR_CAP];
        tl_io_err_format(&err, msg, sizeof msg);
        tl_log(tl, TL_LOG_ERROR, "close: the WAL could not be made durable: %s", msg);
    }
    d->wal = NULL;
    tl_io_unlock(d->io, d->lock);
    tl->dur = NULL;
    dur_free(d);
}

void tl_dur_stats(tl_timelog_t *tl, tl_dur_stats_t *o) {
    memset(o, 0, sizeof *o);
    tl_dur_t *d = tl->dur;
    if (d == NULL) return;
    o->durable_seq = atomic_load_explicit(&d->durable_seq, memory_order_acquire);
    tl_wal_stats_t ws;
    tl_wal_stats(d->wal, &ws);
    /* Every live segment but the current one is full: about segment_bytes each. */
    o->wal_bytes = (ws.segments > 0 ? (ws.segments - 1) * d->segment_bytes : 0) +
                   ws.segment_offset;
    o->disk_bytes = o->wal_bytes + atomic_load_explicit(&d->seg_bytes, memory_order_relaxed);
    o->checkpoints = atomic_load_explicit(&d->checkpoints, memory_order_relaxed);
    o->replayed = d->replayed;
    o->cut_bytes = d->cut_bytes;
    o->cut_records = d->cut_records;
    o->written = atomic_load_explicit(&d->written, memory_order_relaxed) +
                 atomic_load_explicit(&d->logged, memory_order_relaxed);
}
