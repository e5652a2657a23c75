/* json_write.h — writing JSON text into a buffer: the string literal every report, prediction record and
 * checkpoint manifest needs (numbers: buf.h's rtml_buf_put_double). Reading JSON is codec/json.h's. */
#ifndef RTML_BASE_JSON_WRITE_H
#define RTML_BASE_JSON_WRITE_H
#include <stddef.h>

#include "base/buf.h"

/* Append s (len bytes, UTF-8) as a JSON string literal: quotes, \" \\ \b \f \n \r \t, other control
 * characters as \u00XX; invalid UTF-8 bytes become U+FFFD, so the output always validates. NULL: "". */
void rtml_json_put_string(rtml_buf *b, const char *s, size_t len);

#endif
