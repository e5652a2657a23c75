/* cmd_model.c — `rtml model list|show|pin|unpin|rollback|publish`: the model topic (modelbus.h) for operators.
 *
 * Every subcommand first reads the whole topic (metadata only: images stay deflated), so what it prints or
 * refuses reflects the versions that exist now; pin and rollback write one policy record with a plain
 * producer (a running trainer is not disturbed), and only after the version was found, so a typo writes
 * nothing. publish is the exception: it writes a version, which only the topic's transactional writer may
 * do, so it takes the writer's transactional id and thereby fences a trainer running on the same topic. */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/binfmt.h"
#include "state/checkpoint.h"
#include "base/clock.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/model.h"
#include "kafka/kafka.h"
#include "base/log.h"
#include "kafka/modelbus.h"
#include "kafka/modelbus_kafka.h"
#include "state/offsets.h"
#include "pipeline/pipeline.h"
#include "base/rtml.h"

#define TIMEOUT_MS 15000 /* an unreachable broker or a missing topic is reported after this */

typedef enum { A_LIST, A_SHOW, A_PIN, A_UNPIN, A_ROLLBACK, A_PUBLISH } model_action;

static const struct {
    const char *name;
    int n_args; /* positional arguments after the subcommand */
    const char *usage;
    const char *help;
} ACTIONS[] = {
    [A_LIST] = {"list", 0, "rtml model list (-c CONFIG | [--brokers HOST:PORT] --topic T) [--json]",
                "The versions in the model topic, oldest first: version, parent, created (UTC), records learned,\n"
                "records read, image size, accuracy (or the first metric), and marks: latest (the newest), pinned\n"
                "(predictors serve it instead of the newest; rollback: the trainer continues from it).\n"
                "  --json   one JSON object per version: its metadata plus \"pinned\", \"rollback\", \"latest\"\n"},
    [A_SHOW] = {"show", 1, "rtml model show VERSION|latest (-c CONFIG | [--brokers HOST:PORT] --topic T)",
                "One version's metadata as one JSON line, plus \"pinned\", \"rollback\" and \"latest\".\n"},
    [A_PIN] = {"pin", 1, "rtml model pin VERSION|latest (-c CONFIG | [--brokers HOST:PORT] --topic T)",
               "Predictors serve VERSION (it must be in the topic) instead of the newest, until the next pin;\n"
               "`pin latest` (or `rtml model unpin`) makes them follow the newest again. The trainer goes on\n"
               "learning and publishing from its own model (see rollback).\n"},
    [A_UNPIN] = {"unpin", 0, "rtml model unpin (-c CONFIG | [--brokers HOST:PORT] --topic T)",
                 "Predictors follow the newest version again (the same as `rtml model pin latest`).\n"},
    [A_ROLLBACK] = {"rollback", 1, "rtml model rollback VERSION (-c CONFIG | [--brokers HOST:PORT] --topic T)",
                    "Pins VERSION (it must be in the topic) and tells the trainer to continue learning from it: it\n"
                    "loads VERSION's model and publishes it as a new version (parent VERSION), which predictors\n"
                    "then serve once you `rtml model pin latest`.\n"},
    [A_PUBLISH] = {"publish", 0, "rtml model publish -c CONFIG [--checkpoint FILE]",
                   "Publishes a checkpoint as a new version (the newest + 1, parent 0), creating models.topic if\n"
                   "it does not exist. FILE defaults to the newest valid checkpoint in the config's state.dir.\n"
                   "The checkpoint must be one of this config's model (the same engine, features and classes).\n"
                   "It writes with the trainer's transactional id, so a trainer running on the topic is fenced:\n"
                   "it stops, and resumes from the newest version (this one) when restarted with an empty\n"
                   "state.dir.\n"},
};
#define N_ACTIONS (sizeof ACTIONS / sizeof *ACTIONS)

static const char CONNECT_HELP[] =
    "\nWhere the model topic is:\n"
    "  -c, --config CONFIG   models.topic of CONFIG, reached with its kafka section (SASL/SSL included)\n"
    "  --brokers HOST:PORT   the brokers (default $RTML_BROKERS, else 127.0.0.1:9092), with --topic\n"
    "  --topic T             the model topic\n";
static const char EXIT_HELP[] =
    "\nExit status: 0 ok, 1 runtime failure (no broker answered within 15 s, no such topic or version),\n"
    "2 bad usage or bad config.\n";

