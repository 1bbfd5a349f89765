/*
 * arena_test.c — the page arena's evacuation (which chunks it marks, what a marked chunk
 * hands out, what evac_end frees or keeps) and tl_compact's relocation built on it: the log
 * reads the same before and after, a snapshot taken before still reads its own version, and
 * the chunks that emptied go back once the last reader of the old pages lets go.
 */
#include <string.h>
#include <time.h>

#include "arena.h"
#include "test.h"
#include "timelog_int.h"

enum { BLOCK = 256 * 1024 }; /* 15 blocks to a 4 MiB chunk */

static uint64_t chunks_of(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    uint64_t n = ar->chunks;
    pthread_mutex_unlock(&ar->mu);
    return n;
}

/* Fills k chunks: b[c][i] is block i of chunk c. */
static bool fill(tl_arena_t *ar, void *b[][64], int k) {
    for (int c = 0; c < k; c++) {
        for (uint32_t i = 0; i < ar->nslots; i++) {
            if ((b[c][i] = tl_mem_alloc(&ar->self, BLOCK)) == NULL) return false;
        }
    }
    return true;
}

/* Which of the k chunks (by first block) holds block b. */
static int chunk_index(void *const *first, int k, const void *b) {
    for (int i = 0; i < k; i++) {
        const char *lo = first[i];
        if ((const char *)b >= lo && (const char *)b < lo + (size_t)4 * 1024 * 1024) return i;
    }
    return -1;
}

TL_TEST(test_evac_marks_what_the_others_absorb) {
    fail_alloc_t fa = {0};
    tl_allocator_t under = {.ctx = &fa, .alloc = fa_alloc, .free = fa_free};
    tl_arena_t ar;
    CHECK_OK(tl_arena_init(&ar, &under, BLOCK));
    const uint32_t S = ar.nslots;
    CHECK(S >= 8);
    /* Four full chunks, then free: chunk 0 all but 3 blocks, chunk 1 half, chunk 2 two
     * blocks, chunk 3 none. Chunk 0 (3 in use) fits into the others' free blocks; chunk 1
     * (S - S/2 in use) does not fit into chunk 2's two. */
    enum { K = 4 };
    void *b[K][64];
    CHECK(S <= 64);
    CHECK(fill(&ar, b, K));
    CHECK_EQ_U64(chunks_of(&ar), K);
    void *first[K];
    for (int c = 0; c < K; c++) first[c] = (char *)b[c][0] - 16;
    for (uint32_t i = 3; i < S; i++) tl_mem_free(&ar.self, b[0][i], BLOCK);
    for (uint32_t i = 0; i < S / 2; i++) tl_mem_free(&ar.self, b[1][i], BLOCK);
    tl_mem_free(&ar.self, b[2][0], BLOCK);
    tl_mem_free(&ar.self, b[2][1], BLOCK);

    CHECK_EQ_U64(tl_arena_evac_begin(&ar), 1);
    for (uint32_t i = 0; i < 3; i++) CHECK(tl_arena_evac_holds(&ar, b[0][i], BLOCK));
    CHECK(!tl_arena_evac_holds(&ar, b[1][S - 1], BLOCK));
    CHECK(!tl_arena_evac_holds(&ar, b[3][0], BLOCK));
    CHECK(!tl_arena_evac_holds(&ar, b[0][0], BLOCK + 1)); /* other sizes are never blocks */

    /* Move chunk 0's three blocks: the new ones come from the fullest chunks first (chunk 2,
     * then chunk 1), never from the marked one. */
    void *moved[3];
    for (int i = 0; i < 3; i++) {
        moved[i] = tl_mem_alloc(&ar.self, BLOCK);
        CHECK(moved[i] != NULL);
        CHECK(!tl_arena_evac_holds(&ar, moved[i], BLOCK));
    }
    CHECK_EQ_I64(chunk_index(first, K, moved[0]), 2);
    CHECK_EQ_I64(chunk_index(first, K, moved[1]), 2);
    CHECK_EQ_I64(chunk_index(first, K, moved[2]), 1);
    for (int i = 0; i < 3; i++) tl_mem_free(&ar.self, b[0][i], BLOCK);
    CHECK_EQ_U64(chunks_of(&ar), K); /* a marked chunk waits for evac_end */
    tl_arena_evac_end(&ar);
    tl_arena_trim(&ar); /* the emptied chunk became the spare; trim releases it */
    CHECK_EQ_U64(chunks_of(&ar), K - 1);

    for (int i = 0; i < 3; i++) tl_mem_free(&ar.self, moved[i], BLOCK);
    for (uint32_t i = S / 2; i < S; i++) tl_mem_free(&ar.self, b[1][i], BLOCK);
    for (uint32_t i = 2; i < S; i++) tl_mem_free(&ar.self, b[2][i], BLOCK);
    for (uint32_t i = 0; i < S; i++) tl_mem_free(&ar.self, b[3][i], BLOCK);
    tl_arena_destroy(&ar);
    CHECK_EQ_I64(fa.live_blocks, 0);
    CHECK_EQ_I64(fa.live_bytes, 0);
}

