/* config.c — reads rtml's YAML configuration (config.h) into one rtml_config, strictly, and prints it back.
 *
 * Why this shape: a user's config is the first thing that can go wrong, so every error names the file, the
 * line and the dotted key (DESIGN.md, "Configuration (YAML)"). libyaml's document API gives a node tree with
 * line marks; a first pass over libyaml's event stream rejects what the tree would hide (syntax errors,
 * aliases, a second document, nesting deeper than any config needs). A schema walk, one short function per
 * section, then fills the struct. Any failure frees what was built, so a caller never owns half a config.
 * rtml_config_print writes YAML that parses back to an equal config (tested, and fuzzed).
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
 *
 * Anchors and aliases: an alias (*name) is rejected with its line, not resolved. A config is short enough
 * to write out in full, an error inside an expanded alias would point at the anchor instead of the use,
 * and rejecting closes off alias bombs. A bare anchor (&name) without an alias is harmless and ignored. */
#include "config.h"
#include "rtml.h"
#include "transforms.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CFG_PATH 320    /* dotted key buffer, e.g. "features[12].transforms[3].clip[1]" */
#define CFG_MAX_KEYS 24 /* most keys any one section has (model: 20) */
#define CFG_MAX_DEPTH 32 /* nesting a config never needs; deeper input would only cost libyaml time */

/* Everything the walk needs to report an error; read-only after setup. */
typedef struct {
    const char *name; /* file name for messages */
    yaml_document_t *doc;
    char *err;
    size_t errlen;
} cfg_ctx;

static const char *const TOP_KEYS[] = {"kafka", "input", "features", "label", "model", "output",
                                       "delivery", "state", "dead_letter", "monitor", NULL};
enum { K_KAFKA, K_INPUT, K_FEATURES, K_LABEL, K_MODEL, K_OUTPUT, K_DELIVERY, K_STATE, K_DLQ, K_MONITOR };

static const char *const FORMAT_NAMES[] = {"json", "csv", "avro", "protobuf"};
static const char *const OUTPUT_FORMAT_NAMES[] = {"json", "avro"};
static const rtml_format OUTPUT_FORMATS[] = {RTML_FMT_JSON, RTML_FMT_AVRO};
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
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors --------------------------------------------------------------------------------------- */

static int line_of(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 1; }

/* "NAME:LINE: KEY: reason" into the caller's buffer; returns -1. */
__attribute__((format(printf, 4, 5)))
static int cfg_fail(const cfg_ctx *c, int line, const char *key, const char *fmt, ...) {
    if (!c->err || !c->errlen)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s:%d: %s: ", c->name, line, key);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int cfg_oom(const cfg_ctx *c, const yaml_node_t *n, const char *key) {
    return cfg_fail(c, line_of(n), key, "out of memory");
}

/* ---- nodes ---------------------------------------------------------------------------------------- */

static yaml_node_t *node_at(const cfg_ctx *c, int id) { return yaml_document_get_node(c->doc, id); }

