/* repartition.h — aggregates keyed by a field of the record (repartition.c): every record of a key must reach the
 * member that holds that key's aggregates, so the input is re-keyed through an internal topic first, as Kafka
 * Streams does. The topic (aggregates.repartition_topic, default "<group.id>-aggregates") has the input's partition
 * count; a record goes there unchanged, keyed by its aggregates' key, with headers saying where it came from
 * (rtml.source.topic, rtml.source.partition, rtml.source.offset) and its own key (rtml.key), and keeps its
 * timestamp. The same member then reads that topic like an input: its predictions carry the original key and
 * source. Under exactly_once the hop is in the same transactions as everything else; under at_least_once an input
 * offset is committed once its re-keyed record is acknowledged. */
#ifndef RTML_RUN_REPARTITION_H
#define RTML_RUN_REPARTITION_H
#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "pipeline/pipeline.h"
#include "run/runner.h"

/* With a repartition: its topic (created when missing, with the input's partition count) and the key's decoder.
 * 0, or -1 with the reason. */
int rtml_run_repartition_open(rtml_runner *r, char *err, size_t errlen);
void rtml_run_repartition_close(rtml_runner *r);
/* Is a record of this topic re-keyed (an input topic under a repartition)? */
bool rtml_run_repartitions(const rtml_runner *r, const char *topic);
/* Is it a re-keyed one (the internal topic)? */
bool rtml_run_repartitioned(const rtml_runner *r, const char *topic);
/* An input record's key for the internal topic (valid until the next call): RTML_REJECT_NONE, or why it has none. */
rtml_reject rtml_run_repartition_key(rtml_runner *r, const rd_kafka_message_t *m, const char **key, size_t *len,
                                     char *detail, size_t dlen);
/* A re-keyed record's source (topic, partition, offset, its own key) from its headers, into o. */
void rtml_run_repartition_origin(rtml_runner *r, const rd_kafka_message_t *m, rtml_origin *o);
/* The key an output of m goes out with: a re-keyed record's own key (header rtml.key), else m's. */
const void *rtml_run_output_key(const rtml_runner *r, const rd_kafka_message_t *m, size_t *len);

#endif
