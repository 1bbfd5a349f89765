/*
 * timelog.c — open/close and the writer: append, batch append, deletes, seal.
 *
 * Write calls run as small transactions over the memtable generation:
 *   - every call takes one sequence number (a batch shares it);
 *   - the common case touches writer-private state only (records copied into the active page
 *     or the head buffer) and ends with one release store of the packed (act_n, head_n) word;
 *   - a structural change (first head buffer, head -> run, seal, tombstone) takes state_mu and
 *     keeps it until the call ends; the first one saves the generation pointers and the
 *     manifest (with references). On ENOMEM the call restores the saved state: nothing was
 *     published to anyone (readers and maintenance need state_mu to look), so "nothing
 *     inserted" holds for every write, batches included, and a batch is atomic for readers.
 *   - backpressure is evaluated after the call's state is published and the lock released:
 *     a seal that found sealed_max memruns queued makes the call wait (background mode, up to
 *     busy_wait_ms) and then return TL_EBUSY — the write is accepted either way.
 *
 * Deletes: a tombstone whose closed range meets the generation's [min, max] seals the
 * generation first (watermark = seq before the delete), so the mutable parts never hold a
 * record older than a tombstone covering it and need no per-record sequence numbers.
 *
 * Complexity: append O(1) amortised; sorted batch starting at or after the newest in-order
 * record: O(n) check + memcpy per page; other batches O(n): split into non-decreasing
 * stretches, long ones copied as blocks, short ones and late records stored one by one.
 */
#include <time.h>

#include "timelog_int.h"

typedef struct txn {
    tl_timelog_t *tl;
    bool locked, saved, busy;
    uint64_t seq;
    uint32_t act_n, head_n;
    int64_t last, ooo_min;
    tl_active_t *act;
    tl_head_t *head;
    tl_vec_t *head_runs;
    tl_manifest_t *man;
} txn_t;

static void txn_begin(txn_t *x, tl_timelog_t *tl) {
    memset(x, 0, sizeof *x);
    x->tl = tl;
    x->seq = tl->seq;
    x->act_n = tl->mt.act_n;
    x->head_n = tl->mt.head_n;
    x->last = tl->mt.last;
    x->ooo_min = tl->mt.ooo_min;
}

/* Enters the structural phase: state_mu held until the end of the call, state saved once. */
static void txn_struct(txn_t *x) {
    tl_timelog_t *tl = x->tl;
    if (!x->locked) {
        pthread_mutex_lock(&tl->state_mu);
        x->locked = true;
    }
    if (x->saved) return;
    x->saved = true;
    x->act = tl->mt.act;
    tl_active_ref(x->act);
    x->head = tl->mt.head;
    if (x->head) tl_head_ref(x->head);
    x->head_runs = tl->mt.head_runs;
    if (x->head_runs) tl_vec_ref(x->head_runs);
    x->man = tl->man;
    tl_manifest_ref(x->man);
}

static void txn_release_saved(txn_t *x) {
    if (!x->saved) return;
    tl_active_unref(x->act);
    tl_head_unref(x->head);
    tl_vec_unref(x->head_runs);
    tl_manifest_unref(x->man);
}

/* Makes the writer's records and sequence visible to readers (snapshots, stats). */
static void publish_writes(tl_timelog_t *tl) {
    tl_mt_publish(&tl->mt);
    atomic_store_explicit(&tl->seq_pub, tl->seq, memory_order_relaxed);
}

static void txn_commit(txn_t *x) {
    tl_timelog_t *tl = x->tl;
    publish_writes(tl);
    if (x->locked) {
        tl_state_bump(tl);
        pthread_mutex_unlock(&tl->state_mu);
        tl_view_drop(tl);
    }
    txn_release_saved(x);
}

static void txn_rollback(txn_t *x) {
    tl_timelog_t *tl = x->tl;
    tl_memtable_t *mt = &tl->mt;
    if (x->saved) { /* swap the saved objects back; drop what this call built */
        tl_active_unref(mt->act);
        tl_head_unref(mt->head);
        tl_vec_unref(mt->head_runs);
        tl_manifest_unref(tl->man);
        mt->act = x->act;
        mt->head = x->head;
        mt->head_runs = x->head_runs;
        tl->man = x->man;
        x->saved = false;
    }
    tl->seq = x->seq;
    mt->act_n = x->act_n;
    mt->head_n = x->head_n;
    mt->last = x->last;
    mt->ooo_min = x->ooo_min;
    tl_mt_sync_cursor(mt);
    tl_mt_publish(mt);
    if (x->locked) {
        tl_state_bump(tl);
        pthread_mutex_unlock(&tl->state_mu);
        tl_view_drop(tl);
    }
}

