/* tf_engine.c — the TensorFlow engine: engine.h's interface over a SavedModel, through the TF C API.
 *
 * Serving: the pipeline hands over a micro-batch of rows; each feed (tf_feed.h) becomes one input tensor of
 * the serving signature and one TF_SessionRun returns the prediction output (and any extra outputs).
 * Training: the labelled rows of the batch, after they were scored, run the train signature once (inputs +
 * label -> loss); the optimizer step happens inside it, and the variables live on in the session.
 *
 * Where models live (the "model directory", TF Serving's layout of numbered versions):
 *   model.tensorflow.export_dir if set; else saved_model when that is a base directory of versions; else
 *   <state.dir>/tensorflow. rtml starts from the newest version there, or from saved_model when there is
 *   none yet; it writes each checkpoint there as the next version; and, with watch, it loads any newer version
 *   that appears (another trainer, a user's push), switching between batches: the new model is loaded and
 *   bound beside the old one, then swapped in, then the old one is freed, so no record is dropped or failed.
 *   A version that cannot be loaded or does not fit the config is logged and skipped; the old one stays.
 *
 * Binding: tensor names come from the MetaGraphDef (tf_meta.h), never guessed; every check of signatures,
 * inputs, dtypes and shapes against the config happens at load, so a mismatch is one clear error at start
 * (rtml check / run exit 2), not a failure per batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "config/model.h"
#include "engine/engine.h"
#include "engine/tf/tf_feed.h"
#include "engine/tf/tf_model.h"
#include "base/log.h"
#include "base/rtml.h"

#define KEEP_EXPORTS 5   /* rtml-written versions kept in the model directory, at least; see tf_checkpoint */
#define MAX_OUT_WIDTH 65536

/* A loaded model with every name resolved: what one TF_SessionRun needs. */
typedef struct {
    rtml_tf_model *model;
    rtml_tf_port *serve;     /* per feed */
    rtml_tf_port out;        /* the prediction */
    rtml_tf_port *extra;     /* per extra output */
    int train;               /* a train signature is bound */
    rtml_tf_port *train_in;  /* per feed */
    rtml_tf_port label, loss;
} bound_model;

typedef struct {
    const rtml_config *cfg;
    const rtml_tf_config *tc;
    rtml_tf_feed *feeds;
    size_t n_feeds;
    bound_model *cur;
    char *model_dir;          /* versions are read from and written here */
    double next_check;        /* when to look for a newer version */
    int64_t skipped_version;  /* a newer version that failed to load: not retried */
    double **extra_vals;      /* the last predict's extra outputs: per output, n * width values */
    size_t *extra_width, *extra_cap;
    size_t last_n;
    size_t out_width;         /* values per record of the prediction output */
    size_t n_dense;           /* the dense part of a row (rtml_shape) */
} tf_engine;

int rtml_tf_available(void) { return 1; }

const char *rtml_tf_version(void) {
    char err[RTML_ERRLEN];
    return rtml_tf_load_library(NULL, err, sizeof err) == 0 ? TF_Version() : "cannot be loaded";
}

static void unbind(bound_model *b) {
    if (!b) return;
    rtml_tf_model_free(b->model);
    free(b->serve);
    free(b->extra);
    free(b->train_in);
    free(b);
}

/* "a [?, 3] float32, b [?] string" — a signature's inputs, for messages. */
static const char *list_tensors(const rtml_tf_tensor_info *t, size_t n, char *buf, size_t len) {
    size_t used = 0;
    char dt[32], shape[96];
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s %s %s", i ? ", " : "", t[i].key,
                                 rtml_tf_shape_str(&t[i], shape, sizeof shape), rtml_tf_dtype_name(t[i].dtype, dt, sizeof dt));
    return buf;
}

static const rtml_tf_signature *find_signature(const rtml_tf_model *m, const char *name, char *err, size_t errlen) {
    const rtml_tf_signature *s = rtml_tf_meta_signature(m->meta, name);
    if (s) return s;
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < m->meta->n_signatures && used < sizeof names; i++) {
        const char *n = m->meta->signatures[i].name;
        if (strncmp(n, "__", 2) == 0) continue; /* TensorFlow's own, e.g. __saved_model_init_op */
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", n);
    }
    rtml_fail(err, errlen, "SavedModel %s has no signature '%s' (it has: %s)", m->dir, name, *names ? names : "none");
    return NULL;
}

