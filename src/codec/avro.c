/* avro.c — the Avro input format: one binary datum per message, read with the configured schema (avro_schema.h,
 * parsed by avro_schema.c).
 *
 * At open, the configured field paths are compiled against the schema into a plan that mirrors it only
 * where a path leads; decoding walks the datum once, following the plan where there is one and skipping
 * (while bounds-checking) everywhere else. Strings, bytes and fixed point into the message, enum symbols
 * into the schema, numeric arrays and uuid text into scratch space. docs/formats.md states the rules.
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
 *    followed; a path through a null or non-record branch is ABSENT); "/items/0/price" goes through element
 *    0 of an array (ABSENT when the array is shorter), "/attrs/country" through the map entry with that key
 *    (ABSENT when there is none; a later entry with the same key replaces an earlier one). A path that no
 *    branch of the schema can reach is an error at open.
 *  - Values: null -> NULL; boolean -> BOOL; int, long -> NUMBER (is_int); float, double -> NUMBER; string,
 *    bytes, fixed -> STRING (bytes unchecked for UTF-8); enum -> STRING (its symbol); array of
 *    int/long/float/double -> ARRAY; other arrays, maps and records -> OTHER.
 *  - Logical types, so that the time transforms read them and the JSON text of the same value gives the same
 *    number: date -> NUMBER, seconds since the epoch of its midnight (days * 86400); time-millis/micros ->
 *    NUMBER, seconds after midnight; timestamp-* and local-timestamp-* -> NUMBER, seconds since the epoch;
 *    decimal -> NUMBER, the unscaled integer times 10^-scale. Fractions are correctly rounded (the decimal
 *    text read by strtod); whole values are is_int. uuid -> STRING (on fixed(16): the 36-character text).
 *  - Strictness: varints longer than their type allows or overflowing it, negative lengths, lengths past the
 *    end, union branches and enum indexes out of range, booleans other than 0/1, nesting deeper than 64 and
 *    bytes left over after the datum are all errors ("offset N: reason"). Blocks written with a byte size
 *    are skipped by that size without looking inside. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/avro_schema.h"
#include "base/rtml.h"

/* ---- plan: the schema, pruned to where the configured paths lead ----------------------------------- */

typedef struct avro_plan avro_plan;

/* An element of an array (by index) or an entry of a map (by key) that paths go to. */
typedef struct {
    uint32_t index;
    char *key; /* map: owned */
    size_t key_len;
    avro_plan *plan;
    int seen; /* decoding: an entry with this key was read (a later one replaces it) */
} avro_elem;

struct avro_plan {
    const rtml_avro_type *type;
    long slot;        /* the output this position fills, or -1 */
    avro_plan **sub;  /* record: per field; union: per branch; NULL entries are skipped */
    avro_elem *elems; /* array, map: the elements paths name */
    size_t n_elems;
};

typedef struct {
    rtml_avro_schema *schema;
    avro_plan *root;
    avro_plan **plans; /* all of them, for freeing */
    size_t n_plans, plans_cap;
    size_t *first;     /* field i takes the value of field first[i] (the same path) */
    double *nums;      /* scratch for numeric arrays: one double per byte of the record at most */
    size_t nums_cap;
    char *text;        /* scratch for uuid text: 36 characters per 16 bytes of the record at most */
    size_t text_cap;
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

/* An element index as JSON Pointers write one: "0" or [1-9][0-9]{0,8}. */
static int parse_index(const char *seg, uint32_t *out) {
    size_t len = strlen(seg);
    if (len == 0 || len > 9 || (len > 1 && seg[0] == '0')) return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (seg[i] < '0' || seg[i] > '9') return -1;
        v = v * 10 + (uint32_t)(seg[i] - '0');
    }
    *out = v;
    return 0;
}

/* Paths idx[0..n) whose segment d is seg (all deeper than d), into next; how many. */
static size_t same_segment(const path_set *ps, const size_t *idx, size_t n, size_t d, const char *seg, size_t *next) {
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (ps->nseg[idx[k]] > d && strcmp(ps->segs[idx[k]][d], seg) == 0) next[m++] = idx[k];
    return m;
}

