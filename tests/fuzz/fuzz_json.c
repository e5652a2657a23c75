/* fuzz_json.c — libFuzzer target for the hot-path JSON scanner (src/codec/json.c).
 *
 * Each input is one document, copied into a malloc'd buffer of exactly its size so that ASan sees any read
 * past the end (Kafka messages are not NUL-terminated). It is validated, extracted with a fixed set of
 * pointers (top-level, nested, array, escaped), and every span found goes through the conversions. The
 * input, cut at its first NUL, is also compiled as a pointer of its own. Invariants, checked with abort():
 *   - extract succeeds iff validate succeeds and the top-level value is an object;
 *   - every span lies inside the document (strings: between two quotes), and nothing is found on failure;
 *   - as_int64 success implies as_double success with the same value (both round correctly);
 *   - an unescaped string is no longer than its span, and put_string of it validates and reads back. */
#include "base/json_write.h"
#include "base/buf.h"
#include "codec/json.h"
#include "base/rtml.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPTRS 12
static const char *const fuzz_pointers[NPTRS] = {
    "/a", "/b", "/a/b", "/a/0", "/a/1/c", "/0", "/x~1y", "/t~0", "/arr/2", "/", "/a/b/c/d", "/\xC3\xA9",
};

/* Compiled once and never freed: the paths are immutable, and libFuzzer runs this for the whole process. */
static const rtml_json_paths *fuzz_paths(void) {
    static rtml_json_paths *paths;
    char err[RTML_ERRLEN];
    if (!paths && !(paths = rtml_json_paths_new(fuzz_pointers, NPTRS, err, sizeof err))) {
        fprintf(stderr, "fuzz_json: %s\n", err);
        abort();
    }
    return paths;
}

static void fuzz_check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_json: invariant failed: %s\n", what);
        abort();
    }
}

static void fuzz_string(const rtml_json_span *s) {
    char *buf = malloc(s->len + 1);
    long n = rtml_json_unescape(s, buf, s->len + 1);
    fuzz_check(n >= 0 && (size_t)n <= s->len, "a validated string unescapes into its own length");
    fuzz_check(rtml_json_string_eq(s, buf, (size_t)n), "string_eq agrees with unescape");
    rtml_buf b = RTML_BUF_INIT;
    rtml_json_put_string(&b, buf, (size_t)n);
    fuzz_check(rtml_json_validate(b.data, b.len, NULL, 0) == 0, "put_string output validates");
    rtml_json_span back = {RTML_JSON_STRING, b.data + 1, b.len - 2, 1, 0, 0, 0};
    char *again = malloc((size_t)n + 1);
    fuzz_check(rtml_json_unescape(&back, again, (size_t)n + 1) == n && memcmp(again, buf, (size_t)n) == 0,
               "put_string round-trips");
    free(again);
    rtml_buf_free(&b);
    free(buf);
}

static void fuzz_span(const rtml_json_span *s, const char *doc, size_t len) {
    if (s->type == RTML_JSON_ABSENT) return;
    fuzz_check(s->ptr >= doc && s->len <= len && s->ptr + s->len <= doc + len, "span inside the document");
    double d;
    long long i;
    int dok = rtml_json_as_double(s, &d) == 0, iok = rtml_json_as_int64(s, &i) == 0;
    fuzz_check(!iok || (dok && d == (double)i), "as_int64 implies as_double with the same value");
    fuzz_check(!dok || s->type == RTML_JSON_NUMBER || s->type == RTML_JSON_TRUE || s->type == RTML_JSON_FALSE,
               "as_double only on numbers and booleans");
    if (s->type == RTML_JSON_STRING) {
        fuzz_check(s->ptr > doc && s->ptr[-1] == '"' && s->ptr + s->len < doc + len && s->ptr[s->len] == '"',
                   "a string span sits between quotes");
        fuzz_string(s);
    } else if (s->type == RTML_JSON_OBJECT || s->type == RTML_JSON_ARRAY) {
        fuzz_check(s->len >= 2 && s->ptr[0] == (s->type == RTML_JSON_OBJECT ? '{' : '['), "container span");
        fuzz_check(rtml_json_validate(s->ptr, s->len, NULL, 0) == 0, "a container span is valid JSON itself");
    } else {
        fuzz_check(rtml_json_validate(s->ptr, s->len, NULL, 0) == 0, "a scalar span is valid JSON itself");
    }
}

/* Extract with paths; check the invariants against the validate verdict. */
static void fuzz_extract(const rtml_json_paths *paths, const char *doc, size_t len, int valid, int object) {
    size_t n = rtml_json_paths_count(paths);
    rtml_json_span out[NPTRS];
    char err[RTML_ERRLEN];
    int ok = rtml_json_extract(paths, doc, len, out, err, sizeof err) == 0;
    fuzz_check(ok == (valid && object), "extract succeeds iff valid and the top level is an object");
    fuzz_check(ok || strncmp(err, "offset ", 7) == 0, "errors carry an offset");
    for (size_t i = 0; i < n; i++) {
        fuzz_check(ok || out[i].type == RTML_JSON_ABSENT, "nothing found on failure");
        fuzz_span(&out[i], doc, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *doc = malloc(size ? size : 1);
    if (size) memcpy(doc, data, size);
    char err[RTML_ERRLEN];
    int valid = rtml_json_validate(doc, size, err, sizeof err) == 0;
    fuzz_check(valid || strncmp(err, "offset ", 7) == 0, "errors carry an offset");
    size_t first = 0;
    while (first < size && (doc[first] == ' ' || doc[first] == '\t' || doc[first] == '\n' || doc[first] == '\r'))
        first++;
    int object = first < size && doc[first] == '{';
    fuzz_extract(fuzz_paths(), doc, size, valid, object);

    /* The input as a pointer (up to its first NUL): compiling must not crash, nor extracting with it. */
    char *ptr = malloc(size + 1);
    memcpy(ptr, data, size);
    ptr[size] = '\0';
    const char *one = ptr;
    rtml_json_paths *own = rtml_json_paths_new(&one, 1, err, sizeof err);
    fuzz_check(own != NULL || ptr[0] != '/' || strstr(err, "'~'") || strstr(err, "deeper"),
               "a pointer starting with '/' compiles unless it has a bad '~' or is too deep");
    if (own) {
        fuzz_extract(own, doc, size, valid, object);
        rtml_json_paths_free(own);
    }
    free(ptr);
    free(doc);
    return 0;
}
