/* status.c — what `rtml run` shows of itself: the monitor's documents, the dashboard's history and the
 * librdkafka statistics it reads lag from (status.h, monitor/monitor.h).
 *
 * Everything here runs in the loop's thread. Each loop iteration calls rtml_run_monitor_tick(): once a
 * second it takes a history sample (rates, latency quantiles over that second, lag, windowed quality, model
 * version), and when a request waits or a second has passed it renders /metrics, /model and /api/stats and
 * publishes them (monitor.h explains the hand-over). Rendering costs tens of microseconds per partition,
 * once a second: nothing on the per-record path.
 * Drift events are drift.c's; the history keeps their markers (rtml_run_monitor_event). */
#include "run/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/checkpoint.h"
#include "base/json_write.h"
#include "base/clock.h"
#include "codec/json.h"
#include "kafka/kstats.h"
#include "base/log.h"
#include "monitor/procstat.h"
#include "base/rtml.h"
#include "run/models.h"
#include "run/prometheus.h"
#include "config/model.h"
#include "config/monitor.h"
#include "config/scale.h"
#include "config/redact.h"
#include "pipeline/drift_actions.h"
#include "pipeline/model.h"

#define HISTORY 900     /* samples kept for the dashboard: one a second, 15 minutes */
#define MAX_EVENTS 100  /* drift events kept for the dashboard */
#define RENDER_EVERY_S 1.0

typedef struct {
    double t;                     /* unix seconds */
    double in_rate, out_rate;     /* records/s over the last interval */
    double p50_ms, p99_ms;        /* end-to-end latency over the last interval (NaN: none acknowledged) */
    int64_t lag;                  /* total consumer lag (-1: unknown) */
    int64_t version;
    double q[2];                  /* windowed quality: accuracy, logloss (regression: mae, rmse) */
    int64_t *lags;                /* per offsets slot (-1: unknown), n_lags of them (owned) */
    size_t n_lags;
} sample;

struct rtml_run_history {
    sample s[HISTORY];
    size_t head, count;           /* ring: the oldest is s[(head + HISTORY - count) % HISTORY] */
    rtml_hist e2e_before;         /* the latency histogram at the previous sample */
    uint64_t in_before, out_before;
    double t_before;              /* monotonic */
    rtml_drift_event events[MAX_EVENTS];
    size_t n_events;              /* the newest MAX_EVENTS, oldest first */
};

/* ---- set-up ------------------------------------------------------------------------------------------ */

int rtml_run_monitor_open(rtml_runner *r, char *err, size_t errlen) {
    if (rtml_metrics_init(&r->mon.metrics) != 0) return rtml_fail(err, errlen, "out of memory");
    r->mon.started_wall = rtml_wall_time();
    if (!r->cfg.monitor.listen) return 0;
    if (!(r->mon.history = calloc(1, sizeof *r->mon.history)) ||
        rtml_hist_init(&r->mon.history->e2e_before, rtml_hist_latency_bounds, rtml_hist_latency_n) != 0)
        return rtml_fail(err, errlen, "out of memory");
    r->mon.history->t_before = rtml_now();
    double stalled = r->cfg.monitor.stalled_after_s > 0 ? r->cfg.monitor.stalled_after_s : 30;
    if (!(r->mon.monitor = rtml_monitor_start(r->cfg.monitor.listen, stalled, err, errlen))) return -1;
    const char *colon = strrchr(r->cfg.monitor.listen, ':');
    rtml_log(RTML_LOG_INFO, "monitor: http://%.*s:%d/ (metrics at /metrics)", (int)(colon - r->cfg.monitor.listen),
             r->cfg.monitor.listen, rtml_monitor_port(r->mon.monitor));
    return 0;
}

void rtml_run_monitor_close(rtml_runner *r) {
    rtml_monitor_stop(r->mon.monitor);
    r->mon.monitor = NULL;
    if (r->mon.history) {
        for (size_t i = 0; i < HISTORY; i++) free(r->mon.history->s[i].lags);
        rtml_hist_free(&r->mon.history->e2e_before);
        free(r->mon.history);
        r->mon.history = NULL;
    }
    rtml_buf_free(&r->mon.docs.metrics);
    rtml_buf_free(&r->mon.docs.model);
    rtml_buf_free(&r->mon.docs.stats);
    rtml_metrics_free(&r->mon.metrics);
}

/* ---- librdkafka statistics: consumer lag --------------------------------------------------------------- */

