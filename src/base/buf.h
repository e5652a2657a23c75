/* buf.h — a growable byte buffer, the one way rtml builds output text (prediction records, reports).
 *
 * The buffer owns its memory: rtml_buf_free() releases it; rtml_buf_reset() keeps the capacity for reuse on
 * the hot path. Appends abort() on allocation failure: an out-of-memory process cannot keep its promises
 * about offsets, and dying loudly lets the restart resume from the last checkpoint. */
#ifndef RTML_BUF_H
#define RTML_BUF_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data; /* always NUL-terminated after an append (not counted in len) */
    size_t len;
    size_t cap;
} rtml_buf;

#define RTML_BUF_INIT {NULL, 0, 0}

void rtml_buf_reserve(rtml_buf *b, size_t extra);
void rtml_buf_append(rtml_buf *b, const void *data, size_t len);
void rtml_buf_puts(rtml_buf *b, const char *s);
void rtml_buf_putc(rtml_buf *b, char c);
void rtml_buf_printf(rtml_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rtml_buf_put_i64(rtml_buf *b, int64_t v);
/* Shortest text that reads back to the same double ("%.17g" trimmed); non-finite values print as null. */
void rtml_buf_put_double(rtml_buf *b, double v);
/* A float32 value (a TensorFlow output): "%.9g", which reads back to the same float, in one snprintf where the
 * double's shortest form would take up to three and two strtods (and 17 digits of noise). */
void rtml_buf_put_float(rtml_buf *b, double v);
static inline void rtml_buf_reset(rtml_buf *b) { b->len = 0; if (b->data) b->data[0] = '\0'; }
void rtml_buf_free(rtml_buf *b);

#endif
