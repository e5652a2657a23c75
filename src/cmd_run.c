/* cmd_run.c — `rtml run`: the streaming pipeline between Kafka topics, at least once.
 *
 *   consumer (group, cooperative-sticky) -> pipeline (decode, features, predict, learn) -> producer
 *
 * At-least-once: automatic offset *storing* is off; an input offset is stored (and so committed by the
 * consumer's periodic auto-commit, and synchronously at revoke and shutdown) only after its prediction was
 * acknowledged by the broker (offsets.h). A crash therefore re-delivers, never loses. Rejected records
 * (malformed, wrong types) are counted, logged at a limited rate, and count as done.
 *
 * One thread: librdkafka's own threads do the I/O; this loop polls the consumer for records and the producer
 * for delivery reports. Records wait in the pipeline's micro-batch (one record for the native engines; up to
 * model.tensorflow.batch, or max_delay, for TensorFlow) with their messages held, so each prediction keeps its
 * input's key. When too many predictions are unacknowledged, it stops taking new records until the producer
 * catches up (bounded memory). A TensorFlow model that learns is written as a new version every
 * state.checkpoint_every and at shutdown. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "kafka.h"
#include "log.h"
#include "offsets.h"
#include "pipeline.h"
#include "rtml.h"

#define RING_PER_PARTITION 65536
#define MAX_INFLIGHT 200000
#define STATUS_EVERY_S 10.0

/* Set by the SIGINT/SIGTERM handler, read by the loop: a signal handler can reach nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { stop_requested = sig; }

typedef struct {
    const char *config_path;
    unsigned long long max_records; /* 0 = unbounded */
    double exit_on_idle;            /* seconds, 0 = never */
} run_opts;

/* A record in the pending batch: the message stays alive until its prediction is produced (its key is the
 * prediction's key), with the ticket that will mark its offset done. */
typedef struct {
    rd_kafka_message_t *m;
    uint64_t ticket;
} held_msg;

typedef struct {
    rtml_config cfg;
    rtml_pipeline pipe;
    held_msg *held; /* the pending batch's messages, by tag; pipe.batch_size of them */
    size_t n_held;
    double last_checkpoint;
    uint64_t learned_at_checkpoint;
    rtml_offsets offsets;
    rd_kafka_t *consumer, *producer;
    unsigned long long delivered, delivery_failed, rebalances;
    double first_at, last_at; /* when the first and the latest record arrived (the report's time span) */
    double assigned_at;       /* when partitions were first assigned (0: not yet) */
    char first_delivery_error[256];
} runner;

static void usage(FILE *f) {
    fprintf(f,
            "usage: rtml run -c CONFIG [--max-records N] [--exit-on-idle SECONDS]\n"
            "\n"
            "Consumes the config's input topics, scores every record, learns from labelled ones, and produces\n"
            "one prediction per record to the output topic (at least once: an input offset is committed only\n"
            "after its prediction was acknowledged). Runs until SIGINT/SIGTERM, then finishes in-flight work,\n"
            "commits, and prints a final report as one JSON line on stdout.\n"
            "  -c, --config FILE        the YAML config (see `rtml check`)\n"
            "  --max-records N          stop after N input records\n"
            "  --exit-on-idle SECONDS   stop when no record arrived for SECONDS after partitions were\n"
            "                           assigned (before that: max(SECONDS, 60))\n");
}

/* ---- Kafka callbacks -------------------------------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    runner *r = opaque;
    if (m->err) {
        /* Not acknowledged: its input offset must never be committed, so the ticket stays open. */
        if (r->delivery_failed++ == 0)
            snprintf(r->first_delivery_error, sizeof r->first_delivery_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    r->delivered++;
    rtml_offsets_done(&r->offsets, (uint64_t)(uintptr_t)m->_private);
}

