/* protobuf_encode.c — prediction records as Protobuf (output.format: protobuf), behind the rtml_encoder
 * interface (codec.h); the mirror of avro_encode.c, written with base/pbwire.h.
 *
 * output.schema is a descriptor set (protoc --include_imports --descriptor_set_out) and output.message the
 * prediction record's message. rtml fills the fields it knows by name: prediction, score, model_version and
 * source {topic, partition, offset}; it leaves any other field unset, and refuses at open a message it cannot
 * fill (a known field of a type that cannot hold its value, a `required` field it does not know).
 *
 * Decisions (tests/unit/test_protobuf.c reads the records back with Python's protobuf runtime):
 *  - Each field's declared type decides the encoding. prediction: a class index (binary 0/1, multiclass
 *    without names) goes into any integer, float, double, string (as text), bool (binary) or enum (by number)
 *    field; a class name into a string or an enum (by value name); a regression estimate into a double,
 *    float or string. score: double, float or string. model_version, partition, offset: any integer type,
 *    double, float or string. topic: string. Wrapper types (google.protobuf.DoubleValue, Int64Value, ...) hold
 *    their value with presence. A value that does not fit (12.5 into an int64, -1 into a uint32, a name an
 *    enum lacks) fails that record with a reason.
 *  - Fields are written in field-number order and, as a proto3 writer does, a field with implicit presence
 *    is not written at its default (0, "", false, enum 0): every runtime reads it back as that default. A
 *    field with explicit presence (optional, proto2, wrappers) is always written. source is left out when
 *    the prediction has none (replay).
 *  - output.schema_id: Confluent framing, magic byte 0, the id (4 bytes, big-endian), then the message's
 *    indexes in its file (zigzag varints: the count, then the indexes; [0] as the single byte 0). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/pbdesc.h"
#include "base/rtml.h"

typedef enum { R_PREDICTION, R_SCORE, R_VERSION, R_SOURCE, R_TOPIC, R_PARTITION, R_OFFSET } pe_role;
typedef enum { PV_INT, PV_REAL, PV_TEXT } pe_kind;

typedef struct {
    const rtml_pb_field *fd;
    pe_role role;
} pe_slot;

typedef struct {
    rtml_pb_descriptors *desc;
    const rtml_pb_message *msg;
    pe_slot top[4], src[3]; /* the fields rtml writes, in field-number order */
    size_t n_top, n_src;
    uint8_t header[5 + 10 * (RTML_PB_MAX_INDEXES + 1)];
    size_t header_len;
} pb_encoder;

typedef struct {
    pe_kind kind;
    int64_t i;
    double d;
    const char *s;
    size_t len;
} pe_val;

typedef struct {
    int wire;
    uint64_t u;
    const char *s;
    size_t len;
    char text[40]; /* a number written into a string field */
} pe_wire;

/* ---- which field holds what -------------------------------------------------------------------------- */

static const char *const ROLE_NAMES[] = {"prediction", "score", "model_version", "source", "topic", "partition",
                                         "offset"};

/* The scalar that carries a field's value: the field itself, or a wrapper's value field. NULL: none. */
static const rtml_pb_field *scalar_of(const rtml_pb_field *fd) {
    if (fd->label == RTML_PB_LABEL_REPEATED || fd->type == RTML_PB_GROUP) return NULL;
    if (fd->type != RTML_PB_MESSAGE) return fd->type == RTML_PB_BYTES ? NULL : fd;
    if (fd->msg->wkt != RTML_PB_WKT_WRAPPER) return NULL;
    const rtml_pb_field *v = rtml_pb_field_by_number(fd->msg, 1);
    return v && v->type != RTML_PB_BYTES ? v : NULL;
}

static int is_integer_type(int t) {
    return t != RTML_PB_DOUBLE && t != RTML_PB_FLOAT && t != RTML_PB_BOOL && t != RTML_PB_STRING &&
           t != RTML_PB_ENUM && t != RTML_PB_BYTES && t != RTML_PB_MESSAGE && t != RTML_PB_GROUP;
}

