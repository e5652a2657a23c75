/* avro_schema.c — Avro schemas (avro.h): .avsc JSON parsed once, with jansson (not the hot path), into a
 * graph of type nodes that the decoder (avro.c) and the prediction encoder (avro_encode.c) walk.
 *
 * Named types (record, enum, fixed) are registered before their members, so a record may refer to itself.
 * Logical types are kept on the node they annotate when they fit it (the Avro specification: an invalid or
 * unknown logical type is ignored, the underlying type is read): date on int; time-millis on int,
 * time-micros on long; timestamp-* and local-timestamp-* on long; decimal on bytes or fixed with
 * 0 <= scale <= precision; uuid on string or fixed(16). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_schema.h"
#include "base/rtml.h"

struct rtml_avro_schema {
    rtml_avro_type **nodes; /* every node, for lookup by name and for freeing */
    size_t n_nodes, cap;
    rtml_avro_type *root;
};

typedef struct {
    rtml_avro_schema *s;
    char *err;
    size_t errlen;
} parse_ctx;

static const char *const KIND_NAMES[] = {"null",   "boolean", "int",  "long",  "float", "double", "bytes",
                                         "string", "record",  "enum", "array", "map",   "union",  "fixed"};

const char *rtml_avro_kind_name(rtml_avro_kind k) {
    return (unsigned)k <= RTML_AVRO_FIXED ? KIND_NAMES[k] : "?";
}

static rtml_avro_type *new_node(parse_ctx *c, rtml_avro_kind k) {
    rtml_avro_schema *s = c->s;
    if (s->n_nodes == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        rtml_avro_type **n = realloc(s->nodes, cap * sizeof *n);
        if (!n) return NULL;
        s->nodes = n;
        s->cap = cap;
    }
    rtml_avro_type *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->kind = k;
    s->nodes[s->n_nodes++] = t;
    return t;
}

static rtml_avro_type *find_named(const rtml_avro_schema *s, const char *full) {
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i]->name && strcmp(s->nodes[i]->name, full) == 0) return s->nodes[i];
    return NULL;
}

static int primitive_kind(const char *name) {
    for (int k = RTML_AVRO_NULL; k <= RTML_AVRO_STRING; k++)
        if (strcmp(name, KIND_NAMES[k]) == 0) return k;
    return -1;
}

/* "ns" + "." + "name", or "name" when ns is empty; malloc'd. */
static char *join_name(const char *ns, const char *name) {
    size_t a = ns ? strlen(ns) : 0, b = strlen(name);
    char *f = malloc(a + b + 2);
    if (!f) return NULL;
    if (a) {
        memcpy(f, ns, a);
        f[a++] = '.';
    }
    memcpy(f + a, name, b + 1);
    return f;
}

static rtml_avro_type *parse_type(parse_ctx *c, json_t *j, const char *ns, int depth);

/* A type named by a string: a primitive, or a named type defined earlier (relative to ns, then as is). */
static rtml_avro_type *parse_reference(parse_ctx *c, const char *name, const char *ns) {
    int k = primitive_kind(name);
    if (k >= 0) return new_node(c, (rtml_avro_kind)k);
    rtml_avro_type *t = NULL;
    if (!strchr(name, '.') && ns && *ns) {
        char *full = join_name(ns, name);
        if (full) t = find_named(c->s, full);
        free(full);
    }
    if (!t) t = find_named(c->s, name);
    if (!t) rtml_fail(c->err, c->errlen, "unknown type '%s'", name);
    return t;
}

/* The full name of a named type object, registered as t->name; *ns_out (malloc'd) is its namespace. */
static int name_node(parse_ctx *c, rtml_avro_type *t, json_t *j, const char *ns, char **ns_out) {
    const char *name = json_string_value(json_object_get(j, "name"));
    if (!name || !*name) return rtml_fail(c->err, c->errlen, "a %s needs a \"name\"", rtml_avro_kind_name(t->kind));
    const char *own = json_string_value(json_object_get(j, "namespace"));
    char *full = strchr(name, '.') ? strdup(name) : join_name(own ? own : ns, name);
    if (!full) return rtml_fail(c->err, c->errlen, "out of memory");
    if (find_named(c->s, full)) {
        rtml_fail(c->err, c->errlen, "type '%s' is defined twice", full);
        free(full);
        return -1;
    }
    t->name = full;
    const char *dot = strrchr(full, '.');
    *ns_out = dot ? strndup(full, (size_t)(dot - full)) : strdup("");
    return *ns_out ? 0 : rtml_fail(c->err, c->errlen, "out of memory");
}

