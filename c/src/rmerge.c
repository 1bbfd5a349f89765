/*
 * rmerge.c — the reverse read pipeline: a stable k-way merge that walks [lo, hi] backwards,
 * newest timestamp first, with tombstone filtering.
 *
 * Order: exactly the forward merge's order (merge.c) reversed — descending (ts, ord) with
 * ord = rank << 32 | source index, and within a source from its last record back (chains from
 * their last run, runs from their last record). So ties come out in reverse insertion order:
 * the newest source first, and inside a run the record written last first. A reader taking
 * the first n records of this merge gets the newest n of the range without reading the rest.
 *
 * Why a file of its own: the forward merge is tuned (block bounds, prefetches, the one-source
 * copy) and every one of its branches sits on the scan path; a direction flag there would
 * cost every forward read. This file mirrors it instead, sharing the column searches of
 * page.h, the chain search of merge.h and the packed-page decoders; the mirror is kept
 * simple where the forward merge is clever (no sink: flush and compaction never read
 * backwards; no range prefetch: a newest-first read is usually a short one).
 *
 * Cursor: per source, the current page slice ts[0, end) (a packed page's: the decoded window
 * of up to DEC records ending at the head) with the head at end - 1, and a tombstone state:
 * every record of the current run with bound <= ts <= head is visible. Classification is the
 * mirror of merge.c's: fj counts the fragments with lo <= head; fragments that cannot hide
 * this run (seq <= wm) are passed once, downwards; a hiding fragment either sets the bound
 * just above it (visible span) or is skipped with one search (hidden span). Amortised O(1)
 * per fragment and O(log) per hidden span, never per record.
 *
 * Heap: a binary max-heap of (head ts, ord). The top cursor copies, reversed, every record of
 * its slice with ts >= B, B = max(its bound, the second head's ts, plus one when that head has
 * the higher ord); B always admits the head, so every step makes progress.
 *
 * Open cost: per source a binary search over its chain and one upper-bound seek (fence search
 * and the page's search table); no work proportional to data. Limits are the caller's: the
 * merge is lazy, so a batch of n records reads about n records (plus one decode window per
 * packed page it enters).
 */
#include "merge.h"

typedef struct rcur {
    const int64_t *ts; /* current slice (a packed page's: the decoded window) */
    const uint64_t *h;
    uint32_t end; /* records of the slice still to emit: the head is ts[end - 1] */
    uint32_t wbase; /* page index of ts[0]: 0 for a raw page, the window start when packed */
    uint32_t pi; /* current page of r */
    const tl_pcodec_view_t *pv; /* the current page when packed, else NULL */
    int64_t *dts; /* decode window (DEC records) of a source that may hold packed pages */
    uint64_t *dh;
    int64_t bound; /* records with bound <= ts <= head are visible; always >= lo */
    bool fresh; /* head not classified yet (new run) */
    const tl_run_t *r; /* current run, NULL when exhausted */
    uint64_t wm;
    int64_t scan_lo; /* max(lo, r->ts_min): fragments below cannot matter in this run */
    uint32_t fj; /* fragments [0, fj) may still matter (those with lo <= head) */
    uint32_t ri; /* chain position */
    uint32_t nruns;
    tl_run_t *const *runs;
    uint64_t ord;
} rcur_t;

typedef struct rheap_ent {
    int64_t ts;
    uint64_t ord;
} rheap_ent_t;

struct tl_rmerge {
    const tl_tombs_t *tombs; /* NULL when there is nothing to filter */
    int64_t lo, hi;
    bool primed;
    uint32_t nsrc, nheap;
    rcur_t *cur;
    rheap_ent_t *heap;
};

/* Records of a packed page decoded per window (as merge.c). */
#define DEC 256u

/* ---- cursor movement ---- */

/* Makes page pi of the current run current with the head on page record `off`. A raw page
 * is read in place; a packed one is decoded in a window of whole miniblocks that ends just
 * after the head and reaches back up to DEC records. */
