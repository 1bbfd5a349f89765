/*
 * segfile.c — segment files: an immutable container of CRC'd blobs with a footer index
 * (segfile.h; byte layout in docs/format.md, "Segment file").
 *
 * Writer structure: the tmp file is written front to back. Small frames (frame header, meta,
 * blob, padding) are copied into a staging buffer of TL_SEGFILE_STAGE_BYTES and written when
 * it fills, so a segment of 64 KB pages costs about one pwrite per 4 blobs; a blob larger than
 * the buffer is written in place (header + meta, blob, padding) after a flush. The index grows
 * in memory (one entry per blob: 24 + M bytes) and is written at finish, followed by the
 * trailer. Only then: fdatasync, rename, fsync of the directory.
 *
 * Reader structure: open reads the trailer (the last 40 bytes), the header, then the index in
 * one read, and validates all of it before returning, so a reader that opened never meets a
 * malformed index: the entries tile [header end, index offset) exactly, in order, each with
 * zero reserved bytes. Blobs are then checked one at a time when loaded: the frame header must
 * repeat the index entry (length, checksum), the meta must equal the index's copy, the
 * checksum must match meta||blob, the padding must be zero.
 *
 * Invariants: file size = 32 + sum of frames + count * (24 + M) + 40; every offset is a
 * multiple of 8; the reader's index buffer is immutable after open (concurrent reads are safe).
 * Complexity: writing O(bytes) + one checksum pass; open O(index) + 3 reads; a blob load
 * O(blob) checksum work + one pread (or none, mapped).
 */
#include "disk/segfile.h"

#include <stdio.h>
#include <string.h>

#include "disk/crc32c.h"
#include "disk/le.h"

struct tl_segfile_writer {
    const tl_io_t *io;
    const tl_allocator_t *a;
    char dir[TL_IO_PATH_CAP], tmp[TL_IO_PATH_CAP], final[TL_IO_PATH_CAP];
    tl_io_file_t f;
    uint32_t meta_bytes;
    uint64_t off; /* file offset of stage[0] */
    uint8_t *stage;
    size_t staged;
    uint8_t *index; /* count entries of 24 + meta_bytes bytes */
    size_t icap;
    uint64_t count;
    tl_status_t failed;
    tl_io_err_t fail_err;
};

struct tl_segfile {
    const tl_io_t *io;
    const tl_allocator_t *a;
    tl_io_file_t f;
    const uint8_t *map; /* the whole file, or NULL */
    uint64_t size, index_off, count;
    uint32_t meta_bytes;
    uint8_t *index;
    size_t index_len;
};

static uint64_t entry_bytes(uint32_t meta) { return TL_SEGFILE_ENTRY_BYTES + (uint64_t)meta; }

static uint64_t frame_bytes(uint32_t meta, uint64_t len) {
    return tl_align8(TL_SEGFILE_FRAME_BYTES + (uint64_t)meta + len);
}

static void encode_header(uint8_t out[TL_SEGFILE_HEADER_BYTES], uint32_t meta) {
    memset(out, 0, TL_SEGFILE_HEADER_BYTES);
    memcpy(out, TL_SEGFILE_MAGIC, 8);
    tl_le32_store(out + 8, TL_SEGFILE_VERSION);
    tl_le32_store(out + 12, TL_SEGFILE_HEADER_BYTES);
    tl_le32_store(out + 16, meta);
    tl_le32_store(out + 28, tl_crc32c(0, out, 28));
}

/* ---------------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------------- */

static tl_status_t w_fail(tl_segfile_writer_t *w, tl_status_t st, tl_io_err_t *err) {
    if (w->failed == TL_OK) {
        w->failed = st;
        if (err != NULL) w->fail_err = *err;
    }
    return st;
}

static tl_status_t w_flush(tl_segfile_writer_t *w, tl_io_err_t *err) {
    if (w->staged == 0) return TL_OK;
    tl_status_t st = tl_io_write(&w->f, w->stage, w->staged, w->off, err);
    if (st != TL_OK) return st;
    w->off += w->staged;
    w->staged = 0;
    return TL_OK;
}

