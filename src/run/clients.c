/* clients.c — the Kafka clients of `rtml run`: their settings and identities, opening them, commits (clients.h).
 *
 * at_least_once: automatic offset *storing* is off; an offset is stored (then committed by rtml's own periodic
 * commit, one at a time, and synchronously at revoke and shutdown) only over a prefix of inputs whose outputs
 * were acknowledged (offsets.h). exactly_once: nothing is committed here; input offsets go into the producer's
 * transactions (output.c), and the consumer reads committed data only. */
#include "run/clients.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "kafka/kafka.h"
#include "base/log.h"
#include "base/rtml.h"

/* ---- settings ---------------------------------------------------------------------------------------- */

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
                                           "queue.buffering.", "message.timeout.ms", "retries", "transaction",
                                           "delivery.timeout.ms", "request.required.acks", "partitioner", NULL};
    return starts_with_any(k, prefixes);
}

/* rtml's settings for a client. defaults[] apply where the user's kafka section does not set the key (the
 * user's value wins: the section is passed through); required[] always apply, and a user value for one of
 * them is refused, since rtml's delivery promise depends on it. */
rd_kafka_conf_t *rtml_run_client_conf(const rtml_config *cfg, bool consumer, const char *const *defaults,
                                    const char *const *required, char *err, size_t errlen) {
    for (size_t i = 0; required && required[i]; i += 2)
        if (rtml_config_kafka(cfg, required[i])) {
            rtml_fail(err, errlen, "%s: kafka.%s: rtml sets it to %s under delivery: %s (its delivery promise "
                      "depends on it); remove it", cfg->path, required[i], required[i + 1],
                      cfg->delivery == RTML_DELIVERY_EXACTLY_ONCE ? "exactly_once" : "at_least_once");
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
        if (!strcmp(k, "group.instance.id") && !*cfg->kafka[i].value) continue; /* "": a dynamic member */
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

/* Client-level errors (librdkafka logs them itself only when no callback is set). Most are transient and
 * retried by librdkafka (a broker down, a connection reset); a failed login never heals by retrying, so it
 * stops the run with an error instead of idling forever. Fatal errors stop it too. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    rtml_runner *r = opaque;
    rd_kafka_resp_err_t e = (rd_kafka_resp_err_t)err;
    if (rk != r->clients.consumer && rk != r->clients.producer) { /* a replaced client's last words */
        rtml_log(RTML_LOG_DEBUG, "kafka %s (replaced): %s", rd_kafka_name(rk), reason);
        return;
    }
    /* _SSL: a TLS handshake that failed verification (a wrong CA, an expired certificate) never heals either.
     * A broker's "bad certificate" alert arrives as _TRANSPORT, like a broker that is down: that one is left
     * to --exit-on-idle's "nothing was assigned". */
    bool stop = e == RD_KAFKA_RESP_ERR__AUTHENTICATION || e == RD_KAFKA_RESP_ERR__FATAL ||
                e == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED || e == RD_KAFKA_RESP_ERR__SSL;
    if (!stop) {
        rtml_log_every(RTML_LOG_WARN, ++r->clients.errors, 10, 10, "kafka %s: %s", rd_kafka_name(rk), reason);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__FATAL && rk == r->clients.consumer) {
        rtml_run_consumer_fatal(r);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__FATAL && rk == r->clients.producer && rtml_run_txn_timed_out(r)) {
        /* not replaced inside its own callback: the transaction's next call fails too, and does it (output.c) */
        rtml_log(RTML_LOG_WARN, "kafka %s: %s", rd_kafka_name(rk), reason);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_fatal_error(rk, why, sizeof why);
        rtml_run_fail(r, RTML_FAULT_KAFKA, "kafka %s cannot go on: %s", rd_kafka_name(rk), why);
    } else {
        rtml_run_fail(r, RTML_FAULT_KAFKA, "kafka %s: %s (check the sasl.* / ssl.* settings)", rd_kafka_name(rk), reason);
    }
}

