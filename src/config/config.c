/* config.c — reads rtml's YAML configuration (config.h) into one rtml_config, strictly, and prints it back.
 *
 * Why this shape: a user's config is the first thing that can go wrong, so every error names the file, the
 * line and the dotted key (DESIGN.md, "Configuration (YAML)"). libyaml's document API gives a node tree with
 * line marks; a first pass over libyaml's event stream rejects what the tree would hide (syntax errors,
 * aliases, a second document, nesting deeper than any config needs). A schema walk, one short function per
 * section, then fills the struct. Any failure frees what was built, so a caller never owns half a config.
 * rtml_config_print writes YAML that parses back to an equal config (tested, and fuzzed), except that secret
 * kafka values (redact.c) print as [redacted]: `rtml check` output lands in terminals, CI logs and bug reports.
 *
 * Syntax choices (config.h declares the fields):
 *   transforms   plain names (standardize, minmax, log1p, hour_of_day, day_of_week) or one-key mappings
 *                ({clip: [lo, hi]}, {impute: mean | NUMBER}, {bucketize: [b1, ...]}, {one_hot: N},
 *                {hash: N}, {cross: {with: /ptr, buckets: N}}, {bag_of_words: N}, {array: N}). Chain rules,
 *                checked here so `rtml check` catches them: impute first; one_hot, hash, cross and
 *                bag_of_words last; array and bag_of_words alone; one_hot not straight after a step that
 *                makes fractions (standardize, minmax, log1p, impute mean); all inputs fit u32 indices.
 *   model.ftrl   a mapping {alpha, beta} (one place for FTRL's two rate parameters; l1/l2 stay at model level).
 *   model.task   defaults to what model.type implies (linear: regression, softmax: multiclass, others
 *                binary); given with a type other than mlp it must agree. A multiclass model needs
 *                model.classes (a list of names or a count >= 2), and no other model may have them.
 *   input.csv    a mapping {delimiter, header, columns}, only with format: csv; avro needs input.schema,
 *                protobuf input.schema and input.message, and neither is allowed with the other formats.
 *   output       format json | avro | protobuf; avro may name a schema (else the built-in one), protobuf must
 *                name a descriptor set (schema) and a message; schema_id (Confluent framing) only with avro
 *                or protobuf. Docs: docs/formats.md.
 *
 * Anchors and aliases: an alias (*name) is rejected with its line, not resolved. A config is short enough
 * to write out in full, an error inside an expanded alias would point at the anchor instead of the use,
 * and rejecting closes off alias bombs. A bare anchor (&name) without an alias is harmless and ignored. */
#include "config/config.h"
#include "config/yaml.h"
#include "base/rtml.h"
#include "features/transforms.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *const TOP_KEYS[] = {"kafka", "input", "features", "label", "model", "output",
                                       "delivery", "state", "dead_letter", "monitor", "drift", "log",
                                       "role", "models", "workers", NULL};
enum { K_KAFKA, K_INPUT, K_FEATURES, K_LABEL, K_MODEL, K_OUTPUT, K_DELIVERY, K_STATE, K_DLQ, K_MONITOR, K_DRIFT,
       K_LOG };

static const char *const FORMAT_NAMES[] = {"json", "csv", "avro", "protobuf"};
static const char *const OUTPUT_FORMAT_NAMES[] = {"json", "avro", "protobuf"};
static const rtml_format OUTPUT_FORMATS[] = {RTML_FMT_JSON, RTML_FMT_AVRO, RTML_FMT_PROTOBUF};
static const char *const ENGINE_NAMES[] = {"native", "tensorflow"};
static const char *const TYPE_NAMES[] = {"linear", "logistic", "softmax", "ftrl", "mlp"};
static const char *const OPTIMIZER_NAMES[] = {"sgd", "momentum", "adagrad", "adam"};
static const char *const DELIVERY_NAMES[] = {"at_least_once", "exactly_once"};
static const char *const TASK_NAMES[] = {"binary", "regression", "multiclass"};
static const char *const SCHEDULE_NAMES[] = {"constant", "inverse_scaling", "step"};
static const char *const LOSS_NAMES[] = {"squared", "huber"};
static const char *const ACTIVATION_NAMES[] = {"relu", "tanh"};
#define TX_EXPECTED "standardize, minmax, log1p, clip, impute, bucketize, hour_of_day, day_of_week, one_hot, hash, " \
                    "cross, bag_of_words, array"
#define MAX_BUCKETS (1ULL << 28)  /* hash, cross and bag_of_words widths */
#define MAX_ONE_HOT 1000000ULL    /* a one_hot vocabulary */
#define MAX_ARRAY 65536ULL        /* a dense array */
#define MAX_CLASSES 65536ULL
#define MAX_INPUTS 0xFFFFFFFFULL  /* sparse indices are u32 */

/* ---- sections ------------------------------------------------------------------------------------- */

static int parse_kafka(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    char dotted[CFG_PATH], buf[96];
    if (cfg_want_kind(c, map, "kafka", YAML_MAPPING_NODE) != 0)
        return -1;
    size_t n = cfg_map_len(map);
    if (n && !(cfg->kafka = calloc(n, sizeof *cfg->kafka)))
        return cfg_oom(c, map, "kafka");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
        const char *ks = cfg_text(k), *vs;
        if (!ks || !*ks)
            return cfg_fail(c, cfg_line(k), "kafka", "keys must be non-empty strings");
        cfg_join_key(dotted, "kafka", ks);
        for (size_t i = 0; i < cfg->n_kafka; i++)
            if (strcmp(cfg->kafka[i].key, ks) == 0)
                return cfg_fail(c, cfg_line(k), dotted, "duplicate key (first at line %d)", cfg->kafka[i].line);
        if (v->type != YAML_SCALAR_NODE)
            return cfg_fail(c, cfg_line(v), dotted, "must be a string, got %s", cfg_describe(v, buf, sizeof buf));
        vs = (const char *)v->data.scalar.value;
        if (cfg_is_null(v) && !*vs)
            return cfg_fail(c, cfg_line(k), dotted, "must have a value");
        if (strlen(vs) != v->data.scalar.length)
            return cfg_fail(c, cfg_line(v), dotted, "must not contain NUL characters");
        rtml_kv *kv = &cfg->kafka[cfg->n_kafka++];
        kv->line = cfg_line(k);
        if (!(kv->key = strdup(ks)) || !(kv->value = strdup(vs)))
            return cfg_oom(c, k, dotted);
    }
    return 0;
}

static int parse_topics(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    char key[CFG_PATH], buf[96];
    if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n)) {
        if (!(cfg->input.topics = calloc(1, sizeof(char *))))
            return cfg_oom(c, n, "input.topics");
        cfg->input.n_topics = 1;
        return cfg_dup_string(c, n, "input.topics", &cfg->input.topics[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, cfg_line(n), "input.topics", "must be a list of topics or a topic name, got %s",
                        cfg_describe(n, buf, sizeof buf));
    size_t len = cfg_seq_len(n);
    if (len && !(cfg->input.topics = calloc(len, sizeof(char *))))
        return cfg_oom(c, n, "input.topics");
    cfg->input.n_topics = len;
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "input.topics[%zu]", i);
        if (cfg_dup_string(c, cfg_seq_item(c, n, i), key, &cfg->input.topics[i]) != 0)
            return -1;
    }
    return 0;
}