int rtml_run_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    rtml_runner *r = opaque;
    rtml_kstats st;
    char err[RTML_ERRLEN];
    if (rtml_kstats_parse(json, len, &st, err, sizeof err) != 0) {
        rtml_log_every(RTML_LOG_WARN, ++r->mon.metrics.stats_failed, 3, 10, "librdkafka statistics: %s", err);
        return 0;
    }
    r->mon.metrics.stats_received++;
    for (size_t i = 0; i < st.n; i++) {
        int slot = rtml_offsets_find(&r->offsets, st.parts[i].topic, st.parts[i].partition);
        rtml_part_metrics *pm = slot >= 0 ? rtml_metrics_part(&r->mon.metrics, slot) : NULL;
        if (!pm) continue;
        const rtml_kstats_partition *k = &st.parts[i];
        int64_t end = r->exactly_once && k->ls_offset >= 0 ? k->ls_offset : k->hi_offset;
        pm->lag = end >= 0 && k->app_offset >= 0 ? (end > k->app_offset ? end - k->app_offset : 0)
                  : end >= 0 && k->committed_offset >= 0 ? end - k->committed_offset : -1;
        pm->committed_lag = k->consumer_lag;
        pm->hi_offset = k->hi_offset;
    }
    rtml_kstats_free(&st);
    return 0; /* librdkafka frees json */
}

/* ---- shared figures ----------------------------------------------------------------------------------- */

static int64_t total_lag(const rtml_runner *r) {
    int64_t sum = -1;
    for (size_t i = 0; i < r->mon.metrics.n && i < r->offsets.n; i++)
        if (r->offsets.parts[i].assigned && r->mon.metrics.parts[i].lag >= 0)
            sum = (sum < 0 ? 0 : sum) + r->mon.metrics.parts[i].lag;
    return sum;
}

static bool any_assigned(const rtml_runner *r) {
    for (size_t i = 0; i < r->offsets.n; i++)
        if (r->offsets.parts[i].assigned) return true;
    return false;
}

static bool is_regression(const rtml_runner *r) { return r->pipe.engine->task == RTML_TASK_REGRESSION; }

static void quality(const rtml_runner *r, double q[2]) {
    const rtml_eval *ev = &r->pipe.eval;
    q[0] = is_regression(r) ? rtml_eval_window_mae(ev) : rtml_eval_window_accuracy(ev);
    q[1] = is_regression(r) ? rtml_eval_window_rmse(ev) : rtml_eval_window_logloss(ev);
}

static void put_num(rtml_buf *b, double v) {
    if (isfinite(v)) rtml_buf_put_double(b, v);
    else rtml_buf_puts(b, "null");
}

/* ---- history ------------------------------------------------------------------------------------------ */

static void take_sample(rtml_runner *r, double now) {
    struct rtml_run_history *h = r->mon.history;
    sample *s = &h->s[h->head];
    double dt = now - h->t_before;
    s->t = rtml_wall_time();
    s->in_rate = dt > 0 ? (double)(r->pipe.records - h->in_before) / dt : 0;
    s->out_rate = dt > 0 ? (double)(r->out.delivered - h->out_before) / dt : 0;
    s->p50_ms = rtml_hist_quantile(&r->mon.metrics.e2e, &h->e2e_before, 0.5) * 1000;
    s->p99_ms = rtml_hist_quantile(&r->mon.metrics.e2e, &h->e2e_before, 0.99) * 1000;
    s->lag = total_lag(r);
    s->version = rtml_pipeline_model_version(&r->pipe);
    quality(r, s->q);
    int64_t *lags = realloc(s->lags, (r->offsets.n ? r->offsets.n : 1) * sizeof *lags);
    if (lags) {
        s->lags = lags;
        s->n_lags = r->offsets.n;
        for (size_t i = 0; i < r->offsets.n; i++)
            lags[i] = i < r->mon.metrics.n && r->offsets.parts[i].assigned ? r->mon.metrics.parts[i].lag : -1;
    } else {
        s->n_lags = 0;
    }
    h->head = (h->head + 1) % HISTORY;
    if (h->count < HISTORY) h->count++;
    rtml_hist_copy(&h->e2e_before, &r->mon.metrics.e2e);
    h->in_before = r->pipe.records;
    h->out_before = r->out.delivered;
    h->t_before = now;
}

static const sample *nth_sample(const struct rtml_run_history *h, size_t i) {
    return &h->s[(h->head + HISTORY - h->count + i) % HISTORY];
}

