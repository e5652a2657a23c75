/* output.c — what `rtml run` produces: predictions, dead letters, and exactly_once transactions (output.h).
 *
 * at_least_once: each output carries its input's ticket as the produce opaque; the delivery report marks the
 * ticket done, and only a done prefix of a partition is ever committed (offsets.h).
 *
 * exactly_once: outputs are produced inside a Kafka transaction, and the input offsets they answer are sent
 * to the same transaction (with the consumer's group metadata, so a zombie of an older generation is fenced,
 * KIP-447). A read_committed consumer of the output sees each input's output exactly once. The transaction is
 * committed every 100 ms (loop.c; and at revoke and shutdown). If a commit fails abortably, the transaction is
 * aborted and each partition is rewound to its last committed offset: the records are read and scored again,
 * but not learned again (their learn_next is past them). A fenced producer stops the run, unless it was the
 * coordinator's time-out of a transaction kept open too long (an outage): a new producer then takes over, and the
 * transaction's records are answered again as after an abort (clients.h's rtml_run_txn_timed_out).
 *
 * Dead letters: a record that cannot be decoded, featurised or scored goes to dead_letter.topic byte for byte,
 * with its key, and headers saying why and where it came from:
 *   rtml.reason (e.g. malformed), rtml.error (the detail), rtml.source.topic, rtml.source.partition,
 *   rtml.source.offset. */
#include "run/output.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rtml.h"
#include "run/clients.h"
#include "run/repartition.h"

/* at_least_once: the output (or the absence of one) of the record with this ticket is final. */
static void mark_done(rtml_runner *r, uint64_t ticket) {
    if (!r->exactly_once) rtml_offsets_done(&r->offsets, ticket);
}

/* exactly_once: the record is answered in the open transaction (or needs no answer: a label, a record whose
 * output an earlier run committed). done_next moves over both; txn_offsets sends it only past emit_from. */
static void note_done(rtml_runner *r, const rtml_held *h) {
    if (!r->exactly_once) return;
    rtml_partition_track *t = &r->offsets.parts[h->slot];
    if (h->m->offset + 1 > t->done_next) t->done_next = h->m->offset + 1;
}

