/* protobuf.c — the Protobuf input format: one serialized message per Kafka message, no generated code.
 *
 * input.schema is a FileDescriptorSet (protoc --include_imports --descriptor_set_out=x.desc x.proto) and
 * input.message the fully qualified name of the record's message ("rtml.test.Txn", a leading '.' allowed).
 * At open, the field paths are compiled against the descriptors into plans (pbplan.h). Decoding reads the
 * wire format once, following nested messages, elements and map entries only where a path leads, skipping
 * everything else with bounds checks. docs/formats.md states the rules for users.
 *
 * Decisions (tests/unit/test_protobuf.c pins each down):
 *  - Presence as protobuf defines it (pbdesc.h): a field with implicit presence (a proto3 scalar or enum
 *    without `optional`) that is not on the wire reads as its default (0, false, "", the enum's value 0 by
 *    name), as every protobuf runtime reads it, but only when its message is present; a field with explicit
 *    presence (proto2, proto3 `optional`, oneof members, messages, wrappers) not on the wire is ABSENT, so
 *    impute/reject rules apply to it. A repeated field with no element is an empty ARRAY (as JSON's []); a map
 *    field is always present (OTHER).
 *  - Paths name fields by their .proto names: "/user/age" goes through the message field user; "/items/0/price"
 *    through element 0 of a repeated field (elements count in wire order, packed or not); "/attrs/country"
 *    through a map's entry with that key (a later entry with the same key replaces an earlier one). A path
 *    that cannot fit the message is an error at open.
 *  - Values: integer types -> NUMBER with is_int (uint64 above INT64_MAX: a NUMBER without is_int; sint
 *    zigzag-decoded; int32 takes the low 32 bits, as protobuf does); float, double -> NUMBER; bool -> BOOL;
 *    string, bytes -> STRING pointing into the message (not checked for UTF-8); enum -> STRING (the value's
 *    name) when the number is known, else NUMBER; google.protobuf.Timestamp and Duration -> NUMBER of seconds
 *    (with the nanoseconds as a fraction, correctly rounded; is_int when nanos is 0), which hour_of_day and
 *    day_of_week read as epoch seconds; wrapper types -> their value; other messages -> OTHER; repeated
 *    numeric fields (packed or not, or both mixed; enums as their numbers) -> ARRAY in order; other repeated
 *    fields and maps -> OTHER.
 *  - A singular field seen twice: the last wins (messages merge: their fields last-win in turn).
 *  - Confluent framing: a record starting with byte 0 is read as magic byte 0, a 4-byte schema id, then the
 *    message-index array (zigzag varints: a count, then the indexes; a count of 0, the single byte 0, means
 *    [0]) choosing the message in the file that defines input.message: [0] its first top-level message,
 *    [1, 0] the first message nested in the second. No bare message starts with byte 0 (field number 0 does
 *    not exist), so there is no second reading. Another message than input.message is decoded with the same
 *    paths compiled for it, or rejected if they do not fit it.
 *  - Errors, "offset N: reason": truncation, varints over 10 bytes or 64 bits, lengths past the end, field
 *    number 0, groups (wire types 3/4), invalid wire types, a wanted field whose wire type does not match its
 *    declared type, a bad Confluent header. Unknown and unwanted fields are skipped, checking only framing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/pbplan.h"
#include "codec/pbdesc.h"
#include "base/rtml.h"

typedef struct {
    int64_t seconds;
    int32_t nanos;
} pb_time;

typedef struct {
    rtml_pb_descriptors *desc;
    const rtml_pb_file *file; /* the file of input.message: Confluent message indexes are read in it */
    char **fields;            /* the configured paths (owned copies, for targets compiled later) */
    size_t n_fields;
    size_t *first;            /* field i takes the value of field first[i] (the same path) */
    pb_target **targets;      /* [0]: input.message; then messages Confluent framing named */
    size_t n_targets;
    pb_time *times;           /* per output: the Timestamp/Duration read so far (messages merge) */
} pb_state;

typedef struct {
    pb_state *s;
    pb_target *t;
    rtml_value *out;
    char *err;
    size_t errlen;
} pb_ctx;

static const double NO_ELEMENTS[1] = {0};