/* The instance's name, for its transactional.id (exactly_once) and its group.instance.id: stable across its
 * restarts (so a restarted instance fences its own zombie, aborts what it left open and, a static member, takes
 * its partitions back at once) and distinct between instances of one group: "rtml-<group.id>-<hash>", the hash
 * (FNV-1a) of "<host name>:<absolute state.dir>". The host is in it because identical paths on several hosts are
 * the rule (a unit's StateDirectory), and equal ids would fence each other. The kafka section's
 * transactional.id and group.instance.id override it. */
static void instance_name(const rtml_runner *r, char *out, size_t len) {
    const char *group = rtml_config_kafka(&r->cfg, "group.id");
    char real[PATH_MAX], host[256] = "";
    const char *dir = realpath(r->cfg.state.dir, real) ? real : r->cfg.state.dir;
    gethostname(host, sizeof host - 1);
    uint32_t h = 2166136261u;
    for (const char *p = host; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ ':') * 16777619u;
    for (const char *p = dir; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(out, len, "rtml-%s-%08x", group ? group : "rtml", h);
}

/* exactly_once: kafka.transactional.id, or the instance's name. */
static void transactional_id(rtml_runner *r) {
    const char *user = rtml_config_kafka(&r->cfg, "transactional.id");
    if (user) snprintf(r->clients.transactional_id, sizeof r->clients.transactional_id, "%s", user);
    else instance_name(r, r->clients.transactional_id, sizeof r->clients.transactional_id);
}

/* Static membership unless the kafka section says otherwise: kafka.group.instance.id, or the instance's name.
 * A restart (a crash, an upgrade) then takes the same partitions back as soon as it joins, instead of waiting
 * for the old member's session to expire (measured in docs/operations.md: 0.4-1.3 s against 44 s). `""` asks
 * for a dynamic member, which leaves the group when it stops (its partitions move at once) but whose restart
 * after a crash waits for session.timeout.ms. Under the consumer group protocol (KIP-848) the broker refuses a
 * static member's restart until the crashed one's session expires (UNRELEASED_INSTANCE_ID, fatal), so there a
 * derived id would only turn that wait into an error: dynamic unless the section names one. Empty: dynamic. */
static void group_instance_id(rtml_runner *r) {
    const char *user = rtml_config_kafka(&r->cfg, "group.instance.id");
    const char *protocol = rtml_config_kafka(&r->cfg, "group.protocol");
    if (user) snprintf(r->clients.group_instance_id, sizeof r->clients.group_instance_id, "%s", user);
    else if (protocol && !strcmp(protocol, "consumer")) r->clients.group_instance_id[0] = '\0';
    else instance_name(r, r->clients.group_instance_id, sizeof r->clients.group_instance_id);
}

/* librdkafka learned the partitions of a topic it had not produced to yet only at its next periodic topic scan
 * (once a second), and held the topic's messages until then: measured with 2.0.2, the first 50,000 outputs of a
 * run waited 0.85 s, and every worker paused its inputs for it. One metadata request per topic at start costs
 * nothing, so it stays with 2.12: the producer asks for the metadata of each
 * topic rtml writes to before the first record, and keeps their handles (the metadata stays with them). A
 * topic that does not exist yet is left to the broker's auto-creation, as before. */
static void output_topics(const rtml_runner *r, const char *topics[3]) {
    topics[0] = r->cfg.output.topic, topics[1] = r->cfg.dead_letter.topic, topics[2] = r->cfg.drift.topic;
}

static void know_output_topics(rtml_runner *r) {
    const char *topics[3];
    output_topics(r, topics);
    for (int i = 0; i < 3; i++) {
        if (!topics[i] || !(r->clients.outputs[i] = rd_kafka_topic_new(r->clients.producer, topics[i], NULL))) continue;
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t e = rd_kafka_metadata(r->clients.producer, 0, r->clients.outputs[i], &md, 5000);
        if (e) rtml_log(RTML_LOG_DEBUG, "metadata of %s: %s", topics[i], rd_kafka_err2str(e));
        else rd_kafka_metadata_destroy(md);
    }
}

rd_kafka_topic_t *rtml_run_output_handle(const rtml_runner *r, const char *topic) {
    const char *topics[3];
    output_topics(r, topics);
    for (int i = 0; i < 3; i++)
        if (topic == topics[i]) return r->clients.outputs[i];
    return NULL;
}

/* The coordinator aborts a transaction left open longer than transaction.timeout.ms and bumps the producer's
 * epoch, which fences it exactly as a newer instance would (the campaign's seed 3066: a 45 s broker outage on a
 * loaded machine kept one open for over a minute). When the producer's own abort races the coordinator's (its
 * outputs timed out meanwhile: an abort that bumps the epoch), the broker answers INVALID_TXN_STATE, as fatal
 * (faults.txn_timeout, the process frozen a few seconds). Only the age tells the two apart: the coordinator's clock
 * starts after rtml's (at the first partition added), so a transaction it timed out is at least that old here,
 * and a younger one was fenced by another instance, so two instances never take turns: the one whose young
 * transaction a replacement fences stops. A transaction can time out again after a replacement (a backlog
 * answered again in one transaction on a slow broker, with a short transaction.timeout.ms); five replacements
 * without a commit between them stop the run. */
bool rtml_run_txn_timed_out(const rtml_runner *r) {
    if (!r->exactly_once || !r->clients.producer) return false;
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(r->clients.producer, NULL, 0);
    if (e != RD_KAFKA_RESP_ERR__FENCED && e != RD_KAFKA_RESP_ERR_PRODUCER_FENCED &&
        e != RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH && e != RD_KAFKA_RESP_ERR_INVALID_TXN_STATE)
        return false;
    const char *v = rtml_config_kafka(&r->cfg, "transaction.timeout.ms");
    double limit = (v ? strtod(v, NULL) : 60000) / 1000, now = rtml_now();
    if (!r->txn.open || now - r->txn.started < limit) return false;
    return r->txn.renewed_in_a_row < RTML_TXN_RENEWALS_MAX;
}

/* The producer, with the delivery callback loop.c gave (r->clients.on_delivery), and its defaults (the kafka
 * section wins where it sets a key). Under exactly_once, two of them work around
 * librdkafka #5456 and #5511 (open upstream; the long campaign's seeds 4150 and 7055, faults.coordinator_lost):
 * when the group coordinator's broker drops out of a metadata response, the producer decommissions it but keeps
 * it in its coordinator cache, and rd_kafka_send_offsets_to_transaction then waits, past its timeout, for a
 * broker state change to look the coordinator up again. A metadata refresh every 10 s (librdkafka's default is
 * 5 min) brings the restarted broker back within seconds, and connections closed after 30 s idle (a blocked
 * producer's all are) are state changes too, for a coordinator that never comes back. */
static int open_producer(rtml_runner *r, char *err, size_t errlen) {
    static const char *const at_least_once[] = {"enable.idempotence", "true", "linger.ms", "2", NULL};
    static const char *const exactly_once[] = {"linger.ms", "2", "topic.metadata.refresh.interval.ms", "10000",
                                               "connections.max.idle.ms", "30000", NULL};
    const char *eos_required[] = {"transactional.id", r->clients.transactional_id, NULL};
    rd_kafka_conf_t *pc = rtml_run_client_conf(&r->cfg, false, r->exactly_once ? exactly_once : at_least_once,
                                               r->exactly_once && !rtml_config_kafka(&r->cfg, "transactional.id") ? eos_required
                                                                                                        : NULL,
                                      err, errlen);
    if (!pc) return -1;
    rd_kafka_conf_set_dr_msg_cb(pc, r->clients.on_delivery);
    rd_kafka_conf_set_error_cb(pc, on_error);
    rd_kafka_conf_set_opaque(pc, r);
    if (!(r->clients.producer = rtml_kafka_new(RD_KAFKA_PRODUCER, pc, err, errlen))) return -1;
    know_output_topics(r);
    if (!r->exactly_once) return 0;
    rd_kafka_error_t *e = rd_kafka_init_transactions(r->clients.producer, 60000);
    if (e) {
        rtml_fail(err, errlen, "cannot start transactions (transactional.id %s): %s", r->clients.transactional_id,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    rtml_log(RTML_LOG_INFO, "exactly once: transactional.id %s", r->clients.transactional_id);
    return 0;
}


/* The consumer's defaults (the kafka section wins where it sets a key): cooperative rebalancing under the classic
 * group protocol (the consumer protocol, KIP-848, assigns on the broker and refuses the setting), static
 * membership, under exactly_once read_committed input, and a deeper prefetch than librdkafka's 100,000 messages
 * (still bounded by queued.max.messages.kbytes, 64 MiB): with librdkafka's default the main thread waited on
 * fetches and a 4-partition topic went through at half the raw client's rate with a third of a core busy
 * (bench/run.sh pipeline; docs/performance.md). */
static const char **consumer_defaults(rtml_runner *r) {
    const char **d = calloc(16, sizeof *d);
    if (!d) return NULL;
    size_t n = 0;
    const char *protocol = rtml_config_kafka(&r->cfg, "group.protocol");
    if (!protocol || strcmp(protocol, "consumer") != 0)
        d[n++] = "partition.assignment.strategy", d[n++] = "cooperative-sticky";
    d[n++] = "group.id", d[n++] = "rtml";
    if (r->clients.group_instance_id[0]) d[n++] = "group.instance.id", d[n++] = r->clients.group_instance_id;
    if (r->exactly_once) d[n++] = "isolation.level", d[n++] = "read_committed";
    d[n++] = "queued.min.messages", d[n++] = "1000000";
    return d;
}

int rtml_run_open_consumer(rtml_runner *r, char *err, size_t errlen) {
    static const char *const required[] = {"enable.auto.commit", "false", "enable.auto.offset.store", "false", NULL};
    const char **defaults = consumer_defaults(r);
    if (!defaults) return rtml_fail(err, errlen, "out of memory");
    rd_kafka_conf_t *cc = rtml_run_client_conf(&r->cfg, true, defaults, required, err, errlen);
    free(defaults);
    if (!cc) return -1;
    rd_kafka_conf_set_rebalance_cb(cc, r->clients.on_rebalance);
    rd_kafka_conf_set_error_cb(cc, on_error);
    if (r->cfg.monitor.listen) { /* the monitor's lag per partition comes from librdkafka's statistics */
        char e[256];
        if (!rtml_config_kafka(&r->cfg, "statistics.interval.ms") &&
            rd_kafka_conf_set(cc, "statistics.interval.ms", "1000", e, sizeof e) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(cc);
            return rtml_fail(err, errlen, "statistics.interval.ms: %s", e);
        }
        rd_kafka_conf_set_stats_cb(cc, r->clients.on_stats);
    }
    rd_kafka_conf_set_opaque(cc, r);
    if (!(r->clients.consumer = rtml_kafka_new(RD_KAFKA_CONSUMER, cc, err, errlen))) return -1;
    rd_kafka_poll_set_consumer(r->clients.consumer);
    if (!(r->clients.commit_q = rd_kafka_queue_new(r->clients.consumer))) return rtml_fail(err, errlen, "out of memory");
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new((int)r->cfg.input.n_topics + 2);
    for (size_t i = 0; i < r->cfg.input.n_topics; i++)
        rd_kafka_topic_partition_list_add(sub, r->cfg.input.topics[i], RD_KAFKA_PARTITION_UA);
    /* label.topic: the same consumer, so that its positions travel with the input's in checkpoints and
     * transactions (pipeline/labels.c) */
    if (r->cfg.label.topic) rd_kafka_topic_partition_list_add(sub, r->cfg.label.topic, RD_KAFKA_PARTITION_UA);
    /* the aggregates' repartition topic (repartition.h): read like an input, by the same member */
    if (r->repart.topic) rd_kafka_topic_partition_list_add(sub, r->repart.topic, RD_KAFKA_PARTITION_UA);
    /* serve.log_topic, read back to join answered requests with their labels (run/serve.c) */
    if (rtml_config_serve_learns(&r->cfg))
        rd_kafka_topic_partition_list_add(sub, r->cfg.serve.log_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(r->clients.consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    return e ? rtml_fail(err, errlen, "subscribe: %s", rd_kafka_err2str(e)) : 0;
}

/* ---- a consumer fenced by its own rejoin ---------------------------------------------------------------- */

void rtml_run_consumer_fatal(rtml_runner *r) {
    char why[256];
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(r->clients.consumer, why, sizeof why);
    if (e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID) { /* said both as an error event and as a message */
        r->clients.fenced = true; /* the loop replaces the consumer (rtml_run_rejoin) */
        return;
    }
    rtml_run_fail(r, RTML_FAULT_CONSUMER, "the consumer cannot go on: %s", why);
}

int rtml_run_open_clients(rtml_runner *r, const rtml_run_client_cbs *cbs, char *err, size_t errlen) {
    r->clients.on_rebalance = cbs->on_rebalance;
    r->clients.on_stats = cbs->on_stats;
    if (r->exactly_once) transactional_id(r);
    group_instance_id(r);
    /* Who commits (group.c reads it back): the member's own identity when the config names one, so that an
     * instance whose state.dir moved (a new disk) is still itself; else the name derived from host and state.dir. */
    char name[sizeof r->clients.commit_owner - 5];
    const char *user = rtml_config_kafka(&r->cfg, "group.instance.id");
    if (user && *user) snprintf(name, sizeof name, "%s", user);
    else instance_name(r, name, sizeof name);
    snprintf(r->clients.commit_owner, sizeof r->clients.commit_owner, "rtml:%s", name);
    if (r->clients.group_instance_id[0]) rtml_log(RTML_LOG_INFO, "static group member: group.instance.id %s", r->clients.group_instance_id);
    else rtml_log(RTML_LOG_INFO, "dynamic group member (no group.instance.id)");
    r->clients.on_delivery = cbs->on_delivery;
    if (open_producer(r, err, errlen) != 0) return -1;
    return rtml_run_open_consumer(r, err, errlen);
}

/* The producer's topic handles, then rk itself (which they belong to); rk is no longer r->clients.producer. */
static void destroy_producer(rtml_runner *r, rd_kafka_t *rk) {
    for (int i = 0; i < 3; i++) {
        if (r->clients.outputs[i]) rd_kafka_topic_destroy(r->clients.outputs[i]);
        r->clients.outputs[i] = NULL;
    }
    if (rk) rd_kafka_destroy(rk);
}

void rtml_run_close_producer(rtml_runner *r) {
    rd_kafka_t *rk = r->clients.producer;
    r->clients.producer = NULL;
    destroy_producer(r, rk);
}

int rtml_run_reopen_producer(rtml_runner *r, char *err, size_t errlen) {
    /* What the fenced producer still holds belongs to the aborted transaction: dropped (the delivery reports
     * say purged, which is no failure), and answered again after the rewind. */
    rd_kafka_t *old = r->clients.producer;
    r->clients.producer = NULL; /* its own fatal error, served below, is no longer the run's (on_error) */
    rd_kafka_purge(old, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(old, 0);
    destroy_producer(r, old);
    return open_producer(r, err, errlen);
}

/* ---- commits and pauses ------------------------------------------------------------------------------ */

/* Only offsets past the partition's committed one at assignment (emit_from) are stored: while it re-learns
 * below it after a restart from an older checkpoint, its watermark moves over records that need no output, and
 * committing that would move the group's offset backwards (a later crash would then answer them again). */
void rtml_run_store_offsets(rtml_runner *r) {
    if (r->exactly_once) return;
    rtml_offsets_advance(&r->offsets);
    rd_kafka_topic_partition_list_t *l = NULL;
    for (size_t i = 0; i < r->offsets.n; i++) {
        rtml_partition_track *t = &r->offsets.parts[i];
        if (!t->assigned || !t->dirty) continue;
        if (t->next_commit <= t->emit_from) {
            t->dirty = false;
            continue;
        }
        if (!l) l = rd_kafka_topic_partition_list_new(4);
        rtml_run_set_owner(r, rd_kafka_topic_partition_list_add(l, t->topic, t->partition), t->next_commit);
        t->dirty = false;
    }
    if (!l) return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(r->clients.consumer, l);
    if (e) rtml_log(RTML_LOG_WARN, "storing offsets: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
}

void rtml_run_set_owner(const rtml_runner *r, rd_kafka_topic_partition_t *p, int64_t offset) {
    p->offset = offset;
    p->metadata_size = strlen(r->clients.commit_owner);
    p->metadata = strdup(r->clients.commit_owner); /* freed with the list (librdkafka frees it with free()) */
    if (!p->metadata) p->metadata_size = 0;
}

/* at_least_once commits are rtml's own, one at a time: librdkafka's auto-commit can have several in flight, and
 * one retried after a broker restart can land after a newer one and move the group's offset backwards (the fault
 * campaign saw 9919 -> 9913). An asynchronous commit of the stored offsets goes out every auto.commit.interval.ms
 * of the kafka section (default 1 s), on a queue of its own, and the next only once its answer came back. */
static double commit_interval(const rtml_runner *r) {
    const char *v = rtml_config_kafka(&r->cfg, "auto.commit.interval.ms");
    double ms = v ? strtod(v, NULL) : 0; /* librdkafka already refused a value it cannot take */
    return ms > 0 ? ms / 1000 : 1.0;
}

/* The answer to the commit in flight, waiting up to timeout_ms for it. */
static void commit_answered(rtml_runner *r, int timeout_ms) {
    if (!r->clients.commit_in_flight) return;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(r->clients.commit_q, timeout_ms);
    if (!ev) return;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
        r->clients.commit_in_flight = false;
        rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
        if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
            rtml_log_every(RTML_LOG_WARN, ++r->clients.errors, 3, 10, "commit: %s (the next one retries)",
                           rd_kafka_event_error_string(ev));
    }
    rd_kafka_event_destroy(ev);
}

void rtml_run_commit_offsets(rtml_runner *r, double now) {
    if (r->exactly_once) return;
    commit_answered(r, 0);
    if (r->clients.commit_in_flight || now - r->clients.last_commit < commit_interval(r)) return;
    r->clients.last_commit = now;
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(r->clients.consumer, NULL, r->clients.commit_q, NULL, NULL);
    if (!e) r->clients.commit_in_flight = true;
    else if (e != RD_KAFKA_RESP_ERR__NO_OFFSET) rtml_log(RTML_LOG_WARN, "commit: %s", rd_kafka_err2str(e));
}

rd_kafka_resp_err_t rtml_run_commit_now(rtml_runner *r) {
    double deadline = rtml_now() + 30;
    while (r->clients.commit_in_flight && rtml_now() < deadline) commit_answered(r, 100);
    if (r->clients.commit_in_flight) return RD_KAFKA_RESP_ERR__TIMED_OUT;
    rtml_run_store_offsets(r);
    rd_kafka_resp_err_t e = rd_kafka_commit(r->clients.consumer, NULL, 0);
    r->clients.last_commit = rtml_now();
    return e == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : e;
}

void rtml_run_close_consumer(rtml_runner *r) {
    if (r->clients.commit_q) rd_kafka_queue_destroy(r->clients.commit_q);
    r->clients.commit_q = NULL;
    r->clients.commit_in_flight = false;
    if (r->clients.consumer) rd_kafka_destroy(r->clients.consumer);
    r->clients.consumer = NULL;
}

/* Pause or resume the assigned partitions, or only those of topic when it is set. librdkafka drops a paused
 * partition's prefetched messages and fetches again from the application's position on resume, so a pause
 * really frees memory. -1 when the assignment cannot be read (nothing done), 1 when librdkafka refused (said),
 * 0 when done. */
int rtml_run_pause_partitions(rtml_runner *r, const char *topic, bool pause, const char *what) {
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(r->clients.consumer, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l) return -1;
    if (topic) {
        rd_kafka_topic_partition_list_t *only = rd_kafka_topic_partition_list_new(l->cnt);
        for (int i = 0; i < l->cnt; i++)
            if (!strcmp(l->elems[i].topic, topic)) rd_kafka_topic_partition_list_add(only, topic, l->elems[i].partition);
        rd_kafka_topic_partition_list_destroy(l);
        l = only;
    }
    rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(r->clients.consumer, l) : rd_kafka_resume_partitions(r->clients.consumer, l);
    if (e) rtml_log(RTML_LOG_WARN, "%s %s partitions: %s", pause ? "pausing" : "resuming", what, rd_kafka_err2str(e));
    rtml_log(RTML_LOG_DEBUG, "%s %d %s partition(s)", pause ? "paused" : "resumed", l->cnt, what);
    rd_kafka_topic_partition_list_destroy(l);
    return e ? 1 : 0;
}

