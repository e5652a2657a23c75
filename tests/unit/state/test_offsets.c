/* test_offsets.c — the at-least-once commit bookkeeping: the watermark advances only over an acknowledged
 * prefix, whatever order acknowledgements arrive in; stale tickets are ignored; the ring bounds memory. */
#include <stdlib.h>

#include "check.h"
#include "state/offsets.h"

static void test_out_of_order(void) {
    rtml_offsets o;
    rtml_offsets_init(&o, 8);
    int s = rtml_offsets_slot(&o, "in", 3);
    CHECK(s == 0);
    uint64_t t[5];
    for (int i = 0; i < 5; i++) t[i] = rtml_offsets_begin(&o, s, 100 + i);
    CHECK_EQ_INT(rtml_offsets_inflight(&o), 5);
    rtml_offsets_done(&o, t[1]);
    rtml_offsets_done(&o, t[2]);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[s].next_commit, -1); /* 100 not yet acknowledged: nothing to commit */
    rtml_offsets_done(&o, t[0]);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[s].next_commit, 103); /* 100..102 done */
    CHECK(o.parts[s].dirty);
    rtml_offsets_done(&o, t[4]);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[s].next_commit, 103); /* 103 still missing */
    rtml_offsets_done(&o, t[3]);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[s].next_commit, 105);
    CHECK_EQ_INT(rtml_offsets_inflight(&o), 0);
    rtml_offsets_free(&o);
}

static void test_full_and_wrap(void) {
    rtml_offsets o;
    rtml_offsets_init(&o, 4);
    int s = rtml_offsets_slot(&o, "in", 0);
    for (int64_t off = 0; off < 1000; off++) {
        CHECK(!rtml_offsets_full(&o, s));
        uint64_t t = rtml_offsets_begin(&o, s, off);
        if (off % 4 == 3) {
            CHECK(rtml_offsets_full(&o, s));
        }
        rtml_offsets_done(&o, t);
        if (off % 4 == 3) rtml_offsets_advance(&o);
    }
    CHECK_EQ_INT(o.parts[s].next_commit, 1000);
    rtml_offsets_free(&o);
}

static void test_partitions_and_release(void) {
    rtml_offsets o;
    rtml_offsets_init(&o, 16);
    int a = rtml_offsets_slot(&o, "in", 0), b = rtml_offsets_slot(&o, "in", 1), c = rtml_offsets_slot(&o, "other", 0);
    CHECK(a == 0 && b == 1 && c == 2);
    CHECK(rtml_offsets_slot(&o, "in", 1) == b); /* found again, not duplicated */
    uint64_t ta = rtml_offsets_begin(&o, a, 7), tb = rtml_offsets_begin(&o, b, 9);
    o.parts[b].learn_next = 10, o.parts[b].emit_from = 9;
    rtml_offsets_release(&o, "in", 1, false); /* lost: the model still knows where it learned to */
    CHECK(!o.parts[b].assigned);
    CHECK_EQ_INT(o.parts[b].learn_next, 10);
    rtml_offsets_release(&o, "in", 1, true); /* handed over: the next owner learns from the commit on */
    CHECK_EQ_INT(o.parts[b].learn_next, -1);
    CHECK_EQ_INT(o.parts[b].emit_from, -1);
    rtml_offsets_done(&o, tb); /* stale: its partition was revoked */
    rtml_offsets_done(&o, ta);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[a].next_commit, 8);
    CHECK_EQ_INT(o.parts[b].next_commit, -1);
    CHECK_EQ_INT(rtml_offsets_inflight(&o), 0);
    rtml_offsets_done(&o, (uint64_t)99 << 40); /* unknown slot: ignored */
    uint64_t tb2 = rtml_offsets_begin(&o, rtml_offsets_slot(&o, "in", 1), 20); /* reassigned */
    CHECK(o.parts[b].assigned);
    rtml_offsets_done(&o, tb2);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[b].next_commit, 21);
    rtml_offsets_free(&o);
}

/* A record with two outputs (a prediction and its features record) is done when both are acknowledged. */
static void test_two_outputs(void) {
    rtml_offsets o;
    rtml_offsets_init(&o, 8);
    int s = rtml_offsets_slot(&o, "t", 0);
    uint64_t a = rtml_offsets_begin(&o, s, 10), b = rtml_offsets_begin(&o, s, 11);
    rtml_offsets_expect(&o, a);
    rtml_offsets_done(&o, a);
    rtml_offsets_done(&o, b);
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[s].next_commit, -1); /* a still waits for its second output */
    rtml_offsets_done(&o, a);
    rtml_offsets_done(&o, a); /* a third report (a retry's duplicate) changes nothing */
    rtml_offsets_advance(&o);
    CHECK_EQ_INT(o.parts[s].next_commit, 12);
    CHECK_EQ_INT(rtml_offsets_inflight(&o), 0);
    rtml_offsets_free(&o);
}

int main(void) {
    test_two_outputs();
    test_out_of_order();
    test_full_and_wrap();
    test_partitions_and_release();
    return check_exit("test_offsets");
}
