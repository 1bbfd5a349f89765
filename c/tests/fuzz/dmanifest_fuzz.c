/*
 * dmanifest_fuzz.c — libFuzzer target: the engine's manifest payload decoder (tl_dm_decode,
 * c/src/durable/dmanifest.c), what recovery reads first and trusts to find every page.
 *
 * What it proves. Mode byte even: the rest of the input is a payload. tl_dm_decode never reads
 * outside it and either refuses it (TL_ECORRUPT, an offset inside it and a reason) or accepts a
 * manifest that keeps every rule the decoder promises — file ids ascending, non-zero and below
 * next_file; tombstones closed, sorted, disjoint, with seqs in [1, seq]; runs of at least one
 * page with watermarks <= seq that use every page exactly once, in order; pages naming listed
 * files; value chunks (byte-value logs only) with ascending ids naming listed files — and that
 * re-encodes to exactly the input. The same decode with an allocator failing
 * its n-th allocation (n from the input) returns TL_ENOMEM or the same verdict, and leaks
 * nothing either way. Mode byte odd: the rest describes a valid manifest (counts and values
 * from the input), which must encode, decode back field for field and re-encode identically;
 * then one byte of its encoding is flipped (where and how from the input): refused, or
 * accepted only as a manifest that re-encodes to the damaged bytes.
 */
#include "durable/dmanifest.h"
#include "fuzz_common.h"

/* ---- an allocator that counts what is live and can fail ---------------------------------- */

typedef struct {
    long calls, fail_at, live;
    long long live_bytes; /* each free must give back the size its allocation asked for */
} fz_alloc_t;

static void *fa_alloc(void *ctx, size_t n) {
    fz_alloc_t *a = ctx;
    if (++a->calls == a->fail_at) return NULL;
    void *p = malloc(n);
    if (p != NULL) {
        a->live++;
        a->live_bytes += (long long)n;
    }
    return p;
}

static void fa_free(void *ctx, void *p, size_t n) {
    fz_alloc_t *a = ctx;
    a->live--;
    a->live_bytes -= (long long)n;
    free(p);
}

/* ---- checks ------------------------------------------------------------------------------ */

/* Every rule an accepted manifest keeps; then it re-encodes to payload[0, len). */
static void check_accepted(const tl_dm_t *m, const uint8_t *payload, size_t len) {
    for (uint32_t i = 0; i < m->files.n; i++) {
        FZ_CHECK(m->files.v[i] != 0 && m->files.v[i] < m->next_file, "file id %u", i);
        FZ_CHECK(i == 0 || m->files.v[i] > m->files.v[i - 1], "file ids not ascending");
    }
    for (uint32_t i = 0; i < m->ntombs; i++) {
        const tl_dm_tomb_t *t = &m->tombs[i];
        FZ_CHECK(t->lo <= t->hi && t->seq >= 1 && t->seq <= m->seq, "tombstone %u", i);
        FZ_CHECK(i == 0 || t->lo > m->tombs[i - 1].hi, "tombstones overlap");
    }
    uint64_t next = 0;
    for (uint32_t i = 0; i < m->nruns; i++) {
        const tl_dm_run_t *r = &m->runs[i];
        FZ_CHECK(r->npages >= 1 && r->wm <= m->seq && r->first == next, "run %u", i);
        next += r->npages;
    }
    FZ_CHECK(next == m->npages, "runs use %" PRIu64 " of %" PRIu64 " pages", next, m->npages);
    for (uint64_t i = 0; i < m->npages; i++) {
        FZ_CHECK(m->pages[i].file < m->files.n, "page %" PRIu64 " names no file", i);
    }
    for (uint32_t i = 0; i < m->nchunks; i++) {
        FZ_CHECK(m->value_kind == TL_VALUES_BYTES && m->chunks[i].file < m->files.n &&
                 (i == 0 || m->chunks[i].id > m->chunks[i - 1].id), "chunk %u", i);
    }
    FZ_CHECK(m->window_size > 0 && m->time_unit <= TL_TIME_NS && m->value_kind <= TL_VALUES_BYTES,
             "settings");
    size_t n = tl_dm_bytes(m);
    FZ_CHECK(n == len, "re-encoded size %zu, payload %zu", n, len);
    uint8_t *again = malloc(n);
    FZ_CHECK(again != NULL, "oom");
    tl_dm_encode(m, again);
    FZ_CHECK(memcmp(again, payload, n) == 0, "re-encoding differs from the payload");
    free(again);
}