/* ---- errors ------------------------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int at_fail(pb_ctx *c, size_t off, const char *fmt, ...) {
    char why[RTML_ERRLEN];
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

static int wire_mismatch(pb_ctx *c, const rtml_pb_field *fd, int wire, size_t at) {
    return at_fail(c, at, "field '%s' (%s): wire type %d, expected %d", fd->name, rtml_pb_type_name(fd->type), wire,
                   wire_of(fd->type));
}

/* ---- scalar values ----------------------------------------------------------------------------------- */

static void set_int(rtml_value *v, int64_t i) {
    *v = (rtml_value){.type = RTML_V_NUMBER, .is_int = 1, .i64 = i, .num = (double)i};
}

static void set_enum(const rtml_pb_enum *enm, int32_t number, rtml_value *v) {
    const rtml_pb_enum_value *e = rtml_pb_enum_find(enm, number);
    if (e) *v = (rtml_value){.type = RTML_V_STRING, .str = e->name, .len = strlen(e->name)};
    else set_int(v, number);
}

/* A varint-encoded scalar of fd's type. */
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
    case RTML_PB_ENUM: set_enum(fd->enm, (int32_t)(uint32_t)u, v); return;
    default: set_int(v, (int64_t)u); return; /* int64 */
    }
}

static void fixed64_value(const rtml_pb_field *fd, uint64_t u, rtml_value *v) {
    if (fd->type == RTML_PB_DOUBLE) {
        *v = (rtml_value){.type = RTML_V_NUMBER};
        memcpy(&v->num, &u, sizeof v->num);
    } else if (fd->type == RTML_PB_FIXED64 && u > INT64_MAX) {
        *v = (rtml_value){.type = RTML_V_NUMBER, .num = (double)u};
    } else {
        set_int(v, (int64_t)u);
    }
}

static void fixed32_value(const rtml_pb_field *fd, uint32_t w, rtml_value *v) {
    if (fd->type == RTML_PB_FLOAT) {
        float f;
        memcpy(&f, &w, sizeof f);
        *v = (rtml_value){.type = RTML_V_NUMBER, .num = f};
    } else {
        set_int(v, fd->type == RTML_PB_SFIXED32 ? (int64_t)(int32_t)w : (int64_t)w);
    }
}

