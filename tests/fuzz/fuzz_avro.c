/* fuzz_avro.c — libFuzzer target for the Avro decoder (src/codec/avro.c) and its schema parser.
 *
 * Each input is decoded as a datum (bare, or Confluent-framed when it starts with 0x00) of a fixed schema
 * with every kind of type, including a recursive record and the logical types (decimals on bytes and fixed,
 * a uuid on fixed, dates, times, timestamps), through paths that index arrays and look up map keys; the
 * decoder is opened once (the schema goes through a temporary file, removed at once) and kept for the whole
 * process, as it holds no state between records (map keys seen are reset per record).
 * The input is copied into a malloc'd buffer of exactly its size so ASan sees any read past the end.
 * An input that starts like JSON is also parsed as a schema. Invariants, checked with abort():
 *   - decode returns 0 or -1, and a failure says "offset N:" and leaves every value ABSENT;
 *   - a string value points into the input (string, bytes, fixed), is one of the enum's symbols, or is a
 *     uuid's 36-character text;
 *   - an array holds at most one number per input byte; is_int numbers agree with their double. */
#include "codec/avro_schema.h"
#include "codec/codec.h"
#include "base/rtml.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"Txn\",\"namespace\":\"rtml.test\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"amount\",\"type\":\"double\"},"
    "{\"name\":\"ratio\",\"type\":\"float\"},{\"name\":\"count\",\"type\":\"int\"},"
    "{\"name\":\"ok\",\"type\":\"boolean\"},{\"name\":\"merchant\",\"type\":\"string\"},"
    "{\"name\":\"raw\",\"type\":\"bytes\"},{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Kind\",\"symbols\":[\"CARD\",\"CASH\",\"WIRE\"]}},"
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"user\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"User\",\"fields\":["
    "{\"name\":\"age\",\"type\":\"int\"},{\"name\":\"country\",\"type\":\"string\"},"
    "{\"name\":\"scores\",\"type\":{\"type\":\"array\",\"items\":\"double\"}}]}]},"
    "{\"name\":\"history\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
    "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Item\",\"fields\":["
    "{\"name\":\"sku\",\"type\":\"string\"},{\"name\":\"qty\",\"type\":\"int\"}]}}},"
    "{\"name\":\"hash\",\"type\":{\"type\":\"fixed\",\"name\":\"Hash\",\"size\":4}},"
    "{\"name\":\"nulls\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Txn\"]},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":40,\"scale\":4}},"
    "{\"name\":\"decf\",\"type\":{\"type\":\"fixed\",\"name\":\"F8\",\"size\":8,\"logicalType\":\"decimal\","
    "\"precision\":18,\"scale\":2}},"
    "{\"name\":\"uf\",\"type\":{\"type\":\"fixed\",\"name\":\"U16\",\"size\":16,\"logicalType\":\"uuid\"}},"
    "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"tm\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"tsn\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-nanos\"}]},"
    "{\"name\":\"days\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"int\",\"logicalType\":\"date\"}}},"
    "{\"name\":\"amounts\",\"type\":{\"type\":\"map\",\"values\":[\"null\",{\"type\":\"bytes\","
    "\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}]}}]}";

#define NF 29
static const char *const FIELDS[NF] = {
    "/id",      "/amount",      "/ratio",     "/merchant",   "/raw",         "/kind",
    "/note",    "/user/age",    "/user/scores", "/history",  "/hash",        "/next/next/amount",
    "/ok",      "/ts",          "/dec",       "/decf",       "/uf",          "/d",
    "/tm",      "/tsn",         "/days",      "/days/1",     "/amounts/eur", "/amounts",
    "/items/1/sku", "/tags/c",  "/history/2", "/user/scores/0", "/next/items/0/qty"};

static void fuzz_check(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_avro: invariant failed: %s\n", what);
        abort();
    }
}

/* Opened once and never closed: the process is the fuzzer's. */
static rtml_decoder *fuzz_decoder(void) {
    static rtml_decoder *d;
    if (d) return d;
    char path[] = "/tmp/fuzz_avro_XXXXXX", err[RTML_ERRLEN];
    int fd = mkstemp(path);
    fuzz_check(fd >= 0 && write(fd, SCHEMA, sizeof SCHEMA - 1) == (ssize_t)(sizeof SCHEMA - 1), "temp schema");
    close(fd);
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = RTML_FMT_AVRO;
    cfg.input.schema = path;
    d = rtml_decoder_open(&cfg, FIELDS, NF, err, sizeof err);
    unlink(path);
    if (!d) fprintf(stderr, "fuzz_avro: %s\n", err);
    fuzz_check(d != NULL, "the decoder opens");
    return d;
}

static int is_symbol(const rtml_value *v) {
    static const char *const syms[] = {"CARD", "CASH", "WIRE"};
    for (int i = 0; i < 3; i++)
        if (v->len == 4 && memcmp(v->str, syms[i], 4) == 0) return 1;
    return 0;
}

/* 8-4-4-4-12 lower-case hex digits. */
static int is_uuid_text(const rtml_value *v) {
    if (v->len != 36) return 0;
    for (size_t i = 0; i < 36; i++) {
        char c = v->str[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

static void check_value(const rtml_value *v, const char *buf, size_t len) {
    if (v->type == RTML_V_STRING)
        fuzz_check((v->str >= buf && v->str + v->len <= buf + len) || is_symbol(v) || is_uuid_text(v),
                   "a string lies in the input");
    if (v->type == RTML_V_ARRAY) {
        fuzz_check(v->arr_len <= len, "an array holds at most one number per byte");
        volatile double sink = 0;
        for (size_t i = 0; i < v->arr_len; i++) sink += v->arr[i];
        (void)sink;
    }
    if (v->type == RTML_V_NUMBER && v->is_int) fuzz_check(v->num == (double)v->i64, "is_int agrees with num");
    if (v->type == RTML_V_BOOL) fuzz_check(v->num == 0 || v->num == 1, "a boolean is 0 or 1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rtml_decoder *d = fuzz_decoder();
    char *buf = malloc(size ? size : 1), err[RTML_ERRLEN];
    if (size) memcpy(buf, data, size);
    rtml_value out[NF];
    int rc = rtml_decode(d, buf, size, out, err, sizeof err);
    fuzz_check(rc == 0 || rc == -1, "decode returns 0 or -1");
    fuzz_check(rc == 0 || strncmp(err, "offset ", 7) == 0, "errors carry an offset");
    for (size_t i = 0; i < NF; i++) {
        fuzz_check(rc == 0 || out[i].type == RTML_V_ABSENT, "nothing found on failure");
        check_value(&out[i], buf, size);
    }
    if (size && (data[0] == '{' || data[0] == '[' || data[0] == '"')) {
        rtml_avro_schema *s = rtml_avro_schema_parse(buf, size, err, sizeof err);
        rtml_avro_schema_free(s);
    }
    free(buf);
    return 0;
}
