/* drift.c — what `rtml run` does on a drift event (drift.h): pipeline/drift_actions.c detects it after a batch;
 * here it becomes a warning in the log, an event record to drift.topic, the dashboard's marker, and for rollback
 * the model of the newest checkpoint written before the change began (or a reset, when every kept checkpoint is
 * newer). */
#include "run/drift.h"

#include <stdlib.h>

#include "base/log.h"
#include "base/rtml.h"
#include "config/monitor.h"
#include "pipeline/drift_actions.h"
#include "pipeline/model.h"
#include "run/output.h"
#include "run/status.h"
#include "state/checkpoint.h"

/* The newest checkpoint written before the change began; 0 when none (then: reset). */
static int rollback(rtml_runner *r, uint64_t change_at, char *err, size_t errlen) {
    uint64_t *seqs;
    size_t n;
    if (rtml_ckpt_list(r->cfg.state.dir, &seqs, &n) != 0) return rtml_fail(err, errlen, "cannot list checkpoints");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        rtml_buf image = RTML_BUF_INIT;
        uint64_t seen;
        rtml_ckpt_path(r->cfg.state.dir, seqs[i], path, sizeof path);
        if (rtml_state_read_file(path, &image, err, errlen) == 0 &&
            rtml_pipeline_drift_seen_in(image.data, image.len, &seen) && seen <= change_at) {
            rc = rtml_pipeline_rollback(&r->pipe, image.data, image.len, err, errlen) == 0 ? 1 : -1;
            if (rc > 0)
                rtml_log(RTML_LOG_WARN, "drift: rolled back to checkpoint %llu (written after %llu evaluated records); "
                         "model version %lld", (unsigned long long)seqs[i], (unsigned long long)seen,
                         (long long)rtml_pipeline_model_version(&r->pipe));
        }
        rtml_buf_free(&image);
    }
    free(seqs);
    return rc;
}

static void act(rtml_runner *r) {
    char err[RTML_ERRLEN];
    if (r->pipe.drift_rollback_due) { /* called right after a batch: nothing is pending */
        int rc = rollback(r, r->pipe.last_drift.change_at, err, sizeof err);
        if (rc < 0) rtml_log(RTML_LOG_ERROR, "drift: rollback failed (%s); resetting the model instead", err);
        else if (rc == 0) rtml_log(RTML_LOG_WARN, "drift: no checkpoint predates the change (record %llu); resetting "
                                   "the model instead", (unsigned long long)r->pipe.last_drift.change_at);
        if (rc <= 0 && rtml_pipeline_reset_model(&r->pipe, err, sizeof err) != 0)
            rtml_log(RTML_LOG_ERROR, "drift: the model could not be reset (%s); the current one goes on", err);
    }
}

void rtml_run_drift(rtml_runner *r) {
    if (r->pipe.drift_events == r->mon.drift_seen) return;
    r->mon.drift_seen = r->pipe.drift_events;
    const rtml_drift_event *e = &r->pipe.last_drift;
    rtml_log(RTML_LOG_WARN, "drift detected by %s after %llu evaluated records (error estimate %.4f, change from "
             "about record %llu): %s", rtml_drift_kind_name(r->cfg.drift.detector), (unsigned long long)e->evaluated,
             e->estimation, (unsigned long long)e->change_at, rtml_drift_action_name(r->cfg.drift.action));
    rtml_run_monitor_event(r, e);
    if (r->cfg.drift.topic) {
        rtml_buf ev = RTML_BUF_INIT;
        rtml_drift_event_json(&r->pipe, e, &ev);
        rtml_run_send_event(r, r->cfg.drift.topic, &ev);
        rtml_buf_free(&ev);
    }
    act(r);
}
