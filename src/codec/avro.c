/* avro.c — Avro schemas (avro.h) and the Avro input format: one binary datum per message.
 *
 * The schema is parsed once with jansson. At open, the configured field paths are compiled against it into
 * a plan that mirrors the schema only where a path leads; decoding walks the datum once, following the plan
 * where there is one and skipping (while bounds-checking) everywhere else. Strings, bytes and fixed point
 * into the message, enum symbols into the schema, numeric arrays into scratch space.
 *
 * Decisions (tests/unit/test_avro.c pins each down):
 *  - input.schema is an .avsc file whose top-level type is a record; every datum is written with it (the
 *    writer's schema: no schema resolution).
 *  - Confluent wire format: a message that starts with 0x00 and has at least 5 bytes is read as the
 *    Confluent header (magic byte, 4-byte big-endian schema id) followed by the datum, decoded with the one
 *    configured schema; the id is not looked up anywhere nor kept. Because a bare datum can also start with
 *    0x00 (a first field of int 0, or a union's first branch), a message that fails to decode after the
 *    header is decoded again as a bare datum; if that fails too, the error reported is that of the reading
 *    that got further into the message.
 *  - Paths: "/user/age" follows nested records; unions are transparent (the branch the datum holds is
 *    followed; a path through a null or non-record branch is ABSENT). A path that no branch of the schema can
 *    reach is an error at open. Values: null -> NULL; boolean -> BOOL; int, long -> NUMBER (is_int); float,
 *    double -> NUMBER; string, bytes, fixed -> STRING (bytes unchecked for UTF-8); enum -> STRING (its
 *    symbol); array of int/long/float/double -> ARRAY; other arrays, maps and records -> OTHER.
 *  - Strictness: varints longer than their type allows or overflowing it, negative lengths, lengths past the
 *    end, union branches and enum indexes out of range, booleans other than 0/1, nesting deeper than 64 and
 *    bytes left over after the datum are all errors ("offset N: reason"). Blocks written with a byte size
 *    are skipped by that size without looking inside. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "codec/avro.h"
#include "rtml.h"

/* ---- schema ------------------------------------------------------------------------------------------ */

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
    if (strcmp(tn, "fixed") == 0) return parse_named(c, RTML_AVRO_FIXED, j, ns, depth);
    if (strcmp(tn, "array") == 0) return parse_container(c, RTML_AVRO_ARRAY, j, ns, depth);
    if (strcmp(tn, "map") == 0) return parse_container(c, RTML_AVRO_MAP, j, ns, depth);
    return parse_reference(c, tn, ns); /* a primitive, maybe with a logicalType; or a name */
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

/* ---- plan: the schema, pruned to where the configured paths lead ----------------------------------- */

typedef struct avro_plan avro_plan;
struct avro_plan {
    const rtml_avro_type *type;
    long slot;       /* the output this position fills, or -1 */
    avro_plan **sub; /* record: per field; union: per branch; NULL entries are skipped */
};

typedef struct {
    rtml_avro_schema *schema;
    avro_plan *root;
    avro_plan **plans; /* all of them, for freeing */
    size_t n_plans, plans_cap;
    size_t *first;     /* field i takes the value of field first[i] (the same path) */
    double *nums;      /* scratch for numeric arrays: one double per byte of the record at most */
    size_t nums_cap;
} avro_state;

typedef struct {
    char ***segs;  /* segs[i]: path i split */
    size_t *nseg;
    int *reached;  /* the path ends at some position of the schema */
} path_set;

static avro_plan *new_plan(avro_state *s, const rtml_avro_type *t, long slot) {
    if (s->n_plans == s->plans_cap) {
        size_t cap = s->plans_cap ? s->plans_cap * 2 : 16;
        avro_plan **p = realloc(s->plans, cap * sizeof *p);
        if (!p) return NULL;
        s->plans = p;
        s->plans_cap = cap;
    }
    avro_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->type = t;
    p->slot = slot;
    s->plans[s->n_plans++] = p;
    return p;
}

static avro_plan *compile(avro_state *s, path_set *ps, const rtml_avro_type *t, const size_t *idx, size_t n,
                          size_t d, int *oom);

