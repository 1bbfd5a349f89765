/*
 * manifest.h — immutable, refcounted descriptions of what is stored.
 *
 * tl_vec_t is a refcounted immutable array of pointers to runs (TL_VEC_RUNS: an L0 list, an L1
 * list, the runs of one memrun, the head runs of a memtable generation) or to other vectors
 * (TL_VEC_VECS: the memrun queue). A vector holds one reference on each element.
 *
 * tl_manifest_t is one version of the stored state: {l1, l0, memruns, tombs, seq}. Every field
 * may be NULL (empty). A new version is built by copying the five pointers (taking refs) and
 * replacing the ones that change, so a delete (new tombs) costs O(1), not a copy of L1.
 * seq is an upper bound of the sequence number of every record in the memruns and of every
 * tombstone in tombs: flush and compaction stamp their output watermark with it. l1_cover
 * (set by compaction, carried by every other new version) says which appends L1 holds.
 */
#ifndef TL_MANIFEST_H
#define TL_MANIFEST_H

#include "run.h"
#include "tombs.h"

typedef enum tl_vec_kind { TL_VEC_RUNS = 0, TL_VEC_VECS = 1 } tl_vec_kind_t;

typedef struct tl_vec {
    _Atomic uint32_t refs;
    uint32_t n;
    uint32_t kind; /* tl_vec_kind_t */
    uint32_t pad_;
    const tl_allocator_t *alloc;
    void *v[]; /* n elements, each holding one reference */
} tl_vec_t;

/* New vector of n NULL slots (the caller fills them with owned references). NULL on ENOMEM. */
tl_vec_t *tl_vec_new(const tl_allocator_t *a, uint32_t kind, uint32_t n);
static inline void tl_vec_ref(tl_vec_t *v) {
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}
void tl_vec_unref(tl_vec_t *v); /* accepts NULL */
static inline uint32_t tl_vec_len(const tl_vec_t *v) { return v ? v->n : 0; }
static inline tl_run_t *tl_vec_run(const tl_vec_t *v, uint32_t i) { return (tl_run_t *)v->v[i]; }
static inline tl_vec_t *tl_vec_vec(const tl_vec_t *v, uint32_t i) { return (tl_vec_t *)v->v[i]; }

/* *out = old (may be NULL) + elem appended (elem gets a new ref). ENOMEM leaves old as is. */
tl_status_t tl_vec_push(const tl_vec_t *old, const tl_allocator_t *a, uint32_t kind, void *elem,
                        tl_vec_t **out);
/* The same with elems[0, k) appended in order (each gets a new ref). */
tl_status_t tl_vec_append(const tl_vec_t *old, const tl_allocator_t *a, uint32_t kind,
                          void *const *elems, uint32_t k, tl_vec_t **out);
/* *out = old without its first k elements (NULL when nothing is left). */
tl_status_t tl_vec_drop_front(const tl_vec_t *old, const tl_allocator_t *a, uint32_t k,
                              tl_vec_t **out);

typedef struct tl_manifest {
    _Atomic uint32_t refs;
    uint32_t pad_;
    const tl_allocator_t *alloc;
    tl_vec_t *l1; /* runs: one segment per window, ascending, disjoint */
    tl_vec_t *l0; /* runs in flush order */
    tl_vec_t *mem; /* vectors of runs (memruns) in seal order */
    tl_tombs_t *tombs;
    uint64_t seq;
    tl_cover_t l1_cover; /* the appends L1 holds, all of them and nothing else (what a
                            checkpoint of L1 covers: durable/dur.h); {0, 0} before the first
                            compaction */
    struct tl_vstore *vs; /* a bytes log's value store, which tracks every manifest: a dropped
                             value is released once no older manifest is left (vstore.h) */
    uint64_t vepoch; /* vs: this manifest's epoch and neighbours in epoch order */
    struct tl_manifest *vprev, *vnext;
} tl_manifest_t;

/* New manifest taking new references on every non-NULL part. NULL on ENOMEM. */
tl_manifest_t *tl_manifest_new(const tl_allocator_t *a, struct tl_vstore *vs, tl_vec_t *l1,
                               tl_vec_t *l0, tl_vec_t *mem, tl_tombs_t *tombs, uint64_t seq);
static inline void tl_manifest_ref(tl_manifest_t *m) {
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}
void tl_manifest_unref(tl_manifest_t *m); /* accepts NULL */

/* Smallest watermark over every stored run (memruns, L0, L1); UINT64_MAX when none. */
uint64_t tl_manifest_min_wm(const tl_manifest_t *m);
/* Sizes over every stored run: records (tombstoned included), pages, their bytes, and how
 * many of the pages are packed. Accumulates into *z. */
typedef struct tl_sizes {
    uint64_t records, pages, bytes, packed;
} tl_sizes_t;
void tl_manifest_sizes(const tl_manifest_t *m, tl_sizes_t *z);

#endif /* TL_MANIFEST_H */
