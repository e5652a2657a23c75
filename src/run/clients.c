/* run_kafka.c — the Kafka clients of `rtml run`: their settings, rebalances, commits and pauses (run.h).
 *
 * Where a partition starts (at assignment): the group's committed offset C says which inputs already have
 * their outputs; the checkpoint's learn_next L says which records the model holds (checkpoint.h). It starts
 * at min(C, L): records below L are scored but not learned again, records below C get no output again. With
 * no committed offset it starts where auto.offset.reset says, still learning nothing below L.
 *
 * at_least_once: automatic offset *storing* is off; an offset is stored (then committed by rtml's own periodic
 * commit, one at a time, and synchronously at revoke and shutdown) only over a prefix of inputs whose outputs
 * were acknowledged (offsets.h). exactly_once: nothing is committed here; input offsets go into the producer's
 * transactions (run_output.c), and the consumer reads committed data only. */
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
#include "run/run.h"

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
static rd_kafka_conf_t *client_conf(const rtml_config *cfg, bool consumer, const char *const *defaults,
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
    /* _SSL: a TLS handshake that failed verification (a wrong CA, an expired certificate) never heals either.
     * A broker's "bad certificate" alert arrives as _TRANSPORT, like a broker that is down: that one is left
     * to --exit-on-idle's "nothing was assigned". */
    bool stop = e == RD_KAFKA_RESP_ERR__AUTHENTICATION || e == RD_KAFKA_RESP_ERR__FATAL ||
                e == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED || e == RD_KAFKA_RESP_ERR__SSL;
    if (!stop) {
        rtml_log_every(RTML_LOG_WARN, ++r->client_errors, 10, 10, "kafka %s: %s", rd_kafka_name(rk), reason);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__FATAL && rk == r->consumer) {
        rtml_run_consumer_fatal(r);
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_fatal_error(rk, why, sizeof why);
        snprintf(r->fatal, sizeof r->fatal, "kafka %s cannot go on: %s", rd_kafka_name(rk), why);
    } else if (!r->fatal[0]) {
        snprintf(r->fatal, sizeof r->fatal, "kafka %s: %s (check the sasl.* / ssl.* settings)", rd_kafka_name(rk), reason);
    }
    rtml_run_stop = SIGTERM;
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
    if (user) snprintf(r->transactional_id, sizeof r->transactional_id, "%s", user);
    else instance_name(r, r->transactional_id, sizeof r->transactional_id);
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
    if (user) snprintf(r->group_instance_id, sizeof r->group_instance_id, "%s", user);
    else if (protocol && !strcmp(protocol, "consumer")) r->group_instance_id[0] = '\0';
    else instance_name(r, r->group_instance_id, sizeof r->group_instance_id);
}

/* librdkafka 2.0.2 learns the partitions of a topic it has not produced to yet only at its next periodic topic
 * scan (once a second), and holds the topic's messages until then: measured, the first 50,000 outputs of a
 * run waited 0.85 s, and every worker paused its inputs for it. So the producer asks for the metadata of each
 * topic rtml writes to before the first record, and keeps their handles (the metadata stays with them). A
 * topic that does not exist yet is left to the broker's auto-creation, as before. */
static void know_output_topics(rtml_runner *r) {
    const char *topics[3] = {r->cfg.output.topic, r->cfg.dead_letter.topic, r->cfg.drift.topic};
    for (int i = 0; i < 3; i++) {
        if (!topics[i] || !(r->outputs[i] = rd_kafka_topic_new(r->producer, topics[i], NULL))) continue;
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t e = rd_kafka_metadata(r->producer, 0, r->outputs[i], &md, 5000);
        if (e) rtml_log(RTML_LOG_DEBUG, "metadata of %s: %s", topics[i], rd_kafka_err2str(e));
        else rd_kafka_metadata_destroy(md);
    }
}

