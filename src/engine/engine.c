/* engine.c — picks the engine and model the config names (see engine.h for the interface). */
#include "engine/engine.h"
#include "base/rtml.h"

rtml_engine *rtml_engine_open(const rtml_config *cfg, const rtml_shape *shape, char *err, size_t errlen) {
    if (rtml_config_is_tensorflow(cfg)) return rtml_tf_open(cfg, NULL, 0, shape, err, errlen);
    switch (cfg->model.type) {
    case RTML_MODEL_LOGISTIC: return rtml_linear_open(cfg, RTML_TASK_BINARY, shape, err, errlen);
    case RTML_MODEL_LINEAR: return rtml_linear_open(cfg, RTML_TASK_REGRESSION, shape, err, errlen);
    case RTML_MODEL_SOFTMAX: return rtml_softmax_open(cfg, shape, err, errlen);
    case RTML_MODEL_FTRL: return rtml_ftrl_open(cfg, shape, err, errlen);
    case RTML_MODEL_MLP: return rtml_mlp_open(cfg, cfg->model.task, shape, err, errlen);
    }
    rtml_fail(err, errlen, "model.type: %d is not a model type", (int)cfg->model.type);
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
