/* models.h — `rtml run` and the model topic (models.c; kafka/modelbus.h has the topic): a trainer publishes its
 * versions, a predictor follows them, either applies a rollback. */
#ifndef RTML_RUN_MODELS_H
#define RTML_RUN_MODELS_H
#include <stdbool.h>
#include <stdint.h>

#include "run/runner.h"

/* With models.topic: read the topic, create the writer (trainer, both: it fences an older trainer), resume from
 * the newest version when state.dir had no checkpoint (restored false), or (predictor) wait for a first version
 * and serve it — until a signal, or give_up_s seconds when > 0. Then start the watcher thread. 0, or -1. */
int rtml_run_models_open(rtml_runner *r, bool restored, double give_up_s, char *err, size_t errlen);
/* Each loop iteration: swap in a loaded version (predictor), apply a rollback, publish when due (trainer). */
void rtml_run_models_tick(rtml_runner *r, double now);
/* At shutdown, after the last batch: a trainer publishes what it learned since its last version. */
void rtml_run_models_finish(rtml_runner *r);
void rtml_run_models_close(rtml_runner *r);
typedef struct {
    int64_t newest, pinned;
    uint64_t published, publish_failures, swaps, load_failures;
} rtml_run_models_stats;
void rtml_run_models_counts(const rtml_runner *r, rtml_run_models_stats *s);

#endif
