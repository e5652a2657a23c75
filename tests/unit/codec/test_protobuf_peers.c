/* test_protobuf_peers.c — the Protobuf decoder (src/codec/protobuf.c, pbplan.c, pbdesc.c, base/pbwire.c) on records that
 * Python's protobuf runtime writes (tests/lib/peers.py, from protobuf's JSON mapping): presence as
 * protobuf defines it (proto3 implicit and explicit, proto2, oneof, editions), well-known types, paths into
 * repeated fields and maps, packed and unpacked elements, merged messages, and Confluent framing with message
 * indexes. Schemas: tests/integration/data/peers.proto, peers2.proto. */
#include "peers.h"

static rtml_decoder *open_pb(const char *desc, const char *message, const char *const *fields, size_t n,
                             char *err) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = RTML_FMT_PROTOBUF;
    cfg.input.schema = (char *)desc;
    cfg.input.message = (char *)message;
    return rtml_decoder_open(&cfg, fields, n, err, RTML_ERRLEN);
}

static int array_is(const rtml_value *v, const double *want, size_t n) {
    if (v->type != RTML_V_ARRAY || v->arr_len != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (v->arr[i] != want[i]) return 0;
    return 1;
}

static size_t count_byte(const blob *b, uint8_t x) {
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++) n += b->data[i] == x;
    return n;
}

/* ---- proto3: implicit and explicit presence, well-known types, paths ------------------------------------ */

static const char *const PAY[] = {
    "/id",           "/amount",        "/kind",           "/installments",    "/discount",    "/merchant",
    "/merchant/country", "/merchant/geo/lat", "/created",  "/wait",            "/tip",         "/coupon",
    "/card_bin",     "/iban",          "/scores",         "/flags",           "/scores/1",    "/flags/2",
    "/items/0/price", "/items/1/kind", "/items/5/price",  "/items",           "/attrs/channel", "/attrs/missing",
    "/limits/7",     "/limits/-3",     "/attrs",          "/first_time",      "/note",
    "/branches/lisbon/country", "/branches/lisbon/mcc", "/kinds", "/kinds/1", "/created/seconds",
    "/items/2/price", "/id",
};
enum {
    P_ID, P_AMOUNT, P_KIND, P_INST, P_DISCOUNT, P_MERCHANT, P_COUNTRY, P_LAT, P_CREATED, P_WAIT, P_TIP, P_COUPON,
    P_CARD, P_IBAN, P_SCORES, P_FLAGS, P_SCORE1, P_FLAG2, P_ITEM0, P_ITEM1_KIND, P_ITEM5, P_ITEMS, P_CHANNEL,
    P_MISSING, P_LIMIT7, P_LIMITM3, P_ATTRS, P_FIRST, P_NOTE, P_BR_COUNTRY, P_BR_MCC, P_KINDS, P_KINDS1,
    P_SECONDS, P_ITEM2, P_ID2, NP
};

/* Nothing set, or only defaults: the runtime writes nothing, and rtml reads what every runtime reads. */
static void check_defaults(const rtml_value *v, size_t len) {
    CHECK_EQ_INT(len, 0);
    CHECK(peers_int_is(&v[P_ID], 0) && peers_int_is(&v[P_ID2], 0));
    CHECK(peers_num_is(&v[P_AMOUNT], 0) && !v[P_AMOUNT].is_int);
    CHECK(peers_str_is(&v[P_KIND], "KIND_UNSPECIFIED")); /* an enum's default is its value 0, by name */
    CHECK(peers_int_is(&v[P_INST], 0));
    CHECK(v[P_FIRST].type == RTML_V_BOOL && v[P_FIRST].num == 0);
    CHECK(peers_str_is(&v[P_NOTE], ""));
    for (int i = P_DISCOUNT; i <= P_IBAN; i++) CHECK(v[i].type == RTML_V_ABSENT); /* explicit presence */
    CHECK(array_is(&v[P_SCORES], NULL, 0) && array_is(&v[P_FLAGS], NULL, 0) && array_is(&v[P_ITEMS], NULL, 0));
    CHECK(array_is(&v[P_KINDS], NULL, 0));
    CHECK(v[P_ATTRS].type == RTML_V_OTHER); /* a map is never absent */
    int absent[] = {P_SCORE1, P_FLAG2, P_ITEM0, P_ITEM1_KIND, P_ITEM5, P_CHANNEL, P_MISSING, P_LIMIT7, P_LIMITM3,
                    P_BR_COUNTRY, P_BR_MCC, P_KINDS1, P_SECONDS, P_ITEM2};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) CHECK(v[absent[i]].type == RTML_V_ABSENT);
}

