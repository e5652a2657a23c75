/* eval.h — prequential (test-then-train) evaluation: every labelled record is scored before it is learned,
 * so these metrics are honest out-of-sample estimates on the live stream.
 *
 * Binary tasks: accuracy (threshold 0.5) and log loss (probabilities clipped to [1e-15, 1 - 1e-15], as
 * scikit-learn and River do). Multiclass: accuracy (arg max) and log loss of the true class. Regression:
 * MAE and RMSE. Each is kept cumulatively and over a sliding
 * window of the last `window` records (a ring of per-record losses, so the window is exact). */
#ifndef RTML_EVAL_H
#define RTML_EVAL_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "engine/engine.h"

typedef struct {
    double correct_or_abs; /* binary: 1 if correct; regression: |error| */
    double loss;           /* binary: log loss; regression: squared error */
} rtml_eval_point;

typedef struct {
    rtml_task task;
    size_t n_outputs; /* multiclass: number of classes */
    uint64_t n;
    double sum_a, sum_b; /* cumulative sums of the two per-record numbers */
    /* sliding window */
    rtml_eval_point *ring;
    size_t window, filled, head;
    double win_a, win_b;
} rtml_eval;

/* window >= 1. Returns 0, or -1 when out of memory. */
int rtml_eval_init(rtml_eval *ev, rtml_task task, size_t n_outputs, size_t window);
/* scores: the engine's n_outputs outputs for the record; label: 0/1, the target, or the class index. */
void rtml_eval_add(rtml_eval *ev, const double *scores, double label);
void rtml_eval_free(rtml_eval *ev);

double rtml_eval_accuracy(const rtml_eval *ev); /* binary */
double rtml_eval_logloss(const rtml_eval *ev);  /* binary */
double rtml_eval_mae(const rtml_eval *ev);      /* regression */
double rtml_eval_rmse(const rtml_eval *ev);     /* regression */
double rtml_eval_window_accuracy(const rtml_eval *ev);

/* Append the metrics that apply as JSON members, e.g. "accuracy":0.9,"logloss":0.3 (no braces). */
void rtml_eval_json(const rtml_eval *ev, rtml_buf *out);

#endif
