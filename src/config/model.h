/* model.h — the names of the model section's enums (config.h), as the config writes them and as metrics,
 * reports and messages show them. */
#ifndef RTML_CONFIG_MODEL_H
#define RTML_CONFIG_MODEL_H
#include "config/config.h"

const char *rtml_engine_kind_name(rtml_engine_kind k); /* "native", "tensorflow" */
const char *rtml_model_type_name(rtml_model_type t);   /* "logistic", ... */
const char *rtml_task_name(rtml_task t);               /* "binary", "regression", "multiclass" */
const char *rtml_opt_name(rtml_opt_kind k);            /* "sgd", "momentum", "adagrad", "adam" */
const char *rtml_sched_name(rtml_sched_kind k);
const char *rtml_loss_name(rtml_reg_loss l);
const char *rtml_activation_name(rtml_activation a);
/* "native/logistic", ..., or "tensorflow": the model's name where one word must say it (model versions). */
void rtml_model_kind(const rtml_config *cfg, char *out, size_t len);

#endif
