/* log.c — log lines on stderr, text or JSON, with levels and rate limits (see log.h).
 *
 * Each line is built in a buffer on the caller's stack and written with one write(2) to fd 2 under a mutex:
 * nothing is allocated, and lines from different threads never interleave. */
#include "base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/rtml.h"
#include "base/utf8.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const format_names[] = {"text", "json"};

/* The settings are process-wide on purpose: there is one stderr per process, and every module (and
 * librdkafka's threads, through the log callback) logs to it without a context to pass around. Atomics, so a
 * line costs two relaxed loads and a reconfiguration from one thread is seen by the others. */
static _Atomic int log_level = RTML_LOG_INFO;
static _Atomic int log_format = RTML_LOG_TEXT;
/* The environment is read once, at the first line or configure call, instead of a getenv() per line. */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
/* The worker (run/workers.c) a thread runs, named in each of its lines; -1: none. Per thread, so it needs no
 * lock and a worker's lines say whose they are without every call site passing it. */
static _Thread_local int log_worker = -1;
/* Serialises the write of each line, and the updates of rtml_log_limiter states. */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

/* ---- one line, built in a fixed buffer ----------------------------------------------------------------- */

/* Room for the message with every byte escaped (at most 6 bytes: \u00XX or \ufffd) plus the other fields. */
#define LINE_CAP (6 * RTML_LOG_MSG_MAX + 512)

typedef struct {
    char data[LINE_CAP];
    size_t len; /* bytes used; appends that do not fit are cut, never overflow */
} line_buf;

static void put(line_buf *b, const char *s, size_t n) {
    if (n > LINE_CAP - b->len) n = LINE_CAP - b->len;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void puts_(line_buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(line_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(line_buf *b, const char *fmt, ...) {
    if (b->len >= LINE_CAP) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, LINE_CAP - b->len, fmt, ap);
    va_end(ap);
    if (n > 0) b->len += (size_t)n < LINE_CAP - b->len ? (size_t)n : LINE_CAP - b->len - 1;
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *s, size_t n) { return s[0] < 0x80 ? 1 : (size_t)rtml_utf8_len(s, n); }

/* s as the inside of a JSON string: quotes, backslashes and control characters escaped, invalid UTF-8
 * replaced by U+FFFD. */
static void put_json_escaped(line_buf *b, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        size_t len = utf8_len(p, n);
        char esc[8];
        if (len == 0) {
            puts_(b, "\\ufffd");
            len = 1;
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(b, esc, 2);
        } else if (*p < 0x20) {
            const char *named = *p == '\n' ? "\\n" : *p == '\r' ? "\\r" : *p == '\t' ? "\\t"
                              : *p == '\b' ? "\\b" : *p == '\f' ? "\\f" : NULL;
            if (named) puts_(b, named);
            else snprintf(esc, sizeof esc, "\\u%04x", *p), puts_(b, esc);
        } else {
            put(b, (const char *)p, len);
        }
        p += len;
        n -= len;
    }
}

static void put_timestamp(line_buf *b) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    printf_(b, "%s.%03dZ", ts, (int)(now.tv_nsec / 1000000));
}

/* Writes the whole line with as few write(2) calls as the kernel allows (one, short of a signal). */
static void write_line(const line_buf *b) {
    pthread_mutex_lock(&log_mutex);
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(STDERR_FILENO, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* stderr closed or full: nowhere to report it */
        off += (size_t)n;
    }
    pthread_mutex_unlock(&log_mutex);
}

/* Extra information of a rate-limited line, rendered per format. */
typedef struct {
    const char *text_suffix; /* appended to the message in text format */
    const char *json_fields; /* ",\"key\":value..." appended to the object in JSON format */
} line_extra;

static void emit(rtml_log_level level, const line_extra *x, const char *msg) {
    line_buf line; /* not zeroed: only the first len bytes are ever read */
    line_buf *b = &line;
    b->len = 0;
    if (atomic_load_explicit(&log_format, memory_order_relaxed) == RTML_LOG_JSON) {
        puts_(b, "{\"ts\":\"");
        put_timestamp(b);
        printf_(b, "\",\"level\":\"%s\",\"pid\":%d,", level_names[level], (int)getpid());
        if (log_worker >= 0) printf_(b, "\"worker\":%d,", log_worker);
        puts_(b, "\"msg\":\"");
        put_json_escaped(b, msg);
        puts_(b, "\"");
        puts_(b, x->json_fields);
        /* A message cut by a full buffer still ends as an object and a line. */
        if (b->len > LINE_CAP - 2) b->len = LINE_CAP - 2;
        put(b, "}\n", 2);
    } else {
        put_timestamp(b);
        printf_(b, " rtml[%d] %s: ", (int)getpid(), level_names[level]);
        if (log_worker >= 0) printf_(b, "worker %d: ", log_worker);
        printf_(b, "%s%s", msg, x->text_suffix);
        if (b->len > LINE_CAP - 1) b->len = LINE_CAP - 1;
        put(b, "\n", 1);
    }
    write_line(b);
}

/* ---- settings ---------------------------------------------------------------------------------------- */

