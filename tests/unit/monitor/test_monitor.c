/* test_monitor.c — the monitor's HTTP server (monitor.c) on its own, through real sockets:
 * "starting" before the first publication, the published documents served as published, readiness with its
 * reason, a request that waits for (and gets) the loop's next publication, buffers handed back by the swap,
 * 404 for unknown paths, "stalled" once the loop stops publishing, and the errors of a port in use and an
 * unknown host. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli/http_client.h"
#include "monitor/monitor.h"
#include "base/rtml.h"

static int get(int port, const char *path, rtml_http_response *resp) {
    rtml_url url;
    char text[128], err[256];
    snprintf(text, sizeof text, "http://127.0.0.1:%d%s", port, path);
    if (rtml_url_parse(text, &url, err, sizeof err) != 0) return -1;
    int rc = rtml_http_get(&url, 5, resp, err, sizeof err);
    if (rc != 0) fprintf(stderr, "GET %s: %s\n", path, err);
    return rc;
}

static void expect(int port, const char *path, int status, const char *body) {
    rtml_http_response r = {0};
    CHECK(get(port, path, &r) == 0);
    CHECK_EQ_INT(r.status, status);
    if (body) CHECK_STR(r.body, body);
    rtml_http_response_free(&r);
}

static void publish(rtml_monitor *m, const char *metrics, bool ready, const char *reason) {
    rtml_monitor_docs d = {0};
    rtml_buf_puts(&d.metrics, metrics);
    rtml_buf_puts(&d.model, "{\"version\":1}");
    rtml_buf_puts(&d.stats, "{}");
    d.ready = ready;
    snprintf(d.ready_reason, sizeof d.ready_reason, "%s", reason);
    rtml_monitor_publish(m, &d);
    rtml_buf_free(&d.metrics);
    rtml_buf_free(&d.model);
    rtml_buf_free(&d.stats);
}

typedef struct {
    int port;
    rtml_http_response resp;
} fetch;

static void *fetch_metrics(void *arg) {
    fetch *f = arg;
    get(f->port, "/metrics", &f->resp);
    return NULL;
}

/* A request raises `wanted`; the loop publishes; the request answers with that publication. */
static void test_fresh(rtml_monitor *m, int port) {
    fetch f = {port, {0}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fetch_metrics, &f) == 0);
    for (int i = 0; i < 2000 && !rtml_monitor_wanted(m); i++) usleep(1000);
    CHECK(rtml_monitor_wanted(m));
    publish(m, "fresh 2\n", true, "ok");
    CHECK(!rtml_monitor_wanted(m));
    pthread_join(t, NULL);
    CHECK_EQ_INT(f.resp.status, 200);
    CHECK_STR(f.resp.body, "fresh 2\n");
    rtml_http_response_free(&f.resp);
}

/* publish swaps: the caller gets back the previously published buffers to render into. */
static void test_swap(rtml_monitor *m) {
    rtml_monitor_docs d = {0};
    rtml_buf_puts(&d.metrics, "swap 3\n");
    rtml_monitor_publish(m, &d);
    CHECK_STR(d.metrics.data, "fresh 2\n");
    rtml_buf_free(&d.metrics);
    rtml_buf_free(&d.model);
    rtml_buf_free(&d.stats);
}

static void test_errors(int port) {
    char err[256], listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    CHECK(rtml_monitor_start(listen, 30, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot listen") != NULL);
    CHECK(rtml_monitor_start("no-such-host.invalid:0", 30, err, sizeof err) == NULL);
    CHECK(strstr(err, "no-such-host.invalid") != NULL);
    CHECK(rtml_monitor_start("9464", 30, err, sizeof err) == NULL);
    rtml_monitor_stop(NULL);
}

/* A loop that stops publishing: /healthz turns to 503 "stalled" (polled, with a deadline). */
static void test_stalled(void) {
    char err[256];
    rtml_monitor *m = rtml_monitor_start("127.0.0.1:0", 0.3, err, sizeof err);
    CHECK(m != NULL);
    if (!m) return;
    int port = rtml_monitor_port(m);
    publish(m, "x 1\n", true, "ok");
    expect(port, "/healthz", 200, "ok\n");
    int stalled = 0;
    for (int i = 0; i < 500 && !stalled; i++) { /* up to 5 s */
        rtml_http_response r = {0};
        if (get(port, "/healthz", &r) == 0 && r.status == 503 && strncmp(r.body, "stalled: ", 9) == 0) stalled = 1;
        rtml_http_response_free(&r);
        if (!stalled) usleep(10000);
    }
    CHECK(stalled);
    publish(m, "x 2\n", true, "ok");
    expect(port, "/healthz", 200, "ok\n");
    rtml_monitor_stop(m);
}

int main(void) {
    char err[256];
    test_stalled();
    rtml_monitor *m = rtml_monitor_start("127.0.0.1:0", 30, err, sizeof err);
    CHECK(m != NULL);
    if (!m) {
        fprintf(stderr, "start: %s\n", err);
        return check_exit("test_monitor");
    }
    int port = rtml_monitor_port(m);
    CHECK(port > 0);
    expect(port, "/healthz", 503, "starting\n");
    expect(port, "/metrics", 503, "starting\n"); /* waited 250 ms for a publication that did not come */
    CHECK(rtml_monitor_wanted(m));
    publish(m, "a 1\n", false, "no input partition assigned yet");
    expect(port, "/healthz", 200, "ok\n");
    expect(port, "/readyz", 503, "not ready: no input partition assigned yet\n");
    expect(port, "/metrics", 200, "a 1\n");
    expect(port, "/model", 200, "{\"version\":1}");
    expect(port, "/api/stats", 200, "{}");
    expect(port, "/no-such-page", 404, NULL);
    test_fresh(m, port);
    expect(port, "/readyz", 200, "ok\n");
    test_swap(m);
    test_errors(port);
    rtml_monitor_stop(m);
    rtml_http_response r = {0};
    CHECK(get(port, "/healthz", &r) != 0); /* closed */
    rtml_http_response_free(&r);
    return check_exit("test_monitor");
}
