/* test_config.c — unit tests for config.c: the YAML a user writes, read strictly into rtml_config.
 *
 * Covers a full config field by field, the defaults, every error path with its exact "name:LINE: key"
 * prefix, the print -> parse round trip, and the files under tests/data/configs (good_*.yaml must load,
 * bad_*.yaml must fail) plus examples/quickstart.yaml, found through $RTML_TESTDATA. */
#include "check.h"
#include "config/config.h"
#include "config/input.h"
#include "config/model.h"
#include "config/scale.h"
#include "engine/engine.h"
#include "base/rtml.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------------------- */

static int parse(const char *yaml, rtml_config *cfg, char *err) {
    return rtml_config_parse("ex.yaml", yaml, strlen(yaml), cfg, err, RTML_ERRLEN);
}

static int is_zeroed(const rtml_config *cfg) {
    static const rtml_config zero;
    return memcmp(cfg, &zero, sizeof zero) == 0;
}

/* yaml must fail with a message that starts with prefix and contains reason; the struct is left empty. */
static void expect_error_at(int line, const char *yaml, const char *prefix, const char *reason) {
    rtml_config cfg;
    char err[RTML_ERRLEN] = "";
    int rc = parse(yaml, &cfg, err);
    int ok = rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, reason) != NULL;
    CHECK(ok);
    CHECK(is_zeroed(&cfg));
    if (!ok)
        fprintf(stderr, "  (test line %d) want \"%s...%s\", got rc=%d \"%s\"\n", line, prefix, reason, rc, err);
    if (rc == 0)
        rtml_config_free(&cfg);
}
#define EXPECT_ERROR(yaml, prefix, reason) expect_error_at(__LINE__, yaml, prefix, reason)

/* yaml must parse; the caller frees. */
static int expect_ok_at(int line, const char *yaml, rtml_config *cfg) {
    char err[RTML_ERRLEN] = "";
    int rc = parse(yaml, cfg, err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
        fprintf(stderr, "  (test line %d) unexpected error: %s\n", line, err);
    return rc;
}
#define EXPECT_OK(yaml, cfg) expect_ok_at(__LINE__, yaml, cfg)

static int str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static int features_equal(const rtml_config *a, const rtml_config *b) {
    if (a->n_features != b->n_features)
        return 0;
    for (size_t i = 0; i < a->n_features; i++) {
        const rtml_feature *x = &a->features[i], *y = &b->features[i];
        if (!str_eq(x->name, y->name) || !str_eq(x->field, y->field) || x->n_transforms != y->n_transforms)
            return 0;
        for (size_t j = 0; j < x->n_transforms; j++) {
            const rtml_transform *s = &x->transforms[j], *t = &y->transforms[j];
            if (s->kind != t->kind || s->a != t->a || s->b != t->b || s->n != t->n || s->n_bounds != t->n_bounds ||
                !str_eq(s->with, t->with))
                return 0;
            for (size_t k = 0; k < s->n_bounds; k++)
                if (s->bounds[k] != t->bounds[k])
                    return 0;
        }
    }
    return 1;
}

static int lists_equal(char *const *a, char *const *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!str_eq(a[i], b[i]))
            return 0;
    return 1;
}

static int input_equal(const rtml_config *a, const rtml_config *b) {
    return a->input.format == b->input.format && str_eq(a->input.schema, b->input.schema) &&
           str_eq(a->input.message, b->input.message) && a->input.csv_delimiter == b->input.csv_delimiter &&
           a->input.csv_header == b->input.csv_header && a->input.n_csv_columns == b->input.n_csv_columns &&
           lists_equal(a->input.csv_columns, b->input.csv_columns, a->input.n_csv_columns) &&
           a->input.max_record_bytes == b->input.max_record_bytes;
}

/* The model keys beyond engine, type, optimizer, learning rate, l2 and seed. */
static int model_tuning_equal(const rtml_config *a, const rtml_config *b) {
    if (a->model.n_hidden != b->model.n_hidden || a->model.n_classes != b->model.n_classes ||
        !a->model.classes != !b->model.classes)
        return 0;
    for (size_t i = 0; i < a->model.n_hidden; i++)
        if (a->model.hidden[i] != b->model.hidden[i])
            return 0;
    return a->model.task == b->model.task && a->model.schedule == b->model.schedule &&
           a->model.power_t == b->model.power_t && a->model.decay_every == b->model.decay_every &&
           a->model.decay_rate == b->model.decay_rate && a->model.l1 == b->model.l1 &&
           a->model.ftrl_alpha == b->model.ftrl_alpha && a->model.ftrl_beta == b->model.ftrl_beta &&
           a->model.loss == b->model.loss && a->model.huber_delta == b->model.huber_delta &&
           a->model.clip_gradient == b->model.clip_gradient && a->model.activation == b->model.activation &&
           a->model.batch == b->model.batch &&
           (!a->model.classes || lists_equal(a->model.classes, b->model.classes, a->model.n_classes));
}

/* Every field but path and line numbers. */
static int config_equal(const rtml_config *a, const rtml_config *b) {
    if (a->n_kafka != b->n_kafka || a->input.n_topics != b->input.n_topics)
        return 0;
    for (size_t i = 0; i < a->n_kafka; i++)
        if (!str_eq(a->kafka[i].key, b->kafka[i].key) || !str_eq(a->kafka[i].value, b->kafka[i].value))
            return 0;
    for (size_t i = 0; i < a->input.n_topics; i++)
        if (!str_eq(a->input.topics[i], b->input.topics[i]))
            return 0;
    return input_equal(a, b) && model_tuning_equal(a, b) && str_eq(a->output.schema, b->output.schema) &&
           str_eq(a->output.message, b->output.message) && a->output.has_schema_id == b->output.has_schema_id &&
           a->output.schema_id == b->output.schema_id &&
           features_equal(a, b) && str_eq(a->label.field, b->label.field) &&
           a->model.engine == b->model.engine && a->model.type == b->model.type &&
           a->model.optimizer == b->model.optimizer && a->model.learning_rate == b->model.learning_rate &&
           a->model.l2 == b->model.l2 && a->model.seed == b->model.seed && str_eq(a->output.topic, b->output.topic) &&
           a->output.format == b->output.format && a->delivery == b->delivery &&
           str_eq(a->state.dir, b->state.dir) && a->state.checkpoint_every_s == b->state.checkpoint_every_s &&
           str_eq(a->dead_letter.topic, b->dead_letter.topic) && str_eq(a->monitor.listen, b->monitor.listen);
}

/* Print cfg to a string (caller frees). */
static char *print_to_string(const rtml_config *cfg) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    rtml_config_print(cfg, f);
    fclose(f);
    return text;
}

/* print(cfg) must parse back to an equal config, and printing that must give the same text. */
static void check_round_trip_at(int line, const rtml_config *cfg) {
    char err[RTML_ERRLEN] = "";
    rtml_config back;
    char *text = print_to_string(cfg);
    CHECK(text != NULL);
    if (!text)
        return;
    int rc = rtml_config_parse("printed.yaml", text, strlen(text), &back, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        char *again = print_to_string(&back);
        CHECK(config_equal(cfg, &back));
        CHECK_STR(again, text);
        free(again);
        rtml_config_free(&back);
    } else {
        fprintf(stderr, "  (test line %d) printed config does not parse: %s\n%s", line, err, text);
    }
    free(text);
}
#define CHECK_ROUND_TRIP(cfg) check_round_trip_at(__LINE__, cfg)

static const char *testdata(void) {
    const char *d = getenv("RTML_TESTDATA");
    return d ? d : "tests/data";
}

/* ---- good configs --------------------------------------------------------------------------------- */

static void check_full(const rtml_config *cfg) {
    CHECK_EQ_INT(cfg->n_kafka, 4);
    CHECK_STR(cfg->kafka[0].key, "bootstrap.servers");
    CHECK_STR(cfg->kafka[0].value, "127.0.0.1:9092");
    CHECK_EQ_INT(cfg->kafka[0].line, 3);
    CHECK_STR(cfg->kafka[2].key, "enable.auto.commit");
    CHECK_STR(cfg->kafka[2].value, "false");
    CHECK_STR(cfg->kafka[3].value, "1");
    CHECK_STR(rtml_config_kafka(cfg, "group.id"), "fraud-scorer");
    CHECK(rtml_config_kafka(cfg, "client.id") == NULL);
    CHECK_EQ_INT(cfg->input.n_topics, 2);
    CHECK_STR(cfg->input.topics[1], "transactions-eu");
    CHECK_EQ_INT(cfg->input.format, RTML_FMT_CSV);
    CHECK_EQ_INT(cfg->n_features, 3);
    CHECK_STR(cfg->features[0].name, "amount");
    CHECK_EQ_INT(cfg->features[0].line, 11);
    CHECK_EQ_INT(cfg->features[0].n_transforms, 2);
    CHECK_EQ_INT(cfg->features[0].transforms[0].kind, RTML_TX_LOG1P);
    CHECK_EQ_INT(cfg->features[0].transforms[1].kind, RTML_TX_STANDARDIZE);
    CHECK_STR(cfg->features[1].field, "/a~1b/c~0d");
    CHECK_EQ_INT(cfg->features[1].transforms[0].kind, RTML_TX_CLIP);
    CHECK_NEAR(cfg->features[1].transforms[0].a, -5, 0);
    CHECK_NEAR(cfg->features[1].transforms[0].b, 5.5, 0);
    CHECK_STR(cfg->features[2].field, "/hour");
    CHECK_EQ_INT(cfg->features[2].n_transforms, 0);
    CHECK_EQ_INT(cfg->features[2].line, 17);
    CHECK_STR(cfg->label.field, "/is_fraud");
    CHECK_STR(rtml_engine_kind_name(cfg->model.engine), "native");
    CHECK_STR(rtml_model_type_name(cfg->model.type), "mlp");
    CHECK_STR(rtml_opt_name(cfg->model.optimizer), "adam");
    CHECK_NEAR(cfg->model.learning_rate, 0.01, 0);
    CHECK_NEAR(cfg->model.l2, 0.001, 0);
    CHECK_EQ_INT(cfg->model.seed, 42);
    CHECK_STR(cfg->output.topic, "transactions-scored");
    CHECK_EQ_INT(cfg->output.format, RTML_FMT_AVRO);
    CHECK_EQ_INT(cfg->delivery, RTML_DELIVERY_EXACTLY_ONCE);
    CHECK_STR(cfg->state.dir, "/var/lib/rtml");
    CHECK_NEAR(cfg->state.checkpoint_every_s, 0.5, 1e-12);
    CHECK_STR(cfg->dead_letter.topic, "transactions-dlq");
    CHECK_STR(cfg->monitor.listen, "127.0.0.1:9464");
}