/* Appends bytes to the file through the staging buffer. */
static tl_status_t w_put(tl_segfile_writer_t *w, const void *p, size_t n, tl_io_err_t *err) {
    if (w->staged + n > TL_SEGFILE_STAGE_BYTES) {
        tl_status_t st = w_flush(w, err);
        if (st != TL_OK) return st;
    }
    if (n > TL_SEGFILE_STAGE_BYTES) { /* a big blob goes straight to the file */
        tl_status_t st = tl_io_write(&w->f, p, n, w->off, err);
        if (st == TL_OK) w->off += n;
        return st;
    }
    if (n > 0) memcpy(w->stage + w->staged, p, n);
    w->staged += n;
    return TL_OK;
}

tl_status_t tl_segfile_create(const tl_io_t *io, const char *dir, const char *name,
                              uint32_t meta_bytes, const tl_allocator_t *a,
                              tl_segfile_writer_t **out, tl_io_err_t *err) {
    *out = NULL;
    if (meta_bytes > TL_SEGFILE_META_MAX || meta_bytes % 8 != 0) {
        return tl_io_err_set(err, TL_EINVAL, "create", name, "meta size: multiple of 8, <= 256");
    }
    tl_segfile_writer_t *w = tl_mem_calloc(a, 1, sizeof *w);
    if (w == NULL) return tl_io_err_set(err, TL_ENOMEM, "create", name, "out of memory");
    w->io = io;
    w->a = a;
    w->meta_bytes = meta_bytes;
    w->f = (tl_io_file_t){.io = io, .fd = -1};
    char tmp_name[256];
    int k = snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
    tl_status_t st = k < 0 || (size_t)k >= sizeof tmp_name
                         ? tl_io_err_set(err, TL_EINVAL, "create", name, "file name too long")
                         : TL_OK;
    if (st == TL_OK) st = tl_io_join(w->final, dir, name, err);
    if (st == TL_OK) st = tl_io_join(w->tmp, dir, tmp_name, err);
    if (st == TL_OK) {
        memcpy(w->dir, dir, strlen(dir) + 1);
        w->stage = tl_mem_alloc(a, TL_SEGFILE_STAGE_BYTES);
        if (w->stage == NULL) st = tl_io_err_set(err, TL_ENOMEM, "create", name, NULL);
    }
    int flags = TL_IO_RDWR | TL_IO_CREATE | TL_IO_TRUNC; /* a stale tmp is overwritten */
    if (st == TL_OK) st = tl_io_open(&w->f, io, w->tmp, flags, err);
    uint8_t hdr[TL_SEGFILE_HEADER_BYTES];
    encode_header(hdr, meta_bytes);
    if (st == TL_OK) st = w_put(w, hdr, sizeof hdr, err);
    if (st != TL_OK) {
        tl_segfile_abort(w);
        return st;
    }
    *out = w;
    return TL_OK;
}

