/*
 * checkpoint.c — writing a durable log's state to segment files and the manifest, so the WAL
 * can be truncated (dur.h says what each file holds).
 *
 * The job (one at a time: ckpt_mu; the caller holds no engine lock):
 *   1. under maint_mu, compact everything sealed into L1 and pack its pages, in slices with
 *      flushes between (compact_and_pin), and pin the manifest m (steps 2-5 run without
 *      maint_mu: other jobs, writes and reads go on; flushes between slices of writing); its
 *      l1_cover (S, P) says L1 holds exactly the calls up to S and the first P records of
 *      call S + 1 (run.h, tl_cover_t);
 *   2. make the WAL durable: m's tombstones may come from deletes after S, and the state on
 *      disk must be a prefix of the write calls, so every call up to m->seq is on disk first;
 *   3. write the L1 pages that are not on disk yet into one new segment file (finished: data,
 *      index, fdatasync, rename, directory fsync). A page is on disk when it carries a file id
 *      (pages are immutable and shared between versions, so most survive from the last
 *      checkpoint); pages of a file whose live share fell below half are written again, so
 *      deletes and rewrites give disk space back instead of pinning whole files;
 *   4. replace the manifest (tl_mfile_write: tmp file, fdatasync, rename, directory fsync):
 *      the commit point. Before it the old manifest and its files are intact; after it the
 *      new one is complete;
 *   5. truncate the WAL before seq S + 1 and delete the segment files no manifest names.
 * A crash anywhere leaves the old or the new manifest, each with every file it names, and a
 * WAL covering everything after its S; recovery deletes files written for a manifest that
 * never landed. Any I/O failure puts the log in its failed state (dur.h): nothing about the
 * files on disk is assumed after one.
 *
 * Cost: O(L1 pages) to plan, plus encoding and writing only the new pages: a log that grows
 * at its end writes each page about once (the newest window's pages again while it fills).
 */
#include <stdio.h>

#include "disk/le.h"
#include "disk/mfile.h"
#include "disk/segfile.h"
#include "durable/dur_int.h"
#include "jobs.h"
#include "vstore.h"

/* Pages packed, or written, between two chances to flush (~1.5-3 ms of encoding). */
#define CKPT_PACK_PAGES 32u

typedef struct plan {
    tl_dur_t *d;
    tl_manifest_t *m;
    tl_dm_t dm;
    tl_page_t **pages; /* dm.npages, borrowed from m */
    uint32_t *counts; /* records each page holds in its run */
    uint8_t *fresh; /* 1 = goes into the new file */
    uint32_t nfresh;
    uint64_t new_id;
    tl_dur_files_t keep; /* files the new manifest names */
    struct tl_vstore *vs;
    tl_vckpt_t *chunks; /* a bytes log's live chunks, pinned (vstore.h) */
    bool written; /* the manifest naming the fresh chunks is durable */
    uint32_t nchunks;
    uint8_t *cfresh; /* 1 = the chunk goes into the new file */
} plan_t;

/* Records p holds whole (a page persisted by id holds exactly that many). */
static uint32_t page_records(const tl_page_t *p) { return tl_page_packed(p) ? p->cap : p->n; }

static bool on_disk(const tl_page_t *p, uint32_t count) {
    return p->file_id != 0 && count == page_records(p);
}