static int open_producer(rtml_runner *r, char *err, size_t errlen) {
    static const char *const at_least_once[] = {"enable.idempotence", "true", "linger.ms", "2", NULL};
    static const char *const exactly_once[] = {"linger.ms", "2", NULL};
    const char *eos_required[] = {"transactional.id", r->transactional_id, NULL};
    rd_kafka_conf_t *pc = client_conf(&r->cfg, false, r->exactly_once ? exactly_once : at_least_once,
                                      r->exactly_once && !rtml_config_kafka(&r->cfg, "transactional.id") ? eos_required
                                                                                                        : NULL,
                                      err, errlen);
    if (!pc) return -1;
    rd_kafka_conf_set_dr_msg_cb(pc, rtml_run_on_delivery);
    rd_kafka_conf_set_error_cb(pc, on_error);
    rd_kafka_conf_set_opaque(pc, r);
    if (!(r->producer = rtml_kafka_new(RD_KAFKA_PRODUCER, pc, err, errlen))) return -1;
    know_output_topics(r);
    if (!r->exactly_once) return 0;
    rd_kafka_error_t *e = rd_kafka_init_transactions(r->producer, 60000);
    if (e) {
        rtml_fail(err, errlen, "cannot start transactions (transactional.id %s): %s", r->transactional_id,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    rtml_log(RTML_LOG_INFO, "exactly once: transactional.id %s", r->transactional_id);
    return 0;
}

/* ---- rebalances -------------------------------------------------------------------------------------- */

/* Where auto.offset.reset sends a partition with no committed offset, as a number; -1 when it says "error"
 * or the broker cannot tell. */
static int64_t reset_offset(rtml_runner *r, const char *topic, int32_t partition) {
    const char *reset = rtml_config_kafka(&r->cfg, "auto.offset.reset");
    if (!reset) reset = "latest"; /* librdkafka's default */
    int earliest = !strcmp(reset, "earliest") || !strcmp(reset, "smallest") || !strcmp(reset, "beginning");
    if (!earliest && strcmp(reset, "latest") && strcmp(reset, "largest") && strcmp(reset, "end")) return -1;
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(r->consumer, topic, partition, &lo, &hi, 30000)) return -1;
    return earliest ? lo : hi;
}

/* The first error of a committed-offsets answer: the request's, or a partition's. */
static rd_kafka_resp_err_t committed_error(rd_kafka_resp_err_t e, const rd_kafka_topic_partition_list_t *c) {
    for (int i = 0; !e && i < c->cnt; i++) e = c->elems[i].err;
    return e;
}

/* The group's committed offsets of c's partitions. exactly_once reads stable offsets only: while an instance
 * that died mid-transaction still has offsets pending in it, the coordinator answers "unstable" until the
 * broker aborts that transaction (transaction.timeout.ms), and librdkafka retries until its timeout. A guess
 * (the checkpoint's positions) would answer records twice, so exactly_once retries on any error (a timeout,
 * a coordinator moving or loading, a partition's error) in short tries, saying why every 10 s; between them
 * the model topic and the monitor are served, so new versions still swap in and /healthz stays fresh.
 * at_least_once tries once for 30 s and falls back to the checkpoint (a duplicate is allowed there, a loss
 * never). */
static rd_kafka_resp_err_t read_committed_offsets(rtml_runner *r, rd_kafka_topic_partition_list_t *c) {
    if (!r->exactly_once) return rd_kafka_committed(r->consumer, c, 30000);
    double started = rtml_now(), said = started;
    for (;;) {
        rd_kafka_resp_err_t e = committed_error(rd_kafka_committed(r->consumer, c, 1000), c);
        if (!e || rtml_run_stop) return e;
        double now = rtml_now();
        if (now - said >= 10) {
            rtml_log(RTML_LOG_WARN, "waiting %.0f s for the committed offsets of the assigned partitions (%s; a "
                     "failed instance's open transaction holds them until the broker aborts it: "
                     "transaction.timeout.ms)", now - started, rd_kafka_err2str(e));
            said = now;
        } else if (e != RD_KAFKA_RESP_ERR__TIMED_OUT) {
            rtml_log_every(RTML_LOG_INFO, ++r->client_errors, 3, 10, "reading committed offsets: %s; retrying",
                           rd_kafka_err2str(e));
        }
        rtml_run_models_tick(r, now);
        rtml_run_monitor_tick(r, now);
    }
}

/* Commits carry their committer's name as metadata ("rtml:<instance name>"). A partition whose last commit is
 * another instance's was answered, and learned, by that one since this model last held it (a crash moved it
 * while this instance was away): the checkpoint's learn_next is stale, and reading from it would learn again
 * what the other model learned. It starts as a partition new to this model, at the committed offset. (What this
 * instance learned after its last checkpoint and before its last commit is then learned by no model: bounded by
 * checkpoint_every, where re-learning from the checkpoint would count everything since twice.) Commits without
 * rtml's metadata (an older rtml, another tool) change nothing. */
static void forget_if_answered_elsewhere(rtml_runner *r, rtml_partition_track *t, const rd_kafka_topic_partition_t *c) {
    const char *m = c->metadata;
    size_t n = c->metadata_size, mine = strlen(r->commit_owner);
    if (t->learn_next < 0 || !m || n < 5 || memcmp(m, "rtml:", 5) != 0) return;
    if (n == mine && memcmp(m, r->commit_owner, n) == 0) return;
    rtml_log(RTML_LOG_WARN, "%s/%d: its last commit (%lld) is another instance's (%.*s): learning it from there, not "
             "from this checkpoint's %lld", t->topic, (int)t->partition, (long long)c->offset, (int)(n > 200 ? 200 : n),
             m, (long long)t->learn_next);
    t->learn_next = -1;
}

/* Set each newly assigned partition's start offset, emit_from and slot (see the top of this file). A partition
 * the model knows nothing of gets its learn_next now, at its start, and a checkpoint records it before any
 * record is read: otherwise a crash after its outputs were committed but before the next checkpoint would
 * restart it at the committed offset, and the records before it would never be learned. */
static void choose_starts(rtml_runner *r, rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = read_committed_offsets(r, c);
    if (e) rtml_log(RTML_LOG_WARN, "reading committed offsets: %s (starting from the checkpoint's)", rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        int s = rtml_offsets_slot(&r->offsets, p->topic, p->partition);
        if (s < 0) { /* without its slot the partition's messages would be dropped as not assigned */
            snprintf(r->fatal, sizeof r->fatal, "out of memory tracking %s/%d", p->topic, (int)p->partition);
            rtml_run_stop = SIGTERM;
            continue;
        }
        rtml_partition_track *t = &r->offsets.parts[s];
        int64_t committed = !e && !c->elems[i].err && c->elems[i].offset >= 0 ? c->elems[i].offset : -1;
        if (committed >= 0) forget_if_answered_elsewhere(r, t, &c->elems[i]);
        int64_t lo, hi;
        if (t->learn_next >= 0 &&
            !rd_kafka_query_watermark_offsets(r->consumer, p->topic, p->partition, &lo, &hi, 30000) && t->learn_next > hi) {
            /* The model learned past this partition's end: it is not the partition the checkpoint knew (the
             * topic was deleted and created again). Its records are new to the model. */
            rtml_log(RTML_LOG_WARN, "%s/%d: the checkpoint learned up to offset %lld, but the partition ends at %lld "
                     "(was the topic recreated?): learning it from its start", p->topic, (int)p->partition,
                     (long long)t->learn_next, (long long)hi);
            t->learn_next = -1;
            if (committed > hi) committed = -1;
        }
        t->emit_from = committed;
        t->done_next = -1;
        if (committed >= 0) p->offset = t->learn_next >= 0 && t->learn_next < committed ? t->learn_next : committed;
        else if (t->learn_next >= 0 && (e || c->elems[i].err)) p->offset = t->learn_next; /* unknown: the checkpoint's */
        else p->offset = RD_KAFKA_OFFSET_INVALID;                     /* auto.offset.reset */
        if (t->learn_next < 0) {
            int64_t start = p->offset >= 0 ? p->offset : reset_offset(r, p->topic, p->partition);
            if (start >= 0) p->offset = t->learn_next = start, r->positions_changed = true;
        }
        if (t->learn_next >= 0 || committed >= 0)
            rtml_log(RTML_LOG_INFO, "%s/%d: committed %lld, learned up to %lld: starting at %lld", p->topic,
                     (int)p->partition, (long long)committed, (long long)t->learn_next, (long long)p->offset);
    }
    rd_kafka_topic_partition_list_destroy(c);
}

/* Records of a partition learned past its last commit: exactly_once's emit_from is the last committed offset
 * (an abort rewinds to it); at_least_once's commit point is next_commit once anything was acknowledged. */
static int64_t uncommitted_learned(const rtml_partition_track *t) {
    int64_t committed = t->next_commit >= 0 ? t->next_commit : t->emit_from;
    return t->learn_next >= 0 && committed >= 0 && t->learn_next > committed ? t->learn_next - committed : 0;
}

/* Revoked partitions leave the offsets (handed_over: see rtml_offsets_release). What was learned past their
 * last commit is counted and said: their next owner answers it, and learns it again. That happens when the
 * handover's commit fails (a rebalance raced it, the assignment was lost), and also after a transaction that a
 * rebalance aborted just before the revoke: its records are learned, and rewound to be answered again, but
 * the partition goes before they are. */
static void release_revoked(rtml_runner *r, const rd_kafka_topic_partition_list_t *parts, bool handed_over) {
    for (int i = 0; i < parts->cnt; i++) {
        const char *topic = parts->elems[i].topic;
        int32_t partition = parts->elems[i].partition;
        int s = rtml_offsets_find(&r->offsets, topic, partition);
        int64_t n = s >= 0 ? uncommitted_learned(&r->offsets.parts[s]) : 0;
        if (n > 0) {
            r->handover_uncommitted += (unsigned long long)n;
            rtml_log(RTML_LOG_WARN, "%s/%d leaves with its last %lld records learned but not committed (a rebalance "
                     "raced the handover): the next owner answers them, and learns them again", topic,
                     (int)partition, (long long)n);
        }
        rtml_offsets_release(&r->offsets, topic, partition, handed_over);
    }
}

/* ---- re-learning before a partition goes --------------------------------------------------------------- */

/* The revoked partitions still re-learning below their committed offset (a restart from a checkpoint older than
 * the last commit): their records [learn_next, emit_from), with the offsets as the reader's start. NULL: none. */
static rd_kafka_topic_partition_list_t *unfinished_relearning(rtml_runner *r, const rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *todo = NULL;
    for (int i = 0; i < parts->cnt; i++) {
        int s = rtml_offsets_find(&r->offsets, parts->elems[i].topic, parts->elems[i].partition);
        if (s < 0) continue;
        const rtml_partition_track *t = &r->offsets.parts[s];
        if (t->learn_next < 0 || t->emit_from <= t->learn_next) continue;
        if (!todo) todo = rd_kafka_topic_partition_list_new(parts->cnt);
        rd_kafka_topic_partition_list_add(todo, t->topic, t->partition)->offset = t->learn_next;
    }
    return todo;
}

/* A consumer outside the group (assign, never subscribe; it commits nothing) with the config's connection
 * settings, to read what a revoked partition has left to re-learn. NULL with the reason logged. */
static rd_kafka_t *relearn_reader(rtml_runner *r) {
    char err[RTML_ERRLEN];
    rtml_config view = r->cfg;
    rtml_kv *kept = calloc(r->cfg.n_kafka ? r->cfg.n_kafka : 1, sizeof *kept);
    if (!kept) return NULL;
    view.n_kafka = 0;
    for (size_t i = 0; i < r->cfg.n_kafka; i++) /* not a member: no static identity to fence the real one with */
        if (strcmp(r->cfg.kafka[i].key, "group.instance.id") && strcmp(r->cfg.kafka[i].key, "enable.auto.commit") &&
            strcmp(r->cfg.kafka[i].key, "enable.auto.offset.store"))
            kept[view.n_kafka++] = r->cfg.kafka[i];
    view.kafka = kept;
    static const char *const forced[] = {"enable.auto.commit", "false", "enable.auto.offset.store", "false", NULL};
    rd_kafka_conf_t *c = client_conf(&view, true, NULL, forced, err, sizeof err);
    free(kept);
    rd_kafka_t *rk = c ? rtml_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err) : NULL;
    if (!rk) rtml_log(RTML_LOG_ERROR, "re-learning before a handover: %s", err);
    return rk;
}

