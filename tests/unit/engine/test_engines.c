/* test_engines.c — the native engines (linear, logistic, softmax, ftrl, mlp) and the optimizer code they
 * share (engine/optim.h), checked against independent computations:
 *   - every model's SGD update against central differences of its loss (the gradient check);
 *   - FTRL against a direct transcription of McMahan et al.'s Algorithm 1;
 *   - every optimizer x schedule against a transcription of River's formulas;
 *   - sparse rows against the equivalent dense rows; save -> load against the original, bit for bit;
 * and learning checked on problems with known answers (XOR, two spirals, three linear classes, hashed sparse
 * clicks), plus determinism, micro-batch semantics, clipping and the error messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "config/model.h"
#include "engine/engine.h"
#include "engine/optim.h"
#include "base/rtml.h"

/* Test data comes from a small LCG the caller owns (any fixed sequence will do). */
typedef struct {
    unsigned long long s;
} lcg;

static double unif(lcg *g) {
    g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(g->s >> 11) / 9007199254740992.0;
}
static double sym(lcg *g) { return 2 * unif(g) - 1; }

/* The enum value config/model.h names s (tests write names as a config file would). */
#define NAMED(fn, type, count, name_of)                                                                      \
    static type fn(const char *s) {                                                                          \
        for (int i = 0; i < (count); i++)                                                                    \
            if (strcmp(name_of((type)i), s) == 0) return (type)i;                                            \
        fprintf(stderr, "test error: no %s named '%s'\n", #type, s);                                          \
        abort();                                                                                             \
    }
NAMED(type_named, rtml_model_type, 5, rtml_model_type_name)
NAMED(task_named, rtml_task, 3, rtml_task_name)
NAMED(opt_named, rtml_opt_kind, 4, rtml_opt_name)
NAMED(sched_named, rtml_sched_kind, 3, rtml_sched_name)
NAMED(act_named, rtml_activation, 2, rtml_activation_name)

/* A hand-built config of this model type with the task config/model.c would resolve (mlp: binary, unless
 * task names another; NULL: the type's own). */
static rtml_config mk_task(const char *type, const char *task, const char *optimizer, double lr) {
    rtml_config c = {0};
    c.model.type = type_named(type);
    c.model.task = task                               ? task_named(task)
                   : c.model.type == RTML_MODEL_LINEAR  ? RTML_TASK_REGRESSION
                   : c.model.type == RTML_MODEL_SOFTMAX ? RTML_TASK_MULTICLASS
                                                        : RTML_TASK_BINARY;
    c.model.optimizer = optimizer ? opt_named(optimizer) : RTML_OPT_SGD;
    c.model.learning_rate = lr;
    c.model.power_t = 0.5;
    c.model.seed = 1;
    return c;
}
static rtml_config mk(const char *type, const char *optimizer, double lr) { return mk_task(type, NULL, optimizer, lr); }

static rtml_engine *open_ok(const rtml_config *c, const rtml_shape *s) {
    char err[RTML_ERRLEN] = "";
    rtml_engine *e = rtml_engine_open(c, s, err, sizeof err);
    if (!e) fprintf(stderr, "open %s failed: %s\n", rtml_model_type_name(c->model.type), err);
    CHECK(e != NULL);
    return e;
}

static double *params_copy(rtml_engine *e, size_t *n) {
    double *p = rtml_engine_params(e, n);
    double *c = malloc(*n * sizeof *c);
    memcpy(c, p, *n * sizeof *c);
    return c;
}

static int same_params(rtml_engine *a, rtml_engine *b) {
    size_t na, nb;
    double *pa = rtml_engine_params(a, &na), *pb = rtml_engine_params(b, &nb);
    return na == nb && memcmp(pa, pb, na * sizeof *pa) == 0;
}

/* ---- gradient checks --------------------------------------------------------------------------------- */

static double row_loss(rtml_engine *e, const rtml_config *c, const rtml_row *row, double y) {
    double out[8];
    rtml_engine_predict(e, row, 1, out);
    if (e->task == RTML_TASK_BINARY) return y ? -log(out[0]) : -log(1 - out[0]);
    if (e->task == RTML_TASK_MULTICLASS) return -log(out[(size_t)y]);
    rtml_reg_loss loss;
    double delta;
    rtml_reg_loss_from(c, &loss, &delta, NULL, 0);
    return rtml_reg_loss_value(loss, delta, out[0], y);
}

static int in_row(const rtml_row *row, size_t n_dense, size_t j) {
    if (j < n_dense) return 1;
    for (size_t k = 0; k < row->nnz; k++)
        if (row->idx[k] == j) return 1;
    return 0;
}

/* How one SGD step moves parameter q (engine.h's layouts): 0 not at all (a sparse input the row lacks),
 * 1 a weight (loss gradient + l2 * w), 2 a bias (loss gradient only). */
static int param_role(const rtml_engine *e, const rtml_config *c, const rtml_row *row, size_t q) {
    size_t ni = e->shape.n_inputs, nd = e->shape.n_dense, K = e->n_outputs;
    if (c->model.type == RTML_MODEL_SOFTMAX) return q >= ni * K ? 2 : in_row(row, nd, q / K);
    if (c->model.type != RTML_MODEL_MLP) return q == ni ? 2 : in_row(row, nd, q);
    size_t width[5] = {ni}, nl = c->model.n_hidden + 1, off = 0;
    for (size_t l = 0; l < c->model.n_hidden; l++) width[l + 1] = c->model.hidden[l];
    width[nl] = K;
    for (size_t l = 0; l < nl; l++) {
        size_t nw = width[l] * width[l + 1];
        if (q < off + nw) return l == 0 ? in_row(row, nd, (q - off) / width[1]) : 1;
        off += nw;
        if (q < off + width[l + 1]) return 2;
        off += width[l + 1];
    }
    return -1;
}

/* One SGD step moves the parameters by -lr * gradient; compare with central differences of the loss at
 * a row with dense and sparse parts (inputs 3 and 5 absent: their parameters must not move). */
static void grad_check(const char *what, rtml_config c, size_t n_classes, double y) {
    static const double dense[3] = {0.7, -1.3, 2.0}, val[2] = {0.8, -1.1};
    static const uint32_t idx[2] = {4, 6};
    rtml_row row = {dense, idx, val, 2, NULL, 0};
    rtml_shape shape = {3, 7, n_classes};
    double lr = 1e-3, l2 = c.model.l2;
    c.model.optimizer = RTML_OPT_SGD;
    c.model.learning_rate = lr;
    rtml_engine *e = open_ok(&c, &shape);
    if (!e) return;
    size_t np;
    double *w = rtml_engine_params(e, &np);
    lcg g = {99};
    if (c.model.type != RTML_MODEL_MLP)
        for (size_t q = 0; q < np; q++) w[q] = 0.5 * sym(&g);
    double *init = params_copy(e, &np), *num = malloc(np * sizeof *num);
    for (size_t q = 0; q < np; q++) {
        double h = 1e-6, lp, lm;
        w[q] = init[q] + h;
        lp = row_loss(e, &c, &row, y);
        w[q] = init[q] - h;
        lm = row_loss(e, &c, &row, y);
        w[q] = init[q];
        num[q] = (lp - lm) / (2 * h) + (param_role(e, &c, &row, q) == 1 ? l2 * init[q] : 0);
    }
    rtml_engine_learn(e, &row, &y, 1);
    int bad = 0;
    for (size_t q = 0; q < np; q++) {
        double analytic = (init[q] - w[q]) / lr;
        if (param_role(e, &c, &row, q) == 0 && w[q] != init[q]) bad++;
        if (fabs(analytic - num[q]) > 1e-6 * (1 + fabs(num[q]))) {
            if (!bad) fprintf(stderr, "%s: param %zu: analytic %.10g numeric %.10g\n", what, q, analytic, num[q]);
            bad++;
        }
    }
    if (bad) fprintf(stderr, "grad check %s: %d of %zu parameters wrong\n", what, bad, np);
    CHECK(bad == 0);
    free(init);
    free(num);
    rtml_engine_close(e);
}

static void test_gradients(void) {
    rtml_config c = mk("linear", "sgd", 0);
    c.model.l2 = 0.1;
    grad_check("linear squared", c, 0, 2.5);
    c.model.loss = RTML_LOSS_HUBER;
    c.model.huber_delta = 0.3; /* |residual| > delta: the linear part */
    grad_check("linear huber (linear part)", c, 0, 2.5);
    c.model.huber_delta = 100; /* the quadratic part */
    grad_check("linear huber (quadratic part)", c, 0, 2.5);
    c = mk("logistic", "sgd", 0);
    c.model.l2 = 0.1;
    grad_check("logistic y=1", c, 0, 1);
    grad_check("logistic y=0", c, 0, 0);
    c = mk("softmax", "sgd", 0);
    c.model.l2 = 0.1;
    grad_check("softmax", c, 3, 2);
    static size_t hidden[3] = {5, 4, 3};
    static const char *const acts[2] = {"relu", "tanh"}, *const tasks[3] = {"binary", "regression", "multiclass"};
    for (int a = 0; a < 2; a++)
        for (size_t nh = 1; nh <= 3; nh++)
            for (int t = 0; t < 3; t++) {
                char what[64];
                snprintf(what, sizeof what, "mlp %s %zu layers %s", acts[a], nh, tasks[t]);
                c = mk("mlp", "sgd", 0);
                c.model.activation = act_named(acts[a]);
                c.model.task = task_named(tasks[t]);
                c.model.hidden = hidden;
                c.model.n_hidden = nh;
                c.model.l2 = 0.05;
                c.model.seed = 3 + (unsigned long long)nh;
                grad_check(what, c, t == 2 ? 4 : 0, t == 0 ? 1 : t == 1 ? 1.7 : 2);
            }
    c = mk("mlp", "sgd", 0);
    c.model.task = RTML_TASK_REGRESSION;
    c.model.loss = RTML_LOSS_HUBER;
    c.model.huber_delta = 0.1;
    c.model.hidden = hidden;
    c.model.n_hidden = 2;
    grad_check("mlp huber", c, 0, 3);
}

/* ---- FTRL against Algorithm 1 ------------------------------------------------------------------------ */

typedef struct {
    double alpha, beta, l1, l2;
    double z[7], n[7];
} ftrl_ref;

static double ref_weight(const ftrl_ref *f, size_t i) {
    if (fabs(f->z[i]) <= f->l1) return 0;
    double sgn = f->z[i] < 0 ? -1 : 1;
    return -(f->z[i] - sgn * f->l1) / ((f->beta + sqrt(f->n[i])) / f->alpha + f->l2);
}

/* McMahan et al. (2013), Algorithm 1, one round over the non-zero coordinates I (x: all 7 values, bias
 * last = 1); returns p_t. */
static double ref_round(ftrl_ref *f, const double *x, double y) {
    double w[7], dot = 0;
    for (size_t i = 0; i < 7; i++)
        if (x[i] != 0) {
            w[i] = ref_weight(f, i);
            dot += x[i] * w[i];
        }
    double p = 1 / (1 + exp(-dot));
    for (size_t i = 0; i < 7; i++)
        if (x[i] != 0) {
            double g = (p - y) * x[i];
            double sigma = (sqrt(f->n[i] + g * g) - sqrt(f->n[i])) / f->alpha;
            f->z[i] += g - sigma * w[i];
            f->n[i] += g * g;
        }
    return p;
}

static void test_ftrl_algorithm1(void) {
    rtml_config c = mk("ftrl", NULL, 0);
    c.model.ftrl_alpha = 0.3;
    c.model.ftrl_beta = 0.7;
    c.model.l1 = 0.05;
    c.model.l2 = 0.2;
    rtml_shape shape = {2, 6, 0};
    rtml_engine *e = open_ok(&c, &shape);
    ftrl_ref f = {0.3, 0.7, 0.05, 0.2, {0}, {0}};
    lcg g = {5};
    int bad = 0;
    for (int r = 0; r < 40; r++) {
        double x[7] = {0}, dense[2], val[4];
        uint32_t idx[4];
        size_t nnz = 0;
        x[0] = dense[0] = r % 3 ? sym(&g) : 0;
        x[1] = dense[1] = sym(&g);
        for (uint32_t j = 2; j < 6; j++)
            if (unif(&g) < 0.5) {
                idx[nnz] = j;
                val[nnz++] = x[j] = 2 * sym(&g);
            }
        x[6] = 1;
        double y = unif(&g) < 0.5, p;
        rtml_row row = {dense, idx, val, nnz, NULL, 0};
        rtml_engine_predict(e, &row, 1, &p);
        double pref = ref_round(&f, x, y);
        bad += fabs(p - pref) > 1e-12;
        rtml_engine_learn(e, &row, &y, 1);
    }
    CHECK(bad == 0);
    size_t np;
    double *zn = rtml_engine_params(e, &np);
    CHECK_EQ_INT(np, 14);
    for (size_t i = 0; i < 7; i++) {
        CHECK_NEAR(zn[i], f.z[i], 1e-12);
        CHECK_NEAR(zn[7 + i], f.n[i], 1e-12);
        CHECK_NEAR(rtml_ftrl_weight(e, i), ref_weight(&f, i), 1e-12);
    }
    rtml_engine_close(e);
}

/* ---- optimizers and schedules against River's formulas ----------------------------------------------- */

/* River's updates (optim.SGD, Momentum, AdaGrad, Adam; schedulers) for a 1-input linear regression whose
 * bias steps with the same optimizer: params {w, b}, slots s1, s2, step t. */
static void ref_step(const rtml_optim_settings *s, uint64_t t, double *p, double *s1, double *s2, const double *g) {
    double lr = s->schedule == RTML_SCHED_INVERSE_SCALING ? s->lr / pow(t + 1.0, s->power_t)
              : s->schedule == RTML_SCHED_STEP ? s->lr * pow(s->decay_rate, floor(t / s->decay_every))
              : s->lr;
    for (int i = 0; i < 2; i++) {
        if (s->kind == RTML_OPT_SGD) p[i] -= lr * g[i];
        if (s->kind == RTML_OPT_MOMENTUM) {
            s1[i] = 0.9 * s1[i] + lr * g[i];
            p[i] -= s1[i];
        }
        if (s->kind == RTML_OPT_ADAGRAD) {
            s2[i] += g[i] * g[i];
            p[i] -= lr / pow(s2[i] + 1e-8, 0.5) * g[i];
        }
        if (s->kind == RTML_OPT_ADAM) {
            double a = lr * pow(1 - pow(0.999, t + 1.0), 0.5) / (1 - pow(0.9, t + 1.0));
            s1[i] = 0.9 * s1[i] + 0.1 * g[i];
            s2[i] = 0.999 * s2[i] + 0.001 * g[i] * g[i];
            p[i] -= a * s1[i] / (pow(s2[i], 0.5) + 1e-8);
        }
    }
}

static void test_optimizer_formulas(void) {
    static const char *const opts[4] = {"sgd", "momentum", "adagrad", "adam"};
    static const char *const scheds[3] = {"constant", "inverse_scaling", "step"};
    for (int o = 0; o < 4; o++)
        for (int s = 0; s < 3; s++) {
            rtml_config c = mk("linear", opts[o], 0.1);
            c.model.schedule = sched_named(scheds[s]);
            c.model.decay_every = 3;
            c.model.decay_rate = 0.5;
            c.model.l2 = 0.01;
            rtml_optim_settings set;
            CHECK(rtml_optim_settings_from(&c, &set, NULL, 0) == 0);
            rtml_shape shape = {1, 1, 0};
            rtml_engine *e = open_ok(&c, &shape);
            size_t np;
            double *w = rtml_engine_params(e, &np), p[2] = {0, 0}, s1[2] = {0}, s2[2] = {0};
            lcg g = {11};
            for (uint64_t t = 0; t < 10; t++) {
                double x = sym(&g), y = 3 * x - 1, r = p[0] * x + p[1] - y;
                double grad[2] = {r * x + 0.01 * p[0], r};
                ref_step(&set, t, p, s1, s2, grad);
                rtml_row row = {&x, NULL, NULL, 0, NULL, 0};
                rtml_engine_learn(e, &row, &y, 1);
            }
            CHECK_NEAR(w[0], p[0], 1e-13);
            CHECK_NEAR(w[1], p[1], 1e-13);
            rtml_engine_close(e);
        }
    rtml_optim_settings s = {.lr = 0.8, .power_t = 0.5, .decay_every = 2, .decay_rate = 0.5};
    s.schedule = RTML_SCHED_INVERSE_SCALING;
    CHECK(rtml_optim_schedule(&s, 0) == 0.8);
    CHECK_NEAR(rtml_optim_schedule(&s, 3), 0.4, 1e-15);
    s.schedule = RTML_SCHED_STEP;
    CHECK(rtml_optim_schedule(&s, 1) == 0.8);
    CHECK(rtml_optim_schedule(&s, 2) == 0.4);
    CHECK(rtml_optim_schedule(&s, 5) == 0.2);
}

/* Logistic regression with every optimizer x schedule learns a separable stream. */
static void test_optimizers_converge(void) {
    static const char *const opts[4] = {"sgd", "momentum", "adagrad", "adam"};
    static const double lrs[4] = {0.5, 0.05, 0.5, 0.05};
    static const char *const scheds[3] = {"constant", "inverse_scaling", "step"};
    for (int o = 0; o < 4; o++)
        for (int s = 0; s < 3; s++) {
            rtml_config c = mk("logistic", opts[o], lrs[o]);
            c.model.schedule = sched_named(scheds[s]);
            c.model.power_t = 0.25;
            rtml_shape shape = {2, 2, 0};
            rtml_engine *e = open_ok(&c, &shape);
            lcg g = {3};
            int correct = 0;
            for (int i = 0; i < 20000; i++) {
                double x[2] = {sym(&g), sym(&g)}, y = 2 * x[0] - x[1] + 0.3 > 0, p;
                rtml_row row = {x, NULL, NULL, 0, NULL, 0};
                rtml_engine_predict(e, &row, 1, &p);
                if (i >= 18000) correct += (p >= 0.5) == (y == 1);
                rtml_engine_learn(e, &row, &y, 1);
            }
            if (correct < 1900) fprintf(stderr, "%s/%s: %d of 2000\n", opts[o], scheds[s], correct);
            CHECK(correct >= 1900);
            rtml_engine_close(e);
        }
}

/* ---- sparse rows = dense rows ------------------------------------------------------------------------ */

static double label_for(const double *x, const char *type, const char *task) {
    double s = x[0] + x[3] - x[5] + 0.5 * x[2];
    if (strcmp(type, "softmax") == 0 || (task && strcmp(task, "multiclass") == 0))
        return s > 0.4 ? 2 : s > -0.4 ? 1 : 0;
    if (strcmp(type, "linear") == 0 || (task && strcmp(task, "regression") == 0)) return x[0] - 2 * x[3] + x[4];
    return s > 0;
}

/* The same stream as 6 dense inputs and as 2 dense + 4 sparse (zeros left out). SGD without L2: a zero
 * input then has a zero gradient, so the lazy sparse update is exactly the dense one. */
static void sparse_vs_dense(const char *type, const char *task, size_t n_classes) {
    rtml_config c = mk_task(type, task, "sgd", 0.05);
    rtml_shape sd = {6, 6, n_classes}, ss = {2, 6, n_classes};
    rtml_engine *ed = open_ok(&c, &sd), *es = open_ok(&c, &ss);
    if (!ed || !es) return;
    lcg g = {21};
    double max_diff = 0;
    for (int i = 0; i < 300; i++) {
        double x[6], val[4], pd[3], ps[3];
        uint32_t idx[4];
        size_t nnz = 0;
        for (int j = 0; j < 6; j++) x[j] = j >= 2 && unif(&g) < 0.5 ? 0 : sym(&g);
        for (uint32_t j = 2; j < 6; j++)
            if (x[j] != 0) idx[nnz] = j, val[nnz++] = x[j];
        double y = label_for(x, type, task);
        rtml_row rd = {x, NULL, NULL, 0, NULL, 0}, rs = {x, idx, val, nnz, NULL, 0};
        rtml_engine_predict(ed, &rd, 1, pd);
        rtml_engine_predict(es, &rs, 1, ps);
        for (size_t k = 0; k < ed->n_outputs; k++) max_diff = fmax(max_diff, fabs(pd[k] - ps[k]));
        rtml_engine_learn(ed, &rd, &y, 1);
        rtml_engine_learn(es, &rs, &y, 1);
    }
    size_t n1, n2;
    double *p1 = rtml_engine_params(ed, &n1), *p2 = rtml_engine_params(es, &n2);
    CHECK_EQ_INT(n1, n2);
    for (size_t q = 0; q < n1 && q < n2; q++) max_diff = fmax(max_diff, fabs(p1[q] - p2[q]));
    if (max_diff > 1e-12) fprintf(stderr, "sparse vs dense %s %s: %g\n", type, task ? task : "", max_diff);
    CHECK(max_diff <= 1e-12);
    rtml_engine_close(ed);
    rtml_engine_close(es);
}

static void test_sparse_equals_dense(void) {
    sparse_vs_dense("logistic", NULL, 0);
    sparse_vs_dense("linear", NULL, 0);
    sparse_vs_dense("softmax", NULL, 3);
    sparse_vs_dense("ftrl", NULL, 0);
    sparse_vs_dense("mlp", "binary", 0);
    sparse_vs_dense("mlp", "regression", 0);
    sparse_vs_dense("mlp", "multiclass", 3);
}

/* ---- learning ---------------------------------------------------------------------------------------- */

static size_t argmax(const double *p, size_t k) {
    size_t best = 0;
    for (size_t i = 1; i < k; i++)
        if (p[i] > p[best]) best = i;
    return best;
}

static double accuracy(rtml_engine *e, const double *X, const double *Y, size_t n, size_t dim) {
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        double p[4];
        rtml_row row = {X + i * dim, NULL, NULL, 0, NULL, 0};
        rtml_engine_predict(e, &row, 1, p);
        size_t cls = e->n_outputs > 1 ? argmax(p, e->n_outputs) : p[0] >= 0.5;
        correct += cls == (size_t)Y[i];
    }
    return (double)correct / (double)n;
}

