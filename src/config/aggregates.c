/* aggregates.c — the aggregates section: features over the recent past of a key (features/aggregate.c computes
 * them; docs/features.md has the semantics).
 *
 *   aggregates:                                  # a list, or a mapping with the shared settings and `list:`
 *     time: /ts                                  # event time: a JSON Pointer (epoch s or ms, ISO-8601), or
 *                                                # "@timestamp" (the Kafka timestamp; default)
 *     lateness: 1m                               # out of order by at most this much: placed in its windows
 *     max_keys: 1000000                          # per key field; the least recently updated key goes first
 *     ttl: 7d                                    # a key without a record for this long (event time) goes
 *     max_events: 100000                         # events kept per key (the oldest go first, counted)
 *     distinct_cap: 10000                        # distinct: exact up to this many values, then HyperLogLog
 *     partitioned: false                         # true: the input is keyed by the aggregates' key already
 *     repartition_topic: fraud-aggregates        # else records are re-keyed through this topic (default
 *                                                # "<group.id>-aggregates", created with the input's partitions)
 *     list:
 *       - {name: card_count_10m, key: /card_id, fn: count, window: 10m}
 *       - {name: card_amount_1h, key: /card_id, field: /amount, fn: mean, window: 1h}
 *       - {name: card_amount_ewm, key: /card_id, field: /amount, fn: mean, half_life: 1h}
 *       - {name: card_since_last, key: /card_id, fn: time_since_last}
 *       - {name: card_amount_max, key: /card_id, field: /amount, fn: max, window: 1d, missing: skip}
 *
 * missing: skip lets a record without the field count for no value (the default rejects it, missing_field); it goes
 * with a window or the whole history, not with half_life.
 * fn needs a field unless it is count or time_since_last; half_life goes with count, sum and mean only, and not
 * with a window. The rest of the rules (a feature reads an aggregate by name) are features.c's. */
#include "config/aggregates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"
#include "config/config.h"
#include "config/sections.h"

#define DEFAULT_MAX_KEYS 1000000
#define DEFAULT_MAX_EVENTS 100000
#define DEFAULT_DISTINCT_CAP 10000
#define DEFAULT_TTL_S (7 * 86400.0)

static const char *const FN_NAMES[] = {"count", "sum", "mean", "min", "max", "std", "distinct", "last",
                                       "time_since_last"};

const char *rtml_agg_fn_name(rtml_agg_fn fn) { return (unsigned)fn < COUNT(FN_NAMES) ? FN_NAMES[fn] : "?"; }

double rtml_aggregates_ttl(const rtml_config *cfg) {
    return cfg->aggregates.ttl_s > 0 ? cfg->aggregates.ttl_s : DEFAULT_TTL_S;
}

static bool needs_field(rtml_agg_fn fn) { return fn != RTML_AGG_COUNT && fn != RTML_AGG_TIME_SINCE_LAST; }

/* A JSON Pointer, or the Kafka key / timestamp where it may stand in. */
static int dup_source(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *special, char **out) {
    const char *s = cfg_text(n);
    if (s && !strcmp(s, special)) return cfg_dup_string(c, n, key, out);
    return cfg_dup_pointer(c, n, key, out);
}

enum { A_NAME, A_KEY, A_FIELD, A_FN, A_WINDOW, A_HALF_LIFE, A_MISSING };

/* What the function and its time span allow together. */
static int check_one(const cfg_ctx *c, yaml_node_t *const *v, const rtml_aggregate *a, const char *path) {
    char key[CFG_PATH];
    if (needs_field(a->fn) && !a->field)
        return cfg_fail(c, a->line, path, "fn %s needs a field (the value it aggregates)", rtml_agg_fn_name(a->fn));
    if (!needs_field(a->fn) && a->field) {
        cfg_join_key(key, path, "field");
        return cfg_fail(c, cfg_line(v[A_FIELD]), key, "fn %s reads no field", rtml_agg_fn_name(a->fn));
    }
    if (a->fn == RTML_AGG_DISTINCT && !v[A_WINDOW])
        return cfg_fail(c, a->line, path, "fn distinct needs a window (distinct values over all history are not kept)");
    if (v[A_HALF_LIFE] && v[A_WINDOW]) {
        cfg_join_key(key, path, "half_life");
        return cfg_fail(c, cfg_line(v[A_HALF_LIFE]), key, "give a window or a half_life, not both");
    }
    if (v[A_HALF_LIFE] && a->fn != RTML_AGG_COUNT && a->fn != RTML_AGG_SUM && a->fn != RTML_AGG_MEAN) {
        cfg_join_key(key, path, "half_life");
        return cfg_fail(c, cfg_line(v[A_HALF_LIFE]), key, "decays count, sum and mean only, not %s",
                        rtml_agg_fn_name(a->fn));
    }
    return 0;
}

