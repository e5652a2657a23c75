/* oip_probe.c — an open-loop HTTP load generator for the serve endpoint (tests/serve/load.sh, bench/serve.py).
 *
 *   oip_probe --port P --path /v2/models/NAME/infer --bodies FILE [--rate R] [--count N | --seconds S]
 *             [--connections C] [--token T] [--max-age-ms A]
 * Requests are due at fixed times (t0 + i / R; --rate 0: each connection sends its next one as soon as the
 * previous is answered, closed loop); each is sent on a free keep-alive connection (HTTP/1.1, one request in
 * flight per connection) and its latency runs from when it was due, so a slow server's queueing counts
 * (no coordinated omission). Bodies are the lines of FILE, used in turn. The answer must be 200 with a JSON body;
 * its "snapshot_age_ms" is collected. Prints one JSON line: sent, answered, errors by status, requests/s,
 * latency p50/p99/p99.9/max in ms, the largest snapshot age and how many exceeded --max-age-ms. Exit 0, or 1 when
 * anything failed (a non-200, a closed connection, a time-out of 10 s). Plain C on purpose: a Python client would
 * measure itself. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define BUF 65536

typedef struct {
    int fd, busy;
    char *out;
    size_t out_len, out_at;
    char in[BUF];
    size_t in_len;
    double due;
} conn;

typedef struct {
    int port, conns;
    const char *path, *bodies, *token;
    double rate, seconds, max_age;
    long count;
} opts;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char **lines;
static size_t n_lines;
static double *lat;
static size_t n_lat, errors, statuses[600], age_over;
static double age_max;

static int load_bodies(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (!n) continue;
        lines = realloc(lines, (n_lines + 1) * sizeof *lines);
        lines[n_lines++] = strdup(line);
    }
    free(line);
    fclose(f);
    return n_lines ? 0 : -1;
}

static int connect_one(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void start_request(conn *c, const opts *o, size_t i, double due) {
    const char *body = lines[i % n_lines];
    size_t blen = strlen(body);
    char auth[512] = "";
    if (o->token) snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", o->token);
    free(c->out);
    c->out_len = (size_t)asprintf(&c->out, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                  "%sContent-Length: %zu\r\n\r\n%s", o->path, auth, blen, body);
    c->out_at = 0;
    c->in_len = 0;
    c->busy = 1;
    c->due = due;
}

/* A whole response in c->in: its length, or 0 when more is needed. */
static size_t response_len(const conn *c) {
    const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return 0;
    const char *cl = memmem(c->in, (size_t)(end - c->in), "Content-Length: ", 16);
    size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
    size_t total = (size_t)(end - c->in) + 4 + body;
    return c->in_len >= total ? total : 0;
}

static void answered(conn *c, double max_age) {
    int status = atoi(c->in + 9);
    statuses[status > 0 && status < 600 ? status : 0]++;
    if (status != 200) errors++;
    const char *age = memmem(c->in, c->in_len, "\"snapshot_age_ms\":", 18);
    if (age) {
        double a = strtod(age + 18, NULL);
        if (a > age_max) age_max = a;
        if (max_age > 0 && a > max_age) age_over++;
    }
    lat[n_lat++] = now_s() - c->due;
    c->busy = 0;
}

/* Read what came; 1 when the response is whole, -1 when the connection failed. */
static int on_readable(conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
        if (n > 0) c->in_len += (size_t)n;
        if (n == 0 || (n < 0 && errno != EAGAIN) || c->in_len == sizeof c->in) return -1;
        if (n < 0) return response_len(c) ? 1 : 0;
    }
}

static int flush_out(conn *c) {
    while (c->out_at < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_at, c->out_len - c->out_at);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->out_at += (size_t)n;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double q) { return n_lat ? lat[(size_t)(q * (double)(n_lat - 1))] * 1000 : 0; }

