/* featurize.h — the feature pipeline: a decoded record (record.h) -> one feature row for the engine.
 *
 * Each configured feature reads one field and passes it through its transform chain, in order:
 *   numeric:      standardize (running mean/variance), minmax (running min/max), log1p, clip, impute
 *                 (mean or constant, for a missing value), bucketize (boundaries -> bucket index)
 *   time:         hour_of_day, day_of_week (epoch seconds or milliseconds, or an ISO-8601 string)
 *   categorical:  one_hot (a learned vocabulary capped at N, plus an unknown bucket), hash (signed feature
 *                 hashing into N buckets), cross (hashed pair with another field), bag_of_words (hashed
 *                 tokens of a text field)
 *   arrays:       a dense numeric array passed through (fixed size)
 * Numeric results are dense inputs; categorical ones are sparse (index, value) pairs in blocks after the
 * dense part. Stateful transforms (standardize, minmax, impute mean, one_hot's vocabulary) learn from
 * every record they see before transforming it, as River's unsupervised transformers do inside a
 * pipeline; their state is part of the model state (save/load).
 *
 * Ownership: the featurizer borrows the config (which outlives it) and owns all its state. The row that
 * apply() fills points into the featurizer's buffers, valid until the next apply(). */
#ifndef RTML_FEATURIZE_H
#define RTML_FEATURIZE_H
#include <stddef.h>

#include "base/binfmt.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/record.h"
#include "base/row.h"

typedef struct rtml_featurizer rtml_featurizer;

rtml_featurizer *rtml_featurizer_new(const rtml_config *cfg, char *err, size_t errlen);
void rtml_featurizer_free(rtml_featurizer *f);

/* The field paths the featurizer reads, in the order apply() expects their values (features' fields,
 * then second fields of crosses; no duplicates). Owned by the featurizer. */
const char *const *rtml_featurizer_fields(const rtml_featurizer *f, size_t *n);

/* The shape of the rows it produces (n_classes is left 0: the label is not the featurizer's). */
rtml_shape rtml_featurizer_shape(const rtml_featurizer *f);

/* Where the feature called name sits in a row: its first input, its width, and whether it is a sparse
 * block. 0, or -1 when no feature has that name. */
int rtml_featurizer_span(const rtml_featurizer *f, const char *name, size_t *offset, size_t *width, int *sparse);

/* A row as the model saw it, by feature name: {"amount":0.53,"hour":{"13":1},...}: a number per numeric feature,
 * an array per {array: N}, and per categorical feature its non-zero inputs by index in its block (one_hot: the
 * value's index in order of first appearance, N for the rest; hash: the bucket). */
void rtml_featurizer_row_json(const rtml_featurizer *f, const rtml_row *row, rtml_buf *out);

/* values[i] holds the field fields[i]. Fills *row, or returns why the record cannot be featurised (with a
 * detail such as "field /amount is not a number (string)"); a rejected record changes no statistics. */
rtml_reject rtml_featurizer_apply(rtml_featurizer *f, const rtml_value *values, rtml_row *row, char *detail,
                                  size_t detail_len);

/* While frozen, apply() still transforms a record as it would have, but its statistics and vocabularies keep
 * nothing of it: a record re-delivered after a crash, already learned by the restored model, is scored again
 * without being counted twice. */
void rtml_featurizer_freeze(rtml_featurizer *f, int frozen);

void rtml_featurizer_save(const rtml_featurizer *f, rtml_writer *w);
/* The features and their running statistics as a JSON array (the monitor's /model):
 * [{"name","field","statistics":[{"transform","n","mean","std"|"min","max"}...],"categories"?}...] */
void rtml_featurizer_json(const rtml_featurizer *f, rtml_buf *out);
int rtml_featurizer_load(rtml_featurizer *f, rtml_reader *r, char *err, size_t errlen);

#endif
