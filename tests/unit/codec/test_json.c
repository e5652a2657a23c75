/* test_json.c — unit tests of the hot-path JSON scanner (src/codec/json.c).
 *
 * Every document is copied into a malloc'd buffer of exactly its length (no NUL after it), so that a
 * sanitizer build catches any read past the end. Sections: validity rules one by one, error offsets,
 * extraction (nesting, arrays, escapes, duplicates), conversions at the edges, the string writer, and a
 * randomized part: generated documents checked against what the generator knows, and one-byte mutations
 * checked against a deliberately naive reference validator written here. */
#include "codec/json.h"
#include "base/json_write.h"
#include "base/buf.h"
#include "check.h"
#include "base/rtml.h"
#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- helpers ------------------------------------------------------------------------------------------- */

static char *exact_copy(const char *s, size_t n) {
    char *d = malloc(n ? n : 1);
    if (n) memcpy(d, s, n);
    return d;
}

static int validate_n(const char *s, size_t n, char *err) {
    char *d = exact_copy(s, n);
    int rc = rtml_json_validate(d, n, err, RTML_ERRLEN);
    free(d);
    return rc;
}

static void expect_valid(const char *s) {
    char err[RTML_ERRLEN] = "";
    int rc = validate_n(s, strlen(s), err);
    CHECK(rc == 0);
    if (rc) fprintf(stderr, "  expected valid: [%s]: %s\n", s, err);
}

/* s (n bytes) must be rejected; the message must contain `why`, and start with "offset N:" if offset >= 0. */
static void expect_invalid_n(const char *s, size_t n, const char *why, long offset) {
    char err[RTML_ERRLEN] = "", want[64];
    int rc = validate_n(s, n, err);
    CHECK(rc == -1);
    CHECK(strstr(err, why) != NULL);
    if (offset >= 0) {
        snprintf(want, sizeof want, "offset %ld: ", offset);
        CHECK(strncmp(err, want, strlen(want)) == 0);
    }
    if (rc != -1 || !strstr(err, why) || (offset >= 0 && strncmp(err, want, strlen(want)) != 0))
        fprintf(stderr, "  doc [%.*s]: want \"%s\" at %ld, got rc %d \"%s\"\n", (int)n, s, why, offset, rc, err);
}

static void expect_invalid(const char *s, const char *why, long offset) { expect_invalid_n(s, strlen(s), why, offset); }

/* One extraction: compile ptrs, copy doc to an exact buffer, extract into out. */
typedef struct {
    rtml_json_paths *paths;
    rtml_json_span out[32];
    char *doc;
    size_t len;
    char err[RTML_ERRLEN];
    int rc;
} extraction;

static int extract(extraction *e, const char *doc, const char *const *ptrs, size_t n) {
    memset(e, 0, sizeof *e);
    e->paths = rtml_json_paths_new(ptrs, n, e->err, sizeof e->err);
    CHECK(e->paths != NULL);
    if (!e->paths) {
        fprintf(stderr, "  paths: %s\n", e->err);
        return -1;
    }
    e->len = strlen(doc);
    e->doc = exact_copy(doc, e->len);
    e->rc = rtml_json_extract(e->paths, e->doc, e->len, e->out, e->err, sizeof e->err);
    return e->rc;
}

static void extraction_free(extraction *e) {
    rtml_json_paths_free(e->paths);
    free(e->doc);
}

/* Does span s have type t and exactly the text `text`? */
static int span_is(const rtml_json_span *s, rtml_json_type t, const char *text) {
    int ok = s->type == t && (t == RTML_JSON_ABSENT ? s->ptr == NULL && s->len == 0
                                                    : s->len == strlen(text) && memcmp(s->ptr, text, s->len) == 0);
    if (!ok)
        fprintf(stderr, "  span: want %s [%s], got %s [%.*s]\n", rtml_json_type_name(t), text,
                rtml_json_type_name(s->type), (int)s->len, s->ptr ? s->ptr : "");
    return ok;
}

static rtml_json_span number_span(const char *text) {
    return (rtml_json_span){RTML_JSON_NUMBER, text, strlen(text), 0, 0, 0, 0};
}

/* ---- validity ------------------------------------------------------------------------------------------- */

static void test_valid_documents(void) {
    const char *docs[] = {
        "{}", "[]", "0", "-0", "1", "-1.5e10", "2.5E-3", "1E+2", "0.0", "123456789012345678901234567890",
        "true", "false", "null", "\"\"", "\"x\"", " \t\r\n{} \n", "{\"a\":1}", "{ \"a\" : [ 1 , 2 , { } ] }",
        "[[[]]]", "[{\"a\":{\"b\":[null,true,false]}}]", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0000\\u00e9\\uFFFF\"",
        "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"", "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF\"",
        "\"\xF4\x8F\xBF\xBF\"", "{\"\":\"\"}", "[1,-0.5,1e-400,1e400]", "\"\x7f\"",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) expect_valid(docs[i]);
}

