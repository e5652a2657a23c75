/* engine.h — the one interface every model engine implements (native learners now, TensorFlow later).
 *
 * The pipeline turns records into dense feature vectors and hands them over in batches; an engine knows
 * nothing of Kafka, formats or offsets. Batches are row-major: x[i * n_inputs + j] is feature j of row i.
 *   predict: out[i * n_outputs + k] — for binary classifiers n_outputs = 1 and out is P(y = 1);
 *            for regressors out is the predicted value.
 *   learn:   one update per row, in row order (an engine may micro-batch internally, but must give the
 *            same result for the same sequence of rows, whatever the batch boundaries).
 * Ownership: rtml_engine_open() returns an engine the caller frees with rtml_engine_close(). */
#ifndef RTML_ENGINE_H
#define RTML_ENGINE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

typedef enum { RTML_TASK_BINARY = 0, RTML_TASK_REGRESSION } rtml_task;

typedef struct rtml_engine rtml_engine;

typedef struct {
    const char *name; /* e.g. "native/logistic" */
    int (*predict)(rtml_engine *e, const double *x, size_t n, double *out);
    int (*learn)(rtml_engine *e, const double *x, const double *y, size_t n);
    int (*save)(const rtml_engine *e, FILE *f, char *err, size_t errlen);
    int (*load)(rtml_engine *e, FILE *f, char *err, size_t errlen);
    void (*close)(rtml_engine *e);
} rtml_engine_ops;

struct rtml_engine {
    const rtml_engine_ops *ops;
    rtml_task task;
    size_t n_inputs;
    size_t n_outputs;
    uint64_t learned; /* rows learned so far */
    void *impl;       /* the engine's own state, owned by it */
};

/* Open the engine the config names, for vectors of n_inputs features. NULL + reason on failure
 * (unknown or not-yet-supported engine/type is a reason, not a crash). */
rtml_engine *rtml_engine_open(const rtml_config *cfg, size_t n_inputs, char *err, size_t errlen);
void rtml_engine_close(rtml_engine *e);

static inline int rtml_engine_predict(rtml_engine *e, const double *x, size_t n, double *out) {
    return e->ops->predict(e, x, n, out);
}
static inline int rtml_engine_learn(rtml_engine *e, const double *x, const double *y, size_t n) {
    int rc = e->ops->learn(e, x, y, n);
    if (rc == 0) e->learned += n;
    return rc;
}

/* Native engines (engine/linear.c). */
rtml_engine *rtml_linear_open(const rtml_config *cfg, rtml_task task, size_t n_inputs, char *err, size_t errlen);
/* The parameters of a linear engine, weights then the bias (n_inputs + 1 values), owned by the engine;
 * for inspection (/model) and tests (gradient checks). NULL for other engines. */
double *rtml_linear_params(rtml_engine *e, size_t *n);

#endif
