/*
 * rewrite.c — the maintenance merge shared by flush and compaction (see rewrite.h).
 *
 * Structure: one cursor per input run (position, end, current page). Each step takes the
 * source with the smallest (ts, rank) head and the runner-up's head (y, ry):
 *   - if the source sits at the start of a page that lies wholly in its range and whose last
 *     key is below (y, ry), the page is clean with respect to the other inputs: when no
 *     pending fragment (seq > the run's wm) meets it, the page is appended to the output by
 *     reference; when one fragment covers it entirely, it is dropped without copying;
 *   - otherwise the records of that page below (y, ry) are copied through a run builder
 *     ("region"), skipping hidden spans (recorded as drop spans).
 * The output is assembled as a list of (page, count): shared pages and the pages of each
 * finished region, then turned into one run with tl_run_from_pages. A region is finished
 * (its last page possibly short) before each shared page, so sharing never forces copies.
 *
 * Write amplification: only pages whose key range meets another input (or a pending
 * fragment) are copied. In-order ingest therefore shares nearly every page at flush and at
 * compaction; out-of-order records rewrite only the pages they land in.
 *
 * Complexity: O(log k) per step for k inputs (a min-heap keyed by (head ts, rank)), one step
 * per shared page or per copied block; copied blocks are found by binary search in the page.
 * When the two smallest sources interleave finely (late records sprinkled through an in-order
 * run), merge2 alternates between them inside their current pages, finding each block's end
 * by galloping (O(log block) compares) and copying it whole, without touching the heap.
 * Memory: the output's new pages plus O(pages) pointers; inputs are only read.
 */
#include "rewrite.h"

/* Blocks shorter than this switch the step to the record-by-record two-way merge. */
#define MERGE2_BLOCK 32u

typedef struct rw_src {
    const tl_run_t *r;
    uint64_t pos, end;
    uint32_t page;
    int64_t head; /* ts at pos (heap key) */
    /* A packed page being read record by record is decoded whole, once, into these buffers
     * (page_records each, allocated when the first packed page needs them); dpage is the page
     * they hold (UINT32_MAX: none). Pages shared or dropped whole are never decoded. */
    int64_t *dts;
    uint64_t *dh;
    uint32_t dcap; /* records the buffers hold */
    uint32_t dpage;
} rw_src_t;

typedef struct rw {
    const tl_allocator_t *a;
    uint32_t page_records;
    bool sums; /* pages written get value summaries */
    const tl_tombs_t *tombs;
    tl_drops_t *drops;
    tl_rw_stats_t *stats;
    tl_run_builder_t b;
    bool b_active;
    tl_page_t **pages;
    uint32_t *counts;
    uint32_t np, cap;
} rw_t;

/* ---- drop spans ---- */

void tl_drops_init(tl_drops_t *d, const tl_allocator_t *a, bool keep) {
    memset(d, 0, sizeof *d);
    d->alloc = a;
    d->keep = keep;
}

tl_status_t tl_drops_add(tl_drops_t *d, tl_page_t *p, uint32_t off, uint32_t n) {
    if (n == 0) return TL_OK;
    d->records += n;
    if (!d->keep) return TL_OK;
    if (d->n > 0) {
        tl_drop_span_t *last = &d->v[d->n - 1];
        if (last->page == p && last->off + last->n == off) {
            last->n += n;
            return TL_OK;
        }
    }
    if (d->n == d->cap) {
        uint32_t nc = d->cap ? d->cap * 2 : 64;
        tl_drop_span_t *v = tl_mem_alloc(d->alloc, (size_t)nc * sizeof *v);
        if (v == NULL) return TL_ENOMEM;
        if (d->n) memcpy(v, d->v, (size_t)d->n * sizeof *v);
        tl_mem_free(d->alloc, d->v, (size_t)d->cap * sizeof *v);
        d->v = v;
        d->cap = nc;
    }
    d->v[d->n++] = (tl_drop_span_t){p, off, n};
    return TL_OK;
}

void tl_drops_free(tl_drops_t *d) {
    tl_mem_free(d->alloc, d->v, (size_t)d->cap * sizeof *d->v);
    d->v = NULL;
    d->n = d->cap = 0;
    d->records = 0;
}

