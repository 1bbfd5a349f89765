/*
 * memtable_test.c — generations: in-order pages, the out-of-order head, head runs, the stable
 * head sort (ties keep insertion order, wide key ranges), seals, and all-or-nothing writes
 * under injected allocation failures (rollback of seals and head runs mid-batch), head
 * buffers reused only once nothing references them, and the seal's view built from the
 * fields recorded as pages filled.
 */
#include "headsort.h"
#include "test.h"
#include "timelog_int.h"

TL_TEST(test_sort_to_run_stable) {
    enum { N = 3000 };
    static int64_t ts[N];
    static uint64_t h[N];
    uint64_t x = 99;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1;
        ts[i] = (i % 3 == 0) ? (int64_t)(x >> 1) : (int64_t)((x >> 50) % 64) - 32;
        if (i == 5) ts[i] = INT64_MIN;
        if (i == 6) ts[i] = INT64_MAX;
        h[i] = (uint64_t)i;
    }
    tl_run_t *r = NULL;
    CHECK_OK(tl_sort_to_run(NULL, 64, false, ts, h, N, 7, &r));
    CHECK(r != NULL);
    CHECK_EQ_U64(r->n, N);
    CHECK_EQ_U64(r->wm, 7);
    for (uint64_t i = 1; i < N; i++) {
        int64_t a = tl_run_ts_at(r, i - 1), b = tl_run_ts_at(r, i);
        CHECK(a <= b);
        if (a == b) CHECK(tl_run_h_at(r, i - 1) < tl_run_h_at(r, i));
    }
    CHECK_EQ_I64(r->ts_min, INT64_MIN);
    CHECK_EQ_I64(r->ts_max, INT64_MAX);
    tl_run_unref(r);
    CHECK_OK(tl_sort_to_run(NULL, 64, false, ts, h, 0, 7, &r));
    CHECK(r == NULL);
}

/* The packed sort (one word a record: key offset above index bits) and its fallbacks: key
 * spans that fit beside the index bits, that just do not (16-byte records), lengths at the
 * insertion-sort bound, and ties everywhere. Each run must hold the records sorted, ties in
 * arrival order (handles ascend), with every handle once. */
TL_TEST(test_sort_to_run_packed_spans) {
    enum { N = 3000 };
    static int64_t ts[N];
    static uint64_t h[N];
    static uint8_t seen[N];
    /* index bits for N = 3000: 12, so spans of 2^52 still pack and 2^53 do not */
    const uint64_t spans[] = {1, 2, 64, 1u << 16, (uint64_t)1 << 40, (uint64_t)1 << 52,
                              (uint64_t)1 << 53, UINT64_MAX};
    const size_t lens[] = {2, 32, 33, 500, N};
    uint64_t x = 7;
    for (size_t si = 0; si < sizeof spans / sizeof spans[0]; si++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            int64_t base = si % 2 ? INT64_MIN + 5 : -(int64_t)(spans[si] / 2);
            for (size_t i = 0; i < n; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                uint64_t off = spans[si] == UINT64_MAX ? x : (x >> 11) % spans[si];
                ts[i] = spans[si] == UINT64_MAX ? (int64_t)off : (int64_t)((uint64_t)base + off);
                h[i] = (uint64_t)i;
            }
            if (ts[0] < ts[n - 1]) { /* descending ends: never taken for sorted */
                int64_t t = ts[0];
                ts[0] = ts[n - 1];
                ts[n - 1] = t;
            }
            tl_run_t *r = NULL;
            CHECK_OK(tl_sort_to_run(NULL, 64, false, ts, h, n, 3, &r));
            CHECK(r != NULL);
            CHECK_EQ_U64(r->n, n);
            memset(seen, 0, n);
            for (uint64_t i = 0; i < n; i++) {
                uint64_t hi = tl_run_h_at(r, i);
                CHECK(hi < n && !seen[hi]);
                seen[hi] = 1;
                CHECK_EQ_I64(tl_run_ts_at(r, i), ts[hi]);
                if (i > 0) {
                    int64_t a = tl_run_ts_at(r, i - 1), b = tl_run_ts_at(r, i);
                    CHECK(a <= b);
                    if (a == b) CHECK(tl_run_h_at(r, i - 1) < hi);
                }
            }
            tl_run_unref(r);
        }
    }
}

