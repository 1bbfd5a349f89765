/*
 * bitpack.c — bit packing of 64-bit integers at any width 0..64, and the decode kernels.
 *
 * Structure. Values are packed LSB first: value i occupies bits [i*w, i*w + w) of the byte
 * string read as one little-endian number. Packing is done in groups of 8 values, so a group
 * is exactly w bytes and group g starts at byte g*w: a decoder finds any group without a
 * running offset, and a miniblock of m values takes ceil(m / 8) * w bytes (the last group is
 * padded with zeros).
 *
 * Decoding (the hot path: every scan of a compressed page runs here) works on a group at a
 * time as one vector of 8 uint64 lanes, with the GNU/clang vector extension, which the
 * compiler lowers to AVX-512, AVX2, SSE2 or NEON as the target allows:
 *   w = 0       no load;
 *   w 1..8      one 8-byte load at byte g*w holds all 8 values: broadcast, shift lane l right
 *               by l*w, mask;
 *   w 9..16     two loads (values 0-3 at byte g*w, values 4-7 at byte g*w + w/2, which starts
 *               0 or 4 bits before value 4), shifted per lane;
 *   w 17..56    one load per value at byte (l*w)/8 of the group, shifted by (l*w)%8;
 *   w 57..64    a value can span 9 bytes: the scalar reference path.
 * Every load is 8 bytes at an offset inside the packed data, so a decoder may read up to 8
 * bytes past the data; the blob format guarantees those bytes exist (pcodec_int.h).
 * FOR adds the base to each lane. DELTA adds dmin to each lane and takes the prefix sum inside
 * the vector (three shift-and-add steps), then adds the running carry: the carry chain is one
 * vector add per group, so groups pipeline instead of waiting on each other.
 * The same code without vector support (other compilers) is the scalar reference, which the
 * tests also compare the vector kernels against for every width.
 *
 * Complexity: O(groups) with ~15 vector operations per group of 8 values; no branches on the
 * data. Vectors never cross a non-inlined call, so the psABI note about passing wide vectors
 * without AVX (a warning under -Werror) does not apply and is silenced for this file.
 */
#include "cpu.h"
#include "pcodec_int.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* ALP's conversion must round exactly as its encoder checked */
#endif

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define PC_VEC 1
#pragma GCC diagnostic ignored "-Wpsabi"
typedef uint64_t v8u __attribute__((vector_size(64)));
#else
#define PC_VEC 0
#endif

