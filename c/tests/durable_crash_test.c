/*
 * durable_crash_test.c — durable logs under power loss and I/O errors at every call (simfs).
 *
 * Each scenario (durable_util.h) is a base phase (run clean, closed) and a measured phase:
 * open (recovery), then single appends, batches (some bigger than one WAL record, so chunked),
 * late records, range / retention / point deletes, syncs, checkpoints, flushes, compactions and
 * reopens, then close; over u64 handles and f64 values, in SYNC, INTERVAL and NONE modes, with
 * manual maintenance so that the measured phase makes the same I/O calls every time (two
 * scenarios start from no directory at all). It is run once clean to count them; then for
 * every call k:
 *   - crash at k, once per tear mode (unsynced directory entries lost, or kept at random as a
 *     journaling file system may): a reopen, as a new process, must show exactly the model
 *     after some prefix j of the write calls with acked <= j <= attempted (acked: SYNC-mode
 *     returns, tl_sync / tl_checkpoint / close that succeeded, tl_durable_seq). After a
 *     REORDER tear (unsynced pages persisted out of order) strict recovery may find
 *     corruption: repair must then keep every acknowledged call. Every fourth point also
 *     proves the recovered log writable (append, sync, close, reopen). For a sample of k, a
 *     second crash, and an EIO, at every call of the recovery that follows, then the same
 *     check;
 *   - fail k (EIO once, ENOSPC once, ENOSPC from k on, EACCES once; three at every k): the call
 *     that met it returns TL_EIO with the errno and a path in its message; the log stays
 *     readable and shows the model after the calls applied; later writes, syncs and
 *     checkpoints report the failed state; close releases every descriptor; a reopen after the
 *     fault clears (every other point after a power loss too) has the prefix property. Only a
 *     descriptor's close, or tl_close (void: its failure goes to the log hook, and the run ends
 *     there, as a caller who cannot know must assume), may meet a fault unreported.
 * One more scenario runs with background maintenance and a live syncer (no fixed call count:
 * crash and fault points are sampled). Also: the directory lock, and no descriptor leaks over
 * open/close cycles (simfs and the real file system). Points run on every core.
 * Prints "# durable_crash: N crash points, M fault points". TL_CRASH_SCALE=n runs n times the
 * passes (default 1: >= 10,000 crash points); TL_STEPS < 1000 (sanitizer runs) a quick pass.
 * TL_CRASH_ONLY=<scenario>:<c|f|r>:<k> reruns one point with every simfs call traced (or
 * =<scenario>: its points only); TL_CRASH_DEBUG=1 adds the engine's log and, after a failed
 * check, what the directory holds (manifest seq, every WAL record).
 * TL_CRASH_THREADS sets the worker threads (default: one more than the cores).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "disk/mfile.h"
#include "durable/dmanifest.h"
#include "durable/dur.h"
#include "durable_util.h"
#include "test.h"

static const du_profile_t profiles[] = {
    /* name, seed, durability, values, wal segment, base ops, ops, batch max, big batch,
     * p_batch, p_append, p_delete, p_sync, p_ckpt, p_flush, p_reopen, late 1 in, int64
     * edges 1 in */
    {"fresh_sync_u64", 11, TL_DURABILITY_SYNC, TL_VALUES_HANDLE, 4096, 0, 24, 12, 300,
     30, 40, 12, 4, 6, 4, 4, 5, 0},
    {"sync_u64", 1, TL_DURABILITY_SYNC, TL_VALUES_HANDLE, 4096, 30, 36, 20, 300,
     30, 35, 12, 3, 8, 5, 3, 5, 0},
    {"interval_f64_chunks", 2, TL_DURABILITY_INTERVAL, TL_VALUES_F64, 4096, 25, 40, 30, 700,
     40, 20, 10, 12, 8, 4, 3, 4, 0},
    {"none_u64_deletes", 3, TL_DURABILITY_NONE, TL_VALUES_HANDLE, 8192, 30, 45, 40, 500,
     25, 25, 25, 6, 10, 4, 3, 3, 0},
    {"sync_f64_retention", 4, TL_DURABILITY_SYNC, TL_VALUES_F64, 8192, 20, 32, 15, 700,
     30, 30, 18, 2, 10, 4, 4, 6, 0},
    {"fresh_interval_f64", 12, TL_DURABILITY_INTERVAL, TL_VALUES_F64, 4096, 0, 30, 50, 900,
     40, 25, 10, 10, 6, 3, 4, 4, 0},
    {"none_f64_checkpoints", 5, TL_DURABILITY_NONE, TL_VALUES_F64, 8192, 25, 40, 30, 400,
     30, 25, 15, 5, 16, 3, 2, 5, 60},
    {"interval_u64_reopens", 6, TL_DURABILITY_INTERVAL, TL_VALUES_HANDLE, 4096, 20, 40, 25,
     350, 30, 30, 12, 8, 6, 2, 10, 4, 0},
    {"sync_u64_late_edges", 7, TL_DURABILITY_SYNC, TL_VALUES_HANDLE, 8192, 25, 36, 30, 300,
     30, 35, 15, 2, 8, 4, 3, 2, 40},
    {"interval_u64_big", 8, TL_DURABILITY_INTERVAL, TL_VALUES_HANDLE, 16384, 20, 30, 60, 2500,
     40, 20, 12, 10, 8, 4, 3, 5, 0},
    {"none_u64_small_segs", 9, TL_DURABILITY_NONE, TL_VALUES_HANDLE, 4096, 30, 45, 30, 600,
     35, 30, 12, 8, 8, 3, 3, 4, 0},
    {"sync_u64_deletes", 10, TL_DURABILITY_SYNC, TL_VALUES_HANDLE, 4096, 25, 40, 20, 260,
     25, 30, 30, 2, 8, 3, 2, 3, 0},
    /* bytes: record 627 of interval_bytes holds a 300,000-byte value (durable_util.h); its
     * WAL segments are larger so that it spans a few, not dozens */
    {"interval_bytes", 13, TL_DURABILITY_INTERVAL, TL_VALUES_BYTES, 65536, 25, 36, 30, 400,
     35, 25, 12, 8, 10, 3, 4, 4, 0},
    {"sync_bytes_retention", 14, TL_DURABILITY_SYNC, TL_VALUES_BYTES, 4096, 20, 32, 15, 300,
     30, 30, 20, 2, 10, 4, 4, 5, 0},
};
#define NPROFILES (sizeof profiles / sizeof *profiles)

