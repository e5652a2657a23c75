/* args.c — numbers on command lines (args.h). */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int rtml_arg_u64(const char *s, uint64_t max, uint64_t *out) {
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

int rtml_arg_double(const char *s, double *out) {
    if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '+')) return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno == ERANGE || end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}
