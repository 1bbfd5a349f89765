/*
 * run.c — immutable sorted runs of pages, and the builder that produces them.
 *
 * Structure: one allocation per run, laid out as
 *     [tl_run_t][tl_page_t *pages[P]][uint64_t *page_h[P]][view *page_v[P]][int64_t page_min[P]]
 *     [int64_t page_max[P]][uint64_t prefix[P + 1]][uint16_t tab[P][TL_TAB]]
 * so a search touches the contiguous fence arrays and search tables only (a few hundred KB
 * for millions of records: they stay in cache while the pages do not), and the run is freed
 * with one sized free computed from npages. tab holds a copy of each page's search table
 * (page.h) for the count this run uses, or TAB_NONE in its first entry when the page has
 * none; a borrowed run has no tables at all (tab NULL: the active memtable is being
 * written). Pages are referenced, not owned: several runs (a snapshot view, a compacted
 * segment and the segment it replaced) may hold the same page. A borrowed run
 * (tl_run_view_borrowed: a snapshot's view of the active directory it pins) takes no page
 * references at all, so building and dropping that view costs no atomic operation per page.
 *
 * Invariants (checked by the builders, relied on by every reader):
 *   - npages >= 1 and n = prefix[npages] >= 1 (the empty run is NULL, never a run);
 *   - page i contributes prefix[i+1] - prefix[i] >= 1 records: the first ones of pages[i];
 *   - page_min[i] / page_max[i] are the first / last of those records' ts; ts is
 *     non-decreasing across the whole run; ts_min = page_min[0], ts_max = page_max[P-1].
 *   - equal timestamps keep insertion order (the builder appends, never reorders).
 *
 * Complexity: lower/upper bound O(log P + log page_records): an interpolated gallop over the
 * page_max fence (the fences of a time series are evenly spread, so this usually reads one
 * line of page_max; never worse than twice a binary search), then, inside the page, the
 * page's search table (one cached line) brackets the answer within about page_records /
 * TL_TAB records and an interpolation inside the bracket usually lands on the answer's line:
 * one cold line of the ts column per search, page headers never loaded. Without a table, an
 * interpolation over the whole page and a gallop. seek_lower_h prefetches the handle line at
 * the in-page guess before the ts column is read (page_h[] gives its address without the
 * page header), so the two cold misses of a point lookup overlap.
 * page_of O(log P) over prefix; count = two bounds.
 *
 * The builder appends records into pages of page_records, copying with memcpy in bulk
 * (push_many, push_page); it shares whole pages by reference when that keeps the layout
 * aligned (see tl_rb_push_page in run.h for the rule). Its last, partly filled page is
 * shrunk to exact size on finish. All errors are sticky: after ENOMEM every push is a no-op
 * and finish/abort release everything taken.
 */
#include "run.h"

/* ---- run objects ---- */

#define TAB_NONE TL_RUN_TAB_NONE

static size_t run_bytes(uint32_t npages, bool tab, bool sum) {
    const size_t per = sizeof(tl_page_t *) + sizeof(uint64_t *) + sizeof(void *) +
                       2 * sizeof(int64_t) + sizeof(uint64_t) +
                       (tab ? TL_TAB * sizeof(uint16_t) : 0) + (sum ? sizeof(tl_sum_t) : 0);
    if ((size_t)npages >= (SIZE_MAX - sizeof(tl_run_t)) / per) return 0;
    return sizeof(tl_run_t) + (size_t)npages * per + sizeof(uint64_t);
}

/* True when some page can carry a search table (else the run keeps no tab array). */
static bool any_tab(tl_page_t *const *pages, uint32_t npages) {
    for (uint32_t i = 0; i < npages; i++) {
        if (pages[i]->tab != NULL) return true;
    }
    return false;
}

/* True when some page carries a value summary (else the run keeps no sum array). */
static bool any_sum(tl_page_t *const *pages, uint32_t npages) {
    for (uint32_t i = 0; i < npages; i++) {
        if (tl_page_sum(pages[i]) != NULL) return true;
    }
    return false;
}

/* Allocates a run shell for npages pages (arrays wired, contents unset; tab and sum NULL
 * unless asked for). The summaries come first: 8-byte fields, while tab is 2-byte. */
static tl_run_t *run_alloc(const tl_allocator_t *a, uint32_t npages, bool tab, bool sum) {
    size_t bytes = run_bytes(npages, tab, sum);
    if (bytes == 0) return NULL;
    tl_run_t *r = tl_mem_alloc(a, bytes);
    if (r == NULL) return NULL;
    atomic_init(&r->refs, 1);
    r->npages = npages;
    r->cover = (tl_cover_t){0, 0};
    r->borrowed = false;
    r->alloc = a;
    r->pages = (tl_page_t **)(void *)(r + 1);
    r->page_h = (uint64_t **)(void *)(r->pages + npages);
    r->page_v = (const tl_pcodec_view_t **)(void *)(r->page_h + npages);
    r->page_min = (int64_t *)(void *)(r->page_v + npages);
    r->page_max = r->page_min + npages;
    r->prefix = (uint64_t *)(void *)(r->page_max + npages);
    r->sum = sum ? (tl_sum_t *)(void *)(r->prefix + npages + 1) : NULL;
    void *after = sum ? (void *)(r->sum + npages) : (void *)(r->prefix + npages + 1);
    r->tab = tab ? (uint16_t *)after : NULL;
    return r;
}

