/* modelbus_kafka.h — the model topic's clients (modelbus_kafka.c): creating the topic, the reader every predictor
 * and `rtml model` use, the trainer's transactional writer, and policy records. The records themselves and the
 * topic's design are modelbus.h's. */
#ifndef RTML_MODELBUS_KAFKA_H
#define RTML_MODELBUS_KAFKA_H
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "kafka/modelbus.h"

/* Create the model topic if it does not exist: 1 partition, the broker's default replication factor,
 * cleanup.policy=compact, max.message.bytes=RTML_MODELBUS_MAX_BYTES. rk: any client (its admin API).
 * 0 (created or already there), or -1 with the reason. */
int rtml_modelbus_ensure_topic(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err, size_t errlen);
/* Whether the topic exists (from the cluster's full topic list, so the look-up never auto-creates it): 1 yes,
 * 0 no, or -1 with the reason (no broker answered within timeout_ms). */
int rtml_modelbus_topic_exists(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err, size_t errlen);

/* Client settings for the model topic on top of the config's kafka section (librdkafka properties of the
 * other client kind left out, as rtml run does): a new conf the caller owns, or NULL with the reason. Both
 * kinds: allow.auto.create.topics=false. Producer: message.max.bytes = 65 MiB; the section's transactional.id,
 * enable.idempotence and acks are left out (the writer and the policy producer set their own). Consumer: the
 * section's group settings are left out; fetch.max.bytes 65 MiB, receive.message.max.bytes 66 MiB,
 * read_committed, partition EOF events, no commits. */
rd_kafka_conf_t *rtml_modelbus_conf(const rtml_config *cfg, rd_kafka_type_t type, char *err, size_t errlen);

/* A reader: a consumer of the topic's one partition from its start, with no group (nothing is committed),
 * read_committed. The callbacks see every record in topic order; a record whose value cannot be decoded is
 * reported through on_bad (and skipped), and so is one with an unknown key or a version value whose metadata
 * names another version than its key. A tombstone on the policy key reaches on_policy as the empty policy
 * (pinned 0, rollback false). Any callback may be NULL. */
typedef struct {
    void (*on_version)(void *ctx, const rtml_model_meta *m, const rtml_buf *image, int64_t offset);
    void (*on_delete)(void *ctx, int64_t version, int64_t offset);
    void (*on_policy)(void *ctx, const rtml_model_policy *p, int64_t offset);
    void (*on_bad)(void *ctx, int64_t offset, const char *why);
} rtml_modelbus_handlers;

typedef struct rtml_modelbus_reader rtml_modelbus_reader;

/* conf is taken (destroyed on failure too). with_images: false inflates no image (on_version gets NULL),
 * for listings. The image on_version gets is the reader's, valid until the callback returns. NULL with the
 * reason. rtml_modelbus_reader_close(NULL) does nothing. */
rtml_modelbus_reader *rtml_modelbus_reader_open(rd_kafka_conf_t *conf, const char *topic, bool with_images,
                                                char *err, size_t errlen);
/* Deliver what arrives within timeout_ms (at most 256 records a call: it returns as soon as some arrived).
 * Returns the number of records delivered (bad ones included), or -1 with the reason (the topic does not
 * exist, not authorized, a fatal client error); transient client errors (a broker down) are retried by
 * librdkafka and only remembered for catch_up's timeout message. */
int rtml_modelbus_reader_poll(rtml_modelbus_reader *r, int timeout_ms, const rtml_modelbus_handlers *h, void *ctx,
                              char *err, size_t errlen);
/* Read up to the end the topic had when this is called (its high watermark, committed records only):
 * 0, or -1 with the reason (timeout_ms passed first). */
int rtml_modelbus_reader_catch_up(rtml_modelbus_reader *r, int timeout_ms, const rtml_modelbus_handlers *h,
                                  void *ctx, char *err, size_t errlen);
void rtml_modelbus_reader_close(rtml_modelbus_reader *r);

/* The trainer's writer (transactional, see above). conf is taken. It creates the topic if missing
 * (rtml_modelbus_ensure_topic), then takes the transactional id, fencing an older writer. NULL with the reason
 * (another trainer holds the transactional id and does not give way within the timeout, the broker refuses). */
typedef struct rtml_modelbus_writer rtml_modelbus_writer;
rtml_modelbus_writer *rtml_modelbus_writer_open(rd_kafka_conf_t *conf, const char *topic, char *err, size_t errlen);
/* Publish one version and wait until it is committed: 0, or -1 with the reason. *fenced is set when another
 * trainer took over the topic (the writer cannot be used again). */
int rtml_modelbus_publish(rtml_modelbus_writer *w, const rtml_model_meta *m, const void *image, size_t len,
                          bool *fenced, char *err, size_t errlen);
/* Delete versions (tombstones), in one transaction: 0, or -1 with the reason. */
int rtml_modelbus_delete(rtml_modelbus_writer *w, const int64_t *versions, size_t n, bool *fenced, char *err,
                         size_t errlen);
void rtml_modelbus_writer_close(rtml_modelbus_writer *w);

/* A policy record through a plain producer (for `rtml model pin|rollback`): 0, or -1 with the reason. */
int rtml_modelbus_put_policy(const rtml_config *cfg, const char *topic, const rtml_model_policy *p, char *err,
                             size_t errlen);

#endif
