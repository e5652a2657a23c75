/* prometheus.c — `rtml run`'s /metrics: the Prometheus text exposition format (version 0.0.4).
 *
 * Names follow Prometheus' conventions: the rtml_ prefix, base units (seconds, bytes), _total for
 * counters, one # HELP and # TYPE per family, labels for topic/partition/reason/scope. The process_*
 * families are the standard ones client libraries export, so existing dashboards find them. Rendered by the
 * loop's thread from its own counters (status.c publishes the text). */
#include "run/prometheus.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features/aggregate.h"
#include "pipeline/join.h"
#include "monitor/procstat.h"
#include "base/rtml.h"
#include "run/models.h"
#include "run/serve.h"
#include "config/model.h"
#include "config/scale.h"
#include "pipeline/model.h"

static void family(rtml_buf *b, const char *name, const char *type, const char *help) {
    rtml_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_value(rtml_buf *b, double v) {
    if (isnan(v)) rtml_buf_puts(b, "NaN");
    else if (isinf(v)) rtml_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else rtml_buf_put_double(b, v);
}

/* name{labels} value */
static void line(rtml_buf *b, const char *name, const char *labels, double v) {
    rtml_buf_puts(b, name);
    if (labels && *labels) rtml_buf_printf(b, "{%s}", labels);
    rtml_buf_putc(b, ' ');
    put_value(b, v);
    rtml_buf_putc(b, '\n');
}

static void gauge(rtml_buf *b, const char *name, const char *help, double v) {
    family(b, name, "gauge", help);
    line(b, name, "", v);
}

static void counter(rtml_buf *b, const char *name, const char *help, double v) {
    family(b, name, "counter", help);
    line(b, name, "", v);
}

/* A label value escaped as the format wants (backslash, double quote, newline). */
static void label_value(char *dst, size_t cap, const char *s) {
    size_t j = 0;
    for (; *s && j + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') dst[j++] = '\\', dst[j++] = *s;
        else if (*s == '\n') dst[j++] = '\\', dst[j++] = 'n';
        else dst[j++] = *s;
    }
    dst[j] = '\0';
}

static void partition_labels(const rtml_partition_track *t, char *out, size_t cap) {
    char topic[512];
    label_value(topic, sizeof topic, t->topic);
    snprintf(out, cap, "topic=\"%s\",partition=\"%" PRId32 "\"", topic, t->partition);
}

/* Per-partition counters: one family per field. */
static void per_partition(const rtml_runner *r, rtml_buf *b) {
    static const struct { const char *name, *type, *help; } fams[] = {
        {"rtml_records_consumed_total", "counter", "Input records read, per input partition."},
        {"rtml_records_produced_total", "counter", "Outputs (predictions and dead letters) acknowledged by Kafka, per input partition."},
        {"rtml_records_learned_total", "counter", "Labelled records learned, per input partition."},
        {"rtml_records_failed_total", "counter", "Records rejected (to the dead-letter topic, or counted), per input partition."},
        {"rtml_consumer_lag", "gauge", "Records not yet read: the partition's end minus the consumer's position (librdkafka statistics)."},
        {"rtml_consumer_committed_lag", "gauge", "The partition's end minus the committed offset (includes outputs in flight)."},
        {"rtml_partition_assigned", "gauge", "1 while this instance holds the input partition."}};
    char labels[640];
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        family(b, fams[f].name, fams[f].type, fams[f].help);
        for (size_t i = 0; i < r->offsets.n && i < r->mon.metrics.n; i++) {
            const rtml_part_metrics *m = &r->mon.metrics.parts[i];
            const rtml_partition_track *t = &r->offsets.parts[i];
            int64_t lag = f == 4 ? m->lag : m->committed_lag;
            double v = f == 0 ? (double)m->consumed : f == 1 ? (double)m->produced : f == 2 ? (double)m->learned
                     : f == 3 ? (double)m->failed : f <= 5 ? (lag >= 0 && t->assigned ? (double)lag : NAN)
                     : (double)t->assigned;
            if (isnan(v)) continue; /* unknown: no sample rather than a made-up one */
            partition_labels(t, labels, sizeof labels);
            line(b, fams[f].name, labels, v);
        }
    }
}

