/* serve.c — the serve section: an Open Inference Protocol (KServe v2 REST) endpoint on the live model
 * (src/serve/, run/serve.c; docs/serving.md).
 *
 *   serve:
 *     listen: 127.0.0.1:8080        # its own address (default 127.0.0.1:8080; port 0: any free port, logged)
 *     name: fraud                   # the model's name in /v2/models/NAME (default rtml)
 *     refresh: 100ms                # the native engines' snapshot is refreshed this often (default 100 ms)
 *     threads: 2                    # HTTP threads (default 2)
 *     log_topic: fraud-served       # each answered record, keyed by its request id; with label.topic the stream
 *                                   # reads it back and learns it when its label comes
 *     tls: {cert: server.pem, key: server.key}        # HTTPS (both PEM files, or neither)
 *     auth: {tokens_file: tokens.txt, open_health: true}   # bearer tokens, one a line; health paths open
 *     limits: {body_bytes: 1048576, records: 1000, connections: 256, request_time: 10s, idle: 30s}
 *
 * The file names are printed by `rtml check` except where redact.c's rule calls the key secret (tokens_file:
 * "token"), which prints [redacted]; the tokens and the key themselves are only ever read by the server. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/redact.h"
#include "config/sections.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_NAME "rtml"
#define DEFAULT_REFRESH_S 0.1
#define DEFAULT_THREADS 2
#define DEFAULT_BODY (1u << 20)
#define DEFAULT_RECORDS 1000
#define DEFAULT_CONNECTIONS 256
#define DEFAULT_REQUEST_S 10.0
#define DEFAULT_IDLE_S 30.0

/* A model name travels in URLs: letters, digits and - _ . only, so that no escaping is ever needed. */
static int name_ok(const char *s) {
    size_t n = strlen(s);
    return n > 0 && n <= 128 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int parse_tls(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"cert", "key", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "serve.tls", keys, v) != 0) return -1;
    if (!v[0] || !v[1])
        return cfg_fail(c, cfg_line(map), v[0] ? "serve.tls.key" : "serve.tls.cert",
                        "required: HTTPS needs both the certificate and its private key (PEM files)");
    if (cfg_dup_string(c, v[0], "serve.tls.cert", &cfg->serve.tls_cert) != 0) return -1;
    return cfg_dup_string(c, v[1], "serve.tls.key", &cfg->serve.tls_key);
}

static int parse_auth(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"tokens_file", "open_health", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "serve.auth", keys, v) != 0) return -1;
    if (!v[0]) return cfg_fail(c, cfg_line(map), "serve.auth.tokens_file", "required (the bearer tokens, one a line)");
    int open = 1;
    if (v[1] && cfg_get_bool(c, v[1], "serve.auth.open_health", &open) != 0) return -1;
    cfg->serve.open_health = open;
    return cfg_dup_string(c, v[0], "serve.auth.tokens_file", &cfg->serve.tokens_file);
}

static int parse_limits(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"body_bytes", "records", "connections", "request_time", "idle", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "serve.limits", keys, v) != 0) return -1;
    if (v[0] && cfg_get_count(c, v[0], "serve.limits.body_bytes", 64, 1u << 30, &cfg->serve.max_body_bytes) != 0)
        return -1;
    if (v[1] && cfg_get_count(c, v[1], "serve.limits.records", 1, 1000000, &cfg->serve.max_records) != 0) return -1;
    if (v[2] && cfg_get_count(c, v[2], "serve.limits.connections", 1, 100000, &cfg->serve.max_connections) != 0)
        return -1;
    if (v[3] && cfg_get_duration(c, v[3], "serve.limits.request_time", &cfg->serve.request_timeout_s) != 0) return -1;
    if (v[4] && cfg_get_duration(c, v[4], "serve.limits.idle", &cfg->serve.idle_timeout_s) != 0) return -1;
    if (cfg->serve.idle_timeout_s < 1 || cfg->serve.idle_timeout_s > 86400)
        return cfg_fail(c, cfg_line(v[4] ? v[4] : map), "serve.limits.idle", "must be from 1 s to 1 day, got %g s",
                        cfg->serve.idle_timeout_s);
    if (cfg->serve.request_timeout_s < 0.01 || cfg->serve.request_timeout_s > 3600)
        return cfg_fail(c, cfg_line(v[3] ? v[3] : map), "serve.limits.request_time",
                        "must be from 10 ms to 1 hour, got %g s", cfg->serve.request_timeout_s);
    return 0;
}

