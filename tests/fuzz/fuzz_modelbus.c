/* fuzz_modelbus.c — libFuzzer target for the model topic's record values (modelbus.c): whatever anyone
 * produced to the topic reaches these decoders.
 *
 * Each input is tried as a version's value (with its image inflated, and as a listing without it), as a
 * policy record and as a key. Every call must fail cleanly or succeed, never crash, leak or read out of
 * bounds. What decodes must also survive a round trip: encoded again it decodes to the same metadata and the
 * same image bytes (so the encoder never writes what the decoder refuses, and the decoder never invents). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/modelbus.h"
#include "base/rtml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip_version(const rtml_model_meta *m, const rtml_buf *image) {
    rtml_buf value = RTML_BUF_INIT, again = RTML_BUF_INIT;
    rtml_model_meta m2;
    char err[RTML_ERRLEN];
    if (rtml_modelbus_encode_version(m, image->data, image->len, &value, err, sizeof err) != 0) abort();
    if (rtml_modelbus_decode_version(value.data, value.len, &m2, &again, err, sizeof err) != 0) abort();
    if (memcmp(m, &m2, sizeof *m) != 0) abort();
    if (again.len != image->len || (image->len && memcmp(again.data, image->data, image->len) != 0)) abort();
    rtml_buf_free(&value);
    rtml_buf_free(&again);
}

static void round_trip_policy(const rtml_model_policy *p) {
    rtml_buf value = RTML_BUF_INIT;
    rtml_model_policy p2;
    char err[RTML_ERRLEN];
    rtml_modelbus_encode_policy(p, &value);
    if (rtml_modelbus_decode_policy(value.data, value.len, &p2, err, sizeof err) != 0) abort();
    if (p2.pinned != p->pinned || p2.rollback != p->rollback || p2.at != p->at || strcmp(p2.by, p->by) != 0) abort();
    rtml_buf_free(&value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[RTML_ERRLEN];
    rtml_model_meta m, listed;
    rtml_buf image = RTML_BUF_INIT;
    int full = rtml_modelbus_decode_version(data, size, &m, &image, err, sizeof err);
    int meta_only = rtml_modelbus_decode_version(data, size, &listed, NULL, err, sizeof err);
    if (full == 0 && (meta_only != 0 || memcmp(&m, &listed, sizeof m) != 0)) abort(); /* a listing agrees */
    if (full == 0 && image.len != m.image_bytes) abort();
    if (full != 0 && image.len != 0) abort(); /* no half image on failure */
    if (full == 0) round_trip_version(&m, &image);
    rtml_buf_free(&image);

    rtml_model_policy p;
    if (rtml_modelbus_decode_policy(data, size, &p, err, sizeof err) == 0) round_trip_policy(&p);

    int64_t v = rtml_modelbus_parse_key(data, size);
    if (v > 0) { /* a key that parses is the canonical one */
        char key[32];
        rtml_modelbus_version_key(v, key, sizeof key);
        if (strlen(key) != size || memcmp(key, data, size) != 0) abort();
    }
    return 0;
}
