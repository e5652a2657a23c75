/* eval.c — prequential metrics, cumulative and over an exact sliding window (see eval.h for the
 * definitions, the conventions they share with scikit-learn, and the cumulative AUC's error bound).
 *
 * Per record, work is O(1) (plus the ring write); the windowed floating-point metrics are recomputed from
 * the ring when read, which happens per report, not per record. */
#include "pipeline/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

#define AUC_LOGIT_MAX 16.0

int rtml_eval_init(rtml_eval *ev, rtml_task task, size_t n_outputs, size_t window) {
    *ev = (rtml_eval){.task = task, .n_outputs = n_outputs ? n_outputs : 1, .window = window ? window : 1};
    ev->ring = calloc(ev->window, sizeof *ev->ring);
    if (!ev->ring) return -1;
    if (task == RTML_TASK_REGRESSION) return 0;
    ev->n_classes = task == RTML_TASK_BINARY ? 2 : ev->n_outputs;
    size_t cells = ev->n_classes * ev->n_classes;
    ev->cm = calloc(cells, sizeof *ev->cm);
    ev->win_cm = calloc(cells, sizeof *ev->win_cm);
    if (task == RTML_TASK_BINARY) {
        ev->auc_pos = calloc(2 * (size_t)RTML_EVAL_AUC_BINS, sizeof *ev->auc_pos);
        if (ev->auc_pos) ev->auc_neg = ev->auc_pos + RTML_EVAL_AUC_BINS;
    }
    if (!ev->cm || !ev->win_cm || (task == RTML_TASK_BINARY && !ev->auc_pos)) {
        rtml_eval_free(ev);
        return -1;
    }
    return 0;
}

void rtml_eval_free(rtml_eval *ev) {
    free(ev->ring);
    free(ev->cm);
    free(ev->win_cm);
    free(ev->auc_pos);
    ev->ring = NULL;
    ev->cm = NULL;
    ev->win_cm = NULL;
    ev->auc_pos = ev->auc_neg = NULL;
}

/* NaN clips to 1e-15 (fmax returns the other operand), so a diverged model still gives finite losses. */
static double clip_probability(double p) { return fmin(fmax(p, 1e-15), 1 - 1e-15); }

/* The histogram bin of a probability: equal steps of the logit over [-16, 16], the ends open. */
static size_t auc_bin(double p) {
    p = clip_probability(p);
    double z = log(p / (1 - p));
    double t = (z + AUC_LOGIT_MAX) / (2 * AUC_LOGIT_MAX) * RTML_EVAL_AUC_BINS;
    if (!(t > 0)) return 0;
    if (t >= RTML_EVAL_AUC_BINS) return RTML_EVAL_AUC_BINS - 1;
    return (size_t)t;
}

static rtml_eval_point point_of(const rtml_eval *ev, const double *scores, double label) {
    if (ev->task == RTML_TASK_MULTICLASS) {
        size_t best = 0, k = ev->n_outputs;
        for (size_t c = 1; c < k; c++)
            if (scores[c] > scores[best]) best = c;
        int known = label >= 0 && label < (double)k;
        size_t truth = known ? (size_t)label : k;
        double p = known ? clip_probability(scores[truth]) : 1e-15;
        return (rtml_eval_point){p, label, -log(p), (uint32_t)best, (uint32_t)truth};
    }
    if (ev->task == RTML_TASK_BINARY) {
        double p = clip_probability(scores[0]);
        int truth = label >= 0.5;
        return (rtml_eval_point){scores[0], label, truth ? -log(p) : -log(1 - p), scores[0] >= 0.5,
                                 (uint32_t)truth};
    }
    double d = scores[0] - label;
    return (rtml_eval_point){scores[0], label, d * d, 0, 0};
}

static int in_cm(const rtml_eval *ev, const rtml_eval_point *pt) { return pt->truth < ev->n_classes; }

