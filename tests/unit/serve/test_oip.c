/* test_oip.c — the inference request parser (serve/oip.c): JSON records and features, nested and flat data,
 * Triton's binary extension (BYTES and FP32/FP64), the id and the outputs asked for, and each refusal with its
 * status: malformed JSON, no or several inputs, wrong names, datatypes, shapes and counts, too many records
 * (413), binary sizes that do not add up. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "serve/oip.h"

static const rtml_oip_limits LIM = {5, 3};

static int parse(const char *body, rtml_oip_request *r) {
    char err[512];
    int st = rtml_oip_parse(body, strlen(body), -1, &LIM, r, err, sizeof err);
    if (st) fprintf(stderr, "  (%d: %s)\n", st, err);
    return st;
}

static void test_records(void) {
    rtml_oip_request r;
    CHECK_EQ_INT(parse("{\"id\":\"a1\",\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[2],"
                       "\"data\":[\"{\\\"x1\\\":1}\",\"{}\"]}],\"outputs\":[{\"name\":\"score\"},{\"name\":\"key\"}]}", &r), 0);
    CHECK_EQ_INT(r.kind, RTML_OIP_RECORDS);
    CHECK_EQ_INT(r.n, 2);
    CHECK_STR(r.id, "a1");
    CHECK(r.records[0].len == 8 && !memcmp(r.records[0].data, "{\"x1\":1}", 8));
    CHECK(r.records[1].len == 2);
    CHECK_EQ_INT(r.outputs, RTML_OIP_SCORE | RTML_OIP_KEY);
    rtml_oip_request_free(&r);
    CHECK_EQ_INT(parse("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[2,1],\"data\":[[\"a\"],[\"b\"]]}]}", &r), 0);
    CHECK(!r.has_id && r.n == 2 && r.outputs == 0);
    rtml_oip_request_free(&r);
}

static void test_features(void) {
    rtml_oip_request r;
    CHECK_EQ_INT(parse("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[2,3],\"data\":[[1,2,3],[4.5,5,6]]}]}", &r), 0);
    CHECK(r.kind == RTML_OIP_FEATURES && r.n == 2 && r.width == 3 && r.x[3] == 4.5 && r.x[5] == 6);
    rtml_oip_request_free(&r);
    CHECK_EQ_INT(parse("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[0.1,2,3]}]}", &r), 0);
    CHECK(r.x[0] == (double)(float)0.1); /* FP32 means float precision, as the client sent it */
    rtml_oip_request_free(&r);
}

static void test_binary(void) {
    const char *head = "{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[2],\"parameters\":{\"binary_data_size\":11}}]}";
    char body[256];
    size_t h = strlen(head);
    memcpy(body, head, h);
    memcpy(body + h, "\x03\0\0\0abc\0\0\0\0", 11);
    rtml_oip_request r;
    char err[256];
    CHECK_EQ_INT(rtml_oip_parse(body, h + 11, (long)h, &LIM, &r, err, sizeof err), 0);
    CHECK(r.n == 2 && r.records[0].len == 3 && !memcmp(r.records[0].data, "abc", 3) && r.records[1].len == 0);
    rtml_oip_request_free(&r);
    CHECK_EQ_INT(rtml_oip_parse(body, h + 10, (long)h, &LIM, &r, err, sizeof err), 400); /* short */
    rtml_oip_request_free(&r);
    const char *fhead = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,3],\"parameters\":{\"binary_data_size\":12}}]}";
    size_t fh = strlen(fhead);
    float v[3] = {1.5f, -2, 3};
    memcpy(body, fhead, fh);
    memcpy(body + fh, v, sizeof v); /* little-endian host */
    CHECK_EQ_INT(rtml_oip_parse(body, fh + 12, (long)fh, &LIM, &r, err, sizeof err), 0);
    CHECK(r.x[0] == 1.5 && r.x[1] == -2 && r.x[2] == 3);
    rtml_oip_request_free(&r);
    CHECK_EQ_INT(rtml_oip_parse(body, fh + 12, (long)fh + 100, &LIM, &r, err, sizeof err), 400);
    rtml_oip_request_free(&r);
}

static void refused(const char *body, int status, const char *needle) {
    rtml_oip_request r;
    char err[512] = "";
    int got = rtml_oip_parse(body, strlen(body), -1, &LIM, &r, err, sizeof err);
    CHECK_EQ_INT(got, status);
    if (!strstr(err, needle)) fprintf(stderr, "  '%s' lacks '%s'\n", err, needle);
    CHECK(strstr(err, needle) != NULL);
    rtml_oip_request_free(&r);
}

static void test_refusals(void) {
    refused("{\"inputs\":", 400, "malformed JSON");
    refused("[]", 400, "JSON object");
    refused("{}", 400, "exactly one input");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]},"
            "{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}]}", 400, "exactly one input");
    refused("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}]}", 400, "unknown input");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"INT8\",\"shape\":[1],\"data\":[1]}]}", 400, "BYTES");
    refused("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"BYTES\",\"shape\":[1,3],\"data\":[1,2,3]}]}", 400, "FP32 or FP64");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[2,2],\"data\":[\"a\",\"b\",\"c\",\"d\"]}]}", 400, "[n] or [n, 1]");
    refused("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}", 400, "[n, 3]");
    refused("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[2,3],\"data\":[1,2,3]}]}", 400, "different number");
    refused("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[1,3],\"data\":[1,\"2\",3]}]}", 400, "numbers");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[1]}]}", 400, "strings");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[0],\"data\":[]}]}", 400, "no records");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[6],\"data\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}]}", 413, "limit is 5");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[-1],\"data\":[\"a\"]}]}", 400, "dimensions");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[5],\"data\":[\"a\"]}]}", 400, "different number");
    refused("{\"id\":5,\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}]}", 400, "id");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}],\"outputs\":[{\"name\":\"z\"}]}", 400, "unknown output");
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"],\"parameters\":{\"binary_data_size\":1}}]}", 400, "Inference-Header");
    refused("{\"a\":1,\"a\":2}", 400, "malformed JSON"); /* duplicate keys */
    refused("{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[[[[[[[[[[\"a\"]]]]]]]]]]}]}", 400, "8 levels");
}

/* A shape far larger than the body is refused before anything is allocated for it. */
static void test_huge_shape(void) {
    const rtml_oip_limits wide = {5, 1000000};
    const char *body = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP64\",\"shape\":[5,1000000],\"data\":[1]}]}";
    rtml_oip_request r;
    char err[256] = "";
    CHECK_EQ_INT(rtml_oip_parse(body, strlen(body), -1, &wide, &r, err, sizeof err), 400);
    CHECK(strstr(err, "more elements") != NULL);
    rtml_oip_request_free(&r);
}

int main(void) {
    test_huge_shape();
    test_records();
    test_features();
    test_binary();
    test_refusals();
    return check_exit("test_oip");
}
