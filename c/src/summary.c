/*
 * summary.c — computing a page summary (summary.h): one pass over a value column.
 *
 * Why its own file: both the page codec side (page.c summarizes a page when it packs it, while
 * the values are in cache) and the aggregate reader (agg.c, over the records it decodes)
 * need the same pass; neither may call the other.
 *
 * The pass keeps four lanes (sums and key extremes) so the compiler can vectorize it and the
 * additions do not wait on each other; NaN is found by v != v. About 0.3-0.5 ns a value here.
 */
#include "summary.h"

void tl_sum_compute(tl_sum_t *s, const uint64_t *h, uint32_t n) {
    enum { L = 4 };
    double sum[L] = {0, 0, 0, 0};
    int64_t kmin[L], kmax[L];
    uint32_t nan = 0;
    for (int l = 0; l < L; l++) {
        kmin[l] = INT64_MAX;
        kmax[l] = INT64_MIN;
    }
    uint32_t i = 0;
    for (; i + L <= n; i += L) {
        for (int l = 0; l < L; l++) {
            double v = tl_sum_f64(h[i + (uint32_t)l]);
            int64_t k = tl_sum_key(h[i + (uint32_t)l]);
            sum[l] += v;
            nan |= v != v;
            kmin[l] = k < kmin[l] ? k : kmin[l];
            kmax[l] = k > kmax[l] ? k : kmax[l];
        }
    }
    for (; i < n; i++) {
        double v = tl_sum_f64(h[i]);
        int64_t k = tl_sum_key(h[i]);
        sum[0] += v;
        nan |= v != v;
        kmin[0] = k < kmin[0] ? k : kmin[0];
        kmax[0] = k > kmax[0] ? k : kmax[0];
    }
    s->n = n;
    s->nan = nan;
    s->sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
    s->kmin = kmin[0];
    s->kmax = kmax[0];
    for (int l = 1; l < L; l++) {
        s->kmin = kmin[l] < s->kmin ? kmin[l] : s->kmin;
        s->kmax = kmax[l] > s->kmax ? kmax[l] : s->kmax;
    }
    s->first = h[0];
    s->last = h[n - 1];
}
