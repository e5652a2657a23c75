/* core.h — the pipeline's state (rtml_pipeline), which its files share: pipeline.c runs records through it,
 * model.c reads labels and versions off it, drift_actions.c and labels.c act on it, swap.c exchanges its model.
 * Everyone else reaches it through pipeline.h. */
#ifndef RTML_PIPELINE_CORE_H
#define RTML_PIPELINE_CORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/batch.h"
#include "base/buf.h"
#include "codec/codec.h"
#include "config/config.h"
#include "pipeline/drift.h"
#include "engine/engine.h"
#include "pipeline/eval.h"
#include "features/featurize.h"
#include "base/histogram.h"
#include "base/record.h"

/* A detected drift (drift_actions.c). */
typedef struct {
    double at_wall;          /* when (unix seconds) */
    uint64_t evaluated;      /* the detector had seen this many errors (records evaluated) */
    uint64_t change_at;      /* where it estimates the change began, in the same count */
    double estimation;       /* its estimate of the error rate (or mean |error|) when it fired */
    int64_t model_version;   /* the version that drifted (an action makes the next one) */
    rtml_drift_action action;
} rtml_drift_event;

/* Where a record came from (Kafka coordinates; replay uses the file name and line number). learned: the
 * model already learned this record (re-delivered after a restart, checkpoint.h): it is scored again, but
 * not learned, evaluated or counted in feature statistics a second time. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int learned;
    int64_t timestamp_ms; /* the record's timestamp (label.topic's clocks); replay: its line number */
    const void *key;      /* the Kafka key (label.key/feature_key "@key"), or NULL */
    size_t key_len;
} rtml_origin;

struct rtml_join;

typedef struct rtml_pipeline {
    const rtml_config *cfg; /* borrowed */
    rtml_decoder *decoder;  /* reads the featurizer's fields, then raw engine fields, then the label's */
    rtml_value *values;
    size_t n_values;
    size_t n_feature_values; /* values[0 .. n_feature_values): the featurizer's */
    size_t n_raw;            /* then this many fields the engine reads raw (TensorFlow inputs) */
    rtml_featurizer *features;
    rtml_engine *engine;
    rtml_encoder *encoder;   /* output.format avro or protobuf (codec.h); NULL: JSON predictions */
    uint64_t encode_failures;
    rtml_eval eval;
    rtml_batch batch;       /* records waiting for the engine */
    size_t batch_size;      /* the engine's batch (native: 1) */
    double *scores;         /* batch_size * n_outputs (a batch never holds more than batch_size records) */
    rtml_row *learn_rows;   /* the labelled rows of a batch */
    double *learn_y;
    rtml_buf encoded;       /* a batch's predictions, back to back */
    rtml_buf encoded_features; /* output.features_topic: a batch's feature records, back to back */
    size_t *feature_ends;   /* batch_size: where each one ends in encoded_features */
    const char *topic_json_of; /* encode.c: the (interned) topic whose JSON string topic_json holds */
    rtml_buf topic_json;
    size_t *ends;           /* batch_size: where each one ends in encoded */
    uint64_t engine_failures, learn_failures;
    char **classes;         /* multiclass: class names by index (owned), learned or from the config */
    size_t n_classes;
    int64_t model_version;
    size_t max_record_bytes;
    uint64_t records, predicted, learned, rejected;
    uint64_t redelivered; /* records the model had already learned, scored again only */
    uint64_t rejected_by[RTML_REJECT__COUNT];
    /* drift (drift_actions.c) */
    rtml_drift *drift;             /* NULL without a drift section */
    rtml_drift_action drift_action;
    uint64_t drift_events;         /* detections of a rising error so far (kept across restarts) */
    uint64_t drift_improvements;   /* detections of a falling error (a model learning): not acted on */
    rtml_drift_event last_drift;
    bool drift_reset_due;          /* reset: replace the model once the batch is learned */
    bool drift_rollback_due;       /* rollback: the host loads an older checkpoint's model */
    /* label.topic (labels.c): scored records wait for labels from their own topic */
    struct rtml_join *join;        /* NULL without label.topic */
    rtml_decoder *label_decoder;   /* label records (JSON): [key, value], or [value] with key "@key" */
    rtml_value label_values[2];
    rtml_hist label_delay;         /* seconds from a record's timestamp to its label's */
    uint64_t label_records, labels_redelivered, label_join_failures;
    uint64_t unkeyed;              /* scored records without a join key: never learned */
    /* aggregates (features/aggregate.h): NULL without an aggregates section */
    struct rtml_aggregates *aggregates;
    size_t n_agg_inputs;           /* decoded after the label: the aggregates' keys, time and values */
    rtml_value *agg_out;           /* one per aggregate */
    rtml_value *fvalues;           /* the featurizer's values, decoded fields and aggregates in its order */
    int *fsource;                  /* per featurizer value: its decoded value (>= 0), or aggregate j as -1 - j */
    size_t n_fvalues;
    bool serve_only;               /* role predictor: labels are evaluated, never learned; feature statistics
                                    * stay those of the served version */
} rtml_pipeline;

#endif