void tl_drops_deliver(tl_timelog_t *tl, tl_drops_t *d) {
    enum { CHUNK = 1024 };
    int64_t ts[CHUNK];
    uint64_t h[CHUNK];
    for (uint32_t i = 0; i < d->n; i++) {
        const tl_drop_span_t *sp = &d->v[i];
        if (!tl_page_packed(sp->page)) {
            tl_report_drops(tl, sp->page->ts + sp->off, sp->page->h + sp->off, sp->n);
            continue;
        }
        for (uint32_t k = 0; k < sp->n; k += CHUNK) { /* decoded a chunk at a time */
            uint32_t m = sp->n - k < CHUNK ? sp->n - k : CHUNK;
            tl_page_read(sp->page, sp->off + k, sp->off + k + m, ts, h);
            tl_report_drops(tl, ts, h, m);
        }
    }
    if (!d->keep) atomic_fetch_add_explicit(&tl->ctr.dropped, d->records, memory_order_relaxed);
    tl_drops_free(d);
}

/* ---- output page list ---- */

static tl_status_t pl_add(rw_t *w, tl_page_t *p, uint32_t count) {
    if (w->np == w->cap) {
        uint32_t nc = w->cap ? w->cap * 2 : 32;
        tl_page_t **np = tl_mem_alloc(w->a, (size_t)nc * sizeof *np);
        uint32_t *nc_ = tl_mem_alloc(w->a, (size_t)nc * sizeof *nc_);
        if (np == NULL || nc_ == NULL) {
            tl_mem_free(w->a, np, (size_t)nc * sizeof *np);
            tl_mem_free(w->a, nc_, (size_t)nc * sizeof *nc_);
            return TL_ENOMEM;
        }
        if (w->np) {
            memcpy(np, w->pages, (size_t)w->np * sizeof *np);
            memcpy(nc_, w->counts, (size_t)w->np * sizeof *nc_);
        }
        tl_mem_free(w->a, w->pages, (size_t)w->cap * sizeof *np);
        tl_mem_free(w->a, w->counts, (size_t)w->cap * sizeof *nc_);
        w->pages = np;
        w->counts = nc_;
        w->cap = nc;
    }
    tl_page_ref(p);
    w->pages[w->np] = p;
    w->counts[w->np] = count;
    w->np++;
    return TL_OK;
}

static void pl_free(rw_t *w) {
    for (uint32_t i = 0; i < w->np; i++) tl_page_unref(w->pages[i]);
    tl_mem_free(w->a, w->pages, (size_t)w->cap * sizeof *w->pages);
    tl_mem_free(w->a, w->counts, (size_t)w->cap * sizeof *w->counts);
    w->pages = NULL;
    w->counts = NULL;
    w->np = w->cap = 0;
}

/* Finishes the current copy region and moves its pages to the output list. */
static tl_status_t region_end(rw_t *w) {
    if (!w->b_active) return TL_OK;
    w->b_active = false;
    tl_run_t *r = NULL;
    tl_status_t st = tl_rb_finish(&w->b, 0, &r);
    for (uint32_t i = 0; st == TL_OK && r != NULL && i < r->npages; i++) {
        st = pl_add(w, r->pages[i], (uint32_t)(r->prefix[i + 1] - r->prefix[i]));
    }
    if (r != NULL) w->stats->pages_written += r->npages;
    tl_run_unref(r);
    return st;
}

static tl_status_t push(rw_t *w, const int64_t *ts, const uint64_t *h, uint32_t n) {
    if (n == 0) return TL_OK;
    if (!w->b_active) {
        tl_rb_init(&w->b, w->a, w->page_records);
        w->b.sums = w->sums;
        w->b_active = true;
    }
    if (n == 1) return tl_rb_push(&w->b, ts[0], h[0]); /* merge blocks are often one record */
    return tl_rb_push_many(&w->b, ts, h, n);
}

/* First index in [i, n) with ts > x (upper) or ts >= x (lower). */
static uint32_t upper(const int64_t *ts, uint32_t i, uint32_t n, int64_t x) {
    while (i < n) {
        uint32_t mid = i + (n - i) / 2;
        if (ts[mid] > x) n = mid;
        else i = mid + 1;
    }
    return i;
}