/* The search table of the first `count` records of p into dst, building the page's table
 * first when it describes another count (if `build`); TAB_NONE when the page has none. */
static void copy_tab(uint16_t *dst, tl_page_t *p, uint32_t count, bool build) {
    if (build && p->tab != NULL && p->tab_n != count && !tl_page_packed(p)) {
        tl_page_tab_build(p, count); /* a packed page's table was built when it was packed */
    }
    if (p->tab != NULL && p->tab_n == count) memcpy(dst, p->tab, TL_TAB * sizeof(uint16_t));
    else dst[0] = TAB_NONE;
}

/* The summary of the first `count` records of p into dst (n = 0 when p has none for them). */
static void copy_sum(tl_sum_t *dst, const tl_page_t *p, uint32_t count) {
    const tl_sum_t *s = tl_page_sum(p);
    if (s != NULL && s->n == count) *dst = *s;
    else memset(dst, 0, sizeof *dst);
}

/* Fills fences, prefix, search tables and totals from pages[] and counts[] (pages already
 * stored). A page whose table describes another count gets one built here (the page is
 * immutable from now on for this count; readers only ever read the run's copy). */
static void run_fill(tl_run_t *r, const uint32_t *counts, uint64_t wm, bool build,
                     const tl_page_known_t *known) {
    uint32_t kn = known != NULL ? known->n : 0;
    uint64_t acc = 0;
    r->prefix[0] = 0;
    for (uint32_t i = 0; i < r->npages; i++) {
        tl_page_t *p = r->pages[i];
        if (i < kn) { /* a raw page of exactly counts[i] records when recorded: header unread */
            TL_DASSERT(counts[i] >= 1 && counts[i] <= p->cap && p->pv == NULL);
            TL_DASSERT(known->h[i] == p->h);
            r->page_h[i] = known->h[i];
            r->page_v[i] = NULL;
            if (r->tab != NULL) {
                memcpy(r->tab + (size_t)i * TL_TAB, known->tab + (size_t)i * TL_TAB,
                       TL_TAB * sizeof *r->tab);
            }
            if (r->sum != NULL) r->sum[i] = known->sum[i];
            r->page_min[i] = known->min[i];
            r->page_max[i] = known->max[i];
        } else {
            TL_ASSERT(counts[i] >= 1 && counts[i] <= p->cap);
            r->page_h[i] = p->h; /* NULL for a packed page: how readers tell, header unread */
            r->page_v[i] = p->pv;
            if (r->tab != NULL) copy_tab(r->tab + (size_t)i * TL_TAB, p, counts[i], build);
            if (r->sum != NULL) copy_sum(&r->sum[i], p, counts[i]);
            if (p->pv != NULL) {
                TL_ASSERT(counts[i] == p->cap); /* a packed page is only ever used whole */
                r->page_min[i] = p->pv->ts_first;
                r->page_max[i] = p->pv->ts_last;
            } else {
                r->page_min[i] = p->ts[0];
                r->page_max[i] = p->ts[counts[i] - 1];
            }
        }
        TL_DASSERT(i == 0 || r->page_min[i] >= r->page_max[i - 1]);
        acc += counts[i];
        r->prefix[i + 1] = acc;
    }
    r->n = acc;
    r->ts_min = r->page_min[0];
    r->ts_max = r->page_max[r->npages - 1];
    r->wm = wm;
}

void tl_run_unref(tl_run_t *r) {
    if (r == NULL) return;
    uint32_t old = atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel);
    TL_ASSERT(old >= 1);
    if (old != 1) return;
    for (uint32_t i = 0; !r->borrowed && i < r->npages; i++) tl_page_unref(r->pages[i]);
    tl_mem_free(r->alloc, r, run_bytes(r->npages, r->tab != NULL, r->sum != NULL));
}

static tl_status_t from_pages(const tl_allocator_t *a, tl_page_t *const *pages,
                              const uint32_t *counts, uint32_t npages, uint64_t wm, bool build,
                              const tl_page_known_t *known, bool adopt, tl_run_t **out) {
    *out = NULL;
    if (npages == 0) return TL_OK;
    uint32_t kn = known != NULL ? known->n : 0;
    /* Whether some page has a summary or can carry a table: the known ones say so without
     * their pages being read */
    bool sum = false;
    for (uint32_t i = 0; i < kn && !sum; i++) sum = known->sum[i].n != 0;
    if (!sum) sum = any_sum(pages + kn, npages - kn);
    bool tab = (kn > 0 && known->tabs) || any_tab(pages + kn, npages - kn);
    tl_run_t *r = run_alloc(a, npages, tab, sum);
    if (r == NULL) return TL_ENOMEM;
    for (uint32_t i = 0; i < npages; i++) {
        if (!adopt) tl_page_ref(pages[i]);
        r->pages[i] = pages[i];
    }
    run_fill(r, counts, wm, build, known);
    *out = r;
    return TL_OK;
}

