/* infer.h — an inference request answered on a pooled scorer, and the model's metadata (infer.c).
 *
 * The response (the Open Inference Protocol's):
 *   {"model_name": "fraud", "model_version": "3", "id": "a81f",
 *    "parameters": {"refresh_ms": 100, "snapshot": 812, "snapshot_age_ms": 41.2, "learned": 1290311},
 *    "outputs": [{"name": "prediction", "datatype": "INT64", "shape": [2], "data": [1, 0]},
 *                {"name": "score", "datatype": "FP64", "shape": [2], "data": [0.93, 0.08]},
 *                {"name": "key", "datatype": "BYTES", "shape": [2], "data": ["a81f/0", "a81f/1"]}]}
 * model_version is the version the stream's prediction records carry; the parameters say which snapshot
 * answered, how long ago the stream last confirmed it was its model (snapshot_age_ms), how often it is refreshed,
 * and how many records that model had learned. prediction is INT64 (binary: 0/1), FP64 (regression) or BYTES
 * (multiclass: the class name, or its index as text while unnamed); score is the positive-class probability, the
 * estimate, or the top class's probability, printed as the stream prints it. key, the join key of each record's
 * label (the request id, or id/i for several records), is answered when a log topic is set or when asked;
 * features (FP64 [n, n_inputs], the rows as served) only when asked. */
#ifndef RTML_SERVE_INFER_H
#define RTML_SERVE_INFER_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"
#include "serve/oip.h"
#include "serve/pool.h"

/* One answered record, for the log topic: views valid during the call. */
typedef struct {
    const char *key;        /* its join key */
    size_t key_len;
    const char *record;     /* the raw record, or NULL (ready features) */
    size_t record_len;
    const rtml_row *row;    /* the features as served */
    rtml_shape shape;
    const double *scores;   /* n_outputs */
    size_t n_outputs;
    const char *prediction; /* JSON values, as the stream's prediction record shows them */
    const char *score;
    int64_t model_version;
    uint64_t learned;
} rtml_served;

/* Called on a server thread for each answered record (the log topic's writer); it must be thread-safe. */
typedef void (*rtml_served_fn)(void *ctx, const rtml_served *s);

typedef struct {
    const rtml_config *cfg;
    rtml_served_fn on_served; /* NULL: no log topic */
    void *ctx;
    char id_prefix[24];       /* generated request ids are <prefix>-<n> */
    _Atomic uint64_t next_id;
} rtml_infer_env;

/* Score req on s and write the response into out (reset first). 200, or the refusal's status with the reason in
 * err (400: a record the pipeline cannot read, 500: the engine failed). */
int rtml_infer(rtml_infer_env *env, rtml_pooled *s, const rtml_oip_request *req, double now, rtml_buf *out, char *err,
               size_t errlen);

/* GET /v2/models/NAME: the inputs the pipeline reads, the outputs, the version (of the scorer s, which is only
 * read). */
void rtml_infer_metadata(const rtml_config *cfg, const rtml_pooled *s, rtml_buf *out);

#endif
