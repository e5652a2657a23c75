/* scale.h — what the scale sections (scale.c: role, workers, models) resolve: the number of workers (auto: one
 * per online core), a role's name, and the model topic's publish interval and retention with their defaults. */
#ifndef RTML_CONFIG_SCALE_H
#define RTML_CONFIG_SCALE_H
#include "config/config.h"

unsigned rtml_config_workers(const rtml_config *cfg);
const char *rtml_role_name(rtml_role r);
/* models.publish_every (default 10 s) and models.keep (default 20). */
static inline double rtml_models_publish_every(const rtml_config *cfg) {
    return cfg->models.publish_every_s > 0 ? cfg->models.publish_every_s : 10.0;
}
static inline unsigned rtml_models_keep(const rtml_config *cfg) { return cfg->models.keep ? cfg->models.keep : 20; }

#endif
