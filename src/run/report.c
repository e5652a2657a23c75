/* report.c — `rtml run`'s final report (report.h). */
#include "run/report.h"

#include "base/clock.h"

void rtml_run_report_take(const rtml_runner *r, rtml_run_report *rep) {
    /* The span in unix seconds: the records' arrival times are monotonic, workers compare wall clocks. */
    double wall_minus_mono = rtml_wall_time() - rtml_now();
    *rep = (rtml_run_report){
        .records = r->pipe.records,
        .learned = r->pipe.learned,
        .errors = r->pipe.rejected,
        .redelivered = r->pipe.redelivered,
        .model_learned = r->pipe.engine ? r->pipe.engine->learned : 0,
        .dead_letters = r->out.dead_letters,
        .checkpoint_seq = r->ckpt.seq,
        .checkpoint_failures = r->ckpt.failures,
        .pauses = r->input.pauses,
        .transactions = r->txn.commits,
        .transactions_aborted = r->txn.aborts,
        .handover_uncommitted = r->group.handover_uncommitted,
        .handover_unlearned = r->group.handover_unlearned,
        .stale_dropped = r->input.stale_dropped,
        .label_pauses = r->labels.pauses,
        .consumer_rejoins = r->group.rejoins,
        .producer_renewals = r->txn.renewals,
        .first_at = r->input.first_at > 0 ? r->input.first_at + wall_minus_mono : 0,
        .last_at = r->input.last_at > 0 ? r->input.last_at + wall_minus_mono : 0,
    };
}

void rtml_run_report_json(const rtml_runner *r, const rtml_run_report *rep, rtml_buf *out) {
    /* From the first record to the last: idle time before and after (--exit-on-idle) is not processing. */
    rtml_buf_putc(out, '{');
    rtml_pipeline_report_members(&r->pipe, r->input.last_at - r->input.first_at, out);
    rtml_buf_printf(out, ",\"dead_letters\":%llu,\"checkpoint_seq\":%llu,\"checkpoint_failures\":%llu,"
                    "\"pauses\":%llu,\"transactions\":%llu,\"transactions_aborted\":%llu,"
                    "\"handover_uncommitted\":%llu,\"handover_unlearned\":%llu,\"stale_dropped\":%llu,"
                    "\"label_pauses\":%llu,\"consumer_rejoins\":%llu,\"producer_renewals\":%llu,\"first_at\":",
                    rep->dead_letters, rep->checkpoint_seq, rep->checkpoint_failures, rep->pauses, rep->transactions,
                    rep->transactions_aborted, rep->handover_uncommitted, rep->handover_unlearned, rep->stale_dropped,
                    rep->label_pauses, rep->consumer_rejoins, rep->producer_renewals);
    rtml_buf_put_double(out, rep->first_at);
    rtml_buf_puts(out, ",\"last_at\":");
    rtml_buf_put_double(out, rep->last_at);
    rtml_buf_putc(out, '}');
}

void rtml_run_report_add(rtml_run_report *sum, const rtml_run_report *one) {
    sum->records += one->records;
    sum->learned += one->learned;
    sum->errors += one->errors;
    sum->redelivered += one->redelivered;
    sum->model_learned += one->model_learned;
    sum->dead_letters += one->dead_letters;
    sum->checkpoint_seq += one->checkpoint_seq;
    sum->checkpoint_failures += one->checkpoint_failures;
    sum->pauses += one->pauses;
    sum->transactions += one->transactions;
    sum->transactions_aborted += one->transactions_aborted;
    sum->handover_uncommitted += one->handover_uncommitted;
    sum->handover_unlearned += one->handover_unlearned;
    sum->stale_dropped += one->stale_dropped;
    sum->label_pauses += one->label_pauses;
    sum->consumer_rejoins += one->consumer_rejoins;
    sum->producer_renewals += one->producer_renewals;
    if (one->first_at > 0 && (sum->first_at == 0 || one->first_at < sum->first_at)) sum->first_at = one->first_at;
    if (one->last_at > sum->last_at) sum->last_at = one->last_at;
}

void rtml_run_report_team_json(const rtml_run_report *sum, unsigned n, const rtml_buf *each, rtml_buf *out) {
    double span = sum->last_at > sum->first_at ? sum->last_at - sum->first_at : 0;
    rtml_buf_printf(out, "{\"workers\":%u,\"records\":%llu,\"learned\":%llu,\"errors\":%llu,\"redelivered\":%llu,"
                    "\"model_learned\":%llu,\"dead_letters\":%llu,\"checkpoint_failures\":%llu,\"pauses\":%llu,"
                    "\"transactions\":%llu,\"transactions_aborted\":%llu,\"handover_uncommitted\":%llu,"
                    "\"handover_unlearned\":%llu,\"stale_dropped\":%llu,\"consumer_rejoins\":%llu,"
                    "\"producer_renewals\":%llu,\"seconds\":",
                    n, sum->records, sum->learned, sum->errors, sum->redelivered, sum->model_learned, sum->dead_letters,
                    sum->checkpoint_failures, sum->pauses, sum->transactions, sum->transactions_aborted,
                    sum->handover_uncommitted, sum->handover_unlearned, sum->stale_dropped, sum->consumer_rejoins,
                    sum->producer_renewals);
    rtml_buf_put_double(out, span);
    rtml_buf_puts(out, ",\"records_per_second\":");
    rtml_buf_put_double(out, span > 0 ? (double)sum->records / span : 0);
    rtml_buf_puts(out, ",\"per_worker\":[");
    for (unsigned k = 0; k < n; k++) {
        if (k) rtml_buf_putc(out, ',');
        rtml_buf_puts(out, each[k].len ? each[k].data : "null");
    }
    rtml_buf_puts(out, "]}");
}
