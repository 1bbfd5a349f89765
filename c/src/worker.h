/*
 * worker.h — the background maintenance worker (worker.c): its thread, its wake-ups, the
 * writers' wait under backpressure, and idle maintenance.
 */
#ifndef TL_WORKER_H
#define TL_WORKER_H

#include "timelog_int.h"

void tl_maint_kick(tl_timelog_t *tl); /* wake the worker (no-op when not running) */
/* Writer after a seal that found the queue full: wait for the worker (background) up to
 * busy_wait_ms. Returns OK when pressure is relieved, EBUSY otherwise. */
tl_status_t tl_maint_wait_busy(tl_timelog_t *tl);

#endif /* TL_WORKER_H */
