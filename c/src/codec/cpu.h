/*
 * cpu.h — the instruction sets a build picks between at run time.
 *
 * The distributed x86-64 libraries are built for the baseline CPU (SSE2), so that they load on
 * any x86-64 machine; there the engine's 8-lane vector kernels run as four 128-bit halves, and
 * 64-bit integer compares have no vector instruction at all. The hottest kernels (the
 * bit-unpacking decoders, codec/bitpack.c; the timestamp searches, codec/search.c; the value
 * summary pass, summary.c) are therefore
 * built a second time for AVX2 and chosen by a CPU probe. A build whose target has AVX2
 * already, or another architecture (ARMv8's NEON is its baseline), compiles one set and never
 * probes.
 *
 * The probe's answer is cached in one process-wide word (cpu.c says why that is not per-log
 * state). Both sets compute bit-identical results: the same lanes in the same order, no
 * contracted multiply-adds (the kernels that convert doubles disable FP_CONTRACT).
 */
#ifndef TL_CPU_H
#define TL_CPU_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__) && !defined(__AVX2__) && \
    (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define TL_CPU_DISPATCH 1
/* The attribute of a kernel's AVX2 build. */
#define TL_CPU_AVX2 __attribute__((target("avx2,bmi2")))
#else
#define TL_CPU_DISPATCH 0
#endif

/* A call of fn_avx2 or fn_base (a kernel defined for both sets), or of fn_base alone. */
#if TL_CPU_DISPATCH
#define TL_CPU_PICK(fn, ...) (tl_cpu_avx2() ? fn##_avx2(__VA_ARGS__) : fn##_base(__VA_ARGS__))
#else
#define TL_CPU_PICK(fn, ...) fn##_base(__VA_ARGS__)
#endif

/* Whether the AVX2 set is in use: the CPU has AVX2 and BMI2 and the OS saves the YMM
 * registers (probed on first use), unless a test pinned a set. False without dispatch. */
bool tl_cpu_avx2(void);

/* The sets this build has: 2 with dispatch (set 0 the baseline, set 1 AVX2), else 1. */
uint32_t tl_cpu_sets(void);

/* For tests, which hold every set to a reference: pins set i for the whole process (false
 * when this build or this CPU lacks it); UINT32_MAX returns to the probe. */
bool tl_cpu_use_set(uint32_t i);

#endif /* TL_CPU_H */
