/*
 * xorcol.c — XOR: doubles coded against their predecessor (Chimp, Liakos et al., VLDB 2022),
 * the fallback for values ALP cannot scale (noisy measurements, full-precision results).
 *
 * Each value after the first is x = v ^ prev; with lz = clz(x) rounded down to one of
 * {0, 8, 12, 16, 18, 20, 22, 24} (a 3-bit code) and tz = ctz(x), it is written as
 *     flag 0 (2 bits): x == 0;
 *     flag 1: tz > 6: lz code (3), s = 64 - lz - tz (6 bits, 1..57), then x >> tz (s bits);
 *     flag 2: lz equals the lz of the last flag-3 value: x (64 - lz bits);
 *     flag 3: lz code (3), then x (64 - lz bits); this lz becomes the stored one.
 * Flags 0 and 1 forget the stored lz (as in Chimp), so flag 2 never follows them. Bits are
 * written LSB first, like the INT packing.
 *
 * Section: off[nmb + 1] u32 (byte offset of miniblock j's stream; off[nmb] = total), zeros to
 * a multiple of 8, then the streams, each starting with its first value raw (64 bits) and
 * ending at a byte boundary, then zeros to a multiple of 8. A miniblock decodes alone.
 * tl_xor_check decodes every stream with bounds checks: each read stays inside the stream,
 * flag 1 has 1 <= s <= 64 - lz, flag 2 has a stored lz, and the stream ends in its last byte.
 * Complexity: O(m) per miniblock, a few ns per value (bit-serial; it is the slow fallback).
 */
#include "pcodec_int.h"

#define NO_LEAD 65u

static const uint8_t LEAD_VAL[8] = {0, 8, 12, 16, 18, 20, 22, 24};

static unsigned lead_code(unsigned lz) {
    return lz >= 24 ? 7 : lz >= 22 ? 6 : lz >= 20 ? 5 : lz >= 18 ? 4 : lz >= 16 ? 3
         : lz >= 12 ? 2 : lz >= 8 ? 1 : 0;
}

/* ---- bit writer (dst == NULL counts only) ---- */

typedef struct bw {
    uint8_t *dst;
    uint64_t acc;
    unsigned fill; /* bits pending in acc, < 64 */
    size_t bytes; /* bytes flushed */
} bw_t;

static void put(bw_t *b, uint64_t x, unsigned n) { /* n <= 64, x < 2^n */
    b->acc |= x << b->fill;
    if (b->fill + n >= 64) {
        if (b->dst) pc_st64(b->dst + b->bytes, b->acc);
        b->bytes += 8;
        b->acc = b->fill ? x >> (64 - b->fill) : 0;
        b->fill = b->fill + n - 64;
    } else {
        b->fill += n;
    }
}

static size_t flush(bw_t *b) {
    size_t tail = (b->fill + 7) / 8;
    if (b->dst) memcpy(b->dst + b->bytes, &b->acc, tail);
    b->bytes += tail;
    b->acc = 0;
    b->fill = 0;
    return b->bytes;
}

static void put_value(bw_t *b, uint64_t x, unsigned *stored) {
    if (x == 0) {
        put(b, 0, 2);
        *stored = NO_LEAD;
        return;
    }
    unsigned code = lead_code((unsigned)__builtin_clzll(x)), lz = LEAD_VAL[code];
    unsigned tz = (unsigned)__builtin_ctzll(x);
    if (tz > 6) {
        unsigned s = 64 - lz - tz;
        put(b, 1 | code << 2 | (uint64_t)s << 5, 11);
        put(b, x >> tz, s);
        *stored = NO_LEAD;
    } else if (lz == *stored) {
        put(b, 2, 2);
        put(b, x, 64 - lz);
    } else {
        put(b, 3 | code << 2, 5);
        put(b, x, 64 - lz);
        *stored = lz;
    }
}

size_t tl_xor_write(const uint64_t *h, uint32_t n, uint8_t *dst) {
    uint32_t nmb = pc_nmb(n);
    size_t fixed = pc_round8(4 * ((size_t)nmb + 1));
    bw_t b = {dst ? dst + fixed : NULL, 0, 0, 0};
    if (dst) memset(dst, 0, fixed);
    for (uint32_t j = 0; j < nmb; j++) {
        const uint64_t *v = h + (size_t)j * PC_MB;
        if (dst) pc_st32(dst + 4 * (size_t)j, (uint32_t)b.bytes);
        unsigned stored = NO_LEAD;
        put(&b, v[0], 64);
        for (uint32_t i = 1; i < pc_mb_len(n, j); i++) put_value(&b, v[i] ^ v[i - 1], &stored);
        flush(&b);
    }
    if (dst) pc_st32(dst + 4 * (size_t)nmb, (uint32_t)b.bytes);
    size_t padded = pc_round8(b.bytes);
    if (dst) memset(dst + fixed + b.bytes, 0, padded - b.bytes);
    return fixed + padded;
}

