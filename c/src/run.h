/*
 * run.h — an immutable sorted sequence of records stored as pages: the one shape every
 * sealed memtable chunk, L0 segment and L1 segment takes.
 *
 * Invariants: ts non-decreasing across the whole run; equal timestamps in insertion order;
 * page i holds prefix[i+1] - prefix[i] >= 1 records; page_min[i] = first ts of page i,
 * page_max[i] = last ts; n = prefix[npages] >= 1 (an empty run is represented by NULL).
 * `wm` is the watermark: a record of this run is hidden iff the tombstone skyline at its ts
 * is > wm (TL_SEQ_MAX for snapshot views of the mutable memtable).
 */
#ifndef TL_RUN_H
#define TL_RUN_H

#include "page.h"
#include "summary.h"

/* What a stored run covers of the write calls, for checkpoints (durable/dur.h): every call
 * with seq <= seq, plus the first `part` records (in call order) of call seq + 1 — a seal
 * inside a batch splits the batch between two memruns at a known record. Ordered by (seq,
 * part). Zero for runs nobody checkpoints (L1 segments carry it in the manifest instead). */
typedef struct tl_cover {
    uint64_t seq, part;
} tl_cover_t;

static inline bool tl_cover_less(tl_cover_t a, tl_cover_t b) {
    return a.seq < b.seq || (a.seq == b.seq && a.part < b.part);
}

typedef struct tl_run {
    _Atomic uint32_t refs;
    uint32_t npages;
    uint64_t n;
    int64_t ts_min, ts_max;
    uint64_t wm;
    tl_cover_t cover; /* memrun and L0 runs: every append it covers is in this run or an
                         older one (set at the seal; an L0 run takes its memruns' max) */
    bool borrowed; /* pages are kept alive by someone else (a snapshot's pinned directory):
                      the run takes no page references and drops none */
    const tl_allocator_t *alloc;
    tl_page_t **pages; /* npages refs held by the run (borrowed when `borrowed`) */
    uint64_t **page_h; /* npages: pages[i]->h, so a reader reaches the handle column (and can
                          prefetch it) without loading the page header; NULL when packed */
    const tl_pcodec_view_t **page_v; /* npages: pages[i]->pv, a packed page's parsed blob
                                        (NULL for a raw page), also without the header */
    int64_t *page_min; /* npages */
    int64_t *page_max; /* npages */
    uint64_t *prefix; /* npages + 1; prefix[0] = 0 */
    uint16_t *tab; /* npages * TL_TAB: the pages' search tables (run.c); NULL when borrowed */
    tl_sum_t *sum; /* npages: the pages' value summaries (summary.h; n = 0 where a page has
                      none), so aggregates read whole pages without touching them; NULL when
                      no page has one */
} tl_run_t;

static inline void tl_run_ref(tl_run_t *r) {
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}
/* Drops one reference; on the last, unrefs every page and frees. Accepts NULL. */
void tl_run_unref(tl_run_t *r);

/* The first search-table entry of a page without a table (a real table starts with 0). */
#define TL_RUN_TAB_NONE UINT16_MAX

/* What a run keeps of each of its first n raw pages, known ahead of building it (the active
 * directory records it as pages fill, memtable.h): fences, handle columns, search tables
 * (TL_TAB entries a page, TL_RUN_TAB_NONE first when it has none) and value summaries (n = 0:
 * none); `tabs`: the pages are large enough to carry a table. The arrays hold n entries (tab
 * n * TL_TAB); a run without tables or summaries ignores them. A run built with them reads
 * none of those pages' headers. */
typedef struct tl_page_known {
    uint32_t n;
    bool tabs;
    int64_t *min, *max;
    uint64_t **h;
    uint16_t *tab;
    tl_sum_t *sum;
} tl_page_known_t;
/* A copy of r with watermark wm (pages shared, cover zero): O(npages), pages untouched but
 * for their references. ENOMEM. */
tl_status_t tl_run_rewrap(const tl_allocator_t *a, const tl_run_t *r, uint64_t wm,
                          tl_run_t **out);

