/* sections.h — the config's sections (internal to config/): one file per section, one row per top-level key in
 * config.c's table (nginx's directive tables are the model).
 *
 *   parse   reads its key's YAML node into the struct, strictly: an unknown key, a wrong type or a value out of
 *           range is an error naming the file, the line and the dotted key (yaml.h's cfg_fail)
 *   check   runs once every section was read, for the rules that span sections (a drift detector and the
 *           model's task, a label topic and the engine, ...); NULL when there are none
 *   print   writes the section back as YAML with its defaults filled in (`rtml check`); NULL: nothing to print
 *   free    releases what the section owns; NULL: nothing
 * Defaults that are numbers or enums are set before parsing (config.c); a row fills a missing string default in
 * its check. */
#ifndef RTML_CONFIG_SECTIONS_H
#define RTML_CONFIG_SECTIONS_H
#include <stdio.h>

#include "config/yaml.h"

/* The struct (config.h), which includes nothing of the sections: the table is config.c's, the struct everyone's. */
typedef struct rtml_config rtml_config;

typedef struct {
    const char *key;
    int (*parse)(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
    int (*check)(const cfg_ctx *c, rtml_config *cfg);
    void (*print)(const rtml_config *cfg, FILE *out);
    void (*free)(rtml_config *cfg);
} rtml_cfg_section;

/* kafka.c: librdkafka properties, verbatim (secret values print as [redacted]) */
int rtml_cfg_kafka_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_kafka_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_kafka_free(rtml_config *cfg);
/* input.c: topics, format, schema, message, csv, max_record_bytes */
int rtml_cfg_input_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_input_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_input_free(rtml_config *cfg);
/* aggregates.c: features over the recent past of a key (read by features, so parsed before them) */
int rtml_cfg_aggregates_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_aggregates_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_aggregates_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_aggregates_free(rtml_config *cfg);
/* features.c: the features and their transform chains; required unless engine: tensorflow */
int rtml_cfg_features_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_features_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_features_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_features_free(rtml_config *cfg);
/* label.c: a label field, or a label topic joined by key */
int rtml_cfg_label_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_label_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_label_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_label_free(rtml_config *cfg);
/* model.c: the engine, the native learners' settings, the task; model.tensorflow is tf.c's. Its defaults are
 * the most numerous, so it sets them itself (config.c calls it before parsing). */
void rtml_cfg_model_defaults(rtml_config *cfg);
int rtml_cfg_model_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_model_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_model_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_model_free(rtml_config *cfg);
/* output.c: topic, format, schema, message, schema_id */
int rtml_cfg_output_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_output_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_output_free(rtml_config *cfg);
/* state.c: delivery, state (dir, checkpoint_every, keep), dead_letter */
int rtml_cfg_delivery_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_delivery_print(const rtml_config *cfg, FILE *out);
int rtml_cfg_state_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_state_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_state_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_state_free(rtml_config *cfg);
int rtml_cfg_dead_letter_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_dead_letter_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_dead_letter_free(rtml_config *cfg);
/* monitor.c: monitor, drift, log */
int rtml_cfg_monitor_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_monitor_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_monitor_free(rtml_config *cfg);
int rtml_cfg_drift_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_drift_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_drift_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_drift_free(rtml_config *cfg);
int rtml_cfg_log_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_log_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_log_free(rtml_config *cfg);
/* scale.c: role, workers, models */
int rtml_cfg_role_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_role_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_role_print(const rtml_config *cfg, FILE *out);
int rtml_cfg_workers_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_workers_print(const rtml_config *cfg, FILE *out);
int rtml_cfg_models_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
void rtml_cfg_models_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_models_free(rtml_config *cfg);
/* serve.c: the Open Inference Protocol endpoint (listen, name, refresh, threads, log_topic, tls, auth, limits) */
int rtml_cfg_serve_parse(const cfg_ctx *c, const yaml_node_t *node, rtml_config *cfg);
int rtml_cfg_serve_check(const cfg_ctx *c, rtml_config *cfg);
void rtml_cfg_serve_print(const rtml_config *cfg, FILE *out);
void rtml_cfg_serve_free(rtml_config *cfg);

#endif