TL_TEST(test_evac_end_keeps_a_chunk_still_in_use) {
    fail_alloc_t fa = {0};
    tl_allocator_t under = {.ctx = &fa, .alloc = fa_alloc, .free = fa_free};
    tl_arena_t ar;
    CHECK_OK(tl_arena_init(&ar, &under, BLOCK));
    const uint32_t S = ar.nslots;
    void *b[2][64];
    CHECK(fill(&ar, b, 2));
    for (uint32_t i = 1; i < S; i++) tl_mem_free(&ar.self, b[0][i], BLOCK); /* 1 in use */
    tl_mem_free(&ar.self, b[1][0], BLOCK); /* room for it */
    CHECK_EQ_U64(tl_arena_evac_begin(&ar), 1);
    CHECK(tl_arena_evac_holds(&ar, b[0][0], BLOCK));
    /* Nothing moved (a reader still holds the page): the chunk returns to normal use, and
     * its free blocks are handed out again. */
    tl_arena_evac_end(&ar);
    CHECK(!tl_arena_evac_holds(&ar, b[0][0], BLOCK));
    void *again[2];
    for (int i = 0; i < 2; i++) CHECK((again[i] = tl_mem_alloc(&ar.self, BLOCK)) != NULL);
    CHECK_EQ_U64(chunks_of(&ar), 2);
    for (int i = 0; i < 2; i++) tl_mem_free(&ar.self, again[i], BLOCK);
    tl_mem_free(&ar.self, b[0][0], BLOCK);
    for (uint32_t i = 1; i < S; i++) tl_mem_free(&ar.self, b[1][i], BLOCK);
    tl_arena_destroy(&ar);
    CHECK_EQ_I64(fa.live_blocks, 0);
}

TL_TEST(test_evac_nothing_to_gain) {
    tl_arena_t ar;
    CHECK_OK(tl_arena_init(&ar, NULL, BLOCK));
    const uint32_t S = ar.nslots;
    void *b[2][64];
    CHECK(fill(&ar, b, 2));
    /* Two half-full chunks: neither fits into the other's free blocks... */
    for (uint32_t i = 0; i < S / 2 + 1; i++) tl_mem_free(&ar.self, b[0][i], BLOCK);
    for (uint32_t i = 0; i < S / 2 - 1; i++) tl_mem_free(&ar.self, b[1][i], BLOCK);
    CHECK_EQ_U64(tl_arena_evac_begin(&ar), 0);
    tl_arena_evac_end(&ar);
    /* ...until one more block is free. */
    tl_mem_free(&ar.self, b[1][S / 2 - 1], BLOCK);
    CHECK_EQ_U64(tl_arena_evac_begin(&ar), 1);
    tl_arena_evac_end(&ar);
    for (uint32_t i = S / 2 + 1; i < S; i++) tl_mem_free(&ar.self, b[0][i], BLOCK);
    for (uint32_t i = S / 2; i < S; i++) tl_mem_free(&ar.self, b[1][i], BLOCK);
    tl_arena_destroy(&ar);
}

/* ---- tl_compact's relocation, end to end ---- */

typedef struct {
    uint64_t n, sum_ts, sum_h;
} digest_t;

static digest_t scan(tl_snapshot_t *s) {
    static int64_t ts[8192];
    static uint64_t h[8192];
    digest_t d = {0, 0, 0};
    tl_iter_t *it = NULL;
    if (tl_iter_since(s, INT64_MIN, &it) != TL_OK) return (digest_t){UINT64_MAX, 0, 0};
    size_t n = 0;
    while (tl_iter_next_batch(it, ts, h, 8192, &n) == TL_OK) {
        for (size_t i = 0; i < n; i++) {
            d.sum_ts += (uint64_t)ts[i];
            d.sum_h += h[i];
        }
        d.n += n;
    }
    tl_iter_destroy(it);
    return d;
}

