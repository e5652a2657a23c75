/* check.h — the smallest unit-test harness that does the job.
 *
 * Each tests/unit/test_*.c is one executable that ctest runs. CHECK() records a failure with file:line
 * and goes on; main() returns check_exit(), non-zero if anything failed, so ctest reports it.
 * Kept header-only on purpose: one counter per executable is the only state. */
#ifndef RTML_TEST_CHECK_H
#define RTML_TEST_CHECK_H
#include <math.h>
#include <stdio.h>
#include <string.h>

/* One per test executable: the count of failed checks (the harness's only mutable state). */
static int check_failures;
static int check_count;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); check_count++; \
    if (a_ != b_) { check_failures++; fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
        __FILE__, __LINE__, #a, #b, a_, b_); } } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); check_count++; \
    if (!(fabs(a_ - b_) <= (tol))) { check_failures++; fprintf(stderr, \
        "%s:%d: %s ~= %s failed: %.17g vs %.17g (tol %g)\n", __FILE__, __LINE__, #a, #b, a_, b_, (double)(tol)); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); check_count++; \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { check_failures++; fprintf(stderr, \
        "%s:%d: %s == %s failed: \"%s\" vs \"%s\"\n", __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)

static inline int check_exit(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}
#endif
