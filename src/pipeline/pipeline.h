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

#include "base/buf.h"
#include "pipeline/core.h"


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
/* During emit, with output.features_topic: the item's features record ({"features":{...},"model_version":..,
 * "source":{...}}, a view valid during the call). false without one. */
bool rtml_pipeline_features_of(const rtml_pipeline *p, const rtml_batch_item *item, rtml_buf *view);

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

/* The final report (docs/design.md's shape), one JSON object without newline; its members alone, for a host
 * that adds its own (run/report.h). */
void rtml_pipeline_report(const rtml_pipeline *p, double seconds, rtml_buf *out);
void rtml_pipeline_report_members(const rtml_pipeline *p, double seconds, rtml_buf *out);

#endif
