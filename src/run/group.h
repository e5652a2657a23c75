/* group.h — `rtml run` as a member of the consumer group (group.c): rebalances, where each partition starts,
 * handing partitions over, and replacing a consumer that fenced its own static membership. */
#ifndef RTML_RUN_GROUP_H
#define RTML_RUN_GROUP_H
#include <librdkafka/rdkafka.h>

#include "run/runner.h"

/* The consumer's rebalance callback (opaque: the runner): on assignment each partition's start (committed offset
 * and checkpoint); before a revoke the batch scored, re-learning finished, the outputs committed, a checkpoint. */
void rtml_run_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                           void *opaque);
/* Replace a consumer that fenced its own static membership (clients.fenced). 0, or -1 when the run must stop. */
int rtml_run_rejoin(rtml_runner *r);

#endif