void tl_xor_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t sec_len, uint32_t nmb) {
    size_t fixed = pc_round8(4 * ((size_t)nmb + 1));
    c->off = sec;
    c->data = sec + fixed;
    c->data_len = (uint32_t)(sec_len - fixed);
}

/* ---- reading: one decoder, with bounds checks when `checked` (constant-folded) ---- */

typedef struct br {
    const uint8_t *p;
    uint64_t pos, end; /* bit position and limit */
} br_t;

static inline uint64_t get(br_t *r, unsigned n) { /* 1 <= n <= 64 */
    const uint8_t *q = r->p + (r->pos >> 3);
    unsigned s = (unsigned)(r->pos & 7);
    uint64_t x = pc_ld64(q) >> s;
    if (s + n > 64) x |= (uint64_t)q[8] << (64 - s);
    r->pos += n;
    return n == 64 ? x : x & ((1ull << n) - 1);
}

/* Decodes `count` values of one stream into out; false (checked only) on a malformed stream.
 * Checked reads test pos + n <= end before each read, so no load starts past the stream's
 * last byte (the 8-byte load itself is covered by the blob's trailer). */
PC_INLINE bool decode(br_t *r, uint32_t count, uint64_t *out, bool checked) {
#define NEED(k)                                                                            \
    do {                                                                                   \
        if (checked && r->pos + (k) > r->end) return false;                                \
    } while (0)
    NEED(64);
    uint64_t prev = get(r, 64);
    unsigned stored = NO_LEAD;
    out[0] = prev;
    for (uint32_t i = 1; i < count; i++) {
        NEED(2);
        unsigned flag = (unsigned)get(r, 2);
        uint64_t x = 0;
        if (flag == 1) {
            NEED(9);
            uint64_t hd = get(r, 9);
            unsigned lz = LEAD_VAL[hd & 7], s = (unsigned)(hd >> 3);
            if (checked && (s == 0 || s > 64 - lz)) return false;
            NEED(s);
            x = get(r, s) << (64 - lz - s);
            stored = NO_LEAD;
        } else if (flag >= 2) {
            if (flag == 3) {
                NEED(3);
                stored = LEAD_VAL[get(r, 3)];
            }
            if (checked && stored == NO_LEAD) return false;
            NEED(64 - stored);
            x = get(r, 64 - stored);
        } else {
            stored = NO_LEAD;
        }
        prev ^= x;
        out[i] = prev;
    }
    return true;
#undef NEED
}

void tl_xor_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out) {
    br_t r = {c->data + pc_ld32(c->off + 4 * (size_t)j), 0, 0};
    decode(&r, count, out, false);
}

tl_status_t tl_xor_check(const tl_pcodec_col_t *c, uint32_t n) {
    uint32_t nmb = pc_nmb(n);
    for (const uint8_t *p = c->off + 4 * ((size_t)nmb + 1); p < c->data; p++) {
        if (*p != 0) return TL_ECORRUPT;
    }
    uint32_t total = pc_ld32(c->off + 4 * (size_t)nmb);
    if (pc_ld32(c->off) != 0 || total > c->data_len || pc_round8(total) != c->data_len) {
        return TL_ECORRUPT;
    }
    for (uint32_t i = total; i < c->data_len; i++) {
        if (c->data[i] != 0) return TL_ECORRUPT;
    }
    uint64_t tmp[PC_MB];
    for (uint32_t j = 0; j < nmb; j++) {
        uint32_t lo = pc_ld32(c->off + 4 * (size_t)j), hi = pc_ld32(c->off + 4 * (size_t)j + 4);
        if (hi < lo || hi > total) return TL_ECORRUPT;
        br_t r = {c->data + lo, 0, 8 * (uint64_t)(hi - lo)};
        if (!decode(&r, pc_mb_len(n, j), tmp, true)) return TL_ECORRUPT;
        if ((r.pos + 7) / 8 != hi - lo) return TL_ECORRUPT; /* the stream ends in its last byte */
    }
    return TL_OK;
}
