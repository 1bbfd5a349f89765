/*
 * page.c — refcounted columnar pages and the sorted-column search kernels.
 *
 * Structure: one allocation per page, laid out as
 *     [tl_page_t header][int64_t ts[cap]][uint64_t h[cap]]([uint16_t tab[TL_TAB]])
 *     [tl_sum_t][tl_mbsum_t per 64 records]
 * The header and the table are multiples of 8 bytes, so the columns and the summaries are
 * naturally aligned. `ts` and `h` point into the block, so a page is self-describing and a
 * page freed by any thread returns exactly tl_page_bytes(cap) to the allocator that made it
 * (sized free).
 *
 * Invariants:
 *   - refs >= 1 while reachable; the thread that drops the last reference frees the page.
 *     Increments are relaxed (a new reference is always made from an existing one, which
 *     already orders the page's contents); the decrement is acq_rel so every write to the
 *     page by any owner happens-before the free.
 *   - Readers never consult `n` (see page.h): record counts travel in the run that references
 *     the page. `n` is the builder's fill level.
 *   - cap >= 1. Short pages (the tail of a run) are allocated at their exact size by
 *     tl_page_copy so a small run does not pin a full page_records block.
 *
 * Search kernels: sorted int64 slices are searched with a branch-free binary search (the
 * data-dependent branch of a textbook search mispredicts about half the time) and a gallop
 * for merges whose blocks are short. All are O(log n); the gallop is O(log d) for an answer
 * d slots away from the start. None of them computes x+1 or x-1, so INT64_MIN and INT64_MAX
 * are ordinary keys.
 */
#include "page.h"
#include "mbsum.h"
#include "summary.h"

/* Bytes of the search table a page of cap records carries (0 or TL_TAB entries). */
static size_t tab_bytes(uint32_t cap) {
    return cap >= TL_TAB_MIN_CAP && cap <= UINT16_MAX ? TL_TAB * sizeof(uint16_t) : 0;
}

/* Offset of a raw page's value summary: after its columns and table (8-byte multiples). */
static size_t raw_sum_off(uint32_t cap) {
    return sizeof(tl_page_t) + (size_t)cap * (sizeof(int64_t) + sizeof(uint64_t)) +
           tab_bytes(cap);
}

size_t tl_page_bytes(uint32_t cap) {
    /* per record: ts, h and (per 64) a miniblock summary: 16.5 bytes, bounded by 17 */
    const size_t fixed = sizeof(tl_page_t) + TL_TAB * 2 + sizeof(tl_sum_t) + sizeof(tl_mbsum_t);
    if ((size_t)cap > (SIZE_MAX - fixed) / 17u) return 0;
    return raw_sum_off(cap) + sizeof(tl_sum_t) + tl_mbsum_bytes(cap);
}

/* A raw page's value summary, then its miniblock summaries. */
static tl_sum_t *raw_sum(const tl_page_t *p) {
    return (tl_sum_t *)(void *)((char *)p + raw_sum_off(p->cap));
}

static tl_mbsum_t *raw_mbsum(const tl_page_t *p) {
    return (tl_mbsum_t *)(void *)(raw_sum(p) + 1);
}

void tl_page_sum_build(tl_page_t *p, uint32_t n) {
    TL_DASSERT(p->pv == NULL && n >= 1 && n <= p->cap);
    tl_mbsum_fences(raw_mbsum(p), p->ts, n);
    tl_mbsum_page(raw_sum(p), raw_mbsum(p), p->h, n);
    p->sum_n = n;
}

tl_page_t *tl_page_new(const tl_allocator_t *a, uint32_t cap) {
    size_t bytes = tl_page_bytes(cap);
    if (cap == 0 || bytes == 0) return NULL;
    tl_page_t *p = tl_mem_alloc(a, bytes);
    if (p == NULL) return NULL;
    atomic_init(&p->refs, 1);
    p->cap = cap;
    p->n = 0;
    p->tab_n = 0;
    p->sum_n = 0;
    p->bytes = 0;
    p->mbs = 0;
    p->pv = NULL;
    p->file_id = 0;
    p->blob = 0;
    p->nopack = false;
    p->alloc = a;
    p->ts = (int64_t *)(void *)(p + 1);
    p->h = (uint64_t *)(void *)(p->ts + cap);
    p->tab = tab_bytes(cap) ? (uint16_t *)(void *)(p->h + cap) : NULL;
    TL_DASSERT(p->ts == tl_page_ts(p));
    return p;
}

