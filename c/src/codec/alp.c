/*
 * alp.c — ALP_DEC and ALP_BIN: doubles that are scaled integers, stored as an INT column.
 *
 * ALP (Afroozeh, Kuffo, Boncz, SIGMOD 2024) finds an exponent e and factor f such that a
 * double v equals d * 10^f * 10^-e for an integer d, computed exactly that way in double
 * arithmetic: d = round(v * 10^e * 10^-f); the value is kept only if decoding gives back the
 * same 64 bits. Prices with two decimals are d = cents (e = 2, or e = 14 and f = 12, whichever
 * round-trips more values). ALP_BIN is the same with v = d * 2^-k: binary fractions such as
 * k/256, which a decimal exponent turns into long integers (1/256 = 390625 * 10^-8), scale
 * exactly, because a power of two multiplies without rounding.
 * Values that do not round-trip bit for bit are exceptions, stored raw: -0.0 (d = 0 decodes to
 * +0.0), NaN (any payload), infinities, subnormals, |d| >= 2^51, too many digits. An
 * exception's integer slot repeats the previous integer so it costs no delta bits.
 *
 * Section (little-endian):
 *     0  u8   e (ALP_DEC: 0..18) or k (ALP_BIN: 0..62)
 *     1  u8   f (ALP_DEC: 0..e; ALP_BIN: 0)
 *     2  u16  0
 *     4  u32  exc_n: exceptions in the page
 *     8  u32  int_len: length of the INT column that follows
 *    12  u32  0
 *    16  INT column of the integers d (intcol.c), int_len bytes
 *    then, when exc_n > 0: exc_off[nmb + 1] u16 (exceptions before miniblock j; exc_off[nmb]
 *    = exc_n), exc_pos[exc_n] u8 (position inside the miniblock, increasing), zeros to a
 *    multiple of 8, exc_val[exc_n] u64 (the raw bits).
 *
 * Decoding: the INT kernels add PC_MAGIC_BITS to every integer, which turns an integer d with
 * |d| < 2^51 into the bits of the double PC_MAGIC + d; subtracting PC_MAGIC gives (double)d
 * exactly, with two vectorizable operations instead of a scalar int-to-double conversion.
 * Then two multiplies (mul_a = 10^f, mul_b = 10^-e; or 2^-k and 1), then the exceptions are
 * patched in. The encoder checks every value with the same arithmetic, so a value is either
 * exact or an exception. No FMA contraction may merge these operations (pragma below).
 *
 * Parameter search: ALP_BIN takes k from the exact count of fraction bits of every value (a
 * few bit operations each): the largest, the one that leaves 1% as exceptions, and when every
 * value is a short binary fraction the one of the lowest estimated size. ALP_DEC tries every
 * (e, f) with f <= e <= 18 on 32 sampled values and keeps the two with the fewest exceptions,
 * then the fewest bits (8 values then the best 6 on 32, as ALP's two rounds do, chose worse
 * pairs for prices: 0.83 B/record against 0.73). ALP_DEC is skipped when every value is a
 * binary fraction of at most 18 bits (integers included): there ALP_BIN at the same exponent
 * has the same exceptions and narrower integers (see bin_candidates). The encoder ranks the
 * candidates on an eighth of the miniblocks, sizes the close ones exactly, keeps the best.
 * Complexity: encode O(n) per candidate sized (+ 190 * 32 trials); decode O(m) per miniblock.
 */
#include <math.h>

#include "pcodec_int.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define E_MAX 18
#define K_MAX 62
#define SAMPLE 32