static int bind_port(const rtml_tf_model *m, const rtml_tf_tensor_info *info, rtml_tf_port *port, char *err,
                     size_t errlen) {
    if (!info->tensor) return rtml_fail(err, errlen, "'%s' is a sparse or composite tensor", info->key);
    port->dtype = info->dtype;
    port->rank = info->rank;
    return rtml_tf_model_endpoint(m, info->tensor, &port->port, err, errlen);
}

/* Each feed to its input of signature s (which must have no other inputs, except the label for train). */
static int bind_inputs(tf_engine *e, const rtml_tf_model *m, const rtml_tf_signature *s, const char *label,
                       rtml_tf_port *ports, char *err, size_t errlen) {
    char list[1024];
    for (size_t i = 0; i < e->n_feeds; i++) {
        const rtml_tf_tensor_info *info = rtml_tf_signature_input(s, e->feeds[i].name);
        if (!info)
            return rtml_fail(err, errlen, "signature '%s' of %s has no input '%s' (its inputs: %s)", s->name, m->dir,
                             e->feeds[i].name, list_tensors(s->inputs, s->n_inputs, list, sizeof list));
        if (rtml_tf_feed_check(&e->feeds[i], info, s->name, err, errlen) != 0 ||
            bind_port(m, info, &ports[i], err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < s->n_inputs; i++) {
        int fed = label && strcmp(s->inputs[i].key, label) == 0;
        for (size_t k = 0; k < e->n_feeds && !fed; k++) fed = strcmp(e->feeds[k].name, s->inputs[i].key) == 0;
        if (!fed)
            return rtml_fail(err, errlen, "signature '%s' input '%s' is not fed: map it in model.tensorflow.inputs "
                             "(to features, or to a field)", s->name, s->inputs[i].key);
    }
    return 0;
}

/* The prediction output: configured, else the only one, else output_0, else the first by name. */
static const rtml_tf_tensor_info *prediction_output(const rtml_tf_signature *s, const char *want) {
    if (want) return rtml_tf_signature_output(s, want);
    if (s->n_outputs == 1) return &s->outputs[0];
    const rtml_tf_tensor_info *o = rtml_tf_signature_output(s, "output_0");
    return o ? o : s->n_outputs ? &s->outputs[0] : NULL;
}

static int bind_outputs(tf_engine *e, bound_model *b, const rtml_tf_signature *s, char *err, size_t errlen) {
    char list[1024];
    const rtml_tf_tensor_info *o = prediction_output(s, e->tc->output);
    if (!o)
        return rtml_fail(err, errlen, "signature '%s' has no output '%s' (its outputs: %s)", s->name,
                         e->tc->output ? e->tc->output : "", list_tensors(s->outputs, s->n_outputs, list, sizeof list));
    if (bind_port(b->model, o, &b->out, err, errlen) != 0) return -1;
    size_t width = o->rank == 2 && o->dims[1] > 0 ? (size_t)o->dims[1] : o->rank == 1 ? 1 : 0;
    size_t want = e->cfg->model.n_classes ? e->cfg->model.n_classes : 1;
    if (width && width != want)
        return rtml_fail(err, errlen, "output '%s' gives %zu values per record; a %s model needs %zu (set model.task%s)",
                         o->key, width, rtml_task_name(e->cfg->model.task), want, want == 1 ? " and model.classes for a multiclass model" : "");
    e->out_width = want;
    for (size_t i = 0; i < e->tc->n_extra_outputs; i++) {
        const rtml_tf_tensor_info *x = rtml_tf_signature_output(s, e->tc->extra_outputs[i]);
        if (!x)
            return rtml_fail(err, errlen, "model.tensorflow.extra_outputs: signature '%s' has no output '%s' (its "
                             "outputs: %s)", s->name, e->tc->extra_outputs[i], list_tensors(s->outputs, s->n_outputs, list, sizeof list));
        if (bind_port(b->model, x, &b->extra[i], err, errlen) != 0) return -1;
    }
    return 0;
}

/* train_signature: unset = "train" when the model has it and the config has a label; "none" = serve only. */
static int bind_train(tf_engine *e, bound_model *b, char *err, size_t errlen) {
    const char *name = e->tc->train_signature;
    if (name && strcmp(name, "none") == 0) return 0;
    if (!name) {
        if (!e->cfg->label.field || !rtml_tf_meta_signature(b->model->meta, "train")) return 0;
        name = "train";
    }
    const rtml_tf_signature *s = find_signature(b->model, name, err, errlen);
    if (!s) return -1;
    const char *label = e->tc->label_input;
    const rtml_tf_tensor_info *li = rtml_tf_signature_input(s, label);
    if (!li) return rtml_fail(err, errlen, "train signature '%s' has no label input '%s' (set model.tensorflow.label_input)", name, label);
    if (bind_inputs(e, b->model, s, label, b->train_in, err, errlen) != 0 || bind_port(b->model, li, &b->label, err, errlen) != 0)
        return -1;
    const rtml_tf_tensor_info *loss = rtml_tf_signature_output(s, "loss");
    if (!loss && s->n_outputs == 1) loss = &s->outputs[0];
    if (!loss) return rtml_fail(err, errlen, "train signature '%s' has no output 'loss'", name);
    if (bind_port(b->model, loss, &b->loss, err, errlen) != 0) return -1;
    b->train = 1;
    return 0;
}

static int run_serving(const tf_engine *e, const bound_model *b, const rtml_row *rows, size_t n, TF_Tensor **outs,
                       size_t n_outs, char *err, size_t errlen) {
    TF_Tensor **in = calloc(e->n_feeds, sizeof *in);
    TF_Output *ports = calloc(e->n_feeds, sizeof *ports), *fetch = calloc(n_outs, sizeof *fetch);
    int rc = in && ports && fetch ? 0 : rtml_fail(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < e->n_feeds; i++) {
        ports[i] = b->serve[i].port;
        if (!(in[i] = rtml_tf_feed_tensor(&e->feeds[i], &b->serve[i], rows, n))) rc = rtml_fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < n_outs; i++) fetch[i] = i ? b->extra[i - 1].port : b->out.port;
    if (rc == 0) {
        TF_Status *status = TF_NewStatus();
        TF_SessionRun(b->model->session, NULL, ports, in, (int)e->n_feeds, fetch, outs, (int)n_outs, NULL, 0, NULL, status);
        if (TF_GetCode(status) != TF_OK)
            rc = rtml_fail(err, errlen, "TensorFlow serving run (%zu records): %s", n, TF_Message(status));
        TF_DeleteStatus(status);
    }
    for (size_t i = 0; in && i < e->n_feeds; i++) rtml_tf_tensor_free(in[i]);
    free(in);
    free(ports);
    free(fetch);
    return rc;
}

/* One run of the train signature on n labelled rows: the optimizer step happens inside it. */
static int run_train(const tf_engine *e, const bound_model *b, const rtml_row *rows, const double *y, size_t n,
                     char *err, size_t errlen) {
    size_t nin = e->n_feeds + 1;
    TF_Tensor **in = calloc(nin, sizeof *in), *loss = NULL;
    TF_Output *ports = calloc(nin, sizeof *ports);
    int rc = in && ports ? 0 : rtml_fail(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < e->n_feeds; i++) {
        ports[i] = b->train_in[i].port;
        if (!(in[i] = rtml_tf_feed_tensor(&e->feeds[i], &b->train_in[i], rows, n))) rc = rtml_fail(err, errlen, "out of memory");
    }
    if (rc == 0) {
        ports[e->n_feeds] = b->label.port;
        if (!(in[e->n_feeds] = rtml_tf_label_tensor(&b->label, y, n))) rc = rtml_fail(err, errlen, "out of memory");
    }
    if (rc == 0) {
        TF_Status *status = TF_NewStatus();
        TF_SessionRun(b->model->session, NULL, ports, in, (int)nin, &b->loss.port, &loss, 1, NULL, 0, NULL, status);
        if (TF_GetCode(status) != TF_OK)
            rc = rtml_fail(err, errlen, "TensorFlow train run (%zu records): %s", n, TF_Message(status));
        TF_DeleteStatus(status);
    }
    if (loss) TF_DeleteTensor(loss);
    for (size_t i = 0; in && i < nin; i++) rtml_tf_tensor_free(in[i]);
    free(in);
    free(ports);
    return rc;
}

/* The train signature's first call is colder still (about 100 ms: the gradient function is instantiated).
 * A warm-up step must not change the model, so: save the variables (saver_def), run one step on the neutral
 * record, restore them. If the restore fails the model is refused, as its weights are no longer the
 * SavedModel's. */
static int warm_train(const tf_engine *e, const bound_model *b, const rtml_row *row, char *err, size_t errlen) {
    char dir[] = "/tmp/rtml-warm-XXXXXX", prefix[64], why[RTML_ERRLEN];
    if (!b->train) return 0;
    if (!mkdtemp(dir)) return rtml_fail(err, errlen, "creating a temporary directory for the warm-up: %s", strerror(errno));
    snprintf(prefix, sizeof prefix, "%s/variables", dir);
    double y = 0;
    int rc = 0;
    if (rtml_tf_snapshot(b->model, prefix, why, sizeof why) != 0) {
        rc = 0; /* no warm-up, but no harm: the first real batch pays the cold call instead */
        rtml_log(RTML_LOG_WARN, "train signature not warmed up: %s", why);
    } else if (run_train(e, b, row, &y, 1, why, sizeof why) != 0 ||
               rtml_tf_restore(b->model, prefix, why, sizeof why) != 0) {
        rc = rtml_fail(err, errlen, "SavedModel %s: training warm-up: %s", b->model->dir, why);
    }
    rtml_tf_remove_tree(dir);
    return rc;
}

/* Run the serving signature once on one neutral record (zeros, empty strings) before a model serves.
 * TensorFlow instantiates and optimises a signature's function on its first call (about 20 ms for a small
 * MLP): without this, the first batch of real records would wait for it, at start and after every hot
 * reload. And a model that cannot run at all is refused when it loads, not at its first batch. Then the
 * train signature, if bound (warm_train). */
static int warm_up(const tf_engine *e, const bound_model *b, char *err, size_t errlen) {
    size_t widest = 1, n_outs = 1 + e->tc->n_extra_outputs;
    for (size_t i = 0; i < e->n_feeds; i++) widest = e->feeds[i].width > widest ? e->feeds[i].width : widest;
    double *zeros = calloc(widest > e->n_dense ? widest : e->n_dense ? e->n_dense : 1, sizeof *zeros);
    rtml_value *raw = calloc(e->n_feeds, sizeof *raw);
    TF_Tensor **outs = calloc(n_outs, sizeof *outs);
    int rc = zeros && raw && outs ? 0 : rtml_fail(err, errlen, "out of memory");
    size_t n_raw = 0;
    for (size_t i = 0; rc == 0 && i < e->n_feeds; i++) {
        const rtml_tf_feed *f = &e->feeds[i];
        if (!f->is_field) continue;
        raw[f->raw] = b->serve[i].dtype == RTML_TF_DT_STRING ? (rtml_value){.type = RTML_V_STRING, .str = ""}
                      : f->width == 1 ? (rtml_value){.type = RTML_V_NUMBER}
                                      : (rtml_value){.type = RTML_V_ARRAY, .arr = zeros, .arr_len = f->width};
        n_raw = f->raw + 1 > n_raw ? f->raw + 1 : n_raw;
    }
    rtml_row row = {.dense = zeros, .raw = raw, .n_raw = n_raw};
    char why[RTML_ERRLEN];
    if (rc == 0 && run_serving(e, b, &row, 1, outs, n_outs, why, sizeof why) != 0)
        rc = rtml_fail(err, errlen, "SavedModel %s does not run on a record of zeros: %s", b->model->dir, why);
    if (rc == 0) rc = warm_train(e, b, &row, err, errlen);
    for (size_t i = 0; outs && i < n_outs; i++)
        if (outs[i]) TF_DeleteTensor(outs[i]);
    free(outs);
    free(raw);
    free(zeros);
    return rc;
}

/* Resolve everything in a loaded model against the config, then warm it up. Takes ownership of m (freed on
 * failure). NULL with a reason. */
static bound_model *bind(tf_engine *e, rtml_tf_model *m, char *err, size_t errlen) {
    bound_model *b = calloc(1, sizeof *b);
    if (!b) {
        rtml_tf_model_free(m);
        return rtml_fail(err, errlen, "out of memory"), NULL;
    }
    b->model = m;
    size_t nf = e->n_feeds ? e->n_feeds : 1, nx = e->tc->n_extra_outputs ? e->tc->n_extra_outputs : 1;
    b->serve = calloc(nf, sizeof *b->serve);
    b->train_in = calloc(nf, sizeof *b->train_in);
    b->extra = calloc(nx, sizeof *b->extra);
    if (!b->serve || !b->train_in || !b->extra) {
        rtml_fail(err, errlen, "out of memory");
        goto fail;
    }
    const rtml_tf_signature *s = find_signature(b->model, e->tc->signature, err, errlen);
    if (!s || bind_inputs(e, b->model, s, NULL, b->serve, err, errlen) != 0 || bind_outputs(e, b, s, err, errlen) != 0 ||
        bind_train(e, b, err, errlen) != 0 || warm_up(e, b, err, errlen) != 0)
        goto fail;
    return b;
fail:
    unbind(b);
    return NULL;
}

static rtml_tf_model *load(const tf_engine *e, const char *dir, int64_t version, char *err, size_t errlen) {
    return rtml_tf_model_load(dir, version, e->tc->intra_op_threads, e->tc->inter_op_threads, err, errlen);
}

/* Load dir and bind it. NULL with a reason. */
static bound_model *load_and_bind(tf_engine *e, const char *dir, int64_t version, char *err, size_t errlen) {
    rtml_tf_model *m = load(e, dir, version, err, errlen);
    return m ? bind(e, m, err, errlen) : NULL;
}

/* ---- feeds from the config ------------------------------------------------------------------------ */

/* The features' columns, as the pipeline's featurizer lays them out. */
typedef struct {
    const rtml_row_span *spans;
    size_t n;
} row_layout;

static int add_span(rtml_tf_feed *f, const row_layout *layout, const char *name, char *err, size_t errlen) {
    const rtml_row_span *at = NULL;
    for (size_t i = 0; i < layout->n && !at; i++)
        if (strcmp(layout->spans[i].name, name) == 0) at = &layout->spans[i];
    if (!at) return rtml_fail(err, errlen, "model.tensorflow.inputs.%s: no feature '%s'", f->name, name);
    f->spans[f->n_spans++] = *at;
    f->width += at->width;
    if (f->width > 1u << 20)
        return rtml_fail(err, errlen, "model.tensorflow.inputs.%s: %zu values per record is more than a dense input "
                         "should take (hash fewer buckets)", f->name, f->width);
    return 0;
}

/* Feeds as configured; without model.tensorflow.inputs, the signature's only input gets every feature. */
static int make_feeds(tf_engine *e, const row_layout *fz, const char *only_input, char *err, size_t errlen) {
    const rtml_config *cfg = e->cfg;
    size_t n = e->tc->n_inputs ? e->tc->n_inputs : 1, raw = 0;
    if (!(e->feeds = calloc(n, sizeof *e->feeds))) return rtml_fail(err, errlen, "out of memory");
    e->n_feeds = n;
    for (size_t i = 0; i < n; i++) {
        const rtml_tf_input *in = e->tc->n_inputs ? &e->tc->inputs[i] : NULL;
        rtml_tf_feed *f = &e->feeds[i];
        if (!(f->name = strdup(in ? in->name : only_input))) return rtml_fail(err, errlen, "out of memory");
        if (in && in->field) {
            f->is_field = 1, f->raw = raw++, f->field = in->field;
            continue;
        }
        size_t nn = in ? in->n_features : cfg->n_features;
        if (!(f->spans = calloc(nn ? nn : 1, sizeof *f->spans))) return rtml_fail(err, errlen, "out of memory");
        for (size_t k = 0; k < nn; k++)
            if (add_span(f, fz, in ? in->features[k] : cfg->features[k].name, err, errlen) != 0) return -1;
    }
    return 0;
}

/* ---- the engine ----------------------------------------------------------------------------------- */

static tf_engine *impl(const rtml_engine *e) { return e->impl; }

/* Look for a newer version in the model directory; load, bind, swap, free the old. */
static void maybe_reload(rtml_engine *eng) {
    tf_engine *e = impl(eng);
    double now = rtml_now();
    if (!e->tc->watch || now < e->next_check) return;
    e->next_check = now + e->tc->reload_every_s;
    int64_t newest = rtml_tf_newest_version(e->model_dir);
    if (newest <= e->cur->model->version || newest == e->skipped_version) return;
    char dir[4096], err[RTML_ERRLEN];
    snprintf(dir, sizeof dir, "%s/%lld", e->model_dir, (long long)newest);
    bound_model *b = load_and_bind(e, dir, newest, err, sizeof err);
    if (!b) {
        rtml_log(RTML_LOG_ERROR, "model version %lld not loaded, staying on %lld: %s", (long long)newest,
                 (long long)e->cur->model->version, err);
        e->skipped_version = newest;
        return;
    }
    bound_model *old = e->cur;
    e->cur = b;
    eng->version = newest;
    eng->serve_only = !b->train;
    eng->float32 = b->out.dtype == RTML_TF_DT_FLOAT;
    unbind(old);
    rtml_log(RTML_LOG_INFO, "model version %lld loaded from %s", (long long)newest, dir);
}

/* The extra outputs of the last predict, per output n * width values, for tf_extras. */
static int keep_extras(tf_engine *e, TF_Tensor **outs, size_t n) {
    char err[RTML_ERRLEN];
    for (size_t i = 0; i < e->tc->n_extra_outputs; i++) {
        const TF_Tensor *t = outs[1 + i];
        size_t w = TF_NumDims(t) == 2 ? (size_t)TF_Dim(t, 1) : 1;
        if (n * w > e->extra_cap[i]) {
            double *grown = realloc(e->extra_vals[i], n * w * sizeof *grown);
            if (!grown) return -1;
            e->extra_vals[i] = grown;
            e->extra_cap[i] = n * w;
        }
        if (rtml_tf_output_values(t, n, e->extra_vals[i], MAX_OUT_WIDTH, &e->extra_width[i], err, sizeof err) != 0) {
            rtml_log(RTML_LOG_ERROR, "extra output '%s': %s", e->tc->extra_outputs[i], err);
            return -1;
        }
    }
    e->last_n = n;
    return 0;
}

static int tf_predict(rtml_engine *eng, const rtml_row *rows, size_t n, double *out) {
    tf_engine *e = impl(eng);
    maybe_reload(eng);
    size_t n_outs = 1 + e->tc->n_extra_outputs;
    TF_Tensor **outs = calloc(n_outs, sizeof *outs);
    if (!outs) return -1;
    char err[RTML_ERRLEN];
    int rc = run_serving(e, e->cur, rows, n, outs, n_outs, err, sizeof err);
    if (rc != 0) rtml_log(RTML_LOG_ERROR, "%s", err);
    size_t w;
    if (rc == 0 && rtml_tf_output_values(outs[0], n, out, e->out_width, &w, err, sizeof err) != 0) {
        rtml_log(RTML_LOG_ERROR, "prediction output: %s", err);
        rc = -1;
    }
    if (rc == 0 && w != e->out_width) {
        rtml_log(RTML_LOG_ERROR, "prediction output gives %zu values per record, expected %zu", w, e->out_width);
        rc = -1;
    }
    if (rc == 0 && e->tc->n_extra_outputs) rc = keep_extras(e, outs, n);
    for (size_t i = 0; i < n_outs; i++)
        if (outs[i]) TF_DeleteTensor(outs[i]);
    free(outs);
    return rc;
}

static int tf_learn(rtml_engine *eng, const rtml_row *rows, const double *y, size_t n) {
    tf_engine *e = impl(eng);
    if (!e->cur->train || n == 0) return 0;
    char err[RTML_ERRLEN];
    if (run_train(e, e->cur, rows, y, n, err, sizeof err) == 0) return 0;
    rtml_log(RTML_LOG_ERROR, "%s", err);
    return -1;
}

static int tf_accept(rtml_engine *eng, const rtml_row *row, char *detail, size_t dlen) {
    tf_engine *e = impl(eng);
    for (size_t i = 0; i < e->n_feeds; i++) {
        if (!e->feeds[i].is_field) continue;
        rtml_reject why = rtml_tf_feed_accept(&e->feeds[i], e->cur->serve[i].dtype, row, detail, dlen);
        if (why != RTML_REJECT_NONE) return (int)why;
    }
    return RTML_REJECT_NONE;
}

static void tf_extras(const rtml_engine *eng, size_t row, rtml_buf *out) {
    const tf_engine *e = impl(eng);
    size_t nx = e->tc->n_extra_outputs;
    if (!nx || row >= e->last_n) return;
    rtml_buf_puts(out, ",\"outputs\":{");
    for (size_t i = 0; i < nx; i++) {
        const char *name = e->tc->extra_outputs[i];
        rtml_buf_printf(out, "%s\"", i ? "," : "");
        for (const char *c = name; *c; c++) { /* names are identifiers in practice; escape the rest */
            if (*c == '"' || *c == '\\') rtml_buf_putc(out, '\\');
            if ((unsigned char)*c >= 0x20) rtml_buf_putc(out, *c);
        }
        rtml_buf_puts(out, "\":[");
        size_t w = e->extra_width[i];
        const double *v = e->extra_vals[i] + row * w;
        for (size_t k = 0; k < w; k++) {
            if (k) rtml_buf_putc(out, ',');
            if (e->cur->extra[i].dtype == RTML_TF_DT_FLOAT) rtml_buf_put_float(out, v[k]);
            else rtml_buf_put_double(out, v[k]);
        }
        rtml_buf_putc(out, ']');
    }
    rtml_buf_putc(out, '}');
}

static int tf_checkpoint(rtml_engine *eng, char *err, size_t errlen) {
    tf_engine *e = impl(eng);
    if (!e->cur->train) return 0;
    int64_t newest = rtml_tf_newest_version(e->model_dir), v = (newest > eng->version ? newest : eng->version) + 1;
    if (rtml_tf_export(e->cur->model, e->model_dir, v, err, errlen) != 0) return -1;
    e->cur->model->version = v;
    eng->version = v;
    /* Every kept checkpoint (state.keep) names a version: keep at least as many, so that a fallback to the
     * oldest checkpoint still finds its own. */
    unsigned keep = e->cfg->state.keep + 1 > KEEP_EXPORTS ? e->cfg->state.keep + 1 : KEEP_EXPORTS;
    rtml_tf_prune(e->model_dir, v, keep);
    rtml_log(RTML_LOG_INFO, "model version %lld written to %s/%lld (%llu records learned)", (long long)v, e->model_dir,
             (long long)v, (unsigned long long)eng->learned);
    return 0;
}

/* State files record which version the engine runs; loading one switches to it if it still exists. */
static int tf_save(const rtml_engine *eng, rtml_writer *w) {
    rtml_w_u64(w, (uint64_t)eng->version);
    return 0;
}

/* Load version v of the model directory and swap it in (the old one is freed). */
static int switch_version(rtml_engine *eng, int64_t v, char *err, size_t errlen) {
    tf_engine *e = impl(eng);
    if (v == eng->version) return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%lld", e->model_dir, (long long)v);
    bound_model *b = load_and_bind(e, dir, v, err, errlen);
    if (!b) return -1;
    unbind(e->cur);
    e->cur = b;
    eng->version = v;
    eng->serve_only = !b->train;
    eng->float32 = b->out.dtype == RTML_TF_DT_FLOAT;
    return 0;
}

static int tf_load(rtml_engine *eng, rtml_reader *r, char *err, size_t errlen) {
    tf_engine *e = impl(eng);
    int64_t v = (int64_t)rtml_r_u64(r);
    if (r->failed) return rtml_fail(err, errlen, "model state is truncated");
    rtml_tf_drop_newer(e->model_dir, v);
    return switch_version(eng, v, err, errlen);
}

/* A reader of the model directory (serve's scorers): the version the trainer runs, without touching the
 * directory (tf_load drops newer versions: that is the trainer's restore, not a reader's business). */
int rtml_tf_use_version(rtml_engine *eng, int64_t version, char *err, size_t errlen) {
    return switch_version(eng, version, err, errlen);
}

static void tf_close(rtml_engine *eng) {
    tf_engine *e = impl(eng);
    unbind(e->cur);
    for (size_t i = 0; i < e->n_feeds; i++) {
        free(e->feeds[i].name);
        free(e->feeds[i].spans);
    }
    free(e->feeds);
    free(e->model_dir);
    for (size_t i = 0; e->extra_vals && i < e->tc->n_extra_outputs; i++) free(e->extra_vals[i]);
    free(e->extra_vals);
    free(e->extra_width);
    free(e->extra_cap);
    free(e);
    free(eng);
}

static const rtml_engine_ops TF_OPS = {
    .name = "tensorflow",
    .predict = tf_predict,
    .learn = tf_learn,
    .save = tf_save,
    .load = tf_load,
    .close = tf_close,
    .accept = tf_accept,
    .extras = tf_extras,
    .checkpoint = tf_checkpoint,
};

/* The model directory (see the top of this file) and the directory and version to start from. */
static int locate(tf_engine *e, char *start, size_t len, int64_t *version, char *err, size_t errlen) {
    const char *sm = e->tc->saved_model;
    int base = !rtml_tf_is_saved_model(sm) && rtml_tf_newest_version(sm) > 0;
    char dflt[4096];
    snprintf(dflt, sizeof dflt, "%s/tensorflow", e->cfg->state.dir ? e->cfg->state.dir : "./state");
    const char *md = e->tc->export_dir ? e->tc->export_dir : base ? sm : dflt;
    if (!(e->model_dir = strdup(md))) return rtml_fail(err, errlen, "out of memory");
    int64_t newest = rtml_tf_newest_version(md);
    int n;
    *version = 1;
    if (newest > 0) {
        *version = newest;
        n = snprintf(start, len, "%s/%lld", md, (long long)newest);
    } else if (base) {
        *version = rtml_tf_newest_version(sm);
        n = snprintf(start, len, "%s/%lld", sm, (long long)*version);
    } else {
        n = snprintf(start, len, "%s", sm);
    }
    return n > 0 && (size_t)n < len ? 0 : rtml_fail(err, errlen, "model.tensorflow: path too long");
}

/* Feeds from the config (or from the signature's only input) and the first bound model. */
static int open_model(tf_engine *e, const row_layout *features, const char *start, int64_t version, char *err,
                      size_t errlen) {
    rtml_tf_model *m = load(e, start, version, err, errlen);
    if (!m) return -1;
    int rc;
    if (!e->tc->n_inputs) { /* the feeds depend on the signature: its only input gets every feature */
        const rtml_tf_signature *s = find_signature(m, e->tc->signature, err, errlen);
        char list[1024];
        int ok = s && s->n_inputs == 1;
        if (s && !ok)
            rtml_fail(err, errlen, "signature '%s' has %zu inputs (%s): say which features or fields feed each in "
                      "model.tensorflow.inputs", s->name, s->n_inputs, list_tensors(s->inputs, s->n_inputs, list, sizeof list));
        rc = ok ? make_feeds(e, features, s->inputs[0].key, err, errlen) : -1;
    } else {
        rc = make_feeds(e, features, NULL, err, errlen);
    }
    if (rc != 0) {
        rtml_tf_model_free(m);
        return -1;
    }
    return (e->cur = bind(e, m, err, errlen)) ? 0 : -1;
}

rtml_engine *rtml_tf_open(const rtml_config *cfg, const rtml_row_span *layout, size_t n_spans,
                          const rtml_shape *shape, char *err, size_t errlen) {
    row_layout features = {layout, n_spans};
    rtml_engine *eng = calloc(1, sizeof *eng);
    tf_engine *e = calloc(1, sizeof *e);
    if (!eng || !e) {
        free(eng);
        free(e);
        return rtml_fail(err, errlen, "out of memory"), NULL;
    }
    *eng = (rtml_engine){.ops = &TF_OPS, .task = cfg->model.task, .shape = *shape, .impl = e};
    e->cfg = cfg;
    e->tc = &cfg->model.tf;
    e->n_dense = shape->n_dense;
    if (rtml_tf_load_library(e->tc->library, err, errlen) != 0) goto fail;
    char start[4096];
    int64_t version = 1;
    if (!e->tc->saved_model) {
        rtml_fail(err, errlen, "model.tensorflow.saved_model is required");
        goto fail;
    }
    if (locate(e, start, sizeof start, &version, err, errlen) != 0) goto fail;
    int quiet = rtml_tf_quiet_begin(); /* the first session's CPU and GPU probing talks; its errors come back in err */
    int rc = open_model(e, &features, start, version, err, errlen);
    rtml_tf_quiet_end(quiet);
    if (rc != 0) goto fail;
    size_t nx = e->tc->n_extra_outputs ? e->tc->n_extra_outputs : 1;
    e->extra_width = calloc(nx, sizeof *e->extra_width);
    e->extra_cap = calloc(nx, sizeof *e->extra_cap);
    e->extra_vals = calloc(nx, sizeof *e->extra_vals);
    if (!e->extra_width || !e->extra_cap || !e->extra_vals) {
        rtml_fail(err, errlen, "out of memory");
        goto fail;
    }
    eng->n_outputs = e->out_width;
    eng->batch = e->tc->batch;
    eng->max_delay = e->tc->max_delay_s;
    eng->version = version;
    eng->serve_only = !e->cur->train;
    eng->float32 = e->cur->out.dtype == RTML_TF_DT_FLOAT;
    e->next_check = rtml_now() + e->tc->reload_every_s;
    return eng;
fail:
    tf_close(eng);
    return NULL;
}
