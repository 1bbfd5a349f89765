/*
 * memtable.c — generations of the mutable memtable: page directory, out-of-order head,
 * head runs and the seal into a memrun (the head sort is headsort.c's).
 *
 * Structure (see memtable.h): the active directory is allocated once per generation with a
 * fixed number of page slots, so the writer never reallocates an array a snapshot may be
 * reading; pages are allocated one at a time as records arrive. The head is a refcounted
 * buffer per head: once full it is sorted into an immutable run and replaced, and rewritten
 * only as a later head after its last reference is gone (the spare), so a snapshot that
 * captured (head, head_n) reads stable memory.
 *
 * Invariants: records [0, act_n) of the directory are non-decreasing; every head record is
 * < last at the time it was written; the first record of a generation goes to the directory
 * (last starts at INT64_MIN), so an empty generation is exactly act_n == 0.
 * Tie order inside a generation: directory, then head runs in creation order, then the head:
 * a record only enters the head when its ts < last, so for one ts every directory record was
 * written before every head record with that ts, and the sort is stable.
 *
 * Complexity: append O(1) amortised (one page allocation per page_records records); a full
 * head becomes one run (the part sorted ahead of the writer, its rest moving to the next head;
 * or the whole head sorted, headsort.h); seal O(pages + head_runs), records are not copied
 * except for the unsorted rest of the head.
 */
#include "memtable.h"

#include "headsort.h"

/* The directory, then per page slot: page pointer, min, max, summary, search table (8-byte
 * fields first, the 2-byte table last). */
static size_t active_bytes(uint32_t cap_pages) {
    return sizeof(tl_active_t) +
           (size_t)cap_pages * (sizeof(tl_page_t *) + 2 * sizeof(int64_t) + sizeof(uint64_t *) +
                                sizeof(tl_sum_t) + TL_TAB * sizeof(uint16_t));
}

tl_active_t *tl_active_new(const tl_allocator_t *a, uint32_t page_records, uint32_t active_max) {
    uint32_t cap_pages = (uint32_t)(((uint64_t)active_max + page_records - 1) / page_records);
    tl_active_t *d = tl_mem_alloc(a, active_bytes(cap_pages));
    if (d == NULL) return NULL;
    atomic_init(&d->refs, 1);
    d->cap_pages = cap_pages;
    d->npages = 0;
    d->page_records = page_records;
    d->fields.n = 0;
    d->fields.tabs = false;
    d->fields.min = (int64_t *)(void *)(d->pages + cap_pages);
    d->fields.max = d->fields.min + cap_pages;
    d->fields.h = (uint64_t **)(void *)(d->fields.max + cap_pages);
    d->fields.sum = (tl_sum_t *)(void *)(d->fields.h + cap_pages);
    d->fields.tab = (uint16_t *)(void *)(d->fields.sum + cap_pages);
    d->sealed = NULL;
    d->sealed_np = 0;
    d->alloc = a;
    return d;
}

/* Records full page i's fields for a seal's view (memtable.h), right after its table and
 * summary were built, while it is in cache. */
static void record_full(tl_active_t *d, uint32_t i) {
    const tl_page_t *p = d->pages[i];
    uint32_t pr = d->page_records;
    d->fields.min[i] = p->ts[0];
    d->fields.max[i] = p->ts[pr - 1];
    d->fields.h[i] = p->h;
    d->fields.tabs = p->tab != NULL; /* every page of the directory has the same capacity */
    uint16_t *tab = d->fields.tab + (size_t)i * TL_TAB;
    if (p->tab != NULL && p->tab_n == pr) memcpy(tab, p->tab, TL_TAB * sizeof *tab);
    else tab[0] = TL_RUN_TAB_NONE;
    const tl_sum_t *sum = tl_page_sum(p);
    if (sum != NULL && sum->n == pr) d->fields.sum[i] = *sum;
    else memset(&d->fields.sum[i], 0, sizeof d->fields.sum[i]);
    d->fields.n = i + 1;
}

void tl_active_ref(tl_active_t *d) { atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed); }

