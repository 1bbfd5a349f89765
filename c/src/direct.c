/*
 * direct.c — forward reads that need no merge (merge.h): a resumable cursor, which forward
 * iterators use (scans and ranges in batches), and the one-call read (tl_direct_read_f64).
 *
 * Why: a settled log (maintenance done) usually holds a range in one source, the L1 chain,
 * with no tombstone over it. The merge then has one cursor, yet still pays for its machinery:
 * each packed page is decoded into the cursor's window and copied from there into the output
 * (two passes over every record), block ends are searched for, and the heap is kept. For a
 * 100-record range that machinery is a third of the read. Here the one chain is read straight
 * into the caller's columns: per miniblock, the timestamps are decoded into a stack buffer
 * that stays in L1 and converted to doubles as they are written out, and the values are
 * decoded in place (or through the stack buffer at a partial miniblock). The end of the range
 * costs no search until the miniblock that holds it: a miniblock whose successor's fence is
 * still <= hi is taken whole.
 *
 * When it applies: exactly one source has runs that meet [lo, hi], and no tombstone fragment
 * that meets [lo, hi] has a seq above any of those runs' wm (so nothing there is hidden). The
 * chain's runs are disjoint and ascending, so its records in order are the merge's answer,
 * ties included (equal timestamps across runs come out in chain order, as in the merge).
 * Anything else is the merge's (false, nothing written). Before that check, the start of the
 * range moves past tombstone fragments that hide everything from it on (retention's).
 *
 * The cursor keeps (run, page, offset) of the next record, so a batch that ends inside a
 * miniblock costs the next one a second decode of that miniblock only. The seek that finds the
 * start decodes the miniblock it lands in; the first read takes those timestamps instead of
 * decoding them again (C, settled 1M-record log, ranges of ~100: 285 -> 272 ns, medians of
 * five alternated runs).
 *
 * Complexity: one chain search, one seek (fence search + page search table), then O(records
 * read) with one miniblock decode per 64 records (plus one per batch); no allocation.
 */
#include <stddef.h>
#include <string.h>

#include "codec/pcodec.h"
#include "merge.h"

/* The one source with runs meeting [lo, hi] (its index, and in *first the first of those
 * runs), nsrc when none does, or UINT32_MAX when two or more do. */
static uint32_t lone_source(const tl_source_t *srcs, uint32_t nsrc, int64_t lo, int64_t hi,
                            uint32_t *first) {
    uint32_t found = nsrc;
    for (uint32_t i = 0; i < nsrc; i++) {
        const tl_source_t *s = &srcs[i];
        uint32_t ri = tl_chain_first_ge(s->runs, s->nruns, lo);
        if (ri == s->nruns || s->runs[ri]->ts_min > hi) continue;
        if (found != nsrc) return UINT32_MAX;
        found = i;
        *first = ri;
    }
    return found;
}

/* Whether a tombstone may hide a record of the chain's runs that meet [lo, hi] (the first of
 * them is runs[first]). */
static bool chain_hidden(const tl_source_t *s, uint32_t first, const tl_tombs_t *tombs,
                         int64_t lo, int64_t hi) {
    if (tombs == NULL || tombs->n == 0) return false;
    for (uint32_t ri = first; ri < s->nruns; ri++) {
        const tl_run_t *r = s->runs[ri];
        if (r->ts_min > hi) break;
        if (r->wm == TL_SEQ_MAX) continue; /* a mutable memtable view: never filtered */
        int64_t a = r->ts_min > lo ? r->ts_min : lo, b = r->ts_max < hi ? r->ts_max : hi;
        if (tl_tombs_hides_any(tombs, a, b, r->wm)) return true;
    }
    return false;
}

/* Whether every run meeting [lo, hi], in every source, is older than seq (wm < seq): then a
 * tombstone fragment of seq over [lo, hi] hides each of their records there. */