/* Swaps in a new manifest (caller holds state_mu). */
static void set_manifest(tl_timelog_t *tl, tl_manifest_t *m) {
    tl_manifest_t *old = tl->man;
    tl->man = m;
    tl_manifest_unref(old); /* cheap: the parts are shared with m or saved by the txn */
}

/* Seals the generation into a memrun with watermark wm. */
static tl_status_t do_seal(txn_t *x, uint64_t wm) {
    tl_timelog_t *tl = x->tl;
    tl_memtable_t *mt = &tl->mt;
    if (tl_mt_empty(mt)) return TL_OK;
    tl_vec_t *memrun = NULL, *nmem = NULL;
    tl_status_t st = tl_mt_build_memrun(mt, wm, &memrun);
    if (st != TL_OK) return st;
    tl_active_t *nact = tl_active_new(tl->alloc, mt->page_records, mt->active_max);
    if (nact == NULL) {
        tl_vec_unref(memrun);
        return TL_ENOMEM;
    }
    txn_struct(x);
    tl_manifest_t *cur = tl->man;
    st = tl_vec_push(cur->mem, tl->alloc, TL_VEC_VECS, memrun, &nmem);
    tl_vec_unref(memrun);
    tl_manifest_t *nm = NULL;
    if (st == TL_OK) {
        nm = tl_manifest_new(tl->alloc, cur->l1, cur->l0, nmem, cur->tombs,
                             wm > cur->seq ? wm : cur->seq);
        tl_vec_unref(nmem);
        if (nm == NULL) st = TL_ENOMEM;
    }
    if (st != TL_OK) {
        tl_active_unref(nact);
        return st;
    }
    if (tl_vec_len(cur->mem) >= tl->cfg.sealed_max) x->busy = true;
    set_manifest(tl, nm);
    tl_active_unref(mt->act);
    tl_head_unref(mt->head);
    tl_vec_unref(mt->head_runs);
    mt->act = nact;
    mt->head = NULL;
    mt->head_runs = NULL;
    mt->act_n = mt->head_n = 0;
    mt->last = INT64_MIN;
    mt->ooo_min = INT64_MAX;
    tl_mt_sync_cursor(mt);
    atomic_fetch_add_explicit(&tl->ctr.seals, 1, memory_order_relaxed);
    return TL_OK;
}

/* Slow path of an out-of-order record: first head buffer, head -> run, or seal. */
static tl_status_t head_slow(txn_t *x) {
    tl_timelog_t *tl = x->tl;
    tl_memtable_t *mt = &tl->mt;
    if (mt->head == NULL) {
        tl_head_t *h = tl_head_new(tl->alloc, mt->head_max);
        if (h == NULL) return TL_ENOMEM;
        txn_struct(x);
        mt->head = h;
        mt->head_n = 0;
        return TL_OK;
    }
    if (tl_vec_len(mt->head_runs) + 1 >= mt->runs_max) return do_seal(x, tl->seq);
    tl_vec_t *runs = NULL;
    tl_head_t *nh = NULL;
    tl_status_t st = tl_mt_head_to_run(mt, &runs, &nh);
    if (st != TL_OK) return st;
    txn_struct(x);
    tl_vec_unref(mt->head_runs);
    tl_head_unref(mt->head);
    mt->head_runs = runs;
    mt->head = nh;
    mt->head_n = 0;
    return TL_OK;
}

static bool sorted_from(const int64_t *ts, size_t n, int64_t last) {
    if (ts[0] < last) return false;
    for (size_t i = 1; i < n; i++) {
        if (ts[i] < ts[i - 1]) return false;
    }
    return true;
}

/* Slow path of an in-order record: next page, or seal when the directory is full. */
static tl_status_t active_slow(txn_t *x) {
    tl_status_t st = tl_mt_reserve_page(&x->tl->mt);
    if (st == TL_EOF) st = do_seal(x, x->tl->seq);
    return st;
}

/* Stretches shorter than this are stored record by record (cheaper than two memcpy calls). */
#define SHORT_STRETCH 16u