/* csv: {delimiter: ",", header: true, columns: [a, b]} — only with format: csv. */
static int parse_csv(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"delimiter", "header", "columns", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    const char *d;
    if (cfg_fields(c, map, "input.csv", keys, v) != 0)
        return -1;
    if (v[0]) {
        if (cfg_get_string(c, v[0], "input.csv.delimiter", &d) != 0)
            return -1;
        if (strlen(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
            return cfg_fail(c, cfg_line(v[0]), "input.csv.delimiter",
                            "must be one character other than a quote or a line break, got '%.60s'", d);
        cfg->input.csv_delimiter = d[0];
    }
    if (v[1] && cfg_get_bool(c, v[1], "input.csv.header", &cfg->input.csv_header) != 0)
        return -1;
    return v[2] ? cfg_dup_string_list(c, v[2], "input.csv.columns", 1, 100000, &cfg->input.csv_columns,
                                  &cfg->input.n_csv_columns)
                : 0;
}

/* What each format needs and allows: avro/protobuf a schema, protobuf a message, csv its options. */
static int check_input(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, const rtml_config *cfg) {
    rtml_format f = cfg->input.format;
    const char *name = rtml_format_name(f);
    int line = v[1] ? cfg_line(v[1]) : cfg_line(map);
    if ((f == RTML_FMT_AVRO || f == RTML_FMT_PROTOBUF) && !v[2])
        return cfg_fail(c, line, "input.schema", "required by format %s (%s)", name,
                        f == RTML_FMT_AVRO ? "the .avsc file" : "a descriptor set from protoc --descriptor_set_out");
    if (f == RTML_FMT_PROTOBUF && !v[3])
        return cfg_fail(c, line, "input.message", "required by format protobuf (the fully qualified message name)");
    if (v[2] && f != RTML_FMT_AVRO && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, cfg_line(v[2]), "input.schema", "only used by format avro or protobuf, not %s", name);
    if (v[3] && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, cfg_line(v[3]), "input.message", "only used by format protobuf, not %s", name);
    if (v[4] && f != RTML_FMT_CSV)
        return cfg_fail(c, cfg_line(v[4]), "input.csv", "only used by format csv, not %s", name);
    return 0;
}

static int parse_input(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"topics", "format", "schema", "message", "csv", "max_record_bytes", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    size_t fmt;
    if (cfg_fields(c, map, "input", keys, v) != 0)
        return -1;
    if (v[0] && parse_topics(c, v[0], cfg) != 0)
        return -1;
    if (v[1]) {
        if (cfg_get_enum(c, v[1], "input.format", "format", FORMAT_NAMES, COUNT(FORMAT_NAMES), &fmt) != 0)
            return -1;
        cfg->input.format = (rtml_format)fmt;
    }
    if (v[2] && cfg_dup_string(c, v[2], "input.schema", &cfg->input.schema) != 0)
        return -1;
    if (v[3] && cfg_dup_string(c, v[3], "input.message", &cfg->input.message) != 0)
        return -1;
    if (v[4] && parse_csv(c, v[4], cfg) != 0)
        return -1;
    if (v[5] && cfg_get_count(c, v[5], "input.max_record_bytes", 1, 1ULL << 30, &cfg->input.max_record_bytes) != 0)
        return -1;
    return check_input(c, v, map, cfg);
}

static int parse_clip(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || cfg_seq_len(n) != 2)
        return cfg_fail(c, cfg_line(n), path, "must be a list of two numbers [lo, hi], got %s",
                        n->type == YAML_SEQUENCE_NODE ? "a list of another length" : cfg_describe(n, buf, sizeof buf));
    double b[2];
    for (size_t i = 0; i < 2; i++) {
        cfg_key_fmt(key, "%s[%zu]", path, i);
        if (cfg_get_number(c, cfg_seq_item(c, n, i), key, NUM_ANY, &b[i]) != 0)
            return -1;
    }
    if (!(b[0] < b[1]))
        return cfg_fail(c, cfg_line(n), path, "lo must be less than hi, got [%g, %g]", b[0], b[1]);
    t->kind = RTML_TX_CLIP;
    t->a = b[0];
    t->b = b[1];
    return 0;
}

/* {impute: mean} or {impute: NUMBER}. */
static int parse_impute(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char buf[96];
    const char *s = cfg_text(n);
    if (s && strcmp(s, "mean") == 0) {
        t->kind = RTML_TX_IMPUTE_MEAN;
        return 0;
    }
    if (!s || cfg_parse_number(s, &t->a) != 0)
        return cfg_fail(c, cfg_line(n), path, "must be 'mean' or a number, got %s", cfg_describe(n, buf, sizeof buf));
    t->kind = RTML_TX_IMPUTE_CONST;
    return 0;
}

/* {bucketize: [b1, b2, ...]}: at least one boundary, strictly increasing. */
static int parse_bucketize(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || cfg_seq_len(n) == 0)
        return cfg_fail(c, cfg_line(n), path, "must be a list of one or more increasing numbers, got %s",
                        n->type == YAML_SEQUENCE_NODE ? "an empty list" : cfg_describe(n, buf, sizeof buf));
    size_t len = cfg_seq_len(n);
    if (!(t->bounds = calloc(len, sizeof *t->bounds)))
        return cfg_oom(c, n, path);
    t->kind = RTML_TX_BUCKETIZE;
    t->n_bounds = len;
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "%s[%zu]", path, i);
        if (cfg_get_number(c, cfg_seq_item(c, n, i), key, NUM_ANY, &t->bounds[i]) != 0)
            return -1;
        if (i && !(t->bounds[i] > t->bounds[i - 1]))
            return cfg_fail(c, cfg_line(cfg_seq_item(c, n, i)), key,
                            "boundaries must be strictly increasing, got %g after %g", t->bounds[i], t->bounds[i - 1]);
    }
    return 0;
}

static int parse_one_hot(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_ONE_HOT;
    return cfg_get_count(c, n, path, 1, MAX_ONE_HOT, &t->n);
}

static int parse_hash(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_HASH;
    return cfg_get_count(c, n, path, 1, MAX_BUCKETS, &t->n);
}

static int parse_bag(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_BAG_OF_WORDS;
    return cfg_get_count(c, n, path, 1, MAX_BUCKETS, &t->n);
}

static int parse_array(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_ARRAY;
    return cfg_get_count(c, n, path, 1, MAX_ARRAY, &t->n);
}

