/* test_avro.c — unit tests of the Avro decoder (src/codec/avro.c) and the prediction encoder
 * (src/codec/avro_encode.c), against fastavro as the reference implementation.
 *
 * Datums are written by fastavro (tests/data/avro_tool.py, run with .venv/bin/python) from Python literals
 * kept here, so every check compares a decoded value with the value written. Some datums are written by
 * hand instead (negative block counts with sizes, malformed bytes), where fastavro would not produce them.
 * Encoded predictions go the other way: fastavro reads them back and the JSON it prints is compared.
 * Every datum is decoded from a malloc'd buffer of exactly its length (sanitizer builds catch over-reads).
 * Logical types are tested in test_avro_logical.c. */
#include "check.h"
#include "codec/avro_schema.h"
#include "codec/codec.h"
#include "base/rtml.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------------------------- */

static char datadir[1024], python[1200];

static void find_paths(void) {
    const char *d = getenv("RTML_TESTDATA");
    snprintf(datadir, sizeof datadir, "%s", d ? d : "tests/data");
    snprintf(python, sizeof python, "%s/../../.venv/bin/python", datadir);
}

typedef struct {
    uint8_t *data;
    size_t len;
} blob;

static int hexval(int c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

/* Run avro_tool.py MODE SCHEMA with `input` on stdin; the output lines, NUL-separated in one malloc'd text. */
static char *run_tool(const char *mode, const char *schema, const char *input, size_t *n_lines) {
    char tmp[] = "/tmp/rtml_avro_XXXXXX", cmd[4096];
    int fd = mkstemp(tmp);
    if (fd < 0 || write(fd, input, strlen(input)) != (ssize_t)strlen(input)) abort();
    close(fd);
    snprintf(cmd, sizeof cmd, "'%s' '%s/avro_tool.py' %s '%s' < '%s'", python, datadir, mode, schema, tmp);
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    size_t len = 0, cap = 0;
    int c;
    *n_lines = 0;
    while (p && (c = fgetc(p)) != EOF) {
        if (len + 2 > cap) out = realloc(out, cap = cap * 2 + 256);
        if (c == '\n') c = '\0', ++*n_lines;
        out[len++] = (char)c;
    }
    int rc = p ? pclose(p) : -1;
    unlink(tmp);
    if (rc != 0) {
        fprintf(stderr, "test_avro: '%s' failed (rc %d): is fastavro installed in .venv (scripts/setup.sh)?\n", cmd, rc);
        free(out);
        return NULL;
    }
    return out;
}

/* fastavro's encoding of each literal (one per line of `literals`). */
static size_t write_datums(const char *schema, const char *literals, blob *out, size_t max) {
    size_t n;
    char *text = run_tool("write", schema, literals, &n);
    CHECK(text != NULL);
    if (!text) return 0;
    const char *line = text;
    for (size_t i = 0; i < n && i < max; i++) {
        size_t hl = strlen(line);
        out[i].len = hl / 2;
        out[i].data = malloc(out[i].len ? out[i].len : 1);
        for (size_t k = 0; k < out[i].len; k++) out[i].data[k] = (uint8_t)(hexval(line[2 * k]) << 4 | hexval(line[2 * k + 1]));
        line += hl + 1;
    }
    free(text);
    return n;
}

static void free_blobs(blob *b, size_t n) {
    for (size_t i = 0; i < n; i++) free(b[i].data);
}

static char *schema_path(const char *name) {
    static char path[1200];
    snprintf(path, sizeof path, "%s/schemas/%s", datadir, name);
    return path;
}

/* A schema written to a temporary file (the caller unlinks it). */
static void temp_schema(char *path, const char *json) {
    strcpy(path, "/tmp/rtml_avsc_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, json, strlen(json)) != (ssize_t)strlen(json)) abort();
    close(fd);
}

static rtml_decoder *open_avro(const char *schema, const char *const *fields, size_t n, char *err) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = RTML_FMT_AVRO;
    cfg.input.schema = (char *)schema;
    return rtml_decoder_open(&cfg, fields, n, err, RTML_ERRLEN);
}

/* Decode (data, len) from an exact copy; optional Confluent header with id. */
static int decode_copy(rtml_decoder *d, const uint8_t *data, size_t len, long confluent_id, rtml_value *out,
                       char *err, uint8_t **keep) {
    size_t hl = confluent_id >= 0 ? 5 : 0;
    uint8_t *buf = malloc(len + hl ? len + hl : 1);
    if (hl) {
        buf[0] = 0;
        for (int i = 0; i < 4; i++) buf[1 + i] = (uint8_t)((unsigned long)confluent_id >> (24 - 8 * i));
    }
    memcpy(buf + hl, data, len);
    err[0] = '\0';
    int rc = rtml_decode(d, (const char *)buf, len + hl, out, err, RTML_ERRLEN);
    free(*keep);
    *keep = buf; /* values borrow from it */
    return rc;
}

static int str_is(const rtml_value *v, const char *s, size_t n) {
    return v->type == RTML_V_STRING && v->len == n && memcmp(v->str, s, n) == 0;
}

static int int_is(const rtml_value *v, long long i) {
    return v->type == RTML_V_NUMBER && v->is_int && v->i64 == i && v->num == (double)i;
}

/* ---- decoding fastavro's datums ---------------------------------------------------------------------- */

#define NEXT_TXN                                                                                             \
    "{'id': 2, 'amount': -0.25, 'ratio': 0.0, 'count': 0, 'ok': False, 'merchant': '', 'raw': b'', "       \
    "'tags': {}, 'kind': 'CARD', 'note': None, 'user': None, 'history': [], 'items': [], 'hash': b'wxyz', " \
    "'next': None, 'ts': 0}"

static const char *const TXN_FIELDS[] = {
    "/id",   "/amount", "/ratio",   "/count",        "/ok",          "/merchant",   "/raw",  "/tags",
    "/kind", "/note",   "/user",    "/user/age",     "/user/scores", "/history",    "/items", "/hash",
    "/next/amount", "/next/next/id", "/ts", "/user/country", "/id",
};
#define N_TXN (sizeof TXN_FIELDS / sizeof *TXN_FIELDS)

static const char TXN_DATUMS[] =
    /* 0: everything set */
    "{'id': 123456789012, 'amount': 12.75, 'ratio': 0.5, 'count': -42, 'ok': True, 'merchant': 'acme caf\\u00e9', "
    "'raw': b'\\x00\\x01\\xff', 'tags': {'a': 'b', 'c': 'd'}, 'kind': 'WIRE', 'note': 'hi', "
    "'user': {'age': 37, 'country': 'PT', 'scores': [1.5, -2.0, 3.25]}, 'history': [1, -2, 300000000000], "
    "'items': [{'sku': 'x', 'qty': 1}, {'sku': 'yy', 'qty': 2}], 'hash': b'abcd', 'next': " NEXT_TXN ", "
    "'ts': 1700000000000}\n"
    /* 1: nulls in the unions; extremes */
    "{'id': -9223372036854775808, 'amount': 1e308, 'ratio': -1.5, 'count': 2147483647, 'ok': False, "
    "'merchant': 'm', 'raw': b'', 'tags': {}, 'kind': 'CARD', 'note': None, 'user': None, 'history': [], "
    "'items': [], 'hash': b'\\x00\\x00\\x00\\x00', 'next': None, 'ts': -1}\n"
    /* 2: the first byte of the bare datum is 0x00 (id 0): Confluent-looking, decoded as bare */
    "{'id': 0, 'amount': 3.0, 'ratio': 2.0, 'count': -2147483648, 'ok': True, 'merchant': 'zero', "
    "'raw': b'r', 'tags': {'k': 'v'}, 'kind': 'CASH', 'note': None, "
    "'user': {'age': 0, 'country': '', 'scores': []}, 'history': [9223372036854775807], 'items': [], "
    "'hash': b'0000', 'next': None, 'ts': 5}\n";

static void check_datum0(const rtml_value *v) {
    CHECK(int_is(&v[0], 123456789012LL));
    CHECK(v[1].type == RTML_V_NUMBER && v[1].num == 12.75 && !v[1].is_int);
    CHECK(v[2].type == RTML_V_NUMBER && v[2].num == 0.5);
    CHECK(int_is(&v[3], -42));
    CHECK(v[4].type == RTML_V_BOOL && v[4].num == 1);
    CHECK(str_is(&v[5], "acme caf\xC3\xA9", 10));
    CHECK(str_is(&v[6], "\x00\x01\xff", 3));
    CHECK(v[7].type == RTML_V_OTHER); /* a map */
    CHECK(str_is(&v[8], "WIRE", 4));
    CHECK(str_is(&v[9], "hi", 2));
    CHECK(v[10].type == RTML_V_OTHER); /* a record */
    CHECK(int_is(&v[11], 37));
    CHECK(v[12].type == RTML_V_ARRAY && v[12].arr_len == 3 && v[12].arr[0] == 1.5 && v[12].arr[1] == -2.0 &&
          v[12].arr[2] == 3.25);
    CHECK(v[13].type == RTML_V_ARRAY && v[13].arr_len == 3 && v[13].arr[0] == 1 && v[13].arr[1] == -2 &&
          v[13].arr[2] == 300000000000.0);
    CHECK(v[14].type == RTML_V_OTHER); /* an array of records */
    CHECK(str_is(&v[15], "abcd", 4));
    CHECK(v[16].type == RTML_V_NUMBER && v[16].num == -0.25);
    CHECK(v[17].type == RTML_V_ABSENT); /* next.next is null: a path through it is absent */
    CHECK(int_is(&v[18], 1700000000)); /* timestamp-millis: seconds (issue 24; was the milliseconds) */
    CHECK(str_is(&v[19], "PT", 2));
    CHECK(int_is(&v[20], 123456789012LL)); /* the same path twice */
}

static void check_datum1(const rtml_value *v) {
    CHECK(int_is(&v[0], INT64_MIN));
    CHECK(v[1].num == 1e308);
    CHECK(v[2].num == -1.5);
    CHECK(int_is(&v[3], 2147483647));
    CHECK(v[4].type == RTML_V_BOOL && v[4].num == 0);
    CHECK(v[6].type == RTML_V_STRING && v[6].len == 0);
    CHECK(v[9].type == RTML_V_NULL);
    CHECK(v[10].type == RTML_V_NULL);
    CHECK(v[11].type == RTML_V_ABSENT && v[12].type == RTML_V_ABSENT && v[19].type == RTML_V_ABSENT);
    CHECK(v[13].type == RTML_V_ARRAY && v[13].arr_len == 0);
    CHECK(v[16].type == RTML_V_ABSENT && v[17].type == RTML_V_ABSENT);
    CHECK(v[18].type == RTML_V_NUMBER && !v[18].is_int && v[18].num == -0.001);
}

static void check_datum2(const rtml_value *v) {
    CHECK(int_is(&v[0], 0));
    CHECK(int_is(&v[3], INT32_MIN));
    CHECK(str_is(&v[5], "zero", 4));
    CHECK(str_is(&v[8], "CASH", 4));
    CHECK(int_is(&v[11], 0));
    CHECK(v[12].type == RTML_V_ARRAY && v[12].arr_len == 0);
    CHECK(v[13].type == RTML_V_ARRAY && v[13].arr_len == 1 && v[13].arr[0] == 9223372036854775807.0);
}

static void test_fastavro_datums(void) {
    blob b[3];
    size_t n = write_datums(schema_path("txn.avsc"), TXN_DATUMS, b, 3);
    CHECK_EQ_INT(n, 3);
    if (n != 3) return;
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_avro(schema_path("txn.avsc"), TXN_FIELDS, N_TXN, err);
    CHECK(d != NULL);
    if (!d) {
        fprintf(stderr, "  open: %s\n", err);
        return;
    }
    rtml_value v[N_TXN];
    uint8_t *keep = NULL;
    CHECK(b[2].data[0] == 0 && b[2].len >= 5); /* datum 2 does look like a Confluent message */
    for (long id = -1; id <= 70000; id += 70001 / 3) { /* bare, then Confluent with a few ids */
        int rc = decode_copy(d, b[0].data, b[0].len, id, v, err, &keep);
        CHECK_EQ_INT(rc, 0);
        if (rc) fprintf(stderr, "  datum 0 (id %ld): %s\n", id, err);
        else check_datum0(v);
        CHECK_EQ_INT(decode_copy(d, b[1].data, b[1].len, id, v, err, &keep), 0);
        check_datum1(v);
        CHECK_EQ_INT(decode_copy(d, b[2].data, b[2].len, id, v, err, &keep), 0);
        check_datum2(v);
    }

    /* Every strict prefix is an error (truncation), framed or not; so is a trailing byte. */
    int prefix_ok = 0;
    for (size_t k = 0; k < b[0].len; k++) prefix_ok += decode_copy(d, b[0].data, k, -1, v, err, &keep) == 0;
    for (size_t k = 0; k < b[0].len; k++) prefix_ok += decode_copy(d, b[0].data, k, 9, v, err, &keep) == 0;
    CHECK_EQ_INT(prefix_ok, 0);
    uint8_t *longer = malloc(b[1].len + 1);
    memcpy(longer, b[1].data, b[1].len);
    longer[b[1].len] = 0x02;
    CHECK_EQ_INT(decode_copy(d, longer, b[1].len + 1, -1, v, err, &keep), -1);
    CHECK(strstr(err, "1 bytes left after the datum") != NULL);
    /* Framed with a byte to spare: neither reading works; the error of the reading that got further (here the
     * framed one) is reported. */
    CHECK_EQ_INT(decode_copy(d, longer, b[1].len + 1, 5, v, err, &keep), -1);
    CHECK(strstr(err, "1 bytes left after the datum") != NULL);
    CHECK(v[0].type == RTML_V_ABSENT);
    free(longer);
    free(keep);
    rtml_decoder_close(d);
    free_blobs(b, n);
}

/* Paths into arrays (by index) and maps (by key), on the same fastavro datums. */
static const char *const PATHS[] = {"/items/1/sku", "/items/0/qty", "/items/2/sku", "/tags/c", "/tags/zz",
                                    "/history/2",   "/history",     "/history/0",   "/user/scores/1",
                                    "/next/items/0/sku", "/items",  "/tags"};
#define N_PATHS (sizeof PATHS / sizeof *PATHS)

static void test_paths(void) {
    blob b[3];
    size_t n = write_datums(schema_path("txn.avsc"), TXN_DATUMS, b, 3);
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_avro(schema_path("txn.avsc"), PATHS, N_PATHS, err);
    CHECK(d != NULL && n == 3);
    if (!d || n != 3) {
        if (!d) fprintf(stderr, "  open: %s\n", err);
        free_blobs(b, n);
        rtml_decoder_close(d);
        return;
    }
    rtml_value v[N_PATHS];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(decode_copy(d, b[0].data, b[0].len, 7, v, err, &keep), 0);
    CHECK(str_is(&v[0], "yy", 2) && int_is(&v[1], 1) && v[2].type == RTML_V_ABSENT);
    CHECK(str_is(&v[3], "d", 1) && v[4].type == RTML_V_ABSENT);
    CHECK(int_is(&v[5], 300000000000LL) && v[6].type == RTML_V_ARRAY && v[6].arr_len == 3 && int_is(&v[7], 1));
    CHECK(v[8].type == RTML_V_NUMBER && v[8].num == -2.0 && v[9].type == RTML_V_ABSENT);
    CHECK(v[10].type == RTML_V_OTHER && v[11].type == RTML_V_OTHER);
    CHECK_EQ_INT(decode_copy(d, b[1].data, b[1].len, -1, v, err, &keep), 0); /* empty arrays and maps, no user */
    for (size_t i = 0; i < 6; i++) CHECK(v[i].type == RTML_V_ABSENT);
    CHECK(v[6].type == RTML_V_ARRAY && v[6].arr_len == 0 && v[7].type == RTML_V_ABSENT && v[8].type == RTML_V_ABSENT);
    CHECK_EQ_INT(decode_copy(d, b[2].data, b[2].len, -1, v, err, &keep), 0);
    CHECK(v[7].type == RTML_V_NUMBER && v[7].is_int && v[7].i64 == INT64_MAX && v[5].type == RTML_V_ABSENT);
    CHECK(v[3].type == RTML_V_ABSENT && v[8].type == RTML_V_ABSENT); /* tags {k: v}: no key c; scores [] */
    free(keep);
    rtml_decoder_close(d);
    free_blobs(b, n);
}

/* ---- hand-written datums: blocks with sizes, malformed bytes ----------------------------------------- */

static const char SMALL_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"h\",\"type\":\"int\"},"
    "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"boolean\",{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}]},"
    "{\"name\":\"nulls\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
    "{\"name\":\"z\",\"type\":\"int\"}]}";

static void expect_bad(rtml_decoder *d, const uint8_t *data, size_t len, const char *why) {
    rtml_value v[4];
    char err[RTML_ERRLEN];
    uint8_t *keep = NULL;
    int rc = decode_copy(d, data, len, -1, v, err, &keep);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(err, why) != NULL);
    if (rc != -1 || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got %d \"%s\"\n", why, rc, err);
    free(keep);
}