static int is_null(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = (const char *)n->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* The text of a non-null scalar without embedded NULs, or NULL. */
static const char *text_of(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return NULL;
    const char *s = (const char *)n->data.scalar.value;
    return strlen(s) == n->data.scalar.length ? s : NULL;
}

/* What a node is, for "got ..." in messages. */
static const char *describe(const yaml_node_t *n, char *buf, size_t len) {
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (is_null(n))
        return "null";
    const char *s = (const char *)n->data.scalar.value;
    snprintf(buf, len, "'%.60s%s'", s, strlen(s) > 60 ? "..." : "");
    return buf;
}

static size_t seq_len(const yaml_node_t *n) {
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(const cfg_ctx *c, const yaml_node_t *n, size_t i) {
    return node_at(c, n->data.sequence.items.start[i]);
}

static size_t map_len(const yaml_node_t *n) {
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static int want_kind(const cfg_ctx *c, const yaml_node_t *n, const char *key, yaml_node_type_t kind) {
    char buf[96];
    if (n->type == kind)
        return 0;
    return cfg_fail(c, line_of(n), key, "must be %s, got %s",
                    kind == YAML_MAPPING_NODE ? "a mapping" : "a list", describe(n, buf, sizeof buf));
}

/* Format a dotted key into dst (CFG_PATH bytes); a key too long for it is cut short, which only a message sees. */
__attribute__((format(printf, 2, 3)))
static void key_fmt(char *dst, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, CFG_PATH, fmt, ap);
    va_end(ap);
}

static void join_key(char *dst, const char *path, const char *key) {
    key_fmt(dst, "%s%s%s", path, *path ? "." : "", key);
}

/* ---- scalar values -------------------------------------------------------------------------------- */

static int get_string(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char **out) {
    char buf[96];
    const char *s = text_of(n);
    if (!s)
        return cfg_fail(c, line_of(n), key, "must be a string, got %s", describe(n, buf, sizeof buf));
    if (!*s)
        return cfg_fail(c, line_of(n), key, "must not be empty");
    *out = s;
    return 0;
}

static int dup_string(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out) {
    const char *s;
    if (get_string(c, n, key, &s) != 0)
        return -1;
    char *copy = strdup(s);
    if (!copy)
        return cfg_oom(c, n, key);
    free(*out);
    *out = copy;
    return 0;
}

/* A plain decimal number (no hex, inf or nan), finite. */
static int parse_number(const char *s, double *out) {
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v + 0.0; /* -0 becomes 0 */
    return 0;
}

typedef enum { NUM_ANY, NUM_POSITIVE, NUM_NONNEG } num_rule;

static int get_number(const cfg_ctx *c, const yaml_node_t *n, const char *key, num_rule rule,
                      double *out) {
    static const char *const what[] = {"a number", "a number > 0", "a number >= 0"};
    char buf[96];
    const char *s = text_of(n);
    double v = 0;
    int ok = s && parse_number(s, &v) == 0;
    if (!ok || (rule == NUM_POSITIVE && !(v > 0)) || (rule == NUM_NONNEG && !(v >= 0)))
        return cfg_fail(c, line_of(n), key, "must be %s, got %s", what[rule], describe(n, buf, sizeof buf));
    *out = v;
    return 0;
}

static int get_u64(const cfg_ctx *c, const yaml_node_t *n, const char *key, unsigned long long *out) {
    char buf[96];
    const char *s = text_of(n);
    int ok = s && *s && strspn(s, "0123456789") == strlen(s);
    if (ok) {
        errno = 0;
        *out = strtoull(s, NULL, 10);
        ok = errno == 0;
    }
    if (!ok)
        return cfg_fail(c, line_of(n), key, "must be a non-negative integer, got %s",
                        describe(n, buf, sizeof buf));
    return 0;
}

/* A whole number in [lo, hi] (counts, sizes, buckets). */
static int get_count(const cfg_ctx *c, const yaml_node_t *n, const char *key, unsigned long long lo,
                     unsigned long long hi, size_t *out) {
    char buf[96];
    const char *s = text_of(n);
    unsigned long long v = 0;
    int ok = s && *s && strlen(s) <= 19 && strspn(s, "0123456789") == strlen(s);
    if (ok)
        v = strtoull(s, NULL, 10);
    if (!ok || v < lo || v > hi)
        return cfg_fail(c, line_of(n), key, "must be an integer from %llu to %llu, got %s", lo, hi,
                        describe(n, buf, sizeof buf));
    *out = (size_t)v;
    return 0;
}

/* true or false (YAML 1.2 core spellings only, so 'yes' and 'on' stay strings elsewhere). */
static int get_bool(const cfg_ctx *c, const yaml_node_t *n, const char *key, int *out) {
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
    char buf[96];
    const char *s = text_of(n);
    for (size_t i = 0; s && i < COUNT(yes); i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return cfg_fail(c, line_of(n), key, "must be true or false, got %s", describe(n, buf, sizeof buf));
}

/* A list of 1..max unique non-empty strings (csv columns, class names) into *out / *n. */
static int dup_string_list(const cfg_ctx *c, const yaml_node_t *n, const char *path, size_t min, size_t max,
                           char ***out, size_t *count) {
    char key[CFG_PATH];
    if (want_kind(c, n, path, YAML_SEQUENCE_NODE) != 0)
        return -1;
    size_t len = seq_len(n);
    if (len < min || len > max)
        return cfg_fail(c, line_of(n), path, "must list %zu to %zu names, got %zu", min, max, len);
    if (!(*out = calloc(len, sizeof **out)))
        return cfg_oom(c, n, path);
    *count = len;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = seq_item(c, n, i);
        key_fmt(key, "%s[%zu]", path, i);
        if (dup_string(c, item, key, &(*out)[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j], (*out)[i]) == 0)
                return cfg_fail(c, line_of(item), key, "duplicate name '%.60s' (also %s[%zu])", (*out)[i], path, j);
    }
    return 0;
}

/* "10s", "500ms", "2m", "1h", or a plain number of seconds; > 0. */
static int parse_duration(const char *s, double *out) {
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}};
    size_t n = strlen(s), u = n;
    char num[64];
    while (u > 0 && isalpha((unsigned char)s[u - 1]))
        u--;
    if (u == 0 || u >= sizeof num)
        return -1;
    memcpy(num, s, u);
    num[u] = '\0';
    double v;
    if (parse_number(num, &v) != 0)
        return -1;
    for (size_t i = 0; i < COUNT(units); i++) {
        if (strcmp(s + u, units[i].unit) == 0) {
            *out = v * units[i].mult;
            return *out > 0 && isfinite(*out) ? 0 : -1;
        }
    }
    return -1;
}

static int get_duration(const cfg_ctx *c, const yaml_node_t *n, const char *key, double *out) {
    char buf[96];
    const char *s = text_of(n);
    if (!s || parse_duration(s, out) != 0)
        return cfg_fail(c, line_of(n), key,
                        "must be a duration > 0 (e.g. 10s, 500ms, 2m, 1h, or a number of seconds), got %s",
                        describe(n, buf, sizeof buf));
    return 0;
}

/* One of names[]; *idx gets its index. what names the kind of value in messages ("model type"). */
static int get_enum(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what,
                    const char *const *names, size_t count, size_t *idx) {
    const char *s;
    char expected[128] = "";
    if (get_string(c, n, key, &s) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *idx = i;
            return 0;
        }
        size_t used = strlen(expected);
        snprintf(expected + used, sizeof expected - used, "%s%s", i ? "|" : "", names[i]);
    }
    return cfg_fail(c, line_of(n), key, "unknown %s '%.60s' (expected %s)", what, s, expected);
}

static int dup_enum(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what,
                    const char *const *names, size_t count, char **out) {
    size_t i;
    if (get_enum(c, n, key, what, names, count, &i) != 0)
        return -1;
    char *copy = strdup(names[i]);
    if (!copy)
        return cfg_oom(c, n, key);
    free(*out);
    *out = copy;
    return 0;
}

/* RFC 6901: "" or "/"-separated tokens in which '~' is only ever "~0" or "~1". We require the leading '/'. */
static const char *pointer_problem(const char *p) {
    if (p[0] != '/')
        return "must be a JSON Pointer starting with '/'";
    for (; *p; p++)
        if (p[0] == '~' && p[1] != '0' && p[1] != '1')
            return "must be a valid JSON Pointer: '~' must be followed by 0 or 1 (write ~0 for '~', ~1 for '/')";
    return NULL;
}

static int dup_pointer(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out) {
    const char *s, *why;
    if (get_string(c, n, key, &s) != 0)
        return -1;
    if ((why = pointer_problem(s)) != NULL)
        return cfg_fail(c, line_of(n), key, "%s, got '%.60s'", why, s);
    return dup_string(c, n, key, out);
}

/* "HOST:PORT", port numeric 1..65535. */
static int listen_ok(const char *s) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return 0;
    const char *port = colon + 1;
    size_t digits = strlen(port);
    if (digits == 0 || digits > 5 || strspn(port, "0123456789") != digits)
        return 0;
    long v = strtol(port, NULL, 10);
    return v >= 1 && v <= 65535;
}

