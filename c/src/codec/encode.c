/*
 * encode.c — tl_pcodec_encode: choose a codec per column, then write the blob.
 *
 * Structure. Every candidate is first sized exactly by a dry run of its writer (the writers
 * take dst == NULL to count), then only the winner is written, so dst is written once, front
 * to back, and never past the size checked against cap. An INT column's write reuses the
 * miniblock plans its dry run measured (int_plans_t). Candidates:
 *   ts: RAW, INT;
 *   h:  RAW, INT, and with TL_PCODEC_F64 the ALP_BIN / ALP_DEC parameter candidates
 *       (alp.c), and XOR when no ALP candidate stays under 1/16 exceptions (XOR never wins
 *       against a scaled-integer page, and it is the slowest to size).
 * The smallest wins per column (ties keep the earlier, faster codec); TL_PCODEC_FORCE_TS/H
 * pin one. The blob is worth keeping when it is at most 3/4 of the RAW blob (16 B/record):
 * below a 25% saving, the decode cost on every read buys too little memory.
 *
 * Invariants: ts sorted non-decreasing (checked: an unsorted page returns 0, it would break
 * every search), unless the caller asks for a batch blob (TL_PCODEC_UNSORTED); the header's
 * ts_last is ts[n - 1]; sections are multiples of 8 bytes; the trailer is 8 zero bytes.
 * Complexity: O(n) per candidate, 2 + up to 6 candidates; ALP candidates are first ranked
 * on an eighth of the page (tl_alp_estimate), so usually one of them is sized in full.
 */
#include "pcodec_int.h"

#define WORTH_NUM 3 /* keep a blob of at most WORTH_NUM / WORTH_DEN of the RAW blob */
#define WORTH_DEN 4

size_t tl_pcodec_bound(uint32_t n) {
    if (n == 0 || n > TL_PCODEC_N_MAX) return 0;
    return PC_HDR + 16 * (size_t)n + PC_TRAILER;
}

/* A column choice: codec, its section length, and what its writer needs. */
typedef struct choice {
    uint8_t codec;
    size_t len;
    tl_alp_param_t alp;
    tl_alp_meas_t meas;
} choice_t;

/* The miniblock plans an INT column's dry run keeps for its write (pages of up to 8192
 * records; a longer one measures its later miniblocks twice): measuring is a pass over the
 * values as costly as packing them, and a page's columns are sized before one is written. */
#define PLANS_KEPT 128u
typedef struct int_plans {
    tl_intcol_plan_t p[PLANS_KEPT];
    bool ready;
} int_plans_t;

/* Dry run or write of an INT column over v[0, n); pl (may be NULL) keeps the dry run's plans
 * for the write of the same column. */
static size_t int_col(const uint64_t *v, uint32_t n, uint8_t *dst, int_plans_t *pl) {
    uint32_t nmb = pc_nmb(n);
    tl_intcol_w_t w;
    tl_intcol_w_init(&w, dst, nmb);
    if (pl != NULL) tl_intcol_w_plans(&w, pl->p, PLANS_KEPT, pl->ready);
    for (uint32_t j = 0; j < nmb; j++) {
        tl_intcol_w_add(&w, v + ((size_t)j << PC_MB_LOG2), pc_mb_len(n, j));
    }
    if (pl != NULL) pl->ready = true;
    return tl_intcol_w_end(&w);
}

/* Keeps c when it is allowed (forced == 0 or forced == codec + 1) and smaller than *best. */
static void offer(choice_t *best, choice_t c, unsigned forced) {
    if (forced != 0 && forced != (unsigned)c.codec + 1) return;
    if (best->len == 0 || c.len < best->len) *best = c;
}

