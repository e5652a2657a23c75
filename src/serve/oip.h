/* oip.h — the Open Inference Protocol's inference request (KServe v2 REST), read strictly (oip.c; fuzzed by
 * tests/fuzz/fuzz_oip.c).
 *
 *   {"id": "a81f",                                           optional: the answer's id, and the log topic's key
 *    "inputs": [{"name": "records", "datatype": "BYTES",     one input: raw records in the input format...
 *                "shape": [2], "data": ["{\"x1\":0.1}", "{\"x1\":0.7}"]}],
 *    "outputs": [{"name": "score"}]}                         optional: which outputs to answer (default
 *                                                            prediction and score, plus key with a log topic)
 * or ready features: {"name": "features", "datatype": "FP32" | "FP64", "shape": [n, n_inputs], "data": [...]},
 * the rows as the engine sees them (the featurizer's layout; zeros where a sparse input is off). Data may be
 * flat (row-major) or nested, and must hold exactly the shape's count. Triton's binary tensor extension is read
 * too: with an Inference-Header-Content-Length header the JSON is the body's first header_len bytes, and an
 * input whose parameters say binary_data_size takes that many bytes of what follows (BYTES elements as a 4-byte
 * little-endian length and the bytes; FP32/FP64 little-endian). Unknown top-level keys and parameters are
 * ignored, as the protocol allows.
 *
 * Every refusal is a status and a reason: 400 for what is malformed (not JSON, no input, a wrong name,
 * datatype or shape, data that does not match the shape), 413 for more records than the limit. */
#ifndef RTML_SERVE_OIP_H
#define RTML_SERVE_OIP_H
#include <stddef.h>

#include "base/buf.h"

#define RTML_OIP_ID_MAX 256

typedef enum { RTML_OIP_RECORDS = 0, RTML_OIP_FEATURES } rtml_oip_kind;

/* The outputs a request asks for (bits). */
enum { RTML_OIP_PREDICTION = 1, RTML_OIP_SCORE = 2, RTML_OIP_KEY = 4, RTML_OIP_FEATURES_OUT = 8 };

typedef struct {
    const char *data;
    size_t len;
} rtml_oip_bytes;

typedef struct {
    void *doc;                 /* the parsed JSON (owned; records may point into it) */
    char id[RTML_OIP_ID_MAX + 1];
    int has_id;
    rtml_oip_kind kind;
    size_t n;                  /* records */
    rtml_oip_bytes *records;   /* RECORDS: n views into the body or doc */
    double *x;                 /* FEATURES: n * width values */
    size_t width;
    unsigned outputs;          /* the bits asked for; 0: the request named none */
    size_t body_len;
} rtml_oip_request;

typedef struct {
    size_t max_records;
    size_t n_inputs; /* the width a features input must have */
} rtml_oip_limits;

/* Parse body (len bytes; header_len < 0: all of it is JSON) into req (zeroed first). 0, or the HTTP status of
 * the refusal (400, 413) with the reason in err. req must be freed either way. */
int rtml_oip_parse(const char *body, size_t len, long header_len, const rtml_oip_limits *lim, rtml_oip_request *req,
                   char *err, size_t errlen);
void rtml_oip_request_free(rtml_oip_request *req);

/* {"error":"<msg>"} into out (reset first): the protocol's error document. */
void rtml_oip_error(rtml_buf *out, const char *msg);

#endif
