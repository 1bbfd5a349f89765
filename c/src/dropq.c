/*
 * dropq.c — the drop queue: dropped handles for runtimes that must not be called on engine
 * threads (Deno's thread-safe callbacks block the caller until JavaScript has run them).
 *
 * Structure: a mutex-protected growable array of handles with a read offset (drain moves the
 * oldest out; the array is compacted when it fills), plus an optional doorbell rung by a
 * notifier thread the queue owns. The engine only appends (after a publish, no engine lock
 * held) and never waits on the foreign runtime: at most it signals the notifier. The doorbell
 * rings once per empty -> non-empty transition; `armed` is cleared when a drain empties the
 * queue. Room is reserved before a publish (tl_dropq_reserve) so that the pushes after it
 * cannot fail.
 *
 * Shutdown: sets `shutdown` under the mutex; from then on no new doorbell call starts. If the
 * notifier is inside the doorbell, EBUSY (the binding lets its event loop run the call, then
 * retries); otherwise the notifier is joined and OK is returned.
 * Lifetime: refcount = the caller's reference + one per open log; released only after a
 * successful shutdown when a doorbell is set.
 * Complexity: push and drain O(n) copies amortised; no allocation on the drain path.
 */
#include "timelog_int.h"

struct tl_dropq {
    tl_allocator_t alloc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t *v;
    size_t start, end, cap; /* live handles are v[start, end) */
    uint32_t refs; /* mu */
    bool caller_ref; /* the caller's reference is still held */
    tl_doorbell_fn bell;
    uint32_t token;
    pthread_t thr;
    bool thr_live; /* created and not joined */
    bool ring, armed, in_bell, shutdown;
    bool bell_only; /* TL_DROPQ_BELL_ONLY: logs queue nothing here */
};

bool tl_dropq_bell_only(const tl_dropq_t *q) { return q->bell_only; }

static void *notifier_main(void *arg) {
    tl_dropq_t *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->ring && !q->shutdown) pthread_cond_wait(&q->cv, &q->mu);
        if (q->shutdown) break;
        q->ring = false;
        q->in_bell = true;
        pthread_mutex_unlock(&q->mu);
        q->bell(q->token);
        pthread_mutex_lock(&q->mu);
        q->in_bell = false;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

tl_status_t tl_dropq_create(const tl_allocator_t *alloc, tl_doorbell_fn doorbell, uint32_t token,
                            tl_dropq_t **out) {
    return tl_dropq_create_ex(alloc, doorbell, token, 0, out);
}

tl_status_t tl_dropq_create_ex(const tl_allocator_t *alloc, tl_doorbell_fn doorbell,
                               uint32_t token, uint32_t flags, tl_dropq_t **out) {
    if (out == NULL) return TL_EINVAL;
    *out = NULL;
    if ((flags & ~TL_DROPQ_BELL_ONLY) != 0) return TL_EINVAL;
    *out = NULL;
    if (alloc != NULL && (alloc->alloc == NULL || alloc->free == NULL)) return TL_EINVAL;
    const tl_allocator_t *a = alloc ? alloc : tl_default_allocator();
    tl_dropq_t *q = tl_mem_calloc(a, 1, sizeof *q);
    if (q == NULL) return TL_ENOMEM;
    q->alloc = *a;
    q->refs = 1;
    q->caller_ref = true;
    q->bell = doorbell;
    q->token = token;
    q->bell_only = (flags & TL_DROPQ_BELL_ONLY) != 0;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        tl_mem_free(a, q, sizeof *q);
        return TL_EINTERNAL;
    }
    if (pthread_cond_init(&q->cv, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        tl_mem_free(a, q, sizeof *q);
        return TL_EINTERNAL;
    }
    if (doorbell != NULL) {
        if (pthread_create(&q->thr, NULL, notifier_main, q) != 0) {
            pthread_cond_destroy(&q->cv);
            pthread_mutex_destroy(&q->mu);
            tl_mem_free(a, q, sizeof *q);
            return TL_EINTERNAL;
        }
        q->thr_live = true;
    }
    *out = q;
    return TL_OK;
}

static void dropq_free(tl_dropq_t *q) {
    TL_ASSERT(!q->thr_live);
    tl_allocator_t a = q->alloc;
    tl_mem_free(&a, q->v, q->cap * sizeof *q->v);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    tl_mem_free(&a, q, sizeof *q);
}

