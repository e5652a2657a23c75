/* pbdesc.c — the FileDescriptorSet parser (see pbdesc.h).
 *
 * descriptor.proto numbers read here: FileDescriptorSet.file=1; FileDescriptorProto.name=1, package=2,
 * message_type=4, enum_type=5, options=8, syntax=12; DescriptorProto.name=1, field=2, nested_type=3,
 * enum_type=4, options=7; FieldDescriptorProto.name=1, number=3, label=4, type=5, type_name=6, options=8,
 * oneof_index=9, proto3_optional=17; EnumDescriptorProto.name=1, value=2; EnumValueDescriptorProto.name=1,
 * number=2; FileOptions.features=50, MessageOptions.map_entry=7, MessageOptions.features=12,
 * FieldOptions.features=21; FeatureSet.field_presence=1. Everything else is skipped. */
#include "codec/pbdesc.h"

#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

/* ---- descriptor parsing ------------------------------------------------------------------------------ */

#define FEATURE_IMPLICIT 2 /* FeatureSet.FieldPresence.IMPLICIT */

typedef struct {
    rtml_pb_descriptors *d;
    char *err;
    size_t errlen;
} desc_ctx;

static int desc_fail(desc_ctx *c, const rtml_pb_reader *r, const char *what) {
    return rtml_fail(c->err, c->errlen, "descriptor set: %s: %s", what, r->why ? r->why : "bad value");
}

/* A field's payload as a malloc'd string (wire type must be LEN). */
static int get_string(rtml_pb_reader *r, int wire, char **out) {
    const uint8_t *p;
    size_t n;
    if (wire != RTML_PB_LEN) return rtml_pb_fail(r, "a string field has the wrong wire type");
    if (rtml_pb_bytes(r, &p, &n) != 0) return -1;
    if (memchr(p, 0, n)) return rtml_pb_fail(r, "a name holds a NUL byte");
    char *s = malloc(n + 1);
    if (!s) return rtml_pb_fail(r, "out of memory");
    memcpy(s, p, n);
    s[n] = '\0';
    free(*out);
    *out = s;
    return 0;
}

static int get_varint(rtml_pb_reader *r, int wire, uint64_t *v) {
    if (wire != RTML_PB_VARINT) return rtml_pb_fail(r, "an integer field has the wrong wire type");
    return rtml_pb_varint(r, v);
}

static int get_sub(rtml_pb_reader *r, int wire, rtml_pb_reader *sub) {
    const uint8_t *p;
    size_t n;
    if (wire != RTML_PB_LEN) return rtml_pb_fail(r, "a message field has the wrong wire type");
    if (rtml_pb_bytes(r, &p, &n) != 0) return -1;
    *sub = (rtml_pb_reader){r->start, p, p + n, NULL};
    return 0;
}

/* The last value of string field `num` in a message (package, name), or NULL. */
static int find_string(rtml_pb_reader r, uint32_t num, char **out) {
    uint32_t f;
    int w;
    while (r.p < r.end) {
        if (rtml_pb_key(&r, &f, &w) != 0) return -1;
        if (f == num ? get_string(&r, w, out) : rtml_pb_skip(&r, w)) return -1;
    }
    return 0;
}

/* FeatureSet.field_presence (field 1), or 0 when the set does not say. */
static int feature_presence(rtml_pb_reader *r, int *presence) {
    uint32_t f;
    int w;
    uint64_t v;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &w) != 0) return -1;
        if (f != 1) {
            if (rtml_pb_skip(r, w) != 0) return -1;
        } else if (get_varint(r, w, &v) != 0) {
            return -1;
        } else {
            *presence = (int)(v & 0xFF);
        }
    }
    return 0;
}

/* An options message: its features (field features_at) field_presence, and a boolean option (flag_at, 0 for
 * none) such as MessageOptions.map_entry. */