/* Explicit presence set to defaults: on the wire, so present. */
static void check_explicit(const rtml_value *v) {
    CHECK(peers_num_is(&v[P_DISCOUNT], 0));
    CHECK(v[P_MERCHANT].type == RTML_V_OTHER && peers_str_is(&v[P_COUNTRY], ""));
    CHECK(v[P_LAT].type == RTML_V_ABSENT); /* geo: a message, not set */
    CHECK(peers_num_is(&v[P_TIP], 0) && peers_str_is(&v[P_COUPON], ""));
    CHECK(peers_str_is(&v[P_IBAN], "") && v[P_CARD].type == RTML_V_ABSENT); /* the oneof member set */
    CHECK(peers_int_is(&v[P_CREATED], 0) && peers_int_is(&v[P_WAIT], 0) && peers_int_is(&v[P_SECONDS], 0));
}

static void check_values(const rtml_value *v) {
    CHECK(peers_int_is(&v[P_ID], 9007199254740993LL));
    CHECK(peers_num_is(&v[P_AMOUNT], 12.75) && peers_str_is(&v[P_KIND], "WIRE") && peers_int_is(&v[P_INST], 3));
    CHECK(peers_num_is(&v[P_DISCOUNT], 2.5) && peers_str_is(&v[P_COUNTRY], "PT") && peers_num_is(&v[P_LAT], 38.7));
    CHECK(peers_num_is(&v[P_CREATED], 1709649015.25) && !v[P_CREATED].is_int);
    CHECK(peers_int_is(&v[P_SECONDS], 1709649015));
    CHECK(peers_num_is(&v[P_WAIT], -1.5) && peers_num_is(&v[P_TIP], 1.25) && peers_str_is(&v[P_COUPON], "SPRING"));
    CHECK(peers_str_is(&v[P_CARD], "411111") && v[P_IBAN].type == RTML_V_ABSENT);
    CHECK(array_is(&v[P_SCORES], (const double[]){1.5, 2.5, -3}, 3));
    CHECK(array_is(&v[P_FLAGS], (const double[]){1, 0, 3}, 3));
    CHECK(peers_num_is(&v[P_SCORE1], 2.5) && peers_int_is(&v[P_FLAG2], 3));
    CHECK(peers_num_is(&v[P_ITEM0], 9.99));
    CHECK(peers_str_is(&v[P_ITEM1_KIND], "KIND_UNSPECIFIED")); /* a default inside a present element */
    CHECK(v[P_ITEM5].type == RTML_V_ABSENT && v[P_ITEM2].type == RTML_V_ABSENT && v[P_ITEMS].type == RTML_V_OTHER);
    CHECK(peers_str_is(&v[P_CHANNEL], "web") && v[P_MISSING].type == RTML_V_ABSENT);
    CHECK(peers_num_is(&v[P_LIMIT7], 100.5) && peers_num_is(&v[P_LIMITM3], 0.25));
    CHECK(v[P_FIRST].type == RTML_V_BOOL && v[P_FIRST].num == 1 && peers_str_is(&v[P_NOTE], "hi"));
    CHECK(peers_str_is(&v[P_BR_COUNTRY], "PT") && peers_int_is(&v[P_BR_MCC], 0)); /* a map value's default */
    CHECK(array_is(&v[P_KINDS], (const double[]){1, 0, 3}, 3) && peers_str_is(&v[P_KINDS1], "KIND_UNSPECIFIED"));
    CHECK(peers_int_is(&v[P_ID2], 9007199254740993LL));
}

/* A second message appended: singular fields last-win, messages merge, repeated fields append, a map
 * entry with a key seen before replaces the earlier entry (its message value too). */
