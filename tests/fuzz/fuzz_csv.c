/* fuzz_csv.c — libFuzzer target for the CSV decoder (src/codec/csv.c) through the decoder interface.
 *
 * The first byte picks the set-up: the delimiter (',' ';' '\t' '|') and where column names come from
 * (the first record as a header, configured columns, or positions). The rest is cut at 0xFF bytes into
 * records, decoded in order by one decoder, each from a malloc'd buffer of exactly its size so that ASan
 * sees any read past the end. Invariants, checked with abort():
 *   - decode returns 1 only for the first record in header mode, and only 0 or -1 otherwise;
 *   - a failure carries "offset N:" or "record has", leaves every value ABSENT, and (for the header) leaves
 *     the header pending;
 *   - every string value is readable for its length and no longer than the record, and points into the
 *     record unless it was unescaped; numbers with is_int agree with their double; booleans are 0 or 1. */
#include "codec/codec.h"
#include "base/rtml.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NF 6
static const char *const FIELDS[NF] = {"/a", "/b", "/0", "/2", "/a", "/c d"};


static void fuzz_check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_csv: invariant failed: %s\n", what);
        abort();
    }
}

static void check_value(const rtml_value *v, const char *rec, size_t len) {
    volatile char sink = 0;
    switch (v->type) {
    case RTML_V_STRING:
        fuzz_check(v->len <= len, "a string is no longer than its record");
        for (size_t i = 0; i < v->len; i++) sink ^= v->str[i];
        if (v->len && (v->str < rec || v->str + v->len > rec + len))
            fuzz_check(memchr(rec, '"', len) != NULL, "only unescaped strings live in scratch");
        break;
    case RTML_V_NUMBER: fuzz_check(!v->is_int || v->num == (double)v->i64, "is_int agrees with num"); break;
    case RTML_V_BOOL: fuzz_check(v->num == 0 || v->num == 1, "a boolean is 0 or 1"); break;
    case RTML_V_ABSENT:
    case RTML_V_NULL: break;
    default: fuzz_check(0, "CSV values are absent, null, string, number or boolean");
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    static const char delims[] = {',', ';', '\t', '|'};
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = RTML_FMT_CSV;
    cfg.input.csv_delimiter = delims[data[0] & 3];
    int mode = (data[0] >> 2) % 3; /* 0: header record, 1: configured columns, 2: positions */
    cfg.input.csv_header = mode == 0;
    char a[] = "a", b[] = "b", zero[] = "0", cd[] = "c d", two[] = "2", *columns[] = {a, b, zero, cd, two};
    if (mode == 1) cfg.input.csv_columns = columns, cfg.input.n_csv_columns = 5;
    const char *const pos_fields[] = {"/0", "/3", "/1"};
    char err[RTML_ERRLEN];
    rtml_decoder *d = mode == 2 ? rtml_decoder_open(&cfg, pos_fields, 3, err, sizeof err)
                                : rtml_decoder_open(&cfg, FIELDS, NF, err, sizeof err);
    fuzz_check(d != NULL, "the decoder opens");
    size_t nf = mode == 2 ? 3 : NF, start = 1;
    int header_pending = mode == 0;
    while (start <= size) {
        size_t end = start;
        while (end < size && data[end] != 0xFF) end++;
        size_t len = end - start;
        char *rec = malloc(len ? len : 1);
        if (len) memcpy(rec, data + start, len);
        rtml_value out[NF];
        int rc = rtml_decode(d, rec, len, out, err, sizeof err);
        fuzz_check(rc == -1 || rc == 0 || rc == 1, "decode returns -1, 0 or 1");
        fuzz_check(rc != 1 || header_pending, "1 only for the header");
        fuzz_check(!header_pending || rc != 0, "the header is never a record");
        if (rc == 1) header_pending = 0;
        if (rc == -1)
            fuzz_check(strncmp(err, "offset ", 7) == 0 || strncmp(err, "record has ", 11) == 0, "errors say where");
        for (size_t i = 0; rc == -1 && i < nf; i++)
            fuzz_check(out[i].type == RTML_V_ABSENT, "nothing found on failure");
        if (rc == 0)
            for (size_t i = 0; i < nf; i++) check_value(&out[i], rec, len);
        free(rec);
        start = end + 1;
    }
    rtml_decoder_close(d);
    return 0;
}
