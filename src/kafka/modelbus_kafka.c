/* modelbus_kafka.c — the model topic through Kafka (modelbus.h): its creation, the client settings, the
 * reader, the trainer's transactional writer and the policy producer.
 *
 * The topic has one partition, so the reader assigns partition 0 itself instead of joining a group: every
 * reader must see every record, and nothing is ever committed. It reads committed records only, so a version
 * whose transaction aborted (a trainer killed mid-publish) is never seen. Where the topic ends is the last
 * stable offset; with read_committed the consumer's position can step over transaction markers that are
 * never delivered, so "caught up" is known from librdkafka's end-of-partition event, not from the offset of
 * the last record. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "kafka/kafka.h"
#include "kafka/topics.h"
#include "kafka/modelbus_kafka.h"
#include "base/rtml.h"

#define CREATE_WAIT_MS 30000 /* CreateTopics' own timeouts */
#define INIT_TXN_MS 30000    /* an older trainer's open transaction is aborted within this */
#define COMMIT_MS 60000
#define POLICY_ACK_MS 15000
#define POLL_BATCH 256       /* records one reader_poll delivers at most */
#define HEADROOM (1u << 20)  /* a request's or a response's framing around the largest record */

static const char *const MISSING = "it is created by `rtml run` with models.topic";

/* ---- client settings --------------------------------------------------------------------------------- */

static bool starts_with_any(const char *k, const char *const *prefixes) {
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0) return true;
    return false;
}

/* Properties of the user's kafka section a model topic client of this kind leaves out: the other kind's (as
 * `rtml run` does, since librdkafka warns about them); for a reader, the consumer group's (it has no group,
 * and must never commit in the user's); for a producer, transactions, idempotence and acks (the writer is
 * transactional under its own id, the policy producer idempotent and never transactional; both need acks=all,
 * which is librdkafka's default and what idempotence requires). */
static bool left_out(const char *k, rd_kafka_type_t type) {
    static const char *const consumer_only[] = {"group.", "auto.offset.reset", "enable.auto.", "auto.commit.",
                                                "session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.",
                                                "isolation.level", "max.poll.interval.ms", "fetch.", "queued.",
                                                "check.crcs", "enable.partition.eof", NULL};
    static const char *const producer_only[] = {"linger.ms", "acks", "compression.", "batch.", "enable.idempotence",
                                                "queue.buffering.", "message.timeout.ms", "retries", "transaction",
                                                "delivery.timeout.ms", "request.required.acks", "partitioner", NULL};
    static const char *const group[] = {"group.", "enable.auto.", "auto.commit.", "session.timeout.ms",
                                        "heartbeat.interval.ms", "partition.assignment.", "max.poll.interval.ms",
                                        "auto.offset.reset", "isolation.level", "enable.partition.eof", NULL};
    static const char *const txn[] = {"transactional.id", "enable.idempotence", "acks", "request.required.acks", NULL};
    if (type == RD_KAFKA_CONSUMER) return starts_with_any(k, producer_only) || starts_with_any(k, group);
    return starts_with_any(k, consumer_only) || starts_with_any(k, txn);
}

rd_kafka_conf_t *rtml_modelbus_conf(const rtml_config *cfg, rd_kafka_type_t type, char *err, size_t errlen) {
    rtml_config view = *cfg;
    rtml_kv *kept = calloc(cfg->n_kafka ? cfg->n_kafka : 1, sizeof *kept);
    if (!kept) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    view.n_kafka = 0;
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (!left_out(cfg->kafka[i].key, type)) kept[view.n_kafka++] = cfg->kafka[i];
    view.kafka = kept;
    char max_request[24], fetch_max[24], receive_max[24];
    snprintf(max_request, sizeof max_request, "%u", RTML_MODELBUS_MAX_BYTES + HEADROOM);
    snprintf(fetch_max, sizeof fetch_max, "%u", RTML_MODELBUS_MAX_BYTES + HEADROOM);
    snprintf(receive_max, sizeof receive_max, "%u", RTML_MODELBUS_MAX_BYTES + 2 * HEADROOM); /* >= fetch + 512 */
    /* Looking the topic up must never create it with the broker's defaults (not compacted, small records). */
    const char *producer[] = {"allow.auto.create.topics", "false", "message.max.bytes", max_request, NULL};
    const char *consumer[] = {"allow.auto.create.topics", "false", "fetch.max.bytes", fetch_max,
                              "receive.message.max.bytes", receive_max, "isolation.level", "read_committed",
                              "enable.partition.eof", "true", "enable.auto.commit", "false",
                              "enable.auto.offset.store", "false", "auto.offset.reset", "earliest", NULL};
    rd_kafka_conf_t *c = rtml_kafka_conf_from_config(&view, type == RD_KAFKA_CONSUMER ? consumer : producer, err,
                                                     errlen);
    free(kept);
    return c;
}

