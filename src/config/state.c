/* state.c — how outputs are delivered and where state is kept: the delivery, state and dead_letter sections.
 *
 *   delivery: at_least_once | exactly_once
 *   state: {dir: ./state, checkpoint_every: 10s, keep: 3}
 *   dead_letter: {topic: T} */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"

static const char *const DELIVERY_NAMES[] = {"at_least_once", "exactly_once"};

int rtml_cfg_delivery_parse(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    size_t i;
    if (cfg_get_enum(c, n, "delivery", "delivery", DELIVERY_NAMES, COUNT(DELIVERY_NAMES), &i) != 0)
        return -1;
    cfg->delivery = (rtml_delivery)i;
    return 0;
}

int rtml_cfg_state_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"dir", "checkpoint_every", "keep", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "state", keys, v) != 0)
        return -1;
    if (v[0] && cfg_dup_string(c, v[0], "state.dir", &cfg->state.dir) != 0)
        return -1;
    size_t keep = cfg->state.keep;
    if (v[2] && cfg_get_count(c, v[2], "state.keep", 1, 100, &keep) != 0)
        return -1;
    cfg->state.keep = (unsigned)keep;
    return v[1] ? cfg_get_duration(c, v[1], "state.checkpoint_every", &cfg->state.checkpoint_every_s) : 0;
}

int rtml_cfg_dead_letter_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v;
    if (cfg_one_key(c, map, "dead_letter", "topic", &v) != 0)
        return -1;
    return cfg_dup_string(c, v, "dead_letter.topic", &cfg->dead_letter.topic);
}

void rtml_cfg_delivery_print(const rtml_config *cfg, FILE *out) {
    fprintf(out, "delivery: %s\n", DELIVERY_NAMES[cfg->delivery]);
}

/* state.dir's default, "./state", once the file is read. */
int rtml_cfg_state_check(const cfg_ctx *c, rtml_config *cfg) {
    return cfg_set_default(&cfg->state.dir, "./state") == 0 ? 0 : cfg_fail(c, 1, "state.dir", "out of memory");
}

void rtml_cfg_state_print(const rtml_config *cfg, FILE *out) {
    fputs("state:\n  dir: ", out);
    cfg_put_str(out, cfg->state.dir ? cfg->state.dir : "./state");
    fputs("\n  checkpoint_every: ", out);
    cfg_put_num(out, cfg->state.checkpoint_every_s);
    fprintf(out, "s\n  keep: %u\n", cfg->state.keep);
}

void rtml_cfg_state_free(rtml_config *cfg) { free(cfg->state.dir); }

void rtml_cfg_dead_letter_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->dead_letter.topic) return;
    fputs("dead_letter:\n  topic: ", out);
    cfg_put_str(out, cfg->dead_letter.topic);
    fputc('\n', out);
}

void rtml_cfg_dead_letter_free(rtml_config *cfg) { free(cfg->dead_letter.topic); }
