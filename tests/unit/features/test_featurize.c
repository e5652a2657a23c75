/* test_featurize.c — unit tests for the feature pipeline (featurize.c, transforms.c, hash.c).
 *
 * Every transform against hand-computed values; the row layout (dense slots, then sparse blocks at their
 * offsets); MurmurHash3 against published vectors and scikit-learn's murmurhash3_32; signed hashing,
 * one_hot's cap and unknown bucket, cross and bag_of_words; timestamps (seconds, milliseconds, ISO-8601
 * with offsets, a leap day); imputation; every reject reason with its detail; that a rejected record
 * changes nothing; and the save/load round trip with its mismatch errors. Configs are written in YAML and
 * parsed by config.c, as a user would write them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "features/featurize.h"
#include "base/hash.h"
#include "base/record.h"
#include "base/rtml.h"
#include "features/transforms.h"

/* ---- helpers -------------------------------------------------------------------------------------- */

typedef struct {
    rtml_config cfg;
    rtml_featurizer *fz;
} fixture;

static int setup_at(int line, fixture *fx, const char *features_yaml) {
    char yaml[4096], err[RTML_ERRLEN] = "";
    snprintf(yaml, sizeof yaml, "features:\n%s", features_yaml);
    fx->fz = NULL;
    if (rtml_config_parse("t.yaml", yaml, strlen(yaml), &fx->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "  (test line %d) config does not parse: %s\n", line, err);
        CHECK(0);
        return -1;
    }
    fx->fz = rtml_featurizer_new(&fx->cfg, err, sizeof err);
    CHECK(fx->fz != NULL);
    return fx->fz ? 0 : -1;
}
#define SETUP(fx, yaml) setup_at(__LINE__, fx, yaml)

static void teardown(fixture *fx) {
    rtml_featurizer_free(fx->fz);
    rtml_config_free(&fx->cfg);
}

static rtml_value num(double x) { return (rtml_value){.type = RTML_V_NUMBER, .num = x}; }
static rtml_value integer(int64_t x) {
    return (rtml_value){.type = RTML_V_NUMBER, .num = (double)x, .is_int = 1, .i64 = x};
}
static rtml_value str(const char *s) { return (rtml_value){.type = RTML_V_STRING, .str = s, .len = strlen(s)}; }
static rtml_value boolean(int b) { return (rtml_value){.type = RTML_V_BOOL, .num = b}; }
static rtml_value absent(void) { return (rtml_value){.type = RTML_V_ABSENT}; }
static rtml_value null(void) { return (rtml_value){.type = RTML_V_NULL}; }
static rtml_value arr(const double *a, size_t n) { return (rtml_value){.type = RTML_V_ARRAY, .arr = a, .arr_len = n}; }

/* Apply one value (single-field featurizers); the row's first dense value, or NAN on a reject. */
static double dense1(fixture *fx, rtml_value v) {
    rtml_row row;
    if (rtml_featurizer_apply(fx->fz, &v, &row, NULL, 0) != RTML_REJECT_NONE)
        return NAN;
    return row.dense[0];
}

/* Apply one value that makes one sparse entry; its index (or -1 on a reject) and value. */
static long sparse1(fixture *fx, rtml_value v, double *val) {
    rtml_row row;
    if (rtml_featurizer_apply(fx->fz, &v, &row, NULL, 0) != RTML_REJECT_NONE || row.nnz != 1)
        return -1;
    if (val)
        *val = row.val[0];
    return (long)row.idx[0];
}

/* The bucket and sign of "text" hashed into n buckets at offset, computed independently of featurize.c. */
static long hashed(const char *text, size_t offset, size_t n, double *sign) {
    uint32_t h = rtml_murmur3_32(text, strlen(text), 0);
    *sign = (h & 0x80000000u) ? -1 : 1;
    return (long)(offset + (h & 0x7fffffffu) % n);
}

static void expect_reject_at(int line, fixture *fx, const rtml_value *v, rtml_reject want, const char *detail) {
    rtml_row row;
    char why[256] = "";
    rtml_reject got = rtml_featurizer_apply(fx->fz, v, &row, why, sizeof why);
    CHECK_EQ_INT(got, want);
    CHECK_STR(why, detail);
    if (got != want || strcmp(why, detail) != 0)
        fprintf(stderr, "  (test line %d)\n", line);
}
#define EXPECT_REJECT(fx, v, want, detail) expect_reject_at(__LINE__, fx, v, want, detail)

/* ---- hashing -------------------------------------------------------------------------------------- */

