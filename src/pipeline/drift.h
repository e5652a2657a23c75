/* drift.h — concept-drift detectors on a model's prequential error stream: ADWIN, Page-Hinkley and DDM.
 *
 * A model that stops being right is the first sign that the world it learned has changed. The pipeline feeds
 * each labelled record's error to one detector (classification: 0 = right, 1 = wrong; regression: |error|)
 * and acts when it fires (alert, reset, rollback). The three detectors follow River 0.26.1 step for step
 * (river.drift.ADWIN, river.drift.PageHinkley in mode "both", river.drift.binary.DDM), so that fed the same
 * values they fire at the same indices; tests/parity/drift.sh checks it and docs/drift.md tells the rest:
 *   - ADWIN (Bifet & Gavalda 2007): an adaptive window kept as an exponential histogram (River's clock 32,
 *     max_buckets 5, min_window_length 5); every 32 values it cuts the window's old part while the means of
 *     the two parts differ by more than a Hoeffding-style bound for confidence delta. Any bounded values.
 *   - Page-Hinkley: two cumulative sums of (x - running mean -/+ delta), faded by alpha; fires when either
 *     moves more than threshold away from its extreme. Any values.
 *   - DDM (Gama et al. 2004): the error rate p and its binomial deviation s; fires when p + s exceeds the
 *     lowest p_min + s_min seen by drift_level * s_min (warning at warning_level). Error bits (0/1) only.
 * As in River, a detector that fired starts afresh at the next value (ADWIN included: a new, empty window).
 *
 * Errors are values (rtml.h). A detector owns no memory but itself; it is not thread-safe (one per pipeline). */
#ifndef RTML_DRIFT_H
#define RTML_DRIFT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/binfmt.h"
#include "config/detector.h" /* rtml_drift_kind, rtml_drift_params: a detector's settings */

typedef struct rtml_drift rtml_drift; /* opaque */

/* A detector with a copy of p (RTML_DRIFT_NONE: one that counts values and never fires). NULL when out of
 * memory. The caller owns it: rtml_drift_free. */
rtml_drift *rtml_drift_new(const rtml_drift_params *p);
void rtml_drift_free(rtml_drift *d);
/* Feed one value of the error stream (classification: 0 = right, 1 = wrong; regression: |error|). True when
 * a drift is detected at this value. After a detection each detector continues as River's does: the next
 * value starts it afresh. A value that is not finite (NaN, inf) is ignored (not counted, returns false): one
 * would poison every later statistic. */
bool rtml_drift_update(rtml_drift *d, double x);
/* Forget everything (after the model was reset); `seen`, `detections` and `change_at` are kept. */
void rtml_drift_reset(rtml_drift *d);

typedef struct {
    uint64_t seen;        /* values fed since creation (not cleared by detections or reset) */
    double estimation;    /* the detector's current estimate of the stream's mean */
    uint64_t width;       /* values the estimate covers (ADWIN: window width) */
    bool warning;         /* DDM: in the warning zone */
    uint64_t detections;  /* drifts detected since creation */
    uint64_t change_at;   /* where the latest detected change began, as a `seen` count: the number of values
                             before the first one of the new regime, i.e. its 0-based index (ADWIN: the start
                             of the window that survived the cut; DDM: where the warning zone began, or the
                             detection itself; Page-Hinkley: the value after the one where the cumulative
                             statistic that fired was last at its minimum/maximum); 0 before any */
} rtml_drift_state;
void rtml_drift_state_get(const rtml_drift *d, rtml_drift_state *s);

/* Checkpoint support (binfmt.h's rtml_writer/rtml_reader): the whole detector state, so a restart goes on
 * exactly where it stopped. load into a detector made with the same params: 0, or -1 with a reason (a
 * truncated or corrupt image, another kind or other params); on failure d is unchanged. */
void rtml_drift_save(const rtml_drift *d, rtml_writer *w);
int rtml_drift_load(rtml_drift *d, rtml_reader *r, char *err, size_t errlen);

#endif