/* One series of the history as a JSON array: field(sample) for every sample. */
typedef double (*sample_field)(const sample *s, size_t arg);
static double f_in(const sample *s, size_t a) { (void)a; return s->in_rate; }
static double f_out(const sample *s, size_t a) { (void)a; return s->out_rate; }
static double f_p50(const sample *s, size_t a) { (void)a; return s->p50_ms; }
static double f_p99(const sample *s, size_t a) { (void)a; return s->p99_ms; }
static double f_lag(const sample *s, size_t a) { (void)a; return s->lag >= 0 ? (double)s->lag : NAN; }
static double f_version(const sample *s, size_t a) { (void)a; return (double)s->version; }
static double f_q(const sample *s, size_t a) { return s->q[a]; }
static double f_part_lag(const sample *s, size_t slot) {
    return slot < s->n_lags && s->lags[slot] >= 0 ? (double)s->lags[slot] : NAN;
}
static double f_t(const sample *s, size_t a) { (void)a; return s->t; }

static void put_series(const struct rtml_run_history *h, sample_field f, size_t arg, rtml_buf *b) {
    rtml_buf_putc(b, '[');
    for (size_t i = 0; i < h->count; i++) {
        if (i) rtml_buf_putc(b, ',');
        put_num(b, f(nth_sample(h, i), arg));
    }
    rtml_buf_putc(b, ']');
}

/* ---- /api/stats ---------------------------------------------------------------------------------------- */

static void put_model_head(const rtml_runner *r, rtml_buf *b) {
    const rtml_engine *e = r->pipe.engine;
    /* A TensorFlow model's type is its SavedModel (model.type is a native learner's setting). */
    const char *type = rtml_config_is_tensorflow(&r->cfg) ? "saved_model" : rtml_model_type_name(r->cfg.model.type);
    rtml_buf_printf(b, "\"engine\":\"%s\",\"type\":", rtml_engine_kind_name(r->cfg.model.engine));
    rtml_json_put_string(b, type, strlen(type));
    rtml_buf_printf(b, ",\"task\":\"%s\",\"version\":%lld,\"learned\":%llu", rtml_task_name(e->task),
                    (long long)rtml_pipeline_model_version(&r->pipe), (unsigned long long)r->pipe.learned);
}

static void render_stats(rtml_runner *r, bool ready, const char *reason, rtml_buf *b) {
    const struct rtml_run_history *h = r->mon.history;
    rtml_buf_reset(b);
    rtml_buf_printf(b, "{\"version\":\"%s\",\"pid\":%d,\"started_at\":", RTML_VERSION, (int)getpid());
    rtml_buf_put_double(b, r->mon.started_wall);
    rtml_buf_puts(b, ",\"now\":");
    rtml_buf_put_double(b, rtml_wall_time());
    rtml_buf_printf(b, ",\"ready\":%s,\"ready_reason\":", ready ? "true" : "false");
    rtml_json_put_string(b, reason, strlen(reason));
    rtml_buf_puts(b, ",\"model\":{");
    put_model_head(r, b);
    int64_t lag = total_lag(r);
    rtml_buf_printf(b, "},\"totals\":{\"consumed\":%llu,\"produced\":%llu,\"learned\":%llu,\"dead_letters\":%llu,"
                    "\"lag\":", (unsigned long long)r->pipe.records, r->out.delivered,
                    (unsigned long long)r->pipe.learned, r->out.dead_letters);
    put_num(b, lag >= 0 ? (double)lag : NAN);
    rtml_buf_puts(b, "},\"series\":{\"t\":");
    put_series(h, f_t, 0, b);
    static const struct { const char *name; sample_field f; } cols[] = {
        {"in_rate", f_in}, {"out_rate", f_out}, {"p50_ms", f_p50}, {"p99_ms", f_p99}, {"lag", f_lag},
        {"model_version", f_version}};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        rtml_buf_printf(b, ",\"%s\":", cols[i].name);
        put_series(h, cols[i].f, 0, b);
    }
    const char *q0 = is_regression(r) ? "mae" : "accuracy", *q1 = is_regression(r) ? "rmse" : "logloss";
    rtml_buf_printf(b, ",\"quality\":{\"%s\":", q0);
    put_series(h, f_q, 0, b);
    rtml_buf_printf(b, ",\"%s\":", q1);
    put_series(h, f_q, 1, b);
    rtml_buf_puts(b, "}},\"lag\":{");
    for (size_t i = 0; i < r->offsets.n; i++) {
        rtml_buf_printf(b, "%s\"%s/%d\":", i ? "," : "", r->offsets.parts[i].topic, (int)r->offsets.parts[i].partition);
        put_series(h, f_part_lag, i, b);
    }
    rtml_buf_puts(b, "},\"drift_events\":[");
    for (size_t i = 0; i < h->n_events; i++) {
        if (i) rtml_buf_putc(b, ',');
        rtml_drift_event_json(&r->pipe, &h->events[i], b);
    }
    rtml_buf_puts(b, "]}");
}

