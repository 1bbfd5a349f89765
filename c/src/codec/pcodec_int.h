/*
 * pcodec_int.h — what the codec's files share: the blob layout constants, little-endian
 * load/store helpers, and the internal interfaces of the column codecs.
 *
 * Layout (docs/format.md, "Page blob, format version 1", is the full description):
 *     [header 24 B][ts section][h section][trailer 8 B of zeros]
 * Both sections are multiples of 8 bytes, so they start 8-aligned relative to the blob. The
 * trailer is what lets every decoder load 8 bytes at any offset inside a section without a
 * bounds check: no load ever starts more than 8 bytes before the end of the last section.
 *
 * Files: bitpack.c (bit packing kernels), intcol.c (INT column), alp.c (ALP_DEC, ALP_BIN),
 * xorcol.c (XOR), encode.c (codec choice, blob writing), view.c (parse, decode), search.c
 * (bound searches), validate.c (untrusted blobs). Only pcodec.h is for the engine.
 */
#ifndef TL_PCODEC_INT_H
#define TL_PCODEC_INT_H

#include <stdbool.h>
#include <string.h>

#include "pcodec.h"

/* The format is little-endian and the loads below are plain memcpy: every supported target
 * (x86_64, aarch64) is little-endian. A big-endian port would byte-swap in these helpers. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pcodec: the blob format is little-endian; add byte swaps to the load/store helpers"
#endif

#define PC_HDR 24u /* header bytes */
#define PC_TRAILER 8u /* zero bytes after the last section */
#define PC_MB TL_PCODEC_MB
#define PC_MB_LOG2 TL_PCODEC_MB_LOG2
#define PC_GROUP 8u /* values per packed group: 8 values of w bits are w whole bytes */
#define PC_MAGIC_BITS 0x4338000000000000ull /* bits of PC_MAGIC = 2^52 + 2^51 */
#define PC_MAGIC 6755399441055744.0 /* (x + PC_MAGIC) - PC_MAGIC rounds |x| < 2^51 to int */
#define PC_ALP_INT_MAX 2251799813685247ll /* |int| < 2^51: the magic conversion is exact */

#if defined(__GNUC__) || defined(__clang__)
#define PC_INLINE static inline __attribute__((always_inline))
#else
#define PC_INLINE static inline
#endif

