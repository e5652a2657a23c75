/* pipeline.c — the record pipeline shared by `run` and `replay` (see pipeline.h). */
#include "pipeline/pipeline.h"

#include "pipeline/drift_actions.h"
#include "pipeline/encode.h"
#include "pipeline/labels.h"
#include "pipeline/model.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "features/aggregate.h"
#include "base/log.h"
#include "base/rtml.h"

#define DEFAULT_MAX_RECORD_BYTES (1u << 20)
#define EVAL_WINDOW 1000

static bool has_label(const rtml_pipeline *p) { return p->cfg->label.field != NULL; }

/* The fields an engine reads raw (TensorFlow inputs fed from a field), in config order. */
static size_t raw_fields(const rtml_config *cfg, const char **out) {
    size_t n = 0;
    if (!rtml_config_is_tensorflow(cfg)) return 0;
    for (size_t i = 0; i < cfg->model.tf.n_inputs; i++)
        if (cfg->model.tf.inputs[i].field) {
            if (out) out[n] = cfg->model.tf.inputs[i].field;
            n++;
        }
    return n;
}

/* label.topic: a feature record's join key is one more field (unless it is the Kafka key, "@key"). */
static bool has_key_field(const rtml_pipeline *p) {
    return p->cfg->label.topic && strcmp(p->cfg->label.feature_key, "@key") != 0;
}

/* The aggregate a featurizer field stands for ("@aggregate/NAME", config/features.c), or -1. */
static int aggregate_of(const rtml_config *cfg, const char *field) {
    static const char prefix[] = "@aggregate/";
    if (strncmp(field, prefix, sizeof prefix - 1) != 0) return -1;
    for (size_t j = 0; j < cfg->aggregates.n; j++)
        if (!strcmp(cfg->aggregates.list[j].name, field + sizeof prefix - 1)) return (int)j;
    return -1;
}

/* The featurizer's fields that the decoder reads (into all[]), and where each featurizer value comes from. */
static size_t split_fields(rtml_pipeline *p, const char *const *fields, size_t n, const char **all) {
    size_t real = 0;
    for (size_t i = 0; i < n; i++) {
        int j = p->fsource ? aggregate_of(p->cfg, fields[i]) : -1;
        if (j >= 0) {
            p->fsource[i] = -1 - j;
            continue;
        }
        if (p->fsource) p->fsource[i] = (int)real;
        all[real++] = fields[i];
    }
    return real;
}

static int alloc_aggregates(rtml_pipeline *p, size_t n_fields) {
    p->n_fvalues = n_fields;
    p->fsource = calloc(n_fields ? n_fields : 1, sizeof *p->fsource);
    p->fvalues = calloc(n_fields ? n_fields : 1, sizeof *p->fvalues);
    p->agg_out = calloc(p->cfg->aggregates.n, sizeof *p->agg_out);
    return p->fsource && p->fvalues && p->agg_out ? 0 : -1;
}

/* The decoder reads the featurizer's fields (not its aggregates), then the fields an engine reads raw, then the
 * label's or the join key's (the last of n_values), then what the aggregates read (n_agg_inputs more). */
static int open_decoder(rtml_pipeline *p, char *err, size_t errlen) {
    size_t n, n_agg = 0;
    const char *const *fields = rtml_featurizer_fields(p->features, &n);
    const char *const *agg_in = p->aggregates ? rtml_aggregates_fields(p->aggregates, &n_agg) : NULL;
    if (p->aggregates && alloc_aggregates(p, n) != 0) return rtml_fail(err, errlen, "out of memory");
    p->n_raw = raw_fields(p->cfg, NULL);
    size_t cap = n + p->n_raw + 1 + n_agg;
    const char **all = calloc(cap, sizeof *all);
    p->values = calloc(cap, sizeof *p->values);
    if (!all || !p->values) {
        free(all);
        return rtml_fail(err, errlen, "out of memory");
    }
    p->n_feature_values = split_fields(p, fields, n, all);
    p->n_values = p->n_feature_values + p->n_raw + (has_label(p) || has_key_field(p) ? 1 : 0);
    p->n_agg_inputs = n_agg;
    raw_fields(p->cfg, all + p->n_feature_values);
    if (has_label(p)) all[p->n_values - 1] = p->cfg->label.field;
    if (has_key_field(p)) all[p->n_values - 1] = p->cfg->label.feature_key;
    for (size_t i = 0; i < n_agg; i++) all[p->n_values + i] = agg_in[i];
    p->decoder = rtml_decoder_open(p->cfg, all, p->n_values + n_agg, err, errlen);
    free(all);
    return p->decoder ? 0 : -1;
}

