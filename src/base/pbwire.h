/* pbwire.h — the Protocol Buffers wire format, read and written without generated code: the records of
 * format: protobuf (codec/) and the SavedModel's MetaGraphDef (engine/tf/) both go through it. The reader never
 * reads past its end; every failure leaves a reason in r->why and the failing position in r->p (the caller
 * prefixes "offset N:"). */
#ifndef RTML_BASE_PBWIRE_H
#define RTML_BASE_PBWIRE_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* ---- wire reader ------------------------------------------------------------------------------------- */

enum { RTML_PB_VARINT = 0, RTML_PB_I64 = 1, RTML_PB_LEN = 2, RTML_PB_SGROUP = 3, RTML_PB_EGROUP = 4, RTML_PB_I32 = 5 };

typedef struct {
    const uint8_t *start, *p, *end;
    const char *why; /* the reason of the last failure */
} rtml_pb_reader;

static inline rtml_pb_reader rtml_pb_reader_new(const void *buf, size_t len) {
    const uint8_t *b = buf;
    return (rtml_pb_reader){b, b, b + len, NULL};
}
/* Fail with this reason: -1 (the reason stays in r->why). */
static inline int rtml_pb_fail(rtml_pb_reader *r, const char *why) {
    r->why = why;
    return -1;
}
static inline size_t rtml_pb_offset(const rtml_pb_reader *r) { return (size_t)(r->p - r->start); }

int rtml_pb_varint(rtml_pb_reader *r, uint64_t *v); /* at most 10 bytes, no bits past 64 */
/* A field key: number 1..2^29-1 and wire type 0, 1, 2 or 5 (groups, 3 and 4, fail: not supported). */
int rtml_pb_key(rtml_pb_reader *r, uint32_t *field, int *wire);
int rtml_pb_fixed32(rtml_pb_reader *r, uint32_t *v);
int rtml_pb_fixed64(rtml_pb_reader *r, uint64_t *v);
/* A length-delimited payload: *p points into the buffer, *n bytes, all within it. */
int rtml_pb_bytes(rtml_pb_reader *r, const uint8_t **p, size_t *n);
/* Skip a value of the given wire type. */
int rtml_pb_skip(rtml_pb_reader *r, int wire);

/* ---- wire writer (prediction records, protobuf_encode.c) --------------------------------------------- */

void rtml_pb_put_varint(rtml_buf *b, uint64_t v);
void rtml_pb_put_key(rtml_buf *b, uint32_t field, int wire);
void rtml_pb_put_fixed32(rtml_buf *b, uint32_t v);
void rtml_pb_put_fixed64(rtml_buf *b, uint64_t v);

#endif
