/* test_format_parity.c — one config serves JSON, Avro and Protobuf alike: the same payments, written by each
 * format's own library (json.dumps; fastavro with Confluent framing, a decimal, timestamp-millis, date, uuid,
 * a nested record, optional unions, an enum, an array and a map; Python's protobuf runtime with Confluent
 * framing, proto3 defaults left off the wire, a Timestamp, a wrapper, proto3 optional, repeated messages and
 * a map; tests/lib/peers.py payments), decode and featurise to identical feature rows, record by
 * record, bit for bit (dense values, sparse indices and values), through the stateful transforms too. */
#include "features/featurize.h"
#include "peers.h"

#define N_PAYMENTS 2000

static const char FEATURES[] =
    "features:\n"
    "  - {name: amount, field: /amount, transforms: [log1p, standardize]}\n"
    "  - {name: amount_raw, field: /amount, transforms: [minmax]}\n"
    "  - {name: kind, field: /kind, transforms: [{one_hot: 8}]}\n"
    "  - {name: installments, field: /installments, transforms: [standardize]}\n"
    "  - {name: discount, field: /discount, transforms: [{impute: mean}, standardize]}\n"
    "  - {name: hour, field: /created, transforms: [hour_of_day, {one_hot: 24}]}\n"
    "  - {name: dow, field: /created, transforms: [day_of_week, {one_hot: 7}]}\n"
    "  - {name: country, field: /merchant/country, transforms: [{hash: 64}]}\n"
    "  - {name: mcc, field: /merchant/mcc, transforms: [{one_hot: 8}]}\n"
    "  - {name: tip, field: /tip, transforms: [{impute: mean}]}\n"
    "  - {name: item0, field: /items/0/price, transforms: [{impute: 0}, standardize]}\n"
    "  - {name: channel, field: /attrs/channel, transforms: [{impute: 0}, {hash: 16}]}\n"
    "  - {name: first_time, field: /first_time, transforms: [{one_hot: 2}]}\n"
    "  - {name: txn, field: /txn_id, transforms: [{hash: 32}]}\n";
/* Avro and JSON also carry the day (an Avro date; an ISO date in JSON); Protobuf has no date type. */
static const char DAY[] = "  - {name: day, field: /day, transforms: [day_of_week, {one_hot: 7}]}\n";

typedef struct {
    rtml_config cfg;
    rtml_featurizer *fz;
    rtml_decoder *dec;
    size_t n_fields;
    rtml_value *values;
} side;

static int side_open(side *s, const char *input, int with_day) {
    char yaml[4096], err[RTML_ERRLEN];
    snprintf(yaml, sizeof yaml, "input: %s\n%s%s", input, FEATURES, with_day ? DAY : "");
    memset(s, 0, sizeof *s);
    if (rtml_config_parse("parity.yaml", yaml, strlen(yaml), &s->cfg, err, sizeof err) != 0 ||
        !(s->fz = rtml_featurizer_new(&s->cfg, err, sizeof err))) {
        fprintf(stderr, "  %s\n", err);
        return -1;
    }
    const char *const *fields = rtml_featurizer_fields(s->fz, &s->n_fields);
    s->values = calloc(s->n_fields, sizeof *s->values);
    if (!(s->dec = rtml_decoder_open(&s->cfg, fields, s->n_fields, err, sizeof err))) {
        fprintf(stderr, "  %s\n", err);
        return -1;
    }
    return 0;
}

static void side_close(side *s) {
    rtml_decoder_close(s->dec);
    rtml_featurizer_free(s->fz);
    free(s->values);
    rtml_config_free(&s->cfg);
}

/* Decode and featurise one record; the row points into the featurizer until its next record. */
static int side_row(side *s, const uint8_t *data, size_t len, rtml_row *row) {
    char err[RTML_ERRLEN];
    if (rtml_decode(s->dec, (const char *)data, len, s->values, err, sizeof err) != 0) {
        fprintf(stderr, "  decode: %s\n", err);
        return -1;
    }
    rtml_reject r = rtml_featurizer_apply(s->fz, s->values, row, err, sizeof err);
    if (r != RTML_REJECT_NONE) fprintf(stderr, "  featurise: %s: %s\n", rtml_reject_name(r), err);
    return r == RTML_REJECT_NONE ? 0 : -1;
}

