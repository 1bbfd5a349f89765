/*
 * wal.c — the WAL writer: open (recover + fix the directory), append, write, sync, truncate,
 * close (wal.h).
 *
 * Structure. A ring of `nbuf` buffers of `cap` bytes, in ring order from `head`: `inflight`
 * buffers being written, `nq` full ones queued, the one appends fill, then free ones. Appends
 * fill under `mu`; a full buffer is queued and the next free one filled, so appends go on
 * while a write or sync waits for the disk, and only all buffers full is pressure (EBUSY).
 * Write/sync take `io_mu`, take the queued buffers and the filled one under `mu`, and do the
 * I/O outside `mu`. Each buffer's "plan" says where its bytes go: the frames before `roll_at`
 * to the current segment (ending with that segment's seal), those after it to a new segment
 * `roll_seg` whose first record has `roll_first_seq`. append computes the plan (at most one
 * roll per buffer), write carries it out: write the head, fdatasync + close the sealed
 * segment, create the next (O_EXCL, header, fdatasync, fsync of the directory), write the tail.
 *
 * Invariants:
 *   - seqs strictly increase (checked at append); 0 is never a seq;
 *   - plan_off + (next frame) + one seal frame <= the segment's size: a segment always has room
 *     for its seal, so a full segment is always sealed;
 *   - a segment is created only after its predecessor is sealed and durable, and its first
 *     record is written only after its directory entry is durable: a crash can leave a torn
 *     LAST segment, never a damaged middle one;
 *   - written_seq <= appended last_seq; synced_seq <= written_seq; after open they all equal
 *     the recovered last seq (open fdatasyncs the continued segment, so what recovery read
 *     from the OS cache of a dead process is durable before anything is built on it);
 *   - the first I/O failure is sticky (`failed`, `fail_err`): every later call returns it.
 * Lock order: io_mu, then mu. No callback runs under either. An fdatasync of the current file
 * runs outside both (tl_wal_sync); closing that file waits for it under io_mu.
 * Complexity: append O(len) (one memcpy + one CRC); write O(bytes) + one pwrite per buffer
 * and segment touched; sync adds one fdatasync; a roll adds 2 fdatasyncs + 1 directory fsync.
 */
#include <pthread.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "disk/le.h"
#include "disk/wal_int.h"

/* One write buffer and its plan. `last` / `last_unit`: the seq of its last frame and of its
 * last frame ending a unit, set when it is queued. */
typedef struct {
    uint8_t *data;
    size_t len;
    bool roll; /* starts segment roll_seg at roll_at */
    size_t roll_at;
    uint64_t roll_seg, roll_first_seq, roll_prev_last, roll_prev_unit;
    uint64_t last, last_unit;
} wbuf_t;

struct tl_wal {
    const tl_io_t *io;
    tl_wal_opts_t o;
    char dir[TL_IO_PATH_CAP];
    int lock;
    pthread_mutex_t mu; /* buffers, plan, seqs, segment table, failure */
    pthread_mutex_t io_mu; /* write / sync / truncate / close, and the current file */
    /* fdatasyncs of the current file running outside io_mu (mu), and the condition a close
     * of that file waits on until they are done: the fd must stay the same file meanwhile. */
    uint32_t syncing;
    pthread_cond_t sync_cv;
    wbuf_t *bufs; /* the ring (mu), nbuf of them */
    uint32_t nbuf, head, inflight, nq;
    size_t cap;
    bool plan_open; /* the next frame goes to segment plan_seg at plan_off */
    uint64_t plan_seg, plan_off, plan_cap;
    uint64_t last_seq; /* highest appended seq (0 = none) */
    uint64_t written_seq, synced_seq;
    /* The same for the last frame that ends a unit (opts.unit_flag): what a sync reports. */
    uint64_t last_unit, written_unit, synced_unit;
    uint32_t max_payload;
    tl_io_file_t cur; /* the segment being written (io_mu) */
    uint64_t cur_used;
    tl_wal_seginfo_t *segs; /* live segment files, ascending (mu) */
    size_t nsegs, scap;
    uint64_t next_number;
    uint64_t syncs, rolls;
    /* First pass round the ring (mu): buffers queued so far (the one filling is index
     * `filled` while filled < nbuf) and buffers already faulted in (0 .. touched - 1: by the
     * writer's own stores, or by tl_wal_prefault). */
    uint64_t filled;
    uint32_t touched;
    tl_status_t failed;
    tl_io_err_t fail_err;
    int mutexes; /* how many of mu, io_mu, sync_cv are initialised */
};