static void usage_all(FILE *f) {
    fprintf(f, "usage: ");
    for (size_t i = 0; i < N_ACTIONS; i++) fprintf(f, "%s%s\n", i ? "       " : "", ACTIONS[i].usage);
    fprintf(f, "\nModel versions shared through a compacted Kafka topic (models.topic): trainers publish them,\n"
               "predictors serve the newest or the pinned one. `rtml model SUBCOMMAND --help` for each.\n"
               "  list      the versions, with the latest and pinned marks\n"
               "  show      one version's metadata (JSON)\n"
               "  pin       serve one version (or `latest`)        unpin     follow the newest again\n"
               "  rollback  serve one version and continue training from it\n"
               "  publish   a checkpoint file as a new version (fences a running trainer)\n");
    fputs(CONNECT_HELP, f);
    fputs(EXIT_HELP, f);
}

static void usage_one(model_action a, FILE *f) {
    fprintf(f, "usage: %s\n\n%s", ACTIONS[a].usage, ACTIONS[a].help);
    if (a == A_PUBLISH)
        fprintf(f, "  -c, --config CONFIG   the config: models.topic, state.dir, the model, the kafka section\n"
                   "  --checkpoint FILE     the checkpoint to publish\n");
    else fputs(CONNECT_HELP, f);
    fputs(EXIT_HELP, f);
}

typedef struct {
    model_action action;
    const char *config, *brokers, *topic, *checkpoint, *version;
    bool json;
} model_opts;

/* ---- where the topic is ------------------------------------------------------------------------------ */

/* The connection: a loaded config, or a minimal one holding --brokers alone. */
typedef struct {
    rtml_config cfg;
    bool loaded;
    rtml_kv boot;
    char boot_key[sizeof "bootstrap.servers"];
    char *boot_value;
    const char *topic;
} target;

static int target_open(const model_opts *o, target *t) {
    memset(t, 0, sizeof *t);
    char err[RTML_ERRLEN];
    if (!o->config) {
        snprintf(t->boot_key, sizeof t->boot_key, "bootstrap.servers");
        if (!(t->boot_value = strdup(rtml_kafka_default_brokers(o->brokers)))) return 1;
        t->boot = (rtml_kv){t->boot_key, t->boot_value, 0};
        t->cfg.kafka = &t->boot, t->cfg.n_kafka = 1;
        t->cfg.path = "--brokers";
        t->topic = o->topic;
        return -1;
    }
    if (rtml_config_load(o->config, &t->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml model: %s\n", err);
        return 2;
    }
    t->loaded = true;
    if (rtml_log_configure(t->cfg.log.level, t->cfg.log.format, err, sizeof err) != 0) {
        fprintf(stderr, "rtml model: %s: %s\n", o->config, err);
        return 2;
    }
    if (!(t->topic = t->cfg.models.topic)) {
        fprintf(stderr, "rtml model: %s: models.topic is not set (the model topic this command works on)\n",
                o->config);
        return 2;
    }
    return -1;
}

static void target_close(target *t) {
    if (t->loaded) rtml_config_free(&t->cfg);
    free(t->boot_value);
}

/* ---- reading the topic ------------------------------------------------------------------------------- */

typedef struct {
    rtml_model_meta *v; /* live versions, sorted by version once read */
    size_t n, cap;
    int64_t highest;    /* the highest version ever seen, deleted ones too: a new one goes above it */
    rtml_model_policy policy;
    bool oom;
} listing;

static void on_version(void *ctx, const rtml_model_meta *m, const rtml_buf *image, int64_t offset) {
    (void)image, (void)offset;
    listing *l = ctx;
    if (m->version > l->highest) l->highest = m->version;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].version == m->version) {
            l->v[i] = *m; /* a later record of a key replaces the earlier, as compaction will */
            return;
        }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        rtml_model_meta *grown = realloc(l->v, cap * sizeof *grown);
        if (!grown) {
            l->oom = true;
            return;
        }
        l->v = grown, l->cap = cap;
    }
    l->v[l->n++] = *m;
}

static void on_delete(void *ctx, int64_t version, int64_t offset) {
    (void)offset;
    listing *l = ctx;
    if (version > l->highest) l->highest = version;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].version == version) {
            l->v[i] = l->v[--l->n];
            return;
        }
}

static void on_policy(void *ctx, const rtml_model_policy *p, int64_t offset) {
    (void)offset;
    ((listing *)ctx)->policy = *p;
}