static int add_elem(avro_elem **elems, size_t *n, uint32_t index, const char *key, avro_plan *plan) {
    avro_elem *e = realloc(*elems, (*n + 1) * sizeof *e);
    if (!e) return -1;
    *elems = e;
    e[*n] = (avro_elem){index, NULL, key ? strlen(key) : 0, plan, 0};
    if (key && !(e[*n].key = strdup(key))) return -1;
    ++*n;
    return 0;
}

/* The array's elements (segment d an index) or the map's entries (segment d a key) that paths continue into.
 * A segment that is not an index leaves its path unreached (an error at open). */
static void compile_elems(avro_state *s, path_set *ps, const rtml_avro_type *t, const size_t *idx, size_t n,
                          size_t d, avro_plan *p, int *oom) {
    size_t *next = malloc((n ? n : 1) * sizeof *next);
    if (!next) *oom = 1;
    for (size_t k = 0; !*oom && k < n; k++) {
        if (ps->nseg[idx[k]] <= d) continue;
        const char *seg = ps->segs[idx[k]][d];
        uint32_t index = 0;
        if (t->kind == RTML_AVRO_ARRAY && parse_index(seg, &index) != 0) continue;
        if (same_segment(ps, idx, k, d, seg, next) > 0) continue; /* done with an earlier path */
        size_t m = same_segment(ps, idx, n, d, seg, next);
        avro_plan *sub = compile(s, ps, t->items[0], next, m, d + 1, oom);
        if (sub && add_elem(&p->elems, &p->n_elems, index, t->kind == RTML_AVRO_MAP ? seg : NULL, sub) != 0) *oom = 1;
    }
    free(next);
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
    if (t->kind == RTML_AVRO_ARRAY || t->kind == RTML_AVRO_MAP) {
        avro_plan *p = new_plan(s, t, -1);
        if (!p) *oom = 1;
        else compile_elems(s, ps, t, idx, n, d, p, oom);
        if (*oom || (slot < 0 && !p->n_elems)) return NULL; /* an unused plan is freed with the others */
        if (slot >= 0) ps->reached[slot] = 1;
        p->slot = slot;
        return p;
    }
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
    if (!oom && rc == 0) s->root = compile(s, &ps, rtml_avro_schema_root(s->schema), idx, m, 0, &oom);
    for (size_t i = 0; !oom && rc == 0 && i < n; i++)
        if (s->first[i] == i && !ps.reached[i])
            rc = rtml_fail(err, errlen, "input: field %s is not in the Avro schema (record %s)", fields[i],
                           rtml_avro_schema_root(s->schema)->name);
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
    char *text;
    size_t text_used;
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

static void set_int(rtml_value *v, int64_t i) {
    *v = (rtml_value){.type = RTML_V_NUMBER, .is_int = 1, .i64 = i, .num = (double)i};
}

/* i * 10^-scale: whole values as integers, fractions correctly rounded (the decimal text read by strtod, as
 * the JSON text of the same number would be). */
static void set_scaled(rtml_value *v, int64_t i, int scale) {
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
    if (i % pow10[scale] == 0) {
        set_int(v, i / pow10[scale]);
        return;
    }
    char text[48];
    snprintf(text, sizeof text, "%llde-%d", (long long)i, scale);
    *v = (rtml_value){.type = RTML_V_NUMBER, .num = strtod(text, NULL)};
}

/* An int or long as its logical type reads (avro_schema.h): dates and times in seconds. */
static void set_logical(rtml_value *v, const rtml_avro_type *t, int64_t i) {
    switch (t->logical) {
    case RTML_AVRO_DATE: set_int(v, i * 86400); return; /* an int: no overflow */
    case RTML_AVRO_TIME_MILLIS:
    case RTML_AVRO_TIMESTAMP_MILLIS: set_scaled(v, i, 3); return;
    case RTML_AVRO_TIME_MICROS:
    case RTML_AVRO_TIMESTAMP_MICROS: set_scaled(v, i, 6); return;
    case RTML_AVRO_TIMESTAMP_NANOS: set_scaled(v, i, 9); return;
    default: set_int(v, i); return;
    }
}

static int read_number(avro_rd *r, const rtml_avro_type *t, rtml_value *v) {
    int64_t i;
    v->type = RTML_V_NUMBER;
    if (t->kind == RTML_AVRO_FLOAT || t->kind == RTML_AVRO_DOUBLE) {
        if (need(r, t->kind == RTML_AVRO_FLOAT ? 4 : 8, rtml_avro_kind_name(t->kind)) != 0) return -1;
        v->num = t->kind == RTML_AVRO_FLOAT ? read_float_le(r) : read_double_le(r);
        return 0;
    }
    if ((t->kind == RTML_AVRO_INT ? read_int(r, &i) : read_long(r, &i)) != 0) return -1;
    set_logical(v, t, i);
    return 0;
}

#define DECIMAL_MAX_BYTES 256 /* about 616 digits: any decimal a double can hold, and then some */

/* Big-endian magnitude mag[0..n) as decimal digits, least significant first; mag is consumed. */
static size_t to_digits(uint8_t *mag, size_t n, char *digits) {
    size_t nd = 0, start = 0;
    for (;;) {
        while (start < n && mag[start] == 0) start++;
        if (start == n) break;
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = rem << 8 | mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
    }
    if (nd == 0) digits[nd++] = '0';
    return nd;
}

/* A decimal: the two's-complement big-endian integer p[0..n) times 10^-scale, correctly rounded. */
static void set_decimal(rtml_value *v, const uint8_t *p, size_t n, int scale) {
    int neg = n && (p[0] & 0x80);
    while (n > 1 && p[0] == (neg ? 0xFF : 0x00) && ((p[1] & 0x80) != 0) == neg) p++, n--; /* sign extension */
    if (n > DECIMAL_MAX_BYTES) {
        *v = (rtml_value){.type = RTML_V_NUMBER, .num = neg ? -HUGE_VAL : HUGE_VAL}; /* rejected as not finite */
        return;
    }
    uint8_t mag[DECIMAL_MAX_BYTES];
    int carry = 1;
    for (size_t i = n; i-- > 0;) { /* the magnitude: negated when negative (invert, add one) */
        unsigned b = neg ? (uint8_t)~p[i] + (unsigned)carry : p[i];
        carry = neg && b > 0xFF;
        mag[i] = (uint8_t)b;
    }
    char digits[DECIMAL_MAX_BYTES * 3], text[DECIMAL_MAX_BYTES * 3 + 32];
    size_t nd = to_digits(mag, n, digits), len = 0;
    if (neg) text[len++] = '-';
    while (nd > 0) text[len++] = digits[--nd];
    snprintf(text + len, sizeof text - len, "e-%d", scale);
    *v = (rtml_value){.type = RTML_V_NUMBER, .num = strtod(text, NULL)};
    if (scale == 0 && len - (size_t)neg <= 18) set_int(v, strtoll(text, NULL, 10));
}

/* 16 bytes as a uuid's text, into the scratch space. */
static void set_uuid(avro_rd *r, rtml_value *v, const uint8_t *p) {
    char *t = r->text + r->text_used;
    size_t len = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) t[len++] = '-';
        len += (size_t)snprintf(t + len, 3, "%02x", p[i]);
    }
    r->text_used += len + 1;
    *v = (rtml_value){.type = RTML_V_STRING, .str = t, .len = len};
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
        if (t->logical == RTML_AVRO_DECIMAL) set_decimal(v, r->p, n, t->scale);
        else if (t->logical == RTML_AVRO_UUID && t->kind == RTML_AVRO_FIXED) set_uuid(r, v, r->p);
        else *v = (rtml_value){.type = RTML_V_STRING, .str = (const char *)r->p, .len = n};
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

