/* server.h — the Open Inference Protocol endpoint (KServe v2 REST) on the live model: libmicrohttpd on
 * serve.listen, its own address (server.c; docs/serving.md).
 *
 *   GET  /v2/health/live, /v2/health/ready        200, or 400 while no snapshot is loaded (empty bodies)
 *   GET  /v2                                      the server's metadata
 *   GET  /v2/models/NAME[/versions/V]             the model's metadata (oip: inputs, outputs, version)
 *   GET  /v2/models/NAME[/versions/V]/ready       200 / 400
 *   POST /v2/models/NAME[/versions/V]/infer       an inference request (oip.h) answered on a scorer (infer.h)
 *
 * Threads: libmicrohttpd's pool of serve.threads threads (epoll) reads and answers; each request takes a scorer
 * from the pool (pool.h), which a refresher thread keeps on the stream's newest snapshot (snapshot.h), and gives
 * it back. Nothing here touches the stream's state: the snapshots are the only hand-over, and the log topic's
 * writer (on_served) is the caller's thread-safe callback.
 *
 * Security and limits, every refusal a JSON error {"error": "..."} with its status: bearer tokens (401, with
 * WWW-Authenticate; the health paths stay open unless serve.auth.open_health is false), bodies over
 * serve.limits.body_bytes (413, at once when Content-Length says so), more records than serve.limits.records
 * (413), malformed requests (400), an unknown path (404) or method (405), more connections than
 * serve.limits.connections (503, and the connection closes), a request that arrived whole but later than
 * serve.limits.request_time (408). A connection whose request line waited longer than serve.limits.idle, or
 * whose request has not arrived whole request_time after its request line, is closed by a reaper thread (there
 * is no complete request to answer); so is one idle between requests for longer than idle. TLS (serve.tls) is
 * GnuTLS through libmicrohttpd; the key is read into memory once and wiped when the server stops. */
#ifndef RTML_SERVE_SERVER_H
#define RTML_SERVE_SERVER_H
#include <stdint.h>

#include "config/config.h"
#include "serve/infer.h"
#include "serve/snapshot.h"

typedef struct rtml_server rtml_server;

typedef struct {
    const rtml_config *cfg;    /* borrowed: outlives the server */
    rtml_snapshots *snapshots; /* borrowed: the stream publishes, the server reads */
    rtml_served_fn on_served;  /* the log topic's writer, or NULL */
    void *ctx;
} rtml_server_opts;

/* The statuses counted per request. */
#define RTML_SERVE_STATUSES {200, 400, 401, 404, 405, 408, 413, 500, 503}
#define RTML_SERVE_N_STATUS 9
/* Request latency buckets, seconds (from the request line to the queued answer). */
#define RTML_SERVE_LATENCY_BOUNDS {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1}
#define RTML_SERVE_N_BUCKETS 10

typedef struct {
    uint64_t requests[RTML_SERVE_N_STATUS]; /* by status, in RTML_SERVE_STATUSES order */
    uint64_t records;                       /* records answered */
    uint64_t closed_slow;                   /* connections closed by the reaper (request_time / idle) */
    uint64_t connections;                   /* open now */
    uint64_t latency[RTML_SERVE_N_BUCKETS + 1]; /* cumulative counts per bucket, then +Inf */
    double latency_sum;
    uint64_t loads, load_failures;          /* snapshots loaded into scorers */
} rtml_server_stats;

/* Read the TLS files and the tokens, open the scorers, listen. NULL with the reason. */
rtml_server *rtml_server_start(const rtml_server_opts *o, char *err, size_t errlen);
int rtml_server_port(const rtml_server *s);
void rtml_server_stats_get(rtml_server *s, rtml_server_stats *out);
/* Stop listening, join every thread, wipe the key, free everything. NULL is fine. */
void rtml_server_stop(rtml_server *s);

#endif
