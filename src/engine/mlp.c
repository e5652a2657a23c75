/* mlp.c — native multi-layer perceptron: 1 to 3 hidden layers (model.hidden, default [16]) of relu or tanh
 * units (model.activation, default relu), then an output layer chosen by the task: one sigmoid unit
 * (binary, log loss), K = shape.n_classes softmax units (multiclass, cross-entropy) or one linear unit
 * (regression, model.loss squared 0.5 r^2 or huber). Trained by backpropagation and the shared optimizer
 * (optim.h), L2 on weights but not biases, optional clipping of each step's gradient by L2 norm.
 *
 * Micro-batches (model.batch = B, default 1): every row's forward pass uses the parameters as they are;
 * its gradient is added to an accumulator, and every B rows the optimizer takes one step with the mean
 * gradient of those B rows (the schedule's t counts steps, not rows). Rows left over at the end of a
 * learn() call stay pending and complete a batch with the next call's rows, so learn(8 rows),
 * learn(4) + learn(4) and eight learn(1) calls give the same model. predict() never sees a pending batch.
 * A save keeps the pending batch (its rows' gradient sums), so a checkpoint between two steps loses nothing.
 *
 * Sparse inputs go through layer 1 as sum_i val_i * W1[idx_i][:], never densified, and the step moves only
 * the layer-1 rows of inputs that were dense or seen in the batch (lazy, like linear.c). Layer 1 has
 * n_inputs x h1 weights: for 2^20 hashed inputs and 16 units that is 16M doubles, 128 MiB, plus the same
 * again for the gradient accumulator and per optimizer slot (those are calloc'ed, so only the pages of
 * touched rows are ever committed).
 *
 * Initialisation is seeded (model.seed, rng.h): biases zero, weights uniform in [-l, l] drawn layer by
 * layer in storage order, l = sqrt(6 / fan_in) for relu layers (He-uniform) and
 * sqrt(6 / (fan_in + fan_out)) for tanh layers and the output layer (Glorot-uniform). Layer 1's fan_in is
 * n_inputs. Same config + same rows = same model, bit for bit.
 *
 * Parameters (rtml_engine_params): for each layer l in order, W_l[j * fan_out + k] then b_l[k].
 * Saved state: the layer widths, the parameters, the optimizer (slots and step count), the pending batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/optim.h"
#include "base/rng.h"
#include "base/rtml.h"

#define MLP_MAX_HIDDEN 3
#define MLP_MAX_LAYERS (MLP_MAX_HIDDEN + 1)

typedef struct {
    rtml_optim opt;
    rtml_reg_loss loss;
    double delta;
    int relu;                          /* hidden activation: relu, else tanh */
    size_t n_layers;                   /* hidden layers + the output layer */
    size_t width[MLP_MAX_LAYERS + 1];  /* width[0] = n_inputs, width[n_layers] = n_outputs */
    size_t w_off[MLP_MAX_LAYERS], b_off[MLP_MAX_LAYERS];
    size_t n_params;
    double *p, *g;                     /* parameters; gradient summed over the pending rows */
    double *act[MLP_MAX_LAYERS + 1];   /* act[l], l >= 1: layer l's outputs for the current row */
    double *dz[MLP_MAX_LAYERS + 1];    /* dz[l]: d loss / d (layer l's pre-activation) */
    double *work;                      /* the one allocation behind act and dz */
    size_t batch, pending;
    uint32_t *touched;                 /* sparse inputs with pending layer-1 gradient */
    size_t n_touched, cap_touched;
    unsigned char *mark;               /* n_inputs flags: input in touched */
} mlp_model;

/* ---- forward and backward ---------------------------------------------------------------------------- */

static void add_input_row(const mlp_model *m, double *z, size_t j, double x) {
    size_t h = m->width[1];
    const double *w = m->p + m->w_off[0] + j * h;
    for (size_t k = 0; k < h; k++) z[k] += w[k] * x;
}

static void activate(const mlp_model *m, double *a, size_t n) {
    for (size_t k = 0; k < n; k++) a[k] = m->relu ? (a[k] > 0 ? a[k] : 0) : tanh(a[k]);
}

