/* featurize.c — the feature pipeline (see featurize.h). */
#include "featurize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rtml.h"
#include "stats.h"

typedef struct {
    const rtml_feature *spec; /* borrowed from the config */
    rtml_welford *stats;      /* one per transform step (standardize), owned */
} feature_state;

struct rtml_featurizer {
    feature_state *f;
    size_t n;
    const char **fields; /* n field paths (borrowed strings) */
    double *raw, *dense;
};

rtml_featurizer *rtml_featurizer_new(const rtml_config *cfg, char *err, size_t errlen) {
    rtml_featurizer *fz = calloc(1, sizeof *fz);
    size_t n = cfg->n_features;
    if (!fz) goto oom;
    fz->n = n;
    fz->f = calloc(n ? n : 1, sizeof *fz->f);
    fz->fields = calloc(n ? n : 1, sizeof *fz->fields);
    fz->raw = calloc(n ? n : 1, sizeof *fz->raw);
    fz->dense = calloc(n ? n : 1, sizeof *fz->dense);
    if (!fz->f || !fz->fields || !fz->raw || !fz->dense) goto oom;
    for (size_t i = 0; i < n; i++) {
        const rtml_feature *spec = &cfg->features[i];
        fz->f[i].spec = spec;
        fz->fields[i] = spec->field;
        fz->f[i].stats = calloc(spec->n_transforms ? spec->n_transforms : 1, sizeof(rtml_welford));
        if (!fz->f[i].stats) goto oom;
    }
    return fz;
oom:
    rtml_featurizer_free(fz);
    rtml_fail(err, errlen, "out of memory for %zu features", n);
    return NULL;
}

void rtml_featurizer_free(rtml_featurizer *fz) {
    if (!fz) return;
    for (size_t i = 0; fz->f && i < fz->n; i++) free(fz->f[i].stats);
    free(fz->f);
    free(fz->fields);
    free(fz->raw);
    free(fz->dense);
    free(fz);
}

const char *const *rtml_featurizer_fields(const rtml_featurizer *fz, size_t *n) {
    *n = fz->n;
    return fz->fields;
}

rtml_shape rtml_featurizer_shape(const rtml_featurizer *fz) { return (rtml_shape){fz->n, fz->n, 0}; }

static double apply_one(const rtml_transform *t, rtml_welford *w, double v) {
    switch (t->kind) {
    case RTML_TX_STANDARDIZE: {
        rtml_welford_add(w, v);
        double sd = rtml_welford_std(w);
        return sd > 0 ? (v - w->mean) / sd : 0.0;
    }
    case RTML_TX_LOG1P: return log1p(v > 0 ? v : 0);
    case RTML_TX_CLIP: return v < t->a ? t->a : v > t->b ? t->b : v;
    default: return v; /* the config parser admits only the kinds above until featurize grows the rest */
    }
    return v;
}

rtml_reject rtml_featurizer_apply(rtml_featurizer *fz, const rtml_value *values, rtml_row *row, char *detail,
                                  size_t dlen) {
    for (size_t i = 0; i < fz->n; i++) { /* check everything before any statistic changes */
        const rtml_value *v = &values[i];
        if (v->type == RTML_V_ABSENT || v->type == RTML_V_NULL) {
            rtml_fail(detail, dlen, "field %s is missing", fz->fields[i]);
            return RTML_REJECT_MISSING_FIELD;
        }
        if (v->type != RTML_V_NUMBER && v->type != RTML_V_BOOL) {
            rtml_fail(detail, dlen, "field %s is not a number (%s)", fz->fields[i], rtml_vtype_name(v->type));
            return RTML_REJECT_WRONG_TYPE;
        }
        if (!isfinite(v->num)) {
            rtml_fail(detail, dlen, "field %s is not finite", fz->fields[i]);
            return RTML_REJECT_NOT_FINITE;
        }
        fz->raw[i] = v->num;
    }
    for (size_t i = 0; i < fz->n; i++) {
        const rtml_feature *spec = fz->f[i].spec;
        double v = fz->raw[i];
        for (size_t k = 0; k < spec->n_transforms; k++) v = apply_one(&spec->transforms[k], &fz->f[i].stats[k], v);
        fz->dense[i] = v;
    }
    *row = (rtml_row){.dense = fz->dense};
    return RTML_REJECT_NONE;
}

void rtml_featurizer_save(const rtml_featurizer *fz, rtml_writer *w) {
    rtml_w_u32(w, (uint32_t)fz->n);
    for (size_t i = 0; i < fz->n; i++) {
        rtml_w_u32(w, (uint32_t)fz->f[i].spec->n_transforms);
        for (size_t k = 0; k < fz->f[i].spec->n_transforms; k++) {
            const rtml_welford *s = &fz->f[i].stats[k];
            rtml_w_u64(w, s->n);
            rtml_w_f64(w, s->mean);
            rtml_w_f64(w, s->m2);
        }
    }
}

int rtml_featurizer_load(rtml_featurizer *fz, rtml_reader *r, char *err, size_t errlen) {
    if (rtml_r_u32(r) != fz->n) return rtml_fail(err, errlen, "feature statistics are for a different feature list");
    for (size_t i = 0; i < fz->n; i++) {
        if (rtml_r_u32(r) != fz->f[i].spec->n_transforms)
            return rtml_fail(err, errlen, "feature statistics of %s are for other transforms", fz->f[i].spec->name);
        for (size_t k = 0; k < fz->f[i].spec->n_transforms; k++) {
            rtml_welford *s = &fz->f[i].stats[k];
            s->n = rtml_r_u64(r);
            s->mean = rtml_r_f64(r);
            s->m2 = rtml_r_f64(r);
        }
    }
    return r->failed ? rtml_fail(err, errlen, "feature statistics are truncated") : 0;
}