void tl_wal_opts_init(tl_wal_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->segment_bytes = TL_WAL_SEGMENT_DEFAULT;
    o->buffer_bytes = TL_WAL_BUFFER_DEFAULT;
    o->buffers = TL_WAL_BUFFERS_DEFAULT;
    o->lock = true;
    o->use_mmap = true;
}

uint32_t tl_wal_max_payload(const tl_wal_t *w) { return w->max_payload; }

/* Records the first failure (mu held) and returns its status. */
static tl_status_t fail(tl_wal_t *w, tl_status_t st, const tl_io_err_t *err) {
    if (w->failed == TL_OK) {
        w->failed = st;
        if (err != NULL) w->fail_err = *err;
        else tl_io_err_set(&w->fail_err, st, "write", w->dir, NULL);
    }
    return st;
}

/* The sticky failure, copied to the caller (mu held). */
static tl_status_t failed(const tl_wal_t *w, tl_io_err_t *err) {
    if (err != NULL) *err = w->fail_err;
    return w->failed;
}

/* ---------------------------------------------------------------------------------------------
 * Append (no I/O)
 * ------------------------------------------------------------------------------------------- */

/* The buffer appends fill (mu held). */
static wbuf_t *filling(tl_wal_t *w) { return &w->bufs[(w->head + w->inflight + w->nq) % w->nbuf]; }

/* Queues the filled buffer behind the others and starts filling the next, which must be free
 * (mu held). */
static void queue_fill(tl_wal_t *w) {
    wbuf_t *b = filling(w);
    b->last = w->last_seq;
    b->last_unit = w->last_unit;
    w->nq++;
    w->filled++;
    if (w->filled < w->nbuf && w->touched <= w->filled) w->touched = (uint32_t)w->filled + 1;
    wbuf_t *next = filling(w);
    next->len = 0;
    next->roll = false;
}

/* Plans a roll before the frame about to be appended to buffer b (mu held). */
static tl_status_t plan_roll(tl_wal_t *w, wbuf_t *b, uint64_t seq, tl_io_err_t *err) {
    /* Room for this roll and one in each other buffer, queued or being written. */
    if (!tl_wal_grow(w->o.alloc, (void **)&w->segs, &w->scap, w->nsegs + w->nbuf + 1,
                     sizeof *w->segs)) {
        return tl_io_err_set(err, TL_ENOMEM, "append", w->dir, "out of memory");
    }
    if (w->plan_open) { /* seal the current segment: a full segment always ends sealed */
        tl_wal_frame_encode(b->data + b->len, w->last_seq, TL_WAL_TYPE_SEAL, 0, NULL, 0);
        b->len += TL_WAL_FRAME_BYTES;
    }
    b->roll = true;
    b->roll_at = b->len;
    b->roll_seg = w->plan_open ? w->plan_seg + 1 : w->next_number;
    b->roll_first_seq = seq;
    b->roll_prev_last = w->last_seq;
    b->roll_prev_unit = w->last_unit;
    w->plan_open = true;
    w->plan_seg = b->roll_seg;
    w->plan_off = TL_WAL_HEADER_BYTES;
    w->plan_cap = w->o.segment_bytes;
    return TL_OK;
}

tl_status_t tl_wal_append(tl_wal_t *w, uint64_t seq, uint8_t type, uint8_t flags,
                          const void *payload, uint32_t len, tl_io_err_t *err) {
    if (len > 0 && payload == NULL) {
        return tl_io_err_set(err, TL_EINVAL, "append", w->dir, "payload NULL");
    }
    tl_wal_piece_t one = {payload, len};
    return tl_wal_appendv(w, seq, type, flags, &one, 1, err);
}