static void defaults(rtml_config *cfg, const yaml_node_t *map) {
    cfg->serve.line = cfg_line(map);
    cfg->serve.refresh_s = DEFAULT_REFRESH_S;
    cfg->serve.threads = DEFAULT_THREADS;
    cfg->serve.open_health = true;
    cfg->serve.max_body_bytes = DEFAULT_BODY;
    cfg->serve.max_records = DEFAULT_RECORDS;
    cfg->serve.max_connections = DEFAULT_CONNECTIONS;
    cfg->serve.request_timeout_s = DEFAULT_REQUEST_S;
    cfg->serve.idle_timeout_s = DEFAULT_IDLE_S;
}

static int parse_listen(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    const char *s;
    if (cfg_get_string(c, n, "serve.listen", &s) != 0) return -1;
    if (!cfg_listen_ok(s))
        return cfg_fail(c, cfg_line(n), "serve.listen",
                        "must be HOST:PORT with a port 0..65535 (0: any free port), got '%.60s'", s);
    return cfg_dup_string(c, n, "serve.listen", &cfg->serve.listen);
}

int rtml_cfg_serve_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"listen", "name", "refresh", "threads", "log_topic", "tls", "auth", "limits", NULL};
    enum { S_LISTEN, S_NAME, S_REFRESH, S_THREADS, S_LOG, S_TLS, S_AUTH, S_LIMITS };
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "serve", keys, v) != 0) return -1;
    defaults(cfg, map);
    if (v[S_LISTEN] ? parse_listen(c, v[S_LISTEN], cfg) : cfg_set_default(&cfg->serve.listen, DEFAULT_LISTEN))
        return v[S_LISTEN] ? -1 : cfg_oom(c, map, "serve.listen");
    if (v[S_NAME]) {
        if (cfg_dup_string(c, v[S_NAME], "serve.name", &cfg->serve.name) != 0) return -1;
        if (!name_ok(cfg->serve.name))
            return cfg_fail(c, cfg_line(v[S_NAME]), "serve.name",
                            "must be 1-128 letters, digits, '-', '_' or '.' (it is part of the URLs), got '%.60s'",
                            cfg->serve.name);
    } else if (cfg_set_default(&cfg->serve.name, DEFAULT_NAME) != 0) {
        return cfg_oom(c, map, "serve.name");
    }
    if (v[S_REFRESH] && cfg_get_duration(c, v[S_REFRESH], "serve.refresh", &cfg->serve.refresh_s) != 0) return -1;
    if (cfg->serve.refresh_s < 0.001 || cfg->serve.refresh_s > 60)
        return cfg_fail(c, cfg_line(v[S_REFRESH]), "serve.refresh", "must be from 1 ms to 60 s, got %g s",
                        cfg->serve.refresh_s);
    size_t threads;
    if (v[S_THREADS]) {
        if (cfg_get_count(c, v[S_THREADS], "serve.threads", 1, 64, &threads) != 0) return -1;
        cfg->serve.threads = (unsigned)threads;
    }
    if (v[S_LOG] && cfg_dup_string(c, v[S_LOG], "serve.log_topic", &cfg->serve.log_topic) != 0) return -1;
    if (cfg->serve.log_topic && !cfg->serve.log_topic[0])
        return cfg_fail(c, cfg_line(v[S_LOG]), "serve.log_topic", "must not be empty");
    if (v[S_TLS] && parse_tls(c, v[S_TLS], cfg) != 0) return -1;
    if (v[S_AUTH] && parse_auth(c, v[S_AUTH], cfg) != 0) return -1;
    return v[S_LIMITS] ? parse_limits(c, v[S_LIMITS], cfg) : 0;
}