static digest_t scan_log(tl_timelog_t *tl) {
    tl_snapshot_t *s = NULL;
    if (tl_snapshot_acquire(tl, &s) != TL_OK) return (digest_t){UINT64_MAX, 0, 0};
    digest_t d = scan(s);
    tl_snapshot_release(s);
    return d;
}

/* The writer wakes the worker when its takes leave the spares low, and the worker warms the
 * next chunks though it has nothing else to do (no seal, nothing to flush): the write calls
 * that follow take chunks already faulted in instead of mapping one themselves. */
TL_TEST(test_low_spares_wake_the_worker) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_BACKGROUND;
    c.page_records = 4096;
    c.memtable_records = 1u << 20; /* no seal in this test */
    c.idle_ms = 0; /* no idle trim of the spares */
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    const uint64_t pages = tl->arena.nslots + 8; /* more than one chunk of memtable pages */
    static int64_t ts[4096];
    static uint64_t h[4096];
    for (uint64_t p = 0; p < pages; p++) {
        for (int i = 0; i < 4096; i++) ts[i] = (int64_t)(p * 4096 + (uint64_t)i);
        CHECK_OK(tl_append_batch(tl, ts, h, 4096, 0));
    }
    tl_stats_t s;
    CHECK_OK(tl_stats(tl, &s));
    CHECK_EQ_U64(s.seals_total, 0);
    /* Poll for both: a take after the worker's prepare began marks the spares low again and
     * kicks it once more, so spares can reach 2 a moment before that second round clears the
     * mark (seen under ASan's slower writer). */
    uint32_t spares = 0;
    bool low = true;
    for (int tries = 0; tries < 2000 && (spares < 2 || low); tries++) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&tl->arena.mu);
        spares = tl->arena.nspare;
        pthread_mutex_unlock(&tl->arena.mu);
        low = tl_arena_is_low(&tl->arena);
    }
    CHECK(spares >= 2);
    CHECK(!low);
    CHECK_EQ_U64(s.records, pages * 4096);
    tl_close(tl);
}

/* Page k holds ts [k P, (k + 1) P): whether the scenario deletes it. Over the first four
 * chunks' worth of pages: most of the first, a quarter of the second, half of the third,
 * none of the fourth, so the blocks left in use are spread over every chunk. */
static bool deleted(uint64_t k, uint32_t slots) {
    uint64_t c = k / slots;
    return c == 0 ? k % 4 != 0 : c == 1 ? k % 4 == 1 : c == 2 ? k % 2 == 1 : false;
}

TL_TEST(test_compact_relocates_into_fewer_chunks) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 4096;
    c.raw_pages = 1; /* relocation moves raw pages; packed ones leave the chunks anyway */
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl));
    const uint64_t P = c.page_records, S = tl->arena.nslots, pages = 4 * S;
    enum { B = 65536 };
    static int64_t ts[B];
    static uint64_t h[B];
    for (uint64_t off = 0; off < pages * P; off += B) {
        uint64_t n = pages * P - off < B ? pages * P - off : B;
        for (uint64_t i = 0; i < n; i++) ts[i] = (int64_t)(off + i), h[i] = off + i + 1;
        int st = tl_append_batch(tl, ts, h, n, 0);
        CHECK(st == TL_OK || st == TL_EBUSY);
    }
    CHECK_OK(tl_compact(tl));
    digest_t want = {0, 0, 0};
    for (uint64_t k = 0; k < pages; k++) {
        if (deleted(k, (uint32_t)S)) {
            CHECK_OK(tl_delete_range(tl, (int64_t)(k * P), (int64_t)((k + 1) * P)));
            continue;
        }
        for (uint64_t t = k * P; t < (k + 1) * P; t++) want.n++, want.sum_ts += t, want.sum_h += t + 1;
    }
    /* A snapshot across the compaction pins the deleted pages: nothing is free yet, so there
     * is nothing to relocate; its release frees them in the middle of every chunk. */
    tl_snapshot_t *before = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &before));
    CHECK_OK(tl_compact(tl));
    tl_snapshot_release(before);
    uint64_t spread = chunks_of(&tl->arena);
    CHECK(spread >= 4);

    /* Now tl_compact relocates, while s reads the version before it. */
    tl_snapshot_t *s = NULL;
    CHECK_OK(tl_snapshot_acquire(tl, &s));
    CHECK_OK(tl_compact(tl));
    digest_t got = scan_log(tl), old = scan(s);
    CHECK_EQ_U64(got.n, want.n);
    CHECK_EQ_U64(got.sum_ts, want.sum_ts);
    CHECK_EQ_U64(got.sum_h, want.sum_h);
    CHECK_EQ_U64(old.n, want.n);
    CHECK_EQ_U64(old.sum_h, want.sum_h);
    CHECK(chunks_of(&tl->arena) >= spread); /* s still holds the old pages */
    tl_snapshot_release(s);
    CHECK_OK(tl_compact(tl)); /* gives the emptied chunk back */
    tl_stats_t st;
    CHECK_OK(tl_stats(tl, &st));
    uint64_t need = (st.pages + S - 1) / S; /* chunks the live pages fill */
    CHECK(chunks_of(&tl->arena) <= need + 1); /* + the active memtable's page */
    CHECK(chunks_of(&tl->arena) < spread);
    CHECK_OK(tl_validate(tl));
    got = scan_log(tl);
    CHECK_EQ_U64(got.n, want.n);
    CHECK_EQ_U64(got.sum_h, want.sum_h);
    tl_close(tl);
}

