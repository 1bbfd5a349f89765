/*
 * rewrite.h — the maintenance merge: ranked runs in, one run out, sharing every page that
 * can be kept as is.
 *
 * Used by flush (memrun runs -> one L0 run) and compaction (an L1 window segment plus the L0
 * runs restricted to that window -> the new segment). Records come out in (ts, rank) order
 * (ranks = position in the input array, older first). Records hidden by the tombstone set
 * (skyline > the input run's wm) are removed and recorded as drop spans that point into the
 * input pages (the caller keeps the inputs pinned until the drops are delivered).
 */
#ifndef TL_REWRITE_H
#define TL_REWRITE_H

#include "hold.h"
#include "jobs.h"

typedef struct tl_drop_span {
    tl_page_t *page; /* borrowed: pinned by the caller's manifest */
    uint32_t off, n;
} tl_drop_span_t;

typedef struct tl_drops {
    const tl_allocator_t *alloc;
    tl_drop_span_t *v;
    uint32_t n, cap;
    uint64_t records;
    bool keep; /* false: only count (nobody listens) */
} tl_drops_t;

void tl_drops_init(tl_drops_t *d, const tl_allocator_t *a, bool keep);
tl_status_t tl_drops_add(tl_drops_t *d, tl_page_t *p, uint32_t off, uint32_t n);
/* Reports every span (no lock held, after the publish), then frees the list. */
void tl_drops_deliver(tl_timelog_t *tl, tl_drops_t *d);
void tl_drops_free(tl_drops_t *d);

typedef struct tl_rw_stats {
    uint64_t pages_shared, pages_written;
} tl_rw_stats_t;

/* Merges the records lo <= ts <= hi of runs[0..n) (rank = index) into *out (NULL when no
 * record survives), stamped wm_out. Pages lying wholly in the range, not met by any other
 * input's remaining records and not met by a tombstone fragment with seq > their run's wm are
 * shared by reference; pages wholly covered by such a fragment are dropped without copying.
 * sums: the values are doubles, so the pages written get value summaries (summary.h).
 * hold: paused between steps while a read holds maintenance off (hold.h); NULL never pauses.
 * ENOMEM (drops and outputs are then released; inputs are untouched). */
tl_status_t tl_rewrite(const tl_allocator_t *a, uint32_t page_records, bool sums,
                       tl_run_t *const *runs,
                       uint32_t n, int64_t lo, int64_t hi, const tl_tombs_t *tombs,
                       uint64_t wm_out, tl_drops_t *drops, tl_rw_stats_t *stats,
                       tl_hold_t *hold, tl_run_t **out);

#endif /* TL_REWRITE_H */
