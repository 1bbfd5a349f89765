/*
 * merge.c — the read pipeline: stable k-way merge by (ts, rank) with tombstone filtering.
 *
 * Structure: one block per merge, [tl_merge][mcur_t cur[K]][heap_ent_t heap[K]], allocated by
 * tl_merge_open or supplied by the caller (tl_merge_init: iterators keep it inside their own
 * block, which the snapshot reuses, so a point lookup allocates nothing).
 * Each source gets a cursor that walks its chain of runs (disjoint, ascending) restricted to
 * [lo, hi]; the cursor holds the current page slice ts[pos, lim) and a tombstone state:
 *   - visible head: every record of the current run with ts <= bound is visible;
 *   - hidden head (only with a sink): every record with ts <= bound is hidden.
 * Cursors with a head sit in a binary min-heap keyed by (head ts, ord), ord = rank << 32 |
 * source index, so equal timestamps come out oldest source first (stable) and equal ranks
 * still have a fixed order.
 *
 * Block copying: the top cursor may emit, in one memcpy, every record of its page slice with
 * ts <= B, where B = min(its own bound, the second-smallest head's ts, minus one when that
 * head has a lower ord). With one source (or non-overlapping sources, e.g. the L1 chain) the
 * second head never cuts a page, so a scan is a straight page-slice copy. B always admits the
 * head itself, so every step makes progress. Block ends are found with a gallop from the
 * head (O(log block)), or with no search when the page's last record is <= B.
 *
 * Tombstones: per cursor, a forward index fi into the fragment array. A cursor classifies
 * its head only when the head passes `bound`: it moves fi past fragments that end before the
 * head or cannot hide this run (seq <= wm), then either sets bound to just before the next
 * hiding fragment (visible span), or skips the hidden span with one binary search (no sink)
 * / marks it hidden up to the fragment end (sink: the hidden block is handed to the sink in
 * merge order). Each fragment is passed at most once per run, so filtering costs amortised
 * O(1) per fragment plus O(log) per hidden span, never per record. Runs with wm =
 * TL_SEQ_MAX (mutable memtable views) skip the tombstone work entirely.
 *
 * Open cost: per source a binary search over its chain and one seek in one run (fence search,
 * then an interpolated gallop in one page: O(log R + log P + log page_records), about one
 * cold cache line for evenly spread data); no work proportional to data. Entering a run
 * prefetches the lines of both columns the range is expected to cover in that page (capped
 * at PREFETCH_LINES), so a short range pays about one memory latency, not one per line; the
 * seek itself prefetches the handle line at its guess (tl_run_seek_lower_h).
 * The end of the range is never searched for: `bound` never exceeds hi, so blocks stop there,
 * and a cursor whose head passes hi is finished (its later runs start even higher).
 * Hidden spans are not touched at open: the first tl_merge_next classifies heads, so a sink
 * set after open still sees every hidden record.
 *
 * Invariants: a cursor in the heap has pos < lim and a classified head; heap[i] keys equal
 * their cursor's head; bounds never need x + 1 / x - 1 without a strict inequality that
 * rules out wrapping (INT64_MIN and INT64_MAX are ordinary data).
 */
#include "merge.h"

typedef struct mcur {
    const int64_t *ts; /* current page columns (a packed page's: the decoded window) */
    const uint64_t *h;
    uint32_t pos, lim; /* head and end of the current page's records (window-relative) */
    uint32_t pn; /* records of the current page */
    uint32_t wbase; /* page index of ts[0]: 0 for a raw page, the window start when packed */
    const tl_pcodec_view_t *pv; /* the current page when packed, else NULL */
    int64_t *dts; /* decode window (DEC records) of a source that may hold packed pages */
    uint64_t *dh;
    int64_t bound; /* see the design comment; always <= hi */
    int64_t pmax; /* ts[lim - 1], from the run's fence (no cold page access to test it) */
    bool hidden; /* head lies in a hidden span (sink mode only) */
    bool fresh; /* head not classified yet (new run) */
    uint32_t pi; /* current page of r */
    const tl_run_t *r; /* current run, NULL when exhausted */
    uint64_t wm; /* r->wm */
    int64_t scan_hi; /* min(hi, r->ts_max): fragments above cannot matter in this run */
    uint32_t fi; /* first tombstone fragment that may still matter */
    uint32_t ri, nruns; /* chain position */
    tl_run_t *const *runs;
    uint64_t ord; /* rank << 32 | source index: the heap tie-break */
} mcur_t;

typedef struct heap_ent {
    int64_t ts;
    uint64_t ord; /* rank << 32 | source index */
} heap_ent_t;

