/* config.h — rtml's configuration: the YAML file a user writes, parsed into one plain struct.
 *
 * The shape is docs/design.md's contract (kafka, input, features, label, model, output, delivery, state,
 * dead_letter, monitor). Parsing is strict: an unknown key, a wrong type or an out-of-range value is an error
 * that names the file, the line and the dotted key, e.g.
 *     examples/bad.yaml:7: model.type: unknown model type 'logit' (expected linear|logistic|softmax|ftrl|mlp)
 * and the CLI exits 2 on it. Defaults are filled in, so every field below holds a usable value after
 * rtml_config_load() succeeds.
 *
 * Ownership: rtml_config_load() allocates everything reachable from the struct; rtml_config_free() frees
 * it all. Strings are NUL-terminated copies. */
#ifndef RTML_CONFIG_H
#define RTML_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/detector.h"

/* One `key: value` pair (kafka librdkafka properties, engine options). */
typedef struct {
    char *key;
    char *value;
    int line;
} rtml_kv;

typedef enum { RTML_FMT_JSON = 0, RTML_FMT_CSV, RTML_FMT_AVRO, RTML_FMT_PROTOBUF } rtml_format;

/* The model section's vocabulary, parsed once into these (config/model.c has the names; each order is the order
 * of its names in messages). The rest of rtml branches on them and never compares a name again. */
typedef enum { RTML_ENGINE_NATIVE = 0, RTML_ENGINE_TENSORFLOW } rtml_engine_kind;
typedef enum { RTML_MODEL_LINEAR = 0, RTML_MODEL_LOGISTIC, RTML_MODEL_SOFTMAX, RTML_MODEL_FTRL, RTML_MODEL_MLP } rtml_model_type;
/* What a model predicts; the type implies it (logistic, ftrl: binary; linear: regression; softmax:
 * multiclass), model.task says it for an mlp and a SavedModel (default binary). */
typedef enum { RTML_TASK_BINARY = 0, RTML_TASK_REGRESSION, RTML_TASK_MULTICLASS } rtml_task;
typedef enum { RTML_OPT_SGD = 0, RTML_OPT_MOMENTUM, RTML_OPT_ADAGRAD, RTML_OPT_ADAM } rtml_opt_kind;
typedef enum { RTML_SCHED_CONSTANT = 0, RTML_SCHED_INVERSE_SCALING, RTML_SCHED_STEP } rtml_sched_kind;
typedef enum { RTML_LOSS_SQUARED = 0, RTML_LOSS_HUBER } rtml_reg_loss;
typedef enum { RTML_ACT_RELU = 0, RTML_ACT_TANH } rtml_activation;
/* What the pipeline does when its drift detector fires (config/monitor.c). */
typedef enum { RTML_DRIFT_ALERT = 0, RTML_DRIFT_RESET, RTML_DRIFT_ROLLBACK } rtml_drift_action;

/* A transform step of a feature, in order (features/featurize.c applies them). */
typedef enum {
    RTML_TX_STANDARDIZE = 0, /* standardize: running mean/variance (Welford), x -> (x - mean) / std */
    RTML_TX_LOG1P,           /* log1p: x -> log1p(max(x, 0)) */
    RTML_TX_CLIP,            /* {clip: [lo, hi]}: a=lo, b=hi */
    RTML_TX_MINMAX,          /* minmax: running min/max, x -> (x - min) / (max - min), 0 before a spread */
    RTML_TX_IMPUTE_MEAN,     /* {impute: mean}: a missing value becomes the running mean of the field */
    RTML_TX_IMPUTE_CONST,    /* {impute: 3.5}: a missing value becomes a */
    RTML_TX_BUCKETIZE,       /* {bucketize: [b1, b2, ...]}: x -> index of its bucket (0..n_bounds) */
    RTML_TX_HOUR_OF_DAY,     /* hour_of_day: timestamp -> 0..23 (UTC) */
    RTML_TX_DAY_OF_WEEK,     /* day_of_week: timestamp -> 0..6, Monday = 0 (UTC) */
    RTML_TX_ONE_HOT,         /* {one_hot: N}: vocabulary of at most N values (learned), plus unknown: N+1 dims */
    RTML_TX_HASH,            /* {hash: N}: signed feature hashing into N buckets */
    RTML_TX_CROSS,           /* {cross: {with: /other, buckets: N}}: hash of the pair (this, other) */
    RTML_TX_BAG_OF_WORDS,    /* {bag_of_words: N}: lower-cased word tokens hashed into N buckets */
    RTML_TX_ARRAY,           /* {array: N}: a numeric array of exactly N values, passed through densely */
} rtml_transform_kind;