static void txn_fail(rtml_runner *r, const char *what, rd_kafka_error_t *e) {
    rtml_run_fail(r, rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED ? RTML_FAULT_FENCED : RTML_FAULT_TXN, "%s: %s",
                  what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
}

static bool ensure_txn(rtml_runner *r) {
    if (!r->exactly_once || r->txn.open) return true;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(r->clients.producer);
    if (e) {
        txn_fail(r, "begin transaction", e);
        return false;
    }
    r->txn.open = true;
    r->txn.started = rtml_now();
    return true;
}

/* rd_kafka_produceva's error as a code. */
static rd_kafka_resp_err_t produce_one(rd_kafka_t *producer, const rd_kafka_vu_t *vu, size_t n) {
    rd_kafka_error_t *error = rd_kafka_produceva(producer, vu, n);
    if (!error) return RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_resp_err_t e = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return e;
}

/* timestamp_ms 0: now (librdkafka's rule). The config's output topics go by their handles (clients.h). */
static int produce_at(rtml_runner *r, const char *topic, const void *key, size_t key_len, const void *value,
                      size_t len, rd_kafka_headers_t *headers, int64_t timestamp_ms, uint64_t ticket) {
    if (!ensure_txn(r)) {
        if (headers) rd_kafka_headers_destroy(headers);
        return -1;
    }
    rd_kafka_topic_t *rkt = rtml_run_output_handle(r, topic);
    rd_kafka_vu_t vu[7]; /* each set by its member alone: an initializer would clear 7 x 72 bytes a record */
    if (rkt) vu[0].vtype = RD_KAFKA_VTYPE_RKT, vu[0].u.rkt = rkt;
    else vu[0].vtype = RD_KAFKA_VTYPE_TOPIC, vu[0].u.cstr = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_KEY, vu[1].u.mem.ptr = (void *)key, vu[1].u.mem.size = key_len;
    vu[2].vtype = RD_KAFKA_VTYPE_VALUE, vu[2].u.mem.ptr = (void *)value, vu[2].u.mem.size = len;
    vu[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS, vu[3].u.i = RD_KAFKA_MSG_F_COPY;
    vu[4].vtype = RD_KAFKA_VTYPE_HEADERS, vu[4].u.headers = headers;
    vu[5].vtype = RD_KAFKA_VTYPE_OPAQUE, vu[5].u.ptr = (void *)(uintptr_t)ticket;
    vu[6].vtype = RD_KAFKA_VTYPE_TIMESTAMP, vu[6].u.i64 = timestamp_ms;
    rd_kafka_resp_err_t e;
    double full_since = 0;
    while ((e = produce_one(r->clients.producer, vu, sizeof vu / sizeof vu[0])) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        /* The broker takes nothing (backpressure pauses the input long before the queue fills): wait, but not
         * forever once a stop was asked for. */
        double now = rtml_now();
        if (full_since == 0) full_since = now;
        if (rtml_run_stop && now - full_since > 30) break;
        rd_kafka_poll(r->clients.producer, 10);
    }
    if (!e) return 0; /* the headers now belong to the message */
    if (headers) rd_kafka_headers_destroy(headers);
    /* exactly_once: the transaction failed already (abortable: e.g. outputs timed out while the process was
     * stalled; or its producer fenced by the coordinator's time-out). Unanswered, as the rest of the transaction:
     * its commit fails too, and the abort or a new producer answers it after the rewind. */
    if (e == RD_KAFKA_RESP_ERR__STATE && r->exactly_once && r->txn.open) return -1;
    if (e == RD_KAFKA_RESP_ERR__FATAL && rtml_run_txn_timed_out(r)) return -1;
    rtml_run_fail(r, RTML_FAULT_PRODUCE, "cannot produce to %s: %s", topic, rd_kafka_err2str(e));
    return -1;
}

static int produce(rtml_runner *r, const char *topic, const void *key, size_t key_len, const void *value, size_t len,
                   rd_kafka_headers_t *headers, uint64_t ticket) {
    return produce_at(r, topic, key, key_len, value, len, headers, 0, ticket);
}

/* rtml.source.topic, .partition and .offset: where a record came from (dead letters, re-keyed records). */
static void add_source(rd_kafka_headers_t *h, const rd_kafka_message_t *m) {
    char num[32];
    const char *topic = rd_kafka_topic_name(m->rkt);
    rd_kafka_header_add(h, "rtml.source.topic", -1, topic, (ssize_t)strlen(topic));
    int n = snprintf(num, sizeof num, "%" PRId32, m->partition);
    rd_kafka_header_add(h, "rtml.source.partition", -1, num, n);
    n = snprintf(num, sizeof num, "%" PRId64, m->offset);
    rd_kafka_header_add(h, "rtml.source.offset", -1, num, n);
}

static void send_dead_letter(rtml_runner *r, const rd_kafka_message_t *m, uint64_t ticket, rtml_reject why,
                             const char *detail) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    const char *reason = rtml_reject_name(why);
    rd_kafka_header_add(h, "rtml.reason", -1, reason, (ssize_t)strlen(reason));
    if (detail && *detail) rd_kafka_header_add(h, "rtml.error", -1, detail, (ssize_t)strlen(detail));
    add_source(h, m);
    size_t klen;
    const void *key = rtml_run_output_key(r, m, &klen);
    if (produce(r, r->cfg.dead_letter.topic, key, klen, m->payload, m->len, h, ticket) == 0) {
        r->out.dead_letters++;
        r->out.dead_letters_by[why]++;
    }
}

void rtml_run_reject(rtml_runner *r, const rtml_held *h, rtml_reject why, const char *detail) {
    if (why != RTML_REJECT_NONE && (size_t)h->slot < r->mon.metrics.n) r->mon.metrics.parts[h->slot].failed++;
    if (h->emit && r->cfg.dead_letter.topic) send_dead_letter(r, h->m, h->ticket, why, detail);
    else mark_done(r, h->ticket); /* no dead-letter topic, or already answered before a restart: nothing to deliver */
    note_done(r, h);
}

/* The top bit of a ticket marks the features record's (a ticket's slot never reaches it; an event record's
 * UINT64_MAX names no record at all). */
#define FEATURES_RECORD (UINT64_C(1) << 63)

/* output.features_topic: the record's features as served, keyed like it, a second output its offset waits for. */
static void send_features(rtml_runner *r, const rtml_batch_item *item, const rtml_held *h) {
    rtml_buf f;
    if (!rtml_pipeline_features_of(&r->pipe, item, &f)) return;
    /* Not produced: the run stops (a fault) and the input stays uncommitted, its offset waiting for this one. */
    if (!r->exactly_once) rtml_offsets_expect(&r->offsets, h->ticket);
    size_t klen;
    const void *key = rtml_run_output_key(r, h->m, &klen);
    produce(r, r->cfg.output.features_topic, key, klen, f.data, f.len, NULL, h->ticket | FEATURES_RECORD);
}

void rtml_run_emit(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *pred) {
    rtml_runner *r = ctx;
    rtml_held *h = &r->input.held[item->tag];
    size_t klen;
    const void *key = rtml_run_output_key(r, h->m, &klen);
    if (why != RTML_REJECT_NONE) {
        rtml_log_every(RTML_LOG_WARN, r->pipe.rejected_by[why], 10, 10, "rejected %s/%d@%lld (%s)", item->topic,
                       (int)item->partition, (long long)item->offset, rtml_reject_name(why));
        rtml_run_reject(r, h, why, "the model failed on the batch of this record");
    } else if (!h->emit) {
        mark_done(r, h->ticket);
        note_done(r, h);
    } else if (produce(r, r->cfg.output.topic, key, klen, pred->data, pred->len, NULL, h->ticket) == 0) {
        send_features(r, item, h);
        note_done(r, h);
    }
    if (why == RTML_REJECT_NONE && (size_t)h->slot < r->mon.metrics.n) {
        rtml_hist_add(&r->mon.metrics.processing, rtml_now() - h->at);
        if (item->labelled) r->mon.metrics.parts[h->slot].learned++;
    }
    rd_kafka_message_destroy(h->m);
    h->m = NULL;
}

void rtml_run_flush_batch(rtml_runner *r) {
    if (r->pipe.batch.n) rtml_hist_add(&r->mon.metrics.batch, (double)r->pipe.batch.n);
    rtml_pipeline_flush(&r->pipe, rtml_run_emit, r);
    r->input.n_held = 0;
    if (r->after_batch) r->after_batch(r);
}

void rtml_run_send_rekeyed(rtml_runner *r, const rtml_held *h, const char *key, size_t klen) {
    const rd_kafka_message_t *m = h->m;
    rd_kafka_headers_t *hs = rd_kafka_headers_new(4);
    add_source(hs, m);
    if (m->key) rd_kafka_header_add(hs, "rtml.key", -1, m->key, (ssize_t)m->key_len);
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(m, &type);
    if (produce_at(r, r->repart.topic, key, klen, m->payload, m->len, hs, ts > 0 ? ts : 0, h->ticket) == 0) {
        r->out.rekeyed++;
        note_done(r, h);
    }
}

/* Event records carry no input: their ticket names no partition, so no offset or latency is touched. */
void rtml_run_send_event(rtml_runner *r, const char *topic, const rtml_buf *json) {
    produce(r, topic, "drift", 5, json->data, json->len, NULL, UINT64_MAX);
}

void rtml_run_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rtml_runner *r = opaque;
    if (m->err) {
        /* Dropped by an abort (exactly_once): the rewind answers its input again. Not a failure. */
        if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) return;
        /* Not acknowledged: its input offset must never be committed, so the ticket stays open (and under
         * exactly_once the transaction cannot commit; it is aborted and redone). */
        if (r->out.delivery_failed++ == 0)
            snprintf(r->out.first_delivery_error, sizeof r->out.first_delivery_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    r->out.delivered++;
    uint64_t ticket = (uint64_t)(uintptr_t)m->_private;
    if (ticket != UINT64_MAX && (ticket & FEATURES_RECORD)) { /* its prediction's latency is the one measured */
        mark_done(r, ticket & ~FEATURES_RECORD);
        return;
    }
    rtml_metrics_acked(&r->mon.metrics, ticket, rtml_wall_time());
    mark_done(r, ticket);
}

/* ---- exactly_once ------------------------------------------------------------------------------------ */

/* The input offsets answered in the open transaction: assigned partitions whose done_next is past their last
 * commit. After a restart from an older checkpoint a partition re-learns below its committed offset (emit_from)
 * without answering; its done_next, sent then, would move the group's offset backwards, and the records between
 * would be answered a second time after the commit (issue 18). */
static rd_kafka_topic_partition_list_t *txn_offsets(rtml_runner *r) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < r->offsets.n; i++) {
        rtml_partition_track *t = &r->offsets.parts[i];
        if (t->assigned && t->done_next >= 0 && t->done_next > t->emit_from)
            rtml_run_set_owner(r, rd_kafka_topic_partition_list_add(l, t->topic, t->partition), t->done_next);
    }
    return l;
}