static inline uint64_t pc_ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint32_t pc_ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint16_t pc_ld16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline void pc_st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline void pc_st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void pc_st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static inline uint64_t pc_f2u(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static inline double pc_u2f(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static inline size_t pc_round8(size_t x) { return (x + 7) & ~(size_t)7; }
/* Bits needed for x (0 for 0). */
static inline unsigned pc_bits(uint64_t x) { return x ? 64u - (unsigned)__builtin_clzll(x) : 0; }
static inline uint64_t pc_zigzag(int64_t x) { return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63); }
static inline int64_t pc_unzigzag(uint64_t z) { return (int64_t)(z >> 1) ^ -(int64_t)(z & 1); }
/* Records in miniblock j of an n-record page (pcodec.h). */
static inline uint32_t pc_mb_len(uint32_t n, uint32_t j) { return tl_pcodec_mb_len(n, j); }
static inline uint32_t pc_nmb(uint32_t n) { return (n + PC_MB - 1) >> PC_MB_LOG2; }

/* ---- bitpack.c: groups of 8 values of w (0..64) bits, LSB first ---- */

/* Bytes of m values packed at width w, padded to whole groups of 8 values. */
static inline size_t tl_bp_bytes(uint32_t m, unsigned w) {
    return (size_t)((m + PC_GROUP - 1) / PC_GROUP) * w;
}
/* Packs v[0, m) (each < 2^w), then zeros up to the group boundary; returns tl_bp_bytes. */
size_t tl_bp_pack(uint8_t *dst, const uint64_t *v, uint32_t m, unsigned w);
/* Decoders of `groups` groups (8 values each) from src, which must be readable for
 * tl_bp_bytes(8 * groups, w) + 8 bytes. All arithmetic is mod 2^64.
 *   tl_bp_for:   out[i] = base + p[i]
 *   tl_bp_delta: out[i] = start + sum over k <= i of (p[k] + dmin)
 * The _ref versions are the scalar reference the tests hold the fast ones to. */
void tl_bp_for(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, uint64_t *out);
void tl_bp_delta(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start, uint64_t dmin,
                 uint64_t *out);
void tl_bp_for_ref(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base,
                   uint64_t *out);
void tl_bp_delta_ref(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                     uint64_t dmin, uint64_t *out);
/* The same with ALP's conversion fused in: the integer o (which the caller biased by
 * PC_MAGIC_BITS) is stored as the bits of ((double of o) - PC_MAGIC) * a * b. tl_bp_to_f64 is
 * that conversion alone, in place (the scalar reference). */
void tl_bp_for_f64(const uint8_t *src, unsigned w, uint32_t groups, uint64_t base, double a,
                   double b, uint64_t *out);
void tl_bp_delta_f64(const uint8_t *src, unsigned w, uint32_t groups, uint64_t start,
                     uint64_t dmin, double a, double b, uint64_t *out);
void tl_bp_to_f64(uint64_t *io, uint32_t count, double a, double b);
/* Value i alone (O(1)). */
uint64_t tl_bp_get(const uint8_t *src, unsigned w, uint32_t i);

/* ---- intcol.c: the INT column (also the integer part of ALP) ---- */

/* Miniblock meta word (u32): the byte offset of its data in bits 0-19 (a page's INT data is
 * below 2^20 bytes: 1024 miniblocks of at most 8 + 64 * 8 bytes), the width in bits 20-26,
 * DELTA in bit 27, the byte count code of dmin in bits 28-30 (0, 1, 2, 4 or 8 bytes as codes
 * 0-4); bit 31 is zero. One word, so a cold miniblock decode reads one line of metadata. */
#define PC_META_OFF_MASK 0xFFFFFu
#define PC_META_DELTA (1u << 27)
#define PC_META_RESERVED (1u << 31)
static inline uint32_t pc_meta_off(uint32_t m) { return m & PC_META_OFF_MASK; }
static inline unsigned pc_meta_w(uint32_t m) { return (m >> 20) & 0x7F; }
static inline unsigned pc_meta_code(uint32_t m) { return (m >> 28) & 7; }
static inline uint32_t pc_meta(uint32_t off, unsigned w, bool delta, unsigned code) {
    return off | (uint32_t)w << 20 | (delta ? PC_META_DELTA : 0) | (uint32_t)code << 28;
}

/* Bytes of the fixed arrays of an INT column of nmb miniblocks: base[nmb], meta[nmb + 1]
 * (meta[nmb] is the end offset of the data, so every miniblock's length is pinned), padded. */
static inline size_t tl_intcol_fixed(uint32_t nmb) { return pc_round8((size_t)nmb * 12 + 4); }

/* One miniblock's plan: mode, width, base, dmin and its data bytes (intcol.c measures it in a
 * pass over the miniblock, as costly as packing it). */
typedef struct tl_intcol_plan {
    uint64_t base, dmin;
    uint32_t bytes;
    uint8_t w, code;
    bool delta;
} tl_intcol_plan_t;

/* Column writer. dst == NULL is a dry run that only counts bytes. Add the miniblocks in
 * order; tl_intcol_w_end pads the data to 8 bytes and returns the section length.
 * Plans: with tl_intcol_w_plans, a dry run keeps the plans of its first `cap` miniblocks in
 * plans[] and a later writer given the same array (ready) reuses them instead of measuring
 * again; both must add the very same values. */
typedef struct tl_intcol_w {
    uint8_t *dst;
    uint32_t nmb, j;
    size_t data_len;
    tl_intcol_plan_t *plans; /* NULL: measure every miniblock */
    uint32_t plans_cap;
    bool plans_ready; /* plans[0, min(nmb, cap)) hold this column's plans */
} tl_intcol_w_t;
void tl_intcol_w_init(tl_intcol_w_t *w, uint8_t *dst, uint32_t nmb);
static inline void tl_intcol_w_plans(tl_intcol_w_t *w, tl_intcol_plan_t *plans, uint32_t cap,
                                     bool ready) {
    w->plans = plans;
    w->plans_cap = cap;
    w->plans_ready = ready;
}
void tl_intcol_w_add(tl_intcol_w_t *w, const uint64_t *v, uint32_t m);
size_t tl_intcol_w_end(tl_intcol_w_t *w);

/* Points c's base/meta/data (and data_len) into an INT section of sec_len bytes. */
void tl_intcol_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t sec_len, uint32_t nmb);
/* Miniblock j holding m records, plus `bias` (mod 2^64), into out[PC_MB]: writes
 * ceil(m / 8) * 8 values. */