static int decode_plan(avro_rd *r, const avro_plan *p, int depth);

static const avro_plan *elem_at(const avro_plan *p, uint64_t index) {
    for (size_t e = 0; e < p->n_elems; e++)
        if (p->elems[e].index == index) return p->elems[e].plan;
    return NULL;
}

/* One block of an array whose elements paths name: each item onto the numeric array (when the whole array
 * is wanted too), into its element's plan, or skipped. *i counts items before the block. */
static int array_block(avro_rd *r, const avro_plan *p, int64_t count, uint64_t *i, double *arr, size_t *n,
                       int depth) {
    const rtml_avro_type *item = p->type->items[0];
    if (item->empty) { /* zero bytes each, however many: only the named ones are "read" */
        for (size_t e = 0; e < p->n_elems; e++)
            if (p->elems[e].index >= *i && p->elems[e].index - *i < (uint64_t)count &&
                decode_plan(r, p->elems[e].plan, depth + 1) != 0)
                return -1;
        *i += (uint64_t)count;
        return 0;
    }
    if ((uint64_t)count > left(r)) return rd_fail(r, "block of %lld items runs past the end", (long long)count);
    for (int64_t k = 0; k < count; k++) {
        const avro_plan *e = elem_at(p, (*i)++);
        rtml_value x = {0};
        int rc = arr ? read_number(r, item, &x) : e ? decode_plan(r, e, depth + 1) : skip(r, item, depth + 1);
        if (rc != 0) return -1;
        if (arr) arr[(*n)++] = x.num;
        if (arr && e) r->out[e->slot] = x; /* a number's plan is a leaf */
    }
    return 0;
}