/* The record's fields that a path continues into. 1 if any, 0 if none, -1 out of memory. */
static int compile_fields(avro_state *s, path_set *ps, const rtml_avro_type *t, const size_t *idx, size_t n,
                          size_t d, avro_plan ***sub_out, int *oom) {
    size_t *next = malloc((n ? n : 1) * sizeof *next);
    avro_plan **sub = calloc(t->n ? t->n : 1, sizeof *sub);
    int any = 0;
    for (size_t f = 0; next && sub && f < t->n; f++) {
        size_t m = 0;
        for (size_t k = 0; k < n; k++)
            if (ps->nseg[idx[k]] > d && strcmp(ps->segs[idx[k]][d], t->names[f]) == 0) next[m++] = idx[k];
        if (m && (sub[f] = compile(s, ps, t->items[f], next, m, d + 1, oom))) any = 1;
    }
    free(next);
    if (!next || !sub || *oom || !any) {
        free(sub);
        if (!next || !sub) *oom = 1;
        return *oom ? -1 : 0;
    }
    *sub_out = sub;
    return 1;
}

/* Plan for type t at depth d, for the paths idx[0..n) that agree on their first d segments. NULL: nothing
 * wanted here (or *oom). */
static avro_plan *compile(avro_state *s, path_set *ps, const rtml_avro_type *t, const size_t *idx, size_t n,
                          size_t d, int *oom) {
    long slot = -1;
    for (size_t k = 0; k < n; k++)
        if (ps->nseg[idx[k]] == d) slot = (long)idx[k];
    avro_plan **sub = NULL;
    int any = 0;
    if (t->kind == RTML_AVRO_RECORD) {
        any = compile_fields(s, ps, t, idx, n, d, &sub, oom);
    } else if (t->kind == RTML_AVRO_UNION) {
        if (!(sub = calloc(t->n, sizeof *sub))) *oom = 1;
        for (size_t b = 0; sub && b < t->n && !*oom; b++)
            if ((sub[b] = compile(s, ps, t->items[b], idx, n, d, oom))) any = 1;
        slot = -1; /* the branch fills it */
    }
    if (any < 0 || *oom || (slot < 0 && !any)) {
        free(sub);
        return NULL;
    }
    if (slot >= 0) ps->reached[slot] = 1;
    avro_plan *p = new_plan(s, t, slot);
    if (!p) {
        free(sub);
        *oom = 1;
        return NULL;
    }
    p->sub = any ? sub : NULL;
    if (!any) free(sub);
    return p;
}

/* Split the paths, compile them, and check every one leads somewhere. */
static int compile_paths(avro_state *s, const char *const *fields, size_t n, char *err, size_t errlen) {
    path_set ps = {calloc(n ? n : 1, sizeof(char **)), calloc(n ? n : 1, sizeof(size_t)),
                   calloc(n ? n : 1, sizeof(int))};
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), m = 0;
    int rc = 0, oom = !ps.segs || !ps.nseg || !ps.reached || !idx;
    for (size_t i = 0; !oom && i < n && rc == 0; i++) {
        s->first[i] = i;
        for (size_t k = 0; k < i; k++)
            if (strcmp(fields[k], fields[i]) == 0) s->first[i] = s->first[k];
        if (!(ps.segs[i] = rtml_pointer_split(fields[i], &ps.nseg[i], err, errlen))) rc = -1;
        else if (s->first[i] == i) idx[m++] = i;
    }
    if (!oom && rc == 0) s->root = compile(s, &ps, s->schema->root, idx, m, 0, &oom);
    for (size_t i = 0; !oom && rc == 0 && i < n; i++)
        if (s->first[i] == i && !ps.reached[i])
            rc = rtml_fail(err, errlen, "input: field %s is not in the Avro schema (record %s)", fields[i],
                           s->schema->root->name);
    if (oom) rc = rtml_fail(err, errlen, "out of memory");
    for (size_t i = 0; ps.segs && i < n; i++) free(ps.segs[i]);
    free(ps.segs);
    free(ps.nseg);
    free(ps.reached);
    free(idx);
    return rc;
}

/* ---- decoding ---------------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *start, *p, *end;
    rtml_value *out;
    double *nums;
    size_t nums_used;
    char *err;
    size_t errlen;
    size_t fail_at; /* the offset of the last failure */
} avro_rd;

__attribute__((format(printf, 2, 3))) static int rd_fail(avro_rd *r, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    r->fail_at = (size_t)(r->p - r->start);
    return rtml_fail(r->err, r->errlen, "offset %zu: %s", r->fail_at, why);
}

static size_t left(const avro_rd *r) { return (size_t)(r->end - r->p); }

