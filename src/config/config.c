/* config.c — reads rtml's YAML configuration (config.h) into one rtml_config, strictly, and prints it back.
 *
 * Why this shape: a user's config is the first thing that can go wrong, so every error names the file, the
 * line and the dotted key (docs/design.md, "Configuration"). libyaml's document API gives a node tree with
 * line marks; a first pass over libyaml's event stream rejects what the tree would hide (syntax errors,
 * aliases, a second document, nesting deeper than any config needs). Then the table below: one row per
 * top-level key, one file per section (sections.h), each with its parse, check, print and free. Any failure
 * frees what was built, so a caller never owns half a config. rtml_config_print writes YAML that parses back
 * to an equal config (tested, and fuzzed), except that secret kafka values (redact.h) print as [redacted].
 *
 * Anchors and aliases: an alias (*name) is rejected with its line, not resolved. A config is short enough
 * to write out in full, an error inside an expanded alias would point at the anchor instead of the use,
 * and rejecting closes off alias bombs. A bare anchor (&name) without an alias is harmless and ignored. */
#include "config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/rtml.h"
#include "config/sections.h"

/* In file order of the printed config; parsed in this order too, then checked in it. */
static const rtml_cfg_section SECTIONS[] = {
    {"kafka", rtml_cfg_kafka_parse, NULL, rtml_cfg_kafka_print, rtml_cfg_kafka_free},
    {"input", rtml_cfg_input_parse, NULL, rtml_cfg_input_print, rtml_cfg_input_free},
    {"aggregates", rtml_cfg_aggregates_parse, rtml_cfg_aggregates_check, rtml_cfg_aggregates_print,
     rtml_cfg_aggregates_free},
    {"features", rtml_cfg_features_parse, rtml_cfg_features_check, rtml_cfg_features_print, rtml_cfg_features_free},
    {"label", rtml_cfg_label_parse, rtml_cfg_label_check, rtml_cfg_label_print, rtml_cfg_label_free},
    {"model", rtml_cfg_model_parse, rtml_cfg_model_check, rtml_cfg_model_print, rtml_cfg_model_free},
    {"output", rtml_cfg_output_parse, NULL, rtml_cfg_output_print, rtml_cfg_output_free},
    {"delivery", rtml_cfg_delivery_parse, NULL, rtml_cfg_delivery_print, NULL},
    {"state", rtml_cfg_state_parse, rtml_cfg_state_check, rtml_cfg_state_print, rtml_cfg_state_free},
    {"dead_letter", rtml_cfg_dead_letter_parse, NULL, rtml_cfg_dead_letter_print, rtml_cfg_dead_letter_free},
    {"monitor", rtml_cfg_monitor_parse, NULL, rtml_cfg_monitor_print, rtml_cfg_monitor_free},
    {"drift", rtml_cfg_drift_parse, rtml_cfg_drift_check, rtml_cfg_drift_print, rtml_cfg_drift_free},
    {"log", rtml_cfg_log_parse, NULL, rtml_cfg_log_print, rtml_cfg_log_free},
    {"role", rtml_cfg_role_parse, rtml_cfg_role_check, rtml_cfg_role_print, NULL},
    {"workers", rtml_cfg_workers_parse, NULL, rtml_cfg_workers_print, NULL},
    {"models", rtml_cfg_models_parse, NULL, rtml_cfg_models_print, rtml_cfg_models_free},
    {"serve", rtml_cfg_serve_parse, rtml_cfg_serve_check, rtml_cfg_serve_print, rtml_cfg_serve_free},
};
#define N_SECTIONS COUNT(SECTIONS)

/* Every default that is not NULL or 0: set before the sections read the file. */
static void defaults(rtml_config *cfg) {
    cfg->input.csv_delimiter = ',';
    cfg->input.csv_header = 1;
    cfg->input.max_record_bytes = 1048576;
    rtml_cfg_model_defaults(cfg);
    cfg->state.checkpoint_every_s = 10;
    cfg->state.keep = 3;
}

static int parse_root(const cfg_ctx *c, const yaml_node_t *root, rtml_config *cfg) {
    const char *keys[N_SECTIONS + 1];
    yaml_node_t *v[CFG_MAX_KEYS];
    if (!root || cfg_is_null(root)) return rtml_fail(c->err, c->errlen, "%s:1: empty config", c->name);
    for (size_t i = 0; i < N_SECTIONS; i++) keys[i] = SECTIONS[i].key;
    keys[N_SECTIONS] = NULL;
    if (cfg_fields(c, root, "", keys, v) != 0) return -1;
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (v[i] && SECTIONS[i].parse(c, v[i], cfg) != 0) return -1;
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (SECTIONS[i].check && SECTIONS[i].check(c, cfg) != 0) return -1;
    return 0;
}

static int yaml_error(const cfg_ctx *c, const yaml_parser_t *p) {
    if (p->error == YAML_MEMORY_ERROR)
        return rtml_fail(c->err, c->errlen, "%s: out of memory", c->name);
    int line = (int)p->problem_mark.line + 1;
    if (p->context)
        return rtml_fail(c->err, c->errlen, "%s:%d: YAML syntax error: %s (%s at line %d)", c->name, line,
                         p->problem ? p->problem : "unknown problem", p->context, (int)p->context_mark.line + 1);
    return rtml_fail(c->err, c->errlen, "%s:%d: YAML syntax error: %s", c->name, line,
                     p->problem ? p->problem : "unknown problem");
}