static int scan_options(rtml_pb_reader *r, uint32_t features_at, uint32_t flag_at, int *presence, int *flag) {
    uint32_t f;
    int w;
    uint64_t v;
    while (r->p < r->end) {
        rtml_pb_reader sub;
        if (rtml_pb_key(r, &f, &w) != 0) return -1;
        if (f == features_at) {
            if (get_sub(r, w, &sub) != 0) return -1;
            if (feature_presence(&sub, presence) != 0) return rtml_pb_fail(r, sub.why);
        } else if (flag_at && f == flag_at) {
            if (get_varint(r, w, &v) != 0) return -1;
            *flag = v != 0;
        } else if (rtml_pb_skip(r, w) != 0) {
            return -1;
        }
    }
    return 0;
}

static int get_options(rtml_pb_reader *r, int wire, uint32_t features_at, uint32_t flag_at, int *presence, int *flag) {
    rtml_pb_reader sub;
    if (get_sub(r, wire, &sub) != 0) return -1;
    return scan_options(&sub, features_at, flag_at, presence, flag) == 0 ? 0 : rtml_pb_fail(r, sub.why);
}

static char *qualify(const char *prefix, const char *name) {
    size_t a = strlen(prefix), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, prefix, a);
    if (a) s[a++] = '.';
    memcpy(s + a, name, b + 1);
    return s;
}

static int grow(void **arr, size_t n, size_t size) {
    if (n & (n - 1)) return 0; /* capacity doubles at powers of two */
    void *p = realloc(*arr, (n ? n * 2 : 1) * size);
    if (!p) return -1;
    *arr = p;
    return 0;
}

/* Append p to the array of pointers *arr holding *n; -1 out of memory. */
static int push_ptr(void ***arr, size_t *n, void *p) {
    if (grow((void **)arr, *n, sizeof **arr) != 0) return -1;
    (*arr)[(*n)++] = p;
    return 0;
}

static int parse_enum_value(rtml_pb_reader *r, rtml_pb_enum_value *v) {
    uint32_t f;
    int w;
    uint64_t num;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &w) != 0) return -1;
        if (f == 1) {
            if (get_string(r, w, &v->name) != 0) return -1;
        } else if (f == 2) {
            if (get_varint(r, w, &num) != 0) return -1;
            v->number = (int32_t)(uint32_t)num;
        } else if (rtml_pb_skip(r, w) != 0) {
            return -1;
        }
    }
    return v->name ? 0 : rtml_pb_fail(r, "an enum value has no name");
}

/* The name (field 1) of an enum or message, malloc'd; -1 with a reason when it has none. */
static int entity_name(desc_ctx *c, rtml_pb_reader r, const char *what, char **name) {
    *name = NULL;
    if (find_string(r, 1, name) == 0 && *name) return 0;
    free(*name);
    *name = NULL;
    return rtml_fail(c->err, c->errlen, "descriptor set: %s has no readable name", what);
}

static int parse_enum(desc_ctx *c, rtml_pb_reader r, const char *prefix) {
    char *name;
    if (entity_name(c, r, "an enum", &name) != 0) return -1;
    rtml_pb_enum *e = calloc(1, sizeof *e);
    if (!e || push_ptr((void ***)&c->d->enums, &c->d->n_enums, e) != 0) {
        free(e);
        free(name);
        return rtml_fail(c->err, c->errlen, "out of memory");
    }
    e->name = qualify(prefix, name);
    free(name);
    if (!e->name) return rtml_fail(c->err, c->errlen, "out of memory");
    uint32_t f;
    int w;
    while (r.p < r.end) {
        rtml_pb_reader sub;
        if (rtml_pb_key(&r, &f, &w) != 0) return desc_fail(c, &r, e->name);
        if (f != 2) {
            if (rtml_pb_skip(&r, w) != 0) return desc_fail(c, &r, e->name);
            continue;
        }
        if (get_sub(&r, w, &sub) != 0) return desc_fail(c, &r, e->name);
        if (grow((void **)&e->values, e->n_values, sizeof *e->values) != 0)
            return rtml_fail(c->err, c->errlen, "out of memory");
        e->values[e->n_values] = (rtml_pb_enum_value){0};
        int rc = parse_enum_value(&sub, &e->values[e->n_values]);
        e->n_values++;
        if (rc != 0) return desc_fail(c, &sub, e->name);
    }
    return 0;
}

