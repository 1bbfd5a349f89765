/*
 * tombs.c — the tombstone skyline: sorted disjoint closed fragments {lo, hi, seq}.
 *
 * Structure: one allocation per set, [tl_tombs_t][tl_tomb_t v[n]], immutable once built and
 * shared by reference (manifests and snapshots hold refs). Every change builds a new set
 * (copy-on-write), so readers on other threads never see a set change under them.
 *
 * Invariants:
 *   - v is sorted by lo; fragments are disjoint (v[i].hi < v[i+1].lo); lo <= hi; seq >= 1.
 *   - Coalesced: two neighbours never both touch (v[i].hi + 1 == v[i+1].lo) and share seq.
 *     Equal-seq neighbours separated by a gap stay apart (the gap is not covered).
 *   - skyline(x) = seq of the fragment holding x, else 0; n >= 1 (the empty set is NULL).
 *   - Closed intervals: INT64_MIN and INT64_MAX are ordinary points. Code only forms lo - 1
 *     when lo is greater than some other int64, and hi + 1 when hi is smaller than one, so
 *     neither can wrap.
 *
 * Insert computes the pointwise max of the old skyline and [lo, hi]@seq (header contract:
 * seq is newer than every old seq, so the new range simply wins, but the max keeps the set
 * correct for any caller). It runs in two passes of the same emitter: the first counts the
 * output, the second writes it into an exact-size allocation. O(n) per insert; deletes are
 * write calls, rare next to appends, and n stays small because gc trims fragments that no
 * stored run can be hidden by anymore.
 *
 * Lookups: find is a binary search over v[].hi, O(log n); seq_at is find + one compare;
 * hides_any and covers walk the fragments meeting [lo, hi], O(log n + k).
 */
#include "tombs.h"

static size_t tombs_bytes(uint32_t n) { return sizeof(tl_tombs_t) + (size_t)n * sizeof(tl_tomb_t); }

static tl_tombs_t *tombs_alloc(const tl_allocator_t *a, uint32_t n) {
    if ((uint64_t)n * sizeof(tl_tomb_t) > SIZE_MAX - sizeof(tl_tombs_t)) return NULL;
    tl_tombs_t *t = tl_mem_alloc(a, tombs_bytes(n));
    if (t == NULL) return NULL;
    atomic_init(&t->refs, 1);
    t->n = n;
    t->alloc = a;
    t->v = (tl_tomb_t *)(void *)(t + 1);
    return t;
}

void tl_tombs_unref(tl_tombs_t *t) {
    if (t == NULL) return;
    uint32_t old = atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel);
    TL_ASSERT(old >= 1);
    if (old == 1) tl_mem_free(t->alloc, t, tombs_bytes(t->n));
}

tl_status_t tl_tombs_from(const tl_allocator_t *a, const tl_tomb_t *v, uint32_t n,
                          tl_tombs_t **out) {
    *out = NULL;
    if (n == 0) return TL_EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].lo > v[i].hi || v[i].seq == 0) return TL_EINVAL;
        if (i > 0 && (v[i - 1].hi >= v[i].lo ||
                      (v[i - 1].hi + 1 == v[i].lo && v[i - 1].seq == v[i].seq))) {
            return TL_EINVAL;
        }
    }
    tl_tombs_t *t = tombs_alloc(a, n);
    if (t == NULL) return TL_ENOMEM;
    memcpy(t->v, v, (size_t)n * sizeof *v);
    *out = t;
    return TL_OK;
}

/* ---- insert ---- */

/* Output sink of the insert passes: counts when v is NULL, writes otherwise. */
typedef struct emitter {
    tl_tomb_t *v;
    uint64_t n;
    tl_tomb_t last; /* the fragment emitted last (valid when n > 0) */
} emitter_t;

static bool touches(const tl_tomb_t *a, int64_t next_lo) {
    return a->hi != INT64_MAX && a->hi + 1 == next_lo;
}

/* Appends [lo, hi]@seq, merging it into the previous fragment when they touch and share
 * seq (the coalescing invariant). */
static void emit(emitter_t *e, int64_t lo, int64_t hi, uint64_t seq) {
    TL_DASSERT(lo <= hi);
    if (e->n > 0 && e->last.seq == seq && touches(&e->last, lo)) {
        e->last.hi = hi;
        if (e->v) e->v[e->n - 1].hi = hi;
        return;
    }
    e->last = (tl_tomb_t){lo, hi, seq};
    if (e->v) e->v[e->n] = e->last;
    e->n++;
}

