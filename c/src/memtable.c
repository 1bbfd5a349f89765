/*
 * memtable.c — generations of the mutable memtable: page directory, out-of-order head,
 * head runs, the stable head sort and the seal into a memrun.
 *
 * Structure (see memtable.h): the active directory is allocated once per generation with a
 * fixed number of page slots, so the writer never reallocates an array a snapshot may be
 * reading; pages are allocated one at a time as records arrive. The head is a fresh
 * refcounted buffer per head: once full it is sorted into an immutable run and replaced,
 * never rewritten, so a snapshot that captured (head, head_n) reads stable memory.
 *
 * Invariants: records [0, act_n) of the directory are non-decreasing; every head record is
 * < last at the time it was written; the first record of a generation goes to the directory
 * (last starts at INT64_MIN), so an empty generation is exactly act_n == 0.
 * Tie order inside a generation: directory, then head runs in creation order, then the head:
 * a record only enters the head when its ts < last, so for one ts every directory record was
 * written before every head record with that ts, and the sort is stable.
 *
 * Complexity: append O(1) amortised (one page allocation per page_records records); head sort
 * O(h * key bits / 11) (stable LSD radix on ts - min over the bits the range needs, a record
 * packed with its index in one 8-byte word when both fit); seal O(pages + head_runs), records
 * are not copied except for the last unsorted head.
 */
#include "memtable.h"

#include "radix.h"

#define SORT_BLOCK 32u

typedef struct rec {
    int64_t ts;
    uint64_t h;
} rec_t;

static size_t active_bytes(uint32_t cap_pages) {
    return sizeof(tl_active_t) + (size_t)cap_pages * sizeof(tl_page_t *);
}

tl_active_t *tl_active_new(const tl_allocator_t *a, uint32_t page_records, uint32_t active_max) {
    uint32_t cap_pages = (uint32_t)(((uint64_t)active_max + page_records - 1) / page_records);
    tl_active_t *d = tl_mem_alloc(a, active_bytes(cap_pages));
    if (d == NULL) return NULL;
    atomic_init(&d->refs, 1);
    d->cap_pages = cap_pages;
    d->npages = 0;
    d->page_records = page_records;
    d->alloc = a;
    return d;
}

void tl_active_ref(tl_active_t *d) { atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed); }

void tl_active_unref(tl_active_t *d) {
    if (d == NULL) return;
    uint32_t prev = atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev != 1) return;
    for (uint32_t i = 0; i < d->npages; i++) tl_page_unref(d->pages[i]);
    tl_mem_free(d->alloc, d, active_bytes(d->cap_pages));
}

static size_t head_bytes(uint32_t cap) { return sizeof(tl_head_t) + (size_t)cap * 16u; }

tl_head_t *tl_head_new(const tl_allocator_t *a, uint32_t cap) {
    tl_head_t *h = tl_mem_alloc(a, head_bytes(cap));
    if (h == NULL) return NULL;
    atomic_init(&h->refs, 1);
    h->cap = cap;
    h->alloc = a;
    h->ts = (int64_t *)(void *)(h + 1);
    h->h = (uint64_t *)(void *)(h->ts + cap);
    h->sorted = NULL;
    if (pthread_mutex_init(&h->sort_mu, NULL) != 0) {
        tl_mem_free(a, h, head_bytes(cap));
        return NULL;
    }
    return h;
}

void tl_head_ref(tl_head_t *h) { atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed); }

void tl_head_unref(tl_head_t *h) {
    if (h == NULL) return;
    uint32_t prev = atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev != 1) return;
    tl_run_unref(h->sorted); /* readers' sorted-view cache (snapshot.c) */
    pthread_mutex_destroy(&h->sort_mu);
    tl_mem_free(h->alloc, h, head_bytes(h->cap));
}