tl_status_t tl_wal_appendv(tl_wal_t *w, uint64_t seq, uint8_t type, uint8_t flags,
                           const tl_wal_piece_t *pieces, uint32_t npieces, tl_io_err_t *err) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < npieces; i++) {
        if (pieces[i].len > 0 && pieces[i].data == NULL) total = UINT64_MAX;
        else if (total != UINT64_MAX) total += pieces[i].len;
    }
    uint32_t len = total <= w->max_payload ? (uint32_t)total : 0;
    if (type == 0 || type == TL_WAL_TYPE_SEAL || seq == 0 || total > w->max_payload) {
        return tl_io_err_set(err, TL_EINVAL, "append", w->dir,
                             "type 1..254, seq >= 1, payload within the maximum");
    }
    uint64_t f = tl_wal_frame_size(len);
    pthread_mutex_lock(&w->mu);
    tl_status_t st = TL_OK;
    bool need_roll = !w->plan_open || w->plan_off + f + TL_WAL_FRAME_BYTES > w->plan_cap;
    size_t seal = need_roll && w->plan_open ? TL_WAL_FRAME_BYTES : 0;
    wbuf_t *b = filling(w);
    /* The frame (with a seal before it) fits an empty buffer: max_payload. */
    bool full = (need_roll && b->roll) || b->len + seal + f > w->cap;
    bool room = w->inflight + w->nq + 1 < w->nbuf;
    if (w->failed != TL_OK) {
        st = failed(w, err);
    } else if (seq <= w->last_seq) {
        st = tl_io_err_set(err, TL_EINVAL, "append", w->dir, "sequence number does not increase");
    } else if (full && !room) {
        st = tl_io_err_set(err, TL_EBUSY, "append", w->dir, "write buffers full: write or sync");
    } else if (full) {
        queue_fill(w);
        b = filling(w);
    }
    if (st == TL_OK && need_roll) st = plan_roll(w, b, seq, err);
    if (st == TL_OK) {
        tl_wal_frame_encodev(b->data + b->len, seq, type, flags, pieces, npieces, len);
        b->len += (size_t)f;
        w->plan_off += f;
        w->last_seq = seq;
        if (w->o.unit_flag == 0 || (flags & w->o.unit_flag) != 0) w->last_unit = seq;
    }
    pthread_mutex_unlock(&w->mu);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Write and sync (io_mu held)
 * ------------------------------------------------------------------------------------------- */

/* Waits until no fdatasync runs on the current file outside io_mu (io_mu held): before the
 * file is closed, so that such a sync never meets a closed or reused descriptor. */