static void test_full_file(void) {
    char path[1024], err[RTML_ERRLEN] = "";
    rtml_config cfg;
    snprintf(path, sizeof path, "%s/configs/good_full.yaml", testdata());
    int rc = rtml_config_load(path, &cfg, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_STR(cfg.path, path);
    check_full(&cfg);
    /* CSV from a header row is fine for replay, but `run` needs the columns named (no header in a topic) */
    CHECK_EQ_INT(rtml_config_check_run(&cfg, err, sizeof err), -1);
    CHECK(strstr(err, "input.csv.columns: required by `rtml run`") != NULL);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
    CHECK(is_zeroed(&cfg));
    rtml_config_free(&cfg); /* safe twice: free leaves it zeroed */
}

static void test_defaults(void) {
    rtml_config cfg;
    if (EXPECT_OK("features:\n  - name: x\n", &cfg) != 0)
        return;
    CHECK_STR(cfg.path, "ex.yaml");
    CHECK_EQ_INT(cfg.n_kafka, 0);
    CHECK_EQ_INT(cfg.input.n_topics, 0);
    CHECK_EQ_INT(cfg.input.format, RTML_FMT_JSON);
    CHECK_STR(cfg.features[0].field, "/x");
    CHECK_EQ_INT(cfg.features[0].line, 2);
    CHECK(cfg.label.field == NULL);
    CHECK_STR(rtml_engine_kind_name(cfg.model.engine), "native");
    CHECK_STR(rtml_model_type_name(cfg.model.type), "logistic");
    CHECK_STR(rtml_opt_name(cfg.model.optimizer), "sgd");
    CHECK_NEAR(cfg.model.learning_rate, 0.05, 0);
    CHECK_NEAR(cfg.model.l2, 0, 0);
    CHECK_EQ_INT(cfg.model.seed, 1);
    CHECK(cfg.output.topic == NULL);
    CHECK_EQ_INT(cfg.output.format, RTML_FMT_JSON);
    CHECK_EQ_INT(cfg.delivery, RTML_DELIVERY_AT_LEAST_ONCE);
    CHECK_STR(cfg.state.dir, "./state");
    CHECK_NEAR(cfg.state.checkpoint_every_s, 10, 0);
    CHECK(cfg.dead_letter.topic == NULL);
    CHECK(cfg.monitor.listen == NULL);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_shorthands(void) {
    rtml_config cfg;
    /* a single topic string; learning_rate directly under model; optimizer as a name; field defaulted
     * with RFC 6901 escapes; an anchor without an alias is fine; quoted numbers are numbers. */
    if (EXPECT_OK("input: {topics: sea}\n"
                  "features:\n  - name: a/b~c\n  - {name: y, field: /}\n"
                  "model: {optimizer: momentum, learning_rate: '0.5', seed: 18446744073709551615, l2: 0}\n"
                  "kafka: &k {linger.ms: 5, x: 'quoted', t: true, f: 1.50, n: ~}\n",
                  &cfg) != 0)
        return;
    CHECK_EQ_INT(cfg.input.n_topics, 1);
    CHECK_STR(cfg.input.topics[0], "sea");
    CHECK_STR(cfg.features[0].field, "/a~1b~0c");
    CHECK_STR(cfg.features[1].field, "/");
    CHECK_STR(rtml_opt_name(cfg.model.optimizer), "momentum");
    CHECK_NEAR(cfg.model.learning_rate, 0.5, 0);
    CHECK(cfg.model.seed == 18446744073709551615ULL);
    CHECK_STR(rtml_config_kafka(&cfg, "linger.ms"), "5");
    CHECK_STR(rtml_config_kafka(&cfg, "x"), "quoted");
    CHECK_STR(rtml_config_kafka(&cfg, "t"), "true");
    CHECK_STR(rtml_config_kafka(&cfg, "f"), "1.50");
    CHECK_STR(rtml_config_kafka(&cfg, "n"), "~");
    CHECK_EQ_INT(cfg.kafka[4].line, 6);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_durations(void) {
    static const struct { const char *text; double secs; } cases[] = {
        {"10s", 10}, {"500ms", 0.5}, {"2m", 120}, {"1h", 3600}, {"3", 3}, {"1.5", 1.5}, {"0.25h", 900}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[128];
        rtml_config cfg;
        snprintf(yaml, sizeof yaml, "features: [{name: x}]\nstate: {checkpoint_every: %s}\n", cases[i].text);
        if (EXPECT_OK(yaml, &cfg) != 0)
            continue;
        CHECK_NEAR(cfg.state.checkpoint_every_s, cases[i].secs, 1e-12);
        rtml_config_free(&cfg);
    }
}

static void test_enums(void) {
    static const char *const types[] = {"linear", "logistic", "softmax", "ftrl", "mlp"};
    static const char *const formats[] = {"json", "csv", "avro", "protobuf"};
    static const char *const needs[] = {"", "", ", schema: t.avsc", ", schema: t.desc, message: a.B"};
    for (size_t i = 0; i < 5; i++) {
        char yaml[256];
        rtml_config cfg;
        snprintf(yaml, sizeof yaml, "features: [{name: x}]\nmodel: {type: %s%s}\ninput: {format: %s%s}\n", types[i],
                 i == 2 ? ", classes: 3" : "", formats[i % 4], needs[i % 4]);
        if (EXPECT_OK(yaml, &cfg) != 0)
            continue;
        CHECK_STR(rtml_model_type_name(cfg.model.type), types[i]);
        CHECK_STR(rtml_format_name(cfg.input.format), formats[i % 4]);
        rtml_config_free(&cfg);
    }
    CHECK_STR(rtml_format_name(RTML_FMT_PROTOBUF), "protobuf");
    CHECK_STR(rtml_format_name((rtml_format)99), "?");
}

/* Strings that plain YAML would misread must survive print -> parse. */
static void test_round_trip_strings(void) {
    rtml_config cfg;
    const char *yaml =
        "kafka:\n"
        "  'key: with colon': \"null\"\n"
        "  '#hash': '- dash'\n"
        "  '...dots': \"tab\\there\\nnewline \\\"quote\\\" back\\\\slash\"\n"
        "  sasl.username: \"\\u00e9t\\u00e9 \\u2028 sep \\U0001F600 \\x7f del \\x01\"\n"
        "  'trail:': ''\n"
        "  'true': '~'\n"
        "  '12': ' lead space'\n"
        "input: {topics: ['a b', ' ', -x, '[x]', 'NULL']}\n"
        "features:\n"
        "  - {name: 'é ~/', transforms: [{clip: [-1e300, 0.1]}, {clip: [1e-300, 0.30000000000000004]}]}\n"
        "  - {name: '&x', field: '/*y'}\n"
        "model: {learning_rate: 0.1, l2: 1e-9, seed: 0}\n"
        "output: {topic: '{out}'}\n"
        "state: {dir: 'C:\\dir with space', checkpoint_every: 1ms}\n"
        "dead_letter: {topic: '!dlq'}\n"
        "monitor: {listen: '[::1]:65535'}\n"
        "label: {field: '/%'}\n";
    if (EXPECT_OK(yaml, &cfg) != 0)
        return;
    CHECK_STR(cfg.kafka[0].value, "null");
    CHECK_STR(cfg.input.topics[1], " ");
    CHECK_STR(cfg.input.topics[4], "NULL");
    CHECK_STR(cfg.features[0].field, "/é ~0~1");
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_round_trip_zeroed(void) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char *text = print_to_string(&cfg); /* prints without crashing; has no features, so does not parse */
    CHECK(text && strstr(text, "features: []") != NULL);
    free(text);
    rtml_config_free(&cfg);
    rtml_config_free(NULL);
}

/* Every transform kind with its parameters. */
static void test_transform_kinds(void) {
    rtml_config cfg;
    if (EXPECT_OK("features:\n"
                  "  - {name: a, transforms: [{impute: mean}, minmax, {bucketize: [-1, 0.5, 1e3]}, {one_hot: 4}]}\n"
                  "  - {name: b, transforms: [{impute: -2.5}, log1p, {clip: [0, 1]}, standardize]}\n"
                  "  - {name: ts, transforms: [hour_of_day, {hash: 268435456}]}\n"
                  "  - {name: dow, field: /ts, transforms: [day_of_week]}\n"
                  "  - name: pair\n    field: /m\n    transforms:\n      - cross: {with: '/c:d', buckets: 1024}\n"
                  "  - {name: text, transforms: [{bag_of_words: 65536}]}\n"
                  "  - {name: emb, transforms: [{array: 8}]}\n"
                  "  - {name: one, transforms: [{one_hot: 1000000}]}\n",
                  &cfg) != 0)
        return;
    const rtml_transform *a = cfg.features[0].transforms, *b = cfg.features[1].transforms;
    CHECK_EQ_INT(a[0].kind, RTML_TX_IMPUTE_MEAN);
    CHECK_EQ_INT(a[1].kind, RTML_TX_MINMAX);
    CHECK_EQ_INT(a[2].kind, RTML_TX_BUCKETIZE);
    CHECK(a[2].n_bounds == 3 && a[2].bounds[0] == -1 && a[2].bounds[1] == 0.5 && a[2].bounds[2] == 1000);
    CHECK(a[3].kind == RTML_TX_ONE_HOT && a[3].n == 4);
    CHECK(b[0].kind == RTML_TX_IMPUTE_CONST && b[0].a == -2.5);
    CHECK(b[2].kind == RTML_TX_CLIP && b[3].kind == RTML_TX_STANDARDIZE);
    CHECK_EQ_INT(cfg.features[2].transforms[0].kind, RTML_TX_HOUR_OF_DAY);
    CHECK(cfg.features[2].transforms[1].kind == RTML_TX_HASH && cfg.features[2].transforms[1].n == 268435456);
    CHECK_EQ_INT(cfg.features[3].transforms[0].kind, RTML_TX_DAY_OF_WEEK);
    const rtml_transform *x = cfg.features[4].transforms;
    CHECK(x->kind == RTML_TX_CROSS && x->n == 1024);
    CHECK_STR(x->with, "/c:d");
    CHECK(cfg.features[5].transforms[0].kind == RTML_TX_BAG_OF_WORDS && cfg.features[5].transforms[0].n == 65536);
    CHECK(cfg.features[6].transforms[0].kind == RTML_TX_ARRAY && cfg.features[6].transforms[0].n == 8);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_new_defaults(void) {
    rtml_config cfg;
    if (EXPECT_OK("features:\n  - name: x\n", &cfg) != 0)
        return;
    CHECK(cfg.input.schema == NULL && cfg.input.message == NULL && cfg.input.csv_columns == NULL);
    CHECK_EQ_INT(cfg.input.csv_delimiter, ',');
    CHECK_EQ_INT(cfg.input.csv_header, 1);
    CHECK_EQ_INT(cfg.input.max_record_bytes, 1048576);
    CHECK_STR(rtml_task_name(cfg.model.task), "binary");
    CHECK_STR(rtml_sched_name(cfg.model.schedule), "constant");
    CHECK_NEAR(cfg.model.power_t, 0.5, 0);
    CHECK_NEAR(cfg.model.decay_every, 10000, 0);
    CHECK_NEAR(cfg.model.decay_rate, 0.5, 0);
    CHECK_NEAR(cfg.model.l1, 0, 0);
    CHECK_NEAR(cfg.model.ftrl_alpha, 0.1, 0);
    CHECK_NEAR(cfg.model.ftrl_beta, 1, 0);
    CHECK_STR(rtml_loss_name(cfg.model.loss), "squared");
    CHECK_NEAR(cfg.model.huber_delta, 1, 0);
    CHECK_NEAR(cfg.model.clip_gradient, 0, 0);
    CHECK(cfg.model.hidden == NULL && cfg.model.n_hidden == 0);
    CHECK_STR(rtml_activation_name(cfg.model.activation), "relu");
    CHECK_EQ_INT(cfg.model.batch, 1);
    CHECK(cfg.model.classes == NULL && cfg.model.n_classes == 0);
    CHECK(cfg.output.schema == NULL);
    rtml_config_free(&cfg);
    static const struct { const char *type, *task; } implied[] = {
        {"linear", "regression"}, {"logistic", "binary"}, {"ftrl", "binary"}, {"mlp", "binary"}};
    for (size_t i = 0; i < 4; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "features: [{name: x}]\nmodel: {type: %s}\n", implied[i].type);
        if (EXPECT_OK(yaml, &cfg) != 0)
            continue;
        CHECK_STR(rtml_task_name(cfg.model.task), implied[i].task);
        rtml_config_free(&cfg);
    }
}

static void test_model_keys(void) {
    rtml_config cfg;
    if (EXPECT_OK("features: [{name: x}]\n"
                  "model:\n  type: mlp\n  task: multiclass\n  optimizer: adam\n  schedule: step\n  power_t: 0.25\n"
                  "  decay_every: 500\n  decay_rate: 1\n  l2: 0.01\n  l1: 0.5\n  ftrl: {alpha: 0.2, beta: 0}\n"
                  "  loss: huber\n  huber_delta: 2.5\n  clip_gradient: 10\n  hidden: [32, 16, 4096]\n"
                  "  activation: tanh\n  batch: 65536\n  classes: [cat, dog, '1', 'null']\n  seed: 7\n",
                  &cfg) != 0)
        return;
    CHECK_STR(rtml_task_name(cfg.model.task), "multiclass");
    CHECK_STR(rtml_sched_name(cfg.model.schedule), "step");
    CHECK_NEAR(cfg.model.power_t, 0.25, 0);
    CHECK_NEAR(cfg.model.decay_every, 500, 0);
    CHECK_NEAR(cfg.model.decay_rate, 1, 0);
    CHECK_NEAR(cfg.model.l1, 0.5, 0);
    CHECK_NEAR(cfg.model.ftrl_alpha, 0.2, 0);
    CHECK_NEAR(cfg.model.ftrl_beta, 0, 0);
    CHECK_STR(rtml_loss_name(cfg.model.loss), "huber");
    CHECK_NEAR(cfg.model.huber_delta, 2.5, 0);
    CHECK_NEAR(cfg.model.clip_gradient, 10, 0);
    CHECK(cfg.model.n_hidden == 3 && cfg.model.hidden[0] == 32 && cfg.model.hidden[2] == 4096);
    CHECK_STR(rtml_activation_name(cfg.model.activation), "tanh");
    CHECK_EQ_INT(cfg.model.batch, 65536);
    CHECK_EQ_INT(cfg.model.n_classes, 4);
    CHECK_STR(cfg.model.classes[2], "1");
    CHECK_STR(cfg.model.classes[3], "null");
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
    if (EXPECT_OK("features: [{name: x}]\nmodel: {type: softmax, classes: 10, task: multiclass}\n", &cfg) != 0)
        return;
    CHECK(cfg.model.classes == NULL && cfg.model.n_classes == 10);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_input_keys(void) {
    rtml_config cfg;
    if (EXPECT_OK("features: [{name: x}]\n"
                  "input:\n  format: csv\n  max_record_bytes: 4096\n"
                  "  csv: {delimiter: \"\\t\", header: false, columns: [ts, amount, 'a b']}\n",
                  &cfg) == 0) {
        CHECK_EQ_INT(cfg.input.csv_delimiter, '\t');
        CHECK_EQ_INT(cfg.input.csv_header, 0);
        CHECK_EQ_INT(cfg.input.n_csv_columns, 3);
        CHECK_STR(cfg.input.csv_columns[2], "a b");
        CHECK_EQ_INT(cfg.input.max_record_bytes, 4096);
        CHECK_ROUND_TRIP(&cfg);
        rtml_config_free(&cfg);
    }
    if (EXPECT_OK("features: [{name: x}]\ninput: {format: csv, csv: {delimiter: ';', header: True}}\n", &cfg) == 0) {
        CHECK_EQ_INT(cfg.input.csv_delimiter, ';');
        CHECK_EQ_INT(cfg.input.csv_header, 1);
        CHECK_ROUND_TRIP(&cfg);
        rtml_config_free(&cfg);
    }
    if (EXPECT_OK("features: [{name: x}]\ninput: {format: protobuf, schema: txn.desc, message: shop.v1.Txn}\n"
                  "output: {format: avro, schema: out.avsc, topic: o}\n",
                  &cfg) == 0) {
        CHECK_STR(cfg.input.schema, "txn.desc");
        CHECK_STR(cfg.input.message, "shop.v1.Txn");
        CHECK_STR(cfg.output.schema, "out.avsc");
        CHECK(!cfg.output.has_schema_id);
        CHECK_ROUND_TRIP(&cfg);
        rtml_config_free(&cfg);
    }
    if (EXPECT_OK("features: [{name: x}]\noutput: {format: protobuf, schema: p.desc, message: shop.v1.Prediction, "
                  "schema_id: 0, topic: o}\n",
                  &cfg) == 0) {
        CHECK(cfg.output.format == RTML_FMT_PROTOBUF);
        CHECK_STR(cfg.output.message, "shop.v1.Prediction");
        CHECK(cfg.output.has_schema_id && cfg.output.schema_id == 0);
        CHECK_ROUND_TRIP(&cfg);
        rtml_config_free(&cfg);
    }
}

/* ---- errors --------------------------------------------------------------------------------------- */

static void test_yaml_errors(void) {
    EXPECT_ERROR("features:\n  - {name: x\ninput: 1\n", "ex.yaml:3: YAML syntax error: ", "flow mapping");
    EXPECT_ERROR("a: b\n c: d\n", "ex.yaml:2: YAML syntax error: ", "mapping values are not allowed");
    EXPECT_ERROR("features: [{name: \"\xff\"}]\n", "ex.yaml:1: YAML syntax error: ", "UTF-8");
    EXPECT_ERROR("", "ex.yaml:1: empty config", "");
    EXPECT_ERROR("# nothing here\n\n", "ex.yaml:1: empty config", "");
    EXPECT_ERROR("---\n", "ex.yaml:1: empty config", "");
    EXPECT_ERROR("~\n", "ex.yaml:1: empty config", "");
    EXPECT_ERROR("features: &f [{name: x}]\nx: *f\n", "ex.yaml:2: *f: ", "YAML aliases are not supported");
    EXPECT_ERROR("features: [{name: x}]\n---\nfeatures: [{name: y}]\n", "ex.yaml:2: ---: ", "one YAML document");
    char deep[200];
    snprintf(deep, sizeof deep, "features: [{name: x}]\nkafka: %.33s\n", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
    EXPECT_ERROR(deep, "ex.yaml:2: YAML nesting deeper than 32 levels", "");
}

static void test_top_level_errors(void) {
    EXPECT_ERROR("- a\n- b\n", "ex.yaml:1: top level: ", "must be a mapping, got a list");
    EXPECT_ERROR("hello\n", "ex.yaml:1: top level: ", "must be a mapping, got 'hello'");
    EXPECT_ERROR("features: [{name: x}]\ninputs:\n  topics: [a]\n", "ex.yaml:2: inputs: ",
                 "unknown key (expected one of: kafka, input, aggregates, features, label, model, output, delivery, state, "
                 "dead_letter, monitor, drift, log, role, workers, models, serve)");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {}\ndelivery: at_least_once\nmodel: {}\n", "ex.yaml:4: model: ",
                 "duplicate key (first at line 2)");
    EXPECT_ERROR("features: [{name: x}]\n? [a]\n: b\n", "ex.yaml:2: top level: ", "keys must be non-empty strings");
    EXPECT_ERROR("features: [{name: x}]\n'': b\n", "ex.yaml:2: top level: ", "keys must be non-empty strings");
    EXPECT_ERROR("model: {type: linear}\n", "ex.yaml:1: features: ", "required");
}

static void test_feature_errors(void) {
    EXPECT_ERROR("features: {name: x}\n", "ex.yaml:1: features: ", "must be a list, got a mapping");
    EXPECT_ERROR("features:\n", "ex.yaml:1: features: ", "must be a list, got null");
    EXPECT_ERROR("features: []\n", "ex.yaml:1: features: ", "at least one feature");
    EXPECT_ERROR("features:\n  - x\n", "ex.yaml:2: features[0]: ", "must be a mapping, got 'x'");
    EXPECT_ERROR("features:\n  - {name: x, fields: /x}\n", "ex.yaml:2: features[0].fields: ",
                 "unknown key (expected one of: name, field, transforms, aggregate)");
    EXPECT_ERROR("features:\n  - {name: x, name: y}\n", "ex.yaml:2: features[0].name: ", "duplicate key");
    EXPECT_ERROR("features:\n  - name: x\n  - field: /y\n    transforms: []\n", "ex.yaml:3: features[1].name: ",
                 "required");
    EXPECT_ERROR("features:\n  - name: [x]\n", "ex.yaml:2: features[0].name: ", "must be a string, got a list");
    EXPECT_ERROR("features:\n  - name: ''\n", "ex.yaml:2: features[0].name: ", "must not be empty");
    EXPECT_ERROR("features:\n  - name:\n", "ex.yaml:2: features[0].name: ", "must be a string, got null");
    EXPECT_ERROR("features:\n  - name: \"a\\0b\"\n", "ex.yaml:2: features[0].name: ", "must be a string");
    EXPECT_ERROR("features:\n  - name: a\n  - name: b\n  - name: a\n", "ex.yaml:4: features[2].name: ",
                 "duplicate feature name 'a' (also at line 2)");
    EXPECT_ERROR("features:\n  - name: a\n  - name: b\n    field: b\n", "ex.yaml:4: features[1].field: ",
                 "must be a JSON Pointer starting with '/'");
    EXPECT_ERROR("features:\n  - {name: a, field: /a~2}\n", "ex.yaml:2: features[0].field: ",
                 "'~' must be followed by 0 or 1");
    EXPECT_ERROR("features:\n  - {name: a, field: /a~}\n", "ex.yaml:2: features[0].field: ",
                 "'~' must be followed by 0 or 1");
    EXPECT_ERROR("features:\n  - {name: a, field: {x: 1}}\n", "ex.yaml:2: features[0].field: ",
                 "must be a string, got a mapping");
}

static void test_transform_errors(void) {
    EXPECT_ERROR("features:\n  - {name: a, transforms: standardize}\n", "ex.yaml:2: features[0].transforms: ",
                 "must be a list, got 'standardize'");
    EXPECT_ERROR("features:\n  - {name: a}\n  - {name: b}\n  - name: c\n    transforms: [log1p, standardise]\n",
                 "ex.yaml:5: features[2].transforms[1]: ",
                 "unknown transform 'standardise' (expected standardize, minmax, log1p, clip, impute, bucketize, "
                 "hour_of_day, day_of_week, one_hot, hash, cross, bag_of_words, array)");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [clip]}\n", "ex.yaml:2: features[0].transforms[0]: ",
                 "clip needs a parameter: write {clip: [lo, hi]}");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{clip: [0, 1], log1p: x}]}\n",
                 "ex.yaml:2: features[0].transforms[0]: ", "one-key mapping like {clip: [lo, hi]}");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{}]}\n", "ex.yaml:2: features[0].transforms[0]: ",
                 "one-key mapping");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{standardize: 1}]}\n",
                 "ex.yaml:2: features[0].transforms[0]: ", "takes no parameters");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{hashing: 1024}]}\n", "ex.yaml:2: features[0].transforms[0]: ",
                 "unknown transform 'hashing'");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [[log1p]]}\n", "ex.yaml:2: features[0].transforms[0]: ",
                 "got a list");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [~]}\n", "ex.yaml:2: features[0].transforms[0]: ", "got null");
    EXPECT_ERROR("features:\n  - name: a\n    transforms:\n      - clip: 5\n",
                 "ex.yaml:4: features[0].transforms[0].clip: ", "must be a list of two numbers [lo, hi], got '5'");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{clip: [1, 2, 3]}]}\n",
                 "ex.yaml:2: features[0].transforms[0].clip: ", "must be a list of two numbers");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{clip: [0, x]}]}\n",
                 "ex.yaml:2: features[0].transforms[0].clip[1]: ", "must be a number, got 'x'");
    EXPECT_ERROR("features:\n  - {name: a, transforms: [{clip: [2, 2]}]}\n",
                 "ex.yaml:2: features[0].transforms[0].clip: ", "lo must be less than hi, got [2, 2]");
}

