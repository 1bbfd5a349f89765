/*
 * vstore.c — the value store of a TL_VALUES_BYTES log (design in vstore.h).
 *
 * Structure: slot[i] is chunk base + i (NULL once freed); `cur` is the chunk taking appends
 * (the last slot) or none. Freed slots at the front are shifted out when they are at least
 * half the table, so lookups stay one subtraction and the table stays proportional to the
 * live chunks. The retired FIFO is a ring-free array with a read offset, compacted the same
 * way. Manifests form a doubly linked list in epoch order; its head is the oldest.
 * Complexity: append O(n + bytes) amortised; read O(n + bytes); retire O(n); untrack O(1)
 * plus the entries it releases.
 */
#include <pthread.h>

#include "manifest.h"
#include "vstore.h"

#define VS_CHUNK (1u << 20) /* bytes of an ordinary chunk */
#define VS_HDR 4u /* an entry's u32 length */
#define VS_BIG (VS_CHUNK / 4) /* an entry this large gets a chunk of its own */

typedef struct vchunk {
    uint64_t live; /* values stored and not released */
    uint32_t used, cap;
    uint32_t io_pins; /* a checkpoint is writing it: not freed until unpinned */
    uint32_t blob; /* durable logs: where its bytes [0, disk_used) are on disk */
    uint64_t file_id; /* (0: not on disk) */
    uint32_t disk_used, pad_;
    uint8_t data[];
} vchunk_t;

typedef struct retired {
    uint64_t epoch, count, bytes;
    uint32_t chunk;
} retired_t;

struct tl_vstore {
    tl_allocator_t alloc;
    pthread_mutex_t mu;
    vchunk_t **slot; /* [cap_slots]; entries from nslots on are always NULL, so a table that
                        grows in place (slot_room, chunk_add) never exposes a stale pointer */
    uint64_t base, nslots, cap_slots; /* chunk ids base .. base + nslots - 1 */
    bool has_cur; /* chunk `cur` takes the appends of ordinary values */
    uint64_t cur;
    uint64_t values, live_bytes, held_bytes;
    retired_t *ret;
    size_t ret_start, ret_end, ret_cap;
    uint64_t retired_values;
    uint64_t epoch; /* the newest manifest's epoch */
    struct tl_manifest *oldest, *newest;
};

tl_status_t tl_vstore_create(const tl_allocator_t *a, tl_vstore_t **out) {
    tl_vstore_t *vs = tl_mem_calloc(a, 1, sizeof *vs);
    if (vs == NULL) return TL_ENOMEM;
    vs->alloc = *(a ? a : tl_default_allocator());
    if (pthread_mutex_init(&vs->mu, NULL) != 0) {
        tl_mem_free(a, vs, sizeof *vs);
        return TL_EINTERNAL;
    }
    *out = vs;
    return TL_OK;
}

static void chunk_free(tl_vstore_t *vs, vchunk_t *c) {
    vs->held_bytes -= c->cap;
    tl_mem_free(&vs->alloc, c, sizeof *c + c->cap);
}

void tl_vstore_destroy(tl_vstore_t *vs) {
    if (vs == NULL) return;
    for (uint64_t i = 0; i < vs->nslots; i++) {
        if (vs->slot[i] != NULL) chunk_free(vs, vs->slot[i]);
    }
    tl_mem_free(&vs->alloc, vs->slot, vs->cap_slots * sizeof *vs->slot);
    tl_mem_free(&vs->alloc, vs->ret, vs->ret_cap * sizeof *vs->ret);
    pthread_mutex_destroy(&vs->mu);
    tl_allocator_t a = vs->alloc;
    tl_mem_free(&a, vs, sizeof *vs);
}

/* ---- chunks ---- */

static vchunk_t *chunk_of(const tl_vstore_t *vs, uint64_t id) {
    if (id < vs->base || id - vs->base >= vs->nslots) return NULL;
    return vs->slot[id - vs->base];
}

/* Shifts the freed slots at the front out once they are half the table. */
static void slots_trim(tl_vstore_t *vs) {
    uint64_t k = 0;
    while (k < vs->nslots && vs->slot[k] == NULL) k++;
    if (k == 0 || 2 * k < vs->nslots) return;
    memmove(vs->slot, vs->slot + k, (vs->nslots - k) * sizeof *vs->slot);
    memset(vs->slot + vs->nslots - k, 0, k * sizeof *vs->slot); /* the tail stays NULL */
    vs->base += k;
    vs->nslots -= k;
}

