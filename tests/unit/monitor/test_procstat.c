/* test_procstat.c — process figures from /proc follow what the test does to the process: RSS grows by a
 * touched 64 MB allocation, CPU time by a busy loop (and agrees with getrusage), the fd count by exactly the
 * files opened, the thread count by a started thread, and the start time is just before now. No sleeps: each
 * waits on a condition with a deadline. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "monitor/procstat.h"

static rtml_procstat read_now(void) {
    rtml_procstat s;
    char err[256] = "";
    int rc = rtml_procstat_read(&s, err, sizeof err);
    if (rc != 0) fprintf(stderr, "rtml_procstat_read: %s\n", err);
    CHECK_EQ_INT(rc, 0);
    return s;
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_start_time(void) {
    rtml_procstat s = read_now();
    double now = wall();
    /* started before now (btime is whole seconds, hence the 1 s of slack) and recently */
    CHECK(s.start_time_seconds <= now + 1);
    CHECK(s.start_time_seconds > now - 60);
    CHECK_EQ_INT(s.threads, 1);
    CHECK(s.vsize_bytes >= s.rss_bytes && s.rss_bytes > 0);
}

static void test_rss(void) {
    rtml_procstat before = read_now();
    size_t size = 64u << 20;
    /* mmap rather than malloc: a sanitizer's allocator would keep freed memory in quarantine */
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    rtml_procstat mapped = read_now();
    memset(p, 1, size); /* touch every page */
    rtml_procstat after = read_now();
    CHECK(mapped.vsize_bytes >= before.vsize_bytes + size);
    CHECK(after.rss_bytes >= before.rss_bytes + size - (4u << 20)); /* the kernel's counters are batched a little */
    CHECK(after.rss_bytes < before.rss_bytes + size + (16u << 20));
    volatile char sink = p[size / 2];
    (void)sink;
    munmap(p, size);
    rtml_procstat freed = read_now();
    CHECK(freed.rss_bytes < after.rss_bytes - size / 2);
    CHECK(freed.vsize_bytes <= after.vsize_bytes - size);
}

static double rusage_cpu(int system) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct timeval t = system ? ru.ru_stime : ru.ru_utime;
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void test_cpu(void) {
    rtml_procstat before = read_now();
    double deadline = mono() + 20;
    volatile double x = 0;
    rtml_procstat now = before;
    /* Spin until /proc shows 0.2 s more user CPU (ticks of 10 ms), or the deadline says it never will. */
    while (now.cpu_user_seconds < before.cpu_user_seconds + 0.2 && mono() < deadline) {
        for (int i = 0; i < 1000000; i++) x += i * 1e-9;
        now = read_now();
    }
    CHECK(x > 0); /* the loop ran (and x is used, so the work is kept) */
    CHECK(now.cpu_user_seconds >= before.cpu_user_seconds + 0.2);
    /* The same clock as getrusage, to a few ticks. */
    CHECK_NEAR(now.cpu_user_seconds, rusage_cpu(0), 0.05);
    CHECK_NEAR(now.cpu_system_seconds, rusage_cpu(1), 0.05);
    CHECK(now.cpu_system_seconds >= 0);
}

/* Open descriptors counted another way: every fd number that fcntl accepts. */
static uint64_t probe_fds(void) {
    uint64_t n = 0;
    for (int fd = 0; fd < 4096; fd++) n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void test_fds(void) {
    rtml_procstat before = read_now();
    CHECK_EQ_INT(before.open_fds, probe_fds());
    int fds[5];
    for (int i = 0; i < 5; i++) fds[i] = open("/dev/null", O_RDONLY);
    rtml_procstat opened = read_now();
    CHECK_EQ_INT(opened.open_fds, before.open_fds + 5);
    for (int i = 0; i < 5; i++) close(fds[i]);
    rtml_procstat closed = read_now();
    CHECK_EQ_INT(closed.open_fds, before.open_fds);
    CHECK(before.open_fds >= 3); /* stdin, stdout, stderr */
}

/* A thread that waits until told to go: the thread count is read while it exists. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go; /* set by the main thread to end the helper thread (guarded by mu) */

static void *wait_for_go(void *arg) {
    pthread_mutex_lock(&mu);
    while (!go) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return arg;
}

static void test_threads(void) {
    rtml_procstat before = read_now();
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, wait_for_go, NULL), 0);
    rtml_procstat during = read_now();
    CHECK_EQ_INT(during.threads, before.threads + 1);
    pthread_mutex_lock(&mu);
    go = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    /* pthread_join returns once the thread has cleared its id, a moment before the kernel drops its task from
     * /proc/self/status: measured 2 threads after the join in 1 run of ctest -j2 on a busy machine. Read again
     * until it is gone (deadline 5 s). */
    struct timespec t0, now, pause = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rtml_procstat after = read_now();
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        if (after.threads == before.threads || waited > 5) break;
        nanosleep(&pause, NULL);
        after = read_now();
    }
    CHECK_EQ_INT(after.threads, before.threads);
}

int main(void) {
    test_start_time();
    test_rss();
    test_cpu();
    test_fds();
    test_threads();
    return check_exit("test_procstat");
}
