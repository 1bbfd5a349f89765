/*
 * compact.c — L0 -> windowed L1, applying pending tombstones, rewriting only dirty pages.
 *
 * L1 is a vector of segments, one per time window of the grid
 *   window(ts) = floor((ts - window_origin) / window_size)
 * (computed in 128 bits; windows are clamped to the int64 range, so the last one ends at
 * INT64_MAX). Segments are ascending and disjoint, so readers treat L1 as one source.
 *
 * A compaction job pins M and walks the windows in ascending order, visiting only windows
 * that hold L0 records or an L1 segment (jumping between them by binary search, so sparse
 * timestamps cost nothing). A window is rewritten when L0 has records in it or when a
 * tombstone fragment with seq > W(segment) meets its segment; the rewrite is tl_rewrite over
 * [segment (rank 0), L0 runs in flush order] restricted to the window: clean pages of the
 * segment and of L0 are shared by pointer, pages met by incoming keys or by a pending
 * fragment are copied (filtered), wholly covered pages are dropped without a copy. Other
 * segments are kept as they are (when the manifest holds tombstones they are re-stamped with
 * W = M.seq, which is exact because no pending fragment meets them, and lets tombstone GC
 * progress). The publish replaces L1, removes the compacted L0 runs and GCs tombstones.
 *
 * Write amplification: in-order ingest rewrites about one page per window per job (the tail
 * page the next records touch); peak extra memory is the dirty pages only.
 * Complexity: O(windows visited * L0 * log P + records copied + pages shared).
 */
#include "rewrite.h"

typedef struct l1_out {
    const tl_allocator_t *a;
    tl_run_t **v;
    uint32_t n, cap;
} l1_out_t;

static tl_status_t out_push(l1_out_t *o, tl_run_t *r) { /* takes over the reference */
    if (o->n == o->cap) {
        uint32_t nc = o->cap ? o->cap * 2 : 16;
        tl_run_t **v = tl_mem_alloc(o->a, (size_t)nc * sizeof *v);
        if (v == NULL) {
            tl_run_unref(r);
            return TL_ENOMEM;
        }
        if (o->n) memcpy(v, o->v, (size_t)o->n * sizeof *v);
        tl_mem_free(o->a, o->v, (size_t)o->cap * sizeof *v);
        o->v = v;
        o->cap = nc;
    }
    o->v[o->n++] = r;
    return TL_OK;
}

static void out_free(l1_out_t *o) {
    for (uint32_t i = 0; i < o->n; i++) tl_run_unref(o->v[i]);
    tl_mem_free(o->a, o->v, (size_t)o->cap * sizeof *o->v);
}

/* Moves the collected segments into a vector (NULL when empty). */
static tl_status_t out_to_vec(l1_out_t *o, tl_vec_t **out) {
    *out = NULL;
    if (o->n == 0) return TL_OK;
    tl_vec_t *v = tl_vec_new(o->a, TL_VEC_RUNS, o->n);
    if (v == NULL) return TL_ENOMEM;
    for (uint32_t i = 0; i < o->n; i++) v->v[i] = o->v[i];
    o->n = 0;
    *out = v;
    return TL_OK;
}

void tl_window_of(const tl_timelog_t *tl, int64_t ts, int64_t *wlo, int64_t *whi) {
    __int128 size = tl->cfg.window_size, origin = tl->cfg.window_origin;
    __int128 off = (__int128)ts - origin;
    __int128 w = off / size;
    if (off % size < 0) w -= 1;
    __int128 lo = origin + w * size, hi = lo + size - 1;
    *wlo = lo < (__int128)INT64_MIN ? INT64_MIN : (int64_t)lo;
    *whi = hi > (__int128)INT64_MAX ? INT64_MAX : (int64_t)hi;
}

static bool seg_pending(const tl_tombs_t *t, const tl_run_t *r) {
    return tl_tombs_hides_any(t, r->ts_min, r->ts_max, r->wm);
}