static bool runs_older(const tl_source_t *srcs, uint32_t nsrc, int64_t lo, int64_t hi,
                       uint64_t seq) {
    for (uint32_t i = 0; i < nsrc; i++) {
        const tl_source_t *s = &srcs[i];
        for (uint32_t ri = tl_chain_first_ge(s->runs, s->nruns, lo); ri < s->nruns; ri++) {
            if (s->runs[ri]->ts_min > hi) break;
            if (s->runs[ri]->wm >= seq) return false;
        }
    }
    return true;
}

/* lo moved past the tombstone fragments that hide every record from lo on (retention leaves
 * one over the oldest data, until maintenance drops what it hides), so that a scan after a
 * deleteBefore can still skip the merge. *none when they hide all of [lo, hi]. */
static int64_t past_hidden(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                           int64_t lo, int64_t hi, bool *none) {
    *none = false;
    if (tombs == NULL) return lo;
    for (uint32_t i = tl_tombs_find(tombs, lo); i < tombs->n; i++) {
        const tl_tomb_t *f = &tombs->v[i];
        if (f->lo > lo) break;
        int64_t to = f->hi < hi ? f->hi : hi;
        if (!runs_older(srcs, nsrc, lo, to, f->seq)) break;
        if (f->hi >= hi) {
            *none = true;
            break;
        }
        lo = f->hi + 1;
    }
    return lo;
}

/* Where a read stands: the output columns and how much of them is used. */
typedef struct out {
    double *ts;
    int64_t *ts64;
    uint64_t *h;
    size_t n, cap;
} out_t;

static inline void put_ts(out_t *o, const int64_t *src, size_t k) {
    if (o->ts != NULL) {
        double *dst = o->ts + o->n;
        for (size_t i = 0; i < k; i++) dst[i] = (double)src[i];
    } else if (o->ts64 != NULL) {
        memcpy(o->ts64 + o->n, src, k * sizeof(int64_t));
    }
}

/* Reads the records of raw page p of r from offset off that are <= hi, up to the room left.
 * Returns the offset after the last record read; *over when a record > hi follows it. */
static uint32_t read_raw(const tl_run_t *r, uint32_t p, uint32_t off, int64_t hi, out_t *o,
                         bool *over) {
    uint32_t cnt = tl_run_page_count(r, p);
    const int64_t *ts = tl_page_ts(r->pages[p]);
    uint32_t end = r->page_max[p] <= hi ? cnt : tl_ts_upper(ts, off, cnt, hi);
    size_t k = end - off, room = o->cap - o->n;
    if (k > room) k = room;
    put_ts(o, ts + off, k);
    if (o->h != NULL) memcpy(o->h + o->n, r->page_h[p] + off, k * sizeof(uint64_t));
    o->n += k;
    *over = off + k == end && end < cnt;
    return off + (uint32_t)k;
}

/* The same for packed page p, miniblock by miniblock; the timestamps of miniblock pre_mb are
 * already decoded in pre (pre_mb UINT32_MAX: none are). */
static uint32_t read_packed(const tl_run_t *r, uint32_t p, uint32_t off, int64_t hi, out_t *o,
                            bool *over, const int64_t *pre, uint32_t pre_mb) {
    const tl_pcodec_view_t *v = r->page_v[p];
    bool page_in = r->page_max[p] <= hi; /* every record of the page is <= hi */
    int64_t tbuf[TL_PCODEC_MB];
    uint64_t hbuf[TL_PCODEC_MB];
    *over = false;
    if (o->h != NULL) tl_pcodec_prefetch_h(v, off); /* its lines load while ts decodes */
    for (uint32_t j = off / TL_PCODEC_MB; j < v->nmb; j++) {
        uint32_t start = j * TL_PCODEC_MB, from = off > start ? off - start : 0, m;
        const int64_t *t = tbuf;
        if (j == pre_mb) {
            t = pre;
            m = tl_pcodec_mb_len(v->n, j);
        } else {
            m = tl_pcodec_ts_mb(v, j, tbuf);
        }
        uint32_t end = m; /* miniblock-relative end of the records <= hi */
        bool whole = page_in || (j + 1 < v->nmb && tl_pcodec_fence(v, j + 1) <= hi);
        if (!whole) end = tl_ts_upper(t, from, m, hi);
        size_t k = end - from, room = o->cap - o->n;
        if (k > room) k = room;
        put_ts(o, t + from, k);
        if (o->h != NULL && k > 0) {
            /* In place when the whole miniblock goes out and its 64 slots fit the room. */
            if (from == 0 && k == m && room >= TL_PCODEC_MB) {
                (void)tl_pcodec_h_mb(v, j, o->h + o->n);
            } else {
                (void)tl_pcodec_h_mb(v, j, hbuf);
                memcpy(o->h + o->n, hbuf + from, k * sizeof(uint64_t));
            }
        }
        o->n += k;
        if (from + k == end && end < m) *over = true;
        if (*over || o->n == o->cap) return start + from + (uint32_t)k;
    }
    return v->n;
}