/* ---- the topic --------------------------------------------------------------------------------------- */

int rtml_modelbus_topic_exists(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err, size_t errlen) {
    int partitions;
    bool led;
    return rtml_kafka_topic_look_up(rk, topic, timeout_ms, &partitions, &led, err, errlen);
}

int rtml_modelbus_ensure_topic(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err, size_t errlen) {
    char max_bytes[24];
    snprintf(max_bytes, sizeof max_bytes, "%u", RTML_MODELBUS_MAX_BYTES);
    const char *const configs[] = {"cleanup.policy", "compact", "max.message.bytes", max_bytes, NULL};
    return rtml_kafka_ensure_topic(rk, "the model topic", topic, 1, configs, timeout_ms, err, errlen);
}

/* ---- the reader -------------------------------------------------------------------------------------- */

struct rtml_modelbus_reader {
    rd_kafka_t *rk;
    char *topic;
    bool with_images;
    int64_t next;          /* where reading stands: after the last record, or where the partition ended */
    rtml_buf image;        /* the last version's image (reused) */
    char last_error[256];  /* the last transient client error, for a timeout's message */
};

static bool missing_topic(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
           e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
}

static int fail_missing(const char *topic, char *err, size_t errlen) {
    return rtml_fail(err, errlen, "the model topic %s does not exist (%s)", topic, MISSING);
}

static int set_props(rd_kafka_conf_t *conf, const char *const *kv, char *err, size_t errlen) {
    char why[512];
    for (; kv[0]; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], why, sizeof why) != RD_KAFKA_CONF_OK)
            return rtml_fail(err, errlen, "kafka property %s: %s", kv[0], why);
    return 0;
}

rtml_modelbus_reader *rtml_modelbus_reader_open(rd_kafka_conf_t *conf, const char *topic, bool with_images,
                                                char *err, size_t errlen) {
    /* What the reader's semantics rest on, whatever conf holds. librdkafka's consumer wants a group.id even
     * for assign(); this one never joins nor commits (and the user's group must not see this topic). */
    static const char *const must[] = {"isolation.level", "read_committed", "enable.partition.eof", "true",
                                       "enable.auto.commit", "false", "enable.auto.offset.store", "false",
                                       "group.id", "rtml-modelbus-reader", NULL};
    rtml_modelbus_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->topic = strdup(topic))) {
        free(r);
        rd_kafka_conf_destroy(conf);
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    r->with_images = with_images;
    r->image = (rtml_buf)RTML_BUF_INIT;
    if (set_props(conf, must, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        rtml_modelbus_reader_close(r);
        return NULL;
    }
    if (!(r->rk = rtml_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen))) {
        rtml_modelbus_reader_close(r);
        return NULL;
    }
    rd_kafka_poll_set_consumer(r->rk); /* client errors come through rd_kafka_consumer_poll too */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_assign(r->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e) {
        rtml_fail(err, errlen, "reading the model topic %s: %s", topic, rd_kafka_err2str(e));
        rtml_modelbus_reader_close(r);
        return NULL;
    }
    return r;
}

static void deliver_version(rtml_modelbus_reader *r, const rd_kafka_message_t *msg, int64_t v,
                            const rtml_modelbus_handlers *h, void *ctx) {
    if (!msg->payload) {
        if (h->on_delete) h->on_delete(ctx, v, msg->offset);
        return;
    }
    rtml_model_meta meta;
    char why[RTML_ERRLEN];
    if (rtml_modelbus_decode_version(msg->payload, msg->len, &meta, r->with_images ? &r->image : NULL, why,
                                     sizeof why) != 0) {
        if (h->on_bad) h->on_bad(ctx, msg->offset, why);
    } else if (meta.version != v) {
        snprintf(why, sizeof why, "the key names version %" PRId64 ", the value version %" PRId64, v, meta.version);
        if (h->on_bad) h->on_bad(ctx, msg->offset, why);
    } else if (h->on_version) {
        h->on_version(ctx, &meta, r->with_images ? &r->image : NULL, msg->offset);
    }
}

