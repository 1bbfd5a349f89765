/*
 * sumlanes.h — the eight-lane step of a value summary (summary.h's rules), shared by the
 * pass over one stretch of values (summary.c) and the pass that summarizes a page and each of
 * its miniblocks at once (mbsum.c), so both give the same bits for the same values.
 *
 * Eight lanes as GNU vectors (AVX-512: one register; SSE2: four): sums, NaN flags and key
 * extremes, so the additions do not wait on each other; NaN is found by v != v. Value i of a
 * stretch goes to lane i % 8; the values after the last whole group of eight are a scalar
 * tail. Functions here are always inlined into one kernel per instruction set (codec/cpu.h),
 * and take their vectors by pointer: a 64-byte vector passed by value changes the calling
 * convention on CPUs without AVX-512 (the baseline builds refuse it).
 */
#ifndef TL_SUMLANES_H
#define TL_SUMLANES_H

#include "summary.h"

typedef double tl_vd_t __attribute__((vector_size(64)));
typedef int64_t tl_vi_t __attribute__((vector_size(64)));
enum { TL_LANES = 8 };

/* tl_sum_key on each lane. A macro, not a function: see the calling convention above. */
#define TL_VKEY(b) ((b) ^ (((b) >> 63) & INT64_MAX))

#define TL_LANES_INLINE static inline __attribute__((always_inline))

/* Key extremes of a stretch, lane by lane. */
typedef struct tl_lane_keys {
    tl_vi_t kmin, kmax;
} tl_lane_keys_t;

TL_LANES_INLINE void tl_lane_keys_init(tl_lane_keys_t *k) {
    for (int l = 0; l < TL_LANES; l++) {
        k->kmin[l] = INT64_MAX;
        k->kmax[l] = INT64_MIN;
    }
}

/* Eight values h[0, 8): into *v as doubles (the caller adds them to its sum lanes), their NaN
 * flags into *nan and their keys into *k. */
TL_LANES_INLINE void tl_lane_step(const uint64_t *h, tl_vd_t *v, tl_vi_t *nan, tl_lane_keys_t *k) {
    tl_vi_t b;
    memcpy(v, h, sizeof *v);
    memcpy(&b, h, sizeof b);
    *nan |= (tl_vi_t)(*v != *v);
    tl_vi_t key = TL_VKEY(b);
    tl_vi_t lt = key < k->kmin, gt = key > k->kmax;
    k->kmin = (key & lt) | (k->kmin & ~lt);
    k->kmax = (key & gt) | (k->kmax & ~gt);
}

/* The values h[from, to) after the last whole group of eight, one at a time: added in order onto
 * *tail, their NaN flag into *nan, their keys into *mn / *mx. */
TL_LANES_INLINE void tl_lane_tail(const uint64_t *h, uint32_t from, uint32_t to, double *tail,
                                  uint32_t *nan, int64_t *mn, int64_t *mx) {
    for (uint32_t i = from; i < to; i++) {
        double v = tl_sum_f64(h[i]);
        int64_t k = tl_sum_key(h[i]);
        *tail += v;
        *nan |= v != v;
        *mn = k < *mn ? k : *mn;
        *mx = k > *mx ? k : *mx;
    }
}

/* The lanes' sums combined in summary.h's fixed order. */
TL_LANES_INLINE double tl_lane_total(const tl_vd_t *s) {
    return (((*s)[0] + (*s)[1]) + ((*s)[2] + (*s)[3])) +
           (((*s)[4] + (*s)[5]) + ((*s)[6] + (*s)[7]));
}

/* The lanes' key extremes folded into *mn / *mx (exact in any order). */
TL_LANES_INLINE void tl_lane_keys_fold(const tl_lane_keys_t *k, int64_t *mn, int64_t *mx) {
    for (int l = 0; l < TL_LANES; l++) {
        *mn = k->kmin[l] < *mn ? k->kmin[l] : *mn;
        *mx = k->kmax[l] > *mx ? k->kmax[l] : *mx;
    }
}

/* True when a lane of NaN flags is set. */
TL_LANES_INLINE bool tl_lane_any(const tl_vi_t *f) {
    bool any = false;
    for (int l = 0; l < TL_LANES; l++) any |= (*f)[l] != 0;
    return any;
}

/* The summary of h[0, n) from its pass: the sum lanes and the tail added after them, the NaN
 * flags (lanes and tail) and the key extremes. */
TL_LANES_INLINE void tl_lane_summary(tl_sum_t *s, const uint64_t *h, uint32_t n,
                                     const tl_vd_t *sum, double tail, const tl_vi_t *nan,
                                     uint32_t nan1, int64_t mn, int64_t mx) {
    s->n = n;
    s->nan = nan1 | tl_lane_any(nan);
    s->sum = tl_lane_total(sum) + tail;
    s->kmin = mn;
    s->kmax = mx;
    s->first = h[0];
    s->last = h[n - 1];
}

#endif /* TL_SUMLANES_H */
