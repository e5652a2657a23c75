/* model.c — the model section: the engine, the native learners' settings, and the task, typed once.
 *
 *   model.ftrl   a mapping {alpha, beta} (one place for FTRL's two rate parameters; l1/l2 stay at model level).
 *   model.task   the one rule of what a model predicts: logistic and ftrl binary, linear regression, softmax
 *                multiclass (a task given with them must agree); mlp and a SavedModel say it (default binary).
 *                A multiclass model needs model.classes (a list of names or a count >= 2), and no other may
 *                have them.
 * With engine: tensorflow only engine, task, classes, seed and tensorflow apply (tf.c has model.tensorflow);
 * a native learner's key there is an error, not a silent no-op. */
#include "config/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/sections.h"
#include "config/tf.h"

#define MAX_CLASSES 65536ULL

static const char *const ENGINE_NAMES[] = {"native", "tensorflow"};
static const char *const TYPE_NAMES[] = {"linear", "logistic", "softmax", "ftrl", "mlp"};
static const char *const TASK_NAMES[] = {"binary", "regression", "multiclass"};
static const char *const OPTIMIZER_NAMES[] = {"sgd", "momentum", "adagrad", "adam"};
static const char *const SCHEDULE_NAMES[] = {"constant", "inverse_scaling", "step"};
static const char *const LOSS_NAMES[] = {"squared", "huber"};
static const char *const ACTIVATION_NAMES[] = {"relu", "tanh"};

#define NAME(table, i) ((unsigned)(i) < COUNT(table) ? table[i] : "?")
const char *rtml_engine_kind_name(rtml_engine_kind k) { return NAME(ENGINE_NAMES, k); }
const char *rtml_model_type_name(rtml_model_type t) { return NAME(TYPE_NAMES, t); }
const char *rtml_task_name(rtml_task t) { return NAME(TASK_NAMES, t); }
const char *rtml_opt_name(rtml_opt_kind k) { return NAME(OPTIMIZER_NAMES, k); }
const char *rtml_sched_name(rtml_sched_kind k) { return NAME(SCHEDULE_NAMES, k); }
const char *rtml_loss_name(rtml_reg_loss l) { return NAME(LOSS_NAMES, l); }
const char *rtml_activation_name(rtml_activation a) { return NAME(ACTIVATION_NAMES, a); }

void rtml_model_kind(const rtml_config *cfg, char *out, size_t len) {
    if (rtml_config_is_tensorflow(cfg)) snprintf(out, len, "tensorflow");
    else snprintf(out, len, "native/%s", rtml_model_type_name(cfg->model.type));
}

/* The index of n's value in names (an enum's order is its table's), or -1 with the error reported. */
static int enum_at(const cfg_ctx *c, const yaml_node_t *n, const char *key, const char *what,
                   const char *const *names, size_t count) {
    size_t i;
    return cfg_get_enum(c, n, key, what, names, count, &i) == 0 ? (int)i : -1;
}
/* field = the index of n's value in table; on a bad value, return -1 from the calling function. */
#define READ_ENUM(c, n, key, what, table, type, field)                                                       \
    do {                                                                                                     \
        int i_ = enum_at(c, n, key, what, table, COUNT(table));                                              \
        if (i_ < 0) return -1;                                                                               \
        field = (type)i_;                                                                                    \
    } while (0)

enum {
    M_ENGINE, M_TYPE, M_TASK, M_OPTIMIZER, M_LR, M_SCHEDULE, M_POWER_T, M_DECAY_EVERY, M_DECAY_RATE, M_L2, M_L1,
    M_FTRL, M_LOSS, M_HUBER_DELTA, M_CLIP_GRADIENT, M_HIDDEN, M_ACTIVATION, M_BATCH, M_CLASSES, M_SEED, M_TF
};
static const char *const MODEL_KEYS[] = {"engine",  "type",        "task",          "optimizer", "learning_rate",
                                         "schedule", "power_t",    "decay_every",   "decay_rate", "l2",
                                         "l1",       "ftrl",       "loss",          "huber_delta", "clip_gradient",
                                         "hidden",   "activation", "batch",         "classes",   "seed",
                                         "tensorflow", NULL};