static void test_murmur3(void) {
    static const struct { const char *s; uint32_t seed, h; } vectors[] = {
        {"", 0, 0},                  {"", 1, 0x514E28B7u},           {"hello", 0, 0x248bfa47u},
        {"hello", 42, 0xe2dbd2e1u},  {"a", 0, 0x3c2569b2u},          {"ab", 0, 0x9bbfd75fu},
        {"abc", 0, 0xb3dd93fau},     {"abcd", 0, 0x43ed676au},       {"abcde", 0, 0xe89b9af6u},
        {"aaaa", 0x9747b28cu, 0x5A97808Au},
        {"The quick brown fox jumps over the lazy dog", 0, 0x2e4ff723u},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        CHECK_EQ_INT(rtml_murmur3_32(vectors[i].s, strlen(vectors[i].s), vectors[i].seed), vectors[i].h);
}

static void test_vocab(void) {
    rtml_vocab v = {0};
    char key[16];
    for (int i = 0; i < 1000; i++) { /* many growths of the table and the arrays */
        size_t len = (size_t)snprintf(key, sizeof key, "k%d", i);
        uint32_t h = rtml_murmur3_32(key, len, 0);
        CHECK(rtml_vocab_find(&v, key, len, h) == -1);
        CHECK(rtml_vocab_reserve(&v, len) == 0);
        CHECK_EQ_INT(rtml_vocab_add(&v, key, len, h), i);
    }
    int found = 0;
    for (int i = 0; i < 1000; i++) {
        size_t len = (size_t)snprintf(key, sizeof key, "k%d", i);
        found += rtml_vocab_find(&v, key, len, rtml_murmur3_32(key, len, 0)) == i;
    }
    CHECK_EQ_INT(found, 1000);
    size_t len;
    const char *s = rtml_vocab_get(&v, 999, &len);
    CHECK(len == 4 && memcmp(s, "k999", 4) == 0);
    CHECK(rtml_vocab_find(&v, "", 0, rtml_murmur3_32("", 0, 0)) == -1);
    rtml_vocab_free(&v);
    rtml_vocab_free(&v);
}

/* ---- layout --------------------------------------------------------------------------------------- */

static void test_fields_and_layout(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: x, transforms: [standardize]}\n"
                   "  - {name: cat, transforms: [{one_hot: 4}]}\n"
                   "  - {name: emb, transforms: [{array: 3}]}\n"
                   "  - {name: merchant, transforms: [{hash: 8}]}\n"
                   "  - {name: pair, field: /cat, transforms: [{cross: {with: /country, buckets: 16}}]}\n"
                   "  - {name: bow, field: /text, transforms: [{bag_of_words: 32}]}\n"
                   "  - {name: y, field: /x}\n"
                   "  - {name: pair2, field: /x, transforms: [{cross: {with: /cat, buckets: 2}}]}\n") != 0)
        return;
    size_t n;
    const char *const *fields = rtml_featurizer_fields(fx.fz, &n);
    static const char *const want[] = {"/x", "/cat", "/emb", "/merchant", "/text", "/country"};
    CHECK_EQ_INT(n, 6); /* /x and /cat once each; the cross's /country after the features' own */
    for (size_t i = 0; i < n && i < 6; i++)
        CHECK_STR(fields[i], want[i]);
    rtml_shape shape = rtml_featurizer_shape(fx.fz);
    CHECK_EQ_INT(shape.n_dense, 5);  /* x, emb[3], y */
    CHECK_EQ_INT(shape.n_inputs, 5 + 5 + 8 + 16 + 32 + 2);
    CHECK_EQ_INT(shape.n_classes, 0);

    double emb[3] = {0.5, -1, 2};
    rtml_value v[6] = {num(3), str("red"), arr(emb, 3), str("acme"), str("hello hello world"), str("fr")};
    rtml_row row;
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, NULL, 0), RTML_REJECT_NONE);
    CHECK(row.dense[0] == 0 && row.dense[1] == 0.5 && row.dense[2] == -1 && row.dense[3] == 2 && row.dense[4] == 3);
    CHECK_EQ_INT(row.nnz, 1 + 1 + 1 + 2 + 1); /* one_hot, hash, cross, two distinct words, cross */
    static const uint32_t lo[] = {5, 10, 18, 34, 34, 66}, hi[] = {10, 18, 34, 66, 66, 68};
    for (size_t i = 0; i < row.nnz && i < 6; i++) {
        CHECK(row.idx[i] >= lo[i] && row.idx[i] < hi[i]);
        CHECK(row.val[i] == 1 || row.val[i] == -1 || fabs(row.val[i]) == 2);
    }
    CHECK_EQ_INT(row.idx[0], 5); /* "red": the first value of the vocabulary */
    double sign;
    CHECK_EQ_INT(row.idx[1], hashed("merchant=acme", 10, 8, &sign));
    CHECK(row.val[1] == sign);
    CHECK_EQ_INT(row.idx[2], hashed("pair=red\x1f" "fr", 18, 16, &sign));
    CHECK(row.val[2] == sign);
    CHECK_EQ_INT(row.idx[5], hashed("pair2=3\x1fred", 66, 2, &sign));
    teardown(&fx);
}

/* ---- numeric transforms --------------------------------------------------------------------------- */

