/* engine.h — the one interface every model engine implements: the native learners and TensorFlow (engine/tf/).
 *
 * The pipeline turns each record into a feature row and hands rows over in batches; an engine knows nothing
 * of Kafka, formats or offsets. A row (rtml_row) has a dense part, inputs [0, n_dense), and a sparse part:
 * (index, value) pairs with indices in [n_dense, n_inputs) — one-hot, hashed and crossed features, where
 * n_inputs can be 2^20 while a row holds a few dozen non-zeros.
 *   predict: out[i * n_outputs + k]. Binary: n_outputs = 1, P(y = 1). Regression: n_outputs = 1, the value.
 *            Multiclass: n_outputs = n_classes, the class probabilities.
 *   learn:   one update per row in row order (y: 0/1, the target, or the class index), except engines that
 *            micro-batch by configuration (the MLP's model.batch); the same rows give the same model.
 * Model state saves into and loads from a binfmt section (binfmt.h): versioned, checksummed by the file.
 * Ownership: rtml_engine_open() returns an engine the caller frees with rtml_engine_close(). */
#ifndef RTML_ENGINE_H
#define RTML_ENGINE_H
#include <stddef.h>
#include <stdint.h>

#include "base/binfmt.h"
#include "base/buf.h"
#include "base/row.h"
#include "config/config.h"
#include "base/record.h"

typedef struct rtml_engine rtml_engine;

typedef struct {
    const char *name; /* e.g. "native/logistic" */
    int (*predict)(rtml_engine *e, const rtml_row *rows, size_t n, double *out);
    int (*learn)(rtml_engine *e, const rtml_row *rows, const double *y, size_t n);
    int (*save)(const rtml_engine *e, rtml_writer *w);
    int (*load)(rtml_engine *e, rtml_reader *r, char *err, size_t errlen);
    void (*close)(rtml_engine *e);
    /* Optional: all trainable parameters in the engine's documented order (see rtml_engine_params). */
    double *(*params)(rtml_engine *e, size_t *n);
    /* Optional: can the engine take this record's raw values (row->raw)? RTML_REJECT_NONE, or why not. */
    int (*accept)(rtml_engine *e, const rtml_row *row, char *detail, size_t dlen);
    /* Optional: append ,"outputs":{...} for row i of the last predict() (extra model outputs), JSON. */
    void (*extras)(const rtml_engine *e, size_t i, rtml_buf *out);
    /* Optional: write the learned model where its engine keeps versions (TensorFlow: a new SavedModel
     * version directory). 0, or -1 with a reason. */
    int (*checkpoint)(rtml_engine *e, char *err, size_t errlen);
    /* Optional: learn() of one row that predict() has just scored alone, the model unchanged since: `scores`
     * is what predict wrote for it, so the engine need not score the row again. The same model as learn(). */
    int (*learn_scored)(rtml_engine *e, const rtml_row *row, double y, const double *scores);
} rtml_engine_ops;

struct rtml_engine {
    const rtml_engine_ops *ops;
    rtml_task task;
    rtml_shape shape;
    size_t n_outputs;
    uint64_t learned; /* rows learned so far */
    size_t batch;     /* rows per predict call the pipeline should gather (native: 1) */
    double max_delay; /* seconds a partial batch may wait (native: 0) */
    int64_t version;  /* the model's version when the engine has its own (TensorFlow), else 0 */
    int float32;      /* its outputs are float32 values (TensorFlow): predictions print them as such */
    int serve_only;   /* it cannot learn (a SavedModel without a train signature): labels are only evaluated */
    void *impl;       /* the engine's own state, owned by it */
};

/* Open the engine the config names for rows of this shape (its task: cfg->model.task). NULL + reason on
 * failure (a SavedModel that does not load, a shape the model cannot take). */
rtml_engine *rtml_engine_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen);
void rtml_engine_close(rtml_engine *e);

