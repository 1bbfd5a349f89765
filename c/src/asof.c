/*
 * asof.c — as-of lookups: for a timestamp x, the newest visible record with ts <= x (among
 * records at that ts, the one written last), one at a time or a whole column per call.
 *
 * One lookup is query.c's last_le search carried to the record: per source, the chain's last
 * run starting at or before x, an upper-bound seek for x and a step back, a skyline check (a
 * hidden candidate jumps before its fragment); the best candidate over sources wins, a later
 * source on equal ts (tl_query_last_le_at). The record found is the last of its run at that
 * ts, so the handle is read at its position: a load for a raw page, one miniblock decode for a
 * packed one. O(K (log R + log P)) plus O(log) per hidden fragment crossed.
 *
 * A column (the join of two streams, merge_asof / kdb+ aj) is answered in one call. Lookups in
 * random order would each pay the cold misses of a point read; in ascending order consecutive
 * lookups land on the same or the next cache lines, which are then already loaded. So the
 * queries are sorted first (skipped when they already are): an LSD radix sort over the bits
 * in which the keys differ (timestamps of one stream differ in their low 20-30 bits: three
 * passes of 8-10 bits), O(n) with two n-entry buffers from the log's allocator. A query sorts
 * as one 8-byte word, its offset from the least key above its index bits, when those fit in
 * 64 bits (half the bytes each pass moves: ~79 -> ~72 ns a query in all); keys spread over
 * most of the int64 range sort as 16-byte (key, index) pairs. A long column (two walking
 * threads, below) is sorted by chunks: one serial pass scatters the words into buckets by
 * their top bits, each bucket a chunk of ~2048 queries, and the thread that claims a chunk
 * sorts it, in cache, before walking it (C, 100K random queries: 15 -> 13 ns a query on a
 * one-record log, 31 -> 29 over 5M compacted records). Then, when the queries are at least as
 * many as the pages, an ascending walk (below) answers each with a short step; otherwise each
 * gets the general search. Equal consecutive queries reuse the answer. The walk reads the
 * answers' handles a group of 32 queries at a time, after the group's searches: read each
 * right after its search, a handle's cold line stalled the next search; read together, the
 * lines load in parallel (C, 100K random queries over 5M records: 44-53 -> 39-42 ns a query
 * compacted, 67-72 -> 53-64 on the users' shape, uncompacted). Answers go back to the
 * caller's positions. Memory: 32 bytes a query (16 when packed), and two miniblock
 * buffers (1 KiB) per source and walking thread, during the call.
 *
 * Threads. A column of TL_ASOF_SPLIT_MIN (16384) queries or more is walked by two threads:
 * the caller and one it starts for the call (pthread_create; joined before the call
 * returns). Both claim chunks of 2048 sorted queries from a shared counter and walk them
 * with their own states; answers go to disjoint output slots, the snapshot is only read.
 * The walk is bound by latency (a miniblock decode, a search and a value read that depend on
 * each other, and mispredicted steps between queries), not by memory bandwidth, so a second
 * core nearly halves it: 100K random queries over 5M records, the call with its load and
 * sort (~10 ns a query, on the caller alone) ~52-68 -> ~42-47 ns a query (2 cores, a noisy
 * shared VM; bench native asof_many 72 -> 43-47). Claiming
 * instead of halving means a helper that starts late, or not at all (its core busy), leaves
 * its share to the caller instead of holding the call up; if the thread cannot be started
 * the caller walks alone, with the same answers. Shorter columns are walked by the caller
 * alone: starting a thread (~20-50 us) would cost more than it saves.
 */
#include <math.h>

#include "radix.h"
#include "timelog_int.h"

/* The handle of the record a hit points at. */
static uint64_t hit_handle(const tl_query_hit_t *hit) {
    const tl_run_t *r = hit->r;
    tl_run_pos_t p = hit->p;
    if (r->page_h[p.page] != NULL) return r->page_h[p.page][p.off];
    return tl_pcodec_h_at(r->page_v[p.page], p.off);
}

tl_status_t tl_snapshot_asof(tl_snapshot_t *s, int64_t ts, int64_t *ts_out, uint64_t *h_out) {
    if (s == NULL) return TL_EINVAL;
    tl_read_plan_t pl;
    tl_status_t st = tl_snapshot_read_plan(s, &pl);
    if (st != TL_OK) return st;
    tl_query_hit_t hit;
    tl_query_last_le_at(pl.srcs, pl.nsrc, pl.tombs, ts, &hit);
    if (!hit.found) return TL_EOF;
    if (ts_out != NULL) *ts_out = hit.ts;
    if (h_out != NULL) *h_out = hit_handle(&hit);
    return TL_OK;
}

/* ---- columns ---- */

typedef struct qent {
    uint64_t key; /* the query with its sign bit flipped: unsigned order = int64 order */
    uint64_t idx;
} qent_t;

static _Thread_local size_t radix_count[TL_RADIX_COUNTS];

static uint64_t *radix_words(uint64_t *a, uint64_t *tmp, size_t n, unsigned lo, unsigned span) {
    return tl_radix_words(a, tmp, n, lo, span, radix_count);
}

