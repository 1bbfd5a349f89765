/*
 * wal_test.c — the WAL (c/src/disk/wal*.c): format, writer, reader, torn tails vs corruption,
 * repair, truncation, backpressure, concurrency, on simfs and on the real file system.
 * Crash and fault injection at every I/O call live in wal_crash_test.c.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/crc32c.h"
#include "disk/le.h"
#include "disk_util.h"
#include "test.h"

#define LMAX 600

static tl_wal_opts_t small_opts(void) {
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.segment_bytes = 4096;
    o.buffer_bytes = 2048;
    return o;
}

/* Opens the WAL, appends seqs [from, to) syncing every `every` records, closes. */
static tl_status_t fill(const tl_io_t *io, const char *dir, const tl_wal_opts_t *o,
                        uint64_t from, uint64_t to, uint64_t every) {
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    tl_status_t st = tl_wal_open(io, dir, o, NULL, NULL, &w, &rep, &e);
    for (uint64_t s = from; st == TL_OK && s < to; s++) {
        st = du_append(w, s, LMAX, &e);
        if (st == TL_OK && every && s % every == 0) st = tl_wal_sync(w, NULL, &e);
    }
    tl_status_t cst = tl_wal_close(w, &e);
    return st != TL_OK ? st : cst;
}

/* ---------------------------------------------------------------------------------------------
 * Format on memory
 * ------------------------------------------------------------------------------------------- */

TL_TEST(names_headers_frames) {
    char name[TL_WAL_NAME_CAP];
    uint64_t n = 0;
    tl_wal_name(name, 0x2a);
    CHECK(strcmp(name, "wal-000000000000002a.log") == 0);
    CHECK(tl_wal_parse_name(name, &n) && n == 0x2a);
    tl_wal_name(name, UINT64_MAX);
    CHECK(tl_wal_parse_name(name, &n) && n == UINT64_MAX);
    const char *bad[] = {"wal-000000000000002A.log", "wal-00000000000002a.log", "LOCK",
                         "wal-000000000000002a.log.tmp", "wal-00000000000000g1.log", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!tl_wal_parse_name(bad[i], &n));
    uint8_t hdr[TL_WAL_HEADER_BYTES];
    tl_wal_hdr_t h = {.segment = 7, .first_seq = 99, .segment_bytes = 8192}, g;
    tl_wal_hdr_encode(hdr, &h);
    CHECK(memcmp(hdr, "TLWALSEG", 8) == 0);
    CHECK(tl_wal_hdr_decode(hdr, sizeof hdr, &g) == NULL);
    CHECK(g.segment == 7 && g.first_seq == 99 && g.segment_bytes == 8192);
    CHECK(tl_wal_hdr_decode(hdr, 63, &g) != NULL);
    for (size_t i = 0; i < sizeof hdr; i++) { /* every byte of the header is checked */
        hdr[i] ^= 0x10;
        CHECK(tl_wal_hdr_decode(hdr, sizeof hdr, &g) != NULL);
        hdr[i] ^= 0x10;
    }
    uint8_t fr[64];
    tl_wal_rec_t r;
    CHECK_EQ_U64(tl_wal_frame_size(13), 40);
    CHECK_EQ_U64(tl_wal_frame_size(0), 24);
    tl_wal_frame_encode(fr, 5, 3, 9, "hello, world!", 13);
    CHECK(tl_wal_frame_check(fr, 40, &r) == NULL);
    CHECK(r.seq == 5 && r.type == 3 && r.flags == 9 && r.len == 13);
    CHECK(memcmp(r.payload, "hello, world!", 13) == 0);
    CHECK(tl_wal_frame_check(fr, 39, &r) != NULL); /* cut short */
    for (size_t i = 0; i < 40; i++) { /* every byte, padding included, is covered */
        fr[i] ^= 0x01;
        CHECK(tl_wal_frame_check(fr, 40, &r) != NULL);
        fr[i] ^= 0x01;
    }
    memset(fr, 0, sizeof fr);
    CHECK(tl_wal_frame_check(fr, sizeof fr, &r) != NULL); /* zeros are never a frame */
}

/* A segment image of n records with seqs 10, 11, ...; offs[i] = where record i starts. */
static size_t build_image(uint8_t *img, size_t cap, int n, uint64_t *offs) {
    tl_wal_hdr_t h = {.segment = 1, .first_seq = 10, .segment_bytes = cap};
    tl_wal_hdr_encode(img, &h);
    size_t off = TL_WAL_HEADER_BYTES;
    uint8_t p[LMAX];
    for (int i = 0; i < n; i++) {
        uint32_t len = du_payload(10 + (uint64_t)i, p, 100);
        offs[i] = off;
        tl_wal_frame_encode(img + off, 10 + (uint64_t)i, du_type(10 + (uint64_t)i),
                            (uint8_t)(10 + i), p, len);
        off += tl_wal_frame_size(len);
    }
    offs[n] = off;
    return off;
}