/* Spares: emptied chunks are kept (up to 8) and reused before any new chunk is mapped;
 * tl_arena_prepare brings the warm ones back to two in one call, and does nothing when two
 * are there; a take that leaves fewer raises `low`, which wakes the worker once
 * (tl_arena_low_kick) and which prepare clears; a failed allocation in it is harmless; trim
 * frees every spare. */
TL_TEST(test_spares_and_prepare) {
    fail_alloc_t fa = {0};
    tl_allocator_t under = {.ctx = &fa, .alloc = fa_alloc, .free = fa_free};
    tl_arena_t ar;
    CHECK_OK(tl_arena_init(&ar, &under, BLOCK));
    const uint32_t S = ar.nslots;
    CHECK(S <= 64);
    enum { K = 10 };
    static void *b[K][64];
    CHECK(fill(&ar, b, K));
    CHECK_EQ_U64(chunks_of(&ar), K);
    for (int c = 0; c < K; c++) {
        for (uint32_t i = 0; i < S; i++) tl_mem_free(&ar.self, b[c][i], BLOCK);
    }
    CHECK_EQ_U64(chunks_of(&ar), 8); /* eight kept, two unmapped */
    CHECK_EQ_U64(ar.nspare, 8);
    long allocs = fa.calls;
    CHECK(fill(&ar, b, 8)); /* eight chunks' worth: all from the spares */
    CHECK_EQ_U64(fa.calls, allocs);
    CHECK_EQ_U64(ar.nspare, 0);
    CHECK(tl_arena_is_low(&ar));
    CHECK(tl_arena_low_kick(&ar));
    CHECK(!tl_arena_low_kick(&ar)); /* once per low period */
    CHECK(tl_arena_prepare(&ar, NULL, NULL)); /* both warm chunks at once */
    CHECK_EQ_U64(ar.nspare, 2);
    CHECK(!tl_arena_is_low(&ar) && !tl_arena_low_kick(&ar));
    CHECK(!tl_arena_prepare(&ar, NULL, NULL)); /* two warm: nothing to do */
    CHECK_EQ_U64(chunks_of(&ar), 10);
    allocs = fa.calls;
    void *x = tl_mem_alloc(&ar.self, BLOCK); /* from a prepared spare, no new mapping */
    CHECK(x != NULL);
    CHECK_EQ_U64(fa.calls, allocs);
    CHECK(tl_arena_is_low(&ar)); /* one spare left */
    CHECK(tl_arena_low_kick(&ar));
    fa.fail_at = fa.calls + 2; /* the chunk's memory: ENOMEM, nothing kept, nothing leaked */
    CHECK_EQ_U64(ar.nspare, 1);
    CHECK(!tl_arena_prepare(&ar, NULL, NULL));
    CHECK_EQ_U64(chunks_of(&ar), 10);
    fa.fail_at = 0;
    tl_mem_free(&ar.self, x, BLOCK);
    for (int c = 0; c < 8; c++) {
        for (uint32_t i = 0; i < S; i++) tl_mem_free(&ar.self, b[c][i], BLOCK);
    }
    tl_arena_trim(&ar);
    CHECK_EQ_U64(chunks_of(&ar), 0);
    tl_arena_destroy(&ar);
    CHECK_EQ_I64(fa.live_blocks, 0);
    CHECK_EQ_I64(fa.live_bytes, 0);
}