static void test_hand_written(void) {
    char path[64], err[RTML_ERRLEN];
    temp_schema(path, SMALL_SCHEMA);
    const char *all[] = {"/xs", "/m", "/u", "/z"}, *only_z[] = {"/z"};
    rtml_decoder *d = open_avro(path, all, 4, err), *dz = open_avro(path, only_z, 1, err);
    CHECK(d && dz);
    if (!d || !dz) {
        fprintf(stderr, "  open: %s\n", err);
        unlink(path);
        return;
    }
    /* h: 1 (so that no datum starts with 0x00, which would look like a Confluent header); xs: a block of -2
     * items in 2 bytes [1, 2], then a block of 1 [3], end; m: a block of -1 entry in 3 bytes {k: 5}, end;
     * u: branch 2 (the enum), symbol B; nulls: 1000000 nulls in one block (zero bytes), end; z: 3. */
    const uint8_t ok[] = {0x02, 0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00, 0x01, 0x06, 0x02, 'k', 0x0a, 0x00,
                          0x04, 0x02, 0x80, 0x89, 0x7a, 0x00, 0x06};
    rtml_value v[4];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(decode_copy(d, ok, sizeof ok, -1, v, err, &keep), 0);
    CHECK(v[0].type == RTML_V_ARRAY && v[0].arr_len == 3 && v[0].arr[0] == 1 && v[0].arr[1] == 2 && v[0].arr[2] == 3);
    CHECK(v[1].type == RTML_V_OTHER);
    CHECK(str_is(&v[2], "B", 1));
    CHECK(int_is(&v[3], 3));
    CHECK_EQ_INT(decode_copy(dz, ok, sizeof ok, -1, v, err, &keep), 0); /* sized blocks skipped by size */
    CHECK(int_is(&v[0], 3));
    /* Elements and entries inside sized blocks; a map key twice: the later entry replaces the earlier. */
    const char *elems[] = {"/xs/2", "/xs/0", "/m/k", "/xs"};
    rtml_decoder *de = open_avro(path, elems, 4, err);
    CHECK(de != NULL);
    if (de) {
        CHECK_EQ_INT(decode_copy(de, ok, sizeof ok, -1, v, err, &keep), 0);
        CHECK(int_is(&v[0], 3) && int_is(&v[1], 1) && int_is(&v[2], 5));
        CHECK(v[3].type == RTML_V_ARRAY && v[3].arr_len == 3);
        const uint8_t twice[] = {0x02, 0x00, 0x04, 0x02, 'k', 0x0a, 0x02, 'k', 0x0e, 0x00, 0x00, 0x00, 0x06};
        CHECK_EQ_INT(decode_copy(de, twice, sizeof twice, -1, v, err, &keep), 0);
        CHECK(int_is(&v[2], 7) && v[0].type == RTML_V_ABSENT && v[3].type == RTML_V_ARRAY && v[3].arr_len == 0);
        /* The same strictness when paths go into the blocks. */
        const uint8_t bad_xs[] = {0x02, 0x03, 0x02, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06};
        expect_bad(de, bad_xs, sizeof bad_xs, "offset 5: block size 1 does not match its items");
        const uint8_t long_xs[] = {0x02, 0x7e, 0x02};
        expect_bad(de, long_xs, sizeof long_xs, "block of 63 items runs past the end");
        const uint8_t bad_m[] = {0x02, 0x00, 0x01, 0x02, 0x02, 'k', 0x0a, 0x00, 0x00, 0x00, 0x00, 0x06};
        expect_bad(de, bad_m, sizeof bad_m, "block size 1 does not match its items");
        const uint8_t long_m[] = {0x02, 0x00, 0x7e, 0x02};
        expect_bad(de, long_m, sizeof long_m, "block of 63 items runs past the end");
        rtml_decoder_close(de);
    }
    free(keep);
    keep = NULL;

    const uint8_t bad_size[] = {0x02, 0x03, 0x02, 0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06};
    expect_bad(d, bad_size, sizeof bad_size, "block size 1 does not match its items");
    const uint8_t bad_branch[] = {0x02, 0x00, 0x00, 0x06, 0x00, 0x06};
    expect_bad(d, bad_branch, sizeof bad_branch, "offset 3: union branch 3 out of range (3)");
    const uint8_t bad_bool[] = {0x02, 0x00, 0x00, 0x02, 0x02, 0x00, 0x06};
    expect_bad(d, bad_bool, sizeof bad_bool, "offset 4: boolean byte 2 is neither 0 nor 1");
    const uint8_t bad_enum[] = {0x02, 0x00, 0x00, 0x04, 0x04, 0x00, 0x06};
    expect_bad(d, bad_enum, sizeof bad_enum, "offset 4: enum index 2 out of range (2)");
    const uint8_t long_over[] = {0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    expect_bad(d, long_over, sizeof long_over, "offset 12: long overflows");
    const uint8_t int_over[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x10};
    expect_bad(d, int_over, sizeof int_over, "offset 9: int overflows");
    const uint8_t int_max[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f};
    CHECK_EQ_INT(decode_copy(d, int_max, sizeof int_max, -1, v, err, &keep), 0);
    CHECK(int_is(&v[3], INT32_MAX));
    free(keep);
    keep = NULL;
    const uint8_t neg_len[] = {0x02, 0x00, 0x02, 0x01};
    expect_bad(d, neg_len, sizeof neg_len, "negative length");
    const uint8_t long_len[] = {0x02, 0x00, 0x02, 0x7e, 'k'};
    expect_bad(d, long_len, sizeof long_len, "length 63 runs past the end");
    const uint8_t many[] = {0x02, 0x7e, 0x02};
    expect_bad(d, many, sizeof many, "block of 63 items runs past the end");
    const uint8_t bad_count[] = {0x02, 0x01, 0x7f};
    expect_bad(d, bad_count, sizeof bad_count, "block size -64 out of range");
    expect_bad(d, ok, 0, "offset 0: truncated int");
    rtml_decoder_close(d);
    rtml_decoder_close(dz);
    unlink(path);
}

/* ---- schemas: parsing, recursion depth, errors at open ----------------------------------------------- */

static void expect_open_error(const char *schema_json, const char *field, const char *why) {
    char path[64], err[RTML_ERRLEN] = "";
    temp_schema(path, schema_json);
    const char *fields[] = {field};
    rtml_decoder *d = open_avro(path, fields, field ? 1 : 0, err);
    CHECK(d == NULL);
    CHECK(strstr(err, why) != NULL);
    if (d || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got \"%s\"\n", why, err);
    rtml_decoder_close(d);
    unlink(path);
}

/* A map of [null, record]: an entry whose key came before replaces it, so nothing of the earlier value stays. */
static void test_map_replace(void) {
    char path[64], err[RTML_ERRLEN];
    temp_schema(path, "{\"type\":\"record\",\"name\":\"M\",\"fields\":[{\"name\":\"mm\",\"type\":{\"type\":\"map\","
                      "\"values\":[\"null\",{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"a\","
                      "\"type\":\"int\"}]}]}}]}");
    const char *f[] = {"/mm/k/a", "/mm/k"};
    rtml_decoder *d = open_avro(path, f, 2, err);
    CHECK(d != NULL);
    rtml_value v[2];
    uint8_t *keep = NULL;
    const uint8_t a_then_null[] = {0x04, 0x02, 'k', 0x02, 0x02, 0x02, 'k', 0x00, 0x00};
    const uint8_t null_then_a[] = {0x04, 0x02, 'k', 0x00, 0x02, 'k', 0x02, 0x04, 0x00};
    if (d) {
        CHECK_EQ_INT(decode_copy(d, a_then_null, sizeof a_then_null, -1, v, err, &keep), 0);
        CHECK(v[0].type == RTML_V_ABSENT && v[1].type == RTML_V_NULL);
        CHECK_EQ_INT(decode_copy(d, null_then_a, sizeof null_then_a, -1, v, err, &keep), 0);
        CHECK(int_is(&v[0], 2) && v[1].type == RTML_V_OTHER);
    }
    free(keep);
    rtml_decoder_close(d);
    unlink(path);
}

static void test_schemas(void) {
    const char *rec = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";
    expect_open_error(rec, "/b", "field /b is not in the Avro schema (record R)");
    expect_open_error(rec, "/a/b", "field /a/b is not in the Avro schema");
    const char *arr = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\","
                      "\"items\":\"int\"}},{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"}}]}";
    expect_open_error(arr, "/a/x", "field /a/x is not in the Avro schema"); /* not an index */
    expect_open_error(arr, "/a/01", "field /a/01 is not in the Avro schema");
    expect_open_error(arr, "/a/0/b", "field /a/0/b is not in the Avro schema");
    expect_open_error(arr, "/m/k/b", "field /m/k/b is not in the Avro schema");
    expect_open_error("\"int\"", NULL, "the top-level type must be a record, not int");
    expect_open_error("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"Nope\"}]}", NULL,
                      "unknown type 'Nope'");
    expect_open_error("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
                      "{\"name\":\"a\",\"type\":\"int\"}]}", NULL, "'a' appears twice");
    expect_open_error("{\"type\":\"record\",\"fields\":[]}", NULL, "a record needs a \"name\"");
    expect_open_error("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[]}]}", NULL,
                      "a union needs at least one branch");
    expect_open_error("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"enum\","
                      "\"name\":\"R\",\"symbols\":[]}}]}", NULL, "type 'R' is defined twice");
    expect_open_error("{\"type\":\"record\",\"name\":\"R\"", NULL, "line 1");
    char err[RTML_ERRLEN];
    CHECK(open_avro("/nonexistent/x.avsc", NULL, 0, err) == NULL && strstr(err, "cannot open"));
    CHECK(open_avro(NULL, NULL, 0, err) == NULL && strstr(err, "needs a schema"));

    /* Deep nesting in a schema is refused; a recursive schema is fine, and a datum nesting it too deep is an error. */
    char deep[8192] = "";
    for (int i = 0; i < 70; i++) strcat(deep, "{\"type\":\"array\",\"items\":");
    strcat(deep, "\"int\"");
    for (int i = 0; i < 70; i++) strcat(deep, "}");
    char wrapped[9000];
    snprintf(wrapped, sizeof wrapped, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":%s}]}", deep);
    expect_open_error(wrapped, NULL, "nested deeper than 64");

    char path[64];
    temp_schema(path, "{\"type\":\"record\",\"name\":\"L\",\"namespace\":\"n\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
                      "{\"name\":\"next\",\"type\":[\"null\",\"n.L\"]}]}");
    const char *f[] = {"/next/next/v"};
    rtml_decoder *d = open_avro(path, f, 1, err);
    CHECK(d != NULL);
    uint8_t chain[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++) chain[n++] = 0x00, chain[n++] = 0x02; /* v = 0, next: branch L */
    chain[n - 1] = 0x00;                                                               /* the last next is null */
    rtml_value v[1];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(decode_copy(d, chain, 2 * 3, -1, v, err, &keep), -1); /* truncated */
    uint8_t three[] = {0x00, 0x02, 0x02, 0x02, 0x04, 0x00};            /* v0, v1, v2 then null */
    CHECK_EQ_INT(decode_copy(d, three, sizeof three, -1, v, err, &keep), 0);
    CHECK(int_is(&v[0], 2));
    CHECK_EQ_INT(decode_copy(d, chain, n, -1, v, err, &keep), -1);
    CHECK(strstr(err, "nested deeper than 64") != NULL);
    free(keep);
    rtml_decoder_close(d);
    unlink(path);
}