static void test_invalid_documents(void) {
    expect_invalid("", "unexpected end of input", 0);
    expect_invalid("  \n ", "unexpected end of input", 4);
    expect_invalid("{} x", "unexpected data after the top-level value", 3);
    expect_invalid("{}}", "unexpected data after the top-level value", 2);
    expect_invalid("1 2", "unexpected data after the top-level value", 2);
    expect_invalid("{\"a\":\"abc", "unterminated string", 5);
    expect_invalid("\"abc\\", "unterminated string", 0);
    expect_invalid("\"abc\\u00", "unterminated string", 0);
    expect_invalid("\"\\x\"", "invalid escape", 1);
    expect_invalid("\"\\'\"", "invalid escape", 1);
    expect_invalid("\"\\U0041\"", "invalid escape", 1);
    expect_invalid("\"\\u12G4\"", "invalid \\u escape", 1);
    expect_invalid("\"ab\\ud800\"", "lone high surrogate", 3);
    expect_invalid("\"\\udc00\"", "lone low surrogate", 1);
    expect_invalid("\"\\ud800\\u0041\"", "lone high surrogate", 1);
    expect_invalid("\"\\ud800\\ud800\"", "lone high surrogate", 1);
    expect_invalid("\"\\ud800x\"", "lone high surrogate", 1);
    expect_invalid("\"a\nb\"", "control character 0x0a", 2);
    expect_invalid("\"a\tb\"", "control character 0x09", 2);
    expect_invalid_n("\"a\0b\"", 5, "control character 0x00", 2);
    expect_invalid("\"\x1f\"", "control character 0x1f", 1);
    expect_invalid("01", "leading zero", 0);
    expect_invalid("[-01]", "leading zero", 1);
    expect_invalid("00", "leading zero", 0);
    expect_invalid("1.", "digit expected after '.'", 2);
    expect_invalid("1.e5", "digit expected after '.'", 2);
    expect_invalid(".5", "unexpected character '.'", 0);
    expect_invalid("-", "digit expected after '-'", 1);
    expect_invalid("-a", "digit expected after '-'", 1);
    expect_invalid("+1", "unexpected character '+'", 0);
    expect_invalid("1e", "digit expected in exponent", 2);
    expect_invalid("1e+", "digit expected in exponent", 3);
    expect_invalid("0x10", "unexpected data", 1);
    expect_invalid("NaN", "invalid literal", 0);
    expect_invalid("Infinity", "invalid literal", 0);
    expect_invalid("-Infinity", "digit expected after '-'", 1);
    expect_invalid("[1,]", "trailing comma", 2);
    expect_invalid("{\"a\":1,}", "trailing comma", 6);
    expect_invalid("{\"a\":1 , }", "trailing comma", 7);
    expect_invalid("[1,,2]", "unexpected character ','", 3);
    expect_invalid("[,1]", "unexpected character ','", 1);
    expect_invalid("{,}", "expected a string key", 1);
    expect_invalid("undefined", "invalid literal", 0);
    expect_invalid("True", "invalid literal", 0);
    expect_invalid("nul", "invalid literal", 0);
    expect_invalid("truex", "invalid literal", 0);
    expect_invalid("[true false]", "expected ',' or ']'", 6);
    expect_invalid("{\"a\":1 \"b\":2}", "expected ',' or '}'", 7);
    expect_invalid("{\"a\" 1}", "expected ':'", 5);
    expect_invalid("{\"a\"}", "expected ':'", 4);
    expect_invalid("{\"a\":}", "unexpected character '}'", 5);
    expect_invalid("{a:1}", "expected a string key", 1);
    expect_invalid("{'a':1}", "expected a string key", 1);
    expect_invalid("['a']", "unexpected character '''", 1);
    expect_invalid("[1,2", "unexpected end of input", 4);
    expect_invalid("{\"a\":1", "unexpected end of input", 6);
    expect_invalid("{\"a\"", "unexpected end of input", 4);
    expect_invalid("{", "unexpected end of input", 1);
    expect_invalid("[", "unexpected end of input", 1);
    expect_invalid("]", "unexpected character ']'", 0);
    expect_invalid("\x01", "unexpected byte 0x01", 0);
    expect_invalid("\xEF\xBB\xBF{}", "unexpected byte 0xef", 0); /* a BOM is not whitespace */
    expect_invalid("\"\xC0\x80\"", "invalid UTF-8", 1);          /* overlong NUL */
    expect_invalid("\"\xC1\xBF\"", "invalid UTF-8", 1);          /* overlong */
    expect_invalid("\"\xE0\x9F\xBF\"", "invalid UTF-8", 1);      /* overlong 3-byte */
    expect_invalid("\"\xF0\x8F\xBF\xBF\"", "invalid UTF-8", 1);  /* overlong 4-byte */
    expect_invalid("\"\xED\xA0\x80\"", "invalid UTF-8", 1);      /* encoded surrogate */
    expect_invalid("\"\xF4\x90\x80\x80\"", "invalid UTF-8", 1);  /* above U+10FFFF */
    expect_invalid("\"\xF5\x80\x80\x80\"", "invalid UTF-8", 1);
    expect_invalid("\"\xFF\"", "invalid UTF-8", 1);
    expect_invalid("\"\x80\"", "invalid UTF-8", 1);              /* lone continuation */
    expect_invalid("\"a\xE2\x82\"", "invalid UTF-8", 2);         /* truncated by the quote */
    expect_invalid("\"a\xE2\x82", "invalid UTF-8", 2);           /* truncated by the end */
    expect_invalid("\"\xC3(\"", "invalid UTF-8", 1);
}

/* A realistic record with an error late in it: the offset must point at the exact byte. */
static void test_error_offsets(void) {
    const char *doc = "{\"amount\": 12.5, \"name\": \"abc";
    expect_invalid(doc, "unterminated string", 25);
    char err[RTML_ERRLEN];
    CHECK(validate_n(doc, strlen(doc), err) == -1);
    CHECK_STR(err, "offset 25: unterminated string");
    CHECK(validate_n("{\"user\": {\"age\": 01}}", 21, err) == -1);
    CHECK_STR(err, "offset 17: leading zero in number");
    /* The error format with a NULL or zero-length err buffer must not crash. */
    CHECK(rtml_json_validate("[", 1, NULL, 0) == -1);
    CHECK(rtml_json_validate("[", 1, err, 0) == -1);
    char tiny[8];
    CHECK(rtml_json_validate("[", 1, tiny, sizeof tiny) == -1);
    CHECK(strlen(tiny) == sizeof tiny - 1);
}

static void nest(char *buf, int levels, char open, char close) {
    for (int i = 0; i < levels; i++) buf[i] = open, buf[2 * levels - 1 - i] = close;
    buf[2 * levels] = '\0';
}

static void test_depth(void) {
    char doc[2 * 70 + 8];
    nest(doc, 64, '[', ']');
    expect_valid(doc);
    nest(doc, 65, '[', ']');
    expect_invalid(doc, "nesting deeper than 64 levels", 64);
    /* Objects count the same, and extraction enforces it too. */
    rtml_buf b = RTML_BUF_INIT;
    for (int i = 0; i < 63; i++) rtml_buf_puts(&b, "{\"a\":");
    rtml_buf_puts(&b, "[7]");
    for (int i = 0; i < 63; i++) rtml_buf_putc(&b, '}');
    expect_valid(b.data);
    extraction e;
    char deepest[64 * 2 + 1] = "";
    for (int i = 0; i < 63; i++) strcat(deepest, "/a");
    strcat(deepest, "/0"); /* 64 segments: the 7 inside the innermost array */
    const char *deep[] = {"/a/a/a", deepest};
    CHECK(extract(&e, b.data, deep, 2) == 0);
    CHECK(e.out[0].type == RTML_JSON_OBJECT);
    CHECK(span_is(&e.out[1], RTML_JSON_NUMBER, "7"));
    extraction_free(&e);
    rtml_buf_reset(&b);
    for (int i = 0; i < 64; i++) rtml_buf_puts(&b, "{\"a\":");
    rtml_buf_puts(&b, "[7]");
    for (int i = 0; i < 64; i++) rtml_buf_putc(&b, '}');
    CHECK(extract(&e, b.data, deep, 1) == -1);
    CHECK(strstr(e.err, "nesting deeper than 64 levels") != NULL);
    CHECK(e.out[0].type == RTML_JSON_ABSENT); /* on error, everything is ABSENT */
    extraction_free(&e);
    rtml_buf_free(&b);
}

/* ---- pointers and extraction ---------------------------------------------------------------------------- */