/* tl_arena_prepare's stop: says yes once *ctx asks have said no. */
static bool stop_after(void *ctx) {
    int *left = ctx;
    return (*left)-- <= 0;
}

/* A prepare told to stop ends there: asked before a chunk, it maps nothing; asked between the
 * 2 MiB of a chunk, it keeps that chunk as a spare. Either way `low` is raised again, so the
 * worker goes on later, and a call left alone brings the spares to two. */
TL_TEST(test_prepare_stops_when_told) {
    fail_alloc_t fa = {0};
    tl_allocator_t under = {.ctx = &fa, .alloc = fa_alloc, .free = fa_free};
    tl_arena_t ar;
    CHECK_OK(tl_arena_init(&ar, &under, BLOCK));
    void *x = tl_mem_alloc(&ar.self, BLOCK);
    CHECK(x != NULL && ar.nspare == 0 && tl_arena_is_low(&ar));
    long allocs = fa.calls;
    int left = 0;
    CHECK(!tl_arena_prepare(&ar, stop_after, &left));
    CHECK_EQ_U64(fa.calls, allocs);
    CHECK_EQ_U64(ar.nspare, 0);
    CHECK(tl_arena_is_low(&ar));
    left = 1; /* yes to the chunk, no at its second 2 MiB */
    CHECK(tl_arena_prepare(&ar, stop_after, &left));
    CHECK_EQ_U64(ar.nspare, 1);
    CHECK(tl_arena_is_low(&ar));
    CHECK(tl_arena_prepare(&ar, NULL, NULL));
    CHECK_EQ_U64(ar.nspare, 2);
    CHECK(!tl_arena_is_low(&ar));
    tl_mem_free(&ar.self, x, BLOCK);
    tl_arena_trim(&ar);
    CHECK_EQ_U64(chunks_of(&ar), 0);
    tl_arena_destroy(&ar);
    CHECK_EQ_I64(fa.live_blocks, 0);
    CHECK_EQ_I64(fa.live_bytes, 0);
}

#if defined(__linux__)
/* Whether any mapping of the process overlaps [a, b) (/proc/self/maps). */
static bool mapped_in(uintptr_t a, uintptr_t b) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) return true; /* unknown: reported as a leak */
    char line[512];
    bool hit = false;
    while (!hit && fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < b && hi > a) hit = true;
    }
    fclose(f);
    return hit;
}
#endif

/* A large block of the default allocator (mapped on its own, 2 MiB-aligned) leaves nothing
 * mapped once freed, whatever its size: with a size that is not a whole number of pages, the
 * slack after it was never unmapped (munmap refused its unaligned start). */
static void test_big_blocks_unmap_whole(void) {
#if defined(__linux__)
    const size_t sizes[] = {(size_t)1 << 20, 3200008, ((size_t)4 << 20) + 1, 6 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char *p = tl_mem_alloc(NULL, sizes[k]);
        CHECK(p != NULL);
        if (p == NULL) continue;
        CHECK_EQ_U64((uintptr_t)p % ((uintptr_t)2 << 20), 0);
        memset(p, 1, sizes[k]); /* the whole block is usable */
        tl_mem_free(NULL, p, sizes[k]);
        /* the block and the page after it, where the slack began (past the slack, another
         * mapping may follow: mmap places regions next to each other) */
        CHECK(!mapped_in((uintptr_t)p, (uintptr_t)p + sizes[k] + 4096));
    }
#endif
}

int main(void) {
    RUN(test_evac_marks_what_the_others_absorb);
    RUN(test_evac_end_keeps_a_chunk_still_in_use);
    RUN(test_evac_nothing_to_gain);
    RUN(test_spares_and_prepare);
    RUN(test_prepare_stops_when_told);
    RUN(test_compact_relocates_into_fewer_chunks);
    RUN(test_low_spares_wake_the_worker);
    RUN(test_big_blocks_unmap_whole);
    return tl_test_done("arena_test");
}
