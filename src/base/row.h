/* row.h — a feature row, what the featurizer (features/) makes of a record and an engine (engine/) scores and
 * learns: a dense part, inputs [0, n_dense), and a sparse part, (index, value) pairs with indices in
 * [n_dense, n_inputs) — one-hot, hashed and crossed features, where n_inputs can be 2^20 while a row holds a
 * few dozen non-zeros. Both sides speak it, so it lives below them. */
#ifndef RTML_BASE_ROW_H
#define RTML_BASE_ROW_H
#include <stddef.h>
#include <stdint.h>

#include "base/record.h"

typedef struct {
    const double *dense; /* n_dense values */
    const uint32_t *idx; /* nnz sparse indices, each in [n_dense, n_inputs) */
    const double *val;   /* nnz values */
    size_t nnz;
    const rtml_value *raw; /* fields an engine reads as they are (TensorFlow string inputs), or NULL */
    size_t n_raw;
} rtml_row;

/* The shape of the rows an engine will see. */
typedef struct {
    size_t n_dense;
    size_t n_inputs;  /* n_dense + the width of the sparse space */
    size_t n_classes; /* multiclass only (>= 2); 0 otherwise */
} rtml_shape;

/* Where a named feature sits in a row (the featurizer's layout): engines that feed features by name, as
 * TensorFlow's model.tensorflow.inputs do, look their columns up here. */
typedef struct {
    const char *name; /* the feature's name (borrowed from the config) */
    size_t offset;    /* its first input */
    size_t width;     /* inputs it spans */
    int sparse;       /* a sparse block (its inputs come as indices), else dense values */
} rtml_row_span;

#endif