/* After an abort: read every assigned partition again from its last committed offset, where its aborted
 * outputs begin. The batch is empty (flushed before the abort), so learn_next covers every record that was
 * learned: a partition still re-learning below its committed offset (learn_next < emit_from) goes on from
 * learn_next instead, or the records between would never be learned. */
static void rewind_inputs(rtml_runner *r) {
    if (r->input.last_at > 0) r->input.last_at = rtml_now(); /* records to read again: not idle (--exit-on-idle) */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < r->offsets.n; i++) {
        rtml_partition_track *t = &r->offsets.parts[i];
        t->done_next = -1;
        if (!t->assigned || t->emit_from < 0) continue;
        int64_t from = t->learn_next >= 0 && t->learn_next < t->emit_from ? t->learn_next : t->emit_from;
        rd_kafka_topic_partition_list_add(l, t->topic, t->partition)->offset = from;
    }
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(r->clients.consumer, l, 10000);
        if (e) txn_fail(r, "rewinding the input after an aborted transaction", e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* The open transaction is gone (aborted by rtml or by the coordinator): counted, and its records read again. */
static int aborted(rtml_runner *r) {
    r->txn.aborts++;
    rewind_inputs(r);
    return rtml_run_failed(r) ? -1 : 0;
}

/* The coordinator timed out the open transaction and fenced the producer (rtml_run_txn_timed_out): it aborted
 * the transaction itself, so a new producer rewinds the inputs as an abort does and goes on. e: the error that
 * said so, consumed. */
static int renew_producer(rtml_runner *r, rd_kafka_error_t *e) {
    double now = rtml_now();
    rtml_log(RTML_LOG_WARN, "the transaction coordinator aborted a transaction open for %.0f s, longer than "
             "transaction.timeout.ms, and fenced the producer (%s): a new producer takes over, and the "
             "transaction's records will be answered again", now - r->txn.started, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    rtml_run_flush_batch(r); /* its outputs fail with the old producer; learned now, so the rewind covers them */
    r->txn.open = false;
    r->txn.renewed_in_a_row++;
    r->txn.renewals++;
    char err[RTML_ERRLEN];
    if (rtml_run_reopen_producer(r, err, sizeof err) != 0) {
        rtml_run_fail(r, RTML_FAULT_TXN, "replacing the fenced producer: %.400s", err);
        return -1;
    }
    return aborted(r);
}

/* The transaction calls with_retries makes. */
typedef enum { TXN_OFFSETS, TXN_COMMIT, TXN_ABORT } txn_call;

/* Retriable errors (a coordinator moving, a broker restarting) are retried, each call bounded by 10 s, saying why
 * each time; abortable ones abort.
 *   Adding the offsets: for up to TXN_RETRY_S in all; then the caller aborts the transaction and answers its
 *   records again (faults.txn_offsets_cut).
 *   The commit and the abort: for as long as it takes. librdkafka goes on with either in the background after a
 *   time-out and refuses any other transaction call meanwhile ("Conflicting commit_transaction API call is
 *   already in progress": the long campaign's seed 5036, three broker restarts in a row outlasting a minute of
 *   commit retries, then a minute of refused aborts and exit 1; seed 6122, four restarts outlasting a minute of
 *   abort retries, exit 1), so the only ways out are the call's own: it succeeds when the broker is back, or the
 *   coordinator has timed the transaction out by then and the producer is fenced, which renew_producer handles.
 *   Once a stop is asked for (SIGTERM), for at most STOP_GRACE_S more: the state stays consistent (nothing of
 *   the transaction is committed, and the next start fences and aborts it), so a stop is never kept waiting
 *   for long (faults.txn_commit_cut). A conflict is never retried. */
#define TXN_RETRY_S 60.0
#define STOP_GRACE_S 30.0
static rd_kafka_error_t *with_retries(rtml_runner *r, txn_call call, rd_kafka_topic_partition_list_t *l) {
    static const char *const names[] = {"offsets", "commit", "abort"};
    double started = rtml_now(), stop_seen = rtml_run_stop ? started : 0;
    for (;;) {
        rd_kafka_error_t *e;
        double called = rtml_now();
        if (call == TXN_COMMIT) {
            e = rd_kafka_commit_transaction(r->clients.producer, 10000);
        } else if (call == TXN_ABORT) {
            e = rd_kafka_abort_transaction(r->clients.producer, 10000);
        } else {
            rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata(r->clients.consumer);
            e = rd_kafka_send_offsets_to_transaction(r->clients.producer, l, g, 10000);
            rd_kafka_consumer_group_metadata_destroy(g);
        }
        double now = rtml_now(), spent = now - started;
        if (rtml_run_stop && !stop_seen) stop_seen = now;
        if (!e || !rd_kafka_error_is_retriable(e) || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__CONFLICT) return e;
        if (call == TXN_OFFSETS ? spent >= TXN_RETRY_S : stop_seen && now - stop_seen >= STOP_GRACE_S) return e;
        char limit[64];
        if (call == TXN_OFFSETS) snprintf(limit, sizeof limit, ", at most %.0f", TXN_RETRY_S);
        else if (stop_seen) snprintf(limit, sizeof limit, ", stopping: for at most %.0f s after the stop", STOP_GRACE_S);
        else limit[0] = '\0';
        rtml_log(RTML_LOG_WARN, "transaction %s: %s; retrying (%.0f s so far%s)", names[call], rd_kafka_error_string(e),
                 spent, limit);
        rd_kafka_error_destroy(e);
        if (rtml_now() - called < 0.1) nanosleep(&(struct timespec){0, 100000000}, NULL); /* an instant refusal: no spin */
    }
}

/* Some assigned partition moved past its last commit without an output to open a transaction: labels (they
 * answer nothing), rejected records without a dead-letter topic, a partition done re-learning. */
static bool offsets_pending(const rtml_runner *r) {
    for (size_t i = 0; i < r->offsets.n; i++) {
        const rtml_partition_track *t = &r->offsets.parts[i];
        if (t->assigned && t->done_next >= 0 && t->done_next > t->emit_from) return true;
    }
    return false;
}

int rtml_run_txn_commit(rtml_runner *r, double max_age) {
    if (!r->exactly_once) return 0;
    /* Without one, a stream of labels alone (its records all answered) would never commit its offsets. */
    if (!r->txn.open && offsets_pending(r) && !ensure_txn(r)) return -1;
    if (!r->txn.open || rtml_now() - r->txn.started < max_age) return rtml_run_failed(r) ? -1 : 0;
    rtml_run_flush_batch(r); /* every record read so far is answered in this transaction */
    rd_kafka_topic_partition_list_t *l = txn_offsets(r);
    rd_kafka_error_t *e = l->cnt ? with_retries(r, TXN_OFFSETS, l) : NULL;
    bool committing = !e;
    if (committing) e = with_retries(r, TXN_COMMIT, NULL);
    if (e && rd_kafka_error_is_fatal(e) && rtml_run_txn_timed_out(r)) {
        rd_kafka_topic_partition_list_destroy(l);
        return renew_producer(r, e);
    }
    r->txn.open = false;
    if (!e) {
        r->txn.commits++;
        r->txn.renewed_in_a_row = 0;
        for (int i = 0; i < l->cnt; i++) { /* these outputs are final: never produce them again */
            int s = rtml_offsets_find(&r->offsets, l->elems[i].topic, l->elems[i].partition);
            if (s >= 0) r->offsets.parts[s].emit_from = l->elems[i].offset, r->offsets.parts[s].done_next = -1;
        }
        rd_kafka_topic_partition_list_destroy(l);
        return 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (rd_kafka_error_is_fatal(e)) {
        txn_fail(r, "transaction commit failed (is another instance using the same transactional.id?)", e);
        return -1;
    }
    if (committing && rd_kafka_error_is_retriable(e)) { /* the commit still going on at a stop: it cannot abort */
        char what[192];
        snprintf(what, sizeof what, "stopping with the transaction not committed (the broker did not answer within "
                 "%.0f s of the stop; nothing of it is committed, and the next start answers its records again)",
                 STOP_GRACE_S);
        txn_fail(r, what, e);
        return -1;
    }
    /* Abortable, or neither abortable nor retriable: librdkafka reports some failures that way, e.g. the
     * coordinator's connection lost while the offsets are added ("Broker transport failure": the long campaign's
     * seed 3064, a broker killed at that moment, made rtml exit 1). The transaction is still open: aborting it
     * and answering its records again is always safe, and the abort waits for the coordinator to come back. */
    rtml_log(RTML_LOG_WARN, "transaction aborted (%s): its records will be answered again", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    r->txn.open = true; /* still to be aborted */
    return rtml_run_txn_abort(r);
}

int rtml_run_txn_abort(rtml_runner *r) {
    if (!r->exactly_once || !r->txn.open) return 0;
    rtml_run_flush_batch(r); /* learned now, so learn_next covers every record the rewind reads again */
    rd_kafka_error_t *e = with_retries(r, TXN_ABORT, NULL);
    if (e && rtml_run_txn_timed_out(r)) return renew_producer(r, e);
    r->txn.open = false;
    if (e) {
        txn_fail(r, "abort transaction", e);
        return -1;
    }
    return aborted(r);
}
