/* test_scorer.c — the serve endpoint's scorer (pipeline/scorer.c) against the stream's pipeline: after a snapshot,
 * a scorer gives every record the score the pipeline gives it in that state, serving only (bit for bit), for a
 * standardized logistic model with hashed and one-hot features and for a softmax whose class names were learned;
 * the snapshot says the version and the learned count; ready features (the served row sent back) score the same;
 * scoring changes nothing (no statistics learned from requests); a snapshot of another model is refused; and
 * records the pipeline rejects are refused with the same reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "pipeline/scorer.h"

static const char *BINARY =
    "features:\n"
    "  - {name: a, field: /a, transforms: [standardize]}\n"
    "  - {name: b, field: /b, transforms: [log1p, minmax]}\n"
    "  - {name: c, field: /c, transforms: [{hash: 64}]}\n"
    "  - {name: d, field: /d, transforms: [{one_hot: 4}]}\n"
    "label: {field: /y}\n"
    "model: {type: logistic, optimizer: {name: adam, learning_rate: 0.05}}\n";

static const char *MULTI =
    "features:\n"
    "  - {name: a, field: /a, transforms: [standardize]}\n"
    "  - {name: b, field: /b, transforms: [standardize]}\n"
    "label: {field: /y}\n"
    "model: {type: softmax, classes: 3}\n";

static unsigned long long lcg = 99;
static double uniform(void) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

static int record(char *buf, size_t cap, int multi, int labelled) {
    double a = uniform() * 10, b = uniform() * 100;
    static const char *cats[] = {"red", "green", "blue", "cyan", "pink"}, *names[] = {"lo", "mid", "hi"};
    if (multi)
        return snprintf(buf, cap, "{\"a\":%.6f,\"b\":%.6f%s%s%s}", a, b, labelled ? ",\"y\":\"" : "",
                        labelled ? names[(int)(a / 3.34)] : "", labelled ? "\"" : "");
    return snprintf(buf, cap, "{\"a\":%.6f,\"b\":%.6f,\"c\":\"u%d\",\"d\":\"%s\"%s}", a, b, (int)(uniform() * 50),
                    cats[(int)(uniform() * 5)], labelled ? (a + b / 20 > 7 ? ",\"y\":1" : ",\"y\":0") : "");
}

/* The pipeline's score of doc, serving only (nothing learned, statistics frozen). */
static double pipeline_score(rtml_pipeline *p, const char *doc, rtml_buf *out) {
    char detail[256];
    rtml_buf_reset(out);
    CHECK(rtml_pipeline_process(p, doc, strlen(doc), NULL, out, detail, sizeof detail) == RTML_REJECT_NONE);
    const char *s = strstr(out->data, "\"score\":");
    return s ? strtod(s + 8, NULL) : -1;
}

static void compare(const char *yaml, int multi) {
    rtml_config cfg;
    char err[512], doc[256];
    CHECK(rtml_config_parse("scorer.yaml", yaml, strlen(yaml), &cfg, err, sizeof err) == 0);
    rtml_pipeline p;
    CHECK(rtml_pipeline_init(&p, &cfg, err, sizeof err) == 0);
    rtml_buf out = RTML_BUF_INIT, image = RTML_BUF_INIT, pred = RTML_BUF_INIT;
    for (int i = 0; i < 3000; i++) {
        record(doc, sizeof doc, multi, 1);
        pipeline_score(&p, doc, &out);
    }
    rtml_pipeline_snapshot(&p, &image);
    rtml_scorer *s = rtml_scorer_open(&cfg, err, sizeof err);
    CHECK(s != NULL);
    CHECK(rtml_scorer_load(s, image.data, image.len, err, sizeof err) == 0);
    CHECK_EQ_INT(rtml_scorer_info_of(s).learned, 3000);
    CHECK_EQ_INT(rtml_scorer_info_of(s).model_version, 1);
    p.serve_only = true;
    int same = 0;
    for (int i = 0; i < 500; i++) {
        record(doc, sizeof doc, multi, 0);
        double want = pipeline_score(&p, doc, &out);
        rtml_scorer_clear(s);
        CHECK(rtml_scorer_add_record(s, doc, strlen(doc), err, sizeof err) == RTML_REJECT_NONE);
        CHECK(rtml_scorer_run(s, err, sizeof err) == 0);
        const double *v = rtml_scorer_scores(s, 0);
        double got = multi ? (v[0] > v[1] ? (v[0] > v[2] ? v[0] : v[2]) : (v[1] > v[2] ? v[1] : v[2])) : v[0];
        rtml_buf_reset(&pred);
        rtml_scorer_put_prediction(s, 0, &pred);
        same += got == want && strstr(out.data, pred.data) != NULL;
    }
    CHECK_EQ_INT(same, 500);
    if (multi) { /* the learned class names came with the snapshot */
        rtml_buf_reset(&pred);
        rtml_scorer_put_prediction(s, 0, &pred);
        CHECK(pred.data[0] == '"' && rtml_scorer_class_named(s, 0));
    }
    rtml_buf_free(&out);
    rtml_buf_free(&image);
    rtml_buf_free(&pred);
    rtml_scorer_close(s);
    rtml_pipeline_free(&p);
    rtml_config_free(&cfg);
}

