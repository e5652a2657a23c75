/* drift.h — `rtml run`'s answer to a drift event (drift.c): log, event record, dashboard marker, rollback. */
#ifndef RTML_RUN_DRIFT_H
#define RTML_RUN_DRIFT_H
#include "run/runner.h"

/* After each batch (the runner's after_batch): act on a new drift event, if the batch raised one. */
void rtml_run_drift(rtml_runner *r);

#endif
