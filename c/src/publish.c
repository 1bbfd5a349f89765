/*
 * publish.c — the publish/pin unit: what maintenance jobs and the writer share to read and
 * replace the current version, and to report dropped records.
 *
 * tl_pin takes a reference on the current manifest; tl_publish_maint builds the next version
 * from the current one (a job's result: memruns and L0 runs it consumed dropped, an L0 run or a
 * new L1 added, tombstones garbage-collected) and swaps it in under state_mu, in O(lists).
 * Drops go to on_drop or the drop queue after the publish, outside every lock.
 * Jobs (flush.c, compact.c, relocate.c, pack.c) depend on this unit, never on the files that
 * call them.
 */
#include "publish.h"
#include "vstore.h"

tl_manifest_t *tl_pin(tl_timelog_t *tl) {
    pthread_mutex_lock(&tl->state_mu);
    tl_manifest_t *m = tl->man;
    tl_manifest_ref(m);
    pthread_mutex_unlock(&tl->state_mu);
    return m;
}

void tl_report_drops(tl_timelog_t *tl, const int64_t *ts, const uint64_t *h, size_t n) {
    if (n == 0) return;
    atomic_fetch_add_explicit(&tl->ctr.dropped, n, memory_order_relaxed);
    if (tl->vs != NULL) tl_vstore_retire(tl->vs, h, n); /* the engine's values: never the caller's */
    else if (tl->cfg.on_drop != NULL) tl->cfg.on_drop(tl->cfg.on_drop_ctx, ts, h, n);
    else if (tl->dropq != NULL && !tl_dropq_bell_only(tl->dropq) &&
             tl_dropq_push(tl->dropq, h, n) != TL_OK) {
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
void tl_report_all(tl_timelog_t *tl) {
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

/* L1's cover after a publish: a compaction (set_l1) that consumed the first l0_k L0 runs now
 * holds what they covered; anything else keeps L1's. */
static tl_cover_t l1_cover(const tl_manifest_t *cur, bool set_l1, uint32_t l0_k) {
    tl_cover_t c = cur->l1_cover;
    for (uint32_t i = 0; set_l1 && i < l0_k && i < tl_vec_len(cur->l0); i++) {
        tl_cover_t k = tl_vec_run(cur->l0, i)->cover;
        if (tl_cover_less(c, k)) c = k;
    }
    return c;
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
        nm = tl_manifest_new(tl->alloc, tl->vs, l1, l0, mem, tombs, cur->seq);
        if (nm == NULL) st = TL_ENOMEM;
        else nm->l1_cover = l1_cover(cur, set_l1, l0_k);
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
