/*
 * validate.c — tl_pcodec_validate: may an untrusted blob (read from disk) be decoded?
 *
 * Order matters: each step only reads what the steps before it proved to be in bounds.
 *   1. Header (view.c, tl_pcodec_parse): version, codec ids, miniblock size, n, section
 *      lengths adding up to len, fixed parts fitting their sections, the zero trailer.
 *   2. Column structure: INT offsets/descriptors/widths/padding (tl_intcol_check), ALP
 *      parameters and exception lists (tl_alp_check), XOR streams decoded with bounds
 *      checks (tl_xor_check). After this every decoder is memory-safe on the blob.
 *   3. Timestamp semantics, which searches rely on: the decoded ts column is sorted, each
 *      miniblock's fence (base) is its first record, and the header's last ts is the last
 *      record. (Values have no such rule: any 64 bits are a valid value.)
 * A batch blob (TL_PCODEC_UNSORTED, tl_pcodec_validate_batch) gets steps 1 and 2, and of
 * step 3 only the header's last ts against the last record: its ts are in call order.
 * A blob passing all three decodes to the same records through every decoder (slices,
 * miniblocks, single records) and the bound searches agree with a linear scan.
 * Complexity: O(n), dominated by one decode of the ts column and of any XOR streams.
 */
#include "pcodec_int.h"

static tl_status_t col_check(const tl_pcodec_col_t *c, uint32_t n) {
    switch (c->codec) {
    case TL_PCODEC_RAW: return TL_OK;
    case TL_PCODEC_INT: return tl_intcol_check(c, n);
    case TL_PCODEC_XOR: return tl_xor_check(c, n);
    default: return tl_alp_check(c, n);
    }
}

/* Step 3 for an INT ts column: one miniblock at a time through the trusted decoder. */
static tl_status_t ts_int_order(const tl_pcodec_view_t *v) {
    int64_t tmp[PC_MB], prev = INT64_MIN;
    for (uint32_t j = 0; j < v->nmb; j++) {
        uint32_t m = tl_pcodec_ts_mb(v, j, tmp);
        if (tmp[0] != (int64_t)pc_ld64(v->ts.base + 8 * (size_t)j)) return TL_ECORRUPT;
        for (uint32_t i = 0; i < m; i++) {
            if (tmp[i] < prev) return TL_ECORRUPT;
            prev = tmp[i];
        }
    }
    return prev == v->ts_last ? TL_OK : TL_ECORRUPT;
}

static tl_status_t ts_raw_order(const tl_pcodec_view_t *v) {
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < v->n; i++) {
        int64_t t = (int64_t)pc_ld64(v->ts.sec + 8 * (size_t)i);
        if (t < prev) return TL_ECORRUPT;
        prev = t;
    }
    return prev == v->ts_last ? TL_OK : TL_ECORRUPT;
}

/* Steps 1 and 2 into *v. */
static tl_status_t structure(tl_pcodec_view_t *v, const uint8_t *blob, size_t len) {
    if (blob == NULL) return TL_EINVAL;
    tl_status_t st = tl_pcodec_parse(v, blob, len);
    if (st == TL_OK) st = col_check(&v->ts, v->n);
    if (st == TL_OK) st = col_check(&v->h, v->n);
    return st;
}

tl_status_t tl_pcodec_validate(const uint8_t *blob, size_t len, uint32_t *n_out) {
    tl_pcodec_view_t v;
    tl_status_t st = structure(&v, blob, len);
    if (st == TL_OK) st = v.ts.codec == TL_PCODEC_RAW ? ts_raw_order(&v) : ts_int_order(&v);
    if (st == TL_OK && n_out != NULL) *n_out = v.n;
    return st;
}

tl_status_t tl_pcodec_validate_batch(const uint8_t *blob, size_t len, uint32_t *n_out) {
    tl_pcodec_view_t v;
    tl_status_t st = structure(&v, blob, len);
    if (st == TL_OK && tl_pcodec_ts_at(&v, v.n - 1) != v.ts_last) st = TL_ECORRUPT;
    if (st == TL_OK && n_out != NULL) *n_out = v.n;
    return st;
}
