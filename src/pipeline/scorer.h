/* scorer.h — the pipeline's scoring half on its own: decode -> features -> predict, on a copy of the model, for
 * the serve endpoint's threads (src/serve/; docs/serving.md).
 *
 * The stream's pipeline (pipeline.h) is owned by one thread and never locked. A scorer is opened from the same
 * config, so it decodes and featurises exactly as the stream does, and is brought to the stream's model by a
 * snapshot: rtml_pipeline_snapshot() writes the part of the pipeline's state that scoring reads (the feature
 * statistics, the model, the class names, the model version) as a state image (binfmt.h), on the stream's
 * thread; rtml_scorer_load() reads it, on a server thread. A scorer never learns: its feature statistics are
 * frozen (a request changes nothing), and the same record gives the same score as the stream's pipeline in the
 * state the snapshot was taken from (tested against `rtml replay --from-state --score-only`).
 *
 * The TensorFlow engine's snapshot is its version number: a scorer loads that version of the model directory,
 * which the stream's engine writes at each checkpoint, without touching the directory.
 *
 * One thread uses a scorer at a time (the server keeps a pool). A request: clear, then add records (raw, through
 * the decoder) or rows (ready features), then run; then read each record's scores, row and prediction. Rows and
 * scores stay valid until the next clear. Ownership: rtml_scorer_open() returns a scorer freed by
 * rtml_scorer_close(); it borrows the config, which must outlive it. */
#ifndef RTML_PIPELINE_SCORER_H
#define RTML_PIPELINE_SCORER_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/record.h"
#include "base/row.h"
#include "config/config.h"
#include "pipeline/core.h"

typedef struct rtml_scorer rtml_scorer;

/* What a snapshot says about the model it holds. */
typedef struct {
    int64_t model_version; /* as the stream's prediction records show it */
    uint64_t learned;      /* records the model had learned */
} rtml_scorer_info;

/* The stream's side: the snapshot of p (image reset first). */
void rtml_pipeline_snapshot(const rtml_pipeline *p, rtml_buf *image);

rtml_scorer *rtml_scorer_open(const rtml_config *cfg, char *err, size_t errlen);
void rtml_scorer_close(rtml_scorer *s);
/* Bring the scorer to a snapshot's model. 0, or -1 with a reason (the scorer then keeps its previous model). */
int rtml_scorer_load(rtml_scorer *s, const void *image, size_t len, char *err, size_t errlen);
rtml_scorer_info rtml_scorer_info_of(const rtml_scorer *s);

/* The rows' shape, the outputs per record, the task, and whether rows need raw fields (TensorFlow field inputs:
 * ready feature tensors cannot carry them). */
rtml_shape rtml_scorer_shape(const rtml_scorer *s);
size_t rtml_scorer_n_outputs(const rtml_scorer *s);
rtml_task rtml_scorer_task(const rtml_scorer *s);
int rtml_scorer_needs_raw(const rtml_scorer *s);
/* The field paths the decoder reads (the features' fields, then raw engine fields), owned by the scorer. */
const char *const *rtml_scorer_fields(const rtml_scorer *s, size_t *n);

void rtml_scorer_clear(rtml_scorer *s);
/* One raw record in the input format: RTML_REJECT_NONE, or why not with a detail (nothing added). */
rtml_reject rtml_scorer_add_record(rtml_scorer *s, const char *doc, size_t len, char *detail, size_t dlen);
/* One row of ready features: x holds every input of the row, n_inputs values (zeros of the sparse part are
 * left out of the row). RTML_REJECT_NONE, or why not (a value that is not finite). */
rtml_reject rtml_scorer_add_dense(rtml_scorer *s, const double *x, char *detail, size_t dlen);
/* Score every record added since the clear. 0, or -1 with a reason (the engine failed). */
int rtml_scorer_run(rtml_scorer *s, char *err, size_t errlen);

size_t rtml_scorer_count(const rtml_scorer *s);
/* Record i's scores (n_outputs values) and the row it was scored on. */
const double *rtml_scorer_scores(const rtml_scorer *s, size_t i);
const rtml_row *rtml_scorer_row(const rtml_scorer *s, size_t i);
/* Record i's prediction as a JSON value, as the stream's prediction record shows it: 0/1 (binary), the estimate
 * (regression), the class name or index (multiclass); and its score (the top class's probability). */
void rtml_scorer_put_prediction(const rtml_scorer *s, size_t i, rtml_buf *out);
void rtml_scorer_put_score(const rtml_scorer *s, size_t i, rtml_buf *out);
/* Multiclass: whether the prediction of record i is a class name (else its index). */
int rtml_scorer_class_named(const rtml_scorer *s, size_t i);

#endif
