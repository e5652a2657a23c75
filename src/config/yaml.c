/* yaml.c — typed reads from libyaml's node tree with "FILE:LINE: KEY: reason" errors (yaml.h). */
#include "config/yaml.h"
#include "base/rtml.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors --------------------------------------------------------------------------------------- */

int cfg_line(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 1; }

/* "NAME:LINE: KEY: reason" into the caller's buffer; returns -1. */
int cfg_fail(const cfg_ctx *c, int line, const char *key, const char *fmt, ...) {
    if (!c->err || !c->errlen)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s:%d: %s: ", c->name, line, key);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int cfg_oom(const cfg_ctx *c, const yaml_node_t *n, const char *key) {
    return cfg_fail(c, cfg_line(n), key, "out of memory");
}

/* ---- nodes ---------------------------------------------------------------------------------------- */

yaml_node_t *cfg_node(const cfg_ctx *c, int id) { return yaml_document_get_node(c->doc, id); }

int cfg_is_null(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = (const char *)n->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* The text of a non-null scalar without embedded NULs, or NULL. */
const char *cfg_text(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || cfg_is_null(n))
        return NULL;
    const char *s = (const char *)n->data.scalar.value;
    return strlen(s) == n->data.scalar.length ? s : NULL;
}

/* What a node is, for "got ..." in messages. */
const char *cfg_describe(const yaml_node_t *n, char *buf, size_t len) {
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (cfg_is_null(n))
        return "null";
    const char *s = (const char *)n->data.scalar.value;
    snprintf(buf, len, "'%.60s%s'", s, strlen(s) > 60 ? "..." : "");
    return buf;
}