TL_TEST(segment_scan_tells_torn_from_corrupt) {
    enum { N = 12, CAP = 8192 };
    static uint8_t img[CAP];
    uint64_t offs[N + 1];
    size_t len = build_image(img, CAP, N, offs);
    tl_wal_hdr_t h;
    CHECK(tl_wal_hdr_decode(img, len, &h) == NULL);
    tl_wal_seg_t s;
    du_col_t col = {.lmax = 100};
    CHECK_OK(tl_wal_seg_scan(img, len, &h, 0, du_collect, &col, &s));
    CHECK(s.end_kind == TL_WAL_END_CLEAN && s.records == N && s.end == len && col.bad == 0);
    CHECK(s.first_seq == 10 && s.last_seq == 10 + N - 1);
    /* Cut at every offset: torn, ending at the last whole frame. */
    for (size_t cut = TL_WAL_HEADER_BYTES; cut < len; cut++) {
        CHECK_OK(tl_wal_seg_scan(img, cut, &h, 0, NULL, NULL, &s));
        int k = 0;
        while (offs[k + 1] <= cut) k++;
        if (s.end != offs[k] || s.records != (uint64_t)k) TL_FAIL_("cut %zu: end %llu", cut,
                                                                    (unsigned long long)s.end);
        CHECK(s.end_kind == (cut == offs[k] ? TL_WAL_END_CLEAN : TL_WAL_END_TORN));
    }
    /* A flip in record i: corrupt when records follow, torn in the last one. */
    for (int i = 0; i < N; i++) {
        for (uint64_t b = offs[i]; b < offs[i + 1]; b += 5) {
            img[b] ^= 0x40;
            CHECK_OK(tl_wal_seg_scan(img, len, &h, 0, NULL, NULL, &s));
            img[b] ^= 0x40;
            CHECK_EQ_U64(s.end, offs[i]);
            CHECK_EQ_I64(s.end_kind, i == N - 1 ? TL_WAL_END_TORN : TL_WAL_END_CORRUPT);
            if (i < N - 1) CHECK_EQ_U64(s.later_records, (uint64_t)(N - 1 - i));
        }
    }
    /* Zeros or garbage after the last record: torn. */
    memset(img + len, 0, 300);
    CHECK_OK(tl_wal_seg_scan(img, len + 300, &h, 0, NULL, NULL, &s));
    CHECK(s.end_kind == TL_WAL_END_TORN && s.end == len && s.records == N);
    tl_t_rng = 4;
    for (size_t i = 0; i < 300; i++) img[len + i] = (uint8_t)tl_t_rnd();
    CHECK_OK(tl_wal_seg_scan(img, len + 300, &h, 0, NULL, NULL, &s));
    CHECK(s.end_kind == TL_WAL_END_TORN && s.end == len);
    /* A well-formed frame whose seq does not increase: corrupt, whatever follows. */
    uint8_t p[8] = {0};
    tl_wal_frame_encode(img + len, 12, 1, 0, p, 8);
    CHECK_OK(tl_wal_seg_scan(img, len + 32, &h, 0, NULL, NULL, &s));
    CHECK(s.end_kind == TL_WAL_END_CORRUPT && s.end == len && s.later_records == 1);
    CHECK(strstr(s.why, "does not increase") != NULL);
    /* deliver_from: records below are checked, not delivered. */
    du_col_reset(&col);
    CHECK_OK(tl_wal_seg_scan(img, len, &h, 15, du_collect, &col, &s));
    CHECK_EQ_U64(col.n, N - 5);
    CHECK_EQ_U64(s.records, N);
    du_col_free(&col);
}

/* ---------------------------------------------------------------------------------------------
 * Writer and reader
 * ------------------------------------------------------------------------------------------- */

/* Round trip with many rolls, reopen and continue; returns 0 or the failing line. */
static int roundtrip(const tl_io_t *io, const char *dir) {
    tl_wal_opts_t o = small_opts();
    if (fill(io, dir, &o, 1, 300, 7) != TL_OK) return __LINE__;
    du_col_t col = {.lmax = LMAX};
    tl_wal_report_t rep;
    tl_io_err_t e;
    if (tl_wal_scan(io, dir, &o, du_collect, &col, &rep, &e) != TL_OK) return __LINE__;
    if (col.n != 299 || col.bad || rep.records != 299 || rep.segments < 10) return __LINE__;
    if (rep.first_seq != 1 || rep.last_seq != 299 || rep.torn || rep.repaired) return __LINE__;
    if (rep.damage.status != TL_OK || rep.cut_bytes != 0) return __LINE__;
    /* Reopen, continue, with other options (bigger segments) for the new segments. */
    o.segment_bytes = 16384;
    if (fill(io, dir, &o, 300, 400, 0) != TL_OK) return __LINE__;
    du_col_reset(&col);
    o.replay_from_seq = 250;
    if (tl_wal_scan(io, dir, &o, du_collect, &col, &rep, &e) != TL_OK) return __LINE__;
    if (col.n != 150 || col.bad || col.seqs[0] != 250 || rep.records != 399) return __LINE__;
    /* A seq that does not exceed the recovered ones is refused. */
    tl_wal_t *w;
    if (tl_wal_open(io, dir, &o, NULL, NULL, &w, &rep, &e) != TL_OK) return __LINE__;
    if (tl_wal_append(w, 399, 1, 0, NULL, 0, &e) != TL_EINVAL) return __LINE__;
    if (tl_wal_append(w, 400, 1, 0, NULL, 0, &e) != TL_OK) return __LINE__;
    tl_wal_stats_t st;
    tl_wal_stats(w, &st);
    if (st.appended_seq != 400 || st.synced_seq != 399 || st.failed != TL_OK) return __LINE__;
    uint64_t synced = 0;
    if (tl_wal_sync(w, &synced, &e) != TL_OK || synced != 400) return __LINE__;
    if (tl_wal_close(w, &e) != TL_OK) return __LINE__;
    du_col_free(&col);
    return 0;
}

TL_TEST(roundtrip_on_simfs) {
    tl_simfs_t *fs = tl_simfs_new(21);
    tl_simfs_mkdir_durable(fs, "/db");
    int line = roundtrip(tl_simfs_io(fs), "/db");
    int fds = tl_simfs_open_fds(fs);
    tl_simfs_free(fs);
    CHECK_EQ_I64(line, 0);
    CHECK_EQ_I64(fds, 0);
}

