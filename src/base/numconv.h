/* numconv.h — numbers to text and back on the hot path: libstdc++'s std::to_chars (Ryu: shortest round-trip
 * digits) and std::from_chars (fast_float: Eisel-Lemire, correctly rounded) behind a C interface (numconv.cc).
 *
 * Why: printing a score with snprintf("%.15g"), "%.16g", "%.17g" and a strtod after each was a quarter of a
 * replay's instructions; strtod is ~4x slower than from_chars. docs/performance.md has the measurements.
 *
 * rtml_format_double writes exactly the bytes rtml has always written for a double: the shortest of
 * "%.15g", "%.16g", "%.17g" that reads back to the same double. With n the number of shortest round-trip
 * digits (Ryu's), that is "%.{P}g" with P = max(15, n): the P-digit correctly rounded decimal equals the
 * shortest digits (zero-padded) whenever half an ulp is below half a unit in the P-th digit, true of every
 * normal double; subnormals, and powers of two (whose rounding interval is lopsided) with n >= 16, take the
 * old snprintf/strtod loop itself. %g's layout: "d.ddde+XX" (at least two exponent digits) when the decimal
 * exponent X < -4 or X >= P, else fixed notation without trailing zeros. tests/fuzz/fuzz_numbers.c compares
 * it byte for byte with the snprintf loop. */
#ifndef RTML_NUMCONV_H
#define RTML_NUMCONV_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTML_DOUBLE_CHARS 32 /* room for any rtml_format_double (at most 24 bytes) */
#define RTML_I64_CHARS 24    /* room for any int64 in decimal */

/* v (finite) as described above, into out; returns the length (no NUL is written). */
size_t rtml_format_double(double v, char *out);

/* The same bytes by the original algorithm (snprintf and strtod): the reference, and the rare cases. */
size_t rtml_format_double_slow(double v, char *out);

/* v in decimal ("%lld"), into out; returns the length (no NUL is written). */
size_t rtml_format_i64(int64_t v, char *out);

/* The decimal number p[0..len) (JSON's grammar: optional '-', digits, optional fraction and exponent; the
 * caller has validated it) -> the correctly rounded double, as strtod would give it: overflow gives +-inf,
 * underflow a subnormal or +-0. 0, or -1 when the text is not one whole number. */
int rtml_parse_double(const char *p, size_t len, double *out);

#ifdef __cplusplus
}
#endif
#endif
