/*
 * recover.c — opening a durable log's directory: manifest -> segment files -> L1 runs and
 * tombstones -> WAL replay (dur.h says what each holds).
 *
 * Order and why:
 *   1. create the directory if missing (and fsync its parent, so that the directory itself
 *      survives a power loss), take its lock (ELOCKED when held), remove *.tmp left by an
 *      interrupted write;
 *   2. read the manifest (none: a log never checkpointed); check it was written with this
 *      log's time unit, value kind and window grid (they shape the stored data);
 *   3. open every segment file it names (each validates its trailer and index), load each
 *      page blob, validate it fully (tl_pcodec_validate: a corrupt blob is refused, never
 *      decoded), and rebuild the runs, checking that their pages ascend and that each run lies
 *      inside one L1 window and after the one before;
 *   4. delete segment files the manifest does not name (a checkpoint that crashed before its
 *      manifest was durable);
 *   5. open the WAL with replay from the record after the checkpoint, replaying each write call
 *      through the engine's own write path (logging off): the state rebuilt is the same as the
 *      one the calls built. A call whose chunks do not all survive was never acknowledged and
 *      is skipped. WAL damage that is not a torn tail fails the open (TL_ECORRUPT naming file
 *      and offset) unless cfg.repair, which keeps the longest consistent prefix.
 * Damage in the manifest or in a segment file always fails the open: the state they describe
 * cannot be rebuilt as a prefix of the write calls without them.
 */
#include <errno.h>
#include <stdio.h>

#include "codec/pcodec.h"
#include "disk/le.h"
#include "disk/mfile.h"
#include "disk/segfile.h"
#include "durable/dur_int.h"
#include "jobs.h"
#include "vstore.h"

#define MANIFEST_MAX ((uint64_t)1 << 30)
/* The WAL's buffers: 8 MiB in all, cut in four so that a writer outrunning the syncer (busy
 * in an fdatasync) queues three full buffers before it writes one out itself. */
#define WAL_BUFFER (2u << 20)
#define WAL_BUFFERS 4u

typedef struct rec_ctx {
    tl_timelog_t *tl;
    tl_dur_t *d;
    char *msg;
    size_t cap;
    tl_dm_t dm;
    tl_page_t **pages; /* dm.npages */
    /* replay: the write call being reassembled from its chunks */
    uint64_t cur_eseq;
    uint32_t next_chunk;
    int64_t *pts;
    uint64_t *ph;
    size_t pn, pcap;
    bool in_call; /* a call's chunks are arriving (VALUES, then APPEND) */
    uint64_t replayed;
    tl_dur_apply_fn apply;
    bool seen; /* a record was delivered; first_call = the first call seq it holds */
    uint64_t first_call;
} rec_ctx_t;

static tl_status_t fail_io(rec_ctx_t *c, tl_status_t st, const tl_io_err_t *err) {
    tl_io_err_format(err, c->msg, c->cap);
    return st;
}

static tl_status_t fail_msg(rec_ctx_t *c, tl_status_t st, const char *what) {
    snprintf(c->msg, c->cap, "%s: %s", c->d->dir, what);
    return st;
}

/* ---- step 1: directory ---- */

typedef struct scan {
    rec_ctx_t *c;
    tl_dm_ids_t segs; /* segment files present */
    bool tmp_removed;
    tl_status_t st;
    tl_io_err_t err;
} scan_t;

static int scan_entry(void *arg, const char *name) {
    scan_t *s = arg;
    uint64_t id;
    size_t n = strlen(name);
    if (tl_dur_seg_parse(name, &id)) {
        s->st = tl_dm_ids_add(&s->segs, s->c->d->alloc, id);
    } else if (n > 4 && strcmp(name + n - 4, ".tmp") == 0) {
        char path[TL_IO_PATH_CAP];
        s->st = tl_io_join(path, s->c->d->dir, name, &s->err);
        if (s->st == TL_OK) s->st = tl_io_unlink(s->c->d->io, path, &s->err);
        s->tmp_removed = true;
    }
    return s->st == TL_OK ? 0 : -EIO;
}

static tl_status_t open_dir(rec_ctx_t *c, scan_t *s) {
    tl_dur_t *d = c->d;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    /* Durable mkdir: without an fsync of the parent, a power loss can take the whole new
     * directory (and every write acknowledged in it) away. */
    tl_status_t st = tl_io_mkdir_durable(d->io, d->dir, &err);
    if (st == TL_OK) st = tl_io_lock(d->io, d->dir, &d->lock, &err);
    if (st != TL_OK) return fail_io(c, st, &err);
    s->c = c;
    st = tl_io_list(d->io, d->dir, scan_entry, s, &err);
    if (s->st != TL_OK) return fail_io(c, s->st, &s->err);
    if (st == TL_OK && s->tmp_removed) st = tl_io_sync_dir(d->io, d->dir, &err);
    return st == TL_OK ? TL_OK : fail_io(c, st, &err);
}