/* tl_radix_words over (key, idx) entries, by key bits [lo, lo + span). */
static qent_t *radix_ents(qent_t *a, qent_t *tmp, size_t n, unsigned lo, unsigned span) {
    unsigned bits = tl_radix_width(span), b = 1u << bits;
    for (unsigned shift = lo; shift < lo + span; shift += bits) {
        memset(radix_count, 0, b * sizeof radix_count[0]);
        for (size_t i = 0; i < n; i++) radix_count[(a[i].key >> shift) & (b - 1)]++;
        tl_radix_starts(radix_count, b);
        for (size_t i = 0; i < n; i++) tmp[radix_count[(a[i].key >> shift) & (b - 1)]++] = a[i];
        qent_t *x = a;
        a = tmp;
        tmp = x;
    }
    return a;
}

/* Queries a thread claims at a time: ~0.1 ms of work, so the caller waits at most about that
 * long for the helper at the end. */
#define ASOF_CHUNK 2048u

/* A column sorted by chunks (long packed columns; see chunks_split): one pass has scattered
 * the words into `a` by their top key bits, and cut[c], cut[c + 1] bound chunk c, the words
 * of one of those buckets, so the chunks ascend. Each chunk still has to be sorted by key bits
 * [lo, lo + span) (span 0: nothing left), with b as its second buffer; that puts it in a or b
 * (the same for every chunk: the passes are the same). The walking threads sort the chunks
 * they claim, in cache, in parallel: a serial sort of the whole column came before the second
 * thread had anything to do. */
typedef struct qchunks {
    const size_t *cut;
    size_t n; /* chunks */
    uint64_t *a, *b;
    unsigned lo, span;
} qchunks_t;

/* Sorts chunk c of ch in place (into the buffer qcol_t.w names). */
__attribute__((noinline)) /* once a chunk: kept out of the walk loop */
static void chunk_sort(const qchunks_t *ch, size_t c) {
    size_t from = ch->cut[c], len = ch->cut[c + 1] - from;
    if (ch->span == 0) return;
    uint64_t *r = radix_words(ch->a + from, ch->b + from, len, ch->lo, ch->span);
    TL_DASSERT(r == (tl_radix_passes(ch->span) % 2 ? ch->b : ch->a) + from);
    (void)r;
}

/* Most top key bits the first pass of a chunked sort scatters by (256 buckets: few write
 * streams, counts in L1). */
#define ASOF_SPLIT_BITS 8u

/* The first pass of a chunked sort of the packed words w[0, n) (key bits [lo, lo + span)):
 * scatters them into tmp by their top m bits, m chosen for buckets of about ASOF_CHUNK
 * queries on evenly spread keys (a thread's unit of work); every non-empty bucket is a chunk
 * (cut: room for 2^ASOF_SPLIT_BITS + 1 bounds). Fills *ch; returns the buffer the chunks are
 * sorted into. */
static uint64_t *chunks_split(uint64_t *w, uint64_t *tmp, size_t n, unsigned lo, unsigned span,
                              size_t *cut, qchunks_t *ch) {
    unsigned m = 1;
    while (m < ASOF_SPLIT_BITS && m < span && (n >> (m + 1)) >= ASOF_CHUNK) m++;
    if (m > span) m = span;
    unsigned shift = lo + span - m;
    size_t b = (size_t)1 << m, nc = 0, sum = 0;
    memset(radix_count, 0, b * sizeof radix_count[0]);
    for (size_t i = 0; i < n; i++) radix_count[(w[i] >> shift) & (b - 1)]++;
    cut[0] = 0;
    for (size_t d = 0; d < b; d++) { /* bucket starts; each non-empty bucket ends a chunk */
        size_t k = radix_count[d];
        radix_count[d] = sum;
        sum += k;
        if (k > 0) cut[++nc] = sum;
    }
    for (size_t i = 0; i < n; i++) tmp[radix_count[(w[i] >> shift) & (b - 1)]++] = w[i];
    *ch = (qchunks_t){cut, nc, tmp, w, lo, span - m};
    return tl_radix_passes(ch->span) % 2 ? w : tmp;
}

/* The queries in ascending order, in one of three forms:
 *   in_order: w holds the keys, already ascending (the caller's order: idx = position);
 *   packed:   w holds words ((key - kmin) >> lo) << ib | idx. The keys share their bits
 *             below lo and span a small range (timestamps of one stream: 20-30 bits), so
 *             when the offsets' bits plus the index bits fit in 64, a query sorts as 8
 *             bytes, not 16: half the traffic of every radix pass;
 *   e:        (key, idx) entries otherwise (keys spread over most of the int64 range). */
typedef struct qcol {
    const uint64_t *w;
    const qent_t *e;
    uint64_t kmin;
    unsigned lo, ib;
    bool in_order;
    const qchunks_t *ch; /* packed: w is sorted chunk by chunk as they are claimed; or NULL */
} qcol_t;

static inline void qcol_get(const qcol_t *c, size_t i, uint64_t *key, uint64_t *idx) {
    if (c->e != NULL) {
        *key = c->e[i].key;
        *idx = c->e[i].idx;
    } else if (c->in_order) {
        *key = c->w[i];
        *idx = i;
    } else {
        *key = c->kmin + ((c->w[i] >> c->ib) << c->lo);
        *idx = c->w[i] & ((1ull << c->ib) - 1);
    }
}

