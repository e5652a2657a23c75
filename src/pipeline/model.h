/* model.h — what the pipeline's files read off its model: a label as the model's target, the
 * predicted class, the model's version (model.c). */
#ifndef RTML_PIPELINE_MODEL_H
#define RTML_PIPELINE_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/core.h"

/* A label's value as the model's target: 1 with *y, 0 when absent or null, or -reason with a detail. */
int rtml_pipeline_label_value(rtml_pipeline *p, const rtml_value *v, const char *field, double *y, char *detail,
                              size_t dlen);
/* Multiclass: the predicted class of a record's scores (the most probable, the first on ties). */
size_t rtml_pipeline_best_class(const rtml_pipeline *p, const double *scores);

/* The model's version as prediction records show it. */
int64_t rtml_pipeline_model_version(const rtml_pipeline *p);

#endif
