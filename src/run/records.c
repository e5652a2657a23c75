/* records.c — records in: each consumed message to the pipeline, labels to their joins, and the flow control of
 * both (records.h).
 *
 * Backpressure: when too many outputs are unacknowledged the loop first waits for the producer, up to CATCH_UP_S;
 * only then are the input partitions paused (librdkafka then drops their prefetched messages) until the producer
 * has caught up to half of that. The engine falling behind simply means the loop polls less, and librdkafka's
 * prefetch queue is bounded (queued.max.messages.kbytes). */
#include "run/records.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rtml.h"
#include "pipeline/join.h"
#include "pipeline/labels.h"
#include "run/clients.h"
#include "run/drift.h"
#include "run/output.h"
#include "run/repartition.h"
#include "run/serve.h"

#define PAUSE_AT 50000   /* unacknowledged outputs at which input partitions pause... */
#define RESUME_AT 25000  /* ...and at which they resume */
/* A producer behind by a moment (a fast stretch of the input: 50,000 outputs are 0.1 s at 500,000 records/s) is
 * waited for rather than met with a pause: a pause drops the prefetched messages, which are then fetched and
 * parsed again (measured: a pause in a 400,000-record run cost more than the rest of the client's fetching). A
 * producer that cannot catch up in CATCH_UP_S (the broker unreachable) gets the pause, which frees the memory. */
#define CATCH_UP_S 1.0

/* ---- flow control ---------------------------------------------------------------------------------------- */

/* ---- records in ---------------------------------------------------------------------------------------- */

/* Labels read far ahead of their records wait in Kafka, not in the store: the label partitions pause when half
 * of max_early labels wait, and resume at a quarter. Labels that wait for records that never come leave only as
 * the feature clock moves (label.wait); if the records stop too, the labels resume after 10 s so that the label
 * stream never stalls (the store then drops its oldest waiting labels, counted as unknown). */
void rtml_run_labels_flow(rtml_runner *r) {
    rtml_join_stats s;
    rtml_join_stats_get(r->pipe.join, &s);
    size_t high = r->cfg.label.max_early / 2, low = r->cfg.label.max_early / 4;
    if (!r->labels.paused && s.early > high && high > 0) rtml_run_pause_labels(r, true);
    else if (r->labels.paused && (s.early <= low || rtml_now() - r->labels.paused_at > 10))
        rtml_run_pause_labels(r, false);
}

/* label.topic: pause the label partitions while many labels wait for records not read yet (a backlog of labels
 * read faster than the records'), so that they wait in Kafka rather than fill the store past max_early; resume
 * when the records have caught up (labels_flow). */
void rtml_run_pause_labels(rtml_runner *r, bool pause) {
    if (r->labels.paused == pause || rtml_run_pause_partitions(r, r->cfg.label.topic, pause, "label") < 0) return;
    r->labels.paused = pause;
    if (pause) r->labels.pauses++, r->labels.paused_at = rtml_now();
}

/* Pause every assigned partition, or resume them (backpressure). */
static void pause_inputs(rtml_runner *r, bool pause) {
    if (r->input.paused == pause) return;
    if (!pause) r->labels.paused = false; /* resuming every partition resumes the label ones too */
    int rc = rtml_run_pause_partitions(r, NULL, pause, "input");
    if (rc < 0) return;
    if (rc == 0 && pause) r->input.pauses++;
    r->input.paused = pause;
}


void rtml_run_flow_rebalanced(rtml_runner *r) {
    r->input.paused = false; /* the loop pauses the new assignment again if it must */
    if (r->labels.paused) rtml_run_pause_labels(r, false); /* likewise: a paused partition kept would never resume */
}

void rtml_run_flow_reset(rtml_runner *r) { r->input.paused = r->labels.paused = false; }

/* Outputs not yet acknowledged (at_least_once: the offsets' in-flight records; both: the producer's queue). */
static size_t unacknowledged(const rtml_runner *r) {
    size_t q = (size_t)rd_kafka_outq_len(r->clients.producer);
    size_t f = r->exactly_once ? 0 : rtml_offsets_inflight(&r->offsets);
    return q > f ? q : f;
}

/* Serve the producer's delivery reports until at most RESUME_AT outputs are unacknowledged, for up to CATCH_UP_S;
 * true when it got there. */
static bool caught_up(rtml_runner *r) {
    double until = rtml_now() + CATCH_UP_S;
    do {
        rd_kafka_poll(r->clients.producer, 10);
        if (!r->exactly_once) rtml_offsets_advance(&r->offsets); /* as rtml_run_store_offsets: the acknowledged prefix */
    } while (unacknowledged(r) > RESUME_AT && !rtml_run_stop && rtml_now() < until);
    return unacknowledged(r) <= RESUME_AT;
}

