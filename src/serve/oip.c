/* oip.c — the Open Inference Protocol's inference request, read strictly (oip.h).
 *
 * jansson parses the JSON (it bounds nesting and checks UTF-8); what follows checks every field the protocol
 * defines against what this model takes, so that a request is either fully understood or refused with a reason
 * a client can act on. Nothing here trusts a length or a count it did not check against the body. */
#include "serve/oip.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_write.h"
#include "base/rtml.h"

#define MAX_RANK 4
#define MAX_NESTING 8

typedef struct {
    const unsigned char *p;
    size_t len;
} span;

static int bad(char *err, size_t errlen, int status, const char *fmt, const char *what) {
    rtml_fail(err, errlen, fmt, what);
    return status;
}

/* shape: an array of 1..MAX_RANK non-negative integers; *count gets their product (0 on overflow past 2^40). */
static int read_shape(const json_t *shape, size_t *dims, size_t *rank, size_t *count, char *err, size_t errlen) {
    if (!json_is_array(shape) || json_array_size(shape) == 0 || json_array_size(shape) > MAX_RANK)
        return bad(err, errlen, 400, "inputs[0].shape: %s", "must be an array of 1 to 4 dimensions");
    *rank = json_array_size(shape);
    *count = 1;
    for (size_t i = 0; i < *rank; i++) {
        const json_t *d = json_array_get(shape, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1LL << 31))
            return bad(err, errlen, 400, "inputs[0].shape: %s", "dimensions must be integers from 0 to 2^31");
        dims[i] = (size_t)json_integer_value(d);
        *count = *count && dims[i] <= (1ULL << 40) / *count ? *count * dims[i] : 0;
    }
    return 0;
}

/* Count the leaves of nested arrays (depth-bounded); -1 when nesting is deeper than MAX_NESTING. */
static long long count_leaves(const json_t *v, int depth) {
    if (!json_is_array(v)) return 1;
    if (depth >= MAX_NESTING) return -1;
    long long n = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        long long k = count_leaves(json_array_get(v, i), depth + 1);
        if (k < 0) return -1;
        n += k;
    }
    return n;
}

/* Visit the leaves in row-major order. */
typedef int (*leaf_fn)(void *ctx, size_t i, const json_t *leaf);
static int each_leaf(const json_t *v, size_t *i, leaf_fn fn, void *ctx) {
    if (!json_is_array(v)) return fn(ctx, (*i)++, v);
    for (size_t k = 0; k < json_array_size(v); k++)
        if (each_leaf(json_array_get(v, k), i, fn, ctx) != 0) return -1;
    return 0;
}

static int string_leaf(void *ctx, size_t i, const json_t *leaf) {
    rtml_oip_request *req = ctx;
    if (!json_is_string(leaf)) return -1;
    req->records[i].data = json_string_value(leaf);
    req->records[i].len = json_string_length(leaf);
    return 0;
}

typedef struct {
    double *x;
    int fp32;
} num_ctx;

static int number_leaf(void *ctx, size_t i, const json_t *leaf) {
    num_ctx *c = ctx;
    if (!json_is_number(leaf)) return -1;
    double v = json_number_value(leaf);
    c->x[i] = c->fp32 ? (double)(float)v : v;
    return 0;
}

/* BYTES in binary: n elements, each a 4-byte little-endian length and that many bytes, filling b exactly. */
static int binary_records(span b, rtml_oip_request *req, char *err, size_t errlen) {
    size_t at = 0;
    for (size_t i = 0; i < req->n; i++) {
        if (b.len - at < 4) return bad(err, errlen, 400, "inputs[0]: %s", "binary data ends inside an element's length");
        uint32_t len = (uint32_t)b.p[at] | (uint32_t)b.p[at + 1] << 8 | (uint32_t)b.p[at + 2] << 16 |
                       (uint32_t)b.p[at + 3] << 24;
        at += 4;
        if (len > b.len - at) return bad(err, errlen, 400, "inputs[0]: %s", "binary data ends inside an element");
        req->records[i].data = (const char *)b.p + at;
        req->records[i].len = len;
        at += len;
    }
    return at == b.len ? 0 : bad(err, errlen, 400, "inputs[0]: %s", "binary data holds more than its elements");
}

