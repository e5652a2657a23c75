/* group.c — `rtml run` as a member of the consumer group: rebalances, where each partition starts, handovers,
 * and a fenced member's rejoin (group.h).
 *
 * Where a partition starts (at assignment): the group's committed offset C says which inputs already have
 * their outputs; the checkpoint's learn_next L says which records the model holds (checkpoint.h). It starts
 * at min(C, L): records below L are scored but not learned again, records below C get no output again. With
 * no committed offset it starts where auto.offset.reset says, still learning nothing below L. */
#include "run/group.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rtml.h"
#include "kafka/kafka.h"
#include "run/checkpoint.h"
#include "run/clients.h"
#include "run/models.h"
#include "run/output.h"
#include "run/records.h"
#include "run/status.h"

/* ---- rebalances -------------------------------------------------------------------------------------- */

/* Where auto.offset.reset sends a partition with no committed offset, as a number; -1 when it says "error"
 * or the broker cannot tell. */
static int64_t reset_offset(rtml_runner *r, const char *topic, int32_t partition) {
    const char *reset = rtml_config_kafka(&r->cfg, "auto.offset.reset");
    if (!reset) reset = "latest"; /* librdkafka's default */
    int earliest = !strcmp(reset, "earliest") || !strcmp(reset, "smallest") || !strcmp(reset, "beginning");
    if (!earliest && strcmp(reset, "latest") && strcmp(reset, "largest") && strcmp(reset, "end")) return -1;
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(r->clients.consumer, topic, partition, &lo, &hi, 30000)) return -1;
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
    if (!r->exactly_once) return rd_kafka_committed(r->clients.consumer, c, 30000);
    double started = rtml_now(), said = started;
    for (;;) {
        rd_kafka_resp_err_t e = committed_error(rd_kafka_committed(r->clients.consumer, c, 1000), c);
        if (!e || rtml_run_stop) return e;
        double now = rtml_now();
        if (now - said >= 10) {
            rtml_log(RTML_LOG_WARN, "waiting %.0f s for the committed offsets of the assigned partitions (%s; a "
                     "failed instance's open transaction holds them until the broker aborts it: "
                     "transaction.timeout.ms)", now - started, rd_kafka_err2str(e));
            said = now;
        } else if (e != RD_KAFKA_RESP_ERR__TIMED_OUT) {
            rtml_log_every(RTML_LOG_INFO, ++r->clients.errors, 3, 10, "reading committed offsets: %s; retrying",
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
    size_t n = c->metadata_size, mine = strlen(r->clients.commit_owner);
    if (t->learn_next < 0 || !m || n < 5 || memcmp(m, "rtml:", 5) != 0) return;
    if (n == mine && memcmp(m, r->clients.commit_owner, n) == 0) return;
    rtml_log(RTML_LOG_WARN, "%s/%d: its last commit (%lld) is another instance's (%.*s): learning it from there, not "
             "from this checkpoint's %lld", t->topic, (int)t->partition, (long long)c->offset, (int)(n > 200 ? 200 : n),
             m, (long long)t->learn_next);
    t->learn_next = -1;
}

/* exactly_once ends the wait for committed offsets with an error only when stopping. Where these partitions were
 * answered up to is then not known, so no record of theirs may be answered: they get no slot here (their records
 * are dropped as not assigned; the next run starts from their committed offsets), and a slot a checkpoint made has
 * nothing to commit or re-learn when they are revoked. */
static void leave_unread(rtml_runner *r, const rd_kafka_topic_partition_list_t *parts, rd_kafka_resp_err_t e) {
    rtml_log(RTML_LOG_INFO, "stopping before the committed offsets were read (%s): %d partition(s) left for the next "
             "run", rd_kafka_err2str(e), parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        int s = rtml_offsets_find(&r->offsets, parts->elems[i].topic, parts->elems[i].partition);
        if (s < 0) continue;
        rtml_partition_track *t = &r->offsets.parts[s];
        t->emit_from = t->next_commit = t->done_next = -1;
    }
}

/* Set each newly assigned partition's start offset, emit_from and slot (see the top of this file). A partition
 * the model knows nothing of gets its learn_next now, at its start, and a checkpoint records it before any
 * record is read: otherwise a crash after its outputs were committed but before the next checkpoint would
 * restart it at the committed offset, and the records before it would never be learned. */
static void choose_starts(rtml_runner *r, rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = read_committed_offsets(r, c);
    if (e && r->exactly_once) {
        leave_unread(r, parts, e);
        rd_kafka_topic_partition_list_destroy(c);
        return;
    }
    if (e) rtml_log(RTML_LOG_WARN, "reading committed offsets: %s (starting from the checkpoint's)", rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        int s = rtml_offsets_slot(&r->offsets, p->topic, p->partition);
        if (s < 0) { /* without its slot the partition's messages would be dropped as not assigned */
            rtml_run_fail(r, RTML_FAULT_NO_MEMORY, "out of memory tracking %s/%d", p->topic, (int)p->partition);
            continue;
        }
        rtml_partition_track *t = &r->offsets.parts[s];
        int64_t committed = !e && !c->elems[i].err && c->elems[i].offset >= 0 ? c->elems[i].offset : -1;
        if (committed >= 0) forget_if_answered_elsewhere(r, t, &c->elems[i]);
        int64_t lo, hi;
        if (t->learn_next >= 0 &&
            !rd_kafka_query_watermark_offsets(r->clients.consumer, p->topic, p->partition, &lo, &hi, 30000) && t->learn_next > hi) {
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
            if (start >= 0) p->offset = t->learn_next = start, r->ckpt.positions_changed = true;
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
            r->group.handover_uncommitted += (unsigned long long)n;
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
    rd_kafka_conf_t *c = rtml_run_client_conf(&view, true, NULL, forced, err, sizeof err);
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
            r->group.handover_unlearned += (unsigned long long)n;
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
        uint64_t aborts = r->txn.aborts;
        settled = rtml_run_txn_commit(r, 0) == 0 && r->txn.aborts == aborts;
    } else {
        if (rd_kafka_flush(r->clients.producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
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
    release_revoked(r, parts, settled && !r->group.closing);
    r->ckpt.positions_changed = true;
    rtml_run_checkpoint(r);
}

void rtml_run_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                           void *opaque) {
    rtml_runner *r = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    r->group.rebalances++;
    rtml_run_flow_rebalanced(r);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        choose_starts(r, parts);
        if (r->ckpt.positions_changed) rtml_run_checkpoint(r);
        rtml_log(RTML_LOG_INFO, "assigned %d partition(s)", parts->cnt);
        r->group.held += parts->cnt;
        r->group.changed_at = rtml_now();
        r->group.rejoining = false;
        if (r->group.assigned_at == 0 && parts->cnt > 0) {
            r->group.assigned_at = rtml_now();
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
    r->group.held = r->group.held > parts->cnt ? r->group.held - parts->cnt : 0;
    r->group.changed_at = rtml_now();
    r->group.rejoining = r->group.rejoining || lost;
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
/* librdkafka treats a static member whose session expired (the coordinator unreachable for longer than
 * session.timeout.ms, e.g. a long broker restart) as gone: it rejoins under the same group.instance.id, and the
 * broker's answer to the old membership, "fenced by another consumer with the same group.instance.id", is fatal
 * for the consumer (librdkafka #3437); the documented remedy is a new consumer. The partitions were lost with
 * the session (the rebalance callback released them, aborting the open transaction), so the new consumer
 * resumes from the committed offsets as after a restart. Another process really using the same
 * group.instance.id fences it again at once: a second fencing within a minute stops the run instead. */
int rtml_run_rejoin(rtml_runner *r) {
    double now = rtml_now();
    r->clients.fenced = false;
    if (r->group.rejoined_at > 0 && now - r->group.rejoined_at < 60) {
        rtml_run_fail(r, RTML_FAULT_CONSUMER, "the consumer was fenced again %.0f s after it rejoined: another "
                 "consumer uses group.instance.id %s", now - r->group.rejoined_at, r->clients.group_instance_id);
        return -1;
    }
    rtml_log(RTML_LOG_WARN, "the consumer was fenced: its group.instance.id joined the group again (librdkafka "
             "does so itself when the group session expired, e.g. the coordinator was unreachable for longer than "
             "session.timeout.ms); a new consumer joins the group");
    rtml_run_flush_batch(r);
    rd_kafka_topic_partition_list_t *held = NULL;
    if (!rd_kafka_assignment(r->clients.consumer, &held) && held) { /* not released yet: lost with the session */
        finish_relearning(r, held);
        release_revoked(r, held, false);
        rd_kafka_topic_partition_list_destroy(held);
    }
    if (rtml_run_txn_abort(r) != 0) return -1; /* its outputs answer partitions this member no longer holds */
    r->group.closing = true; /* a revoke during close keeps the positions, as at shutdown */
    rd_kafka_consumer_close(r->clients.consumer);
    r->group.closing = false;
    rtml_run_close_consumer(r);
    rtml_run_flow_reset(r); /* a new consumer has nothing paused */
    r->group.rejoined_at = r->group.changed_at = now;
    r->group.held = 0; /* the new consumer joins with none */
    r->group.rejoining = true;
    r->group.rejoins++;
    char err[RTML_ERRLEN];
    if (rtml_run_open_consumer(r, err, sizeof err) != 0) {
        rtml_run_fail(r, RTML_FAULT_CONSUMER, "replacing the fenced consumer: %.400s", err);
        return -1;
    }
    return 0;
}

