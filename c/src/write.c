/*
 * write.c — the writer's calls: append, batch append, deletes (txn.h says how each runs).
 *
 * Backpressure is evaluated after the call's state is published and the lock released: a
 * seal that found sealed_max memruns queued makes the call wait (background mode, up to
 * busy_wait_ms) and then return TL_EBUSY — the write is accepted either way.
 *
 * Deletes: a tombstone whose closed range meets the generation's [min, max] seals the
 * generation first (watermark = seq before the delete), so the mutable parts never hold a
 * record older than a tombstone covering it and need no per-record sequence numbers.
 *
 * Durable logs (durable/dur.h): a call's WAL record is appended to the WAL buffer last,
 * after its records are in place and before the transaction commits, so a failed append
 * rolls the call back like any other failure ("nothing inserted") and every call that
 * returned is in the WAL. The single-append fast path is off for them (it commits at once).
 * A log whose disk failed refuses writes with the failure's status and context.
 *
 * Complexity: append O(1) amortised; sorted batch starting at or after the newest in-order
 * record: O(n) check + memcpy per page; other batches O(n): split into non-decreasing
 * stretches, long ones copied as blocks, short ones and late records stored one by one.
 */
#include "durable/dur.h"
#include "txn.h"
#include "vstore.h"
#include "worker.h"

/* Slow path of an out-of-order record: first head buffer, head -> run, or seal. */
static tl_status_t head_slow(txn_t *x) {
    tl_timelog_t *tl = x->tl;
    tl_memtable_t *mt = &tl->mt;
    if (mt->head == NULL) {
        tl_head_t *h = tl_mt_head_new(mt);
        if (h == NULL) return TL_ENOMEM;
        tl_txn_struct(x);
        mt->head = h;
        mt->head_n = 0;
        return TL_OK;
    }
    /* A full head adds up to two runs (headsort.h). */
    if (tl_vec_len(mt->head_runs) + 2 >= mt->runs_max) return tl_txn_seal(x, tl->seq);
    tl_vec_t *runs = NULL;
    tl_head_t *nh = NULL;
    uint32_t carried = 0;
    tl_status_t st = tl_mt_head_to_run(mt, &runs, &nh, &carried);
    if (st != TL_OK) return st;
    tl_txn_struct(x);
    tl_vec_unref(mt->head_runs);
    tl_head_unref(mt->head);
    mt->head_runs = runs;
    mt->head = nh;
    mt->head_n = carried; /* the full head's records after its cached sort (memtable.h) */
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
    if (st == TL_EOF) st = tl_txn_seal(x, x->tl->seq);
    return st;
}

/* Stretches shorter than this are stored record by record (cheaper than two memcpy calls). */
#define SHORT_STRETCH 16u

/* Appends sorted records with ts[0] >= last to the active directory, sealing when it fills.
 * base: records of the call stored before this block (x->pos at a seal, see txn.h). */
static tl_status_t append_block(txn_t *x, const int64_t *ts, const uint64_t *h, size_t n,
                                size_t base) {
    tl_memtable_t *mt = &x->tl->mt;
    size_t done = 0;
    while (done < n) {
        size_t k = 0;
        tl_status_t st = tl_mt_append_sorted(mt, ts + done, h + done, n - done, &k);
        done += k;
        if (st != TL_OK) return st;
        x->pos = base + done;
        if (done < n && (st = tl_txn_seal(x, x->tl->seq)) != TL_OK) return st;
    }
    return TL_OK;
}

/* A batch is split into maximal non-decreasing stretches: a stretch starting at or after the
 * newest in-order record is copied into the active pages as a block (out-of-order data
 * interleaves short late records into long in-order stretches); records below it go to the
 * head one by one (so are short stretches: 20% late records leave ~4-record stretches). */
