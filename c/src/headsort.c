/*
 * headsort.c — sorted views of a head prefix (headsort.h says why they are shared).
 *
 * The cache holds the stable sort of the head's first sorted->n records. It only grows: a
 * request for more records sorts the ones after it and merges (O(n)); a request for fewer
 * (a snapshot older than the cache) sorts privately. sort_mu serializes building, so a count
 * is sorted once however many threads ask.
 * Complexity: a sort O(n * key bits / 11) (stable LSD radix on ts - min over the bits the
 * range needs, a record packed with its index in one 8-byte word when both fit); an extension
 * O(new) sort + O(n) merge.
 */
#include "headsort.h"

#include "merge.h"
#include "radix.h"

#define SORT_BLOCK 32u

typedef struct rec {
    int64_t ts;
    uint64_t h;
} rec_t;

/* ---- stable sort ---- */

static void insertion_sort(rec_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        rec_t x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1].ts > x.ts) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* LSD radix sort on (ts - min) over only the bytes the key range needs: stable, O(n * bytes)
 * with no data-dependent branches; the form for key ranges too wide to pack beside an index
 * (sort_packed). Returns the buffer holding the result. */
static rec_t *stable_sort(rec_t *a, rec_t *tmp, size_t n) {
    if (n <= SORT_BLOCK) {
        insertion_sort(a, n);
        return a;
    }
    int64_t lo = a[0].ts, hi = a[0].ts;
    for (size_t i = 1; i < n; i++) {
        if (a[i].ts < lo) lo = a[i].ts;
        if (a[i].ts > hi) hi = a[i].ts;
    }
    uint64_t range = (uint64_t)hi - (uint64_t)lo;
    rec_t *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 64 && (range >> shift) != 0; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++) {
            cnt[(((uint64_t)src[i].ts - (uint64_t)lo) >> shift & 0xffu) + 1]++;
        }
        for (size_t b = 1; b <= 256; b++) cnt[b] += cnt[b - 1];
        for (size_t i = 0; i < n; i++) {
            dst[cnt[((uint64_t)src[i].ts - (uint64_t)lo) >> shift & 0xffu]++] = src[i];
        }
        rec_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* Whether ts[0, n) ascends; *lo, *hi: its least and greatest timestamps (n >= 1). */
static bool scan_keys(const int64_t *ts, size_t n, int64_t *lo, int64_t *hi) {
    bool up = true;
    int64_t mn = ts[0], mx = ts[0];
    for (size_t i = 1; i < n; i++) {
        up &= ts[i] >= ts[i - 1];
        mn = ts[i] < mn ? ts[i] : mn;
        mx = ts[i] > mx ? ts[i] : mx;
    }
    *lo = mn;
    *hi = mx;
    return up;
}

/* The packed form of the stable sort: each record as one word ((ts - lo) << ib) | i, sorted
 * by LSD radix (radix.h) over the rb key bits above the ib index bits (stable, and the index keeps
 * equal keys in arrival order anyway), so a pass moves 8 bytes a record instead of 16; the
 * records are then gathered through the indexes into the builder, 256 at a time. A head of
 * 2048 records (late ones of ~10 write calls, a 16-bit key range) sorts on the writer's
 * thread at every head change and seal: in C, the bench data paced, a head change took
 * 24.8-28.5 us with 16-byte records and takes 17.4-19.8 (p90 of a 4096-record append 36-38 ->
 * 32-33 us). w holds 2n words. */
static void sort_packed(tl_run_builder_t *b, uint64_t *w, const int64_t *ts, const uint64_t *h,
                        size_t n, int64_t lo, unsigned rb, unsigned ib) {
    for (size_t i = 0; i < n; i++) w[i] = ((uint64_t)ts[i] - (uint64_t)lo) << ib | i;
    size_t cnt[TL_RADIX_COUNTS];
    const uint64_t *src = tl_radix_words(w, w + n, n, ib, rb, cnt);
    enum { CHUNK = 256 };
    int64_t cts[CHUNK];
    uint64_t ch[CHUNK];
    uint64_t imask = ((uint64_t)1 << ib) - 1;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        for (size_t k = 0; k < m; k++) {
            uint64_t x = src[i + k];
            cts[k] = (int64_t)((uint64_t)lo + (x >> ib));
            ch[k] = h[x & imask];
        }
        tl_rb_push_many(b, cts, ch, m);
    }
}