/* One answer per query in ascending key order; writes through the out callback's arrays. */
typedef struct asof_out {
    int64_t *ts;
    double *tf;
    uint64_t *h;
    uint8_t *found;
    uint64_t h_none; /* h where there is no record: 0, or NaN's bits (see asof_many) */
} asof_out_t;

static void put(const asof_out_t *o, uint64_t i, bool found, int64_t ts, uint64_t h) {
    if (o->found != NULL) o->found[i] = found;
    if (o->ts != NULL) o->ts[i] = found ? ts : 0;
    if (o->tf != NULL) o->tf[i] = found ? (double)ts : NAN;
    if (o->h != NULL) o->h[i] = found ? h : o->h_none;
}

/* Starts loading the output lines of query i for writing: the answers go to the queries'
 * positions, in random order for a random column, so each put missed in up to three arrays
 * (a 1.7 MB scatter for 100K queries). Issued when the group's queries are read, the loads
 * overlap the group's searches. C, 100K random queries: over 5M compacted records 37.9-40.1
 * -> 34.1-34.6 ns a query; on a one-record log (sort and scatter only) 26.5 -> 16. */
static inline void out_prefetch(const asof_out_t *o, uint64_t i) {
    if (o->found != NULL) __builtin_prefetch(&o->found[i], 1);
    if (o->ts != NULL) __builtin_prefetch(&o->ts[i], 1);
    if (o->tf != NULL) __builtin_prefetch(&o->tf[i], 1);
    if (o->h != NULL) __builtin_prefetch(&o->h[i], 1);
}

/* ---- the ascending walk ----
 *
 * With queries in ascending order, each source's as-of record lies in the last page of its
 * chain that starts at or before the query, and that page only moves forward. So a walk
 * keeps, per source, that page and a search hint inside it, and answers a query by stepping on
 * from the previous answer: a few compares on lines already in cache, instead of a fence
 * search, a bracket and a skyline lookup per query. On a raw page the window searched is the
 * page; on a packed one it is one decoded miniblock, found by stepping over the fences (the
 * first ts of each, stored plain), and its value is read alone: 100K random queries over 5M
 * records put ~1.3 in a miniblock and leave ~30% of them unanswered, so decoding pages whole
 * paid for 64 timestamps a query and for those miniblocks too (87 -> ~75 ns a query). A
 * candidate that a tombstone may hide (its run filters, and the skyline at its ts is above
 * the run's watermark) sends that query to the general search. */

typedef struct walk {
    tl_run_t *const *runs;
    uint32_t nruns;
    uint32_t ri, pi; /* the current page: runs[ri], page pi (r NULL: none yet) */
    const tl_run_t *r;
    const tl_pcodec_view_t *v; /* a packed page's view; NULL for a raw page */
    const int64_t *ts; /* the window searched: a raw page's timestamps, or tsb */
    const uint64_t *h; /* a raw page's handles; NULL for a packed page */
    uint32_t base; /* the page position of ts[0]: 0, or mb * TL_PCODEC_MB */
    uint32_t cnt, off; /* records of the window; search hint (the previous answer) */
    uint32_t mb, nmb; /* packed: the miniblock in tsb (UINT32_MAX: none), miniblocks */
    uint32_t hmb; /* packed XOR values: the miniblock whose handles hb holds (or UINT32_MAX) */
    int64_t tsb[TL_PCODEC_MB];
    uint64_t hb[TL_PCODEC_MB];
} walk_t;

/* The walk's steps are inlined into the query loop: walk_last calls them too, and as
 * out-of-line functions they cost the walk ~10% (call overhead and lost scheduling). */
#define WALK_INLINE static inline __attribute__((always_inline))

/* Makes the current page the last of the chain starting at or before x; false when none. */
WALK_INLINE bool walk_seek(walk_t *w, int64_t x) {
    if (w->r != NULL) {
        const tl_run_t *r = w->r;
        bool more = w->pi + 1 < r->npages;
        if (!more && w->ri + 1 >= w->nruns) return true; /* the chain's last page */
        int64_t next = more ? r->page_min[w->pi + 1] : w->runs[w->ri + 1]->ts_min;
        if (next > x) return true; /* queries ascend: page_min <= x still */
    }
    uint32_t c = tl_chain_count_le(w->runs, w->nruns, x);
    if (c == 0) return false;
    const tl_run_t *r = w->runs[c - 1];
    uint32_t p = tl_ts_upper(r->page_min, 0, r->npages, x) - 1; /* page_min[0] <= x */
    if (r == w->r && p == w->pi) return true;
    w->r = r;
    w->ri = c - 1;
    w->pi = p;
    w->base = 0;
    w->off = 0;
    w->hmb = UINT32_MAX;
    if (r->page_h[p] != NULL) {
        w->v = NULL;
        w->ts = tl_page_ts(r->pages[p]);
        w->h = r->page_h[p];
        w->cnt = tl_run_page_count(r, p);
    } else {
        w->v = r->page_v[p];
        w->ts = w->tsb;
        w->h = NULL;
        w->mb = UINT32_MAX;
        w->nmb = w->v->nmb;
    }
    return true;
}

