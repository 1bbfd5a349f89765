/*
 * dfiles.c — the durable layer's small shared pieces: segment file names and the table of segment files a manifest names. A leaf: dur.c, recover.c and checkpoint.c
 * all use it, and it calls none of them.
 */
#include <stdio.h>

#include "durable/dur_int.h"

void tl_dur_seg_name(char out[TL_DUR_SEG_NAME_CAP], uint64_t id) {
    snprintf(out, TL_DUR_SEG_NAME_CAP, "seg-%016llx.tls", (unsigned long long)id);
}

bool tl_dur_seg_parse(const char *name, uint64_t *id) {
    if (strlen(name) != TL_DUR_SEG_NAME_CAP - 1 || memcmp(name, "seg-", 4) != 0 ||
        strcmp(name + 20, ".tls") != 0) {
        return false;
    }
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (x < 0) return false;
        v = v << 4 | (uint64_t)x;
    }
    *id = v;
    return v != 0;
}

/* ---- the file table ---- */

static uint32_t lower(const tl_dur_files_t *t, uint64_t id) {
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

tl_dur_file_t *tl_dur_files_find(const tl_dur_files_t *t, uint64_t id) {
    uint32_t i = lower(t, id);
    return i < t->n && t->v[i].id == id ? &t->v[i] : NULL;
}

tl_status_t tl_dur_files_add(tl_dur_files_t *t, const tl_allocator_t *a, uint64_t id,
                             uint64_t blobs, uint64_t bytes) {
    uint32_t i = lower(t, id);
    if (i == t->n || t->v[i].id != id) {
        if (t->n == t->cap) {
            uint32_t cap = t->cap ? t->cap * 2 : 16;
            tl_dur_file_t *v = tl_mem_alloc(a, (size_t)cap * sizeof *v);
            if (v == NULL) return TL_ENOMEM;
            if (t->n) memcpy(v, t->v, (size_t)t->n * sizeof *v);
            tl_mem_free(a, t->v, (size_t)t->cap * sizeof *v);
            t->v = v;
            t->cap = cap;
        }
        memmove(t->v + i + 1, t->v + i, (size_t)(t->n - i) * sizeof *t->v);
        t->n++;
    }
    t->v[i] = (tl_dur_file_t){id, blobs, bytes};
    return TL_OK;
}

void tl_dur_files_free(tl_dur_files_t *t, const tl_allocator_t *a) {
    tl_mem_free(a, t->v, (size_t)t->cap * sizeof *t->v);
    memset(t, 0, sizeof *t);
}
