/*
 * tombs_test.c — the tombstone skyline: split / merge / coalesce on insert, gc, find,
 * seq_at and hides_any, checked against a pointwise reference over a domain that includes
 * INT64_MIN and INT64_MAX, plus ENOMEM on every allocation.
 */
#include "tombs.h"
#include "test.h"

/* Structural invariants: sorted, disjoint, lo <= hi, seq >= 1, coalesced. */
static bool tombs_ok(const tl_tombs_t *t) {
    if (t == NULL) return true;
    if (t->n == 0) return false;
    for (uint32_t i = 0; i < t->n; i++) {
        const tl_tomb_t *f = &t->v[i];
        if (f->lo > f->hi || f->seq == 0) return false;
        if (i == 0) continue;
        const tl_tomb_t *p = &t->v[i - 1];
        if (p->hi >= f->lo) return false;
        if (p->seq == f->seq && p->hi + 1 == f->lo) return false;
    }
    return true;
}

static tl_tombs_t *ins(tl_tombs_t *old, int64_t lo, int64_t hi, uint64_t seq) {
    tl_tombs_t *t = NULL;
    tl_status_t st = tl_tombs_insert(old, NULL, lo, hi, seq, &t);
    tl_tombs_unref(old);
    return st == TL_OK ? t : NULL;
}

TL_TEST(insert_split_and_merge) {
    tl_tombs_t *t = ins(NULL, 10, 20, 1);
    CHECK(t && t->n == 1);
    t = ins(t, 14, 16, 2); /* split: [10,13]@1 [14,16]@2 [17,20]@1 */
    CHECK(t && t->n == 3 && tombs_ok(t));
    CHECK(t->v[0].hi == 13 && t->v[1].lo == 14 && t->v[1].hi == 16 && t->v[2].lo == 17);
    CHECK_EQ_U64(tl_tombs_seq_at(t, 15), 2);
    CHECK_EQ_U64(tl_tombs_seq_at(t, 20), 1);
    CHECK_EQ_U64(tl_tombs_seq_at(t, 21), 0);
    CHECK_EQ_U64(tl_tombs_seq_at(t, 9), 0);
    t = ins(t, 0, 30, 3); /* covers all: one fragment */
    CHECK(t && t->n == 1 && t->v[0].lo == 0 && t->v[0].hi == 30 && t->v[0].seq == 3);
    t = ins(t, 40, 50, 4);
    t = ins(t, 31, 39, 4); /* touches [40,50]@4 on the right: coalesced; left is @3: kept */
    CHECK(t && t->n == 2 && tombs_ok(t));
    CHECK(t->v[1].lo == 31 && t->v[1].hi == 50);
    t = ins(t, 52, 60, 4); /* gap at 51: not coalesced */
    CHECK(t && t->n == 3);
    CHECK_EQ_U64(tl_tombs_find(t, 51), 2);
    CHECK_EQ_U64(tl_tombs_find(t, 61), 3);
    CHECK_EQ_U64(tl_tombs_find(t, INT64_MIN), 0);
    tl_tombs_unref(t);
}

TL_TEST(insert_int64_extremes) {
    tl_tombs_t *t = ins(NULL, INT64_MAX, INT64_MAX, 1);
    CHECK(t && t->n == 1);
    CHECK_EQ_U64(tl_tombs_seq_at(t, INT64_MAX), 1);
    CHECK_EQ_U64(tl_tombs_seq_at(t, INT64_MAX - 1), 0);
    t = ins(t, INT64_MIN, INT64_MIN, 2);
    CHECK(t && t->n == 2 && tombs_ok(t));
    CHECK_EQ_U64(tl_tombs_seq_at(t, INT64_MIN), 2);
    CHECK_EQ_U64(tl_tombs_seq_at(t, INT64_MIN + 1), 0);
    t = ins(t, INT64_MIN + 1, INT64_MAX - 1, 2); /* touches MIN@2: coalesces; MAX@1 kept */
    CHECK(t && t->n == 2 && tombs_ok(t));
    CHECK(t->v[0].lo == INT64_MIN && t->v[0].hi == INT64_MAX - 1 && t->v[1].seq == 1);
    t = ins(t, INT64_MIN, INT64_MAX, 3);
    CHECK(t && t->n == 1 && t->v[0].lo == INT64_MIN && t->v[0].hi == INT64_MAX);
    CHECK(tl_tombs_hides_any(t, INT64_MAX, INT64_MAX, 2));
    CHECK(!tl_tombs_hides_any(t, INT64_MAX, INT64_MAX, 3));
    CHECK(!tl_tombs_hides_any(t, 5, 4, 0)); /* lo > hi */
    CHECK(tl_tombs_covers(t, INT64_MIN, INT64_MAX, 2));
    CHECK(!tl_tombs_covers(t, INT64_MIN, INT64_MAX, 3));
    CHECK(!tl_tombs_covers(t, 5, 4, 0));
    CHECK(!tl_tombs_covers(NULL, 0, 0, 0));
    t = ins(t, INT64_MAX - 5, INT64_MAX, 4); /* split at the top end */
    CHECK(t && t->n == 2 && t->v[0].hi == INT64_MAX - 6 && t->v[1].hi == INT64_MAX);
    t = ins(t, INT64_MIN, INT64_MIN + 5, 5); /* split at the bottom end */
    CHECK(t && t->n == 3 && tombs_ok(t) && t->v[1].lo == INT64_MIN + 6);
    CHECK_EQ_U64(tl_tombs_find(t, INT64_MAX), 2);
    tl_tombs_unref(t);
    CHECK_EQ_U64(tl_tombs_find(NULL, 0), 0);
    CHECK_EQ_U64(tl_tombs_seq_at(NULL, 0), 0);
    CHECK(!tl_tombs_hides_any(NULL, INT64_MIN, INT64_MAX, 0));
}