static int parse(int argc, char **argv, opts *o) {
    static const struct option lo[] = {{"port", 1, 0, 'p'}, {"path", 1, 0, 'P'}, {"bodies", 1, 0, 'b'},
                                       {"rate", 1, 0, 'r'}, {"count", 1, 0, 'n'}, {"seconds", 1, 0, 's'},
                                       {"connections", 1, 0, 'c'}, {"token", 1, 0, 't'}, {"max-age-ms", 1, 0, 'a'},
                                       {0, 0, 0, 0}};
    *o = (opts){.conns = 8, .path = "/v2/models/rtml/infer"};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'p': o->port = atoi(optarg); break;
        case 'P': o->path = optarg; break;
        case 'b': o->bodies = optarg; break;
        case 'r': o->rate = atof(optarg); break;
        case 'n': o->count = atol(optarg); break;
        case 's': o->seconds = atof(optarg); break;
        case 'c': o->conns = atoi(optarg); break;
        case 't': o->token = optarg; break;
        case 'a': o->max_age = atof(optarg); break;
        default: return -1;
        }
    }
    if (!o->count && o->rate > 0 && o->seconds > 0) o->count = (long)(o->rate * o->seconds);
    return o->port && o->bodies && o->count > 0 && o->conns > 0 && o->conns <= MAX_CONNS ? 0 : -1;
}

int main(int argc, char **argv) {
    opts o;
    if (parse(argc, argv, &o) != 0 || load_bodies(o.bodies) != 0) {
        fprintf(stderr, "usage: oip_probe --port P --bodies FILE (--count N | --rate R --seconds S) [--path P] "
                        "[--connections C] [--token T] [--max-age-ms A]\n");
        return 2;
    }
    static conn cs[MAX_CONNS];
    int ep = epoll_create1(0);
    for (int i = 0; i < o.conns; i++) {
        if ((cs[i].fd = connect_one(o.port)) < 0) { perror("connect"); return 1; }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    lat = calloc((size_t)o.count, sizeof *lat);
    double t0 = now_s();
    long next = 0, done = 0;
    int failed = 0;
    while (done < o.count && !failed) {
        double now = now_s();
        for (int i = 0; i < o.conns && next < o.count; i++) { /* due requests onto free connections */
            double due = o.rate > 0 ? t0 + (double)next / o.rate : now;
            if (due > now) break;
            if (cs[i].busy) continue;
            start_request(&cs[i], &o, (size_t)next++, due);
            if (flush_out(&cs[i]) != 0) failed = 1;
        }
        double wait = o.rate > 0 && next < o.count ? t0 + (double)next / o.rate - now_s() : 0.01;
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, wait > 0 ? (int)(wait * 1000) : 0);
        for (int k = 0; k < n; k++) {
            conn *c = evs[k].data.ptr;
            if ((evs[k].events & EPOLLOUT) && c->busy && flush_out(c) != 0) failed = 1;
            if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !c->busy) continue;
            int r = on_readable(c);
            if (r < 0) failed = 1;
            if (r > 0) answered(c, o.max_age), done++;
        }
        if (now_s() - t0 > (o.rate > 0 ? (double)o.count / o.rate : 0) + 10) failed = 1; /* 10 s past the last due */
    }
    double secs = now_s() - t0;
    qsort(lat, n_lat, sizeof *lat, cmp_double);
    printf("{\"sent\":%ld,\"answered\":%zu,\"errors\":%zu,\"failed\":%d,\"status_200\":%zu,\"seconds\":%.3f,"
           "\"requests_per_second\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
           "\"age_max_ms\":%.3f,\"age_over\":%zu}\n", next, n_lat, errors, failed, statuses[200], secs,
           (double)n_lat / secs, pct(0.5), pct(0.99), pct(0.999), n_lat ? lat[n_lat - 1] * 1000 : 0, age_max, age_over);
    return failed || errors || (long)n_lat != o.count ? 1 : 0;
}
