/* log.h — rtml's log lines on stderr, as text or as JSON lines, with levels and rate limits.
 *
 * Text (the default), one line per event:
 *     2026-11-27T17:40:01.123Z rtml[1234] warn: message
 * JSON (`format: json`), one object per line, for log shippers:
 *     {"ts":"2026-11-27T17:40:01.123Z","level":"warn","pid":1234,"msg":"message"}
 * with extra fields on rate-limited lines (see below). The message is escaped as a JSON string; bytes that
 * are not valid UTF-8 become U+FFFD, so every line parses. Messages are cut at RTML_LOG_MSG_MAX bytes.
 *
 * Level (error|warn|info|debug; default info) and format (text|json; default text) are set by the config's
 * `log:` section through rtml_log_configure(); the environment variables RTML_LOG_LEVEL and RTML_LOG_FORMAT
 * override the config. Until rtml_log_configure() is called, the environment (or the defaults) apply.
 * Reading the settings costs two atomic loads per line, no getenv().
 *
 * Thread safety: any thread may log (librdkafka's log callback, the HTTP server's thread, the main loop).
 * Each line is written with one write(2) under a mutex, so lines never interleave.
 *
 * Rate limits, for events that can repeat without end:
 *   - rtml_log_every() is count-based: the caller counts the event and passes the count. It logs the first
 *     `burst` occurrences, then those at burst*factor, burst*factor^2, ... (10, 100, 1000, ... with factor 10),
 *     saying how many there were, so 1M bad records log about 15 lines. Text: "... (1000 so far; next report at
 *     10000)"; JSON: "count":1000,"next_report_at":10000 (every rtml_log_every line carries "count").
 *   - rtml_log_limited() is time-based: at most `per_minute` lines per 60 s window of the caller's clock; the
 *     first line of a later window says how many were suppressed before it. Text: "... (41 similar lines
 *     suppressed)"; JSON: "suppressed":41. */
#ifndef RTML_LOG_H
#define RTML_LOG_H
#include <stddef.h>
#include <stdint.h>

typedef enum { RTML_LOG_ERROR = 0, RTML_LOG_WARN, RTML_LOG_INFO, RTML_LOG_DEBUG } rtml_log_level;
typedef enum { RTML_LOG_TEXT = 0, RTML_LOG_JSON } rtml_log_format;

/* Longest message kept, in bytes (formatted, before escaping); longer ones are cut. */
#define RTML_LOG_MSG_MAX 2048

void rtml_log(rtml_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* count: how many times this event has happened, including this one (1-based). */
void rtml_log_every(rtml_log_level level, uint64_t count, uint64_t burst, uint64_t factor, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Sets the level ("error"|"warn"|"info"|"debug") and format ("text"|"json"); NULL keeps the current one.
 * Then RTML_LOG_LEVEL and RTML_LOG_FORMAT, when set and not empty, override (env wins over config), so
 * rtml_log_configure(NULL, NULL, ...) re-reads the environment. Returns 0, or -1 with a reason in err (an
 * unknown name, in the arguments or in the environment) and nothing changed. */
int rtml_log_configure(const char *level, const char *format, char *err, size_t errlen);
/* The calling thread's lines say "worker K: " (text) or carry "worker":K (JSON); -1: they do not. */
void rtml_log_set_worker(int worker);
/* Whether a line at this level would be written: lets a caller skip building an expensive message. */
int rtml_log_enabled(rtml_log_level level);
rtml_log_format rtml_log_current_format(void);

/* State of one time-based limiter, owned by the caller (a struct member or a static next to the call site);
 * zero-initialise it. Updated under the log mutex, so one limiter may be shared by threads. */
typedef struct {
    double window_start; /* `now` at the start of the current 60 s window */
    uint64_t in_window;  /* lines written in the current window */
    uint64_t suppressed; /* lines dropped since the last line written: reported by the next one */
} rtml_log_limiter;

/* At most per_minute lines (0 counts as 1) per 60 s window of `now` (seconds on any clock that does not go
 * backwards, e.g. rtml_now() or CLOCK_MONOTONIC; if it does, a new window opens). Lines filtered out by the
 * level are neither written nor counted. */
void rtml_log_limited(rtml_log_limiter *l, rtml_log_level level, double now, unsigned per_minute, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));

#endif