static void rejects(const rtml_runner *r, rtml_buf *b) {
    char labels[96];
    family(b, "rtml_records_rejected_total", "counter", "Records that could not be scored, by reason.");
    for (int k = 1; k < RTML_REJECT__COUNT; k++) {
        snprintf(labels, sizeof labels, "reason=\"%s\"", rtml_reject_name((rtml_reject)k));
        line(b, "rtml_records_rejected_total", labels, (double)r->pipe.rejected_by[k]);
    }
    family(b, "rtml_dead_letters_total", "counter", "Records sent to the dead-letter topic, by reason.");
    for (int k = 1; k < RTML_REJECT__COUNT; k++) {
        snprintf(labels, sizeof labels, "reason=\"%s\"", rtml_reject_name((rtml_reject)k));
        line(b, "rtml_dead_letters_total", labels, (double)r->out.dead_letters_by[k]);
    }
}

static void histograms(const rtml_runner *r, rtml_buf *b) {
    family(b, "rtml_end_to_end_latency_seconds", "histogram",
           "From an input record's Kafka timestamp to its output's acknowledgement.");
    rtml_hist_prometheus(&r->mon.metrics.e2e, "rtml_end_to_end_latency_seconds", "", b);
    family(b, "rtml_processing_latency_seconds", "histogram",
           "From reading a record to handing its output to the producer (decode, features, model, encode).");
    rtml_hist_prometheus(&r->mon.metrics.processing, "rtml_processing_latency_seconds", "", b);
    family(b, "rtml_batch_size_records", "histogram", "Records per model call.");
    rtml_hist_prometheus(&r->mon.metrics.batch, "rtml_batch_size_records", "", b);
    counter(b, "rtml_latency_untracked_total", "Acknowledgements whose input timestamp was no longer tracked.",
            (double)r->mon.metrics.latency_untracked);
}

/* Prequential metrics: one gauge family per metric, scope cumulative or window. */
static void prequential(const rtml_runner *r, rtml_buf *b) {
    const rtml_eval *ev = &r->pipe.eval;
    static const struct { const char *name; double (*cum)(const rtml_eval *); double (*win)(const rtml_eval *); } m[] = {
        {"accuracy", rtml_eval_accuracy, rtml_eval_window_accuracy}, {"logloss", rtml_eval_logloss, rtml_eval_window_logloss},
        {"auc", rtml_eval_auc, rtml_eval_window_auc}, {"f1", rtml_eval_f1, rtml_eval_window_f1},
        {"macro_f1", rtml_eval_macro_f1, rtml_eval_window_macro_f1}, {"mae", rtml_eval_mae, rtml_eval_window_mae},
        {"rmse", rtml_eval_rmse, rtml_eval_window_rmse}, {"r2", rtml_eval_r2, rtml_eval_window_r2}};
    counter(b, "rtml_prequential_evaluated_total", "Labelled records scored before being learned (test-then-train).",
            (double)ev->n);
    char name[64];
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        double c = m[i].cum(ev), w = m[i].win(ev);
        if (isnan(c) && isnan(w) && ev->n) continue; /* does not apply to this task */
        if (!ev->n && strcmp(m[i].name, r->pipe.engine->task == RTML_TASK_REGRESSION ? "mae" : "accuracy") != 0)
            continue;
        snprintf(name, sizeof name, "rtml_prequential_%s", m[i].name);
        family(b, name, "gauge", "Prequential metric, since the start (scope=cumulative) or over the last window.");
        line(b, name, "scope=\"cumulative\"", c);
        line(b, name, "scope=\"window\"", w);
    }
}

