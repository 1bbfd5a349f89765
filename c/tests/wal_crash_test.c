/*
 * wal_crash_test.c — the WAL under power loss and I/O errors at every call (simfs).
 *
 * The scenario: a WAL holding records 1..30 (synced) is reopened (recovery), records 31..130
 * are appended with a sync every 6, the log is truncated once to (acked - 20), and closed.
 * It makes a fixed sequence of I/O calls (opens, reads, writes, fdatasyncs, creates of new
 * segments, directory syncs, unlinks); for every call k of that sequence:
 *   - crash at k (every tear mode; unsynced directory entries lost, or kept at random as a
 *     journaling file system may): recovery must succeed strictly and deliver a contiguous
 *     run of records, payloads intact, ending at or after the last acknowledged seq and not
 *     after the last appended one, starting no later than the truncation point; a writer
 *     reopened on it appends and syncs cleanly. With REORDER (unsynced pages persisted out of
 *     order) strict recovery may find corruption; repair must then keep every acknowledged
 *     record;
 *   - fail k with EIO, ENOSPC (once), or ENOSPC from k on (a full disk; also with short
 *     writes before it, as a disk filling up answers): the error reaches
 *     the caller with its errno, operation and path, nothing acknowledged is lost, and
 *     recovery after it (with and without a power loss) is consistent;
 *   - for a sample of crash points, a fault at every call of the recovery itself, then a
 *     clean recovery: still consistent.
 * The counts of crash points and fault points run are printed.
 */
#include <errno.h>
#include <string.h>

#include "disk_util.h"
#include "test.h"

#define LMAX 500
#define BASE 30
#define N 100

static tl_wal_opts_t opts(bool repair) {
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.segment_bytes = 4096;
    o.buffer_bytes = 2048;
    o.repair = repair;
    return o;
}

typedef struct {
    uint64_t appended, acked, keep;
    tl_status_t st;
    tl_io_err_t err;
} run_t;

static tl_simfs_t *setup(uint64_t seed) {
    tl_simfs_t *fs = tl_simfs_new(seed);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = opts(false);
    tl_wal_t *w;
    tl_wal_report_t rep;
    if (tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, NULL) != TL_OK) abort();
    for (uint64_t s = 1; s <= BASE; s++) {
        if (du_append(w, s, LMAX, NULL) != TL_OK) abort();
    }
    if (tl_wal_close(w, NULL) != TL_OK) abort();
    return fs;
}

/* Stops at the first failure (recorded in r). */
static void scenario(tl_simfs_t *fs, run_t *r) {
    *r = (run_t){.appended = BASE, .acked = BASE, .st = TL_OK};
    tl_wal_opts_t o = opts(false);
    tl_wal_t *w = NULL;
    tl_wal_report_t rep;
    r->st = tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &r->err);
    if (r->st != TL_OK) return;
    for (uint64_t seq = BASE + 1; seq <= BASE + N && r->st == TL_OK; seq++) {
        r->st = du_append(w, seq, LMAX, &r->err);
        if (r->st != TL_OK) break;
        r->appended = seq;
        uint64_t synced = 0;
        if (seq % 6 == 0) r->st = tl_wal_sync(w, &synced, &r->err);
        if (seq % 6 == 0 && r->st == TL_OK) r->acked = synced;
        if (seq == BASE + 60 && r->st == TL_OK) {
            r->keep = r->acked - 20;
            r->st = tl_wal_truncate(w, r->keep, NULL, &r->err);
        }
    }
    tl_io_err_t ce;
    tl_status_t cst = tl_wal_close(w, &ce);
    if (r->st == TL_OK && cst != TL_OK) {
        r->st = cst;
        r->err = ce;
    }
    if (r->st == TL_OK) r->acked = r->appended; /* close synced everything */
}

/* Recovers and checks the prefix property against r, then proves the log usable: appends 3
 * records, syncs, and reads them back. Returns 0 or the failing line; *last = the new end. */
