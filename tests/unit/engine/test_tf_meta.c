/* test_tf_meta.c — reading signatures and the saver out of a MetaGraphDef (src/engine/tf_meta.c), without
 * TensorFlow: the messages are written here with a small protobuf writer, in the shapes TensorFlow writes
 * (maps as repeated {key, value} entries, unknown fields such as graph_def to skip), and then broken in every
 * way the reader must refuse: truncation, bad wire types, oversized lengths. Real MetaGraphDefs from Keras
 * and tf.saved_model.save are read by the TensorFlow tests (tests/tensorflow). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "check.h"
#include "engine/tf/tf_meta.h"
#include "base/rtml.h"

/* ---- a protobuf writer, just enough for the test messages ---- */

static void varint(rtml_buf *b, uint64_t v) {
    do {
        rtml_buf_putc(b, (char)((v & 0x7F) | (v >= 0x80 ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}
static void key(rtml_buf *b, unsigned field, unsigned wire) { varint(b, (uint64_t)field << 3 | wire); }
static void bytes(rtml_buf *b, unsigned field, const void *p, size_t n) {
    key(b, field, 2);
    varint(b, n);
    if (n) rtml_buf_append(b, p, n);
}
static void str(rtml_buf *b, unsigned field, const char *s) { bytes(b, field, s, strlen(s)); }
static void sub(rtml_buf *b, unsigned field, rtml_buf *m) {
    bytes(b, field, m->data, m->len);
    rtml_buf_free(m);
}
static void num(rtml_buf *b, unsigned field, uint64_t v) {
    key(b, field, 0);
    varint(b, v);
}

/* TensorInfo {name, dtype, shape [dims...]} as a map entry {key = name; value = info}. */
static void tensor_entry(rtml_buf *b, unsigned field, const char *k, const char *tensor, int dtype, int rank,
                         const int64_t *dims) {
    rtml_buf info = RTML_BUF_INIT, shape = RTML_BUF_INIT, entry = RTML_BUF_INIT;
    str(&info, 1, tensor);
    num(&info, 2, (uint64_t)dtype);
    if (rank < 0) num(&shape, 3, 1);
    for (int i = 0; i < rank; i++) {
        rtml_buf dim = RTML_BUF_INIT;
        num(&dim, 1, (uint64_t)dims[i]); /* -1 as a 10-byte varint, as protobuf writes int64 */
        sub(&shape, 2, &dim);
    }
    sub(&info, 3, &shape);
    str(&entry, 1, k);
    sub(&entry, 2, &info);
    sub(b, field, &entry);
}

static void signature_entry(rtml_buf *b, const char *name, rtml_buf *sigdef) {
    rtml_buf entry = RTML_BUF_INIT;
    str(&entry, 1, name);
    sub(&entry, 2, sigdef);
    sub(b, 5, &entry);
}

/* A MetaGraphDef like Keras's export: a graph to skip, serving_default with two inputs, train, a saver. */
static void make_meta(rtml_buf *m) {
    int64_t b4[2] = {-1, 4}, b1[1] = {-1};
    rtml_buf graph = RTML_BUF_INIT, serve = RTML_BUF_INIT, train = RTML_BUF_INIT, saver = RTML_BUF_INIT;
    for (int i = 0; i < 100; i++) str(&graph, 1, "node { name: 'x' op: 'Placeholder' }"); /* unknown to us */
    sub(m, 2, &graph);
    tensor_entry(&serve, 1, "x", "serving_default_x:0", RTML_TF_DT_FLOAT, 2, b4);
    tensor_entry(&serve, 1, "country", "serving_default_country:0", RTML_TF_DT_STRING, 1, b1);
    tensor_entry(&serve, 2, "output_0", "StatefulPartitionedCall:0", RTML_TF_DT_FLOAT, 2, (int64_t[]){-1, 1});
    str(&serve, 3, "tensorflow/serving/predict");
    signature_entry(m, "serving_default", &serve);
    tensor_entry(&train, 1, "x", "train_x:0", RTML_TF_DT_FLOAT, 2, b4);
    tensor_entry(&train, 1, "label", "train_label:0", RTML_TF_DT_FLOAT, -1, NULL);
    tensor_entry(&train, 2, "loss", "StatefulPartitionedCall_1:0", RTML_TF_DT_FLOAT, 0, NULL);
    signature_entry(m, "train", &train);
    str(&saver, 1, "saver_filename:0");
    str(&saver, 2, "StatefulPartitionedCall_2:0");
    str(&saver, 3, "StatefulPartitionedCall_3");
    num(&saver, 7, 2);
    sub(m, 3, &saver);
}

static void test_parse(void) {
    rtml_buf m = RTML_BUF_INIT;
    char err[RTML_ERRLEN] = "", buf[96];
    make_meta(&m);
    rtml_tf_meta *meta = rtml_tf_meta_parse(m.data, m.len, err, sizeof err);
    CHECK(meta != NULL);
    if (!meta) {
        fprintf(stderr, "  %s\n", err);
        rtml_buf_free(&m);
        return;
    }
    CHECK_EQ_INT(meta->n_signatures, 2);
    CHECK_STR(meta->signatures[0].name, "serving_default"); /* sorted by name */
    const rtml_tf_signature *s = rtml_tf_meta_signature(meta, "serving_default");
    CHECK(s != NULL && rtml_tf_meta_signature(meta, "nope") == NULL);
    CHECK_STR(s->method, "tensorflow/serving/predict");
    CHECK_EQ_INT(s->n_inputs, 2);
    CHECK_STR(s->inputs[0].key, "country"); /* sorted by key */
    const rtml_tf_tensor_info *x = rtml_tf_signature_input(s, "x");
    CHECK(x != NULL);
    CHECK_STR(x->tensor, "serving_default_x:0");
    CHECK_EQ_INT(x->dtype, RTML_TF_DT_FLOAT);
    CHECK_EQ_INT(x->rank, 2);
    CHECK_EQ_INT(x->dims[0], -1);
    CHECK_EQ_INT(x->dims[1], 4);
    CHECK_STR(rtml_tf_shape_str(x, buf, sizeof buf), "[?, 4]");
    CHECK_STR(rtml_tf_dtype_name(rtml_tf_signature_input(s, "country")->dtype, buf, sizeof buf), "string");
    CHECK_STR(rtml_tf_dtype_name(99, buf, sizeof buf), "DataType 99");
    CHECK_STR(rtml_tf_signature_output(s, "output_0")->tensor, "StatefulPartitionedCall:0");
    const rtml_tf_signature *t = rtml_tf_meta_signature(meta, "train");
    CHECK_EQ_INT(rtml_tf_signature_input(t, "label")->rank, -1);
    CHECK_STR(rtml_tf_shape_str(rtml_tf_signature_input(t, "label"), buf, sizeof buf), "<unknown rank>");
    CHECK_EQ_INT(rtml_tf_signature_output(t, "loss")->rank, 0);
    CHECK_STR(rtml_tf_shape_str(rtml_tf_signature_output(t, "loss"), buf, sizeof buf), "[]");
    CHECK(meta->has_saver);
    CHECK_STR(meta->saver_filename, "saver_filename:0");
    CHECK_STR(meta->saver_save, "StatefulPartitionedCall_2:0");
    CHECK_STR(meta->saver_restore, "StatefulPartitionedCall_3");
    rtml_tf_meta_free(meta);

    /* Every proper prefix is either refused with an offset, or (cut between fields) a valid smaller message. */
    size_t refused = 0;
    for (size_t n = 0; n < m.len; n++) {
        rtml_tf_meta *p = rtml_tf_meta_parse(m.data, n, err, sizeof err);
        if (!p) {
            refused++;
            CHECK(strncmp(err, "offset ", 7) == 0);
        }
        rtml_tf_meta_free(p);
    }
    CHECK(refused > m.len / 2);
    rtml_buf_free(&m);
}

static void test_merge_rules(void) {
    /* A signature repeated: the later one wins; a map key repeated: the later value wins. */
    rtml_buf m = RTML_BUF_INIT, a = RTML_BUF_INIT, b = RTML_BUF_INIT;
    int64_t d[1] = {-1};
    char err[RTML_ERRLEN];
    tensor_entry(&a, 1, "x", "old:0", RTML_TF_DT_FLOAT, 1, d);
    signature_entry(&m, "s", &a);
    tensor_entry(&b, 1, "x", "first:0", RTML_TF_DT_FLOAT, 1, d);
    tensor_entry(&b, 1, "x", "second:0", RTML_TF_DT_INT64, 1, d);
    signature_entry(&m, "s", &b);
    rtml_tf_meta *meta = rtml_tf_meta_parse(m.data, m.len, err, sizeof err);
    CHECK(meta && meta->n_signatures == 1 && meta->signatures[0].n_inputs == 1);
    if (meta) {
        CHECK_STR(meta->signatures[0].inputs[0].tensor, "second:0");
        CHECK_EQ_INT(meta->signatures[0].inputs[0].dtype, RTML_TF_DT_INT64);
        CHECK(!meta->has_saver);
    }
    rtml_tf_meta_free(meta);
    rtml_buf_free(&m);
    /* An empty message is a MetaGraphDef without signatures. */
    meta = rtml_tf_meta_parse("", 0, err, sizeof err);
    CHECK(meta && meta->n_signatures == 0);
    rtml_tf_meta_free(meta);
}

static void test_malformed(void) {
    char err[RTML_ERRLEN];
    static const struct { const char *bytes; size_t len; const char *why; } cases[] = {
        {"\x2a\x05\x0a", 3, "offset"},                 /* signature entry longer than the message */
        {"\x2b", 1, "groups"},                          /* wire type 3 */
        {"\x2f", 1, "bad wire type"},                   /* wire type 7 */
        {"\x00", 1, "bad field number"},                /* field 0 */
        {"\x2a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, "offset"}, /* huge length */
        {"\x1a\x02\x0a\x80", 4, "offset"},              /* saver field with a truncated length */
        {"\x2a\x04\x12\x02\x0a\xff", 6, "offset"},      /* signature value with a bad inner entry */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rtml_tf_meta *m = rtml_tf_meta_parse(cases[i].bytes, cases[i].len, err, sizeof err);
        CHECK(m == NULL);
        if (m) {
            fprintf(stderr, "  case %zu parsed\n", i);
            rtml_tf_meta_free(m);
        } else if (!strstr(err, cases[i].why)) {
            CHECK(0);
            fprintf(stderr, "  case %zu: want '%s' in '%s'\n", i, cases[i].why, err);
        }
    }
    /* A sparse input (coo_sparse instead of name) has no tensor to feed. */
    rtml_buf m = RTML_BUF_INIT, info = RTML_BUF_INIT, entry = RTML_BUF_INIT, sig = RTML_BUF_INIT, coo = RTML_BUF_INIT;
    str(&coo, 1, "values:0");
    sub(&info, 4, &coo);
    num(&info, 2, RTML_TF_DT_FLOAT);
    str(&entry, 1, "sp");
    sub(&entry, 2, &info);
    sub(&sig, 1, &entry);
    signature_entry(&m, "s", &sig);
    rtml_tf_meta *meta = rtml_tf_meta_parse(m.data, m.len, err, sizeof err);
    CHECK(meta && meta->signatures[0].inputs[0].tensor == NULL);
    rtml_tf_meta_free(meta);
    rtml_buf_free(&m);
    /* More dimensions than rtml keeps. */
    int64_t dims[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    rtml_buf deep = RTML_BUF_INIT, s2 = RTML_BUF_INIT;
    tensor_entry(&s2, 1, "x", "x:0", RTML_TF_DT_FLOAT, 9, dims);
    signature_entry(&deep, "s", &s2);
    CHECK(rtml_tf_meta_parse(deep.data, deep.len, err, sizeof err) == NULL);
    CHECK(strstr(err, "more than 8 dimensions") != NULL);
    if (!strstr(err, "more than 8 dimensions")) fprintf(stderr, "  got '%s'\n", err);
    rtml_buf_free(&deep);
}

int main(void) {
    test_parse();
    test_merge_rules();
    test_malformed();
    return check_exit("test_tf_meta");
}