/* Backpressure: pause the inputs while too much is unacknowledged; true while paused. */
bool rtml_run_throttle(rtml_runner *r) {
    size_t n = unacknowledged(r);
    if (!r->input.paused && n >= PAUSE_AT) {
        rtml_run_flush_batch(r); /* the pending batch's records count as in flight too */
        if (!caught_up(r)) pause_inputs(r, true);
    } else if (r->input.paused && n <= RESUME_AT) {
        pause_inputs(r, false);
    }
    return r->input.paused;
}

/* ---- records in ---------------------------------------------------------------------------------------- */

/* A label record (label.topic): joined with its scored record and learned, or kept waiting; it has no output,
 * so it is done at once (a malformed one goes to the dead-letter topic). Takes ownership of h->m. */
static void handle_label(rtml_runner *r, rtml_held *h, const rtml_origin *origin) {
    rd_kafka_message_t *m = h->m;
    char why[RTML_ERRLEN];
    if (r->input.n_held) rtml_run_flush_batch(r); /* labels apply after the records read before them are scored */
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
    rtml_run_labels_flow(r);
}

/* An input record under a repartition goes to the internal topic by its aggregates' key (repartition.h); one without a
 * key is a dead letter; one already re-keyed before a restart (below emit_from) needs nothing. Takes h->m. */
static void rekey(rtml_runner *r, rtml_held *h) {
    const char *key;
    size_t len;
    char why[RTML_ERRLEN];
    rtml_reject rej = h->emit ? rtml_run_repartition_key(r, h->m, &key, &len, why, sizeof why) : RTML_REJECT_NONE;
    if (rej != RTML_REJECT_NONE) {
        rtml_log_every(RTML_LOG_WARN, ++r->input.rekey_rejected, 10, 10, "rejected %s/%d@%lld (%s): %s",
                       rd_kafka_topic_name(h->m->rkt), (int)h->m->partition, (long long)h->m->offset,
                       rtml_reject_name(rej), why);
        rtml_run_reject(r, h, rej, why);
    } else if (!h->emit) {
        rtml_run_reject(r, h, RTML_REJECT_NONE, NULL);
    } else {
        rtml_run_send_rekeyed(r, h, key, len);
    }
    rd_kafka_message_destroy(h->m);
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
    uint64_t ticket = r->exactly_once ? rtml_metrics_ticket(&r->mon.metrics, slot) : rtml_offsets_begin(&r->offsets, slot, m->offset);
    rtml_held h = {m, ticket, slot, emit, rtml_now()};
    rtml_part_metrics *pm = rtml_metrics_part(&r->mon.metrics, slot);
    if (pm) pm->consumed++;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts_ms = rd_kafka_message_timestamp(m, &tstype);
    rtml_metrics_sent(&r->mon.metrics, ticket, ts_ms >= 0 ? (double)ts_ms / 1000.0 : rtml_wall_time());
    rtml_origin origin = {topic, m->partition, m->offset, learned, ts_ms, m->key, m->key_len};
    char why[RTML_ERRLEN];
    if (r->cfg.label.topic && !strcmp(topic, r->cfg.label.topic)) {
        handle_label(r, &h, &origin);
        return;
    }
    if (rtml_run_repartitions(r, topic)) {
        rekey(r, &h);
        return;
    }
    if (rtml_run_repartitioned(r, topic)) rtml_run_repartition_origin(r, m, &origin);
    if (rtml_run_serve_is_log(r, topic)) { /* answered requests, read back to wait for their labels */
        rtml_run_serve_take_log(r, &h, &origin);
        return;
    }
    int queued;
    rtml_reject rej = rtml_pipeline_submit(&r->pipe, m->payload ? m->payload : "", m->len, &origin, r->input.n_held,
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
    r->input.held[r->input.n_held++] = h;
    if (r->input.n_held == r->pipe.batch_size) rtml_run_flush_batch(r);
}

/* A message from the consumer: an error event is handled or logged, a record of a partition no longer assigned
 * here is dropped, anything else goes to rtml_run_handle (waiting first for room in its partition's ring of
 * in-flight records, at_least_once). Takes m. */
void rtml_run_take(rtml_runner *r, rd_kafka_message_t *m) {
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
        r->input.stale_dropped++;
        rtml_log_every(RTML_LOG_INFO, r->input.stale_dropped, 3, 60, "dropped %s/%d@%lld: the partition is not assigned "
                       "here", rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
        rd_kafka_message_destroy(m);
        return;
    }
    if (!r->exactly_once && rtml_offsets_full(&r->offsets, slot)) {
        rtml_run_flush_batch(r);
        while (rtml_offsets_full(&r->offsets, slot) && !rtml_run_stop) {
            rd_kafka_poll(r->clients.producer, 10);
            rtml_offsets_advance(&r->offsets);
        }
    }
    r->input.last_at = rtml_now();
    if (r->input.first_at == 0) r->input.first_at = r->input.last_at;
    rtml_run_handle(r, m, slot);
}
