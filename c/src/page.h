/*
 * page.h — the unit of storage: a refcounted block holding up to `cap` records as two columns.
 *
 * One allocation: header, then ts[cap], then h[cap]. A page is written once by its builder
 * (or, for the active memtable page, appended to by the writer only) and then only read.
 * Readers never read `n`: they take record counts from the run that references the page
 * (run.prefix), because the active page's `n` moves while snapshots read its prefix.
 *
 * The column search kernels used by runs, merges and queries live here too: they work on a
 * raw sorted ts slice so every reader shares one tested implementation.
 */
#ifndef TL_PAGE_H
#define TL_PAGE_H

#include "codec/pcodec.h"
#include "summary.h"
#include "tl_common.h"

/* Buckets of a page's search table (see tl_page_tab_build), and the smallest page that has
 * one: below it a page is a few KB, interpolation is close enough, and 128 bytes of table
 * would be a noticeable share of the page. */
#define TL_TAB 64u
#define TL_TAB_MIN_CAP 1024u

/* A page is raw (two plain columns, the only kind that is ever written to) or packed: an
 * immutable compressed blob (codec/pcodec.h) that readers decode while they read. Packing is a
 * maintenance job (pack.c); every reader tells the kinds apart by pv (or, without loading the
 * header, by the run's page_h entry, which is NULL for a packed page). */
typedef struct tl_page {
    _Atomic uint32_t refs;
    uint32_t cap; /* capacity in records (packed: its record count) */
    uint32_t n; /* records written (builder/writer only; packed: its record count) */
    uint32_t tab_n; /* records `tab` describes; 0 = none yet (builder/writer only) */
    uint32_t sum_n; /* raw: records its value summary describes (tl_page_sum_build); 0 = none
                       (builder/writer only, cleared by every write, like tab_n) */
    uint32_t bytes; /* packed: size of the allocation; raw: 0 (tl_page_bytes(cap)) */
    uint32_t mbs; /* packed: offset of the miniblock summaries (mbsum.h) after the blob; 0: none */
    const tl_allocator_t *alloc;
    int64_t *ts; /* -> ts[cap] inside the same allocation; NULL when packed */
    uint64_t *h; /* -> h[cap] inside the same allocation; NULL when packed */
    uint16_t *tab; /* -> tab[TL_TAB] after h when cap >= TL_TAB_MIN_CAP, else NULL */
    const tl_pcodec_view_t *pv; /* packed: the parsed blob, inside the allocation; else NULL */
    /* Durable logs: where the page is on disk (segment file id, blob index), set by the
     * checkpoint that wrote it (or the open that read it); 0 = not on disk yet. Written and
     * read only under maint_mu (checkpoints) or before the log is shared (open). */
    uint64_t file_id;
    uint32_t blob;
    uint32_t blob_bytes; /* packed: the blob's length */
    /* Raw: the codec found it not worth packing, so later pack jobs skip it (its records
     * never change). Written and read only by the pack job, under maint_mu. */
    bool nopack;
} tl_page_t;

static inline bool tl_page_packed(const tl_page_t *p) { return p->pv != NULL; }

/* A packed page's layout (page.c): [tl_page_t][tl_pcodec_view_t][tl_sum_t][tab[TL_TAB]][blob]
 * (then, for doubles, miniblock summaries).
 * Offsets, not loads: a reader computes the blob's address from the page pointer alone and
 * can prefetch its lines before the page's first cache line has arrived. */
static inline size_t tl_page_packed_view_end(void) {
    return (sizeof(tl_page_t) + sizeof(tl_pcodec_view_t) + 7u) & ~(size_t)7u;
}
static inline size_t tl_page_packed_prefix(void) {
    return tl_page_packed_view_end() + sizeof(tl_sum_t) + TL_TAB * sizeof(uint16_t);
}
static inline const uint8_t *tl_page_packed_blob(const tl_page_t *p) {
    return (const uint8_t *)p + tl_page_packed_prefix();
}

