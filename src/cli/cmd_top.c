/* cmd_top.c — `rtml top`: a running pipeline's key figures, live in the terminal, for users without
 * Prometheus or a browser. Reads the monitor's /api/stats (the same document the dashboard draws) with the
 * small client in http_client.c, and prints one compact frame per interval: records/s in and out, lag in
 * total and per partition, latency p50/p99, windowed quality, model version, learned, dead letters, drift
 * events. On a terminal each frame replaces the last (ANSI clear); --once prints one plain frame and exits.
 *
 * Exit: 0 ok (--once printed a frame, or a live view stopped by SIGINT/SIGTERM); 1 the first fetch failed
 * (unreachable, not HTTP 200, not the stats document); 2 bad usage or a bad URL. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/http_client.h"

#define TOP_DEFAULT_URL "http://127.0.0.1:9464"
#define TOP_STATS_PATH "/api/stats"

typedef struct {
    const char *url_text; /* as given, for messages */
    rtml_url url;         /* with the path of the stats document */
    double interval, timeout;
    bool once;
} top_opts;

/* Set by SIGINT/SIGTERM so the live loop ends cleanly; a signal handler can only reach a global. */
static volatile sig_atomic_t top_stop;

static void on_signal(int sig) {
    (void)sig;
    top_stop = 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: rtml top [--url URL] [--interval SECONDS] [--timeout SECONDS] [--once]\n\n"
               "Shows a running rtml's key figures live in the terminal, read from its monitor\n"
               "(monitor.listen in the config): records/s in and out, lag in total and per partition,\n"
               "latency p50/p99, windowed quality, model version, learned, dead letters, drift events.\n"
               "  --url URL           the monitor's base URL (default " TOP_DEFAULT_URL ")\n"
               "  --interval SECONDS  time between refreshes (default 1)\n"
               "  --timeout SECONDS   give up on one request after this long (default 3)\n"
               "  --once              print one frame, without terminal control codes, and exit\n"
               "  -h, --help          show this help\n"
               "Exit status: 0 ok, 1 the monitor cannot be reached or answered badly, 2 bad usage or URL.\n");
}

