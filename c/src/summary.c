/*
 * summary.c — computing a page summary (summary.h): one pass over a value column.
 *
 * Why its own file: both the page codec side (page.c summarizes a page when it packs it, while
 * the values are in cache) and the aggregate reader (agg.c, over the records it decodes)
 * need the same pass; neither may call the other.
 *
 * The pass keeps eight lanes (sums, NaN flags and key extremes) so the additions do not wait
 * on each other; NaN is found by v != v.
 */
#include "summary.h"

#include "codec/cpu.h"

/* Eight lanes as GNU vectors (AVX-512: one register; SSE2: four): sums, NaN flags and key
 * extremes. A scalar loop with the same rules ran at ~1.3 ns a value here (a compare, a
 * setp and a branchy min/max per value, nothing vectorized); this one at ~0.15. */
typedef double vd_t __attribute__((vector_size(64)));
typedef int64_t vi_t __attribute__((vector_size(64)));
enum { L = 8 };

/* tl_sum_key on each lane. A macro, not a function: a 64-byte vector passed by value changes
 * the calling convention on CPUs without AVX-512 (the baseline builds refuse it). */
#define VKEY(b) ((b) ^ (((b) >> 63) & INT64_MAX))

/* The pass, inlined into one function per instruction set (codec/cpu.h). */
static inline __attribute__((always_inline)) void sum_pass(tl_sum_t *s, const uint64_t *h,
                                                           uint32_t n) {
    vd_t sum = {0};
    vi_t nan = {0}, kmin, kmax;
    for (int l = 0; l < L; l++) {
        kmin[l] = INT64_MAX;
        kmax[l] = INT64_MIN;
    }
    uint32_t i = 0;
    for (; i + L <= n; i += L) {
        vd_t v;
        vi_t b;
        memcpy(&v, h + i, sizeof v);
        memcpy(&b, h + i, sizeof b);
        vi_t k = VKEY(b);
        sum += v;
        nan |= (vi_t)(v != v);
        vi_t lt = k < kmin, gt = k > kmax;
        kmin = (k & lt) | (kmin & ~lt);
        kmax = (k & gt) | (kmax & ~gt);
    }
    double tail = 0;
    uint32_t nan1 = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    for (; i < n; i++) {
        double v = tl_sum_f64(h[i]);
        int64_t k = tl_sum_key(h[i]);
        tail += v;
        nan1 |= v != v;
        mn = k < mn ? k : mn;
        mx = k > mx ? k : mx;
    }
    double total = ((sum[0] + sum[1]) + (sum[2] + sum[3])) +
                   ((sum[4] + sum[5]) + (sum[6] + sum[7]));
    for (int l = 0; l < L; l++) {
        nan1 |= nan[l] != 0;
        mn = kmin[l] < mn ? kmin[l] : mn;
        mx = kmax[l] > mx ? kmax[l] : mx;
    }
    s->n = n;
    s->nan = nan1;
    s->sum = total + tail;
    s->kmin = mn;
    s->kmax = mx;
    s->first = h[0];
    s->last = h[n - 1];
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