/* New page with refs = 1 and n = 0. NULL on ENOMEM (or cap == 0 / size overflow). Layout:
 * header, ts[cap], h[cap], then tab[TL_TAB] when cap >= TL_TAB_MIN_CAP, then the value
 * summary (tl_sum_t, summary.h) and the miniblock summaries (mbsum.h). */
tl_page_t *tl_page_new(const tl_allocator_t *a, uint32_t cap);
static inline void tl_page_ref(tl_page_t *p) {
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}
/* Drops one reference; frees on the last. Accepts NULL. */
void tl_page_unref(tl_page_t *p);

/* Bytes of the single allocation behind a raw page of `cap` records (0 on size overflow). */
size_t tl_page_bytes(uint32_t cap);
/* Bytes of p's allocation, whatever its kind. */
static inline size_t tl_page_alloc_bytes(const tl_page_t *p) {
    return p->pv != NULL ? p->bytes : tl_page_bytes(p->cap);
}

/* A packed page holding the n >= 1 records ts[0, n) (sorted), h[0, n), encoded with the page
 * codec (flags: TL_PCODEC_F64 when h holds doubles), with its search table built from ts
 * while ts is in cache. scratch must hold tl_pcodec_bound(n) bytes (the blob is encoded
 * there, then copied into the page's exact-size allocation). NULL with *st = TL_OK when
 * packing would not make the page meaningfully smaller (the codec's rule), or with *st =
 * TL_ENOMEM. */
tl_page_t *tl_page_pack(const tl_allocator_t *a, const int64_t *ts, const uint64_t *h,
                        uint32_t n, uint32_t flags, uint8_t *scratch, tl_status_t *st);

/* A page holding the records of a validated page blob (tl_pcodec_validate passed): a raw page
 * when both of its columns are stored raw (reads then cost nothing extra), else a packed page
 * holding a copy of the blob. Its search table is built from the decoded timestamps, and with
 * f64 (an f64 log's page) its value summary as tl_page_pack builds it; scratch must hold n
 * timestamps. NULL on ENOMEM. */
tl_page_t *tl_page_from_blob(const tl_allocator_t *a, const uint8_t *blob, size_t len,
                             bool f64, int64_t *scratch);

/* A packed page's blob (the bytes tl_page_from_blob would take back): *len bytes at the
 * result. Only for packed pages. */
const uint8_t *tl_page_blob(const tl_page_t *p, size_t *len);

/* Records [from, to) of p (to <= its record count) into ts[to - from] and h[to - from]
 * (either may be NULL): a copy for a raw page, a decode for a packed one. */
void tl_page_read(const tl_page_t *p, uint32_t from, uint32_t to, int64_t *ts, uint64_t *h);

/* New exact-size page (cap = n = count >= 1, refs = 1) holding a copy of the first `count`
 * records of p. Reads p's columns only, never p->n. A packed p (count must be all of it) is
 * copied byte for byte and stays packed. NULL on ENOMEM. */
tl_page_t *tl_page_copy(const tl_allocator_t *a, const tl_page_t *p, uint32_t count);

/* True when ts value v sorts before the answer of a search for x: v < x for a lower bound,
 * v <= x for an upper bound. One predicate lets each search be written once for both. */
static inline bool tl_ts_before(int64_t v, int64_t x, bool upper) {
    return upper ? v <= x : v < x;
}

/* Searches over a sorted (non-decreasing) column slice ts[from, to), from <= to:
 * first index i in [from, to] with ts[i] >= x (lower) / ts[i] > x (upper). */
uint32_t tl_ts_lower(const int64_t *ts, uint32_t from, uint32_t to, int64_t x);
uint32_t tl_ts_upper(const int64_t *ts, uint32_t from, uint32_t to, int64_t x);
/* As tl_ts_upper, galloping from `from`: O(log d) where d = answer - from. Used by merges
 * whose blocks are usually short. */
uint32_t tl_ts_gallop_upper(const int64_t *ts, uint32_t from, uint32_t to, int64_t x);
/* The same searches serve the run fence arrays (page_min / page_max, npages entries). */

