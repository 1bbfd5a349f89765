/*
 * worker.c — the background worker: one thread per log, sleeping on wk_cv with a timed wait
 * (maint_interval_ms, the backoff delay after a failure, or the time left until idle
 * maintenance falls due). Seals and deletes kick it. Each round: flush every queued memrun,
 * then compact when L0 >= l0_max or a tombstone hides stored data, then pack up to
 * PACK_PAGES_PER_ROUND of the raw L1 pages compactions wrote (all but the newest window); a
 * round that did work or left pages to pack is followed by another at once. A failure is
 * logged with its status, counted in maint_errors_total and retried after a bounded
 * exponential backoff (10 ms doubling to 1 s), never a thread per retry; inputs stay in
 * place, so nothing is lost. Writers waiting under backpressure sleep on progress_cv,
 * signalled after every round.
 *
 * Idle maintenance: when no write call has run for idle_ms (wr_seq unchanged; the worker
 * wakes early enough to notice), the worker brings the log to the shape tl_compact leaves —
 * it seals the memtable on the writer's behalf (the writer section handshake in txn.h keeps
 * the writer out for those microseconds), then runs tl_compact_all_job and gives memory back
 * — once per quiet period: any write re-arms it. Readers never wait (every step publishes
 * like any job); the next write waits at most for the seal.
 *
 * Durable logs: when the WAL has grown by checkpoint_bytes since the last checkpoint, a round
 * kicks the checkpoint thread (helper.h says why not the worker); idle maintenance
 * checkpoints whatever the WAL holds itself, as part of bringing the log to rest.
 *
 * Lock order: maint_mu -> state_mu; wk_mu -> state_mu (busy wait reads the queue length).
 * Nobody takes wk_mu or maint_mu while holding state_mu.
 */
#include <errno.h>
#include <time.h>

#include "bgthread.h"
#include "durable/dur.h"
#include "headsort.h"
#include "jobs.h"
#include "txn.h"
#include "worker.h"

#define BACKOFF_MIN_MS 10u
#define BACKOFF_MAX_MS 1000u

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* tl_arena_prepare's stop: a sealed memtable waits for its flush, which comes first (a
 * prepare on memory the host took back took 7-44 ms, and writers met backpressure behind it). */
static bool flush_waits(void *ctx) {
    tl_timelog_t *tl = ctx;
    tl_hold_serve(&tl->hold); /* faulting in 2 MiB takes milliseconds here: asks go first */
    return tl_memruns_queued(tl) > 0;
}

/* The idle job (worker, maint_mu held): seal on the writer's behalf unless a write call has
 * run since wr_seq read `seen`, then compact everything. *done once the log is compact. */
static tl_status_t idle_locked(tl_timelog_t *tl, uint64_t seen, bool *done) {
    atomic_store_explicit(&tl->idle_req, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&tl->wr_seq, memory_order_seq_cst) != seen) {
        atomic_store_explicit(&tl->idle_req, 0, memory_order_release);
        return TL_OK; /* not idle after all: the next quiet period tries again */
    }
    tl_status_t st = tl_mt_empty(&tl->mt) ? TL_OK : tl_seal_in(tl, NULL);
    atomic_store_explicit(&tl->idle_req, 0, memory_order_release);
    if (st == TL_OK) st = tl_compact_all_job(tl);
    if (st == TL_OK) {
        *done = true;
        atomic_fetch_add_explicit(&tl->ctr.idle_jobs, 1, memory_order_relaxed);
    }
    return st;
}

/* Pages one round packs at most (~5 ms of encoding): a compaction can leave thousands raw,
 * and packing them in one go (50 ms) let sealed memtables pile up behind it until the writer
 * met backpressure (the bench data in memory at 30 Mrec/s: writes waited 20 ms). The rest
 * goes in the next rounds, each after a flush. */
#define PACK_PAGES_PER_ROUND 32u

/* One round: flush, then compaction when wanted, then packing of the L1 pages compactions
 * wrote, except in the newest window, which still takes late records. Packing is best
 * effort: its ENOMEM leaves the pages raw. *pack_more: raw pages wait (in and out). Caller
 * holds maint_mu. */
