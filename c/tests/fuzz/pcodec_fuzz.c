/*
 * pcodec_fuzz.c — libFuzzer target: the compressed page codec (c/src/codec/) on untrusted
 * blobs and on arbitrary pages.
 *
 * What it proves. The first input byte picks a mode:
 *   blob    the rest of the input is a blob. tl_pcodec_validate and tl_pcodec_validate_batch
 *           must never crash or read outside it (they get an exact-size heap copy, so ASan
 *           sees any overrun); when one accepts, every decoder must agree with one full decode
 *           (slices, miniblocks, single records) and the header's last ts be the last record;
 *           for a page also the timestamps sorted, the header's first, and lower / upper
 *           bounds equal to a linear search for keys from the input. A valid page is a valid
 *           batch.
 *   page    the rest describes a page: n, timestamp gaps and extremes, values of a chosen kind
 *           (integers, decimals, binary fractions, doubles with -0.0 / NaN payloads /
 *           subnormals / infinities, raw bits) and encoder flags (forced codecs included).
 *           A blob the encoder writes must validate and decode back to the page bit for bit,
 *           with the same bound checks; or, as a batch (TL_PCODEC_UNSORTED, some records
 *           swapped out of order), validate as a batch and decode back bit for bit.
 *   mutate  a page as above, encoded, then bytes of the blob changed at offsets and to values
 *           from the input: validation near the valid blobs the encoder writes, where
 *           libFuzzer's own mutations rarely get; accepted blobs get the "blob" checks.
 * Any mismatch aborts (FZ_CHECK), so libFuzzer keeps the input as an artifact.
 */
#include <math.h>

#include "codec/pcodec.h"
#include "fuzz_common.h"

#define FZ_N_MAX 3000 /* records of a fuzzed page */

static int64_t g_ts[TL_PCODEC_N_MAX + 1], d_ts[TL_PCODEC_N_MAX + 1];
static uint64_t g_h[TL_PCODEC_N_MAX + 1], d_h[TL_PCODEC_N_MAX + 1];
static uint8_t g_blob[16 * FZ_N_MAX + 64 * 1024];

static uint32_t linear(const int64_t *ts, uint32_t n, int64_t x, bool upper) {
    uint32_t i = 0;
    while (i < n && (upper ? ts[i] <= x : ts[i] < x)) i++;
    return i;
}

/* Every decoder of v against ts[0, n) / h[0, n) (a full decode, or the page encoded): full,
 * miniblocks, slices and single records; for a page (sorted) the bound searches too. */
static void check_view(const tl_pcodec_view_t *v, const int64_t *ts, const uint64_t *h,
                          uint32_t n, fz_in_t *in, bool page) {
    FZ_CHECK(v->n == n, "n %u vs %u", v->n, n);
    FZ_CHECK(v->ts_last == ts[n - 1], "last");
    if (page) FZ_CHECK(v->ts_first == ts[0], "first");
    for (uint32_t i = 1; page && i < n; i++) FZ_CHECK(ts[i - 1] <= ts[i], "ts unsorted at %u", i);
    tl_pcodec_decode(v, 0, n, d_ts, d_h);
    FZ_CHECK(!memcmp(d_ts, ts, 8 * (size_t)n) && !memcmp(d_h, h, 8 * (size_t)n), "decode");
    int64_t mts[TL_PCODEC_MB];
    uint64_t mh[TL_PCODEC_MB];
    for (uint32_t j = 0; j < v->nmb; j++) {
        uint32_t m = tl_pcodec_ts_mb(v, j, mts);
        FZ_CHECK(tl_pcodec_h_mb(v, j, mh) == m, "mb length");
        FZ_CHECK(!memcmp(mts, ts + j * TL_PCODEC_MB, 8 * (size_t)m), "ts mb %u", j);
        FZ_CHECK(!memcmp(mh, h + j * TL_PCODEC_MB, 8 * (size_t)m), "h mb %u", j);
    }
    for (int k = 0; k < 8; k++) {
        uint32_t a = fz_u16(in) % (n + 1), b = fz_u16(in) % (n + 1);
        uint32_t from = a < b ? a : b, to = a < b ? b : a;
        tl_pcodec_ts_decode(v, from, to, d_ts);
        tl_pcodec_h_decode(v, from, to, d_h);
        FZ_CHECK(!memcmp(d_ts, ts + from, 8 * (size_t)(to - from)), "ts slice %u %u", from, to);
        FZ_CHECK(!memcmp(d_h, h + from, 8 * (size_t)(to - from)), "h slice %u %u", from, to);
        uint32_t i = fz_u16(in) % n;
        FZ_CHECK(tl_pcodec_ts_at(v, i) == ts[i] && tl_pcodec_h_at(v, i) == h[i], "at %u", i);
        if (!page) continue;
        uint8_t s = fz_u8(in); /* a stored ts, its neighbours (wrapping is fine), or any key */
        int64_t x = s < 128 ? (int64_t)((uint64_t)ts[fz_u16(in) % n] + s % 3 - 1) : fz_ts(in);
        FZ_CHECK(tl_pcodec_lower(v, x) == linear(ts, n, x, false), "lower %" PRId64, x);
        FZ_CHECK(tl_pcodec_upper(v, x) == linear(ts, n, x, true), "upper %" PRId64, x);
    }
}

