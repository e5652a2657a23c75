/* test_worker_config.c — what `workers: N` changes in each worker's config (config/scale.c): its own state
 * directory, member and transactional identities, and monitor port; a port past 65535 is refused. */
#include "check.h"
#include "config/config.h"
#include "config/scale.h"
#include "base/rtml.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *yaml, rtml_config *cfg) {
    char err[256];
    int rc = rtml_config_parse("ex.yaml", yaml, strlen(yaml), cfg, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

static void test_identities_and_ports(void) {
    static const char yaml[] = "kafka:\n  group.id: g\n  group.instance.id: host-a\n  transactional.id: tx\n"
                               "features: [{name: x}]\nstate: {dir: /var/lib/rtml}\nworkers: 3\n"
                               "monitor: {listen: '127.0.0.1:9464'}\n";
    for (unsigned k = 0; k < 3; k++) {
        rtml_config cfg;
        char err[256], want[64];
        CHECK(parse(yaml, &cfg) == 0);
        CHECK(rtml_config_for_worker(&cfg, k, err, sizeof err) == 0);
        snprintf(want, sizeof want, "/var/lib/rtml/worker-%u", k);
        CHECK_STR(cfg.state.dir, want);
        snprintf(want, sizeof want, "host-a-worker-%u", k);
        CHECK_STR(rtml_config_kafka(&cfg, "group.instance.id"), want);
        snprintf(want, sizeof want, "tx-worker-%u", k);
        CHECK_STR(rtml_config_kafka(&cfg, "transactional.id"), want);
        CHECK_STR(rtml_config_kafka(&cfg, "group.id"), "g"); /* one group: the workers are its members */
        snprintf(want, sizeof want, "127.0.0.1:%u", 9464 + k);
        CHECK_STR(cfg.monitor.listen, want);
        rtml_config_free(&cfg);
    }
}

static void test_any_port_and_overflow(void) {
    rtml_config cfg;
    char err[256];
    CHECK(parse("features: [{name: x}]\nworkers: 2\nmonitor: {listen: '[::1]:0'}\n", &cfg) == 0);
    CHECK(rtml_config_for_worker(&cfg, 1, err, sizeof err) == 0);
    CHECK_STR(cfg.monitor.listen, "[::1]:0"); /* any free port: each worker binds its own */
    CHECK_STR(cfg.state.dir, "./state/worker-1");
    CHECK(rtml_config_kafka(&cfg, "group.instance.id") == NULL); /* dynamic membership stays dynamic */
    rtml_config_free(&cfg);
    CHECK(parse("features: [{name: x}]\nworkers: 4\nmonitor: {listen: '0.0.0.0:65534'}\n", &cfg) == 0);
    CHECK(rtml_config_for_worker(&cfg, 3, err, sizeof err) != 0);
    CHECK(strstr(err, "65537") != NULL);
    rtml_config_free(&cfg);
}

int main(void) {
    test_identities_and_ports();
    test_any_port_and_overflow();
    return check_exit("test_worker_config");
}
