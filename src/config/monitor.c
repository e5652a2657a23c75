/* monitor.c — the sections about watching a running pipeline: monitor, drift and log.
 *
 *   monitor: {listen: 127.0.0.1:9464}   # /metrics, /healthz, /readyz, /model, /api/stats and the dashboard;
 *                                       # port 0 picks a free port (logged)
 *            stalled_after: 30s         # /healthz answers 503 "stalled" when the pipeline loop is silent
 *                                       # this long (a liveness probe's cue; default 30 s)
 *   drift:
 *     detector: adwin                   # adwin (default) | page_hinkley | ddm (classification only)
 *     action: alert                     # alert (default): metric, log line, event record
 *                                       # reset: a fresh model (feature statistics kept)
 *                                       # rollback: the model of the newest checkpoint before the change
 *     topic: rtml-drift                 # optional: one JSON event record per detection
 *     delta: 0.002                      # the detector's settings (detector.h); a key the detector does not use
 *     threshold: 50                     # is an error, as everywhere: it would silently do nothing
 *     alpha: 0.9999
 *     min_instances: 30
 *     warning_level: 2.0
 *     drift_level: 3.0
 *   log: {level: info, format: text}    # text (default) | json lines; RTML_LOG_LEVEL/RTML_LOG_FORMAT win
 *
 * reset and rollback replace the native engines' model in place; a TensorFlow model is a SavedModel the
 * user exported, which rtml cannot re-initialise, so with engine: tensorflow only alert is accepted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/monitor.h"
#include "config/config.h"
#include "config/sections.h"

static const char *const DRIFT_KEYS[] = {"detector", "action", "topic", "delta", "threshold", "alpha",
                                         "min_instances", "warning_level", "drift_level", NULL};
enum { D_DETECTOR, D_ACTION, D_TOPIC, D_DELTA, D_THRESHOLD, D_ALPHA, D_MIN, D_WARNING, D_DRIFT };
static const char *const DETECTOR_NAMES[] = {"adwin", "page_hinkley", "ddm"}; /* RTML_DRIFT_ADWIN.. */
static const char *const ACTION_NAMES[] = {"alert", "reset", "rollback"};
static const char *const LEVEL_NAMES[] = {"error", "warn", "info", "debug"};
static const char *const LOG_FORMAT_NAMES[] = {"text", "json"};

int rtml_cfg_monitor_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"listen", "stalled_after", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    const char *s;
    if (cfg_fields(c, map, "monitor", keys, v) != 0) return -1;
    if (!v[0]) return cfg_fail(c, cfg_line(map), "monitor.listen", "required");
    if (cfg_get_string(c, v[0], "monitor.listen", &s) != 0) return -1;
    if (!cfg_listen_ok(s))
        return cfg_fail(c, cfg_line(v[0]), "monitor.listen",
                        "must be HOST:PORT with a port 0..65535 (0: any free port), got '%.60s'", s);
    if (v[1] && cfg_get_duration(c, v[1], "monitor.stalled_after", &cfg->monitor.stalled_after_s) != 0) return -1;
    return cfg_dup_string(c, v[0], "monitor.listen", &cfg->monitor.listen);
}

/* A detector setting: only where the detector uses it. */
static int drift_param(const cfg_ctx *c, yaml_node_t *const *v, int idx, rtml_drift_kind kind, double *out) {
    char key[CFG_PATH];
    if (!v[idx]) return 0;
    cfg_join_key(key, "drift", DRIFT_KEYS[idx]);
    if (!rtml_drift_uses(kind, DRIFT_KEYS[idx]))
        return cfg_fail(c, cfg_line(v[idx]), key, "not a setting of detector %s", rtml_drift_kind_name(kind));
    return cfg_get_number(c, v[idx], key, NUM_POSITIVE, out);
}

static int drift_settings(const cfg_ctx *c, yaml_node_t *const *v, rtml_config *cfg) {
    rtml_drift_kind kind = cfg->drift.detector;
    if (drift_param(c, v, D_DELTA, kind, &cfg->drift.delta) || drift_param(c, v, D_THRESHOLD, kind, &cfg->drift.threshold) ||
        drift_param(c, v, D_ALPHA, kind, &cfg->drift.alpha) || drift_param(c, v, D_WARNING, kind, &cfg->drift.warning_level) ||
        drift_param(c, v, D_DRIFT, kind, &cfg->drift.drift_level))
        return -1;
    if (!isnan(cfg->drift.alpha) && cfg->drift.alpha > 1)
        return cfg_fail(c, cfg_line(v[D_ALPHA]), "drift.alpha", "must be in (0, 1], got %g", cfg->drift.alpha);
    if (v[D_MIN]) {
        size_t n;
        if (!rtml_drift_uses(kind, "min_instances"))
            return cfg_fail(c, cfg_line(v[D_MIN]), "drift.min_instances", "not a setting of detector %s",
                            rtml_drift_kind_name(kind));
        if (cfg_get_count(c, v[D_MIN], "drift.min_instances", 1, 100000000, &n) != 0) return -1;
        cfg->drift.min_instances = n;
    }
    return 0;
}

