/* test_http_client.c — the small HTTP client behind `rtml top` (src/http_client.c), and the dashboard
 * asset table it reads from a running rtml (src/web.h):
 *   - URL parsing: defaults, IPv6 literals, bad schemes, hosts and ports;
 *   - response parsing fed every prefix of a message: Content-Length, chunked (with extensions and
 *     trailers), read-to-close, 204, malformed input;
 *   - real sockets against a server thread on 127.0.0.1: a chunked answer written in pieces, a refused
 *     connection, and a server that never answers (the deadline must hold);
 *   - rtml_web_find: "/" is index.html, content types, query strings ignored, unknown paths NULL. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli/http_client.h"
#include "monitor/web.h"

/* ---- URLs ------------------------------------------------------------------------------------------- */

static void test_url_parse(void) {
    rtml_url u;
    char err[128];
    CHECK_EQ_INT(rtml_url_parse("http://127.0.0.1:9464", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_STR(u.port, "9464");
    CHECK_STR(u.path, "/");
    CHECK_EQ_INT(rtml_url_parse("HTTP://localhost/api/stats?x=1#frag", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "localhost");
    CHECK_STR(u.port, "80");
    CHECK_STR(u.path, "/api/stats?x=1");
    CHECK_EQ_INT(rtml_url_parse("http://[::1]:8080/m", &u, err, sizeof err), 0);
    CHECK_STR(u.host, "::1");
    CHECK_STR(u.port, "8080");
    CHECK_STR(u.path, "/m");
    CHECK_EQ_INT(rtml_url_parse("http://h?q", &u, err, sizeof err), 0);
    CHECK_STR(u.path, "/?q");
    const char *bad[] = {"", "127.0.0.1:9464", "https://h/", "ftp://h", "http://", "http://:80/", "http://h:0",
                         "http://h:65536", "http://h:12x", "http://h:/", "http://[::1", "http://[::1]x/",
                         "http://a b/", "http://h/a b", "http://us@er/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int r = rtml_url_parse(bad[i], &u, err, sizeof err);
        CHECK_EQ_INT(r, -1);
        CHECK(err[0] != '\0');
        if (r == 0) fprintf(stderr, "  accepted bad URL '%s'\n", bad[i]);
    }
    CHECK_EQ_INT(rtml_url_parse(NULL, &u, err, sizeof err), -1);
}

/* ---- parsing responses ------------------------------------------------------------------------------ */

/* Every strict prefix of msg is incomplete (0), the whole is complete (1) with the expected body. */
static void check_prefixes(const char *msg, int status, const char *body) {
    size_t n = strlen(msg);
    rtml_http_response r;
    char err[128];
    int early = 0;
    for (size_t k = 0; k < n; k++) {
        int got = rtml_http_parse_response(msg, k, 0, &r, err, sizeof err);
        if (got != 0) {
            early++;
            fprintf(stderr, "  prefix %zu of %zu: %d (%s)\n", k, n, got, got < 0 ? err : "complete");
        }
        rtml_http_response_free(&r);
    }
    CHECK_EQ_INT(early, 0);
    CHECK_EQ_INT(rtml_http_parse_response(msg, n, 0, &r, err, sizeof err), 1);
    CHECK_EQ_INT(r.status, status);
    CHECK_STR(r.body, body);
    CHECK_EQ_INT(r.len, strlen(body));
    rtml_http_response_free(&r);
}

static void test_parse_complete(void) {
    check_prefixes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}",
                   200, "{\"a\":[1,2]}");
    check_prefixes("HTTP/1.1 200 OK\r\ncontent-length:0\r\n\r\n", 200, "");
    check_prefixes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n1;ext=1\r\n \r\nB\r\nworld, 0123\r\n0\r\nX-Trailer: t\r\n\r\n",
                   200, "hello world, 0123");
    check_prefixes("HTTP/1.0 404 Not Found\r\nTRANSFER-ENCODING: gzip, Chunked\r\n\r\n3\r\nnot\r\n0\r\n\r\n",
                   404, "not");
    check_prefixes("HTTP/1.1 204 No Content\r\n\r\n", 204, "");
}

static void test_parse_eof_and_errors(void) {
    rtml_http_response r;
    char err[128];
    const char *close_delimited = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close";
    CHECK_EQ_INT(rtml_http_parse_response(close_delimited, strlen(close_delimited), 0, &r, err, sizeof err), 0);
    CHECK_EQ_INT(rtml_http_parse_response(close_delimited, strlen(close_delimited), 1, &r, err, sizeof err), 1);
    CHECK_STR(r.body, "until close");
    rtml_http_response_free(&r);
    const char *truncated = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    CHECK_EQ_INT(rtml_http_parse_response(truncated, strlen(truncated), 1, &r, err, sizeof err), -1);
    CHECK(strstr(err, "truncated") != NULL);
    const char *bad[] = {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 020 OK\r\nContent-Length: 0\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nContent-Length: \n\n\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nabcde",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\n\n5\r\nhello\r\n0\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(rtml_http_parse_response(bad[i], strlen(bad[i]), 0, &r, err, sizeof err), -1);
        CHECK(r.body == NULL);
    }
    CHECK_EQ_INT(rtml_http_parse_response("", 0, 1, &r, err, sizeof err), -1);
    CHECK_STR(err, "empty response");
    const char *unterminated = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";
    CHECK_EQ_INT(rtml_http_parse_response(unterminated, strlen(unterminated), 1, &r, err, sizeof err), -1);
}

/* ---- real sockets ----------------------------------------------------------------------------------- */

