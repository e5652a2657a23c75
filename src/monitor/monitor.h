/* monitor.h — the HTTP side of a running pipeline: /metrics, /healthz, /readyz, /model, /api/stats and the
 * dashboard (web.h), served by libmicrohttpd on monitor.listen.
 *
 * Why snapshots: the pipeline runs in one thread and nothing it owns is locked (run/runner.h). Rather than lock the
 * hot path for the rare scrape, the loop renders the documents itself (run/status.c) and hands them over
 * here under a mutex, at least every second and promptly when a request asks for a fresh one: a request
 * raises `wanted`, the loop (which polls at least every 100 ms) renders and publishes, and the request waits
 * for that publication up to 250 ms before answering with the latest it has. The HTTP threads read only the
 * published copies, so a slow or hostile client can never stall scoring.
 *
 * /healthz answers 200 while the loop publishes (a heartbeat); when the loop has not published for
 * stalled_after seconds (monitor.stalled_after, default 30 s) it answers 503 "stalled", which is what a
 * liveness probe should act on. /readyz is 200 once the model is loaded and partitions are assigned, 503
 * with the reason before. */
#ifndef RTML_MONITOR_H
#define RTML_MONITOR_H
#include <stdbool.h>

#include "base/buf.h"

typedef struct rtml_monitor rtml_monitor;

/* The documents the loop publishes; publish takes their contents (the buffers are swapped with the old ones,
 * so the caller gets back storage to render into next time). */
typedef struct {
    rtml_buf metrics; /* Prometheus text exposition */
    rtml_buf model;   /* /model JSON */
    rtml_buf stats;   /* /api/stats JSON */
    bool ready;
    char ready_reason[128];
} rtml_monitor_docs;

/* Listen on "HOST:PORT" (port 0: a free one); /healthz says "stalled" when nothing was published for
 * stalled_after seconds. NULL with the reason (bad address, port in use). */
rtml_monitor *rtml_monitor_start(const char *listen, double stalled_after, char *err, size_t errlen);
/* The port actually bound. */
int rtml_monitor_port(const rtml_monitor *m);
/* Whether a request waits for fresh documents (cheap: an atomic read). */
bool rtml_monitor_wanted(rtml_monitor *m);
/* Hand the documents over (swapping buffers with the published ones) and wake waiting requests. */
void rtml_monitor_publish(rtml_monitor *m, rtml_monitor_docs *docs);
/* Stop serving and free everything. NULL is fine. */
void rtml_monitor_stop(rtml_monitor *m);

#endif
