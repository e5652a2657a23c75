/* drift_actions.h — the drift detector on the pipeline's error stream and what it does to the model
 * (drift_actions.c has the story). */
#ifndef RTML_PIPELINE_DRIFT_ACTIONS_H
#define RTML_PIPELINE_DRIFT_ACTIONS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/core.h"

/* Drift (drift_actions.c): open the configured detector (0, or -1 with a reason); feed it one evaluated
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

#endif
