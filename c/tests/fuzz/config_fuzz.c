/*
 * config_fuzz.c — libFuzzer target: the argument surface of the C API.
 *
 * What it proves. For any byte string read as a program of calls:
 *   - tl_config_set with fuzzed keys and values: unknown keys and out-of-range values give
 *     EINVAL and leave the struct byte-for-byte unchanged; OK stores exactly the value in the
 *     field the key names; enum and uint32 fields never accept a value they cannot hold;
 *   - tl_open on the resulting config (or NULL): OK, EINVAL or ENOMEM, *out NULL on failure,
 *     through a counting allocator that fails large requests (so a huge memtable is ENOMEM,
 *     not a crash); an opened log takes writes and reads and closes; every byte allocated is
 *     freed with the size it was allocated with (checked per block);
 *   - cross-field rules: on_drop and drop_queue together, or an allocator with one hook, EINVAL;
 *   - tl_strerror on any int: never NULL, known codes start with "TL_", others are
 *     "unknown status"; tl_last_error with NULL or a live log and any cap: the return value is
 *     the full length and the copy is NUL-terminated within cap (buffers are exact-size heap
 *     blocks, so ASan sees any write past cap);
 *   - the calls documented to accept NULL (tl_close, tl_snapshot_release, tl_iter_destroy,
 *     tl_dropq_release, tl_config_set_drop_queue(cfg, NULL), tl_open(NULL cfg)) do, and NULL
 *     objects where EINVAL is documented give EINVAL;
 *   - drop queues: create with or without allocator and doorbell, fed by a log's drops,
 *     drained with fuzzed caps interleaved with pending (pending + drained == pushed; each
 *     handle exactly once), shutdown (retried while EBUSY), release (EBUSY before shutdown when
 *     a doorbell is set, then OK).
 *
 * How. Opcodes and arguments are read from the input (fuzz_common.h); all state is per input.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "fuzz_common.h"

/* ----------------------------------------------------------------------------------------
 * Counting allocator: sized frees checked, large or post-budget requests fail
 * -------------------------------------------------------------------------------------- */

#define HDR 16u
#define BIG_REQUEST ((size_t)64 << 20)

typedef struct {
    pthread_mutex_t mu;
    size_t live_bytes;
    long live_blocks, fail_one_in, count;
} ca_t;