tl_status_t tl_segfile_add(tl_segfile_writer_t *w, const void *meta, const void *blob,
                           size_t len, tl_io_err_t *err) {
    if (w->failed != TL_OK) {
        if (err != NULL) *err = w->fail_err;
        return w->failed;
    }
    if (len > TL_SEGFILE_BLOB_MAX || (len > 0 && blob == NULL) ||
        (w->meta_bytes > 0 && meta == NULL)) {
        return tl_io_err_set(err, TL_EINVAL, "write", w->tmp, "blob too large or NULL");
    }
    uint64_t eb = entry_bytes(w->meta_bytes);
    size_t need = (size_t)((w->count + 1) * eb);
    if (need > w->icap) {
        size_t cap = w->icap ? w->icap * 2 : (size_t)(64 * eb);
        while (cap < need) cap *= 2;
        uint8_t *p = tl_mem_alloc(w->a, cap);
        if (p == NULL) return tl_io_err_set(err, TL_ENOMEM, "write", w->tmp, "out of memory");
        if (w->icap) memcpy(p, w->index, (size_t)(w->count * eb));
        tl_mem_free(w->a, w->index, w->icap);
        w->index = p;
        w->icap = cap;
    }
    uint32_t crc = tl_crc32c(tl_crc32c(0, meta, w->meta_bytes), blob, len);
    uint8_t fh[TL_SEGFILE_FRAME_BYTES] = {0}, pad[8] = {0};
    tl_le64_store(fh, len);
    tl_le32_store(fh + 8, crc);
    uint64_t off = w->off + w->staged, fb = frame_bytes(w->meta_bytes, len);
    tl_status_t st = w_put(w, fh, sizeof fh, err);
    if (st == TL_OK) st = w_put(w, meta, w->meta_bytes, err);
    if (st == TL_OK) st = w_put(w, blob, len, err);
    size_t npad = (size_t)(fb - TL_SEGFILE_FRAME_BYTES - w->meta_bytes - len);
    if (st == TL_OK) st = w_put(w, pad, npad, err);
    if (st != TL_OK) return w_fail(w, st, err);
    uint8_t *e = w->index + w->count * eb;
    tl_le64_store(e, off);
    tl_le64_store(e + 8, len);
    tl_le32_store(e + 16, crc);
    tl_le32_store(e + 20, 0);
    if (w->meta_bytes) memcpy(e + TL_SEGFILE_ENTRY_BYTES, meta, w->meta_bytes);
    w->count++;
    return TL_OK;
}

/* Index, trailer, fdatasync, close: the tmp file complete and durable. */
static tl_status_t w_complete(tl_segfile_writer_t *w, tl_io_err_t *err) {
    uint64_t ilen = w->count * entry_bytes(w->meta_bytes);
    uint64_t index_off = w->off + w->staged;
    uint8_t tr[TL_SEGFILE_TRAILER_BYTES] = {0};
    tl_le64_store(tr, index_off);
    tl_le64_store(tr + 8, w->count);
    tl_le32_store(tr + 16, tl_crc32c(0, w->index, (size_t)ilen));
    tl_le32_store(tr + 20, w->meta_bytes);
    tl_le32_store(tr + 28, tl_crc32c(0, tr, 28));
    memcpy(tr + 32, TL_SEGFILE_END_MAGIC, 8);
    tl_status_t st = w_put(w, w->index, (size_t)ilen, err);
    if (st == TL_OK) st = w_put(w, tr, sizeof tr, err);
    if (st == TL_OK) st = w_flush(w, err);
    if (st == TL_OK) st = tl_io_sync(&w->f, err);
    tl_status_t cst = tl_io_close(&w->f, st == TL_OK ? err : NULL);
    return st == TL_OK ? cst : st;
}

static void w_free(tl_segfile_writer_t *w) {
    tl_mem_free(w->a, w->stage, TL_SEGFILE_STAGE_BYTES);
    tl_mem_free(w->a, w->index, w->icap);
    tl_mem_free(w->a, w, sizeof *w);
}

tl_status_t tl_segfile_finish(tl_segfile_writer_t *w, tl_io_err_t *err) {
    tl_status_t st = w->failed;
    if (st != TL_OK && err != NULL) *err = w->fail_err;
    if (st == TL_OK) st = w_complete(w, err);
    if (st == TL_OK) st = tl_io_rename(w->io, w->tmp, w->final, err);
    if (st == TL_OK) st = tl_io_sync_dir(w->io, w->dir, err); /* the rename made durable */
    if (st != TL_OK && w->f.fd >= 0) (void)tl_io_close(&w->f, NULL);
    if (st != TL_OK) (void)tl_io_unlink(w->io, w->tmp, NULL); /* absent after a rename: fine */
    w_free(w);
    return st;
}

