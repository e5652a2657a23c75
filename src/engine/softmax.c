/* softmax.c — native multinomial logistic regression: task multiclass, K = shape.n_classes outputs.
 *
 * Scores z_k = b_k + sum_j x_j W[j][k]; probabilities p = softmax(z), computed stably (max subtracted);
 * loss: cross-entropy -log p_y, whose gradient with respect to z_k is p_k - [k == y]. Each row is one step
 * of the shared optimizer (optim.h), L2 on W but not on b, optional clipping of the row's gradient.
 * Weights start at zero (every class equally likely). Updates are lazy like linear.c's: a row moves the
 * dense inputs' weights, its sparse inputs' weights and the biases.
 *
 * Layout (rtml_engine_params): input-major, W[j * K + k], then b[k] at n_inputs * K + k — the K weights
 * of one sparse input are contiguous, which is what a 2^20-wide hashed row wants.
 * Labels: y is the class index, an integer in [0, K); learn() rejects a batch with any other label before
 * learning anything from it (-1). Saved state: K, n_inputs, the parameters, the optimizer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/optim.h"
#include "base/rtml.h"

typedef struct {
    rtml_optim opt;
    size_t k, n_inputs, n_params;
    double *w;    /* n_params */
    double *p;    /* K: scores, then probabilities, of the current row */
} softmax_model;

static void scores(const rtml_engine *e, const softmax_model *m, const rtml_row *row, double *z) {
    size_t K = m->k;
    memcpy(z, m->w + m->n_inputs * K, K * sizeof *z);
    for (size_t j = 0; j < e->shape.n_dense; j++)
        for (size_t c = 0; c < K; c++) z[c] += m->w[j * K + c] * row->dense[j];
    for (size_t i = 0; i < row->nnz; i++) {
        const double *wj = m->w + (size_t)row->idx[i] * K;
        for (size_t c = 0; c < K; c++) z[c] += wj[c] * row->val[i];
    }
}

static int softmax_predict(rtml_engine *e, const rtml_row *rows, size_t n, double *out) {
    softmax_model *m = e->impl;
    for (size_t i = 0; i < n; i++) {
        double *o = out + i * m->k;
        scores(e, m, &rows[i], o);
        rtml_softmax(o, m->k, o);
    }
    return 0;
}

/* Squared norm of the gradient of input j (value x) across the K classes. */
static double input_sumsq(const softmax_model *m, size_t j, double x) {
    double s = 0;
    for (size_t c = 0; c < m->k; c++) {
        double g = x * m->p[c] + m->opt.set.l2 * m->w[j * m->k + c];
        s += g * g;
    }
    return s;
}

static double row_sumsq(const rtml_engine *e, const softmax_model *m, const rtml_row *row) {
    double s = 0;
    for (size_t c = 0; c < m->k; c++) s += m->p[c] * m->p[c]; /* biases */
    for (size_t j = 0; j < e->shape.n_dense; j++) s += input_sumsq(m, j, row->dense[j]);
    for (size_t i = 0; i < row->nnz; i++) s += input_sumsq(m, row->idx[i], row->val[i]);
    return s;
}

static void update_input(softmax_model *m, size_t j, double x, double scale) {
    for (size_t c = 0; c < m->k; c++) {
        size_t q = j * m->k + c;
        rtml_optim_update(&m->opt, m->w, q, scale * (x * m->p[c] + m->opt.set.l2 * m->w[q]));
    }
}

