/* protobuf.c — the Protobuf input format: one serialized message per Kafka message, no generated code.
 *
 * input.schema is a FileDescriptorSet (protoc --include_imports --descriptor_set_out=x.desc x.proto) and
 * input.message the fully qualified name of the record's message ("rtml.test.Txn", a leading '.' allowed).
 * At open, the field paths are compiled against the descriptors into a plan per message: the wanted field
 * numbers, sorted. Decoding reads the wire format once, following nested messages only where a path
 * leads, skipping everything else with bounds checks.
 *
 * Decisions (tests/unit/test_protobuf.c pins each down):
 *  - Paths name fields by their .proto names: "/user/age" goes through the singular message field user.
 *    A path naming no field, or going through a repeated or non-message field, is an error at open.
 *  - A singular field not on the wire is ABSENT, whatever its proto3 default (0, "", false): proto3 cannot
 *    tell a default from a missing value, and ABSENT lets impute/reject rules apply. Likewise a repeated
 *    field with no element is ABSENT.
 *  - Values: integer types -> NUMBER with is_int (uint64 above INT64_MAX: a NUMBER without is_int; sint
 *    zigzag-decoded; int32 takes the low 32 bits, as protobuf does); float, double -> NUMBER; bool -> BOOL;
 *    string, bytes -> STRING pointing into the message (not checked for UTF-8); enum -> STRING (the value's
 *    name) when the number is known, else NUMBER; message -> OTHER; repeated numeric fields (packed or not,
 *    or both mixed; enums as their numbers) -> ARRAY in order; other repeated fields (strings, messages,
 *    maps) -> OTHER.
 *  - A singular field seen twice: the last wins (messages merge: their fields last-win in turn).
 *  - Errors, "offset N: reason": truncation, varints over 10 bytes or 64 bits, lengths past the end,
 *    field number 0, groups (wire types 3/4), invalid wire types, and a wanted field whose wire type does
 *    not match its declared type. Unknown and unwanted fields are skipped, checking only their framing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "codec/pbwire.h"
#include "rtml.h"

typedef struct pb_plan pb_plan;

typedef struct {
    const rtml_pb_field *f;
    long slot;    /* a path ends at this field: the output index, or -1 */
    long vec;     /* repeated numeric field: its accumulator, or -1 */
    pb_plan *sub; /* paths continue into this (message) field */
} pb_want;

struct pb_plan {
    pb_want *w; /* sorted by field number */
    size_t n;
};

typedef struct {
    double *v;
    size_t n, cap;
    int seen;
    long slot;
} pb_vec;

typedef struct {
    rtml_pb_descriptors *desc;
    const rtml_pb_message *msg;
    pb_plan *root;
    pb_plan **plans; /* all of them, for freeing */
    size_t n_plans;
    size_t *first;   /* field i takes the value of field first[i] (the same path) */
    pb_vec *vecs;
    size_t n_vecs;
} pb_state;

typedef struct {
    char ***segs;
    size_t *nseg;
} pb_paths;

/* ---- plan -------------------------------------------------------------------------------------------- */

static int is_numeric(int type) {
    return type != RTML_PB_STRING && type != RTML_PB_BYTES && type != RTML_PB_MESSAGE && type != RTML_PB_GROUP;
}

static int add_plan(pb_state *s, pb_plan *p) {
    pb_plan **n = realloc(s->plans, (s->n_plans + 1) * sizeof *n);
    if (!n) return -1;
    s->plans = n;
    s->plans[s->n_plans++] = p;
    return 0;
}

static int add_vec(pb_state *s, long slot) {
    pb_vec *n = realloc(s->vecs, (s->n_vecs + 1) * sizeof *n);
    if (!n) return -1;
    s->vecs = n;
    s->vecs[s->n_vecs] = (pb_vec){NULL, 0, 0, 0, slot};
    return (int)s->n_vecs++;
}

static int cmp_want(const void *a, const void *b) {
    uint32_t x = ((const pb_want *)a)->f->number, y = ((const pb_want *)b)->f->number;
    return (x > y) - (x < y);
}