/* One record to the handlers. A tombstone on the policy key clears the policy (follow the newest). */
static void deliver(rtml_modelbus_reader *r, const rd_kafka_message_t *msg, const rtml_modelbus_handlers *h,
                    void *ctx) {
    int64_t v = rtml_modelbus_parse_key(msg->key, msg->key_len);
    char why[RTML_ERRLEN];
    if (v > 0) {
        deliver_version(r, msg, v, h, ctx);
    } else if (v < 0) {
        snprintf(why, sizeof why, "a key that is neither \"policy\" nor \"version/<20 digits>\"");
        if (h->on_bad) h->on_bad(ctx, msg->offset, why);
    } else {
        rtml_model_policy p = {0};
        if (msg->payload && rtml_modelbus_decode_policy(msg->payload, msg->len, &p, why, sizeof why) != 0) {
            if (h->on_bad) h->on_bad(ctx, msg->offset, why);
        } else if (h->on_policy) {
            h->on_policy(ctx, &p, msg->offset);
        }
    }
}

/* A consumer event: 1 a record (delivered), 0 nothing to deliver, -1 an error that stops reading. */
static int handle(rtml_modelbus_reader *r, const rd_kafka_message_t *msg, const rtml_modelbus_handlers *h, void *ctx,
                  char *err, size_t errlen) {
    if (!msg->err) {
        if (msg->offset >= r->next) r->next = msg->offset + 1;
        deliver(r, msg, h, ctx);
        return 1;
    }
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (msg->offset > r->next) r->next = msg->offset;
        return 0;
    }
    if (missing_topic(msg->err)) return fail_missing(r->topic, err, errlen);
    if (msg->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || msg->err == RD_KAFKA_RESP_ERR__FATAL ||
        msg->err == RD_KAFKA_RESP_ERR__AUTHENTICATION || msg->err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)
        return rtml_fail(err, errlen, "reading the model topic %s: %s", r->topic, rd_kafka_message_errstr(msg));
    snprintf(r->last_error, sizeof r->last_error, "%s", rd_kafka_message_errstr(msg)); /* librdkafka retries */
    return 0;
}

int rtml_modelbus_reader_poll(rtml_modelbus_reader *r, int timeout_ms, const rtml_modelbus_handlers *h, void *ctx,
                              char *err, size_t errlen) {
    static const rtml_modelbus_handlers none = {0};
    if (!h) h = &none;
    int n = 0;
    rd_kafka_message_t *msg = rd_kafka_consumer_poll(r->rk, timeout_ms);
    while (msg) {
        int rc = handle(r, msg, h, ctx, err, errlen);
        rd_kafka_message_destroy(msg);
        if (rc < 0) return -1;
        n += rc;
        if (n >= POLL_BATCH) break;
        msg = rd_kafka_consumer_poll(r->rk, 0);
    }
    return n;
}

int rtml_modelbus_reader_catch_up(rtml_modelbus_reader *r, int timeout_ms, const rtml_modelbus_handlers *h,
                                  void *ctx, char *err, size_t errlen) {
    double deadline = rtml_now() + timeout_ms / 1000.0;
    int64_t lo, hi; /* with read_committed, hi is the last stable offset */
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(r->rk, r->topic, 0, &lo, &hi, timeout_ms);
    if (missing_topic(e)) return fail_missing(r->topic, err, errlen);
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT ||
        e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || e == RD_KAFKA_RESP_ERR__RESOLVE)
        return rtml_fail(err, errlen, "no broker answered within %d s (%s), so the model topic %s cannot be read",
                         timeout_ms / 1000, rd_kafka_err2str(e), r->topic);
    if (e)
        return rtml_fail(err, errlen, "cannot read where the model topic %s ends: %s", r->topic, rd_kafka_err2str(e));
    while (r->next < hi) {
        double left = deadline - rtml_now();
        if (left <= 0)
            return rtml_fail(err, errlen, "the model topic %s was not read to its end (offset %" PRId64 ") within "
                             "%d s: at offset %" PRId64 "%s%s", r->topic, hi, timeout_ms / 1000, r->next,
                             r->last_error[0] ? "; last error: " : "", r->last_error);
        if (rtml_modelbus_reader_poll(r, left < 0.1 ? (int)(left * 1000) + 1 : 100, h, ctx, err, errlen) < 0) return -1;
    }
    return 0;
}

void rtml_modelbus_reader_close(rtml_modelbus_reader *r) {
    if (!r) return;
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    rtml_buf_free(&r->image);
    free(r->topic);
    free(r);
}

