/* test_eval.c — prequential metrics (src/eval.c) against values computed independently: small cases by
 * hand, and 2000-record streams against scikit-learn 1.9.1.
 *
 * The streams come from a 64-bit LCG that Python reproduces bit for bit; the reference constants below
 * were printed by this script (numpy/scikit-learn in .venv), cumulative = all N records, window = the
 * last W:
 *
 *   from sklearn.metrics import *; import numpy as np
 *   s = [12345]
 *   def u():
 *       s[0] = (s[0] * 6364136223846793005 + 1442695040888963407) % 2**64
 *       return (s[0] >> 11) * 2.0**-53
 *   # binary (ties on purpose): l = u() < 0.4; p = floor((0.3*l + 0.7*u()) * 100) / 100
 *   #   accuracy_score(y, p >= .5), log_loss(y, clip(p, 1e-15, 1-1e-15)), roc_auc_score(y, p),
 *   #   precision_score / recall_score / f1_score(y, p >= .5, zero_division=0)
 *   # continuous binary: l = u() < 0.5; p = (l + 2*u()) / 3; roc_auc_score
 *   # multiclass: t = min(int(3*u()), 2); r_k = u() + 0.4*(k == t) for k = 0,1,2; p = r / sum(r)
 *   #   accuracy_score(y, argmax), log_loss(y, p, labels=[0,1,2]), f1_score(y, argmax, average='macro')
 *   # regression: t = 10*u(); q = t + 4*(u() - 0.5); mean_absolute_error, mean_squared_error**.5, r2_score
 *   (the four streams are drawn one after the other from the one generator) */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pipeline/eval.h"
#include "base/rtml.h"

enum { N = 2000, W = 500 };

static uint64_t lcg_state = 12345;
static double u(void) {
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * 0x1p-53;
}