static char g_tmp[512];

static const char *make_tmp(void) {
    const char *base = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/tl_wal_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(g_tmp);
}

static int rm_cb(void *arg, const char *name) {
    char p[TL_IO_PATH_CAP];
    tl_io_join(p, arg, name, NULL);
    (void)unlink(p);
    return 0;
}

static void rm_dir(const char *dir) {
    (void)tl_io_default()->list_dir(NULL, dir, rm_cb, (void *)dir);
    (void)rmdir(dir);
}

TL_TEST(roundtrip_on_the_real_file_system) {
    const char *dir = make_tmp();
    CHECK(dir != NULL);
    int line = roundtrip(tl_io_default(), dir);
    /* Corruption on a real file: flip a byte in the middle of the first segment. */
    char p[TL_IO_PATH_CAP];
    du_seg(p, dir, 1);
    FILE *f = fopen(p, "r+b");
    int c = -1;
    if (f != NULL && fseek(f, 200, SEEK_SET) == 0) c = fgetc(f);
    if (c >= 0 && fseek(f, 200, SEEK_SET) == 0) fputc(c ^ 0x20, f);
    if (f != NULL) fclose(f);
    tl_wal_opts_t o = small_opts();
    tl_wal_report_t rep;
    tl_io_err_t e;
    tl_status_t st = tl_wal_scan(tl_io_default(), dir, &o, NULL, NULL, &rep, &e);
    rm_dir(dir);
    CHECK_EQ_I64(line, 0);
    CHECK_ST(st, TL_ECORRUPT);
    CHECK(strstr(e.path, "wal-0000000000000001.log") != NULL && e.offset <= 200);
}

TL_TEST(backpressure_and_bad_arguments) {
    tl_simfs_t *fs = tl_simfs_new(22);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e));
    uint32_t max = tl_wal_max_payload(w);
    CHECK_EQ_U64(max, 2048 - 2 * TL_WAL_FRAME_BYTES);
    uint8_t big[4096] = {0};
    CHECK_ST(tl_wal_append(w, 1, 1, 0, big, max + 1, &e), TL_EINVAL);
    CHECK_ST(tl_wal_append(w, 0, 1, 0, big, 1, &e), TL_EINVAL);
    CHECK_ST(tl_wal_append(w, 1, 0, 0, big, 1, &e), TL_EINVAL);
    CHECK_ST(tl_wal_append(w, 1, TL_WAL_TYPE_SEAL, 0, big, 1, &e), TL_EINVAL);
    CHECK_ST(tl_wal_append(w, 1, 1, 0, NULL, 1, &e), TL_EINVAL);
    /* Fill the buffer: EBUSY appends nothing; after a write the same record goes in. */
    uint64_t seq = 1;
    tl_status_t st;
    while ((st = tl_wal_append(w, seq, 1, 0, big, 100, &e)) == TL_OK) seq++;
    CHECK_ST(st, TL_EBUSY);
    tl_wal_stats_t s;
    tl_wal_stats(w, &s);
    CHECK(s.buffered_bytes <= s.buffer_bytes && s.appended_seq == seq - 1);
    /* Every buffer full: each one's unused tail is smaller than the frame. */
    CHECK(s.buffers == 2 && s.buffered_bytes + 2 * tl_wal_frame_size(100) > s.buffer_bytes);
    CHECK_OK(tl_wal_write(w, &e));
    CHECK_OK(tl_wal_append(w, seq, 1, 0, big, max, &e));
    CHECK_OK(tl_wal_close(w, &e));
    CHECK_OK(tl_wal_scan(tl_simfs_io(fs), "/db", &o, NULL, NULL, &rep, &e));
    CHECK_EQ_U64(rep.records, seq);
    /* Options out of range. */
    o.segment_bytes = 1000;
    CHECK_ST(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e), TL_EINVAL);
    CHECK(w == NULL);
    o = small_opts();
    o.buffer_bytes = 100;
    CHECK_ST(tl_wal_scan(tl_simfs_io(fs), "/db", &o, NULL, NULL, &rep, &e), TL_EINVAL);
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

TL_TEST(second_writer_is_locked_out) {
    tl_simfs_t *fs = tl_simfs_new(23);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    tl_wal_t *w, *w2;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e));
    CHECK_ST(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w2, &rep, &e), TL_ELOCKED);
    CHECK(w2 == NULL);
    CHECK_OK(tl_wal_close(w, &e));
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w2, &rep, &e));
    CHECK_OK(tl_wal_close(w2, &e));
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

TL_TEST(truncate_removes_old_segments_only) {
    tl_simfs_t *fs = tl_simfs_new(24);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e));
    for (uint64_t s = 1; s < 200; s++) CHECK_OK(du_append(w, s, LMAX, &e));
    CHECK_OK(tl_wal_sync(w, NULL, &e));
    tl_wal_stats_t st;
    tl_wal_stats(w, &st);
    uint64_t before = st.segments, removed = 0;
    CHECK(before > 5);
    CHECK_OK(tl_wal_truncate(w, 1, &removed, &e));
    CHECK_EQ_U64(removed, 0);
    CHECK_OK(tl_wal_truncate(w, 100, &removed, &e));
    CHECK(removed > 0 && removed < before);
    CHECK_OK(tl_wal_close(w, &e));
    du_col_t col = {.lmax = LMAX};
    CHECK_OK(tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e));
    CHECK(rep.first_seq <= 100 && rep.first_seq > 1 && rep.last_seq == 199 && col.bad == 0);
    CHECK_EQ_U64(rep.segments, before - removed);
    /* Truncating everything keeps the current segment. */
    CHECK_OK(tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e));
    CHECK_OK(tl_wal_truncate(w, UINT64_MAX, &removed, &e));
    tl_wal_stats(w, &st);
    CHECK_EQ_U64(st.segments, 1);
    CHECK_OK(tl_wal_close(w, &e));
    CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
    CHECK(rep.segments == 1 && rep.last_seq == 199 && rep.records > 0);
    du_col_free(&col);
    tl_simfs_free(fs);
}