tl_status_t tl_mt_init(tl_memtable_t *mt, const tl_allocator_t *a, uint32_t page_records,
                       uint32_t active_max, uint32_t head_max, uint32_t runs_max, bool sums) {
    memset(mt, 0, sizeof *mt);
    mt->alloc = a;
    mt->sums = sums;
    mt->page_records = page_records;
    mt->active_max = active_max;
    mt->head_max = head_max;
    mt->runs_max = runs_max;
    mt->last = INT64_MIN;
    mt->ooo_min = INT64_MAX;
    atomic_init(&mt->pub, 0);
    mt->act = tl_active_new(a, page_records, active_max);
    return mt->act ? TL_OK : TL_ENOMEM;
}

void tl_mt_destroy(tl_memtable_t *mt) {
    tl_active_unref(mt->act);
    tl_head_unref(mt->head);
    tl_vec_unref(mt->head_runs);
    mt->act = NULL;
    mt->head = NULL;
    mt->head_runs = NULL;
}

void tl_mt_sync_cursor(tl_memtable_t *mt) {
    uint32_t pr = mt->page_records;
    uint32_t idx = mt->act_n / pr;
    if (mt->act_n == mt->active_max || idx >= mt->act->npages) {
        mt->cur = NULL;
        mt->cur_off = mt->cur_cap = 0;
        return;
    }
    uint64_t room = (uint64_t)mt->active_max - (uint64_t)idx * pr;
    mt->cur = mt->act->pages[idx];
    mt->cur_off = mt->act_n - idx * pr;
    mt->cur_cap = room < pr ? (uint32_t)room : pr;
    if (mt->cur_off >= mt->cur_cap) {
        mt->cur = NULL;
        mt->cur_off = mt->cur_cap = 0;
    }
}

tl_status_t tl_mt_reserve_page(tl_memtable_t *mt) {
    if (mt->act_n >= mt->active_max) return TL_EOF;
    uint32_t idx = mt->act_n / mt->page_records;
    tl_active_t *d = mt->act;
    if (idx > 0 && idx <= d->npages) {
        /* The page before is full and its records were just written: build its search
         * table now, while they are in cache (a write into it later clears the table). */
        tl_page_t *full = d->pages[idx - 1];
        if (full->tab != NULL && full->tab_n != mt->page_records) {
            tl_page_tab_build(full, mt->page_records);
        }
        if (mt->sums && full->sum_n != mt->page_records) tl_page_sum_build(full, mt->page_records);
    }
    if (idx >= d->npages) {
        TL_ASSERT(idx == d->npages && idx < d->cap_pages);
        tl_page_t *p = tl_page_new(mt->alloc, mt->page_records);
        if (p == NULL) return TL_ENOMEM;
        d->pages[idx] = p; /* published to readers by the next release store of pub */
        d->npages++;
    }
    tl_mt_sync_cursor(mt);
    TL_ASSERT(mt->cur != NULL);
    return TL_OK;
}

