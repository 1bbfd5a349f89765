/*
 * vstore.h — the value store of a TL_VALUES_BYTES log: variable-length values kept by the
 * engine, each record's handle naming its value.
 *
 * Values are appended to chunks of 1 MiB; a value of 256 KiB or more gets a chunk of its own
 * size (so it never leaves the chunk taking the small ones half empty); a handle is
 * chunk id << 32 | offset of the value's entry (u32 length, then the bytes). Chunk ids only
 * grow, so a handle to a freed chunk is recognised, never read. A chunk counts its live
 * values and is freed when the last one is released and it no longer takes appends.
 *
 * When a value may be released. A record dropped by flush or compaction (covered by a
 * tombstone) is absent from the version published with the drop and from every later one,
 * but a snapshot pinning an older version can still yield it. So every manifest of the log is
 * tracked with an epoch (its creation order), and a drop is retired with the newest epoch: it
 * is released once every manifest older than that epoch has been freed, which happens when
 * the last snapshot, iterator or job pinning it lets go. Retired drops wait in a FIFO of
 * (epoch, chunk, count, bytes) entries, one per run of drops in the same chunk.
 *
 * Locking: one mutex guards chunks, the manifest list and the FIFO. Appends (writer), reads
 * (any thread: one lock per batch, copying out under it), manifest creation and the last
 * unref of a manifest (any thread) take it; nothing else is called while it is held except
 * the allocator.
 */
#ifndef TL_VSTORE_H
#define TL_VSTORE_H

#include "tl_common.h"

typedef struct tl_vstore tl_vstore_t;
struct tl_manifest;

/* Where appends stand, to undo a batch that was not inserted (tl_vstore_rollback). */
typedef struct tl_vmark {
    uint64_t next_id; /* the id the next new chunk gets */
    bool had_cur; /* chunk `cur` took the appends of ordinary values */
    uint64_t cur;
    uint32_t used; /* its bytes used */
    uint64_t live, live_bytes, values; /* its live values; the store's live bytes, values */
} tl_vmark_t;

tl_status_t tl_vstore_create(const tl_allocator_t *a, tl_vstore_t **out);
/* Frees every chunk (the log is gone: no manifest is left). Accepts NULL. */
void tl_vstore_destroy(tl_vstore_t *vs);

/* Stores n values (value i is data[ends[i-1] .. ends[i]), ends ascending, ends[-1] = 0) and
 * writes their handles. ENOMEM stores nothing; *mark receives the state before the call. */
tl_status_t tl_vstore_append(tl_vstore_t *vs, const uint8_t *data, const uint32_t *ends,
                             uint32_t n, uint64_t *handles, tl_vmark_t *mark);
/* Undoes the appends made since *mark (the batch holding them was not inserted). */
void tl_vstore_rollback(tl_vstore_t *vs, const tl_vmark_t *mark);

/* Copies the values of handles h[0, n) into buf back to back, ends[i] = end of value i.
 * *need = the bytes they take. EOVERFLOW (nothing copied) when that exceeds cap or 2^32 - 1;
 * EINVAL for a handle that names no stored value (a freed chunk, an offset out of bounds). */
tl_status_t tl_vstore_read(tl_vstore_t *vs, const uint64_t *h, uint32_t n, uint8_t *buf,
                           uint64_t cap, uint32_t *ends, uint64_t *need);

/* Retires the values of dropped records (see the header): released once no manifest older
 * than the newest one is left. */
void tl_vstore_retire(tl_vstore_t *vs, const uint64_t *h, size_t n);

/* Manifest tracking (manifest.c): track gives m the next epoch; untrack (its last unref)
 * releases what no older manifest still pins. */
void tl_vstore_track(tl_vstore_t *vs, struct tl_manifest *m);
void tl_vstore_untrack(tl_vstore_t *vs, struct tl_manifest *m);

/* ---- durable logs ----
 * The WAL logs each call's new value bytes as (chunk, offset, bytes) ranges before its
 * records, and checkpoints write whole chunks into segment files, so handles keep naming the
 * same bytes across a restart. Recovery puts chunks back at their ids and offsets, counts the
 * references of every record it loads or replays (ref), then frees chunks nothing names
 * (settle); appends after it start a new chunk. */

/* Bytes of chunk `id` written by a batch: [off, off + len), at data. */
typedef struct tl_vrange {
    uint32_t id, off, len;
    const uint8_t *data;
} tl_vrange_t;
/* The ranges the appends since *mark wrote (writer thread, right after the append: the data
 * stays put while the call runs). EOVERFLOW when more than cap. */
tl_status_t tl_vstore_ranges(tl_vstore_t *vs, const tl_vmark_t *mark, tl_vrange_t *out,
                             uint32_t cap, uint32_t *n);

/* Recovery: bytes at an exact position of chunk id (made when missing: 1 MiB, or the extent
 * when larger). ECORRUPT when they do not fit the chunk, ENOMEM, EOVERFLOW. */
tl_status_t tl_vstore_put(tl_vstore_t *vs, uint32_t id, uint32_t off, const uint8_t *data,
                          uint32_t len);
/* Recovery: where chunk id's first `used` bytes are on disk (a checkpoint reuses them). */
void tl_vstore_set_disk(tl_vstore_t *vs, uint32_t id, uint64_t file_id, uint32_t blob,
                        uint32_t used);
/* Recovery: counts one reference per handle; ECORRUPT when one names no stored value. */
tl_status_t tl_vstore_ref(tl_vstore_t *vs, const uint64_t *h, size_t n);
/* Recovery done: frees the chunks no record names. */
void tl_vstore_settle(tl_vstore_t *vs);

/* A checkpoint's view of one live chunk, pinned (not freed) until unpinned. */
typedef struct tl_vckpt {
    uint32_t id, used;
    const uint8_t *data; /* [0, used) is immutable */
    uint64_t file_id; /* where it is on disk (0: nowhere), how much of it */
    uint32_t blob, disk_used;
} tl_vckpt_t;
/* Pins every live chunk; *out (from a) lists them in id order. ENOMEM. */
tl_status_t tl_vstore_ckpt_pin(tl_vstore_t *vs, const tl_allocator_t *a, tl_vckpt_t **out,
                               uint32_t *n);
/* Unpins and frees the list; written: the entries' disk positions are now on disk. */
void tl_vstore_ckpt_unpin(tl_vstore_t *vs, const tl_allocator_t *a, tl_vckpt_t *v, uint32_t n,
                          bool written);

typedef struct tl_vstats {
    uint64_t values; /* live values (stored, not yet released) */
    uint64_t live_bytes; /* their bytes, entry headers included */
    uint64_t held_bytes; /* bytes of the chunks allocated */
    uint64_t retired; /* values dropped but still pinned by an older version */
} tl_vstats_t;
void tl_vstore_stats(tl_vstore_t *vs, tl_vstats_t *out);

#endif