static void test_hand_computed(void) {
    rtml_eval ev;
    CHECK(rtml_eval_init(&ev, RTML_TASK_BINARY, 1, 2) == 0);
    rtml_eval_add(&ev, (double[]){0.9}, 1); /* TP, -log 0.9 */
    rtml_eval_add(&ev, (double[]){0.8}, 0); /* FP, -log 0.2 */
    rtml_eval_add(&ev, (double[]){0.3}, 0); /* TN, -log 0.7 */
    CHECK_NEAR(rtml_eval_accuracy(&ev), 2.0 / 3, 1e-12);
    CHECK_NEAR(rtml_eval_logloss(&ev), (-log(0.9) - log(0.2) - log(0.7)) / 3, 1e-12);
    CHECK_NEAR(rtml_eval_precision(&ev), 0.5, 1e-12);
    CHECK_NEAR(rtml_eval_recall(&ev), 1.0, 1e-12);
    CHECK_NEAR(rtml_eval_f1(&ev), 2.0 / 3, 1e-12);
    CHECK_NEAR(rtml_eval_auc(&ev), 1.0, 1e-12); /* 0.9 above both negatives */
    CHECK_NEAR(rtml_eval_auc_error_bound(&ev), 0, 1e-12);
    CHECK_NEAR(rtml_eval_window_accuracy(&ev), 0.5, 1e-12); /* the last two */
    CHECK_NEAR(rtml_eval_window_logloss(&ev), (-log(0.2) - log(0.7)) / 2, 1e-12);
    CHECK_NEAR(rtml_eval_window_precision(&ev), 0, 1e-12); /* no TP in the window: 0, not NaN */
    CHECK(isnan(rtml_eval_window_auc(&ev)));               /* only negatives in the window */
    rtml_buf b = RTML_BUF_INIT;
    rtml_eval_json(&ev, &b);
    CHECK(strstr(b.data, "\"window_auc\":null") != NULL);
    rtml_buf_free(&b);
    rtml_eval_add(&ev, (double[]){1.0}, 0); /* clipped, not infinite */
    CHECK(isfinite(rtml_eval_logloss(&ev)));
    rtml_eval_add(&ev, (double[]){NAN}, 1); /* a diverged model: still finite */
    CHECK(isfinite(rtml_eval_logloss(&ev)));
    /* positives 0.9 and NaN(-> 1e-15), negatives 0.8 0.3 1.0: pairs won 2 of 6 */
    CHECK_NEAR(rtml_eval_auc(&ev), 2.0 / 6, 1e-12);
    b = (rtml_buf)RTML_BUF_INIT;
    rtml_eval_json(&ev, &b);
    CHECK(strncmp(b.data, "\"accuracy\":0.4,\"logloss\":", 25) == 0);
    const char *keys[] = {"\"auc\":", "\"precision\":", "\"recall\":", "\"f1\":", "\"window_accuracy\":",
                          "\"window_logloss\":", "\"window_auc\":", "\"window_f1\":"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) CHECK(strstr(b.data, keys[i]) != NULL);
    CHECK(strstr(b.data, "mae") == NULL && strstr(b.data, "macro_f1") == NULL);
    rtml_buf_free(&b);
    rtml_eval_free(&ev);

    CHECK(rtml_eval_init(&ev, RTML_TASK_REGRESSION, 1, 10) == 0);
    b = (rtml_buf)RTML_BUF_INIT;
    rtml_eval_json(&ev, &b); /* nothing before the first record */
    CHECK(b.len == 0);
    rtml_eval_add(&ev, (double[]){1}, 2);
    rtml_eval_add(&ev, (double[]){5}, 2);
    CHECK_NEAR(rtml_eval_mae(&ev), 2, 1e-12);
    CHECK_NEAR(rtml_eval_rmse(&ev), sqrt(5), 1e-12);
    CHECK_NEAR(rtml_eval_r2(&ev), 0, 1e-12); /* constant targets, errors: 0 */
    rtml_eval_add(&ev, (double[]){4}, 4);    /* y = 2,2,4: mean 8/3, SST = 8/3; SSE = 1 + 9 + 0 */
    CHECK_NEAR(rtml_eval_r2(&ev), 1 - 10 / (8.0 / 3), 1e-12);
    CHECK(isnan(rtml_eval_accuracy(&ev)));
    rtml_eval_json(&ev, &b);
    CHECK(strncmp(b.data, "\"mae\":", 6) == 0 && strstr(b.data, "\"r2\":") && strstr(b.data, "\"window_rmse\":"));
    CHECK(strstr(b.data, "accuracy") == NULL);
    rtml_buf_free(&b);
    rtml_eval_free(&ev);

    CHECK(rtml_eval_init(&ev, RTML_TASK_REGRESSION, 1, 10) == 0);
    rtml_eval_add(&ev, (double[]){3}, 3);
    CHECK_NEAR(rtml_eval_r2(&ev), 1, 1e-12); /* SST = 0, SSE = 0: 1 */
    rtml_eval_free(&ev);

    /* multiclass by hand: truth 0 1 2 2, predicted 0 2 2 2 -> F1: class0 1, class1 0, class2 0.8 */
    CHECK(rtml_eval_init(&ev, RTML_TASK_MULTICLASS, 3, 100) == 0);
    rtml_eval_add(&ev, (double[]){0.7, 0.2, 0.1}, 0);
    rtml_eval_add(&ev, (double[]){0.1, 0.3, 0.6}, 1);
    rtml_eval_add(&ev, (double[]){0.2, 0.2, 0.6}, 2);
    rtml_eval_add(&ev, (double[]){0.1, 0.1, 0.8}, 2);
    CHECK_NEAR(rtml_eval_accuracy(&ev), 0.75, 1e-12);
    CHECK_NEAR(rtml_eval_logloss(&ev), (-log(0.7) - log(0.3) - log(0.6) - log(0.8)) / 4, 1e-12);
    CHECK_NEAR(rtml_eval_macro_f1(&ev), (1 + 0 + 0.8) / 3, 1e-12);
    CHECK_NEAR(rtml_eval_window_macro_f1(&ev), (1 + 0 + 0.8) / 3, 1e-12);
    rtml_eval_add(&ev, (double[]){0.1, 0.1, 0.8}, 7); /* out of range: wrong, not a crash */
    CHECK_NEAR(rtml_eval_accuracy(&ev), 0.6, 1e-12);
    rtml_eval_free(&ev);
}

