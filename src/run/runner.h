/* runner.h — the state of one `rtml run` member (a runner), and what every file of run/ shares about it.
 *
 * The daemon is split by what each part owns; each sub-struct below is written by one file (others may read it):
 *   clients     clients.c     the consumer and producer, their identities and settings, commits
 *   group       group.c       the group's rebalances: where partitions start, handovers, a fenced member's rejoin
 *   input       records.c     records read and held in the pending batch, backpressure, the stream's time span
 *   labels      records.c     label.topic's flow control
 *   out         output.c      outputs: predictions, dead letters, delivery reports
 *   txn         output.c      exactly_once: the open transaction
 *   ckpt        checkpoint.c  checkpoints of the model and the positions
 *   mon         status.c      counters, the monitor's documents and history (drift.c: the drift events seen)
 *   models      models.c      the model topic (opaque)
 *   repart      repartition.c aggregates keyed by a field: records re-keyed through an internal topic
 *   serve       serve.c       the serve endpoint: its snapshots, its log writer, what the log topic gave back (opaque)
 *   fatal       runner.c      why the run must stop, typed (rtml_run_fail)
 * loop.c drives them: set-up, the consume loop, shutdown and the report (report.h); workers.c runs several.
 *
 * One thread drives a runner (librdkafka's own threads do the network I/O), so none of this is locked; the
 * model topic's watcher thread (models.c) shares only its own state, under its own mutex; the serve endpoint's
 * threads see the model only through the snapshots serve.c hands over (serve/snapshot.h). With workers, each
 * worker thread has a runner of its own and they share nothing but rtml_run_stop and the team's count of
 * assigned workers (rtml_worker). */
#ifndef RTML_RUN_RUNNER_H
#define RTML_RUN_RUNNER_H
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "monitor/metrics.h"
#include "monitor/monitor.h"
#include "pipeline/pipeline.h"
#include "state/offsets.h"

/* A record in the pending batch: its message stays alive until its output is produced (the output keeps
 * the input's key, a dead letter its payload), with the ticket that marks its offset done (at_least_once). */
typedef struct {
    rd_kafka_message_t *m;
    uint64_t ticket;
    int slot;  /* its partition's slot in the offsets */
    bool emit; /* false: its output is already committed (re-delivered after a restart): produce nothing */
    double at; /* when it was read (monotonic seconds): processing latency */
} rtml_held;

/* `rtml run`'s command-line options. */
typedef struct {
    const char *config_path;
    unsigned long long max_records; /* 0 = unbounded; with workers, per worker */
    double exit_on_idle;            /* seconds, 0 = never */
} rtml_run_opts;

/* One of the workers of a process (workers.c); a runner without workers has none (NULL). */
typedef struct {
    unsigned index, count;
    _Atomic unsigned *assigned; /* workers that got partitions so far (shared by the team) */
} rtml_worker;

/* Why a run stops with an error. Every fault stops the run and keeps the state on disk as the last checkpoint
 * left it (a fenced member must not write state another instance now owns). */
typedef enum {
    RTML_FAULT_NONE = 0,
    RTML_FAULT_FENCED,       /* another instance took over: the transactional.id, or the model topic's writer */
    RTML_FAULT_TXN,          /* a transaction could neither commit nor abort */
    RTML_FAULT_PRODUCE,      /* an output could not be queued */
    RTML_FAULT_CONSUMER,     /* the consumer cannot go on (fenced twice, replaced in vain, fatal) */
    RTML_FAULT_KAFKA,        /* a client error that never heals: authentication, TLS, a fatal error */
    RTML_FAULT_NOT_ASSIGNED, /* no input partition was assigned (no such topic, no coordinator) */
    RTML_FAULT_NO_MEMORY,
} rtml_run_fault;

typedef struct rtml_run_models rtml_run_models; /* the model topic's state (models.c) */
typedef struct rtml_run_serving rtml_run_serving; /* the serve endpoint's state (serve.c) */
struct rtml_run_history;                        /* the dashboard's samples (status.c) */

typedef struct {
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *commit_q;   /* at_least_once: the answers to rtml's commits */
    bool commit_in_flight;
    double last_commit;
    rd_kafka_topic_t *outputs[3]; /* the producer's topics, known before the first record */
    char transactional_id[256];
    char group_instance_id[256];  /* "": a dynamic member */
    char commit_owner[300];       /* "rtml:<instance name>": the metadata of this instance's commits */
    bool fenced;                  /* the consumer fenced its own static membership: the loop replaces it */
    uint64_t errors;              /* transient client errors, for rate-limited logging */
    /* the consumer's callbacks (group.c's rebalances, status.c's statistics), given by loop.c and kept for a
     * replacement consumer */
    void (*on_rebalance)(rd_kafka_t *, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t *, void *);
    void (*on_delivery)(rd_kafka_t *, const rd_kafka_message_t *, void *); /* kept for a replacement producer */
    int (*on_stats)(rd_kafka_t *, char *, size_t, void *);
} rtml_run_clients;

