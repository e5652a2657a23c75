/* procstat.c — process figures from /proc/self/stat, /proc/self/fd and /proc/stat (see procstat.h and
 * proc(5) for the fields). */
#include "monitor/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/rtml.h"

/* Reads a small file whole into buf (NUL-terminated). Returns 0, or -1 with the reason. */
static int read_small(const char *path, char *buf, size_t cap, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return rtml_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    size_t len = 0;
    ssize_t n = 0;
    while (len + 1 < cap && ((n = read(fd, buf + len, cap - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) len += (size_t)n;
    int saved = errno;
    close(fd);
    if (n < 0) return rtml_fail(err, errlen, "cannot read %s: %s", path, strerror(saved));
    buf[len] = '\0';
    return 0;
}

/* Fields of /proc/self/stat used here, by their 1-based number in proc(5). */
enum { F_UTIME = 14, F_STIME = 15, F_NUM_THREADS = 20, F_STARTTIME = 22, F_VSIZE = 23, F_RSS = 24 };

/* The fields after the command name, which is in parentheses and may itself hold spaces and ')': the first
 * token after the last ')' is field 3. Returns 0 with field[i] = field i (3..F_RSS), or -1. */
static int split_stat(char *text, unsigned long long field[F_RSS + 1]) {
    char *p = strrchr(text, ')');
    if (!p) return -1;
    p++;
    for (int i = 3; i <= F_RSS; i++) {
        while (*p == ' ') p++;
        if (!*p) return -1;
        char *end;
        field[i] = i == 3 ? 0 : strtoull(p, &end, 10); /* field 3 is the state letter */
        if (i == 3) end = p + 1;
        else if (end == p) return -1;
        p = end;
    }
    return 0;
}

/* The boot time, unix seconds, from the btime line of /proc/stat. */
static int boot_time(double *out, char *err, size_t errlen) {
    FILE *f = fopen("/proc/stat", "re");
    if (!f) return rtml_fail(err, errlen, "cannot open /proc/stat: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    unsigned long long btime = 0;
    while (!found && getline(&line, &cap, f) > 0) found = sscanf(line, "btime %llu", &btime) == 1;
    free(line);
    fclose(f);
    if (!found) return rtml_fail(err, errlen, "/proc/stat has no btime line");
    *out = (double)btime;
    return 0;
}

static int count_fds(uint64_t *out, char *err, size_t errlen) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return rtml_fail(err, errlen, "cannot list /proc/self/fd: %s", strerror(errno));
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    *out = n > 0 ? n - 1 : 0; /* the directory's own descriptor was open while listing */
    return 0;
}

int rtml_procstat_read(rtml_procstat *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    char text[4096];
    unsigned long long f[F_RSS + 1];
    if (read_small("/proc/self/stat", text, sizeof text, err, errlen) != 0) return -1;
    if (split_stat(text, f) != 0) return rtml_fail(err, errlen, "/proc/self/stat: unexpected format");
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (ticks <= 0 || page <= 0) return rtml_fail(err, errlen, "sysconf: no clock tick or page size");
    double btime = 0;
    if (boot_time(&btime, err, errlen) != 0 || count_fds(&s->open_fds, err, errlen) != 0) return -1;
    s->cpu_user_seconds = (double)f[F_UTIME] / (double)ticks;
    s->cpu_system_seconds = (double)f[F_STIME] / (double)ticks;
    s->threads = f[F_NUM_THREADS];
    s->start_time_seconds = btime + (double)f[F_STARTTIME] / (double)ticks;
    s->vsize_bytes = f[F_VSIZE];
    s->rss_bytes = f[F_RSS] * (uint64_t)page;
    return 0;
}
