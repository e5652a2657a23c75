/* test_protobuf.c — unit tests of the Protobuf decoder (src/codec/protobuf.c, pbdesc.c, base/pbwire.c), with protoc as the
 * reference encoder.
 *
 * tests/data/schemas/txn.proto is compiled at run time (protoc --include_imports --descriptor_set_out) and
 * messages are encoded from text format with protoc --encode, so every check compares a decoded value with
 * the value protoc wrote. Malformed messages are written by hand. Every message is decoded from a malloc'd
 * buffer of exactly its length (sanitizer builds catch over-reads). Records written by Python's protobuf
 * runtime (presence rules, well-known types, paths into repeated fields and maps, Confluent framing) are in
 * test_protobuf_peers.c; prediction records in test_protobuf_encode.c. */
#include "check.h"
#include "codec/codec.h"
#include "codec/pbdesc.h"
#include "base/rtml.h"
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static char schemas[1100], tmpdir[64], desc[200];

typedef struct {
    uint8_t *data;
    size_t len;
} blob;

static blob read_all(const char *path) {
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    size_t cap = 0, n;
    while (f && (b.len + 4096 > cap ? (b.data = realloc(b.data, cap = cap * 2 + 4096)) != NULL : 1) &&
           (n = fread(b.data + b.len, 1, cap - b.len, f)) > 0)
        b.len += n;
    if (f) fclose(f);
    return b;
}

/* protoc --encode=TYPE of a text-format message. */
static blob encode(const char *type, const char *text) {
    char in[128], out[128], cmd[2048];
    snprintf(in, sizeof in, "%s/in.txt", tmpdir);
    snprintf(out, sizeof out, "%s/out.bin", tmpdir);
    FILE *f = fopen(in, "w");
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "protoc --encode=%s -I '%s' txn.proto < '%s' > '%s'", type, schemas, in, out);
    int rc = system(cmd);
    CHECK_EQ_INT(rc, 0);
    if (rc) fprintf(stderr, "  protoc failed on: %s\n", text);
    return read_all(out);
}

static int setup(void) {
    const char *d = getenv("RTML_TESTDATA");
    snprintf(schemas, sizeof schemas, "%s/schemas", d ? d : "tests/data");
    strcpy(tmpdir, "/tmp/rtml_pb_XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(desc, sizeof desc, "%s/txn.desc", tmpdir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "protoc --include_imports --descriptor_set_out='%s' -I '%s' txn.proto", desc, schemas);
    return system(cmd) == 0 ? 0 : -1;
}

static void cleanup(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "test_protobuf: could not remove %s\n", tmpdir);
}

static rtml_decoder *open_pb(const char *schema, const char *message, const char *const *fields, size_t n,
                             char *err) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = RTML_FMT_PROTOBUF;
    cfg.input.schema = (char *)schema;
    cfg.input.message = (char *)message;
    return rtml_decoder_open(&cfg, fields, n, err, RTML_ERRLEN);
}

/* Decode an exact copy of (data, len); *keep holds the copy the values borrow from. */
static int dec(rtml_decoder *d, const uint8_t *data, size_t len, rtml_value *out, char *err, uint8_t **keep) {
    free(*keep);
    *keep = malloc(len ? len : 1);
    if (len) memcpy(*keep, data, len);
    err[0] = '\0';
    return rtml_decode(d, (const char *)*keep, len, out, err, RTML_ERRLEN);
}

static int str_is(const rtml_value *v, const char *s, size_t n) {
    return v->type == RTML_V_STRING && v->len == n && memcmp(v->str, s, n) == 0;
}

static int int_is(const rtml_value *v, long long i) {
    return v->type == RTML_V_NUMBER && v->is_int && v->i64 == i && v->num == (double)i;
}

