/* args.h — the one way rtml's commands read numbers from their command lines: strictly (no blanks, no sign on a
 * count, nothing after the number, no overflow, nothing infinite), so that `--rate 1O` is an error and not 1. Each
 * command checks the range it needs and says so in its own words. */
#ifndef RTML_CLI_ARGS_H
#define RTML_CLI_ARGS_H
#include <stdint.h>

/* A decimal count, digits only, at most max: 0, or -1. */
int rtml_arg_u64(const char *s, uint64_t max, uint64_t *out);
/* A finite number in strtod's syntax (a sign, a fraction, an exponent), starting with a digit, a sign or a
 * point: 0, or -1. */
int rtml_arg_double(const char *s, double *out);

#endif
