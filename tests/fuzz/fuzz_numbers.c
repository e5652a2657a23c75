/* fuzz_numbers.c — libFuzzer target: numbers out and in, differential against the C library.
 *
 * Out (base/numconv.cc): the input's first 8 bytes are a double's bits. For every finite one,
 * rtml_format_double must write exactly the bytes of the reference loop (the shortest of snprintf's "%.15g",
 * "%.16g", "%.17g" that strtod reads back, rtml_format_double_slow), and strtod must read them back to the same
 * bits (-0 included); "%.17g" read back must agree too (the C library against itself: a broken libc would show).
 *
 * In (base/numconv.cc and the JSON scanner's fast path, codec/json.c): the input's bytes, kept only where they
 * are in "0123456789.-+eE", form a text; when it is a JSON number, rtml_parse_double must give strtod's bits
 * (correctly rounded: 17- to 20-digit mantissas, subnormals, exponents at the edges, overflow to infinity), and
 * the JSON decoder must read {"x": TEXT} as the same value when it is finite, both with the number at the end
 * of the record and with 32 bytes after it (the word-at-a-time fast path needs room to read ahead). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/numconv.h"
#include "base/record.h"
#include "base/rtml.h"
#include "codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what, const char *text) {
    if (!cond) {
        fprintf(stderr, "fuzz_numbers: %s: '%s'\n", what, text);
        abort();
    }
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void numbers_out(const uint8_t *data, size_t size) {
    if (size < 8) return;
    double v;
    memcpy(&v, data, 8);
    if (!isfinite(v)) return;
    char fast[RTML_DOUBLE_CHARS + 1], slow[RTML_DOUBLE_CHARS + 1], g17[40];
    size_t n = rtml_format_double(v, fast), m = rtml_format_double_slow(v, slow);
    fast[n] = slow[m] = '\0';
    check(n == m && memcmp(fast, slow, n) == 0, "rtml_format_double differs from the snprintf loop", fast);
    check(same_bits(strtod(fast, NULL), v), "the formatted double does not read back to the same bits", fast);
    snprintf(g17, sizeof g17, "%.17g", v);
    check(same_bits(strtod(g17, NULL), v), "%.17g does not read back (the C library)", g17);
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s) {
    const char *p = s + (*s == '-');
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return 0;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == '\0';
}

static rtml_decoder *json_decoder(void) {
    static rtml_decoder d = {&rtml_json_decoder, 1, NULL};
    static const char *const fields[] = {"/x"};
    char err[RTML_ERRLEN];
    if (!d.impl && d.ops->open(&d, NULL, fields, 1, err, sizeof err) != 0) { /* kept for the process */
        fprintf(stderr, "fuzz_numbers: %s\n", err);
        abort();
    }
    return &d;
}

static void decode_as_json(const char *text, double want, const char *tail) {
    char doc[600];
    int len = snprintf(doc, sizeof doc, "{\"x\":%s%s}", text, tail);
    if (len < 0 || (size_t)len >= sizeof doc) return;
    char *exact = malloc((size_t)len); /* exactly the record's bytes: ASan sees a read past its end */
    if (!exact) abort();
    memcpy(exact, doc, (size_t)len);
    rtml_value v;
    char err[RTML_ERRLEN];
    int rc = rtml_decode(json_decoder(), exact, (size_t)len, &v, err, sizeof err);
    free(exact);
    check(rc == 0, "the JSON decoder refused a valid number", text);
    check(v.type == RTML_V_NUMBER && v.num == want, "the JSON decoder read another value than strtod", text);
}

static void numbers_in(const uint8_t *data, size_t size) {
    char text[512];
    size_t n = 0;
    for (size_t i = 0; i < size && n + 1 < sizeof text; i++)
        if (data[i] && strchr("0123456789.-+eE", data[i])) text[n++] = (char)data[i];
    text[n] = '\0';
    if (!is_json_number(text)) return;
    double want = strtod(text, NULL), got;
    check(rtml_parse_double(text, n, &got) == 0, "rtml_parse_double refused a valid number", text);
    check(same_bits(got, want), "rtml_parse_double differs from strtod", text);
    if (!isfinite(want)) return;
    decode_as_json(text, want, "");
    decode_as_json(text, want, ",\"pad\":\"................................\"");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    numbers_out(data, size);
    numbers_in(data, size);
    return 0;
}