static void wait_syncs(tl_wal_t *w) {
    pthread_mutex_lock(&w->mu);
    while (w->syncing > 0) pthread_cond_wait(&w->sync_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static tl_status_t put(tl_wal_t *w, const uint8_t *data, size_t n, tl_io_err_t *err) {
    tl_status_t st = tl_io_write(&w->cur, data, n, w->cur_used, err);
    if (st == TL_OK) w->cur_used += n;
    return st;
}

/* Makes the sealed current segment, whose last record is prev_last (and last unit's end
 * prev_unit), durable and closes it. */
static tl_status_t finish_segment(tl_wal_t *w, uint64_t prev_last, uint64_t prev_unit,
                                  tl_io_err_t *err) {
    tl_status_t st = tl_io_sync(&w->cur, err);
    wait_syncs(w);
    tl_status_t cst = tl_io_close(&w->cur, st == TL_OK ? err : NULL);
    if (st == TL_OK) st = cst;
    if (st == TL_OK) {
        pthread_mutex_lock(&w->mu);
        w->syncs++;
        w->segs[w->nsegs - 1].last_seq = prev_last;
        if (prev_last > w->synced_seq) w->synced_seq = prev_last;
        if (prev_unit > w->synced_unit) w->synced_unit = prev_unit;
        pthread_mutex_unlock(&w->mu);
    }
    return st;
}

/* Creates segment num (header durable, entry durable) as the current file. */
static tl_status_t create_segment(tl_wal_t *w, uint64_t num, uint64_t first_seq,
                                  tl_io_err_t *err) {
    char name[TL_WAL_NAME_CAP], path[TL_IO_PATH_CAP];
    uint8_t hdr[TL_WAL_HEADER_BYTES];
    tl_wal_name(name, num);
    tl_status_t st = tl_io_join(path, w->dir, name, err);
    int flags = TL_IO_RDWR | TL_IO_CREATE | TL_IO_EXCL; /* a new number never exists */
    if (st == TL_OK) st = tl_io_open(&w->cur, w->io, path, flags, err);
    if (st != TL_OK) return st;
    tl_wal_hdr_t h = {.segment = num, .first_seq = first_seq, .segment_bytes = w->o.segment_bytes};
    tl_wal_hdr_encode(hdr, &h);
    w->cur_used = 0;
    st = put(w, hdr, sizeof hdr, err);
    if (st == TL_OK) st = tl_io_sync(&w->cur, err);
    if (st == TL_OK) st = tl_io_sync_dir(w->io, w->dir, err);
    pthread_mutex_lock(&w->mu);
    if (st == TL_OK) { /* capacity reserved by plan_roll */
        w->segs[w->nsegs++] = (tl_wal_seginfo_t){
            .number = num, .first_seq = first_seq, .segment_bytes = h.segment_bytes};
        w->rolls++;
        w->syncs++;
    }
    pthread_mutex_unlock(&w->mu);
    return st;
}

/* Carries out the plan of a buffer being written (append does not touch it meanwhile). */
static tl_status_t write_out(tl_wal_t *w, const wbuf_t *b, tl_io_err_t *err) {
    tl_status_t st = TL_OK;
    size_t off = 0;
    if (b->roll) {
        if (b->roll_at > 0) st = put(w, b->data, b->roll_at, err);
        if (st == TL_OK && w->cur.fd >= 0) {
            st = finish_segment(w, b->roll_prev_last, b->roll_prev_unit, err);
        }
        if (st == TL_OK) st = create_segment(w, b->roll_seg, b->roll_first_seq, err);
        off = b->roll_at;
    }
    if (st == TL_OK && b->len > off) st = put(w, b->data + off, b->len - off, err);
    return st;
}

/* Writes the queued buffers and the filled one, oldest first (io_mu held). When every buffer
 * was taken, the filled one waits for a free buffer to take its place: a second round. */
static tl_status_t write_locked(tl_wal_t *w, tl_io_err_t *err) {
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->last_seq;
    tl_status_t st = w->failed != TL_OK ? failed(w, err) : TL_OK;
    while (st == TL_OK && w->written_seq < target) {
        if (filling(w)->len > 0 && w->nq + 1 < w->nbuf) queue_fill(w); /* inflight is 0 */
        uint32_t n = w->nq;
        if (n == 0) break; /* nothing buffered: written_seq is last_seq */
        w->inflight = n;
        w->nq = 0;
        for (uint32_t i = 0; i < n && st == TL_OK; i++) {
            const wbuf_t *b = &w->bufs[(w->head + i) % w->nbuf];
            pthread_mutex_unlock(&w->mu);
            st = write_out(w, b, err);
            pthread_mutex_lock(&w->mu);
            if (st == TL_OK) {
                w->written_seq = b->last;
                w->written_unit = b->last_unit;
                w->segs[w->nsegs - 1].last_seq = b->last;
            }
        }
        /* On failure the log is failed for good: the buffers are dropped with it. */
        w->head = (w->head + n) % w->nbuf;
        w->inflight = 0;
        if (st != TL_OK) fail(w, st, err);
    }
    pthread_mutex_unlock(&w->mu);
    return st;
}

tl_status_t tl_wal_write(tl_wal_t *w, tl_io_err_t *err) {
    pthread_mutex_lock(&w->io_mu);
    tl_status_t st = write_locked(w, err);
    pthread_mutex_unlock(&w->io_mu);
    return st;
}

/* The fdatasync runs outside io_mu: it covers what was written before it (written_seq when
 * it starts), while the writer's next buffer goes on to the file meanwhile. Holding io_mu
 * through it made a writer whose buffer filled wait for the whole sync (10-16 ms of 80 MB of
 * "interval" ingest in one call). A segment roll closing the file waits for it (wait_syncs). */
tl_status_t tl_wal_sync(tl_wal_t *w, uint64_t *synced_seq, tl_io_err_t *err) {
    pthread_mutex_lock(&w->io_mu);
    pthread_mutex_lock(&w->mu);
    bool covered = w->synced_seq >= w->last_seq; /* another sync did our work: group commit */
    pthread_mutex_unlock(&w->mu);
    tl_status_t st = covered ? TL_OK : write_locked(w, err);
    bool sync = !covered && st == TL_OK && w->cur.fd >= 0;
    tl_io_file_t f = w->cur; /* stays open: a close waits for `syncing` to drop */
    pthread_mutex_lock(&w->mu);
    uint64_t upto = w->written_seq, upto_unit = w->written_unit;
    if (sync) w->syncing++;
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_unlock(&w->io_mu);
    if (sync) st = tl_io_sync(&f, err);
    pthread_mutex_lock(&w->mu);
    if (sync && --w->syncing == 0) pthread_cond_broadcast(&w->sync_cv);
    if (w->failed != TL_OK) {
        st = failed(w, err);
    } else if (st != TL_OK) {
        fail(w, st, err);
    } else if (!covered) {
        if (upto > w->synced_seq) w->synced_seq = upto;
        if (upto_unit > w->synced_unit) w->synced_unit = upto_unit;
        w->syncs++;
    }
    if (synced_seq != NULL) *synced_seq = w->synced_unit;
    pthread_mutex_unlock(&w->mu);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Truncate, stats, close
 * ------------------------------------------------------------------------------------------- */

tl_status_t tl_wal_truncate(tl_wal_t *w, uint64_t keep_seq, uint64_t *removed,
                            tl_io_err_t *err) {
    uint64_t n = 0;
    tl_status_t st = TL_OK;
    pthread_mutex_lock(&w->io_mu);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool go = w->failed == TL_OK && w->nsegs >= 2 && w->segs[0].last_seq < keep_seq;
        if (w->failed != TL_OK) st = failed(w, err);
        uint64_t num = go ? w->segs[0].number : 0;
        pthread_mutex_unlock(&w->mu);
        if (!go) break;
        char name[TL_WAL_NAME_CAP], path[TL_IO_PATH_CAP];
        tl_wal_name(name, num);
        st = tl_io_join(path, w->dir, name, err);
        if (st == TL_OK) st = tl_io_unlink(w->io, path, err);
        if (st != TL_OK) break; /* not sticky: the log itself is intact */
        pthread_mutex_lock(&w->mu);
        memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof *w->segs);
        w->nsegs--;
        pthread_mutex_unlock(&w->mu);
        n++;
        /* One directory sync per unlink: deletions become durable oldest first, so a crash
         * leaves a suffix of the log, never a gap. */
        st = tl_io_sync_dir(w->io, w->dir, err);
        if (st != TL_OK) break;
    }
    pthread_mutex_unlock(&w->io_mu);
    if (removed != NULL) *removed = n;
    return st;
}

/* Whether the buffer after the one filling is still untouched and the one filling holds
 * PREFAULT_AFTER bytes or half its room (mu held). Half the room alone was not enough: a sync
 * takes the buffer filling however full it is, and a durable log's checkpoints and the
 * syncer's interval synced every 20-30 ms of the bench's paced ingest, before a 2 MiB buffer
 * was half full; every buffer of the first pass was then faulted in by the writer (2.5-3.5
 * ms of one write call, three times a run). */
#define PREFAULT_AFTER (64u << 10)
static bool prefault_due(tl_wal_t *w) {
    size_t after = w->cap / 2 < PREFAULT_AFTER ? w->cap / 2 : PREFAULT_AFTER;
    return w->touched < w->nbuf && w->touched == w->filled + 1 && filling(w)->len >= after;
}

bool tl_wal_prefault(tl_wal_t *w) {
    pthread_mutex_lock(&w->mu);
    bool due = prefault_due(w);
    uint8_t *data = due ? w->bufs[w->touched].data : NULL;
    if (due) w->touched++;
    pthread_mutex_unlock(&w->mu);
    if (!due) return false;
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    /* Whole pages only; a kernel without MADV_POPULATE_WRITE (before 5.14) refuses: nothing
     * is lost but the head start. */
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t page = pg > 0 ? (uintptr_t)pg : 4096;
    uintptr_t lo = ((uintptr_t)data + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)data + w->cap) & ~(page - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)data; /* no way to populate here (or a C library without the flag, e.g. musl) */
#endif
    return true;
}

