/* drift_actions.c — the pipeline's drift detector (drift.h) and what it can do to the model.
 *
 * Every record that is evaluated (test-then-train: scored before it is learned) feeds its error to the
 * detector: 0/1 for classification (the prediction the output record shows, against the label), |error| for
 * regression. When the detector fires, the pipeline records a drift event (rtml_drift_event) and, depending
 * on drift.action:
 *   alert     nothing more here: the host logs it, counts it and sends an event record (run/status.c);
 *   reset     once the batch is learned, the engine is replaced by a fresh one of the same shape: the model
 *             forgets the old concept; feature statistics, metrics and class names are kept;
 *   rollback  the host (which knows the checkpoints) loads the model and feature statistics of the newest
 *             checkpoint written before the change began (rtml_drift_state.change_at), or resets when there
 *             is none; `rtml replay`, which has no checkpoints, resets.
 * Either action gives the model a new version (the `model_version` of the prediction records), and starts
 * the detector afresh, since the new model's errors are a new stream.
 *
 * The "drift" checkpoint section keeps the model version, the event count and the detector, so a restart
 * goes on where it stopped. A detector saved with other settings than the config's is started afresh (with
 * a warning) rather than failing the checkpoint: changing drift settings must not strand the model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "config/monitor.h"
#include "pipeline/drift_actions.h"
#include "pipeline/model.h"
#include "base/rtml.h"

/* The detector's settings: rtml's defaults, overridden by the config's. River's defaults alarm on stationary
 * 0/1 error streams of 1M records (measured over 100 seeds: Page-Hinkley on every one, DDM on 23-41 %,
 * mostly in its first few hundred values, ADWIN on 7-19 %), so rtml's are quieter (docs/drift.md):
 *   ADWIN delta 1e-5 (0 alarms in 100 seeds; an abrupt drift is still caught in 144-432 records);
 *   Page-Hinkley delta 0.01, threshold 100, alpha 1: River's faded sum (alpha 0.9999) wanders with a standard
 *   deviation of ~21 against a threshold of 50; without fading, one excursion above 100 has odds of about
 *   exp(-2 * 0.01 * 100 / 0.12) ~ 6e-8;
 *   DDM warm start 1000 values instead of 30 (its early alarms come from a start of all-zero errors). */
static void drift_params(const rtml_config *cfg, rtml_drift_params *p) {
    rtml_drift_kind kind = cfg->drift.detector;
    rtml_drift_defaults(kind, p);
    if (kind == RTML_DRIFT_ADWIN) p->delta = 0.00001;
    if (kind == RTML_DRIFT_PAGE_HINKLEY) p->delta = 0.01, p->threshold = 100, p->alpha = 1;
    if (kind == RTML_DRIFT_DDM) p->min_instances = 1000;
    if (!isnan(cfg->drift.delta)) p->delta = cfg->drift.delta;
    if (!isnan(cfg->drift.threshold)) p->threshold = cfg->drift.threshold;
    if (!isnan(cfg->drift.alpha)) p->alpha = cfg->drift.alpha;
    if (!isnan(cfg->drift.warning_level)) p->warning_level = cfg->drift.warning_level;
    if (!isnan(cfg->drift.drift_level)) p->drift_level = cfg->drift.drift_level;
    if (cfg->drift.min_instances) p->min_instances = cfg->drift.min_instances;
}

int rtml_pipeline_drift_open(rtml_pipeline *p, char *err, size_t errlen) {
    if (!p->cfg->drift.enabled) return 0;
    rtml_drift_params dp;
    drift_params(p->cfg, &dp);
    if (rtml_drift_params_check(&dp, err, errlen) != 0) return -1;
    if (!(p->drift = rtml_drift_new(&dp))) return rtml_fail(err, errlen, "out of memory");
    p->drift_action = p->cfg->drift.action;
    return 0;
}

static double error_of(const rtml_pipeline *p, const double *s, double y) {
    if (p->engine->task == RTML_TASK_REGRESSION) return fabs(s[0] - y);
    if (p->engine->task == RTML_TASK_BINARY) return (s[0] >= 0.5) != (y >= 0.5);
    return (double)rtml_pipeline_best_class(p, s) != y; /* the class the prediction record names */
}

/* The error over the evaluation window (the last 1000 evaluated records): classification 1 - accuracy,
 * regression MAE. */
static double recent_error(const rtml_pipeline *p) {
    if (p->engine->task == RTML_TASK_REGRESSION) return rtml_eval_window_mae(&p->eval);
    return 1 - rtml_eval_window_accuracy(&p->eval);
}

/* The detectors are two-sided: they fire on any change of the error's mean, also when it falls, as it does
 * while a model learns (from its first record, or after a reset). Only a rise is a drift worth acting on:
 * the recent error above the detector's estimate over its whole window before this value. A fall is counted
 * (drift_improvements) and otherwise ignored; without this, a reset would trigger the next one as the fresh
 * model learned. */
void rtml_pipeline_drift_observe(rtml_pipeline *p, const double *scores, double y) {
    if (!p->drift) return;
    rtml_drift_state before;
    rtml_drift_state_get(p->drift, &before);
    if (!rtml_drift_update(p->drift, error_of(p, scores, y))) return;
    if (!(recent_error(p) > before.estimation)) {
        p->drift_improvements++;
        return;
    }
    rtml_drift_state st;
    rtml_drift_state_get(p->drift, &st);
    p->drift_events++;
    p->last_drift = (rtml_drift_event){.at_wall = rtml_wall_time(), .evaluated = st.seen, .change_at = st.change_at,
                                       .estimation = st.estimation, .model_version = p->model_version,
                                       .action = p->drift_action};
    if (p->drift_action == RTML_DRIFT_RESET) p->drift_reset_due = true;
    if (p->drift_action == RTML_DRIFT_ROLLBACK) p->drift_rollback_due = true;
}