static void test_new_transform_errors(void) {
#define TX(list) "features:\n  - name: a\n    transforms: " list "\n"
    const char *p0 = "ex.yaml:3: features[0].transforms[0]";
    EXPECT_ERROR(TX("[one_hot]"), p0, ": one_hot needs a parameter: write {one_hot: N}");
    EXPECT_ERROR(TX("[cross]"), p0, "cross needs a parameter: write {cross: {with: /field, buckets: N}}");
    EXPECT_ERROR(TX("[{minmax: 1}]"), p0, "transform 'minmax' takes no parameters");
    EXPECT_ERROR(TX("[{impute: median}]"), "ex.yaml:3: features[0].transforms[0].impute: ",
                 "must be 'mean' or a number, got 'median'");
    EXPECT_ERROR(TX("[{impute: [1]}]"), "ex.yaml:3: features[0].transforms[0].impute: ", "got a list");
    EXPECT_ERROR(TX("[{bucketize: []}]"), "ex.yaml:3: features[0].transforms[0].bucketize: ",
                 "must be a list of one or more increasing numbers, got an empty list");
    EXPECT_ERROR(TX("[{bucketize: 5}]"), "ex.yaml:3: features[0].transforms[0].bucketize: ", "got '5'");
    EXPECT_ERROR(TX("[{bucketize: [1, 2, 2]}]"), "ex.yaml:3: features[0].transforms[0].bucketize[2]: ",
                 "boundaries must be strictly increasing, got 2 after 2");
    EXPECT_ERROR(TX("[{bucketize: [1, x]}]"), "ex.yaml:3: features[0].transforms[0].bucketize[1]: ",
                 "must be a number, got 'x'");
    EXPECT_ERROR(TX("[{one_hot: 0}]"), "ex.yaml:3: features[0].transforms[0].one_hot: ",
                 "must be an integer from 1 to 1000000, got '0'");
    EXPECT_ERROR(TX("[{one_hot: 1000001}]"), "ex.yaml:3: features[0].transforms[0].one_hot: ", "1 to 1000000");
    EXPECT_ERROR(TX("[{one_hot: 2.5}]"), "ex.yaml:3: features[0].transforms[0].one_hot: ", "got '2.5'");
    EXPECT_ERROR(TX("[{hash: 268435457}]"), "ex.yaml:3: features[0].transforms[0].hash: ",
                 "must be an integer from 1 to 268435456");
    EXPECT_ERROR(TX("[{hash: 99999999999999999999}]"), "ex.yaml:3: features[0].transforms[0].hash: ", "got '9999");
    EXPECT_ERROR(TX("[{bag_of_words: -1}]"), "ex.yaml:3: features[0].transforms[0].bag_of_words: ", "got '-1'");
    EXPECT_ERROR(TX("[{array: 65537}]"), "ex.yaml:3: features[0].transforms[0].array: ", "from 1 to 65536");
    EXPECT_ERROR(TX("[{cross: /b}]"), "ex.yaml:3: features[0].transforms[0].cross: ", "must be a mapping, got '/b'");
    EXPECT_ERROR(TX("[{cross: {buckets: 8}}]"), "ex.yaml:3: features[0].transforms[0].cross.with: ", "required");
    EXPECT_ERROR(TX("[{cross: {with: /b}}]"), "ex.yaml:3: features[0].transforms[0].cross.buckets: ", "required");
    EXPECT_ERROR(TX("[{cross: {with: b, buckets: 8}}]"), "ex.yaml:3: features[0].transforms[0].cross.with: ",
                 "must be a JSON Pointer starting with '/'");
    EXPECT_ERROR(TX("[{cross: {with: /b, buckets: 0}}]"), "ex.yaml:3: features[0].transforms[0].cross.buckets: ",
                 "from 1 to 268435456");
    EXPECT_ERROR(TX("[{cross: {with: /b, buckets: 8, size: 1}}]"), "ex.yaml:3: features[0].transforms[0].cross.size: ",
                 "unknown key (expected one of: with, buckets)");
    /* chains */
    EXPECT_ERROR(TX("[{one_hot: 4}, standardize]"), p0,
                 ": a categorical transform (one_hot, hash, cross, bag_of_words) must be the last of its chain");
    EXPECT_ERROR(TX("[{hash: 4}, {one_hot: 4}]"), p0, "must be the last of its chain");
    EXPECT_ERROR(TX("[log1p, {impute: 0}]"), "ex.yaml:3: features[0].transforms[1]: ",
                 "impute must be the first transform");
    EXPECT_ERROR(TX("[{impute: 0}, {impute: mean}]"), "ex.yaml:3: features[0].transforms[1]: ",
                 "impute must be the first transform");
    EXPECT_ERROR(TX("[{array: 4}, standardize]"), p0, ": array must be the only transform of its feature");
    EXPECT_ERROR(TX("[{impute: 0}, {array: 4}]"), "ex.yaml:3: features[0].transforms[1]: ",
                 "array must be the only transform");
    EXPECT_ERROR(TX("[log1p, {bag_of_words: 8}]"), "ex.yaml:3: features[0].transforms[1]: ",
                 "bag_of_words reads text: it must be the only transform of its feature");
    EXPECT_ERROR(TX("[standardize, {one_hot: 8}]"), "ex.yaml:3: features[0].transforms[1]: ",
                 "one_hot needs strings or whole numbers; it cannot follow standardize");
    EXPECT_ERROR(TX("[{impute: mean}, {one_hot: 8}]"), "ex.yaml:3: features[0].transforms[1]: ", "bucketize first");
    EXPECT_ERROR("features:\n  - {name: a}\n  - {name: b}\n  - name: c\n    transforms:\n"
                 "      - {impute: 0}\n      - {one_hot: 3}\n      - log1p\n",
                 "ex.yaml:7: features[2].transforms[1]: ", "must be the last of its chain");
    char wide[1024] = "features:\n";
    for (int i = 0; i < 17; i++) /* 17 * 2^28 inputs: more than u32 indices reach */
        snprintf(wide + strlen(wide), sizeof wide - strlen(wide),
                 "  - {name: f%d, transforms: [{hash: 268435456}]}\n", i);
    EXPECT_ERROR(wide, "ex.yaml:2: features: ", "the features need 4563402752 inputs, more than the 4294967295");
#undef TX
}

