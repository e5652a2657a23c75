/* featurize.c — the feature pipeline (see featurize.h). */
#include "featurize.h"

#include <math.h>
#include <stdlib.h>

#include "rtml.h"

int rtml_features_init(rtml_features *fs, const rtml_config *cfg, char *err, size_t errlen) {
    fs->n = cfg->n_features;
    fs->f = calloc(fs->n ? fs->n : 1, sizeof *fs->f);
    if (!fs->f) return rtml_fail(err, errlen, "out of memory for %zu features", fs->n);
    for (size_t i = 0; i < fs->n; i++) {
        const rtml_feature *spec = &cfg->features[i];
        fs->f[i].spec = spec;
        fs->f[i].stats = calloc(spec->n_transforms ? spec->n_transforms : 1, sizeof(rtml_welford));
        if (!fs->f[i].stats) {
            rtml_features_free(fs);
            return rtml_fail(err, errlen, "out of memory for feature statistics");
        }
    }
    return 0;
}

void rtml_features_free(rtml_features *fs) {
    for (size_t i = 0; fs->f && i < fs->n; i++) free(fs->f[i].stats);
    free(fs->f);
    fs->f = NULL;
    fs->n = 0;
}

static double apply_one(const rtml_transform *t, rtml_welford *w, double v) {
    switch (t->kind) {
    case RTML_TX_STANDARDIZE: {
        rtml_welford_add(w, v);
        double sd = rtml_welford_std(w);
        return sd > 0 ? (v - w->mean) / sd : 0.0;
    }
    case RTML_TX_LOG1P: return log1p(v > 0 ? v : 0);
    case RTML_TX_CLIP: return v < t->a ? t->a : v > t->b ? t->b : v;
    }
    return v;
}

void rtml_features_apply(rtml_features *fs, const double *raw, double *x) {
    for (size_t i = 0; i < fs->n; i++) {
        const rtml_feature *spec = fs->f[i].spec;
        double v = raw[i];
        for (size_t k = 0; k < spec->n_transforms; k++) v = apply_one(&spec->transforms[k], &fs->f[i].stats[k], v);
        x[i] = v;
    }
}