static tl_status_t write_records(txn_t *x, const int64_t *ts, const uint64_t *h, size_t n) {
    tl_memtable_t *mt = &x->tl->mt;
    if (n > 1 && sorted_from(ts, n, mt->last)) return append_block(x, ts, h, n, 0);
    size_t i = 0;
    while (i < n) {
        tl_status_t st;
        int64_t t = ts[i];
        if (t >= mt->last) {
            size_t j = i + 1;
            while (j < n && ts[j] >= ts[j - 1]) j++;
            if (j - i >= SHORT_STRETCH) {
                st = append_block(x, ts + i, h + i, j - i, i);
                if (st != TL_OK) return st;
                i = j;
                continue;
            }
            for (; i < j && tl_mt_push_active(mt, ts[i], h[i]); i++) {
            }
            x->pos = i;
            if (i < j && (st = active_slow(x)) != TL_OK) return st;
            continue;
        }
        if (TL_LIKELY(tl_mt_push_head(mt, t, h[i]))) {
            i++;
            continue;
        }
        x->pos = i;
        st = head_slow(x);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}


/* Asks maintenance (hold.h) to sort the head ahead of the writer each time another quarter of
 * it has filled (headsort.h): the write call that fills the head, or seals the generation,
 * then takes that sort and sorts only the records after it, instead of the whole head (2048
 * records: 25-40 us of one 4096-record call on the bench data, every tenth call). One ask
 * per head, at three quarters, came too late as often as not: the worker answered only
 * between jobs (now also at its jobs' hold points) and not at all while a checkpoint had it
 * blocked in fdatasync, which the helper thread covers (helper.h); the worker, when it runs,
 * usually answers first. In manual mode nobody answers, and nothing changes. True when the
 * helper is to be woken. */
static inline bool presort_ask(tl_timelog_t *tl) {
    tl_memtable_t *mt = &tl->mt;
    tl_head_t *hd = mt->head; /* inside the writer section: the idle seal waits */
    if (hd == NULL || mt->head_n < hd->presort_at) return false;
    hd->presort_at = mt->head_n + tl_head_quarter(hd);
    tl_hold_ask(&tl->hold);
    return true; /* the caller wakes the helper once outside */
}

/* Refuses a write on a failed durable log. */
static inline tl_status_t dur_check(tl_timelog_t *tl) {
    if (TL_LIKELY(tl->dur == NULL)) return TL_OK;
    tl_status_t st = tl_dur_failed(tl, NULL, 0);
    return st == TL_OK ? TL_OK : tl_dur_error(tl, st, "write refused");
}

/* Backpressure after the call's state is published (no lock held); durable logs first make
 * the call durable (SYNC) or let the syncer know the buffer is filling. */
static tl_status_t finish_write(tl_timelog_t *tl, bool sealed, bool busy) {
    if (tl->dur != NULL) {
        tl_status_t st = tl_dur_after_write(tl);
        if (st != TL_OK) {
            if (sealed) tl_maint_kick(tl);
            return tl_dur_error(tl, st, "write applied in memory but not made durable");
        }
    }
    /* The arena's spares ran low: the worker maps and faults in the next chunks, so that
     * this writer does not (a fresh chunk's faults cost 5-10 ms of one call here). */
    if (sealed || tl_arena_low_kick(&tl->arena)) tl_maint_kick(tl);
    if (!busy) return TL_OK;
    tl_status_t st = tl_maint_wait_busy(tl);
    if (st == TL_EBUSY) atomic_fetch_add_explicit(&tl->ctr.busy, 1, memory_order_relaxed);
    return st;
}

/* A byte-value log's handles are the engine's (values.c appends through tl_write_handles). */
static inline bool handles_are_callers(const tl_timelog_t *tl) {
    return tl->cfg.value_kind != TL_VALUES_BYTES;
}

tl_status_t tl_append_batch(tl_timelog_t *tl, const int64_t *ts, const uint64_t *handles,
                            size_t n, uint32_t flags) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (flags != 0 || (n > 0 && (ts == NULL || handles == NULL))) return TL_EINVAL;
    if (!handles_are_callers(tl)) return tl_err_set(tl, TL_EINVAL, "a bytes log: tl_append_bytes");
    return tl_write_handles(tl, ts, handles, n, NULL);
}