/* The featurizer's values of this record: its aggregates computed first (a rejection says why). */
static rtml_reject feature_values(rtml_pipeline *p, const rtml_origin *origin, const rtml_value **out, char *detail,
                                  size_t dlen) {
    *out = p->values;
    if (!p->aggregates) return RTML_REJECT_NONE;
    rtml_agg_origin o = {origin ? origin->key : NULL, origin ? origin->key_len : 0, origin ? origin->timestamp_ms : -1};
    rtml_reject why = rtml_aggregates_compute(p->aggregates, p->values + p->n_values, &o, p->agg_out, detail, dlen);
    if (why != RTML_REJECT_NONE) return why;
    for (size_t i = 0; i < p->n_fvalues; i++)
        p->fvalues[i] = p->fsource[i] >= 0 ? p->values[p->fsource[i]] : p->agg_out[-1 - p->fsource[i]];
    *out = p->fvalues;
    return RTML_REJECT_NONE;
}

static int init_classes(rtml_pipeline *p, char *err, size_t errlen) {
    const rtml_config *cfg = p->cfg;
    if (cfg->model.task != RTML_TASK_MULTICLASS) return 0;
    if (cfg->model.n_classes < 2)
        return rtml_fail(err, errlen, "model.classes: a multiclass model needs the class names or their number (>= 2)");
    p->classes = calloc(cfg->model.n_classes, sizeof *p->classes);
    if (!p->classes) return rtml_fail(err, errlen, "out of memory");
    for (size_t i = 0; cfg->model.classes && i < cfg->model.n_classes; i++) {
        if (!(p->classes[i] = strdup(cfg->model.classes[i]))) return rtml_fail(err, errlen, "out of memory");
        p->n_classes++;
    }
    return 0;
}

/* The TensorFlow engine, told where each feature sits in the featurizer's rows. */
static rtml_engine *open_tf(rtml_pipeline *p, const rtml_shape *shape, char *err, size_t errlen) {
    const rtml_config *cfg = p->cfg;
    rtml_row_span *layout = calloc(cfg->n_features ? cfg->n_features : 1, sizeof *layout);
    if (!layout) return rtml_fail(err, errlen, "out of memory"), NULL;
    for (size_t i = 0; i < cfg->n_features; i++) {
        layout[i].name = cfg->features[i].name;
        rtml_featurizer_span(p->features, layout[i].name, &layout[i].offset, &layout[i].width, &layout[i].sparse);
    }
    rtml_engine *e = rtml_tf_open(cfg, layout, cfg->n_features, shape, err, errlen);
    free(layout);
    return e;
}

int rtml_pipeline_init(rtml_pipeline *p, const rtml_config *cfg, char *err, size_t errlen) {
    *p = (rtml_pipeline){.cfg = cfg, .model_version = 1, .max_record_bytes = DEFAULT_MAX_RECORD_BYTES};
    if (cfg->input.max_record_bytes) p->max_record_bytes = cfg->input.max_record_bytes;
    if (!(p->features = rtml_featurizer_new(cfg, err, errlen))) goto fail;
    if (cfg->aggregates.n && !(p->aggregates = rtml_aggregates_new(cfg, err, errlen))) goto fail;
    if (open_decoder(p, err, errlen) != 0) goto fail;
    if (init_classes(p, err, errlen) != 0) goto fail;
    rtml_shape shape = rtml_featurizer_shape(p->features);
    if (cfg->model.task == RTML_TASK_MULTICLASS) shape.n_classes = cfg->model.n_classes;
    p->engine = rtml_config_is_tensorflow(cfg) ? open_tf(p, &shape, err, errlen) : rtml_engine_open(cfg, &shape, err, errlen);
    if (!p->engine) goto fail;
    if (cfg->output.format != RTML_FMT_JSON && !(p->encoder = rtml_encoder_open(cfg, err, errlen))) goto fail;
    p->batch_size = p->engine->batch ? p->engine->batch : 1;
    rtml_batch_init(&p->batch, shape.n_dense, p->n_raw);
    p->batch.timed = p->batch_size > 1;
    p->scores = calloc(p->batch_size * p->engine->n_outputs, sizeof *p->scores);
    p->learn_rows = calloc(p->batch_size, sizeof *p->learn_rows);
    p->learn_y = calloc(p->batch_size, sizeof *p->learn_y);
    p->ends = calloc(p->batch_size, sizeof *p->ends);
    if (cfg->output.features_topic && !(p->feature_ends = calloc(p->batch_size, sizeof *p->feature_ends))) {
        rtml_fail(err, errlen, "out of memory");
        goto fail;
    }
    if (!p->scores || !p->learn_rows || !p->learn_y || !p->ends ||
        rtml_eval_init(&p->eval, p->engine->task, p->engine->n_outputs, EVAL_WINDOW) != 0) {
        rtml_fail(err, errlen, "out of memory");
        goto fail;
    }
    if (rtml_pipeline_drift_open(p, err, errlen) != 0) goto fail;
    if (rtml_pipeline_labels_open(p, err, errlen) != 0) goto fail;
    return 0;
fail:
    rtml_pipeline_free(p);
    return -1;
}