/* Epochs over a data set in a shuffled order (the same for every engine). */
static void train(rtml_engine *e, const double *X, const double *Y, size_t n, size_t dim, int epochs) {
    size_t *order = malloc(n * sizeof *order);
    lcg g = {17};
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (int ep = 0; ep < epochs; ep++) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(unif(&g) * (double)(i + 1)), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        for (size_t i = 0; i < n; i++) {
            rtml_row row = {X + order[i] * dim, NULL, NULL, 0, NULL, 0};
            rtml_engine_learn(e, &row, &Y[order[i]], 1);
        }
    }
    free(order);
}

static void test_xor(void) {
    static const double X[8] = {0, 0, 0, 1, 1, 0, 1, 1}, Y[4] = {0, 1, 1, 0};
    static size_t hidden[1] = {8};
    static const char *const opts[4] = {"sgd", "momentum", "adagrad", "adam"};
    static const double lrs[4] = {0.2, 0.05, 0.3, 0.05};
    rtml_shape shape = {2, 2, 0};
    for (int o = 0; o < 4; o++) {
        rtml_config c = mk("mlp", opts[o], lrs[o]);
        c.model.activation = RTML_ACT_TANH;
        c.model.hidden = hidden;
        c.model.n_hidden = 1;
        rtml_engine *e = open_ok(&c, &shape);
        train(e, X, Y, 4, 2, 2000);
        double acc = accuracy(e, X, Y, 4, 2);
        if (acc < 1) fprintf(stderr, "xor with %s: %g\n", opts[o], acc);
        CHECK(acc == 1.0);
        rtml_engine_close(e);
    }
}

