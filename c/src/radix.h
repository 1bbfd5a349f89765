/*
 * radix.h — stable LSD radix sort of 8-byte words by a field of their bits. The as-of
 * column's queries (asof.c) and the out-of-order head (memtable.c) both sort as such words,
 * a key offset above an index, so one pass moves 8 bytes a record instead of 16.
 */
#ifndef TL_RADIX_H
#define TL_RADIX_H

#include "tl_common.h"

/* Widest digit: 2^11 counts stay in L1. */
#ifndef TL_RADIX_BITS
#define TL_RADIX_BITS 11u
#endif
/* Counts a sort needs room for (the caller's buffer). */
#define TL_RADIX_COUNTS (1u << TL_RADIX_BITS)

/* The digit of an LSD radix sort over `span` bits: as few passes as digits of at most
 * TL_RADIX_BITS take, the bits split evenly between them (23 bits: 3 of 8, not 11 + 11 + 1:
 * narrower counts stay in L1 and feed fewer write streams). */
static inline unsigned tl_radix_width(unsigned span) {
    unsigned passes = (span + TL_RADIX_BITS - 1) / TL_RADIX_BITS;
    return passes ? (span + passes - 1) / passes : 1;
}

/* The passes a sort over `span` bits makes (its result is in tmp when odd). */
static inline unsigned tl_radix_passes(unsigned span) {
    unsigned bits = tl_radix_width(span);
    return span ? (span + bits - 1) / bits : 0;
}

/* Turns count[0, b) into bucket starts. */
static inline void tl_radix_starts(size_t *count, unsigned b) {
    size_t sum = 0;
    for (unsigned d = 0; d < b; d++) {
        size_t k = count[d];
        count[d] = sum;
        sum += k;
    }
}

/* Sorts the words a[0, n) by their bits [lo, lo + span), stably; tmp holds n words and
 * count TL_RADIX_COUNTS. Returns the array holding the result (a or tmp). */
static inline uint64_t *tl_radix_words(uint64_t *a, uint64_t *tmp, size_t n, unsigned lo,
                                       unsigned span, size_t *count) {
    unsigned bits = tl_radix_width(span), b = 1u << bits;
    for (unsigned shift = lo; shift < lo + span; shift += bits) {
        memset(count, 0, b * sizeof count[0]);
        for (size_t i = 0; i < n; i++) count[(a[i] >> shift) & (b - 1)]++;
        tl_radix_starts(count, b);
        for (size_t i = 0; i < n; i++) tmp[count[(a[i] >> shift) & (b - 1)]++] = a[i];
        uint64_t *x = a;
        a = tmp;
        tmp = x;
    }
    return a;
}

#endif /* TL_RADIX_H */
