/*
 * wal_fuzz.c — libFuzzer target: the WAL reader on arbitrary bytes (c/src/disk/wal*.c).
 *
 * What it proves. The first input byte picks a mode:
 *   0 raw      the rest is a segment file: the header decoder and, when it passes, the frame
 *              scanner run on it;
 *   1 headed   a valid header is put in front of the rest, so the scanner sees arbitrary
 *              frames;
 *   2 built    records (seqs, types, lengths, payload bytes from the input) are encoded into a
 *              segment, then one damage from the input: a cut, a flipped byte, or bytes
 *              appended. The verdict must be the one the rules give: a cut is a clean end or a
 *              torn tail at the last whole frame; a flip in record i is CORRUPT at record i
 *              when records follow, TORN when i is the last; zeros appended are TORN;
 *   3 directory the input is split into up to three segment files in a simulated directory:
 *              tl_wal_scan in strict and repair mode, then tl_wal_open with repair, an append,
 *              a sync, a close, and a strict scan that must find a clean log ending with it.
 * For every scan: it never reads outside the image (ASan), never crashes, and classifies
 * consistently: the valid prefix [0, end) rescans as CLEAN with the same records; CLEAN means
 * end == length; TORN means no well-formed frame starts at any 8-aligned offset after end;
 * CORRUPT means the frame at end is well formed (a seq or seal violation) or one after it is;
 * delivered seqs strictly increase and lie in [64, end); two scans give the same verdict.
 */
#include "../simfs.h"
#include "disk/wal.h"
#include "fuzz_common.h"

#define IMG_MAX 8192

static uint8_t g_img[IMG_MAX + 64];

typedef struct {
    uint64_t n, last;
    uint64_t max_end;
} seen_t;

static tl_status_t on_rec(void *ctx, const tl_wal_rec_t *r) {
    seen_t *s = ctx;
    FZ_CHECK(s->n == 0 || r->seq > s->last, "seq %" PRIu64 " after %" PRIu64, r->seq, s->last);
    FZ_CHECK(r->offset >= TL_WAL_HEADER_BYTES && r->offset % 8 == 0, "offset %" PRIu64,
             r->offset);
    s->n++;
    s->last = r->seq;
    s->max_end = r->offset + tl_wal_frame_size(r->len);
    return TL_OK;
}

/* Scans img[0..len) (valid header) and checks the classification rules. */
static tl_wal_seg_t scan_checked(const uint8_t *img, size_t len) {
    tl_wal_hdr_t h;
    FZ_CHECK(tl_wal_hdr_decode(img, len, &h) == NULL, "header");
    seen_t seen = {0};
    tl_wal_seg_t s, again, pre;
    FZ_CHECK(tl_wal_seg_scan(img, len, &h, 0, on_rec, &seen, &s) == TL_OK, "scan status");
    FZ_CHECK(s.end >= TL_WAL_HEADER_BYTES && s.end <= len && s.end % 8 == 0, "end %" PRIu64,
             s.end);
    FZ_CHECK(seen.n == s.records && (s.records == 0 || seen.last == s.last_seq), "records");
    FZ_CHECK(seen.max_end <= s.end, "record past end");
    FZ_CHECK(tl_wal_seg_scan(img, len, &h, 0, NULL, NULL, &again) == TL_OK &&
                 again.end == s.end && again.end_kind == s.end_kind &&
                 again.records == s.records, "not deterministic");
    FZ_CHECK(tl_wal_seg_scan(img, (size_t)s.end, &h, 0, NULL, NULL, &pre) == TL_OK &&
                 pre.end_kind == TL_WAL_END_CLEAN && pre.records == s.records &&
                 pre.last_seq == s.last_seq && pre.sealed == s.sealed, "prefix not clean");
    if (s.end_kind == TL_WAL_END_CLEAN) FZ_CHECK(s.end == len, "clean short of the end");
    tl_wal_rec_t r;
    bool later = false;
    for (uint64_t o = s.end + 8; o + TL_WAL_FRAME_BYTES <= len && !later; o += 8) {
        later = tl_wal_frame_check(img + o, len - (size_t)o, &r) == NULL;
    }
    if (s.end_kind == TL_WAL_END_TORN) FZ_CHECK(!later, "torn, yet a valid frame follows");
    if (s.end_kind == TL_WAL_END_CORRUPT) {
        bool formed = tl_wal_frame_check(img + s.end, len - (size_t)s.end, &r) == NULL;
        FZ_CHECK(formed || later, "corrupt without a valid frame after the damage");
    }
    return s;
}