static const double F10[E_MAX + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                      1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
static const double IF10[E_MAX + 1] = {1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,
                                       1e-7,  1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13,
                                       1e-14, 1e-15, 1e-16, 1e-17, 1e-18};

static double pow2(int k) { return pc_u2f((uint64_t)(1023 + k) << 52); } /* |k| <= 1022 */

/* Encode and decode multipliers of one parameter set. */
typedef struct mul {
    double ea, eb, da, db;
} mul_t;

static mul_t mul_of(uint8_t codec, unsigned e, unsigned f) {
    if (codec == TL_PCODEC_ALP_BIN) return (mul_t){pow2((int)e), 1.0, pow2(-(int)e), 1.0};
    return (mul_t){F10[e], IF10[f], F10[f], IF10[e]};
}

/* The integer of v, when v round-trips bit for bit through it. */
static inline bool enc1(uint64_t bits, const mul_t *k, int64_t *d) {
    double v = pc_u2f(bits);
    double x = v * k->ea * k->eb;
    if (!(x > -(double)PC_ALP_INT_MAX && x < (double)PC_ALP_INT_MAX)) return false; /* NaN */
    int64_t r = (int64_t)((x + PC_MAGIC) - PC_MAGIC); /* round to nearest, exact below 2^51 */
    if (pc_f2u((double)r * k->da * k->db) != bits) return false;
    *d = r;
    return true;
}

/* ---- parameter search ---- */

/* Fraction bits of v (v * 2^k is an integer for k >= the result), or K_MAX + 1 when none
 * works (infinities, NaN, -0.0, subnormals, too small). */
static unsigned frac_bits(uint64_t b) {
    unsigned ex = (unsigned)(b >> 52) & 0x7FF;
    uint64_t mant = b & ((1ull << 52) - 1);
    if (ex == 0x7FF || (ex == 0 && (mant != 0 || b >> 63))) return K_MAX + 1;
    if (ex == 0) return 0; /* +0.0 */
    int t = __builtin_ctzll(mant | (1ull << 52));
    int k = 1075 - (int)ex - t;
    return k <= 0 ? 0 : k > K_MAX ? K_MAX + 1 : (unsigned)k;
}

/* ALP_BIN candidates: k of the longest fraction, and of the 99th percentile. With `all_k`,
 * when every value is a binary fraction of at most E_MAX bits, also the k of the lowest
 * estimated size (the value range's bits plus k per value, 72 per exception, from the exact
 * histogram); it then sets *dominated: for every exponent e - f = j an ALP_DEC could use,
 * ALP_BIN at k = j has the same exceptions (v * 10^j is an integer exactly when v * 2^j is)
 * and integers 5^j times smaller, so the caller skips ALP_DEC. */
static uint32_t bin_candidates(const uint64_t *h, uint32_t n, tl_alp_param_t *out, bool all_k,
                               bool *dominated) {
    uint32_t cnt[K_MAX + 2] = {0};
    double lo = INFINITY, hi = -INFINITY;
    *dominated = false;
    for (uint32_t i = 0; i < n; i++) {
        double v = pc_u2f(h[i]);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        cnt[frac_bits(h[i])]++;
    }
    if (cnt[K_MAX + 1] > n / 2) return 0;
    unsigned kmax = 0, k99 = K_MAX + 1;
    uint32_t above = cnt[K_MAX + 1];
    for (int k = K_MAX; k >= 0; k--) {
        if (cnt[k] && kmax == 0) kmax = (unsigned)k;
        if (above <= n / 100) k99 = (unsigned)k;
        above += cnt[k];
    }
    uint32_t c = 0;
    out[c++] = (tl_alp_param_t){TL_PCODEC_ALP_BIN, (uint8_t)kmax, 0};
    if (k99 < kmax) out[c++] = (tl_alp_param_t){TL_PCODEC_ALP_BIN, (uint8_t)k99, 0};
    if (!all_k || cnt[K_MAX + 1] != 0 || kmax > E_MAX) return c;
    int w0 = hi > lo ? ilogb(hi - lo) + 1 : 0; /* range bits at k = 0 (may be negative) */
    uint64_t best = UINT64_MAX;
    unsigned kbest = kmax;
    uint32_t exc = 0; /* values with more than k fraction bits */
    for (int k = (int)kmax; k >= 0; k--) {
        int w = w0 + k < 0 ? 0 : w0 + k;
        uint64_t sc = (uint64_t)exc * 72 + (uint64_t)(n - exc) * (uint64_t)w;
        if (sc <= best) best = sc, kbest = (unsigned)k;
        exc += cnt[k];
    }
    if (kbest != kmax && kbest != k99) {
        out[c++] = (tl_alp_param_t){TL_PCODEC_ALP_BIN, (uint8_t)kbest, 0};
    }
    *dominated = true;
    return c;
}

/* Score of (e, f) on the sample: exceptions weigh a raw value plus a position, the rest the
 * width of the integer range. Lower is better. */
static uint64_t dec_score(const uint64_t *s, uint32_t ns, unsigned e, unsigned f) {
    mul_t k = mul_of(TL_PCODEC_ALP_DEC, e, f);
    int64_t mn = INT64_MAX, mx = INT64_MIN, d;
    uint32_t exc = 0;
    for (uint32_t i = 0; i < ns; i++) {
        if (!enc1(s[i], &k, &d)) {
            exc++;
            continue;
        }
        mn = d < mn ? d : mn;
        mx = d > mx ? d : mx;
    }
    unsigned w = exc == ns ? 0 : pc_bits((uint64_t)mx - (uint64_t)mn);
    return (uint64_t)exc * 72 + (uint64_t)(ns - exc) * w;
}

static uint32_t dec_candidates(const uint64_t *h, uint32_t n, tl_alp_param_t *out) {
    uint64_t s[SAMPLE];
    uint32_t ns = n < SAMPLE ? n : SAMPLE;
    for (uint32_t i = 0; i < ns; i++) s[i] = h[ns > 1 ? (uint64_t)i * (n - 1) / (ns - 1) : 0];
    uint64_t best[2] = {UINT64_MAX, UINT64_MAX};
    tl_alp_param_t bp[2] = {{0, 0, 0}, {0, 0, 0}};
    for (unsigned e = 0; e <= E_MAX; e++) {
        for (unsigned f = 0; f <= e; f++) {
            uint64_t sc = dec_score(s, ns, e, f);
            tl_alp_param_t p = {TL_PCODEC_ALP_DEC, (uint8_t)e, (uint8_t)f};
            if (sc < best[0]) {
                best[1] = best[0], bp[1] = bp[0];
                best[0] = sc, bp[0] = p;
            } else if (sc < best[1]) {
                best[1] = sc, bp[1] = p;
            }
        }
    }
    /* Not worth sizing when most of the sample is exceptions either way. */
    if (best[0] >= (uint64_t)ns * 72 / 2) return 0;
    out[0] = bp[0];
    out[1] = bp[1];
    return best[1] < (uint64_t)ns * 72 / 2 ? 2 : 1;
}

uint32_t tl_alp_candidates(const uint64_t *h, uint32_t n, bool dec_always,
                           tl_alp_param_t *out) {
    bool dominated;
    uint32_t c = bin_candidates(h, n, out, !dec_always, &dominated);
    return dominated ? c : c + dec_candidates(h, n, out + c);
}

/* ---- writing ---- */

static size_t exc_bytes(uint32_t nmb, uint32_t exc_n) {
    return exc_n == 0 ? 0 : pc_round8(2 * ((size_t)nmb + 1) + exc_n) + 8 * (size_t)exc_n;
}

/* Integers of one miniblock (exceptions repeat the previous integer, or the next when they
 * lead), and the exception positions; returns their count. */
static uint32_t mb_ints(const uint64_t *h, uint32_t m, const mul_t *k, uint64_t *d,
                        uint8_t *pos) {
    uint32_t ne = 0;
    int64_t prev = 0, x;
    bool any = false;
    for (uint32_t i = 0; i < m; i++) {
        if (enc1(h[i], k, &x)) {
            if (!any) {
                for (uint32_t q = 0; q < ne; q++) d[pos[q]] = (uint64_t)x;
                any = true;
            }
            prev = x;
        } else {
            pos[ne++] = (uint8_t)i;
        }
        d[i] = (uint64_t)prev;
    }
    return ne;
}

/* The section's size over miniblocks 0, step, 2 * step, ... of h: exact for step 1. */
static size_t measure_every(const uint64_t *h, uint32_t n, tl_alp_param_t p, uint32_t step,
                            tl_alp_meas_t *out) {
    mul_t k = mul_of(p.codec, p.e, p.f);
    uint32_t nmb = pc_nmb(n), exc_n = 0;
    uint64_t d[PC_MB];
    uint8_t pos[PC_MB];
    tl_intcol_w_t w;
    tl_intcol_w_init(&w, NULL, (nmb + step - 1) / step);
    for (uint32_t j = 0; j < nmb; j += step) {
        uint32_t m = pc_mb_len(n, j);
        exc_n += mb_ints(h + (size_t)j * PC_MB, m, &k, d, pos);
        tl_intcol_w_add(&w, d, m);
    }
    out->int_len = tl_intcol_w_end(&w);
    out->exc_n = exc_n;
    return 16 + out->int_len + exc_bytes(nmb, exc_n);
}

size_t tl_alp_measure(const uint64_t *h, uint32_t n, tl_alp_param_t p, tl_alp_meas_t *out) {
    return measure_every(h, n, p, 1, out);
}

size_t tl_alp_estimate(const uint64_t *h, uint32_t n, tl_alp_param_t p, uint32_t *exc_est) {
    tl_alp_meas_t m;
    size_t len = measure_every(h, n, p, TL_ALP_EST_STEP, &m);
    *exc_est = m.exc_n * TL_ALP_EST_STEP;
    return len;
}

void tl_alp_write(const uint64_t *h, uint32_t n, tl_alp_param_t p, const tl_alp_meas_t *ms,
                  uint8_t *dst) {
    mul_t k = mul_of(p.codec, p.e, p.f);
    uint32_t nmb = pc_nmb(n), exc_n = 0;
    uint8_t *eoff = dst + 16 + ms->int_len, *epos = eoff + 2 * ((size_t)nmb + 1);
    uint8_t *eval = eoff + pc_round8(2 * ((size_t)nmb + 1) + ms->exc_n);
    memset(dst, 0, 16);
    dst[0] = p.e;
    dst[1] = p.f;
    pc_st32(dst + 4, ms->exc_n);
    pc_st32(dst + 8, (uint32_t)ms->int_len);
    if (ms->exc_n > 0) memset(epos, 0, (size_t)(eval - epos));
    uint64_t d[PC_MB];
    uint8_t pos[PC_MB];
    tl_intcol_w_t w;
    tl_intcol_w_init(&w, dst + 16, nmb);
    for (uint32_t j = 0; j < nmb; j++) {
        uint32_t m = pc_mb_len(n, j);
        const uint64_t *hj = h + (size_t)j * PC_MB;
        uint32_t ne = mb_ints(hj, m, &k, d, pos);
        tl_intcol_w_add(&w, d, m);
        if (ms->exc_n == 0) continue;
        pc_st16(eoff + 2 * (size_t)j, (uint16_t)exc_n);
        for (uint32_t q = 0; q < ne; q++, exc_n++) {
            epos[exc_n] = pos[q];
            pc_st64(eval + 8 * (size_t)exc_n, hj[pos[q]]);
        }
    }
    tl_intcol_w_end(&w);
    if (ms->exc_n > 0) pc_st16(eoff + 2 * (size_t)nmb, (uint16_t)exc_n);
}

/* ---- reading ---- */

tl_status_t tl_alp_check_head(const uint8_t *sec, uint32_t sec_len, uint8_t codec, uint32_t n) {
    if (sec_len < 16) return TL_ECORRUPT;
    unsigned e = sec[0], f = sec[1];
    uint32_t exc_n = pc_ld32(sec + 4), int_len = pc_ld32(sec + 8), nmb = pc_nmb(n);
    if (pc_ld16(sec + 2) != 0 || pc_ld32(sec + 12) != 0 || exc_n > n) return TL_ECORRUPT;
    if (codec == TL_PCODEC_ALP_DEC ? (e > E_MAX || f > e) : (e > K_MAX || f != 0)) {
        return TL_ECORRUPT;
    }
    if (int_len % 8 != 0 || int_len < tl_intcol_fixed(nmb)) return TL_ECORRUPT;
    uint64_t need = 16 + (uint64_t)int_len + exc_bytes(nmb, exc_n);
    return need == sec_len ? TL_OK : TL_ECORRUPT;
}

void tl_alp_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t sec_len, uint32_t nmb) {
    (void)sec_len;
    c->e = sec[0];
    c->f = sec[1];
    c->exc_n = pc_ld32(sec + 4);
    uint32_t int_len = pc_ld32(sec + 8);
    tl_intcol_parse(c, sec + 16, int_len, nmb);
    mul_t k = mul_of(c->codec, c->e, c->f);
    c->mul_a = k.da;
    c->mul_b = k.db;
    c->exc_off = sec + 16 + int_len;
    c->exc_pos = c->exc_off + 2 * ((size_t)nmb + 1);
    c->exc_val = c->exc_off + pc_round8(2 * ((size_t)nmb + 1) + c->exc_n);
}