static void *ca_alloc(void *ctx, size_t size) {
    ca_t *a = ctx;
    pthread_mutex_lock(&a->mu);
    bool fail = size > BIG_REQUEST || (a->fail_one_in && ++a->count % a->fail_one_in == 0);
    pthread_mutex_unlock(&a->mu);
    if (fail) return NULL;
    unsigned char *p = malloc(size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    pthread_mutex_lock(&a->mu);
    a->live_bytes += size;
    a->live_blocks++;
    pthread_mutex_unlock(&a->mu);
    return p + HDR;
}

static void ca_free(void *ctx, void *ptr, size_t size) {
    ca_t *a = ctx;
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t got;
    memcpy(&got, p, sizeof got);
    FZ_CHECK(got == size, "sized free: %zu freed, %zu allocated", size, got);
    pthread_mutex_lock(&a->mu);
    a->live_bytes -= size;
    a->live_blocks--;
    pthread_mutex_unlock(&a->mu);
    free(p);
}

/* ----------------------------------------------------------------------------------------
 * tl_config_set
 * -------------------------------------------------------------------------------------- */

static int64_t fz_value(fz_in_t *in) {
    static const int64_t edge[16] = {0, 1, -1, 2, 3, 4, 63, 64, 65, 4096, UINT32_MAX,
                                     (int64_t)UINT32_MAX + 1, INT64_MAX, INT64_MIN,
                                     1 << 24, (1 << 30) + 1};
    uint8_t s = fz_u8(in);
    if (s < 64) return (int64_t)s - 8;
    if (s < 160) return edge[s & 15];
    if (s < 224) return (int64_t)fz_u16(in) << (s & 31);
    return (int64_t)fz_u64(in);
}

/* Reads back the field a key names (as int64), or false for unknown keys. */
static bool field_of(const tl_config_t *c, int32_t key, int64_t *out) {
    switch (key) {
    case TL_CFG_TIME_UNIT: *out = (int64_t)c->time_unit; return true;
    case TL_CFG_MAINTENANCE: *out = (int64_t)c->maintenance; return true;
    case TL_CFG_PAGE_RECORDS: *out = c->page_records; return true;
    case TL_CFG_MEMTABLE_RECORDS: *out = c->memtable_records; return true;
    case TL_CFG_OOO_HEAD_RECORDS: *out = c->ooo_head_records; return true;
    case TL_CFG_OOO_RUNS_MAX: *out = c->ooo_runs_max; return true;
    case TL_CFG_SEALED_MAX: *out = c->sealed_max; return true;
    case TL_CFG_L0_MAX: *out = c->l0_max; return true;
    case TL_CFG_BUSY_WAIT_MS: *out = c->busy_wait_ms; return true;
    case TL_CFG_MAINT_INTERVAL_MS: *out = c->maint_interval_ms; return true;
    case TL_CFG_WINDOW_SIZE: *out = c->window_size; return true;
    case TL_CFG_WINDOW_ORIGIN: *out = c->window_origin; return true;
    case TL_CFG_LOG_LEVEL: *out = c->log_level; return true;
    case TL_CFG_IDLE_MS: *out = c->idle_ms; return true;
    case TL_CFG_VALUE_KIND: *out = c->value_kind; return true;
    case TL_CFG_RAW_PAGES: *out = c->raw_pages; return true;
    case TL_CFG_DURABILITY: *out = c->durability; return true;
    case TL_CFG_SYNC_INTERVAL_MS: *out = c->sync_interval_ms; return true;
    case TL_CFG_WAL_SEGMENT_BYTES: *out = (int64_t)c->wal_segment_bytes; return true;
    case TL_CFG_CHECKPOINT_BYTES: *out = (int64_t)c->checkpoint_bytes; return true;
    case TL_CFG_REPAIR: *out = c->repair; return true;
    default: return false;
    }
}

/* The widest range the field's type (or enum) can hold. */
static bool representable(int32_t key, int64_t v) {
    switch (key) {
    case TL_CFG_TIME_UNIT: return v >= TL_TIME_S && v <= TL_TIME_NS;
    case TL_CFG_MAINTENANCE: return v >= TL_MAINT_BACKGROUND && v <= TL_MAINT_MANUAL;
    case TL_CFG_LOG_LEVEL: return v >= TL_LOG_ERROR && v <= TL_LOG_DEBUG;
    case TL_CFG_WINDOW_SIZE: case TL_CFG_WINDOW_ORIGIN: return true;
    case TL_CFG_VALUE_KIND: return v == TL_VALUES_HANDLE || v == TL_VALUES_F64 || v == TL_VALUES_BYTES;
    case TL_CFG_RAW_PAGES: return v == 0 || v == 1;
    case TL_CFG_WAL_SEGMENT_BYTES: case TL_CFG_CHECKPOINT_BYTES: return v >= 0; /* uint64 */
    default: return v >= 0 && v <= (int64_t)UINT32_MAX;
    }
}

static void op_config_set(fz_in_t *in, tl_config_t *cfg) {
    uint8_t k = fz_u8(in);
    int32_t key = k < 200 ? (int32_t)(k % (TL_CFG_REPAIR + 2)) : (int32_t)(uint32_t)fz_u64(in);
    int64_t v = fz_value(in), got = 0;
    tl_config_t before = *cfg;
    int st = tl_config_set(cfg, key, v);
    bool known = field_of(cfg, key, &got);
    if (st != TL_OK) {
        FZ_CHECK(st == TL_EINVAL, "config_set(%d, %" PRId64 ") -> %d", key, v, st);
        FZ_CHECK(memcmp(&before, cfg, sizeof before) == 0, "EINVAL changed the config");
        return;
    }
    FZ_CHECK(known, "config_set accepted unknown key %d", key);
    FZ_CHECK(representable(key, v), "config_set(%d) accepted %" PRId64, key, v);
    FZ_CHECK(got == v, "config_set(%d, %" PRId64 ") stored %" PRId64, key, v, got);
    FZ_CHECK(tl_config_set(NULL, key, v) == TL_EINVAL, "config_set(NULL) not EINVAL");
}

/* ----------------------------------------------------------------------------------------
 * tl_open, with a short workload on success
 * -------------------------------------------------------------------------------------- */

static size_t g_drops;
static void count_drops(void *ctx, const int64_t *ts, const uint64_t *h, size_t n) {
    (void)ctx, (void)ts, (void)h;
    g_drops += n;
}

/* A few writes and reads on an opened log; returns the number of records written. */
static uint64_t small_workload(fz_in_t *in, tl_timelog_t *tl, bool bytes) {
    uint64_t n = fz_u8(in) % 200, written = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t ts = fz_ts(in);
        uint8_t v[2] = {(uint8_t)i, fz_u8(in)};
        uint32_t end = (uint32_t)(i % 3); /* values of 0-2 bytes, stored by the engine */
        int st = bytes ? tl_append_bytes(tl, &ts, v, &end, 1, 0) : tl_append(tl, ts, i);
        FZ_CHECK(st == TL_OK || st == TL_EBUSY || st == TL_ENOMEM, "append -> %d", st);
        written += st != TL_ENOMEM;
    }
    tl_snapshot_t *s = NULL;
    int st = tl_snapshot_acquire(tl, &s);
    FZ_CHECK(st == TL_OK || st == TL_ENOMEM, "snapshot_acquire -> %d", st);
    if (s) {
        uint64_t c = 0;
        st = tl_snapshot_count(s, INT64_MIN, INT64_MAX, &c);
        FZ_CHECK(st == TL_ENOMEM || (st == TL_OK && c == written), "count %" PRIu64 " of %"
                 PRIu64 " -> %d", c, written, st);
        tl_snapshot_release(s);
    }
    if (fz_u8(in) & 1) {
        st = tl_delete_before(tl, fz_ts(in));
        FZ_CHECK(st == TL_OK || st == TL_EBUSY || st == TL_ENOMEM, "delete -> %d", st);
        st = tl_compact(tl);
        FZ_CHECK(st == TL_OK || st == TL_ENOMEM, "compact -> %d", st);
    }
    return written;
}