static const char *tear_name[TL_SIM_TEAR_MODES] = {"none", "prefix", "zero", "garbage",
                                                   "reorder"};

static int scale(void) {
    const char *e = getenv("TL_CRASH_SCALE");
    int n = e ? atoi(e) : 1;
    return n > 0 ? n : 1;
}

/* Quick mode: TL_STEPS below 1000 (c/tests/sanitize.sh sets 600 under TSan, which runs this
 * test ~3x slower) crashes every call once instead of once per tear mode, fails it once, and
 * samples fewer recoveries. */
static bool quick(void) {
    const char *e = getenv("TL_STEPS");
    return e != NULL && atol(e) < 1000 && getenv("TL_CRASH_SCALE") == NULL;
}

static _Atomic uint64_t g_crash_points, g_fault_points;

/* TL_CRASH_ONLY=<scenario>:<c|f|r>:<k> runs that one crash (c), fault (f) or crash-during-
 * recovery (r) point, tracing every simfs call to stderr; TL_CRASH_ONLY=<scenario> runs every
 * point of that scenario. */
static bool only_this(const du_scen_t *s, char kind, uint64_t k) {
    const char *e = getenv("TL_CRASH_ONLY");
    if (e == NULL) return true;
    if (strchr(e, ':') == NULL) return strcmp(e, s->pr.name) == 0;
    char want[128];
    snprintf(want, sizeof want, "%s:%c:%" PRIu64, s->pr.name, kind, k);
    return strcmp(e, want) == 0;
}

static bool tracing(void) {
    const char *e = getenv("TL_CRASH_ONLY");
    return e != NULL && strchr(e, ':') != NULL;
}

static tl_simfs_t *point_fs(du_scen_t *s, uint64_t seed) {
    tl_simfs_t *fs = du_fresh(s, seed);
    tl_simfs_trace(fs, tracing());
    return fs;
}

/* ---- the check after a crash or a fault -------------------------------------------------- */

#define FAILW(...)                                                                          \
    do {                                                                                    \
        snprintf(msg, DU_MSG_CAP, __VA_ARGS__);                                             \
        line = __LINE__;                                                                    \
        goto out;                                                                           \
    } while (0)

/* TL_CRASH_DEBUG: after a failed check, what the directory holds (manifest, WAL records). */
static tl_status_t debug_rec(void *ctx, const tl_wal_rec_t *r) {
    (void)ctx;
    fprintf(stderr, "    wal seg %" PRIu64 " off %" PRIu64 ": call seq %" PRIu64 " chunk %u%s "
            "type %u len %u\n", r->segment, r->offset, r->seq >> TL_WREC_CHUNK_BITS,
            (unsigned)(r->seq & 0xffff), (r->flags & TL_WREC_LAST) ? " LAST" : "", r->type,
            r->len);
    return TL_OK;
}