/* {cross: {with: /other, buckets: N}}: both keys required. */
static int parse_cross(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    static const char *const keys[] = {"with", "buckets", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char key[CFG_PATH];
    if (cfg_fields(c, n, path, keys, v) != 0)
        return -1;
    t->kind = RTML_TX_CROSS;
    for (size_t i = 0; i < 2; i++)
        if (!v[i]) {
            cfg_join_key(key, path, keys[i]);
            return cfg_fail(c, cfg_line(n), key, "required");
        }
    cfg_join_key(key, path, "with");
    if (cfg_dup_pointer(c, v[0], key, &t->with) != 0)
        return -1;
    cfg_join_key(key, path, "buckets");
    return cfg_get_count(c, v[1], key, 1, MAX_BUCKETS, &t->n);
}

typedef int (*tx_param_fn)(const cfg_ctx *, const yaml_node_t *, const char *, rtml_transform *);

/* Transforms written as a one-key mapping {name: parameter}, with the example shown when one is misused. */
static const struct {
    const char *name, *example;
    tx_param_fn parse;
} TX_PARAM[] = {
    {"clip", "{clip: [lo, hi]}", parse_clip},
    {"impute", "{impute: mean} or {impute: NUMBER}", parse_impute},
    {"bucketize", "{bucketize: [b1, b2, ...]}", parse_bucketize},
    {"one_hot", "{one_hot: N}", parse_one_hot},
    {"hash", "{hash: N}", parse_hash},
    {"cross", "{cross: {with: /field, buckets: N}}", parse_cross},
    {"bag_of_words", "{bag_of_words: N}", parse_bag},
    {"array", "{array: N}", parse_array},
};

/* Transforms written as a plain name. */
static const struct {
    const char *name;
    rtml_transform_kind kind;
} TX_PLAIN[] = {
    {"standardize", RTML_TX_STANDARDIZE}, {"minmax", RTML_TX_MINMAX},           {"log1p", RTML_TX_LOG1P},
    {"hour_of_day", RTML_TX_HOUR_OF_DAY}, {"day_of_week", RTML_TX_DAY_OF_WEEK},
};

static int unknown_transform(const cfg_ctx *c, const yaml_node_t *n, const char *path, const char *name) {
    return cfg_fail(c, cfg_line(n), path, "unknown transform '%.60s' (expected " TX_EXPECTED ")", name);
}

/* {name: parameter}. */
static int parse_transform_map(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char key[CFG_PATH];
    const yaml_node_pair_t *p = n->data.mapping.pairs.start;
    const yaml_node_t *k = cfg_map_len(n) == 1 ? cfg_node(c, p->key) : NULL;
    const char *name = k ? cfg_text(k) : NULL;
    if (!name)
        return cfg_fail(c, cfg_line(n), path, "must be a transform name or a one-key mapping like {clip: [lo, hi]}");
    for (size_t i = 0; i < COUNT(TX_PARAM); i++) {
        if (strcmp(name, TX_PARAM[i].name) == 0) {
            cfg_join_key(key, path, name);
            return TX_PARAM[i].parse(c, cfg_node(c, p->value), key, t);
        }
    }
    for (size_t i = 0; i < COUNT(TX_PLAIN); i++)
        if (strcmp(name, TX_PLAIN[i].name) == 0)
            return cfg_fail(c, cfg_line(k), path, "transform '%s' takes no parameters; write it as a plain name",
                            name);
    return unknown_transform(c, k, path, name);
}

static int parse_transform(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char buf[96];
    const char *s = cfg_text(n);
    if (n->type == YAML_MAPPING_NODE)
        return parse_transform_map(c, n, path, t);
    if (!s)
        return cfg_fail(c, cfg_line(n), path,
                        "must be a transform name or a one-key mapping like {clip: [lo, hi]}, got %s",
                        cfg_describe(n, buf, sizeof buf));
    for (size_t i = 0; i < COUNT(TX_PLAIN); i++) {
        if (strcmp(s, TX_PLAIN[i].name) == 0) {
            t->kind = TX_PLAIN[i].kind;
            return 0;
        }
    }
    for (size_t i = 0; i < COUNT(TX_PARAM); i++)
        if (strcmp(s, TX_PARAM[i].name) == 0)
            return cfg_fail(c, cfg_line(n), path, "%s needs a parameter: write %s", s, TX_PARAM[i].example);
    return unknown_transform(c, n, path, s);
}

static int is_sparse(rtml_transform_kind k) {
    return k == RTML_TX_ONE_HOT || k == RTML_TX_HASH || k == RTML_TX_CROSS || k == RTML_TX_BAG_OF_WORDS;
}

/* Steps whose output is rarely a whole number, so a one_hot after them would reject almost every record. */
static int makes_fractions(rtml_transform_kind k) {
    return k == RTML_TX_STANDARDIZE || k == RTML_TX_MINMAX || k == RTML_TX_LOG1P || k == RTML_TX_IMPUTE_MEAN;
}

/* The order rules of a chain, for the step at index i: impute first, a sparse step last, array and
 * bag_of_words alone (they read an array and text, which nothing else produces or consumes). */
static const char *chain_problem(const rtml_feature *f, size_t i) {
    rtml_transform_kind k = f->transforms[i].kind;
    if ((k == RTML_TX_IMPUTE_MEAN || k == RTML_TX_IMPUTE_CONST) && i > 0)
        return "impute must be the first transform (it fills in a missing value for the others)";
    if ((k == RTML_TX_ARRAY || k == RTML_TX_BAG_OF_WORDS) && f->n_transforms > 1)
        return k == RTML_TX_ARRAY ? "array must be the only transform of its feature"
                                  : "bag_of_words reads text: it must be the only transform of its feature";
    if (is_sparse(k) && i + 1 < f->n_transforms)
        return "a categorical transform (one_hot, hash, cross, bag_of_words) must be the last of its chain";
    if (k == RTML_TX_ONE_HOT && i > 0 && makes_fractions(f->transforms[i - 1].kind))
        return "one_hot needs strings or whole numbers; it cannot follow standardize, minmax, log1p or "
               "impute mean (bucketize first)";
    return NULL;
}

static int parse_transforms(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_feature *f) {
    char key[CFG_PATH];
    const char *why;
    if (cfg_want_kind(c, n, path, YAML_SEQUENCE_NODE) != 0)
        return -1;
    size_t len = cfg_seq_len(n);
    if (len && !(f->transforms = calloc(len, sizeof *f->transforms)))
        return cfg_oom(c, n, path);
    f->n_transforms = len;
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "%s[%zu]", path, i);
        if (parse_transform(c, cfg_seq_item(c, n, i), key, &f->transforms[i]) != 0)
            return -1;
    }
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "%s[%zu]", path, i);
        if ((why = chain_problem(f, i)) != NULL)
            return cfg_fail(c, cfg_line(cfg_seq_item(c, n, i)), key, "%s", why);
    }
    return 0;
}