void rtml_pipeline_free(rtml_pipeline *p) {
    rtml_decoder_close(p->decoder);
    free(p->values);
    rtml_aggregates_free(p->aggregates);
    free(p->agg_out);
    free(p->fvalues);
    free(p->fsource);
    rtml_featurizer_free(p->features);
    rtml_engine_close(p->engine);
    rtml_encoder_close(p->encoder);
    rtml_eval_free(&p->eval);
    rtml_drift_free(p->drift);
    rtml_pipeline_labels_free(p);
    free(p->scores);
    free(p->learn_rows);
    free(p->learn_y);
    free(p->ends);
    free(p->feature_ends);
    rtml_buf_free(&p->encoded);
    rtml_buf_free(&p->encoded_features);
    rtml_buf_free(&p->topic_json);
    rtml_batch_free(&p->batch);
    for (size_t i = 0; p->classes && i < p->cfg->model.n_classes; i++) free(p->classes[i]);
    free(p->classes);
    *p = (rtml_pipeline){0};
}

static rtml_reject reject(rtml_pipeline *p, rtml_reject why) {
    p->rejected++;
    p->rejected_by[why]++;
    return why;
}

/* The label, if the record has one: 1 with *y set, 0 when absent, or -reason with a detail. */
static int read_label(rtml_pipeline *p, double *y, char *detail, size_t dlen) {
    if (!has_label(p)) return 0;
    return rtml_pipeline_label_value(p, &p->values[p->n_values - 1], p->cfg->label.field, y, detail, dlen);
}

rtml_reject rtml_pipeline_submit(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                 uint64_t tag, int *queued, char *detail, size_t dlen) {
    *queued = 0;
    p->records++;
    if (len > p->max_record_bytes) {
        rtml_fail(detail, dlen, "record of %zu bytes exceeds the limit of %zu", len, p->max_record_bytes);
        return reject(p, RTML_REJECT_TOO_LARGE);
    }
    int decoded = rtml_decode(p->decoder, doc, len, p->values, detail, dlen);
    if (decoded < 0) return reject(p, RTML_REJECT_MALFORMED);
    if (decoded > 0) { /* a header, not a record: nothing to score, nothing to count */
        p->records--;
        return RTML_REJECT_NONE;
    }
    double y = 0;
    int labelled = read_label(p, &y, detail, dlen);
    if (labelled < 0) return reject(p, (rtml_reject)-labelled);
    int learned = origin && origin->learned;
    if (learned) p->redelivered++, labelled = 0; /* scored again, never learned or evaluated twice */
    rtml_row row;
    const rtml_value *fv;
    rtml_reject why = feature_values(p, origin, &fv, detail, dlen);
    if (why != RTML_REJECT_NONE) return reject(p, why);
    rtml_featurizer_freeze(p->features, learned || p->serve_only);
    why = rtml_featurizer_apply(p->features, fv, &row, detail, dlen);
    if (why != RTML_REJECT_NONE) return reject(p, why);
    row.raw = p->n_raw ? &p->values[p->n_feature_values] : NULL;
    row.n_raw = p->n_raw;
    if (p->engine->ops->accept && (why = (rtml_reject)p->engine->ops->accept(p->engine, &row, detail, dlen)))
        return reject(p, why);
    if (!learned) rtml_aggregates_add(p->aggregates); /* after it: the record is in the past of those that follow */
    uint64_t key = 0;
    int keyed = 0;
    if (p->join && !learned && !(keyed = rtml_pipeline_feature_key(p, origin, &key))) p->unkeyed++;
    rtml_batch_add(&p->batch, &row, row.raw, origin ? origin->topic : NULL, origin ? origin->partition : 0,
                   origin ? origin->offset : 0, tag, labelled, y);
    rtml_batch_item *it = &p->batch.items[p->batch.n - 1];
    it->keyed = keyed, it->join_key = key, it->ts_ms = origin ? origin->timestamp_ms : 0;
    *queued = 1;
    return RTML_REJECT_NONE;
}

