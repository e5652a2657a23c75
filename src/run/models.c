/* models.c — `rtml run`'s side of the model topic (modelbus.h): publishing versions, following them.
 *
 *   trainer, both  publish the model as a new version every models.publish_every when it learned something
 *                  (and at once after a rollback); the image is a checkpoint image (checkpoint.h), so a trainer
 *                  that starts with an empty state.dir resumes from the newest version, positions included,
 *                  and still learns every record exactly once. Old versions beyond models.keep are deleted
 *                  (never the pinned one). A `rtml model rollback V` record makes the trainer continue from V.
 *   predictor      serves the pinned version, else the newest; it starts only once one exists, then switches
 *                  to each new one as it arrives (pipeline/swap.c: loaded on the watcher thread, swapped in
 *                  between two batches).
 *
 * Threads: a watcher thread reads the topic (its reader is its own after start) and prepares what the
 * scoring thread then applies in rtml_run_models_tick(): a loaded model (predictor) or a rollback image
 * (trainer). They share only `shared` below, under its mutex. The writer is the scoring thread's alone. */
#include "run/models.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/checkpoint.h"
#include "base/clock.h"
#include "kafka/kafka.h"
#include "base/log.h"
#include "kafka/modelbus.h"
#include "kafka/modelbus_kafka.h"
#include "base/rtml.h"
#include "run/models.h"
#include "run/output.h"
#include "config/scale.h"
#include "pipeline/drift_actions.h"
#include "pipeline/swap.h"

#define START_WAIT_S 30.0 /* the first read of the topic */
#define POLL_MS 100

/* The image of one version, kept by the watcher while it may be needed. */
typedef struct {
    int64_t version;
    rtml_buf image;
} kept_image;

struct rtml_run_models {
    const rtml_config *cfg; /* borrowed from the runner; only read */
    rtml_role role;
    /* the watcher's own (the main thread's before the thread starts) */
    rtml_modelbus_reader *reader;
    kept_image newest_image; /* the newest version seen, for a predictor that follows it */
    kept_image wanted_image; /* a version looked up by a re-read (a pin or rollback to an older one) */
    int64_t loaded;          /* predictor: the version last loaded for the scoring thread */
    int64_t rollback_handled; /* trainer: the offset of the last rollback policy handed over */
    int64_t last_version_offset, policy_offset;
    int64_t rollback_to; /* the current policy's rollback target, 0: none */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    /* shared with the scoring thread, under mu */
    pthread_mutex_t mu;
    struct {
        int64_t newest, pinned;
        int64_t *live; /* versions in the topic (not deleted), ascending */
        size_t n_live, cap_live;
        rtml_model_parts *ready; /* predictor: loaded, waiting to be swapped in */
        rtml_buf rollback_image; /* trainer: the model to continue from */
        int64_t rollback_version; /* > 0: rollback_image is due */
        uint64_t load_failures;
    } shared;
    /* the scoring thread's */
    rtml_modelbus_writer *writer;
    int64_t published; /* the newest version this instance published */
    int64_t parent_at_start; /* the newest version when it started: its model's ancestor */
    double last_publish;
    uint64_t learned_at_publish;
    uint64_t n_published, n_swaps, publish_failures;
    char origin[128];
};

/* ---- the live set ---------------------------------------------------------------------------------- */

static void live_add(rtml_run_models *m, int64_t v) {
    size_t i = m->shared.n_live;
    while (i > 0 && m->shared.live[i - 1] > v) i--;
    if (i > 0 && m->shared.live[i - 1] == v) return;
    if (m->shared.n_live == m->shared.cap_live) {
        size_t cap = m->shared.cap_live ? 2 * m->shared.cap_live : 32;
        int64_t *grown = realloc(m->shared.live, cap * sizeof *grown);
        if (!grown) return; /* only the keep policy reads it: a version it misses is deleted later */
        m->shared.live = grown, m->shared.cap_live = cap;
    }
    memmove(&m->shared.live[i + 1], &m->shared.live[i], (m->shared.n_live - i) * sizeof *m->shared.live);
    m->shared.live[i] = v;
    m->shared.n_live++;
}

static void live_remove(rtml_run_models *m, int64_t v) {
    for (size_t i = 0; i < m->shared.n_live; i++)
        if (m->shared.live[i] == v) {
            memmove(&m->shared.live[i], &m->shared.live[i + 1], (m->shared.n_live - i - 1) * sizeof *m->shared.live);
            m->shared.n_live--;
            return;
        }
}

/* ---- reading the topic (watcher) ------------------------------------------------------------------- */

