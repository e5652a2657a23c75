/* checkpoint.c — `rtml run`'s checkpoints (checkpoint.h here, state/checkpoint.h for the files): the model, its
 * feature statistics, its metrics and per partition the offset up to which it learned, written as one atomic
 * file every state.checkpoint_every, before partitions go and at shutdown; a restart resumes from the newest
 * valid one, so each labelled record is learned once. */
#include "run/checkpoint.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/rtml.h"
#include "pipeline/pipeline.h"
#include "run/clients.h"
#include "run/output.h"
#include "state/checkpoint.h"

int rtml_run_checkpoint(rtml_runner *r) {
    char err[RTML_ERRLEN];
    if (rtml_run_failed(r)) return -1; /* e.g. fenced: another instance owns this state now */
    rtml_run_flush_batch(r);
    if (r->ckpt.seq > 0 && r->pipe.records == r->ckpt.records_at && !r->ckpt.positions_changed)
        return 0; /* nothing new since the last */
    if (r->pipe.learned != r->ckpt.learned_at && rtml_pipeline_checkpoint(&r->pipe, err, sizeof err) != 0) {
        rtml_log_every(RTML_LOG_ERROR, ++r->ckpt.failures, 3, 10, "checkpoint: the model could not be written: %s", err);
        return -1;
    }
    if (rtml_ckpt_write(r->cfg.state.dir, &r->pipe, &r->offsets, r->ckpt.seq + 1, r->cfg.state.keep, err,
                        sizeof err) != 0) {
        r->ckpt.failures++;
        rtml_log_every(RTML_LOG_ERROR, r->ckpt.failures, 3, 10,
                       "checkpoint %llu not written (the previous one stays valid; %llu failures): %s",
                       (unsigned long long)r->ckpt.seq + 1, (unsigned long long)r->ckpt.failures, err);
        return -1;
    }
    r->ckpt.seq++;
    r->ckpt.positions_changed = false;
    r->ckpt.learned_at = r->pipe.learned;
    r->ckpt.records_at = r->pipe.records;
    rtml_log(RTML_LOG_DEBUG, "checkpoint %llu written", (unsigned long long)r->ckpt.seq);
    return 0;
}

/* Everything answered so far committed, so that a checkpoint is never ahead of the group's offsets: after a crash
 * the records between the checkpoint and the commit are then re-learned without an answer, and every record
 * answered again is answered from the state a crash-free run had before it (the model's and the aggregates'), so
 * even an at_least_once duplicate equals the first answer. false: not now (the checkpoint waits for the next). */
static bool commit_answered(rtml_runner *r) {
    rtml_run_flush_batch(r);
    if (r->exactly_once) return rtml_run_txn_commit(r, 0) == 0 && !r->txn.open;
    if (rd_kafka_flush(r->clients.producer, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    rtml_offsets_advance(&r->offsets);
    if (rtml_offsets_inflight(&r->offsets) != 0) return false; /* a delivery failed: its input is not done */
    return rtml_run_commit_now(r) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* A checkpoint takes time (a large model, many pending joins, a slow disk): when it takes longer than a quarter of
 * state.checkpoint_every, the next one waits three times as long as this one took, so that the stream always gets
 * most of the time. Without it, checkpoints due more often than they can be written left one record per loop
 * between them (the campaign's seed 2066: 3.4 MB every 50 ms, 10 records/s). */
void rtml_run_checkpoint_due(rtml_runner *r, double now) {
    if (now < r->ckpt.next) return;
    r->ckpt.last = now;
    if (!commit_answered(r)) {
        uint64_t n = ++r->ckpt.deferred;
        rtml_log_every(RTML_LOG_WARN, n, 3, 60, "checkpoint deferred: the outputs so far could not be committed first "
                       "(%llu times)", (unsigned long long)n);
    } else {
        rtml_run_checkpoint(r);
    }
    double took = rtml_now() - now, every = r->cfg.state.checkpoint_every_s;
    r->ckpt.next = now + (4 * took > every ? 4 * took : every);
}
