/* featurize.h — the feature pipeline: raw field values of a record -> one dense vector for the engine.
 *
 * Each configured feature reads one numeric field and passes it through its transform chain in order
 * (standardize, log1p, clip). Stateful transforms (standardize's running mean and variance) learn from every
 * record they see before transforming it, as River's StandardScaler does inside a pipeline; their state is
 * part of the model state. */
#ifndef RTML_FEATURIZE_H
#define RTML_FEATURIZE_H
#include <stddef.h>

#include "config.h"
#include "stats.h"

typedef struct {
    const rtml_feature *spec; /* borrowed from the config, which outlives this */
    rtml_welford *stats;      /* one per transform step (used by standardize), owned */
} rtml_feature_state;

typedef struct {
    rtml_feature_state *f; /* n entries, owned */
    size_t n;
} rtml_features;

int rtml_features_init(rtml_features *fs, const rtml_config *cfg, char *err, size_t errlen);
void rtml_features_free(rtml_features *fs);

/* Transform raw[i] (the field value of feature i) into x[i], updating the running statistics. */
void rtml_features_apply(rtml_features *fs, const double *raw, double *x);

#endif