/* Validates an exact-size copy of blob, as a page and as a batch (TL_PCODEC_UNSORTED); when
 * accepted, decodes and checks it. A page is always a valid batch. */
static void check_blob(const uint8_t *blob, size_t len, fz_in_t *in) {
    uint8_t *c = malloc(len ? len : 1);
    FZ_CHECK(c != NULL, "out of memory");
    memcpy(c, blob, len);
    static int64_t ts[TL_PCODEC_N_MAX];
    static uint64_t h[TL_PCODEC_N_MAX];
    for (int page = 1; page >= 0; page--) {
        uint32_t n = 0;
        tl_status_t st = page ? tl_pcodec_validate(c, len, &n) : tl_pcodec_validate_batch(c, len, &n);
        FZ_CHECK(st == TL_OK || st == TL_ECORRUPT, "validate -> %d", st);
        if (st != TL_OK) continue;
        if (page) FZ_CHECK(tl_pcodec_validate_batch(c, len, NULL) == TL_OK, "page, not batch");
        tl_pcodec_view_t v;
        FZ_CHECK(tl_pcodec_view_init(&v, c, len) == TL_OK, "view of a valid blob");
        tl_pcodec_decode(&v, 0, n, ts, h);
        check_view(&v, ts, h, n, in, page);
    }
    free(c);
}

/* A page from the input: n records, sorted timestamps, values of one kind; returns n. */
static uint32_t make_page(fz_in_t *in) {
    uint32_t n = 1 + fz_u16(in) % FZ_N_MAX;
    uint8_t tk = fz_u8(in), hk = fz_u8(in) % 6;
    int64_t t = fz_ts(in);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t g = fz_more(in) ? fz_u8(in) : 1;
        uint64_t gap = tk % 4 == 0 ? g % 3 : tk % 4 == 1 ? g : tk % 4 == 2 ? (uint64_t)g << 40 : 0;
        /* 0..2 (duplicates), bytes, huge steps, all equal; 255 is any jump, clamped */
        if (g == 255 && tk % 4 != 3) gap = fz_u64(in); /* any jump, clamped below */
        t = (uint64_t)INT64_MAX - (uint64_t)t < gap ? INT64_MAX : (int64_t)((uint64_t)t + gap);
        g_ts[i] = t;
        uint64_t r = fz_more(in) ? fz_u8(in) : i;
        static const double sp[8] = {-0.0, INFINITY, -INFINITY, 5e-324, 2.2e-308, 0.1, 1e300,
                                     -123.456};
        switch (hk) {
        case 0: g_h[i] = i + r % 4; break; /* handles */
        case 1: g_h[i] = fz_bits((double)(int64_t)(i * 7 + r) / 100.0); break; /* decimals */
        case 2: g_h[i] = fz_bits((double)(int64_t)(i + r) / 256.0); break; /* binary fractions */
        case 3: /* specials, NaN payloads, decimals */
            g_h[i] = r < 40   ? fz_bits(sp[r & 7])
                     : r < 60 ? 0x7FF0000000000000ull | r << 40
                              : fz_bits((double)r / 10.0);
            break;
        case 4: g_h[i] = fz_u64(in); break; /* raw bits */
        default: g_h[i] = i ? g_h[i - 1] ^ (r << (r % 50)) : r; break; /* XOR-friendly */
        }
    }
    return n;
}