void tl_active_unref(tl_active_t *d) {
    if (d == NULL) return;
    uint32_t prev = atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev != 1) return;
    for (uint32_t i = d->sealed != NULL ? d->sealed_np : 0; i < d->npages; i++) {
        tl_page_unref(d->pages[i]);
    }
    tl_run_unref(d->sealed);
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
    h->presort_at = tl_head_quarter(h);
    h->home = NULL;
    if (pthread_mutex_init(&h->sort_mu, NULL) != 0) {
        tl_mem_free(a, h, head_bytes(cap));
        return NULL;
    }
    return h;
}

static void head_free(tl_head_t *h) {
    pthread_mutex_destroy(&h->sort_mu);
    tl_mem_free(h->alloc, h, head_bytes(h->cap));
}

void tl_head_ref(tl_head_t *h) { atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed); }

void tl_head_unref(tl_head_t *h) {
    if (h == NULL) return;
    uint32_t prev = atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev != 1) return;
    tl_run_unref(h->sorted); /* readers' sorted-view cache (snapshot.c) */
    h->sorted = NULL;
    /* Release: the writer that takes the spare sees the cleared cache. One spare at most. */
    tl_head_t *none = NULL;
    if (h->home != NULL &&
        atomic_compare_exchange_strong_explicit(h->home, &none, h, memory_order_release,
                                                memory_order_relaxed)) {
        return;
    }
    head_free(h);
}

tl_head_t *tl_mt_head_new(tl_memtable_t *mt) {
    tl_head_t *h = atomic_exchange_explicit(&mt->spare_head, NULL, memory_order_acquire);
    if (h != NULL) {
        atomic_store_explicit(&h->refs, 1, memory_order_relaxed);
        h->presort_at = tl_head_quarter(h);
        return h;
    }
    h = tl_head_new(mt->alloc, mt->head_max);
    if (h != NULL) h->home = &mt->spare_head;
    return h;
}

void tl_mt_drop_spare(tl_memtable_t *mt) {
    tl_head_t *h = atomic_exchange_explicit(&mt->spare_head, NULL, memory_order_acquire);
    if (h != NULL) head_free(h);
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
    atomic_init(&mt->spare_head, NULL);
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
    tl_mt_drop_spare(mt);
}

