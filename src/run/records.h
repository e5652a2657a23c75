/* records.h — records in (records.c): a consumed message to the pipeline or, from label.topic, to its join; and
 * the flow control of both (backpressure on the inputs, label partitions paused while labels run ahead). */
#ifndef RTML_RUN_RECORDS_H
#define RTML_RUN_RECORDS_H
#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "run/runner.h"

/* A message from the consumer; takes m. Records of partitions not assigned here are dropped (counted). */
void rtml_run_take(rtml_runner *r, rd_kafka_message_t *m);
/* One record of an input or label partition (offsets slot `slot`) into the pipeline; takes m. A record below
 * learn_next is scored only, one below emit_from gets no output. */
void rtml_run_handle(rtml_runner *r, rd_kafka_message_t *m, int slot);

/* Backpressure: pause the inputs while too many outputs are unacknowledged, resume at half; true while paused. */
bool rtml_run_throttle(rtml_runner *r);
/* label.topic: pause its partitions while half of label.max_early labels wait for their records, resume at a
 * quarter (or after 10 s, so the label stream never stalls). */
void rtml_run_labels_flow(rtml_runner *r);
void rtml_run_pause_labels(rtml_runner *r, bool pause);
/* After a rebalance: nothing is paused (the loop pauses the new assignment again if it must). */
void rtml_run_flow_rebalanced(rtml_runner *r);
/* A new consumer: nothing is paused. */
void rtml_run_flow_reset(rtml_runner *r);

#endif