/* Appends sorted records with ts[0] >= last to the active directory, sealing when it fills. */
static tl_status_t append_block(txn_t *x, const int64_t *ts, const uint64_t *h, size_t n) {
    tl_memtable_t *mt = &x->tl->mt;
    size_t done = 0;
    while (done < n) {
        size_t k = 0;
        tl_status_t st = tl_mt_append_sorted(mt, ts + done, h + done, n - done, &k);
        done += k;
        if (st != TL_OK) return st;
        if (done < n && (st = do_seal(x, x->tl->seq)) != TL_OK) return st;
    }
    return TL_OK;
}

/* A batch is split into maximal non-decreasing stretches: a stretch starting at or after the
 * newest in-order record is copied into the active pages as a block (out-of-order data
 * interleaves short late records into long in-order stretches); records below it go to the
 * head one by one (so are short stretches: 20% late records leave ~4-record stretches). */
static tl_status_t write_records(txn_t *x, const int64_t *ts, const uint64_t *h, size_t n) {
    tl_memtable_t *mt = &x->tl->mt;
    if (n > 1 && sorted_from(ts, n, mt->last)) return append_block(x, ts, h, n);
    size_t i = 0;
    while (i < n) {
        tl_status_t st;
        int64_t t = ts[i];
        if (t >= mt->last) {
            size_t j = i + 1;
            while (j < n && ts[j] >= ts[j - 1]) j++;
            if (j - i >= SHORT_STRETCH) {
                st = append_block(x, ts + i, h + i, j - i);
                if (st != TL_OK) return st;
                i = j;
                continue;
            }
            for (; i < j && tl_mt_push_active(mt, ts[i], h[i]); i++) {
            }
            if (i < j && (st = active_slow(x)) != TL_OK) return st;
            continue;
        }
        if (TL_LIKELY(tl_mt_push_head(mt, t, h[i]))) {
            i++;
            continue;
        }
        st = head_slow(x);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

tl_status_t tl_check_open(const tl_timelog_t *tl) {
    if (tl == NULL) return TL_EINVAL;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) return TL_ESTATE;
    return TL_OK;
}

/* Backpressure after the call's state is published (no lock held). */
static tl_status_t finish_write(tl_timelog_t *tl, bool sealed, bool busy) {
    if (sealed) tl_maint_kick(tl);
    if (!busy) return TL_OK;
    tl_status_t st = tl_maint_wait_busy(tl);
    if (st == TL_EBUSY) atomic_fetch_add_explicit(&tl->ctr.busy, 1, memory_order_relaxed);
    return st;
}

tl_status_t tl_append_batch(tl_timelog_t *tl, const int64_t *ts, const uint64_t *handles,
                            size_t n, uint32_t flags) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (flags != 0 || (n > 0 && (ts == NULL || handles == NULL))) return TL_EINVAL;
    if (n == 0) return TL_OK;
    if (tl->seq >= UINT64_MAX - 1) return tl_err_set(tl, TL_EOVERFLOW, "sequence exhausted");
    uint64_t seals0 = atomic_load_explicit(&tl->ctr.seals, memory_order_relaxed);
    txn_t x;
    tl_wr_enter(tl);
    txn_begin(&x, tl);
    tl->seq++;
    st = write_records(&x, ts, handles, n);
    if (st != TL_OK) {
        txn_rollback(&x);
        tl_wr_exit(tl);
        return tl_err_set(tl, st, "append of %zu records: nothing inserted", n);
    }
    txn_commit(&x);
    tl_wr_exit(tl); /* before any wait for the worker: a waiting writer is not inside */
    bool sealed = atomic_load_explicit(&tl->ctr.seals, memory_order_relaxed) != seals0;
    return finish_write(tl, sealed, x.busy);
}

/* The common single append: an in-order record into the active page, which has room. That
 * path of tl_append_batch changes no structure, cannot seal, fail or be busy, so its whole
 * effect is the push and the publish; done here without the transaction's bookkeeping it is
 * about a third of the instructions (a single append from JS pays this on every call).
 * False when the record needs the general path (closed log, sequence at its end, an
 * out-of-order ts, a full page), which then decides everything as before. */
static inline bool append_one_fast(tl_timelog_t *tl, int64_t ts, uint64_t h) {
    if (tl_check_open(tl) != TL_OK || tl->seq >= UINT64_MAX - 1 || ts < tl->mt.last ||
        !tl_mt_push_active(&tl->mt, ts, h)) {
        return false;
    }
    tl->seq++;
    publish_writes(tl);
    return true;
}

