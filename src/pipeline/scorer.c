/* scorer.c — decode -> features -> predict on a snapshot of the stream's model (scorer.h). */
#include "pipeline/scorer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_write.h"
#include "base/rtml.h"
#include "codec/codec.h"
#include "engine/engine.h"
#include "features/featurize.h"
#include "pipeline/batch.h"
#include "pipeline/model.h"

struct rtml_scorer {
    rtml_config cfg;        /* a shallow copy of the borrowed config: TensorFlow's watch off (snapshots say when) */
    rtml_featurizer *features;
    rtml_decoder *decoder;  /* the featurizer's fields, then the fields an engine reads raw */
    const char **fields;
    rtml_value *values;
    size_t n_values, n_feature_values, n_raw;
    rtml_engine *engine;
    rtml_shape shape;
    rtml_batch batch;       /* the request's rows (copies) */
    const rtml_row *rows;   /* over batch, after run */
    double *scores;
    size_t scores_cap;      /* records */
    uint32_t *idx;          /* add_dense's sparse part: n_inputs - n_dense at most */
    double *val;
    char **classes;         /* multiclass names by index, from the snapshot (owned) */
    size_t n_classes;
    rtml_scorer_info info;
};

/* ---- the stream's side ------------------------------------------------------------------------------- */

/* Sections as rtml_pipeline_save writes them ("features", "model", "classes"), and "serve": what the snapshot
 * holds (its model version and learned count). */
void rtml_pipeline_snapshot(const rtml_pipeline *p, rtml_buf *image) {
    rtml_section s[4] = {{"features", {RTML_BUF_INIT}}, {"model", {RTML_BUF_INIT}}, {"classes", {RTML_BUF_INIT}},
                         {"serve", {RTML_BUF_INIT}}};
    rtml_featurizer_save(p->features, &s[0].payload);
    rtml_w_str(&s[1].payload, p->engine->ops->name, strlen(p->engine->ops->name));
    rtml_w_u64(&s[1].payload, p->engine->learned);
    p->engine->ops->save(p->engine, &s[1].payload);
    rtml_w_u32(&s[2].payload, (uint32_t)p->n_classes);
    for (size_t i = 0; i < p->n_classes; i++) rtml_w_str(&s[2].payload, p->classes[i], strlen(p->classes[i]));
    rtml_w_u64(&s[3].payload, (uint64_t)rtml_pipeline_model_version(p));
    rtml_w_u64(&s[3].payload, p->engine->learned);
    rtml_buf_reset(image);
    rtml_state_encode(s, 4, image);
    for (size_t i = 0; i < 4; i++) rtml_buf_free(&s[i].payload.buf);
}

/* ---- opening --------------------------------------------------------------------------------------- */

/* The fields the decoder reads: the featurizer's, then the TensorFlow inputs fed from a field. */
static int open_decoder(rtml_scorer *s, char *err, size_t errlen) {
    size_t n;
    const char *const *fz = rtml_featurizer_fields(s->features, &n);
    const rtml_tf_config *tc = &s->cfg.model.tf;
    s->n_feature_values = n;
    for (size_t i = 0; rtml_config_is_tensorflow(&s->cfg) && i < tc->n_inputs; i++) s->n_raw += tc->inputs[i].field != NULL;
    s->n_values = n + s->n_raw;
    s->fields = calloc(s->n_values ? s->n_values : 1, sizeof *s->fields);
    s->values = calloc(s->n_values ? s->n_values : 1, sizeof *s->values);
    if (!s->fields || !s->values) return rtml_fail(err, errlen, "out of memory");
    memcpy(s->fields, fz, n * sizeof *s->fields);
    for (size_t i = 0, k = n; s->n_raw && i < tc->n_inputs; i++)
        if (tc->inputs[i].field) s->fields[k++] = tc->inputs[i].field;
    s->decoder = rtml_decoder_open(&s->cfg, s->fields, s->n_values, err, errlen);
    return s->decoder ? 0 : -1;
}

