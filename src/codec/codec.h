/* codec.h — the one interface every input decoder implements (json.c, csv.c, avro.c, protobuf.c).
 *
 * A decoder is opened once with the list of field paths the pipeline needs (JSON Pointers such as "/amount"
 * or "/user/age"; CSV names columns the same way: "/amount" is the column "amount"), then decodes each
 * record into one rtml_value per path (record.h). Decoders validate as they go and never read past len;
 * a record they cannot read returns -1 with a reason ("offset 17: unterminated string"), which the pipeline
 * counts as `malformed`. A decode that consumed a header instead of a record (CSV's first line, when the
 * config names no columns) returns 1 and fills nothing: the pipeline skips it without counting it.
 * Like Fluent Bit's plugins: one struct of function pointers per format.
 *
 * Ownership: rtml_decoder_open() returns a decoder the caller frees with rtml_decoder_close(). Decoded values
 * borrow from the record bytes and the decoder's scratch space until the next decode call. */
#ifndef RTML_CODEC_H
#define RTML_CODEC_H
#include <stddef.h>

#include "config.h"
#include "record.h"

typedef struct rtml_decoder rtml_decoder;

typedef struct {
    const char *name; /* "json", "csv", ... */
    /* Build the decoder's state in d->impl; fields are copied if kept. 0, or -1 with a reason. */
    int (*open)(rtml_decoder *d, const rtml_config *cfg, const char *const *fields, size_t n_fields, char *err,
                size_t errlen);
    int (*decode)(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen);
    void (*close)(rtml_decoder *d);
} rtml_decoder_ops;

struct rtml_decoder {
    const rtml_decoder_ops *ops;
    size_t n_fields;
    void *impl; /* owned by the decoder */
};

/* The decoder for cfg->input.format. NULL with a reason for a format this build lacks or a bad schema. */
rtml_decoder *rtml_decoder_open(const rtml_config *cfg, const char *const *fields, size_t n_fields, char *err,
                                size_t errlen);
static inline int rtml_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err,
                              size_t errlen) {
    return d->ops->decode(d, buf, len, out, err, errlen);
}
void rtml_decoder_close(rtml_decoder *d);

extern const rtml_decoder_ops rtml_json_decoder;

#endif
