/* cmd_run.c — `rtml run`: the streaming pipeline between Kafka topics (run.h has the parts).
 *
 *   consumer (group, cooperative-sticky) -> pipeline (decode, features, predict, learn) -> producer
 *
 * Delivery (run_kafka.c, run_output.c): at_least_once commits an input offset only after its output was
 * acknowledged; exactly_once puts outputs and input offsets in one Kafka transaction. Either way a crash
 * re-delivers, never loses. A record that cannot be decoded, featurised or scored goes to the dead-letter
 * topic (or is counted and logged, without one) and the stream goes on.
 *
 * State (checkpoint.h): every state.checkpoint_every, at revoke-free shutdown and on SIGTERM, the model, its
 * feature statistics, its metrics and per partition the offset up to which it learned are written as one
 * atomic checkpoint; a restart resumes from the newest valid one, so each labelled record is learned once.
 *
 * One thread: librdkafka's own threads do the I/O; this loop polls the consumer for records and the producer
 * for delivery reports. Records wait in the pipeline's micro-batch (one record for the native engines; up to
 * model.tensorflow.batch, or max_delay, for TensorFlow) with their messages held. Backpressure: when too many
 * outputs are unacknowledged the input partitions are paused (librdkafka then drops their prefetched
 * messages) until the producer has caught up to half of that; the engine falling behind simply means the
 * loop polls less, and librdkafka's prefetch queue is bounded (queued.max.messages.kbytes).
 *
 * Signals: the first SIGINT/SIGTERM finishes in-flight records, flushes, commits, checkpoints and exits 0;
 * a second one exits at once (status 128 + signal). That leaves the same consistent state as a crash: every
 * file rtml writes is replaced atomically, and Kafka holds only committed offsets and transactions. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/checkpoint.h"
#include "base/clock.h"
#include "cli/cli.h"
#include "pipeline/join.h"
#include "base/log.h"
#include "base/rtml.h"
#include "run/run.h"
#include "config/scale.h"
#include "pipeline/labels.h"

#define RING_PER_PARTITION 65536
#define PAUSE_AT 50000   /* unacknowledged outputs at which input partitions pause... */
#define RESUME_AT 25000  /* ...and at which they resume */
#define TXN_EVERY_S 0.1  /* exactly_once: a transaction commits at least this often */
#define STATUS_EVERY_S 10.0

/* Set by the SIGINT/SIGTERM handler (a handler can reach nothing else) and by fatal errors; read by the loop. */
volatile sig_atomic_t rtml_run_stop;

static void on_signal(int sig) {
    if (rtml_run_stop) { /* the second signal: leave now; the state on disk and in Kafka is consistent */
        static const char msg[] = "rtml run: second signal, exiting at once\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + sig);
    }
    rtml_run_stop = sig;
}

typedef rtml_run_opts run_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: rtml run -c CONFIG [--max-records N] [--exit-on-idle SECONDS]\n"
            "\n"
            "Consumes the config's input topics, scores every record, learns from labelled ones, and produces\n"
            "one prediction per record to the output topic (delivery: at_least_once commits an input offset only\n"
            "after its prediction was acknowledged; exactly_once commits both in one Kafka transaction). Records\n"
            "that cannot be read go to dead_letter.topic. The model is checkpointed to state.dir and a restart\n"
            "resumes from it, learning every labelled record exactly once. Runs until SIGINT/SIGTERM, then\n"
            "finishes in-flight work, commits, checkpoints, and prints a final report as one JSON line on stdout\n"
            "(a second signal exits at once, leaving a consistent state).\n"
            "  -c, --config FILE        the YAML config (see `rtml check`)\n"
            "  --max-records N          stop after N input records (with workers: each worker)\n"
            "  --exit-on-idle SECONDS   stop when no record arrived for SECONDS after partitions were\n"
            "                           assigned (before that: max(SECONDS, 60))\n"
            "With label.topic, labels that arrive later on their own topic are joined with the scored records by\n"
            "key, then evaluated and learned (docs/labels.md).\n"
            "With `workers: N` in the config, N members of the group run in this process, each on its own thread\n"
            "with its own model and state.dir/worker-K (docs/scaling.md); the report then holds the totals and\n"
            "each worker's figures.\n");
}

/* ---- records in ---------------------------------------------------------------------------------------- */

