/*
 * snapshot.c — snapshots, iterators and point queries.
 *
 * Acquire is O(1) under state_mu: references on the manifest, the active directory (with
 * the published record count), the head buffer (with its count) and the head_runs vector,
 * plus one on the log object (so tl_close with live snapshots is safe). No record is copied.
 *
 * The read plan (ranked sources for merge.h / query.c) is built lazily on the first read:
 * the active part becomes a borrowed run view over the pinned directory pages (no copy, no
 * page reference: the directory keeps them alive while the snapshot pins it), and the
 * unsorted head prefix comes sorted from the head's shared cache (headsort.h: built once per
 * head count by whichever thread needs it first, extended incrementally after appends; a
 * snapshot older than the cache sorts privately).
 * Ranks follow the tie order: L1 chain (one source: its windows are disjoint and ascending)
 * < L0 in flush order < memruns in seal order (each memrun: active run, head runs, sorted
 * head) < current generation (active view, head runs, sorted head). Mutable parts carry
 * wm = TL_SEQ_MAX.
 *
 * Iterators: one block holds the iterator header and its merge (tl_merge_init); a destroyed
 * iterator's block is kept as the snapshot's spare and reused by the next one, so repeated
 * lookups on one snapshot do not allocate. A single-timestamp range (equal, or any lo == hi)
 * reads through the point cursor of point.c instead of a merge.
 *
 * Threading: a snapshot (and its iterators) is used by one thread at a time, so the lazy plan
 * and the spare block need no lock; the head cache is shared across threads (sort_mu).
 * Complexity: acquire O(1); plan O(sources + active pages) plus, once per head count, a sort
 * of the head records added since the cached count and a linear merge; count/min/max/next/prev
 * O(K log P) (query.c).
 */
#include "headsort.h"
#include "merge.h"
#include "timelog_int.h"

struct tl_snapshot {
    tl_timelog_t *tl;
    const tl_allocator_t *alloc;
    tl_manifest_t *man;
    tl_active_t *act;
    tl_head_t *head;
    tl_vec_t *head_runs;
    uint32_t act_n, head_n;
    uint32_t iters; /* live iterators */
    bool planned;
    void *spare; /* one destroyed iterator block kept for the next iterator (or NULL) */
    size_t spare_bytes;
    tl_run_t *act_run, *head_run; /* snapshot-private views */
    tl_run_t **runs; /* every run, in source order (the L1 windows first) */
    tl_source_t *srcs; /* in the same allocation as runs[] */
    uint32_t nruns; /* capacity of runs[] and srcs[] */
    uint32_t nsrc; /* sources in use */
    uint64_t seq;
    uint64_t pubv, sver; /* mt.pub and tl->sver at acquisition: the state this view shows */
    tl_stats_t ctr; /* counters at acquisition */
};

struct tl_iter {
    tl_snapshot_t *s;
    tl_merge_t *m; /* NULL for an empty or point iterator; else built right after the header */
    size_t bytes; /* the block: header (ITER_HDR) + merge */
    bool eof;
    bool point; /* lo == hi: read through pt (point.c), no merge */
    bool rev; /* TL_READ_REVERSE: rm (or the point cursor backwards) instead of m */
    tl_rmerge_t *rm; /* the reverse merge, built right after the header; NULL otherwise */
    tl_point_t pt;
    bool direct; /* a forward range one chain holds with nothing hidden: read through dc */
    tl_direct_t dc;
};

/* The iterator header rounded up so the merge that follows it is aligned. */
#define ITER_HDR ((sizeof(struct tl_iter) + 15u) & ~(size_t)15u)

static void copy_counters(const tl_timelog_t *tl, tl_stats_t *o) {
    o->seals_total = atomic_load_explicit(&tl->ctr.seals, memory_order_relaxed);
    o->flushes_total = atomic_load_explicit(&tl->ctr.flushes, memory_order_relaxed);
    o->compactions_total = atomic_load_explicit(&tl->ctr.compactions, memory_order_relaxed);
    o->pages_rewritten_total = atomic_load_explicit(&tl->ctr.pages_rewritten,
                                                    memory_order_relaxed);
    o->pages_shared_total = atomic_load_explicit(&tl->ctr.pages_shared, memory_order_relaxed);
    o->busy_total = atomic_load_explicit(&tl->ctr.busy, memory_order_relaxed);
    o->dropped_total = atomic_load_explicit(&tl->ctr.dropped, memory_order_relaxed);
    o->maint_errors_total = atomic_load_explicit(&tl->ctr.maint_errors, memory_order_relaxed);
    o->idle_jobs_total = atomic_load_explicit(&tl->ctr.idle_jobs, memory_order_relaxed);
}

