/*
 * config.c — defaults, the FFI setter and validation of tl_config_t.
 *
 * Structure: tl_config_init_defaults writes the documented defaults; tl_config_set checks one
 * key's range and leaves the struct unchanged on EINVAL; tl_config_normalize (used by tl_open)
 * validates cross-field rules and replaces zeros by defaults, writing a private copy the log
 * keeps, so the caller's struct is never referenced after tl_open returns.
 *
 * Limits keep internal arithmetic in 32 bits: page_records <= 2^24, memtable_records <= 2^30
 * (the writer publishes (active, head) counts packed in one 64-bit word), ooo_head_records
 * <= 2^24, list lengths <= 2^16.
 */
#include "timelog_int.h"

#define PAGE_MIN 64u
#define PAGE_MAX (1u << 24)
#define MEMTABLE_MAX (1u << 30)
#define HEAD_MAX (1u << 24)
#define LIST_MAX (1u << 16)
#define WAL_SEG_MIN 4096 /* the WAL's own limits (disk/wal.h), repeated: config needs no I/O */
#define WAL_SEG_MAX ((int64_t)1 << 30)

void tl_config_init_defaults(tl_config_t *cfg) {
    if (cfg == NULL) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->time_unit = TL_TIME_MS;
    cfg->maintenance = TL_MAINT_BACKGROUND;
    cfg->page_records = 4096;
    cfg->memtable_records = 262144;
    cfg->ooo_head_records = 2048;
    cfg->ooo_runs_max = 32;
    cfg->sealed_max = 4;
    cfg->l0_max = 4;
    cfg->busy_wait_ms = 20;
    cfg->maint_interval_ms = 100;
    cfg->window_size = 0;
    cfg->window_origin = 0;
    cfg->log_level = TL_LOG_WARN;
    cfg->idle_ms = 300;
    cfg->durability = TL_DURABILITY_INTERVAL;
    cfg->sync_interval_ms = 100;
    cfg->wal_segment_bytes = (uint64_t)64 << 20;
    cfg->checkpoint_bytes = (uint64_t)64 << 20;
}

uint32_t tl_config_size(void) { return (uint32_t)sizeof(tl_config_t); }