static tl_status_t round_locked(tl_timelog_t *tl, bool *did, bool *pack_more) {
    bool f = false, c = false, p = false;
    tl_status_t st = tl_flush_job(tl, &f);
    if (st == TL_OK && tl_compact_wanted(tl)) st = tl_compact_job(tl, &c);
    if (st == TL_OK && (c || *pack_more)) {
        (void)tl_pack_job(tl, 1, PACK_PAGES_PER_ROUND, &p, pack_more);
    }
    *did = f || c || *pack_more;
    return st;
}

/* The worker's view of the writer's activity, for idle maintenance. */
typedef struct quiet {
    uint64_t seen; /* wr_seq at the last change seen */
    uint64_t since_ms; /* when that change was seen */
    bool done; /* idle job completed for this quiet period */
} quiet_t;

/* Updates q from wr_seq; true when the idle job is due now. */
static bool quiet_due(tl_timelog_t *tl, quiet_t *q, uint64_t now) {
    uint64_t s = atomic_load_explicit(&tl->wr_seq, memory_order_acquire);
    if (s != q->seen) {
        q->seen = s;
        q->since_ms = now;
        q->done = false;
    }
    return tl->cfg.idle_ms > 0 && !q->done && (s & 1) == 0 && now - q->since_ms >= tl->cfg.idle_ms;
}

/* How long the worker may sleep: its interval, or until the idle job falls due. */
static uint32_t sleep_ms(const tl_timelog_t *tl, const quiet_t *q, uint32_t backoff) {
    uint32_t ms = backoff ? backoff : tl->cfg.maint_interval_ms;
    if (tl->cfg.idle_ms == 0 || q->done || backoff) return ms;
    uint64_t left = tl->cfg.idle_ms, waited = now_ms() - q->since_ms;
    left = waited >= left ? 1 : left - waited;
    return left < ms ? (uint32_t)left : ms;
}

/* The writer's ask (write.c, presort_ask; served at the top of a round and at the jobs'
 * hold points, hold.h): the head's records so far sorted into its cache, so that the head
 * change or seal that follows sorts only the rest. Pins the head as a snapshot does
 * (state_mu, which no job holds at a hold point), so the writer may replace it meanwhile; a
 * failed sort is only a missed shortcut. Not while two sealed memtables or more wait for
 * their flush (one waits a few ms after every seal): maintenance is then what bounds the
 * ingest (the writer meets backpressure), and sorting the head for the writer, who would wait
 * anyway, took a tenth off full-speed out-of-order ingest (C, bench_native: 143 -> 129 Mrec/s
 * at 5% late). With none waiting, the paced run's seals left 18-31 of 109 head changes
 * without a sort ahead. */
static void presort(void *ctx) {
    tl_timelog_t *tl = ctx;
    pthread_mutex_lock(&tl->state_mu);
    tl_head_t *hd = tl_vec_len(tl->man->mem) < 2 ? tl->mt.head : NULL;
    uint32_t n = (uint32_t)atomic_load_explicit(&tl->mt.pub, memory_order_acquire);
    if (hd != NULL) tl_head_ref(hd);
    pthread_mutex_unlock(&tl->state_mu);
    if (hd == NULL) return;
    tl_run_t *r = NULL;
    if (n > 0 && tl_head_sorted(hd, tl->alloc, tl->cfg.page_records, tl->mt.sums, n, &r) == TL_OK) {
        tl_run_unref(r);
    }
    tl_head_unref(hd);
}

/* The checkpoint thread's job: a checkpoint when the WAL has grown enough. A failure is counted
 * and logged as the worker's are; one that did not fail the log (ENOMEM; an I/O error fails
 * it, dur.h) is retried from the first kick after the same bounded backoff. */
static void checkpoint_run(void *ctx) {
    tl_timelog_t *tl = ctx;
    if (now_ms() < tl->ckpt_retry_ms || !tl_dur_checkpoint_wanted(tl)) return;
    tl_status_t st = tl_dur_checkpoint_job(tl);
    if (st == TL_OK) {
        tl->ckpt_backoff_ms = 0;
        return;
    }
    atomic_fetch_add_explicit(&tl->ctr.maint_errors, 1, memory_order_relaxed);
    if (tl_dur_failed(tl, NULL, 0) != TL_OK) { /* no retry: writes now fail, reads go on */
        tl_log(tl, TL_LOG_ERROR, "checkpoint failed: %s; the log is failed",
               tl_strerror((int)st));
        return;
    }
    uint32_t b = tl->ckpt_backoff_ms ? tl->ckpt_backoff_ms * 2 : BACKOFF_MIN_MS;
    tl->ckpt_backoff_ms = b > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b;
    tl->ckpt_retry_ms = now_ms() + tl->ckpt_backoff_ms;
    tl_log(tl, TL_LOG_ERROR, "checkpoint failed: %s; retrying in %u ms", tl_strerror((int)st),
           tl->ckpt_backoff_ms);
}

