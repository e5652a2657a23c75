/* served.c — answered requests read back from the log topic into the join store (served.h). */
#include "pipeline/served.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/rtml.h"
#include "pipeline/drift_actions.h"
#include "pipeline/join.h"
#include "pipeline/labels.h"

typedef struct {
    double *dense, *val, *scores;
    uint32_t *idx;
} row_mem;

static int finite_number(const json_t *v, double *out) {
    if (!json_is_number(v)) return 0;
    *out = json_number_value(v);
    return isfinite(*out);
}

/* A JSON array of exactly n finite numbers into out; what names it in the error ("features.dense", "scores"). */
static int read_numbers(const json_t *a, size_t n, double *out, const char *what, char *detail, size_t dlen) {
    if (!json_is_array(a) || json_array_size(a) != n) return rtml_fail(detail, dlen, "%s: expected %zu numbers", what, n);
    for (size_t j = 0; j < n; j++)
        if (!finite_number(json_array_get(a, j), &out[j]))
            return rtml_fail(detail, dlen, "%s[%zu]: not a finite number", what, j);
    return 0;
}

/* [[index, value], ...] with every index in the sparse part of the row. */
static int read_sparse(const json_t *sparse, rtml_shape shape, row_mem *m, size_t *nnz, char *detail, size_t dlen) {
    size_t n = json_array_size(sparse);
    if (!json_is_array(sparse) || n > shape.n_inputs - shape.n_dense)
        return rtml_fail(detail, dlen, "features.sparse: expected at most %zu pairs", shape.n_inputs - shape.n_dense);
    for (size_t k = 0; k < n; k++) {
        const json_t *pair = json_array_get(sparse, k);
        const json_t *i = json_array_get(pair, 0);
        double v;
        if (json_array_size(pair) != 2 || !json_is_integer(i) || json_integer_value(i) < (json_int_t)shape.n_dense ||
            json_integer_value(i) >= (json_int_t)shape.n_inputs || !finite_number(json_array_get(pair, 1), &v))
            return rtml_fail(detail, dlen, "features.sparse[%zu]: not an [index, value] pair of this model", k);
        m->idx[k] = (uint32_t)json_integer_value(i);
        m->val[k] = v;
    }
    *nnz = n;
    return 0;
}

/* The row and scores of a log record, checked against the model's shape. */
static int read_record(const rtml_pipeline *p, const json_t *doc, row_mem *m, rtml_row *row, char *detail, size_t dlen) {
    rtml_shape shape = rtml_featurizer_shape(p->features);
    const json_t *f = json_object_get(doc, "features");
    const json_t *n_inputs = json_object_get(f, "n_inputs");
    if (!json_is_integer(n_inputs) || json_integer_value(n_inputs) != (json_int_t)shape.n_inputs)
        return rtml_fail(detail, dlen, "features.n_inputs: not this model's (%zu inputs)", shape.n_inputs);
    size_t sparse = shape.n_inputs - shape.n_dense, k = p->engine->n_outputs;
    m->dense = calloc(shape.n_dense + 1, sizeof *m->dense);
    m->val = calloc(sparse + 1, sizeof *m->val);
    m->idx = calloc(sparse + 1, sizeof *m->idx);
    m->scores = calloc(k, sizeof *m->scores);
    if (!m->dense || !m->val || !m->idx || !m->scores) return rtml_fail(detail, dlen, "out of memory");
    *row = (rtml_row){.dense = m->dense, .idx = m->idx, .val = m->val};
    if (read_numbers(json_object_get(f, "dense"), shape.n_dense, m->dense, "features.dense", detail, dlen) != 0 ||
        read_sparse(json_object_get(f, "sparse"), shape, m, &row->nnz, detail, dlen) != 0)
        return -1;
    return read_numbers(json_object_get(doc, "scores"), k, m->scores, "scores", detail, dlen);
}

/* Into the store through labels.c's path (which learns it at once when its label came first); what became of it
 * is read off the store's counters. */
static rtml_served_result put(rtml_pipeline *p, const rtml_row *row, const double *scores, const rtml_origin *o) {
    rtml_join_stats before, after;
    rtml_join_stats_get(p->join, &before);
    rtml_batch_item it = {.keyed = 1, .join_key = rtml_join_key(o->key, o->key_len), .ts_ms = o->timestamp_ms};
    rtml_pipeline_join(p, row, scores, &it);
    rtml_join_stats_get(p->join, &after);
    char err[RTML_ERRLEN];
    if (p->drift_reset_due && rtml_pipeline_reset_model(p, err, sizeof err) != 0)
        rtml_log(RTML_LOG_ERROR, "drift: the model could not be reset (%s); the current one goes on", err);
    if (after.joined > before.joined) return RTML_SERVED_JOINED;
    if (after.stored > before.stored) return RTML_SERVED_STORED;
    if (after.duplicate_features > before.duplicate_features) return RTML_SERVED_DUPLICATE;
    if (after.late_labels > before.late_labels) return RTML_SERVED_LATE;
    return RTML_SERVED_FAILED;
}

rtml_served_result rtml_pipeline_served(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                        rtml_reject *why, char *detail, size_t dlen) {
    *why = RTML_REJECT_NONE;
    if (origin->learned) return RTML_SERVED_SKIPPED;
    if (!origin->key || !origin->key_len) {
        *why = RTML_REJECT_MISSING_FIELD;
        rtml_fail(detail, dlen, "a served record without its key (the request id)");
        return RTML_SERVED_REJECTED;
    }
    json_error_t je;
    json_t *root = len <= p->max_record_bytes ? json_loadb(doc, len, 0, &je) : NULL;
    row_mem m = {0};
    rtml_row row;
    int rc = root ? read_record(p, root, &m, &row, detail, dlen) : rtml_fail(detail, dlen, "not JSON, or too large");
    rtml_served_result res = rc == 0 ? put(p, &row, m.scores, origin) : RTML_SERVED_REJECTED;
    if (rc != 0) *why = RTML_REJECT_MALFORMED;
    json_decref(root);
    free(m.dense), free(m.val), free(m.idx), free(m.scores);
    return res;
}