static void test_new_model_errors(void) {
#define M(body) "features: [{name: x}]\nmodel:\n  " body "\n"
    EXPECT_ERROR(M("task: ranking"), "ex.yaml:3: model.task: ",
                 "unknown task 'ranking' (expected binary|regression|multiclass)");
    EXPECT_ERROR(M("type: linear\n  task: binary"), "ex.yaml:4: model.task: ",
                 "'binary' contradicts model.type linear, which is regression");
    EXPECT_ERROR(M("task: multiclass\n  type: softmax"), "ex.yaml:4: model.classes: ",
                 "required by a multiclass model");
    EXPECT_ERROR(M("type: softmax"), "ex.yaml:3: model.classes: ", "required by a multiclass model");
    EXPECT_ERROR(M("type: mlp\n  task: multiclass"), "ex.yaml:3: model.classes: ", "required by a multiclass model");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {task: multiclass}\n", "ex.yaml:2: model.task: ",
                 "'multiclass' contradicts model.type logistic, which is binary");
    EXPECT_ERROR(M("classes: [a, b]"), "ex.yaml:3: model.classes: ",
                 "only a multiclass model (type softmax, or mlp with task multiclass) has classes");
    EXPECT_ERROR(M("type: softmax\n  classes: [a]"), "ex.yaml:4: model.classes: ", "must list 2 to 65536 names, got 1");
    EXPECT_ERROR(M("type: softmax\n  classes: [a, b, a]"), "ex.yaml:4: model.classes[2]: ",
                 "duplicate name 'a' (also model.classes[0])");
    EXPECT_ERROR(M("type: softmax\n  classes: [a, '']"), "ex.yaml:4: model.classes[1]: ", "must not be empty");
    EXPECT_ERROR(M("type: softmax\n  classes: 1"), "ex.yaml:4: model.classes: ",
                 "must be a list of 2 or more class names or a number of classes >= 2, got '1'");
    EXPECT_ERROR(M("type: softmax\n  classes: many"), "ex.yaml:4: model.classes: ", "got 'many'");
    EXPECT_ERROR(M("type: softmax\n  classes: {a: 1}"), "ex.yaml:4: model.classes: ", "got a mapping");
    EXPECT_ERROR(M("schedule: cosine"), "ex.yaml:3: model.schedule: ",
                 "unknown schedule 'cosine' (expected constant|inverse_scaling|step)");
    EXPECT_ERROR(M("power_t: 0"), "ex.yaml:3: model.power_t: ", "must be a number > 0, got '0'");
    EXPECT_ERROR(M("decay_every: -5"), "ex.yaml:3: model.decay_every: ", "must be a number > 0");
    EXPECT_ERROR(M("decay_rate: 0"), "ex.yaml:3: model.decay_rate: ", "must be a number > 0");
    EXPECT_ERROR(M("decay_rate: 1.5"), "ex.yaml:3: model.decay_rate: ", "must be in (0, 1], got 1.5");
    EXPECT_ERROR(M("l1: -0.1"), "ex.yaml:3: model.l1: ", "must be a number >= 0");
    EXPECT_ERROR(M("ftrl: 0.1"), "ex.yaml:3: model.ftrl: ", "must be a mapping, got '0.1'");
    EXPECT_ERROR(M("ftrl: {alpha: 0}"), "ex.yaml:3: model.ftrl.alpha: ", "must be a number > 0");
    EXPECT_ERROR(M("ftrl: {beta: -1}"), "ex.yaml:3: model.ftrl.beta: ", "must be a number >= 0");
    EXPECT_ERROR(M("ftrl: {gamma: 1}"), "ex.yaml:3: model.ftrl.gamma: ", "unknown key (expected one of: alpha, beta)");
    EXPECT_ERROR(M("loss: hinge"), "ex.yaml:3: model.loss: ", "unknown loss 'hinge' (expected squared|huber)");
    EXPECT_ERROR(M("huber_delta: 0"), "ex.yaml:3: model.huber_delta: ", "must be a number > 0");
    EXPECT_ERROR(M("clip_gradient: -1"), "ex.yaml:3: model.clip_gradient: ", "must be a number >= 0");
    EXPECT_ERROR(M("hidden: []"), "ex.yaml:3: model.hidden: ", "must be a list of 1 to 3 layer sizes");
    EXPECT_ERROR(M("hidden: [1, 2, 3, 4]"), "ex.yaml:3: model.hidden: ", "got a list of another length");
    EXPECT_ERROR(M("hidden: 32"), "ex.yaml:3: model.hidden: ", "got '32'");
    EXPECT_ERROR(M("hidden: [32, 0]"), "ex.yaml:3: model.hidden[1]: ", "must be an integer from 1 to 4096, got '0'");
    EXPECT_ERROR(M("hidden: [4097]"), "ex.yaml:3: model.hidden[0]: ", "from 1 to 4096");
    EXPECT_ERROR(M("activation: sigmoid"), "ex.yaml:3: model.activation: ",
                 "unknown activation 'sigmoid' (expected relu|tanh)");
    EXPECT_ERROR(M("batch: 0"), "ex.yaml:3: model.batch: ", "must be an integer from 1 to 65536, got '0'");
    EXPECT_ERROR(M("batch: 65537"), "ex.yaml:3: model.batch: ", "from 1 to 65536");
#undef M
}