/* "/" + name with RFC 6901 escapes (~ -> ~0, / -> ~1): the friendly default for a feature's field. */
static char *default_pointer(const char *name) {
    char *out = malloc(2 * strlen(name) + 2), *o = out;
    if (!out)
        return NULL;
    *o++ = '/';
    for (const char *p = name; *p; p++) {
        if (*p == '~' || *p == '/') {
            *o++ = '~';
            *o++ = *p == '~' ? '0' : '1';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static int parse_feature(const cfg_ctx *c, const yaml_node_t *map, size_t idx, rtml_config *cfg) {
    static const char *const keys[] = {"name", "field", "transforms", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char path[CFG_PATH], key[CFG_PATH];
    rtml_feature *f = &cfg->features[idx];
    cfg_key_fmt(path, "features[%zu]", idx);
    if (cfg_fields(c, map, path, keys, v) != 0)
        return -1;
    f->line = cfg_line(map);
    cfg_join_key(key, path, "name");
    if (!v[0])
        return cfg_fail(c, cfg_line(map), key, "required");
    if (cfg_dup_string(c, v[0], key, &f->name) != 0)
        return -1;
    for (size_t i = 0; i < idx; i++)
        if (strcmp(cfg->features[i].name, f->name) == 0)
            return cfg_fail(c, cfg_line(v[0]), key, "duplicate feature name '%.60s' (also at line %d)", f->name,
                            cfg->features[i].line);
    cfg_join_key(key, path, "field");
    if (v[1] && cfg_dup_pointer(c, v[1], key, &f->field) != 0)
        return -1;
    if (!v[1] && !(f->field = default_pointer(f->name)))
        return cfg_oom(c, map, key);
    cfg_join_key(key, path, "transforms");
    return v[2] ? parse_transforms(c, v[2], key, f) : 0;
}

/* The inputs a feature adds to a row: 1 for a number, N for an array, its block for a categorical. */
static unsigned long long feature_width(const rtml_feature *f) {
    const rtml_transform *last = f->n_transforms ? &f->transforms[f->n_transforms - 1] : NULL;
    if (!last || !(is_sparse(last->kind) || last->kind == RTML_TX_ARRAY))
        return 1;
    return last->kind == RTML_TX_ONE_HOT ? last->n + 1 : last->n;
}

/* Sparse indices are 32-bit: the whole row must fit. */
static int check_width(const cfg_ctx *c, const yaml_node_t *n, const rtml_config *cfg) {
    unsigned long long total = 0;
    for (size_t i = 0; i < cfg->n_features; i++)
        total += feature_width(&cfg->features[i]);
    if (total > MAX_INPUTS)
        return cfg_fail(c, cfg_line(n), "features", "the features need %llu inputs, more than the %llu a row can "
                        "index; use fewer buckets", total, MAX_INPUTS);
    return 0;
}

static int parse_features(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    if (cfg_want_kind(c, n, "features", YAML_SEQUENCE_NODE) != 0)
        return -1;
    size_t len = cfg_seq_len(n);
    if (len == 0)
        return cfg_fail(c, cfg_line(n), "features", "must list at least one feature");
    if (!(cfg->features = calloc(len, sizeof *cfg->features)))
        return cfg_oom(c, n, "features");
    cfg->n_features = len;
    for (size_t i = 0; i < len; i++)
        if (parse_feature(c, cfg_seq_item(c, n, i), i, cfg) != 0)
            return -1;
    return check_width(c, n, cfg);
}

/* A section whose one key is required: label {field}, dead_letter {topic}. */
static int parse_one_key(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *name,
                         yaml_node_t **val) {
    const char *keys[] = {name, NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char key[CFG_PATH];
    if (cfg_fields(c, map, path, keys, v) != 0)
        return -1;
    cfg_join_key(key, path, name);
    if (!v[0])
        return cfg_fail(c, cfg_line(map), key, "required");
    *val = v[0];
    return 0;
}

static int parse_optimizer(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg,
                           yaml_node_t **lr) {
    static const char *const keys[] = {"name", "learning_rate", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char buf[96];
    const char *what = "optimizer";
    if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n))
        return cfg_dup_enum(c, n, "model.optimizer", what, OPTIMIZER_NAMES, COUNT(OPTIMIZER_NAMES),
                        &cfg->model.optimizer);
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(c, cfg_line(n), "model.optimizer",
                        "must be an optimizer name or a mapping {name, learning_rate}, got %s",
                        cfg_describe(n, buf, sizeof buf));
    if (cfg_fields(c, n, "model.optimizer", keys, v) != 0)
        return -1;
    *lr = v[1];
    return v[0] ? cfg_dup_enum(c, v[0], "model.optimizer.name", what, OPTIMIZER_NAMES, COUNT(OPTIMIZER_NAMES),
                           &cfg->model.optimizer)
                : 0;
}

static int parse_learning_rate(const cfg_ctx *c, yaml_node_t *top, yaml_node_t *opt, rtml_config *cfg) {
    if (top && opt)
        return cfg_fail(c, cfg_line(opt), "model.optimizer.learning_rate",
                        "conflicts with model.learning_rate at line %d; give it once", cfg_line(top));
    if (top)
        return cfg_get_number(c, top, "model.learning_rate", NUM_POSITIVE, &cfg->model.learning_rate);
    if (opt)
        return cfg_get_number(c, opt, "model.optimizer.learning_rate", NUM_POSITIVE, &cfg->model.learning_rate);
    return 0;
}

enum {
    M_ENGINE, M_TYPE, M_TASK, M_OPTIMIZER, M_LR, M_SCHEDULE, M_POWER_T, M_DECAY_EVERY, M_DECAY_RATE, M_L2, M_L1,
    M_FTRL, M_LOSS, M_HUBER_DELTA, M_CLIP_GRADIENT, M_HIDDEN, M_ACTIVATION, M_BATCH, M_CLASSES, M_SEED, M_TF
};
static const char *const MODEL_KEYS[] = {"engine",  "type",        "task",          "optimizer", "learning_rate",
                                         "schedule", "power_t",    "decay_every",   "decay_rate", "l2",
                                         "l1",       "ftrl",       "loss",          "huber_delta", "clip_gradient",
                                         "hidden",   "activation", "batch",         "classes",   "seed",
                                         "tensorflow", NULL};

/* ftrl: {alpha: 0.1, beta: 1.0} — FTRL-Proximal's per-coordinate learning-rate parameters. */
static int parse_ftrl(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"alpha", "beta", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "model.ftrl", keys, v) != 0)
        return -1;
    if (v[0] && cfg_get_number(c, v[0], "model.ftrl.alpha", NUM_POSITIVE, &cfg->model.ftrl_alpha) != 0)
        return -1;
    return v[1] ? cfg_get_number(c, v[1], "model.ftrl.beta", NUM_NONNEG, &cfg->model.ftrl_beta) : 0;
}

/* hidden: [32, 16] — one to three layer sizes. */
static int parse_hidden(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || cfg_seq_len(n) < 1 || cfg_seq_len(n) > 3)
        return cfg_fail(c, cfg_line(n), "model.hidden", "must be a list of 1 to 3 layer sizes like [32, 16], got %s",
                        n->type == YAML_SEQUENCE_NODE ? "a list of another length" : cfg_describe(n, buf, sizeof buf));
    size_t len = cfg_seq_len(n);
    if (!(cfg->model.hidden = calloc(len, sizeof *cfg->model.hidden)))
        return cfg_oom(c, n, "model.hidden");
    cfg->model.n_hidden = len;
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "model.hidden[%zu]", i);
        if (cfg_get_count(c, cfg_seq_item(c, n, i), key, 1, 4096, &cfg->model.hidden[i]) != 0)
            return -1;
    }
    return 0;
}

/* classes: [a, b, c] (names, in index order) or classes: 3 (a count; names learned from the labels). */
static int parse_classes(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    if (n->type == YAML_SEQUENCE_NODE)
        return cfg_dup_string_list(c, n, "model.classes", 2, MAX_CLASSES, &cfg->model.classes, &cfg->model.n_classes);
    if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n) && cfg_get_count(c, n, "model.classes", 2, MAX_CLASSES,
                                                                  &cfg->model.n_classes) == 0)
        return 0;
    char buf[96];
    return cfg_fail(c, cfg_line(n), "model.classes",
                    "must be a list of 2 or more class names or a number of classes >= 2, got %s",
                    cfg_describe(n, buf, sizeof buf));
}

/* The task a model type implies (mlp: none, model.task says). */
static const char *implied_task(const char *type) {
    if (strcmp(type, "linear") == 0)
        return "regression";
    if (strcmp(type, "softmax") == 0)
        return "multiclass";
    return strcmp(type, "mlp") == 0 ? NULL : "binary";
}

/* task agrees with type; a multiclass model has classes and only it does. Runs after defaults are set. */
static int check_model(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, rtml_config *cfg) {
    const char *implied = implied_task(cfg->model.type);
    if (v[M_TASK] && implied && strcmp(cfg->model.task, implied) != 0)
        return cfg_fail(c, cfg_line(v[M_TASK]), "model.task", "'%s' contradicts model.type %s, which is %s",
                        cfg->model.task, cfg->model.type, implied);
    if (!cfg->model.task && !(cfg->model.task = strdup(implied ? implied : "binary")))
        return cfg_oom(c, map, "model.task");
    int multiclass = strcmp(cfg->model.task, "multiclass") == 0;
    if (multiclass && !cfg->model.n_classes)
        return cfg_fail(c, cfg_line(v[M_TYPE] ? v[M_TYPE] : map), "model.classes",
                        "required by a multiclass model: the class names, e.g. [cat, dog, bird], or their number");
    if (!multiclass && v[M_CLASSES])
        return cfg_fail(c, cfg_line(v[M_CLASSES]), "model.classes",
                        "only a multiclass model (type softmax, or mlp with task multiclass) has classes");
    return 0;
}