/* Can a field of scalar type t hold values of this kind (some of them at least)? */
static int holds(int t, pe_kind kind) {
    switch (kind) {
    case PV_INT: return t != RTML_PB_BYTES && t != RTML_PB_MESSAGE && t != RTML_PB_GROUP;
    case PV_REAL: return t == RTML_PB_DOUBLE || t == RTML_PB_FLOAT || t == RTML_PB_STRING;
    default: return t == RTML_PB_STRING || t == RTML_PB_ENUM;
    }
}

static int role_fits(pe_role role, const rtml_pb_field *fd) {
    const rtml_pb_field *s = scalar_of(fd);
    switch (role) {
    case R_PREDICTION: return s && (holds(s->type, PV_INT) || holds(s->type, PV_REAL) || holds(s->type, PV_TEXT));
    case R_SCORE: return s && holds(s->type, PV_REAL);
    case R_TOPIC: return s && s->type == RTML_PB_STRING;
    case R_SOURCE: return fd->type == RTML_PB_MESSAGE && fd->label != RTML_PB_LABEL_REPEATED && !fd->msg->wkt;
    default: return s && (is_integer_type(s->type) || holds(s->type, PV_REAL));
    }
}

static int cmp_slot(const void *a, const void *b) {
    uint32_t x = ((const pe_slot *)a)->fd->number, y = ((const pe_slot *)b)->fd->number;
    return (x > y) - (x < y);
}

/* The fields of message m rtml writes (roles first..last), sorted; -1 with a reason for one it cannot fill. */
static int assign(const rtml_pb_message *m, pe_role first, pe_role last, pe_slot *slots, size_t *n, char *err,
                  size_t errlen) {
    *n = 0;
    for (size_t k = 0; k < m->n_fields; k++) {
        const rtml_pb_field *fd = &m->fields[k];
        int role = -1;
        for (int r = (int)first; r <= (int)last; r++)
            if (strcmp(fd->name, ROLE_NAMES[r]) == 0) role = r;
        if (role < 0 && fd->label == RTML_PB_LABEL_REQUIRED)
            return rtml_fail(err, errlen, "output.message: %s: field '%s' is required, and not one rtml writes",
                             m->name, fd->name);
        if (role < 0) continue;
        if (!role_fits((pe_role)role, fd))
            return rtml_fail(err, errlen, "output.message: %s: field '%s' (%s%s) cannot hold what rtml writes there",
                             m->name, fd->name, fd->label == RTML_PB_LABEL_REPEATED ? "repeated " : "",
                             fd->type == RTML_PB_MESSAGE ? fd->msg->name : rtml_pb_type_name(fd->type));
        slots[(*n)++] = (pe_slot){fd, (pe_role)role};
    }
    qsort(slots, *n, sizeof *slots, cmp_slot);
    return 0;
}

/* ---- values to wire ---------------------------------------------------------------------------------- */

static int no_fit(const rtml_pb_field *fd, const char *field, const pe_val *v, char *err, size_t errlen) {
    if (v->kind == PV_TEXT)
        return rtml_fail(err, errlen, "field '%s' (%s) cannot hold '%.*s'", field, rtml_pb_type_name(fd->type),
                         (int)(v->len > 64 ? 64 : v->len), v->s);
    if (v->kind == PV_INT)
        return rtml_fail(err, errlen, "field '%s' (%s) cannot hold %lld", field, rtml_pb_type_name(fd->type),
                         (long long)v->i);
    return rtml_fail(err, errlen, "field '%s' (%s) cannot hold %.17g", field, rtml_pb_type_name(fd->type), v->d);
}

