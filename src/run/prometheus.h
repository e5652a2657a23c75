/* prometheus.h — `rtml run`'s /metrics in Prometheus' text format (prometheus.c). */
#ifndef RTML_RUN_PROMETHEUS_H
#define RTML_RUN_PROMETHEUS_H
#include "base/buf.h"
#include "run/runner.h"

/* /metrics into b (reset first). */
void rtml_run_render_metrics(rtml_runner *r, rtml_buf *b);

#endif
