/* loop.c — one `rtml run` member from start to report (loop.h):
 *
 *   consumer (group, cooperative-sticky) -> pipeline (decode, features, predict, learn) -> producer
 *
 * Delivery (clients.c, output.c): at_least_once commits an input offset only after its output was acknowledged;
 * exactly_once puts outputs and input offsets in one Kafka transaction. Either way a crash re-delivers, never
 * loses. A record that cannot be decoded, featurised or scored goes to the dead-letter topic (or is counted and
 * logged, without one) and the stream goes on.
 *
 * State (checkpoint.c): every state.checkpoint_every, before partitions go and at shutdown, the model and the
 * positions are written as one atomic checkpoint; a restart resumes from the newest valid one, so each
 * labelled record is learned once.
 *
 * One thread: librdkafka's own threads do the I/O; this loop polls the consumer for records and the producer for
 * delivery reports. Records wait in the pipeline's micro-batch (one record for the native engines; up to
 * model.tensorflow.batch, or max_delay, for TensorFlow) with their messages held (records.c, which also pauses
 * the inputs while too many outputs are unacknowledged).
 *
 * A stop (rtml_run_stop: a signal, or a fault) finishes in-flight records, flushes, commits, checkpoints and
 * reports. That leaves the same consistent state as a crash: every file rtml writes is replaced atomically, and
 * Kafka holds only committed offsets and transactions. */
#include "run/loop.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rtml.h"
#include "config/scale.h"
#include "pipeline/join.h"
#include "run/checkpoint.h"
#include "run/clients.h"
#include "run/drift.h"
#include "run/group.h"
#include "run/models.h"
#include "run/output.h"
#include "run/records.h"
#include "run/repartition.h"
#include "run/serve.h"
#include "run/status.h"
#include "state/checkpoint.h"

#define RING_PER_PARTITION 65536
#define TXN_EVERY_S 0.1  /* exactly_once: a transaction commits at least this often */
#define STATUS_EVERY_S 10.0

static void log_status(const rtml_runner *r, double started) {
    double secs = rtml_now() - started;
    rtml_log(RTML_LOG_INFO, "%llu records (%.0f/s), %llu learned, %llu rejected, window accuracy %.4f, in flight %zu%s",
             (unsigned long long)r->pipe.records, secs > 0 ? (double)r->pipe.records / secs : 0.0,
             (unsigned long long)r->pipe.learned, (unsigned long long)r->pipe.rejected,
             rtml_eval_window_accuracy(&r->pipe.eval), rtml_offsets_inflight(&r->offsets),
             r->input.paused ? ", input paused" : "");
}

/* --exit-on-idle: idle means no record for S seconds, seen by a poll that found none, counted from `from` (the
 * run's start or the end of the last stall), the last record or the last change of the assignment (partitions
 * lost with a broker's outage and given back later start the count again). Time spent not polling (a minute of
 * transaction retries while the broker is unreachable, the process stopped or swapped out) is not idleness: the
 * records that arrived meanwhile wait in the consumer (faults.txn_offsets_cut, faults.txn_timeout). A member
 * waiting to join (before its first assignment, or after its partitions were lost with its session or its
 * consumer was replaced) waits max(S, 60 s) from the start or the change: joining the group can take that long on
 * a busy broker (a topic that never gets assigned still ends the run). A member whose partitions went to others
 * waits S; a worker that got none while the others got them all stops after S. */
static bool idle_for_too_long(const rtml_runner *r, const rtml_run_opts *o, double from, double now) {
    if (o->exit_on_idle <= 0) return false;
    if (r->group.assigned_at == 0 && r->worker && *r->worker->assigned > 0) return now - from >= o->exit_on_idle;
    double since = from;
    if (r->input.last_at > since) since = r->input.last_at;
    if (r->group.changed_at > since) since = r->group.changed_at;
    bool joining = r->group.assigned_at == 0 || (r->group.held == 0 && r->group.rejoining);
    double limit = !joining || o->exit_on_idle > 60 ? o->exit_on_idle : 60;
    return now - since >= limit;
}

/* After a record, the records librdkafka already holds are taken without waiting, up to BURST, before the loop's
 * housekeeping (stored offsets, the commit, backpressure, timers, the producer's delivery reports) runs again:
 * that costs per pass, not per record (about 1,000 instructions a pass, with one record a pass a seventh of the
 * daemon's own: bench/run.sh pipeline, docs/performance.md). What the housekeeping watches moves slowly against
 * BURST records: the input pauses at 50,000 outputs in flight, a transaction commits every 0.1 s, a batch that
 * fills is scored in rtml_run_take. */