/* ---------------------------------------------------------------------------------------------
 * Torn tails, corruption, repair
 * ------------------------------------------------------------------------------------------- */

TL_TEST(torn_tail_is_cut_and_writing_resumes) {
    tl_simfs_t *fs = tl_simfs_new(25);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    CHECK_OK(fill(io, "/db", &o, 1, 40, 0));
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
    char p[TL_IO_PATH_CAP];
    du_seg(p, "/db", rep.end_segment);
    size_t size = du_size(fs, p);
    du_cut(fs, p, size - 5); /* the last record loses its last bytes */
    tl_wal_t *w;
    du_col_t col = {.lmax = LMAX};
    CHECK_OK(tl_wal_open(io, "/db", &o, du_collect, &col, &w, &rep, &e));
    CHECK(rep.torn && !rep.repaired && rep.records == 38 && rep.last_seq == 38);
    CHECK(rep.damage.status == TL_ECORRUPT && strstr(rep.damage.path, p) != NULL);
    CHECK_EQ_U64(rep.cut_records, 0);
    CHECK_EQ_U64(du_size(fs, p), rep.end_offset); /* truncated on disk */
    CHECK_OK(du_append(w, 39, LMAX, &e));
    CHECK_OK(tl_wal_close(w, &e));
    du_col_reset(&col);
    CHECK_OK(tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e));
    CHECK(!rep.torn && rep.records == 39 && col.n == 39 && col.bad == 0);
    du_col_free(&col);
    tl_simfs_free(fs);
}

TL_TEST(corruption_fails_strict_and_repair_keeps_a_prefix) {
    tl_simfs_t *fs = tl_simfs_new(26);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    CHECK_OK(fill(io, "/db", &o, 1, 200, 10));
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
    uint64_t nseg = rep.segments;
    char p[TL_IO_PATH_CAP], msg[TL_IO_PATH_CAP + 128];
    du_flip(fs, du_seg(p, "/db", 3), 300, 0x08);
    CHECK_ST(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e), TL_ECORRUPT);
    tl_io_err_format(&e, msg, sizeof msg);
    CHECK(strstr(msg, "wal-0000000000000003.log: corrupt at offset") != NULL);
    CHECK(e.offset <= 300 && e.offset >= TL_WAL_HEADER_BYTES);
    tl_wal_t *w;
    CHECK_ST(tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e), TL_ECORRUPT);
    o.repair = true;
    du_col_t col = {.lmax = LMAX};
    CHECK_OK(tl_wal_open(io, "/db", &o, du_collect, &col, &w, &rep, &e));
    CHECK(rep.repaired && rep.cut_segments == nseg - 3 && rep.cut_records > 0);
    CHECK(rep.damage.offset == e.offset || rep.damage.offset <= 300);
    CHECK(col.bad == 0 && col.n == rep.records && rep.last_seq == col.seqs[col.n - 1]);
    CHECK(rep.records + rep.cut_records <= 199);
    uint64_t next = rep.last_seq + 1;
    CHECK_OK(du_append(w, next, LMAX, &e));
    CHECK_OK(tl_wal_close(w, &e));
    o.repair = false;
    CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
    CHECK(!rep.torn && rep.last_seq == next && rep.segments == 3);
    du_col_free(&col);
    tl_simfs_free(fs);
}

/* Damage to the directory's structure: a missing middle segment, a bad middle header, a
 * middle segment that lost its seal, a torn segment creation, a middle segment grown past the
 * size its header declares (repair keeps its records: they are the longest prefix). */
TL_TEST(structural_damage) {
    tl_wal_opts_t o = small_opts();
    tl_wal_report_t rep;
    tl_io_err_t e;
    char p[TL_IO_PATH_CAP];
    for (int kind = 0; kind < 5; kind++) {
        tl_simfs_t *fs = tl_simfs_new(27);
        const tl_io_t *io = tl_simfs_io(fs);
        tl_simfs_mkdir_durable(fs, "/db");
        CHECK_OK(fill(io, "/db", &o, 1, 100, 0));
        CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
        uint64_t last = rep.end_segment;
        const char *want = NULL;
        if (kind == 0) {
            CHECK_OK(tl_io_unlink(io, du_seg(p, "/db", 2), &e));
            want = "missing";
        } else if (kind == 1) {
            du_flip(fs, du_seg(p, "/db", 2), 30, 0x01);
            want = "header checksum";
        } else if (kind == 2) {
            du_seg(p, "/db", 2);
            du_cut(fs, p, du_size(fs, p) - TL_WAL_FRAME_BYTES); /* drop the seal */
            want = "without its seal";
        } else if (kind == 3) { /* the last segment's creation interrupted: its header torn */
            du_cut(fs, du_seg(p, "/db", last), 40);
        } else {
            du_grow(fs, du_seg(p, "/db", 2), (size_t)o.segment_bytes + 24, 0x5a);
            want = "larger than its segment size";
        }
        tl_status_t st = tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e);
        if (kind == 3) {
            CHECK_OK(st);
            CHECK(rep.torn && rep.cut_segments == 1 && rep.cut_bytes == 40);
            CHECK(strstr(rep.damage.path, "wal-") != NULL);
        } else {
            CHECK_ST(st, TL_ECORRUPT);
            if (strstr(e.what, want) == NULL) TL_FAIL_("kind %d: %s", kind, e.what);
            o.repair = true;
            CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
            o.repair = false;
            CHECK(rep.repaired && rep.segments <= 2 && rep.cut_segments >= last - 2);
            if (kind == 4) { /* segment 2's frames are kept, up to its seal */
                CHECK(rep.segments == 2 && rep.cut_segments == last - 2);
            }
        }
        tl_wal_t *w;
        o.repair = true;
        CHECK_OK(tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e));
        uint64_t next = rep.last_seq + 1;
        CHECK_OK(du_append(w, next, LMAX, &e));
        CHECK_OK(tl_wal_close(w, &e));
        o.repair = false;
        CHECK_OK(tl_wal_scan(io, "/db", &o, NULL, NULL, &rep, &e));
        CHECK(!rep.torn && !rep.repaired && rep.last_seq == next);
        tl_simfs_free(fs);
    }
}