static uint32_t lower(const int64_t *ts, uint32_t i, uint32_t n, int64_t x) {
    while (i < n) {
        uint32_t mid = i + (n - i) / 2;
        if (ts[mid] >= x) n = mid;
        else i = mid + 1;
    }
    return i;
}

/* The columns of page pi of s's run: in place for a raw page; for a packed one, decoded whole
 * into s's buffers (once per page). Sets *st on ENOMEM and returns false. */
static bool cols(rw_t *w, rw_src_t *s, uint32_t pi, const int64_t **ts, const uint64_t **h,
                 tl_status_t *st) {
    const tl_page_t *p = s->r->pages[pi];
    if (!tl_page_packed(p)) {
        *ts = p->ts;
        *h = p->h;
        return true;
    }
    if (s->dcap < p->cap) {
        uint32_t cap = p->cap > w->page_records ? p->cap : w->page_records;
        int64_t *t = tl_mem_alloc(w->a, (size_t)cap * sizeof *t);
        uint64_t *v = tl_mem_alloc(w->a, (size_t)cap * sizeof *v);
        if (t == NULL || v == NULL) {
            tl_mem_free(w->a, t, (size_t)cap * sizeof *t);
            tl_mem_free(w->a, v, (size_t)cap * sizeof *v);
            *st = TL_ENOMEM;
            return false;
        }
        tl_mem_free(w->a, s->dts, (size_t)s->dcap * sizeof *s->dts);
        tl_mem_free(w->a, s->dh, (size_t)s->dcap * sizeof *s->dh);
        s->dts = t;
        s->dh = v;
        s->dcap = cap;
        s->dpage = UINT32_MAX;
    }
    if (s->dpage != pi) {
        tl_page_read(p, 0, p->cap, s->dts, s->dh);
        s->dpage = pi;
    }
    *ts = s->dts;
    *h = s->dh;
    return true;
}

/* Copies records [off, off + cnt) of page pi of s's run, minus the spans hidden for its wm. */
static tl_status_t emit(rw_t *w, rw_src_t *src, uint32_t pi, uint32_t off, uint32_t cnt) {
    const tl_run_t *r = src->r;
    tl_page_t *p = r->pages[pi];
    const int64_t *ts0;
    const uint64_t *h0;
    tl_status_t cst = TL_OK;
    if (!cols(w, src, pi, &ts0, &h0, &cst)) return cst;
    const int64_t *ts = ts0 + off;
    const uint64_t *h = h0 + off;
    const tl_tombs_t *t = w->tombs;
    if (!tl_tombs_hides_any(t, ts[0], ts[cnt - 1], r->wm)) return push(w, ts, h, cnt);
    uint32_t i = 0;
    tl_status_t st = TL_OK;
    while (i < cnt && st == TL_OK) {
        uint32_t f = tl_tombs_find(t, ts[i]);
        if (f >= t->n) return push(w, ts + i, h + i, cnt - i);
        const tl_tomb_t *fr = &t->v[f];
        uint32_t j;
        if (fr->lo > ts[i]) {
            j = lower(ts, i, cnt, fr->lo);
            st = push(w, ts + i, h + i, j - i);
        } else {
            j = upper(ts, i, cnt, fr->hi);
            if (fr->seq > r->wm) st = tl_drops_add(w->drops, p, off + i, j - i);
            else st = push(w, ts + i, h + i, j - i);
        }
        i = j;
    }
    return st;
}

static bool covered(const tl_tombs_t *t, int64_t lo, int64_t hi, uint64_t wm) {
    uint32_t f = tl_tombs_find(t, lo);
    if (t == NULL || f >= t->n) return false;
    const tl_tomb_t *fr = &t->v[f];
    return fr->lo <= lo && fr->hi >= hi && fr->seq > wm;
}

/* The head's timestamp (heap key): one record, so a packed page's is read without decoding
 * the page (tl_run_ts_at), unless the page is decoded already. */