tl_status_t tl_run_from_pages(const tl_allocator_t *a, tl_page_t *const *pages,
                              const uint32_t *counts, uint32_t npages, uint64_t wm,
                              tl_run_t **out) {
    return from_pages(a, pages, counts, npages, wm, true, NULL, false, out);
}

tl_status_t tl_run_from_pages_as_is(const tl_allocator_t *a, tl_page_t *const *pages,
                                    const uint32_t *counts, uint32_t npages, uint64_t wm,
                                    const tl_page_known_t *known, bool adopt, tl_run_t **out) {
    TL_ASSERT(known == NULL || known->n <= npages);
    return from_pages(a, pages, counts, npages, wm, false, known, adopt, out);
}

tl_status_t tl_run_rewrap(const tl_allocator_t *a, const tl_run_t *r, uint64_t wm,
                          tl_run_t **out) {
    *out = NULL;
    if (r->borrowed) { /* its tab was never copied: built anew, pages referenced */
        uint32_t *counts = tl_mem_alloc(a, (size_t)r->npages * sizeof *counts);
        if (counts == NULL) return TL_ENOMEM;
        for (uint32_t i = 0; i < r->npages; i++) counts[i] = tl_run_page_count(r, i);
        tl_status_t st = from_pages(a, r->pages, counts, r->npages, wm, true, NULL, false, out);
        tl_mem_free(a, counts, (size_t)r->npages * sizeof *counts);
        return st;
    }
    /* The arrays as they are, one copy: re-reading each page's bounds, table and summary from
     * the page (from_pages) touched two or three cold lines a page, which a seal paid for
     * every head run on the writer's thread (3-11 us of 10-12 runs, the bench data). */
    bool tab = r->tab != NULL, sum = r->sum != NULL;
    tl_run_t *c = run_alloc(a, r->npages, tab, sum);
    if (c == NULL) return TL_ENOMEM;
    memcpy(c + 1, r + 1, run_bytes(r->npages, tab, sum) - sizeof *c); /* same layout */
    for (uint32_t i = 0; i < c->npages; i++) tl_page_ref(c->pages[i]);
    c->n = r->n;
    c->ts_min = r->ts_min;
    c->ts_max = r->ts_max;
    c->wm = wm;
    *out = c;
    return TL_OK;
}

tl_status_t tl_run_remap(const tl_allocator_t *a, const tl_run_t *r, tl_run_remap_fn fn,
                         void *ctx, tl_run_t **out) {
    *out = NULL;
    TL_ASSERT(!r->borrowed);
    bool tab = r->tab != NULL;
    tl_run_t *c = NULL;
    tl_status_t st = TL_OK;
    for (uint32_t i = 0; i < r->npages && st == TL_OK; i++) {
        tl_page_t *np = NULL;
        st = fn(ctx, r->pages[i], tl_run_page_count(r, i), &np);
        if (st != TL_OK || np == NULL) continue;
        if (c == NULL && (c = run_alloc(a, r->npages, tab, true)) != NULL) {
            for (uint32_t k = 0; k < r->npages; k++) c->pages[k] = NULL;
        }
        if (c == NULL) {
            tl_page_unref(np);
            st = TL_ENOMEM;
            break;
        }
        c->pages[i] = np;
    }
    if (c == NULL) return st; /* nothing replaced (or the first replacement failed) */
    if (st != TL_OK) {
        for (uint32_t k = 0; k < r->npages; k++) tl_page_unref(c->pages[k]);
        tl_mem_free(a, c, run_bytes(r->npages, tab, true));
        return st;
    }
    for (uint32_t i = 0; i < r->npages; i++) {
        if (c->pages[i] == NULL) {
            c->pages[i] = r->pages[i];
            tl_page_ref(c->pages[i]);
        }
        c->page_h[i] = c->pages[i]->h;
        c->page_v[i] = c->pages[i]->pv;
        if (r->sum != NULL && c->pages[i] == r->pages[i]) c->sum[i] = r->sum[i];
        else copy_sum(&c->sum[i], c->pages[i], tl_run_page_count(r, i));
    }
    /* Same records: fences, prefix and search tables are r's. */
    memcpy(c->page_min, r->page_min, (size_t)r->npages * sizeof *r->page_min);
    memcpy(c->page_max, r->page_max, (size_t)r->npages * sizeof *r->page_max);
    memcpy(c->prefix, r->prefix, ((size_t)r->npages + 1) * sizeof *r->prefix);
    if (tab) memcpy(c->tab, r->tab, (size_t)r->npages * TL_TAB * sizeof *r->tab);
    c->n = r->n;
    c->ts_min = r->ts_min;
    c->ts_max = r->ts_max;
    c->wm = r->wm;
    c->cover = r->cover;
    *out = c;
    return TL_OK;
}