static int parse_one(const cfg_ctx *c, const yaml_node_t *map, size_t idx, rtml_config *cfg) {
    static const char *const keys[] = {"name", "key", "field", "fn", "window", "half_life", "missing", NULL};
    static const char *const missing[] = {"reject", "skip"};
    yaml_node_t *v[CFG_MAX_KEYS];
    char path[CFG_PATH], key[CFG_PATH];
    rtml_aggregate *a = &cfg->aggregates.list[idx];
    cfg_key_fmt(path, "aggregates[%zu]", idx);
    if (cfg_fields(c, map, path, keys, v) != 0) return -1;
    a->line = cfg_line(map);
    static const char *const required[] = {"name", "key", NULL, "fn"};
    for (int i = 0; i < 4; i++)
        if (required[i] && !v[i]) {
            cfg_join_key(key, path, required[i]);
            return cfg_fail(c, a->line, key, "required");
        }
    cfg_join_key(key, path, "name");
    if (cfg_dup_string(c, v[A_NAME], key, &a->name) != 0) return -1;
    for (size_t i = 0; i < idx; i++)
        if (!strcmp(cfg->aggregates.list[i].name, a->name))
            return cfg_fail(c, cfg_line(v[A_NAME]), key, "duplicate aggregate name '%.60s' (also at line %d)", a->name,
                            cfg->aggregates.list[i].line);
    cfg_join_key(key, path, "key");
    if (dup_source(c, v[A_KEY], key, "@key", &a->key) != 0) return -1;
    cfg_join_key(key, path, "field");
    if (v[A_FIELD] && cfg_dup_pointer(c, v[A_FIELD], key, &a->field) != 0) return -1;
    size_t fn;
    cfg_join_key(key, path, "fn");
    if (cfg_get_enum(c, v[A_FN], key, "aggregate function", FN_NAMES, COUNT(FN_NAMES), &fn) != 0) return -1;
    a->fn = (rtml_agg_fn)fn;
    cfg_join_key(key, path, "window");
    if (v[A_WINDOW] && cfg_get_duration(c, v[A_WINDOW], key, &a->window_s) != 0) return -1;
    cfg_join_key(key, path, "half_life");
    if (v[A_HALF_LIFE] && cfg_get_duration(c, v[A_HALF_LIFE], key, &a->half_life_s) != 0) return -1;
    cfg_join_key(key, path, "missing");
    size_t m = 0;
    if (v[A_MISSING] && cfg_get_enum(c, v[A_MISSING], key, "missing-value policy", missing, COUNT(missing), &m) != 0)
        return -1;
    a->skip_missing = m == 1;
    if (a->skip_missing && !a->field)
        return cfg_fail(c, cfg_line(v[A_MISSING]), key, "only for an aggregate of a field");
    if (a->skip_missing && a->half_life_s > 0) /* a decayed mean's count would count the records without it */
        return cfg_fail(c, cfg_line(v[A_MISSING]), key, "skip goes with a window or the whole history, not half_life");
    return check_one(c, v, a, path);
}

static int parse_list(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    if (cfg_want_kind(c, n, "aggregates.list", YAML_SEQUENCE_NODE) != 0) return -1;
    size_t len = cfg_seq_len(n);
    if (len == 0) return cfg_fail(c, cfg_line(n), "aggregates", "must list at least one aggregate");
    if (!(cfg->aggregates.list = calloc(len, sizeof *cfg->aggregates.list))) return cfg_oom(c, n, "aggregates");
    cfg->aggregates.n = len;
    for (size_t i = 0; i < len; i++)
        if (parse_one(c, cfg_seq_item(c, n, i), i, cfg) != 0) return -1;
    return 0;
}