static pb_plan *compile(pb_state *s, const pb_paths *ps, const char *const *fields, const rtml_pb_message *m,
                        const size_t *idx, size_t n, size_t d, char *err, size_t errlen);

/* The want for field fd: the path ending there (if any) and the plan for the paths going deeper. */
static int compile_want(pb_state *s, const pb_paths *ps, const char *const *fields, const rtml_pb_field *fd,
                        const size_t *idx, size_t n, size_t d, pb_want *w, char *err, size_t errlen) {
    size_t *deeper = malloc((n ? n : 1) * sizeof *deeper), m = 0;
    if (!deeper) return rtml_fail(err, errlen, "out of memory");
    *w = (pb_want){fd, -1, -1, NULL};
    for (size_t k = 0; k < n; k++) {
        if (strcmp(ps->segs[idx[k]][d], fd->name) != 0) continue;
        if (ps->nseg[idx[k]] == d + 1) w->slot = (long)idx[k];
        else deeper[m++] = idx[k];
    }
    int rc = 0;
    if (m && fd->label == RTML_PB_LABEL_REPEATED)
        rc = rtml_fail(err, errlen, "input: field %s: '%s' is a repeated field (paths cannot go into it)",
                       fields[deeper[0]], fd->name);
    else if (m && fd->type != RTML_PB_MESSAGE)
        rc = rtml_fail(err, errlen, "input: field %s: '%s' is a %s, not a message", fields[deeper[0]], fd->name,
                       rtml_pb_type_name(fd->type));
    else if (m && !(w->sub = compile(s, ps, fields, fd->msg, deeper, m, d + 1, err, errlen)))
        rc = -1;
    if (rc == 0 && w->slot >= 0 && fd->label == RTML_PB_LABEL_REPEATED && is_numeric(fd->type) &&
        (w->vec = add_vec(s, w->slot)) < 0)
        rc = rtml_fail(err, errlen, "out of memory");
    free(deeper);
    return rc;
}

/* Plan for message m at depth d, for paths idx[0..n) that agree on their first d segments (all deeper). */
static pb_plan *compile(pb_state *s, const pb_paths *ps, const char *const *fields, const rtml_pb_message *m,
                        const size_t *idx, size_t n, size_t d, char *err, size_t errlen) {
    pb_plan *p = calloc(1, sizeof *p);
    if (!p || add_plan(s, p) != 0) {
        free(p);
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    if (!(p->w = calloc(n ? n : 1, sizeof *p->w))) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        const char *name = ps->segs[idx[k]][d];
        const rtml_pb_field *fd = rtml_pb_find_field(m, name);
        if (!fd) {
            rtml_fail(err, errlen, "input: field %s: message %s has no field '%s'", fields[idx[k]], m->name, name);
            return NULL;
        }
        size_t j = 0;
        while (j < p->n && p->w[j].f != fd) j++;
        if (j < p->n) continue; /* done with an earlier path of the same field */
        if (compile_want(s, ps, fields, fd, idx, n, d, &p->w[p->n], err, errlen) != 0) return NULL;
        p->n++;
    }
    qsort(p->w, p->n, sizeof *p->w, cmp_want);
    return p;
}

static int compile_paths(pb_state *s, const char *const *fields, size_t n, char *err, size_t errlen) {
    pb_paths ps = {calloc(n ? n : 1, sizeof(char **)), calloc(n ? n : 1, sizeof(size_t))};
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), m = 0;
    int rc = (!ps.segs || !ps.nseg || !idx) ? rtml_fail(err, errlen, "out of memory") : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        s->first[i] = i;
        for (size_t k = 0; k < i; k++)
            if (strcmp(fields[k], fields[i]) == 0) s->first[i] = s->first[k];
        if (!(ps.segs[i] = rtml_pointer_split(fields[i], &ps.nseg[i], err, errlen))) rc = -1;
        else if (s->first[i] == i) idx[m++] = i;
    }
    if (rc == 0 && !(s->root = compile(s, &ps, fields, s->msg, idx, m, 0, err, errlen))) rc = -1;
    for (size_t i = 0; ps.segs && i < n; i++) free(ps.segs[i]);
    free(ps.segs);
    free(ps.nseg);
    free(idx);
    return rc;
}