tl_status_t tl_run_view_borrowed(const tl_allocator_t *a, tl_page_t *const *pages,
                                 uint32_t page_records, uint64_t n, uint64_t wm, tl_run_t **out) {
    *out = NULL;
    TL_ASSERT(n >= 1 && page_records >= 1);
    uint64_t np = (n + page_records - 1) / page_records;
    if (np > UINT32_MAX) return TL_EOVERFLOW;
    tl_run_t *r = run_alloc(a, (uint32_t)np, false, false);
    if (r == NULL) return TL_ENOMEM;
    r->borrowed = true; /* and no tables: the writer may still be filling these pages */
    uint64_t acc = 0;
    r->prefix[0] = 0;
    for (uint32_t i = 0; i < r->npages; i++) {
        tl_page_t *p = pages[i];
        uint64_t cnt = n - acc < page_records ? n - acc : page_records;
        TL_ASSERT(cnt <= p->cap);
        r->pages[i] = p;
        r->page_h[i] = p->h;
        r->page_v[i] = NULL;
        r->page_min[i] = p->ts[0];
        r->page_max[i] = p->ts[cnt - 1];
        TL_DASSERT(i == 0 || r->page_min[i] >= r->page_max[i - 1]);
        acc += cnt;
        r->prefix[i + 1] = acc;
    }
    r->n = acc;
    r->ts_min = r->page_min[0];
    r->ts_max = r->page_max[r->npages - 1];
    r->wm = wm;
    *out = r;
    return TL_OK;
}

/* ---- searches ---- */

/* First page whose page_max >= x (lower) / > x (upper); npages if none.
 * The page after the interpolated fence is checked first against its own fence and its left
 * neighbour's (then the interpolated page itself): independent loads and a branch that is
 * almost always taken, instead of the window search's chain of dependent loads. That chain
 * stood between a lookup and its one cold miss. (Checking only the interpolated page missed
 * ~3 lookups in 4: it is the page whose fence is just below x.) */
static inline uint32_t fence_search(const tl_run_t *r, int64_t x, bool upper) {
    const int64_t *f = r->page_max;
    uint32_t n = r->npages;
    if (tl_ts_before(f[0], x, upper) && !tl_ts_before(r->ts_max, x, upper)) {
        /* The answer is in [1, n - 1] (so n >= 2). The guess is the fence interpolated at or
         * below x; with evenly spaced fences the first fence at or above x is the next one. */
        uint32_t g = tl_ts_interp_guess(n, x, f[0], r->ts_max);
        uint32_t c = g + 1 < n ? g + 1 : g;
        if (!tl_ts_before(f[c], x, upper) && tl_ts_before(f[c - 1], x, upper)) return c;
        if (!tl_ts_before(f[g], x, upper) && (g == 0 || tl_ts_before(f[g - 1], x, upper))) {
            return g;
        }
        return upper ? tl_ts_upper_from(f, n, g, x) : tl_ts_lower_from(f, n, g, x);
    }
    return upper ? tl_ts_upper_interp(f, n, x, f[0], r->ts_max)
                 : tl_ts_lower_interp(f, n, x, f[0], r->ts_max);
}

/* Page p's search table in r, or NULL. */
static inline const uint16_t *page_tab(const tl_run_t *r, uint32_t p) {
    if (r->tab == NULL) return NULL;
    const uint16_t *t = r->tab + (size_t)p * TL_TAB;
    return t[0] == TAB_NONE ? NULL : t;
}

/* Starts the cold misses of a lookup at once: the ts and handle lines at the guess and one
 * line (8 records) either side, where a slightly-off guess or a block ends. The lines are
 * independent, so they load in parallel instead of one after another as the search and the
 * copy reach them. */
static inline void prefetch_around(const int64_t *ts, const uint64_t *h, uint32_t g,
                                   uint32_t cnt) {
    __builtin_prefetch(ts + g);
    __builtin_prefetch(h + g);
    if (g >= 8) {
        __builtin_prefetch(ts + g - 8);
        __builtin_prefetch(h + g - 8);
    }
    if (g + 8 < cnt) {
        __builtin_prefetch(ts + g + 8);
        __builtin_prefetch(h + g + 8);
    }
}

/* The bracket [*lo, *hi] of records holding both bounds of x inside packed page p of r, from
 * the run's copy of the page's search table (usually one miniblock wide; the whole page
 * without a table), and a guess in it (the page interpolation without one; only prefetches
 * use it, so it need not be exact). Reads nothing of the page: the record count is the
 * run's (a packed page is only ever shared whole, so it is the blob's n). Then the cold lines
 * of the search are prefetched at once, from the page's address alone: the view (which the
 * codec reads first) and the guessed miniblock's fence and meta word. They load in parallel
 * instead of one after another as the codec reaches them. */