/* One pass: old skyline max [lo, hi]@seq, in order, into e. */
static void insert_pass(const tl_tombs_t *old, int64_t lo, int64_t hi, uint64_t seq,
                        emitter_t *e) {
    uint32_t n = old ? old->n : 0, i = 0;
    const tl_tomb_t *v = old ? old->v : NULL;
    for (; i < n && v[i].hi < lo; i++) emit(e, v[i].lo, v[i].hi, v[i].seq);
    int64_t c = lo; /* first point of [lo, hi] not emitted yet */
    bool done = false; /* every point of [lo, hi] emitted (c would pass hi) */
    for (; i < n && v[i].lo <= hi; i++) {
        const tl_tomb_t *f = &v[i];
        if (f->lo < lo) emit(e, f->lo, lo - 1, f->seq); /* lo > f->lo: no wrap */
        if (f->lo > c) emit(e, c, f->lo - 1, seq); /* a gap inside [lo, hi] */
        int64_t a = f->lo > lo ? f->lo : lo, b = f->hi < hi ? f->hi : hi;
        emit(e, a, b, f->seq > seq ? f->seq : seq);
        if (f->hi >= hi) {
            if (f->hi > hi) emit(e, hi + 1, f->hi, f->seq); /* hi < f->hi: no wrap */
            done = true;
            i++;
            break;
        }
        c = f->hi + 1; /* f->hi < hi: no wrap */
    }
    if (!done) emit(e, c, hi, seq);
    for (; i < n; i++) emit(e, v[i].lo, v[i].hi, v[i].seq);
}

tl_status_t tl_tombs_insert(const tl_tombs_t *old, const tl_allocator_t *a, int64_t lo,
                            int64_t hi, uint64_t seq, tl_tombs_t **out) {
    *out = NULL;
    if (lo > hi || seq == 0) return TL_EINVAL;
    emitter_t count = {0};
    insert_pass(old, lo, hi, seq, &count);
    if (count.n > UINT32_MAX) return TL_EOVERFLOW;
    tl_tombs_t *t = tombs_alloc(a, (uint32_t)count.n);
    if (t == NULL) return TL_ENOMEM;
    emitter_t write = {.v = t->v};
    insert_pass(old, lo, hi, seq, &write);
    TL_ASSERT(write.n == count.n);
    *out = t;
    return TL_OK;
}

/* ---- gc ---- */

tl_status_t tl_tombs_gc(const tl_tombs_t *old, const tl_allocator_t *a, uint64_t min_wm,
                        tl_tombs_t **out) {
    *out = NULL;
    if (old == NULL) return TL_OK;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < old->n; i++) keep += old->v[i].seq > min_wm;
    if (keep == 0) return TL_OK;
    tl_tombs_t *t = tombs_alloc(a, keep);
    if (t == NULL) return TL_ENOMEM;
    /* Removing fragments only opens gaps, so the survivors are still coalesced. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < old->n; i++) {
        if (old->v[i].seq > min_wm) t->v[k++] = old->v[i];
    }
    *out = t;
    return TL_OK;
}

/* ---- lookups ---- */

uint32_t tl_tombs_find(const tl_tombs_t *t, int64_t x) {
    if (t == NULL) return 0;
    /* Branch-free lower bound of x over v[].hi. */
    uint32_t len = t->n;
    if (len == 0) return 0;
    const tl_tomb_t *base = t->v;
    while (len > 1) {
        uint32_t half = len / 2;
        base = (base[half].hi < x) ? base + half : base;
        len -= half;
    }
    return (uint32_t)(base - t->v) + (uint32_t)(base->hi < x);
}

uint64_t tl_tombs_seq_at(const tl_tombs_t *t, int64_t x) {
    uint32_t i = tl_tombs_find(t, x);
    if (t == NULL || i == t->n || t->v[i].lo > x) return 0;
    return t->v[i].seq;
}

bool tl_tombs_hides_any(const tl_tombs_t *t, int64_t lo, int64_t hi, uint64_t wm) {
    if (t == NULL || lo > hi) return false;
    for (uint32_t i = tl_tombs_find(t, lo); i < t->n && t->v[i].lo <= hi; i++) {
        if (t->v[i].seq > wm) return true;
    }
    return false;
}

bool tl_tombs_covers(const tl_tombs_t *t, int64_t lo, int64_t hi, uint64_t wm) {
    if (t == NULL || lo > hi) return false;
    int64_t c = lo; /* every point below c in [lo, hi] is covered */
    for (uint32_t i = tl_tombs_find(t, lo); i < t->n; i++) {
        const tl_tomb_t *f = &t->v[i];
        if (f->lo > c || f->seq <= wm) return false; /* a gap, or a span that cannot hide */
        if (f->hi >= hi) return true;
        c = f->hi + 1; /* f->hi < hi: no wrap */
    }
    return false;
}