/* Builds a run over existing pages (each gets a new ref) with explicit per-page counts
 * (counts[i] >= 1 records taken from the start of page i). Used for snapshot views of the
 * active memtable, whose last page is still being appended to: page->n is never read, only
 * ts[0 .. counts[i]). npages == 0 gives *out = NULL and OK (the empty run). ENOMEM. */
tl_status_t tl_run_from_pages(const tl_allocator_t *a, tl_page_t *const *pages,
                              const uint32_t *counts, uint32_t npages, uint64_t wm,
                              tl_run_t **out);

/* As tl_run_from_pages, but a page whose search table (page.h) does not describe exactly
 * counts[i] records is left without one in this run rather than given one now. For the
 * writer's seal: building means reading the whole page again, on the ingest thread, for a
 * run that lives only until the next flush (which builds what is missing). The memtable
 * builds each page's table as the page fills, while it is in cache. */
/* known (may be NULL): the first known->n <= npages pages' fields (raw pages, each holding
 * exactly counts[i] records as when recorded), taken from there instead of read from the
 * pages. adopt: the run takes over one reference the caller holds on each page instead of
 * taking its own (on an error the caller keeps them), so a run of known pages touches no page
 * at all: the seal's view of 64 pages took a cold header line of each for its reference, and
 * the directory's release gave them back, 128 misses on the writer's thread. */
tl_status_t tl_run_from_pages_as_is(const tl_allocator_t *a, tl_page_t *const *pages,
                                    const uint32_t *counts, uint32_t npages, uint64_t wm,
                                    const tl_page_known_t *known, bool adopt, tl_run_t **out);

/* As tl_run_from_pages for the first n >= 1 records of pages laid out page_records apart
 * (an active directory: every page full but the last), WITHOUT taking page references: the
 * caller guarantees the pages outlive the run (a snapshot view over the directory it pins).
 * Never publish such a run in a manifest. ENOMEM. */
tl_status_t tl_run_view_borrowed(const tl_allocator_t *a, tl_page_t *const *pages,
                                 uint32_t page_records, uint64_t n, uint64_t wm, tl_run_t **out);

/* A copy of r (same records, same wm) in which some pages are replaced by equivalent ones:
 * fn(ctx, page, count, &np) returns OK with np = a new page holding the same `count` records
 * (the run takes that reference) or np = NULL to keep the page, or an error. *out = NULL when
 * no page is replaced. An error leaves nothing behind. Used to move pages out of arena chunks
 * that tl_compact empties (relocate.c) and to replace raw pages by packed ones (pack.c). */
typedef tl_status_t (*tl_run_remap_fn)(void *ctx, tl_page_t *p, uint32_t count, tl_page_t **np);
tl_status_t tl_run_remap(const tl_allocator_t *a, const tl_run_t *r, tl_run_remap_fn fn,
                         void *ctx, tl_run_t **out);

/* Global index of the first record with ts >= x (n if none) / first record with ts > x. */
uint64_t tl_run_lower_bound(const tl_run_t *r, int64_t x);
uint64_t tl_run_upper_bound(const tl_run_t *r, int64_t x);

/* Page index holding global record index i (i < n), and the record's ts / handle. */
uint32_t tl_run_page_of(const tl_run_t *r, uint64_t i);
int64_t tl_run_ts_at(const tl_run_t *r, uint64_t i);
uint64_t tl_run_h_at(const tl_run_t *r, uint64_t i);

/* Records with lo <= ts <= hi (closed; lo > hi gives 0). */
uint64_t tl_run_count(const tl_run_t *r, int64_t lo, int64_t hi);

/* A record position: page index and offset inside that page. {npages, 0} = past the end. */
typedef struct tl_run_pos {
    uint32_t page, off;
} tl_run_pos_t;

/* Position of the first record with ts >= x / ts > x. O(log P + log page_records) through the
 * page_max fence array; readers use it to open cursors without a second search.
 * The _h variant also prefetches the handle line at the guessed position before the ts
 * column is read, so a reader about to copy handles overlaps the two cache misses. */
tl_run_pos_t tl_run_seek_lower(const tl_run_t *r, int64_t x);
tl_run_pos_t tl_run_seek_upper(const tl_run_t *r, int64_t x);
tl_run_pos_t tl_run_seek_lower_h(const tl_run_t *r, int64_t x);