/* ---- step 2: manifest ---- */

static tl_status_t check_config(rec_ctx_t *c) {
    const tl_config_t *cfg = &c->tl->cfg;
    const tl_dm_t *m = &c->dm;
    if (m->time_unit != (uint32_t)cfg->time_unit || m->value_kind != cfg->value_kind ||
        m->window_size != cfg->window_size || m->window_origin != cfg->window_origin) {
        static const char *const units[] = {"s", "ms", "us", "ns"};
        static const char *const kinds[] = {"handles", "f64", "bytes"};
        snprintf(c->msg, c->cap,
                 "%s was written with time unit %s, values %s, window size %lld at origin %lld; "
                 "this open asks for %s, %s, %lld at %lld: open it with the same settings",
                 c->d->dir, units[m->time_unit], kinds[m->value_kind],
                 (long long)m->window_size, (long long)m->window_origin,
                 units[cfg->time_unit], kinds[cfg->value_kind], (long long)cfg->window_size,
                 (long long)cfg->window_origin);
        return TL_EINVAL;
    }
    return TL_OK;
}

static tl_status_t read_manifest(rec_ctx_t *c, bool *found) {
    tl_dur_t *d = c->d;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    uint8_t *payload = NULL;
    size_t len = 0;
    *found = false;
    tl_status_t st = tl_mfile_read(d->io, d->dir, TL_DUR_MANIFEST, d->alloc, MANIFEST_MAX,
                                   &payload, &len, &err);
    if (st == TL_EOF) return TL_OK;
    if (st != TL_OK) return fail_io(c, st, &err);
    uint64_t off = 0;
    const char *why = NULL;
    st = tl_dm_decode(payload, len, d->alloc, &c->dm, &off, &why);
    tl_mem_free(d->alloc, payload, len ? len : 1);
    if (st == TL_ECORRUPT) {
        snprintf(c->msg, c->cap, "%s/%s: corrupt at offset %llu: %s", d->dir, TL_DUR_MANIFEST,
                 (unsigned long long)(off + TL_MFILE_HEADER_BYTES), why);
        return st;
    }
    if (st != TL_OK) return fail_msg(c, st, "out of memory reading the manifest");
    *found = true;
    return check_config(c);
}

/* A directory without a manifest gets an empty one at once: it records the settings that shape
 * the stored data (time unit, value kind, window grid), so that a reopen with others is
 * refused before the WAL alone is misread. */
static tl_status_t write_initial(rec_ctx_t *c) {
    const tl_config_t *cfg = &c->tl->cfg;
    tl_dm_t dm;
    memset(&dm, 0, sizeof dm);
    dm.next_file = 1;
    dm.time_unit = (uint32_t)cfg->time_unit;
    dm.value_kind = cfg->value_kind;
    dm.window_size = cfg->window_size;
    dm.window_origin = cfg->window_origin;
    uint8_t buf[TL_DM_HEADER_BYTES];
    tl_dm_encode(&dm, buf);
    tl_io_err_t err;
    tl_io_err_clear(&err);
    tl_status_t st = tl_mfile_write(c->d->io, c->d->dir, TL_DUR_MANIFEST, buf, sizeof buf, &err);
    return st == TL_OK ? TL_OK : fail_io(c, st, &err);
}

/* ---- step 3: segment files -> pages -> runs and tombstones ---- */

/* Puts back the byte-value chunks stored in segment file fi (blob meta: u32 0, u32 chunk id,
 * u64 length = the blob's, u64 0; a page's meta has its record count, never 0, first). */
