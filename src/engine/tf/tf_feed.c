/* tf_feed.c — rows to input tensors, output tensors to numbers (see tf_feed.h). */
#include "engine/tf/tf_feed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

static int numeric(int dtype) {
    return dtype == RTML_TF_DT_FLOAT || dtype == RTML_TF_DT_DOUBLE || dtype == RTML_TF_DT_INT32 ||
           dtype == RTML_TF_DT_INT64 || dtype == RTML_TF_DT_BOOL;
}

static size_t dtype_size(int dtype) {
    switch (dtype) {
    case RTML_TF_DT_DOUBLE:
    case RTML_TF_DT_INT64: return 8;
    case RTML_TF_DT_BOOL: return 1;
    case RTML_TF_DT_STRING: return sizeof(TF_TString);
    default: return 4;
    }
}

int rtml_tf_feed_check(rtml_tf_feed *feed, const rtml_tf_tensor_info *info, const char *signature, char *err,
                       size_t errlen) {
    char dt[32], shape[96];
    const char *what = feed->is_field ? "a field" : "features";
    if (!info->tensor)
        return rtml_fail(err, errlen, "signature '%s' input '%s' is a sparse or composite tensor; rtml feeds dense "
                         "tensors", signature, feed->name);
    if (!numeric(info->dtype) && !(feed->is_field && info->dtype == RTML_TF_DT_STRING))
        return rtml_fail(err, errlen, "signature '%s' input '%s' is %s, which %s cannot feed (numbers: float32, "
                         "float64, int32, int64, bool%s)", signature, feed->name,
                         rtml_tf_dtype_name(info->dtype, dt, sizeof dt), what, feed->is_field ? "; or string" : "");
    if (info->rank == 0 || info->rank > 2)
        return rtml_fail(err, errlen, "signature '%s' input '%s' has shape %s; rtml feeds [batch] or [batch, n]",
                         signature, feed->name, rtml_tf_shape_str(info, shape, sizeof shape));
    int64_t cols = info->rank == 2 ? info->dims[1] : info->rank == 1 ? 1 : -1;
    if (feed->is_field) {
        if (feed->width == 0) feed->width = cols > 0 ? (size_t)cols : 1;
        if (info->dtype == RTML_TF_DT_STRING && feed->width != 1)
            return rtml_fail(err, errlen, "signature '%s' input '%s' takes %lld strings per record; rtml feeds one",
                             signature, feed->name, (long long)cols);
    }
    if (cols >= 0 && (size_t)cols != feed->width)
        return rtml_fail(err, errlen, "signature '%s' input '%s' has shape %s, but %s give%s %zu value%s per record",
                         signature, feed->name, rtml_tf_shape_str(info, shape, sizeof shape),
                         feed->is_field ? feed->field : "its features", feed->is_field ? "s" : "", feed->width,
                         feed->width == 1 ? "" : "s");
    return 0;
}

rtml_reject rtml_tf_feed_accept(const rtml_tf_feed *feed, int dtype, const rtml_row *row, char *detail, size_t dlen) {
    const rtml_value *v = &row->raw[feed->raw];
    if (v->type == RTML_V_ABSENT || v->type == RTML_V_NULL) {
        rtml_fail(detail, dlen, "field %s (input '%s') is %s", feed->field, feed->name, rtml_vtype_name(v->type));
        return RTML_REJECT_MISSING_FIELD;
    }
    int ok = dtype == RTML_TF_DT_STRING ? v->type == RTML_V_STRING || v->type == RTML_V_NUMBER
             : feed->width == 1        ? v->type == RTML_V_NUMBER || v->type == RTML_V_BOOL
                                       : v->type == RTML_V_ARRAY && v->arr_len == feed->width;
    if (!ok) {
        rtml_fail(detail, dlen, "field %s (input '%s') is %s, the input takes %s", feed->field, feed->name,
                  v->type == RTML_V_ARRAY ? "an array of another length" : rtml_vtype_name(v->type),
                  dtype == RTML_TF_DT_STRING ? "a string" : feed->width == 1 ? "a number" : "an array of numbers");
        return RTML_REJECT_WRONG_TYPE;
    }
    if (dtype != RTML_TF_DT_STRING && v->type == RTML_V_NUMBER && !isfinite(v->num)) {
        rtml_fail(detail, dlen, "field %s (input '%s') is not finite", feed->field, feed->name);
        return RTML_REJECT_NOT_FINITE;
    }
    for (size_t i = 0; v->type == RTML_V_ARRAY && i < v->arr_len; i++) {
        if (!isfinite(v->arr[i])) {
            rtml_fail(detail, dlen, "field %s (input '%s') holds a value that is not finite", feed->field, feed->name);
            return RTML_REJECT_NOT_FINITE;
        }
    }
    return RTML_REJECT_NONE;
}

/* Store x as element i of a numeric tensor's data. */
static void put(void *data, int dtype, size_t i, double x) {
    switch (dtype) {
    case RTML_TF_DT_FLOAT: ((float *)data)[i] = (float)x; break;
    case RTML_TF_DT_DOUBLE: ((double *)data)[i] = x; break;
    case RTML_TF_DT_INT32: ((int32_t *)data)[i] = (int32_t)x; break;
    case RTML_TF_DT_INT64: ((int64_t *)data)[i] = (int64_t)x; break;
    case RTML_TF_DT_BOOL: ((uint8_t *)data)[i] = x != 0; break;
    default: break;
    }
}