TL_TEST(test_memtable_append_paths) {
    tl_memtable_t mt;
    CHECK_OK(tl_mt_init(&mt, NULL, 64, 200, 8, 4, false));
    CHECK(tl_mt_empty(&mt));
    for (int64_t i = 0; i < 150; i++) {
        if (!tl_mt_push_active(&mt, i, (uint64_t)i)) {
            CHECK_OK(tl_mt_reserve_page(&mt));
            CHECK(tl_mt_push_active(&mt, i, (uint64_t)i));
        }
    }
    CHECK_EQ_U64(mt.act_n, 150);
    CHECK_EQ_U64(mt.act->npages, 3);
    int64_t more[60];
    uint64_t mh[60];
    for (int i = 0; i < 60; i++) {
        more[i] = 150 + i;
        mh[i] = (uint64_t)i;
    }
    size_t taken = 0;
    CHECK_OK(tl_mt_append_sorted(&mt, more, mh, 60, &taken));
    CHECK_EQ_U64(taken, 50); /* directory capacity 200 */
    CHECK_ST(tl_mt_reserve_page(&mt), TL_EOF);
    CHECK_EQ_I64(tl_mt_max(&mt), 199);
    CHECK_EQ_I64(tl_mt_min(&mt), 0);
    tl_vec_t *memrun = NULL;
    CHECK_OK(tl_mt_build_memrun(&mt, 5, &memrun));
    CHECK_EQ_U64(tl_vec_len(memrun), 1);
    CHECK_EQ_U64(tl_vec_run(memrun, 0)->n, 200);
    CHECK_EQ_U64(tl_vec_run(memrun, 0)->wm, 5);
    tl_vec_unref(memrun);
    tl_mt_destroy(&mt);
}

/* The seal's view of the active directory: built from the fields the writer recorded as each
 * page filled, it equals the view read from the pages themselves (fences, prefix, tables,
 * summaries); and after a rollback into a recorded page, which the writer then fills anew
 * with other records, the recorded fields follow the new records. */
static bool same_view(const tl_run_t *a, const tl_run_t *b) {
    if (a->npages != b->npages || a->n != b->n || a->ts_min != b->ts_min ||
        a->ts_max != b->ts_max || (a->tab == NULL) != (b->tab == NULL) ||
        (a->sum == NULL) != (b->sum == NULL)) {
        return false;
    }
    for (uint32_t i = 0; i < a->npages; i++) {
        if (a->pages[i] != b->pages[i] || a->page_min[i] != b->page_min[i] ||
            a->page_max[i] != b->page_max[i] || a->prefix[i + 1] != b->prefix[i + 1] ||
            a->page_h[i] != b->page_h[i]) {
            return false;
        }
        if (a->tab) {
            const uint16_t *ta = a->tab + i * TL_TAB, *tb = b->tab + i * TL_TAB;
            if (ta[0] != tb[0]) return false;
            if (ta[0] != TL_RUN_TAB_NONE && memcmp(ta, tb, TL_TAB * sizeof *ta) != 0) return false;
        }
        if (a->sum && memcmp(&a->sum[i], &b->sum[i], sizeof a->sum[i]) != 0) return false;
    }
    return true;
}