static void debug_dir(du_scen_t *s, tl_simfs_t *fs) {
    if (getenv("TL_CRASH_DEBUG") == NULL) return;
    const tl_io_t *io = tl_simfs_io(fs);
    uint8_t *p = NULL;
    size_t len = 0;
    tl_io_err_t e;
    if (tl_mfile_read(io, DU_DIR, "MANIFEST", NULL, 1 << 24, &p, &len, &e) == TL_OK) {
        tl_dm_t m;
        uint64_t off;
        const char *why;
        if (tl_dm_decode(p, len, NULL, &m, &off, &why) == TL_OK) {
            fprintf(stderr, "    manifest seq %" PRIu64 " part %" PRIu64 ", %u runs\n", m.seq,
                    m.part, m.nruns);
            tl_dm_free(&m, NULL);
        }
        tl_mem_free(NULL, p, len ? len : 1);
    }
    for (uint32_t j = 1; j <= s->nwrites; j++) {
        fprintf(stderr, "    call %u: seq %" PRIu64 ", %zu records after\n", j, s->seq_of[j],
                s->states[j].n);
    }
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.segment_bytes = s->cfg.wal_segment_bytes;
    tl_wal_report_t rep;
    tl_wal_scan(io, DU_DIR, &o, debug_rec, NULL, &rep, &e);
}

/* Reopens fs as a new process would and checks the prefix property for [lo, hi]; with
 * `usable` also appends a record, syncs, closes, reopens and finds it. 0 or the failing line
 * (msg says why). */
static int recover_check(du_scen_t *s, tl_simfs_t *fs, uint32_t lo, uint32_t hi,
                         bool may_repair, bool usable, char *msg) {
    int line = 0;
    char err[DU_MSG_CAP];
    tl_timelog_t *tl = NULL;
    mdl_vec_t want = {0}, got = {0};
    tl_status_t st = du_open(s, fs, false, &tl, err);
    if (st == TL_ECORRUPT && may_repair) st = du_open(s, fs, true, &tl, err);
    if (st != TL_OK) FAILW("reopen: %s: %s", tl_strerror(st), err);
    long j = du_which_prefix(s, tl, lo, hi);
    if (j < 0) {
        du_dump(tl, &got);
        long any = du_which_prefix(s, tl, 0, s->nwrites);
        tl_close(tl);
        tl = NULL;
        debug_dir(s, fs);
        FAILW("reopened state is no prefix in [%u, %u]: %zu records (prefixes have %zu..%zu);"
              " %s %ld", lo, hi, got.n, s->states[lo].n, s->states[hi].n,
              any >= 0 ? "it is the prefix" : "nor any other prefix", any);
    }
    if ((st = tl_validate(tl)) != TL_OK) FAILW("validate: %s", tl_strerror(st));
    if (usable) {
        const int64_t t1 = 12345;
        const uint64_t h1 = 0xabcdefull;
        st = s->pr.value_kind == TL_VALUES_BYTES ? du_append_one(tl, t1, h1) : tl_append(tl, t1, h1);
        if (st != TL_OK && st != TL_EBUSY) {
            FAILW("append after recovery: %s", tl_strerror(st));
        }
        if ((st = tl_sync(tl)) != TL_OK) FAILW("sync after recovery: %s", tl_strerror(st));
        tl_close(tl);
        tl = NULL;
        if (tl_simfs_open_fds(fs) != 0) FAILW("descriptors left after close");
        if ((st = du_open(s, fs, false, &tl, err)) != TL_OK) {
            FAILW("second reopen: %s: %s", tl_strerror(st), err);
        }
        mdl_vec_copy(&want, &s->states[j]);
        mdl_insert(&want, 12345, 0xabcdefull);
        du_dump(tl, &got);
        if (!du_same(&got, &want)) FAILW("second reopen: %zu records, want %zu", got.n, want.n);
    }
out:
    tl_close(tl);
    if (line == 0 && tl_simfs_open_fds(fs) != 0) {
        snprintf(msg, DU_MSG_CAP, "descriptors left after close");
        line = __LINE__;
    }
    mdl_vec_free(&want);
    mdl_vec_free(&got);
    return line;
}

/* ---- crash points ------------------------------------------------------------------------ */