/* names[] and name_lens[] and items[] for n entries. */
static int alloc_members(parse_ctx *c, rtml_avro_type *t, size_t n, int with_names, int with_items) {
    t->n = n;
    if (with_names && (!(t->names = calloc(n ? n : 1, sizeof *t->names)) ||
                       !(t->name_lens = calloc(n ? n : 1, sizeof *t->name_lens))))
        return rtml_fail(c->err, c->errlen, "out of memory");
    if (with_items && !(t->items = calloc(n ? n : 1, sizeof *t->items)))
        return rtml_fail(c->err, c->errlen, "out of memory");
    return 0;
}

static int set_member_name(parse_ctx *c, rtml_avro_type *t, size_t i, const char *name) {
    for (size_t k = 0; k < i; k++)
        if (strcmp(t->names[k], name) == 0)
            return rtml_fail(c->err, c->errlen, "%s '%s': '%s' appears twice", rtml_avro_kind_name(t->kind),
                             t->name ? t->name : "", name);
    if (!(t->names[i] = strdup(name))) return rtml_fail(c->err, c->errlen, "out of memory");
    t->name_lens[i] = strlen(name);
    return 0;
}

static int parse_fields(parse_ctx *c, rtml_avro_type *t, json_t *j, const char *ns, int depth) {
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields)) return rtml_fail(c->err, c->errlen, "record '%s' needs a \"fields\" array", t->name);
    if (alloc_members(c, t, json_array_size(fields), 1, 1) != 0) return -1;
    for (size_t i = 0; i < t->n; i++) {
        json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name) return rtml_fail(c->err, c->errlen, "record '%s': field %zu needs a \"name\"", t->name, i);
        if (set_member_name(c, t, i, name) != 0) return -1;
        if (!(t->items[i] = parse_type(c, json_object_get(f, "type"), ns, depth + 1))) return -1;
    }
    return 0;
}

static int parse_symbols(parse_ctx *c, rtml_avro_type *t, json_t *j) {
    json_t *syms = json_object_get(j, "symbols");
    if (!json_is_array(syms)) return rtml_fail(c->err, c->errlen, "enum '%s' needs a \"symbols\" array", t->name);
    if (alloc_members(c, t, json_array_size(syms), 1, 0) != 0) return -1;
    for (size_t i = 0; i < t->n; i++) {
        const char *sym = json_string_value(json_array_get(syms, i));
        if (!sym) return rtml_fail(c->err, c->errlen, "enum '%s': symbol %zu is not a string", t->name, i);
        if (set_member_name(c, t, i, sym) != 0) return -1;
    }
    return 0;
}

static int parse_fixed_size(parse_ctx *c, rtml_avro_type *t, json_t *j) {
    json_t *size = json_object_get(j, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0 || json_integer_value(size) > INT32_MAX)
        return rtml_fail(c->err, c->errlen, "fixed '%s' needs a \"size\" (a non-negative integer)", t->name);
    t->n = (size_t)json_integer_value(size);
    return 0;
}

/* record / error / enum / fixed: named, registered before their members (so records may be recursive). */
static rtml_avro_type *parse_named(parse_ctx *c, rtml_avro_kind k, json_t *j, const char *ns, int depth) {
    rtml_avro_type *t = new_node(c, k);
    char *inner = NULL;
    if (!t) {
        rtml_fail(c->err, c->errlen, "out of memory");
        return NULL;
    }
    int rc = name_node(c, t, j, ns, &inner);
    if (rc == 0 && k == RTML_AVRO_RECORD) rc = parse_fields(c, t, j, inner, depth);
    if (rc == 0 && k == RTML_AVRO_ENUM) rc = parse_symbols(c, t, j);
    if (rc == 0 && k == RTML_AVRO_FIXED) rc = parse_fixed_size(c, t, j);
    free(inner);
    return rc == 0 ? t : NULL;
}

