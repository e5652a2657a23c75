/* kafka.c — client configuration helpers (see kafka.h), and librdkafka's log lines in rtml's log. */
#include "kafka/kafka.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/log.h"
#include "base/rtml.h"

const char *rtml_kafka_default_brokers(const char *option) {
    if (option && *option) return option;
    const char *env = getenv("RTML_BROKERS");
    return env && *env ? env : "127.0.0.1:9092";
}

static int set_all(rd_kafka_conf_t *c, const char *const *kv, char *err, size_t errlen) {
    char why[512];
    for (; kv && kv[0]; kv += 2)
        if (rd_kafka_conf_set(c, kv[0], kv[1], why, sizeof why) != RD_KAFKA_CONF_OK)
            return rtml_fail(err, errlen, "kafka property %s: %s", kv[0], why);
    return 0;
}

#define KAFKA_LOG_PER_MINUTE 30

/* librdkafka's log lines are rate-limited as a whole: a broker that stays down makes every client log each
 * reconnect for as long as it is down. The budget is per process, shared by all its clients, and librdkafka
 * calls this from its own threads: hence one mutex-guarded limiter (the only state here; debug lines, asked
 * for with the `debug` property, are not limited). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static rtml_log_limiter log_limiter;

/* librdkafka's own log lines (syslog levels) in rtml's format, so one process writes one kind of line. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    rtml_log_level l = level <= 3 ? RTML_LOG_ERROR : level == 4 ? RTML_LOG_WARN : level <= 6 ? RTML_LOG_INFO
                                                                                           : RTML_LOG_DEBUG;
    if (l == RTML_LOG_DEBUG) {
        rtml_log(l, "kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    pthread_mutex_lock(&log_lock);
    rtml_log_limited(&log_limiter, l, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, KAFKA_LOG_PER_MINUTE,
                     "kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
    pthread_mutex_unlock(&log_lock);
}

static rd_kafka_conf_t *conf_new(void) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, on_log);
    return c;
}

rd_kafka_conf_t *rtml_kafka_conf(const char *brokers, const char *const *kv, char *err, size_t errlen) {
    rd_kafka_conf_t *c = conf_new();
    const char *boot[] = {"bootstrap.servers", brokers, NULL};
    if (set_all(c, boot, err, errlen) != 0 || set_all(c, kv, err, errlen) != 0) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    return c;
}

rd_kafka_conf_t *rtml_kafka_conf_from_config(const rtml_config *cfg, const char *const *kv, char *err,
                                             size_t errlen) {
    rd_kafka_conf_t *c = conf_new();
    char why[512];
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const rtml_kv *p = &cfg->kafka[i];
        if (rd_kafka_conf_set(c, p->key, p->value, why, sizeof why) != RD_KAFKA_CONF_OK) {
            rtml_fail(err, errlen, "%s:%d: kafka.%s: %s", cfg->path, p->line, p->key, why);
            rd_kafka_conf_destroy(c);
            return NULL;
        }
    }
    if (set_all(c, kv, err, errlen) != 0) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    return c;
}

rd_kafka_t *rtml_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err, size_t errlen) {
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new only takes it on success */
        rtml_fail(err, errlen, "cannot create the Kafka client: %s", why);
    }
    return rk;
}
