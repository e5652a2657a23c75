/* labels.c — labels that arrive later, on a topic of their own (label.topic; docs/labels.md).
 *
 * A scored record with a join key waits in the join store (join.h) with its feature row and its scores. When
 * its label arrives, those scores are evaluated against it (the prequential metrics and the drift detector see
 * the prediction that was actually served, made before the label existed) and the stored row is learned: the
 * same test-then-train as inline labels, with the delay the world imposes. A label that comes first waits for
 * its record, which is then learned as soon as it is scored.
 *
 * Exactly once across restarts: the store is a checkpoint section ("joins"), written together with the model
 * and with both topics' positions. A feature record below its partition's learn_next is already in the store
 * (or was joined, or evicted) and is scored without being stored again; a label record below its partition's
 * learn_next was already applied and is skipped (origin->learned, set by the caller from the positions). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/join.h"
#include "base/log.h"
#include "pipeline/drift_actions.h"
#include "pipeline/labels.h"
#include "pipeline/model.h"
#include "base/rtml.h"

/* Label delays span milliseconds (a click) to days (a chargeback): seconds, 1-10 steps up to 30 days. */
static const double DELAY_BOUNDS[] = {0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 21600, 86400, 604800, 2592000};

static bool key_is_kafka(const char *k) { return strcmp(k, "@key") == 0; }

/* A duration in milliseconds, saturated (a config may say ttl: 1e300). */
static int64_t to_ms(double s) { return s * 1000 >= 9.2e18 ? INT64_MAX : (int64_t)(s * 1000); }

int rtml_pipeline_labels_open(rtml_pipeline *p, char *err, size_t errlen) {
    const rtml_config *cfg = p->cfg;
    if (!cfg->label.topic) return 0;
    rtml_shape shape = rtml_featurizer_shape(p->features);
    rtml_join_limits lim = {.n_dense = shape.n_dense, .n_outputs = p->engine->n_outputs,
                            .ttl_ms = to_ms(cfg->label.ttl_s), .wait_ms = to_ms(cfg->label.wait_s),
                            .max_pending = cfg->label.max_pending, .max_early = cfg->label.max_early};
    if (!(p->join = rtml_join_new(&lim)) || rtml_hist_init(&p->label_delay, DELAY_BOUNDS, sizeof DELAY_BOUNDS / sizeof DELAY_BOUNDS[0]) != 0)
        return rtml_fail(err, errlen, "out of memory");
    /* label records are JSON whatever the feature stream's format: a copy of the config says so to the decoder */
    rtml_config json = *cfg;
    json.input.format = RTML_FMT_JSON;
    const char *fields[2];
    size_t n = 0;
    if (!key_is_kafka(cfg->label.key)) fields[n++] = cfg->label.key;
    fields[n++] = cfg->label.value;
    p->label_decoder = rtml_decoder_open(&json, fields, n, err, errlen);
    return p->label_decoder ? 0 : -1;
}

void rtml_pipeline_labels_free(rtml_pipeline *p) {
    rtml_join_free(p->join);
    p->join = NULL;
    rtml_decoder_close(p->label_decoder);
    p->label_decoder = NULL;
    rtml_hist_free(&p->label_delay);
}

/* A join key from a decoded value (a string, or an integer as its decimal text, so that 42 and "42" meet) or
 * from the Kafka key. 0 when there is none. */
static int key_of(const rtml_value *v, const char *ptr, const rtml_origin *o, uint64_t *key) {
    if (key_is_kafka(ptr)) {
        if (!o || !o->key) return 0;
        *key = rtml_join_key(o->key, o->key_len);
        return 1;
    }
    if (v->type == RTML_V_STRING) {
        *key = rtml_join_key(v->str, v->len);
        return 1;
    }
    if (v->type == RTML_V_NUMBER && v->is_int) {
        char num[32];
        int n = snprintf(num, sizeof num, "%lld", (long long)v->i64);
        *key = rtml_join_key(num, (size_t)n);
        return 1;
    }
    return 0;
}

int rtml_pipeline_feature_key(rtml_pipeline *p, const rtml_origin *origin, uint64_t *key) {
    return key_of(&p->values[p->n_values - 1], p->cfg->label.feature_key, origin, key);
}

/* Evaluate scores against y (prequential metrics, drift), then learn row unless serving only. */
static void learn_one(rtml_pipeline *p, const rtml_row *row, const double *scores, double y) {
    rtml_eval_add(&p->eval, scores, y);
    rtml_pipeline_drift_observe(p, scores, y);
    if (p->engine->serve_only || p->serve_only) return;
    if (rtml_engine_learn(p->engine, row, &y, 1) != 0) {
        p->learn_failures++;
        rtml_log_every(RTML_LOG_ERROR, p->learn_failures, 10, 10, "the model failed to learn from a joined record");
        return;
    }
    p->learned++;
}

static void joined(rtml_pipeline *p, const rtml_join_match *m) {
    learn_one(p, &m->row, m->scores, m->y);
    double delay = ((double)m->label_ts - (double)m->feature_ts) / 1000.0;
    rtml_hist_add(&p->label_delay, delay > 0 ? delay : 0);
}

static void join_failed(rtml_pipeline *p) {
    rtml_log_every(RTML_LOG_ERROR, ++p->label_join_failures, 10, 10,
                   "out of memory: a record or label could not wait for its join (counted)");
}

