/* config.h — rtml's configuration: the YAML file a user writes, parsed into one plain struct.
 *
 * The shape is DESIGN.md's contract (kafka, input, features, label, model, output, delivery, state,
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
#include <stddef.h>
#include <stdio.h>

/* One `key: value` pair (kafka librdkafka properties, engine options). */
typedef struct {
    char *key;
    char *value;
    int line;
} rtml_kv;

typedef enum { RTML_FMT_JSON = 0, RTML_FMT_CSV, RTML_FMT_AVRO, RTML_FMT_PROTOBUF } rtml_format;

/* A transform step of a feature, in order. Only the kinds the pipeline implements are accepted;
 * later issues add more kinds here. */
typedef enum {
    RTML_TX_STANDARDIZE = 0, /* running mean/variance (Welford), x -> (x - mean) / std */
    RTML_TX_LOG1P,           /* x -> log1p(max(x, 0)) */
    RTML_TX_CLIP,            /* x -> min(max(x, lo), hi); params a=lo, b=hi */
} rtml_transform_kind;

typedef struct {
    rtml_transform_kind kind;
    double a, b; /* parameters (clip: a=lo, b=hi) */
} rtml_transform;

typedef struct {
    char *name;  /* feature name, unique */
    char *field; /* JSON Pointer (RFC 6901), e.g. "/amount" */
    rtml_transform *transforms;
    size_t n_transforms;
    int line;
} rtml_feature;

typedef enum { RTML_DELIVERY_AT_LEAST_ONCE = 0, RTML_DELIVERY_EXACTLY_ONCE } rtml_delivery;

typedef struct {
    char *path; /* file the config came from (for messages) */

    rtml_kv *kafka; /* librdkafka properties, verbatim, in file order */
    size_t n_kafka;

    struct {
        char **topics; /* at least one for `run` (checked by rtml_config_check_run) */
        size_t n_topics;
        rtml_format format; /* default json */
    } input;

    rtml_feature *features; /* at least one */
    size_t n_features;

    struct {
        char *field; /* JSON Pointer of the label, or NULL when the stream has no label */
    } label;

    struct {
        char *engine;        /* "native" (default) | "tensorflow" */
        char *type;          /* "linear" | "logistic" (default) | "softmax" | "ftrl" | "mlp" */
        char *optimizer;     /* "sgd" (default) | "momentum" | "adagrad" | "adam" */
        double learning_rate; /* default 0.05, > 0 */
        double l2;           /* default 0, >= 0 */
        unsigned long long seed; /* default 1 */
    } model;

    struct {
        char *topic;        /* predictions topic; NULL allowed for replay */
        rtml_format format; /* default json */
    } output;

    rtml_delivery delivery;    /* default at_least_once */

    struct {
        char *dir;                  /* default "./state" */
        double checkpoint_every_s;  /* default 10; accepts "10s", "500ms", "2m", or a number of seconds */
    } state;

    struct {
        char *topic; /* NULL when not configured */
    } dead_letter;

    struct {
        char *listen; /* "HOST:PORT", NULL when not configured */
    } monitor;
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

/* The value of a kafka property, or NULL. */
const char *rtml_config_kafka(const rtml_config *cfg, const char *key);

/* Print the resolved config (defaults filled in) as YAML, for `rtml check`. */
void rtml_config_print(const rtml_config *cfg, FILE *out);

void rtml_config_free(rtml_config *cfg);

const char *rtml_format_name(rtml_format f);

#endif
