/*
 * stats.c — tl_stats, tl_snapshot_stats and tl_validate.
 *
 * Stats are computed on a snapshot (the log's current state is pinned for the duration), so
 * they are consistent and never block the writer or maintenance: visible records come from
 * the tombstone-aware count (binary searches, no scan), sizes from the run and page headers.
 *
 * tl_validate walks the current manifest and the writer's generation and checks every
 * structural invariant: run shape (prefix sums, fences equal to the first/last record of each
 * page, ts non-decreasing across pages), watermarks <= manifest seq, L1 segments each inside
 * one window and ascending without overlap, tombstone fragments sorted and disjoint. It runs
 * on the writer thread (it reads the generation) and is O(records).
 */
#include <inttypes.h>

#include "durable/dur.h"
#include "jobs.h"
#include "txn.h"

tl_status_t tl_snapshot_stats(tl_snapshot_t *s, tl_stats_t *out) {
    if (s == NULL || out == NULL) return TL_EINVAL;
    return tl_snapshot_fill_stats(s, out);
}

tl_status_t tl_stats(tl_timelog_t *tl, tl_stats_t *out) {
    if (tl == NULL || out == NULL) return TL_EINVAL;
    tl_snapshot_t *s = NULL;
    tl_status_t st = tl_snapshot_acquire(tl, &s);
    if (st != TL_OK) return st;
    st = tl_snapshot_fill_stats(s, out);
    tl_snapshot_release(s);
    if (tl->dur != NULL) {
        tl_dur_stats_t d;
        tl_dur_stats(tl, &d);
        out->durable_seq = d.durable_seq;
        out->wal_bytes = d.wal_bytes;
        out->disk_bytes = d.disk_bytes;
        out->checkpoints_total = d.checkpoints;
        out->replayed_records = d.replayed;
        out->recovery_cut_bytes = d.cut_bytes;
        out->recovery_cut_records = d.cut_records;
        out->disk_written_bytes = d.written;
    }
    return st;
}

typedef struct vctx {
    tl_timelog_t *tl;
    const char *where;
    uint32_t idx;
} vctx_t;

static tl_status_t bad(vctx_t *v, const char *what) {
    return tl_err_set(v->tl, TL_EINTERNAL, "validate: %s[%u]: %s", v->where, v->idx, what);
}

/* Timestamp k of page i of r, whatever the page's kind (validation reads every record). */
static int64_t page_ts_at(const tl_run_t *r, uint32_t i, uint64_t k) {
    const tl_page_t *p = r->pages[i];
    return tl_page_packed(p) ? tl_pcodec_ts_at(p->pv, (uint32_t)k) : p->ts[k];
}

static tl_status_t check_pages(vctx_t *v, const tl_run_t *r) {
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < r->npages; i++) {
        uint64_t cnt = r->prefix[i + 1] - r->prefix[i];
        const tl_page_t *p = r->pages[i];
        if (cnt == 0 || cnt > p->cap) return bad(v, "page count out of range");
        if (tl_page_packed(p) != (r->page_h[i] == NULL)) return bad(v, "page kind mismatch");
        if (tl_page_packed(p) && cnt != p->cap) return bad(v, "packed page used in part");
        if (r->page_min[i] != page_ts_at(r, i, 0) || r->page_max[i] != page_ts_at(r, i, cnt - 1))
            return bad(v, "fence keys differ from page contents");
        for (uint64_t k = 0; k < cnt; k++) {
            int64_t t = page_ts_at(r, i, k);
            if (t < prev) return bad(v, "timestamps not sorted");
            prev = t;
        }
    }
    return TL_OK;
}

static tl_status_t check_run(vctx_t *v, const tl_run_t *r, uint64_t seq) {
    if (r == NULL) return bad(v, "NULL run");
    if (r->npages == 0 || r->prefix[0] != 0) return bad(v, "empty run or bad prefix[0]");
    if (r->prefix[r->npages] != r->n || r->n == 0) return bad(v, "n != prefix[npages]");
    if (r->ts_min != r->page_min[0] || r->ts_max != r->page_max[r->npages - 1])
        return bad(v, "run bounds differ from fences");
    if (r->wm != TL_SEQ_MAX && r->wm > seq) return bad(v, "watermark above manifest seq");
    return check_pages(v, r);
}

static tl_status_t check_vec(vctx_t *v, const tl_vec_t *vec, const char *where, uint64_t seq) {
    v->where = where;
    for (uint32_t i = 0; i < tl_vec_len(vec); i++) {
        v->idx = i;
        tl_status_t st = check_run(v, tl_vec_run(vec, i), seq);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

static tl_status_t check_l1(vctx_t *v, const tl_vec_t *l1) {
    v->where = "l1";
    for (uint32_t i = 0; i < tl_vec_len(l1); i++) {
        v->idx = i;
        const tl_run_t *r = tl_vec_run(l1, i);
        int64_t wlo, whi;
        tl_window_of(v->tl, r->ts_min, &wlo, &whi);
        if (r->ts_max > whi) return bad(v, "segment spans two windows");
        if (i > 0 && tl_vec_run(l1, i - 1)->ts_max >= wlo) return bad(v, "segments overlap");
    }
    return TL_OK;
}

static tl_status_t check_tombs(vctx_t *v, const tl_tombs_t *t, uint64_t seq) {
    v->where = "tombs";
    for (uint32_t i = 0; t != NULL && i < t->n; i++) {
        v->idx = i;
        if (t->v[i].lo > t->v[i].hi) return bad(v, "fragment lo > hi");
        if (t->v[i].seq == 0 || t->v[i].seq > seq) return bad(v, "fragment seq out of range");
        if (i > 0 && t->v[i - 1].hi >= t->v[i].lo) return bad(v, "fragments overlap");
    }
    return TL_OK;
}

static tl_status_t check_generation(vctx_t *v) {
    const tl_memtable_t *mt = &v->tl->mt;
    v->where = "active";
    v->idx = 0;
    uint32_t pr = mt->page_records;
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < mt->act_n; i++) {
        int64_t t = mt->act->pages[i / pr]->ts[i % pr];
        if (t < prev) return bad(v, "active records not sorted");
        prev = t;
    }
    if (mt->act_n > 0 && prev != mt->last) return bad(v, "last differs from newest record");
    v->where = "head";
    for (uint32_t i = 0; i < mt->head_n; i++) {
        if (mt->head->ts[i] >= mt->last) return bad(v, "head record not below last");
    }
    return check_vec(v, mt->head_runs, "head_runs", UINT64_MAX);
}

tl_status_t tl_validate(tl_timelog_t *tl) {
    if (tl == NULL) return TL_EINVAL;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) return TL_ESTATE;
    tl_wr_enter(tl); /* it reads the writer's generation: no idle seal meanwhile */
    tl_manifest_t *m = tl_pin(tl);
    vctx_t v = {tl, "", 0};
    tl_status_t st = check_vec(&v, m->l1, "l1", m->seq);
    if (st == TL_OK) st = check_l1(&v, m->l1);
    if (st == TL_OK) st = check_vec(&v, m->l0, "l0", m->seq);
    for (uint32_t i = 0; st == TL_OK && i < tl_vec_len(m->mem); i++) {
        st = check_vec(&v, tl_vec_vec(m->mem, i), "memrun", m->seq);
    }
    if (st == TL_OK) st = check_tombs(&v, m->tombs, tl->seq);
    if (st == TL_OK && m->seq > tl->seq) st = bad(&v, "manifest seq above log seq");
    if (st == TL_OK) st = check_generation(&v);
    tl_manifest_unref(m);
    tl_wr_exit(tl);
    return st;
}