typedef struct {
    rtml_transform_kind kind;
    double a, b;    /* clip: a=lo, b=hi; impute constant: a */
    size_t n;       /* one_hot cap, hash/cross/bag_of_words buckets, array size */
    double *bounds; /* bucketize boundaries, strictly increasing (owned) */
    size_t n_bounds;
    char *with;     /* cross: the other field's JSON Pointer (owned) */
} rtml_transform;

typedef struct {
    char *name;  /* feature name, unique */
    char *field; /* JSON Pointer (RFC 6901), e.g. "/amount"; an aggregate's output: "@aggregate/NAME" */
    int aggregate; /* the aggregate it reads (index into aggregates.list), or -1: a field of the record */
    rtml_transform *transforms;
    size_t n_transforms;
    int line;
} rtml_feature;

/* aggregates (config/aggregates.c): features over the recent past of a key, computed before the record is added. */
typedef enum {
    RTML_AGG_COUNT = 0, RTML_AGG_SUM, RTML_AGG_MEAN, RTML_AGG_MIN, RTML_AGG_MAX, RTML_AGG_STD, RTML_AGG_DISTINCT,
    RTML_AGG_LAST, RTML_AGG_TIME_SINCE_LAST
} rtml_agg_fn;

typedef struct {
    char *name;         /* unique; features read it with `aggregate: NAME` */
    char *key;          /* JSON Pointer of the key, or "@key" (the Kafka key) */
    char *field;        /* JSON Pointer of the value (sum, mean, min, max, std, distinct, last); NULL otherwise */
    rtml_agg_fn fn;
    double window_s;    /* a sliding window [t - window, t); 0: none (all the key's history) */
    double half_life_s; /* > 0: exponentially decayed (count, sum, mean) instead of a window */
    int skip_missing;   /* missing: skip — a record without the field counts for no value (default: rejected) */
    int line;
} rtml_aggregate;

/* model.tensorflow.inputs: what feeds one input of the serving signature. */
typedef struct {
    char *name;       /* the signature's input key, e.g. "x" */
    char **features;  /* feature names whose values are concatenated in this order (owned), or NULL */
    size_t n_features;
    char *field;      /* or a field's raw value (JSON Pointer): strings, numbers, arrays; NULL otherwise */
    int line;
} rtml_tf_input;

/* model.tensorflow (engine: tensorflow; see tf.c for the syntax and the defaults). */
typedef struct {
    char *saved_model;     /* a SavedModel directory, or a base directory of numbered versions (required) */
    char *signature;       /* serving signature, default "serving_default" */
    char *train_signature; /* NULL: "train" when the model has it and label is configured; "none": serve only */
    char *label_input;     /* the train signature's label input, default "label" */
    char *output;          /* the prediction output; NULL: the only one, else output_0, else the first by name */
    char **extra_outputs;  /* more outputs copied into each prediction record (owned) */
    size_t n_extra_outputs;
    rtml_tf_input *inputs; /* NULL: the signature's only input gets every feature, in order */
    size_t n_inputs;
    size_t batch;          /* records per session run, default 64 */
    double max_delay_s;    /* a partial batch runs after this long, default 0.005 */
    size_t intra_op_threads; /* TensorFlow's pool for one op's parallel parts, default 1 */
    long inter_op_threads;   /* its pool for running ops; -1 (default): every op runs in rtml's own thread,
                                which waits on each session run anyway (no hand-off to a pool thread) */
    int watch;             /* load newer numbered versions as they appear (default true for a base dir) */
    double reload_every_s; /* how often to look for them, default 1 */
    char *export_dir;      /* where trained versions go; NULL: saved_model when it is a base dir, else
                              <state.dir>/tensorflow */
    char *library;         /* libtensorflow_cc.so.2 or its directory; NULL: RTML_TENSORFLOW_LIBRARY, else the
                              build's default (engine/tf_api.h) */
} rtml_tf_config;

typedef enum { RTML_DELIVERY_AT_LEAST_ONCE = 0, RTML_DELIVERY_EXACTLY_ONCE } rtml_delivery;

/* What an instance does when several share a model (scale.c). */
typedef enum { RTML_ROLE_BOTH = 0, RTML_ROLE_PREDICTOR, RTML_ROLE_TRAINER } rtml_role;

