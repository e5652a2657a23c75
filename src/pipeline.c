/* pipeline.c — the record pipeline shared by `run` and `replay` (see pipeline.h). */
#include "pipeline.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtml.h"

#define DEFAULT_MAX_RECORD_BYTES (1u << 20)
#define EVAL_WINDOW 1000

static const char *const reject_names[RTML_REJECT__COUNT] = {
    [RTML_REJECT_NONE] = "none",
    [RTML_REJECT_MALFORMED] = "malformed",
    [RTML_REJECT_MISSING_FIELD] = "missing_field",
    [RTML_REJECT_WRONG_TYPE] = "wrong_type",
    [RTML_REJECT_BAD_LABEL] = "bad_label",
    [RTML_REJECT_TOO_LARGE] = "too_large",
};

const char *rtml_reject_name(rtml_reject r) { return r < RTML_REJECT__COUNT ? reject_names[r] : "unknown"; }

static bool has_label(const rtml_pipeline *p) { return p->cfg->label.field != NULL; }

static int compile_paths(rtml_pipeline *p, char *err, size_t errlen) {
    const rtml_config *cfg = p->cfg;
    size_t n = cfg->n_features + (has_label(p) ? 1 : 0);
    const char **ptrs = calloc(n, sizeof *ptrs);
    if (!ptrs) return rtml_fail(err, errlen, "out of memory");
    for (size_t i = 0; i < cfg->n_features; i++) ptrs[i] = cfg->features[i].field;
    if (has_label(p)) ptrs[cfg->n_features] = cfg->label.field;
    p->paths = rtml_json_paths_new(ptrs, n, err, errlen);
    free(ptrs);
    if (!p->paths) return -1;
    p->spans = calloc(n, sizeof *p->spans);
    return p->spans ? 0 : rtml_fail(err, errlen, "out of memory");
}

int rtml_pipeline_init(rtml_pipeline *p, const rtml_config *cfg, char *err, size_t errlen) {
    *p = (rtml_pipeline){.cfg = cfg, .model_version = 1, .max_record_bytes = DEFAULT_MAX_RECORD_BYTES};
    size_t n = cfg->n_features;
    if (compile_paths(p, err, errlen) != 0) goto fail;
    if (rtml_features_init(&p->features, cfg, err, errlen) != 0) goto fail;
    p->engine = rtml_engine_open(cfg, n, err, errlen);
    if (!p->engine) goto fail;
    p->raw = calloc(n ? n : 1, sizeof *p->raw);
    p->x = calloc(n ? n : 1, sizeof *p->x);
    if (!p->raw || !p->x || rtml_eval_init(&p->eval, p->engine->task, EVAL_WINDOW) != 0) {
        rtml_fail(err, errlen, "out of memory");
        goto fail;
    }
    return 0;
fail:
    rtml_pipeline_free(p);
    return -1;
}

void rtml_pipeline_free(rtml_pipeline *p) {
    rtml_json_paths_free(p->paths);
    free(p->spans);
    rtml_features_free(&p->features);
    rtml_engine_close(p->engine);
    rtml_eval_free(&p->eval);
    free(p->raw);
    free(p->x);
    *p = (rtml_pipeline){0};
}

static rtml_reject reject(rtml_pipeline *p, rtml_reject why) {
    p->rejected++;
    p->rejected_by[why]++;
    return why;
}

/* Read the numeric field values of the features into p->raw. */
static rtml_reject read_features(rtml_pipeline *p, char *detail, size_t dlen) {
    for (size_t i = 0; i < p->cfg->n_features; i++) {
        const rtml_json_span *s = &p->spans[i];
        const char *field = p->cfg->features[i].field;
        if (s->type == RTML_JSON_ABSENT || s->type == RTML_JSON_NULL) {
            rtml_fail(detail, dlen, "field %s is missing", field);
            return RTML_REJECT_MISSING_FIELD;
        }
        if (rtml_json_as_double(s, &p->raw[i]) != 0 || !isfinite(p->raw[i])) {
            rtml_fail(detail, dlen, "field %s is not a finite number: %.*s", field, (int)(s->len > 40 ? 40 : s->len),
                      s->ptr);
            return RTML_REJECT_WRONG_TYPE;
        }
    }
    return RTML_REJECT_NONE;
}