void tl_wal_stats(tl_wal_t *w, tl_wal_stats_t *s) {
    pthread_mutex_lock(&w->mu);
    uint64_t buffered = 0; /* the queued buffers and the one filling */
    for (uint32_t i = 0; i <= w->nq; i++) {
        buffered += w->bufs[(w->head + w->inflight + i) % w->nbuf].len;
    }
    *s = (tl_wal_stats_t){.appended_seq = w->last_seq, .written_seq = w->written_seq,
                          .synced_seq = w->synced_seq, .buffered_bytes = buffered,
                          .buffer_bytes = (uint64_t)w->nbuf * w->cap, .buffers = w->nbuf,
                          .segment = w->plan_open ? w->plan_seg : 0,
                          .segment_offset = w->plan_open ? w->plan_off : 0,
                          .segments = w->nsegs, .syncs = w->syncs, .rolls = w->rolls,
                          .failed = w->failed, .prefault_due = prefault_due(w)};
    pthread_mutex_unlock(&w->mu);
}

static void wal_free(tl_wal_t *w) {
    const tl_allocator_t *a = w->o.alloc;
    for (uint32_t i = 0; w->bufs != NULL && i < w->nbuf; i++) {
        tl_mem_free(a, w->bufs[i].data, w->cap);
    }
    tl_mem_free(a, w->bufs, w->nbuf * sizeof *w->bufs);
    tl_mem_free(a, w->segs, w->scap * sizeof *w->segs);
    if (w->mutexes > 0) pthread_mutex_destroy(&w->mu);
    if (w->mutexes > 1) pthread_mutex_destroy(&w->io_mu);
    if (w->mutexes > 2) pthread_cond_destroy(&w->sync_cv);
    tl_mem_free(a, w, sizeof *w);
}