/* One scalar of fd's type (wire type already checked) into v; a message's bytes are skipped (OTHER). */
static int read_scalar(rtml_pb_reader *r, const rtml_pb_field *fd, rtml_value *v) {
    uint64_t u;
    uint32_t w;
    const uint8_t *p;
    size_t n;
    switch (wire_of(fd->type)) {
    case RTML_PB_I64:
        if (rtml_pb_fixed64(r, &u) != 0) return -1;
        fixed64_value(fd, u, v);
        return 0;
    case RTML_PB_I32:
        if (rtml_pb_fixed32(r, &w) != 0) return -1;
        fixed32_value(fd, w, v);
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

/* The default of a field with implicit presence (also a map's missing value, a wrapper's missing value). */
static void default_value(const rtml_pb_field *fd, rtml_value *v) {
    switch (fd->type) {
    case RTML_PB_BOOL: *v = (rtml_value){.type = RTML_V_BOOL}; return;
    case RTML_PB_STRING:
    case RTML_PB_BYTES: *v = (rtml_value){.type = RTML_V_STRING, .str = "", .len = 0}; return;
    case RTML_PB_ENUM: set_enum(fd->enm, 0, v); return;
    case RTML_PB_FLOAT:
    case RTML_PB_DOUBLE: *v = (rtml_value){.type = RTML_V_NUMBER}; return;
    case RTML_PB_MESSAGE: *v = (rtml_value){.type = RTML_V_OTHER}; return;
    default: set_int(v, 0); return;
    }
}

/* ---- well-known types -------------------------------------------------------------------------------- */

/* seconds + nanos / 1e9, correctly rounded: the decimal text "S.NNNNNNNNN" read by strtod, as the JSON text
 * of the same number would be. */
static void time_value(int64_t s, int32_t ns, rtml_value *v) {
    if (ns == 0) {
        set_int(v, s);
        return;
    }
    *v = (rtml_value){.type = RTML_V_NUMBER};
    if (ns <= -1000000000 || ns >= 1000000000) { /* not a valid Timestamp/Duration; still a number */
        v->num = (double)s + ns / 1e9;
        return;
    }
    if (s < 0 && ns > 0) s += 1, ns -= 1000000000; /* make both the same sign */
    else if (s > 0 && ns < 0) s -= 1, ns += 1000000000;
    int neg = s < 0 || ns < 0;
    unsigned long long us = s < 0 ? 0 - (unsigned long long)s : (unsigned long long)s;
    char text[48];
    snprintf(text, sizeof text, "%s%llu.%09ld", neg ? "-" : "", us, (long)(ns < 0 ? -ns : ns));
    v->num = strtod(text, NULL);
}

/* One field of a well-known type at r: a wrapper's value into v, a time's seconds or nanos into t. */
static int wkt_field(pb_ctx *c, const rtml_pb_message *m, rtml_pb_reader *r, rtml_value *v, pb_time *t) {
    size_t at = rtml_pb_offset(r);
    uint32_t field;
    int wire;
    uint64_t u;
    if (rtml_pb_key(r, &field, &wire) != 0) return wire_fail(c, r);
    const rtml_pb_field *fd = rtml_pb_field_by_number(m, field);
    if (!fd || (m->wkt == RTML_PB_WKT_WRAPPER && field != 1) || field > 2)
        return rtml_pb_skip(r, wire) == 0 ? 0 : wire_fail(c, r);
    if (wire != wire_of(fd->type)) return wire_mismatch(c, fd, wire, at);
    if (m->wkt == RTML_PB_WKT_WRAPPER) return read_scalar(r, fd, v) == 0 ? 0 : wire_fail(c, r);
    if (rtml_pb_varint(r, &u) != 0) return wire_fail(c, r);
    if (field == 1) t->seconds = (int64_t)u;
    else t->nanos = (int32_t)(uint32_t)u;
    return 0;
}

/* The fields of a Timestamp, Duration or wrapper message at r into out[slot]. merge: a second occurrence of
 * a singular field, whose fields last-win over the first's. */
static int read_wkt(pb_ctx *c, const rtml_pb_message *m, rtml_pb_reader r, long slot, int merge) {
    rtml_value *v = &c->out[slot];
    pb_time *t = &c->s->times[slot];
    const rtml_pb_field *value = rtml_pb_field_by_number(m, 1);
    int fresh = !merge || v->type == RTML_V_ABSENT;
    if (fresh && m->wkt == RTML_PB_WKT_WRAPPER) default_value(value, v);
    if (fresh) *t = (pb_time){0, 0};
    while (r.p < r.end)
        if (wkt_field(c, m, &r, v, t) != 0) return -1;
    if (m->wkt != RTML_PB_WKT_WRAPPER) time_value(t->seconds, t->nanos, v);
    return 0;
}

/* ---- messages ---------------------------------------------------------------------------------------- */

static int decode_message(pb_ctx *c, pb_plan *p, rtml_pb_reader *r, int depth);

/* After a present message instance: the defaults of its wanted fields that were not on the wire. */
static void fill_defaults(pb_ctx *c, const pb_plan *p) {
    for (size_t k = 0; k < p->n; k++) {
        const pb_want *w = &p->w[k];
        rtml_value *v = w->slot >= 0 ? &c->out[w->slot] : NULL;
        if (!v || v->type != RTML_V_ABSENT) continue;
        if (w->f->label == RTML_PB_LABEL_REPEATED)
            *v = w->f->type == RTML_PB_MESSAGE && w->f->msg->map_entry
                     ? (rtml_value){.type = RTML_V_OTHER}
                     : (rtml_value){.type = RTML_V_ARRAY, .arr = NO_ELEMENTS, .arr_len = 0};
        else if (!w->f->has_presence) default_value(w->f, v);
    }
}

/* A present message of type m (its bytes at r): its own value at slot (if any), and the paths into it. */
static int read_message_value(pb_ctx *c, const rtml_pb_message *m, long slot, pb_plan *sub, rtml_pb_reader r,
                              int merge, int depth) {
    if (depth > RTML_POINTER_MAX_DEPTH) return at_fail(c, rtml_pb_offset(&r), "messages nested too deep");
    if (slot >= 0 && m->wkt != RTML_PB_WKT_NONE && read_wkt(c, m, r, slot, merge) != 0) return -1;
    if (slot >= 0 && m->wkt == RTML_PB_WKT_NONE) c->out[slot] = (rtml_value){.type = RTML_V_OTHER};
    if (!sub) return 0;
    if (decode_message(c, sub, &r, depth + 1) != 0) return -1;
    fill_defaults(c, sub);
    return 0;
}

static int push_number(pb_ctx *c, const pb_want *w, double x) {
    pb_vec *vec = &c->t->vecs[w->vec];
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 16;
        double *v = realloc(vec->v, cap * sizeof *v);
        if (!v) return rtml_fail(c->err, c->errlen, "out of memory");
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = x;
    return 0;
}

static pb_elem *find_index(const pb_want *w, uint32_t index) {
    for (size_t e = 0; e < w->n_elems; e++)
        if (w->elems[e].index == index) return &w->elems[e];
    return NULL;
}

/* One element of a repeated field (not a map): onto its array, into its slot, or into its message. */
static int read_element(pb_ctx *c, pb_want *w, rtml_pb_reader *r, int depth) {
    pb_elem *e = find_index(w, w->count++);
    const rtml_pb_field *fd = w->f;
    rtml_value v;
    if (fd->type == RTML_PB_MESSAGE) {
        const uint8_t *p;
        size_t n;
        if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(c, r);
        rtml_pb_reader body = {r->start, p, p + n, NULL};
        return e ? read_message_value(c, fd->msg, e->slot, e->sub, body, 0, depth) : 0;
    }
    double x;
    if (fd->type == RTML_PB_ENUM) { /* an array holds the numbers, an element path the name */
        uint64_t u;
        if (rtml_pb_varint(r, &u) != 0) return wire_fail(c, r);
        varint_value(fd, u, &v);
        x = (int32_t)(uint32_t)u;
    } else if (read_scalar(r, fd, &v) != 0) {
        return wire_fail(c, r);
    } else {
        x = v.num;
    }
    if (e && e->slot >= 0) c->out[e->slot] = v;
    return w->vec >= 0 ? push_number(c, w, x) : 0;
}

/* A map entry's key (field 1) as the text paths compare it with; *have = 0 when the entry has none. */
static int entry_key(pb_ctx *c, const rtml_pb_field *key, rtml_pb_reader r, char *text, size_t cap, rtml_value *k) {
    default_value(key, k);
    while (r.p < r.end) {
        size_t at = rtml_pb_offset(&r);
        uint32_t field;
        int wire;
        if (rtml_pb_key(&r, &field, &wire) != 0) return wire_fail(c, &r);
        if (field != 1) {
            if (rtml_pb_skip(&r, wire) != 0) return wire_fail(c, &r);
        } else if (wire != wire_of(key->type)) {
            return wire_mismatch(c, key, wire, at);
        } else if (read_scalar(&r, key, k) != 0) {
            return wire_fail(c, &r);
        }
    }
    if (k->type == RTML_V_BOOL) snprintf(text, cap, "%s", k->num ? "true" : "false");
    else if (k->type == RTML_V_NUMBER && k->is_int) snprintf(text, cap, "%lld", (long long)k->i64);
    else if (k->type == RTML_V_NUMBER) snprintf(text, cap, "%.0f", k->num); /* uint64 above INT64_MAX: exact */
    return 0;
}

static pb_elem *find_key(const pb_want *w, const rtml_value *k, const char *text) {
    const char *s = k->type == RTML_V_STRING ? k->str : text;
    size_t len = k->type == RTML_V_STRING ? k->len : strlen(text);
    for (size_t e = 0; e < w->n_elems; e++)
        if (strlen(w->elems[e].key) == len && memcmp(w->elems[e].key, s, len) == 0) return &w->elems[e];
    return NULL;
}

/* The value (field 2) of a map entry whose key a path names; a missing value is the type's default. */
static int entry_value(pb_ctx *c, const rtml_pb_field *value, pb_elem *e, rtml_pb_reader r, int depth) {
    int seen = 0;
    while (r.p < r.end) {
        size_t at = rtml_pb_offset(&r);
        uint32_t field;
        int wire;
        const uint8_t *p;
        size_t n;
        if (rtml_pb_key(&r, &field, &wire) != 0) return wire_fail(c, &r);
        if (field != 2) {
            if (rtml_pb_skip(&r, wire) != 0) return wire_fail(c, &r);
            continue;
        }
        if (wire != wire_of(value->type)) return wire_mismatch(c, value, wire, at);
        if (value->type != RTML_PB_MESSAGE) {
            rtml_value sink;
            if (read_scalar(&r, value, e->slot >= 0 ? &c->out[e->slot] : &sink) != 0) return wire_fail(c, &r);
        } else if (rtml_pb_bytes(&r, &p, &n) != 0) {
            return wire_fail(c, &r);
        } else if (read_message_value(c, value->msg, e->slot, e->sub, (rtml_pb_reader){r.start, p, p + n, NULL}, seen,
                                      depth) != 0) {
            return -1;
        }
        seen = 1;
    }
    if (seen) return 0;
    if (value->type == RTML_PB_MESSAGE) /* an entry without its value: an empty message */
        return read_message_value(c, value->msg, e->slot, e->sub, (rtml_pb_reader){r.start, r.end, r.end, NULL}, 0,
                                  depth);
    if (e->slot >= 0) default_value(value, &c->out[e->slot]);
    return 0;
}

/* One entry of a map field: if a path names its key, its value (replacing an earlier entry's). */
static int read_entry(pb_ctx *c, pb_want *w, rtml_pb_reader *r, int depth) {
    const uint8_t *p;
    size_t n;
    if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(c, r);
    if (!w->n_elems) return 0;
    rtml_pb_reader entry = {r->start, p, p + n, NULL};
    char text[32] = "";
    rtml_value k;
    const rtml_pb_message *m = w->f->msg;
    if (entry_key(c, rtml_pb_field_by_number(m, 1), entry, text, sizeof text, &k) != 0) return -1;
    pb_elem *e = find_key(w, &k, text);
    if (!e) return 0;
    if (e->seen) {
        if (e->slot >= 0) c->out[e->slot] = (rtml_value){.type = RTML_V_ABSENT};
        rtml_pb_plan_clear(c->t, e->sub, c->out);
    }
    e->seen = 1;
    return entry_value(c, rtml_pb_field_by_number(m, 2), e, entry, depth);
}

/* An occurrence of a repeated field or map: one element, or (wire type LEN, numeric type) a packed run. */
static int read_repeated(pb_ctx *c, pb_want *w, rtml_pb_reader *r, int wire, size_t at, int depth) {
    const rtml_pb_field *fd = w->f;
    int want = wire_of(fd->type), packable = want != RTML_PB_LEN;
    if (wire != want && !(packable && wire == RTML_PB_LEN)) return wire_mismatch(c, fd, wire, at);
    if (w->vec >= 0) c->t->vecs[w->vec].seen = 1;
    else if (w->slot >= 0) c->out[w->slot] = (rtml_value){.type = RTML_V_OTHER};
    if (fd->type == RTML_PB_MESSAGE && fd->msg->map_entry) return read_entry(c, w, r, depth);
    if (!packable || wire != RTML_PB_LEN) return read_element(c, w, r, depth);
    const uint8_t *p;
    size_t n;
    if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(c, r);
    rtml_pb_reader run = {r->start, p, p + n, NULL};
    while (run.p < run.end)
        if (read_element(c, w, &run, depth) != 0) return -1;
    return 0;
}

/* A wanted field's value at r (its key read: wire type `wire`, key at offset `at`). */
static int read_wanted(pb_ctx *c, pb_want *w, rtml_pb_reader *r, int wire, size_t at, int depth) {
    const rtml_pb_field *fd = w->f;
    if (fd->label == RTML_PB_LABEL_REPEATED) return read_repeated(c, w, r, wire, at, depth);
    if (wire != wire_of(fd->type)) return wire_mismatch(c, fd, wire, at);
    if (fd->type != RTML_PB_MESSAGE) return read_scalar(r, fd, &c->out[w->slot]) == 0 ? 0 : wire_fail(c, r);
    const uint8_t *p;
    size_t n;
    if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(c, r);
    return read_message_value(c, fd->msg, w->slot, w->sub, (rtml_pb_reader){r->start, p, p + n, NULL}, 1, depth);
}

static pb_want *find_want(const pb_plan *p, uint32_t field) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->w[mid].f->number < field) lo = mid + 1;
        else hi = mid;
    }
    return lo < p->n && p->w[lo].f->number == field ? &p->w[lo] : NULL;
}

