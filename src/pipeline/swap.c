/* swap.c — a model loaded beside the running pipeline, then swapped in between two batches.
 *
 * A predictor (role: predictor) serves the versions a trainer publishes (modelbus.h). Loading one — inflating
 * the image, building an engine and a featurizer from it — takes milliseconds to seconds for a large model, so
 * it happens on another thread, into a complete shadow pipeline built from the same config. The scoring thread
 * then exchanges the model's parts (engine, feature statistics, class names) with the shadow's: a few pointer
 * assignments between two batches, so scoring never pauses on a load and never sees half a model. The shadow,
 * now holding the old parts, is freed by whoever called the swap. Evaluation, drift state and the batch stay
 * with the running pipeline: the prequential metrics go on across versions. */
#include <stdlib.h>

#include "pipeline/swap.h"

#include "pipeline/pipeline.h"
#include "base/rtml.h"

struct rtml_model_parts {
    rtml_pipeline shadow; /* a whole pipeline: the simplest object that owns exactly the parts a model needs */
    int64_t version;
};

rtml_model_parts *rtml_model_parts_load(const rtml_config *cfg, const void *image, size_t len, int64_t version,
                                        char *err, size_t errlen) {
    rtml_model_parts *m = calloc(1, sizeof *m);
    if (!m) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    if (rtml_pipeline_init(&m->shadow, cfg, err, errlen) != 0) {
        free(m);
        return NULL;
    }
    if (rtml_pipeline_load(&m->shadow, image, len, err, errlen) != 0) {
        rtml_model_parts_free(m);
        return NULL;
    }
    m->version = version;
    return m;
}

int64_t rtml_model_parts_version(const rtml_model_parts *m) { return m->version; }

uint64_t rtml_model_parts_learned(const rtml_model_parts *m) { return m->shadow.engine->learned; }

void rtml_pipeline_swap_model(rtml_pipeline *p, rtml_model_parts *m) {
    rtml_engine *engine = p->engine;
    rtml_featurizer *features = p->features;
    char **classes = p->classes;
    size_t n_classes = p->n_classes;
    p->engine = m->shadow.engine, m->shadow.engine = engine;
    p->features = m->shadow.features, m->shadow.features = features;
    p->classes = m->shadow.classes, m->shadow.classes = classes;
    p->n_classes = m->shadow.n_classes, m->shadow.n_classes = n_classes;
    int64_t old = p->model_version;
    p->model_version = m->version;
    m->version = old;
}

void rtml_model_parts_free(rtml_model_parts *m) {
    if (!m) return;
    rtml_pipeline_free(&m->shadow);
    free(m);
}
