/* infer.c — an inference request answered on a pooled scorer, and the model's metadata (infer.h). */
#include "serve/infer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/json_write.h"
#include "base/rtml.h"

/* ---- scoring ------------------------------------------------------------------------------------------- */

static int add_all(rtml_scorer *sc, const rtml_oip_request *req, char *err, size_t errlen) {
    char detail[RTML_ERRLEN];
    rtml_scorer_clear(sc);
    for (size_t i = 0; i < req->n; i++) {
        rtml_reject why = req->kind == RTML_OIP_RECORDS
                              ? rtml_scorer_add_record(sc, req->records[i].data, req->records[i].len, detail, sizeof detail)
                              : rtml_scorer_add_dense(sc, req->x + i * req->width, detail, sizeof detail);
        if (why != RTML_REJECT_NONE)
            return rtml_fail(err, errlen, "%s[%zu]: %s: %s", req->kind == RTML_OIP_RECORDS ? "records" : "features", i,
                             rtml_reject_name(why), detail);
    }
    return 0;
}

/* ---- the response --------------------------------------------------------------------------------------- */

/* Record i's join key: the request's id (or a generated one), with /i when the request holds several. */
static void put_key(const char *base, const rtml_oip_request *req, size_t i, char *out, size_t cap) {
    if (req->n == 1) snprintf(out, cap, "%s", base);
    else snprintf(out, cap, "%s/%zu", base, i);
}

static void comma(rtml_buf *out, size_t i) {
    if (i) rtml_buf_putc(out, ',');
}

static void output_head(rtml_buf *out, int *first, const char *name, const char *datatype, size_t n, size_t width) {
    rtml_buf_printf(out, "%s{\"name\":\"%s\",\"datatype\":\"%s\",\"shape\":[%zu", *first ? "" : ",", name, datatype, n);
    if (width) rtml_buf_printf(out, ",%zu", width);
    rtml_buf_puts(out, "],\"data\":[");
    *first = 0;
}

static const char *prediction_type(rtml_task t) {
    return t == RTML_TASK_BINARY ? "INT64" : t == RTML_TASK_REGRESSION ? "FP64" : "BYTES";
}

static void put_prediction(const rtml_scorer *sc, size_t i, rtml_buf *out) {
    if (rtml_scorer_task(sc) != RTML_TASK_MULTICLASS || rtml_scorer_class_named(sc, i)) {
        rtml_scorer_put_prediction(sc, i, out);
        return;
    }
    rtml_buf_putc(out, '"'); /* BYTES: an unnamed class's index, as text */
    rtml_scorer_put_prediction(sc, i, out);
    rtml_buf_putc(out, '"');
}

/* A row as n_inputs dense values (zeros where a sparse input is off). */
static void put_dense_row(const rtml_row *row, rtml_shape shape, rtml_buf *out) {
    size_t k = 0;
    for (size_t j = 0; j < shape.n_inputs; j++) {
        if (j) rtml_buf_putc(out, ',');
        if (j < shape.n_dense) rtml_buf_put_double(out, row->dense[j]);
        else if (k < row->nnz && row->idx[k] == j) rtml_buf_put_double(out, row->val[k++]);
        else rtml_buf_putc(out, '0');
    }
}

static void put_outputs(const rtml_scorer *sc, const rtml_oip_request *req, unsigned want, const char *base,
                        rtml_buf *out) {
    int first = 1;
    size_t n = req->n;
    char key[RTML_OIP_ID_MAX + 32];
    if (want & RTML_OIP_PREDICTION) {
        output_head(out, &first, "prediction", prediction_type(rtml_scorer_task(sc)), n, 0);
        for (size_t i = 0; i < n; i++) comma(out, i), put_prediction(sc, i, out);
        rtml_buf_puts(out, "]}");
    }
    if (want & RTML_OIP_SCORE) {
        output_head(out, &first, "score", "FP64", n, 0);
        for (size_t i = 0; i < n; i++) comma(out, i), rtml_scorer_put_score(sc, i, out);
        rtml_buf_puts(out, "]}");
    }
    if (want & RTML_OIP_KEY) {
        output_head(out, &first, "key", "BYTES", n, 0);
        for (size_t i = 0; i < n; i++) {
            comma(out, i);
            put_key(base, req, i, key, sizeof key);
            rtml_json_put_string(out, key, strlen(key));
        }
        rtml_buf_puts(out, "]}");
    }
    if (want & RTML_OIP_FEATURES_OUT) {
        rtml_shape shape = rtml_scorer_shape(sc);
        output_head(out, &first, "features", "FP64", n, shape.n_inputs);
        for (size_t i = 0; i < n; i++) comma(out, i), put_dense_row(rtml_scorer_row(sc, i), shape, out);
        rtml_buf_puts(out, "]}");
    }
}

static void put_head(const rtml_infer_env *env, const rtml_pooled *s, const char *id, double now, rtml_buf *out) {
    rtml_scorer_info info = rtml_scorer_info_of(s->scorer);
    rtml_buf_reset(out);
    rtml_buf_puts(out, "{\"model_name\":");
    rtml_json_put_string(out, env->cfg->serve.name, strlen(env->cfg->serve.name));
    rtml_buf_printf(out, ",\"model_version\":\"%" PRId64 "\",\"id\":", info.model_version);
    rtml_json_put_string(out, id, strlen(id));
    rtml_buf_puts(out, ",\"parameters\":{\"refresh_ms\":");
    rtml_buf_put_double(out, env->cfg->serve.refresh_s * 1000);
    rtml_buf_printf(out, ",\"snapshot\":%" PRIu64 ",\"snapshot_age_ms\":", s->snap->seq);
    rtml_buf_put_double(out, (double)(int64_t)(rtml_snapshot_age(s->snap, now) * 1e6) / 1e3); /* to the microsecond */
    rtml_buf_printf(out, ",\"learned\":%" PRIu64 "},\"outputs\":[", info.learned);
}