bool tl_compact_wanted(tl_timelog_t *tl) {
    tl_manifest_t *m = tl_pin(tl);
    bool want = tl_vec_len(m->l0) >= tl->cfg.l0_max;
    for (uint32_t i = 0; !want && m->tombs && i < tl_vec_len(m->l0); i++) {
        want = seg_pending(m->tombs, tl_vec_run(m->l0, i));
    }
    for (uint32_t i = 0; !want && m->tombs && i < tl_vec_len(m->l1); i++) {
        want = seg_pending(m->tombs, tl_vec_run(m->l1, i));
    }
    tl_manifest_unref(m);
    return want;
}

typedef struct job {
    tl_timelog_t *tl;
    const tl_manifest_t *m;
    tl_run_t **runs; /* [segment slot] + L0 runs */
    uint64_t *pos; /* L0 cursors (global record index) */
    uint32_t k; /* L0 runs */
    l1_out_t out;
    tl_drops_t drops;
    tl_rw_stats_t rs;
} job_t;

/* Smallest next L0 ts over the cursors; false when L0 is exhausted. */
static bool l0_next(const job_t *j, int64_t *x) {
    bool any = false;
    for (uint32_t i = 0; i < j->k; i++) {
        const tl_run_t *r = j->runs[1 + i];
        if (j->pos[i] >= r->n) continue;
        int64_t v = tl_run_ts_at(r, j->pos[i]);
        if (!any || v < *x) *x = v;
        any = true;
    }
    return any;
}

static tl_status_t keep_segment(job_t *j, tl_run_t *seg) {
    const tl_manifest_t *m = j->m;
    if (m->tombs != NULL && seg->wm < m->seq) {
        tl_run_t *r = NULL;
        tl_status_t st = tl_run_rewrap(j->tl->alloc, seg, m->seq, &r);
        return st == TL_OK ? out_push(&j->out, r) : st;
    }
    tl_run_ref(seg);
    return out_push(&j->out, seg);
}

/* Processes the window holding x; advances *i over the L1 segment it consumed. */
static tl_status_t do_window(job_t *j, int64_t x, uint32_t *i, bool have_l0, int64_t x0) {
    tl_timelog_t *tl = j->tl;
    const tl_manifest_t *m = j->m;
    int64_t wlo, whi;
    tl_window_of(tl, x, &wlo, &whi);
    tl_run_t *seg = NULL;
    if (*i < tl_vec_len(m->l1) && tl_vec_run(m->l1, *i)->ts_min <= whi) {
        seg = tl_vec_run(m->l1, *i);
        (*i)++;
    }
    tl_status_t st = TL_OK;
    bool l0_in = have_l0 && x0 <= whi;
    if (l0_in || (seg != NULL && seg_pending(m->tombs, seg))) {
        tl_run_t *nseg = NULL;
        j->runs[0] = seg;
        st = tl_rewrite(tl->alloc, tl->cfg.page_records, tl->cfg.value_kind == TL_VALUES_F64,
                        seg ? j->runs : j->runs + 1,
                        seg ? j->k + 1 : j->k, wlo, whi, m->tombs, m->seq, &j->drops, &j->rs,
                        &tl->hold, &nseg);
        if (st == TL_OK && nseg != NULL) st = out_push(&j->out, nseg);
    } else if (seg != NULL) {
        st = keep_segment(j, seg);
    }
    for (uint32_t q = 0; st == TL_OK && q < j->k; q++) {
        const tl_run_t *r = j->runs[1 + q];
        j->pos[q] = whi == INT64_MAX ? r->n : tl_run_lower_bound(r, whi + 1);
    }
    return st;
}

static tl_status_t walk_windows(job_t *j) {
    const tl_manifest_t *m = j->m;
    uint32_t i = 0;
    tl_status_t st = TL_OK;
    while (st == TL_OK) {
        int64_t x0 = 0;
        bool have_l0 = l0_next(j, &x0);
        bool have_l1 = i < tl_vec_len(m->l1);
        if (!have_l0 && !have_l1) break;
        int64_t x1 = have_l1 ? tl_vec_run(m->l1, i)->ts_min : 0;
        int64_t x = (have_l0 && (!have_l1 || x0 <= x1)) ? x0 : x1;
        st = do_window(j, x, &i, have_l0, x0);
    }
    return st;
}

