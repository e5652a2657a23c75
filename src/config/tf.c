/* tf.c — the model.tensorflow section: which SavedModel, which signatures, what feeds each input.
 *
 *   model:
 *     engine: tensorflow
 *     task: binary                     # binary (default) | regression | multiclass (with classes)
 *     tensorflow:
 *       saved_model: models/clf        # a SavedModel dir, or a base dir of numbered versions (1, 2, ...)
 *       signature: serving_default     # the serving signature (default)
 *       train_signature: train         # default: train when the model has it and a label is configured;
 *                                      # none: serve only
 *       inputs:                        # default: the signature's only input gets every feature, in order
 *         x: [x1, x2, x3]              # feature names: their values (after transforms) side by side
 *         country: /country            # a JSON Pointer: the field's raw value (string, number, array)
 *       label_input: label             # the train signature's label input (default)
 *       output: output_0               # the prediction (default: the only output, else output_0, else the
 *                                      # first by name)
 *       extra_outputs: [logits]        # copied into each prediction record under "outputs"
 *       batch: 64                      # records per session run (default 64)
 *       max_delay: 5ms                 # a partial batch runs after this long (default 5ms)
 *       intra_op_threads: 1            # TensorFlow's pool for one op's parallel parts (default 1)
 *       inter_op_threads: -1           # -1 (default): ops run in rtml's thread, which waits on each run
 *                                      # anyway; N >= 1: a pool of N threads (a hand-off per run)
 *       watch: true                    # load newer numbered versions as they appear (default true)
 *       reload_every: 1s               # how often to look (default 1s)
 *       export_dir: models/clf         # where trained versions go (default: saved_model when it is a base
 *                                      # dir of versions, else <state.dir>/tensorflow)
 *       library: /opt/tensorflow/lib   # libtensorflow_cc.so.2 or the directory that holds it (default:
 *                                      # $RTML_TENSORFLOW_LIBRARY, else the build's; engine/tf_api.h)
 *
 * The keys of the native learners (type, optimizer, learning_rate, hidden, ...) do not apply to a
 * SavedModel and are rejected with engine: tensorflow, as model.tensorflow is with engine: native: a key
 * that would silently do nothing is a mistake worth naming. */
#include <stdlib.h>
#include <string.h>

#include "config/tf.h"

#define TF_MAX_BATCH 65536
#define TF_MAX_THREADS 256

enum {
    T_SAVED_MODEL, T_SIGNATURE, T_TRAIN_SIGNATURE, T_INPUTS, T_LABEL_INPUT, T_OUTPUT, T_EXTRA, T_BATCH,
    T_MAX_DELAY, T_INTRA, T_INTER, T_WATCH, T_RELOAD_EVERY, T_EXPORT_DIR, T_LIBRARY
};
static const char *const TF_KEYS[] = {"saved_model", "signature",        "train_signature", "inputs",
                                      "label_input", "output",           "extra_outputs",   "batch",
                                      "max_delay",   "intra_op_threads", "inter_op_threads", "watch",
                                      "reload_every", "export_dir",      "library",
                                      NULL};

void rtml_tf_config_defaults(rtml_tf_config *t) {
    t->batch = 64;
    t->max_delay_s = 0.005;
    t->intra_op_threads = 1;
    t->inter_op_threads = -1;
    t->watch = 1;
    t->reload_every_s = 1;
}

/* A feature list must name configured features, each once. */
static int check_feature_names(const cfg_ctx *c, const yaml_node_t *n, const char *path, const rtml_tf_input *in,
                               const rtml_config *cfg) {
    for (size_t i = 0; i < in->n_features; i++) {
        size_t k = 0;
        while (k < cfg->n_features && strcmp(cfg->features[k].name, in->features[i]) != 0) k++;
        if (k == cfg->n_features)
            return cfg_fail(c, cfg_line(cfg_seq_item(c, n, i)), path, "'%.60s' is not a feature in the features list",
                            in->features[i]);
    }
    return 0;
}