/* Two interleaved spirals (1.5 turns each): an MLP separates them, logistic regression cannot. */
static void test_spirals(void) {
    enum { N = 400 };
    double *X = malloc(2 * N * sizeof *X), Y[N];
    for (int i = 0; i < N; i++) {
        double t = (double)(i / 2) / (N / 2), a = t * 3 * M_PI, r = 0.1 + 0.9 * t, s = i % 2 ? -1 : 1;
        X[2 * i] = s * r * cos(a);
        X[2 * i + 1] = s * r * sin(a);
        Y[i] = i % 2;
    }
    static size_t hidden[2] = {32, 32};
    rtml_config c = mk("mlp", "adam", 0.01);
    c.model.activation = RTML_ACT_TANH;
    c.model.hidden = hidden;
    c.model.n_hidden = 2;
    rtml_shape shape = {2, 2, 0};
    rtml_engine *mlp = open_ok(&c, &shape);
    train(mlp, X, Y, N, 2, 300);
    double acc_mlp = accuracy(mlp, X, Y, N, 2);
    rtml_config lc = mk("logistic", "adam", 0.01);
    rtml_engine *lin = open_ok(&lc, &shape);
    train(lin, X, Y, N, 2, 300);
    double acc_lin = accuracy(lin, X, Y, N, 2);
    fprintf(stderr, "spirals: mlp %.3f, logistic %.3f\n", acc_mlp, acc_lin);
    CHECK(acc_mlp >= 0.95);
    CHECK(acc_lin <= 0.7);
    rtml_engine_close(mlp);
    rtml_engine_close(lin);
    free(X);
}

