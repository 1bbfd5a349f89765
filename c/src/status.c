/*
 * status.c — status texts, the per-log "last error" and the log hook.
 *
 * Structure: tl_strerror maps each status to a static string. Failures keep their context:
 * a writer-thread call that fails records "status + message with context" in the log object
 * (tl_err_set), readable with tl_last_error; the maintenance thread does not touch that
 * buffer (it has no owner thread to report to) but sends its failures through tl_log to
 * cfg.log_fn and counts them in maint_errors_total.
 *
 * Invariants: err is NUL-terminated and err_len == strlen(err); only the writer thread writes
 * it. Messages are truncated to TL_ERR_CAP - 1 bytes.
 * Complexity: O(message length).
 */
#include <stdarg.h>
#include <stdio.h>

#include "timelog_int.h"

const char *tl_strerror(int status) {
    switch (status) {
    case TL_OK: return "TL_OK: success";
    case TL_EOF: return "TL_EOF: end of data (iterator exhausted, no such timestamp, no work)";
    case TL_EINVAL: return "TL_EINVAL: invalid argument";
    case TL_ESTATE: return "TL_ESTATE: wrong state (log closed, wrong maintenance mode, misuse)";
    case TL_EBUSY: return "TL_EBUSY: write accepted under backpressure (do not retry)";
    case TL_ENOMEM: return "TL_ENOMEM: out of memory (a write inserted nothing)";
    case TL_EOVERFLOW: return "TL_EOVERFLOW: count or size overflow (a write inserted nothing)";
    case TL_EIO: return "TL_EIO: I/O failure (the message names the operation, file and errno)";
    case TL_ECORRUPT: return "TL_ECORRUPT: corrupt data (the message names the file and offset)";
    case TL_ELOCKED: return "TL_ELOCKED: directory held by another live log";
    case TL_EINTERNAL: return "TL_EINTERNAL: internal failure (thread or broken invariant)";
    default: return "unknown status";
    }
}

static uint32_t copy_out(const char *msg, size_t len, char *buf, uint32_t cap) {
    if (buf != NULL && cap > 0) {
        size_t k = len < (size_t)cap - 1 ? len : (size_t)cap - 1;
        memcpy(buf, msg, k);
        buf[k] = '\0';
    }
    return (uint32_t)len;
}

uint32_t tl_last_error(const tl_timelog_t *tl, char *buf, uint32_t cap) {
    if (tl == NULL) return copy_out("no log", 6, buf, cap);
    return copy_out(tl->err, tl->err_len, buf, cap);
}

tl_status_t tl_err_set(tl_timelog_t *tl, tl_status_t st, const char *fmt, ...) {
    char msg[TL_ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (k < 0) k = 0;
    int h = snprintf(tl->err, sizeof tl->err, "%s: %s", tl_strerror((int)st), msg);
    if (h < 0) h = 0;
    tl->err_len = (uint32_t)h < TL_ERR_CAP - 1 ? (uint32_t)h : TL_ERR_CAP - 1;
    return st;
}

void tl_log(tl_timelog_t *tl, int level, const char *fmt, ...) {
    if (tl->cfg.log_fn == NULL || level > tl->cfg.log_level) return;
    char msg[TL_ERR_CAP];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (k < 0) msg[0] = '\0';
    tl->cfg.log_fn(tl->cfg.log_ctx, level, msg);
}