static void op_open(fz_in_t *in, const tl_config_t *cfg_in) {
    ca_t ca = {.fail_one_in = 0};
    pthread_mutex_init(&ca.mu, NULL);
    tl_config_t cfg = *cfg_in;
    uint8_t m = fz_u8(in);
    bool small = cfg.page_records <= (1u << 16) && cfg.memtable_records <= (1u << 20);
    if ((m & 1) || !small) cfg.allocator = (tl_allocator_t){&ca, ca_alloc, ca_free};
    if (cfg.busy_wait_ms > 5) cfg.busy_wait_ms = 5; /* a stalled worker must not stall us */
    if (cfg.maint_interval_ms > 20) cfg.maint_interval_ms = 20;
    if (m & 2) ca.fail_one_in = 2 + (m >> 4);
    if (m & 4) { cfg.on_drop = count_drops; g_drops = 0; }
    if ((m & 8) && cfg.maintenance == TL_MAINT_BACKGROUND) cfg.maintenance = TL_MAINT_MANUAL;
    tl_timelog_t *tl = (tl_timelog_t *)&ca; /* must be overwritten */
    bool null_cfg = (m & 0xf0) == 0xf0;
    int st = tl_open(null_cfg ? NULL : &cfg, &tl);
    if (st != TL_OK) {
        FZ_CHECK(st == TL_EINVAL || st == TL_ENOMEM || st == TL_EINTERNAL, "open -> %d", st);
        FZ_CHECK(tl == NULL, "open failed but *out is not NULL");
    } else {
        FZ_CHECK(tl != NULL, "open OK with NULL log");
        bool bytes = !null_cfg && cfg.value_kind == TL_VALUES_BYTES;
        uint64_t written = small_workload(in, tl, bytes);
        char buf[8];
        tl_last_error(tl, buf, sizeof buf);
        tl_close(tl);
        /* every record dropped once (a bytes log's values are the engine's: it reports none) */
        if ((m & 4) && !(m & 2) && !null_cfg && !bytes)
            FZ_CHECK(g_drops == written, "close reported %zu of %" PRIu64, g_drops, written);
    }
    FZ_CHECK(ca.live_blocks == 0 && ca.live_bytes == 0, "leak: %ld blocks %zu bytes",
             ca.live_blocks, ca.live_bytes);
    pthread_mutex_destroy(&ca.mu);
}