/* Frees chunk id when it holds no live value and takes no appends. */
static void chunk_maybe_free(tl_vstore_t *vs, uint64_t id) {
    vchunk_t *c = chunk_of(vs, id);
    if (c == NULL || c->live != 0 || c->io_pins != 0) return;
    if (vs->has_cur && id == vs->cur) return;
    chunk_free(vs, c);
    vs->slot[id - vs->base] = NULL;
    slots_trim(vs);
}

/* Makes room for chunk id in the slot table: the next id (chunk_add), or any id, below base
 * too (recovery meets ids in any order).
 * ENOMEM, or EOVERFLOW for an id table that would not fit. */
static tl_status_t slot_room(tl_vstore_t *vs, uint64_t id) {
    if (vs->nslots == 0) vs->base = id;
    uint64_t lo = id < vs->base ? id : vs->base;
    uint64_t hi = id >= vs->base + vs->nslots ? id + 1 : vs->base + vs->nslots;
    if (hi - lo > (1u << 24)) return TL_EOVERFLOW; /* 16M chunks held at once: corrupt ids */
    if (hi - lo > vs->cap_slots) {
        uint64_t cap = vs->cap_slots ? vs->cap_slots : 16;
        while (cap < hi - lo) cap *= 2;
        vchunk_t **sl = tl_mem_calloc(&vs->alloc, cap, sizeof *sl);
        if (sl == NULL) return TL_ENOMEM;
        if (vs->nslots) memcpy(sl + (vs->base - lo), vs->slot, vs->nslots * sizeof *sl);
        tl_mem_free(&vs->alloc, vs->slot, vs->cap_slots * sizeof *sl);
        vs->slot = sl;
        vs->cap_slots = cap;
    } else if (lo < vs->base) {
        memmove(vs->slot + (vs->base - lo), vs->slot, vs->nslots * sizeof *vs->slot);
        memset(vs->slot, 0, (vs->base - lo) * sizeof *vs->slot);
    }
    vs->nslots = hi - lo;
    vs->base = lo;
    return TL_OK;
}

/* A new chunk at the end of the table: of exactly `need` bytes for a big entry (it takes no
 * other), else of VS_CHUNK, which becomes the one taking appends (the one before it is freed
 * when nothing in it is live). *id = its id. ENOMEM / EOVERFLOW leave the store as it was. */
static tl_status_t chunk_add(tl_vstore_t *vs, uint32_t need, uint64_t *id) {
    uint64_t next = vs->base + vs->nslots;
    if (next > UINT32_MAX) return TL_EOVERFLOW; /* ids are 32 bits */
    bool big = need >= VS_BIG;
    uint32_t cap = big ? need : VS_CHUNK;
    vchunk_t *c = tl_mem_alloc(&vs->alloc, sizeof *c + cap);
    if (c == NULL) return TL_ENOMEM;
    tl_status_t st = slot_room(vs, next);
    if (st != TL_OK) {
        tl_mem_free(&vs->alloc, c, sizeof *c + cap);
        return st;
    }
    memset(c, 0, sizeof *c);
    c->cap = cap;
    *id = next;
    vs->slot[next - vs->base] = c;
    vs->held_bytes += cap;
    if (!big) {
        uint64_t prev = vs->cur;
        bool had = vs->has_cur;
        vs->cur = *id;
        vs->has_cur = true;
        if (had) chunk_maybe_free(vs, prev); /* an emptied chunk goes once it takes no appends */
    }
    return TL_OK;
}

/* ---- appends ---- */

tl_status_t tl_vstore_append(tl_vstore_t *vs, const uint8_t *data, const uint32_t *ends,
                             uint32_t n, uint64_t *handles, tl_vmark_t *mark) {
    pthread_mutex_lock(&vs->mu);
    vchunk_t *cur = vs->has_cur ? chunk_of(vs, vs->cur) : NULL;
    *mark = (tl_vmark_t){vs->base + vs->nslots, vs->has_cur, vs->cur, cur ? cur->used : 0,
                         cur ? cur->live : 0, vs->live_bytes, vs->values};
    tl_status_t st = TL_OK;
    uint32_t start = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (ends[i] < start || ends[i] - start > UINT32_MAX - VS_HDR) {
            st = TL_EINVAL;
            break;
        }
        uint32_t len = ends[i] - start, need = VS_HDR + len;
        uint64_t id = vs->cur;
        vchunk_t *c = cur;
        if (need >= VS_BIG || cur == NULL || cur->cap - cur->used < need) {
            st = chunk_add(vs, need, &id);
            if (st != TL_OK) break;
            c = chunk_of(vs, id);
            if (need < VS_BIG) cur = c;
        }
        uint8_t *e = c->data + c->used;
        memcpy(e, &len, VS_HDR); /* little-endian hosts only (timelog.h) */
        if (len) memcpy(e + VS_HDR, data + start, len);
        handles[i] = id << 32 | c->used;
        c->used += need;
        c->live++;
        vs->live_bytes += need;
        start = ends[i];
    }
    if (st == TL_OK) vs->values += n;
    pthread_mutex_unlock(&vs->mu);
    if (st != TL_OK) tl_vstore_rollback(vs, mark);
    return st;
}

