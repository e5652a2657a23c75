/* scale.c — the settings for running more than one rtml: workers, the instance's role, the model topic.
 *
 *   workers: 2                  # group members in this process, each a whole pipeline on its own thread
 *                               # (run/workers.c); auto: one per core. Default 1.
 *   role: both                  # both (default): score and learn, and publish versions when models.topic is set
 *                               # trainer: learn and publish versions; no predictions (output.topic optional)
 *                               # predictor: score with the newest published version (or the pinned one),
 *                               #            switching as new ones arrive; learns nothing
 *   models:
 *     topic: fraud-models       # a compacted topic of model versions (modelbus.h); created if missing
 *     publish_every: 10s        # trainer/both: a new version this often, when something was learned
 *     keep: 20                  # versions kept; older ones are deleted (tombstones), never the pinned one
 *
 * Versions carry the native engines' state (weights, optimizer, feature statistics, class names); a
 * TensorFlow model is a SavedModel directory on the trainer's disk, so engine: tensorflow cannot use the
 * model topic yet (refused here, naming the key). */
#include "config/scale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"
#include <unistd.h>

#include "config/monitor.h"
#include "config/config.h"
#include "config/sections.h"

static const char *const ROLE_NAMES[] = {"both", "predictor", "trainer"};

int rtml_cfg_role_parse(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    size_t i;
    if (cfg_get_enum(c, n, "role", "role", ROLE_NAMES, COUNT(ROLE_NAMES), &i) != 0) return -1;
    cfg->role = (rtml_role)i;
    cfg->role_line = cfg_line(n);
    return 0;
}

int rtml_cfg_models_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"topic", "publish_every", "keep", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "models", keys, v) != 0) return -1;
    if (!v[0]) return cfg_fail(c, cfg_line(map), "models.topic", "required");
    if (cfg_dup_string(c, v[0], "models.topic", &cfg->models.topic) != 0) return -1;
    if (!cfg->models.topic[0]) return cfg_fail(c, cfg_line(v[0]), "models.topic", "must not be empty");
    if (v[1]) {
        if (cfg_get_duration(c, v[1], "models.publish_every", &cfg->models.publish_every_s) != 0) return -1;
        if (!(cfg->models.publish_every_s > 0))
            return cfg_fail(c, cfg_line(v[1]), "models.publish_every", "must be positive");
    }
    if (v[2]) {
        size_t keep;
        if (cfg_get_count(c, v[2], "models.keep", 1, 1000000, &keep) != 0) return -1;
        cfg->models.keep = (unsigned)keep;
    }
    return 0;
}

/* workers: N (1..256) or auto: group members in this one process (run/workers.c). */
int rtml_cfg_workers_parse(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    cfg->workers_line = cfg_line(n);
    const char *s = cfg_text(n);
    if (s && !strcmp(s, "auto")) {
        cfg->workers_auto = true;
        return 0;
    }
    size_t k;
    if (cfg_get_count(c, n, "workers", 1, 256, &k) != 0) return -1;
    cfg->workers = (unsigned)k;
    return 0;
}