/* The fast path inside its own writer section (the general path opens one of its own). */
static inline bool append_one(tl_timelog_t *tl, int64_t ts, uint64_t h) {
    tl_wr_enter(tl);
    bool done = append_one_fast(tl, ts, h);
    tl_wr_exit(tl);
    return done;
}

tl_status_t tl_append(tl_timelog_t *tl, int64_t ts, uint64_t handle) {
    if (tl == NULL) return TL_EINVAL;
    if (append_one(tl, ts, handle)) return TL_OK;
    return tl_append_batch(tl, &ts, &handle, 1, 0);
}

tl_status_t tl_append_f64(tl_timelog_t *tl, double ts, double value) {
    int64_t t;
    if (tl == NULL || !tl_f64_to_ts(ts, &t)) return TL_EINVAL;
    uint64_t h;
    memcpy(&h, &value, sizeof h);
    if (append_one(tl, t, h)) return TL_OK;
    return tl_append_batch(tl, &t, &h, 1, 0);
}

tl_status_t tl_append_batch_f64(tl_timelog_t *tl, const double *ts, const uint64_t *values,
                                size_t n, uint32_t flags) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if ((flags & ~TL_F64_SAFE) != 0 || (n > 0 && (ts == NULL || values == NULL))) return TL_EINVAL;
    const double lim = (flags & TL_F64_SAFE) ? TL_F64_SAFE_LIM : TL_F64_LIM;
    enum { CHUNK = 4096 };
    if (n <= CHUNK) {
        int64_t buf[CHUNK];
        for (size_t i = 0; i < n; i++) {
            if (!tl_f64_to_ts_within(ts[i], lim, &buf[i])) return TL_EINVAL;
        }
        return tl_append_batch(tl, buf, values, n, 0);
    }
    /* Large batches: one converted copy so that the batch keeps one sequence number. */
    if (n > SIZE_MAX / sizeof(int64_t)) return TL_EOVERFLOW;
    int64_t *conv = tl_mem_alloc(tl->alloc, n * sizeof *conv);
    if (conv == NULL) return tl_err_set(tl, TL_ENOMEM, "append_batch_f64 of %zu records", n);
    st = TL_OK;
    for (size_t i = 0; i < n && st == TL_OK; i++) {
        if (!tl_f64_to_ts_within(ts[i], lim, &conv[i])) st = TL_EINVAL;
    }
    if (st == TL_OK) st = tl_append_batch(tl, conv, values, n, 0);
    tl_mem_free(tl->alloc, conv, n * sizeof *conv);
    return st;
}

/* Tombstone of the closed range [lo, hi] (lo <= hi). */
static tl_status_t delete_closed(tl_timelog_t *tl, int64_t lo, int64_t hi) {
    if (tl->seq >= UINT64_MAX - 1) return tl_err_set(tl, TL_EOVERFLOW, "sequence exhausted");
    tl_memtable_t *mt = &tl->mt;
    txn_t x;
    tl_wr_enter(tl);
    txn_begin(&x, tl);
    tl_status_t st = TL_OK;
    bool sealed = false;
    if (!tl_mt_empty(mt) && lo <= tl_mt_max(mt) && hi >= tl_mt_min(mt)) {
        st = do_seal(&x, tl->seq);
        sealed = true;
    }
    tl->seq++;
    tl_tombs_t *nt = NULL;
    if (st == TL_OK) {
        txn_struct(&x);
        st = tl_tombs_insert(tl->man->tombs, tl->alloc, lo, hi, tl->seq, &nt);
    }
    if (st == TL_OK) {
        tl_manifest_t *cur = tl->man;
        tl_manifest_t *nm = tl_manifest_new(tl->alloc, cur->l1, cur->l0, cur->mem, nt, tl->seq);
        tl_tombs_unref(nt);
        if (nm == NULL) st = TL_ENOMEM;
        else set_manifest(tl, nm);
    }
    if (st != TL_OK) {
        txn_rollback(&x);
        tl_wr_exit(tl);
        return tl_err_set(tl, st, "delete [%lld, %lld]: nothing changed", (long long)lo,
                          (long long)hi);
    }
    txn_commit(&x);
    tl_wr_exit(tl);
    tl_maint_kick(tl); /* tombstones may now hide stored data */
    return finish_write(tl, sealed, x.busy);
}