/* An array that paths index into (and that a path may want whole). */
static int decode_array(avro_rd *r, const avro_plan *p, int depth) {
    int whole_numbers = p->slot >= 0 && is_numeric(p->type->items[0]);
    double *arr = whole_numbers ? r->nums + r->nums_used : NULL;
    size_t n = 0;
    uint64_t i = 0;
    for (;;) {
        int64_t count, size;
        if (read_block(r, &count, &size) != 0) return -1;
        if (count == 0) break;
        const uint8_t *block = r->p;
        if (array_block(r, p, count, &i, arr, &n, depth) != 0) return -1;
        if (size >= 0 && r->p - block != size)
            return rd_fail(r, "block size %lld does not match its items", (long long)size);
    }
    if (p->slot < 0) return 0;
    r->out[p->slot] = arr ? (rtml_value){.type = RTML_V_ARRAY, .arr = arr, .arr_len = n}
                          : (rtml_value){.type = RTML_V_OTHER};
    r->nums_used += n;
    return 0;
}

/* Everything under plan p as if never read (a map entry whose key came before). */
static void clear_plan(avro_rd *r, const avro_plan *p) {
    if (!p) return;
    if (p->slot >= 0) r->out[p->slot] = (rtml_value){.type = RTML_V_ABSENT};
    size_t n_sub = p->type->kind == RTML_AVRO_RECORD || p->type->kind == RTML_AVRO_UNION ? p->type->n : 0;
    for (size_t k = 0; p->sub && k < n_sub; k++) clear_plan(r, p->sub[k]);
    for (size_t e = 0; e < p->n_elems; e++) {
        p->elems[e].seen = 0;
        clear_plan(r, p->elems[e].plan);
    }
}

static avro_elem *elem_key(const avro_plan *p, const uint8_t *key, size_t len) {
    for (size_t e = 0; e < p->n_elems; e++)
        if (p->elems[e].key_len == len && memcmp(p->elems[e].key, key, len) == 0) return &p->elems[e];
    return NULL;
}