static int parse_optimizer(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg, yaml_node_t **lr) {
    static const char *const keys[] = {"name", "learning_rate", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    char buf[96];
    if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n)) {
        READ_ENUM(c, n, "model.optimizer", "optimizer", OPTIMIZER_NAMES, rtml_opt_kind, cfg->model.optimizer);
        return 0;
    }
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(c, cfg_line(n), "model.optimizer",
                        "must be an optimizer name or a mapping {name, learning_rate}, got %s",
                        cfg_describe(n, buf, sizeof buf));
    if (cfg_fields(c, n, "model.optimizer", keys, v) != 0) return -1;
    *lr = v[1];
    if (v[0]) READ_ENUM(c, v[0], "model.optimizer.name", "optimizer", OPTIMIZER_NAMES, rtml_opt_kind, cfg->model.optimizer);
    return 0;
}

static int parse_learning_rate(const cfg_ctx *c, yaml_node_t *top, yaml_node_t *opt, rtml_config *cfg) {
    if (top && opt)
        return cfg_fail(c, cfg_line(opt), "model.optimizer.learning_rate",
                        "conflicts with model.learning_rate at line %d; give it once", cfg_line(top));
    if (top) return cfg_get_number(c, top, "model.learning_rate", NUM_POSITIVE, &cfg->model.learning_rate);
    if (opt) return cfg_get_number(c, opt, "model.optimizer.learning_rate", NUM_POSITIVE, &cfg->model.learning_rate);
    return 0;
}

/* ftrl: {alpha: 0.1, beta: 1.0} — FTRL-Proximal's per-coordinate learning-rate parameters. */
static int parse_ftrl(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    static const char *const keys[] = {"alpha", "beta", NULL};
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "model.ftrl", keys, v) != 0) return -1;
    if (v[0] && cfg_get_number(c, v[0], "model.ftrl.alpha", NUM_POSITIVE, &cfg->model.ftrl_alpha) != 0) return -1;
    return v[1] ? cfg_get_number(c, v[1], "model.ftrl.beta", NUM_NONNEG, &cfg->model.ftrl_beta) : 0;
}

/* hidden: [32, 16] — one to three layer sizes. */
static int parse_hidden(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    char key[CFG_PATH], buf[96];
    if (n->type != YAML_SEQUENCE_NODE || cfg_seq_len(n) < 1 || cfg_seq_len(n) > 3)
        return cfg_fail(c, cfg_line(n), "model.hidden", "must be a list of 1 to 3 layer sizes like [32, 16], got %s",
                        n->type == YAML_SEQUENCE_NODE ? "a list of another length" : cfg_describe(n, buf, sizeof buf));
    size_t len = cfg_seq_len(n);
    if (!(cfg->model.hidden = calloc(len, sizeof *cfg->model.hidden))) return cfg_oom(c, n, "model.hidden");
    cfg->model.n_hidden = len;
    for (size_t i = 0; i < len; i++) {
        cfg_key_fmt(key, "model.hidden[%zu]", i);
        if (cfg_get_count(c, cfg_seq_item(c, n, i), key, 1, 4096, &cfg->model.hidden[i]) != 0) return -1;
    }
    return 0;
}

/* classes: [a, b, c] (names, in index order) or classes: 3 (a count; names learned from the labels). */
static int parse_classes(const cfg_ctx *c, const yaml_node_t *n, rtml_config *cfg) {
    if (n->type == YAML_SEQUENCE_NODE)
        return cfg_dup_string_list(c, n, "model.classes", 2, MAX_CLASSES, &cfg->model.classes, &cfg->model.n_classes);
    if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n) &&
        cfg_get_count(c, n, "model.classes", 2, MAX_CLASSES, &cfg->model.n_classes) == 0)
        return 0;
    char buf[96];
    return cfg_fail(c, cfg_line(n), "model.classes",
                    "must be a list of 2 or more class names or a number of classes >= 2, got %s",
                    cfg_describe(n, buf, sizeof buf));
}