bool rtml_pipeline_due(const rtml_pipeline *p, double now) {
    if (p->batch.n == 0) return false;
    return p->batch.n >= p->batch_size || now - p->batch.first_at >= p->engine->max_delay;
}

double rtml_pipeline_wait(const rtml_pipeline *p, double now) {
    if (p->batch.n == 0) return -1;
    double left = p->batch.first_at + p->engine->max_delay - now;
    return p->batch.n >= p->batch_size || left < 0 ? 0 : left;
}

/* A failed session run fails the whole batch: each record is rejected as model_error (counted, logged). */
static void fail_batch(rtml_pipeline *p, rtml_emit_fn emit, void *ctx) {
    rtml_log_every(RTML_LOG_ERROR, ++p->engine_failures, 10, 10, "the model failed on a batch of %zu records",
                   p->batch.n);
    for (size_t i = 0; i < p->batch.n; i++) {
        reject(p, RTML_REJECT_MODEL_ERROR);
        emit(ctx, &p->batch.items[i], RTML_REJECT_MODEL_ERROR, NULL);
    }
    rtml_batch_clear(&p->batch);
}

/* Test, then train: every record of the batch is scored before the labelled ones are learned. scored_at: the
 * engine's learned count when the batch was scored; a record scored alone is learned from that score
 * (learn_scored) unless a join learned something in between. */
static void learn_batch(rtml_pipeline *p, const rtml_row *rows, uint64_t scored_at) {
    size_t k = p->engine->n_outputs, m = 0;
    for (size_t i = 0; i < p->batch.n; i++) {
        const rtml_batch_item *it = &p->batch.items[i];
        p->predicted++;
        if (it->keyed) rtml_pipeline_join(p, &rows[i], &p->scores[i * k], it);
        if (!it->labelled) continue;
        rtml_eval_add(&p->eval, &p->scores[i * k], it->y);
        rtml_pipeline_drift_observe(p, &p->scores[i * k], it->y);
        p->learn_rows[m] = rows[i];
        p->learn_y[m++] = it->y;
    }
    if (!m || p->engine->serve_only || p->serve_only) return;
    int rc = p->batch.n == 1 && m == 1 && p->engine->learned == scored_at
                 ? rtml_engine_learn_scored(p->engine, p->learn_rows, p->learn_y[0], p->scores)
                 : rtml_engine_learn(p->engine, p->learn_rows, p->learn_y, m);
    if (rc != 0) {
        p->learn_failures += m;
        rtml_log_every(RTML_LOG_ERROR, p->learn_failures, 10, 10, "the model failed to learn from %zu records", m);
        return;
    }
    p->learned += m;
}

bool rtml_pipeline_features_of(const rtml_pipeline *p, const rtml_batch_item *item, rtml_buf *view) {
    if (!p->feature_ends || item < p->batch.items || item >= p->batch.items + p->batch.n) return false;
    size_t i = (size_t)(item - p->batch.items), start = i ? p->feature_ends[i - 1] : 0;
    *view = (rtml_buf){p->encoded_features.data + start, p->feature_ends[i] - start, 0};
    return true;
}