#define BURST 64
static void take_burst(rtml_runner *r, const rtml_run_opts *o) {
    for (int k = 1; k < BURST && !rtml_run_stop && !r->clients.fenced && !rtml_run_failed(r); k++) {
        if (o->max_records && r->pipe.records >= o->max_records) return;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->clients.consumer, 0);
        if (!m) return;
        rtml_run_take(r, m);
    }
}

static void consume_loop(rtml_runner *r, const rtml_run_opts *o) {
    double started = rtml_now(), last_status = started;
    bool polled_none = true; /* the last poll found no record */
    double polled_at = started, since = started; /* the last poll; the start, or the end of the last stall */
    while (!rtml_run_stop) {
        if (o->max_records && r->pipe.records >= o->max_records) break;
        rd_kafka_poll(r->clients.producer, 0);
        rtml_run_store_offsets(r);
        double now = rtml_now();
        /* Not polling for half the idle limit: a stall, not idleness. A shorter gap is rtml's own work (a checkpoint
         * of a large model): counted, or checkpoints due every few seconds would keep an idle run going. */
        if (now - polled_at > o->exit_on_idle / 2) since = now;
        rtml_run_commit_offsets(r, now);
        if (now - last_status >= STATUS_EVERY_S) {
            log_status(r, started);
            last_status = now;
        }
        if (polled_none && idle_for_too_long(r, o, since, now) && !r->input.paused) {
            if (r->group.assigned_at == 0 && r->worker && *r->worker->assigned > 0) /* more workers than partitions */
                rtml_log(RTML_LOG_INFO, "no partition for this worker (the others have them all): stopping");
            else if (r->group.assigned_at == 0) /* not idle: it never got to read (no such topic, no group coordinator) */
                rtml_run_fail(r, RTML_FAULT_NOT_ASSIGNED, "no partition of the input topics was assigned within %.0f s "
                         "(do the topics exist? is the broker reachable?)", now - started);
            else if (r->group.held == 0 && r->group.rejoining)
                rtml_log(RTML_LOG_WARN, "no partition assigned again within %.0f s of losing them: stopping "
                         "(--exit-on-idle)", now - r->group.changed_at);
            else rtml_log(RTML_LOG_INFO, "no record for %.1f s: stopping (--exit-on-idle)", o->exit_on_idle);
            break;
        }
        if (rtml_pipeline_due(&r->pipe, now)) rtml_run_flush_batch(r);
        if (rtml_run_txn_commit(r, TXN_EVERY_S) != 0) break;
        if (r->clients.fenced && rtml_run_rejoin(r) != 0) break;
        rtml_run_checkpoint_due(r, now);
        rtml_run_models_tick(r, now);
        rtml_run_monitor_tick(r, now);
        rtml_run_serve_tick(r, now);
        bool paused = rtml_run_throttle(r);
        if (r->labels.paused) rtml_run_labels_flow(r); /* records read meanwhile joined the waiting labels */
        if (paused) rd_kafka_poll(r->clients.producer, 10);
        double wait = rtml_pipeline_wait(&r->pipe, rtml_now());
        int timeout_ms = paused ? 0 : wait < 0 || wait > 0.1 ? 100 : (int)(wait * 1000) + 1;
        if (r->exactly_once && r->txn.open && timeout_ms > 10) timeout_ms = 10;
        timeout_ms = rtml_run_serve_poll_ms(r, timeout_ms);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->clients.consumer, timeout_ms); /* serves rebalances too */
        polled_none = !m || m->err;
        polled_at = rtml_now();
        if (m) rtml_run_take(r, m);
        if (!polled_none) take_burst(r, o);
        if (paused) r->input.last_at = r->input.last_at ? rtml_now() : 0; /* waiting on the output is not idleness */
    }
    rtml_run_flush_batch(r); /* what is pending gets its outputs before the shutdown flush */
}

