/*
 * query.c — point queries over ranked sources without visiting records one by one.
 *
 * Sources and visibility are those of merge.c: a source is a chain of disjoint ascending
 * runs, and a record of run r is hidden iff tl_tombs_seq_at(ts) > r->wm.
 *
 * count(lo, hi): per run meeting [lo, hi], the fence/prefix count of records in range,
 *   minus, for every fragment meeting the range with seq > wm, the run's count inside that
 *   fragment. Fragments are disjoint, so nothing is subtracted twice. Cost per run:
 *   O((1 + f) (log P + log page_records)) for f hiding fragments in range; independent of
 *   the number of records counted.
 * first_ge(x) / last_le(x): per source, the chain's run holding the first record >= x (last
 *   <= x), found by binary search over the chain; the record's ts is checked against the
 *   skyline; if hidden, the search jumps past (before) the covering fragment and retries,
 *   moving on to the next (previous) run of the chain when this one is exhausted. The best
 *   candidate over all sources wins; a source stops early once it cannot beat the best.
 *   Cost O(K (log R + log P)) plus O(log) per hidden fragment skipped.
 *
 * Runs with wm = TL_SEQ_MAX (mutable memtable views) are never hidden and skip all of that.
 * Closed intervals throughout: the only +-1 steps are guarded (a fragment ending at
 * INT64_MAX / starting at INT64_MIN ends the search in that direction).
 */
#include "merge.h"

static inline bool run_filters(const tl_run_t *r, const tl_tombs_t *tb) {
    return tb != NULL && tb->n > 0 && r->wm != TL_SEQ_MAX;
}

/* The fragment holding t if it hides records of r, else NULL. */
static const tl_tomb_t *hiding_fragment(const tl_run_t *r, const tl_tombs_t *tb, int64_t t) {
    if (!run_filters(r, tb)) return NULL;
    uint32_t i = tl_tombs_find(tb, t);
    if (i == tb->n || tb->v[i].lo > t || tb->v[i].seq <= r->wm) return NULL;
    return &tb->v[i];
}

/* ---- count ---- */

static uint64_t run_visible_count(const tl_run_t *r, const tl_tombs_t *tb, int64_t lo,
                                  int64_t hi) {
    if (lo < r->ts_min) lo = r->ts_min;
    if (hi > r->ts_max) hi = r->ts_max;
    if (lo > hi) return 0;
    uint64_t n = tl_run_count(r, lo, hi);
    if (n == 0 || !run_filters(r, tb)) return n;
    for (uint32_t i = tl_tombs_find(tb, lo); i < tb->n && tb->v[i].lo <= hi; i++) {
        const tl_tomb_t *f = &tb->v[i];
        if (f->seq <= r->wm) continue;
        n -= tl_run_count(r, f->lo > lo ? f->lo : lo, f->hi < hi ? f->hi : hi);
    }
    return n;
}

uint64_t tl_query_count(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                        int64_t lo, int64_t hi) {
    if (lo > hi) return 0;
    uint64_t total = 0;
    for (uint32_t s = 0; s < nsrc; s++) {
        tl_run_t *const *runs = srcs[s].runs;
        uint32_t nruns = srcs[s].nruns;
        for (uint32_t i = tl_chain_first_ge(runs, nruns, lo); i < nruns; i++) {
            if (runs[i]->ts_min > hi) break;
            total += run_visible_count(runs[i], tombs, lo, hi);
        }
    }
    return total;
}

/* ---- first_ge ---- */

/* Smallest visible ts >= x in r that is < *best when *found (else any); updates both. */
static void run_first_ge(const tl_run_t *r, const tl_tombs_t *tb, int64_t x, bool *found,
                         int64_t *best) {
    tl_run_pos_t p = {0, 0};
    if (x > r->ts_min) p = tl_run_seek_lower(r, x);
    while (p.page < r->npages) {
        int64_t t = tl_run_ts_pos(r, p);
        if (*found && t >= *best) return; /* cannot improve */
        const tl_tomb_t *f = hiding_fragment(r, tb, t);
        if (f == NULL) {
            *found = true;
            *best = t;
            return;
        }
        if (f->hi == INT64_MAX) return; /* hidden to the end of time */
        p = tl_run_seek_upper(r, f->hi);
    }
}

tl_status_t tl_query_first_ge(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                              int64_t x, int64_t *out) {
    bool found = false;
    int64_t best = 0;
    for (uint32_t s = 0; s < nsrc; s++) {
        tl_run_t *const *runs = srcs[s].runs;
        uint32_t nruns = srcs[s].nruns;
        for (uint32_t i = tl_chain_first_ge(runs, nruns, x); i < nruns; i++) {
            if (found && runs[i]->ts_min >= best) break;
            bool had = found;
            int64_t prev = best;
            run_first_ge(runs[i], tombs, x, &found, &best);
            if (found && (!had || best != prev)) break; /* later runs of the chain are larger */
        }
    }
    if (!found) return TL_EOF;
    *out = best;
    return TL_OK;
}

/* ---- last_le ---- */

/* The position just before p (p may be {npages, 0}); false when p is the first record. */
static bool pos_prev(const tl_run_t *r, tl_run_pos_t *p) {
    if (p->off > 0) {
        p->off--;
        return true;
    }
    if (p->page == 0) return false;
    p->page--;
    p->off = tl_run_page_count(r, p->page) - 1;
    return true;
}

/* The last visible record <= x of r, when it is not older in read order than the hit so far
 * (a larger ts, or an equal one: r's source ranks above the hit's, see tl_query_last_le_at).
 * True when the chain walk may stop: r had a record <= x that settled the question. */
static bool run_last_le(const tl_run_t *r, const tl_tombs_t *tb, int64_t x, tl_query_hit_t *hit) {
    tl_run_pos_t p = {r->npages, 0};
    if (x < r->ts_max) p = tl_run_seek_upper(r, x);
    while (pos_prev(r, &p)) {
        int64_t t = tl_run_ts_pos(r, p);
        if (hit->found && t < hit->ts) return true; /* cannot improve; earlier runs are smaller */
        const tl_tomb_t *f = hiding_fragment(r, tb, t);
        if (f == NULL) {
            *hit = (tl_query_hit_t){r, p, t, true};
            return true;
        }
        if (f->lo == INT64_MIN) return false; /* hidden from the start of time */
        p = tl_run_seek_lower(r, f->lo);
    }
    return false;
}

void tl_query_last_le_at(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                         int64_t x, tl_query_hit_t *hit) {
    hit->found = false;
    for (uint32_t s = 0; s < nsrc; s++) {
        tl_run_t *const *runs = srcs[s].runs;
        for (uint32_t i = tl_chain_count_le(runs, srcs[s].nruns, x); i-- > 0;) {
            if (hit->found && runs[i]->ts_max < hit->ts) break;
            if (run_last_le(runs[i], tombs, x, hit)) break; /* earlier runs are smaller */
        }
    }
}

tl_status_t tl_query_last_le(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                             int64_t x, int64_t *out) {
    tl_query_hit_t hit;
    tl_query_last_le_at(srcs, nsrc, tombs, x, &hit);
    if (!hit.found) return TL_EOF;
    *out = hit.ts;
    return TL_OK;
}