/* The schedule, loss, regularisation and network keys: numbers and names with their ranges. */
static int parse_model_tuning(const cfg_ctx *c, yaml_node_t *const *v, rtml_config *cfg) {
    double rate;
    if (v[M_SCHEDULE] && cfg_dup_enum(c, v[M_SCHEDULE], "model.schedule", "schedule", SCHEDULE_NAMES,
                                  COUNT(SCHEDULE_NAMES), &cfg->model.schedule) != 0)
        return -1;
    if (v[M_POWER_T] && cfg_get_number(c, v[M_POWER_T], "model.power_t", NUM_POSITIVE, &cfg->model.power_t) != 0)
        return -1;
    if (v[M_DECAY_EVERY] &&
        cfg_get_number(c, v[M_DECAY_EVERY], "model.decay_every", NUM_POSITIVE, &cfg->model.decay_every) != 0)
        return -1;
    if (v[M_DECAY_RATE]) {
        if (cfg_get_number(c, v[M_DECAY_RATE], "model.decay_rate", NUM_POSITIVE, &rate) != 0)
            return -1;
        if (rate > 1)
            return cfg_fail(c, cfg_line(v[M_DECAY_RATE]), "model.decay_rate", "must be in (0, 1], got %g", rate);
        cfg->model.decay_rate = rate;
    }
    if (v[M_L2] && cfg_get_number(c, v[M_L2], "model.l2", NUM_NONNEG, &cfg->model.l2) != 0)
        return -1;
    if (v[M_L1] && cfg_get_number(c, v[M_L1], "model.l1", NUM_NONNEG, &cfg->model.l1) != 0)
        return -1;
    if (v[M_FTRL] && parse_ftrl(c, v[M_FTRL], cfg) != 0)
        return -1;
    if (v[M_LOSS] && cfg_dup_enum(c, v[M_LOSS], "model.loss", "loss", LOSS_NAMES, COUNT(LOSS_NAMES), &cfg->model.loss))
        return -1;
    if (v[M_HUBER_DELTA] &&
        cfg_get_number(c, v[M_HUBER_DELTA], "model.huber_delta", NUM_POSITIVE, &cfg->model.huber_delta) != 0)
        return -1;
    if (v[M_CLIP_GRADIENT] &&
        cfg_get_number(c, v[M_CLIP_GRADIENT], "model.clip_gradient", NUM_NONNEG, &cfg->model.clip_gradient) != 0)
        return -1;
    if (v[M_HIDDEN] && parse_hidden(c, v[M_HIDDEN], cfg) != 0)
        return -1;
    if (v[M_ACTIVATION] && cfg_dup_enum(c, v[M_ACTIVATION], "model.activation", "activation", ACTIVATION_NAMES,
                                    COUNT(ACTIVATION_NAMES), &cfg->model.activation) != 0)
        return -1;
    return v[M_BATCH] ? cfg_get_count(c, v[M_BATCH], "model.batch", 1, 65536, &cfg->model.batch) : 0;
}

int rtml_config_is_tensorflow(const rtml_config *cfg) {
    return cfg->model.engine && strcmp(cfg->model.engine, "tensorflow") == 0;
}

/* engine: tensorflow takes engine, task, classes, seed and tensorflow; engine: native everything but
 * tensorflow. A key the engine would ignore is an error, not a silent no-op. */
static int engine_keys_ok(const cfg_ctx *c, yaml_node_t *const *v, const rtml_config *cfg) {
    char key[CFG_PATH];
    if (!rtml_config_is_tensorflow(cfg)) {
        if (v[M_TF])
            return cfg_fail(c, cfg_line(v[M_TF]), "model.tensorflow", "only used with model.engine: tensorflow");
        return 0;
    }
    for (int i = 0; MODEL_KEYS[i]; i++) {
        if (!v[i] || i == M_ENGINE || i == M_TASK || i == M_CLASSES || i == M_SEED || i == M_TF)
            continue;
        cfg_join_key(key, "model", MODEL_KEYS[i]);
        return cfg_fail(c, cfg_line(v[i]), key, "only used by the native engine; with engine: tensorflow the SavedModel "
                        "is the model (its optimizer, layers and batching are set in model.tensorflow or at export)");
    }
    if (!v[M_TF])
        return cfg_fail(c, cfg_line(v[M_ENGINE]), "model.tensorflow", "required with engine: tensorflow "
                        "(at least {saved_model: DIR})");
    return 0;
}

/* engine: tensorflow — the task says how to read the output (model.type does not apply). */
static int parse_tf_model(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, rtml_config *cfg) {
    if (v[M_TASK] && cfg_dup_enum(c, v[M_TASK], "model.task", "task", TASK_NAMES, COUNT(TASK_NAMES),
                                  &cfg->model.task) != 0)
        return -1;
    if (v[M_CLASSES] && parse_classes(c, v[M_CLASSES], cfg) != 0)
        return -1;
    if (v[M_SEED] && cfg_get_u64(c, v[M_SEED], "model.seed", &cfg->model.seed) != 0)
        return -1;
    if (rtml_config_parse_tf(c, v[M_TF], cfg) != 0)
        return -1;
    if (cfg_set_default(&cfg->model.task, "binary") != 0)
        return cfg_oom(c, map, "model.task");
    int multiclass = strcmp(cfg->model.task, "multiclass") == 0;
    if (multiclass && !cfg->model.n_classes)
        return cfg_fail(c, cfg_line(v[M_TASK]), "model.classes",
                        "required by a multiclass model: the class names, e.g. [cat, dog, bird], or their number");
    if (!multiclass && v[M_CLASSES])
        return cfg_fail(c, cfg_line(v[M_CLASSES]), "model.classes", "only a multiclass model (task multiclass) has classes");
    return 0;
}

static int parse_model(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v[CFG_MAX_KEYS], *opt_lr = NULL;
    if (cfg_fields(c, map, "model", MODEL_KEYS, v) != 0)
        return -1;
    if (v[M_ENGINE] && cfg_dup_enum(c, v[M_ENGINE], "model.engine", "engine", ENGINE_NAMES, COUNT(ENGINE_NAMES),
                                &cfg->model.engine) != 0)
        return -1;
    if (engine_keys_ok(c, v, cfg) != 0)
        return -1;
    if (rtml_config_is_tensorflow(cfg))
        return parse_tf_model(c, v, map, cfg);
    if (v[M_TYPE] && cfg_dup_enum(c, v[M_TYPE], "model.type", "model type", TYPE_NAMES, COUNT(TYPE_NAMES),
                              &cfg->model.type) != 0)
        return -1;
    if (v[M_TASK] && cfg_dup_enum(c, v[M_TASK], "model.task", "task", TASK_NAMES, COUNT(TASK_NAMES),
                              &cfg->model.task) != 0)
        return -1;
    if (v[M_OPTIMIZER] && parse_optimizer(c, v[M_OPTIMIZER], cfg, &opt_lr) != 0)
        return -1;
    if (parse_learning_rate(c, v[M_LR], opt_lr, cfg) != 0 || parse_model_tuning(c, v, cfg) != 0)
        return -1;
    if (v[M_CLASSES] && parse_classes(c, v[M_CLASSES], cfg) != 0)
        return -1;
    if (v[M_SEED] && cfg_get_u64(c, v[M_SEED], "model.seed", &cfg->model.seed) != 0)
        return -1;
    if (cfg_set_default(&cfg->model.type, "logistic") != 0)
        return cfg_oom(c, map, "model.type");
    return check_model(c, v, map, cfg);
}