static void check_merged(const rtml_value *v) {
    CHECK(peers_str_is(&v[P_CHANNEL], "app"));
    CHECK(peers_str_is(&v[P_BR_COUNTRY], "") && peers_int_is(&v[P_BR_MCC], 1));
    CHECK(peers_str_is(&v[P_COUNTRY], "PT") && peers_num_is(&v[P_LAT], 38.7)); /* merchant merged */
    CHECK(peers_num_is(&v[P_ITEM0], 9.99) && peers_num_is(&v[P_ITEM2], 1));
    CHECK(array_is(&v[P_SCORES], (const double[]){1.5, 2.5, -3, 4}, 4) && peers_num_is(&v[P_TIP], 2));
    CHECK(peers_num_is(&v[P_CREATED], 1709649015.25)); /* seconds kept, nanos kept: a Timestamp merges too */
}

static const char PAYMENTS[] =
    "{\"id\": 0, \"amount\": 0, \"kind\": \"KIND_UNSPECIFIED\", \"installments\": 0, \"firstTime\": false, "
    "\"note\": \"\", \"scores\": [], \"attrs\": {}}\n"
    "{\"id\": 7, \"discount\": 0, \"merchant\": {}, \"tip\": 0, \"coupon\": \"\", \"iban\": \"\", "
    "\"created\": \"1970-01-01T00:00:00Z\", \"wait\": \"0s\"}\n"
    "{\"id\": \"9007199254740993\", \"amount\": 12.75, \"kind\": \"WIRE\", \"installments\": 3, \"discount\": 2.5, "
    "\"merchant\": {\"country\": \"PT\", \"mcc\": 5411, \"geo\": {\"lat\": 38.7, \"lon\": -9.1}}, "
    "\"created\": \"2024-03-05T14:30:15.250Z\", \"wait\": \"-1.500s\", \"tip\": 1.25, \"coupon\": \"SPRING\", "
    "\"cardBin\": \"411111\", \"scores\": [1.5, 2.5, -3], \"flags\": [1, 0, 3], "
    "\"items\": [{\"sku\": \"a\", \"price\": 9.99, \"kind\": \"CARD\"}, "
    "{\"sku\": \"b\", \"kind\": \"KIND_UNSPECIFIED\"}], "
    "\"attrs\": {\"channel\": \"web\", \"x\": \"y\"}, \"limits\": {\"7\": 100.5, \"-3\": 0.25}, \"firstTime\": true, "
    "\"note\": \"hi\", \"branches\": {\"lisbon\": {\"country\": \"PT\"}}, "
    "\"kinds\": [\"CARD\", \"KIND_UNSPECIFIED\", \"WIRE\"]}\n"
    "{\"attrs\": {\"channel\": \"app\"}, \"branches\": {\"lisbon\": {\"mcc\": 1}}, \"merchant\": {\"mcc\": 7}, "
    "\"items\": [{\"price\": 1}], \"scores\": [4], \"tip\": 2, \"created\": \"1970-01-01T00:00:00.250Z\"}\n"
    "{\"created\": \"2024-03-05T14:30:15.123456789Z\", \"wait\": \"3600s\"}\n"
    "{\"created\": \"1969-12-31T23:59:59.500Z\", \"wait\": \"-0.000000001s\"}\n";

