/* repartition.c — input records re-keyed by the aggregates' key through an internal topic (repartition.h). */
#include "run/repartition.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/rtml.h"
#include "codec/codec.h"
#include "config/aggregates.h"
#include "kafka/kafka.h"
#include "kafka/topics.h"
#include "run/clients.h"

#define TOPIC_WAIT_MS 30000

/* The largest partition count of the input topics (the internal topic spreads keys as widely). */
static int input_partitions(rd_kafka_t *rk, const rtml_config *cfg, char *err, size_t errlen) {
    int most = 0;
    for (size_t i = 0; i < cfg->input.n_topics; i++) {
        int n = 0;
        bool led;
        int found = rtml_kafka_topic_look_up(rk, cfg->input.topics[i], TOPIC_WAIT_MS, &n, &led, err, errlen);
        if (found < 0) return -1;
        if (!found) return rtml_fail(err, errlen, "input topic %s does not exist: the aggregates' repartition topic "
                                     "takes its partition count from it", cfg->input.topics[i]);
        if (n > most) most = n;
    }
    return most;
}

/* The topic, created (or found) with the input's partition count, through a client of its own. */
static int ensure(rtml_runner *r, char *err, size_t errlen) {
    rd_kafka_conf_t *c = rtml_run_client_conf(&r->cfg, false, NULL, NULL, err, errlen);
    rd_kafka_t *rk = c ? rtml_kafka_new(RD_KAFKA_PRODUCER, c, err, errlen) : NULL;
    if (!rk) return -1;
    int parts = input_partitions(rk, &r->cfg, err, errlen), rc = -1;
    if (parts > 0) {
        rc = rtml_kafka_ensure_topic(rk, "the aggregates' repartition topic", r->repart.topic, parts, NULL,
                                     TOPIC_WAIT_MS, err, errlen);
        if (rc == 0)
            rtml_log(RTML_LOG_INFO, "aggregates keyed by %s: records re-keyed through %s (%d partitions)",
                     rtml_aggregates_repartition_key(&r->cfg), r->repart.topic, parts);
    }
    rd_kafka_destroy(rk);
    return rc;
}

int rtml_run_repartition_open(rtml_runner *r, char *err, size_t errlen) {
    const char *key = rtml_aggregates_repartition_key(&r->cfg);
    if (!key) return 0;
    const char *group = rtml_config_kafka(&r->cfg, "group.id");
    const char *name = r->cfg.aggregates.repartition_topic;
    size_t len = (group ? strlen(group) : 4) + 16;
    if (!(r->repart.topic = name ? strdup(name) : malloc(len))) return rtml_fail(err, errlen, "out of memory");
    if (!name) snprintf(r->repart.topic, len, "%s-aggregates", group ? group : "rtml");
    if (!(r->repart.key = rtml_decoder_open(&r->cfg, &key, 1, err, errlen))) return -1;
    return ensure(r, err, errlen);
}

void rtml_run_repartition_close(rtml_runner *r) {
    rtml_decoder_close(r->repart.key);
    free(r->repart.topic);
    r->repart.key = NULL;
    r->repart.topic = NULL;
}

bool rtml_run_repartitions(const rtml_runner *r, const char *topic) {
    return r->repart.topic && strcmp(topic, r->repart.topic) != 0 &&
           !(r->cfg.label.topic && !strcmp(topic, r->cfg.label.topic));
}

bool rtml_run_repartitioned(const rtml_runner *r, const char *topic) {
    return r->repart.topic && !strcmp(topic, r->repart.topic);
}

rtml_reject rtml_run_repartition_key(rtml_runner *r, const rd_kafka_message_t *m, const char **key, size_t *len,
                                     char *detail, size_t dlen) {
    const char *field = rtml_aggregates_repartition_key(&r->cfg);
    if (rtml_decode(r->repart.key, m->payload ? m->payload : "", m->len, &r->repart.value, detail, dlen) != 0)
        return RTML_REJECT_MALFORMED;
    *key = rtml_value_text(&r->repart.value, r->repart.text, sizeof r->repart.text, len);
    if (*key) return RTML_REJECT_NONE;
    bool missing = r->repart.value.type == RTML_V_ABSENT || r->repart.value.type == RTML_V_NULL;
    rtml_fail(detail, dlen, "the aggregates' key %s is %s", field, missing ? "missing" : "neither text nor a number");
    return missing ? RTML_REJECT_MISSING_FIELD : RTML_REJECT_WRONG_TYPE;
}

/* A header's bytes, or NULL. */
static const void *header(const rd_kafka_message_t *m, const char *name, size_t *len) {
    rd_kafka_headers_t *h;
    const void *v;
    *len = 0;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, name, &v, len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return *len = 0, NULL;
    return v;
}

static bool header_i64(const rd_kafka_message_t *m, const char *name, int64_t *out) {
    size_t len;
    const char *v = header(m, name, &len);
    char buf[32];
    if (!v || !len || len >= sizeof buf) return false;
    memcpy(buf, v, len);
    buf[len] = '\0';
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (*end) return false;
    *out = x;
    return true;
}

void rtml_run_repartition_origin(rtml_runner *r, const rd_kafka_message_t *m, rtml_origin *o) {
    size_t len;
    const char *topic = header(m, "rtml.source.topic", &len);
    int64_t partition, offset;
    if (!topic || len >= sizeof r->repart.src_topic || !header_i64(m, "rtml.source.partition", &partition) ||
        !header_i64(m, "rtml.source.offset", &offset))
        return; /* not one rtml wrote: its own coordinates stand */
    memcpy(r->repart.src_topic, topic, len);
    r->repart.src_topic[len] = '\0';
    o->topic = r->repart.src_topic;
    o->partition = (int32_t)partition;
    o->offset = offset;
    o->key = header(m, "rtml.key", &o->key_len);
}

const void *rtml_run_output_key(const rtml_runner *r, const rd_kafka_message_t *m, size_t *len) {
    if (rtml_run_repartitioned(r, rd_kafka_topic_name(m->rkt))) return header(m, "rtml.key", len);
    *len = m->key_len;
    return m->key;
}