/* What each output format needs and allows: protobuf a schema and a message; avro and protobuf a schema id. */
static int check_output(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, const rtml_config *cfg) {
    rtml_format f = cfg->output.format;
    const char *name = rtml_format_name(f);
    int line = v[1] ? cfg_line(v[1]) : cfg_line(map);
    if (v[2] && f == RTML_FMT_JSON)
        return cfg_fail(c, cfg_line(v[2]), "output.schema", "only used by format avro or protobuf, not %s", name);
    if (v[3] && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, cfg_line(v[3]), "output.message", "only used by format protobuf, not %s", name);
    if (v[4] && f == RTML_FMT_JSON)
        return cfg_fail(c, cfg_line(v[4]), "output.schema_id", "only used by format avro or protobuf, not %s", name);
    if (f == RTML_FMT_PROTOBUF && !v[2])
        return cfg_fail(c, line, "output.schema", "required by format protobuf (a descriptor set from "
                        "protoc --include_imports --descriptor_set_out)");
    if (f == RTML_FMT_PROTOBUF && !v[3])
        return cfg_fail(c, line, "output.message", "required by format protobuf (the fully qualified message name)");
    return 0;
}

static int parse_output(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"topic", "format", "schema", "message", "schema_id", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    size_t fmt, id;
    if (cfg_fields(c, map, "output", keys, v) != 0)
        return -1;
    if (v[0] && cfg_dup_string(c, v[0], "output.topic", &cfg->output.topic) != 0)
        return -1;
    if (v[1]) {
        if (cfg_get_enum(c, v[1], "output.format", "output format", OUTPUT_FORMAT_NAMES,
                     COUNT(OUTPUT_FORMAT_NAMES), &fmt) != 0)
            return -1;
        cfg->output.format = OUTPUT_FORMATS[fmt];
    }
    if (check_output(c, v, map, cfg) != 0)
        return -1;
    if (v[2] && cfg_dup_string(c, v[2], "output.schema", &cfg->output.schema) != 0)
        return -1;
    if (v[3] && cfg_dup_string(c, v[3], "output.message", &cfg->output.message) != 0)
        return -1;
    if (v[4] && cfg_get_count(c, v[4], "output.schema_id", 0, 2147483647ULL, &id) != 0)
        return -1;
    cfg->output.has_schema_id = v[4] != NULL;
    cfg->output.schema_id = v[4] ? (unsigned)id : 0;
    return 0;
}

static int parse_delivery(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    size_t i;
    if (cfg_get_enum(c, n, "delivery", "delivery", DELIVERY_NAMES, COUNT(DELIVERY_NAMES), &i) != 0)
        return -1;
    cfg->delivery = (rtml_delivery)i;
    return 0;
}

static int parse_state(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"dir", "checkpoint_every", "keep", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "state", keys, v) != 0)
        return -1;
    if (v[0] && cfg_dup_string(c, v[0], "state.dir", &cfg->state.dir) != 0)
        return -1;
    size_t keep = cfg->state.keep;
    if (v[2] && cfg_get_count(c, v[2], "state.keep", 1, 100, &keep) != 0)
        return -1;
    cfg->state.keep = (unsigned)keep;
    return v[1] ? cfg_get_duration(c, v[1], "state.checkpoint_every", &cfg->state.checkpoint_every_s) : 0;
}

static int parse_dead_letter(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v;
    if (parse_one_key(c, map, "dead_letter", "topic", &v) != 0)
        return -1;
    return cfg_dup_string(c, v, "dead_letter.topic", &cfg->dead_letter.topic);
}

/* ---- whole file ----------------------------------------------------------------------------------- */

static int fill_defaults(const cfg_ctx *c, rtml_config *cfg) {
    const char *task = cfg->model.type ? implied_task(cfg->model.type) : "binary";
    if (cfg_set_default(&cfg->model.engine, "native") || cfg_set_default(&cfg->model.type, "logistic") ||
        cfg_set_default(&cfg->model.task, task ? task : "binary") || cfg_set_default(&cfg->model.optimizer, "sgd") ||
        cfg_set_default(&cfg->model.schedule, "constant") || cfg_set_default(&cfg->model.loss, "squared") ||
        cfg_set_default(&cfg->model.activation, "relu") || cfg_set_default(&cfg->state.dir, "./state"))
        return cfg_fail(c, 1, "config", "out of memory");
    return 0;
}

typedef int (*section_fn)(const cfg_ctx *, const yaml_node_t *, rtml_config *);

static int parse_root(const cfg_ctx *c, const yaml_node_t *root, rtml_config *cfg) {
    static const section_fn fns[] = {parse_kafka,  parse_input,    parse_features, rtml_config_parse_label,
                                     parse_model,  parse_output,   parse_delivery, parse_state,
                                     parse_dead_letter, rtml_config_parse_monitor, rtml_config_parse_drift,
                                     rtml_config_parse_log, rtml_config_parse_role, rtml_config_parse_models,
                                     rtml_config_parse_workers};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (!root || cfg_is_null(root))
        return rtml_fail(c->err, c->errlen, "%s:1: empty config", c->name);
    if (cfg_fields(c, root, "", TOP_KEYS, v) != 0)
        return -1;
    for (size_t i = 0; i < COUNT(fns); i++)
        if (v[i] && fns[i](c, v[i], cfg) != 0)
            return -1;
    if (!v[K_FEATURES] && !rtml_config_is_tensorflow(cfg))
        return cfg_fail(c, 1, "features", "required");
    if (rtml_config_is_tensorflow(cfg) && rtml_config_check_tf(c, cfg) != 0)
        return -1;
    if (fill_defaults(c, cfg) != 0)
        return -1;
    if (rtml_config_check_drift(c, cfg) != 0) return -1;
    if (rtml_config_check_label(c, cfg) != 0) return -1;
    return rtml_config_check_scale(c, cfg);
}

static int yaml_error(const cfg_ctx *c, const yaml_parser_t *p) {
    if (p->error == YAML_MEMORY_ERROR)
        return rtml_fail(c->err, c->errlen, "%s: out of memory", c->name);
    int line = (int)p->problem_mark.line + 1;
    if (p->context)
        return rtml_fail(c->err, c->errlen, "%s:%d: YAML syntax error: %s (%s at line %d)", c->name, line,
                         p->problem ? p->problem : "unknown problem", p->context, (int)p->context_mark.line + 1);
    return rtml_fail(c->err, c->errlen, "%s:%d: YAML syntax error: %s", c->name, line,
                     p->problem ? p->problem : "unknown problem");
}

/* One event of the first pass: aliases, a second document and absurd nesting are errors. */
static int check_event(const cfg_ctx *c, const yaml_event_t *ev, int *docs, int *depth) {
    int line = (int)ev->start_mark.line + 1;
    if (ev->type == YAML_ALIAS_EVENT)
        return rtml_fail(c->err, c->errlen,
                         "%s:%d: *%.60s: YAML aliases are not supported; write the value out in full", c->name,
                         line, (const char *)ev->data.alias.anchor);
    if (ev->type == YAML_DOCUMENT_START_EVENT && ++*docs > 1)
        return rtml_fail(c->err, c->errlen, "%s:%d: ---: a config file holds one YAML document, found a second",
                         c->name, line);
    if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT)
        if (++*depth > CFG_MAX_DEPTH)
            return rtml_fail(c->err, c->errlen, "%s:%d: YAML nesting deeper than %d levels", c->name, line,
                             CFG_MAX_DEPTH);
    if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT)
        --*depth;
    return 0;
}

/* First pass over the event stream: syntax errors, aliases, extra documents and deep nesting, with lines.
 * It stops at the first problem, so hostile input costs little (libyaml's scanner slows with depth). */