static double read_le(const unsigned char *p, int fp32) {
    if (fp32) {
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    uint64_t u = 0;
    for (int k = 7; k >= 0; k--) u = u << 8 | p[k];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* The records or features of the input, from its JSON data or its binary data (b.p != NULL). */
static int read_data(const json_t *in, span b, size_t count, int fp32, rtml_oip_request *req, char *err, size_t errlen) {
    size_t width = req->kind == RTML_OIP_FEATURES ? (fp32 ? 4 : 8) : 0;
    /* every element takes at least one byte of the body: a shape larger than that is refused before allocating */
    if (count > (b.p ? b.len : (size_t)-1) || count > req->body_len)
        return bad(err, errlen, 400, "inputs[0]: %s", "the shape holds more elements than the body could carry");
    if (req->kind == RTML_OIP_RECORDS && !(req->records = calloc(count ? count : 1, sizeof *req->records)))
        return bad(err, errlen, 500, "%s", "out of memory");
    if (req->kind == RTML_OIP_FEATURES && !(req->x = calloc(count ? count : 1, sizeof *req->x)))
        return bad(err, errlen, 500, "%s", "out of memory");
    if (b.p) {
        if (req->kind == RTML_OIP_RECORDS) return binary_records(b, req, err, errlen);
        if (b.len != count * width) return bad(err, errlen, 400, "inputs[0]: %s", "binary data size is not the shape's");
        for (size_t i = 0; i < count; i++) req->x[i] = read_le(b.p + i * width, fp32);
        return 0;
    }
    const json_t *data = json_object_get(in, "data");
    long long leaves = data ? count_leaves(data, 0) : -1;
    if (!json_is_array(data) || leaves < 0)
        return bad(err, errlen, 400, "inputs[0].data: %s", "must be an array (flat or nested up to 8 levels)");
    if ((size_t)leaves != count)
        return bad(err, errlen, 400, "inputs[0].data: %s", "holds a different number of elements than the shape says");
    size_t i = 0;
    num_ctx nc = {req->x, fp32};
    if (req->kind == RTML_OIP_RECORDS ? each_leaf(data, &i, string_leaf, req) : each_leaf(data, &i, number_leaf, &nc))
        return bad(err, errlen, 400, "inputs[0].data: %s",
                   req->kind == RTML_OIP_RECORDS ? "BYTES elements must be strings" : "elements must be numbers");
    return 0;
}

/* name and datatype: records/BYTES or features/FP32|FP64; *fp32 says which float. */
static int read_kind(const json_t *in, rtml_oip_request *req, int *fp32, char *err, size_t errlen) {
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *dt = json_string_value(json_object_get(in, "datatype"));
    if (!name || !dt) return bad(err, errlen, 400, "inputs[0]: %s", "needs a name and a datatype (strings)");
    if (!strcmp(name, "records")) {
        req->kind = RTML_OIP_RECORDS;
        if (strcmp(dt, "BYTES") != 0) return bad(err, errlen, 400, "inputs[0]: records are BYTES, not %.32s", dt);
        return 0;
    }
    if (!strcmp(name, "features")) {
        req->kind = RTML_OIP_FEATURES;
        *fp32 = !strcmp(dt, "FP32");
        if (!*fp32 && strcmp(dt, "FP64") != 0) return bad(err, errlen, 400, "inputs[0]: features are FP32 or FP64, not %.32s", dt);
        return 0;
    }
    return bad(err, errlen, 400, "inputs[0]: unknown input '%.64s' (this model takes records, BYTES, or features, "
               "FP32/FP64)", name);
}

/* The shape against the kind: records [n] or [n, 1]; features [n, n_inputs]. */
static int check_shape(const size_t *dims, size_t rank, const rtml_oip_limits *lim, rtml_oip_request *req, char *err,
                       size_t errlen) {
    if (req->kind == RTML_OIP_RECORDS && !(rank == 1 || (rank == 2 && dims[1] == 1)))
        return bad(err, errlen, 400, "inputs[0].shape: %s", "records must be [n] or [n, 1]");
    if (req->kind == RTML_OIP_FEATURES && (rank != 2 || dims[1] != lim->n_inputs)) {
        char want[64];
        snprintf(want, sizeof want, "[n, %zu]", lim->n_inputs);
        return bad(err, errlen, 400, "inputs[0].shape: features must be %s (the model's inputs)", want);
    }
    req->n = dims[0];
    req->width = req->kind == RTML_OIP_FEATURES ? dims[1] : 1;
    if (req->n == 0) return bad(err, errlen, 400, "inputs[0].shape: %s", "no records");
    if (req->n > lim->max_records) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu records, the limit is %zu (serve.limits.records)", req->n, lim->max_records);
        return bad(err, errlen, 413, "inputs[0]: %s", msg);
    }
    return 0;
}

/* parameters.binary_data_size: the input's bytes in the binary part, taken from *rest. */
static int binary_part(const json_t *in, span *rest, span *mine, char *err, size_t errlen) {
    const json_t *size = json_object_get(json_object_get(in, "parameters"), "binary_data_size");
    mine->p = NULL;
    if (!size) return 0;
    if (!rest->p) return bad(err, errlen, 400, "inputs[0]: %s", "binary_data_size without Inference-Header-Content-Length");
    if (!json_is_integer(size) || json_integer_value(size) < 0 || (uint64_t)json_integer_value(size) > rest->len)
        return bad(err, errlen, 400, "inputs[0].parameters.binary_data_size: %s", "larger than the binary data sent");
    mine->p = rest->p;
    mine->len = (size_t)json_integer_value(size);
    rest->p += mine->len;
    rest->len -= mine->len;
    return 0;
}

static int read_input(const json_t *root, span rest, const rtml_oip_limits *lim, rtml_oip_request *req, char *err,
                      size_t errlen) {
    const json_t *inputs = json_object_get(root, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) != 1)
        return bad(err, errlen, 400, "inputs: %s", "must hold exactly one input: records (BYTES) or features (FP32/FP64)");
    const json_t *in = json_array_get(inputs, 0);
    if (!json_is_object(in)) return bad(err, errlen, 400, "inputs[0]: %s", "must be an object");
    size_t dims[MAX_RANK], rank, count;
    int fp32 = 0, rc;
    span mine = {NULL, 0};
    if ((rc = read_kind(in, req, &fp32, err, errlen)) || (rc = read_shape(json_object_get(in, "shape"), dims, &rank, &count, err, errlen)) ||
        (rc = check_shape(dims, rank, lim, req, err, errlen)) || (rc = binary_part(in, &rest, &mine, err, errlen)))
        return rc;
    if (rest.p && rest.len) return bad(err, errlen, 400, "%s", "binary data left over after the inputs");
    return read_data(in, mine, count, fp32, req, err, errlen);
}

