/* topics.h — topics rtml creates for itself (the model topic, an aggregates' repartition topic): look one up
 * without creating it, create it with its settings, and wait until it can be used. */
#ifndef RTML_KAFKA_TOPICS_H
#define RTML_KAFKA_TOPICS_H
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

/* The topic's partition count and whether every partition has a leader, from the cluster's full topic list (a
 * request naming the topic could create it on a broker with auto.create.topics.enable): 1 found, 0 not, -1 with
 * the reason (no broker answered within timeout_ms). */
int rtml_kafka_topic_look_up(rd_kafka_t *rk, const char *topic, int timeout_ms, int *partitions, bool *led, char *err,
                             size_t errlen);
/* Create the topic (what names it in messages: "the model topic x"), partitions of them, the broker's default
 * replication, with configs ({name, value, ..., NULL}); then wait until every partition has a leader. Existing is
 * as good (its partition count is checked against partitions when that is > 0). 0, or -1 with the reason. */
int rtml_kafka_ensure_topic(rd_kafka_t *rk, const char *what, const char *topic, int partitions,
                            const char *const *configs, int timeout_ms, char *err, size_t errlen);

#endif
