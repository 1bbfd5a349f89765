/*
 * manifest_fuzz.c — libFuzzer target: the manifest container (c/src/disk/mfile.c).
 *
 * What it proves. Mode byte 0: the rest of the input is a manifest file. tl_mfile_decode never
 * reads outside it and accepts it only when re-encoding its payload gives back exactly its
 * header; tl_mfile_read on the same bytes (a simulated directory) agrees: TL_OK with that
 * payload, or TL_ECORRUPT naming the file at the decoder's offset. Mode byte 1: the rest is a
 * payload; it is written with tl_mfile_write and read back equal; then one damage chosen by
 * the input (a flipped byte anywhere, a cut at any length, bytes appended) must be refused
 * with TL_ECORRUPT: every byte of the file is covered.
 */
#include "../simfs.h"
#include "disk/mfile.h"
#include "fuzz_common.h"

static void check_same(tl_simfs_t *fs, const uint8_t *file, size_t n) {
    tl_simfs_put(fs, "/m/MANIFEST", file, n);
    uint64_t bad = 0;
    const char *why = tl_mfile_decode(file, n, &bad);
    uint8_t *p = NULL;
    size_t len = 0;
    tl_io_err_t e;
    tl_status_t st = tl_mfile_read(tl_simfs_io(fs), "/m", "MANIFEST", NULL, 1 << 20, &p, &len,
                                   &e);
    if (why == NULL) {
        uint8_t hdr[TL_MFILE_HEADER_BYTES];
        tl_mfile_encode_header(hdr, file + TL_MFILE_HEADER_BYTES, n - TL_MFILE_HEADER_BYTES);
        FZ_CHECK(memcmp(hdr, file, sizeof hdr) == 0, "accepted a header it would not write");
        FZ_CHECK(st == TL_OK && len == n - TL_MFILE_HEADER_BYTES, "read disagrees: %d", st);
        FZ_CHECK(len == 0 || memcmp(p, file + TL_MFILE_HEADER_BYTES, len) == 0, "payload");
    } else {
        FZ_CHECK(st == TL_ECORRUPT && e.offset == bad && strcmp(e.path, "/m/MANIFEST") == 0,
                 "read disagrees with decode: %d", st);
        FZ_CHECK(bad <= n, "offset %" PRIu64 " beyond %zu", bad, n);
    }
    tl_mem_free(NULL, p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    tl_simfs_t *fs = tl_simfs_new(3);
    tl_simfs_mkdir_durable(fs, "/m");
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    if (data[0] % 2 == 0) {
        check_same(fs, rest, n);
    } else {
        size_t plen = n > 2 ? n - 2 : 0; /* the last two bytes choose the damage */
        tl_io_err_t e;
        FZ_CHECK(tl_mfile_write(tl_simfs_io(fs), "/m", "MANIFEST", rest, plen, &e) == TL_OK,
                 "write");
        uint8_t *file = NULL;
        size_t fn = 0;
        FZ_CHECK(tl_simfs_get(fs, "/m/MANIFEST", &file, &fn) == 0, "get");
        check_same(fs, file, fn);
        uint8_t *damaged = malloc(fn + 9);
        FZ_CHECK(damaged != NULL, "oom");
        memcpy(damaged, file, fn);
        uint8_t sel = n > 1 ? rest[n - 2] : 0, pos = n > 0 ? rest[n - 1] : 0;
        size_t at = ((size_t)sel << 8 | pos) % fn, dn = fn;
        if (sel % 3 == 0) damaged[at] ^= (uint8_t)(pos | 1);
        else if (sel % 3 == 1) dn = at;
        else dn = fn + 1 + pos % 8, memset(damaged + fn, pos, dn - fn);
        uint64_t bad;
        FZ_CHECK(tl_mfile_decode(damaged, dn, &bad) != NULL, "damage accepted (%d)", sel % 3);
        check_same(fs, damaged, dn);
        free(damaged);
        free(file);
    }
    FZ_CHECK(tl_simfs_open_fds(fs) == 0, "descriptor leak");
    tl_simfs_free(fs);
    return 0;
}