/* Store the advanced watermarks of assigned partitions, for the next commit. */
static void store_offsets(runner *r) {
    rtml_offsets_advance(&r->offsets);
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t i = 0; i < r->offsets.n; i++) {
        rtml_partition_track *t = &r->offsets.parts[i];
        if (!t->assigned || !t->dirty) continue;
        if (!l) l = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = t->next_commit;
        t->dirty = false;
    }
    if (!l) return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(r->consumer, l);
    if (e) rtml_log(RTML_LOG_WARN, "storing offsets: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Before partitions go: wait for their predictions, store and commit what is done. */
static void settle_before_revoke(runner *r, rd_kafka_topic_partition_list_t *parts) {
    if (rd_kafka_flush(r->producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rtml_log(RTML_LOG_WARN, "revoke: predictions still unacknowledged after 30 s; they will be redone");
    store_offsets(r);
    rd_kafka_resp_err_t e = rd_kafka_commit(r->consumer, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) rtml_log(RTML_LOG_WARN, "commit at revoke: %s", rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++) rtml_offsets_release(&r->offsets, parts->elems[i].topic, parts->elems[i].partition);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    runner *r = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    r->rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) rtml_offsets_slot(&r->offsets, parts->elems[i].topic, parts->elems[i].partition);
        rtml_log(RTML_LOG_INFO, "assigned %d partition(s)", parts->cnt);
        if (r->assigned_at == 0 && parts->cnt > 0) r->assigned_at = rtml_now();
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e) rtml_log(RTML_LOG_ERROR, "incremental assign: %s", rd_kafka_error_string(e)), rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, parts);
        }
        return;
    }
    rtml_log(RTML_LOG_INFO, "revoking %d partition(s)%s", parts->cnt, rd_kafka_assignment_lost(rk) ? " (lost)" : "");
    if (!rd_kafka_assignment_lost(rk)) settle_before_revoke(r, parts);
    else for (int i = 0; i < parts->cnt; i++) rtml_offsets_release(&r->offsets, parts->elems[i].topic, parts->elems[i].partition);
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rtml_log(RTML_LOG_ERROR, "incremental unassign: %s", rd_kafka_error_string(e)), rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- set-up ---------------------------------------------------------------------------------------- */

/* librdkafka warns about properties of the other client kind; keep each client's config to its own kind. */
static bool starts_with_any(const char *k, const char *const *prefixes) {
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0) return true;
    return false;
}

static bool consumer_only(const char *k) {
    static const char *const prefixes[] = {"group.", "auto.offset.reset", "enable.auto.", "auto.commit.",
                                           "session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.",
                                           "isolation.level", "max.poll.interval.ms", "fetch.", "queued.",
                                           "check.crcs", "enable.partition.eof", "allow.auto.create.topics", NULL};
    return starts_with_any(k, prefixes);
}

static bool producer_only(const char *k) {
    static const char *const prefixes[] = {"linger.ms", "acks", "compression.", "batch.", "enable.idempotence",
                                           "queue.buffering.", "message.timeout.ms", "retries", "transactional.",
                                           "delivery.timeout.ms", "request.required.acks", "partitioner", NULL};
    return starts_with_any(k, prefixes);
}

/* rtml's settings for a client. defaults[] apply where the user's kafka section does not set the key (the
 * user's value wins: the section is passed through); required[] always apply, and a user value for one of
 * them is refused, since rtml's delivery promise depends on it. */
static rd_kafka_conf_t *client_conf(const rtml_config *cfg, bool consumer, const char *const *defaults,
                                    const char *const *required, char *err, size_t errlen) {
    for (size_t i = 0; required && required[i]; i += 2)
        if (rtml_config_kafka(cfg, required[i])) {
            rtml_fail(err, errlen, "%s: kafka.%s: rtml sets it to %s (it stores an offset only after its prediction "
                      "was acknowledged); remove it", cfg->path, required[i], required[i + 1]);
            return NULL;
        }
    rtml_config view = *cfg;
    rtml_kv *kept = calloc(cfg->n_kafka ? cfg->n_kafka : 1, sizeof *kept);
    size_t n_pairs = 0;
    for (size_t i = 0; required && required[i]; i += 2) n_pairs++;
    for (size_t i = 0; defaults && defaults[i]; i += 2) n_pairs++;
    const char **mine = calloc(2 * n_pairs + 1, sizeof *mine); /* required + the defaults the user did not set */
    if (!kept || !mine) {
        free(kept);
        free(mine);
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    view.n_kafka = 0;
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        const char *k = cfg->kafka[i].key;
        if (consumer ? producer_only(k) : consumer_only(k)) continue;
        kept[view.n_kafka++] = cfg->kafka[i];
    }
    view.kafka = kept;
    size_t n = 0;
    for (size_t i = 0; required && required[i]; i += 2) mine[n++] = required[i], mine[n++] = required[i + 1];
    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (!rtml_config_kafka(cfg, defaults[i])) mine[n++] = defaults[i], mine[n++] = defaults[i + 1];
    rd_kafka_conf_t *c = rtml_kafka_conf_from_config(&view, mine, err, errlen);
    free(kept);
    free(mine);
    return c;
}

