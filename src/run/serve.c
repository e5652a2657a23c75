/* serve.c — `rtml run`'s Open Inference Protocol endpoint: snapshots, the log topic's writer, and the log topic
 * read back into the join store (serve.h; docs/serving.md). */
#include "run/serve.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json_write.h"
#include "base/log.h"
#include "base/rtml.h"
#include "pipeline/scorer.h"
#include "pipeline/served.h"
#include "run/clients.h"
#include "run/output.h"
#include "serve/server.h"
#include "serve/snapshot.h"

#define LOG_FLUSH_MS 10000
#define N_SIGNATURE 7

/* The log topic's writer: what the server's threads touch (through on_served), and nothing else. */
typedef struct {
    rd_kafka_t *producer;
    rd_kafka_topic_t *topic;
    _Atomic uint64_t produced, produce_failed, delivery_failed;
} log_writer;

struct rtml_run_serving {
    rtml_snapshots snaps;
    rtml_server *server;
    log_writer log;
    double last_refresh;
    uint64_t sig[N_SIGNATURE]; /* what the current snapshot was taken of */
    uint64_t published;
    unsigned long long read_back[RTML_SERVED_REJECTED + 1]; /* log records read back, by outcome */
};

/* ---- the log topic's writer (server threads) ------------------------------------------------------------- */

static void put_row(const rtml_served *sv, rtml_buf *b) {
    rtml_buf_printf(b, "\"features\":{\"n_inputs\":%zu,\"dense\":[", sv->shape.n_inputs);
    for (size_t j = 0; j < sv->shape.n_dense; j++) {
        if (j) rtml_buf_putc(b, ',');
        rtml_buf_put_double(b, sv->row->dense[j]);
    }
    rtml_buf_puts(b, "],\"sparse\":[");
    for (size_t k = 0; k < sv->row->nnz; k++) {
        rtml_buf_printf(b, "%s[%u,", k ? "," : "", (unsigned)sv->row->idx[k]);
        rtml_buf_put_double(b, sv->row->val[k]);
        rtml_buf_putc(b, ']');
    }
    rtml_buf_puts(b, "]}");
}

/* One answered record as a log record (pipeline/served.h has its shape), keyed by its join key. */
static void on_served(void *ctx, const rtml_served *sv) {
    log_writer *w = ctx;
    rtml_buf b = RTML_BUF_INIT;
    rtml_buf_puts(&b, "{\"key\":");
    rtml_json_put_string(&b, sv->key, sv->key_len);
    rtml_buf_puts(&b, ",\"record\":");
    if (sv->record) rtml_json_put_string(&b, sv->record, sv->record_len);
    else rtml_buf_puts(&b, "null");
    rtml_buf_putc(&b, ',');
    put_row(sv, &b);
    rtml_buf_puts(&b, ",\"scores\":[");
    for (size_t k = 0; k < sv->n_outputs; k++) {
        if (k) rtml_buf_putc(&b, ',');
        rtml_buf_put_double(&b, sv->scores[k]);
    }
    rtml_buf_printf(&b, "],\"prediction\":%s,\"score\":%s,\"model_version\":%lld,\"learned\":%llu}", sv->prediction,
                    sv->score, (long long)sv->model_version, (unsigned long long)sv->learned);
    if (rd_kafka_produce(w->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, b.data, b.len, sv->key, sv->key_len,
                         NULL) != 0) {
        uint64_t n = atomic_fetch_add(&w->produce_failed, 1) + 1;
        rtml_log_every(RTML_LOG_WARN, n, 3, 100, "serve.log_topic: an answer was not logged: %s",
                       rd_kafka_err2str(rd_kafka_last_error()));
        rtml_buf_free(&b);
        return;
    }
    atomic_fetch_add(&w->produced, 1);
}