/* ---- decoding ---------------------------------------------------------------------------------------- */

typedef struct {
    pb_state *s;
    rtml_value *out;
    char *err;
    size_t errlen;
} pb_ctx;

__attribute__((format(printf, 3, 4))) static int at_fail(pb_ctx *c, size_t off, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return rtml_fail(c->err, c->errlen, "offset %zu: %s", off, why);
}

static int wire_fail(pb_ctx *c, const rtml_pb_reader *r) {
    return at_fail(c, rtml_pb_offset(r), "%s", r->why ? r->why : "bad value");
}

static int wire_of(int type) {
    switch (type) {
    case RTML_PB_DOUBLE:
    case RTML_PB_FIXED64:
    case RTML_PB_SFIXED64: return RTML_PB_I64;
    case RTML_PB_FLOAT:
    case RTML_PB_FIXED32:
    case RTML_PB_SFIXED32: return RTML_PB_I32;
    case RTML_PB_STRING:
    case RTML_PB_BYTES:
    case RTML_PB_MESSAGE: return RTML_PB_LEN;
    case RTML_PB_GROUP: return RTML_PB_SGROUP;
    default: return RTML_PB_VARINT;
    }
}

static void set_int(rtml_value *v, int64_t i) {
    *v = (rtml_value){.type = RTML_V_NUMBER, .is_int = 1, .i64 = i, .num = (double)i};
}

/* A varint-encoded scalar of type t. */
static void varint_value(const rtml_pb_field *fd, uint64_t u, rtml_value *v) {
    switch (fd->type) {
    case RTML_PB_BOOL: *v = (rtml_value){.type = RTML_V_BOOL, .num = u != 0}; return;
    case RTML_PB_INT32: set_int(v, (int32_t)(uint32_t)u); return;
    case RTML_PB_UINT32: set_int(v, (uint32_t)u); return;
    case RTML_PB_SINT32: set_int(v, (int32_t)((uint32_t)u >> 1 ^ -(uint32_t)(u & 1))); return;
    case RTML_PB_SINT64: set_int(v, (int64_t)(u >> 1) ^ -(int64_t)(u & 1)); return;
    case RTML_PB_UINT64:
        if (u > INT64_MAX) *v = (rtml_value){.type = RTML_V_NUMBER, .num = (double)u};
        else set_int(v, (int64_t)u);
        return;
    case RTML_PB_ENUM: {
        const rtml_pb_enum_value *e = rtml_pb_enum_find(fd->enm, (int32_t)(uint32_t)u);
        if (e) *v = (rtml_value){.type = RTML_V_STRING, .str = e->name, .len = strlen(e->name)};
        else set_int(v, (int32_t)(uint32_t)u);
        return;
    }
    default: set_int(v, (int64_t)u); return; /* int64 */
    }
}

/* One scalar of fd's type (wire type already checked) into v. */
static int read_scalar(rtml_pb_reader *r, const rtml_pb_field *fd, rtml_value *v) {
    uint64_t u;
    uint32_t w;
    const uint8_t *p;
    size_t n;
    switch (wire_of(fd->type)) {
    case RTML_PB_I64:
        if (rtml_pb_fixed64(r, &u) != 0) return -1;
        if (fd->type == RTML_PB_DOUBLE) {
            *v = (rtml_value){.type = RTML_V_NUMBER};
            memcpy(&v->num, &u, sizeof v->num);
        } else if (fd->type == RTML_PB_FIXED64 && u > INT64_MAX) {
            *v = (rtml_value){.type = RTML_V_NUMBER, .num = (double)u};
        } else {
            set_int(v, (int64_t)u);
        }
        return 0;
    case RTML_PB_I32:
        if (rtml_pb_fixed32(r, &w) != 0) return -1;
        if (fd->type == RTML_PB_FLOAT) {
            float f;
            memcpy(&f, &w, sizeof f);
            *v = (rtml_value){.type = RTML_V_NUMBER, .num = f};
        } else {
            set_int(v, fd->type == RTML_PB_SFIXED32 ? (int64_t)(int32_t)w : (int64_t)w);
        }
        return 0;
    case RTML_PB_LEN:
        if (rtml_pb_bytes(r, &p, &n) != 0) return -1;
        *v = fd->type == RTML_PB_MESSAGE ? (rtml_value){.type = RTML_V_OTHER}
                                         : (rtml_value){.type = RTML_V_STRING, .str = (const char *)p, .len = n};
        return 0;
    default:
        if (rtml_pb_varint(r, &u) != 0) return -1;
        varint_value(fd, u, v);
        return 0;
    }
}

