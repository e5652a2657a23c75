/* run.h — the state of `rtml run`, shared by its three files:
 *
 *   cmd_run.c     the command: options, set-up, the consume loop, checkpoints, shutdown
 *   run_kafka.c   the clients: their settings, rebalances (where each partition starts), offset commits
 *   run_output.c  what goes out: predictions, dead letters, delivery reports, and (exactly_once) the
 *                 transactions that carry outputs and input offsets together
 *   run_monitor.c the monitor's documents and history, librdkafka statistics, drift events and actions
 *   run_metrics.c /metrics in Prometheus' text format
 *   run_models.c  the model topic: publishing versions (trainer, both) and following them (predictor)
 *   run_workers.c `workers: N`: N runners in one process, each a member of the group on its own thread
 *
 * One thread drives a runner (librdkafka's own threads do the network I/O), so none of this is locked; the
 * model topic's watcher thread (run_models.c) shares only its own state, under its own mutex. With workers,
 * each worker thread has a runner of its own and they share nothing but rtml_run_stop and the team's
 * counters (rtml_worker). */
#ifndef RTML_RUN_H
#define RTML_RUN_H
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "monitor/metrics.h"
#include "monitor/monitor.h"
#include "state/offsets.h"
#include "pipeline/pipeline.h"

/* A record in the pending batch: its message stays alive until its output is produced (the output keeps
 * the input's key, a dead letter its payload), with the ticket that marks its offset done (at_least_once). */
typedef struct {
    rd_kafka_message_t *m;
    uint64_t ticket;
    int slot;  /* its partition's slot in the offsets */
    bool emit; /* false: its output is already committed (re-delivered after a restart): produce nothing */
    double at; /* when it was read (monotonic seconds): processing latency */
} rtml_held;

struct rtml_run_history; /* the dashboard's samples (run_monitor.c) */
typedef struct rtml_run_models rtml_run_models; /* the model topic's state (run_models.c) */

/* `rtml run`'s command-line options. */
typedef struct {
    const char *config_path;
    unsigned long long max_records; /* 0 = unbounded; with workers, per worker */
    double exit_on_idle;            /* seconds, 0 = never */
} rtml_run_opts;

/* One of the workers of a process (run_workers.c); a runner without workers has none (NULL). */
typedef struct {
    unsigned index, count;
    _Atomic unsigned *assigned; /* workers that got partitions so far (shared by the team) */
} rtml_worker;