/* A zigzag varint of at most max_bytes bytes (5: int, 10: long), checked for overflow. */
static int read_zigzag(avro_rd *r, int max_bytes, int64_t *v) {
    uint64_t u = 0;
    for (int i = 0;; i++) {
        if (r->p >= r->end) return rd_fail(r, "truncated %s", max_bytes == 5 ? "int" : "long");
        uint8_t b = *r->p;
        if (i == max_bytes - 1 && (b & 0x80 || (max_bytes == 10 && b > 1) || (max_bytes == 5 && b > 15)))
            return rd_fail(r, "%s overflows", max_bytes == 5 ? "int" : "long");
        r->p++;
        u |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) break;
    }
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

static int read_long(avro_rd *r, int64_t *v) { return read_zigzag(r, 10, v); }
static int read_int(avro_rd *r, int64_t *v) { return read_zigzag(r, 5, v); }

/* A length (bytes, string) that fits in what is left. */
static int read_len(avro_rd *r, size_t *n) {
    int64_t v;
    if (read_long(r, &v) != 0) return -1;
    if (v < 0) return rd_fail(r, "negative length %lld", (long long)v);
    if ((uint64_t)v > left(r))
        return rd_fail(r, "length %lld runs past the end (%zu bytes left)", (long long)v, left(r));
    *n = (size_t)v;
    return 0;
}

static int need(avro_rd *r, size_t n, const char *what) {
    return n <= left(r) ? 0 : rd_fail(r, "truncated %s", what);
}

static double read_float_le(avro_rd *r) {
    uint32_t u = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof f);
    r->p += 4;
    return f;
}

static double read_double_le(avro_rd *r) {
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | r->p[i];
    double x;
    memcpy(&x, &u, sizeof x);
    r->p += 8;
    return x;
}

/* A bounded index (union branch, enum symbol). */
static int read_index(avro_rd *r, size_t n, const char *what, size_t *i) {
    int64_t v;
    const uint8_t *at = r->p;
    if (read_long(r, &v) != 0) return -1;
    if (v < 0 || (uint64_t)v >= n) {
        r->p = at; /* the error names where the index starts */
        return rd_fail(r, "%s %lld out of range (%zu)", what, (long long)v, n);
    }
    *i = (size_t)v;
    return 0;
}

static int read_bool(avro_rd *r, double *x) {
    if (need(r, 1, "boolean") != 0) return -1;
    if (*r->p > 1) return rd_fail(r, "boolean byte %u is neither 0 nor 1", *r->p);
    *x = *r->p++;
    return 0;
}

/* A block header of an array or map: *count items (0 = the end), *size bytes or -1 when not given. */
static int read_block(avro_rd *r, int64_t *count, int64_t *size) {
    *size = -1;
    if (read_long(r, count) != 0) return -1;
    if (*count >= 0) return 0;
    if (*count == INT64_MIN) return rd_fail(r, "bad block count");
    *count = -*count;
    if (read_long(r, size) != 0) return -1;
    if (*size < 0 || (uint64_t)*size > left(r)) return rd_fail(r, "block size %lld out of range", (long long)*size);
    return 0;
}

static int skip(avro_rd *r, const rtml_avro_type *t, int depth);

static int skip_blocks(avro_rd *r, const rtml_avro_type *t, int depth) {
    const rtml_avro_type *item = t->items[0];
    for (;;) {
        int64_t count, size;
        if (read_block(r, &count, &size) != 0) return -1;
        if (count == 0) return 0;
        if (size >= 0) {
            r->p += size;
            continue;
        }
        if (t->kind == RTML_AVRO_ARRAY && item->empty) continue;
        if ((uint64_t)count > left(r)) return rd_fail(r, "block of %lld items runs past the end", (long long)count);
        for (int64_t i = 0; i < count; i++) {
            size_t n;
            if (t->kind == RTML_AVRO_MAP) {
                if (read_len(r, &n) != 0) return -1;
                r->p += n; /* the key */
            }
            if (skip(r, item, depth + 1) != 0) return -1;
        }
    }
}