typedef struct rtml_config {
    char *path; /* file the config came from (for messages) */

    rtml_kv *kafka; /* librdkafka properties, verbatim, in file order */
    size_t n_kafka;

    struct {
        char **topics; /* at least one for `run` (checked by rtml_config_check_run) */
        size_t n_topics;
        rtml_format format; /* default json */
        char *schema;       /* avro: .avsc file; protobuf: descriptor set (protoc --descriptor_set_out) */
        char *message;      /* protobuf: fully qualified message name */
        char csv_delimiter; /* csv: default ',' */
        int csv_header;     /* csv: 1 (default) = the first record names the columns (when no csv_columns) */
        char **csv_columns; /* csv: the column names in order (owned); NULL = from the header record */
        size_t n_csv_columns;
        size_t max_record_bytes; /* larger records are rejected as too_large (default 1 MiB) */
    } input;

    struct {
        rtml_aggregate *list;
        size_t n;
        char *time;          /* the event time: a JSON Pointer (epoch s/ms or ISO-8601), or "@timestamp" (default) */
        double lateness_s;   /* a record at most this much older than its key's newest is placed; default 0 */
        size_t max_keys;     /* keys kept per key field; the least recently updated goes first; default 1,000,000 */
        double ttl_s;        /* a key not updated for this long (event time) is dropped; 0: the default */
        size_t max_events;   /* events kept per key; default 100,000 */
        size_t distinct_cap; /* distinct counts exactly up to this many values, then HyperLogLog; default 10,000 */
        int partitioned;     /* the input topics are keyed by the aggregates' key already: no repartition */
        char *repartition_topic; /* where records are re-keyed by the aggregates' key; NULL: "<group.id>-aggregates" */
        int line;
    } aggregates;

    rtml_feature *features; /* at least one */
    size_t n_features;

    /* label (label.c): in the record itself (field), or on a topic of its own joined by key (topic) */
    struct {
        char *field;        /* JSON Pointer of the label in a feature record, or NULL */
        char *topic;        /* labels arrive later on this topic (join.h); NULL: none */
        char *key;          /* the join key in a label record: a JSON Pointer, or "@key" (the Kafka key) */
        char *value;        /* the label in a label record (JSON Pointer) */
        char *feature_key;  /* the join key in a feature record (default: key) */
        double ttl_s;       /* a scored record waits this long (label stream time) for its label; default 7d */
        double wait_s;      /* a label that came first waits this long (feature stream time); default 60 s */
        size_t max_pending; /* scored records waiting, at most (default 1,000,000) */
        size_t max_early;   /* labels waiting for their record, at most (default 100,000) */
        int line;
    } label;

    struct {
        rtml_engine_kind engine;  /* default native */
        rtml_model_type type;     /* default logistic; native engine only */
        rtml_task task;           /* resolved: the type's own, or model.task (mlp, tensorflow; default binary) */
        rtml_opt_kind optimizer;  /* default sgd */
        double learning_rate; /* default 0.05, > 0 */
        rtml_sched_kind schedule; /* default constant; inverse_scaling: lr / t^power_t; step */
        double power_t;      /* inverse_scaling exponent, default 0.5 */
        double decay_every;  /* step: multiply lr by decay_rate every decay_every rows (default 10000) */
        double decay_rate;   /* step: default 0.5, in (0, 1] */
        double l2;           /* default 0, >= 0 */
        double l1;           /* ftrl: default 0, >= 0 */
        double ftrl_alpha;   /* ftrl: default 0.1, > 0 */
        double ftrl_beta;    /* ftrl: default 1, >= 0 */
        rtml_reg_loss loss;  /* regression: default squared, or huber */
        double huber_delta;  /* default 1, > 0 */
        double clip_gradient; /* clip each gradient to this L2 norm; 0 (default) = off */
        size_t *hidden;      /* mlp: hidden layer sizes, 1..3 of them (default [16]); owned */
        size_t n_hidden;
        rtml_activation activation; /* mlp: default relu, or tanh */
        size_t batch;        /* mlp: micro-batch size, default 1 */
        char **classes;      /* multiclass: class names in index order (owned); NULL = learn them */
        size_t n_classes;    /* multiclass: number of classes (len of classes, or `classes: N`); default 0 */
        unsigned long long seed; /* default 1 */
        rtml_tf_config tf;   /* engine tensorflow only */
    } model;

    struct {
        char *topic;        /* predictions topic; NULL allowed for replay */
        rtml_format format; /* default json; avro or protobuf also possible */
        char *schema;       /* avro: .avsc file of the prediction record (optional: built-in); protobuf: the
                             * descriptor set (protoc --include_imports --descriptor_set_out), required */
        char *message;      /* protobuf: the prediction record's fully qualified message name, required */
        int has_schema_id;  /* avro, protobuf: Confluent framing with schema_id (protobuf: and the message's
                             * indexes); 0: bare records */
        unsigned schema_id; /* 0 .. 2147483647 */
        int features;         /* JSON predictions hold the feature vector as served */
        char *features_topic; /* or the vectors go to this topic, keyed like their inputs; NULL: not written */
    } output;

    rtml_delivery delivery;    /* default at_least_once */

    struct {
        char *dir;                  /* default "./state" */
        double checkpoint_every_s;  /* default 10; accepts "10s", "500ms", "2m", or a number of seconds */
        unsigned keep;              /* checkpoints kept, default 3 (checkpoint.h) */
    } state;

    struct {
        char *topic; /* NULL when not configured */
    } dead_letter;

    struct {
        char *listen; /* "HOST:PORT" (port 0: any free port, logged), NULL when not configured */
        double stalled_after_s; /* /healthz turns 503 when the loop is silent this long (default 30) */
    } monitor;

    /* drift: a detector on the prequential error stream, and what to do when it fires (monitor.c). */
    struct {
        bool enabled;        /* the section is present */
        rtml_drift_kind detector;   /* default adwin */
        rtml_drift_action action;   /* default alert */
        char *topic;         /* event records go here (optional) */
        double delta, threshold, alpha, warning_level, drift_level; /* NaN: the detector's default */
        unsigned long long min_instances; /* 0: the detector's default */
    } drift;

    /* role and models: instances sharing model versions through a compacted topic (scale.c) */
    rtml_role role; /* default both */
    int role_line;
    unsigned workers;  /* group members in this process (run/workers.c); 0: not set (1) */
    bool workers_auto; /* workers: auto (one per online core) */
    int workers_line;
    struct {
        char *topic;            /* NULL when not configured */
        double publish_every_s; /* 0: the default (rtml_models_publish_every) */
        unsigned keep;          /* 0: the default (rtml_models_keep) */
    } models;

    struct {
        char *level;  /* error | warn | info (default) | debug */
        char *format; /* text (default) | json */
    } log;

    /* serve: the Open Inference Protocol endpoint on the live model (serve.c; docs/serving.md) */
    struct {
        char *listen;             /* "HOST:PORT" (default 127.0.0.1:8080 when the section is there); NULL: none */
        char *name;               /* the model's name in /v2/models/NAME (default "rtml") */
        double refresh_s;         /* the native engines' snapshot is refreshed this often (default 0.1) */
        unsigned threads;         /* HTTP threads (default 2) */
        char *log_topic;          /* each answered record goes here, keyed by its request id; NULL: none */
        char *tls_cert, *tls_key; /* PEM files: HTTPS when both are set */
        char *tokens_file;        /* bearer tokens, one a line; NULL: no authentication */
        bool open_health;         /* the health paths answer without a token (default true) */
        size_t max_body_bytes;    /* default 1 MiB */
        size_t max_records;       /* records per request (default 1000) */
        size_t max_connections;   /* open connections (default 256) */
        double request_timeout_s; /* a request must arrive whole within this (default 10 s) */
        double idle_timeout_s;    /* an idle keep-alive connection is closed after this (default 30 s) */
        int line;
    } serve;
} rtml_config;