static void keep_image(kept_image *k, int64_t v, const rtml_buf *image) {
    rtml_buf_reset(&k->image);
    rtml_buf_append(&k->image, image->data, image->len);
    k->version = v;
}

static void on_version(void *ctx, const rtml_model_meta *meta, const rtml_buf *image, int64_t offset) {
    rtml_run_models *m = ctx;
    pthread_mutex_lock(&m->mu);
    live_add(m, meta->version);
    bool newest = meta->version > m->shared.newest;
    if (newest) m->shared.newest = meta->version;
    pthread_mutex_unlock(&m->mu);
    m->last_version_offset = offset;
    if (newest && image) keep_image(&m->newest_image, meta->version, image);
}

static void on_delete(void *ctx, int64_t version, int64_t offset) {
    rtml_run_models *m = ctx;
    (void)offset;
    pthread_mutex_lock(&m->mu);
    live_remove(m, version);
    pthread_mutex_unlock(&m->mu);
}

static void on_policy(void *ctx, const rtml_model_policy *p, int64_t offset) {
    rtml_run_models *m = ctx;
    pthread_mutex_lock(&m->mu);
    m->shared.pinned = p->pinned;
    pthread_mutex_unlock(&m->mu);
    m->policy_offset = offset;
    m->rollback_to = p->rollback ? p->pinned : 0;
}

static void on_bad(void *ctx, int64_t offset, const char *why) {
    (void)ctx;
    rtml_log(RTML_LOG_WARN, "model topic: record at offset %lld skipped: %s", (long long)offset, why);
}

static const rtml_modelbus_handlers HANDLERS = {on_version, on_delete, on_policy, on_bad};

/* Looking up one older version's image: a second reader over the whole topic. */
static void on_wanted(void *ctx, const rtml_model_meta *meta, const rtml_buf *image, int64_t offset) {
    (void)offset;
    kept_image *k = ctx;
    if (image && meta->version == k->version) keep_image(k, meta->version, image);
}

static const rtml_buf *image_of(rtml_run_models *m, int64_t v) {
    if (m->newest_image.version == v) return &m->newest_image.image;
    if (m->wanted_image.version == v && m->wanted_image.image.len) return &m->wanted_image.image;
    char err[RTML_ERRLEN];
    rd_kafka_conf_t *conf = rtml_modelbus_conf(m->cfg, RD_KAFKA_CONSUMER, err, sizeof err);
    rtml_modelbus_reader *rd = conf ? rtml_modelbus_reader_open(conf, m->cfg->models.topic, true, err, sizeof err) : NULL;
    m->wanted_image.version = v;
    rtml_buf_reset(&m->wanted_image.image);
    const rtml_modelbus_handlers h = {on_wanted, NULL, NULL, NULL};
    if (!rd || rtml_modelbus_reader_catch_up(rd, (int)(START_WAIT_S * 1000), &h, &m->wanted_image, err, sizeof err) != 0)
        rtml_log(RTML_LOG_ERROR, "model topic: reading version %lld: %s", (long long)v, err);
    if (rd) rtml_modelbus_reader_close(rd);
    return m->wanted_image.image.len ? &m->wanted_image.image : NULL;
}

/* Predictor: load the version it should serve, when that changed, for the scoring thread. */
static void prepare_model(rtml_run_models *m) {
    pthread_mutex_lock(&m->mu);
    int64_t target = m->shared.pinned ? m->shared.pinned : m->shared.newest;
    pthread_mutex_unlock(&m->mu);
    if (target <= 0 || target == m->loaded) return;
    m->loaded = target; /* a version that fails to load is not retried; the next one is */
    char err[RTML_ERRLEN];
    const rtml_buf *image = image_of(m, target);
    rtml_model_parts *parts = image ? rtml_model_parts_load(m->cfg, image->data, image->len, target, err, sizeof err)
                                    : NULL;
    if (!parts) {
        rtml_log(RTML_LOG_ERROR, "model version %lld cannot be served (the current one stays): %s", (long long)target,
                 image ? err : "its record is not in the topic");
        pthread_mutex_lock(&m->mu);
        m->shared.load_failures++;
        pthread_mutex_unlock(&m->mu);
        return;
    }
    pthread_mutex_lock(&m->mu);
    rtml_model_parts *stale = m->shared.ready; /* never swapped in: a newer one replaces it */
    m->shared.ready = parts;
    pthread_mutex_unlock(&m->mu);
    rtml_model_parts_free(stale);
}