static int crash_point(du_scen_t *s, uint64_t k, int tear, bool keep, bool must_crash,
                       char *msg) {
    tl_simfs_t *fs = point_fs(s, k * 977 + (uint64_t)tear);
    tl_simfs_keep_dir_ops(fs, keep);
    tl_simfs_crash_at(fs, k, tear);
    du_run_t r;
    du_run_measured(s, fs, 0, &r);
    bool crashed = tl_simfs_dead(fs);
    tl_simfs_revive(fs);
    int line = 0;
    if (r.bad_reopen) {
        snprintf(msg, DU_MSG_CAP, "%s", r.msg);
        line = __LINE__;
    } else if (!crashed && must_crash) {
        snprintf(msg, DU_MSG_CAP, "no crash: the run made fewer calls than counted");
        line = __LINE__;
    } else {
        line = recover_check(s, fs, r.acked, r.attempted, tear == TL_SIM_TEAR_REORDER,
                             k % 4 == 0, msg);
    }
    tl_simfs_free(fs);
    return line;
}

/* On a copy of fs (crashed at k1, revived), a crash or an EIO at call k2 of the recovery,
 * then a clean recovery: the prefix of the first run r. A failed recovery must say EIO. */
static int second_point(du_scen_t *s, tl_simfs_t *fs, const du_run_t *r, uint64_t k1,
                        uint64_t k2, bool fault, char *msg) {
    int tear2 = (int)((k1 + k2) % TL_SIM_TEAR_REORDER);
    tl_simfs_t *c = tl_simfs_clone(fs, k1 * 1000 + k2);
    tl_simfs_trace(c, tracing());
    tl_simfs_keep_dir_ops(c, (k1 + k2) % 2 == 0);
    if (fault) tl_simfs_fail_at(c, k2, EIO, 1);
    else tl_simfs_crash_at(c, k2, tear2);
    char err[DU_MSG_CAP];
    tl_timelog_t *tl = NULL;
    int line = 0;
    tl_status_t st = du_open(s, c, false, &tl, err);
    if (st == TL_OK) tl_close(tl);
    else if (fault && (st != TL_EIO || strstr(err, "(errno 5)") == NULL)) {
        snprintf(msg, DU_MSG_CAP, "recovery met EIO: %s: %s", tl_strerror(st), err);
        line = __LINE__;
    }
    tl_simfs_revive(c);
    if (line == 0 && tl_simfs_open_fds(c) != 0) {
        snprintf(msg, DU_MSG_CAP, "a failed recovery left descriptors open");
        line = __LINE__;
    }
    if (line == 0) line = recover_check(s, c, r->acked, r->attempted, false, k2 % 4 == 0, msg);
    if (line != 0) {
        char m2[DU_MSG_CAP];
        snprintf(m2, sizeof m2, "%s at recovery call %" PRIu64 " (tear %s): %.400s",
                 fault ? "EIO" : "second crash", k2, tear_name[tear2], msg);
        memcpy(msg, m2, DU_MSG_CAP);
    }
    tl_simfs_free(c);
    return line;
}

/* A crash at k1, then at every call k2 of the recovery that follows (it cuts the torn tail,
 * removes files a checkpoint left behind, syncs the directory) a second crash, and an EIO,
 * each followed by a clean recovery: still the prefix of the first run. Returns the first
 * failing line; *crashes and *faults count the points. */
static int crash_twice(du_scen_t *s, uint64_t k1, uint64_t *crashes, uint64_t *faults,
                       char *msg) {
    int tear1 = (int)(k1 % TL_SIM_TEAR_REORDER); /* a REORDER tear may need repair */
    tl_simfs_t *fs = point_fs(s, k1 * 31 + 7);
    tl_simfs_keep_dir_ops(fs, k1 % 3 == 0);
    tl_simfs_crash_at(fs, k1, tear1);
    du_run_t r;
    du_run_measured(s, fs, 0, &r);
    tl_simfs_revive(fs);
    tl_simfs_keep_dir_ops(fs, false);
    /* the recovery's calls: open and close a copy */
    char err[DU_MSG_CAP];
    tl_simfs_t *c = tl_simfs_clone(fs, 1);
    tl_timelog_t *tl = NULL;
    int line = 0;
    if (du_open(s, c, false, &tl, err) != TL_OK) {
        snprintf(msg, DU_MSG_CAP, "recovery after the first crash: %s", err);
        line = __LINE__;
    }
    tl_close(tl);
    uint64_t n2 = tl_simfs_calls(c);
    tl_simfs_free(c);
    for (uint64_t k2 = 1; k2 <= n2 && line == 0; k2++) {
        line = second_point(s, fs, &r, k1, k2, false, msg);
        (*crashes)++;
        if (line == 0) line = second_point(s, fs, &r, k1, k2, true, msg);
        (*faults)++;
    }
    tl_simfs_free(fs);
    return line;
}