/* array / map: one item type under "items" / "values". */
static rtml_avro_type *parse_container(parse_ctx *c, rtml_avro_kind k, json_t *j, const char *ns, int depth) {
    const char *key = k == RTML_AVRO_ARRAY ? "items" : "values";
    json_t *item = json_object_get(j, key);
    if (!item) {
        rtml_fail(c->err, c->errlen, "%s needs \"%s\"", rtml_avro_kind_name(k), key);
        return NULL;
    }
    rtml_avro_type *t = new_node(c, k);
    if (!t || alloc_members(c, t, 1, 0, 1) != 0) {
        rtml_fail(c->err, c->errlen, "out of memory");
        return NULL;
    }
    return (t->items[0] = parse_type(c, item, ns, depth + 1)) ? t : NULL;
}

static rtml_avro_type *parse_union(parse_ctx *c, json_t *j, const char *ns, int depth) {
    if (json_array_size(j) == 0) {
        rtml_fail(c->err, c->errlen, "a union needs at least one branch");
        return NULL;
    }
    rtml_avro_type *t = new_node(c, RTML_AVRO_UNION);
    if (!t || alloc_members(c, t, json_array_size(j), 0, 1) != 0) {
        rtml_fail(c->err, c->errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++)
        if (!(t->items[i] = parse_type(c, json_array_get(j, i), ns, depth + 1))) return NULL;
    return t;
}

/* Does a decimal's precision/scale fit type t (bytes, or fixed of t->n bytes)? */
static int decimal_fits(rtml_avro_type *t, json_t *j) {
    json_t *precision = json_object_get(j, "precision"), *scale = json_object_get(j, "scale");
    if (!json_is_integer(precision) || json_integer_value(precision) < 1 || (scale && !json_is_integer(scale)))
        return 0;
    json_int_t p = json_integer_value(precision), sc = scale ? json_integer_value(scale) : 0;
    if (sc < 0 || sc > p) return 0;
    if (t->kind == RTML_AVRO_FIXED && t->n < 128 && (double)p > floor((8.0 * (double)t->n - 1) * log10(2.0)))
        return 0; /* more digits than the fixed can hold */
    t->scale = (int)(sc > 100000 ? 100000 : sc);
    return 1;
}

/* t's logicalType (from its schema object j), when known and when it fits t; otherwise t stays as it is. */
static rtml_avro_type *with_logical(rtml_avro_type *t, json_t *j) {
    static const struct {
        const char *name;
        rtml_avro_logical logical;
        rtml_avro_kind kind;
    } known[] = {
        {"date", RTML_AVRO_DATE, RTML_AVRO_INT},
        {"time-millis", RTML_AVRO_TIME_MILLIS, RTML_AVRO_INT},
        {"time-micros", RTML_AVRO_TIME_MICROS, RTML_AVRO_LONG},
        {"timestamp-millis", RTML_AVRO_TIMESTAMP_MILLIS, RTML_AVRO_LONG},
        {"timestamp-micros", RTML_AVRO_TIMESTAMP_MICROS, RTML_AVRO_LONG},
        {"timestamp-nanos", RTML_AVRO_TIMESTAMP_NANOS, RTML_AVRO_LONG},
        {"local-timestamp-millis", RTML_AVRO_TIMESTAMP_MILLIS, RTML_AVRO_LONG},
        {"local-timestamp-micros", RTML_AVRO_TIMESTAMP_MICROS, RTML_AVRO_LONG},
        {"local-timestamp-nanos", RTML_AVRO_TIMESTAMP_NANOS, RTML_AVRO_LONG},
        {"decimal", RTML_AVRO_DECIMAL, RTML_AVRO_BYTES},
        {"decimal", RTML_AVRO_DECIMAL, RTML_AVRO_FIXED},
        {"uuid", RTML_AVRO_UUID, RTML_AVRO_STRING},
        {"uuid", RTML_AVRO_UUID, RTML_AVRO_FIXED},
    };
    const char *lt = t ? json_string_value(json_object_get(j, "logicalType")) : NULL;
    for (size_t i = 0; lt && i < sizeof known / sizeof *known; i++) {
        if (strcmp(lt, known[i].name) != 0 || t->kind != known[i].kind) continue;
        if (known[i].logical == RTML_AVRO_UUID && t->kind == RTML_AVRO_FIXED && t->n != 16) continue;
        if (known[i].logical == RTML_AVRO_DECIMAL && !decimal_fits(t, j)) continue;
        t->logical = known[i].logical;
        t->local = strncmp(lt, "local-", 6) == 0;
        break;
    }
    return t;
}

static rtml_avro_type *parse_object(parse_ctx *c, json_t *j, const char *ns, int depth) {
    json_t *type = json_object_get(j, "type");
    const char *tn = json_string_value(type);
    if (!tn) {
        if (json_is_object(type) || json_is_array(type)) return parse_type(c, type, ns, depth + 1);
        rtml_fail(c->err, c->errlen, "a schema object needs a \"type\"");
        return NULL;
    }
    if (strcmp(tn, "record") == 0 || strcmp(tn, "error") == 0) return parse_named(c, RTML_AVRO_RECORD, j, ns, depth);
    if (strcmp(tn, "enum") == 0) return parse_named(c, RTML_AVRO_ENUM, j, ns, depth);
    if (strcmp(tn, "fixed") == 0) return with_logical(parse_named(c, RTML_AVRO_FIXED, j, ns, depth), j);
    if (strcmp(tn, "array") == 0) return parse_container(c, RTML_AVRO_ARRAY, j, ns, depth);
    if (strcmp(tn, "map") == 0) return parse_container(c, RTML_AVRO_MAP, j, ns, depth);
    rtml_avro_type *t = parse_reference(c, tn, ns); /* a primitive, maybe with a logicalType; or a name */
    return t && primitive_kind(tn) >= 0 ? with_logical(t, j) : t; /* a primitive's node is its own */
}

static rtml_avro_type *parse_type(parse_ctx *c, json_t *j, const char *ns, int depth) {
    if (depth > RTML_AVRO_MAX_DEPTH) {
        rtml_fail(c->err, c->errlen, "types nested deeper than %d", RTML_AVRO_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) return parse_reference(c, json_string_value(j), ns);
    if (json_is_array(j)) return parse_union(c, j, ns, depth);
    if (json_is_object(j)) return parse_object(c, j, ns, depth);
    rtml_fail(c->err, c->errlen, "a type is a string, an object or an array (a union)");
    return NULL;
}

/* empty: always encoded as zero bytes. A record on a cycle counts as not empty. */
static int compute_empty(rtml_avro_type *t) {
    if (t->state == 2) return t->empty;
    if (t->state == 1) return 0;
    t->state = 1;
    int e = t->kind == RTML_AVRO_NULL || (t->kind == RTML_AVRO_FIXED && t->n == 0);
    if (t->kind == RTML_AVRO_RECORD) {
        e = 1;
        for (size_t i = 0; i < t->n; i++) e &= compute_empty(t->items[i]);
    }
    t->state = 2;
    return t->empty = e;
}

rtml_avro_schema *rtml_avro_schema_parse(const char *json, size_t len, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *j = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (!j) {
        rtml_fail(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    rtml_avro_schema *s = calloc(1, sizeof *s);
    parse_ctx c = {s, err, errlen};
    if (!s) rtml_fail(err, errlen, "out of memory");
    else if ((s->root = parse_type(&c, j, "", 0)) != NULL)
        for (size_t i = 0; i < s->n_nodes; i++) compute_empty(s->nodes[i]);
    json_decref(j);
    if (s && !s->root) {
        rtml_avro_schema_free(s);
        return NULL;
    }
    return s;
}

rtml_avro_schema *rtml_avro_schema_load(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        rtml_fail(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len + 4096 > cap) {
            char *t = realloc(text, cap = cap * 2 + 4096);
            if (!t) break;
            text = t;
        }
        n = fread(text + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    int bad = ferror(f) || !text;
    fclose(f);
    rtml_avro_schema *s = NULL;
    if (bad) rtml_fail(err, errlen, "cannot read '%s'", path);
    else s = rtml_avro_schema_parse(text, len, err, errlen);
    free(text);
    return s;
}

const rtml_avro_type *rtml_avro_schema_root(const rtml_avro_schema *s) { return s->root; }

void rtml_avro_schema_free(rtml_avro_schema *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_nodes; i++) {
        rtml_avro_type *t = s->nodes[i];
        for (size_t k = 0; t->names && k < t->n; k++) free(t->names[k]);
        free(t->names);
        free(t->name_lens);
        free(t->items);
        free(t->name);
        free(t);
    }
    free(s->nodes);
    free(s);
}

