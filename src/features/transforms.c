/* transforms.c — timestamps, buckets and tokens (see transforms.h). */
#include "features/transforms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms": eras of 400 years, March-based years. */
int64_t rtml_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* n decimal digits at s[*i] into *out; -1 if they are not all there. */
static int digits(const char *s, size_t len, size_t *i, int n, unsigned *out) {
    unsigned v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char *s, size_t len, size_t *i, char c) {
    if (*i >= len || s[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

/* "Z", "+hh:mm", "-hhmm", "+hh" or nothing, as seconds east of UTC. */
static int parse_offset(const char *s, size_t len, size_t i, int *secs) {
    unsigned hh, mm = 0;
    *secs = 0;
    if (i == len)
        return 0;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
        return 0;
    if (s[i] != '+' && s[i] != '-')
        return -1;
    int sign = s[i++] == '-' ? -1 : 1;
    if (digits(s, len, &i, 2, &hh) != 0)
        return -1;
    int colon = i < len && s[i] == ':';
    i += (size_t)colon;
    if ((colon || i < len) && digits(s, len, &i, 2, &mm) != 0)
        return -1;
    if (i != len || hh > 23 || mm > 59)
        return -1;
    *secs = sign * (int)(hh * 3600 + mm * 60);
    return 0;
}

/* "HH:MM[:SS[.fff]]" at s[*i]; seconds since midnight (with the fraction). */
static int parse_clock(const char *s, size_t len, size_t *i, double *secs) {
    unsigned hh, mm, ss = 0;
    double frac = 0, scale = 0.1;
    if (digits(s, len, i, 2, &hh) || expect(s, len, i, ':') || digits(s, len, i, 2, &mm))
        return -1;
    if (*i < len && s[*i] == ':' && (++*i, digits(s, len, i, 2, &ss) != 0))
        return -1;
    if (*i < len && (s[*i] == '.' || s[*i] == ',')) {
        size_t start = ++*i;
        for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, scale /= 10)
            frac += (s[*i] - '0') * scale;
        if (*i == start)
            return -1;
    }
    if (hh > 23 || mm > 59 || ss > 60) /* 60: a leap second, counted as the next minute's 0 */
        return -1;
    *secs = hh * 3600.0 + mm * 60.0 + ss + frac;
    return 0;
}

int rtml_parse_timestamp(const char *s, size_t len, double *secs) {
    unsigned y, m, d;
    size_t i = 0;
    double clock = 0;
    int offset = 0;
    if (digits(s, len, &i, 4, &y) || expect(s, len, &i, '-') || digits(s, len, &i, 2, &m) ||
        expect(s, len, &i, '-') || digits(s, len, &i, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (parse_clock(s, len, &i, &clock) != 0 || parse_offset(s, len, i, &offset) != 0)
            return -1;
    } else if (i != len) {
        return -1;
    }
    *secs = (double)rtml_days_from_civil(y, m, d) * 86400.0 + clock - offset;
    return 0;
}

double rtml_epoch_seconds(double x) { return fabs(x) > 1e11 ? x / 1000 : x; }

/* x mod m in [0, m), for any finite x. */
static double floor_mod(double x, double m) {
    double r = fmod(x, m);
    return r < 0 ? r + m : r;
}

double rtml_hour_of_day(double secs) {
    double h = floor(floor_mod(secs, 86400) / 3600);
    return h > 23 ? 23 : h; /* rounding at the very end of a day */
}

double rtml_day_of_week(double secs) {
    double days = floor(secs / 86400);
    double d = floor_mod(days + 3, 7); /* day 0 was a Thursday: Monday = 0 puts it at 3 */
    return d >= 7 ? 0 : floor(d);
}

size_t rtml_bucket(const double *bounds, size_t n, double x) {
    size_t lo = 0, hi = n; /* binary search for the first boundary > x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bounds[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int token_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

int rtml_next_token(const char *s, size_t len, size_t *pos, size_t *start, size_t *tlen) {
    size_t i = *pos;
    while (i < len && !token_byte((unsigned char)s[i]))
        i++;
    if (i == len) {
        *pos = len;
        return 0;
    }
    *start = i;
    while (i < len && token_byte((unsigned char)s[i]))
        i++;
    *tlen = i - *start;
    *pos = i;
    return 1;
}

size_t rtml_whole_text(double x, char *buf, size_t len) {
    if (!(x == floor(x)) || !(fabs(x) < 9.2e18))
        return 0;
    int n = snprintf(buf, len, "%lld", (long long)x);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}