/* Lists L1's pages; marks those not on disk, or in a file less than half alive, as fresh. */
static tl_status_t plan_pages(plan_t *pl) {
    tl_dur_t *d = pl->d;
    const tl_vec_t *l1 = pl->m->l1;
    uint64_t np = 0;
    for (uint32_t i = 0; i < tl_vec_len(l1); i++) np += tl_vec_run(l1, i)->npages;
    if (np > UINT32_MAX) return TL_EOVERFLOW;
    pl->dm.nruns = tl_vec_len(l1);
    pl->dm.npages = np;
    size_t n1 = np ? (size_t)np : 1;
    pl->pages = tl_mem_calloc(d->alloc, n1, sizeof *pl->pages);
    pl->counts = tl_mem_calloc(d->alloc, n1, sizeof *pl->counts);
    pl->fresh = tl_mem_calloc(d->alloc, n1, 1);
    pl->dm.runs = tl_mem_calloc(d->alloc, pl->dm.nruns ? pl->dm.nruns : 1, sizeof *pl->dm.runs);
    pl->dm.pages = tl_mem_calloc(d->alloc, n1, sizeof *pl->dm.pages);
    if (!pl->pages || !pl->counts || !pl->fresh || !pl->dm.runs || !pl->dm.pages) {
        return TL_ENOMEM;
    }
    /* live blobs per existing file: reuse the file table's blob counts as the denominator */
    uint64_t *live = tl_mem_calloc(d->alloc, d->files.n ? d->files.n : 1, sizeof *live);
    if (live == NULL) return TL_ENOMEM;
    uint64_t k = 0;
    for (uint32_t i = 0; i < tl_vec_len(l1); i++) {
        const tl_run_t *r = tl_vec_run(l1, i);
        /* The manifest is the state after the calls up to S exactly: a run stamped later
         * (wm > S) had every tombstone up to its wm applied, so S hides the same records. */
        uint64_t s = pl->m->l1_cover.seq;
        uint64_t wm = r->wm < s ? r->wm : s;
        pl->dm.runs[i] = (tl_dm_run_t){wm, r->npages, (uint32_t)k};
        for (uint32_t j = 0; j < r->npages; j++, k++) {
            pl->pages[k] = r->pages[j];
            pl->counts[k] = tl_run_page_count(r, j);
            tl_dur_file_t *f = NULL;
            if (on_disk(r->pages[j], pl->counts[k])) f = tl_dur_files_find(&d->files, r->pages[j]->file_id);
            if (f != NULL) live[f - d->files.v]++;
            else pl->fresh[k] = 1;
        }
    }
    /* A chunk is on disk when a blob holds all of it (a chunk that grew is written again,
     * whole: at most 1 MiB, and only the chunk taking appends grows). */
    for (uint32_t j = 0; j < pl->nchunks; j++) {
        const tl_vckpt_t *ch = &pl->chunks[j];
        tl_dur_file_t *f = NULL;
        if (ch->file_id != 0 && ch->disk_used == ch->used) f = tl_dur_files_find(&d->files, ch->file_id);
        if (f != NULL) live[f - d->files.v]++;
        else pl->cfresh[j] = 1;
    }
    for (uint64_t i = 0; i < np; i++) {
        if (pl->fresh[i]) continue;
        tl_dur_file_t *f = tl_dur_files_find(&d->files, pl->pages[i]->file_id);
        if (live[f - d->files.v] * 2 < f->blobs) pl->fresh[i] = 1; /* mostly dead: rewrite */
    }
    for (uint32_t j = 0; j < pl->nchunks; j++) {
        if (pl->cfresh[j]) continue;
        tl_dur_file_t *f = tl_dur_files_find(&d->files, pl->chunks[j].file_id);
        if (live[f - d->files.v] * 2 < f->blobs) pl->cfresh[j] = 1;
    }
    tl_mem_free(d->alloc, live, (d->files.n ? d->files.n : 1) * sizeof *live);
    for (uint64_t i = 0; i < np; i++) pl->nfresh += pl->fresh[i];
    for (uint32_t j = 0; j < pl->nchunks; j++) pl->nfresh += pl->cfresh[j];
    return TL_OK;
}

/* A bytes log: pins its live chunks for the plan (every value L1 names is in one). */
static tl_status_t plan_chunks(plan_t *pl, tl_timelog_t *tl) {
    pl->dm.nchunks = 0;
    pl->vs = tl->vs;
    if (tl->vs == NULL) return TL_OK;
    tl_status_t st = tl_vstore_ckpt_pin(tl->vs, pl->d->alloc, &pl->chunks, &pl->nchunks);
    if (st != TL_OK) return st;
    size_t n1 = pl->nchunks ? pl->nchunks : 1;
    pl->cfresh = tl_mem_calloc(pl->d->alloc, n1, 1);
    pl->dm.chunks = tl_mem_calloc(pl->d->alloc, n1, sizeof *pl->dm.chunks);
    if (pl->cfresh == NULL || pl->dm.chunks == NULL) return TL_ENOMEM;
    pl->dm.nchunks = pl->nchunks;
    return TL_OK;
}