/* Trainer: a rollback policy no version followed yet is handed to the scoring thread once. */
static void prepare_rollback(rtml_run_models *m) {
    if (!m->rollback_to || m->policy_offset < m->last_version_offset || m->policy_offset == m->rollback_handled) return;
    m->rollback_handled = m->policy_offset;
    const rtml_buf *image = image_of(m, m->rollback_to);
    if (!image) {
        rtml_log(RTML_LOG_ERROR, "rollback to model version %lld: its record is not in the topic", (long long)m->rollback_to);
        return;
    }
    pthread_mutex_lock(&m->mu);
    rtml_buf_reset(&m->shared.rollback_image);
    rtml_buf_append(&m->shared.rollback_image, image->data, image->len);
    m->shared.rollback_version = m->rollback_to;
    pthread_mutex_unlock(&m->mu);
}

static void prepare(rtml_run_models *m) {
    if (m->role == RTML_ROLE_PREDICTOR) prepare_model(m);
    else prepare_rollback(m);
}

static void *watch(void *arg) {
    rtml_run_models *m = arg;
    char err[RTML_ERRLEN];
    uint64_t failures = 0;
    while (!atomic_load(&m->stop)) {
        if (rtml_modelbus_reader_poll(m->reader, POLL_MS, &HANDLERS, m, err, sizeof err) < 0) {
            rtml_log_every(RTML_LOG_WARN, ++failures, 3, 10, "model topic: %s", err);
            usleep(POLL_MS * 1000);
            continue;
        }
        prepare(m);
    }
    return NULL;
}

/* ---- publishing (scoring thread) ------------------------------------------------------------------- */

/* Versions beyond models.keep go, oldest first; the pinned one and the one just published stay. */
static void delete_old(rtml_runner *r, rtml_run_models *m) {
    unsigned keep = rtml_models_keep(&r->cfg);
    int64_t doomed[64];
    size_t n = 0;
    pthread_mutex_lock(&m->mu);
    size_t live = m->shared.n_live + (m->shared.n_live && m->shared.live[m->shared.n_live - 1] == m->published ? 0 : 1);
    for (size_t i = 0; i < m->shared.n_live && live - n > keep && n < 64; i++) {
        int64_t v = m->shared.live[i];
        if (v != m->shared.pinned && v != m->published) doomed[n++] = v;
    }
    pthread_mutex_unlock(&m->mu);
    if (!n) return;
    char err[RTML_ERRLEN];
    bool fenced = false;
    if (rtml_modelbus_delete(m->writer, doomed, n, &fenced, err, sizeof err) != 0)
        rtml_log(RTML_LOG_WARN, "model topic: deleting %zu old version(s): %s", n, err);
    if (fenced) {
        rtml_run_fail(r, RTML_FAULT_FENCED, "another trainer took over the model topic %s", r->cfg.models.topic);
    }
}

static int publish(rtml_runner *r, rtml_run_models *m, int64_t parent) {
    rtml_run_flush_batch(r);
    pthread_mutex_lock(&m->mu);
    int64_t newest = m->shared.newest;
    pthread_mutex_unlock(&m->mu);
    rtml_model_meta meta = {.version = (newest > m->published ? newest : m->published) + 1,
                            .parent = parent,
                            .learned = r->pipe.engine->learned,
                            .records = r->pipe.records,
                            .created = rtml_wall_time()};
    snprintf(meta.engine, sizeof meta.engine, "%s", r->pipe.engine->ops->name);
    snprintf(meta.origin, sizeof meta.origin, "%s", m->origin);
    rtml_buf metrics = RTML_BUF_INIT, image = RTML_BUF_INIT;
    rtml_buf_putc(&metrics, '{');
    rtml_eval_json(&r->pipe.eval, &metrics);
    rtml_buf_putc(&metrics, '}');
    if (metrics.len < sizeof meta.metrics) memcpy(meta.metrics, metrics.data, metrics.len + 1);
    else snprintf(meta.metrics, sizeof meta.metrics, "{}");
    rtml_ckpt_image(&r->pipe, &r->offsets, r->ckpt.seq, &image);
    meta.image_bytes = image.len;
    char err[RTML_ERRLEN];
    bool fenced = false;
    double t0 = rtml_now();
    int rc = rtml_modelbus_publish(m->writer, &meta, image.data, image.len, &fenced, err, sizeof err);
    rtml_buf_free(&metrics);
    rtml_buf_free(&image);
    m->last_publish = rtml_now();
    if (rc != 0) {
        m->publish_failures++;
        rtml_log_every(RTML_LOG_ERROR, m->publish_failures, 3, 10, "model version %lld not published: %s",
                       (long long)meta.version, err);
        if (fenced) {
            rtml_run_fail(r, RTML_FAULT_FENCED, "another trainer took over the model topic %s", r->cfg.models.topic);
        }
        return -1;
    }
    m->published = meta.version;
    m->learned_at_publish = meta.learned;
    m->n_published++;
    r->pipe.model_version = meta.version;
    rtml_log(RTML_LOG_INFO, "published model version %lld (parent %lld, %llu learned, %llu bytes, %.0f ms)",
             (long long)meta.version, (long long)parent, (unsigned long long)meta.learned,
             (unsigned long long)meta.image_bytes, (m->last_publish - t0) * 1000);
    delete_old(r, m);
    return 0;
}