tl_status_t tl_mt_append_sorted(tl_memtable_t *mt, const int64_t *ts, const uint64_t *h,
                                size_t n, size_t *taken) {
    size_t done = 0;
    while (done < n) {
        if (mt->cur_off >= mt->cur_cap) {
            tl_status_t st = tl_mt_reserve_page(mt);
            if (st == TL_EOF) break;
            if (st != TL_OK) {
                *taken = done;
                return st;
            }
        }
        size_t k = mt->cur_cap - mt->cur_off;
        if (k > n - done) k = n - done;
        mt->cur->tab_n = 0; /* the page changes: a table built at a rolled-back seal is stale */
        mt->cur->sum_n = 0; /* and so is a summary */
        memcpy(mt->cur->ts + mt->cur_off, ts + done, k * sizeof *ts);
        memcpy(mt->cur->h + mt->cur_off, h + done, k * sizeof *h);
        mt->cur_off += (uint32_t)k;
        mt->act_n += (uint32_t)k;
        done += k;
        mt->last = ts[done - 1];
    }
    *taken = done;
    return TL_OK;
}

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
    uint32_t pr = n < page_records ? (uint32_t)n : page_records;
    tl_run_builder_t b;
    tl_rb_init(&b, a, pr);
    b.sums = sums;
    int64_t lo, hi;
    if (scan_keys(ts, n, &lo, &hi)) {
        tl_rb_push_many(&b, ts, h, n);
        return tl_rb_finish(&b, wm, out);
    }
    unsigned rb = 64u - (unsigned)__builtin_clzll((uint64_t)hi - (uint64_t)lo); /* hi > lo */
    unsigned ib = 64u - (unsigned)__builtin_clzll((uint64_t)n - 1); /* n >= 2 */
    if (n > SORT_BLOCK && rb + ib <= 64 && n <= SIZE_MAX / (2 * sizeof(uint64_t))) {
        uint64_t *w = tl_mem_alloc(a, 2 * n * sizeof *w);
        if (w == NULL) {
            tl_rb_abort(&b);
            return TL_ENOMEM;
        }
        sort_packed(&b, w, ts, h, n, lo, rb, ib);
        tl_mem_free(a, w, 2 * n * sizeof *w);
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

tl_status_t tl_active_view(const tl_allocator_t *a, const tl_active_t *d, uint32_t n, uint64_t wm,
                           tl_run_t **out) {
    *out = NULL;
    if (n == 0) return TL_OK;
    uint32_t pr = d->page_records;
    uint32_t np = (n + pr - 1) / pr;
    uint32_t *counts = tl_mem_alloc(a, (size_t)np * sizeof *counts);
    if (counts == NULL) return TL_ENOMEM;
    for (uint32_t i = 0; i < np; i++) counts[i] = (i + 1 < np) ? pr : n - i * pr;
    tl_status_t st = tl_run_from_pages_as_is(a, d->pages, counts, np, wm, out);
    tl_mem_free(a, counts, (size_t)np * sizeof *counts);
    return st;
}

tl_status_t tl_mt_head_to_run(const tl_memtable_t *mt, tl_vec_t **runs_out,
                              tl_head_t **head_out) {
    tl_run_t *r = NULL;
    *runs_out = NULL;
    *head_out = NULL;
    tl_status_t st = tl_sort_to_run(mt->alloc, mt->page_records, mt->sums, mt->head->ts,
                                    mt->head->h, mt->head_n, TL_SEQ_MAX, &r);
    if (st != TL_OK) return st;
    tl_head_t *nh = tl_head_new(mt->alloc, mt->head_max);
    if (nh == NULL) {
        tl_run_unref(r);
        return TL_ENOMEM;
    }
    st = tl_vec_push(mt->head_runs, mt->alloc, TL_VEC_RUNS, r, runs_out);
    tl_run_unref(r); /* the vector holds its own reference */
    if (st != TL_OK) {
        tl_head_unref(nh);
        return st;
    }
    *head_out = nh;
    return TL_OK;
}

tl_status_t tl_mt_build_memrun(const tl_memtable_t *mt, uint64_t wm, tl_vec_t **out) {
    *out = NULL;
    if (tl_mt_empty(mt)) return TL_OK;
    uint32_t nhr = tl_vec_len(mt->head_runs);
    uint32_t n = 1 + nhr + (mt->head_n > 0 ? 1u : 0u);
    tl_vec_t *v = tl_vec_new(mt->alloc, TL_VEC_RUNS, n);
    if (v == NULL) return TL_ENOMEM;
    tl_run_t *r = NULL;
    tl_status_t st = tl_active_view(mt->alloc, mt->act, mt->act_n, wm, &r);
    v->v[0] = r;
    for (uint32_t i = 0; st == TL_OK && i < nhr; i++) {
        st = tl_run_rewrap(mt->alloc, tl_vec_run(mt->head_runs, i), wm, &r);
        if (st == TL_OK) v->v[1 + i] = r;
    }
    if (st == TL_OK && mt->head_n > 0) {
        st = tl_sort_to_run(mt->alloc, mt->page_records, mt->sums, mt->head->ts, mt->head->h,
                            mt->head_n, wm, &r);
        if (st == TL_OK) v->v[n - 1] = r;
    }
    if (st != TL_OK) {
        tl_vec_unref(v); /* unrefs the slots filled so far (NULL slots are skipped) */
        return st;
    }
    *out = v;
    return TL_OK;
}