/* Packed page: makes tsb the miniblock holding x's answer, the last one whose fence (first
 * ts) is <= x. Every record of a later miniblock is > x, so the answer (the LAST record <= x,
 * equal timestamps running across fences included) is in it. Queries ascend, so the fences
 * are stepped over from the current miniblock: with ~1.3 queries a miniblock, zero or one
 * step; a longer way is a binary search. Only miniblocks that answer are decoded: a page
 * decoded whole on entry paid 4096 decodes for ~80 queries, and 32 KiB of cache. */
WALK_INLINE void walk_mb(walk_t *w, int64_t x) {
    uint32_t j = w->mb == UINT32_MAX ? 0 : w->mb; /* fence[0] = page_min <= x */
    uint32_t steps = 0;
    while (j + 1 < w->nmb && tl_pcodec_fence(w->v, j + 1) <= x) {
        j++;
        if (++steps == 4) { /* far: the last fence <= x in (j, nmb) by halving */
            uint32_t lo = j, hi = w->nmb; /* fence[lo] <= x; fence[hi] > x (or the end) */
            while (hi - lo > 1) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (tl_pcodec_fence(w->v, mid) <= x) lo = mid;
                else hi = mid;
            }
            j = lo;
            break;
        }
    }
    if (j == w->mb) return;
    w->mb = j;
    w->base = j * TL_PCODEC_MB;
    w->cnt = tl_pcodec_ts_mb(w->v, j, w->tsb);
    for (uint32_t k = w->cnt; k < TL_PCODEC_MB; k++) w->tsb[k] = INT64_MAX;
    w->off = 0;
}

/* Raw page: first i in (off, cnt] with ts[i] > x, given ts[off] <= x: the next query is a few
 * dozen records on, so blocks of 8 are stepped over (one predictable test each, a sequential
 * read) and the last one counted branch-free; a longer way gallops. Gaps between random queries
 * are spread exponentially (100K over 5M records: 28% longer than 64 records, 6% longer than
 * 256), so up to 32 blocks are stepped before galloping, not 8: on the raw pages of a log read
 * right after ingest (one core, 18 sealed memtables) 133-138 -> 118-120 ns a query. An
 * interpolated search from off cost twice as much: a call, a guess and a mispredicted window
 * test per query. */
static inline uint32_t walk_upper(const int64_t *ts, uint32_t off, uint32_t cnt, int64_t x) {
    uint32_t i = off + 1;
    for (int step = 0; step < 32 && i + 8 <= cnt; step++, i += 8) {
        if (ts[i + 7] > x) {
            uint32_t c = 0;
            for (uint32_t k = 0; k < 8; k++) c += ts[i + k] <= x;
            return i + c;
        }
    }
    return tl_ts_gallop_upper(ts, i, cnt, x);
}

/* Records of a decoded miniblock (padded with INT64_MAX to TL_PCODEC_MB) that are <= x,
 * clamped to its cnt records: all 64 counted without a branch on the data (vector compares),
 * instead of walk_upper's search, whose exit the random gap between queries mispredicts
 * (~5 ns a query of ~50). */
static inline uint32_t mb_upper(const int64_t *ts, uint32_t cnt, int64_t x) {
    uint32_t c = 0;
    for (uint32_t k = 0; k < TL_PCODEC_MB; k++) c += ts[k] <= x;
    return c < cnt ? c : cnt;
}

/* Whether a tombstone may hide the source's record at t: its run filters, and the skyline at
 * t is above the run's watermark (the general search must decide). */
static inline bool walk_maybe_hidden(const walk_t *w, const tl_tombs_t *tb, int64_t t) {
    return tb != NULL && w->r->wm != TL_SEQ_MAX && tl_tombs_seq_at(tb, t) > w->r->wm;
}

/* The source's candidate for x (its last record <= x); false when it has none, or when it
 * may be hidden (*unsure: the general search must decide). */
WALK_INLINE bool walk_candidate(walk_t *w, const tl_tombs_t *tb, int64_t x, int64_t *t,
                                bool *unsure) {
    if (!walk_seek(w, x)) return false;
    uint32_t i;
    if (w->v != NULL) {
        walk_mb(w, x);
        i = mb_upper(w->tsb, w->cnt, x);
    } else {
        i = walk_upper(w->ts, w->off, w->cnt, x);
    }
    w->off = i - 1;
    *t = w->ts[i - 1];
    if (walk_maybe_hidden(w, tb, *t)) *unsure = true;
    return true;
}

/* The handle of the source's candidate. A packed page's value is read alone (O(1) for a
 * frame-of-reference miniblock, a prefix decode for a delta one): a miniblock holds ~1.3
 * answers, so decoding its 64 values for them cost more. XOR values decode only in sequence:
 * those are decoded by miniblock, on the first answer in it. */
static uint64_t walk_handle(walk_t *w) {
    if (w->h != NULL) return w->h[w->off];
    if (w->v->h.codec != TL_PCODEC_XOR) return tl_pcodec_h_at(w->v, w->base + w->off);
    if (w->hmb != w->mb) {
        tl_pcodec_h_mb(w->v, w->mb, w->hb);
        w->hmb = w->mb;
    }
    return w->hb[w->off];
}

