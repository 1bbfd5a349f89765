/*
 * timelog.c — open and close.
 *
 * Open normalizes the config, sets up the arena, locks, memtable and an empty manifest,
 * recovers a durable log's directory (durable/dur.h), and starts the worker in background
 * mode. Close stops the worker, marks the log closed (readers
 * see it through tl_check_open), reports every stored record once to on_drop / the drop queue
 * and drops the log's references: live snapshots keep what they pin, and the log object goes
 * with the last of them.
 */
#include <stdio.h>
#include <time.h>

#include "durable/dur.h"
#include "publish.h"
#include "vstore.h"
#include "worker.h"

/* Mutexes and the worker's condvars (monotonic clock for their timed waits). */
static tl_status_t init_sync(tl_timelog_t *tl) {
    int done = 0;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) return TL_EINTERNAL;
#if !defined(__APPLE__) /* macOS has no pthread_condattr_setclock: see TL_COND_CLOCK */
    pthread_condattr_setclock(&ca, TL_COND_CLOCK);
#endif
    if (pthread_mutex_init(&tl->state_mu, NULL) == 0) done++;
    if (done == 1 && pthread_mutex_init(&tl->maint_mu, NULL) == 0) done++;
    if (done == 2 && pthread_mutex_init(&tl->wk_mu, NULL) == 0) done++;
    if (done == 3 && pthread_cond_init(&tl->wk_cv, &ca) == 0) done++;
    if (done == 4 && pthread_cond_init(&tl->progress_cv, &ca) == 0) done++;
    pthread_condattr_destroy(&ca);
    if (done == 5) return TL_OK;
    if (done > 3) pthread_cond_destroy(&tl->wk_cv);
    if (done > 2) pthread_mutex_destroy(&tl->wk_mu);
    if (done > 1) pthread_mutex_destroy(&tl->maint_mu);
    if (done > 0) pthread_mutex_destroy(&tl->state_mu);
    return TL_EINTERNAL;
}

static void err_out(char *err, uint32_t cap, const char *msg) {
    if (err == NULL || cap == 0) return;
    snprintf(err, cap, "%s", msg);
}

tl_status_t tl_open(const tl_config_t *cfg, tl_timelog_t **out) {
    return tl_open_io(cfg, NULL, out, NULL, 0);
}

tl_status_t tl_open_ex(const tl_config_t *cfg, tl_timelog_t **out, char *err, uint32_t cap) {
    return tl_open_io(cfg, NULL, out, err, cap);
}

tl_status_t tl_open_io(const tl_config_t *cfg, const struct tl_io *io, tl_timelog_t **out,
                       char *err, uint32_t cap) {
    if (err != NULL && cap > 0) err[0] = '\0';
    if (out == NULL) return TL_EINVAL;
    *out = NULL;
    tl_config_t c;
    tl_status_t st = tl_config_normalize(cfg, &c);
    if (st != TL_OK) {
        err_out(err, cap, "invalid configuration");
        return st;
    }

    tl_timelog_t *tl = tl_mem_alloc(&c.allocator, sizeof *tl);
    if (tl == NULL) return TL_ENOMEM;
    memset(tl, 0, sizeof *tl);
    tl->cfg = c;
    tl->io = io;
    atomic_init(&tl->refs, 1);
    atomic_init(&tl->closed, false);
    atomic_init(&tl->sver, 0);
    atomic_init(&tl->view, NULL);
    if (tl_arena_init(&tl->arena, &tl->cfg.allocator, tl_page_bytes(c.page_records)) != TL_OK) {
        tl_mem_free(&c.allocator, tl, sizeof *tl);
        return TL_EINTERNAL;
    }
    tl->alloc = &tl->arena.self;
    if (init_sync(tl) != TL_OK) {
        tl_arena_destroy(&tl->arena);
        tl_mem_free(&c.allocator, tl, sizeof *tl);
        return TL_EINTERNAL;
    }
    st = tl_mt_init(&tl->mt, tl->alloc, c.page_records, c.memtable_records, c.ooo_head_records,
                    c.ooo_runs_max, c.value_kind == TL_VALUES_F64);
    if (st == TL_OK && c.value_kind == TL_VALUES_BYTES) st = tl_vstore_create(&c.allocator, &tl->vs);
    if (st == TL_OK) {
        tl->man = tl_manifest_new(tl->alloc, tl->vs, NULL, NULL, NULL, NULL, 0);
        if (tl->man == NULL) st = TL_ENOMEM;
    }
    if (st == TL_OK && c.drop_queue != NULL) {
        tl->dropq = c.drop_queue;
        tl_dropq_ref_int(tl->dropq);
    }
    char msg[TL_ERR_CAP] = "";
    /* Recovery replays the WAL through the write path before anyone (the worker included)
     * can see the log: it is the only writer, and maintenance runs inline when needed. */
    if (st == TL_OK && c.path[0] != '\0') st = tl_dur_open(tl, tl_write_replay, msg, sizeof msg);
    if (st == TL_OK && c.maintenance == TL_MAINT_BACKGROUND) st = tl_maint_start(tl);
    if (st != TL_OK) {
        err_out(err, cap, msg[0] ? msg : tl_strerror((int)st));
        tl_dur_close(tl);
        tl_mt_destroy(&tl->mt);
        tl_manifest_unref(tl->man);
        if (tl->dropq) tl_dropq_unref_int(tl->dropq);
        tl_log_unref(tl); /* the only reference: frees it */
        return st;
    }
    *out = tl;
    return TL_OK;
}

void tl_close(tl_timelog_t *tl) {
    if (tl == NULL) return;
    if (atomic_load_explicit(&tl->closed, memory_order_relaxed)) return;
    tl_maint_stop(tl);
    tl_dur_close(tl); /* the WAL made durable, the directory unlocked */
    pthread_mutex_lock(&tl->state_mu);
    atomic_store_explicit(&tl->closed, true, memory_order_relaxed);
    tl_state_bump(tl);
    tl_manifest_t *m = tl->man;
    pthread_mutex_unlock(&tl->state_mu);
    tl_view_drop(tl); /* before the last log reference goes: the view holds one */
    tl_scratch_drop(tl); /* a reader still using it gives it back; the final free takes it */
    /* No maintenance runs and the writer is here: the state is stable; readers only read. */
    if (tl_drops_external(tl)) tl_report_all(tl); /* a bytes log's store goes with the log */
    pthread_mutex_lock(&tl->state_mu);
    tl->man = NULL;
    tl_active_t *act = tl->mt.act;
    tl_head_t *head = tl->mt.head;
    tl_vec_t *hr = tl->mt.head_runs;
    tl->mt.act = NULL;
    tl->mt.head = NULL;
    tl->mt.head_runs = NULL;
    pthread_mutex_unlock(&tl->state_mu);
    tl_manifest_unref(m);
    tl_active_unref(act);
    tl_head_unref(head);
    tl_vec_unref(hr);
    if (tl->dropq) tl_dropq_unref_int(tl->dropq);
    tl->dropq = NULL;
    tl_log_unref(tl);
}

