/* linear.c — native online linear models: logistic regression (binary) and linear regression (squared loss).
 *
 * One weight per input plus a bias, updated per row by the configured optimizer (sgd, momentum, adagrad,
 * adam) with optional L2. Initial weights are zero, so the same rows always give the same model.
 *
 * The optimizer keeps up to two slots per parameter (momentum/adam's first moment, adagrad/adam's second);
 * they live beside the weights in one allocation: params are laid out [w_0 .. w_{n-1}, bias]. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rtml.h"

typedef enum { OPT_SGD, OPT_MOMENTUM, OPT_ADAGRAD, OPT_ADAM } optimizer_kind;

typedef struct {
    optimizer_kind opt;
    double lr, l2;
    size_t n_params; /* n_inputs + 1 (bias last) */
    double *w;       /* n_params weights */
    double *s1;      /* first slot (momentum velocity, adam m) */
    double *s2;      /* second slot (adagrad sum of g^2, adam v) */
    uint64_t steps;  /* adam bias correction */
} linear_model;

static double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static double raw_score(const linear_model *m, const rtml_engine *e, const rtml_row *row) {
    size_t bias = m->n_params - 1;
    double z = m->w[bias];
    for (size_t j = 0; j < e->shape.n_dense; j++) z += m->w[j] * row->dense[j];
    for (size_t k = 0; k < row->nnz; k++) z += m->w[row->idx[k]] * row->val[k];
    return z;
}

static int linear_predict(rtml_engine *e, const rtml_row *rows, size_t n, double *out) {
    const linear_model *m = e->impl;
    for (size_t i = 0; i < n; i++) {
        double z = raw_score(m, e, &rows[i]);
        out[i] = e->task == RTML_TASK_BINARY ? sigmoid(z) : z;
    }
    return 0;
}

/* Update parameter j by gradient g with the configured optimizer. */
static void step_one(linear_model *m, size_t j, double g, double c1, double c2) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    switch (m->opt) {
    case OPT_SGD: m->w[j] -= m->lr * g; break;
    case OPT_MOMENTUM:
        m->s1[j] = b1 * m->s1[j] + g;
        m->w[j] -= m->lr * m->s1[j];
        break;
    case OPT_ADAGRAD:
        m->s2[j] += g * g;
        m->w[j] -= m->lr * g / (sqrt(m->s2[j]) + eps);
        break;
    case OPT_ADAM:
        m->s1[j] = b1 * m->s1[j] + (1 - b1) * g;
        m->s2[j] = b2 * m->s2[j] + (1 - b2) * g * g;
        m->w[j] -= m->lr * (m->s1[j] / c1) / (sqrt(m->s2[j] / c2) + eps);
        break;
    }
}

/* One row: gradient of log loss (binary) or half squared error (regression), plus L2 on the weights (not
 * the bias). Dense inputs and the bias are updated every row, sparse ones only where the row is non-zero. */
static void learn_row(const rtml_engine *e, linear_model *m, const rtml_row *row, double y) {
    double z = raw_score(m, e, row);
    double residual = e->task == RTML_TASK_BINARY ? sigmoid(z) - y : z - y;
    m->steps++;
    double c1 = 1.0 - pow(0.9, (double)m->steps), c2 = 1.0 - pow(0.999, (double)m->steps);
    for (size_t j = 0; j < e->shape.n_dense; j++) step_one(m, j, residual * row->dense[j] + m->l2 * m->w[j], c1, c2);
    for (size_t k = 0; k < row->nnz; k++) {
        uint32_t j = row->idx[k];
        step_one(m, j, residual * row->val[k] + m->l2 * m->w[j], c1, c2);
    }
    step_one(m, m->n_params - 1, residual, c1, c2);
}

static int linear_learn(rtml_engine *e, const rtml_row *rows, const double *y, size_t n) {
    linear_model *m = e->impl;
    for (size_t i = 0; i < n; i++) learn_row(e, m, &rows[i], y[i]);
    return 0;
}

static int linear_save(const rtml_engine *e, rtml_writer *w) {
    const linear_model *m = e->impl;
    rtml_w_u64(w, m->n_params);
    rtml_w_u64(w, m->steps);
    rtml_w_f64s(w, m->w, 3 * m->n_params); /* w, s1, s2 are contiguous */
    return 0;
}

static int linear_load(rtml_engine *e, rtml_reader *r, char *err, size_t errlen) {
    linear_model *m = e->impl;
    uint64_t np = rtml_r_u64(r);
    if (!r->failed && np != m->n_params)
        return rtml_fail(err, errlen, "model has %llu parameters, the config makes %zu", (unsigned long long)np,
                         m->n_params);
    m->steps = rtml_r_u64(r);
    rtml_r_f64s(r, m->w, 3 * m->n_params);
    return r->failed ? rtml_fail(err, errlen, "model state is truncated") : 0;
}

static void linear_close(rtml_engine *e) {
    linear_model *m = e->impl;
    if (m) {
        free(m->w);
        free(m);
    }
    free(e);
}

static const rtml_engine_ops linear_ops = {
    .name = "native/linear",
    .predict = linear_predict,
    .learn = linear_learn,
    .save = linear_save,
    .load = linear_load,
    .close = linear_close,
};

static const rtml_engine_ops logistic_ops = {
    .name = "native/logistic",
    .predict = linear_predict,
    .learn = linear_learn,
    .save = linear_save,
    .load = linear_load,
    .close = linear_close,
};

double *rtml_linear_params(rtml_engine *e, size_t *n) {
    if (e->ops != &linear_ops && e->ops != &logistic_ops) return NULL;
    linear_model *m = e->impl;
    *n = m->n_params;
    return m->w;
}

static int parse_optimizer(const char *name, optimizer_kind *out) {
    static const struct { const char *name; optimizer_kind kind; } table[] = {
        {"sgd", OPT_SGD}, {"momentum", OPT_MOMENTUM}, {"adagrad", OPT_ADAGRAD}, {"adam", OPT_ADAM}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            *out = table[i].kind;
            return 0;
        }
    return -1;
}

rtml_engine *rtml_linear_open(const rtml_config *cfg, rtml_task task, const rtml_shape *shape, char *err,
                              size_t errlen) {
    size_t n_inputs = shape->n_inputs;
    optimizer_kind opt;
    const char *opt_name = cfg->model.optimizer ? cfg->model.optimizer : "sgd";
    if (parse_optimizer(opt_name, &opt) != 0) {
        rtml_fail(err, errlen, "model.optimizer: unknown optimizer '%s' (expected sgd|momentum|adagrad|adam)", opt_name);
        return NULL;
    }
    rtml_engine *e = calloc(1, sizeof *e);
    linear_model *m = calloc(1, sizeof *m);
    size_t np = n_inputs + 1;
    double *mem = calloc(3 * np, sizeof *mem); /* w, s1, s2 */
    if (!e || !m || !mem) {
        free(e), free(m), free(mem);
        rtml_fail(err, errlen, "out of memory for a linear model of %zu inputs", n_inputs);
        return NULL;
    }
    m->opt = opt;
    m->lr = cfg->model.learning_rate;
    m->l2 = cfg->model.l2;
    m->n_params = np;
    m->w = mem;
    m->s1 = mem + np;
    m->s2 = mem + 2 * np;
    e->ops = task == RTML_TASK_BINARY ? &logistic_ops : &linear_ops;
    e->task = task;
    e->shape = *shape;
    e->n_outputs = 1;
    e->impl = m;
    return e;
}