static int rows_equal(const rtml_row *a, const rtml_row *b, size_t n_dense) {
    return memcmp(a->dense, b->dense, n_dense * sizeof *a->dense) == 0 && a->nnz == b->nnz &&
           memcmp(a->idx, b->idx, a->nnz * sizeof *a->idx) == 0 && memcmp(a->val, b->val, a->nnz * sizeof *a->val) == 0;
}

static char *slurp(const char *path, size_t *n_lines) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    rtml_buf b = RTML_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) rtml_buf_append(&b, chunk, n);
    fclose(f);
    *n_lines = 0;
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n') b.data[i] = '\0', ++*n_lines;
    return b.data;
}

static void test_parity(void) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/.venv/bin/python' '%s/tests/lib/peers.py' payments '%s' "
             "'%s/tests/integration/data/payment.avsc' %d 24 '%s'",
             peers_root, peers_root, peers_path("peers.desc"), peers_root, N_PAYMENTS, peers_tmp);
    CHECK_EQ_INT(peers_sh(cmd), 0);
    char avsc[1200], in_avro[1400], in_pb[1400];
    snprintf(avsc, sizeof avsc, "%s/tests/integration/data/payment.avsc", peers_root);
    snprintf(in_avro, sizeof in_avro, "{format: avro, schema: '%s'}", avsc);
    snprintf(in_pb, sizeof in_pb, "{format: protobuf, schema: '%s', message: rtml.peers.Payment}",
             peers_path("peers.desc"));
    side json, json_day, avro, pb;
    int ok = side_open(&json, "{format: json}", 0) == 0 && side_open(&json_day, "{format: json}", 1) == 0 &&
             side_open(&avro, in_avro, 1) == 0 && side_open(&pb, in_pb, 0) == 0;
    CHECK(ok);
    size_t nj = 0, na = 0, np = 0;
    char *tj = slurp(peers_path("payments.jsonl"), &nj), *ta = slurp(peers_path("payments.avro.hex"), &na),
         *tp = slurp(peers_path("payments.pb.hex"), &np);
    CHECK(tj && ta && tp && nj == N_PAYMENTS && na == N_PAYMENTS && np == N_PAYMENTS);
    size_t same_pb = 0, same_avro = 0, read = 0, n_dense = rtml_featurizer_shape(json.fz).n_dense;
    size_t n_dense_day = rtml_featurizer_shape(json_day.fz).n_dense;
    const char *lj = tj, *la = ta, *lp = tp;
    for (size_t i = 0; ok && tj && ta && tp && i < N_PAYMENTS && i < nj && i < na && i < np; i++) {
        blob a = peers_unhex(la), p = peers_unhex(lp);
        rtml_row rj, rjd, ra, rp;
        if (side_row(&json, (const uint8_t *)lj, strlen(lj), &rj) == 0 &&
            side_row(&json_day, (const uint8_t *)lj, strlen(lj), &rjd) == 0 &&
            side_row(&avro, a.data, a.len, &ra) == 0 && side_row(&pb, p.data, p.len, &rp) == 0) {
            read++;
            same_pb += rows_equal(&rj, &rp, n_dense);
            same_avro += rows_equal(&rjd, &ra, n_dense_day);
        }
        free(a.data);
        free(p.data);
        lj += strlen(lj) + 1, la += strlen(la) + 1, lp += strlen(lp) + 1;
    }
    fprintf(stderr, "  %zu payments: %zu read in all formats; rows equal to JSON's: avro %zu, protobuf %zu\n",
            (size_t)N_PAYMENTS, read, same_avro, same_pb);
    CHECK_EQ_INT(read, N_PAYMENTS);
    CHECK_EQ_INT(same_avro, N_PAYMENTS);
    CHECK_EQ_INT(same_pb, N_PAYMENTS);
    free(tj);
    free(ta);
    free(tp);
    side_close(&json);
    side_close(&json_day);
    side_close(&avro);
    side_close(&pb);
}

int main(void) {
    if (peers_setup() != 0) {
        fprintf(stderr, "test_format_parity: set-up failed (protoc, .venv's protobuf and fastavro)\n");
        return 1;
    }
    test_parity();
    peers_cleanup();
    return check_exit("test_format_parity");
}
