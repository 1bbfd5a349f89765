/*
 * maint.c — the maintenance calls of the writer: tl_flush, tl_compact, tl_maint_step.
 *
 * Each seals what it needs on the writer thread (a writer section), then runs its jobs under
 * maint_mu like the worker does, so a job never runs twice at once. Start and stop of the
 * worker are in worker.c.
 */
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