static void rc_set(rcur_t *c, uint32_t pi, uint32_t off) {
    const tl_run_t *r = c->r;
    c->pi = pi;
    if (r->page_h[pi] != NULL) {
        c->pv = NULL;
        c->ts = tl_page_ts(r->pages[pi]);
        c->h = r->page_h[pi];
        c->wbase = 0;
        c->end = off + 1;
        return;
    }
    TL_ASSERT(c->dts != NULL); /* a packed page in a source planned without a window */
    const tl_pcodec_view_t *v = r->page_v[pi];
    uint32_t pn = tl_run_page_count(r, pi);
    uint32_t stop = (off + TL_PCODEC_MB) & ~(TL_PCODEC_MB - 1u); /* whole miniblocks */
    if (stop > pn) stop = pn;
    uint32_t w0 = stop > DEC ? (stop - DEC + TL_PCODEC_MB - 1u) & ~(TL_PCODEC_MB - 1u) : 0;
    tl_pcodec_decode(v, w0, stop, c->dts, c->dh);
    c->pv = v;
    c->ts = c->dts;
    c->h = c->dh;
    c->wbase = w0;
    c->end = off - w0 + 1;
}

/* Positions c on the last record <= hi of runs[0 .. ri) that may be >= lo; false when the
 * chain has no such run. The head is left unclassified. */
static bool rc_enter(const tl_rmerge_t *m, rcur_t *c, uint32_t ri) {
    while (ri-- > 0) {
        const tl_run_t *r = c->runs[ri];
        if (r->ts_max < m->lo) break; /* descending walk: everything earlier is lower */
        if (r->ts_min > m->hi) continue;
        tl_run_pos_t p = {r->npages, 0};
        if (r->ts_max > m->hi) p = tl_run_seek_upper(r, m->hi);
        if (p.off == 0) { /* the head is the last record of the page before */
            if (p.page == 0) continue; /* cannot happen: ts_min <= hi */
            p.page--;
            p.off = tl_run_page_count(r, p.page);
        }
        c->r = r;
        c->ri = ri;
        c->wm = r->wm;
        c->scan_lo = r->ts_min > m->lo ? r->ts_min : m->lo;
        rc_set(c, p.page, p.off - 1);
        c->fj = 0;
        const tl_tombs_t *tb = m->tombs;
        if (tb != NULL && c->wm != TL_SEQ_MAX) {
            int64_t t = c->ts[c->end - 1];
            uint32_t i = tl_tombs_find(tb, t); /* first fragment with hi >= t */
            c->fj = i < tb->n && tb->v[i].lo <= t ? i + 1 : i;
        }
        c->fresh = true;
        return true;
    }
    c->ri = 0;
    c->r = NULL;
    return false;
}

/* After the slice is consumed: the previous window of a packed page, the previous page of
 * the run, or the previous run. */
static bool rc_prev(const tl_rmerge_t *m, rcur_t *c) {
    if (c->wbase > 0) {
        rc_set(c, c->pi, c->wbase - 1);
        return true;
    }
    if (c->pi > 0) {
        uint32_t p = c->pi - 1;
        rc_set(c, p, tl_run_page_count(c->r, p) - 1);
        return true;
    }
    return rc_enter(m, c, c->ri);
}

/* Moves the head to the last record with ts < x; false when the chain is exhausted. */
static bool rc_skip_before(const tl_rmerge_t *m, rcur_t *c, int64_t x) {
    if (x == INT64_MIN) return rc_enter(m, c, c->ri);
    if (c->ts[0] < x) { /* inside this slice */
        c->end = tl_ts_lower(c->ts, 0, c->end, x);
        return true;
    }
    const tl_run_t *r = c->r;
    uint32_t p = c->pi, off;
    if (c->pv != NULL && r->page_min[p] < x) { /* before this window, in this page */
        off = tl_pcodec_lower(c->pv, x);
    } else {
        p = tl_ts_lower(r->page_min, 0, c->pi, x); /* pages [0, p) start below x */
        if (p == 0) return rc_enter(m, c, c->ri);
        p--;
        off = r->page_h[p] != NULL
                  ? tl_ts_lower(tl_page_ts(r->pages[p]), 0, tl_run_page_count(r, p), x)
                  : tl_pcodec_lower(r->page_v[p], x);
    }
    TL_DASSERT(off > 0); /* page_min < x */
    rc_set(c, p, off - 1);
    return true;
}

