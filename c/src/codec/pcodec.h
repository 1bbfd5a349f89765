/*
 * pcodec.h — the compressed page codec: one page of records <-> one self-describing blob.
 *
 * A page is n records (1..TL_PCODEC_N_MAX): a sorted (non-decreasing) int64 timestamp column
 * ts[n] and a uint64 value column h[n] (opaque handles, or the bits of doubles). The blob is
 * little-endian, versioned and fully length-checked: the engine keeps immutable pages in memory
 * as blobs and writes the very same bytes into segment files (docs/format.md, "Page blob,
 * format version 1", is the byte-by-byte description).
 *
 * Tiers
 *   1. Encode     tl_pcodec_bound, tl_pcodec_encode (tries the codecs, keeps the smallest;
 *                 0 when compression does not pay, unless TL_PCODEC_FORCE_RAW / TL_PCODEC_ALWAYS)
 *   2. Trust      tl_pcodec_validate: full check of an UNTRUSTED blob (from disk); never reads
 *                 outside [blob, blob + len)
 *   3. View       tl_pcodec_view_init: O(1) parse of a trusted blob into a tl_pcodec_view_t
 *   4. Decode     tl_pcodec_ts_decode, tl_pcodec_h_decode, tl_pcodec_decode ([from, to) slices),
 *                 tl_pcodec_ts_mb, tl_pcodec_h_mb (one miniblock), tl_pcodec_ts_at,
 *                 tl_pcodec_h_at (one record)
 *   5. Search     tl_pcodec_lower, tl_pcodec_upper, tl_pcodec_ts_first, tl_pcodec_ts_last;
 *                 in a known bracket: tl_pcodec_lower_in(_keep), tl_pcodec_upper_in,
 *                 tl_pcodec_equal_in
 *   6. Prefetch   tl_pcodec_prefetch_ts, tl_pcodec_prefetch_h (hints; no effect on results)
 *
 * Records are grouped in miniblocks of TL_PCODEC_MB (64) records, each with its own base and
 * bit width, so one record costs at most one miniblock decode (64 values of a column), and a
 * bound search is a search over the miniblock fences (the first ts of each miniblock, stored
 * uncompressed) followed by one miniblock decode.
 *
 * Contract. Decoders, views and searches trust the blob: run them only on blobs produced by
 * tl_pcodec_encode or accepted by tl_pcodec_validate; they do no checks and are undefined on
 * anything else. Every call is allocation-free and thread-safe (no globals): buffers belong
 * to the caller, a view only borrows the blob (valid while the blob is).
 */
#ifndef TL_PCODEC_H
#define TL_PCODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "timelog.h"

/* Records per miniblock (log2). A compile-time constant of the format: a blob records it and
 * validation rejects any other value. Overridable only to measure alternatives (bench). */
#ifndef TL_PCODEC_MB_LOG2
#define TL_PCODEC_MB_LOG2 6
#endif
#define TL_PCODEC_MB (1u << TL_PCODEC_MB_LOG2)
#define TL_PCODEC_N_MAX 65535u /* records per blob */
#define TL_PCODEC_VERSION 1u

/* Column codec ids (stored in the blob; values never change). */
enum {
    TL_PCODEC_RAW = 0, /* plain little-endian 64-bit values */
    TL_PCODEC_INT = 1, /* per miniblock: frame of reference or delta, then bit packing */
    TL_PCODEC_ALP_DEC = 2, /* values only: doubles = int * 10^f * 10^-e (ALP), INT inside */
    TL_PCODEC_ALP_BIN = 3, /* values only: doubles = int * 2^-k (binary fractions), INT inside */
    TL_PCODEC_XOR = 4, /* values only: doubles XOR-coded against their predecessor (Chimp) */
    TL_PCODEC_CODECS = 5
};

/* Flags of tl_pcodec_encode. */
#define TL_PCODEC_F64 0x1u /* h[] holds IEEE-754 double bits: also try ALP and XOR */
#define TL_PCODEC_FORCE_RAW 0x2u /* write a RAW blob (both columns RAW), whatever the data */
#define TL_PCODEC_ALWAYS 0x4u /* never 0 for "does not pay": the smallest blob, maybe RAW */
/* ts in any order: a BATCH blob (a WAL record stores a write call's records in call order).
 * The layout is a page blob's, but an INT ts column's base is then a miniblock's minimum, not
 * its first record: decode a batch (tl_pcodec_decode and the other decoders), never search it
 * (bounds, fences, first timestamp), and check an untrusted one with tl_pcodec_validate_batch. */
#define TL_PCODEC_UNSORTED 0x8u
/* Restrict a column to one codec (tests and benchmarks compare codecs with these). A codec
 * the column cannot use (ALP or XOR for ts) makes the call return 0. */
#define TL_PCODEC_FORCE_TS(codec) ((uint32_t)((codec) + 1u) << 8)
#define TL_PCODEC_FORCE_H(codec) ((uint32_t)((codec) + 1u) << 12)