static void test_numeric(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: x, transforms: [standardize]}\n") == 0) {
        CHECK(dense1(&fx, num(10)) == 0); /* one value: no spread */
        CHECK_NEAR(dense1(&fx, num(20)), 1.0, 1e-12); /* mean 15, population std 5 */
        CHECK_NEAR(dense1(&fx, boolean(1)), (1 - 31.0 / 3) / sqrt((100 + 400 + 1) / 3.0 - (31.0 / 3) * (31.0 / 3)),
                   1e-12); /* a boolean is 0/1 */
        teardown(&fx);
    }
    if (SETUP(&fx, "  - {name: x, transforms: [minmax]}\n") == 0) {
        CHECK(dense1(&fx, num(5)) == 0); /* max == min */
        CHECK(dense1(&fx, num(5)) == 0);
        CHECK_NEAR(dense1(&fx, num(15)), 1.0, 0);
        CHECK_NEAR(dense1(&fx, num(10)), 0.5, 0);
        CHECK_NEAR(dense1(&fx, num(-5)), 0.0, 0);
        CHECK_NEAR(dense1(&fx, num(10)), 0.75, 0);
        teardown(&fx);
    }
    if (SETUP(&fx, "  - {name: x, transforms: [log1p, {clip: [0, 2]}]}\n") == 0) {
        CHECK_NEAR(dense1(&fx, num(exp(1) - 1)), 1.0, 1e-12);
        CHECK(dense1(&fx, num(-3)) == 0); /* log1p of max(x, 0) */
        CHECK(dense1(&fx, num(1e6)) == 2); /* clipped */
        teardown(&fx);
    }
    if (SETUP(&fx, "  - {name: x, transforms: [{bucketize: [0, 10, 100]}]}\n") == 0) {
        static const double in[] = {-1, 0, 5, 10, 99.9, 100, 1e9}, out[] = {0, 1, 1, 2, 2, 3, 3};
        for (size_t i = 0; i < 7; i++)
            CHECK(dense1(&fx, num(in[i])) == out[i]);
        teardown(&fx);
    }
    if (SETUP(&fx, "  - {name: x}\n") == 0) { /* no transforms: passed through */
        CHECK(dense1(&fx, num(-2.5)) == -2.5);
        CHECK(dense1(&fx, boolean(1)) == 1);
        teardown(&fx);
    }
}

static void test_impute(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: x, transforms: [{impute: mean}]}\n") == 0) {
        CHECK(dense1(&fx, absent()) == 0); /* nothing seen yet */
        CHECK(dense1(&fx, num(10)) == 10);
        CHECK(dense1(&fx, num(20)) == 20);
        CHECK(dense1(&fx, null()) == 15);
        CHECK(dense1(&fx, absent()) == 15); /* imputed values do not move the mean */
        teardown(&fx);
    }
    if (SETUP(&fx, "  - {name: x, transforms: [{impute: -3.5}, {clip: [-1, 1]}]}\n") == 0) {
        CHECK(dense1(&fx, null()) == -1);
        CHECK(dense1(&fx, num(0.5)) == 0.5);
        teardown(&fx);
    }
    if (SETUP(&fx, "  - {name: x, transforms: [{impute: 7}, standardize]}\n") == 0) {
        CHECK(dense1(&fx, num(5)) == 0);
        CHECK_NEAR(dense1(&fx, absent()), 1.0, 1e-12); /* 7 after 5: mean 6, std 1 */
        teardown(&fx);
    }
}

/* ---- time ----------------------------------------------------------------------------------------- */

static void test_timestamps(void) {
    double s = 0;
    CHECK_EQ_INT(rtml_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(rtml_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(rtml_days_from_civil(1969, 12, 31), -1);
    CHECK_EQ_INT(rtml_days_from_civil(2024, 2, 29), 19782);
    CHECK(rtml_day_of_week(0) == 3);           /* 1970-01-01 was a Thursday */
    CHECK(rtml_hour_of_day(-3600) == 23);      /* 1969-12-31T23:00Z ... */
    CHECK(rtml_day_of_week(-3600) == 2);       /* ... a Wednesday */
    CHECK(rtml_hour_of_day(1700000000) == 22); /* 2023-11-14T22:13:20Z, a Tuesday */
    CHECK(rtml_day_of_week(1700000000) == 1);
    CHECK(rtml_epoch_seconds(1700000000123.0) == 1700000000.123);
    CHECK(rtml_epoch_seconds(1e11) == 1e11);
    static const struct { const char *text; double secs; } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2023-11-14T22:13:20Z", 1700000000},
        {"2023-11-15T00:13:20+02:00", 1700000000},
        {"2023-11-14T17:13:20-0500", 1700000000},
        {"2023-11-15T03:13:20+05", 1700000000},
        {"2023-11-14 22:13:20.5z", 1700000000.5},
        {"2023-11-14t22:13", 1700000000 - 20},
        {"2024-02-29T12:00:00-05:00", 19782 * 86400.0 + 17 * 3600},
        {"2024-02-29", 19782 * 86400.0},
        {"1969-12-31T23:59:60Z", 0}, /* a leap second */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = rtml_parse_timestamp(ok[i].text, strlen(ok[i].text), &s);
        CHECK_EQ_INT(rc, 0);
        CHECK_NEAR(s, ok[i].secs, 1e-6);
    }
    static const char *const bad[] = {"", "yesterday", "2023-02-29", "2023-13-01", "2023-11-14T24:00:00",
                                      "2023-11-14T22:61", "2023-11-14T22:13:20+", "2023-11-14T22:13:20+05:",
                                      "2023-11-14T22:13:20Zx", "2023-11-14T22:13:20.", "2023-1-14", "1900-02-29"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(rtml_parse_timestamp(bad[i], strlen(bad[i]), &s), -1);
}

static void test_time_features(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: h, field: /ts, transforms: [hour_of_day]}\n"
                   "  - {name: d, field: /ts, transforms: [day_of_week]}\n") != 0)
        return;
    rtml_value v;
    rtml_row row;
    static const struct { rtml_value v; double hour, day; } cases[] = {
        {{.type = RTML_V_NUMBER, .num = 0}, 0, 3},
        {{.type = RTML_V_NUMBER, .num = 1700000000}, 22, 1},
        {{.type = RTML_V_NUMBER, .num = 1700000000000.0}, 22, 1}, /* milliseconds */
        {{.type = RTML_V_STRING, .str = "2024-02-29T23:30:00-01:00", .len = 25}, 0, 4}, /* Friday 00:30Z */
        {{.type = RTML_V_STRING, .str = "2024-03-01T01:30:00+02:00", .len = 25}, 23, 3}, /* Thursday 23:30Z */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        v = cases[i].v;
        CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, &v, &row, NULL, 0), RTML_REJECT_NONE);
        CHECK(row.dense[0] == cases[i].hour && row.dense[1] == cases[i].day);
    }
    v = str("2023-02-29T00:00:00Z");
    EXPECT_REJECT(&fx, &v, RTML_REJECT_WRONG_TYPE, "field /ts is not a timestamp ('2023-02-29T00:00:00Z')");
    v = boolean(1);
    EXPECT_REJECT(&fx, &v, RTML_REJECT_WRONG_TYPE, "field /ts is not a timestamp (boolean)");
    teardown(&fx);
    /* the docs/design.md example: hour of day one-hot encoded */
    if (SETUP(&fx, "  - {name: hour, field: /ts, transforms: [hour_of_day, {one_hot: 24}]}\n") != 0)
        return;
    CHECK_EQ_INT(sparse1(&fx, num(1700000000), NULL), 0);      /* "22" first seen: slot 0 */
    CHECK_EQ_INT(sparse1(&fx, num(1700003600), NULL), 1);      /* "23" */
    CHECK_EQ_INT(sparse1(&fx, str("2023-11-14T22:59:59Z"), NULL), 0);
    teardown(&fx);
}