static int array_is(const rtml_value *v, const double *want, size_t n) {
    if (v->type != RTML_V_ARRAY || v->arr_len != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (v->arr[i] != want[i]) return 0;
    return 1;
}

/* ---- every type, written by protoc -------------------------------------------------------------------- */

static const char *const FIELDS[] = {
    "/id",  "/amount", "/ratio", "/count", "/u32",      "/u64",     "/s32",          "/s64",    "/f32",
    "/f64", "/sf32",   "/sf64",  "/ok",    "/merchant", "/raw",     "/kind",         "/user",   "/user/age",
    "/user/scores", "/history", "/unpacked", "/tags", "/counts", "/maybe", "/items", "/first/sku",
    "/kinds", "/big_field", "/user/friend/country", "/id",
};
#define NF (sizeof FIELDS / sizeof *FIELDS)

static const char FULL[] =
    "id: 123456789012 amount: 12.75 ratio: 0.5 count: -5 u32: 4294967295 u64: 18446744073709551615 "
    "s32: -2147483648 s64: -9223372036854775808 f32: 4000000000 f64: 18446744073709551615 sf32: -7 "
    "sf64: -9000000000 ok: true merchant: \"acme caf\\303\\251\" raw: \"\\000\\001\\377\" kind: WIRE "
    "user { age: 37 country: \"PT\" scores: [1.5, -2, 3.25] friend { country: \"ES\" } } "
    "history: [1, -2, 300000000000] unpacked: [4, 5] tags: [\"a\", \"b\"] counts { key: \"x\" value: 1 } "
    "maybe: 0 items { sku: \"s1\" qty: 1 } first { sku: \"f\" } kinds: [CARD, REFUND] big_field: -3";

static void check_full(const rtml_value *v) {
    CHECK(int_is(&v[0], 123456789012LL));
    CHECK(v[1].type == RTML_V_NUMBER && v[1].num == 12.75 && !v[1].is_int);
    CHECK(v[2].type == RTML_V_NUMBER && v[2].num == 0.5);
    CHECK(int_is(&v[3], -5));
    CHECK(int_is(&v[4], 4294967295LL));
    CHECK(v[5].type == RTML_V_NUMBER && !v[5].is_int && v[5].num == 18446744073709551615.0);
    CHECK(int_is(&v[6], INT32_MIN));
    CHECK(int_is(&v[7], INT64_MIN));
    CHECK(int_is(&v[8], 4000000000LL));
    CHECK(v[9].type == RTML_V_NUMBER && !v[9].is_int && v[9].num == 18446744073709551615.0);
    CHECK(int_is(&v[10], -7));
    CHECK(int_is(&v[11], -9000000000LL));
    CHECK(v[12].type == RTML_V_BOOL && v[12].num == 1);
    CHECK(str_is(&v[13], "acme caf\xC3\xA9", 10));
    CHECK(str_is(&v[14], "\x00\x01\xff", 3));
    CHECK(str_is(&v[15], "WIRE", 4));
    CHECK(v[16].type == RTML_V_OTHER);
    CHECK(int_is(&v[17], 37));
    CHECK(array_is(&v[18], (const double[]){1.5, -2, 3.25}, 3));
    CHECK(array_is(&v[19], (const double[]){1, -2, 300000000000.0}, 3));
    CHECK(array_is(&v[20], (const double[]){4, 5}, 2));
    CHECK(v[21].type == RTML_V_OTHER); /* repeated string */
    CHECK(v[22].type == RTML_V_OTHER); /* map */
    CHECK(v[23].type == RTML_V_NUMBER && v[23].num == 0); /* proto3 optional: present although 0 */
    CHECK(v[24].type == RTML_V_OTHER); /* repeated message */
    CHECK(str_is(&v[25], "f", 1));
    CHECK(array_is(&v[26], (const double[]){1, -1}, 2)); /* repeated enum: the numbers */
    CHECK(int_is(&v[27], -3));
    CHECK(str_is(&v[28], "ES", 2));
    CHECK(int_is(&v[29], 123456789012LL));
}

/* What a message of defaults reads as (user: present or not). */
static void check_defaults(const rtml_value *v, int user) {
    for (size_t i = 0; i <= 11; i++) CHECK(int_is(&v[i], 0) || (v[i].type == RTML_V_NUMBER && v[i].num == 0));
    CHECK(v[1].type == RTML_V_NUMBER && !v[1].is_int && v[2].type == RTML_V_NUMBER && !v[2].is_int);
    CHECK(v[12].type == RTML_V_BOOL && v[12].num == 0);
    CHECK(str_is(&v[13], "", 0) && str_is(&v[14], "", 0) && str_is(&v[15], "KIND_UNSPECIFIED", 16));
    CHECK(user ? v[16].type == RTML_V_OTHER && int_is(&v[17], 0) && array_is(&v[18], NULL, 0)
               : v[16].type == RTML_V_ABSENT && v[17].type == RTML_V_ABSENT && v[18].type == RTML_V_ABSENT);
    CHECK(array_is(&v[19], NULL, 0) && array_is(&v[20], NULL, 0) && array_is(&v[21], NULL, 0));
    CHECK(v[22].type == RTML_V_OTHER);  /* a map */
    CHECK(v[23].type == RTML_V_ABSENT); /* proto3 optional */
    CHECK(array_is(&v[24], NULL, 0) && v[25].type == RTML_V_ABSENT && array_is(&v[26], NULL, 0));
    CHECK(int_is(&v[27], 0) && v[28].type == RTML_V_ABSENT && int_is(&v[29], 0));
}

static void test_full(rtml_decoder *d) {
    blob b = encode("rtml.test.Txn", FULL);
    rtml_value v[NF];
    char err[RTML_ERRLEN];
    uint8_t *keep = NULL;
    int rc = dec(d, b.data, b.len, v, err, &keep);
    CHECK_EQ_INT(rc, 0);
    if (rc) fprintf(stderr, "  %s\n", err);
    else check_full(v);

    /* Every prefix either decodes (cut between fields) or fails with an offset; never anything else. */
    int bad = 0, cut = 0;
    for (size_t k = 0; k < b.len; k++) {
        rc = dec(d, b.data, k, v, err, &keep);
        if (rc == 0) cut++;
        else if (rc != -1 || strncmp(err, "offset ", 7) != 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(cut > 5 && cut < (int)b.len / 2);

    /* Two messages back to back are one merged message: scalars last-win, repeated fields append. */
    blob c = encode("rtml.test.Txn", "id: 9 history: [7] unpacked: 6 user { country: \"FR\" } kind: 99");
    uint8_t *both = malloc(b.len + c.len);
    memcpy(both, b.data, b.len);
    memcpy(both + b.len, c.data, c.len);
    CHECK_EQ_INT(dec(d, both, b.len + c.len, v, err, &keep), 0);
    CHECK(int_is(&v[0], 9) && int_is(&v[29], 9));
    CHECK(v[1].num == 12.75);
    CHECK(array_is(&v[19], (const double[]){1, -2, 300000000000.0, 7}, 4));
    CHECK(array_is(&v[20], (const double[]){4, 5, 6}, 3));
    CHECK(int_is(&v[17], 37) && str_is(&v[28], "ES", 2)); /* user merged: age kept, friend kept */
    CHECK(int_is(&v[15], 99)); /* an enum number with no name */
    free(both);
    free(c.data);

    /* Fields not on the wire: proto3 defaults are never written, and read as their defaults, as every protobuf
     * runtime reads them; fields with explicit presence (optional, messages) read as ABSENT; repeated fields
     * as empty arrays, maps as present. (Before issue 24 every field not on the wire was ABSENT.) */
    blob e = encode("rtml.test.Txn", "id: 0 merchant: \"\" user { }");
    CHECK_EQ_INT(dec(d, e.data, e.len, v, err, &keep), 0);
    check_defaults(v, 1);
    CHECK_EQ_INT(dec(d, e.data, 0, v, err, &keep), 0); /* the empty message: user is absent */
    check_defaults(v, 0);
    free(e.data);
    free(b.data);
    free(keep);
}

static void test_unknown_fields(rtml_decoder *d) {
    blob b = encode("rtml.test.TxnV2", "extra_s: \"zz\" id: 5 extra_f64: 1 extra_f32: 2 extra_v: 18446744073709551615 "
                                       "extra_m { age: 1 friend { age: 2 } } extra_r: [-1, 1] amount: 2.5");
    rtml_value v[NF];
    char err[RTML_ERRLEN];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(dec(d, b.data, b.len, v, err, &keep), 0);
    CHECK(int_is(&v[0], 5) && v[1].num == 2.5 && v[17].type == RTML_V_ABSENT);
    free(b.data);

    /* Unpacked elements of a field declared packed, and a packed run of one declared unpacked. */
    const uint8_t mixed[] = {0x90, 0x01, 0x07, 0x92, 0x01, 0x02, 0x08, 0x09, 0x9a, 0x01, 0x01, 0x03};
    CHECK_EQ_INT(dec(d, mixed, sizeof mixed, v, err, &keep), 0);
    CHECK(array_is(&v[19], (const double[]){7, 8, 9}, 3));
    CHECK(array_is(&v[20], (const double[]){3}, 1));
    free(keep);
}

/* ---- malformed messages ------------------------------------------------------------------------------ */

static void expect_bad(rtml_decoder *d, const uint8_t *data, size_t len, const char *why) {
    rtml_value v[NF];
    char err[RTML_ERRLEN];
    uint8_t *keep = NULL;
    int rc = dec(d, data, len, v, err, &keep);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(err, why) != NULL);
    if (rc != -1 || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got %d \"%s\"\n", why, rc, err);
    for (size_t i = 0; i < NF; i++) CHECK(v[i].type == RTML_V_ABSENT); /* nothing found on failure */
    free(keep);
}

static void test_malformed(rtml_decoder *d) {
    expect_bad(d, (const uint8_t[]){0x10, 0x01}, 2, "offset 0: field 'amount' (double): wire type 0, expected 1");
    expect_bad(d, (const uint8_t[]){0x08, 0x01, 0x0b, 0x0c}, 4, "offset 2: groups (wire types 3 and 4) are not supported");
    expect_bad(d, (const uint8_t[]){0x08, 0x01, 0x00, 0x01}, 4, "offset 2: bad field number");
    /* A first byte 0 is Confluent framing (no bare message starts with field number 0). */
    expect_bad(d, (const uint8_t[]){0x00, 0x01}, 2, "offset 2: truncated Confluent header");
    expect_bad(d, (const uint8_t[]){0x0e}, 1, "offset 0: bad wire type");
    expect_bad(d, (const uint8_t[]){0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 11,
               "offset 10: varint overflows 64 bits");
    expect_bad(d, (const uint8_t[]){0x08, 0x80}, 2, "offset 2: truncated varint");
    expect_bad(d, (const uint8_t[]){0x72, 0x05, 'a'}, 3, "offset 2: length runs past the end");
    expect_bad(d, (const uint8_t[]){0x11, 1, 2, 3, 4, 5, 6, 7}, 8, "offset 1: truncated fixed64");
    expect_bad(d, (const uint8_t[]){0x4d, 1, 2, 3}, 4, "offset 1: truncated fixed32");
    expect_bad(d, (const uint8_t[]){0x92, 0x01, 0x02, 0x08, 0x80}, 5, "offset 5: truncated varint"); /* packed */
    expect_bad(d, (const uint8_t[]){0x8a, 0x01, 0x03, 0x08, 0x80, 0x80}, 6, "offset 6: truncated varint"); /* nested */
    expect_bad(d, (const uint8_t[]){0x8a, 0x01, 0x05, 0x0d, 1, 2, 3, 4}, 8,
               "offset 3: field 'age' (int32): wire type 5, expected 0"); /* in a nested message */
}

/* ---- errors at open ---------------------------------------------------------------------------------- */

static void expect_open_error(const char *schema, const char *message, const char *field, const char *why) {
    char err[RTML_ERRLEN] = "";
    const char *fields[] = {field};
    rtml_decoder *d = open_pb(schema, message, fields, field ? 1 : 0, err);
    CHECK(d == NULL);
    CHECK(strstr(err, why) != NULL);
    if (d || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got \"%s\"\n", why, err);
    rtml_decoder_close(d);
}

static void test_open_errors(void) {
    expect_open_error(desc, "rtml.test.Nope", NULL, "input.message: 'rtml.test.Nope' is not in");
    expect_open_error(desc, NULL, NULL, "input.message: the protobuf format needs");
    expect_open_error(NULL, "rtml.test.Txn", NULL, "input.schema: the protobuf format needs a descriptor set");
    expect_open_error("/nonexistent.desc", "rtml.test.Txn", NULL, "cannot open");
    expect_open_error(desc, "rtml.test.Txn", "/nope", "field /nope: message rtml.test.Txn has no field 'nope'");
    expect_open_error(desc, "rtml.test.Txn", "/items/sku",
                      "'sku' is not an element index of the repeated field 'items'");
    expect_open_error(desc, "rtml.test.Txn", "/id/x", "'id' is a int64, not a message");
    expect_open_error(desc, "rtml.test.Txn", "/user/friend/nope", "message rtml.test.User has no field 'nope'");
    expect_open_error(desc, "rtml.test.Txn", "id", "starts with '/'");
    /* A descriptor set that is not one. */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.desc", tmpdir);
    FILE *f = fopen(bad, "wb");
    fwrite("\x0a\x05\x22\x03\x0a\x01", 1, 6, f); /* file { message_type { name: (truncated) } } */
    fclose(f);
    expect_open_error(bad, "x", NULL, "descriptor set");
    /* A message type that is not in the set (a set compiled without --include_imports). */
    f = fopen(bad, "wb");
    fwrite("\x0a\x13\x22\x11\x0a\x01M\x12\x0c\x0a\x01" "f\x18\x01\x28\x0b\x32\x03.Zz", 1, 21, f);
    fclose(f);
    expect_open_error(bad, "M", NULL, "M.f: type '.Zz' is not in the set");
    /* Field options whose features (21) are not a message. */
    f = fopen(bad, "wb");
    fwrite("\x0a\x15\x22\x13\x0a\x01M\x12\x0e\x0a\x01" "f\x18\x01\x20\x01\x28\x05\x42\x03\xa8\x01\x01", 1, 23, f);
    fclose(f);
    expect_open_error(bad, "M", NULL, "descriptor set: M: a message field has the wrong wire type");
    /* A map entry (option map_entry) with a key and no value. */
    static const unsigned char no_value[] = {
        0x0a, 0x2c, 0x22, 0x2a, 0x0a, 0x01, 0x4d, 0x12, 0x0f, 0x0a, 0x01, 0x6d, 0x18, 0x01, 0x20, 0x03,
        0x28, 0x0b, 0x32, 0x04, 0x2e, 0x4d, 0x2e, 0x45, 0x1a, 0x14, 0x0a, 0x01, 0x45, 0x12, 0x0b, 0x0a,
        0x03, 0x6b, 0x65, 0x79, 0x18, 0x01, 0x20, 0x01, 0x28, 0x09, 0x3a, 0x02, 0x38, 0x01};
    f = fopen(bad, "wb");
    fwrite(no_value, 1, sizeof no_value, f);
    fclose(f);
    expect_open_error(bad, "M", "/m/k", "field /m/k: map 'm' has no key or value field");
    /* The leading dot is optional; an empty path list is fine. */
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(desc, ".rtml.test.Txn.Item", NULL, 0, err);
    CHECK(d != NULL);
    rtml_decoder_close(d);
}

/* ---- the descriptor parser on its own ------------------------------------------------------------------ */

static void test_descriptors(void) {
    blob b = read_all(desc);
    char err[RTML_ERRLEN];
    rtml_pb_descriptors *ds = rtml_pb_descriptors_parse(b.data, b.len, err, sizeof err);
    CHECK(ds != NULL);
    if (!ds) return;
    const rtml_pb_message *txn = rtml_pb_find_message(ds, "rtml.test.Txn");
    CHECK(txn != NULL && rtml_pb_find_message(ds, "rtml.test.Txn.Item") && rtml_pb_find_message(ds, "rtml.test.User"));
    const rtml_pb_field *kind = txn ? rtml_pb_find_field(txn, "kind") : NULL;
    CHECK(kind && kind->type == RTML_PB_ENUM && kind->number == 16 && kind->enm);
    CHECK(kind && rtml_pb_enum_find(kind->enm, -1) && strcmp(rtml_pb_enum_find(kind->enm, -1)->name, "REFUND") == 0);
    const rtml_pb_field *big = txn ? rtml_pb_find_field(txn, "big_field") : NULL;
    CHECK(big && big->number == 536870911 && big->type == RTML_PB_SINT32);
    const rtml_pb_field *counts = txn ? rtml_pb_find_field(txn, "counts") : NULL;
    CHECK(counts && counts->label == RTML_PB_LABEL_REPEATED && counts->msg &&
          strcmp(counts->msg->name, "rtml.test.Txn.CountsEntry") == 0);
    rtml_pb_descriptors_free(ds);
    /* Every prefix of the set either parses or fails cleanly (ASan watches). */
    int parsed = 0;
    for (size_t k = 0; k < b.len; k++) {
        rtml_pb_descriptors *p = rtml_pb_descriptors_parse(b.data, k, err, sizeof err);
        parsed += p != NULL;
        rtml_pb_descriptors_free(p);
    }
    CHECK(parsed >= 1); /* at least the empty prefix */
    free(b.data);
}

int main(void) {
    if (setup() != 0) {
        fprintf(stderr, "test_protobuf: protoc could not compile %s/txn.proto (is protobuf-compiler installed?)\n", schemas);
        return 1;
    }
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(desc, "rtml.test.Txn", FIELDS, NF, err);
    CHECK(d != NULL);
    if (!d) fprintf(stderr, "  open: %s\n", err);
    if (d) {
        test_full(d);
        test_unknown_fields(d);
        test_malformed(d);
    }
    rtml_decoder_close(d);
    test_open_errors();
    test_descriptors();
    cleanup();
    return check_exit("test_protobuf");
}