/* Parse the YAML file at path into *out (zeroed first). Returns 0, or -1 with "FILE:LINE: KEY: reason"
 * in err. On failure *out holds nothing that needs freeing. */
int rtml_config_load(const char *path, rtml_config *out, char *err, size_t errlen);

/* Same, from a buffer; name stands in for the file name in messages (used by tests and the fuzzer). */
int rtml_config_parse(const char *name, const char *buf, size_t len, rtml_config *out, char *err,
                      size_t errlen);

/* What `rtml run` needs beyond a valid file: kafka bootstrap.servers, input.topics, output.topic.
 * Returns 0, or -1 with "FILE: KEY: reason" in err. */
int rtml_config_check_run(const rtml_config *cfg, char *err, size_t errlen);

/* Whether the config's model runs on the TensorFlow engine (model.engine: tensorflow). */
static inline bool rtml_config_is_tensorflow(const rtml_config *cfg) {
    return cfg->model.engine == RTML_ENGINE_TENSORFLOW;
}

/* Whether labels come on a topic of their own (label.topic). */
static inline bool rtml_config_label_topic(const rtml_config *cfg) { return cfg->label.topic != NULL; }

/* Whether the stream learns from served requests: their log topic is read back and joined with label.topic. */
static inline bool rtml_config_serve_learns(const rtml_config *cfg) {
    return cfg->serve.listen && cfg->serve.log_topic && cfg->label.topic;
}

/* The value of a kafka property, or NULL. */
const char *rtml_config_kafka(const rtml_config *cfg, const char *key);

/* Print the resolved config (defaults filled in) as YAML, for `rtml check`. */
void rtml_config_print(const rtml_config *cfg, FILE *out);

void rtml_config_free(rtml_config *cfg);

#endif