/* One entry of a FieldDescriptorProto. */
static int field_entry(rtml_pb_reader *r, rtml_pb_field *fd, uint32_t f, int w) {
    uint64_t v = 0;
    int unused = 0;
    switch (f) {
    case 1: return get_string(r, w, &fd->name);
    case 6: return get_string(r, w, &fd->type_name);
    case 8: return get_options(r, w, 21, 0, &fd->feature_presence, &unused);
    case 3:
    case 4:
    case 5:
    case 9:
    case 17: break;
    default: return rtml_pb_skip(r, w);
    }
    if (get_varint(r, w, &v) != 0) return -1;
    if (f == 3) fd->number = (uint32_t)v;
    if (f == 4) fd->label = (int)(v & 0xFF);
    if (f == 5) fd->type = v <= RTML_PB_SINT64 ? (int)v : -1;
    if (f == 9) fd->oneof_index = v <= INT32_MAX ? (int32_t)v : -1;
    if (f == 17) fd->proto3_optional = v != 0;
    return 0;
}

/* r: the field's bytes; its why says what failed. */
static int parse_field(rtml_pb_reader *r, rtml_pb_field *fd) {
    uint32_t f;
    int w;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &w) != 0 || field_entry(r, fd, f, w) != 0) return -1;
    }
    if (!fd->name) return rtml_pb_fail(r, "a field has no name");
    if (fd->number == 0 || fd->number > 0x1FFFFFFF) return rtml_pb_fail(r, "a field has a bad number");
    if (fd->type < 0) return rtml_pb_fail(r, "a field has an unknown type");
    return 0;
}

typedef struct {
    rtml_pb_file *file;
    rtml_pb_message *parent; /* NULL for a top-level message */
} msg_place;

static int parse_message(desc_ctx *c, rtml_pb_reader r, const char *prefix, int depth, msg_place at);

/* One entry of a message: field (2), nested type (3), enum (4) or options (7). */
static int message_entry(desc_ctx *c, rtml_pb_message *m, rtml_pb_reader *r, uint32_t f, int w, int depth) {
    rtml_pb_reader sub;
    if (f == 7)
        return get_options(r, w, 12, 7, &m->feature_presence, &m->map_entry) == 0 ? 0 : desc_fail(c, r, m->name);
    if (f < 2 || f > 4) return rtml_pb_skip(r, w) == 0 ? 0 : desc_fail(c, r, m->name);
    if (get_sub(r, w, &sub) != 0) return desc_fail(c, r, m->name);
    if (f == 3) return parse_message(c, sub, m->name, depth + 1, (msg_place){(rtml_pb_file *)m->file, m});
    if (f == 4) return parse_enum(c, sub, m->name);
    if (grow((void **)&m->fields, m->n_fields, sizeof *m->fields) != 0)
        return rtml_fail(c->err, c->errlen, "out of memory");
    rtml_pb_field *fd = &m->fields[m->n_fields++];
    *fd = (rtml_pb_field){.oneof_index = -1};
    return parse_field(&sub, fd) == 0 ? 0 : desc_fail(c, &sub, m->name);
}

/* A new message, registered in the set and in its parent's (or file's) list. */
static rtml_pb_message *new_message(desc_ctx *c, const char *prefix, const char *name, msg_place at) {
    rtml_pb_message *m = calloc(1, sizeof *m);
    if (!m || push_ptr((void ***)&c->d->messages, &c->d->n_messages, m) != 0) {
        free(m);
        return NULL;
    }
    m->file = at.file;
    m->parent = at.parent;
    m->index = (uint32_t)(at.parent ? at.parent->n_nested : at.file->n_messages);
    if (at.parent ? push_ptr((void ***)&at.parent->nested, &at.parent->n_nested, m)
                  : push_ptr((void ***)&at.file->messages, &at.file->n_messages, m))
        return NULL;
    return (m->name = qualify(prefix, name)) ? m : NULL;
}

