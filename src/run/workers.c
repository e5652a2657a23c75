/* run_workers.c — `workers: N`: more than one member of the consumer group in one process.
 *
 * Each worker is a whole runner (run.h) on its own thread: its own consumer in the group, producer,
 * pipeline and model, offsets, checkpoints in state.dir/worker-K, and under exactly_once its own
 * transactional.id (derived from that directory). The group's assignor spreads the partitions over the
 * workers exactly as it spreads them over instances, so the order within a partition is kept, rebalances
 * between workers are the ones between instances (cooperative-sticky, settled before a partition moves), and
 * nothing on the per-record path is shared or locked. Two processes with two workers each are four members.
 *
 * Learning: each worker's model learns from the partitions it holds (per-partition-owner replicas, not
 * merged). Why not one learner fed by all workers: its lock (or queue) would serialise exactly the part that
 * needs the cores; why not lock-free updates (Hogwild): the checkpoint, which ties a model to the offsets it
 * learned up to, would no longer describe a consistent model. docs/scaling.md measures what replicas cost in
 * accuracy (each sees 1/N of the stream) and gain in speed.
 *
 * What the workers share: rtml_run_stop (a signal, or a fatal error in one of them, stops all: the process
 * ends as one) and the count of workers that got partitions (a worker left without one, because there are
 * more workers than partitions, ends quietly under --exit-on-idle instead of failing). Each worker serves its
 * own monitor on monitor.listen's port + K, the way Prometheus scrapes several instances. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/rtml.h"
#include "run/run.h"

/* "<value>-worker-<K>" into *dst (freed first). */
static int suffix(char **dst, const char *value, unsigned k) {
    size_t n = strlen(value) + 32;
    char *s = malloc(n);
    if (!s) return -1;
    snprintf(s, n, "%s-worker-%u", value, k);
    free(*dst);
    *dst = s;
    return 0;
}

int rtml_run_worker_config(rtml_config *cfg, const rtml_worker *w, char *err, size_t errlen) {
    size_t n = strlen(cfg->state.dir) + 32;
    char *dir = malloc(n);
    if (!dir) return rtml_fail(err, errlen, "out of memory");
    snprintf(dir, n, "%s/worker-%u", cfg->state.dir, w->index);
    free(cfg->state.dir);
    cfg->state.dir = dir;
    /* Static membership and transactions need one identity per member: the same suffix keeps each stable
     * across restarts (worker K of a restart takes over worker K's partitions and fences its zombie). */
    for (size_t i = 0; i < cfg->n_kafka; i++) {
        rtml_kv *kv = &cfg->kafka[i];
        if ((!strcmp(kv->key, "group.instance.id") || !strcmp(kv->key, "transactional.id")) && *kv->value &&
            suffix(&kv->value, kv->value, w->index) != 0)
            return rtml_fail(err, errlen, "out of memory");
    }
    const char *colon = cfg->monitor.listen ? strrchr(cfg->monitor.listen, ':') : NULL;
    if (colon) {
        long port = strtol(colon + 1, NULL, 10);
        if (port > 0) { /* port 0 (any free one) stays 0: each worker logs its own */
            if (port + w->index > 65535)
                return rtml_fail(err, errlen, "monitor.listen: worker %u's port %ld is past 65535", w->index,
                                 port + (long)w->index);
            size_t m = (size_t)(colon - cfg->monitor.listen) + 8;
            char *listen = malloc(m);
            if (!listen) return rtml_fail(err, errlen, "out of memory");
            snprintf(listen, m, "%.*s:%ld", (int)(colon - cfg->monitor.listen), cfg->monitor.listen,
                     port + (long)w->index);
            free(cfg->monitor.listen);
            cfg->monitor.listen = listen;
        }
    }
    return 0;
}

typedef struct {
    const rtml_run_opts *opts;
    rtml_worker worker;
    rtml_buf report; /* the worker's own report (owned) */
    int rc;
} worker_slot;