/* inputs.NAME: [feature, ...] or /pointer. */
static int parse_input(const cfg_ctx *c, const yaml_node_t *k, const yaml_node_t *v, rtml_tf_input *in,
                       const rtml_config *cfg) {
    char path[CFG_PATH];
    const char *name = cfg_text(k);
    if (!name || !*name) return cfg_fail(c, cfg_line(k), "model.tensorflow.inputs", "keys must be non-empty strings");
    if (!(in->name = strdup(name))) return cfg_oom(c, k, "model.tensorflow.inputs");
    in->line = cfg_line(k);
    cfg_key_fmt(path, "model.tensorflow.inputs.%s", name);
    if (v->type == YAML_SEQUENCE_NODE) {
        if (cfg_dup_string_list(c, v, path, 1, 65536, &in->features, &in->n_features) != 0) return -1;
        return check_feature_names(c, v, path, in, cfg);
    }
    if (v->type == YAML_SCALAR_NODE && cfg_text(v) && cfg_text(v)[0] == '/')
        return cfg_dup_pointer(c, v, path, &in->field);
    char buf[96];
    return cfg_fail(c, cfg_line(v), path, "must be a list of feature names, e.g. [x1, x2], or a field's JSON Pointer, "
                    "e.g. /country; got %s", cfg_describe(v, buf, sizeof buf));
}

static int parse_inputs(const cfg_ctx *c, const yaml_node_t *map, rtml_tf_config *t, const rtml_config *cfg) {
    if (cfg_want_kind(c, map, "model.tensorflow.inputs", YAML_MAPPING_NODE) != 0) return -1;
    size_t n = cfg_map_len(map);
    if (n == 0) return cfg_fail(c, cfg_line(map), "model.tensorflow.inputs", "must name at least one input");
    if (!(t->inputs = calloc(n, sizeof *t->inputs))) return cfg_oom(c, map, "model.tensorflow.inputs");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
        rtml_tf_input *in = &t->inputs[t->n_inputs++];
        if (parse_input(c, k, v, in, cfg) != 0) return -1;
        for (size_t i = 0; i + 1 < t->n_inputs; i++)
            if (strcmp(t->inputs[i].name, in->name) == 0)
                return cfg_fail(c, in->line, "model.tensorflow.inputs", "duplicate input '%.60s' (first at line %d)",
                                in->name, t->inputs[i].line);
    }
    return 0;
}

static int parse_counts(const cfg_ctx *c, yaml_node_t *const *v, rtml_tf_config *t) {
    if (v[T_BATCH] && cfg_get_count(c, v[T_BATCH], "model.tensorflow.batch", 1, TF_MAX_BATCH, &t->batch) != 0)
        return -1;
    if (v[T_MAX_DELAY] && cfg_get_duration(c, v[T_MAX_DELAY], "model.tensorflow.max_delay", &t->max_delay_s) != 0)
        return -1;
    if (v[T_INTRA] &&
        cfg_get_count(c, v[T_INTRA], "model.tensorflow.intra_op_threads", 1, TF_MAX_THREADS, &t->intra_op_threads) != 0)
        return -1;
    if (v[T_INTER]) {
        size_t n;
        const char *s = cfg_text(v[T_INTER]);
        if (s && strcmp(s, "-1") == 0) t->inter_op_threads = -1;
        else if (cfg_get_count(c, v[T_INTER], "model.tensorflow.inter_op_threads", 1, TF_MAX_THREADS, &n) != 0)
            return cfg_fail(c, cfg_line(v[T_INTER]), "model.tensorflow.inter_op_threads",
                            "must be -1 (run ops in rtml's thread) or a number of threads from 1 to %d", TF_MAX_THREADS);
        else t->inter_op_threads = (long)n;
    }
    if (v[T_WATCH] && cfg_get_bool(c, v[T_WATCH], "model.tensorflow.watch", &t->watch) != 0) return -1;
    return v[T_RELOAD_EVERY] ? cfg_get_duration(c, v[T_RELOAD_EVERY], "model.tensorflow.reload_every", &t->reload_every_s)
                             : 0;
}

int rtml_config_parse_tf(const cfg_ctx *c, const yaml_node_t *map, rtml_config *cfg) {
    rtml_tf_config *t = &cfg->model.tf;
    yaml_node_t *v[CFG_MAX_KEYS];
    if (cfg_fields(c, map, "model.tensorflow", TF_KEYS, v) != 0) return -1;
    if (!v[T_SAVED_MODEL])
        return cfg_fail(c, cfg_line(map), "model.tensorflow.saved_model",
                        "required: the SavedModel directory (or a base directory of numbered versions)");
    static const struct { int key; const char *name; size_t off; } strings[] = {
        {T_SAVED_MODEL, "model.tensorflow.saved_model", offsetof(rtml_tf_config, saved_model)},
        {T_SIGNATURE, "model.tensorflow.signature", offsetof(rtml_tf_config, signature)},
        {T_TRAIN_SIGNATURE, "model.tensorflow.train_signature", offsetof(rtml_tf_config, train_signature)},
        {T_LABEL_INPUT, "model.tensorflow.label_input", offsetof(rtml_tf_config, label_input)},
        {T_OUTPUT, "model.tensorflow.output", offsetof(rtml_tf_config, output)},
        {T_EXPORT_DIR, "model.tensorflow.export_dir", offsetof(rtml_tf_config, export_dir)},
        {T_LIBRARY, "model.tensorflow.library", offsetof(rtml_tf_config, library)},
    };
    for (size_t i = 0; i < COUNT(strings); i++)
        if (v[strings[i].key] && cfg_dup_string(c, v[strings[i].key], strings[i].name,
                                                (char **)((char *)t + strings[i].off)) != 0)
            return -1;
    if (v[T_EXTRA] && cfg_dup_string_list(c, v[T_EXTRA], "model.tensorflow.extra_outputs", 1, 64, &t->extra_outputs,
                                          &t->n_extra_outputs) != 0)
        return -1;
    if (v[T_INPUTS] && parse_inputs(c, v[T_INPUTS], t, cfg) != 0) return -1;
    if (parse_counts(c, v, t) != 0) return -1;
    if (cfg_set_default(&t->signature, "serving_default") || cfg_set_default(&t->label_input, "label"))
        return cfg_oom(c, map, "model.tensorflow");
    return 0;
}

