/* model.c — what the pipeline's files read off its model (model.h). */
#include "pipeline/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

/* The class index of a multiclass label; a new name is added while there is room. -1 when unknown. */
static int class_index(rtml_pipeline *p, const rtml_value *v) {
    char num[32];
    const char *name = v->str;
    size_t len = v->len;
    if (v->type == RTML_V_NUMBER && v->is_int) {
        len = (size_t)snprintf(num, sizeof num, "%lld", (long long)v->i64);
        name = num;
    } else if (v->type != RTML_V_STRING) {
        return -1;
    }
    for (size_t i = 0; i < p->n_classes; i++)
        if (strlen(p->classes[i]) == len && memcmp(p->classes[i], name, len) == 0) return (int)i;
    if (p->cfg->model.classes || p->n_classes >= p->cfg->model.n_classes) return -1;
    char *copy = strndup(name, len);
    if (!copy) return -1;
    p->classes[p->n_classes] = copy;
    return (int)p->n_classes++;
}

int rtml_pipeline_label_value(rtml_pipeline *p, const rtml_value *v, const char *field, double *y, char *detail,
                              size_t dlen) {
    if (v->type == RTML_V_ABSENT || v->type == RTML_V_NULL) return 0;
    if (p->engine->task == RTML_TASK_MULTICLASS) {
        int k = class_index(p, v);
        if (k < 0) {
            rtml_fail(detail, dlen, "label %s is not one of the %zu classes", field, p->cfg->model.n_classes);
            return -RTML_REJECT_BAD_LABEL;
        }
        *y = k;
        return 1;
    }
    if ((v->type != RTML_V_NUMBER && v->type != RTML_V_BOOL) || !isfinite(v->num)) {
        rtml_fail(detail, dlen, "label %s is not a finite number (%s)", field, rtml_vtype_name(v->type));
        return -RTML_REJECT_BAD_LABEL;
    }
    *y = v->num;
    if (p->engine->task == RTML_TASK_BINARY && *y != 0.0 && *y != 1.0) {
        rtml_fail(detail, dlen, "label %s must be 0 or 1 for a binary model, got %g", field, *y);
        return -RTML_REJECT_BAD_LABEL;
    }
    return 1;
}

/* The index of the predicted class (multiclass: arg max). */
size_t rtml_pipeline_best_class(const rtml_pipeline *p, const double *s) {
    size_t best = 0;
    for (size_t k = 1; k < p->engine->n_outputs; k++)
        if (s[k] > s[best]) best = k;
    return best;
}

/* An engine that versions its own model (TensorFlow's numbered SavedModels) says; else the pipeline counts. */
int64_t rtml_pipeline_model_version(const rtml_pipeline *p) {
    return p->engine->version ? p->engine->version : p->model_version;
}