static void on_log_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    log_writer *w = opaque;
    if (!m->err) return;
    uint64_t n = atomic_fetch_add(&w->delivery_failed, 1) + 1;
    rtml_log_every(RTML_LOG_WARN, n, 3, 100, "serve.log_topic: an answer's log record was not delivered: %s",
                   rd_kafka_err2str(m->err));
}

/* Its own idempotent producer, outside any transaction: an answer is logged whether or not the stream's
 * transaction commits (the kafka section's transactional settings are the stream's, not the writer's). */
static int open_log(rtml_runner *r, log_writer *w, char *err, size_t errlen) {
    static const char *const defaults[] = {"enable.idempotence", "true", "linger.ms", "1", NULL};
    rtml_config view = r->cfg;
    rtml_kv *kept = calloc(r->cfg.n_kafka ? r->cfg.n_kafka : 1, sizeof *kept);
    if (!kept) return rtml_fail(err, errlen, "out of memory");
    view.n_kafka = 0;
    for (size_t i = 0; i < r->cfg.n_kafka; i++)
        if (strncmp(r->cfg.kafka[i].key, "transactional.", 14) != 0) kept[view.n_kafka++] = r->cfg.kafka[i];
    view.kafka = kept;
    rd_kafka_conf_t *c = rtml_run_client_conf(&view, false, defaults, NULL, err, errlen);
    free(kept);
    if (!c) return -1;
    rd_kafka_conf_set_dr_msg_cb(c, on_log_delivery);
    rd_kafka_conf_set_opaque(c, w);
    char why[512];
    if (!(w->producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof why))) {
        rd_kafka_conf_destroy(c);
        return rtml_fail(err, errlen, "serve.log_topic: %s", why);
    }
    if (!(w->topic = rd_kafka_topic_new(w->producer, r->cfg.serve.log_topic, NULL)))
        return rtml_fail(err, errlen, "serve.log_topic: %s", rd_kafka_err2str(rd_kafka_last_error()));
    return 0;
}

/* ---- snapshots (the loop's thread) ----------------------------------------------------------------------- */

/* What a snapshot is taken of: any record read (feature statistics), learned (the model), a new model version. */
static void signature(const rtml_runner *r, uint64_t *sig) {
    const rtml_pipeline *p = &r->pipe;
    uint64_t now[N_SIGNATURE] = {p->records, p->learned, p->engine->learned, (uint64_t)p->model_version,
                                 (uint64_t)p->engine->version, p->drift_events, p->n_classes};
    memcpy(sig, now, sizeof now);
}

static void publish(rtml_runner *r, rtml_run_serving *s, double now) {
    rtml_snapshot *snap = rtml_snapshots_prepare(&s->snaps);
    if (!snap) {
        rtml_log(RTML_LOG_ERROR, "serve: out of memory for a snapshot; requests are answered by the previous one");
        return;
    }
    rtml_pipeline_snapshot(&r->pipe, &snap->image);
    rtml_snapshots_publish(&s->snaps, snap, now);
    signature(r, s->sig);
    s->published++;
}

void rtml_run_serve_tick(rtml_runner *r, double now) {
    rtml_run_serving *s = r->serve;
    if (!s) return;
    if (s->log.producer) rd_kafka_poll(s->log.producer, 0);
    now = rtml_now();
    if (now - s->last_refresh < r->cfg.serve.refresh_s) return;
    s->last_refresh = now;
    uint64_t sig[N_SIGNATURE];
    signature(r, sig);
    if (memcmp(sig, s->sig, sizeof sig) == 0) rtml_snapshots_confirm(&s->snaps, now);
    else publish(r, s, now);
}

/* Until the next refresh is due, so that a snapshot is confirmed or replaced within about serve.refresh even while
 * no record comes. */
int rtml_run_serve_poll_ms(const rtml_runner *r, int timeout_ms) {
    if (!r->serve) return timeout_ms;
    double left = r->serve->last_refresh + r->cfg.serve.refresh_s - rtml_now();
    int ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
    return timeout_ms > ms ? ms : timeout_ms;
}

