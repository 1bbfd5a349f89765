/*
 * publish.h — the publish/pin unit (publish.c): read the current version, replace it with a
 * maintenance job's result, report dropped records. Everything that publishes goes through
 * here, so jobs depend on this unit and never on the files that run them.
 */
#ifndef TL_PUBLISH_H
#define TL_PUBLISH_H

#include "timelog_int.h"

/* Takes a reference on the current manifest (under state_mu). */
tl_manifest_t *tl_pin(tl_timelog_t *tl);

/* Publishes a maintenance result: builds from the current manifest, dropping the first
 * `mem_k` memruns and the first `l0_k` L0 runs, appending `l0_add` (may be NULL) and replacing
 * L1 by `l1_new` when `set_l1`; tombstones are garbage-collected. ENOMEM leaves it unchanged. */
tl_status_t tl_publish_maint(tl_timelog_t *tl, uint32_t mem_k, uint32_t l0_k, tl_run_t *l0_add,
                             bool set_l1, tl_vec_t *l1_new);

/* Reports records to on_drop / the drop queue (no lock held); counts them. */
void tl_report_drops(tl_timelog_t *tl, const int64_t *ts, const uint64_t *h, size_t n);
static inline bool tl_drops_external(const tl_timelog_t *tl) {
    return tl->cfg.on_drop != NULL || (tl->dropq != NULL && !tl_dropq_bell_only(tl->dropq));
}
/* Whether jobs collect their drops: for the caller (above) or for a bytes log's value store,
 * which releases the values of dropped records. */
static inline bool tl_drops_wanted(const tl_timelog_t *tl) {
    return tl->vs != NULL || tl_drops_external(tl);
}
/* Every stored record once (close): the manifest's runs and the writer's generation, which
 * are disjoint in pages. Packed pages are decoded on the stack: it never allocates. */
void tl_report_all(tl_timelog_t *tl);

#endif /* TL_PUBLISH_H */
