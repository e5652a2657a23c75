/* ticket.h — the name of a record in flight: one 64-bit value (slot << 40 | sequence) that travels as the produce
 * opaque and comes back in the delivery report. The slot is the input partition's (state/offsets.h keeps the
 * commit points by it, monitor/metrics.h the latencies); the sequence orders the partition's records. */
#ifndef RTML_BASE_TICKET_H
#define RTML_BASE_TICKET_H
#include <stddef.h>
#include <stdint.h>

#define RTML_TICKET_SEQ_BITS 40
#define RTML_TICKET_SEQ_MASK ((UINT64_C(1) << RTML_TICKET_SEQ_BITS) - 1)

static inline uint64_t rtml_ticket_make(size_t slot, uint64_t seq) {
    return ((uint64_t)slot << RTML_TICKET_SEQ_BITS) | (seq & RTML_TICKET_SEQ_MASK);
}
static inline size_t rtml_ticket_slot(uint64_t ticket) { return (size_t)(ticket >> RTML_TICKET_SEQ_BITS); }
static inline uint64_t rtml_ticket_seq(uint64_t ticket) { return ticket & RTML_TICKET_SEQ_MASK; }

#endif