size_t cfg_seq_len(const yaml_node_t *n) {
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *cfg_seq_item(const cfg_ctx *c, const yaml_node_t *n, size_t i) {
    return cfg_node(c, n->data.sequence.items.start[i]);
}

size_t cfg_map_len(const yaml_node_t *n) {
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

int cfg_want_kind(const cfg_ctx *c, const yaml_node_t *n, const char *key, yaml_node_type_t kind) {
    char buf[96];
    if (n->type == kind)
        return 0;
    return cfg_fail(c, cfg_line(n), key, "must be %s, got %s",
                    kind == YAML_MAPPING_NODE ? "a mapping" : "a list", cfg_describe(n, buf, sizeof buf));
}

/* Format a dotted key into dst (CFG_PATH bytes); a key too long for it is cut short, which only a message sees. */
void cfg_key_fmt(char *dst, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, CFG_PATH, fmt, ap);
    va_end(ap);
}

void cfg_join_key(char *dst, const char *path, const char *key) {
    cfg_key_fmt(dst, "%s%s%s", path, *path ? "." : "", key);
}

/* ---- scalar values -------------------------------------------------------------------------------- */

int cfg_get_string(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char **out) {
    char buf[96];
    const char *s = cfg_text(n);
    if (!s)
        return cfg_fail(c, cfg_line(n), key, "must be a string, got %s", cfg_describe(n, buf, sizeof buf));
    if (!*s)
        return cfg_fail(c, cfg_line(n), key, "must not be empty");
    *out = s;
    return 0;
}

int cfg_dup_string(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out) {
    const char *s;
    if (cfg_get_string(c, n, key, &s) != 0)
        return -1;
    char *copy = strdup(s);
    if (!copy)
        return cfg_oom(c, n, key);
    free(*out);
    *out = copy;
    return 0;
}

/* A plain decimal number (no hex, inf or nan), finite. */
int cfg_parse_number(const char *s, double *out) {
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v + 0.0; /* -0 becomes 0 */
    return 0;
}

int cfg_get_number(const cfg_ctx *c, const yaml_node_t *n, const char *key, num_rule rule,
                      double *out) {
    static const char *const what[] = {"a number", "a number > 0", "a number >= 0"};
    char buf[96];
    const char *s = cfg_text(n);
    double v = 0;
    int ok = s && cfg_parse_number(s, &v) == 0;
    if (!ok || (rule == NUM_POSITIVE && !(v > 0)) || (rule == NUM_NONNEG && !(v >= 0)))
        return cfg_fail(c, cfg_line(n), key, "must be %s, got %s", what[rule], cfg_describe(n, buf, sizeof buf));
    *out = v;
    return 0;
}

int cfg_get_u64(const cfg_ctx *c, const yaml_node_t *n, const char *key, unsigned long long *out) {
    char buf[96];
    const char *s = cfg_text(n);
    int ok = s && *s && strspn(s, "0123456789") == strlen(s);
    if (ok) {
        errno = 0;
        *out = strtoull(s, NULL, 10);
        ok = errno == 0;
    }
    if (!ok)
        return cfg_fail(c, cfg_line(n), key, "must be a non-negative integer, got %s",
                        cfg_describe(n, buf, sizeof buf));
    return 0;
}

/* A whole number in [lo, hi] (counts, sizes, buckets). */
int cfg_get_count(const cfg_ctx *c, const yaml_node_t *n, const char *key, unsigned long long lo,
                     unsigned long long hi, size_t *out) {
    char buf[96];
    const char *s = cfg_text(n);
    unsigned long long v = 0;
    int ok = s && *s && strlen(s) <= 19 && strspn(s, "0123456789") == strlen(s);
    if (ok)
        v = strtoull(s, NULL, 10);
    if (!ok || v < lo || v > hi)
        return cfg_fail(c, cfg_line(n), key, "must be an integer from %llu to %llu, got %s", lo, hi,
                        cfg_describe(n, buf, sizeof buf));
    *out = (size_t)v;
    return 0;
}

/* true or false (YAML 1.2 core spellings only, so 'yes' and 'on' stay strings elsewhere). */
int cfg_get_bool(const cfg_ctx *c, const yaml_node_t *n, const char *key, int *out) {
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
    char buf[96];
    const char *s = cfg_text(n);
    for (size_t i = 0; s && i < COUNT(yes); i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return cfg_fail(c, cfg_line(n), key, "must be true or false, got %s", cfg_describe(n, buf, sizeof buf));
}

/* A list of 1..max unique non-empty strings (csv columns, class names) into *out / *n. */
int cfg_dup_string_list(const cfg_ctx *c, const yaml_node_t *n, const char *path, size_t min, size_t max,
                           char ***out, size_t *count) {
    char key[CFG_PATH];
    if (cfg_want_kind(c, n, path, YAML_SEQUENCE_NODE) != 0)
        return -1;
    size_t len = cfg_seq_len(n);
    if (len < min || len > max)
        return cfg_fail(c, cfg_line(n), path, "must list %zu to %zu names, got %zu", min, max, len);
    if (!(*out = calloc(len, sizeof **out)))
        return cfg_oom(c, n, path);
    *count = len;
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = cfg_seq_item(c, n, i);
        cfg_key_fmt(key, "%s[%zu]", path, i);
        if (cfg_dup_string(c, item, key, &(*out)[i]) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j], (*out)[i]) == 0)
                return cfg_fail(c, cfg_line(item), key, "duplicate name '%.60s' (also %s[%zu])", (*out)[i], path, j);
    }
    return 0;
}

/* "10s", "500ms", "2m", "1h", "7d", or a plain number of seconds; > 0. */
int cfg_parse_duration(const char *s, double *out) {
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    size_t n = strlen(s), u = n;
    char num[64];
    while (u > 0 && isalpha((unsigned char)s[u - 1]))
        u--;
    if (u == 0 || u >= sizeof num)
        return -1;
    memcpy(num, s, u);
    num[u] = '\0';
    double v;
    if (cfg_parse_number(num, &v) != 0)
        return -1;
    for (size_t i = 0; i < COUNT(units); i++) {
        if (strcmp(s + u, units[i].unit) == 0) {
            *out = v * units[i].mult;
            return *out > 0 && isfinite(*out) ? 0 : -1;
        }
    }
    return -1;
}

