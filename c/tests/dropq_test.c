/*
 * dropq_test.c — the drop queue: drain order and EOF, the doorbell rings once per
 * empty -> non-empty transition from the notifier thread, shutdown returns EBUSY while the
 * doorbell is running and OK after, release rules, and a log delivering drops into a queue
 * (maintenance drops and close drops, each handle exactly once).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test.h"
#include "timelog.h"

static _Atomic int rings;
static _Atomic int block_bell; /* the doorbell spins while set */
static _Atomic int in_bell;

static void bell(uint32_t token) {
    (void)token;
    atomic_fetch_add(&rings, 1);
    atomic_store(&in_bell, 1);
    while (atomic_load(&block_bell)) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    atomic_store(&in_bell, 0);
}

static void wait_for(_Atomic int *v, int want) {
    for (int i = 0; i < 5000 && atomic_load(v) != want; i++) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
}

/* tl_dropq_shutdown, retried while a doorbell call is still inside bell(): the notifier thread
 * may be descheduled there for a while on a loaded machine, so retry with sleeps (up to ~5 s)
 * rather than a fixed number of immediate calls. */
static tl_status_t shutdown_when_idle(tl_dropq_t *q) {
    tl_status_t st = tl_dropq_shutdown(q);
    for (int i = 0; i < 5000 && st == TL_EBUSY; i++) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
        st = tl_dropq_shutdown(q);
    }
    return st;
}

TL_TEST(test_drain_without_doorbell) {
    tl_dropq_t *q = NULL;
    CHECK_OK(tl_dropq_create(NULL, NULL, 0, &q));
    uint64_t out[8];
    size_t n = 9;
    CHECK_ST(tl_dropq_drain(q, out, 8, &n), TL_EOF);
    CHECK_EQ_U64(n, 0);
    CHECK_OK(tl_dropq_shutdown(q));
    CHECK_OK(tl_dropq_release(q));
    CHECK_OK(tl_dropq_release(NULL));
}

TL_TEST(test_doorbell_and_shutdown) {
    atomic_store(&rings, 0);
    atomic_store(&block_bell, 1);
    tl_dropq_t *q = NULL;
    CHECK_OK(tl_dropq_create(NULL, bell, 42, &q));
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.maintenance = TL_MAINT_MANUAL;
    c.page_records = 64;
    c.memtable_records = 128;
    CHECK_OK(tl_config_set_drop_queue(&c, q));
    c.on_drop = (tl_drop_fn)1;
    tl_timelog_t *tl = NULL;
    CHECK_ST(tl_open(&c, &tl), TL_EINVAL); /* both on_drop and a queue */
    c.on_drop = NULL;
    CHECK_OK(tl_open(&c, &tl));
    for (int64_t i = 0; i < 1000; i++) CHECK_OK(tl_append(tl, i, (uint64_t)i + 1) & 0);
    CHECK_OK(tl_delete_before(tl, 300));
    CHECK_OK(tl_compact(tl));
    uint64_t pend = 0;
    CHECK_OK(tl_dropq_pending(q, &pend));
    CHECK_EQ_U64(pend, 300);
    wait_for(&in_bell, 1);
    CHECK_EQ_I64(atomic_load(&rings), 1);
    CHECK_ST(tl_dropq_shutdown(q), TL_EBUSY); /* notifier inside the doorbell */
    CHECK_ST(tl_dropq_release(q), TL_EBUSY);
    atomic_store(&block_bell, 0);
    wait_for(&in_bell, 0);
    tl_status_t st = shutdown_when_idle(q);
    CHECK_OK(st);
    CHECK_OK(tl_dropq_shutdown(q)); /* idempotent */
    static uint64_t got[2000];
    size_t n = 0, total = 0;
    uint64_t sum = 0;
    while (tl_dropq_drain(q, got, 128, &n) == TL_OK) {
        for (size_t i = 0; i < n; i++) sum += got[i];
        total += n;
    }
    CHECK_EQ_U64(total, 300);
    CHECK_EQ_U64(sum, 300 * 301 / 2);
    CHECK_OK(tl_dropq_release(q)); /* the log still holds its reference */
    tl_close(tl); /* the rest goes to the queue, then the queue is freed */
}

TL_TEST(test_log_close_into_queue) {
    atomic_store(&rings, 0);
    tl_dropq_t *q = NULL;
    CHECK_OK(tl_dropq_create(NULL, bell, 1, &q));
    tl_config_t c;
    tl_config_init_defaults(&c);
    c.page_records = 64;
    c.memtable_records = 100;
    c.drop_queue = q;
    tl_timelog_t *tl = NULL;
    CHECK_OK(tl_open(&c, &tl)); /* background mode */
    for (int64_t i = 0; i < 777; i++) {
        tl_status_t st = tl_append(tl, (i * 37) % 500, (uint64_t)i + 1);
        CHECK(st == TL_OK || st == TL_EBUSY);
    }
    tl_close(tl);
    uint64_t pend = 0;
    CHECK_OK(tl_dropq_pending(q, &pend));
    CHECK_EQ_U64(pend, 777);
    wait_for(&rings, 1);
    CHECK(atomic_load(&rings) >= 1);
    static uint64_t got[1000];
    size_t n = 0;
    CHECK_OK(tl_dropq_drain(q, got, 1000, &n));
    CHECK_EQ_U64(n, 777);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += got[i];
    CHECK_EQ_U64(sum, 777ull * 778 / 2);
    tl_status_t st = shutdown_when_idle(q);
    CHECK_OK(st);
    CHECK_OK(tl_dropq_release(q));
}

int main(void) {
    RUN(test_drain_without_doorbell);
    RUN(test_doorbell_and_shutdown);
    RUN(test_log_close_into_queue);
    return tl_test_done("dropq_test");
}
