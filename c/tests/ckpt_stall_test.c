/*
 * ckpt_stall_test.c — a checkpoint stuck in fdatasync (a disk that stalls) stalls neither the
 * flushes nor the writer: checkpoints run on a thread of their own (helper.h), so the worker
 * keeps turning sealed memtables into segments and the writer never meets backpressure.
 *
 * The log runs on the real file system through a wrapper of the OS's I/O vtable whose
 * fdatasync of a segment file blocks, while the gate is closed, until the test opens it.
 * Run on the worker (as before), the blocked checkpoint held every flush: with sealed_max 1,
 * the writer waited busy_wait_ms on each call and then got TL_EBUSY. And a checkpoint that
 * fails without failing the log (out of memory) is counted and retried after a backoff.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk/io.h"
#include "test.h"
#include "timelog_int.h"

#define GATE_FDS 4096

/* The OS's vtable with a gate in front of the segment files' fdatasync. */
typedef struct gate {
    tl_io_t io; /* ctx = this gate */
    const tl_io_t *os;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool closed; /* a segment file's fdatasync waits while this holds */
    bool waiting; /* one does now */
    bool seg[GATE_FDS]; /* descriptors of segment files */
} gate_t;

static int g_open(void *ctx, const char *path, int flags, int *fd) {
    gate_t *g = ctx;
    int rc = g->os->open(g->os->ctx, path, flags, fd);
    if (rc >= 0 && *fd >= 0 && *fd < GATE_FDS) {
        const char *base = strrchr(path, '/');
        pthread_mutex_lock(&g->mu);
        g->seg[*fd] = strncmp(base ? base + 1 : path, "seg-", 4) == 0;
        pthread_mutex_unlock(&g->mu);
    }
    return rc;
}

static int g_datasync(void *ctx, int fd) {
    gate_t *g = ctx;
    pthread_mutex_lock(&g->mu);
    while (g->closed && fd >= 0 && fd < GATE_FDS && g->seg[fd]) {
        g->waiting = true;
        pthread_cond_broadcast(&g->cv);
        pthread_cond_wait(&g->cv, &g->mu);
    }
    g->waiting = false;
    pthread_mutex_unlock(&g->mu);
    return g->os->datasync(g->os->ctx, fd);
}

static void gate_init(gate_t *g) {
    memset(g, 0, sizeof *g);
    g->os = tl_io_default();
    g->io = *g->os;
    g->io.ctx = g;
    g->io.open = g_open;
    g->io.datasync = g_datasync;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
}