/* ---- mappings ------------------------------------------------------------------------------------- */

/* Check that map is a mapping whose keys are all in keys[] (NULL-terminated), each at most once, and put
 * the value node of keys[i] into vals[i] (NULL when absent). path is the mapping's dotted key. */
static int cfg_fields(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *const *keys,
                      yaml_node_t **vals) {
    int lines[CFG_MAX_KEYS] = {0};
    char dotted[CFG_PATH];
    if (want_kind(c, map, *path ? path : "top level", YAML_MAPPING_NODE) != 0)
        return -1;
    for (size_t i = 0; i < CFG_MAX_KEYS; i++)
        vals[i] = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key);
        const char *ks = text_of(k);
        if (!ks || !*ks)
            return cfg_fail(c, line_of(k), *path ? path : "top level", "keys must be non-empty strings");
        join_key(dotted, path, ks);
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], ks) != 0)
            i++;
        if (!keys[i]) {
            char expected[256] = "";
            for (size_t j = 0; keys[j]; j++) {
                size_t used = strlen(expected);
                snprintf(expected + used, sizeof expected - used, "%s%s", j ? ", " : "", keys[j]);
            }
            return cfg_fail(c, line_of(k), dotted, "unknown key (expected one of: %s)", expected);
        }
        if (vals[i])
            return cfg_fail(c, line_of(k), dotted, "duplicate key (first at line %d)", lines[i]);
        vals[i] = node_at(c, p->value);
        lines[i] = line_of(k);
    }
    return 0;
}

/* Put a copy of value into *field unless it is set; -1 when out of memory. */
static int set_default(char **field, const char *value) {
    if (!*field && !(*field = strdup(value)))
        return -1;
    return 0;
}

/* ---- sections ------------------------------------------------------------------------------------- */

static int parse_kafka(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    char dotted[CFG_PATH], buf[96];
    if (want_kind(c, map, "kafka", YAML_MAPPING_NODE) != 0)
        return -1;
    size_t n = map_len(map);
    if (n && !(cfg->kafka = calloc(n, sizeof *cfg->kafka)))
        return cfg_oom(c, map, "kafka");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        const char *ks = text_of(k), *vs;
        if (!ks || !*ks)
            return cfg_fail(c, line_of(k), "kafka", "keys must be non-empty strings");
        join_key(dotted, "kafka", ks);
        for (size_t i = 0; i < cfg->n_kafka; i++)
            if (strcmp(cfg->kafka[i].key, ks) == 0)
                return cfg_fail(c, line_of(k), dotted, "duplicate key (first at line %d)", cfg->kafka[i].line);
        if (v->type != YAML_SCALAR_NODE)
            return cfg_fail(c, line_of(v), dotted, "must be a string, got %s", describe(v, buf, sizeof buf));
        vs = (const char *)v->data.scalar.value;
        if (is_null(v) && !*vs)
            return cfg_fail(c, line_of(k), dotted, "must have a value");
        if (strlen(vs) != v->data.scalar.length)
            return cfg_fail(c, line_of(v), dotted, "must not contain NUL characters");
        rtml_kv *kv = &cfg->kafka[cfg->n_kafka++];
        kv->line = line_of(k);
        if (!(kv->key = strdup(ks)) || !(kv->value = strdup(vs)))
            return cfg_oom(c, k, dotted);
    }
    return 0;
}