/* Cross-field rules that tl_open must reject. */
static void op_open_invalid(fz_in_t *in, const tl_config_t *cfg_in) {
    tl_config_t cfg = *cfg_in;
    ca_t ca = {0};
    uint8_t k = fz_u8(in) % 3;
    tl_dropq_t *q = NULL;
    if (k == 0) cfg.allocator = (tl_allocator_t){&ca, ca_alloc, NULL};
    else if (k == 1) cfg.allocator = (tl_allocator_t){&ca, NULL, ca_free};
    else {
        FZ_CHECK(tl_dropq_create(NULL, NULL, 0, &q) == TL_OK, "dropq_create");
        cfg.on_drop = count_drops;
        FZ_CHECK(tl_config_set_drop_queue(&cfg, q) == TL_OK, "set_drop_queue");
    }
    tl_timelog_t *tl = (tl_timelog_t *)&ca;
    FZ_CHECK(tl_open(&cfg, &tl) == TL_EINVAL && tl == NULL, "invalid config %d opened", k);
    FZ_CHECK(tl_dropq_release(q) == TL_OK, "dropq_release");
}

/* ----------------------------------------------------------------------------------------
 * Status text, last error, NULL arguments
 * -------------------------------------------------------------------------------------- */

static void op_strerror(fz_in_t *in) {
    static const int known[] = {TL_OK, TL_EOF, TL_EINVAL, TL_ESTATE, TL_EBUSY, TL_ENOMEM,
                                TL_EOVERFLOW, TL_EINTERNAL, TL_ECORRUPT, TL_EIO, TL_ELOCKED};
    const uint8_t nknown = (uint8_t)(sizeof known / sizeof known[0]);
    uint8_t k = fz_u8(in);
    int code = k < 128 ? known[k % nknown] : k < 192 ? (int)(k & 127) - 20 : (int)fz_u64(in);
    const char *msg = tl_strerror(code);
    FZ_CHECK(msg != NULL && msg[0] != 0, "strerror(%d) empty", code);
    bool is_known = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) is_known |= known[i] == code;
    if (is_known) FZ_CHECK(strncmp(msg, "TL_", 3) == 0, "strerror(%d) = %s", code, msg);
    else FZ_CHECK(strcmp(msg, "unknown status") == 0, "strerror(%d) = %s", code, msg);
}

/* last_error into an exact-size heap buffer (ASan sees overruns). */
static void last_error_check(fz_in_t *in, const tl_timelog_t *tl) {
    uint32_t cap = fz_u8(in) % 80;
    char *buf = cap ? malloc(cap) : NULL;
    char one = 'x';
    uint32_t len = tl_last_error(tl, cap ? buf : &one, cap);
    if (cap) {
        FZ_CHECK(strlen(buf) == (len < cap ? len : cap - 1), "last_error: strlen %zu len %u cap"
                 " %u", strlen(buf), len, cap);
        if (!tl && cap > 6) FZ_CHECK(strcmp(buf, "no log") == 0, "last_error(NULL) = %s", buf);
    }
    if (!tl) FZ_CHECK(len == 6, "last_error(NULL) length %u", len);
    free(buf);
}

