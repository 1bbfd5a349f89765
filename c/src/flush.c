/*
 * flush.c — sealed memruns -> one L0 run.
 *
 * A flush pins the manifest M, merges the runs of every queued memrun (rank = seal order,
 * then run order inside a memrun: active, head runs, sorted head) with tl_rewrite, dropping
 * records hidden by M.tombs against each input's watermark, and stamps the L0 run with
 * W = M.seq (every flushed record and every applied tombstone has seq <= M.seq). The publish
 * removes exactly those memruns (only maintenance removes, and maint_mu serializes it, so
 * they are still the oldest ones) and appends the L0 run; tombstones are garbage-collected.
 * Drops are reported after the publish, outside every lock, from the input pages, which M
 * keeps alive until then.
 *
 * In-order memruns are flushed by sharing their pages (no copy); out-of-order data costs one
 * copy of the pages it touches. Failure (ENOMEM) leaves the memruns queued: nothing is lost.
 * Complexity: O(records copied + pages shared + steps * runs).
 */
#include "rewrite.h"

/* Flattens the runs of the first k memruns of m (rank order). */
static tl_run_t **collect_runs(const tl_manifest_t *m, uint32_t k, uint32_t *n_out) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < k; i++) n += tl_vec_len(tl_vec_vec(m->mem, i));
    tl_run_t **runs = tl_mem_calloc(m->alloc, n ? n : 1, sizeof *runs);
    if (runs == NULL) return NULL;
    uint32_t j = 0;
    for (uint32_t i = 0; i < k; i++) {
        const tl_vec_t *mr = tl_vec_vec(m->mem, i);
        for (uint32_t r = 0; r < mr->n; r++) runs[j++] = tl_vec_run(mr, r);
    }
    *n_out = n;
    return runs;
}

/* What the first k memruns cover: each was stamped at its seal (txn.c). */
static tl_cover_t memruns_cover(const tl_manifest_t *m, uint32_t k) {
    tl_cover_t c = {0, 0};
    for (uint32_t i = 0; i < k; i++) {
        const tl_vec_t *mr = tl_vec_vec(m->mem, i);
        for (uint32_t r = 0; r < tl_vec_len(mr); r++) {
            if (tl_cover_less(c, tl_vec_run(mr, r)->cover)) c = tl_vec_run(mr, r)->cover;
        }
    }
    return c;
}

/* Reserves drop-queue room so that delivery after the publish cannot fail. */
static tl_status_t reserve_drops(tl_timelog_t *tl, const tl_drops_t *d) {
    if (tl->dropq == NULL || d->records == 0) return TL_OK;
    return tl_dropq_reserve(tl->dropq, d->records);
}

tl_status_t tl_flush_job(tl_timelog_t *tl, bool *did) {
    *did = false;
    tl_manifest_t *m = tl_pin(tl);
    uint32_t k = tl_vec_len(m->mem), n = 0;
    if (k == 0) {
        tl_manifest_unref(m);
        return TL_OK;
    }
    tl_run_t **runs = collect_runs(m, k, &n);
    if (runs == NULL) {
        tl_manifest_unref(m);
        return TL_ENOMEM;
    }
    tl_drops_t d;
    tl_drops_init(&d, tl->alloc, tl_drops_wanted(tl));
    tl_rw_stats_t rs = {0, 0};
    tl_run_t *l0 = NULL;
    tl_status_t st = tl_rewrite(tl->alloc, tl->cfg.page_records,
                                tl->cfg.value_kind == TL_VALUES_F64, runs, n, INT64_MIN,
                                INT64_MAX, m->tombs, m->seq, &d, &rs, &tl->hold, &l0);
    tl_mem_free(tl->alloc, runs, (n ? n : 1) * sizeof *runs);
    if (st == TL_OK && l0 != NULL) l0->cover = memruns_cover(m, k);
    if (st == TL_OK) st = reserve_drops(tl, &d);
    if (st == TL_OK) st = tl_publish_maint(tl, k, 0, l0, false, NULL);
    tl_run_unref(l0);
    if (st == TL_OK) {
        atomic_fetch_add_explicit(&tl->ctr.flushes, 1, memory_order_relaxed);
        tl_drops_deliver(tl, &d);
        *did = true;
    } else {
        tl_drops_free(&d);
    }
    tl_manifest_unref(m);
    return st;
}

uint32_t tl_memruns_queued(tl_timelog_t *tl) {
    pthread_mutex_lock(&tl->state_mu);
    uint32_t n = tl_vec_len(tl->man->mem);
    pthread_mutex_unlock(&tl->state_mu);
    return n;
}

void tl_flush_between(tl_timelog_t *tl) {
    if (tl_memruns_queued(tl) == 0) return;
    bool did = false;
    pthread_mutex_lock(&tl->maint_mu);
    /* A failure leaves the memtables queued: the worker's next round flushes and reports. */
    (void)tl_flush_job(tl, &did);
    pthread_mutex_unlock(&tl->maint_mu);
    if (did) {
        pthread_mutex_lock(&tl->wk_mu);
        pthread_cond_broadcast(&tl->progress_cv);
        pthread_mutex_unlock(&tl->wk_mu);
    }
}
