/* output.c — the output section: where predictions go and in which format.
 *
 *   output       format json | avro | protobuf; avro may name a schema (else the built-in one), protobuf must
 *                name a descriptor set (schema) and a message; schema_id (Confluent framing) only with avro
 *                or protobuf. Docs: docs/formats.md.
 *   features     true: each JSON prediction also holds the feature vector the model saw ("features": names and
 *                values after the transforms; docs/features.md); JSON only.
 *   features_topic  the same vectors as records of their own on this topic, keyed like their input. */
#include <stdlib.h>

#include "config/config.h"
#include "config/input.h"
#include "config/sections.h"

static const char *const OUTPUT_FORMAT_NAMES[] = {"json", "avro", "protobuf"};
static const rtml_format OUTPUT_FORMATS[] = {RTML_FMT_JSON, RTML_FMT_AVRO, RTML_FMT_PROTOBUF};

/* What each output format needs and allows: protobuf a schema and a message; avro and protobuf a schema id. */
static int check_output(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, const rtml_config *cfg) {
    rtml_format f = cfg->output.format;
    const char *name = rtml_format_name(f);
    int line = v[1] ? cfg_line(v[1]) : cfg_line(map);
    if (v[2] && f == RTML_FMT_JSON)
        return cfg_fail(c, cfg_line(v[2]), "output.schema", "only used by format avro or protobuf, not %s", name);
    if (v[3] && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, cfg_line(v[3]), "output.message", "only used by format protobuf, not %s", name);
    if (v[4] && f == RTML_FMT_JSON)
        return cfg_fail(c, cfg_line(v[4]), "output.schema_id", "only used by format avro or protobuf, not %s", name);
    if (v[5] && f != RTML_FMT_JSON)
        return cfg_fail(c, cfg_line(v[5]), "output.features", "only with format json (use features_topic with %s)",
                        name);
    if (f == RTML_FMT_PROTOBUF && !v[2])
        return cfg_fail(c, line, "output.schema", "required by format protobuf (a descriptor set from "
                        "protoc --include_imports --descriptor_set_out)");
    if (f == RTML_FMT_PROTOBUF && !v[3])
        return cfg_fail(c, line, "output.message", "required by format protobuf (the fully qualified message name)");
    return 0;
}

int rtml_cfg_output_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"topic", "format", "schema", "message", "schema_id", "features",
                                       "features_topic", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    size_t fmt, id;
    if (cfg_fields(c, map, "output", keys, v) != 0)
        return -1;
    if (v[0] && cfg_dup_string(c, v[0], "output.topic", &cfg->output.topic) != 0)
        return -1;
    if (v[1]) {
        if (cfg_get_enum(c, v[1], "output.format", "output format", OUTPUT_FORMAT_NAMES,
                     COUNT(OUTPUT_FORMAT_NAMES), &fmt) != 0)
            return -1;
        cfg->output.format = OUTPUT_FORMATS[fmt];
    }
    if (check_output(c, v, map, cfg) != 0)
        return -1;
    if (v[2] && cfg_dup_string(c, v[2], "output.schema", &cfg->output.schema) != 0)
        return -1;
    if (v[3] && cfg_dup_string(c, v[3], "output.message", &cfg->output.message) != 0)
        return -1;
    if (v[4] && cfg_get_count(c, v[4], "output.schema_id", 0, 2147483647ULL, &id) != 0)
        return -1;
    if (v[5] && cfg_get_bool(c, v[5], "output.features", &cfg->output.features) != 0) return -1;
    if (v[6] && cfg_dup_string(c, v[6], "output.features_topic", &cfg->output.features_topic) != 0) return -1;
    cfg->output.has_schema_id = v[4] != NULL;
    cfg->output.schema_id = v[4] ? (unsigned)id : 0;
    return 0;
}

void rtml_cfg_output_print(const rtml_config *cfg, FILE *out) {
    fputs("output:\n", out);
    if (cfg->output.topic) {
        fputs("  topic: ", out);
        cfg_put_str(out, cfg->output.topic);
        fputc('\n', out);
    }
    fprintf(out, "  format: %s\n", rtml_format_name(cfg->output.format));
    if (cfg->output.schema)
        cfg_print_key_str(out, "  schema: ", cfg->output.schema);
    if (cfg->output.message)
        cfg_print_key_str(out, "  message: ", cfg->output.message);
    if (cfg->output.has_schema_id)
        fprintf(out, "  schema_id: %u\n", cfg->output.schema_id);
    if (cfg->output.features) fputs("  features: true\n", out);
    if (cfg->output.features_topic) cfg_print_key_str(out, "  features_topic: ", cfg->output.features_topic);
}


void rtml_cfg_output_free(rtml_config *cfg) {
    free(cfg->output.topic);
    free(cfg->output.features_topic);
    free(cfg->output.schema);
    free(cfg->output.message);
}