static inline int rtml_engine_predict(rtml_engine *e, const rtml_row *rows, size_t n, double *out) {
    return e->ops->predict(e, rows, n, out);
}
static inline int rtml_engine_learn(rtml_engine *e, const rtml_row *rows, const double *y, size_t n) {
    int rc = e->ops->learn(e, rows, y, n);
    if (rc == 0) e->learned += n;
    return rc;
}
/* learn() of the one row predict() has just scored alone (scores: its output), through learn_scored when the
 * engine has it. The caller guarantees that the model has not changed since that predict(). */
static inline int rtml_engine_learn_scored(rtml_engine *e, const rtml_row *row, double y, const double *scores) {
    if (!e->ops->learn_scored) return rtml_engine_learn(e, row, &y, 1);
    int rc = e->ops->learn_scored(e, row, y, scores);
    if (rc == 0) e->learned++;
    return rc;
}

/* All trainable parameters of a native engine, owned by it, for inspection and tests (gradient checks
 * write them). NULL (and *n = 0) for an engine without them. The order, per engine:
 *   linear, logistic: w[0 .. n_inputs), bias                                 (n_inputs + 1)
 *   softmax: W[j * K + k] for input j < n_inputs and class k < K, then bias[k] at n_inputs * K + k
 *   ftrl: z[0 .. n_inputs], then n[0 .. n_inputs] (index n_inputs: the bias coordinate); the weights are
 *         derived from z and n (rtml_ftrl_weight)
 *   mlp: layer by layer, W_l[j * fan_out + k] (input j, unit k) then b_l[k]; layer 1's fan_in = n_inputs */
double *rtml_engine_params(rtml_engine *e, size_t *n);

/* The TensorFlow engine (tf/tf_engine.c; tf/tf_none.c when rtml is built without TensorFlow): serves and
 * trains a SavedModel. layout (n_spans entries, borrowed for the call) maps feature names to row columns for the
 * inputs that take features. */
rtml_engine *rtml_tf_open(const rtml_config *cfg, const rtml_row_span *layout, size_t n_spans,
                          const rtml_shape *shape, char *err, size_t errlen);
/* Switch a TensorFlow engine to version `version` of its model directory, leaving the directory as it is (a reader
 * following the engine that writes the versions: serve's scorers). 0, or -1 with a reason (the old one stays). */
int rtml_tf_use_version(rtml_engine *e, int64_t version, char *err, size_t errlen);
/* Whether this build has the TensorFlow engine, and the TensorFlow version it links ("" without). */
int rtml_tf_available(void);
const char *rtml_tf_version(void);
/* For `rtml --version`: the library file loaded when no config names one (tf_api.h: RTML_TENSORFLOW_LIBRARY or
 * the build's default) and the setting that chose it, else why none loaded; written into buf (loads it). */
const char *rtml_tf_library_info(char *buf, size_t len);

/* Native engines. */
rtml_engine *rtml_linear_open(const rtml_config *cfg, rtml_task task, const rtml_shape *shape, char *err,
                              size_t errlen);
/* The parameters of a linear engine, weights then the bias (n_inputs + 1 values), owned by the engine;
 * for inspection (/model) and tests (gradient checks). NULL for other engines. */
double *rtml_linear_params(rtml_engine *e, size_t *n);
/* Multinomial logistic regression (task multiclass, shape->n_classes >= 2 outputs). */
rtml_engine *rtml_softmax_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen);
/* FTRL-Proximal logistic regression (McMahan et al., 2013). */
rtml_engine *rtml_ftrl_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen);
/* The weight FTRL would use for coordinate j (j = n_inputs: the bias) given its current z and n. */
double rtml_ftrl_weight(const rtml_engine *e, size_t j);
/* Multi-layer perceptron for the given task (binary, regression, multiclass). */
rtml_engine *rtml_mlp_open(const rtml_config *cfg, rtml_task task, const rtml_shape *shape, char *err,
                           size_t errlen);

#endif