/* One record's feature values: dense spans copied, sparse spans scattered (zeros elsewhere). */
static void put_features(const rtml_tf_feed *feed, const rtml_row *row, void *data, int dtype, size_t base) {
    size_t at = base;
    for (size_t s = 0; s < feed->n_spans; s++) {
        const rtml_row_span *sp = &feed->spans[s];
        if (!sp->sparse) {
            for (size_t j = 0; j < sp->width; j++) put(data, dtype, at + j, row->dense[sp->offset + j]);
        } else {
            for (size_t j = 0; j < sp->width; j++) put(data, dtype, at + j, 0);
            for (size_t k = 0; k < row->nnz; k++)
                if (row->idx[k] >= sp->offset && row->idx[k] < sp->offset + sp->width)
                    put(data, dtype, at + (row->idx[k] - sp->offset), row->val[k]);
        }
        at += sp->width;
    }
}

/* One record's raw field: a string element, a number, or an array. */
static void put_field(const rtml_tf_feed *feed, const rtml_row *row, void *data, int dtype, size_t base) {
    const rtml_value *v = &row->raw[feed->raw];
    if (dtype == RTML_TF_DT_STRING) {
        TF_TString *s = (TF_TString *)data + base;
        char num[32];
        TF_StringInit(s);
        if (v->type == RTML_V_STRING) TF_StringCopy(s, v->str, v->len);
        else if (v->is_int) TF_StringCopy(s, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)v->i64));
        else TF_StringCopy(s, num, (size_t)snprintf(num, sizeof num, "%.17g", v->num));
        return;
    }
    if (v->type == RTML_V_ARRAY) {
        for (size_t j = 0; j < feed->width; j++) put(data, dtype, base + j, v->arr[j]);
        return;
    }
    if (dtype == RTML_TF_DT_INT64 && v->is_int) ((int64_t *)data)[base] = v->i64; /* exact beyond 2^53 */
    else put(data, dtype, base, v->num);
}

TF_Tensor *rtml_tf_feed_tensor(const rtml_tf_feed *feed, const rtml_tf_port *port, const rtml_row *rows, size_t n) {
    int64_t dims[2] = {(int64_t)n, (int64_t)feed->width};
    int rank = port->rank == 1 ? 1 : 2;
    TF_Tensor *t = TF_AllocateTensor((TF_DataType)port->dtype, dims, rank, n * feed->width * dtype_size(port->dtype));
    if (!t) return NULL;
    void *data = TF_TensorData(t);
    for (size_t i = 0; i < n; i++) {
        if (feed->is_field) put_field(feed, &rows[i], data, port->dtype, i * feed->width);
        else put_features(feed, &rows[i], data, port->dtype, i * feed->width);
    }
    return t;
}

TF_Tensor *rtml_tf_label_tensor(const rtml_tf_port *port, const double *y, size_t n) {
    int64_t dims[2] = {(int64_t)n, 1};
    TF_Tensor *t = TF_AllocateTensor((TF_DataType)port->dtype, dims, port->rank == 2 ? 2 : 1, n * dtype_size(port->dtype));
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) put(TF_TensorData(t), port->dtype, i, y[i]);
    return t;
}

void rtml_tf_tensor_free(TF_Tensor *t) {
    if (!t) return;
    if (TF_TensorType(t) == TF_STRING) { /* release long strings; TF_StringDealloc leaves an empty string */
        TF_TString *s = TF_TensorData(t);
        size_t n = TF_TensorByteSize(t) / sizeof(TF_TString);
        for (size_t i = 0; i < n; i++) TF_StringDealloc(&s[i]);
    }
    TF_DeleteTensor(t);
}

int rtml_tf_output_values(const TF_Tensor *t, size_t n, double *out, size_t max_width, size_t *width, char *err,
                          size_t errlen) {
    int rank = TF_NumDims(t);
    if (rank < 1 || rank > 2 || TF_Dim(t, 0) != (int64_t)n)
        return rtml_fail(err, errlen, "output has %d dimensions and %lld rows for %zu records", rank,
                         rank ? (long long)TF_Dim(t, 0) : 0LL, n);
    size_t w = rank == 2 ? (size_t)TF_Dim(t, 1) : 1;
    if (w == 0 || w > max_width) return rtml_fail(err, errlen, "output has %zu values per record, expected %s%zu", w,
                                                  max_width > 1 ? "at most " : "", max_width);
    const void *d = TF_TensorData(t);
    int dtype = (int)TF_TensorType(t);
    for (size_t i = 0; i < n * w; i++) {
        switch (dtype) {
        case RTML_TF_DT_FLOAT: out[i] = ((const float *)d)[i]; break;
        case RTML_TF_DT_DOUBLE: out[i] = ((const double *)d)[i]; break;
        case RTML_TF_DT_INT32: out[i] = ((const int32_t *)d)[i]; break;
        case RTML_TF_DT_INT64: out[i] = (double)((const int64_t *)d)[i]; break;
        case RTML_TF_DT_BOOL: out[i] = ((const uint8_t *)d)[i]; break;
        default: {
            char dt[32];
            return rtml_fail(err, errlen, "output is %s, not a number", rtml_tf_dtype_name(dtype, dt, sizeof dt));
        }
        }
    }
    *width = w;
    return 0;
}
