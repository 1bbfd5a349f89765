/*
 * durable_corrupt_test.c — durable logs whose files are damaged (simfs): never wrong data,
 * never a crash.
 *
 * A directory is built once per value kind (u64 handles, f64 values): batches, late records,
 * deletes of every kind and two checkpoints (segment files and a manifest), then a WAL tail of
 * several segments holding appends, a batch chunked over two WAL records, and deletes. Then,
 * for many random (file, offset) pairs over every file type (MANIFEST, seg-*.tls, wal-*.log), a
 * copy of it gets one byte flipped, is cut at that offset, or gets random bytes appended, and is
 * reopened:
 *   - strictly: either TL_ECORRUPT with a message naming the damaged file, or the state after
 *     exactly the write calls the damage leaves whole. Damage in the manifest or a segment
 *     file leaves nothing out (it is refused, or lies where nothing reads); damage in the WAL
 *     may be a torn tail, cut from the damaged record on: the state is then the checkpoint plus
 *     every call whose records all lie before the damage (computed from a scan of the intact
 *     WAL);
 *   - with cfg.repair, when the strict open refused WAL damage: the open succeeds with that
 *     same prefix and tl_stats says recovery_cut_bytes > 0. Repair never guesses at the
 *     manifest or at pages: their damage is still refused.
 * Every fifth opened log also takes a write, syncs, closes and reopens with it.
 * Prints "# durable_corrupt: N corruption cases (...)". TL_CRASH_SCALE=n runs n times more.
 */
#include <errno.h>
#include <time.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "disk/le.h"
#include "disk/mfile.h"
#include "disk/wal.h"
#include "durable/dmanifest.h"
#include "durable/dur.h"
#include "durable_util.h"
#include "test.h"

enum { F_MANIFEST, F_SEG, F_WAL, F_TYPES };
static const char *type_name[F_TYPES] = {"MANIFEST", "segment file", "WAL segment"};

typedef struct {
    char name[64];
    int type;
    uint64_t wal_seg; /* F_WAL: its number */
    uint8_t *data;
    size_t len;
} dfile_t;

/* The last WAL frame of each write call (F_WAL damage decides which calls survive). */
typedef struct {
    uint64_t seg, end;
} frame_pos_t;

typedef struct {
    du_scen_t s;
    tl_simfs_t *fs; /* the intact directory */
    dfile_t files[64];
    int nfiles, ntype[F_TYPES];
    uint32_t ckpt_calls; /* write calls the manifest covers */
    frame_pos_t *last; /* [nwrites + 1]: where call j's last frame ends (seg 0: not in WAL) */
} dir_t;

typedef struct {
    uint64_t cases, refused, opened, repaired, by_type[F_TYPES];
} tally_t;

/* ---- the directory ----------------------------------------------------------------------- */

static void build_ops(du_scen_t *s) {
    for (int i = 0; i < 12; i++) du_add(s, DU_BATCH, 60, 0, 0);
    for (int i = 0; i < 20; i++) du_add(s, DU_APPEND, 1, 0, 0);
    du_add(s, DU_DEL_RANGE, 0, s->now - 900, s->now - 600);
    du_add(s, DU_CKPT, 0, 0, 0);
    /* in order, so the first file stays mostly alive: two segment files */
    int late = s->pr.late_one_in;
    s->pr.late_one_in = 0;
    for (int i = 0; i < 10; i++) du_add(s, DU_BATCH, 80, 0, 0);
    du_add(s, DU_DEL_BEFORE, 0, s->now - 7500, 0); /* retention: part of the first file */
    du_add(s, DU_DEL_AT, 0, s->ts[s->nrec - 30], 0);
    for (int i = 0; i < 10; i++) du_add(s, DU_APPEND, 1, 0, 0);
    du_add(s, DU_CKPT, 0, 0, 0);
    s->pr.late_one_in = late;
    /* the WAL tail: several segments, a batch chunked over two records, deletes (batches are
     * compressed records, a few bytes a record, so it takes a few thousand records; a bytes
     * log's value bytes fill segments sooner) */
    bool bytes = s->pr.value_kind == TL_VALUES_BYTES;
    for (int i = 0; i < 6; i++) du_add(s, DU_BATCH, bytes ? 50 : 300, 0, 0);
    du_add(s, DU_BATCH, bytes ? 400 : 1000, 0, 0);
    du_add(s, DU_DEL_RANGE, 0, s->now - 300, s->now - 200);
    for (int i = 0; i < 10; i++) du_add(s, DU_APPEND, 1, 0, 0);
    du_add(s, DU_DEL_AT, 0, s->ts[s->nrec - 3], 0);
    for (int i = 0; i < 3; i++) du_add(s, DU_BATCH, 30, 0, 0);
    du_add(s, DU_SYNC, 0, 0, 0);
    s->nbase = s->nops;
}

