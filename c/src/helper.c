/*
 * helper.c — a thread that runs one job per kick (helper.h).
 */
#include "helper.h"

#include "bgthread.h"

static void *helper_main(void *arg) {
    tl_helper_t *hp = arg;
    tl_bgthread_init(hp->name, true);
    pthread_mutex_lock(&hp->mu);
    while (!hp->stop) {
        if (!hp->kick) {
            pthread_cond_wait(&hp->cv, &hp->mu);
            continue;
        }
        hp->kick = false;
        pthread_mutex_unlock(&hp->mu);
        hp->job(hp->ctx);
        pthread_mutex_lock(&hp->mu);
    }
    pthread_mutex_unlock(&hp->mu);
    return NULL;
}

tl_status_t tl_helper_start(tl_helper_t *hp, const char *name, void (*job)(void *ctx),
                            void *ctx) {
    if (hp->running) return TL_OK;
    hp->job = job;
    hp->ctx = ctx;
    hp->name = name;
    hp->kick = false;
    hp->stop = false;
    if (pthread_mutex_init(&hp->mu, NULL) != 0) return TL_EINTERNAL;
    if (pthread_cond_init(&hp->cv, NULL) != 0) {
        pthread_mutex_destroy(&hp->mu);
        return TL_EINTERNAL;
    }
    if (pthread_create(&hp->th, NULL, helper_main, hp) != 0) {
        pthread_cond_destroy(&hp->cv);
        pthread_mutex_destroy(&hp->mu);
        return TL_EINTERNAL;
    }
    hp->running = true;
    return TL_OK;
}

/* Raises one of the thread's flags (kick or stop) and wakes it. */
static void raise_flag(tl_helper_t *hp, bool *flag) {
    pthread_mutex_lock(&hp->mu);
    *flag = true;
    pthread_cond_signal(&hp->cv);
    pthread_mutex_unlock(&hp->mu);
}

void tl_helper_kick(tl_helper_t *hp) {
    if (hp->running) raise_flag(hp, &hp->kick);
}

void tl_helper_stop(tl_helper_t *hp) {
    if (!hp->running) return;
    raise_flag(hp, &hp->stop);
    (void)pthread_join(hp->th, NULL); /* only fails for a bad handle, which this one is not */
    pthread_cond_destroy(&hp->cv);
    pthread_mutex_destroy(&hp->mu);
    hp->running = false;
}
