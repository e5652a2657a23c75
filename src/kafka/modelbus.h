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
 * The topic's clients are modelbus_kafka.h's; this header is the records, pure (and fuzzed).
 *
 * Writers: the trainer's writer is transactional (transactional.id "rtml-models-<topic>"), so a second trainer
 * on the same topic fences the first instead of interleaving version numbers; readers read committed records
 * only. `rtml model` writes policy records with a plain idempotent producer (it must not fence the trainer).
 * Versions can be large (a hashed model of 2^20 weights), so the topic allows records up to 64 MiB
 * (max.message.bytes) and the clients are configured to match. */
#ifndef RTML_MODELBUS_H
#define RTML_MODELBUS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

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

#endif