/* Writes the fresh pages into segment file pl->new_id. blob_of[i] gets each one's index. */
static tl_status_t write_pages(plan_t *pl, tl_timelog_t *tl, uint64_t *bytes, tl_io_err_t *err) {
    tl_dur_t *d = pl->d;
    char name[TL_DUR_SEG_NAME_CAP];
    tl_dur_seg_name(name, pl->new_id);
    uint32_t flags = (tl->cfg.value_kind == TL_VALUES_F64 ? TL_PCODEC_F64 : 0) |
                     (tl->cfg.raw_pages ? TL_PCODEC_FORCE_RAW : TL_PCODEC_ALWAYS);
    size_t cap = tl_pcodec_bound(TL_PCODEC_N_MAX);
    uint8_t *scratch = tl_mem_alloc(d->alloc, cap);
    if (scratch == NULL) return TL_ENOMEM;
    tl_segfile_writer_t *w = NULL;
    tl_status_t st = tl_segfile_create(d->io, d->dir, name, TL_DUR_META_BYTES, d->alloc, &w, err);
    uint32_t blob = 0;
    for (uint64_t i = 0; i < pl->dm.npages && st == TL_OK; i++) {
        if (!pl->fresh[i]) continue;
        if (blob % CKPT_PACK_PAGES == CKPT_PACK_PAGES - 1) tl_flush_between(tl);
        tl_hold_serve(&tl->hold); /* a page's encode is tens of us: the writer's ask first */
        const tl_page_t *p = pl->pages[i];
        uint32_t n = pl->counts[i];
        const uint8_t *data;
        size_t len;
        if (tl_page_packed(p)) {
            data = tl_page_blob(p, &len); /* a packed page is persisted whole, as it is */
        } else {
            len = tl_pcodec_encode(p->ts, p->h, n, flags, scratch, cap);
            if (len == 0) {
                st = TL_EINTERNAL; /* ALWAYS / FORCE_RAW never refuse sorted records */
                break;
            }
            data = scratch;
        }
        uint8_t meta[TL_DUR_META_BYTES];
        int64_t first = 0, last = 0;
        tl_page_read(p, 0, 1, &first, NULL);
        tl_page_read(p, n - 1, n, &last, NULL);
        tl_le32_store(meta, n);
        tl_le32_store(meta + 4, 0);
        tl_le64_store(meta + 8, (uint64_t)first);
        tl_le64_store(meta + 16, (uint64_t)last);
        st = tl_segfile_add(w, meta, data, len, err);
        pl->dm.pages[i].blob = blob++;
    }
    for (uint32_t j = 0; j < pl->nchunks && st == TL_OK; j++) {
        if (!pl->cfresh[j]) continue;
        const tl_vckpt_t *ch = &pl->chunks[j];
        uint8_t meta[TL_DUR_META_BYTES]; /* u32 0 (a page never has 0 records), u32 id, u64 len */
        tl_le32_store(meta, 0);
        tl_le32_store(meta + 4, ch->id);
        tl_le64_store(meta + 8, ch->used);
        tl_le64_store(meta + 16, 0);
        st = tl_segfile_add(w, meta, ch->data, ch->used, err);
        pl->dm.chunks[j].blob = blob++;
    }
    tl_mem_free(d->alloc, scratch, cap);
    if (st == TL_OK) {
        st = tl_segfile_finish(w, err);
    } else {
        tl_segfile_abort(w);
    }
    if (st == TL_OK) {
        /* the finished file's size: the container's fixed parts plus every frame */
        tl_segfile_t *r = NULL;
        st = tl_segfile_open(d->io, d->dir, name, false, d->alloc, &r, err);
        if (st == TL_OK) *bytes = tl_segfile_size(r);
        if (st == TL_OK) atomic_fetch_add_explicit(&d->written, *bytes, memory_order_relaxed);
        tl_segfile_close(r);
    }
    return st;
}

