/* served.h — a record the serve endpoint answered, read back from serve.log_topic into the join store, so that
 * its label (on label.topic, keyed by the request id) makes the model learn it (served.c; docs/serving.md).
 *
 * A log record (JSON, written by run/serve.c) carries the features as served and the scores the client got:
 *   {"key": "a81f", "record": "{\"x1\":0.2,...}" | null,
 *    "features": {"n_inputs": 3, "dense": [0.1, -1.2, 0.4], "sparse": [[3, 1], [17, 0.5]]},
 *    "scores": [0.93], "prediction": 1, "score": 0.93, "model_version": 1, "learned": 1290311}
 * Its Kafka key is the join key. It enters the store as a scored stream record does (labels.c), with the row it
 * was served on and the scores it was given: when its label comes, those scores are evaluated (prequential
 * metrics, drift) and the row learned; a label that came first is joined at once. Feature statistics do not move:
 * the request changed nothing when it was answered, and its row is learned as it was then. */
#ifndef RTML_PIPELINE_SERVED_H
#define RTML_PIPELINE_SERVED_H
#include <stddef.h>

#include "pipeline/core.h"

typedef enum {
    RTML_SERVED_STORED = 0, /* waiting for its label */
    RTML_SERVED_JOINED,     /* its label had come first: evaluated and learned now */
    RTML_SERVED_DUPLICATE,  /* its key is already waiting or was joined: not kept */
    RTML_SERVED_LATE,       /* its label came first, more than label.ttl after it: not learned */
    RTML_SERVED_SKIPPED,    /* re-delivered below its partition's position: already in the store */
    RTML_SERVED_FAILED,     /* out of memory in the store (counted there) */
    RTML_SERVED_REJECTED,   /* not a log record of this model: *why and the detail say why */
} rtml_served_result;

rtml_served_result rtml_pipeline_served(rtml_pipeline *p, const char *doc, size_t len, const rtml_origin *origin,
                                        rtml_reject *why, char *detail, size_t dlen);

#endif