void tl_vstore_rollback(tl_vstore_t *vs, const tl_vmark_t *mark) {
    pthread_mutex_lock(&vs->mu);
    /* Chunks from mark->next_id on hold only the batch's values: they go. The chunk that took
     * appends at the mark gets its length and live count back; it may be gone already, freed
     * by chunk_add when it held nothing live (then the batch put nothing in it). */
    while (vs->nslots > 0 && vs->base + vs->nslots > mark->next_id) {
        vchunk_t *c = vs->slot[--vs->nslots];
        vs->slot[vs->nslots] = NULL; /* the tail stays NULL */
        if (c != NULL) chunk_free(vs, c);
    }
    vchunk_t *c = mark->had_cur ? chunk_of(vs, mark->cur) : NULL;
    vs->has_cur = c != NULL;
    vs->cur = mark->cur;
    if (c != NULL) {
        c->used = mark->used;
        c->live = mark->live;
    }
    vs->live_bytes = mark->live_bytes;
    vs->values = mark->values;
    pthread_mutex_unlock(&vs->mu);
}

/* ---- reads ---- */

/* The entry a handle names: its bytes and length; false when it names none. */
static bool entry_of(const tl_vstore_t *vs, uint64_t h, const uint8_t **p, uint32_t *len) {
    const vchunk_t *c = chunk_of(vs, h >> 32);
    uint32_t off = (uint32_t)h;
    if (c == NULL || off >= c->used || c->used - off < VS_HDR) return false;
    uint32_t l;
    memcpy(&l, c->data + off, VS_HDR);
    if (l > c->used - off - VS_HDR) return false;
    *p = c->data + off + VS_HDR;
    *len = l;
    return true;
}

tl_status_t tl_vstore_read(tl_vstore_t *vs, const uint64_t *h, uint32_t n, uint8_t *buf,
                           uint64_t cap, uint32_t *ends, uint64_t *need) {
    pthread_mutex_lock(&vs->mu);
    uint64_t total = 0;
    tl_status_t st = TL_OK;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p;
        uint32_t len;
        if (!entry_of(vs, h[i], &p, &len)) {
            st = TL_EINVAL;
            break;
        }
        total += len;
    }
    if (st == TL_OK) {
        *need = total;
        if (total > cap || total > UINT32_MAX) st = TL_EOVERFLOW;
    }
    if (st == TL_OK) {
        uint32_t at = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p;
            uint32_t len;
            (void)entry_of(vs, h[i], &p, &len); /* checked above, under the same lock */
            if (len) memcpy(buf + at, p, len);
            at += len;
            ends[i] = at;
        }
    }
    pthread_mutex_unlock(&vs->mu);
    return st;
}

/* ---- retirement ---- */

/* Releases the retired entries no manifest older than their epoch still pins. */
static void release_ready(tl_vstore_t *vs) {
    uint64_t oldest = vs->oldest ? vs->oldest->vepoch : UINT64_MAX;
    while (vs->ret_start < vs->ret_end && vs->ret[vs->ret_start].epoch <= oldest) {
        retired_t r = vs->ret[vs->ret_start++];
        vchunk_t *c = chunk_of(vs, r.chunk);
        TL_ASSERT(c != NULL && c->live >= r.count);
        c->live -= r.count;
        vs->live_bytes -= r.bytes;
        vs->values -= r.count;
        vs->retired_values -= r.count;
        chunk_maybe_free(vs, r.chunk);
    }
    if (vs->ret_start == vs->ret_end) vs->ret_start = vs->ret_end = 0;
}

/* Room for one more retired entry; false on ENOMEM (the entry is then released late: see
 * tl_vstore_retire). */
static bool ret_room(tl_vstore_t *vs) {
    if (vs->ret_end < vs->ret_cap) return true;
    if (vs->ret_start > 0) {
        memmove(vs->ret, vs->ret + vs->ret_start, (vs->ret_end - vs->ret_start) * sizeof *vs->ret);
        vs->ret_end -= vs->ret_start;
        vs->ret_start = 0;
        if (vs->ret_end < vs->ret_cap) return true;
    }
    size_t cap = vs->ret_cap ? 2 * vs->ret_cap : 64;
    retired_t *r = tl_mem_alloc(&vs->alloc, cap * sizeof *r);
    if (r == NULL) return false;
    if (vs->ret_end) memcpy(r, vs->ret, vs->ret_end * sizeof *r);
    tl_mem_free(&vs->alloc, vs->ret, vs->ret_cap * sizeof *r);
    vs->ret = r;
    vs->ret_cap = cap;
    return true;
}