/* Three classes, each the region where its linear score is largest: separable by a softmax. */
static void test_softmax_learns(void) {
    rtml_config c = mk("softmax", "sgd", 0.5);
    rtml_shape shape = {2, 2, 3};
    rtml_engine *e = open_ok(&c, &shape);
    lcg g = {8};
    int correct = 0;
    for (int i = 0; i < 30000; i++) {
        double x[2] = {sym(&g), sym(&g)}, s[3] = {x[0], -0.5 * x[0] + 0.87 * x[1], -0.5 * x[0] - 0.87 * x[1]}, p[3];
        double y = (double)argmax(s, 3);
        rtml_row row = {x, NULL, NULL, 0, NULL, 0};
        rtml_engine_predict(e, &row, 1, p);
        CHECK_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);
        if (i >= 28000) correct += argmax(p, 3) == (size_t)y;
        rtml_engine_learn(e, &row, &y, 1);
    }
    fprintf(stderr, "softmax 3 classes: %.3f\n", correct / 2000.0);
    CHECK(correct >= 1900);
    /* extreme scores stay finite (the max is subtracted before exp) */
    double *w = rtml_engine_params(e, &(size_t){0}), x[2] = {1000, 0}, p[3];
    w[0] = 5;
    rtml_row row = {x, NULL, NULL, 0, NULL, 0};
    rtml_engine_predict(e, &row, 1, p);
    CHECK(isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]));
    rtml_engine_close(e);
}