static bool views_agree(tl_memtable_t *mt) {
    tl_active_t *d = mt->act;
    uint32_t pr = d->page_records, np = (mt->act_n + pr - 1) / pr;
    static uint32_t counts[16];
    for (uint32_t i = 0; i < np; i++) counts[i] = i + 1 < np ? pr : mt->act_n - i * pr;
    tl_run_t *seal = NULL, *ref = NULL;
    if (tl_active_seal_view(NULL, d, mt->act_n, 9, &seal) != TL_OK) return false;
    tl_active_unseal(d); /* the run keeps its own references */
    if (tl_run_from_pages_as_is(NULL, d->pages, counts, np, 9, NULL, false, &ref) != TL_OK) {
        return false;
    }
    bool same = same_view(seal, ref) && seal->tab != NULL && seal->sum != NULL;
    tl_run_unref(seal);
    tl_run_unref(ref);
    return same;
}

static void push_f64(tl_memtable_t *mt, int64_t ts, double v) {
    uint64_t h;
    memcpy(&h, &v, sizeof h);
    if (!tl_mt_push_active(mt, ts, h)) {
        (void)tl_mt_reserve_page(mt);
        (void)tl_mt_push_active(mt, ts, h);
    }
}

TL_TEST(test_seal_view_from_recorded_fields) {
    enum { PR = 1024 }; /* pages of TL_TAB_MIN_CAP records carry a search table */
    tl_memtable_t mt;
    CHECK_OK(tl_mt_init(&mt, NULL, PR, 8 * PR, 8, 4, true));
    for (int64_t i = 0; i < 3 * PR + PR / 2; i++) push_f64(&mt, i / 3, (double)(i % 17) / 4);
    CHECK_EQ_U64(mt.act->fields.n, 3); /* pages 0..2 full, each recorded as the next began */
    CHECK(views_agree(&mt));
    CHECK_EQ_I64(mt.act->fields.max[1], (2 * PR - 1) / 3);
    mt.act_n = PR + 500; /* a rollback into page 1 */
    tl_mt_sync_cursor(&mt);
    CHECK_EQ_U64(mt.act->fields.n, 1);
    CHECK(views_agree(&mt));
    int64_t t = (PR + 499) / 3;
    for (int64_t i = PR + 500; i < 3 * PR + 7; i++) push_f64(&mt, t + i, -(double)i);
    CHECK_EQ_U64(mt.act->fields.n, 3);
    CHECK_EQ_I64(mt.act->fields.max[1], t + 2 * PR - 1); /* the new records' */
    CHECK(views_agree(&mt));
    tl_mt_destroy(&mt);
}

/* Allocator that fails after a budget of successful calls. */
typedef struct failer {
    long budget; /* < 0: never fail */
    long live;
} failer_t;

static void *f_alloc(void *ctx, size_t size) {
    failer_t *f = ctx;
    if (f->budget == 0) return NULL;
    if (f->budget > 0) f->budget--;
    f->live++;
    return malloc(size);
}

static void f_free(void *ctx, void *p, size_t size) {
    failer_t *f = ctx;
    (void)size;
    f->live--;
    free(p);
}

static uint64_t visible(tl_timelog_t *tl) {
    tl_snapshot_t *s = NULL;
    uint64_t n = 0;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return UINT64_MAX;
    if (tl_snapshot_count(s, INT64_MIN, INT64_MAX, &n) != TL_OK) n = UINT64_MAX;
    tl_snapshot_release(s);
    return n;
}

/* Every record a snapshot holds, as (ts, handle) folded into one checksum, and their count. */
static uint64_t snapshot_sum(tl_snapshot_t *s, uint64_t *count) {
    tl_iter_t *it = NULL;
    uint64_t sum = 0, n = 0;
    if (tl_iter_open(s, INT64_MIN, INT64_MAX, &it) != TL_OK) return 0;
    int64_t ts[256];
    uint64_t h[256];
    size_t k = 0;
    while (tl_iter_next_batch(it, ts, h, 256, &k) == TL_OK && k > 0) {
        for (size_t i = 0; i < k; i++) sum = sum * 1000003u + (uint64_t)ts[i] * 31u + h[i];
        n += k;
    }
    tl_iter_destroy(it);
    *count = n;
    return sum;
}