static tl_status_t load_chunks(rec_ctx_t *c, uint32_t fi, tl_segfile_t *sf, const char *name) {
    tl_dur_t *d = c->d;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    tl_status_t st = TL_OK;
    for (uint32_t i = 0; i < c->dm.nchunks && st == TL_OK; i++) {
        const tl_dm_chunk_t *ch = &c->dm.chunks[i];
        if (ch->file != fi) continue;
        if (ch->blob >= tl_segfile_count(sf)) {
            snprintf(c->msg, c->cap, "%s/%s: the manifest names blob %u of %llu", d->dir, name,
                     ch->blob, (unsigned long long)tl_segfile_count(sf));
            return TL_ECORRUPT;
        }
        uint64_t len = tl_segfile_blob_len(sf, ch->blob);
        const uint8_t *meta = tl_segfile_meta(sf, ch->blob);
        if (tl_le32_load(meta) != 0 || tl_le32_load(meta + 4) != ch->id ||
            tl_le64_load(meta + 8) != len || tl_le64_load(meta + 16) != 0 || len > UINT32_MAX) {
            snprintf(c->msg, c->cap, "%s/%s: corrupt value chunk %u: its blob is not what the "
                     "manifest says", d->dir, name, ch->blob);
            return TL_ECORRUPT;
        }
        uint8_t *buf = tl_mem_alloc(d->alloc, len ? (size_t)len : 1);
        if (buf == NULL) return fail_msg(c, TL_ENOMEM, "out of memory loading values");
        st = tl_segfile_read(sf, ch->blob, buf, (size_t)len, &err);
        if (st == TL_OK) st = tl_vstore_put(c->tl->vs, ch->id, 0, buf, (uint32_t)len);
        tl_mem_free(d->alloc, buf, len ? (size_t)len : 1);
        if (st == TL_OK) {
            tl_vstore_set_disk(c->tl->vs, ch->id, c->dm.files.v[fi], ch->blob, (uint32_t)len);
        } else if (st == TL_ENOMEM || st == TL_EOVERFLOW) {
            return fail_msg(c, st, "out of memory loading values");
        } else if (st == TL_ECORRUPT && err.what == NULL) {
            snprintf(c->msg, c->cap, "%s/%s: corrupt value chunk %u", d->dir, name, ch->blob);
        } else {
            return fail_io(c, st, &err);
        }
    }
    return st;
}

/* Counts the value references of every loaded page (a bytes log): each must name a value the
 * loaded chunks hold. */
static tl_status_t ref_pages(rec_ctx_t *c) {
    enum { B = 512 };
    int64_t ts[B];
    uint64_t h[B];
    for (uint64_t i = 0; i < c->dm.npages; i++) {
        const tl_page_t *p = c->pages[i];
        uint32_t n = tl_page_packed(p) ? p->cap : p->n;
        for (uint32_t k = 0; k < n; k += B) {
            uint32_t m = n - k < B ? n - k : B;
            tl_page_read(p, k, k + m, ts, h);
            if (tl_vstore_ref(c->tl->vs, h, m) != TL_OK) {
                return fail_msg(c, TL_ECORRUPT, "a page names a value no chunk of the log holds");
            }
        }
    }
    return TL_OK;
}

/* Loads the pages of one segment file (dm.files index fi) into c->pages. */
static tl_status_t load_file(rec_ctx_t *c, uint32_t fi, int64_t *scratch) {
    tl_dur_t *d = c->d;
    uint64_t id = c->dm.files.v[fi];
    char name[TL_DUR_SEG_NAME_CAP];
    tl_dur_seg_name(name, id);
    tl_io_err_t err;
    tl_io_err_clear(&err);
    tl_segfile_t *sf = NULL;
    tl_status_t st = tl_segfile_open(d->io, d->dir, name, true, d->alloc, &sf, &err);
    if (st != TL_OK) return fail_io(c, st, &err);
    uint64_t fsize = tl_segfile_size(sf);
    atomic_fetch_add_explicit(&d->seg_bytes, fsize, memory_order_relaxed);
    st = tl_dur_files_add(&d->files, d->alloc, id, tl_segfile_count(sf), fsize);
    if (st != TL_OK) {
        tl_segfile_close(sf);
        return fail_msg(c, st, "out of memory");
    }
    if (tl_segfile_meta_bytes(sf) != TL_DUR_META_BYTES) {
        tl_segfile_close(sf);
        snprintf(c->msg, c->cap, "%s/%s: corrupt: metadata of %u bytes per page, expected %u",
                 d->dir, name, tl_segfile_meta_bytes(sf), TL_DUR_META_BYTES);
        return TL_ECORRUPT;
    }
    uint8_t *buf = NULL;
    size_t buf_cap = 0;
    for (uint64_t i = 0; i < c->dm.npages && st == TL_OK; i++) {
        const tl_dm_page_t *pr = &c->dm.pages[i];
        if (pr->file != fi) continue;
        if (pr->blob >= tl_segfile_count(sf)) {
            snprintf(c->msg, c->cap, "%s/%s: the manifest names page %u of %llu", d->dir, name,
                     pr->blob, (unsigned long long)tl_segfile_count(sf));
            st = TL_ECORRUPT;
            break;
        }
        uint64_t len = tl_segfile_blob_len(sf, pr->blob);
        const uint8_t *blob = NULL;
        st = tl_segfile_view(sf, pr->blob, &blob, &err);
        if (st == TL_EINVAL) { /* not mapped (the io has no mmap): read a copy */
            if (len > buf_cap) {
                tl_mem_free(d->alloc, buf, buf_cap);
                buf = tl_mem_alloc(d->alloc, (size_t)len);
                buf_cap = buf != NULL ? (size_t)len : 0;
            }
            st = buf == NULL ? TL_ENOMEM : tl_segfile_read(sf, pr->blob, buf, buf_cap, &err);
            blob = buf;
        }
        if (st != TL_OK) {
            if (st == TL_ENOMEM) fail_msg(c, st, "out of memory loading pages");
            else fail_io(c, st, &err);
            break;
        }
        const uint8_t *meta = tl_segfile_meta(sf, pr->blob);
        uint32_t n = 0;
        st = tl_pcodec_validate(blob, (size_t)len, &n);
        tl_page_t *p = NULL;
        if (st == TL_OK && n == tl_le32_load(meta) && tl_le32_load(meta + 4) == 0) {
            p = tl_page_from_blob(c->tl->alloc, blob, (size_t)len,
                                  c->tl->cfg.value_kind == TL_VALUES_F64, scratch);
            if (p == NULL) st = TL_ENOMEM;
        } else {
            st = TL_ECORRUPT;
        }
        if (p != NULL) {
            int64_t first = 0, last = 0;
            tl_page_read(p, 0, 1, &first, NULL);
            tl_page_read(p, n - 1, n, &last, NULL);
            if (first != (int64_t)tl_le64_load(meta + 8) ||
                last != (int64_t)tl_le64_load(meta + 16)) {
                tl_page_unref(p);
                p = NULL;
                st = TL_ECORRUPT;
            }
        }
        if (st == TL_ECORRUPT) {
            snprintf(c->msg, c->cap, "%s/%s: corrupt page %u: its blob does not decode to what "
                     "the index says", d->dir, name, pr->blob);
        } else if (st != TL_OK) {
            fail_msg(c, st, "out of memory loading pages");
        } else {
            p->file_id = id;
            p->blob = pr->blob;
            c->pages[i] = p;
        }
    }
    tl_mem_free(d->alloc, buf, buf_cap);
    if (st == TL_OK) st = load_chunks(c, fi, sf, name);
    tl_segfile_close(sf);
    return st;
}