void tl_page_unref(tl_page_t *p) {
    if (p == NULL) return;
    uint32_t old = atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel);
    TL_ASSERT(old >= 1);
    if (old == 1) tl_mem_free(p->alloc, p, tl_page_alloc_bytes(p));
}

/* ---- packed pages ----
 *
 * Layout: [tl_page_t][tl_pcodec_view_t][tl_sum_t][uint16_t tab[TL_TAB]][blob]([pad to 8]
 * [tl_mbsum_t[nmb]]), one allocation of exactly `bytes`. The view is parsed once here, so readers never
 * re-parse the header; the search table is the raw page's (same buckets, same meaning), copied
 * into runs like theirs; the summary (summary.h: n = 0 unless the values are doubles) is made
 * while the page is packed, with its values in cache, and copied into runs as well
 * (aggregates, agg.c). A page of doubles also carries its miniblock summaries (mbsum.h, at
 * offset `mbs`), made in the same pass, for aggregates whose buckets are smaller than a page;
 * they follow the blob (aligned), which stays at a fixed offset for the readers' prefetches. */

/* Offset of the miniblock summaries of a packed page whose blob is len bytes: after the blob,
 * 8-byte aligned. The blob itself stays at tl_page_packed_prefix() whatever the page holds,
 * so a reader can prefetch its lines from the page pointer alone (run.c). */
static size_t packed_mbsum_off(size_t len) {
    return (tl_page_packed_prefix() + len + 7u) & ~(size_t)7u;
}

static tl_sum_t *packed_sum(const tl_page_t *p) {
    return (tl_sum_t *)(void *)((char *)p + tl_page_packed_view_end());
}

static tl_mbsum_t *packed_mbsum(const tl_page_t *p) {
    return (tl_mbsum_t *)(void *)((char *)p + p->mbs);
}

const tl_sum_t *tl_page_sum(const tl_page_t *p) {
    if (p->pv == NULL) return p->sum_n != 0 ? raw_sum(p) : NULL;
    const tl_sum_t *s = packed_sum(p);
    return s->n == p->cap ? s : NULL;
}

const tl_mbsum_t *tl_page_mbsum(const tl_page_t *p) {
    if (p->pv == NULL) return p->sum_n != 0 ? raw_mbsum(p) : NULL;
    return p->mbs ? packed_mbsum(p) : NULL;
}

/* Wires a packed page of n records over its allocation of `bytes`: the blob of len bytes at
 * tl_page_packed_prefix(), then (mbs) the miniblock summaries. */
static void packed_wire(tl_page_t *p, const tl_allocator_t *a, uint32_t n, size_t bytes,
                        size_t len, bool mbs) {
    atomic_init(&p->refs, 1);
    p->cap = p->n = n;
    p->sum_n = 0; /* a packed page's summary is its own (packed_sum) */
    p->bytes = (uint32_t)bytes;
    p->mbs = mbs ? (uint32_t)packed_mbsum_off(len) : 0;
    p->blob_bytes = (uint32_t)len;
    p->alloc = a;
    p->ts = NULL;
    p->h = NULL;
    p->file_id = 0;
    p->blob = 0;
    p->nopack = false;
    tl_pcodec_view_t *v = (tl_pcodec_view_t *)(void *)(p + 1);
    p->tab = (uint16_t *)(void *)((char *)p + tl_page_packed_prefix() - TL_TAB * sizeof(uint16_t));
    const uint8_t *blob = (const uint8_t *)p + tl_page_packed_prefix();
    tl_status_t st = tl_pcodec_view_init(v, blob, len);
    TL_ASSERT(st == TL_OK && v->n == n); /* our own encoder's output */
    p->pv = v;
}

tl_page_t *tl_page_pack(const tl_allocator_t *a, const int64_t *ts, const uint64_t *h,
                        uint32_t n, uint32_t flags, uint8_t *scratch, tl_status_t *st) {
    *st = TL_OK;
    TL_DASSERT(n >= 1 && n <= TL_PCODEC_N_MAX);
    size_t len = tl_pcodec_encode(ts, h, n, flags, scratch, tl_pcodec_bound(n));
    if (len == 0) return NULL; /* does not pay: the page stays raw */
    bool f64 = (flags & TL_PCODEC_F64) != 0;
    size_t bytes = f64 ? packed_mbsum_off(len) + tl_mbsum_bytes(n) : tl_page_packed_prefix() + len;
    if (bytes > UINT32_MAX) return NULL;
    tl_page_t *p = tl_mem_alloc(a, bytes);
    if (p == NULL) {
        *st = TL_ENOMEM;
        return NULL;
    }
    memcpy((uint8_t *)p + tl_page_packed_prefix(), scratch, len);
    packed_wire(p, a, n, bytes, len, f64);
    p->tab_n = n >= TL_TAB_MIN_CAP && tl_tab_fill(p->tab, ts, n) ? n : 0;
    if (f64) {
        tl_mbsum_fences(packed_mbsum(p), ts, n);
        tl_mbsum_page(packed_sum(p), packed_mbsum(p), h, n);
    } else {
        memset(packed_sum(p), 0, sizeof(tl_sum_t));
    }
    return p;
}

