/*
 * dmanifest.c — encoding and validating decoding of the manifest payload (dmanifest.h).
 *
 * Layout (little-endian; docs/format.md "Manifest payload"):
 *     header 80 B | files u64[nfiles] | tombs {i64 lo, i64 hi, u64 seq}[ntombs]
 *     | runs {u64 wm, u32 npages, u32 0}[nruns] | pages {u32 file, u32 blob}[npages]
 *     | chunks {u32 id, u32 file, u32 blob, u32 0}[nchunks] (byte values; the count at 68)
 * and nothing after. Decoding checks sizes before reading anything they size (no count can make
 * it read past the payload or allocate more than the payload could describe), then every
 * ordering rule, and names the offset of the first field that breaks one.
 * Complexity: O(payload). The id set is a sorted array (checkpoints add a handful of ids).
 */
#include "disk/le.h"
#include "durable/dmanifest.h"

#define TOMB_BYTES 24u
#define RUN_BYTES 16u
#define PAGE_BYTES 8u
#define CHUNK_BYTES 16u

size_t tl_dm_bytes(const tl_dm_t *m) {
    return TL_DM_HEADER_BYTES + (size_t)m->files.n * 8u + (size_t)m->ntombs * TOMB_BYTES +
           (size_t)m->nruns * RUN_BYTES + (size_t)m->npages * PAGE_BYTES +
           (size_t)m->nchunks * CHUNK_BYTES;
}

void tl_dm_encode(const tl_dm_t *m, uint8_t *out) {
    memset(out, 0, TL_DM_HEADER_BYTES);
    tl_le32_store(out + 0, TL_DM_FORMAT);
    tl_le64_store(out + 8, m->seq);
    tl_le64_store(out + 16, m->part);
    tl_le64_store(out + 24, m->next_file);
    tl_le32_store(out + 32, m->time_unit);
    tl_le32_store(out + 36, m->value_kind);
    tl_le64_store(out + 40, (uint64_t)m->window_size);
    tl_le64_store(out + 48, (uint64_t)m->window_origin);
    tl_le32_store(out + 56, m->files.n);
    tl_le32_store(out + 60, m->ntombs);
    tl_le32_store(out + 64, m->nruns);
    tl_le32_store(out + 68, m->nchunks);
    tl_le64_store(out + 72, m->npages);
    uint8_t *p = out + TL_DM_HEADER_BYTES;
    for (uint32_t i = 0; i < m->files.n; i++, p += 8) tl_le64_store(p, m->files.v[i]);
    for (uint32_t i = 0; i < m->ntombs; i++, p += TOMB_BYTES) {
        tl_le64_store(p, (uint64_t)m->tombs[i].lo);
        tl_le64_store(p + 8, (uint64_t)m->tombs[i].hi);
        tl_le64_store(p + 16, m->tombs[i].seq);
    }
    for (uint32_t i = 0; i < m->nruns; i++, p += RUN_BYTES) {
        tl_le64_store(p, m->runs[i].wm);
        tl_le32_store(p + 8, m->runs[i].npages);
        tl_le32_store(p + 12, 0);
    }
    for (uint64_t i = 0; i < m->npages; i++, p += PAGE_BYTES) {
        tl_le32_store(p, m->pages[i].file);
        tl_le32_store(p + 4, m->pages[i].blob);
    }
    for (uint32_t i = 0; i < m->nchunks; i++, p += CHUNK_BYTES) {
        tl_le32_store(p, m->chunks[i].id);
        tl_le32_store(p + 4, m->chunks[i].file);
        tl_le32_store(p + 8, m->chunks[i].blob);
        tl_le32_store(p + 12, 0);
    }
}

void tl_dm_free(tl_dm_t *m, const tl_allocator_t *a) {
    tl_dm_ids_free(&m->files, a);
    tl_mem_free(a, m->tombs, (size_t)m->ntombs * sizeof *m->tombs);
    tl_mem_free(a, m->runs, (size_t)m->nruns * sizeof *m->runs);
    tl_mem_free(a, m->pages, (size_t)m->npages * sizeof *m->pages);
    tl_mem_free(a, m->chunks, (size_t)m->nchunks * sizeof *m->chunks);
    memset(m, 0, sizeof *m);
}