/* The task a native model type implies; -1: none (mlp: model.task says). */
static int implied_task(rtml_model_type type) {
    switch (type) {
    case RTML_MODEL_LINEAR: return RTML_TASK_REGRESSION;
    case RTML_MODEL_SOFTMAX: return RTML_TASK_MULTICLASS;
    case RTML_MODEL_MLP: return -1;
    default: return RTML_TASK_BINARY;
    }
}

/* The task (given, else implied, else binary); a multiclass model has classes and only it does (at: where a
 * missing model.classes is reported). */
static int resolve_task(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *at, rtml_config *cfg,
                        const char *only) {
    int implied = rtml_config_is_tensorflow(cfg) ? -1 : implied_task(cfg->model.type);
    if (v[M_TASK] && implied >= 0 && (int)cfg->model.task != implied)
        return cfg_fail(c, cfg_line(v[M_TASK]), "model.task", "'%s' contradicts model.type %s, which is %s",
                        rtml_task_name(cfg->model.task), rtml_model_type_name(cfg->model.type),
                        rtml_task_name((rtml_task)implied));
    if (!v[M_TASK]) cfg->model.task = implied >= 0 ? (rtml_task)implied : RTML_TASK_BINARY;
    bool multiclass = cfg->model.task == RTML_TASK_MULTICLASS;
    if (multiclass && !cfg->model.n_classes)
        return cfg_fail(c, cfg_line(at), "model.classes",
                        "required by a multiclass model: the class names, e.g. [cat, dog, bird], or their number");
    if (!multiclass && v[M_CLASSES])
        return cfg_fail(c, cfg_line(v[M_CLASSES]), "model.classes", "only a multiclass model (%s) has classes", only);
    return 0;
}

/* The schedule, loss, regularisation and network keys: numbers and names with their ranges. */
static int parse_model_tuning(const cfg_ctx *c, yaml_node_t *const *v, rtml_config *cfg) {
    double rate;
    if (v[M_SCHEDULE])
        READ_ENUM(c, v[M_SCHEDULE], "model.schedule", "schedule", SCHEDULE_NAMES, rtml_sched_kind, cfg->model.schedule);
    if (v[M_POWER_T] && cfg_get_number(c, v[M_POWER_T], "model.power_t", NUM_POSITIVE, &cfg->model.power_t) != 0)
        return -1;
    if (v[M_DECAY_EVERY] &&
        cfg_get_number(c, v[M_DECAY_EVERY], "model.decay_every", NUM_POSITIVE, &cfg->model.decay_every) != 0)
        return -1;
    if (v[M_DECAY_RATE]) {
        if (cfg_get_number(c, v[M_DECAY_RATE], "model.decay_rate", NUM_POSITIVE, &rate) != 0) return -1;
        if (rate > 1) return cfg_fail(c, cfg_line(v[M_DECAY_RATE]), "model.decay_rate", "must be in (0, 1], got %g", rate);
        cfg->model.decay_rate = rate;
    }
    if (v[M_L2] && cfg_get_number(c, v[M_L2], "model.l2", NUM_NONNEG, &cfg->model.l2) != 0) return -1;
    if (v[M_L1] && cfg_get_number(c, v[M_L1], "model.l1", NUM_NONNEG, &cfg->model.l1) != 0) return -1;
    if (v[M_FTRL] && parse_ftrl(c, v[M_FTRL], cfg) != 0) return -1;
    if (v[M_LOSS]) READ_ENUM(c, v[M_LOSS], "model.loss", "loss", LOSS_NAMES, rtml_reg_loss, cfg->model.loss);
    if (v[M_HUBER_DELTA] &&
        cfg_get_number(c, v[M_HUBER_DELTA], "model.huber_delta", NUM_POSITIVE, &cfg->model.huber_delta) != 0)
        return -1;
    if (v[M_CLIP_GRADIENT] &&
        cfg_get_number(c, v[M_CLIP_GRADIENT], "model.clip_gradient", NUM_NONNEG, &cfg->model.clip_gradient) != 0)
        return -1;
    if (v[M_HIDDEN] && parse_hidden(c, v[M_HIDDEN], cfg) != 0) return -1;
    if (v[M_ACTIVATION])
        READ_ENUM(c, v[M_ACTIVATION], "model.activation", "activation", ACTIVATION_NAMES, rtml_activation,
                  cfg->model.activation);
    return v[M_BATCH] ? cfg_get_count(c, v[M_BATCH], "model.batch", 1, 65536, &cfg->model.batch) : 0;
}