static void output_link(const rtml_engine *e, double *a, size_t n) {
    if (e->task == RTML_TASK_BINARY) a[0] = rtml_sigmoid(a[0]);
    else if (e->task == RTML_TASK_MULTICLASS) rtml_softmax(a, n, a);
}

/* Layer-by-layer outputs of one row into m->act; the model's outputs end in act[n_layers]. */
static void forward(const rtml_engine *e, mlp_model *m, const rtml_row *row) {
    double *z = m->act[1];
    memcpy(z, m->p + m->b_off[0], m->width[1] * sizeof *z);
    for (size_t j = 0; j < e->shape.n_dense; j++) add_input_row(m, z, j, row->dense[j]);
    for (size_t i = 0; i < row->nnz; i++) add_input_row(m, z, row->idx[i], row->val[i]);
    for (size_t l = 1; l <= m->n_layers; l++) {
        if (l > 1) {
            size_t in = m->width[l - 1], out = m->width[l];
            const double *w = m->p + m->w_off[l - 1], *a = m->act[l - 1];
            z = m->act[l];
            memcpy(z, m->p + m->b_off[l - 1], out * sizeof *z);
            for (size_t j = 0; j < in; j++)
                for (size_t k = 0; k < out; k++) z[k] += w[j * out + k] * a[j];
        }
        if (l < m->n_layers) activate(m, z, m->width[l]);
        else output_link(e, z, m->width[l]);
    }
}

static int mark_input(mlp_model *m, uint32_t j) {
    if (m->mark[j]) return 0;
    if (m->n_touched == m->cap_touched) {
        size_t cap = m->cap_touched ? 2 * m->cap_touched : 64;
        uint32_t *t = realloc(m->touched, cap * sizeof *t);
        if (!t) return -1;
        m->touched = t;
        m->cap_touched = cap;
    }
    m->touched[m->n_touched++] = j;
    m->mark[j] = 1;
    return 0;
}

static void grad_input_row(mlp_model *m, size_t j, double x) {
    size_t h = m->width[1];
    double *g = m->g + m->w_off[0] + j * h;
    for (size_t k = 0; k < h; k++) g[k] += x * m->dz[1][k];
}

/* Accumulate the gradient of one row (after forward()) with label y. -1: out of memory. */
static int backward(const rtml_engine *e, mlp_model *m, const rtml_row *row, double y) {
    size_t L = m->n_layers, K = m->width[L];
    double *d = m->dz[L], *out = m->act[L];
    if (e->task == RTML_TASK_MULTICLASS) {
        for (size_t k = 0; k < K; k++) d[k] = out[k];
        d[(size_t)y] -= 1.0;
    } else {
        d[0] = e->task == RTML_TASK_BINARY ? out[0] - y : rtml_reg_grad(m->loss, m->delta, out[0], y);
    }
    for (size_t l = L; l >= 1; l--) {
        size_t in = m->width[l - 1], n_out = m->width[l];
        double *gb = m->g + m->b_off[l - 1];
        for (size_t k = 0; k < n_out; k++) gb[k] += m->dz[l][k];
        if (l == 1) break;
        const double *w = m->p + m->w_off[l - 1], *a = m->act[l - 1];
        double *gw = m->g + m->w_off[l - 1], *dprev = m->dz[l - 1];
        for (size_t j = 0; j < in; j++) {
            double s = 0;
            for (size_t k = 0; k < n_out; k++) {
                gw[j * n_out + k] += a[j] * m->dz[l][k];
                s += w[j * n_out + k] * m->dz[l][k];
            }
            dprev[j] = s * (m->relu ? (a[j] > 0) : 1 - a[j] * a[j]);
        }
    }
    for (size_t j = 0; j < e->shape.n_dense; j++) grad_input_row(m, j, row->dense[j]);
    for (size_t i = 0; i < row->nnz; i++) {
        if (mark_input(m, row->idx[i]) != 0) return -1;
        grad_input_row(m, row->idx[i], row->val[i]);
    }
    return 0;
}

/* ---- the optimizer step over the parameters a batch touched ------------------------------------------ */

typedef enum { VISIT_SUMSQ, VISIT_APPLY, VISIT_CLEAR } visit_mode;

