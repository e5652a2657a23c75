/* log.c — log lines on stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static rtml_log_level threshold(void) {
    const char *env = getenv("RTML_LOG_LEVEL");
    if (env)
        for (int l = RTML_LOG_ERROR; l <= RTML_LOG_DEBUG; l++)
            if (strcmp(env, level_names[l]) == 0) return (rtml_log_level)l;
    return RTML_LOG_INFO;
}

static void vlog(rtml_log_level level, const char *suffix, const char *fmt, va_list ap) {
    if (level > threshold()) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One fprintf per line, so lines from threads do not interleave. */
    fprintf(stderr, "%s.%03dZ rtml[%d] %s: %s%s\n", ts, (int)(tv.tv_usec / 1000), (int)getpid(),
            level_names[level], msg, suffix);
}

void rtml_log(rtml_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(level, "", fmt, ap);
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
    char suffix[96] = "";
    if (count > burst) snprintf(suffix, sizeof suffix, " (%llu so far; next report at %llu)",
                                (unsigned long long)count, (unsigned long long)(count * factor));
    else if (count == burst) snprintf(suffix, sizeof suffix, " (further ones are rate-limited)");
    va_list ap;
    va_start(ap, fmt);
    vlog(level, suffix, fmt, ap);
    va_end(ap);
}