/* One run from its pages, checked: pages ascend, the run lies in one window after `prev`. */
static tl_status_t build_run(rec_ctx_t *c, const tl_dm_run_t *dr, const tl_run_t *prev,
                             tl_run_t **out) {
    tl_page_t **pg = c->pages + dr->first;
    uint32_t *counts = tl_mem_calloc(c->d->alloc, dr->npages, sizeof *counts);
    if (counts == NULL) return fail_msg(c, TL_ENOMEM, "out of memory building runs");
    int64_t last = INT64_MIN;
    bool ok = true;
    for (uint32_t i = 0; i < dr->npages && ok; i++) {
        uint32_t n = tl_page_packed(pg[i]) ? pg[i]->cap : pg[i]->n;
        int64_t a = 0, b = 0;
        tl_page_read(pg[i], 0, 1, &a, NULL);
        tl_page_read(pg[i], n - 1, n, &b, NULL);
        ok = a >= last;
        last = b;
        counts[i] = n;
    }
    tl_status_t st = ok ? tl_run_from_pages(c->tl->alloc, pg, counts, dr->npages, dr->wm, out)
                        : TL_ECORRUPT;
    tl_mem_free(c->d->alloc, counts, (size_t)dr->npages * sizeof *counts);
    if (st == TL_ENOMEM) return fail_msg(c, st, "out of memory building runs");
    if (st == TL_OK) {
        int64_t wlo, whi;
        tl_window_of(c->tl, (*out)->ts_min, &wlo, &whi);
        ok = (*out)->ts_max <= whi && (prev == NULL || prev->ts_max < wlo);
        if (!ok) {
            tl_run_unref(*out);
            *out = NULL;
            st = TL_ECORRUPT;
        }
    }
    if (st == TL_ECORRUPT) {
        fail_msg(c, st, "MANIFEST: corrupt: its runs' pages are out of order or cross windows");
    }
    return st;
}