static tl_status_t last_offset(void *ctx, const tl_wal_rec_t *r) {
    *(uint64_t *)ctx = r->offset;
    return TL_OK;
}

/* Every byte of a three-segment WAL flipped in turn: strict reading fails with TL_ECORRUPT
 * naming a segment file, except for damage in the very last record, which is a torn tail;
 * repair always succeeds; what is delivered is a prefix of what was written, payloads intact. */
TL_TEST(every_byte_flip_is_detected) {
    tl_simfs_t *fs = tl_simfs_new(28);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    CHECK_OK(fill(io, "/db", &o, 1, 40, 0));
    tl_wal_report_t rep;
    tl_io_err_t e;
    uint64_t last_rec = 0; /* where the last record of the last segment starts */
    CHECK_OK(tl_wal_scan(io, "/db", &o, last_offset, &last_rec, &rep, &e));
    uint64_t nseg = rep.segments, flips = 0, corrupt = 0, torn = 0;
    du_col_t col = {.lmax = LMAX};
    char p[TL_IO_PATH_CAP];
    for (uint64_t sgm = 1; sgm <= nseg; sgm++) {
        size_t size = du_size(fs, du_seg(p, "/db", sgm));
        for (size_t b = 0; b < size; b++) {
            du_flip(fs, p, b, 0x80);
            du_col_reset(&col);
            o.repair = false;
            tl_status_t st = tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e);
            bool in_last = sgm == nseg && b >= last_rec;
            bool named = !in_last && st == TL_ECORRUPT && strstr(e.path, "/db/wal-") != NULL;
            bool cut = in_last && st == TL_OK && rep.torn && rep.records == 38;
            du_col_reset(&col);
            o.repair = true;
            tl_status_t st2 = tl_wal_scan(io, "/db", &o, du_collect, &col, &rep, &e);
            bool prefix = st2 == TL_OK && col.bad == 0 && col.n == rep.records &&
                          (col.n == 0 || col.seqs[col.n - 1] == col.n);
            du_flip(fs, p, b, 0x80);
            if (!(named || cut) || !prefix) {
                TL_FAIL_("segment %" PRIu64 " byte %zu: strict %d, repair %d", sgm, b, st, st2);
            }
            flips++;
            corrupt += named;
            torn += cut;
        }
    }
    printf("  %" PRIu64 " byte flips: %" PRIu64 " corrupt, %" PRIu64 " torn tail\n", flips,
           corrupt, torn);
    CHECK(corrupt > 0 && torn > 0);
    du_col_free(&col);
    tl_simfs_free(fs);
}

TL_TEST(failure_is_sticky_with_its_context) {
    tl_simfs_t *fs = tl_simfs_new(30);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e, e2;
    CHECK_OK(tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e));
    for (uint64_t s = 1; s <= 5; s++) CHECK_OK(du_append(w, s, LMAX, &e));
    CHECK_OK(tl_wal_sync(w, NULL, &e));
    CHECK_OK(du_append(w, 6, LMAX, &e));
    tl_simfs_fail_at(fs, 1, ENOSPC, 1); /* the next call: the pwrite of record 6 */
    CHECK_ST(tl_wal_sync(w, NULL, &e), TL_EIO);
    CHECK(e.sys_errno == ENOSPC && strcmp(e.op, "write") == 0 && strstr(e.path, "wal-"));
    /* The disk has room again, but the writer stays failed, with the first context. */
    CHECK_ST(tl_wal_append(w, 7, 1, 0, NULL, 0, &e2), TL_EIO);
    CHECK(e2.sys_errno == ENOSPC && strcmp(e2.path, e.path) == 0);
    CHECK_ST(tl_wal_write(w, &e2), TL_EIO);
    CHECK_ST(tl_wal_truncate(w, 100, NULL, &e2), TL_EIO);
    tl_wal_stats_t st;
    tl_wal_stats(w, &st);
    CHECK(st.failed == TL_EIO && st.synced_seq == 5);
    CHECK_ST(tl_wal_close(w, &e2), TL_EIO);
    CHECK_OK(tl_wal_open(io, "/db", &o, NULL, NULL, &w, &rep, &e));
    CHECK(rep.last_seq == 5 && !rep.torn); /* the failed write left nothing */
    CHECK_OK(tl_wal_close(w, &e));
    CHECK_EQ_I64(tl_simfs_open_fds(fs), 0);
    tl_simfs_free(fs);
}

/* Every allocation of open, append (rolls), sync, close and scan failed in turn: ENOMEM, and
 * nothing leaks. */
