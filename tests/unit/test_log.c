/* test_log.c — log lines: format, level filtering, and the rate limit of repeated events (first `burst`,
 * then at burst*10, burst*100, ...), read back from a redirected stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static int count_lines(const char *path, const char *needle) {
    FILE *f = fopen(path, "r");
    char line[1024];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    if (f) fclose(f);
    return n;
}

int main(void) {
    char path[] = "/tmp/rtml-test-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *saved = fdopen(dup(2), "w");
    CHECK(freopen(path, "w", stderr) != NULL);
    setenv("RTML_LOG_LEVEL", "warn", 1);
    rtml_log(RTML_LOG_INFO, "hidden %d", 1);
    rtml_log(RTML_LOG_WARN, "shown %d", 2);
    for (uint64_t i = 1; i <= 1000000; i++) rtml_log_every(RTML_LOG_WARN, i, 10, 10, "bad record %llu", (unsigned long long)i);
    fflush(stderr);
    CHECK_EQ_INT(count_lines(path, "hidden"), 0);
    CHECK_EQ_INT(count_lines(path, "rtml[") , 1 + 10 + 5); /* 10 first, then 100, 1k, 10k, 100k, 1M */
    CHECK_EQ_INT(count_lines(path, "] warn: shown 2"), 1);
    CHECK_EQ_INT(count_lines(path, "bad record 10 (further ones are rate-limited)"), 1);
    CHECK_EQ_INT(count_lines(path, "bad record 1000000 (1000000 so far; next report at 10000000)"), 1);
    CHECK_EQ_INT(count_lines(path, "bad record 11"), 0);
    unlink(path);
    fflush(saved);
    dup2(fileno(saved), 2);
    return check_exit("test_log");
}