typedef struct {
    int listener;
    int mode; /* 0: answer in pieces, 1: accept and say nothing until the client gives up */
    char request[2048];
} server;

static void *serve_one(void *arg) {
    server *s = arg;
    int fd = accept(s->listener, NULL, NULL);
    if (fd < 0) return NULL;
    ssize_t n = recv(fd, s->request, sizeof s->request - 1, 0);
    s->request[n > 0 ? n : 0] = '\0';
    if (s->mode == 0) {
        const char *pieces[] = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n",
                                "\r\n4\r\n{\"a\"", "\r\n", "3\r\n:1}\r\n0\r\n\r\n"};
        for (size_t i = 0; i < 4; i++) {
            if (send(fd, pieces[i], strlen(pieces[i]), MSG_NOSIGNAL) < 0) break;
            nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL); /* force separate reads */
        }
        /* keep-alive: the client must stop at the end of the message, not wait for the close */
        char c;
        (void)recv(fd, &c, 1, 0);
    } else {
        char c;
        (void)recv(fd, &c, 1, 0); /* returns when the client closes after its deadline */
    }
    close(fd);
    return NULL;
}

/* A listening socket on 127.0.0.1 with an ephemeral port, written into url. */
static int listen_local(rtml_url *url) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    char text[64];
    snprintf(text, sizeof text, "http://127.0.0.1:%d/api/stats", ntohs(a.sin_port));
    char err[64];
    if (rtml_url_parse(text, url, err, sizeof err) != 0) return -1;
    return fd;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_get_chunked_keepalive(void) {
    server s = {.mode = 0};
    rtml_url url;
    s.listener = listen_local(&url);
    CHECK(s.listener >= 0);
    pthread_t th;
    pthread_create(&th, NULL, serve_one, &s);
    rtml_http_response r;
    char err[128] = "";
    double t0 = now_s();
    CHECK_EQ_INT(rtml_http_get(&url, 5, &r, err, sizeof err), 0);
    CHECK(now_s() - t0 < 4); /* finished at the end of the message, not at the deadline */
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR(r.body, "{\"a\":1}");
    rtml_http_response_free(&r);
    pthread_join(th, NULL);
    CHECK(strncmp(s.request, "GET /api/stats HTTP/1.1\r\n", 25) == 0);
    CHECK(strstr(s.request, "\r\nHost: 127.0.0.1:") != NULL);
    CHECK(strstr(s.request, "\r\nConnection: close\r\n\r\n") != NULL);
    close(s.listener);
}

static void test_get_timeout(void) {
    server s = {.mode = 1};
    rtml_url url;
    s.listener = listen_local(&url);
    CHECK(s.listener >= 0);
    pthread_t th;
    pthread_create(&th, NULL, serve_one, &s);
    rtml_http_response r;
    char err[128] = "";
    double t0 = now_s();
    CHECK_EQ_INT(rtml_http_get(&url, 0.3, &r, err, sizeof err), -1);
    double took = now_s() - t0;
    CHECK(took >= 0.25 && took < 2.0);
    CHECK(strstr(err, "timed out") != NULL);
    CHECK(r.body == NULL);
    pthread_join(th, NULL);
    close(s.listener);
}

static void test_get_refused(void) {
    rtml_url url;
    int fd = listen_local(&url);
    CHECK(fd >= 0);
    close(fd); /* nothing listens there any more */
    rtml_http_response r;
    char err[128] = "";
    CHECK_EQ_INT(rtml_http_get(&url, 2, &r, err, sizeof err), -1);
    CHECK_STR(err, "Connection refused");
    rtml_url unknown;
    CHECK_EQ_INT(rtml_url_parse("http://no-such-host.invalid:1/", &unknown, err, sizeof err), 0);
    CHECK_EQ_INT(rtml_http_get(&unknown, 2, &r, err, sizeof err), -1);
    CHECK(strstr(err, "cannot resolve") != NULL);
}

/* ---- the embedded dashboard ------------------------------------------------------------------------- */

static int contains(const unsigned char *data, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, needle, n) == 0) return 1;
    return 0;
}

static void test_web_find(void) {
    const rtml_web_asset *index = rtml_web_find("/");
    CHECK(index != NULL);
    if (!index) return;
    CHECK_STR(index->path, "/index.html");
    CHECK(strncmp(index->content_type, "text/html", 9) == 0);
    CHECK(index->len > 100 && contains(index->data, index->len, "dashboard.js"));
    CHECK(rtml_web_find("/index.html") == index);
    CHECK(rtml_web_find("/?refresh=1") == index);
    const rtml_web_asset *js = rtml_web_find("/dashboard.js");
    CHECK(js && strncmp(js->content_type, "text/javascript", 15) == 0);
    const rtml_web_asset *css = rtml_web_find("/dashboard.css");
    CHECK(css && strncmp(css->content_type, "text/css", 8) == 0);
    CHECK(rtml_web_find("/nope.html") == NULL);
    CHECK(rtml_web_find("/index.htm") == NULL);
    CHECK(rtml_web_find("index.html") == NULL);
    CHECK(rtml_web_find("/../index.html") == NULL);
    CHECK(rtml_web_find("") == NULL);
    CHECK(rtml_web_find(NULL) == NULL);
}

int main(void) {
    test_url_parse();
    test_parse_complete();
    test_parse_eof_and_errors();
    test_get_chunked_keepalive();
    test_get_timeout();
    test_get_refused();
    test_web_find();
    return check_exit("test_http_client");
}