tl_status_t tl_sort_to_run(const tl_allocator_t *a, uint32_t page_records, bool sums,
                           const int64_t *ts, const uint64_t *h, size_t n, uint64_t wm,
                           tl_run_t **out) {
    *out = NULL;
    if (n == 0) return TL_OK;
    /* Whole pages, kept whole: a head run lives until its memtable is flushed, and pages of
     * exactly page_records come from the log's arena, warm and reused. Pages sized to a head's
     * ~2,048 records came from malloc, whose heap gave the memory back once the worker freed
     * them, so the writer's next head sort faulted it in again (C, the bench data paced at 30
     * Mrec/s in memory: 8 faults in every 10th call; on memory the host took back, ~9 us a
     * 4 KiB page). The sort's scratch, a page's size or less, comes from the arena too. */
    tl_run_builder_t b;
    tl_rb_init(&b, a, page_records);
    b.sums = sums;
    b.whole_pages = true;
    int64_t lo, hi;
    if (scan_keys(ts, n, &lo, &hi)) {
        tl_rb_push_many(&b, ts, h, n);
        return tl_rb_finish(&b, wm, out);
    }
    unsigned rb = 64u - (unsigned)__builtin_clzll((uint64_t)hi - (uint64_t)lo); /* hi > lo */
    unsigned ib = 64u - (unsigned)__builtin_clzll((uint64_t)n - 1); /* n >= 2 */
    if (n > SORT_BLOCK && rb + ib <= 64 && n <= SIZE_MAX / (2 * sizeof(uint64_t))) {
        size_t wb = 2 * n * sizeof(uint64_t), pb = tl_page_bytes(page_records);
        if (wb <= pb) wb = pb; /* an arena block */
        uint64_t *w = tl_mem_alloc(a, wb);
        if (w == NULL) {
            tl_rb_abort(&b);
            return TL_ENOMEM;
        }
        sort_packed(&b, w, ts, h, n, lo, rb, ib);
        tl_mem_free(a, w, wb);
        return tl_rb_finish(&b, wm, out);
    }
    rec_t *buf = n > SIZE_MAX / (2 * sizeof(rec_t)) ? NULL : tl_mem_alloc(a, 2 * n * sizeof *buf);
    if (buf == NULL) {
        tl_rb_abort(&b);
        return TL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) buf[i] = (rec_t){ts[i], h[i]};
    rec_t *res = stable_sort(buf, buf + n, n);
    /* Unzip into the other half: it holds exactly n ts then n handles. */
    int64_t *cts = (int64_t *)(void *)(res == buf ? buf + n : buf);
    uint64_t *ch = (uint64_t *)(void *)(cts + n);
    for (size_t i = 0; i < n; i++) {
        cts[i] = res[i].ts;
        ch[i] = res[i].h;
    }
    tl_rb_push_many(&b, cts, ch, n);
    tl_mem_free(a, buf, 2 * n * sizeof *buf);
    return tl_rb_finish(&b, wm, out);
}