/* One contiguous range of parameters: its squared step-gradient norm (SUMSQ), its update (APPLY, which
 * also zeroes the accumulator), or just zeroing the accumulator (CLEAR). */
static double visit_range(mlp_model *m, size_t a, size_t len, int is_weight, visit_mode mode, double scale) {
    double s = 0, inv = m->pending ? 1.0 / (double)m->pending : 0, l2 = is_weight ? m->opt.set.l2 : 0;
    for (size_t q = a; q < a + len; q++) {
        double g = m->g[q] * inv + l2 * m->p[q];
        if (mode == VISIT_SUMSQ) s += g * g;
        else {
            if (mode == VISIT_APPLY) rtml_optim_update(&m->opt, m->p, q, scale * g);
            m->g[q] = 0;
        }
    }
    return s;
}

/* Calls fn on every range of parameters that a pending batch may have a gradient for, in one fixed order: the
 * dense inputs' layer-1 rows, the touched sparse inputs' rows, then each layer's bias and next weights. */
typedef void (*range_fn)(mlp_model *m, size_t a, size_t len, int is_weight, void *ctx);
static void each_range(const rtml_engine *e, mlp_model *m, range_fn fn, void *ctx) {
    size_t h = m->width[1];
    fn(m, m->w_off[0], e->shape.n_dense * h, 1, ctx);
    for (size_t i = 0; i < m->n_touched; i++) fn(m, m->w_off[0] + (size_t)m->touched[i] * h, h, 1, ctx);
    fn(m, m->b_off[0], h, 0, ctx);
    for (size_t l = 1; l < m->n_layers; l++) {
        fn(m, m->w_off[l], m->width[l] * m->width[l + 1], 1, ctx);
        fn(m, m->b_off[l], m->width[l + 1], 0, ctx);
    }
}

typedef struct {
    visit_mode mode;
    double scale, sum;
} visit_ctx;

static void visit_one(mlp_model *m, size_t a, size_t len, int is_weight, void *ctx) {
    visit_ctx *v = ctx;
    v->sum += visit_range(m, a, len, is_weight, v->mode, v->scale);
}

static double visit(const rtml_engine *e, mlp_model *m, visit_mode mode, double scale) {
    visit_ctx v = {mode, scale, 0};
    each_range(e, m, visit_one, &v);
    if (mode != VISIT_SUMSQ) {
        for (size_t i = 0; i < m->n_touched; i++) m->mark[m->touched[i]] = 0;
        m->n_touched = 0;
        m->pending = 0;
    }
    return v.sum;
}

static void step(const rtml_engine *e, mlp_model *m) {
    double scale = m->opt.set.clip > 0 ? rtml_clip_scale(m->opt.set.clip, visit(e, m, VISIT_SUMSQ, 1)) : 1.0;
    rtml_optim_begin(&m->opt);
    visit(e, m, VISIT_APPLY, scale);
    rtml_optim_end(&m->opt);
}

/* ---- the engine interface ---------------------------------------------------------------------------- */

static int mlp_predict(rtml_engine *e, const rtml_row *rows, size_t n, double *out) {
    mlp_model *m = e->impl;
    for (size_t i = 0; i < n; i++) {
        forward(e, m, &rows[i]);
        memcpy(out + i * e->n_outputs, m->act[m->n_layers], e->n_outputs * sizeof *out);
    }
    return 0;
}

static int mlp_learn(rtml_engine *e, const rtml_row *rows, const double *y, size_t n) {
    mlp_model *m = e->impl;
    if (e->task == RTML_TASK_MULTICLASS)
        for (size_t i = 0; i < n; i++)
            if (!(y[i] >= 0 && y[i] < (double)e->n_outputs && y[i] == floor(y[i]))) return -1;
    for (size_t i = 0; i < n; i++) {
        forward(e, m, &rows[i]);
        if (backward(e, m, &rows[i], y[i]) != 0) return -1;
        if (++m->pending == m->batch) step(e, m);
    }
    return 0;
}

static void save_range(mlp_model *m, size_t a, size_t len, int is_weight, void *ctx) {
    (void)is_weight;
    rtml_w_f64s(ctx, m->g + a, len);
}