/* Classifies the head; false when the cursor is exhausted. */
static bool rc_classify(const tl_rmerge_t *m, rcur_t *c) {
    for (;;) {
        int64_t t = c->ts[c->end - 1];
        c->fresh = false;
        if (t < m->lo) { /* below the range: so is everything earlier in the chain */
            c->r = NULL;
            return false;
        }
        const tl_tombs_t *tb = m->tombs;
        if (tb == NULL || c->wm == TL_SEQ_MAX) {
            c->bound = m->lo;
            return true;
        }
        const tl_tomb_t *v = tb->v;
        uint32_t fj = c->fj;
        while (fj > 0 && v[fj - 1].lo > t) fj--;
        while (fj > 0 && v[fj - 1].seq <= c->wm && v[fj - 1].hi >= c->scan_lo) fj--;
        c->fj = fj;
        if (fj == 0 || v[fj - 1].hi < c->scan_lo) {
            c->bound = m->lo; /* nothing can hide the rest of this run */
            return true;
        }
        const tl_tomb_t *f = &v[fj - 1];
        if (f->hi < t) {
            c->bound = f->hi + 1; /* hi < t: no wrap; and hi >= scan_lo >= lo */
            return true;
        }
        if (!rc_skip_before(m, c, f->lo)) return false;
    }
}

static inline bool rc_settle(const tl_rmerge_t *m, rcur_t *c) {
    if (!c->fresh && c->ts[c->end - 1] >= c->bound) return true;
    return rc_classify(m, c);
}

/* ---- heap (max by (ts, ord)) ---- */

static inline bool ent_greater(const rheap_ent_t *a, const rheap_ent_t *b) {
    return a->ts > b->ts || (a->ts == b->ts && a->ord > b->ord);
}

static void heap_sift_down(rheap_ent_t *hp, uint32_t n, uint32_t i) {
    rheap_ent_t e = hp[i];
    for (;;) {
        uint32_t l = 2 * i + 1;
        if (l >= n) break;
        uint32_t s = (l + 1 < n && ent_greater(&hp[l + 1], &hp[l])) ? l + 1 : l;
        if (!ent_greater(&hp[s], &e)) break;
        hp[i] = hp[s];
        i = s;
    }
    hp[i] = e;
}

static void rmerge_prime(tl_rmerge_t *m) {
    m->primed = true;
    m->nheap = 0;
    for (uint32_t i = 0; i < m->nsrc; i++) {
        rcur_t *c = &m->cur[i];
        if (c->r == NULL || !rc_classify(m, c)) continue;
        m->heap[m->nheap++] = (rheap_ent_t){c->ts[c->end - 1], c->ord};
    }
    for (uint32_t i = m->nheap / 2; i-- > 0;) heap_sift_down(m->heap, m->nheap, i);
}

static void rmerge_fix_top(tl_rmerge_t *m, rcur_t *c) {
    bool alive = c->end > 0 || rc_prev(m, c);
    if (alive) alive = rc_settle(m, c);
    if (alive) m->heap[0].ts = c->ts[c->end - 1];
    else m->heap[0] = m->heap[--m->nheap];
    if (m->nheap > 1) heap_sift_down(m->heap, m->nheap, 0);
}

/* The smallest ts the top cursor may emit before another source must go first. */
static inline int64_t block_bound(const tl_rmerge_t *m, const rcur_t *c) {
    int64_t b = c->bound;
    if (m->nheap > 1) {
        const rheap_ent_t *s = &m->heap[1];
        if (m->nheap > 2 && ent_greater(&m->heap[2], s)) s = &m->heap[2];
        /* Equal ts: the top goes first only with the higher ord. Otherwise top ts > s->ts,
         * so s->ts + 1 cannot wrap. */
        int64_t b2 = m->heap[0].ord > s->ord ? s->ts : s->ts + 1;
        if (b2 > b) b = b2;
    }
    return b;
}

/* Start of the top cursor's block of records >= b in its slice (its head is >= b). */
static inline uint32_t block_start(const rcur_t *c, int64_t b) {
    uint32_t e = c->end;
    if (c->ts[0] >= b) return 0;
    if (e < 2 || c->ts[e - 2] < b) return e - 1;
    return tl_ts_lower(c->ts, 0, e - 1, b);
}

/* Reversed copy of the slice [s, s + k) into the outputs (either ts form may be set). One
 * loop per column: with the NULL tests inside one loop, the compiler vectorized it with
 * masked loads, which ran ~20x slower here (2 us for 100 records). */
