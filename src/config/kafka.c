/* kafka.c — the kafka section: librdkafka properties, passed through verbatim (key: value, strings), in file
 * order. Printed back with secret values (passwords, keys, tokens: redact.h) as [redacted], because `rtml check`
 * output lands in terminals, CI logs and bug reports. */
#include <stdlib.h>
#include <string.h>

#include "config/redact.h"
#include "config/config.h"
#include "config/sections.h"

int rtml_cfg_kafka_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    char dotted[CFG_PATH], buf[96];
    if (cfg_want_kind(c, map, "kafka", YAML_MAPPING_NODE) != 0)
        return -1;
    size_t n = cfg_map_len(map);
    if (n && !(cfg->kafka = calloc(n, sizeof *cfg->kafka)))
        return cfg_oom(c, map, "kafka");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
        const char *ks = cfg_text(k), *vs;
        if (!ks || !*ks)
            return cfg_fail(c, cfg_line(k), "kafka", "keys must be non-empty strings");
        cfg_join_key(dotted, "kafka", ks);
        for (size_t i = 0; i < cfg->n_kafka; i++)
            if (strcmp(cfg->kafka[i].key, ks) == 0)
                return cfg_fail(c, cfg_line(k), dotted, "duplicate key (first at line %d)", cfg->kafka[i].line);
        if (v->type != YAML_SCALAR_NODE)
            return cfg_fail(c, cfg_line(v), dotted, "must be a string, got %s", cfg_describe(v, buf, sizeof buf));
        vs = (const char *)v->data.scalar.value;
        if (cfg_is_null(v) && !*vs)
            return cfg_fail(c, cfg_line(k), dotted, "must have a value");
        if (strlen(vs) != v->data.scalar.length)
            return cfg_fail(c, cfg_line(v), dotted, "must not contain NUL characters");
        rtml_kv *kv = &cfg->kafka[cfg->n_kafka++];
        kv->line = cfg_line(k);
        if (!(kv->key = strdup(ks)) || !(kv->value = strdup(vs)))
            return cfg_oom(c, k, dotted);
    }
    return 0;
}

void rtml_cfg_kafka_print(const rtml_config *cfg, FILE *out) {
    fputs(cfg->n_kafka ? "kafka:\n" : "kafka: {}\n", out);
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        fputs("  ", out);
        cfg_put_str(out, cfg->kafka[i].key);
        fputs(": ", out);
        /* `rtml check` output ends up in terminals, CI logs and bug reports: never print a secret. */
        cfg_put_str(out, rtml_config_is_secret(cfg->kafka[i].key) ? "[redacted]" : cfg->kafka[i].value);
        fputc('\n', out);
    }
}


void rtml_cfg_kafka_free(rtml_config *cfg) {
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
}
