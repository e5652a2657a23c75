/* pbwire.h — a small Protocol Buffers wire-format reader, and the descriptor sets it reads schemas from.
 *
 * rtml decodes Protobuf without generated code: the schema is a FileDescriptorSet that protoc writes
 * (protoc --include_imports --descriptor_set_out=x.desc x.proto), itself a protobuf message, read with the
 * same reader the messages are. The reader never reads past its end; every failure leaves a reason in
 * r->why and the failing position in r->p (the caller prefixes "offset N:").
 *
 * The descriptor model keeps what decoding needs: messages with their fields (name, number, label, type,
 * and the resolved message or enum type), enums with their values. Names are fully qualified without the
 * leading dot ("rtml.test.Txn", nested "rtml.test.Txn.Item"). */
#ifndef RTML_CODEC_PBWIRE_H
#define RTML_CODEC_PBWIRE_H
#include <stddef.h>
#include <stdint.h>

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

/* ---- descriptors ------------------------------------------------------------------------------------- */

/* FieldDescriptorProto.Type values. */
enum {
    RTML_PB_DOUBLE = 1, RTML_PB_FLOAT = 2, RTML_PB_INT64 = 3, RTML_PB_UINT64 = 4, RTML_PB_INT32 = 5,
    RTML_PB_FIXED64 = 6, RTML_PB_FIXED32 = 7, RTML_PB_BOOL = 8, RTML_PB_STRING = 9, RTML_PB_GROUP = 10,
    RTML_PB_MESSAGE = 11, RTML_PB_BYTES = 12, RTML_PB_UINT32 = 13, RTML_PB_ENUM = 14, RTML_PB_SFIXED32 = 15,
    RTML_PB_SFIXED64 = 16, RTML_PB_SINT32 = 17, RTML_PB_SINT64 = 18
};
#define RTML_PB_LABEL_REPEATED 3

typedef struct rtml_pb_message rtml_pb_message;

typedef struct {
    char *name;
    int32_t number;
} rtml_pb_enum_value;

typedef struct {
    char *name; /* fully qualified */
    rtml_pb_enum_value *values;
    size_t n_values;
} rtml_pb_enum;

typedef struct {
    char *name;
    uint32_t number;
    int label;                  /* 1 optional, 2 required, 3 repeated */
    int type;                   /* RTML_PB_DOUBLE ... */
    char *type_name;            /* message/enum fields: as written (".pkg.Msg") */
    const rtml_pb_message *msg; /* resolved type_name, message fields */
    const rtml_pb_enum *enm;    /* resolved type_name, enum fields */
} rtml_pb_field;

struct rtml_pb_message {
    char *name; /* fully qualified */
    rtml_pb_field *fields;
    size_t n_fields;
};

typedef struct {
    rtml_pb_message **messages;
    size_t n_messages;
    rtml_pb_enum **enums;
    size_t n_enums;
} rtml_pb_descriptors;

/* Parse a serialized FileDescriptorSet and resolve every field's type_name. NULL with a reason. */
rtml_pb_descriptors *rtml_pb_descriptors_parse(const void *buf, size_t len, char *err, size_t errlen);
/* A message by its fully qualified name (a leading '.' is allowed), or NULL. */
const rtml_pb_message *rtml_pb_find_message(const rtml_pb_descriptors *d, const char *name);
const rtml_pb_field *rtml_pb_find_field(const rtml_pb_message *m, const char *name);
/* An enum value's name, or NULL when the number is not one of them. */
const rtml_pb_enum_value *rtml_pb_enum_find(const rtml_pb_enum *e, int32_t number);
void rtml_pb_descriptors_free(rtml_pb_descriptors *d);
/* "double", "int32", ... for messages. */
const char *rtml_pb_type_name(int type);

#endif