/* Hashed sparse clicks: 200 informative features (at random indices of 2^20) with hidden weights, 10 noise
 * features per row from the whole space. Returns the accuracy of the last 5000 rows; *zero_frac: the
 * fraction of touched coordinates whose weight is exactly zero. */
static double ftrl_clicks(double l1, double *zero_frac) {
    enum { N_INF = 200, ROWS = 30000 };
    rtml_config c = mk("ftrl", NULL, 0);
    c.model.ftrl_alpha = 0.5;
    c.model.ftrl_beta = 1;
    c.model.l1 = l1;
    rtml_shape shape = {0, 1u << 20, 0};
    rtml_engine *e = open_ok(&c, &shape);
    lcg g = {1234};
    uint32_t inf_idx[N_INF];
    double inf_w[N_INF];
    for (int i = 0; i < N_INF; i++) {
        inf_idx[i] = (uint32_t)(unif(&g) * (1u << 20));
        inf_w[i] = (unif(&g) < 0.5 ? -1 : 1) * (0.5 + 1.5 * unif(&g));
    }
    int correct = 0;
    for (int r = 0; r < ROWS; r++) {
        uint32_t idx[15];
        double val[15], s = 0, p;
        for (int k = 0; k < 5; k++) {
            int f = (int)(unif(&g) * N_INF);
            idx[k] = inf_idx[f], val[k] = 1, s += inf_w[f];
        }
        for (int k = 5; k < 15; k++) idx[k] = (uint32_t)(unif(&g) * (1u << 20)), val[k] = 1;
        double y = s > 0;
        rtml_row row = {NULL, idx, val, 15, NULL, 0};
        rtml_engine_predict(e, &row, 1, &p);
        if (r >= ROWS - 5000) correct += (p >= 0.5) == (y == 1);
        rtml_engine_learn(e, &row, &y, 1);
    }
    size_t np, touched = 0, zeros = 0;
    double *zn = rtml_engine_params(e, &np);
    for (size_t i = 0; i < np / 2; i++)
        if (zn[np / 2 + i] > 0) touched++, zeros += rtml_ftrl_weight(e, i) == 0.0;
    *zero_frac = (double)zeros / (double)touched;
    rtml_engine_close(e);
    return correct / 5000.0;
}

static void test_ftrl_learns(void) {
    double z0, z1;
    double acc0 = ftrl_clicks(0, &z0), acc1 = ftrl_clicks(1.0, &z1);
    fprintf(stderr, "ftrl clicks: accuracy %.3f (l1=0), %.3f (l1=1); zero weights %.3f, %.3f\n", acc0, acc1, z0, z1);
    CHECK(acc0 >= 0.9);
    CHECK(acc1 >= 0.9);
    CHECK(z0 < 0.01);
    CHECK(z1 > 0.9); /* most touched coordinates are noise seen a few times: L1 zeroes them exactly */
}