struct tl_merge {
    const tl_allocator_t *alloc;
    size_t bytes; /* allocation size; 0 when built in caller memory (tl_merge_init) */
    const tl_tombs_t *tombs; /* NULL when there is nothing to filter */
    int64_t lo, hi;
    tl_merge_sink_fn sink;
    void *sink_ctx;
    tl_status_t err; /* sticky sink failure */
    bool primed; /* heads classified and heap built */
    uint32_t nsrc, nheap;
    mcur_t *cur;
    heap_ent_t *heap;
};

/* ---- cursor movement ---- */

/* Records of a packed page decoded per window: enough to amortise each decode call over a
 * scan, few enough to stay in L1 beside the output batch. */
#define DEC 256u

/* Makes page pi current. A raw page's columns are read in place; a packed page is decoded
 * window by window (cur_window) into the cursor's buffers, which then stand for the page:
 * pos and lim count from the window's start, pmax is the window's last ts. */
static void cur_set_page(mcur_t *c, uint32_t pi) {
    const tl_run_t *r = c->r;
    c->pi = pi;
    c->pn = tl_run_page_count(r, pi);
    c->wbase = 0;
    if (r->page_h[pi] == NULL) {
        TL_ASSERT(c->dts != NULL); /* a packed page in a source planned without a window */
        c->pv = r->page_v[pi];
        c->ts = c->dts;
        c->h = c->dh;
        c->lim = 0; /* nothing decoded yet: the caller positions the window */
        return;
    }
    c->pv = NULL;
    c->ts = tl_page_ts(r->pages[pi]); /* column addresses only: the header stays cold */
    c->h = r->page_h[pi];
    c->lim = c->pn;
    c->pmax = r->page_max[pi];
}

/* Decodes the window of the current (packed) page that starts at the miniblock holding page
 * record `off` and covers at least `want` records from it (up to DEC, never past the page),
 * and puts the head on record off. Reads decode while they merge: each window is decoded
 * when the merge reaches it, straight into buffers that stay in cache. */
static void cur_window(mcur_t *c, uint32_t off, uint32_t want) {
    uint32_t w0 = off & ~(TL_PCODEC_MB - 1u);
    uint32_t end = off + (want < 1 ? 1 : want);
    uint32_t cap = w0 + DEC;
    if (end > cap) end = cap;
    end = (end + TL_PCODEC_MB - 1u) & ~(TL_PCODEC_MB - 1u); /* whole miniblocks */
    if (end > c->pn || end > cap) end = c->pn < cap ? c->pn : cap;
    tl_pcodec_decode(c->pv, w0, end, c->dts, c->dh);
    c->wbase = w0;
    c->lim = end - w0;
    c->pos = off - w0;
    c->pmax = c->dts[c->lim - 1];
}

/* Lines of each column prefetched at most when a cursor enters a run (a short range). */
#define PREFETCH_LINES 32u

/* A short range is a handful of cold, adjacent lines in both columns: start them all at once
 * (the hardware prefetcher needs a few misses before it streams), up to the interpolated end
 * of the range in this page and at most PREFETCH_LINES lines per column. Long ranges and
 * scans get the first lines only and leave the rest to the hardware prefetcher. */
static inline void cur_prefetch_range(const tl_merge_t *m, const mcur_t *c) {
    if (c->pv != NULL) return; /* decoded: already in cache */
    uint32_t end = c->lim;
    if (m->hi == m->lo) {
        end = c->pos + 1; /* a point lookup: the seek prefetched around its guess already */
    } else if (m->hi < c->pmax) {
        const tl_run_t *r = c->r;
        end = tl_ts_interp_guess(c->lim, m->hi, r->page_min[c->pi], c->pmax) + 9u;
        if (end > c->lim) end = c->lim;
    }
    uint32_t stop = c->pos + 8u * PREFETCH_LINES;
    if (end > stop) end = stop;
    for (uint32_t i = c->pos; i < end; i += 8) {
        __builtin_prefetch(c->ts + i);
        __builtin_prefetch(c->h + i);
    }
    __builtin_prefetch(c->h + c->pos); /* always: the head's handle (end may be <= pos) */
}

/* Positions c on the first record >= lo of runs[ri..] that may be <= hi; false when the chain
 * has no such run. The head is left unclassified (fresh): classification ends the cursor if
 * the head is above hi. The end of the range is never searched for: blocks stop at hi. */