void tl_segfile_abort(tl_segfile_writer_t *w) {
    if (w == NULL) return;
    if (w->f.fd >= 0) {
        (void)tl_io_close(&w->f, NULL);
        (void)tl_io_unlink(w->io, w->tmp, NULL);
    }
    w_free(w);
}

/* ---------------------------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------------------------- */

/* Reads n bytes at off from the mapping or the file; a short file is corruption. */
static tl_status_t r_get(const tl_segfile_t *r, uint64_t off, void *buf, size_t n,
                         tl_io_err_t *err) {
    if (off > r->size || n > r->size - off) {
        return tl_io_err_corrupt(err, r->f.path, off, "data beyond the end of the file");
    }
    if (r->map != NULL) {
        memcpy(buf, r->map + off, n);
        return TL_OK;
    }
    size_t got = 0;
    tl_io_file_t f = r->f; /* a copy: pread needs no state, and r stays const */
    tl_status_t st = tl_io_read(&f, buf, n, off, &got, err);
    if (st == TL_OK && got != n) st = tl_io_err_corrupt(err, r->f.path, off + got, "file shrank");
    return st;
}

/* Trailer and header: fills count, index_off, meta_bytes. */
static tl_status_t check_ends(tl_segfile_t *r, tl_io_err_t *err) {
    const char *path = r->f.path;
    if (r->size < TL_SEGFILE_HEADER_BYTES + TL_SEGFILE_TRAILER_BYTES) {
        return tl_io_err_corrupt(err, path, r->size, "file shorter than header + trailer");
    }
    uint64_t t = r->size - TL_SEGFILE_TRAILER_BYTES;
    uint8_t tr[TL_SEGFILE_TRAILER_BYTES], h[TL_SEGFILE_HEADER_BYTES];
    tl_status_t st = r_get(r, t, tr, sizeof tr, err);
    if (st == TL_OK) st = r_get(r, 0, h, sizeof h, err);
    if (st != TL_OK) return st;
    if (memcmp(tr + 32, TL_SEGFILE_END_MAGIC, 8) != 0) {
        return tl_io_err_corrupt(err, path, t + 32, "bad trailer magic (incomplete file?)");
    }
    if (tl_le32_load(tr + 28) != tl_crc32c(0, tr, 28) || tl_le32_load(tr + 24) != 0) {
        return tl_io_err_corrupt(err, path, t, "trailer checksum mismatch");
    }
    if (memcmp(h, TL_SEGFILE_MAGIC, 8) != 0 || tl_le32_load(h + 28) != tl_crc32c(0, h, 28)) {
        return tl_io_err_corrupt(err, path, 0, "bad segment file header");
    }
    r->meta_bytes = tl_le32_load(h + 16);
    if (tl_le32_load(h + 8) != TL_SEGFILE_VERSION) {
        return tl_io_err_corrupt(err, path, 8, "unsupported segment file version");
    }
    if (tl_le32_load(h + 12) != TL_SEGFILE_HEADER_BYTES || tl_le32_load(h + 20) != 0 ||
        tl_le32_load(h + 24) != 0 || r->meta_bytes > TL_SEGFILE_META_MAX ||
        r->meta_bytes % 8 != 0 || tl_le32_load(tr + 20) != r->meta_bytes) {
        return tl_io_err_corrupt(err, path, 12, "bad segment file header fields");
    }
    r->index_off = tl_le64_load(tr);
    r->count = tl_le64_load(tr + 8);
    uint64_t eb = entry_bytes(r->meta_bytes);
    if (r->index_off < TL_SEGFILE_HEADER_BYTES || r->index_off % 8 != 0 || r->index_off > t ||
        r->count > (t - r->index_off) / eb || r->count * eb != t - r->index_off) {
        return tl_io_err_corrupt(err, path, t, "trailer index position inconsistent");
    }
    r->index_len = (size_t)(r->count * eb);
    return TL_OK;
}