/* Room for n more handles (caller holds mu). */
static tl_status_t room_locked(tl_dropq_t *q, size_t n) {
    if (q->cap - q->end >= n) return TL_OK;
    size_t live = q->end - q->start;
    if (q->start > 0) {
        memmove(q->v, q->v + q->start, live * sizeof *q->v);
        q->start = 0;
        q->end = live;
        if (q->cap - q->end >= n) return TL_OK;
    }
    if (n > SIZE_MAX / 16 - live) return TL_EOVERFLOW;
    size_t nc = q->cap ? q->cap : 1024;
    while (nc < live + n) nc *= 2;
    uint64_t *v = tl_mem_alloc(&q->alloc, nc * sizeof *v);
    if (v == NULL) return TL_ENOMEM;
    if (live) memcpy(v, q->v, live * sizeof *v);
    tl_mem_free(&q->alloc, q->v, q->cap * sizeof *v);
    q->v = v;
    q->cap = nc;
    return TL_OK;
}

tl_status_t tl_dropq_reserve(tl_dropq_t *q, size_t n) {
    pthread_mutex_lock(&q->mu);
    tl_status_t st = room_locked(q, n);
    pthread_mutex_unlock(&q->mu);
    return st;
}

tl_status_t tl_dropq_push(tl_dropq_t *q, const uint64_t *h, size_t n) {
    if (n == 0) return TL_OK;
    pthread_mutex_lock(&q->mu);
    tl_status_t st = room_locked(q, n);
    if (st == TL_OK) {
        memcpy(q->v + q->end, h, n * sizeof *h);
        q->end += n;
        if (!q->armed && q->bell != NULL && !q->shutdown) {
            q->armed = true;
            q->ring = true;
            pthread_cond_signal(&q->cv);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return st;
}

void tl_dropq_notify(tl_dropq_t *q) {
    pthread_mutex_lock(&q->mu);
    if (q->bell != NULL && !q->shutdown) {
        q->ring = true;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
}

tl_status_t tl_dropq_drain(tl_dropq_t *q, uint64_t *handles, size_t cap, size_t *n_out) {
    if (q == NULL || n_out == NULL || (handles == NULL && cap > 0)) return TL_EINVAL;
    pthread_mutex_lock(&q->mu);
    size_t live = q->end - q->start;
    size_t k = live < cap ? live : cap;
    if (k) memcpy(handles, q->v + q->start, k * sizeof *handles);
    q->start += k;
    if (q->start == q->end) {
        q->start = q->end = 0;
        q->armed = false; /* the next push rings again */
    }
    pthread_mutex_unlock(&q->mu);
    *n_out = k;
    return live == 0 ? TL_EOF : TL_OK;
}

tl_status_t tl_dropq_pending(tl_dropq_t *q, uint64_t *out) {
    if (q == NULL || out == NULL) return TL_EINVAL;
    pthread_mutex_lock(&q->mu);
    *out = q->end - q->start;
    pthread_mutex_unlock(&q->mu);
    return TL_OK;
}

tl_status_t tl_dropq_shutdown(tl_dropq_t *q) {
    if (q == NULL) return TL_EINVAL;
    pthread_mutex_lock(&q->mu);
    q->shutdown = true;
    pthread_cond_broadcast(&q->cv);
    bool busy = q->in_bell, join = q->thr_live && !busy;
    pthread_mutex_unlock(&q->mu);
    if (busy) return TL_EBUSY;
    if (join) {
        /* shutdown is set and no call is in progress: the notifier exits without ringing. */
        pthread_join(q->thr, NULL);
        pthread_mutex_lock(&q->mu);
        q->thr_live = false;
        pthread_mutex_unlock(&q->mu);
    }
    return TL_OK;
}

static void unref(tl_dropq_t *q) {
    pthread_mutex_lock(&q->mu);
    TL_ASSERT(q->refs > 0);
    bool last = --q->refs == 0;
    pthread_mutex_unlock(&q->mu);
    if (last) dropq_free(q);
}

tl_status_t tl_dropq_release(tl_dropq_t *q) {
    if (q == NULL) return TL_OK;
    pthread_mutex_lock(&q->mu);
    bool ok = q->caller_ref && !q->thr_live;
    if (ok) q->caller_ref = false;
    pthread_mutex_unlock(&q->mu);
    if (!ok) return q->thr_live ? TL_EBUSY : TL_ESTATE;
    unref(q);
    return TL_OK;
}

void tl_dropq_ref_int(tl_dropq_t *q) {
    pthread_mutex_lock(&q->mu);
    q->refs++;
    pthread_mutex_unlock(&q->mu);
}

void tl_dropq_unref_int(tl_dropq_t *q) { unref(q); }