/* Stable merge of two sorted runs into a new one (older first on equal ts), wm TL_SEQ_MAX. */
static tl_status_t merge_two(const tl_allocator_t *a, uint32_t page_records, bool sums,
                             tl_run_t *older, tl_run_t *newer, tl_run_t **out) {
    enum { CHUNK = 256 };
    int64_t ts[CHUNK];
    uint64_t h[CHUNK];
    *out = NULL;
    tl_run_t *pair[2] = {older, newer};
    tl_source_t srcs[2] = {{&pair[0], 1, 0, false}, {&pair[1], 1, 1, false}};
    tl_merge_t *m = NULL;
    tl_status_t st = tl_merge_open(a, srcs, 2, NULL, INT64_MIN, INT64_MAX, &m);
    if (st != TL_OK) return st;
    tl_run_builder_t b;
    tl_rb_init(&b, a, page_records); /* whole pages, as tl_sort_to_run */
    b.sums = sums;
    b.whole_pages = true;
    size_t got = 0;
    while ((st = tl_merge_next(m, ts, h, CHUNK, &got)) == TL_OK) tl_rb_push_many(&b, ts, h, got);
    tl_merge_close(m);
    if (st != TL_EOF) {
        tl_rb_abort(&b);
        return st;
    }
    return tl_rb_finish(&b, TL_SEQ_MAX, out);
}

/* Records [from, n) sorted; with prev (the sort of [0, from)), merged after it. */
static tl_status_t sort_from(const tl_head_t *hd, const tl_allocator_t *a, uint32_t pr,
                             bool sums, const tl_run_t *prev, uint32_t n, tl_run_t **out) {
    uint32_t k = prev ? (uint32_t)prev->n : 0;
    tl_run_t *delta = NULL;
    tl_status_t st = tl_sort_to_run(a, pr, sums, hd->ts + k, hd->h + k, n - k, TL_SEQ_MAX,
                                    prev ? &delta : out);
    if (st != TL_OK || prev == NULL) return st;
    st = merge_two(a, pr, sums, (tl_run_t *)prev, delta, out);
    tl_run_unref(delta);
    return st;
}

tl_status_t tl_head_sorted(tl_head_t *hd, const tl_allocator_t *a, uint32_t page_records,
                           bool sums, uint32_t n, tl_run_t **out) {
    pthread_mutex_lock(&hd->sort_mu);
    tl_run_t *c = hd->sorted;
    if (c != NULL && c->n >= n) {
        bool hit = c->n == n; /* decided under the lock: c may go once unlocked */
        if (hit) tl_run_ref(c);
        pthread_mutex_unlock(&hd->sort_mu);
        if (hit) {
            *out = c;
            return TL_OK;
        }
        return sort_from(hd, a, page_records, sums, NULL, n, out);
    }
    tl_status_t st = sort_from(hd, a, page_records, sums, c, n, out);
    if (st == TL_OK) {
        tl_run_ref(*out);
        hd->sorted = *out;
    }
    pthread_mutex_unlock(&hd->sort_mu);
    if (st == TL_OK) tl_run_unref(c); /* the older prefix, replaced */
    return st;
}

tl_run_t *tl_head_cached(tl_head_t *hd, uint32_t n, uint32_t min) {
    /* The writer asks this: rather than wait for a sort in progress (the worker's, up to tens
     * of microseconds), it sorts the head itself. */
    if (pthread_mutex_trylock(&hd->sort_mu) != 0) return NULL;
    tl_run_t *c = hd->sorted;
    bool ok = c != NULL && c->n >= min && c->n <= n;
    if (ok) tl_run_ref(c);
    pthread_mutex_unlock(&hd->sort_mu);
    return ok ? c : NULL;
}

tl_status_t tl_head_runs(tl_head_t *hd, const tl_allocator_t *a, uint32_t page_records,
                         bool sums, uint32_t n, tl_run_t *out[2], uint32_t *k) {
    *k = 0;
    tl_run_t *c = tl_head_cached(hd, n, n / 2 > 0 ? n / 2 : 1);
    uint32_t from = c ? (uint32_t)c->n : 0;
    tl_run_t *rest = NULL;
    if (from < n) {
        tl_status_t st = tl_sort_to_run(a, page_records, sums, hd->ts + from, hd->h + from,
                                        n - from, TL_SEQ_MAX, &rest);
        if (st != TL_OK) {
            tl_run_unref(c);
            return st;
        }
    }
    if (c) out[(*k)++] = c;
    if (rest) out[(*k)++] = rest;
    return TL_OK;
}
