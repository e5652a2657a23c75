/* rtml.h — what every part of rtml shares: the version and the error convention.
 *
 * Errors are values, as in librdkafka: a function that can fail returns 0 on success and -1 on failure,
 * and writes a human-readable reason into the caller's buffer (char *err, size_t errlen). The caller owns
 * the buffer; RTML_ERRLEN is a size that always suffices. */
#ifndef RTML_H
#define RTML_H
#include <stdarg.h>
#include <stddef.h>

#define RTML_VERSION "0.1.0"
#define RTML_ERRLEN 512

/* Format a reason into err (if err is non-NULL) and return -1, so that error paths read
 * `return rtml_fail(err, errlen, "bad thing %d", x);`. */
int rtml_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