static int skip(avro_rd *r, const rtml_avro_type *t, int depth) {
    int64_t v;
    size_t n = 0;
    double x;
    if (depth > RTML_AVRO_MAX_DEPTH) return rd_fail(r, "nested deeper than %d", RTML_AVRO_MAX_DEPTH);
    switch (t->kind) {
    case RTML_AVRO_NULL: return 0;
    case RTML_AVRO_BOOLEAN: return read_bool(r, &x);
    case RTML_AVRO_INT: return read_int(r, &v);
    case RTML_AVRO_LONG: return read_long(r, &v);
    case RTML_AVRO_FLOAT: return need(r, 4, "float") ? -1 : (r->p += 4, 0);
    case RTML_AVRO_DOUBLE: return need(r, 8, "double") ? -1 : (r->p += 8, 0);
    case RTML_AVRO_BYTES:
    case RTML_AVRO_STRING: return read_len(r, &n) ? -1 : (r->p += n, 0);
    case RTML_AVRO_FIXED: return need(r, t->n, "fixed") ? -1 : (r->p += t->n, 0);
    case RTML_AVRO_ENUM: return read_index(r, t->n, "enum index", &n);
    case RTML_AVRO_UNION: return read_index(r, t->n, "union branch", &n) ? -1 : skip(r, t->items[n], depth + 1);
    case RTML_AVRO_RECORD:
        for (size_t i = 0; i < t->n; i++)
            if (skip(r, t->items[i], depth + 1) != 0) return -1;
        return 0;
    case RTML_AVRO_ARRAY:
    case RTML_AVRO_MAP: return skip_blocks(r, t, depth);
    }
    return rd_fail(r, "unknown type");
}

static int is_numeric(const rtml_avro_type *t) { return t->kind >= RTML_AVRO_INT && t->kind <= RTML_AVRO_DOUBLE; }

static int read_number(avro_rd *r, const rtml_avro_type *t, rtml_value *v) {
    int64_t i;
    v->type = RTML_V_NUMBER;
    if (t->kind == RTML_AVRO_FLOAT || t->kind == RTML_AVRO_DOUBLE) {
        if (need(r, t->kind == RTML_AVRO_FLOAT ? 4 : 8, rtml_avro_kind_name(t->kind)) != 0) return -1;
        v->num = t->kind == RTML_AVRO_FLOAT ? read_float_le(r) : read_double_le(r);
        return 0;
    }
    if ((t->kind == RTML_AVRO_INT ? read_int(r, &i) : read_long(r, &i)) != 0) return -1;
    v->is_int = 1;
    v->i64 = i;
    v->num = (double)i;
    return 0;
}

/* An array of numbers into scratch: every item takes at least one byte, so the scratch (one double per
 * byte of the record) always has room. */
static int read_num_array(avro_rd *r, const rtml_avro_type *item, rtml_value *v) {
    double *arr = r->nums + r->nums_used;
    size_t n = 0;
    for (;;) {
        int64_t count, size;
        if (read_block(r, &count, &size) != 0) return -1;
        if (count == 0) break;
        const uint8_t *block = r->p;
        if ((uint64_t)count > left(r)) return rd_fail(r, "block of %lld items runs past the end", (long long)count);
        for (int64_t k = 0; k < count; k++) {
            rtml_value x = {0};
            if (read_number(r, item, &x) != 0) return -1;
            arr[n++] = x.num;
        }
        if (size >= 0 && r->p - block != size)
            return rd_fail(r, "block size %lld does not match its items", (long long)size);
    }
    r->nums_used += n;
    *v = (rtml_value){.type = RTML_V_ARRAY, .arr = arr, .arr_len = n};
    return 0;
}

/* The value of a leaf position (anything but a record or union that a path continues into). */
static int read_leaf(avro_rd *r, const rtml_avro_type *t, rtml_value *v, int depth) {
    size_t n = 0;
    *v = (rtml_value){0};
    switch (t->kind) {
    case RTML_AVRO_NULL: v->type = RTML_V_NULL; return 0;
    case RTML_AVRO_BOOLEAN: v->type = RTML_V_BOOL; return read_bool(r, &v->num);
    case RTML_AVRO_INT:
    case RTML_AVRO_LONG:
    case RTML_AVRO_FLOAT:
    case RTML_AVRO_DOUBLE: return read_number(r, t, v);
    case RTML_AVRO_BYTES:
    case RTML_AVRO_STRING:
    case RTML_AVRO_FIXED:
        if (t->kind == RTML_AVRO_FIXED ? need(r, n = t->n, "fixed") : read_len(r, &n)) return -1;
        *v = (rtml_value){.type = RTML_V_STRING, .str = (const char *)r->p, .len = n};
        r->p += n;
        return 0;
    case RTML_AVRO_ENUM:
        if (read_index(r, t->n, "enum index", &n) != 0) return -1;
        *v = (rtml_value){.type = RTML_V_STRING, .str = t->names[n], .len = t->name_lens[n]};
        return 0;
    case RTML_AVRO_ARRAY:
        if (is_numeric(t->items[0])) return read_num_array(r, t->items[0], v);
        /* fall through */
    default: v->type = RTML_V_OTHER; return skip(r, t, depth);
    }
}

