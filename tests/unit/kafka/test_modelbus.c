/* test_modelbus.c — the model topic's record values (modelbus.h, modelbus.c), no broker:
 *   - keys: the canonical 20-digit form only, the policy key, everything else refused;
 *   - versions: metadata and image round-trip exactly (image_bytes is what was encoded; metrics verbatim;
 *     escapes in strings; an empty image); listing decodes skip the image;
 *   - encode refuses what decode would refuse (and an image too large for the topic), and writes nothing;
 *   - decode refuses, with a reason and an empty image: a foreign value, a truncated header, a metadata length
 *     past the end or over the limit, metadata that is not JSON, each missing field, fields of the wrong type
 *     or range, a corrupt or truncated zlib stream, image_bytes lying in both directions, bytes after the
 *     stream, an image_bytes over the limit;
 *   - policy records: round trip, hand-written minimal ones, every malformed field.
 * With RTML_MODELBUS_CORPUS=DIR it also writes the fuzzer's seed corpus (small valid values) into DIR. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "kafka/modelbus.h"
#include "base/rtml.h"

/* ---- helpers ----------------------------------------------------------------------------------------- */

static void fill(unsigned char *p, size_t n, uint64_t seed) {
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        p[i] = (i / 4096) % 2 ? 0 : (unsigned char)x; /* random pages and zero pages: compressible, not trivially */
    }
}

static rtml_model_meta sample_meta(void) {
    rtml_model_meta m = {.version = 17, .parent = 16, .learned = 123456, .records = 130000, .created = 1796300000.125};
    snprintf(m.engine, sizeof m.engine, "native/logistic");
    snprintf(m.origin, sizeof m.origin, "host-a:4242");
    snprintf(m.metrics, sizeof m.metrics, "{\"accuracy\":0.9123456789012345,\"auc\":null,\"logloss\":0.25}");
    return m;
}

/* A value built by hand: magic, the given metadata text (its real length, or meta_len if >= 0), then the
 * image deflated by zlib itself (not by the code under test). */
static void hand_value(const char *meta, long meta_len, const void *image, size_t len, rtml_buf *out) {
    rtml_buf_reset(out);
    rtml_buf_append(out, "RTMLMV1\n", 8);
    uint32_t ml = meta_len >= 0 ? (uint32_t)meta_len : (uint32_t)strlen(meta);
    unsigned char le[4] = {(unsigned char)ml, (unsigned char)(ml >> 8), (unsigned char)(ml >> 16),
                           (unsigned char)(ml >> 24)};
    rtml_buf_append(out, le, 4);
    rtml_buf_puts(out, meta);
    uLongf zl = compressBound((uLong)len);
    rtml_buf_reserve(out, zl);
    CHECK(compress2((Bytef *)out->data + out->len, &zl, image, (uLong)len, 6) == Z_OK);
    out->len += zl;
}

/* Decode must fail, say something containing want, and leave the image empty. */
static void expect_refused(const void *v, size_t len, const char *want, int line) {
    rtml_model_meta m;
    rtml_buf image = RTML_BUF_INIT;
    rtml_buf_append(&image, "stale", 5);
    char err[RTML_ERRLEN] = "";
    int rc = rtml_modelbus_decode_version(v, len, &m, &image, err, sizeof err);
    check_count++;
    if (rc != -1 || image.len != 0 || !strstr(err, want)) {
        check_failures++;
        fprintf(stderr, "%s:%d: decode expected to fail with '%s': rc %d, image %zu bytes, err '%s'\n", __FILE__,
                line, want, rc, image.len, err);
    }
    rtml_buf_free(&image);
}
#define REFUSED(v, len, want) expect_refused((v), (len), (want), __LINE__)

/* ---- keys -------------------------------------------------------------------------------------------- */