bool tl_direct_open(tl_direct_t *d, const tl_source_t *srcs, uint32_t nsrc,
                    const tl_tombs_t *tombs, int64_t lo, int64_t hi) {
    if (lo > hi) return false;
    bool none = false;
    lo = past_hidden(srcs, nsrc, tombs, lo, hi, &none);
    uint32_t first = 0;
    uint32_t si = none ? nsrc : lone_source(srcs, nsrc, lo, hi, &first);
    if (si == UINT32_MAX) return false;
    memset(d, 0, offsetof(tl_direct_t, first_ts)); /* first_ts is written only when used */
    d->hi = hi;
    d->first_mb = UINT32_MAX;
    if (si == nsrc) { /* nothing meets the range, or nothing there is visible */
        d->done = true;
        return true;
    }
    if (chain_hidden(&srcs[si], first, tombs, lo, hi)) return false;
    d->src = srcs[si];
    d->run = first;
    const tl_run_t *r = d->src.runs[first];
    if (r->ts_min < lo) { /* later runs start after this one's ts_max >= lo */
        tl_run_pos_t pos = tl_run_seek_lower_keep(r, lo, d->first_ts, &d->first_mb);
        d->page = pos.page;
        d->off = pos.off;
    }
    return true;
}

size_t tl_direct_next(tl_direct_t *d, double *ts, int64_t *ts64, uint64_t *h, size_t cap) {
    out_t o = {ts, ts64, h, 0, cap};
    while (!d->done && o.n < o.cap) {
        if (d->run >= d->src.nruns) {
            d->done = true;
            break;
        }
        const tl_run_t *r = d->src.runs[d->run];
        if (d->page >= r->npages) {
            d->run++;
            d->page = d->off = 0;
            continue;
        }
        if (r->page_min[d->page] > d->hi) { /* also a run that starts past hi */
            d->done = true;
            break;
        }
        bool over = false;
        /* The open's page is the first one read (a seek that decoded has a page to read). */
        uint32_t pre_mb = d->first_mb;
        d->first_mb = UINT32_MAX;
        uint32_t at = r->page_h[d->page] != NULL
                          ? read_raw(r, d->page, d->off, d->hi, &o, &over)
                          : read_packed(r, d->page, d->off, d->hi, &o, &over, d->first_ts, pre_mb);
        if (over) {
            d->done = true;
        } else if (at >= tl_run_page_count(r, d->page)) {
            d->page++;
            d->off = 0;
        } else {
            d->off = at;
        }
    }
    return o.n;
}

bool tl_direct_read_f64(const tl_source_t *srcs, uint32_t nsrc, const tl_tombs_t *tombs,
                        int64_t lo, int64_t hi, double *ts, uint64_t *h, size_t cap,
                        size_t *n_out) {
    *n_out = 0;
    tl_direct_t d;
    if (!tl_direct_open(&d, srcs, nsrc, tombs, lo, hi)) return false;
    if (cap > 0) *n_out = tl_direct_next(&d, ts, NULL, h, cap);
    return true;
}
