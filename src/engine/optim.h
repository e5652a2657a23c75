/* optim.h — what the gradient-trained native engines (linear, softmax, mlp) share: the optimizers, the
 * learning-rate schedules, L2, gradient clipping and the output losses, so that each engine computes a
 * gradient and nothing else.
 *
 * Optimizers (per parameter j, gradient g, step rate r_t from the schedule). The formulas are River's
 * (river.optim), so that rtml and River make the same updates from the same gradients:
 *   sgd:      w -= r_t * g
 *   momentum: s = 0.9 * s + r_t * g;  w -= s                                (River Momentum, rho = 0.9)
 *   adagrad:  G += g^2;  w -= r_t * g / sqrt(G + 1e-8)                       (River AdaGrad, eps = 1e-8)
 *   adam:     m = 0.9 m + 0.1 g;  v = 0.999 v + 0.001 g^2;
 *             w -= r_t * sqrt(1 - 0.999^(t+1)) / (1 - 0.9^(t+1)) * m / (sqrt(v) + 1e-8)   (River Adam)
 * Schedules (t = the number of optimizer steps taken before this one, 0 for the first):
 *   constant:        r_t = lr
 *   inverse_scaling: r_t = lr / (t + 1)^power_t        (River optim.schedulers.InverseScaling, same t)
 *   step:            r_t = lr * decay_rate^floor(t / decay_every)
 * A step: rtml_optim_begin() fixes r_t for step t, rtml_optim_update() moves any number of parameters
 * (only those a row touches: sparse updates are lazy, and slots of untouched parameters do not decay —
 * River's dict optimizers behave the same), rtml_optim_end() counts the step.
 * L2 (model.l2) is added by the engines to the gradient of weights, never biases: g += l2 * w.
 * Clipping (model.clip_gradient > 0): the gradient of one step (all parameters it touches, L2 included) is
 * scaled so that its L2 norm is at most clip_gradient; rtml_clip_scale() gives the factor. */
#ifndef RTML_OPTIM_H
#define RTML_OPTIM_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "base/binfmt.h"
#include "config/config.h"

#define RTML_MOMENTUM_RHO 0.9
#define RTML_ADAGRAD_EPS 1e-8
#define RTML_ADAM_B1 0.9
#define RTML_ADAM_B2 0.999
#define RTML_ADAM_EPS 1e-8

/* The optimizer settings of a config, defaults applied (a zero learning_rate, decay_every or decay_rate,
 * as in a hand-built config, means the documented default; a zero power_t is taken as given: no decay). */
typedef struct {
    rtml_opt_kind kind;
    rtml_sched_kind schedule;
    double lr, power_t, decay_every, decay_rate;
    double l2, clip;
} rtml_optim_settings;

/* 0, or -1 naming the bad key (a hand-built config's out-of-range number; a file's is caught by config/). */
int rtml_optim_settings_from(const rtml_config *cfg, rtml_optim_settings *out, char *err, size_t errlen);

/* An optimizer over n parameters: its slots (NULL when the kind needs none) and its step count. */
typedef struct {
    rtml_optim_settings set;
    size_t n;
    double *s1;   /* momentum: velocity; adam: m */
    double *s2;   /* adagrad: sum of g^2; adam: v */
    uint64_t t;   /* steps taken */
    double rate;  /* this step's rate (set by rtml_optim_begin), adam's bias corrections folded in */
} rtml_optim;

/* Slots are calloc'ed: for a 2^20-input model the pages of untouched parameters are never committed. */
int rtml_optim_init(rtml_optim *o, const rtml_optim_settings *s, size_t n, char *err, size_t errlen);
void rtml_optim_free(rtml_optim *o);

/* The schedule's rate at step t. */
double rtml_optim_schedule(const rtml_optim_settings *s, uint64_t t);
void rtml_optim_begin(rtml_optim *o);
static inline void rtml_optim_end(rtml_optim *o) { o->t++; }

/* w[j] -= the optimizer's move for gradient g (within a begin/end pair). */
static inline void rtml_optim_update(rtml_optim *o, double *w, size_t j, double g) {
    switch (o->set.kind) {
    case RTML_OPT_SGD: w[j] -= o->rate * g; break;
    case RTML_OPT_MOMENTUM:
        o->s1[j] = RTML_MOMENTUM_RHO * o->s1[j] + o->rate * g;
        w[j] -= o->s1[j];
        break;
    case RTML_OPT_ADAGRAD:
        o->s2[j] += g * g;
        w[j] -= o->rate * g / sqrt(o->s2[j] + RTML_ADAGRAD_EPS);
        break;
    case RTML_OPT_ADAM:
        o->s1[j] = RTML_ADAM_B1 * o->s1[j] + (1 - RTML_ADAM_B1) * g;
        o->s2[j] = RTML_ADAM_B2 * o->s2[j] + (1 - RTML_ADAM_B2) * g * g;
        w[j] -= o->rate * o->s1[j] / (sqrt(o->s2[j]) + RTML_ADAM_EPS);
        break;
    }
}

/* The factor (<= 1) that brings a gradient of squared norm sumsq within clip; 1 when clip <= 0. */
double rtml_clip_scale(double clip, double sumsq);

/* State: kind, n, t and the slots. Load checks the kind and n against the config's. */
void rtml_optim_save(const rtml_optim *o, rtml_writer *w);
int rtml_optim_load(rtml_optim *o, rtml_reader *r, char *err, size_t errlen);

/* Output functions and losses. */
double rtml_sigmoid(double z);
/* p = softmax(z) over k values, stable (the max is subtracted first); p may alias z. */
void rtml_softmax(const double *z, size_t k, double *p);
/* model.loss / model.huber_delta for regression: 0, or -1 with the reason. */
int rtml_reg_loss_from(const rtml_config *cfg, rtml_reg_loss *loss, double *delta, char *err, size_t errlen);
/* d loss / d prediction: squared (0.5 r^2): r; huber: r clipped to [-delta, delta]; r = pred - y. */
double rtml_reg_grad(rtml_reg_loss loss, double delta, double pred, double y);
/* The loss itself (tests and gradient checks). */
double rtml_reg_loss_value(rtml_reg_loss loss, double delta, double pred, double y);

#endif
