/* tf.h — the model.tensorflow section (tf.c), read by the model section (model.c): its defaults, its parse
 * (after features: its inputs name them), the checks that need the whole file, printing and freeing. */
#ifndef RTML_CONFIG_TF_H
#define RTML_CONFIG_TF_H
#include <stdio.h>

#include "config/config.h"
#include "config/yaml.h"

void rtml_tf_config_defaults(rtml_tf_config *t);
int rtml_config_parse_tf(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg);
int rtml_config_check_tf(const cfg_ctx *c, const rtml_config *cfg);
void rtml_tf_config_free(rtml_tf_config *t);
void rtml_config_print_tf(const rtml_tf_config *t, FILE *out);

#endif