void tl_vstore_retire(tl_vstore_t *vs, const uint64_t *h, size_t n) {
    pthread_mutex_lock(&vs->mu);
    for (size_t i = 0; i < n;) {
        uint64_t id = h[i] >> 32, bytes = 0;
        size_t j = i;
        for (; j < n && h[j] >> 32 == id; j++) {
            const uint8_t *p;
            uint32_t len = 0;
            bool stored = entry_of(vs, h[j], &p, &len);
            TL_ASSERT(stored); /* every dropped record's handle names a stored value */
            bytes += VS_HDR + len;
        }
        /* Out of memory for the FIFO: the values stay stored until close (a leak bounded by
         * the log's life, never a value freed while a reader may still need it). */
        if (ret_room(vs)) {
            vs->ret[vs->ret_end++] = (retired_t){vs->epoch, j - i, bytes, (uint32_t)id};
            vs->retired_values += j - i;
        }
        i = j;
    }
    release_ready(vs);
    pthread_mutex_unlock(&vs->mu);
}

void tl_vstore_track(tl_vstore_t *vs, struct tl_manifest *m) {
    pthread_mutex_lock(&vs->mu);
    m->vepoch = ++vs->epoch;
    m->vprev = vs->newest;
    m->vnext = NULL;
    if (vs->newest) vs->newest->vnext = m;
    else vs->oldest = m;
    vs->newest = m;
    pthread_mutex_unlock(&vs->mu);
}

void tl_vstore_untrack(tl_vstore_t *vs, struct tl_manifest *m) {
    pthread_mutex_lock(&vs->mu);
    if (m->vprev) m->vprev->vnext = m->vnext;
    else vs->oldest = m->vnext;
    if (m->vnext) m->vnext->vprev = m->vprev;
    else vs->newest = m->vprev;
    release_ready(vs);
    pthread_mutex_unlock(&vs->mu);
}

void tl_vstore_stats(tl_vstore_t *vs, tl_vstats_t *out) {
    pthread_mutex_lock(&vs->mu);
    *out = (tl_vstats_t){vs->values, vs->live_bytes, vs->held_bytes, vs->retired_values};
    pthread_mutex_unlock(&vs->mu);
}

/* ---- durable logs ---- */

tl_status_t tl_vstore_put(tl_vstore_t *vs, uint32_t id, uint32_t off, const uint8_t *data,
                          uint32_t len) {
    if ((uint64_t)off + len > UINT32_MAX) return TL_ECORRUPT;
    pthread_mutex_lock(&vs->mu);
    tl_status_t st = slot_room(vs, id);
    vchunk_t *c = st == TL_OK ? chunk_of(vs, id) : NULL;
    /* A chunk held at most 1 MiB, or one larger value at offset 0. Recovered chunks take no
     * appends, so they get the size their bytes need (a chunk read from a segment file, then
     * extended by the WAL's records, grows): a reopened log holds what it stores. */
    uint32_t end = off + len;
    if (st == TL_OK && end > VS_CHUNK && off != 0) st = TL_ECORRUPT;
    if (st == TL_OK && (c == NULL || end > c->cap)) {
        uint32_t cap = end; /* a new chunk: exactly its extent; a growing one doubles */
        if (c != NULL && end <= VS_CHUNK) {
            uint32_t twice = c->cap > VS_CHUNK / 2 ? VS_CHUNK : 2 * c->cap;
            cap = twice > end ? twice : end;
        }
        vchunk_t *g = tl_mem_alloc(&vs->alloc, sizeof *g + cap);
        if (g == NULL) st = TL_ENOMEM;
        else if (c == NULL) {
            memset(g, 0, sizeof *g);
            g->cap = cap;
            vs->held_bytes += cap;
        } else {
            memcpy(g, c, sizeof *c + c->used);
            g->cap = cap;
            vs->held_bytes += cap;
            chunk_free(vs, c);
        }
        if (g != NULL) vs->slot[id - vs->base] = g;
        c = g;
    }
    if (st == TL_OK) {
        if (len) memcpy(c->data + off, data, len);
        if (off + len > c->used) c->used = off + len;
    }
    vs->has_cur = false; /* appends after an open start a chunk of their own */
    pthread_mutex_unlock(&vs->mu);
    return st;
}

