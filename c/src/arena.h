/*
 * arena.h — page blocks carved from chunks of whole 2 MiB multiples, behind the allocator
 * interface.
 *
 * A log's pages are all one size (a full page of page_records), are allocated by the writer
 * and the worker and freed by any thread, and live and die in time order. Taking them from
 * chunks (4 MiB: 63 default pages) instead of one malloc each (a) makes fresh pages cheap:
 * the chunk is mapped at once and backed by transparent huge pages where the system offers
 * them (80 MB of pages: 44 ms of demand faults vs 17 ms measured here), (b) lets a page freed
 * by flush or compaction be reused at once by the next one, which bounds peak memory, and
 * (c) keeps neighbouring pages together for the TLB.
 *
 * The arena is an allocator wrapper: tl_open points the log's allocator at arena->self, which
 * serves requests of exactly block_bytes from chunks and passes every other size (and the
 * chunks themselves) to the caller's allocator, so an allocation-failure test still fails
 * chunk allocations. Routing is by size on both alloc and free, so it is always consistent.
 */
#ifndef TL_ARENA_H
#define TL_ARENA_H

#include <pthread.h>

#include "tl_common.h"

typedef struct tl_arena_chunk tl_arena_chunk_t;

typedef struct tl_arena {
    tl_allocator_t self; /* ctx = this: what the log's objects allocate from */
    tl_allocator_t under; /* the caller's allocator (or the default) */
    size_t block_bytes; /* the one size served from chunks */
    size_t chunk_bytes; /* a whole multiple of 2 MiB */
    uint32_t nslots; /* blocks per chunk */
    pthread_mutex_t mu;
    tl_arena_chunk_t *partial; /* chunks with at least one free block; mu */
    /* Empty chunks kept against map/unmap churn (a list through `next`, at most
     * TL_ARENA_SPARES): a chunk mapped anew faults its memory in on first touch, under the
     * writer (5-10 ms per 4 MiB chunk on this project's VM, where the host backs each new
     * huge page), while a kept one is reused warm. tl_arena_trim frees them; mu. */
    tl_arena_chunk_t *spare;
    uint32_t nspare;
    uint64_t chunks; /* live chunks, spares included; mu */
    tl_arena_chunk_t *evac; /* chunks marked for evacuation; mu */
    /* `low`: a take left fewer than TL_ARENA_WARM spares, so the writer may soon map a chunk
     * itself (5-10 ms of faults inside one write call here); tl_arena_prepare clears it.
     * `kicked`: the writer already woke the worker for it (tl_arena_low_kick). */
    _Atomic bool low, kicked;
} tl_arena_t;

/* Sets up an arena over `under` serving blocks of block_bytes. EINTERNAL (mutex). */
tl_status_t tl_arena_init(tl_arena_t *ar, const tl_allocator_t *under, size_t block_bytes);
/* Frees the spare chunks; every block must have been given back. */
void tl_arena_destroy(tl_arena_t *ar);
/* While fewer than TL_ARENA_WARM spares are left, maps a chunk and touches its memory outside
 * the lock, then keeps it as a spare: the maintenance worker calls it while writes go on, so
 * that the writer's next chunk is already faulted in (first touch of a new chunk is the
 * slowest thing a write call can meet). Clears `low`. stop (may be NULL) is asked before
 * each 2 MiB: true ends the call there (the chunk, touched or not, kept as a spare) and sets
 * `low` again, so that more urgent work goes first and a later call goes on. True when it
 * added a chunk; false when none was needed or on ENOMEM (harmless). */
bool tl_arena_prepare(tl_arena_t *ar, bool (*stop)(void *ctx), void *ctx);
/* Whether the spares ran low since the last prepare (the worker's test). */
bool tl_arena_is_low(tl_arena_t *ar);
/* The writer's test after a call: true once per low period, so it wakes the worker once. */
bool tl_arena_low_kick(tl_arena_t *ar);
/* Gives memory back: frees the spare chunks and drops the pages of free blocks (they fault
 * back in, zeroed, when reused). Called when the caller asked for a compact state. */
void tl_arena_trim(tl_arena_t *ar);
/* Evacuation, so that tl_compact leaves dense chunks on whole huge pages. Freed blocks are
 * spread over many chunks after a compaction (pages die in the middle of chunks whose other
 * pages live on); dropping their OS pages splits each chunk's huge pages, and every lookup in
 * that chunk then pays a page walk on top of its cache miss. Instead, evac_begin marks the
 * sparsest chunks whose blocks in use all fit into the free blocks of the other chunks; a
 * marked chunk hands out nothing, so the caller can copy each page that evac_holds reports
 * into a block elsewhere and release the original. evac_end unmarks them: a chunk whose
 * blocks all came back is freed whole (or kept as a spare), and one still holding a block
 * (an old page a snapshot pins) returns to normal use. Returns the number of chunks marked;
 * one evacuation at a time, by the thread that calls all three. */
uint32_t tl_arena_evac_begin(tl_arena_t *ar);
/* True when a block of `bytes` from this arena's allocator lies in a marked chunk. */
bool tl_arena_evac_holds(const tl_arena_t *ar, const void *block, size_t bytes);
void tl_arena_evac_end(tl_arena_t *ar);

/* Bytes of chunk memory held (stats). */
uint64_t tl_arena_bytes(tl_arena_t *ar);

#endif /* TL_ARENA_H */
