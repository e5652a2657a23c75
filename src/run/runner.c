/* runner.c — what every file of run/ shares: the stop flag and the typed fault (runner.h). */
#include "run/runner.h"

#include <stdarg.h>
#include <stdio.h>

volatile sig_atomic_t rtml_run_stop;

void rtml_run_fail(rtml_runner *r, rtml_run_fault kind, const char *fmt, ...) {
    rtml_run_stop = SIGTERM;
    if (rtml_run_failed(r)) return;
    r->fatal.kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->fatal.why, sizeof r->fatal.why, fmt, ap);
    va_end(ap);
}

const char *rtml_run_fault_name(rtml_run_fault kind) {
    static const char *const names[] = {"none", "fenced", "transaction", "produce", "consumer", "kafka",
                                        "not_assigned", "no_memory"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}
