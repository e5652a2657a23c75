/* encode.c — prediction records (encode.h).
 *
 * JSON: {"prediction":P,"score":S,"model_version":V,"source":{"topic":T,"partition":N,"offset":O}} (source only
 * when the record has an origin; then the engine's extra outputs). The hot path of every scored record, so it
 * reserves the worst case once and writes through a cursor: numbers by numconv.h, the topic's JSON text kept
 * from the last record (a consumer reads one topic or a few), literals as fixed-size copies. */
#include "pipeline/encode.h"

#include <math.h>
#include <string.h>

#include "base/json_write.h"
#include "base/numconv.h"
#include "features/featurize.h"
#include "pipeline/model.h"

#define LIT(w, s) (memcpy((w), (s), sizeof(s) - 1), (w) + sizeof(s) - 1)
#define FIXED_BYTES 128 /* the literals of a record, with room to spare */

static char *put_i64(char *w, int64_t v) { return w + rtml_format_i64(v, w); }

/* The cursor back after writing through out's own functions (which may move out->data): room for need more bytes
 * reserved again, the record's worst case from here on, as encode_json reserved it up front. */
static char *resume(rtml_buf *out, size_t need) {
    rtml_buf_reserve(out, need);
    return out->data + out->len;
}

/* A score: a float32 engine's as "%.9g" (buf.h), a double as numconv's shortest round-trip text. */
static char *put_score(const rtml_pipeline *p, rtml_buf *out, char *w, double v, size_t need) {
    if (!isfinite(v)) return LIT(w, "null");
    if (!p->engine->float32) return w + rtml_format_double(v, w);
    out->len = (size_t)(w - out->data);
    rtml_buf_put_float(out, v);
    return resume(out, need);
}

/* The topic's JSON string literal, escaped once per topic (batch.h interns topic names: one pointer each). */
static const rtml_buf *topic_json(rtml_pipeline *p, const char *topic) {
    if (p->topic_json_of != topic) {
        rtml_buf_reset(&p->topic_json);
        rtml_json_put_string(&p->topic_json, topic, strlen(topic));
        p->topic_json_of = topic;
    }
    return &p->topic_json;
}

/* The predicted value, then ",\"score\":" and the score: binary 0/1, regression the estimate, multiclass the
 * most probable class (its name when known, else its index). need: as resume(). */
static char *put_prediction(const rtml_pipeline *p, const double *s, rtml_buf *out, char *w, size_t need) {
    if (p->engine->task == RTML_TASK_BINARY) {
        *w++ = s[0] >= 0.5 ? '1' : '0';
        w = LIT(w, ",\"score\":");
        return put_score(p, out, w, s[0], need);
    }
    if (p->engine->task == RTML_TASK_REGRESSION) {
        w = put_score(p, out, w, s[0], need);
        w = LIT(w, ",\"score\":");
        return put_score(p, out, w, s[0], need);
    }
    size_t best = rtml_pipeline_best_class(p, s);
    if (best < p->n_classes) {
        out->len = (size_t)(w - out->data);
        rtml_json_put_string(out, p->classes[best], strlen(p->classes[best]));
        w = resume(out, need);
    } else {
        w = put_i64(w, (int64_t)best);
    }
    w = LIT(w, ",\"score\":");
    return put_score(p, out, w, s[best], need);
}

/* ,"model_version":V and, for a record with an origin, ,"source":{"topic":T,"partition":N,"offset":O}: room for
 * version_source_bytes(topic) must be reserved at w. */
static size_t version_source_bytes(const rtml_buf *topic) {
    return FIXED_BYTES + 3 * RTML_I64_CHARS + (topic ? topic->len : 0);
}

static char *put_version_source(const rtml_pipeline *p, const rtml_buf *topic, const rtml_batch_item *o, char *w) {
    w = LIT(w, ",\"model_version\":");
    w = put_i64(w, rtml_pipeline_model_version(p));
    if (!topic) return w;
    w = LIT(w, ",\"source\":{\"topic\":");
    memcpy(w, topic->data, topic->len);
    w = LIT(w + topic->len, ",\"partition\":");
    w = put_i64(w, o->partition);
    w = LIT(w, ",\"offset\":");
    w = put_i64(w, o->offset);
    *w++ = '}';
    return w;
}

static void encode_json(rtml_pipeline *p, const double *s, size_t i, const rtml_batch_item *o, const rtml_row *row,
                        rtml_buf *out) {
    const rtml_buf *topic = o->topic ? topic_json(p, o->topic) : NULL;
    size_t need = 2 * RTML_DOUBLE_CHARS + version_source_bytes(topic); /* the record but for a class name */
    char *w = resume(out, need);
    w = LIT(w, "{\"prediction\":");
    w = put_prediction(p, s, out, w, need);
    w = put_version_source(p, topic, o, w);
    out->len = (size_t)(w - out->data);
    if (p->engine->ops->extras) p->engine->ops->extras(p->engine, i, out);
    if (p->cfg->output.features) { /* the feature vector as served */
        rtml_buf_puts(out, ",\"features\":");
        rtml_featurizer_row_json(p->features, row, out);
    }
    rtml_buf_putc(out, '}');
}

/* output.format avro or protobuf — the same fields as the JSON record, through the encoder (codec.h). */
static int encode_binary(const rtml_pipeline *p, const double *s, const rtml_batch_item *o, rtml_buf *out,
                         char *detail, size_t dlen) {
    rtml_prediction_fields f = {.model_version = rtml_pipeline_model_version(p), .score = s[0], .is_class = 1};
    if (p->engine->task == RTML_TASK_BINARY) f.value = s[0] >= 0.5;
    else if (p->engine->task == RTML_TASK_REGRESSION) f.value = s[0], f.is_class = 0;
    else {
        size_t k = rtml_pipeline_best_class(p, s);
        f.score = s[k];
        f.value = (double)k;
        f.label = k < p->n_classes ? p->classes[k] : NULL;
    }
    if (o->topic) f.topic = o->topic, f.partition = o->partition, f.offset = o->offset;
    return rtml_encode_prediction(p->encoder, &f, out, detail, dlen);
}

int rtml_pipeline_encode(rtml_pipeline *p, const double *s, size_t i, const rtml_batch_item *o, const rtml_row *row,
                         rtml_buf *out, char *detail, size_t dlen) {
    if (p->encoder) return encode_binary(p, s, o, out, detail, dlen);
    encode_json(p, s, i, o, row, out);
    return 0;
}

void rtml_pipeline_encode_features(rtml_pipeline *p, const rtml_batch_item *o, const rtml_row *row, rtml_buf *out) {
    const rtml_buf *topic = o->topic ? topic_json(p, o->topic) : NULL;
    rtml_buf_puts(out, "{\"features\":");
    rtml_featurizer_row_json(p->features, row, out);
    char *w = put_version_source(p, topic, o, resume(out, version_source_bytes(topic)));
    *w++ = '}';
    out->len = (size_t)(w - out->data);
}
