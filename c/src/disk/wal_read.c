/*
 * wal_read.c — WAL recovery: every record of every segment, in order, and the verdict on the
 * directory (clean, torn tail, corruption), with the repair plan (wal.h, "Recovery").
 *
 * Structure. List the directory, keep the names wal-<hex>.log (other files are not ours and are
 * ignored), sort the numbers. Then per segment, in order: the numbers must be consecutive; the
 * previous segment must end with its seal; the header must decode, name the same number, and
 * declare a size the file respects; its first seq must exceed the previous segment's last;
 * then tl_wal_seg_scan delivers the records and classifies the end (wal_seg.c). A segment is
 * read whole, through mmap when the io offers it, else into one buffer reused (and grown) for
 * every segment, so memory is bounded by the largest segment.
 *
 * Verdicts. The last segment may end torn (cut at its last valid frame), or be no longer than
 * a header and not decode (an interrupted creation: dropped whole). Anything else is
 * corruption: TL_ECORRUPT with the file and offset, or in repair mode the cut point — inside
 * the damaged segment at its last valid frame, or before it when its header or its place in
 * the sequence is wrong — and every later segment dropped; their records are counted (scanned
 * without delivery) so the report says what was lost.
 *
 * Invariants: nothing is written here; the plan (tl_wal_recovery_t) lists kept segments in
 * ascending order with their valid length, and the numbers to drop. Records are delivered only
 * from kept segments, before the cut point.
 * Complexity: O(total bytes) checksum work (plus the bounded search after damage), O(n log n)
 * for the n names, one open/size/read (or map)/close per segment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/wal_int.h"

bool tl_wal_grow(const tl_allocator_t *a, void **v, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need) ncap *= 2;
    void *p = tl_mem_alloc(a, ncap * size);
    if (p == NULL) return false;
    if (*cap) memcpy(p, *v, *cap * size);
    tl_mem_free(a, *v, *cap * size);
    *v = p;
    *cap = ncap;
    return true;
}

tl_status_t tl_wal_opts_check(const tl_wal_opts_t *o, const char *dir, tl_io_err_t *err) {
    const char *why = NULL;
    if (o->segment_bytes < TL_WAL_SEGMENT_MIN || o->segment_bytes > TL_WAL_SEGMENT_MAX ||
        o->segment_bytes % 8 != 0) {
        why = "segment_bytes must be a multiple of 8 in 4 KiB .. 1 GiB";
    } else if (o->buffer_bytes < TL_WAL_BUFFER_MIN || o->buffer_bytes % 8 != 0) {
        why = "buffer_bytes must be a multiple of 8, at least 1 KiB";
    } else if (o->buffers < 2 || o->buffers > TL_WAL_BUFFERS_MAX) {
        why = "buffers must be 2 .. 64";
    }
    return why ? tl_io_err_set(err, TL_EINVAL, "open", dir, why) : TL_OK;
}

void tl_wal_recovery_free(tl_wal_recovery_t *rc) {
    tl_mem_free(rc->alloc, rc->segs, rc->cap * sizeof *rc->segs);
    tl_mem_free(rc->alloc, rc->drop, rc->dcap * sizeof *rc->drop);
    rc->segs = NULL;
    rc->drop = NULL;
    rc->nsegs = rc->cap = rc->ndrop = rc->dcap = 0;
}

typedef struct {
    const tl_io_t *io;
    const char *dir;
    const tl_wal_opts_t *o;
    tl_wal_visit_fn fn;
    void *ctx;
    tl_wal_recovery_t *rc;
    tl_wal_report_t *rep;
    tl_io_err_t *err;
    uint64_t *nums; /* listed segment numbers */
    size_t n, ncap;
    uint8_t *buf; /* read buffer (when not mapping) */
    size_t buf_cap;
    const uint8_t *img; /* the loaded segment */
    size_t img_len;
    bool mapped;
    char path[TL_IO_PATH_CAP];
} rd_t;