static void test_proto3(void) {
    blob b[6];
    size_t n = peers_pb_write(peers_path("peers.desc"), "rtml.peers.Payment", -1, PAYMENTS, b, 6);
    CHECK_EQ_INT(n, 6);
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(peers_path("peers.desc"), "rtml.peers.Payment", PAY, NP, err);
    CHECK(d != NULL);
    if (!d || n != 6) {
        fprintf(stderr, "  open: %s\n", err);
        peers_free(b, n);
        return;
    }
    rtml_value v[NP];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(peers_decode(d, b[0].data, b[0].len, v, err, &keep), 0);
    check_defaults(v, b[0].len);
    CHECK_EQ_INT(peers_decode(d, b[1].data, b[1].len, v, err, &keep), 0);
    check_explicit(v);
    CHECK(peers_str_is(&v[P_KIND], "KIND_UNSPECIFIED") && peers_int_is(&v[P_INST], 0)); /* still implicit */
    CHECK_EQ_INT(peers_decode(d, b[2].data, b[2].len, v, err, &keep), 0);
    check_values(v);
    CHECK_EQ_INT(count_byte(&b[2], 13 << 3 | 2), 1); /* scores: one packed run */
    CHECK_EQ_INT(count_byte(&b[2], 14 << 3 | 0), 3); /* flags: [packed = false], three keys */
    uint8_t *both = malloc(b[2].len + b[3].len);
    memcpy(both, b[2].data, b[2].len);
    memcpy(both + b[2].len, b[3].data, b[3].len);
    CHECK_EQ_INT(peers_decode(d, both, b[2].len + b[3].len, v, err, &keep), 0);
    check_merged(v);
    free(both);
    CHECK_EQ_INT(peers_decode(d, b[4].data, b[4].len, v, err, &keep), 0);
    CHECK(peers_num_is(&v[P_CREATED], strtod("1709649015.123456789", NULL)) && peers_int_is(&v[P_WAIT], 3600));
    CHECK_EQ_INT(peers_decode(d, b[5].data, b[5].len, v, err, &keep), 0);
    CHECK(peers_num_is(&v[P_CREATED], -0.5) && peers_num_is(&v[P_WAIT], -1e-9));
    CHECK(peers_int_is(&v[P_SECONDS], -1)); /* the Timestamp's own fields: seconds -1, nanos 500000000 */
    free(keep);
    rtml_decoder_close(d);
    peers_free(b, n);
}

/* ---- proto2 and editions ------------------------------------------------------------------------------ */

static void test_proto2(void) {
    const char *f[] = {"/id", "/value", "/count", "/level", "/samples", "/packed_samples", "/unit"};
    blob b[2];
    size_t n = peers_pb_write(peers_path("peers2.desc"), "rtml.peers2.Reading", -1,
                              "{\"id\": 1}\n{\"id\": 0, \"value\": 0, \"count\": 0, \"level\": \"HIGH\", "
                              "\"samples\": [1, 2], \"packedSamples\": [3, 4], \"unit\": \"\"}\n", b, 2);
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(peers_path("peers2.desc"), "rtml.peers2.Reading", f, 7, err);
    CHECK(d != NULL && n == 2);
    if (!d || n != 2) {
        peers_free(b, n);
        rtml_decoder_close(d);
        return;
    }
    rtml_value v[7];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(peers_decode(d, b[0].data, b[0].len, v, err, &keep), 0);
    CHECK(peers_int_is(&v[0], 1));
    for (int i = 1; i <= 3; i++) CHECK(v[i].type == RTML_V_ABSENT); /* count's [default = 7] is not a value */
    CHECK(array_is(&v[4], NULL, 0) && array_is(&v[5], NULL, 0) && v[6].type == RTML_V_ABSENT);
    CHECK_EQ_INT(peers_decode(d, b[1].data, b[1].len, v, err, &keep), 0);
    CHECK(peers_int_is(&v[0], 0) && peers_num_is(&v[1], 0) && peers_int_is(&v[2], 0));
    CHECK(peers_str_is(&v[3], "HIGH") && peers_str_is(&v[6], ""));
    CHECK(array_is(&v[4], (const double[]){1, 2}, 2) && array_is(&v[5], (const double[]){3, 4}, 2));
    CHECK_EQ_INT(count_byte(&b[1], 5 << 3 | 0), 2); /* proto2 repeated: unpacked */
    CHECK_EQ_INT(count_byte(&b[1], 6 << 3 | 2), 1); /* [packed = true] */
    free(keep);
    rtml_decoder_close(d);
    peers_free(b, n);
}

