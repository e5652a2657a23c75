/* procstat.h — this process's CPU time, memory, open files and threads, read from Linux's /proc, for the
 * monitor's process_* metrics (the names Prometheus client libraries use: process_cpu_seconds_total,
 * process_resident_memory_bytes, process_open_fds, process_start_time_seconds, ...).
 *
 * Each call reads the files afresh (a few small reads, a directory listing): cheap enough per scrape, not
 * meant for the per-record path. Linux only. */
#ifndef RTML_PROCSTAT_H
#define RTML_PROCSTAT_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    double cpu_user_seconds;   /* CPU time in user mode, all threads (clock-tick resolution, usually 10 ms) */
    double cpu_system_seconds; /* CPU time in the kernel on the process's behalf */
    uint64_t rss_bytes;        /* resident set size */
    uint64_t vsize_bytes;      /* virtual memory size */
    uint64_t open_fds;         /* open file descriptors (not counting the one used to count them) */
    uint64_t threads;          /* threads in the process (librdkafka's included) */
    double start_time_seconds; /* when the process started, unix time (1 s resolution: the kernel's boot time) */
} rtml_procstat;

/* Fills *s. Returns 0, or -1 with the reason in err (a /proc file missing or not as expected). */
int rtml_procstat_read(rtml_procstat *s, char *err, size_t errlen);

#endif