static int parse_topics(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    char key[CFG_PATH], buf[96];
    if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
        if (!(cfg->input.topics = calloc(1, sizeof(char *))))
            return cfg_oom(c, n, "input.topics");
        cfg->input.n_topics = 1;
        return dup_string(c, n, "input.topics", &cfg->input.topics[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, line_of(n), "input.topics", "must be a list of topics or a topic name, got %s",
                        describe(n, buf, sizeof buf));
    size_t len = seq_len(n);
    if (len && !(cfg->input.topics = calloc(len, sizeof(char *))))
        return cfg_oom(c, n, "input.topics");
    cfg->input.n_topics = len;
    for (size_t i = 0; i < len; i++) {
        key_fmt(key, "input.topics[%zu]", i);
        if (dup_string(c, seq_item(c, n, i), key, &cfg->input.topics[i]) != 0)
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
        if (get_string(c, v[0], "input.csv.delimiter", &d) != 0)
            return -1;
        if (strlen(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
            return cfg_fail(c, line_of(v[0]), "input.csv.delimiter",
                            "must be one character other than a quote or a line break, got '%.60s'", d);
        cfg->input.csv_delimiter = d[0];
    }
    if (v[1] && get_bool(c, v[1], "input.csv.header", &cfg->input.csv_header) != 0)
        return -1;
    return v[2] ? dup_string_list(c, v[2], "input.csv.columns", 1, 100000, &cfg->input.csv_columns,
                                  &cfg->input.n_csv_columns)
                : 0;
}

/* What each format needs and allows: avro/protobuf a schema, protobuf a message, csv its options. */
static int check_input(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, const rtml_config *cfg) {
    rtml_format f = cfg->input.format;
    const char *name = rtml_format_name(f);
    int line = v[1] ? line_of(v[1]) : line_of(map);
    if ((f == RTML_FMT_AVRO || f == RTML_FMT_PROTOBUF) && !v[2])
        return cfg_fail(c, line, "input.schema", "required by format %s (%s)", name,
                        f == RTML_FMT_AVRO ? "the .avsc file" : "a descriptor set from protoc --descriptor_set_out");
    if (f == RTML_FMT_PROTOBUF && !v[3])
        return cfg_fail(c, line, "input.message", "required by format protobuf (the fully qualified message name)");
    if (v[2] && f != RTML_FMT_AVRO && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, line_of(v[2]), "input.schema", "only used by format avro or protobuf, not %s", name);
    if (v[3] && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, line_of(v[3]), "input.message", "only used by format protobuf, not %s", name);
    if (v[4] && f != RTML_FMT_CSV)
        return cfg_fail(c, line_of(v[4]), "input.csv", "only used by format csv, not %s", name);
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
        if (get_enum(c, v[1], "input.format", "format", FORMAT_NAMES, COUNT(FORMAT_NAMES), &fmt) != 0)
            return -1;
        cfg->input.format = (rtml_format)fmt;
    }
    if (v[2] && dup_string(c, v[2], "input.schema", &cfg->input.schema) != 0)
        return -1;
    if (v[3] && dup_string(c, v[3], "input.message", &cfg->input.message) != 0)
        return -1;
    if (v[4] && parse_csv(c, v[4], cfg) != 0)
        return -1;
    if (v[5] && get_count(c, v[5], "input.max_record_bytes", 1, 1ULL << 30, &cfg->input.max_record_bytes) != 0)
        return -1;
    return check_input(c, v, map, cfg);
}

static int parse_clip(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || seq_len(n) != 2)
        return cfg_fail(c, line_of(n), path, "must be a list of two numbers [lo, hi], got %s",
                        n->type == YAML_SEQUENCE_NODE ? "a list of another length" : describe(n, buf, sizeof buf));
    double b[2];
    for (size_t i = 0; i < 2; i++) {
        key_fmt(key, "%s[%zu]", path, i);
        if (get_number(c, seq_item(c, n, i), key, NUM_ANY, &b[i]) != 0)
            return -1;
    }
    if (!(b[0] < b[1]))
        return cfg_fail(c, line_of(n), path, "lo must be less than hi, got [%g, %g]", b[0], b[1]);
    t->kind = RTML_TX_CLIP;
    t->a = b[0];
    t->b = b[1];
    return 0;
}

/* {impute: mean} or {impute: NUMBER}. */
static int parse_impute(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char buf[96];
    const char *s = text_of(n);
    if (s && strcmp(s, "mean") == 0) {
        t->kind = RTML_TX_IMPUTE_MEAN;
        return 0;
    }
    if (!s || parse_number(s, &t->a) != 0)
        return cfg_fail(c, line_of(n), path, "must be 'mean' or a number, got %s", describe(n, buf, sizeof buf));
    t->kind = RTML_TX_IMPUTE_CONST;
    return 0;
}

/* {bucketize: [b1, b2, ...]}: at least one boundary, strictly increasing. */
static int parse_bucketize(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || seq_len(n) == 0)
        return cfg_fail(c, line_of(n), path, "must be a list of one or more increasing numbers, got %s",
                        n->type == YAML_SEQUENCE_NODE ? "an empty list" : describe(n, buf, sizeof buf));
    size_t len = seq_len(n);
    if (!(t->bounds = calloc(len, sizeof *t->bounds)))
        return cfg_oom(c, n, path);
    t->kind = RTML_TX_BUCKETIZE;
    t->n_bounds = len;
    for (size_t i = 0; i < len; i++) {
        key_fmt(key, "%s[%zu]", path, i);
        if (get_number(c, seq_item(c, n, i), key, NUM_ANY, &t->bounds[i]) != 0)
            return -1;
        if (i && !(t->bounds[i] > t->bounds[i - 1]))
            return cfg_fail(c, line_of(seq_item(c, n, i)), key,
                            "boundaries must be strictly increasing, got %g after %g", t->bounds[i], t->bounds[i - 1]);
    }
    return 0;
}

static int parse_one_hot(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_ONE_HOT;
    return get_count(c, n, path, 1, MAX_ONE_HOT, &t->n);
}

static int parse_hash(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_HASH;
    return get_count(c, n, path, 1, MAX_BUCKETS, &t->n);
}

static int parse_bag(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_BAG_OF_WORDS;
    return get_count(c, n, path, 1, MAX_BUCKETS, &t->n);
}

static int parse_array(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    t->kind = RTML_TX_ARRAY;
    return get_count(c, n, path, 1, MAX_ARRAY, &t->n);
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
            join_key(key, path, keys[i]);
            return cfg_fail(c, line_of(n), key, "required");
        }
    join_key(key, path, "with");
    if (dup_pointer(c, v[0], key, &t->with) != 0)
        return -1;
    join_key(key, path, "buckets");
    return get_count(c, v[1], key, 1, MAX_BUCKETS, &t->n);
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
    return cfg_fail(c, line_of(n), path, "unknown transform '%.60s' (expected " TX_EXPECTED ")", name);
}

/* {name: parameter}. */
static int parse_transform_map(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char key[CFG_PATH];
    const yaml_node_pair_t *p = n->data.mapping.pairs.start;
    const yaml_node_t *k = map_len(n) == 1 ? node_at(c, p->key) : NULL;
    const char *name = k ? text_of(k) : NULL;
    if (!name)
        return cfg_fail(c, line_of(n), path, "must be a transform name or a one-key mapping like {clip: [lo, hi]}");
    for (size_t i = 0; i < COUNT(TX_PARAM); i++) {
        if (strcmp(name, TX_PARAM[i].name) == 0) {
            join_key(key, path, name);
            return TX_PARAM[i].parse(c, node_at(c, p->value), key, t);
        }
    }
    for (size_t i = 0; i < COUNT(TX_PLAIN); i++)
        if (strcmp(name, TX_PLAIN[i].name) == 0)
            return cfg_fail(c, line_of(k), path, "transform '%s' takes no parameters; write it as a plain name",
                            name);
    return unknown_transform(c, k, path, name);
}