static int parse_message(desc_ctx *c, rtml_pb_reader r, const char *prefix, int depth, msg_place at) {
    if (depth >= RTML_PB_MAX_INDEXES) /* so that every message has a Confluent index path */
        return rtml_fail(c->err, c->errlen, "descriptor set: messages nested too deep");
    char *name;
    if (entity_name(c, r, "a message", &name) != 0) return -1;
    rtml_pb_message *m = new_message(c, prefix, name, at);
    free(name);
    if (!m) return rtml_fail(c->err, c->errlen, "out of memory");
    uint32_t f;
    int w;
    while (r.p < r.end) {
        if (rtml_pb_key(&r, &f, &w) != 0) return desc_fail(c, &r, m->name);
        if (message_entry(c, m, &r, f, w, depth) != 0) return -1;
    }
    return 0;
}

/* A file's name (1), package (2), options (8) and syntax (12), reading a copy r of its bytes. */
static int file_header(rtml_pb_reader *r, rtml_pb_file *file, char **package) {
    uint32_t f;
    int w, unused = 0;
    char *syntax = NULL;
    while (r->p < r->end) {
        int rc = rtml_pb_key(r, &f, &w);
        if (rc == 0)
            rc = f == 1    ? get_string(r, w, &file->name)
                 : f == 2  ? get_string(r, w, package)
                 : f == 8  ? get_options(r, w, 50, 0, &file->feature_presence, &unused)
                 : f == 12 ? get_string(r, w, &syntax)
                           : rtml_pb_skip(r, w);
        if (rc != 0) {
            free(syntax);
            return -1;
        }
    }
    file->syntax = !syntax                             ? RTML_PB_SYNTAX_PROTO2
                   : strcmp(syntax, "proto3") == 0     ? RTML_PB_SYNTAX_PROTO3
                   : strcmp(syntax, "editions") == 0   ? RTML_PB_SYNTAX_EDITIONS
                                                       : RTML_PB_SYNTAX_PROTO2;
    free(syntax);
    return 0;
}

static int parse_file(desc_ctx *c, rtml_pb_reader r) {
    rtml_pb_file *file = calloc(1, sizeof *file);
    if (!file || push_ptr((void ***)&c->d->files, &c->d->n_files, file) != 0) {
        free(file);
        return rtml_fail(c->err, c->errlen, "out of memory");
    }
    char *package = NULL;
    rtml_pb_reader header = r;
    if (file_header(&header, file, &package) != 0) {
        free(package);
        return desc_fail(c, &header, "file");
    }
    const char *prefix = package ? package : "";
    uint32_t f;
    int w, rc = 0;
    while (rc == 0 && r.p < r.end) {
        rtml_pb_reader sub;
        if (rtml_pb_key(&r, &f, &w) != 0) rc = desc_fail(c, &r, "file");
        else if (f != 4 && f != 5) rc = rtml_pb_skip(&r, w) == 0 ? 0 : desc_fail(c, &r, "file");
        else if (get_sub(&r, w, &sub) != 0) rc = desc_fail(c, &r, "file");
        else rc = f == 4 ? parse_message(c, sub, prefix, 0, (msg_place){file, NULL}) : parse_enum(c, sub, prefix);
    }
    free(package);
    return rc;
}

static const rtml_pb_enum *find_enum(const rtml_pb_descriptors *d, const char *name) {
    if (name[0] == '.') name++;
    for (size_t i = 0; i < d->n_enums; i++)
        if (strcmp(d->enums[i]->name, name) == 0) return d->enums[i];
    return NULL;
}