int cfg_get_duration(const cfg_ctx *c, const yaml_node_t *n, const char *key, double *out) {
    char buf[96];
    const char *s = cfg_text(n);
    if (!s || cfg_parse_duration(s, out) != 0)
        return cfg_fail(c, cfg_line(n), key,
                        "must be a duration > 0 (e.g. 10s, 500ms, 2m, 1h, or a number of seconds), got %s",
                        cfg_describe(n, buf, sizeof buf));
    return 0;
}

/* One of names[]; *idx gets its index. what names the kind of value in messages ("model type"). */
int cfg_get_enum(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what,
                    const char *const *names, size_t count, size_t *idx) {
    const char *s;
    char expected[128] = "";
    if (cfg_get_string(c, n, key, &s) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *idx = i;
            return 0;
        }
        size_t used = strlen(expected);
        snprintf(expected + used, sizeof expected - used, "%s%s", i ? "|" : "", names[i]);
    }
    return cfg_fail(c, cfg_line(n), key, "unknown %s '%.60s' (expected %s)", what, s, expected);
}

int cfg_dup_enum(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what,
                    const char *const *names, size_t count, char **out) {
    size_t i;
    if (cfg_get_enum(c, n, key, what, names, count, &i) != 0)
        return -1;
    char *copy = strdup(names[i]);
    if (!copy)
        return cfg_oom(c, n, key);
    free(*out);
    *out = copy;
    return 0;
}

/* RFC 6901: "" or "/"-separated tokens in which '~' is only ever "~0" or "~1". We require the leading '/'. */
const char *cfg_pointer_problem(const char *p) {
    if (p[0] != '/')
        return "must be a JSON Pointer starting with '/'";
    for (; *p; p++)
        if (p[0] == '~' && p[1] != '0' && p[1] != '1')
            return "must be a valid JSON Pointer: '~' must be followed by 0 or 1 (write ~0 for '~', ~1 for '/')";
    return NULL;
}

int cfg_dup_pointer(const cfg_ctx *c, const yaml_node_t *n, const char *key, char **out) {
    const char *s, *why;
    if (cfg_get_string(c, n, key, &s) != 0)
        return -1;
    if ((why = cfg_pointer_problem(s)) != NULL)
        return cfg_fail(c, cfg_line(n), key, "%s, got '%.60s'", why, s);
    return cfg_dup_string(c, n, key, out);
}

/* "HOST:PORT", port numeric 0..65535 (0: the system picks a free one). */
int cfg_listen_ok(const char *s) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return 0;
    const char *port = colon + 1;
    size_t digits = strlen(port);
    if (digits == 0 || digits > 5 || strspn(port, "0123456789") != digits)
        return 0;
    long v = strtol(port, NULL, 10);
    return v >= 0 && v <= 65535; /* 0: any free port */
}

/* ---- mappings ------------------------------------------------------------------------------------- */

/* Check that map is a mapping whose keys are all in keys[] (NULL-terminated), each at most once, and put
 * the value node of keys[i] into vals[i] (NULL when absent). path is the mapping's dotted key. */
int cfg_fields(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *const *keys,
                      yaml_node_t **vals) {
    int lines[CFG_MAX_KEYS] = {0};
    char dotted[CFG_PATH];
    if (cfg_want_kind(c, map, *path ? path : "top level", YAML_MAPPING_NODE) != 0)
        return -1;
    for (size_t i = 0; i < CFG_MAX_KEYS; i++)
        vals[i] = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cfg_node(c, p->key);
        const char *ks = cfg_text(k);
        if (!ks || !*ks)
            return cfg_fail(c, cfg_line(k), *path ? path : "top level", "keys must be non-empty strings");
        cfg_join_key(dotted, path, ks);
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], ks) != 0)
            i++;
        if (!keys[i]) {
            char expected[256] = "";
            for (size_t j = 0; keys[j]; j++) {
                size_t used = strlen(expected);
                snprintf(expected + used, sizeof expected - used, "%s%s", j ? ", " : "", keys[j]);
            }
            return cfg_fail(c, cfg_line(k), dotted, "unknown key (expected one of: %s)", expected);
        }
        if (vals[i])
            return cfg_fail(c, cfg_line(k), dotted, "duplicate key (first at line %d)", lines[i]);
        vals[i] = cfg_node(c, p->value);
        lines[i] = cfg_line(k);
    }
    return 0;
}

