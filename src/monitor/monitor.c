/* monitor.c — the monitor's HTTP server (monitor.h says why documents arrive as snapshots).
 *
 * libmicrohttpd with a thread per connection (at most MAX_CONNECTIONS, each timed out after
 * CONNECTION_TIMEOUT_S): a request may wait up to 250 ms for the loop's next publication, and one waiting
 * request must not hold up another. Only GET and HEAD are served. */
#include "monitor/monitor.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/listen.h"
#include "base/log.h"
#include "base/rtml.h"
#include "monitor/web.h"

#define MAX_CONNECTIONS 64
#define CONNECTION_TIMEOUT_S 10
#define FRESH_WAIT_MS 250

struct rtml_monitor {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock; /* guards docs, generation and published_at */
    pthread_cond_t fresh; /* signalled at each publication */
    rtml_monitor_docs docs;
    unsigned long generation;
    double published_at; /* CLOCK_MONOTONIC seconds; 0 before the first publication */
    double stalled_after; /* seconds without a publication after which /healthz says "stalled" */
    atomic_int wanted;
};

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool rtml_monitor_wanted(rtml_monitor *m) { return atomic_load_explicit(&m->wanted, memory_order_relaxed) != 0; }

int rtml_monitor_port(const rtml_monitor *m) { return m->port; }

void rtml_monitor_publish(rtml_monitor *m, rtml_monitor_docs *d) {
    pthread_mutex_lock(&m->lock);
    rtml_monitor_docs old = m->docs;
    m->docs = *d;
    *d = old; /* the caller renders into the old buffers next time */
    m->generation++;
    m->published_at = mono_now();
    atomic_store(&m->wanted, 0);
    pthread_cond_broadcast(&m->fresh);
    pthread_mutex_unlock(&m->lock);
}

/* Ask the loop for fresh documents and wait for them (or the deadline); called with the lock held. */
static void wait_fresh(rtml_monitor *m) {
    unsigned long gen = m->generation;
    atomic_store(&m->wanted, 1);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += FRESH_WAIT_MS * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    while (m->generation == gen)
        if (pthread_cond_timedwait(&m->fresh, &m->lock, &deadline) != 0) break;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                               size_t len, enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text) {
    return respond(c, status, "text/plain; charset=utf-8", text, strlen(text), MHD_RESPMEM_MUST_COPY);
}

/* A published document, copied under the lock (the loop may swap it right after). */
static enum MHD_Result respond_doc(rtml_monitor *m, struct MHD_Connection *c, size_t which, const char *type) {
    pthread_mutex_lock(&m->lock);
    wait_fresh(m);
    const rtml_buf *b = which == 0 ? &m->docs.metrics : which == 1 ? &m->docs.model : &m->docs.stats;
    enum MHD_Result ret;
    if (m->generation == 0) ret = respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting\n");
    else ret = respond(c, MHD_HTTP_OK, type, b->data ? b->data : "", b->len, MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock(&m->lock);
    return ret;
}

static enum MHD_Result respond_health(rtml_monitor *m, struct MHD_Connection *c, bool readiness) {
    char body[192];
    unsigned status = MHD_HTTP_OK;
    pthread_mutex_lock(&m->lock);
    double age = m->published_at > 0 ? mono_now() - m->published_at : -1;
    if (age < 0) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        snprintf(body, sizeof body, "starting\n");
    } else if (age > m->stalled_after) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        snprintf(body, sizeof body, "stalled: the pipeline loop has not reported for %.0f s\n", age);
    } else if (readiness && !m->docs.ready) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        snprintf(body, sizeof body, "not ready: %s\n", m->docs.ready_reason);
    } else {
        snprintf(body, sizeof body, "ok\n");
    }
    pthread_mutex_unlock(&m->lock);
    return respond_text(c, status, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
    (void)version, (void)upload, (void)upload_size;
    rtml_monitor *m = cls;
    if (!*state) { /* first call: headers only; answer on the second */
        *state = m;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/metrics") == 0) return respond_doc(m, c, 0, "text/plain; version=0.0.4; charset=utf-8");
    if (strcmp(url, "/model") == 0) return respond_doc(m, c, 1, "application/json");
    if (strcmp(url, "/api/stats") == 0) return respond_doc(m, c, 2, "application/json");
    if (strcmp(url, "/healthz") == 0) return respond_health(m, c, false);
    if (strcmp(url, "/readyz") == 0) return respond_health(m, c, true);
    const rtml_web_asset *a = rtml_web_find(url);
    if (a) return respond(c, MHD_HTTP_OK, a->content_type, a->data, a->len, MHD_RESPMEM_PERSISTENT);
    return respond_text(c, MHD_HTTP_NOT_FOUND,
                        "not found (try /, /metrics, /healthz, /readyz, /model or /api/stats)\n");
}

rtml_monitor *rtml_monitor_start(const char *listen, double stalled_after, char *err, size_t errlen) {
    rtml_monitor *m = calloc(1, sizeof *m);
    if (!m) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    m->stalled_after = stalled_after;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->fresh, NULL);
    struct addrinfo *ai = rtml_listen_resolve(listen, "monitor.listen", err, errlen);
    if (!ai) {
        rtml_monitor_stop(m);
        return NULL;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* The port is in the address; MHD's own port argument is ignored with MHD_OPTION_SOCK_ADDR. */
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!m->daemon) {
        rtml_fail(err, errlen, "monitor.listen '%s': cannot listen there (address in use, or not this host's)",
                  listen);
        rtml_monitor_stop(m);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    return m;
}

void rtml_monitor_stop(rtml_monitor *m) {
    if (!m) return;
    if (m->daemon) MHD_stop_daemon(m->daemon); /* joins every connection thread */
    pthread_cond_destroy(&m->fresh);
    pthread_mutex_destroy(&m->lock);
    rtml_buf_free(&m->docs.metrics);
    rtml_buf_free(&m->docs.model);
    rtml_buf_free(&m->docs.stats);
    free(m);
}