static choice_t choose_h(const uint64_t *h, uint32_t n, uint32_t flags, unsigned forced,
                         int_plans_t *pl) {
    choice_t best = {0};
    offer(&best, (choice_t){.codec = TL_PCODEC_RAW, .len = 8 * (size_t)n}, forced);
    if (forced == 0 || forced == TL_PCODEC_INT + 1) {
        offer(&best, (choice_t){.codec = TL_PCODEC_INT, .len = int_col(h, n, NULL, pl)}, forced);
    }
    if (!(flags & TL_PCODEC_F64)) return best;
    bool alp_wanted = forced == 0 || forced == TL_PCODEC_ALP_BIN + 1 ||
                      forced == TL_PCODEC_ALP_DEC + 1;
    bool xor_wanted = forced == 0 || forced == TL_PCODEC_XOR + 1;
    uint32_t exc_min = n;
    if (alp_wanted) {
        tl_alp_param_t cand[6];
        uint32_t nc = tl_alp_candidates(h, n, forced == TL_PCODEC_ALP_DEC + 1, cand);
        /* A forced ALP codec applies to any page: parameters 0 with every value that does
         * not round-trip an exception (tests push adversarial values through it). */
        bool has = false;
        for (uint32_t i = 0; i < nc; i++) has |= forced == (unsigned)cand[i].codec + 1;
        if (forced != 0 && !has) cand[nc++] = (tl_alp_param_t){(uint8_t)(forced - 1), 0, 0};
        /* Each full sizing is a pass over the page as costly as the write: with several
         * candidates, an eighth of the miniblocks ranks them first, and only those within
         * 1/32 of the best estimate are sized in full (a forced codec sizes all). */
        size_t est[6], est_min = SIZE_MAX;
        uint32_t exc_est[6];
        bool prune = forced == 0 && nc > 1 && pc_nmb(n) >= 2 * TL_ALP_EST_STEP;
        for (uint32_t i = 0; prune && i < nc; i++) {
            est[i] = tl_alp_estimate(h, n, cand[i], &exc_est[i]);
            est_min = est[i] < est_min ? est[i] : est_min;
        }
        for (uint32_t i = 0; i < nc; i++) {
            if (prune && est[i] > est_min + est_min / 32) {
                exc_min = exc_est[i] < exc_min ? exc_est[i] : exc_min;
                continue;
            }
            choice_t c = {.codec = cand[i].codec, .alp = cand[i]};
            c.len = tl_alp_measure(h, n, cand[i], &c.meas);
            exc_min = c.meas.exc_n < exc_min ? c.meas.exc_n : exc_min;
            offer(&best, c, forced);
        }
    }
    if (xor_wanted && (forced != 0 || exc_min > n / 16)) {
        offer(&best, (choice_t){.codec = TL_PCODEC_XOR, .len = tl_xor_write(h, n, NULL)}, forced);
    }
    return best;
}

static void write_col(const choice_t *c, const uint64_t *v, uint32_t n, uint8_t *dst,
                      int_plans_t *pl) {
    switch (c->codec) {
    case TL_PCODEC_RAW: memcpy(dst, v, 8 * (size_t)n); break;
    case TL_PCODEC_INT: int_col(v, n, dst, pl); break;
    case TL_PCODEC_XOR: tl_xor_write(v, n, dst); break;
    default: tl_alp_write(v, n, c->alp, &c->meas, dst); break;
    }
}

size_t tl_pcodec_encode(const int64_t *ts, const uint64_t *h, uint32_t n, uint32_t flags,
                        uint8_t *dst, size_t cap) {
    if (n == 0 || n > TL_PCODEC_N_MAX || ts == NULL || h == NULL || dst == NULL) return 0;
    for (uint32_t i = 1; i < n && !(flags & TL_PCODEC_UNSORTED); i++) {
        if (ts[i] < ts[i - 1]) return 0;
    }
    const uint64_t *tsu = (const uint64_t *)ts; /* same bits; INT works mod 2^64 */
    unsigned ft = (flags >> 8) & 0xF, fh = (flags >> 12) & 0xF;
    if (ft > TL_PCODEC_INT + 1 || fh > TL_PCODEC_CODECS) return 0;
    choice_t tc = {.codec = TL_PCODEC_RAW, .len = 8 * (size_t)n}, hc = tc;
    int_plans_t tpl, hpl; /* left uninitialised but for `ready`: 6 KB the dry runs fill */
    tpl.ready = hpl.ready = false;
    if (!(flags & TL_PCODEC_FORCE_RAW)) {
        choice_t ti = {.codec = TL_PCODEC_INT, .len = int_col(tsu, n, NULL, &tpl)};
        if (ft == 0) tc = ti.len < tc.len ? ti : tc;
        if (ft == TL_PCODEC_INT + 1) tc = ti;
        hc = choose_h(h, n, flags, fh, &hpl);
        if (hc.len == 0) return 0; /* a forced codec that does not apply */
    }
    size_t total = PC_HDR + tc.len + hc.len + PC_TRAILER;
    size_t raw_total = tl_pcodec_bound(n);
    bool keep_any = (flags & (TL_PCODEC_ALWAYS | TL_PCODEC_FORCE_RAW)) != 0;
    if (!keep_any && total * WORTH_DEN > raw_total * WORTH_NUM) return 0;
    if (total > cap) return 0;
    memset(dst, 0, PC_HDR);
    dst[0] = TL_PCODEC_VERSION;
    dst[1] = tc.codec;
    dst[2] = hc.codec;
    dst[3] = PC_MB_LOG2;
    pc_st32(dst + 4, n);
    pc_st32(dst + 8, (uint32_t)tc.len);
    pc_st32(dst + 12, (uint32_t)hc.len);
    pc_st64(dst + 16, (uint64_t)ts[n - 1]);
    write_col(&tc, tsu, n, dst + PC_HDR, &tpl);
    write_col(&hc, h, n, dst + PC_HDR + tc.len, &hpl);
    memset(dst + total - PC_TRAILER, 0, PC_TRAILER);
    return total;
}
