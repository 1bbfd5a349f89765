/*
 * relocate.c — tl_compact's last step: moves the pages of sparse arena chunks into the free
 * blocks of the others, so the log ends dense and on whole huge pages.
 *
 * Why: after a compaction the freed page blocks are spread over most chunks (measured at 5M
 * records: 211 free blocks over 17 of 23 chunks). Giving their memory back splits each
 * chunk's huge pages, and a point lookup then pays a page walk on top of its cache miss
 * (~30 ns of ~250 here); keeping them costs ~3 B per record. Moving the live pages out of the
 * sparsest chunks instead frees those chunks whole, and leaves the rest full.
 *
 * How: the arena marks the chunks to empty (tl_arena_evac_begin: only as many as the other
 * chunks' free blocks can absorb, so no memory is added); each L1 segment with a page there
 * is replaced by a copy whose moved pages are fresh copies (tl_run_remap through
 * tl_l1_remap_job, which pack.c shares), all published in one manifest. The old pages go back when the last reader of the old manifest lets go;
 * tl_arena_evac_end then frees the chunks that emptied. Records, order and watermarks are
 * unchanged, so readers see the same data before and after. Only L1 moves: when tl_compact
 * gets here, everything else has been flushed and compacted into it.
 *
 * Best effort: on ENOMEM nothing is published and the log is as the compaction left it.
 * Cost: one copy of each moved page, at most the blocks the other chunks had free.
 */
#include "jobs.h"

static tl_status_t move_if_marked(void *ctx, tl_page_t *p, uint32_t count, tl_page_t **np) {
    tl_timelog_t *tl = ctx;
    *np = NULL;
    if (!tl_arena_evac_holds(&tl->arena, p, tl_page_alloc_bytes(p))) return TL_OK;
    *np = tl_page_copy(tl->alloc, p, count);
    return *np != NULL ? TL_OK : TL_ENOMEM;
}

tl_status_t tl_l1_remap_job(tl_timelog_t *tl, tl_run_remap_fn fn, void *ctx, uint32_t keep_last,
                            bool *did) {
    *did = false;
    tl_manifest_t *m = tl_pin(tl);
    uint32_t n = tl_vec_len(m->l1), todo = n > keep_last ? n - keep_last : 0;
    tl_vec_t *l1 = n > 0 ? tl_vec_new(tl->alloc, TL_VEC_RUNS, n) : NULL;
    tl_status_t st = n > 0 && l1 == NULL ? TL_ENOMEM : TL_OK;
    bool changed = false;
    for (uint32_t i = 0; st == TL_OK && i < n; i++) {
        tl_run_t *r = tl_vec_run(m->l1, i), *c = NULL;
        if (i < todo) st = tl_run_remap(tl->alloc, r, fn, ctx, &c);
        if (c == NULL) tl_run_ref(r);
        l1->v[i] = c != NULL ? c : r;
        changed |= c != NULL;
    }
    /* maint_mu is held, so L1 is still m's: the new vector replaces exactly what was copied. */
    if (st == TL_OK && changed) st = tl_publish_maint(tl, 0, 0, NULL, true, l1);
    *did = st == TL_OK && changed;
    tl_vec_unref(l1);
    tl_manifest_unref(m);
    return st;
}

tl_status_t tl_relocate_job(tl_timelog_t *tl) {
    if (tl_arena_evac_begin(&tl->arena) == 0) return TL_OK;
    bool did = false;
    tl_status_t st = tl_l1_remap_job(tl, move_if_marked, tl, 0, &did);
    tl_arena_evac_end(&tl->arena);
    return st;
}