/* Labels read far ahead of their records wait in Kafka, not in the store: the label partitions pause when half
 * of max_early labels wait, and resume at a quarter. Labels that wait for records that never come leave only as
 * the feature clock moves (label.wait); if the records stop too, the labels resume after 10 s so that the label
 * stream never stalls (the store then drops its oldest waiting labels, counted as unknown). */
static void labels_flow(rtml_runner *r) {
    rtml_join_stats s;
    rtml_join_stats_get(r->pipe.join, &s);
    size_t high = r->cfg.label.max_early / 2, low = r->cfg.label.max_early / 4;
    if (!r->labels_paused && s.early > high && high > 0) rtml_run_pause_labels(r, true);
    else if (r->labels_paused && (s.early <= low || rtml_now() - r->labels_paused_at > 10))
        rtml_run_pause_labels(r, false);
}

/* A label record (label.topic): joined with its scored record and learned, or kept waiting; it has no output,
 * so it is done at once (a malformed one goes to the dead-letter topic). Takes ownership of h->m. */
static void handle_label(rtml_runner *r, rtml_held *h, const rtml_origin *origin) {
    rd_kafka_message_t *m = h->m;
    char why[RTML_ERRLEN];
    if (r->n_held) rtml_run_flush_batch(r); /* labels apply after the records read before them are scored */
    rtml_reject rej = rtml_pipeline_label(&r->pipe, m->payload ? m->payload : "", m->len, origin, why, sizeof why);
    if (rej != RTML_REJECT_NONE) {
        rtml_log_every(RTML_LOG_WARN, r->pipe.rejected_by[rej], 10, 10, "rejected label %s/%d@%lld (%s): %s",
                       origin->topic, (int)m->partition, (long long)m->offset, rtml_reject_name(rej), why);
        rtml_run_reject(r, h, rej, why); /* h->emit: not dead-lettered already before a restart */
    } else {
        h->emit = false;
        rtml_run_reject(r, h, RTML_REJECT_NONE, NULL);
    }
    rd_kafka_message_destroy(m);
    rtml_run_drift(r);
    labels_flow(r);
}

/* Takes ownership of m (its partition is offsets slot `slot`): destroyed at once, or held until its batch is
 * scored. A re-delivered record below its partition's learn_next is scored but not learned; one below
 * emit_from gets no output (checkpoint.h). */
void rtml_run_handle(rtml_runner *r, rd_kafka_message_t *m, int slot) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    rtml_partition_track *t = &r->offsets.parts[slot];
    if (t->emit_from < 0) t->emit_from = m->offset; /* nothing committed: answer everything from here on */
    bool learned = t->learn_next >= 0 && m->offset < t->learn_next;
    bool emit = m->offset >= t->emit_from && r->cfg.role != RTML_ROLE_TRAINER; /* a trainer answers nothing */
    /* learn_next moves at submit; every reader of it (checkpoint, transaction abort) flushes the batch first */
    if (m->offset + 1 > t->learn_next) t->learn_next = m->offset + 1;
    uint64_t ticket = r->exactly_once ? rtml_metrics_ticket(&r->metrics, slot) : rtml_offsets_begin(&r->offsets, slot, m->offset);
    rtml_held h = {m, ticket, slot, emit, rtml_now()};
    rtml_part_metrics *pm = rtml_metrics_part(&r->metrics, slot);
    if (pm) pm->consumed++;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts_ms = rd_kafka_message_timestamp(m, &tstype);
    rtml_metrics_sent(&r->metrics, ticket, ts_ms >= 0 ? (double)ts_ms / 1000.0 : rtml_wall_time());
    rtml_origin origin = {topic, m->partition, m->offset, learned, ts_ms, m->key, m->key_len};
    char why[RTML_ERRLEN];
    if (r->cfg.label.topic && !strcmp(topic, r->cfg.label.topic)) {
        handle_label(r, &h, &origin);
        return;
    }
    int queued;
    rtml_reject rej = rtml_pipeline_submit(&r->pipe, m->payload ? m->payload : "", m->len, &origin, r->n_held,
                                           &queued, why, sizeof why);
    if (rej != RTML_REJECT_NONE) {
        rtml_log_every(RTML_LOG_WARN, r->pipe.rejected_by[rej], 10, 10, "rejected %s/%d@%lld (%s): %s", topic,
                       (int)m->partition, (long long)m->offset, rtml_reject_name(rej), why);
        rtml_run_reject(r, &h, rej, why);
    } else if (!queued) { /* a header record (CSV): nothing to deliver, done */
        h.emit = false;
        rtml_run_reject(r, &h, RTML_REJECT_NONE, NULL);
    }
    if (!queued) {
        rd_kafka_message_destroy(m);
        return;
    }
    r->held[r->n_held++] = h;
    if (r->n_held == r->pipe.batch_size) rtml_run_flush_batch(r);
}

