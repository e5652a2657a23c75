/* avro_encode.c — prediction records as Avro binary (output.format: avro), see codec.h; also behind the
 * rtml_encoder interface (rtml_avro_encoder_ops), which takes output.schema_id from the config.
 *
 * The writer walks the output schema (avro_schema.h) once per prediction, field by field, taking each value from
 * rtml_prediction_fields by the field's name: prediction, score, model_version, source {topic, partition,
 * offset}. A field rtml does not know is written as null (the schema must allow it: checked at open).
 * Unions pick their branch from the value: a class index prefers long, then int, double, float, string;
 * a real value double, float, string; a class name string, then an enum holding that symbol; a missing
 * source null. Numbers go into string fields as their shortest text. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/avro_schema.h"
#include "base/rtml.h"

struct rtml_avro_encoder {
    rtml_avro_schema *schema;
    int64_t schema_id; /* < 0: no Confluent header */
};

static const char BUILTIN_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"Prediction\",\"namespace\":\"rtml\",\"fields\":["
    "{\"name\":\"prediction\",\"type\":[\"long\",\"double\",\"string\"]},"
    "{\"name\":\"score\",\"type\":\"double\"},"
    "{\"name\":\"model_version\",\"type\":\"long\"},"
    "{\"name\":\"source\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Source\",\"fields\":["
    "{\"name\":\"topic\",\"type\":\"string\"},{\"name\":\"partition\",\"type\":\"int\"},"
    "{\"name\":\"offset\",\"type\":\"long\"}]}],\"default\":null}]}";

const char *rtml_avro_prediction_schema(void) { return BUILTIN_SCHEMA; }

/* A value to write. */
typedef enum { EV_NULL, EV_LONG, EV_DOUBLE, EV_STRING, EV_SOURCE } ev_kind;
typedef struct {
    ev_kind kind;
    int64_t i;
    double d;
    const char *s;
    size_t len;
} enc_val;

/* ---- choosing a branch ------------------------------------------------------------------------------- */

static int enum_index(const rtml_avro_type *t, const enc_val *v) {
    for (size_t k = 0; k < t->n; k++)
        if (t->name_lens[k] == v->len && memcmp(t->names[k], v->s, v->len) == 0) return (int)k;
    return -1;
}

/* How well a (non-union) type takes the value: 0 = not at all, higher = better. */
static int fit(const rtml_avro_type *t, const enc_val *v) {
    switch (v->kind) {
    case EV_NULL: return t->kind == RTML_AVRO_NULL;
    case EV_SOURCE: return t->kind == RTML_AVRO_RECORD;
    case EV_STRING: return t->kind == RTML_AVRO_STRING ? 2 : t->kind == RTML_AVRO_ENUM && enum_index(t, v) >= 0;
    case EV_LONG:
        switch (t->kind) {
        case RTML_AVRO_LONG: return 6;
        case RTML_AVRO_INT: return v->i >= INT32_MIN && v->i <= INT32_MAX ? 5 : 0;
        case RTML_AVRO_DOUBLE: return 4;
        case RTML_AVRO_FLOAT: return 3;
        case RTML_AVRO_STRING: return 1;
        default: return 0;
        }
    case EV_DOUBLE:
        return t->kind == RTML_AVRO_DOUBLE ? 3 : t->kind == RTML_AVRO_FLOAT ? 2 : t->kind == RTML_AVRO_STRING;
    }
    return 0;
}

/* The best branch of a union for v, or -1. */
static int pick_branch(const rtml_avro_type *u, const enc_val *v) {
    int best = -1, score = 0;
    for (size_t b = 0; b < u->n; b++) {
        int f = fit(u->items[b], v);
        if (f > score) score = f, best = (int)b;
    }
    return best;
}

static int accepts(const rtml_avro_type *t, const enc_val *v) {
    return t->kind == RTML_AVRO_UNION ? pick_branch(t, v) >= 0 : fit(t, v) > 0;
}

/* ---- writing ----------------------------------------------------------------------------------------- */

static void put_long(rtml_buf *b, int64_t v) {
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = u & 0x7F;
        u >>= 7;
        if (u) tmp[n] |= 0x80;
        n++;
    } while (u);
    rtml_buf_append(b, tmp, n);
}

static void put_double(rtml_buf *b, double d) {
    uint64_t u;
    uint8_t tmp[8];
    memcpy(&u, &d, sizeof u);
    for (int i = 0; i < 8; i++) tmp[i] = (uint8_t)(u >> (8 * i));
    rtml_buf_append(b, tmp, 8);
}