/* ---- fault points ------------------------------------------------------------------------ */

typedef struct {
    int err;
    uint64_t times;
    const char *name;
} fault_mode_t;

static const fault_mode_t fault_modes[] = {
    {EIO, 1, "EIO once"}, {ENOSPC, 1, "ENOSPC once"}, {ENOSPC, 1u << 30, "ENOSPC on"},
    {EACCES, 1, "EACCES once"}};
#define NFAULT_MODES (sizeof fault_modes / sizeof *fault_modes)

/* Unreported faults: in a tl_close (void), in a descriptor's close elsewhere, or (background
 * maintenance only) on the worker or syncer after the last write call. */
static _Atomic uint64_t g_silent_close, g_silent_fd, g_silent_bg;

/* The log after its first failure: readable, showing the calls applied; later writes and
 * syncs report the failure; its message keeps the errno. */
static int after_failure(du_scen_t *s, du_run_t *r, int err, char *msg) {
    int line = 0;
    tl_timelog_t *tl = r->tl;
    char want[32], text[DU_MSG_CAP];
    snprintf(want, sizeof want, "(errno %d)", err);
    uint32_t hi = r->fail_write ? r->done + 1 : r->done;
    long j = du_which_prefix(s, tl, r->done, hi);
    if (j < 0) FAILW("failed log shows no prefix in [%u, %u]", r->done, hi);
    tl_status_t st = s->pr.value_kind == TL_VALUES_BYTES ? du_append_one(tl, 1, 1)
                                                         : tl_append(tl, 1, 1);
    if (st != TL_EIO) FAILW("write after the failure: %s", tl_strerror(st));
    tl_last_error(tl, text, sizeof text);
    if (strstr(text, want) == NULL) FAILW("write after the failure: message \"%s\"", text);
    if (du_which_prefix(s, tl, (uint32_t)j, (uint32_t)j) != j) FAILW("refused write changed it");
    if ((st = tl_sync(tl)) != TL_EIO) FAILW("sync after the failure: %s", tl_strerror(st));
    if ((st = tl_checkpoint(tl)) != TL_EIO) {
        FAILW("checkpoint after the failure: %s", tl_strerror(st));
    }
    uint64_t d = 0;
    if ((st = tl_durable_seq(tl, &d)) != TL_EIO) FAILW("durable_seq: %s", tl_strerror(st));
out:
    tl_close(tl);
    r->tl = NULL;
    return line;
}

static int fault_point(du_scen_t *s, uint64_t k, const fault_mode_t *fm, bool power_loss,
                       bool background, char *msg) {
    tl_simfs_t *fs = point_fs(s, k * 131 + (uint64_t)fm->err);
    tl_simfs_fail_at(fs, k, fm->err, fm->times);
    du_run_t r;
    du_run_measured(s, fs, DU_KEEP_OPEN, &r);
    const char *op = tl_simfs_fault_op(fs);
    int line = 0;
    char want[32];
    snprintf(want, sizeof want, "(errno %d)", fm->err);
    if (r.bad_reopen) FAILW("%s", r.msg);
    if (r.st == TL_OK) {
        /* Unreported: only a tl_close (void; its acknowledgement is withheld) or a
         * descriptor's close (the descriptor is released whatever close says). */
        if (op == NULL && !background) FAILW("the fault met no call");
        if (op == NULL) (void)0;
        else if (r.close_failed) g_silent_close++;
        else if (strcmp(op, "close") == 0) g_silent_fd++;
        else if (background) g_silent_bg++;
        else FAILW("a fault in %s went unreported", op);
    } else {
        if (r.st != TL_EIO) FAILW("status %s (%s)", tl_strerror(r.st), r.msg);
        if (strstr(r.msg, want) == NULL || strchr(r.msg, '/') == NULL) {
            FAILW("message \"%s\" lacks %s or a path", r.msg, want);
        }
        if (r.tl != NULL && (line = after_failure(s, &r, fm->err, msg)) != 0) goto out;
    }
    if (tl_simfs_open_fds(fs) != 0) FAILW("descriptors left after close");
    tl_simfs_revive(fs);
    if (power_loss) tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
    line = recover_check(s, fs, r.acked, r.attempted, false, k % 3 == 0, msg);
out:
    if (r.tl != NULL) tl_close(r.tl);
    tl_simfs_free(fs);
    if (line != 0) {
        char m2[DU_MSG_CAP];
        snprintf(m2, sizeof m2, "%.300s (fault in %s; run: %s at op %d, acked %u of %u)", msg,
                 op ? op : "-", tl_strerror(r.st), r.fail_op, r.acked, r.attempted);
        memcpy(msg, m2, DU_MSG_CAP);
    }
    return line;
}