/* Largest blob tl_pcodec_encode can write for n records (a RAW blob is the worst case: the
 * encoder never keeps a compressed column larger than its RAW form). 0 when n is 0 or above
 * TL_PCODEC_N_MAX. */
size_t tl_pcodec_bound(uint32_t n);

/* Encodes n records (1..TL_PCODEC_N_MAX; ts sorted non-decreasing unless TL_PCODEC_UNSORTED)
 * into dst[0, cap).
 * Tries RAW and INT for ts, and RAW and INT for h plus ALP_DEC, ALP_BIN and XOR when
 * TL_PCODEC_F64 is set; keeps the smallest per column. Returns the blob length, or 0 when:
 * the blob would not be at least a quarter smaller than the RAW blob (16 B/record) and
 * neither TL_PCODEC_FORCE_RAW nor TL_PCODEC_ALWAYS is set; cap is too small (cap >=
 * tl_pcodec_bound(n) always suffices); n is out of range, ts is not sorted, or a forced codec
 * does not apply. Reads ts[0, n) and h[0, n) only; no allocation. About 5-10 ns per record,
 * 15-25 with TL_PCODEC_F64 (docs/engine.md, "Compressed pages: codecs"). */
size_t tl_pcodec_encode(const int64_t *ts, const uint64_t *h, uint32_t n, uint32_t flags,
                        uint8_t *dst, size_t cap);

/* Full validation of an untrusted blob of len bytes: header (version, codec ids, miniblock
 * size, n, section lengths), every section's arrays, bit widths, offsets and exception lists,
 * every XOR stream decoded with bounds checks, and the ts column decoded: sorted, each
 * miniblock fence equal to its first record, the header's last ts equal to the last record.
 * O(n). Never reads outside [blob, blob + len). TL_OK (and *n_out = n when n_out is not
 * NULL), TL_EINVAL when blob is NULL, or TL_ECORRUPT. */
tl_status_t tl_pcodec_validate(const uint8_t *blob, size_t len, uint32_t *n_out);
/* tl_pcodec_validate for a batch blob (TL_PCODEC_UNSORTED): the header and every column's
 * structure, so that every decoder is memory-safe on it, and the header's last ts equal to the
 * last record; no order. O(n). */
tl_status_t tl_pcodec_validate_batch(const uint8_t *blob, size_t len, uint32_t *n_out);

/* One column of a view (internal layout; read the codec id, leave the rest to the decoders). */
typedef struct tl_pcodec_col {
    uint8_t codec; /* TL_PCODEC_RAW ... */
    uint8_t e, f; /* ALP parameters: exponent e and factor f (ALP_DEC), shift k = e (ALP_BIN) */
    uint32_t exc_n; /* ALP exceptions */
    const uint8_t *sec; /* section start; RAW values start here */
    uint32_t sec_len;
    /* INT (also inside ALP): base[nmb] u64, meta[nmb + 1] u32, data. XOR: off[nmb + 1], data */
    const uint8_t *base, *meta, *off, *data;
    uint32_t data_len;
    /* ALP exceptions: exc_off[nmb + 1] u16, exc_pos[exc_n] u8, exc_val[exc_n] u64 */
    const uint8_t *exc_off, *exc_pos, *exc_val;
    double mul_a, mul_b; /* ALP decode: value = (double)int * mul_a * mul_b */
} tl_pcodec_col_t;

/* A parsed blob: O(1) to build, borrows the blob. */
typedef struct tl_pcodec_view {
    uint32_t n; /* records */
    uint32_t nmb; /* miniblocks: ceil(n / TL_PCODEC_MB) */
    int64_t ts_first, ts_last;
    tl_pcodec_col_t ts, h;
} tl_pcodec_view_t;

/* Parses a trusted blob of len bytes into *v in O(1). Checks only what costs O(1) (version,
 * codec ids, n, section lengths); TL_ECORRUPT when those are wrong, TL_EINVAL for a NULL
 * argument, else TL_OK. It does not make an untrusted blob safe: run tl_pcodec_validate on
 * those first. */
tl_status_t tl_pcodec_view_init(tl_pcodec_view_t *v, const uint8_t *blob, size_t len);

/* Timestamps / values of records [from, to) (from <= to <= n) into out[to - from].
 * Decodes each miniblock the slice touches, writing straight into out when the slice covers
 * it. tl_pcodec_decode does both columns (either out may be NULL to skip that column). */
void tl_pcodec_ts_decode(const tl_pcodec_view_t *v, uint32_t from, uint32_t to, int64_t *out);
void tl_pcodec_h_decode(const tl_pcodec_view_t *v, uint32_t from, uint32_t to, uint64_t *out);
void tl_pcodec_decode(const tl_pcodec_view_t *v, uint32_t from, uint32_t to, int64_t *ts_out,
                      uint64_t *h_out);

/* Miniblock j (< nmb) into out[TL_PCODEC_MB]; returns its record count m (the first m slots
 * are the records j * TL_PCODEC_MB ..; the rest of out may be overwritten). */