void tl_alp_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out) {
    tl_intcol_mb_f64(c, j, count, out);
    if (c->exc_n == 0) return;
    uint32_t lo = pc_ld16(c->exc_off + 2 * (size_t)j), hi = pc_ld16(c->exc_off + 2 * (size_t)j + 2);
    for (uint32_t q = lo; q < hi; q++) {
        uint32_t at = c->exc_pos[q];
        if (at < count) out[at] = pc_ld64(c->exc_val + 8 * (size_t)q);
    }
}

uint64_t tl_alp_at(const tl_pcodec_col_t *c, uint32_t j, uint32_t k) {
    if (c->exc_n != 0) {
        uint32_t lo = pc_ld16(c->exc_off + 2 * (size_t)j);
        uint32_t hi = pc_ld16(c->exc_off + 2 * (size_t)j + 2);
        for (uint32_t q = lo; q < hi; q++) {
            if (c->exc_pos[q] == k) return pc_ld64(c->exc_val + 8 * (size_t)q);
        }
    }
    /* The miniblock decoder's arithmetic exactly, so both agree on any valid blob. */
    double x = pc_u2f(tl_intcol_at(c, j, k) + PC_MAGIC_BITS) - PC_MAGIC;
    return pc_f2u(x * c->mul_a * c->mul_b);
}