static void test_keys(void) {
    char key[32];
    rtml_modelbus_version_key(17, key, sizeof key);
    CHECK_STR(key, "version/00000000000000000017");
    CHECK_EQ_INT(rtml_modelbus_parse_key(key, strlen(key)), 17);
    rtml_modelbus_version_key(INT64_MAX, key, sizeof key);
    CHECK_STR(key, "version/09223372036854775807");
    CHECK(rtml_modelbus_parse_key(key, strlen(key)) == INT64_MAX);
    CHECK_EQ_INT(rtml_modelbus_parse_key("policy", 6), 0);
    const char *bad[] = {"", "polic", "policyx", "Policy", "version/17", "version/0000000000000000017",
                         "version/000000000000000000017", "version/00000000000000000000",
                         "version/0000000000000000001x",
                         "version/-0000000000000000001", "version/99999999999999999999", "version/09223372036854775808",
                         "Version/00000000000000000017", "version:00000000000000000017"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t v = rtml_modelbus_parse_key(bad[i], strlen(bad[i]));
        if (v != -1) fprintf(stderr, "key '%s' parsed as %" PRId64 "\n", bad[i], v);
        CHECK_EQ_INT(v, -1);
    }
    CHECK_EQ_INT(rtml_modelbus_parse_key(NULL, 0), -1);
    CHECK_EQ_INT(rtml_modelbus_parse_key("policy\0", 7), -1); /* lengths, not NUL-terminated strings */
}

/* ---- versions ---------------------------------------------------------------------------------------- */

static void test_round_trip(void) {
    size_t n = 300000;
    unsigned char *img = malloc(n);
    fill(img, n, 7);
    rtml_model_meta m = sample_meta(), got;
    m.image_bytes = 5; /* ignored: the value says what it carries */
    rtml_buf value = RTML_BUF_INIT, image = RTML_BUF_INIT;
    char err[RTML_ERRLEN];
    CHECK(rtml_modelbus_encode_version(&m, img, n, &value, err, sizeof err) == 0);
    CHECK(value.len < n); /* the zero pages shrank */
    CHECK(memcmp(value.data, "RTMLMV1\n", 8) == 0);
    CHECK(rtml_modelbus_decode_version(value.data, value.len, &got, &image, err, sizeof err) == 0);
    CHECK_EQ_INT(got.version, 17);
    CHECK_EQ_INT(got.parent, 16);
    CHECK_EQ_INT(got.learned, 123456);
    CHECK_EQ_INT(got.records, 130000);
    CHECK(got.created == 1796300000.125);
    CHECK_STR(got.engine, "native/logistic");
    CHECK_STR(got.origin, "host-a:4242");
    CHECK_STR(got.metrics, m.metrics); /* verbatim: 0.9123456789012345 keeps every digit */
    CHECK_EQ_INT(got.image_bytes, n);
    CHECK(image.len == n && memcmp(image.data, img, n) == 0);

    /* A listing decode: the metadata only, and the same. */
    rtml_model_meta meta_only;
    CHECK(rtml_modelbus_decode_version(value.data, value.len, &meta_only, NULL, err, sizeof err) == 0);
    CHECK(memcmp(&meta_only, &got, sizeof got) == 0);

    /* meta_json is the metadata the value carries. */
    rtml_buf js = RTML_BUF_INIT;
    rtml_modelbus_meta_json(&got, &js);
    uint32_t ml = (uint32_t)(unsigned char)value.data[8] | (uint32_t)(unsigned char)value.data[9] << 8;
    CHECK(js.len == ml && memcmp(js.data, value.data + 12, ml) == 0);
    CHECK(strstr(js.data, "\"image_bytes\":300000") != NULL);

    /* Strings that need escaping, the largest that fit, an empty image, version 1 with no parent. */
    rtml_model_meta e = sample_meta();
    e.version = 1, e.parent = 0;
    snprintf(e.origin, sizeof e.origin, "h\"o\\st\n\xc3\xa9:1");
    memset(e.engine, 'e', sizeof e.engine - 1), e.engine[sizeof e.engine - 1] = '\0';
    snprintf(e.metrics, sizeof e.metrics, "{}");
    CHECK(rtml_modelbus_encode_version(&e, NULL, 0, &value, err, sizeof err) == 0);
    rtml_buf_append(&image, "stale", 5);
    CHECK(rtml_modelbus_decode_version(value.data, value.len, &got, &image, err, sizeof err) == 0);
    CHECK_STR(got.origin, e.origin);
    CHECK_STR(got.engine, e.engine);
    CHECK_STR(got.metrics, "{}");
    CHECK(got.image_bytes == 0 && image.len == 0);
    CHECK_EQ_INT(got.parent, 0);

    /* Metadata with fields in another order, spaces and an unknown field (a newer writer's) still decodes. */
    const char *text = "{ \"metrics\" : {\"r2\": 1}, \"future\":[1,2], \"image_bytes\":3,\"origin\":\"o\","
                       "\"engine\":\"native/linear\",\"created\":0,\"records\":0,\"learned\":0,\"parent\":0,"
                       "\"version\":2 }";
    hand_value(text, -1, "abc", 3, &value);
    CHECK(rtml_modelbus_decode_version(value.data, value.len, &got, &image, err, sizeof err) == 0);
    CHECK(got.version == 2 && image.len == 3 && memcmp(image.data, "abc", 3) == 0);
    CHECK_STR(got.metrics, "{\"r2\": 1}");
    rtml_buf_free(&js);
    rtml_buf_free(&value);
    rtml_buf_free(&image);
    free(img);
}

