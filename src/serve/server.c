/* server.c — the Open Inference Protocol endpoint over libmicrohttpd (server.h). */
#include "serve/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/listen.h"
#include "base/log.h"
#include "base/rtml.h"
#include "serve/oip.h"
#include "serve/pool.h"
#include "serve/tokens.h"

#define HARD_EXTRA_CONNECTIONS 32 /* libmicrohttpd closes connections past limit + this without a word */
#define REAP_EVERY_S 0.05

/* A connection, from libmicrohttpd's notification of its start to that of its end (which comes before its socket
 * is closed, so the reaper never touches a socket number reused by another connection). */
typedef struct conn {
    struct conn *prev, *next;
    int fd;
    double since;     /* when its current deadline started: connect, request line, previous answer */
    double budget;    /* seconds it has from since */
    atomic_int busy;  /* a complete request is being answered: never reaped */
    int over;         /* past serve.limits.connections: answered 503 */
    int reaped;
} conn;

typedef enum { R_NONE = 0, R_LIVE, R_READY, R_SERVER, R_MODEL, R_MODEL_READY, R_INFER } route;

typedef struct {
    conn *c;
    double started;   /* the request line */
    route r;
    int refuse;       /* a status decided before the body ended (413 for a chunked body, 408) */
    char why[RTML_ERRLEN];
    rtml_buf body;
    int headers_seen;
} request;

struct rtml_server {
    const rtml_config *cfg;
    rtml_snapshots *snaps;
    rtml_pool *pool;
    rtml_infer_env env;
    rtml_tokens *tokens;
    char *cert, *key;
    size_t cert_len, key_len;
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t conn_lock; /* guards the list and each conn's since/budget/reaped */
    conn *conns;
    atomic_size_t n_conns; /* written under conn_lock, read without it (metrics) */
    pthread_t reaper;
    int reaper_started;
    atomic_int stopping;
    _Atomic uint64_t by_status[RTML_SERVE_N_STATUS], records, closed_slow, latency[RTML_SERVE_N_BUCKETS + 1];
    _Atomic uint64_t latency_us;
};

static const unsigned STATUSES[] = RTML_SERVE_STATUSES;
static const double BOUNDS[] = RTML_SERVE_LATENCY_BOUNDS;

/* ---- responses ------------------------------------------------------------------------------------------ */

static void count(rtml_server *s, unsigned status, double started) {
    for (size_t i = 0; i < RTML_SERVE_N_STATUS; i++)
        if (STATUSES[i] == status) atomic_fetch_add(&s->by_status[i], 1);
    double t = rtml_now() - started;
    size_t b = 0;
    while (b < RTML_SERVE_N_BUCKETS && t > BOUNDS[b]) b++;
    atomic_fetch_add(&s->latency[b], 1);
    atomic_fetch_add(&s->latency_us, (uint64_t)(t * 1e6));
}

/* Queue body (taken: its memory goes to libmicrohttpd) with status; extra headers as name/value pairs. */
static enum MHD_Result respond(rtml_server *s, struct MHD_Connection *c, request *rq, unsigned status, rtml_buf *body,
                               const char *const *headers) {
    struct MHD_Response *r = body->len ? MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE)
                                       : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    if (body->len) *body = (rtml_buf)RTML_BUF_INIT;
    else rtml_buf_free(body);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    for (size_t i = 0; headers && headers[i]; i += 2) MHD_add_response_header(r, headers[i], headers[i + 1]);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    count(s, status, rq->started);
    return ret;
}

static enum MHD_Result respond_error(rtml_server *s, struct MHD_Connection *c, request *rq, unsigned status,
                                     const char *msg, const char *const *headers) {
    rtml_buf b = RTML_BUF_INIT;
    rtml_oip_error(&b, msg);
    return respond(s, c, rq, status, &b, headers);
}

static enum MHD_Result respond_empty(rtml_server *s, struct MHD_Connection *c, request *rq, unsigned status) {
    rtml_buf b = RTML_BUF_INIT;
    return respond(s, c, rq, status, &b, NULL);
}

/* ---- routes ----------------------------------------------------------------------------------------------- */