/* Put a copy of value into *field unless it is set; -1 when out of memory. */
int cfg_set_default(char **field, const char *value) {
    if (!*field && !(*field = strdup(value)))
        return -1;
    return 0;
}

/* ---- printing (rtml_config_print) ------------------------------------------------------------------ */

/* Decode one UTF-8 sequence at s into *cp; returns its length (1 with the byte itself when invalid). */
static size_t utf8_decode(const unsigned char *s, unsigned *cp) {
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    unsigned v = len == 4 ? s[0] & 0x07u : len == 3 ? s[0] & 0x0Fu : len == 2 ? s[0] & 0x1Fu : s[0];
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = s[0];
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    *cp = v;
    return len;
}

/* Can s be written as a plain YAML scalar that reads back as the same text? Conservative on purpose. */
static int plain_safe(const char *s) {
    if (!isalnum((unsigned char)s[0]) && s[0] != '/' && s[0] != '.' && s[0] != '_')
        return 0;
    if (!strncmp(s, "...", 3) || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return 0;
    size_t n = strlen(s);
    if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-:~") != n)
        return 0;
    return s[n - 1] != ':';
}

/* A double-quoted scalar, ASCII only: everything else is escaped, so nothing can fold or vanish. */
static void put_quoted(FILE *out, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    while (*p) {
        unsigned cp;
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
            fputc(*p++, out);
        } else if (*p >= 0x20 && *p < 0x7F) {
            fputc(*p++, out);
        } else if (*p == '\n' || *p == '\t') {
            fputs(*p++ == '\n' ? "\\n" : "\\t", out);
        } else if (*p < 0x80) {
            fprintf(out, "\\x%02X", *p++);
        } else {
            p += utf8_decode(p, &cp);
            fprintf(out, cp <= 0xFFFF ? "\\u%04X" : "\\U%08X", cp);
        }
    }
    fputc('"', out);
}

void cfg_put_str(FILE *out, const char *s) {
    if (s && plain_safe(s))
        fputs(s, out);
    else
        put_quoted(out, s ? s : "");
}

/* Shortest of %.15g/%.17g that reads back to the same double. */
void cfg_put_num(FILE *out, double v) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, out);
}


/* ---- printing ---- */

void cfg_print_key_str(FILE *out, const char *indent_key, const char *value) {
    fputs(indent_key, out);
    cfg_put_str(out, value);
    fputc('\n', out);
}

void cfg_print_list(FILE *out, const char *indent, char *const *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s- ", indent);
        cfg_put_str(out, items[i]);
        fputc('\n', out);
    }
}

void cfg_print_numbers(FILE *out, const double *v, size_t n) {
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        cfg_put_num(out, v[i]);
    }
    fputc(']', out);
}

/* A section whose one key is required: label {field}, dead_letter {topic}. */
int cfg_one_key(const cfg_ctx *c, const yaml_node_t *map, const char *path, const char *name, yaml_node_t **val) {
    const char *keys[] = {name, NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char key[CFG_PATH];
    if (cfg_fields(c, map, path, keys, v) != 0)
        return -1;
    cfg_join_key(key, path, name);
    if (!v[0])
        return cfg_fail(c, cfg_line(map), key, "required");
    *val = v[0];
    return 0;
}