static inline int64_t src_ts(const rw_src_t *s) {
    const tl_page_t *p = s->r->pages[s->page];
    uint64_t off = s->pos - s->r->prefix[s->page];
    if (!tl_page_packed(p)) return p->ts[off];
    return s->dpage == s->page ? s->dts[off] : tl_pcodec_ts_at(p->pv, (uint32_t)off);
}

/* Whole-page step for source s when its page is below every other head. Returns true when
 * the page was consumed (shared or dropped). */
static bool page_step(rw_t *w, rw_src_t *s, tl_status_t *st) {
    const tl_run_t *r = s->r;
    uint32_t pi = s->page;
    int64_t pmin = r->page_min[pi], pmax = r->page_max[pi];
    uint32_t cnt = (uint32_t)(r->prefix[pi + 1] - r->prefix[pi]);
    if (!tl_tombs_hides_any(w->tombs, pmin, pmax, r->wm)) {
        *st = region_end(w);
        if (*st == TL_OK) *st = pl_add(w, r->pages[pi], cnt);
        w->stats->pages_shared++;
    } else if (covered(w->tombs, pmin, pmax, r->wm)) {
        *st = tl_drops_add(w->drops, r->pages[pi], 0, cnt);
    } else {
        return false;
    }
    s->pos = r->prefix[pi + 1];
    s->page++;
    return true;
}

/* Min-heap of source indices keyed by (head ts, index): the index is the rank. */
typedef struct rw_heap {
    rw_src_t *src;
    uint32_t *v;
    uint32_t n;
} rw_heap_t;

static inline bool key_less(const rw_src_t *src, uint32_t a, uint32_t b) {
    return src[a].head < src[b].head || (src[a].head == src[b].head && a < b);
}

static void sift_down(rw_heap_t *h, uint32_t i) {
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < h->n && key_less(h->src, h->v[l], h->v[m])) m = l;
        if (l + 1 < h->n && key_less(h->src, h->v[l + 1], h->v[m])) m = l + 1;
        if (m == i) return;
        uint32_t t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

/* Re-keys the top source after it advanced (or removes it when exhausted). */
static void heap_fix_top(rw_heap_t *h) {
    rw_src_t *s = &h->src[h->v[0]];
    if (s->pos >= s->end) h->v[0] = h->v[--h->n];
    else s->head = src_ts(s);
    if (h->n > 0) sift_down(h, 0);
}

/* Key of the third-smallest source (the smallest head other than the top and t at heap slot
 * pt); false when there is none. */
static bool third_key(const rw_heap_t *h, uint32_t pt, int64_t *z, uint32_t *zr) {
    uint32_t cand[3] = {3 - pt, 2 * pt + 1, 2 * pt + 2};
    bool any = false;
    for (int c = 0; c < 3; c++) {
        if (cand[c] >= h->n) continue;
        uint32_t v = h->v[cand[c]];
        if (!any || key_less(h->src, v, *zr)) {
            *zr = v;
            any = true;
        }
    }
    if (any) *z = h->src[*zr].head;
    return any;
}

/* First index in [i, n) whose ts is not before x (upper: ts > x; lower: ts >= x), galloping
 * from i: O(log d) for an answer d slots away, so short merge blocks cost a few compares. */
static inline bool before_key(int64_t v, int64_t x, bool up) { return up ? v <= x : v < x; }

static inline uint32_t gallop(const int64_t *ts, uint32_t i, uint32_t n, int64_t x, bool up) {
    uint32_t ok = i, step = 1; /* every index < ok is before x */
    while (ok < n && before_key(ts[ok], x, up)) {
        uint32_t p = n - ok > step ? ok + step : n;
        if (p == n || !before_key(ts[p], x, up)) {
            return up ? upper(ts, ok + 1, p, x) : lower(ts, ok + 1, p, x);
        }
        ok = p;
        step <<= 1;
    }
    return ok;
}

/* End (exclusive) of the records of page slice [i, e) that sort before key (z, zr) for a
 * source of rank r. */
static inline uint32_t bound_below(const int64_t *ts, uint32_t i, uint32_t e, uint32_t r,
                                   int64_t z, uint32_t zr) {
    return r < zr ? upper(ts, i, e, z) : lower(ts, i, e, z);
}