static void test_new_input_output_errors(void) {
#define IN(body) "features: [{name: x}]\ninput:\n  " body "\n"
    EXPECT_ERROR(IN("format: avro"), "ex.yaml:3: input.schema: ", "required by format avro (the .avsc file)");
    EXPECT_ERROR(IN("format: protobuf"), "ex.yaml:3: input.schema: ", "required by format protobuf");
    EXPECT_ERROR(IN("format: protobuf\n  schema: a.desc"), "ex.yaml:3: input.message: ",
                 "required by format protobuf (the fully qualified message name)");
    EXPECT_ERROR(IN("schema: a.avsc"), "ex.yaml:3: input.schema: ", "only used by format avro or protobuf, not json");
    EXPECT_ERROR(IN("format: avro\n  schema: a.avsc\n  message: M"), "ex.yaml:5: input.message: ",
                 "only used by format protobuf, not avro");
    EXPECT_ERROR(IN("csv: {header: false}"), "ex.yaml:3: input.csv: ", "only used by format csv, not json");
    EXPECT_ERROR(IN("format: csv\n  csv: {delimiter: '::'}"), "ex.yaml:4: input.csv.delimiter: ",
                 "must be one character other than a quote or a line break, got '::'");
    EXPECT_ERROR(IN("format: csv\n  csv: {delimiter: '\"'}"), "ex.yaml:4: input.csv.delimiter: ", "one character");
    EXPECT_ERROR(IN("format: csv\n  csv: {delimiter: \"\\n\"}"), "ex.yaml:4: input.csv.delimiter: ", "one character");
    EXPECT_ERROR(IN("format: csv\n  csv: {delimiter: ''}"), "ex.yaml:4: input.csv.delimiter: ", "must not be empty");
    EXPECT_ERROR(IN("format: csv\n  csv: {header: yes}"), "ex.yaml:4: input.csv.header: ",
                 "must be true or false, got 'yes'");
    EXPECT_ERROR(IN("format: csv\n  csv: {columns: []}"), "ex.yaml:4: input.csv.columns: ",
                 "must list 1 to 100000 names, got 0");
    EXPECT_ERROR(IN("format: csv\n  csv: {columns: [a, b, a]}"), "ex.yaml:4: input.csv.columns[2]: ",
                 "duplicate name 'a' (also input.csv.columns[0])");
    EXPECT_ERROR(IN("format: csv\n  csv: {columns: a}"), "ex.yaml:4: input.csv.columns: ", "must be a list, got 'a'");
    EXPECT_ERROR(IN("format: csv\n  csv: {quote: \"'\"}"), "ex.yaml:4: input.csv.quote: ",
                 "unknown key (expected one of: delimiter, header, columns)");
    EXPECT_ERROR(IN("max_record_bytes: 0"), "ex.yaml:3: input.max_record_bytes: ",
                 "must be an integer from 1 to 1073741824, got '0'");
    EXPECT_ERROR(IN("max_record_bytes: 1MB"), "ex.yaml:3: input.max_record_bytes: ", "got '1MB'");
    EXPECT_ERROR("features: [{name: x}]\noutput: {schema: p.avsc}\n", "ex.yaml:2: output.schema: ",
                 "only used by format avro or protobuf, not json");
    /* output.format protobuf (issue 24): a descriptor set and a message; schema_id frames avro and protobuf. */
    EXPECT_ERROR("features: [{name: x}]\noutput:\n  format: protobuf\n  message: a.P\n", "ex.yaml:3: output.schema: ",
                 "required by format protobuf");
    EXPECT_ERROR("features: [{name: x}]\noutput:\n  format: protobuf\n  schema: p.desc\n",
                 "ex.yaml:3: output.message: ", "required by format protobuf (the fully qualified message name)");
    EXPECT_ERROR("features: [{name: x}]\noutput: {format: avro, message: a.P}\n", "ex.yaml:2: output.message: ",
                 "only used by format protobuf, not avro");
    EXPECT_ERROR("features: [{name: x}]\noutput:\n  topic: o\n  schema_id: 3\n", "ex.yaml:4: output.schema_id: ",
                 "only used by format avro or protobuf, not json");
    EXPECT_ERROR("features: [{name: x}]\noutput: {format: avro, schema_id: -1}\n", "ex.yaml:2: output.schema_id: ",
                 "must be an integer from 0 to 2147483647, got '-1'");
    EXPECT_ERROR("features: [{name: x}]\noutput: {format: avro, schema_id: 2147483648}\n",
                 "ex.yaml:2: output.schema_id: ", "must be an integer from 0 to 2147483647");
    EXPECT_ERROR("features: [{name: x}]\noutput: {format: protobuf, schema: p.desc, message: ''}\n",
                 "ex.yaml:2: output.message: ", "must not be empty");
    EXPECT_ERROR("features: [{name: x}]\noutput: {format: avro, schema: ''}\n", "ex.yaml:2: output.schema: ",
                 "must not be empty");
#undef IN
}

static void test_section_kind_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\nkafka: [a]\n", "ex.yaml:2: kafka: ", "must be a mapping, got a list");
    EXPECT_ERROR("features: [{name: x}]\ninput: sea\n", "ex.yaml:2: input: ", "must be a mapping, got 'sea'");
    EXPECT_ERROR("features: [{name: x}]\nlabel: /label\n", "ex.yaml:2: label: ", "must be a mapping");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n", "ex.yaml:2: model: ", "must be a mapping, got null");
    EXPECT_ERROR("features: [{name: x}]\noutput: [a]\n", "ex.yaml:2: output: ", "must be a mapping");
    EXPECT_ERROR("features: [{name: x}]\nstate: 10s\n", "ex.yaml:2: state: ", "must be a mapping");
    EXPECT_ERROR("features: [{name: x}]\ndead_letter: dlq\n", "ex.yaml:2: dead_letter: ", "must be a mapping");
    EXPECT_ERROR("features: [{name: x}]\nmonitor: 9464\n", "ex.yaml:2: monitor: ", "must be a mapping");
    EXPECT_ERROR("features: [{name: x}]\ndelivery: {mode: x}\n", "ex.yaml:2: delivery: ",
                 "must be a string, got a mapping");
}

static void test_kafka_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\nkafka:\n  a: [1]\n", "ex.yaml:3: kafka.a: ", "must be a string, got a list");
    EXPECT_ERROR("features: [{name: x}]\nkafka:\n  group.id:\n", "ex.yaml:3: kafka.group.id: ", "must have a value");
    EXPECT_ERROR("features: [{name: x}]\nkafka:\n  group.id: a\n  group.id: b\n", "ex.yaml:4: kafka.group.id: ",
                 "duplicate key (first at line 3)");
    EXPECT_ERROR("features: [{name: x}]\nkafka:\n  ? [a]\n  : b\n", "ex.yaml:3: kafka: ", "keys must be");
    EXPECT_ERROR("features: [{name: x}]\nkafka:\n  a: \"x\\0y\"\n", "ex.yaml:3: kafka.a: ", "must not contain NUL");
}

static void test_input_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\ninput: {topic: sea}\n", "ex.yaml:2: input.topic: ",
                 "unknown key (expected one of: topics, format, schema, message, csv, max_record_bytes)");
    EXPECT_ERROR("features: [{name: x}]\ninput:\n  topics: {a: 1}\n", "ex.yaml:3: input.topics: ",
                 "must be a list of topics or a topic name, got a mapping");
    EXPECT_ERROR("features: [{name: x}]\ninput:\n  topics:\n", "ex.yaml:3: input.topics: ", "got null");
    EXPECT_ERROR("features: [{name: x}]\ninput:\n  topics:\n    - a\n    - [b]\n", "ex.yaml:5: input.topics[1]: ",
                 "must be a string, got a list");
    EXPECT_ERROR("features: [{name: x}]\ninput:\n  format: xml\n", "ex.yaml:3: input.format: ",
                 "unknown format 'xml' (expected json|csv|avro|protobuf)");
}

static void test_label_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\nlabel: {}\n", "ex.yaml:2: label.field: ", "required");
    EXPECT_ERROR("features: [{name: x}]\nlabel:\n  field: label\n", "ex.yaml:3: label.field: ",
                 "must be a JSON Pointer starting with '/'");
    EXPECT_ERROR("features: [{name: x}]\nlabel:\n  field: /y\n  name: y\n", "ex.yaml:4: label.name: ",
                 "unknown key (expected one of: field, topic, key, value, feature_key, ttl, wait, max_pending, "
                 "max_early)");
}

/* label.topic: delayed labels joined by key (config/label.c). */
static void test_label_topic(void) {
    rtml_config cfg;
    EXPECT_OK("features: [{name: x}]\nlabel: {topic: lbl, key: /id, value: /y, ttl: 7d, max_pending: 5000000}\n",
              &cfg);
    CHECK_STR(cfg.label.topic, "lbl");
    CHECK_STR(cfg.label.key, "/id");
    CHECK_STR(cfg.label.feature_key, "/id"); /* defaults to the label's key */
    CHECK_STR(cfg.label.value, "/y");
    CHECK_NEAR(cfg.label.ttl_s, 7 * 86400.0, 0);
    CHECK_NEAR(cfg.label.wait_s, 60, 0);
    CHECK_EQ_INT(cfg.label.max_pending, 5000000);
    CHECK_EQ_INT(cfg.label.max_early, 100000);
    CHECK(cfg.label.field == NULL);
    rtml_config_free(&cfg);
    EXPECT_OK("features: [{name: x}]\nlabel: {topic: lbl, key: '@key', feature_key: /txn, value: /y, wait: 2s}\n",
              &cfg);
    CHECK_STR(cfg.label.key, "@key");
    CHECK_STR(cfg.label.feature_key, "/txn");
    CHECK_NEAR(cfg.label.wait_s, 2, 0);
    rtml_config_free(&cfg);
    EXPECT_ERROR("features: [{name: x}]\nlabel: {field: /y, topic: t}\n", "ex.yaml:2: label.topic: ",
                 "exclude each other");
    EXPECT_ERROR("features: [{name: x}]\nlabel: {field: /y, ttl: 1d}\n", "ex.yaml:2: label.ttl: ",
                 "only applies with label.topic");
    EXPECT_ERROR("features: [{name: x}]\nlabel:\n  topic: t\n  value: /y\n", "ex.yaml:3: label.key: ",
                 "required with label.topic");
    EXPECT_ERROR("features: [{name: x}]\nlabel:\n  topic: t\n  key: /k\n", "ex.yaml:3: label.value: ",
                 "required with label.topic");
    EXPECT_ERROR("features: [{name: x}]\nlabel:\n  topic: t\n  key: k\n  value: /y\n", "ex.yaml:4: label.key: ",
                 "JSON Pointer");
    EXPECT_ERROR("features: [{name: x}]\nlabel: {topic: t, key: /k, value: /y, ttl: soon}\n", "ex.yaml:2: label.ttl: ",
                 "");
    EXPECT_ERROR("features: [{name: x}]\nlabel: {topic: t, key: /k, value: /y, max_pending: 0}\n",
                 "ex.yaml:2: label.max_pending: ", "");
    EXPECT_ERROR("features: [{name: x}]\nlabel: {topic: t, key: /k, value: /y}\nworkers: 2\n", "ex.yaml:3: workers: ",
                 "use workers: 1");
    EXPECT_ERROR("input: {topics: [t]}\nfeatures: [{name: x}]\nlabel: {topic: t, key: /k, value: /y}\n",
                 "ex.yaml:3: label.topic: ", "also an input topic");
    EXPECT_ERROR("features: [{name: x}]\nlabel: {topic: t, key: /k, value: /y}\nmodel:\n  engine: tensorflow\n"
                 "  tensorflow: {saved_model: m, inputs: {a: [x]}}\n",
                 "ex.yaml:2: label.topic: ", "engine: tensorflow");
}

static void test_model_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  kind: linear\n", "ex.yaml:3: model.kind: ",
                 "unknown key (expected one of: engine, type, task, optimizer, learning_rate, schedule, power_t, "
                 "decay_every, decay_rate, l2, l1, ftrl, loss, huber_delta, clip_gradient, hidden, activation, batch, "
                 "classes, seed, tensorflow)");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: torch\n", "ex.yaml:3: model.engine: ",
                 "unknown engine 'torch' (expected native|tensorflow)");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  type: logit\n", "ex.yaml:3: model.type: ",
                 "unknown model type 'logit' (expected linear|logistic|softmax|ftrl|mlp)");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  optimizer: rmsprop\n", "ex.yaml:3: model.optimizer: ",
                 "unknown optimizer 'rmsprop' (expected sgd|momentum|adagrad|adam)");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  optimizer: [sgd]\n", "ex.yaml:3: model.optimizer: ",
                 "must be an optimizer name or a mapping {name, learning_rate}, got a list");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  optimizer: {name: sgd, beta: 1}\n",
                 "ex.yaml:3: model.optimizer.beta: ", "unknown key (expected one of: name, learning_rate)");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  optimizer:\n    name: adamw\n", "ex.yaml:4: model.optimizer.name: ",
                 "unknown optimizer 'adamw'");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  learning_rate: fast\n", "ex.yaml:3: model.learning_rate: ",
                 "must be a number > 0, got 'fast'");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {learning_rate: 0}\n", "ex.yaml:2: model.learning_rate: ", "> 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {learning_rate: -0.1}\n", "ex.yaml:2: model.learning_rate: ", "> 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {learning_rate: 0x10}\n", "ex.yaml:2: model.learning_rate: ", "> 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {learning_rate: .inf}\n", "ex.yaml:2: model.learning_rate: ", "> 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {learning_rate: nan}\n", "ex.yaml:2: model.learning_rate: ", "> 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {learning_rate: 1e999}\n", "ex.yaml:2: model.learning_rate: ", "> 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  optimizer: {name: adam, learning_rate: []}\n",
                 "ex.yaml:3: model.optimizer.learning_rate: ", "must be a number > 0, got a list");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  learning_rate: 0.1\n  optimizer:\n    learning_rate: 0.2\n",
                 "ex.yaml:5: model.optimizer.learning_rate: ", "conflicts with model.learning_rate at line 3");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {l2: -1}\n", "ex.yaml:2: model.l2: ", "must be a number >= 0, got '-1'");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {l2: lots}\n", "ex.yaml:2: model.l2: ", "must be a number >= 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {seed: -1}\n", "ex.yaml:2: model.seed: ",
                 "must be a non-negative integer, got '-1'");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {seed: 1.5}\n", "ex.yaml:2: model.seed: ", "non-negative integer");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {seed: 18446744073709551616}\n", "ex.yaml:2: model.seed: ",
                 "non-negative integer");
}

