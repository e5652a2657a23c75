/* checkpoint.c — `rtml run`'s checkpoints (checkpoint.h here, state/checkpoint.h for the files): the model, its
 * feature statistics, its metrics and per partition the offset up to which it learned, written as one atomic
 * file every state.checkpoint_every, before partitions go and at shutdown; a restart resumes from the newest
 * valid one, so each labelled record is learned once. */
#include "run/checkpoint.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/rtml.h"
#include "pipeline/pipeline.h"
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

/* A checkpoint takes time (a large model, many pending joins, a slow disk): when it takes longer than a quarter of
 * state.checkpoint_every, the next one waits three times as long as this one took, so that the stream always gets
 * most of the time. Without it, checkpoints due more often than they can be written left one record per loop
 * between them (the campaign's seed 2066: 3.4 MB every 50 ms, 10 records/s). */
void rtml_run_checkpoint_due(rtml_runner *r, double now) {
    if (now < r->ckpt.next) return;
    r->ckpt.last = now;
    rtml_run_checkpoint(r);
    double took = rtml_now() - now, every = r->cfg.state.checkpoint_every_s;
    r->ckpt.next = now + (4 * took > every ? 4 * took : every);
}
