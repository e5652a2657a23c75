/* tf_feed.h — how rows become the input tensors of a TensorFlow signature, and outputs become numbers.
 *
 * A feed is one signature input and what fills it, per model.tensorflow.inputs:
 *   features   the named features' values side by side (dense slots copied, sparse blocks scattered into
 *              zeros), one row of `width` numbers per record;
 *   field      one raw field of the record: a number, a string (string inputs), or an array of `width`.
 * The tensor's dtype and rank come from the signature (float32/float64/int32/int64/bool/string; rank 1
 * [batch] when one value per record, rank 2 [batch, width] otherwise, unknown rank fed as rank 2).
 * Ownership: feeds belong to the engine; rtml_tf_feed_tensor() returns a tensor the caller deletes with
 * rtml_tf_tensor_free() (which also releases string elements). */
#ifndef RTML_ENGINE_TF_FEED_H
#define RTML_ENGINE_TF_FEED_H
#include <stddef.h>


#include "engine/engine.h"
#include "engine/tf/tf_api.h"
#include "engine/tf/tf_meta.h"

typedef struct {
    char *name;          /* the signature input */
    rtml_row_span *spans; /* features: where each named feature sits in a row (owned) */
    size_t n_spans;
    int is_field;        /* field: row->raw[raw] */
    size_t raw;
    const char *field;   /* its JSON Pointer (borrowed from the config), for messages */
    size_t width;        /* values per record (features: the spans' total; field: from the signature) */
} rtml_tf_feed;

/* How a feed enters one signature: its endpoint, dtype and the rank rtml feeds. */
typedef struct {
    TF_Output port;
    int dtype;
    int rank;
} rtml_tf_port;

/* Check that a signature input can take the feed: dtype and shape. A field feed learns its width here
 * (the signature's second dimension, 1 when there is none). -1 with a reason naming the input. */
int rtml_tf_feed_check(rtml_tf_feed *feed, const rtml_tf_tensor_info *info, const char *signature, char *err,
                       size_t errlen);

/* Can this record's raw value feed the input (with the serving dtype)? RTML_REJECT_NONE, or why not. */
rtml_reject rtml_tf_feed_accept(const rtml_tf_feed *feed, int dtype, const rtml_row *row, char *detail, size_t dlen);

/* The input tensor for n rows. NULL only when out of memory. */
TF_Tensor *rtml_tf_feed_tensor(const rtml_tf_feed *feed, const rtml_tf_port *port, const rtml_row *rows, size_t n);

/* A label tensor: y as the port's dtype, rank 1 [n] or rank 2 [n, 1]. */
TF_Tensor *rtml_tf_label_tensor(const rtml_tf_port *port, const double *y, size_t n);

void rtml_tf_tensor_free(TF_Tensor *t);

/* An output tensor's values as doubles into out (n * width of them): float/double/int32/int64/bool.
 * *width gets the values per record. -1 with a reason when its type or shape does not fit n records. */
int rtml_tf_output_values(const TF_Tensor *t, size_t n, double *out, size_t max_width, size_t *width, char *err,
                          size_t errlen);

#endif
