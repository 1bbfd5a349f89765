/*
 * codec_test.c — the compressed page codec (c/src/codec/): bit-packing kernels against their
 * scalar reference at every width, round trips of every codec on random and adversarial pages
 * (all-equal and extreme timestamps, 64-bit deltas, n at the miniblock edges and at 65535,
 * -0.0 / NaN payloads / subnormals / infinities), every decoder (slices, miniblocks, records)
 * and both bound searches against a linear reference, the "does not pay" rule, and validation
 * of untrusted blobs: every encoder output accepted, every truncation rejected, and a byte
 * flipped at every offset either rejected or decoded consistently (run under ASan too, with
 * exact-size copies so that any read past the blob is caught).
 */
#include <math.h>
#include <string.h>

#include "codec/cpu.h"
#include "codec/pcodec.h"
#include "codec/pcodec_int.h"
#include "test.h"

#define N_BIG 65535u

static int64_t g_ts[N_BIG];
static uint64_t g_h[N_BIG];
static int64_t d_ts[N_BIG + 1];
static uint64_t d_h[N_BIG + 1];
static uint8_t g_blob[16 * N_BIG + 4096];

/* ---- reference and checks ---- */

static uint32_t ref_bound(const int64_t *ts, uint32_t n, int64_t x, bool upper) {
    uint32_t i = 0;
    while (i < n && (upper ? ts[i] <= x : ts[i] < x)) i++;
    return i;
}

/* A bracket [*lo, *hi] holding record index a (a <= n), of a kind chosen by mode: exact,
 * random, miniblock-aligned around a, or the whole page. */
static void bracket(uint32_t a, uint32_t n, uint32_t mode, uint32_t *lo, uint32_t *hi) {
    const uint32_t mb = TL_PCODEC_MB;
    switch (mode % 4) {
    case 0: *lo = *hi = a; break;
    case 1:
        *lo = (uint32_t)(tl_t_rnd() % (a + 1));
        *hi = a + (uint32_t)(tl_t_rnd() % (n - a + 1));
        break;
    case 2:
        *lo = a / mb * mb;
        *hi = (a / mb + 1) * mb < n ? (a / mb + 1) * mb : n;
        break;
    default: *lo = 0; *hi = n; break;
    }
}

/* The bracketed searches for key x against the reference, with brackets of kinds [m0, m1)
 * (see bracket): 0, or the line of the first mismatch. */
static int check_in(const tl_pcodec_view_t *v, const int64_t *ts, uint32_t n, int64_t x,
                    uint32_t m0, uint32_t m1) {
    uint32_t l = ref_bound(ts, n, x, false), u = ref_bound(ts, n, x, true), lo, hi, first;
    for (uint32_t mode = m0; mode < m1; mode++) {
        bracket(l, n, mode, &lo, &hi);
        if (tl_pcodec_lower_in(v, x, lo, hi) != l) return __LINE__;
        first = UINT32_MAX;
        if (tl_pcodec_equal_in(v, x, lo, hi, &first) != u - l || first != l) return __LINE__;
        bracket(u, n, mode, &lo, &hi);
        if (tl_pcodec_upper_in(v, x, lo, hi) != u) return __LINE__;
    }
    return 0;
}

/* Every decoder of view v against ts[0, n) / h[0, n); 0 on success, else the line of the
 * first mismatch (so a caller's CHECK names the failing page). */
static int check_view(const tl_pcodec_view_t *v, const int64_t *ts, const uint64_t *h,
                      uint32_t n) {
    if (v->n != n || v->ts_first != ts[0] || v->ts_last != ts[n - 1]) return __LINE__;
    tl_pcodec_decode(v, 0, n, d_ts, d_h);
    if (memcmp(d_ts, ts, 8 * (size_t)n) || memcmp(d_h, h, 8 * (size_t)n)) return __LINE__;
    for (int r = 0; r < 40; r++) { /* random slices, edges of miniblocks included */
        uint32_t a = (uint32_t)(tl_t_rnd() % (n + 1)), b = (uint32_t)(tl_t_rnd() % (n + 1));
        if (r % 4 == 0) a = a / TL_PCODEC_MB * TL_PCODEC_MB;
        uint32_t from = a < b ? a : b, to = a < b ? b : a;
        memset(d_ts, 0xAB, 8 * (size_t)(to - from + 1));
        memset(d_h, 0xAB, 8 * (size_t)(to - from + 1));
        tl_pcodec_ts_decode(v, from, to, d_ts);
        tl_pcodec_h_decode(v, from, to, d_h);
        if (memcmp(d_ts, ts + from, 8 * (size_t)(to - from))) return __LINE__;
        if (memcmp(d_h, h + from, 8 * (size_t)(to - from))) return __LINE__;
        if (d_ts[to - from] != (int64_t)0xABABABABABABABABull) return __LINE__; /* no overrun */
    }
    uint32_t step = n > 5000 ? 7 : 1;
    for (uint32_t i = 0; i < n; i += step) {
        if (tl_pcodec_ts_at(v, i) != ts[i] || tl_pcodec_h_at(v, i) != h[i]) return __LINE__;
    }
    int64_t mb_ts[TL_PCODEC_MB];
    uint64_t mb_h[TL_PCODEC_MB];
    for (uint32_t j = 0; j < v->nmb; j++) {
        uint32_t m = tl_pcodec_ts_mb(v, j, mb_ts);
        if (tl_pcodec_h_mb(v, j, mb_h) != m) return __LINE__;
        if (memcmp(mb_ts, ts + j * TL_PCODEC_MB, 8 * (size_t)m)) return __LINE__;
        if (memcmp(mb_h, h + j * TL_PCODEC_MB, 8 * (size_t)m)) return __LINE__;
    }
    for (int r = 0; r < 300; r++) { /* keys: stored values, their neighbours, extremes */
        int64_t x = ts[tl_t_rnd() % n];
        uint64_t k = tl_t_rnd() % 8;
        if (k == 1) x = (int64_t)((uint64_t)x + 1);
        if (k == 2) x = (int64_t)((uint64_t)x - 1);
        if (k == 3) x = (int64_t)tl_t_rnd();
        if (k == 4) x = r % 2 ? INT64_MIN : INT64_MAX;
        if (tl_pcodec_lower(v, x) != ref_bound(ts, n, x, false)) return __LINE__;
        if (tl_pcodec_upper(v, x) != ref_bound(ts, n, x, true)) return __LINE__;
        uint32_t kind = (uint32_t)r / 5 % 4; /* every 5th key, one bracket kind (fuzz speed) */
        int bad = r % 5 == 0 ? check_in(v, ts, n, x, kind, kind + 1) : 0;
        if (bad) return bad;
    }
    return 0;
}

