/* pbplan.h — the configured field paths compiled against a Protobuf message: what protobuf.c follows while
 * it reads the wire format.
 *
 * A plan mirrors one message, holding only the fields some path reaches ("wants"), sorted by number so the
 * decoder finds a field on the wire by binary search. A path segment after a repeated field is an element
 * index ("/items/0/price", "0" or [1-9][0-9]{0,8}, as JSON Pointers index arrays); after a map field it is a
 * key ("/attrs/country"; integer keys as canonical decimals, bool keys as true/false). A target is every
 * plan for one message type: the configured message, or another one that a Confluent-framed record names by
 * its message indexes (compiled when first seen).
 *
 * Ownership: a target owns its plans, wants, elements and accumulators. Plans hold decode-time counters
 * (elements seen so far), so a target serves one decoder, one record at a time. */
#ifndef RTML_CODEC_PBPLAN_H
#define RTML_CODEC_PBPLAN_H
#include <stddef.h>
#include <stdint.h>

#include "codec/pbdesc.h"
#include "base/record.h"

typedef struct pb_plan pb_plan;

/* An element of a repeated field, or an entry of a map, that a path names. */
typedef struct {
    uint32_t index; /* repeated: the element's position */
    char *key;      /* map: the key as text (owned), or NULL */
    long slot;      /* the path ends here: the output index, or -1 */
    pb_plan *sub;   /* paths continue into the element's (or the map value's) message */
    int seen;       /* decoding: a map entry with this key was read (a later one replaces it) */
} pb_elem;

typedef struct {
    const rtml_pb_field *f;
    long slot;      /* a path ends at this field: the output index, or -1 */
    long vec;       /* repeated numeric field ending a path: its accumulator, or -1 */
    pb_plan *sub;   /* singular message field: paths continue into it */
    pb_elem *elems; /* repeated field or map: the elements paths name */
    size_t n_elems;
    uint32_t count; /* decoding: elements of this field read so far in the current message */
} pb_want;

struct pb_plan {
    pb_want *w; /* sorted by field number */
    size_t n;
};

typedef struct {
    double *v;
    size_t n, cap;
    int seen;
    long slot;
} pb_vec;

typedef struct {
    const rtml_pb_message *msg;
    pb_plan *root;   /* NULL when the fields do not fit this message: why says why */
    char *why;
    pb_plan **plans; /* all of them, for resetting and freeing */
    size_t n_plans;
    pb_vec *vecs;
    size_t n_vecs;
} pb_target;

/* Compile fields[0..n) (JSON Pointers; first[i] != i marks a repeat of an earlier path, compiled once)
 * against msg. NULL only out of memory; a path that does not fit leaves root NULL and the reason in why
 * ("field /x: message M has no field 'x'"). */
pb_target *rtml_pb_target_new(const rtml_pb_message *msg, const char *const *fields, const size_t *first, size_t n);
/* Before each record: element counters, map keys seen and accumulators back to zero. */
void rtml_pb_target_reset(pb_target *t);
void rtml_pb_target_free(pb_target *t);
/* Everything under p as if never read: its outputs ABSENT, its counters and accumulators empty (a map entry
 * whose key came earlier replaces the earlier one). */
void rtml_pb_plan_clear(pb_target *t, pb_plan *p, rtml_value *out);

#endif