/* engine: tensorflow takes engine, task, classes, seed and tensorflow; engine: native everything but
 * tensorflow. A key the engine would ignore is an error, not a silent no-op. */
static int engine_keys_ok(const cfg_ctx *c, yaml_node_t *const *v, const rtml_config *cfg) {
    char key[CFG_PATH];
    if (!rtml_config_is_tensorflow(cfg)) {
        if (v[M_TF]) return cfg_fail(c, cfg_line(v[M_TF]), "model.tensorflow", "only used with model.engine: tensorflow");
        return 0;
    }
    for (int i = 0; MODEL_KEYS[i]; i++) {
        if (!v[i] || i == M_ENGINE || i == M_TASK || i == M_CLASSES || i == M_SEED || i == M_TF) continue;
        cfg_join_key(key, "model", MODEL_KEYS[i]);
        return cfg_fail(c, cfg_line(v[i]), key, "only used by the native engine; with engine: tensorflow the SavedModel "
                        "is the model (its optimizer, layers and batching are set in model.tensorflow or at export)");
    }
    if (!v[M_TF])
        return cfg_fail(c, cfg_line(v[M_ENGINE]), "model.tensorflow", "required with engine: tensorflow "
                        "(at least {saved_model: DIR})");
    return 0;
}

/* engine: tensorflow — the task says how to read the output (model.type does not apply). */
static int parse_tf_model(const cfg_ctx *c, yaml_node_t *const *v, const yaml_node_t *map, rtml_config *cfg) {
    if (v[M_TASK]) READ_ENUM(c, v[M_TASK], "model.task", "task", TASK_NAMES, rtml_task, cfg->model.task);
    if (v[M_CLASSES] && parse_classes(c, v[M_CLASSES], cfg) != 0) return -1;
    if (v[M_SEED] && cfg_get_u64(c, v[M_SEED], "model.seed", &cfg->model.seed) != 0) return -1;
    if (rtml_config_parse_tf(c, v[M_TF], cfg) != 0) return -1;
    return resolve_task(c, v, v[M_TASK] ? v[M_TASK] : map, cfg, "task multiclass");
}

void rtml_cfg_model_defaults(rtml_config *cfg) {
    cfg->model.type = RTML_MODEL_LOGISTIC;
    cfg->model.learning_rate = 0.05;
    cfg->model.power_t = 0.5;
    cfg->model.decay_every = 10000;
    cfg->model.decay_rate = 0.5;
    cfg->model.ftrl_alpha = 0.1;
    cfg->model.ftrl_beta = 1;
    cfg->model.huber_delta = 1;
    cfg->model.batch = 1;
    cfg->model.seed = 1;
    rtml_tf_config_defaults(&cfg->model.tf);
}

int rtml_cfg_model_parse(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    yaml_node_t *v[CFG_MAX_KEYS], *opt_lr = NULL;
    if (cfg_fields(c, map, "model", MODEL_KEYS, v) != 0) return -1;
    if (v[M_ENGINE]) READ_ENUM(c, v[M_ENGINE], "model.engine", "engine", ENGINE_NAMES, rtml_engine_kind, cfg->model.engine);
    if (engine_keys_ok(c, v, cfg) != 0) return -1;
    if (rtml_config_is_tensorflow(cfg)) return parse_tf_model(c, v, map, cfg);
    if (v[M_TYPE]) READ_ENUM(c, v[M_TYPE], "model.type", "model type", TYPE_NAMES, rtml_model_type, cfg->model.type);
    if (v[M_TASK]) READ_ENUM(c, v[M_TASK], "model.task", "task", TASK_NAMES, rtml_task, cfg->model.task);
    if (v[M_OPTIMIZER] && parse_optimizer(c, v[M_OPTIMIZER], cfg, &opt_lr) != 0) return -1;
    if (parse_learning_rate(c, v[M_LR], opt_lr, cfg) != 0 || parse_model_tuning(c, v, cfg) != 0) return -1;
    if (v[M_CLASSES] && parse_classes(c, v[M_CLASSES], cfg) != 0) return -1;
    if (v[M_SEED] && cfg_get_u64(c, v[M_SEED], "model.seed", &cfg->model.seed) != 0) return -1;
    return resolve_task(c, v, v[M_TYPE] ? v[M_TYPE] : map, cfg, "type softmax, or mlp with task multiclass");
}