static void test_paths_new(void) {
    char err[RTML_ERRLEN];
    const char *bad[][2] = {
        {"a", "must start with '/'"}, {"", "whole document"}, {"/a~2", "'~' must be followed by 0 or 1"},
        {"/a~", "'~' must be followed by 0 or 1"}, {"/~/b", "'~'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(rtml_json_paths_new(&bad[i][0], 1, err, sizeof err) == NULL);
        CHECK(strstr(err, bad[i][1]) != NULL);
    }
    /* A long bad pointer is cut in the message, so the reason still fits. */
    char longp[400];
    memset(longp, 'x', sizeof longp);
    longp[0] = '/';
    memcpy(longp + 390, "~2", 3);
    const char *lp = longp;
    CHECK(rtml_json_paths_new(&lp, 1, err, 64 + 100) == NULL);
    CHECK(strstr(err, "...\": '~' must be followed by 0 or 1") != NULL);
    const char *null_ptr[] = {"/a", NULL};
    CHECK(rtml_json_paths_new(null_ptr, 2, err, sizeof err) == NULL);
    /* 65 segments can never match a valid document. */
    rtml_buf b = RTML_BUF_INIT;
    for (int i = 0; i < 65; i++) rtml_buf_puts(&b, "/x");
    const char *deep = b.data;
    CHECK(rtml_json_paths_new(&deep, 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "deeper than 64") != NULL);
    rtml_buf_free(&b);
    /* At most 1024 pointers; 1024 distinct ones (a wide node) work. */
    static char names[1025][16];
    const char *many[1025];
    for (int i = 0; i < 1025; i++) {
        snprintf(names[i], sizeof names[i], "/f%d", i);
        many[i] = names[i];
    }
    CHECK(rtml_json_paths_new(many, 1025, err, sizeof err) == NULL);
    CHECK(strstr(err, "1025") != NULL);
    rtml_json_paths *p = rtml_json_paths_new(many, 1024, err, sizeof err);
    CHECK(p != NULL);
    CHECK_EQ_INT(rtml_json_paths_count(p), 1024);
    rtml_buf doc = RTML_BUF_INIT;
    rtml_buf_putc(&doc, '{');
    for (int i = 1023; i >= 0; i -= 3) rtml_buf_printf(&doc, "%s\"f%d\":%d", i == 1023 ? "" : ",", i, i);
    rtml_buf_putc(&doc, '}');
    rtml_json_span *out = calloc(1024, sizeof *out);
    CHECK(rtml_json_extract(p, doc.data, doc.len, out, err, sizeof err) == 0);
    int found = 0, right = 1;
    for (int i = 0; i < 1024; i++) {
        long long v;
        if (out[i].type == RTML_JSON_ABSENT) continue;
        found++;
        right &= rtml_json_as_int64(&out[i], &v) == 0 && v == i && (1023 - i) % 3 == 0;
    }
    CHECK_EQ_INT(found, 342);
    CHECK(right);
    free(out);
    rtml_buf_free(&doc);
    rtml_json_paths_free(p);
    /* Zero pointers: extraction only validates (and still wants an object). */
    p = rtml_json_paths_new(NULL, 0, err, sizeof err);
    CHECK(p != NULL);
    CHECK_EQ_INT(rtml_json_paths_count(p), 0);
    CHECK(rtml_json_extract(p, "{\"a\":[1]}", 9, NULL, err, sizeof err) == 0);
    CHECK(rtml_json_extract(p, "{\"a\":[1,]}", 10, NULL, err, sizeof err) == -1);
    rtml_json_paths_free(p);
    rtml_json_paths_free(NULL);
}

static void test_extract_basic(void) {
    const char *doc = " {\"amount\": 12.5, \"user\": {\"age\": 42, \"name\": \"Ann\", \"tags\": [\"a\", \"b\"]},"
                      " \"ok\": true, \"none\": null, \"no\": false, \"list\": [[1, 2], [3, [4, 5]], {\"k\": \"v\"}],"
                      " \"empty\": {}, \"e2\": [] } \n";
    const char *ptrs[] = {"/amount", "/user/age", "/user/name", "/user/tags/1", "/ok", "/none", "/no",
                          "/list/1/1/0", "/list/2/k", "/user", "/list/0", "/missing", "/user/missing",
                          "/user/tags/2", "/list/1/1/1/0", "/amount/x", "/empty", "/e2", "/list/00", "/list/-",
                          "/user/age"};
    extraction e;
    CHECK(extract(&e, doc, ptrs, sizeof ptrs / sizeof ptrs[0]) == 0);
    CHECK(span_is(&e.out[0], RTML_JSON_NUMBER, "12.5"));
    CHECK(span_is(&e.out[1], RTML_JSON_NUMBER, "42"));
    CHECK(span_is(&e.out[2], RTML_JSON_STRING, "Ann"));
    CHECK(span_is(&e.out[3], RTML_JSON_STRING, "b"));
    CHECK(span_is(&e.out[4], RTML_JSON_TRUE, "true"));
    CHECK(span_is(&e.out[5], RTML_JSON_NULL, "null"));
    CHECK(span_is(&e.out[6], RTML_JSON_FALSE, "false"));
    CHECK(span_is(&e.out[7], RTML_JSON_NUMBER, "4"));
    CHECK(span_is(&e.out[8], RTML_JSON_STRING, "v"));
    CHECK(span_is(&e.out[9], RTML_JSON_OBJECT, "{\"age\": 42, \"name\": \"Ann\", \"tags\": [\"a\", \"b\"]}"));
    CHECK(span_is(&e.out[10], RTML_JSON_ARRAY, "[1, 2]"));
    for (int i = 11; i <= 15; i++) CHECK(span_is(&e.out[i], RTML_JSON_ABSENT, ""));
    CHECK(span_is(&e.out[16], RTML_JSON_OBJECT, "{}"));
    CHECK(span_is(&e.out[17], RTML_JSON_ARRAY, "[]"));
    CHECK(span_is(&e.out[18], RTML_JSON_ABSENT, "")); /* "00" is not an array index */
    CHECK(span_is(&e.out[19], RTML_JSON_ABSENT, "")); /* nor is "-" */
    CHECK(span_is(&e.out[20], RTML_JSON_NUMBER, "42")); /* the same pointer twice: both filled */
    CHECK(e.out[2].escaped == 0);
    extraction_free(&e);

    /* Index-looking keys name object members too, and "01" / "-" are ordinary keys there. */
    const char *ptrs2[] = {"/0", "/01", "/-", "/a/0", "/a/10", "/"};
    CHECK(extract(&e, "{\"0\":\"zero\",\"01\":1,\"-\":2,\"a\":{\"0\":3,\"10\":4},\"\":5}", ptrs2, 6) == 0);
    CHECK(span_is(&e.out[0], RTML_JSON_STRING, "zero"));
    CHECK(span_is(&e.out[1], RTML_JSON_NUMBER, "1"));
    CHECK(span_is(&e.out[2], RTML_JSON_NUMBER, "2"));
    CHECK(span_is(&e.out[3], RTML_JSON_NUMBER, "3"));
    CHECK(span_is(&e.out[4], RTML_JSON_NUMBER, "4"));
    CHECK(span_is(&e.out[5], RTML_JSON_NUMBER, "5"));
    extraction_free(&e);

    /* Array positions beyond 9 and a big array around the wanted element. */
    rtml_buf b = RTML_BUF_INIT;
    rtml_buf_puts(&b, "{\"v\":[");
    for (int i = 0; i < 1000; i++) rtml_buf_printf(&b, "%s%d", i ? "," : "", i * 2);
    rtml_buf_puts(&b, "]}");
    const char *ptrs3[] = {"/v/0", "/v/10", "/v/999", "/v/1000", "/v/123456789", "/v/1234567890"};
    CHECK(extract(&e, b.data, ptrs3, 6) == 0);
    CHECK(span_is(&e.out[0], RTML_JSON_NUMBER, "0"));
    CHECK(span_is(&e.out[1], RTML_JSON_NUMBER, "20"));
    CHECK(span_is(&e.out[2], RTML_JSON_NUMBER, "1998"));
    for (int i = 3; i < 6; i++) CHECK(span_is(&e.out[i], RTML_JSON_ABSENT, ""));
    extraction_free(&e);
    rtml_buf_free(&b);
}

static void test_extract_top_level(void) {
    const char *ptrs[] = {"/a"};
    const char *docs[] = {"[1]", "1", "\"a\"", "null", "  [{\"a\":1}]"};
    extraction e;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        CHECK(extract(&e, docs[i], ptrs, 1) == -1);
        CHECK(strstr(e.err, "top-level value is not an object") != NULL);
        extraction_free(&e);
    }
    CHECK(extract(&e, "  ", ptrs, 1) == -1);
    CHECK_STR(e.err, "offset 2: unexpected end of input");
    extraction_free(&e);
    /* A trailing error after a fully matched object still fails, and clears what was found. */
    CHECK(extract(&e, "{\"a\":1} {", ptrs, 1) == -1);
    CHECK_STR(e.err, "offset 8: unexpected data after the top-level value");
    CHECK(e.out[0].type == RTML_JSON_ABSENT);
    extraction_free(&e);
    char err[RTML_ERRLEN];
    rtml_json_paths *p = rtml_json_paths_new(ptrs, 1, err, sizeof err);
    rtml_json_span out[1];
    CHECK(rtml_json_extract(p, NULL, 0, out, err, sizeof err) == -1);
    CHECK(rtml_json_extract(NULL, "{}", 2, out, err, sizeof err) == -1);
    CHECK(rtml_json_validate(NULL, 0, err, sizeof err) == -1);
    rtml_json_paths_free(p);
}