tl_status_t tl_delete_range(tl_timelog_t *tl, int64_t t1, int64_t t2) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (t1 > t2) return tl_err_set(tl, TL_EINVAL, "delete_range: t1 %lld > t2 %lld",
                                   (long long)t1, (long long)t2);
    if (t1 == t2) return TL_OK;
    return delete_closed(tl, t1, t2 - 1);
}

tl_status_t tl_delete_before(tl_timelog_t *tl, int64_t cutoff) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (cutoff == INT64_MIN) return TL_OK;
    return delete_closed(tl, INT64_MIN, cutoff - 1);
}

tl_status_t tl_delete_since(tl_timelog_t *tl, int64_t t1) {
    tl_status_t st = tl_check_open(tl);
    return st != TL_OK ? st : delete_closed(tl, t1, INT64_MAX);
}

tl_status_t tl_delete_at(tl_timelog_t *tl, int64_t ts) {
    tl_status_t st = tl_check_open(tl);
    return st != TL_OK ? st : delete_closed(tl, ts, ts);
}

tl_status_t tl_seal_in(tl_timelog_t *tl, bool *busy) {
    txn_t x;
    txn_begin(&x, tl);
    tl_status_t st = do_seal(&x, tl->seq);
    if (st != TL_OK) {
        txn_rollback(&x);
        return st;
    }
    txn_commit(&x);
    if (busy) *busy = x.busy;
    return TL_OK;
}

tl_status_t tl_seal(tl_timelog_t *tl, bool *busy) {
    tl_wr_enter(tl);
    tl_status_t st = tl_seal_in(tl, busy);
    tl_wr_exit(tl);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------------------------- */

tl_manifest_t *tl_pin(tl_timelog_t *tl) {
    pthread_mutex_lock(&tl->state_mu);
    tl_manifest_t *m = tl->man;
    tl_manifest_ref(m);
    pthread_mutex_unlock(&tl->state_mu);
    return m;
}

static void log_free(tl_timelog_t *tl) {
    pthread_mutex_destroy(&tl->state_mu);
    pthread_mutex_destroy(&tl->maint_mu);
    pthread_mutex_destroy(&tl->wk_mu);
    pthread_cond_destroy(&tl->wk_cv);
    pthread_cond_destroy(&tl->progress_cv);
    tl_arena_destroy(&tl->arena); /* every page is gone: the last snapshot released them */
    tl_allocator_t a = tl->cfg.allocator; /* the struct holds the allocator it is freed with */
    tl_mem_free(&a, tl, sizeof *tl);
}

void tl_log_unref(tl_timelog_t *tl) {
    uint32_t prev = atomic_fetch_sub_explicit(&tl->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev == 1) log_free(tl);
}

/* Mutexes and the worker's condvars (monotonic clock for their timed waits). */
static tl_status_t init_sync(tl_timelog_t *tl) {
    int done = 0;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) return TL_EINTERNAL;
#if !defined(__APPLE__) /* macOS has no pthread_condattr_setclock: see TL_COND_CLOCK */
    pthread_condattr_setclock(&ca, TL_COND_CLOCK);
#endif
    if (pthread_mutex_init(&tl->state_mu, NULL) == 0) done++;
    if (done == 1 && pthread_mutex_init(&tl->maint_mu, NULL) == 0) done++;
    if (done == 2 && pthread_mutex_init(&tl->wk_mu, NULL) == 0) done++;
    if (done == 3 && pthread_cond_init(&tl->wk_cv, &ca) == 0) done++;
    if (done == 4 && pthread_cond_init(&tl->progress_cv, &ca) == 0) done++;
    pthread_condattr_destroy(&ca);
    if (done == 5) return TL_OK;
    if (done > 3) pthread_cond_destroy(&tl->wk_cv);
    if (done > 2) pthread_mutex_destroy(&tl->wk_mu);
    if (done > 1) pthread_mutex_destroy(&tl->maint_mu);
    if (done > 0) pthread_mutex_destroy(&tl->state_mu);
    return TL_EINTERNAL;
}

