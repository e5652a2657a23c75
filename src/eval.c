/* eval.c — prequential metrics (see eval.h). */
#include "eval.h"

#include <math.h>
#include <stdlib.h>

int rtml_eval_init(rtml_eval *ev, rtml_task task, size_t n_outputs, size_t window) {
    *ev = (rtml_eval){.task = task, .n_outputs = n_outputs, .window = window ? window : 1};
    ev->ring = calloc(ev->window, sizeof *ev->ring);
    return ev->ring ? 0 : -1;
}

static double clip_probability(double p) { return fmin(fmax(p, 1e-15), 1 - 1e-15); }

static rtml_eval_point point_of(const rtml_eval *ev, const double *scores, double label) {
    rtml_task task = ev->task;
    double score = scores[0];
    if (task == RTML_TASK_MULTICLASS) {
        size_t best = 0, truth = (size_t)label;
        for (size_t k = 1; k < ev->n_outputs; k++)
            if (scores[k] > scores[best]) best = k;
        double p = truth < ev->n_outputs ? clip_probability(scores[truth]) : 1e-15;
        return (rtml_eval_point){best == truth, -log(p)};
    }
    if (task == RTML_TASK_BINARY) {
        double p = clip_probability(score);
        int predicted = score >= 0.5;
        int truth = label >= 0.5;
        return (rtml_eval_point){predicted == truth, truth ? -log(p) : -log(1 - p)};
    }
    double d = score - label;
    return (rtml_eval_point){fabs(d), d * d};
}

void rtml_eval_add(rtml_eval *ev, const double *scores, double label) {
    rtml_eval_point pt = point_of(ev, scores, label);
    ev->n++;
    ev->sum_a += pt.correct_or_abs;
    ev->sum_b += pt.loss;
    if (ev->filled == ev->window) {
        ev->win_a -= ev->ring[ev->head].correct_or_abs;
        ev->win_b -= ev->ring[ev->head].loss;
    } else {
        ev->filled++;
    }
    ev->ring[ev->head] = pt;
    ev->win_a += pt.correct_or_abs;
    ev->win_b += pt.loss;
    ev->head = (ev->head + 1) % ev->window;
}

void rtml_eval_free(rtml_eval *ev) {
    free(ev->ring);
    ev->ring = NULL;
}

static double mean_or_nan(double sum, uint64_t n) { return n ? sum / (double)n : NAN; }

double rtml_eval_accuracy(const rtml_eval *ev) { return mean_or_nan(ev->sum_a, ev->n); }
double rtml_eval_logloss(const rtml_eval *ev) { return mean_or_nan(ev->sum_b, ev->n); }
double rtml_eval_mae(const rtml_eval *ev) { return mean_or_nan(ev->sum_a, ev->n); }
double rtml_eval_rmse(const rtml_eval *ev) { return sqrt(mean_or_nan(ev->sum_b, ev->n)); }
double rtml_eval_window_accuracy(const rtml_eval *ev) { return mean_or_nan(ev->win_a, ev->filled); }

void rtml_eval_json(const rtml_eval *ev, rtml_buf *out) {
    if (ev->n == 0) return;
    if (ev->task != RTML_TASK_REGRESSION) {
        rtml_buf_puts(out, "\"accuracy\":");
        rtml_buf_put_double(out, rtml_eval_accuracy(ev));
        rtml_buf_puts(out, ",\"logloss\":");
        rtml_buf_put_double(out, rtml_eval_logloss(ev));
        rtml_buf_puts(out, ",\"window_accuracy\":");
        rtml_buf_put_double(out, rtml_eval_window_accuracy(ev));
    } else {
        rtml_buf_puts(out, "\"mae\":");
        rtml_buf_put_double(out, rtml_eval_mae(ev));
        rtml_buf_puts(out, ",\"rmse\":");
        rtml_buf_put_double(out, rtml_eval_rmse(ev));
    }
}
