/* offsets.h — at-least-once bookkeeping: which input offsets may be committed.
 *
 * An input record's offset may be committed only once its prediction was acknowledged by the broker (or it
 * was rejected and needs no output). Predictions of one input partition go to many output partitions, so
 * acknowledgements arrive out of order; each input partition therefore keeps a ring of its in-flight
 * records in offset order, and its commit point (the "watermark") advances over the acknowledged prefix.
 *
 * The ring has a fixed capacity: when it is full the caller stops consuming until acknowledgements free
 * room — that is the bound on memory when the output side is slow.
 *
 * A record in flight is named by a 64-bit ticket (slot << 40 | sequence) that travels as the produce
 * opaque and comes back in the delivery report.
 *
 * Each partition's slot also carries its positions for exactly-once learning (checkpoint.h): learn_next, the
 * offset from which records are not yet in the model (records below it are scored again if re-delivered,
 * but never learned twice), and emit_from, below which a record's output is already committed (it is not
 * produced again). A slot outlives its partition's assignment, so a checkpoint holds the positions of every
 * partition the model learned from. */
#ifndef RTML_OFFSETS_H
#define RTML_OFFSETS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ticket.h" /* a record in flight: slot << 40 | sequence */

typedef struct {
    char *topic;       /* owned */
    int32_t partition;
    bool assigned;
    int64_t *offsets;  /* ring of in-flight offsets, cap entries */
    uint8_t *pending;  /* outputs each in-flight record still waits for (0: done) */
    uint64_t head, tail; /* in-flight sequence numbers are [head, tail) */
    int64_t next_commit; /* offset to commit (last acknowledged prefix + 1); -1 before any */
    bool dirty;          /* next_commit moved since it was last stored */
    int64_t learn_next;  /* records at or past it are learned; -1: all are (nothing known) */
    int64_t emit_from;   /* records at or past it get an output; -1: all do */
    int64_t done_next;   /* exactly_once: the offset after the last record whose output is produced */
} rtml_partition_track;

typedef struct {
    rtml_partition_track *parts; /* owned */
    size_t n, cap_parts;
    size_t ring_cap; /* in-flight records per partition */
} rtml_offsets;

void rtml_offsets_init(rtml_offsets *o, size_t ring_cap);
void rtml_offsets_free(rtml_offsets *o);

/* The slot of topic/partition, created (and marked assigned) if new; -1 when out of memory. */
int rtml_offsets_slot(rtml_offsets *o, const char *topic, int32_t partition);
/* The same without marking it assigned (positions read from a checkpoint); -1 when out of memory. */
int rtml_offsets_known(rtml_offsets *o, const char *topic, int32_t partition);
/* The slot of topic/partition, or -1 when it was never seen. */
int rtml_offsets_find(const rtml_offsets *o, const char *topic, int32_t partition);
bool rtml_offsets_full(const rtml_offsets *o, int slot);
/* Record that offset entered the pipeline, waiting for one output; returns its ticket. The slot must not be full. */
uint64_t rtml_offsets_begin(rtml_offsets *o, int slot, int64_t offset);
/* One more output for the ticket's record (its features record beside its prediction). */
void rtml_offsets_expect(rtml_offsets *o, uint64_t ticket);
/* One of the ticket's outputs is done (acknowledged, or nothing to deliver); the record is done when all are.
 * Unknown or stale tickets (from a partition revoked meanwhile) are ignored. */
void rtml_offsets_done(rtml_offsets *o, uint64_t ticket);
/* Advance every partition's watermark over its acknowledged prefix. */
void rtml_offsets_advance(rtml_offsets *o);
/* Records in flight over all partitions. */
size_t rtml_offsets_inflight(const rtml_offsets *o);
/* Forget a revoked partition's in-flight records (their offsets stay uncommitted: at least once). handed_over:
 * its work up to now is committed, so the next owner starts where this one stopped and learns from there;
 * learn_next is forgotten too, so that if the partition comes back later it is not read again from this
 * model's old position (records that another member learned meanwhile would be learned twice in the group).
 * Otherwise (a lost assignment, a crash) learn_next stays: the model still holds what it learned. */
void rtml_offsets_release(rtml_offsets *o, const char *topic, int32_t partition, bool handed_over);

#endif
