/* tf_none.c — the TensorFlow engine's place in a build without TensorFlow (RTML_TENSORFLOW=OFF, or no
 * tensorflow-cpu wheel in .venv): `engine: tensorflow` fails at `rtml check` and at start with a reason
 * that says how to get it, instead of a link error or a silent fallback. */
#include <stdio.h>

#include "engine/engine.h"
#include "base/rtml.h"

int rtml_tf_available(void) { return 0; }

const char *rtml_tf_version(void) { return ""; }

const char *rtml_tf_library_info(char *buf, size_t len) {
    snprintf(buf, len, "none: this rtml was built without TensorFlow");
    return buf;
}

rtml_engine *rtml_tf_open(const rtml_config *cfg, const rtml_row_span *layout, size_t n_spans,
                          const rtml_shape *shape, char *err, size_t errlen) {
    rtml_fail(err, errlen, "model.engine: this rtml was built without TensorFlow; run scripts/setup.sh (it installs "
                           "the pinned tensorflow-cpu wheel into .venv) and rebuild, or use engine: native");
    return NULL;
}

int rtml_tf_use_version(rtml_engine *e, int64_t version, char *err, size_t errlen) {
    return rtml_fail(err, errlen, "this rtml was built without TensorFlow");
}
