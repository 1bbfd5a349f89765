/*
 * maint.c — the maintenance calls of the writer: tl_flush, tl_compact, tl_maint_step, and
 * the durability calls tl_sync, tl_sync_request, tl_durable_seq, tl_checkpoint.
 *
 * Each seals what it needs on the writer thread (a writer section), then runs its jobs under
 * maint_mu like the worker does, so a job never runs twice at once. Start and stop of the
 * worker are in worker.c.
 */
#include "durable/dur.h"
#include "jobs.h"
#include "txn.h"

tl_status_t tl_flush(tl_timelog_t *tl) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    st = tl_seal(tl, NULL);
    if (st != TL_OK) return tl_err_set(tl, st, "flush: seal failed");
    bool did = false;
    pthread_mutex_lock(&tl->maint_mu);
    st = tl_flush_job(tl, &did);
    pthread_mutex_unlock(&tl->maint_mu);
    return st == TL_OK ? TL_OK : tl_err_set(tl, st, "flush: nothing lost, memruns stay queued");
}

tl_status_t tl_compact(tl_timelog_t *tl) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    st = tl_seal(tl, NULL);
    if (st != TL_OK) return tl_err_set(tl, st, "compact: seal failed");
    pthread_mutex_lock(&tl->maint_mu);
    st = tl_compact_all_job(tl);
    pthread_mutex_unlock(&tl->maint_mu);
    tl_give_back(tl); /* the caller asked for the compact state */
    return st == TL_OK ? TL_OK : tl_err_set(tl, st, "compact: nothing lost, state unchanged");
}

tl_status_t tl_maint_step(tl_timelog_t *tl) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (tl->cfg.maintenance != TL_MAINT_MANUAL) {
        return tl_err_set(tl, TL_ESTATE, "maint_step: background mode");
    }
    bool did = false;
    pthread_mutex_lock(&tl->maint_mu);
    st = tl_flush_job(tl, &did);
    if (st == TL_OK && !did && tl_compact_wanted(tl)) st = tl_compact_job(tl, &did);
    pthread_mutex_unlock(&tl->maint_mu);
    if (st != TL_OK) return tl_err_set(tl, st, "maint_step failed; nothing lost");
    return did ? TL_OK : TL_EOF;
}


/* ---- durability (durable/dur.h does the work; in memory there is nothing to do) ---- */

tl_status_t tl_sync(tl_timelog_t *tl) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK || tl->dur == NULL) return st;
    st = tl_dur_sync(tl);
    return st == TL_OK ? TL_OK : tl_dur_error(tl, st, "sync");
}

tl_status_t tl_sync_request(tl_timelog_t *tl, uint64_t *target) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (target == NULL) return TL_EINVAL;
    if (tl->dur == NULL) {
        *target = 0;
        return TL_OK;
    }
    st = tl_dur_sync_request(tl, target);
    return st == TL_OK ? TL_OK : tl_dur_error(tl, st, "sync");
}

tl_status_t tl_durable_seq(tl_timelog_t *tl, uint64_t *out) {
    if (tl == NULL || out == NULL) return TL_EINVAL;
    *out = 0;
    if (tl->dur == NULL) return TL_OK;
    *out = tl_dur_durable_seq(tl);
    return tl_dur_failed(tl, NULL, 0);
}

tl_status_t tl_checkpoint(tl_timelog_t *tl) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK || tl->dur == NULL) return st;
    st = tl_seal(tl, NULL);
    if (st != TL_OK) return tl_err_set(tl, st, "checkpoint: seal failed");
    st = tl_dur_checkpoint_job(tl);
    tl_give_back(tl);
    if (st == TL_OK) return TL_OK;
    if (tl_dur_failed(tl, NULL, 0) != TL_OK) return tl_dur_error(tl, st, "checkpoint");
    return tl_err_set(tl, st, "checkpoint: nothing lost, the previous checkpoint stands");
}