/* ---- /model ---------------------------------------------------------------------------------------------- */

static void render_model(rtml_runner *r, rtml_buf *b) {
    rtml_buf_reset(b);
    rtml_buf_putc(b, '{');
    put_model_head(r, b);
    rtml_buf_printf(b, ",\"model_learned\":%llu,\"evaluated\":%llu,\"metrics\":{",
                    (unsigned long long)r->pipe.engine->learned, (unsigned long long)r->pipe.eval.n);
    rtml_eval_json(&r->pipe.eval, b);
    rtml_buf_puts(b, "},\"features\":");
    rtml_featurizer_json(r->pipe.features, b);
    rtml_buf_printf(b, ",\"checkpoint\":{\"seq\":%llu,\"dir\":", (unsigned long long)r->ckpt.seq);
    rtml_json_put_string(b, r->cfg.state.dir, strlen(r->cfg.state.dir));
    rtml_buf_puts(b, "}");
    rtml_buf_printf(b, ",\"role\":\"%s\"", rtml_role_name(r->cfg.role));
    if (r->models) {
        rtml_run_models_stats ms;
        rtml_run_models_counts(r, &ms);
        rtml_buf_puts(b, ",\"models\":{\"topic\":");
        rtml_json_put_string(b, r->cfg.models.topic, strlen(r->cfg.models.topic));
        rtml_buf_printf(b, ",\"newest\":%lld,\"pinned\":%lld,\"published\":%llu,\"swaps\":%llu}",
                        (long long)ms.newest, (long long)ms.pinned, (unsigned long long)ms.published,
                        (unsigned long long)ms.swaps);
    }
    if (r->pipe.drift) {
        rtml_drift_state st;
        rtml_drift_state_get(r->pipe.drift, &st);
        rtml_buf_printf(b, ",\"drift\":{\"detector\":\"%s\",\"action\":\"%s\",\"events\":%llu,\"estimation\":",
                        rtml_drift_kind_name(r->cfg.drift.detector), rtml_drift_action_name(r->cfg.drift.action),
                        (unsigned long long)r->pipe.drift_events);
        put_num(b, st.estimation);
        rtml_buf_printf(b, ",\"width\":%llu,\"warning\":%s}", (unsigned long long)st.width, st.warning ? "true" : "false");
    }
    /* The client settings, as `rtml check` shows them: a secret is never shown (redact.c). */
    rtml_buf_puts(b, ",\"kafka\":{");
    for (size_t i = 0; i < r->cfg.n_kafka; i++) {
        const rtml_kv *kv = &r->cfg.kafka[i];
        const char *v = rtml_config_is_secret(kv->key) ? "[redacted]" : kv->value;
        if (i) rtml_buf_putc(b, ',');
        rtml_json_put_string(b, kv->key, strlen(kv->key));
        rtml_buf_putc(b, ':');
        rtml_json_put_string(b, v, strlen(v));
    }
    rtml_buf_puts(b, "}}");
}

/* ---- publishing ------------------------------------------------------------------------------------------- */

void rtml_run_monitor_tick(rtml_runner *r, double now) {
    if (!r->mon.monitor) return;
    if (now - r->mon.history->t_before >= 1.0) take_sample(r, now);
    if (!rtml_monitor_wanted(r->mon.monitor) && now - r->mon.rendered < RENDER_EVERY_S) return;
    r->mon.rendered = now;
    bool assigned = any_assigned(r);
    r->mon.docs.ready = assigned && !rtml_run_failed(r);
    snprintf(r->mon.docs.ready_reason, sizeof r->mon.docs.ready_reason, "%s",
             rtml_run_failed(r) ? "stopping on an error" : assigned ? "ok" : "no input partition assigned yet");
    rtml_run_render_metrics(r, &r->mon.docs.metrics);
    render_model(r, &r->mon.docs.model);
    render_stats(r, r->mon.docs.ready, r->mon.docs.ready_reason, &r->mon.docs.stats);
    rtml_monitor_publish(r->mon.monitor, &r->mon.docs);
}

void rtml_run_monitor_event(rtml_runner *r, const rtml_drift_event *e) {
    struct rtml_run_history *h = r->mon.history;
    if (!h) return;
    if (h->n_events == MAX_EVENTS) memmove(h->events, h->events + 1, (MAX_EVENTS - 1) * sizeof *h->events);
    else h->n_events++;
    h->events[h->n_events - 1] = *e;
}
