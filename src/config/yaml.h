/* yaml.h — the YAML-walking helpers the config parser is built from (internal to config/).
 *
 * libyaml's document API gives a node tree with line marks; these helpers read typed values out of it and
 * report every problem as "FILE:LINE: KEY: reason" into the context's error buffer, returning -1. Each section's
 * file (sections.h) walks its part of the schema with them. */
#ifndef RTML_CONFIG_YAML_H
#define RTML_CONFIG_YAML_H
#include <stddef.h>
#include <stdio.h>
#include <yaml.h>

#define CFG_PATH 320    /* dotted key buffer, e.g. "features[12].transforms[3].clip[1]" */
#define CFG_MAX_KEYS 24 /* most keys any one section has (model: 20) */
#define CFG_MAX_DEPTH 32 /* nesting a config never needs; deeper input would only cost libyaml time */

/* Everything the walk needs to report an error; read-only after setup. */
typedef struct {
    const char *name; /* file name for messages */
    yaml_document_t *doc;
    char *err;
    size_t errlen;
} cfg_ctx;
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef enum { NUM_ANY, NUM_POSITIVE, NUM_NONNEG } num_rule;

int cfg_line(const yaml_node_t *n);
__attribute__((format(printf, 4, 5)))
int cfg_fail(const cfg_ctx *c, int line, const char *key, const char *fmt, ...);
int cfg_oom(const cfg_ctx *c, const yaml_node_t *n, const char *key);
yaml_node_t *cfg_node(const cfg_ctx *c, int id);
int cfg_is_null(const yaml_node_t *n);
const char *cfg_text(const yaml_node_t *n);
const char *cfg_describe(const yaml_node_t *n, char *buf, size_t len);
size_t cfg_seq_len(const yaml_node_t *n);
yaml_node_t *cfg_seq_item(const cfg_ctx *c, const yaml_node_t *n, size_t i);
size_t cfg_map_len(const yaml_node_t *n);
int cfg_want_kind(const cfg_ctx *c, const yaml_node_t *n, const char *key, yaml_node_type_t kind);
__attribute__((format(printf, 2, 3)))
void cfg_key_fmt(char *dst, const char *fmt, ...);
void cfg_join_key(char *dst, const char *path, const char *key);
int cfg_get_string(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char **out);
int cfg_dup_string(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out);
int cfg_parse_number(const char *s, double *out);
int cfg_get_number(const cfg_ctx *c, const yaml_node_t *n, const char *key, num_rule rule, double *out);
int cfg_get_u64(const cfg_ctx *c, const yaml_node_t *n, const char *key, unsigned long long *out);
int cfg_get_count(const cfg_ctx *c, const yaml_node_t *n, const char *key, unsigned long long lo, unsigned long long hi, size_t *out);
int cfg_get_bool(const cfg_ctx *c, const yaml_node_t *n, const char *key, int *out);
int cfg_dup_string_list(const cfg_ctx *c, const yaml_node_t *n, const char *path, size_t min, size_t max, char ***out, size_t *count);
int cfg_parse_duration(const char *s, double *out);
int cfg_get_duration(const cfg_ctx *c, const yaml_node_t *n, const char *key, double *out);
int cfg_get_enum(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what, const char *const *names, size_t count, size_t *idx);
int cfg_dup_enum(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what, const char *const *names, size_t count, char **out);
const char *cfg_pointer_problem(const char *p);
int cfg_dup_pointer(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out);
int cfg_listen_ok(const char *s);
int cfg_fields(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *const *keys, yaml_node_t **vals);
int cfg_set_default(char **field, const char *value);
/* YAML output: a string, plain when that reads back the same, else double-quoted; a number that reads back
 * to the same double. */
void cfg_put_str(FILE *out, const char *s);
void cfg_put_num(FILE *out, double v);

/* Printing helpers for the sections: "INDENT_KEY value" with the value quoted as cfg_put_str does; a list of
 * strings one per line; numbers as a flow list. */
void cfg_print_key_str(FILE *out, const char *indent_key, const char *value);
void cfg_print_list(FILE *out, const char *indent, char *const *items, size_t n);
void cfg_print_numbers(FILE *out, const double *v, size_t n);
/* A section whose one key is required (dead_letter {topic}): *val is that key's node. */
int cfg_one_key(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *name, yaml_node_t **val);

#endif