/* ---- open and close ----------------------------------------------------------------------------------- */

int rtml_run_serve_open(rtml_runner *r, char *err, size_t errlen) {
    if (!r->cfg.serve.listen) return 0;
    rtml_run_serving *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory");
    rtml_snapshots_init(&s->snaps);
    r->serve = s;
    if (r->cfg.serve.log_topic && open_log(r, &s->log, err, errlen) != 0) return -1;
    s->last_refresh = rtml_now();
    publish(r, s, s->last_refresh); /* the restored model answers from the start */
    rtml_server_opts o = {&r->cfg, &s->snaps, s->log.producer ? on_served : NULL, &s->log};
    if (!(s->server = rtml_server_start(&o, err, errlen))) return -1;
    const rtml_config *cfg = &r->cfg;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(cfg->serve.listen, ':') - cfg->serve.listen), cfg->serve.listen);
    rtml_log(RTML_LOG_INFO, "serve: Open Inference Protocol on %s://%s:%d/v2/models/%s (refresh %g ms%s%s%s)",
             cfg->serve.tls_cert ? "https" : "http", host, rtml_server_port(s->server), cfg->serve.name,
             cfg->serve.refresh_s * 1000, cfg->serve.tokens_file ? ", bearer tokens" : "",
             cfg->serve.log_topic ? ", answers logged to " : "", cfg->serve.log_topic ? cfg->serve.log_topic : "");
    return 0;
}