/* Encodes (flags), validates, views and checks everything; returns the blob length, or 0
 * when the encoder declined. *fail gets check_view's line. */
static size_t roundtrip(const int64_t *ts, const uint64_t *h, uint32_t n, uint32_t flags,
                        int *fail) {
    size_t len = tl_pcodec_encode(ts, h, n, flags, g_blob, sizeof g_blob);
    *fail = 0;
    if (len == 0) return 0;
    uint32_t got = 0;
    tl_pcodec_view_t v;
    if (tl_pcodec_validate(g_blob, len, &got) != TL_OK || got != n) {
        *fail = __LINE__;
    } else if (tl_pcodec_view_init(&v, g_blob, len) != TL_OK) {
        *fail = __LINE__;
    } else {
        *fail = check_view(&v, ts, h, n);
    }
    return len;
}

/* ---- generators ---- */

static void gen_ts_random(int64_t *ts, uint32_t n, uint64_t gap) {
    int64_t t = (int64_t)(tl_t_rnd() % 1000000) - 500000;
    for (uint32_t i = 0; i < n; i++) {
        t += (int64_t)(tl_t_rnd() % (gap + 1));
        ts[i] = t;
    }
}

static void gen_h_handles(uint64_t *h, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) h[i] = i + 1 + (tl_t_rnd() % 16 == 0 ? tl_t_rnd() % 5 : 0);
}