static int list_file(void *arg, const char *name) {
    dir_t *d = arg;
    dfile_t *f = &d->files[d->nfiles];
    uint64_t id = 0;
    if (strcmp(name, "MANIFEST") == 0) f->type = F_MANIFEST;
    else if (strncmp(name, "seg-", 4) == 0) f->type = F_SEG;
    else if (tl_wal_parse_name(name, &id)) f->type = F_WAL;
    else return 0;
    if (d->nfiles == 63) return -ENOMEM;
    f->wal_seg = id;
    snprintf(f->name, sizeof f->name, "%s", name);
    char path[128];
    snprintf(path, sizeof path, DU_DIR "/%s", name);
    if (tl_simfs_get(d->fs, path, &f->data, &f->len) != 0) return -EIO;
    d->ntype[f->type]++;
    d->nfiles++;
    return 0;
}

static tl_status_t note_frame(void *ctx, const tl_wal_rec_t *r) {
    dir_t *d = ctx;
    uint64_t eseq = r->seq >> TL_WREC_CHUNK_BITS;
    if (!(r->flags & TL_WREC_LAST)) return TL_OK; /* not a call's last chunk */
    /* an APPEND_RUN frame ends every single append it holds, first .. eseq */
    uint64_t first = r->type == TL_WREC_APPEND_RUN && r->len >= 16 ? tl_le64_load(r->payload)
                                                                    : eseq;
    for (uint64_t s = first; s <= eseq; s++) {
        uint32_t j = du_calls_upto(&d->s, s);
        if (j > 0 && d->s.seq_of[j] == s) {
            d->last[j] = (frame_pos_t){r->segment, r->offset + tl_wal_frame_size(r->len)};
        }
    }
    return TL_OK;
}

/* Builds the directory; false (with a message) when it does not have every file type. */
static bool dir_build(dir_t *d, uint32_t value_kind) {
    memset(d, 0, sizeof *d);
    static const char *const names[] = {"corrupt_u64", "corrupt_f64", "corrupt_bytes"};
    /* byte values fill the WAL faster: larger segments keep the directory under 64 files */
    uint64_t seg = value_kind == TL_VALUES_BYTES ? 32768 : 4096;
    du_profile_t p = {names[value_kind], 77,
                      TL_DURABILITY_INTERVAL, value_kind, seg, 0, 0, 0, 0,
                      0, 0, 0, 0, 0, 0, 0, 5, 100};
    du_scen_start(&d->s, &p);
    build_ops(&d->s);
    du_scen_finish(&d->s);
    d->fs = du_base(&d->s, 1, true);
    const tl_io_t *io = tl_simfs_io(d->fs);
    tl_io_err_t e;
    if (tl_io_list(io, DU_DIR, list_file, d, &e) != TL_OK) return false;
    /* the manifest's seq, and where each later call's last WAL frame ends */
    uint8_t *payload = NULL;
    size_t len = 0;
    if (tl_mfile_read(io, DU_DIR, "MANIFEST", NULL, 1 << 24, &payload, &len, &e) != TL_OK) {
        return false;
    }
    tl_dm_t dm;
    uint64_t off;
    const char *why;
    tl_status_t st = tl_dm_decode(payload, len, NULL, &dm, &off, &why);
    tl_mem_free(NULL, payload, len ? len : 1);
    if (st != TL_OK) return false;
    d->ckpt_calls = du_calls_upto(&d->s, dm.seq);
    tl_dm_free(&dm, NULL);
    d->last = calloc(d->s.nwrites + 1, sizeof *d->last);
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.segment_bytes = d->s.cfg.wal_segment_bytes;
    tl_wal_report_t rep;
    if (tl_wal_scan(io, DU_DIR, &o, note_frame, d, &rep, &e) != TL_OK) return false;
    for (uint32_t j = d->ckpt_calls + 1; j <= d->s.nwrites; j++) {
        if (d->last[j].seg == 0) return false; /* every later call is in the WAL */
    }
    if (getenv("TL_TEST_VERBOSE")) {
        printf("  %s: manifest %d, segment files %d, WAL segments %d, %u of %u calls in files\n",
               d->s.pr.name, d->ntype[F_MANIFEST], d->ntype[F_SEG], d->ntype[F_WAL],
               d->ckpt_calls, d->s.nwrites);
    }
    /* A bytes log's second checkpoint rewrites the first file (its chunk taking appends grew,
     * which leaves that file less than half alive): one segment file is enough there. */
    int segs = d->s.pr.value_kind == TL_VALUES_BYTES ? 1 : 2;
    return d->ntype[F_MANIFEST] == 1 && d->ntype[F_SEG] >= segs && d->ntype[F_WAL] >= 3 &&
           d->ckpt_calls > 0 && d->ckpt_calls < d->s.nwrites;
}