typedef struct dec {
    const uint8_t *p;
    size_t len;
    uint64_t *bad_off;
    const char **why;
} dec_t;

static tl_status_t bad(dec_t *d, uint64_t off, const char *why) {
    *d->bad_off = off;
    *d->why = why;
    return TL_ECORRUPT;
}

/* The header's counts against the payload's size, before anything is allocated. */
static tl_status_t header(dec_t *d, tl_dm_t *m) {
    const uint8_t *p = d->p;
    if (d->len < TL_DM_HEADER_BYTES) return bad(d, 0, "manifest payload shorter than its header");
    if (tl_le32_load(p) != TL_DM_FORMAT) return bad(d, 0, "unsupported manifest payload format");
    if (tl_le32_load(p + 4) != 0) return bad(d, 4, "manifest payload reserved field not zero");
    m->seq = tl_le64_load(p + 8);
    m->part = tl_le64_load(p + 16);
    m->next_file = tl_le64_load(p + 24);
    m->time_unit = tl_le32_load(p + 32);
    m->value_kind = tl_le32_load(p + 36);
    m->window_size = (int64_t)tl_le64_load(p + 40);
    m->window_origin = (int64_t)tl_le64_load(p + 48);
    uint64_t nfiles = tl_le32_load(p + 56), ntombs = tl_le32_load(p + 60);
    uint64_t nruns = tl_le32_load(p + 64), npages = tl_le64_load(p + 72);
    uint64_t nchunks = tl_le32_load(p + 68);
    if (m->time_unit > TL_TIME_NS || m->value_kind > TL_VALUES_BYTES) {
        return bad(d, 32, "unknown time unit or value kind");
    }
    if (nchunks != 0 && m->value_kind != TL_VALUES_BYTES) {
        return bad(d, 68, "value chunks in a log without byte values");
    }
    if (m->window_size <= 0) return bad(d, 40, "window size not positive");
    uint64_t room = d->len - TL_DM_HEADER_BYTES; /* every count below is bounded by it */
    if (npages > room / PAGE_BYTES || nruns > room / RUN_BYTES || ntombs > room / TOMB_BYTES ||
        nfiles > room / 8 || nchunks > room / CHUNK_BYTES ||
        nfiles * 8 + ntombs * TOMB_BYTES + nruns * RUN_BYTES + npages * PAGE_BYTES +
                nchunks * CHUNK_BYTES != room) {
        return bad(d, 56, "manifest payload counts do not match its length");
    }
    m->files.n = m->files.cap = (uint32_t)nfiles;
    m->ntombs = (uint32_t)ntombs;
    m->nruns = (uint32_t)nruns;
    m->npages = npages;
    m->nchunks = (uint32_t)nchunks;
    return TL_OK;
}

static tl_status_t alloc_arrays(tl_dm_t *m, const tl_allocator_t *a) {
    /* Zero counts allocate one byte (tl_mem_alloc) and free as such: sizes always match. */
    m->files.v = tl_mem_calloc(a, m->files.cap, 8);
    m->tombs = tl_mem_calloc(a, m->ntombs, sizeof *m->tombs);
    m->runs = tl_mem_calloc(a, m->nruns, sizeof *m->runs);
    m->pages = tl_mem_calloc(a, (size_t)m->npages, sizeof *m->pages);
    m->chunks = tl_mem_calloc(a, m->nchunks, sizeof *m->chunks);
    return m->files.v && m->tombs && m->runs && m->pages && m->chunks ? TL_OK : TL_ENOMEM;
}

static tl_status_t files_tombs(dec_t *d, tl_dm_t *m, uint64_t *off) {
    for (uint32_t i = 0; i < m->files.n; i++, *off += 8) {
        uint64_t id = tl_le64_load(d->p + *off);
        if (id == 0 || id >= m->next_file || (i > 0 && id <= m->files.v[i - 1])) {
            return bad(d, *off, "segment file ids not ascending below next_file");
        }
        m->files.v[i] = id;
    }
    for (uint32_t i = 0; i < m->ntombs; i++, *off += TOMB_BYTES) {
        tl_dm_tomb_t *t = &m->tombs[i];
        t->lo = (int64_t)tl_le64_load(d->p + *off);
        t->hi = (int64_t)tl_le64_load(d->p + *off + 8);
        t->seq = tl_le64_load(d->p + *off + 16);
        if (t->lo > t->hi || t->seq == 0 || t->seq > m->seq ||
            (i > 0 && t->lo <= m->tombs[i - 1].hi)) {
            return bad(d, *off, "tombstones not sorted, disjoint and within seq");
        }
    }
    return TL_OK;
}

