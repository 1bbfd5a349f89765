/*
 * memtable.h — the mutable part of the log: one generation at a time.
 *
 * A generation is what accumulates between two seals:
 *   act        in-order page directory (fixed capacity for active_max records, pages
 *              allocated as they fill); records with ts >= last;
 *   head       unsorted out-of-order buffer (records with ts < last); a new buffer per head,
 *              refcounted, rewritten only after its last reference is gone (the spare);
 *   head_runs  immutable vector of sorted runs made from full heads (one per head, at most
 *              two), in creation order.
 * The writer appends without a lock and publishes (act_n, head_n) with one release store of
 * a packed 64-bit word, so a snapshot always sees a prefix of the writes. Pointers (act, head,
 * head_runs) change only under the log's state_mu, which snapshot acquisition also takes.
 */
#ifndef TL_MEMTABLE_H
#define TL_MEMTABLE_H

#include <pthread.h>

#include "manifest.h"

typedef struct tl_active {
    _Atomic uint32_t refs;
    uint32_t cap_pages; /* directory capacity */
    uint32_t npages; /* pages allocated so far (writer only) */
    uint32_t page_records;
    /* What a seal's view needs of each full page (fences, handle column, search table, summary),
     * recorded by the writer as the page fills and is still in cache (tl_mt_reserve_page) for
     * pages [0, fields.n): the seal then copies these arrays instead of reading each of the
     * directory's 64 pages cold, 11-18 us of a seal on the writer's thread (users' shape).
     * Writer only; cap_pages entries each, in the same allocation. A rollback that moves the
     * writer back into a recorded page lowers fields.n (tl_mt_sync_cursor). */
    tl_page_known_t fields;
    /* Set by the seal (tl_active_seal_view): the memrun's active run, which took over this
     * directory's references on pages [0, sealed_np); the directory holds a reference on it
     * instead, so its readers' pages stay alive, and gives back one reference at its end
     * rather than one a page. NULL while the directory is live. */
    tl_run_t *sealed;
    uint32_t sealed_np;
    const tl_allocator_t *alloc;
    tl_page_t *pages[]; /* cap_pages slots; the first npages hold a page reference (those
                           below sealed_np through `sealed`) */
} tl_active_t;

typedef struct tl_head {
    _Atomic uint32_t refs;
    uint32_t cap;
    const tl_allocator_t *alloc;
    int64_t *ts; /* cap, same allocation */
    uint64_t *h; /* cap, same allocation */
    /* Sorted-view cache, filled by readers (snapshot.c): the stable sort of the first
     * sorted->n records, shared by every snapshot that pins that count, so fresh snapshots do
     * not re-sort the head. sort_mu guards `sorted` (and serializes its build, so one count
     * is sorted once). The head holds one reference on it; released with the head. */
    pthread_mutex_t sort_mu;
    tl_run_t *sorted; /* NULL or the newest sorted prefix built so far */
    uint32_t presort_at; /* writer only: head_n at which maintenance is next asked to sort */
    /* Where the last unref parks the buffer for the next head (its memtable's spare_head),
     * or NULL: freed then. */
    _Atomic(struct tl_head *) *home;
} tl_head_t;

/* The step of the writer's asks to sort a head ahead (write.c): a quarter of it, at least 1. */
static inline uint32_t tl_head_quarter(const tl_head_t *h) {
    return h->cap / 4 > 0 ? h->cap / 4 : 1;
}

typedef struct tl_memtable {
    const tl_allocator_t *alloc;
    uint32_t page_records, active_max, head_max, runs_max;
    bool sums; /* values are doubles: full pages and sorted runs get value summaries */
    tl_active_t *act; /* never NULL while open */
    tl_head_t *head; /* NULL until the first out-of-order record of a head */
    tl_vec_t *head_runs; /* NULL = none */
    /* A head buffer nobody references any more, kept for the next head: a new 32 KB buffer
     * is faulted in by the writer's first stores into it, which were most of the writer's
     * page faults on the bench data (C, paced). Set by the last unref (any thread), taken by
     * the writer; freed by tl_mt_drop_spare. */
    _Atomic(tl_head_t *) spare_head;
    _Atomic uint64_t pub; /* (act_n << 32) | head_n, published by the writer */
    /* writer-private */
    uint32_t act_n, head_n;
    int64_t last; /* newest in-order ts; INT64_MIN at generation start */
    int64_t ooo_min; /* smallest ts in head + head_runs (INT64_MAX when none) */
    tl_page_t *cur; /* active page holding record act_n, or NULL */
    uint32_t cur_off, cur_cap; /* next slot in cur / usable slots of cur (0 when cur NULL) */
} tl_memtable_t;

/* Generation bounds: empty iff act_n == 0 (the first record of a generation is in order). */
static inline bool tl_mt_empty(const tl_memtable_t *mt) { return mt->act_n == 0; }
static inline int64_t tl_mt_min(const tl_memtable_t *mt) {
    int64_t first = mt->act->pages[0]->ts[0];
    return mt->ooo_min < first ? mt->ooo_min : first;
}
static inline int64_t tl_mt_max(const tl_memtable_t *mt) { return mt->last; }