static void on_bad(void *ctx, int64_t offset, const char *why) {
    (void)ctx;
    fprintf(stderr, "rtml model: the record at offset %" PRId64 " is skipped: %s\n", offset, why);
}

static int by_version(const void *a, const void *b) {
    int64_t x = ((const rtml_model_meta *)a)->version, y = ((const rtml_model_meta *)b)->version;
    return x < y ? -1 : x > y;
}

/* The topic's versions and policy now. 0, or the exit code. */
static int read_listing(const target *t, listing *l) {
    static const rtml_modelbus_handlers h = {on_version, on_delete, on_policy, on_bad};
    char err[RTML_ERRLEN];
    memset(l, 0, sizeof *l);
    rd_kafka_conf_t *conf = rtml_modelbus_conf(&t->cfg, RD_KAFKA_CONSUMER, err, sizeof err);
    if (!conf) {
        fprintf(stderr, "rtml model: %s\n", err);
        return 2;
    }
    rtml_modelbus_reader *r = rtml_modelbus_reader_open(conf, t->topic, false, err, sizeof err);
    int rc = r ? rtml_modelbus_reader_catch_up(r, TIMEOUT_MS, &h, l, err, sizeof err) : -1;
    rtml_modelbus_reader_close(r);
    if (rc == 0 && l->oom) rc = rtml_fail(err, sizeof err, "out of memory");
    if (rc != 0) {
        fprintf(stderr, "rtml model: %s\n", err);
        return 1;
    }
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, by_version);
    return 0;
}

static const rtml_model_meta *find(const listing *l, int64_t version) {
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].version == version) return &l->v[i];
    return NULL;
}

static int64_t newest(const listing *l) { return l->n ? l->v[l->n - 1].version : 0; }

/* "latest" (0) or a version number (> 0); -1 for anything else. */
static int64_t parse_version(const char *s, bool latest_ok) {
    if (latest_ok && strcmp(s, "latest") == 0) return 0;
    uint64_t v;
    return rtml_arg_u64(s, INT64_MAX, &v) == 0 && v > 0 ? (int64_t)v : -1;
}

/* ---- list, show -------------------------------------------------------------------------------------- */

static void version_json(const listing *l, const rtml_model_meta *m, rtml_buf *out) {
    bool pinned = l->policy.pinned == m->version;
    rtml_buf_reset(out);
    rtml_modelbus_meta_json(m, out);
    out->len--; /* reopen the object */
    rtml_buf_printf(out, ",\"pinned\":%s,\"rollback\":%s,\"latest\":%s}", pinned ? "true" : "false",
                    pinned && l->policy.rollback ? "true" : "false", m->version == newest(l) ? "true" : "false");
}

