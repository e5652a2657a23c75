/* ftrl.c — native FTRL-Proximal logistic regression (McMahan et al., 2013, "Ad Click Prediction: a View
 * from the Trenches", Algorithm 1), the classic learner for hashed sparse click data.
 *
 * Per coordinate i the model keeps z_i and n_i (the sum of squared gradients); the weight is not stored
 * but derived when needed ("lazy weights"):
 *     w_i = 0                                                    if |z_i| <= lambda1
 *     w_i = -(z_i - sgn(z_i) lambda1) / ((beta + sqrt(n_i)) / alpha + lambda2)   otherwise
 * and for a row with non-zero inputs I, p = sigmoid(sum_{i in I} x_i w_i), then for each i in I:
 *     g_i = (p - y) x_i;  sigma_i = (sqrt(n_i + g_i^2) - sqrt(n_i)) / alpha;
 *     z_i += g_i - sigma_i w_i;  n_i += g_i^2
 * alpha = model.ftrl_alpha (default 0.1), beta = model.ftrl_beta (1), lambda1 = model.l1, lambda2 =
 * model.l2. The learning rate is per coordinate (alpha / (beta + sqrt(n_i))), so model.optimizer,
 * learning_rate, schedule and clip_gradient do not apply. L1 makes weights exactly zero (sparse models).
 * The bias is coordinate n_inputs, always on (x = 1), treated like every other coordinate (L1/L2 too).
 * Dense inputs are coordinates [0, n_dense); a zero value is not in I (its gradient is zero anyway).
 * A repeated sparse index in a row updates its coordinate once per occurrence.
 *
 * Memory: z and n are 2 (n_inputs + 1) doubles — 16 MiB for 2^20 hashed inputs.
 * Parameters (rtml_engine_params): [z_0 .. z_{n_inputs}, n_0 .. n_{n_inputs}].
 * Saved state: n_inputs + 1, then z and n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/optim.h"
#include "base/rtml.h"

/* A weight as it was derived from (z_i, n_i), with sqrt(n_i): the update after a prediction reuses both while
 * z_i and n_i are unchanged (they are functions of them alone), instead of a second square root and division. */
typedef struct {
    double z, n, w, sqrt_n;
} ftrl_memo;

typedef struct {
    double alpha, beta, l1, l2;
    size_t n_coords; /* n_inputs + 1 */
    double *z, *n;   /* one allocation: z then n */
    ftrl_memo *memo; /* the last row predict() scored alone: its coordinates in row order (dense, sparse, bias) */
    size_t memo_cap, memo_len;
} ftrl_model;

/* The weight of a coordinate whose state is (z, n). A function of them alone: the memo rests on that. */
static inline double weight_sqrt(const ftrl_model *m, double z, double sqrt_n) {
    if (fabs(z) <= m->l1) return 0;
    double sgn = z < 0 ? -1.0 : 1.0;
    return -(z - sgn * m->l1) / ((m->beta + sqrt_n) / m->alpha + m->l2);
}

static inline double weight_of(const ftrl_model *m, double z, double n) {
    if (fabs(z) <= m->l1) return 0;
    return weight_sqrt(m, z, sqrt(n));
}

static inline double weight(const ftrl_model *m, size_t i) { return weight_of(m, m->z[i], m->n[i]); }

double rtml_ftrl_weight(const rtml_engine *e, size_t j) {
    const ftrl_model *m = e->impl;
    return j < m->n_coords ? weight(m, j) : 0;
}

/* weight(m, i), remembered in memo[k] when there is one. */
static inline double weight_memo(const ftrl_model *m, size_t i, ftrl_memo *memo, size_t k) {
    double z = m->z[i], n = m->n[i];
    if (!memo) return weight_of(m, z, n);
    double sqrt_n = sqrt(n), w = weight_sqrt(m, z, sqrt_n);
    memo[k] = (ftrl_memo){z, n, w, sqrt_n};
    return w;
}

