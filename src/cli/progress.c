/* progress.c — the progress line of long commands (see progress.h).
 *
 * The line goes to stderr and only when stderr is a terminal, so pipes, files and CI logs never see it. It is
 * redrawn in place ("\r" + erase to end of line) at most 5 times a second, whatever the caller's update rate,
 * so callers may call rtml_progress_update() as often as they like (each call is a clock read when on).
 * rtml_progress_end() erases it, leaving the terminal as it was. */
#include "cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "base/clock.h"

#define PROGRESS_INTERVAL 0.2 /* seconds between redraws */

void rtml_progress_start(rtml_progress *p, const char *what) {
    p->on = isatty(STDERR_FILENO) == 1;
    p->started = rtml_now();
    p->last_shown = p->started; /* the first redraw comes after one interval: short runs stay silent */
    p->what = what;
}

/* 999 -> "999", 1234567 -> "1.23M". */
static void human_count(char *out, size_t len, double v) {
    static const char unit[] = {0, 'k', 'M', 'G', 'T'};
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    if (u == 0) snprintf(out, len, "%.0f", v);
    else snprintf(out, len, "%.2f%c", v, unit[u]);
}

/* Seconds -> "42s", "3m05s", "2h07m". */
static void human_duration(char *out, size_t len, double s) {
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t < 60) snprintf(out, len, "%lds", t);
    else if (t < 3600) snprintf(out, len, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

static void progress_draw(const rtml_progress *p, double now, unsigned long long done,
                          unsigned long long total) {
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char d[32], r[32], t[32], eta[32];
    human_count(d, sizeof d, (double)done);
    human_count(r, sizeof r, rate);
    if (total == 0) {
        fprintf(stderr, "\r%s: %s  %s/s\033[K", p->what, d, r);
        return;
    }
    human_count(t, sizeof t, (double)total);
    double left = done < total ? (double)(total - done) : 0;
    if (rate > 0) human_duration(eta, sizeof eta, left / rate);
    else snprintf(eta, sizeof eta, "?");
    fprintf(stderr, "\r%s: %s/%s (%.1f%%)  %s/s  ETA %s\033[K", p->what, d, t, 100.0 * (double)done / (double)total,
            r, eta);
}

void rtml_progress_update(rtml_progress *p, unsigned long long done, unsigned long long total) {
    if (!p->on) return;
    double now = rtml_now();
    if (now - p->last_shown < PROGRESS_INTERVAL) return;
    p->last_shown = now;
    progress_draw(p, now, done, total);
}

void rtml_progress_end(rtml_progress *p, unsigned long long done) {
    (void)done;
    if (!p->on) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->on = false;
}