/* Fills the manifest's file list and page references; the files kept go into pl->keep. */
static tl_status_t name_files(plan_t *pl, uint64_t new_bytes) {
    tl_dur_t *d = pl->d;
    tl_status_t st = TL_OK;
    for (uint64_t i = 0; i < pl->dm.npages && st == TL_OK; i++) {
        if (pl->fresh[i]) continue;
        const tl_dur_file_t *f = tl_dur_files_find(&d->files, pl->pages[i]->file_id);
        st = tl_dur_files_add(&pl->keep, d->alloc, f->id, f->blobs, f->bytes);
    }
    for (uint32_t j = 0; j < pl->nchunks && st == TL_OK; j++) {
        if (pl->cfresh[j]) continue;
        const tl_dur_file_t *f = tl_dur_files_find(&d->files, pl->chunks[j].file_id);
        st = tl_dur_files_add(&pl->keep, d->alloc, f->id, f->blobs, f->bytes);
    }
    if (st == TL_OK && pl->nfresh > 0) {
        st = tl_dur_files_add(&pl->keep, d->alloc, pl->new_id, pl->nfresh, new_bytes);
    }
    if (st != TL_OK) return st;
    pl->dm.files.v = tl_mem_calloc(d->alloc, pl->keep.n ? pl->keep.n : 1, sizeof(uint64_t));
    if (pl->dm.files.v == NULL) return TL_ENOMEM;
    pl->dm.files.n = pl->dm.files.cap = pl->keep.n;
    for (uint32_t i = 0; i < pl->keep.n; i++) pl->dm.files.v[i] = pl->keep.v[i].id;
    for (uint64_t i = 0; i < pl->dm.npages; i++) {
        uint64_t id = pl->fresh[i] ? pl->new_id : pl->pages[i]->file_id;
        pl->dm.pages[i].file = (uint32_t)(tl_dur_files_find(&pl->keep, id) - pl->keep.v);
        if (!pl->fresh[i]) pl->dm.pages[i].blob = pl->pages[i]->blob;
    }
    for (uint32_t j = 0; j < pl->nchunks; j++) {
        const tl_vckpt_t *ch = &pl->chunks[j];
        uint64_t id = pl->cfresh[j] ? pl->new_id : ch->file_id;
        pl->dm.chunks[j].id = ch->id;
        pl->dm.chunks[j].file = (uint32_t)(tl_dur_files_find(&pl->keep, id) - pl->keep.v);
        if (!pl->cfresh[j]) pl->dm.chunks[j].blob = ch->blob;
    }
    return TL_OK;
}

/* The manifest describes the state after the write calls up to S = l1_cover.seq (and the
 * records of call S + 1 that L1 holds, an append), no more: its seq is S, its runs' watermarks are capped at S and it keeps only the tombstone fragments with
 * seq <= S. Deletes after S are in the WAL, and replaying them rebuilds what was dropped here
 * (a fragment's seq is the newest delete over it, and that newer delete is replayed). So the
 * replay after it starts from exactly the state its calls built. */
static tl_status_t write_manifest(plan_t *pl, tl_timelog_t *tl, tl_io_err_t *err) {
    tl_dm_t *dm = &pl->dm;
    uint64_t s = pl->m->l1_cover.seq;
    dm->seq = s;
    dm->part = pl->m->l1_cover.part;
    dm->next_file = pl->d->next_file;
    dm->time_unit = (uint32_t)tl->cfg.time_unit;
    dm->value_kind = tl->cfg.value_kind;
    dm->window_size = tl->cfg.window_size;
    dm->window_origin = tl->cfg.window_origin;
    const tl_tombs_t *t = pl->m->tombs;
    uint32_t nt = t != NULL ? t->n : 0;
    dm->tombs = tl_mem_calloc(pl->d->alloc, nt ? nt : 1, sizeof *dm->tombs);
    if (dm->tombs == NULL) return TL_ENOMEM;
    dm->ntombs = 0;
    for (uint32_t i = 0; i < nt; i++) {
        if (t->v[i].seq <= s) dm->tombs[dm->ntombs++] = t->v[i];
    }
    size_t len = tl_dm_bytes(dm);
    uint8_t *buf = tl_mem_alloc(pl->d->alloc, len);
    tl_status_t st = TL_ENOMEM;
    if (buf != NULL) {
        tl_dm_encode(dm, buf);
        st = tl_mfile_write(pl->d->io, pl->d->dir, TL_DUR_MANIFEST, buf, len, err);
        atomic_fetch_add_explicit(&pl->d->written, len + TL_MFILE_HEADER_BYTES,
                                  memory_order_relaxed);
        tl_mem_free(pl->d->alloc, buf, len);
    }
    tl_mem_free(pl->d->alloc, dm->tombs, (nt ? nt : 1) * sizeof *dm->tombs);
    dm->tombs = NULL;
    dm->ntombs = 0;
    return st;
}