void rtml_run_serve_close(rtml_runner *r) {
    rtml_run_serving *s = r->serve;
    if (!s) return;
    rtml_server_stop(s->server); /* no thread writes a log record after this */
    if (s->log.producer) {
        if (rd_kafka_flush(s->log.producer, LOG_FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
            rtml_log(RTML_LOG_ERROR, "serve.log_topic: %d answers' log records still unacknowledged after %d s",
                     rd_kafka_outq_len(s->log.producer), LOG_FLUSH_MS / 1000);
        if (s->log.topic) rd_kafka_topic_destroy(s->log.topic);
        rd_kafka_destroy(s->log.producer);
    }
    rtml_snapshots_free(&s->snaps);
    free(s);
    r->serve = NULL;
}

/* ---- the log topic read back ---------------------------------------------------------------------------- */

bool rtml_run_serve_is_log(const rtml_runner *r, const char *topic) {
    return rtml_config_serve_learns(&r->cfg) && !strcmp(topic, r->cfg.serve.log_topic);
}

void rtml_run_serve_take_log(rtml_runner *r, rtml_held *h, const rtml_origin *origin) {
    rd_kafka_message_t *m = h->m;
    char why[RTML_ERRLEN];
    rtml_reject rej;
    if (r->input.n_held) rtml_run_flush_batch(r); /* in the order read, as labels are */
    rtml_served_result res = rtml_pipeline_served(&r->pipe, m->payload ? m->payload : "", m->len, origin, &rej, why,
                                                  sizeof why);
    if (r->serve) r->serve->read_back[res]++;
    if (res == RTML_SERVED_REJECTED) {
        rtml_log_every(RTML_LOG_WARN, r->serve ? r->serve->read_back[res] : 1, 10, 10, "rejected served record "
                       "%s/%d@%lld (%s): %s", origin->topic, (int)m->partition, (long long)m->offset,
                       rtml_reject_name(rej), why);
        rtml_run_reject(r, h, rej, why);
    } else {
        h->emit = false;
        rtml_run_reject(r, h, RTML_REJECT_NONE, NULL);
    }
    rd_kafka_message_destroy(m);
    if (r->after_batch) r->after_batch(r); /* a label that came first was learned: drift acts after it */
}

/* ---- /metrics ------------------------------------------------------------------------------------------- */

static void family(rtml_buf *b, const char *name, const char *type, const char *help) {
    rtml_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void requests(rtml_buf *b, const rtml_server_stats *st) {
    static const unsigned codes[] = RTML_SERVE_STATUSES;
    static const double bounds[] = RTML_SERVE_LATENCY_BOUNDS;
    family(b, "rtml_serve_requests_total", "counter", "Requests the serve endpoint answered, by HTTP status.");
    for (size_t i = 0; i < RTML_SERVE_N_STATUS; i++)
        rtml_buf_printf(b, "rtml_serve_requests_total{code=\"%u\"} %llu\n", codes[i], (unsigned long long)st->requests[i]);
    family(b, "rtml_serve_request_duration_seconds", "histogram",
           "From a request's first line to its queued answer.");
    for (size_t i = 0; i < RTML_SERVE_N_BUCKETS; i++) {
        rtml_buf_puts(b, "rtml_serve_request_duration_seconds_bucket{le=\"");
        rtml_buf_put_double(b, bounds[i]);
        rtml_buf_printf(b, "\"} %llu\n", (unsigned long long)st->latency[i]);
    }
    rtml_buf_printf(b, "rtml_serve_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                    (unsigned long long)st->latency[RTML_SERVE_N_BUCKETS]);
    rtml_buf_printf(b, "rtml_serve_request_duration_seconds_count %llu\nrtml_serve_request_duration_seconds_sum ",
                    (unsigned long long)st->latency[RTML_SERVE_N_BUCKETS]);
    rtml_buf_put_double(b, st->latency_sum);
    rtml_buf_putc(b, '\n');
}

static void counter(rtml_buf *b, const char *name, const char *help, unsigned long long v) {
    family(b, name, "counter", help);
    rtml_buf_printf(b, "%s %llu\n", name, v);
}

static void read_back(rtml_buf *b, const rtml_run_serving *s) {
    static const char *const outcomes[] = {"stored", "joined", "duplicate", "late", "redelivered", "failed", "rejected"};
    family(b, "rtml_serve_log_read_total", "counter",
           "Answered records read back from serve.log_topic into the join store, by what became of them.");
    for (size_t i = 0; i <= RTML_SERVED_REJECTED; i++)
        rtml_buf_printf(b, "rtml_serve_log_read_total{outcome=\"%s\"} %llu\n", outcomes[i], s->read_back[i]);
}

void rtml_run_serve_metrics(const rtml_runner *r, rtml_buf *b) {
    const rtml_run_serving *s = r->serve;
    if (!s || !s->server) return;
    rtml_server_stats st;
    rtml_server_stats_get(s->server, &st);
    requests(b, &st);
    counter(b, "rtml_serve_records_total", "Records answered by the serve endpoint.", st.records);
    counter(b, "rtml_serve_closed_connections_total", "Connections closed for being too slow (request_time, idle).",
            st.closed_slow);
    family(b, "rtml_serve_connections", "gauge", "Connections open on the serve endpoint.");
    rtml_buf_printf(b, "rtml_serve_connections %llu\n", (unsigned long long)st.connections);
    counter(b, "rtml_serve_snapshots_total", "Snapshots of the model published to the serve endpoint.", s->published);
    counter(b, "rtml_serve_snapshot_loads_total", "Snapshots loaded into the endpoint's scorers.", st.loads);
    counter(b, "rtml_serve_snapshot_load_failures_total", "Snapshot loads that failed.", st.load_failures);
    counter(b, "rtml_serve_log_records_total", "Answered records written to serve.log_topic.",
            atomic_load(&((log_writer *)&s->log)->produced));
    counter(b, "rtml_serve_log_failures_total", "Answered records serve.log_topic could not take or did not acknowledge.",
            atomic_load(&((log_writer *)&s->log)->produce_failed) + atomic_load(&((log_writer *)&s->log)->delivery_failed));
    if (rtml_config_serve_learns(&r->cfg)) read_back(b, s);
}