/* ---- the trainer's writer ---------------------------------------------------------------------------- */

struct rtml_modelbus_writer {
    rd_kafka_t *rk;
    char *topic;
    bool dead;   /* a fatal error: the producer cannot be used again */
    bool fenced; /* that error was another writer taking over (told to every later call too) */
};

static bool fencing(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

rtml_modelbus_writer *rtml_modelbus_writer_open(rd_kafka_conf_t *conf, const char *topic, char *err, size_t errlen) {
    rtml_modelbus_writer *w = calloc(1, sizeof *w);
    char txid[512];
    snprintf(txid, sizeof txid, "rtml-models-%s", topic);
    const char *const must[] = {"transactional.id", txid, NULL};
    if (!w || !(w->topic = strdup(topic))) {
        free(w);
        rd_kafka_conf_destroy(conf);
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    if (set_props(conf, must, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        rtml_modelbus_writer_close(w);
        return NULL;
    }
    if (!(w->rk = rtml_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen)) ||
        rtml_modelbus_ensure_topic(w->rk, topic, CREATE_WAIT_MS, err, errlen) != 0) {
        rtml_modelbus_writer_close(w);
        return NULL;
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(w->rk, INIT_TXN_MS);
    if (e) {
        rtml_fail(err, errlen, "cannot write to the model topic %s (transactional.id %s): %s", topic, txid,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        w->dead = true;
        rtml_modelbus_writer_close(w);
        return NULL;
    }
    return w;
}

/* A failed transactional call: aborts what can be aborted, marks the writer dead on a fatal error, and tells
 * a fencing (another trainer took over) apart. Always -1. */
static int txn_failed(rtml_modelbus_writer *w, rd_kafka_error_t *e, const char *what, bool *fenced, char *err,
                      size_t errlen) {
    rtml_fail(err, errlen, "model topic %s: %s: %s", w->topic, what, rd_kafka_error_string(e));
    if (rd_kafka_error_is_fatal(e)) {
        char why[256];
        w->dead = true;
        if (fencing(rd_kafka_error_code(e)) || fencing(rd_kafka_fatal_error(w->rk, why, sizeof why)))
            *fenced = w->fenced = true;
    } else if (rd_kafka_error_txn_requires_abort(e)) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(w->rk, COMMIT_MS);
        if (a && rd_kafka_error_is_fatal(a)) w->dead = true;
        if (a) rd_kafka_error_destroy(a);
    }
    rd_kafka_error_destroy(e);
    return -1;
}

static int begin(rtml_modelbus_writer *w, bool *fenced, char *err, size_t errlen) {
    *fenced = w->fenced;
    if (w->fenced) return rtml_fail(err, errlen, "another writer took the model topic %s over", w->topic);
    if (w->dead) return rtml_fail(err, errlen, "the model topic's writer was stopped by an earlier fatal error");
    rd_kafka_error_t *e = rd_kafka_begin_transaction(w->rk);
    return e ? txn_failed(w, e, "begin transaction", fenced, err, errlen) : 0;
}

/* Commit, retrying what librdkafka says may succeed on a retry, within COMMIT_MS in all. */
static int commit(rtml_modelbus_writer *w, bool *fenced, char *err, size_t errlen) {
    double deadline = rtml_now() + COMMIT_MS / 1000.0;
    for (;;) {
        double left = deadline - rtml_now();
        rd_kafka_error_t *e = rd_kafka_commit_transaction(w->rk, left > 0.1 ? (int)(left * 1000) : 100);
        if (!e) return 0;
        if (!rd_kafka_error_is_retriable(e) || rtml_now() >= deadline)
            return txn_failed(w, e, "commit", fenced, err, errlen);
        rd_kafka_error_destroy(e);
    }
}

/* After begin: produce failed before the transaction held anything of ours. */
static int produce_failed(rtml_modelbus_writer *w, rd_kafka_resp_err_t e, bool *fenced, char *err, size_t errlen) {
    rtml_fail(err, errlen, "model topic %s: cannot send the record: %s", w->topic, rd_kafka_err2str(e));
    if (fencing(e) || e == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        w->dead = true;
        *fenced = w->fenced = fencing(e) || fencing(rd_kafka_fatal_error(w->rk, why, sizeof why));
        return -1;
    }
    rd_kafka_error_t *a = rd_kafka_abort_transaction(w->rk, COMMIT_MS);
    if (a && rd_kafka_error_is_fatal(a)) w->dead = true;
    if (a) rd_kafka_error_destroy(a);
    return -1;
}

int rtml_modelbus_publish(rtml_modelbus_writer *w, const rtml_model_meta *m, const void *image, size_t len,
                          bool *fenced, char *err, size_t errlen) {
    *fenced = false;
    rtml_buf value = RTML_BUF_INIT;
    if (rtml_modelbus_encode_version(m, image, len, &value, err, errlen) != 0) {
        rtml_buf_free(&value);
        return -1;
    }
    if (begin(w, fenced, err, errlen) != 0) {
        rtml_buf_free(&value);
        return -1;
    }
    char key[32];
    rtml_modelbus_version_key(m->version, key, sizeof key);
    /* RD_KAFKA_MSG_F_FREE: librdkafka takes the value (up to 64 MiB) instead of copying it. */
    rd_kafka_resp_err_t e = rd_kafka_producev(w->rk, RD_KAFKA_V_TOPIC(w->topic), RD_KAFKA_V_PARTITION(0),
                                              RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(value.data, value.len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END);
    if (e) {
        rtml_buf_free(&value); /* not taken on failure */
        return produce_failed(w, e, fenced, err, errlen);
    }
    return commit(w, fenced, err, errlen);
}

int rtml_modelbus_delete(rtml_modelbus_writer *w, const int64_t *versions, size_t n, bool *fenced, char *err,
                         size_t errlen) {
    *fenced = false;
    if (!n) return 0;
    if (begin(w, fenced, err, errlen) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        rtml_modelbus_version_key(versions[i], key, sizeof key);
        rd_kafka_resp_err_t e = rd_kafka_producev(w->rk, RD_KAFKA_V_TOPIC(w->topic), RD_KAFKA_V_PARTITION(0),
                                                  RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(NULL, 0),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) return produce_failed(w, e, fenced, err, errlen);
    }
    return commit(w, fenced, err, errlen);
}

void rtml_modelbus_writer_close(rtml_modelbus_writer *w) {
    if (!w) return;
    if (w->rk) rd_kafka_destroy(w->rk);
    free(w->topic);
    free(w);
}

/* ---- the policy producer ----------------------------------------------------------------------------- */

/* The delivery report of the one policy record (its opaque points at this). */
typedef struct {
    bool done;
    rd_kafka_resp_err_t err;
} policy_ack;

static void on_policy_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque) {
    (void)rk, (void)opaque;
    policy_ack *ack = msg->_private;
    ack->done = true;
    ack->err = msg->err;
}

int rtml_modelbus_put_policy(const rtml_config *cfg, const char *topic, const rtml_model_policy *p, char *err,
                             size_t errlen) {
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", POLICY_ACK_MS);
    const char *const mine[] = {"enable.idempotence", "true", "message.timeout.ms", timeout, NULL};
    rd_kafka_conf_t *conf = rtml_modelbus_conf(cfg, RD_KAFKA_PRODUCER, err, errlen);
    if (!conf) return -1;
    if (set_props(conf, mine, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_policy_delivery);
    rd_kafka_t *rk = rtml_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!rk) return -1;
    int found = rtml_modelbus_topic_exists(rk, topic, POLICY_ACK_MS, err, errlen);
    if (found <= 0) {
        rd_kafka_destroy(rk);
        return found < 0 ? -1 : fail_missing(topic, err, errlen);
    }
    rtml_buf value = RTML_BUF_INIT;
    rtml_modelbus_encode_policy(p, &value);
    policy_ack ack = {false, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                              RD_KAFKA_V_KEY("policy", 6), RD_KAFKA_V_VALUE(value.data, value.len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&ack),
                                              RD_KAFKA_V_END);
    rtml_buf_free(&value);
    int rc = 0;
    if (e) {
        rc = rtml_fail(err, errlen, "model topic %s: cannot send the policy record: %s", topic, rd_kafka_err2str(e));
    } else {
        rd_kafka_flush(rk, POLICY_ACK_MS + 5000);
        if (!ack.done)
            rc = rtml_fail(err, errlen, "model topic %s: the policy record was not acknowledged within %d s", topic,
                           POLICY_ACK_MS / 1000 + 5);
        else if (ack.err)
            rc = rtml_fail(err, errlen, "model topic %s: the policy record was refused: %s", topic,
                           rd_kafka_err2str(ack.err));
    }
    rd_kafka_destroy(rk);
    return rc;
}