tl_status_t tl_open(const tl_config_t *cfg, tl_timelog_t **out) {
    if (out == NULL) return TL_EINVAL;
    *out = NULL;
    tl_config_t c;
    tl_status_t st = tl_config_normalize(cfg, &c);
    if (st != TL_OK) return st;
    tl_timelog_t *tl = tl_mem_alloc(&c.allocator, sizeof *tl);
    if (tl == NULL) return TL_ENOMEM;
    memset(tl, 0, sizeof *tl);
    tl->cfg = c;
    atomic_init(&tl->refs, 1);
    atomic_init(&tl->closed, false);
    atomic_init(&tl->sver, 0);
    atomic_init(&tl->view, NULL);
    if (tl_arena_init(&tl->arena, &tl->cfg.allocator, tl_page_bytes(c.page_records)) != TL_OK) {
        tl_mem_free(&c.allocator, tl, sizeof *tl);
        return TL_EINTERNAL;
    }
    tl->alloc = &tl->arena.self;
    if (init_sync(tl) != TL_OK) {
        tl_arena_destroy(&tl->arena);
        tl_mem_free(&c.allocator, tl, sizeof *tl);
        return TL_EINTERNAL;
    }
    st = tl_mt_init(&tl->mt, tl->alloc, c.page_records, c.memtable_records, c.ooo_head_records,
                    c.ooo_runs_max);
    if (st == TL_OK) {
        tl->man = tl_manifest_new(tl->alloc, NULL, NULL, NULL, NULL, 0);
        if (tl->man == NULL) st = TL_ENOMEM;
    }
    if (st == TL_OK && c.drop_queue != NULL) {
        tl->dropq = c.drop_queue;
        tl_dropq_ref_int(tl->dropq);
    }
    if (st == TL_OK && c.maintenance == TL_MAINT_BACKGROUND) st = tl_maint_start(tl);
    if (st != TL_OK) {
        tl_mt_destroy(&tl->mt);
        tl_manifest_unref(tl->man);
        if (tl->dropq) tl_dropq_unref_int(tl->dropq);
        log_free(tl);
        return st;
    }
    *out = tl;
    return TL_OK;
}

void tl_report_drops(tl_timelog_t *tl, const int64_t *ts, const uint64_t *h, size_t n) {
    if (n == 0) return;
    atomic_fetch_add_explicit(&tl->ctr.dropped, n, memory_order_relaxed);
    if (tl->cfg.on_drop != NULL) tl->cfg.on_drop(tl->cfg.on_drop_ctx, ts, h, n);
    else if (tl->dropq != NULL && tl_dropq_push(tl->dropq, h, n) != TL_OK) {
        tl_log(tl, TL_LOG_ERROR, "drop queue: out of memory, %zu handles not reported", n);
    }
}

static void report_run(tl_timelog_t *tl, const tl_run_t *r) {
    enum { CHUNK = 512 }; /* packed pages are decoded on the stack: close never allocates */
    int64_t ts[CHUNK];
    uint64_t h[CHUNK];
    for (uint32_t i = 0; i < r->npages; i++) {
        const tl_page_t *p = r->pages[i];
        uint32_t n = tl_run_page_count(r, i);
        if (!tl_page_packed(p)) {
            tl_report_drops(tl, p->ts, p->h, n);
            continue;
        }
        for (uint32_t k = 0; k < n; k += CHUNK) {
            uint32_t m = n - k < CHUNK ? n - k : CHUNK;
            tl_page_read(p, k, k + m, ts, h);
            tl_report_drops(tl, ts, h, m);
        }
    }
}

static void report_runs(tl_timelog_t *tl, const tl_vec_t *v) {
    for (uint32_t i = 0; i < tl_vec_len(v); i++) report_run(tl, tl_vec_run(v, i));
}

/* Every stored record once: the manifest's runs and the generation are disjoint in pages. */
static void report_all(tl_timelog_t *tl) {
    const tl_manifest_t *m = tl->man;
    report_runs(tl, m->l1);
    report_runs(tl, m->l0);
    for (uint32_t i = 0; i < tl_vec_len(m->mem); i++) report_runs(tl, tl_vec_vec(m->mem, i));
    const tl_memtable_t *mt = &tl->mt;
    uint32_t pr = mt->page_records;
    for (uint32_t i = 0; (uint64_t)i * pr < mt->act_n; i++) {
        uint32_t k = mt->act_n - i * pr < pr ? mt->act_n - i * pr : pr;
        tl_report_drops(tl, mt->act->pages[i]->ts, mt->act->pages[i]->h, k);
    }
    report_runs(tl, mt->head_runs);
    if (mt->head_n > 0) tl_report_drops(tl, mt->head->ts, mt->head->h, mt->head_n);
}

