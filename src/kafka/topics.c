/* topics.c — topics rtml creates for itself (topics.h). */
#include "kafka/topics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/rtml.h"

#define CREATE_WAIT_MS 30000 /* CreateTopics' own timeouts */

int rtml_kafka_topic_look_up(rd_kafka_t *rk, const char *topic, int timeout_ms, int *partitions, bool *led, char *err,
                             size_t errlen) {
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e)
        return rtml_fail(err, errlen, "no answer from the brokers within %d s (%s)", timeout_ms / 1000,
                         rd_kafka_err2str(e));
    int found = 0;
    for (int i = 0; i < md->topic_cnt && !found; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        if (strcmp(t->topic, topic) != 0 || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
        found = 1;
        *partitions = t->partition_cnt;
        *led = t->partition_cnt > 0;
        for (int p = 0; p < t->partition_cnt; p++)
            if (t->partitions[p].leader < 0) *led = false;
    }
    rd_kafka_metadata_destroy(md);
    return found;
}

static int create(rd_kafka_t *rk, const char *what, const char *topic, int partitions, const char *const *configs,
                  char *err, size_t errlen) {
    char why[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, why, sizeof why); /* -1: the default */
    if (!nt) return rtml_fail(err, errlen, "%s %s: %s", what, topic, why);
    for (size_t i = 0; configs && configs[i]; i += 2) rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(ao, CREATE_WAIT_MS, why, sizeof why);
    rd_kafka_AdminOptions_set_operation_timeout(ao, CREATE_WAIT_MS, why, sizeof why);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, CREATE_WAIT_MS + 5000);
    rd_kafka_queue_destroy(q);
    if (!ev) return rtml_fail(err, errlen, "creating %s %s: no answer within %d s", what, topic, CREATE_WAIT_MS / 1000 + 5);
    int rc = 0;
    if (rd_kafka_event_error(ev)) {
        rc = rtml_fail(err, errlen, "creating %s %s: %s", what, topic, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_UNKNOWN;
        const char *msg = n ? rd_kafka_topic_result_error_string(res[0]) : NULL;
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) /* a racing creator is as good */
            rc = rtml_fail(err, errlen, "creating %s %s: %s", what, topic, msg ? msg : rd_kafka_err2str(e));
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

int rtml_kafka_ensure_topic(rd_kafka_t *rk, const char *what, const char *topic, int partitions,
                            const char *const *configs, int timeout_ms, char *err, size_t errlen) {
    int have = 0;
    bool led = false;
    int found = rtml_kafka_topic_look_up(rk, topic, timeout_ms, &have, &led, err, errlen);
    if (found < 0) return -1;
    if (found && have < 1) return rtml_fail(err, errlen, "%s %s has no partitions", what, topic);
    if (found && partitions > 0 && have != partitions)
        return rtml_fail(err, errlen, "%s %s has %d partitions, it needs %d", what, topic, have, partitions);
    if (!found && create(rk, what, topic, partitions, configs, err, errlen) != 0) return -1;
    /* Every partition led, so the first produce or fetch does not race the creation. */
    double deadline = rtml_now() + timeout_ms / 1000.0;
    while (!led) {
        if (rtml_now() >= deadline)
            return rtml_fail(err, errlen, "%s %s has no leader after %d s", what, topic, timeout_ms / 1000);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (rtml_kafka_topic_look_up(rk, topic, timeout_ms, &have, &led, err, errlen) < 0) return -1;
    }
    return 0;
}