/* A map that paths name entries of (and that a path may want whole: OTHER). */
static int decode_map(avro_rd *r, const avro_plan *p, int depth) {
    const rtml_avro_type *value = p->type->items[0];
    for (;;) {
        int64_t count, size;
        if (read_block(r, &count, &size) != 0) return -1;
        if (count == 0) break;
        const uint8_t *block = r->p;
        if ((uint64_t)count > left(r)) return rd_fail(r, "block of %lld items runs past the end", (long long)count);
        for (int64_t k = 0; k < count; k++) {
            size_t n;
            if (read_len(r, &n) != 0) return -1;
            avro_elem *e = elem_key(p, r->p, n);
            r->p += n;
            if (e && e->seen) clear_plan(r, e->plan);
            if (e) e->seen = 1;
            if ((e ? decode_plan(r, e->plan, depth + 1) : skip(r, value, depth + 1)) != 0) return -1;
        }
        if (size >= 0 && r->p - block != size)
            return rd_fail(r, "block size %lld does not match its items", (long long)size);
    }
    if (p->slot >= 0) r->out[p->slot] = (rtml_value){.type = RTML_V_OTHER};
    return 0;
}

static int decode_plan(avro_rd *r, const avro_plan *p, int depth) {
    const rtml_avro_type *t = p->type;
    if (depth > RTML_AVRO_MAX_DEPTH) return rd_fail(r, "nested deeper than %d", RTML_AVRO_MAX_DEPTH);
    if (p->n_elems) return t->kind == RTML_AVRO_ARRAY ? decode_array(r, p, depth) : decode_map(r, p, depth);
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
    if (rtml_avro_schema_root(s->schema)->kind != RTML_AVRO_RECORD)
        return rtml_fail(err, errlen, "input.schema: %s: the top-level type must be a record, not %s",
                         cfg->input.schema, rtml_avro_kind_name(rtml_avro_schema_root(s->schema)->kind));
    if (!(s->first = malloc((n ? n : 1) * sizeof *s->first))) return rtml_fail(err, errlen, "out of memory");
    return compile_paths(s, fields, n, err, errlen);
}

/* One datum from buf + off to the end; on failure *at is the offset of the problem. */
static int decode_datum(avro_state *s, size_t n_fields, const char *buf, size_t off, size_t len,
                        rtml_value *out, char *err, size_t errlen, size_t *at) {
    avro_rd r = {(const uint8_t *)buf, (const uint8_t *)buf + off, (const uint8_t *)buf + len, out, s->nums, 0,
                 s->text, 0, err, errlen, 0};
    for (size_t i = 0; i < n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT};
    for (size_t i = 0; i < s->n_plans; i++)
        for (size_t e = 0; e < s->plans[i]->n_elems; e++) s->plans[i]->elems[e].seen = 0;
    int rc = s->root ? decode_plan(&r, s->root, 0) : skip(&r, rtml_avro_schema_root(s->schema), 0);
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

/* Scratch space for a record of len bytes: a double per byte (numeric arrays), 3 characters per byte (uuid
 * text: 37 per 16 bytes). */
static int reserve(avro_state *s, size_t len) {
    if (len + 1 > s->nums_cap) {
        double *n = realloc(s->nums, (len + 1) * sizeof *n);
        if (!n) return -1;
        s->nums = n;
        s->nums_cap = len + 1;
    }
    if (3 * len + 1 > s->text_cap) {
        char *t = realloc(s->text, 3 * len + 1);
        if (!t) return -1;
        s->text = t;
        s->text_cap = 3 * len + 1;
    }
    return 0;
}

static int avro_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    avro_state *s = d->impl;
    if (reserve(s, len) != 0) return rtml_fail(err, errlen, "out of memory for a record of %zu bytes", len);
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
        for (size_t e = 0; e < s->plans[i]->n_elems; e++) free(s->plans[i]->elems[e].key);
        free(s->plans[i]->elems);
        free(s->plans[i]->sub);
        free(s->plans[i]);
    }
    free(s->plans);
    free(s->first);
    free(s->nums);
    free(s->text);
    rtml_avro_schema_free(s->schema);
    free(s);
}

const rtml_decoder_ops rtml_avro_decoder = {"avro", avro_open, avro_decode, avro_close};