static inline void copy_rev(int64_t *dts, double *dtf, uint64_t *dh, const rcur_t *c, uint32_t s,
                            size_t k) {
    const int64_t *ts = c->ts + s + k - 1;
    const uint64_t *h = c->h + s + k - 1;
    if (dts != NULL) {
        for (size_t i = 0; i < k; i++) dts[i] = ts[-(ptrdiff_t)i];
    }
    if (dtf != NULL) {
        for (size_t i = 0; i < k; i++) dtf[i] = (double)ts[-(ptrdiff_t)i];
    }
    if (dh != NULL) {
        for (size_t i = 0; i < k; i++) dh[i] = h[-(ptrdiff_t)i];
    }
}

static inline tl_status_t rmerge_next(tl_rmerge_t *m, int64_t *ts, double *tf, uint64_t *h,
                                      size_t cap, size_t *n_out) {
    *n_out = 0;
    if (!m->primed) rmerge_prime(m);
    size_t out = 0;
    while (out < cap && m->nheap > 0) {
        rcur_t *c = &m->cur[(uint32_t)m->heap[0].ord];
        uint32_t s = block_start(c, block_bound(m, c));
        size_t full = c->end - s, k = full;
        if (k > cap - out) k = cap - out;
        uint32_t from = c->end - (uint32_t)k;
        copy_rev(ts ? ts + out : NULL, tf ? tf + out : NULL, h ? h + out : NULL, c, from, k);
        out += k;
        c->end = from;
        if (k < full) { /* stopped by cap: the head is still the largest */
            m->heap[0].ts = c->ts[c->end - 1];
            break;
        }
        rmerge_fix_top(m, c);
    }
    *n_out = out;
    if (out > 0) return TL_OK;
    return m->nheap == 0 ? TL_EOF : TL_OK;
}

tl_status_t tl_rmerge_next(tl_rmerge_t *m, int64_t *ts, uint64_t *h, size_t cap, size_t *n_out) {
    return rmerge_next(m, ts, NULL, h, cap, n_out);
}

tl_status_t tl_rmerge_next_f64(tl_rmerge_t *m, double *ts, uint64_t *h, size_t cap,
                               size_t *n_out) {
    return rmerge_next(m, NULL, ts, h, cap, n_out);
}

/* ---- setup: one block, [tl_rmerge][rcur_t cur[K]][heap[K]] then the decode windows ---- */

#define DEC_BYTES ((size_t)DEC * (sizeof(int64_t) + sizeof(uint64_t)))

static size_t head_bytes(uint32_t nsrc) {
    size_t b = sizeof(tl_rmerge_t) + (size_t)nsrc * (sizeof(rcur_t) + sizeof(rheap_ent_t));
    return (b + 15u) & ~(size_t)15u;
}

size_t tl_rmerge_bytes(const tl_source_t *srcs, uint32_t nsrc) {
    size_t k = 0;
    for (uint32_t i = 0; i < nsrc; i++) k += srcs[i].packed;
    return head_bytes(nsrc) + k * DEC_BYTES;
}

tl_rmerge_t *tl_rmerge_init(void *mem, const tl_source_t *srcs, uint32_t nsrc,
                            const tl_tombs_t *tombs, int64_t lo, int64_t hi) {
    tl_rmerge_t *m = mem;
    memset(m, 0, sizeof(*m));
    m->tombs = (tombs != NULL && tombs->n > 0) ? tombs : NULL;
    m->lo = lo;
    m->hi = hi;
    m->nsrc = nsrc;
    m->cur = (rcur_t *)(void *)(m + 1);
    m->heap = (rheap_ent_t *)(void *)(m->cur + nsrc);
    char *dec = (char *)mem + head_bytes(nsrc);
    for (uint32_t i = 0; i < nsrc; i++) {
        rcur_t *c = &m->cur[i];
        memset(c, 0, sizeof(*c));
        if (srcs[i].packed) {
            c->dts = (int64_t *)(void *)dec;
            c->dh = (uint64_t *)(void *)(dec + DEC * sizeof(int64_t));
            dec += DEC_BYTES;
        }
        c->runs = srcs[i].runs;
        c->nruns = srcs[i].nruns;
        c->ord = (uint64_t)srcs[i].rank << 32 | i;
        if (lo > hi || c->nruns == 0) continue;
        (void)rc_enter(m, c, tl_chain_count_le(c->runs, c->nruns, hi));
    }
    return m;
}