/* Trainer: continue from version v's model (a rollback), and publish that at once (marks it applied). */
static void apply_rollback(rtml_runner *r, rtml_run_models *m, const rtml_buf *image, int64_t v) {
    char err[RTML_ERRLEN];
    rtml_run_flush_batch(r);
    if (rtml_pipeline_rollback(&r->pipe, image->data, image->len, err, sizeof err) != 0) {
        rtml_log(RTML_LOG_ERROR, "rollback to model version %lld failed (the current model stays): %s", (long long)v, err);
        return;
    }
    rtml_log(RTML_LOG_WARN, "rolled back to model version %lld: learning continues from it", (long long)v);
    publish(r, m, v);
}

/* ---- the runner's interface ------------------------------------------------------------------------ */

void rtml_run_models_tick(rtml_runner *r, double now) {
    rtml_run_models *m = r->models;
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    rtml_model_parts *parts = m->shared.ready;
    m->shared.ready = NULL;
    int64_t rollback = m->shared.rollback_version;
    rtml_buf image = m->shared.rollback_image;
    if (rollback) m->shared.rollback_image = (rtml_buf)RTML_BUF_INIT, m->shared.rollback_version = 0;
    pthread_mutex_unlock(&m->mu);
    if (parts) {
        rtml_run_flush_batch(r); /* the pending batch is scored by the model it was featurised for */
        rtml_pipeline_swap_model(&r->pipe, parts);
        m->n_swaps++;
        rtml_log(RTML_LOG_INFO, "serving model version %lld (%llu learned)", (long long)r->pipe.model_version,
                 (unsigned long long)r->pipe.engine->learned);
        rtml_model_parts_free(parts);
    }
    if (rollback) {
        apply_rollback(r, m, &image, rollback);
        rtml_buf_free(&image);
    }
    if (m->writer && now - m->last_publish >= rtml_models_publish_every(&r->cfg) &&
        r->pipe.engine->learned != m->learned_at_publish)
        publish(r, m, m->published ? m->published : m->parent_at_start);
}

void rtml_run_models_counts(const rtml_runner *r, rtml_run_models_stats *s) {
    const rtml_run_models *m = r->models;
    *s = (rtml_run_models_stats){0};
    if (!m) return;
    pthread_mutex_lock((pthread_mutex_t *)&m->mu);
    s->newest = m->shared.newest;
    s->pinned = m->shared.pinned;
    s->load_failures = m->shared.load_failures;
    pthread_mutex_unlock((pthread_mutex_t *)&m->mu);
    s->published = m->n_published;
    s->publish_failures = m->publish_failures;
    s->swaps = m->n_swaps;
}

/* Trainer with nothing in state.dir: the newest version's image is a checkpoint; resume from it. */
static int resume_from_topic(rtml_runner *r, rtml_run_models *m, char *err, size_t errlen) {
    if (m->newest_image.version <= 0) return 0;
    const rtml_buf *img = &m->newest_image.image;
    if (rtml_ckpt_load_image(img->data, img->len, &r->pipe, &r->offsets, err, errlen) != 0)
        return rtml_fail(err, errlen, "models.topic: version %lld cannot be resumed from: %s",
                         (long long)m->newest_image.version, err);
    r->pipe.model_version = m->published = m->newest_image.version;
    m->learned_at_publish = r->pipe.engine->learned;
    rtml_log(RTML_LOG_INFO, "resuming from model version %lld of %s: %llu records learned",
             (long long)m->published, r->cfg.models.topic, (unsigned long long)r->pipe.engine->learned);
    return 0;
}

