/* test_redact.c — the secret-key rule (redact.c) and its use by `rtml check`'s printer: every secret-bearing
 * property librdkafka (and Java clients' habits) knows is caught, ordinary properties stay visible, and a
 * printed config shows "[redacted]" where the password was, and still parses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "config/redact.h"
#include "base/rtml.h"

static void test_rule(void) {
    static const char *const secret[] = {
        "sasl.password", "sasl.jaas.config", "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password",
        "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl.certificate.pem",
        "SASL.Password", "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config", "basic.auth.user.info.passwd",
        "schema.registry.basic.auth.credentials.source", "sasl.oauthbearer.token.endpoint.url",
        "some.plugin.api.secret", "ssl.private.key", NULL};
    static const char *const visible[] = {
        "bootstrap.servers", "group.id", "security.protocol", "sasl.mechanisms", "sasl.mechanism", "sasl.username",
        "ssl.key.location", "ssl.keystore.location", "ssl.ca.location", "ssl.certificate.location",
        "enable.idempotence", "acks", "client.id", "transactional.id", "debug", "sasl.kerberos.keytab",
        "auto.offset.reset", "", NULL};
    for (size_t i = 0; secret[i]; i++)
        if (!rtml_config_is_secret(secret[i])) {
            CHECK(!"a secret key was not recognised");
            fprintf(stderr, "  key: %s\n", secret[i]);
        }
    for (size_t i = 0; visible[i]; i++)
        if (rtml_config_is_secret(visible[i])) {
            CHECK(!"an ordinary key was taken for a secret");
            fprintf(stderr, "  key: %s\n", visible[i]);
        }
    CHECK(!rtml_config_is_secret(NULL));
}

static char *print_to_string(const rtml_config *cfg) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    rtml_config_print(cfg, f);
    fclose(f);
    return text;
}

static void test_print(void) {
    const char *yaml = "kafka:\n"
                       "  bootstrap.servers: 127.0.0.1:9093\n"
                       "  security.protocol: SASL_PLAINTEXT\n"
                       "  sasl.mechanisms: SCRAM-SHA-256\n"
                       "  sasl.username: rtml\n"
                       "  sasl.password: hunter2-s3cret\n"
                       "  ssl.key.pem: '-----BEGIN PRIVATE KEY----- abc'\n"
                       "features: [{name: x}]\n";
    rtml_config cfg, back;
    char err[RTML_ERRLEN];
    if (rtml_config_parse("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "parse: %s\n", err);
        CHECK(!"the test config parses");
        return;
    }
    CHECK_STR(rtml_config_kafka(&cfg, "sasl.password"), "hunter2-s3cret"); /* redaction is for display only */
    char *text = print_to_string(&cfg);
    CHECK(text != NULL);
    if (!text) return;
    CHECK(strstr(text, "hunter2") == NULL);
    CHECK(strstr(text, "BEGIN PRIVATE KEY") == NULL);
    CHECK(strstr(text, "sasl.password: \"[redacted]\"\n") != NULL);
    CHECK(strstr(text, "ssl.key.pem: \"[redacted]\"\n") != NULL);
    CHECK(strstr(text, "sasl.username: rtml\n") != NULL);
    CHECK(strstr(text, "bootstrap.servers: 127.0.0.1:9093\n") != NULL);
    /* The printed config still parses (the fuzzer relies on it), with the placeholder as the value. */
    if (rtml_config_parse("printed.yaml", text, strlen(text), &back, err, sizeof err) == 0) {
        CHECK_STR(rtml_config_kafka(&back, "sasl.password"), "[redacted]");
        CHECK_STR(rtml_config_kafka(&back, "sasl.username"), "rtml");
        rtml_config_free(&back);
    } else {
        fprintf(stderr, "printed config does not parse: %s\n%s", err, text);
        CHECK(!"the printed config parses");
    }
    free(text);
    rtml_config_free(&cfg);
}

int main(void) {
    test_rule();
    test_print();
    return check_exit("test_redact");
}
