/*
 * segfile.h — the segment file container: an immutable file of opaque blobs (future compressed
 * pages), each with a small caller-defined metadata record, found through a footer index.
 *
 * Layout (docs/format.md, "Segment file"), every part 8-aligned:
 *   header  32 B   magic "TLSEGFIL", version, header size, meta size M, flags, header CRC
 *   blobs          per blob: [length u64][crc32c u32 of meta||blob][0 u32][meta M][blob][pad]
 *   index          per blob: [offset u64][length u64][crc32c u32][0 u32][meta M]
 *   trailer 40 B   index offset, blob count, index CRC, M, 0, trailer CRC, magic "TLSEGEND"
 * The blobs tile the space between the header and the index exactly; every byte of the file
 * is covered by a checksum or a must-be-zero rule.
 *
 * Writing: tl_segfile_create opens name.tmp; tl_segfile_add streams blobs into it (through a
 * bounded staging buffer; blobs larger than it are written directly); tl_segfile_finish writes
 * index and trailer, fdatasyncs, renames name.tmp to name and fsyncs the directory. A crash at
 * any point leaves no file under `name` or the complete one; a left-over name.tmp is garbage
 * that the next create of the same name truncates (the engine also removes tmp files it finds
 * at open).
 *
 * Reading: tl_segfile_open validates the trailer, the header and the whole index (offsets
 * tiling the file, checksums) before returning; blobs are then read (pread into a caller
 * buffer) or viewed (mmap, zero copy) one at a time, and each is checked against its index
 * entry and checksum when loaded. Any mismatch is TL_ECORRUPT naming the file and offset.
 * A reader is immutable after open: several threads may read blobs at once (pread and the
 * mapping need no lock).
 */
#ifndef TL_DISK_SEGFILE_H
#define TL_DISK_SEGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/io.h"

#define TL_SEGFILE_MAGIC "TLSEGFIL" /* 8 bytes, no NUL on disk */
#define TL_SEGFILE_END_MAGIC "TLSEGEND"
#define TL_SEGFILE_VERSION 1u
#define TL_SEGFILE_HEADER_BYTES 32u
#define TL_SEGFILE_FRAME_BYTES 16u /* before each blob's meta */
#define TL_SEGFILE_ENTRY_BYTES 24u /* index entry, before its meta */
#define TL_SEGFILE_TRAILER_BYTES 40u
#define TL_SEGFILE_META_MAX 256u /* meta size: a multiple of 8, 0 .. 256 */
#define TL_SEGFILE_BLOB_MAX ((uint64_t)1 << 30)
#define TL_SEGFILE_STAGE_BYTES ((size_t)256 << 10) /* the writer's staging buffer */

typedef struct tl_segfile_writer tl_segfile_writer_t;
typedef struct tl_segfile tl_segfile_t;

/* Starts dir/name (as dir/name.tmp) with meta_bytes of metadata per blob. */
tl_status_t tl_segfile_create(const tl_io_t *io, const char *dir, const char *name,
                              uint32_t meta_bytes, const tl_allocator_t *a,
                              tl_segfile_writer_t **out, tl_io_err_t *err);

/* Appends one blob of len bytes (<= TL_SEGFILE_BLOB_MAX) with its meta (meta_bytes bytes;
 * may be NULL when meta_bytes is 0). The first failure is sticky: finish then fails too. */
tl_status_t tl_segfile_add(tl_segfile_writer_t *w, const void *meta, const void *blob,
                           size_t len, tl_io_err_t *err);

/* Completes the file (index, trailer, fdatasync, rename, fsync dir) and frees w whatever the
 * outcome; on failure the tmp file is removed (best effort) and `name` is untouched. */
tl_status_t tl_segfile_finish(tl_segfile_writer_t *w, tl_io_err_t *err);

/* Abandons the file: closes and removes name.tmp, frees w. Accepts NULL. */
void tl_segfile_abort(tl_segfile_writer_t *w);

/* Opens and validates dir/name. use_mmap: map the file when the io offers it (blobs can then
 * be viewed without copying). */
tl_status_t tl_segfile_open(const tl_io_t *io, const char *dir, const char *name, bool use_mmap,
                            const tl_allocator_t *a, tl_segfile_t **out, tl_io_err_t *err);
void tl_segfile_close(tl_segfile_t *r); /* accepts NULL */

uint64_t tl_segfile_count(const tl_segfile_t *r);
uint64_t tl_segfile_size(const tl_segfile_t *r); /* bytes of the file */
uint32_t tl_segfile_meta_bytes(const tl_segfile_t *r);

/* Blob i's length and a pointer to its meta (in the index: valid until close). No I/O. */
uint64_t tl_segfile_blob_len(const tl_segfile_t *r, uint64_t i);
const uint8_t *tl_segfile_meta(const tl_segfile_t *r, uint64_t i);

/* Reads and checks blob i into buf (cap >= tl_segfile_blob_len, else TL_EINVAL). */
tl_status_t tl_segfile_read(const tl_segfile_t *r, uint64_t i, void *buf, size_t cap,
                            tl_io_err_t *err);

/* Checks blob i in the mapping and points *blob at it (valid until close). TL_EINVAL when the
 * file is not mapped. */
tl_status_t tl_segfile_view(const tl_segfile_t *r, uint64_t i, const uint8_t **blob,
                            tl_io_err_t *err);

#endif /* TL_DISK_SEGFILE_H */