/* Reads todo's partitions from their offsets until each reaches its emit_from (the deadline: 60 s), and hands
 * each record to the pipeline, which learns it without answering (it is below emit_from). */
static void relearn_from(rtml_runner *r, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *todo) {
    if (rd_kafka_assign(rk, todo)) return;
    int left = todo->cnt;
    double deadline = rtml_now() + 60;
    while (left > 0 && rtml_now() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        int s = m->err ? -1 : rtml_offsets_find(&r->offsets, rd_kafka_topic_name(m->rkt), m->partition);
        if (s < 0 || m->offset >= r->offsets.parts[s].emit_from || m->offset < r->offsets.parts[s].learn_next) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                rtml_log(RTML_LOG_WARN, "re-learning before a handover: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        bool last = m->offset + 1 >= r->offsets.parts[s].emit_from;
        rtml_run_handle(r, m, s); /* takes m */
        if (last) left--;
    }
    rtml_run_flush_batch(r); /* before the reader (and its messages) go */
}

/* A partition never leaves while it re-learns below its committed offset: its next owner starts at that offset,
 * so the records in between would be learned by no model. They are read here, by a reader of their own (the
 * group's consumer cannot be polled inside a rebalance), and learned before the handover. What cannot be read
 * in time is counted and said. */
static void finish_relearning(rtml_runner *r, const rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *todo = unfinished_relearning(r, parts);
    if (!todo) return;
    rtml_run_flush_batch(r);
    rd_kafka_t *rk = relearn_reader(r);
    if (rk) {
        relearn_from(r, rk, todo);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    for (int i = 0; i < todo->cnt; i++) {
        int s = rtml_offsets_find(&r->offsets, todo->elems[i].topic, todo->elems[i].partition);
        const rtml_partition_track *t = &r->offsets.parts[s];
        int64_t n = t->emit_from - t->learn_next;
        if (n > 0) {
            r->handover_unlearned += (unsigned long long)n;
            rtml_log(RTML_LOG_WARN, "%s/%d leaves %lld records below its committed offset %lld unlearned (they could "
                     "not be read before the handover): no model learns them", t->topic, (int)t->partition,
                     (long long)n, (long long)t->emit_from);
        } else {
            rtml_log(RTML_LOG_INFO, "%s/%d: re-learned up to its committed offset %lld before the handover", t->topic,
                     (int)t->partition, (long long)t->emit_from);
        }
    }
    rd_kafka_topic_partition_list_destroy(todo);
}

/* Before partitions go: answer what was read, then commit it (offsets, or the transaction). When that worked
 * mid-run, the partitions are handed over: the next owner learns from the commit on, and this model forgets
 * its positions in them (offsets.h), so that getting one back later does not read again what the other
 * learned meanwhile. At shutdown they are kept: the checkpoint then says where this instance stopped (equal to
 * the committed offsets), and a restart, which usually gets the same partitions back, starts there. Then a
 * checkpoint: the model as it is when they go. */
static void settle_before_revoke(rtml_runner *r, rd_kafka_topic_partition_list_t *parts) {
    rtml_run_flush_batch(r);
    finish_relearning(r, parts);
    bool settled = true;
    if (r->exactly_once) {
        uint64_t aborts = r->txn_aborts;
        settled = rtml_run_txn_commit(r, 0) == 0 && r->txn_aborts == aborts;
    } else {
        if (rd_kafka_flush(r->producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rtml_log(RTML_LOG_WARN, "revoke: outputs still unacknowledged after 30 s; they will be redone");
            settled = false;
        }
        rtml_offsets_advance(&r->offsets);
        settled = settled && rtml_offsets_inflight(&r->offsets) == 0;
        rd_kafka_resp_err_t e = rtml_run_commit_now(r);
        if (e) {
            rtml_log(RTML_LOG_WARN, "commit at revoke: %s", rd_kafka_err2str(e));
            settled = false;
        }
    }
    release_revoked(r, parts, settled && !r->closing);
    r->positions_changed = true;
    rtml_run_checkpoint(r);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    rtml_runner *r = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    r->rebalances++;
    r->paused = false; /* the loop pauses the new assignment again if it must */
    if (r->labels_paused) rtml_run_pause_labels(r, false); /* likewise: a paused partition kept would never resume */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        choose_starts(r, parts);
        if (r->positions_changed) rtml_run_checkpoint(r);
        rtml_log(RTML_LOG_INFO, "assigned %d partition(s)", parts->cnt);
        if (r->assigned_at == 0 && parts->cnt > 0) {
            r->assigned_at = rtml_now();
            if (r->worker) (*r->worker->assigned)++; /* atomic */
        }
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e) rtml_log(RTML_LOG_ERROR, "incremental assign: %s", rd_kafka_error_string(e)), rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, parts);
        }
        return;
    }
    bool lost = rd_kafka_assignment_lost(rk);
    rtml_log(RTML_LOG_INFO, "revoking %d partition(s)%s", parts->cnt, lost ? " (lost)" : "");
    if (!lost) {
        settle_before_revoke(r, parts);
    } else {
        finish_relearning(r, parts);
        release_revoked(r, parts, false);
        /* Another member owns them now: the open transaction must not commit their outputs. Aborting it drops
         * the outputs of the partitions still held too, so those are rewound and answered again. */
        rtml_run_txn_abort(r);
    }
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rtml_log(RTML_LOG_ERROR, "incremental unassign: %s", rd_kafka_error_string(e)), rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* The consumer's defaults (the kafka section wins where it sets a key): cooperative rebalancing under the classic
 * group protocol (the consumer protocol, KIP-848, assigns on the broker and refuses the setting), static
 * membership, and under exactly_once read_committed input. */