static int parse_transform(const cfg_ctx *c, const yaml_node_t *n, const char *path, rtml_transform *t) {
    char buf[96];
    const char *s = text_of(n);
    if (n->type == YAML_MAPPING_NODE)
        return parse_transform_map(c, n, path, t);
    if (!s)
        return cfg_fail(c, line_of(n), path,
                        "must be a transform name or a one-key mapping like {clip: [lo, hi]}, got %s",
                        describe(n, buf, sizeof buf));
    for (size_t i = 0; i < COUNT(TX_PLAIN); i++) {
        if (strcmp(s, TX_PLAIN[i].name) == 0) {
            t->kind = TX_PLAIN[i].kind;
            return 0;
        }
    }
    for (size_t i = 0; i < COUNT(TX_PARAM); i++)
        if (strcmp(s, TX_PARAM[i].name) == 0)
            return cfg_fail(c, line_of(n), path, "%s needs a parameter: write %s", s, TX_PARAM[i].example);
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
    if (want_kind(c, n, path, YAML_SEQUENCE_NODE) != 0)
        return -1;
    size_t len = seq_len(n);
    if (len && !(f->transforms = calloc(len, sizeof *f->transforms)))
        return cfg_oom(c, n, path);
    f->n_transforms = len;
    for (size_t i = 0; i < len; i++) {
        key_fmt(key, "%s[%zu]", path, i);
        if (parse_transform(c, seq_item(c, n, i), key, &f->transforms[i]) != 0)
            return -1;
    }
    for (size_t i = 0; i < len; i++) {
        key_fmt(key, "%s[%zu]", path, i);
        if ((why = chain_problem(f, i)) != NULL)
            return cfg_fail(c, line_of(seq_item(c, n, i)), key, "%s", why);
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
    key_fmt(path, "features[%zu]", idx);
    if (cfg_fields(c, map, path, keys, v) != 0)
        return -1;
    f->line = line_of(map);
    join_key(key, path, "name");
    if (!v[0])
        return cfg_fail(c, line_of(map), key, "required");
    if (dup_string(c, v[0], key, &f->name) != 0)
        return -1;
    for (size_t i = 0; i < idx; i++)
        if (strcmp(cfg->features[i].name, f->name) == 0)
            return cfg_fail(c, line_of(v[0]), key, "duplicate feature name '%.60s' (also at line %d)", f->name,
                            cfg->features[i].line);
    join_key(key, path, "field");
    if (v[1] && dup_pointer(c, v[1], key, &f->field) != 0)
        return -1;
    if (!v[1] && !(f->field = default_pointer(f->name)))
        return cfg_oom(c, map, key);
    join_key(key, path, "transforms");
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
        return cfg_fail(c, line_of(n), "features", "the features need %llu inputs, more than the %llu a row can "
                        "index; use fewer buckets", total, MAX_INPUTS);
    return 0;
}

static int parse_features(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    if (want_kind(c, n, "features", YAML_SEQUENCE_NODE) != 0)
        return -1;
    size_t len = seq_len(n);
    if (len == 0)
        return cfg_fail(c, line_of(n), "features", "must list at least one feature");
    if (!(cfg->features = calloc(len, sizeof *cfg->features)))
        return cfg_oom(c, n, "features");
    cfg->n_features = len;
    for (size_t i = 0; i < len; i++)
        if (parse_feature(c, seq_item(c, n, i), i, cfg) != 0)
            return -1;
    return check_width(c, n, cfg);
}

/* A section whose one key is required: label {field}, dead_letter {topic}, monitor {listen}. */
static int parse_one_key(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *name,
                         yaml_node_t **val) {
    const char *keys[] = {name, NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char key[CFG_PATH];
    if (cfg_fields(c, map, path, keys, v) != 0)
        return -1;
    join_key(key, path, name);
    if (!v[0])
        return cfg_fail(c, line_of(map), key, "required");
    *val = v[0];
    return 0;
}

static int parse_label(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v;
    if (parse_one_key(c, map, "label", "field", &v) != 0)
        return -1;
    return dup_pointer(c, v, "label.field", &cfg->label.field);
}

static int parse_optimizer(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg,
                           yaml_node_t **lr) {
    static const char *const keys[] = {"name", "learning_rate", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char buf[96];
    const char *what = "optimizer";
    if (n->type == YAML_SCALAR_NODE && !is_null(n))
        return dup_enum(c, n, "model.optimizer", what, OPTIMIZER_NAMES, COUNT(OPTIMIZER_NAMES),
                        &cfg->model.optimizer);
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(c, line_of(n), "model.optimizer",
                        "must be an optimizer name or a mapping {name, learning_rate}, got %s",
                        describe(n, buf, sizeof buf));
    if (cfg_fields(c, n, "model.optimizer", keys, v) != 0)
        return -1;
    *lr = v[1];
    return v[0] ? dup_enum(c, v[0], "model.optimizer.name", what, OPTIMIZER_NAMES, COUNT(OPTIMIZER_NAMES),
                           &cfg->model.optimizer)
                : 0;
}

static int parse_learning_rate(const cfg_ctx *c, yaml_node_t *top, yaml_node_t *opt, rtml_config *cfg) {
    if (top && opt)
        return cfg_fail(c, line_of(opt), "model.optimizer.learning_rate",
                        "conflicts with model.learning_rate at line %d; give it once", line_of(top));
    if (top)
        return get_number(c, top, "model.learning_rate", NUM_POSITIVE, &cfg->model.learning_rate);
    if (opt)
        return get_number(c, opt, "model.optimizer.learning_rate", NUM_POSITIVE, &cfg->model.learning_rate);
    return 0;
}

enum {
    M_ENGINE, M_TYPE, M_TASK, M_OPTIMIZER, M_LR, M_SCHEDULE, M_POWER_T, M_DECAY_EVERY, M_DECAY_RATE, M_L2, M_L1,
    M_FTRL, M_LOSS, M_HUBER_DELTA, M_CLIP_GRADIENT, M_HIDDEN, M_ACTIVATION, M_BATCH, M_CLASSES, M_SEED
};
static const char *const MODEL_KEYS[] = {"engine",  "type",        "task",          "optimizer", "learning_rate",
                                         "schedule", "power_t",    "decay_every",   "decay_rate", "l2",
                                         "l1",       "ftrl",       "loss",          "huber_delta", "clip_gradient",
                                         "hidden",   "activation", "batch",         "classes",   "seed",
                                         NULL};

/* ftrl: {alpha: 0.1, beta: 1.0} — FTRL-Proximal's per-coordinate learning-rate parameters. */
static int parse_ftrl(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"alpha", "beta", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "model.ftrl", keys, v) != 0)
        return -1;
    if (v[0] && get_number(c, v[0], "model.ftrl.alpha", NUM_POSITIVE, &cfg->model.ftrl_alpha) != 0)
        return -1;
    return v[1] ? get_number(c, v[1], "model.ftrl.beta", NUM_NONNEG, &cfg->model.ftrl_beta) : 0;
}

/* hidden: [32, 16] — one to three layer sizes. */
static int parse_hidden(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || seq_len(n) < 1 || seq_len(n) > 3)
        return cfg_fail(c, line_of(n), "model.hidden", "must be a list of 1 to 3 layer sizes like [32, 16], got %s",
                        n->type == YAML_SEQUENCE_NODE ? "a list of another length" : describe(n, buf, sizeof buf));
    size_t len = seq_len(n);
    if (!(cfg->model.hidden = calloc(len, sizeof *cfg->model.hidden)))
        return cfg_oom(c, n, "model.hidden");
    cfg->model.n_hidden = len;
    for (size_t i = 0; i < len; i++) {
        key_fmt(key, "model.hidden[%zu]", i);
        if (get_count(c, seq_item(c, n, i), key, 1, 4096, &cfg->model.hidden[i]) != 0)
            return -1;
    }
    return 0;
}

