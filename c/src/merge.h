/*
 * merge.h — the read pipeline: a stable k-way merge over ranked sources with tombstone
 * filtering, producing records of a closed range [lo, hi] in (ts, rank) order.
 *
 * A source is a chain of runs that are disjoint and ascending (the L1 windows form one chain;
 * every other run is a chain of one). Each run filters with its own wm. Ranks order sources by
 * age (lower = older = earlier on equal ts): L1 < L0 in flush order < memruns < current
 * generation (active run, then head runs in order, then the sorted head).
 */
#ifndef TL_MERGE_H
#define TL_MERGE_H

#include "run.h"
#include "tombs.h"

typedef struct tl_source {
    /* borrowed; must outlive the merge. Non-NULL runs in ascending order:
     * runs[i]->ts_max <= runs[i+1]->ts_min (equal ts across runs come out in chain order). */
    tl_run_t *const *runs;
    uint32_t nruns;
    uint32_t rank;
    bool packed; /* its runs may hold packed pages (L1): the merge gives its cursor a decode
                    window (a merge meeting a packed page in another source is a bug) */
} tl_source_t;

/* First run index of a chain with ts_max >= x (nruns if none): the one binary search every
 * reader starts a source with. */
static inline uint32_t tl_chain_first_ge(tl_run_t *const *runs, uint32_t nruns, int64_t x) {
    uint32_t first = 0, len = nruns;
    while (len > 0) {
        uint32_t half = len / 2;
        if (runs[first + half]->ts_max < x) {
            first += half + 1;
            len -= half + 1;
        } else {
            len = half;
        }
    }
    return first;
}

/* Number of runs of a chain with ts_min <= x (the last such run is that count minus one):
 * where a reader walking a chain backwards from x starts. */
static inline uint32_t tl_chain_count_le(tl_run_t *const *runs, uint32_t nruns, int64_t x) {
    uint32_t first = 0, len = nruns;
    while (len > 0) {
        uint32_t half = len / 2;
        if (runs[first + half]->ts_min <= x) {
            first += half + 1;
            len -= half + 1;
        } else {
            len = half;
        }
    }
    return first;
}

typedef struct tl_merge tl_merge_t;

/* Creates a merge over [lo, hi] (lo > hi is empty). srcs is copied; runs and tombs are
 * borrowed (the snapshot pins them). tombs may be NULL. ENOMEM. One allocation, O(K log)
 * work: no record is visited until tl_merge_next. Ranks should be distinct; equal ranks fall
 * back to the order of srcs. */
tl_status_t tl_merge_open(const tl_allocator_t *a, const tl_source_t *srcs, uint32_t nsrc,
                          const tl_tombs_t *tombs, int64_t lo, int64_t hi, tl_merge_t **out);

/* The same merge built in caller memory of tl_merge_bytes(srcs, nsrc) bytes (aligned for
 * int64_t), so a reader can keep the merge next to its own state in one allocation and reuse
 * that block. Cannot fail. tl_merge_close on it is a no-op: the caller frees the memory. */
size_t tl_merge_bytes(const tl_source_t *srcs, uint32_t nsrc);
tl_merge_t *tl_merge_init(void *mem, const tl_source_t *srcs, uint32_t nsrc,
                          const tl_tombs_t *tombs, int64_t lo, int64_t hi);

/* Up to cap next visible records into ts/h (either may be NULL). *n_out = count written.
 * Returns OK when *n_out > 0, EOF when exhausted (and on every later call). cap == 0 gives
 * OK with *n_out = 0 while records remain. */
tl_status_t tl_merge_next(tl_merge_t *m, int64_t *ts, uint64_t *h, size_t cap, size_t *n_out);

/* As tl_merge_next with timestamps converted to double while they are copied. */
tl_status_t tl_merge_next_f64(tl_merge_t *m, double *ts, uint64_t *h, size_t cap, size_t *n_out);

void tl_merge_close(tl_merge_t *m); /* accepts NULL */

/* Optional sink for hidden records: when set, every record the tombstone filter removes is
 * passed to fn (in ts order, in batches, before tl_merge_next returns the records after it)
 * instead of being skipped silently. Flush and compaction use it to report drops. A non-OK
 * return from fn makes tl_merge_next return that status (the merge is then unusable). */
typedef tl_status_t (*tl_merge_sink_fn)(void *ctx, const int64_t *ts, const uint64_t *h, size_t n);
void tl_merge_set_sink(tl_merge_t *m, tl_merge_sink_fn fn, void *ctx); /* before any next */

/* ---- the reverse merge (rmerge.c) ---- */

/* The same records as tl_merge over [lo, hi], in exactly the reverse order: timestamps
 * descending, equal timestamps newest first (higher rank first, then chain and insertion order
 * reversed). Built in caller memory like tl_merge_init (tl_rmerge_bytes, aligned for int64);
 * nothing to close. Lazy: no record is visited before tl_rmerge_next, and a batch of cap
 * records reads about cap records. No sink: hidden records are always skipped. */