/* Deletes the files the old manifest named and the new one does not. */
static tl_status_t drop_files(plan_t *pl, tl_io_err_t *err) {
    tl_dur_t *d = pl->d;
    bool any = false;
    tl_status_t st = TL_OK;
    for (uint32_t i = 0; i < d->files.n && st == TL_OK; i++) {
        if (tl_dur_files_find(&pl->keep, d->files.v[i].id) != NULL) continue;
        char name[TL_DUR_SEG_NAME_CAP], path[TL_IO_PATH_CAP];
        tl_dur_seg_name(name, d->files.v[i].id);
        st = tl_io_join(path, d->dir, name, err);
        if (st == TL_OK) st = tl_io_remove(d->io, path, err);
        any = true;
    }
    if (st == TL_OK && any) st = tl_io_sync_dir(d->io, d->dir, err);
    return st;
}

static void plan_free(plan_t *pl) {
    const tl_allocator_t *a = pl->d->alloc;
    size_t n1 = pl->dm.npages ? (size_t)pl->dm.npages : 1;
    tl_mem_free(a, pl->pages, n1 * sizeof *pl->pages);
    tl_mem_free(a, pl->counts, n1 * sizeof *pl->counts);
    tl_mem_free(a, pl->fresh, n1);
    tl_mem_free(a, pl->dm.runs, (pl->dm.nruns ? pl->dm.nruns : 1) * sizeof *pl->dm.runs);
    tl_mem_free(a, pl->dm.pages, n1 * sizeof *pl->dm.pages);
    tl_mem_free(a, pl->dm.files.v, (pl->dm.files.cap ? pl->dm.files.cap : 1) * sizeof(uint64_t));
    tl_dur_files_free(&pl->keep, a);
    size_t c1 = pl->nchunks ? pl->nchunks : 1;
    if (pl->chunks != NULL) tl_vstore_ckpt_unpin(pl->vs, a, pl->chunks, pl->nchunks, pl->written);
    tl_mem_free(a, pl->cfresh, c1);
    tl_mem_free(a, pl->dm.chunks, c1 * sizeof *pl->dm.chunks);
    tl_manifest_unref(pl->m);
}

bool tl_dur_checkpoint_wanted(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    if (d == NULL || atomic_load_explicit(&d->failed, memory_order_acquire) != TL_OK) return false;
    return atomic_load_explicit(&d->logged, memory_order_relaxed) -
               atomic_load_explicit(&d->logged_ckpt, memory_order_relaxed) >=
           d->checkpoint_bytes;
}

bool tl_dur_checkpoint_idle(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    if (d == NULL || atomic_load_explicit(&d->failed, memory_order_acquire) != TL_OK) return false;
    return atomic_load_explicit(&d->logged, memory_order_relaxed) !=
           atomic_load_explicit(&d->logged_ckpt, memory_order_relaxed);
}

/* Step 1: compact everything sealed, pack the L1 pages, pin. Compaction and each slice of
 * packing hold maint_mu (no other job runs meanwhile); between slices a waiting memtable is
 * flushed. The checkpoint runs on the worker, the only thread that flushes: packing a whole
 * checkpoint's pages in one go (64 MiB of WAL: ~1,000 pages, 40-90 ms) left the writer
 * waiting out its backpressure (20 ms) behind it. Flushes between slices leave L1 and so
 * its cover as the compaction left them; another thread's compaction in between (a
 * tl_checkpoint call beside the worker) only moves the cover pinned at the end forward. */
static tl_status_t compact_and_pin(tl_timelog_t *tl, tl_manifest_t **m) {
    pthread_mutex_lock(&tl->maint_mu);
    tl_status_t st = tl_compact_sealed_job(tl);
    /* Bounded: beside a worker that compacts meanwhile (a tl_checkpoint call), new raw pages
     * could keep coming; what a last slice leaves raw is encoded while written. */
    uint64_t slices = 2;
    tl_manifest_t *cur = tl_pin(tl);
    for (uint32_t i = 0; i < tl_vec_len(cur->l1); i++) {
        slices += tl_vec_run(cur->l1, i)->npages / CKPT_PACK_PAGES;
    }
    tl_manifest_unref(cur);
    pthread_mutex_unlock(&tl->maint_mu);
    bool more = st == TL_OK;
    for (; more && slices > 0; slices--) {
        bool did = false;
        pthread_mutex_lock(&tl->maint_mu);
        /* Best effort, as in tl_compact_all_job: ENOMEM leaves pages raw (written raw). */
        if (tl_pack_job(tl, 0, CKPT_PACK_PAGES, &did, &more) != TL_OK) more = false;
        pthread_mutex_unlock(&tl->maint_mu);
        tl_flush_between(tl);
    }
    pthread_mutex_lock(&tl->maint_mu);
    if (st == TL_OK) (void)tl_relocate_job(tl);
    *m = st == TL_OK ? tl_pin(tl) : NULL;
    pthread_mutex_unlock(&tl->maint_mu);
    return st;
}

