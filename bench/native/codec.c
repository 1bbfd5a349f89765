/*
 * bench/native/codec.c — the compressed page codec alone (c/src/codec/): size per record,
 * encode and decode speed, one-miniblock decode, bound searches and record access, per data
 * set and per value codec, side by side in one run (this host drifts by 15-25%: only figures
 * from the same run compare).
 *
 * Data sets (seeded xorshift64; records generated in arrival order, then stably sorted by
 * timestamp as a page is; handles travel with their records, double values are a series in
 * timestamp order):
 *   ticks      ts in ms: gaps of 0, 1 or 2 (a third of records share a timestamp), 5% of
 *              records late by 0..10,000 ms; values k/256 with k = record index (i256), or
 *              with k a random walk of steps -3..3 (w256); or handles = arrival index + 1
 *   walk       the same timestamps; prices from 100.00 in steps of -0.05..+0.05, rounded to
 *              cents as JavaScript's Math.round(x * 100) / 100 does
 *   noise      the same timestamps; full-precision doubles (a slow sine plus noise): what ALP
 *              cannot scale, to compare XOR, INT and RAW on it
 *   steps      the same timestamps; a full-precision double held for ~50 records at a time
 *              (a gauge that rarely changes): XOR's case
 *   native     bench_native's shape: ts += 1 per record, past record 1024 5% moved back by
 *              1..1024; handle = arrival index + 1
 *   late/i256  ticks with k/256 for k = arrival index: the late records' values travel with
 *              them, so 5% of values jump by up to ~10,000/256 (a stress case)
 * Pages of --page records (4096). Codec rows: "auto" is the encoder's own choice (ts and
 * values; TL_PCODEC_F64 for double data), the others force the value codec (ts stays INT),
 * "raw blob" is the uncompressed blob (the page a compressed one replaces).
 *
 * Figures (each the median over --runs runs; every run times every row of a set in turn):
 *   B/rec      ts section, value section and whole blob, per record
 *   enc        tl_pcodec_encode of every page, ns/record
 *   dec        tl_pcodec_decode of whole pages (both columns) into a page buffer, ns/record
 *   mb         tl_pcodec_ts_mb + tl_pcodec_h_mb of a random miniblock of a random page, ns
 *   lower      tl_pcodec_lower of a random key inside a random page's range, ns
 *   at         tl_pcodec_ts_at + tl_pcodec_h_at of a random record, ns
 * each "hot" (pages among the first HOT_PAGES, whose blobs stay in cache: the codec's own
 * cost) and "cold" (any page: cache misses included, as a point read on a large log pays).
 *   view       tl_pcodec_view_init of a random page, ns (views are otherwise parsed up front)
 *   h codec    the value codec of each page (R RAW, I INT, D ALP_DEC, B ALP_BIN, X XOR).
 * Verification: every blob passes tl_pcodec_validate and decodes to its page; random lookups
 * are checked against the arrays; failure prints FAILED and exits 1.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/pcodec.h"

#define RUNS_MAX 32
#define QUERIES 200000
#define HOT_PAGES 4

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng_state = 12345;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t f2u(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static bool g_failed;
static void fail(const char *what, const char *set, const char *codec) {
    printf("FAILED: %s (%s, %s)\n", what, set, codec);
    g_failed = true;
}

/* ---- data ---- */

typedef struct rec {
    int64_t ts;
    uint64_t h;
    uint32_t idx;
} rec_t;

