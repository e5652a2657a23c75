/* codec.c — picks the decoder for the configured input format (see codec.h). */
#include <stdlib.h>

#include "codec.h"
#include "rtml.h"

static const rtml_decoder_ops *decoder_for(rtml_format f) {
    switch (f) {
    case RTML_FMT_JSON: return &rtml_json_decoder;
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
