/*
 * jobs.h — the maintenance jobs (caller holds maint_mu). Each builds its output off every
 * lock and publishes it through publish.h; none of them calls back into the writer or the
 * worker, which call them.
 */
#ifndef TL_JOBS_H
#define TL_JOBS_H

#include "publish.h"

/* Flushes every queued memrun into one L0 run (flush.c). *did = whether there was work. */
tl_status_t tl_flush_job(tl_timelog_t *tl, bool *did);
/* Compacts every L0 run into L1 and applies every pending tombstone (compact.c). */
tl_status_t tl_compact_job(tl_timelog_t *tl, bool *did);
/* Flush, then compact until no L0 segment or pending tombstone is left (compact.c). */
tl_status_t tl_compact_sealed_job(tl_timelog_t *tl);
/* Everything tl_compact does after its seal (compact.c): flush, compact until no L0 segment
 * or pending tombstone is left, pack every L1 page, relocate what stays raw. Packing and
 * relocation are best effort (their ENOMEM leaves pages as and where they are). */
tl_status_t tl_compact_all_job(tl_timelog_t *tl);
/* Freed page blocks and heap holes back to the system (after tl_compact_all_job, with no
 * lock held). */
void tl_give_back(tl_timelog_t *tl);
/* Empties the sparsest page-arena chunks by moving their L1 pages into the others' free
 * blocks (relocate.c); best effort: ENOMEM publishes nothing. */
tl_status_t tl_relocate_job(tl_timelog_t *tl);
/* Replaces L1 pages through fn (tl_run_remap) in every L1 segment but the last keep_last, and
 * publishes the result in one manifest when any page changed (*did). Records, order and
 * watermarks are unchanged. ENOMEM (or fn's error) publishes nothing. (relocate.c) */
tl_status_t tl_l1_remap_job(tl_timelog_t *tl, tl_run_remap_fn fn, void *ctx, uint32_t keep_last,
                            bool *did);
/* Packs the raw pages of every L1 segment but the last keep_last (pack.c); a no-op when
 * cfg.raw_pages. At most max_pages pages (0: no limit), oldest first; *more (may be NULL)
 * when raw pages were left for a later job. *did when a page was packed. ENOMEM publishes
 * nothing. */
tl_status_t tl_pack_job(tl_timelog_t *tl, uint32_t keep_last, uint32_t max_pages, bool *did,
                        bool *more);
/* Sealed memtables waiting for their flush (flush.c; takes state_mu). */
uint32_t tl_memruns_queued(tl_timelog_t *tl);
/* For a long job that runs on the worker off maint_mu (a checkpoint), between its slices:
 * when a sealed memtable waits, takes maint_mu, flushes, and wakes the writers waiting under
 * backpressure (flush.c). The caller holds no engine lock. A failed flush leaves the
 * memtables queued for the worker's next round, which reports it. */
void tl_flush_between(tl_timelog_t *tl);
/* Bounds [*wlo, *whi] of the L1 window holding ts (compact.c). */
void tl_window_of(const tl_timelog_t *tl, int64_t ts, int64_t *wlo, int64_t *whi);
/* True when L0 holds >= l0_max runs or a tombstone hides stored L0/L1 data (compact.c). */
bool tl_compact_wanted(tl_timelog_t *tl);

#endif /* TL_JOBS_H */
