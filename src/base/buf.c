/* buf.c — growable byte buffer (see buf.h). */
#include "base/buf.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/numconv.h"

void rtml_buf_reserve(rtml_buf *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        fprintf(stderr, "rtml: out of memory (buffer of %zu bytes)\n", cap);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void rtml_buf_append(rtml_buf *b, const void *data, size_t len) {
    rtml_buf_reserve(b, len);
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void rtml_buf_puts(rtml_buf *b, const char *s) { rtml_buf_append(b, s, strlen(s)); }

void rtml_buf_putc(rtml_buf *b, char c) { rtml_buf_append(b, &c, 1); }

void rtml_buf_printf(rtml_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    rtml_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rtml_buf_put_i64(rtml_buf *b, int64_t v) {
    rtml_buf_reserve(b, RTML_I64_CHARS);
    b->len += rtml_format_i64(v, b->data + b->len);
    b->data[b->len] = '\0';
}

/* numconv.h: the same bytes as the shortest of %.15g/%.16g/%.17g that round-trips, at a fraction of the cost. */
void rtml_buf_put_double(rtml_buf *b, double v) {
    if (!isfinite(v)) {
        rtml_buf_append(b, "null", 4);
        return;
    }
    rtml_buf_reserve(b, RTML_DOUBLE_CHARS);
    b->len += rtml_format_double(v, b->data + b->len);
    b->data[b->len] = '\0';
}

void rtml_buf_put_float(rtml_buf *b, double v) {
    if (!isfinite(v)) {
        rtml_buf_append(b, "null", 4);
        return;
    }
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.9g", (double)(float)v); /* 9 digits: every float32 reads back exactly */
    rtml_buf_append(b, tmp, (size_t)n);
}

void rtml_buf_free(rtml_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