/* /v2/models/NAME[/versions/V][/ready|/infer]: the route, with *version pointing at V (or NULL). */
static route model_route(const rtml_server *s, const char *rest, const char **version, size_t *vlen) {
    const char *name = s->cfg->serve.name;
    size_t n = strlen(name);
    if (strncmp(rest, name, n) != 0 || (rest[n] && rest[n] != '/')) return R_NONE;
    rest += n;
    *version = NULL;
    if (!strncmp(rest, "/versions/", 10)) {
        *version = rest + 10;
        *vlen = strcspn(*version, "/");
        if (!*vlen) return R_NONE;
        rest = *version + *vlen;
    }
    if (!*rest) return R_MODEL;
    if (!strcmp(rest, "/ready")) return R_MODEL_READY;
    if (!strcmp(rest, "/infer")) return R_INFER;
    return R_NONE;
}

static route find_route(const rtml_server *s, const char *url, const char **version, size_t *vlen) {
    *version = NULL;
    if (!strcmp(url, "/v2/health/live")) return R_LIVE;
    if (!strcmp(url, "/v2/health/ready")) return R_READY;
    if (!strcmp(url, "/v2") || !strcmp(url, "/v2/")) return R_SERVER;
    if (!strncmp(url, "/v2/models/", 11)) return model_route(s, url + 11, version, vlen);
    return R_NONE;
}

/* 0 when the request may go on; else the refusal was queued (401). */
static int authorized(rtml_server *s, struct MHD_Connection *c, request *rq, enum MHD_Result *ret) {
    if (!s->tokens || ((rq->r == R_LIVE || rq->r == R_READY) && s->cfg->serve.open_health)) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok;
    size_t len;
    if (!h || !rtml_bearer_token(h, &tok, &len)) {
        static const char *const hdr[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"rtml\"", NULL};
        *ret = respond_error(s, c, rq, 401, "a bearer token is required (Authorization: Bearer TOKEN)", hdr);
        return 0;
    }
    if (!rtml_tokens_check(s->tokens, tok, len)) {
        static const char *const hdr[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                          "Bearer realm=\"rtml\", error=\"invalid_token\"", NULL};
        *ret = respond_error(s, c, rq, 401, "the bearer token is not valid", hdr);
        return 0;
    }
    return 1;
}

/* ---- answers ---------------------------------------------------------------------------------------------- */

static enum MHD_Result answer_server(rtml_server *s, struct MHD_Connection *c, request *rq) {
    rtml_buf b = RTML_BUF_INIT;
    rtml_buf_printf(&b, "{\"name\":\"rtml\",\"version\":\"%s\",\"extensions\":[\"binary_tensor_data\"]}", RTML_VERSION);
    return respond(s, c, rq, 200, &b, NULL);
}

static enum MHD_Result answer_infer(rtml_server *s, struct MHD_Connection *c, request *rq, rtml_pooled *p) {
    const char *hl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    long header_len = hl ? strtol(hl, NULL, 10) : -1;
    rtml_oip_limits lim = {s->cfg->serve.max_records, rtml_scorer_shape(p->scorer).n_inputs};
    rtml_oip_request req;
    rtml_buf out = RTML_BUF_INIT;
    int status = rtml_oip_parse(rq->body.data ? rq->body.data : "", rq->body.len, hl && header_len >= 0 ? header_len : -1,
                                &lim, &req, rq->why, sizeof rq->why);
    if (status == 0) status = rtml_infer(&s->env, p, &req, rtml_now(), &out, rq->why, sizeof rq->why);
    if (status == 200) atomic_fetch_add(&s->records, req.n);
    rtml_oip_request_free(&req);
    rtml_pool_give(s->pool, p);
    if (status != 200) {
        rtml_buf_free(&out);
        return respond_error(s, c, rq, (unsigned)status, rq->why, NULL);
    }
    return respond(s, c, rq, 200, &out, NULL);
}

