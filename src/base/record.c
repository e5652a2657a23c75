/* record.c — names of value types and reject reasons (see record.h). */
#include "base/record.h"

#include <inttypes.h>
#include <stdio.h>

const char *rtml_vtype_name(rtml_vtype t) {
    static const char *const names[] = {"absent", "null", "boolean", "number", "string", "array", "other"};
    return t <= RTML_V_OTHER ? names[t] : "unknown";
}

const char *rtml_reject_name(rtml_reject r) {
    static const char *const names[RTML_REJECT__COUNT] = {
        "none", "malformed", "missing_field", "wrong_type", "not_finite", "bad_label", "too_large", "model_error"};
    return r < RTML_REJECT__COUNT ? names[r] : "unknown";
}

const char *rtml_value_text(const rtml_value *v, char *buf, size_t cap, size_t *len) {
    if (v->type == RTML_V_STRING) return *len = v->len, v->str;
    if (v->type == RTML_V_BOOL) return *len = v->num ? 4 : 5, v->num ? "true" : "false";
    if (v->type != RTML_V_NUMBER) return NULL;
    int n = v->is_int ? snprintf(buf, cap, "%" PRId64, v->i64) : snprintf(buf, cap, "%.17g", v->num);
    *len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    return buf;
}
