/* eval.h — prequential (test-then-train) evaluation: every labelled record is scored before it is learned,
 * so these metrics are honest out-of-sample estimates on the live stream.
 *
 * Every metric is kept two ways: cumulatively (since the start) and over a sliding window of the last
 * `window` records. The window is exact: a ring holds each record's score, label and loss; integer counts
 * (hits, confusion cells) are updated as records enter and leave it, and the floating-point ones (log loss,
 * errors, AUC, R2) are recomputed from the ring when asked (O(window), AUC O(window log window)), so they
 * never accumulate add-and-subtract rounding.
 *
 * Binary (scores[0] = P(y = 1), the positive class is 1, threshold 0.5):
 *   accuracy; log loss (probabilities clipped to [1e-15, 1 - 1e-15], as scikit-learn and River do);
 *   precision, recall, F1 of class 1 (0 when undefined, scikit-learn's zero_division=0);
 *   AUC (ties count one half, as in scikit-learn's roc_auc_score; undefined -> NaN, JSON null until both
 *   classes were seen). Window AUC is exact. Cumulative AUC must stay bounded in memory on an endless
 *   stream, so it comes from a histogram of RTML_EVAL_AUC_BINS score bins per class, equally spaced on
 *   the logit scale over [-16, 16] (p in ~[1.1e-7, 1 - 1.1e-7]; beyond, the end bins), where a
 *   well-trained model's probabilities crowd near 0 and 1. Pairs in different bins are ordered exactly;
 *   pairs in one bin count as ties (one half). Hence the error is at most half the fraction of
 *   (positive, negative) pairs that share a bin, a bound rtml_eval_auc_error_bound() computes from the
 *   histogram itself (exactly 0 when no bin holds both classes). River's ROCAUC is approximate too
 *   (a fixed number of thresholds, 10 by default).
 * Multiclass (scores = class probabilities, prediction = arg max, first on ties):
 *   accuracy; log loss of the true class; macro-F1 from an n_classes x n_classes confusion matrix,
 *   averaged over the classes that occurred as truth or prediction (as scikit-learn's f1_score(average=
 *   "macro") over the labels present, and River's MacroF1).
 * Regression: MAE, RMSE and R2 = 1 - SSE / SST, SST from a running (Welford) variance of the targets
 *   (R2 is 1 when SST = 0 and SSE = 0, else 0 when SST = 0: scikit-learn's force_finite convention). */
#ifndef RTML_EVAL_H
#define RTML_EVAL_H
#include <stddef.h>
#include <stdint.h>

#include "base/binfmt.h"
#include "base/buf.h"
#include "engine/engine.h"
#include "base/stats.h"

#define RTML_EVAL_AUC_BINS 4096

typedef struct {
    double score;    /* binary: P(y = 1); regression: the prediction; multiclass: P(true class) */
    double label;    /* the target (regression) or the class (0/1, class index) */
    double loss;     /* log loss (classification) or squared error (regression) */
    uint32_t pred;   /* classification: the predicted class */
    uint32_t truth;  /* classification: the true class (n_outputs when out of range) */
} rtml_eval_point;

typedef struct {
    rtml_task task;
    size_t n_outputs; /* multiclass: number of classes */
    size_t n_classes; /* classes in the confusion matrices: 2 for binary, n_outputs for multiclass */
    uint64_t n;
    /* cumulative */
    double sum_loss;    /* log loss, or squared error */
    double sum_abs;     /* regression: |error| */
    uint64_t correct;   /* classification */
    uint64_t *cm;       /* classification: n_classes^2, cm[truth * n_classes + pred] */
    uint64_t *auc_pos;  /* binary: RTML_EVAL_AUC_BINS counts of positives' scores, then ... */
    uint64_t *auc_neg;  /* ... negatives' (one allocation) */
    rtml_welford y;     /* regression: targets */
    /* sliding window */
    rtml_eval_point *ring;
    size_t window, filled, head;
    uint64_t win_correct;
    uint32_t *win_cm;   /* classification: n_classes^2 */
} rtml_eval;

/* window >= 1 (0 is taken as 1). Returns 0, or -1 when out of memory. */
int rtml_eval_init(rtml_eval *ev, rtml_task task, size_t n_outputs, size_t window);
/* scores: the engine's n_outputs outputs for the record; label: 0/1, the target, or the class index. */
void rtml_eval_add(rtml_eval *ev, const double *scores, double label);
void rtml_eval_free(rtml_eval *ev);

/* Cumulative metrics; NaN before the first record or where the metric does not apply to the task. */
double rtml_eval_accuracy(const rtml_eval *ev);  /* binary, multiclass */
double rtml_eval_logloss(const rtml_eval *ev);   /* binary, multiclass */
double rtml_eval_auc(const rtml_eval *ev);       /* binary (histogram, see above) */
double rtml_eval_auc_error_bound(const rtml_eval *ev); /* binary: |auc - exact AUC| <= this */
double rtml_eval_precision(const rtml_eval *ev); /* binary */
double rtml_eval_recall(const rtml_eval *ev);    /* binary */
double rtml_eval_f1(const rtml_eval *ev);        /* binary */
double rtml_eval_macro_f1(const rtml_eval *ev);  /* multiclass */
double rtml_eval_mae(const rtml_eval *ev);       /* regression */
double rtml_eval_rmse(const rtml_eval *ev);      /* regression */
double rtml_eval_r2(const rtml_eval *ev);        /* regression */

/* The same over the window (AUC exact). */
double rtml_eval_window_accuracy(const rtml_eval *ev);
double rtml_eval_window_logloss(const rtml_eval *ev);
double rtml_eval_window_auc(const rtml_eval *ev);
double rtml_eval_window_precision(const rtml_eval *ev);
double rtml_eval_window_recall(const rtml_eval *ev);
double rtml_eval_window_f1(const rtml_eval *ev);
double rtml_eval_window_macro_f1(const rtml_eval *ev);
double rtml_eval_window_mae(const rtml_eval *ev);
double rtml_eval_window_rmse(const rtml_eval *ev);
double rtml_eval_window_r2(const rtml_eval *ev);

/* Append the metrics that apply as JSON members (no braces), cumulative then windowed:
 *   binary:     "accuracy","logloss","auc","precision","recall","f1", then "window_accuracy", ...
 *   multiclass: "accuracy","logloss","macro_f1", then the window_ ones
 *   regression: "mae","rmse","r2", then the window_ ones
 * An undefined value (e.g. AUC before both classes were seen) is null. Nothing before the first record. */
void rtml_eval_json(const rtml_eval *ev, rtml_buf *out);

/* Save every counter and the window into a state section; load them into an evaluator initialised for the
 * same task, class count and window (0, or -1 with a reason; on failure the evaluator may hold part of the
 * window, so the caller discards it). The metrics resume where the checkpoint left them. */
void rtml_eval_save(const rtml_eval *ev, rtml_writer *w);
int rtml_eval_load(rtml_eval *ev, rtml_reader *r, char *err, size_t errlen);

#endif