TL_TEST(insert_bad_args) {
    tl_tombs_t *t = (tl_tombs_t *)&tl_t_rng;
    CHECK_ST(tl_tombs_insert(NULL, NULL, 5, 4, 1, &t), TL_EINVAL);
    CHECK(t == NULL);
    CHECK_ST(tl_tombs_insert(NULL, NULL, 4, 4, 0, &t), TL_EINVAL);
}

/* ---- randomized against a pointwise reference ---- */

/* Domain: the extremes, their neighbours, and a small dense middle. Every inserted range has
 * its ends in the domain, so the skyline is constant between consecutive domain points; the
 * probes also test one point inside each such gap. */
enum { DN = 40 };
static int64_t dom[DN];
static void dom_init(void) {
    dom[0] = INT64_MIN;
    dom[1] = INT64_MIN + 1;
    dom[2] = INT64_MIN + 2;
    for (int i = 3; i < DN - 3; i++) dom[i] = (int64_t)(i - 20) * 3;
    dom[DN - 3] = INT64_MAX - 2;
    dom[DN - 2] = INT64_MAX - 1;
    dom[DN - 1] = INT64_MAX;
}

/* Reference skyline: at each domain point, and in each gap after it. */
static uint64_t ref_pt[DN], ref_gap[DN];

static void ref_insert(int i, int j, uint64_t seq) {
    for (int k = i; k <= j; k++) {
        if (ref_pt[k] < seq) ref_pt[k] = seq;
        if (k < j && ref_gap[k] < seq) ref_gap[k] = seq;
    }
}

static bool check_against_ref(const tl_tombs_t *t) {
    if (!tombs_ok(t)) return false;
    for (int k = 0; k < DN; k++) {
        if (tl_tombs_seq_at(t, dom[k]) != ref_pt[k]) return false;
        if (k + 1 < DN && dom[k] + 1 < dom[k + 1] &&
            tl_tombs_seq_at(t, dom[k] + 1) != ref_gap[k]) {
            return false;
        }
    }
    return true;
}

static bool ref_covers(int i, int j, uint64_t wm) {
    for (int k = i; k <= j; k++) {
        if (ref_pt[k] <= wm || (k < j && dom[k] + 1 < dom[k + 1] && ref_gap[k] <= wm)) {
            return false;
        }
    }
    return true;
}

static bool ref_hides(int i, int j, uint64_t wm) {
    for (int k = i; k <= j; k++) {
        if (ref_pt[k] > wm || (k < j && ref_gap[k] > wm)) return true;
    }
    return false;
}

