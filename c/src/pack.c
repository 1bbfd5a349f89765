/*
 * pack.c — maintenance replaces raw L1 pages by packed ones: the page codec's compressed
 * blobs (codec/pcodec.h), which readers decode while they read.
 *
 * Why here: L1 pages are immutable and long-lived, so a page is packed once and read many
 * times; packing costs tens of ns a record, which the writer never pays (the memtable, its
 * sealed runs and L0 stay raw; they are short-lived and written to). A page the codec cannot
 * make meaningfully smaller stays raw.
 *
 * How: tl_l1_remap_job walks the L1 segments and replaces each raw page by a packed page
 * holding the same records, fences and search table; one manifest publishes them. A full
 * compaction packs every page. A background round leaves raw the pages late records may
 * still reach: those ending within twice the reach seen so far (late_reach: how far behind
 * L1's newest record an L0 record landed) of L1's newest record. A compaction that meets a
 * page rewrites it, so packing one that is still written to is work thrown away; but packing
 * only closed windows left the newest one raw for its whole span (an hour by default: ~16
 * B a record instead of ~3, and no value summaries for aggregates). A record later than the
 * reach seen still lands where it belongs: its compaction decodes the packed page it meets. The raw pages go back to the arena when the last reader of the
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
    int64_t raw_from; /* pages whose last record is at or after this stay raw */
} pack_ctx_t;

static tl_status_t pack_page(void *ctx, tl_page_t *p, uint32_t count, tl_page_t **np) {
    pack_ctx_t *pc = ctx;
    *np = NULL;
    if (tl_page_packed(p) || count > TL_PCODEC_N_MAX) return TL_OK;
    if (p->ts[count - 1] >= pc->raw_from) return TL_OK;
    tl_status_t st = TL_OK;
    *np = tl_page_pack(pc->tl->alloc, p->ts, p->h, count, pc->flags, pc->scratch, &st);
    return st;
}

int64_t tl_pack_settled(tl_timelog_t *tl) {
    tl_manifest_t *m = tl_pin(tl);
    uint32_t n = tl_vec_len(m->l1);
    int64_t newest = n > 0 ? tl_vec_run(m->l1, n - 1)->ts_max : INT64_MIN;
    tl_manifest_unref(m);
    /* newest - 2 * reach, saturating at INT64_MIN (the differences are taken unsigned) */
    uint64_t back = tl->late_reach > UINT64_MAX / 2 ? UINT64_MAX : 2 * tl->late_reach;
    uint64_t room = (uint64_t)newest - (uint64_t)INT64_MIN; /* newest - INT64_MIN, exact */
    return back >= room ? INT64_MIN : (int64_t)((uint64_t)newest - back);
}

tl_status_t tl_pack_job(tl_timelog_t *tl, int64_t raw_from, bool *did) {
    *did = false;
    if (tl->cfg.raw_pages) return TL_OK;
    uint32_t cap = tl->cfg.page_records < TL_PCODEC_N_MAX ? tl->cfg.page_records : TL_PCODEC_N_MAX;
    size_t bytes = tl_pcodec_bound(cap);
    pack_ctx_t pc = {tl, tl_mem_alloc(&tl->arena.under, bytes), 0, raw_from};
    if (pc.scratch == NULL) return TL_ENOMEM;
    if (tl->cfg.value_kind == TL_VALUES_F64) pc.flags |= TL_PCODEC_F64;
    tl_status_t st = tl_l1_remap_job(tl, pack_page, &pc, did);
    tl_mem_free(&tl->arena.under, pc.scratch, bytes);
    return st;
}