/* An integer into an integer, bool or enum field: the wire value, range-checked. */
static int int_wire(const rtml_pb_field *fd, int64_t i, pe_wire *w) {
    int32_t i32 = (int32_t)i;
    int in32 = i >= INT32_MIN && i <= INT32_MAX, inu32 = i >= 0 && i <= (int64_t)UINT32_MAX;
    w->wire = RTML_PB_VARINT;
    switch (fd->type) {
    case RTML_PB_INT32:
    case RTML_PB_ENUM: w->u = (uint64_t)(int64_t)i32; return in32 ? 0 : -1;
    case RTML_PB_SINT32: w->u = (uint32_t)((uint32_t)i32 << 1 ^ (uint32_t)(i32 >> 31)); return in32 ? 0 : -1;
    case RTML_PB_SINT64: w->u = (uint64_t)i << 1 ^ (uint64_t)(i >> 63); return 0;
    case RTML_PB_UINT32: w->u = (uint64_t)i; return inu32 ? 0 : -1;
    case RTML_PB_UINT64: w->u = (uint64_t)i; return i >= 0 ? 0 : -1;
    case RTML_PB_BOOL: w->u = (uint64_t)i; return i == 0 || i == 1 ? 0 : -1;
    case RTML_PB_FIXED32: w->wire = RTML_PB_I32, w->u = (uint64_t)i; return inu32 ? 0 : -1;
    case RTML_PB_SFIXED32: w->wire = RTML_PB_I32, w->u = (uint32_t)i32; return in32 ? 0 : -1;
    case RTML_PB_FIXED64: w->wire = RTML_PB_I64, w->u = (uint64_t)i; return i >= 0 ? 0 : -1;
    case RTML_PB_SFIXED64: w->wire = RTML_PB_I64, w->u = (uint64_t)i; return 0;
    default: w->u = (uint64_t)i; return 0; /* int64 */
    }
}

static void real_wire(const rtml_pb_field *fd, double d, pe_wire *w) {
    if (fd->type == RTML_PB_FLOAT) {
        float f = (float)d;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        *w = (pe_wire){.wire = RTML_PB_I32, .u = u};
    } else {
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        *w = (pe_wire){.wire = RTML_PB_I64, .u = u};
    }
}

static void text_wire(const pe_val *v, pe_wire *w) {
    w->wire = RTML_PB_LEN;
    if (v->kind == PV_TEXT) {
        w->s = v->s;
        w->len = v->len;
        return;
    }
    rtml_buf t = RTML_BUF_INIT; /* the shortest text that reads back as the number */
    if (v->kind == PV_INT) rtml_buf_put_i64(&t, v->i);
    else rtml_buf_put_double(&t, v->d);
    w->len = t.len < sizeof w->text ? t.len : sizeof w->text - 1;
    memcpy(w->text, t.data, w->len);
    w->s = w->text;
    rtml_buf_free(&t);
}

/* An enum value by its name. */
static int enum_by_name(const rtml_pb_enum *e, const char *s, size_t len, int64_t *number) {
    for (size_t k = 0; k < e->n_values; k++)
        if (strlen(e->values[k].name) == len && memcmp(e->values[k].name, s, len) == 0) {
            *number = e->values[k].number;
            return 0;
        }
    return -1;
}

/* Value v as field fd (a scalar) writes it; -1 with a reason when it does not fit. */
static int to_wire(const rtml_pb_field *fd, const char *field, const pe_val *v, pe_wire *w, char *err,
                   size_t errlen) {
    *w = (pe_wire){0};
    int64_t number;
    if (fd->type == RTML_PB_STRING) {
        text_wire(v, w);
        return 0;
    }
    if (fd->type == RTML_PB_DOUBLE || fd->type == RTML_PB_FLOAT) {
        if (v->kind == PV_TEXT) return no_fit(fd, field, v, err, errlen);
        real_wire(fd, v->kind == PV_INT ? (double)v->i : v->d, w);
        return 0;
    }
    if (v->kind == PV_TEXT && fd->type == RTML_PB_ENUM && enum_by_name(fd->enm, v->s, v->len, &number) == 0)
        return int_wire(fd, number, w);
    if (v->kind != PV_INT || int_wire(fd, v->i, w) != 0) return no_fit(fd, field, v, err, errlen);
    return 0;
}

