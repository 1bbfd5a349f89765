/*
 * maint.c — the maintenance entry points and the background worker.
 *
 * Jobs (flush, compaction) run under maint_mu, whoever runs them: the worker, or the writer
 * in tl_flush / tl_compact / tl_maint_step. They build their output off every lock and take
 * state_mu only for the O(1)-ish publish, so readers never wait for them.
 *
 * Worker: one thread per log, sleeping on wk_cv with a timed wait (maint_interval_ms, or the
 * backoff delay after a failure). Seals and deletes kick it. Each round: flush every queued
 * memrun, then compact when L0 >= l0_max or a tombstone hides stored data; a round that did
 * work is followed by another at once. A failure is logged with its status, counted in
 * maint_errors_total and retried after a bounded exponential backoff (10 ms doubling to 1 s);
 * inputs stay in place, so nothing is lost. Writers waiting under backpressure sleep on
 * progress_cv, signalled after every round.
 *
 * Lock order: maint_mu -> state_mu; wk_mu -> state_mu (busy wait reads the queue length).
 * Nobody takes wk_mu or maint_mu while holding state_mu.
 */
#include <errno.h>
#include <time.h>

#include "timelog_int.h"

#define BACKOFF_MIN_MS 10u
#define BACKOFF_MAX_MS 1000u

static struct timespec deadline_in(uint32_t ms) {
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

static uint32_t queued_memruns(tl_timelog_t *tl) {
    pthread_mutex_lock(&tl->state_mu);
    uint32_t n = tl_vec_len(tl->man->mem);
    pthread_mutex_unlock(&tl->state_mu);
    return n;
}

/* One round: flush, then compaction when wanted. Caller holds maint_mu. */
static tl_status_t round_locked(tl_timelog_t *tl, bool *did) {
    bool f = false, c = false;
    tl_status_t st = tl_flush_job(tl, &f);
    if (st == TL_OK && tl_compact_wanted(tl)) st = tl_compact_job(tl, &c);
    *did = f || c;
    return st;
}

static void *worker_main(void *arg) {
    tl_timelog_t *tl = arg;
    uint32_t backoff = 0;
    pthread_mutex_lock(&tl->wk_mu);
    while (!tl->wk_stop) {
        if (!tl->wk_kick) {
            uint32_t ms = backoff ? backoff : tl->cfg.maint_interval_ms;
            struct timespec dl = deadline_in(ms);
            pthread_cond_timedwait(&tl->wk_cv, &tl->wk_mu, &dl);
            if (tl->wk_stop) break;
        }
        tl->wk_kick = false;
        pthread_mutex_unlock(&tl->wk_mu);
        bool did = false;
        pthread_mutex_lock(&tl->maint_mu);
        tl_status_t st = round_locked(tl, &did);
        pthread_mutex_unlock(&tl->maint_mu);
        if (st != TL_OK) {
            atomic_fetch_add_explicit(&tl->ctr.maint_errors, 1, memory_order_relaxed);
            backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
            if (backoff > BACKOFF_MAX_MS) backoff = BACKOFF_MAX_MS;
            tl_log(tl, TL_LOG_ERROR, "maintenance failed: %s; retrying in %u ms",
                   tl_strerror((int)st), backoff);
        } else {
            backoff = 0;
        }
        pthread_mutex_lock(&tl->wk_mu);
        tl->wk_epoch++;
        pthread_cond_broadcast(&tl->progress_cv);
        if (did && st == TL_OK) tl->wk_kick = true; /* more may be pending: look again */
    }
    pthread_mutex_unlock(&tl->wk_mu);
    return NULL;
}

void tl_maint_kick(tl_timelog_t *tl) {
    pthread_mutex_lock(&tl->wk_mu);
    if (tl->wk_running) {
        tl->wk_kick = true;
        pthread_cond_signal(&tl->wk_cv);
    }
    pthread_mutex_unlock(&tl->wk_mu);
}

tl_status_t tl_maint_wait_busy(tl_timelog_t *tl) {
    uint32_t limit = tl->cfg.sealed_max;
    pthread_mutex_lock(&tl->wk_mu);
    bool can_wait = tl->wk_running && tl->cfg.busy_wait_ms > 0;
    struct timespec dl = deadline_in(tl->cfg.busy_wait_ms);
    bool busy = queued_memruns(tl) > limit;
    while (busy && can_wait) {
        tl->wk_kick = true;
        pthread_cond_signal(&tl->wk_cv);
        int rc = pthread_cond_timedwait(&tl->progress_cv, &tl->wk_mu, &dl);
        busy = queued_memruns(tl) > limit;
        if (rc == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&tl->wk_mu);
    return busy ? TL_EBUSY : TL_OK;
}

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
    bool did = false;
    pthread_mutex_lock(&tl->maint_mu);
    st = tl_flush_job(tl, &did);
    /* One job compacts all L0 and every pending window; a second pass is a cheap no-op
     * check unless tombstones arrived in between (they cannot: we are the writer). */
    for (int pass = 0; st == TL_OK && pass < 2; pass++) {
        st = tl_compact_job(tl, &did);
        if (!did) break;
    }
    /* Then pack the pages into as few chunks as they fill. Its ENOMEM is not the caller's
     * failure: the compaction stands, and the pages simply stay where they are. */
    if (st == TL_OK) (void)tl_relocate_job(tl);
    pthread_mutex_unlock(&tl->maint_mu);
    /* The caller asked for the compact state: give freed page blocks and heap holes back. */
    tl_arena_trim(&tl->arena);
    tl_mem_trim(&tl->arena.under);
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

tl_status_t tl_maint_start(tl_timelog_t *tl) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (tl->cfg.maintenance != TL_MAINT_BACKGROUND) {
        return tl_err_set(tl, TL_ESTATE, "maint_start: manual mode");
    }
    pthread_mutex_lock(&tl->wk_mu);
    if (!tl->wk_running) {
        tl->wk_stop = false;
        tl->wk_kick = true; /* look for work left while stopped */
        if (pthread_create(&tl->wk_thread, NULL, worker_main, tl) != 0) st = TL_EINTERNAL;
        else tl->wk_running = true;
    }
    pthread_mutex_unlock(&tl->wk_mu);
    return st == TL_OK ? TL_OK : tl_err_set(tl, st, "maint_start: pthread_create failed");
}

tl_status_t tl_maint_stop(tl_timelog_t *tl) {
    if (tl == NULL) return TL_EINVAL;
    pthread_mutex_lock(&tl->wk_mu);
    if (!tl->wk_running) {
        pthread_mutex_unlock(&tl->wk_mu);
        return TL_OK;
    }
    tl->wk_stop = true;
    pthread_cond_signal(&tl->wk_cv);
    pthread_mutex_unlock(&tl->wk_mu);
    int rc = pthread_join(tl->wk_thread, NULL);
    pthread_mutex_lock(&tl->wk_mu);
    tl->wk_running = false;
    tl->wk_stop = false;
    pthread_cond_broadcast(&tl->progress_cv);
    pthread_mutex_unlock(&tl->wk_mu);
    return rc == 0 ? TL_OK : tl_err_set(tl, TL_EINTERNAL, "maint_stop: join failed (%d)", rc);
}