static void test_output_state_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\noutput: {topics: [a]}\n", "ex.yaml:2: output.topics: ",
                 "unknown key (expected one of: topic, format, schema, message, schema_id, features, features_topic)");
    EXPECT_ERROR("features: [{name: x}]\noutput: {topic: ''}\n", "ex.yaml:2: output.topic: ", "must not be empty");
    EXPECT_ERROR("features: [{name: x}]\noutput: {format: csv}\n", "ex.yaml:2: output.format: ",
                 "unknown output format 'csv' (expected json|avro|protobuf)");
    EXPECT_ERROR("features: [{name: x}]\ndelivery: twice\n", "ex.yaml:2: delivery: ",
                 "unknown delivery 'twice' (expected at_least_once|exactly_once)");
    EXPECT_ERROR("features: [{name: x}]\nstate: {path: /x}\n", "ex.yaml:2: state.path: ",
                 "unknown key (expected one of: dir, checkpoint_every, keep)");
    EXPECT_ERROR("features: [{name: x}]\nstate: {dir: [a]}\n", "ex.yaml:2: state.dir: ", "must be a string");
    static const char *const bad[] = {"soon", "0s", "-1", "'10 s'", "5x", "1e400", "ms", "0", "[1]", "1e-400"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "features: [{name: x}]\nstate:\n  checkpoint_every: %s\n", bad[i]);
        EXPECT_ERROR(yaml, "ex.yaml:3: state.checkpoint_every: ", "must be a duration > 0");
    }
}

static void test_dead_letter_monitor_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\ndead_letter: {}\n", "ex.yaml:2: dead_letter.topic: ", "required");
    EXPECT_ERROR("features: [{name: x}]\ndead_letter:\n  topic:\n", "ex.yaml:3: dead_letter.topic: ",
                 "must be a string, got null");
    EXPECT_ERROR("features: [{name: x}]\nmonitor: {port: 1}\n", "ex.yaml:2: monitor.port: ",
                 "unknown key (expected one of: listen, stalled_after)");
    EXPECT_ERROR("features: [{name: x}]\nmonitor: {}\n", "ex.yaml:2: monitor.listen: ", "required");
    static const char *const bad[] = {"localhost", "':9464'", "h:65536", "h:abc", "h:123456", "'h:'",
                                      "'h:-1'"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "features: [{name: x}]\nmonitor:\n  listen: %s\n", bad[i]);
        EXPECT_ERROR(yaml, "ex.yaml:3: monitor.listen: ", "must be HOST:PORT with a port 0..65535");
    }
}

/* drift and log: names, settings that apply to the chosen detector only, what the model allows. */
static void test_drift_log_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\ndrift: {detector: cusum}\n", "ex.yaml:2: drift.detector: ", "cusum");
    EXPECT_ERROR("features: [{name: x}]\ndrift: {action: page}\n", "ex.yaml:2: drift.action: ", "page");
    EXPECT_ERROR("features: [{name: x}]\ndrift:\n  detector: adwin\n  threshold: 50\n", "ex.yaml:4: drift.threshold: ",
                 "not a setting of detector adwin");
    EXPECT_ERROR("features: [{name: x}]\ndrift:\n  detector: ddm\n  delta: 0.1\n", "ex.yaml:4: drift.delta: ",
                 "not a setting of detector ddm");
    EXPECT_ERROR("features: [{name: x}]\ndrift:\n  delta: -1\n", "ex.yaml:3: drift.delta: ", "");
    EXPECT_ERROR("features: [{name: x}]\ndrift:\n  detector: page_hinkley\n  alpha: 2\n", "ex.yaml:4: drift.alpha: ",
                 "must be in (0, 1]");
    EXPECT_ERROR("features: [{name: x}]\nmodel: {type: linear}\ndrift: {detector: ddm}\n", "ex.yaml:1: drift.detector: ",
                 "regression");
    EXPECT_ERROR("features: [{name: x}]\ndrift: {bogus: 1}\n", "ex.yaml:2: drift.bogus: ", "unknown key");
    EXPECT_ERROR("features: [{name: x}]\nlog: {level: loud}\n", "ex.yaml:2: log.level: ", "loud");
    EXPECT_ERROR("features: [{name: x}]\nlog: {format: xml}\n", "ex.yaml:2: log.format: ", "xml");
    EXPECT_ERROR("features: [{name: x}]\nmonitor: {listen: 'h:1', stalled_after: 0s}\n", "ex.yaml:2: monitor.stalled_after: ",
                 "must be a duration > 0");
    EXPECT_ERROR("features: [{name: x}]\nmonitor: {listen: 'h:1', stalled_after: soon}\n",
                 "ex.yaml:2: monitor.stalled_after: ", "");
    rtml_config cfg;
    char err[256];
    static const char ok[] = "features: [{name: x}]\nmonitor: {listen: '127.0.0.1:0', stalled_after: 2m}\n"
                             "drift: {detector: page_hinkley, action: reset, topic: d, threshold: 20, min_instances: 5}\n"
                             "log: {level: debug, format: json}\n";
    CHECK(rtml_config_parse("ex.yaml", ok, strlen(ok), &cfg, err, sizeof err) == 0);
    CHECK(cfg.drift.enabled && cfg.drift.detector == RTML_DRIFT_PAGE_HINKLEY && cfg.drift.action == RTML_DRIFT_RESET);
    CHECK(cfg.drift.threshold == 20 && cfg.drift.min_instances == 5 && cfg.drift.delta != cfg.drift.delta /* NaN */);
    CHECK(strcmp(cfg.log.level, "debug") == 0 && strcmp(cfg.log.format, "json") == 0);
    CHECK(strcmp(cfg.monitor.listen, "127.0.0.1:0") == 0 && cfg.monitor.stalled_after_s == 120);
    rtml_config_free(&cfg);
    static const char dflt[] = "features: [{name: x}]\ndrift: {}\n";
    CHECK(rtml_config_parse("ex.yaml", dflt, strlen(dflt), &cfg, err, sizeof err) == 0);
    CHECK(cfg.drift.detector == RTML_DRIFT_ADWIN && cfg.drift.action == RTML_DRIFT_ALERT && !cfg.drift.topic);
    rtml_config_free(&cfg);
}

/* role and models: the role needs the topic, the topic needs a native engine, a predictor's drift only alerts. */
static void test_role_models(void) {
    EXPECT_ERROR("features: [{name: x}]\nrole: leader\n", "ex.yaml:2: role: ", "leader");
    EXPECT_ERROR("features: [{name: x}]\nrole: predictor\n", "ex.yaml:2: role: ", "needs models.topic");
    EXPECT_ERROR("features: [{name: x}]\n\nrole: trainer\n", "ex.yaml:3: role: ", "needs models.topic");
    EXPECT_ERROR("features: [{name: x}]\nmodels: {}\n", "ex.yaml:2: models.topic: ", "required");
    EXPECT_ERROR("features: [{name: x}]\nmodels: {topic: ''}\n", "ex.yaml:2: models.topic: ", "must not be empty");
    EXPECT_ERROR("features: [{name: x}]\nmodels: {topic: m, keep: 0}\n", "ex.yaml:2: models.keep: ", "");
    EXPECT_ERROR("features: [{name: x}]\nmodels: {topic: m, publish_every: 0s}\n", "ex.yaml:2: models.publish_every: ",
                 "");
    EXPECT_ERROR("features: [{name: x}]\nmodels: {topic: m, every: 1s}\n", "ex.yaml:2: models.every: ", "unknown key");
    EXPECT_ERROR("features: [{name: x}]\nrole: predictor\nmodels: {topic: m}\ndrift: {action: reset}\n",
                 "ex.yaml:2: role: ", "drift.action reset");
    EXPECT_ERROR("model:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inputs: {s: /s}}\nmodels: {topic: m}\n",
                 "ex.yaml:1: models.topic: ", "TensorFlow");
    rtml_config cfg;
    char err[256];
    static const char ok[] = "features: [{name: x}]\nrole: predictor\nmodels: {topic: fraud-models, publish_every: 2m, keep: 5}\n"
                             "drift: {action: alert}\n";
    CHECK(rtml_config_parse("ex.yaml", ok, strlen(ok), &cfg, err, sizeof err) == 0);
    CHECK(cfg.role == RTML_ROLE_PREDICTOR && strcmp(cfg.models.topic, "fraud-models") == 0);
    CHECK(rtml_models_publish_every(&cfg) == 120 && rtml_models_keep(&cfg) == 5);
    rtml_config_free(&cfg);
    static const char dflt[] = "features: [{name: x}]\nmodels: {topic: m}\n";
    CHECK(rtml_config_parse("ex.yaml", dflt, strlen(dflt), &cfg, err, sizeof err) == 0);
    CHECK(cfg.role == RTML_ROLE_BOTH && rtml_models_publish_every(&cfg) == 10 && rtml_models_keep(&cfg) == 20);
    CHECK_STR(rtml_role_name(cfg.role), "both");
    rtml_config_free(&cfg);
}