/* Link a message/enum field to its type; -1 with a reason when the type is not in the set. */
static int resolve_type(desc_ctx *c, const rtml_pb_message *m, rtml_pb_field *fd) {
    if (fd->type != RTML_PB_MESSAGE && fd->type != RTML_PB_ENUM && fd->type != RTML_PB_GROUP && fd->type != 0)
        return 0;
    if (fd->type_name) fd->msg = rtml_pb_find_message(c->d, fd->type_name);
    if (fd->type_name) fd->enm = find_enum(c->d, fd->type_name);
    if (fd->type == 0 && (fd->msg || fd->enm)) fd->type = fd->msg ? RTML_PB_MESSAGE : RTML_PB_ENUM;
    if ((fd->type == RTML_PB_MESSAGE && !fd->msg) || (fd->type == RTML_PB_ENUM && !fd->enm) || fd->type == 0)
        return rtml_fail(c->err, c->errlen, "descriptor set: %s.%s: type '%s' is not in the set "
                         "(compile with protoc --include_imports)", m->name, fd->name,
                         fd->type_name ? fd->type_name : "");
    return 0;
}

/* Explicit presence (1) or not (0), by the rules in pbdesc.h. */
static int has_presence(const rtml_pb_message *m, const rtml_pb_field *fd) {
    if (fd->label == RTML_PB_LABEL_REPEATED) return 0;
    if (fd->type == RTML_PB_MESSAGE || fd->type == RTML_PB_GROUP || fd->oneof_index >= 0 || fd->proto3_optional ||
        fd->label == RTML_PB_LABEL_REQUIRED)
        return 1;
    if (m->file->syntax == RTML_PB_SYNTAX_PROTO3) return 0;
    if (m->file->syntax != RTML_PB_SYNTAX_EDITIONS) return 1;
    int p = fd->feature_presence;
    for (const rtml_pb_message *up = m; !p && up; up = up->parent) p = up->feature_presence;
    if (!p) p = m->file->feature_presence;
    return p != FEATURE_IMPLICIT;
}

/* Timestamp and Duration {int64 seconds = 1; int32 nanos = 2}; the wrappers {T value = 1}. */
static rtml_pb_wkt wkt_of(const rtml_pb_message *m) {
    static const char *const wrappers[] = {"DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value",
                                           "UInt32Value", "BoolValue",  "StringValue", "BytesValue"};
    if (strncmp(m->name, "google.protobuf.", 16) != 0) return RTML_PB_WKT_NONE;
    const char *n = m->name + 16;
    const rtml_pb_field *a = rtml_pb_field_by_number(m, 1), *b = rtml_pb_field_by_number(m, 2);
    if (strcmp(n, "Timestamp") == 0 || strcmp(n, "Duration") == 0) {
        int ok = a && b && a->type == RTML_PB_INT64 && b->type == RTML_PB_INT32 && a->label != RTML_PB_LABEL_REPEATED &&
                 b->label != RTML_PB_LABEL_REPEATED;
        return !ok ? RTML_PB_WKT_NONE : n[0] == 'T' ? RTML_PB_WKT_TIMESTAMP : RTML_PB_WKT_DURATION;
    }
    for (size_t i = 0; i < sizeof wrappers / sizeof *wrappers; i++)
        if (strcmp(n, wrappers[i]) == 0 && a && a->label != RTML_PB_LABEL_REPEATED && a->type != RTML_PB_MESSAGE &&
            a->type != RTML_PB_GROUP && a->type != RTML_PB_ENUM)
            return RTML_PB_WKT_WRAPPER;
    return RTML_PB_WKT_NONE;
}

/* Types, presence and well-known types, once every message is known. */
static int resolve(desc_ctx *c) {
    for (size_t i = 0; i < c->d->n_messages; i++) {
        rtml_pb_message *m = c->d->messages[i];
        for (size_t k = 0; k < m->n_fields; k++) {
            if (resolve_type(c, m, &m->fields[k]) != 0) return -1;
            m->fields[k].has_presence = has_presence(m, &m->fields[k]);
        }
        m->wkt = wkt_of(m);
    }
    return 0;
}