static void dir_free(dir_t *d) {
    for (int i = 0; i < d->nfiles; i++) free(d->files[i].data);
    free(d->last);
    tl_simfs_free(d->fs);
    du_scen_free(&d->s);
}

/* The write calls left whole by damage at (WAL segment seg, byte off): the checkpoint's, then
 * every call whose last frame ends at or before it. Damage in the header loses the segment. */
static uint32_t calls_before(const dir_t *d, uint64_t seg, uint64_t off) {
    if (off < TL_WAL_HEADER_BYTES) off = 0;
    uint32_t j = d->ckpt_calls;
    while (j < d->s.nwrites) {
        const frame_pos_t *f = &d->last[j + 1];
        if (!(f->seg < seg || (f->seg == seg && f->end <= off))) break;
        j++;
    }
    return j;
}

/* ---- one case ---------------------------------------------------------------------------- */

#define BAD(...)                                                                            \
    do {                                                                                    \
        snprintf(msg, DU_MSG_CAP, __VA_ARGS__);                                             \
        line = __LINE__;                                                                    \
        goto out;                                                                           \
    } while (0)

/* Opens fs (strict or repair) and checks it shows states[want]; with `usable`, also writes,
 * syncs, closes and reopens. 0, or the failing line. */
static int check_open(dir_t *d, tl_simfs_t *fs, tl_timelog_t *tl, uint32_t want, bool usable,
                      char *msg) {
    int line = 0;
    char err[DU_MSG_CAP];
    mdl_vec_t m = {0}, got = {0};
    long j = du_which_prefix(&d->s, tl, 0, d->s.nwrites);
    if (j != (long)want) {
        BAD("opened with the state after %ld write calls, want %u (of %u)", j, want,
            d->s.nwrites);
    }
    tl_status_t st = tl_validate(tl);
    if (st != TL_OK) BAD("validate: %s", tl_strerror(st));
    if (usable) {
        st = d->s.pr.value_kind == TL_VALUES_BYTES ? du_append_one(tl, 777, 0x5eedull)
                                                   : tl_append(tl, 777, 0x5eedull);
        if (st != TL_OK) BAD("append: %s", tl_strerror(st));
        if ((st = tl_sync(tl)) != TL_OK) BAD("sync: %s", tl_strerror(st));
        tl_close(tl);
        tl = NULL;
        if ((st = du_open(&d->s, fs, false, &tl, err)) != TL_OK) {
            BAD("reopen after a write: %s: %s", tl_strerror(st), err);
        }
        mdl_vec_copy(&m, &d->s.states[j]);
        mdl_insert(&m, 777, 0x5eedull);
        du_dump(tl, &got);
        if (!du_same(&got, &m)) BAD("reopen after a write: %zu records, want %zu", got.n, m.n);
    }
out:
    tl_close(tl);
    if (line == 0 && tl_simfs_open_fds(fs) != 0) {
        snprintf(msg, DU_MSG_CAP, "descriptors left after close");
        line = __LINE__;
    }
    mdl_vec_free(&m);
    mdl_vec_free(&got);
    return line;
}

