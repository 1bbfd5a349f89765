/*
 * logref.c — the log object's lifetime: the open log and every live snapshot hold one
 * reference (refs); whoever drops the last one frees the object, its locks and its arena. So
 * tl_close may return while snapshots still read: they keep the log object (not its state:
 * close released that) alive.
 */
#include "timelog_int.h"
#include "vstore.h"

static void log_free(tl_timelog_t *tl) {
    pthread_mutex_destroy(&tl->state_mu);
    pthread_mutex_destroy(&tl->maint_mu);
    pthread_mutex_destroy(&tl->wk_mu);
    pthread_cond_destroy(&tl->wk_cv);
    pthread_cond_destroy(&tl->progress_cv);
    tl_vstore_destroy(tl->vs); /* no manifest is left to pin a value */
    tl_scratch_drop(tl);
    tl_mt_drop_spare(&tl->mt); /* the last head unref (a snapshot's) may have parked it */
    tl_arena_destroy(&tl->arena); /* every page is gone: the last snapshot released them */
    tl_allocator_t a = tl->cfg.allocator; /* the struct holds the allocator it is freed with */
    tl_mem_free(&a, tl, sizeof *tl);
}

void tl_log_unref(tl_timelog_t *tl) {
    uint32_t prev = atomic_fetch_sub_explicit(&tl->refs, 1, memory_order_acq_rel);
    TL_ASSERT(prev > 0);
    if (prev == 1) log_free(tl);
}