void rtml_pipeline_join(rtml_pipeline *p, const rtml_row *row, const double *scores, const rtml_batch_item *it) {
    rtml_join_match m;
    rtml_join_result res = rtml_join_put_features(p->join, it->join_key, it->ts_ms, row, scores, &m);
    if (res == RTML_JOIN_MATCHED) joined(p, &m);
    else if (res == RTML_JOIN_NOMEM) join_failed(p);
}

rtml_reject rtml_pipeline_label(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                char *detail, size_t dlen) {
    const rtml_config *cfg = p->cfg;
    p->label_records++;
    if (origin && origin->learned) { /* applied before the restart: in the checkpointed model and store */
        p->labels_redelivered++;
        return RTML_REJECT_NONE;
    }
    rtml_reject why = RTML_REJECT_NONE;
    if (len > p->max_record_bytes) {
        rtml_fail(detail, dlen, "label record of %zu bytes exceeds the limit of %zu", len, p->max_record_bytes);
        why = RTML_REJECT_TOO_LARGE;
    } else if (rtml_decode(p->label_decoder, doc, len, p->label_values, detail, dlen) != 0) {
        why = RTML_REJECT_MALFORMED;
    }
    uint64_t key = 0;
    const rtml_value *value = &p->label_values[key_is_kafka(cfg->label.key) ? 0 : 1];
    double y = 0;
    if (why == RTML_REJECT_NONE && !key_of(&p->label_values[0], cfg->label.key, origin, &key)) {
        rtml_fail(detail, dlen, "label record has no usable join key %s (a string or an integer)", cfg->label.key);
        why = RTML_REJECT_MISSING_FIELD;
    }
    if (why == RTML_REJECT_NONE) {
        int got = rtml_pipeline_label_value(p, value, cfg->label.value, &y, detail, dlen);
        if (got == 0) rtml_fail(detail, dlen, "label record has no label %s", cfg->label.value);
        if (got <= 0) why = got == 0 ? RTML_REJECT_MISSING_FIELD : (rtml_reject)-got;
    }
    if (why != RTML_REJECT_NONE) {
        p->rejected++;
        p->rejected_by[why]++;
        return why;
    }
    rtml_join_match m;
    rtml_join_result res = rtml_join_put_label(p->join, key, origin ? origin->timestamp_ms : 0, y, &m);
    if (res == RTML_JOIN_MATCHED) joined(p, &m);
    else if (res == RTML_JOIN_NOMEM) join_failed(p);
    char err[RTML_ERRLEN];
    if (p->drift_reset_due && rtml_pipeline_reset_model(p, err, sizeof err) != 0)
        rtml_log(RTML_LOG_ERROR, "drift: the model could not be reset (%s); the current one goes on", err);
    return RTML_REJECT_NONE;
}

void rtml_pipeline_joins_save(const rtml_pipeline *p, rtml_writer *w) { rtml_join_save(p->join, w); }

int rtml_pipeline_joins_load(rtml_pipeline *p, rtml_reader *r, char *err, size_t errlen) {
    return rtml_join_load(p->join, r, err, errlen);
}

void rtml_pipeline_labels_report(const rtml_pipeline *p, rtml_buf *out) {
    if (!p->join) return;
    rtml_join_stats s;
    rtml_join_stats_get(p->join, &s);
    uint64_t applied = s.labels; /* labels read and joined, waiting, duplicated, late or unknown */
    rtml_buf_printf(out,
                    ",\"labels\":{\"records\":%llu,\"redelivered\":%llu,\"joined\":%llu,\"joined_early\":%llu,"
                    "\"duplicates\":%llu,\"late\":%llu,\"unknown\":%llu,\"waiting\":%zu,\"pending\":%zu,"
                    "\"stored\":%llu,\"duplicate_records\":%llu,\"unkeyed\":%llu,\"evicted\":{\"ttl\":%llu,"
                    "\"capacity\":%llu},\"failures\":%llu,\"hit_rate\":",
                    (unsigned long long)p->label_records, (unsigned long long)p->labels_redelivered,
                    (unsigned long long)s.joined, (unsigned long long)s.joined_early,
                    (unsigned long long)s.duplicate_labels, (unsigned long long)s.late_labels,
                    (unsigned long long)s.unknown_labels, s.early, s.pending, (unsigned long long)s.stored,
                    (unsigned long long)s.duplicate_features, (unsigned long long)p->unkeyed,
                    (unsigned long long)s.evicted_ttl, (unsigned long long)s.evicted_capacity,
                    (unsigned long long)p->label_join_failures);
    rtml_buf_put_double(out, applied ? (double)s.joined / (double)applied : 0);
    rtml_buf_printf(out, ",\"store_bytes\":%zu,\"bytes_per_pending\":", s.bytes);
    rtml_buf_put_double(out, s.pending ? (double)s.bytes / (double)s.pending : 0);
    rtml_buf_puts(out, ",\"delay_seconds\":{\"p50\":");
    double q50 = rtml_hist_quantile(&p->label_delay, NULL, 0.5), q99 = rtml_hist_quantile(&p->label_delay, NULL, 0.99);
    rtml_buf_put_double(out, isnan(q50) ? 0 : q50);
    rtml_buf_puts(out, ",\"p99\":");
    rtml_buf_put_double(out, isnan(q99) ? 0 : q99);
    rtml_buf_puts(out, "}}");
}