void rtml_eval_add(rtml_eval *ev, const double *scores, double label) {
    rtml_eval_point pt = point_of(ev, scores, label);
    ev->n++;
    ev->sum_loss += pt.loss;
    int classify = ev->task != RTML_TASK_REGRESSION;
    if (classify) {
        ev->correct += pt.pred == pt.truth;
        if (in_cm(ev, &pt)) ev->cm[pt.truth * ev->n_classes + pt.pred]++;
        if (ev->task == RTML_TASK_BINARY) (pt.truth ? ev->auc_pos : ev->auc_neg)[auc_bin(pt.score)]++;
    } else {
        ev->sum_abs += fabs(scores[0] - label);
        rtml_welford_add(&ev->y, label);
    }
    rtml_eval_point *slot = &ev->ring[ev->head];
    if (ev->filled == ev->window) {
        if (classify) {
            ev->win_correct -= slot->pred == slot->truth;
            if (in_cm(ev, slot)) ev->win_cm[slot->truth * ev->n_classes + slot->pred]--;
        }
    } else {
        ev->filled++;
    }
    *slot = pt;
    if (classify) {
        ev->win_correct += pt.pred == pt.truth;
        if (in_cm(ev, &pt)) ev->win_cm[pt.truth * ev->n_classes + pt.pred]++;
    }
    ev->head = (ev->head + 1) % ev->window;
}

/* ---- shared formulas --------------------------------------------------------------------------------- */

static double ratio(double num, double den) { return den > 0 ? num / den : 0.0; } /* zero_division = 0 */
static int is_classifier(const rtml_eval *ev) { return ev->task != RTML_TASK_REGRESSION; }
static int is_binary(const rtml_eval *ev) { return ev->task == RTML_TASK_BINARY; }
static int is_multiclass(const rtml_eval *ev) { return ev->task == RTML_TASK_MULTICLASS; }
static int is_regression(const rtml_eval *ev) { return ev->task == RTML_TASK_REGRESSION; }

/* Binary confusion counts from a 2x2 matrix of either width: cell(truth, pred). */
typedef struct {
    double tp, fp, fn;
} binary_counts;

static binary_counts counts64(const uint64_t *cm) { return (binary_counts){(double)cm[3], (double)cm[1], (double)cm[2]}; }
static binary_counts counts32(const uint32_t *cm) { return (binary_counts){cm[3], cm[1], cm[2]}; }
static double precision_of(binary_counts c) { return ratio(c.tp, c.tp + c.fp); }
static double recall_of(binary_counts c) { return ratio(c.tp, c.tp + c.fn); }
static double f1_of(binary_counts c) { return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn); }

/* Macro-F1 over the classes seen as truth or prediction; cm64 or cm32 is the k x k matrix. */
static double macro_f1_of(const uint64_t *cm64, const uint32_t *cm32, size_t k) {
    double sum = 0;
    size_t seen = 0;
    for (size_t c = 0; c < k; c++) {
        double tp = 0, row = 0, col = 0;
        for (size_t j = 0; j < k; j++) {
            row += cm64 ? (double)cm64[c * k + j] : cm32[c * k + j];
            col += cm64 ? (double)cm64[j * k + c] : cm32[j * k + c];
        }
        tp = cm64 ? (double)cm64[c * k + c] : cm32[c * k + c];
        if (row + col == 0) continue;
        sum += 2 * tp / (row + col); /* 2tp / (2tp + fp + fn) */
        seen++;
    }
    return seen ? sum / (double)seen : NAN;
}

/* R2 from the residual and total sums of squares (scikit-learn's force_finite convention when SST = 0). */
static double r2_of(double sse, double sst) {
    if (sst > 0) return 1 - sse / sst;
    return sse == 0 ? 1.0 : 0.0;
}

/* ---- cumulative ------------------------------------------------------------------------------------- */

static double mean_or_nan(double sum, uint64_t n) { return n ? sum / (double)n : NAN; }

