/* test_learn.c — running statistics and the native linear engines (the feature pipeline's tests are in
 * test_featurize.c): numbers checked against independent computations (two-pass variance, numerical gradients,
 * hand-computed values), and learning checked to converge. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "config/model.h"
#include "engine/engine.h"
#include "base/stats.h"

/* A tiny deterministic generator for test data (not the product's; any fixed sequence will do). */
static unsigned long long lcg_state = 12345;
static double uniform(void) {
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

static void test_welford(void) {
    rtml_welford w = {0};
    double xs[1000], sum = 0;
    for (int i = 0; i < 1000; i++) {
        xs[i] = 1e9 + uniform(); /* a large mean: the naive formula loses everything here */
        rtml_welford_add(&w, xs[i]);
        sum += xs[i];
    }
    double mean = sum / 1000, ss = 0;
    for (int i = 0; i < 1000; i++) ss += (xs[i] - mean) * (xs[i] - mean);
    CHECK_NEAR(w.mean, mean, 1e-6);
    CHECK_NEAR(rtml_welford_var(&w), ss / 1000, 1e-6); /* inputs near 1e9 carry ~1e-7 of rounding */
    CHECK_NEAR(rtml_welford_var(&w), 1.0 / 12, 0.01); /* uniform(0,1) */
    rtml_welford one = {0};
    rtml_welford_add(&one, 5);
    CHECK(rtml_welford_var(&one) == 0);
}

static rtml_config model_config(const char *optimizer, double lr, double l2) {
    rtml_config c = {0};
    for (int k = 0; k < 4; k++)
        if (strcmp(rtml_opt_name((rtml_opt_kind)k), optimizer) == 0) c.model.optimizer = (rtml_opt_kind)k;
    CHECK_STR(rtml_opt_name(c.model.optimizer), optimizer);
    c.model.learning_rate = lr;
    c.model.l2 = l2;
    return c;
}

static double predict1(rtml_engine *e, const double *x) {
    rtml_row row = {.dense = x};
    double p;
    rtml_engine_predict(e, &row, 1, &p);
    return p;
}

static void learn1(rtml_engine *e, const double *x, double y) {
    rtml_row row = {.dense = x};
    rtml_engine_learn(e, &row, &y, 1);
}

static double logloss_at(rtml_engine *e, const double *x, double y) {
    double p = predict1(e, x);
    return y ? -log(p) : -log(1 - p);
}

/* One SGD step moves the parameters by -lr * gradient; compare with central differences of the loss. */
static void test_gradient_check(rtml_task task) {
    rtml_config c = model_config("sgd", 1e-3, 0.1);
    rtml_shape shape = {3, 3, 0};
    rtml_engine *e = rtml_linear_open(&c, task, &shape, NULL, 0);
    size_t np;
    double *w = rtml_linear_params(e, &np);
    CHECK_EQ_INT(np, 4);
    double init[4] = {0.3, -0.2, 0.5, 0.1}, x[3] = {0.7, -1.3, 2.0}, y = task == RTML_TASK_BINARY ? 1 : 2.5;
    memcpy(w, init, sizeof init);
    double numeric[4];
    for (size_t j = 0; j < 4; j++) {
        double h = 1e-6, loss_p, loss_m;
        w[j] = init[j] + h;
        if (task == RTML_TASK_BINARY) loss_p = logloss_at(e, x, y);
        else { double p = predict1(e, x); loss_p = 0.5 * (p - y) * (p - y); }
        w[j] = init[j] - h;
        if (task == RTML_TASK_BINARY) loss_m = logloss_at(e, x, y);
        else { double p = predict1(e, x); loss_m = 0.5 * (p - y) * (p - y); }
        w[j] = init[j];
        numeric[j] = (loss_p - loss_m) / (2 * h) + (j < 3 ? 0.1 * init[j] : 0); /* + L2 on weights, not bias */
    }
    learn1(e, x, y);
    for (size_t j = 0; j < 4; j++) CHECK_NEAR((init[j] - w[j]) / 1e-3, numeric[j], 1e-5);
    CHECK_EQ_INT(e->learned, 1);
    rtml_engine_close(e);
}

/* Logistic regression on a linearly separable stream: accuracy over the last 1000 of 20000 rows. */
static double separable_accuracy(const char *optimizer, double lr) {
    rtml_config c = model_config(optimizer, lr, 0);
    rtml_shape shape = {2, 2, 0};
    rtml_engine *e = rtml_linear_open(&c, RTML_TASK_BINARY, &shape, NULL, 0);
    int correct = 0;
    for (int i = 0; i < 20000; i++) {
        double x[2] = {uniform() * 2 - 1, uniform() * 2 - 1};
        double y = 2 * x[0] - x[1] + 0.3 > 0, p = predict1(e, x);
        if (i >= 19000) correct += (p >= 0.5) == (y == 1);
        learn1(e, x, y);
    }
    rtml_engine_close(e);
    return correct / 1000.0;
}

static void test_convergence(void) {
    CHECK(separable_accuracy("sgd", 0.5) >= 0.97);
    CHECK(separable_accuracy("momentum", 0.05) >= 0.97);
    CHECK(separable_accuracy("adagrad", 0.5) >= 0.97);
    CHECK(separable_accuracy("adam", 0.05) >= 0.97);
    /* linear regression recovers y = 3x - 1 */
    rtml_config c = model_config("sgd", 0.05, 0);
    rtml_shape one = {1, 1, 0};
    rtml_engine *e = rtml_linear_open(&c, RTML_TASK_REGRESSION, &one, NULL, 0);
    for (int i = 0; i < 20000; i++) {
        double x = uniform() * 2 - 1;
        learn1(e, &x, 3 * x - 1);
    }
    size_t np;
    double *w = rtml_linear_params(e, &np);
    CHECK_NEAR(w[0], 3, 1e-3);
    CHECK_NEAR(w[1], -1, 1e-3);
    rtml_engine_close(e);
}

static void test_deterministic(void) {
    lcg_state = 7;
    double a = separable_accuracy("adam", 0.05);
    lcg_state = 7;
    CHECK(separable_accuracy("adam", 0.05) == a);
}

static void test_engine_errors(void) {
    char err[256];
    rtml_shape shape = {2, 2, 0};
    rtml_config c = model_config("sgd", 0.1, 0);
    c.model.engine = RTML_ENGINE_TENSORFLOW;
    c.model.tf.saved_model = "/nonexistent/model";
    CHECK(rtml_engine_open(&c, &shape, err, sizeof err) == NULL);
    if (rtml_tf_available()) CHECK(strstr(err, "/nonexistent/model") != NULL);
    else CHECK(strstr(err, "built without TensorFlow") != NULL);
    c.model.engine = RTML_ENGINE_NATIVE;
    c.model.type = RTML_MODEL_LINEAR;
    rtml_engine *e = rtml_engine_open(&c, &shape, err, sizeof err);
    CHECK(e && e->task == RTML_TASK_REGRESSION);
    rtml_engine_close(e);
}

int main(void) {
    test_welford();
    test_gradient_check(RTML_TASK_BINARY);
    test_gradient_check(RTML_TASK_REGRESSION);
    test_convergence();
    test_deterministic();
    test_engine_errors();
    return check_exit("test_learn");
}