static int vec_push(pb_vec *vec, double x) {
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 16;
        double *v = realloc(vec->v, cap * sizeof *v);
        if (!v) return -1;
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = x;
    return 0;
}

/* One element of a repeated numeric field onto its accumulator. */
static int push_element(pb_ctx *c, rtml_pb_reader *r, const pb_want *w) {
    rtml_value v;
    uint64_t u;
    if (w->f->type == RTML_PB_ENUM) { /* an array holds numbers, not names */
        if (rtml_pb_varint(r, &u) != 0) return wire_fail(c, r);
        v.num = (int32_t)(uint32_t)u;
    } else if (read_scalar(r, w->f, &v) != 0) {
        return wire_fail(c, r);
    }
    if (vec_push(&c->s->vecs[w->vec], v.num) != 0) return rtml_fail(c->err, c->errlen, "out of memory");
    return 0;
}

/* A repeated numeric field: one element, or (wire type LEN) a packed run of them. */
static int read_repeated(pb_ctx *c, rtml_pb_reader *r, const pb_want *w, int wire) {
    c->s->vecs[w->vec].seen = 1;
    if (wire != RTML_PB_LEN) return push_element(c, r, w);
    const uint8_t *p;
    size_t n;
    if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(c, r);
    rtml_pb_reader run = {r->start, p, p + n, NULL};
    while (run.p < run.end)
        if (push_element(c, &run, w) != 0) return -1;
    return 0;
}

static const pb_want *find_want(const pb_plan *p, uint32_t field) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->w[mid].f->number < field) lo = mid + 1;
        else hi = mid;
    }
    return lo < p->n && p->w[lo].f->number == field ? &p->w[lo] : NULL;
}

static int decode_message(pb_ctx *c, const pb_plan *p, rtml_pb_reader *r, int depth);

/* A wanted field's value at r (its key read: wire type `wire`, key at offset `at`). */
static int read_wanted(pb_ctx *c, const pb_want *w, rtml_pb_reader *r, int wire, size_t at, int depth) {
    const rtml_pb_field *fd = w->f;
    int want_wire = wire_of(fd->type);
    if (w->vec >= 0 && (wire == want_wire || wire == RTML_PB_LEN)) return read_repeated(c, r, w, wire);
    if (wire != want_wire)
        return at_fail(c, at, "field '%s' (%s): wire type %d, expected %d", fd->name, rtml_pb_type_name(fd->type),
                       wire, want_wire);
    if (w->sub) {
        const uint8_t *p;
        size_t n;
        if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(c, r);
        rtml_pb_reader sub = {r->start, p, p + n, NULL};
        if (w->slot >= 0) c->out[w->slot] = (rtml_value){.type = RTML_V_OTHER};
        return decode_message(c, w->sub, &sub, depth + 1);
    }
    if (fd->label == RTML_PB_LABEL_REPEATED) { /* not numeric: present, of no kind transforms read */
        if (rtml_pb_skip(r, wire) != 0) return wire_fail(c, r);
        c->out[w->slot] = (rtml_value){.type = RTML_V_OTHER};
        return 0;
    }
    return read_scalar(r, fd, &c->out[w->slot]) == 0 ? 0 : wire_fail(c, r);
}

