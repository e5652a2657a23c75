/* kafka.h — rtml's thin layer over librdkafka: building client configurations and the few calls every
 * command needs. Everything Kafka-specific stays in kafka*.c and the commands; the pipeline never sees it. */
#ifndef RTML_KAFKA_H
#define RTML_KAFKA_H
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config/config.h"

/* The broker list for commands with --brokers: the option, else $RTML_BROKERS, else 127.0.0.1:9092. */
const char *rtml_kafka_default_brokers(const char *option);

/* A configuration with bootstrap.servers = brokers, then the NULL-terminated key/value pairs in kv.
 * NULL + reason on an invalid property. The caller owns the result (until rd_kafka_new takes it). */
rd_kafka_conf_t *rtml_kafka_conf(const char *brokers, const char *const *kv, char *err, size_t errlen);

/* A configuration from the config file's `kafka:` section, then the overrides in kv (rtml's own needs, e.g.
 * enable.auto.offset.store=false). An invalid property names "FILE:LINE: kafka.KEY: reason". */
rd_kafka_conf_t *rtml_kafka_conf_from_config(const rtml_config *cfg, const char *const *kv, char *err,
                                             size_t errlen);

/* rd_kafka_new, with the reason in err on failure. Takes ownership of conf in every case. */
rd_kafka_t *rtml_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err, size_t errlen);

#endif