TL_TEST(allocation_failures) {
    int completed = 0;
    for (long k = 1; !completed && k < 200; k++) {
        tl_simfs_t *fs = tl_simfs_new(31);
        tl_simfs_mkdir_durable(fs, "/db");
        fail_alloc_t fa = {.fail_at = k};
        tl_allocator_t a = {.ctx = &fa, .alloc = fa_alloc, .free = fa_free};
        tl_wal_opts_t o = small_opts();
        o.alloc = &a;
        tl_wal_t *w = NULL;
        tl_wal_report_t rep;
        tl_io_err_t e;
        tl_status_t st = tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e);
        for (uint64_t s = 1; st == TL_OK && s <= 60; s++) st = du_append(w, s, LMAX, &e);
        tl_status_t cst = w != NULL ? tl_wal_close(w, &e) : TL_OK;
        if (st == TL_OK) st = cst;
        du_col_t col = {.lmax = LMAX};
        if (st == TL_OK) st = tl_wal_scan(tl_simfs_io(fs), "/db", &o, du_collect, &col, &rep, &e);
        completed = st == TL_OK && col.n == 60 && col.bad == 0;
        du_col_free(&col);
        tl_simfs_free(fs);
        if ((st != TL_OK && st != TL_ENOMEM) || fa.live_blocks != 0 || fa.live_bytes != 0) {
            TL_FAIL_("allocation %ld failed: status %d, %ld blocks live", k, st, fa.live_blocks);
        }
    }
    CHECK(completed);
}

/* With unit_flag, a sync reports the last durable frame that ENDS a unit: a unit still
 * being appended (its first frames written, even across a segment roll) is not reported. */
TL_TEST(syncs_report_whole_units_only) {
    enum { END = 0x80 };
    tl_simfs_t *fs = tl_simfs_new(30);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    o.unit_flag = END;
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e));
    uint8_t buf[600] = {0};
    uint64_t synced = 99;
    CHECK_OK(tl_wal_append(w, 1, 1, END, buf, 10, &e));
    CHECK_OK(tl_wal_sync(w, &synced, &e));
    CHECK_EQ_U64(synced, 1);
    /* A unit of 20 frames of 600 bytes spans several 4 KiB segments: every sync in it
     * reports 1, though the frames it wrote are durable. */
    for (uint64_t s = 2; s < 21; s++) {
        tl_status_t st = tl_wal_append(w, s, 1, 0, buf, sizeof buf, &e);
        if (st == TL_EBUSY) {
            CHECK_OK(tl_wal_sync(w, &synced, &e));
            CHECK_EQ_U64(synced, 1);
            st = tl_wal_append(w, s, 1, 0, buf, sizeof buf, &e);
        }
        CHECK_OK(st);
    }
    CHECK_OK(tl_wal_sync(w, &synced, &e));
    CHECK_EQ_U64(synced, 1);
    tl_wal_stats_t ws;
    tl_wal_stats(w, &ws);
    CHECK(ws.synced_seq == 20 && ws.rolls >= 3); /* the frames themselves are durable */
    CHECK_OK(tl_wal_append(w, 21, 1, END, buf, 10, &e));
    CHECK_OK(tl_wal_sync(w, &synced, &e));
    CHECK_EQ_U64(synced, 21);
    /* Without unit_flag every frame is a unit. */
    CHECK_OK(tl_wal_close(w, &e));
    o.unit_flag = 0;
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e));
    CHECK_OK(tl_wal_append(w, 22, 1, 0, buf, 10, &e));
    CHECK_OK(tl_wal_sync(w, &synced, &e));
    CHECK_EQ_U64(synced, 22);
    CHECK_OK(tl_wal_close(w, &e));
    tl_simfs_free(fs);
}

/* ---------------------------------------------------------------------------------------------
 * Concurrency: an appender and a syncer
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    tl_wal_t *w;
    uint64_t n;
    _Atomic int done;
    tl_status_t st;
    uint64_t busy;
} conc_t;

static void *appender(void *arg) {
    conc_t *c = arg;
    static uint8_t buf[LMAX];
    for (uint64_t s = 1; s <= c->n && c->st == TL_OK; s++) {
        uint32_t len = du_payload(s, buf, LMAX);
        tl_status_t st;
        while ((st = tl_wal_append(c->w, s, du_type(s), (uint8_t)s, buf, len, NULL)) ==
               TL_EBUSY) {
            c->busy++; /* backpressure: the syncer drains the buffer */
            sched_yield();
        }
        c->st = st;
    }
    c->done = 1;
    return NULL;
}

TL_TEST(appends_and_syncs_on_two_threads) {
    tl_simfs_t *fs = tl_simfs_new(29);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_wal_opts_t o = small_opts();
    o.unit_flag = 0x80; /* the appender's flags are (uint8_t)seq: units end at 128..255 */
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/db", &o, NULL, NULL, &w, &rep, &e));
    conc_t c = {.w = w, .n = 3000, .st = TL_OK};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, appender, &c) == 0);
    uint64_t synced = 0, prev = 0, syncs = 0;
    tl_status_t st = TL_OK;
    while (st == TL_OK && !c.done) {
        st = tl_wal_sync(w, &synced, &e);
        if (synced < prev) st = TL_EINTERNAL; /* the synced seq never goes back */
        if (synced != 0 && (synced & 0x80) == 0) st = TL_EINTERNAL; /* mid-unit */
        syncs += synced > prev;
        prev = synced;
        sched_yield();
    }
    pthread_join(t, NULL);
    CHECK_OK(st);
    CHECK_OK(c.st);
    CHECK_OK(tl_wal_close(w, &e));
    du_col_t col = {.lmax = LMAX};
    CHECK_OK(tl_wal_scan(tl_simfs_io(fs), "/db", &o, du_collect, &col, &rep, &e));
    CHECK(col.n == 3000 && col.bad == 0 && rep.last_seq == 3000);
    printf("  %" PRIu64 " group syncs, %" PRIu64 " EBUSY retries, %" PRIu64 " segments\n", syncs,
           c.busy, rep.segments);
    du_col_free(&col);
    tl_simfs_free(fs);
}