static bool cur_enter(const tl_merge_t *m, mcur_t *c, uint32_t ri) {
    for (; ri < c->nruns; ri++) {
        const tl_run_t *r = c->runs[ri];
        if (r->ts_min > m->hi) break; /* ascending chain: nothing later can match */
        if (r->ts_max < m->lo) continue;
        tl_run_pos_t p = {0, 0};
        if (r->ts_min < m->lo) p = tl_run_seek_lower_h(r, m->lo);
        if (p.page == r->npages) continue; /* cannot happen: ts_max >= lo */
        c->r = r;
        c->ri = ri;
        c->wm = r->wm;
        c->scan_hi = r->ts_max < m->hi ? r->ts_max : m->hi;
        cur_set_page(c, p.page);
        if (c->pv != NULL) {
            /* A short range decodes only what it will read (about one miniblock); a longer
             * one takes whole windows. */
            uint32_t want = DEC;
            if (m->hi < r->page_max[p.page]) {
                want = tl_ts_interp_guess(c->pn, m->hi, r->page_min[p.page],
                                          r->page_max[p.page]) + 9u;
                want = want > p.off ? want - p.off : 1;
            }
            cur_window(c, p.off, want);
        } else {
            c->pos = p.off;
        }
        c->fi = 0;
        if (m->tombs != NULL && c->wm != TL_SEQ_MAX) c->fi = tl_tombs_find(m->tombs, c->ts[c->pos]);
        c->fresh = true;
        cur_prefetch_range(m, c);
        return true;
    }
    c->ri = c->nruns;
    c->r = NULL;
    return false;
}

/* After the page slice is consumed: the next window of a packed page, the next page of the
 * run, or the next run. */
static bool cur_next_page(const tl_merge_t *m, mcur_t *c) {
    if (c->pv != NULL && c->wbase + c->lim < c->pn) {
        cur_window(c, c->wbase + c->lim, DEC);
        return true;
    }
    if (c->pi + 1 < c->r->npages) {
        cur_set_page(c, c->pi + 1);
        if (c->pv != NULL) cur_window(c, 0, DEC);
        else c->pos = 0;
        return true;
    }
    return cur_enter(m, c, c->ri + 1);
}

/* Moves to the first record with ts > x; false when the chain is exhausted. */
static bool cur_skip_past(const tl_merge_t *m, mcur_t *c, int64_t x) {
    if (x == INT64_MAX) return cur_enter(m, c, c->ri + 1);
    if (c->pmax > x) {
        c->pos = tl_ts_upper(c->ts, c->pos, c->lim, x);
        return true;
    }
    const tl_run_t *r = c->r;
    if (c->pv != NULL && x < r->page_max[c->pi]) { /* past this window, not this page */
        cur_window(c, tl_pcodec_upper(c->pv, x), DEC);
        return true;
    }
    uint32_t p = tl_ts_upper(r->page_max, c->pi + 1, r->npages, x);
    if (p == r->npages) return cur_enter(m, c, c->ri + 1);
    cur_set_page(c, p);
    if (c->pv != NULL) cur_window(c, tl_pcodec_upper(c->pv, x), DEC);
    else c->pos = tl_ts_upper_interp(c->ts, c->lim, x, r->page_min[p], r->page_max[p]);
    return true;
}

/* Classifies the head (see the design comment); false when the cursor is exhausted. */
static bool cur_classify(const tl_merge_t *m, mcur_t *c) {
    for (;;) {
        int64_t t = c->ts[c->pos];
        c->fresh = false;
        c->hidden = false;
        if (t > m->hi) { /* past the range: so is everything later in the chain */
            c->r = NULL;
            return false;
        }
        const tl_tombs_t *tb = m->tombs;
        if (tb == NULL || c->wm == TL_SEQ_MAX) {
            c->bound = m->hi;
            return true;
        }
        const tl_tomb_t *v = tb->v;
        uint32_t fi = c->fi, nf = tb->n;
        while (fi < nf && v[fi].hi < t) fi++;
        while (fi < nf && v[fi].seq <= c->wm && v[fi].lo <= c->scan_hi) fi++;
        c->fi = fi;
        if (fi == nf || v[fi].lo > c->scan_hi) {
            c->bound = m->hi; /* nothing can hide the rest of this run */
            return true;
        }
        if (v[fi].lo > t) {
            c->bound = v[fi].lo - 1; /* lo > t: no wrap; and lo <= scan_hi <= hi */
            return true;
        }
        if (m->sink != NULL) {
            c->hidden = true;
            c->bound = v[fi].hi < m->hi ? v[fi].hi : m->hi;
            return true;
        }
        if (!cur_skip_past(m, c, v[fi].hi)) return false;
    }
}

static inline bool cur_settle(const tl_merge_t *m, mcur_t *c) {
    if (!c->fresh && c->ts[c->pos] <= c->bound) return true;
    return cur_classify(m, c);
}