/* An MLP over 2^20 hashed inputs: layer 1 is 2^20 x 4 weights, yet each step moves only the rows a batch
 * touched (a step over every row would make this test take minutes). */
static void test_mlp_hashed(void) {
    static size_t hidden[1] = {4};
    rtml_config c = mk("mlp", "adam", 0.05);
    c.model.hidden = hidden;
    c.model.n_hidden = 1;
    c.model.batch = 2;
    rtml_shape shape = {1, 1u << 20, 0};
    rtml_engine *e = open_ok(&c, &shape);
    if (!e) return;
    lcg g = {77};
    uint32_t feats[50];
    for (int i = 0; i < 50; i++) feats[i] = 1 + (uint32_t)(unif(&g) * ((1u << 20) - 1));
    int correct = 0;
    for (int r = 0; r < 6000; r++) {
        uint32_t idx[2];
        double val[2] = {1, 1}, x = sym(&g), p;
        int a = (int)(unif(&g) * 50), b = (int)(unif(&g) * 50);
        idx[0] = feats[a], idx[1] = feats[b];
        double y = (a < 25) != (b < 25); /* an interaction of two hashed features */
        rtml_row row = {&x, idx, val, idx[0] == idx[1] ? 1 : 2, NULL, 0};
        rtml_engine_predict(e, &row, 1, &p);
        if (r >= 5000) correct += (p >= 0.5) == (y == 1);
        rtml_engine_learn(e, &row, &y, 1);
    }
    fprintf(stderr, "mlp hashed xor: %.3f\n", correct / 1000.0);
    CHECK(correct >= 900);
    rtml_engine_close(e);
}

/* ---- determinism, micro-batches, clipping ------------------------------------------------------------ */

static void make_sparse_rows(lcg *g, size_t n, double dense[][2], uint32_t idx[][3], double val[][3], rtml_row *rows,
                             double *y) {
    for (size_t i = 0; i < n; i++) {
        dense[i][0] = sym(g), dense[i][1] = sym(g);
        for (int k = 0; k < 3; k++) idx[i][k] = 2 + (uint32_t)k * 3 + (uint32_t)(unif(g) * 3), val[i][k] = sym(g);
        rows[i] = (rtml_row){dense[i], idx[i], val[i], 3, NULL, 0};
        y[i] = dense[i][0] + val[i][0] > 0;
    }
}

static void test_determinism(void) {
    static size_t hidden[2] = {6, 4};
    rtml_config c = mk("mlp", "adam", 0.01);
    c.model.hidden = hidden;
    c.model.n_hidden = 2;
    c.model.seed = 42;
    rtml_shape shape = {2, 11, 0};
    rtml_engine *a = open_ok(&c, &shape), *b = open_ok(&c, &shape);
    c.model.seed = 43;
    rtml_engine *d = open_ok(&c, &shape);
    CHECK(same_params(a, b));
    CHECK(!same_params(a, d));
    lcg g = {4};
    double dense[50][2], val[50][3], y[50], pa[50], pb[50];
    uint32_t idx[50][3];
    rtml_row rows[50];
    make_sparse_rows(&g, 50, dense, idx, val, rows, y);
    rtml_engine_learn(a, rows, y, 50);
    rtml_engine_learn(b, rows, y, 50);
    rtml_engine_predict(a, rows, 50, pa);
    rtml_engine_predict(b, rows, 50, pb);
    CHECK(memcmp(pa, pb, sizeof pa) == 0);
    CHECK(same_params(a, b));
    rtml_engine_close(a);
    rtml_engine_close(b);
    rtml_engine_close(d);
}

static void test_micro_batches(void) {
    static size_t hidden[2] = {5, 3};
    rtml_config c = mk("mlp", "adam", 0.05);
    c.model.hidden = hidden;
    c.model.n_hidden = 2;
    c.model.batch = 4;
    c.model.l2 = 0.01;
    c.model.clip_gradient = 0.5;
    rtml_shape shape = {2, 11, 0};
    rtml_engine *one = open_ok(&c, &shape), *two = open_ok(&c, &shape), *eight = open_ok(&c, &shape);
    c.model.batch = 1;
    rtml_engine *unbatched = open_ok(&c, &shape);
    lcg g = {6};
    double dense[8][2], val[8][3], y[8];
    uint32_t idx[8][3];
    rtml_row rows[8];
    make_sparse_rows(&g, 8, dense, idx, val, rows, y);
    size_t np;
    double *init = params_copy(one, &np);
    rtml_engine_learn(one, rows, y, 8);
    rtml_engine_learn(two, rows, y, 3);
    double *p2 = rtml_engine_params(two, &np);
    CHECK(memcmp(p2, init, np * sizeof *init) == 0); /* a partial batch changes nothing yet */
    rtml_engine_learn(two, rows + 3, y + 3, 5);
    for (int i = 0; i < 8; i++) rtml_engine_learn(eight, &rows[i], &y[i], 1);
    rtml_engine_learn(unbatched, rows, y, 8);
    CHECK(same_params(one, two));
    CHECK(same_params(one, eight));
    CHECK(!same_params(one, unbatched));
    CHECK(memcmp(p2, init, np * sizeof *init) != 0);
    free(init);
    rtml_engine_close(one);
    rtml_engine_close(two);
    rtml_engine_close(eight);
    rtml_engine_close(unbatched);
}

