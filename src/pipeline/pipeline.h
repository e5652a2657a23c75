/* pipeline.h — the record pipeline that `run` (Kafka) and `replay` (a file) share, one record at a time:
 *
 *   decode (the input format's decoder, configured fields only) -> featurize -> engine.predict -> evaluate
 *   -> engine.learn (when the record has a label) -> encode the prediction record.
 *
 * Labels: 0/1 or true/false for binary models, a number for regression, and for multiclass models a class
 * name (string) or integer, mapped to a class index through model.classes or, when the config lists none,
 * a vocabulary learned in order of first appearance (up to model.n_classes, default 2... set by config).
 *
 * Records are processed in order, in micro-batches: the native engines take batches of one (score, then
 * learn, record by record); the TensorFlow engine scores a batch in one session run, then learns its labelled
 * records. `replay` over a file and `run` over the same records in one partition produce the same predictions
 * and metrics (replay makes full batches; run also closes a batch after the engine's max_delay). A record
 * that cannot be decoded or featurised is rejected with a reason (counted, and the stream goes on); it never
 * stops the pipeline. */
#ifndef RTML_PIPELINE_H
#define RTML_PIPELINE_H
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

/* A detected drift (pipeline_drift.c). */
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

typedef struct {
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
    size_t *ends;           /* batch_size: where each one ends in encoded */
    uint64_t engine_failures, learn_failures;
    char **classes;         /* multiclass: class names by index (owned), learned or from the config */
    size_t n_classes;
    int64_t model_version;
    size_t max_record_bytes;
    uint64_t records, predicted, learned, rejected;
    uint64_t redelivered; /* records the model had already learned, scored again only */
    uint64_t rejected_by[RTML_REJECT__COUNT];
    /* drift (pipeline_drift.c) */
    rtml_drift *drift;             /* NULL without a drift section */
    rtml_drift_action drift_action;
    uint64_t drift_events;         /* detections of a rising error so far (kept across restarts) */
    uint64_t drift_improvements;   /* detections of a falling error (a model learning): not acted on */
    rtml_drift_event last_drift;
    bool drift_reset_due;          /* reset: replace the model once the batch is learned */
    bool drift_rollback_due;       /* rollback: the host loads an older checkpoint's model */
    /* label.topic (pipeline_label.c): scored records wait for labels from their own topic */
    struct rtml_join *join;        /* NULL without label.topic */
    rtml_decoder *label_decoder;   /* label records (JSON): [key, value], or [value] with key "@key" */
    rtml_value label_values[2];
    rtml_hist label_delay;         /* seconds from a record's timestamp to its label's */
    uint64_t label_records, labels_redelivered, label_join_failures;
    uint64_t unkeyed;              /* scored records without a join key: never learned */
    bool serve_only;               /* role predictor: labels are evaluated, never learned; feature statistics
                                    * stay those of the served version */
} rtml_pipeline;

int rtml_pipeline_init(rtml_pipeline *p, const rtml_config *cfg, char *err, size_t errlen);
void rtml_pipeline_free(rtml_pipeline *p);

/* Micro-batches. submit() decodes and featurises one record into the pending batch (or rejects it: counted,
 * reason returned, detail filled; or skips a CSV header: *queued = 0 and RTML_REJECT_NONE). When due() —
 * the batch is full, or its oldest record waited the engine's max_delay — flush() scores the batch in one
 * engine call, evaluates and learns its labelled records (test-then-train), and calls emit once per record in
 * order: with the prediction record (JSON or Avro, no newline; a view valid during the call), or with
 * RTML_REJECT_MODEL_ERROR and NULL when the engine failed on the batch. tag is the caller's handle for the
 * record, given back in the item. The native engines use batches of one, so their records are scored and
 * learned one by one. */
typedef void (*rtml_emit_fn)(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *prediction);
rtml_reject rtml_pipeline_submit(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                 uint64_t tag, int *queued, char *detail, size_t detail_len);
bool rtml_pipeline_due(const rtml_pipeline *p, double now);
/* Seconds until the pending batch is due (0: now), or -1 when nothing is pending. */
double rtml_pipeline_wait(const rtml_pipeline *p, double now);
void rtml_pipeline_flush(rtml_pipeline *p, rtml_emit_fn emit, void *ctx);

/* One record through a batch of its own: on success appends the prediction record to out (unless out is
 * NULL) and returns RTML_REJECT_NONE (a CSV header appends nothing; callers check out->len). Otherwise
 * appends nothing, counts the reason, writes details into detail, and returns it. */
rtml_reject rtml_pipeline_process(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                  rtml_buf *out, char *detail, size_t detail_len);

/* Ask the engine to write its learned model where it keeps versions (TensorFlow); 0 when there is nothing
 * to do (native engines' state goes through rtml_pipeline_save). */
int rtml_pipeline_checkpoint(rtml_pipeline *p, char *err, size_t errlen);