static uint64_t f2u(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* ---- tests ---- */

TL_TEST(status_text) {
    CHECK(strstr(tl_strerror(TL_ECORRUPT), "TL_ECORRUPT") != NULL);
    CHECK_EQ_I64(TL_ECORRUPT, 41);
}

/* The vector kernels equal the scalar reference at every width, group count and base. */
TL_TEST(bitpack_kernels_match_reference) {
    tl_t_rng = 0x5eed0001;
    static uint8_t buf[8 * 64 + 16];
    uint64_t v[64], a[64], b[64];
    for (unsigned w = 0; w <= 64; w++) {
        for (int rep = 0; rep < 6; rep++) {
            uint32_t m = rep == 0 ? 64 : 1 + (uint32_t)(tl_t_rnd() % 64);
            uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;
            for (uint32_t i = 0; i < m; i++) v[i] = tl_t_rnd() & mask;
            if (rep == 1) {
                for (uint32_t i = 0; i < m; i++) v[i] = mask; /* all ones */
            }
            memset(buf, 0xEE, sizeof buf);
            size_t bytes = tl_bp_pack(buf, v, m, w);
            CHECK_EQ_U64(bytes, tl_bp_bytes(m, w));
            CHECK(buf[bytes] == 0xEE); /* writes exactly its size */
            uint32_t groups = (m + 7) / 8;
            uint64_t base = tl_t_rnd(), dmin = rep % 2 ? tl_t_rnd() : tl_t_rnd() % 5;
            tl_bp_for(buf, w, groups, base, a);
            tl_bp_for_ref(buf, w, groups, base, b);
            CHECK(memcmp(a, b, 8 * (size_t)groups * 8) == 0);
            for (uint32_t i = 0; i < m; i++) CHECK_EQ_U64(a[i], base + v[i]);
            for (uint32_t i = 0; i < m; i++) CHECK_EQ_U64(tl_bp_get(buf, w, i), v[i]);
            tl_bp_delta(buf, w, groups, base, dmin, a);
            tl_bp_delta_ref(buf, w, groups, base, dmin, b);
            CHECK(memcmp(a, b, 8 * (size_t)groups * 8) == 0);
            uint64_t acc = base;
            for (uint32_t i = 0; i < m; i++) {
                acc += v[i] + dmin;
                CHECK_EQ_U64(a[i], acc);
            }
            /* The fused ALP conversion: integers near PC_MAGIC_BITS, any multipliers. */
            double ma = (double)(tl_t_rnd() % 1000) / 7, mb = rep % 2 ? 1e-3 : 0.5;
            uint64_t fb = PC_MAGIC_BITS + tl_t_rnd() % 4096 - 2048, fd = tl_t_rnd() % 3;
            tl_bp_for_f64(buf, w, groups, fb, ma, mb, a);
            tl_bp_for_ref(buf, w, groups, fb, b);
            tl_bp_to_f64(b, groups * 8, ma, mb);
            CHECK(memcmp(a, b, 8 * (size_t)groups * 8) == 0);
            tl_bp_delta_f64(buf, w, groups, fb, fd, ma, mb, a);
            tl_bp_delta_ref(buf, w, groups, fb, fd, b);
            tl_bp_to_f64(b, groups * 8, ma, mb);
            CHECK(memcmp(a, b, 8 * (size_t)groups * 8) == 0);
        }
    }
}

/* The instruction sets (codec/cpu.h): a clang build for the baseline x86-64 CPU, as the
 * distributed libraries are, has two; the C suite runs this file in such a build too
 * (codec_baseline_test), and main runs every test under each set the CPU has. */
TL_TEST(instruction_sets) {
    CHECK(tl_cpu_sets() >= 1);
    CHECK(tl_cpu_use_set(0));
    CHECK(!tl_cpu_use_set(tl_cpu_sets()));
#if defined(__x86_64__) && !defined(__AVX2__) && defined(__clang__)
    CHECK_EQ_U64(tl_cpu_sets(), 2);
#else
    CHECK_EQ_U64(tl_cpu_sets(), 1);
#endif
}

/* Sizes at the miniblock edges, all codecs the encoder picks, random handles and gaps. */
TL_TEST(roundtrip_sizes_and_gaps) {
    tl_t_rng = 0x5eed0002;
    static const uint32_t sizes[] = {1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000, 4096};
    static const uint64_t gaps[] = {0, 1, 2, 3, 1000, 1ull << 40};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
            uint32_t n = sizes[s];
            gen_ts_random(g_ts, n, gaps[g]);
            gen_h_handles(g_h, n);
            int fail;
            CHECK(roundtrip(g_ts, g_h, n, TL_PCODEC_ALWAYS, &fail) > 0);
            CHECK_EQ_I64(fail, 0);
            CHECK(roundtrip(g_ts, g_h, n, TL_PCODEC_FORCE_RAW, &fail) > 0);
            CHECK_EQ_I64(fail, 0);
        }
    }
}

/* The bracketed searches on pages of long runs of equal timestamps: runs that start, end and
 * cross miniblock edges, a page that is one run, both ts codecs; every key of the page, its
 * neighbours and keys below and above it, each with every bracket that holds its answer
 * (exhaustively on small pages). A bound off by one record or one miniblock fails here. */
TL_TEST(bracketed_searches_on_duplicates) {
    tl_t_rng = 0x5eed000b;
    static const uint32_t sizes[] = {1, 63, 64, 65, 129, 200, 4096, 4097};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (uint32_t kind = 0; kind < 4; kind++) {
            uint32_t n = sizes[s];
            int64_t t = (int64_t)(tl_t_rnd() % 1000) - 500;
            for (uint32_t i = 0; i < n; i++) {
                /* run lengths: 1-3, about a miniblock, miniblock-aligned 64, one run */
                uint64_t len = kind == 0 ? 1 + tl_t_rnd() % 3 : kind == 1 ? 50 + tl_t_rnd() % 30
                                                                          : 64;
                if (kind != 3 && (kind == 2 ? i % 64 == 0 : tl_t_rnd() % len == 0)) {
                    t += 1 + (int64_t)(tl_t_rnd() % 3);
                }
                g_ts[i] = t;
            }
            gen_h_handles(g_h, n);
            for (uint32_t ft = 0; ft <= TL_PCODEC_INT; ft++) {
                uint32_t fl = TL_PCODEC_ALWAYS | TL_PCODEC_FORCE_TS(ft);
                size_t len = tl_pcodec_encode(g_ts, g_h, n, fl, g_blob, sizeof g_blob);
                CHECK(len > 0);
                tl_pcodec_view_t v;
                CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
                CHECK_EQ_I64(v.ts.codec, ft);
                for (uint32_t i = 0; i <= n; i += n > 200 ? 1 + (uint32_t)(tl_t_rnd() % 32) : 1) {
                    int64_t x = i < n ? g_ts[i] : g_ts[n - 1] + 1;
                    for (int64_t dx = -1; dx <= 1; dx++) {
                        int64_t y = x + dx;
                        CHECK_EQ_I64(check_in(&v, g_ts, n, y, 0, 4), 0);
                        if (n > 129 || (i > 0 && g_ts[i - 1] == x)) continue;
                        uint32_t l = ref_bound(g_ts, n, y, false), first;
                        uint32_t u = ref_bound(g_ts, n, y, true);
                        for (uint32_t lo = 0; lo <= l; lo++) {
                            for (uint32_t hi = l; hi <= n; hi++) {
                                CHECK_EQ_U64(tl_pcodec_lower_in(&v, y, lo, hi), l);
                                CHECK_EQ_U64(tl_pcodec_equal_in(&v, y, lo, hi, &first), u - l);
                                CHECK_EQ_U64(first, l);
                            }
                        }
                        for (uint32_t lo = 0; lo <= u; lo++) {
                            for (uint32_t hi = u; hi <= n; hi++) {
                                CHECK_EQ_U64(tl_pcodec_upper_in(&v, y, lo, hi), u);
                            }
                        }
                    }
                }
                CHECK_EQ_I64(check_in(&v, g_ts, n, INT64_MIN, 0, 4), 0);
                CHECK_EQ_I64(check_in(&v, g_ts, n, INT64_MAX, 0, 4), 0);
            }
        }
    }
}