/* Decodes payload; checks the verdict; returns it. */
static tl_status_t decode_checked(const uint8_t *payload, size_t len, long fail_at) {
    fz_alloc_t fa = {0, fail_at, 0, 0};
    tl_allocator_t a = {&fa, fa_alloc, fa_free};
    tl_dm_t m;
    uint64_t off = UINT64_MAX;
    const char *why = NULL;
    tl_status_t st = tl_dm_decode(payload, len, &a, &m, &off, &why);
    if (st == TL_OK) {
        check_accepted(&m, payload, len);
        tl_dm_free(&m, &a);
    } else if (st == TL_ECORRUPT) {
        FZ_CHECK(off < len || (len < TL_DM_HEADER_BYTES && off == 0), "offset %" PRIu64
                 " outside %zu bytes", off, len);
        FZ_CHECK(why != NULL && why[0] != '\0', "no reason");
    } else {
        FZ_CHECK(st == TL_ENOMEM && fail_at > 0 && fa.calls >= fail_at, "status %d", st);
    }
    FZ_CHECK(fa.live == 0 && fa.live_bytes == 0, "%ld allocations (%lld bytes) leaked (status %d)",
             fa.live, fa.live_bytes, st);
    return st;
}

/* ---- a valid manifest from the input ----------------------------------------------------- */

typedef struct {
    tl_dm_t m;
    uint64_t ids[8];
    tl_dm_tomb_t tombs[8];
    tl_dm_run_t runs[8];
    tl_dm_page_t pages[32];
    tl_dm_chunk_t chunks[8];
} built_t;

static void build(fz_in_t *in, built_t *b) {
    memset(b, 0, sizeof *b);
    tl_dm_t *m = &b->m;
    m->seq = fz_u64(in);
    m->part = fz_u64(in);
    m->time_unit = fz_u8(in) % 4;
    m->value_kind = fz_u8(in) % 3;
    m->window_size = (int64_t)(fz_u64(in) >> 1);
    if (m->window_size == 0) m->window_size = 1;
    m->window_origin = (int64_t)fz_u64(in);
    uint64_t id = 0;
    m->files.v = b->ids;
    m->files.n = m->files.cap = fz_u8(in) % 9;
    for (uint32_t i = 0; i < m->files.n; i++) b->ids[i] = id += 1 + fz_u8(in);
    m->next_file = id + 1 + fz_u8(in);
    m->tombs = b->tombs;
    int64_t lo = fz_ts(in);
    for (uint32_t i = 0, nt = m->seq ? fz_u8(in) % 9 : 0; i < nt; i++) {
        uint16_t w = fz_u16(in);
        if (lo > INT64_MAX - w) break;
        b->tombs[i] = (tl_dm_tomb_t){lo, lo + w, 1 + fz_u64(in) % m->seq};
        m->ntombs++;
        uint16_t gap = fz_u16(in);
        if (lo + w > INT64_MAX - 1 - gap) break;
        lo = lo + w + 1 + gap;
    }
    m->runs = b->runs;
    m->pages = b->pages;
    for (uint32_t i = 0, nr = m->files.n ? fz_u8(in) % 9 : 0; i < nr; i++) {
        uint32_t np = 1 + fz_u8(in) % 4;
        b->runs[i] = (tl_dm_run_t){fz_u64(in) % (m->seq == UINT64_MAX ? m->seq : m->seq + 1),
                                   np, (uint32_t)m->npages};
        for (uint32_t k = 0; k < np; k++) {
            b->pages[m->npages++] = (tl_dm_page_t){fz_u8(in) % m->files.n, (uint32_t)fz_u64(in)};
        }
        m->nruns++;
    }
    m->chunks = b->chunks;
    uint32_t cid = 0;
    for (uint32_t i = 0, nc = m->value_kind == TL_VALUES_BYTES && m->files.n ? fz_u8(in) % 9 : 0;
         i < nc; i++) {
        cid += 1 + fz_u8(in);
        b->chunks[i] = (tl_dm_chunk_t){cid, fz_u8(in) % m->files.n, (uint32_t)fz_u64(in)};
        m->nchunks++;
    }
}