static uint32_t packed_bracket(const tl_run_t *r, uint32_t p, int64_t x, uint32_t *lo,
                               uint32_t *hi) {
    uint32_t cnt = tl_run_page_count(r, p);
    int64_t kmin = r->page_min[p], kmax = r->page_max[p];
    const uint16_t *tab = page_tab(r, p);
    uint32_t g;
    *lo = 0;
    *hi = cnt;
    if (tab != NULL && kmin <= x && x <= kmax) {
        uint64_t span = (uint64_t)kmax - (uint64_t)kmin, d = (uint64_t)x - (uint64_t)kmin;
        g = tl_tab_bracket(tab, cnt, d, span, tl_ts_frac(d, span), lo, hi);
    } else {
        g = tl_ts_interp_guess(cnt, x, kmin, kmax);
    }
    const char *v = (const char *)r->page_v[p];
    for (size_t off = 0; off < sizeof(tl_pcodec_view_t); off += 64) __builtin_prefetch(v + off);
    tl_pcodec_prefetch_ts(tl_page_packed_blob(r->pages[p]), cnt, g);
    return g;
}

/* The bound of x inside packed page p of r: the codec's search inside the table's bracket
 * (one or two fences read, one miniblock decoded). With keep (lower bounds only), the decoded
 * miniblock is left there and its index in *mb (tl_run_seek_lower_keep). */
static inline uint32_t seek_packed(const tl_run_t *r, uint32_t p, int64_t x, bool upper,
                                   int64_t *keep, uint32_t *mb) {
    int64_t kmin = r->page_min[p], kmax = r->page_max[p];
    if (!tl_ts_before(kmin, x, upper)) return 0;
    if (tl_ts_before(kmax, x, upper)) return tl_run_page_count(r, p);
    uint32_t lo, hi;
    (void)packed_bracket(r, p, x, &lo, &hi);
    const tl_pcodec_view_t *v = r->page_v[p];
    TL_DASSERT(v->n == tl_run_page_count(r, p));
    if (upper) return tl_pcodec_upper_in(v, x, lo, hi);
    return keep != NULL ? tl_pcodec_lower_in_keep(v, x, lo, hi, keep, mb)
                        : tl_pcodec_lower_in(v, x, lo, hi);
}

/* The three seeks: the page by its fences, then the record by the page's search table (or,
 * without one, an interpolation guess and a search from it). prefetch_h also starts the
 * handle line at the guess, for a reader about to copy handles. Everything is inline in one
 * function and the page interpolation divides once for both the prefetch guess and the table
 * bucket: a cold lookup's misses wait on this path, and a short path lets the CPU run ahead
 * into the next lookup while they are in flight. */
static inline tl_run_pos_t seek_in(const tl_run_t *r, uint32_t p, int64_t x, bool upper,
                                   bool prefetch_h, int64_t *keep, uint32_t *mb) {
    if (r->page_h[p] == NULL) return (tl_run_pos_t){p, seek_packed(r, p, x, upper, keep, mb)};
    const int64_t *ts = tl_page_ts(r->pages[p]);
    const uint64_t *h = prefetch_h ? r->page_h[p] : NULL;
    uint32_t cnt = tl_run_page_count(r, p);
    int64_t kmin = r->page_min[p], kmax = r->page_max[p];
    if (!tl_ts_before(kmin, x, upper)) {
        if (h != NULL) __builtin_prefetch(h);
        return (tl_run_pos_t){p, 0};
    }
    /* kmin is before the answer and kmax is not (the fence search chose p by it), so the span
     * is not empty and the answer lies in [1, cnt - 1]. */
    TL_DASSERT(!tl_ts_before(kmax, x, upper) && kmax > kmin);
    uint64_t span = (uint64_t)kmax - (uint64_t)kmin, d = (uint64_t)x - (uint64_t)kmin;
    double frac = tl_ts_frac(d, span);
    uint32_t g = (uint32_t)(frac * (double)(cnt - 1)); /* frac <= 1: g <= cnt - 1 */
    /* A point read starts its cold misses now, at the whole-page interpolation, instead of
     * after the table bracket: when the table line has left the cache, the data lines are
     * already on their way (measured: ~8% off a cold lookup). */
    if (h != NULL) prefetch_around(ts, h, g, cnt);
    const uint16_t *tab = page_tab(r, p);
    uint32_t off;
    if (tab != NULL) {
        uint32_t lo, hi, tg = tl_tab_bracket(tab, cnt, d, span, frac, &lo, &hi);
        if (h != NULL) __builtin_prefetch(h + tg); /* where the page guess was off by a line */
        off = tl_tab_search(ts, lo, hi, tg, x, upper);
    } else {
        off = upper ? tl_ts_upper_from(ts, cnt, g, x) : tl_ts_lower_from(ts, cnt, g, x);
    }
    return (tl_run_pos_t){p, off};
}

static inline tl_run_pos_t seek(const tl_run_t *r, int64_t x, bool upper, bool prefetch_h,
                                int64_t *keep, uint32_t *mb) {
    uint32_t p = fence_search(r, x, upper);
    if (p == r->npages) return (tl_run_pos_t){p, 0};
    return seek_in(r, p, x, upper, prefetch_h, keep, mb);
}

