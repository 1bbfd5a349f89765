/*
 * mbsum.h — per-miniblock summaries of an f64 page: the first timestamp (fence), sum and
 * min / max keys of each TL_PCODEC_MB (64) records, so a bucketed aggregate (agg.c) adds the
 * miniblocks that lie wholly inside a bucket in O(1) and decodes only the one miniblock that
 * holds each bucket edge. Fine buckets (a few hundred records) then read ~1/8 of the records
 * instead of all of them.
 *
 * In memory only: computed when a page is packed or loaded from a segment file (page.c keeps
 * them in the packed page's allocation, after its blob), or, for a raw page, with its page
 * summary (tl_page_sum_build: at the end of its allocation); never written to disk. 32 bytes
 * a miniblock: 0.5 byte a record.
 *
 * The rules are summary.h's. No NaN flag and no first / last value: a NaN value's key sorts
 * outside [key(-inf), key(+inf)] (tl_mbsum_nan), and first / last come from the decoded edge
 * miniblock or tl_pcodec_h_at.
 */
#ifndef TL_MBSUM_H
#define TL_MBSUM_H

#include "codec/pcodec.h"
#include "summary.h"

typedef struct tl_mbsum {
    int64_t fence; /* timestamp of the miniblock's first record */
    double sum; /* summary.h's sum of its values */
    int64_t kmin, kmax; /* min / max keys (tl_sum_key) over every value, NaN included */
} tl_mbsum_t;

/* Bytes of the summaries of an n-record page. */
static inline size_t tl_mbsum_bytes(uint32_t n) {
    return (size_t)((n + TL_PCODEC_MB - 1) / TL_PCODEC_MB) * sizeof(tl_mbsum_t);
}

/* True when min / max keys kmin, kmax (over any set of values) say a value is NaN. */
static inline bool tl_mbsum_nan(int64_t kmin, int64_t kmax) {
    return kmin < tl_sum_key(0xfff0000000000000ull) || kmax > tl_sum_key(0x7ff0000000000000ull);
}

/* The fences of ts[0, n) into m[nmb]; then the values of h[0, n) (n >= 1), with the page's
 * summary *s (tl_sum_compute over h[0, n), bit for bit) from the same pass. Two calls so a
 * page loaded from disk can decode both columns through one scratch buffer. */
void tl_mbsum_fences(tl_mbsum_t *m, const int64_t *ts, uint32_t n);
void tl_mbsum_page(tl_sum_t *s, tl_mbsum_t *m, const uint64_t *h, uint32_t n);

/* The miniblock summaries of page p (page.c), or NULL when it has none (a page of a log whose
 * values are not doubles, a raw page none was built for). They describe all of a packed
 * page's records, and a raw page's first tl_page_sum(p)->n (built with its page summary). */
struct tl_page;
const tl_mbsum_t *tl_page_mbsum(const struct tl_page *p);

#endif /* TL_MBSUM_H */