tl_page_t *tl_page_from_blob(const tl_allocator_t *a, const uint8_t *blob, size_t len,
                             bool f64, int64_t *scratch) {
    tl_pcodec_view_t v;
    if (tl_pcodec_view_init(&v, blob, len) != TL_OK || v.n == 0) return NULL;
    if (v.ts.codec == TL_PCODEC_RAW && v.h.codec == TL_PCODEC_RAW) {
        tl_page_t *p = tl_page_new(a, v.n);
        if (p == NULL) return NULL;
        tl_pcodec_decode(&v, 0, v.n, p->ts, p->h);
        p->n = v.n;
        tl_page_tab_build(p, v.n);
        return p;
    }
    size_t bytes = f64 ? packed_mbsum_off(len) + tl_mbsum_bytes(v.n) : tl_page_packed_prefix() + len;
    if (bytes > UINT32_MAX) return NULL;
    tl_page_t *p = tl_mem_alloc(a, bytes);
    if (p == NULL) return NULL;
    memcpy((uint8_t *)p + tl_page_packed_prefix(), blob, len);
    packed_wire(p, a, v.n, bytes, len, f64);
    tl_pcodec_ts_decode(p->pv, 0, v.n, scratch);
    p->tab_n = v.n >= TL_TAB_MIN_CAP && tl_tab_fill(p->tab, scratch, v.n) ? v.n : 0;
    if (f64) { /* the summaries aggregates read (as tl_page_pack makes them) */
        tl_mbsum_fences(packed_mbsum(p), scratch, v.n);
        uint64_t *h = (uint64_t *)(void *)scratch;
        tl_pcodec_h_decode(p->pv, 0, v.n, h);
        tl_mbsum_page(packed_sum(p), packed_mbsum(p), h, v.n);
    } else {
        memset(packed_sum(p), 0, sizeof(tl_sum_t));
    }
    return p;
}

const uint8_t *tl_page_blob(const tl_page_t *p, size_t *len) {
    TL_DASSERT(p->pv != NULL);
    *len = p->blob_bytes;
    return (const uint8_t *)p + tl_page_packed_prefix();
}

void tl_page_read(const tl_page_t *p, uint32_t from, uint32_t to, int64_t *ts, uint64_t *h) {
    TL_DASSERT(from <= to && to <= p->cap);
    if (p->pv != NULL) {
        tl_pcodec_decode(p->pv, from, to, ts, h);
        return;
    }
    if (ts != NULL) memcpy(ts, p->ts + from, (size_t)(to - from) * sizeof *ts);
    if (h != NULL) memcpy(h, p->h + from, (size_t)(to - from) * sizeof *h);
}

tl_page_t *tl_page_copy(const tl_allocator_t *a, const tl_page_t *p, uint32_t count) {
    TL_DASSERT(count >= 1 && count <= p->cap);
    if (p->pv != NULL) { /* relocation: the same bytes elsewhere */
        TL_ASSERT(count == p->cap);
        tl_page_t *c = tl_mem_alloc(a, p->bytes);
        if (c == NULL) return NULL;
        memcpy((uint8_t *)c + tl_page_packed_prefix(), (const uint8_t *)p + tl_page_packed_prefix(),
               p->bytes - tl_page_packed_prefix()); /* blob and miniblock summaries */
        packed_wire(c, a, p->cap, p->bytes, p->blob_bytes, p->mbs != 0);
        memcpy(c->tab, p->tab, TL_TAB * sizeof(uint16_t));
        c->tab_n = p->tab_n;
        c->file_id = p->file_id; /* the same bytes: still where the disk has them */
        c->blob = p->blob;
        memcpy(packed_sum(c), packed_sum(p), sizeof(tl_sum_t));
        return c;
    }
    tl_page_t *c = tl_page_new(a, count);
    if (c == NULL) return NULL;
    memcpy(c->ts, p->ts, (size_t)count * sizeof(int64_t));
    memcpy(c->h, p->h, (size_t)count * sizeof(uint64_t));
    c->n = count;
    tl_page_tab_build(c, count);
    if (p->sum_n == count) {
        *raw_sum(c) = *raw_sum(p);
        memcpy(raw_mbsum(c), raw_mbsum(p), tl_mbsum_bytes(count));
        c->sum_n = count;
    }
    if (count == p->cap) { /* the whole page: still what the disk holds */
        c->file_id = p->file_id;
        c->blob = p->blob;
    }
    return c;
}

