/*
 * intcol.c — the INT column: 64-bit integers per miniblock, frame of reference or delta, then
 * bit packing. It stores the ts column, integer handles, and the integers inside ALP.
 *
 * Structure of a section for nmb miniblocks (all little-endian):
 *     base[nmb] u64 | meta[nmb + 1] u32 | zeros to a multiple of 8 | data
 * Miniblock j (m records) is either
 *   FOR:   base = min; data = the m values v - min packed at width w = bits(max - min);
 *   DELTA: base = v[0]; data = dmin (zigzag, 0/1/2/4/8 bytes) then p[0] = 0 and
 *          p[i] = (v[i] - v[i-1]) - dmin packed at width w = bits(max delta - dmin),
 * whichever is smaller (a tie keeps FOR: no prefix sum to decode). The encoder computes both
 * sizes exactly from min/max, so choosing costs one pass. All arithmetic is mod 2^64 on the
 * values read as int64, so any 64-bit column round-trips, INT64_MIN..INT64_MAX jumps included.
 * meta[j] holds the byte offset of miniblock j's data, its width, mode and dmin size (see
 * pcodec_int.h), so any miniblock decodes without the ones before it; meta[nmb] is the end
 * offset of the data (nothing else), which is then padded with zeros to a multiple of 8.
 *
 * For the ts column base[j] is the first timestamp of miniblock j (the min of a sorted run is
 * its first record): the fence array the bound searches binary-search, read in place.
 *
 * Invariants checked by tl_intcol_check: meta reserved bit zero, w <= 64, a FOR miniblock has
 * no dmin bytes, dmin code <= 4, offsets exactly the running sum of the miniblock sizes,
 * meta[nmb] exactly the total, the data length that total rounded up to 8 with zero padding.
 * Decoders trust all of it.
 * Complexity: encode O(m) per miniblock; decode O(m) (bitpack.c kernels); at() O(1) for FOR.
 */
#include "pcodec_int.h"

static inline unsigned nb_of_code(unsigned code) { return code ? 1u << (code - 1) : 0; }

/* Smallest dmin byte-count code for a zigzag value. */
static inline unsigned code_of(uint64_t z) {
    return z == 0 ? 0 : z <= 0xFF ? 1 : z <= 0xFFFF ? 2 : z <= 0xFFFFFFFFull ? 3 : 4;
}

static inline uint64_t byte_mask(unsigned nb) { return nb >= 8 ? ~0ull : (1ull << (8 * nb)) - 1; }

void tl_intcol_w_init(tl_intcol_w_t *w, uint8_t *dst, uint32_t nmb) {
    w->dst = dst;
    w->nmb = nmb;
    w->j = 0;
    w->data_len = 0;
    w->plans = NULL;
    w->plans_cap = 0;
    w->plans_ready = false;
    if (dst != NULL) memset(dst, 0, tl_intcol_fixed(nmb)); /* zero the alignment padding */
}

typedef tl_intcol_plan_t plan_t;

static plan_t plan_mb(const uint64_t *v, uint32_t m) {
    int64_t mn = (int64_t)v[0], mx = mn, dmn = 0, dmx = 0;
    if (m > 1) dmn = dmx = (int64_t)(v[1] - v[0]);
    for (uint32_t i = 1; i < m; i++) {
        int64_t x = (int64_t)v[i], e = (int64_t)(v[i] - v[i - 1]);
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
        dmn = e < dmn ? e : dmn;
        dmx = e > dmx ? e : dmx;
    }
    unsigned fw = pc_bits((uint64_t)mx - (uint64_t)mn);
    plan_t f = {.base = (uint64_t)mn, .w = (uint8_t)fw, .bytes = (uint32_t)tl_bp_bytes(m, fw)};
    unsigned dw = pc_bits((uint64_t)dmx - (uint64_t)dmn), code = code_of(pc_zigzag(dmn));
    plan_t d = {.base = v[0], .dmin = (uint64_t)dmn, .w = (uint8_t)dw, .code = (uint8_t)code,
                .delta = true, .bytes = (uint32_t)(nb_of_code(code) + tl_bp_bytes(m, dw))};
    return d.bytes < f.bytes ? d : f;
}

void tl_intcol_w_add(tl_intcol_w_t *w, const uint64_t *v, uint32_t m) {
    plan_t p;
    bool kept = w->plans != NULL && w->j < w->plans_cap;
    if (kept && w->plans_ready) {
        p = w->plans[w->j];
    } else {
        p = plan_mb(v, m);
        if (kept) w->plans[w->j] = p;
    }
    if (w->dst != NULL) {
        uint8_t *s = w->dst, *data = s + tl_intcol_fixed(w->nmb) + w->data_len;
        uint32_t j = w->j, nmb = w->nmb;
        pc_st64(s + 8 * (size_t)j, p.base);
        pc_st32(s + 8 * (size_t)nmb + 4 * (size_t)j,
                pc_meta((uint32_t)w->data_len, p.w, p.delta, p.code));
        uint64_t packed[PC_MB];
        if (p.delta) {
            unsigned nb = nb_of_code(p.code);
            uint64_t z = pc_zigzag((int64_t)p.dmin);
            memcpy(data, &z, nb);
            data += nb;
            packed[0] = 0;
            for (uint32_t i = 1; i < m; i++) packed[i] = v[i] - v[i - 1] - p.dmin;
        } else {
            for (uint32_t i = 0; i < m; i++) packed[i] = v[i] - p.base;
        }
        tl_bp_pack(data, packed, m, p.w);
    }
    w->data_len += p.bytes;
    w->j++;
}