static void test_extract_escapes(void) {
    /* Keys with escapes compare after unescaping; ~0 and ~1 in pointers mean '~' and '/'. */
    const char *doc = "{\"a\\/b\": 1, \"c~d\": 2, \"e\\u0066\": 3, \"\\u00e9t\\u00e9\": 4, \"x\\\"y\": 5,"
                      " \"m~1n\": 6, \"s\": \"q\\\"uo\\\\te\\n\", \"\\ud83d\\ude00\": [7], \"t\\\\\": {\"/\": 8}}";
    const char *ptrs[] = {"/a~1b", "/c~0d", "/ef", "/\xC3\xA9t\xC3\xA9", "/x\"y", "/m~01n", "/s",
                          "/\xF0\x9F\x98\x80/0", "/t\\/~1", "/a/b", "/e", "/m~1n"};
    extraction e;
    CHECK(extract(&e, doc, ptrs, sizeof ptrs / sizeof ptrs[0]) == 0);
    for (int i = 0; i < 6; i++) {
        char want[4];
        snprintf(want, sizeof want, "%d", i + 1);
        CHECK(span_is(&e.out[i], RTML_JSON_NUMBER, want));
    }
    CHECK(span_is(&e.out[6], RTML_JSON_STRING, "q\\\"uo\\\\te\\n"));
    CHECK(e.out[6].escaped == 1);
    char buf[64];
    CHECK_EQ_INT(rtml_json_unescape(&e.out[6], buf, sizeof buf), 8);
    CHECK_STR(buf, "q\"uo\\te\n");
    CHECK(span_is(&e.out[7], RTML_JSON_NUMBER, "7"));
    CHECK(span_is(&e.out[8], RTML_JSON_NUMBER, "8"));
    for (int i = 9; i < 12; i++) CHECK(span_is(&e.out[i], RTML_JSON_ABSENT, ""));
    extraction_free(&e);
}

static void test_duplicate_keys(void) {
    const char *ptrs[] = {"/a", "/u/x", "/u/y", "/u", "/arr/0"};
    extraction e;
    CHECK(extract(&e, "{\"a\":1,\"u\":{\"x\":1,\"y\":2},\"a\":\"two\",\"u\":{\"x\":3},\"arr\":[1],\"arr\":5}", ptrs,
                  5) == 0);
    CHECK(span_is(&e.out[0], RTML_JSON_STRING, "two"));
    CHECK(span_is(&e.out[1], RTML_JSON_NUMBER, "3"));
    CHECK(span_is(&e.out[2], RTML_JSON_ABSENT, "")); /* the last "u" has no "y": last wins, whole value */
    CHECK(span_is(&e.out[3], RTML_JSON_OBJECT, "{\"x\":3}"));
    CHECK(span_is(&e.out[4], RTML_JSON_ABSENT, ""));
    extraction_free(&e);
    /* Duplicates inside a nested object, and an escaped spelling of the same key. */
    CHECK(extract(&e, "{\"u\":{\"x\":1,\"\\u0078\":9}, \"a\":0, \"\\u0061\":[true]}", ptrs, 5) == 0);
    CHECK(span_is(&e.out[1], RTML_JSON_NUMBER, "9"));
    CHECK(span_is(&e.out[0], RTML_JSON_ARRAY, "[true]"));
    extraction_free(&e);
    /* A wanted key whose value has the wrong shape: the subtree is absent. */
    CHECK(extract(&e, "{\"u\":[{\"x\":1}], \"arr\":{\"0\":\"k\"}}", ptrs, 5) == 0);
    CHECK(span_is(&e.out[1], RTML_JSON_ABSENT, ""));
    CHECK(span_is(&e.out[3], RTML_JSON_ARRAY, "[{\"x\":1}]"));
    CHECK(span_is(&e.out[4], RTML_JSON_STRING, "k")); /* "0" names a member of an object */
    extraction_free(&e);
}

/* ---- conversions ---------------------------------------------------------------------------------------- */

/* ---- extraction through a shape --------------------------------------------------------------------------- */

/* rtml_json_extract_shaped must give what rtml_json_extract gives, whatever its output array held before (a
 * complete shape does not clear it first: a scan that succeeds writes every output, one that fails clears
 * them), over a stream that learns shapes, keeps them, misses them and learns again. */
static void shaped_matches(const char *const *ptrs, size_t n, const char *const *docs, size_t n_docs) {
    char err[RTML_ERRLEN];
    rtml_json_paths *paths = rtml_json_paths_new(ptrs, n, err, sizeof err);
    rtml_json_shape *sh = rtml_json_shape_new();
    CHECK(paths != NULL && sh != NULL);
    if (!paths || !sh) return;
    for (int round = 0; round < 12; round++) {
        for (size_t d = 0; d < n_docs; d++) {
            size_t len = strlen(docs[d]);
            char *doc = exact_copy(docs[d], len), err2[RTML_ERRLEN];
            rtml_json_span want[8], got[8];
            memset(got, 0x5a, sizeof got); /* garbage: nothing of it may show */
            int rc_want = rtml_json_extract(paths, doc, len, want, err, sizeof err);
            int rc_got = rtml_json_extract_shaped(paths, sh, doc, len, got, err2, sizeof err2);
            CHECK(rc_want == rc_got);
            for (size_t i = 0; i < n; i++) {
                int same = want[i].type == got[i].type && want[i].ptr == got[i].ptr && want[i].len == got[i].len &&
                           want[i].escaped == got[i].escaped && want[i].num_state == got[i].num_state &&
                           memcmp(&want[i].num, &got[i].num, sizeof want[i].num) == 0 && want[i].i64 == got[i].i64;
                CHECK(same);
                if (!same)
                    fprintf(stderr, "  shaped [%s] %s: want %s [%.*s], got %s\n", docs[d], ptrs[i],
                            rtml_json_type_name(want[i].type), (int)want[i].len, want[i].ptr ? want[i].ptr : "",
                            rtml_json_type_name(got[i].type));
            }
            free(doc);
        }
    }
    rtml_json_shape_free(sh);
    rtml_json_paths_free(paths);
}

static void test_extract_shaped(void) {
    const char *docs[] = {
        "{\"a\":0.402351387961936,\"b\":\"x\",\"c\":true,\"pad\":\"................................\"}",
        "{\"a\":0.120144079775029,\"b\":\"yy\",\"c\":false,\"pad\":\"................................\"}",
        "{\"a\":3,\"b\":\"z\",\"pad\":\"................................\"}", /* c missing */
        "{\"a\":0.402351387961936,\"b\":\"x\",\"c\":true,\"pad\":\"................................\"}",
        "{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":5,\"pad\":\"................................\"}",
        "{\"a\":1,\"b\":\"x\",\"c\":tru,\"pad\":\"................................\"}", /* invalid */
        "{\"a\":\"s\",\"b\":2,\"c\":null,\"pad\":\"................................\"}",
        "{\"a\":1,\"b\":\"x\",\"c\":{\"k\":1},\"pad\":\"................................\"}",
        "{\"a\":-0.5e3,\"b\":\"\\u00e9\",\"c\":12345678901234567890,\"pad\":\"................................\"}",
        "{\"a\":1,\"a\":2,\"b\":\"x\",\"c\":true,\"pad\":\"................................\"}",
        "{\"a\":0.784854408760945,\"b\":\"x\",\"c\":true,\"pad\":\"................................\"}",
        "{\"a\":0.784854408760945,\"b\":\"x\",\"c\":true,\"pad\":\"................................\"}",
        "[1, 2]",
        "{\"a\":0.784854408760945,\"b\":\"x\",\"c\":true,\"pad\":\"................................\"} x",
    };
    const char *flat[] = {"/a", "/b", "/c"};      /* a shape can hold every output */
    const char *partial[] = {"/a", "/x"};         /* /x is in no document */
    const char *nested[] = {"/a", "/c/k", "/b"};  /* /c a member that holds no output itself */
    shaped_matches(flat, 3, docs, sizeof docs / sizeof docs[0]);
    shaped_matches(partial, 2, docs, sizeof docs / sizeof docs[0]);
    shaped_matches(nested, 3, docs, sizeof docs / sizeof docs[0]);
}

