/*
 * tl_common.h — what every engine file shares: allocation through the configured hook,
 * assertions, small helpers. Nothing here holds state: the allocator travels as a pointer.
 */
#ifndef TL_COMMON_H
#define TL_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "timelog.h"

/* Allocate / free through the log's hook (sized free). Both accept a NULL `a` = libc. */
void *tl_mem_alloc(const tl_allocator_t *a, size_t size);
void *tl_mem_calloc(const tl_allocator_t *a, size_t count, size_t size); /* NULL on overflow */
void tl_mem_free(const tl_allocator_t *a, void *ptr, size_t size);

/* The libc-backed default allocator (a static const object, shared by all logs). */
const tl_allocator_t *tl_default_allocator(void);

/* Page pool: a thread-safe allocator for one block size (a full page) carved from large
 * anonymous mappings, so the page churn of ingest reuses resident memory instead of faulting
 * fresh memory in, and memory given back returns to the OS (free blocks beyond `hot_max` and
 * every free block at tl_pool_trim have their whole OS pages released with madvise) instead of
 * staying in the C library's heap. Other sizes go to malloc. NULL when the platform has no
 * mmap or the block size does not suit (then use the default allocator). */
typedef struct tl_pool tl_pool_t;
tl_pool_t *tl_pool_new(size_t block_bytes, uint32_t hot_max);
/* The allocator to hand out (ctx = the pool); valid until tl_pool_free. */
const tl_allocator_t *tl_pool_allocator(const tl_pool_t *p);
/* Releases the OS pages of every free block (any thread). Accepts NULL. */
void tl_pool_trim(tl_pool_t *p);
/* Unmaps everything; every block must have been freed. Accepts NULL. */
void tl_pool_free(tl_pool_t *p);

/* Invariant check that stays on in release builds for cheap, catastrophic conditions. */
void tl_panic(const char *file, int line, const char *what);
#define TL_ASSERT(cond)                                                                  \
    do {                                                                                 \
        if (!(cond)) tl_panic(__FILE__, __LINE__, #cond);                                \
    } while (0)

#ifdef NDEBUG
#define TL_DASSERT(cond) ((void)0)
#else
#define TL_DASSERT(cond) TL_ASSERT(cond)
#endif

#define TL_LIKELY(x) __builtin_expect(!!(x), 1)
#define TL_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define TL_SEQ_MAX UINT64_MAX /* watermark of mutable memtable parts: never hidden */

#endif /* TL_COMMON_H */
