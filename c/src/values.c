/*
 * values.c — the public side of byte values (timelog.h, "Byte values"): appends that store
 * each value in the log's value store (vstore.h) and write the records with the handles it
 * gives, reads that turn handles back into bytes, and the store's figures.
 *
 * An append stores the values first, then writes the records through the ordinary write path
 * (write.c, tl_write_bytes: one sequence number, all or nothing; a durable log logs the
 * values' bytes with the call). When the records are not inserted (the sequence did not move:
 * ENOMEM, EOVERFLOW, a closed log) the values are taken back, so a failed call leaves neither
 * records nor bytes behind. EBUSY means accepted, as for every append.
 * Complexity: O(n + bytes) per call, one copy of the bytes into the store.
 */
#include "timelog_int.h"
#include "vstore.h"

static tl_status_t bytes_check(tl_timelog_t *tl, const void *ts, const uint8_t *data,
                               const uint32_t *ends, uint32_t n) {
    tl_status_t st = tl_check_open(tl);
    if (st != TL_OK) return st;
    if (tl->vs == NULL) return tl_err_set(tl, TL_EINVAL, "append_bytes: not a bytes log");
    if (n > 0 && (ts == NULL || ends == NULL || (data == NULL && ends[n - 1] > 0))) {
        return TL_EINVAL;
    }
    if (tl->dur != NULL) { /* a segment file's blob holds a chunk: at most 1 GiB */
        for (uint32_t i = 0, start = 0; i < n; start = ends[i++]) {
            if (ends[i] >= start && ends[i] - start > TL_VALUE_DURABLE_MAX) {
                return tl_err_set(tl, TL_EINVAL, "append_bytes: value %u is %u bytes; a durable "
                                  "log stores values of at most %u", i, ends[i] - start,
                                  (unsigned)TL_VALUE_DURABLE_MAX);
            }
        }
    }
    return TL_OK;
}

tl_status_t tl_append_bytes(tl_timelog_t *tl, const int64_t *ts, const uint8_t *data,
                            const uint32_t *ends, uint32_t n, uint32_t flags) {
    tl_status_t st = bytes_check(tl, ts, data, ends, n);
    if (st != TL_OK) return st;
    if (flags != 0) return TL_EINVAL;
    return tl_write_bytes(tl, ts, data, ends, n);
}

tl_status_t tl_append_bytes_f64(tl_timelog_t *tl, const double *ts, const uint8_t *data,
                                const uint32_t *ends, uint32_t n, uint32_t flags) {
    tl_status_t st = bytes_check(tl, ts, data, ends, n);
    if (st != TL_OK) return st;
    if ((flags & ~TL_F64_SAFE) != 0) return TL_EINVAL;
    if (n == 0) return TL_OK;
    const double lim = (flags & TL_F64_SAFE) ? TL_F64_SAFE_LIM : TL_F64_LIM;
    int64_t *conv = tl_mem_alloc(&tl->cfg.allocator, (size_t)n * sizeof *conv);
    if (conv == NULL) return tl_err_set(tl, TL_ENOMEM, "append_bytes_f64 of %u records", n);
    for (uint32_t i = 0; i < n && st == TL_OK; i++) {
        if (!tl_f64_to_ts_within(ts[i], lim, &conv[i])) st = TL_EINVAL;
    }
    if (st == TL_OK) st = tl_write_bytes(tl, conv, data, ends, n);
    tl_mem_free(&tl->cfg.allocator, conv, (size_t)n * sizeof *conv);
    return st;
}

tl_status_t tl_values_read(tl_timelog_t *tl, const uint64_t *h, uint32_t n, uint8_t *buf,
                           uint64_t cap, uint32_t *ends, uint64_t *need) {
    if (tl == NULL || tl->vs == NULL || need == NULL) return TL_EINVAL;
    if (n > 0 && (h == NULL || ends == NULL || (buf == NULL && cap > 0))) return TL_EINVAL;
    return tl_vstore_read(tl->vs, h, n, buf, cap, ends, need);
}

tl_status_t tl_values_stats(tl_timelog_t *tl, uint64_t out[4]) {
    if (tl == NULL || tl->vs == NULL || out == NULL) return TL_EINVAL;
    tl_vstats_t v;
    tl_vstore_stats(tl->vs, &v);
    out[0] = v.values;
    out[1] = v.live_bytes;
    out[2] = v.held_bytes;
    out[3] = v.retired;
    return TL_OK;
}