/* model.tensorflow's checks need the whole file (the features its inputs name). */
int rtml_cfg_model_check(const cfg_ctx *c, rtml_config *cfg) {
    return rtml_config_is_tensorflow(cfg) ? rtml_config_check_tf(c, cfg) : 0;
}

static void print_num(FILE *out, const char *key, double v) {
    fprintf(out, "  %s: ", key);
    cfg_put_num(out, v);
    fputc('\n', out);
}

static void print_classes(const rtml_config *cfg, FILE *out) {
    if (cfg->model.classes) {
        fputs("  classes:\n", out);
        cfg_print_list(out, "    ", cfg->model.classes, cfg->model.n_classes);
    } else if (cfg->model.n_classes) {
        fprintf(out, "  classes: %zu\n", cfg->model.n_classes);
    }
}

/* The keys that tune training: schedule, regularisation, loss, network shape, classes. */
static void print_model_tuning(const rtml_config *cfg, FILE *out) {
    fprintf(out, "  schedule: %s\n", rtml_sched_name(cfg->model.schedule));
    print_num(out, "power_t", cfg->model.power_t);
    print_num(out, "decay_every", cfg->model.decay_every);
    print_num(out, "decay_rate", cfg->model.decay_rate);
    print_num(out, "l2", cfg->model.l2);
    print_num(out, "l1", cfg->model.l1);
    fputs("  ftrl:\n    alpha: ", out);
    cfg_put_num(out, cfg->model.ftrl_alpha);
    fputs("\n    beta: ", out);
    cfg_put_num(out, cfg->model.ftrl_beta);
    fputc('\n', out);
    fprintf(out, "  loss: %s\n", rtml_loss_name(cfg->model.loss));
    print_num(out, "huber_delta", cfg->model.huber_delta);
    print_num(out, "clip_gradient", cfg->model.clip_gradient);
    if (cfg->model.n_hidden) {
        fputs("  hidden: [", out);
        for (size_t i = 0; i < cfg->model.n_hidden; i++) fprintf(out, "%s%zu", i ? ", " : "", cfg->model.hidden[i]);
        fputs("]\n", out);
    }
    fprintf(out, "  activation: %s\n", rtml_activation_name(cfg->model.activation));
    fprintf(out, "  batch: %zu\n", cfg->model.batch);
    print_classes(cfg, out);
}

void rtml_cfg_model_print(const rtml_config *cfg, FILE *out) {
    fprintf(out, "model:\n  engine: %s\n", rtml_engine_kind_name(cfg->model.engine));
    if (rtml_config_is_tensorflow(cfg)) {
        fprintf(out, "  task: %s\n", rtml_task_name(cfg->model.task));
        print_classes(cfg, out);
        fprintf(out, "  seed: %llu\n", cfg->model.seed);
        rtml_config_print_tf(&cfg->model.tf, out);
        return;
    }
    fprintf(out, "  type: %s\n  task: %s\n", rtml_model_type_name(cfg->model.type), rtml_task_name(cfg->model.task));
    fprintf(out, "  optimizer:\n    name: %s\n    learning_rate: ", rtml_opt_name(cfg->model.optimizer));
    cfg_put_num(out, cfg->model.learning_rate);
    fputc('\n', out);
    print_model_tuning(cfg, out);
    fprintf(out, "  seed: %llu\n", cfg->model.seed);
}

void rtml_cfg_model_free(rtml_config *cfg) {
    for (size_t i = 0; cfg->model.classes && i < cfg->model.n_classes; i++) free(cfg->model.classes[i]);
    free(cfg->model.classes);
    free(cfg->model.hidden);
    rtml_tf_config_free(&cfg->model.tf);
}
