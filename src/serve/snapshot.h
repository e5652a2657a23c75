/* snapshot.h — the hand-over of the stream's model to the serve endpoint's threads (docs/serving.md, "Snapshots").
 *
 * The stream's pipeline belongs to the loop's thread and is never locked (run/runner.h). Every serve.refresh the
 * loop writes a snapshot of it (pipeline/scorer.h: feature statistics, model, class names, version) into a
 * snapshot object it got from rtml_snapshots_prepare(), and publishes it; the server's threads take the current
 * one with a reference and load it into their scorers. When nothing changed since the last one the loop only
 * confirms it (one atomic store), so a snapshot's age says how long ago the stream's model was last known to be
 * the one it holds.
 *
 * What each side can wait for: the one mutex guards the current pointer, the spare and the reference counts,
 * and is held only for a few pointer operations, never while anything is written, loaded or scored. Publishing
 * never waits for a reader, and a reader never waits for the stream: it takes what is current. A published
 * snapshot lives while references to it exist; the last release recycles it as the stream's next spare (its
 * buffer keeps its capacity), or frees it. */
#ifndef RTML_SERVE_SNAPSHOT_H
#define RTML_SERVE_SNAPSHOT_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"

typedef struct rtml_snapshot {
    rtml_buf image;              /* pipeline/scorer.h's rtml_pipeline_snapshot */
    uint64_t seq;                /* 1, 2, ... in publication order */
    double taken_at;             /* monotonic seconds */
    _Atomic uint64_t current_ns; /* monotonic ns when the stream last confirmed its model is this one */
    unsigned refs;               /* under the owner's lock */
} rtml_snapshot;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t published; /* signalled at each publication (the server's refresher waits on it) */
    rtml_snapshot *current;   /* NULL before the first publication */
    rtml_snapshot *spare;     /* a released snapshot kept for the next prepare */
    uint64_t seq;
    int closing;              /* wakes the waiters for good */
} rtml_snapshots;

void rtml_snapshots_init(rtml_snapshots *s);
/* Frees the current and the spare: every reference must have been released. */
void rtml_snapshots_free(rtml_snapshots *s);

/* The stream's side. prepare: an unpublished snapshot to write (its image reset; NULL when out of memory);
 * publish: it becomes the current one, confirmed now; confirm: the current one is still the stream's model. */
rtml_snapshot *rtml_snapshots_prepare(rtml_snapshots *s);
void rtml_snapshots_publish(rtml_snapshots *s, rtml_snapshot *snap, double now);
void rtml_snapshots_confirm(rtml_snapshots *s, double now);

/* The readers' side: the current snapshot with a reference (NULL before the first), and its release. */
rtml_snapshot *rtml_snapshots_acquire(rtml_snapshots *s);
void rtml_snapshots_release(rtml_snapshots *s, rtml_snapshot *snap);
/* The sequence number of the current snapshot (0: none yet), and a wait for a newer one than seq, up to
 * timeout seconds (0 when one came, -1 on time-out or close). */
uint64_t rtml_snapshots_seq(rtml_snapshots *s);
int rtml_snapshots_wait(rtml_snapshots *s, uint64_t seq, double timeout);
/* Wake every waiter for good (before the server's threads are joined). */
void rtml_snapshots_close(rtml_snapshots *s);

/* Seconds since snap was last confirmed, at monotonic time now. */
double rtml_snapshot_age(const rtml_snapshot *snap, double now);

#endif
