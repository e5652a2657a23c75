/* log.h — rtml's log lines on stderr: "2026-11-27T17:40:01.123Z rtml[1234] warn: message".
 *
 * Levels filter by RTML_LOG_LEVEL (error|warn|info|debug; default info). rtml_log_every() rate-limits a
 * repeated event (e.g. a rejected record): it logs the first `burst` occurrences of a counter, then at
 * the counts burst*factor, burst*factor^2, ... (10, 100, 1000, ... with factor 10), saying how many there
 * were, so a flood of bad input cannot flood the log: 1M bad records log about 15 lines. */
#ifndef RTML_LOG_H
#define RTML_LOG_H
#include <stdint.h>

typedef enum { RTML_LOG_ERROR = 0, RTML_LOG_WARN, RTML_LOG_INFO, RTML_LOG_DEBUG } rtml_log_level;

void rtml_log(rtml_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* count: how many times this event has happened, including this one (1-based). */
void rtml_log_every(rtml_log_level level, uint64_t count, uint64_t burst, uint64_t factor, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