/* classes: [a, b, c] (names, in index order) or classes: 3 (a count; names learned from the labels). */
static int parse_classes(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    if (n->type == YAML_SEQUENCE_NODE)
        return dup_string_list(c, n, "model.classes", 2, MAX_CLASSES, &cfg->model.classes, &cfg->model.n_classes);
    if (n->type == YAML_SCALAR_NODE && !is_null(n) && get_count(c, n, "model.classes", 2, MAX_CLASSES,
                                                                  &cfg->model.n_classes) == 0)
        return 0;
    char buf[96];
    return cfg_fail(c, line_of(n), "model.classes",
                    "must be a list of 2 or more class names or a number of classes >= 2, got %s",
                    describe(n, buf, sizeof buf));
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
        return cfg_fail(c, line_of(v[M_TASK]), "model.task", "'%s' contradicts model.type %s, which is %s",
                        cfg->model.task, cfg->model.type, implied);
    if (!cfg->model.task && !(cfg->model.task = strdup(implied ? implied : "binary")))
        return cfg_oom(c, map, "model.task");
    int multiclass = strcmp(cfg->model.task, "multiclass") == 0;
    if (multiclass && !cfg->model.n_classes)
        return cfg_fail(c, line_of(v[M_TYPE] ? v[M_TYPE] : map), "model.classes",
                        "required by a multiclass model: the class names, e.g. [cat, dog, bird], or their number");
    if (!multiclass && v[M_CLASSES])
        return cfg_fail(c, line_of(v[M_CLASSES]), "model.classes",
                        "only a multiclass model (type softmax, or mlp with task multiclass) has classes");
    return 0;
}

/* The schedule, loss, regularisation and network keys: numbers and names with their ranges. */
static int parse_model_tuning(const cfg_ctx *c, yaml_node_t *const *v, rtml_config *cfg) {
    double rate;
    if (v[M_SCHEDULE] && dup_enum(c, v[M_SCHEDULE], "model.schedule", "schedule", SCHEDULE_NAMES,
                                  COUNT(SCHEDULE_NAMES), &cfg->model.schedule) != 0)
        return -1;
    if (v[M_POWER_T] && get_number(c, v[M_POWER_T], "model.power_t", NUM_POSITIVE, &cfg->model.power_t) != 0)
        return -1;
    if (v[M_DECAY_EVERY] &&
        get_number(c, v[M_DECAY_EVERY], "model.decay_every", NUM_POSITIVE, &cfg->model.decay_every) != 0)
        return -1;
    if (v[M_DECAY_RATE]) {
        if (get_number(c, v[M_DECAY_RATE], "model.decay_rate", NUM_POSITIVE, &rate) != 0)
            return -1;
        if (rate > 1)
            return cfg_fail(c, line_of(v[M_DECAY_RATE]), "model.decay_rate", "must be in (0, 1], got %g", rate);
        cfg->model.decay_rate = rate;
    }
    if (v[M_L2] && get_number(c, v[M_L2], "model.l2", NUM_NONNEG, &cfg->model.l2) != 0)
        return -1;
    if (v[M_L1] && get_number(c, v[M_L1], "model.l1", NUM_NONNEG, &cfg->model.l1) != 0)
        return -1;
    if (v[M_FTRL] && parse_ftrl(c, v[M_FTRL], cfg) != 0)
        return -1;
    if (v[M_LOSS] && dup_enum(c, v[M_LOSS], "model.loss", "loss", LOSS_NAMES, COUNT(LOSS_NAMES), &cfg->model.loss))
        return -1;
    if (v[M_HUBER_DELTA] &&
        get_number(c, v[M_HUBER_DELTA], "model.huber_delta", NUM_POSITIVE, &cfg->model.huber_delta) != 0)
        return -1;
    if (v[M_CLIP_GRADIENT] &&
        get_number(c, v[M_CLIP_GRADIENT], "model.clip_gradient", NUM_NONNEG, &cfg->model.clip_gradient) != 0)
        return -1;
    if (v[M_HIDDEN] && parse_hidden(c, v[M_HIDDEN], cfg) != 0)
        return -1;
    if (v[M_ACTIVATION] && dup_enum(c, v[M_ACTIVATION], "model.activation", "activation", ACTIVATION_NAMES,
                                    COUNT(ACTIVATION_NAMES), &cfg->model.activation) != 0)
        return -1;
    return v[M_BATCH] ? get_count(c, v[M_BATCH], "model.batch", 1, 65536, &cfg->model.batch) : 0;
}