/* ---- the log topic ------------------------------------------------------------------------------------ */

static void log_all(const rtml_infer_env *env, const rtml_pooled *s, const rtml_oip_request *req, const char *base) {
    const rtml_scorer *sc = s->scorer;
    rtml_scorer_info info = rtml_scorer_info_of(sc);
    rtml_buf pred = RTML_BUF_INIT, score = RTML_BUF_INIT;
    char key[RTML_OIP_ID_MAX + 32];
    for (size_t i = 0; i < req->n; i++) {
        rtml_buf_reset(&pred);
        rtml_buf_reset(&score);
        rtml_scorer_put_prediction(sc, i, &pred);
        rtml_scorer_put_score(sc, i, &score);
        put_key(base, req, i, key, sizeof key);
        rtml_served sv = {.key = key, .key_len = strlen(key), .row = rtml_scorer_row(sc, i),
                          .shape = rtml_scorer_shape(sc), .scores = rtml_scorer_scores(sc, i),
                          .n_outputs = rtml_scorer_n_outputs(sc), .prediction = pred.data, .score = score.data,
                          .model_version = info.model_version, .learned = info.learned};
        if (req->kind == RTML_OIP_RECORDS) sv.record = req->records[i].data, sv.record_len = req->records[i].len;
        env->on_served(env->ctx, &sv);
    }
    rtml_buf_free(&pred);
    rtml_buf_free(&score);
}

int rtml_infer(rtml_infer_env *env, rtml_pooled *s, const rtml_oip_request *req, double now, rtml_buf *out, char *err,
               size_t errlen) {
    if (add_all(s->scorer, req, err, errlen) != 0) return 400;
    if (rtml_scorer_run(s->scorer, err, errlen) != 0) return 500;
    char base[RTML_OIP_ID_MAX + 1];
    if (req->has_id) snprintf(base, sizeof base, "%s", req->id);
    else snprintf(base, sizeof base, "%s-%" PRIu64, env->id_prefix, atomic_fetch_add(&env->next_id, 1));
    unsigned want = req->outputs ? req->outputs
                                 : RTML_OIP_PREDICTION | RTML_OIP_SCORE | (env->on_served ? RTML_OIP_KEY : 0u);
    put_head(env, s, base, now, out);
    put_outputs(s->scorer, req, want, base, out);
    rtml_buf_puts(out, "]}");
    if (env->on_served) log_all(env, s, req, base);
    return 200;
}

/* ---- metadata --------------------------------------------------------------------------------------------- */

static void put_strings(rtml_buf *out, const char *const *v, size_t n) {
    rtml_buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) rtml_buf_putc(out, ',');
        rtml_json_put_string(out, v[i], strlen(v[i]));
    }
    rtml_buf_putc(out, ']');
}

void rtml_infer_metadata(const rtml_config *cfg, const rtml_pooled *s, rtml_buf *out) {
    const rtml_scorer *sc = s->scorer;
    rtml_scorer_info info = rtml_scorer_info_of(sc);
    rtml_shape shape = rtml_scorer_shape(sc);
    size_t n_fields;
    const char *const *fields = rtml_scorer_fields(sc, &n_fields);
    rtml_buf_reset(out);
    rtml_buf_puts(out, "{\"name\":");
    rtml_json_put_string(out, cfg->serve.name, strlen(cfg->serve.name));
    rtml_buf_printf(out, ",\"versions\":[\"%" PRId64 "\"],\"platform\":\"rtml_%s\",\"inputs\":["
                    "{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[-1]}", info.model_version,
                    rtml_config_is_tensorflow(cfg) ? "tensorflow" : "native");
    if (!rtml_scorer_needs_raw(sc))
        rtml_buf_printf(out, ",{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,%zu]}", shape.n_inputs);
    rtml_buf_printf(out, "],\"outputs\":[{\"name\":\"prediction\",\"datatype\":\"%s\",\"shape\":[-1]},"
                    "{\"name\":\"score\",\"datatype\":\"FP64\",\"shape\":[-1]},"
                    "{\"name\":\"key\",\"datatype\":\"BYTES\",\"shape\":[-1]},"
                    "{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[-1,%zu]}],\"parameters\":{\"fields\":",
                    prediction_type(rtml_scorer_task(sc)), shape.n_inputs);
    put_strings(out, fields, n_fields);
    rtml_buf_puts(out, ",\"features\":[");
    for (size_t i = 0; i < cfg->n_features; i++) {
        if (i) rtml_buf_putc(out, ',');
        rtml_json_put_string(out, cfg->features[i].name, strlen(cfg->features[i].name));
    }
    rtml_buf_printf(out, "],\"input_format\":\"%s\",\"refresh_ms\":", cfg->input.format == RTML_FMT_JSON ? "json"
                    : cfg->input.format == RTML_FMT_CSV ? "csv" : cfg->input.format == RTML_FMT_AVRO ? "avro" : "protobuf");
    rtml_buf_put_double(out, cfg->serve.refresh_s * 1000);
    rtml_buf_printf(out, ",\"learned\":%" PRIu64 ",\"log_topic\":%s}}", info.learned, cfg->serve.log_topic ? "true" : "false");
}