static void roundtrip(fz_in_t *in) {
    built_t b;
    build(in, &b);
    size_t n = tl_dm_bytes(&b.m);
    uint8_t *enc = malloc(n);
    FZ_CHECK(enc != NULL, "oom");
    tl_dm_encode(&b.m, enc);
    tl_dm_t m;
    uint64_t off = 0;
    const char *why = NULL;
    tl_status_t st = tl_dm_decode(enc, n, NULL, &m, &off, &why);
    FZ_CHECK(st == TL_OK, "a valid manifest refused at %" PRIu64 ": %s", off, why);
    FZ_CHECK(m.seq == b.m.seq && m.part == b.m.part && m.next_file == b.m.next_file &&
             m.time_unit == b.m.time_unit && m.value_kind == b.m.value_kind &&
             m.window_size == b.m.window_size && m.window_origin == b.m.window_origin,
             "header fields");
    FZ_CHECK(m.files.n == b.m.files.n && m.ntombs == b.m.ntombs && m.nruns == b.m.nruns &&
             m.npages == b.m.npages && m.nchunks == b.m.nchunks, "counts");
    for (uint32_t i = 0; i < m.nchunks; i++) {
        FZ_CHECK(m.chunks[i].id == b.chunks[i].id && m.chunks[i].file == b.chunks[i].file &&
                 m.chunks[i].blob == b.chunks[i].blob, "chunk %u", i);
    }
    for (uint32_t i = 0; i < m.files.n; i++) FZ_CHECK(m.files.v[i] == b.ids[i], "file %u", i);
    for (uint32_t i = 0; i < m.ntombs; i++) {
        FZ_CHECK(m.tombs[i].lo == b.tombs[i].lo && m.tombs[i].hi == b.tombs[i].hi &&
                 m.tombs[i].seq == b.tombs[i].seq, "tombstone %u", i);
    }
    for (uint32_t i = 0; i < m.nruns; i++) {
        FZ_CHECK(m.runs[i].wm == b.runs[i].wm && m.runs[i].npages == b.runs[i].npages &&
                 m.runs[i].first == b.runs[i].first, "run %u", i);
    }
    for (uint64_t i = 0; i < m.npages; i++) {
        FZ_CHECK(m.pages[i].file == b.pages[i].file && m.pages[i].blob == b.pages[i].blob,
                 "page %" PRIu64, i);
    }
    check_accepted(&m, enc, n);
    tl_dm_free(&m, NULL);
    /* one flipped byte: refused, or a manifest that is exactly the damaged bytes */
    size_t at = (size_t)(fz_u64(in) % n);
    enc[at] ^= (uint8_t)(fz_u8(in) | 1);
    decode_checked(enc, n, 0);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] % 2 == 0) {
        tl_status_t st = decode_checked(data + 1, size - 1, 0);
        /* again with the (data[0] / 2)-th allocation failing: ENOMEM or the same verdict */
        tl_status_t st2 = decode_checked(data + 1, size - 1, 1 + data[0] / 2 % 5);
        FZ_CHECK(st2 == st || st2 == TL_ENOMEM, "verdict %d, with a failing allocator %d", st,
                 st2);
    } else {
        fz_in_t in = {data + 1, size - 1, 0};
        roundtrip(&in);
    }
    return 0;
}