static void test_as_double(void) {
    double d = 0;
    rtml_json_span s = number_span("-0");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 0 && signbit(d));
    s = number_span("1e308");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 1e308);
    s = number_span("1.7976931348623157e308");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == DBL_MAX);
    s = number_span("1e309");
    CHECK(rtml_json_as_double(&s, &d) == -1); /* overflow to inf is rejected */
    s = number_span("-1e309");
    CHECK(rtml_json_as_double(&s, &d) == -1);
    s = number_span("5e-324");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d > 0 && d == 4.9406564584124654e-324);
    s = number_span("1e-400");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 0); /* underflow rounds to 0 */
    s = number_span("0.1");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 0.1);
    s = number_span("2.5E-3");
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 2.5e-3);
    s = number_span("9007199254740993"); /* 2^53 + 1: round to even */
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 9007199254740992.0);
    /* A long number (500 chars) converts correctly; one over the limit is refused. */
    char lng[600];
    memset(lng, '0', sizeof lng);
    lng[0] = '1';
    lng[1] = '.';
    lng[499] = '5';
    s = (rtml_json_span){RTML_JSON_NUMBER, lng, 500, 0, 0, 0, 0}; /* not NUL-terminated: followed by '0's */
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 1.0);
    s.len = RTML_JSON_MAX_NUMBER;
    CHECK(rtml_json_as_double(&s, &d) == 0);
    s.len = RTML_JSON_MAX_NUMBER + 1;
    CHECK(rtml_json_as_double(&s, &d) == -1);
    memset(lng, '9', 400);
    s = (rtml_json_span){RTML_JSON_NUMBER, lng, 400, 0, 0, 0, 0}; /* 10^400 - 1 */
    CHECK(rtml_json_as_double(&s, &d) == -1);
    s.len = 300;
    CHECK(rtml_json_as_double(&s, &d) == 0 && d == 1e300);
    /* Booleans are labels; other types and malformed spans are errors. */
    rtml_json_span t = {RTML_JSON_TRUE, "true", 4, 0, 0, 0, 0}, f = {RTML_JSON_FALSE, "false", 5, 0, 0, 0, 0};
    CHECK(rtml_json_as_double(&t, &d) == 0 && d == 1.0);
    CHECK(rtml_json_as_double(&f, &d) == 0 && d == 0.0);
    rtml_json_span str = {RTML_JSON_STRING, "1.5", 3, 0, 0, 0, 0}, nul = {RTML_JSON_NULL, "null", 4, 0, 0, 0, 0}, abs = {0};
    CHECK(rtml_json_as_double(&str, &d) == -1);
    CHECK(rtml_json_as_double(&nul, &d) == -1);
    CHECK(rtml_json_as_double(&abs, &d) == -1);
    const char *bad[] = {" 1", "1 ", "0x10", "+1", "inf", "nan", "1.", ".5", "01", "", "-", "1e"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = number_span(bad[i]);
        CHECK(rtml_json_as_double(&s, &d) == -1);
    }
    /* End to end, from an extracted span. */
    const char *ptrs[] = {"/x", "/y"};
    extraction e;
    CHECK(extract(&e, "{\"x\":-12.75e1,\"y\":false}", ptrs, 2) == 0);
    CHECK(rtml_json_as_double(&e.out[0], &d) == 0 && d == -127.5);
    CHECK(rtml_json_as_double(&e.out[1], &d) == 0 && d == 0.0);
    extraction_free(&e);
}

static void test_as_int64(void) {
    long long v = 0;
    rtml_json_span s;
    s = number_span("9223372036854775807");
    CHECK(rtml_json_as_int64(&s, &v) == 0 && v == LLONG_MAX);
    s = number_span("-9223372036854775808");
    CHECK(rtml_json_as_int64(&s, &v) == 0 && v == LLONG_MIN);
    s = number_span("9223372036854775808");
    CHECK(rtml_json_as_int64(&s, &v) == -1);
    s = number_span("-9223372036854775809");
    CHECK(rtml_json_as_int64(&s, &v) == -1);
    s = number_span("18446744073709551616");
    CHECK(rtml_json_as_int64(&s, &v) == -1);
    s = number_span("99999999999999999999999");
    CHECK(rtml_json_as_int64(&s, &v) == -1);
    s = number_span("-0");
    CHECK(rtml_json_as_int64(&s, &v) == 0 && v == 0);
    s = number_span("0");
    CHECK(rtml_json_as_int64(&s, &v) == 0 && v == 0);
    s = number_span("-42");
    CHECK(rtml_json_as_int64(&s, &v) == 0 && v == -42);
    const char *bad[] = {"1.0", "1e3", "1E0", "-", "01", "", " 1", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = number_span(bad[i]);
        CHECK(rtml_json_as_int64(&s, &v) == -1);
    }
    rtml_json_span t = {RTML_JSON_TRUE, "true", 4, 0, 0, 0, 0}, str = {RTML_JSON_STRING, "12", 2, 0, 0, 0, 0};
    CHECK(rtml_json_as_int64(&t, &v) == -1);
    CHECK(rtml_json_as_int64(&str, &v) == -1);
}

static void test_unescape(void) {
    char buf[16];
    rtml_json_span s = {RTML_JSON_STRING, "a\\u00e9\\ud83d\\ude00\\/", 21, 1, 0, 0, 0};
    CHECK_EQ_INT(rtml_json_unescape(&s, buf, sizeof buf), 8);
    CHECK_STR(buf, "a\xC3\xA9\xF0\x9F\x98\x80/");
    CHECK_EQ_INT(rtml_json_unescape(&s, buf, 9), 8); /* exact fit, NUL included */
    CHECK_EQ_INT(rtml_json_unescape(&s, buf, 8), -1);
    CHECK_EQ_INT(rtml_json_unescape(&s, buf, 6), -1);
    rtml_json_span plain = {RTML_JSON_STRING, "hello", 5, 0, 0, 0, 0};
    CHECK_EQ_INT(rtml_json_unescape(&plain, buf, 6), 5);
    CHECK_STR(buf, "hello");
    CHECK_EQ_INT(rtml_json_unescape(&plain, buf, 5), -1);
    rtml_json_span empty = {RTML_JSON_STRING, "", 0, 0, 0, 0, 0};
    CHECK_EQ_INT(rtml_json_unescape(&empty, buf, 1), 0);
    CHECK_EQ_INT(rtml_json_unescape(&empty, buf, 0), -1);
    rtml_json_span num = {RTML_JSON_NUMBER, "1", 1, 0, 0, 0, 0}, badesc = {RTML_JSON_STRING, "\\q", 2, 1, 0, 0, 0},
                   lone = {RTML_JSON_STRING, "\\ud800", 6, 1, 0, 0, 0}, cut = {RTML_JSON_STRING, "ab\\", 3, 1, 0, 0, 0};
    CHECK_EQ_INT(rtml_json_unescape(&num, buf, sizeof buf), -1);
    CHECK_EQ_INT(rtml_json_unescape(&badesc, buf, sizeof buf), -1);
    CHECK_EQ_INT(rtml_json_unescape(&lone, buf, sizeof buf), -1);
    CHECK_EQ_INT(rtml_json_unescape(&cut, buf, sizeof buf), -1);
    /* string_eq compares without copying, escaped or not. */
    CHECK(rtml_json_string_eq(&s, "a\xC3\xA9\xF0\x9F\x98\x80/", 8));
    CHECK(!rtml_json_string_eq(&s, "a\xC3\xA9\xF0\x9F\x98\x80", 7));
    CHECK(!rtml_json_string_eq(&s, "a\xC3\xA9\xF0\x9F\x98\x80/x", 9));
    CHECK(rtml_json_string_eq(&plain, "hello", 5));
    CHECK(!rtml_json_string_eq(&plain, "hellO", 5));
    CHECK(rtml_json_string_eq(&empty, "", 0));
    CHECK(!rtml_json_string_eq(&num, "1", 1));
}

