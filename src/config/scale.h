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
/* Worker index's config in a process of `workers: N` (run/workers.c): its own state.dir/worker-K, group.instance.id
 * and transactional.id suffixed -worker-K, its monitor on monitor.listen's port + K. 0, or -1 with the reason. */
int rtml_config_for_worker(rtml_config *cfg, unsigned index, char *err, size_t errlen);

#endif