/* After the whole file: one endpoint per process, and a log topic that is no other topic of the pipeline. */
int rtml_cfg_serve_check(const cfg_ctx *c, rtml_config *cfg) {
    if (!cfg->serve.listen) return 0;
    if (cfg->workers_auto || cfg->workers > 1)
        return cfg_fail(c, cfg->workers_line, "workers",
                        "serve answers from one model, and each worker has its own: use workers: 1 with serve "
                        "(or one instance per core, each with its own serve.listen)");
    if (cfg->aggregates.n > 0) /* a request would be scored without its key's recent past: not what the stream sees */
        return cfg_fail(c, cfg->serve.line, "serve",
                        "not with aggregates: the endpoint does not compute per-key aggregates, so a request's "
                        "features would differ from the same record's in the stream");
    const char *log = cfg->serve.log_topic;
    if (!log) return 0;
    for (size_t i = 0; i < cfg->input.n_topics; i++)
        if (!strcmp(cfg->input.topics[i], log))
            return cfg_fail(c, cfg->serve.line, "serve.log_topic", "'%s' is also an input topic", log);
    const char *others[] = {cfg->label.topic, cfg->output.topic, cfg->dead_letter.topic, cfg->drift.topic,
                            cfg->models.topic};
    for (size_t i = 0; i < COUNT(others); i++)
        if (others[i] && !strcmp(others[i], log))
            return cfg_fail(c, cfg->serve.line, "serve.log_topic", "'%s' is already a topic of this pipeline", log);
    return 0;
}

void rtml_cfg_serve_free(rtml_config *cfg) {
    free(cfg->serve.listen);
    free(cfg->serve.name);
    free(cfg->serve.log_topic);
    free(cfg->serve.tls_cert);
    free(cfg->serve.tls_key);
    free(cfg->serve.tokens_file);
}

/* "  key: value", or [redacted] where redact.c's rule calls the dotted key secret. */
static void print_str(FILE *out, const char *indent, const char *dotted, const char *value) {
    const char *key = strrchr(dotted, '.') + 1;
    fprintf(out, "%s%s: ", indent, key);
    cfg_put_str(out, rtml_config_is_secret(dotted) ? "[redacted]" : value);
    fputc('\n', out);
}

void rtml_cfg_serve_print(const rtml_config *cfg, FILE *out) {
    if (!cfg->serve.listen) return;
    fputs("serve:\n", out);
    print_str(out, "  ", "serve.listen", cfg->serve.listen);
    print_str(out, "  ", "serve.name", cfg->serve.name);
    fputs("  refresh: ", out);
    cfg_put_num(out, cfg->serve.refresh_s);
    fprintf(out, "s\n  threads: %u\n", cfg->serve.threads);
    if (cfg->serve.log_topic) print_str(out, "  ", "serve.log_topic", cfg->serve.log_topic);
    if (cfg->serve.tls_cert) {
        fputs("  tls:\n", out);
        print_str(out, "    ", "serve.tls.cert", cfg->serve.tls_cert);
        print_str(out, "    ", "serve.tls.key", cfg->serve.tls_key);
    }
    if (cfg->serve.tokens_file) {
        fputs("  auth:\n", out);
        print_str(out, "    ", "serve.auth.tokens_file", cfg->serve.tokens_file);
        fprintf(out, "    open_health: %s\n", cfg->serve.open_health ? "true" : "false");
    }
    fprintf(out, "  limits:\n    body_bytes: %zu\n    records: %zu\n    connections: %zu\n    request_time: ",
            cfg->serve.max_body_bytes, cfg->serve.max_records, cfg->serve.max_connections);
    cfg_put_num(out, cfg->serve.request_timeout_s);
    fputs("s\n    idle: ", out);
    cfg_put_num(out, cfg->serve.idle_timeout_s);
    fputs("s\n", out);
}
