/*
 * point.c — the records at one timestamp, read without the merge.
 *
 * Why: a point lookup through the general merge pays for a heap, per-cursor tombstone state
 * and block bounds it never uses, and that bookkeeping sits between the lookup's one cold
 * cache miss and the next lookup, so the CPU cannot overlap them. Every candidate of a point
 * read has the same ts, which makes the order trivial (sources by rank, then each chain in
 * order, then each run in insertion order) and visibility a single question per run
 * (skyline(t) > wm hides the whole run's records at t).
 *
 * Walk: per source, the chain's first run with ts_max >= t (binary search), then each run
 * with ts_min <= t: a seek to the first record >= t (fence search plus interpolated gallop,
 * prefetching the handle line) and a copy while ts == t, page after page. A run whose record
 * at the seek position is above t ends its source (the next run of the chain starts at or
 * above that). Cost: O(K (log R + log P)) plus the records copied; state fits in the caller's
 * iterator header, so nothing is allocated.
 */
#include "merge.h"

void tl_point_init(tl_point_t *pt, const tl_source_t *srcs, uint32_t nsrc,
                   const tl_tombs_t *tombs, int64_t t) {
    *pt = (tl_point_t){.srcs = srcs, .nsrc = nsrc, .ri = UINT32_MAX, .t = t};
    pt->sky = tl_tombs_seq_at(tombs, t);
#ifndef NDEBUG
    for (uint32_t i = 1; i < nsrc; i++) TL_ASSERT(srcs[i - 1].rank < srcs[i].rank);
#endif
}

/* Positions pt on the next run that may hold visible records at t; false when none is left. */
static bool point_enter(tl_point_t *pt) {
    for (; pt->si < pt->nsrc; pt->si++, pt->ri = UINT32_MAX) {
        const tl_source_t *s = &pt->srcs[pt->si];
        if (pt->ri == UINT32_MAX) pt->ri = tl_chain_first_ge(s->runs, s->nruns, pt->t);
        for (; pt->ri < s->nruns; pt->ri++) {
            const tl_run_t *r = s->runs[pt->ri];
            if (r->ts_min > pt->t) break; /* ascending chain: nothing later can match */
            if (r->wm != TL_SEQ_MAX && pt->sky > r->wm) continue; /* hidden at t */
            tl_run_pos_t p = {0, 0};
            if (r->ts_min < pt->t) p = tl_run_seek_lower_h(r, pt->t);
            if (p.page == r->npages) continue; /* cannot happen: ts_max >= t */
            pt->p = p;
            pt->in_run = true;
            return true;
        }
    }
    return false;
}

size_t tl_point_next(tl_point_t *pt, int64_t *ts, uint64_t *h, size_t cap) {
    size_t n = 0;
    while (n < cap && !pt->done) {
        if (!pt->in_run && !point_enter(pt)) {
            pt->done = true;
            break;
        }
        const tl_run_t *r = pt->srcs[pt->si].runs[pt->ri];
        uint32_t pg = pt->p.page, off = pt->p.off, lim = tl_run_page_count(r, pg);
        const int64_t *col = tl_page_ts(r->pages[pg]);
        const uint64_t *hc = r->page_h[pg];
        size_t room = cap - n;
        uint32_t e = off;
        while (e < lim && e - off < room && col[e] == pt->t) e++;
        for (uint32_t i = off; i < e; i++, n++) {
            if (ts) ts[n] = pt->t;
            if (h) h[n] = hc[i];
        }
        if (e == lim) { /* page used up: its successor may continue the equal run */
            if (pg + 1 < r->npages) {
                pt->p = (tl_run_pos_t){pg + 1, 0};
            } else {
                pt->in_run = false;
                pt->ri++;
            }
        } else if (col[e] != pt->t) { /* past t in this run */
            pt->in_run = false;
            pt->ri++;
        } else {
            pt->p.off = e; /* stopped by cap */
        }
    }
    return n;
}