/* ---- the string writer ---------------------------------------------------------------------------------- */

/* put_string(s) must validate as a document, and unescape (through extraction too) back to s. */
static int round_trip(const char *s, size_t len) {
    rtml_buf b = RTML_BUF_INIT;
    rtml_json_put_string(&b, s, len);
    char err[RTML_ERRLEN];
    int ok = validate_n(b.data, b.len, err) == 0;
    rtml_json_span sp = {RTML_JSON_STRING, b.data + 1, b.len - 2, memchr(b.data, '\\', b.len) != NULL, 0, 0, 0};
    char *back = malloc(len + 1);
    ok = ok && rtml_json_unescape(&sp, back, len + 1) == (long)len && memcmp(back, s, len) == 0;
    ok = ok && rtml_json_string_eq(&sp, s, len);
    /* and as a member of an object */
    rtml_buf doc = RTML_BUF_INIT;
    rtml_buf_puts(&doc, "{\"k\":");
    rtml_buf_append(&doc, b.data, b.len);
    rtml_buf_putc(&doc, '}');
    const char *ptr = "/k";
    rtml_json_paths *p = rtml_json_paths_new(&ptr, 1, err, sizeof err);
    rtml_json_span out[1];
    char *d = exact_copy(doc.data, doc.len);
    ok = ok && rtml_json_extract(p, d, doc.len, out, err, sizeof err) == 0 && out[0].type == RTML_JSON_STRING;
    ok = ok && rtml_json_unescape(&out[0], back, len + 1) == (long)len && memcmp(back, s, len) == 0;
    if (!ok) fprintf(stderr, "  round trip failed for %zu bytes -> [%s]\n", len, b.data);
    free(d);
    rtml_json_paths_free(p);
    rtml_buf_free(&doc);
    free(back);
    rtml_buf_free(&b);
    return ok;
}

static void test_put_string(void) {
    rtml_buf b = RTML_BUF_INIT;
    rtml_json_put_string(&b, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f/", 14);
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/\"");
    rtml_buf_reset(&b);
    rtml_json_put_string(&b, "", 0);
    CHECK_STR(b.data, "\"\"");
    rtml_buf_reset(&b);
    rtml_json_put_string(&b, "x\xFFy\xC3", 4); /* invalid UTF-8 -> U+FFFD, so the output is valid JSON */
    CHECK_STR(b.data, "\"x\xEF\xBF\xBDy\xEF\xBF\xBD\"");
    rtml_buf_reset(&b);
    rtml_json_put_string(&b, "\xED\xA0\x80", 3); /* a UTF-8-encoded surrogate is invalid too */
    CHECK_STR(b.data, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    rtml_buf_free(&b);

    /* Every ASCII byte (0..127), alone and all together, including NUL and the controls. */
    char all[128];
    int ok = 1;
    for (int i = 0; i < 128; i++) {
        all[i] = (char)i;
        ok &= round_trip(all + i, 1);
    }
    CHECK(ok);
    CHECK(round_trip(all, sizeof all));
    /* Every code point U+0080..U+10FFFF but the surrogates, as UTF-8, in chunks of 4096. */
    char *chunk = malloc(4096 * 4);
    size_t n = 0;
    int chunks_ok = 1;
    for (uint32_t cp = 0x80; cp <= 0x110000; cp++) {
        if (cp < 0x110000 && (cp < 0xD800 || cp > 0xDFFF)) {
            unsigned char *o = (unsigned char *)chunk + n;
            if (cp < 0x800) o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63)), n += 2;
            else if (cp < 0x10000)
                o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
                o[2] = (unsigned char)(0x80 | (cp & 63)), n += 3;
            else
                o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)),
                o[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), o[3] = (unsigned char)(0x80 | (cp & 63)), n += 4;
        }
        if (n >= 4096 * 4 - 4 || cp == 0x110000) {
            chunks_ok &= round_trip(chunk, n);
            n = 0;
        }
    }
    CHECK(chunks_ok);
    free(chunk);
}

/* ---- randomized ----------------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(uint32_t n) { /* xorshift64*, uniform enough for tests */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

/* What the generator knows about one value it wrote, to check extraction against. */
typedef struct {
    char ptr[400];
    size_t off, len;
    rtml_json_type type;
    char text[96]; /* strings: the unescaped value */
    size_t textlen;
} expectation;

typedef struct {
    rtml_buf b;
    expectation ex[32];
    int nex;
} generator;

static void gen_ws(generator *g) {
    static const char *const ws[] = {"", "", "", " ", "\n", "\t ", "\r\n  "};
    rtml_buf_puts(&g->b, ws[rnd(7)]);
}

/* Append a random decoded string of at most ~24 bytes to text (UTF-8) and its JSON form to the document,
 * choosing among equivalent spellings at random. */
