/* detector.c — drift detectors' kinds, defaults, parameters and ranges (see detector.h). */
#include "config/detector.h"

#include <math.h>
#include <string.h>

#include "base/rtml.h"

static const char *const kind_names[] = {"none", "adwin", "page_hinkley", "ddm"};

void rtml_drift_defaults(rtml_drift_kind kind, rtml_drift_params *p) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    switch (kind) {
    case RTML_DRIFT_ADWIN:
        p->delta = 0.002;
        p->min_instances = 10;
        break;
    case RTML_DRIFT_PAGE_HINKLEY:
        p->delta = 0.005;
        p->threshold = 50.0;
        p->alpha = 1 - 0.0001;
        p->min_instances = 30;
        break;
    case RTML_DRIFT_DDM:
        p->min_instances = 30;
        p->warning_level = 2.0;
        p->drift_level = 3.0;
        break;
    case RTML_DRIFT_NONE:
        break;
    }
}

const char *rtml_drift_kind_name(rtml_drift_kind kind) {
    if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0]) return "unknown";
    return kind_names[kind];
}

int rtml_drift_kind_parse(const char *name, rtml_drift_kind *out) {
    for (unsigned k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++) {
        if (name && strcmp(name, kind_names[k]) == 0) {
            *out = (rtml_drift_kind)k;
            return 0;
        }
    }
    return -1;
}

bool rtml_drift_uses(rtml_drift_kind kind, const char *param) {
    static const char *const adwin[] = {"delta", "min_instances", NULL};
    static const char *const ph[] = {"delta", "threshold", "alpha", "min_instances", NULL};
    static const char *const ddm[] = {"min_instances", "warning_level", "drift_level", NULL};
    const char *const *used = kind == RTML_DRIFT_ADWIN ? adwin
                            : kind == RTML_DRIFT_PAGE_HINKLEY ? ph
                            : kind == RTML_DRIFT_DDM ? ddm : NULL;
    for (; param && used && *used; used++)
        if (strcmp(*used, param) == 0) return true;
    return false;
}

int rtml_drift_params_check(const rtml_drift_params *p, char *err, size_t errlen) {
    switch (p->kind) {
    case RTML_DRIFT_NONE:
        return 0;
    case RTML_DRIFT_ADWIN:
        if (!(p->delta > 0 && p->delta < 1)) return rtml_fail(err, errlen, "adwin: delta must be in (0, 1)");
        return 0;
    case RTML_DRIFT_PAGE_HINKLEY:
        if (!(p->delta >= 0 && isfinite(p->delta)))
            return rtml_fail(err, errlen, "page_hinkley: delta must be a finite number >= 0");
        if (!(p->threshold > 0 && isfinite(p->threshold)))
            return rtml_fail(err, errlen, "page_hinkley: threshold must be a finite number > 0");
        if (!(p->alpha > 0 && p->alpha <= 1)) return rtml_fail(err, errlen, "page_hinkley: alpha must be in (0, 1]");
        return 0;
    case RTML_DRIFT_DDM:
        if (!(p->warning_level > 0 && isfinite(p->warning_level)))
            return rtml_fail(err, errlen, "ddm: warning_level must be a finite number > 0");
        if (!(p->drift_level >= p->warning_level && isfinite(p->drift_level)))
            return rtml_fail(err, errlen, "ddm: drift_level must be a finite number >= warning_level");
        return 0;
    }
    return rtml_fail(err, errlen, "unknown drift detector kind %d", (int)p->kind);
}