/* First index i in [0, n] with ts[i] >= x (lower) / ts[i] > x (upper) over ts[0, n), n >= 1,
 * where kmin = ts[0] and kmax = ts[n-1] are passed in by the caller (the run's fences, so the
 * page is not touched to read them). Starts at the interpolated position and gallops both
 * ways: about one cache line for evenly spread timestamps (the usual time series), and never
 * worse than twice a binary search for skewed ones. */
uint32_t tl_ts_lower_interp(const int64_t *ts, uint32_t n, int64_t x, int64_t kmin, int64_t kmax);
uint32_t tl_ts_upper_interp(const int64_t *ts, uint32_t n, int64_t x, int64_t kmin, int64_t kmax);

/* The two halves of the interpolated searches, for callers that want to act on the guess
 * before the search reads the column (prefetch the matching handle line, so that miss overlaps
 * the ts miss): the guessed index (tl_ts_interp_guess, below); then lower/upper bound over
 * ts[0, n) galloping from any start g < n (the answer is exact whatever g is; a good g makes
 * it about one cache line). */
uint32_t tl_ts_lower_from(const int64_t *ts, uint32_t n, uint32_t g, int64_t x);
uint32_t tl_ts_upper_from(const int64_t *ts, uint32_t n, uint32_t g, int64_t x);
/* Lower (upper) bound over ts[lo, hi), known to lie in [lo, hi], galloping outwards from a
 * guess g in [lo, hi), then a binary search of the last doubling. */
uint32_t tl_ts_gallop_from(const int64_t *ts, uint32_t lo, uint32_t hi, uint32_t g, int64_t x,
                           bool upper);

/* x's offset d = x - kmin into a span = kmax - kmin > 0, as a fraction in [0, 1] (d <= span
 * rounds to at most 1.0). The one division of an interpolation: a caller that needs both the
 * record guess and the search-table bucket computes it once. Differences are taken in uint64
 * so that INT64_MIN..INT64_MAX spans cannot overflow. */
static inline double tl_ts_frac(uint64_t d, uint64_t span) { return (double)d / (double)span; }

/* The guessed index in [0, n - 1] for x over n >= 1 records spanning [kmin, kmax]. Inline:
 * it sits on the path of every cold lookup, before its miss. */
static inline uint32_t tl_ts_interp_guess(uint32_t n, int64_t x, int64_t kmin, int64_t kmax) {
    if (x <= kmin) return 0;
    if (x >= kmax) return n - 1;
    double g = tl_ts_frac((uint64_t)x - (uint64_t)kmin, (uint64_t)kmax - (uint64_t)kmin) *
               (double)(n - 1);
    return g >= (double)(n - 1) ? n - 1 : (uint32_t)g;
}

/* ---- the search table ----
 *
 * A page's records span [kmin, kmax]; that span is cut into TL_TAB buckets of equal width,
 * bucket b starting at kmin + tl_tab_start(kmax - kmin, b). tab[b] is the index of the first
 * record at or after bucket b's start. A search for x then knows, without reading the page,
 * that its answer lies between tab[b] and tab[b + 1] for x's bucket b — about n / TL_TAB
 * records for evenly spread timestamps — and interpolates inside that bracket. Unlike one
 * interpolation over the whole page, this stays within a record or two when the density
 * varies (out-of-order inserts), so a lookup reads one line of each column instead of
 * several. Runs copy the tables of their pages into one array (run.h), which stays in cache.
 * Pages below TL_TAB_MIN_CAP or above UINT16_MAX records have no table. */

/* floor(span * b / TL_TAB) without overflow, for b <= TL_TAB. */
static inline uint64_t tl_tab_start(uint64_t span, uint32_t b) {
    return (span / TL_TAB) * b + ((span % TL_TAB) * b) / TL_TAB;
}

