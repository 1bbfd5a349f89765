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
 * Page pool (used by a log opened with the default allocator; see tl_common.h): full pages
 * are carved from ~8 MiB anonymous mappings (per_chunk blocks each, a chunk header in the
 * tail slack). Free blocks sit on two LIFO lists under one mutex: `hot` (resident, at most
 * hot_max, reused first so ingest churn never page-faults) and `cold` (their whole OS pages
 * given back with madvise; the first POOL_KEEP bytes, holding the list link, stay mapped).
 * Mappings are kept until the pool is freed, which asserts every block came back. Under
 * AddressSanitizer free blocks are poisoned, so use-after-free is still caught. Mutex hold
 * time is O(1); madvise runs outside it.
 *
 * tl_panic is the last resort for broken invariants that cannot be reported as a status
 * (a corrupted refcount, an impossible branch): message to stderr, then abort().
 */
#include <stdio.h>
#include <stdlib.h>

#include "tl_common.h"

#if defined(__unix__) || defined(__APPLE__)
#define TL_POOL_ENABLED 1
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#else
#define TL_POOL_ENABLED 0
#endif

static void *libc_alloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size);
}

static void libc_free(void *ctx, void *ptr, size_t size) {
    (void)ctx;
    (void)size;
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

/* ---- page pool ---- */

#if TL_POOL_ENABLED
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TL_POOL_ASAN 1
#endif
#ifdef TL_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_CHUNK_TARGET (8u << 20) /* bytes of address space mapped per chunk (about) */
#define POOL_BLOCK_MIN (16u << 10) /* smaller blocks cannot give whole OS pages back */
#define POOL_KEEP 64u /* bytes at the start of a free block kept resident (its free-list link) */

typedef struct pool_chunk {
    struct pool_chunk *next;
    size_t bytes;
} pool_chunk_t;

typedef struct free_blk {
    struct free_blk *next;
} free_blk_t;

struct tl_pool {
    pthread_mutex_t mu;
    size_t block, chunk_bytes, os_page;
    uint32_t per_chunk, hot_max, hot_n;
    uint64_t total, free_n; /* blocks mapped / blocks free (hot + cold) */
    free_blk_t *hot; /* resident free blocks (LIFO) */
    free_blk_t *cold; /* free blocks whose whole OS pages were given back */
    pool_chunk_t *chunks; /* header at the end of each chunk's mapping */
    tl_allocator_t self;
};

/* Gives the whole OS pages of a free block back to the OS, keeping its link resident. */
static void blk_release(const tl_pool_t *p, void *b) {
    uintptr_t lo = ((uintptr_t)b + POOL_KEEP + p->os_page - 1) & ~(uintptr_t)(p->os_page - 1);
    uintptr_t hi = ((uintptr_t)b + p->block) & ~(uintptr_t)(p->os_page - 1);
    if (hi > lo) {
#if defined(MADV_DONTNEED) && defined(__linux__)
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
#elif defined(MADV_FREE)
        (void)madvise((void *)lo, hi - lo, MADV_FREE);
#endif
    }
}

/* Maps a chunk and threads its blocks onto the cold list (never touched: not resident). */
static bool pool_grow(tl_pool_t *p) {
    void *m = mmap(NULL, p->chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) return false;
    pool_chunk_t *c = (pool_chunk_t *)(void *)((char *)m + p->chunk_bytes - sizeof *c);
    c->next = p->chunks;
    c->bytes = p->chunk_bytes;
    p->chunks = c;
    for (uint32_t i = p->per_chunk; i-- > 0;) {
        free_blk_t *f = (free_blk_t *)(void *)((char *)m + (size_t)i * p->block);
        f->next = p->cold;
        p->cold = f;
        POISON((char *)f + sizeof *f, p->block - sizeof *f);
    }
    p->total += p->per_chunk;
    p->free_n += p->per_chunk;
    return true;
}

static void *pool_alloc(void *ctx, size_t size) {
    tl_pool_t *p = ctx;
    if (size != p->block) return malloc(size);
    pthread_mutex_lock(&p->mu);
    free_blk_t *f = p->hot;
    if (f != NULL) {
        p->hot = f->next;
        p->hot_n--;
    } else {
        if (p->cold == NULL && !pool_grow(p)) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        f = p->cold;
        p->cold = f->next;
    }
    p->free_n--;
    pthread_mutex_unlock(&p->mu);
    UNPOISON(f, p->block);
    return f;
}

static void pool_free(void *ctx, void *ptr, size_t size) {
    tl_pool_t *p = ctx;
    if (size != p->block) {
        free(ptr);
        return;
    }
    free_blk_t *f = ptr;
    POISON((char *)f + sizeof *f, p->block - sizeof *f);
    pthread_mutex_lock(&p->mu);
    p->free_n++;
    if (p->hot_n < p->hot_max) {
        f->next = p->hot;
        p->hot = f;
        p->hot_n++;
        f = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (f != NULL) { /* outside the lock: the syscall is the slow part */
        blk_release(p, f);
        pthread_mutex_lock(&p->mu);
        f->next = p->cold;
        p->cold = f;
        pthread_mutex_unlock(&p->mu);
    }
}

void tl_pool_trim(tl_pool_t *p) {
    if (p == NULL) return;
    pthread_mutex_lock(&p->mu);
    free_blk_t *list = p->hot;
    p->hot = NULL;
    p->hot_n = 0;
    pthread_mutex_unlock(&p->mu);
    while (list != NULL) {
        free_blk_t *f = list;
        list = f->next;
        blk_release(p, f);
        pthread_mutex_lock(&p->mu);
        f->next = p->cold;
        p->cold = f;
        pthread_mutex_unlock(&p->mu);
    }
}

void tl_pool_free(tl_pool_t *p) {
    if (p == NULL) return;
    TL_ASSERT(p->free_n == p->total); /* every pooled page was freed before the log */
    pool_chunk_t *c = p->chunks;
    while (c != NULL) {
        pool_chunk_t *next = c->next;
        size_t bytes = c->bytes;
        void *base = (char *)(void *)c + sizeof *c - bytes;
        UNPOISON(base, bytes);
        munmap(base, bytes);
        c = next;
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
}

const tl_allocator_t *tl_pool_allocator(const tl_pool_t *p) { return &p->self; }

#else /* no mmap: the log allocates pages with malloc */

tl_pool_t *tl_pool_new(size_t block_bytes, uint32_t hot_max) {
    (void)block_bytes;
    (void)hot_max;
    return NULL;
}
void tl_pool_trim(tl_pool_t *p) { (void)p; }
void tl_pool_free(tl_pool_t *p) { (void)p; }
const tl_allocator_t *tl_pool_allocator(const tl_pool_t *p) {
    (void)p;
    return &k_default_allocator;
}

#endif

tl_pool_t *tl_pool_new(size_t block_bytes, uint32_t hot_max) {
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0 || block_bytes < POOL_BLOCK_MIN || block_bytes > POOL_CHUNK_TARGET / 4) {
        return NULL;
    }
    tl_pool_t *p = malloc(sizeof *p);
    if (p == NULL) return NULL;
    memset(p, 0, sizeof *p);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    p->os_page = (size_t)pg;
    p->block = block_bytes;
    p->per_chunk = (uint32_t)((POOL_CHUNK_TARGET - sizeof(pool_chunk_t)) / block_bytes);
    size_t used = (size_t)p->per_chunk * block_bytes + sizeof(pool_chunk_t);
    p->chunk_bytes = (used + p->os_page - 1) & ~(p->os_page - 1); /* tail slack: the header */
    p->hot_max = hot_max;
    p->self = (tl_allocator_t){.ctx = p, .alloc = pool_alloc, .free = pool_free};
    return p;
}

void tl_panic(const char *file, int line, const char *what) {
    fprintf(stderr, "timelog: invariant violated at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}