tl_status_t tl_alp_check(const tl_pcodec_col_t *c, uint32_t n) {
    tl_status_t st = tl_intcol_check(c, n);
    if (st != TL_OK || c->exc_n == 0) return st;
    uint32_t nmb = pc_nmb(n);
    if (pc_ld16(c->exc_off) != 0 || pc_ld16(c->exc_off + 2 * (size_t)nmb) != c->exc_n) {
        return TL_ECORRUPT;
    }
    for (uint32_t j = 0; j < nmb; j++) {
        uint32_t lo = pc_ld16(c->exc_off + 2 * (size_t)j);
        uint32_t hi = pc_ld16(c->exc_off + 2 * (size_t)j + 2);
        if (hi < lo || hi - lo > pc_mb_len(n, j) || hi > c->exc_n) return TL_ECORRUPT;
        for (uint32_t q = lo; q < hi; q++) {
            if (c->exc_pos[q] >= pc_mb_len(n, j)) return TL_ECORRUPT;
            if (q > lo && c->exc_pos[q] <= c->exc_pos[q - 1]) return TL_ECORRUPT;
        }
    }
    for (const uint8_t *p = c->exc_pos + c->exc_n; p < c->exc_val; p++) {
        if (*p != 0) return TL_ECORRUPT;
    }
    return TL_OK;
}