static void op_last_error(fz_in_t *in) {
    if (fz_u8(in) & 1) { last_error_check(in, NULL); return; }
    tl_config_t cfg;
    tl_config_init_defaults(&cfg);
    cfg.maintenance = TL_MAINT_MANUAL;
    cfg.memtable_records = 64;
    tl_timelog_t *tl = NULL;
    FZ_CHECK(tl_open(&cfg, &tl) == TL_OK, "open");
    last_error_check(in, tl); /* nothing failed yet */
    FZ_CHECK(tl_maint_start(tl) == TL_ESTATE, "maint_start in manual mode");
    last_error_check(in, tl);
    FZ_CHECK(tl_delete_range(tl, 5, 4) == TL_EINVAL, "delete_range(5, 4)");
    last_error_check(in, tl);
    tl_close(tl);
}

static void op_nulls(void) {
    tl_close(NULL);
    tl_snapshot_release(NULL);
    tl_iter_destroy(NULL);
    FZ_CHECK(tl_dropq_release(NULL) == TL_OK, "dropq_release(NULL)");
    tl_snapshot_t *s = (tl_snapshot_t *)&s;
    tl_stats_t st;
    FZ_CHECK(tl_snapshot_acquire(NULL, &s) == TL_EINVAL, "snapshot_acquire(NULL)");
    FZ_CHECK(tl_stats(NULL, &st) == TL_EINVAL, "stats(NULL)");
    FZ_CHECK(tl_config_set_drop_queue(NULL, NULL) == TL_EINVAL, "set_drop_queue(NULL cfg)");
    FZ_CHECK(tl_config_size() == sizeof(tl_config_t), "config_size");
    tl_config_t cfg;
    tl_config_init_defaults(&cfg);
    FZ_CHECK(tl_config_set_drop_queue(&cfg, NULL) == TL_OK && cfg.drop_queue == NULL,
             "set_drop_queue(cfg, NULL)");
    tl_timelog_t *tl = NULL;
    FZ_CHECK(tl_open(NULL, &tl) == TL_OK && tl, "open(NULL cfg)");
    FZ_CHECK(tl_snapshot_acquire(tl, NULL) == TL_EINVAL, "snapshot_acquire(tl, NULL)");
    FZ_CHECK(tl_append_batch(tl, NULL, NULL, 0, 0) == TL_OK, "empty batch with NULL columns");
    tl_close(tl);
}

/* ----------------------------------------------------------------------------------------
 * Drop queues
 * -------------------------------------------------------------------------------------- */

static atomic_long g_rings;
static void doorbell(uint32_t token) { (void)token; atomic_fetch_add(&g_rings, 1); }

/* Drains with a fuzzed cap into an exact-size buffer; marks each handle seen. */
static size_t drain_some(fz_in_t *in, tl_dropq_t *q, uint8_t *seen, uint64_t pushed) {
    size_t cap = fz_u8(in) % 40, n = 99;
    uint64_t *buf = malloc((cap ? cap : 1) * sizeof *buf);
    int st = tl_dropq_drain(q, buf, cap, &n);
    if (st == TL_EOF || cap == 0) {
        FZ_CHECK(n == 0 && (st == TL_EOF || st == TL_OK), "drain cap %zu -> %d n=%zu", cap, st,
                 n);
    } else {
        FZ_CHECK(st == TL_OK && n >= 1 && n <= cap, "drain -> %d n=%zu cap=%zu", st, n, cap);
    }
    for (size_t i = 0; i < n; i++) {
        FZ_CHECK(buf[i] < pushed, "drained unknown handle %" PRIu64, buf[i]);
        FZ_CHECK(!seen[buf[i]], "handle %" PRIu64 " drained twice", buf[i]);
        seen[buf[i]] = 1;
    }
    free(buf);
    return n;
}

