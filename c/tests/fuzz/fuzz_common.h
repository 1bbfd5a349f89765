/*
 * fuzz_common.h — shared helpers of the libFuzzer targets in c/tests/fuzz/ (header-only).
 *
 * An input is read as a stream of bytes; reading past the end yields zeros, so every input is
 * a valid program. Timestamps come from a selector byte: a small range (many duplicates), the
 * int64 and ±2^53 edges, or eight raw bytes. The reference model is a vector of (ts, handle)
 * kept sorted by (ts, insertion order). FZ_CHECK prints the failed condition and aborts, so a
 * mismatch is a crash for libFuzzer, with the input saved as an artifact.
 */
#ifndef TL_FUZZ_COMMON_H
#define TL_FUZZ_COMMON_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timelog.h"

#define FZ_TWO53 9007199254740992ll

#define FZ_CHECK(cond, ...)                                                               \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                        \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

typedef struct { const uint8_t *p; size_t n, pos; } fz_in_t;

static inline bool fz_more(const fz_in_t *in) { return in->pos < in->n; }

static inline uint8_t fz_u8(fz_in_t *in) { return in->pos < in->n ? in->p[in->pos++] : 0; }

static inline uint16_t fz_u16(fz_in_t *in) {
    uint16_t a = fz_u8(in);
    return (uint16_t)(a | (uint16_t)fz_u8(in) << 8);
}

static inline uint64_t fz_u64(fz_in_t *in) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)fz_u8(in) << (8 * i);
    return v;
}

/* Interesting timestamps: edges of int64 and of the exact-double range. */
static const int64_t fz_special[16] = {INT64_MIN, INT64_MIN + 1, INT64_MAX - 1, INT64_MAX,
                                       -FZ_TWO53 - 1, -FZ_TWO53, FZ_TWO53, FZ_TWO53 + 1,
                                       -1, 0, 1, 1000, (int64_t)1 << 32, -((int64_t)1 << 40),
                                       INT64_MAX / 2, INT64_MIN / 2};

/* A timestamp: small (0..63, shifted by -8), special, special +/- small, or raw. */
static inline int64_t fz_ts(fz_in_t *in) {
    uint8_t s = fz_u8(in);
    if (s < 160) return (int64_t)(s & 63) - 8;
    if (s < 208) return fz_special[s & 15];
    if (s < 240) {
        int64_t base = fz_special[s & 15], d = (int64_t)(fz_u8(in) & 7) - 3;
        if (d > 0 && base > INT64_MAX - d) return INT64_MAX;
        if (d < 0 && base < INT64_MIN - d) return INT64_MIN;
        return base + d;
    }
    return (int64_t)fz_u64(in);
}

/* ----------------------------------------------------------------------------------------
 * The model
 * -------------------------------------------------------------------------------------- */

typedef struct { int64_t ts; uint64_t h; } fz_rec_t;
typedef struct { fz_rec_t *v; size_t n, cap; } fz_vec_t;

static inline void fz_reserve(fz_vec_t *a, size_t need) {
    if (need <= a->cap) return;
    size_t cap = a->cap ? a->cap * 2 : 64;
    while (cap < need) cap *= 2;
    fz_rec_t *v = realloc(a->v, cap * sizeof *v);
    FZ_CHECK(v != NULL, "out of memory");
    a->v = v;
    a->cap = cap;
}

static inline void fz_copy(fz_vec_t *dst, const fz_vec_t *src) {
    fz_reserve(dst, src->n);
    if (src->n) memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
}

static inline void fz_vfree(fz_vec_t *a) { free(a->v); *a = (fz_vec_t){0}; }

static inline size_t fz_lower(const fz_vec_t *a, int64_t ts) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid].ts < ts) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static inline size_t fz_upper(const fz_vec_t *a, int64_t ts) {
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->v[mid].ts <= ts) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* [*b, *e) = records with lo <= ts <= hi. */
static inline void fz_span(const fz_vec_t *a, int64_t lo, int64_t hi, size_t *b, size_t *e) {
    if (lo > hi) { *b = *e = 0; return; }
    *b = fz_lower(a, lo);
    *e = fz_upper(a, hi);
}

static inline void fz_insert(fz_vec_t *m, int64_t ts, uint64_t h) {
    size_t i = fz_upper(m, ts);
    fz_reserve(m, m->n + 1);
    memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof *m->v);
    m->v[i] = (fz_rec_t){ts, h};
    m->n++;
}

static inline uint64_t fz_bits(double d) { uint64_t u; memcpy(&u, &d, sizeof u); return u; }

/* The header's rule for f64 timestamps: an exact integer within [-lim, lim], where lim is
 * 2^53, or 2^53 - 1 for tl_append_batch_f64 with TL_F64_SAFE. */
static inline bool fz_f64_ts_within(double x, int64_t lim, int64_t *out) {
    if (!(x >= -(double)lim && x <= (double)lim)) return false; /* NaN, inf, big */
    int64_t t = (int64_t)x;
    if ((double)t != x) return false;
    *out = t;
    return true;
}

static inline bool fz_f64_ts(double x, int64_t *out) {
    return fz_f64_ts_within(x, FZ_TWO53, out);
}

#endif /* TL_FUZZ_COMMON_H */
