/*
 * bench/native/memory.c — the memory figures: RSS growth over the process baseline per record,
 * each workload in its own log, its data generated batch by batch (nothing pre-generated), then
 * tl_compact (what the idle worker also does). Peak: a sampler thread every ~1 ms during ingest
 * and compaction, and VmHWM when /proc/self/clear_refs can reset it.
 *
 * Workloads (--records N, --batch-size B):
 *   ticks    the users' shape of issue 13: timestamps in ms with gaps of 0..2 (a third share
 *            one), 5% of records late by 1..10000 ms, values k/256 as doubles (k = record
 *            index) in an f64 log: bytes_per_record_steady / _peak, and with every page kept
 *            raw (compress off) as bytes_per_record_steady_raw, the uncompressed baseline;
 *   walk     the same timestamps, values a random walk of prices with two decimals (start
 *            100.00, steps of -0.05 .. +0.05): bytes_per_record_steady_walk;
 *   handles  the engine benchmark's own data (ts += 1, --ooo-rate moved back by 1..1024),
 *            handles = record index + 1: bytes_per_record_steady_handles.
 * Each run is verified by a full scan (count and checksums of ts and value bits).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

enum { W_TICKS, W_WALK, W_HANDLES };

typedef struct {
    int kind;
    uint64_t rng;
    int64_t cursor;
    int64_t cents; /* walk: the price in cents */
    double rate; /* handles: out-of-order rate */
    size_t i;
} wgen_t;

static void wgen_next(wgen_t *g, size_t n, int64_t *ts, uint64_t *h) {
    for (size_t k = 0; k < n; k++, g->i++) {
        double v;
        if (g->kind == W_HANDLES) {
            int64_t t = ++g->cursor;
            if (g->i > 1024 && (double)(xorshift64(&g->rng) >> 11) * 0x1.0p-53 < g->rate) {
                t -= 1 + (int64_t)(xorshift64(&g->rng) % 1024);
            }
            ts[k] = t;
            h[k] = (uint64_t)g->i + 1;
            continue;
        }
        g->cursor += (int64_t)(xorshift64(&g->rng) % 3);
        int64_t t = g->cursor;
        if (xorshift64(&g->rng) % 100 < 5) t -= 1 + (int64_t)(xorshift64(&g->rng) % 10000);
        ts[k] = t;
        if (g->kind == W_TICKS) {
            v = (double)g->i / 256.0;
        } else {
            g->cents += (int64_t)(xorshift64(&g->rng) % 11) - 5;
            if (g->cents < 1) g->cents = 1;
            v = (double)g->cents / 100.0; /* Math.round(x * 100) / 100, as a user stores it */
        }
        memcpy(&h[k], &v, sizeof v);
    }
}

static uint64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f) return 0;
    int got = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    return got == 2 ? (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static bool hwm_reset(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    bool ok = fputs("5", f) >= 0;
    return (fclose(f) == 0) && ok;
}

static uint64_t vm_hwm_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtoull(line + 6, NULL, 10);
    fclose(f);
    return kb * 1024;
}

typedef struct {
    atomic_int stop;
    atomic_uint_fast64_t peak;
} sampler_t;

static void *sampler_main(void *arg) {
    sampler_t *s = arg;
    struct timespec ms = {0, 1000000};
    while (!atomic_load(&s->stop)) {
        uint64_t r = rss_bytes();
        if (r > atomic_load(&s->peak)) atomic_store(&s->peak, r);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/* One workload: adds its steady figure (and its peak, when peak_fig >= 0). */
static void mem_run(const opts_t *o, int kind, bool raw, int steady_fig, int peak_fig,
                    bool *peak_from_hwm) {
    sampler_t smp;
    atomic_init(&smp.stop, 0);
    atomic_init(&smp.peak, 0);
    pthread_t th;
    if (rss_bytes() == 0 || pthread_create(&th, NULL, sampler_main, &smp) != 0) return;
    int64_t *ts = xmalloc(o->batch * sizeof *ts);
    uint64_t *h = xmalloc(o->batch * sizeof *h);
    uint64_t base = rss_bytes(), busy = 0;
    bool hwm = hwm_reset();
    atomic_store(&smp.peak, base);
    tl_timelog_t *tl = open_log_cfg(raw, kind == W_HANDLES ? TL_VALUES_HANDLE : TL_VALUES_F64);
    wgen_t g = {kind, o->seed, 0, 10000, o->ooo_rate, 0};
    digest_t want = {0, 0, 0};
    bool ok = true;
    for (size_t off = 0; off < o->records; off += o->batch) {
        size_t n = o->records - off < o->batch ? o->records - off : o->batch;
        wgen_next(&g, n, ts, h);
        for (size_t i = 0; i < n; i++) digest_add(&want, (digest_t){1, h[i], (uint64_t)ts[i]});
        ok &= write_done(tl, tl_append_batch(tl, ts, h, n, 0), &busy);
    }
    ok &= tl_compact(tl) == TL_OK;
    uint64_t steady = rss_bytes();
    atomic_store(&smp.stop, 1);
    pthread_join(th, NULL);
    uint64_t peak = atomic_load(&smp.peak), hw = hwm ? vm_hwm_bytes() : 0;
    if (peak_fig >= 0) *peak_from_hwm = hw > peak;
    if (hw > peak) peak = hw;
    tl_stats_t st;
    ok &= tl_stats(tl, &st) == TL_OK && (raw ? st.pages_packed == 0 : st.pages_packed > 0);
    ok &= verify_scan(tl, want, figs[steady_fig].key);
    double n = (double)o->records;
    fig_add(steady_fig, steady > base ? (double)(steady - base) / n : 0, ok);
    if (peak_fig >= 0) fig_add(peak_fig, peak > base ? (double)(peak - base) / n : 0, ok);
    tl_close(tl);
    free(ts);
    free(h);
}

void bench_memory(const opts_t *o, bool *peak_from_hwm) {
    mem_run(o, W_TICKS, false, F_STEADY, F_PEAK, peak_from_hwm);
    mem_run(o, W_WALK, false, F_STEADY_WALK, -1, peak_from_hwm);
    mem_run(o, W_HANDLES, false, F_STEADY_HANDLES, -1, peak_from_hwm);
    mem_run(o, W_TICKS, true, F_STEADY_RAW, -1, peak_from_hwm);
}