double rtml_eval_accuracy(const rtml_eval *ev) {
    return is_classifier(ev) ? mean_or_nan((double)ev->correct, ev->n) : NAN;
}
double rtml_eval_logloss(const rtml_eval *ev) { return is_classifier(ev) ? mean_or_nan(ev->sum_loss, ev->n) : NAN; }
double rtml_eval_precision(const rtml_eval *ev) { return is_binary(ev) && ev->n ? precision_of(counts64(ev->cm)) : NAN; }
double rtml_eval_recall(const rtml_eval *ev) { return is_binary(ev) && ev->n ? recall_of(counts64(ev->cm)) : NAN; }
double rtml_eval_f1(const rtml_eval *ev) { return is_binary(ev) && ev->n ? f1_of(counts64(ev->cm)) : NAN; }
double rtml_eval_macro_f1(const rtml_eval *ev) {
    return is_multiclass(ev) && ev->n ? macro_f1_of(ev->cm, NULL, ev->n_classes) : NAN;
}
double rtml_eval_mae(const rtml_eval *ev) { return is_regression(ev) ? mean_or_nan(ev->sum_abs, ev->n) : NAN; }
double rtml_eval_rmse(const rtml_eval *ev) { return is_regression(ev) ? sqrt(mean_or_nan(ev->sum_loss, ev->n)) : NAN; }
double rtml_eval_r2(const rtml_eval *ev) {
    return is_regression(ev) && ev->n ? r2_of(ev->sum_loss, ev->y.m2) : NAN;
}

/* AUC from the histograms: *bound gets half the fraction of (positive, negative) pairs sharing a bin. */
static double histogram_auc(const rtml_eval *ev, double *bound) {
    long double num = 0, ties = 0, neg_below = 0, pos = 0, neg = 0;
    for (size_t b = 0; b < RTML_EVAL_AUC_BINS; b++) {
        long double p = ev->auc_pos[b], q = ev->auc_neg[b];
        num += p * (neg_below + 0.5L * q);
        ties += p * q;
        neg_below += q;
        pos += p;
        neg += q;
    }
    if (pos == 0 || neg == 0) {
        *bound = NAN;
        return NAN;
    }
    *bound = (double)(0.5L * ties / (pos * neg));
    return (double)(num / (pos * neg));
}

double rtml_eval_auc(const rtml_eval *ev) {
    double bound;
    return is_binary(ev) ? histogram_auc(ev, &bound) : NAN;
}

double rtml_eval_auc_error_bound(const rtml_eval *ev) {
    double bound = NAN;
    if (is_binary(ev)) histogram_auc(ev, &bound);
    return bound;
}

/* ---- window ------------------------------------------------------------------------------------------ */

double rtml_eval_window_accuracy(const rtml_eval *ev) {
    return is_classifier(ev) ? mean_or_nan((double)ev->win_correct, ev->filled) : NAN;
}

static double window_loss_sum(const rtml_eval *ev) {
    double s = 0;
    for (size_t i = 0; i < ev->filled; i++) s += ev->ring[i].loss;
    return s;
}

double rtml_eval_window_logloss(const rtml_eval *ev) {
    return is_classifier(ev) ? mean_or_nan(window_loss_sum(ev), ev->filled) : NAN;
}
double rtml_eval_window_precision(const rtml_eval *ev) {
    return is_binary(ev) && ev->filled ? precision_of(counts32(ev->win_cm)) : NAN;
}
double rtml_eval_window_recall(const rtml_eval *ev) {
    return is_binary(ev) && ev->filled ? recall_of(counts32(ev->win_cm)) : NAN;
}
double rtml_eval_window_f1(const rtml_eval *ev) { return is_binary(ev) && ev->filled ? f1_of(counts32(ev->win_cm)) : NAN; }
double rtml_eval_window_macro_f1(const rtml_eval *ev) {
    return is_multiclass(ev) && ev->filled ? macro_f1_of(NULL, ev->win_cm, ev->n_classes) : NAN;
}
double rtml_eval_window_mae(const rtml_eval *ev) {
    if (!is_regression(ev)) return NAN;
    double s = 0;
    for (size_t i = 0; i < ev->filled; i++) s += fabs(ev->ring[i].score - ev->ring[i].label);
    return mean_or_nan(s, ev->filled);
}
double rtml_eval_window_rmse(const rtml_eval *ev) {
    return is_regression(ev) ? sqrt(mean_or_nan(window_loss_sum(ev), ev->filled)) : NAN;
}
double rtml_eval_window_r2(const rtml_eval *ev) {
    if (!is_regression(ev) || !ev->filled) return NAN;
    double mean = 0, sst = 0;
    for (size_t i = 0; i < ev->filled; i++) mean += ev->ring[i].label;
    mean /= (double)ev->filled;
    for (size_t i = 0; i < ev->filled; i++) sst += (ev->ring[i].label - mean) * (ev->ring[i].label - mean);
    return r2_of(window_loss_sum(ev), sst);
}