/* The index: its checksum, then entries tiling [header end, index offset). */
static tl_status_t check_index(tl_segfile_t *r, uint32_t want_crc, tl_io_err_t *err) {
    if (tl_crc32c(0, r->index, r->index_len) != want_crc) {
        return tl_io_err_corrupt(err, r->f.path, r->index_off, "index checksum mismatch");
    }
    uint64_t eb = entry_bytes(r->meta_bytes), expect = TL_SEGFILE_HEADER_BYTES;
    for (uint64_t i = 0; i < r->count; i++) {
        const uint8_t *e = r->index + i * eb;
        uint64_t off = tl_le64_load(e), len = tl_le64_load(e + 8);
        if (off != expect || len > TL_SEGFILE_BLOB_MAX || tl_le32_load(e + 20) != 0 ||
            frame_bytes(r->meta_bytes, len) > r->index_off - off) {
            return tl_io_err_corrupt(err, r->f.path, r->index_off + i * eb,
                                     "index entry does not tile the file");
        }
        expect = off + frame_bytes(r->meta_bytes, len);
    }
    if (expect != r->index_off) {
        return tl_io_err_corrupt(err, r->f.path, expect, "bytes between the blobs and the index");
    }
    return TL_OK;
}

static tl_status_t r_load(tl_segfile_t *r, bool use_mmap, tl_io_err_t *err) {
    tl_status_t st = tl_io_size(&r->f, &r->size, err);
    if (st == TL_OK && use_mmap && r->io->map != NULL && r->size > 0) {
        st = tl_io_map(&r->f, r->size, (const void **)&r->map, err);
    }
    if (st == TL_OK) st = check_ends(r, err);
    if (st != TL_OK) return st;
    uint8_t tr[8];
    st = r_get(r, r->size - TL_SEGFILE_TRAILER_BYTES + 16, tr, 4, err);
    if (st != TL_OK) return st;
    r->index = tl_mem_alloc(r->a, r->index_len);
    if (r->index == NULL) return tl_io_err_set(err, TL_ENOMEM, "read", r->f.path, NULL);
    st = r_get(r, r->index_off, r->index, r->index_len, err);
    return st == TL_OK ? check_index(r, tl_le32_load(tr), err) : st;
}

tl_status_t tl_segfile_open(const tl_io_t *io, const char *dir, const char *name, bool use_mmap,
                            const tl_allocator_t *a, tl_segfile_t **out, tl_io_err_t *err) {
    *out = NULL;
    tl_segfile_t *r = tl_mem_calloc(a, 1, sizeof *r);
    if (r == NULL) return tl_io_err_set(err, TL_ENOMEM, "open", name, "out of memory");
    r->io = io;
    r->a = a;
    r->f = (tl_io_file_t){.io = io, .fd = -1};
    char path[TL_IO_PATH_CAP];
    tl_status_t st = tl_io_join(path, dir, name, err);
    if (st == TL_OK) st = tl_io_open(&r->f, io, path, TL_IO_READ, err);
    if (st == TL_OK) st = r_load(r, use_mmap, err);
    if (st != TL_OK) {
        tl_segfile_close(r);
        return st;
    }
    *out = r;
    return TL_OK;
}

void tl_segfile_close(tl_segfile_t *r) {
    if (r == NULL) return;
    if (r->map != NULL) tl_io_unmap(r->io, r->map, r->size);
    (void)tl_io_close(&r->f, NULL);
    tl_mem_free(r->a, r->index, r->index_len);
    tl_mem_free(r->a, r, sizeof *r);
}

uint64_t tl_segfile_count(const tl_segfile_t *r) { return r->count; }
uint64_t tl_segfile_size(const tl_segfile_t *r) { return r->size; }
uint32_t tl_segfile_meta_bytes(const tl_segfile_t *r) { return r->meta_bytes; }

uint64_t tl_segfile_blob_len(const tl_segfile_t *r, uint64_t i) {
    return i < r->count ? tl_le64_load(r->index + i * entry_bytes(r->meta_bytes) + 8) : 0;
}