/* ---- checkpoints ------------------------------------------------------------------------------------- */

int rtml_run_checkpoint(rtml_runner *r) {
    char err[RTML_ERRLEN];
    if (r->fatal[0]) return -1; /* e.g. fenced: another instance owns this state now */
    rtml_run_flush_batch(r);
    if (r->ckpt_seq > 0 && r->pipe.records == r->records_at_checkpoint && !r->positions_changed)
        return 0; /* nothing new since the last */
    if (r->pipe.learned != r->learned_at_checkpoint && rtml_pipeline_checkpoint(&r->pipe, err, sizeof err) != 0) {
        rtml_log_every(RTML_LOG_ERROR, ++r->ckpt_failures, 3, 10, "checkpoint: the model could not be written: %s", err);
        return -1;
    }
    if (rtml_ckpt_write(r->cfg.state.dir, &r->pipe, &r->offsets, r->ckpt_seq + 1, r->cfg.state.keep, err,
                        sizeof err) != 0) {
        r->ckpt_failures++;
        rtml_log_every(RTML_LOG_ERROR, r->ckpt_failures, 3, 10,
                       "checkpoint %llu not written (the previous one stays valid; %llu failures): %s",
                       (unsigned long long)r->ckpt_seq + 1, (unsigned long long)r->ckpt_failures, err);
        return -1;
    }
    r->ckpt_seq++;
    r->positions_changed = false;
    r->learned_at_checkpoint = r->pipe.learned;
    r->records_at_checkpoint = r->pipe.records;
    rtml_log(RTML_LOG_DEBUG, "checkpoint %llu written", (unsigned long long)r->ckpt_seq);
    return 0;
}

static void maybe_checkpoint(rtml_runner *r, double now) {
    if (now - r->last_checkpoint < r->cfg.state.checkpoint_every_s) return;
    r->last_checkpoint = now;
    rtml_run_checkpoint(r);
}

/* ---- the loop ---------------------------------------------------------------------------------------- */

static void log_status(const rtml_runner *r, double started) {
    double secs = rtml_now() - started;
    rtml_log(RTML_LOG_INFO, "%llu records (%.0f/s), %llu learned, %llu rejected, window accuracy %.4f, in flight %zu%s",
             (unsigned long long)r->pipe.records, secs > 0 ? (double)r->pipe.records / secs : 0.0,
             (unsigned long long)r->pipe.learned, (unsigned long long)r->pipe.rejected,
             rtml_eval_window_accuracy(&r->pipe.eval), rtml_offsets_inflight(&r->offsets),
             r->paused ? ", input paused" : "");
}

/* --exit-on-idle: idle means no record for S seconds once partitions are assigned. Joining the group can
 * take seconds on a busy broker, so before the first assignment the clock is max(S, 60 s) from the start
 * (a topic that never gets assigned still ends the run). */
static bool idle_for_too_long(const rtml_runner *r, const run_opts *o, double started, double now) {
    if (o->exit_on_idle <= 0) return false;
    if (r->last_at > 0) return now - r->last_at >= o->exit_on_idle;
    if (r->assigned_at > 0) return now - r->assigned_at >= o->exit_on_idle;
    if (r->worker && *r->worker->assigned > 0) return now - started >= o->exit_on_idle; /* the others have them all */
    return now - started >= (o->exit_on_idle > 60 ? o->exit_on_idle : 60);
}

/* Outputs not yet acknowledged (at_least_once: the offsets' in-flight records; both: the producer's queue). */
static size_t unacknowledged(const rtml_runner *r) {
    size_t q = (size_t)rd_kafka_outq_len(r->producer);
    size_t f = r->exactly_once ? 0 : rtml_offsets_inflight(&r->offsets);
    return q > f ? q : f;
}

/* Backpressure: pause the inputs while too much is unacknowledged; true while paused. */
static bool throttle(rtml_runner *r) {
    size_t n = unacknowledged(r);
    if (!r->paused && n >= PAUSE_AT) {
        rtml_run_flush_batch(r); /* the pending batch's records count as in flight too */
        rtml_run_pause(r, true);
    } else if (r->paused && n <= RESUME_AT) {
        rtml_run_pause(r, false);
    }
    return r->paused;
}