static size_t put_header(uint8_t *img, uint64_t first_seq) {
    tl_wal_hdr_t h = {.segment = 1, .first_seq = first_seq, .segment_bytes = 1 << 20};
    tl_wal_hdr_encode(img, &h);
    return TL_WAL_HEADER_BYTES;
}

/* The verdict the rules give, or CORRUPT where TORN was expected: a payload may itself hold
 * a well-formed frame, and scan_checked has verified that one follows the damage (the
 * documented limit of telling a torn record from damage followed by valid data). */
static bool expect(int got, int want) {
    return got == want || (want == TL_WAL_END_TORN && got == TL_WAL_END_CORRUPT);
}

/* Mode 2: records from the input, one damage, the expected verdict. */
static void built(fz_in_t *in) {
    uint64_t offs[64], seq = 1 + fz_u8(in);
    size_t len = put_header(g_img, seq), n = 0;
    int want = fz_u8(in) % 48 + 1;
    uint8_t payload[256];
    while ((int)n < want && n < 63) {
        uint32_t plen = fz_u8(in) % 160;
        for (uint32_t i = 0; i < plen; i++) payload[i] = fz_u8(in);
        if (len + tl_wal_frame_size(plen) > IMG_MAX) break;
        offs[n++] = len;
        tl_wal_frame_encode(g_img + len, seq, (uint8_t)(1 + fz_u8(in) % 254), fz_u8(in),
                            payload, plen);
        len += tl_wal_frame_size(plen);
        seq += 1 + fz_u8(in) % 3;
    }
    offs[n] = len;
    uint8_t kind = fz_u8(in) % 3;
    size_t at = TL_WAL_HEADER_BYTES + fz_u16(in) % (len - TL_WAL_HEADER_BYTES + 1);
    if (kind == 0) { /* cut at `at` */
        tl_wal_seg_t s = scan_checked(g_img, at);
        size_t k = 0;
        while (k < n && offs[k + 1] <= at) k++;
        FZ_CHECK(s.end == offs[k] && s.records == k, "cut at %zu: end %" PRIu64, at, s.end);
        FZ_CHECK(expect(s.end_kind, at == offs[k] ? TL_WAL_END_CLEAN : TL_WAL_END_TORN), "cut");
    } else if (kind == 1 && at < len) { /* flip one byte */
        uint8_t mask = (uint8_t)(fz_u8(in) | 1);
        g_img[at] ^= mask;
        tl_wal_seg_t s = scan_checked(g_img, len);
        size_t i = 0;
        while (offs[i + 1] <= at) i++;
        FZ_CHECK(s.end == offs[i] && s.records == i, "flip at %zu: end %" PRIu64, at, s.end);
        FZ_CHECK(expect(s.end_kind, i + 1 == n ? TL_WAL_END_TORN : TL_WAL_END_CORRUPT), "flip");
    } else if (kind == 2) { /* zeros appended: a torn tail (a preallocated or torn write) */
        size_t extra = fz_u8(in) + 1u;
        if (len + extra > IMG_MAX) extra = IMG_MAX - len;
        memset(g_img + len, 0, extra);
        tl_wal_seg_t s = scan_checked(g_img, len + extra);
        FZ_CHECK(s.end == len && s.records == n && s.end_kind == TL_WAL_END_TORN, "zeros");
    }
}