/* Two-way block merge of the two smallest sources s (heap top) and t (heap slot pt), up to
 * the end of either current page and below the third source's head: alternately copies the
 * block of one source that sorts before the other's head (found by galloping), so a sparse
 * out-of-order source interleaving an in-order one costs a few compares per block. Only used
 * when no pending tombstone meets either page. Returns records merged (0 = not applicable). */
static uint32_t merge2(rw_t *w, rw_heap_t *hp, uint32_t si, uint32_t pt, tl_status_t *st) {
    uint32_t ti = hp->v[pt];
    rw_src_t *s = &hp->src[si], *t = &hp->src[ti];
    const tl_run_t *rs = s->r, *rt = t->r;
    if (tl_tombs_hides_any(w->tombs, rs->page_min[s->page], rs->page_max[s->page], rs->wm) ||
        tl_tombs_hides_any(w->tombs, rt->page_min[t->page], rt->page_max[t->page], rt->wm))
        return 0;
    struct { const int64_t *ts; const uint64_t *h; } cs, cq, *ps = &cs, *pq = &cq;
    if (!cols(w, s, s->page, &cs.ts, &cs.h, st) || !cols(w, t, t->page, &cq.ts, &cq.h, st)) {
        return 0;
    }
    uint64_t s0 = rs->prefix[s->page], t0 = rt->prefix[t->page];
    uint32_t i = (uint32_t)(s->pos - s0), j = (uint32_t)(t->pos - t0);
    uint64_t se = rs->prefix[s->page + 1] < s->end ? rs->prefix[s->page + 1] : s->end;
    uint64_t te = rt->prefix[t->page + 1] < t->end ? rt->prefix[t->page + 1] : t->end;
    uint32_t ie = (uint32_t)(se - s0), je = (uint32_t)(te - t0);
    int64_t z = INT64_MAX;
    uint32_t zr = UINT32_MAX;
    if (third_key(hp, pt, &z, &zr)) {
        ie = bound_below(ps->ts, i, ie, si, z, zr);
        je = bound_below(pq->ts, j, je, ti, z, zr);
    }
    bool s_first = si < ti; /* rank order on equal ts */
    uint32_t total = 0;
    while (i < ie && j < je) {
        uint32_t k = gallop(ps->ts, i, ie, pq->ts[j], s_first);
        if (k > i && (*st = push(w, ps->ts + i, ps->h + i, k - i)) != TL_OK) break;
        total += k - i;
        i = k;
        if (i == ie) break;
        k = gallop(pq->ts, j, je, ps->ts[i], !s_first);
        if (k > j && (*st = push(w, pq->ts + j, pq->h + j, k - j)) != TL_OK) break;
        total += k - j;
        j = k;
    }
    s->pos = s0 + i;
    t->pos = t0 + j;
    if (s->pos == rs->prefix[s->page + 1]) s->page++;
    if (t->pos == rt->prefix[t->page + 1]) t->page++;
    /* t sits at slot pt: re-key (or remove) it there, then the top. */
    if (t->pos >= t->end) hp->v[pt] = hp->v[--hp->n];
    else t->head = src_ts(t);
    if (pt < hp->n) sift_down(hp, pt);
    return total;
}