/* ---- heap ---- */

static inline bool ent_less(const heap_ent_t *a, const heap_ent_t *b) {
    return a->ts < b->ts || (a->ts == b->ts && a->ord < b->ord);
}

static void heap_sift_down(heap_ent_t *hp, uint32_t n, uint32_t i) {
    heap_ent_t e = hp[i];
    for (;;) {
        uint32_t l = 2 * i + 1;
        if (l >= n) break;
        uint32_t s = (l + 1 < n && ent_less(&hp[l + 1], &hp[l])) ? l + 1 : l;
        if (!ent_less(&hp[s], &e)) break;
        hp[i] = hp[s];
        i = s;
    }
    hp[i] = e;
}

/* Classifies every head and builds the heap (first tl_merge_next). */
static void merge_prime(tl_merge_t *m) {
    m->primed = true;
    m->nheap = 0;
    for (uint32_t i = 0; i < m->nsrc; i++) {
        mcur_t *c = &m->cur[i];
        if (c->r == NULL || !cur_classify(m, c)) continue;
        m->heap[m->nheap++] = (heap_ent_t){c->ts[c->pos], c->ord};
    }
    for (uint32_t i = m->nheap / 2; i-- > 0;) heap_sift_down(m->heap, m->nheap, i);
}

/* After the top cursor consumed records: re-settle it and restore the heap. */
static void merge_fix_top(tl_merge_t *m, mcur_t *c) {
    bool alive = c->pos < c->lim || cur_next_page(m, c);
    if (alive) alive = cur_settle(m, c);
    if (alive) {
        m->heap[0].ts = c->ts[c->pos];
    } else {
        m->heap[0] = m->heap[--m->nheap];
    }
    if (m->nheap > 1) heap_sift_down(m->heap, m->nheap, 0);
}

/* Short blocks (interleaved sources) are copied inline; long ones with memcpy. With dtf set,
 * timestamps are written as doubles instead (the f64 read path converts while it copies, so
 * the batch is touched once). */
static inline void copy_block(int64_t *dts, double *dtf, uint64_t *dh, const mcur_t *c,
                              uint32_t pos, size_t k) {
    if (k <= 4) {
        for (size_t i = 0; i < k; i++) {
            if (dts) dts[i] = c->ts[pos + i];
            if (dtf) dtf[i] = (double)c->ts[pos + i];
            if (dh) dh[i] = c->h[pos + i];
        }
        return;
    }
    if (dts) memcpy(dts, c->ts + pos, k * sizeof(int64_t));
    if (dtf) {
        const int64_t *src = c->ts + pos;
        for (size_t i = 0; i < k; i++) dtf[i] = (double)src[i];
    }
    if (dh) memcpy(dh, c->h + pos, k * sizeof(uint64_t));
}

/* End of the top cursor's block of records <= b in its page (the head is <= b). Interleaved
 * sources make one-record blocks common: test that first. A lone source's block usually runs
 * to hi: interpolate (one cache line for even data); otherwise gallop from the head. */
static inline uint32_t block_end(const mcur_t *c, int64_t b, bool alone) {
    uint32_t pos = c->pos;
    if (c->pmax <= b) return c->lim;
    if (c->ts[pos + 1] > b) return pos + 1; /* pmax > b, so pos + 1 < lim */
    if (alone) return pos + tl_ts_upper_interp(c->ts + pos, c->lim - pos, b, c->ts[pos], c->pmax);
    return tl_ts_gallop_upper(c->ts, pos + 1, c->lim, b);
}

/* The largest ts the top cursor may emit before another source must go first. */
static inline int64_t merge_block_bound(const tl_merge_t *m, const mcur_t *c) {
    int64_t b = c->bound;
    if (m->nheap > 1) {
        const heap_ent_t *s = &m->heap[1];
        if (m->nheap > 2 && ent_less(&m->heap[2], s)) s = &m->heap[2];
        /* Equal ts: the top goes first only with the lower ord. Otherwise top ts < s->ts,
         * so s->ts - 1 cannot wrap. */
        int64_t b2 = m->heap[0].ord < s->ord ? s->ts : s->ts - 1;
        if (b2 < b) b = b2;
    }
    return b;
}

/* The body of tl_merge_next and tl_merge_next_f64: at most one of ts and tf is set. Inlined
 * into both, so each copies with its own loop and the other branch folds away. */