static inline uint64_t mask_of(unsigned w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

/* Value i of a packed run (reads at most 9 bytes from byte (i*w)/8, within the padding). */
static inline uint64_t get_one(const uint8_t *src, unsigned w, uint32_t i) {
    uint64_t bit = (uint64_t)i * w;
    const uint8_t *p = src + (bit >> 3);
    unsigned s = (unsigned)(bit & 7);
    uint64_t x = pc_ld64(p) >> s;
    if (s + w > 64) x |= (uint64_t)p[8] << (64 - s);
    return x & mask_of(w);
}

uint64_t tl_bp_get(const uint8_t *src, unsigned w, uint32_t i) {
    return w == 0 ? 0 : get_one(src, w, i);
}

size_t tl_bp_pack(uint8_t *dst, const uint64_t *v, uint32_t m, unsigned w) {
    size_t bytes = tl_bp_bytes(m, w);
    if (w == 0) return 0;
    uint32_t total = (m + PC_GROUP - 1) / PC_GROUP * PC_GROUP;
    uint64_t acc = 0;
    unsigned fill = 0; /* bits pending in acc, always < 64 */
    uint8_t *o = dst;
    for (uint32_t i = 0; i < total; i++) {
        uint64_t x = i < m ? v[i] : 0;
        acc |= x << fill;
        if (fill + w >= 64) {
            pc_st64(o, acc);
            o += 8;
            acc = fill ? x >> (64 - fill) : 0; /* the bits of x that did not fit */
            fill = fill + w - 64;
        } else {
            fill += w;
        }
    }
    /* The total is a multiple of 8 bits, so what is left is whole bytes. */
    memcpy(o, &acc, fill / 8);
    return bytes;
}

void tl_bp_for_ref(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base,
                   uint64_t *out) {
    for (uint32_t i = 0; i < groups * PC_GROUP; i++) out[i] = base + tl_bp_get(src, w, i);
}

void tl_bp_delta_ref(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                     uint64_t dmin, uint64_t *out) {
    uint64_t acc = start;
    for (uint32_t i = 0; i < groups * PC_GROUP; i++) {
        acc += tl_bp_get(src, w, i) + dmin;
        out[i] = acc;
    }
}

void tl_bp_to_f64(uint64_t *io, uint32_t count, double a, double b) {
    for (uint32_t i = 0; i < count; i++) io[i] = pc_f2u((pc_u2f(io[i]) - PC_MAGIC) * a * b);
}

#if PC_VEC

typedef double v8d __attribute__((vector_size(64)));

/* Extraction classes (see the file comment). */
enum { CL_ZERO, CL_ONE, CL_TWO, CL_EIGHT, CL_SCALAR };

static inline int class_of(unsigned w) {
    return w == 0 ? CL_ZERO : w <= 8 ? CL_ONE : w <= 16 ? CL_TWO : w <= 56 ? CL_EIGHT : CL_SCALAR;
}

/* Per-width lane constants, computed at compile time so a decode call starts with two loads
 * instead of building vectors lane by lane (that setup was a third of a miniblock's time):
 * SH[w][l] = right shift of lane l inside its load, BO[w][l] = byte offset of that load
 * (CL_EIGHT; the other classes load at 0 and, for lanes 4-7 of CL_TWO, at w / 2). */
#define SH_(w, l)                                                                          \
    ((w) <= 8 ? (l) * (w)                                                                  \
              : (w) <= 16 ? ((l) < 4 ? (l) * (w) : ((4 * (w)) & 7) + ((l) - 4) * (w))      \
                          : ((l) * (w)) & 7)
#define ROW_(F, w) {F(w, 0), F(w, 1), F(w, 2), F(w, 3), F(w, 4), F(w, 5), F(w, 6), F(w, 7)},
#define ROWS8_(F, b)                                                                       \
    ROW_(F, b) ROW_(F, b + 1) ROW_(F, b + 2) ROW_(F, b + 3) ROW_(F, b + 4) ROW_(F, b + 5)   \
    ROW_(F, b + 6) ROW_(F, b + 7)
#define ROWS65_(F)                                                                         \
    ROWS8_(F, 0) ROWS8_(F, 8) ROWS8_(F, 16) ROWS8_(F, 24) ROWS8_(F, 32) ROWS8_(F, 40)      \
    ROWS8_(F, 48) ROWS8_(F, 56) ROW_(F, 64)
#define BO_(w, l) (((l) * (w)) >> 3)
static const uint64_t SH[65][8] = {ROWS65_(SH_)};
static const uint32_t BO[65][8] = {ROWS65_(BO_)};

PC_INLINE v8u splat(uint64_t x) {
    v8u v = {x, x, x, x, x, x, x, x};
    return v;
}

/* The 8 packed values of the group starting at q. */
PC_INLINE v8u extract(const uint8_t *q, unsigned w, int cl, const v8u *sh, const v8u *mask) {
    if (cl == CL_ZERO) return splat(0);
    if (cl == CL_ONE) return (splat(pc_ld64(q)) >> *sh) & *mask;
    if (cl == CL_TWO) {
        uint64_t a = pc_ld64(q), b = pc_ld64(q + (w >> 1));
        v8u x = {a, a, a, a, b, b, b, b};
        return (x >> *sh) & *mask;
    }
    if (cl == CL_EIGHT) {
        const uint32_t *bo = BO[w];
        v8u x = {pc_ld64(q + bo[0]), pc_ld64(q + bo[1]), pc_ld64(q + bo[2]),
                 pc_ld64(q + bo[3]), pc_ld64(q + bo[4]), pc_ld64(q + bo[5]),
                 pc_ld64(q + bo[6]), pc_ld64(q + bo[7])};
        return (x >> *sh) & *mask;
    }
    v8u x;
    for (unsigned l = 0; l < 8; l++) x[l] = get_one(q, w, l);
    return x;
}

/* One kernel for all four decoders; cl, delta and fp are constants at every call site, so
 * each specialization keeps only its own operations. FOR: o = base + p. DELTA: lanes get
 * p + dmin, an in-vector prefix sum, plus the carry (all earlier values); the carry chain is
 * one add per group. fp: o holds PC_MAGIC_BITS + d (the caller's base), stored as the bits
 * of (double)d * a * b. */
PC_INLINE void run(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                   uint64_t dmin, double a, double b, uint64_t *out, int cl, bool delta,
                   bool fp) {
    v8u sh, mask = splat(mask_of(w)), carry = splat(start);
    const v8u dm = splat(dmin), z = splat(0);
    const v8d va = {a, a, a, a, a, a, a, a}, vb = {b, b, b, b, b, b, b, b};
    const v8d magic = {PC_MAGIC, PC_MAGIC, PC_MAGIC, PC_MAGIC,
                       PC_MAGIC, PC_MAGIC, PC_MAGIC, PC_MAGIC};
    memcpy(&sh, SH[w], sizeof sh);
    for (uint32_t g = 0; g < groups; g++) {
        v8u d = extract(src + (size_t)g * w, w, cl, &sh, &mask), o;
        if (delta) {
            d += dm;
            d += __builtin_shufflevector(z, d, 0, 8, 9, 10, 11, 12, 13, 14);
            d += __builtin_shufflevector(z, d, 0, 1, 8, 9, 10, 11, 12, 13);
            d += __builtin_shufflevector(z, d, 0, 1, 2, 3, 8, 9, 10, 11);
            o = d + carry;
            carry += __builtin_shufflevector(d, d, 7, 7, 7, 7, 7, 7, 7, 7);
        } else {
            o = d + carry;
        }
        if (fp) o = (v8u)(((v8d)o - magic) * va * vb);
        memcpy(out + (size_t)g * PC_GROUP, &o, sizeof o);
    }
}

#define DISPATCH_(delta, fp)                                                               \
    switch (class_of(w)) {                                                                 \
    case CL_ZERO: run(src, w, groups, start, dmin, a, b, out, CL_ZERO, delta, fp); break;   \
    case CL_ONE: run(src, w, groups, start, dmin, a, b, out, CL_ONE, delta, fp); break;     \
    case CL_TWO: run(src, w, groups, start, dmin, a, b, out, CL_TWO, delta, fp); break;     \
    case CL_EIGHT: run(src, w, groups, start, dmin, a, b, out, CL_EIGHT, delta, fp); break; \
    default: run(src, w, groups, start, dmin, a, b, out, CL_SCALAR, delta, fp); break;      \
    }

/* The four decoders of one instruction set: ATTR is empty for the build's own target, or a
 * target attribute for a wider one that dispatch picks at run time. */
#define DECODERS_(sfx, ATTR)                                                                \
    ATTR static void bp_for_##sfx(const uint8_t *src, unsigned w, uint32_t groups,          \
                                  uint64_t base, uint64_t *out) {                          \
        const uint64_t start = base, dmin = 0;                                              \
        const double a = 1, b = 1;                                                          \
        DISPATCH_(false, false)                                                             \
    }                                                                                       \
    ATTR static void bp_delta_##sfx(const uint8_t *src, unsigned w, uint32_t groups,        \
                                    uint64_t start, uint64_t dmin, uint64_t *out) {         \
        const double a = 1, b = 1;                                                          \
        DISPATCH_(true, false)                                                              \
    }                                                                                       \
    ATTR static void bp_for_f64_##sfx(const uint8_t *src, unsigned w, uint32_t groups,      \
                                      uint64_t base, double a, double b, uint64_t *out) {   \
        const uint64_t start = base, dmin = 0;                                              \
        DISPATCH_(false, true)                                                              \
    }                                                                                       \
    ATTR static void bp_delta_f64_##sfx(const uint8_t *src, unsigned w, uint32_t groups,    \
                                        uint64_t start, uint64_t dmin, double a, double b,  \
                                        uint64_t *out) {                                    \
        DISPATCH_(true, true)                                                               \
    }