/* ---- categorical ---------------------------------------------------------------------------------- */

static void test_one_hot(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: x}\n  - {name: c, transforms: [{one_hot: 3}]}\n") != 0)
        return;
    rtml_row row;
    rtml_value v[2] = {num(0), str("b")};
    static const struct { rtml_value v; uint32_t idx; } seq[] = {
        {{.type = RTML_V_STRING, .str = "b", .len = 1}, 1},
        {{.type = RTML_V_STRING, .str = "a", .len = 1}, 2},
        {{.type = RTML_V_STRING, .str = "b", .len = 1}, 1},
        {{.type = RTML_V_NUMBER, .num = 5, .is_int = 1, .i64 = 5}, 3},
        {{.type = RTML_V_STRING, .str = "5", .len = 1}, 3},  /* the same category as the integer 5 */
        {{.type = RTML_V_NUMBER, .num = 5}, 3},              /* 5.0 too */
        {{.type = RTML_V_BOOL, .num = 1}, 4},                /* "true": the vocabulary is full -> unknown */
        {{.type = RTML_V_STRING, .str = "z", .len = 1}, 4},
        {{.type = RTML_V_STRING, .str = "a", .len = 1}, 2},
        {{.type = RTML_V_STRING, .str = "", .len = 0}, 4},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        v[1] = seq[i].v;
        CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, NULL, 0), RTML_REJECT_NONE);
        CHECK_EQ_INT(row.nnz, 1);
        CHECK_EQ_INT(row.idx[0], seq[i].idx); /* block at 1 (after x): slots 1..3, unknown 4 */
        CHECK(row.val[0] == 1);
    }
    CHECK_EQ_INT(rtml_featurizer_shape(fx.fz).n_inputs, 5);
    v[1] = num(2.5);
    EXPECT_REJECT(&fx, v, RTML_REJECT_WRONG_TYPE, "field /c: one_hot needs a string or a whole number, got 2.5");
    teardown(&fx);
    if (SETUP(&fx, "  - {name: b, transforms: [{bucketize: [10, 20]}, {one_hot: 3}]}\n") == 0) {
        CHECK_EQ_INT(sparse1(&fx, num(15), NULL), 0); /* bucket 1 first */
        CHECK_EQ_INT(sparse1(&fx, num(5), NULL), 1);  /* bucket 0 */
        CHECK_EQ_INT(sparse1(&fx, num(16), NULL), 0);
        teardown(&fx);
    }
}