/* Where an answer's handle is: read once the answers of a whole group of queries are known
 * (walk_chunks). The walk's steps depend on each other, but the handles do not: a handle
 * read right after its search stalled the walk on a cold line per query (a raw page's
 * handle, or a packed page's value group), while a group's reads, issued back to back, wait
 * for their lines together. Each line is also prefetched the moment its query is answered, so
 * it loads while the rest of the group walks: on the raw pages of a log read right after
 * ingest the handle reads were still a quarter of a one-core walk (5M records of the users'
 * shape, 3 sealed memtables and 3 L0 segments, 100K queries: 41-43 -> 35-36 ns a query on
 * two threads; compacted and packed, one core: 54-65 -> 50-52). */
typedef struct href {
    const uint64_t *p; /* a raw page's handle slot; or NULL */
    const tl_pcodec_view_t *v; /* a packed page whose record x holds the handle; or NULL */
    uint64_t x; /* the record of v, or (p and v NULL) the handle itself */
} href_t;

static href_t walk_href(walk_t *w) {
    if (w->h != NULL) return (href_t){&w->h[w->off], NULL, 0};
    if (w->v->h.codec != TL_PCODEC_XOR) return (href_t){NULL, w->v, w->base + w->off};
    return (href_t){NULL, NULL, walk_handle(w)}; /* XOR decodes now, from this miniblock */
}

static inline uint64_t href_get(const href_t *r) {
    if (r->p != NULL) return *r->p;
    if (r->v != NULL) return tl_pcodec_h_at(r->v, (uint32_t)r->x);
    return r->x;
}

/* Stands w on its source's last record (timestamp last), for walk_href: walk_candidate's
 * steps without its search (kept apart so that walk_candidate stays inlined in walk_query). */
static void walk_last(walk_t *w, const tl_tombs_t *tb, int64_t last, bool *unsure) {
    if (!walk_seek(w, last)) return; /* not reached: the source holds a record <= last */
    if (w->v != NULL) walk_mb(w, last);
    w->off = w->cnt - 1;
    if (walk_maybe_hidden(w, tb, last)) *unsure = true;
}

/* The sources a group of queries in [xa, xb] walks. A log read right after ingest has many
 * (each sealed memtable's runs, L0 runs, L1), and most lie wholly before or after a group:
 * one wholly after xb has no candidate, and one wholly at or before xa answers every query
 * of the group with its last record, so the best of those (`below`: the latest, a later
 * source on ties) is found once a group instead of once a query. A query walks only the
 * sources that overlap its group. 5M records of the users' shape read at once: 18 sealed
 * memtables (manual maintenance) 270-306 -> 54-64 ns a query; what background maintenance
 * leaves 57-131 -> 46-52. A log with one source (compacted) makes no plans: at ~100 ns a
 * group they cost it 3-4 ns a query. */
typedef struct gplan {
    uint32_t n; /* act[0, n): the overlapping sources, ascending */
    uint32_t *act;
    int below; /* -1: none */
    int64_t below_t;
    bool below_unsure; /* a tombstone may hide below's candidate */
} gplan_t;

__attribute__((noinline)) /* once a group: kept out of the query loop's registers */
static void group_plan(const tl_read_plan_t *pl, walk_t *ws, const tl_tombs_t *tb, int64_t xa,
                       int64_t xb, gplan_t *gp) {
    gp->n = 0;
    gp->below = -1;
    gp->below_unsure = false;
    for (uint32_t s = 0; s < pl->nsrc; s++) {
        uint32_t nr = pl->srcs[s].nruns;
        if (nr == 0 || pl->srcs[s].runs[0]->ts_min > xb) continue;
        int64_t last = pl->srcs[s].runs[nr - 1]->ts_max;
        if (last <= xa) {
            if (gp->below < 0 || last >= gp->below_t) {
                gp->below = (int)s;
                gp->below_t = last;
            }
            continue;
        }
        gp->act[gp->n++] = s;
    }
    if (gp->below >= 0) walk_last(&ws[gp->below], tb, gp->below_t, &gp->below_unsure);
}

/* One query of the walk: the best candidate over the group's sources (a later source on
 * ties), and where its handle is. */
static void walk_query(const tl_read_plan_t *pl, walk_t *ws, const gplan_t *gp, int64_t x,
                       tl_query_hit_t *hit, href_t *ref) {
    bool unsure = gp->below_unsure;
    int best = -1;
    int64_t bt = 0;
    const tl_tombs_t *tb = pl->tombs != NULL && pl->tombs->n > 0 ? pl->tombs : NULL;
    if (gp->n == 1 && gp->below < 0) { /* one source (a compacted log): no list to walk */
        int64_t t;
        if (walk_candidate(&ws[gp->act[0]], tb, x, &t, &unsure)) {
            best = (int)gp->act[0];
            bt = t;
        }
    } else {
        for (uint32_t k = 0; k < gp->n; k++) {
            int64_t t;
            uint32_t s = gp->act[k];
            if (walk_candidate(&ws[s], tb, x, &t, &unsure) && (best < 0 || t >= bt)) {
                best = (int)s;
                bt = t;
            }
        }
    }
    if (gp->below >= 0 &&
        (best < 0 || gp->below_t > bt || (gp->below_t == bt && gp->below > best))) {
        best = gp->below;
        bt = gp->below_t;
    }
    if (unsure) { /* a tombstone may hide a candidate: the general search decides */
        tl_query_last_le_at(pl->srcs, pl->nsrc, pl->tombs, x, hit);
        *ref = (href_t){NULL, NULL, hit->found ? hit_handle(hit) : 0};
        return;
    }
    hit->found = best >= 0;
    hit->ts = bt;
    *ref = best >= 0 ? walk_href(&ws[best]) : (href_t){NULL, NULL, 0};
}