tl_status_t tl_wal_close(tl_wal_t *w, tl_io_err_t *err) {
    if (w == NULL) return TL_OK;
    /* A failed writer reports its failure again: what it buffered is not durable. */
    tl_status_t st = w->failed == TL_OK ? tl_wal_sync(w, NULL, err) : failed(w, err);
    pthread_mutex_lock(&w->io_mu);
    wait_syncs(w);
    pthread_mutex_unlock(&w->io_mu);
    tl_status_t cst = tl_io_close(&w->cur, st == TL_OK ? err : NULL);
    if (st == TL_OK) st = cst;
    if (w->lock >= 0) tl_io_unlock(w->io, w->lock);
    wal_free(w);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Open
 * ------------------------------------------------------------------------------------------- */

static tl_status_t wal_new(const tl_io_t *io, const char *dir, const tl_wal_opts_t *o,
                           tl_wal_t **out, tl_io_err_t *err) {
    size_t dlen = strlen(dir);
    if (dlen >= TL_IO_PATH_CAP - TL_WAL_NAME_CAP) {
        return tl_io_err_set(err, TL_EINVAL, "open", dir, "path too long");
    }
    tl_wal_t *w = tl_mem_calloc(o->alloc, 1, sizeof *w);
    if (w == NULL) return tl_io_err_set(err, TL_ENOMEM, "open", dir, "out of memory");
    w->io = io;
    w->o = *o;
    w->lock = -1;
    w->cur.io = io;
    w->cur.fd = -1;
    memcpy(w->dir, dir, dlen + 1);
    w->cap = o->buffer_bytes;
    w->nbuf = o->buffers;
    w->touched = 1; /* the first append's store faults buffer 0 in */
    w->bufs = tl_mem_calloc(o->alloc, w->nbuf, sizeof *w->bufs);
    bool mem = w->bufs != NULL;
    for (uint32_t i = 0; mem && i < w->nbuf; i++) {
        mem = (w->bufs[i].data = tl_mem_alloc(o->alloc, w->cap)) != NULL;
    }
    if (pthread_mutex_init(&w->mu, NULL) == 0) w->mutexes++;
    if (w->mutexes == 1 && pthread_mutex_init(&w->io_mu, NULL) == 0) w->mutexes++;
    if (w->mutexes == 2 && pthread_cond_init(&w->sync_cv, NULL) == 0) w->mutexes++;
    if (!mem || w->mutexes < 3) {
        tl_status_t st = w->mutexes < 3 ? TL_EINTERNAL : TL_ENOMEM;
        wal_free(w);
        return tl_io_err_set(err, st, "open", dir, "out of memory or mutexes");
    }
    uint64_t frame = w->cap - TL_WAL_FRAME_BYTES; /* room for a seal before it */
    uint64_t seg = o->segment_bytes - TL_WAL_HEADER_BYTES - TL_WAL_FRAME_BYTES;
    w->max_payload = (uint32_t)((frame < seg ? frame : seg) - TL_WAL_FRAME_BYTES);
    *out = w;
    return TL_OK;
}

/* Removes segment num and syncs the directory. */
static tl_status_t remove_segment(tl_wal_t *w, uint64_t num, tl_io_err_t *err) {
    char name[TL_WAL_NAME_CAP], path[TL_IO_PATH_CAP];
    tl_wal_name(name, num);
    tl_status_t st = tl_io_join(path, w->dir, name, err);
    if (st == TL_OK) st = tl_io_unlink(w->io, path, err);
    return st == TL_OK ? tl_io_sync_dir(w->io, w->dir, err) : st;
}

/* Makes the directory match the recovery: cut segments removed (newest first), an empty last
 * segment removed, the last kept segment truncated to its valid end and made durable. */
static tl_status_t apply_recovery(tl_wal_t *w, tl_wal_recovery_t *rc, tl_io_err_t *err) {
    tl_status_t st = TL_OK;
    for (size_t i = rc->ndrop; st == TL_OK && i-- > 0;) st = remove_segment(w, rc->drop[i], err);
    if (st == TL_OK && rc->nsegs > 0 && rc->segs[rc->nsegs - 1].records == 0) {
        st = remove_segment(w, rc->segs[--rc->nsegs].number, err);
        rc->next_number = rc->nsegs > 0 ? rc->segs[rc->nsegs - 1].number + 1 : rc->next_number;
    }
    if (st != TL_OK || rc->nsegs == 0) return st;
    tl_wal_seginfo_t *last = &rc->segs[rc->nsegs - 1];
    char name[TL_WAL_NAME_CAP], path[TL_IO_PATH_CAP];
    tl_wal_name(name, last->number);
    st = tl_io_join(path, w->dir, name, err);
    if (st == TL_OK) st = tl_io_open(&w->cur, w->io, path, TL_IO_RDWR, err);
    if (st == TL_OK && last->size != last->end) st = tl_io_truncate(&w->cur, last->end, err);
    if (st == TL_OK) st = tl_io_sync(&w->cur, err);
    if (st == TL_OK && last->sealed) st = tl_io_close(&w->cur, err);
    w->cur_used = last->end;
    return st;
}

/* Positions the writer after the recovered log. */
static void adopt(tl_wal_t *w, tl_wal_recovery_t *rc, const tl_wal_report_t *rep) {
    w->segs = rc->segs;
    w->nsegs = rc->nsegs;
    w->scap = rc->cap;
    rc->segs = NULL;
    rc->nsegs = rc->cap = 0;
    w->next_number = rc->next_number;
    w->last_seq = w->written_seq = w->synced_seq = rep->last_seq;
    w->last_unit = w->written_unit = w->synced_unit = rep->last_seq; /* all of it durable */
    if (w->cur.fd >= 0) {
        const tl_wal_seginfo_t *last = &w->segs[w->nsegs - 1];
        w->plan_open = true;
        w->plan_seg = last->number;
        w->plan_off = last->end;
        w->plan_cap = last->segment_bytes;
    }
}

tl_status_t tl_wal_open(const tl_io_t *io, const char *dir, const tl_wal_opts_t *opts,
                        tl_wal_visit_fn fn, void *ctx, tl_wal_t **out, tl_wal_report_t *rep,
                        tl_io_err_t *err) {
    tl_io_err_t local;
    if (err == NULL) err = &local;
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    tl_wal_t *w = NULL;
    tl_status_t st = tl_wal_opts_check(opts, dir, err);
    if (st == TL_OK) st = wal_new(io, dir, opts, &w, err);
    if (st != TL_OK) return st;
    if (opts->lock) st = tl_io_lock(io, dir, &w->lock, err);
    tl_wal_recovery_t rc = {.alloc = opts->alloc};
    if (st == TL_OK) st = tl_wal_recover(io, dir, opts, fn, ctx, &rc, rep, err);
    if (st == TL_OK) st = apply_recovery(w, &rc, err);
    if (st == TL_OK) adopt(w, &rc, rep);
    tl_wal_recovery_free(&rc);
    if (st != TL_OK) {
        (void)tl_io_close(&w->cur, NULL);
        if (w->lock >= 0) tl_io_unlock(io, w->lock);
        wal_free(w);
        return st;
    }
    *out = w;
    return TL_OK;
}