static int decode_plan(avro_rd *r, const avro_plan *p, int depth) {
    const rtml_avro_type *t = p->type;
    if (depth > RTML_AVRO_MAX_DEPTH) return rd_fail(r, "nested deeper than %d", RTML_AVRO_MAX_DEPTH);
    if (t->kind == RTML_AVRO_UNION) {
        size_t b = 0;
        if (read_index(r, t->n, "union branch", &b) != 0) return -1;
        return p->sub[b] ? decode_plan(r, p->sub[b], depth + 1) : skip(r, t->items[b], depth + 1);
    }
    if (t->kind != RTML_AVRO_RECORD || !p->sub) return read_leaf(r, t, &r->out[p->slot], depth);
    if (p->slot >= 0) r->out[p->slot] = (rtml_value){.type = RTML_V_OTHER};
    for (size_t f = 0; f < t->n; f++)
        if ((p->sub[f] ? decode_plan(r, p->sub[f], depth + 1) : skip(r, t->items[f], depth + 1)) != 0) return -1;
    return 0;
}

/* ---- the decoder ------------------------------------------------------------------------------------- */

static int avro_open(rtml_decoder *d, const rtml_config *cfg, const char *const *fields, size_t n, char *err,
                     size_t errlen) {
    avro_state *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory");
    d->impl = s;
    if (!cfg->input.schema || !*cfg->input.schema)
        return rtml_fail(err, errlen, "input.schema: the avro format needs a schema (an .avsc file)");
    char why[RTML_ERRLEN];
    if (!(s->schema = rtml_avro_schema_load(cfg->input.schema, why, sizeof why)))
        return rtml_fail(err, errlen, "input.schema: %s: %s", cfg->input.schema, why);
    if (s->schema->root->kind != RTML_AVRO_RECORD)
        return rtml_fail(err, errlen, "input.schema: %s: the top-level type must be a record, not %s",
                         cfg->input.schema, rtml_avro_kind_name(s->schema->root->kind));
    if (!(s->first = malloc((n ? n : 1) * sizeof *s->first))) return rtml_fail(err, errlen, "out of memory");
    return compile_paths(s, fields, n, err, errlen);
}

/* One datum from buf + off to the end; on failure *at is the offset of the problem. */
static int decode_datum(avro_state *s, size_t n_fields, const char *buf, size_t off, size_t len,
                        rtml_value *out, char *err, size_t errlen, size_t *at) {
    avro_rd r = {(const uint8_t *)buf, (const uint8_t *)buf + off, (const uint8_t *)buf + len, out, s->nums, 0,
                 err, errlen, 0};
    for (size_t i = 0; i < n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT};
    int rc = s->root ? decode_plan(&r, s->root, 0) : skip(&r, s->schema->root, 0);
    if (rc == 0 && r.p != r.end) rc = rd_fail(&r, "%zu bytes left after the datum", left(&r));
    *at = r.fail_at;
    if (rc != 0) {
        for (size_t i = 0; i < n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT}; /* nothing on failure */
        return -1;
    }
    for (size_t i = 0; i < n_fields; i++)
        if (s->first[i] != i) out[i] = out[s->first[i]];
    return 0;
}

static int avro_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    avro_state *s = d->impl;
    if (len + 1 > s->nums_cap) {
        double *n = realloc(s->nums, (len + 1) * sizeof *n);
        if (!n) return rtml_fail(err, errlen, "out of memory for a record of %zu bytes", len);
        s->nums = n;
        s->nums_cap = len + 1;
    }
    size_t framed_at, bare_at;
    if (len >= 5 && buf[0] == 0) {
        if (decode_datum(s, d->n_fields, buf, 5, len, out, err, errlen, &framed_at) == 0) return 0;
        char bare_err[RTML_ERRLEN];
        if (decode_datum(s, d->n_fields, buf, 0, len, out, bare_err, sizeof bare_err, &bare_at) == 0) return 0;
        if (bare_at > framed_at) rtml_fail(err, errlen, "%s", bare_err); /* the reading that got further */
        return -1;
    }
    return decode_datum(s, d->n_fields, buf, 0, len, out, err, errlen, &bare_at);
}

static void avro_close(rtml_decoder *d) {
    avro_state *s = d->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_plans; i++) {
        free(s->plans[i]->sub);
        free(s->plans[i]);
    }
    free(s->plans);
    free(s->first);
    free(s->nums);
    rtml_avro_schema_free(s->schema);
    free(s);
}

const rtml_decoder_ops rtml_avro_decoder = {"avro", avro_open, avro_decode, avro_close};
