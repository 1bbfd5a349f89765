/*
 * arena.c — page blocks from chunks (see arena.h for why).
 *
 * Structure: a chunk is one allocation of `nslots` slots; a slot is a 16-byte prefix
 * holding the chunk's address, then the block handed out. Free blocks form an intrusive list
 * per chunk; slots never handed out are taken by a bump index first (so a new chunk is
 * touched in address order). Chunks with a free block sit on a doubly linked `partial` list;
 * a chunk whose blocks are all free goes back to the caller's allocator, except up to
 * TL_ARENA_SPARES kept on the `spare` list.
 * Invariants (under mu): a chunk is on `partial` iff it has a free block (given back or never
 * handed out) and is not a spare; every spare has every block free.
 * Complexity: O(1) per take/give, one mutex (pages are taken by the writer and the worker and
 * given back from any thread: a reader releasing the last snapshot of a page frees it).
 */
#include "arena.h"

#if defined(__linux__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#define TL_ARENA_PREFIX 16u
/* Chunks are whole multiples of 2 MiB: the kernel aligns (and so backs with huge pages) only
 * anonymous mappings of such lengths. 4 MiB holds 63 default pages (1.5% slack). */
#define TL_ARENA_HUGE ((size_t)2 << 20)
#define TL_ARENA_CHUNK_MIN ((size_t)4 << 20)
/* Empty chunks kept (arena.h, `spare`): 8 x 4 MiB covers a default memtable and its queue of
 * sealed ones (5 x 4 MiB of raw pages), whose chunks empty as maintenance packs them. */
#define TL_ARENA_SPARES 8u
/* Spares tl_arena_prepare keeps ready while writes go on: two, because the worker's own
 * compactions take chunks too, between the writer's. */
#define TL_ARENA_WARM 2u

struct tl_arena_chunk {
    tl_arena_chunk_t *prev, *next; /* partial list */
    char *mem;
    void *free_list; /* blocks given back (intrusive) */
    uint32_t nfree; /* blocks on free_list */
    uint32_t bump; /* slots never handed out start here */
    bool on_partial;
    bool evac; /* marked by tl_arena_evac_begin: hands out nothing until evac_end */
    tl_arena_chunk_t *evac_next; /* the marked chunks (ar->evac) */
};

static size_t stride(const tl_arena_t *ar) { return ar->block_bytes + TL_ARENA_PREFIX; }
static size_t chunk_bytes(const tl_arena_t *ar) { return ar->chunk_bytes; }

static uint32_t free_blocks(const tl_arena_t *ar, const tl_arena_chunk_t *c) {
    return c->nfree + (ar->nslots - c->bump);
}

static void partial_add(tl_arena_t *ar, tl_arena_chunk_t *c) {
    c->prev = NULL;
    c->next = ar->partial;
    if (ar->partial) ar->partial->prev = c;
    ar->partial = c;
    c->on_partial = true;
}

static void partial_remove(tl_arena_t *ar, tl_arena_chunk_t *c) {
    if (c->prev) c->prev->next = c->next;
    else ar->partial = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->on_partial = false;
}

static void chunk_free(tl_arena_t *ar, tl_arena_chunk_t *c) {
    tl_mem_free(&ar->under, c->mem, chunk_bytes(ar));
    tl_mem_free(&ar->under, c, sizeof *c);
    ar->chunks--;
}

/* A new, empty chunk from the caller's allocator, not yet counted; NULL on ENOMEM. Reads only
 * what never changes after init, so it needs no lock. */
static tl_arena_chunk_t *chunk_alloc(tl_arena_t *ar) {
    tl_arena_chunk_t *c = tl_mem_calloc(&ar->under, 1, sizeof *c);
    if (c == NULL) return NULL;
    c->mem = tl_mem_alloc(&ar->under, chunk_bytes(ar));
    if (c->mem == NULL) {
        tl_mem_free(&ar->under, c, sizeof *c);
        return NULL;
    }
    return c;
}

/* A chunk with a free block: the first partial one, a spare, or a new one (mu held). */
static tl_arena_chunk_t *chunk_with_room(tl_arena_t *ar) {
    if (ar->partial) return ar->partial;
    tl_arena_chunk_t *c = ar->spare;
    if (c) {
        ar->spare = c->next;
        ar->nspare--;
    } else {
        if ((c = chunk_alloc(ar)) == NULL) return NULL;
        ar->chunks++;
    }
    partial_add(ar, c);
    return c;
}