TL_TEST(roundtrip_n_max) {
    tl_t_rng = 0x5eed0003;
    gen_ts_random(g_ts, N_BIG, 3);
    gen_h_handles(g_h, N_BIG);
    int fail;
    size_t len = roundtrip(g_ts, g_h, N_BIG, 0, &fail);
    CHECK(len > 0 && len < 4 * (size_t)N_BIG);
    CHECK_EQ_I64(fail, 0);
    CHECK(tl_pcodec_encode(g_ts, g_h, N_BIG + 1, TL_PCODEC_ALWAYS, g_blob, sizeof g_blob) == 0);
    CHECK(tl_pcodec_bound(N_BIG + 1) == 0 && tl_pcodec_bound(0) == 0);
}

/* Timestamps at the int64 edges: all equal, INT64_MIN..INT64_MAX jumps, alternating. */
TL_TEST(roundtrip_extreme_timestamps) {
    tl_t_rng = 0x5eed0004;
    int fail;
    for (int kind = 0; kind < 6; kind++) {
        uint32_t n = kind < 3 ? 200 : 65;
        for (uint32_t i = 0; i < n; i++) {
            int64_t t = 0;
            if (kind == 0) t = INT64_MIN; /* all equal at the low edge */
            if (kind == 1) t = INT64_MAX;
            if (kind == 2) t = i < n / 2 ? INT64_MIN : INT64_MAX; /* one 2^64 - 1 jump */
            if (kind == 3) t = i == 0 ? INT64_MIN : i == n - 1 ? INT64_MAX : (int64_t)i;
            if (kind == 4) t = (int64_t)((uint64_t)INT64_MIN + (uint64_t)i * (UINT64_MAX / n));
            if (kind == 5) t = (int64_t)i * 3 - 100;
            g_ts[i] = t;
            g_h[i] = kind % 2 ? ~0ull - i : tl_t_rnd();
        }
        for (uint32_t ft = 0; ft <= TL_PCODEC_INT; ft++) {
            uint32_t fl = TL_PCODEC_ALWAYS | TL_PCODEC_FORCE_TS(ft) | TL_PCODEC_FORCE_H(ft);
            CHECK(roundtrip(g_ts, g_h, n, fl, &fail) > 0);
            CHECK_EQ_I64(fail, 0);
        }
    }
}

/* Doubles: decimals, binary fractions, specials; every value codec forced, and the choice. */
TL_TEST(roundtrip_f64_every_codec) {
    tl_t_rng = 0x5eed0005;
    static const double specials[] = {-0.0, 0.0, INFINITY, -INFINITY, 5e-324, 2.2e-308,
                                      -1e-310, 1.7976931348623157e308, 0.1, 1e300};
    const uint32_t n = 1000;
    gen_ts_random(g_ts, n, 2);
    for (int kind = 0; kind < 7; kind++) {
        double x = 100.0;
        for (uint32_t i = 0; i < n; i++) {
            x += (double)((int64_t)(tl_t_rnd() % 11) - 5) / 100.0;
            double d = kind == 0 ? round(x * 100) / 100 /* cents */
                     : kind == 1 ? (double)i / 256.0 /* binary fractions */
                     : kind == 2 ? (double)(int64_t)(tl_t_rnd() % 1000) - 500.0
                     : kind == 3 ? sin((double)i) /* not decimal */
                                 : round(x * 1000) / 1000;
            g_h[i] = f2u(d);
            if (kind >= 4 && tl_t_rnd() % (kind == 6 ? 2 : 10) == 0) {
                g_h[i] = f2u(specials[tl_t_rnd() % 10]);
                if (tl_t_rnd() % 3 == 0) g_h[i] = 0x7FF0000000000001ull + tl_t_rnd() % 99; /* NaN */
                if (tl_t_rnd() % 5 == 0) g_h[i] = 0xFFF8000000000000ull | (tl_t_rnd() >> 20);
            }
        }
        int fail;
        for (uint32_t c = 0; c < TL_PCODEC_CODECS; c++) {
            uint32_t fl = TL_PCODEC_F64 | TL_PCODEC_ALWAYS | TL_PCODEC_FORCE_H(c);
            CHECK(roundtrip(g_ts, g_h, n, fl, &fail) > 0);
            CHECK_EQ_I64(fail, 0);
        }
        CHECK(roundtrip(g_ts, g_h, n, TL_PCODEC_F64 | TL_PCODEC_ALWAYS, &fail) > 0);
        CHECK_EQ_I64(fail, 0);
    }
}

