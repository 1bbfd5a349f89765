/*
 * mfile.c — the manifest container (mfile.h): encode, decode, atomic write, checked read.
 *
 * Layout (little-endian; docs/format.md, "Manifest file"):
 *   0  magic "TLMANIFS"      8 bytes
 *   8  version               u32 (1)
 *   12 header bytes          u32 (32)
 *   16 payload length        u64
 *   24 payload crc32c        u32
 *   28 header crc32c         u32 over bytes 0..27
 *   32 payload
 * The file is exactly 32 + payload length bytes long: a longer or shorter file is corrupt, so
 * a torn or appended-to file never passes for a valid one.
 *
 * Decode order and why: length first (a file shorter than its header cannot be read further),
 * then the header checksum (so the fields below are trusted before use), magic, version, then
 * the size against the declared length, then the payload checksum. The reported offset is the
 * first byte of the field that failed.
 *
 * Complexity: O(payload) checksum work; one read of the whole file (bounded by max).
 */
#include "disk/mfile.h"

#include <errno.h>
#include <string.h>

#include "disk/crc32c.h"
#include "disk/le.h"

void tl_mfile_encode_header(uint8_t out[TL_MFILE_HEADER_BYTES], const void *payload,
                            size_t len) {
    memcpy(out, TL_MFILE_MAGIC, 8);
    tl_le32_store(out + 8, TL_MFILE_VERSION);
    tl_le32_store(out + 12, TL_MFILE_HEADER_BYTES);
    tl_le64_store(out + 16, len);
    tl_le32_store(out + 24, tl_crc32c(0, payload, len));
    tl_le32_store(out + 28, tl_crc32c(0, out, 28));
}

const char *tl_mfile_decode(const uint8_t *file, size_t n, uint64_t *bad_off) {
    *bad_off = n;
    if (n < TL_MFILE_HEADER_BYTES) return "file shorter than its header";
    *bad_off = 28;
    if (tl_le32_load(file + 28) != tl_crc32c(0, file, 28)) return "header checksum mismatch";
    *bad_off = 0;
    if (memcmp(file, TL_MFILE_MAGIC, 8) != 0) return "bad manifest magic";
    *bad_off = 8;
    if (tl_le32_load(file + 8) != TL_MFILE_VERSION) return "unsupported manifest version";
    if (tl_le32_load(file + 12) != TL_MFILE_HEADER_BYTES) return "bad manifest header size";
    *bad_off = 16;
    uint64_t len = tl_le64_load(file + 16);
    if (len != n - TL_MFILE_HEADER_BYTES) return "file size does not match the payload length";
    *bad_off = TL_MFILE_HEADER_BYTES;
    if (tl_le32_load(file + 24) != tl_crc32c(0, file + TL_MFILE_HEADER_BYTES, (size_t)len)) {
        return "payload checksum mismatch";
    }
    return NULL;
}

tl_status_t tl_mfile_write(const tl_io_t *io, const char *dir, const char *name,
                           const void *payload, size_t len, tl_io_err_t *err) {
    if (len > TL_MFILE_PAYLOAD_MAX || (len > 0 && payload == NULL)) {
        return tl_io_err_set(err, TL_EINVAL, "write", name, "manifest payload too large");
    }
    uint8_t hdr[TL_MFILE_HEADER_BYTES];
    tl_mfile_encode_header(hdr, payload, len);
    tl_io_piece_t pieces[2] = {{hdr, sizeof hdr}, {payload, len}};
    return tl_io_replace(io, dir, name, pieces, len > 0 ? 2 : 1, err);
}

tl_status_t tl_mfile_read(const tl_io_t *io, const char *dir, const char *name,
                          const tl_allocator_t *a, uint64_t max, uint8_t **payload, size_t *len,
                          tl_io_err_t *err) {
    *payload = NULL;
    *len = 0;
    char path[TL_IO_PATH_CAP];
    tl_status_t st = tl_io_join(path, dir, name, err);
    if (st != TL_OK) return st;
    if (max > TL_MFILE_PAYLOAD_MAX) max = TL_MFILE_PAYLOAD_MAX;
    uint8_t *file = NULL;
    size_t n = 0;
    tl_io_err_t local;
    if (err == NULL) err = &local;
    st = tl_io_read_all(io, path, a, (size_t)(max + TL_MFILE_HEADER_BYTES), &file, &n, err);
    if (st == TL_EIO && err->sys_errno == ENOENT) return TL_EOF;
    if (st != TL_OK) return st;
    uint64_t bad = 0;
    const char *why = tl_mfile_decode(file, n, &bad);
    if (why != NULL) {
        tl_mem_free(a, file, n);
        return tl_io_err_corrupt(err, path, bad, why);
    }
    /* The payload moves to its own exact-size buffer: callers free what they got. */
    size_t plen = n - TL_MFILE_HEADER_BYTES;
    uint8_t *p = tl_mem_alloc(a, plen);
    if (p == NULL) st = tl_io_err_set(err, TL_ENOMEM, "read", path, "out of memory");
    else if (plen > 0) memcpy(p, file + TL_MFILE_HEADER_BYTES, plen);
    tl_mem_free(a, file, n);
    if (st != TL_OK) return st;
    *payload = p;
    *len = plen;
    return TL_OK;
}
