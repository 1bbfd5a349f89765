/*
 * txn.c — the write transaction and the seal (txn.h says how a write call runs).
 *
 * Seal: the generation becomes a memrun (active run, head runs, sorted head; watermark = the
 * seq before the call that seals) queued in a new manifest, and a fresh generation starts.
 * Complexity: O(1) apart from building the memrun (sorting the unsorted head, O(h log h)).
 */
#include <sched.h>
#include <time.h>

#include "txn.h"


void tl_txn_begin(txn_t *x, tl_timelog_t *tl) {
    memset(x, 0, sizeof *x);
    x->tl = tl;
    x->seq = tl->seq;
    x->act_n = tl->mt.act_n;
    x->head_n = tl->mt.head_n;
    x->last = tl->mt.last;
    x->ooo_min = tl->mt.ooo_min;
}

/* Enters the structural phase: state_mu held until the end of the call, state saved once. */
void tl_txn_struct(txn_t *x) {
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
void tl_publish_writes(tl_timelog_t *tl) {
    tl_mt_publish(&tl->mt);
    atomic_store_explicit(&tl->seq_pub, tl->seq, memory_order_relaxed);
}

void tl_txn_commit(txn_t *x) {
    tl_timelog_t *tl = x->tl;
    tl_publish_writes(tl);
    if (x->locked) {
        tl_state_bump(tl);
        pthread_mutex_unlock(&tl->state_mu);
        tl_view_drop(tl);
    }
    txn_release_saved(x);
}

void tl_txn_rollback(txn_t *x) {
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
    tl_active_unseal(mt->act); /* the directory a rolled-back seal gave its pages away */
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
void tl_txn_set_manifest(tl_timelog_t *tl, tl_manifest_t *m) {
    tl_manifest_t *old = tl->man;
    tl->man = m;
    tl_manifest_unref(old); /* cheap: the parts are shared with m or saved by the txn */
}

/* Seals the generation into a memrun with watermark wm. */
tl_status_t tl_txn_seal(txn_t *x, uint64_t wm) {
    tl_timelog_t *tl = x->tl;
    tl_memtable_t *mt = &tl->mt;
    if (tl_mt_empty(mt)) return TL_OK;
    tl_vec_t *memrun = NULL, *nmem = NULL;
    tl_status_t st = tl_mt_build_memrun(mt, wm, &memrun);
    if (st != TL_OK) return st;
    /* What the memrun covers: a seal between calls holds every call up to wm; one inside an
     * append call k (wm = k) holds calls before k and the first pos records of k. */
    tl_cover_t cover = x->in_append ? (tl_cover_t){tl->seq - 1, x->pos} : (tl_cover_t){wm, 0};
    for (uint32_t i = 0; i < tl_vec_len(memrun); i++) tl_vec_run(memrun, i)->cover = cover;
    tl_active_t *nact = tl_active_new(tl->alloc, mt->page_records, mt->active_max);
    if (nact == NULL) {
        tl_vec_unref(memrun);
        return TL_ENOMEM;
    }
    tl_txn_struct(x);
    tl_manifest_t *cur = tl->man;
    st = tl_vec_push(cur->mem, tl->alloc, TL_VEC_VECS, memrun, &nmem);
    tl_vec_unref(memrun);
    tl_manifest_t *nm = NULL;
    if (st == TL_OK) {
        nm = tl_manifest_new(tl->alloc, tl->vs, cur->l1, cur->l0, nmem, cur->tombs,
                             wm > cur->seq ? wm : cur->seq);
        tl_vec_unref(nmem);
        if (nm == NULL) st = TL_ENOMEM;
        else nm->l1_cover = cur->l1_cover;
    }
    if (st != TL_OK) {
        tl_active_unref(nact);
        return st;
    }
    if (tl_vec_len(cur->mem) >= tl->cfg.sealed_max) x->busy = true;
    tl_txn_set_manifest(tl, nm);
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

tl_status_t tl_seal_in(tl_timelog_t *tl, bool *busy) {
    txn_t x;
    tl_txn_begin(&x, tl);
    tl_status_t st = tl_txn_seal(&x, tl->seq);
    if (st != TL_OK) {
        tl_txn_rollback(&x);
        return st;
    }
    tl_txn_commit(&x);
    if (busy) *busy = x.busy;
    return TL_OK;
}

tl_status_t tl_seal(tl_timelog_t *tl, bool *busy) {
    tl_wr_enter(tl);
    tl_status_t st = tl_seal_in(tl, busy);
    tl_wr_exit(tl);
    return st;
}


void tl_wr_wait(tl_timelog_t *tl) {
    for (;;) {
        /* Step out (even wr_seq) so the worker's check passes, wait for its release of
         * idle_req, step back in and look again: it may have raised idle_req anew. */
        uint64_t s = atomic_load_explicit(&tl->wr_seq, memory_order_relaxed);
        atomic_store_explicit(&tl->wr_seq, s + 1, memory_order_release);
        for (uint32_t spin = 0; atomic_load_explicit(&tl->idle_req, memory_order_acquire); spin++) {
            if (spin < 64) {
                sched_yield();
            } else {
                struct timespec pause = {0, 20000}; /* a seal takes tens of us */
                nanosleep(&pause, NULL);
            }
        }
        atomic_store_explicit(&tl->wr_seq, s + 2, memory_order_seq_cst);
        if (atomic_load_explicit(&tl->idle_req, memory_order_seq_cst) == 0) return;
    }
}

