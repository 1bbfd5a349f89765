/*
 * view.c — reading a blob: the O(1) header parse and the slice / miniblock / record decoders.
 *
 * Structure. tl_pcodec_parse reads the 24-byte header and checks everything that costs O(1):
 * version, codec ids, miniblock size, 1 <= n <= 65535, the section lengths (multiples of 8,
 * adding up to the blob with the trailer, each at least the fixed part its codec needs), the
 * zero trailer; then it points each column's fields into its section. Nothing after that
 * reads a length from the blob without it having been checked here or by tl_pcodec_validate.
 *
 * Decoding a slice [from, to) visits the miniblocks it touches. A miniblock the slice covers
 * whole, whose length is a multiple of 8, is decoded straight into the caller's buffer (the
 * kernels write whole groups of 8); an edge miniblock is decoded into a stack buffer, only up
 * to the last record needed, and copied. RAW columns are one memcpy.
 *
 * Searches (lower / upper bound) live in search.c.
 * Complexity: slice O(to - from + 64); record O(1) or O(64).
 */
#include "pcodec_int.h"

/* Bytes of the fixed part of an XOR section (off[nmb + 1], padded). */
static size_t xor_fixed(uint32_t nmb) { return pc_round8(4 * ((size_t)nmb + 1)); }

/* O(1) check that a section of `len` bytes can hold its codec's fixed part for n records. */
static tl_status_t sec_check(const uint8_t *sec, uint32_t len, uint8_t codec, uint32_t n) {
    uint32_t nmb = pc_nmb(n);
    switch (codec) {
    case TL_PCODEC_RAW: return len == 8 * (uint64_t)n ? TL_OK : TL_ECORRUPT;
    case TL_PCODEC_INT: return len >= tl_intcol_fixed(nmb) ? TL_OK : TL_ECORRUPT;
    case TL_PCODEC_ALP_DEC:
    case TL_PCODEC_ALP_BIN: return tl_alp_check_head(sec, len, codec, n);
    case TL_PCODEC_XOR: return len >= xor_fixed(nmb) ? TL_OK : TL_ECORRUPT;
    default: return TL_ECORRUPT;
    }
}

static void col_parse(tl_pcodec_col_t *c, const uint8_t *sec, uint32_t len, uint8_t codec,
                      uint32_t nmb) {
    memset(c, 0, sizeof *c);
    c->codec = codec;
    c->sec = sec;
    c->sec_len = len;
    if (codec == TL_PCODEC_INT) tl_intcol_parse(c, sec, len, nmb);
    if (codec == TL_PCODEC_ALP_DEC || codec == TL_PCODEC_ALP_BIN) tl_alp_parse(c, sec, len, nmb);
    if (codec == TL_PCODEC_XOR) tl_xor_parse(c, sec, len, nmb);
}

tl_status_t tl_pcodec_parse(tl_pcodec_view_t *v, const uint8_t *blob, size_t len) {
    if (len < PC_HDR + PC_TRAILER) return TL_ECORRUPT;
    uint8_t tsc = blob[1], hc = blob[2];
    uint32_t n = pc_ld32(blob + 4), ts_len = pc_ld32(blob + 8), h_len = pc_ld32(blob + 12);
    if (blob[0] != TL_PCODEC_VERSION || blob[3] != PC_MB_LOG2) return TL_ECORRUPT;
    if (tsc > TL_PCODEC_INT || hc >= TL_PCODEC_CODECS) return TL_ECORRUPT;
    if (n == 0 || n > TL_PCODEC_N_MAX || ts_len % 8 != 0 || h_len % 8 != 0) return TL_ECORRUPT;
    if ((uint64_t)PC_HDR + ts_len + h_len + PC_TRAILER != len) return TL_ECORRUPT;
    if (pc_ld64(blob + len - PC_TRAILER) != 0) return TL_ECORRUPT;
    const uint8_t *ts_sec = blob + PC_HDR, *h_sec = ts_sec + ts_len;
    if (sec_check(ts_sec, ts_len, tsc, n) != TL_OK || sec_check(h_sec, h_len, hc, n) != TL_OK) {
        return TL_ECORRUPT;
    }
    v->n = n;
    v->nmb = pc_nmb(n);
    v->ts_last = (int64_t)pc_ld64(blob + 16);
    col_parse(&v->ts, ts_sec, ts_len, tsc, v->nmb);
    col_parse(&v->h, h_sec, h_len, hc, v->nmb);
    v->ts_first = (int64_t)pc_ld64(ts_sec); /* RAW ts[0], or INT base[0]: the first fence */
    return TL_OK;
}

tl_status_t tl_pcodec_view_init(tl_pcodec_view_t *v, const uint8_t *blob, size_t len) {
    if (v == NULL || blob == NULL) return TL_EINVAL;
    return tl_pcodec_parse(v, blob, len);
}

/* ---- miniblocks ---- */

/* The first `count` records of miniblock j of column c into out[PC_MB] (INT and ALP write
 * whole groups of 8, so up to ceil(count / 8) * 8 slots). */
