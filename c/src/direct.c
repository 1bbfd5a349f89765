/*
 * direct.c — a forward read that needs no merge (merge.h, tl_direct_read_f64).
 *
 * Why: a settled log (maintenance done) usually holds a range in one source, the L1 chain,
 * with no tombstone over it. The merge then has one cursor, yet still pays for its machinery:
 * each packed page is decoded into the cursor's window and copied from there into the output
 * (two passes over every record), block ends are searched for, and the heap is kept. For a
 * 100-record range that machinery is a third of the read. Here the one chain is read straight
 * into the caller's columns: per miniblock, the timestamps are decoded into a stack buffer
 * that stays in L1 and converted to doubles as they are written out, and the values are
 * decoded in place (or through the stack buffer at a partial miniblock). The end of the range
 * costs no search until the miniblock that holds it: a miniblock whose successor's fence is
 * still <= hi is taken whole.
 *
 * When it applies: exactly one source has runs that meet [lo, hi], and no tombstone fragment
 * that meets [lo, hi] has a seq above any of those runs' wm (so nothing there is hidden). The
 * chain's runs are disjoint and ascending, so its records in order are the merge's answer,
 * ties included (equal timestamps across runs come out in chain order, as in the merge).
 * Anything else is the merge's (false, nothing written).
 *
 * Complexity: one chain search, one seek (fence search + page search table), then O(records
 * read) with one miniblock decode per 64 records; no allocation.
 */
#include <string.h>

#include "codec/pcodec.h"
#include "merge.h"

/* The one source with runs meeting [lo, hi] (its index, and in *first the first of those
 * runs), nsrc when none does, or UINT32_MAX when two or more do. */
static uint32_t lone_source(const tl_source_t *srcs, uint32_t nsrc, int64_t lo, int64_t hi,
                            uint32_t *first) {
    uint32_t found = nsrc;
    for (uint32_t i = 0; i < nsrc; i++) {
        const tl_source_t *s = &srcs[i];
        uint32_t ri = tl_chain_first_ge(s->runs, s->nruns, lo);
        if (ri == s->nruns || s->runs[ri]->ts_min > hi) continue;
        if (found != nsrc) return UINT32_MAX;
        found = i;
        *first = ri;
    }
    return found;
}

/* Whether a tombstone may hide a record of the chain's runs that meet [lo, hi] (the first of
 * them is runs[first]). */
static bool chain_hidden(const tl_source_t *s, uint32_t first, const tl_tombs_t *tombs,
                         int64_t lo, int64_t hi) {
    if (tombs == NULL || tombs->n == 0) return false;
    for (uint32_t ri = first; ri < s->nruns; ri++) {
        const tl_run_t *r = s->runs[ri];
        if (r->ts_min > hi) break;
        if (r->wm == TL_SEQ_MAX) continue; /* a mutable memtable view: never filtered */
        int64_t a = r->ts_min > lo ? r->ts_min : lo, b = r->ts_max < hi ? r->ts_max : hi;
        if (tl_tombs_hides_any(tombs, a, b, r->wm)) return true;
    }
    return false;
}

/* Where a read stands: the output columns and how much of them is used. */
typedef struct out {
    double *ts;
    uint64_t *h;
    size_t n, cap;
} out_t;

static inline void put_ts(double *dst, const int64_t *src, size_t k) {
    for (size_t i = 0; i < k; i++) dst[i] = (double)src[i];
}

/* Records [off, cnt) of raw page p of r that are <= hi, up to the room left. True when the
 * read goes on past this page. */
static bool read_raw(const tl_run_t *r, uint32_t p, uint32_t off, int64_t hi, out_t *o) {
    uint32_t cnt = tl_run_page_count(r, p);
    const int64_t *ts = tl_page_ts(r->pages[p]);
    uint32_t end = r->page_max[p] <= hi ? cnt : tl_ts_upper(ts, off, cnt, hi);
    size_t k = end - off, room = o->cap - o->n;
    if (k > room) k = room;
    if (o->ts != NULL) put_ts(o->ts + o->n, ts + off, k);
    if (o->h != NULL) memcpy(o->h + o->n, r->page_h[p] + off, k * sizeof(uint64_t));
    o->n += k;
    return end == cnt && o->n < o->cap;
}

/* The same for packed page p, miniblock by miniblock. */
static bool read_packed(const tl_run_t *r, uint32_t p, uint32_t off, int64_t hi, out_t *o) {
    const tl_pcodec_view_t *v = r->page_v[p];
    bool page_in = r->page_max[p] <= hi; /* every record of the page is <= hi */
    int64_t tbuf[TL_PCODEC_MB];
    uint64_t hbuf[TL_PCODEC_MB];
    if (o->h != NULL) tl_pcodec_prefetch_h(v, off); /* its lines load while ts decodes */
    for (uint32_t j = off / TL_PCODEC_MB; j < v->nmb; j++) {
        uint32_t start = j * TL_PCODEC_MB, from = off > start ? off - start : 0;
        uint32_t m = tl_pcodec_ts_mb(v, j, tbuf);
        uint32_t end = m; /* miniblock-relative end of the records <= hi */
        bool whole = page_in || (j + 1 < v->nmb && tl_pcodec_fence(v, j + 1) <= hi);
        if (!whole) end = tl_ts_upper(tbuf, from, m, hi);
        size_t k = end - from, room = o->cap - o->n;
        if (k > room) k = room;
        if (o->ts != NULL) put_ts(o->ts + o->n, tbuf + from, k);
        if (o->h != NULL && k > 0) {
            /* In place when the whole miniblock goes out and its 64 slots fit the room. */
            if (from == 0 && k == m && room >= TL_PCODEC_MB) {
                (void)tl_pcodec_h_mb(v, j, o->h + o->n);
            } else {
                (void)tl_pcodec_h_mb(v, j, hbuf);
                memcpy(o->h + o->n, hbuf + from, k * sizeof(uint64_t));
            }
        }
        o->n += k;
        if (end < m || o->n == o->cap) return false;
    }
    return true;
}

bool tl_direct_read_f64(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                        int64_t lo, int64_t hi, double *ts, uint64_t *h, size_t cap,
                        size_t *n_out) {
    *n_out = 0;
    if (lo > hi) return false;
    uint32_t first = 0;
    uint32_t si = lone_source(srcs, nsrc, lo, hi, &first);
    if (si == UINT32_MAX) return false;
    if (si == nsrc || cap == 0) return true; /* nothing meets the range, or no room */
    const tl_source_t *s = &srcs[si];
    if (chain_hidden(s, first, tombs, lo, hi)) return false;
    out_t o = {ts, h, 0, cap};
    bool more = true;
    for (uint32_t ri = first; more && ri < s->nruns; ri++) {
        const tl_run_t *r = s->runs[ri];
        if (r->ts_min > hi) break;
        tl_run_pos_t pos = {0, 0};
        if (r->ts_min < lo) pos = tl_run_seek_lower(r, lo);
        for (uint32_t p = pos.page, off = pos.off; more && p < r->npages; p++, off = 0) {
            if (r->page_min[p] > hi) {
                more = false;
                break;
            }
            more = r->page_h[p] != NULL ? read_raw(r, p, off, hi, &o)
                                        : read_packed(r, p, off, hi, &o);
        }
    }
    *n_out = o.n;
    return true;
}