void rtml_pipeline_flush(rtml_pipeline *p, rtml_emit_fn emit, void *ctx) {
    size_t n = p->batch.n, k = p->engine->n_outputs;
    if (n == 0) return;
    const rtml_row *rows = rtml_batch_rows(&p->batch);
    uint64_t scored_at = p->engine->learned;
    if (rtml_engine_predict(p->engine, rows, n, p->scores) != 0) {
        fail_batch(p, emit, ctx);
        return;
    }
    /* Encode before learning, so extra outputs and the version are those of the scoring model. */
    rtml_buf_reset(&p->encoded);
    rtml_buf_reset(&p->encoded_features);
    size_t *ends = p->ends;
    char detail[RTML_ERRLEN];
    for (size_t i = 0; i < n; i++) {
        const rtml_batch_item *it = &p->batch.items[i];
        if (rtml_pipeline_encode(p, &p->scores[i * k], i, it, &rows[i], &p->encoded, detail, sizeof detail) != 0)
            /* cannot happen with the built-in schema; a user schema that cannot hold this prediction */
            rtml_log_every(RTML_LOG_ERROR, ++p->encode_failures, 10, 10, "cannot encode a prediction: %s", detail);
        ends[i] = p->encoded.len;
        if (p->feature_ends) {
            rtml_pipeline_encode_features(p, it, &rows[i], &p->encoded_features);
            p->feature_ends[i] = p->encoded_features.len;
        }
    }
    learn_batch(p, rows, scored_at);
    if (p->drift_reset_due && rtml_pipeline_reset_model(p, detail, sizeof detail) != 0)
        rtml_log(RTML_LOG_ERROR, "drift: the model could not be reset (%s); the current one goes on", detail);
    rtml_buf one = RTML_BUF_INIT;
    for (size_t i = 0; i < n; i++) { /* each prediction is a view into encoded (not owned: never freed) */
        size_t start = i ? ends[i - 1] : 0;
        one.data = p->encoded.data + start;
        one.len = ends[i] - start;
        emit(ctx, &p->batch.items[i], RTML_REJECT_NONE, &one);
    }
    rtml_batch_clear(&p->batch);
}

int rtml_pipeline_checkpoint(rtml_pipeline *p, char *err, size_t errlen) {
    if (!p->engine->ops->checkpoint) return 0;
    return p->engine->ops->checkpoint(p->engine, err, errlen);
}

/* rtml_pipeline_process: one record through a batch of its own. */
typedef struct {
    rtml_buf *out;
    rtml_reject why;
} single_ctx;

static void emit_single(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *prediction) {
    single_ctx *c = ctx;
    c->why = why;
    if (c->out && prediction) rtml_buf_append(c->out, prediction->data, prediction->len);
}

rtml_reject rtml_pipeline_process(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                  rtml_buf *out, char *detail, size_t dlen) {
    int queued;
    rtml_reject why = rtml_pipeline_submit(p, doc, len, origin, 0, &queued, detail, dlen);
    if (why != RTML_REJECT_NONE || !queued) return why;
    single_ctx c = {out, RTML_REJECT_NONE};
    rtml_pipeline_flush(p, emit_single, &c);
    if (c.why != RTML_REJECT_NONE) rtml_fail(detail, dlen, "the model failed on this record");
    return c.why;
}

/* Sections: "features", "model" (engine name, learned count, the engine's state), "eval", "classes", "drift"
 * (model version and detector, drift_actions.c), "aggregates" (with an aggregates section). */
void rtml_pipeline_save(const rtml_pipeline *p, const rtml_section *extra, size_t n_extra, rtml_buf *image) {
    size_t own = p->aggregates ? 6 : 5, n = own + n_extra;
    rtml_section *s = calloc(n, sizeof *s);
    if (!s) abort(); /* as buf.h's appends: a few dozen bytes */
    s[0].name = "features", s[1].name = "model", s[2].name = "eval", s[3].name = "classes", s[4].name = "drift";
    rtml_featurizer_save(p->features, &s[0].payload);
    rtml_w_str(&s[1].payload, p->engine->ops->name, strlen(p->engine->ops->name));
    rtml_w_u64(&s[1].payload, p->engine->learned);
    p->engine->ops->save(p->engine, &s[1].payload);
    rtml_eval_save(&p->eval, &s[2].payload);
    rtml_w_u32(&s[3].payload, (uint32_t)p->n_classes);
    for (size_t i = 0; i < p->n_classes; i++) rtml_w_str(&s[3].payload, p->classes[i], strlen(p->classes[i]));
    rtml_pipeline_drift_save(p, &s[4].payload);
    if (p->aggregates) {
        s[5].name = "aggregates";
        rtml_aggregates_save(p->aggregates, &s[5].payload);
    }
    for (size_t i = 0; i < n_extra; i++) s[own + i] = extra[i];
    rtml_state_encode(s, n, image);
    for (size_t i = 0; i < own; i++) rtml_buf_free(&s[i].payload.buf);
    free(s);
}