static void *worker_main(void *arg) {
    worker_slot *s = arg;
    rtml_log_set_worker((int)s->worker.index);
    s->rc = rtml_run_instance(s->opts, &s->worker, &s->report);
    if (s->rc != 0) rtml_run_stop = SIGTERM; /* one failed (a bad state.dir, a fenced producer): all stop */
    return NULL;
}

/* The report's numeric field `key` (a flat search: the pipeline's report names its counters once). */
static double field(const rtml_buf *b, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = b->len ? strstr(b->data, pat) : NULL;
    return p ? strtod(p + strlen(pat), NULL) : 0;
}

/* The process's report: the counters summed, the rate over the span from the first worker's first record
 * to the last worker's last, then every worker's own report. */
static void merged_report(worker_slot *slots, unsigned n, rtml_buf *out) {
    static const char *const sums[] = {"records", "learned", "errors", "redelivered", "model_learned",
                                       "dead_letters", "checkpoint_failures", "pauses", "transactions",
                                       "transactions_aborted", "handover_uncommitted", "handover_unlearned",
                                       "stale_dropped", "consumer_rejoins"};
    double first = 0, last = 0;
    for (unsigned k = 0; k < n; k++) {
        double f = field(&slots[k].report, "first_at"), l = field(&slots[k].report, "last_at");
        if (f > 0 && (first == 0 || f < first)) first = f;
        if (l > last) last = l;
    }
    rtml_buf_printf(out, "{\"workers\":%u", n);
    double records = 0;
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++) {
        double v = 0;
        for (unsigned k = 0; k < n; k++) v += field(&slots[k].report, sums[i]);
        if (!strcmp(sums[i], "records")) records = v;
        rtml_buf_printf(out, ",\"%s\":%.0f", sums[i], v);
    }
    rtml_buf_puts(out, ",\"seconds\":");
    rtml_buf_put_double(out, last > first ? last - first : 0);
    rtml_buf_puts(out, ",\"records_per_second\":");
    rtml_buf_put_double(out, last > first ? records / (last - first) : 0);
    rtml_buf_puts(out, ",\"per_worker\":[");
    for (unsigned k = 0; k < n; k++) {
        if (k) rtml_buf_putc(out, ',');
        rtml_buf_puts(out, slots[k].report.len ? slots[k].report.data : "null");
    }
    rtml_buf_puts(out, "]}");
}

int rtml_run_workers(const rtml_run_opts *o, unsigned n) {
    worker_slot *slots = calloc(n, sizeof *slots);
    pthread_t *threads = calloc(n, sizeof *threads);
    _Atomic unsigned assigned = 0;
    if (!slots || !threads) {
        free(slots), free(threads);
        fprintf(stderr, "rtml run: out of memory\n");
        return 1;
    }
    rtml_log(RTML_LOG_INFO, "starting %u workers (members of the group, each with state.dir/worker-K)", n);
    unsigned started = 0;
    for (unsigned k = 0; k < n; k++) {
        slots[k] = (worker_slot){o, {k, n, &assigned}, RTML_BUF_INIT, 0};
        if (pthread_create(&threads[k], NULL, worker_main, &slots[k]) != 0) {
            fprintf(stderr, "rtml run: cannot start worker %u\n", k);
            slots[k].rc = 1;
            rtml_run_stop = SIGTERM;
            break;
        }
        started++;
    }
    int rc = 0;
    for (unsigned k = 0; k < started; k++) pthread_join(threads[k], NULL);
    for (unsigned k = 0; k < n; k++)
        if (slots[k].rc > rc) rc = slots[k].rc;
    rtml_buf report = RTML_BUF_INIT;
    merged_report(slots, n, &report);
    printf("%s\n", report.data);
    fflush(stdout);
    rtml_buf_free(&report);
    for (unsigned k = 0; k < n; k++) rtml_buf_free(&slots[k].report);
    free(slots);
    free(threads);
    return rc;
}
