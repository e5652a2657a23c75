/* test_serve_config.c — the serve section (config/serve.c): its defaults, every key read, `rtml check`'s print
 * (which parses back to the same section, the tokens file printed [redacted] by redact.c's rule), and each
 * refusal naming the file, the line and the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"

static const char *BASE = "input: {topics: [in]}\nfeatures: [{name: x, field: /x}]\noutput: {topic: out}\n";

static int parse(const char *serve, rtml_config *cfg, char *err, size_t errlen) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "%s%s", BASE, serve);
    return rtml_config_parse("s.yaml", yaml, strlen(yaml), cfg, err, errlen);
}

static void test_defaults(void) {
    rtml_config c;
    char err[512];
    CHECK(parse("", &c, err, sizeof err) == 0);
    CHECK(c.serve.listen == NULL); /* no section: no endpoint */
    rtml_config_free(&c);
    CHECK(parse("serve: {}\n", &c, err, sizeof err) == 0);
    CHECK_STR(c.serve.listen, "127.0.0.1:8080");
    CHECK_STR(c.serve.name, "rtml");
    CHECK_NEAR(c.serve.refresh_s, 0.1, 1e-12);
    CHECK(c.serve.threads == 2 && c.serve.open_health && !c.serve.log_topic && !c.serve.tls_cert && !c.serve.tokens_file);
    CHECK(c.serve.max_body_bytes == 1048576 && c.serve.max_records == 1000 && c.serve.max_connections == 256);
    CHECK_NEAR(c.serve.request_timeout_s, 10, 1e-12);
    CHECK_NEAR(c.serve.idle_timeout_s, 30, 1e-12);
    rtml_config_free(&c);
}

static char *printed(const rtml_config *c) {
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    rtml_config_print(c, f);
    fclose(f);
    return text;
}

static void test_full(void) {
    rtml_config c, back;
    char err[512];
    CHECK(parse("serve:\n  listen: 0.0.0.0:9000\n  name: fraud.v2\n  refresh: 250ms\n  threads: 4\n  log_topic: served\n"
                "  tls: {cert: c.pem, key: k.pem}\n  auth: {tokens_file: /etc/rtml/tokens, open_health: false}\n"
                "  limits: {body_bytes: 65536, records: 10, connections: 16, request_time: 2s, idle: 5s}\n",
                &c, err, sizeof err) == 0);
    CHECK_STR(c.serve.listen, "0.0.0.0:9000");
    CHECK_STR(c.serve.name, "fraud.v2");
    CHECK_NEAR(c.serve.refresh_s, 0.25, 1e-12);
    CHECK(c.serve.threads == 4 && !c.serve.open_health);
    CHECK_STR(c.serve.log_topic, "served");
    CHECK_STR(c.serve.tls_key, "k.pem");
    CHECK_STR(c.serve.tokens_file, "/etc/rtml/tokens");
    CHECK(c.serve.max_body_bytes == 65536 && c.serve.max_records == 10 && c.serve.max_connections == 16);
    char *text = printed(&c);
    CHECK(strstr(text, "tokens_file: \"[redacted]\"") != NULL);
    CHECK(strstr(text, "/etc/rtml/tokens") == NULL);
    CHECK(rtml_config_parse("p.yaml", text, strlen(text), &back, err, sizeof err) == 0);
    CHECK_STR(back.serve.listen, c.serve.listen);
    CHECK_NEAR(back.serve.request_timeout_s, 2, 1e-12);
    CHECK(back.serve.max_connections == 16 && back.serve.threads == 4 && !back.serve.open_health);
    free(text);
    rtml_config_free(&back);
    rtml_config_free(&c);
}

static void refused(const char *serve, const char *where) {
    rtml_config c;
    char err[512] = "";
    CHECK(parse(serve, &c, err, sizeof err) != 0);
    if (!strstr(err, where)) fprintf(stderr, "  '%s' lacks '%s'\n", err, where);
    CHECK(strstr(err, where) != NULL);
}

static void test_refusals(void) {
    refused("serve: {listen: nowhere}\n", "s.yaml:4: serve.listen");
    refused("serve: {name: \"a/b\"}\n", "s.yaml:4: serve.name");
    refused("serve: {refresh: 2m}\n", "serve.refresh: must be from 1 ms to 60 s");
    refused("serve: {threads: 0}\n", "serve.threads");
    refused("serve: {tls: {cert: c.pem}}\n", "serve.tls.key: required");
    refused("serve: {auth: {open_health: true}}\n", "serve.auth.tokens_file: required");
    refused("serve: {auth: {tokens_file: t, open_health: maybe}}\n", "serve.auth.open_health");
    refused("serve: {limits: {records: 0}}\n", "serve.limits.records");
    refused("serve: {limits: {idle: 2d}}\n", "serve.limits.idle");
    refused("serve: {bogus: 1}\n", "serve.bogus");
    refused("serve: {log_topic: in}\n", "serve.log_topic: 'in' is also an input topic");
    refused("serve: {log_topic: out}\n", "serve.log_topic: 'out' is already a topic");
    refused("serve: {}\nworkers: 2\n", "workers: serve answers from one model");
}

int main(void) {
    test_defaults();
    test_full();
    test_refusals();
    return check_exit("test_serve_config");
}
