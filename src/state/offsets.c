/* offsets.c — at-least-once commit bookkeeping (see offsets.h). */
#include "state/offsets.h"

#include <stdlib.h>
#include <string.h>

void rtml_offsets_init(rtml_offsets *o, size_t ring_cap) {
    *o = (rtml_offsets){.ring_cap = ring_cap ? ring_cap : 1};
}

void rtml_offsets_free(rtml_offsets *o) {
    for (size_t i = 0; i < o->n; i++) {
        free(o->parts[i].topic);
        free(o->parts[i].offsets);
        free(o->parts[i].pending);
    }
    free(o->parts);
    *o = (rtml_offsets){0};
}

int rtml_offsets_find(const rtml_offsets *o, const char *topic, int32_t partition) {
    for (size_t i = 0; i < o->n; i++)
        if (o->parts[i].partition == partition && strcmp(o->parts[i].topic, topic) == 0) return (int)i;
    return -1;
}

static int add(rtml_offsets *o, const char *topic, int32_t partition) {
    if (o->n == o->cap_parts) {
        size_t cap = o->cap_parts ? 2 * o->cap_parts : 8;
        rtml_partition_track *p = realloc(o->parts, cap * sizeof *p);
        if (!p) return -1;
        o->parts = p;
        o->cap_parts = cap;
    }
    rtml_partition_track *t = &o->parts[o->n];
    *t = (rtml_partition_track){.partition = partition, .next_commit = -1, .learn_next = -1, .emit_from = -1,
                                 .done_next = -1};
    t->topic = strdup(topic);
    t->offsets = malloc(o->ring_cap * sizeof *t->offsets);
    t->pending = calloc(o->ring_cap, 1);
    if (!t->topic || !t->offsets || !t->pending) {
        free(t->topic), free(t->offsets), free(t->pending);
        return -1;
    }
    return (int)o->n++;
}

int rtml_offsets_known(rtml_offsets *o, const char *topic, int32_t partition) {
    int s = rtml_offsets_find(o, topic, partition);
    return s >= 0 ? s : add(o, topic, partition);
}

int rtml_offsets_slot(rtml_offsets *o, const char *topic, int32_t partition) {
    int s = rtml_offsets_known(o, topic, partition);
    if (s >= 0) o->parts[s].assigned = true;
    return s;
}

bool rtml_offsets_full(const rtml_offsets *o, int slot) {
    const rtml_partition_track *t = &o->parts[slot];
    return t->tail - t->head >= o->ring_cap;
}

uint64_t rtml_offsets_begin(rtml_offsets *o, int slot, int64_t offset) {
    rtml_partition_track *t = &o->parts[slot];
    uint64_t seq = t->tail++;
    t->offsets[seq % o->ring_cap] = offset;
    t->pending[seq % o->ring_cap] = 1;
    return rtml_ticket_make((size_t)slot, seq);
}

/* The ticket's slot in its ring, or NULL when it is stale (its partition was released meanwhile). */
static uint8_t *pending_of(rtml_offsets *o, uint64_t ticket) {
    size_t slot = rtml_ticket_slot(ticket);
    if (slot >= o->n) return NULL;
    rtml_partition_track *t = &o->parts[slot];
    /* Rebuild the full sequence number from its low bits: the in-flight window is far smaller than 2^40. */
    uint64_t seq = (t->head & ~RTML_TICKET_SEQ_MASK) | rtml_ticket_seq(ticket);
    if (seq < t->head) seq += UINT64_C(1) << RTML_TICKET_SEQ_BITS;
    if (seq < t->head || seq >= t->tail) return NULL;
    return &t->pending[seq % o->ring_cap];
}

void rtml_offsets_expect(rtml_offsets *o, uint64_t ticket) {
    uint8_t *p = pending_of(o, ticket);
    if (p && *p < UINT8_MAX) (*p)++;
}

void rtml_offsets_done(rtml_offsets *o, uint64_t ticket) {
    uint8_t *p = pending_of(o, ticket);
    if (p && *p) (*p)--;
}

void rtml_offsets_advance(rtml_offsets *o) {
    for (size_t i = 0; i < o->n; i++) {
        rtml_partition_track *t = &o->parts[i];
        while (t->head < t->tail && !t->pending[t->head % o->ring_cap]) {
            t->next_commit = t->offsets[t->head % o->ring_cap] + 1;
            t->head++;
            t->dirty = true;
        }
    }
}

size_t rtml_offsets_inflight(const rtml_offsets *o) {
    size_t n = 0;
    for (size_t i = 0; i < o->n; i++) n += (size_t)(o->parts[i].tail - o->parts[i].head);
    return n;
}

void rtml_offsets_release(rtml_offsets *o, const char *topic, int32_t partition, bool handed_over) {
    int s = rtml_offsets_find(o, topic, partition);
    if (s < 0) return;
    rtml_partition_track *t = &o->parts[s];
    t->head = t->tail; /* acknowledgements still on their way become stale */
    t->assigned = false;
    t->dirty = false;
    t->next_commit = -1;
    t->done_next = -1;
    if (handed_over) t->learn_next = t->emit_from = -1;
}