static int decode_message(pb_ctx *c, const pb_plan *p, rtml_pb_reader *r, int depth) {
    if (depth > RTML_POINTER_MAX_DEPTH) return at_fail(c, rtml_pb_offset(r), "messages nested too deep");
    while (r->p < r->end) {
        size_t at = rtml_pb_offset(r);
        uint32_t field;
        int wire;
        if (rtml_pb_key(r, &field, &wire) != 0) return wire_fail(c, r);
        const pb_want *w = find_want(p, field);
        if (!w) {
            if (rtml_pb_skip(r, wire) != 0) return wire_fail(c, r);
            continue;
        }
        if (read_wanted(c, w, r, wire, at, depth) != 0) return -1;
    }
    return 0;
}

/* ---- the decoder ------------------------------------------------------------------------------------- */

static int read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return rtml_fail(err, errlen, "input.schema: cannot open '%s': %s", path, strerror(errno));
    size_t cap = 0, n;
    do {
        if (*len + 4096 > cap) {
            uint8_t *t = realloc(*data, cap = cap * 2 + 4096);
            if (!t) break;
            *data = t;
        }
        n = fread(*data + *len, 1, cap - *len, f);
        *len += n;
    } while (n > 0);
    int bad = ferror(f) || !*data;
    fclose(f);
    return bad ? rtml_fail(err, errlen, "input.schema: cannot read '%s'", path) : 0;
}

static int pb_open(rtml_decoder *d, const rtml_config *cfg, const char *const *fields, size_t n, char *err,
                   size_t errlen) {
    pb_state *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory");
    d->impl = s;
    if (!cfg->input.schema || !*cfg->input.schema)
        return rtml_fail(err, errlen, "input.schema: the protobuf format needs a descriptor set "
                         "(protoc --include_imports --descriptor_set_out=x.desc x.proto)");
    if (!cfg->input.message || !*cfg->input.message)
        return rtml_fail(err, errlen, "input.message: the protobuf format needs the message's full name");
    uint8_t *data;
    size_t len;
    char why[RTML_ERRLEN];
    if (read_file(cfg->input.schema, &data, &len, err, errlen) != 0) {
        free(data);
        return -1;
    }
    s->desc = rtml_pb_descriptors_parse(data, len, why, sizeof why);
    free(data);
    if (!s->desc) return rtml_fail(err, errlen, "input.schema: %s: %s", cfg->input.schema, why);
    if (!(s->msg = rtml_pb_find_message(s->desc, cfg->input.message)))
        return rtml_fail(err, errlen, "input.message: '%s' is not in %s (%zu messages there%s%s)",
                         cfg->input.message, cfg->input.schema, s->desc->n_messages,
                         s->desc->n_messages ? ", e.g. " : "", s->desc->n_messages ? s->desc->messages[0]->name : "");
    if (!(s->first = malloc((n ? n : 1) * sizeof *s->first))) return rtml_fail(err, errlen, "out of memory");
    return compile_paths(s, fields, n, err, errlen);
}

static int pb_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    pb_state *s = d->impl;
    pb_ctx c = {s, out, err, errlen};
    for (size_t i = 0; i < d->n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT};
    for (size_t k = 0; k < s->n_vecs; k++) s->vecs[k].n = 0, s->vecs[k].seen = 0;
    rtml_pb_reader r = rtml_pb_reader_new(buf, len);
    if (decode_message(&c, s->root, &r, 0) != 0) {
        for (size_t i = 0; i < d->n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT};
        return -1;
    }
    for (size_t k = 0; k < s->n_vecs; k++)
        if (s->vecs[k].seen)
            out[s->vecs[k].slot] = (rtml_value){.type = RTML_V_ARRAY, .arr = s->vecs[k].v, .arr_len = s->vecs[k].n};
    for (size_t i = 0; i < d->n_fields; i++)
        if (s->first[i] != i) out[i] = out[s->first[i]];
    return 0;
}

static void pb_close(rtml_decoder *d) {
    pb_state *s = d->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_plans; i++) {
        free(s->plans[i]->w);
        free(s->plans[i]);
    }
    free(s->plans);
    for (size_t k = 0; k < s->n_vecs; k++) free(s->vecs[k].v);
    free(s->vecs);
    free(s->first);
    rtml_pb_descriptors_free(s->desc);
    free(s);
}

const rtml_decoder_ops rtml_protobuf_decoder = {"protobuf", pb_open, pb_decode, pb_close};