/*
 * Branch-free lower/upper bound. Invariant: the answer lies in [base, base + len]; each step
 * halves len with a conditional move instead of a branch.
 */
uint32_t tl_ts_lower(const int64_t *ts, uint32_t from, uint32_t to, int64_t x) {
    TL_DASSERT(from <= to);
    uint32_t len = to - from;
    if (len == 0) return from;
    const int64_t *base = ts + from;
    while (len > 1) {
        uint32_t half = len / 2;
        base = (base[half] < x) ? base + half : base;
        len -= half;
    }
    return (uint32_t)(base - ts) + (uint32_t)(*base < x);
}

uint32_t tl_ts_upper(const int64_t *ts, uint32_t from, uint32_t to, int64_t x) {
    TL_DASSERT(from <= to);
    uint32_t len = to - from;
    if (len == 0) return from;
    const int64_t *base = ts + from;
    while (len > 1) {
        uint32_t half = len / 2;
        base = (base[half] <= x) ? base + half : base;
        len -= half;
    }
    return (uint32_t)(base - ts) + (uint32_t)(*base <= x);
}

/*
 * Gallop: probe from+1, from+2, from+4, ... until a probe exceeds x (or passes `to`), then
 * binary-search the last doubling interval. Merge blocks are often a handful of records, so
 * this beats a full binary search over the rest of the page.
 */
uint32_t tl_ts_gallop_upper(const int64_t *ts, uint32_t from, uint32_t to, int64_t x) {
    TL_DASSERT(from <= to);
    if (from == to || ts[from] > x) return from;
    /* ts[lo_ok] <= x is known; search (lo_ok, hi_probe]. */
    uint32_t lo_ok = from, step = 1;
    for (;;) {
        uint64_t probe = (uint64_t)lo_ok + step;
        if (probe >= to) return tl_ts_upper(ts, lo_ok + 1, to, x);
        if (ts[probe] > x) return tl_ts_upper(ts, lo_ok + 1, (uint32_t)probe, x);
        lo_ok = (uint32_t)probe;
        if (step < (1u << 30)) step <<= 1;
    }
}

static inline uint32_t bsearch_slice(const int64_t *ts, uint32_t from, uint32_t to, int64_t x,
                                     bool upper) {
    return upper ? tl_ts_upper(ts, from, to, x) : tl_ts_lower(ts, from, to, x);
}

uint32_t tl_ts_gallop_from(const int64_t *ts, uint32_t lo, uint32_t hi, uint32_t g, int64_t x,
                            bool upper) {
    uint32_t step = 1;
    if (tl_ts_before(ts[g], x, upper)) {
        uint32_t ok = g; /* ts[ok] is before the answer */
        for (;;) {
            uint64_t p = (uint64_t)ok + step;
            if (p >= hi) return bsearch_slice(ts, ok + 1, hi, x, upper);
            if (!tl_ts_before(ts[p], x, upper)) {
                return bsearch_slice(ts, ok + 1, (uint32_t)p, x, upper);
            }
            ok = (uint32_t)p;
            if (step < (1u << 30)) step <<= 1;
        }
    }
    uint32_t bad = g; /* ts[bad] is not before: the answer is <= bad */
    for (;;) {
        if (step > bad - lo) return bsearch_slice(ts, lo, bad, x, upper);
        uint32_t p = bad - step;
        if (tl_ts_before(ts[p], x, upper)) return bsearch_slice(ts, p + 1, bad, x, upper);
        bad = p;
        if (step < (1u << 30)) step <<= 1;
    }
}

/* Half-width of the window searched around a guess before galloping. */
#define NEAR 8u

/* From guess g: a good guess (the usual case for time series) leaves the answer within NEAR
 * slots, so the window [g - NEAR + 1, g + NEAR] around it is checked with two predictable
 * compares and searched branch-free: no mispredicted branch waits for the cache miss on
 * ts[g]. A bad guess falls back to the gallop. */