/* A new model version, and a detector that starts afresh on its errors. */
static void new_version(rtml_pipeline *p) {
    p->model_version++;
    if (p->drift) rtml_drift_reset(p->drift);
}

int rtml_pipeline_reset_model(rtml_pipeline *p, char *err, size_t errlen) {
    p->drift_reset_due = p->drift_rollback_due = false;
    rtml_shape shape = rtml_featurizer_shape(p->features);
    if (p->engine->task == RTML_TASK_MULTICLASS) shape.n_classes = p->cfg->model.n_classes;
    rtml_engine *fresh = rtml_engine_open(p->cfg, &shape, err, errlen);
    if (!fresh) return -1;
    rtml_engine_close(p->engine);
    p->engine = fresh;
    new_version(p);
    return 0;
}

int rtml_pipeline_rollback(rtml_pipeline *p, const void *image, size_t len, char *err, size_t errlen) {
    p->drift_reset_due = p->drift_rollback_due = false;
    if (rtml_state_check(image, len, err, errlen) != 0) return -1;
    rtml_reader fr, mr;
    if (!rtml_state_section(image, len, "features", &fr) || !rtml_state_section(image, len, "model", &mr))
        return rtml_fail(err, errlen, "the checkpoint lacks the features or model section");
    size_t nlen;
    const char *name = rtml_r_str(&mr, &nlen);
    uint64_t learned = rtml_r_u64(&mr);
    if (!name || nlen != strlen(p->engine->ops->name) || memcmp(name, p->engine->ops->name, nlen) != 0)
        return rtml_fail(err, errlen, "the checkpoint holds another model");
    /* Load into a fresh engine first, so a failure leaves the current model serving. */
    rtml_shape shape = rtml_featurizer_shape(p->features);
    if (p->engine->task == RTML_TASK_MULTICLASS) shape.n_classes = p->cfg->model.n_classes;
    rtml_engine *older = rtml_engine_open(p->cfg, &shape, err, errlen);
    if (!older) return -1;
    if (older->ops->load(older, &mr, err, errlen) != 0 || rtml_featurizer_load(p->features, &fr, err, errlen) != 0) {
        rtml_engine_close(older);
        return -1;
    }
    older->learned = learned;
    rtml_engine_close(p->engine);
    p->engine = older;
    new_version(p);
    return 0;
}

bool rtml_pipeline_drift_seen_in(const void *image, size_t len, uint64_t *seen) {
    rtml_reader r;
    if (!rtml_state_section(image, len, "drift", &r)) return false;
    rtml_r_u64(&r); /* model version */
    rtml_r_u64(&r); /* events */
    *seen = rtml_r_u64(&r);
    return !r.failed;
}

/* Section "drift": u64 model version | u64 events | u64 values seen | u32 has detector | detector state. */
void rtml_pipeline_drift_save(const rtml_pipeline *p, rtml_writer *w) {
    rtml_drift_state st = {0};
    if (p->drift) rtml_drift_state_get(p->drift, &st);
    rtml_w_u64(w, (uint64_t)p->model_version);
    rtml_w_u64(w, p->drift_events);
    rtml_w_u64(w, st.seen);
    rtml_w_u32(w, p->drift != NULL);
    if (p->drift) rtml_drift_save(p->drift, w);
}

int rtml_pipeline_drift_load(rtml_pipeline *p, rtml_reader *r, char *err, size_t errlen) {
    uint64_t version = rtml_r_u64(r), events = rtml_r_u64(r);
    rtml_r_u64(r); /* values seen: the detector's own state has it */
    uint32_t has = rtml_r_u32(r);
    if (r->failed || version < 1 || version > INT64_MAX || has > 1)
        return rtml_fail(err, errlen, "state file: the drift section is damaged");
    p->model_version = (int64_t)version;
    p->drift_events = events;
    if (has && p->drift) {
        char why[RTML_ERRLEN];
        if (rtml_drift_load(p->drift, r, why, sizeof why) != 0)
            rtml_log(RTML_LOG_WARN, "drift detector: the checkpoint's cannot be used (%s); starting it afresh", why);
    }
    return 0;
}

void rtml_drift_event_json(const rtml_pipeline *p, const rtml_drift_event *e, rtml_buf *out) {
    rtml_buf_puts(out, "{\"t\":");
    rtml_buf_put_double(out, e->at_wall);
    rtml_buf_printf(out, ",\"record\":%llu,\"change_at\":%llu,\"estimation\":", (unsigned long long)e->evaluated,
                    (unsigned long long)e->change_at);
    rtml_buf_put_double(out, e->estimation);
    rtml_buf_printf(out, ",\"detector\":\"%s\",\"action\":\"%s\",\"model_version\":%lld}",
                    rtml_drift_kind_name(p->cfg->drift.detector), rtml_drift_action_name(e->action), (long long)e->model_version);
}

void rtml_pipeline_drift_report(const rtml_pipeline *p, rtml_buf *out) {
    if (!p->drift) return;
    rtml_buf_printf(out, ",\"drift\":{\"detector\":\"%s\",\"action\":\"%s\",\"events\":%llu,\"improvements\":%llu,"
                    "\"model_version\":%lld}", rtml_drift_kind_name(p->cfg->drift.detector),
                    rtml_drift_action_name(p->cfg->drift.action),
                    (unsigned long long)p->drift_events, (unsigned long long)p->drift_improvements,
                    (long long)rtml_pipeline_model_version(p));
}