static int rec_cmp(const void *a, const void *b) {
    const rec_t *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

typedef struct set {
    const char *name;
    bool f64;
    int64_t *ts;
    uint64_t *h;
} set_t;

/* Timestamps of a shape in arrival order, then the stable sort by ts; handles travel with
 * their records (an id given at arrival). Values of the double kinds are a series in
 * timestamp order (a late record's value belongs to its time), except H_LATE: k/256 with k
 * the arrival index, travelling with late records (the jitter a late value brings). */
enum { TS_TICKS, TS_NATIVE };
enum { H_I256, H_W256, H_HANDLE, H_PRICE, H_NOISE, H_LATE, H_STEPS };

static void make_set(set_t *s, uint32_t n, int ts_kind, int h_kind, uint64_t seed) {
    rec_t *r = malloc(sizeof *r * n);
    rng_state = seed;
    int64_t t = ts_kind == TS_TICKS ? 1700000000000 : 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t ti;
        if (ts_kind == TS_TICKS) {
            t += (int64_t)(rnd() % 3);
            ti = rnd() % 20 == 0 ? t - (int64_t)(rnd() % 10001) : t;
        } else {
            t += 1;
            ti = i > 1024 && rnd() % 20 == 0 ? t - 1 - (int64_t)(rnd() % 1024) : t;
        }
        uint64_t h = h_kind == H_LATE ? f2u((double)i / 256.0) : i + 1;
        r[i] = (rec_t){ti, h, i};
    }
    qsort(r, n, sizeof *r, rec_cmp);
    s->ts = malloc(8 * (size_t)n);
    s->h = malloc(8 * (size_t)n);
    int64_t k = 0;
    double price = 100.0;
    for (uint32_t i = 0; i < n; i++) {
        s->ts[i] = r[i].ts;
        s->h[i] = r[i].h;
        if (h_kind == H_I256) s->h[i] = f2u((double)i / 256.0);
        if (h_kind == H_W256) {
            k += (int64_t)(rnd() % 7) - 3;
            s->h[i] = f2u((double)k / 256.0);
        }
        if (h_kind == H_PRICE) {
            price = floor((price + (double)((int64_t)(rnd() % 11) - 5) / 100.0) * 100 + 0.5) / 100;
            s->h[i] = f2u(price);
        }
        if (h_kind == H_NOISE) {
            double u = (double)(rnd() >> 11) * 0x1.0p-53 - 0.5;
            s->h[i] = f2u(20.0 + 5.0 * sin((double)i / 1000.0) + 0.1 * u);
        }
        if (h_kind == H_STEPS) {
            if (i == 0 || rnd() % 50 == 0) price = sqrt((double)(rnd() % 100000)) / 3.0;
            s->h[i] = f2u(price);
        }
    }
    free(r);
}

/* ---- one codec over one data set ---- */

/* Random-access figures for one query set. */
typedef struct qfigs {
    double mb[RUNS_MAX], lower[RUNS_MAX], at[RUNS_MAX];
} qfigs_t;