/* ---- running points on every core --------------------------------------------------------- */

typedef struct {
    du_scen_t *s;
    uint64_t k;
    int pass;
    char kind; /* 'c' crash, 'f' fault, 'r' crash then crashes during recovery */
    bool background; /* sampled points of the background scenario */
} point_t;

typedef struct {
    point_t *v;
    size_t n, cap;
    _Atomic size_t next;
    _Atomic bool stop;
    pthread_mutex_t mu;
    size_t fail_i;
    char fail[2 * DU_MSG_CAP];
} pool_t;

static void pool_add(pool_t *p, point_t pt) {
    if (pt.s != NULL && !only_this(pt.s, pt.kind, pt.k)) return;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->v = du_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = pt;
}

/* Runs one point; 0 or the failing line, with its description in what. */
static int run_point(const point_t *pt, char *what, size_t cap) {
    char msg[DU_MSG_CAP] = "";
    uint64_t k = pt->k, p = (uint64_t)pt->pass;
    int line;
    if (pt->kind == 'r') {
        uint64_t nc = 0, nf = 0;
        line = crash_twice(pt->s, k, &nc, &nf, msg);
        g_crash_points += nc;
        g_fault_points += nf;
        snprintf(what, cap, "%s: crash at call %" PRIu64 ", then: line %d: %s", pt->s->pr.name,
                 k, line, msg);
    } else if (pt->kind == 'c') {
        int tear = (int)((k + p) % TL_SIM_TEAR_MODES);
        bool keep = (k / TL_SIM_TEAR_MODES + p) % 2 == 1;
        line = crash_point(pt->s, k, tear, keep, !pt->background, msg);
        g_crash_points++;
        snprintf(what, cap, "%s: crash at call %" PRIu64 " (tear %s, dir ops %s): line %d: %s",
                 pt->s->pr.name, k, tear_name[tear], keep ? "kept" : "lost", line, msg);
    } else {
        const fault_mode_t *fm = &fault_modes[(k + p) % NFAULT_MODES];
        bool power_loss = (k / NFAULT_MODES + k + p) % 2 == 1; /* both, for every mode */
        line = fault_point(pt->s, k, fm, power_loss, pt->background, msg);
        g_fault_points++;
        snprintf(what, cap, "%s: %s at call %" PRIu64 "%s: line %d: %s", pt->s->pr.name,
                 fm->name, k, power_loss ? ", then a power loss" : "", line, msg);
    }
    return line;
}

static void *pool_worker(void *arg) {
    pool_t *p = arg;
    char what[2 * DU_MSG_CAP];
    while (!p->stop) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) break;
        if (run_point(&p->v[i], what, sizeof what) == 0) continue;
        pthread_mutex_lock(&p->mu);
        if (i < p->fail_i) {
            p->fail_i = i;
            memcpy(p->fail, what, sizeof p->fail);
        }
        p->stop = true;
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