/* A model route once the request is whole: its version checked, then answered. */
static enum MHD_Result answer_model(rtml_server *s, struct MHD_Connection *c, request *rq, const char *url) {
    rtml_pooled *p = rtml_pool_take(s->pool);
    if (!p)
        return rq->r == R_MODEL_READY ? respond_empty(s, c, rq, 400)
                                      : respond_error(s, c, rq, 503, "the model is not loaded yet", NULL);
    const char *v;
    size_t vlen = 0;
    find_route(s, url, &v, &vlen);
    char have[32];
    snprintf(have, sizeof have, "%lld", (long long)rtml_scorer_info_of(p->scorer).model_version);
    if (v && (vlen != strlen(have) || strncmp(v, have, vlen) != 0)) {
        rtml_pool_give(s->pool, p);
        snprintf(rq->why, sizeof rq->why, "version %.*s of model %s is not served (the live one is %s)", (int)(vlen > 64 ? 64 : vlen),
                 v, s->cfg->serve.name, have);
        return rq->r == R_MODEL_READY ? respond_empty(s, c, rq, 400) : respond_error(s, c, rq, 404, rq->why, NULL);
    }
    if (rq->r == R_INFER) return answer_infer(s, c, rq, p);
    rtml_buf b = RTML_BUF_INIT;
    if (rq->r == R_MODEL) rtml_infer_metadata(s->cfg, p, &b);
    rtml_pool_give(s->pool, p);
    return respond(s, c, rq, 200, &b, NULL);
}

static enum MHD_Result answer(rtml_server *s, struct MHD_Connection *c, request *rq, const char *url) {
    if (rq->refuse) {
        unsigned st = (unsigned)rq->refuse;
        return respond_error(s, c, rq, st, rq->why, NULL);
    }
    switch (rq->r) {
    case R_LIVE: return respond_empty(s, c, rq, 200);
    case R_READY: {
        rtml_pooled *p = rtml_pool_take(s->pool);
        if (p) rtml_pool_give(s->pool, p);
        return respond_empty(s, c, rq, p ? 200 : 400);
    }
    case R_SERVER: return answer_server(s, c, rq);
    default: return answer_model(s, c, rq, url);
    }
}

/* ---- the access handler --------------------------------------------------------------------------------- */

/* The first call, headers read: refusals that need no body. 1 when the request goes on. */
static int admit(rtml_server *s, struct MHD_Connection *c, request *rq, const char *url, const char *method,
                 enum MHD_Result *ret) {
    const char *v;
    size_t vlen;
    rq->r = find_route(s, url, &v, &vlen);
    if (rq->c && rq->c->over) {
        static const char *const hdr[] = {MHD_HTTP_HEADER_CONNECTION, "close", NULL};
        *ret = respond_error(s, c, rq, 503, "too many connections (serve.limits.connections)", hdr);
        return 0;
    }
    if (!authorized(s, c, rq, ret)) return 0;
    if (rq->r == R_NONE) {
        *ret = respond_error(s, c, rq, 404, "not found (the paths are /v2/health/live, /v2/health/ready, /v2, "
                             "/v2/models/NAME[/versions/V][/ready|/infer])", NULL);
        return 0;
    }
    int post = rq->r == R_INFER;
    if (strcmp(method, post ? "POST" : "GET") != 0 && (post || strcmp(method, "HEAD") != 0)) {
        static const char *const get[] = {MHD_HTTP_HEADER_ALLOW, "GET, HEAD", NULL}, *const pst[] = {MHD_HTTP_HEADER_ALLOW, "POST", NULL};
        *ret = respond_error(s, c, rq, 405, post ? "infer takes POST" : "this path takes GET", post ? pst : get);
        return 0;
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->cfg->serve.max_body_bytes) {
        snprintf(rq->why, sizeof rq->why, "a body of %s bytes is over the limit of %zu (serve.limits.body_bytes)", cl,
                 s->cfg->serve.max_body_bytes);
        *ret = respond_error(s, c, rq, 413, rq->why, NULL);
        return 0;
    }
    return 1;
}

