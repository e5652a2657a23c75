/* test_protobuf_encode.c — prediction records as Protobuf (src/codec/protobuf_encode.c, output.format:
 * protobuf), read back by Python's protobuf runtime (tests/lib/peers.py pb-read): the values it
 * reads, and that it serializes what it read to the very same bytes (rtml writes as a protobuf runtime
 * does: field-number order, proto3 defaults left out). Schemas: tests/integration/data/prediction.proto,
 * peers2.proto. Also the Avro encoder behind the same interface, with its schema id. */
#include "peers.h"

static rtml_encoder *open_enc(rtml_format fmt, const char *desc, const char *message, long schema_id, char *err) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.output.format = fmt;
    cfg.output.schema = (char *)desc;
    cfg.output.message = (char *)message;
    cfg.output.has_schema_id = schema_id >= 0;
    cfg.output.schema_id = schema_id >= 0 ? (unsigned)schema_id : 0;
    return rtml_encoder_open(&cfg, err, RTML_ERRLEN);
}

static void hex_line(rtml_buf *text, const rtml_buf *rec) {
    for (size_t i = 0; i < rec->len; i++) rtml_buf_printf(text, "%02x", (uint8_t)rec->data[i]);
    rtml_buf_putc(text, '\n');
}

/* Encode each prediction, have the runtime read them back, compare its lines with want[]. */
static void round_trip(const char *message, long schema_id, const rtml_prediction_fields *p, size_t n,
                       const char *const *want) {
    char err[RTML_ERRLEN], args[1600];
    rtml_encoder *e = open_enc(RTML_FMT_PROTOBUF, peers_path("prediction.desc"), message, schema_id, err);
    CHECK(e != NULL);
    if (!e) {
        fprintf(stderr, "  open %s: %s\n", message, err);
        return;
    }
    rtml_buf text = RTML_BUF_INIT, rec = RTML_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        rtml_buf_reset(&rec);
        int rc = rtml_encode_prediction(e, &p[i], &rec, err, sizeof err);
        CHECK_EQ_INT(rc, 0);
        if (rc) fprintf(stderr, "  encode %s #%zu: %s\n", message, i, err);
        hex_line(&text, &rec);
    }
    snprintf(args, sizeof args, "pb-read '%s' %s%s", peers_path("prediction.desc"), message,
             schema_id >= 0 ? " --confluent" : "");
    size_t lines;
    char *out = peers_run(args, text.data, &lines);
    CHECK(out != NULL);
    CHECK_EQ_INT(lines, n);
    const char *line = out;
    for (size_t i = 0; out && i < n && i < lines; i++) {
        CHECK_STR(line, want[i]);
        line += strlen(line) + 1;
    }
    free(out);
    rtml_buf_free(&text);
    rtml_buf_free(&rec);
    rtml_encoder_close(e);
}

static void test_prediction(void) {
    const rtml_prediction_fields p[] = {
        {NULL, 1, 1, 0.93, 17, "transactions", 3, 81234},
        {NULL, 0, 1, 0.25, 1, "t", 0, 0},                      /* defaults: left out, read back as such */
        {NULL, 1, 1, 0.5, 9007199254740993LL, "t\xC3\xA9", -1, INT64_MAX},
        {NULL, 1, 1, 0.75, 2, NULL, 0, 0},                      /* no source (replay): left out */
    };
    static const char *const want[] = {
        "{\"value\":{\"prediction\":1,\"score\":0.93,\"model_version\":17,\"source\":{\"topic\":\"transactions\","
        "\"partition\":3,\"offset\":81234}},\"same\":true}",
        "{\"value\":{\"prediction\":0,\"score\":0.25,\"model_version\":1,\"source\":{\"topic\":\"t\",\"partition\":0,"
        "\"offset\":0}},\"same\":true}",
        "{\"value\":{\"prediction\":1,\"score\":0.5,\"model_version\":9007199254740993,"
        "\"source\":{\"topic\":\"t\\u00e9\","
        "\"partition\":-1,\"offset\":9223372036854775807}},\"same\":true}",
        "{\"value\":{\"prediction\":1,\"score\":0.75,\"model_version\":2,\"source\":null},\"same\":true}",
    };
    round_trip("rtml.out.Prediction", -1, p, 4, want);
    /* Confluent framing: the id, and Prediction's indexes [0] as the single byte 0. */
    static const char *const framed[] = {
        "{\"schema_id\":258,\"indexes\":[0],\"value\":{\"prediction\":1,\"score\":0.93,\"model_version\":17,"
        "\"source\":{\"topic\":\"transactions\",\"partition\":3,\"offset\":81234}},\"same\":true}",
    };
    round_trip("rtml.out.Prediction", 258, p, 1, framed);
}