static void test_editions(void) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/.venv/bin/python' '%s/tests/lib/peers.py' editions '%s'", peers_root,
             peers_root, peers_path("ed.desc"));
    CHECK_EQ_INT(peers_sh(cmd), 0);
    const char *f[] = {"/a", "/b", "/inner/c"}, *g[] = {"/x"};
    blob b[2], e[1];
    size_t n = peers_pb_write(peers_path("ed.desc"), "rtml.ed.E", -1, "{\"inner\": {}}\n{\"a\": 0, \"b\": 0}\n", b, 2);
    size_t m = peers_pb_write(peers_path("ed.desc"), "rtml.ed2.F", -1, "{}\n", e, 1);
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(peers_path("ed.desc"), "rtml.ed.E", f, 3, err);
    rtml_decoder *d2 = open_pb(peers_path("ed.desc"), "rtml.ed2.F", g, 1, err);
    CHECK(d && d2 && n == 2 && m == 1);
    rtml_value v[3];
    uint8_t *keep = NULL;
    if (d && d2 && n == 2 && m == 1) {
        CHECK_EQ_INT(peers_decode(d, b[0].data, b[0].len, v, err, &keep), 0);
        CHECK(peers_int_is(&v[0], 0));            /* the file's features: IMPLICIT */
        CHECK(v[1].type == RTML_V_ABSENT);         /* the field's own: EXPLICIT */
        CHECK(v[2].type == RTML_V_ABSENT);         /* the message's: EXPLICIT */
        CHECK_EQ_INT(peers_decode(d, b[1].data, b[1].len, v, err, &keep), 0);
        CHECK(peers_int_is(&v[0], 0) && peers_int_is(&v[1], 0));
        CHECK_EQ_INT(peers_decode(d2, e[0].data, e[0].len, v, err, &keep), 0);
        CHECK(v[0].type == RTML_V_ABSENT);         /* edition 2023's default: EXPLICIT */
    }
    free(keep);
    rtml_decoder_close(d);
    rtml_decoder_close(d2);
    peers_free(b, n);
    peers_free(e, m);
}

/* ---- Confluent framing -------------------------------------------------------------------------------- */

typedef void (*framed_check)(const rtml_value *v);

/* A record the runtime writes as write_as, Confluent-framed (id 258) as confluent-kafka frames it (its header
 * checked against `header`), decoded with `message` configured; check(v) before anything is freed. */
static void decode_framed(const char *message, const char *const *fields, size_t nf, const char *json,
                          const char *write_as, const uint8_t *header, size_t hlen, int want_rc, const char *want_err,
                          framed_check check) {
    blob b[1];
    size_t n = peers_pb_write(peers_path("peers.desc"), write_as, 258, json, b, 1);
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(peers_path("peers.desc"), message, fields, nf, err);
    CHECK(d != NULL && n == 1);
    if (d && n == 1) {
        CHECK(b[0].len > hlen && memcmp(b[0].data, header, hlen) == 0);
        uint8_t *keep = NULL;
        rtml_value v[3];
        int rc = peers_decode(d, b[0].data, b[0].len, v, err, &keep);
        CHECK_EQ_INT(rc, want_rc);
        if (want_err) CHECK(strstr(err, want_err) != NULL);
        if (rc != want_rc || (want_err && !strstr(err, want_err))) fprintf(stderr, "  %s: %d %s\n", write_as, rc, err);
        check(v);
        free(keep);
    }
    rtml_decoder_close(d);
    peers_free(b, n);
}

static void check_payment(const rtml_value *v) {
    CHECK(peers_int_is(&v[0], 5) && peers_num_is(&v[1], 1.5) && peers_str_is(&v[2], "KIND_UNSPECIFIED"));
}
static void check_item(const rtml_value *v) { CHECK(peers_str_is(&v[0], "s") && peers_num_is(&v[1], 2)); }
static void check_geo(const rtml_value *v) { CHECK(peers_num_is(&v[0], 1) && peers_num_is(&v[1], -2)); }
static void check_refund(const rtml_value *v) { CHECK(peers_int_is(&v[0], 3) && peers_num_is(&v[1], 4.5)); }
static void check_nothing(const rtml_value *v) {
    for (int i = 0; i < 3; i++) CHECK(v[i].type == RTML_V_ABSENT);
}

