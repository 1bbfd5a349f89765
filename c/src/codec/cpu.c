/*
 * cpu.c — the CPU probe behind run-time dispatch (cpu.h).
 *
 * g_set caches the probe, as disk/crc32c.c's g_impl does: 0 = not probed yet, 1 = baseline,
 * 2 = AVX2. The probe is idempotent, so threads racing to fill it store the same value;
 * relaxed atomics make that defined. It is process-wide by nature (the CPU does not change),
 * not a log's configuration.
 */
#include "cpu.h"

#if TL_CPU_DISPATCH
#include <cpuid.h>
#include <stddef.h>
#include <stdatomic.h>

static _Atomic uint32_t g_set;

/* AVX2 and BMI2 in the CPU, and the OS saving the YMM registers (OSXSAVE, XCR0 bits 1-2). */
static bool avx2_probe(void) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    if ((c & bit_OSXSAVE) == 0 || (c & bit_AVX) == 0) return false;
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return false;
    if (__get_cpuid_max(0, NULL) < 7) return false;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & bit_AVX2) != 0 && (b & bit_BMI2) != 0;
}

bool tl_cpu_avx2(void) {
    uint32_t set = atomic_load_explicit(&g_set, memory_order_relaxed);
    if (set == 0) {
        set = avx2_probe() ? 2 : 1;
        atomic_store_explicit(&g_set, set, memory_order_relaxed);
    }
    return set == 2;
}

uint32_t tl_cpu_sets(void) { return 2; }

bool tl_cpu_use_set(uint32_t i) {
    if (i == UINT32_MAX) {
        atomic_store_explicit(&g_set, 0, memory_order_relaxed); /* probe again */
        return true;
    }
    if (i > 1 || (i == 1 && !avx2_probe())) return false;
    atomic_store_explicit(&g_set, i + 1, memory_order_relaxed);
    return true;
}

#else

bool tl_cpu_avx2(void) { return false; }
uint32_t tl_cpu_sets(void) { return 1; }
bool tl_cpu_use_set(uint32_t i) { return i == 0 || i == UINT32_MAX; }

#endif