static bool in_range(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

tl_status_t tl_config_set(tl_config_t *cfg, int32_t key, int64_t value) {
    if (cfg == NULL) return TL_EINVAL;
    switch (key) {
    case TL_CFG_TIME_UNIT:
        if (!in_range(value, TL_TIME_S, TL_TIME_NS)) return TL_EINVAL;
        cfg->time_unit = (tl_time_unit_t)value;
        return TL_OK;
    case TL_CFG_MAINTENANCE:
        if (!in_range(value, TL_MAINT_BACKGROUND, TL_MAINT_MANUAL)) return TL_EINVAL;
        cfg->maintenance = (tl_maint_mode_t)value;
        return TL_OK;
    case TL_CFG_PAGE_RECORDS:
        if (!in_range(value, PAGE_MIN, PAGE_MAX)) return TL_EINVAL;
        cfg->page_records = (uint32_t)value;
        return TL_OK;
    case TL_CFG_MEMTABLE_RECORDS:
        if (!in_range(value, 0, MEMTABLE_MAX)) return TL_EINVAL;
        cfg->memtable_records = (uint32_t)value;
        return TL_OK;
    case TL_CFG_OOO_HEAD_RECORDS:
        if (!in_range(value, 0, HEAD_MAX)) return TL_EINVAL;
        cfg->ooo_head_records = (uint32_t)value;
        return TL_OK;
    case TL_CFG_OOO_RUNS_MAX:
        if (!in_range(value, 0, LIST_MAX)) return TL_EINVAL;
        cfg->ooo_runs_max = (uint32_t)value;
        return TL_OK;
    case TL_CFG_SEALED_MAX:
        if (!in_range(value, 0, LIST_MAX)) return TL_EINVAL;
        cfg->sealed_max = (uint32_t)value;
        return TL_OK;
    case TL_CFG_L0_MAX:
        if (!in_range(value, 0, LIST_MAX)) return TL_EINVAL;
        cfg->l0_max = (uint32_t)value;
        return TL_OK;
    case TL_CFG_BUSY_WAIT_MS:
        if (!in_range(value, 0, UINT32_MAX)) return TL_EINVAL;
        cfg->busy_wait_ms = (uint32_t)value;
        return TL_OK;
    case TL_CFG_MAINT_INTERVAL_MS:
        if (!in_range(value, 0, UINT32_MAX)) return TL_EINVAL;
        cfg->maint_interval_ms = (uint32_t)value;
        return TL_OK;
    case TL_CFG_WINDOW_SIZE:
        if (value < 0) return TL_EINVAL;
        cfg->window_size = value;
        return TL_OK;
    case TL_CFG_WINDOW_ORIGIN: cfg->window_origin = value; return TL_OK;
    case TL_CFG_LOG_LEVEL:
        if (!in_range(value, TL_LOG_ERROR, TL_LOG_DEBUG)) return TL_EINVAL;
        cfg->log_level = (int)value;
        return TL_OK;
    case TL_CFG_IDLE_MS:
        if (!in_range(value, 0, UINT32_MAX)) return TL_EINVAL;
        cfg->idle_ms = (uint32_t)value;
        return TL_OK;
    case TL_CFG_VALUE_KIND:
        if (!in_range(value, TL_VALUES_HANDLE, TL_VALUES_BYTES)) return TL_EINVAL;
        cfg->value_kind = (uint32_t)value;
        return TL_OK;
    case TL_CFG_RAW_PAGES:
        if (!in_range(value, 0, 1)) return TL_EINVAL;
        cfg->raw_pages = (uint32_t)value;
        return TL_OK;
    case TL_CFG_DURABILITY:
        if (!in_range(value, TL_DURABILITY_INTERVAL, TL_DURABILITY_NONE)) return TL_EINVAL;
        cfg->durability = (uint32_t)value;
        return TL_OK;
    case TL_CFG_SYNC_INTERVAL_MS:
        if (!in_range(value, 1, 3600000)) return TL_EINVAL;
        cfg->sync_interval_ms = (uint32_t)value;
        return TL_OK;
    case TL_CFG_WAL_SEGMENT_BYTES:
        if (!in_range(value, WAL_SEG_MIN, WAL_SEG_MAX) || value % 8 != 0) return TL_EINVAL;
        cfg->wal_segment_bytes = (uint64_t)value;
        return TL_OK;
    case TL_CFG_CHECKPOINT_BYTES:
        if (!in_range(value, 0, INT64_MAX)) return TL_EINVAL;
        cfg->checkpoint_bytes = (uint64_t)value;
        return TL_OK;
    case TL_CFG_REPAIR:
        if (!in_range(value, 0, 1)) return TL_EINVAL;
        cfg->repair = (uint32_t)value;
        return TL_OK;
    default: return TL_EINVAL;
    }
}

tl_status_t tl_config_set_path(tl_config_t *cfg, const char *path, uint32_t len) {
    if (cfg == NULL || (len > 0 && path == NULL) || len >= TL_PATH_CAP) return TL_EINVAL;
    if (len > 0 && memchr(path, 0, len) != NULL) return TL_EINVAL;
    if (len > 0) memcpy(cfg->path, path, len);
    cfg->path[len] = '\0';
    return TL_OK;
}

tl_status_t tl_config_set_drop_queue(tl_config_t *cfg, tl_dropq_t *q) {
    if (cfg == NULL) return TL_EINVAL;
    cfg->drop_queue = q;
    return TL_OK;
}

static int64_t hour_in(tl_time_unit_t u) {
    switch (u) {
    case TL_TIME_S: return 3600;
    case TL_TIME_MS: return 3600LL * 1000;
    case TL_TIME_US: return 3600LL * 1000 * 1000;
    default: return 3600LL * 1000 * 1000 * 1000;
    }
}

static uint32_t or_default(uint32_t v, uint32_t def) { return v == 0 ? def : v; }

tl_status_t tl_config_normalize(const tl_config_t *in, tl_config_t *out) {
    tl_config_t def;
    tl_config_init_defaults(&def);
    if (in == NULL) in = &def;
    if ((int)in->time_unit < TL_TIME_S || (int)in->time_unit > TL_TIME_NS) return TL_EINVAL;
    if ((int)in->maintenance < TL_MAINT_BACKGROUND || (int)in->maintenance > TL_MAINT_MANUAL)
        return TL_EINVAL;
    if (in->page_records < PAGE_MIN || in->page_records > PAGE_MAX) return TL_EINVAL;
    if (in->memtable_records > MEMTABLE_MAX || in->ooo_head_records > HEAD_MAX) return TL_EINVAL;
    if (in->ooo_runs_max > LIST_MAX || in->sealed_max > LIST_MAX || in->l0_max > LIST_MAX)
        return TL_EINVAL;
    if (in->window_size < 0) return TL_EINVAL;
    if (in->log_level < TL_LOG_ERROR || in->log_level > TL_LOG_DEBUG) return TL_EINVAL;
    if (in->on_drop != NULL && in->drop_queue != NULL) return TL_EINVAL;
    if ((in->allocator.alloc == NULL) != (in->allocator.free == NULL)) return TL_EINVAL;
    if (in->value_kind > TL_VALUES_BYTES || in->raw_pages > 1) return TL_EINVAL;
    if (memchr(in->path, 0, TL_PATH_CAP) == NULL) return TL_EINVAL; /* unterminated */
    if (in->durability > TL_DURABILITY_NONE || in->repair > 1) return TL_EINVAL;
    if (in->path[0] != '\0' && in->wal_segment_bytes != 0 &&
        (in->wal_segment_bytes < WAL_SEG_MIN ||
                                 in->wal_segment_bytes > WAL_SEG_MAX ||
                                 in->wal_segment_bytes % 8 != 0)) {
        return TL_EINVAL;
    }
    *out = *in;
    out->memtable_records = or_default(in->memtable_records, def.memtable_records);
    out->ooo_head_records = or_default(in->ooo_head_records, def.ooo_head_records);
    out->ooo_runs_max = or_default(in->ooo_runs_max, def.ooo_runs_max);
    out->sealed_max = or_default(in->sealed_max, def.sealed_max);
    out->l0_max = or_default(in->l0_max, def.l0_max);
    out->maint_interval_ms = or_default(in->maint_interval_ms, def.maint_interval_ms);
    out->sync_interval_ms = or_default(in->sync_interval_ms, def.sync_interval_ms);
    if (out->wal_segment_bytes == 0) out->wal_segment_bytes = def.wal_segment_bytes;
    if (out->checkpoint_bytes == 0) out->checkpoint_bytes = def.checkpoint_bytes;
    if (out->window_size == 0) out->window_size = hour_in(out->time_unit);
    if (out->allocator.alloc == NULL) out->allocator = *tl_default_allocator();
    return TL_OK;
}
