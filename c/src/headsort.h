/*
 * headsort.h — sorted views of a head prefix, shared through the head's cache.
 *
 * A head (memtable.h) is an unsorted buffer of out-of-order records. Readers need its first
 * n records sorted (stable: equal timestamps in arrival order), and so does the writer when
 * the head fills (it becomes a head run) or the generation seals. Sorting 2048 records took
 * the writer 17-20 us inside one write call, every tenth 4096-record call on the bench data:
 * the tail of the append latency. So the sort is built once per count and kept in the head
 * (tl_head_t.sorted, under sort_mu): readers extend it, maintenance extends it ahead of the
 * writer each time the writer asks (every quarter of a head: write.c, hold.h, helper.h), and
 * the writer takes what is there and sorts only the rest.
 */
#ifndef TL_HEADSORT_H
#define TL_HEADSORT_H

#include "memtable.h"

/* Stable sort of n records (ts, h) into a new run of pages (page_records) with watermark wm.
 * Inputs are only read. *out = NULL when n == 0. ENOMEM. */
tl_status_t tl_sort_to_run(const tl_allocator_t *a, uint32_t page_records, bool sums,
                           const int64_t *ts, const uint64_t *h, size_t n, uint64_t wm,
                           tl_run_t **out);

/* The stable sort of records [0, n) of hd (n >= 1), wm TL_SEQ_MAX, one reference for the
 * caller: the cache when it holds exactly n records; else the cache extended (only the records
 * since sorted, then merged after it) and published; a count below the cache's sorts
 * privately. `sums`: a newly built sort gets value summaries (f64 logs). ENOMEM. */
tl_status_t tl_head_sorted(tl_head_t *hd, const tl_allocator_t *a, uint32_t page_records,
                           bool sums, uint32_t n, tl_run_t **out);

/* The head's cached sort when it covers between min and n of its first n records (min >= 1),
 * one reference for the caller; NULL otherwise, and NULL while another thread is sorting.
 * Never sorts, never waits. */
tl_run_t *tl_head_cached(tl_head_t *hd, uint32_t n, uint32_t min);

/* The sorted runs of head records [0, n), wm TL_SEQ_MAX, appended to out[] (room for 2):
 * the cached sort when it covers at least half, followed by a sort of the records after it
 * (equal timestamps keep arrival order because the second run ranks after the first); else
 * one sort of them all. *k: runs stored. ENOMEM (nothing stored). */
tl_status_t tl_head_runs(tl_head_t *hd, const tl_allocator_t *a, uint32_t page_records,
                         bool sums, uint32_t n, tl_run_t *out[2], uint32_t *k);

#endif /* TL_HEADSORT_H */