static int decode_message(pb_ctx *c, pb_plan *p, rtml_pb_reader *r, int depth) {
    while (r->p < r->end) {
        size_t at = rtml_pb_offset(r);
        uint32_t field;
        int wire;
        if (rtml_pb_key(r, &field, &wire) != 0) return wire_fail(c, r);
        pb_want *w = find_want(p, field);
        if (!w) {
            if (rtml_pb_skip(r, wire) != 0) return wire_fail(c, r);
            continue;
        }
        if (read_wanted(c, w, r, wire, at, depth) != 0) return -1;
    }
    return 0;
}

/* ---- targets and Confluent framing ------------------------------------------------------------------- */

/* The plans for message m: compiled on first use. NULL only out of memory. */
static pb_target *target_for(pb_state *s, const rtml_pb_message *m) {
    for (size_t i = 0; i < s->n_targets; i++)
        if (s->targets[i]->msg == m) return s->targets[i];
    pb_target **all = realloc(s->targets, (s->n_targets + 1) * sizeof *all);
    if (!all) return NULL;
    s->targets = all;
    pb_target *t = rtml_pb_target_new(m, (const char *const *)s->fields, s->first, s->n_fields);
    if (t) s->targets[s->n_targets++] = t;
    return t;
}

static int read_zigzag(rtml_pb_reader *r, int64_t *v) {
    uint64_t u;
    if (rtml_pb_varint(r, &u) != 0) return -1;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

/* "[1, 0]" */
static void indexes_text(const uint32_t *idx, size_t n, char *text, size_t cap) {
    size_t len = 0;
    text[0] = '\0';
    for (size_t k = 0; k < n && len + 14 < cap; k++)
        len += (size_t)snprintf(text + len, cap - len, "%s%u", k ? ", " : "[", idx[k]);
    snprintf(text + len, cap - len, "]");
}

/* The message-index array after the 5-byte header: idx[0..*n). */
static int read_indexes(pb_ctx *c, rtml_pb_reader *r, uint32_t *idx, size_t *n) {
    int64_t count, v;
    if (read_zigzag(r, &count) != 0)
        return at_fail(c, rtml_pb_offset(r), "Confluent header: message indexes: %s", r->why);
    if (count < 0 || count > RTML_PB_MAX_INDEXES)
        return at_fail(c, 5, "Confluent header: %lld message indexes (0 to %d)", (long long)count, RTML_PB_MAX_INDEXES);
    idx[0] = 0;
    *n = count ? (size_t)count : 1;
    for (int64_t k = 0; k < count; k++) {
        size_t at = rtml_pb_offset(r);
        if (read_zigzag(r, &v) != 0) return at_fail(c, at, "Confluent header: message indexes: %s", r->why);
        if (v < 0 || v > UINT32_MAX) return at_fail(c, at, "Confluent header: message index %lld", (long long)v);
        idx[k] = (uint32_t)v;
    }
    return 0;
}

/* A record that starts with byte 0: the target its message indexes name, and where the message starts. */
static int read_framing(pb_ctx *c, const char *buf, size_t len, pb_target **t, size_t *off) {
    if (len < 6)
        return at_fail(c, len, "truncated Confluent header (a message starting with byte 0 is framed: magic byte 0, "
                       "a 4-byte schema id, the message indexes)");
    rtml_pb_reader r = rtml_pb_reader_new(buf, len);
    r.p += 5;
    uint32_t idx[RTML_PB_MAX_INDEXES];
    size_t n = 1;
    char text[RTML_PB_MAX_INDEXES * 12];
    if (read_indexes(c, &r, idx, &n) != 0) return -1;
    indexes_text(idx, n, text, sizeof text);
    const rtml_pb_message *m = rtml_pb_message_at(c->s->file, idx, n);
    const char *file = c->s->file->name ? c->s->file->name : "the file of input.message";
    if (!m) return at_fail(c, 5, "Confluent header: message indexes %s name no message in %s", text, file);
    if (!(*t = target_for(c->s, m))) return rtml_fail(c->err, c->errlen, "out of memory");
    if (!(*t)->root)
        return at_fail(c, 5, "Confluent header: message indexes %s name %s, which the fields do not fit: %s", text,
                       m->name, (*t)->why);
    *off = rtml_pb_offset(&r);
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

/* Copies of the paths (targets compiled later need them), and which ones repeat an earlier one. */
static int keep_fields(pb_state *s, const char *const *fields, size_t n) {
    s->fields = calloc(n ? n : 1, sizeof *s->fields);
    s->first = malloc((n ? n : 1) * sizeof *s->first);
    s->times = calloc(n ? n : 1, sizeof *s->times);
    if (!s->fields || !s->first || !s->times) return -1;
    s->n_fields = n;
    for (size_t i = 0; i < n; i++) {
        if (!(s->fields[i] = strdup(fields[i]))) return -1;
        s->first[i] = i;
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->fields[k], s->fields[i]) == 0) s->first[i] = s->first[k];
    }
    return 0;
}