static int lookup(const char *name, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

static int parse_level(const char *s) { return lookup(s, level_names, 4); }
static int parse_format(const char *s) { return lookup(s, format_names, 2); }

/* A set, non-empty environment variable, or NULL. */
static const char *env_value(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Lazy start-up: the environment's settings, or the defaults with a warning for a value not understood. */
static void init_from_env(void) {
    const char *f = env_value("RTML_LOG_FORMAT"), *l = env_value("RTML_LOG_LEVEL");
    int format = f ? parse_format(f) : -1, level = l ? parse_level(l) : -1;
    if (format >= 0) atomic_store(&log_format, format);
    if (level >= 0) atomic_store(&log_level, level);
    char msg[160];
    if (f && format < 0) {
        snprintf(msg, sizeof msg, "RTML_LOG_FORMAT=%.60s is not a format (text|json); using text", f);
        emit(RTML_LOG_WARN, &(line_extra){"", ""}, msg);
    }
    if (l && level < 0) {
        snprintf(msg, sizeof msg, "RTML_LOG_LEVEL=%.60s is not a level (error|warn|info|debug); using info", l);
        emit(RTML_LOG_WARN, &(line_extra){"", ""}, msg);
    }
}

static void ensure_init(void) { pthread_once(&env_once, init_from_env); }

int rtml_log_configure(const char *level, const char *format, char *err, size_t errlen) {
    ensure_init(); /* first, so that a later lazy start cannot undo this call */
    int lv = atomic_load(&log_level), fm = atomic_load(&log_format);
    if (level && (lv = parse_level(level)) < 0)
        return rtml_fail(err, errlen, "log.level: \"%s\" is not a level (error|warn|info|debug)", level);
    if (format && (fm = parse_format(format)) < 0)
        return rtml_fail(err, errlen, "log.format: \"%s\" is not a format (text|json)", format);
    const char *env_l = env_value("RTML_LOG_LEVEL"), *env_f = env_value("RTML_LOG_FORMAT");
    if (env_l && (lv = parse_level(env_l)) < 0)
        return rtml_fail(err, errlen, "RTML_LOG_LEVEL=%s is not a level (error|warn|info|debug)", env_l);
    if (env_f && (fm = parse_format(env_f)) < 0)
        return rtml_fail(err, errlen, "RTML_LOG_FORMAT=%s is not a format (text|json)", env_f);
    atomic_store(&log_level, lv);
    atomic_store(&log_format, fm);
    return 0;
}

int rtml_log_enabled(rtml_log_level level) {
    ensure_init();
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

rtml_log_format rtml_log_current_format(void) {
    ensure_init();
    return (rtml_log_format)atomic_load(&log_format);
}

/* ---- the entry points --------------------------------------------------------------------------------- */

static void vlog(rtml_log_level level, const line_extra *x, const char *fmt, va_list ap) {
    if (!rtml_log_enabled(level)) return;
    char msg[RTML_LOG_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    emit(level, x, msg);
}

void rtml_log_set_worker(int worker) { log_worker = worker; }

void rtml_log(rtml_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(level, &(line_extra){"", ""}, fmt, ap);
    va_end(ap);
}

/* Is count burst * factor^k for some k >= 1? */
static int at_power(uint64_t count, uint64_t burst, uint64_t factor) {
    if (factor < 2) return 0;
    for (uint64_t mark = burst * factor; mark && mark <= count; mark = mark > UINT64_MAX / factor ? 0 : mark * factor)
        if (mark == count) return 1;
    return 0;
}

void rtml_log_every(rtml_log_level level, uint64_t count, uint64_t burst, uint64_t factor, const char *fmt, ...) {
    if (count > burst && !at_power(count, burst, factor)) return;
    unsigned long long c = (unsigned long long)count;
    /* The next count that will be logged, once this one is at or past the burst (0: none). */
    uint64_t base = count == burst ? burst : count;
    uint64_t next = count >= burst && factor >= 2 && base && base <= UINT64_MAX / factor ? base * factor : 0;
    char suffix[96] = "", fields[96];
    if (count > burst) snprintf(suffix, sizeof suffix, " (%llu so far; next report at %llu)", c, (unsigned long long)next);
    else if (count == burst) snprintf(suffix, sizeof suffix, " (further ones are rate-limited)");
    if (next) snprintf(fields, sizeof fields, ",\"count\":%llu,\"next_report_at\":%llu", c, (unsigned long long)next);
    else snprintf(fields, sizeof fields, ",\"count\":%llu", c);
    va_list ap;
    va_start(ap, fmt);
    vlog(level, &(line_extra){suffix, fields}, fmt, ap);
    va_end(ap);
}

/* Counts this line against the limiter: 1 if it may be written (with *reported, the lines suppressed before
 * it, to mention), 0 if it is suppressed. */
static int limiter_admit(rtml_log_limiter *l, double now, unsigned per_minute, uint64_t *reported) {
    pthread_mutex_lock(&log_mutex);
    if (now < l->window_start || now - l->window_start >= 60.0) {
        l->window_start = now;
        l->in_window = 0;
    }
    int ok = l->in_window < (per_minute ? per_minute : 1);
    if (ok) {
        l->in_window++;
        *reported = l->suppressed;
        l->suppressed = 0;
    } else {
        l->suppressed++;
    }
    pthread_mutex_unlock(&log_mutex);
    return ok;
}

void rtml_log_limited(rtml_log_limiter *l, rtml_log_level level, double now, unsigned per_minute, const char *fmt,
                      ...) {
    uint64_t suppressed = 0;
    if (!rtml_log_enabled(level) || !limiter_admit(l, now, per_minute, &suppressed)) return;
    char suffix[80] = "", fields[48] = "";
    if (suppressed) {
        snprintf(suffix, sizeof suffix, " (%llu similar line%s suppressed)", (unsigned long long)suppressed,
                 suppressed == 1 ? "" : "s");
        snprintf(fields, sizeof fields, ",\"suppressed\":%llu", (unsigned long long)suppressed);
    }
    va_list ap;
    va_start(ap, fmt);
    vlog(level, &(line_extra){suffix, fields}, fmt, ap);
    va_end(ap);
}