static int check_events(const cfg_ctx *c, const char *buf, size_t len) {
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = 0, docs = 0, depth = 0, done = 0;
    if (!yaml_parser_initialize(&p))
        return rtml_fail(c->err, c->errlen, "%s: out of memory", c->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (rc == 0 && !done) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = yaml_error(c, &p);
            break;
        }
        rc = check_event(c, &ev, &docs, &depth);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

static int load_document(const cfg_ctx *c, const char *buf, size_t len, yaml_document_t *doc) {
    yaml_parser_t p;
    int rc = 0;
    if (!yaml_parser_initialize(&p))
        return rtml_fail(c->err, c->errlen, "%s: out of memory", c->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&p, doc))
        rc = yaml_error(c, &p);
    yaml_parser_delete(&p);
    return rc;
}

int rtml_config_parse(const char *name, const char *buf, size_t len, rtml_config *out, char *err,
                      size_t errlen) {
    yaml_document_t doc;
    cfg_ctx c = {name ? name : "(config)", &doc, err, errlen};
    memset(out, 0, sizeof *out);
    if (check_events(&c, buf, len) != 0 || load_document(&c, buf, len, &doc) != 0)
        return -1;
    out->input.csv_delimiter = ',';
    out->input.csv_header = 1;
    out->input.max_record_bytes = 1048576;
    out->model.learning_rate = 0.05;
    out->model.power_t = 0.5;
    out->model.decay_every = 10000;
    out->model.decay_rate = 0.5;
    out->model.ftrl_alpha = 0.1;
    out->model.ftrl_beta = 1;
    out->model.huber_delta = 1;
    out->model.batch = 1;
    out->model.seed = 1;
    out->state.checkpoint_every_s = 10;
    out->state.keep = 3;
    rtml_tf_config_defaults(&out->model.tf);
    int rc = (out->path = strdup(c.name)) ? parse_root(&c, yaml_document_get_root_node(&doc), out)
                                          : rtml_fail(err, errlen, "%s: out of memory", c.name);
    yaml_document_delete(&doc);
    if (rc != 0)
        rtml_config_free(out);
    return rc;
}

int rtml_config_load(const char *path, rtml_config *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rtml_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int failed = 0;
    for (;;) {
        if (len == cap) {
            char *grown = realloc(buf, cap ? cap * 2 : 4096);
            if (!grown) {
                errno = ENOMEM;
                failed = 1;
                break;
            }
            buf = grown;
            cap = cap ? cap * 2 : 4096;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            failed = ferror(f);
            break;
        }
    }
    int saved = errno;
    fclose(f);
    int rc = failed ? rtml_fail(err, errlen, "%s: cannot read: %s", path, strerror(saved))
                    : rtml_config_parse(path, buf, len, out, err, errlen);
    free(buf);
    return rc;
}

int rtml_config_check_run(const rtml_config *cfg, char *err, size_t errlen) {
    const char *name = cfg->path ? cfg->path : "(config)";
    const char *servers = rtml_config_kafka(cfg, "bootstrap.servers");
    if (!servers || !*servers)
        return rtml_fail(err, errlen, "%s: kafka.bootstrap.servers: required by `rtml run`", name);
    if (cfg->input.n_topics == 0)
        return rtml_fail(err, errlen, "%s: input.topics: required by `rtml run`", name);
    if (!cfg->output.topic && cfg->role != RTML_ROLE_TRAINER)
        return rtml_fail(err, errlen, "%s: output.topic: required by `rtml run` (except with role: trainer)", name);
    /* A CSV header taken from the first message would, after a restart from a committed offset, be a
     * data row: Kafka input needs the columns named in the config. */
    if (cfg->input.format == RTML_FMT_CSV && cfg->input.n_csv_columns == 0)
        return rtml_fail(err, errlen, "%s: input.csv.columns: required by `rtml run` for CSV input (a topic has no "
                         "header row)", name);
    return 0;
}

const char *rtml_config_kafka(const rtml_config *cfg, const char *key) {
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (cfg->kafka[i].key && strcmp(cfg->kafka[i].key, key) == 0)
            return cfg->kafka[i].value;
    return NULL;
}

const char *rtml_format_name(rtml_format f) {
    return (unsigned)f < COUNT(FORMAT_NAMES) ? FORMAT_NAMES[f] : "?";
}

void rtml_config_free(rtml_config *cfg) {
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    for (size_t i = 0; i < cfg->input.n_topics; i++)
        free(cfg->input.topics[i]);
    for (size_t i = 0; i < cfg->n_features; i++) {
        free(cfg->features[i].name);
        free(cfg->features[i].field);
        for (size_t j = 0; j < cfg->features[i].n_transforms; j++) {
            free(cfg->features[i].transforms[j].bounds);
            free(cfg->features[i].transforms[j].with);
        }
        free(cfg->features[i].transforms);
    }
    for (size_t i = 0; i < cfg->input.n_csv_columns; i++)
        free(cfg->input.csv_columns[i]);
    for (size_t i = 0; cfg->model.classes && i < cfg->model.n_classes; i++)
        free(cfg->model.classes[i]);
    free(cfg->path);
    free(cfg->kafka);
    free(cfg->input.topics);
    free(cfg->features);
    rtml_config_free_label(cfg);
    rtml_tf_config_free(&cfg->model.tf);
    free(cfg->model.engine);
    free(cfg->model.type);
    free(cfg->model.optimizer);
    free(cfg->input.schema);
    free(cfg->input.message);
    free(cfg->input.csv_columns);
    free(cfg->model.task);
    free(cfg->model.schedule);
    free(cfg->model.loss);
    free(cfg->model.hidden);
    free(cfg->model.activation);
    free(cfg->model.classes);
    free(cfg->output.topic);
    free(cfg->output.schema);
    free(cfg->output.message);
    free(cfg->state.dir);
    free(cfg->dead_letter.topic);
    rtml_config_free_monitor(cfg);
    rtml_config_free_scale(cfg);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- printing ------------------------------------------------------------------------------------- */

static const char *or_default(const char *s, const char *dflt) { return s ? s : dflt; }

static void print_kafka(const rtml_config *cfg, FILE *out) {
    fputs(cfg->n_kafka ? "kafka:\n" : "kafka: {}\n", out);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        fputs("  ", out);
        cfg_put_str(out, cfg->kafka[i].key);
        fputs(": ", out);
        /* `rtml check` output ends up in terminals, CI logs and bug reports: never print a secret. */
        cfg_put_str(out, rtml_config_is_secret(cfg->kafka[i].key) ? "[redacted]" : cfg->kafka[i].value);
        fputc('\n', out);
    }
}

static void print_key_str(FILE *out, const char *indent_key, const char *value) {
    fputs(indent_key, out);
    cfg_put_str(out, value);
    fputc('\n', out);
}

static void print_list(FILE *out, const char *indent, char *const *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s- ", indent);
        cfg_put_str(out, items[i]);
        fputc('\n', out);
    }
}

static void print_input(const rtml_config *cfg, FILE *out) {
    fputs(cfg->input.n_topics ? "input:\n  topics:\n" : "input:\n  topics: []\n", out);
    print_list(out, "    ", cfg->input.topics, cfg->input.n_topics);
    fprintf(out, "  format: %s\n", rtml_format_name(cfg->input.format));
    if (cfg->input.schema)
        print_key_str(out, "  schema: ", cfg->input.schema);
    if (cfg->input.message)
        print_key_str(out, "  message: ", cfg->input.message);
    if (cfg->input.format == RTML_FMT_CSV) {
        char delim[2] = {cfg->input.csv_delimiter ? cfg->input.csv_delimiter : ',', '\0'};
        fputs("  csv:\n", out);
        print_key_str(out, "    delimiter: ", delim);
        fprintf(out, "    header: %s\n", cfg->input.csv_header ? "true" : "false");
        if (cfg->input.n_csv_columns)
            fputs("    columns:\n", out);
        print_list(out, "      ", cfg->input.csv_columns, cfg->input.n_csv_columns);
    }
    fprintf(out, "  max_record_bytes: %zu\n", cfg->input.max_record_bytes ? cfg->input.max_record_bytes : 1048576);
}