tl_run_pos_t tl_run_seek_lower(const tl_run_t *r, int64_t x) {
    return seek(r, x, false, false, NULL, NULL);
}

tl_run_pos_t tl_run_seek_lower_h(const tl_run_t *r, int64_t x) {
    return seek(r, x, false, true, NULL, NULL);
}

tl_run_pos_t tl_run_seek_lower_keep(const tl_run_t *r, int64_t x, int64_t *mb_out,
                                    uint32_t *mb) {
    *mb = UINT32_MAX; /* stays so unless a packed page's search decodes a miniblock */
    return seek(r, x, false, false, mb_out, mb);
}

tl_run_pos_t tl_run_seek_upper(const tl_run_t *r, int64_t x) {
    return seek(r, x, true, false, NULL, NULL);
}

/* Records of r before position p. */
static inline uint64_t pos_index(const tl_run_t *r, tl_run_pos_t p) {
    return r->prefix[p.page] + p.off;
}

/* How many records equal x start at p, the first record >= x of a raw page: a few compares
 * (the usual answer is 0 or 1); a long run of x is counted by a second seek, not walked. */
static uint64_t count_raw(const tl_run_t *r, tl_run_pos_t p, int64_t x) {
    enum { SHORT = 8 };
    const int64_t *col = tl_page_ts(r->pages[p.page]);
    uint32_t lim = tl_run_page_count(r, p.page);
    uint32_t stop = lim - p.off > SHORT ? p.off + SHORT : lim, e = p.off;
    while (e < stop && col[e] == x) e++;
    bool ended = e < stop || (stop < lim ? col[stop] != x
                                         : p.page + 1 == r->npages || r->page_min[p.page + 1] != x);
    if (ended) return e - p.off;
    return pos_index(r, tl_run_seek_upper(r, x)) - pos_index(r, p);
}

/* The packed page's half of tl_run_seek_equal: both bounds from one miniblock decode inside
 * the table's bracket, with the lines that locate the first match's handle prefetched as soon
 * as the view is in (the caller copies it next; those misses then overlap the ts decode). */
static tl_run_pos_t equal_packed(const tl_run_t *r, uint32_t p, int64_t x, uint64_t *eq) {
    uint32_t cnt = tl_run_page_count(r, p), lo, hi, first;
    *eq = 0;
    if (x < r->page_min[p]) return (tl_run_pos_t){p, 0}; /* between pages: no match */
    uint32_t g = packed_bracket(r, p, x, &lo, &hi);
    const tl_pcodec_view_t *v = r->page_v[p];
    TL_DASSERT(v->n == cnt);
    tl_pcodec_prefetch_h(v, g);
    uint32_t k = tl_pcodec_equal_in(v, x, lo, hi, &first);
    tl_run_pos_t pos = {p, first};
    *eq = k;
    if (k > 0 && first + k == cnt && p + 1 < r->npages && r->page_min[p + 1] == x) {
        *eq = pos_index(r, tl_run_seek_upper(r, x)) - pos_index(r, pos); /* x goes on */
    }
    return pos;
}

tl_run_pos_t tl_run_seek_equal(const tl_run_t *r, int64_t x, uint64_t *eq) {
    uint32_t p = fence_search(r, x, false);
    *eq = 0;
    if (p == r->npages) return (tl_run_pos_t){p, 0};
    if (r->page_h[p] == NULL) return equal_packed(r, p, x, eq);
    tl_run_pos_t pos = seek_in(r, p, x, false, true, NULL, NULL);
    *eq = count_raw(r, pos, x);
    return pos;
}

uint64_t tl_run_lower_bound(const tl_run_t *r, int64_t x) {
    tl_run_pos_t pos = tl_run_seek_lower(r, x);
    return r->prefix[pos.page] + pos.off;
}

uint64_t tl_run_upper_bound(const tl_run_t *r, int64_t x) {
    tl_run_pos_t pos = tl_run_seek_upper(r, x);
    return r->prefix[pos.page] + pos.off;
}

uint32_t tl_run_page_of(const tl_run_t *r, uint64_t i) {
    TL_DASSERT(i < r->n);
    /* Largest p with prefix[p] <= i: branch-free search over prefix[1 .. npages]. */
    const uint64_t *base = r->prefix + 1;
    uint32_t len = r->npages;
    while (len > 1) {
        uint32_t half = len / 2;
        base = (base[half] <= i) ? base + half : base;
        len -= half;
    }
    return (uint32_t)(base - (r->prefix + 1)) + (uint32_t)(*base <= i);
}

int64_t tl_run_ts_at(const tl_run_t *r, uint64_t i) {
    uint32_t p = tl_run_page_of(r, i);
    const tl_page_t *pg = r->pages[p];
    uint32_t off = (uint32_t)(i - r->prefix[p]);
    return pg->pv != NULL ? tl_pcodec_ts_at(pg->pv, off) : pg->ts[off];
}