static int threads(void) {
    const char *e = getenv("TL_CRASH_THREADS");
    /* one more than the cores: a point often waits (a syncer thread starting or joining) */
    long n = e ? atol(e) : sysconf(_SC_NPROCESSORS_ONLN) + 1;
    if (tracing()) n = 1;
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* Runs every point of p; true when all passed (else p->fail says which failed first). */
static bool pool_run(pool_t *p) {
    pthread_t th[8];
    int nt = threads(), started = 0;
    p->fail_i = SIZE_MAX;
    pthread_mutex_init(&p->mu, NULL);
    for (int i = 1; i < nt; i++) started += pthread_create(&th[started], NULL, pool_worker, p) == 0;
    pool_worker(p);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    free(p->v);
    return p->fail_i == SIZE_MAX;
}

/* ---- the tests --------------------------------------------------------------------------- */

static du_scen_t g_scen[NPROFILES];

static void scenarios_init(void) {
    for (size_t i = 0; i < NPROFILES; i++) {
        du_scen_init(&g_scen[i], &profiles[i]);
        du_scen_count(&g_scen[i]);
        if (getenv("TL_TEST_VERBOSE") == NULL) continue;
        printf("  %-22s %3u ops, %3u write calls, %5zu records, %4" PRIu64 " I/O calls\n",
               profiles[i].name, g_scen[i].nops, g_scen[i].nwrites, g_scen[i].nrec,
               g_scen[i].calls);
    }
}

/* Every call of every scenario: a crash with each tear mode in turn over the passes. */
TL_TEST(crash_at_every_call) {
    static pool_t p;
    memset(&p, 0, sizeof p);
    int passes = quick() ? 1 : TL_SIM_TEAR_MODES * scale();
    for (int pass = 0; pass < passes; pass++) {
        for (size_t i = 0; i < NPROFILES; i++) {
            for (uint64_t k = 1; k <= g_scen[i].calls; k++) {
                pool_add(&p, (point_t){&g_scen[i], k, pass, 'c', false});
            }
        }
    }
    if (!pool_run(&p)) TL_FAIL_("%s", p.fail);
}

/* Crashes and faults during the recovery from a crash (sampled first crash points). */
TL_TEST(crash_during_recovery) {
    static pool_t p;
    memset(&p, 0, sizeof p);
    uint64_t step = quick() ? 40 : 16 / (uint64_t)scale() + 1;
    for (size_t i = 0; i < NPROFILES; i++) {
        for (uint64_t k = 1 + i % step; k <= g_scen[i].calls; k += step) {
            pool_add(&p, (point_t){&g_scen[i], k, 0, 'r', false});
        }
    }
    if (!pool_run(&p)) TL_FAIL_("%s", p.fail);
}

/* Every call of every scenario, failed in three of the four fault modes (they rotate with k
 * over the passes, so each mode meets every kind of call). */
TL_TEST(fault_at_every_call) {
    static pool_t p;
    memset(&p, 0, sizeof p);
    int passes = quick() ? 1 : 3 * scale();
    for (int pass = 0; pass < passes; pass++) {
        for (size_t i = 0; i < NPROFILES; i++) {
            for (uint64_t k = 1; k <= g_scen[i].calls; k++) {
                pool_add(&p, (point_t){&g_scen[i], k, pass, 'f', false});
            }
        }
    }
    if (!pool_run(&p)) TL_FAIL_("%s", p.fail);
    printf("  unreported faults: %" PRIu64 " in tl_close (void), %" PRIu64 " in a descriptor's "
           "close\n", (uint64_t)g_silent_close, (uint64_t)g_silent_fd);
}

/* Background maintenance (flushes, compactions, checkpoints on the worker; a live syncer):
 * the calls are not the same from run to run, so points are sampled over the clean run's
 * count, and a crash may come after the end. The prefix property must hold all the same. */
TL_TEST(background_maintenance) {
    static const du_profile_t bps[] = {
        {"background_interval_f64", 21, TL_DURABILITY_INTERVAL, TL_VALUES_F64, 4096, 20, 60,
         40, 600, 35, 30, 12, 8, 3, 2, 4, 5, 0},
        {"background_sync_u64", 22, TL_DURABILITY_SYNC, TL_VALUES_HANDLE, 4096, 20, 50, 40,
         500, 35, 30, 15, 4, 3, 2, 4, 4, 0},
        {"background_none_u64", 23, TL_DURABILITY_NONE, TL_VALUES_HANDLE, 8192, 20, 60, 60,
         900, 40, 25, 15, 8, 3, 2, 3, 4, 0},
    };
    enum { NB = sizeof bps / sizeof *bps };
    static du_scen_t s[NB];
    static pool_t p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < NB; i++) {
        du_scen_init(&s[i], &bps[i]);
        s[i].cfg.maintenance = TL_MAINT_BACKGROUND;
        s[i].cfg.sync_interval_ms = 2;
        s[i].cfg.maint_interval_ms = 1;
        s[i].cfg.idle_ms = 3;
        s[i].cfg.checkpoint_bytes = 8192; /* checkpoints while writes go on */
        du_scen_count(&s[i]);
        uint64_t n = s[i].calls + s[i].calls / 8, step = n / (200 * (uint64_t)scale()) + 1;
        for (uint64_t k = 1; k <= n; k += quick() ? 3 * step : step) {
            pool_add(&p, (point_t){&s[i], k, 0, 'c', true});
            pool_add(&p, (point_t){&s[i], k, (int)(k / 2), 'f', true});
        }
    }
    bool ok = pool_run(&p);
    for (int i = 0; i < NB; i++) du_scen_free(&s[i]);
    if (!ok) TL_FAIL_("%s", p.fail);
}