/* k pairs of one in-order record (at *next, which advances) and one 500 ticks late, handles
 * counting up from *written: a head of 16 records changes every 16 pairs. */
static tl_status_t in_and_late(tl_timelog_t *tl, int64_t *next, uint64_t *written, int k) {
    for (int i = 0; i < k; i++) {
        tl_status_t st = tl_append(tl, (*next)++, (*written)++);
        if (st == TL_OK) st = tl_append(tl, *next - 500, (*written)++);
        if (st != TL_OK) return st;
    }
    return TL_OK;
}

static uint32_t page_refs(const tl_page_t *p) {
    return atomic_load_explicit(&p->refs, memory_order_relaxed);
}

static bool refs_all(const tl_active_t *d, uint32_t want) {
    for (uint32_t i = 0; i < d->npages; i++) {
        if (page_refs(d->pages[i]) != want) return false;
    }
    return true;
}

/* The seal's view takes over the directory's page references instead of taking its own: the
 * pages' counts do not move, the view equals one that references its pages, and the pages
 * live as long as either the directory (through the run) or the run; unsealing gives the
 * directory its references back. Nothing leaks. */
TL_TEST(test_seal_view_adopts_the_directory_pages) {
    enum { PR = 1024 };
    failer_t f = {-1, 0};
    tl_allocator_t a = {&f, f_alloc, f_free};
    tl_memtable_t mt;
    CHECK_OK(tl_mt_init(&mt, &a, PR, 8 * PR, 8, 4, true));
    for (int64_t i = 0; i < 3 * PR + PR / 2; i++) push_f64(&mt, i / 3, (double)(i % 17) / 4);
    tl_active_t *d = mt.act;
    CHECK_EQ_U64(d->npages, 4);
    CHECK(refs_all(d, 1));
    tl_run_t *run = NULL, *ref = NULL;
    CHECK_OK(tl_active_seal_view(&a, d, mt.act_n, 9, &run));
    CHECK(d->sealed == run && d->sealed_np == 4 && refs_all(d, 1));
    CHECK_EQ_U64(atomic_load(&run->refs), 2); /* ours and the directory's */
    static uint32_t counts[4] = {PR, PR, PR, PR / 2};
    CHECK_OK(tl_run_from_pages_as_is(&a, d->pages, counts, 4, 9, NULL, false, &ref));
    CHECK(same_view(run, ref) && refs_all(d, 2));
    tl_run_unref(ref);
    tl_active_unseal(d); /* a seal that did not happen: the run lives on with its own */
    CHECK(d->sealed == NULL && refs_all(d, 2));
    tl_run_unref(run);
    CHECK(refs_all(d, 1));
    CHECK_OK(tl_active_seal_view(&a, d, mt.act_n, 9, &run));
    tl_mt_destroy(&mt); /* the directory goes: its pages stay, held by the run alone */
    CHECK_EQ_U64(atomic_load(&run->refs), 1);
    for (uint32_t i = 0; i < run->npages; i++) CHECK_EQ_U64(page_refs(run->pages[i]), 1);
    CHECK_EQ_I64(run->ts_max, (3 * PR + PR / 2 - 1) / 3);
    CHECK_EQ_I64(tl_run_ts_at(run, run->n - 1), run->ts_max); /* the pages are readable */
    tl_run_unref(run);
    CHECK_EQ_U64(f.live, 0);
}

/* A full head is replaced by the spare buffer when nobody references the spare any more, so
 * the writer alternates between two warm buffers; a head a snapshot pins is never handed out
 * again while the snapshot lives, and the snapshot reads the same records throughout. */