/* One row; m->p becomes the gradient with respect to the scores, p - onehot(y). */
static void learn_row(const rtml_engine *e, softmax_model *m, const rtml_row *row, size_t y) {
    scores(e, m, row, m->p);
    rtml_softmax(m->p, m->k, m->p);
    m->p[y] -= 1.0;
    double scale = m->opt.set.clip > 0 ? rtml_clip_scale(m->opt.set.clip, row_sumsq(e, m, row)) : 1.0;
    rtml_optim_begin(&m->opt);
    for (size_t j = 0; j < e->shape.n_dense; j++) update_input(m, j, row->dense[j], scale);
    for (size_t i = 0; i < row->nnz; i++) update_input(m, row->idx[i], row->val[i], scale);
    for (size_t c = 0; c < m->k; c++) rtml_optim_update(&m->opt, m->w, m->n_inputs * m->k + c, scale * m->p[c]);
    rtml_optim_end(&m->opt);
}

static int softmax_learn(rtml_engine *e, const rtml_row *rows, const double *y, size_t n) {
    softmax_model *m = e->impl;
    for (size_t i = 0; i < n; i++)
        if (!(y[i] >= 0 && y[i] < (double)m->k && y[i] == floor(y[i]))) return -1;
    for (size_t i = 0; i < n; i++) learn_row(e, m, &rows[i], (size_t)y[i]);
    return 0;
}

static int softmax_save(const rtml_engine *e, rtml_writer *w) {
    const softmax_model *m = e->impl;
    rtml_w_u64(w, m->k);
    rtml_w_u64(w, m->n_inputs);
    rtml_w_f64s(w, m->w, m->n_params);
    rtml_optim_save(&m->opt, w);
    return 0;
}

static int softmax_load(rtml_engine *e, rtml_reader *r, char *err, size_t errlen) {
    softmax_model *m = e->impl;
    uint64_t k = rtml_r_u64(r), n_inputs = rtml_r_u64(r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    if (k != m->k || n_inputs != m->n_inputs)
        return rtml_fail(err, errlen, "model has %llu classes x %llu inputs, the config makes %zu x %zu",
                         (unsigned long long)k, (unsigned long long)n_inputs, m->k, m->n_inputs);
    rtml_r_f64s(r, m->w, m->n_params);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    return rtml_optim_load(&m->opt, r, err, errlen);
}

static void softmax_close(rtml_engine *e) {
    softmax_model *m = e->impl;
    if (m) {
        rtml_optim_free(&m->opt);
        free(m->w);
        free(m->p);
        free(m);
    }
    free(e);
}

static double *softmax_params(rtml_engine *e, size_t *n) {
    softmax_model *m = e->impl;
    *n = m->n_params;
    return m->w;
}

static const rtml_engine_ops softmax_ops = {
    .name = "native/softmax",
    .predict = softmax_predict,
    .learn = softmax_learn,
    .save = softmax_save,
    .load = softmax_load,
    .close = softmax_close,
    .params = softmax_params,
};

rtml_engine *rtml_softmax_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen) {
    rtml_optim_settings set;
    if (shape->n_classes < 2) {
        rtml_fail(err, errlen, "model.classes: softmax needs at least 2 classes, got %zu", shape->n_classes);
        return NULL;
    }
    if (rtml_optim_settings_from(cfg, &set, err, errlen) != 0) return NULL;
    size_t K = shape->n_classes, np = (shape->n_inputs + 1) * K;
    rtml_engine *e = calloc(1, sizeof *e);
    softmax_model *m = calloc(1, sizeof *m);
    double *w = calloc(np, sizeof *w), *p = calloc(K, sizeof *p);
    if (!e || !m || !w || !p) rtml_fail(err, errlen, "out of memory for a softmax model of %zu inputs x %zu classes",
                                        shape->n_inputs, K);
    if (!e || !m || !w || !p || rtml_optim_init(&m->opt, &set, np, err, errlen) != 0) {
        free(e), free(m), free(w), free(p);
        return NULL;
    }
    m->k = K;
    m->n_inputs = shape->n_inputs;
    m->n_params = np;
    m->w = w;
    m->p = p;
    e->ops = &softmax_ops;
    e->task = RTML_TASK_MULTICLASS;
    e->shape = *shape;
    e->n_outputs = K;
    e->impl = m;
    return e;
}