/* The encoder's pick on the typical pages, and the size it reaches. */
TL_TEST(choice_and_size) {
    tl_t_rng = 0x5eed0006;
    const uint32_t n = 4096;
    tl_pcodec_view_t v;
    gen_ts_random(g_ts, n, 2);
    double x = 100.0;
    for (uint32_t i = 0; i < n; i++) {
        x = round((x + (double)((int64_t)(tl_t_rnd() % 11) - 5) / 100.0) * 100) / 100;
        g_h[i] = f2u(x);
    }
    int fail;
    size_t len = roundtrip(g_ts, g_h, n, TL_PCODEC_F64, &fail);
    CHECK_EQ_I64(fail, 0);
    CHECK(len > 0 && len < 3 * (size_t)n); /* ~1.2 B/record */
    CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
    CHECK_EQ_I64(v.ts.codec, TL_PCODEC_INT);
    CHECK_EQ_I64(v.h.codec, TL_PCODEC_ALP_DEC);
    CHECK_EQ_I64(v.h.exc_n, 0);
    for (uint32_t i = 0; i < n; i++) g_h[i] = f2u((double)(i / 3) / 256.0);
    len = roundtrip(g_ts, g_h, n, TL_PCODEC_F64, &fail);
    CHECK(len > 0 && len < 2 * (size_t)n);
    CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
    CHECK_EQ_I64(v.h.codec, TL_PCODEC_ALP_BIN);
    for (uint32_t i = 0; i < n; i++) g_h[i] = i + 1;
    len = roundtrip(g_ts, g_h, n, 0, &fail);
    CHECK(len > 0 && len < 1 * (size_t)n);
    CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
    CHECK_EQ_I64(v.h.codec, TL_PCODEC_INT);
}

/* The blob length of h[0, n) encoded with `flags`: 0 when declined, SIZE_MAX when a check of
 * the blob failed. */
static size_t size_with(uint32_t n, uint32_t flags) {
    int fail;
    size_t len = roundtrip(g_ts, g_h, n, flags, &fail);
    return fail == 0 ? len : SIZE_MAX;
}

/* The cheaper parameter search: ALP_DEC skipped on short binary fractions, candidates ranked
 * on an eighth of the miniblocks. The encoder's own pick must stay within 1/32 of the best
 * forced codec on every page shape, including the one where ALP_DEC beats both of ALP_BIN's
 * usual candidates (mostly halves, 2% with 18 fraction bits: there the skip is safe only
 * because ALP_BIN also offers the k of the lowest estimated size). */
TL_TEST(parameter_search_keeps_the_smallest) {
    tl_t_rng = 0x5eed000a;
    const uint32_t n = 4096;
    gen_ts_random(g_ts, n, 2);
    for (int kind = 0; kind < 6; kind++) {
        double x = 100.0;
        for (uint32_t i = 0; i < n; i++) {
            x = round((x + (double)((int64_t)(tl_t_rnd() % 11) - 5) / 100.0) * 100) / 100;
            double half = (double)(int64_t)(tl_t_rnd() % 2000) / 2.0;
            double d = kind == 0 ? x /* cents */
                     : kind == 1 ? (double)i / 256.0 /* k/256 */
                     : kind == 2 ? (double)(int64_t)(tl_t_rnd() % 4001) / 1024.0 - 2.0
                     : kind == 3 ? (tl_t_rnd() % 50 == 0 ? half + 0x1p-18 : half)
                     : kind == 4 ? (double)(int64_t)(tl_t_rnd() % 100000) / 1000.0
                                 : (double)(int64_t)(tl_t_rnd() % 1000) * 1000.0; /* integers */
            g_h[i] = f2u(d);
        }
        size_t best = SIZE_MAX;
        for (uint32_t c = 0; c < TL_PCODEC_CODECS; c++) {
            size_t len = size_with(n, TL_PCODEC_F64 | TL_PCODEC_ALWAYS | TL_PCODEC_FORCE_H(c));
            CHECK(len != SIZE_MAX && len > 0);
            best = len < best ? len : best;
        }
        size_t own = size_with(n, TL_PCODEC_F64 | TL_PCODEC_ALWAYS);
        CHECK(own != SIZE_MAX && own > 0);
        if (own > best + best / 32) {
            fprintf(stderr, "kind %d: encoder %zu bytes, best forced %zu\n", kind, own, best);
        }
        CHECK(own <= best + best / 32);
    }
    /* A forced ALP_DEC still searches its parameters on binary fractions (k/256 needs
     * e = 8: ~3 bytes a value, not the 8 of parameters 0 with every value an exception). */
    for (uint32_t i = 0; i < n; i++) g_h[i] = f2u((double)i / 256.0);
    size_t dec = size_with(n, TL_PCODEC_F64 | TL_PCODEC_ALWAYS |
                                  TL_PCODEC_FORCE_H(TL_PCODEC_ALP_DEC));
    CHECK(dec > 0 && dec < 4 * (size_t)n);
}