/* ---------------------------------------------------------------------------------------------
 * A sync's fdatasync runs outside the writer's lock
 * ------------------------------------------------------------------------------------------- */

/* A gate in front of simfs's datasync: while armed, a datasync waits inside until released. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool armed, inside, open;
    int (*datasync)(void *ctx, int fd);
} g_gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, false, NULL};

static int gated_datasync(void *ctx, int fd) {
    pthread_mutex_lock(&g_gate.mu);
    if (g_gate.armed) {
        g_gate.armed = false;
        g_gate.inside = true;
        pthread_cond_broadcast(&g_gate.cv);
        while (!g_gate.open) pthread_cond_wait(&g_gate.cv, &g_gate.mu);
        g_gate.inside = false;
    }
    pthread_mutex_unlock(&g_gate.mu);
    return g_gate.datasync(ctx, fd);
}

typedef struct {
    tl_wal_t *w;
    uint64_t from, to, synced;
    tl_status_t st;
    _Atomic bool done;
} gate_job_t;

static void *gate_sync(void *arg) {
    gate_job_t *j = arg;
    tl_io_err_t e;
    j->st = tl_wal_sync(j->w, &j->synced, &e);
    j->done = true;
    return NULL;
}

static void *gate_write(void *arg) {
    gate_job_t *j = arg;
    tl_io_err_t e;
    j->st = TL_OK;
    for (uint64_t s = j->from; j->st == TL_OK && s < j->to; s++) j->st = du_append(j->w, s, LMAX, &e);
    if (j->st == TL_OK) j->st = tl_wal_write(j->w, &e);
    j->done = true;
    return NULL;
}

/* While one thread's sync waits in fdatasync, another appends through several full buffers and
 * writes them out (before, the sync held the writer's lock through its fdatasync, so a writer
 * whose buffer filled waited for the disk); the sync then reports only what it covered. */
TL_TEST(writes_go_on_during_a_sync) {
    tl_simfs_t *fs = tl_simfs_new(31);
    tl_simfs_mkdir_durable(fs, "/db");
    tl_io_t io = *tl_simfs_io(fs);
    g_gate.datasync = io.datasync;
    io.datasync = gated_datasync;
    tl_wal_opts_t o = small_opts();
    o.segment_bytes = 1 << 20; /* no roll: a roll closes the file, and waits for the sync */
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(&io, "/db", &o, NULL, NULL, &w, &rep, &e));
    CHECK_OK(du_append(w, 1, LMAX, &e));
    CHECK_OK(tl_wal_sync(w, NULL, &e)); /* creates the segment: its syncs run under io_mu */
    for (uint64_t s = 2; s <= 3; s++) CHECK_OK(du_append(w, s, LMAX, &e));
    pthread_mutex_lock(&g_gate.mu);
    g_gate.armed = true, g_gate.open = false;
    pthread_mutex_unlock(&g_gate.mu);
    gate_job_t sj = {.w = w}, wj = {.w = w, .from = 4, .to = 40};
    pthread_t ts, tw;
    CHECK(pthread_create(&ts, NULL, gate_sync, &sj) == 0);
    pthread_mutex_lock(&g_gate.mu);
    while (!g_gate.inside) pthread_cond_wait(&g_gate.cv, &g_gate.mu);
    pthread_mutex_unlock(&g_gate.mu);
    CHECK(pthread_create(&tw, NULL, gate_write, &wj) == 0);
    for (int i = 0; i < 5000 && !wj.done; i++) usleep(1000); /* up to 5 s */
    bool wrote_meanwhile = wj.done;
    pthread_mutex_lock(&g_gate.mu);
    bool sync_still_inside = g_gate.inside;
    g_gate.open = true;
    pthread_cond_broadcast(&g_gate.cv);
    pthread_mutex_unlock(&g_gate.mu);
    pthread_join(tw, NULL);
    pthread_join(ts, NULL);
    CHECK(wrote_meanwhile && sync_still_inside);
    CHECK_OK(wj.st);
    CHECK_OK(sj.st);
    CHECK_EQ_I64(sj.synced, 3); /* what was written when its fdatasync began, no more */
    uint64_t synced = 0;
    CHECK_OK(tl_wal_sync(w, &synced, &e));
    CHECK_EQ_I64(synced, 39);
    CHECK_OK(tl_wal_close(w, &e));
    du_col_t col = {.lmax = LMAX};
    CHECK_OK(tl_wal_scan(tl_simfs_io(fs), "/db", &o, du_collect, &col, &rep, &e));
    CHECK(col.n == 39 && col.bad == 0 && rep.last_seq == 39);
    du_col_free(&col);
    tl_simfs_free(fs);
}

#if defined(__linux__)
static long thread_faults(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt + ru.ru_majflt;
}

/* Under ASan and TSan every store also writes shadow memory, which faults in on its own
 * schedule (ASan read 513 faults with the prefault and 136 without): page-fault counts say
 * nothing about the buffers there, so the count is checked in plain builds only (the C suite
 * of ./dev test); the sanitizers still check the prefault's memory and thread safety. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SHADOW_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SHADOW_MEMORY 1
#endif
#endif
#ifndef SHADOW_MEMORY
#define SHADOW_MEMORY 0
#endif

/* Whether this kernel populates memory on request (MADV_POPULATE_WRITE, Linux 5.14). */
static bool populate_works(void) {
#if defined(MADV_POPULATE_WRITE)
    long pg = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    bool ok = madvise(p, (size_t)pg, MADV_POPULATE_WRITE) == 0;
    munmap(p, (size_t)pg);
    return ok;
#else
    return false;
#endif
}