static void test_hash(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: merchant, transforms: [{hash: 1024}]}\n") != 0)
        return;
    double val, sign;
    CHECK_EQ_INT(sparse1(&fx, str("acme"), &val), 877); /* scikit-learn: murmurhash3_32(b"merchant=acme") */
    CHECK(val == 1);
    CHECK_EQ_INT(sparse1(&fx, str("acme"), &val), 877); /* deterministic */
    CHECK_EQ_INT(sparse1(&fx, integer(42), &val), hashed("merchant=42", 0, 1024, &sign));
    CHECK(val == sign);
    CHECK_EQ_INT(sparse1(&fx, num(42), &val), hashed("merchant=42", 0, 1024, &sign));
    CHECK_EQ_INT(sparse1(&fx, num(0.1), &val), hashed("merchant=0.10000000000000001", 0, 1024, &sign));
    CHECK(val == sign);
    CHECK_EQ_INT(sparse1(&fx, boolean(0), &val), hashed("merchant=false", 0, 1024, &sign));
    /* signs: over many values both occur, roughly evenly */
    char buf[16];
    int plus = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "v%d", i);
        long idx = sparse1(&fx, str(buf), &val);
        CHECK(idx >= 0 && idx < 1024);
        plus += val > 0;
    }
    CHECK(plus > 400 && plus < 600);
    teardown(&fx);
}

static void test_cross(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: pair, field: /a, transforms: [{cross: {with: /b, buckets: 1024}}]}\n") != 0)
        return;
    rtml_value v[2] = {str("x"), str("y")};
    rtml_row row;
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, NULL, 0), RTML_REJECT_NONE);
    CHECK(row.nnz == 1 && row.idx[0] == 590 && row.val[0] == -1); /* scikit-learn on "pair=x\x1fy" */
    v[1] = str("z");
    rtml_featurizer_apply(fx.fz, v, &row, NULL, 0);
    CHECK(row.idx[0] != 590 || row.val[0] != -1); /* (happens to differ: the pair matters) */
    v[0] = integer(3), v[1] = boolean(1);
    double sign;
    rtml_featurizer_apply(fx.fz, v, &row, NULL, 0);
    CHECK_EQ_INT(row.idx[0], hashed("pair=3\x1ftrue", 0, 1024, &sign));
    v[1] = absent();
    EXPECT_REJECT(&fx, v, RTML_REJECT_MISSING_FIELD, "field /b is missing");
    v[1] = arr(NULL, 0);
    EXPECT_REJECT(&fx, v, RTML_REJECT_WRONG_TYPE, "field /b is not a category (array)");
    teardown(&fx);
}

static void test_bag_of_words(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: bow, transforms: [{bag_of_words: 1024}]}\n") != 0)
        return;
    rtml_value v = str("The cat, the CAT! caf\xc3\xa9...");
    rtml_row row;
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, &v, &row, NULL, 0), RTML_REJECT_NONE);
    /* scikit-learn: bow=the -> 272, -1; bow=cat -> 754, +1; bow=café -> 694, +1 */
    CHECK_EQ_INT(row.nnz, 3);
    if (row.nnz == 3) {
        CHECK(row.idx[0] == 272 && row.val[0] == -2);
        CHECK(row.idx[1] == 694 && row.val[1] == 1);
        CHECK(row.idx[2] == 754 && row.val[2] == 2);
    }
    v = str("  ,;  ");
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, &v, &row, NULL, 0), RTML_REJECT_NONE);
    CHECK_EQ_INT(row.nnz, 0);
    size_t pos = 0, start = 0, len = 0;
    const char *text = "a1-B2_\xe2\x82\xac";
    CHECK(rtml_next_token(text, strlen(text), &pos, &start, &len) && start == 0 && len == 2);
    CHECK(rtml_next_token(text, strlen(text), &pos, &start, &len) && start == 3 && len == 2);
    CHECK(rtml_next_token(text, strlen(text), &pos, &start, &len) && start == 6 && len == 3);
    CHECK(!rtml_next_token(text, strlen(text), &pos, &start, &len));
    v = num(3);
    EXPECT_REJECT(&fx, &v, RTML_REJECT_WRONG_TYPE, "field /bow is not text (number)");
    teardown(&fx);
    /* a bag whose words all collide in 1 bucket: signs add up, and a sum of 0 leaves no entry */
    if (SETUP(&fx, "  - {name: bow, transforms: [{bag_of_words: 1}]}\n") == 0) {
        v = str("the cat the");
        CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, &v, &row, NULL, 0), RTML_REJECT_NONE);
        CHECK(row.nnz == 1 && row.idx[0] == 0 && row.val[0] == -1); /* -2 (the) + 1 (cat) */
        v = str("the cat");
        CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, &v, &row, NULL, 0), RTML_REJECT_NONE);
        CHECK_EQ_INT(row.nnz, 0);
        teardown(&fx);
    }
}

static void test_array(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: emb, transforms: [{array: 4}]}\n  - {name: x}\n") != 0)
        return;
    double a[4] = {1, 2, 3, 4};
    rtml_value v[2] = {arr(a, 4), num(9)};
    rtml_row row;
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, NULL, 0), RTML_REJECT_NONE);
    CHECK(row.dense[0] == 1 && row.dense[3] == 4 && row.dense[4] == 9 && row.nnz == 0);
    v[0] = arr(a, 3);
    EXPECT_REJECT(&fx, v, RTML_REJECT_WRONG_TYPE, "array /emb has 3 values, expected 4");
    v[0] = num(1);
    EXPECT_REJECT(&fx, v, RTML_REJECT_WRONG_TYPE, "field /emb is not an array (number)");
    a[2] = NAN;
    v[0] = arr(a, 4);
    EXPECT_REJECT(&fx, v, RTML_REJECT_NOT_FINITE, "array /emb has a non-finite value at [2]");
    v[0] = absent();
    EXPECT_REJECT(&fx, v, RTML_REJECT_MISSING_FIELD, "field /emb is missing");
    teardown(&fx);
}