typedef struct figs {
    double enc[RUNS_MAX], dec[RUNS_MAX], view[RUNS_MAX];
    qfigs_t hot, cold;
} figs_t;

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int k) {
    double s[RUNS_MAX];
    memcpy(s, v, sizeof(double) * (size_t)k);
    qsort(s, (size_t)k, sizeof(double), dbl_cmp);
    return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

typedef struct ctx {
    const set_t *set;
    uint32_t n, page, pages;
    uint8_t *blobs; /* page p at blobs + off[p] */
    size_t *off, *len;
    tl_pcodec_view_t *views;
    int64_t *buf_ts;
    uint64_t *buf_h;
    uint32_t *q_page[2], *q_idx;
    int64_t *q_key[2];
} ctx_t;

static uint32_t page_len(const ctx_t *c, uint32_t p) {
    return p + 1 < c->pages ? c->page : c->n - p * c->page;
}

/* Encodes every page; returns ns/record, or -1 when a page was declined. */
static double run_encode(ctx_t *c, uint32_t flags, uint32_t *declined) {
    size_t at = 0;
    *declined = 0;
    double t0 = now_s();
    for (uint32_t p = 0; p < c->pages; p++) {
        uint32_t m = page_len(c, p);
        const int64_t *ts = c->set->ts + (size_t)p * c->page;
        const uint64_t *h = c->set->h + (size_t)p * c->page;
        size_t len = tl_pcodec_encode(ts, h, m, flags, c->blobs + at, 16 * (size_t)m + 4096);
        if (len == 0) {
            (*declined)++;
            len = tl_pcodec_encode(ts, h, m, flags | TL_PCODEC_ALWAYS, c->blobs + at,
                                   16 * (size_t)m + 4096);
        }
        c->off[p] = at;
        c->len[p] = len;
        at += (len + 7) & ~(size_t)7;
    }
    return (now_s() - t0) * 1e9 / c->n;
}

static bool verify(ctx_t *c) {
    for (uint32_t p = 0; p < c->pages; p++) {
        uint32_t m = page_len(c, p), got;
        if (tl_pcodec_validate(c->blobs + c->off[p], c->len[p], &got) != TL_OK || got != m) {
            return false;
        }
        if (tl_pcodec_view_init(&c->views[p], c->blobs + c->off[p], c->len[p]) != TL_OK) {
            return false;
        }
        tl_pcodec_decode(&c->views[p], 0, m, c->buf_ts, c->buf_h);
        if (memcmp(c->buf_ts, c->set->ts + (size_t)p * c->page, 8 * (size_t)m) ||
            memcmp(c->buf_h, c->set->h + (size_t)p * c->page, 8 * (size_t)m)) {
            return false;
        }
    }
    return true;
}

static volatile uint64_t sink;

/* Random miniblock decodes, lower bounds and record reads over query set k (0 hot, 1 cold). */
static uint64_t run_queries(const ctx_t *c, int k, qfigs_t *f, int r) {
    const uint32_t *qp = c->q_page[k];
    const int64_t *qk = c->q_key[k];
    int64_t mts[TL_PCODEC_MB];
    uint64_t mh[TL_PCODEC_MB], acc = 0;
    double t0 = now_s();
    for (uint32_t q = 0; q < QUERIES; q++) {
        const tl_pcodec_view_t *v = &c->views[qp[q]];
        uint32_t j = (c->q_idx[q] / TL_PCODEC_MB) % v->nmb;
        acc += (uint64_t)tl_pcodec_ts_mb(v, j, mts) + (uint64_t)mts[q & 7];
        acc += tl_pcodec_h_mb(v, j, mh) + mh[q & 7];
    }
    f->mb[r] = (now_s() - t0) * 1e9 / QUERIES;
    t0 = now_s();
    for (uint32_t q = 0; q < QUERIES; q++) acc += tl_pcodec_lower(&c->views[qp[q]], qk[q]);
    f->lower[r] = (now_s() - t0) * 1e9 / QUERIES;
    t0 = now_s();
    for (uint32_t q = 0; q < QUERIES; q++) {
        const tl_pcodec_view_t *v = &c->views[qp[q]];
        uint32_t i = c->q_idx[q] % v->n;
        acc += (uint64_t)tl_pcodec_ts_at(v, i) + tl_pcodec_h_at(v, i);
    }
    f->at[r] = (now_s() - t0) * 1e9 / QUERIES;
    return acc;
}

static void run_reads(ctx_t *c, figs_t *f, int r) {
    uint64_t acc = 0;
    double t0 = now_s();
    for (uint32_t p = 0; p < c->pages; p++) {
        tl_pcodec_decode(&c->views[p], 0, page_len(c, p), c->buf_ts, c->buf_h);
        acc += (uint64_t)c->buf_ts[p & 63] + c->buf_h[p & 127];
    }
    f->dec[r] = (now_s() - t0) * 1e9 / c->n;
    acc += run_queries(c, 0, &f->hot, r);
    acc += run_queries(c, 1, &f->cold, r);
    t0 = now_s();
    tl_pcodec_view_t tmp;
    for (uint32_t q = 0; q < QUERIES; q++) {
        uint32_t p = c->q_page[1][q];
        acc += tl_pcodec_view_init(&tmp, c->blobs + c->off[p], c->len[p]) + tmp.nmb;
    }
    f->view[r] = (now_s() - t0) * 1e9 / QUERIES;
    sink += acc;
}

/* Random lookups against the arrays (once, outside timing). */
static bool verify_lookups(const ctx_t *c) {
    for (uint32_t q = 0; q < QUERIES; q += 97) {
        uint32_t p = c->q_page[1][q];
        int64_t x = c->q_key[1][q];
        const tl_pcodec_view_t *v = &c->views[p];
        const int64_t *ts = c->set->ts + (size_t)p * c->page;
        uint32_t lo = tl_pcodec_lower(v, x);
        if ((lo < v->n && ts[lo] < x) || (lo > 0 && ts[lo - 1] >= x)) return false;
        uint32_t i = c->q_idx[q] % v->n;
        if (tl_pcodec_ts_at(v, i) != ts[i]) return false;
        if (tl_pcodec_h_at(v, i) != c->set->h[(size_t)p * c->page + i]) return false;
    }
    return true;
}

/* One codec row of a data set: its blobs, views and figures. */
typedef struct row {
    const char *name;
    uint32_t flags, declined;
    uint8_t *blobs;
    size_t *off, *len;
    tl_pcodec_view_t *views;
    figs_t f;
} row_t;

/* Points the context at row w's blobs and views. */
static void use(ctx_t *c, row_t *w) {
    c->blobs = w->blobs;
    c->off = w->off;
    c->len = w->len;
    c->views = w->views;
}

static void row_init(ctx_t *c, row_t *w, const char *name, uint32_t flags) {
    *w = (row_t){.name = name, .flags = flags};
    w->blobs = malloc((size_t)c->pages * (16 * (size_t)c->page + 4096));
    w->off = malloc(sizeof(size_t) * c->pages);
    w->len = malloc(sizeof(size_t) * c->pages);
    w->views = malloc(sizeof(tl_pcodec_view_t) * c->pages);
    use(c, w);
    run_encode(c, flags, &w->declined);
    if (!verify(c)) fail("round trip", c->set->name, name);
    if (!verify_lookups(c)) fail("lookups", c->set->name, name);
}

static void row_print(const ctx_t *c, const row_t *w, int runs) {
    size_t ts_b = 0, h_b = 0, all = 0;
    unsigned mix[TL_PCODEC_CODECS] = {0};
    for (uint32_t p = 0; p < c->pages; p++) {
        ts_b += w->views[p].ts.sec_len;
        h_b += w->views[p].h.sec_len;
        all += w->len[p];
        mix[w->views[p].h.codec]++;
    }
    char mixs[64] = "";
    static const char *names[] = {"R", "I", "D", "B", "X"};
    for (int k = 0; k < TL_PCODEC_CODECS; k++) {
        if (mix[k]) {
            size_t l = strlen(mixs);
            snprintf(mixs + l, sizeof mixs - l, "%s%s%u", l ? " " : "", names[k], mix[k]);
        }
    }
    const figs_t *f = &w->f;
    printf("%-10s %-8s %5.2f %5.2f %5.2f %5.1f %5.2f %5.1f %5.1f %5.1f %5.1f %5.1f %5.1f %4.1f "
           "%s%s\n",
           c->set->name, w->name, (double)ts_b / c->n, (double)h_b / c->n, (double)all / c->n,
           median(f->enc, runs), median(f->dec, runs), median(f->hot.mb, runs),
           median(f->hot.lower, runs), median(f->hot.at, runs), median(f->cold.mb, runs),
           median(f->cold.lower, runs), median(f->cold.at, runs), median(f->view, runs), mixs,
           w->declined ? " (declined pages kept with ALWAYS)" : "");
}

/* Every row of a set is timed once per run, in turn, so the host's drift spreads over all
 * rows alike and rows of one set compare. */
static void bench_set(const set_t *s, uint32_t n, uint32_t page, int runs) {
    ctx_t c = {.set = s, .n = n, .page = page, .pages = (n + page - 1) / page};
    c.buf_ts = malloc(8 * (size_t)page);
    c.buf_h = malloc(8 * (size_t)page);
    c.q_idx = malloc(4 * QUERIES);
    rng_state = 777;
    for (int k = 0; k < 2; k++) {
        c.q_page[k] = malloc(4 * QUERIES);
        c.q_key[k] = malloc(8 * QUERIES);
        for (uint32_t q = 0; q < QUERIES; q++) {
            /* hot: the first HOT_PAGES pages (their blobs stay in cache); cold: any page */
            uint32_t p = (uint32_t)(rnd() % (k == 0 ? HOT_PAGES : c.pages)), m = page_len(&c, p);
            const int64_t *ts = s->ts + (size_t)p * page;
            c.q_page[k][q] = p;
            c.q_idx[q] = (uint32_t)(rnd() % m);
            c.q_key[k][q] = ts[0] + (int64_t)(rnd() % (uint64_t)(ts[m - 1] - ts[0] + 1));
        }
    }
    uint32_t fl = s->f64 ? TL_PCODEC_F64 : 0, al = TL_PCODEC_ALWAYS | fl, nr = 0;
    row_t rows[7];
    row_init(&c, &rows[nr++], "auto", fl);
    row_init(&c, &rows[nr++], "RAW", al | TL_PCODEC_FORCE_H(TL_PCODEC_RAW));
    row_init(&c, &rows[nr++], "INT", al | TL_PCODEC_FORCE_H(TL_PCODEC_INT));
    if (s->f64) {
        row_init(&c, &rows[nr++], "ALP_DEC", al | TL_PCODEC_FORCE_H(TL_PCODEC_ALP_DEC));
        row_init(&c, &rows[nr++], "ALP_BIN", al | TL_PCODEC_FORCE_H(TL_PCODEC_ALP_BIN));
        row_init(&c, &rows[nr++], "XOR", al | TL_PCODEC_FORCE_H(TL_PCODEC_XOR));
    }
    row_init(&c, &rows[nr++], "raw blob", TL_PCODEC_FORCE_RAW);
    for (int r = 0; r < runs; r++) {
        for (uint32_t i = 0; i < nr; i++) {
            use(&c, &rows[i]);
            rows[i].f.enc[r] = run_encode(&c, rows[i].flags, &rows[i].declined);
            run_reads(&c, &rows[i].f, r);
        }
    }
    for (uint32_t i = 0; i < nr; i++) {
        row_print(&c, &rows[i], runs);
        free(rows[i].blobs), free(rows[i].off), free(rows[i].len), free(rows[i].views);
    }
    free(c.buf_ts), free(c.buf_h);
    free(c.q_page[0]), free(c.q_page[1]), free(c.q_idx), free(c.q_key[0]), free(c.q_key[1]);
}

/* The machine's own limit: copying both columns of every page into the page buffers. */
static void bench_memcpy(const set_t *s, uint32_t n, uint32_t page, int runs) {
    int64_t *bt = malloc(8 * (size_t)page);
    uint64_t *bh = malloc(8 * (size_t)page);
    double t[RUNS_MAX];
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        for (uint32_t p = 0; p < n; p += page) {
            uint32_t m = n - p < page ? n - p : page;
            memcpy(bt, s->ts + p, 8 * (size_t)m);
            memcpy(bh, s->h + p, 8 * (size_t)m);
            sink += (uint64_t)bt[p & 63] + bh[p & 127];
        }
        t[r] = (now_s() - t0) * 1e9 / n;
    }
    printf("memcpy of both columns (16 B/record), page by page: %.3f ns/record\n", median(t, runs));
    free(bt), free(bh);
}

