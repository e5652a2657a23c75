/* pool.h — the serve endpoint's scorers (pool.c): one per HTTP thread and one more, each on a snapshot of the
 * stream's model, kept fresh by a refresher thread.
 *
 * A request takes a free scorer (the freshest one), scores on it and gives it back; it never loads a snapshot
 * itself, so its time is scoring only. The refresher wakes at each publication (snapshot.h) and loads the new
 * snapshot into every scorer that is free, one at a time, retrying the busy ones a moment later: while one
 * scorer loads, the others answer. A scorer whose load failed holds no snapshot and is not handed out until
 * the next one loads. Ownership: rtml_pool_open() returns a pool rtml_pool_close() frees (joining the refresher);
 * the config and the snapshots are borrowed and outlive it. */
#ifndef RTML_SERVE_POOL_H
#define RTML_SERVE_POOL_H
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "pipeline/scorer.h"
#include "serve/snapshot.h"

typedef struct rtml_pool rtml_pool;

/* A scorer handed out: its snapshot stays referenced while it holds it. */
typedef struct {
    rtml_scorer *scorer;
    rtml_snapshot *snap; /* NULL: not loaded */
} rtml_pooled;

rtml_pool *rtml_pool_open(const rtml_config *cfg, rtml_snapshots *snaps, size_t n, char *err, size_t errlen);
void rtml_pool_close(rtml_pool *p);
/* The freshest free loaded scorer (waiting for one to be given back if none is free); NULL when none has loaded a
 * snapshot yet. */
rtml_pooled *rtml_pool_take(rtml_pool *p);
void rtml_pool_give(rtml_pool *p, rtml_pooled *s);
/* A scorer for what never changes (shape, fields, task): it must not be scored on. */
const rtml_scorer *rtml_pool_model(const rtml_pool *p);
/* Snapshots loaded so far, and loads that failed. */
void rtml_pool_counts(rtml_pool *p, uint64_t *loads, uint64_t *failures);

#endif