static const char **consumer_defaults(rtml_runner *r) {
    const char **d = calloc(16, sizeof *d);
    if (!d) return NULL;
    size_t n = 0;
    const char *protocol = rtml_config_kafka(&r->cfg, "group.protocol");
    if (!protocol || strcmp(protocol, "consumer") != 0)
        d[n++] = "partition.assignment.strategy", d[n++] = "cooperative-sticky";
    d[n++] = "group.id", d[n++] = "rtml";
    if (r->group_instance_id[0]) d[n++] = "group.instance.id", d[n++] = r->group_instance_id;
    if (r->exactly_once) d[n++] = "isolation.level", d[n++] = "read_committed";
    return d;
}

static int open_consumer(rtml_runner *r, char *err, size_t errlen) {
    static const char *const required[] = {"enable.auto.commit", "false", "enable.auto.offset.store", "false", NULL};
    const char **defaults = consumer_defaults(r);
    if (!defaults) return rtml_fail(err, errlen, "out of memory");
    rd_kafka_conf_t *cc = client_conf(&r->cfg, true, defaults, required, err, errlen);
    free(defaults);
    if (!cc) return -1;
    rd_kafka_conf_set_rebalance_cb(cc, on_rebalance);
    rd_kafka_conf_set_error_cb(cc, on_error);
    if (r->cfg.monitor.listen) { /* the monitor's lag per partition comes from librdkafka's statistics */
        char e[256];
        if (!rtml_config_kafka(&r->cfg, "statistics.interval.ms") &&
            rd_kafka_conf_set(cc, "statistics.interval.ms", "1000", e, sizeof e) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(cc);
            return rtml_fail(err, errlen, "statistics.interval.ms: %s", e);
        }
        rd_kafka_conf_set_stats_cb(cc, rtml_run_on_stats);
    }
    rd_kafka_conf_set_opaque(cc, r);
    if (!(r->consumer = rtml_kafka_new(RD_KAFKA_CONSUMER, cc, err, errlen))) return -1;
    rd_kafka_poll_set_consumer(r->consumer);
    if (!(r->commit_q = rd_kafka_queue_new(r->consumer))) return rtml_fail(err, errlen, "out of memory");
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new((int)r->cfg.input.n_topics + 1);
    for (size_t i = 0; i < r->cfg.input.n_topics; i++)
        rd_kafka_topic_partition_list_add(sub, r->cfg.input.topics[i], RD_KAFKA_PARTITION_UA);
    /* label.topic: the same consumer, so that its positions travel with the input's in checkpoints and
     * transactions (pipeline_label.c) */
    if (r->cfg.label.topic) rd_kafka_topic_partition_list_add(sub, r->cfg.label.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(r->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    return e ? rtml_fail(err, errlen, "subscribe: %s", rd_kafka_err2str(e)) : 0;
}

/* ---- a consumer fenced by its own rejoin ---------------------------------------------------------------- */

void rtml_run_consumer_fatal(rtml_runner *r) {
    char why[256];
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(r->consumer, why, sizeof why);
    if (e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID) { /* said both as an error event and as a message */
        r->consumer_fenced = true; /* the loop replaces the consumer (rtml_run_rejoin) */
        return;
    }
    if (!r->fatal[0]) snprintf(r->fatal, sizeof r->fatal, "the consumer cannot go on: %s", why);
    rtml_run_stop = SIGTERM;
}

/* librdkafka treats a static member whose session expired (the coordinator unreachable for longer than
 * session.timeout.ms, e.g. a long broker restart) as gone: it rejoins under the same group.instance.id, and the
 * broker's answer to the old membership, "fenced by another consumer with the same group.instance.id", is fatal
 * for the consumer (librdkafka #3437); the documented remedy is a new consumer. The partitions were lost with
 * the session (the rebalance callback released them, aborting the open transaction), so the new consumer
 * resumes from the committed offsets as after a restart. Another process really using the same
 * group.instance.id fences it again at once: a second fencing within a minute stops the run instead. */
int rtml_run_rejoin(rtml_runner *r) {
    double now = rtml_now();
    r->consumer_fenced = false;
    if (r->rejoined_at > 0 && now - r->rejoined_at < 60) {
        snprintf(r->fatal, sizeof r->fatal, "the consumer was fenced again %.0f s after it rejoined: another "
                 "consumer uses group.instance.id %s", now - r->rejoined_at, r->group_instance_id);
        rtml_run_stop = SIGTERM;
        return -1;
    }
    rtml_log(RTML_LOG_WARN, "the consumer was fenced: its group.instance.id joined the group again (librdkafka "
             "does so itself when the group session expired, e.g. the coordinator was unreachable for longer than "
             "session.timeout.ms); a new consumer joins the group");
    rtml_run_flush_batch(r);
    rd_kafka_topic_partition_list_t *held = NULL;
    if (!rd_kafka_assignment(r->consumer, &held) && held) { /* not released yet: lost with the session */
        finish_relearning(r, held);
        release_revoked(r, held, false);
        rd_kafka_topic_partition_list_destroy(held);
    }
    if (rtml_run_txn_abort(r) != 0) return -1; /* its outputs answer partitions this member no longer holds */
    r->closing = true; /* a revoke during close keeps the positions, as at shutdown */
    rd_kafka_consumer_close(r->consumer);
    r->closing = false;
    rtml_run_close_consumer(r);
    r->paused = r->labels_paused = false;
    r->rejoined_at = now;
    r->rejoins++;
    char err[RTML_ERRLEN];
    if (open_consumer(r, err, sizeof err) != 0) {
        snprintf(r->fatal, sizeof r->fatal, "replacing the fenced consumer: %.400s", err);
        rtml_run_stop = SIGTERM;
        return -1;
    }
    return 0;
}

int rtml_run_open_clients(rtml_runner *r, char *err, size_t errlen) {
    char name[sizeof r->commit_owner - 5];
    instance_name(r, name, sizeof name);
    snprintf(r->commit_owner, sizeof r->commit_owner, "rtml:%s", name);
    if (r->exactly_once) transactional_id(r);
    group_instance_id(r);
    if (r->group_instance_id[0]) rtml_log(RTML_LOG_INFO, "static group member: group.instance.id %s", r->group_instance_id);
    else rtml_log(RTML_LOG_INFO, "dynamic group member (no group.instance.id)");
    if (open_producer(r, err, errlen) != 0) return -1;
    return open_consumer(r, err, errlen);
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
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(r->consumer, l);
    if (e) rtml_log(RTML_LOG_WARN, "storing offsets: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
}

void rtml_run_set_owner(const rtml_runner *r, rd_kafka_topic_partition_t *p, int64_t offset) {
    p->offset = offset;
    p->metadata_size = strlen(r->commit_owner);
    p->metadata = strdup(r->commit_owner); /* freed with the list (librdkafka frees it with free()) */
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
    if (!r->commit_in_flight) return;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(r->commit_q, timeout_ms);
    if (!ev) return;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
        r->commit_in_flight = false;
        rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
        if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
            rtml_log_every(RTML_LOG_WARN, ++r->client_errors, 3, 10, "commit: %s (the next one retries)",
                           rd_kafka_event_error_string(ev));
    }
    rd_kafka_event_destroy(ev);
}

void rtml_run_commit_offsets(rtml_runner *r, double now) {
    if (r->exactly_once) return;
    commit_answered(r, 0);
    if (r->commit_in_flight || now - r->last_commit < commit_interval(r)) return;
    r->last_commit = now;
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(r->consumer, NULL, r->commit_q, NULL, NULL);
    if (!e) r->commit_in_flight = true;
    else if (e != RD_KAFKA_RESP_ERR__NO_OFFSET) rtml_log(RTML_LOG_WARN, "commit: %s", rd_kafka_err2str(e));
}

rd_kafka_resp_err_t rtml_run_commit_now(rtml_runner *r) {
    double deadline = rtml_now() + 30;
    while (r->commit_in_flight && rtml_now() < deadline) commit_answered(r, 100);
    if (r->commit_in_flight) return RD_KAFKA_RESP_ERR__TIMED_OUT;
    rtml_run_store_offsets(r);
    rd_kafka_resp_err_t e = rd_kafka_commit(r->consumer, NULL, 0);
    r->last_commit = rtml_now();
    return e == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : e;
}

void rtml_run_close_consumer(rtml_runner *r) {
    if (r->commit_q) rd_kafka_queue_destroy(r->commit_q);
    r->commit_q = NULL;
    r->commit_in_flight = false;
    if (r->consumer) rd_kafka_destroy(r->consumer);
    r->consumer = NULL;
}

/* Pause or resume the assigned partitions, or only those of topic when it is set. librdkafka drops a paused
 * partition's prefetched messages and fetches again from the application's position on resume, so a pause
 * really frees memory. -1 when the assignment cannot be read (nothing done), 1 when librdkafka refused (said),
 * 0 when done. */
static int pause_assigned(rtml_runner *r, const char *topic, bool pause, const char *what) {
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(r->consumer, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l) return -1;
    if (topic) {
        rd_kafka_topic_partition_list_t *only = rd_kafka_topic_partition_list_new(l->cnt);
        for (int i = 0; i < l->cnt; i++)
            if (!strcmp(l->elems[i].topic, topic)) rd_kafka_topic_partition_list_add(only, topic, l->elems[i].partition);
        rd_kafka_topic_partition_list_destroy(l);
        l = only;
    }
    rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(r->consumer, l) : rd_kafka_resume_partitions(r->consumer, l);
    if (e) rtml_log(RTML_LOG_WARN, "%s %s partitions: %s", pause ? "pausing" : "resuming", what, rd_kafka_err2str(e));
    rtml_log(RTML_LOG_DEBUG, "%s %d %s partition(s)", pause ? "paused" : "resumed", l->cnt, what);
    rd_kafka_topic_partition_list_destroy(l);
    return e ? 1 : 0;
}

/* label.topic: pause the label partitions while many labels wait for records not read yet (a backlog of labels
 * read faster than the records'), so that they wait in Kafka rather than fill the store past max_early; resume
 * when the records have caught up (cmd_run.c's labels_flow). */
void rtml_run_pause_labels(rtml_runner *r, bool pause) {
    if (r->labels_paused == pause || pause_assigned(r, r->cfg.label.topic, pause, "label") < 0) return;
    r->labels_paused = pause;
    if (pause) r->label_pauses++, r->labels_paused_at = rtml_now();
}

void rtml_run_pause(rtml_runner *r, bool pause) {
    if (r->paused == pause) return;
    if (!pause) r->labels_paused = false; /* resuming every partition resumes the label ones too */
    int rc = pause_assigned(r, NULL, pause, "input");
    if (rc < 0) return;
    if (rc == 0 && pause) r->pauses++;
    r->paused = pause;
}