static int parse_seconds(const char *s, const char *what, double *out) {
    double v;
    if (rtml_arg_double(s, &v) != 0 || !(v > 0) || v > 3600) {
        fprintf(stderr, "rtml top: %s must be a number of seconds in (0, 3600], got '%s'\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The URL's path turned into the stats document's: "/" -> "/api/stats", "/x" -> "/x/api/stats". */
static int stats_path(rtml_url *url) {
    size_t n = strcspn(url->path, "?"), tail = strlen(TOP_STATS_PATH);
    if (n >= tail && strncmp(url->path + n - tail, TOP_STATS_PATH, tail) == 0) return 0;
    while (n > 0 && url->path[n - 1] == '/') n--;
    if (n + sizeof TOP_STATS_PATH > sizeof url->path) return -1;
    memcpy(url->path + n, TOP_STATS_PATH, sizeof TOP_STATS_PATH);
    return 0;
}

/* Returns -1 to continue, else the exit code (0 after --help, 2 on bad usage). */
static int parse_args(int argc, char **argv, top_opts *o) {
    static const struct option longs[] = {{"url", required_argument, NULL, 'u'},
                                          {"interval", required_argument, NULL, 'i'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {"once", no_argument, NULL, '1'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    *o = (top_opts){.url_text = TOP_DEFAULT_URL, .interval = 1, .timeout = 3};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'h') return usage(stdout), 0;
        if (c == 'u') o->url_text = optarg;
        else if (c == '1') o->once = true;
        else if (c == 'i' && parse_seconds(optarg, "--interval", &o->interval) != 0) return 2;
        else if (c == 't' && parse_seconds(optarg, "--timeout", &o->timeout) != 0) return 2;
        else if (c == '?') return usage(stderr), 2;
    }
    if (optind < argc) return fprintf(stderr, "rtml top: unexpected argument '%s'\n", argv[optind]), usage(stderr), 2;
    char err[256];
    if (rtml_url_parse(o->url_text, &o->url, err, sizeof err) != 0) {
        fprintf(stderr, "rtml top: bad URL '%s': %s\n", o->url_text, err);
        return 2;
    }
    if (stats_path(&o->url) != 0) return fprintf(stderr, "rtml top: bad URL '%s': path too long\n", o->url_text), 2;
    return -1;
}

/* GET the stats document and parse it. Returns the object (caller decrefs) or NULL with a reason in err. */
static json_t *fetch_stats(const top_opts *o, char *err, size_t errlen) {
    rtml_http_response resp;
    if (rtml_http_get(&o->url, o->timeout, &resp, err, errlen) != 0) return NULL;
    json_t *doc = NULL;
    if (resp.status != 200) snprintf(err, errlen, "HTTP %d from %.200s", resp.status, o->url.path);
    else {
        json_error_t je;
        doc = json_loadb(resp.body, resp.len, 0, &je);
        if (!doc) snprintf(err, errlen, "%.200s is not JSON: %.200s", o->url.path, je.text);
        else if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "series"))) {
            snprintf(err, errlen, "%.200s is not an rtml stats document", o->url.path);
            json_decref(doc);
            doc = NULL;
        }
    }
    rtml_http_response_free(&resp);
    return doc;
}

/* ---- rendering one frame ---------------------------------------------------------------------------- */

static double num(const json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }
static double num_at(const json_t *obj, const char *key) { return num(json_object_get(obj, key)); }

/* The last non-null number of a series array (NAN when there is none). */
static double last_value(const json_t *arr) {
    for (size_t i = json_array_size(arr); i > 0; i--) {
        const json_t *v = json_array_get(arr, i - 1);
        if (json_is_number(v)) return json_number_value(v);
    }
    return NAN;
}

/* A figure into buf: "-" when unknown, else with the given number of decimals. */
static const char *fmt(char *buf, size_t n, double v, int decimals) {
    if (isnan(v)) snprintf(buf, n, "-");
    else if (decimals == 0 || (fabs(v) >= 1e15)) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.*f", decimals, v);
    return buf;
}

static void fmt_clock(char *buf, size_t n, double t) {
    time_t s = (time_t)t;
    struct tm tm;
    if (isnan(t) || !localtime_r(&s, &tm)) snprintf(buf, n, "-");
    else strftime(buf, n, "%H:%M:%S", &tm);
}

static void fmt_duration(char *buf, size_t n, double s) {
    if (isnan(s) || s < 0) snprintf(buf, n, "-");
    else if (s < 60) snprintf(buf, n, "%.0fs", floor(s));
    else if (s < 3600) snprintf(buf, n, "%dm %02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, n, "%dh %02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void render_header(FILE *f, const json_t *st, const char *url) {
    char up[32];
    fmt_duration(up, sizeof up, num_at(st, "now") - num_at(st, "started_at"));
    const char *ver = json_string_value(json_object_get(st, "version"));
    const char *reason = json_string_value(json_object_get(st, "ready_reason"));
    fprintf(f, "rtml %s  pid %.0f  up %s  %s%s%s%s  %s\n", ver ? ver : "?", num_at(st, "pid"), up,
            json_is_true(json_object_get(st, "ready")) ? "ready" : "NOT READY", reason ? " (" : "",
            reason ? reason : "", reason ? ")" : "", url);
}

static void render_model(FILE *f, const json_t *st) {
    const json_t *m = json_object_get(st, "model"), *tot = json_object_get(st, "totals");
    const char *engine = json_string_value(json_object_get(m, "engine"));
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *task = json_string_value(json_object_get(m, "task"));
    double learned = num_at(m, "learned");
    if (isnan(learned)) learned = num_at(tot, "learned");
    char b1[32], b2[32];
    fprintf(f, "model       %s %s%s%s%s   version %s   learned %s\n", engine ? engine : "?", type ? type : "?",
            task ? " (" : "", task ? task : "", task ? ")" : "", fmt(b1, sizeof b1, num_at(m, "version"), 0),
            fmt(b2, sizeof b2, learned, 0));
}

static void render_flow(FILE *f, const json_t *st) {
    const json_t *s = json_object_get(st, "series"), *tot = json_object_get(st, "totals");
    char a[32], b[32], c[32];
    fprintf(f, "records/s   in %s   out %s\n", fmt(a, sizeof a, last_value(json_object_get(s, "in_rate")), 1),
            fmt(b, sizeof b, last_value(json_object_get(s, "out_rate")), 1));
    fprintf(f, "totals      consumed %s   produced %s   dead letters %s\n",
            fmt(a, sizeof a, num_at(tot, "consumed"), 0), fmt(b, sizeof b, num_at(tot, "produced"), 0),
            fmt(c, sizeof c, num_at(tot, "dead_letters"), 0));
    fprintf(f, "latency     p50 %s ms   p99 %s ms\n", fmt(a, sizeof a, last_value(json_object_get(s, "p50_ms")), 2),
            fmt(b, sizeof b, last_value(json_object_get(s, "p99_ms")), 2));
}

/* "topic/10" after "topic/9": by topic, then by partition number. */
static int cmp_partition(const void *pa, const void *pb) {
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
    size_t la = sa ? (size_t)(sa - a) : strlen(a), lb = sb ? (size_t)(sb - b) : strlen(b);
    int c = strncmp(a, b, la < lb ? la : lb);
    if (c || la != lb) return c ? c : (la < lb ? -1 : 1);
    long na = sa ? strtol(sa + 1, NULL, 10) : 0, nb = sb ? strtol(sb + 1, NULL, 10) : 0;
    return (na > nb) - (na < nb);
}

/* True when every key names the same topic (then only partition numbers are printed). */
static bool one_topic(const char **keys, size_t n) {
    for (size_t i = 1; i < n; i++) {
        const char *a = strrchr(keys[0], '/'), *b = strrchr(keys[i], '/');
        if (!a || !b || a - keys[0] != b - keys[i] || strncmp(keys[0], keys[i], (size_t)(a - keys[0])) != 0)
            return false;
    }
    return n > 0 && strrchr(keys[0], '/');
}

/* "lag  N total   topic: p0 x   p1 y ..." (one topic) or "... topic/0 x   other/0 y", six a line. */
static void render_lag(FILE *f, const json_t *st) {
    const json_t *lag = json_object_get(st, "lag");
    char buf[32];
    fprintf(f, "lag         %s total", fmt(buf, sizeof buf, num_at(json_object_get(st, "totals"), "lag"), 0));
    size_t n = json_object_size(lag), k = 0;
    const char **keys = n ? malloc(n * sizeof *keys) : NULL;
    const char *key;
    json_t *v;
    if (keys) {
        json_object_foreach((json_t *)lag, key, v) keys[k++] = key;
        qsort(keys, k, sizeof *keys, cmp_partition);
    }
    bool one = one_topic(keys, k);
    if (one) fprintf(f, "   %.*s:", (int)(strrchr(keys[0], '/') - keys[0]), keys[0]);
    for (size_t i = 0; i < k; i++) {
        fputs(i == 0 ? (one ? " " : "   ") : i % 6 == 0 ? "\n            " : "   ", f);
        const char *name = one ? strrchr(keys[i], '/') + 1 : keys[i];
        fprintf(f, "%s%s %s", one ? "p" : "", name, fmt(buf, sizeof buf, last_value(json_object_get(lag, keys[i])), 0));
    }
    free(keys);
    fputc('\n', f);
}

static void render_quality(FILE *f, const json_t *st) {
    const json_t *q = json_object_get(json_object_get(st, "series"), "quality");
    static const char *const order[] = {"accuracy", "logloss", "mae", "rmse"};
    char buf[32];
    int shown = 0;
    fprintf(f, "quality    ");
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const json_t *arr = json_object_get(q, order[i]);
        if (!arr) continue;
        fprintf(f, "%s%s %s", shown ? "   " : " ", order[i], fmt(buf, sizeof buf, last_value(arr), 4));
        shown++;
    }
    fprintf(f, "%s\n", shown ? "   (windowed)" : " -");
}

static void render_drift(FILE *f, const json_t *st) {
    const json_t *ev = json_object_get(st, "drift_events");
    size_t n = json_array_size(ev);
    fprintf(f, "drift       %zu event%s", n, n == 1 ? "" : "s");
    if (n) {
        const json_t *e = json_array_get(ev, n - 1);
        const char *det = json_string_value(json_object_get(e, "detector"));
        const char *act = json_string_value(json_object_get(e, "action"));
        char when[16], rec[32], ver[32];
        fmt_clock(when, sizeof when, num_at(e, "t"));
        fprintf(f, "; last at %s: %s %s, record %s, model version %s", when, det ? det : "?", act ? act : "?",
                fmt(rec, sizeof rec, num_at(e, "record"), 0), fmt(ver, sizeof ver, num_at(e, "model_version"), 0));
    }
    fputc('\n', f);
}

static void render(FILE *f, const json_t *st, const char *url) {
    render_header(f, st, url);
    render_model(f, st);
    render_flow(f, st);
    render_lag(f, st);
    render_quality(f, st);
    render_drift(f, st);
}

/* ---- the loop --------------------------------------------------------------------------------------- */

/* Sleeps up to s seconds; returns early when a signal stops the view. */
static void nap(double s) {
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
    if (!top_stop) nanosleep(&ts, NULL);
}

/* Writes one frame (stats, or the last error) at once, so a terminal never shows half of one. */
static void show(const top_opts *o, bool tty, const json_t *st, const char *error) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return;
    if (tty) fputs("\033[H\033[2J", f);
    if (st) render(f, st, o->url_text);
    if (error) fprintf(f, "rtml top: cannot reach %s: %s (retrying every %g s)\n", o->url_text, error, o->interval);
    if (!tty && !o->once) fputc('\n', f);
    fclose(f);
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    free(text);
}

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the handler interrupts the sleep */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int rtml_cmd_top(int argc, char **argv) {
    top_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    bool tty = !o.once && isatty(STDOUT_FILENO);
    char err[512] = "";
    json_t *st = fetch_stats(&o, err, sizeof err);
    if (!st) {
        fprintf(stderr, "rtml top: cannot reach %s: %s\n", o.url_text, err);
        return 1;
    }
    top_stop = 0;
    if (!o.once) install_handlers();
    for (;;) { /* st: the newest document (owned); a failed fetch keeps it on screen, with the reason */
        show(&o, tty, st, err[0] ? err : NULL);
        if (o.once) break;
        nap(o.interval);
        if (top_stop) break;
        json_t *next = fetch_stats(&o, err, sizeof err);
        if (next) {
            json_decref(st);
            st = next;
            err[0] = '\0';
        }
    }
    json_decref(st);
    return 0;
}