/* "0", "0s", "0ms", ...: no lateness (a duration is otherwise > 0). */
static bool is_zero(const char *s) {
    if (!s) return false;
    char *end;
    double v = strtod(s, &end);
    return end != s && v == 0 && (!*end || !strcmp(end, "s") || !strcmp(end, "ms") || !strcmp(end, "m") ||
                                  !strcmp(end, "h") || !strcmp(end, "d"));
}

enum { S_TIME, S_LATENESS, S_MAX_KEYS, S_TTL, S_MAX_EVENTS, S_DISTINCT_CAP, S_PARTITIONED, S_REPARTITION, S_LIST };

/* The shared settings of the mapping form. */
static int parse_settings(const cfg_ctx *c, yaml_node_t *const *v, rtml_config *cfg) {
    if (v[S_TIME] && dup_source(c, v[S_TIME], "aggregates.time", "@timestamp", &cfg->aggregates.time) != 0) return -1;
    if (v[S_LATENESS] && !is_zero(cfg_text(v[S_LATENESS])) &&
        cfg_get_duration(c, v[S_LATENESS], "aggregates.lateness", &cfg->aggregates.lateness_s) != 0)
        return -1;
    if (v[S_MAX_KEYS] && cfg_get_count(c, v[S_MAX_KEYS], "aggregates.max_keys", 1, 1ULL << 32, &cfg->aggregates.max_keys))
        return -1;
    if (v[S_TTL] && cfg_get_duration(c, v[S_TTL], "aggregates.ttl", &cfg->aggregates.ttl_s) != 0) return -1;
    if (v[S_MAX_EVENTS] &&
        cfg_get_count(c, v[S_MAX_EVENTS], "aggregates.max_events", 1, 1ULL << 30, &cfg->aggregates.max_events))
        return -1;
    if (v[S_DISTINCT_CAP] &&
        cfg_get_count(c, v[S_DISTINCT_CAP], "aggregates.distinct_cap", 1, 1ULL << 24, &cfg->aggregates.distinct_cap))
        return -1;
    if (v[S_PARTITIONED] && cfg_get_bool(c, v[S_PARTITIONED], "aggregates.partitioned", &cfg->aggregates.partitioned))
        return -1;
    if (v[S_REPARTITION] &&
        cfg_dup_string(c, v[S_REPARTITION], "aggregates.repartition_topic", &cfg->aggregates.repartition_topic))
        return -1;
    return 0;
}

int rtml_cfg_aggregates_parse(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    static const char *const keys[] = {"time", "lateness", "max_keys", "ttl", "max_events", "distinct_cap",
                                       "partitioned", "repartition_topic", "list", NULL};
    cfg->aggregates.line = cfg_line(n);
    cfg->aggregates.max_keys = DEFAULT_MAX_KEYS;
    cfg->aggregates.max_events = DEFAULT_MAX_EVENTS;
    cfg->aggregates.distinct_cap = DEFAULT_DISTINCT_CAP;
    if (n->type == YAML_SEQUENCE_NODE) {
        if (parse_list(c, n, cfg) != 0) return -1;
    } else {
        yaml_node_t *v[CFG_MAX_KEYS];
        if (cfg_want_kind(c, n, "aggregates", YAML_MAPPING_NODE) != 0 || cfg_fields(c, n, "aggregates", keys, v) != 0)
            return -1;
        if (!v[S_LIST]) return cfg_fail(c, cfg_line(n), "aggregates.list", "required: the aggregates themselves");
        if (parse_settings(c, v, cfg) != 0 || parse_list(c, v[S_LIST], cfg) != 0) return -1;
    }
    return cfg_set_default(&cfg->aggregates.time, "@timestamp") != 0 ? cfg_oom(c, n, "aggregates.time") : 0;
}

const char *rtml_aggregates_repartition_key(const rtml_config *cfg) {
    if (!cfg->aggregates.n || cfg->aggregates.partitioned) return NULL;
    for (size_t i = 0; i < cfg->aggregates.n; i++)
        if (strcmp(cfg->aggregates.list[i].key, "@key") != 0) return cfg->aggregates.list[i].key;
    return NULL;
}