/* Columns of at least this many queries are walked by two threads (see answer_walk). */
#ifndef TL_ASOF_SPLIT_MIN
#define TL_ASOF_SPLIT_MIN 16384
#endif
/* Queries walked before their handles are read (see href_t): enough reads in flight to
 * overlap their misses, few enough that the group's slots stay in L1. */
#ifndef ASOF_GROUP
#define ASOF_GROUP 32u
#endif

/* What the threads of one walk share: the sorted queries, the outputs, and the next chunk. */
typedef struct walk_share {
    const tl_read_plan_t *pl;
    const qcol_t *q;
    const asof_out_t *o;
    size_t n;
    _Atomic size_t next; /* the first query of the next chunk not yet claimed */
} walk_share_t;

/* The next chunk of sorted queries [*from, *to) for a walking thread, sorted first when the
 * column is sorted by chunks; false when none is left. */
static bool claim(walk_share_t *sh, size_t *from, size_t *to) {
    const qchunks_t *ch = sh->q->ch;
    if (ch != NULL) {
        size_t c = atomic_fetch_add_explicit(&sh->next, 1, memory_order_relaxed);
        if (c >= ch->n) return false;
        chunk_sort(ch, c);
        *from = ch->cut[c];
        *to = ch->cut[c + 1];
        return true;
    }
    *from = atomic_fetch_add_explicit(&sh->next, ASOF_CHUNK, memory_order_relaxed);
    if (*from >= sh->n) return false;
    *to = sh->n - *from < ASOF_CHUNK ? sh->n : *from + ASOF_CHUNK;
    return true;
}

/* One thread of a walk: its own states and group plan (pl->nsrc each). */
typedef struct walk_job {
    walk_share_t *sh;
    walk_t *ws;
    uint32_t *act;
} walk_job_t;

/* Claims chunks of ascending queries until none is left and answers them. A thread's chunks
 * ascend, so its walk states stay valid from one to the next (a gap is a longer step). */
static void walk_chunks(const walk_job_t *j) {
    walk_share_t *sh = j->sh;
    const tl_read_plan_t *pl = sh->pl;
    for (uint32_t s = 0; s < pl->nsrc; s++) {
        memset(&j->ws[s], 0, offsetof(walk_t, tsb)); /* the buffers fill as they are used */
        j->ws[s].runs = pl->srcs[s].runs;
        j->ws[s].nruns = pl->srcs[s].nruns;
    }
    tl_query_hit_t hit = {NULL, {0, 0}, 0, false};
    href_t ref = {NULL, NULL, 0};
    uint64_t prev = 0;
    const tl_tombs_t *tb = pl->tombs != NULL && pl->tombs->n > 0 ? pl->tombs : NULL;
    gplan_t gp = {0, j->act, -1, 0, false};
    /* One source with records (a compacted log): every group walks it, no plan to make. */
    uint32_t nonempty = 0;
    for (uint32_t s = 0; s < pl->nsrc; s++) {
        if (pl->srcs[s].nruns > 0) gp.act[nonempty++] = s;
    }
    bool single = nonempty == 1;
    if (single) gp.n = 1;
    struct {
        href_t ref;
        uint64_t idx;
        int64_t ts;
        bool found;
    } g[ASOF_GROUP];
    for (;;) {
        size_t from, to;
        if (!claim(sh, &from, &to)) break;
        for (size_t i0 = from; i0 < to; i0 += ASOF_GROUP) {
            size_t m = to - i0 < ASOF_GROUP ? to - i0 : ASOF_GROUP;
            if (!single) {
                uint64_t ka, kb, unused;
                qcol_get(sh->q, i0, &ka, &unused);
                qcol_get(sh->q, i0 + m - 1, &kb, &unused);
                group_plan(pl, j->ws, tb, (int64_t)(ka ^ (1ull << 63)),
                           (int64_t)(kb ^ (1ull << 63)), &gp);
            }
            for (size_t k = 0; k < m; k++) {
                uint64_t key;
                qcol_get(sh->q, i0 + k, &key, &g[k].idx);
                out_prefetch(sh->o, g[k].idx);
                TL_DASSERT(i0 + k == from || key >= prev); /* a thread's queries ascend */
                if (i0 + k == from || key != prev) {
                    walk_query(pl, j->ws, &gp, (int64_t)(key ^ (1ull << 63)), &hit, &ref);
                    /* read after the group's walk (an equal query reuses the line) */
                    if (ref.p != NULL) __builtin_prefetch(ref.p);
                    else if (ref.v != NULL) tl_pcodec_prefetch_h(ref.v, (uint32_t)ref.x);
                }
                prev = key;
                g[k].ref = ref;
                g[k].ts = hit.ts;
                g[k].found = hit.found;
            }
            for (size_t k = 0; k < m; k++) {
                uint64_t h = g[k].found && sh->o->h != NULL ? href_get(&g[k].ref) : 0;
                put(sh->o, g[k].idx, g[k].found, g[k].ts, h);
            }
        }
    }
}