/* The bracket [*lo, *hi] of tab holding both bounds of x = kmin + d (d <= span = kmax -
 * kmin), and a guess in it; frac = tl_ts_frac(d, span). The estimate u = frac * TL_TAB gives
 * both the bucket (corrected by the exact integer starts, so the bracket never depends on
 * rounding) and, by its fraction, the guess inside the bucket. */
static inline uint32_t tl_tab_bracket(const uint16_t *tab, uint32_t n, uint64_t d, uint64_t span,
                                      double frac, uint32_t *lo, uint32_t *hi) {
    double u = span == 0 ? 0.0 : frac * (double)TL_TAB;
    uint32_t b = u >= (double)(TL_TAB - 1) ? TL_TAB - 1 : (uint32_t)u;
    while (b > 0 && tl_tab_start(span, b) > d) b--;
    while (b + 1 < TL_TAB && tl_tab_start(span, b + 1) <= d) b++;
    *lo = tab[b];
    *hi = b + 1 < TL_TAB ? tab[b + 1] : n;
    uint32_t width = *hi - *lo;
    double f = u - (double)b; /* outside [0, 1) only when b was corrected */
    if (width <= 1 || !(f > 0.0)) return *lo;
    uint32_t g = f >= 1.0 ? *hi : *lo + (uint32_t)(f * (double)width);
    return g < *hi ? g : *hi - 1;
}

/* Lower / upper bound inside [lo, hi] from guess g in [lo, hi). The table's guess is almost
 * always within a few records, so the 8 records around it are counted branch-free (one or two
 * lines, loaded in parallel) and the count is the answer when the window shows it: a lookup
 * then has no branch that waits on its cold miss, and the CPU runs on into the next lookup.
 * Otherwise it gallops outwards from g, never past the bracket. */
static inline uint32_t tl_tab_search(const int64_t *ts, uint32_t lo, uint32_t hi, uint32_t g,
                                     int64_t x, bool upper) {
    enum { W = 8 };
    if (lo == hi) return lo;
    if (hi - lo >= W) {
        uint32_t w = g - lo >= W / 2 ? g - W / 2 : lo;
        if (w > hi - W) w = hi - W;
        uint32_t c = 0;
        for (uint32_t k = 0; k < W; k++) c += tl_ts_before(ts[w + k], x, upper);
        if ((c > 0 || w == lo) && (c < W || w + W == hi)) return w + c;
    }
    return tl_ts_gallop_from(ts, lo, hi, g, x, upper);
}

/* Fills tab[TL_TAB] for ts[0, n) (n >= 1, sorted); false when n > UINT16_MAX. */
bool tl_tab_fill(uint16_t *tab, const int64_t *ts, uint32_t n);
/* tl_tab_fill into the page itself for its first n records (tab_n = n; 0 when the page has
 * no table). */
void tl_page_tab_build(tl_page_t *p, uint32_t n);
/* The value summary of a raw page's first n records (n >= 1) into the page itself (sum_n =
 * n): built where its table is, when a page fills and its values are in cache, for pages of
 * doubles only (the writer and builder are told; summary.h). */
void tl_page_sum_build(tl_page_t *p, uint32_t n);

/* First index in [0, n] with ts[i] >= x (lower) / ts[i] > x (upper), using tab (built for
 * exactly these n records spanning [kmin, kmax]): tl_tab_bracket, then tl_tab_search. Reads
 * one line of ts when the guess lands on the answer's line, which is the common case. */
uint32_t tl_tab_lower(const uint16_t *tab, const int64_t *ts, uint32_t n, int64_t x, int64_t kmin,
                      int64_t kmax);
uint32_t tl_tab_upper(const uint16_t *tab, const int64_t *ts, uint32_t n, int64_t x, int64_t kmin,
                      int64_t kmax);

/* The ts column of a page without loading its header (the layout is fixed by tl_page_new):
 * saves one dependent cache miss on a cold search. */
static inline const int64_t *tl_page_ts(const tl_page_t *p) {
    return (const int64_t *)(const void *)(p + 1);
}

#endif /* TL_PAGE_H */