/* memo: NULL, or room for every coordinate of the row (n_dense + nnz + 1), filled in row order. */
static double ftrl_score(const rtml_engine *e, const ftrl_model *m, const rtml_row *row, ftrl_memo *memo) {
    size_t nd = e->shape.n_dense, nnz = row->nnz;
    const double *dense = row->dense, *val = row->val;
    const uint32_t *idx = row->idx;
    double s = weight_memo(m, m->n_coords - 1, memo, nd + nnz);
    for (size_t j = 0; j < nd; j++)
        if (dense[j] != 0) s += dense[j] * weight_memo(m, j, memo, j);
    if (memo) {
        for (size_t k = 0; k < nnz; k++)
            if (val[k] != 0) s += val[k] * weight_memo(m, idx[k], memo, nd + k);
    } else {
        for (size_t k = 0; k < nnz; k++)
            if (val[k] != 0) s += val[k] * weight(m, idx[k]);
    }
    return s;
}

/* Room to remember one row's weights; NULL (no memo) if it cannot be had. */
static ftrl_memo *memo_for(ftrl_model *m, size_t n) {
    if (n > m->memo_cap) {
        ftrl_memo *p = realloc(m->memo, n * sizeof *p);
        if (!p) return NULL;
        m->memo = p;
        m->memo_cap = n;
    }
    return m->memo;
}

static int ftrl_predict(rtml_engine *e, const rtml_row *rows, size_t n, double *out) {
    ftrl_model *m = e->impl;
    m->memo_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t coords = e->shape.n_dense + rows[i].nnz + 1;
        ftrl_memo *memo = n == 1 ? memo_for(m, coords) : NULL; /* learn_scored follows a row scored alone */
        out[i] = rtml_sigmoid(ftrl_score(e, m, &rows[i], memo));
        if (memo) m->memo_len = coords;
    }
    return 0;
}

/* Algorithm 1's update of coordinate i with value x, for residual d = p - y; the weight is derived from
 * z_i, n_i as they were at prediction time (unchanged since, for a coordinate seen once in the row). */
static inline void update_coord(ftrl_model *m, size_t i, double x, double d, const ftrl_memo *memo) {
    if (x == 0) return;
    double z = m->z[i], n = m->n[i];
    double g = d * x, w, sqrt_n;
    if (memo && memo->z == z && memo->n == n) {
        w = memo->w, sqrt_n = memo->sqrt_n;
    } else {
        sqrt_n = sqrt(n), w = weight_sqrt(m, z, sqrt_n);
    }
    double sigma = (sqrt(n + g * g) - sqrt_n) / m->alpha;
    m->z[i] = z + (g - sigma * w);
    m->n[i] = n + g * g;
}

/* Every coordinate of the row, in row order; memo: predict()'s weights for them, or NULL. */
static void update_row(const rtml_engine *e, ftrl_model *m, const rtml_row *row, double d, const ftrl_memo *memo) {
    size_t nd = e->shape.n_dense, nnz = row->nnz;
    const double *val = row->val;
    const uint32_t *idx = row->idx;
    for (size_t j = 0; j < nd; j++) update_coord(m, j, row->dense[j], d, memo ? &memo[j] : NULL);
    if (memo) {
        for (size_t k = 0; k < nnz; k++) update_coord(m, idx[k], val[k], d, &memo[nd + k]);
    } else {
        for (size_t k = 0; k < nnz; k++) update_coord(m, idx[k], val[k], d, NULL);
    }
    update_coord(m, m->n_coords - 1, 1.0, d, memo ? &memo[nd + nnz] : NULL);
}

static int ftrl_learn(rtml_engine *e, const rtml_row *rows, const double *y, size_t n) {
    ftrl_model *m = e->impl;
    for (size_t r = 0; r < n; r++) {
        const rtml_row *row = &rows[r];
        double d = rtml_sigmoid(ftrl_score(e, m, row, NULL)) - y[r];
        update_row(e, m, row, d, NULL);
    }
    return 0;
}