/* Random bits do not compress: 0 by default, the smallest (RAW) blob with ALWAYS. */
TL_TEST(incompressible_is_declined_or_raw) {
    tl_t_rng = 0x5eed0007;
    const uint32_t n = 512;
    for (uint32_t i = 0; i < n; i++) {
        g_ts[i] = (int64_t)(tl_t_rnd() >> 1);
        g_h[i] = tl_t_rnd();
    }
    for (uint32_t i = 1; i < n; i++) { /* sort the timestamps (insertion sort, small n) */
        int64_t t = g_ts[i];
        uint32_t k = i;
        while (k > 0 && g_ts[k - 1] > t) g_ts[k] = g_ts[k - 1], k--;
        g_ts[k] = t;
    }
    CHECK(tl_pcodec_encode(g_ts, g_h, n, TL_PCODEC_F64, g_blob, sizeof g_blob) == 0);
    int fail;
    size_t len = roundtrip(g_ts, g_h, n, TL_PCODEC_F64 | TL_PCODEC_ALWAYS, &fail);
    CHECK_EQ_I64(fail, 0);
    CHECK(len <= tl_pcodec_bound(n));
    tl_pcodec_view_t v;
    CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
    CHECK_EQ_I64(v.h.codec, TL_PCODEC_RAW);
}

TL_TEST(encode_rejects_bad_input) {
    int64_t ts[3] = {5, 4, 6};
    uint64_t h[3] = {1, 2, 3};
    CHECK(tl_pcodec_encode(ts, h, 3, TL_PCODEC_ALWAYS, g_blob, sizeof g_blob) == 0); /* unsorted */
    ts[1] = 5;
    CHECK(tl_pcodec_encode(ts, h, 0, TL_PCODEC_ALWAYS, g_blob, sizeof g_blob) == 0);
    CHECK(tl_pcodec_encode(NULL, h, 3, TL_PCODEC_ALWAYS, g_blob, sizeof g_blob) == 0);
    size_t len = tl_pcodec_encode(ts, h, 3, TL_PCODEC_FORCE_RAW, g_blob, sizeof g_blob);
    CHECK_EQ_U64(len, tl_pcodec_bound(3));
    CHECK(tl_pcodec_encode(ts, h, 3, TL_PCODEC_FORCE_RAW, g_blob, len - 1) == 0); /* cap */
    CHECK(tl_pcodec_encode(ts, h, 3, TL_PCODEC_FORCE_TS(TL_PCODEC_XOR), g_blob, len) == 0);
    CHECK(tl_pcodec_encode(ts, h, 3, TL_PCODEC_FORCE_H(TL_PCODEC_XOR), g_blob, len) == 0);
    CHECK_ST(tl_pcodec_validate(NULL, 10, NULL), TL_EINVAL);
}

/* ---- untrusted blobs ---- */

/* Validates a heap copy of exactly len bytes; when accepted, everything must decode and the
 * decoded page must be consistent (sorted ts, fences, bounds as a linear search). */
static int probe(const uint8_t *blob, size_t len, bool *accepted) {
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, blob, len);
    uint32_t n = 0;
    *accepted = tl_pcodec_validate(c, len, &n) == TL_OK;
    int bad = 0;
    if (*accepted) {
        tl_pcodec_view_t v;
        static int64_t ts[N_BIG];
        static uint64_t h[N_BIG];
        if (tl_pcodec_view_init(&v, c, len) != TL_OK) bad = __LINE__;
        if (!bad) {
            tl_pcodec_decode(&v, 0, n, ts, h);
            for (uint32_t i = 1; i < n && !bad; i++) bad = ts[i] < ts[i - 1] ? __LINE__ : 0;
            if (!bad) bad = check_view(&v, ts, h, n);
        }
    }
    free(c);
    return bad;
}

static void fuzz_blob(size_t len, int *bad_out, uint32_t *accepted_out) {
    static uint8_t orig[16 * 4096 + 4096];
    memcpy(orig, g_blob, len);
    bool acc;
    int bad = 0;
    uint32_t accepted = 0;
    for (size_t cut = 0; cut < len && !bad; cut++) { /* truncations: always rejected */
        bad = probe(orig, cut, &acc);
        if (acc) bad = __LINE__;
    }
    for (size_t off = 0; off < len && !bad; off++) { /* byte flips at every offset */
        for (int k = 0; k < 3 && !bad; k++) {
            uint8_t save = orig[off];
            orig[off] ^= k == 0 ? 0x01 : k == 1 ? 0x80 : (uint8_t)(1 + tl_t_rnd() % 255);
            bad = probe(orig, len, &acc);
            accepted += acc;
            orig[off] = save;
        }
    }
    if (!bad) bad = probe(orig, len, &acc) ? __LINE__ : (acc ? 0 : __LINE__);
    *bad_out = bad;
    *accepted_out = accepted;
}

