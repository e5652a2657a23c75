/* detector.h — a drift detector's settings (drift.detector and its keys in the config; `rtml drift`'s options):
 * which detector, its parameters, River's defaults for them, which parameters each detector reads, and their
 * ranges. The detectors themselves are pipeline/drift.h; the settings live here, below them, because the config
 * checks what a user wrote against them and the pipeline only runs what passed. */
#ifndef RTML_CONFIG_DETECTOR_H
#define RTML_CONFIG_DETECTOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { RTML_DRIFT_NONE = 0, RTML_DRIFT_ADWIN, RTML_DRIFT_PAGE_HINKLEY, RTML_DRIFT_DDM } rtml_drift_kind;

/* A detector's settings. Each kind reads only some fields (rtml_drift_uses); the others are ignored. */
typedef struct {
    rtml_drift_kind kind;
    double delta;            /* ADWIN: confidence (River default 0.002); Page-Hinkley: tolerated change (0.005) */
    double threshold;        /* Page-Hinkley: lambda (50) */
    double alpha;            /* Page-Hinkley: forgetting factor (1 - 0.0001) */
    uint64_t min_instances;  /* Page-Hinkley min_instances (30); DDM warm_start (30); ADWIN grace_period (10) */
    double warning_level;    /* DDM warning threshold (2.0) */
    double drift_level;      /* DDM drift threshold (3.0) */
} rtml_drift_params;

/* Fill p with kind's defaults (River's). RTML_DRIFT_NONE: all zero. */
void rtml_drift_defaults(rtml_drift_kind kind, rtml_drift_params *p);
/* "adwin", "page_hinkley", "ddm" ("none" for RTML_DRIFT_NONE). */
const char *rtml_drift_kind_name(rtml_drift_kind kind);
/* 0, or -1 for an unknown name. Accepts the names above, "none" included. */
int rtml_drift_kind_parse(const char *name, rtml_drift_kind *out);
/* Which params a kind uses, for config validation: a key that does not apply is an error.
 * param: "delta", "threshold", "alpha", "min_instances", "warning_level", "drift_level". */
bool rtml_drift_uses(rtml_drift_kind kind, const char *param);
/* Range check of the fields kind uses (ADWIN 0 < delta < 1; Page-Hinkley delta >= 0, threshold > 0,
 * 0 < alpha <= 1; DDM 0 < warning_level <= drift_level; all finite): 0, or -1 naming the field. */
int rtml_drift_params_check(const rtml_drift_params *p, char *err, size_t errlen);

#endif