/* On the ring's first pass, once the buffer filling is half full the next one is due to be
 * faulted in (stats.prefault_due), once each: buffers 1..7 of 8. Where the kernel populates on
 * request, the appends then fault in fewer pages themselves than appends that nobody ran ahead
 * of, by at least one a buffer (the first store into each fresh 2 MiB buffer: one huge page,
 * or 512 small ones); compared within the run, as anything else faults in the
 * same either way (not under ASan or TSan: SHADOW_MEMORY). Round 0 warms the code and the frame
 * path; each round's buffers are fresh mappings. */
TL_TEST(prefault_runs_ahead_of_the_appends) {
    tl_simfs_t *fs = tl_simfs_new(23);
    static const char *const dirs[3] = {"/warm", "/ahead", "/plain"};
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.buffer_bytes = 2u << 20;
    o.buffers = 8;
    static uint8_t payload[4096];
    long faults[3] = {0};
    uint32_t prefaults[3] = {0};
    for (int round = 0; round < 3; round++) {
        tl_simfs_mkdir_durable(fs, dirs[round]);
        tl_wal_t *w;
        tl_wal_report_t rep;
        tl_io_err_t e;
        CHECK_OK(tl_wal_open(tl_simfs_io(fs), dirs[round], &o, NULL, NULL, &w, &rep, &e));
        uint64_t seq = 1;
        for (;;) {
            long before = thread_faults();
            tl_status_t st = tl_wal_append(w, seq, 1, 0, payload, sizeof payload, &e);
            faults[round] += thread_faults() - before;
            if (st == TL_EBUSY) break;
            CHECK_OK(st);
            seq++;
            tl_wal_stats_t s;
            tl_wal_stats(w, &s);
            if (s.prefault_due && round != 2) {
                CHECK(tl_wal_prefault(w));
                CHECK(!tl_wal_prefault(w)); /* once */
                prefaults[round]++;
            }
        }
        CHECK(seq > 8 * ((2u << 20) / (sizeof payload + TL_WAL_FRAME_BYTES)) - 8); /* all full */
        tl_wal_close(w, &e);
    }
    CHECK_EQ_U64(prefaults[1], 7);
    if (getenv("TL_TEST_VERBOSE")) {
        printf("  page faults of the appends: %ld run ahead of, %ld not\n", faults[1], faults[2]);
    }
    if (populate_works() && !SHADOW_MEMORY) CHECK(faults[1] + 4 <= faults[2]);
    tl_simfs_free(fs);
}
#endif

/* A sync takes the buffer filling however full it is (a checkpoint's, or the syncer's every
 * interval): the next buffer is due to be faulted in once the one filling holds 64 KiB, so it
 * is ready when a sync moves the appends on to it well before the buffer was half full. */
TL_TEST(prefault_is_due_before_a_sync_takes_the_buffer) {
    tl_simfs_t *fs = tl_simfs_new(29);
    tl_simfs_mkdir_durable(fs, "/early");
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.buffer_bytes = 2u << 20;
    o.buffers = 4;
    tl_wal_t *w;
    tl_wal_report_t rep;
    tl_io_err_t e;
    CHECK_OK(tl_wal_open(tl_simfs_io(fs), "/early", &o, NULL, NULL, &w, &rep, &e));
    static uint8_t payload[4096];
    const size_t frame = sizeof payload + TL_WAL_FRAME_BYTES;
    uint64_t seq = 1;
    for (int buffer = 1; buffer <= 3; buffer++) { /* buffers 1..3 of the first pass */
        size_t bytes = 0;
        tl_wal_stats_t s;
        for (;;) {
            tl_wal_stats(w, &s);
            if (s.prefault_due || bytes > (1u << 20)) break;
            CHECK_OK(tl_wal_append(w, seq++, 1, 0, payload, sizeof payload, &e));
            bytes += frame;
        }
        CHECK(s.prefault_due);
        CHECK(bytes >= (64u << 10) && bytes < (64u << 10) + frame); /* not half of 2 MiB */
        CHECK(tl_wal_prefault(w));
        CHECK_OK(tl_wal_sync(w, NULL, &e)); /* takes the buffer: appends go on in the next */
    }
    tl_wal_stats_t s;
    CHECK_OK(tl_wal_append(w, seq, 1, 0, payload, sizeof payload, &e));
    tl_wal_stats(w, &s);
    CHECK(!s.prefault_due); /* the ring's first pass is over: every buffer was touched */
    CHECK_OK(tl_wal_close(w, &e));
    tl_simfs_free(fs);
}

int main(void) {
    RUN(names_headers_frames);
    RUN(segment_scan_tells_torn_from_corrupt);
    RUN(roundtrip_on_simfs);
    RUN(roundtrip_on_the_real_file_system);
    RUN(backpressure_and_bad_arguments);
    RUN(second_writer_is_locked_out);
    RUN(truncate_removes_old_segments_only);
    RUN(torn_tail_is_cut_and_writing_resumes);
    RUN(corruption_fails_strict_and_repair_keeps_a_prefix);
    RUN(structural_damage);
    RUN(every_byte_flip_is_detected);
    RUN(failure_is_sticky_with_its_context);
    RUN(allocation_failures);
    RUN(syncs_report_whole_units_only);
    RUN(appends_and_syncs_on_two_threads);
    RUN(writes_go_on_during_a_sync);
#if defined(__linux__)
    RUN(prefault_runs_ahead_of_the_appends);
    RUN(prefault_is_due_before_a_sync_takes_the_buffer);
#endif
    return tl_test_done("wal_test");
}