static inline uint32_t search_from(const int64_t *ts, uint32_t n, uint32_t g, int64_t x,
                                   bool upper) {
    uint32_t from = g >= NEAR ? g - NEAR + 1 : 0;
    uint32_t to = n - g > NEAR ? g + NEAR : n;
    bool lo_ok = from == 0 || tl_ts_before(ts[from - 1], x, upper);
    bool hi_ok = to == n || !tl_ts_before(ts[to], x, upper);
    if (TL_LIKELY(lo_ok && hi_ok)) return bsearch_slice(ts, from, to, x, upper);
    return tl_ts_gallop_from(ts, 0, n, g, x, upper);
}

uint32_t tl_ts_lower_interp(const int64_t *ts, uint32_t n, int64_t x, int64_t kmin,
                            int64_t kmax) {
    TL_DASSERT(n >= 1);
    if (x <= kmin) return 0;
    if (x > kmax) return n;
    return search_from(ts, n, tl_ts_interp_guess(n, x, kmin, kmax), x, false);
}

uint32_t tl_ts_upper_interp(const int64_t *ts, uint32_t n, int64_t x, int64_t kmin,
                            int64_t kmax) {
    TL_DASSERT(n >= 1);
    if (x < kmin) return 0;
    if (x >= kmax) return n;
    return search_from(ts, n, tl_ts_interp_guess(n, x, kmin, kmax), x, true);
}

uint32_t tl_ts_lower_from(const int64_t *ts, uint32_t n, uint32_t g, int64_t x) {
    TL_DASSERT(g < n);
    return search_from(ts, n, g, x, false);
}

uint32_t tl_ts_upper_from(const int64_t *ts, uint32_t n, uint32_t g, int64_t x) {
    TL_DASSERT(g < n);
    return search_from(ts, n, g, x, true);
}

/* ---- search table ---- */

bool tl_tab_fill(uint16_t *tab, const int64_t *ts, uint32_t n) {
    TL_DASSERT(n >= 1);
    if (n > UINT16_MAX) return false;
    int64_t kmin = ts[0];
    uint64_t span = (uint64_t)ts[n - 1] - (uint64_t)kmin;
    tab[0] = 0;
    int64_t drift = 0; /* the last answer less its even-spread guess */
    for (uint32_t b = 1; b < TL_TAB; b++) {
        /* A search per bucket start from the even-spread guess moved by the last bucket's
         * drift: a few probes each, so the table costs ~64 short searches, not a pass over
         * the page. Without the drift, timestamps with random gaps (users' shape: 0-2 ms)
         * stray from the even spread by a random walk, tens of records mid-page, so most
         * searches left search_from's window for a gallop: 2 us a table on the writer's
         * thread each time a memtable page filled. A bucket's own stray is a few records. */
        int64_t key = (int64_t)((uint64_t)kmin + tl_tab_start(span, b));
        int64_t even = (int64_t)((uint64_t)b * (n - 1) / TL_TAB), g = even + drift;
        g = g < 0 ? 0 : g > (int64_t)n - 1 ? (int64_t)n - 1 : g;
        tab[b] = (uint16_t)tl_ts_lower_from(ts, n, (uint32_t)g, key);
        drift = (int64_t)tab[b] - even;
    }
    return true;
}

void tl_page_tab_build(tl_page_t *p, uint32_t n) {
    p->tab_n = p->tab != NULL && tl_tab_fill(p->tab, p->ts, n) ? n : 0;
}

/* Both bounds through the table: what seek (run.c) does inline, as one tested entry. */
static uint32_t tab_bound(const uint16_t *tab, const int64_t *ts, uint32_t n, int64_t x,
                          int64_t kmin, int64_t kmax, bool upper) {
    TL_DASSERT(n >= 1);
    if (!tl_ts_before(kmin, x, upper)) return 0;
    if (tl_ts_before(kmax, x, upper)) return n;
    uint64_t span = (uint64_t)kmax - (uint64_t)kmin, d = (uint64_t)x - (uint64_t)kmin;
    uint32_t lo, hi, g = tl_tab_bracket(tab, n, d, span, tl_ts_frac(d, span), &lo, &hi);
    return tl_tab_search(ts, lo, hi, g, x, upper);
}

uint32_t tl_tab_lower(const uint16_t *tab, const int64_t *ts, uint32_t n, int64_t x, int64_t kmin,
                      int64_t kmax) {
    return tab_bound(tab, ts, n, x, kmin, kmax, false);
}

uint32_t tl_tab_upper(const uint16_t *tab, const int64_t *ts, uint32_t n, int64_t x, int64_t kmin,
                      int64_t kmax) {
    return tab_bound(tab, ts, n, x, kmin, kmax, true);
}
