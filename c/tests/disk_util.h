/*
 * disk_util.h — helpers shared by the disk-layer tests (header-only): deterministic payloads
 * per sequence number, a record collector that checks every payload it receives, byte flips
 * on simfs files, and a WAL append that relieves backpressure by writing.
 */
#ifndef TL_TESTS_DISK_UTIL_H
#define TL_TESTS_DISK_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/wal.h"
#include "simfs.h"

/* The payload of record seq: length from the seq (0 .. lmax-1, 0 now and then), bytes a
 * function of (seq, index). Written and re-derived on read, so any wrong byte is caught. */
static inline uint32_t du_payload(uint64_t seq, uint8_t *buf, uint32_t lmax) {
    uint32_t len = seq % 11 == 0 ? 0 : (uint32_t)((seq * 2654435761u) % lmax);
    for (uint32_t i = 0; i < len; i++) buf[i] = (uint8_t)(seq * 31 + i * 7 + (i >> 8));
    return len;
}

static inline uint8_t du_type(uint64_t seq) { return (uint8_t)(1 + seq % 200); }

/* Collects delivered records; `bad` counts records whose type, flags or payload are not the
 * ones du_payload/du_type give for their seq, or whose seq does not increase. */
typedef struct {
    uint64_t *seqs;
    size_t n, cap;
    uint64_t bad;
    uint32_t lmax;
} du_col_t;

static inline tl_status_t du_collect(void *ctx, const tl_wal_rec_t *r) {
    du_col_t *c = ctx;
    static uint8_t want[1 << 16];
    uint32_t len = du_payload(r->seq, want, c->lmax);
    if (r->len != len || memcmp(r->payload, want, len) != 0 || r->type != du_type(r->seq) ||
        r->flags != (uint8_t)r->seq || (c->n > 0 && r->seq <= c->seqs[c->n - 1])) {
        c->bad++;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->seqs = realloc(c->seqs, c->cap * sizeof *c->seqs);
        if (c->seqs == NULL) abort();
    }
    c->seqs[c->n++] = r->seq;
    return TL_OK;
}

static inline void du_col_reset(du_col_t *c) {
    c->n = 0;
    c->bad = 0;
}

static inline void du_col_free(du_col_t *c) {
    free(c->seqs);
    *c = (du_col_t){0};
}

/* Appends record seq (du_payload, du_type, flags = low byte of seq); on EBUSY writes the
 * buffer out and tries once more. */
static inline tl_status_t du_append(tl_wal_t *w, uint64_t seq, uint32_t lmax, tl_io_err_t *e) {
    static uint8_t buf[1 << 16];
    uint32_t len = du_payload(seq, buf, lmax);
    tl_status_t st = tl_wal_append(w, seq, du_type(seq), (uint8_t)seq, buf, len, e);
    if (st != TL_EBUSY) return st;
    st = tl_wal_write(w, e);
    return st == TL_OK ? tl_wal_append(w, seq, du_type(seq), (uint8_t)seq, buf, len, e) : st;
}

/* XORs one byte of a simfs file (durably). */
static inline void du_flip(tl_simfs_t *fs, const char *path, size_t off, uint8_t mask) {
    uint8_t *d = NULL;
    size_t n = 0;
    if (tl_simfs_get(fs, path, &d, &n) != 0 || off >= n) abort();
    d[off] ^= mask;
    tl_simfs_put(fs, path, d, n);
    free(d);
}

/* Cuts a simfs file to len bytes (durably). */
static inline void du_cut(tl_simfs_t *fs, const char *path, size_t len) {
    uint8_t *d = NULL;
    size_t n = 0;
    if (tl_simfs_get(fs, path, &d, &n) != 0 || len > n) abort();
    tl_simfs_put(fs, path, d, len);
    free(d);
}

/* Grows a simfs file to len bytes of `fill` (durably). */
static inline void du_grow(tl_simfs_t *fs, const char *path, size_t len, uint8_t fill) {
    uint8_t *d = NULL;
    size_t n = 0;
    if (tl_simfs_get(fs, path, &d, &n) != 0 || len < n) abort();
    uint8_t *g = realloc(d, len);
    if (g == NULL) abort();
    memset(g + n, fill, len - n);
    tl_simfs_put(fs, path, g, len);
    free(g);
}

static inline size_t du_size(tl_simfs_t *fs, const char *path) {
    uint8_t *d = NULL;
    size_t n = 0;
    if (tl_simfs_get(fs, path, &d, &n) != 0) return (size_t)-1;
    free(d);
    return n;
}

static inline const char *du_seg(char *buf, const char *dir, uint64_t num) {
    char name[TL_WAL_NAME_CAP];
    tl_wal_name(name, num);
    snprintf(buf, TL_IO_PATH_CAP, "%s/%s", dir, name);
    return buf;
}

#endif /* TL_TESTS_DISK_UTIL_H */
