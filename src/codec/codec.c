/* codec.c — picks the decoder for the configured input format and the encoder for the output format (see
 * codec.h), and the JSON Pointer splitter the schema-driven decoders (CSV, Avro, Protobuf) share. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "config/input.h"
#include "base/rtml.h"

static const rtml_decoder_ops *decoder_for(rtml_format f) {
    switch (f) {
    case RTML_FMT_JSON: return &rtml_json_decoder;
    case RTML_FMT_CSV: return &rtml_csv_decoder;
    case RTML_FMT_AVRO: return &rtml_avro_decoder;
    case RTML_FMT_PROTOBUF: return &rtml_protobuf_decoder;
    default: return NULL;
    }
}

rtml_decoder *rtml_decoder_open(const rtml_config *cfg, const char *const *fields, size_t n_fields, char *err,
                                size_t errlen) {
    const rtml_decoder_ops *ops = decoder_for(cfg->input.format);
    if (!ops) {
        rtml_fail(err, errlen, "input.format: '%s' is not available in this rtml version",
                  rtml_format_name(cfg->input.format));
        return NULL;
    }
    rtml_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    d->ops = ops;
    d->n_fields = n_fields;
    if (ops->open(d, cfg, fields, n_fields, err, errlen) != 0) {
        rtml_decoder_close(d);
        return NULL;
    }
    return d;
}

void rtml_decoder_close(rtml_decoder *d) {
    if (!d) return;
    d->ops->close(d);
    free(d);
}

static const rtml_encoder_ops *encoder_for(rtml_format f) {
    switch (f) {
    case RTML_FMT_AVRO: return &rtml_avro_encoder_ops;
    case RTML_FMT_PROTOBUF: return &rtml_protobuf_encoder_ops;
    default: return NULL;
    }
}

rtml_encoder *rtml_encoder_open(const rtml_config *cfg, char *err, size_t errlen) {
    const rtml_encoder_ops *ops = encoder_for(cfg->output.format);
    if (!ops) {
        rtml_fail(err, errlen, "output.format: '%s' has no binary encoder", rtml_format_name(cfg->output.format));
        return NULL;
    }
    rtml_encoder *e = calloc(1, sizeof *e);
    if (!e) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    e->ops = ops;
    if (ops->open(e, cfg, err, errlen) != 0) {
        rtml_encoder_close(e);
        return NULL;
    }
    return e;
}

void rtml_encoder_close(rtml_encoder *e) {
    if (!e) return;
    e->ops->close(e);
    free(e);
}

/* Check ptr and count its segments; -1 with a reason. */
static int pointer_count(const char *ptr, size_t *n, char *err, size_t errlen) {
    if (!ptr || ptr[0] != '/')
        return rtml_fail(err, errlen, "field '%s': a JSON Pointer starts with '/'", ptr ? ptr : "");
    *n = 0;
    for (const char *p = ptr; *p; p++) {
        if (*p == '/') ++*n;
        else if (*p == '~' && p[1] != '0' && p[1] != '1')
            return rtml_fail(err, errlen, "field '%s': '~' must be followed by 0 or 1", ptr);
    }
    if (*n > RTML_POINTER_MAX_DEPTH)
        return rtml_fail(err, errlen, "field '%s': deeper than %d segments", ptr, RTML_POINTER_MAX_DEPTH);
    return 0;
}

char **rtml_pointer_split(const char *ptr, size_t *n, char *err, size_t errlen) {
    if (pointer_count(ptr, n, err, errlen) != 0) return NULL;
    size_t len = strlen(ptr);
    char **segs = malloc((*n + 1) * sizeof *segs + len + 1);
    if (!segs) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    char *text = (char *)(segs + *n + 1);
    size_t k = 0;
    for (const char *p = ptr; *p;) {
        p++; /* the '/' */
        segs[k++] = text;
        for (; *p && *p != '/'; p++) *text++ = *p == '~' ? (*++p == '1' ? '/' : '~') : *p;
        *text++ = '\0';
    }
    segs[k] = NULL;
    return segs;
}