/* Predictor: wait for a first version (until a signal, or give_up_s when > 0), and serve it. */
static int first_model(rtml_runner *r, rtml_run_models *m, double give_up_s, char *err, size_t errlen) {
    double started = rtml_now(), said = 0;
    for (;;) {
        prepare_model(m);
        rtml_run_models_tick(r, rtml_now());
        if (m->n_swaps) return 0;
        double now = rtml_now();
        if (rtml_run_stop) return rtml_fail(err, errlen, "stopped while waiting for a first model version");
        if (give_up_s > 0 && now - started >= give_up_s)
            return rtml_fail(err, errlen, "no model version was published in %s within %.0f s (is a trainer running?)",
                             r->cfg.models.topic, give_up_s);
        if (now - said >= 10) {
            rtml_log(RTML_LOG_INFO, "waiting for a first model version in %s", r->cfg.models.topic);
            said = now;
        }
        if (rtml_modelbus_reader_poll(m->reader, POLL_MS, &HANDLERS, m, err, errlen) < 0) return -1;
    }
}

static rtml_run_models *models_new(rtml_runner *r) {
    rtml_run_models *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = &r->cfg;
    m->role = r->cfg.role;
    m->last_version_offset = m->policy_offset = m->rollback_handled = -1;
    m->newest_image.image = m->wanted_image.image = m->shared.rollback_image = (rtml_buf)RTML_BUF_INIT;
    pthread_mutex_init(&m->mu, NULL);
    char host[96] = "?";
    gethostname(host, sizeof host - 1);
    snprintf(m->origin, sizeof m->origin, "%s:%d", host, (int)getpid());
    return m;
}

int rtml_run_models_open(rtml_runner *r, bool restored, double give_up_s, char *err, size_t errlen) {
    if (!r->cfg.models.topic) return 0;
    rtml_run_models *m = r->models = models_new(r);
    if (!m) return rtml_fail(err, errlen, "out of memory");
    r->pipe.serve_only = r->cfg.role == RTML_ROLE_PREDICTOR;
    bool trains = r->cfg.role != RTML_ROLE_PREDICTOR;
    rd_kafka_conf_t *conf = rtml_modelbus_conf(&r->cfg, RD_KAFKA_PRODUCER, err, errlen);
    if (!conf) return -1;
    if (trains) { /* the writer first: it creates the topic, and fences an older trainer before anything is read */
        if (!(m->writer = rtml_modelbus_writer_open(conf, r->cfg.models.topic, err, errlen))) return -1;
    } else {
        rd_kafka_t *admin = rtml_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
        if (!admin) return -1;
        int rc = rtml_modelbus_ensure_topic(admin, r->cfg.models.topic, 30000, err, errlen);
        rd_kafka_destroy(admin);
        if (rc != 0) return -1;
    }
    if (!(conf = rtml_modelbus_conf(&r->cfg, RD_KAFKA_CONSUMER, err, errlen)) ||
        !(m->reader = rtml_modelbus_reader_open(conf, r->cfg.models.topic, true, err, errlen)) ||
        rtml_modelbus_reader_catch_up(m->reader, (int)(START_WAIT_S * 1000), &HANDLERS, m, err, errlen) != 0)
        return -1;
    rtml_log(RTML_LOG_INFO, "model topic %s: newest version %lld%s (role %s)", r->cfg.models.topic,
             (long long)m->shared.newest, m->shared.pinned ? ", pinned" : "", rtml_role_name(r->cfg.role));
    m->parent_at_start = m->shared.newest;
    if (trains && !restored && resume_from_topic(r, m, err, errlen) != 0) return -1;
    if (trains) m->last_publish = rtml_now();
    if (!trains && first_model(r, m, give_up_s, err, errlen) != 0) return -1;
    if (trains) prepare_rollback(m);
    if (pthread_create(&m->thread, NULL, watch, m) != 0) return rtml_fail(err, errlen, "cannot start the model watcher");
    m->thread_started = true;
    return 0;
}

/* At shutdown: a trainer publishes what it learned since its last version (after the final checkpoint). */
void rtml_run_models_finish(rtml_runner *r) {
    rtml_run_models *m = r->models;
    if (m && m->writer && !rtml_run_failed(r) && r->pipe.engine->learned != m->learned_at_publish)
        publish(r, m, m->published ? m->published : m->parent_at_start);
}

void rtml_run_models_close(rtml_runner *r) {
    rtml_run_models *m = r->models;
    if (!m) return;
    atomic_store(&m->stop, true);
    if (m->thread_started) pthread_join(m->thread, NULL);
    if (m->reader) rtml_modelbus_reader_close(m->reader);
    if (m->writer) rtml_modelbus_writer_close(m->writer);
    rtml_model_parts_free(m->shared.ready);
    rtml_buf_free(&m->shared.rollback_image);
    rtml_buf_free(&m->newest_image.image);
    rtml_buf_free(&m->wanted_image.image);
    free(m->shared.live);
    pthread_mutex_destroy(&m->mu);
    free(m);
    r->models = NULL;
}