typedef struct tl_rmerge tl_rmerge_t;
size_t tl_rmerge_bytes(const tl_source_t *srcs, uint32_t nsrc);
tl_rmerge_t *tl_rmerge_init(void *mem, const tl_source_t *srcs, uint32_t nsrc,
                            const tl_tombs_t *tombs, int64_t lo, int64_t hi);
/* As tl_merge_next / tl_merge_next_f64, newest first. */
tl_status_t tl_rmerge_next(tl_rmerge_t *m, int64_t *ts, uint64_t *h, size_t cap, size_t *n_out);
tl_status_t tl_rmerge_next_f64(tl_rmerge_t *m, double *ts, uint64_t *h, size_t cap,
                               size_t *n_out);

/* ---- point reads: the records at one timestamp (point.c) ---- */

/* The records at one timestamp t, in the merge's order (source rank, then chain and insertion
 * order), without the merge: all candidates share one ts, so no heap and no per-run tombstone
 * walk is needed (the skyline at t decides each run). srcs are borrowed, in ascending rank
 * order (as a snapshot plans them); sky = tl_tombs_seq_at(tombs, t).
 *
 * tl_point_read copies the handles of visible records [skip, skip + cap) at t into h (NULL:
 * none) and returns how many visible records there are at t in all. */
uint64_t tl_point_read(const tl_source_t *srcs, uint32_t nsrc, uint64_t sky, int64_t t,
                       uint64_t skip, uint64_t *h, size_t cap);

/* A resumable reader over the same records, for iterators: each call reads the next batch. */
typedef struct tl_point {
    const tl_source_t *srcs;
    uint32_t nsrc;
    bool done;
    int64_t t;
    uint64_t sky; /* the tombstone skyline at t */
    uint64_t skip; /* records returned so far */
} tl_point_t;

void tl_point_init(tl_point_t *pt, const tl_source_t *srcs, uint32_t nsrc,
                   const tl_tombs_t *tombs, int64_t t);
/* Up to cap next records into ts/h (either may be NULL); returns the number written, 0 only
 * at the end (then pt->done). */
size_t tl_point_next(tl_point_t *pt, int64_t *ts, uint64_t *h, size_t cap);
/* As tl_point_next, newest first (the reverse order); a cursor is read in one direction. */
size_t tl_point_next_rev(tl_point_t *pt, int64_t *ts, uint64_t *h, size_t cap);

/* ---- point queries over the same sources (query.c) ---- */

/* Visible records with lo <= ts <= hi. */
uint64_t tl_query_count(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                        int64_t lo, int64_t hi);
/* Smallest visible ts >= x: OK or EOF. */
tl_status_t tl_query_first_ge(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                              int64_t x, int64_t *out);
/* Largest visible ts <= x: OK or EOF. */
tl_status_t tl_query_last_le(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                             int64_t x, int64_t *out);
/* The last visible record with ts <= x in read order — the largest such ts, and among records
 * at that ts the one written last (srcs in ascending rank order, as a snapshot plans them):
 * its run and position (as-of reads, asof.c). hit->found is false when there is none. */
typedef struct tl_query_hit {
    const tl_run_t *r;
    tl_run_pos_t p;
    int64_t ts;
    bool found;
} tl_query_hit_t;
void tl_query_last_le_at(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                         int64_t x, tl_query_hit_t *hit);

/* ---- forward reads without a merge (direct.c) ---- */

/* For the common case where one source holds every record of [lo, hi] and no tombstone hides
 * any of them, the records are read straight from that chain, in exactly the merge's order.
 * A resumable cursor (iterators) and a one-call read. */
typedef struct tl_direct {
    tl_source_t src; /* the lone source (its runs borrowed, as the merge's) */
    bool done; /* nothing left: past hi, past the chain, or nothing met the range */
    uint32_t run, page, off; /* the next record */
    int64_t hi;
    /* The timestamps of miniblock first_mb of the page the open's seek landed in, decoded by
     * that seek: the first read takes them instead of decoding them again (UINT32_MAX: none,
     * or already used). */
    uint32_t first_mb;
    int64_t first_ts[TL_PCODEC_MB];
} tl_direct_t;

/* True when [lo, hi] needs no merge: *d then reads it (d->done when it is empty). False when
 * the range needs the merge (d unspecified). Searches and seeks; reads no record. */
bool tl_direct_open(tl_direct_t *d, const tl_source_t *srcs, uint32_t nsrc,
                    const tl_tombs_t *tombs, int64_t lo, int64_t hi);

/* Up to cap next records: timestamps into ts (as doubles) or ts64 (at most one of the two
 * non-NULL; both NULL: none), handles into h (may be NULL). Returns the count; 0 only at the
 * end. Exactly what tl_merge_next(_f64) would have given. */
size_t tl_direct_next(tl_direct_t *d, double *ts, int64_t *ts64, uint64_t *h, size_t cap);

/* The one-call form: true with *n_out (up to cap records of [lo, hi]) when the range needs no
 * merge; false, with nothing written, when it does. */
bool tl_direct_read_f64(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                        int64_t lo, int64_t hi, double *ts, uint64_t *h, size_t cap,
                        size_t *n_out);

#endif /* TL_MERGE_H */