static void *walk_thread(void *arg) {
    walk_chunks(arg);
    return NULL;
}

/* Walks n ascending queries; false (nothing written) when the buffers cannot be had. A long
 * column is walked by two threads, the caller and one it starts, each claiming chunks of the
 * sorted order in turn with its own walk states: the outputs are disjoint, the snapshot is
 * read-only, and the call joins before it returns. Claiming (not halving) keeps a helper
 * that is scheduled late, or not at all (another process on the core), from holding the call
 * up: the caller takes the chunks it does not. When the thread cannot be started, the caller
 * walks alone. */
static bool answer_walk(const tl_read_plan_t *pl, const qcol_t *q, size_t n,
                        const asof_out_t *o) {
    bool split = n >= TL_ASOF_SPLIT_MIN;
    size_t nws = (size_t)pl->nsrc * (split ? 2 : 1);
    size_t bytes = nws * (sizeof(walk_t) + sizeof(uint32_t)); /* states, then group plans */
    walk_t *ws = tl_mem_alloc(pl->alloc, bytes);
    if (ws == NULL) return false;
    uint32_t *act = (uint32_t *)(void *)(ws + nws);
    walk_share_t sh = {pl, q, o, n, 0};
    walk_job_t jobs[2] = {{&sh, ws, act}, {&sh, ws + pl->nsrc, act + pl->nsrc}};
    pthread_t th;
    bool started = split && pthread_create(&th, NULL, walk_thread, &jobs[1]) == 0;
    walk_chunks(&jobs[0]);
    if (started) pthread_join(th, NULL);
    tl_mem_free(pl->alloc, ws, bytes);
    return true;
}

/* Total pages of the plan: a walk pays off when the queries are about as many or more. */
static uint64_t plan_pages(const tl_read_plan_t *pl) {
    uint64_t n = 0;
    for (uint32_t s = 0; s < pl->nsrc; s++) {
        for (uint32_t i = 0; i < pl->srcs[s].nruns; i++) n += pl->srcs[s].runs[i]->npages;
    }
    return n;
}

static void answer_sorted(const tl_read_plan_t *pl, const qcol_t *q, size_t n,
                          const asof_out_t *o) {
    if (n >= plan_pages(pl) && answer_walk(pl, q, n, o)) return;
    for (size_t c = 0; q->ch != NULL && c < q->ch->n; c++) chunk_sort(q->ch, c); /* no walk */
    tl_query_hit_t hit = {NULL, {0, 0}, 0, false};
    uint64_t h = 0, prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key, idx;
        qcol_get(q, i, &key, &idx);
        if (i == 0 || key != prev) {
            tl_query_last_le_at(pl->srcs, pl->nsrc, pl->tombs, (int64_t)(key ^ (1ull << 63)),
                                &hit);
            h = hit.found && o->h != NULL ? hit_handle(&hit) : 0;
        }
        prev = key;
        put(o, idx, hit.found, hit.ts, h);
    }
}

/* A query given as a double: an integer of any magnitude (beyond int64 it clamps to the
 * int64 ends, where the answer is the same), or -/+inf; NaN and fractions are refused. */
static bool query_f64(double d, int64_t *out) {
    if (d != d) return false;
    if (d >= 9223372036854775808.0) {
        *out = INT64_MAX;
        return true;
    }
    if (d < -9223372036854775808.0) {
        *out = INT64_MIN;
        return true;
    }
    int64_t v = (int64_t)d;
    if ((double)v != d) return false;
    *out = v;
    return true;
}

/* Query i as a key (a double already checked by load). */
static inline uint64_t key_at(const int64_t *q64, const double *qf, size_t i) {
    int64_t x = 0;
    if (q64 != NULL) x = q64[i];
    else (void)query_f64(qf[i], &x);
    return (uint64_t)x ^ (1ull << 63);
}

/* Fills k[0, n) with the keys of the int64 (q64) or double (qf) queries; false on a bad
 * double. *diff: the bits in which some key differs from the first; *kmin, *kmax: the least
 * and the greatest key. */
static bool load(uint64_t *k, const int64_t *q64, const double *qf, size_t n, bool *sorted,
                 uint64_t *diff, uint64_t *kmin, uint64_t *kmax) {
    bool up = true;
    uint64_t d = 0, mn = UINT64_MAX, mx = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        if (q64 != NULL) x = q64[i];
        else if (!query_f64(qf[i], &x)) return false;
        k[i] = (uint64_t)x ^ (1ull << 63);
        d |= k[i] ^ k[0];
        mn = k[i] < mn ? k[i] : mn;
        mx = k[i] > mx ? k[i] : mx;
        up &= i == 0 || k[i] >= k[i - 1];
    }
    *sorted = up;
    *diff = d;
    *kmin = mn;
    *kmax = mx;
    return true;
}