static int load_descriptors(pb_state *s, const char *path, char *err, size_t errlen) {
    uint8_t *data;
    size_t len;
    char why[RTML_ERRLEN];
    if (read_file(path, &data, &len, err, errlen) != 0) {
        free(data);
        return -1;
    }
    s->desc = rtml_pb_descriptors_parse(data, len, why, sizeof why);
    free(data);
    return s->desc ? 0 : rtml_fail(err, errlen, "input.schema: %s: %s", path, why);
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
    if (load_descriptors(s, cfg->input.schema, err, errlen) != 0) return -1;
    const rtml_pb_message *m = rtml_pb_find_message(s->desc, cfg->input.message);
    if (!m)
        return rtml_fail(err, errlen, "input.message: '%s' is not in %s (%zu messages there%s%s)", cfg->input.message,
                         cfg->input.schema, s->desc->n_messages, s->desc->n_messages ? ", e.g. " : "",
                         s->desc->n_messages ? s->desc->messages[0]->name : "");
    s->file = m->file;
    if (keep_fields(s, fields, n) != 0 || !target_for(s, m)) return rtml_fail(err, errlen, "out of memory");
    if (!s->targets[0]->root) return rtml_fail(err, errlen, "input: %s", s->targets[0]->why);
    return 0;
}

