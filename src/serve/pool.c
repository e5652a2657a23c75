/* pool.c — the scorers and their refresher (pool.h). */
#include "serve/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/rtml.h"

#define RETRY_S 0.005 /* a busy scorer is retried this soon */
#define IDLE_S 1.0    /* the refresher's longest sleep (it also wakes at each publication) */

struct rtml_pool {
    rtml_snapshots *snaps;
    rtml_pooled *slots;
    size_t n;
    bool *busy;                /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t given;      /* a scorer was given back */
    pthread_t refresher;
    int started;
    atomic_int stopping;
    _Atomic uint64_t loads, failures;
};

/* Load snap (a reference the caller hands over) into slot i, which the caller took out of the pool. The slot's
 * snapshot pointer changes under the lock: take() reads every slot's. */
static void load_slot(rtml_pool *p, size_t i, rtml_snapshot *snap) {
    rtml_pooled *s = &p->slots[i];
    char err[RTML_ERRLEN];
    rtml_snapshot *now = snap;
    if (rtml_scorer_load(s->scorer, snap->image.data, snap->image.len, err, sizeof err) != 0) {
        uint64_t f = atomic_fetch_add(&p->failures, 1) + 1;
        rtml_log_every(RTML_LOG_ERROR, f, 3, 60, "serve: a scorer could not load snapshot %llu: %s",
                       (unsigned long long)snap->seq, err);
        rtml_snapshots_release(p->snaps, snap);
        now = NULL; /* its model may be half loaded: not handed out until a load succeeds */
    } else {
        atomic_fetch_add(&p->loads, 1);
    }
    pthread_mutex_lock(&p->lock);
    rtml_snapshot *old = s->snap;
    s->snap = now;
    pthread_mutex_unlock(&p->lock);
    rtml_snapshots_release(p->snaps, old);
}

/* One pass: every free scorer not on cur loads it. 1 when all are on cur. */
static int refresh_pass(rtml_pool *p, rtml_snapshot *cur) {
    int all = 1;
    for (size_t i = 0; i < p->n && !atomic_load(&p->stopping); i++) {
        pthread_mutex_lock(&p->lock);
        int stale = p->slots[i].snap != cur, take = stale && !p->busy[i];
        if (take) p->busy[i] = true;
        pthread_mutex_unlock(&p->lock);
        if (stale && !take) all = 0;
        if (!take) continue;
        rtml_snapshot *mine = rtml_snapshots_acquire(p->snaps); /* a reference of the slot's own */
        if (mine == cur) load_slot(p, i, mine);
        else rtml_snapshots_release(p->snaps, mine), all = 0; /* a newer one came meanwhile: next pass */
        pthread_mutex_lock(&p->lock);
        p->busy[i] = false;
        pthread_cond_broadcast(&p->given);
        pthread_mutex_unlock(&p->lock);
    }
    return all;
}

static void *refresher_main(void *arg) {
    rtml_pool *p = arg;
    uint64_t done = 0;
    while (!atomic_load(&p->stopping)) {
        double wait = IDLE_S;
        rtml_snapshot *cur = rtml_snapshots_acquire(p->snaps);
        if (cur && cur->seq != done) {
            if (refresh_pass(p, cur)) done = cur->seq;
            else wait = RETRY_S;
        }
        rtml_snapshots_release(p->snaps, cur);
        rtml_snapshots_wait(p->snaps, done, wait);
    }
    return NULL;
}

rtml_pool *rtml_pool_open(const rtml_config *cfg, rtml_snapshots *snaps, size_t n, char *err, size_t errlen) {
    rtml_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->slots = calloc(n, sizeof *p->slots)) || !(p->busy = calloc(n, sizeof *p->busy))) {
        if (p) free(p->slots);
        free(p);
        return rtml_fail(err, errlen, "out of memory"), NULL;
    }
    p->snaps = snaps;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->given, NULL);
    for (size_t i = 0; i < n; i++, p->n++)
        if (!(p->slots[i].scorer = rtml_scorer_open(cfg, err, errlen))) {
            rtml_pool_close(p);
            return NULL;
        }
    if (pthread_create(&p->refresher, NULL, refresher_main, p) != 0) {
        rtml_pool_close(p);
        return rtml_fail(err, errlen, "cannot start the refresher thread"), NULL;
    }
    p->started = 1;
    return p;
}

void rtml_pool_close(rtml_pool *p) {
    if (!p) return;
    atomic_store(&p->stopping, 1);
    if (p->started) {
        rtml_snapshots_close(p->snaps);
        pthread_join(p->refresher, NULL);
    }
    for (size_t i = 0; i < p->n; i++) {
        rtml_snapshots_release(p->snaps, p->slots[i].snap);
        rtml_scorer_close(p->slots[i].scorer);
    }
    pthread_cond_destroy(&p->given);
    pthread_mutex_destroy(&p->lock);
    free(p->slots);
    free(p->busy);
    free(p);
}

/* The free loaded slot with the newest snapshot; n when none is free; n + 1 when none is loaded. */
static size_t freshest(const rtml_pool *p) {
    size_t best = p->n;
    int loaded = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!p->slots[i].snap) continue;
        loaded = 1;
        if (!p->busy[i] && (best == p->n || p->slots[i].snap->seq > p->slots[best].snap->seq)) best = i;
    }
    return loaded ? best : p->n + 1;
}

rtml_pooled *rtml_pool_take(rtml_pool *p) {
    pthread_mutex_lock(&p->lock);
    size_t i;
    while ((i = freshest(p)) == p->n) pthread_cond_wait(&p->given, &p->lock);
    if (i < p->n) p->busy[i] = true;
    pthread_mutex_unlock(&p->lock);
    return i < p->n ? &p->slots[i] : NULL;
}

void rtml_pool_give(rtml_pool *p, rtml_pooled *s) {
    pthread_mutex_lock(&p->lock);
    p->busy[s - p->slots] = false;
    pthread_cond_broadcast(&p->given);
    pthread_mutex_unlock(&p->lock);
}

const rtml_scorer *rtml_pool_model(const rtml_pool *p) { return p->slots[0].scorer; }

void rtml_pool_counts(rtml_pool *p, uint64_t *loads, uint64_t *failures) {
    *loads = atomic_load(&p->loads);
    *failures = atomic_load(&p->failures);
}