static int is_zero(const pe_wire *w) { return w->wire == RTML_PB_LEN ? w->len == 0 : w->u == 0; }

static void put_wire(rtml_buf *b, uint32_t number, const pe_wire *w) {
    rtml_pb_put_key(b, number, w->wire);
    switch (w->wire) {
    case RTML_PB_I64: rtml_pb_put_fixed64(b, w->u); return;
    case RTML_PB_I32: rtml_pb_put_fixed32(b, (uint32_t)w->u); return;
    case RTML_PB_LEN:
        rtml_pb_put_varint(b, w->len);
        rtml_buf_append(b, w->s, w->len);
        return;
    default: rtml_pb_put_varint(b, w->u); return;
    }
}

/* ---- writing ----------------------------------------------------------------------------------------- */

/* A length-delimited field: its key now, its length once the body (written after it) is known. */
static size_t begin_sub(rtml_buf *b, uint32_t number) {
    rtml_pb_put_key(b, number, RTML_PB_LEN);
    return b->len;
}

static void end_sub(rtml_buf *b, size_t at) {
    size_t body = b->len - at;
    rtml_buf len = RTML_BUF_INIT;
    rtml_pb_put_varint(&len, body);
    rtml_buf_reserve(b, len.len);
    memmove(b->data + at + len.len, b->data + at, body);
    memcpy(b->data + at, len.data, len.len);
    b->len += len.len;
    b->data[b->len] = '\0';
    rtml_buf_free(&len);
}

/* Field fd with value v: not at all when it has implicit presence and v is its default. */
static int put_field(rtml_buf *b, const rtml_pb_field *fd, const pe_val *v, char *err, size_t errlen) {
    const rtml_pb_field *s = scalar_of(fd);
    pe_wire w;
    if (to_wire(s, fd->name, v, &w, err, errlen) != 0) return -1;
    if (s == fd) {
        if (fd->has_presence || !is_zero(&w)) put_wire(b, fd->number, &w);
        return 0;
    }
    size_t at = begin_sub(b, fd->number); /* a wrapper: present, holding its value */
    if (s->has_presence || !is_zero(&w)) put_wire(b, s->number, &w);
    end_sub(b, at);
    return 0;
}

static pe_val value_of(pe_role role, const rtml_prediction_fields *p) {
    switch (role) {
    case R_PREDICTION:
        if (p->label) return (pe_val){PV_TEXT, 0, 0, p->label, strlen(p->label)};
        if (p->is_class && p->value == floor(p->value) && fabs(p->value) < 9e15)
            return (pe_val){PV_INT, (int64_t)p->value, 0, NULL, 0};
        return (pe_val){PV_REAL, 0, p->value, NULL, 0};
    case R_SCORE: return (pe_val){PV_REAL, 0, p->score, NULL, 0};
    case R_VERSION: return (pe_val){PV_INT, p->model_version, 0, NULL, 0};
    case R_TOPIC: return (pe_val){PV_TEXT, 0, 0, p->topic, strlen(p->topic)};
    case R_PARTITION: return (pe_val){PV_INT, p->partition, 0, NULL, 0};
    default: return (pe_val){PV_INT, p->offset, 0, NULL, 0};
    }
}

static int put_slots(rtml_buf *b, const pe_slot *slots, size_t n, const pb_encoder *e, const rtml_prediction_fields *p,
                     char *err, size_t errlen) {
    for (size_t k = 0; k < n; k++) {
        if (slots[k].role == R_SOURCE) {
            if (!p->topic) continue;
            size_t at = begin_sub(b, slots[k].fd->number);
            if (put_slots(b, e->src, e->n_src, e, p, err, errlen) != 0) return -1;
            end_sub(b, at);
            continue;
        }
        pe_val v = value_of(slots[k].role, p);
        if (put_field(b, slots[k].fd, &v, err, errlen) != 0) return -1;
    }
    return 0;
}

