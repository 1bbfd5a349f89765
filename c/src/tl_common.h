/*
 * tl_common.h — what every engine file shares: allocation through the configured hook,
 * assertions, small helpers. Nothing here holds state: the allocator travels as a pointer.
 */
#ifndef TL_COMMON_H
#define TL_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "timelog.h"

/* Allocate / free through the log's hook (sized free). Both accept a NULL `a` = libc. */
void *tl_mem_alloc(const tl_allocator_t *a, size_t size);
void *tl_mem_calloc(const tl_allocator_t *a, size_t count, size_t size); /* NULL on overflow */
void tl_mem_free(const tl_allocator_t *a, void *ptr, size_t size);

/* The libc-backed default allocator (a static const object, shared by all logs). */
const tl_allocator_t *tl_default_allocator(void);

/* Gives the default allocator's free memory back to the OS (glibc malloc_trim); no-op for
 * any other allocator or C library. Costs a walk of the heap's free chunks: call it after
 * bulk frees (tl_compact), not per operation. */
void tl_mem_trim(const tl_allocator_t *a);

/* Invariant check that stays on in release builds for cheap, catastrophic conditions. */
void tl_panic(const char *file, int line, const char *what);
#define TL_ASSERT(cond)                                                                  \
    do {                                                                                 \
        if (!(cond)) tl_panic(__FILE__, __LINE__, #cond);                                \
    } while (0)

#ifdef NDEBUG
#define TL_DASSERT(cond) ((void)0)
#else
#define TL_DASSERT(cond) TL_ASSERT(cond)
#endif

#define TL_LIKELY(x) __builtin_expect(!!(x), 1)
#define TL_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TL_SEQ_MAX UINT64_MAX /* watermark of mutable memtable parts: never hidden */

/* A double timestamp as int64: an exact integer within ±lim (NaN, infinities, fractions and
 * larger magnitudes are rejected). The one rule behind every *_f64 entry point. */
static inline bool tl_f64_to_ts_within(double d, double lim, int64_t *out) {
    if (!(d >= -lim && d <= lim)) return false; /* also rejects NaN */
    int64_t v = (int64_t)d;
    if ((double)v != d) return false;
    *out = v;
    return true;
}

#define TL_F64_LIM 9007199254740992.0       /* 2^53: every integer up to it is exact */
#define TL_F64_SAFE_LIM 9007199254740991.0  /* 2^53 - 1: JavaScript's safe integers */

static inline bool tl_f64_to_ts(double d, int64_t *out) {
    return tl_f64_to_ts_within(d, TL_F64_LIM, out);
}

/* A read bound given as a double: -/+inf for the int64 ends, else tl_f64_to_ts's rule. The one
 * rule of every *_f64 read (oneshot.c, agg.c). */
static inline bool tl_f64_bound(double d, int64_t *out) {
    if (d == __builtin_inf() || d == -__builtin_inf()) {
        *out = d > 0 ? INT64_MAX : INT64_MIN;
        return true;
    }
    return tl_f64_to_ts(d, out);
}

#endif /* TL_COMMON_H */
