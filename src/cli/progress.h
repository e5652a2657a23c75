/* progress.h — the progress line of long commands (`rtml produce`, `rtml replay`) on stderr, shown only when
 * stderr is a terminal (pipes, files and CI logs never see it), redrawn in place at most 5 times a second. */
#ifndef RTML_CLI_PROGRESS_H
#define RTML_CLI_PROGRESS_H
#include <stdbool.h>

typedef struct {
    bool on;
    double started, last_shown;
    const char *what;
} rtml_progress;

void rtml_progress_start(rtml_progress *p, const char *what);
/* done of total (0: unknown), as often as the caller likes: each call is a clock read when on. */
void rtml_progress_update(rtml_progress *p, unsigned long long done, unsigned long long total);
/* Erase the line, leaving the terminal as it was. */
void rtml_progress_end(rtml_progress *p, unsigned long long done);

#endif
