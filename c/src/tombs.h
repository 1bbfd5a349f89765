/*
 * tombs.h — the tombstone skyline: immutable, refcounted, copy-on-write.
 *
 * A sorted array of disjoint closed fragments [lo, hi] with seq = the largest sequence number
 * of any delete covering that span. Neighbouring fragments with equal seq that touch
 * (hi + 1 == next lo) are coalesced. skyline(ts) = seq of the fragment holding ts, or 0.
 * A record in a structure with watermark wm is hidden iff skyline(ts) > wm.
 */
#ifndef TL_TOMBS_H
#define TL_TOMBS_H

#include "tl_common.h"

typedef struct tl_tomb {
    int64_t lo, hi; /* closed */
    uint64_t seq;
} tl_tomb_t;

typedef struct tl_tombs {
    _Atomic uint32_t refs;
    uint32_t n;
    const tl_allocator_t *alloc;
    tl_tomb_t *v; /* n fragments, sorted by lo, disjoint */
} tl_tombs_t;

static inline void tl_tombs_ref(tl_tombs_t *t) {
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}
void tl_tombs_unref(tl_tombs_t *t); /* accepts NULL */

/* New set = old (may be NULL = empty) plus [lo, hi]@seq; seq is larger than every seq in old.
 * (A smaller seq is still handled exactly: the result is the pointwise max.) lo <= hi and
 * seq >= 1, else EINVAL. *out has refs = 1. ENOMEM leaves old untouched. */
tl_status_t tl_tombs_insert(const tl_tombs_t *old, const tl_allocator_t *a, int64_t lo, int64_t hi,
                            uint64_t seq, tl_tombs_t **out);

/* New set holding a copy of v[0, n) (n >= 1), which must already satisfy the invariants
 * (tombs.c: sorted, disjoint, coalesced, lo <= hi, seq >= 1): a set read back from disk.
 * EINVAL when it does not (nothing allocated), ENOMEM. */
tl_status_t tl_tombs_from(const tl_allocator_t *a, const tl_tomb_t *v, uint32_t n,
                          tl_tombs_t **out);

/* New set without the fragments whose seq <= min_wm (they can no longer hide anything).
 * *out = NULL when nothing is left. */
tl_status_t tl_tombs_gc(const tl_tombs_t *old, const tl_allocator_t *a, uint64_t min_wm,
                        tl_tombs_t **out);

/* Index of the first fragment with hi >= x (n if none). t may be NULL (returns 0). */
uint32_t tl_tombs_find(const tl_tombs_t *t, int64_t x);
/* skyline(x): seq of the fragment holding x, 0 when none. t may be NULL. */
uint64_t tl_tombs_seq_at(const tl_tombs_t *t, int64_t x);
/* True when some fragment meets [lo, hi] with seq > wm. t may be NULL. */
bool tl_tombs_hides_any(const tl_tombs_t *t, int64_t lo, int64_t hi, uint64_t wm);
/* True when every ts in [lo, hi] has skyline > wm: a page whose records all lie in [lo, hi]
 * is hidden whole and can be dropped without reading it. False for lo > hi or t NULL. */
bool tl_tombs_covers(const tl_tombs_t *t, int64_t lo, int64_t hi, uint64_t wm);

#endif /* TL_TOMBS_H */
