/* loop.h — one `rtml run` member from start to its report (loop.c): set-up, the consume loop, shutdown. */
#ifndef RTML_RUN_LOOP_H
#define RTML_RUN_LOOP_H
#include "base/buf.h"
#include "run/report.h"
#include "run/runner.h"

/* Run until a stop (rtml_run_stop), --max-records or --exit-on-idle; w: the worker it is, or NULL. Its figures go
 * into rep and its report (one JSON object, no newline) into json; both empty when it never started. The exit
 * status: 0, 1 failure, 2 bad config. */
int rtml_run_instance(const rtml_run_opts *o, const rtml_worker *w, rtml_run_report *rep, rtml_buf *json);

#endif