/* Mode 3: up to three segment files in a simulated directory; scan, repair, reopen, use. */
static void directory(fz_in_t *in) {
    tl_simfs_t *fs = tl_simfs_new(7);
    const tl_io_t *io = tl_simfs_io(fs);
    tl_simfs_mkdir_durable(fs, "/w");
    int files = 1 + fz_u8(in) % 3;
    for (int f = 0; f < files; f++) {
        size_t len = fz_u16(in) % 2048;
        size_t off = 0;
        if (fz_u8(in) & 1) off = put_header(g_img, 1 + fz_u8(in)); /* rewrite number below */
        for (size_t i = off; i < len; i++) g_img[i] = fz_u8(in);
        if (off && len >= TL_WAL_HEADER_BYTES) {
            tl_wal_hdr_t h = {.segment = 1 + (uint64_t)f, .first_seq = 1 + (uint64_t)f * 100,
                              .segment_bytes = 1 << 20};
            tl_wal_hdr_encode(g_img, &h);
        }
        char path[64], name[TL_WAL_NAME_CAP];
        tl_wal_name(name, 1 + (uint64_t)f + (fz_u8(in) == 0xff)); /* sometimes a gap */
        snprintf(path, sizeof path, "/w/%s", name);
        tl_simfs_put(fs, path, g_img, len);
    }
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.segment_bytes = 4096;
    o.buffer_bytes = 2048;
    tl_wal_report_t rep, rep2;
    tl_io_err_t e;
    tl_status_t st = tl_wal_scan(io, "/w", &o, NULL, NULL, &rep, &e);
    FZ_CHECK(st == TL_OK || st == TL_ECORRUPT, "strict scan status %d", st);
    FZ_CHECK(st != TL_ECORRUPT || strstr(e.path, "/w/wal-") == e.path, "corrupt: no file");
    o.repair = true;
    FZ_CHECK(tl_wal_scan(io, "/w", &o, NULL, NULL, &rep2, &e) == TL_OK, "repair scan");
    if (st == TL_OK) FZ_CHECK(rep2.records == rep.records && !rep2.repaired, "repair differs");
    tl_wal_t *w;
    FZ_CHECK(tl_wal_open(io, "/w", &o, NULL, NULL, &w, &rep, &e) == TL_OK, "repair open");
    FZ_CHECK(rep.records == rep2.records && rep.last_seq == rep2.last_seq, "open vs scan");
    uint64_t next = rep.last_seq + 1, synced = 0;
    uint8_t p[16] = {1, 2, 3};
    FZ_CHECK(tl_wal_append(w, next, 7, 0, p, sizeof p, &e) == TL_OK, "append");
    FZ_CHECK(tl_wal_sync(w, &synced, &e) == TL_OK && synced == next, "sync");
    FZ_CHECK(tl_wal_close(w, &e) == TL_OK, "close");
    o.repair = false;
    FZ_CHECK(tl_wal_scan(io, "/w", &o, NULL, NULL, &rep, &e) == TL_OK, "rescan %s", e.what);
    FZ_CHECK(!rep.torn && !rep.repaired && rep.last_seq == next, "rescan verdict");
    FZ_CHECK(tl_simfs_open_fds(fs) == 0, "descriptor leak");
    tl_simfs_free(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in_t in = {data, size, 0};
    uint8_t mode = fz_u8(&in) % 4;
    size_t rest = size - in.pos < IMG_MAX - 64 ? size - in.pos : IMG_MAX - 64;
    tl_wal_hdr_t h;
    if (mode == 0) {
        memcpy(g_img, data + in.pos, rest);
        if (tl_wal_hdr_decode(g_img, rest, &h) == NULL) (void)scan_checked(g_img, rest);
    } else if (mode == 1) {
        size_t off = put_header(g_img, 1 + (rest > 0 ? data[in.pos] : 0));
        memcpy(g_img + off, data + in.pos, rest);
        (void)scan_checked(g_img, off + rest);
    } else if (mode == 2) {
        built(&in);
    } else {
        directory(&in);
    }
    return 0;
}
