/* modelbus.h — model versions shared through a compacted Kafka topic ("the model topic").
 *
 * A trainer publishes each new version of its model as one record; predictors read the topic and switch to
 * the newest version (or the pinned one); `rtml model` lists, shows, pins and rolls back through it. Kafka
 * keeps the versions (compaction keeps the latest record per key), so there is no other store to run.
 *
 * The topic has one partition, so versions and policy records have one order. Records:
 *   key "version/<20-digit version>"  value: a version (below); a null value (tombstone) deletes it
 *   key "policy"                      value: JSON {"pinned":V|null,"rollback":true|false,"at":unix_s,"by":"host:pid"}
 *                                     pinned: predictors serve V instead of the newest; rollback: the trainer
 *                                     also goes back to V and continues learning from it (once: a version
 *                                     published after the policy record means it was applied)
 * A version's value:
 *   "RTMLMV1\n" | u32 little-endian length of the metadata | metadata (JSON object) | zlib stream of the image
 * where the image is an rtml state image (binfmt.h: the model, feature statistics, class names, evaluation,
 * and the trainer's positions), checked by its own CRC once inflated, and the metadata is
 *   {"version":17,"parent":16,"learned":123456,"records":130000,"created":1796300000.123,
 *    "engine":"native/logistic","image_bytes":N,"origin":"host:pid","metrics":{...}}
 * (metrics: the trainer's prequential metrics at publication, the report's "metrics" object).
 *
 * Writers: the trainer's writer is transactional (transactional.id "rtml-models-<topic>"), so a second trainer
 * on the same topic fences the first instead of interleaving version numbers; readers read committed records
 * only. `rtml model` writes policy records with a plain idempotent producer (it must not fence the trainer).
 * Versions can be large (a hashed model of 2^20 weights), so the topic allows records up to 64 MiB
 * (max.message.bytes) and the clients are configured to match. */
#ifndef RTML_MODELBUS_H
#define RTML_MODELBUS_H
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"

#define RTML_MODELBUS_MAX_BYTES (64u << 20) /* the largest record the model topic takes */
/* The largest version value: the record's key and Kafka's record and batch framing fit in what is left. */
#define RTML_MODELBUS_MAX_VALUE (RTML_MODELBUS_MAX_BYTES - 1024u)
/* The largest image a version may inflate to (image_bytes). */
#define RTML_MODELBUS_MAX_IMAGE ((uint64_t)RTML_MODELBUS_MAX_BYTES * 16)

typedef struct {
    int64_t version;      /* >= 1 */
    int64_t parent;       /* the version it continued from; 0: none (a fresh model) */
    uint64_t learned;     /* records the model has learned in total */
    uint64_t records;     /* records the trainer had read when it published */
    double created;       /* unix seconds */
    char engine[64];      /* e.g. "native/logistic" */
    char origin[128];     /* "host:pid" of the publisher */
    char metrics[1024];   /* a JSON object, "{}" when none */
    uint64_t image_bytes; /* the inflated image's length */
} rtml_model_meta;

typedef struct {
    int64_t pinned; /* 0: follow the newest */
    bool rollback;
    double at;
    char by[128];
} rtml_model_policy;

/* ---- record values (pure; fuzzed) ---- */

/* The key of version v ("version/%020lld") into out (>= 32 bytes). */
void rtml_modelbus_version_key(int64_t version, char *out, size_t len);
/* The version a key names (> 0), 0 for the policy key, -1 for any other key. */
int64_t rtml_modelbus_parse_key(const void *key, size_t len);
/* Encode a version's value (the image deflated). The metadata written says image_bytes = len, whatever
 * m->image_bytes holds. 0, or -1 with the reason (image too large, or metadata that decode would refuse:
 * version < 1, parent not in [0, version), metrics not a JSON object, an empty engine, a non-finite time). */
int rtml_modelbus_encode_version(const rtml_model_meta *m, const void *image, size_t len, rtml_buf *out, char *err,
                                 size_t errlen);
/* Decode a version's value: its metadata, and when image is not NULL its inflated image (reset first; at most
 * meta.image_bytes <= RTML_MODELBUS_MAX_BYTES * 16). 0, or -1 with the reason (not a version record, bad
 * metadata, corrupt stream, lengths that disagree). With image NULL the stream is not looked at (listings).
 * Every metadata field is required; unknown ones are ignored; metrics is kept verbatim (< 1024 bytes). */
int rtml_modelbus_decode_version(const void *value, size_t len, rtml_model_meta *m, rtml_buf *image, char *err,
                                 size_t errlen);
/* A policy's value (out reset first). rollback without a pinned version is written as false. */
void rtml_modelbus_encode_policy(const rtml_model_policy *p, rtml_buf *out);
/* pinned and rollback are required (rollback true needs a pinned version), at and by optional. 0, or -1. */
int rtml_modelbus_decode_policy(const void *value, size_t len, rtml_model_policy *p, char *err, size_t errlen);
/* The metadata as the JSON object it was published with (no newline). */
void rtml_modelbus_meta_json(const rtml_model_meta *m, rtml_buf *out);

/* ---- the topic ---- */

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