/* ---- rejects -------------------------------------------------------------------------------------- */

static void test_rejects(void) {
    fixture fx;
    if (SETUP(&fx, "  - {name: amount, transforms: [log1p]}\n  - {name: m, transforms: [{hash: 8}]}\n") != 0)
        return;
    rtml_value v[2] = {absent(), str("a")};
    EXPECT_REJECT(&fx, v, RTML_REJECT_MISSING_FIELD, "field /amount is missing");
    v[0] = null();
    EXPECT_REJECT(&fx, v, RTML_REJECT_MISSING_FIELD, "field /amount is missing");
    v[0] = str("12");
    EXPECT_REJECT(&fx, v, RTML_REJECT_WRONG_TYPE, "field /amount is not a number (string)");
    v[0] = (rtml_value){.type = RTML_V_OTHER};
    EXPECT_REJECT(&fx, v, RTML_REJECT_WRONG_TYPE, "field /amount is not a number (other)");
    v[0] = num(NAN);
    EXPECT_REJECT(&fx, v, RTML_REJECT_NOT_FINITE, "field /amount is not finite");
    v[0] = num(-INFINITY);
    EXPECT_REJECT(&fx, v, RTML_REJECT_NOT_FINITE, "field /amount is not finite");
    v[0] = num(1);
    v[1] = absent();
    EXPECT_REJECT(&fx, v, RTML_REJECT_MISSING_FIELD, "field /m is missing");
    char *big = malloc(RTML_MAX_FEATURE_STRING + 2);
    if (big) {
        memset(big, 'x', RTML_MAX_FEATURE_STRING + 1);
        big[RTML_MAX_FEATURE_STRING + 1] = '\0';
        v[1] = str(big);
        EXPECT_REJECT(&fx, v, RTML_REJECT_TOO_LARGE,
                      "field /m is a string of 65537 bytes, more than the 65536 a feature reads");
        big[RTML_MAX_FEATURE_STRING] = '\0'; /* exactly 64 KiB is fine */
        v[1] = str(big);
        rtml_row row;
        CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, NULL, 0), RTML_REJECT_NONE);
        free(big);
    }
    teardown(&fx);
    /* overflow inside a chain */
    if (SETUP(&fx, "  - {name: x, transforms: [standardize]}\n") == 0) {
        dense1(&fx, num(-1.5e308));
        rtml_value w = num(1.5e308);
        EXPECT_REJECT(&fx, &w, RTML_REJECT_NOT_FINITE, "field /x is not finite after standardize");
        teardown(&fx);
    }
    CHECK_STR(rtml_reject_name(RTML_REJECT_TOO_LARGE), "too_large");
}

/* The same accepted records give the same rows whether or not rejected ones came in between. */
static void test_reject_changes_nothing(void) {
    const char *yaml = "  - {name: a, transforms: [{impute: mean}, standardize]}\n"
                       "  - {name: b, transforms: [minmax]}\n"
                       "  - {name: c, transforms: [{one_hot: 2}]}\n"
                       "  - {name: d, transforms: [{array: 1}]}\n";
    fixture clean, dirty;
    if (SETUP(&clean, yaml) != 0 || SETUP(&dirty, yaml) != 0)
        return;
    double one[1] = {1};
    rtml_value good[3][4] = {{num(1), num(10), str("p"), arr(one, 1)},
                             {absent(), num(20), str("q"), arr(one, 1)},
                             {num(5), num(15), str("q"), arr(one, 1)}};
    /* each bad record passes the early features (which would update stats and add "new"), then fails */
    rtml_value bad[3][4] = {{num(100), num(-50), str("new"), arr(one, 2)},
                            {num(100), num(-50), str("new"), num(1)},
                            {num(100), num(NAN), str("new"), arr(one, 1)}};
    int same = 1;
    for (size_t i = 0; i < 3; i++) {
        rtml_row r1, r2;
        char why[128];
        for (size_t j = 0; j < 3; j++)
            CHECK(rtml_featurizer_apply(dirty.fz, bad[j], &r2, why, sizeof why) != RTML_REJECT_NONE);
        CHECK_EQ_INT(rtml_featurizer_apply(clean.fz, good[i], &r1, NULL, 0), RTML_REJECT_NONE);
        double d1[3] = {r1.dense[0], r1.dense[1], r1.dense[2]};
        uint32_t i1 = r1.idx[0];
        CHECK_EQ_INT(rtml_featurizer_apply(dirty.fz, good[i], &r2, NULL, 0), RTML_REJECT_NONE);
        same &= d1[0] == r2.dense[0] && d1[1] == r2.dense[1] && d1[2] == r2.dense[2] && i1 == r2.idx[0];
    }
    CHECK(same);
    rtml_value probe[4] = {num(0), num(0), str("new"), arr(one, 1)};
    rtml_row r;
    rtml_featurizer_apply(dirty.fz, probe, &r, NULL, 0);
    CHECK_EQ_INT(r.idx[0], 3 + 2); /* "new" never entered the full vocabulary {p, q}: unknown bucket */
    teardown(&clean);
    teardown(&dirty);
}