static void print_numbers(FILE *out, const double *v, size_t n) {
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        cfg_put_num(out, v[i]);
    }
    fputc(']', out);
}

static void print_transform(const rtml_transform *t, FILE *out) {
    double clip[2] = {t->a, t->b};
    fprintf(out, "      - %s", rtml_transform_name(t->kind));
    switch (t->kind) {
    case RTML_TX_CLIP:
        fputs(": ", out);
        print_numbers(out, clip, 2);
        break;
    case RTML_TX_IMPUTE_MEAN:
        fputs(": mean", out);
        break;
    case RTML_TX_IMPUTE_CONST:
        fputs(": ", out);
        cfg_put_num(out, t->a);
        break;
    case RTML_TX_BUCKETIZE:
        fputs(": ", out);
        print_numbers(out, t->bounds, t->n_bounds);
        break;
    case RTML_TX_ONE_HOT:
    case RTML_TX_HASH:
    case RTML_TX_BAG_OF_WORDS:
    case RTML_TX_ARRAY:
        fprintf(out, ": %zu", t->n);
        break;
    case RTML_TX_CROSS:
        fputs(":\n          with: ", out);
        cfg_put_str(out, t->with);
        fprintf(out, "\n          buckets: %zu", t->n);
        break;
    default:
        break;
    }
    fputc('\n', out);
}

static void print_features(const rtml_config *cfg, FILE *out) {
    if (!cfg->n_features && rtml_config_is_tensorflow(cfg))
        return; /* its inputs read fields: no features key at all */
    fputs(cfg->n_features ? "features:\n" : "features: []\n", out);
    for (size_t i = 0; i < cfg->n_features; i++) {
        const rtml_feature *f = &cfg->features[i];
        fputs("  - name: ", out);
        cfg_put_str(out, f->name);
        fputs("\n    field: ", out);
        cfg_put_str(out, f->field);
        fputc('\n', out);
        if (f->n_transforms)
            fputs("    transforms:\n", out);
        for (size_t j = 0; j < f->n_transforms; j++)
            print_transform(&f->transforms[j], out);
    }
}

static void print_model_num(FILE *out, const char *key, double v) {
    fprintf(out, "  %s: ", key);
    cfg_put_num(out, v);
    fputc('\n', out);
}

/* The keys that tune training: schedule, regularisation, loss, network shape, classes. */
static void print_model_tuning(const rtml_config *cfg, FILE *out) {
    print_key_str(out, "  schedule: ", or_default(cfg->model.schedule, "constant"));
    print_model_num(out, "power_t", cfg->model.power_t);
    print_model_num(out, "decay_every", cfg->model.decay_every);
    print_model_num(out, "decay_rate", cfg->model.decay_rate);
    print_model_num(out, "l2", cfg->model.l2);
    print_model_num(out, "l1", cfg->model.l1);
    fputs("  ftrl:\n    alpha: ", out);
    cfg_put_num(out, cfg->model.ftrl_alpha);
    fputs("\n    beta: ", out);
    cfg_put_num(out, cfg->model.ftrl_beta);
    fputc('\n', out);
    print_key_str(out, "  loss: ", or_default(cfg->model.loss, "squared"));
    print_model_num(out, "huber_delta", cfg->model.huber_delta);
    print_model_num(out, "clip_gradient", cfg->model.clip_gradient);
    if (cfg->model.n_hidden) {
        fputs("  hidden: [", out);
        for (size_t i = 0; i < cfg->model.n_hidden; i++)
            fprintf(out, "%s%zu", i ? ", " : "", cfg->model.hidden[i]);
        fputs("]\n", out);
    }
    print_key_str(out, "  activation: ", or_default(cfg->model.activation, "relu"));
    fprintf(out, "  batch: %zu\n", cfg->model.batch);
    if (cfg->model.classes) {
        fputs("  classes:\n", out);
        print_list(out, "    ", cfg->model.classes, cfg->model.n_classes);
    } else if (cfg->model.n_classes) {
        fprintf(out, "  classes: %zu\n", cfg->model.n_classes);
    }
}

static void print_tf_model(const rtml_config *cfg, FILE *out) {
    print_key_str(out, "  task: ", or_default(cfg->model.task, "binary"));
    if (cfg->model.n_classes && !cfg->model.classes)
        fprintf(out, "  classes: %zu\n", cfg->model.n_classes);
    if (cfg->model.classes) {
        fputs("  classes:\n", out);
        print_list(out, "    ", cfg->model.classes, cfg->model.n_classes);
    }
    fprintf(out, "  seed: %llu\n", cfg->model.seed);
    rtml_config_print_tf(&cfg->model.tf, out);
}

static void print_model(const rtml_config *cfg, FILE *out) {
    fputs("model:\n", out);
    print_key_str(out, "  engine: ", or_default(cfg->model.engine, "native"));
    if (rtml_config_is_tensorflow(cfg)) {
        print_tf_model(cfg, out);
        return;
    }
    print_key_str(out, "  type: ", or_default(cfg->model.type, "logistic"));
    print_key_str(out, "  task: ", or_default(cfg->model.task, "binary"));
    fputs("  optimizer:\n    name: ", out);
    cfg_put_str(out, or_default(cfg->model.optimizer, "sgd"));
    fputs("\n    learning_rate: ", out);
    cfg_put_num(out, cfg->model.learning_rate);
    fputc('\n', out);
    print_model_tuning(cfg, out);
    fprintf(out, "  seed: %llu\n", cfg->model.seed);
}

static void print_section(FILE *out, const char *section, const char *key, const char *value) {
    if (!value)
        return;
    fprintf(out, "%s:\n  %s: ", section, key);
    cfg_put_str(out, value);
    fputc('\n', out);
}

static void print_output(const rtml_config *cfg, FILE *out) {
    fputs("output:\n", out);
    if (cfg->output.topic) {
        fputs("  topic: ", out);
        cfg_put_str(out, cfg->output.topic);
        fputc('\n', out);
    }
    fprintf(out, "  format: %s\n", rtml_format_name(cfg->output.format));
    if (cfg->output.schema)
        print_key_str(out, "  schema: ", cfg->output.schema);
    if (cfg->output.message)
        print_key_str(out, "  message: ", cfg->output.message);
    if (cfg->output.has_schema_id)
        fprintf(out, "  schema_id: %u\n", cfg->output.schema_id);
}

void rtml_config_print(const rtml_config *cfg, FILE *out) {
    print_kafka(cfg, out);
    print_input(cfg, out);
    print_features(cfg, out);
    rtml_config_print_label(cfg, out);
    print_model(cfg, out);
    print_output(cfg, out);
    fprintf(out, "delivery: %s\n",
            cfg->delivery == RTML_DELIVERY_EXACTLY_ONCE ? "exactly_once" : "at_least_once");
    fputs("state:\n  dir: ", out);
    cfg_put_str(out, or_default(cfg->state.dir, "./state"));
    fputs("\n  checkpoint_every: ", out);
    cfg_put_num(out, cfg->state.checkpoint_every_s);
    fprintf(out, "s\n  keep: %u\n", cfg->state.keep);
    print_section(out, "dead_letter", "topic", cfg->dead_letter.topic);
    rtml_config_print_monitor(cfg, out);
    rtml_config_print_scale(cfg, out);
}
