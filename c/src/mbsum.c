/*
 * mbsum.c — computing miniblock summaries (mbsum.h), on the pack / load path while the
 * columns are in cache. The value pass gives each miniblock's sum, min and max exactly as
 * tl_sum_compute over its 64 records would, which is what the per-page and the decoding paths
 * of agg.c compute for them, and the page's summary as tl_sum_compute over the page.
 */
#include "mbsum.h"

#include "codec/cpu.h"
#include "sumlanes.h"

void tl_mbsum_fences(tl_mbsum_t *m, const int64_t *ts, uint32_t n) {
    for (uint32_t i = 0, j = 0; i < n; i += TL_PCODEC_MB, j++) m[j].fence = ts[i];
}

/* One pass for both: each group of eight values goes into the page's lanes and into its
 * miniblock's, so each sum adds the same values in the same lane order as tl_sum_compute over
 * the page or over the miniblock would (miniblocks start at multiples of 64, so value i takes
 * lane i % 8 in both; only the last miniblock has a tail, which is also the page's). Key
 * extremes and NaN flags are exact in any order, so the page takes its miniblocks'. Two passes
 * (tl_sum_compute, then once per miniblock) cost a full page 3.2 us on the writer's thread,
 * each time its memtable page filled (users' shape; the call's median was 3-6 us). */
static inline __attribute__((always_inline)) void page_pass(tl_sum_t *s, tl_mbsum_t *m,
                                                            const uint64_t *h, uint32_t n) {
    tl_vd_t psum = {0};
    tl_vi_t nan = {0};
    uint32_t nan1 = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    double tail = 0;
    for (uint32_t i = 0, j = 0; i < n; i += TL_PCODEC_MB, j++) {
        uint32_t end = n - i < TL_PCODEC_MB ? n : i + TL_PCODEC_MB, k = i;
        tl_vd_t bsum = {0};
        tl_lane_keys_t keys;
        tl_lane_keys_init(&keys);
        for (; k + TL_LANES <= end; k += TL_LANES) {
            tl_vd_t v;
            tl_lane_step(h + k, &v, &nan, &keys);
            psum += v;
            bsum += v;
        }
        int64_t bmn = INT64_MAX, bmx = INT64_MIN;
        tl_lane_tail(h, k, end, &tail, &nan1, &bmn, &bmx);
        tl_lane_keys_fold(&keys, &bmn, &bmx);
        m[j].sum = tl_lane_total(&bsum) + tail; /* tail stays 0 but in the last miniblock */
        m[j].kmin = bmn;
        m[j].kmax = bmx;
        mn = bmn < mn ? bmn : mn;
        mx = bmx > mx ? bmx : mx;
    }
    tl_lane_summary(s, h, n, &psum, tail, &nan, nan1, mn, mx);
}

static void page_base(tl_sum_t *s, tl_mbsum_t *m, const uint64_t *h, uint32_t n) {
    page_pass(s, m, h, n);
}

#if TL_CPU_DISPATCH
TL_CPU_AVX2 static void page_avx2(tl_sum_t *s, tl_mbsum_t *m, const uint64_t *h, uint32_t n) {
    page_pass(s, m, h, n);
}
#endif

void tl_mbsum_page(tl_sum_t *s, tl_mbsum_t *m, const uint64_t *h, uint32_t n) {
    TL_DASSERT(n >= 1);
    TL_CPU_PICK(page, s, m, h, n);
}