static void test_framing(void) {
    const char *pay[] = {"/id", "/amount", "/kind"}, *item[] = {"/sku", "/price"}, *geo[] = {"/lat", "/lon"};
    /* [0]: the single byte 0 after the id (258). */
    decode_framed("rtml.peers.Payment", pay, 3, "{\"id\": 5, \"amount\": 1.5}\n", "rtml.peers.Payment",
                  (const uint8_t[]){0, 0, 0, 1, 2, 0}, 6, 0, NULL, check_payment);
    /* [0, 3]: Payment.Item, nested in the first message after the three map entries protoc declares before
     * it (AttrsEntry, LimitsEntry, BranchesEntry): count 2 (zigzag 4), then 0, 3 (zigzag 6). */
    decode_framed("rtml.peers.Payment.Item", item, 2, "{\"sku\": \"s\", \"price\": 2}\n",
                  "rtml.peers.Payment.Item", (const uint8_t[]){0, 0, 0, 1, 2, 4, 0, 6}, 8, 0, NULL, check_item);
    /* [1, 0]: Merchant.Geo. */
    decode_framed("rtml.peers.Merchant.Geo", geo, 2, "{\"lat\": 1, \"lon\": -2}\n", "rtml.peers.Merchant.Geo",
                  (const uint8_t[]){0, 0, 0, 1, 2, 4, 2, 0}, 8, 0, NULL, check_geo);
    /* [2]: another message than the configured one, and the paths fit it: read as a Refund. */
    decode_framed("rtml.peers.Payment", pay, 2, "{\"id\": 3, \"amount\": 4.5}\n", "rtml.peers.Refund",
                  (const uint8_t[]){0, 0, 0, 1, 2, 2, 4}, 7, 0, NULL, check_refund);
    /* ... and when they do not fit it: rejected, with why. */
    decode_framed("rtml.peers.Payment", pay, 3, "{\"id\": 3}\n", "rtml.peers.Refund", (const uint8_t[]){0, 0, 0, 1, 2},
                  5, -1, "offset 5: Confluent header: message indexes [2] name rtml.peers.Refund, which the fields do "
                  "not fit: field /kind: message rtml.peers.Refund has no field 'kind'", check_nothing);
}

static void expect_bad(rtml_decoder *d, const uint8_t *data, size_t len, const char *why) {
    rtml_value v[3];
    char err[RTML_ERRLEN];
    uint8_t *keep = NULL;
    int rc = peers_decode(d, data, len, v, err, &keep);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(err, why) != NULL);
    if (rc != -1 || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got %d \"%s\"\n", why, rc, err);
    for (int i = 0; i < 3; i++) CHECK(v[i].type == RTML_V_ABSENT);
    free(keep);
}

static void test_bad_framing(void) {
    const char *pay[] = {"/id", "/created", "/items/0/sku"};
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(peers_path("peers.desc"), "rtml.peers.Payment", pay, 3, err);
    CHECK(d != NULL);
    if (!d) return;
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1}, 5, "offset 5: truncated Confluent header");
    expect_bad(d, (const uint8_t[]){0, 1}, 2, "offset 2: truncated Confluent header");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x01}, 6,
               "offset 5: Confluent header: -1 message indexes (0 to 64)");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x90, 0x03}, 7, "offset 5: Confluent header: 200 message indexes");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x02, 0x12}, 7,
               "offset 5: Confluent header: message indexes [9] name no message in peers.proto");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x04, 0x00, 0x12}, 8,
               "offset 5: Confluent header: message indexes [0, 9] name no message");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x04, 0x00}, 7,
               "offset 7: Confluent header: message indexes: truncated varint");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x02, 0x01}, 7, "offset 6: Confluent header: message index -1");
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x00, 0x08, 0x80}, 8, "offset 8: truncated varint");
    /* The message after a good header is checked as any other. */
    expect_bad(d, (const uint8_t[]){0, 0, 0, 0, 1, 0x00, 0x11, 1, 2}, 9, "offset 7: truncated fixed64");
    /* Wire types inside well-known types, elements and map entries are checked as any field's. */
    expect_bad(d, (const uint8_t[]){0x3a, 0x02, 0x0a, 0x00}, 4, "offset 2: field 'seconds' (int64): wire type 2, expected 0");
    expect_bad(d, (const uint8_t[]){0x78, 0x01}, 2, "offset 0: field 'items' (message): wire type 0, expected 2");
    rtml_value v[3];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(peers_decode(d, (const uint8_t[]){0x08, 0x05}, 2, v, err, &keep), 0); /* unframed: as before */
    CHECK(peers_int_is(&v[0], 5));
    free(keep);
    rtml_decoder_close(d);
}

