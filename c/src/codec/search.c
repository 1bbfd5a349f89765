/*
 * search.c — the timestamp bound searches of a view: lower / upper bound over the whole page,
 * the same inside a bracket the caller already knows, and both bounds of one key at once.
 *
 * Whole page. first/last ts are in the view: outside [first, last] the answer is 0 or n at
 * once. Otherwise the fences (base[] of the ts column: the first ts of each miniblock) give the
 * last miniblock whose fence sorts before x; the answer is inside it or at the start of the
 * next one, so one miniblock decode finishes it. Up to 128 fences (pages of up to 8192
 * records) are counted whole, and so are the 64 decoded values: a compare per value,
 * vectorized and branch-free, costs less than a binary search, whose every step waits for its
 * load and half of whose branches mispredict (a 4096-record page: 59 -> 37 ns hot). Longer
 * fence arrays, and RAW ts columns, are searched from an interpolated guess with a gallop.
 *
 * Inside a bracket. A caller holding a search table (the engine's runs keep one per page)
 * knows the answer lies in records [lo, hi], usually one or two miniblocks wide. Fence i sorts
 * before x exactly when 64 i < answer, so every fence below ceil(lo / 64) does and none from
 * ceil(hi / 64) on: only the one or two fences in between are read (one line, next to the
 * miniblock's meta word) instead of all of them, then one miniblock is decoded. Why it
 * matters: a point lookup on a cold page is a chain of cache misses, and every line and every
 * decode on that chain is time the lookup waits.
 *
 * Both bounds. A point read wants the records equal to x: the decoded miniblock that gives
 * the lower bound also gives the upper one unless the records equal to x run on past its end
 * (a fence equal to x follows), so one decode usually answers both.
 *
 * Each entry point is built once per instruction set (cpu.h), the helpers inlined into it.
 *
 * Complexity: whole page O(nmb or log nmb + 64); in a bracket O(fences in it + 64).
 */
#include "cpu.h"
#include "pcodec_int.h"

/* Fence arrays up to this length are counted whole (4096-record pages have 64 fences);
 * longer ones are searched from an interpolated guess. */
#define FENCES_SCAN 128

static inline bool before(int64_t t, int64_t x, bool upper) { return upper ? t <= x : t < x; }

/* Count of the first `len` int64 values at p (8-byte stride, sorted) that sort before x:
 * branch-free binary search (the answer lies in [base, base + len] at every step). */
PC_INLINE uint32_t count_before(const uint8_t *p, uint32_t len, int64_t x, bool upper) {
    if (len == 0) return 0;
    uint32_t base = 0;
    while (len > 1) {
        uint32_t half = len / 2;
        base = before((int64_t)pc_ld64(p + 8 * (size_t)(base + half)), x, upper) ? base + half
                                                                                 : base;
        len -= half;
    }
    return base + before((int64_t)pc_ld64(p + 8 * (size_t)base), x, upper);
}

static inline bool before_at(const uint8_t *f, uint32_t i, int64_t x, bool upper) {
    return before((int64_t)pc_ld64(f + 8 * (size_t)i), x, upper);
}

/* count_before over f[0, len) (sorted), where first = f[0] sorts before x and x does not
 * sort after `last` (>= every entry): starts at the interpolated position of x in
 * [first, last] and gallops outwards. For evenly spread timestamps the guess is right or one
 * off, so a cold search reads one or two lines of fences instead of log2(len) lines. */
PC_INLINE uint32_t interp_before(const uint8_t *f, uint32_t len, int64_t x, bool upper,
                                 int64_t first, int64_t last) {
    uint64_t d = (uint64_t)x - (uint64_t)first, span = (uint64_t)last - (uint64_t)first;
    uint32_t g = (uint32_t)((double)d / (double)span * (double)len), lo, hi, step = 1;
    g = g < len ? g : len - 1;
    if (before_at(f, g, x, upper)) {
        lo = g + 1; /* [0, lo) sort before x */
        while (lo + step - 1 < len && before_at(f, lo + step - 1, x, upper)) {
            lo += step;
            step *= 2;
        }
        hi = lo + step - 1 < len ? lo + step - 1 : len;
    } else {
        hi = g; /* the answer is at most hi */
        while (hi >= step && !before_at(f, hi - step, x, upper)) {
            hi -= step;
            step *= 2;
        }
        lo = hi >= step ? hi - step + 1 : 0;
    }
    return lo + count_before(f + 8 * (size_t)lo, hi - lo, x, upper);
}

/* How many of the len sorted values at v sort before x, by counting every one: branch-free
 * and vectorized (a compare and a subtract per 8 values), so for up to a few hundred values
 * it beats a binary search, whose steps each wait for the previous load. */