/* A piece of the body: kept while under the limit, else dropped and the request refused at its end. */
static void take_body(rtml_server *s, request *rq, const char *data, size_t len) {
    if (rq->refuse) return;
    if (rtml_now() - rq->started > s->cfg->serve.request_timeout_s) {
        rq->refuse = 408;
        snprintf(rq->why, sizeof rq->why, "the request took longer than %g s (serve.limits.request_time)",
                 s->cfg->serve.request_timeout_s);
    } else if (rq->body.len + len > s->cfg->serve.max_body_bytes) {
        rq->refuse = 413;
        snprintf(rq->why, sizeof rq->why, "the body is over the limit of %zu bytes (serve.limits.body_bytes)",
                 s->cfg->serve.max_body_bytes);
    }
    if (rq->refuse) rtml_buf_free(&rq->body);
    else rtml_buf_append(&rq->body, data, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state) {
    rtml_server *s = cls;
    request *rq = *state;
    if (!rq) return MHD_NO; /* the URI callback made it; out of memory there */
    enum MHD_Result ret = MHD_YES;
    if (!rq->headers_seen) {
        rq->headers_seen = 1;
        return admit(s, c, rq, url, method, &ret) ? MHD_YES : ret;
    }
    if (*upload_size) {
        take_body(s, rq, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!rq->refuse && rtml_now() - rq->started > s->cfg->serve.request_timeout_s) {
        rq->refuse = 408;
        snprintf(rq->why, sizeof rq->why, "the request took longer than %g s (serve.limits.request_time)",
                 s->cfg->serve.request_timeout_s);
    }
    if (rq->c) atomic_store(&rq->c->busy, 1);
    ret = answer(s, c, rq, url);
    if (rq->c) atomic_store(&rq->c->busy, 0);
    return ret;
}

/* ---- connections and their deadlines ------------------------------------------------------------------------ */

static conn *conn_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

static void set_deadline(rtml_server *s, conn *k, double budget) {
    pthread_mutex_lock(&s->conn_lock);
    k->since = rtml_now();
    k->budget = budget;
    pthread_mutex_unlock(&s->conn_lock);
}

/* The request line: the request exists from here, and must be whole within request_time. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    rtml_server *s = cls;
    request *rq = calloc(1, sizeof *rq);
    if (!rq) return NULL;
    rq->started = rtml_now();
    rq->c = conn_of(c);
    if (rq->c) set_deadline(s, rq->c, s->cfg->serve.request_timeout_s);
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why) {
    rtml_server *s = cls;
    request *rq = *state;
    conn *k = conn_of(c);
    if (k) set_deadline(s, k, s->cfg->serve.idle_timeout_s + s->cfg->serve.request_timeout_s);
    if (!rq) return;
    rtml_buf_free(&rq->body);
    free(rq);
    *state = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_ConnectionNotificationCode what) {
    rtml_server *s = cls;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        conn *k = calloc(1, sizeof *k);
        if (!k) return;
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k->fd = fd ? fd->connect_fd : -1;
        k->since = rtml_now();
        k->budget = s->cfg->serve.idle_timeout_s + s->cfg->serve.request_timeout_s;
        pthread_mutex_lock(&s->conn_lock);
        k->over = atomic_fetch_add(&s->n_conns, 1) + 1 > s->cfg->serve.max_connections;
        k->next = s->conns;
        if (s->conns) s->conns->prev = k;
        s->conns = k;
        pthread_mutex_unlock(&s->conn_lock);
        *ctx = k;
        return;
    }
    conn *k = *ctx;
    if (!k) return;
    pthread_mutex_lock(&s->conn_lock);
    if (k->prev) k->prev->next = k->next;
    else s->conns = k->next;
    if (k->next) k->next->prev = k->prev;
    atomic_fetch_sub(&s->n_conns, 1);
    pthread_mutex_unlock(&s->conn_lock);
    free(k);
    *ctx = NULL;
}

/* Close (shut down: libmicrohttpd then closes it as a dead peer) every connection past its deadline. */
static void reap(rtml_server *s) {
    double now = rtml_now();
    pthread_mutex_lock(&s->conn_lock);
    for (conn *k = s->conns; k; k = k->next) {
        if (k->reaped || k->fd < 0 || atomic_load(&k->busy) || now - k->since <= k->budget) continue;
        k->reaped = 1;
        shutdown(k->fd, SHUT_RDWR);
        atomic_fetch_add(&s->closed_slow, 1);
    }
    pthread_mutex_unlock(&s->conn_lock);
}

static void *reaper_main(void *arg) {
    rtml_server *s = arg;
    struct timespec tick = {0, (long)(REAP_EVERY_S * 1e9)};
    while (!atomic_load(&s->stopping)) {
        reap(s);
        nanosleep(&tick, NULL);
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------------------- */

static int read_tls(rtml_server *s, char *err, size_t errlen) {
    const rtml_config *cfg = s->cfg;
    if (!cfg->serve.tls_cert) return 0;
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
        return rtml_fail(err, errlen, "serve.tls: this libmicrohttpd was built without TLS");
    char why[RTML_ERRLEN];
    if (!(s->cert = rtml_secret_read(cfg->serve.tls_cert, "serve.tls.cert", &s->cert_len, why, sizeof why)))
        return rtml_fail(err, errlen, "serve.tls.cert %s: %s", cfg->serve.tls_cert, why);
    if (!(s->key = rtml_secret_read(cfg->serve.tls_key, "serve.tls.key", &s->key_len, why, sizeof why)))
        return rtml_fail(err, errlen, "serve.tls.key %s: %s", cfg->serve.tls_key, why);
    return 0;
}

static int listen_on(rtml_server *s, char *err, size_t errlen) {
    const rtml_config *cfg = s->cfg;
    struct addrinfo *ai = rtml_listen_resolve(cfg->serve.listen, "serve.listen", err, errlen);
    if (!ai) return -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                     (s->cert ? MHD_USE_TLS : 0);
    unsigned limit = (unsigned)cfg->serve.max_connections + HARD_EXTRA_CONNECTIONS;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->serve.threads, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(cfg->serve.idle_timeout_s + 0.5), MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert, MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon)
        return rtml_fail(err, errlen, "serve.listen '%s': cannot listen there (address in use, not this host's, or a "
                         "TLS certificate and key that do not load)", cfg->serve.listen);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return 0;
}

/* Generated request ids: 16 random hex digits, then a counter. */
static void id_prefix(char *out, size_t cap) {
    unsigned char r[8] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(r, 1, sizeof r, f) != sizeof r) {
        uint64_t t = (uint64_t)(rtml_wall_time() * 1e9) ^ (uint64_t)getpid() << 32;
        memcpy(r, &t, sizeof r);
    }
    if (f) fclose(f);
    snprintf(out, cap, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

rtml_server *rtml_server_start(const rtml_server_opts *o, char *err, size_t errlen) {
    rtml_server *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory"), NULL;
    s->cfg = o->cfg;
    s->snaps = o->snapshots;
    s->env = (rtml_infer_env){.cfg = o->cfg, .on_served = o->on_served, .ctx = o->ctx};
    id_prefix(s->env.id_prefix, sizeof s->env.id_prefix);
    pthread_mutex_init(&s->conn_lock, NULL);
    const rtml_config *cfg = o->cfg;
    if (cfg->serve.tokens_file && !(s->tokens = rtml_tokens_load(cfg->serve.tokens_file, err, errlen))) goto fail;
    if (read_tls(s, err, errlen) != 0) goto fail;
    if (!(s->pool = rtml_pool_open(cfg, s->snaps, cfg->serve.threads + 1, err, errlen))) goto fail;
    if (listen_on(s, err, errlen) != 0) goto fail;
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        rtml_fail(err, errlen, "cannot start the serve reaper thread");
        goto fail;
    }
    s->reaper_started = 1;
    return s;
fail:
    rtml_server_stop(s);
    return NULL;
}

int rtml_server_port(const rtml_server *s) { return s->port; }

void rtml_server_stats_get(rtml_server *s, rtml_server_stats *out) {
    *out = (rtml_server_stats){0};
    for (size_t i = 0; i < RTML_SERVE_N_STATUS; i++) out->requests[i] = atomic_load(&s->by_status[i]);
    uint64_t cum = 0;
    for (size_t i = 0; i <= RTML_SERVE_N_BUCKETS; i++) out->latency[i] = cum += atomic_load(&s->latency[i]);
    out->latency_sum = (double)atomic_load(&s->latency_us) / 1e6;
    out->records = atomic_load(&s->records);
    out->closed_slow = atomic_load(&s->closed_slow);
    out->connections = atomic_load(&s->n_conns);
    rtml_pool_counts(s->pool, &out->loads, &out->load_failures);
}

void rtml_server_stop(rtml_server *s) {
    if (!s) return;
    atomic_store(&s->stopping, 1);
    if (s->reaper_started) pthread_join(s->reaper, NULL);
    if (s->daemon) MHD_stop_daemon(s->daemon); /* joins its threads; every connection is notified closed */
    rtml_pool_close(s->pool);
    rtml_tokens_free(s->tokens);
    rtml_secret_free(s->key, s->key_len);
    rtml_secret_free(s->cert, s->cert_len);
    pthread_mutex_destroy(&s->conn_lock);
    free(s);
}