/* outputs: [{"name": ...}, ...] among prediction, score, key, features. */
static int read_outputs(const json_t *root, rtml_oip_request *req, char *err, size_t errlen) {
    static const char *const names[] = {"prediction", "score", "key", "features"};
    const json_t *outs = json_object_get(root, "outputs");
    if (!outs) return 0;
    if (!json_is_array(outs)) return bad(err, errlen, 400, "outputs: %s", "must be an array");
    for (size_t i = 0; i < json_array_size(outs); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(outs, i), "name"));
        if (!name) return bad(err, errlen, 400, "outputs: %s", "each needs a name");
        unsigned bit = 0;
        for (unsigned k = 0; k < 4; k++)
            if (!strcmp(name, names[k])) bit = 1u << k;
        if (!bit) return bad(err, errlen, 400, "outputs: unknown output '%.64s' (prediction, score, key, features)", name);
        req->outputs |= bit;
    }
    return 0;
}

static int read_id(const json_t *root, rtml_oip_request *req, char *err, size_t errlen) {
    const json_t *id = json_object_get(root, "id");
    if (!id) return 0;
    if (!json_is_string(id) || json_string_length(id) == 0 || json_string_length(id) > RTML_OIP_ID_MAX)
        return bad(err, errlen, 400, "id: %s", "must be a string of 1 to 256 bytes");
    memcpy(req->id, json_string_value(id), json_string_length(id));
    req->id[json_string_length(id)] = '\0';
    req->has_id = strlen(req->id) == json_string_length(id); /* no NUL inside: it becomes a Kafka key and a string */
    return req->has_id ? 0 : bad(err, errlen, 400, "id: %s", "must not contain NUL");
}

int rtml_oip_parse(const char *body, size_t len, long header_len, const rtml_oip_limits *lim, rtml_oip_request *req,
                   char *err, size_t errlen) {
    *req = (rtml_oip_request){0};
    if (header_len > (long)len) return bad(err, errlen, 400, "%s", "Inference-Header-Content-Length exceeds the body");
    size_t json_len = header_len >= 0 ? (size_t)header_len : len;
    json_error_t je;
    json_t *root = json_loadb(body, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s (at byte %d)", je.text, je.position);
        return bad(err, errlen, 400, "malformed JSON: %s", msg);
    }
    req->doc = root;
    req->body_len = len;
    if (!json_is_object(root)) return bad(err, errlen, 400, "%s", "the request must be a JSON object");
    span rest = {header_len >= 0 ? (const unsigned char *)body + json_len : NULL, len - json_len};
    int rc;
    if ((rc = read_id(root, req, err, errlen)) || (rc = read_input(root, rest, lim, req, err, errlen)))
        return rc;
    return read_outputs(root, req, err, errlen);
}

void rtml_oip_request_free(rtml_oip_request *req) {
    if (req->doc) json_decref(req->doc);
    free(req->records);
    free(req->x);
    *req = (rtml_oip_request){0};
}

void rtml_oip_error(rtml_buf *out, const char *msg) {
    rtml_buf_reset(out);
    rtml_buf_puts(out, "{\"error\":");
    rtml_json_put_string(out, msg, strlen(msg));
    rtml_buf_putc(out, '}');
}