static void gate_set(gate_t *g, bool closed) {
    pthread_mutex_lock(&g->mu);
    g->closed = closed;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Whether a segment file's fdatasync waits at the gate now. */
static bool gate_waiting(gate_t *g) {
    pthread_mutex_lock(&g->mu);
    bool w = g->waiting;
    pthread_mutex_unlock(&g->mu);
    return w;
}

/* Waits up to 10 s for a segment file's fdatasync to block at the gate. */
static bool gate_reached(gate_t *g) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (!g->waiting && rc == 0) rc = pthread_cond_timedwait(&g->cv, &g->mu, &dl);
    bool reached = g->waiting;
    pthread_mutex_unlock(&g->mu);
    return reached;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static tl_stats_t stats_of(tl_timelog_t *tl) {
    tl_stats_t s;
    memset(&s, 0, sizeof s);
    (void)tl_stats(tl, &s);
    return s;
}

enum { BATCH = 1024 };

/* Appends one batch of in-order records from *next; its status and how long it took. */
static tl_status_t append_timed(tl_timelog_t *tl, int64_t *next, double *secs) {
    int64_t ts[BATCH];
    uint64_t h[BATCH];
    for (int i = 0; i < BATCH; i++) {
        ts[i] = *next + i;
        h[i] = (uint64_t)(*next + i);
    }
    double t0 = now_s();
    tl_status_t st = tl_append_batch(tl, ts, h, BATCH, 0);
    *secs = now_s() - t0;
    if (st == TL_OK) *next += BATCH;
    return st;
}

/* A fresh empty directory /tmp/tl_<name>_<pid> in dir[256]; cmd[300] removes it again. */
static bool fresh_dir(const char *name, char *dir, char *cmd) {
    snprintf(dir, 256, "/tmp/tl_%s_%d", name, (int)getpid());
    snprintf(cmd, 300, "rm -rf '%s'", dir);
    return system(cmd) == 0;
}

/* A durable log in dir with small pages and memtables, checkpointing every 16 KiB of WAL. */
static tl_config_t small_cfg(const char *dir) {
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.page_records = 256;
    c.memtable_records = 2048;
    c.checkpoint_bytes = 16 << 10;
    c.durability = TL_DURABILITY_NONE;
    tl_config_set_path(&c, dir, (uint32_t)strlen(dir));
    return c;
}

TL_TEST(checkpoint_stuck_in_fdatasync_stalls_no_write) {
    char dir[256], cmd[300];
    CHECK(fresh_dir("ckpt_stall", dir, cmd));
    static gate_t g;
    gate_init(&g);
    gate_set(&g, true);
    tl_config_t c = small_cfg(dir);
    c.sealed_max = 1; /* a held flush meets backpressure at the second sealed memtable */
    c.busy_wait_ms = 2000; /* ... and a writer would wait this long, then get TL_EBUSY */
    tl_timelog_t *tl = NULL;
    char err[256];
    CHECK_OK(tl_open_io(&c, &g.io, &tl, err, sizeof err));
    int64_t next = 0;
    double secs = 0;
    /* Writes until the worker asks for a checkpoint and its segment file's sync blocks. */
    for (int i = 0; i < 2000 && !gate_waiting(&g); i++) {
        CHECK_OK(append_timed(tl, &next, &secs));
        if (i % 16 == 15) usleep(1000);
    }
    CHECK(gate_reached(&g));
    tl_stats_t s0 = stats_of(tl);
    /* While it stays blocked: 40 memtables' worth of writes, each call prompt. */
    double worst = 0;
    int busy = 0;
    for (int i = 0; i < 80; i++) {
        tl_status_t st = append_timed(tl, &next, &secs);
        CHECK(st == TL_OK || st == TL_EBUSY);
        busy += st == TL_EBUSY;
        if (secs > worst) worst = secs;
        usleep(2000); /* a paced writer: the worker has time for each flush */
    }
    tl_stats_t s1 = stats_of(tl);
    CHECK_EQ_U64(busy, 0);
    CHECK(worst < 1.0); /* well under busy_wait_ms: the writer never waited for a flush */
    CHECK(s1.flushes_total >= s0.flushes_total + 20); /* the worker went on flushing */
    CHECK_EQ_U64(s1.checkpoints_total, s0.checkpoints_total); /* the checkpoint still waits */
    CHECK(gate_waiting(&g));
    /* The disk comes back: the checkpoint completes, and everything reads back after a reopen. */
    gate_set(&g, false);
    for (int i = 0; i < 1000 && stats_of(tl).checkpoints_total == s0.checkpoints_total; i++) {
        usleep(10000);
    }
    CHECK(stats_of(tl).checkpoints_total > s0.checkpoints_total);
    tl_close(tl);
    tl = NULL;
    CHECK_OK(tl_open_ex(&c, &tl, err, sizeof err));
    CHECK_EQ_U64(stats_of(tl).records, (uint64_t)next);
    tl_close(tl);
    CHECK(system(cmd) == 0);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
}

/* An allocator that fails the first `fail` requests made on the checkpoint thread. */
typedef struct ckpt_oom {
    _Atomic int fail; /* left to fail */
    _Atomic int failed; /* failed so far */
} ckpt_oom_t;

static void *oom_alloc(void *ctx, size_t size) {
    ckpt_oom_t *o = ctx;
    char name[16] = "";
    (void)pthread_getname_np(pthread_self(), name, sizeof name);
    if (strcmp(name, "tl-ckpt") == 0 && atomic_fetch_sub(&o->fail, 1) > 0) {
        atomic_fetch_add(&o->failed, 1);
        return NULL;
    }
    return malloc(size);
}

static void oom_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

TL_TEST(checkpoint_out_of_memory_is_counted_and_retried) {
    char dir[256], cmd[300];
    CHECK(fresh_dir("ckpt_oom", dir, cmd));
    static ckpt_oom_t oom;
    atomic_store(&oom.fail, 3);
    atomic_store(&oom.failed, 0);
    tl_config_t c = small_cfg(dir);
    c.allocator = (tl_allocator_t){&oom, oom_alloc, oom_free};
    tl_timelog_t *tl = NULL;
    char err[256];
    CHECK_OK(tl_open_ex(&c, &tl, err, sizeof err));
    int64_t next = 0;
    double secs = 0;
    /* Writes until a checkpoint lands: the first attempts fail, a later one succeeds. */
    for (int i = 0; i < 4000 && stats_of(tl).checkpoints_total == 0; i++) {
        tl_status_t st = append_timed(tl, &next, &secs);
        CHECK(st == TL_OK || st == TL_EBUSY);
        usleep(500);
    }
    tl_stats_t s = stats_of(tl);
    CHECK(s.checkpoints_total >= 1);
    CHECK(atomic_load(&oom.failed) >= 1); /* some attempt met the failures */
    CHECK(s.maint_errors_total >= 1); /* counted as the worker's failures are */
    CHECK_OK(append_timed(tl, &next, &secs)); /* the log did not fail */
    tl_close(tl);
    tl = NULL;
    c.allocator = (tl_allocator_t){NULL, NULL, NULL};
    CHECK_OK(tl_open_ex(&c, &tl, err, sizeof err));
    CHECK_EQ_U64(stats_of(tl).records, (uint64_t)next);
    tl_close(tl);
    CHECK(system(cmd) == 0);
}

int main(void) {
    RUN(checkpoint_stuck_in_fdatasync_stalls_no_write);
    RUN(checkpoint_out_of_memory_is_counted_and_retried);
    return tl_test_done("ckpt_stall_test");
}
