/* pipeline.h — the record pipeline that `run` (Kafka) and `replay` (a file) share, one record at a time:
 *
 *   decode (the input format's decoder, configured fields only) -> featurize -> engine.predict -> evaluate
 *   -> engine.learn (when the record has a label) -> encode the prediction record.
 *
 * Labels: 0/1 or true/false for binary models, a number for regression, and for multiclass models a class
 * name (string) or integer, mapped to a class index through model.classes or, when the config lists none,
 * a vocabulary learned in order of first appearance (up to model.n_classes, default 2... set by config).
 *
 * Records are processed strictly in order, one by one, so `replay` over a file and `run` over the same
 * records in one partition produce the same predictions and metrics. A record that cannot be decoded or
 * featurised is rejected with a reason (counted, and the stream goes on); it never stops the pipeline. */
#ifndef RTML_PIPELINE_H
#define RTML_PIPELINE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "codec/codec.h"
#include "config.h"
#include "engine/engine.h"
#include "eval.h"
#include "featurize.h"
#include "record.h"

/* Where a record came from (Kafka coordinates; replay uses the file name and line number). */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
} rtml_origin;

typedef struct {
    const rtml_config *cfg; /* borrowed */
    rtml_decoder *decoder;  /* reads the featurizer's fields, then the label's */
    rtml_value *values;
    size_t n_values;
    rtml_featurizer *features;
    rtml_engine *engine;
    rtml_avro_encoder *avro; /* output.format avro; NULL: JSON predictions */
    uint64_t encode_failures;
    rtml_eval eval;
    double *scores;         /* n_outputs */
    char **classes;         /* multiclass: class names by index (owned), learned or from the config */
    size_t n_classes;
    int64_t model_version;
    size_t max_record_bytes;
    uint64_t records, predicted, learned, rejected;
    uint64_t rejected_by[RTML_REJECT__COUNT];
} rtml_pipeline;

int rtml_pipeline_init(rtml_pipeline *p, const rtml_config *cfg, char *err, size_t errlen);
void rtml_pipeline_free(rtml_pipeline *p);

/* Process one record. On success appends the prediction record (JSON, no newline) to out (unless out is
 * NULL: nobody reads the predictions, e.g. replay without --output) and returns
 * RTML_REJECT_NONE; when the input was a header rather than a record (CSV), appends nothing and returns
 * RTML_REJECT_NONE too (callers check out->len). Otherwise appends nothing, counts the reason, writes details into detail, and returns it. */
rtml_reject rtml_pipeline_process(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                  rtml_buf *out, char *detail, size_t detail_len);

/* Save the model and feature statistics as a state file image (binfmt.h); load them back. */
void rtml_pipeline_save(const rtml_pipeline *p, rtml_buf *image);
int rtml_pipeline_load(rtml_pipeline *p, const void *image, size_t len, char *err, size_t errlen);

/* The final report (DESIGN.md's shape), one JSON object without newline. */
void rtml_pipeline_report(const rtml_pipeline *p, double seconds, rtml_buf *out);

#endif