uint64_t tl_run_h_at(const tl_run_t *r, uint64_t i) {
    uint32_t p = tl_run_page_of(r, i);
    const tl_page_t *pg = r->pages[p];
    uint32_t off = (uint32_t)(i - r->prefix[p]);
    return pg->pv != NULL ? tl_pcodec_h_at(pg->pv, off) : pg->h[off];
}

uint64_t tl_run_count(const tl_run_t *r, int64_t lo, int64_t hi) {
    if (r == NULL || lo > hi || hi < r->ts_min || lo > r->ts_max) return 0;
    tl_run_pos_t pl = {0, 0};
    if (lo > r->ts_min) pl = tl_run_seek_lower(r, lo); /* lo <= ts_max: a real position */
    uint64_t a = r->prefix[pl.page] + pl.off;
    if (hi >= r->ts_max) return r->n - a;
    if (hi < r->page_max[pl.page] && r->page_h[pl.page] != NULL) {
        /* Short ranges end in the page where they start: search from the lower bound, whose
         * cache line is already loaded, instead of a second search from the top. */
        const int64_t *ts = tl_page_ts(r->pages[pl.page]);
        uint32_t cnt = tl_run_page_count(r, pl.page);
        if (pl.off == cnt || ts[pl.off] > hi) return 0;
        uint32_t up = tl_ts_upper_interp(ts + pl.off, cnt - pl.off, hi, ts[pl.off],
                                         r->page_max[pl.page]);
        return up;
    }
    return tl_run_upper_bound(r, hi) - a;
}

/* ---- builder ---- */

void tl_rb_init(tl_run_builder_t *b, const tl_allocator_t *a, uint32_t page_records) {
    TL_ASSERT(page_records >= 1);
    memset(b, 0, sizeof(*b));
    b->alloc = a;
    b->page_records = page_records;
    b->last_ts = INT64_MIN;
    b->err = TL_OK;
}

/* Forgets everything pushed (after finish took it, or abort released it); keeps counters. */
static void rb_reset(tl_run_builder_t *b) {
    tl_mem_free(b->alloc, b->pages, (size_t)b->cap_pages * sizeof(*b->pages));
    tl_mem_free(b->alloc, b->counts, (size_t)b->cap_pages * sizeof(*b->counts));
    b->pages = NULL;
    b->counts = NULL;
    b->cur = NULL;
    b->npages = b->cap_pages = 0;
    b->n = 0;
    b->last_ts = INT64_MIN;
    b->err = TL_OK;
}

/* Room for one more entry in pages[]/counts[] (doubling). Sets the sticky error. */
static tl_status_t rb_reserve(tl_run_builder_t *b) {
    if (b->npages < b->cap_pages) return TL_OK;
    uint32_t cap = b->cap_pages ? b->cap_pages * 2 : 8;
    if (cap <= b->cap_pages) return b->err = TL_EOVERFLOW;
    tl_page_t **pages = tl_mem_alloc(b->alloc, (size_t)cap * sizeof(*pages));
    uint32_t *counts = tl_mem_alloc(b->alloc, (size_t)cap * sizeof(*counts));
    if (pages == NULL || counts == NULL) {
        tl_mem_free(b->alloc, pages, (size_t)cap * sizeof(*pages));
        tl_mem_free(b->alloc, counts, (size_t)cap * sizeof(*counts));
        return b->err = TL_ENOMEM;
    }
    if (b->npages) {
        memcpy(pages, b->pages, (size_t)b->npages * sizeof(*pages));
        memcpy(counts, b->counts, (size_t)b->npages * sizeof(*counts));
    }
    tl_mem_free(b->alloc, b->pages, (size_t)b->cap_pages * sizeof(*b->pages));
    tl_mem_free(b->alloc, b->counts, (size_t)b->cap_pages * sizeof(*b->counts));
    b->pages = pages;
    b->counts = counts;
    b->cap_pages = cap;
    return TL_OK;
}

/* Moves the page being filled into pages[]. A short page is first copied to its exact size
 * unless b->whole_pages (best effort: if that copy fails the full-capacity page is kept, which
 * is still valid). */
static tl_status_t rb_seal_cur(tl_run_builder_t *b) {
    if (b->cur == NULL) return TL_OK;
    if (rb_reserve(b) != TL_OK) return b->err;
    tl_page_t *p = b->cur;
    if (p->n < p->cap && !b->whole_pages) {
        tl_page_t *exact = tl_page_copy(b->alloc, p, p->n);
        if (exact != NULL) {
            tl_page_unref(p);
            p = exact;
        }
    }
    if (p->tab != NULL && p->tab_n != p->n) tl_page_tab_build(p, p->n); /* still in cache */
    if (b->sums && p->sum_n != p->n) tl_page_sum_build(p, p->n);
    b->pages[b->npages] = p;
    b->counts[b->npages] = p->n;
    b->npages++;
    b->cur = NULL;
    return TL_OK;
}