void tl_intcol_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t m, uint64_t bias,
                  uint64_t *out);
/* The first `count` values of miniblock j (count <= m; same writes rounded to groups). */
void tl_intcol_mb_prefix(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t bias,
                         uint64_t *out);
/* The first `count` values of miniblock j decoded as ALP doubles (bits) with c's mul_a,
 * mul_b: the ALP decoder before exceptions (same writes rounded to groups). */
void tl_intcol_mb_f64(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out);
/* Record k of miniblock j (k < its length). */
uint64_t tl_intcol_at(const tl_pcodec_col_t *c, uint32_t j, uint32_t k);
/* Structure of a parsed INT column of an n-record page: TL_OK or TL_ECORRUPT. */
tl_status_t tl_intcol_check(const tl_pcodec_col_t *c, uint32_t n);

/* ---- alp.c: ALP_DEC and ALP_BIN ---- */

/* Chosen parameters of one ALP encoding. */
typedef struct tl_alp_param {
    uint8_t codec; /* TL_PCODEC_ALP_DEC or TL_PCODEC_ALP_BIN */
    uint8_t e, f;
} tl_alp_param_t;
/* What writing needs to know in advance (from tl_alp_measure). */
typedef struct tl_alp_meas {
    size_t int_len;
    uint32_t exc_n;
} tl_alp_meas_t;
/* Candidate parameters for h[0, n): writes up to 5 into out, returns how many. ALP_DEC's
 * are left out where ALP_BIN's always win, unless dec_always (a forced ALP_DEC). */
uint32_t tl_alp_candidates(const uint64_t *h, uint32_t n, bool dec_always,
                           tl_alp_param_t *out);
/* Length of the ALP section for h with p (and *out for tl_alp_write). */
size_t tl_alp_measure(const uint64_t *h, uint32_t n, tl_alp_param_t p, tl_alp_meas_t *out);
/* Every TL_ALP_EST_STEP-th miniblock of the page, sized as tl_alp_measure sizes them all:
 * the encoder's first look at each parameter candidate (whole miniblocks, so the estimate
 * sees the same widths, modes and exceptions as the full size, at an eighth of the cost).
 * Returns that partial section size; *exc_est the exceptions found times the step. */
#define TL_ALP_EST_STEP 8u
size_t tl_alp_estimate(const uint64_t *h, uint32_t n, tl_alp_param_t p, uint32_t *exc_est);
/* Writes that section (exactly tl_alp_measure's length) at dst. */
void tl_alp_write(const uint64_t *h, uint32_t n, tl_alp_param_t p, const tl_alp_meas_t *ms,
                  uint8_t *dst);
/* Parses an ALP section into c (codec, e, f already set from the section header). */
void tl_alp_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t sec_len, uint32_t nmb);
/* Decoded doubles (as bits) of miniblock j's first `count` records into out[PC_MB]. */
void tl_alp_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out);
uint64_t tl_alp_at(const tl_pcodec_col_t *c, uint32_t j, uint32_t k);
/* O(1) header checks of an ALP section: TL_OK or TL_ECORRUPT (parse only after this). */
tl_status_t tl_alp_check_head(const uint8_t *sec, uint32_t sec_len, uint8_t codec, uint32_t n);
tl_status_t tl_alp_check(const tl_pcodec_col_t *c, uint32_t n);

/* ---- xorcol.c: XOR (Chimp) ---- */

size_t tl_xor_write(const uint64_t *h, uint32_t n, uint8_t *dst);
void tl_xor_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t sec_len, uint32_t nmb);
/* The first `count` records of miniblock j into out (count values). */
void tl_xor_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out);
tl_status_t tl_xor_check(const tl_pcodec_col_t *c, uint32_t n);

/* ---- view.c ---- */

/* Header fields, checked in O(1): TL_OK or TL_ECORRUPT. view.c and validate.c share it. */
tl_status_t tl_pcodec_parse(tl_pcodec_view_t *v, const uint8_t *blob, size_t len);

#endif /* TL_PCODEC_INT_H */