uint32_t tl_pcodec_ts_mb(const tl_pcodec_view_t *v, uint32_t j, int64_t *out);
uint32_t tl_pcodec_h_mb(const tl_pcodec_view_t *v, uint32_t j, uint64_t *out);

/* Record i (< n): O(1) for RAW and for frame-of-reference miniblocks, else decodes up to the
 * record inside its miniblock (a stack buffer, at most 64 values). */
int64_t tl_pcodec_ts_at(const tl_pcodec_view_t *v, uint32_t i);
uint64_t tl_pcodec_h_at(const tl_pcodec_view_t *v, uint32_t i);

/* First i in [0, n] with ts[i] >= x (lower) / ts[i] > x (upper): O(1) outside [first, last],
 * else a search over the fences (counted whole up to 128 of them, else from an interpolated
 * guess) and one miniblock decode. INT64_MIN and INT64_MAX are ordinary keys. */
uint32_t tl_pcodec_lower(const tl_pcodec_view_t *v, int64_t x);
uint32_t tl_pcodec_upper(const tl_pcodec_view_t *v, int64_t x);

/* The same bounds when the caller knows the answer lies in records [lo, hi] (lo <= hi <= n;
 * a bracket of a search table holds both bounds of its key): only the fences of miniblocks
 * that bracket can end in are read (one or two for a table bucket), then one miniblock is
 * decoded. A wrong bracket gives a wrong answer. */
uint32_t tl_pcodec_lower_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi);
uint32_t tl_pcodec_upper_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi);
/* tl_pcodec_lower_in that leaves the miniblock it decoded in mb_out[TL_PCODEC_MB] (as
 * tl_pcodec_ts_mb would) and its index in *mb, UINT32_MAX when it decoded none: a reader that
 * starts in that miniblock need not decode it a second time. */
uint32_t tl_pcodec_lower_in_keep(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi,
                                 int64_t *mb_out, uint32_t *mb);

/* The records equal to x: *first = tl_pcodec_lower(v, x), and the count upper - lower is
 * returned; [lo, hi] must hold the lower bound. One miniblock decode answers both unless the
 * records equal to x run past that miniblock's end (then one more bracketed search). */
uint32_t tl_pcodec_equal_in(const tl_pcodec_view_t *v, int64_t x, uint32_t lo, uint32_t hi,
                            uint32_t *first);

/* Prefetch hints for a cold lookup, so that its cache misses overlap instead of following one
 * another. tl_pcodec_prefetch_ts needs no view, only the blob's address and record count (a
 * caller can issue it before the view itself is loaded): the fence and meta lines a bracketed
 * search for record i reads first in an INT ts column (the engine's usual; for a RAW column
 * the lines are merely useless). tl_pcodec_prefetch_h: the lines record i's value is read
 * from; it loads the miniblock's meta word (or XOR offset) to find its data, so issue it early
 * and let the loads behind it run while other work waits on its own misses. */
static inline void tl_pcodec_prefetch_ts(const uint8_t *blob, uint32_t n, uint32_t i) {
    uint32_t j = i / TL_PCODEC_MB, nmb = (n + TL_PCODEC_MB - 1) / TL_PCODEC_MB;
    const uint8_t *sec = blob + 24; /* after the header (docs/format.md) */
    __builtin_prefetch(sec + 8 * (size_t)j);
    __builtin_prefetch(sec + 8 * (size_t)nmb + 4 * (size_t)j);
}
void tl_pcodec_prefetch_h(const tl_pcodec_view_t *v, uint32_t i);

/* The first timestamp of miniblock j (< nmb), O(1): read in place (an INT column's fence, a
 * RAW column's record 64 j), so a caller that walks forward can find the miniblock holding a
 * bound from the fences and decode that miniblock alone (asof.c's walk). */
static inline int64_t tl_pcodec_fence(const tl_pcodec_view_t *v, uint32_t j) {
    const uint8_t *p = v->ts.codec == TL_PCODEC_RAW
                           ? v->ts.sec + 8 * ((size_t)j << TL_PCODEC_MB_LOG2)
                           : v->ts.base + 8 * (size_t)j;
    int64_t x;
    memcpy(&x, p, 8); /* little-endian, as the format and the decoders assume */
    return x;
}

/* Records in miniblock j of an n-record page: TL_PCODEC_MB but for a short last one (what
 * tl_pcodec_ts_mb returns). */
static inline uint32_t tl_pcodec_mb_len(uint32_t n, uint32_t j) {
    uint32_t start = j << TL_PCODEC_MB_LOG2;
    return n - start < TL_PCODEC_MB ? n - start : TL_PCODEC_MB;
}

/* First and last timestamp of the page, O(1). */
static inline int64_t tl_pcodec_ts_first(const tl_pcodec_view_t *v) { return v->ts_first; }
static inline int64_t tl_pcodec_ts_last(const tl_pcodec_view_t *v) { return v->ts_last; }

#endif /* TL_PCODEC_H */
