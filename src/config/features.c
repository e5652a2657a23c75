/* features.c — the features section: each feature's name, field (a JSON Pointer, default "/" + name) and
 * chain of transforms.
 *
 *   transforms   plain names (standardize, minmax, log1p, hour_of_day, day_of_week) or one-key mappings
 *                ({clip: [lo, hi]}, {impute: mean | NUMBER}, {bucketize: [b1, ...]}, {one_hot: N},
 *                {hash: N}, {cross: {with: /ptr, buckets: N}}, {bag_of_words: N}, {array: N}). Chain rules,
 *                checked here so `rtml check` catches them: impute first; one_hot, hash, cross and
 *                bag_of_words last; array and bag_of_words alone; one_hot not straight after a step that
 *                makes fractions (standardize, minmax, log1p, impute mean); all inputs fit u32 indices. */
#include "config/features.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"

#define TX_EXPECTED "standardize, minmax, log1p, clip, impute, bucketize, hour_of_day, day_of_week, one_hot, hash, " \
                    "cross, bag_of_words, array"
#define MAX_BUCKETS (1ULL << 28)  /* hash, cross and bag_of_words widths */
#define MAX_ONE_HOT 1000000ULL    /* a one_hot vocabulary */
#define MAX_ARRAY 65536ULL        /* a dense array */
#define MAX_INPUTS 0xFFFFFFFFULL  /* sparse indices are u32 */

const char *rtml_transform_name(rtml_transform_kind k) {
    static const char *const names[] = {"standardize", "log1p",   "clip",        "minmax",      "impute",
                                        "impute",      "bucketize", "hour_of_day", "day_of_week", "one_hot",
                                        "hash",        "cross",   "bag_of_words", "array"};
    return (unsigned)k < COUNT(names) ? names[k] : "?";
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

/* aggregate: NAME — the feature reads an aggregate's value (config/aggregates.c) instead of a field. */
static int read_aggregate(const cfg_ctx *c, const yaml_node_t *n, const char *key, rtml_config *cfg, rtml_feature *f) {
    const char *name;
    if (cfg_get_string(c, n, key, &name) != 0) return -1;
    for (size_t i = 0; i < cfg->aggregates.n; i++)
        if (!strcmp(cfg->aggregates.list[i].name, name)) {
            f->aggregate = (int)i;
            size_t len = strlen(name) + sizeof "@aggregate/";
            if (!(f->field = malloc(len))) return cfg_oom(c, n, key);
            snprintf(f->field, len, "@aggregate/%s", name);
            return 0;
        }
    return cfg_fail(c, cfg_line(n), key, "no aggregate is called '%.60s'%s", name,
                    cfg->aggregates.n ? " (see the aggregates section)" : " (the config has no aggregates section)");
}

static int parse_feature(const cfg_ctx *c, const yaml_node_t *map, size_t idx, rtml_config *cfg) {
    static const char *const keys[] = {"name", "field", "transforms", "aggregate", NULL};
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
    f->aggregate = -1;
    cfg_join_key(key, path, "field");
    if (v[1] && v[3]) return cfg_fail(c, cfg_line(v[3]), key, "give a field or an aggregate, not both");
    if (v[1] && cfg_dup_pointer(c, v[1], key, &f->field) != 0)
        return -1;
    cfg_join_key(key, path, "aggregate");
    if (v[3] && read_aggregate(c, v[3], key, cfg, f) != 0) return -1;
    if (!v[1] && !v[3] && !(f->field = default_pointer(f->name)))
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

int rtml_cfg_features_parse(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
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

/* Required, except by a SavedModel whose inputs read fields themselves (model.tensorflow.inputs). */
int rtml_cfg_features_check(const cfg_ctx *c, rtml_config *cfg) {
    if (!cfg->n_features && !rtml_config_is_tensorflow(cfg)) return cfg_fail(c, 1, "features", "required");
    return 0;
}

static void print_transform(const rtml_transform *t, FILE *out) {
    double clip[2] = {t->a, t->b};
    fprintf(out, "      - %s", rtml_transform_name(t->kind));
    switch (t->kind) {
    case RTML_TX_CLIP:
        fputs(": ", out);
        cfg_print_numbers(out, clip, 2);
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
        cfg_print_numbers(out, t->bounds, t->n_bounds);
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

void rtml_cfg_features_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->n_features && rtml_config_is_tensorflow(cfg))
        return; /* its inputs read fields: no features key at all */
    fputs(cfg->n_features ? "features:\n" : "features: []\n", out);
    for (size_t i = 0; i < cfg->n_features; i++) {
        const rtml_feature *f = &cfg->features[i];
        fputs("  - name: ", out);
        cfg_put_str(out, f->name);
        fputs(f->aggregate >= 0 ? "\n    aggregate: " : "\n    field: ", out);
        cfg_put_str(out, f->aggregate >= 0 ? cfg->aggregates.list[f->aggregate].name : f->field);
        fputc('\n', out);
        if (f->n_transforms)
            fputs("    transforms:\n", out);
        for (size_t j = 0; j < f->n_transforms; j++)
            print_transform(&f->transforms[j], out);
    }
}

void rtml_cfg_features_free(rtml_config *cfg) {
    for (size_t i = 0; i < cfg->n_features; i++) {
        free(cfg->features[i].name);
        free(cfg->features[i].field);
        for (size_t j = 0; j < cfg->features[i].n_transforms; j++) {
            free(cfg->features[i].transforms[j].bounds);
            free(cfg->features[i].transforms[j].with);
        }
        free(cfg->features[i].transforms);
    }
    free(cfg->features);
}
