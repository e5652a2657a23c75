/* label.c — the label section: where a record's truth comes from.
 *
 *   label: {field: /is_fraud}      # in the record itself: learned right after it is scored
 *
 *   label:                         # or later, on a topic of its own, joined by key (pipeline/join.h, pipeline/labels.c)
 *     topic: fraud-labels
 *     key: /txn_id                 # the join key in a label record; "@key": the Kafka message key
 *     value: /is_fraud             # the label in a label record
 *     feature_key: /txn_id         # the join key in a feature record (default: the same as key)
 *     ttl: 7d                      # a scored record waits this long for its label (label stream time)
 *     wait: 60s                    # a label that came before its record waits this long (feature stream time)
 *     max_pending: 1000000         # scored records waiting, at most (the oldest are evicted beyond)
 *     max_early: 100000            # labels waiting for their record, at most
 *
 * Label records are JSON. A label topic needs one consumer that sees both topics' keys: the native engines
 * (a pending row is a feature row; TensorFlow's raw inputs are not kept) and one worker per process. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"

#define DEFAULT_TTL_S (7 * 86400.0)
#define DEFAULT_WAIT_S 60.0
#define DEFAULT_MAX_PENDING 1000000
#define DEFAULT_MAX_EARLY 100000

/* A JSON Pointer, or "@key" where the Kafka key may stand in. */
static int dup_key(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out) {
    const char *s = cfg_text(n);
    if (s && !strcmp(s, "@key")) return cfg_dup_string(c, n, key, out);
    return cfg_dup_pointer(c, n, key, out);
}

int rtml_cfg_label_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"field", "topic", "key", "value", "feature_key", "ttl", "wait",
                                       "max_pending", "max_early", NULL};
    enum { F_FIELD, F_TOPIC, F_KEY, F_VALUE, F_FEATURE_KEY, F_TTL, F_WAIT, F_MAX_PENDING, F_MAX_EARLY };
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "label", keys, v) != 0) return -1;
    cfg->label.line = cfg_line(map);
    cfg->label.ttl_s = DEFAULT_TTL_S, cfg->label.wait_s = DEFAULT_WAIT_S;
    cfg->label.max_pending = DEFAULT_MAX_PENDING, cfg->label.max_early = DEFAULT_MAX_EARLY;
    if (v[F_FIELD] && v[F_TOPIC])
        return cfg_fail(c, cfg_line(v[F_TOPIC]), "label.topic",
                        "label.field (a label inside each record) and label.topic (labels on their own topic) "
                        "exclude each other: choose one");
    if (!v[F_FIELD] && !v[F_TOPIC]) return cfg_fail(c, cfg_line(map), "label.field", "required (or label.topic)");
    if (v[F_FIELD]) {
        for (int i = F_KEY; i <= F_MAX_EARLY; i++)
            if (v[i]) {
                char key[CFG_PATH];
                cfg_join_key(key, "label", keys[i]);
                return cfg_fail(c, cfg_line(v[i]), key, "only applies with label.topic");
            }
        return cfg_dup_pointer(c, v[F_FIELD], "label.field", &cfg->label.field);
    }
    if (cfg_dup_string(c, v[F_TOPIC], "label.topic", &cfg->label.topic) != 0) return -1;
    if (!cfg->label.topic[0]) return cfg_fail(c, cfg_line(v[F_TOPIC]), "label.topic", "must not be empty");
    if (!v[F_KEY]) return cfg_fail(c, cfg_line(map), "label.key", "required with label.topic (the join key)");
    if (!v[F_VALUE]) return cfg_fail(c, cfg_line(map), "label.value", "required with label.topic (the label)");
    if (dup_key(c, v[F_KEY], "label.key", &cfg->label.key) != 0) return -1;
    if (cfg_dup_pointer(c, v[F_VALUE], "label.value", &cfg->label.value) != 0) return -1;
    if (dup_key(c, v[F_FEATURE_KEY] ? v[F_FEATURE_KEY] : v[F_KEY], "label.feature_key", &cfg->label.feature_key) != 0)
        return -1;
    if (v[F_TTL] && cfg_get_duration(c, v[F_TTL], "label.ttl", &cfg->label.ttl_s) != 0) return -1;
    if (v[F_WAIT] && cfg_get_duration(c, v[F_WAIT], "label.wait", &cfg->label.wait_s) != 0) return -1;
    if (v[F_MAX_PENDING] &&
        cfg_get_count(c, v[F_MAX_PENDING], "label.max_pending", 1, 1000000000, &cfg->label.max_pending) != 0)
        return -1;
    if (v[F_MAX_EARLY] && cfg_get_count(c, v[F_MAX_EARLY], "label.max_early", 0, 1000000000, &cfg->label.max_early) != 0)
        return -1;
    return 0;
}

/* After the whole file: what a label topic cannot be combined with (yet), each refusal naming its key. */
int rtml_cfg_label_check(const cfg_ctx *c, rtml_config *cfg) {
    if (!cfg->label.topic) return 0;
    if (rtml_config_is_tensorflow(cfg))
        return cfg_fail(c, cfg->label.line, "label.topic",
                        "delayed labels keep each scored record's feature row until its label comes; engine: "
                        "tensorflow reads raw inputs that are not kept (use a native model, or label.field)");
    if (cfg->workers_auto || cfg->workers > 1)
        return cfg_fail(c, cfg->workers_line, "workers",
                        "with label.topic one consumer must read both a record and its label; Kafka assigns the "
                        "two topics' partitions independently, so use workers: 1 (docs/labels.md)");
    for (size_t i = 0; i < cfg->input.n_topics; i++)
        if (!strcmp(cfg->input.topics[i], cfg->label.topic))
            return cfg_fail(c, cfg->label.line, "label.topic", "'%s' is also an input topic", cfg->label.topic);
    return 0;
}

void rtml_cfg_label_free(rtml_config *cfg) {
    free(cfg->label.field);
    free(cfg->label.topic);
    free(cfg->label.key);
    free(cfg->label.value);
    free(cfg->label.feature_key);
}

void rtml_cfg_label_print(const rtml_config *cfg, FILE *out) {
    if (cfg->label.field) {
        fputs("label:\n  field: ", out);
        cfg_put_str(out, cfg->label.field);
        fputc('\n', out);
        return;
    }
    if (!cfg->label.topic) return;
    const char *names[] = {"topic", "key", "value", "feature_key"};
    const char *vals[] = {cfg->label.topic, cfg->label.key, cfg->label.value, cfg->label.feature_key};
    fputs("label:\n", out);
    for (size_t i = 0; i < COUNT(names); i++) {
        fprintf(out, "  %s: ", names[i]);
        cfg_put_str(out, vals[i]);
        fputc('\n', out);
    }
    fputs("  ttl: ", out);
    cfg_put_num(out, cfg->label.ttl_s);
    fputs("s\n  wait: ", out);
    cfg_put_num(out, cfg->label.wait_s);
    fprintf(out, "s\n  max_pending: %zu\n  max_early: %zu\n", cfg->label.max_pending, cfg->label.max_early);
}
