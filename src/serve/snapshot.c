/* snapshot.c — the hand-over of the stream's model to the server's threads (snapshot.h). */
#include "serve/snapshot.h"

#include <stdlib.h>
#include <time.h>

static uint64_t to_ns(double t) { return t > 0 ? (uint64_t)(t * 1e9) : 0; }

void rtml_snapshots_init(rtml_snapshots *s) {
    *s = (rtml_snapshots){0};
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&s->published, &a);
    pthread_condattr_destroy(&a);
}

static void destroy(rtml_snapshot *snap) {
    if (!snap) return;
    rtml_buf_free(&snap->image);
    free(snap);
}

void rtml_snapshots_free(rtml_snapshots *s) {
    destroy(s->current);
    destroy(s->spare);
    pthread_cond_destroy(&s->published);
    pthread_mutex_destroy(&s->lock);
    *s = (rtml_snapshots){0};
}

rtml_snapshot *rtml_snapshots_prepare(rtml_snapshots *s) {
    pthread_mutex_lock(&s->lock);
    rtml_snapshot *snap = s->spare;
    s->spare = NULL;
    pthread_mutex_unlock(&s->lock);
    if (!snap && !(snap = calloc(1, sizeof *snap))) return NULL;
    rtml_buf_reset(&snap->image);
    return snap;
}

/* Drop one reference (the lock held); the last one recycles snap as the spare, or frees it. */
static void unref(rtml_snapshots *s, rtml_snapshot *snap) {
    if (--snap->refs > 0) return;
    if (!s->spare) s->spare = snap;
    else destroy(snap);
}

void rtml_snapshots_publish(rtml_snapshots *s, rtml_snapshot *snap, double now) {
    snap->taken_at = now;
    atomic_store_explicit(&snap->current_ns, to_ns(now), memory_order_relaxed);
    snap->refs = 1; /* the current one's own reference */
    pthread_mutex_lock(&s->lock);
    snap->seq = ++s->seq;
    rtml_snapshot *old = s->current;
    s->current = snap;
    if (old) unref(s, old);
    pthread_cond_broadcast(&s->published);
    pthread_mutex_unlock(&s->lock);
}

/* Only the loop's thread replaces current, so it reads the pointer without the lock. */
void rtml_snapshots_confirm(rtml_snapshots *s, double now) {
    if (s->current) atomic_store_explicit(&s->current->current_ns, to_ns(now), memory_order_relaxed);
}

rtml_snapshot *rtml_snapshots_acquire(rtml_snapshots *s) {
    pthread_mutex_lock(&s->lock);
    rtml_snapshot *snap = s->current;
    if (snap) snap->refs++;
    pthread_mutex_unlock(&s->lock);
    return snap;
}

void rtml_snapshots_release(rtml_snapshots *s, rtml_snapshot *snap) {
    if (!snap) return;
    pthread_mutex_lock(&s->lock);
    unref(s, snap);
    pthread_mutex_unlock(&s->lock);
}

uint64_t rtml_snapshots_seq(rtml_snapshots *s) {
    pthread_mutex_lock(&s->lock);
    uint64_t seq = s->seq;
    pthread_mutex_unlock(&s->lock);
    return seq;
}

int rtml_snapshots_wait(rtml_snapshots *s, uint64_t seq, double timeout) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    double t = (double)until.tv_sec + (double)until.tv_nsec / 1e9 + timeout;
    until.tv_sec = (time_t)t;
    until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (s->seq <= seq && !s->closing && rc == 0) rc = pthread_cond_timedwait(&s->published, &s->lock, &until);
    int got = s->seq > seq && !s->closing;
    pthread_mutex_unlock(&s->lock);
    return got ? 0 : -1;
}

void rtml_snapshots_close(rtml_snapshots *s) {
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    pthread_cond_broadcast(&s->published);
    pthread_mutex_unlock(&s->lock);
}

double rtml_snapshot_age(const rtml_snapshot *snap, double now) {
    double at = (double)atomic_load_explicit(&snap->current_ns, memory_order_relaxed) / 1e9;
    return now > at ? now - at : 0;
}
