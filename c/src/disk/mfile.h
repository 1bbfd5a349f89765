/*
 * mfile.h — the manifest container: one small file replaced atomically, payload opaque.
 *
 * The durable log's manifest (which segment files are live, which WAL position they cover)
 * is written whole at every change and read once at open. This is its container: a 32-byte
 * header (magic "TLMANIFS", version, payload length, payload CRC32C, header CRC32C) followed
 * by the payload (docs/format.md, "Manifest file"). What the payload means is the engine's
 * business.
 *
 * Writing goes through tl_io_replace: name.tmp is written and fdatasynced, renamed over name,
 * and the directory fsynced. After a crash at any point the file holds the old content or the
 * new one, whole: never neither, never a mix. A left-over name.tmp is harmless (the next write
 * truncates it; readers never look at it).
 *
 * Reading checks the size against the header, both checksums, the magic and the version; any
 * mismatch is TL_ECORRUPT naming the file and the offset of the damaged field.
 */
#ifndef TL_DISK_MFILE_H
#define TL_DISK_MFILE_H

#include <stddef.h>
#include <stdint.h>

#include "disk/io.h"

#define TL_MFILE_MAGIC "TLMANIFS" /* 8 bytes, no NUL on disk */
#define TL_MFILE_VERSION 1u
#define TL_MFILE_HEADER_BYTES 32u
#define TL_MFILE_PAYLOAD_MAX ((uint64_t)1 << 30)

/* Replaces dir/name with a manifest holding payload[0..len). len <= TL_MFILE_PAYLOAD_MAX. */
tl_status_t tl_mfile_write(const tl_io_t *io, const char *dir, const char *name,
                           const void *payload, size_t len, tl_io_err_t *err);

/* Reads dir/name: *payload is a new buffer from `a` holding *len bytes (free it with
 * tl_mem_free(a, *payload, *len)). TL_EOF when the file does not exist (a fresh directory);
 * TL_ECORRUPT (file + offset in *err); TL_EIO; TL_ENOMEM. max bounds the payload accepted. */
tl_status_t tl_mfile_read(const tl_io_t *io, const char *dir, const char *name,
                          const tl_allocator_t *a, uint64_t max, uint8_t **payload, size_t *len,
                          tl_io_err_t *err);

/* The container on memory (used by tl_mfile_read, the tests and manifest_fuzz). */
void tl_mfile_encode_header(uint8_t out[TL_MFILE_HEADER_BYTES], const void *payload,
                            size_t len);
/* NULL when file[0..n) is a valid manifest (its payload is file[32..n)), else the reason,
 * with *bad_off the offset of the damaged field. */
const char *tl_mfile_decode(const uint8_t *file, size_t n, uint64_t *bad_off);

#endif /* TL_DISK_MFILE_H */