static int one_case(dir_t *d, uint64_t seed, tally_t *t, char *what) {
    uint64_t rng = seed;
    int type = (int)(seed % F_TYPES);
    int pick = (int)mdl_below(&rng, (uint64_t)d->ntype[type]);
    const dfile_t *f = NULL;
    for (int i = 0; i < d->nfiles && f == NULL; i++) {
        if (d->files[i].type == type && pick-- == 0) f = &d->files[i];
    }
    /* 3 in 4 a flipped byte, else a cut, or (1 in 8 of those) bytes appended */
    int kind = mdl_one_in(&rng, 4) ? (mdl_one_in(&rng, 8) ? 2 : 1) : 0;
    size_t off = (size_t)mdl_below(&rng, f->len), len = f->len;
    uint8_t *bytes = malloc(f->len + 64);
    memcpy(bytes, f->data, f->len);
    if (kind == 0) bytes[off] ^= (uint8_t)(1 + mdl_below(&rng, 255));
    if (kind == 1) len = off;
    if (kind == 2) {
        off = f->len;
        len = f->len + 1 + (size_t)mdl_below(&rng, 64);
        for (size_t i = f->len; i < len; i++) bytes[i] = (uint8_t)mdl_rng_next(&rng);
    }
    tl_simfs_t *fs = tl_simfs_clone(d->fs, seed);
    char path[128], msg[DU_MSG_CAP] = "", err[DU_MSG_CAP];
    snprintf(path, sizeof path, DU_DIR "/%s", f->name);
    tl_simfs_put(fs, path, bytes, len);
    free(bytes);
    static const char *const kind_name[3] = {"byte flipped", "cut", "bytes appended"};
    snprintf(what, 2 * DU_MSG_CAP, "%s %s: %s at offset %zu of %zu", d->s.pr.name, f->name,
             kind_name[kind], off, f->len);
    t->cases++;
    t->by_type[type]++;
    uint32_t want = type == F_WAL ? calls_before(d, f->wal_seg, off) : d->s.nwrites;
    bool usable = seed % 5 == 0;
    int line = 0;
    tl_timelog_t *tl = NULL;
    tl_status_t st = du_open(&d->s, fs, false, &tl, err);
    if (st == TL_OK) {
        t->opened++;
        line = check_open(d, fs, tl, want, usable, msg);
        goto out;
    }
    if (st != TL_ECORRUPT) BAD("strict open: %s: %s", tl_strerror(st), err);
    if (strstr(err, f->name) == NULL) BAD("the message does not name %s: \"%s\"", f->name, err);
    t->refused++;
    /* repair: WAL damage is cut to the prefix before it; other damage is still refused */
    st = du_open(&d->s, fs, true, &tl, err);
    if (type != F_WAL) {
        if (st != TL_ECORRUPT) BAD("repair opened a damaged %s: %s", type_name[type], err);
        if (strstr(err, f->name) == NULL) BAD("repair's message lacks %s: \"%s\"", f->name, err);
        goto out;
    }
    if (st != TL_OK) BAD("repair: %s: %s", tl_strerror(st), err);
    tl_stats_t stats;
    if ((st = tl_stats(tl, &stats)) != TL_OK || stats.recovery_cut_bytes == 0) {
        tl_close(tl);
        BAD("repair cut nothing (stats %s)", tl_strerror(st));
    }
    t->repaired++;
    line = check_open(d, fs, tl, want, usable, msg);
out:
    tl_simfs_free(fs);
    if (line != 0) {
        size_t n = strlen(what);
        snprintf(what + n, 2 * DU_MSG_CAP - n, ": line %d: %.500s", line, msg);
    }
    return line;
}

/* ---- the tests --------------------------------------------------------------------------- */

static tally_t g_tally;

static void run_cases(uint32_t value_kind, uint64_t n) {
    dir_t *d = malloc(sizeof *d);
    CHECK(d != NULL);
    if (!dir_build(d, value_kind)) {
        dir_free(d);
        free(d);
        TL_FAIL_("%s", "the directory lacks a file type or a WAL tail");
    }
    if (getenv("TL_TEST_VERBOSE")) {
        printf("  %s: %d files (%d segment files, %d WAL segments), %u of %u calls "
               "checkpointed\n", d->s.pr.name, d->nfiles, d->ntype[F_SEG], d->ntype[F_WAL],
               d->ckpt_calls, d->s.nwrites);
    }
    char what[2 * DU_MSG_CAP];
    int line = 0;
    for (uint64_t i = 0; i < n && line == 0; i++) {
        line = one_case(d, i * 7919 + value_kind, &g_tally, what);
    }
    dir_free(d);
    free(d);
    if (line != 0) TL_FAIL_("%s", what);
}

static uint64_t cases(void) {
    const char *e = getenv("TL_CRASH_SCALE");
    int k = e ? atoi(e) : 1;
    return 2500u * (uint64_t)(k > 0 ? k : 1);
}

TL_TEST(damage_u64) { run_cases(TL_VALUES_HANDLE, cases()); }
TL_TEST(damage_f64) { run_cases(TL_VALUES_F64, cases()); }
/* Byte values: value chunks in segment files, VALUES records in the WAL (half the cases:
 * every value is read back and compared, which costs more per case). */
TL_TEST(damage_bytes) { run_cases(TL_VALUES_BYTES, cases() / 2); }

int main(void) {
    time_t t0 = time(NULL);
#if defined(PR_SET_THP_DISABLE)
    (void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0); /* see durable_crash_test.c */
#endif
    RUN(damage_u64);
    RUN(damage_f64);
    RUN(damage_bytes);
    printf("# durable_corrupt: %" PRIu64 " corruption cases (%" PRIu64 " in the manifest, %"
           PRIu64 " in segment files, %" PRIu64 " in WAL segments): %" PRIu64 " refused, %"
           PRIu64 " repaired, %" PRIu64 " opened whole or as a torn tail (%ld s)\n",
           g_tally.cases, g_tally.by_type[F_MANIFEST], g_tally.by_type[F_SEG],
           g_tally.by_type[F_WAL], g_tally.refused, g_tally.repaired, g_tally.opened,
           (long)(time(NULL) - t0));
    return tl_test_done("durable_corrupt_test");
}
