/* report.h — the final report of `rtml run` (report.c): typed figures that workers add up, and the one place
 * that renders them as JSON. One runner prints its pipeline's report with the run's figures after it:
 *   {"records":..,"learned":..,...pipeline...,"dead_letters":..,"checkpoint_seq":..,...,"first_at":..,"last_at":..}
 * A team of workers prints the sums, the time span from the first worker's first record to the last worker's
 * last, and each worker's own report:
 *   {"workers":N,"records":..,...,"seconds":..,"records_per_second":..,"per_worker":[{...},...]} */
#ifndef RTML_RUN_REPORT_H
#define RTML_RUN_REPORT_H
#include "base/buf.h"
#include "run/runner.h"

typedef struct {
    /* the pipeline's */
    unsigned long long records, learned, errors, redelivered, model_learned;
    /* the run's */
    unsigned long long dead_letters, checkpoint_seq, checkpoint_failures, pauses, transactions, transactions_aborted,
        handover_uncommitted, handover_unlearned, stale_dropped, label_pauses, consumer_rejoins,
        producer_renewals;
    double first_at, last_at; /* unix seconds of the first and the last record (0: none) */
} rtml_run_report;

/* The figures of a runner at its end. */
void rtml_run_report_take(const rtml_runner *r, rtml_run_report *rep);
/* A runner's report: its pipeline's (over the span from its first record to its last) and rep's. */
void rtml_run_report_json(const rtml_runner *r, const rtml_run_report *rep, rtml_buf *out);
/* sum += one: counters added, the span widened. */
void rtml_run_report_add(rtml_run_report *sum, const rtml_run_report *one);
/* A team's report from its sum and each worker's own report (n of them; an empty one prints as null). */
void rtml_run_report_team_json(const rtml_run_report *sum, unsigned n, const rtml_buf *each, rtml_buf *out);

#endif