/* Finish in-flight work, commit what was answered, checkpoint. 0 when all of it succeeded. */
static int shutdown_clean(rtml_runner *r) {
    int rc = 0;
    if (r->exactly_once && !rtml_run_failed(r) && rtml_run_txn_commit(r, 0) != 0) rc = 1;
    if (rd_kafka_flush(r->clients.producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rtml_log(RTML_LOG_ERROR, "%d outputs still unacknowledged after 60 s", rd_kafka_outq_len(r->clients.producer));
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
    if (r->out.delivery_failed && !r->exactly_once) {
        rtml_log(RTML_LOG_ERROR, "%llu outputs were not delivered (first error: %s); their inputs stay uncommitted",
                 r->out.delivery_failed, r->out.first_delivery_error);
        rc = 1;
    }
    /* A fenced instance (another took over its transactional.id) must not touch the state it no longer owns. */
    if (!rtml_run_failed(r) && rtml_run_checkpoint(r) != 0) rc = 1;
    rtml_run_models_finish(r);
    if (rtml_run_failed(r)) {
        rtml_log(RTML_LOG_ERROR, "%s", r->fatal.why);
        rc = 1;
    }
    r->group.closing = true;
    rd_kafka_consumer_close(r->clients.consumer);
    return rc;
}

static void runner_free(rtml_runner *r) {
    for (size_t i = 0; i < r->input.n_held; i++) rd_kafka_message_destroy(r->input.held[i].m);
    free(r->input.held);
    rtml_run_close_consumer(r);
    rtml_run_close_producer(r);
    rtml_run_monitor_close(r); /* before the pipeline: the server's threads are joined first */
    rtml_run_serve_close(r);   /* likewise */
    rtml_run_models_close(r);  /* so is the model watcher */
    rtml_run_repartition_close(r);
    rtml_pipeline_free(&r->pipe);
    rtml_offsets_free(&r->offsets);
    rtml_config_free(&r->cfg);
    if (r->ckpt.lock_fd >= 0) close(r->ckpt.lock_fd);
    free(r);
}

/* Config, pipeline, checkpoint, clients: each failure is a clear message and exit 2 (1 when out of memory). */
static int start(rtml_runner *r, const rtml_run_opts *o) {
    char err[RTML_ERRLEN];
    rtml_offsets_init(&r->offsets, RING_PER_PARTITION);
    if (rtml_config_load(o->config_path, &r->cfg, err, sizeof err) != 0 ||
        rtml_config_check_run(&r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        return 2;
    }
    if (r->worker && rtml_config_for_worker(&r->cfg, r->worker->index, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        return 1;
    }
    if (rtml_log_configure(r->cfg.log.level, r->cfg.log.format, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    r->exactly_once = r->cfg.delivery == RTML_DELIVERY_EXACTLY_ONCE;
    r->after_batch = rtml_run_drift;
    if (rtml_pipeline_init(&r->pipe, &r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    if (!(r->input.held = calloc(r->pipe.batch_size, sizeof *r->input.held))) {
        fprintf(stderr, "rtml run: out of memory\n");
        return 1;
    }
    if ((r->ckpt.lock_fd = rtml_ckpt_lock(r->cfg.state.dir, err, sizeof err)) < 0) {
        fprintf(stderr, "rtml run: %s: state.dir: %s\n", o->config_path, err);
        return 2;
    }
    int restored = rtml_ckpt_restore(r->cfg.state.dir, &r->pipe, &r->offsets, &r->ckpt.seq, err, sizeof err);
    if (restored < 0) {
        fprintf(stderr, "rtml run: %s: state.dir: %s\n", o->config_path, err);
        return 2;
    }
    if (restored)
        rtml_log(RTML_LOG_INFO, "resuming from checkpoint %llu in %s: %llu records learned",
                 (unsigned long long)r->ckpt.seq, r->cfg.state.dir, (unsigned long long)r->pipe.engine->learned);
    if (restored && r->pipe.join) {
        rtml_join_stats js;
        rtml_join_stats_get(r->pipe.join, &js);
        rtml_log(RTML_LOG_INFO, "restored %zu pending joins (scored records waiting for their label) and %zu "
                 "labels waiting for their record", js.pending, js.early);
    }
    r->ckpt.last = rtml_now();
    r->ckpt.next = r->ckpt.last + r->cfg.state.checkpoint_every_s;
    r->mon.drift_seen = r->pipe.drift_events;
    if (rtml_run_monitor_open(r, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    if (rtml_run_serve_open(r, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 2;
    }
    double give_up = o->exit_on_idle > 0 ? (o->exit_on_idle > 60 ? o->exit_on_idle : 60) : 0;
    if (rtml_run_models_open(r, restored > 0, give_up, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: models.topic %s: %s\n", o->config_path, r->cfg.models.topic, err);
        return 1;
    }
    if (rtml_run_repartition_open(r, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o->config_path, err);
        return 1;
    }
    static const rtml_run_client_cbs cbs = {rtml_run_on_delivery, rtml_run_on_rebalance, rtml_run_on_stats};
    if (rtml_run_open_clients(r, &cbs, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        return 2;
    }
    return 0;
}

int rtml_run_instance(const rtml_run_opts *o, const rtml_worker *w, rtml_run_report *rep, rtml_buf *json) {
    *rep = (rtml_run_report){0};
    rtml_runner *r = calloc(1, sizeof *r);
    if (!r) return 1;
    r->ckpt.lock_fd = -1;
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
    if (rtml_run_stop && !rtml_run_failed(r))
        rtml_log(RTML_LOG_INFO, "signal %d: finishing in-flight records", (int)rtml_run_stop);
    rc = shutdown_clean(r);
    rtml_run_report_take(r, rep);
    rtml_run_report_json(r, rep, json);
    runner_free(r);
    return rc;
}