/* The per-record fast paths; false means "take the slow path" (new page / head full). */
static inline bool tl_mt_push_active(tl_memtable_t *mt, int64_t ts, uint64_t h) {
    if (TL_UNLIKELY(mt->cur_off >= mt->cur_cap)) return false;
    mt->cur->tab_n = 0; /* as in tl_mt_append_sorted; same line as cur->ts, so ~free */
    mt->cur->sum_n = 0;
    mt->cur->ts[mt->cur_off] = ts;
    mt->cur->h[mt->cur_off] = h;
    mt->cur_off++;
    mt->act_n++;
    mt->last = ts;
    return true;
}
static inline bool tl_mt_push_head(tl_memtable_t *mt, int64_t ts, uint64_t h) {
    if (TL_UNLIKELY(mt->head == NULL || mt->head_n >= mt->head_max)) return false;
    mt->head->ts[mt->head_n] = ts;
    mt->head->h[mt->head_n] = h;
    mt->head_n++;
    if (ts < mt->ooo_min) mt->ooo_min = ts;
    return true;
}

/* Re-derives cur/cur_off/cur_cap from act_n (after a rollback or a new generation). */
void tl_mt_sync_cursor(tl_memtable_t *mt);

static inline uint64_t tl_mt_pack(uint32_t act_n, uint32_t head_n) {
    return ((uint64_t)act_n << 32) | head_n;
}
static inline void tl_mt_publish(tl_memtable_t *mt) {
    atomic_store_explicit(&mt->pub, tl_mt_pack(mt->act_n, mt->head_n), memory_order_release);
}

/* sums: the values are doubles, so pages get value summaries as they fill (summary.h). */
tl_status_t tl_mt_init(tl_memtable_t *mt, const tl_allocator_t *a, uint32_t page_records,
                       uint32_t active_max, uint32_t head_max, uint32_t runs_max, bool sums);
/* Releases the generation and frees the spare head; idempotent. */
void tl_mt_destroy(tl_memtable_t *mt);
/* Frees the spare head buffer, if any (memory back when the log goes idle). Any thread. */
void tl_mt_drop_spare(tl_memtable_t *mt);
/* A head buffer for mt: the spare when there is one, else a new one. NULL on ENOMEM. */
tl_head_t *tl_mt_head_new(tl_memtable_t *mt);

tl_active_t *tl_active_new(const tl_allocator_t *a, uint32_t page_records, uint32_t active_max);
void tl_active_ref(tl_active_t *d);
void tl_active_unref(tl_active_t *d); /* accepts NULL */
/* A head with no home: freed by its last unref. */
tl_head_t *tl_head_new(const tl_allocator_t *a, uint32_t cap);
void tl_head_ref(tl_head_t *h);
void tl_head_unref(tl_head_t *h); /* accepts NULL */

/* Records of the generation (writer view). */
static inline uint64_t tl_mt_records(const tl_memtable_t *mt) {
    uint64_t n = (uint64_t)mt->act_n + mt->head_n;
    for (uint32_t i = 0; i < tl_vec_len(mt->head_runs); i++) n += tl_vec_run(mt->head_runs, i)->n;
    return n;
}

/* Makes the page for record act_n current, allocating it if needed (writer). EOF when the
 * directory is full (seal first), ENOMEM. */
tl_status_t tl_mt_reserve_page(tl_memtable_t *mt);

/* Appends sorted records with ts[0] >= last into the active directory, page by page, up to
 * the directory capacity. *taken = records appended. ENOMEM (taken may be > 0). */
tl_status_t tl_mt_append_sorted(tl_memtable_t *mt, const int64_t *ts, const uint64_t *h,
                                size_t n, size_t *taken);

/* The full head as a new head_runs vector and the next head buffer (tl_mt_head_new), whose
 * first *carried records are the full head's last ones: when the head's cached sort covers at
 * least half of it, that sort becomes the head's one run (wm TL_SEQ_MAX) and the records after
 * it move, unsorted, into the next head; otherwise the head is sorted into runs (one or two,
 * headsort.h) and nothing moves. Outputs only: the caller swaps them in under state_mu.
 * ENOMEM. */
tl_status_t tl_mt_head_to_run(tl_memtable_t *mt, tl_vec_t **runs_out, tl_head_t **head_out,
                              uint32_t *carried);

/* Builds the memrun of the current generation: active run (tl_active_seal_view: the
 * directory is sealed), head runs, sorted head, all with watermark wm. *out = NULL when the
 * generation is empty. ENOMEM (the directory left unsealed). */
tl_status_t tl_mt_build_memrun(tl_memtable_t *mt, uint64_t wm, tl_vec_t **out);

/* The seal's run over the first n >= 1 records of an active directory, from the fields its
 * writer recorded (tl_active_t.fields): the run takes over the directory's page references
 * (tl_active_t.sealed), so neither touches a page. The directory must not be written after,
 * unless tl_active_unseal undoes it first (a seal rolled back). ENOMEM (nothing changed). */
tl_status_t tl_active_seal_view(const tl_allocator_t *a, tl_active_t *d, uint32_t n, uint64_t wm,
                                tl_run_t **out);
/* Gives the directory its page references back from the run of a seal that did not happen
 * (or was rolled back); no-op when not sealed. */
void tl_active_unseal(tl_active_t *d);

#endif /* TL_MEMTABLE_H */
