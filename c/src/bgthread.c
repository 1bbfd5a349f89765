/*
 * bgthread.c — background threads' name and scheduling (bgthread.h says why).
 */
#include "bgthread.h"

#include <pthread.h>
#include <sched.h>

void tl_bgthread_init(const char *name, bool batch) {
#if defined(__linux__)
    (void)pthread_setname_np(pthread_self(), name);
#if defined(SCHED_BATCH)
    if (batch) {
        struct sched_param sp = {0};
        (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    }
#else
    (void)batch;
#endif
#elif defined(__APPLE__)
    (void)pthread_setname_np(name);
    (void)batch;
#else
    (void)name;
    (void)batch;
#endif
}