static int check(tl_simfs_t *fs, const run_t *r, bool may_repair, uint64_t *last) {
    const tl_io_t *io = tl_simfs_io(fs);
    tl_wal_opts_t o = opts(false);
    du_col_t col = {.lmax = LMAX};
    tl_wal_report_t rep;
    tl_io_err_t e;
    tl_status_t st = tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e);
    if (st == TL_ECORRUPT && may_repair) {
        o = opts(true);
        du_col_reset(&col);
        st = tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e);
    }
    int line = 0;
    uint64_t n = col.n, first = n ? col.seqs[0] : 0, end = n ? col.seqs[n - 1] : 0;
    if (st != TL_OK) line = __LINE__;
    else if (col.bad != 0 || n == 0 || end - first + 1 != n) line = __LINE__;
    else if (end < r->acked || end > r->appended) line = __LINE__;
    else if (first != 1 && first > r->keep) line = __LINE__;
    tl_wal_t *w = NULL;
    if (!line && tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e) != TL_OK) line = __LINE__;
    for (uint64_t s = end + 1; !line && s <= end + 3; s++) {
        if (du_append(w, s, LMAX, &e) != TL_OK) line = __LINE__;
    }
    uint64_t synced = 0;
    if (!line && (tl_wal_sync(w, &synced, &e) != TL_OK || synced != end + 3)) line = __LINE__;
    if (w != NULL && tl_wal_close(w, &e) != TL_OK && !line) line = __LINE__;
    o = opts(false);
    du_col_reset(&col);
    if (!line && tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e) != TL_OK) line = __LINE__;
    if (!line && (rep.torn || rep.last_seq != end + 3 || col.bad)) line = __LINE__;
    if (!line && tl_simfs_open_fds(fs) != 0) line = __LINE__;
    *last = end + 3;
    du_col_free(&col);
    return line;
}

static uint64_t scenario_calls_with(uint64_t seed, bool short_writes) {
    tl_simfs_t *fs = setup(seed);
    tl_simfs_short_writes(fs, short_writes);
    uint64_t c0 = tl_simfs_calls(fs);
    run_t r;
    scenario(fs, &r);
    uint64_t n = tl_simfs_calls(fs) - c0;
    tl_simfs_free(fs);
    if (r.st != TL_OK || r.acked != BASE + N) {
        char msg[TL_IO_PATH_CAP + 128];
        tl_io_err_format(&r.err, msg, sizeof msg);
        printf("  scenario failed: status %d acked %" PRIu64 ": %s\n", r.st, r.acked, msg);
        return 0;
    }
    return n;
}

static uint64_t scenario_calls(void) { return scenario_calls_with(1, false); }

static const char *tear_name[TL_SIM_TEAR_MODES] = {"none", "prefix", "zero", "garbage",
                                                   "reorder"};

TL_TEST(crash_at_every_call) {
    uint64_t calls = scenario_calls(), points = 0;
    printf("  scenario: %" PRIu64 " I/O calls\n", calls);
    CHECK(calls > 50);
    for (int mode = 0; mode < 2 * TL_SIM_TEAR_MODES; mode++) {
        int tear = mode % TL_SIM_TEAR_MODES;
        for (uint64_t k = 1; k <= calls; k++) {
            tl_simfs_t *fs = setup(k * 977 + (uint64_t)mode);
            tl_simfs_keep_dir_ops(fs, mode >= TL_SIM_TEAR_MODES);
            tl_simfs_crash_at(fs, k, tear);
            run_t r;
            scenario(fs, &r);
            const char *op = tl_simfs_crash_op(fs);
            bool crashed = tl_simfs_dead(fs);
            tl_simfs_revive(fs);
            uint64_t last;
            int line = check(fs, &r, tear == TL_SIM_TEAR_REORDER, &last);
            tl_simfs_free(fs);
            if (!crashed || line != 0) {
                TL_FAIL_("tear %s, crash at call %" PRIu64 " (%s): crashed %d, check line %d",
                         tear_name[tear], k, op ? op : "-", crashed, line);
            }
            points++;
        }
    }
    printf("  %" PRIu64 " crash points (%" PRIu64 " calls x %d tear modes x unsynced directory "
           "entries lost or kept)\n", points, calls, TL_SIM_TEAR_MODES);
}

/* The failure the scenario reported must be the injected one, with its context. */
static bool reported(const run_t *r, int err) {
    char msg[TL_IO_PATH_CAP + 128], want[32];
    tl_io_err_format(&r->err, msg, sizeof msg);
    snprintf(want, sizeof want, "(errno %d)", err);
    return r->st == TL_EIO && r->err.sys_errno == err && r->err.op != NULL &&
           strstr(r->err.path, "/db") == r->err.path && strstr(msg, want) != NULL;
}