/* ---- the encoder ------------------------------------------------------------------------------------- */

static size_t put_zigzag(uint8_t *out, uint64_t v) { /* v >= 0: zigzag is 2v */
    size_t n = 0;
    v <<= 1;
    do {
        out[n] = v & 0x7F;
        v >>= 7;
        if (v) out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

/* Confluent framing: magic byte, schema id, message indexes. */
static void make_header(pb_encoder *pe, uint32_t id) {
    uint32_t idx[RTML_PB_MAX_INDEXES];
    size_t n = rtml_pb_message_indexes(pe->msg, idx, RTML_PB_MAX_INDEXES), len = 0;
    uint8_t *h = pe->header;
    h[len++] = 0;
    for (int k = 3; k >= 0; k--) h[len++] = (uint8_t)(id >> (8 * k));
    if (n == 1 && idx[0] == 0) {
        h[len++] = 0;
    } else {
        len += put_zigzag(h + len, n);
        for (size_t k = 0; k < n; k++) len += put_zigzag(h + len, idx[k]);
    }
    pe->header_len = len;
}

static int load(pb_encoder *pe, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return rtml_fail(err, errlen, "output.schema: cannot open '%s': %s", path, strerror(errno));
    rtml_buf data = RTML_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) rtml_buf_append(&data, chunk, n);
    int bad = ferror(f);
    fclose(f);
    char why[RTML_ERRLEN];
    if (!bad) pe->desc = rtml_pb_descriptors_parse(data.data ? data.data : "", data.len, why, sizeof why);
    rtml_buf_free(&data);
    if (bad) return rtml_fail(err, errlen, "output.schema: cannot read '%s'", path);
    return pe->desc ? 0 : rtml_fail(err, errlen, "output.schema: %s: %s", path, why);
}

static int pe_open(rtml_encoder *e, const rtml_config *cfg, char *err, size_t errlen) {
    pb_encoder *pe = calloc(1, sizeof *pe);
    if (!pe) return rtml_fail(err, errlen, "out of memory");
    e->impl = pe;
    if (!cfg->output.schema || !cfg->output.message)
        return rtml_fail(err, errlen, "output: format protobuf needs a descriptor set (schema) and a message");
    if (load(pe, cfg->output.schema, err, errlen) != 0) return -1;
    if (!(pe->msg = rtml_pb_find_message(pe->desc, cfg->output.message)))
        return rtml_fail(err, errlen, "output.message: '%s' is not in %s", cfg->output.message, cfg->output.schema);
    if (assign(pe->msg, R_PREDICTION, R_SOURCE, pe->top, &pe->n_top, err, errlen) != 0) return -1;
    for (size_t k = 0; k < pe->n_top; k++)
        if (pe->top[k].role == R_SOURCE &&
            assign(pe->top[k].fd->msg, R_TOPIC, R_OFFSET, pe->src, &pe->n_src, err, errlen) != 0)
            return -1;
    if (cfg->output.has_schema_id) make_header(pe, cfg->output.schema_id);
    return 0;
}

static int pe_encode(const rtml_encoder *e, const rtml_prediction_fields *p, rtml_buf *out, char *err, size_t errlen) {
    const pb_encoder *pe = e->impl;
    size_t start = out->len;
    rtml_buf_append(out, pe->header, pe->header_len);
    if (put_slots(out, pe->top, pe->n_top, pe, p, err, errlen) != 0) {
        out->len = start; /* nothing appended on failure */
        if (out->data) out->data[start] = '\0';
        return -1;
    }
    return 0;
}

static void pe_close(rtml_encoder *e) {
    pb_encoder *pe = e->impl;
    if (!pe) return;
    rtml_pb_descriptors_free(pe->desc);
    free(pe);
}

const rtml_encoder_ops rtml_protobuf_encoder_ops = {"protobuf", pe_open, pe_encode, pe_close};