tl_status_t tl_snapshot_acquire(tl_timelog_t *tl, tl_snapshot_t **out) {
    if (tl == NULL || out == NULL) return TL_EINVAL;
    *out = NULL;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) return TL_ESTATE;
    tl_snapshot_t *s = tl_mem_calloc(tl->alloc, 1, sizeof *s);
    if (s == NULL) return TL_ENOMEM;
    s->tl = tl;
    s->alloc = tl->alloc;
    pthread_mutex_lock(&tl->state_mu);
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) {
        pthread_mutex_unlock(&tl->state_mu);
        tl_mem_free(tl->alloc, s, sizeof *s);
        return TL_ESTATE;
    }
    s->man = tl->man;
    tl_manifest_ref(s->man);
    uint64_t pub = atomic_load_explicit(&tl->mt.pub, memory_order_acquire);
    s->pubv = pub;
    s->sver = atomic_load_explicit(&tl->sver, memory_order_relaxed); /* stable: state_mu */
    s->act_n = (uint32_t)(pub >> 32);
    s->head_n = (uint32_t)pub;
    s->act = tl->mt.act;
    tl_active_ref(s->act);
    s->head = tl->mt.head;
    if (s->head) tl_head_ref(s->head);
    else s->head_n = 0;
    s->head_runs = tl->mt.head_runs;
    if (s->head_runs) tl_vec_ref(s->head_runs);
    atomic_fetch_add_explicit(&tl->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&tl->state_mu);
    s->seq = atomic_load_explicit(&tl->seq_pub, memory_order_relaxed);
    copy_counters(tl, &s->ctr);
    *out = s;
    return TL_OK;
}

static size_t plan_bytes(uint32_t nruns) {
    return (size_t)nruns * (sizeof(tl_run_t *) + sizeof(tl_source_t));
}

static void plan_free(tl_snapshot_t *s) {
    tl_run_unref(s->act_run);
    tl_run_unref(s->head_run);
    if (s->runs != NULL) tl_mem_free(s->alloc, s->runs, plan_bytes(s->nruns));
    s->act_run = s->head_run = NULL;
    s->runs = NULL;
    s->srcs = NULL;
    s->planned = false;
}

void tl_snapshot_release(tl_snapshot_t *s) {
    if (s == NULL) return;
    TL_ASSERT(s->iters == 0); /* iterators must be destroyed first */
    tl_timelog_t *tl = s->tl;
    if (s->planned) plan_free(s);
    if (s->spare != NULL) tl_mem_free(s->alloc, s->spare, s->spare_bytes);
    tl_manifest_unref(s->man);
    tl_active_unref(s->act);
    tl_head_unref(s->head);
    tl_vec_unref(s->head_runs);
    tl_mem_free(s->alloc, s, sizeof *s);
    tl_log_unref(tl);
}

/* ---------------------------------------------------------------------------------------------
 * The read view of one-call reads (timelog_int.h)
 * ------------------------------------------------------------------------------------------- */

/* True when the log still shows the state a view with these stamps pinned. A write in
 * progress that has not published yet leaves both stamps unchanged: the read then orders
 * before that write, as it would have with a fresh snapshot. */
static bool view_current(tl_timelog_t *tl, uint64_t pubv, uint64_t sver) {
    return pubv == atomic_load_explicit(&tl->mt.pub, memory_order_acquire) &&
           sver == atomic_load_explicit(&tl->sver, memory_order_acquire);
}

tl_status_t tl_view_take(tl_timelog_t *tl, tl_snapshot_t **out) {
    if (tl == NULL || out == NULL) return TL_EINVAL;
    tl_snapshot_t *s = atomic_exchange_explicit(&tl->view, NULL, memory_order_acquire);
    if (s != NULL) {
        if (view_current(tl, s->pubv, s->sver)) {
            *out = s;
            return TL_OK;
        }
        tl_snapshot_release(s);
    }
    return tl_snapshot_acquire(tl, out);
}