typedef struct {
    rtml_config cfg;
    const rtml_worker *worker; /* NULL: the process's only runner */
    rtml_pipeline pipe;
    rtml_offsets offsets; /* in-flight records, and every partition's positions (offsets.h) */
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *commit_q; /* at_least_once: the answers to rtml's commits (run_kafka.c) */
    bool commit_in_flight;
    double last_commit;
    rd_kafka_topic_t *outputs[3]; /* the producer's topics, known before the first record (run_kafka.c) */
    bool exactly_once;
    rtml_held *held; /* the pending batch's messages, by tag; pipe.batch_size of them */
    size_t n_held;
    bool paused;     /* input partitions paused: too many outputs unacknowledged */
    bool labels_paused;        /* label.topic's partitions paused: too many labels wait for their records */
    double labels_paused_at;   /* since when (monotonic) */
    unsigned long long label_pauses;
    /* exactly_once */
    bool txn_open;
    double txn_started;
    uint64_t txn_commits, txn_aborts;
    char transactional_id[256];
    char group_instance_id[256]; /* "": a dynamic member (run_kafka.c) */
    char commit_owner[300];      /* "rtml:<instance name>": the metadata of this instance's commits (run_kafka.c) */
    /* checkpoints */
    uint64_t ckpt_seq;
    int lock_fd;            /* state.dir's lock, held while running (checkpoint.h) */
    bool positions_changed; /* a partition got its first position: checkpoint even if no record was read */
    bool closing;           /* shutting down: revoked partitions keep their positions (run_kafka.c) */
    bool consumer_fenced;   /* the consumer fenced its own static membership: the loop replaces it */
    double rejoined_at;     /* when the consumer was last replaced (monotonic; 0: never) */
    unsigned long long rejoins;
    double last_checkpoint;
    uint64_t learned_at_checkpoint, records_at_checkpoint, ckpt_failures;
    /* counters for the report and logs */
    unsigned long long delivered, delivery_failed, rebalances, dead_letters, pauses;
    /* records of revoked partitions learned here but not committed at the handover (the commit failed): the
     * next owner answers and learns them again, so the group's learned total may exceed the input by this */
    unsigned long long handover_uncommitted;
    /* records below a revoked partition's committed offset that it had still to re-learn after a restart and that
     * could not be read before it went (run_kafka.c): no model learns them */
    unsigned long long handover_unlearned;
    unsigned long long stale_dropped; /* messages of partitions no longer assigned here, dropped (cmd_run.c) */
    uint64_t client_errors; /* transient client errors, for rate-limited logging */
    double first_at, last_at; /* when the first and the latest record arrived (the report's time span) */
    double assigned_at;       /* when partitions were first assigned (0: not yet) */
    unsigned long long dead_letters_by[RTML_REJECT__COUNT];
    char first_delivery_error[256];
    char fatal[512]; /* set when the run must stop with an error (fenced producer, failed produce) */
    /* monitoring (run_monitor.c) */
    rtml_metrics metrics;
    rtml_monitor *monitor;            /* NULL without monitor.listen */
    struct rtml_run_history *history; /* NULL without monitor.listen */
    rtml_monitor_docs docs;           /* render buffers, swapped with the published ones */
    double monitor_rendered;          /* monotonic */
    double started_wall;
    uint64_t drift_seen;              /* drift events already handled */
    rtml_run_models *models;          /* NULL without models.topic */
} rtml_runner;

/* Set by the SIGINT/SIGTERM handler (cmd_run.c) and by fatal errors; read by the loop (of every worker). */
extern volatile sig_atomic_t rtml_run_stop;

/* cmd_run.c: one runner from start to its final report (one JSON object, no newline, appended to report);
 * the exit status (0, 1 failure, 2 bad config). */
int rtml_run_instance(const rtml_run_opts *o, const rtml_worker *w, rtml_buf *report);

/* run_workers.c */
/* What worker w changes in its config: its own state.dir/worker-K, group.instance.id and transactional.id
 * suffixed -worker-K, its monitor on port + K. 0, or -1 with the reason (out of memory). */
int rtml_run_worker_config(rtml_config *cfg, const rtml_worker *w, char *err, size_t errlen);
/* Run n workers (n > 1) and print one report: the totals, and each worker's. The highest exit status. */
int rtml_run_workers(const rtml_run_opts *o, unsigned n);

/* cmd_run.c: one record of an input or label partition (offsets slot `slot`) into the pipeline; takes m. A
 * record below learn_next is scored only, one below emit_from gets no output. */
void rtml_run_handle(rtml_runner *r, rd_kafka_message_t *m, int slot);

/* cmd_run.c: write the model (TensorFlow: as a new SavedModel version first) and the positions, unless
 * nothing was read since the last checkpoint. A failure (a full disk) is logged and counted, and the stream
 * goes on: the previous checkpoint stays valid, only older. 0, or -1. */
int rtml_run_checkpoint(rtml_runner *r);

/* run_kafka.c */
int rtml_run_open_clients(rtml_runner *r, char *err, size_t errlen);
/* A fatal consumer error: a fenced static membership is left to rtml_run_rejoin, anything else stops the run. */
void rtml_run_consumer_fatal(rtml_runner *r);
/* Replace a consumer that fenced its own static membership (see run_kafka.c). 0, or -1 when the run must stop. */
int rtml_run_rejoin(rtml_runner *r);
/* p's offset to commit, with this instance's name as its metadata (who committed it: run_kafka.c). */
void rtml_run_set_owner(const rtml_runner *r, rd_kafka_topic_partition_t *p, int64_t offset);
/* at_least_once: store the advanced watermarks of assigned partitions, for the next commit. */
void rtml_run_store_offsets(rtml_runner *r);
/* at_least_once: collect the answer to the commit in flight; when none is and one is due, commit the stored
 * offsets (asynchronously, one at a time: in order). */