static void *take(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    bool refill = ar->partial == NULL; /* this take starts a spare or a new chunk */
    tl_arena_chunk_t *c = chunk_with_room(ar);
    if (refill && ar->nspare < TL_ARENA_WARM) {
        atomic_store_explicit(&ar->low, true, memory_order_relaxed);
    }
    char *slot = NULL;
    if (c != NULL) {
        if (c->free_list) {
            slot = (char *)c->free_list - TL_ARENA_PREFIX;
            c->free_list = *(void **)c->free_list;
            c->nfree--;
        } else {
            slot = c->mem + (size_t)c->bump++ * stride(ar);
            *(tl_arena_chunk_t **)slot = c;
        }
        if (free_blocks(ar, c) == 0) partial_remove(ar, c);
    }
    pthread_mutex_unlock(&ar->mu);
    return slot ? slot + TL_ARENA_PREFIX : NULL;
}

/* c's blocks are all back (c on no list): it becomes a spare, reset for bump allocation, or,
 * with TL_ARENA_SPARES kept already, is returned for the caller to free (mu held). */
static tl_arena_chunk_t *make_spare(tl_arena_t *ar, tl_arena_chunk_t *c) {
    if (ar->nspare >= TL_ARENA_SPARES) return c;
    c->free_list = NULL;
    c->nfree = 0;
    c->bump = 0;
    c->prev = NULL;
    c->next = ar->spare;
    ar->spare = c;
    ar->nspare++;
    return NULL;
}

/* Frees every spare (mu held). */
static void free_spares(tl_arena_t *ar) {
    while (ar->spare != NULL) {
        tl_arena_chunk_t *c = ar->spare;
        ar->spare = c->next;
        chunk_free(ar, c);
    }
    ar->nspare = 0;
}

static void give(tl_arena_t *ar, void *block) {
    tl_arena_chunk_t *c = *(tl_arena_chunk_t **)((char *)block - TL_ARENA_PREFIX);
    tl_arena_chunk_t *drop = NULL;
    pthread_mutex_lock(&ar->mu);
    *(void **)block = c->free_list;
    c->free_list = block;
    c->nfree++;
    if (c->evac) { /* tl_arena_evac_end decides what becomes of it */
        pthread_mutex_unlock(&ar->mu);
        return;
    }
    if (!c->on_partial) partial_add(ar, c);
    if (free_blocks(ar, c) == ar->nslots) {
        /* Every block is back: keep it as a spare, or release it when enough are kept. */
        partial_remove(ar, c);
        drop = make_spare(ar, c);
    }
    if (drop) chunk_free(ar, drop);
    pthread_mutex_unlock(&ar->mu);
}

static void *arena_alloc(void *ctx, size_t size) {
    tl_arena_t *ar = ctx;
    return size == ar->block_bytes ? take(ar) : tl_mem_alloc(&ar->under, size);
}

static void arena_free(void *ctx, void *ptr, size_t size) {
    tl_arena_t *ar = ctx;
    if (size == ar->block_bytes) give(ar, ptr);
    else tl_mem_free(&ar->under, ptr, size);
}

tl_status_t tl_arena_init(tl_arena_t *ar, const tl_allocator_t *under, size_t block_bytes) {
    memset(ar, 0, sizeof *ar);
    ar->under = under ? *under : *tl_default_allocator();
    ar->block_bytes = block_bytes;
    size_t want = stride(ar) * 8; /* at least 8 blocks a chunk for big pages */
    size_t huge_multiple = (want + TL_ARENA_HUGE - 1) / TL_ARENA_HUGE * TL_ARENA_HUGE;
    ar->chunk_bytes = want < TL_ARENA_CHUNK_MIN ? TL_ARENA_CHUNK_MIN : huge_multiple;
    ar->nslots = (uint32_t)(ar->chunk_bytes / stride(ar));
    ar->self = (tl_allocator_t){.ctx = ar, .alloc = arena_alloc, .free = arena_free};
    if (pthread_mutex_init(&ar->mu, NULL) != 0) return TL_EINTERNAL;
    return TL_OK;
}

void tl_arena_destroy(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    free_spares(ar);
    TL_ASSERT(ar->chunks == 0 && ar->partial == NULL && ar->evac == NULL);
    pthread_mutex_unlock(&ar->mu);
    pthread_mutex_destroy(&ar->mu);
}

/* The partial chunk with the most free blocks (sparsest) or the fewest (NULL when none). */
static tl_arena_chunk_t *extreme(tl_arena_t *ar, bool sparsest) {
    tl_arena_chunk_t *best = NULL;
    for (tl_arena_chunk_t *c = ar->partial; c; c = c->next) {
        uint32_t f = free_blocks(ar, c);
        if (best == NULL || (sparsest ? f > free_blocks(ar, best) : f < free_blocks(ar, best)))
            best = c;
    }
    return best;
}