static inline tl_status_t merge_next(tl_merge_t *m, int64_t *ts, double *tf, uint64_t *h,
                                     size_t cap, size_t *n_out) {
    *n_out = 0;
    if (m->err != TL_OK) return m->err;
    if (!m->primed) merge_prime(m);
    size_t out = 0;
    while (out < cap && m->nheap > 0) {
        mcur_t *c = &m->cur[(uint32_t)m->heap[0].ord];
        int64_t b = merge_block_bound(m, c);
        uint32_t pos = c->pos;
        uint32_t stop = block_end(c, b, m->nheap == 1);
        size_t full = stop - pos, k = full;
        TL_DASSERT(k >= 1);
        if (TL_UNLIKELY(c->hidden)) {
            tl_status_t st = m->sink(m->sink_ctx, c->ts + pos, c->h + pos, k);
            if (st != TL_OK) {
                m->err = st;
                return st;
            }
        } else {
            if (k > cap - out) k = cap - out;
            copy_block(ts ? ts + out : NULL, tf ? tf + out : NULL, h ? h + out : NULL, c, pos, k);
            out += k;
        }
        c->pos = pos + (uint32_t)k;
        if (k < full) { /* stopped by cap: the head is still the smallest */
            m->heap[0].ts = c->ts[c->pos];
            break;
        }
        merge_fix_top(m, c);
    }
    *n_out = out;
    if (out > 0) return TL_OK;
    return m->nheap == 0 ? TL_EOF : TL_OK;
}

tl_status_t tl_merge_next(tl_merge_t *m, int64_t *ts, uint64_t *h, size_t cap, size_t *n_out) {
    return merge_next(m, ts, NULL, h, cap, n_out);
}

tl_status_t tl_merge_next_f64(tl_merge_t *m, double *ts, uint64_t *h, size_t cap, size_t *n_out) {
    return merge_next(m, NULL, ts, h, cap, n_out);
}

/* Sources that may hold packed pages, each of which gets a decode window. */
static uint32_t packed_sources(const tl_source_t *srcs, uint32_t nsrc) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < nsrc; i++) k += srcs[i].packed;
    return k;
}

#define DEC_BYTES ((size_t)DEC * (sizeof(int64_t) + sizeof(uint64_t)))

size_t tl_merge_bytes(const tl_source_t *srcs, uint32_t nsrc) {
    size_t b = sizeof(tl_merge_t) + (size_t)nsrc * (sizeof(mcur_t) + sizeof(heap_ent_t));
    b = (b + 15u) & ~(size_t)15u;
    return b + packed_sources(srcs, nsrc) * DEC_BYTES;
}

tl_merge_t *tl_merge_init(void *mem, const tl_source_t *srcs, uint32_t nsrc,
                          const tl_tombs_t *tombs, int64_t lo, int64_t hi) {
    tl_merge_t *m = mem;
    memset(m, 0, sizeof(*m));
    m->tombs = (tombs != NULL && tombs->n > 0) ? tombs : NULL;
    m->lo = lo;
    m->hi = hi;
    m->err = TL_OK;
    m->nsrc = nsrc;
    m->cur = (mcur_t *)(void *)(m + 1);
    m->heap = (heap_ent_t *)(void *)(m->cur + nsrc);
    size_t head = sizeof(tl_merge_t) + (size_t)nsrc * (sizeof(mcur_t) + sizeof(heap_ent_t));
    char *dec = (char *)mem + ((head + 15u) & ~(size_t)15u);
    for (uint32_t i = 0; i < nsrc; i++) {
        mcur_t *c = &m->cur[i];
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
        (void)cur_enter(m, c, tl_chain_first_ge(c->runs, c->nruns, lo));
    }
    return m;
}

tl_status_t tl_merge_open(const tl_allocator_t *a, const tl_source_t *srcs, uint32_t nsrc,
                          const tl_tombs_t *tombs, int64_t lo, int64_t hi, tl_merge_t **out) {
    *out = NULL;
    size_t bytes = tl_merge_bytes(srcs, nsrc);
    void *mem = tl_mem_alloc(a, bytes);
    if (mem == NULL) return TL_ENOMEM;
    tl_merge_t *m = tl_merge_init(mem, srcs, nsrc, tombs, lo, hi);
    m->alloc = a;
    m->bytes = bytes;
    *out = m;
    return TL_OK;
}

void tl_merge_close(tl_merge_t *m) {
    if (m == NULL || m->bytes == 0) return; /* bytes == 0: tl_merge_init, caller's memory */
    tl_mem_free(m->alloc, m, m->bytes);
}

void tl_merge_set_sink(tl_merge_t *m, tl_merge_sink_fn fn, void *ctx) {
    TL_ASSERT(!m->primed); /* hidden records may already have been skipped */
    m->sink = fn;
    m->sink_ctx = ctx;
}