static int parse_model(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v[CFG_MAX_KEYS], *opt_lr = NULL;
    if (cfg_fields(c, map, "model", MODEL_KEYS, v) != 0)
        return -1;
    if (v[M_ENGINE] && dup_enum(c, v[M_ENGINE], "model.engine", "engine", ENGINE_NAMES, COUNT(ENGINE_NAMES),
                                &cfg->model.engine) != 0)
        return -1;
    if (v[M_TYPE] && dup_enum(c, v[M_TYPE], "model.type", "model type", TYPE_NAMES, COUNT(TYPE_NAMES),
                              &cfg->model.type) != 0)
        return -1;
    if (v[M_TASK] && dup_enum(c, v[M_TASK], "model.task", "task", TASK_NAMES, COUNT(TASK_NAMES),
                              &cfg->model.task) != 0)
        return -1;
    if (v[M_OPTIMIZER] && parse_optimizer(c, v[M_OPTIMIZER], cfg, &opt_lr) != 0)
        return -1;
    if (parse_learning_rate(c, v[M_LR], opt_lr, cfg) != 0 || parse_model_tuning(c, v, cfg) != 0)
        return -1;
    if (v[M_CLASSES] && parse_classes(c, v[M_CLASSES], cfg) != 0)
        return -1;
    if (v[M_SEED] && get_u64(c, v[M_SEED], "model.seed", &cfg->model.seed) != 0)
        return -1;
    if (set_default(&cfg->model.type, "logistic") != 0)
        return cfg_oom(c, map, "model.type");
    return check_model(c, v, map, cfg);
}

static int parse_output(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"topic", "format", "schema", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    size_t fmt;
    if (cfg_fields(c, map, "output", keys, v) != 0)
        return -1;
    if (v[0] && dup_string(c, v[0], "output.topic", &cfg->output.topic) != 0)
        return -1;
    if (v[1]) {
        if (get_enum(c, v[1], "output.format", "output format", OUTPUT_FORMAT_NAMES,
                     COUNT(OUTPUT_FORMAT_NAMES), &fmt) != 0)
            return -1;
        cfg->output.format = OUTPUT_FORMATS[fmt];
    }
    if (v[2] && cfg->output.format != RTML_FMT_AVRO)
        return cfg_fail(c, line_of(v[2]), "output.schema", "only used by format avro, not %s",
                        rtml_format_name(cfg->output.format));
    return v[2] ? dup_string(c, v[2], "output.schema", &cfg->output.schema) : 0;
}

static int parse_delivery(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    size_t i;
    if (get_enum(c, n, "delivery", "delivery", DELIVERY_NAMES, COUNT(DELIVERY_NAMES), &i) != 0)
        return -1;
    cfg->delivery = (rtml_delivery)i;
    return 0;
}

static int parse_state(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"dir", "checkpoint_every", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "state", keys, v) != 0)
        return -1;
    if (v[0] && dup_string(c, v[0], "state.dir", &cfg->state.dir) != 0)
        return -1;
    return v[1] ? get_duration(c, v[1], "state.checkpoint_every", &cfg->state.checkpoint_every_s) : 0;
}

static int parse_dead_letter(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v;
    if (parse_one_key(c, map, "dead_letter", "topic", &v) != 0)
        return -1;
    return dup_string(c, v, "dead_letter.topic", &cfg->dead_letter.topic);
}

static int parse_monitor(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v;
    const char *s;
    if (parse_one_key(c, map, "monitor", "listen", &v) != 0 || get_string(c, v, "monitor.listen", &s) != 0)
        return -1;
    if (!listen_ok(s))
        return cfg_fail(c, line_of(v), "monitor.listen", "must be HOST:PORT with a port 1..65535, got '%.60s'", s);
    return dup_string(c, v, "monitor.listen", &cfg->monitor.listen);
}

/* ---- whole file ----------------------------------------------------------------------------------- */

static int fill_defaults(const cfg_ctx *c, rtml_config *cfg) {
    const char *task = cfg->model.type ? implied_task(cfg->model.type) : "binary";
    if (set_default(&cfg->model.engine, "native") || set_default(&cfg->model.type, "logistic") ||
        set_default(&cfg->model.task, task ? task : "binary") || set_default(&cfg->model.optimizer, "sgd") ||
        set_default(&cfg->model.schedule, "constant") || set_default(&cfg->model.loss, "squared") ||
        set_default(&cfg->model.activation, "relu") || set_default(&cfg->state.dir, "./state"))
        return cfg_fail(c, 1, "config", "out of memory");
    return 0;
}

typedef int (*section_fn)(const cfg_ctx *, const yaml_node_t *, rtml_config *);

static int parse_root(const cfg_ctx *c, const yaml_node_t *root, rtml_config *cfg) {
    static const section_fn fns[] = {parse_kafka,  parse_input,    parse_features, parse_label,
                                     parse_model,  parse_output,   parse_delivery, parse_state,
                                     parse_dead_letter, parse_monitor};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (!root || is_null(root))
        return rtml_fail(c->err, c->errlen, "%s:1: empty config", c->name);
    if (cfg_fields(c, root, "", TOP_KEYS, v) != 0)
        return -1;
    if (!v[K_FEATURES])
        return cfg_fail(c, 1, "features", "required");
    for (size_t i = 0; i < COUNT(fns); i++)
        if (v[i] && fns[i](c, v[i], cfg) != 0)
            return -1;
    return fill_defaults(c, cfg);
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
    if (!cfg->output.topic)
        return rtml_fail(err, errlen, "%s: output.topic: required by `rtml run`", name);
    /* A CSV header taken from the first message would, after a restart from a committed offset, be a
     * data row: Kafka input needs the columns named in the config. */
    if (cfg->input.format == RTML_FMT_CSV && cfg->input.n_csv_columns == 0)
        return rtml_fail(err, errlen, "%s: input.csv.columns: required by `rtml run` for CSV input (a topic has no "
                         "header row)", name);
    /* Not silently downgraded: a user who asks for exactly-once must not get at-least-once unawares. */
    if (cfg->delivery == RTML_DELIVERY_EXACTLY_ONCE)
        return rtml_fail(err, errlen, "%s: delivery: exactly_once is not available in this rtml version yet "
                         "(use at_least_once)", name);
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
    free(cfg->label.field);
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
    free(cfg->state.dir);
    free(cfg->dead_letter.topic);
    free(cfg->monitor.listen);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- printing ------------------------------------------------------------------------------------- */

/* Can s be written as a plain YAML scalar that reads back as the same text? Conservative on purpose. */
static int plain_safe(const char *s) {
    if (!isalnum((unsigned char)s[0]) && s[0] != '/' && s[0] != '.' && s[0] != '_')
        return 0;
    if (!strncmp(s, "...", 3) || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return 0;
    size_t n = strlen(s);
    if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-:~") != n)
        return 0;
    return s[n - 1] != ':';
}

/* Decode one UTF-8 sequence at s into *cp; returns its length (1 with the byte itself when invalid). */
static size_t utf8_decode(const unsigned char *s, unsigned *cp) {
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    unsigned v = len == 4 ? s[0] & 0x07u : len == 3 ? s[0] & 0x0Fu : len == 2 ? s[0] & 0x1Fu : s[0];
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = s[0];
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    *cp = v;
    return len;
}

/* A double-quoted scalar, ASCII only: everything else is escaped, so nothing can fold or vanish. */
static void put_quoted(FILE *out, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    while (*p) {
        unsigned cp;
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p++, out);
        } else if (*p >= 0x20 && *p < 0x7F) {
            fputc(*p++, out);
        } else if (*p == '\n' || *p == '\t') {
            fputs(*p++ == '\n' ? "\\n" : "\\t", out);
        } else if (*p < 0x80) {
            fprintf(out, "\\x%02X", *p++);
        } else {
            p += utf8_decode(p, &cp);
            fprintf(out, cp <= 0xFFFF ? "\\u%04X" : "\\U%08X", cp);
        }
    }
    fputc('"', out);
}

