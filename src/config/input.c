/* input.c — the input section: which topics, which format, what each format needs.
 *
 *   input.csv    a mapping {delimiter, header, columns}, only with format: csv; avro needs input.schema,
 *                protobuf input.schema and input.message, and neither is allowed with the other formats. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/input.h"
#include "config/sections.h"

static const char *const FORMAT_NAMES[] = {"json", "csv", "avro", "protobuf"};

const char *rtml_format_name(rtml_format f) {
    return (unsigned)f < COUNT(FORMAT_NAMES) ? FORMAT_NAMES[f] : "?";
}

static int parse_topics(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    char key[CFG_PATH], buf[96];
    if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n)) {
        if (!(cfg->input.topics = calloc(1, sizeof(char *))))
            return cfg_oom(c, n, "input.topics");
        cfg->input.n_topics = 1;
        return cfg_dup_string(c, n, "input.topics", &cfg->input.topics[0]);
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(c, cfg_line(n), "input.topics", "must be a list of topics or a topic name, got %s",
                        cfg_describe(n, buf, sizeof buf));
    size_t len = cfg_seq_len(n);
    if (len && !(cfg->input.topics = calloc(len, sizeof(char *))))
        return cfg_oom(c, n, "input.topics");
    cfg->input.n_topics = len;
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "input.topics[%zu]", i);
        if (cfg_dup_string(c, cfg_seq_item(c, n, i), key, &cfg->input.topics[i]) != 0)
            return -1;
    }
    return 0;
}

/* csv: {delimiter: ",", header: true, columns: [a, b]} — only with format: csv. */
static int parse_csv(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"delimiter", "header", "columns", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    const char *d;
    if (cfg_fields(c, map, "input.csv", keys, v) != 0)
        return -1;
    if (v[0]) {
        if (cfg_get_string(c, v[0], "input.csv.delimiter", &d) != 0)
            return -1;
        if (strlen(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
            return cfg_fail(c, cfg_line(v[0]), "input.csv.delimiter",
                            "must be one character other than a quote or a line break, got '%.60s'", d);
        cfg->input.csv_delimiter = d[0];
    }
    if (v[1] && cfg_get_bool(c, v[1], "input.csv.header", &cfg->input.csv_header) != 0)
        return -1;
    return v[2] ? cfg_dup_string_list(c, v[2], "input.csv.columns", 1, 100000, &cfg->input.csv_columns,
                                  &cfg->input.n_csv_columns)
                : 0;
}

/* What each format needs and allows: avro/protobuf a schema, protobuf a message, csv its options. */
static int check_input(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, const rtml_config *cfg) {
    rtml_format f = cfg->input.format;
    const char *name = rtml_format_name(f);
    int line = v[1] ? cfg_line(v[1]) : cfg_line(map);
    if ((f == RTML_FMT_AVRO || f == RTML_FMT_PROTOBUF) && !v[2])
        return cfg_fail(c, line, "input.schema", "required by format %s (%s)", name,
                        f == RTML_FMT_AVRO ? "the .avsc file" : "a descriptor set from protoc --descriptor_set_out");
    if (f == RTML_FMT_PROTOBUF && !v[3])
        return cfg_fail(c, line, "input.message", "required by format protobuf (the fully qualified message name)");
    if (v[2] && f != RTML_FMT_AVRO && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, cfg_line(v[2]), "input.schema", "only used by format avro or protobuf, not %s", name);
    if (v[3] && f != RTML_FMT_PROTOBUF)
        return cfg_fail(c, cfg_line(v[3]), "input.message", "only used by format protobuf, not %s", name);
    if (v[4] && f != RTML_FMT_CSV)
        return cfg_fail(c, cfg_line(v[4]), "input.csv", "only used by format csv, not %s", name);
    return 0;
}

int rtml_cfg_input_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"topics", "format", "schema", "message", "csv", "max_record_bytes", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    size_t fmt;
    if (cfg_fields(c, map, "input", keys, v) != 0)
        return -1;
    if (v[0] && parse_topics(c, v[0], cfg) != 0)
        return -1;
    if (v[1]) {
        if (cfg_get_enum(c, v[1], "input.format", "format", FORMAT_NAMES, COUNT(FORMAT_NAMES), &fmt) != 0)
            return -1;
        cfg->input.format = (rtml_format)fmt;
    }
    if (v[2] && cfg_dup_string(c, v[2], "input.schema", &cfg->input.schema) != 0)
        return -1;
    if (v[3] && cfg_dup_string(c, v[3], "input.message", &cfg->input.message) != 0)
        return -1;
    if (v[4] && parse_csv(c, v[4], cfg) != 0)
        return -1;
    if (v[5] && cfg_get_count(c, v[5], "input.max_record_bytes", 1, 1ULL << 30, &cfg->input.max_record_bytes) != 0)
        return -1;
    return check_input(c, v, map, cfg);
}

void rtml_cfg_input_print(const rtml_config *cfg, FILE *out) {
    fputs(cfg->input.n_topics ? "input:\n  topics:\n" : "input:\n  topics: []\n", out);
    cfg_print_list(out, "    ", cfg->input.topics, cfg->input.n_topics);
    fprintf(out, "  format: %s\n", rtml_format_name(cfg->input.format));
    if (cfg->input.schema)
        cfg_print_key_str(out, "  schema: ", cfg->input.schema);
    if (cfg->input.message)
        cfg_print_key_str(out, "  message: ", cfg->input.message);
    if (cfg->input.format == RTML_FMT_CSV) {
        char delim[2] = {cfg->input.csv_delimiter ? cfg->input.csv_delimiter : ',', '\0'};
        fputs("  csv:\n", out);
        cfg_print_key_str(out, "    delimiter: ", delim);
        fprintf(out, "    header: %s\n", cfg->input.csv_header ? "true" : "false");
        if (cfg->input.n_csv_columns)
            fputs("    columns:\n", out);
        cfg_print_list(out, "      ", cfg->input.csv_columns, cfg->input.n_csv_columns);
    }
    fprintf(out, "  max_record_bytes: %zu\n", cfg->input.max_record_bytes ? cfg->input.max_record_bytes : 1048576);
}


void rtml_cfg_input_free(rtml_config *cfg) {
    for (size_t i = 0; i < cfg->input.n_topics; i++) free(cfg->input.topics[i]);
    for (size_t i = 0; i < cfg->input.n_csv_columns; i++) free(cfg->input.csv_columns[i]);
    free(cfg->input.topics);
    free(cfg->input.schema);
    free(cfg->input.message);
    free(cfg->input.csv_columns);
}
