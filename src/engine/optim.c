/* optim.c — the optimizers, schedules, clipping and losses the native engines share (see optim.h for the
 * exact formulas and why they are River's). */
#include "engine/optim.h"

#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"
#include "config/model.h"

static double or_default(double v, double d) { return v == 0 ? d : v; }

int rtml_optim_settings_from(const rtml_config *cfg, rtml_optim_settings *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->kind = cfg->model.optimizer;
    out->schedule = cfg->model.schedule;
    out->lr = or_default(cfg->model.learning_rate, 0.05);
    out->power_t = cfg->model.power_t;
    out->decay_every = or_default(cfg->model.decay_every, 10000);
    out->decay_rate = or_default(cfg->model.decay_rate, 0.5);
    out->l2 = cfg->model.l2;
    out->clip = cfg->model.clip_gradient;
    if (out->lr < 0) return rtml_fail(err, errlen, "model.learning_rate: must be > 0, got %g", out->lr);
    if (out->l2 < 0) return rtml_fail(err, errlen, "model.l2: must be >= 0, got %g", out->l2);
    if (out->decay_every < 0) return rtml_fail(err, errlen, "model.decay_every: must be > 0, got %g", out->decay_every);
    if (out->decay_rate < 0 || out->decay_rate > 1)
        return rtml_fail(err, errlen, "model.decay_rate: must be in (0, 1], got %g", out->decay_rate);
    return 0;
}

int rtml_optim_init(rtml_optim *o, const rtml_optim_settings *s, size_t n, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    o->set = *s;
    o->n = n;
    int need1 = s->kind == RTML_OPT_MOMENTUM || s->kind == RTML_OPT_ADAM;
    int need2 = s->kind == RTML_OPT_ADAGRAD || s->kind == RTML_OPT_ADAM;
    if (need1 && !(o->s1 = calloc(n, sizeof *o->s1))) goto oom;
    if (need2 && !(o->s2 = calloc(n, sizeof *o->s2))) goto oom;
    return 0;
oom:
    rtml_optim_free(o);
    return rtml_fail(err, errlen, "out of memory for the optimizer state of %zu parameters", n);
}

void rtml_optim_free(rtml_optim *o) {
    free(o->s1);
    free(o->s2);
    o->s1 = o->s2 = NULL;
}

double rtml_optim_schedule(const rtml_optim_settings *s, uint64_t t) {
    switch (s->schedule) {
    case RTML_SCHED_INVERSE_SCALING: return s->lr / pow((double)t + 1.0, s->power_t);
    case RTML_SCHED_STEP: return s->lr * pow(s->decay_rate, floor((double)t / s->decay_every));
    case RTML_SCHED_CONSTANT: break;
    }
    return s->lr;
}

void rtml_optim_begin(rtml_optim *o) {
    o->rate = rtml_optim_schedule(&o->set, o->t);
    if (o->set.kind == RTML_OPT_ADAM) {
        double t1 = (double)o->t + 1.0;
        o->rate *= sqrt(1.0 - pow(RTML_ADAM_B2, t1)) / (1.0 - pow(RTML_ADAM_B1, t1));
    }
}

double rtml_clip_scale(double clip, double sumsq) {
    if (clip <= 0 || sumsq <= clip * clip) return 1.0;
    return clip / sqrt(sumsq);
}

void rtml_optim_save(const rtml_optim *o, rtml_writer *w) {
    rtml_w_u32(w, (uint32_t)o->set.kind);
    rtml_w_u64(w, o->n);
    rtml_w_u64(w, o->t);
    if (o->s1) rtml_w_f64s(w, o->s1, o->n);
    if (o->s2) rtml_w_f64s(w, o->s2, o->n);
}

int rtml_optim_load(rtml_optim *o, rtml_reader *r, char *err, size_t errlen) {
    uint32_t kind = rtml_r_u32(r);
    uint64_t n = rtml_r_u64(r), t = rtml_r_u64(r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated (optimizer)");
    if (kind != (uint32_t)o->set.kind)
        return rtml_fail(err, errlen, "model was trained with optimizer '%s', the config says '%s'",
                         rtml_opt_name((rtml_opt_kind)kind), rtml_opt_name(o->set.kind));
    if (n != o->n)
        return rtml_fail(err, errlen, "optimizer state has %llu parameters, the config makes %zu",
                         (unsigned long long)n, o->n);
    o->t = t;
    if (o->s1) rtml_r_f64s(r, o->s1, o->n);
    if (o->s2) rtml_r_f64s(r, o->s2, o->n);
    return r->failed ? rtml_fail(err, errlen, "model state is truncated (optimizer slots)") : 0;
}

double rtml_sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

void rtml_softmax(const double *z, size_t k, double *p) {
    double max = z[0], sum = 0;
    for (size_t i = 1; i < k; i++)
        if (z[i] > max) max = z[i];
    for (size_t i = 0; i < k; i++) sum += (p[i] = exp(z[i] - max));
    for (size_t i = 0; i < k; i++) p[i] /= sum;
}

int rtml_reg_loss_from(const rtml_config *cfg, rtml_reg_loss *loss, double *delta, char *err, size_t errlen) {
    *loss = cfg->model.loss;
    *delta = or_default(cfg->model.huber_delta, 1.0);
    if (*delta < 0) return rtml_fail(err, errlen, "model.huber_delta: must be > 0, got %g", *delta);
    return 0;
}

double rtml_reg_grad(rtml_reg_loss loss, double delta, double pred, double y) {
    double r = pred - y;
    if (loss == RTML_LOSS_HUBER && fabs(r) > delta) return r > 0 ? delta : -delta;
    return r;
}

double rtml_reg_loss_value(rtml_reg_loss loss, double delta, double pred, double y) {
    double r = fabs(pred - y);
    if (loss == RTML_LOSS_HUBER && r > delta) return delta * (r - 0.5 * delta);
    return 0.5 * r * r;
}