static void take(rtml_runner *r, rd_kafka_message_t *m) {
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) { /* e.g. fenced: its group.instance.id joined again */
            rtml_run_consumer_fatal(r);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rtml_log(RTML_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return;
    }
    int slot = rtml_offsets_find(&r->offsets, rd_kafka_topic_name(m->rkt), m->partition);
    if (slot < 0 || !r->offsets.parts[slot].assigned) {
        /* A message of a partition revoked meanwhile (librdkafka can still hand one out after an unassign;
         * every assigned partition has its slot from choose_starts): its next owner answers and learns it, so
         * taking it here would learn it twice in the group. */
        r->stale_dropped++;
        rtml_log_every(RTML_LOG_INFO, r->stale_dropped, 3, 60, "dropped %s/%d@%lld: the partition is not assigned "
                       "here", rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
        rd_kafka_message_destroy(m);
        return;
    }
    if (!r->exactly_once && rtml_offsets_full(&r->offsets, slot)) {
        rtml_run_flush_batch(r);
        while (rtml_offsets_full(&r->offsets, slot) && !rtml_run_stop) {
            rd_kafka_poll(r->producer, 10);
            rtml_offsets_advance(&r->offsets);
        }
    }
    r->last_at = rtml_now();
    if (r->first_at == 0) r->first_at = r->last_at;
    rtml_run_handle(r, m, slot);
}

static void consume_loop(rtml_runner *r, const run_opts *o) {
    double started = rtml_now(), last_status = started;
    while (!rtml_run_stop) {
        if (o->max_records && r->pipe.records >= o->max_records) break;
        rd_kafka_poll(r->producer, 0);
        rtml_run_store_offsets(r);
        double now = rtml_now();
        rtml_run_commit_offsets(r, now);
        if (now - last_status >= STATUS_EVERY_S) {
            log_status(r, started);
            last_status = now;
        }
        if (idle_for_too_long(r, o, started, now) && !r->paused) {
            if (r->assigned_at == 0 && r->worker && *r->worker->assigned > 0) /* more workers than partitions */
                rtml_log(RTML_LOG_INFO, "no partition for this worker (the others have them all): stopping");
            else if (r->assigned_at == 0) /* not idle: it never got to read (no such topic, no group coordinator) */
                snprintf(r->fatal, sizeof r->fatal, "no partition of the input topics was assigned within %.0f s "
                         "(do the topics exist? is the broker reachable?)", now - started);
            else rtml_log(RTML_LOG_INFO, "no record for %.1f s: stopping (--exit-on-idle)", o->exit_on_idle);
            break;
        }
        if (rtml_pipeline_due(&r->pipe, now)) rtml_run_flush_batch(r);
        if (rtml_run_txn_commit(r, TXN_EVERY_S) != 0) break;
        if (r->consumer_fenced && rtml_run_rejoin(r) != 0) break;
        maybe_checkpoint(r, now);
        rtml_run_models_tick(r, now);
        rtml_run_monitor_tick(r, now);
        bool paused = throttle(r);
        if (r->labels_paused) labels_flow(r); /* records read meanwhile joined the waiting labels */
        if (paused) rd_kafka_poll(r->producer, 10);
        double wait = rtml_pipeline_wait(&r->pipe, rtml_now());
        int timeout_ms = paused ? 0 : wait < 0 || wait > 0.1 ? 100 : (int)(wait * 1000) + 1;
        if (r->exactly_once && r->txn_open && timeout_ms > 10) timeout_ms = 10;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, timeout_ms); /* serves rebalances too */
        if (m) take(r, m);
        if (paused) r->last_at = r->last_at ? rtml_now() : 0; /* waiting on the output is not idleness */
    }
    rtml_run_flush_batch(r); /* what is pending gets its outputs before the shutdown flush */
}