typedef struct {
    bool closing;           /* shutting down: revoked partitions keep their positions */
    double rejoined_at;     /* when the consumer was last replaced (monotonic; 0: never) */
    unsigned long long rejoins, rebalances;
    double assigned_at;     /* when partitions were first assigned (0: not yet) */
    double changed_at;      /* when partitions were last assigned or revoked, or the consumer replaced (0: never) */
    int held;               /* input partitions held now */
    bool rejoining;         /* partitions lost with the session, or the consumer replaced: none held until assigned */
    /* records of revoked partitions learned here but not committed at the handover (the commit failed): the
     * next owner answers and learns them again, so the group's learned total may exceed the input by this */
    unsigned long long handover_uncommitted;
    /* records below a revoked partition's committed offset that it had still to re-learn after a restart and that
     * could not be read before it went: no model learns them */
    unsigned long long handover_unlearned;
} rtml_run_group;

typedef struct {
    rtml_held *held; /* the pending batch's messages, by tag; pipe.batch_size of them */
    size_t n_held;
    unsigned long long stale_dropped; /* messages of partitions no longer assigned here, dropped */
    unsigned long long rekey_rejected; /* input records without the aggregates' key (repartition) */
    bool paused;                      /* input partitions paused: too many outputs unacknowledged */
    unsigned long long pauses;
    double first_at, last_at;         /* when the first and the latest record arrived (the report's time span) */
} rtml_run_input;

typedef struct {
    bool paused;     /* label.topic's partitions paused: too many labels wait for their records */
    double paused_at; /* since when (monotonic) */
    unsigned long long pauses;
} rtml_run_labels;

typedef struct {
    unsigned long long delivered, delivery_failed, dead_letters;
    unsigned long long rekeyed; /* input records sent to the aggregates' repartition topic */
    unsigned long long dead_letters_by[RTML_REJECT__COUNT];
    char first_delivery_error[256];
} rtml_run_outputs;

#define RTML_TXN_RENEWALS_MAX 5 /* producers replaced in a row without a commit, at most (clients.c) */
typedef struct {
    bool open;
    double started;
    uint64_t commits, aborts;
    unsigned renewed_in_a_row; /* producers replaced after the coordinator's time-out since the last commit */
    uint64_t renewals;
} rtml_run_txn;

typedef struct {
    uint64_t seq;
    int lock_fd;            /* state.dir's lock, held while running (checkpoint.h) */
    bool positions_changed; /* a partition got its first position: checkpoint even if no record was read */
    double last;            /* when the last periodic checkpoint was taken (monotonic) */
    double next;            /* when the next is due (monotonic): checkpoint_every later, or longer after a slow one */
    uint64_t learned_at, records_at, failures;
    uint64_t deferred;      /* periodic checkpoints put off: the outputs before them could not be committed */
} rtml_run_ckpt;

typedef struct {
    rtml_metrics metrics;
    rtml_monitor *monitor;            /* NULL without monitor.listen */
    struct rtml_run_history *history; /* NULL without monitor.listen */
    rtml_monitor_docs docs;           /* render buffers, swapped with the published ones */
    double rendered;                  /* monotonic */
    double started_wall;
    uint64_t drift_seen;              /* drift events already handled (drift.c) */
} rtml_run_monitoring;

typedef struct {
    rtml_run_fault kind;
    char why[512];
} rtml_run_fatal;

struct rtml_decoder;
typedef struct {
    char *topic;                /* the internal topic; NULL: no repartition */
    struct rtml_decoder *key;   /* reads the aggregates' key field of an input record */
    rtml_value value;
    char text[64];              /* a number key's text */
    char src_topic[256];        /* a repartitioned record's source topic (from its headers) */
} rtml_run_repart;

typedef struct rtml_runner {
    rtml_config cfg;
    const rtml_worker *worker; /* NULL: the process's only runner */
    rtml_pipeline pipe;
    rtml_offsets offsets; /* in-flight records, and every partition's positions (offsets.h) */
    bool exactly_once;
    /* After each scored batch (output.c's rtml_run_flush_batch): drift.c's rtml_run_drift, set by loop.c, so the
     * outputs need not know what a batch's drift event leads to (an event record is an output too). */
    void (*after_batch)(struct rtml_runner *r);
    rtml_run_clients clients;
    rtml_run_group group;
    rtml_run_input input;
    rtml_run_labels labels;
    rtml_run_outputs out;
    rtml_run_txn txn;
    rtml_run_ckpt ckpt;
    rtml_run_monitoring mon;
    rtml_run_models *models; /* NULL without models.topic */
    rtml_run_repart repart;
    rtml_run_serving *serve; /* NULL without serve */
    rtml_run_fatal fatal;
} rtml_runner;

/* Set by the SIGINT/SIGTERM handler (cli/cmd_run.c) and by faults; read by the loop (of every worker). */
extern volatile sig_atomic_t rtml_run_stop;

/* Stop the run with an error: the first fault is the one kept (the cause; later ones are its effects). */
void rtml_run_fail(rtml_runner *r, rtml_run_fault kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline bool rtml_run_failed(const rtml_runner *r) { return r->fatal.kind != RTML_FAULT_NONE; }
/* "fenced", "transaction", ... (the monitor's status and logs). */
const char *rtml_run_fault_name(rtml_run_fault kind);

#endif
