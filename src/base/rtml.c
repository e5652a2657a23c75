/* rtml.c — what every part of rtml shares (see rtml.h): the error convention's helpers. */
#include "base/rtml.h"
#include <stdio.h>

int rtml_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}
