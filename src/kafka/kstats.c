/* kstats.c — librdkafka's statistics JSON into rtml_kstats (see kstats.h), with jansson. */
#include "kafka/kstats.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

/* An integer field of obj, or -1 when absent or not a number. */
static int64_t int_field(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    return -1;
}

/* A copy of a string field of obj, or of fallback when absent. NULL only when out of memory. */
static char *str_field(const json_t *obj, const char *key, const char *fallback) {
    const char *s = json_string_value(json_object_get(obj, key));
    return strdup(s ? s : fallback);
}

static void free_partition(rtml_kstats_partition *p) {
    free(p->topic);
    free(p->fetch_state);
}

void rtml_kstats_free(rtml_kstats *s) {
    for (size_t i = 0; i < s->n; i++) free_partition(&s->parts[i]);
    free(s->parts);
    free(s->name);
    free(s->type);
    memset(s, 0, sizeof *s);
}

/* The partition id of an entry: its "partition" field, else its key in "partitions". */
static int32_t partition_id(const json_t *p, const char *key) {
    const json_t *v = json_object_get(p, "partition");
    return json_is_integer(v) ? (int32_t)json_integer_value(v) : (int32_t)strtol(key, NULL, 10);
}

static int fill_partition(rtml_kstats_partition *out, const char *topic, const json_t *p, const char *key) {
    memset(out, 0, sizeof *out);
    out->partition = partition_id(p, key);
    out->consumer_lag = int_field(p, "consumer_lag");
    out->consumer_lag_stored = int_field(p, "consumer_lag_stored");
    out->hi_offset = int_field(p, "hi_offset");
    out->lo_offset = int_field(p, "lo_offset");
    out->ls_offset = int_field(p, "ls_offset");
    out->committed_offset = int_field(p, "committed_offset");
    out->stored_offset = int_field(p, "stored_offset");
    out->app_offset = int_field(p, "app_offset");
    out->next_offset = int_field(p, "next_offset");
    out->fetchq_cnt = int_field(p, "fetchq_cnt");
    out->desired = json_is_true(json_object_get(p, "desired"));
    out->topic = strdup(topic);
    out->fetch_state = str_field(p, "fetch_state", "");
    return out->topic && out->fetch_state ? 0 : -1;
}

/* The "partitions" object of a topic entry, checked; NULL with the reason in err. */
static const json_t *partitions_of(const json_t *t, const char *topic, char *err, size_t errlen) {
    const json_t *parts = json_is_object(t) ? json_object_get(t, "partitions") : NULL;
    if (!json_is_object(parts)) {
        rtml_fail(err, errlen, "statistics JSON: topic \"%s\" has no \"partitions\" object", topic);
        return NULL;
    }
    return parts;
}

/* Appends the partitions of one topic entry (but the UA partition -1) to out->parts. */
static int add_topic(rtml_kstats *out, const char *key, const json_t *t, char *err, size_t errlen) {
    const json_t *parts = partitions_of(t, key, err, errlen);
    if (!parts) return -1;
    const char *topic = json_string_value(json_object_get(t, "topic"));
    if (!topic) topic = key;
    size_t room = out->n + json_object_size(parts);
    rtml_kstats_partition *grown = realloc(out->parts, (room ? room : 1) * sizeof *grown);
    if (!grown) return rtml_fail(err, errlen, "out of memory parsing statistics");
    out->parts = grown;
    const char *pkey;
    json_t *p;
    json_object_foreach((json_t *)parts, pkey, p) {
        if (!json_is_object(p))
            return rtml_fail(err, errlen, "statistics JSON: partition %s of \"%s\" is not an object", pkey, topic);
        if (partition_id(p, pkey) < 0) continue; /* the internal UA (unassigned) partition */
        rtml_kstats_partition *dst = &out->parts[out->n];
        int rc = fill_partition(dst, topic, p, pkey);
        out->n++; /* counted even when incomplete, so rtml_kstats_free releases it */
        if (rc != 0) return rtml_fail(err, errlen, "out of memory parsing statistics");
    }
    return 0;
}

static int by_topic_partition(const void *a, const void *b) {
    const rtml_kstats_partition *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static int parse_root(const json_t *root, rtml_kstats *out, char *err, size_t errlen) {
    if (!json_is_object(root)) return rtml_fail(err, errlen, "statistics JSON: the document is not an object");
    out->name = str_field(root, "name", "");
    out->type = str_field(root, "type", "");
    if (!out->name || !out->type) return rtml_fail(err, errlen, "out of memory parsing statistics");
    out->rx_msgs = int_field(root, "rxmsgs");
    out->tx_msgs = int_field(root, "txmsgs");
    out->replyq = int_field(root, "replyq");
    out->msg_cnt = int_field(root, "msg_cnt");
    int64_t age_us = int_field(root, "age");
    out->age_s = age_us >= 0 ? (double)age_us / 1e6 : -1;
    const json_t *topics = json_object_get(root, "topics");
    if (topics && !json_is_object(topics)) return rtml_fail(err, errlen, "statistics JSON: \"topics\" is not an object");
    const char *key;
    json_t *t;
    json_object_foreach((json_t *)topics, key, t)
        if (add_topic(out, key, t, err, errlen) != 0) return -1;
    if (out->n > 1) qsort(out->parts, out->n, sizeof *out->parts, by_topic_partition);
    return 0;
}

int rtml_kstats_parse(const char *json, size_t len, rtml_kstats *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root)
        return rtml_fail(err, errlen, "statistics JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    int rc = parse_root(root, out, err, errlen);
    json_decref(root);
    if (rc != 0) rtml_kstats_free(out);
    return rc;
}
