/* linear.c — native online linear models: logistic regression (binary, log loss) and linear regression
 * (model.loss: squared, i.e. 0.5 (p - y)^2, or huber with model.huber_delta).
 *
 * One weight per input plus a bias, updated once per row by the shared optimizer (optim.h: sgd, momentum,
 * adagrad, adam; constant / inverse_scaling / step schedules; L2 on the weights, not the bias; clipping of
 * the row's gradient by L2 norm). Initial weights are zero, so the same rows always give the same model.
 *
 * The bias is one more parameter of the same optimizer as the weights (same rate, same slots kind), unlike
 * River's GLMs, whose intercept takes plain SGD steps with its own intercept_lr. Sparse updates are lazy:
 * a row moves the dense weights, the bias and the weights of its non-zero sparse inputs, nothing else
 * (so L2 decays a sparse weight only when its input appears, as River's dict weights do). A row's gradient
 * counts each (index, value) pair on its own: a repeated index is two contributions to one weight.
 *
 * Parameters (rtml_engine_params / rtml_linear_params): [w_0 .. w_{n_inputs-1}, bias].
 * Saved state: n_params, the parameters, then the optimizer (rtml_optim_save). */
#include <stdlib.h>

#include "engine/engine.h"
#include "engine/optim.h"
#include "base/rtml.h"

typedef struct {
    rtml_optim opt;
    rtml_reg_loss loss;
    double delta;    /* huber */
    size_t n_params; /* n_inputs + 1 (bias last) */
    double *w;
} linear_model;

static double raw_score(const linear_model *m, const rtml_engine *e, const rtml_row *row) {
    double z = m->w[m->n_params - 1];
    for (size_t j = 0; j < e->shape.n_dense; j++) z += m->w[j] * row->dense[j];
    for (size_t k = 0; k < row->nnz; k++) z += m->w[row->idx[k]] * row->val[k];
    return z;
}

static int linear_predict(rtml_engine *e, const rtml_row *rows, size_t n, double *out) {
    const linear_model *m = e->impl;
    for (size_t i = 0; i < n; i++) {
        double z = raw_score(m, e, &rows[i]);
        out[i] = e->task == RTML_TASK_BINARY ? rtml_sigmoid(z) : z;
    }
    return 0;
}

/* Squared norm of the row's gradient (data term d * x plus L2), for clipping. */
static double grad_sumsq(const rtml_engine *e, const linear_model *m, const rtml_row *row, double d) {
    double l2 = m->opt.set.l2, s = d * d; /* the bias */
    for (size_t j = 0; j < e->shape.n_dense; j++) {
        double g = d * row->dense[j] + l2 * m->w[j];
        s += g * g;
    }
    for (size_t k = 0; k < row->nnz; k++) {
        double g = d * row->val[k] + l2 * m->w[row->idx[k]];
        s += g * g;
    }
    return s;
}

/* d = dloss/dscore for the row's prediction (sigmoid(z) for log loss, z itself for regression). */
static double residual(const rtml_engine *e, const linear_model *m, double prediction, double y) {
    return e->task == RTML_TASK_BINARY ? prediction - y : rtml_reg_grad(m->loss, m->delta, prediction, y);
}

/* One row's update for its residual d. */
static void learn_row(const rtml_engine *e, linear_model *m, const rtml_row *row, double d) {
    double l2 = m->opt.set.l2;
    double scale = m->opt.set.clip > 0 ? rtml_clip_scale(m->opt.set.clip, grad_sumsq(e, m, row, d)) : 1.0;
    rtml_optim_begin(&m->opt);
    for (size_t j = 0; j < e->shape.n_dense; j++)
        rtml_optim_update(&m->opt, m->w, j, scale * (d * row->dense[j] + l2 * m->w[j]));
    for (size_t k = 0; k < row->nnz; k++) {
        uint32_t j = row->idx[k];
        rtml_optim_update(&m->opt, m->w, j, scale * (d * row->val[k] + l2 * m->w[j]));
    }
    rtml_optim_update(&m->opt, m->w, m->n_params - 1, scale * d);
    rtml_optim_end(&m->opt);
}