int rtml_cfg_drift_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "drift", DRIFT_KEYS, v) != 0) return -1;
    cfg->drift.enabled = true;
    cfg->drift.delta = cfg->drift.threshold = cfg->drift.alpha = NAN;
    cfg->drift.warning_level = cfg->drift.drift_level = NAN;
    size_t i;
    cfg->drift.detector = RTML_DRIFT_ADWIN;
    cfg->drift.action = RTML_DRIFT_ALERT;
    if (v[D_DETECTOR]) {
        if (cfg_get_enum(c, v[D_DETECTOR], "drift.detector", "drift detector", DETECTOR_NAMES, COUNT(DETECTOR_NAMES), &i))
            return -1;
        cfg->drift.detector = (rtml_drift_kind)(RTML_DRIFT_ADWIN + i);
    }
    if (v[D_ACTION]) {
        if (cfg_get_enum(c, v[D_ACTION], "drift.action", "drift action", ACTION_NAMES, COUNT(ACTION_NAMES), &i)) return -1;
        cfg->drift.action = (rtml_drift_action)i;
    }
    if (v[D_TOPIC] && cfg_dup_string(c, v[D_TOPIC], "drift.topic", &cfg->drift.topic) != 0) return -1;
    return drift_settings(c, v, cfg);
}

/* After the model section: what the detector and the action need of the model. */
int rtml_cfg_drift_check(const cfg_ctx *c, rtml_config *cfg) {
    if (!cfg->drift.enabled) return 0;
    if (cfg->drift.detector == RTML_DRIFT_DDM && cfg->model.task == RTML_TASK_REGRESSION)
        return cfg_fail(c, 1, "drift.detector",
                        "ddm watches a 0/1 error rate: use adwin or page_hinkley for a regression model");
    if (cfg->drift.action != RTML_DRIFT_ALERT && rtml_config_is_tensorflow(cfg))
        return cfg_fail(c, 1, "drift.action",
                        "%s needs a native engine (a SavedModel cannot be re-initialised by rtml); use alert",
                        rtml_drift_action_name(cfg->drift.action));
    return 0;
}

int rtml_cfg_log_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"level", "format", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "log", keys, v) != 0) return -1;
    if (v[0] && cfg_dup_enum(c, v[0], "log.level", "log level", LEVEL_NAMES, COUNT(LEVEL_NAMES), &cfg->log.level))
        return -1;
    if (v[1] && cfg_dup_enum(c, v[1], "log.format", "log format", LOG_FORMAT_NAMES, COUNT(LOG_FORMAT_NAMES),
                             &cfg->log.format))
        return -1;
    return 0;
}

const char *rtml_drift_action_name(rtml_drift_action a) { return (unsigned)a < COUNT(ACTION_NAMES) ? ACTION_NAMES[a] : "?"; }

void rtml_cfg_monitor_free(rtml_config *cfg) { free(cfg->monitor.listen); }

void rtml_cfg_drift_free(rtml_config *cfg) { free(cfg->drift.topic); }

void rtml_cfg_log_free(rtml_config *cfg) {
    free(cfg->log.level);
    free(cfg->log.format);
}

static void print_param(FILE *out, const char *key, double v) {
    if (isnan(v)) return;
    fprintf(out, "  %s: ", key);
    cfg_put_num(out, v);
    fputc('\n', out);
}

void rtml_cfg_monitor_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->monitor.listen) return;
    fputs("monitor:\n  listen: ", out);
    cfg_put_str(out, cfg->monitor.listen);
    fputs("\n  stalled_after: ", out);
    cfg_put_num(out, cfg->monitor.stalled_after_s ? cfg->monitor.stalled_after_s : 30);
    fputs("s\n", out);
}

void rtml_cfg_drift_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->drift.enabled) return;
    fprintf(out, "drift:\n  detector: %s\n  action: %s\n", rtml_drift_kind_name(cfg->drift.detector),
            rtml_drift_action_name(cfg->drift.action));
    if (cfg->drift.topic) {
        fputs("  topic: ", out);
        cfg_put_str(out, cfg->drift.topic);
        fputc('\n', out);
    }
    print_param(out, "delta", cfg->drift.delta);
    print_param(out, "threshold", cfg->drift.threshold);
    print_param(out, "alpha", cfg->drift.alpha);
    if (cfg->drift.min_instances) fprintf(out, "  min_instances: %llu\n", cfg->drift.min_instances);
    print_param(out, "warning_level", cfg->drift.warning_level);
    print_param(out, "drift_level", cfg->drift.drift_level);
}

void rtml_cfg_log_print(const rtml_config *cfg, FILE *out) {
    if (cfg->log.level || cfg->log.format)
        fprintf(out, "log:\n  level: %s\n  format: %s\n", cfg->log.level ? cfg->log.level : "info",
                cfg->log.format ? cfg->log.format : "text");
}