static tl_status_t runs_pages(dec_t *d, tl_dm_t *m, uint64_t *off) {
    uint64_t first = 0;
    for (uint32_t i = 0; i < m->nruns; i++, *off += RUN_BYTES) {
        tl_dm_run_t *r = &m->runs[i];
        r->wm = tl_le64_load(d->p + *off);
        r->npages = tl_le32_load(d->p + *off + 8);
        if (tl_le32_load(d->p + *off + 12) != 0) return bad(d, *off + 12, "run reserved not zero");
        if (r->npages == 0 || r->wm > m->seq || r->npages > m->npages - first) {
            return bad(d, *off, "run page count or watermark out of range");
        }
        r->first = (uint32_t)first;
        first += r->npages;
    }
    if (first != m->npages) return bad(d, 72, "runs do not use every page");
    for (uint64_t i = 0; i < m->npages; i++, *off += PAGE_BYTES) {
        m->pages[i].file = tl_le32_load(d->p + *off);
        m->pages[i].blob = tl_le32_load(d->p + *off + 4);
        if (m->pages[i].file >= m->files.n) return bad(d, *off, "page names no listed file");
    }
    for (uint32_t i = 0; i < m->nchunks; i++, *off += CHUNK_BYTES) {
        tl_dm_chunk_t *c = &m->chunks[i];
        c->id = tl_le32_load(d->p + *off);
        c->file = tl_le32_load(d->p + *off + 4);
        c->blob = tl_le32_load(d->p + *off + 8);
        if (tl_le32_load(d->p + *off + 12) != 0) return bad(d, *off + 12, "chunk reserved not zero");
        if (c->file >= m->files.n || (i > 0 && c->id <= m->chunks[i - 1].id)) {
            return bad(d, *off, "value chunks not ascending or naming no listed file");
        }
    }
    return TL_OK;
}

tl_status_t tl_dm_decode(const uint8_t *payload, size_t len, const tl_allocator_t *a, tl_dm_t *m,
                         uint64_t *bad_off, const char **why) {
    memset(m, 0, sizeof *m);
    dec_t d = {payload, len, bad_off, why};
    tl_status_t st = header(&d, m);
    if (st != TL_OK || m->npages > UINT32_MAX) {
        memset(m, 0, sizeof *m);
        return st != TL_OK ? st : bad(&d, 72, "too many pages");
    }
    st = alloc_arrays(m, a);
    uint64_t off = TL_DM_HEADER_BYTES;
    if (st == TL_OK) st = files_tombs(&d, m, &off);
    if (st == TL_OK) st = runs_pages(&d, m, &off);
    if (st != TL_OK) tl_dm_free(m, a);
    return st;
}

/* ---- id sets ---- */

static uint32_t lower(const tl_dm_ids_t *s, uint64_t id) {
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

bool tl_dm_ids_has(const tl_dm_ids_t *s, uint64_t id) {
    uint32_t i = lower(s, id);
    return i < s->n && s->v[i] == id;
}

tl_status_t tl_dm_ids_add(tl_dm_ids_t *s, const tl_allocator_t *a, uint64_t id) {
    uint32_t i = lower(s, id);
    if (i < s->n && s->v[i] == id) return TL_OK;
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        uint64_t *v = tl_mem_alloc(a, (size_t)cap * sizeof *v);
        if (v == NULL) return TL_ENOMEM;
        if (s->n) memcpy(v, s->v, (size_t)s->n * sizeof *v);
        tl_mem_free(a, s->v, (size_t)s->cap * sizeof *v);
        s->v = v;
        s->cap = cap;
    }
    memmove(s->v + i + 1, s->v + i, (size_t)(s->n - i) * sizeof *s->v);
    s->v[i] = id;
    s->n++;
    return TL_OK;
}

void tl_dm_ids_free(tl_dm_ids_t *s, const tl_allocator_t *a) {
    tl_mem_free(a, s->v, (size_t)s->cap * sizeof *s->v);
    memset(s, 0, sizeof *s);
}