TL_TEST(validate_truncations_and_flips) {
    tl_t_rng = 0x5eed0008;
    const uint32_t n = 150;
    for (int kind = 0; kind < 5; kind++) {
        gen_ts_random(g_ts, n, kind == 4 ? 1ull << 50 : 3);
        uint32_t fl = TL_PCODEC_ALWAYS | TL_PCODEC_F64;
        for (uint32_t i = 0; i < n; i++) {
            double x = kind == 1 ? (double)(i % 17) / 100 : kind == 2 ? (double)i / 64 : sin(i);
            g_h[i] = kind == 0 || kind == 4 ? i * 3 : f2u(i % 9 == 0 ? -0.0 : x);
        }
        if (kind == 0 || kind == 4) fl = TL_PCODEC_ALWAYS;
        if (kind == 3) fl |= TL_PCODEC_FORCE_H(TL_PCODEC_XOR);
        size_t len = tl_pcodec_encode(g_ts, g_h, n, fl, g_blob, sizeof g_blob);
        CHECK(len > 0);
        tl_pcodec_view_t v;
        CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
        static const uint8_t want[5] = {TL_PCODEC_INT, TL_PCODEC_ALP_DEC, TL_PCODEC_ALP_BIN,
                                        TL_PCODEC_XOR, TL_PCODEC_INT};
        CHECK_EQ_I64(v.h.codec, want[kind]);
        int bad;
        uint32_t accepted;
        fuzz_blob(len, &bad, &accepted);
        CHECK_EQ_I64(bad, 0);
        if (getenv("TL_TEST_VERBOSE")) {
            printf("  blob kind %d: %zu bytes, %u of %zu flips still valid\n", kind, len,
                   accepted, 3 * len);
        }
    }
}

/* Flips bit b of blob[off] in a copy and validates it: true when rejected. */
static bool flip_rejected(size_t len, size_t off, unsigned b) {
    g_blob[off] ^= (uint8_t)(1u << b);
    uint8_t *c = malloc(len);
    memcpy(c, g_blob, len);
    bool rejected = tl_pcodec_validate(c, len, NULL) == TL_ECORRUPT;
    free(c);
    g_blob[off] ^= (uint8_t)(1u << b);
    return rejected;
}

/* The bytes whose every change must be rejected, because a change there is consistent for
 * every decoder (so the decode checks above cannot see it): the version, the miniblock size,
 * both section lengths, the trailer, and in each INT meta word the offset, width and reserved
 * bits, and the end offset. (A flipped value, base or mode bit can be a valid blob of other
 * records.) */
TL_TEST(validate_rejects_structural_flips) {
    tl_t_rng = 0x5eed0009;
    const uint32_t n = 300;
    for (int kind = 0; kind < 2; kind++) {
        gen_ts_random(g_ts, n, 5);
        for (uint32_t i = 0; i < n; i++) g_h[i] = kind ? f2u((double)(i % 50) / 10) : i * 5;
        uint32_t fl = TL_PCODEC_ALWAYS | (kind ? TL_PCODEC_F64 : 0);
        size_t len = tl_pcodec_encode(g_ts, g_h, n, fl, g_blob, sizeof g_blob);
        tl_pcodec_view_t v;
        CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
        CHECK(v.ts.codec == TL_PCODEC_INT && v.h.codec == (kind ? TL_PCODEC_ALP_DEC : TL_PCODEC_INT));
        static const size_t hdr[] = {0, 3, 8, 9, 10, 11, 12, 13, 14, 15};
        for (size_t k = 0; k < sizeof hdr / sizeof hdr[0]; k++) {
            for (unsigned b = 0; b < 8; b++) CHECK(flip_rejected(len, hdr[k], b));
        }
        for (size_t off = len - 8; off < len; off++) {
            for (unsigned b = 0; b < 8; b++) CHECK(flip_rejected(len, off, b));
        }
        const uint8_t *metas[2] = {v.ts.meta, v.h.meta};
        for (int col = 0; col < 2; col++) {
            for (uint32_t j = 0; j <= v.nmb; j++) { /* meta[nmb] is the end offset */
                size_t at = (size_t)(metas[col] - g_blob) + 4 * j;
                for (unsigned bit = 0; bit < 32; bit++) {
                    if (j < v.nmb && bit >= 27 && bit != 31) continue; /* mode, dmin size */
                    CHECK(flip_rejected(len, at + bit / 8, bit % 8));
                }
            }
        }
    }
}

/* Batch blobs (TL_PCODEC_UNSORTED: a WAL record's records in call order): an unsorted page
 * encodes only with the flag, decodes back bit for bit through every decoder, and is accepted
 * by tl_pcodec_validate_batch, not by tl_pcodec_validate (its order is no page's); a wrong
 * last ts, truncations and flips of its structure are refused by both. */
