/*
 * segfile_fuzz.c — libFuzzer target: segment files (c/src/disk/segfile.c).
 *
 * What it proves. Mode byte 0: the rest of the input is a segment file in a simulated
 * directory. tl_segfile_open (with and without mmap) returns TL_OK or TL_ECORRUPT (naming the
 * file, offset within it) and never reads outside the file; when it opens, every index entry
 * lies inside the file, and loading each blob (pread and view) gives TL_OK or TL_ECORRUPT, the
 * same verdict both ways. Mode byte 1: blobs and metadata taken from the input are written with
 * the writer and read back equal through both paths; then one byte chosen by the input is
 * flipped, or the file is cut: the damage is refused with TL_ECORRUPT, at open or at the load
 * of the blob that holds the byte (every byte of the file is covered).
 */
#include "../simfs.h"
#include "disk/segfile.h"
#include "fuzz_common.h"

static uint8_t g_buf[1 << 16];

/* Opens /s/f.tls and loads every blob both ways. Returns TL_OK or the first TL_ECORRUPT. */
static tl_status_t load_all(tl_simfs_t *fs, size_t size, uint64_t *count) {
    tl_status_t verdict[2];
    for (int mm = 0; mm < 2; mm++) {
        tl_segfile_t *r = NULL;
        tl_io_err_t e;
        tl_status_t st = tl_segfile_open(tl_simfs_io(fs), "/s", "f.tls", mm, NULL, &r, &e);
        FZ_CHECK(st == TL_OK || st == TL_ECORRUPT, "open status %d", st);
        FZ_CHECK(st == TL_OK || (strcmp(e.path, "/s/f.tls") == 0 && e.offset <= size),
                 "corruption context: %s at %" PRIu64, e.path, e.offset);
        for (uint64_t i = 0; st == TL_OK && i < tl_segfile_count(r); i++) {
            uint64_t len = tl_segfile_blob_len(r, i);
            FZ_CHECK(len <= size && tl_segfile_meta(r, i) != NULL, "entry %" PRIu64, i);
            const uint8_t *v = NULL;
            st = mm ? tl_segfile_view(r, i, &v, &e)
                    : tl_segfile_read(r, i, g_buf, sizeof g_buf, &e);
            FZ_CHECK(st == TL_OK || st == TL_ECORRUPT, "load status %d", st);
            FZ_CHECK(st == TL_OK || e.offset <= size, "load offset %" PRIu64, e.offset);
        }
        if (count != NULL && r != NULL) *count = tl_segfile_count(r);
        tl_segfile_close(r);
        verdict[mm] = st;
    }
    FZ_CHECK(verdict[0] == verdict[1], "pread %d vs mmap %d", verdict[0], verdict[1]);
    return verdict[0];
}

static void built(tl_simfs_t *fs, fz_in_t *in) {
    uint32_t meta_bytes = 8u * (fz_u8(in) % 5);
    tl_segfile_writer_t *w;
    tl_io_err_t e;
    FZ_CHECK(tl_segfile_create(tl_simfs_io(fs), "/s", "f.tls", meta_bytes, NULL, &w, &e) ==
                 TL_OK, "create");
    int n = fz_u8(in) % 9;
    uint8_t meta[64], blob[512];
    for (int i = 0; i < n; i++) {
        size_t len = fz_u16(in) % sizeof blob;
        for (uint32_t k = 0; k < meta_bytes; k++) meta[k] = fz_u8(in);
        for (size_t k = 0; k < len; k++) blob[k] = (uint8_t)(k * 5 + (size_t)i);
        FZ_CHECK(tl_segfile_add(w, meta, blob, len, &e) == TL_OK, "add");
    }
    FZ_CHECK(tl_segfile_finish(w, &e) == TL_OK, "finish");
    uint8_t *file = NULL;
    size_t size = 0;
    FZ_CHECK(tl_simfs_get(fs, "/s/f.tls", &file, &size) == 0, "get");
    uint64_t count = 0;
    FZ_CHECK(load_all(fs, size, &count) == TL_OK && count == (uint64_t)n, "round trip");
    size_t at = fz_u16(in) % size;
    uint8_t mask = (uint8_t)(fz_u8(in) | 1);
    if (mask & 2) {
        file[at] ^= mask;
        tl_simfs_put(fs, "/s/f.tls", file, size);
    } else {
        tl_simfs_put(fs, "/s/f.tls", file, at);
    }
    FZ_CHECK(load_all(fs, size, NULL) == TL_ECORRUPT, "damage at %zu accepted", at);
    free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    tl_simfs_t *fs = tl_simfs_new(5);
    tl_simfs_mkdir_durable(fs, "/s");
    fz_in_t in = {data, size, 1};
    if (data[0] % 2 == 0) {
        tl_simfs_put(fs, "/s/f.tls", data + 1, size - 1);
        (void)load_all(fs, size - 1, NULL);
    } else {
        built(fs, &in);
    }
    FZ_CHECK(tl_simfs_open_fds(fs) == 0, "descriptor leak");
    tl_simfs_free(fs);
    return 0;
}