/* Ensures a page with free space is being filled. */
static tl_status_t rb_need_cur(tl_run_builder_t *b) {
    if (b->cur != NULL) return TL_OK;
    b->cur = tl_page_new(b->alloc, b->page_records);
    if (b->cur == NULL) return b->err = TL_ENOMEM;
    b->pages_written++;
    return TL_OK;
}

tl_status_t tl_rb_push(tl_run_builder_t *b, int64_t ts, uint64_t h) {
    if (b->err != TL_OK) return b->err;
    TL_ASSERT(b->n == 0 || ts >= b->last_ts);
    if (rb_need_cur(b) != TL_OK) return b->err;
    tl_page_t *p = b->cur;
    p->ts[p->n] = ts;
    p->h[p->n] = h;
    p->n++;
    b->n++;
    b->last_ts = ts;
    if (p->n == p->cap) return rb_seal_cur(b);
    return TL_OK;
}

tl_status_t tl_rb_push_many(tl_run_builder_t *b, const int64_t *ts, const uint64_t *h,
                            size_t n) {
    if (b->err != TL_OK) return b->err;
    if (n == 0) return TL_OK;
    TL_ASSERT(b->n == 0 || ts[0] >= b->last_ts);
#ifndef NDEBUG
    for (size_t i = 1; i < n; i++) TL_ASSERT(ts[i - 1] <= ts[i]);
#endif
    size_t done = 0;
    while (done < n) {
        if (rb_need_cur(b) != TL_OK) return b->err;
        tl_page_t *p = b->cur;
        size_t take = p->cap - p->n;
        if (take > n - done) take = n - done;
        memcpy(p->ts + p->n, ts + done, take * sizeof(int64_t));
        memcpy(p->h + p->n, h + done, take * sizeof(uint64_t));
        p->n += (uint32_t)take;
        b->n += take;
        done += take;
        if (p->n == p->cap && rb_seal_cur(b) != TL_OK) return b->err;
    }
    b->last_ts = ts[n - 1];
    return TL_OK;
}

/* Appends the first count records of a packed page by decoding them into the builder's
 * pages (no staging copy). */
static tl_status_t rb_push_decoded(tl_run_builder_t *b, const tl_page_t *p, uint32_t count) {
    uint32_t done = 0;
    while (done < count) {
        if (rb_need_cur(b) != TL_OK) return b->err;
        tl_page_t *c = b->cur;
        uint32_t take = c->cap - c->n < count - done ? c->cap - c->n : count - done;
        tl_page_read(p, done, done + take, c->ts + c->n, c->h + c->n);
        TL_ASSERT(b->n == 0 || c->ts[c->n] >= b->last_ts);
        c->n += take;
        b->n += take;
        done += take;
        b->last_ts = c->ts[c->n - 1];
        if (c->n == c->cap && rb_seal_cur(b) != TL_OK) return b->err;
    }
    return TL_OK;
}

tl_status_t tl_rb_push_page(tl_run_builder_t *b, tl_page_t *p, uint32_t count) {
    if (b->err != TL_OK) return b->err;
    if (count == 0) return TL_OK;
    TL_ASSERT(count <= p->cap);
    bool fits = b->cur != NULL && b->cur->n + (uint64_t)count <= b->cur->cap;
    bool big = (uint64_t)count * 2 >= b->page_records;
    bool packed = p->pv != NULL;
    if (packed && (fits || !big || count != p->cap)) return rb_push_decoded(b, p, count);
    if (fits || !big) return tl_rb_push_many(b, p->ts, p->h, count);
    int64_t first = packed ? p->pv->ts_first : p->ts[0];
    int64_t last = packed ? p->pv->ts_last : p->ts[count - 1];
    TL_ASSERT(b->n == 0 || first >= b->last_ts);
    if (rb_seal_cur(b) != TL_OK || rb_reserve(b) != TL_OK) return b->err;
    tl_page_ref(p);
    b->pages[b->npages] = p;
    b->counts[b->npages] = count;
    b->npages++;
    b->n += count;
    b->last_ts = last;
    b->pages_shared++;
    return TL_OK;
}

void tl_rb_abort(tl_run_builder_t *b) {
    for (uint32_t i = 0; i < b->npages; i++) tl_page_unref(b->pages[i]);
    tl_page_unref(b->cur);
    rb_reset(b);
}

tl_status_t tl_rb_finish(tl_run_builder_t *b, uint64_t wm, tl_run_t **out) {
    *out = NULL;
    if (b->err == TL_OK) (void)rb_seal_cur(b);
    tl_status_t st = b->err;
    if (st != TL_OK || b->npages == 0) {
        tl_rb_abort(b);
        return st;
    }
    tl_run_t *r = run_alloc(b->alloc, b->npages, any_tab(b->pages, b->npages),
                            any_sum(b->pages, b->npages));
    if (r == NULL) {
        tl_rb_abort(b);
        return TL_ENOMEM;
    }
    /* The run takes over the builder's page references. */
    memcpy(r->pages, b->pages, (size_t)b->npages * sizeof(*b->pages));
    run_fill(r, b->counts, wm, true, NULL);
    rb_reset(b);
    *out = r;
    return TL_OK;
}
