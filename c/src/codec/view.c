/*
 * view.c — reading a blob: the O(1) header parse, slice / miniblock / record decoders, and
 * the timestamp bound searches.
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
 * Searches. first/last ts are in the view. lower/upper bound: outside [first, last] the answer
 * is 0 or n at once. Otherwise the fences (base[] of the ts column: the first ts of each
 * miniblock) give the last miniblock whose fence sorts before x; the answer is inside it or at
 * the start of the next one, so one miniblock decode finishes it. Up to 128 fences (pages of
 * up to 8192 records) are counted whole, and so are the 64 decoded values: a compare per value,
 * vectorized and branch-free, costs less than a binary search, whose every step waits for its
 * load and half of whose branches mispredict (a 4096-record page: 59 -> 37 ns hot). Longer
 * fence arrays, and RAW ts columns, are searched from an interpolated guess with a gallop.
 * Complexity: slice O(to - from + 64); record O(1) or O(64); bounds O(nmb or log nmb + 64).
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

/* ---- bounds ---- */

/* Fence arrays up to this length are counted whole (4096-record pages have 64 fences);
 * longer ones are searched from an interpolated guess. */
#define FENCES_SCAN 128

static inline bool before(int64_t t, int64_t x, bool upper) { return upper ? t <= x : t < x; }

/* Count of the first `len` int64 values at p (8-byte stride, sorted) that sort before x:
 * branch-free binary search (the answer lies in [base, base + len] at every step). */
static uint32_t count_before(const uint8_t *p, uint32_t len, int64_t x, bool upper) {
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
static uint32_t interp_before(const uint8_t *f, uint32_t len, int64_t x, bool upper,
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
static uint32_t count_all(const int64_t *v, uint32_t len, int64_t x, bool upper) {
    uint32_t c = 0;
    if (upper) {
        for (uint32_t i = 0; i < len; i++) c += v[i] <= x;
    } else {
        for (uint32_t i = 0; i < len; i++) c += v[i] < x;
    }
    return c;
}

/* count_all over the fences, read from the blob (little-endian, 8-byte stride). */
static uint32_t count_fences(const uint8_t *f, uint32_t len, int64_t x, bool upper) {
    uint32_t c = 0;
    if (upper) {
        for (uint32_t i = 0; i < len; i++) c += (int64_t)pc_ld64(f + 8 * (size_t)i) <= x;
    } else {
        for (uint32_t i = 0; i < len; i++) c += (int64_t)pc_ld64(f + 8 * (size_t)i) < x;
    }
    return c;
}

static uint32_t bound(const tl_pcodec_view_t *v, int64_t x, bool upper) {
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

uint32_t tl_pcodec_lower(const tl_pcodec_view_t *v, int64_t x) { return bound(v, x, false); }
uint32_t tl_pcodec_upper(const tl_pcodec_view_t *v, int64_t x) { return bound(v, x, true); }
