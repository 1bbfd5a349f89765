/*
 * txn.h — the write transaction over the memtable generation, and the seal.
 *
 * Write calls (write.c) and the seal (tl_seal for the writer, tl_seal_in for the worker's idle
 * seal) run as small transactions:
 *   - every call takes one sequence number (a batch shares it);
 *   - the common case touches writer-private state only (records copied into the active page
 *     or the head buffer) and ends with one release store of the packed (act_n, head_n) word
 *     (tl_publish_writes);
 *   - a structural change (first head buffer, head -> run, seal, tombstone) takes state_mu and
 *     keeps it until the call ends (tl_txn_struct); the first one saves the generation
 *     pointers and the manifest (with references). On ENOMEM the call restores the saved
 *     state (tl_txn_rollback): nothing was published to anyone (readers and maintenance need
 *     state_mu to look), so "nothing inserted" holds for every write, batches included, and
 *     a batch is atomic for readers.
 */
#ifndef TL_TXN_H
#define TL_TXN_H

#include "timelog_int.h"

typedef struct txn {
    tl_timelog_t *tl;
    bool locked, saved, busy;
    bool in_append; /* an append call: a seal splits its records at `pos` */
    uint64_t pos; /* records of this call stored before the next possible seal */
    uint64_t seq;
    uint32_t act_n, head_n;
    int64_t last, ooo_min;
    tl_active_t *act;
    tl_head_t *head;
    tl_vec_t *head_runs;
    tl_manifest_t *man;
} txn_t;

void tl_txn_begin(txn_t *x, tl_timelog_t *tl);
/* Enters the structural phase: state_mu held until the end of the call, state saved once. */
void tl_txn_struct(txn_t *x);
void tl_txn_commit(txn_t *x);
void tl_txn_rollback(txn_t *x);
/* Makes the writer's records and sequence visible to readers (snapshots, stats). */
void tl_publish_writes(tl_timelog_t *tl);
/* Replaces tl->man (caller in the structural phase). */
void tl_txn_set_manifest(tl_timelog_t *tl, tl_manifest_t *m);
/* Seals the generation into a memrun with watermark wm (no-op when empty); x->busy when the
 * queue of sealed memtables was full. On an error the caller rolls the call back, which also
 * gives a sealed directory its pages back (tl_active_unseal). */
tl_status_t tl_txn_seal(txn_t *x, uint64_t wm);

/* ---- the writer section (txn.c) ----
 *
 * Idle maintenance (maint.c) seals the memtable from the worker thread when no write call has
 * run for idle_ms. The memtable's writer-private state (counts, cursor, last ts) may then only
 * change under exclusion from the writer, which must cost the writer next to nothing: a write
 * call is a handful of ns. So the two meet Dekker-style: the writer marks itself inside (odd
 * wr_seq, a sequentially consistent store) and then reads idle_req; the worker raises idle_req
 * and then reads wr_seq. In the single order of those four operations at least one side sees
 * the other: the worker backs off when the writer is inside (or was since it last looked), and
 * a writer that finds idle_req raised steps out and waits the seal out (microseconds).
 * The release store that ends a call, read with acquire by the worker, makes everything the
 * writer did visible to it, and the worker's release of idle_req does the same the other way. */
void tl_wr_wait(tl_timelog_t *tl); /* a writer that found idle_req raised (txn.c) */
static inline void tl_wr_enter(tl_timelog_t *tl) {
    uint64_t s = atomic_load_explicit(&tl->wr_seq, memory_order_relaxed);
    atomic_store_explicit(&tl->wr_seq, s + 1, memory_order_seq_cst);
    if (TL_UNLIKELY(atomic_load_explicit(&tl->idle_req, memory_order_seq_cst) != 0)) {
        tl_wr_wait(tl);
    }
}
static inline void tl_wr_exit(tl_timelog_t *tl) {
    uint64_t s = atomic_load_explicit(&tl->wr_seq, memory_order_relaxed);
    atomic_store_explicit(&tl->wr_seq, s + 1, memory_order_release);
}

/* Writer: seals the current generation (no-op when empty). *busy set when the queue was full.
 * tl_seal opens a writer section; tl_seal_in is its body, for the worker's idle seal, which
 * holds the writer out by other means (idle_req). */
tl_status_t tl_seal(tl_timelog_t *tl, bool *busy);
tl_status_t tl_seal_in(tl_timelog_t *tl, bool *busy);

#endif /* TL_TXN_H */
