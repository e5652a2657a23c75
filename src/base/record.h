/* record.h — what a decoder hands the feature pipeline: one typed value per configured field.
 *
 * Every input format (JSON, CSV, Avro, Protobuf) decodes a record into the same small array of rtml_value,
 * one per field path the pipeline asked for, so featurisation never knows the format. Values borrow their
 * bytes: strings and arrays point into the record or into the decoder's scratch space, valid until the
 * decoder's next call. */
#ifndef RTML_RECORD_H
#define RTML_RECORD_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RTML_V_ABSENT = 0, /* the field is not in the record */
    RTML_V_NULL,       /* present, explicitly null (JSON null, Avro null, CSV empty cell) */
    RTML_V_BOOL,       /* num is 0 or 1 */
    RTML_V_NUMBER,     /* num; is_int and i64 set when the source held an integer */
    RTML_V_STRING,     /* str/len: UTF-8, unescaped */
    RTML_V_ARRAY,      /* arr/arr_len: an array of numbers */
    RTML_V_OTHER,      /* present but of a kind no transform reads (object, mixed array, bytes) */
} rtml_vtype;

typedef struct {
    rtml_vtype type;
    int is_int;
    int64_t i64;
    double num;
    const char *str;
    size_t len;
    const double *arr;
    size_t arr_len;
} rtml_value;

const char *rtml_vtype_name(rtml_vtype t);

/* A value as a key or category: a string's bytes, an integer's digits, "true"/"false", another number's %.17g
 * (written into buf, cap >= 32). NULL when it has none (absent, null, an array, an object). */
const char *rtml_value_text(const rtml_value *v, char *buf, size_t cap, size_t *len);

/* Why a record was rejected; the names are stable (logs, reports, metrics, dead-letter headers). */
typedef enum {
    RTML_REJECT_NONE = 0,
    RTML_REJECT_MALFORMED,     /* the decoder could not read it (bad JSON/CSV/Avro/Protobuf) */
    RTML_REJECT_MISSING_FIELD, /* a feature's field is absent or null, and it is not imputed */
    RTML_REJECT_WRONG_TYPE,    /* a field holds a type its transforms cannot read */
    RTML_REJECT_NOT_FINITE,    /* NaN or +-Inf where a number is needed */
    RTML_REJECT_BAD_LABEL,     /* the label is present but unusable for the task */
    RTML_REJECT_TOO_LARGE,     /* the record, a string or an array is larger than its limit */
    RTML_REJECT_MODEL_ERROR,   /* the engine failed on the batch the record was in (TensorFlow run error) */
    RTML_REJECT__COUNT
} rtml_reject;

const char *rtml_reject_name(rtml_reject r);

#endif