void tl_view_put(tl_timelog_t *tl, tl_snapshot_t *s) {
    if (s == NULL) return;
    uint64_t pubv = s->pubv, sver = s->sver;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed) || !view_current(tl, pubv, sver)) {
        tl_snapshot_release(s);
        return;
    }
    tl_snapshot_release(atomic_exchange_explicit(&tl->view, s, memory_order_acq_rel));
    /* A publish between the check and the exchange dropped the kept view before s was
     * kept: s may be stale already. Do not touch s (another reader may own it now): compare
     * the stamps taken above, and drop whatever is kept when they moved. */
    if (!view_current(tl, pubv, sver)) tl_view_drop(tl);
}

void tl_view_drop(tl_timelog_t *tl) {
    tl_snapshot_release(atomic_exchange_explicit(&tl->view, NULL, memory_order_acq_rel));
}

/* Appends the runs of v as single-run sources. */
static void add_each(tl_snapshot_t *s, const tl_vec_t *v, uint32_t *nr) {
    for (uint32_t i = 0; i < tl_vec_len(v); i++) {
        s->runs[*nr] = tl_vec_run(v, i);
        s->srcs[s->nsrc] = (tl_source_t){&s->runs[*nr], 1, s->nsrc, false};
        s->nsrc++;
        (*nr)++;
    }
}

static void add_one(tl_snapshot_t *s, tl_run_t *r, uint32_t *nr) {
    if (r == NULL) return;
    s->runs[*nr] = r;
    s->srcs[s->nsrc] = (tl_source_t){&s->runs[*nr], 1, s->nsrc, false};
    s->nsrc++;
    (*nr)++;
}