tl_status_t tl_write_handles(tl_timelog_t *tl, const int64_t *ts, const uint64_t *handles,
                             size_t n, const struct tl_vmark *vm) {
    tl_status_t st;
    if (n == 0) return TL_OK;
    if (tl->seq >= UINT64_MAX - 1) return tl_err_set(tl, TL_EOVERFLOW, "sequence exhausted");
    if ((st = dur_check(tl)) != TL_OK) return st;
    uint64_t seals0 = atomic_load_explicit(&tl->ctr.seals, memory_order_relaxed);
    txn_t x;
    tl_wr_enter(tl);
    tl_txn_begin(&x, tl);
    x.in_append = true;
    tl->seq++;
    st = write_records(&x, ts, handles, n);
    if (st == TL_OK && tl->dur != NULL) {
        st = vm != NULL ? tl_dur_log_bytes(tl, tl->seq, vm, ts, handles, n)
                        : tl_dur_log_append(tl, tl->seq, ts, handles, n);
    }
    if (st != TL_OK) {
        tl_txn_rollback(&x);
        tl_wr_exit(tl);
        if (tl->dur != NULL && tl_dur_failed(tl, NULL, 0) != TL_OK) {
            return tl_dur_error(tl, st, "append: nothing inserted");
        }
        return tl_err_set(tl, st, "append of %zu records: nothing inserted", n);
    }
    tl_txn_commit(&x);
    bool presort = presort_ask(tl);
    tl_wr_exit(tl); /* before any wait for the worker: a waiting writer is not inside */
    if (presort) tl_helper_kick(&tl->helper);
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
    if (tl_check_open(tl) != TL_OK || tl->dur != NULL || tl->seq >= UINT64_MAX - 1 ||
        !handles_are_callers(tl) ||
        ts < tl->mt.last ||
        !tl_mt_push_active(&tl->mt, ts, h)) {
        return false;
    }
    tl->seq++;
    tl_publish_writes(tl);
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
    if (!handles_are_callers(tl)) return tl_err_set(tl, TL_EINVAL, "a bytes log: tl_append_bytes");
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
    tl_status_t st = dur_check(tl);
    if (st != TL_OK) return st;
    tl_memtable_t *mt = &tl->mt;
    txn_t x;
    tl_wr_enter(tl);
    tl_txn_begin(&x, tl);
    bool sealed = false;
    if (!tl_mt_empty(mt) && lo <= tl_mt_max(mt) && hi >= tl_mt_min(mt)) {
        st = tl_txn_seal(&x, tl->seq);
        sealed = true;
    }
    tl->seq++;
    tl_tombs_t *nt = NULL;
    if (st == TL_OK) {
        tl_txn_struct(&x);
        st = tl_tombs_insert(tl->man->tombs, tl->alloc, lo, hi, tl->seq, &nt);
    }
    if (st == TL_OK) {
        tl_manifest_t *cur = tl->man;
        /* (max: a replayed delete may carry a seq below the recovered manifest's) */
        uint64_t mseq = tl->seq > cur->seq ? tl->seq : cur->seq;
        tl_manifest_t *nm = tl_manifest_new(tl->alloc, tl->vs, cur->l1, cur->l0, cur->mem, nt, mseq);
        tl_tombs_unref(nt);
        if (nm == NULL) {
            st = TL_ENOMEM;
        } else {
            nm->l1_cover = cur->l1_cover;
            tl_txn_set_manifest(tl, nm);
        }
    }
    if (st == TL_OK && tl->dur != NULL) st = tl_dur_log_delete(tl, tl->seq, lo, hi);
    if (st != TL_OK) {
        tl_txn_rollback(&x);
        tl_wr_exit(tl);
        if (tl->dur != NULL && tl_dur_failed(tl, NULL, 0) != TL_OK) {
            return tl_dur_error(tl, st, "delete: nothing changed");
        }
        return tl_err_set(tl, st, "delete [%lld, %lld]: nothing changed", (long long)lo,
                          (long long)hi);
    }
    tl_txn_commit(&x);
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


tl_status_t tl_write_bytes(tl_timelog_t *tl, const int64_t *ts, const uint8_t *data,
                           const uint32_t *ends, uint32_t n) {
    if (n == 0) return TL_OK;
    uint64_t *h = tl_mem_alloc(&tl->cfg.allocator, (size_t)n * sizeof *h);
    if (h == NULL) return tl_err_set(tl, TL_ENOMEM, "append_bytes of %u records", n);
    tl_vmark_t mark;
    tl_status_t st = tl_vstore_append(tl->vs, data, ends, n, h, &mark);
    if (st == TL_EINVAL) {
        st = tl_err_set(tl, st, "append_bytes: ends must ascend (values of < 4 GiB)");
    } else if (st != TL_OK) {
        st = tl_err_set(tl, st, "append_bytes of %u records: values not stored", n);
    } else {
        uint64_t seq0 = tl->seq;
        st = tl_write_handles(tl, ts, h, n, &mark);
        if (tl->seq == seq0) tl_vstore_rollback(tl->vs, &mark); /* nothing inserted */
    }
    tl_mem_free(&tl->cfg.allocator, h, (size_t)n * sizeof *h);
    return st;
}

/* WAL replay at open (durable/recover.c calls it through tl_dur_apply_fn): the call again,
 * with the seq it had. Backpressure does not apply (the worker is not running yet: recovery
 * runs maintenance itself), so EBUSY — the write was accepted — is success here. */
tl_status_t tl_write_replay(tl_timelog_t *tl, const tl_dur_call_t *c) {
    if (c->seq == 0) return TL_ECORRUPT;
    tl->seq = c->seq - 1;
    /* A bytes log's handles name values recovery has put back (its references counted). */
    tl_status_t st = c->type == TL_WREC_APPEND ? tl_write_handles(tl, c->ts, c->h, c->n, NULL)
                                               : delete_closed(tl, c->lo, c->hi);
    return st == TL_EBUSY ? TL_OK : st;
}
