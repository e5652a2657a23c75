/* pipeline.h — the record pipeline that `run` (Kafka) and `replay` (a file) share, one record at a time:
 *
 *   decode (JSON scanner, configured fields only) -> features -> engine.predict -> evaluate -> engine.learn
 *   (when the record has a label) -> encode the prediction record.
 *
 * Records are processed strictly in order, one by one, so `replay` over a file and `run` over the same
 * records in one partition produce the same predictions and metrics. A record that cannot be decoded or
 * featurised is rejected with a reason (counted, and the stream goes on); it never stops the pipeline. */
#ifndef RTML_PIPELINE_H
#define RTML_PIPELINE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "codec/json.h"
#include "config.h"
#include "engine/engine.h"
#include "eval.h"
#include "featurize.h"

/* Why a record was rejected; the names are stable (logs, reports, later the dead-letter headers). */
typedef enum {
    RTML_REJECT_NONE = 0,
    RTML_REJECT_MALFORMED,     /* not valid JSON, or not an object */
    RTML_REJECT_MISSING_FIELD, /* a feature's field is absent or null */
    RTML_REJECT_WRONG_TYPE,    /* a feature's field is not a number (or boolean) */
    RTML_REJECT_BAD_LABEL,     /* label present but not usable for the task (e.g. not 0/1) */
    RTML_REJECT_TOO_LARGE,     /* record larger than the limit */
    RTML_REJECT__COUNT
} rtml_reject;

const char *rtml_reject_name(rtml_reject r);

/* Where a record came from (Kafka coordinates; replay uses the file name and line number). */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
} rtml_origin;

typedef struct {
    const rtml_config *cfg; /* borrowed */
    rtml_json_paths *paths; /* features' fields, then the label's */
    rtml_json_span *spans;
    rtml_features features;
    rtml_engine *engine;
    rtml_eval eval;
    double *raw, *x;
    int64_t model_version;
    size_t max_record_bytes;
    uint64_t records, predicted, learned, rejected;
    uint64_t rejected_by[RTML_REJECT__COUNT];
} rtml_pipeline;

int rtml_pipeline_init(rtml_pipeline *p, const rtml_config *cfg, char *err, size_t errlen);
void rtml_pipeline_free(rtml_pipeline *p);

/* Process one record. On success appends the prediction record (JSON, no newline) to out and returns
 * RTML_REJECT_NONE. Otherwise appends nothing, counts the reason, writes details into detail, and returns it. */
rtml_reject rtml_pipeline_process(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                  rtml_buf *out, char *detail, size_t detail_len);

/* The final report (DESIGN.md's shape), one JSON object without newline. */
void rtml_pipeline_report(const rtml_pipeline *p, double seconds, rtml_buf *out);

#endif