static void drift(const rtml_runner *r, rtml_buf *b) {
    if (!r->pipe.drift) return;
    rtml_drift_state st;
    rtml_drift_state_get(r->pipe.drift, &st);
    char labels[96];
    snprintf(labels, sizeof labels, "detector=\"%s\"", rtml_drift_kind_name(r->cfg.drift.detector));
    family(b, "rtml_drift_events_total", "counter", "Concept drifts detected on the prequential error stream.");
    line(b, "rtml_drift_events_total", labels, (double)r->pipe.drift_events);
    family(b, "rtml_drift_improvements_total", "counter",
           "Detections of a falling error (a model learning), which are not acted on.");
    line(b, "rtml_drift_improvements_total", labels, (double)r->pipe.drift_improvements);
    family(b, "rtml_drift_estimation", "gauge", "The detector's estimate of the error rate (regression: mean |error|).");
    line(b, "rtml_drift_estimation", labels, st.estimation);
    family(b, "rtml_drift_window_records", "gauge", "Errors the detector's estimate covers (ADWIN: its window).");
    line(b, "rtml_drift_window_records", labels, (double)st.width);
    family(b, "rtml_drift_warning", "gauge", "1 while the detector is in its warning zone (DDM).");
    line(b, "rtml_drift_warning", labels, st.warning);
    family(b, "rtml_drift_last_event_timestamp_seconds", "gauge", "When the latest drift was detected (0: never).");
    line(b, "rtml_drift_last_event_timestamp_seconds", labels, r->pipe.drift_events ? r->pipe.last_drift.at_wall : 0);
}

/* label.topic: the join of scored records with their later labels (join.h). */
static void labels(const rtml_runner *r, rtml_buf *b) {
    if (!r->pipe.join) return;
    rtml_join_stats s;
    rtml_join_stats_get(r->pipe.join, &s);
    family(b, "rtml_label_records_total", "counter", "Label records read from label.topic, by what became of them.");
    line(b, "rtml_label_records_total", "outcome=\"joined\"", (double)s.joined);
    line(b, "rtml_label_records_total", "outcome=\"duplicate\"", (double)s.duplicate_labels);
    line(b, "rtml_label_records_total", "outcome=\"late\"", (double)s.late_labels);
    line(b, "rtml_label_records_total", "outcome=\"unknown\"", (double)s.unknown_labels);
    line(b, "rtml_label_records_total", "outcome=\"redelivered\"", (double)r->pipe.labels_redelivered);
    gauge(b, "rtml_label_join_hit_ratio", "Labels that found their scored record, of the labels read.",
          s.labels ? (double)s.joined / (double)s.labels : 0);
    counter(b, "rtml_label_joined_early_total", "Joins where the label was read before its record.",
            (double)s.joined_early);
    gauge(b, "rtml_label_pending_records", "Scored records waiting for their label.", (double)s.pending);
    gauge(b, "rtml_label_waiting_labels", "Labels waiting for their record.", (double)s.early);
    gauge(b, "rtml_label_store_bytes", "Memory held by the pending joins.", (double)s.bytes);
    family(b, "rtml_label_evictions_total", "counter", "Scored records dropped before their label came, by cause.");
    line(b, "rtml_label_evictions_total", "cause=\"ttl\"", (double)s.evicted_ttl);
    line(b, "rtml_label_evictions_total", "cause=\"capacity\"", (double)s.evicted_capacity);
    counter(b, "rtml_label_unkeyed_records_total", "Scored records without a join key (never learned).",
            (double)r->pipe.unkeyed);
    family(b, "rtml_label_delay_seconds", "histogram", "From a record's timestamp to its label's, for joined labels.");
    rtml_hist_prometheus(&r->pipe.label_delay, "rtml_label_delay_seconds", "", b);
}

/* aggregates: the per-key state and what its limits dropped (features/aggregate.h). */
static void aggregates(const rtml_runner *r, rtml_buf *b) {
    if (!r->pipe.aggregates) return;
    rtml_agg_stats s;
    rtml_aggregates_stats(r->pipe.aggregates, &s);
    gauge(b, "rtml_aggregate_keys", "Keys the aggregates hold state for.", (double)s.keys);
    gauge(b, "rtml_aggregate_state_bytes", "Memory held by the aggregates' keys and events.", (double)s.bytes);
    family(b, "rtml_aggregate_keys_dropped_total", "counter", "Keys dropped, by cause (max_keys: evicted; ttl: expired).");
    line(b, "rtml_aggregate_keys_dropped_total", "cause=\"max_keys\"", (double)s.evicted);
    line(b, "rtml_aggregate_keys_dropped_total", "cause=\"ttl\"", (double)s.expired);
    counter(b, "rtml_aggregate_late_records_total", "Records older than the lateness allows: scored, not added.",
            (double)s.late);
    counter(b, "rtml_aggregate_truncated_events_total", "Events dropped from a key's windows for max_events.",
            (double)s.truncated);
}