/* Finish in-flight work, commit what was answered, checkpoint. 0 when all of it succeeded. */
static int shutdown_clean(rtml_runner *r) {
    int rc = 0;
    if (r->exactly_once && !r->fatal[0] && rtml_run_txn_commit(r, 0) != 0) rc = 1;
    if (rd_kafka_flush(r->producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rtml_log(RTML_LOG_ERROR, "%d outputs still unacknowledged after 60 s", rd_kafka_outq_len(r->producer));
        rc = 1;
    }
    if (!r->exactly_once) {
        rd_kafka_resp_err_t e = rtml_run_commit_now(r);
        if (e) {
            rtml_log(RTML_LOG_ERROR, "final commit: %s", rd_kafka_err2str(e));
            rc = 1;
        }
    }
    /* exactly_once: an output not delivered fails its transaction, which is aborted and answered again; the
     * commits above say whether that worked. at_least_once: its input stays uncommitted, for the next run. */
    if (r->delivery_failed && !r->exactly_once) {
        rtml_log(RTML_LOG_ERROR, "%llu outputs were not delivered (first error: %s); their inputs stay uncommitted",
                 r->delivery_failed, r->first_delivery_error);
        rc = 1;
    }
    /* A fenced instance (another took over its transactional.id) must not touch the state it no longer owns. */
    if (!r->fatal[0] && rtml_run_checkpoint(r) != 0) rc = 1;
    rtml_run_models_finish(r);
    if (r->fatal[0]) {
        rtml_log(RTML_LOG_ERROR, "%s", r->fatal);
        rc = 1;
    }
    r->closing = true;
    rd_kafka_consumer_close(r->consumer);
    return rc;
}

static int parse_opts(int argc, char **argv, run_opts *o) {
    static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                             {"max-records", required_argument, 0, 'm'},
                                             {"exit-on-idle", required_argument, 0, 'i'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config_path = optarg; break;
        case 'm':
            o->max_records = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *optarg == '-' || *end != '\0' || o->max_records == 0) {
                fprintf(stderr, "rtml run: --max-records must be a positive integer, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'i':
            o->exit_on_idle = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(o->exit_on_idle > 0)) {
                fprintf(stderr, "rtml run: --exit-on-idle must be a positive number of seconds, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !o->config_path) {
        fprintf(stderr, optind != argc ? "rtml run: unexpected argument '%s'\n" : "rtml run: -c CONFIG is required\n",
                optind < argc ? argv[optind] : "");
        return 2;
    }
    return -1;
}


static void runner_free(rtml_runner *r) {
    for (size_t i = 0; i < r->n_held; i++) rd_kafka_message_destroy(r->held[i].m);
    free(r->held);
    rtml_run_close_consumer(r);
    for (int i = 0; i < 3; i++)
        if (r->outputs[i]) rd_kafka_topic_destroy(r->outputs[i]);
    if (r->producer) rd_kafka_destroy(r->producer);
    rtml_run_monitor_close(r); /* before the pipeline: the server's threads are joined first */
    rtml_run_models_close(r);  /* so is the model watcher */
    rtml_pipeline_free(&r->pipe);
    rtml_offsets_free(&r->offsets);
    rtml_config_free(&r->cfg);
    if (r->lock_fd >= 0) close(r->lock_fd);
    free(r);
}

/* Config, pipeline, checkpoint, clients: each failure is a clear message and exit 2 (1 when out of memory). */
static int start(rtml_runner *r, const run_opts *o) {
    char err[RTML_ERRLEN];
    rtml_offsets_init(&r->offsets, RING_PER_PARTITION);
    if (rtml_config_load(o->config_path, &r->cfg, err, sizeof err) != 0 ||
        rtml_config_check_run(&r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        return 2;
    }
    if (r->worker && rtml_run_worker_config(&r->cfg, r->worker, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        return 1;
    }
    if (rtml_log_configure(r->cfg.log.level, r->cfg.log.format, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    r->exactly_once = r->cfg.delivery == RTML_DELIVERY_EXACTLY_ONCE;
    if (rtml_pipeline_init(&r->pipe, &r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    if (!(r->held = calloc(r->pipe.batch_size, sizeof *r->held))) {
        fprintf(stderr, "rtml run: out of memory\n");
        return 1;
    }
    if ((r->lock_fd = rtml_ckpt_lock(r->cfg.state.dir, err, sizeof err)) < 0) {
        fprintf(stderr, "rtml run: %s: state.dir: %s\n", o->config_path, err);
        return 2;
    }
    int restored = rtml_ckpt_restore(r->cfg.state.dir, &r->pipe, &r->offsets, &r->ckpt_seq, err, sizeof err);
    if (restored < 0) {
        fprintf(stderr, "rtml run: %s: state.dir: %s\n", o->config_path, err);
        return 2;
    }
    if (restored)
        rtml_log(RTML_LOG_INFO, "resuming from checkpoint %llu in %s: %llu records learned",
                 (unsigned long long)r->ckpt_seq, r->cfg.state.dir, (unsigned long long)r->pipe.engine->learned);
    if (restored && r->pipe.join) {
        rtml_join_stats js;
        rtml_join_stats_get(r->pipe.join, &js);
        rtml_log(RTML_LOG_INFO, "restored %zu pending joins (scored records waiting for their label) and %zu "
                 "labels waiting for their record", js.pending, js.early);
    }
    r->last_checkpoint = rtml_now();
    r->drift_seen = r->pipe.drift_events;
    if (rtml_run_monitor_open(r, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    double give_up = o->exit_on_idle > 0 ? (o->exit_on_idle > 60 ? o->exit_on_idle : 60) : 0;
    if (rtml_run_models_open(r, restored > 0, give_up, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: models.topic %s: %s\n", o->config_path, r->cfg.models.topic, err);
        return 1;
    }
    if (rtml_run_open_clients(r, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        return 2;
    }
    return 0;
}

int rtml_run_instance(const run_opts *o, const rtml_worker *w, rtml_buf *report) {
    rtml_runner *r = calloc(1, sizeof *r);
    if (!r) return 1;
    r->lock_fd = -1;
    r->worker = w;
    int rc = start(r, o);
    if (rc != 0) {
        runner_free(r);
        return rc;
    }
    rtml_log(RTML_LOG_INFO, "running: %zu input topic(s) -> %s, model %s, %s, role %s", r->cfg.input.n_topics,
             r->cfg.output.topic ? r->cfg.output.topic : "(no output: trainer)", r->pipe.engine->ops->name,
             r->exactly_once ? "exactly once" : "at least once", rtml_role_name(r->cfg.role));
    consume_loop(r, o);
    if (rtml_run_stop && !r->fatal[0])
        rtml_log(RTML_LOG_INFO, "signal %d: finishing in-flight records", (int)rtml_run_stop);
    rc = shutdown_clean(r);
    /* From the first record to the last: idle time before and after (--exit-on-idle) is not processing. */
    double secs = r->last_at - r->first_at;
    rtml_pipeline_report(&r->pipe, secs, report);
    report->len--; /* reopen the object: rtml run's own figures follow the pipeline's */
    rtml_buf_printf(report, ",\"dead_letters\":%llu,\"checkpoint_seq\":%llu,\"checkpoint_failures\":%llu,"
                    "\"pauses\":%llu,\"transactions\":%llu,\"transactions_aborted\":%llu,"
                    "\"handover_uncommitted\":%llu,\"handover_unlearned\":%llu,\"stale_dropped\":%llu,"
                    "\"label_pauses\":%llu,\"consumer_rejoins\":%llu,\"first_at\":",
                    r->dead_letters, (unsigned long long)r->ckpt_seq, (unsigned long long)r->ckpt_failures,
                    r->pauses, (unsigned long long)r->txn_commits, (unsigned long long)r->txn_aborts,
                    r->handover_uncommitted, r->handover_unlearned, r->stale_dropped, r->label_pauses, r->rejoins);
    /* When the first and last records arrived (unix seconds; 0: none): the span of several workers' work. */
    double wall_minus_mono = rtml_wall_time() - rtml_now();
    rtml_buf_put_double(report, r->first_at > 0 ? r->first_at + wall_minus_mono : 0);
    rtml_buf_puts(report, ",\"last_at\":");
    rtml_buf_put_double(report, r->last_at > 0 ? r->last_at + wall_minus_mono : 0);
    rtml_buf_putc(report, '}');
    runner_free(r);
    return rc;
}

int rtml_cmd_run(int argc, char **argv) {
    run_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    /* Before start(): a predictor may wait there for a first model version, and a signal must end the wait. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rtml_config cfg;
    char err[RTML_ERRLEN];
    unsigned workers = 1; /* a config that does not load is reported by the runner, with its exit status */
    if (rtml_config_load(o.config_path, &cfg, err, sizeof err) == 0) {
        workers = rtml_config_workers(&cfg);
        rtml_config_free(&cfg);
    }
    if (workers > 1) return rtml_run_workers(&o, workers);
    rtml_buf report = RTML_BUF_INIT;
    rc = rtml_run_instance(&o, NULL, &report);
    if (report.len) printf("%s\n", report.data);
    fflush(stdout);
    rtml_buf_free(&report);
    return rc;
}
