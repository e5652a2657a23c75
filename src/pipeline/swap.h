/* swap.h — a model version loaded beside the running pipeline and swapped in (swap.c). */
#ifndef RTML_PIPELINE_SWAP_H
#define RTML_PIPELINE_SWAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/core.h"
#include "config/config.h"

/* A model version loaded beside the running pipeline, for a swap between two batches (swap.c).
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

#endif
