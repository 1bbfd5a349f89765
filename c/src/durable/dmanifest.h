/*
 * dmanifest.h — the engine's manifest payload (inside the disk/mfile.h container): which L1
 * runs exist, page by page, where each page is (segment file, blob), the tombstones, and what
 * the checkpoint covers. Byte layout: docs/format.md, "Manifest payload".
 *
 * Decoding validates everything that can be checked without the segment files: lengths,
 * counts against the payload size, ids ascending, tombstones sorted and disjoint, page
 * references in range, watermarks and tombstone seqs not above seq. A failure names the byte
 * offset of the field inside the payload.
 */
#ifndef TL_DMANIFEST_H
#define TL_DMANIFEST_H

#include "tombs.h"

#define TL_DM_FORMAT 1u
#define TL_DM_HEADER_BYTES 80u

/* A growable set of segment file ids (sorted ascending when it comes from a manifest). */
typedef struct tl_dm_ids {
    uint64_t *v;
    uint32_t n, cap;
} tl_dm_ids_t;

typedef tl_tomb_t tl_dm_tomb_t; /* {lo, hi (closed), seq}: the engine's own fragments */

typedef struct tl_dm_run {
    uint64_t wm;
    uint32_t npages;
    uint32_t first; /* index of its first page in pages[] */
} tl_dm_run_t;

typedef struct tl_dm_page {
    uint32_t file; /* index into files */
    uint32_t blob; /* blob index inside that segment file */
} tl_dm_page_t;

/* A byte-value chunk (vstore.h) stored as one blob of a segment file: its first `len` bytes
 * (the blob's length, checked at load). */
typedef struct tl_dm_chunk {
    uint32_t id;
    uint32_t file; /* index into files */
    uint32_t blob;
} tl_dm_chunk_t;

/* A decoded (or to-be-encoded) manifest. Arrays are owned by the struct after decode. */
typedef struct tl_dm {
    uint64_t seq; /* S: the state is that after every write call with seq <= S ... */
    uint64_t part; /* ... plus the first `part` records of call S + 1 (a seal inside it) */
    uint64_t next_file;
    uint32_t time_unit, value_kind;
    int64_t window_size, window_origin;
    tl_dm_ids_t files;
    tl_dm_tomb_t *tombs;
    uint32_t ntombs;
    tl_dm_run_t *runs;
    uint32_t nruns;
    tl_dm_page_t *pages;
    uint64_t npages;
    tl_dm_chunk_t *chunks; /* value kind bytes: ids ascending */
    uint32_t nchunks;
} tl_dm_t;

/* Bytes tl_dm_encode writes for m. */
size_t tl_dm_bytes(const tl_dm_t *m);
/* Writes m into out[tl_dm_bytes(m)]. m must satisfy what decode checks. */
void tl_dm_encode(const tl_dm_t *m, uint8_t *out);
/* Decodes and validates payload[0, len) into *m (arrays from a). OK, ENOMEM, or ECORRUPT with
 * *bad_off / *why telling where and what. On failure *m holds nothing to free. */
tl_status_t tl_dm_decode(const uint8_t *payload, size_t len, const tl_allocator_t *a, tl_dm_t *m,
                         uint64_t *bad_off, const char **why);
/* Frees what decode allocated (accepts a zeroed struct). */
void tl_dm_free(tl_dm_t *m, const tl_allocator_t *a);

/* The id set: add keeps it sorted and unique; has is a binary search. ENOMEM. */
tl_status_t tl_dm_ids_add(tl_dm_ids_t *s, const tl_allocator_t *a, uint64_t id);
bool tl_dm_ids_has(const tl_dm_ids_t *s, uint64_t id);
void tl_dm_ids_free(tl_dm_ids_t *s, const tl_allocator_t *a);

#endif /* TL_DMANIFEST_H */
