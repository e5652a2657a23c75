/* record.c — names of value types and reject reasons (see record.h). */
#include "base/record.h"

const char *rtml_vtype_name(rtml_vtype t) {
    static const char *const names[] = {"absent", "null", "boolean", "number", "string", "array", "other"};
    return t <= RTML_V_OTHER ? names[t] : "unknown";
}

const char *rtml_reject_name(rtml_reject r) {
    static const char *const names[RTML_REJECT__COUNT] = {
        "none", "malformed", "missing_field", "wrong_type", "not_finite", "bad_label", "too_large", "model_error"};
    return r < RTML_REJECT__COUNT ? names[r] : "unknown";
}