/* "accuracy=0.9123", else the first metric, else "-". */
static void first_metric(const char *metrics, char *out, size_t len) {
    snprintf(out, len, "-");
    json_t *o = json_loads(metrics, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    const char *name = "accuracy";
    json_t *v = json_object_get(o, name);
    if (!v) {
        void *it = json_object_iter(o);
        if (it) name = json_object_iter_key(it), v = json_object_iter_value(it);
    }
    if (json_is_number(v)) snprintf(out, len, "%s=%.4g", name, json_number_value(v));
    else if (v) snprintf(out, len, "%s=null", name);
    json_decref(o);
}

static void human_size(uint64_t n, char *out, size_t len) {
    if (n < 10240) snprintf(out, len, "%" PRIu64 " B", n);
    else if (n < 10u << 20) snprintf(out, len, "%.1f KiB", n / 1024.0);
    else snprintf(out, len, "%.1f MiB", n / 1048576.0);
}

static void utc(double t, char *out, size_t len) {
    time_t s = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(out, len, "?");
}

static void print_table(const listing *l, const char *topic) {
    if (!l->n) {
        printf("no model versions in %s\n", topic);
        return;
    }
    printf("%8s %8s  %-20s  %12s %12s %10s  %-18s %s\n", "VERSION", "PARENT", "CREATED", "LEARNED", "RECORDS", "SIZE",
           "METRIC", "MARKS");
    for (size_t i = 0; i < l->n; i++) {
        const rtml_model_meta *m = &l->v[i];
        char created[32], size[32], metric[96], marks[64] = "";
        utc(m->created, created, sizeof created);
        human_size(m->image_bytes, size, sizeof size);
        first_metric(m->metrics, metric, sizeof metric);
        bool pinned = l->policy.pinned == m->version;
        snprintf(marks, sizeof marks, "%s%s%s", m->version == newest(l) ? "latest" : "",
                 pinned && m->version == newest(l) ? " " : "",
                 pinned ? (l->policy.rollback ? "pinned (rollback)" : "pinned") : "");
        char parent[24];
        if (m->parent) snprintf(parent, sizeof parent, "%" PRId64, m->parent);
        else snprintf(parent, sizeof parent, "-");
        printf("%8" PRId64 " %8s  %-20s  %12" PRIu64 " %12" PRIu64 " %10s  %-18s %s\n", m->version, parent, created,
               m->learned, m->records, size, metric, marks);
    }
    if (l->policy.pinned && !find(l, l->policy.pinned))
        printf("pinned: version %" PRId64 ", which is no longer in the topic (predictors keep what they serve)\n",
               l->policy.pinned);
}

static int cmd_list(const model_opts *o, const target *t, const listing *l) {
    if (!o->json) {
        print_table(l, t->topic);
        return 0;
    }
    rtml_buf line = RTML_BUF_INIT;
    for (size_t i = 0; i < l->n; i++) {
        version_json(l, &l->v[i], &line);
        printf("%s\n", line.data);
    }
    rtml_buf_free(&line);
    return 0;
}

/* The version the argument names: "latest" is the newest. NULL (with the message) when it is not there. */
static const rtml_model_meta *named(const target *t, const listing *l, int64_t v) {
    const rtml_model_meta *m = find(l, v ? v : newest(l));
    if (!m && !v) fprintf(stderr, "rtml model: there is no version in the model topic %s yet\n", t->topic);
    else if (!m)
        fprintf(stderr, "rtml model: version %" PRId64 " is not in the model topic %s (newest: %" PRId64 "; see "
                "`rtml model list`)\n", v, t->topic, newest(l));
    return m;
}

static int cmd_show(const target *t, const listing *l, int64_t v) {
    const rtml_model_meta *m = named(t, l, v);
    if (!m) return 1;
    rtml_buf line = RTML_BUF_INIT;
    version_json(l, m, &line);
    printf("%s\n", line.data);
    rtml_buf_free(&line);
    return 0;
}

/* ---- pin, unpin, rollback ---------------------------------------------------------------------------- */

static void origin(char *out, size_t len) {
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(out, len, "%s:%d", host, (int)getpid());
}

static int put_policy(const target *t, int64_t pinned, bool rollback) {
    rtml_model_policy p = {.pinned = pinned, .rollback = rollback, .at = rtml_wall_time()};
    origin(p.by, sizeof p.by);
    char err[RTML_ERRLEN];
    if (rtml_modelbus_put_policy(&t->cfg, t->topic, &p, err, sizeof err) != 0) {
        fprintf(stderr, "rtml model: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_pin(const target *t, const listing *l, int64_t v, bool rollback) {
    if (v == 0) { /* pin latest, unpin */
        int rc = put_policy(t, 0, false);
        if (rc == 0)
            printf("unpinned %s: predictors follow the newest version (now %" PRId64 ")\n", t->topic, newest(l));
        return rc;
    }
    if (!named(t, l, v)) return 1;
    int rc = put_policy(t, v, rollback);
    if (rc == 0 && rollback)
        printf("rolled back %s to version %" PRId64 ": predictors serve it, and the trainer continues learning from "
               "it (publishing it as a new version)\n", t->topic, v);
    else if (rc == 0)
        printf("pinned version %" PRId64 " in %s: predictors serve it until `rtml model pin latest`\n", v, t->topic);
    return rc;
}

/* ---- publish ----------------------------------------------------------------------------------------- */

/* The checkpoint to publish: FILE, else the newest of state.dir that checks. 0, or -1 (message printed). */
static int pick_checkpoint(const rtml_config *cfg, const char *file, rtml_buf *image, char *path, size_t plen) {
    char err[RTML_ERRLEN];
    if (file) {
        snprintf(path, plen, "%s", file);
        if (rtml_state_read_file(file, image, err, sizeof err) == 0 &&
            rtml_state_check(image->data, image->len, err, sizeof err) == 0)
            return 0;
        fprintf(stderr, "rtml model publish: %s is not a valid checkpoint: %s\n", file, err);
        return -1;
    }
    uint64_t *seqs;
    size_t n;
    if (rtml_ckpt_list(cfg->state.dir, &seqs, &n) != 0) {
        fprintf(stderr, "rtml model publish: cannot read %s\n", cfg->state.dir);
        return -1;
    }
    int rc = -1;
    for (size_t i = 0; i < n && rc != 0; i++) {
        rtml_ckpt_path(cfg->state.dir, seqs[i], path, plen);
        rtml_buf_free(image);
        if (rtml_state_read_file(path, image, err, sizeof err) == 0 &&
            rtml_state_check(image->data, image->len, err, sizeof err) == 0)
            rc = 0;
        else fprintf(stderr, "rtml model publish: %s skipped: %s\n", path, err);
    }
    free(seqs);
    if (rc != 0)
        fprintf(stderr, "rtml model publish: no valid checkpoint in %s (state.dir of %s); give --checkpoint FILE\n",
                cfg->state.dir, cfg->path);
    return rc;
}

/* A native checkpoint is loaded into a pipeline of this config, as a predictor will: what does not fit is
 * refused here rather than on every predictor. Its metrics come along. 0, or -1 with the reason. */
static int load_native(const rtml_config *cfg, const rtml_buf *image, rtml_model_meta *m, char *err, size_t errlen) {
    rtml_pipeline p;
    if (rtml_pipeline_init(&p, cfg, err, errlen) != 0) return -1;
    rtml_offsets o;
    rtml_offsets_init(&o, 4);
    int rc = rtml_ckpt_load_image(image->data, image->len, &p, &o, err, errlen);
    if (rc == 0) {
        rtml_buf metrics = RTML_BUF_INIT;
        rtml_buf_putc(&metrics, '{');
        rtml_eval_json(&p.eval, &metrics);
        rtml_buf_putc(&metrics, '}');
        if (metrics.len < sizeof m->metrics) memcpy(m->metrics, metrics.data, metrics.len + 1);
        rtml_buf_free(&metrics);
    }
    rtml_offsets_free(&o);
    rtml_pipeline_free(&p);
    return rc;
}

/* The metadata of a checkpoint (except the version): engine and learned from its model section. */
static int describe(const rtml_config *cfg, const rtml_buf *image, const char *path, rtml_model_meta *m) {
    rtml_reader r;
    size_t el;
    const char *engine = rtml_state_section(image->data, image->len, "model", &r) ? rtml_r_str(&r, &el) : NULL;
    uint64_t learned = rtml_r_u64(&r);
    if (!engine || r.failed || el == 0 || el >= sizeof m->engine) {
        fprintf(stderr, "rtml model publish: %s is not a model checkpoint (no readable model section)\n", path);
        return -1;
    }
    char want[sizeof m->engine], err[RTML_ERRLEN];
    rtml_model_kind(cfg, want, sizeof want); /* the engine name a pipeline of this config makes */
    if (strlen(want) != el || memcmp(want, engine, el) != 0) {
        fprintf(stderr, "rtml model publish: %s holds a %.*s model, %s makes %s\n", path, (int)el, engine, cfg->path,
                want);
        return -1;
    }
    memcpy(m->engine, engine, el), m->engine[el] = '\0';
    m->learned = m->records = learned; /* a checkpoint does not say how many records were read */
    snprintf(m->metrics, sizeof m->metrics, "{}");
    if (!rtml_config_is_tensorflow(cfg) && load_native(cfg, image, m, err, sizeof err) != 0) {
        fprintf(stderr, "rtml model publish: %s does not fit %s: %s\n", path, cfg->path, err);
        return -1;
    }
    m->created = rtml_wall_time();
    origin(m->origin, sizeof m->origin);
    m->image_bytes = image->len;
    return 0;
}

/* Take the topic's writer (this fences a running trainer), find the newest version, publish above it. */
static int publish_image(const target *t, rtml_model_meta *m, const rtml_buf *image) {
    char err[RTML_ERRLEN];
    rd_kafka_conf_t *conf = rtml_modelbus_conf(&t->cfg, RD_KAFKA_PRODUCER, err, sizeof err);
    if (!conf) {
        fprintf(stderr, "rtml model publish: %s\n", err);
        return 2;
    }
    rtml_modelbus_writer *w = rtml_modelbus_writer_open(conf, t->topic, err, sizeof err);
    if (!w) {
        fprintf(stderr, "rtml model publish: %s\n", err);
        return 1;
    }
    listing l;
    int rc = read_listing(t, &l);
    if (rc == 0) {
        bool fenced = false;
        m->version = l.highest + 1, m->parent = 0;
        if (rtml_modelbus_publish(w, m, image->data, image->len, &fenced, err, sizeof err) != 0) {
            fprintf(stderr, "rtml model publish: %s%s\n", err, fenced ? " (another writer took the topic over)" : "");
            rc = 1;
        }
    }
    rtml_modelbus_writer_close(w);
    free(l.v);
    return rc;
}

static int cmd_publish(const model_opts *o, const target *t) {
    rtml_buf image = RTML_BUF_INIT;
    char path[4096];
    rtml_model_meta m;
    memset(&m, 0, sizeof m);
    int rc = 1;
    if (pick_checkpoint(&t->cfg, o->checkpoint, &image, path, sizeof path) == 0 &&
        describe(&t->cfg, &image, path, &m) == 0 && (rc = publish_image(t, &m, &image)) == 0)
        printf("published %s as model version %" PRId64 " of %s (%s, %" PRIu64 " records learned, %zu bytes)\n", path,
               m.version, t->topic, m.engine, m.learned, image.len);
    rtml_buf_free(&image);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------------------- */

/* -1: go on; else the exit code. */
static int parse_opts(int argc, char **argv, model_opts *o) {
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'}, {"brokers", required_argument, 0, 'b'},
        {"topic", required_argument, 0, 't'},  {"checkpoint", required_argument, 0, 'k'},
        {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *name = ACTIONS[o->action].name;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'b': o->brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 'k': o->checkpoint = optarg; break;
        case 'j': o->json = true; break;
        case 'h': usage_one(o->action, stdout); return 0;
        default: usage_one(o->action, stderr); return 2;
        }
    }
    const char *why = NULL;
    if (argc - optind != ACTIONS[o->action].n_args)
        why = ACTIONS[o->action].n_args ? "takes one version (a number, or latest)" : "takes no arguments";
    else if (o->json && o->action != A_LIST) why = "has no --json (show prints JSON; list has --json)";
    else if (o->checkpoint && o->action != A_PUBLISH) why = "has no --checkpoint (publish has)";
    else if (o->action == A_PUBLISH && (!o->config || o->brokers || o->topic))
        why = "needs -c CONFIG (its state.dir and model), and no --brokers/--topic";
    else if (o->config && (o->brokers || o->topic)) why = "takes either -c CONFIG or --brokers/--topic, not both";
    else if (!o->config && !o->topic) why = "needs -c CONFIG or --topic T";
    if (why) {
        fprintf(stderr, "rtml model %s: %s\n", name, why);
        return 2;
    }
    if (ACTIONS[o->action].n_args) o->version = argv[optind];
    return -1;
}

static int run(const model_opts *o, const target *t) {
    if (o->action == A_PUBLISH) return cmd_publish(o, t);
    int64_t v = 0;
    if (o->version && (v = parse_version(o->version, o->action != A_ROLLBACK)) < 0) {
        fprintf(stderr, "rtml model %s: '%s' is not a version (a number >= 1%s)\n", ACTIONS[o->action].name,
                o->version, o->action != A_ROLLBACK ? ", or latest" : "");
        return 2;
    }
    listing l;
    int rc = read_listing(t, &l);
    if (rc == 0) {
        switch (o->action) {
        case A_LIST: rc = cmd_list(o, t, &l); break;
        case A_SHOW: rc = cmd_show(t, &l, v); break;
        case A_PIN: case A_UNPIN: rc = cmd_pin(t, &l, v, false); break;
        case A_ROLLBACK: rc = cmd_pin(t, &l, v, true); break;
        case A_PUBLISH: break;
        }
    }
    free(l.v);
    return rc;
}

int rtml_cmd_model(int argc, char **argv) {
    if (argc < 2) {
        usage_all(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage_all(stdout);
        return 0;
    }
    model_opts o = {0};
    size_t a = 0;
    while (a < N_ACTIONS && strcmp(sub, ACTIONS[a].name) != 0) a++;
    if (a == N_ACTIONS) {
        fprintf(stderr, "rtml model: unknown subcommand '%s' (list, show, pin, unpin, rollback, publish)\n", sub);
        return 2;
    }
    o.action = (model_action)a;
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc >= 0) return rc;
    target t;
    if ((rc = target_open(&o, &t)) < 0) rc = run(&o, &t);
    target_close(&t);
    return rc;
}