/* One live log per directory; no descriptor survives a close, whatever happened. */
TL_TEST(lock_and_descriptors) {
    du_profile_t lp = profiles[1];
    du_scen_t s;
    du_scen_init(&s, &lp);
    tl_simfs_t *fs = tl_simfs_new(5);
    char err[DU_MSG_CAP];
    tl_timelog_t *a = NULL, *b = NULL;
    CHECK_OK(du_open(&s, fs, false, &a, err));
    int fds = tl_simfs_open_fds(fs);
    CHECK_ST(du_open(&s, fs, false, &b, err), TL_ELOCKED);
    CHECK(b == NULL);
    CHECK(strstr(err, DU_DIR) != NULL);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), fds); /* the refused open left nothing open */
    tl_close(a);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    /* open / write / checkpoint / close cycles: every close releases every descriptor */
    mdl_vec_t m = {0}, got = {0};
    for (uint32_t c = 0; c < 40; c++) {
        CHECK_OK(du_open(&s, fs, false, &a, err));
        int64_t ts[50];
        uint64_t h[50];
        mdl_rec_t r[50];
        for (int i = 0; i < 50; i++) {
            ts[i] = (int64_t)(c * 50 + (uint32_t)i) * 7 % 3000;
            h[i] = c * 1000u + (uint32_t)i;
            r[i] = (mdl_rec_t){ts[i], h[i]};
        }
        CHECK_OK(tl_append_batch(a, ts, h, 50, 0));
        mdl_insert_batch(&m, r, 50);
        if (c % 3 == 0) CHECK_OK(tl_checkpoint(a));
        if (c % 5 == 0) CHECK_OK(tl_delete_range(a, (int64_t)c * 10, (int64_t)c * 10 + 25));
        if (c % 5 == 0) mdl_delete(&m, (int64_t)c * 10, (int64_t)c * 10 + 24, NULL, NULL);
        tl_close(a);
        CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    }
    CHECK_OK(du_open(&s, fs, false, &a, err));
    CHECK_OK(du_dump(a, &got));
    CHECK(du_same(&got, &m));
    tl_close(a);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    mdl_vec_free(&m);
    mdl_vec_free(&got);
    tl_simfs_free(fs);
    du_scen_free(&s);
}

/* The same on the real file system: the process's descriptor count comes back after each
 * close (Linux: /proc/self/fd). */
static int proc_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return -1;
    int n = 0;
    while (readdir(d) != NULL) n++;
    closedir(d);
    return n;
}

TL_TEST(real_fs_descriptors) {
    int before = proc_fds();
    if (before < 0) return; /* no /proc: nothing to count */
    char dir[128], cmd[200];
    snprintf(dir, sizeof dir, "/tmp/tl_durable_crash_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.page_records = 64;
    c.memtable_records = 256;
    c.wal_segment_bytes = 4096;
    c.idle_ms = 1;
    tl_config_set_path(&c, dir, (uint32_t)strlen(dir));
    for (int i = 0; i < 20; i++) {
        tl_timelog_t *tl = NULL, *tl2 = NULL;
        CHECK_OK(tl_open(&c, &tl));
        CHECK_ST(tl_open(&c, &tl2), TL_ELOCKED);
        for (int j = 0; j < 300; j++) CHECK_OK(tl_append(tl, i * 300 + j, (uint64_t)j));
        if (i % 2 == 0) CHECK_OK(tl_checkpoint(tl));
        CHECK_OK(tl_sync(tl));
        tl_close(tl);
        CHECK_EQ_I64(proc_fds(), before);
    }
    CHECK(system(cmd) == 0);
}

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* RUN, and with TL_TEST_VERBOSE the CPU seconds the test took (all threads). */
#define RUN_TIMED(name)                                                                     \
    do {                                                                                    \
        double c0_ = cpu_s();                                                               \
        RUN(name);                                                                          \
        if (getenv("TL_TEST_VERBOSE")) printf("  %s: %.1f s CPU\n", #name, cpu_s() - c0_);   \
    } while (0)

int main(void) {
    time_t t0 = time(NULL);
#if defined(PR_SET_THP_DISABLE)
    /* Each open allocates the WAL's two 4 MiB buffers; with transparent huge pages the first
     * touch of each zeroes 2 MiB, a fifth of this test's time. */
    (void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
#endif
    scenarios_init();
    RUN_TIMED(crash_at_every_call);
    RUN_TIMED(crash_during_recovery);
    RUN_TIMED(fault_at_every_call);
    RUN_TIMED(background_maintenance);
    RUN_TIMED(lock_and_descriptors);
    RUN_TIMED(real_fs_descriptors);
    for (size_t i = 0; i < NPROFILES; i++) du_scen_free(&g_scen[i]);
    printf("# durable_crash: %" PRIu64 " crash points, %" PRIu64 " fault points (%ld s, %d "
           "threads; %" PRIu64 " background faults unreported)\n", (uint64_t)g_crash_points,
           (uint64_t)g_fault_points, (long)(time(NULL) - t0), threads(), (uint64_t)g_silent_bg);
    return tl_test_done("durable_crash_test");
}
