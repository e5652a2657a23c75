/* workers.c — `workers: N`: more than one member of the consumer group in one process (workers.h).
 *
 * Each worker is a whole runner (runner.h, loop.h) on its own thread: its own consumer in the group, producer,
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
#include "run/workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/rtml.h"
#include "run/loop.h"
#include "run/report.h"

typedef struct {
    const rtml_run_opts *opts;
    rtml_worker worker;
    rtml_run_report figures; /* the worker's own figures */
    rtml_buf *json;          /* and its report (owned by rtml_run_workers) */
    int rc;
} worker_slot;

static void *worker_main(void *arg) {
    worker_slot *s = arg;
    rtml_log_set_worker((int)s->worker.index);
    s->rc = rtml_run_instance(s->opts, &s->worker, &s->figures, s->json);
    if (s->rc != 0) rtml_run_stop = SIGTERM; /* one failed (a bad state.dir, a fenced producer): all stop */
    return NULL;
}

int rtml_run_workers(const rtml_run_opts *o, unsigned n) {
    worker_slot *slots = calloc(n, sizeof *slots);
    rtml_buf *reports = calloc(n, sizeof *reports); /* each worker's; a zeroed rtml_buf is an empty one */
    pthread_t *threads = calloc(n, sizeof *threads);
    _Atomic unsigned assigned = 0;
    if (!slots || !reports || !threads) {
        free(slots), free(reports), free(threads);
        fprintf(stderr, "rtml run: out of memory\n");
        return 1;
    }
    rtml_log(RTML_LOG_INFO, "starting %u workers (members of the group, each with state.dir/worker-K)", n);
    unsigned started = 0;
    for (unsigned k = 0; k < n; k++) {
        slots[k] = (worker_slot){o, {k, n, &assigned}, {0}, &reports[k], 0};
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
    rtml_run_report sum = {0};
    for (unsigned k = 0; k < n; k++) rtml_run_report_add(&sum, &slots[k].figures);
    rtml_buf report = RTML_BUF_INIT;
    rtml_run_report_team_json(&sum, n, reports, &report);
    printf("%s\n", report.data);
    fflush(stdout);
    rtml_buf_free(&report);
    for (unsigned k = 0; k < n; k++) rtml_buf_free(&reports[k]);
    free(slots);
    free(reports);
    free(threads);
    return rc;
}