TL_TEST(insert_random_vs_reference) {
    uint64_t seed = 0x70b5;
    tl_t_rng = seed;
    dom_init();
    for (int iter = 0; iter < 300; iter++) {
        memset(ref_pt, 0, sizeof(ref_pt));
        memset(ref_gap, 0, sizeof(ref_gap));
        tl_tombs_t *t = NULL;
        int ops = 1 + (int)(tl_t_rnd() % 25);
        for (int op = 0; op < ops; op++) {
            int i = (int)(tl_t_rnd() % DN), j = (int)(tl_t_rnd() % DN);
            if (i > j) { int x = i; i = j; j = x; }
            /* Mostly increasing seqs (the engine's contract), some repeats and older ones. */
            uint64_t seq = tl_t_rnd() % 4 ? (uint64_t)op + 1 : 1 + tl_t_rnd() % (uint64_t)(op + 1);
            ref_insert(i, j, seq);
            t = ins(t, dom[i], dom[j], seq);
            CHECK(t != NULL);
            if (!check_against_ref(t)) TL_FAIL_("seed %" PRIu64 " iter %d op %d", seed, iter, op);
        }
        for (int q = 0; q < 30; q++) {
            int i = (int)(tl_t_rnd() % DN), j = (int)(tl_t_rnd() % DN);
            if (i > j) { int x = i; i = j; j = x; }
            uint64_t wm = tl_t_rnd() % (uint64_t)(ops + 2);
            if (tl_tombs_hides_any(t, dom[i], dom[j], wm) != ref_hides(i, j, wm)) {
                TL_FAIL_("hides_any seed %" PRIu64 " iter %d", seed, iter);
            }
            if (tl_tombs_covers(t, dom[i], dom[j], wm) != ref_covers(i, j, wm)) {
                TL_FAIL_("covers seed %" PRIu64 " iter %d", seed, iter);
            }
            /* find: first fragment with hi >= x. */
            uint32_t fi = tl_tombs_find(t, dom[i]);
            CHECK(fi == t->n || t->v[fi].hi >= dom[i]);
            CHECK(fi == 0 || t->v[fi - 1].hi < dom[i]);
        }
        /* gc keeps exactly the fragments above the watermark. */
        uint64_t wm = tl_t_rnd() % (uint64_t)(ops + 1);
        tl_tombs_t *g = NULL;
        CHECK_OK(tl_tombs_gc(t, NULL, wm, &g));
        CHECK(tombs_ok(g));
        for (int k = 0; k < DN; k++) {
            uint64_t want = ref_pt[k] > wm ? ref_pt[k] : 0;
            CHECK_EQ_U64(tl_tombs_seq_at(g, dom[k]), want);
        }
        tl_tombs_unref(g);
        tl_tombs_unref(t);
    }
}

TL_TEST(gc_edges) {
    tl_tombs_t *t = ins(NULL, 0, 10, 1);
    t = ins(t, 20, 30, 2);
    tl_tombs_t *g = (tl_tombs_t *)t;
    CHECK_OK(tl_tombs_gc(t, NULL, 2, &g));
    CHECK(g == NULL); /* nothing left */
    CHECK_OK(tl_tombs_gc(NULL, NULL, 0, &g));
    CHECK(g == NULL);
    CHECK_OK(tl_tombs_gc(t, NULL, 0, &g));
    CHECK(g && g->n == 2 && g != t);
    tl_tombs_unref(g);
    CHECK_OK(tl_tombs_gc(t, NULL, 1, &g));
    CHECK(g && g->n == 1 && g->v[0].lo == 20);
    tl_tombs_unref(g);
    tl_tombs_unref(t);
}

TL_TEST(enomem_every_allocation) {
    fail_alloc_t f = {0};
    tl_allocator_t a = {&f, fa_alloc, fa_free};
    tl_tombs_t *t = NULL;
    CHECK_OK(tl_tombs_insert(NULL, &a, 0, 100, 1, &t));
    for (long k = 1; k <= 2; k++) {
        f.calls = 0;
        f.fail_at = 1;
        tl_tombs_t *u = (tl_tombs_t *)&f;
        if (k == 1) {
            CHECK_ST(tl_tombs_insert(t, &a, 10, 20, 2, &u), TL_ENOMEM);
        } else {
            CHECK_ST(tl_tombs_gc(t, &a, 0, &u), TL_ENOMEM);
        }
        CHECK(u == NULL);
        CHECK(t->n == 1 && t->v[0].seq == 1); /* old set untouched */
    }
    f.fail_at = 0;
    tl_tombs_t *u = NULL;
    CHECK_OK(tl_tombs_insert(t, &a, 10, 20, 2, &u));
    tl_tombs_ref(u);
    tl_tombs_unref(u);
    tl_tombs_unref(u);
    tl_tombs_unref(t);
    CHECK_EQ_I64(f.live_blocks, 0);
    CHECK_EQ_I64(f.live_bytes, 0);
}

int main(void) {
    RUN(insert_split_and_merge);
    RUN(insert_int64_extremes);
    RUN(insert_bad_args);
    RUN(insert_random_vs_reference);
    RUN(gc_edges);
    RUN(enomem_every_allocation);
    return tl_test_done("tombs_test");
}
