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
 * One pass, no state: per source, the chain's first run with ts_max >= t (binary search), then
 * each run with ts_min <= t: one tl_run_seek_equal (fence search plus search table, the handle
 * line prefetched; the records equal to t counted by a few compares on a raw page, from the
 * same miniblock decode on a packed one; a long run of equal records by a second seek, not
 * walked) and a copy of the part the caller asked for (a single handle on a packed page is
 * read alone, without decoding its miniblock). The whole lookup is a short, mostly straight
 * path, so a loop of lookups keeps several cold misses in flight. Cost: O(K (log R + log P)) plus the records copied.
 *
 * The iterator's point mode resumes by skipping what it returned before: each batch is one
 * more pass, O(K log) again, never a walk over the skipped records.
 */
#include <string.h>

#include "merge.h"

/* Copies the handles of n records of r, starting skip records after position p. */
static void copy_handles(const tl_run_t *r, tl_run_pos_t p, uint64_t skip, uint64_t *h,
                         uint64_t n) {
    while (skip > 0) {
        uint32_t left = tl_run_page_count(r, p.page) - p.off;
        if (skip < left) {
            p.off += (uint32_t)skip;
            break;
        }
        skip -= left;
        p = (tl_run_pos_t){p.page + 1, 0};
    }
    while (n > 0) {
        uint32_t left = tl_run_page_count(r, p.page) - p.off;
        uint32_t take = n < left ? (uint32_t)n : left;
        if (r->page_h[p.page] != NULL) memcpy(h, r->page_h[p.page] + p.off, take * sizeof *h);
        else if (take == 1) *h = tl_pcodec_h_at(r->page_v[p.page], p.off); /* no decode */
        else tl_pcodec_h_decode(r->page_v[p.page], p.off, p.off + take, h);
        h += take;
        n -= take;
        p = (tl_run_pos_t){p.page + 1, 0};
    }
}

uint64_t tl_point_read(const tl_source_t *srcs, uint32_t nsrc, uint64_t sky, int64_t t,
                       uint64_t skip, uint64_t *h, size_t cap) {
    uint64_t total = 0;
    uint64_t end = cap > UINT64_MAX - skip ? UINT64_MAX : skip + cap; /* wanted: [skip, end) */
    for (uint32_t si = 0; si < nsrc; si++) {
        const tl_source_t *s = &srcs[si];
        for (uint32_t ri = tl_chain_first_ge(s->runs, s->nruns, t); ri < s->nruns; ri++) {
            const tl_run_t *r = s->runs[ri];
            if (r->ts_min > t) break; /* ascending chain: nothing later can match */
            if (r->wm != TL_SEQ_MAX && sky > r->wm) continue; /* hidden at t */
            uint64_t k;
            tl_run_pos_t p = tl_run_seek_equal(r, t, &k);
            uint64_t a = total > skip ? total : skip, b = total + k < end ? total + k : end;
            if (h != NULL && a < b) copy_handles(r, p, a - total, h + (a - skip), b - a);
            total += k;
        }
    }
    return total;
}

void tl_point_init(tl_point_t *pt, const tl_source_t *srcs, uint32_t nsrc,
                   const tl_tombs_t *tombs, int64_t t) {
    *pt = (tl_point_t){.srcs = srcs, .nsrc = nsrc, .t = t};
    pt->sky = tl_tombs_seq_at(tombs, t);
#ifndef NDEBUG
    for (uint32_t i = 1; i < nsrc; i++) TL_ASSERT(srcs[i - 1].rank < srcs[i].rank);
#endif
}

size_t tl_point_next(tl_point_t *pt, int64_t *ts, uint64_t *h, size_t cap) {
    if (pt->done || cap == 0) return 0;
    uint64_t total = tl_point_read(pt->srcs, pt->nsrc, pt->sky, pt->t, pt->skip, h, cap);
    uint64_t left = total > pt->skip ? total - pt->skip : 0;
    size_t n = left < cap ? (size_t)left : cap;
    for (size_t i = 0; ts != NULL && i < n; i++) ts[i] = pt->t;
    pt->skip += n;
    pt->done = pt->skip >= total;
    return n;
}

size_t tl_point_next_rev(tl_point_t *pt, int64_t *ts, uint64_t *h, size_t cap) {
    if (pt->done || cap == 0) return 0;
    /* The records at t newest first: the forward slice that ends where the previous batch
     * began, read in order and then reversed (a point read is short; two passes are cheap). */
    uint64_t total = tl_point_read(pt->srcs, pt->nsrc, pt->sky, pt->t, 0, NULL, 0);
    uint64_t left = total > pt->skip ? total - pt->skip : 0;
    size_t n = left < cap ? (size_t)left : cap;
    if (h != NULL && n > 0) {
        (void)tl_point_read(pt->srcs, pt->nsrc, pt->sky, pt->t, left - n, h, n);
        for (size_t i = 0, j = n - 1; i < j; i++, j--) {
            uint64_t x = h[i];
            h[i] = h[j];
            h[j] = x;
        }
    }
    for (size_t i = 0; ts != NULL && i < n; i++) ts[i] = pt->t;
    pt->skip += n;
    pt->done = pt->skip >= total;
    return n;
}