/* Class names learned in order of appearance must come back in the same order (they are output indices). */
static int load_classes(rtml_pipeline *p, rtml_reader *r, char *err, size_t errlen) {
    uint32_t n = rtml_r_u32(r);
    if (r->failed || (n && n > p->cfg->model.n_classes))
        return rtml_fail(err, errlen, "state file holds %u class names, the config allows %zu", n,
                         p->cfg->model.n_classes);
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        const char *name = rtml_r_str(r, &len);
        if (!name) return rtml_fail(err, errlen, "state file: class names truncated");
        if (i < p->n_classes) {
            if (strlen(p->classes[i]) != len || memcmp(p->classes[i], name, len) != 0)
                return rtml_fail(err, errlen, "state file: class %u is '%.*s', the config says '%s'", i, (int)len,
                                 name, p->classes[i]);
            continue;
        }
        if (!(p->classes[i] = strndup(name, len))) return rtml_fail(err, errlen, "out of memory");
        p->n_classes = i + 1;
    }
    return 0;
}

int rtml_pipeline_load(rtml_pipeline *p, const void *image, size_t len, char *err, size_t errlen) {
    if (rtml_state_check(image, len, err, errlen) != 0) return -1;
    rtml_reader fr, mr, er, cr, dr, ar;
    if (!rtml_state_section(image, len, "features", &fr) || !rtml_state_section(image, len, "model", &mr))
        return rtml_fail(err, errlen, "state file lacks the features or model section");
    size_t nlen;
    const char *name = rtml_r_str(&mr, &nlen);
    const char *want = p->engine->ops->name;
    if (!name || nlen != strlen(want) || memcmp(name, want, nlen) != 0)
        return rtml_fail(err, errlen, "state file holds a %.*s model, the config makes %s", (int)nlen,
                         name ? name : "", want);
    uint64_t learned = rtml_r_u64(&mr);
    if (rtml_featurizer_load(p->features, &fr, err, errlen) != 0) return -1;
    if (p->engine->ops->load(p->engine, &mr, err, errlen) != 0) return -1;
    if (rtml_state_section(image, len, "eval", &er) && rtml_eval_load(&p->eval, &er, err, errlen) != 0) return -1;
    if (rtml_state_section(image, len, "classes", &cr) && load_classes(p, &cr, err, errlen) != 0) return -1;
    if (rtml_state_section(image, len, "drift", &dr) && rtml_pipeline_drift_load(p, &dr, err, errlen) != 0) return -1;
    if (p->aggregates && !rtml_state_section(image, len, "aggregates", &ar))
        rtml_log(RTML_LOG_WARN, "the checkpoint has no aggregates (made before the config had them): they start empty");
    else if (p->aggregates && rtml_aggregates_load(p->aggregates, &ar, err, errlen) != 0) return -1;
    p->engine->learned = learned;
    return 0;
}

void rtml_pipeline_report_members(const rtml_pipeline *p, double seconds, rtml_buf *out) {
    rtml_buf_printf(out, "\"records\":%llu,\"learned\":%llu,\"errors\":%llu,\"seconds\":",
                    (unsigned long long)p->records, (unsigned long long)p->learned,
                    (unsigned long long)p->rejected);
    rtml_buf_put_double(out, seconds);
    rtml_buf_puts(out, ",\"records_per_second\":");
    rtml_buf_put_double(out, seconds > 0 ? (double)p->records / seconds : 0);
    rtml_buf_puts(out, ",\"errors_by_reason\":{");
    int first = 1;
    for (int r = 1; r < RTML_REJECT__COUNT; r++) {
        if (!p->rejected_by[r]) continue;
        rtml_buf_printf(out, "%s\"%s\":%llu", first ? "" : ",", rtml_reject_name((rtml_reject)r),
                        (unsigned long long)p->rejected_by[r]);
        first = 0;
    }
    rtml_buf_printf(out, "},\"redelivered\":%llu,\"model_learned\":%llu,\"metrics\":{",
                    (unsigned long long)p->redelivered, (unsigned long long)p->engine->learned);
    rtml_eval_json(&p->eval, out);
    rtml_buf_putc(out, '}');
    rtml_pipeline_drift_report(p, out);
    rtml_pipeline_labels_report(p, out);
    rtml_aggregates_report(p->aggregates, out);
}

void rtml_pipeline_report(const rtml_pipeline *p, double seconds, rtml_buf *out) {
    rtml_buf_putc(out, '{');
    rtml_pipeline_report_members(p, seconds, out);
    rtml_buf_putc(out, '}');
}