static void expect_encode_refused(const rtml_model_meta *m, const void *img, size_t len, const char *want, int line) {
    rtml_buf value = RTML_BUF_INIT;
    rtml_buf_append(&value, "stale", 5);
    char err[RTML_ERRLEN] = "";
    int rc = rtml_modelbus_encode_version(m, img, len, &value, err, sizeof err);
    check_count++;
    if (rc != -1 || value.len != 0 || !strstr(err, want)) {
        check_failures++;
        fprintf(stderr, "%s:%d: encode expected to fail with '%s': rc %d, %zu bytes, err '%s'\n", __FILE__, line,
                want, rc, value.len, err);
    }
    rtml_buf_free(&value);
}
#define ENCODE_REFUSED(m, img, len, want) expect_encode_refused((m), (img), (len), (want), __LINE__)

static void test_encode_refusals(void) {
    rtml_model_meta m = sample_meta();
    m.version = 0, m.parent = 0;
    ENCODE_REFUSED(&m, "x", 1, "versions start at 1");
    m = sample_meta(), m.parent = 17;
    ENCODE_REFUSED(&m, "x", 1, "not an older version");
    m.parent = -1;
    ENCODE_REFUSED(&m, "x", 1, "not an older version");
    m = sample_meta(), snprintf(m.metrics, sizeof m.metrics, "[1]");
    ENCODE_REFUSED(&m, "x", 1, "metrics");
    snprintf(m.metrics, sizeof m.metrics, "{\"a\":");
    ENCODE_REFUSED(&m, "x", 1, "metrics");
    m = sample_meta(), m.engine[0] = '\0';
    ENCODE_REFUSED(&m, "x", 1, "engine");
    m = sample_meta(), m.created = 0.0 / 0.0;
    ENCODE_REFUSED(&m, "x", 1, "time");
    m = sample_meta(), m.learned = UINT64_MAX;
    ENCODE_REFUSED(&m, "x", 1, "out of range");
    m = sample_meta();
    /* Too large to inflate at all: refused before a byte of it is read. */
    ENCODE_REFUSED(&m, "x", (size_t)RTML_MODELBUS_MAX_IMAGE + 1, "at most");
    /* Within the image limit but more than a record can hold once deflated (random bytes do not shrink). */
    size_t n = RTML_MODELBUS_MAX_VALUE + 4096;
    unsigned char *big = malloc(n);
    uint64_t x = 99;
    for (size_t i = 0; i < n; i++) x ^= x << 13, x ^= x >> 7, x ^= x << 17, big[i] = (unsigned char)(x >> 24);
    ENCODE_REFUSED(&m, big, n, "limit");
    free(big);
}