/* The TensorFlow engine, told where each feature sits in the featurizer's rows (as pipeline.c does). */
static rtml_engine *open_tf(rtml_scorer *s, char *err, size_t errlen) {
    const rtml_config *cfg = &s->cfg;
    rtml_row_span *layout = calloc(cfg->n_features ? cfg->n_features : 1, sizeof *layout);
    if (!layout) return rtml_fail(err, errlen, "out of memory"), NULL;
    for (size_t i = 0; i < cfg->n_features; i++) {
        layout[i].name = cfg->features[i].name;
        rtml_featurizer_span(s->features, layout[i].name, &layout[i].offset, &layout[i].width, &layout[i].sparse);
    }
    rtml_engine *e = rtml_tf_open(cfg, layout, cfg->n_features, &s->shape, err, errlen);
    free(layout);
    return e;
}

rtml_scorer *rtml_scorer_open(const rtml_config *cfg, char *err, size_t errlen) {
    rtml_scorer *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory"), NULL;
    s->cfg = *cfg;
    s->cfg.model.tf.watch = 0;
    if (!(s->features = rtml_featurizer_new(&s->cfg, err, errlen)) || open_decoder(s, err, errlen) != 0) goto fail;
    rtml_featurizer_freeze(s->features, 1);
    s->shape = rtml_featurizer_shape(s->features);
    if (cfg->model.task == RTML_TASK_MULTICLASS) s->shape.n_classes = cfg->model.n_classes;
    s->engine = rtml_config_is_tensorflow(cfg) ? open_tf(s, err, errlen) : rtml_engine_open(&s->cfg, &s->shape, err, errlen);
    if (!s->engine) goto fail;
    size_t sparse = s->shape.n_inputs - s->shape.n_dense;
    s->idx = calloc(sparse ? sparse : 1, sizeof *s->idx);
    s->val = calloc(sparse ? sparse : 1, sizeof *s->val);
    if (!s->idx || !s->val) {
        rtml_fail(err, errlen, "out of memory");
        goto fail;
    }
    rtml_batch_init(&s->batch, s->shape.n_dense, s->n_raw);
    s->info.model_version = rtml_config_is_tensorflow(cfg) ? s->engine->version : 1;
    return s;
fail:
    rtml_scorer_close(s);
    return NULL;
}

static void free_classes(rtml_scorer *s) {
    for (size_t i = 0; i < s->n_classes; i++) free(s->classes[i]);
    free(s->classes);
    s->classes = NULL;
    s->n_classes = 0;
}

void rtml_scorer_close(rtml_scorer *s) {
    if (!s) return;
    rtml_decoder_close(s->decoder);
    rtml_featurizer_free(s->features);
    rtml_engine_close(s->engine);
    rtml_batch_free(&s->batch);
    free(s->fields);
    free(s->values);
    free(s->scores);
    free(s->idx);
    free(s->val);
    free_classes(s);
    free(s);
}

/* ---- loading a snapshot -------------------------------------------------------------------------------- */

static int load_classes(rtml_scorer *s, rtml_reader *r, char *err, size_t errlen) {
    uint32_t n = rtml_r_u32(r);
    if (r->failed || n > s->cfg.model.n_classes) return rtml_fail(err, errlen, "snapshot: %u class names", n);
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) return rtml_fail(err, errlen, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *name = rtml_r_str(r, &len);
        if (!name || !(names[i] = strndup(name, len))) {
            for (uint32_t k = 0; k < i; k++) free(names[k]);
            free(names);
            return rtml_fail(err, errlen, "snapshot: class names truncated");
        }
    }
    free_classes(s);
    s->classes = names;
    s->n_classes = n;
    return 0;
}

/* The model section: the engine's name and learned count, then its state; a TensorFlow engine's state is the
 * version to load from the model directory. */