/* The prediction (and the weights behind it) are predict()'s: no second score (engine.h). */
static int ftrl_learn_scored(rtml_engine *e, const rtml_row *row, double y, const double *scores) {
    ftrl_model *m = e->impl;
    const ftrl_memo *memo = m->memo_len == e->shape.n_dense + row->nnz + 1 ? m->memo : NULL;
    update_row(e, m, row, scores[0] - y, memo);
    m->memo_len = 0;
    return 0;
}

static int ftrl_save(const rtml_engine *e, rtml_writer *w) {
    const ftrl_model *m = e->impl;
    rtml_w_u64(w, m->n_coords);
    rtml_w_f64s(w, m->z, 2 * m->n_coords); /* z and n are contiguous */
    return 0;
}

static int ftrl_load(rtml_engine *e, rtml_reader *r, char *err, size_t errlen) {
    ftrl_model *m = e->impl;
    uint64_t nc = rtml_r_u64(r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    if (nc != m->n_coords)
        return rtml_fail(err, errlen, "model has %llu coordinates, the config makes %zu", (unsigned long long)nc,
                         m->n_coords);
    rtml_r_f64s(r, m->z, 2 * m->n_coords);
    return r->failed ? rtml_fail(err, errlen, "model state is truncated") : 0;
}

static void ftrl_close(rtml_engine *e) {
    ftrl_model *m = e->impl;
    if (m) {
        free(m->z);
        free(m->memo);
        free(m);
    }
    free(e);
}

static double *ftrl_params(rtml_engine *e, size_t *n) {
    ftrl_model *m = e->impl;
    *n = 2 * m->n_coords;
    return m->z;
}

static const rtml_engine_ops ftrl_ops = {
    .name = "native/ftrl",
    .predict = ftrl_predict,
    .learn = ftrl_learn,
    .learn_scored = ftrl_learn_scored,
    .save = ftrl_save,
    .load = ftrl_load,
    .close = ftrl_close,
    .params = ftrl_params,
};

static int ftrl_settings(const rtml_config *cfg, ftrl_model *m, char *err, size_t errlen) {
    m->alpha = cfg->model.ftrl_alpha == 0 ? 0.1 : cfg->model.ftrl_alpha;
    m->beta = cfg->model.ftrl_beta;
    m->l1 = cfg->model.l1;
    m->l2 = cfg->model.l2;
    if (m->alpha < 0) return rtml_fail(err, errlen, "model.ftrl_alpha: must be > 0, got %g", m->alpha);
    if (m->beta < 0) return rtml_fail(err, errlen, "model.ftrl_beta: must be >= 0, got %g", m->beta);
    if (m->l1 < 0) return rtml_fail(err, errlen, "model.l1: must be >= 0, got %g", m->l1);
    if (m->l2 < 0) return rtml_fail(err, errlen, "model.l2: must be >= 0, got %g", m->l2);
    return 0;
}

rtml_engine *rtml_ftrl_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen) {
    ftrl_model set = {0}; /* every field not set below (the memo) starts empty: *m = set copies them all */
    if (ftrl_settings(cfg, &set, err, errlen) != 0) return NULL;
    rtml_engine *e = calloc(1, sizeof *e);
    ftrl_model *m = calloc(1, sizeof *m);
    size_t nc = shape->n_inputs + 1;
    double *mem = calloc(2 * nc, sizeof *mem);
    if (!e || !m || !mem) {
        free(e), free(m), free(mem);
        rtml_fail(err, errlen, "out of memory for an ftrl model of %zu inputs", shape->n_inputs);
        return NULL;
    }
    *m = set;
    m->n_coords = nc;
    m->z = mem;
    m->n = mem + nc;
    e->ops = &ftrl_ops;
    e->task = RTML_TASK_BINARY;
    e->shape = *shape;
    e->n_outputs = 1;
    e->impl = m;
    return e;
}