static void test_decode_refusals(void) {
    const unsigned char img[] = "an rtml state image, or anything: the codec does not look inside";
    size_t n = sizeof img;
    rtml_model_meta m = sample_meta();
    rtml_buf good = RTML_BUF_INIT, v = RTML_BUF_INIT, meta = RTML_BUF_INIT;
    char err[RTML_ERRLEN];
    CHECK(rtml_modelbus_encode_version(&m, img, n, &good, err, sizeof err) == 0);

    /* Not ours, and truncated headers. */
    REFUSED(NULL, 0, "RTMLMV1");
    REFUSED("RTML", 4, "RTMLMV1");
    REFUSED("RTMLMV2\n\0\0\0\0{}", 14, "RTMLMV1");
    REFUSED("{\"version\":1}", 13, "RTMLMV1");
    REFUSED(good.data, 8, "no metadata length");
    REFUSED(good.data, 11, "no metadata length");
    REFUSED(good.data, 40, "truncated");
    /* A metadata length past the end, and one over the limit. */
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, good.len);
    v.data[8] = (char)0xff, v.data[9] = (char)0xff, v.data[10] = 0, v.data[11] = 0; /* 65535: past the end */
    REFUSED(v.data, v.len, "announced");
    v.data[10] = 1; /* 65536 + 65535 */
    REFUSED(v.data, v.len, "at most 65536");
    v.data[11] = (char)0xff;
    REFUSED(v.data, v.len, "at most 65536");

    /* Metadata that is not JSON, or not an object. */
    hand_value("{\"version\":1,", -1, img, n, &v);
    REFUSED(v.data, v.len, "not a JSON object");
    hand_value("[1,2]", -1, img, n, &v);
    REFUSED(v.data, v.len, "not a JSON object");
    hand_value("", -1, img, n, &v);
    REFUSED(v.data, v.len, "not a JSON object");

    /* Each field missing in turn. */
    static const char *const fields[] = {"version", "parent", "learned", "records", "created",
                                         "engine", "image_bytes", "origin", "metrics"};
    static const char *const values[] = {"17", "16", "5", "6", "1.5", "\"native/logistic\"", "IMG", "\"h:1\"", "{}"};
    for (int skip = 0; skip < 9; skip++) {
        rtml_buf_reset(&meta);
        rtml_buf_putc(&meta, '{');
        for (int i = 0, first = 1; i < 9; i++) {
            if (i == skip) continue;
            if (!first) rtml_buf_putc(&meta, ',');
            first = 0;
            if (strcmp(values[i], "IMG") == 0) rtml_buf_printf(&meta, "\"%s\":%zu", fields[i], n);
            else rtml_buf_printf(&meta, "\"%s\":%s", fields[i], values[i]);
        }
        rtml_buf_putc(&meta, '}');
        hand_value(meta.data, -1, img, n, &v);
        char want[64];
        snprintf(want, sizeof want, "lacks \"%s\"", fields[skip]);
        REFUSED(v.data, v.len, want);
    }

    /* Fields of the wrong type or out of range. */
    static const struct { const char *from, *to, *want; } wrong[] = {
        {"\"version\":17", "\"version\":\"17\"", "version"},
        {"\"version\":17", "\"version\":0", "version"},
        {"\"version\":17", "\"version\":1.5", "version"},
        {"\"version\":17", "\"version\":99999999999999999999", "version"},
        {"\"parent\":16", "\"parent\":17", "parent"},
        {"\"parent\":16", "\"parent\":-1", "parent"},
        {"\"learned\":123456", "\"learned\":-1", "learned"},
        {"\"records\":130000", "\"records\":null", "records"},
        {"\"created\":1796300000.125", "\"created\":\"now\"", "created"},
        {"\"created\":1796300000.125", "\"created\":-5", "created"},
        {"\"engine\":\"native/logistic\"", "\"engine\":7", "engine"},
        {"\"engine\":\"native/logistic\"", "\"engine\":\"\"", "engine"},
        {"\"engine\":\"native/logistic\"",
         "\"engine\":\"0123456789012345678901234567890123456789012345678901234567890123\"", "longer than 63"},
        {"\"origin\":\"host-a:4242\"", "\"origin\":[]", "origin"},
        {"\"metrics\":{", "\"metrics\":[{", "metrics"},
        {"\"image_bytes\":65", "\"image_bytes\":1073741825", "image_bytes"},
        {"\"image_bytes\":65", "\"image_bytes\":-66", "image_bytes"},
    };
    rtml_modelbus_meta_json(&m, &meta);
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        rtml_buf text = RTML_BUF_INIT;
        rtml_buf_reset(&meta);
        rtml_model_meta mm = m;
        mm.image_bytes = n;
        rtml_modelbus_meta_json(&mm, &meta);
        const char *at = strstr(meta.data, wrong[i].from);
        CHECK(at != NULL);
        if (!at) continue;
        rtml_buf_append(&text, meta.data, (size_t)(at - meta.data));
        rtml_buf_puts(&text, wrong[i].to);
        rtml_buf_puts(&text, at + strlen(wrong[i].from));
        if (strchr(wrong[i].to, '[') && strstr(wrong[i].from, "metrics")) { /* keep it valid JSON: close the [ */
            text.len--;
            rtml_buf_puts(&text, "]}");
        }
        hand_value(text.data, -1, img, n, &v);
        REFUSED(v.data, v.len, wrong[i].want);
        rtml_buf_free(&text);
    }
    /* Metrics that do not fit the struct's 1024 bytes. */
    rtml_buf_reset(&meta);
    rtml_buf_printf(&meta, "{\"version\":1,\"parent\":0,\"learned\":0,\"records\":0,\"created\":0,\"engine\":\"e\","
                           "\"image_bytes\":%zu,\"origin\":\"\",\"metrics\":{\"pad\":\"", n);
    for (int i = 0; i < 1100; i++) rtml_buf_putc(&meta, 'x');
    rtml_buf_puts(&meta, "\"}}");
    hand_value(meta.data, -1, img, n, &v);
    REFUSED(v.data, v.len, "metrics is longer");

    /* The stream: corrupt, truncated, followed by bytes, lying about its size either way. */
    size_t stream_at = good.len - 1;
    while (stream_at > 12 && good.data[stream_at] != '}') stream_at--;
    stream_at++; /* the metadata ends with the object's last brace; the stream follows */
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, good.len);
    v.data[stream_at] = 0; /* zlib's header byte */
    REFUSED(v.data, v.len, "model image");
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, good.len);
    v.data[v.len - 1] ^= 0x55; /* the Adler-32 */
    REFUSED(v.data, v.len, "model image");
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, good.len);
    for (size_t i = stream_at + 2; i < v.len - 4; i++) v.data[i] = (char)0xff; /* the blocks themselves */
    REFUSED(v.data, v.len, "model image");
    REFUSED(good.data, good.len - 5, "truncated");
    REFUSED(good.data, stream_at, "truncated"); /* no stream at all */
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, good.len), rtml_buf_append(&v, "xyz", 3);
    REFUSED(v.data, v.len, "3 bytes follow the stream");
    char text[512];
    rtml_model_meta lie = m;
    lie.image_bytes = n + 1;
    rtml_buf_reset(&meta), rtml_modelbus_meta_json(&lie, &meta);
    hand_value(meta.data, -1, img, n, &v);
    snprintf(text, sizeof text, "inflates to %zu bytes, image_bytes says %zu", n, n + 1);
    REFUSED(v.data, v.len, text);
    lie.image_bytes = n - 1;
    rtml_buf_reset(&meta), rtml_modelbus_meta_json(&lie, &meta);
    hand_value(meta.data, -1, img, n, &v);
    REFUSED(v.data, v.len, "more than image_bytes");
    lie.image_bytes = 0;
    rtml_buf_reset(&meta), rtml_modelbus_meta_json(&lie, &meta);
    hand_value(meta.data, -1, img, n, &v);
    REFUSED(v.data, v.len, "more than image_bytes");
    /* A claim of the largest image over a tiny stream: refused after inflating what is there. */
    lie.image_bytes = RTML_MODELBUS_MAX_IMAGE;
    rtml_buf_reset(&meta), rtml_modelbus_meta_json(&lie, &meta);
    hand_value(meta.data, -1, img, n, &v);
    REFUSED(v.data, v.len, "image_bytes says 1073741824");
    /* Oversize: one byte more than the limit is refused from the metadata alone (the listing path too). */
    lie.image_bytes = RTML_MODELBUS_MAX_IMAGE + 1;
    rtml_buf_reset(&meta), rtml_modelbus_meta_json(&lie, &meta);
    hand_value(meta.data, -1, img, n, &v);
    REFUSED(v.data, v.len, "image_bytes is not a count of at most 1073741824");
    rtml_model_meta got;
    CHECK(rtml_modelbus_decode_version(v.data, v.len, &got, NULL, err, sizeof err) == -1);
    /* The listing path does not look at the stream. */
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, stream_at);
    CHECK(rtml_modelbus_decode_version(v.data, v.len, &got, NULL, err, sizeof err) == 0 && got.version == 17);
    /* The real stream of the value, with a metadata length one short: the JSON breaks. */
    rtml_buf_reset(&v), rtml_buf_append(&v, good.data, good.len);
    v.data[8]--;
    REFUSED(v.data, v.len, "not a JSON object");
    rtml_buf_free(&good);
    rtml_buf_free(&v);
    rtml_buf_free(&meta);
}