/* The label, if the record has one: 1 with *y set, 0 when absent, or a reject reason (as a negative). */
static int read_label(rtml_pipeline *p, double *y, char *detail, size_t dlen) {
    if (!has_label(p)) return 0;
    const rtml_json_span *s = &p->spans[p->cfg->n_features];
    if (s->type == RTML_JSON_ABSENT || s->type == RTML_JSON_NULL) return 0;
    if (rtml_json_as_double(s, y) != 0 || !isfinite(*y)) {
        rtml_fail(detail, dlen, "label %s is not a finite number", p->cfg->label.field);
        return -RTML_REJECT_BAD_LABEL;
    }
    if (p->engine->task == RTML_TASK_BINARY && *y != 0.0 && *y != 1.0) {
        rtml_fail(detail, dlen, "label %s must be 0 or 1 for a binary model, got %g", p->cfg->label.field, *y);
        return -RTML_REJECT_BAD_LABEL;
    }
    return 1;
}

static void encode_prediction(const rtml_pipeline *p, double score, const rtml_origin *o, rtml_buf *out) {
    rtml_buf_puts(out, "{\"prediction\":");
    if (p->engine->task == RTML_TASK_BINARY) {
        rtml_buf_putc(out, score >= 0.5 ? '1' : '0');
        rtml_buf_puts(out, ",\"score\":");
    }
    rtml_buf_put_double(out, score);
    if (p->engine->task != RTML_TASK_BINARY) {
        rtml_buf_puts(out, ",\"score\":");
        rtml_buf_put_double(out, score);
    }
    rtml_buf_puts(out, ",\"model_version\":");
    rtml_buf_put_i64(out, p->model_version);
    if (o) {
        rtml_buf_puts(out, ",\"source\":{\"topic\":");
        rtml_json_put_string(out, o->topic, strlen(o->topic));
        rtml_buf_puts(out, ",\"partition\":");
        rtml_buf_put_i64(out, o->partition);
        rtml_buf_puts(out, ",\"offset\":");
        rtml_buf_put_i64(out, o->offset);
        rtml_buf_putc(out, '}');
    }
    rtml_buf_putc(out, '}');
}

rtml_reject rtml_pipeline_process(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                  rtml_buf *out, char *detail, size_t dlen) {
    p->records++;
    if (len > p->max_record_bytes) {
        rtml_fail(detail, dlen, "record of %zu bytes exceeds the limit of %zu", len, p->max_record_bytes);
        return reject(p, RTML_REJECT_TOO_LARGE);
    }
    if (rtml_json_extract(p->paths, doc, len, p->spans, detail, dlen) != 0) return reject(p, RTML_REJECT_MALFORMED);
    rtml_reject why = read_features(p, detail, dlen);
    if (why != RTML_REJECT_NONE) return reject(p, why);
    double y = 0;
    int labelled = read_label(p, &y, detail, dlen);
    if (labelled < 0) return reject(p, (rtml_reject)-labelled);

    rtml_features_apply(&p->features, p->raw, p->x);
    double score;
    rtml_engine_predict(p->engine, p->x, 1, &score);
    p->predicted++;
    if (labelled) {
        rtml_eval_add(&p->eval, score, y); /* test ... */
        rtml_engine_learn(p->engine, p->x, &y, 1); /* ... then train */
        p->learned++;
    }
    encode_prediction(p, score, origin, out);
    return RTML_REJECT_NONE;
}

void rtml_pipeline_report(const rtml_pipeline *p, double seconds, rtml_buf *out) {
    rtml_buf_printf(out, "{\"records\":%llu,\"learned\":%llu,\"errors\":%llu,\"seconds\":",
                    (unsigned long long)p->records, (unsigned long long)p->learned,
                    (unsigned long long)p->rejected);
    rtml_buf_put_double(out, seconds);
    rtml_buf_puts(out, ",\"records_per_second\":");
    rtml_buf_put_double(out, seconds > 0 ? (double)p->records / seconds : 0);
    rtml_buf_puts(out, ",\"errors_by_reason\":{");
    int first = 1;
    for (int r = 1; r < RTML_REJECT__COUNT; r++) {
        if (!p->rejected_by[r]) continue;
        rtml_buf_printf(out, "%s\"%s\":%llu", first ? "" : ",", reject_names[r],
                        (unsigned long long)p->rejected_by[r]);
        first = 0;
    }
    rtml_buf_puts(out, "},\"metrics\":{");
    rtml_eval_json(&p->eval, out);
    rtml_buf_puts(out, "}}");
}