/* Every key of one record must reach one member: by the Kafka key as it is, or after a repartition by one field. */
static int check_partitioning(const cfg_ctx *c, const rtml_config *cfg) {
    const char *by = rtml_aggregates_repartition_key(cfg);
    if (!by) return 0;
    const rtml_aggregate *first = NULL;
    for (size_t i = 0; i < cfg->aggregates.n; i++) {
        const rtml_aggregate *a = &cfg->aggregates.list[i];
        if (!first && strcmp(a->key, "@key")) first = a;
        if (first && strcmp(a->key, first->key))
            return cfg_fail(c, a->line, "aggregates", "keyed by %.60s, where '%.60s' (line %d) is keyed by %.60s: the "
                            "records would have to be partitioned two ways to keep every key's aggregates exact "
                            "(rtml repartitions by one key); use one key, or say `partitioned: true` if the input "
                            "is keyed so that both hold", a->key, first->name, first->line, first->key);
    }
    if (cfg->label.topic)
        return cfg_fail(c, cfg->label.line, "label.topic", "cannot join labels to records repartitioned by the "
                        "aggregates' key %.60s (a label would reach another member than its record); key the input "
                        "by %.60s and say `partitioned: true` in aggregates, or use `key: \"@key\"`", by, by);
    return 0;
}

/* Every aggregate is read by some feature, or it costs memory for nothing. */
int rtml_cfg_aggregates_check(const cfg_ctx *c, rtml_config *cfg) {
    if (check_partitioning(c, cfg) != 0) return -1;
    for (size_t i = 0; i < cfg->aggregates.n; i++) {
        bool used = false;
        for (size_t f = 0; f < cfg->n_features && !used; f++) used = cfg->features[f].aggregate == (int)i;
        if (!used)
            return cfg_fail(c, cfg->aggregates.list[i].line, "aggregates", "'%.60s' is read by no feature (add "
                            "{name: ..., aggregate: %.60s} to features, or remove it)", cfg->aggregates.list[i].name,
                            cfg->aggregates.list[i].name);
    }
    return 0;
}

static void print_span(const char *key, double s, FILE *out) {
    fprintf(out, ", %s: ", key);
    cfg_put_num(out, s);
    fputc('s', out);
}

void rtml_cfg_aggregates_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->aggregates.n) return;
    fputs("aggregates:\n  time: ", out);
    cfg_put_str(out, cfg->aggregates.time);
    fputs("\n  lateness: ", out);
    cfg_put_num(out, cfg->aggregates.lateness_s);
    fprintf(out, "s\n  max_keys: %zu\n  ttl: ", cfg->aggregates.max_keys);
    cfg_put_num(out, rtml_aggregates_ttl(cfg));
    fprintf(out, "s\n  max_events: %zu\n  distinct_cap: %zu\n", cfg->aggregates.max_events, cfg->aggregates.distinct_cap);
    if (cfg->aggregates.partitioned) fputs("  partitioned: true\n", out);
    if (cfg->aggregates.repartition_topic) cfg_print_key_str(out, "  repartition_topic: ", cfg->aggregates.repartition_topic);
    fputs("  list:\n", out);
    for (size_t i = 0; i < cfg->aggregates.n; i++) {
        const rtml_aggregate *a = &cfg->aggregates.list[i];
        fputs("    - {name: ", out);
        cfg_put_str(out, a->name);
        fputs(", key: ", out);
        cfg_put_str(out, a->key);
        if (a->field) {
            fputs(", field: ", out);
            cfg_put_str(out, a->field);
        }
        fprintf(out, ", fn: %s", rtml_agg_fn_name(a->fn));
        if (a->window_s > 0) print_span("window", a->window_s, out);
        if (a->half_life_s > 0) print_span("half_life", a->half_life_s, out);
        if (a->skip_missing) fputs(", missing: skip", out);
        fputs("}\n", out);
    }
}

void rtml_cfg_aggregates_free(rtml_config *cfg) {
    for (size_t i = 0; i < cfg->aggregates.n; i++) {
        free(cfg->aggregates.list[i].name);
        free(cfg->aggregates.list[i].key);
        free(cfg->aggregates.list[i].field);
    }
    free(cfg->aggregates.list);
    free(cfg->aggregates.time);
    free(cfg->aggregates.repartition_topic);
}