const uint8_t *tl_segfile_meta(const tl_segfile_t *r, uint64_t i) {
    if (i >= r->count) return NULL;
    return r->index + i * entry_bytes(r->meta_bytes) + TL_SEGFILE_ENTRY_BYTES;
}

/* Checks blob i's frame header, meta and padding (as read into head and pad) and the checksum
 * of meta||blob against its index entry. */
static tl_status_t check_blob(const tl_segfile_t *r, uint64_t i, const uint8_t *head,
                              const uint8_t *blob, const uint8_t *pad, tl_io_err_t *err) {
    const uint8_t *e = r->index + i * entry_bytes(r->meta_bytes);
    uint64_t off = tl_le64_load(e), len = tl_le64_load(e + 8);
    uint32_t crc = tl_le32_load(e + 16);
    size_t npad = (size_t)(frame_bytes(r->meta_bytes, len) - TL_SEGFILE_FRAME_BYTES -
                           r->meta_bytes - len);
    const uint8_t *meta = head + TL_SEGFILE_FRAME_BYTES;
    uint64_t meta_off = off + TL_SEGFILE_FRAME_BYTES, blob_off = meta_off + r->meta_bytes;
    const char *path = r->f.path;
    if (tl_le64_load(head) != len || tl_le32_load(head + 8) != crc ||
        tl_le32_load(head + 12) != 0) {
        return tl_io_err_corrupt(err, path, off, "blob header does not match the index");
    }
    if (memcmp(meta, e + TL_SEGFILE_ENTRY_BYTES, r->meta_bytes) != 0) {
        return tl_io_err_corrupt(err, path, meta_off, "blob meta does not match the index");
    }
    if (tl_crc32c(tl_crc32c(0, meta, r->meta_bytes), blob, (size_t)len) != crc) {
        return tl_io_err_corrupt(err, path, blob_off, "blob checksum mismatch");
    }
    for (size_t k = 0; k < npad; k++) {
        if (pad[k] != 0) return tl_io_err_corrupt(err, path, blob_off + len, "padding not zero");
    }
    return TL_OK;
}

tl_status_t tl_segfile_read(const tl_segfile_t *r, uint64_t i, void *buf, size_t cap,
                            tl_io_err_t *err) {
    uint64_t len = tl_segfile_blob_len(r, i);
    if (i >= r->count || cap < len) {
        return tl_io_err_set(err, TL_EINVAL, "read", r->f.path, "no such blob, or buffer short");
    }
    uint64_t off = tl_le64_load(r->index + i * entry_bytes(r->meta_bytes));
    uint8_t head[TL_SEGFILE_FRAME_BYTES + TL_SEGFILE_META_MAX], pad[8];
    size_t hn = TL_SEGFILE_FRAME_BYTES + r->meta_bytes;
    size_t npad = (size_t)(frame_bytes(r->meta_bytes, len) - hn - len);
    tl_status_t st = r_get(r, off, head, hn, err);
    if (st == TL_OK) st = r_get(r, off + hn, buf, (size_t)len, err);
    if (st == TL_OK) st = r_get(r, off + hn + len, pad, npad, err);
    return st == TL_OK ? check_blob(r, i, head, buf, pad, err) : st;
}

tl_status_t tl_segfile_view(const tl_segfile_t *r, uint64_t i, const uint8_t **blob,
                            tl_io_err_t *err) {
    *blob = NULL;
    if (i >= r->count || r->map == NULL) {
        return tl_io_err_set(err, TL_EINVAL, "view", r->f.path, "no such blob, or not mapped");
    }
    const uint8_t *e = r->index + i * entry_bytes(r->meta_bytes);
    uint64_t off = tl_le64_load(e), len = tl_le64_load(e + 8);
    const uint8_t *head = r->map + off, *b = head + TL_SEGFILE_FRAME_BYTES + r->meta_bytes;
    tl_status_t st = check_blob(r, i, head, b, b + len, err);
    if (st == TL_OK) *blob = b;
    return st;
}
