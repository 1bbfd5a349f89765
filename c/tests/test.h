/*
 * test.h — the C test harness: one executable per *_test.c, each test a function.
 *
 *   TL_TEST(name) { CHECK(x == 1); CHECK_EQ_I64(a, b); CHECK_OK(tl_flush(tl)); }
 *   int main(void) { RUN(name); return tl_test_done("file"); }
 *
 * A failed CHECK prints file:line and the expression, marks the test failed and returns from
 * it (so later checks do not cascade). tl_test_done prints "# <file>: N passed, M failed"
 * (./dev sums these lines) and returns the exit status.
 */
#ifndef TL_TEST_H
#define TL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int tl_t_passed, tl_t_failed, tl_t_cur_failed;
static const char *tl_t_cur;

#define TL_TEST(name) static void name(void)

#define RUN(name)                                                                         \
    do {                                                                                  \
        tl_t_cur = #name;                                                                 \
        tl_t_cur_failed = 0;                                                              \
        name();                                                                           \
        if (tl_t_cur_failed) {                                                            \
            tl_t_failed++;                                                                \
            printf("not ok - %s\n", #name);                                               \
        } else {                                                                          \
            tl_t_passed++;                                                                \
            if (getenv("TL_TEST_VERBOSE")) printf("ok - %s\n", #name);                    \
        }                                                                                 \
        fflush(stdout);                                                                   \
    } while (0)

#define TL_FAIL_(fmt, ...)                                                                \
    do {                                                                                  \
        printf("  FAIL %s:%d in %s: " fmt "\n", __FILE__, __LINE__, tl_t_cur, __VA_ARGS__); \
        tl_t_cur_failed = 1;                                                              \
        return;                                                                           \
    } while (0)

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) TL_FAIL_("%s", #cond);                                               \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                                \
    do {                                                                                  \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                     \
        if (a_ != b_) TL_FAIL_("%s == %s (%" PRId64 " vs %" PRId64 ")", #a, #b, a_, b_);  \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                \
    do {                                                                                  \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                  \
        if (a_ != b_) TL_FAIL_("%s == %s (%" PRIu64 " vs %" PRIu64 ")", #a, #b, a_, b_);  \
    } while (0)

#define CHECK_ST(expr, want)                                                              \
    do {                                                                                  \
        int st_ = (int)(expr);                                                            \
        if (st_ != (int)(want)) TL_FAIL_("%s -> %d, want %d", #expr, st_, (int)(want));    \
    } while (0)

#define CHECK_OK(expr) CHECK_ST(expr, 0)

static inline int tl_test_done(const char *file) {
    printf("# %s: %d passed, %d failed\n", file, tl_t_passed, tl_t_failed);
    return tl_t_failed ? 1 : 0;
}

/* A failure-injecting allocator that tracks what is live: unit tests fail the fail_at-th call
 * (1-based; 0 = never) to reach ENOMEM paths, then check that live_blocks and live_bytes are
 * back to 0 (every free got the size its allocation asked for). */
typedef struct fail_alloc {
    long calls, fail_at;
    long live_blocks;
    long long live_bytes;
} fail_alloc_t;

static inline void *fa_alloc(void *ctx, size_t size) {
    fail_alloc_t *f = ctx;
    if (++f->calls == f->fail_at) return NULL;
    void *p = malloc(size);
    if (p) {
        f->live_blocks++;
        f->live_bytes += (long long)size;
    }
    return p;
}

static inline void fa_free(void *ctx, void *ptr, size_t size) {
    fail_alloc_t *f = ctx;
    f->live_blocks--;
    f->live_bytes -= (long long)size;
    free(ptr);
}

/* xorshift64* for the unit tests' random data: tl_t_rng is the seed (nonzero), set by each
 * test so that a printed seed reproduces a failure. */
static uint64_t tl_t_rng __attribute__((unused));
static inline uint64_t tl_t_rnd(void) {
    tl_t_rng ^= tl_t_rng >> 12;
    tl_t_rng ^= tl_t_rng << 25;
    tl_t_rng ^= tl_t_rng >> 27;
    return tl_t_rng * 2685821657736338717ull;
}

#endif /* TL_TEST_H */
