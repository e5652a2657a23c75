/* serve.h — `rtml run`'s Open Inference Protocol endpoint (serve.c): the snapshots the loop hands to the server
 * (serve/snapshot.h), the log topic's writer, and the log topic read back into the join store (docs/serving.md).
 *
 * Everything here runs on the loop's thread except the log writer's callback, which the server's threads call:
 * it touches only the writer (a librdkafka producer of its own, thread-safe, and atomic counters), never the
 * runner. */
#ifndef RTML_RUN_SERVE_H
#define RTML_RUN_SERVE_H
#include <stdbool.h>

#include "base/buf.h"
#include "run/runner.h"

/* With serve.listen: the log writer, the first snapshot (the restored model) and the server. 0, or -1 with the
 * reason (a port in use, unreadable TLS files or tokens). */
int rtml_run_serve_open(rtml_runner *r, char *err, size_t errlen);
/* Stop the server (its threads joined), flush the log writer (up to 10 s), free. */
void rtml_run_serve_close(rtml_runner *r);
/* Each loop iteration: a new snapshot every serve.refresh when the model changed (else the current one is
 * confirmed), and the log writer's delivery reports. */
void rtml_run_serve_tick(rtml_runner *r, double now);
/* The consumer's poll timeout, shortened so that the loop comes round at least every serve.refresh. */
int rtml_run_serve_poll_ms(const rtml_runner *r, int timeout_ms);
/* Whether topic is the log topic the stream learns from (serve.log_topic with label.topic). */
bool rtml_run_serve_is_log(const rtml_runner *r, const char *topic);
/* A log record read back: into the join store (pipeline/served.h); a malformed one to the dead-letter topic. It
 * has no output, so it is done at once. Takes ownership of h->m. */
void rtml_run_serve_take_log(rtml_runner *r, rtml_held *h, const rtml_origin *origin);
/* The endpoint's families on /metrics (nothing without serve). */
void rtml_run_serve_metrics(const rtml_runner *r, rtml_buf *b);

#endif