/* One merge step over the heap top; *done when every source is exhausted. */
static tl_status_t step(rw_t *w, rw_heap_t *hp, bool *done) {
    if (hp->n == 0) {
        *done = true;
        return TL_OK;
    }
    uint32_t si = hp->v[0], pt = 0;
    int64_t ti = -1, yt = 0;
    for (uint32_t c = 1; c <= 2 && c < hp->n; c++) {
        if (ti < 0 || key_less(hp->src, hp->v[c], (uint32_t)ti)) {
            ti = hp->v[c];
            pt = c;
        }
    }
    if (ti >= 0) yt = hp->src[ti].head;
    rw_src_t *s = &hp->src[si];
    const tl_run_t *r = s->r;
    uint32_t pi = s->page;
    uint64_t pstart = r->prefix[pi], pend = r->prefix[pi + 1];
    tl_status_t st = TL_OK;
    if (s->pos == pstart && pend <= s->end) {
        int64_t pmax = r->page_max[pi];
        bool below = ti < 0 || pmax < yt || (pmax == yt && si < ti);
        if (below && page_step(w, s, &st)) {
            heap_fix_top(hp);
            return st;
        }
    }
    uint64_t lim = pend < s->end ? pend : s->end;
    const int64_t *pts;
    const uint64_t *ph;
    if (!cols(w, s, pi, &pts, &ph, &st)) return st;
    uint32_t a = (uint32_t)(s->pos - pstart), b = (uint32_t)(lim - pstart);
    uint32_t k = b;
    if (ti >= 0) k = (int64_t)si < ti ? upper(pts, a, b, yt) : lower(pts, a, b, yt);
    TL_DASSERT(k > a);
    if (ti >= 0 && k - a < MERGE2_BLOCK && k < b && merge2(w, hp, si, pt, &st) > 0) {
        heap_fix_top(hp);
        return st;
    }
    st = emit(w, s, pi, a, k - a);
    s->pos = pstart + k;
    if (s->pos == pend) s->page++;
    heap_fix_top(hp);
    return st;
}

static tl_status_t finish(rw_t *w, uint64_t wm_out, tl_run_t **out) {
    tl_status_t st = region_end(w);
    if (st == TL_OK && w->np > 0) st = tl_run_from_pages(w->a, w->pages, w->counts, w->np,
                                                         wm_out, out);
    pl_free(w); /* the run took its own page references */
    return st;
}

tl_status_t tl_rewrite(const tl_allocator_t *a, uint32_t page_records, bool sums,
                       tl_run_t *const *runs,
                       uint32_t n, int64_t lo, int64_t hi, const tl_tombs_t *tombs,
                       uint64_t wm_out, tl_drops_t *drops, tl_rw_stats_t *stats,
                       tl_hold_t *hold, tl_run_t **out) {
    *out = NULL;
    rw_src_t *src = tl_mem_calloc(a, n ? n : 1, sizeof *src);
    uint32_t *hv = tl_mem_calloc(a, n ? n : 1, sizeof *hv);
    if (src == NULL || hv == NULL) {
        tl_mem_free(a, src, (n ? n : 1) * sizeof *src);
        tl_mem_free(a, hv, (n ? n : 1) * sizeof *hv);
        return TL_ENOMEM;
    }
    rw_heap_t hp = {src, hv, 0};
    for (uint32_t i = 0; i < n; i++) {
        const tl_run_t *r = runs[i];
        src[i].r = r;
        src[i].dpage = UINT32_MAX;
        if (r == NULL) continue;
        src[i].pos = tl_run_lower_bound(r, lo);
        src[i].end = tl_run_upper_bound(r, hi);
        if (src[i].pos >= src[i].end) continue;
        src[i].page = tl_run_page_of(r, src[i].pos);
        src[i].head = src_ts(&src[i]);
        hv[hp.n++] = i;
    }
    for (uint32_t i = hp.n / 2; i-- > 0;) sift_down(&hp, i);
    rw_t w;
    memset(&w, 0, sizeof w);
    w.a = a;
    w.page_records = page_records;
    w.sums = sums;
    w.tombs = tombs;
    w.drops = drops;
    w.stats = stats;
    tl_status_t st = TL_OK;
    bool done = false;
    while (st == TL_OK && !done) {
        st = step(&w, &hp, &done);
        tl_hold_point(hold);
    }
    if (st == TL_OK) {
        st = finish(&w, wm_out, out);
    } else {
        if (w.b_active) tl_rb_abort(&w.b);
        pl_free(&w);
    }
    for (uint32_t i = 0; i < n; i++) {
        tl_mem_free(a, src[i].dts, (size_t)src[i].dcap * sizeof *src[i].dts);
        tl_mem_free(a, src[i].dh, (size_t)src[i].dcap * sizeof *src[i].dh);
    }
    tl_mem_free(a, src, (n ? n : 1) * sizeof *src);
    tl_mem_free(a, hv, (n ? n : 1) * sizeof *hv);
    return st;
}