uint32_t tl_arena_evac_begin(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    TL_ASSERT(ar->evac == NULL);
    uint64_t room = 0, moving = 0; /* free blocks outside the marked chunks; blocks to move */
    for (tl_arena_chunk_t *c = ar->partial; c; c = c->next) room += free_blocks(ar, c);
    uint32_t marked = 0;
    for (tl_arena_chunk_t *c = extreme(ar, true); c != NULL; c = extreme(ar, true)) {
        uint64_t used = ar->nslots - free_blocks(ar, c), left = room - free_blocks(ar, c);
        if (moving + used > left) break;
        partial_remove(ar, c);
        c->evac = true;
        c->evac_next = ar->evac;
        ar->evac = c;
        room = left;
        moving += used;
        marked++;
    }
    /* The moved pages fill the fullest chunks first (take() serves the head of `partial`), so
     * the free blocks left over gather in the fewest chunks. */
    tl_arena_chunk_t *sorted = NULL;
    while (ar->partial != NULL) { /* selection sort: fullest first, onto the front */
        tl_arena_chunk_t *c = extreme(ar, false);
        partial_remove(ar, c);
        c->next = sorted;
        sorted = c;
    }
    for (tl_arena_chunk_t *c = sorted, *next; c != NULL; c = next) {
        next = c->next;
        partial_add(ar, c);
    }
    pthread_mutex_unlock(&ar->mu);
    return marked;
}

bool tl_arena_evac_holds(const tl_arena_t *ar, const void *block, size_t bytes) {
    if (bytes != ar->block_bytes) return false;
    const tl_arena_chunk_t *c = *(tl_arena_chunk_t *const *)((const char *)block - TL_ARENA_PREFIX);
    return c->evac; /* written only by evac_begin/end, on the caller's thread */
}

void tl_arena_evac_end(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    while (ar->evac != NULL) {
        tl_arena_chunk_t *c = ar->evac;
        ar->evac = c->evac_next;
        c->evac = false;
        c->evac_next = NULL;
        if (free_blocks(ar, c) < ar->nslots) {
            partial_add(ar, c); /* still holds a block: a snapshot pins its old page */
        } else {
            tl_arena_chunk_t *drop = make_spare(ar, c);
            if (drop != NULL) chunk_free(ar, drop);
        }
    }
    pthread_mutex_unlock(&ar->mu);
}

/* Drops the OS pages of one free block (whole pages strictly inside it). */
static void drop_pages(void *block, size_t bytes) {
#if defined(__linux__) || defined(__APPLE__)
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)block + sizeof(void *) + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)block + bytes) & ~(page - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
#else
    (void)block;
    (void)bytes;
#endif
}

bool tl_arena_prepare(tl_arena_t *ar, bool (*stop)(void *ctx), void *ctx) {
    atomic_store_explicit(&ar->low, false, memory_order_relaxed);
    atomic_store_explicit(&ar->kicked, false, memory_order_relaxed);
    bool added = false, stopped = false;
    while (!stopped) {
        pthread_mutex_lock(&ar->mu);
        bool need = ar->nspare < TL_ARENA_WARM;
        pthread_mutex_unlock(&ar->mu);
        if (!need || (stopped = stop != NULL && stop(ctx))) break;
        tl_arena_chunk_t *c = chunk_alloc(ar);
        if (c == NULL) return added;
        /* One write per 4 KiB page (a huge page faults in whole on its first). On memory the
         * host took back a 2 MiB huge page costs milliseconds: ask `stop` before each. */
        for (size_t off = 0; off < chunk_bytes(ar) && !stopped; off += 4096) {
            ((volatile char *)c->mem)[off] = 0;
            if ((off + 4096) % TL_ARENA_HUGE == 0 && off + 4096 < chunk_bytes(ar)) {
                stopped = stop != NULL && stop(ctx);
            }
        }
        pthread_mutex_lock(&ar->mu);
        ar->chunks++;
        tl_arena_chunk_t *drop = make_spare(ar, c);
        if (drop != NULL) chunk_free(ar, drop); /* spares came back meanwhile */
        pthread_mutex_unlock(&ar->mu);
        if (drop != NULL) return added;
        added = true;
    }
    if (stopped) atomic_store_explicit(&ar->low, true, memory_order_relaxed);
    return added;
}

bool tl_arena_is_low(tl_arena_t *ar) {
    return atomic_load_explicit(&ar->low, memory_order_relaxed);
}

bool tl_arena_low_kick(tl_arena_t *ar) {
    return atomic_load_explicit(&ar->low, memory_order_relaxed) &&
           !atomic_exchange_explicit(&ar->kicked, true, memory_order_relaxed);
}

void tl_arena_trim(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    free_spares(ar);
    for (tl_arena_chunk_t *c = ar->partial; c; c = c->next) {
        for (void *b = c->free_list; b; b = *(void **)b) drop_pages(b, ar->block_bytes);
    }
    pthread_mutex_unlock(&ar->mu);
}

uint64_t tl_arena_bytes(tl_arena_t *ar) {
    pthread_mutex_lock(&ar->mu);
    uint64_t bytes = ar->chunks * (uint64_t)chunk_bytes(ar);
    pthread_mutex_unlock(&ar->mu);
    return bytes;
}