static int list_cb(void *arg, const char *name) {
    rd_t *rd = arg;
    uint64_t num;
    if (!tl_wal_parse_name(name, &num)) return 0;
    if (!tl_wal_grow(rd->o->alloc, (void **)&rd->nums, &rd->ncap, rd->n + 1, sizeof num)) {
        return -ENOMEM;
    }
    rd->nums[rd->n++] = num;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void unload(rd_t *rd) {
    if (rd->mapped) tl_io_unmap(rd->io, rd->img, rd->img_len);
    rd->mapped = false;
    rd->img = NULL;
    rd->img_len = 0;
}

/* Loads segment i whole into rd->img (mapped or read). */
static tl_status_t load(rd_t *rd, size_t i) {
    char name[TL_WAL_NAME_CAP];
    tl_wal_name(name, rd->nums[i]);
    tl_status_t st = tl_io_join(rd->path, rd->dir, name, rd->err);
    tl_io_file_t f;
    uint64_t size = 0;
    if (st == TL_OK) st = tl_io_open(&f, rd->io, rd->path, TL_IO_READ, rd->err);
    if (st != TL_OK) return st;
    st = tl_io_size(&f, &size, rd->err);
    if (st == TL_OK && size > TL_WAL_SEGMENT_MAX) {
        st = tl_io_err_corrupt(rd->err, rd->path, TL_WAL_SEGMENT_MAX,
                               "file larger than any segment");
    }
    if (st == TL_OK && rd->o->use_mmap && rd->io->map != NULL && size > 0) {
        st = tl_io_map(&f, size, (const void **)&rd->img, rd->err);
        rd->mapped = st == TL_OK;
    } else if (st == TL_OK) {
        if (size > rd->buf_cap) {
            tl_mem_free(rd->o->alloc, rd->buf, rd->buf_cap);
            rd->buf_cap = 0;
            rd->buf = tl_mem_alloc(rd->o->alloc, (size_t)size);
            if (rd->buf == NULL) st = tl_io_err_set(rd->err, TL_ENOMEM, "read", rd->path, NULL);
            else rd->buf_cap = (size_t)size;
        }
        size_t got = 0;
        if (st == TL_OK) st = tl_io_read(&f, rd->buf, (size_t)size, 0, &got, rd->err);
        size = got;
        rd->img = rd->buf;
    }
    rd->img_len = (size_t)size;
    tl_status_t cst = tl_io_close(&f, st == TL_OK ? rd->err : NULL);
    if (st == TL_OK) st = cst;
    if (st != TL_OK) unload(rd);
    return st;
}

/* Drops segments from index `from` on: counted in the report, listed in the plan. */
static tl_status_t drop_from(rd_t *rd, size_t from) {
    for (size_t i = from; i < rd->n; i++) {
        tl_status_t st = load(rd, i);
        if (st != TL_OK && st != TL_ECORRUPT) return st;
        tl_wal_hdr_t h;
        tl_wal_seg_t s = {0};
        if (st == TL_OK && tl_wal_hdr_decode(rd->img, rd->img_len, &h) == NULL) {
            (void)tl_wal_seg_scan(rd->img, rd->img_len, &h, 0, NULL, NULL, &s);
        }
        rd->rep->cut_bytes += rd->img_len;
        rd->rep->cut_records += s.records;
        rd->rep->cut_segments++;
        unload(rd);
        tl_wal_recovery_t *rc = rd->rc;
        if (!tl_wal_grow(rc->alloc, (void **)&rc->drop, &rc->dcap, rc->ndrop + 1, 8)) {
            return tl_io_err_set(rd->err, TL_ENOMEM, "recover", rd->dir, NULL);
        }
        rc->drop[rc->ndrop++] = rd->nums[i];
    }
    return TL_OK;
}

/* Records damage at (segment i, off). Strict: TL_ECORRUPT. Repair: the log is cut there
 * (segment i kept up to off when keep_i, else dropped) and every later segment dropped. */
static tl_status_t damage(rd_t *rd, size_t i, uint64_t off, const char *why, bool keep_i,
                          uint64_t later_records) {
    char name[TL_WAL_NAME_CAP], path[TL_IO_PATH_CAP];
    tl_wal_name(name, rd->nums[i]);
    tl_status_t st = tl_io_join(path, rd->dir, name, rd->err);
    if (st != TL_OK) return st;
    tl_io_err_corrupt(&rd->rep->damage, path, off, why);
    if (!rd->o->repair) return tl_io_err_corrupt(rd->err, path, off, why);
    rd->rep->repaired = true;
    if (keep_i) {
        tl_wal_seginfo_t *k = &rd->rc->segs[rd->rc->nsegs - 1];
        rd->rep->cut_bytes += k->size - off;
        rd->rep->cut_records += later_records;
        k->end = off;
    }
    return drop_from(rd, keep_i ? i + 1 : i);
}

/* Checks the header of loaded segment i against its name and predecessor. NULL when fine;
 * else the reason and *off. */
static const char *check_header(rd_t *rd, size_t i, tl_wal_hdr_t *h, uint64_t *off) {
    *off = 0;
    const char *why = tl_wal_hdr_decode(rd->img, rd->img_len, h);
    if (why != NULL) return why;
    *off = 16;
    if (h->segment != rd->nums[i]) return "segment number does not match the file name";
    *off = 24;
    const tl_wal_recovery_t *rc = rd->rc;
    if (rc->nsegs > 0 && h->first_seq <= rc->segs[rc->nsegs - 1].last_seq) {
        return "sequence number does not increase across segments";
    }
    return NULL;
}

/* One segment: header, records, end. *stop when the log ends here. */
static tl_status_t one_segment(rd_t *rd, size_t i, bool *stop) {
    tl_wal_recovery_t *rc = rd->rc;
    bool last = i + 1 == rd->n;
    if (i > 0 && rd->nums[i] != rd->nums[i - 1] + 1) {
        *stop = true;
        return damage(rd, i, 0, "the segment before this one is missing", false, 0);
    }
    if (rc->nsegs > 0 && !rc->segs[rc->nsegs - 1].sealed) {
        *stop = true;
        tl_wal_seginfo_t *p = &rc->segs[rc->nsegs - 1];
        return damage(rd, i - 1, p->end, "segment ends without its seal (records lost)", true,
                      0);
    }
    tl_status_t st = load(rd, i);
    if (st == TL_ECORRUPT) { /* larger than any segment can be */
        *stop = true;
        return damage(rd, i, TL_WAL_SEGMENT_MAX, "file larger than any segment", false, 0);
    }
    if (st != TL_OK) return st;
    tl_wal_hdr_t h;
    uint64_t off;
    const char *why = check_header(rd, i, &h, &off);
    if (why != NULL) {
        *stop = true;
        if (!(last && off == 0 && rd->img_len <= TL_WAL_HEADER_BYTES)) {
            unload(rd);
            return damage(rd, i, off, why, false, 0);
        }
        unload(rd); /* an interrupted creation: torn, dropped whole */
        rd->rep->torn = true;
        tl_io_err_corrupt(&rd->rep->damage, rd->path, 0, why);
        return drop_from(rd, i);
    }
    /* Bytes past the size the header declares were never written by a WAL: damage there, but
     * the frames before it are read (repair keeps them, the longest consistent prefix). */
    bool oversize = rd->img_len > h.segment_bytes;
    size_t scan = oversize ? (size_t)h.segment_bytes : rd->img_len;
    tl_wal_seg_t s;
    st = tl_wal_seg_scan(rd->img, scan, &h, rd->o->replay_from_seq, rd->fn, rd->ctx, &s);
    size_t len = rd->img_len;
    unload(rd);
    if (st != TL_OK) return st;
    if (!tl_wal_grow(rc->alloc, (void **)&rc->segs, &rc->cap, rc->nsegs + 1, sizeof *rc->segs)) {
        return tl_io_err_set(rd->err, TL_ENOMEM, "recover", rd->dir, NULL);
    }
    rc->segs[rc->nsegs++] = (tl_wal_seginfo_t){
        .number = h.segment, .first_seq = h.first_seq, .last_seq = s.last_seq,
        .records = s.records, .segment_bytes = h.segment_bytes, .end = s.end, .size = len,
        .sealed = s.sealed};
    if (oversize) {
        *stop = true;
        return damage(rd, i, s.end, "file larger than its segment size", true, s.later_records);
    }
    if (s.end_kind == TL_WAL_END_CLEAN) return TL_OK;
    *stop = true;
    if (s.end_kind == TL_WAL_END_TORN && last) {
        rd->rep->torn = true;
        rd->rep->cut_bytes += len - s.end;
        tl_io_err_corrupt(&rd->rep->damage, rd->path, s.end, s.why);
        return TL_OK;
    }
    if (s.end_kind == TL_WAL_END_TORN) s.why = "invalid bytes at the end of a full segment";
    return damage(rd, i, s.end, s.why, true, s.later_records);
}

static void fill_report(rd_t *rd) {
    tl_wal_report_t *rep = rd->rep;
    tl_wal_recovery_t *rc = rd->rc;
    for (size_t i = 0; i < rc->nsegs; i++) {
        const tl_wal_seginfo_t *s = &rc->segs[i];
        if (s->records > 0 && rep->records == 0) rep->first_seq = s->first_seq;
        if (s->records > 0) rep->last_seq = s->last_seq;
        rep->records += s->records;
    }
    rep->segments = rc->nsegs;
    if (rc->nsegs > 0) {
        rep->end_segment = rc->segs[rc->nsegs - 1].number;
        rep->end_offset = rc->segs[rc->nsegs - 1].end;
        rc->next_number = rep->end_segment + 1;
    } else {
        rc->next_number = rd->n > 0 ? rd->nums[0] : 1;
    }
}

tl_status_t tl_wal_recover(const tl_io_t *io, const char *dir, const tl_wal_opts_t *o,
                           tl_wal_visit_fn fn, void *ctx, tl_wal_recovery_t *rc,
                           tl_wal_report_t *rep, tl_io_err_t *err) {
    tl_io_err_t local;
    if (err == NULL) err = &local;
    memset(rep, 0, sizeof *rep);
    memset(rc, 0, sizeof *rc);
    rc->alloc = o->alloc;
    tl_io_err_clear(err);
    tl_status_t st = tl_wal_opts_check(o, dir, err);
    if (st != TL_OK) return st;
    rd_t rd = {.io = io, .dir = dir, .o = o, .fn = fn, .ctx = ctx, .rc = rc, .rep = rep,
               .err = err};
    st = tl_io_list(io, dir, list_cb, &rd, err);
    if (st == TL_OK && rd.n > 1) qsort(rd.nums, rd.n, sizeof *rd.nums, cmp_u64);
    bool stop = false;
    for (size_t i = 0; st == TL_OK && !stop && i < rd.n; i++) st = one_segment(&rd, i, &stop);
    if (st == TL_OK) {
        fill_report(&rd);
        tl_io_err_clear(err); /* a repaired damage may have passed through it */
    }
    unload(&rd);
    tl_mem_free(o->alloc, rd.buf, rd.buf_cap);
    tl_mem_free(o->alloc, rd.nums, rd.ncap * sizeof *rd.nums);
    if (st != TL_OK) tl_wal_recovery_free(rc);
    return st;
}

tl_status_t tl_wal_scan(const tl_io_t *io, const char *dir, const tl_wal_opts_t *opts,
                        tl_wal_visit_fn fn, void *ctx, tl_wal_report_t *rep, tl_io_err_t *err) {
    tl_wal_recovery_t rc;
    tl_status_t st = tl_wal_recover(io, dir, opts, fn, ctx, &rc, rep, err);
    if (st == TL_OK) tl_wal_recovery_free(&rc);
    return st;
}
