/* transforms.h — the stateless pieces of the feature transforms: timestamps, buckets, tokens, names.
 *
 * Kept apart from featurize.c (which owns state, row layout and save/load) so each can be read and tested
 * on its own. Everything here is a pure function of its arguments.
 *
 * Timestamps are UTC and never touch the C library's time zone machinery (which reads the environment and
 * is not thread-safe): civil dates are converted with Howard Hinnant's days_from_civil algorithm.
 *   numbers: seconds since 1970-01-01T00:00:00Z, or milliseconds when |x| > 1e11 (1e11 s is the year 5138,
 *            1e11 ms is 1973-03-03, so the two ranges do not meet in practice);
 *   strings: ISO-8601 "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff...]]" (T, t or a space), then optionally
 *            Z, z, +hh:mm, -hh:mm, +hhmm or +hh; no suffix means UTC. Offsets are applied, so
 *            "2024-03-01T01:30:00+02:00" is 2024-02-29T23:30:00Z. */
#ifndef RTML_TRANSFORMS_H
#define RTML_TRANSFORMS_H
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/features.h" /* rtml_transform_name */

/* The longest string a feature reads; a longer one is rejected as too_large. */
#define RTML_MAX_FEATURE_STRING 65536

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12, d 1..31). */
int64_t rtml_days_from_civil(int64_t y, unsigned m, unsigned d);
/* An ISO-8601 timestamp (see above) as seconds since the epoch; 0, or -1 when s is not one. */
int rtml_parse_timestamp(const char *s, size_t len, double *secs);
/* A numeric timestamp as seconds: x, or x / 1000 when |x| > 1e11. */
double rtml_epoch_seconds(double x);
double rtml_hour_of_day(double secs); /* 0..23 */
double rtml_day_of_week(double secs); /* 0..6, Monday = 0 (1970-01-01 was a Thursday: 3) */

/* The bucket of x: how many boundaries are <= x (0 .. n). bounds is strictly increasing. */
size_t rtml_bucket(const double *bounds, size_t n, double x);

/* The next bag_of_words token at or after *pos: a maximal run of ASCII letters and digits and of bytes
 * >= 0x80 (so UTF-8 letters stay inside words). Sets *start and *len and moves *pos past it; 0 at the end. */
int rtml_next_token(const char *s, size_t len, size_t *pos, size_t *start, size_t *tlen);

/* x as decimal integer text into buf when it is a whole number that fits an int64; its length, or 0. */
size_t rtml_whole_text(double x, char *buf, size_t len);

#endif