TL_TEST(fault_at_every_call) {
    uint64_t calls = scenario_calls(), points = 0, silent = 0;
    printf("  scenario: %" PRIu64 " I/O calls\n", calls);
    CHECK(calls > 50);
    /* The last mode is a disk filling up: writes come back short, then ENOSPC for good. Its
     * seed is fixed, so the call sequence up to the fault is the one that was counted. */
    const struct { int err; uint64_t times; bool short_writes; const char *name; } modes[] = {
        {EIO, 1, false, "EIO once"}, {ENOSPC, 1, false, "ENOSPC once"},
        {ENOSPC, 1000000, false, "ENOSPC on"}, {ENOSPC, 1000000, true, "short, ENOSPC on"}};
    uint64_t short_calls = scenario_calls_with(99, true);
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
        uint64_t n = modes[m].short_writes ? short_calls : calls;
        for (uint64_t k = 1; k <= n; k++) {
            tl_simfs_t *fs = setup(modes[m].short_writes ? 99 : k * 131 + m);
            tl_simfs_short_writes(fs, modes[m].short_writes);
            tl_simfs_fail_at(fs, k, modes[m].err, modes[m].times);
            run_t r;
            scenario(fs, &r);
            const char *op = tl_simfs_fault_op(fs);
            tl_simfs_revive(fs);
            tl_simfs_short_writes(fs, false);
            /* Only an unlock failure stays silent: the lock is gone with its descriptor. */
            bool ok = r.st == TL_OK ? op != NULL && strcmp(op, "unlock_dir") == 0
                                    : reported(&r, modes[m].err);
            silent += r.st == TL_OK;
            uint64_t last = 0;
            int line = ok ? check(fs, &r, false, &last) : 0;
            run_t after = r; /* power loss after the failure: the same guarantees */
            after.acked = last;
            after.appended = last;
            tl_simfs_crash(fs, TL_SIM_TEAR_NONE);
            if (ok && line == 0) line = check(fs, &after, false, &last);
            tl_simfs_free(fs);
            if (!ok || line != 0) {
                char msg[TL_IO_PATH_CAP + 128];
                tl_io_err_format(&r.err, msg, sizeof msg);
                TL_FAIL_("%s at call %" PRIu64 " (%s): status %d \"%s\", check line %d",
                         modes[m].name, k, op ? op : "-", r.st, msg, line);
            }
            points++;
        }
    }
    printf("  %" PRIu64 " fault points (%" PRIu64 " calls x 3 modes + %" PRIu64
           " with short writes), %" PRIu64 " silent (unlock)\n", points, calls, short_calls,
           silent);
}

/* Crash at a sample of points, then fail every call of the recovery in turn. */
TL_TEST(fault_during_recovery_after_a_crash) {
    uint64_t calls = scenario_calls(), points = 0;
    for (uint64_t k = 5; k <= calls; k += 23) {
        for (uint64_t j = 1;; j++) {
            tl_simfs_t *fs = setup(k);
            tl_simfs_crash_at(fs, k, TL_SIM_TEAR_GARBAGE);
            run_t r;
            scenario(fs, &r);
            tl_simfs_revive(fs);
            /* The faulty recovery: a writer open, which also cuts the torn tail. */
            tl_wal_opts_t o = opts(false);
            tl_wal_t *w = NULL;
            tl_wal_report_t rep;
            tl_io_err_t e;
            uint64_t c0 = tl_simfs_calls(fs);
            tl_simfs_fail_at(fs, j, EIO, 1);
            tl_status_t st = tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e);
            bool hit = tl_simfs_fault_op(fs) != NULL;
            if (st == TL_OK) st = tl_wal_close(w, &e);
            uint64_t used = tl_simfs_calls(fs) - c0;
            tl_simfs_revive(fs);
            uint64_t last;
            int line = check(fs, &r, false, &last);
            tl_simfs_free(fs);
            if (line != 0 || (hit && st != TL_EIO && st != TL_OK)) {
                TL_FAIL_("crash at %" PRIu64 ", recovery fault at %" PRIu64 ": status %d, "
                         "check line %d", k, j, st, line);
            }
            points++;
            if (j > used) break; /* past the last call of the recovery */
        }
    }
    printf("  %" PRIu64 " (crash point, recovery fault point) pairs\n", points);
}

int main(void) {
    RUN(crash_at_every_call);
    RUN(fault_at_every_call);
    RUN(fault_during_recovery_after_a_crash);
    return tl_test_done("wal_crash_test");
}