/* With sgd at lr 1 the step is the (clipped) gradient: its norm is at most clip_gradient. */
static double step_norm(const char *type, const char *task, size_t n_classes, double clip) {
    static size_t hidden[1] = {4};
    rtml_config c = mk_task(type, task, "sgd", 1.0);
    c.model.hidden = hidden;
    c.model.n_hidden = 1;
    c.model.clip_gradient = clip;
    rtml_shape shape = {3, 5, n_classes};
    rtml_engine *e = open_ok(&c, &shape);
    size_t np;
    double *before = params_copy(e, &np), *after = rtml_engine_params(e, &np), x[3] = {10, -20, 5}, v = 30,
           y = strcmp(type, "linear") == 0 || (task && strcmp(task, "regression") == 0) ? 100 : 1, s = 0;
    uint32_t i4 = 4;
    rtml_row row = {x, &i4, &v, 1, NULL, 0};
    rtml_engine_learn(e, &row, &y, 1);
    for (size_t q = 0; q < np; q++) s += (after[q] - before[q]) * (after[q] - before[q]);
    free(before);
    rtml_engine_close(e);
    return sqrt(s);
}

static void test_clipping(void) {
    CHECK(step_norm("linear", NULL, 0, 0) > 100);
    CHECK_NEAR(step_norm("linear", NULL, 0, 0.5), 0.5, 1e-9);
    CHECK(step_norm("logistic", NULL, 0, 0) > 1);
    CHECK_NEAR(step_norm("logistic", NULL, 0, 0.5), 0.5, 1e-9);
    CHECK(step_norm("softmax", NULL, 3, 0) > 1);
    CHECK_NEAR(step_norm("softmax", NULL, 3, 0.5), 0.5, 1e-9);
    CHECK(step_norm("mlp", "regression", 0, 0) > 1);
    CHECK_NEAR(step_norm("mlp", "regression", 0, 0.5), 0.5, 1e-9);
    double small = step_norm("linear", NULL, 0, 0);
    CHECK_NEAR(step_norm("linear", NULL, 0, 2 * small), small, 1e-9); /* under the bound: untouched */
}

/* ---- save / load ------------------------------------------------------------------------------------- */