static int pb_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    pb_state *s = d->impl;
    pb_ctx c = {s, s->targets[0], out, err, errlen};
    size_t off = 0;
    for (size_t i = 0; i < d->n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT};
    int rc = len && buf[0] == 0 ? read_framing(&c, buf, len, &c.t, &off) : 0;
    if (rc == 0) {
        rtml_pb_target_reset(c.t);
        rtml_pb_reader r = rtml_pb_reader_new(buf, len);
        r.p += off;
        rc = decode_message(&c, c.t->root, &r, 0);
    }
    if (rc != 0) {
        for (size_t i = 0; i < d->n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT};
        return -1;
    }
    fill_defaults(&c, c.t->root);
    for (size_t k = 0; k < c.t->n_vecs; k++)
        if (c.t->vecs[k].seen)
            out[c.t->vecs[k].slot] = (rtml_value){
                .type = RTML_V_ARRAY, .arr = c.t->vecs[k].v ? c.t->vecs[k].v : NO_ELEMENTS, .arr_len = c.t->vecs[k].n};
    for (size_t i = 0; i < d->n_fields; i++)
        if (s->first[i] != i) out[i] = out[s->first[i]];
    return 0;
}

static void pb_close(rtml_decoder *d) {
    pb_state *s = d->impl;
    if (!s) return;
    for (size_t i = 0; i < s->n_targets; i++) rtml_pb_target_free(s->targets[i]);
    free(s->targets);
    for (size_t i = 0; s->fields && i < s->n_fields; i++) free(s->fields[i]);
    free(s->fields);
    free(s->first);
    free(s->times);
    rtml_pb_descriptors_free(s->desc);
    free(s);
}

const rtml_decoder_ops rtml_protobuf_decoder = {"protobuf", pb_open, pb_decode, pb_close};
