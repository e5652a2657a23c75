/* tf_meta.c — signatures and the saver out of a serialized MetaGraphDef (see tf_meta.h).
 *
 * One pass per message level with the wire reader; unknown fields are skipped, so the large parts of a
 * MetaGraphDef (graph_def, object_graph_def, asset files) cost only their length prefix. A later value of a
 * singular field replaces the earlier one (protobuf's merge rule), and a repeated map key keeps the last
 * value, as protobuf's map parsing does. */
#include "engine/tf/tf_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pbwire.h"
#include "base/rtml.h"

/* The reader's failure, as "offset N: why". */
static int wire_fail(const rtml_pb_reader *r, char *err, size_t errlen) {
    return rtml_fail(err, errlen, "offset %zu: %s", rtml_pb_offset(r), r->why ? r->why : "malformed");
}

static char *dup_bytes(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Replace *dst by a copy of the n bytes at p. */
static int set_string(char **dst, const uint8_t *p, size_t n, char *err, size_t errlen) {
    char *s = dup_bytes(p, n);
    if (!s) return rtml_fail(err, errlen, "out of memory");
    free(*dst);
    *dst = s;
    return 0;
}

/* Read a length-delimited submessage into a reader of its own; the parent moves past it. */
static int sub_reader(rtml_pb_reader *r, rtml_pb_reader *sub) {
    const uint8_t *p;
    size_t n;
    if (rtml_pb_bytes(r, &p, &n) != 0) return -1;
    *sub = (rtml_pb_reader){r->start, p, p + n, NULL};
    return 0;
}

/* TensorShapeProto.Dim: its size (-1: unknown). */
static int parse_dim(rtml_pb_reader *d, int64_t *size) {
    uint32_t f;
    int wire;
    uint64_t v;
    *size = 0;
    while (d->p < d->end) {
        if (rtml_pb_key(d, &f, &wire) != 0) return -1;
        if (f == 1 && wire == RTML_PB_VARINT) {
            if (rtml_pb_varint(d, &v) != 0) return -1;
            *size = (int64_t)v;
        } else if (rtml_pb_skip(d, wire) != 0) {
            return -1;
        }
    }
    return 0;
}

/* TensorShapeProto: dims, or unknown_rank (rank -1). A rank past RTML_TF_MAX_RANK is kept as MAX + 1. */
static int parse_shape(rtml_pb_reader *r, rtml_tf_tensor_info *t) {
    uint32_t f;
    int wire;
    t->rank = 0;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &wire) != 0) return -1;
        if (f == 2 && wire == RTML_PB_LEN) {
            rtml_pb_reader d;
            int64_t size;
            if (sub_reader(r, &d) != 0) return -1;
            if (parse_dim(&d, &size) != 0) {
                r->p = d.p, r->why = d.why;
                return -1;
            }
            if (t->rank >= 0 && t->rank < RTML_TF_MAX_RANK) t->dims[t->rank] = size;
            if (t->rank >= 0 && t->rank <= RTML_TF_MAX_RANK) t->rank++;
        } else if (f == 3 && wire == RTML_PB_VARINT) {
            uint64_t v;
            if (rtml_pb_varint(r, &v) != 0) return -1;
            if (v) t->rank = -1;
        } else if (rtml_pb_skip(r, wire) != 0) {
            return -1;
        }
    }
    return 0;
}

/* TensorInfo into t (key already set by the caller). */
static int parse_tensor_info(rtml_pb_reader *r, rtml_tf_tensor_info *t, char *err, size_t errlen) {
    uint32_t f;
    int wire;
    t->rank = -1;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &wire) != 0) return wire_fail(r, err, errlen);
        if (f == 1 && wire == RTML_PB_LEN) {
            const uint8_t *p;
            size_t n;
            if (rtml_pb_bytes(r, &p, &n) != 0 || set_string(&t->tensor, p, n, err, errlen) != 0)
                return r->why ? wire_fail(r, err, errlen) : -1;
        } else if ((f == 4 || f == 5) && wire == RTML_PB_LEN) {
            free(t->tensor); /* sparse/composite: no single named tensor to feed */
            t->tensor = NULL;
            if (rtml_pb_skip(r, wire) != 0) return wire_fail(r, err, errlen);
        } else if (f == 2 && wire == RTML_PB_VARINT) {
            uint64_t v;
            if (rtml_pb_varint(r, &v) != 0) return wire_fail(r, err, errlen);
            t->dtype = (int)(v & 0x7FFFFFFF);
        } else if (f == 3 && wire == RTML_PB_LEN) {
            rtml_pb_reader s;
            if (sub_reader(r, &s) != 0) return wire_fail(r, err, errlen);
            if (parse_shape(&s, t) != 0) return wire_fail(&s, err, errlen);
        } else if (rtml_pb_skip(r, wire) != 0) {
            return wire_fail(r, err, errlen);
        }
    }
    if (t->rank > RTML_TF_MAX_RANK) return rtml_fail(err, errlen, "tensor '%s' has more than %d dimensions", t->key, RTML_TF_MAX_RANK);
    return 0;
}