static int load_model(rtml_scorer *s, rtml_reader *r, char *err, size_t errlen) {
    size_t nlen;
    const char *name = rtml_r_str(r, &nlen);
    const char *want = s->engine->ops->name;
    if (!name || nlen != strlen(want) || memcmp(name, want, nlen) != 0)
        return rtml_fail(err, errlen, "snapshot holds a %.*s model, the config makes %s", (int)nlen, name ? name : "",
                         want);
    uint64_t learned = rtml_r_u64(r);
    int rc;
    if (rtml_config_is_tensorflow(&s->cfg)) {
        int64_t v = (int64_t)rtml_r_u64(r);
        rc = r->failed ? rtml_fail(err, errlen, "snapshot truncated") : rtml_tf_use_version(s->engine, v, err, errlen);
    } else {
        rc = s->engine->ops->load(s->engine, r, err, errlen);
    }
    if (rc == 0) s->engine->learned = learned;
    return rc;
}

int rtml_scorer_load(rtml_scorer *s, const void *image, size_t len, char *err, size_t errlen) {
    rtml_reader fr, mr, cr, sr;
    if (rtml_state_check(image, len, err, errlen) != 0) return -1;
    if (!rtml_state_section(image, len, "features", &fr) || !rtml_state_section(image, len, "model", &mr) ||
        !rtml_state_section(image, len, "classes", &cr) || !rtml_state_section(image, len, "serve", &sr))
        return rtml_fail(err, errlen, "not a snapshot (a section is missing)");
    if (rtml_featurizer_load(s->features, &fr, err, errlen) != 0 || load_model(s, &mr, err, errlen) != 0 ||
        load_classes(s, &cr, err, errlen) != 0)
        return -1;
    rtml_featurizer_freeze(s->features, 1);
    s->info.model_version = (int64_t)rtml_r_u64(&sr);
    s->info.learned = rtml_r_u64(&sr);
    return sr.failed ? rtml_fail(err, errlen, "snapshot: serve section truncated") : 0;
}

rtml_scorer_info rtml_scorer_info_of(const rtml_scorer *s) { return s->info; }

/* ---- shape ---------------------------------------------------------------------------------------------- */

rtml_shape rtml_scorer_shape(const rtml_scorer *s) { return s->shape; }
size_t rtml_scorer_n_outputs(const rtml_scorer *s) { return s->engine->n_outputs; }
rtml_task rtml_scorer_task(const rtml_scorer *s) { return s->engine->task; }
int rtml_scorer_needs_raw(const rtml_scorer *s) { return s->n_raw > 0; }

const char *const *rtml_scorer_fields(const rtml_scorer *s, size_t *n) {
    *n = s->n_values;
    return s->fields;
}

/* ---- a request --------------------------------------------------------------------------------------- */

void rtml_scorer_clear(rtml_scorer *s) {
    rtml_batch_clear(&s->batch);
    s->rows = NULL;
}

rtml_reject rtml_scorer_add_record(rtml_scorer *s, const char *doc, size_t len, char *detail, size_t dlen) {
    if (len > s->cfg.input.max_record_bytes) {
        rtml_fail(detail, dlen, "record of %zu bytes exceeds input.max_record_bytes (%zu)", len,
                  s->cfg.input.max_record_bytes);
        return RTML_REJECT_TOO_LARGE;
    }
    int decoded = rtml_decode(s->decoder, doc, len, s->values, detail, dlen);
    if (decoded != 0) {
        if (decoded > 0) rtml_fail(detail, dlen, "a header line, not a record");
        return RTML_REJECT_MALFORMED;
    }
    rtml_row row;
    rtml_reject why = rtml_featurizer_apply(s->features, s->values, &row, detail, dlen);
    if (why != RTML_REJECT_NONE) return why;
    row.raw = s->n_raw ? &s->values[s->n_feature_values] : NULL;
    row.n_raw = s->n_raw;
    if (s->engine->ops->accept && (why = (rtml_reject)s->engine->ops->accept(s->engine, &row, detail, dlen)))
        return why;
    rtml_batch_add(&s->batch, &row, row.raw, NULL, 0, 0, 0, 0, 0);
    s->rows = NULL;
    return RTML_REJECT_NONE;
}

