/*
 * manifest.c — refcounted immutable pointer vectors and the manifest (one version of the
 * stored state).
 *
 * Structure: a tl_vec_t is one allocation (header + n pointers). Vectors are never mutated
 * after they are handed out: "push" and "drop front" build a new vector that takes fresh
 * references on the shared elements, so readers holding the old one are unaffected.
 * The manifest is five pointers plus seq; a new version copies the pointers (new refs) and
 * swaps the changed ones. Publishing (swapping tl->man under state_mu) is done by the writer
 * (adds memruns and tombstones) and by maintenance (removes memruns/L0/L1, adds L0/L1); both
 * build the new version from the *current* one under the lock, so they never conflict.
 *
 * Invariants: refs > 0 while reachable; a vector's kind tells what its elements are.
 * Complexity: push / drop_front O(n) (n = memruns or L0 count, small); manifest_new O(1);
 * the size walks are O(runs).
 *
 * Pages shared between runs: a run produced by flush or compaction may share pages with its
 * inputs, but every publish removes those inputs in the same swap, and seal rewraps memtable
 * runs while resetting the generation. So within one manifest (plus its memtable generation)
 * no page belongs to two runs, which is what lets tl_close enumerate every record exactly once.
 */
#include "manifest.h"
#include "vstore.h"

static size_t vec_bytes(uint32_t n) { return sizeof(tl_vec_t) + (size_t)n * sizeof(void *); }

tl_vec_t *tl_vec_new(const tl_allocator_t *a, uint32_t kind, uint32_t n) {
    tl_vec_t *v = tl_mem_alloc(a, vec_bytes(n));
    if (v == NULL) return NULL;
    atomic_init(&v->refs, 1);
    v->n = n;
    v->kind = kind;
    v->pad_ = 0;
    v->alloc = a;
    for (uint32_t i = 0; i < n; i++) v->v[i] = NULL;
    return v;
}

static void elem_ref(uint32_t kind, void *e) {
    if (kind == TL_VEC_RUNS) tl_run_ref((tl_run_t *)e);
    else tl_vec_ref((tl_vec_t *)e);
}

static void elem_unref(uint32_t kind, void *e) {
    if (kind == TL_VEC_RUNS) tl_run_unref((tl_run_t *)e);
    else tl_vec_unref((tl_vec_t *)e);
}

void tl_vec_unref(tl_vec_t *v) {
    if (v == NULL) return;
    uint32_t prev = atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev != 1) return;
    for (uint32_t i = 0; i < v->n; i++) {
        if (v->v[i] != NULL) elem_unref(v->kind, v->v[i]);
    }
    tl_mem_free(v->alloc, v, vec_bytes(v->n));
}

tl_status_t tl_vec_push(const tl_vec_t *old, const tl_allocator_t *a, uint32_t kind, void *elem,
                        tl_vec_t **out) {
    return tl_vec_append(old, a, kind, &elem, 1, out);
}

tl_status_t tl_vec_append(const tl_vec_t *old, const tl_allocator_t *a, uint32_t kind,
                          void *const *elems, uint32_t k, tl_vec_t **out) {
    uint32_t n = tl_vec_len(old);
    if (k > UINT32_MAX - n) return TL_EOVERFLOW;
    tl_vec_t *v = tl_vec_new(a, kind, n + k);
    if (v == NULL) return TL_ENOMEM;
    for (uint32_t i = 0; i < n + k; i++) {
        v->v[i] = i < n ? old->v[i] : elems[i - n];
        elem_ref(kind, v->v[i]);
    }
    *out = v;
    return TL_OK;
}

tl_status_t tl_vec_drop_front(const tl_vec_t *old, const tl_allocator_t *a, uint32_t k,
                              tl_vec_t **out) {
    uint32_t n = tl_vec_len(old);
    *out = NULL;
    if (k >= n) return TL_OK;
    tl_vec_t *v = tl_vec_new(a, old->kind, n - k);
    if (v == NULL) return TL_ENOMEM;
    for (uint32_t i = k; i < n; i++) {
        v->v[i - k] = old->v[i];
        elem_ref(old->kind, old->v[i]);
    }
    *out = v;
    return TL_OK;
}

tl_manifest_t *tl_manifest_new(const tl_allocator_t *a, struct tl_vstore *vs, tl_vec_t *l1,
                               tl_vec_t *l0, tl_vec_t *mem, tl_tombs_t *tombs, uint64_t seq) {
    tl_manifest_t *m = tl_mem_alloc(a, sizeof *m);
    if (m == NULL) return NULL;
    atomic_init(&m->refs, 1);
    m->pad_ = 0;
    m->alloc = a;
    m->l1 = l1;
    m->l0 = l0;
    m->mem = mem;
    m->tombs = tombs;
    m->seq = seq;
    m->l1_cover = (tl_cover_t){0, 0};
    if (l1) tl_vec_ref(l1);
    if (l0) tl_vec_ref(l0);
    if (mem) tl_vec_ref(mem);
    if (tombs) tl_tombs_ref(tombs);
    m->vs = vs;
    m->vprev = m->vnext = NULL;
    m->vepoch = 0;
    if (vs) tl_vstore_track(vs, m);
    return m;
}

void tl_manifest_unref(tl_manifest_t *m) {
    if (m == NULL) return;
    uint32_t prev = atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev != 1) return;
    tl_vec_unref(m->l1);
    tl_vec_unref(m->l0);
    tl_vec_unref(m->mem);
    tl_tombs_unref(m->tombs);
    if (m->vs) tl_vstore_untrack(m->vs, m); /* after the runs: a reader of them is gone */
    tl_mem_free(m->alloc, m, sizeof *m);
}

static uint64_t runs_min_wm(const tl_vec_t *v, uint64_t wm) {
    for (uint32_t i = 0; i < tl_vec_len(v); i++) {
        const tl_run_t *r = tl_vec_run(v, i);
        if (r->wm < wm) wm = r->wm;
    }
    return wm;
}

uint64_t tl_manifest_min_wm(const tl_manifest_t *m) {
    uint64_t wm = UINT64_MAX;
    wm = runs_min_wm(m->l1, wm);
    wm = runs_min_wm(m->l0, wm);
    for (uint32_t i = 0; i < tl_vec_len(m->mem); i++) wm = runs_min_wm(tl_vec_vec(m->mem, i), wm);
    return wm;
}

static void runs_sizes(const tl_vec_t *v, tl_sizes_t *z) {
    for (uint32_t i = 0; i < tl_vec_len(v); i++) {
        const tl_run_t *r = tl_vec_run(v, i);
        z->records += r->n;
        z->pages += r->npages;
        for (uint32_t p = 0; p < r->npages; p++) {
            z->bytes += tl_page_alloc_bytes(r->pages[p]);
            z->packed += tl_page_packed(r->pages[p]);
        }
    }
}

void tl_manifest_sizes(const tl_manifest_t *m, tl_sizes_t *z) {
    runs_sizes(m->l1, z);
    runs_sizes(m->l0, z);
    for (uint32_t i = 0; i < tl_vec_len(m->mem); i++) runs_sizes(tl_vec_vec(m->mem, i), z);
}