size_t tl_intcol_w_end(tl_intcol_w_t *w) {
    size_t padded = pc_round8(w->data_len);
    if (w->dst != NULL) {
        uint8_t *data = w->dst + tl_intcol_fixed(w->nmb);
        pc_st32(w->dst + 12 * (size_t)w->nmb, (uint32_t)w->data_len);
        memset(data + w->data_len, 0, padded - w->data_len);
    }
    return tl_intcol_fixed(w->nmb) + padded;
}

void tl_intcol_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t sec_len, uint32_t nmb) {
    size_t fixed = tl_intcol_fixed(nmb);
    c->base = sec;
    c->meta = sec + 8 * (size_t)nmb;
    c->data = sec + fixed;
    c->data_len = (uint32_t)(sec_len - fixed);
}

/* The first `groups` groups of miniblock j, plus bias; fp: converted as ALP (bitpack.c). */
PC_INLINE void mb_groups(const tl_pcodec_col_t *c, uint32_t j, uint32_t groups, uint64_t bias,
                         uint64_t *out, bool fp) {
    uint64_t base = pc_ld64(c->base + 8 * (size_t)j);
    uint32_t meta = pc_ld32(c->meta + 4 * (size_t)j);
    const uint8_t *p = c->data + pc_meta_off(meta);
    unsigned w = pc_meta_w(meta);
    if (meta & PC_META_DELTA) {
        unsigned nb = nb_of_code(pc_meta_code(meta));
        /* An 8-byte load is always in bounds (trailer); keep the nb bytes of dmin. */
        uint64_t dmin = (uint64_t)pc_unzigzag(pc_ld64(p) & byte_mask(nb));
        if (fp) {
            tl_bp_delta_f64(p + nb, w, groups, base - dmin + bias, dmin, c->mul_a, c->mul_b, out);
        } else {
            tl_bp_delta(p + nb, w, groups, base - dmin + bias, dmin, out);
        }
    } else if (fp) {
        tl_bp_for_f64(p, w, groups, base + bias, c->mul_a, c->mul_b, out);
    } else {
        tl_bp_for(p, w, groups, base + bias, out);
    }
}

void tl_intcol_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t m, uint64_t bias,
                  uint64_t *out) {
    mb_groups(c, j, (m + PC_GROUP - 1) / PC_GROUP, bias, out, false);
}

void tl_intcol_mb_prefix(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t bias,
                         uint64_t *out) {
    mb_groups(c, j, (count + PC_GROUP - 1) / PC_GROUP, bias, out, false);
}

void tl_intcol_mb_f64(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out) {
    mb_groups(c, j, (count + PC_GROUP - 1) / PC_GROUP, PC_MAGIC_BITS, out, true);
}

uint64_t tl_intcol_at(const tl_pcodec_col_t *c, uint32_t j, uint32_t k) {
    uint32_t meta = pc_ld32(c->meta + 4 * (size_t)j);
    if (!(meta & PC_META_DELTA)) {
        const uint8_t *p = c->data + pc_meta_off(meta);
        return pc_ld64(c->base + 8 * (size_t)j) + tl_bp_get(p, pc_meta_w(meta), k);
    }
    uint64_t tmp[PC_MB];
    mb_groups(c, j, k / PC_GROUP + 1, 0, tmp, false);
    return tmp[k];
}

static bool all_zero(const uint8_t *p, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0) return false;
    }
    return true;
}

tl_status_t tl_intcol_check(const tl_pcodec_col_t *c, uint32_t n) {
    uint32_t nmb = pc_nmb(n);
    const uint8_t *pad = c->meta + 4 * ((size_t)nmb + 1);
    if (!all_zero(pad, (size_t)(c->data - pad))) return TL_ECORRUPT;
    uint64_t run = 0; /* 64-bit: forged widths cannot wrap it */
    for (uint32_t j = 0; j < nmb; j++) {
        uint32_t meta = pc_ld32(c->meta + 4 * (size_t)j);
        unsigned w = pc_meta_w(meta), code = pc_meta_code(meta);
        if ((meta & PC_META_RESERVED) || w > 64) return TL_ECORRUPT;
        if ((meta & PC_META_DELTA) ? code > 4 : code != 0) return TL_ECORRUPT;
        if (pc_meta_off(meta) != run) return TL_ECORRUPT;
        run += nb_of_code(code) + tl_bp_bytes(pc_mb_len(n, j), w);
        if (run > c->data_len) return TL_ECORRUPT;
    }
    if (pc_ld32(c->meta + 4 * (size_t)nmb) != run || pc_round8(run) != c->data_len) {
        return TL_ECORRUPT;
    }
    return all_zero(c->data + run, c->data_len - run) ? TL_OK : TL_ECORRUPT;
}