static void *worker_main(void *arg) {
    tl_timelog_t *tl = arg;
    /* A woken worker must not preempt the writer that woke it: on two cores, CFS's wake-up
     * preemption put the worker on the writer's core in the middle of a write call, and the
     * call waited there for milliseconds of flush work. */
    tl_bgthread_init("tl-maint", true);
    uint32_t backoff = 0;
    bool pack_more = false;
    quiet_t q = {atomic_load_explicit(&tl->wr_seq, memory_order_acquire), now_ms(), false};
    pthread_mutex_lock(&tl->wk_mu);
    while (!tl->wk_stop) {
        if (!tl->wk_kick) {
            struct timespec dl = tl_deadline_in(sleep_ms(tl, &q, backoff));
            pthread_cond_timedwait(&tl->wk_cv, &tl->wk_mu, &dl);
            if (tl->wk_stop) break;
        }
        tl->wk_kick = false;
        pthread_mutex_unlock(&tl->wk_mu);
        tl_hold_serve(&tl->hold);
        bool did = false, idle = false;
        pthread_mutex_lock(&tl->maint_mu);
        tl_status_t st = round_locked(tl, &did, &pack_more);
        if (st == TL_OK && quiet_due(tl, &q, now_ms())) st = idle_locked(tl, q.seen, &idle);
        pthread_mutex_unlock(&tl->maint_mu);
        /* Durable logs: a checkpoint when the log went quiet (it then reopens without replay
         * and gives back what deletes freed), or, on the checkpoint thread, when the WAL has
         * grown enough. The job takes maint_mu only to compact and pin, not while it writes
         * files. */
        if (st == TL_OK && idle && tl_dur_checkpoint_idle(tl)) st = tl_dur_checkpoint_job(tl);
        if (!idle && tl_dur_checkpoint_wanted(tl)) tl_helper_kick(&tl->ckpt);
        if (idle) {
            tl_give_back(tl);
            q.done = true;
        } else if ((did || tl_arena_is_low(&tl->arena)) && tl_memruns_queued(tl) == 0) {
            /* Writes go on (the round did work, or the writer woke it: spares ran low) and
             * the worker has caught up: their next chunks, warm. Never while sealed memtables
             * wait, as the flush they wait for comes first. */
            (void)tl_arena_prepare(&tl->arena, flush_waits, tl);
        }
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
    struct timespec dl = tl_deadline_in(tl->cfg.busy_wait_ms);
    bool busy = tl_memruns_queued(tl) > limit;
    while (busy && can_wait) {
        tl->wk_kick = true;
        pthread_cond_signal(&tl->wk_cv);
        int rc = pthread_cond_timedwait(&tl->progress_cv, &tl->wk_mu, &dl);
        busy = tl_memruns_queued(tl) > limit;
        if (rc == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&tl->wk_mu);
    return busy ? TL_EBUSY : TL_OK;
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
        tl->hold.ctx = tl;
        tl->hold.serve = presort;
        st = tl_helper_start(&tl->helper, "tl-helper", tl_hold_serve_job, &tl->hold);
        if (st == TL_OK && tl->dur != NULL) {
            st = tl_helper_start(&tl->ckpt, "tl-ckpt", checkpoint_run, tl);
        }
        if (st == TL_OK && pthread_create(&tl->wk_thread, NULL, worker_main, tl) != 0) {
            st = TL_EINTERNAL;
        }
        if (st != TL_OK) {
            tl_helper_stop(&tl->ckpt);
            tl_helper_stop(&tl->helper);
        }
        if (st == TL_OK) tl->wk_running = true;
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
    tl_helper_stop(&tl->ckpt); /* after the worker, the only thread that kicks it */
    tl_helper_stop(&tl->helper);
    pthread_mutex_lock(&tl->wk_mu);
    tl->wk_running = false;
    tl->wk_stop = false;
    pthread_cond_broadcast(&tl->progress_cv);
    pthread_mutex_unlock(&tl->wk_mu);
    return rc == 0 ? TL_OK : tl_err_set(tl, TL_EINTERNAL, "maint_stop: join failed (%d)", rc);
}