DECODERS_(base, )

#if TL_CPU_DISPATCH
/* The AVX2 build (cpu.h): two 256-bit halves a group instead of four SSE2 ones. Measured with
 * a baseline build (C, users' shape, 1M settled records): 1,000-record ranges 1,952-1,960 ->
 * 1,121-1,125 ns, full scans 444-450 -> 683-697 Mrec/s (a native AVX-512 build of the same
 * code on the same machine: 970-1,002 ns, 687-696 Mrec/s). */
DECODERS_(avx2, TL_CPU_AVX2)
#endif

void tl_bp_for(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, uint64_t *out) {
    TL_CPU_PICK(bp_for, src, w, groups, base, out);
}

void tl_bp_delta(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start, uint64_t dmin,
                 uint64_t *out) {
    TL_CPU_PICK(bp_delta, src, w, groups, start, dmin, out);
}

void tl_bp_for_f64(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, double a,
                   double b, uint64_t *out) {
    TL_CPU_PICK(bp_for_f64, src, w, groups, base, a, b, out);
}

void tl_bp_delta_f64(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                     uint64_t dmin, double a, double b, uint64_t *out) {
    TL_CPU_PICK(bp_delta_f64, src, w, groups, start, dmin, a, b, out);
}

#else /* !PC_VEC */

void tl_bp_for(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, uint64_t *out) {
    tl_bp_for_ref(src, w, groups, base, out);
}

void tl_bp_delta(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start, uint64_t dmin,
                 uint64_t *out) {
    tl_bp_delta_ref(src, w, groups, start, dmin, out);
}

void tl_bp_for_f64(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, double a,
                   double b, uint64_t *out) {
    tl_bp_for_ref(src, w, groups, base, out);
    tl_bp_to_f64(out, groups * PC_GROUP, a, b);
}

void tl_bp_delta_f64(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                     uint64_t dmin, double a, double b, uint64_t *out) {
    tl_bp_delta_ref(src, w, groups, start, dmin, out);
    tl_bp_to_f64(out, groups * PC_GROUP, a, b);
}

#endif /* PC_VEC */