static void put_str(FILE *out, const char *s) {
    if (s && plain_safe(s))
        fputs(s, out);
    else
        put_quoted(out, s ? s : "");
}

/* Shortest of %.15g/%.17g that reads back to the same double. */
static void put_num(FILE *out, double v) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, out);
}

static const char *or_default(const char *s, const char *dflt) { return s ? s : dflt; }

static void print_kafka(const rtml_config *cfg, FILE *out) {
    fputs(cfg->n_kafka ? "kafka:\n" : "kafka: {}\n", out);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        fputs("  ", out);
        put_str(out, cfg->kafka[i].key);
        fputs(": ", out);
        put_str(out, cfg->kafka[i].value);
        fputc('\n', out);
    }
}

static void print_key_str(FILE *out, const char *indent_key, const char *value) {
    fputs(indent_key, out);
    put_str(out, value);
    fputc('\n', out);
}

static void print_list(FILE *out, const char *indent, char *const *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s- ", indent);
        put_str(out, items[i]);
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
        put_num(out, v[i]);
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
        put_num(out, t->a);
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
        put_str(out, t->with);
        fprintf(out, "\n          buckets: %zu", t->n);
        break;
    default:
        break;
    }
    fputc('\n', out);
}

static void print_features(const rtml_config *cfg, FILE *out) {
    fputs(cfg->n_features ? "features:\n" : "features: []\n", out);
    for (size_t i = 0; i < cfg->n_features; i++) {
        const rtml_feature *f = &cfg->features[i];
        fputs("  - name: ", out);
        put_str(out, f->name);
        fputs("\n    field: ", out);
        put_str(out, f->field);
        fputc('\n', out);
        if (f->n_transforms)
            fputs("    transforms:\n", out);
        for (size_t j = 0; j < f->n_transforms; j++)
            print_transform(&f->transforms[j], out);
    }
}

static void print_model_num(FILE *out, const char *key, double v) {
    fprintf(out, "  %s: ", key);
    put_num(out, v);
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
    put_num(out, cfg->model.ftrl_alpha);
    fputs("\n    beta: ", out);
    put_num(out, cfg->model.ftrl_beta);
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

static void print_model(const rtml_config *cfg, FILE *out) {
    fputs("model:\n", out);
    print_key_str(out, "  engine: ", or_default(cfg->model.engine, "native"));
    print_key_str(out, "  type: ", or_default(cfg->model.type, "logistic"));
    print_key_str(out, "  task: ", or_default(cfg->model.task, "binary"));
    fputs("  optimizer:\n    name: ", out);
    put_str(out, or_default(cfg->model.optimizer, "sgd"));
    fputs("\n    learning_rate: ", out);
    put_num(out, cfg->model.learning_rate);
    fputc('\n', out);
    print_model_tuning(cfg, out);
    fprintf(out, "  seed: %llu\n", cfg->model.seed);
}

static void print_section(FILE *out, const char *section, const char *key, const char *value) {
    if (!value)
        return;
    fprintf(out, "%s:\n  %s: ", section, key);
    put_str(out, value);
    fputc('\n', out);
}

static void print_output(const rtml_config *cfg, FILE *out) {
    fputs("output:\n", out);
    if (cfg->output.topic) {
        fputs("  topic: ", out);
        put_str(out, cfg->output.topic);
        fputc('\n', out);
    }
    fprintf(out, "  format: %s\n", rtml_format_name(cfg->output.format));
    if (cfg->output.schema)
        print_key_str(out, "  schema: ", cfg->output.schema);
}

void rtml_config_print(const rtml_config *cfg, FILE *out) {
    print_kafka(cfg, out);
    print_input(cfg, out);
    print_features(cfg, out);
    print_section(out, "label", "field", cfg->label.field);
    print_model(cfg, out);
    print_output(cfg, out);
    fprintf(out, "delivery: %s\n",
            cfg->delivery == RTML_DELIVERY_EXACTLY_ONCE ? "exactly_once" : "at_least_once");
    fputs("state:\n  dir: ", out);
    put_str(out, or_default(cfg->state.dir, "./state"));
    fputs("\n  checkpoint_every: ", out);
    put_num(out, cfg->state.checkpoint_every_s);
    fputs("s\n", out);
    print_section(out, "dead_letter", "topic", cfg->dead_letter.topic);
    print_section(out, "monitor", "listen", cfg->monitor.listen);
}