static void test_labeled_wrapped(void) {
    const rtml_prediction_fields p[] = {
        {"DOG", 1, 1, 0.625, 3, "in", 0, 5},
        {"CAT", 0, 1, 0.5, 0, "in", 1, 6}, /* CAT is the enum's 0: left out, read back as CAT */
    };
    static const char *const want[] = {
        "{\"schema_id\":7,\"indexes\":[1],\"value\":{\"prediction\":\"DOG\",\"score\":0.625,\"model_version\":3,"
        "\"note\":\"\"},\"same\":true}",
        "{\"schema_id\":7,\"indexes\":[1],\"value\":{\"prediction\":\"CAT\",\"score\":0.5,\"model_version\":0,"
        "\"note\":\"\"},\"same\":true}",
    };
    round_trip("rtml.out.Labeled", 7, p, 2, want); /* the second message of the file: [1] */
    /* Wrappers and proto3 optional hold their value with presence, even at a default. */
    const rtml_prediction_fields w[] = {{NULL, 0, 1, 0, 0, NULL, 0, 0}, {NULL, 12.5, 0, 12.5, -4, "x", 1, 2}};
    static const char *const want_w[] = {
        "{\"value\":{\"source\":null,\"score\":0.0,\"prediction\":\"0\",\"model_version\":0},\"same\":true}",
        "{\"value\":{\"source\":{\"topic\":\"x\",\"partition\":1,\"offset\":2},\"score\":12.5,"
        "\"prediction\":\"12.5\",\"model_version\":-4},\"same\":true}",
    };
    round_trip("rtml.out.Wrapped", -1, w, 2, want_w);
}

static void expect_encode_error(const char *message, const rtml_prediction_fields *p, const char *why) {
    char err[RTML_ERRLEN] = "";
    rtml_encoder *e = open_enc(RTML_FMT_PROTOBUF, peers_path("prediction.desc"), message, 1, err);
    CHECK(e != NULL);
    if (!e) return;
    rtml_buf rec = RTML_BUF_INIT;
    rtml_buf_puts(&rec, "kept");
    CHECK_EQ_INT(rtml_encode_prediction(e, p, &rec, err, sizeof err), -1);
    CHECK(strstr(err, why) != NULL);
    if (!strstr(err, why)) fprintf(stderr, "  want \"%s\", got \"%s\"\n", why, err);
    CHECK(rec.len == 4 && strcmp(rec.data, "kept") == 0); /* nothing appended on failure */
    rtml_buf_free(&rec);
    rtml_encoder_close(e);
}

static void expect_open_error(const char *desc, const char *message, const char *why) {
    char err[RTML_ERRLEN] = "";
    rtml_encoder *e = open_enc(RTML_FMT_PROTOBUF, desc, message, -1, err);
    CHECK(e == NULL);
    CHECK(strstr(err, why) != NULL);
    if (e || !strstr(err, why)) fprintf(stderr, "  want \"%s\", got \"%s\"\n", why, err);
    rtml_encoder_close(e);
}

static void test_errors(void) {
    const rtml_prediction_fields regression = {NULL, 12.5, 0, 12.5, 1, NULL, 0, 0};
    expect_encode_error("rtml.out.Prediction", &regression, "field 'prediction' (int64) cannot hold 12.5");
    const rtml_prediction_fields emu = {"EMU", 3, 1, 0.5, 1, NULL, 0, 0};
    expect_encode_error("rtml.out.Labeled", &emu, "field 'prediction' (enum) cannot hold 'EMU'");
    const rtml_prediction_fields old = {"DOG", 1, 1, 0.5, -1, NULL, 0, 0};
    expect_encode_error("rtml.out.Labeled", &old, "field 'model_version' (uint32) cannot hold -1");
    const char *desc = peers_path("prediction.desc");
    expect_open_error(desc, "rtml.out.BadScore",
                      "output.message: rtml.out.BadScore: field 'score' (int32) cannot hold");
    expect_open_error(desc, "rtml.out.BadRepeated", "field 'score' (repeated double) cannot hold");
    expect_open_error(desc, "rtml.out.BadTopic", "rtml.out.BadTopic.Source: field 'topic' (int64) cannot hold");
    expect_open_error(desc, "rtml.out.Nope", "output.message: 'rtml.out.Nope' is not in");
    expect_open_error(peers_path("peers2.desc"), "rtml.peers2.Strict",
                      "field 'other' is required, and not one rtml writes");
    expect_open_error("/nonexistent.desc", "rtml.out.Prediction", "output.schema: cannot open '/nonexistent.desc'");
    expect_open_error(peers_path("stdin.txt"), "rtml.out.Prediction", "output.schema: ");
    char err[RTML_ERRLEN];
    CHECK(open_enc(RTML_FMT_JSON, NULL, NULL, -1, err) == NULL && strstr(err, "'json' has no binary encoder"));
}

/* The Avro encoder behind the same interface: output.schema_id frames it. */
static void test_avro_schema_id(void) {
    char err[RTML_ERRLEN];
    rtml_encoder *e = open_enc(RTML_FMT_AVRO, NULL, NULL, 258, err);
    CHECK(e != NULL);
    if (!e) return;
    rtml_buf rec = RTML_BUF_INIT;
    const rtml_prediction_fields p = {NULL, 1, 1, 0.5, 1, NULL, 0, 0};
    CHECK_EQ_INT(rtml_encode_prediction(e, &p, &rec, err, sizeof err), 0);
    CHECK(rec.len > 5 && memcmp(rec.data, "\x00\x00\x00\x01\x02", 5) == 0);
    rtml_buf_free(&rec);
    rtml_encoder_close(e);
}

int main(void) {
    if (peers_setup() != 0) {
        fprintf(stderr, "test_protobuf_encode: set-up failed (protoc, .venv's protobuf runtime)\n");
        return 1;
    }
    test_prediction();
    test_labeled_wrapped();
    test_errors();
    test_avro_schema_id();
    peers_cleanup();
    return check_exit("test_protobuf_encode");
}