int main(int argc, char **argv) {
    uint32_t n = 1000000, page = 4096;
    int runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--records")) n = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--page")) page = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_codec [--records N] [--page P] [--runs K]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > RUNS_MAX || page < 1 || page > TL_PCODEC_N_MAX || n < page) {
        fprintf(stderr, "bench_codec: bad arguments\n");
        return 2;
    }
    printf("bench_codec: %u records, pages of %u, miniblocks of %u, median of %d runs\n", n, page,
           TL_PCODEC_MB, runs);
    static const struct { const char *name; int ts, h; bool f64; } sets[] = {
        {"ticks/i256", TS_TICKS, H_I256, true}, {"ticks/w256", TS_TICKS, H_W256, true},
        {"ticks/h", TS_TICKS, H_HANDLE, false}, {"walk", TS_TICKS, H_PRICE, true},
        {"noise", TS_TICKS, H_NOISE, true},     {"native", TS_NATIVE, H_HANDLE, false},
        {"late/i256", TS_TICKS, H_LATE, true},  {"steps", TS_TICKS, H_STEPS, true},
    };
    printf("%-10s %-8s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %4s %s\n", "", "",
           "ts", "h", "all", "enc", "dec", "hot", "hot", "hot", "cold", "cold", "cold", "view",
           "h codec");
    printf("%-10s %-8s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %4s %s\n", "set", "codec",
           "B/rec", "B/rec", "B/rec", "ns/r", "ns/r", "mb", "lower", "at", "mb", "lower", "at",
           "ns", "per page");
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        set_t s = {sets[i].name, sets[i].f64, NULL, NULL};
        make_set(&s, n, sets[i].ts, sets[i].h, 12345 + i);
        if (i == 0) bench_memcpy(&s, n, page, runs);
        bench_set(&s, n, page, runs);
        free(s.ts), free(s.h);
    }
    printf("%s\n", g_failed ? "FAILED" : "VERIFIED");
    return g_failed ? 1 : 0;
}