void tl_close(tl_timelog_t *tl) {
    if (tl == NULL) return;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) return;
    tl_maint_stop(tl);
    pthread_mutex_lock(&tl->state_mu);
    atomic_store_explicit(&tl->closed, true, memory_order_relaxed);
    tl_state_bump(tl);
    tl_manifest_t *m = tl->man;
    pthread_mutex_unlock(&tl->state_mu);
    tl_view_drop(tl); /* before the last log reference goes: the view holds one */
    /* No maintenance runs and the writer is here: the state is stable; readers only read. */
    if (tl_drops_wanted(tl)) report_all(tl);
    pthread_mutex_lock(&tl->state_mu);
    tl->man = NULL;
    tl_active_t *act = tl->mt.act;
    tl_head_t *head = tl->mt.head;
    tl_vec_t *hr = tl->mt.head_runs;
    tl->mt.act = NULL;
    tl->mt.head = NULL;
    tl->mt.head_runs = NULL;
    pthread_mutex_unlock(&tl->state_mu);
    tl_manifest_unref(m);
    tl_active_unref(act);
    tl_head_unref(head);
    tl_vec_unref(hr);
    if (tl->dropq) tl_dropq_unref_int(tl->dropq);
    tl->dropq = NULL;
    tl_log_unref(tl);
}

/* ---------------------------------------------------------------------------------------------
 * Maintenance publish
 * ------------------------------------------------------------------------------------------- */

static uint64_t vec_min_wm(const tl_vec_t *v, uint64_t wm) {
    for (uint32_t i = 0; i < tl_vec_len(v); i++) {
        uint64_t w = tl_vec_run(v, i)->wm;
        if (w < wm) wm = w;
    }
    return wm;
}

/* Builds the lists of the new version from cur (caller holds state_mu). */
static tl_status_t build_lists(tl_timelog_t *tl, const tl_manifest_t *cur, uint32_t mem_k,
                               uint32_t l0_k, tl_run_t *l0_add, tl_vec_t **mem, tl_vec_t **l0) {
    tl_vec_t *t = NULL;
    tl_status_t st = tl_vec_drop_front(cur->mem, tl->alloc, mem_k, mem);
    if (st == TL_OK) st = tl_vec_drop_front(cur->l0, tl->alloc, l0_k, &t);
    if (st == TL_OK && l0_add != NULL) {
        st = tl_vec_push(t, tl->alloc, TL_VEC_RUNS, l0_add, l0);
        tl_vec_unref(t);
    } else {
        *l0 = t;
    }
    if (st != TL_OK) {
        /* The caller releases *mem and *l0 on every path: leave nothing to release twice. */
        tl_vec_unref(*mem);
        *mem = NULL;
    }
    return st;
}

tl_status_t tl_publish_maint(tl_timelog_t *tl, uint32_t mem_k, uint32_t l0_k, tl_run_t *l0_add,
                             bool set_l1, tl_vec_t *l1_new) {
    tl_vec_t *mem = NULL, *l0 = NULL;
    tl_tombs_t *tombs = NULL;
    pthread_mutex_lock(&tl->state_mu);
    tl_manifest_t *cur = tl->man;
    tl_status_t st = build_lists(tl, cur, mem_k, l0_k, l0_add, &mem, &l0);
    tl_vec_t *l1 = set_l1 ? l1_new : cur->l1;
    if (st == TL_OK && cur->tombs != NULL) {
        uint64_t wm = vec_min_wm(l1, vec_min_wm(l0, UINT64_MAX));
        for (uint32_t i = 0; i < tl_vec_len(mem); i++) wm = vec_min_wm(tl_vec_vec(mem, i), wm);
        st = tl_tombs_gc(cur->tombs, tl->alloc, wm, &tombs);
    }
    tl_manifest_t *nm = NULL;
    if (st == TL_OK) {
        nm = tl_manifest_new(tl->alloc, l1, l0, mem, tombs, cur->seq);
        if (nm == NULL) st = TL_ENOMEM;
    }
    if (st == TL_OK) {
        tl->man = nm;
        tl_state_bump(tl);
    }
    pthread_mutex_unlock(&tl->state_mu);
    if (st == TL_OK) tl_view_drop(tl); /* it pins the version just replaced */
    tl_vec_unref(mem);
    tl_vec_unref(l0);
    tl_tombs_unref(tombs);
    if (st == TL_OK) tl_manifest_unref(cur); /* outside the lock: may free many pages */
    return st;
}