static void roundtrip(const char *type, const char *task, size_t n_classes, const char *optimizer) {
    static size_t hidden[2] = {6, 4};
    rtml_config c = mk_task(type, task, optimizer, 0.05);
    c.model.hidden = hidden;
    c.model.n_hidden = 2;
    c.model.l2 = 0.01;
    c.model.l1 = 0.01;
    c.model.schedule = RTML_SCHED_INVERSE_SCALING;
    rtml_shape shape = {2, 11, n_classes}, other = {2, 12, n_classes};
    rtml_engine *a = open_ok(&c, &shape), *b = open_ok(&c, &shape), *wrong = open_ok(&c, &other);
    lcg g = {9};
    double dense[60][2], val[60][3], y[60], pa[60 * 3], pb[60 * 3];
    uint32_t idx[60][3];
    rtml_row rows[60];
    make_sparse_rows(&g, 60, dense, idx, val, rows, y);
    for (int i = 0; i < 60; i++) y[i] = fmod(fabs(y[i] + 3 * dense[i][1]), n_classes ? (double)n_classes : 2);
    for (int i = 0; i < 60 && n_classes; i++) y[i] = floor(y[i]);
    rtml_engine_learn(a, rows, y, 50);
    rtml_writer w = {RTML_BUF_INIT};
    CHECK(a->ops->save(a, &w) == 0);
    char err[RTML_ERRLEN] = "";
    rtml_reader r = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    CHECK(b->ops->load(b, &r, err, sizeof err) == 0);
    CHECK(r.pos == r.len);
    rtml_engine_predict(a, rows, 60, pa);
    rtml_engine_predict(b, rows, 60, pb);
    CHECK(memcmp(pa, pb, 60 * a->n_outputs * sizeof *pa) == 0);
    rtml_engine_learn(a, rows + 50, y + 50, 10); /* the optimizer state came along too */
    rtml_engine_learn(b, rows + 50, y + 50, 10);
    CHECK(same_params(a, b));
    r = (rtml_reader){(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    CHECK(wrong->ops->load(wrong, &r, err, sizeof err) != 0);
    CHECK(strstr(err, "the config makes") != NULL);
    r = (rtml_reader){(const unsigned char *)w.buf.data, w.buf.len / 2, 0, false};
    CHECK(b->ops->load(b, &r, err, sizeof err) != 0);
    CHECK(strstr(err, "truncated") != NULL);
    rtml_buf_free(&w.buf);
    rtml_engine_close(a);
    rtml_engine_close(b);
    rtml_engine_close(wrong);
}

static void test_save_load(void) {
    roundtrip("logistic", NULL, 0, "adam");
    roundtrip("linear", NULL, 0, "momentum");
    roundtrip("softmax", NULL, 3, "adagrad");
    roundtrip("ftrl", NULL, 0, NULL);
    roundtrip("mlp", "binary", 0, "adam");
    roundtrip("mlp", "multiclass", 3, "sgd");
    roundtrip("mlp", "regression", 0, "adagrad");
    /* a model trained with one optimizer does not load into another's slots */
    rtml_config c = mk("logistic", "adam", 0.1);
    rtml_shape shape = {2, 2, 0};
    rtml_engine *a = open_ok(&c, &shape);
    c.model.optimizer = RTML_OPT_SGD;
    rtml_engine *b = open_ok(&c, &shape);
    rtml_writer w = {RTML_BUF_INIT};
    a->ops->save(a, &w);
    rtml_reader r = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    char err[RTML_ERRLEN] = "";
    CHECK(b->ops->load(b, &r, err, sizeof err) != 0);
    CHECK(strstr(err, "trained with optimizer 'adam', the config says 'sgd'") != NULL);
    rtml_buf_free(&w.buf);
    rtml_engine_close(a);
    rtml_engine_close(b);
}

/* An MLP saved in the middle of a micro-batch (3 of 4 rows pending, some of them sparse) and loaded elsewhere
 * completes the batch exactly: the same model as without the save, bit for bit (a restart from a checkpoint
 * loses nothing). A state without the pending trailer (an older rtml's) loads with nothing pending; a trailer
 * that does not fit the config is refused. */
static void test_pending_batch(void) {
    static size_t hidden[2] = {5, 3};
    rtml_config c = mk("mlp", "adam", 0.05);
    c.model.hidden = hidden;
    c.model.n_hidden = 2;
    c.model.batch = 4;
    rtml_shape shape = {2, 11, 0};
    rtml_engine *ref = open_ok(&c, &shape), *a = open_ok(&c, &shape), *b = open_ok(&c, &shape);
    lcg g = {12};
    double dense[11][2], val[11][3], y[11];
    uint32_t idx[11][3];
    rtml_row rows[11];
    make_sparse_rows(&g, 11, dense, idx, val, rows, y);
    rtml_engine_learn(ref, rows, y, 11);
    rtml_engine_learn(a, rows, y, 7); /* one step, then 3 rows pending */
    rtml_writer w = {RTML_BUF_INIT};
    CHECK(a->ops->save(a, &w) == 0);
    char err[RTML_ERRLEN] = "";
    rtml_reader r = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    CHECK(b->ops->load(b, &r, err, sizeof err) == 0);
    CHECK(r.pos == r.len);
    rtml_engine_learn(b, rows + 7, y + 7, 4);
    CHECK(same_params(ref, b));
    /* the same state cut before its trailer: nothing pending, so the next 4 rows make a batch of their own */
    size_t trailer = 2 * 8; /* at least the pending count and the touched count */
    rtml_engine *old = open_ok(&c, &shape);
    size_t cut = 0;
    for (size_t len = w.buf.len - trailer; len > 0 && !cut; len--) { /* find where the optimizer state ends */
        r = (rtml_reader){(const unsigned char *)w.buf.data, len, 0, false};
        if (old->ops->load(old, &r, err, sizeof err) == 0 && r.pos == len) cut = len;
    }
    CHECK(cut > 0 && cut < w.buf.len);
    rtml_engine_learn(old, rows + 7, y + 7, 4);
    CHECK(!same_params(ref, old));
    /* a trailer claiming a full batch pending does not fit batch 4 */
    rtml_buf bad = RTML_BUF_INIT;
    rtml_buf_append(&bad, w.buf.data, cut);
    uint64_t four = 4;
    rtml_buf_append(&bad, &four, sizeof four);
    rtml_buf_append(&bad, (const char *)w.buf.data + cut + 8, w.buf.len - cut - 8);
    r = (rtml_reader){(const unsigned char *)bad.data, bad.len, 0, false};
    CHECK(b->ops->load(b, &r, err, sizeof err) != 0);
    CHECK(strstr(err, "pending batch of 4 rows") != NULL);
    rtml_buf_free(&bad);
    rtml_buf_free(&w.buf);
    rtml_engine_close(ref);
    rtml_engine_close(a);
    rtml_engine_close(b);
    rtml_engine_close(old);
}

/* ---- errors and dispatch ----------------------------------------------------------------------------- */

static void expect_open_error(rtml_config c, rtml_shape shape, const char *want) {
    char err[RTML_ERRLEN] = "";
    rtml_engine *e = rtml_engine_open(&c, &shape, err, sizeof err);
    CHECK(e == NULL);
    if (!strstr(err, want)) fprintf(stderr, "error '%s' lacks '%s'\n", err, want);
    CHECK(strstr(err, want) != NULL);
    rtml_engine_close(e);
}

static void test_errors_and_dispatch(void) {
    rtml_shape two = {2, 2, 0}, three = {2, 2, 3};
    /* Names (an unknown type, optimizer, task, ...) are config/'s to refuse (test_config.c); what is left to an
     * engine is what only the shape shows. */
    expect_open_error(mk("softmax", NULL, 0), two, "at least 2 classes");
    static size_t four[4] = {3, 3, 3, 3}, zero[1] = {0};
    rtml_config c = mk("mlp", NULL, 0);
    c.model.hidden = four;
    c.model.n_hidden = 4;
    expect_open_error(c, two, "model.hidden: at most 3 layers");
    c.model.hidden = zero;
    c.model.n_hidden = 1;
    expect_open_error(c, two, "model.hidden: layer 1 has 0 units");
    c = mk_task("mlp", "multiclass", NULL, 0);
    expect_open_error(c, two, "at least 2 classes");

    /* a class index outside [0, K) is refused and nothing is learned */
    static const char *const multi[2] = {"softmax", "mlp"};
    for (int i = 0; i < 2; i++) {
        c = mk_task(multi[i], "multiclass", "sgd", 0.1);
        rtml_engine *e = open_ok(&c, &three);
        double x[2] = {1, 2}, y[2] = {1, 3};
        rtml_row rows[2] = {{x, NULL, NULL, 0, NULL, 0}, {x, NULL, NULL, 0, NULL, 0}};
        CHECK(rtml_engine_learn(e, rows, y, 2) == -1);
        CHECK_EQ_INT(e->learned, 0);
        y[1] = 2;
        CHECK(rtml_engine_learn(e, rows, y, 2) == 0);
        CHECK_EQ_INT(e->n_outputs, 3);
        rtml_engine_close(e);
    }
    static const char *const names[5][2] = {{"logistic", "native/logistic"}, {"linear", "native/linear"},
                                            {"softmax", "native/softmax"}, {"ftrl", "native/ftrl"},
                                            {"mlp", "native/mlp"}};
    for (int i = 0; i < 5; i++) {
        rtml_config named = mk(names[i][0], NULL, 0);
        rtml_engine *e = open_ok(&named, &three);
        if (e) CHECK_STR(e->ops->name, names[i][1]);
        size_t n;
        CHECK(e && rtml_engine_params(e, &n) != NULL && n > 0);
        rtml_engine_close(e);
    }
}

int main(void) {
    test_gradients();
    test_ftrl_algorithm1();
    test_optimizer_formulas();
    test_optimizers_converge();
    test_sparse_equals_dense();
    test_xor();
    test_spirals();
    test_softmax_learns();
    test_ftrl_learns();
    test_mlp_hashed();
    test_determinism();
    test_micro_batches();
    test_clipping();
    test_save_load();
    test_pending_batch();
    test_errors_and_dispatch();
    return check_exit("test_engines");
}