static void process(rtml_buf *b) {
    rtml_procstat ps;
    char err[256];
    if (rtml_procstat_read(&ps, err, sizeof err) != 0) return;
    counter(b, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            ps.cpu_user_seconds + ps.cpu_system_seconds);
    gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.", (double)ps.rss_bytes);
    gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", (double)ps.vsize_bytes);
    gauge(b, "process_open_fds", "Number of open file descriptors.", (double)ps.open_fds);
    gauge(b, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          ps.start_time_seconds);
    gauge(b, "rtml_threads", "Threads in the process (librdkafka's and the monitor's included).", (double)ps.threads);
}

static void pipeline_state(const rtml_runner *r, rtml_buf *b) {
    char labels[256];
    family(b, "rtml_build_info", "gauge", "rtml's version and model (value 1).");
    snprintf(labels, sizeof labels, "version=\"%s\",engine=\"%s\",model=\"%s\"", RTML_VERSION,
             rtml_engine_kind_name(r->cfg.model.engine),
             rtml_config_is_tensorflow(&r->cfg) ? "saved_model" : rtml_model_type_name(r->cfg.model.type));
    line(b, "rtml_build_info", labels, 1);
    gauge(b, "rtml_model_version", "The version of the model scoring records.",
          (double)rtml_pipeline_model_version(&r->pipe));
    gauge(b, "rtml_model_learned_records", "Records the current model version has learned.",
          (double)r->pipe.engine->learned);
    if (r->models) {
        rtml_run_models_stats ms;
        rtml_run_models_counts(r, &ms);
        family(b, "rtml_role_info", "gauge", "This instance's role (value 1).");
        snprintf(labels, sizeof labels, "role=\"%s\"", rtml_role_name(r->cfg.role));
        line(b, "rtml_role_info", labels, 1);
        gauge(b, "rtml_model_topic_newest_version", "The newest model version in models.topic.", (double)ms.newest);
        gauge(b, "rtml_model_topic_pinned_version", "The version pinned in models.topic (0: none, follow the newest).",
              (double)ms.pinned);
        counter(b, "rtml_model_versions_published_total", "Model versions this instance published.",
                (double)ms.published);
        counter(b, "rtml_model_publish_failures_total", "Model versions that could not be published.",
                (double)ms.publish_failures);
        counter(b, "rtml_model_swaps_total", "Model versions swapped in for scoring (predictor).", (double)ms.swaps);
        counter(b, "rtml_model_load_failures_total", "Published versions that could not be loaded (predictor).",
                (double)ms.load_failures);
    }
    counter(b, "rtml_rebalances_total", "Consumer group rebalances (assignments and revocations).", (double)r->group.rebalances);
    gauge(b, "rtml_inflight_outputs", "Outputs handed to Kafka and not yet acknowledged.",
          (double)rd_kafka_outq_len(r->clients.producer));
    gauge(b, "rtml_input_paused", "1 while the input is paused because too many outputs wait (backpressure).",
          r->input.paused);
    counter(b, "rtml_input_pauses_total", "Times the input was paused by backpressure.", (double)r->input.pauses);
    counter(b, "rtml_checkpoints_total", "Checkpoints written (the sequence number of the newest).", (double)r->ckpt.seq);
    counter(b, "rtml_checkpoint_failures_total", "Checkpoints that could not be written.", (double)r->ckpt.failures);
    counter(b, "rtml_delivery_failures_total", "Outputs Kafka did not acknowledge.", (double)r->out.delivery_failed);
    family(b, "rtml_transactions_total", "counter", "exactly_once transactions, by outcome.");
    line(b, "rtml_transactions_total", "outcome=\"committed\"", (double)r->txn.commits);
    line(b, "rtml_transactions_total", "outcome=\"aborted\"", (double)r->txn.aborts);
    counter(b, "rtml_kafka_statistics_total", "librdkafka statistics documents read (they carry the lag).",
            (double)r->mon.metrics.stats_received);
}

void rtml_run_render_metrics(rtml_runner *r, rtml_buf *b) {
    rtml_buf_reset(b);
    pipeline_state(r, b);
    per_partition(r, b);
    rejects(r, b);
    histograms(r, b);
    prequential(r, b);
    drift(r, b);
    labels(r, b);
    aggregates(r, b);
    rtml_run_serve_metrics(r, b);
    process(b);
}