rtml_reject rtml_scorer_add_dense(rtml_scorer *s, const double *x, char *detail, size_t dlen) {
    if (s->n_raw) {
        rtml_fail(detail, dlen, "this model reads raw fields (model.tensorflow.inputs[].field): send records");
        return RTML_REJECT_WRONG_TYPE;
    }
    rtml_row row = {.dense = x};
    for (size_t j = 0; j < s->shape.n_inputs; j++) {
        if (!isfinite(x[j])) {
            rtml_fail(detail, dlen, "feature %zu is not a finite number", j);
            return RTML_REJECT_NOT_FINITE;
        }
        if (j >= s->shape.n_dense && x[j] != 0) s->idx[row.nnz] = (uint32_t)j, s->val[row.nnz++] = x[j];
    }
    row.idx = s->idx;
    row.val = s->val;
    rtml_batch_add(&s->batch, &row, NULL, NULL, 0, 0, 0, 0, 0);
    s->rows = NULL;
    return RTML_REJECT_NONE;
}

int rtml_scorer_run(rtml_scorer *s, char *err, size_t errlen) {
    size_t n = s->batch.n, k = s->engine->n_outputs;
    if (n > s->scores_cap) {
        double *grown = realloc(s->scores, n * k * sizeof *grown);
        if (!grown) return rtml_fail(err, errlen, "out of memory");
        s->scores = grown;
        s->scores_cap = n;
    }
    s->rows = rtml_batch_rows(&s->batch);
    /* TensorFlow: at most its configured batch per session run; the native engines take any number of rows */
    size_t step = rtml_config_is_tensorflow(&s->cfg) && s->engine->batch ? s->engine->batch : n;
    for (size_t at = 0; at < n; at += step) {
        size_t m = n - at < step ? n - at : step;
        if (rtml_engine_predict(s->engine, s->rows + at, m, s->scores + at * k) != 0)
            return rtml_fail(err, errlen, "the model failed on this request");
    }
    return 0;
}

size_t rtml_scorer_count(const rtml_scorer *s) { return s->batch.n; }
const double *rtml_scorer_scores(const rtml_scorer *s, size_t i) { return s->scores + i * s->engine->n_outputs; }
const rtml_row *rtml_scorer_row(const rtml_scorer *s, size_t i) { return &s->rows[i]; }

static size_t best_class(const rtml_scorer *s, const double *v) {
    size_t best = 0;
    for (size_t k = 1; k < s->engine->n_outputs; k++)
        if (v[k] > v[best]) best = k;
    return best;
}

static void put_number(const rtml_scorer *s, double v, rtml_buf *out) {
    if (s->engine->float32) rtml_buf_put_float(out, v);
    else rtml_buf_put_double(out, v);
}

void rtml_scorer_put_prediction(const rtml_scorer *s, size_t i, rtml_buf *out) {
    const double *v = rtml_scorer_scores(s, i);
    if (s->engine->task == RTML_TASK_BINARY) {
        rtml_buf_putc(out, v[0] >= 0.5 ? '1' : '0');
    } else if (s->engine->task == RTML_TASK_REGRESSION) {
        put_number(s, v[0], out);
    } else {
        size_t best = best_class(s, v);
        if (best < s->n_classes) rtml_json_put_string(out, s->classes[best], strlen(s->classes[best]));
        else rtml_buf_put_i64(out, (int64_t)best);
    }
}

void rtml_scorer_put_score(const rtml_scorer *s, size_t i, rtml_buf *out) {
    const double *v = rtml_scorer_scores(s, i);
    put_number(s, s->engine->task == RTML_TASK_MULTICLASS ? v[best_class(s, v)] : v[0], out);
}

int rtml_scorer_class_named(const rtml_scorer *s, size_t i) {
    return s->engine->task == RTML_TASK_MULTICLASS && best_class(s, rtml_scorer_scores(s, i)) < s->n_classes;
}