static tl_status_t plan(tl_snapshot_t *s) {
    if (s->planned) return TL_OK;
    const tl_manifest_t *m = s->man;
    tl_status_t st = TL_OK;
    if (s->act_n > 0) {
        /* The snapshot pins the directory, which holds its pages: a borrowed view. */
        st = tl_run_view_borrowed(s->alloc, s->act->pages, s->act->page_records, s->act_n,
                                  TL_SEQ_MAX, &s->act_run);
    }
    if (st == TL_OK && s->head_n > 0) {
        /* A view lives for one read: a sort built here gets no value summaries. */
        st = tl_head_sorted(s->head, s->alloc, s->tl->cfg.page_records, false, s->head_n,
                            &s->head_run);
    }
    uint32_t n = tl_vec_len(m->l1) + tl_vec_len(m->l0) + tl_vec_len(s->head_runs) + 2;
    for (uint32_t i = 0; i < tl_vec_len(m->mem); i++) n += tl_vec_len(tl_vec_vec(m->mem, i));
    s->nruns = n;
    s->nsrc = 0;
    if (st == TL_OK) {
        s->runs = tl_mem_alloc(s->alloc, plan_bytes(n));
        if (s->runs == NULL) st = TL_ENOMEM;
        else s->srcs = (tl_source_t *)(void *)(s->runs + n);
    }
    s->planned = true; /* plan_free handles partial state */
    if (st != TL_OK) {
        plan_free(s);
        return st;
    }
    uint32_t nr = 0;
    s->nsrc = 0;
    if (tl_vec_len(m->l1) > 0) {
        for (uint32_t i = 0; i < m->l1->n; i++) s->runs[nr++] = tl_vec_run(m->l1, i);
        s->srcs[s->nsrc] = (tl_source_t){s->runs, m->l1->n, 0, true}; /* L1 pages pack */
        s->nsrc++;
    }
    add_each(s, m->l0, &nr);
    for (uint32_t i = 0; i < tl_vec_len(m->mem); i++) add_each(s, tl_vec_vec(m->mem, i), &nr);
    add_one(s, s->act_run, &nr);
    add_each(s, s->head_runs, &nr);
    add_one(s, s->head_run, &nr);
    return TL_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Iterators
 * ------------------------------------------------------------------------------------------- */

/* An iterator block of at least `bytes`: the snapshot's spare one when it is big enough (a
 * loop of point lookups on one snapshot allocates nothing), else a new one. NULL on ENOMEM. */
static tl_iter_t *iter_alloc(tl_snapshot_t *s, size_t bytes) {
    tl_iter_t *it = NULL;
    if (s->spare != NULL && s->spare_bytes >= bytes) {
        it = s->spare;
        bytes = s->spare_bytes;
        s->spare = NULL;
    } else {
        it = tl_mem_alloc(s->alloc, bytes);
        if (it == NULL) return NULL;
    }
    it->s = s;
    it->m = NULL;
    it->bytes = bytes;
    it->eof = false;
    it->point = false;
    it->rev = false;
    it->rm = NULL;
    it->direct = false;
    return it;
}

/* The merge block an iterator over the plan needs after its header. */
static size_t iter_merge_bytes(const tl_snapshot_t *s, bool rev) {
    return rev ? tl_rmerge_bytes(s->srcs, s->nsrc) : tl_merge_bytes(s->srcs, s->nsrc);
}

static tl_status_t iter_new_dir(tl_snapshot_t *s, int64_t lo, int64_t hi, bool empty, bool rev,
                                tl_iter_t **out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    *out = NULL;
    bool eof = empty || lo > hi;
    if (!eof) {
        tl_status_t st = plan(s);
        if (st != TL_OK) return st;
        eof = s->nsrc == 0;
    }
    bool point = !eof && lo == hi;
    /* A settled log's scan or range: no merge to build (direct.c says why). */
    tl_direct_t dc;
    bool direct = !eof && !point && !rev &&
                  tl_direct_open(&dc, s->srcs, s->nsrc, s->man->tombs, lo, hi);
    bool merge = !eof && !point && !direct;
    tl_iter_t *it = iter_alloc(s, ITER_HDR + (merge ? iter_merge_bytes(s, rev) : 0));
    if (it == NULL) return TL_ENOMEM;
    it->eof = eof || (direct && dc.done);
    it->point = point;
    it->rev = rev;
    it->direct = direct;
    if (direct) it->dc = dc;
    void *mem = (char *)it + ITER_HDR;
    if (point) {
        tl_point_init(&it->pt, s->srcs, s->nsrc, s->man->tombs, lo);
    } else if (merge && rev) {
        it->rm = tl_rmerge_init(mem, s->srcs, s->nsrc, s->man->tombs, lo, hi);
    } else if (merge) {
        it->m = tl_merge_init(mem, s->srcs, s->nsrc, s->man->tombs, lo, hi);
    }
    s->iters++;
    *out = it;
    return TL_OK;
}

static tl_status_t iter_new(tl_snapshot_t *s, int64_t lo, int64_t hi, bool empty,
                            tl_iter_t **out) {
    return iter_new_dir(s, lo, hi, empty, false, out);
}

tl_status_t tl_iter_open(tl_snapshot_t *s, int64_t lo, int64_t hi, tl_iter_t **out) {
    return iter_new(s, lo, hi, false, out);
}

tl_status_t tl_iter_open_ex(tl_snapshot_t *s, int64_t lo, int64_t hi, uint32_t flags,
                            tl_iter_t **out) {
    if (out != NULL) *out = NULL;
    if ((flags & ~TL_READ_REVERSE) != 0) return TL_EINVAL;
    return iter_new_dir(s, lo, hi, false, (flags & TL_READ_REVERSE) != 0, out);
}

tl_status_t tl_iter_range(tl_snapshot_t *s, int64_t t1, int64_t t2, tl_iter_t **out) {
    return iter_new(s, t1, t2 - (t1 < t2 ? 1 : 0), t1 >= t2, out);
}

tl_status_t tl_iter_since(tl_snapshot_t *s, int64_t t1, tl_iter_t **out) {
    return iter_new(s, t1, INT64_MAX, false, out);
}

tl_status_t tl_iter_until(tl_snapshot_t *s, int64_t t2, tl_iter_t **out) {
    return iter_new(s, INT64_MIN, t2 == INT64_MIN ? INT64_MIN : t2 - 1, t2 == INT64_MIN, out);
}

tl_status_t tl_iter_equal(tl_snapshot_t *s, int64_t ts, tl_iter_t **out) {
    return iter_new(s, ts, ts, false, out);
}

/* The next records from the merge or the point cursor: OK with *n > 0, or EOF. */
static tl_status_t iter_fill(tl_iter_t *it, int64_t *ts, uint64_t *h, size_t cap, size_t *n) {
    if (it->direct) {
        *n = tl_direct_next(&it->dc, NULL, ts, h, cap);
        return *n > 0 ? TL_OK : TL_EOF;
    }
    if (!it->point) {
        if (it->rev) return tl_rmerge_next(it->rm, ts, h, cap, n);
        return tl_merge_next(it->m, ts, h, cap, n);
    }
    *n = it->rev ? tl_point_next_rev(&it->pt, ts, h, cap) : tl_point_next(&it->pt, ts, h, cap);
    if (*n == 0) return TL_EOF;
    it->eof = it->pt.done; /* the next call answers EOF without another walk */
    return TL_OK;
}

tl_status_t tl_iter_next_batch(tl_iter_t *it, int64_t *ts, uint64_t *handles, size_t cap,
                               size_t *n_out) {
    if (it == NULL || n_out == NULL) return TL_EINVAL;
    *n_out = 0;
    if (it->eof) return TL_EOF;
    if (cap == 0) return TL_EINVAL;
    tl_status_t st = iter_fill(it, ts, handles, cap, n_out);
    if (st == TL_EOF) {
        *n_out = 0;
        it->eof = true;
    }
    return st;
}

tl_status_t tl_iter_next_batch_f64(tl_iter_t *it, double *ts, uint64_t *handles, size_t cap,
                                   size_t *n_out) {
    if (it == NULL || n_out == NULL) return TL_EINVAL;
    *n_out = 0;
    if (it->eof) return TL_EOF;
    if (cap == 0) return TL_EINVAL;
    if (it->direct) {
        *n_out = tl_direct_next(&it->dc, ts, NULL, handles, cap);
        if (*n_out > 0) return TL_OK;
        it->eof = true;
        return TL_EOF;
    }
    if (!it->point) { /* scans and ranges: the merge converts as it copies */
        tl_status_t st = it->rev ? tl_rmerge_next_f64(it->rm, ts, handles, cap, n_out)
                                 : tl_merge_next_f64(it->m, ts, handles, cap, n_out);
        if (st == TL_EOF) it->eof = true;
        return st;
    }
    /* Point iterators yield few records: convert through a small stack buffer. */
    enum { CHUNK = 512 };
    int64_t buf[CHUNK];
    size_t done = 0;
    tl_status_t st = TL_OK;
    while (done < cap) {
        size_t want = cap - done < CHUNK ? cap - done : CHUNK, got = 0;
        st = iter_fill(it, ts ? buf : NULL, handles ? handles + done : NULL, want, &got);
        if (st != TL_OK) break;
        if (ts) {
            for (size_t i = 0; i < got; i++) ts[done + i] = (double)buf[i];
        }
        done += got;
        if (got < want) break; /* short batches come only near the end */
    }
    if (st == TL_EOF) {
        it->eof = true;
        st = TL_OK;
    }
    if (st != TL_OK) return st;
    *n_out = done;
    return done > 0 ? TL_OK : TL_EOF;
}

void tl_iter_destroy(tl_iter_t *it) {
    if (it == NULL) return;
    tl_snapshot_t *s = it->s;
    s->iters--;
    if (s->spare == NULL) { /* keep the block for the snapshot's next iterator */
        s->spare = it;
        s->spare_bytes = it->bytes;
        return;
    }
    tl_mem_free(s->alloc, it, it->bytes);
}

/* ---------------------------------------------------------------------------------------------
 * Point queries
 * ------------------------------------------------------------------------------------------- */

tl_status_t tl_snapshot_count(tl_snapshot_t *s, int64_t lo, int64_t hi, uint64_t *out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    *out = 0;
    if (lo > hi) return TL_OK;
    tl_status_t st = plan(s);
    if (st != TL_OK) return st;
    *out = tl_query_count(s->srcs, s->nsrc, s->man->tombs, lo, hi);
    return TL_OK;
}

tl_status_t tl_snapshot_at(tl_snapshot_t *s, int64_t ts, uint64_t *handles, size_t cap,
                          uint64_t *total) {
    if (s == NULL || total == NULL) return TL_EINVAL;
    *total = 0;
    tl_status_t st = plan(s);
    if (st != TL_OK) return st;
    uint64_t sky = tl_tombs_seq_at(s->man->tombs, ts);
    *total = tl_point_read(s->srcs, s->nsrc, sky, ts, 0, handles, cap);
    return TL_OK;
}

static tl_status_t first_ge(tl_snapshot_t *s, int64_t x, int64_t *out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    tl_status_t st = plan(s);
    if (st != TL_OK) return st;
    return tl_query_first_ge(s->srcs, s->nsrc, s->man->tombs, x, out);
}

static tl_status_t last_le(tl_snapshot_t *s, int64_t x, int64_t *out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    tl_status_t st = plan(s);
    if (st != TL_OK) return st;
    return tl_query_last_le(s->srcs, s->nsrc, s->man->tombs, x, out);
}

tl_status_t tl_snapshot_min(tl_snapshot_t *s, int64_t *out) { return first_ge(s, INT64_MIN, out); }

tl_status_t tl_snapshot_max(tl_snapshot_t *s, int64_t *out) { return last_le(s, INT64_MAX, out); }

tl_status_t tl_snapshot_next(tl_snapshot_t *s, int64_t ts, int64_t *out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    if (ts == INT64_MAX) return TL_EOF;
    return first_ge(s, ts + 1, out);
}

tl_status_t tl_snapshot_prev(tl_snapshot_t *s, int64_t ts, int64_t *out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    if (ts == INT64_MIN) return TL_EOF;
    return last_le(s, ts - 1, out);
}

tl_status_t tl_snapshot_read_plan(tl_snapshot_t *s, tl_read_plan_t *out) {
    tl_status_t st = plan(s);
    if (st != TL_OK) return st;
    *out = (tl_read_plan_t){s->srcs, s->nsrc, s->tl->cfg.value_kind, s->man->tombs, s->alloc,
                            s->tl};
    return TL_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Internal accessors (stats.c)
 * ------------------------------------------------------------------------------------------- */

tl_status_t tl_snapshot_fill_stats(tl_snapshot_t *s, tl_stats_t *o) {
    tl_status_t st = plan(s);
    if (st != TL_OK) return st;
    memset(o, 0, sizeof *o);
    *o = s->ctr;
    const tl_manifest_t *m = s->man;
    o->records = tl_query_count(s->srcs, s->nsrc, m->tombs, INT64_MIN, INT64_MAX);
    tl_sizes_t z = {0, 0, 0, 0};
    tl_manifest_sizes(m, &z);
    uint64_t rec = z.records, pages = z.pages, bytes = z.bytes;
    o->pages_packed = z.packed;
    uint64_t mem = s->act_n + (uint64_t)s->head_n;
    for (uint32_t i = 0; i < tl_vec_len(s->head_runs); i++) mem += tl_vec_run(s->head_runs, i)->n;
    o->records_stored = rec + mem;
    o->memtable_records = mem;
    o->sealed_memtables = tl_vec_len(m->mem);
    o->l0_segments = tl_vec_len(m->l0);
    o->l1_segments = tl_vec_len(m->l1);
    uint32_t pr = s->act->page_records;
    uint64_t act_pages = ((uint64_t)s->act_n + pr - 1) / pr;
    o->pages = pages + act_pages;
    bytes += act_pages * (sizeof(tl_page_t) + (uint64_t)pr * 16u);
    for (uint32_t i = 0; i < tl_vec_len(s->head_runs); i++) {
        const tl_run_t *r = tl_vec_run(s->head_runs, i);
        o->pages += r->npages;
        for (uint32_t p = 0; p < r->npages; p++) bytes += (uint64_t)r->pages[p]->cap * 16u;
    }
    if (s->head) bytes += (uint64_t)s->head->cap * 16u;
    o->bytes_data = bytes;
    o->tombstones = m->tombs ? m->tombs->n : 0;
    o->seq = s->seq;
    return TL_OK;
}