/* ---- state ---------------------------------------------------------------------------------------- */

static const char *const STATE_YAML = "  - {name: a, transforms: [{impute: mean}, standardize]}\n"
                                      "  - {name: b, transforms: [minmax, {clip: [0, 0.5]}]}\n"
                                      "  - {name: c, transforms: [{one_hot: 3}]}\n"
                                      "  - {name: t, field: /c, transforms: [{bag_of_words: 64}]}\n";

static void feed(fixture *fx, int from, int to) {
    static const char *const cats[] = {"x", "y", "z", "w", "y"};
    rtml_row row;
    for (int i = from; i < to; i++) {
        rtml_value v[3] = {i % 4 == 3 ? absent() : num(i * 1.5), num(i % 7), str(cats[i % 5])};
        rtml_featurizer_apply(fx->fz, v, &row, NULL, 0);
    }
}

static int rows_equal(fixture *a, fixture *b, const rtml_value *v) {
    rtml_row r1, r2;
    if (rtml_featurizer_apply(a->fz, v, &r1, NULL, 0) != RTML_REJECT_NONE ||
        rtml_featurizer_apply(b->fz, v, &r2, NULL, 0) != RTML_REJECT_NONE)
        return 0;
    size_t nd = rtml_featurizer_shape(a->fz).n_dense;
    return r1.nnz == r2.nnz && memcmp(r1.dense, r2.dense, nd * sizeof(double)) == 0 &&
           memcmp(r1.idx, r2.idx, r1.nnz * sizeof *r1.idx) == 0 && memcmp(r1.val, r2.val, r1.nnz * sizeof *r1.val) == 0;
}

static void save(fixture *fx, rtml_writer *w) {
    *w = (rtml_writer){RTML_BUF_INIT};
    rtml_featurizer_save(fx->fz, w);
}

static int load(fixture *fx, const rtml_writer *w, size_t len, char *err) {
    rtml_reader r = {(const unsigned char *)w->buf.data, len, 0, false};
    return rtml_featurizer_load(fx->fz, &r, err, RTML_ERRLEN);
}

static void test_save_load(void) {
    fixture a, b;
    char err[RTML_ERRLEN] = "";
    if (SETUP(&a, STATE_YAML) != 0 || SETUP(&b, STATE_YAML) != 0)
        return;
    feed(&a, 0, 50);
    rtml_writer w;
    save(&a, &w);
    CHECK_EQ_INT(load(&b, &w, w.buf.len, err), 0);
    int same = 1;
    for (int i = 50; i < 80; i++) {
        static const char *const cats[] = {"x", "y", "v", "w"};
        rtml_value v[3] = {i % 4 == 3 ? absent() : num(i * 0.7), num(i % 11), str(cats[i % 4])};
        same &= rows_equal(&a, &b, v);
    }
    CHECK(same);
    rtml_writer again;
    save(&b, &again); /* the loaded state saves to the same bytes after the same records */
    rtml_writer w2;
    save(&a, &w2);
    CHECK(again.buf.len == w2.buf.len && memcmp(again.buf.data, w2.buf.data, w2.buf.len) == 0);
    /* truncated: an error, and the featurizer is unchanged */
    CHECK_EQ_INT(load(&b, &w, w.buf.len - 3, err), -1);
    CHECK_STR(err, "state: feature statistics are truncated");
    rtml_value v[3] = {num(1), num(2), str("x")};
    CHECK(rows_equal(&a, &b, v));
    /* a newer layout */
    w.buf.data[0] = 9;
    CHECK_EQ_INT(load(&b, &w, w.buf.len, err), -1);
    CHECK_STR(err, "state: feature statistics have layout version 9; this rtml reads 1");
    rtml_buf_free(&w.buf);
    rtml_buf_free(&w2.buf);
    rtml_buf_free(&again.buf);
    teardown(&b);
    teardown(&a);
}

static void expect_mismatch(const char *saved_yaml, const char *loaded_yaml, const char *want) {
    fixture a, b;
    char err[RTML_ERRLEN] = "";
    if (SETUP(&a, saved_yaml) != 0 || SETUP(&b, loaded_yaml) != 0)
        return;
    feed(&a, 0, 10);
    rtml_writer w;
    save(&a, &w);
    CHECK_EQ_INT(load(&b, &w, w.buf.len, err), -1);
    CHECK_STR(err, want);
    rtml_buf_free(&w.buf);
    teardown(&a);
    teardown(&b);
}

static void test_load_mismatch(void) {
    expect_mismatch(STATE_YAML, "  - {name: a}\n",
                    "state: the state file has statistics for 4 features, the config has 1");
    expect_mismatch("  - {name: a}\n  - {name: b}\n", "  - {name: a}\n  - {name: c, field: /b}\n",
                    "state: feature 1 is 'b' in the state file, 'c' in the config");
    expect_mismatch("  - {name: a, transforms: [standardize]}\n", "  - {name: a, transforms: [standardize, log1p]}\n",
                    "state: feature 'a' has 1 transforms in the state file, 2 in the config");
    expect_mismatch("  - {name: a, transforms: [standardize]}\n", "  - {name: a, transforms: [minmax]}\n",
                    "state: feature 'a' transform 0 is standardize (0) in the state file, minmax (0) in the config");
    expect_mismatch("  - {name: a, field: /c, transforms: [{one_hot: 3}]}\n",
                    "  - {name: a, field: /c, transforms: [{one_hot: 4}]}\n",
                    "state: feature 'a' transform 0 is one_hot (3) in the state file, one_hot (4) in the config");
}

