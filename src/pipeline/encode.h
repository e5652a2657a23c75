/* encode.h — a scored record as its prediction record (encode.c): JSON, rtml's own, or through the binary
 * encoder of output.format avro or protobuf (codec.h). */
#ifndef RTML_PIPELINE_ENCODE_H
#define RTML_PIPELINE_ENCODE_H
#include <stddef.h>

#include "pipeline/core.h"

/* Append record i's prediction (scores s, origin o, feature row row: output.features) to out. 0, or -1 with a
 * reason when the binary encoder cannot hold it (a user schema: nothing is appended then). */
int rtml_pipeline_encode(rtml_pipeline *p, const double *s, size_t i, const rtml_batch_item *o, const rtml_row *row,
                         rtml_buf *out, char *detail, size_t dlen);

/* output.features_topic's record for a row: {"features":{...},"model_version":N,"source":{...}}. */
void rtml_pipeline_encode_features(rtml_pipeline *p, const rtml_batch_item *o, const rtml_row *row, rtml_buf *out);

#endif