static void put_float(rtml_buf *b, float f) {
    uint32_t u;
    uint8_t tmp[4];
    memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; i++) tmp[i] = (uint8_t)(u >> (8 * i));
    rtml_buf_append(b, tmp, 4);
}

static void put_bytes(rtml_buf *b, const char *s, size_t len) {
    put_long(b, (int64_t)len);
    rtml_buf_append(b, s, len);
}

/* A number as text (string fields). */
static void put_number_text(rtml_buf *b, const enc_val *v) {
    rtml_buf t = RTML_BUF_INIT;
    if (v->kind == EV_LONG) rtml_buf_put_i64(&t, v->i);
    else rtml_buf_put_double(&t, v->d);
    put_bytes(b, t.data, t.len);
    rtml_buf_free(&t);
}

static int write_record(const rtml_avro_type *t, const rtml_prediction_fields *p, int top, rtml_buf *b,
                        char *err, size_t errlen);

static int write_value(const rtml_avro_type *t, const enc_val *v, const rtml_prediction_fields *p,
                       const char *field, rtml_buf *b, char *err, size_t errlen) {
    if (t->kind == RTML_AVRO_UNION) {
        int k = pick_branch(t, v);
        if (k < 0)
            return rtml_fail(err, errlen, "output.schema: field '%s': no branch of its union takes the value", field);
        put_long(b, k);
        t = t->items[k];
    }
    if (!fit(t, v)) return rtml_fail(err, errlen, "output.schema: field '%s': a %s cannot hold the value", field,
                                     rtml_avro_kind_name(t->kind));
    double d = v->kind == EV_LONG ? (double)v->i : v->d;
    switch (t->kind) {
    case RTML_AVRO_NULL: return 0;
    case RTML_AVRO_INT:
    case RTML_AVRO_LONG: put_long(b, v->i); return 0;
    case RTML_AVRO_FLOAT: put_float(b, (float)d); return 0;
    case RTML_AVRO_DOUBLE: put_double(b, d); return 0;
    case RTML_AVRO_ENUM: put_long(b, enum_index(t, v)); return 0;
    case RTML_AVRO_STRING:
        if (v->kind == EV_STRING) put_bytes(b, v->s, v->len);
        else put_number_text(b, v);
        return 0;
    case RTML_AVRO_RECORD: return write_record(t, p, 0, b, err, errlen);
    default: return rtml_fail(err, errlen, "output.schema: field '%s': unsupported type", field);
    }
}

/* The value of the field named `name` (top level, or inside source). */
static enc_val value_of(const char *name, const rtml_prediction_fields *p, int top) {
    enc_val v = {EV_NULL, 0, 0, NULL, 0};
    if (top && strcmp(name, "prediction") == 0) {
        if (p->label) v = (enc_val){EV_STRING, 0, 0, p->label, strlen(p->label)};
        else if (p->is_class && p->value == floor(p->value) && fabs(p->value) < 9e15)
            v = (enc_val){EV_LONG, (int64_t)p->value, 0, NULL, 0};
        else v = (enc_val){EV_DOUBLE, 0, p->value, NULL, 0};
    } else if (top && strcmp(name, "score") == 0) {
        v = (enc_val){EV_DOUBLE, 0, p->score, NULL, 0};
    } else if (top && strcmp(name, "model_version") == 0) {
        v = (enc_val){EV_LONG, p->model_version, 0, NULL, 0};
    } else if (top && strcmp(name, "source") == 0) {
        v.kind = p->topic ? EV_SOURCE : EV_NULL;
    } else if (!top && strcmp(name, "topic") == 0) {
        v = (enc_val){EV_STRING, 0, 0, p->topic, strlen(p->topic)};
    } else if (!top && strcmp(name, "partition") == 0) {
        v = (enc_val){EV_LONG, p->partition, 0, NULL, 0};
    } else if (!top && strcmp(name, "offset") == 0) {
        v = (enc_val){EV_LONG, p->offset, 0, NULL, 0};
    }
    return v;
}

static int write_record(const rtml_avro_type *t, const rtml_prediction_fields *p, int top, rtml_buf *b,
                        char *err, size_t errlen) {
    for (size_t f = 0; f < t->n; f++) {
        enc_val v = value_of(t->names[f], p, top);
        if (write_value(t->items[f], &v, p, t->names[f], b, err, errlen) != 0) return -1;
    }
    return 0;
}

/* ---- checking a configured schema -------------------------------------------------------------------- */

static int check_record(const rtml_avro_type *t, int top, char *err, size_t errlen);