static void load_range(mlp_model *m, size_t a, size_t len, int is_weight, void *ctx) {
    (void)is_weight;
    rtml_r_f64s(ctx, m->g + a, len);
}

/* The pending batch, after the optimizer (a state without it has none pending): its row count, the sparse inputs
 * it touched, and its gradient sums over each_range's ranges. So a checkpoint taken between two steps resumes
 * the batch exactly: the same model as without the restart, bit for bit. */
static void save_pending(const rtml_engine *e, mlp_model *m, rtml_writer *w) {
    rtml_w_u64(w, m->pending);
    rtml_w_u64(w, m->n_touched);
    for (size_t i = 0; i < m->n_touched; i++) rtml_w_u32(w, m->touched[i]);
    each_range(e, m, save_range, w);
}

static int load_pending(const rtml_engine *e, mlp_model *m, rtml_reader *r, char *err, size_t errlen) {
    if (r->pos == r->len) return 0; /* saved by an rtml that did not keep pending batches: none */
    uint64_t pending = rtml_r_u64(r), n_touched = rtml_r_u64(r);
    if (r->failed || pending >= m->batch || n_touched > m->width[0])
        return rtml_fail(err, errlen, "model state: a pending batch of %llu rows over %llu inputs does not fit "
                         "batch %zu and %zu inputs", (unsigned long long)pending, (unsigned long long)n_touched,
                         m->batch, m->width[0]);
    for (uint64_t i = 0; i < n_touched; i++) {
        uint32_t j = rtml_r_u32(r);
        if (r->failed || j >= m->width[0] || m->mark[j])
            return rtml_fail(err, errlen, "model state: pending batch input %u is out of range or repeated", j);
        if (mark_input(m, j) != 0) return rtml_fail(err, errlen, "out of memory");
    }
    each_range(e, m, load_range, r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    m->pending = (size_t)pending;
    return 0;
}

static int mlp_save(const rtml_engine *e, rtml_writer *w) {
    mlp_model *m = e->impl;
    rtml_w_u32(w, (uint32_t)m->n_layers);
    for (size_t l = 0; l <= m->n_layers; l++) rtml_w_u64(w, m->width[l]);
    rtml_w_f64s(w, m->p, m->n_params);
    rtml_optim_save(&m->opt, w);
    save_pending(e, m, w);
    return 0;
}

static int mlp_load(rtml_engine *e, rtml_reader *r, char *err, size_t errlen) {
    mlp_model *m = e->impl;
    uint32_t nl = rtml_r_u32(r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    if (nl != m->n_layers)
        return rtml_fail(err, errlen, "model has %u layers, the config makes %zu", nl, m->n_layers);
    for (size_t l = 0; l <= m->n_layers; l++) {
        uint64_t wd = rtml_r_u64(r);
        if (!r->failed && wd != m->width[l])
            return rtml_fail(err, errlen, "model layer %zu has width %llu, the config makes %zu", l,
                             (unsigned long long)wd, m->width[l]);
    }
    visit(e, m, VISIT_CLEAR, 0); /* a pending batch belongs to the old state; the loaded one's comes last */
    rtml_r_f64s(r, m->p, m->n_params);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    if (rtml_optim_load(&m->opt, r, err, errlen) != 0) return -1;
    if (load_pending(e, m, r, err, errlen) == 0) return 0;
    visit(e, m, VISIT_CLEAR, 0);
    return -1;
}

static void mlp_close(rtml_engine *e) {
    mlp_model *m = e->impl;
    if (m) {
        rtml_optim_free(&m->opt);
        free(m->p);
        free(m->g);
        free(m->work);
        free(m->touched);
        free(m->mark);
        free(m);
    }
    free(e);
}

static double *mlp_params(rtml_engine *e, size_t *n) {
    mlp_model *m = e->impl;
    *n = m->n_params;
    return m->p;
}

static const rtml_engine_ops mlp_ops = {
    .name = "native/mlp",
    .predict = mlp_predict,
    .learn = mlp_learn,
    .save = mlp_save,
    .load = mlp_load,
    .close = mlp_close,
    .params = mlp_params,
};

/* ---- opening ----------------------------------------------------------------------------------------- */

/* Hidden sizes, activation, batch, loss from the config, defaults applied. */
static int mlp_settings(const rtml_config *cfg, rtml_task task, const rtml_shape *shape, mlp_model *m, char *err,
                        size_t errlen) {
    static const size_t default_hidden[] = {16};
    const size_t *hidden = cfg->model.n_hidden ? cfg->model.hidden : default_hidden;
    size_t nh = cfg->model.n_hidden ? cfg->model.n_hidden : 1;
    if (nh > MLP_MAX_HIDDEN) return rtml_fail(err, errlen, "model.hidden: at most %d layers, got %zu", MLP_MAX_HIDDEN, nh);
    if (task == RTML_TASK_MULTICLASS && shape->n_classes < 2)
        return rtml_fail(err, errlen, "model.classes: a multiclass mlp needs at least 2 classes, got %zu",
                         shape->n_classes);
    if (task == RTML_TASK_REGRESSION && rtml_reg_loss_from(cfg, &m->loss, &m->delta, err, errlen) != 0) return -1;
    m->relu = cfg->model.activation == RTML_ACT_RELU;
    m->batch = cfg->model.batch ? cfg->model.batch : 1;
    m->n_layers = nh + 1;
    m->width[0] = shape->n_inputs;
    for (size_t l = 0; l < nh; l++) {
        if (hidden[l] == 0) return rtml_fail(err, errlen, "model.hidden: layer %zu has 0 units", l + 1);
        m->width[l + 1] = hidden[l];
    }
    m->width[nh + 1] = task == RTML_TASK_MULTICLASS ? shape->n_classes : 1;
    return 0;
}

static void init_weights(mlp_model *m, uint64_t seed) {
    rtml_rng rng;
    rtml_rng_seed(&rng, seed);
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t in = m->width[l], out = m->width[l + 1];
        int he = m->relu && l + 1 < m->n_layers;
        double lim = sqrt(6.0 / (double)(he ? in : in + out));
        for (size_t q = 0; q < in * out; q++) m->p[m->w_off[l] + q] = (2 * rtml_rng_uniform(&rng) - 1) * lim;
    }
}

/* Offsets of each layer's W and b, and the workspace (act, dz) pointers. */
static int layout(mlp_model *m) {
    size_t off = 0, ws = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        m->w_off[l] = off;
        off += m->width[l] * m->width[l + 1];
        m->b_off[l] = off;
        off += m->width[l + 1];
        ws += 2 * m->width[l + 1];
    }
    m->n_params = off;
    m->p = calloc(off, sizeof *m->p);
    m->g = calloc(off, sizeof *m->g);
    m->work = calloc(ws, sizeof *m->work);
    m->mark = calloc(m->width[0] ? m->width[0] : 1, 1);
    if (!m->p || !m->g || !m->work || !m->mark) return -1;
    double *w = m->work;
    for (size_t l = 1; l <= m->n_layers; l++) {
        m->act[l] = w;
        m->dz[l] = w + m->width[l];
        w += 2 * m->width[l];
    }
    return 0;
}

rtml_engine *rtml_mlp_open(const rtml_config *cfg, rtml_task task, const rtml_shape *shape, char *err,
                           size_t errlen) {
    rtml_optim_settings set;
    if (rtml_optim_settings_from(cfg, &set, err, errlen) != 0) return NULL;
    rtml_engine *e = calloc(1, sizeof *e);
    mlp_model *m = calloc(1, sizeof *m);
    if (!e || !m) {
        free(e), free(m);
        rtml_fail(err, errlen, "out of memory for an mlp");
        return NULL;
    }
    e->ops = &mlp_ops;
    e->impl = m;
    if (mlp_settings(cfg, task, shape, m, err, errlen) != 0) goto fail;
    if (layout(m) != 0) {
        rtml_fail(err, errlen, "out of memory for an mlp of %zu inputs (%zu parameters)", shape->n_inputs, m->n_params);
        goto fail;
    }
    if (rtml_optim_init(&m->opt, &set, m->n_params, err, errlen) != 0) goto fail;
    init_weights(m, cfg->model.seed);
    e->task = task;
    e->shape = *shape;
    e->n_outputs = m->width[m->n_layers];
    return e;
fail:
    mlp_close(e);
    return NULL;
}
