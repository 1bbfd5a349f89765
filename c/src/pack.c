/*
 * pack.c — maintenance replaces raw L1 pages by packed ones: the page codec's compressed
 * blobs (codec/pcodec.h), which readers decode while they read.
 *
 * Why here: L1 pages are immutable and long-lived, so a page is packed once and read many
 * times; packing costs tens of ns a record, which the writer never pays (the memtable, its
 * sealed runs and L0 stay raw; they are short-lived and written to). A page the codec cannot
 * make meaningfully smaller stays raw.
 *
 * How: tl_l1_remap_job walks the L1 segments (all of them after a full compaction; all but
 * the newest in the background rounds, whose window still takes late records) and replaces
 * each raw page by a packed page holding the same records, fences and search table; one
 * manifest publishes them. The raw pages go back to the arena when the last reader of the
 * old manifest lets go. A later compaction that rewrites part of a packed page decodes it
 * (rewrite.c); one that keeps a page whole shares the packed page as it is.
 *
 * Cost: O(records of the raw pages) encode work; memory during the job: one scratch blob
 * plus the new packed pages. Best effort on ENOMEM: nothing is published.
 */
#include "jobs.h"

typedef struct pack_ctx {
    tl_timelog_t *tl;
    uint8_t *scratch; /* tl_pcodec_bound(page_records) bytes */
    uint32_t flags;
    uint32_t left; /* pages this job may still pack (UINT32_MAX: no limit) */
    bool more; /* a raw page was left for a later job */
} pack_ctx_t;

static tl_status_t pack_page(void *ctx, tl_page_t *p, uint32_t count, tl_page_t **np) {
    pack_ctx_t *pc = ctx;
    *np = NULL;
    if (tl_page_packed(p) || p->nopack || count > TL_PCODEC_N_MAX) return TL_OK;
    if (pc->left == 0) {
        pc->more = true;
        return TL_OK;
    }
    pc->left--;
    tl_hold_point(&pc->tl->hold); /* a page's encode is tens of us: a read waits no longer */
    tl_status_t st = TL_OK;
    *np = tl_page_pack(pc->tl->alloc, p->ts, p->h, count, pc->flags, pc->scratch, &st);
    /* Does not pay (a prefix of a page shared with a longer run might: it stays raw too). */
    if (*np == NULL && st == TL_OK) p->nopack = true;
    return st;
}

tl_status_t tl_pack_job(tl_timelog_t *tl, uint32_t keep_last, uint32_t max_pages, bool *did,
                        bool *more) {
    *did = false;
    if (more != NULL) *more = false;
    if (tl->cfg.raw_pages) return TL_OK;
    uint32_t cap = tl->cfg.page_records < TL_PCODEC_N_MAX ? tl->cfg.page_records : TL_PCODEC_N_MAX;
    size_t bytes = tl_pcodec_bound(cap);
    pack_ctx_t pc = {tl, tl_mem_alloc(&tl->arena.under, bytes), 0,
                     max_pages > 0 ? max_pages : UINT32_MAX, false};
    if (pc.scratch == NULL) return TL_ENOMEM;
    if (tl->cfg.value_kind == TL_VALUES_F64) pc.flags |= TL_PCODEC_F64;
    tl_status_t st = tl_l1_remap_job(tl, pack_page, &pc, keep_last, did);
    if (more != NULL) *more = st == TL_OK && pc.more;
    tl_mem_free(&tl->arena.under, pc.scratch, bytes);
    return st;
}
