/* json_decoder.c — the JSON input format: the zero-copy scanner (json.c) behind the decoder interface.
 *
 * One pass extracts the configured fields; numbers are converted, strings are unescaped only when they
 * contain escapes (into scratch space reserved up front, so earlier values never move), arrays of numbers
 * are read into a scratch array. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/json.h"
#include "base/rtml.h"

typedef struct {
    rtml_json_paths *paths;
    rtml_json_shape *shape; /* the records' shape (json.h): NULL if it could not be had, which only costs time */
    rtml_json_span *spans;
    char *text;     /* scratch for unescaped strings: at most len bytes per record */
    size_t text_cap;
    double *nums;   /* scratch for arrays: at most len / 2 + 1 numbers per record */
    size_t nums_cap;
} json_state;

static int json_open(rtml_decoder *d, const rtml_config *cfg, const char *const *fields, size_t n, char *err,
                     size_t errlen) {
    json_state *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory");
    d->impl = s;
    if (!(s->paths = rtml_json_paths_new(fields, n, err, errlen))) return -1;
    s->shape = rtml_json_shape_new();
    if (!(s->spans = calloc(n ? n : 1, sizeof *s->spans))) return rtml_fail(err, errlen, "out of memory");
    return 0;
}

static int reserve(json_state *s, size_t len) {
    if (len + 1 > s->text_cap) {
        char *t = realloc(s->text, len + 1);
        if (!t) return -1;
        s->text = t;
        s->text_cap = len + 1;
    }
    if (len / 2 + 1 > s->nums_cap) {
        double *n = realloc(s->nums, (len / 2 + 1) * sizeof *n);
        if (!n) return -1;
        s->nums = n;
        s->nums_cap = len / 2 + 1;
    }
    return 0;
}

/* An array span of numbers -> scratch; OTHER if any element is not a number. */
static void read_array(json_state *s, const rtml_json_span *sp, size_t *used, rtml_value *v) {
    const char *p = sp->ptr + 1, *end = sp->ptr + sp->len - 1; /* inside the brackets; validated JSON */
    double *out = s->nums + *used;
    size_t n = 0;
    v->type = RTML_V_OTHER;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')) p++;
        if (p >= end) break;
        char *q;
        double x = strtod(p, &q); /* stops at ',' ']' or space: the span is valid JSON */
        if (q == p || !(*p == '-' || (*p >= '0' && *p <= '9'))) return;
        out[n++] = x;
        p = q;
    }
    *used += n;
    *v = (rtml_value){.type = RTML_V_ARRAY, .arr = out, .arr_len = n};
}

static void to_value(json_state *s, const rtml_json_span *sp, size_t *text_used, size_t *nums_used, rtml_value *v) {
    *v = (rtml_value){0};
    switch (sp->type) {
    case RTML_JSON_ABSENT: v->type = RTML_V_ABSENT; break;
    case RTML_JSON_NULL: v->type = RTML_V_NULL; break;
    case RTML_JSON_FALSE:
    case RTML_JSON_TRUE:
        v->type = RTML_V_BOOL;
        v->num = sp->type == RTML_JSON_TRUE;
        break;
    case RTML_JSON_NUMBER: {
        v->type = RTML_V_NUMBER;
        if (sp->num_state > 0) { /* converted as it was scanned: the usual case */
            v->num = sp->num;
            v->is_int = sp->num_state == 2;
            v->i64 = v->is_int ? sp->i64 : 0;
            break;
        }
        long long i = 0;
        /* Overflow (1e400) is a number that is not finite. */
        if (rtml_json_number_value(sp, &v->num, &v->is_int, &i) != 0)
            v->num = sp->ptr[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        v->i64 = i;
        break;
    }
    case RTML_JSON_STRING:
        v->type = RTML_V_STRING;
        if (!sp->escaped) {
            v->str = sp->ptr;
            v->len = sp->len;
        } else {
            long n = rtml_json_unescape(sp, s->text + *text_used, s->text_cap - *text_used);
            v->str = s->text + *text_used;
            v->len = n > 0 ? (size_t)n : 0;
            *text_used += v->len + 1;
        }
        break;
    case RTML_JSON_ARRAY: read_array(s, sp, nums_used, v); break;
    case RTML_JSON_OBJECT: v->type = RTML_V_OTHER; break;
    }
}

static int json_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    json_state *s = d->impl;
    if (rtml_json_extract_shaped(s->paths, s->shape, buf, len, s->spans, err, errlen) != 0) return -1;
    if (reserve(s, len) != 0) return rtml_fail(err, errlen, "out of memory for a record of %zu bytes", len);
    size_t text_used = 0, nums_used = 0;
    for (size_t i = 0; i < d->n_fields; i++) {
        const rtml_json_span *sp = &s->spans[i];
        /* the usual values first, written whole: a converted number, a string without escapes */
        if (sp->type == RTML_JSON_NUMBER && sp->num_state > 0)
            out[i] = (rtml_value){.type = RTML_V_NUMBER, .is_int = sp->num_state == 2,
                                  .i64 = sp->num_state == 2 ? sp->i64 : 0, .num = sp->num};
        else if (sp->type == RTML_JSON_STRING && !sp->escaped)
            out[i] = (rtml_value){.type = RTML_V_STRING, .str = sp->ptr, .len = sp->len};
        else
            to_value(s, sp, &text_used, &nums_used, &out[i]);
    }
    return 0;
}

static void json_close(rtml_decoder *d) {
    json_state *s = d->impl;
    if (!s) return;
    rtml_json_paths_free(s->paths);
    rtml_json_shape_free(s->shape);
    free(s->spans);
    free(s->text);
    free(s->nums);
    free(s);
}

const rtml_decoder_ops rtml_json_decoder = {"json", json_open, json_decode, json_close};