unsigned rtml_config_workers(const rtml_config *cfg) {
    if (!cfg->workers_auto) return cfg->workers ? cfg->workers : 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

/* After the whole file: a role other than both needs the model topic, and the topic needs a native engine;
 * several workers need a native engine and no model writer. */
int rtml_cfg_role_check(const cfg_ctx *c, rtml_config *cfg) {
    if (cfg->workers_auto || cfg->workers > 1) {
        if (rtml_config_is_tensorflow(cfg))
            return cfg_fail(c, cfg->workers_line, "workers",
                            "engine: tensorflow supports one worker per process (each would load its own SavedModel "
                            "and runtime); use workers: 1 with more instances, or TensorFlow's own threads");
        if (cfg->models.topic && cfg->role != RTML_ROLE_PREDICTOR)
            return cfg_fail(c, cfg->workers_line, "workers",
                            "a %s publishes model versions, and one topic has one writer: use workers: 1 (predictors "
                            "may have several)", ROLE_NAMES[cfg->role]);
    }
    if (cfg->role != RTML_ROLE_BOTH && !cfg->models.topic)
        return cfg_fail(c, cfg->role_line, "role", "%s needs models.topic (the topic that carries the model versions)",
                        ROLE_NAMES[cfg->role]);
    if (cfg->role == RTML_ROLE_PREDICTOR && cfg->drift.enabled && cfg->drift.action != RTML_DRIFT_ALERT)
        return cfg_fail(c, cfg->role_line, "role",
                        "a predictor serves the trainer's versions; drift.action %s would replace them (use alert, "
                        "or put the action on the trainer)", rtml_drift_action_name(cfg->drift.action));
    if (cfg->models.topic && rtml_config_is_tensorflow(cfg))
        return cfg_fail(c, 1, "models.topic",
                        "model versions in a topic carry the native engines' state; a TensorFlow SavedModel is "
                        "not supported there yet (remove models and role)");
    return 0;
}

const char *rtml_role_name(rtml_role r) { return (unsigned)r < COUNT(ROLE_NAMES) ? ROLE_NAMES[r] : "?"; }

void rtml_cfg_models_free(rtml_config *cfg) { free(cfg->models.topic); }

void rtml_cfg_role_print(const rtml_config *cfg, FILE *out) { fprintf(out, "role: %s\n", ROLE_NAMES[cfg->role]); }

void rtml_cfg_workers_print(const rtml_config *cfg, FILE *out) {
    if (cfg->workers_auto) fputs("workers: auto\n", out);
    else fprintf(out, "workers: %u\n", cfg->workers ? cfg->workers : 1);
}

void rtml_cfg_models_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->models.topic) return;
    fputs("models:\n  topic: ", out);
    cfg_put_str(out, cfg->models.topic);
    fputs("\n  publish_every: ", out);
    cfg_put_num(out, rtml_models_publish_every(cfg));
    fprintf(out, "s\n  keep: %u\n", rtml_models_keep(cfg));
}

/* "<value>-worker-<K>" into *dst (freed first). */
static int suffix(char **dst, const char *value, unsigned k) {
    size_t n = strlen(value) + 32;
    char *s = malloc(n);
    if (!s) return -1;
    snprintf(s, n, "%s-worker-%u", value, k);
    free(*dst);
    *dst = s;
    return 0;
}

int rtml_config_for_worker(rtml_config *cfg, unsigned index, char *err, size_t errlen) {
    size_t n = strlen(cfg->state.dir) + 32;
    char *dir = malloc(n);
    if (!dir) return rtml_fail(err, errlen, "out of memory");
    snprintf(dir, n, "%s/worker-%u", cfg->state.dir, index);
    free(cfg->state.dir);
    cfg->state.dir = dir;
    /* Static membership and transactions need one identity per member: the same suffix keeps each stable
     * across restarts (worker K of a restart takes over worker K's partitions and fences its zombie). */
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        rtml_kv *kv = &cfg->kafka[i];
        if ((!strcmp(kv->key, "group.instance.id") || !strcmp(kv->key, "transactional.id")) && *kv->value &&
            suffix(&kv->value, kv->value, index) != 0)
            return rtml_fail(err, errlen, "out of memory");
    }
    const char *colon = cfg->monitor.listen ? strrchr(cfg->monitor.listen, ':') : NULL;
    if (colon) {
        long port = strtol(colon + 1, NULL, 10);
        if (port > 0) { /* port 0 (any free one) stays 0: each worker logs its own */
            if (port + index > 65535)
                return rtml_fail(err, errlen, "monitor.listen: worker %u's port %ld is past 65535", index,
                                 port + (long)index);
            size_t m = (size_t)(colon - cfg->monitor.listen) + 8;
            char *listen = malloc(m);
            if (!listen) return rtml_fail(err, errlen, "out of memory");
            snprintf(listen, m, "%.*s:%ld", (int)(colon - cfg->monitor.listen), cfg->monitor.listen,
                     port + (long)index);
            free(cfg->monitor.listen);
            cfg->monitor.listen = listen;
        }
    }
    return 0;
}