/* ---- the prediction encoder, read back by fastavro --------------------------------------------------- */

static void hex_line(rtml_buf *text, const rtml_buf *datum, size_t skip) {
    for (size_t i = skip; i < datum->len; i++) rtml_buf_printf(text, "%02x", (uint8_t)datum->data[i]);
    rtml_buf_putc(text, '\n');
}

static void test_encoder(void) {
    char err[RTML_ERRLEN];
    rtml_avro_encoder *e = rtml_avro_encoder_open(NULL, err, sizeof err);
    CHECK(e != NULL);
    if (!e) return;
    rtml_prediction_fields p[4] = {
        {NULL, 1, 1, 0.93, 17, "transactions", 3, 81234},
        {NULL, 12.5, 0, 12.5, 2, NULL, 0, 0},
        {"fraud", 2, 1, 0.5, 9007199254740993LL, "t\xC3\xA9", -1, INT64_MAX},
        {NULL, 4, 1, 0.25, 0, "", 2147483647, -7},
    };
    static const char *want[4] = {
        "{\"prediction\":1,\"score\":0.93,\"model_version\":17,\"source\":{\"topic\":\"transactions\",\"partition\":3,\"offset\":81234}}",
        "{\"prediction\":12.5,\"score\":12.5,\"model_version\":2,\"source\":null}",
        "{\"prediction\":\"fraud\",\"score\":0.5,\"model_version\":9007199254740993,\"source\":{\"topic\":\"t\\u00e9\",\"partition\":-1,\"offset\":9223372036854775807}}",
        "{\"prediction\":4,\"score\":0.25,\"model_version\":0,\"source\":{\"topic\":\"\",\"partition\":2147483647,\"offset\":-7}}",
    };
    rtml_buf text = RTML_BUF_INIT, datum = RTML_BUF_INIT;
    rtml_buf_puts(&text, rtml_avro_prediction_schema());
    rtml_buf_putc(&text, '\n');
    for (int i = 0; i < 4; i++) {
        rtml_buf_reset(&datum);
        rtml_buf_puts(&datum, "kept"); /* encode appends */
        CHECK_EQ_INT(rtml_avro_encode_prediction(e, &p[i], &datum, err, sizeof err), 0);
        CHECK(memcmp(datum.data, "kept", 4) == 0);
        hex_line(&text, &datum, 4);
    }
    /* Confluent framing: header then the same datum. */
    rtml_avro_encoder_set_schema_id(e, 258);
    rtml_buf_reset(&datum);
    CHECK_EQ_INT(rtml_avro_encode_prediction(e, &p[0], &datum, err, sizeof err), 0);
    CHECK(datum.len > 5 && memcmp(datum.data, "\x00\x00\x00\x01\x02", 5) == 0);
    hex_line(&text, &datum, 5);
    size_t n;
    char *out = run_tool("read", "-", text.data, &n);
    CHECK(out != NULL);
    CHECK_EQ_INT(n, 5);
    const char *line = out;
    for (size_t i = 0; out && i < n && i < 5; i++) {
        CHECK_STR(line, want[i < 4 ? i : 0]);
        line += strlen(line) + 1;
    }
    free(out);
    rtml_buf_free(&text);
    rtml_buf_free(&datum);
    rtml_avro_encoder_close(e);
}