rtml_pb_descriptors *rtml_pb_descriptors_parse(const void *buf, size_t len, char *err, size_t errlen) {
    rtml_pb_descriptors *d = calloc(1, sizeof *d);
    if (!d) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    desc_ctx c = {d, err, errlen};
    rtml_pb_reader r = rtml_pb_reader_new(buf, len);
    uint32_t f;
    int w, rc = 0;
    while (rc == 0 && r.p < r.end) {
        rtml_pb_reader sub;
        if (rtml_pb_key(&r, &f, &w) != 0) rc = desc_fail(&c, &r, "set");
        else if (f != 1) rc = rtml_pb_skip(&r, w) == 0 ? 0 : desc_fail(&c, &r, "set");
        else if (get_sub(&r, w, &sub) != 0) rc = desc_fail(&c, &r, "set");
        else rc = parse_file(&c, sub);
    }
    if (rc == 0) rc = resolve(&c);
    if (rc != 0) {
        rtml_pb_descriptors_free(d);
        return NULL;
    }
    return d;
}

/* ---- lookups ----------------------------------------------------------------------------------------- */

const rtml_pb_message *rtml_pb_find_message(const rtml_pb_descriptors *d, const char *name) {
    if (name[0] == '.') name++;
    for (size_t i = 0; i < d->n_messages; i++)
        if (strcmp(d->messages[i]->name, name) == 0) return d->messages[i];
    return NULL;
}

const rtml_pb_field *rtml_pb_find_field(const rtml_pb_message *m, const char *name) {
    for (size_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0) return &m->fields[i];
    return NULL;
}

const rtml_pb_field *rtml_pb_field_by_number(const rtml_pb_message *m, uint32_t number) {
    for (size_t i = 0; i < m->n_fields; i++)
        if (m->fields[i].number == number) return &m->fields[i];
    return NULL;
}

const rtml_pb_enum_value *rtml_pb_enum_find(const rtml_pb_enum *e, int32_t number) {
    for (size_t i = 0; i < e->n_values; i++)
        if (e->values[i].number == number) return &e->values[i];
    return NULL;
}

const rtml_pb_message *rtml_pb_message_at(const rtml_pb_file *f, const uint32_t *idx, size_t n) {
    if (n == 0 || idx[0] >= f->n_messages) return NULL;
    const rtml_pb_message *m = f->messages[idx[0]];
    for (size_t k = 1; k < n; k++) {
        if (idx[k] >= m->n_nested) return NULL;
        m = m->nested[idx[k]];
    }
    return m;
}

size_t rtml_pb_message_indexes(const rtml_pb_message *m, uint32_t *idx, size_t max) {
    size_t n = 0;
    for (const rtml_pb_message *up = m; up; up = up->parent) n++;
    if (n > max) return 0;
    size_t k = n;
    for (const rtml_pb_message *up = m; up; up = up->parent) idx[--k] = up->index;
    return n;
}

void rtml_pb_descriptors_free(rtml_pb_descriptors *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_messages; i++) {
        rtml_pb_message *m = d->messages[i];
        for (size_t k = 0; k < m->n_fields; k++) {
            free(m->fields[k].name);
            free(m->fields[k].type_name);
        }
        free(m->fields);
        free(m->nested);
        free(m->name);
        free(m);
    }
    for (size_t i = 0; i < d->n_enums; i++) {
        for (size_t k = 0; k < d->enums[i]->n_values; k++) free(d->enums[i]->values[k].name);
        free(d->enums[i]->values);
        free(d->enums[i]->name);
        free(d->enums[i]);
    }
    for (size_t i = 0; i < d->n_files; i++) {
        free(d->files[i]->name);
        free(d->files[i]->messages);
        free(d->files[i]);
    }
    free(d->messages);
    free(d->enums);
    free(d->files);
    free(d);
}

const char *rtml_pb_type_name(int type) {
    static const char *const names[] = {"?",      "double", "float",   "int64",    "uint64",   "int32", "fixed64",
                                        "fixed32", "bool",   "string",  "group",    "message",  "bytes", "uint32",
                                        "enum",   "sfixed32", "sfixed64", "sint32", "sint64"};
    return type >= 0 && type <= RTML_PB_SINT64 ? names[type] : "?";
}