TL_TEST(test_head_buffers_reused_only_when_unreferenced) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 1u << 16;
    c.ooo_head_records = 16;
    c.ooo_runs_max = 1000;
    c.sealed_max = 1000;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    int64_t next = 1000;
    uint64_t written = 0;
    CHECK_OK(in_and_late(tl, &next, &written, 17));
    tl_head_t *first = tl->mt.head; /* the second buffer: the first one filled */
    CHECK(first != NULL);
    CHECK_OK(in_and_late(tl, &next, &written, 16));
    tl_head_t *second = tl->mt.head;
    CHECK(second != NULL && second != first); /* the first full buffer came back */
    CHECK_OK(in_and_late(tl, &next, &written, 16));
    CHECK(tl->mt.head == first); /* and again: two buffers in turn */

    /* A snapshot pins the current head (part-filled): once full it must not come back while
     * pinned. */
    CHECK_OK(in_and_late(tl, &next, &written, 1));
    tl_head_t *pinned = tl->mt.head;
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    uint64_t n0 = 0, sum0 = snapshot_sum(s, &n0);
    CHECK_EQ_U64(n0, written);
    bool left = false; /* the writer fills the pinned head to the end, then leaves it */
    for (int i = 0; i < 200; i++) {
        CHECK_OK(tl_append(tl, next++, written++));
        CHECK_OK(tl_append(tl, next - 500 - (i % 7), written++));
        if (tl->mt.head != pinned) left = true;
        else CHECK(!left);
    }
    CHECK(left);
    uint64_t n1 = 0, sum1 = snapshot_sum(s, &n1);
    CHECK_EQ_U64(n1, n0);
    CHECK_EQ_U64(sum1, sum0);
    tl_snapshot_release(s);
    CHECK_EQ_U64(visible(tl), written);
    CHECK_OK(tl_validate(tl));
    tl_close(tl); /* the spare goes with the log: ASan's leak check */
}

TL_TEST(test_batch_all_or_nothing_under_enomem) {
    failer_t f = {-1, 0};
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 256;
    c.ooo_head_records = 16;
    c.ooo_runs_max = 4;
    c.sealed_max = 1000;
    c.allocator = (tl_allocator_t){&f, f_alloc, f_free};
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    enum { N = 1000 };
    static int64_t ts[N];
    static uint64_t h[N];
    uint64_t expect = 0;
    int failures = 0;
    for (int b = 0; b < 40; b++) {
        for (int i = 0; i < N; i++) {
            ts[i] = (int64_t)(b * N + i) - ((i % 4 == 0) ? 30 : 0);
            h[i] = (uint64_t)i;
        }
        f.budget = b % 2 ? (long)(b * 3 % 17) : -1; /* fail mid-batch on odd rounds */
        tl_status_t st = tl_append_batch(tl, ts, h, N, 0);
        f.budget = -1;
        if (st == TL_ENOMEM) {
            failures++;
            char msg[128];
            CHECK(tl_last_error(tl, msg, sizeof msg) > 0);
        } else {
            CHECK(st == TL_OK || st == TL_EBUSY);
            expect += N;
        }
        CHECK_EQ_U64(visible(tl), expect);
        CHECK_OK(tl_validate(tl));
    }
    CHECK(failures > 0);
    f.budget = 3;
    CHECK_ST(tl_delete_range(tl, 0, 100000), TL_ENOMEM);
    f.budget = -1;
    CHECK_EQ_U64(visible(tl), expect);
    CHECK_OK(tl_compact(tl));
    CHECK_EQ_U64(visible(tl), expect);
    tl_close(tl);
    CHECK_EQ_U64(f.live, 0); /* nothing leaked through the rollbacks */
}

int main(void) {
    RUN(test_sort_to_run_stable);
    RUN(test_sort_to_run_packed_spans);
    RUN(test_memtable_append_paths);
    RUN(test_seal_view_from_recorded_fields);
    RUN(test_seal_view_adopts_the_directory_pages);
    RUN(test_batch_all_or_nothing_under_enomem);
    RUN(test_head_buffers_reused_only_when_unreferenced);
    return tl_test_done("memtable_test");
}