/* After the manifest is durable: the pages written now are on disk where it says. Under
 * maint_mu, because relocation (a job) copies pages with their disk position. */
static void mark_written(tl_timelog_t *tl, plan_t *pl) {
    pthread_mutex_lock(&tl->maint_mu);
    for (uint64_t i = 0; i < pl->dm.npages; i++) {
        if (!pl->fresh[i]) continue;
        pl->pages[i]->file_id = pl->new_id;
        pl->pages[i]->blob = pl->dm.pages[i].blob;
    }
    pthread_mutex_unlock(&tl->maint_mu);
    for (uint32_t j = 0; j < pl->nchunks; j++) { /* set in the store when unpinned */
        if (!pl->cfresh[j]) continue;
        pl->chunks[j].file_id = pl->new_id;
        pl->chunks[j].blob = pl->dm.chunks[j].blob;
        pl->chunks[j].disk_used = pl->chunks[j].used;
    }
}

tl_status_t tl_dur_checkpoint_job(tl_timelog_t *tl) {
    tl_dur_t *d = tl->dur;
    if (d == NULL) return TL_OK;
    pthread_mutex_lock(&d->ckpt_mu);
    tl_status_t st = (tl_status_t)atomic_load_explicit(&d->failed, memory_order_acquire);
    plan_t pl;
    memset(&pl, 0, sizeof pl);
    pl.d = d;
    if (st == TL_OK) st = compact_and_pin(tl, &pl.m);
    if (st != TL_OK) {
        pthread_mutex_unlock(&d->ckpt_mu);
        return st;
    }
    /* From here on no engine lock is held: writes, reads and the other maintenance jobs go on
     * while the files are written (ingest does not stall behind a checkpoint). */
    tl_io_err_t err;
    tl_io_err_clear(&err);
    bool io = false; /* whether st came from the disk (then the log fails) */
    uint64_t logged = atomic_load_explicit(&d->logged, memory_order_relaxed);
    st = tl_dur_sync(tl); /* step 2: fails the log itself on error */
    if (st == TL_OK) st = plan_chunks(&pl, tl);
    if (st == TL_OK) st = plan_pages(&pl);
    uint64_t new_bytes = 0;
    if (st == TL_OK && pl.nfresh > 0) {
        pl.new_id = d->next_file++;
        st = write_pages(&pl, tl, &new_bytes, &err);
        io = st != TL_OK && st != TL_ENOMEM && st != TL_EINTERNAL;
    }
    if (st == TL_OK) st = name_files(&pl, new_bytes);
    if (st == TL_OK) {
        tl_flush_between(tl); /* the file's fdatasync took milliseconds */
        st = write_manifest(&pl, tl, &err);
        io = st != TL_OK && st != TL_ENOMEM;
    }
    if (st == TL_OK) {
        mark_written(tl, &pl);
        pl.written = true;
        d->ckpt_seq = pl.m->l1_cover.seq;
        d->ckpt_part = pl.m->l1_cover.part;
        tl_flush_between(tl); /* before the unlinks: a 64 MiB segment's takes ~10 ms */
        st = tl_wal_truncate(d->wal, (d->ckpt_seq + 1) << TL_WREC_CHUNK_BITS, NULL, &err);
        if (st == TL_OK) st = drop_files(&pl, &err);
        io = st != TL_OK;
    }
    if (st == TL_OK) {
        uint64_t total = 0;
        for (uint32_t i = 0; i < pl.keep.n; i++) total += pl.keep.v[i].bytes;
        tl_dur_files_t old = d->files;
        d->files = pl.keep;
        pl.keep = old; /* freed with the plan */
        atomic_store_explicit(&d->seg_bytes, total, memory_order_relaxed);
        atomic_store_explicit(&d->logged_ckpt, logged, memory_order_relaxed);
        atomic_fetch_add_explicit(&d->checkpoints, 1, memory_order_relaxed);
    }
    plan_free(&pl);
    pthread_mutex_unlock(&d->ckpt_mu);
    if (io) return tl_dur_fail(tl, st, &err);
    return st;
}
