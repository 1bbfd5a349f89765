/*
 * summary.c — computing a page summary (summary.h): one pass over a value column.
 *
 * Why its own file: both the page codec side (page.c summarizes a page when it packs it, while
 * the values are in cache) and the aggregate reader (agg.c, over the records it decodes)
 * need the same pass; neither may call the other.
 *
 * The pass keeps eight lanes (sumlanes.h) so the additions do not wait on each other.
 */
#include "summary.h"

#include "codec/cpu.h"
#include "sumlanes.h"

/* A scalar loop with the same rules ran at ~1.3 ns a value here (a compare, a setp and a
 * branchy min/max per value, nothing vectorized); the eight lanes of sumlanes.h at ~0.15. */
static inline __attribute__((always_inline)) void sum_pass(tl_sum_t *s, const uint64_t *h,
                                                           uint32_t n) {
    tl_vd_t sum = {0};
    tl_vi_t nan = {0};
    tl_lane_keys_t keys;
    tl_lane_keys_init(&keys);
    uint32_t i = 0;
    for (; i + TL_LANES <= n; i += TL_LANES) {
        tl_vd_t v;
        tl_lane_step(h + i, &v, &nan, &keys);
        sum += v;
    }
    double tail = 0;
    uint32_t nan1 = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    tl_lane_tail(h, i, n, &tail, &nan1, &mn, &mx);
    tl_lane_keys_fold(&keys, &mn, &mx);
    tl_lane_summary(s, h, n, &sum, tail, &nan, nan1, mn, mx);
}

static void sum_base(tl_sum_t *s, const uint64_t *h, uint32_t n) { sum_pass(s, h, n); }

#if TL_CPU_DISPATCH
/* AVX2 has the 64-bit integer compare the key extremes need; SSE2 has none, so a baseline
 * build emulates it lane by lane: the pass was 14% of a baseline build's ingest (C, users'
 * shape, in memory), where it does not show in a native one. */
TL_CPU_AVX2 static void sum_avx2(tl_sum_t *s, const uint64_t *h, uint32_t n) {
    sum_pass(s, h, n);
}
#endif

void tl_sum_compute(tl_sum_t *s, const uint64_t *h, uint32_t n) {
    TL_CPU_PICK(sum, s, h, n);
}