PC_INLINE uint32_t count_all(const int64_t *v, uint32_t len, int64_t x, bool upper) {
    uint32_t c = 0;
    if (upper) {
        for (uint32_t i = 0; i < len; i++) c += v[i] <= x;
    } else {
        for (uint32_t i = 0; i < len; i++) c += v[i] < x;
    }
    return c;
}

/* count_all over the fences, read from the blob (little-endian, 8-byte stride). */
PC_INLINE uint32_t count_fences(const uint8_t *f, uint32_t len, int64_t x, bool upper) {
    uint32_t c = 0;
    if (upper) {
        for (uint32_t i = 0; i < len; i++) c += (int64_t)pc_ld64(f + 8 * (size_t)i) <= x;
    } else {
        for (uint32_t i = 0; i < len; i++) c += (int64_t)pc_ld64(f + 8 * (size_t)i) < x;
    }
    return c;
}

PC_INLINE uint32_t bound(const tl_pcodec_view_t *v, int64_t x, bool upper) {
    if (!before(v->ts_first, x, upper)) return 0;
    if (before(v->ts_last, x, upper)) return v->n;
    const tl_pcodec_col_t *c = &v->ts;
    if (c->codec == TL_PCODEC_RAW) {
        return interp_before(c->sec, v->n, x, upper, v->ts_first, v->ts_last);
    }
    /* fence[0] = ts_first sorts before x, so j >= 0 and the answer is in miniblock j, or
     * at the start of j + 1 (whose fence does not sort before x). The last record (not a
     * fence) bounds the interpolation. */
    uint32_t j = v->nmb <= FENCES_SCAN ? count_fences(c->base, v->nmb, x, upper)
                                       : interp_before(c->base, v->nmb, x, upper, v->ts_first,
                                                       v->ts_last);
    int64_t tmp[PC_MB];
    uint32_t m = pc_mb_len(v->n, --j);
    tl_intcol_mb(c, j, m, 0, (uint64_t *)tmp);
    return (j << PC_MB_LOG2) + count_all(tmp, m, x, upper);
}

/* ---- inside a bracket ---- */

/* How many fences of [a, b) sort before x (a <= b <= nmb): counted whole when few (the usual
 * bracket holds one or two), else a binary search. */
PC_INLINE uint32_t fences_in(const tl_pcodec_col_t *c, uint32_t a, uint32_t b, int64_t x,
                             bool upper) {
    const uint8_t *f = c->base + 8 * (size_t)a;
    return b - a <= FENCES_SCAN ? count_fences(f, b - a, x, upper)
                                : count_before(f, b - a, x, upper);
}

/* The miniblock holding the answer of a bracketed search over an INT ts column: the last
 * whose fence sorts before x (0 when none does: x at or below the first record). */
PC_INLINE uint32_t mb_in(const tl_pcodec_view_t *v, int64_t x, bool upper, uint32_t lo,
                         uint32_t hi) {
    uint32_t a = (lo + PC_MB - 1) >> PC_MB_LOG2, b = (hi + PC_MB - 1) >> PC_MB_LOG2;
    uint32_t k = a + fences_in(&v->ts, a, b, x, upper);
    return k > 0 ? k - 1 : 0;
}

/* bound_in, decoding into tmp[PC_MB]; *mb is the miniblock left decoded there (UINT32_MAX
 * when none was). */
PC_INLINE uint32_t bound_in_keep(const tl_pcodec_view_t *v, int64_t x, bool upper, uint32_t lo,
                                 uint32_t hi, int64_t *tmp, uint32_t *mb) {
    *mb = UINT32_MAX;
    if (!before(v->ts_first, x, upper)) return 0;
    if (before(v->ts_last, x, upper)) return v->n;
    const tl_pcodec_col_t *c = &v->ts;
    if (c->codec == TL_PCODEC_RAW) {
        return lo + count_before(c->sec + 8 * (size_t)lo, hi - lo, x, upper);
    }
    uint32_t j = mb_in(v, x, upper, lo, hi), m = pc_mb_len(v->n, j);
    tl_intcol_mb(c, j, m, 0, (uint64_t *)tmp);
    *mb = j;
    return (j << PC_MB_LOG2) + count_all(tmp, m, x, upper);
}

PC_INLINE uint32_t bound_in(const tl_pcodec_view_t *v, int64_t x, bool upper, uint32_t lo,
                            uint32_t hi) {
    int64_t tmp[PC_MB];
    uint32_t mb;
    return bound_in_keep(v, x, upper, lo, hi, tmp, &mb);
}

/* ---- both bounds ---- */