/* One event of the first pass: aliases, a second document and absurd nesting are errors. */
static int check_event(const cfg_ctx *c, const yaml_event_t *ev, int *docs, int *depth) {
    int line = (int)ev->start_mark.line + 1;
    if (ev->type == YAML_ALIAS_EVENT)
        return rtml_fail(c->err, c->errlen,
                         "%s:%d: *%.60s: YAML aliases are not supported; write the value out in full", c->name,
                         line, (const char *)ev->data.alias.anchor);
    if (ev->type == YAML_DOCUMENT_START_EVENT && ++*docs > 1)
        return rtml_fail(c->err, c->errlen, "%s:%d: ---: a config file holds one YAML document, found a second",
                         c->name, line);
    if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT)
        if (++*depth > CFG_MAX_DEPTH)
            return rtml_fail(c->err, c->errlen, "%s:%d: YAML nesting deeper than %d levels", c->name, line,
                             CFG_MAX_DEPTH);
    if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT)
        --*depth;
    return 0;
}

/* First pass over the event stream: syntax errors, aliases, extra documents and deep nesting, with lines.
 * It stops at the first problem, so hostile input costs little (libyaml's scanner slows with depth). */
static int check_events(const cfg_ctx *c, const char *buf, size_t len) {
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = 0, docs = 0, depth = 0, done = 0;
    if (!yaml_parser_initialize(&p))
        return rtml_fail(c->err, c->errlen, "%s: out of memory", c->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (rc == 0 && !done) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = yaml_error(c, &p);
            break;
        }
        rc = check_event(c, &ev, &docs, &depth);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

static int load_document(const cfg_ctx *c, const char *buf, size_t len, yaml_document_t *doc) {
    yaml_parser_t p;
    int rc = 0;
    if (!yaml_parser_initialize(&p))
        return rtml_fail(c->err, c->errlen, "%s: out of memory", c->name);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&p, doc))
        rc = yaml_error(c, &p);
    yaml_parser_delete(&p);
    return rc;
}

int rtml_config_parse(const char *name, const char *buf, size_t len, rtml_config *out, char *err,
                      size_t errlen) {
    yaml_document_t doc;
    cfg_ctx c = {name ? name : "(config)", &doc, err, errlen};
    memset(out, 0, sizeof *out);
    if (check_events(&c, buf, len) != 0 || load_document(&c, buf, len, &doc) != 0) return -1;
    defaults(out);
    int rc = (out->path = strdup(c.name)) ? parse_root(&c, yaml_document_get_root_node(&doc), out)
                                          : rtml_fail(err, errlen, "%s: out of memory", c.name);
    yaml_document_delete(&doc);
    if (rc != 0) rtml_config_free(out);
    return rc;
}

int rtml_config_load(const char *path, rtml_config *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rtml_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int failed = 0;
    for (;;) {
        if (len == cap) {
            char *grown = realloc(buf, cap ? cap * 2 : 4096);
            if (!grown) {
                errno = ENOMEM;
                failed = 1;
                break;
            }
            buf = grown;
            cap = cap ? cap * 2 : 4096;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            failed = ferror(f);
            break;
        }
    }
    int saved = errno;
    fclose(f);
    int rc = failed ? rtml_fail(err, errlen, "%s: cannot read: %s", path, strerror(saved))
                    : rtml_config_parse(path, buf, len, out, err, errlen);
    free(buf);
    return rc;
}

int rtml_config_check_run(const rtml_config *cfg, char *err, size_t errlen) {
    const char *name = cfg->path ? cfg->path : "(config)";
    const char *servers = rtml_config_kafka(cfg, "bootstrap.servers");
    if (!servers || !*servers)
        return rtml_fail(err, errlen, "%s: kafka.bootstrap.servers: required by `rtml run`", name);
    if (cfg->input.n_topics == 0)
        return rtml_fail(err, errlen, "%s: input.topics: required by `rtml run`", name);
    if (!cfg->output.topic && cfg->role != RTML_ROLE_TRAINER)
        return rtml_fail(err, errlen, "%s: output.topic: required by `rtml run` (except with role: trainer)", name);
    /* A CSV header taken from the first message would, after a restart from a committed offset, be a
     * data row: Kafka input needs the columns named in the config. */
    if (cfg->input.format == RTML_FMT_CSV && cfg->input.n_csv_columns == 0)
        return rtml_fail(err, errlen, "%s: input.csv.columns: required by `rtml run` for CSV input (a topic has no "
                         "header row)", name);
    return 0;
}

const char *rtml_config_kafka(const rtml_config *cfg, const char *key) {
    for (size_t i = 0; i < cfg->n_kafka; i++)
        if (cfg->kafka[i].key && strcmp(cfg->kafka[i].key, key) == 0)
            return cfg->kafka[i].value;
    return NULL;
}

void rtml_config_free(rtml_config *cfg) {
    if (!cfg) return;
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (SECTIONS[i].free) SECTIONS[i].free(cfg);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}

void rtml_config_print(const rtml_config *cfg, FILE *out) {
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (SECTIONS[i].print) SECTIONS[i].print(cfg, out);
}
