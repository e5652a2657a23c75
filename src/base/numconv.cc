// numconv.cc — numbers to text and back (see numconv.h): std::to_chars and std::from_chars behind C.
// C++ only for those two library calls: no exceptions, no allocation, nothing else from the C++ library.
#include "base/numconv.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

size_t rtml_format_double_slow(double v, char *out) {
    char tmp[RTML_DOUBLE_CHARS];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) { // the shortest of %.15g/%.16g/%.17g that round-trips
        n = std::snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || std::strtod(tmp, nullptr) == v) break;
    }
    std::memcpy(out, tmp, (size_t)n);
    return (size_t)n;
}


// Where the fast path's proof (numconv.h) does not hold: subnormals, and a power of two (mantissa bits all
// zero: the gap below it is half the gap above) when the shortest digits number 16 or more.
static bool needs_slow(double v, size_t ndigits) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    uint64_t exp = bits >> 52 & 0x7ff, mant = bits & ((UINT64_C(1) << 52) - 1);
    return exp == 0 || (mant == 0 && ndigits >= 16);
}

static char *put_zeros(char *o, int n) {
    for (int i = 0; i < n; i++) *o++ = '0';
    return o;
}

// The shortest digits "[-]d[.ddd]e+XX" as std::to_chars(scientific) wrote them in s[0..len), laid out as
// %.{max(15, n)}g would: scientific is already the right text; fixed notation is rebuilt from the first digit
// d and the rest (the digits after the point). Returns 0 when the slow path must decide (needs_slow).
static size_t layout_g(double v, const char *s, size_t len, char *out) {
    size_t neg = s[0] == '-';
    size_t e = s[len - 4] == 'e' ? len - 4 : len - 5; // the exponent has two or three digits
    int x = (s[e + 2] - '0') * 10 + (s[e + 3] - '0');
    if (e == len - 5) x = x * 10 + (s[e + 4] - '0');
    if (s[e + 1] == '-') x = -x;
    const char *rest = s + neg + 2; // after "d."
    size_t nrest = e > neg + 1 ? e - (neg + 2) : 0, n = 1 + nrest;
    if (needs_slow(v, n)) return 0;
    int prec = n > 15 ? (int)n : 15;
    if (x < -4 || x >= prec) { // %g's scientific form is to_chars's (trailing zeros never written by either)
        std::memcpy(out, s, len);
        return len;
    }
    char *o = out;
    if (neg) *o++ = '-';
    if (x < 0) { // 0.000ddd
        *o++ = '0';
        *o++ = '.';
        o = put_zeros(o, -x - 1);
        *o++ = s[neg];
        std::memcpy(o, rest, nrest);
        return (size_t)(o + nrest - out);
    }
    *o++ = s[neg];
    if (nrest <= (size_t)x) { // a whole number: its digits, then zeros
        std::memcpy(o, rest, nrest);
        return (size_t)(put_zeros(o + nrest, x - (int)nrest) - out);
    }
    std::memcpy(o, rest, (size_t)x);
    o += x;
    *o++ = '.';
    std::memcpy(o, rest + x, nrest - (size_t)x);
    return (size_t)(o + nrest - (size_t)x - out);
}

size_t rtml_format_double(double v, char *out) {
    if (v == 0) { // to_chars writes "0e+00"; %g writes "0" and "-0"
        if (std::signbit(v)) return std::memcpy(out, "-0", 2), 2;
        out[0] = '0';
        return 1;
    }
    char s[RTML_DOUBLE_CHARS];
    std::to_chars_result r = std::to_chars(s, s + sizeof s, v, std::chars_format::scientific);
    size_t n = layout_g(v, s, (size_t)(r.ptr - s), out);
    return n ? n : rtml_format_double_slow(v, out);
}

size_t rtml_format_i64(int64_t v, char *out) {
    std::to_chars_result r = std::to_chars(out, out + RTML_I64_CHARS, (long long)v);
    return (size_t)(r.ptr - out);
}

// from_chars reports result_out_of_range, and leaves the value alone, for overflow (1e400) and for underflow
// (1e-400) alike; strtod then gives what rtml has always read: +-inf, or the subnormal or zero it rounds to.
static double strtod_span(const char *p, size_t len) {
    char small[128];
    char *tmp = len < sizeof small ? small : static_cast<char *>(std::malloc(len + 1));
    if (!tmp) std::abort(); // as buf.h: a process out of memory cannot keep its promises
    std::memcpy(tmp, p, len);
    tmp[len] = '\0';
    double d = std::strtod(tmp, nullptr);
    if (tmp != small) std::free(tmp);
    return d;
}

int rtml_parse_double(const char *p, size_t len, double *out) {
    double d = 0;
    std::from_chars_result r = std::from_chars(p, p + len, d, std::chars_format::general);
    if (r.ec == std::errc::result_out_of_range) {
        if (r.ptr != p + len) return -1;
        d = strtod_span(p, len);
    } else if (r.ec != std::errc() || r.ptr != p + len) {
        return -1;
    }
    *out = d;
    return 0;
}
