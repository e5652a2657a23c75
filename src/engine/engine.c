/* engine.c — picks the engine and model the config names (see engine.h for the interface). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rtml.h"

rtml_task rtml_engine_task(const rtml_config *cfg) {
    const char *type = cfg->model.type ? cfg->model.type : "logistic";
    if (strcmp(type, "linear") == 0) return RTML_TASK_REGRESSION;
    if (strcmp(type, "softmax") == 0) return RTML_TASK_MULTICLASS;
    return RTML_TASK_BINARY;
}

rtml_engine *rtml_engine_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen) {
    const char *engine = cfg->model.engine ? cfg->model.engine : "native";
    const char *type = cfg->model.type ? cfg->model.type : "logistic";
    if (strcmp(engine, "native") != 0) {
        rtml_fail(err, errlen, "model.engine: '%s' is not built into this rtml (available: native)", engine);
        return NULL;
    }
    if (strcmp(type, "logistic") == 0) return rtml_linear_open(cfg, RTML_TASK_BINARY, shape, err, errlen);
    if (strcmp(type, "linear") == 0) return rtml_linear_open(cfg, RTML_TASK_REGRESSION, shape, err, errlen);
    rtml_fail(err, errlen, "model.type: '%s' is not available in this rtml version (available: logistic, linear)",
              type);
    return NULL;
}

void rtml_engine_close(rtml_engine *e) {
    if (e) e->ops->close(e);
}