/* ---- policy ------------------------------------------------------------------------------------------ */

static void test_policy(void) {
    rtml_model_policy p = {.pinned = 5, .rollback = true, .at = 1796300000.5}, got;
    snprintf(p.by, sizeof p.by, "ops\"host:77");
    rtml_buf v = RTML_BUF_INIT;
    char err[RTML_ERRLEN];
    rtml_modelbus_encode_policy(&p, &v);
    CHECK_STR(v.data, "{\"pinned\":5,\"rollback\":true,\"at\":1796300000.5,\"by\":\"ops\\\"host:77\"}");
    CHECK(rtml_modelbus_decode_policy(v.data, v.len, &got, err, sizeof err) == 0);
    CHECK(got.pinned == 5 && got.rollback && got.at == p.at);
    CHECK_STR(got.by, p.by);
    rtml_model_policy follow = {0};
    rtml_modelbus_encode_policy(&follow, &v);
    CHECK_STR(v.data, "{\"pinned\":null,\"rollback\":false,\"at\":0,\"by\":\"\"}");
    CHECK(rtml_modelbus_decode_policy(v.data, v.len, &got, err, sizeof err) == 0 && got.pinned == 0 && !got.rollback);
    follow.rollback = true; /* nothing to roll back to: written as false */
    rtml_modelbus_encode_policy(&follow, &v);
    CHECK(rtml_modelbus_decode_policy(v.data, v.len, &got, err, sizeof err) == 0 && !got.rollback);
    const char *minimal = "{\"rollback\":false,\"pinned\":3}";
    CHECK(rtml_modelbus_decode_policy(minimal, strlen(minimal), &got, err, sizeof err) == 0);
    CHECK(got.pinned == 3 && !got.rollback && got.at == 0 && got.by[0] == '\0');

    static const struct { const char *value, *want; } bad[] = {
        {"", "not a JSON object"},
        {"pinned", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{\"pinned\":3,\"rollback\":false", "not a JSON object"},
        {"{\"rollback\":false}", "lacks \"pinned\""},
        {"{\"pinned\":\"3\",\"rollback\":false}", "pinned"},
        {"{\"pinned\":0,\"rollback\":false}", "pinned"},
        {"{\"pinned\":-2,\"rollback\":false}", "pinned"},
        {"{\"pinned\":2.5,\"rollback\":false}", "pinned"},
        {"{\"pinned\":3}", "rollback"},
        {"{\"pinned\":3,\"rollback\":1}", "rollback"},
        {"{\"pinned\":null,\"rollback\":true}", "rollback without a version"},
        {"{\"pinned\":3,\"rollback\":false,\"at\":\"today\"}", "at is not a time"},
        {"{\"pinned\":3,\"rollback\":false,\"at\":true}", "at is not a time"},
        {"{\"pinned\":3,\"rollback\":false,\"by\":5}", "by"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char e[RTML_ERRLEN] = "";
        int rc = rtml_modelbus_decode_policy(bad[i].value, strlen(bad[i].value), &got, e, sizeof e);
        if (rc != -1 || !strstr(e, bad[i].want)) fprintf(stderr, "policy '%s': rc %d, '%s'\n", bad[i].value, rc, e);
        CHECK(rc == -1 && strstr(e, bad[i].want) != NULL);
    }
    rtml_buf_reset(&v);
    rtml_buf_puts(&v, "{\"pinned\":3,\"rollback\":false,\"by\":\"");
    for (int i = 0; i < 200; i++) rtml_buf_putc(&v, 'b');
    rtml_buf_puts(&v, "\"}");
    CHECK(rtml_modelbus_decode_policy(v.data, v.len, &got, err, sizeof err) == -1 && strstr(err, "longer than 127"));
    CHECK(rtml_modelbus_decode_policy(NULL, 0, &got, err, sizeof err) == -1);
    rtml_buf_free(&v);
}

/* ---- the fuzzer's seeds ------------------------------------------------------------------------------ */

static void write_seed(const char *dir, const char *name, const void *data, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void write_corpus(const char *dir) {
    rtml_buf v = RTML_BUF_INIT;
    char err[RTML_ERRLEN];
    unsigned char img[1500];
    fill(img, sizeof img, 3);
    memset(img + 700, 0, 500);
    rtml_model_meta m = sample_meta();
    CHECK(rtml_modelbus_encode_version(&m, img, sizeof img, &v, err, sizeof err) == 0);
    write_seed(dir, "version_17.bin", v.data, v.len);
    m.version = 1, m.parent = 0;
    snprintf(m.metrics, sizeof m.metrics, "{}");
    snprintf(m.engine, sizeof m.engine, "tensorflow");
    CHECK(rtml_modelbus_encode_version(&m, "RTMLSTAT", 8, &v, err, sizeof err) == 0);
    write_seed(dir, "version_1_small.bin", v.data, v.len);
    CHECK(rtml_modelbus_encode_version(&m, NULL, 0, &v, err, sizeof err) == 0);
    write_seed(dir, "version_empty_image.bin", v.data, v.len);
    rtml_model_policy p = {.pinned = 4, .rollback = true, .at = 1796300000.25};
    snprintf(p.by, sizeof p.by, "host:1");
    rtml_modelbus_encode_policy(&p, &v);
    write_seed(dir, "policy_rollback.json", v.data, v.len);
    rtml_model_policy none = {0};
    rtml_modelbus_encode_policy(&none, &v);
    write_seed(dir, "policy_follow.json", v.data, v.len);
    write_seed(dir, "key_version.txt", "version/00000000000000000017", 28);
    write_seed(dir, "key_policy.txt", "policy", 6);
    rtml_buf_free(&v);
}

int main(void) {
    test_keys();
    test_round_trip();
    test_encode_refusals();
    test_decode_refusals();
    test_policy();
    const char *corpus = getenv("RTML_MODELBUS_CORPUS");
    if (corpus && *corpus) write_corpus(corpus);
    return check_exit("test_modelbus");
}