/* workers: a count or auto; several need a native engine and no model writer. */
static void test_workers(void) {
    EXPECT_ERROR("features: [{name: x}]\nworkers: 0\n", "ex.yaml:2: workers: ", "");
    EXPECT_ERROR("features: [{name: x}]\nworkers: 257\n", "ex.yaml:2: workers: ", "");
    EXPECT_ERROR("features: [{name: x}]\nworkers: many\n", "ex.yaml:2: workers: ", "");
    EXPECT_ERROR("features: [{name: x}]\nworkers: [2]\n", "ex.yaml:2: workers: ", "");
    EXPECT_ERROR("features: [{name: x}]\nmodels: {topic: m}\n\nworkers: 2\n", "ex.yaml:4: workers: ",
                 "one topic has one writer");
    EXPECT_ERROR("features: [{name: x}]\nrole: trainer\nmodels: {topic: m}\nworkers: auto\n", "ex.yaml:4: workers: ",
                 "a trainer publishes");
    EXPECT_ERROR("model:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inputs: {s: /s}}\nworkers: 3\n",
                 "ex.yaml:4: workers: ", "one worker per process");
    rtml_config cfg;
    char err[256];
    static const char one[] = "features: [{name: x}]\n";
    CHECK(rtml_config_parse("ex.yaml", one, strlen(one), &cfg, err, sizeof err) == 0);
    CHECK(rtml_config_workers(&cfg) == 1);
    rtml_config_free(&cfg);
    static const char four[] = "features: [{name: x}]\nrole: predictor\nmodels: {topic: m}\nworkers: 4\n";
    CHECK(rtml_config_parse("ex.yaml", four, strlen(four), &cfg, err, sizeof err) == 0);
    CHECK(rtml_config_workers(&cfg) == 4);
    rtml_config_free(&cfg);
    static const char any[] = "features: [{name: x}]\nworkers: auto\n";
    CHECK(rtml_config_parse("ex.yaml", any, strlen(any), &cfg, err, sizeof err) == 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(rtml_config_workers(&cfg) == (unsigned)(cores < 1 ? 1 : cores));
    rtml_config_free(&cfg);
}

static void test_error_buffers(void) {
    rtml_config cfg;
    char small[12];
    const char *yaml = "features: []\n";
    CHECK_EQ_INT(rtml_config_parse("ex.yaml", yaml, strlen(yaml), &cfg, NULL, 0), -1);
    CHECK_EQ_INT(rtml_config_parse("ex.yaml", yaml, strlen(yaml), &cfg, small, sizeof small), -1);
    CHECK_STR(small, "ex.yaml:1: ");
    CHECK_EQ_INT(rtml_config_parse(NULL, "x: [", 4, &cfg, small, sizeof small), -1);
    CHECK(strncmp(small, "(config):", 9) == 0);
}

/* ---- model.tensorflow ----------------------------------------------------------------------------- */

static void test_tensorflow_section(void) {
    rtml_config cfg;
    const char *yaml =
        "features:\n  - {name: x1}\n  - {name: x2, transforms: [standardize]}\n"
        "label: {field: /label}\n"
        "model:\n  engine: tensorflow\n  task: multiclass\n  classes: [a, b, c]\n"
        "  tensorflow:\n    saved_model: models/clf\n    train_signature: none\n"
        "    inputs: {x: [x2, x1], 'country code': /country}\n    output: probs\n"
        "    extra_outputs: [logits, 'a b']\n    batch: 256\n    max_delay: 2ms\n"
        "    intra_op_threads: 2\n    inter_op_threads: 3\n    watch: false\n    reload_every: 250ms\n"
        "    export_dir: /tmp/out\n";
    if (EXPECT_OK(yaml, &cfg) != 0)
        return;
    const rtml_tf_config *t = &cfg.model.tf;
    CHECK_STR(t->saved_model, "models/clf");
    CHECK_STR(t->signature, "serving_default");
    CHECK_STR(t->train_signature, "none");
    CHECK_STR(t->label_input, "label");
    CHECK_EQ_INT(t->n_inputs, 2);
    CHECK_STR(t->inputs[0].name, "x");
    CHECK_EQ_INT(t->inputs[0].n_features, 2);
    CHECK_STR(t->inputs[0].features[0], "x2");
    CHECK_STR(t->inputs[1].field, "/country");
    CHECK_EQ_INT(t->n_extra_outputs, 2);
    CHECK_EQ_INT(t->batch, 256);
    CHECK_NEAR(t->max_delay_s, 0.002, 1e-15);
    CHECK_EQ_INT(t->intra_op_threads, 2);
    CHECK_EQ_INT(t->inter_op_threads, 3);
    CHECK_EQ_INT(t->watch, 0);
    CHECK_NEAR(t->reload_every_s, 0.25, 1e-15);
    CHECK_STR(t->export_dir, "/tmp/out");
    CHECK_EQ_INT(cfg.model.task, RTML_TASK_MULTICLASS);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);

    /* Defaults; no features when every input reads a field. */
    if (EXPECT_OK("model: {engine: tensorflow, tensorflow: {saved_model: m, inputs: {s: /s}}}\n", &cfg) != 0)
        return;
    CHECK_EQ_INT(cfg.n_features, 0);
    CHECK_EQ_INT(cfg.model.tf.batch, 64);
    CHECK_NEAR(cfg.model.tf.max_delay_s, 0.005, 1e-15);
    CHECK_EQ_INT(cfg.model.tf.intra_op_threads, 1);
    CHECK_EQ_INT(cfg.model.tf.inter_op_threads, -1);
    CHECK_EQ_INT(cfg.model.tf.watch, 1);
    CHECK(cfg.model.tf.train_signature == NULL);
    CHECK_EQ_INT(cfg.model.task, RTML_TASK_BINARY);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_tensorflow_errors(void) {
    EXPECT_ERROR("features: [{name: x}]\nmodel: {engine: tensorflow}\n", "ex.yaml:2: model.tensorflow: ",
                 "required with engine: tensorflow");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  hidden: [3]\n  tensorflow: {saved_model: m}\n",
                 "ex.yaml:4: model.hidden: ", "only used by the native engine");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  tensorflow: {saved_model: m}\n", "ex.yaml:3: model.tensorflow: ",
                 "only used with model.engine: tensorflow");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {signature: s}\n",
                 "ex.yaml:4: model.tensorflow.saved_model: ", "required");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inputs: {a: [y]}}\n",
                 "ex.yaml:4: model.tensorflow.inputs.a: ", "'y' is not a feature");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inputs: {a: 3}}\n",
                 "ex.yaml:4: model.tensorflow.inputs.a: ", "must be a list of feature names");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inputs: {}}\n",
                 "ex.yaml:4: model.tensorflow.inputs: ", "at least one input");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, batch: 0}\n",
                 "ex.yaml:4: model.tensorflow.batch: ", "from 1 to 65536");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, max_delay: 0}\n",
                 "ex.yaml:4: model.tensorflow.max_delay: ", "duration > 0");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inter_op_threads: 0}\n",
                 "ex.yaml:4: model.tensorflow.inter_op_threads: ", "must be -1 (run ops in rtml's thread) or a number");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, modle: 1}\n",
                 "ex.yaml:4: model.tensorflow.modle: ", "unknown key");
    EXPECT_ERROR("model:\n  engine: tensorflow\n  tensorflow: {saved_model: m}\n", "ex.yaml:1: model.tensorflow.inputs: ",
                 "required when there are no features");
    EXPECT_ERROR("label: {field: /y}\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m, inputs: {a: /y}}\n",
                 "ex.yaml:4: model.tensorflow.inputs: ", "reads the label field /y");
    EXPECT_ERROR("features: [{name: x}]\nmodel:\n  engine: tensorflow\n  task: multiclass\n  tensorflow: {saved_model: m}\n",
                 "ex.yaml:4: model.classes: ", "required by a multiclass model");
}

/* ---- files and run checks ------------------------------------------------------------------------- */

static void expect_file_error(const char *file, const char *where_reason, const char *reason) {
    char path[1024], prefix[1100], err[RTML_ERRLEN] = "";
    rtml_config cfg;
    snprintf(path, sizeof path, "%s/configs/%s", testdata(), file);
    snprintf(prefix, sizeof prefix, "%s:%s", path, where_reason);
    int rc = rtml_config_load(path, &cfg, err, sizeof err);
    int ok = rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, reason);
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  want \"%s...%s\", got \"%s\"\n", prefix, reason, err);
    if (rc == 0)
        rtml_config_free(&cfg);
}

static void test_bad_files(void) {
    expect_file_error("bad_learning_rate.yaml", "6: model.learning_rate: ", "must be a number > 0, got 'fast'");
    expect_file_error("bad_unknown_section.yaml", "2: inputs: ", "unknown key (expected one of: kafka, input");
    expect_file_error("bad_pointer.yaml", "6: features[1].field: ", "must be a JSON Pointer starting with '/'");
    expect_file_error("bad_transform.yaml", "6: features[2].transforms[0]: ",
                      "unknown transform 'standardise' (expected standardize, minmax, log1p, clip, impute, "
                      "bucketize, hour_of_day, day_of_week, one_hot, hash, cross, bag_of_words, array)");
    expect_file_error("bad_syntax.yaml", "4: YAML syntax error: ", "flow sequence");
    expect_file_error("bad_duplicate_feature.yaml", "5: features[2].name: ",
                      "duplicate feature name 'x1' (also at line 3)");
    expect_file_error("bad_alias.yaml", "6: *std: ", "aliases are not supported");
    expect_file_error("bad_empty.yaml", "1: empty config", "");
    expect_file_error("bad_missing_features.yaml", "1: features: ", "required");
    expect_file_error("bad_chain.yaml", "6: features[1].transforms[0]: ", "must be the last of its chain");
    expect_file_error("bad_classes.yaml", "6: model.classes: ", "required by a multiclass model");
    expect_file_error("bad_protobuf.yaml", "4: input.message: ", "required by format protobuf");
    expect_file_error("bad_bucketize.yaml", "5: features[0].transforms[0].bucketize[2]: ",
                      "boundaries must be strictly increasing, got 30 after 30");
}

/* Every good_*.yaml loads and round-trips; every bad_*.yaml fails with a "path:" prefixed message. */
static void test_all_files(void) {
    char dir[1024], path[1400], err[RTML_ERRLEN];
    snprintf(dir, sizeof dir, "%s/configs", testdata());
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int good = 0, bad = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int is_good = strncmp(e->d_name, "good_", 5) == 0, is_bad = strncmp(e->d_name, "bad_", 4) == 0;
        if (!is_good && !is_bad)
            continue;
        rtml_config cfg;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int rc = rtml_config_load(path, &cfg, err, sizeof err);
        CHECK_EQ_INT(rc, is_good ? 0 : -1);
        if (rc == 0) {
            CHECK_ROUND_TRIP(&cfg);
            rtml_config_free(&cfg);
        } else {
            CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
        }
        if (is_good ? rc != 0 : rc == 0)
            fprintf(stderr, "  %s: %s\n", e->d_name, rc ? err : "loaded but should not");
        good += is_good;
        bad += is_bad;
    }
    closedir(d);
    CHECK(good >= 2);
    CHECK(bad >= 9);
}

static void test_load_errors(void) {
    char path[1024], err[RTML_ERRLEN] = "";
    rtml_config cfg;
    snprintf(path, sizeof path, "%s/configs/no_such_file.yaml", testdata());
    CHECK_EQ_INT(rtml_config_load(path, &cfg, err, sizeof err), -1);
    CHECK(strstr(err, ": cannot read: No such file or directory") != NULL);
    CHECK(strncmp(err, path, strlen(path)) == 0);
    CHECK(is_zeroed(&cfg));
    snprintf(path, sizeof path, "%s/configs", testdata());
    CHECK_EQ_INT(rtml_config_load(path, &cfg, err, sizeof err), -1);
    CHECK(strstr(err, ": cannot read: Is a directory") != NULL);
}

/* Load examples/NAME, which must parse and be runnable; 0, or -1 (a failed check, reported). */
static int load_example(const char *name, rtml_config *cfg) {
    char path[1024], err[RTML_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/../../examples/%s", testdata(), name);
    int rc = rtml_config_load(path, cfg, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "  %s\n", err);
        return -1;
    }
    CHECK_EQ_INT(rtml_config_check_run(cfg, err, sizeof err), 0);
    return 0;
}