/* Loads, sorts (unless sorted already) and answers the n queries; buf holds 2n entries. */
static tl_status_t asof_column(const tl_read_plan_t *pl, qent_t *buf, const int64_t *q64,
                               const double *qf, size_t n, const asof_out_t *o) {
    uint64_t *w = (uint64_t *)(void *)buf, diff, kmin, kmax;
    bool sorted;
    if (!load(w, q64, qf, n, &sorted, &diff, &kmin, &kmax)) return TL_EINVAL;
    qcol_t c = {w, NULL, kmin, 0, 0, sorted, NULL};
    qchunks_t ch;
    if (!sorted) {
        unsigned lo = (unsigned)__builtin_ctzll(diff); /* diff != 0: the keys differ */
        unsigned span = 64u - (unsigned)__builtin_clzll(diff) - lo;
        unsigned ib = 64u - (unsigned)__builtin_clzll((uint64_t)n - 1); /* n >= 2 */
        /* A word holds (key - kmin) >> lo, whose bits are fewer than those in which the keys
         * differ when a carry ran through high bits (5M ms from 1.7e12 can flip bit 40). */
        unsigned wspan = 64u - (unsigned)__builtin_clzll((kmax - kmin) >> lo);
        if (wspan + ib <= 64) {
            span = wspan;
            for (size_t i = 0; i < n; i++) w[i] = ((w[i] - kmin) >> lo) << ib | i;
            if (n >= TL_ASOF_SPLIT_MIN) { /* sorted by the walking threads, chunk by chunk */
                c.w = chunks_split(w, w + n, n, ib, span, (size_t *)(void *)(w + 2 * n), &ch);
                c.ch = &ch;
            } else {
                c.w = radix_words(w, w + n, n, ib, span);
            }
            c.lo = lo;
            c.ib = ib;
        } else {
            for (size_t i = 0; i < n; i++) buf[i] = (qent_t){key_at(q64, qf, i), i};
            c.e = radix_ents(buf, buf + n, n, lo, span);
        }
    }
    answer_sorted(pl, &c, n, o);
    return TL_OK;
}

/* The bits of the quiet NaN a double log reports where no record is (tl_snapshot_asof_many_f64:
 * its h_out is then the value column as is, with nothing for the caller to patch; a binding
 * patching 100K answers in JS paid 1-2 ms on its first, interpreted, run). */
#define ASOF_NAN_BITS 0x7ff8000000000000ull

static tl_status_t asof_many(tl_snapshot_t *s, const int64_t *q64, const double *qf, size_t n,
                             asof_out_t *o) {
    if (s == NULL || (q64 == NULL && qf == NULL && n > 0)) return TL_EINVAL;
    if (n == 0) return TL_OK;
    if (n > SIZE_MAX / (2 * sizeof(qent_t))) return TL_EOVERFLOW;
    tl_read_plan_t pl;
    tl_status_t st = tl_snapshot_read_plan(s, &pl);
    if (st != TL_OK) return st;
    if (qf != NULL && pl.value_kind == TL_VALUES_F64) o->h_none = ASOF_NAN_BITS;
    size_t bytes = 2 * n * sizeof(qent_t); /* packed words use the first half */
    qent_t *buf = tl_scratch_take(pl.tl, bytes); /* kept mapped between calls (scratch.c) */
    if (buf == NULL) return TL_ENOMEM;
    /* A column long enough for two threads (answer_walk's split) wants both cores:
     * maintenance waits (hold.h). Taken before the sort, not at the thread's start, so the
     * worker has reached a hold point and slept by the time the helper needs the core (held
     * from the thread's start only, the first call over 5M records took 9-11 ms instead of
     * 6-7 in 5 of 12 runs; held from here, in 2 of 12, in the same minutes). */
    bool hold = n >= TL_ASOF_SPLIT_MIN;
    if (hold) tl_hold_enter(&pl.tl->hold);
    st = asof_column(&pl, buf, q64, qf, n, o);
    if (hold) tl_hold_leave(&pl.tl->hold);
    tl_scratch_give(pl.tl, buf);
    return st;
}

tl_status_t tl_snapshot_asof_many(tl_snapshot_t *s, const int64_t *ts, size_t n,
                                  int64_t *ts_out, uint64_t *h_out, uint8_t *found) {
    asof_out_t o = {ts_out, NULL, h_out, found, 0};
    return asof_many(s, ts, NULL, n, &o);
}

tl_status_t tl_snapshot_asof_many_f64(tl_snapshot_t *s, const double *ts, uint32_t n,
                                      double *ts_out, uint64_t *h_out, uint8_t *found) {
    asof_out_t o = {NULL, ts_out, h_out, found, 0};
    return asof_many(s, NULL, ts, n, &o);
}

tl_status_t tl_asof_many_f64(tl_timelog_t *tl, const double *ts, uint32_t n, double *ts_out,
                             uint64_t *h_out, uint8_t *found) {
    tl_snapshot_t *s = NULL;
    tl_status_t st = tl_view_take(tl, &s);
    if (st != TL_OK) return st;
    st = tl_snapshot_asof_many_f64(s, ts, n, ts_out, h_out, found);
    tl_view_put(tl, s);
    return st;
}
