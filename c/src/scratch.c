/*
 * scratch.c — one reusable buffer per log for the temporary arrays of one-call reads (the
 * sort buffer of an as-of column: 32 bytes a query).
 *
 * Why: a buffer of a megabyte or more is mapped fresh by the allocator (alloc.c) and its
 * first touch is paid on every call — on this project's VM the page faults of a 3.2 MB sort
 * buffer were a fifth of a 100K-query asOfMany. Kept between calls, the pages stay mapped.
 *
 * Structure: tl->scratch holds at most one buffer, a size_t capacity header then the bytes.
 * take exchanges it out (so concurrent readers never share one: a second reader meanwhile
 * allocates its own), give exchanges it back, and frees whichever buffer it displaces or one
 * larger than TL_SCRATCH_KEEP. The last one goes at the log's final free (logref.c).
 */
#include "timelog_int.h"

#define TL_SCRATCH_KEEP ((size_t)16 << 20) /* a larger buffer is freed after its call */
#define HDR sizeof(size_t)

static void scratch_free(tl_timelog_t *tl, size_t *p) {
    if (p != NULL) tl_mem_free(&tl->cfg.allocator, p, HDR + p[0]);
}

void *tl_scratch_take(tl_timelog_t *tl, size_t bytes) {
    size_t *p = atomic_exchange_explicit(&tl->scratch, NULL, memory_order_acquire);
    if (p != NULL && p[0] >= bytes) return p + 1;
    scratch_free(tl, p);
    if (bytes > SIZE_MAX - HDR) return NULL;
    p = tl_mem_alloc(&tl->cfg.allocator, HDR + bytes);
    if (p == NULL) return NULL;
    p[0] = bytes;
    return p + 1;
}

void tl_scratch_give(tl_timelog_t *tl, void *buf) {
    if (buf == NULL) return;
    size_t *p = (size_t *)buf - 1;
    if (p[0] > TL_SCRATCH_KEEP) {
        scratch_free(tl, p);
        return;
    }
    scratch_free(tl, atomic_exchange_explicit(&tl->scratch, p, memory_order_acq_rel));
}

void tl_scratch_drop(tl_timelog_t *tl) {
    scratch_free(tl, atomic_exchange_explicit(&tl->scratch, NULL, memory_order_acquire));
}