void tl_mt_sync_cursor(tl_memtable_t *mt) {
    uint32_t pr = mt->page_records;
    uint32_t idx = mt->act_n / pr;
    if (mt->act->fields.n > idx) mt->act->fields.n = idx; /* back into a recorded page */
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
        if (d->fields.n == idx - 1) record_full(d, idx - 1);
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

tl_status_t tl_active_seal_view(const tl_allocator_t *a, tl_active_t *d, uint32_t n, uint64_t wm,
                                tl_run_t **out) {
    TL_ASSERT(n >= 1 && d->sealed == NULL);
    *out = NULL;
    uint32_t pr = d->page_records;
    uint32_t np = (n + pr - 1) / pr;
    uint32_t *counts = tl_mem_alloc(a, (size_t)np * sizeof *counts);
    if (counts == NULL) return TL_ENOMEM;
    for (uint32_t i = 0; i < np; i++) counts[i] = (i + 1 < np) ? pr : n - i * pr;
    tl_page_known_t known = d->fields;
    if (known.n > n / pr) known.n = n / pr; /* full pages within the n records */
    tl_status_t st = tl_run_from_pages_as_is(a, d->pages, counts, np, wm, &known, true, out);
    tl_mem_free(a, counts, (size_t)np * sizeof *counts);
    if (st != TL_OK) return st;
    tl_run_ref(*out);
    d->sealed = *out;
    d->sealed_np = np;
    return TL_OK;
}

void tl_active_unseal(tl_active_t *d) {
    if (d->sealed == NULL) return;
    for (uint32_t i = 0; i < d->sealed_np; i++) tl_page_ref(d->pages[i]);
    tl_run_unref(d->sealed); /* drops its references unless a memrun still holds it */
    d->sealed = NULL;
    d->sealed_np = 0;
}

/* Why the rest moves instead of being sorted: the head change was the slowest regular call on
 * users' shape (calls of 1,000 records, 5% up to 10,000 late: a head change every ~40 calls,
 * 2% of them, so they set the p99). Sorting the ~450 records after the cached sort into a run
 * of its own cost the writer 9-23 us there (a fresh page, its table and summary, written cold),
 * on a call's median of 10-12; copying them into the next head costs ~1 us, and the head
 * leaves one run instead of two (fewer for readers and flushes to merge, and for runs_max).
 * Order holds: the moved records arrived after the cached ones and before the next head's,
 * and the live head ranks after every head run. */
tl_status_t tl_mt_head_to_run(tl_memtable_t *mt, tl_vec_t **runs_out, tl_head_t **head_out,
                              uint32_t *carried) {
    *runs_out = NULL;
    *head_out = NULL;
    *carried = 0;
    tl_head_t *hd = mt->head;
    uint32_t n = mt->head_n;
    tl_run_t *r[2] = {NULL, NULL};
    uint32_t k = 0, from = 0;
    tl_run_t *c = tl_head_cached(hd, n, (n + 1) / 2);
    tl_status_t st = TL_OK;
    if (c != NULL) {
        r[k++] = c;
        from = (uint32_t)c->n;
    } else {
        st = tl_head_runs(hd, mt->alloc, mt->page_records, mt->sums, n, r, &k);
        if (st != TL_OK) return st;
        from = n;
    }
    tl_head_t *nh = tl_mt_head_new(mt);
    if (nh == NULL) st = TL_ENOMEM;
    else st = tl_vec_append(mt->head_runs, mt->alloc, TL_VEC_RUNS, (void *const *)r, k, runs_out);
    for (uint32_t i = 0; i < k; i++) tl_run_unref(r[i]); /* the vector holds its own */
    if (st != TL_OK) {
        tl_head_unref(nh);
        return st;
    }
    memcpy(nh->ts, hd->ts + from, (size_t)(n - from) * sizeof *nh->ts);
    memcpy(nh->h, hd->h + from, (size_t)(n - from) * sizeof *nh->h);
    *head_out = nh;
    *carried = n - from;
    return TL_OK;
}

tl_status_t tl_mt_build_memrun(tl_memtable_t *mt, uint64_t wm, tl_vec_t **out) {
    *out = NULL;
    if (tl_mt_empty(mt)) return TL_OK;
    uint32_t nhr = tl_vec_len(mt->head_runs);
    /* The live head as one or two sorted runs (headsort.h: what the cache already holds). */
    tl_run_t *hr[2] = {NULL, NULL};
    uint32_t nh = 0;
    tl_status_t st = TL_OK;
    if (mt->head_n > 0) {
        st = tl_head_runs(mt->head, mt->alloc, mt->page_records, mt->sums, mt->head_n, hr, &nh);
        if (st != TL_OK) return st;
    }
    uint32_t n = 1 + nhr + nh;
    tl_vec_t *v = tl_vec_new(mt->alloc, TL_VEC_RUNS, n);
    if (v == NULL) st = TL_ENOMEM;
    tl_run_t *r = NULL;
    if (st == TL_OK) st = tl_active_seal_view(mt->alloc, mt->act, mt->act_n, wm, &r);
    if (st == TL_OK) v->v[0] = r;
    for (uint32_t i = 0; st == TL_OK && i < nhr; i++) {
        st = tl_run_rewrap(mt->alloc, tl_vec_run(mt->head_runs, i), wm, &r);
        if (st == TL_OK) v->v[1 + i] = r;
    }
    for (uint32_t i = 0; st == TL_OK && i < nh; i++) {
        st = tl_run_rewrap(mt->alloc, hr[i], wm, &r);
        if (st == TL_OK) v->v[1 + nhr + i] = r;
    }
    for (uint32_t i = 0; i < nh; i++) tl_run_unref(hr[i]);
    if (st != TL_OK) {
        tl_vec_unref(v); /* unrefs the slots filled so far (NULL slots are skipped; NULL ok) */
        tl_active_unseal(mt->act);
        return st;
    }
    *out = v;
    return TL_OK;
}
