/* engine.c — picks the engine and model the config names (see engine.h for the interface). */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "base/rtml.h"

#define RTML_NATIVE_TYPES "logistic, linear, softmax, ftrl, mlp"

rtml_task rtml_engine_task(const rtml_config *cfg) {
    if (rtml_config_is_tensorflow(cfg) && cfg->model.task) {
        if (strcmp(cfg->model.task, "regression") == 0) return RTML_TASK_REGRESSION;
        if (strcmp(cfg->model.task, "multiclass") == 0) return RTML_TASK_MULTICLASS;
        return RTML_TASK_BINARY;
    }
    const char *type = cfg->model.type ? cfg->model.type : "logistic";
    if (strcmp(type, "linear") == 0) return RTML_TASK_REGRESSION;
    if (strcmp(type, "softmax") == 0) return RTML_TASK_MULTICLASS;
    if (strcmp(type, "mlp") == 0 && cfg->model.task) {
        if (strcmp(cfg->model.task, "regression") == 0) return RTML_TASK_REGRESSION;
        if (strcmp(cfg->model.task, "multiclass") == 0) return RTML_TASK_MULTICLASS;
    }
    return RTML_TASK_BINARY;
}

static int mlp_task_valid(const rtml_config *cfg, char *err, size_t errlen) {
    const char *t = cfg->model.task;
    if (!t || strcmp(t, "binary") == 0 || strcmp(t, "regression") == 0 || strcmp(t, "multiclass") == 0) return 0;
    return rtml_fail(err, errlen, "model.task: unknown task '%s' (expected binary|regression|multiclass)", t);
}

rtml_engine *rtml_engine_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen) {
    const char *engine = cfg->model.engine ? cfg->model.engine : "native";
    const char *type = cfg->model.type ? cfg->model.type : "logistic";
    if (strcmp(engine, "tensorflow") == 0) return rtml_tf_open(cfg, NULL, shape, err, errlen);
    if (strcmp(engine, "native") != 0) {
        rtml_fail(err, errlen, "model.engine: '%s' is not an engine (native, tensorflow)", engine);
        return NULL;
    }
    if (strcmp(type, "logistic") == 0) return rtml_linear_open(cfg, RTML_TASK_BINARY, shape, err, errlen);
    if (strcmp(type, "linear") == 0) return rtml_linear_open(cfg, RTML_TASK_REGRESSION, shape, err, errlen);
    if (strcmp(type, "softmax") == 0) return rtml_softmax_open(cfg, shape, err, errlen);
    if (strcmp(type, "ftrl") == 0) return rtml_ftrl_open(cfg, shape, err, errlen);
    if (strcmp(type, "mlp") == 0) {
        if (mlp_task_valid(cfg, err, errlen) != 0) return NULL;
        return rtml_mlp_open(cfg, rtml_engine_task(cfg), shape, err, errlen);
    }
    rtml_fail(err, errlen, "model.type: '%s' is not available in this rtml version (available: " RTML_NATIVE_TYPES ")",
              type);
    return NULL;
}

double *rtml_engine_params(rtml_engine *e, size_t *n) {
    *n = 0;
    if (!e || !e->ops->params) return NULL;
    return e->ops->params(e, n);
}

void rtml_engine_close(rtml_engine *e) {
    if (e) e->ops->close(e);
}