TL_TEST(batch_blobs_unsorted) {
    tl_t_rng = 0x5eed0009;
    static const uint32_t sizes[4] = {1, 63, 700, 4096};
    for (int si = 0; si < 4; si++) {
        uint32_t n = sizes[si];
        int64_t now = -5000;
        for (uint32_t i = 0; i < n; i++) { /* rising, 1 in 20 late by up to 2,000 */
            now += (int64_t)(tl_t_rnd() % 3);
            g_ts[i] = tl_t_rnd() % 20 == 0 ? now - (int64_t)(tl_t_rnd() % 2000) : now;
            g_h[i] = i % 500 == 7 ? tl_t_rnd() : 0x1000000000ull + i; /* handles, a few wild */
        }
        if (n > 2) { /* the extremes too: any 64-bit ts in any order */
            g_ts[n / 2] = INT64_MAX;
            g_ts[n / 2 + 1] = INT64_MIN;
        }
        bool sorted = true;
        for (uint32_t i = 1; i < n; i++) sorted &= g_ts[i] >= g_ts[i - 1];
        if (!sorted) CHECK(tl_pcodec_encode(g_ts, g_h, n, TL_PCODEC_ALWAYS, g_blob,
                                            sizeof g_blob) == 0);
        size_t len = tl_pcodec_encode(g_ts, g_h, n, TL_PCODEC_ALWAYS | TL_PCODEC_UNSORTED,
                                      g_blob, sizeof g_blob);
        CHECK(len > 0 && len <= tl_pcodec_bound(n));
        uint32_t got = 0;
        CHECK_OK(tl_pcodec_validate_batch(g_blob, len, &got));
        CHECK_EQ_U64(got, n);
        CHECK_ST(tl_pcodec_validate(g_blob, len, NULL), sorted ? TL_OK : TL_ECORRUPT);
        tl_pcodec_view_t v;
        CHECK_OK(tl_pcodec_view_init(&v, g_blob, len));
        tl_pcodec_decode(&v, 0, n, d_ts, d_h);
        CHECK(memcmp(d_ts, g_ts, 8 * (size_t)n) == 0 && memcmp(d_h, g_h, 8 * (size_t)n) == 0);
        for (uint32_t i = 0; i < n; i += 1 + n / 50) {
            CHECK(tl_pcodec_ts_at(&v, i) == g_ts[i] && tl_pcodec_h_at(&v, i) == g_h[i]);
        }
        if (n == 4096) CHECK(len < 4 * (size_t)n); /* and it pays: under 4 B a record */
        /* the header's last ts (bytes 16..23) must be the last record's */
        g_blob[16] ^= 1;
        CHECK_ST(tl_pcodec_validate_batch(g_blob, len, NULL), TL_ECORRUPT);
        g_blob[16] ^= 1;
        for (size_t cut = 0; cut < len; cut += 1 + len / 64) {
            CHECK_ST(tl_pcodec_validate_batch(g_blob, cut, NULL), TL_ECORRUPT);
        }
        for (size_t off = 0; off < 24; off++) { /* header: version, codecs, n, lengths */
            if (off >= 16) continue; /* the last ts: above */
            for (unsigned b = 0; b < 8; b++) {
                g_blob[off] ^= (uint8_t)(1u << b);
                bool rejected = tl_pcodec_validate_batch(g_blob, len, NULL) == TL_ECORRUPT;
                g_blob[off] ^= (uint8_t)(1u << b);
                /* n's high bits or a codec id may land on another valid blob only by chance;
                 * the version, miniblock size and section lengths never do */
                if (off == 0 || off == 3 || (off >= 8 && off < 16)) CHECK(rejected);
            }
        }
        CHECK_OK(tl_pcodec_validate_batch(g_blob, len, NULL));
    }
    CHECK_ST(tl_pcodec_validate_batch(NULL, 10, NULL), TL_EINVAL);
}

int main(void) {
    RUN(instruction_sets);
    for (uint32_t set = 0; set < tl_cpu_sets(); set++) {
        if (!tl_cpu_use_set(set)) continue; /* the CPU lacks it */
        if (tl_cpu_sets() > 1) printf("# instruction set %u of %u\n", set + 1, tl_cpu_sets());
        RUN(status_text);
        RUN(bitpack_kernels_match_reference);
        RUN(roundtrip_sizes_and_gaps);
        RUN(bracketed_searches_on_duplicates);
        RUN(roundtrip_n_max);
        RUN(roundtrip_extreme_timestamps);
        RUN(roundtrip_f64_every_codec);
        RUN(choice_and_size);
        RUN(parameter_search_keeps_the_smallest);
        RUN(incompressible_is_declined_or_raw);
        RUN(encode_rejects_bad_input);
        RUN(validate_truncations_and_flips);
        RUN(validate_rejects_structural_flips);
        RUN(batch_blobs_unsorted);
    }
    (void)tl_cpu_use_set(UINT32_MAX);
    return tl_test_done("codec_test");
}