static int linear_learn(rtml_engine *e, const rtml_row *rows, const double *y, size_t n) {
    linear_model *m = e->impl;
    for (size_t i = 0; i < n; i++) {
        double z = raw_score(m, e, &rows[i]);
        learn_row(e, m, &rows[i], residual(e, m, e->task == RTML_TASK_BINARY ? rtml_sigmoid(z) : z, y[i]));
    }
    return 0;
}

/* The prediction is the one predict() made (engine.h): no second score, no second sigmoid. */
static int linear_learn_scored(rtml_engine *e, const rtml_row *row, double y, const double *scores) {
    linear_model *m = e->impl;
    learn_row(e, m, row, residual(e, m, scores[0], y));
    return 0;
}

static int linear_save(const rtml_engine *e, rtml_writer *w) {
    const linear_model *m = e->impl;
    rtml_w_u64(w, m->n_params);
    rtml_w_f64s(w, m->w, m->n_params);
    rtml_optim_save(&m->opt, w);
    return 0;
}

static int linear_load(rtml_engine *e, rtml_reader *r, char *err, size_t errlen) {
    linear_model *m = e->impl;
    uint64_t np = rtml_r_u64(r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    if (np != m->n_params)
        return rtml_fail(err, errlen, "model has %llu parameters, the config makes %zu", (unsigned long long)np,
                         m->n_params);
    rtml_r_f64s(r, m->w, m->n_params);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    return rtml_optim_load(&m->opt, r, err, errlen);
}

static void linear_close(rtml_engine *e) {
    linear_model *m = e->impl;
    if (m) {
        rtml_optim_free(&m->opt);
        free(m->w);
        free(m);
    }
    free(e);
}

static double *linear_params(rtml_engine *e, size_t *n) {
    linear_model *m = e->impl;
    *n = m->n_params;
    return m->w;
}

static const rtml_engine_ops linear_ops = {
    .name = "native/linear",
    .predict = linear_predict,
    .learn = linear_learn,
    .learn_scored = linear_learn_scored,
    .save = linear_save,
    .load = linear_load,
    .close = linear_close,
    .params = linear_params,
};

static const rtml_engine_ops logistic_ops = {
    .name = "native/logistic",
    .predict = linear_predict,
    .learn = linear_learn,
    .learn_scored = linear_learn_scored,
    .save = linear_save,
    .load = linear_load,
    .close = linear_close,
    .params = linear_params,
};

double *rtml_linear_params(rtml_engine *e, size_t *n) {
    if (e->ops != &linear_ops && e->ops != &logistic_ops) return NULL;
    return linear_params(e, n);
}

rtml_engine *rtml_linear_open(const rtml_config *cfg, rtml_task task, const rtml_shape *shape, char *err,
                              size_t errlen) {
    rtml_optim_settings set;
    rtml_reg_loss loss = RTML_LOSS_SQUARED;
    double delta = 1;
    if (rtml_optim_settings_from(cfg, &set, err, errlen) != 0) return NULL;
    if (task == RTML_TASK_REGRESSION && rtml_reg_loss_from(cfg, &loss, &delta, err, errlen) != 0) return NULL;
    rtml_engine *e = calloc(1, sizeof *e);
    linear_model *m = calloc(1, sizeof *m);
    size_t np = shape->n_inputs + 1;
    double *w = calloc(np, sizeof *w);
    if (!e || !m || !w) {
        free(e), free(m), free(w);
        rtml_fail(err, errlen, "out of memory for a linear model of %zu inputs", shape->n_inputs);
        return NULL;
    }
    if (rtml_optim_init(&m->opt, &set, np, err, errlen) != 0) {
        free(e), free(m), free(w);
        return NULL;
    }
    m->loss = loss;
    m->delta = delta;
    m->n_params = np;
    m->w = w;
    e->ops = task == RTML_TASK_BINARY ? &logistic_ops : &linear_ops;
    e->task = task;
    e->shape = *shape;
    e->n_outputs = 1;
    e->impl = m;
    return e;
}
