/* batch.c — a micro-batch of featurised records with their own copies of everything (see batch.h). */
#include "pipeline/batch.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

void rtml_batch_init(rtml_batch *b, size_t n_dense, size_t n_raw) {
    *b = (rtml_batch){.n_dense = n_dense, .n_raw = n_raw};
}

void rtml_batch_free(rtml_batch *b) {
    rtml_buf *bufs[] = {&b->dense, &b->idx, &b->val, &b->raw, &b->bytes, &b->nums};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) rtml_buf_free(bufs[i]);
    for (size_t i = 0; i < b->n_topics; i++) free(b->topics[i]);
    free(b->topics);
    free(b->items);
    free(b->rows);
    free(b->raw_fixed);
    *b = (rtml_batch){0};
}

static void *grow(void *p, size_t n, size_t size) {
    void *q = realloc(p, n * size);
    if (!q) abort(); /* as buf.h: a process out of memory cannot keep its promises */
    return q;
}

/* The interned copy of a topic name; a consumer reads a handful of topics, so a list is enough. */
static const char *intern(rtml_batch *b, const char *topic) {
    if (!topic) return NULL;
    for (size_t i = 0; i < b->n_topics; i++)
        if (strcmp(b->topics[i], topic) == 0) return b->topics[i];
    b->topics = grow(b->topics, b->n_topics + 1, sizeof *b->topics);
    if (!(b->topics[b->n_topics] = strdup(topic))) abort();
    return b->topics[b->n_topics++];
}

static size_t count(const rtml_buf *buf, size_t size) { return buf->len / size; }

void rtml_batch_add(rtml_batch *b, const rtml_row *row, const rtml_value *raw, const char *topic, int32_t partition,
                    int64_t offset, uint64_t tag, int labelled, double y) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->items = grow(b->items, b->cap, sizeof *b->items);
    }
    rtml_batch_item *it = &b->items[b->n++];
    *it = (rtml_batch_item){.topic = intern(b, topic), .partition = partition, .offset = offset, .tag = tag,
                            .labelled = labelled, .y = y, .dense_at = count(&b->dense, sizeof(double)),
                            .sparse_at = count(&b->idx, sizeof(uint32_t)), .nnz = row->nnz,
                            .raw_at = count(&b->raw, sizeof(rtml_value))};
    if (b->n == 1 && b->timed) b->first_at = rtml_now();
    if (b->n_dense) rtml_buf_append(&b->dense, row->dense, b->n_dense * sizeof(double));
    if (row->nnz) {
        rtml_buf_append(&b->idx, row->idx, row->nnz * sizeof(uint32_t));
        rtml_buf_append(&b->val, row->val, row->nnz * sizeof(double));
    }
    for (size_t i = 0; i < b->n_raw; i++) {
        rtml_value v = raw[i];
        if (v.type == RTML_V_STRING) { /* str becomes an offset into bytes */
            v.str = (const char *)(uintptr_t)b->bytes.len;
            if (v.len) rtml_buf_append(&b->bytes, raw[i].str, raw[i].len);
        } else if (v.type == RTML_V_ARRAY) { /* arr becomes an offset into nums */
            v.arr = (const double *)(uintptr_t)count(&b->nums, sizeof(double));
            if (v.arr_len) rtml_buf_append(&b->nums, raw[i].arr, raw[i].arr_len * sizeof(double));
        }
        rtml_buf_append(&b->raw, &v, sizeof v);
    }
}

const rtml_row *rtml_batch_rows(rtml_batch *b) {
    if (b->n > b->rows_cap) {
        b->rows_cap = b->cap;
        b->rows = grow(b->rows, b->rows_cap, sizeof *b->rows);
        if (b->n_raw) b->raw_fixed = grow(b->raw_fixed, b->rows_cap * b->n_raw, sizeof *b->raw_fixed);
    }
    const double *dense = (const double *)b->dense.data, *val = (const double *)b->val.data;
    const uint32_t *idx = (const uint32_t *)b->idx.data;
    const rtml_value *raw = (const rtml_value *)b->raw.data;
    for (size_t i = 0; i < b->n; i++) {
        const rtml_batch_item *it = &b->items[i];
        rtml_row *r = &b->rows[i];
        *r = (rtml_row){.dense = dense ? dense + it->dense_at : NULL, .idx = idx ? idx + it->sparse_at : NULL,
                        .val = val ? val + it->sparse_at : NULL, .nnz = it->nnz};
        if (!b->n_raw) continue;
        rtml_value *fixed = &b->raw_fixed[i * b->n_raw];
        for (size_t k = 0; k < b->n_raw; k++) {
            fixed[k] = raw[it->raw_at + k];
            if (fixed[k].type == RTML_V_STRING)
                fixed[k].str = fixed[k].len ? b->bytes.data + (uintptr_t)fixed[k].str : "";
            else if (fixed[k].type == RTML_V_ARRAY)
                fixed[k].arr = fixed[k].arr_len ? (const double *)b->nums.data + (uintptr_t)fixed[k].arr : NULL;
        }
        r->raw = fixed;
        r->n_raw = b->n_raw;
    }
    return b->rows;
}

void rtml_batch_clear(rtml_batch *b) {
    b->n = 0;
    rtml_buf *bufs[] = {&b->dense, &b->idx, &b->val, &b->raw, &b->bytes, &b->nums};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) bufs[i]->len = 0;
}
