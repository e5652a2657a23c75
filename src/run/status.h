/* status.h — what `rtml run` shows of itself (status.c): counters, the monitor's documents (/metrics, /model,
 * /api/stats, /healthz) and the dashboard's history. Everything runs in the loop's thread. */
#ifndef RTML_RUN_STATUS_H
#define RTML_RUN_STATUS_H
#include <librdkafka/rdkafka.h>

#include "pipeline/pipeline.h"
#include "run/runner.h"

/* Counters, and the HTTP server when monitor.listen is set: 0, or -1 with the reason (a port in use). */
int rtml_run_monitor_open(rtml_runner *r, char *err, size_t errlen);
void rtml_run_monitor_close(rtml_runner *r);
/* Each loop iteration: a history sample once a second; documents when asked or once a second. */
void rtml_run_monitor_tick(rtml_runner *r, double now);
/* librdkafka's statistics callback (the consumer's; opaque: the runner): per-partition lag. */
int rtml_run_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque);
/* A drift event, marked on the dashboard's history (the last 100 are kept). */
void rtml_run_monitor_event(rtml_runner *r, const rtml_drift_event *e);

#endif