/* A configured schema: reordered, narrowed, an extra nullable field, a string prediction. */
static void test_encoder_schema(void) {
    const char *schema =
        "{\"type\":\"record\",\"name\":\"P\",\"fields\":["
        "{\"name\":\"model_version\",\"type\":\"int\"},"
        "{\"name\":\"extra\",\"type\":[\"null\",\"string\"]},"
        "{\"name\":\"score\",\"type\":\"float\"},"
        "{\"name\":\"prediction\",\"type\":\"string\"},"
        "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"offset\",\"type\":\"long\"}]}}]}";
    char path[64], err[RTML_ERRLEN];
    temp_schema(path, schema);
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.output.format = RTML_FMT_AVRO;
    cfg.output.schema = path;
    rtml_avro_encoder *e = rtml_avro_encoder_open(&cfg, err, sizeof err);
    CHECK(e != NULL);
    if (!e) fprintf(stderr, "  open: %s\n", err);
    rtml_prediction_fields p = {NULL, 1, 1, 0.75, 3, "in", 0, 12};
    rtml_buf datum = RTML_BUF_INIT, text = RTML_BUF_INIT;
    CHECK_EQ_INT(rtml_avro_encode_prediction(e, &p, &datum, err, sizeof err), 0);
    rtml_buf_printf(&text, "%s\n", schema);
    hex_line(&text, &datum, 0);
    p.topic = NULL; /* the source is not nullable here */
    rtml_buf_reset(&datum);
    CHECK_EQ_INT(rtml_avro_encode_prediction(e, &p, &datum, err, sizeof err), -1);
    CHECK(strstr(err, "field 'source'") != NULL);
    CHECK_EQ_INT(datum.len, 0);
    size_t n;
    char *out = run_tool("read", "-", text.data, &n);
    CHECK(out && n == 1);
    if (out) CHECK_STR(out, "{\"model_version\":3,\"extra\":null,\"score\":0.75,\"prediction\":\"1\",\"source\":{\"offset\":12}}");
    free(out);
    rtml_buf_free(&datum);
    rtml_buf_free(&text);
    rtml_avro_encoder_close(e);
    unlink(path);

    /* Schemas rtml cannot fill. */
    const char *bad[][2] = {
        {"{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"other\",\"type\":\"int\"}]}", "'other' is not one rtml writes"},
        {"{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"score\",\"type\":\"boolean\"}]}", "'score' cannot hold"},
        {"{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"S\","
         "\"fields\":[{\"name\":\"topic\",\"type\":\"long\"}]}}]}", "'topic' cannot hold"},
        {"[\"null\"]", "must be a record"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        temp_schema(path, bad[i][0]);
        e = rtml_avro_encoder_open(&cfg, err, sizeof err);
        CHECK(e == NULL && strstr(err, bad[i][1]));
        if (e || !strstr(err, bad[i][1])) fprintf(stderr, "  want \"%s\", got \"%s\"\n", bad[i][1], err);
        rtml_avro_encoder_close(e);
        unlink(path);
    }
}

int main(void) {
    find_paths();
    if (access(python, X_OK) != 0) {
        fprintf(stderr, "test_avro: %s is missing: run scripts/setup.sh (fastavro is the reference)\n", python);
        return 1;
    }
    test_fastavro_datums();
    test_paths();
    test_hand_written();
    test_map_replace();
    test_schemas();
    test_encoder();
    test_encoder_schema();
    return check_exit("test_avro");
}