static uint32_t page_flags(fz_in_t *in) {
    uint8_t f = fz_u8(in), c = fz_u8(in);
    uint32_t flags = (f & 1 ? TL_PCODEC_F64 : 0) | (f & 2 ? TL_PCODEC_ALWAYS : 0);
    if (f & 4) flags |= TL_PCODEC_FORCE_RAW;
    if (f & 8) flags |= TL_PCODEC_FORCE_H(c % TL_PCODEC_CODECS);
    if (f & 16) flags |= TL_PCODEC_FORCE_TS((c >> 4) % 2);
    if (f & 32) flags |= TL_PCODEC_UNSORTED; /* a batch: run_page then shuffles the page */
    return flags;
}

static void run_page(fz_in_t *in, bool mutate) {
    uint32_t n = make_page(in), flags = page_flags(in);
    bool batch = flags & TL_PCODEC_UNSORTED;
    for (uint32_t i = 0; batch && n > 1 && i < n / 8 + 1; i++) { /* some records out of order */
        uint32_t a = fz_u16(in) % n, b = fz_u16(in) % n;
        int64_t t = g_ts[a];
        g_ts[a] = g_ts[b];
        g_ts[b] = t;
    }
    size_t len = tl_pcodec_encode(g_ts, g_h, n, flags, g_blob, sizeof g_blob);
    bool keep = flags & (TL_PCODEC_ALWAYS | TL_PCODEC_FORCE_RAW);
    bool forced = flags & 0xFF00;
    if (keep && !forced) FZ_CHECK(len > 0 && len <= tl_pcodec_bound(n), "len %zu", len);
    if (len == 0) return;
    if (!mutate) {
        uint8_t *c = malloc(len);
        FZ_CHECK(c != NULL, "out of memory");
        memcpy(c, g_blob, len);
        uint32_t got = 0;
        tl_status_t st = batch ? tl_pcodec_validate_batch(c, len, &got)
                               : tl_pcodec_validate(c, len, &got);
        FZ_CHECK(st == TL_OK && got == n, "encoder output invalid");
        tl_pcodec_view_t v;
        FZ_CHECK(tl_pcodec_view_init(&v, c, len) == TL_OK, "view");
        check_view(&v, g_ts, g_h, n, in, !batch);
        FZ_CHECK(tl_pcodec_encode(g_ts, g_h, n, flags, g_blob, len - 1) == 0, "cap respected");
        free(c);
        return;
    }
    for (int k = 1 + fz_u8(in) % 4; k > 0; k--) {
        size_t off = fz_u16(in) % len;
        uint8_t how = fz_u8(in), b = fz_u8(in);
        g_blob[off] = how & 1 ? b : (uint8_t)(g_blob[off] ^ (1u << (b & 7)));
    }
    uint8_t cut = fz_u8(in);
    check_blob(g_blob, cut < 200 ? len : len - (cut % len), in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    fz_in_t in = {data + 1, size - 1, 0};
    switch (data[0] % 3) {
    case 0: {
        fz_in_t keys = {data, size, 0}; /* bound keys and slices from the same bytes */
        check_blob(data + 1, size - 1, &keys);
        break;
    }
    case 1: run_page(&in, false); break;
    default: run_page(&in, true); break;
    }
    return 0;
}
