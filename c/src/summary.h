/*
 * summary.h — per-page summaries of f64 values (count, sum, min, max, first, last), and the
 * accumulation rules every aggregate shares (agg.c), so a summary and a read of the same
 * records agree.
 *
 * Values are the records' handles read as IEEE-754 doubles (logs with value_kind
 * TL_VALUES_F64). The rules:
 *   - sum: the IEEE sum (NaN if any value is NaN, or if +inf and -inf both occur). Floating
 *     addition is not associative: sums are taken in page order, eight lanes at a time, and
 *     combined page by page or miniblock by miniblock (mbsum.h), so the last bits can differ
 *     from a left-to-right sum (exact for integers below 2^53).
 *   - min / max: NaN when any value is NaN; otherwise the numeric extreme with -0 < +0, as
 *     JavaScript's Math.min / Math.max. They are kept as ordered int64 keys (tl_sum_key), so
 *     combining in any order gives the same bits.
 *   - first / last: the value of the first / last record in read order, bit for bit.
 * A summary describes exactly n records of a page (the whole of a packed page; the first n of
 * a raw one); n = 0 means there is none. Packed pages of doubles get theirs when packed; raw
 * pages of doubles when they fill (the memtable's pages, as the writer moves to the next) or
 * are sealed by a run builder (sorted out-of-order data, flush and compaction output), while
 * their values are in cache: ~0.15 ns a value, so aggregates read a log right after ingest
 * (memtable generations, L0, the newest time window) from summaries, not records.
 */
#ifndef TL_SUMMARY_H
#define TL_SUMMARY_H

#include "tl_common.h"

typedef struct tl_sum {
    uint32_t n; /* records described; 0 = no summary */
    uint32_t nan; /* 1 when a value is NaN */
    double sum;
    int64_t kmin, kmax; /* min / max as ordered keys (unused when nan) */
    uint64_t first, last; /* value bits of the first and last record */
} tl_sum_t;

/* The bits of a double as an int64 whose signed order is the numeric order with -0 < +0
 * (NaNs land at the ends; summaries flag them instead). Its own inverse. */
static inline int64_t tl_sum_key(uint64_t bits) {
    int64_t k = (int64_t)bits;
    return k >= 0 ? k : (int64_t)(bits ^ 0x7fffffffffffffffull);
}

static inline double tl_sum_f64(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Summarizes values h[0, n), n >= 1, into *s (s->n = n). */
void tl_sum_compute(tl_sum_t *s, const uint64_t *h, uint32_t n);

/* The summary of page p (page.c keeps it in the page's allocation), or NULL when p has none:
 * a page packed without TL_PCODEC_F64, or a raw page none was built for. It describes the
 * whole of a packed page, and the first s->n records of a raw one. */
struct tl_page;
const tl_sum_t *tl_page_sum(const struct tl_page *p);

#endif /* TL_SUMMARY_H */
