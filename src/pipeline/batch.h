/* batch.h — records that were decoded and featurised and now wait for the engine, as one micro-batch.
 *
 * The TensorFlow engine pays a fixed cost per session run, so the pipeline gathers up to model.tensorflow.batch
 * records (or what arrived within max_delay) and scores them in one call; the native engines use batches of
 * one. A featurizer row and a decoder's values point into buffers that the next record overwrites, so a batch
 * keeps its own copies: the dense parts, the sparse pairs, and the raw field values an engine reads directly
 * (their strings and arrays too). rtml_batch_rows() then builds rtml_rows over those copies, valid until the
 * next add or clear. Topic names are interned for the batch's life, so origins never dangle.
 *
 * Memory grows to the largest batch seen and is reused; appends abort on allocation failure (buf.h). */
#ifndef RTML_BATCH_H
#define RTML_BATCH_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "engine/engine.h"
#include "base/record.h"

typedef struct {
    const char *topic; /* interned: valid while the batch lives */
    int32_t partition;
    int64_t offset;
    uint64_t tag;      /* the caller's handle for this record */
    int labelled;
    double y;
    int keyed;         /* label.topic: the record waits for its label under join_key (set after add) */
    uint64_t join_key;
    int64_t ts_ms;     /* its timestamp (the join's feature clock) */
    size_t dense_at, sparse_at, nnz, raw_at; /* element offsets into the buffers below */
} rtml_batch_item;

typedef struct {
    rtml_batch_item *items;
    size_t n, cap;
    size_t n_dense, n_raw; /* per record */
    rtml_buf dense;        /* doubles */
    rtml_buf idx, val;     /* uint32 sparse indices, double values */
    rtml_buf raw;          /* rtml_value, with str/arr offsets (not pointers) until rtml_batch_rows */
    rtml_buf bytes;        /* the raw values' strings */
    rtml_buf nums;         /* the raw values' arrays (doubles) */
    rtml_row *rows;
    rtml_value *raw_fixed; /* rows' raw values with real pointers */
    size_t rows_cap;
    char **topics;
    size_t n_topics;
    double first_at; /* when the oldest record in the batch was added (rtml_now), if timed */
    int timed;       /* batches of more than one record wait at most max_delay: first_at is read (no clock
                      * read per record for a batch of one, which is scored at once) */
} rtml_batch;

void rtml_batch_init(rtml_batch *b, size_t n_dense, size_t n_raw);
void rtml_batch_free(rtml_batch *b);

/* Copy one record in. raw: n_raw values (the decoder's, borrowed for the call only). */
void rtml_batch_add(rtml_batch *b, const rtml_row *row, const rtml_value *raw, const char *topic, int32_t partition,
                    int64_t offset, uint64_t tag, int labelled, double y);

/* Rows over the batch's copies, one per item in order; valid until the next add or clear. */
const rtml_row *rtml_batch_rows(rtml_batch *b);

/* Forget the records (keeps the memory and the interned topics). */
void rtml_batch_clear(rtml_batch *b);

#endif