static size_t gen_string_body(generator *g, char *text) {
    static const char *const pieces[] = {"a", "b", "Z", "0", "/", "~", " ", "\"", "\\", "\n", "\x01", "\x7f",
                                         "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "~1", "-"};
    size_t n = 0, count = rnd(7);
    for (size_t i = 0; i < count; i++) {
        const char *pc = pieces[rnd(sizeof pieces / sizeof pieces[0])];
        size_t len = strlen(pc);
        memcpy(text + n, pc, len);
        n += len;
        unsigned char c = (unsigned char)pc[0];
        if (c == 0xF0 && rnd(2)) rtml_buf_puts(&g->b, rnd(2) ? "\\ud83d\\ude00" : "\\uD83D\\uDE00");
        else if (c == 0xC3 && rnd(2)) rtml_buf_puts(&g->b, "\\u00e9");
        else if (c == 0xE2 && rnd(2)) rtml_buf_puts(&g->b, "\\u20AC");
        else if (len == 1 && c == '/' && rnd(2)) rtml_buf_puts(&g->b, "\\/");
        else if (len == 1 && c < 0x80 && c >= 0x20 && rnd(4) == 0) rtml_buf_printf(&g->b, "\\u%04x", c);
        else {
            rtml_buf tmp = RTML_BUF_INIT; /* the writer's own escaping, minus the quotes */
            rtml_json_put_string(&tmp, pc, len);
            rtml_buf_append(&g->b, tmp.data + 1, tmp.len - 2);
            rtml_buf_free(&tmp);
        }
    }
    text[n] = '\0';
    return n;
}

/* Escape a decoded key for use in a JSON Pointer (RFC 6901). */
static void pointer_append(char *ptr, size_t cap, const char *key) {
    size_t n = strlen(ptr);
    if (n + 1 < cap) ptr[n++] = '/';
    for (; *key && n + 2 < cap; key++) {
        if (*key == '~') ptr[n++] = '~', ptr[n++] = '0';
        else if (*key == '/') ptr[n++] = '~', ptr[n++] = '1';
        else ptr[n++] = *key;
    }
    ptr[n] = '\0';
}

static void gen_value(generator *g, int depth, const char *ptr);

static void gen_object(generator *g, int depth, const char *ptr) {
    rtml_buf_putc(&g->b, '{');
    gen_ws(g);
    uint32_t n = rnd(5);
    for (uint32_t i = 0; i < n; i++) {
        if (i) rtml_buf_putc(&g->b, ','), gen_ws(g);
        char key[128], child[400];
        rtml_buf_putc(&g->b, '"');
        size_t k = gen_string_body(g, key);
        k += (size_t)snprintf(key + k, sizeof key - k, "#%u", i); /* keys unique within the object */
        rtml_buf_printf(&g->b, "#%u\"", i);
        gen_ws(g);
        rtml_buf_putc(&g->b, ':');
        gen_ws(g);
        snprintf(child, sizeof child, "%s", ptr);
        pointer_append(child, sizeof child, key);
        gen_value(g, depth + 1, child);
        gen_ws(g);
    }
    rtml_buf_putc(&g->b, '}');
}

static void gen_array(generator *g, int depth, const char *ptr) {
    rtml_buf_putc(&g->b, '[');
    gen_ws(g);
    uint32_t n = rnd(5);
    for (uint32_t i = 0; i < n; i++) {
        if (i) rtml_buf_putc(&g->b, ','), gen_ws(g);
        char child[400];
        snprintf(child, sizeof child, "%s/%u", ptr, i);
        gen_value(g, depth + 1, child);
        gen_ws(g);
    }
    rtml_buf_putc(&g->b, ']');
}

static void gen_value(generator *g, int depth, const char *ptr) {
    static const char *const numbers[] = {"0", "-0", "7", "123", "-5.25", "1e10", "2.5E-3", "1E+2", "0.001",
                                          "-9223372036854775808", "1.7976931348623157e308", "5e-324"};
    static const char *const literals[] = {"null", "false", "true"}; /* in rtml_json_type order */
    size_t off = g->b.len;
    uint32_t kind = depth >= 6 ? 2 + rnd(3) : (depth == 0 ? 0 : rnd(5));
    rtml_json_type type;
    char text[96] = "";
    size_t textlen = 0;
    if (kind == 0) gen_object(g, depth, ptr), type = RTML_JSON_OBJECT;
    else if (kind == 1) gen_array(g, depth, ptr), type = RTML_JSON_ARRAY;
    else if (kind == 2) {
        rtml_buf_putc(&g->b, '"');
        textlen = gen_string_body(g, text);
        rtml_buf_putc(&g->b, '"');
        type = RTML_JSON_STRING;
    } else if (kind == 3) {
        rtml_buf_puts(&g->b, numbers[rnd(sizeof numbers / sizeof numbers[0])]);
        type = RTML_JSON_NUMBER;
    } else {
        uint32_t l = rnd(3);
        rtml_buf_puts(&g->b, literals[l]);
        type = (rtml_json_type)(RTML_JSON_NULL + l);
    }
    if (depth > 0 && g->nex < 32 && rnd(3) == 0) {
        expectation *x = &g->ex[g->nex++];
        snprintf(x->ptr, sizeof x->ptr, "%s", ptr);
        x->type = type;
        x->off = type == RTML_JSON_STRING ? off + 1 : off;
        x->len = type == RTML_JSON_STRING ? g->b.len - off - 2 : g->b.len - off;
        memcpy(x->text, text, textlen + 1);
        x->textlen = textlen;
    }
}

/* The reference: a plain recursive-descent validator, byte by byte, sharing no code with the scanner. */
typedef struct {
    const unsigned char *p, *end;
} ref;

static int ref_value(ref *r, int depth);

static void ref_ws(ref *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int ref_hex(ref *r, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++, r->p++) {
        if (r->p >= r->end) return 0;
        unsigned c = *r->p;
        unsigned d = c >= '0' && c <= '9'   ? c - '0'
                     : c >= 'a' && c <= 'f' ? c - 'a' + 10
                     : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                            : 99;
        if (d == 99) return 0;
        *v = *v * 16 + d;
    }
    return 1;
}

static int ref_utf8(ref *r) {
    unsigned c = *r->p++, cp, n;
    if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 7;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 15;
    else if (c >= 0xC0 && c <= 0xDF) n = 1, cp = c & 31;
    else return 0;
    for (unsigned i = 0; i < n; i++, r->p++) {
        if (r->p >= r->end || (*r->p & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (*r->p & 63);
    }
    unsigned min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    return cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

static int ref_string(ref *r) {
    r->p++; /* the opening quote */
    for (;;) {
        if (r->p >= r->end) return 0;
        unsigned c = *r->p;
        if (c == '"') return r->p++, 1;
        if (c < 0x20) return 0;
        if (c >= 0x80) {
            if (!ref_utf8(r)) return 0;
            continue;
        }
        r->p++;
        if (c != '\\') continue;
        if (r->p >= r->end) return 0;
        c = *r->p++;
        if (strchr("\"\\/bfnrt", (int)c) && c) continue;
        if (c != 'u') return 0;
        unsigned v, w;
        if (!ref_hex(r, &v)) return 0;
        if (v >= 0xDC00 && v <= 0xDFFF) return 0;
        if (v >= 0xD800 && v <= 0xDBFF) {
            if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u') return 0;
            r->p += 2;
            if (!ref_hex(r, &w) || w < 0xDC00 || w > 0xDFFF) return 0;
        }
    }
}

static int ref_digits(ref *r) {
    const unsigned char *s = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    return r->p > s;
}

static int ref_number(ref *r) {
    if (*r->p == '-') r->p++;
    if (r->p >= r->end) return 0;
    if (*r->p == '0') r->p++;
    else if (!ref_digits(r)) return 0;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!ref_digits(r)) return 0;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (!ref_digits(r)) return 0;
    }
    return 1;
}

static int ref_word(ref *r, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0) return 0;
    r->p += n;
    return 1;
}

static int ref_container(ref *r, int depth, int is_obj) {
    if (depth > 64) return 0;
    r->p++;
    ref_ws(r);
    if (r->p < r->end && *r->p == (is_obj ? '}' : ']')) return r->p++, 1;
    for (;;) {
        ref_ws(r);
        if (is_obj) {
            if (r->p >= r->end || *r->p != '"' || !ref_string(r)) return 0;
            ref_ws(r);
            if (r->p >= r->end || *r->p != ':') return 0;
            r->p++;
        }
        if (!ref_value(r, depth)) return 0;
        ref_ws(r);
        if (r->p >= r->end) return 0;
        if (*r->p == ',') { r->p++; continue; }
        if (*r->p == (is_obj ? '}' : ']')) return r->p++, 1;
        return 0;
    }
}

static int ref_value(ref *r, int depth) {
    ref_ws(r);
    if (r->p >= r->end) return 0;
    unsigned c = *r->p;
    if (c == '{' || c == '[') return ref_container(r, depth + 1, c == '{');
    if (c == '"') return ref_string(r);
    if (c == '-' || (c >= '0' && c <= '9')) return ref_number(r);
    return ref_word(r, "true") || ref_word(r, "false") || ref_word(r, "null");
}

static int ref_valid(const char *s, size_t n) {
    ref r = {(const unsigned char *)s, (const unsigned char *)s + n};
    if (!ref_value(&r, 0)) return 0;
    ref_ws(&r);
    return r.p == r.end;
}

static int mutants_valid, mutants_invalid; /* both must occur, or the comparison proves little */

/* Mutate doc one byte at a time: never a crash, validate agrees with the reference, and extract succeeds
 * exactly when validate does and the top level is an object, with every span inside the document. */
static int mutate_and_compare(const rtml_buf *doc, const rtml_json_paths *paths, size_t npaths) {
    static const char interesting[] = "\"\\{}[],: 0-e.1tnu\x00\x80\xC3\xFF\n";
    int ok = 1;
    rtml_json_span out[32];
    for (int m = 0; m < 24; m++) {
        size_t len = doc->len, at = rnd((uint32_t)len);
        char *d = malloc(len + 1);
        memcpy(d, doc->data, len);
        uint32_t op = rnd(4);
        if (op == 0) d[at] = (char)rnd(256);
        else if (op == 1) d[at] = interesting[rnd(sizeof interesting - 1)];
        else if (op == 2) memmove(d + at, d + at + 1, len - at - 1), len--; /* delete */
        else memmove(d + at + 1, d + at, len - at), d[at] = interesting[rnd(sizeof interesting - 1)], len++;
        char *e = exact_copy(d, len);
        free(d);
        char err[RTML_ERRLEN];
        int v = rtml_json_validate(e, len, err, sizeof err) == 0;
        mutants_valid += v;
        mutants_invalid += !v;
        if (v != ref_valid(e, len)) {
            fprintf(stderr, "  validate %d vs reference %d on [%.*s] (%s)\n", v, !v, (int)len, e, v ? "" : err);
            ok = 0;
        }
        size_t first = 0;
        while (first < len && (e[first] == ' ' || e[first] == '\n' || e[first] == '\t' || e[first] == '\r')) first++;
        int x = rtml_json_extract(paths, e, len, out, err, sizeof err) == 0;
        if (x != (v && first < len && e[first] == '{')) ok = 0;
        for (size_t i = 0; i < npaths; i++) {
            if (out[i].type == RTML_JSON_ABSENT) continue;
            if (!x || out[i].ptr < e || out[i].ptr + out[i].len > e + len) ok = 0;
        }
        free(e);
    }
    return ok;
}

static void test_random_documents(void) {
    int gen_ok = 1, extract_ok = 1, mutate_ok = 1, found = 0;
    for (int iter = 0; iter < 3000; iter++) {
        generator g;
        memset(&g, 0, sizeof g);
        gen_ws(&g);
        gen_value(&g, 0, "");
        gen_ws(&g);
        char *doc = exact_copy(g.b.data, g.b.len);
        char err[RTML_ERRLEN];
        if (rtml_json_validate(doc, g.b.len, err, sizeof err) != 0 || !ref_valid(doc, g.b.len)) {
            fprintf(stderr, "  generated doc rejected: %s\n  [%s]\n", err, g.b.data);
            gen_ok = 0;
        }
        const char *ptrs[32];
        for (int i = 0; i < g.nex; i++) ptrs[i] = g.ex[i].ptr;
        rtml_json_paths *p = rtml_json_paths_new(ptrs, (size_t)g.nex, err, sizeof err);
        rtml_json_span out[32];
        if (!p || rtml_json_extract(p, doc, g.b.len, out, err, sizeof err) != 0) {
            fprintf(stderr, "  extract failed: %s\n  [%s]\n", err, g.b.data);
            extract_ok = 0;
        } else {
            for (int i = 0; i < g.nex; i++) {
                const expectation *x = &g.ex[i];
                int good = out[i].type == x->type && out[i].ptr == doc + x->off && out[i].len == x->len;
                if (good && x->type == RTML_JSON_STRING) {
                    char buf[128];
                    good = rtml_json_unescape(&out[i], buf, sizeof buf) == (long)x->textlen &&
                           memcmp(buf, x->text, x->textlen) == 0 && rtml_json_string_eq(&out[i], x->text, x->textlen);
                }
                if (!good) {
                    fprintf(stderr, "  pointer %s: want %s at %zu+%zu, got %s at %td+%zu\n  [%s]\n", x->ptr,
                            rtml_json_type_name(x->type), x->off, x->len, rtml_json_type_name(out[i].type),
                            out[i].ptr ? out[i].ptr - doc : -1, out[i].len, g.b.data);
                    extract_ok = 0;
                }
                found++;
            }
            mutate_ok &= mutate_and_compare(&g.b, p, (size_t)g.nex);
        }
        rtml_json_paths_free(p);
        free(doc);
        rtml_buf_free(&g.b);
    }
    CHECK(gen_ok);
    CHECK(extract_ok);
    CHECK(mutate_ok);
    CHECK(found > 1000); /* the generator really exercised extraction */
    CHECK(mutants_valid > 1000 && mutants_invalid > 1000);
}

/* as_double takes a fast path (Clinger) for short mantissas and small exponents and strtod otherwise: on
 * numbers written in every style around the path's edges, it must agree with strtod bit for bit. */
static void test_as_double_matches_strtod(void) {
    unsigned long long state = 99;
    int differ = 0, checked = 0;
    for (int i = 0; i < 200000; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned long long r = state >> 11;
        char text[64];
        int digits = 1 + (int)(r % 19), exp10 = (int)((r >> 8) % 61) - 30, style = (int)((r >> 16) % 4);
        unsigned long long mant = (r >> 20) % 10000000000000000000ULL;
        while (mant >= 10 && snprintf(NULL, 0, "%llu", mant) > digits) mant /= 10;
        if (style == 0) snprintf(text, sizeof text, "%llu", mant);
        else if (style == 1) snprintf(text, sizeof text, "-%llue%d", mant, exp10);
        else if (style == 2) snprintf(text, sizeof text, "0.%0*llu", digits, mant);
        else snprintf(text, sizeof text, "%llu.%llue%+d", mant, mant % 1000, exp10);
        rtml_json_span sp = {RTML_JSON_NUMBER, text, strlen(text), 0, 0, 0, 0};
        double fast, slow = strtod(text, NULL);
        if (rtml_json_as_double(&sp, &fast) != 0) continue;
        checked++;
        differ += memcmp(&fast, &slow, sizeof fast) != 0;
        /* the decoder's one-pass conversion agrees with as_double and as_int64 */
        double one;
        int is_int;
        long long i64 = 0, want_i64;
        CHECK(rtml_json_number_value(&sp, &one, &is_int, &i64) == 0);
        differ += memcmp(&one, &slow, sizeof one) != 0;
        int want_int = rtml_json_as_int64(&sp, &want_i64) == 0;
        differ += is_int != want_int || (want_int && i64 != want_i64);
    }
    CHECK(checked > 190000);
    CHECK_EQ_INT(differ, 0);
}

int main(void) {
    test_as_double_matches_strtod();
    test_valid_documents();
    test_invalid_documents();
    test_error_offsets();
    test_depth();
    test_paths_new();
    test_extract_basic();
    test_extract_top_level();
    test_extract_escapes();
    test_duplicate_keys();
    test_extract_shaped();
    test_as_double();
    test_as_int64();
    test_unescape();
    test_put_string();
    test_random_documents();
    return check_exit("test_json");
}