static void tensor_info_free(rtml_tf_tensor_info *t) {
    free(t->key);
    free(t->tensor);
}

/* One map entry {key = 1; value = 2} whose value is parsed by fn into *value; *key gets the key. */
typedef int (*value_fn)(rtml_pb_reader *r, void *value, char *err, size_t errlen);

static int parse_entry(rtml_pb_reader *r, char **key, void *value, value_fn fn, char *err, size_t errlen) {
    uint32_t f;
    int wire;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &wire) != 0) return wire_fail(r, err, errlen);
        if (f == 1 && wire == RTML_PB_LEN) {
            const uint8_t *p;
            size_t n;
            if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(r, err, errlen);
            if (set_string(key, p, n, err, errlen) != 0) return -1;
        } else if (f == 2 && wire == RTML_PB_LEN) {
            rtml_pb_reader v;
            if (sub_reader(r, &v) != 0) return wire_fail(r, err, errlen);
            if (fn(&v, value, err, errlen) != 0) return -1;
        } else if (rtml_pb_skip(r, wire) != 0) {
            return wire_fail(r, err, errlen);
        }
    }
    if (!*key && !(*key = strdup(""))) return rtml_fail(err, errlen, "out of memory");
    return 0;
}

static int tensor_value(rtml_pb_reader *r, void *value, char *err, size_t errlen) {
    rtml_tf_tensor_info *t = value;
    /* A map value seen twice in one entry merges; the simple form keeps the last, enough for TF's output. */
    free(t->tensor);
    *t = (rtml_tf_tensor_info){.key = t->key};
    return parse_tensor_info(r, t, err, errlen);
}

/* Append a parsed map<string, TensorInfo> entry, replacing an earlier one with the same key. */
static int add_tensor(rtml_pb_reader *r, rtml_tf_tensor_info **list, size_t *n, char *err, size_t errlen) {
    rtml_tf_tensor_info t = {.rank = -1};
    if (parse_entry(r, &t.key, &t, tensor_value, err, errlen) != 0) {
        tensor_info_free(&t);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i].key, t.key) == 0) {
            tensor_info_free(&(*list)[i]);
            (*list)[i] = t;
            return 0;
        }
    }
    rtml_tf_tensor_info *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown) {
        tensor_info_free(&t);
        return rtml_fail(err, errlen, "out of memory");
    }
    grown[(*n)++] = t;
    *list = grown;
    return 0;
}

static void signature_free(rtml_tf_signature *s) {
    for (size_t i = 0; i < s->n_inputs; i++) tensor_info_free(&s->inputs[i]);
    for (size_t i = 0; i < s->n_outputs; i++) tensor_info_free(&s->outputs[i]);
    free(s->inputs);
    free(s->outputs);
    free(s->name);
    free(s->method);
}

/* SignatureDef into the signature whose name the caller set. */
static int signature_value(rtml_pb_reader *r, void *value, char *err, size_t errlen) {
    rtml_tf_signature *s = value;
    uint32_t f;
    int wire;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &wire) != 0) return wire_fail(r, err, errlen);
        if ((f == 1 || f == 2) && wire == RTML_PB_LEN) {
            rtml_pb_reader e;
            if (sub_reader(r, &e) != 0) return wire_fail(r, err, errlen);
            if (add_tensor(&e, f == 1 ? &s->inputs : &s->outputs, f == 1 ? &s->n_inputs : &s->n_outputs, err,
                           errlen) != 0)
                return -1;
        } else if (f == 3 && wire == RTML_PB_LEN) {
            const uint8_t *p;
            size_t n;
            if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(r, err, errlen);
            if (set_string(&s->method, p, n, err, errlen) != 0) return -1;
        } else if (rtml_pb_skip(r, wire) != 0) {
            return wire_fail(r, err, errlen);
        }
    }
    return 0;
}

static int add_signature(rtml_pb_reader *r, rtml_tf_meta *m, char *err, size_t errlen) {
    rtml_tf_signature s = {0};
    if (parse_entry(r, &s.name, &s, signature_value, err, errlen) != 0) {
        signature_free(&s);
        return -1;
    }
    if (!s.method && !(s.method = strdup(""))) {
        signature_free(&s);
        return rtml_fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < m->n_signatures; i++) {
        if (strcmp(m->signatures[i].name, s.name) == 0) {
            signature_free(&m->signatures[i]);
            m->signatures[i] = s;
            return 0;
        }
    }
    rtml_tf_signature *grown = realloc(m->signatures, (m->n_signatures + 1) * sizeof *grown);
    if (!grown) {
        signature_free(&s);
        return rtml_fail(err, errlen, "out of memory");
    }
    grown[m->n_signatures++] = s;
    m->signatures = grown;
    return 0;
}