static tl_status_t load_state(rec_ctx_t *c) {
    tl_dur_t *d = c->d;
    tl_timelog_t *tl = c->tl;
    tl_status_t st = TL_OK;
    int64_t *scratch = tl_mem_alloc(d->alloc, TL_PCODEC_N_MAX * sizeof(int64_t));
    c->pages = tl_mem_calloc(d->alloc, c->dm.npages ? (size_t)c->dm.npages : 1, sizeof *c->pages);
    if (scratch == NULL || c->pages == NULL) st = fail_msg(c, TL_ENOMEM, "out of memory");
    for (uint32_t fi = 0; fi < c->dm.files.n && st == TL_OK; fi++) {
        st = load_file(c, fi, scratch);
    }
    tl_mem_free(d->alloc, scratch, TL_PCODEC_N_MAX * sizeof(int64_t));
    if (st == TL_OK && tl->vs != NULL) st = ref_pages(c);
    tl_vec_t *l1 = NULL;
    if (st == TL_OK && c->dm.nruns > 0) {
        l1 = tl_vec_new(tl->alloc, TL_VEC_RUNS, c->dm.nruns);
        if (l1 == NULL) st = fail_msg(c, TL_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < c->dm.nruns && st == TL_OK; i++) {
        tl_run_t *r = NULL;
        st = build_run(c, &c->dm.runs[i], i > 0 ? tl_vec_run(l1, i - 1) : NULL, &r);
        l1->v[i] = r;
    }
    tl_tombs_t *tombs = NULL;
    if (st == TL_OK && c->dm.ntombs > 0) {
        st = tl_tombs_from(tl->alloc, c->dm.tombs, c->dm.ntombs, &tombs);
        if (st == TL_EINVAL) st = fail_msg(c, TL_ECORRUPT, "MANIFEST: corrupt tombstones");
        else if (st != TL_OK) fail_msg(c, st, "out of memory");
    }
    tl_manifest_t *m = NULL;
    if (st == TL_OK) {
        m = tl_manifest_new(tl->alloc, tl->vs, l1, NULL, NULL, tombs, c->dm.seq);
        if (m == NULL) st = fail_msg(c, TL_ENOMEM, "out of memory");
    }
    if (st == TL_OK) {
        m->l1_cover = (tl_cover_t){c->dm.seq, c->dm.part};
        tl_manifest_unref(tl->man); /* the empty one tl_open made; nobody else sees tl yet */
        tl->man = m;
        tl->seq = c->dm.seq;
        atomic_store_explicit(&tl->seq_pub, tl->seq, memory_order_relaxed);
        d->ckpt_seq = c->dm.seq;
        d->ckpt_part = c->dm.part;
        d->next_file = c->dm.next_file;
    }
    tl_vec_unref(l1); /* a vector with NULL slots (a failed build) releases what it has */
    tl_tombs_unref(tombs);
    for (uint64_t i = 0; i < c->dm.npages; i++) tl_page_unref(c->pages[i]); /* runs hold refs */
    return st;
}

/* ---- step 4: files no manifest names ---- */

static tl_status_t remove_orphans(rec_ctx_t *c, const tl_dm_ids_t *present) {
    tl_dur_t *d = c->d;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    bool removed = false;
    tl_status_t st = TL_OK;
    for (uint32_t i = 0; i < present->n && st == TL_OK; i++) {
        uint64_t id = present->v[i];
        if (tl_dur_files_find(&d->files, id) != NULL) continue;
        /* Below next_file: a file a checkpoint replaced and whose deletion a crash cut
         * short. At or above: written by a checkpoint that crashed before its manifest. */
        char name[TL_DUR_SEG_NAME_CAP], path[TL_IO_PATH_CAP];
        tl_dur_seg_name(name, id);
        st = tl_io_join(path, d->dir, name, &err);
        if (st == TL_OK) st = tl_io_remove(d->io, path, &err);
        removed = true;
        if (id >= d->next_file) d->next_file = id + 1; /* never reuse a name */
    }
    if (st == TL_OK && removed) st = tl_io_sync_dir(d->io, d->dir, &err);
    return st == TL_OK ? TL_OK : fail_io(c, st, &err);
}

/* ---- step 5: WAL replay ---- */

static tl_status_t bad_rec(rec_ctx_t *c, const tl_wal_rec_t *r, const char *why) {
    char name[TL_WAL_NAME_CAP];
    tl_wal_name(name, r->segment);
    snprintf(c->msg, c->cap, "%s/%s: corrupt at offset %llu: %s", c->d->dir, name,
             (unsigned long long)r->offset, why);
    return TL_ECORRUPT;
}

/* Applies the reassembled append. Of call S + 1 the segment files hold the first ckpt_part
 * records already (a seal split it): only the rest is applied. */
static tl_status_t apply_pending(rec_ctx_t *c, const tl_wal_rec_t *r) {
    size_t skip = 0;
    if (c->cur_eseq == c->d->ckpt_seq + 1) {
        if (c->d->ckpt_part > c->pn) return bad_rec(c, r, "the checkpoint holds more records "
                                                     "of this call than it has");
        skip = (size_t)c->d->ckpt_part;
    }
    if (skip == c->pn) return TL_OK;
    tl_dur_call_t call = {.type = TL_WREC_APPEND, .seq = c->cur_eseq, .ts = c->pts + skip,
                          .h = c->ph + skip, .n = c->pn - skip};
    if (c->tl->vs != NULL && tl_vstore_ref(c->tl->vs, call.h, call.n) != TL_OK) {
        return bad_rec(c, r, "an append names a value the log does not hold");
    }
    c->replayed += call.n;
    return c->apply(c->tl, &call);
}

/* Runs the flush (and compaction when wanted) inline when replay has queued as many memtables
 * as the worker would allow: the worker is not running yet. */
static tl_status_t replay_maint(rec_ctx_t *c) {
    tl_timelog_t *tl = c->tl;
    if (tl_vec_len(tl->man->mem) <= tl->cfg.sealed_max) return TL_OK;
    bool did = false;
    pthread_mutex_lock(&tl->maint_mu);
    tl_status_t st = tl_flush_job(tl, &did);
    if (st == TL_OK && tl_compact_wanted(tl)) st = tl_compact_job(tl, &did);
    pthread_mutex_unlock(&tl->maint_mu);
    return st;
}

static bool grow_pending(rec_ctx_t *c, size_t n) {
    if (c->pn + n <= c->pcap) return true;
    size_t cap = c->pcap ? c->pcap : 4096;
    while (cap < c->pn + n) cap *= 2;
    int64_t *ts = tl_mem_alloc(c->d->alloc, cap * sizeof *ts);
    uint64_t *h = tl_mem_alloc(c->d->alloc, cap * sizeof *h);
    if (ts == NULL || h == NULL) {
        tl_mem_free(c->d->alloc, ts, cap * sizeof *ts);
        tl_mem_free(c->d->alloc, h, cap * sizeof *h);
        return false;
    }
    if (c->pn) {
        memcpy(ts, c->pts, c->pn * sizeof *ts);
        memcpy(h, c->ph, c->pn * sizeof *h);
    }
    tl_mem_free(c->d->alloc, c->pts, c->pcap * sizeof *ts);
    tl_mem_free(c->d->alloc, c->ph, c->pcap * sizeof *h);
    c->pts = ts;
    c->ph = h;
    c->pcap = cap;
    return true;
}

/* k single-record appends of consecutive seqs (dur.h): each applied as its own call, those
 * the checkpoint holds skipped. */
static tl_status_t apply_run(rec_ctx_t *c, const tl_wal_rec_t *r, uint32_t chunk) {
    if (r->len < 16 || chunk != 0 || !(r->flags & TL_WREC_LAST)) {
        return bad_rec(c, r, "malformed append-run record");
    }
    uint64_t first = tl_le64_load(r->payload);
    uint32_t k = tl_le32_load(r->payload + 8);
    if (tl_le32_load(r->payload + 12) != 0 || k == 0 || (uint64_t)r->len != 16 + (uint64_t)k * 16 ||
        first == 0 || first + k - 1 != r->seq >> TL_WREC_CHUNK_BITS) {
        return bad_rec(c, r, "append-run record length or seqs do not match its count");
    }
    const tl_dur_t *d = c->d;
    tl_status_t st = TL_OK;
    for (uint32_t i = 0; i < k && st == TL_OK; i++) {
        uint64_t seq = first + i;
        if (seq <= d->ckpt_seq) continue;
        if (seq == d->ckpt_seq + 1 && d->ckpt_part > 0) {
            if (d->ckpt_part > 1) return bad_rec(c, r, "the checkpoint holds more records of "
                                                    "this call than it has");
            continue; /* the one record is in the segment files */
        }
        int64_t ts = (int64_t)tl_le64_load(r->payload + 16 + (size_t)i * 8);
        uint64_t h = tl_le64_load(r->payload + 16 + (size_t)k * 8 + (size_t)i * 8);
        tl_dur_call_t call = {.type = TL_WREC_APPEND, .seq = seq, .ts = &ts, .h = &h, .n = 1};
        if (c->tl->vs != NULL) return bad_rec(c, r, "an append run in a log of byte values");
        c->replayed++;
        st = c->apply(c->tl, &call);
        if (st == TL_OK) st = replay_maint(c);
    }
    return st;
}

/* Adds an APPEND or APPEND_PACKED chunk's records to the pending call. A packed chunk is a
 * batch blob, checked whole (tl_pcodec_validate_batch) before it is decoded: the frame's CRC
 * proves the bytes are those written, not that a writer wrote a sound blob. */
static tl_status_t read_chunk(rec_ctx_t *c, const tl_wal_rec_t *r) {
    uint32_t n = 0;
    if (r->type == TL_WREC_APPEND_PACKED) {
        if (tl_pcodec_validate_batch(r->payload, r->len, &n) != TL_OK) {
            return bad_rec(c, r, "packed append record is not a valid batch blob");
        }
    } else {
        if (r->len < 8) return bad_rec(c, r, "append record shorter than its header");
        n = tl_le32_load(r->payload);
        if (tl_le32_load(r->payload + 4) != 0 || n == 0 || (uint64_t)r->len != 8 + (uint64_t)n * 16) {
            return bad_rec(c, r, "append record length does not match its count");
        }
    }
    if (!grow_pending(c, n)) return fail_msg(c, TL_ENOMEM, "out of memory replaying the WAL");
    if (r->type == TL_WREC_APPEND_PACKED) {
        tl_pcodec_view_t v;
        (void)tl_pcodec_view_init(&v, r->payload, r->len); /* validated above */
        tl_pcodec_decode(&v, 0, n, c->pts + c->pn, c->ph + c->pn);
    } else {
        for (uint32_t i = 0; i < n; i++) {
            c->pts[c->pn + i] = (int64_t)tl_le64_load(r->payload + 8 + (size_t)i * 8);
            c->ph[c->pn + i] = tl_le64_load(r->payload + 8 + (size_t)n * 8 + (size_t)i * 8);
        }
    }
    c->pn += n;
    return TL_OK;
}

/* The WAL visitor. A call is applied when its LAST chunk arrives; chunks of one call carry
 * consecutive chunk numbers under one engine seq. A call whose chunks stop early (the next
 * record starts another call) was torn by a crash before it could be acknowledged: dropped. */
static tl_status_t visit(void *ctx, const tl_wal_rec_t *r) {
    rec_ctx_t *c = ctx;
    uint64_t eseq = r->seq >> TL_WREC_CHUNK_BITS;
    uint32_t chunk = (uint32_t)(r->seq & ((1u << TL_WREC_CHUNK_BITS) - 1));
    if (!c->seen) {
        c->seen = true;
        c->first_call = r->type == TL_WREC_APPEND_RUN && r->len >= 16 ? tl_le64_load(r->payload)
                                                                      : eseq;
    }
    if (eseq <= c->d->ckpt_seq) return TL_OK; /* in the segment files already */
    bool cont = c->in_call && eseq == c->cur_eseq && chunk == c->next_chunk;
    if (!cont) {
        c->pn = 0; /* a call being reassembled stopped short: torn, dropped */
        c->in_call = false;
        if (chunk != 0) return TL_OK; /* the rest of a call whose start was cut: dropped */
    }
    c->cur_eseq = eseq;
    c->next_chunk = chunk + 1;
    c->in_call = !(r->flags & TL_WREC_LAST);
    if ((r->flags & ~TL_WREC_LAST) != 0) return bad_rec(c, r, "unknown record flags");
    tl_status_t st = TL_OK;
    if (r->type == TL_WREC_VALUES) {
        /* Put back at once, even for a call that turns out torn: bytes no record names are
         * freed by the settle, and a later call never writes into a chunk made before it. */
        if (c->tl->vs == NULL) return bad_rec(c, r, "value bytes in a log without byte values");
        if (r->len < 8 || (r->flags & TL_WREC_LAST)) return bad_rec(c, r, "malformed values record");
        st = tl_vstore_put(c->tl->vs, tl_le32_load(r->payload), tl_le32_load(r->payload + 4),
                           r->payload + 8, r->len - 8);
        if (st == TL_ECORRUPT) return bad_rec(c, r, "values record beyond its chunk");
        if (st != TL_OK) return fail_msg(c, st, "out of memory replaying the WAL");
        return TL_OK;
    }
    if (r->type == TL_WREC_APPEND || r->type == TL_WREC_APPEND_PACKED) {
        if ((st = read_chunk(c, r)) != TL_OK) return st;
        if (r->flags & TL_WREC_LAST) {
            st = apply_pending(c, r);
            c->pn = 0;
        }
    } else if (r->type == TL_WREC_APPEND_RUN) {
        st = apply_run(c, r, chunk);
    } else if (r->type == TL_WREC_DELETE) {
        if (r->len != 16 || chunk != 0 || !(r->flags & TL_WREC_LAST)) {
            return bad_rec(c, r, "malformed delete record");
        }
        tl_dur_call_t call = {.type = TL_WREC_DELETE, .seq = eseq,
                              .lo = (int64_t)tl_le64_load(r->payload),
                              .hi = (int64_t)tl_le64_load(r->payload + 8)};
        if (call.lo > call.hi) return bad_rec(c, r, "delete record with lo > hi");
        if (eseq == c->d->ckpt_seq + 1 && c->d->ckpt_part > 0) {
            return bad_rec(c, r, "the checkpoint holds records of a delete");
        }
        st = c->apply(c->tl, &call);
    } else {
        return bad_rec(c, r, "unknown record type");
    }
    if (st == TL_OK) st = replay_maint(c);
    if (st != TL_OK && st != TL_ECORRUPT) {
        snprintf(c->msg, c->cap, "%s: replaying the WAL: %s", c->d->dir, tl_strerror((int)st));
    }
    return st;
}

static tl_status_t replay(rec_ctx_t *c) {
    tl_dur_t *d = c->d;
    tl_wal_opts_t o;
    tl_wal_opts_init(&o);
    o.segment_bytes = d->segment_bytes;
    o.buffer_bytes = WAL_BUFFER;
    o.buffers = WAL_BUFFERS;
    o.repair = c->tl->cfg.repair != 0;
    o.lock = false; /* recover holds the directory's lock */
    o.alloc = d->alloc;
    o.replay_from_seq = (d->ckpt_seq + 1) << TL_WREC_CHUNK_BITS;
    o.unit_flag = TL_WREC_LAST; /* a sync reports whole calls only (dur.c) */
    tl_wal_report_t rep;
    tl_io_err_t err;
    tl_io_err_clear(&err);
    atomic_store_explicit(&d->replaying, true, memory_order_relaxed);
    tl_status_t st = tl_wal_open(d->io, d->dir, &o, visit, c, &d->wal, &rep, &err);
    atomic_store_explicit(&d->replaying, false, memory_order_relaxed);
    if (st == TL_ECORRUPT && c->msg[0] == '\0') return fail_io(c, st, &err);
    if (st != TL_OK) {
        if (c->msg[0] == '\0') fail_io(c, st, &err);
        return st;
    }
    /* Every write call takes the next seq and is logged, so a WAL whose first record comes
     * after S + 1 has lost segments (deleted by hand, or a truncate the manifest on disk does
     * not account for): refuse rather than open without them. */
    /* (The WAL's first record was delivered when it is at or after replay_from: then the
     * visitor saw it first and knows the first call it holds.) */
    if (rep.records > 0 && rep.first_seq >= o.replay_from_seq && c->first_call > d->ckpt_seq + 1) {
        snprintf(c->msg, c->cap, "%s: corrupt: the WAL starts at seq %llu but the checkpoint "
                 "covers only up to %llu (WAL segments are missing)", d->dir,
                 (unsigned long long)c->first_call, (unsigned long long)d->ckpt_seq);
        return TL_ECORRUPT;
    }
    /* Seqs of torn calls are spent too: the WAL's seqs must keep increasing. */
    uint64_t last = rep.last_seq >> TL_WREC_CHUNK_BITS;
    if (c->dm.seq > last) last = c->dm.seq;
    if (last > c->tl->seq) {
        c->tl->seq = last;
        atomic_store_explicit(&c->tl->seq_pub, last, memory_order_relaxed);
    }
    d->replayed = c->replayed;
    d->cut_bytes = rep.cut_bytes;
    d->cut_records = rep.cut_records;
    uint32_t maxp = tl_wal_max_payload(d->wal);
    uint32_t raw_records = (maxp - 8) / 16;
    d->max_values = maxp - 8;
    d->chunk_records = raw_records < TL_PCODEC_N_MAX ? raw_records : TL_PCODEC_N_MAX;
    d->stage_cap = (maxp - 16) / 16 < TL_DUR_STAGE ? (maxp - 16) / 16 : TL_DUR_STAGE;
    atomic_store_explicit(&d->durable_seq, c->tl->seq, memory_order_relaxed);
    return TL_OK;
}

tl_status_t tl_dur_recover(tl_timelog_t *tl, tl_dur_t *d, tl_dur_apply_fn apply, char *msg,
                           size_t cap) {
    rec_ctx_t c;
    memset(&c, 0, sizeof c);
    c.tl = tl;
    c.d = d;
    c.msg = msg;
    c.cap = cap;
    c.apply = apply;
    msg[0] = '\0';
    scan_t s;
    memset(&s, 0, sizeof s);
    bool found = false;
    tl_status_t st = open_dir(&c, &s);
    if (st == TL_OK) st = read_manifest(&c, &found);
    if (st == TL_OK) st = found ? load_state(&c) : write_initial(&c);
    if (st == TL_OK) st = remove_orphans(&c, &s.segs);
    if (st == TL_OK) st = replay(&c);
    if (st == TL_OK && tl->vs != NULL) tl_vstore_settle(tl->vs); /* bytes nothing names go */
    tl_dm_ids_free(&s.segs, d->alloc);
    tl_dm_free(&c.dm, d->alloc);
    tl_mem_free(d->alloc, c.pages, c.dm.npages ? (size_t)c.dm.npages * sizeof *c.pages : 1);
    tl_mem_free(d->alloc, c.pts, c.pcap * sizeof *c.pts);
    tl_mem_free(d->alloc, c.ph, c.pcap * sizeof *c.ph);
    return st;
}
