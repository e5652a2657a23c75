/* codec.h — the one interface every input decoder implements (json.c, csv.c, avro.c, protobuf.c), and the
 * one every binary encoder of prediction records implements (avro_encode.c, protobuf_encode.c).
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
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/record.h"

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
extern const rtml_decoder_ops rtml_csv_decoder;      /* csv.c */
extern const rtml_decoder_ops rtml_avro_decoder;     /* avro.c */
extern const rtml_decoder_ops rtml_protobuf_decoder; /* protobuf.c */

/* Split a JSON Pointer ("/user/age", "~1" and "~0" unescaped) into its segments, for the schema-driven
 * decoders. Returns one malloc'd block (free() it): *n segments as a NULL-terminated array of strings.
 * NULL with a reason for "" (the whole record), a pointer not starting with '/', a '~' not followed by
 * 0 or 1, or more than RTML_POINTER_MAX_DEPTH segments. */
#define RTML_POINTER_MAX_DEPTH 64
char **rtml_pointer_split(const char *ptr, size_t *n, char *err, size_t errlen);

/* ---- Avro output (output.format: avro), avro_encode.c ------------------------------------------------
 * The prediction record in Avro binary. The schema is cfg->output.schema (an .avsc record) or, when none
 * is configured, the built-in one (rtml_avro_prediction_schema()):
 *   {prediction: long | double | string, score: double, model_version: long,
 *    source: null | {topic: string, partition: int, offset: long}}
 * A configured schema may name these fields in any order, leave some out, widen or narrow them (int/long/
 * float/double/string, unions with null); a field rtml does not know must be nullable and is written as
 * null. Output is a bare datum (no Confluent framing: the config names no schema id) unless
 * rtml_avro_encoder_set_schema_id() sets one, then 0x00 + the id (big-endian) + the datum. */
typedef struct {
    const char *label;     /* the predicted class name (multiclass), or NULL: the prediction is `value` */
    double value;          /* binary: 0/1; regression: the estimate; multiclass without names: the index */
    int is_class;          /* value is a class index: written as a long where the schema allows */
    double score;
    int64_t model_version;
    const char *topic;     /* the source record's coordinates; NULL = none (replay): source is null */
    int32_t partition;
    int64_t offset;
} rtml_prediction_fields;

typedef struct rtml_avro_encoder rtml_avro_encoder;

/* Open from cfg->output.schema (NULL: the built-in schema). NULL with a reason for an unreadable schema or
 * one rtml cannot fill (not a record, a non-nullable field rtml does not know, a type that cannot hold it). */
rtml_avro_encoder *rtml_avro_encoder_open(const rtml_config *cfg, char *err, size_t errlen);
/* Prefix every datum with the Confluent wire header (0x00, id big-endian); id < 0 turns it off (default). */
void rtml_avro_encoder_set_schema_id(rtml_avro_encoder *e, int64_t id);
/* Append the datum for p to out. -1 with a reason when a value does not fit the schema (a class name for a
 * numeric-only prediction field, a source for a schema whose source is not nullable and p->topic NULL). */
int rtml_avro_encode_prediction(const rtml_avro_encoder *e, const rtml_prediction_fields *p, rtml_buf *out,
                                char *err, size_t errlen);
void rtml_avro_encoder_close(rtml_avro_encoder *e);
/* The built-in prediction schema (.avsc JSON text), for consumers and schema registries. */
const char *rtml_avro_prediction_schema(void);

/* ---- prediction encoders (output.format avro | protobuf) --------------------------------------------
 * The pipeline writes JSON predictions itself; a binary output format goes through one of these, opened
 * once from the config (output.schema, output.message, output.schema_id) and called once per prediction. */
typedef struct rtml_encoder rtml_encoder;

typedef struct {
    const char *name;
    int (*open)(rtml_encoder *e, const rtml_config *cfg, char *err, size_t errlen); /* fills e->impl */
    /* Append p's record to out; -1 with a reason (and nothing appended) when a value does not fit. */
    int (*encode)(const rtml_encoder *e, const rtml_prediction_fields *p, rtml_buf *out, char *err, size_t errlen);
    void (*close)(rtml_encoder *e);
} rtml_encoder_ops;

struct rtml_encoder {
    const rtml_encoder_ops *ops;
    void *impl; /* owned by the encoder */
};

/* The encoder for cfg->output.format (avro, protobuf). NULL with a reason for json (the pipeline's own), a
 * format this build lacks, or a schema/message it cannot fill. Free with rtml_encoder_close(). */
rtml_encoder *rtml_encoder_open(const rtml_config *cfg, char *err, size_t errlen);
static inline int rtml_encode_prediction(const rtml_encoder *e, const rtml_prediction_fields *p, rtml_buf *out,
                                         char *err, size_t errlen) {
    return e->ops->encode(e, p, out, err, errlen);
}
void rtml_encoder_close(rtml_encoder *e);

extern const rtml_encoder_ops rtml_avro_encoder_ops;     /* avro_encode.c */
extern const rtml_encoder_ops rtml_protobuf_encoder_ops; /* protobuf_encode.c */

#endif