void tl_vstore_set_disk(tl_vstore_t *vs, uint32_t id, uint64_t file_id, uint32_t blob,
                        uint32_t used) {
    pthread_mutex_lock(&vs->mu);
    vchunk_t *c = chunk_of(vs, id);
    if (c != NULL) {
        c->file_id = file_id;
        c->blob = blob;
        c->disk_used = used;
    }
    pthread_mutex_unlock(&vs->mu);
}

tl_status_t tl_vstore_ref(tl_vstore_t *vs, const uint64_t *h, size_t n) {
    pthread_mutex_lock(&vs->mu);
    tl_status_t st = TL_OK;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p;
        uint32_t len;
        if (!entry_of(vs, h[i], &p, &len)) {
            st = TL_ECORRUPT;
            break;
        }
        chunk_of(vs, h[i] >> 32)->live++;
        vs->live_bytes += VS_HDR + len;
        vs->values++;
    }
    pthread_mutex_unlock(&vs->mu);
    return st;
}

void tl_vstore_settle(tl_vstore_t *vs) {
    pthread_mutex_lock(&vs->mu);
    vs->has_cur = false;
    for (uint64_t i = 0; i < vs->nslots; i++) {
        vchunk_t *c = vs->slot[i];
        if (c == NULL || c->live != 0) continue;
        chunk_free(vs, c);
        vs->slot[i] = NULL;
    }
    slots_trim(vs);
    pthread_mutex_unlock(&vs->mu);
}

tl_status_t tl_vstore_ranges(tl_vstore_t *vs, const tl_vmark_t *mark, tl_vrange_t *out,
                             uint32_t cap, uint32_t *n) {
    pthread_mutex_lock(&vs->mu);
    uint32_t k = 0;
    tl_status_t st = TL_OK;
    /* The chunk taking appends at the mark, from where it stood, then every chunk made since. */
    const vchunk_t *c = mark->had_cur ? chunk_of(vs, mark->cur) : NULL;
    if (c != NULL && c->used > mark->used) {
        out[k++] = (tl_vrange_t){(uint32_t)mark->cur, mark->used, c->used - mark->used,
                                 c->data + mark->used};
    }
    for (uint64_t id = mark->next_id; id < vs->base + vs->nslots; id++) {
        c = chunk_of(vs, id);
        if (c == NULL || c->used == 0) continue;
        if (k == cap) {
            st = TL_EOVERFLOW;
            break;
        }
        out[k++] = (tl_vrange_t){(uint32_t)id, 0, c->used, c->data};
    }
    *n = k;
    pthread_mutex_unlock(&vs->mu);
    return st;
}

tl_status_t tl_vstore_ckpt_pin(tl_vstore_t *vs, const tl_allocator_t *a, tl_vckpt_t **out,
                               uint32_t *n) {
    pthread_mutex_lock(&vs->mu);
    uint32_t k = 0;
    for (uint64_t i = 0; i < vs->nslots; i++) k += vs->slot[i] != NULL && vs->slot[i]->live > 0;
    tl_vckpt_t *v = tl_mem_calloc(a, k ? k : 1, sizeof *v);
    if (v == NULL) {
        pthread_mutex_unlock(&vs->mu);
        return TL_ENOMEM;
    }
    uint32_t j = 0;
    for (uint64_t i = 0; i < vs->nslots; i++) {
        vchunk_t *c = vs->slot[i];
        if (c == NULL || c->live == 0) continue;
        c->io_pins++;
        v[j++] = (tl_vckpt_t){(uint32_t)(vs->base + i), c->used, c->data, c->file_id, c->blob,
                              c->disk_used};
    }
    pthread_mutex_unlock(&vs->mu);
    *out = v;
    *n = k;
    return TL_OK;
}

void tl_vstore_ckpt_unpin(tl_vstore_t *vs, const tl_allocator_t *a, tl_vckpt_t *v, uint32_t n,
                          bool written) {
    pthread_mutex_lock(&vs->mu);
    for (uint32_t i = 0; i < n; i++) {
        vchunk_t *c = chunk_of(vs, v[i].id);
        TL_ASSERT(c != NULL && c->io_pins > 0);
        c->io_pins--;
        if (written) {
            c->file_id = v[i].file_id;
            c->blob = v[i].blob;
            c->disk_used = v[i].disk_used;
        }
        chunk_maybe_free(vs, v[i].id);
    }
    pthread_mutex_unlock(&vs->mu);
    tl_mem_free(a, v, (n ? n : 1) * sizeof *v);
}
