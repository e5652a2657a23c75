/* output.h — what `rtml run` produces (output.c): predictions, dead letters, event records, their delivery
 * reports, and under exactly_once the transactions that carry outputs and input offsets together. */
#ifndef RTML_RUN_OUTPUT_H
#define RTML_RUN_OUTPUT_H
#include <librdkafka/rdkafka.h>

#include "pipeline/pipeline.h"
#include "run/runner.h"

/* Score the pending batch and produce its outputs; then r->after_batch. */
void rtml_run_flush_batch(rtml_runner *r);
/* The pipeline hands back each record of a scored batch, in order (rtml_emit_fn; ctx: the runner). */
void rtml_run_emit(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *prediction);
/* A record rejected before it reached a batch: to the dead-letter topic (or counted only, without one). */
void rtml_run_reject(rtml_runner *r, const rtml_held *h, rtml_reject why, const char *detail);
/* An input record, unchanged, to the aggregates' repartition topic keyed by key (repartition.h): done for its input
 * offset once acknowledged (at_least_once) or in the open transaction (exactly_once). */
void rtml_run_send_rekeyed(rtml_runner *r, const rtml_held *h, const char *key, size_t klen);
/* An event record (JSON) to topic, keyed "drift", in the open transaction under exactly_once. */
void rtml_run_send_event(rtml_runner *r, const char *topic, const rtml_buf *json);
/* The producer's delivery report callback (opaque: the runner). */
void rtml_run_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
/* exactly_once: commit the open transaction (outputs + input offsets) when it is older than max_age seconds
 * (0: now). On an abortable error it aborts and rewinds the input to the last commit. 0, or -1 when the producer
 * cannot go on (fenced: another instance took over). */
int rtml_run_txn_commit(rtml_runner *r, double max_age);
/* exactly_once: abort the open transaction and rewind the assigned partitions to their last committed offsets
 * (their records are answered again, not learned again). 0, or -1 when the producer cannot go on. */
int rtml_run_txn_abort(rtml_runner *r);

#endif