typedef struct {
    double score;
    int positive;
} scored;

static int by_score(const void *a, const void *b) {
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x > y) - (x < y);
}

/* Exact AUC of the window: sort by score, walk groups of equal scores (a tie counts one half). */
double rtml_eval_window_auc(const rtml_eval *ev) {
    if (!is_binary(ev) || !ev->filled) return NAN;
    scored *s = malloc(ev->filled * sizeof *s);
    if (!s) return NAN;
    for (size_t i = 0; i < ev->filled; i++)
        s[i] = (scored){clip_probability(ev->ring[i].score), ev->ring[i].truth == 1};
    qsort(s, ev->filled, sizeof *s, by_score);
    double num = 0, neg_below = 0, pos = 0;
    for (size_t i = 0; i < ev->filled;) {
        size_t j = i;
        double p = 0, q = 0;
        for (; j < ev->filled && s[j].score == s[i].score; j++) *(s[j].positive ? &p : &q) += 1;
        num += p * (neg_below + 0.5 * q);
        neg_below += q;
        pos += p;
        i = j;
    }
    free(s);
    return pos > 0 && neg_below > 0 ? num / (pos * neg_below) : NAN;
}

/* ---- JSON -------------------------------------------------------------------------------------------- */

typedef double (*metric_fn)(const rtml_eval *);
typedef struct {
    const char *name;
    metric_fn cumulative, windowed;
} metric;

static const metric binary_metrics[] = {
    {"accuracy", rtml_eval_accuracy, rtml_eval_window_accuracy},
    {"logloss", rtml_eval_logloss, rtml_eval_window_logloss},
    {"auc", rtml_eval_auc, rtml_eval_window_auc},
    {"precision", rtml_eval_precision, rtml_eval_window_precision},
    {"recall", rtml_eval_recall, rtml_eval_window_recall},
    {"f1", rtml_eval_f1, rtml_eval_window_f1},
};
static const metric multiclass_metrics[] = {
    {"accuracy", rtml_eval_accuracy, rtml_eval_window_accuracy},
    {"logloss", rtml_eval_logloss, rtml_eval_window_logloss},
    {"macro_f1", rtml_eval_macro_f1, rtml_eval_window_macro_f1},
};
static const metric regression_metrics[] = {
    {"mae", rtml_eval_mae, rtml_eval_window_mae},
    {"rmse", rtml_eval_rmse, rtml_eval_window_rmse},
    {"r2", rtml_eval_r2, rtml_eval_window_r2},
};

void rtml_eval_json(const rtml_eval *ev, rtml_buf *out) {
    if (ev->n == 0) return;
    const metric *m = binary_metrics;
    size_t n = sizeof binary_metrics / sizeof *binary_metrics;
    if (ev->task == RTML_TASK_MULTICLASS) {
        m = multiclass_metrics;
        n = sizeof multiclass_metrics / sizeof *multiclass_metrics;
    } else if (ev->task == RTML_TASK_REGRESSION) {
        m = regression_metrics;
        n = sizeof regression_metrics / sizeof *regression_metrics;
    }
    for (size_t i = 0; i < n; i++) {
        rtml_buf_printf(out, "%s\"%s\":", i ? "," : "", m[i].name);
        rtml_buf_put_double(out, m[i].cumulative(ev));
    }
    for (size_t i = 0; i < n; i++) {
        rtml_buf_printf(out, ",\"window_%s\":", m[i].name);
        rtml_buf_put_double(out, m[i].windowed(ev));
    }
}

/* ---- state: the evaluation resumes with the model after a restart ------------------------------------ *
 * Layout 1: u32 version | u32 task | u64 n_outputs, window | u64 n | f64 sum_loss, sum_abs | u64 correct |
 * welford (u64 n, f64 mean, f64 m2) | u64 filled, head, win_correct | ring points (f64 score, label, loss,
 * u32 pred, truth) | cm and win_cm cells (u64) | AUC bins (u64, binary). */
