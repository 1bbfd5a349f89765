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
#include "pcodec_int.h"

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

#if PC_VEC

/* Extraction classes (see the file comment). */
enum { CL_ZERO, CL_ONE, CL_TWO, CL_EIGHT, CL_SCALAR };

static inline int class_of(unsigned w) {
    return w == 0 ? CL_ZERO : w <= 8 ? CL_ONE : w <= 16 ? CL_TWO : w <= 56 ? CL_EIGHT : CL_SCALAR;
}

PC_INLINE v8u splat(uint64_t x) {
    v8u v = {x, x, x, x, x, x, x, x};
    return v;
}

/* Per-width constants of one decode call: lane shifts, mask, and byte offsets (CL_EIGHT). */
typedef struct lanes {
    v8u sh, mask;
    uint32_t bo[8];
} lanes_t;

PC_INLINE void lanes_init(lanes_t *L, unsigned w, int cl) {
    unsigned r = (4 * w) & 7; /* CL_TWO: bit offset of value 4 inside its load */
    for (unsigned l = 0; l < 8; l++) {
        unsigned bit = l * w;
        L->bo[l] = bit >> 3;
        L->sh[l] = cl == CL_ONE ? bit : cl == CL_TWO ? (l < 4 ? bit : r + (l - 4) * w) : bit & 7;
    }
    L->mask = splat(mask_of(w));
}

/* The 8 packed values of the group starting at q. */
PC_INLINE v8u extract(const uint8_t *q, unsigned w, int cl, const lanes_t *L) {
    if (cl == CL_ZERO) return splat(0);
    if (cl == CL_ONE) return (splat(pc_ld64(q)) >> L->sh) & L->mask;
    if (cl == CL_TWO) {
        uint64_t a = pc_ld64(q), b = pc_ld64(q + (w >> 1));
        v8u x = {a, a, a, a, b, b, b, b};
        return (x >> L->sh) & L->mask;
    }
    if (cl == CL_EIGHT) {
        v8u x = {pc_ld64(q + L->bo[0]), pc_ld64(q + L->bo[1]), pc_ld64(q + L->bo[2]),
                 pc_ld64(q + L->bo[3]), pc_ld64(q + L->bo[4]), pc_ld64(q + L->bo[5]),
                 pc_ld64(q + L->bo[6]), pc_ld64(q + L->bo[7])};
        return (x >> L->sh) & L->mask;
    }
    v8u x;
    for (unsigned l = 0; l < 8; l++) x[l] = get_one(q, w, l);
    return x;
}

PC_INLINE void for_run(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base,
                       uint64_t *out, int cl) {
    lanes_t L;
    lanes_init(&L, w, cl);
    v8u b = splat(base);
    for (uint32_t g = 0; g < groups; g++) {
        v8u o = extract(src + (size_t)g * w, w, cl, &L) + b;
        memcpy(out + (size_t)g * PC_GROUP, &o, sizeof o);
    }
}

PC_INLINE void delta_run(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                         uint64_t dmin, uint64_t *out, int cl) {
    lanes_t L;
    lanes_init(&L, w, cl);
    const v8u z = splat(0);
    /* carry lane l = start + (l + 1) * dmin: adding it to the in-vector prefix sum of the
     * packed values gives the outputs, dmin included. */
    v8u carry = {start + dmin,     start + 2 * dmin, start + 3 * dmin, start + 4 * dmin,
                 start + 5 * dmin, start + 6 * dmin, start + 7 * dmin, start + 8 * dmin};
    const v8u step = splat(8 * dmin);
    for (uint32_t g = 0; g < groups; g++) {
        v8u d = extract(src + (size_t)g * w, w, cl, &L);
        d += __builtin_shufflevector(z, d, 0, 8, 9, 10, 11, 12, 13, 14);
        d += __builtin_shufflevector(z, d, 0, 1, 8, 9, 10, 11, 12, 13);
        d += __builtin_shufflevector(z, d, 0, 1, 2, 3, 8, 9, 10, 11);
        v8u o = d + carry;
        memcpy(out + (size_t)g * PC_GROUP, &o, sizeof o);
        carry += __builtin_shufflevector(d, d, 7, 7, 7, 7, 7, 7, 7, 7) + step;
    }
}

void tl_bp_for(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, uint64_t *out) {
    switch (class_of(w)) {
    case CL_ZERO: for_run(src, w, groups, base, out, CL_ZERO); break;
    case CL_ONE: for_run(src, w, groups, base, out, CL_ONE); break;
    case CL_TWO: for_run(src, w, groups, base, out, CL_TWO); break;
    case CL_EIGHT: for_run(src, w, groups, base, out, CL_EIGHT); break;
    default: for_run(src, w, groups, base, out, CL_SCALAR); break;
    }
}

void tl_bp_delta(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start, uint64_t dmin,
                 uint64_t *out) {
    switch (class_of(w)) {
    case CL_ZERO: delta_run(src, w, groups, start, dmin, out, CL_ZERO); break;
    case CL_ONE: delta_run(src, w, groups, start, dmin, out, CL_ONE); break;
    case CL_TWO: delta_run(src, w, groups, start, dmin, out, CL_TWO); break;
    case CL_EIGHT: delta_run(src, w, groups, start, dmin, out, CL_EIGHT); break;
    default: delta_run(src, w, groups, start, dmin, out, CL_SCALAR); break;
    }
}

#else /* !PC_VEC */

void tl_bp_for(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, uint64_t *out) {
    tl_bp_for_ref(src, w, groups, base, out);
}

void tl_bp_delta(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start, uint64_t dmin,
                 uint64_t *out) {
    tl_bp_delta_ref(src, w, groups, start, dmin, out);
}

#endif /* PC_VEC */
