/* workers.h — `workers: N`: N members of the group in one process, each a runner on its own thread (workers.c). */
#ifndef RTML_RUN_WORKERS_H
#define RTML_RUN_WORKERS_H
#include "run/runner.h"

/* Run n workers (n > 1) and print one report: the totals, and each worker's. The highest exit status. */
int rtml_run_workers(const rtml_run_opts *o, unsigned n);

#endif