/* The row a record was served on, sent back as ready features, gets the same score; requests change nothing. */
static void test_dense_and_frozen(void) {
    rtml_config cfg;
    char err[512], doc[256];
    CHECK(rtml_config_parse("scorer.yaml", BINARY, strlen(BINARY), &cfg, err, sizeof err) == 0);
    rtml_pipeline p;
    CHECK(rtml_pipeline_init(&p, &cfg, err, sizeof err) == 0);
    rtml_buf out = RTML_BUF_INIT, image = RTML_BUF_INIT, again = RTML_BUF_INIT;
    for (int i = 0; i < 200; i++) record(doc, sizeof doc, 0, 1), pipeline_score(&p, doc, &out);
    rtml_pipeline_snapshot(&p, &image);
    rtml_scorer *s = rtml_scorer_open(&cfg, err, sizeof err);
    CHECK(rtml_scorer_load(s, image.data, image.len, err, sizeof err) == 0);
    rtml_shape shape = rtml_scorer_shape(s);
    CHECK_EQ_INT(shape.n_dense, 2);
    CHECK_EQ_INT(shape.n_inputs, 2 + 64 + 5);
    double *x = calloc(shape.n_inputs, sizeof *x);
    rtml_scorer_clear(s);
    for (int i = 0; i < 20; i++) record(doc, sizeof doc, 0, 0), rtml_scorer_add_record(s, doc, strlen(doc), err, sizeof err);
    CHECK(rtml_scorer_run(s, err, sizeof err) == 0);
    double first = rtml_scorer_scores(s, 0)[0];
    const rtml_row *row = rtml_scorer_row(s, 0);
    memcpy(x, row->dense, shape.n_dense * sizeof *x);
    for (size_t k = 0; k < row->nnz; k++) x[row->idx[k]] += row->val[k];
    rtml_scorer_clear(s);
    CHECK(rtml_scorer_add_dense(s, x, err, sizeof err) == RTML_REJECT_NONE);
    CHECK(rtml_scorer_run(s, err, sizeof err) == 0);
    CHECK(rtml_scorer_scores(s, 0)[0] == first);
    x[0] = 1.0 / 0.0;
    CHECK(rtml_scorer_add_dense(s, x, err, sizeof err) == RTML_REJECT_NOT_FINITE);
    rtml_pipeline_snapshot(&p, &again); /* the stream's state is the same after 20 requests... */
    CHECK(again.len == image.len && !memcmp(again.data, image.data, image.len));
    CHECK(rtml_scorer_add_record(s, "{\"a\":1}", 7, err, sizeof err) == RTML_REJECT_MISSING_FIELD);
    CHECK(rtml_scorer_add_record(s, "{oops", 5, err, sizeof err) == RTML_REJECT_MALFORMED);
    free(x);
    rtml_buf_free(&out);
    rtml_buf_free(&image);
    rtml_buf_free(&again);
    rtml_scorer_close(s);
    rtml_pipeline_free(&p);
    rtml_config_free(&cfg);
}

/* A snapshot of another model (a softmax for a logistic scorer) is refused and leaves the scorer as it was. */
static void test_wrong_model(void) {
    rtml_config a, b;
    char err[512];
    CHECK(rtml_config_parse("a.yaml", BINARY, strlen(BINARY), &a, err, sizeof err) == 0);
    CHECK(rtml_config_parse("b.yaml", MULTI, strlen(MULTI), &b, err, sizeof err) == 0);
    rtml_pipeline p;
    CHECK(rtml_pipeline_init(&p, &b, err, sizeof err) == 0);
    rtml_buf image = RTML_BUF_INIT;
    rtml_pipeline_snapshot(&p, &image);
    rtml_scorer *s = rtml_scorer_open(&a, err, sizeof err);
    CHECK(rtml_scorer_load(s, image.data, image.len, err, sizeof err) != 0);
    CHECK(rtml_scorer_load(s, "RTMLSTAT", 8, err, sizeof err) != 0);
    rtml_buf_free(&image);
    rtml_scorer_close(s);
    rtml_pipeline_free(&p);
    rtml_config_free(&a);
    rtml_config_free(&b);
}

int main(void) {
    compare(BINARY, 0);
    compare(MULTI, 1);
    test_dense_and_frozen();
    test_wrong_model();
    return check_exit("test_scorer");
}
