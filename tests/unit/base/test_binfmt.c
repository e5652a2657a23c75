/* test_binfmt.c — the binary state format: round trips, and a clear error for a foreign, newer, truncated
 * or corrupt file; the atomic file write; and a whole pipeline (features + model) saved and loaded back
 * giving bit-identical predictions. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/binfmt.h"
#include "check.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "base/rtml.h"

static void make_image(rtml_buf *img) {
    rtml_section s[2] = {{"alpha", {RTML_BUF_INIT}}, {"beta", {RTML_BUF_INIT}}};
    rtml_w_u32(&s[0].payload, 7);
    rtml_w_f64(&s[0].payload, -2.5);
    rtml_w_str(&s[1].payload, "hello", 5);
    rtml_w_u64(&s[1].payload, UINT64_C(1) << 40);
    rtml_state_encode(s, 2, img);
    rtml_buf_free(&s[0].payload.buf);
    rtml_buf_free(&s[1].payload.buf);
}

/* The check value of CRC-32/ISO-HDLC (zlib's, and the state files' since format version 1), in one call and
 * carried over pieces as the file writer does. */
static void test_crc32(void) {
    CHECK(rtml_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(rtml_crc32(rtml_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
    CHECK(rtml_crc32(0, "", 0) == 0);
}

static void test_round_trip_and_errors(void) {
    rtml_buf img = RTML_BUF_INIT;
    char err[RTML_ERRLEN];
    make_image(&img);
    CHECK(rtml_state_check(img.data, img.len, err, sizeof err) == 0);
    rtml_reader r;
    CHECK(rtml_state_section(img.data, img.len, "beta", &r));
    size_t n;
    const char *str = rtml_r_str(&r, &n);
    CHECK(n == 5 && memcmp(str, "hello", 5) == 0);
    CHECK(rtml_r_u64(&r) == UINT64_C(1) << 40);
    CHECK(!r.failed);
    rtml_r_u32(&r); /* past the end */
    CHECK(r.failed);
    CHECK(rtml_state_section(img.data, img.len, "alpha", &r) && rtml_r_u32(&r) == 7 && rtml_r_f64(&r) == -2.5);
    CHECK(!rtml_state_section(img.data, img.len, "gamma", &r));
    /* corrupt: one flipped bit anywhere is caught by the checksum */
    for (size_t i = 12; i < img.len - 4; i += 3) {
        img.data[i] ^= 0x10;
        CHECK(rtml_state_check(img.data, img.len, err, sizeof err) == -1);
        CHECK(strstr(err, "corrupt or truncated") != NULL);
        img.data[i] ^= 0x10;
    }
    CHECK(rtml_state_check(img.data, img.len - 1, err, sizeof err) == -1); /* truncated */
    img.data[8] = 9; /* version 9 */
    CHECK(rtml_state_check(img.data, img.len, err, sizeof err) == -1);
    CHECK(strstr(err, "format version 9, this rtml reads version 1") != NULL);
    CHECK(rtml_state_check("PK\3\4 a zip file, not ours", 24, err, sizeof err) == -1);
    CHECK(strstr(err, "not an rtml state file") != NULL);
    CHECK(rtml_state_check("", 0, err, sizeof err) == -1);
    rtml_buf_free(&img);
}

static void test_files(void) {
    char dir[] = "/tmp/rtml-binfmt-XXXXXX", path[64], err[RTML_ERRLEN];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/state.bin", dir);
    rtml_buf img = RTML_BUF_INIT, back = RTML_BUF_INIT;
    make_image(&img);
    CHECK(rtml_state_write_file(path, &img, err, sizeof err) == 0);
    CHECK(rtml_state_read_file(path, &back, err, sizeof err) == 0);
    CHECK(back.len == img.len && memcmp(back.data, img.data, img.len) == 0);
    rtml_buf_free(&back);
    CHECK(rtml_state_read_file("/nonexistent/x", &back, err, sizeof err) == -1);
    CHECK(strstr(err, "cannot open /nonexistent/x") != NULL);
    CHECK(rtml_state_write_file("/nonexistent/dir/x", &img, err, sizeof err) == -1);
    CHECK(strstr(err, "cannot create") != NULL);
    unlink(path);
    rmdir(dir);
    rtml_buf_free(&img);
}

static const char *const CONFIG =
    "features:\n"
    "  - {name: x1, transforms: [standardize]}\n"
    "  - {name: x2, transforms: [minmax]}\n"
    "  - {name: c, transforms: [{one_hot: 4}]}\n"
    "label: {field: /label}\n"
    "model: {type: TYPE, optimizer: {name: adam, learning_rate: 0.05}}\n";

static void record(int i, char *buf, size_t cap) {
    snprintf(buf, cap, "{\"x1\":%d.5,\"x2\":%d,\"c\":\"k%d\",\"label\":%d}", i % 7, i % 5, i % 3, (i % 7 + i % 3) > 4);
}

/* Train, save, load into a fresh pipeline: both then predict (and keep learning) identically. */
static void test_pipeline_state(const char *type) {
    char yaml[512], err[RTML_ERRLEN], rec[128];
    const char *at = strstr(CONFIG, "TYPE");
    snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - CONFIG), CONFIG, type, at + 4);
    rtml_config cfg;
    CHECK(rtml_config_parse("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err) == 0);
    rtml_pipeline a, b;
    CHECK(rtml_pipeline_init(&a, &cfg, err, sizeof err) == 0);
    CHECK(rtml_pipeline_init(&b, &cfg, err, sizeof err) == 0);
    rtml_buf out = RTML_BUF_INIT, img = RTML_BUF_INIT;
    for (int i = 0; i < 500; i++) {
        record(i, rec, sizeof rec);
        rtml_pipeline_process(&a, rec, strlen(rec), NULL, NULL, err, sizeof err);
    }
    rtml_pipeline_save(&a, NULL, 0, &img);
    CHECK(rtml_pipeline_load(&b, img.data, img.len, err, sizeof err) == 0);
    CHECK(b.engine->learned == 500);
    int same = 1;
    for (int i = 500; i < 600; i++) {
        record(i, rec, sizeof rec);
        rtml_pipeline_process(&a, rec, strlen(rec), NULL, NULL, err, sizeof err);
        rtml_pipeline_process(&b, rec, strlen(rec), NULL, NULL, err, sizeof err);
        same &= memcmp(a.scores, b.scores, sizeof(double)) == 0;
    }
    CHECK(same);
    img.data[img.len / 2] ^= 1;
    CHECK(rtml_pipeline_load(&b, img.data, img.len, err, sizeof err) == -1);
    rtml_buf_free(&img);
    rtml_buf_free(&out);
    rtml_pipeline_free(&a);
    rtml_pipeline_free(&b);
    rtml_config_free(&cfg);
}

/* A state file of one model type does not load into a pipeline of another. */
static void test_foreign_model(void) {
    char yaml[512], err[RTML_ERRLEN];
    const char *at = strstr(CONFIG, "TYPE");
    rtml_config c1, c2;
    snprintf(yaml, sizeof yaml, "%.*slogistic%s", (int)(at - CONFIG), CONFIG, at + 4);
    CHECK(rtml_config_parse("a.yaml", yaml, strlen(yaml), &c1, err, sizeof err) == 0);
    snprintf(yaml, sizeof yaml, "%.*sftrl%s", (int)(at - CONFIG), CONFIG, at + 4);
    CHECK(rtml_config_parse("b.yaml", yaml, strlen(yaml), &c2, err, sizeof err) == 0);
    rtml_pipeline a, b;
    CHECK(rtml_pipeline_init(&a, &c1, err, sizeof err) == 0 && rtml_pipeline_init(&b, &c2, err, sizeof err) == 0);
    rtml_buf img = RTML_BUF_INIT;
    rtml_pipeline_save(&a, NULL, 0, &img);
    CHECK(rtml_pipeline_load(&b, img.data, img.len, err, sizeof err) == -1);
    CHECK(strstr(err, "holds a native/logistic model") != NULL);
    rtml_buf_free(&img);
    rtml_pipeline_free(&a);
    rtml_pipeline_free(&b);
    rtml_config_free(&c1);
    rtml_config_free(&c2);
}

int main(void) {
    test_crc32();
    test_round_trip_and_errors();
    test_files();
    test_pipeline_state("logistic");
    test_pipeline_state("ftrl");
    test_pipeline_state("mlp");
    test_foreign_model();
    return check_exit("test_binfmt");
}