/* Wrappers, map keys and map values with the wrong wire type. */
static void test_bad_values(void) {
    const char *f[] = {"/tip", "/attrs/channel", "/limits/7"};
    char err[RTML_ERRLEN];
    rtml_decoder *d = open_pb(peers_path("peers.desc"), "rtml.peers.Payment", f, 3, err);
    CHECK(d != NULL);
    if (!d) return;
    expect_bad(d, (const uint8_t[]){0x4a, 0x02, 0x09, 0x01}, 4, "offset 3: truncated fixed64");
    expect_bad(d, (const uint8_t[]){0x4a, 0x02, 0x08, 0x01}, 4, "offset 2: field 'value' (double): wire type 0, expected 1");
    expect_bad(d, (const uint8_t[]){0x82, 0x01, 0x02, 0x08, 0x01}, 5,
               "offset 3: field 'key' (string): wire type 0, expected 2");
    expect_bad(d, (const uint8_t[]){0x82, 0x01, 0x0b, 0x0a, 0x07, 'c', 'h', 'a', 'n', 'n', 'e', 'l', 0x10, 0x01}, 14,
               "offset 12: field 'value' (string): wire type 0, expected 2");
    expect_bad(d, (const uint8_t[]){0x8a, 0x01, 0x04, 0x08, 0x07, 0x11, 0x01}, 7, "offset 6: truncated fixed64");
    rtml_value v[3];
    uint8_t *keep = NULL; /* a map entry without its value: the value type's default */
    CHECK_EQ_INT(peers_decode(d, (const uint8_t[]){0x8a, 0x01, 0x02, 0x08, 0x07}, 5, v, err, &keep), 0);
    CHECK(peers_num_is(&v[2], 0) && v[0].type == RTML_V_ABSENT && v[1].type == RTML_V_ABSENT);
    free(keep);
    rtml_decoder_close(d);
}

/* ---- paths that cannot fit, at open ------------------------------------------------------------------- */

static void expect_open_error(const char *field, const char *why) {
    char err[RTML_ERRLEN] = "";
    const char *fields[] = {field};
    rtml_decoder *d = open_pb(peers_path("peers.desc"), "rtml.peers.Payment", fields, 1, err);
    CHECK(d == NULL);
    CHECK(strstr(err, why) != NULL);
    if (d || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got \"%s\"\n", why, err);
    rtml_decoder_close(d);
}

static void test_path_errors(void) {
    expect_open_error("/items/x/price", "input: field /items/x/price: 'x' is not an element index of the repeated "
                                        "field 'items'");
    expect_open_error("/items/01/price", "'01' is not an element index");
    expect_open_error("/items/0/nope", "field /items/0/nope: message rtml.peers.Payment.Item has no field 'nope'");
    expect_open_error("/scores/0/x", "field /scores/0/x: an element of 'scores' is a double, not a message");
    expect_open_error("/attrs/channel/x", "field /attrs/channel/x: a value of 'attrs' is a string, not a message");
    expect_open_error("/limits/abc", "field /limits/abc: 'abc' is not a key of map 'limits' (its keys are int32s)");
    expect_open_error("/limits/2147483648", "'2147483648' is not a key of map 'limits'");
    expect_open_error("/limits/007", "'007' is not a key of map 'limits'");
    expect_open_error("/amount/x", "field /amount/x: 'amount' is a double, not a message");
}

int main(void) {
    if (peers_setup() != 0) {
        fprintf(stderr, "test_protobuf_peers: set-up failed (protoc, .venv's protobuf runtime)\n");
        return 1;
    }
    test_proto3();
    test_proto2();
    test_editions();
    test_framing();
    test_bad_framing();
    test_bad_values();
    test_path_errors();
    peers_cleanup();
    return check_exit("test_protobuf_peers");
}