/* The scikit-learn streams (see the header for how the constants were computed). */
static void test_against_sklearn(void) {
    rtml_eval ev;
    CHECK(rtml_eval_init(&ev, RTML_TASK_BINARY, 1, W) == 0);
    for (int i = 0; i < N; i++) {
        double l = u() < 0.4 ? 1 : 0;
        double p = floor((0.3 * l + 0.7 * u()) * 100) / 100;
        rtml_eval_add(&ev, &p, l);
    }
    CHECK_NEAR(rtml_eval_accuracy(&ev), 0.7055, 1e-12);
    CHECK_NEAR(rtml_eval_logloss(&ev), 0.49546883140649345, 1e-12);
    CHECK_NEAR(rtml_eval_precision(&ev), 0.6022471910112359, 1e-12);
    CHECK_NEAR(rtml_eval_recall(&ev), 0.695201037613489, 1e-12);
    CHECK_NEAR(rtml_eval_f1(&ev), 0.6453943407585792, 1e-12);
    /* scores 0.01 apart fall in distinct bins, equal ones tie exactly: the histogram is exact here */
    CHECK_NEAR(rtml_eval_auc(&ev), 0.8217103103870049, 1e-12);
    CHECK(rtml_eval_auc_error_bound(&ev) < 0.05);
    CHECK_NEAR(rtml_eval_window_accuracy(&ev), 0.72, 1e-12);
    CHECK_NEAR(rtml_eval_window_logloss(&ev), 0.5032443977056198, 1e-12);
    CHECK_NEAR(rtml_eval_window_auc(&ev), 0.8199095172049402, 1e-12);
    CHECK_NEAR(rtml_eval_window_precision(&ev), 0.6398305084745762, 1e-12);
    CHECK_NEAR(rtml_eval_window_recall(&ev), 0.7330097087378641, 1e-12);
    CHECK_NEAR(rtml_eval_window_f1(&ev), 0.6832579185520362, 1e-12);
    rtml_eval_free(&ev);

    /* continuous scores: the histogram AUC is within its stated bound, and the bound is small */
    CHECK(rtml_eval_init(&ev, RTML_TASK_BINARY, 1, W) == 0);
    for (int i = 0; i < N; i++) {
        double l = u() < 0.5 ? 1 : 0;
        double p = (l + 2 * u()) / 3;
        rtml_eval_add(&ev, &p, l);
    }
    double exact = 0.8795089508950895, bound = rtml_eval_auc_error_bound(&ev);
    CHECK(fabs(rtml_eval_auc(&ev) - exact) <= bound + 1e-12);
    CHECK(bound < 1e-3);
    CHECK_NEAR(rtml_eval_window_auc(&ev), 0.8571954420331604, 1e-12);
    rtml_eval_free(&ev);

    CHECK(rtml_eval_init(&ev, RTML_TASK_MULTICLASS, 3, W) == 0);
    for (int i = 0; i < N; i++) {
        int t = (int)(3 * u());
        if (t > 2) t = 2;
        double r[3], sum = 0;
        for (int k = 0; k < 3; k++) sum += r[k] = u() + (k == t ? 0.4 : 0);
        for (int k = 0; k < 3; k++) r[k] /= sum;
        rtml_eval_add(&ev, r, t);
    }
    CHECK_NEAR(rtml_eval_accuracy(&ev), 0.6985, 1e-12);
    CHECK_NEAR(rtml_eval_logloss(&ev), 0.7726531338034351, 1e-12);
    CHECK_NEAR(rtml_eval_macro_f1(&ev), 0.698494754150099, 1e-12);
    CHECK_NEAR(rtml_eval_window_accuracy(&ev), 0.692, 1e-12);
    CHECK_NEAR(rtml_eval_window_logloss(&ev), 0.7727557319328249, 1e-12);
    CHECK_NEAR(rtml_eval_window_macro_f1(&ev), 0.6922126953883067, 1e-12);
    rtml_eval_free(&ev);

    CHECK(rtml_eval_init(&ev, RTML_TASK_REGRESSION, 1, W) == 0);
    for (int i = 0; i < N; i++) {
        double t = 10 * u();
        double q = t + 4 * (u() - 0.5);
        rtml_eval_add(&ev, &q, t);
    }
    CHECK_NEAR(rtml_eval_mae(&ev), 1.0013218951433698, 1e-12);
    CHECK_NEAR(rtml_eval_rmse(&ev), 1.1588623307488626, 1e-12);
    CHECK_NEAR(rtml_eval_r2(&ev), 0.8353553790284113, 1e-12);
    CHECK_NEAR(rtml_eval_window_mae(&ev), 0.9901765727201589, 1e-12);
    CHECK_NEAR(rtml_eval_window_rmse(&ev), 1.139215379582073, 1e-12);
    CHECK_NEAR(rtml_eval_window_r2(&ev), 0.827811402252463, 1e-12);
    rtml_eval_free(&ev);
}