static int parse_saver(rtml_pb_reader *r, rtml_tf_meta *m, char *err, size_t errlen) {
    uint32_t f;
    int wire;
    m->has_saver = 1;
    while (r->p < r->end) {
        if (rtml_pb_key(r, &f, &wire) != 0) return wire_fail(r, err, errlen);
        char **dst = f == 1 ? &m->saver_filename : f == 2 ? &m->saver_save : f == 3 ? &m->saver_restore : NULL;
        if (dst && wire == RTML_PB_LEN) {
            const uint8_t *p;
            size_t n;
            if (rtml_pb_bytes(r, &p, &n) != 0) return wire_fail(r, err, errlen);
            if (set_string(dst, p, n, err, errlen) != 0) return -1;
        } else if (rtml_pb_skip(r, wire) != 0) {
            return wire_fail(r, err, errlen);
        }
    }
    return 0;
}

static int cmp_tensor(const void *a, const void *b) {
    return strcmp(((const rtml_tf_tensor_info *)a)->key, ((const rtml_tf_tensor_info *)b)->key);
}
static int cmp_signature(const void *a, const void *b) {
    return strcmp(((const rtml_tf_signature *)a)->name, ((const rtml_tf_signature *)b)->name);
}

rtml_tf_meta *rtml_tf_meta_parse(const void *buf, size_t len, char *err, size_t errlen) {
    rtml_tf_meta *m = calloc(1, sizeof *m);
    if (!m) return rtml_fail(err, errlen, "out of memory"), NULL;
    rtml_pb_reader r = rtml_pb_reader_new(buf, len);
    uint32_t f;
    int wire, rc = 0;
    while (rc == 0 && r.p < r.end) {
        if (rtml_pb_key(&r, &f, &wire) != 0) {
            rc = wire_fail(&r, err, errlen);
        } else if ((f == 3 || f == 5) && wire == RTML_PB_LEN) {
            rtml_pb_reader sub;
            if (sub_reader(&r, &sub) != 0) rc = wire_fail(&r, err, errlen);
            else rc = f == 3 ? parse_saver(&sub, m, err, errlen) : add_signature(&sub, m, err, errlen);
        } else if (rtml_pb_skip(&r, wire) != 0) {
            rc = wire_fail(&r, err, errlen);
        }
    }
    if (rc != 0) {
        rtml_tf_meta_free(m);
        return NULL;
    }
    if (m->n_signatures) qsort(m->signatures, m->n_signatures, sizeof *m->signatures, cmp_signature);
    for (size_t i = 0; i < m->n_signatures; i++) {
        rtml_tf_signature *s = &m->signatures[i];
        if (s->n_inputs) qsort(s->inputs, s->n_inputs, sizeof *s->inputs, cmp_tensor);
        if (s->n_outputs) qsort(s->outputs, s->n_outputs, sizeof *s->outputs, cmp_tensor);
    }
    return m;
}

void rtml_tf_meta_free(rtml_tf_meta *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_signatures; i++) signature_free(&m->signatures[i]);
    free(m->signatures);
    free(m->saver_filename);
    free(m->saver_save);
    free(m->saver_restore);
    free(m);
}

const rtml_tf_signature *rtml_tf_meta_signature(const rtml_tf_meta *m, const char *name) {
    for (size_t i = 0; i < m->n_signatures; i++)
        if (strcmp(m->signatures[i].name, name) == 0) return &m->signatures[i];
    return NULL;
}

static const rtml_tf_tensor_info *find_tensor(const rtml_tf_tensor_info *list, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].key, key) == 0) return &list[i];
    return NULL;
}

const rtml_tf_tensor_info *rtml_tf_signature_input(const rtml_tf_signature *s, const char *key) {
    return find_tensor(s->inputs, s->n_inputs, key);
}

const rtml_tf_tensor_info *rtml_tf_signature_output(const rtml_tf_signature *s, const char *key) {
    return find_tensor(s->outputs, s->n_outputs, key);
}

const char *rtml_tf_dtype_name(int dtype, char *buf, size_t len) {
    switch (dtype) {
    case RTML_TF_DT_FLOAT: return "float32";
    case RTML_TF_DT_DOUBLE: return "float64";
    case RTML_TF_DT_INT32: return "int32";
    case RTML_TF_DT_STRING: return "string";
    case RTML_TF_DT_INT64: return "int64";
    case RTML_TF_DT_BOOL: return "bool";
    default: snprintf(buf, len, "DataType %d", dtype); return buf;
    }
}

const char *rtml_tf_shape_str(const rtml_tf_tensor_info *t, char *buf, size_t len) {
    if (t->rank < 0) {
        snprintf(buf, len, "<unknown rank>");
        return buf;
    }
    size_t used = 0;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < t->rank && used < len; i++) {
        if (t->dims[i] < 0) used += (size_t)snprintf(buf + used, len - used, "%s?", i ? ", " : "");
        else used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    }
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}