void rtml_run_commit_offsets(rtml_runner *r, double now);
/* at_least_once: wait for the commit in flight, store, and commit synchronously (revoke, shutdown). */
rd_kafka_resp_err_t rtml_run_commit_now(rtml_runner *r);
/* Destroy the consumer and its commit queue. */
void rtml_run_close_consumer(rtml_runner *r);
/* Pause every assigned partition, or resume them (backpressure). */
void rtml_run_pause(rtml_runner *r, bool pause);
/* Pause label.topic's assigned partitions, or resume them. */
void rtml_run_pause_labels(rtml_runner *r, bool pause);

/* run_monitor.c */
/* Counters, and the HTTP server when monitor.listen is set: 0, or -1 with the reason (a port in use). */
int rtml_run_monitor_open(rtml_runner *r, char *err, size_t errlen);
void rtml_run_monitor_close(rtml_runner *r);
/* Each loop iteration: a history sample once a second; documents when asked or once a second. */
void rtml_run_monitor_tick(rtml_runner *r, double now);
/* librdkafka's statistics callback (the consumer's): per-partition lag. */
int rtml_run_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque);
/* After each batch: act on a new drift event (log, event record, rollback). */
void rtml_run_drift(rtml_runner *r);
/* run_metrics.c: /metrics into b (reset first). */
void rtml_run_render_metrics(rtml_runner *r, rtml_buf *b);

/* run_models.c */
/* With models.topic: read the topic, create the writer (trainer, both: it fences an older trainer), resume from
 * the newest version when state.dir had no checkpoint (restored false), or (predictor) wait for a first version
 * and serve it — until a signal, or give_up_s seconds when > 0. Then start the watcher thread. 0, or -1. */
int rtml_run_models_open(rtml_runner *r, bool restored, double give_up_s, char *err, size_t errlen);
/* Each loop iteration: swap in a loaded version (predictor), apply a rollback, publish when due (trainer). */
void rtml_run_models_tick(rtml_runner *r, double now);
/* At shutdown, after the last batch: a trainer publishes what it learned since its last version. */
void rtml_run_models_finish(rtml_runner *r);
void rtml_run_models_close(rtml_runner *r);
typedef struct {
    int64_t newest, pinned;
    uint64_t published, publish_failures, swaps, load_failures;
} rtml_run_models_stats;
void rtml_run_models_counts(const rtml_runner *r, rtml_run_models_stats *s);

/* run_output.c */
/* An event record (JSON) to topic, keyed "drift", in the open transaction under exactly_once. */
void rtml_run_send_event(rtml_runner *r, const char *topic, const rtml_buf *json);
/* The pipeline hands back each record of a scored batch, in order (rtml_emit_fn). */
void rtml_run_emit(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *prediction);
/* A record rejected before it reached a batch: to the dead-letter topic (or counted only, without one). */
void rtml_run_reject(rtml_runner *r, const rtml_held *h, rtml_reject why, const char *detail);
/* Score the pending batch and produce its outputs. */
void rtml_run_flush_batch(rtml_runner *r);
void rtml_run_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
/* exactly_once: commit the open transaction (outputs + input offsets) when it is older than max_age
 * seconds (0: now). On an abortable error it aborts and rewinds the input to the last commit. 0, or -1 when
 * the producer cannot go on (fenced: another instance took over). */
int rtml_run_txn_commit(rtml_runner *r, double max_age);
/* exactly_once: abort the open transaction and rewind the assigned partitions to their last committed offsets
 * (their records are answered again, not learned again). 0, or -1 when the producer cannot go on. */
int rtml_run_txn_abort(rtml_runner *r);

#endif
