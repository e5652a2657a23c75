/* clients.h — the consumer and producer of `rtml run` (clients.c): settings, identities, opening, commits.
 *
 * at_least_once: rtml stores an offset only over a prefix of inputs whose outputs were acknowledged (offsets.h)
 * and commits them itself, one commit at a time, and synchronously at revoke and shutdown. exactly_once:
 * nothing is committed here; input offsets go into the producer's transactions (output.h). */
#ifndef RTML_RUN_CLIENTS_H
#define RTML_RUN_CLIENTS_H
#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "run/runner.h"

/* The clients' callbacks, which live above them: the group's rebalances (group.h), librdkafka's statistics
 * (status.h) and the producer's delivery reports (output.h). */
typedef struct {
    void (*on_delivery)(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
    void (*on_rebalance)(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque);
    int (*on_stats)(rd_kafka_t *rk, char *json, size_t len, void *opaque);
} rtml_run_client_cbs;

/* The instance's identities (transactional.id, group.instance.id, the commits' metadata), the producer, and
 * the consumer subscribed to the input topics (and label.topic). 0, or -1 with the reason. */
int rtml_run_open_clients(rtml_runner *r, const rtml_run_client_cbs *cbs, char *err, size_t errlen);
/* exactly_once: a new producer with the same transactional.id in place of one the transaction coordinator
 * fenced (output.c says when); its init fences the old epoch and aborts what it left open. 0, or -1. */
int rtml_run_reopen_producer(rtml_runner *r, char *err, size_t errlen);
/* exactly_once: the producer is fenced because the coordinator timed out the open transaction (not by another
 * instance), and fewer than RTML_TXN_RENEWALS_MAX producers were replaced since the last commit: a new producer
 * may take over. */
bool rtml_run_txn_timed_out(const rtml_runner *r);
/* Destroy the producer and its topic handles. */
void rtml_run_close_producer(rtml_runner *r);
/* A new consumer with the callbacks given at the start (a replacement for a fenced one). 0, or -1. */
int rtml_run_open_consumer(rtml_runner *r, char *err, size_t errlen);
/* A client's settings: the config's kafka section for this client kind, with defaults under it and required
 * values over it ({key, value, ..., NULL} lists, either NULL). A new conf the caller owns, or NULL + reason. */
rd_kafka_conf_t *rtml_run_client_conf(const rtml_config *cfg, bool consumer, const char *const *defaults,
                                      const char *const *required, char *err, size_t errlen);
/* A fatal consumer error: a fenced static membership sets clients.fenced (group.h's rtml_run_rejoin replaces the
 * consumer), anything else stops the run. */
void rtml_run_consumer_fatal(rtml_runner *r);
/* p's offset to commit, with this instance's name as its metadata (who committed it: group.c reads it). */
void rtml_run_set_owner(const rtml_runner *r, rd_kafka_topic_partition_t *p, int64_t offset);
/* at_least_once: store the advanced watermarks of assigned partitions, for the next commit. */
void rtml_run_store_offsets(rtml_runner *r);
/* at_least_once: collect the answer to the commit in flight; when none is and one is due, commit the stored
 * offsets (asynchronously, one at a time: in order). */
void rtml_run_commit_offsets(rtml_runner *r, double now);
/* at_least_once: wait for the commit in flight, store, and commit synchronously (revoke, shutdown). */
rd_kafka_resp_err_t rtml_run_commit_now(rtml_runner *r);
/* The producer's handle of topic when topic is one of the config's output topics (the output, dead-letter or
 * drift topic: the config's own string, compared as a pointer), else NULL (produce by name). Producing by name
 * looks the topic up among the producer's topics each time: about 240 instructions per record. */
rd_kafka_topic_t *rtml_run_output_handle(const rtml_runner *r, const char *topic);
/* Destroy the consumer and its commit queue. */
void rtml_run_close_consumer(rtml_runner *r);
/* Pause or resume the assigned partitions (of topic only, when it is not NULL); what names them in logs. -1 when
 * the assignment cannot be read (nothing done), 1 when librdkafka refused (logged), 0 when done. */
int rtml_run_pause_partitions(rtml_runner *r, const char *topic, bool pause, const char *what);

#endif
