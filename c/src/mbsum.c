/*
 * mbsum.c — computing miniblock summaries (mbsum.h), on the pack / load path while the
 * columns are in cache. The value pass is tl_sum_compute per miniblock, so a miniblock's sum,
 * min and max are exactly what the per-page and the decoding paths of agg.c compute for the
 * same 64 records.
 */
#include "mbsum.h"

void tl_mbsum_fences(tl_mbsum_t *m, const int64_t *ts, uint32_t n) {
    for (uint32_t i = 0, j = 0; i < n; i += TL_PCODEC_MB, j++) m[j].fence = ts[i];
}

void tl_mbsum_values(tl_mbsum_t *m, const uint64_t *h, uint32_t n) {
    for (uint32_t i = 0, j = 0; i < n; i += TL_PCODEC_MB, j++) {
        tl_sum_t s;
        tl_sum_compute(&s, h + i, n - i < TL_PCODEC_MB ? n - i : TL_PCODEC_MB);
        m[j].sum = s.sum;
        m[j].kmin = s.kmin;
        m[j].kmax = s.kmax;
    }
}