/* A log whose drops (all records, at close) feed q. Returns the number of records. */
static uint64_t feed_queue(fz_in_t *in, tl_dropq_t *q) {
    tl_config_t cfg;
    tl_config_init_defaults(&cfg);
    cfg.maintenance = TL_MAINT_MANUAL;
    cfg.memtable_records = 64;
    FZ_CHECK(tl_config_set_drop_queue(&cfg, q) == TL_OK, "set_drop_queue");
    tl_timelog_t *tl = NULL;
    FZ_CHECK(tl_open(&cfg, &tl) == TL_OK, "open with drop queue");
    uint64_t n = fz_u8(in) % 150;
    for (uint64_t i = 0; i < n; i++) {
        int st = tl_append(tl, fz_ts(in), i);
        FZ_CHECK(st == TL_OK || st == TL_EBUSY, "append -> %d", st);
    }
    if (fz_u8(in) & 1) {
        FZ_CHECK(tl_delete_before(tl, fz_ts(in)) == TL_OK, "delete_before");
        FZ_CHECK(tl_compact(tl) == TL_OK, "compact");
    }
    tl_close(tl);
    return n;
}

static void op_dropq(fz_in_t *in) {
    uint8_t m = fz_u8(in);
    ca_t ca = {0};
    pthread_mutex_init(&ca.mu, NULL);
    tl_allocator_t al = {&ca, ca_alloc, ca_free};
    tl_dropq_t *q = NULL;
    atomic_store(&g_rings, 0);
    int st = tl_dropq_create((m & 1) ? &al : NULL, (m & 2) ? doorbell : NULL, m, &q);
    FZ_CHECK(st == TL_OK && q, "dropq_create -> %d", st);
    uint64_t pushed = (m & 4) ? feed_queue(in, q) : 0, pending = 0, drained = 0;
    uint8_t *seen = calloc(pushed + 1, 1);
    for (int i = 0; i < 8 && drained < pushed; i++) {
        FZ_CHECK(tl_dropq_pending(q, &pending) == TL_OK, "pending");
        FZ_CHECK(pending + drained == pushed, "pending %" PRIu64 " + drained %" PRIu64
                 " != pushed %" PRIu64, pending, drained, pushed);
        drained += drain_some(in, q, seen, pushed);
    }
    if (m & 2) FZ_CHECK(tl_dropq_release(q) == TL_EBUSY, "release before shutdown");
    for (int i = 0; (st = tl_dropq_shutdown(q)) == TL_EBUSY && i < 1000; i++) usleep(100);
    FZ_CHECK(st == TL_OK, "shutdown -> %d", st);
    FZ_CHECK(tl_dropq_shutdown(q) == TL_OK, "shutdown is idempotent");
    static uint64_t rest[256];
    size_t n = 0;
    for (int i = 0; i < 4 && tl_dropq_drain(q, rest, 256, &n) == TL_OK; i++) {
        for (size_t k = 0; k < n; k++) {
            FZ_CHECK(rest[k] < pushed && !seen[rest[k]], "bad handle %" PRIu64, rest[k]);
            seen[rest[k]] = 1;
        }
        drained += n;
    }
    FZ_CHECK(drained == pushed, "drained %" PRIu64 " of %" PRIu64, drained, pushed);
    FZ_CHECK(tl_dropq_pending(q, &pending) == TL_OK && pending == 0, "pending after drain");
    long rings = atomic_load(&g_rings);
    FZ_CHECK(rings <= (long)pushed, "%ld rings for %" PRIu64 " handles", rings, pushed);
    FZ_CHECK(tl_dropq_release(q) == TL_OK, "release");
    FZ_CHECK(ca.live_blocks == 0, "dropq leaked %ld blocks", ca.live_blocks);
    pthread_mutex_destroy(&ca.mu);
    free(seen);
}

/* ----------------------------------------------------------------------------------------
 * Entry point
 * -------------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in_t in = {data, size, 0};
    tl_config_t cfg;
    tl_config_init_defaults(&cfg);
    for (int i = 0; i < 200 && fz_more(&in); i++) {
        switch (fz_u8(&in) % 12) {
        case 0: case 1: case 2: case 3: op_config_set(&in, &cfg); break;
        case 4: case 5: op_open(&in, &cfg); break;
        case 6: op_open_invalid(&in, &cfg); break;
        case 7: op_strerror(&in); break;
        case 8: op_last_error(&in); break;
        case 9: op_nulls(); break;
        case 10: op_dropq(&in); break;
        default: tl_config_init_defaults(&cfg); break;
        }
    }
    return 0;
}