/* The upper bound when the records equal to x reach past miniblock j's end: the next fence
 * decides whether they stop there; if they go on, a search from there to the page end. */
PC_INLINE uint32_t upper_after(const tl_pcodec_view_t *v, int64_t x, uint32_t j) {
    uint32_t end = (j + 1) << PC_MB_LOG2;
    if (j + 1 >= v->nmb) return v->n;
    if ((int64_t)pc_ld64(v->ts.base + 8 * ((size_t)j + 1)) > x) return end;
    return bound_in(v, x, true, end, v->n);
}

PC_INLINE uint32_t equal_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi,
                            uint32_t *first) {
    if (x < v->ts_first || x > v->ts_last) {
        *first = x < v->ts_first ? 0 : v->n;
        return 0;
    }
    const tl_pcodec_col_t *c = &v->ts;
    if (c->codec == TL_PCODEC_RAW) {
        uint32_t l = bound_in(v, x, false, lo, hi), e = l;
        while (e < v->n && e - l < PC_GROUP && (int64_t)pc_ld64(c->sec + 8 * (size_t)e) == x) e++;
        *first = l;
        return (e - l < PC_GROUP ? e : bound_in(v, x, true, e, v->n)) - l;
    }
    uint32_t j = mb_in(v, x, false, lo, hi), m = pc_mb_len(v->n, j), base = j << PC_MB_LOG2;
    int64_t tmp[PC_MB];
    tl_intcol_mb(c, j, m, 0, (uint64_t *)tmp);
    uint32_t l = count_all(tmp, m, x, false), u = count_all(tmp, m, x, true);
    *first = base + l;
    return (u < m ? base + u : upper_after(v, x, j)) - (base + l);
}

/* ---- the entry points, once per instruction set (cpu.h) ----
 * The counts above compare 64-bit keys, which SSE2 cannot do in a vector: a baseline build's
 * point read spent 180-205 ns where an AVX2 build of this file spends 155-174 (C, users'
 * shape, 1M settled records). */

#define SEARCHES_(sfx, ATTR)                                                                \
    ATTR static uint32_t lower_##sfx(const tl_pcodec_view_t *v, int64_t x) {                \
        return bound(v, x, false);                                                          \
    }                                                                                       \
    ATTR static uint32_t upper_##sfx(const tl_pcodec_view_t *v, int64_t x) {                \
        return bound(v, x, true);                                                           \
    }                                                                                       \
    ATTR static uint32_t lower_in_##sfx(const tl_pcodec_view_t *v, int64_t x, uint32_t lo,  \
                                        uint32_t hi) {                                      \
        return bound_in(v, x, false, lo, hi);                                               \
    }                                                                                       \
    ATTR static uint32_t upper_in_##sfx(const tl_pcodec_view_t *v, int64_t x, uint32_t lo,  \
                                        uint32_t hi) {                                      \
        return bound_in(v, x, true, lo, hi);                                                \
    }                                                                                       \
    ATTR static uint32_t lower_in_keep_##sfx(const tl_pcodec_view_t *v, int64_t x,          \
                                             uint32_t lo, uint32_t hi, int64_t *mb_out,     \
                                             uint32_t *mb) {                                \
        return bound_in_keep(v, x, false, lo, hi, mb_out, mb);                              \
    }                                                                                       \
    ATTR static uint32_t equal_in_##sfx(const tl_pcodec_view_t *v, int64_t x, uint32_t lo,  \
                                        uint32_t hi, uint32_t *first) {                     \
        return equal_in(v, x, lo, hi, first);                                               \
    }

SEARCHES_(base, )
#if TL_CPU_DISPATCH
SEARCHES_(avx2, TL_CPU_AVX2)
#endif

uint32_t tl_pcodec_lower(const tl_pcodec_view_t *v, int64_t x) {
    return TL_CPU_PICK(lower, v, x);
}

uint32_t tl_pcodec_upper(const tl_pcodec_view_t *v, int64_t x) {
    return TL_CPU_PICK(upper, v, x);
}

uint32_t tl_pcodec_lower_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi) {
    return TL_CPU_PICK(lower_in, v, x, lo, hi);
}

uint32_t tl_pcodec_upper_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi) {
    return TL_CPU_PICK(upper_in, v, x, lo, hi);
}

uint32_t tl_pcodec_lower_in_keep(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi,
                                 int64_t *mb_out, uint32_t *mb) {
    return TL_CPU_PICK(lower_in_keep, v, x, lo, hi, mb_out, mb);
}

uint32_t tl_pcodec_equal_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi,
                            uint32_t *first) {
    return TL_CPU_PICK(equal_in, v, x, lo, hi, first);
}
