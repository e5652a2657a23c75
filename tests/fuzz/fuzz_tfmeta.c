/* fuzz_tfmeta.c — libFuzzer target for the MetaGraphDef reader (src/engine/tf_meta.c), which reads the
 * signatures of any SavedModel rtml is pointed at.
 *
 * The input is copied into a malloc'd buffer of exactly its size so ASan sees any read past the end.
 * Invariants, checked with abort():
 *   - parse returns a tree or NULL with a reason that starts "offset N:" (or names a too-deep shape);
 *   - signatures are sorted by name and their inputs and outputs by key, every string is NUL-terminated
 *     within the tree, and ranks are -1..8. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tf/tf_meta.h"
#include "base/rtml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tensors(const rtml_tf_tensor_info *t, size_t n) {
    char buf[128];
    for (size_t i = 0; i < n; i++) {
        if (!t[i].key || t[i].rank < -1 || t[i].rank > RTML_TF_MAX_RANK) abort();
        if (i && strcmp(t[i - 1].key, t[i].key) >= 0) abort();
        rtml_tf_shape_str(&t[i], buf, sizeof buf);
        rtml_tf_dtype_name(t[i].dtype, buf, sizeof buf);
        if (t[i].tensor) (void)strlen(t[i].tensor);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    char err[RTML_ERRLEN] = "";
    rtml_tf_meta *m = rtml_tf_meta_parse(copy, size, err, sizeof err);
    if (!m) {
        if (strncmp(err, "offset ", 7) != 0 && !strstr(err, "dimensions") && !strstr(err, "out of memory")) abort();
    } else {
        for (size_t i = 0; i < m->n_signatures; i++) {
            const rtml_tf_signature *s = &m->signatures[i];
            if (!s->name || !s->method) abort();
            if (i && strcmp(m->signatures[i - 1].name, s->name) >= 0) abort();
            check_tensors(s->inputs, s->n_inputs);
            check_tensors(s->outputs, s->n_outputs);
            if (rtml_tf_meta_signature(m, s->name) != s) abort();
        }
        rtml_tf_meta_free(m);
    }
    free(copy);
    return 0;
}