static void col_mb(const tl_pcodec_col_t *c, uint32_t j, uint32_t count, uint64_t *out) {
    switch (c->codec) {
    case TL_PCODEC_RAW:
        memcpy(out, c->sec + 8 * ((size_t)j << PC_MB_LOG2), 8 * (size_t)count);
        break;
    case TL_PCODEC_INT: tl_intcol_mb_prefix(c, j, count, 0, out); break;
    case TL_PCODEC_XOR: tl_xor_mb(c, j, count, out); break;
    default: tl_alp_mb(c, j, count, out); break;
    }
}

uint32_t tl_pcodec_ts_mb(const tl_pcodec_view_t *v, uint32_t j, int64_t *out) {
    uint32_t m = pc_mb_len(v->n, j);
    col_mb(&v->ts, j, m, (uint64_t *)out);
    return m;
}

uint32_t tl_pcodec_h_mb(const tl_pcodec_view_t *v, uint32_t j, uint64_t *out) {
    uint32_t m = pc_mb_len(v->n, j);
    col_mb(&v->h, j, m, out);
    return m;
}

/* ---- slices ---- */

static void col_range(const tl_pcodec_col_t *c, uint32_t n, uint32_t from, uint32_t to,
                      uint64_t *out) {
    if (from >= to) return;
    if (c->codec == TL_PCODEC_RAW) {
        memcpy(out, c->sec + 8 * (size_t)from, 8 * (size_t)(to - from));
        return;
    }
    uint64_t tmp[PC_MB];
    for (uint32_t j = from >> PC_MB_LOG2; j <= (to - 1) >> PC_MB_LOG2; j++) {
        uint32_t start = j << PC_MB_LOG2, m = pc_mb_len(n, j);
        uint32_t lo = from > start ? from : start, hi = to < start + m ? to : start + m;
        if (lo == start && hi == start + m && m % PC_GROUP == 0) {
            col_mb(c, j, m, out + (lo - from));
        } else {
            col_mb(c, j, hi - start, tmp);
            memcpy(out + (lo - from), tmp + (lo - start), 8 * (size_t)(hi - lo));
        }
    }
}

void tl_pcodec_ts_decode(const tl_pcodec_view_t *v, uint32_t from, uint32_t to, int64_t *out) {
    col_range(&v->ts, v->n, from, to, (uint64_t *)out);
}

void tl_pcodec_h_decode(const tl_pcodec_view_t *v, uint32_t from, uint32_t to, uint64_t *out) {
    col_range(&v->h, v->n, from, to, out);
}

void tl_pcodec_decode(const tl_pcodec_view_t *v, uint32_t from, uint32_t to, int64_t *ts_out,
                      uint64_t *h_out) {
    if (ts_out != NULL) tl_pcodec_ts_decode(v, from, to, ts_out);
    if (h_out != NULL) tl_pcodec_h_decode(v, from, to, h_out);
}

/* ---- records ---- */

int64_t tl_pcodec_ts_at(const tl_pcodec_view_t *v, uint32_t i) {
    if (v->ts.codec == TL_PCODEC_RAW) return (int64_t)pc_ld64(v->ts.sec + 8 * (size_t)i);
    return (int64_t)tl_intcol_at(&v->ts, i >> PC_MB_LOG2, i & (PC_MB - 1));
}

uint64_t tl_pcodec_h_at(const tl_pcodec_view_t *v, uint32_t i) {
    const tl_pcodec_col_t *c = &v->h;
    uint32_t j = i >> PC_MB_LOG2, k = i & (PC_MB - 1);
    switch (c->codec) {
    case TL_PCODEC_RAW: return pc_ld64(c->sec + 8 * (size_t)i);
    case TL_PCODEC_INT: return tl_intcol_at(c, j, k);
    case TL_PCODEC_XOR: {
        uint64_t tmp[PC_MB];
        tl_xor_mb(c, j, k + 1, tmp);
        return tmp[k];
    }
    default: return tl_alp_at(c, j, k);
    }
}

void tl_pcodec_prefetch_h(const tl_pcodec_view_t *v, uint32_t i) {
    const tl_pcodec_col_t *c = &v->h;
    uint32_t j = i >> PC_MB_LOG2, k = i & (PC_MB - 1);
    switch (c->codec) {
    case TL_PCODEC_RAW: __builtin_prefetch(c->sec + 8 * (size_t)i); break;
    case TL_PCODEC_XOR: __builtin_prefetch(c->data + pc_ld32(c->off + 4 * (size_t)j)); break;
    default: { /* INT, and the INT inside ALP: the value's group, and the miniblock's start,
                * which a DELTA miniblock decodes from */
        uint32_t meta = pc_ld32(c->meta + 4 * (size_t)j);
        const uint8_t *d = c->data + pc_meta_off(meta);
        __builtin_prefetch(c->base + 8 * (size_t)j);
        __builtin_prefetch(d);
        __builtin_prefetch(d + (size_t)k * pc_meta_w(meta) / 8);
        break;
    }
    }
}