static int open_clients(runner *r, char *err, size_t errlen) {
    static const char *const producer_defaults[] = {"enable.idempotence", "true", "linger.ms", "2", NULL};
    rd_kafka_conf_t *pc = client_conf(&r->cfg, false, producer_defaults, NULL, err, errlen);
    if (!pc) return -1;
    rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
    rd_kafka_conf_set_opaque(pc, r);
    if (!(r->producer = rtml_kafka_new(RD_KAFKA_PRODUCER, pc, err, errlen))) return -1;

    /* queued.min.messages: librdkafka 2.0.2 (Debian 12's) stops fetching a partition for a whole
     * fetch.wait/backoff cycle once its prefetch queue holds this many messages (librdkafka #2879, fixed in
     * 2.3.0); at the default 100k a fast consumer idles in poll, measured at 123k records/s against 336k
     * with 1M. Memory stays bounded by queued.max.messages.kbytes (64 MiB by default). */
    static const char *const consumer_defaults[] = {
        "enable.auto.commit", "true", "auto.commit.interval.ms", "1000", "partition.assignment.strategy",
        "cooperative-sticky", "group.id", "rtml", "queued.min.messages", "1000000", NULL};
    static const char *const consumer_required[] = {"enable.auto.offset.store", "false", NULL};
    rd_kafka_conf_t *cc = client_conf(&r->cfg, true, consumer_defaults, consumer_required, err, errlen);
    if (!cc) return -1;
    rd_kafka_conf_set_rebalance_cb(cc, on_rebalance);
    rd_kafka_conf_set_opaque(cc, r);
    if (!(r->consumer = rtml_kafka_new(RD_KAFKA_CONSUMER, cc, err, errlen))) return -1;
    rd_kafka_poll_set_consumer(r->consumer);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new((int)r->cfg.input.n_topics);
    for (size_t i = 0; i < r->cfg.input.n_topics; i++)
        rd_kafka_topic_partition_list_add(sub, r->cfg.input.topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(r->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    return e ? rtml_fail(err, errlen, "subscribe: %s", rd_kafka_err2str(e)) : 0;
}

/* ---- the loop -------------------------------------------------------------------------------------- */

static int send_prediction(runner *r, const rd_kafka_message_t *in, uint64_t ticket, const rtml_buf *pred) {
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(r->producer, RD_KAFKA_V_TOPIC(r->cfg.output.topic),
                                  RD_KAFKA_V_KEY(in->key, in->key_len), RD_KAFKA_V_VALUE(pred->data, pred->len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_OPAQUE((void *)(uintptr_t)ticket), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(r->producer, 10);
    if (e) rtml_log(RTML_LOG_ERROR, "cannot produce to %s: %s", r->cfg.output.topic, rd_kafka_err2str(e));
    return e ? -1 : 0;
}

/* The pipeline hands back each record of a scored batch, in order. */
static void emit_prediction(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *pred) {
    runner *r = ctx;
    held_msg *h = &r->held[item->tag];
    if (why != RTML_REJECT_NONE) {
        rtml_log_every(RTML_LOG_WARN, r->pipe.rejected_by[why], 10, 10, "rejected %s/%d@%lld (%s)", item->topic,
                       (int)item->partition, (long long)item->offset, rtml_reject_name(why));
        rtml_offsets_done(&r->offsets, h->ticket); /* nothing to deliver: done */
    } else if (send_prediction(r, h->m, h->ticket, pred) != 0) {
        stop_requested = SIGTERM;
    }
    rd_kafka_message_destroy(h->m);
    h->m = NULL;
}

static void flush_batch(runner *r) {
    rtml_pipeline_flush(&r->pipe, emit_prediction, r);
    r->n_held = 0;
}

/* Takes ownership of m: destroyed at once, or held until its batch is scored. */
static void handle_record(runner *r, rd_kafka_message_t *m) {
    const char *topic = rd_kafka_topic_name(m->rkt);
    int slot = rtml_offsets_slot(&r->offsets, topic, m->partition);
    if (slot < 0) {
        rtml_log(RTML_LOG_ERROR, "out of memory tracking %s/%d", topic, (int)m->partition);
        stop_requested = SIGTERM;
        rd_kafka_message_destroy(m);
        return;
    }
    uint64_t ticket = rtml_offsets_begin(&r->offsets, slot, m->offset);
    rtml_origin origin = {topic, m->partition, m->offset};
    char why[RTML_ERRLEN];
    int queued;
    rtml_reject rej = rtml_pipeline_submit(&r->pipe, m->payload ? m->payload : "", m->len, &origin, r->n_held,
                                           &queued, why, sizeof why);
    if (rej != RTML_REJECT_NONE)
        rtml_log_every(RTML_LOG_WARN, r->pipe.rejected_by[rej], 10, 10, "rejected %s/%d@%lld (%s): %s", topic,
                       (int)m->partition, (long long)m->offset, rtml_reject_name(rej), why);
    if (!queued) { /* rejected, or a header record (CSV): nothing to deliver, done */
        rtml_offsets_done(&r->offsets, ticket);
        rd_kafka_message_destroy(m);
        return;
    }
    r->held[r->n_held++] = (held_msg){m, ticket};
    if (r->n_held == r->pipe.batch_size) flush_batch(r);
}

/* engine tensorflow: write a new model version every state.checkpoint_every while it learns. */
static void maybe_checkpoint(runner *r, double now, bool final) {
    if (r->pipe.learned == r->learned_at_checkpoint) return;
    if (!final && now - r->last_checkpoint < r->cfg.state.checkpoint_every_s) return;
    char err[RTML_ERRLEN];
    if (rtml_pipeline_checkpoint(&r->pipe, err, sizeof err) != 0)
        rtml_log(RTML_LOG_ERROR, "checkpoint: %s", err);
    r->learned_at_checkpoint = r->pipe.learned;
    r->last_checkpoint = now;
}

static void log_status(const runner *r, double started) {
    double secs = rtml_now() - started;
    rtml_log(RTML_LOG_INFO, "%llu records (%.0f/s), %llu learned, %llu rejected, window accuracy %.4f, in flight %zu",
             (unsigned long long)r->pipe.records, secs > 0 ? (double)r->pipe.records / secs : 0.0,
             (unsigned long long)r->pipe.learned, (unsigned long long)r->pipe.rejected,
             rtml_eval_window_accuracy(&r->pipe.eval), rtml_offsets_inflight(&r->offsets));
}

/* --exit-on-idle: idle means no record for S seconds once partitions are assigned. Joining the group can
 * take seconds on a busy broker, so before the first assignment the clock is max(S, 60 s) from the start
 * (a topic that never gets assigned still ends the run). */
static bool idle_for_too_long(const runner *r, const run_opts *o, double started, double now) {
    if (o->exit_on_idle <= 0) return false;
    if (r->last_at > 0) return now - r->last_at >= o->exit_on_idle;
    if (r->assigned_at > 0) return now - r->assigned_at >= o->exit_on_idle;
    return now - started >= (o->exit_on_idle > 60 ? o->exit_on_idle : 60);
}

static void consume_loop(runner *r, const run_opts *o) {
    double started = rtml_now(), last_status = started;
    while (!stop_requested) {
        if (o->max_records && r->pipe.records >= o->max_records) break;
        rd_kafka_poll(r->producer, 0);
        store_offsets(r);
        if (rtml_offsets_inflight(&r->offsets) >= MAX_INFLIGHT) { /* backpressure: let deliveries catch up */
            flush_batch(r); /* the pending batch's records count as in flight too */
            rd_kafka_poll(r->producer, 10);
            continue;
        }
        double now = rtml_now();
        if (now - last_status >= STATUS_EVERY_S) {
            log_status(r, started);
            last_status = now;
        }
        if (idle_for_too_long(r, o, started, now)) {
            rtml_log(RTML_LOG_INFO, "no record for %.1f s: stopping (--exit-on-idle)", o->exit_on_idle);
            break;
        }
        if (rtml_pipeline_due(&r->pipe, now)) flush_batch(r);
        maybe_checkpoint(r, now, false);
        double wait = rtml_pipeline_wait(&r->pipe, rtml_now());
        int timeout_ms = wait < 0 || wait > 0.1 ? 100 : (int)(wait * 1000) + 1;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, timeout_ms);
        if (!m) continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                rtml_log(RTML_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(m));
        } else {
            int slot = rtml_offsets_slot(&r->offsets, rd_kafka_topic_name(m->rkt), m->partition);
            if (slot >= 0 && rtml_offsets_full(&r->offsets, slot)) flush_batch(r);
            while (slot >= 0 && rtml_offsets_full(&r->offsets, slot) && !stop_requested) {
                rd_kafka_poll(r->producer, 10);
                rtml_offsets_advance(&r->offsets);
            }
            r->last_at = rtml_now();
            if (r->first_at == 0) r->first_at = r->last_at;
            handle_record(r, m);
            continue;
        }
        rd_kafka_message_destroy(m);
    }
    flush_batch(r); /* what is pending gets its predictions before the shutdown flush */
    maybe_checkpoint(r, rtml_now(), true);
}

/* Finish in-flight work and commit what was acknowledged. Returns 0 when everything was delivered. */
static int shutdown_clean(runner *r) {
    int rc = 0;
    if (rd_kafka_flush(r->producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rtml_log(RTML_LOG_ERROR, "%d predictions still unacknowledged after 60 s", rd_kafka_outq_len(r->producer));
        rc = 1;
    }
    store_offsets(r);
    rd_kafka_resp_err_t e = rd_kafka_commit(r->consumer, NULL, 0);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        rtml_log(RTML_LOG_ERROR, "final commit: %s", rd_kafka_err2str(e));
        rc = 1;
    }
    if (r->delivery_failed) {
        rtml_log(RTML_LOG_ERROR, "%llu predictions were not delivered (first error: %s); their inputs stay uncommitted",
                 r->delivery_failed, r->first_delivery_error);
        rc = 1;
    }
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

static void runner_free(runner *r) {
    for (size_t i = 0; i < r->n_held; i++) rd_kafka_message_destroy(r->held[i].m);
    free(r->held);
    if (r->consumer) rd_kafka_destroy(r->consumer);
    if (r->producer) rd_kafka_destroy(r->producer);
    rtml_pipeline_free(&r->pipe);
    rtml_offsets_free(&r->offsets);
    rtml_config_free(&r->cfg);
}

int rtml_cmd_run(int argc, char **argv) {
    run_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    char err[RTML_ERRLEN];
    runner *r = calloc(1, sizeof *r);
    if (!r) return 1;
    rtml_offsets_init(&r->offsets, RING_PER_PARTITION);
    if (rtml_config_load(o.config_path, &r->cfg, err, sizeof err) != 0 ||
        rtml_config_check_run(&r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        runner_free(r);
        free(r);
        return 2;
    }
    if (rtml_pipeline_init(&r->pipe, &r->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s: %s\n", o.config_path, err);
        runner_free(r);
        free(r);
        return 2;
    }
    if (!(r->held = calloc(r->pipe.batch_size, sizeof *r->held))) {
        fprintf(stderr, "rtml run: out of memory\n");
        runner_free(r);
        free(r);
        return 1;
    }
    r->last_checkpoint = rtml_now();
    if (open_clients(r, err, sizeof err) != 0) {
        fprintf(stderr, "rtml run: %s\n", err);
        runner_free(r);
        free(r);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rtml_log(RTML_LOG_INFO, "running: %zu input topic(s) -> %s, model %s", r->cfg.input.n_topics,
             r->cfg.output.topic, r->pipe.engine->ops->name);
    consume_loop(r, &o);
    if (stop_requested) rtml_log(RTML_LOG_INFO, "signal %d: finishing in-flight records", (int)stop_requested);
    rc = shutdown_clean(r);
    /* From the first record to the last: idle time before and after (--exit-on-idle) is not processing. */
    double secs = r->last_at - r->first_at;
    rtml_buf report = RTML_BUF_INIT;
    rtml_pipeline_report(&r->pipe, secs, &report);
    printf("%s\n", report.data);
    fflush(stdout);
    rtml_buf_free(&report);
    runner_free(r);
    free(r);
    return rc;
}
