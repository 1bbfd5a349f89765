/*
 * alloc.c — every engine allocation goes through a tl_allocator_t hook (sized free).
 *
 * Structure: three thin wrappers over the hook plus the libc-backed default allocator, a
 * static const object shared by every log (it holds no state, so sharing it is not a hidden
 * global). A NULL allocator pointer means the default, so internal code that has no log at
 * hand (drop queues created with alloc = NULL, tests) can still allocate.
 *
 * Invariants: tl_mem_free receives the size given to tl_mem_alloc (the hook may rely on it,
 * e.g. a failure-injecting test allocator that tracks live bytes). Zero-size requests are
 * rounded up to one byte so that a successful allocation is never NULL.
 *
 * Complexity: O(1) per call on top of the hook; calloc adds an O(size) memset.
 *
 * Returning memory: pages are 64 KiB-class blocks, below glibc's mmap threshold, so freed
 * pages stay in the heap (holes the OS never gets back: after compaction that was ~2 B per
 * record of RSS). tl_mem_trim asks glibc to give every whole free OS page back
 * (malloc_trim, which madvises free chunks in the middle of every arena); tl_compact calls it
 * once it is done. It is a no-op for a caller's allocator and off glibc.
 *
 * tl_panic is the last resort for broken invariants that cannot be reported as a status
 * (a corrupted refcount, an impossible branch): message to stderr, then abort().
 */
#include <stdio.h>
#include <stdlib.h>

#include "tl_common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Requests this large are page-arena chunks (arena.c) or big temporary arrays: they are
 * mapped directly, so freeing them returns the memory at once, and marked for transparent huge
 * pages so that filling them costs a few faults instead of one per 4 KiB (measured: 80 MB of
 * fresh pages in 17 ms instead of 44 ms) and reads miss the TLB less. */
#define TL_MAP_MIN ((size_t)1 << 20)

#if defined(__linux__)
#define TL_HUGE ((size_t)2 << 20)
/* Pages of every size Linux uses (4 to 64 KiB) divide this. */
#define TL_MAP_GRAIN ((size_t)64 << 10)

/* The bytes a mapping of `size` spans: a whole number of pages, so that the slack after it
 * can be unmapped (munmap refuses an address inside a page: an allocation of 3.2 MB + 8 bytes
 * kept up to 2 MiB of slack mapped, one more map area for every such allocation, until the
 * process met its limit of map areas). */
static size_t map_len(size_t size) { return (size + TL_MAP_GRAIN - 1) & ~(TL_MAP_GRAIN - 1); }

/* A mapping of `size` bytes starting on a 2 MiB boundary: the kernel backs only aligned 2 MiB
 * ranges with huge pages, and mmap aligns to 4 KiB, so an unaligned 4 MiB chunk got one huge
 * page and 2 MiB of small ones (measured: with out-of-order ingest, 51 of 80 MB of pages were
 * huge, and a point lookup into a small page paid a page walk on top of its cache miss).
 * Over-map by 2 MiB and unmap the slack on both sides, so the region is freed by one munmap
 * of exactly (p, map_len(size)). */
static void *map_aligned(size_t size) {
    if (size > SIZE_MAX - 2 * TL_HUGE) return NULL;
    size = map_len(size);
    size_t span = size + TL_HUGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t a = ((uintptr_t)raw + TL_HUGE - 1) & ~(uintptr_t)(TL_HUGE - 1);
    char *p = (char *)a;
    size_t head = (size_t)(p - raw), tail = span - head - size;
    if (head > 0) (void)munmap(raw, head);
    if (tail > 0) (void)munmap(p + size, tail);
    (void)madvise(p, size, MADV_HUGEPAGE);
    return p;
}
#endif

static void *libc_alloc(void *ctx, size_t size) {
    (void)ctx;
#if defined(__linux__)
    if (size >= TL_MAP_MIN) return map_aligned(size);
#endif
    return malloc(size);
}

static void libc_free(void *ctx, void *ptr, size_t size) {
    (void)ctx;
    (void)size; /* only the Linux mapping path needs it */
#if defined(__linux__)
    if (size >= TL_MAP_MIN) {
        (void)munmap(ptr, map_len(size));
        return;
    }
#endif
    free(ptr);
}

static const tl_allocator_t k_default_allocator = {
    .ctx = NULL,
    .alloc = libc_alloc,
    .free = libc_free,
};

const tl_allocator_t *tl_default_allocator(void) { return &k_default_allocator; }

void *tl_mem_alloc(const tl_allocator_t *a, size_t size) {
    if (a == NULL) a = &k_default_allocator;
    if (size == 0) size = 1;
    return a->alloc(a->ctx, size);
}

void *tl_mem_calloc(const tl_allocator_t *a, size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    size_t bytes = count * size;
    void *p = tl_mem_alloc(a, bytes);
    if (p != NULL) memset(p, 0, bytes == 0 ? 1 : bytes);
    return p;
}

void tl_mem_free(const tl_allocator_t *a, void *ptr, size_t size) {
    if (ptr == NULL) return;
    if (a == NULL) a = &k_default_allocator;
    if (size == 0) size = 1;
    a->free(a->ctx, ptr, size);
}

void tl_mem_trim(const tl_allocator_t *a) {
    if (a == NULL) a = &k_default_allocator;
    if (a->alloc != libc_alloc) return; /* a caller's allocator manages its own memory */
#if defined(__GLIBC__)
    (void)malloc_trim(0);
#endif
}

void tl_panic(const char *file, int line, const char *what) {
    fprintf(stderr, "timelog: invariant violated at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}