/* The test that lived in test_learn.c, kept here with the rest of the featurizer's. */
static void test_chain_by_struct(void) {
    rtml_transform std = {RTML_TX_STANDARDIZE, 0, 0, 0, NULL, 0, NULL}, lg = {RTML_TX_LOG1P, 0, 0, 0, NULL, 0, NULL},
                   clip = {RTML_TX_CLIP, -1, 1, 0, NULL, 0, NULL};
    rtml_transform chain[] = {lg, std, clip};
    rtml_feature f[2] = {{.name = "a", .field = "/a", .transforms = &std, .n_transforms = 1},
                         {.name = "b", .field = "/b", .transforms = chain, .n_transforms = 3}};
    rtml_config c = {0};
    c.features = f;
    c.n_features = 2;
    rtml_featurizer *fz = rtml_featurizer_new(&c, NULL, 0);
    CHECK(fz != NULL);
    if (!fz)
        return;
    rtml_row row;
    rtml_value v[2] = {num(10), num(0)};
    CHECK(rtml_featurizer_apply(fz, v, &row, NULL, 0) == RTML_REJECT_NONE);
    CHECK(row.dense[0] == 0 && row.dense[1] == 0);
    v[0] = num(20), v[1] = num(exp(1) - 1);
    rtml_featurizer_apply(fz, v, &row, NULL, 0);
    CHECK_NEAR(row.dense[0], 1.0, 1e-12);
    CHECK_NEAR(row.dense[1], 1.0, 1e-12);
    v[1] = str("x");
    CHECK(rtml_featurizer_apply(fz, v, &row, NULL, 0) == RTML_REJECT_WRONG_TYPE);
    v[1] = absent();
    CHECK(rtml_featurizer_apply(fz, v, &row, NULL, 0) == RTML_REJECT_MISSING_FIELD);
    v[0] = num(15), v[1] = num(1e9);
    rtml_featurizer_apply(fz, v, &row, NULL, 0);
    CHECK_NEAR(row.dense[0], 0.0, 1e-12);
    CHECK(row.dense[1] == 1.0);
    rtml_featurizer_free(fz);
}

/* examples/fraud.yaml end to end: its fields, its shape and one transaction. */
static void test_fraud_example(void) {
    const char *d = getenv("RTML_TESTDATA");
    char path[1024], err[RTML_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/../../examples/fraud.yaml", d ? d : "tests/data");
    fixture fx;
    if (rtml_config_load(path, &fx.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "  %s\n", err);
        CHECK(0);
        return;
    }
    fx.fz = rtml_featurizer_new(&fx.cfg, err, sizeof err);
    CHECK(fx.fz != NULL);
    size_t n;
    const char *const *fields = rtml_featurizer_fields(fx.fz, &n);
    static const char *const want[] = {"/amount", "/ts", "/mcc", "/merchant", "/country", "/note", "/card_country"};
    CHECK_EQ_INT(n, 7);
    for (size_t i = 0; i < n && i < 7; i++)
        CHECK_STR(fields[i], want[i]);
    rtml_shape shape = rtml_featurizer_shape(fx.fz);
    CHECK_EQ_INT(shape.n_dense, 1);
    CHECK_EQ_INT(shape.n_inputs, 1 + 5 + 25 + 8 + 501 + 262144 + 4096 + 65536);
    rtml_value v[7] = {num(129.9), str("2024-02-29T23:41:07+01:00"), integer(5942), str("acme-books"), str("FR"),
                       str("Gift order, express delivery"), str("DE")};
    rtml_row row;
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, err, sizeof err), RTML_REJECT_NONE);
    CHECK_EQ_INT(row.nnz, 6 + 4); /* six one-value blocks and four words */
    int in_range = 1;
    for (size_t i = 0; i < row.nnz; i++)
        in_range &= row.idx[i] >= 1 && row.idx[i] < shape.n_inputs && (i == 0 || row.idx[i] > row.idx[i - 1]);
    CHECK(in_range);
    CHECK_EQ_INT(row.idx[1], 1 + 5); /* hour 22 (22:41Z), the first hour seen: slot 0 of its block */
    v[0] = absent(); /* imputed */
    CHECK_EQ_INT(rtml_featurizer_apply(fx.fz, v, &row, err, sizeof err), RTML_REJECT_NONE);
    teardown(&fx);
}

int main(void) {
    test_murmur3();
    test_vocab();
    test_fields_and_layout();
    test_numeric();
    test_impute();
    test_timestamps();
    test_time_features();
    test_one_hot();
    test_hash();
    test_cross();
    test_bag_of_words();
    test_array();
    test_rejects();
    test_reject_changes_nothing();
    test_save_load();
    test_load_mismatch();
    test_chain_by_struct();
    test_fraud_example();
    return check_exit("test_featurize");
}