static bool any_pending(const tl_manifest_t *m) {
    for (uint32_t i = 0; m->tombs && i < tl_vec_len(m->l1); i++) {
        if (seg_pending(m->tombs, tl_vec_run(m->l1, i))) return true;
    }
    return false;
}

static tl_status_t job_init(job_t *j, tl_timelog_t *tl, const tl_manifest_t *m) {
    memset(j, 0, sizeof *j);
    j->tl = tl;
    j->m = m;
    j->k = tl_vec_len(m->l0);
    j->out.a = tl->alloc;
    tl_drops_init(&j->drops, tl->alloc, tl_drops_wanted(tl));
    j->runs = tl_mem_calloc(tl->alloc, (size_t)j->k + 1, sizeof *j->runs);
    j->pos = tl_mem_calloc(tl->alloc, (size_t)j->k + 1, sizeof *j->pos);
    if (j->runs == NULL || j->pos == NULL) return TL_ENOMEM;
    for (uint32_t q = 0; q < j->k; q++) j->runs[1 + q] = tl_vec_run(m->l0, q);
    return TL_OK;
}

static void job_free(job_t *j) {
    tl_mem_free(j->tl->alloc, j->runs, ((size_t)j->k + 1) * sizeof *j->runs);
    tl_mem_free(j->tl->alloc, j->pos, ((size_t)j->k + 1) * sizeof *j->pos);
    out_free(&j->out);
}

tl_status_t tl_compact_job(tl_timelog_t *tl, bool *did) {
    *did = false;
    tl_manifest_t *m = tl_pin(tl);
    if (tl_vec_len(m->l0) == 0 && !any_pending(m)) {
        tl_manifest_unref(m);
        return TL_OK;
    }
    job_t j;
    tl_status_t st = job_init(&j, tl, m);
    if (st == TL_OK) st = walk_windows(&j);
    tl_vec_t *l1 = NULL;
    if (st == TL_OK) st = out_to_vec(&j.out, &l1);
    if (st == TL_OK && tl->dropq != NULL && j.drops.records > 0) {
        st = tl_dropq_reserve(tl->dropq, j.drops.records);
    }
    if (st == TL_OK) st = tl_publish_maint(tl, 0, j.k, NULL, true, l1);
    tl_vec_unref(l1);
    if (st == TL_OK) {
        atomic_fetch_add_explicit(&tl->ctr.compactions, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&tl->ctr.pages_rewritten, j.rs.pages_written,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&tl->ctr.pages_shared, j.rs.pages_shared, memory_order_relaxed);
        tl_drops_deliver(tl, &j.drops);
        *did = true;
    } else {
        tl_drops_free(&j.drops);
    }
    job_free(&j);
    tl_manifest_unref(m);
    return st;
}

tl_status_t tl_compact_sealed_job(tl_timelog_t *tl) {
    bool did = false;
    tl_status_t st = tl_flush_job(tl, &did);
    /* One job compacts all L0 and every pending window; a second pass is a cheap no-op
     * check unless tombstones arrived in between. */
    for (int pass = 0; st == TL_OK && pass < 2; pass++) {
        st = tl_compact_job(tl, &did);
        if (!did) break;
    }
    return st;
}

/* Everything tl_compact does after its seal: flush, compact until no L0 segment or pending
 * tombstone is left, pack pages. Caller holds maint_mu; memory is given back by the caller
 * (tl_give_back) once maint_mu is released. */
tl_status_t tl_compact_all_job(tl_timelog_t *tl) {
    bool did = false;
    tl_status_t st = tl_compact_sealed_job(tl);
    /* Then compress the pages and move what stays raw into as few chunks as it fills. Their
     * ENOMEM is not a failure: the compaction stands, the pages stay as and where they are. */
    if (st == TL_OK) (void)tl_pack_job(tl, 0, 0, &did, NULL);
    if (st == TL_OK) (void)tl_relocate_job(tl);
    return st;
}

/* Freed page blocks, the spare head and heap holes back to the system (after a compact-all,
 * no lock held). */
void tl_give_back(tl_timelog_t *tl) {
    tl_mt_drop_spare(&tl->mt);
    tl_arena_trim(&tl->arena);
    tl_mem_trim(&tl->arena.under);
}