static void test_quickstart(void) {
    rtml_config cfg;
    if (load_example("quickstart.yaml", &cfg) != 0)
        return;
    CHECK_STR(rtml_config_kafka(&cfg, "bootstrap.servers"), "127.0.0.1:9092");
    CHECK_STR(rtml_config_kafka(&cfg, "group.id"), "rtml-quickstart");
    CHECK_STR(rtml_config_kafka(&cfg, "auto.offset.reset"), "earliest");
    CHECK_EQ_INT(cfg.input.n_topics, 1);
    CHECK_STR(cfg.input.topics[0], "sea");
    CHECK_EQ_INT(cfg.n_features, 3);
    for (size_t i = 0; i < cfg.n_features && i < 3; i++) {
        char name[8], field[8];
        snprintf(name, sizeof name, "x%zu", i + 1);
        snprintf(field, sizeof field, "/x%zu", i + 1);
        CHECK_STR(cfg.features[i].name, name);
        CHECK_STR(cfg.features[i].field, field);
        CHECK_EQ_INT(cfg.features[i].n_transforms, 1);
        CHECK_EQ_INT(cfg.features[i].transforms[0].kind, RTML_TX_STANDARDIZE);
    }
    CHECK_STR(cfg.label.field, "/label");
    CHECK_STR(rtml_engine_kind_name(cfg.model.engine), "native");
    CHECK_STR(rtml_model_type_name(cfg.model.type), "logistic");
    CHECK_STR(rtml_opt_name(cfg.model.optimizer), "sgd");
    CHECK_NEAR(cfg.model.learning_rate, 0.05, 0);
    CHECK_STR(cfg.output.topic, "sea-scored");
    CHECK_EQ_INT(cfg.delivery, RTML_DELIVERY_AT_LEAST_ONCE);
    CHECK_STR(cfg.state.dir, "./state/quickstart");
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_tensorflow_example(void) {
    rtml_config cfg;
    if (load_example("tensorflow.yaml", &cfg) != 0)
        return;
    CHECK_STR(rtml_engine_kind_name(cfg.model.engine), "tensorflow");
    CHECK_STR(cfg.model.tf.saved_model, "models/sea");
    CHECK_EQ_INT(cfg.model.tf.batch, 64);
    CHECK_NEAR(cfg.model.tf.max_delay_s, 0.005, 1e-15);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void test_fraud_example(void) {
    rtml_config cfg;
    if (load_example("fraud.yaml", &cfg) != 0)
        return;
    CHECK_EQ_INT(cfg.n_features, 8);
    static const rtml_transform_kind last[] = {RTML_TX_STANDARDIZE, RTML_TX_ONE_HOT, RTML_TX_ONE_HOT,
                                               RTML_TX_ONE_HOT,     RTML_TX_ONE_HOT, RTML_TX_HASH,
                                               RTML_TX_CROSS,       RTML_TX_BAG_OF_WORDS};
    for (size_t i = 0; i < cfg.n_features && i < 8; i++)
        CHECK_EQ_INT(cfg.features[i].transforms[cfg.features[i].n_transforms - 1].kind, last[i]);
    CHECK_EQ_INT(cfg.features[0].transforms[0].kind, RTML_TX_IMPUTE_MEAN);
    CHECK_EQ_INT(cfg.features[2].transforms[0].kind, RTML_TX_HOUR_OF_DAY);
    CHECK_STR(cfg.features[6].transforms[0].with, "/card_country");
    CHECK_STR(rtml_model_type_name(cfg.model.type), "ftrl");
    CHECK_NEAR(cfg.model.ftrl_alpha, 0.05, 0);
    CHECK_NEAR(cfg.model.l1, 1, 0);
    CHECK_EQ_INT(cfg.input.max_record_bytes, 65536);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

/* examples/fraud_velocity.yaml: fraud.yaml with the card's velocity from aggregates keyed by the Kafka key. */
static void test_fraud_velocity_example(void) {
    rtml_config cfg;
    if (load_example("fraud_velocity.yaml", &cfg) != 0)
        return;
    CHECK_EQ_INT(cfg.n_features, 12);
    CHECK_EQ_INT(cfg.aggregates.n, 4); /* features 0-3 read aggregates 0-3 */
    for (int i = 0; i < 4 && (size_t)i < cfg.n_features; i++) CHECK_EQ_INT(cfg.features[i].aggregate, i);
    CHECK_STR(cfg.aggregates.time, "/ts");
    CHECK_STR(cfg.aggregates.list[0].key, "@key");
    CHECK_EQ_INT(cfg.aggregates.list[1].skip_missing, 1);
    CHECK_EQ_INT(cfg.aggregates.list[2].fn, RTML_AGG_DISTINCT);
    CHECK_EQ_INT(cfg.features[4].transforms[0].kind, RTML_TX_IMPUTE_MEAN);
    CHECK_ROUND_TRIP(&cfg);
    rtml_config_free(&cfg);
}

static void expect_run_error(const char *yaml, const char *want) {
    rtml_config cfg;
    char err[RTML_ERRLEN] = "";
    if (EXPECT_OK(yaml, &cfg) != 0)
        return;
    CHECK_EQ_INT(rtml_config_check_run(&cfg, err, sizeof err), -1);
    CHECK_STR(err, want);
    rtml_config_free(&cfg);
}

static void test_check_run(void) {
    expect_run_error("features: [{name: x}]\ninput: {topics: a}\noutput: {topic: b}\n",
                     "ex.yaml: kafka.bootstrap.servers: required by `rtml run`");
    expect_run_error("features: [{name: x}]\nkafka: {bootstrap.servers: ''}\ninput: {topics: a}\noutput: {topic: b}\n",
                     "ex.yaml: kafka.bootstrap.servers: required by `rtml run`");
    expect_run_error("features: [{name: x}]\nkafka: {bootstrap.servers: h:1}\ninput: {topics: []}\noutput: {topic: b}\n",
                     "ex.yaml: input.topics: required by `rtml run`");
    expect_run_error("features: [{name: x}]\nkafka: {bootstrap.servers: h:1}\ninput: {topics: a}\n",
                     "ex.yaml: output.topic: required by `rtml run` (except with role: trainer)");
    { /* a trainer answers nothing: no output topic needed */
        rtml_config cfg;
        char e[RTML_ERRLEN];
        static const char t[] = "features: [{name: x}]\nkafka: {bootstrap.servers: h:1}\ninput: {topics: a}\n"
                                "role: trainer\nmodels: {topic: m}\n";
        CHECK(rtml_config_parse("ex.yaml", t, strlen(t), &cfg, e, sizeof e) == 0);
        CHECK_EQ_INT(rtml_config_check_run(&cfg, e, sizeof e), 0);
        rtml_config_free(&cfg);
    }
    expect_run_error("features: [{name: x}]\nkafka: {bootstrap.servers: h:1}\ninput: {topics: a, format: csv}\n"
                     "output: {topic: b}\n",
                     "ex.yaml: input.csv.columns: required by `rtml run` for CSV input (a topic has no header row)");
    rtml_config zero;
    char err[RTML_ERRLEN] = "";
    memset(&zero, 0, sizeof zero);
    CHECK_EQ_INT(rtml_config_check_run(&zero, err, sizeof err), -1);
    CHECK_STR(err, "(config): kafka.bootstrap.servers: required by `rtml run`");
}

/* aggregates: the section's forms, its defaults, what each function allows, and the features that read them. */
static void test_aggregates(void) {
    rtml_config cfg;
    if (EXPECT_OK("aggregates:\n  - {name: c, key: /card, fn: count, window: 10m}\n"
                  "  - {name: m, key: /card, field: /amount, fn: mean, half_life: 1h}\n"
                  "features: [{name: n, aggregate: c, transforms: [log1p]}, {name: e, aggregate: m}, {name: amount}]\n",
                  &cfg) != 0)
        return;
    CHECK_EQ_INT(cfg.aggregates.n, 2);
    CHECK_STR(cfg.aggregates.time, "@timestamp");
    CHECK_EQ_INT(cfg.aggregates.max_keys, 1000000);
    CHECK_EQ_INT(cfg.aggregates.list[0].fn, RTML_AGG_COUNT);
    CHECK_NEAR(cfg.aggregates.list[0].window_s, 600, 0);
    CHECK_STR(cfg.aggregates.list[1].key, "/card");
    CHECK_NEAR(cfg.aggregates.list[1].half_life_s, 3600, 0);
    CHECK_EQ_INT(cfg.aggregates.list[1].skip_missing, 0);
    CHECK_EQ_INT(cfg.features[0].aggregate, 0);
    CHECK_EQ_INT(cfg.features[1].aggregate, 1);
    CHECK_EQ_INT(cfg.features[2].aggregate, -1);
    rtml_config_free(&cfg);
    if (EXPECT_OK("aggregates:\n  time: /ts\n  lateness: 30s\n  max_keys: 10\n  ttl: 1d\n  list:\n"
                  "    - {name: d, key: /k, field: /m, fn: distinct, window: 1h, missing: skip}\n"
                  "features: [{name: x, aggregate: d}]\n",
                  &cfg) != 0)
        return;
    CHECK_EQ_INT(cfg.aggregates.list[0].skip_missing, 1);
    CHECK_STR(cfg.aggregates.time, "/ts");
    CHECK_NEAR(cfg.aggregates.lateness_s, 30, 0);
    CHECK_EQ_INT(cfg.aggregates.max_keys, 10);
    CHECK_NEAR(cfg.aggregates.ttl_s, 86400, 0);
    rtml_config_free(&cfg);
#define A(list, feats) "aggregates:\n" list "features: " feats "\n"
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: median}\n", "[{name: x, aggregate: c}]"), "ex.yaml:2: aggregates[0].fn: ",
                 "unknown aggregate function 'median'");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: sum}\n", "[{name: x, aggregate: c}]"), "ex.yaml:2: aggregates[0]: ",
                 "fn sum needs a field");
    EXPECT_ERROR(A("  - {name: c, key: /k, field: /v, fn: count}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].field: ", "fn count reads no field");
    EXPECT_ERROR(A("  - {name: c, key: /k, field: /v, fn: max, half_life: 1h}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].half_life: ", "decays count, sum and mean only, not max");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count, half_life: 1h, window: 1h}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].half_life: ", "a window or a half_life, not both");
    EXPECT_ERROR(A("  - {name: c, key: /k, field: /v, fn: distinct}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0]: ", "fn distinct needs a window");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count, missing: skip}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].missing: ", "only for an aggregate of a field");
    EXPECT_ERROR(A("  - {name: c, key: /k, field: /v, fn: mean, half_life: 1h, missing: skip}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].missing: ", "not half_life");
    EXPECT_ERROR(A("  - {name: c, key: /k, field: /v, fn: mean, window: 1h, missing: maybe}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].missing: ", "'maybe'");
    EXPECT_ERROR(A("  - {name: c, key: k, fn: count}\n", "[{name: x, aggregate: c}]"), "ex.yaml:2: aggregates[0].key: ",
                 "JSON Pointer");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count}\n  - {name: c, key: /k, fn: count}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:3: aggregates[1].name: ", "duplicate aggregate name 'c' (also at line 2)");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count, window: soon}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:2: aggregates[0].window: ", "must be a duration");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count}\n", "[{name: x, aggregate: d}]"), "ex.yaml:3: features[0].aggregate: ",
                 "no aggregate is called 'd'");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count}\n", "[{name: x, field: /x, aggregate: c}]"),
                 "ex.yaml:3: features[0].field: ", "give a field or an aggregate, not both");
    EXPECT_ERROR(A("  - {name: c, key: /k, fn: count}\n  - {name: u, key: /k, fn: count}\n", "[{name: x, aggregate: c}]"),
                 "ex.yaml:3: aggregates: ", "'u' is read by no feature");
    EXPECT_ERROR("aggregates: {time: /t}\nfeatures: [{name: x}]\n", "ex.yaml:1: aggregates.list: ", "required");
    EXPECT_ERROR("features: [{name: x, aggregate: c}]\n", "ex.yaml:1: features[0].aggregate: ",
                 "the config has no aggregates section");
    EXPECT_ERROR("aggregates:\n  - {name: c, key: /k, fn: count}\nfeatures: [{name: x, aggregate: c}]\n"
                 "output: {format: avro, features: true}\n", "ex.yaml:4: output.features: ", "only with format json");
    EXPECT_ERROR("aggregates:\n  - {name: c, key: /k, fn: count}\nfeatures: [{name: x, aggregate: c}]\n"
                 "serve: {listen: 127.0.0.1:8080}\n", "ex.yaml:4: serve: ", "not with aggregates");
#undef A
}

int main(void) {
    test_full_file();
    test_defaults();
    test_shorthands();
    test_durations();
    test_enums();
    test_round_trip_strings();
    test_round_trip_zeroed();
    test_transform_kinds();
    test_new_defaults();
    test_model_keys();
    test_input_keys();
    test_yaml_errors();
    test_top_level_errors();
    test_feature_errors();
    test_transform_errors();
    test_new_transform_errors();
    test_new_model_errors();
    test_new_input_output_errors();
    test_section_kind_errors();
    test_kafka_errors();
    test_input_errors();
    test_label_errors();
    test_label_topic();
    test_model_errors();
    test_output_state_errors();
    test_dead_letter_monitor_errors();
    test_drift_log_errors();
    test_aggregates();
    test_role_models();
    test_workers();
    test_error_buffers();
    test_bad_files();
    test_all_files();
    test_load_errors();
    test_tensorflow_section();
    test_tensorflow_example();
    test_tensorflow_errors();
    test_quickstart();
    test_fraud_example();
    test_fraud_velocity_example();
    test_check_run();
    return check_exit("test_config");
}