/* tl_run_seek_lower that leaves, when its page is packed, the timestamps of the miniblock it
 * decoded in mb_out[TL_PCODEC_MB] and that miniblock's index in *mb (UINT32_MAX when it
 * decoded none): a cursor starting there reads them instead of decoding them again. */
tl_run_pos_t tl_run_seek_lower_keep(const tl_run_t *r, int64_t x, int64_t *mb_out,
                                    uint32_t *mb);

/* The records equal to x: the position of the first record with ts >= x (as
 * tl_run_seek_lower_h, prefetches included) and in *eq how many records equal x start there,
 * across page ends. The point read's one call per run: on a packed page a single miniblock
 * decode usually gives both bounds (tl_pcodec_equal_in); on a raw page a few compares count. */
tl_run_pos_t tl_run_seek_equal(const tl_run_t *r, int64_t x, uint64_t *eq);

/* The timestamp of the record at position p (p.page < npages, p.off within the page). */
static inline int64_t tl_run_ts_pos(const tl_run_t *r, tl_run_pos_t p) {
    const tl_page_t *pg = r->pages[p.page];
    return r->page_h[p.page] != NULL ? tl_page_ts(pg)[p.off] : tl_pcodec_ts_at(r->page_v[p.page], p.off);
}

/* Records held by page i of r (the run's view of it; never the page's own n). */
static inline uint32_t tl_run_page_count(const tl_run_t *r, uint32_t i) {
    return (uint32_t)(r->prefix[i + 1] - r->prefix[i]);
}

/* ---- builder: records in, pages of page_records out ---- */

typedef struct tl_run_builder {
    const tl_allocator_t *alloc;
    uint32_t page_records;
    tl_page_t *cur; /* page being filled, or NULL */
    tl_page_t **pages;
    uint32_t *counts;
    uint32_t npages, cap_pages;
    uint64_t n;
    int64_t last_ts; /* for the sortedness assertion */
    tl_status_t err; /* sticky: first failure; later pushes are no-ops */
    bool sums; /* values are doubles: each page gets its value summary as it is sealed (set
                  after tl_rb_init, which clears it) */
    bool whole_pages; /* keep a short page at full capacity instead of copying it to its size:
                         for short-lived runs, whose full pages come warm from the log's arena
                         (set after tl_rb_init, which clears it) */
    /* Cumulative since tl_rb_init (finish does not reset them), for write-amplification
     * stats: pages filled by this builder / pages taken by reference in tl_rb_push_page. */
    uint64_t pages_written, pages_shared;
} tl_run_builder_t;

void tl_rb_init(tl_run_builder_t *b, const tl_allocator_t *a, uint32_t page_records);
/* Appends one record; ts must be >= the previous one. Errors are sticky (see err). */
tl_status_t tl_rb_push(tl_run_builder_t *b, int64_t ts, uint64_t h);
/* Appends n sorted records (bulk copies into pages). */
tl_status_t tl_rb_push_many(tl_run_builder_t *b, const int64_t *ts, const uint64_t *h, size_t n);
/* Appends the first `count` records of an existing page (count <= p->cap; p->n is not read;
 * a packed page is shared whole or decoded, never partly shared).
 * Rule: if they fit in the builder's partly filled page, they are copied there (no new short
 * page); otherwise a page holding count >= page_records / 2 (rounded up) records is shared
 * with a new ref, after closing the partly filled page as a short page (exact-size copy) so
 * that the pages after a rewritten stretch stay shared instead of shifting; a smaller page
 * is copied. So a full page is always shared unless it fits the partly filled page. */
tl_status_t tl_rb_push_page(tl_run_builder_t *b, tl_page_t *p, uint32_t count);
/* Finishes: *out = the run (NULL when no record was pushed) stamped with wm. On error
 * everything is released and *out = NULL. The builder is reset either way. */
tl_status_t tl_rb_finish(tl_run_builder_t *b, uint64_t wm, tl_run_t **out);
/* Releases everything pushed so far (the builder is reset and can be reused). */
void tl_rb_abort(tl_run_builder_t *b);

#endif /* TL_RUN_H */