/* Save the model, feature statistics, class names and evaluation as a state file image (binfmt.h), with the
 * caller's extra sections (checkpoint.h adds the offsets); load them back: everything or, on any error,
 * nothing the caller should keep using (it discards the pipeline). */
void rtml_pipeline_save(const rtml_pipeline *p, const rtml_section *extra, size_t n_extra, rtml_buf *image);
int rtml_pipeline_load(rtml_pipeline *p, const void *image, size_t len, char *err, size_t errlen);

/* Drift (pipeline_drift.c): open the configured detector (0, or -1 with a reason); feed it one evaluated
 * record's scores and label; replace the model by a fresh one (reset) or by a checkpoint image's model and
 * feature statistics (rollback), each a new model version (0, or -1 with a reason and the current model
 * kept); read the detector count a checkpoint image was written at (false: it has no drift section); save
 * and load the "drift" checkpoint section. */
int rtml_pipeline_drift_open(rtml_pipeline *p, char *err, size_t errlen);
void rtml_pipeline_drift_observe(rtml_pipeline *p, const double *scores, double y);
int rtml_pipeline_reset_model(rtml_pipeline *p, char *err, size_t errlen);
int rtml_pipeline_rollback(rtml_pipeline *p, const void *image, size_t len, char *err, size_t errlen);
bool rtml_pipeline_drift_seen_in(const void *image, size_t len, uint64_t *seen);
void rtml_pipeline_drift_save(const rtml_pipeline *p, rtml_writer *w);
int rtml_pipeline_drift_load(rtml_pipeline *p, rtml_reader *r, char *err, size_t errlen);

/* One drift event as a JSON object: {"t","record","change_at","estimation","detector","action",
 * "model_version"}; and the report's "drift" member (nothing without a detector). */
void rtml_drift_event_json(const rtml_pipeline *p, const rtml_drift_event *e, rtml_buf *out);
void rtml_pipeline_drift_report(const rtml_pipeline *p, rtml_buf *out);

/* label.topic (pipeline_label.c). open: the join store and the label decoder (0, or -1 with a reason); free.
 * feature_key: a scored record's join key from its decoded values or Kafka key (0: it has none). label: one
 * label record — matched to its pending record it is evaluated and learned; re-delivered ones (origin->learned)
 * are skipped; a record that cannot be read is rejected (counted, reason returned, detail filled). joined:
 * a scored record of the batch goes into the store, or is learned at once when its label came first.
 * save/load: the store as the checkpoint's "joins" section. report: the report's "labels" member. */
int rtml_pipeline_labels_open(rtml_pipeline *p, char *err, size_t errlen);
void rtml_pipeline_labels_free(rtml_pipeline *p);
int rtml_pipeline_feature_key(rtml_pipeline *p, const rtml_origin *origin, uint64_t *key);
rtml_reject rtml_pipeline_label(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                char *detail, size_t detail_len);
void rtml_pipeline_join(rtml_pipeline *p, const rtml_row *row, const double *scores, const rtml_batch_item *item);
void rtml_pipeline_joins_save(const rtml_pipeline *p, rtml_writer *w);
int rtml_pipeline_joins_load(rtml_pipeline *p, rtml_reader *r, char *err, size_t errlen);
void rtml_pipeline_labels_report(const rtml_pipeline *p, rtml_buf *out);
/* A label's value as the model's target: 1 with *y, 0 when absent or null, or -reason with a detail. */
int rtml_pipeline_label_value(rtml_pipeline *p, const rtml_value *v, const char *field, double *y, char *detail,
                              size_t dlen);
/* Evaluate scores against y (prequential metrics, drift), then learn row unless serving only. */
void rtml_pipeline_learn_one(rtml_pipeline *p, const rtml_row *row, const double *scores, double y);

/* Multiclass: the predicted class of a record's scores (the most probable, the first on ties). */
size_t rtml_pipeline_best_class(const rtml_pipeline *p, const double *scores);

/* The model's version as prediction records show it. */
int64_t rtml_pipeline_model_version(const rtml_pipeline *p);

/* A model version loaded beside the running pipeline, for a swap between two batches (pipeline_swap.c).
 * load() builds it from a state image on any thread (cfg is only read); swap_model() exchanges the model's
 * parts (engine, feature statistics, class names, version) with p's on p's thread, after which m holds the
 * old ones, for rtml_model_parts_free(). */
typedef struct rtml_model_parts rtml_model_parts;
rtml_model_parts *rtml_model_parts_load(const rtml_config *cfg, const void *image, size_t len, int64_t version,
                                        char *err, size_t errlen);
int64_t rtml_model_parts_version(const rtml_model_parts *m);
uint64_t rtml_model_parts_learned(const rtml_model_parts *m);
void rtml_pipeline_swap_model(rtml_pipeline *p, rtml_model_parts *m);
void rtml_model_parts_free(rtml_model_parts *m);

/* The final report (DESIGN.md's shape), one JSON object without newline. */
void rtml_pipeline_report(const rtml_pipeline *p, double seconds, rtml_buf *out);

#endif
