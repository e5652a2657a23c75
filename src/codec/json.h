/* json.h — rtml's zero-copy hot-path JSON scanner.
 *
 * Every record is one JSON document (a Kafka message: (ptr, len), never NUL-terminated). The pipeline knows
 * up front which fields it needs, as RFC 6901 JSON Pointers. rtml_json_paths_new() compiles them once into a
 * trie; rtml_json_extract() then makes ONE pass over each document, validating all of it strictly (RFC 8259)
 * and filling one span per pointer, without allocating. Spans point into the document: they live as long as
 * the document bytes do.
 *
 * Decisions (the tests pin each of them down):
 *  - Strictness: the document must be UTF-8 (overlong forms, UTF-8-encoded surrogates and code points above
 *    U+10FFFF are rejected). \u escapes must form valid code points: a high surrogate must be followed by a
 *    \u low surrogate, and a lone surrogate (high or low) is an error. So every string that validates
 *    unescapes to valid UTF-8.
 *  - Nesting: at most RTML_JSON_MAX_DEPTH (64) containers deep; the 65th level is an error.
 *  - Duplicate keys: the LAST occurrence wins, recursively: for {"u":{"a":1},"u":{"b":2}}, "/u/a" is absent.
 *  - Errors read "offset N: reason", N being the 0-based byte offset of the problem (for an unterminated
 *    string, of its opening quote). On error, every out[i] is ABSENT.
 *  - Pointers: "" (the whole document) is rejected, and so are pointers deeper than 64 segments (they could
 *    never match a valid document). An array-index segment is "0" or [1-9][0-9]{0,8}; "01", "-" or longer
 *    digit strings match object keys only, never array elements.
 *  - Numbers: rtml_json_as_double rejects (-1) a value that overflows to +-inf, such as 1e309; underflow
 *    rounds to a subnormal or zero and is accepted (5e-324 is the smallest double). Numbers longer than
 *    RTML_JSON_MAX_NUMBER characters are rejected by the conversions (they still validate). Conversion is
 *    correctly rounded (the double strtod gives): Clinger's fast path when it applies, else numconv.h's
 *    rtml_parse_double (std::from_chars, locale-independent).
 * Writing JSON is base/json_write.h's. */
#ifndef RTML_CODEC_JSON_H
#define RTML_CODEC_JSON_H
#include <stddef.h>
#include "base/buf.h"

#define RTML_JSON_MAX_DEPTH 64     /* deepest container nesting a document may have */
#define RTML_JSON_MAX_POINTERS 1024 /* most pointers one rtml_json_paths may hold */
#define RTML_JSON_MAX_NUMBER 512   /* longest number text (chars) the conversions accept */

typedef enum {
    RTML_JSON_ABSENT = 0,
    RTML_JSON_NULL,
    RTML_JSON_FALSE,
    RTML_JSON_TRUE,
    RTML_JSON_NUMBER,
    RTML_JSON_STRING,
    RTML_JSON_OBJECT,
    RTML_JSON_ARRAY
} rtml_json_type;

/* A span of the document: for STRING, the bytes between the quotes (still escaped) and `escaped` tells if
 * any backslash occurs; for the others the raw text of the value (object/array: from the bracket to the
 * matching bracket inclusive). `escaped` is 0 for non-strings; ABSENT spans have ptr NULL and len 0. */
typedef struct {
    rtml_json_type type;
    const char *ptr;
    size_t len;
    int escaped;
    /* A wanted NUMBER is converted as rtml_json_extract scans it (its digits are read once), and
     * rtml_json_number_value returns what is here: num_state 1 = num holds the value, 2 = an integer within
     * int64 (i64, and num = (double)i64), -1 = it overflows to +-inf or is too long; 0 = not converted (a span
     * made by hand: rtml_json_number_value converts the text). */
    int num_state;
    double num;
    long long i64;
} rtml_json_span;

/* A compiled set of JSON Pointers: immutable after creation, so one may be shared across threads. */
typedef struct rtml_json_paths rtml_json_paths;

/* Compile n pointers. NULL with a reason in err on an invalid pointer (must start with '/', "~" only as
 * "~0" or "~1"), a pointer deeper than 64 segments, or n > RTML_JSON_MAX_POINTERS. n == 0 is allowed. */
rtml_json_paths *rtml_json_paths_new(const char *const *pointers, size_t n, char *err, size_t errlen);
void rtml_json_paths_free(rtml_json_paths *p);
size_t rtml_json_paths_count(const rtml_json_paths *p);

/* One pass: validate doc (len bytes, need not be NUL-terminated) and fill out[i] (paths_count entries)
 * for each pointer i, ABSENT when it names nothing. The top-level value must be an object. Duplicate keys:
 * the last occurrence wins. Returns 0, or -1 with "offset N: reason" in err. */
int rtml_json_extract(const rtml_json_paths *p, const char *doc, size_t len, rtml_json_span *out, char *err,
                      size_t errlen);

/* A shape (json.c: the bytes between a document's top-level values, remembered from the last one) makes
 * rtml_json_extract_shaped much faster for a stream of documents that share their keys, order and spacing, as
 * a producer's records do. Mutable: one per thread (a decoder's). */
typedef struct rtml_json_shape rtml_json_shape;
rtml_json_shape *rtml_json_shape_new(void); /* NULL when out of memory */
void rtml_json_shape_free(rtml_json_shape *sh);

/* rtml_json_extract, with the same results and errors, through the shape sh (NULL: none). */
int rtml_json_extract_shaped(const rtml_json_paths *p, rtml_json_shape *sh, const char *doc, size_t len,
                             rtml_json_span *out, char *err, size_t errlen);

/* Validate a document whose top-level value may be of any type. 0, or -1 with "offset N: reason". */
int rtml_json_validate(const char *doc, size_t len, char *err, size_t errlen);

/* NUMBER -> double (correctly rounded, via strtod), TRUE -> 1, FALSE -> 0. -1 for other types, for a
 * span that is not a strict JSON number, for overflow to +-inf, and for numbers over RTML_JSON_MAX_NUMBER
 * characters. */
int rtml_json_as_double(const rtml_json_span *v, double *out);

/* For a NUMBER span that rtml_json_extract produced (already validated): its value, with *is_int and *i64 set
 * when it is written as an integer within int64 range. -1 on overflow to +-inf. The hot path of the JSON
 * decoder: the conversion extract made (num_state), else one pass over the text; same results as
 * rtml_json_as_int64 + rtml_json_as_double. */
int rtml_json_number_value(const rtml_json_span *v, double *out, int *is_int, long long *i64);

/* NUMBER written as an integer (no fraction, no exponent) within int64 range; -1 otherwise. */
int rtml_json_as_int64(const rtml_json_span *v, long long *out);

/* Unescape a STRING span into buf as UTF-8 (\uXXXX incl. surrogate pairs) and NUL-terminate it. Returns the
 * byte length (without the NUL), or -1 if it does not fit in cap (cap counts the NUL), if v is not a
 * STRING, or if its escapes are invalid. */
long rtml_json_unescape(const rtml_json_span *v, char *buf, size_t cap);

/* Does STRING span v, unescaped, equal s (len bytes)? 1 yes, 0 no (also 0 for non-strings). No copy. */
int rtml_json_string_eq(const rtml_json_span *v, const char *s, size_t len);

/* "absent", "null", "false", "true", "number", "string", "object", "array" (for messages). */
const char *rtml_json_type_name(rtml_json_type t);

#endif