/* A window of 1 and a long stream: the ring wraps many times and the counts stay exact. */
static void test_window_wraps(void) {
    rtml_eval ev;
    CHECK(rtml_eval_init(&ev, RTML_TASK_BINARY, 1, 1) == 0);
    for (int i = 0; i < 10000; i++) rtml_eval_add(&ev, (double[]){i % 3 ? 0.9 : 0.1}, i % 2);
    CHECK_NEAR(rtml_eval_window_accuracy(&ev), 0.0, 1e-12); /* i = 9999: label 1, score 0.1 */
    CHECK(ev.win_cm[0] + ev.win_cm[1] + ev.win_cm[2] + ev.win_cm[3] == 1);
    rtml_eval_free(&ev);
}

/* Save, load into a fresh evaluator, and both go on identically (all three tasks, the window mid-wrap); a
 * state of another task or window is refused, and a truncated one too. */
static void test_save_load(void) {
    static const rtml_task tasks[] = {RTML_TASK_BINARY, RTML_TASK_MULTICLASS, RTML_TASK_REGRESSION};
    char err[RTML_ERRLEN];
    for (int t = 0; t < 3; t++) {
        size_t k = tasks[t] == RTML_TASK_MULTICLASS ? 3 : 1;
        rtml_eval a, b, c;
        CHECK(rtml_eval_init(&a, tasks[t], k, 50) == 0 && rtml_eval_init(&b, tasks[t], k, 50) == 0);
        CHECK(rtml_eval_init(&c, tasks[t], k, 40) == 0);
        double s[3];
        for (int i = 0; i < 173; i++) {
            for (size_t j = 0; j < k; j++) s[j] = ((i * 7 + (int)j * 3) % 10 + 0.5) / (k == 3 ? 16.5 : 10.0);
            rtml_eval_add(&a, s, tasks[t] == RTML_TASK_REGRESSION ? i % 9 : i % (int)(k == 3 ? 3 : 2));
        }
        rtml_writer w = {RTML_BUF_INIT};
        rtml_eval_save(&a, &w);
        rtml_reader r = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
        CHECK(rtml_eval_load(&b, &r, err, sizeof err) == 0);
        for (int i = 0; i < 31; i++) {
            for (size_t j = 0; j < k; j++) s[j] = ((i * 5 + (int)j) % 10 + 0.5) / (k == 3 ? 16.5 : 10.0);
            double y = tasks[t] == RTML_TASK_REGRESSION ? i % 4 : i % 2;
            rtml_eval_add(&a, s, y);
            rtml_eval_add(&b, s, y);
        }
        rtml_buf ja = RTML_BUF_INIT, jb = RTML_BUF_INIT;
        rtml_eval_json(&a, &ja);
        rtml_eval_json(&b, &jb);
        CHECK_STR(ja.data, jb.data);
        r = (rtml_reader){(const unsigned char *)w.buf.data, w.buf.len, 0, false};
        CHECK(rtml_eval_load(&c, &r, err, sizeof err) == -1 && strstr(err, "another task, class count or window"));
        r = (rtml_reader){(const unsigned char *)w.buf.data, w.buf.len / 2, 0, false};
        CHECK(rtml_eval_load(&b, &r, err, sizeof err) == -1 && strstr(err, "truncated"));
        rtml_buf_free(&ja), rtml_buf_free(&jb), rtml_buf_free(&w.buf);
        rtml_eval_free(&a), rtml_eval_free(&b), rtml_eval_free(&c);
    }
}

int main(void) {
    test_save_load();
    test_hand_computed();
    test_against_sklearn();
    test_window_wraps();
    return check_exit("test_eval");
}
