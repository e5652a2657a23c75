/* test_snapshot.c — the hand-over of snapshots (serve/snapshot.c): publication order and references, a released
 * snapshot recycled as the next spare, confirmation (age), a waiter woken by a publication and by close, and a
 * publisher racing two readers (run under ASan/UBSan in make test: no use after free, no leak). */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/clock.h"
#include "check.h"
#include "serve/snapshot.h"

static rtml_snapshots S;
static atomic_int stop, bad;
static atomic_long seen[2]; /* each reader's snapshots taken */

static void publish_text(const char *text, double now) {
    rtml_snapshot *s = rtml_snapshots_prepare(&S);
    rtml_buf_puts(&s->image, text);
    rtml_snapshots_publish(&S, s, now);
}

static void test_basics(void) {
    CHECK(rtml_snapshots_acquire(&S) == NULL);
    CHECK_EQ_INT(rtml_snapshots_seq(&S), 0);
    publish_text("one", 10);
    rtml_snapshot *a = rtml_snapshots_acquire(&S);
    CHECK(a && a->seq == 1 && !strcmp(a->image.data, "one"));
    publish_text("two", 11);
    rtml_snapshot *b = rtml_snapshots_acquire(&S);
    CHECK(b->seq == 2 && !strcmp(b->image.data, "two") && !strcmp(a->image.data, "one")); /* a still held */
    rtml_snapshots_release(&S, a); /* its last reference: it becomes the spare */
    rtml_snapshot *next = rtml_snapshots_prepare(&S);
    CHECK(next == a && next->image.len == 0);
    rtml_buf_puts(&next->image, "three");
    rtml_snapshots_publish(&S, next, 12);
    CHECK_NEAR(rtml_snapshot_age(next, 12.5), 0.5, 1e-6);
    rtml_snapshots_confirm(&S, 14);
    CHECK_NEAR(rtml_snapshot_age(next, 14.25), 0.25, 1e-6);
    CHECK_NEAR(rtml_snapshot_age(b, 14.0), 3.0, 1e-6); /* replaced: no longer confirmed */
    rtml_snapshots_release(&S, b);
}

/* 20,000 publications, and on until each reader has taken 1,000 snapshots meanwhile (deadline 30 s): on two busy
 * cores the publisher could otherwise be done before a reader first runs, and nothing would have raced. */
static void *publisher(void *arg) {
    double deadline = rtml_now() + 30;
    for (int i = 0; i < 20000 || ((atomic_load(&seen[0]) < 1000 || atomic_load(&seen[1]) < 1000) &&
                                  rtml_now() < deadline);
         i++)
        publish_text(i % 2 ? "odd" : "even", rtml_now());
    atomic_store(&stop, 1);
    return arg;
}

static void *reader(void *arg) {
    atomic_long *taken = arg;
    uint64_t last = 0;
    while (!atomic_load(&stop)) {
        rtml_snapshot *s = rtml_snapshots_acquire(&S);
        if (s->seq < last) atomic_store(&bad, 1); /* never older than the last one taken */
        last = s->seq;
        /* publication i (seq i + 4) holds "even" for even i: its contents are never another's */
        if (s->seq > 3 && strcmp(s->image.data, s->seq % 2 ? "odd" : "even") != 0) atomic_store(&bad, 1);
        atomic_fetch_add(taken, 1);
        rtml_snapshots_release(&S, s);
    }
    return NULL;
}

static void test_race(void) {
    pthread_t p, r[2];
    pthread_create(&r[0], NULL, reader, &seen[0]);
    pthread_create(&r[1], NULL, reader, &seen[1]);
    pthread_create(&p, NULL, publisher, NULL);
    pthread_join(p, NULL);
    pthread_join(r[0], NULL);
    pthread_join(r[1], NULL);
    CHECK(atomic_load(&seen[0]) >= 1000 && atomic_load(&seen[1]) >= 1000);
    CHECK(!atomic_load(&bad));
}

/* waits 10 s for a publication after `after` (taken by the caller before the thread starts: a waiter that ran only
 * after the publication would otherwise wait for the next one) */
typedef struct {
    uint64_t after;
    int rc;
} wait_arg;

static void *waiter(void *arg) {
    wait_arg *w = arg;
    w->rc = rtml_snapshots_wait(&S, w->after, 10);
    return NULL;
}

static void test_wait(void) {
    CHECK_EQ_INT(rtml_snapshots_wait(&S, rtml_snapshots_seq(&S), 0.05), -1); /* time-out */
    wait_arg a = {rtml_snapshots_seq(&S), 9};
    pthread_t w;
    pthread_create(&w, NULL, waiter, &a);
    double t = rtml_now();
    while (rtml_now() - t < 0.05) {}
    publish_text("woken", rtml_now());
    pthread_join(w, NULL);
    CHECK_EQ_INT(a.rc, 0);
    a = (wait_arg){rtml_snapshots_seq(&S), 9};
    t = rtml_now();
    pthread_create(&w, NULL, waiter, &a);
    rtml_snapshots_close(&S);
    pthread_join(w, NULL);
    CHECK_EQ_INT(a.rc, -1);
    CHECK(rtml_now() - t < 5); /* by the close, not the 10 s time-out */
}

int main(void) {
    rtml_snapshots_init(&S);
    test_basics();
    test_race();
    test_wait();
    rtml_snapshots_free(&S);
    return check_exit("test_snapshot");
}