/* Can field `name` of this type hold what rtml writes there (some of it, for the prediction)? */
static int check_field(const rtml_avro_type *t, const char *name, int top, char *err, size_t errlen) {
    static const rtml_prediction_fields sample = {NULL, 1, 1, 0.5, 1, "t", 0, 0};
    enc_val v = value_of(name, &sample, top);
    if (top && strcmp(name, "prediction") == 0) {
        enc_val real = {EV_DOUBLE, 0, 0.5, NULL, 0}, label = {EV_STRING, 0, 0, "", 0};
        if (accepts(t, &v) || accepts(t, &real) || accepts(t, &label)) return 0;
    } else if (v.kind == EV_NULL) {
        if (accepts(t, &v)) return 0;
        return rtml_fail(err, errlen, "output.schema: field '%s' is not one rtml writes, and it is not nullable", name);
    } else if (accepts(t, &v)) {
        if (v.kind != EV_SOURCE) return 0;
        const rtml_avro_type *r = t->kind == RTML_AVRO_UNION ? t->items[pick_branch(t, &v)] : t;
        return check_record(r, 0, err, errlen);
    }
    return rtml_fail(err, errlen, "output.schema: field '%s' cannot hold what rtml writes there (a %s)", name,
                     rtml_avro_kind_name(t->kind));
}

static int check_record(const rtml_avro_type *t, int top, char *err, size_t errlen) {
    for (size_t f = 0; f < t->n; f++)
        if (check_field(t->items[f], t->names[f], top, err, errlen) != 0) return -1;
    return 0;
}

/* ---- API --------------------------------------------------------------------------------------------- */

rtml_avro_encoder *rtml_avro_encoder_open(const rtml_config *cfg, char *err, size_t errlen) {
    rtml_avro_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    e->schema_id = -1;
    const char *path = cfg ? cfg->output.schema : NULL;
    char why[RTML_ERRLEN];
    e->schema = path ? rtml_avro_schema_load(path, why, sizeof why)
                     : rtml_avro_schema_parse(BUILTIN_SCHEMA, sizeof BUILTIN_SCHEMA - 1, why, sizeof why);
    const rtml_avro_type *root = e->schema ? rtml_avro_schema_root(e->schema) : NULL;
    int rc = 0;
    if (!e->schema) rc = rtml_fail(err, errlen, "output.schema: %s: %s", path ? path : "built-in", why);
    else if (root->kind != RTML_AVRO_RECORD)
        rc = rtml_fail(err, errlen, "output.schema: %s: the top-level type must be a record", path);
    else rc = check_record(root, 1, err, errlen);
    if (rc != 0) {
        rtml_avro_encoder_close(e);
        return NULL;
    }
    return e;
}

void rtml_avro_encoder_set_schema_id(rtml_avro_encoder *e, int64_t id) { e->schema_id = id; }

int rtml_avro_encode_prediction(const rtml_avro_encoder *e, const rtml_prediction_fields *p, rtml_buf *out,
                                char *err, size_t errlen) {
    size_t start = out->len;
    if (e->schema_id >= 0) {
        uint8_t hdr[5] = {0, (uint8_t)(e->schema_id >> 24), (uint8_t)(e->schema_id >> 16),
                          (uint8_t)(e->schema_id >> 8), (uint8_t)e->schema_id};
        rtml_buf_append(out, hdr, sizeof hdr);
    }
    if (write_record(rtml_avro_schema_root(e->schema), p, 1, out, err, errlen) != 0) {
        out->len = start; /* nothing appended on failure */
        if (out->data) out->data[start] = '\0';
        return -1;
    }
    return 0;
}

void rtml_avro_encoder_close(rtml_avro_encoder *e) {
    if (!e) return;
    rtml_avro_schema_free(e->schema);
    free(e);
}

/* ---- as an rtml_encoder (codec.h): output.schema and output.schema_id from the config ----------------- */

static int avro_enc_open(rtml_encoder *e, const rtml_config *cfg, char *err, size_t errlen) {
    rtml_avro_encoder *a = rtml_avro_encoder_open(cfg, err, errlen);
    if (!a) return -1;
    if (cfg->output.has_schema_id) rtml_avro_encoder_set_schema_id(a, cfg->output.schema_id);
    e->impl = a;
    return 0;
}

static int avro_enc_encode(const rtml_encoder *e, const rtml_prediction_fields *p, rtml_buf *out, char *err,
                           size_t errlen) {
    return rtml_avro_encode_prediction(e->impl, p, out, err, errlen);
}

static void avro_enc_close(rtml_encoder *e) { rtml_avro_encoder_close(e->impl); }

const rtml_encoder_ops rtml_avro_encoder_ops = {"avro", avro_enc_open, avro_enc_encode, avro_enc_close};