/* A config without features must say what feeds the model. Runs once the whole file is read. */
int rtml_config_check_tf(const cfg_ctx *c, const rtml_config *cfg) {
    if (cfg->n_features == 0 && !cfg->model.tf.inputs)
        return cfg_fail(c, 1, "model.tensorflow.inputs",
                        "required when there are no features: map each signature input to features or a field");
    for (size_t i = 0; i < cfg->model.tf.n_inputs; i++) {
        const rtml_tf_input *in = &cfg->model.tf.inputs[i];
        if (cfg->label.field && in->field && strcmp(in->field, cfg->label.field) == 0)
            return cfg_fail(c, in->line, "model.tensorflow.inputs",
                            "input '%.60s' reads the label field %s: the model would see the answer", in->name,
                            in->field);
    }
    return 0;
}

void rtml_tf_config_free(rtml_tf_config *t) {
    free(t->saved_model);
    free(t->signature);
    free(t->train_signature);
    free(t->label_input);
    free(t->output);
    free(t->export_dir);
    free(t->library);
    for (size_t i = 0; i < t->n_extra_outputs; i++) free(t->extra_outputs[i]);
    free(t->extra_outputs);
    for (size_t i = 0; i < t->n_inputs; i++) {
        free(t->inputs[i].name);
        for (size_t j = 0; j < t->inputs[i].n_features; j++) free(t->inputs[i].features[j]);
        free(t->inputs[i].features);
        free(t->inputs[i].field);
    }
    free(t->inputs);
}

static void print_opt(FILE *out, const char *key, const char *value) {
    if (!value) return;
    fprintf(out, "    %s: ", key);
    cfg_put_str(out, value);
    fputc('\n', out);
}

void rtml_config_print_tf(const rtml_tf_config *t, FILE *out) {
    fputs("  tensorflow:\n", out);
    print_opt(out, "saved_model", t->saved_model);
    print_opt(out, "signature", t->signature);
    print_opt(out, "train_signature", t->train_signature);
    print_opt(out, "label_input", t->label_input);
    print_opt(out, "output", t->output);
    for (size_t i = 0; i < t->n_extra_outputs; i++) {
        fputs(i ? ", " : "    extra_outputs: [", out);
        cfg_put_str(out, t->extra_outputs[i]);
    }
    if (t->n_extra_outputs) fputs("]\n", out);
    if (t->n_inputs) fputs("    inputs:\n", out);
    for (size_t i = 0; i < t->n_inputs; i++) {
        fputs("      ", out);
        cfg_put_str(out, t->inputs[i].name);
        fputs(": ", out);
        if (t->inputs[i].field) cfg_put_str(out, t->inputs[i].field);
        for (size_t j = 0; j < t->inputs[i].n_features; j++) {
            fputs(j ? ", " : "[", out);
            cfg_put_str(out, t->inputs[i].features[j]);
        }
        fputs(t->inputs[i].field ? "\n" : "]\n", out);
    }
    fprintf(out, "    batch: %zu\n    max_delay: ", t->batch);
    cfg_put_num(out, t->max_delay_s);
    fprintf(out, "\n    intra_op_threads: %zu\n    inter_op_threads: %ld\n    watch: %s\n    reload_every: ",
            t->intra_op_threads, t->inter_op_threads, t->watch ? "true" : "false");
    cfg_put_num(out, t->reload_every_s);
    fputc('\n', out);
    print_opt(out, "export_dir", t->export_dir);
    print_opt(out, "library", t->library);
}