#define EVAL_LAYOUT 1

void rtml_eval_save(const rtml_eval *ev, rtml_writer *w) {
    rtml_w_u32(w, EVAL_LAYOUT);
    rtml_w_u32(w, (uint32_t)ev->task);
    rtml_w_u64(w, ev->n_outputs);
    rtml_w_u64(w, ev->window);
    rtml_w_u64(w, ev->n);
    rtml_w_f64(w, ev->sum_loss);
    rtml_w_f64(w, ev->sum_abs);
    rtml_w_u64(w, ev->correct);
    rtml_w_u64(w, ev->y.n);
    rtml_w_f64(w, ev->y.mean);
    rtml_w_f64(w, ev->y.m2);
    rtml_w_u64(w, ev->filled);
    rtml_w_u64(w, ev->head);
    rtml_w_u64(w, ev->win_correct);
    for (size_t i = 0; i < ev->window; i++) {
        const rtml_eval_point *q = &ev->ring[i];
        rtml_w_f64(w, q->score);
        rtml_w_f64(w, q->label);
        rtml_w_f64(w, q->loss);
        rtml_w_u32(w, q->pred);
        rtml_w_u32(w, q->truth);
    }
    size_t cells = ev->n_classes * ev->n_classes;
    for (size_t i = 0; i < cells; i++) rtml_w_u64(w, ev->cm[i]);
    for (size_t i = 0; i < cells; i++) rtml_w_u64(w, ev->win_cm[i]);
    for (size_t i = 0; ev->auc_pos && i < 2 * (size_t)RTML_EVAL_AUC_BINS; i++) rtml_w_u64(w, ev->auc_pos[i]);
}

int rtml_eval_load(rtml_eval *ev, rtml_reader *r, char *err, size_t errlen) {
    if (rtml_r_u32(r) != EVAL_LAYOUT) return rtml_fail(err, errlen, "evaluation state: unknown layout");
    uint32_t task = rtml_r_u32(r);
    uint64_t n_outputs = rtml_r_u64(r), window = rtml_r_u64(r);
    if (r->failed || task != (uint32_t)ev->task || n_outputs != ev->n_outputs || window != ev->window)
        return rtml_fail(err, errlen, "evaluation state: made for another task, class count or window");
    rtml_eval t = *ev; /* read into a copy of the scalars; arrays are written only once all of it was read */
    t.n = rtml_r_u64(r);
    t.sum_loss = rtml_r_f64(r);
    t.sum_abs = rtml_r_f64(r);
    t.correct = rtml_r_u64(r);
    t.y.n = rtml_r_u64(r);
    t.y.mean = rtml_r_f64(r);
    t.y.m2 = rtml_r_f64(r);
    t.filled = rtml_r_u64(r);
    t.head = rtml_r_u64(r);
    t.win_correct = rtml_r_u64(r);
    size_t cells = ev->n_classes * ev->n_classes, bins = ev->auc_pos ? 2 * (size_t)RTML_EVAL_AUC_BINS : 0;
    size_t need = window * 32 + (2 * cells + bins) * 8;
    if (r->failed || r->len - r->pos < need || t.filled > window || t.head >= window)
        return rtml_fail(err, errlen, "evaluation state: truncated or inconsistent");
    for (size_t i = 0; i < window; i++) {
        rtml_eval_point *q = &ev->ring[i];
        q->score = rtml_r_f64(r);
        q->label = rtml_r_f64(r);
        q->loss = rtml_r_f64(r);
        q->pred = rtml_r_u32(r);
        q->truth = rtml_r_u32(r);
    }
    for (size_t i = 0; i < cells; i++) ev->cm[i] = rtml_r_u64(r);
    for (size_t i = 0; i < cells; i++) ev->win_cm[i] = (uint32_t)rtml_r_u64(r);
    for (size_t i = 0; i < bins; i++) ev->auc_pos[i] = rtml_r_u64(r);
    t.ring = ev->ring, t.cm = ev->cm, t.win_cm = ev->win_cm, t.auc_pos = ev->auc_pos, t.auc_neg = ev->auc_neg;
    *ev = t;
    return 0;
}
