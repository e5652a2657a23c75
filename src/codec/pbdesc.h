/* pbdesc.h — Protocol Buffers descriptor sets: the schemas format: protobuf reads records with.
 *
 * rtml decodes Protobuf without generated code: the schema is a FileDescriptorSet that protoc writes
 * (protoc --include_imports --descriptor_set_out=x.desc x.proto), itself a protobuf message, read with the
 * same wire reader (base/pbwire.h) the messages are.
 *
 * The descriptor model keeps what decoding and encoding need: files (syntax, their top-level messages in
 * order), messages (fields, nested messages in order, map entries, well-known types), fields (name, number,
 * label, type, the resolved message or enum type, and whether the field has explicit presence), enums with
 * their values. Names are fully qualified without the leading dot ("rtml.test.Txn", nested
 * "rtml.test.Txn.Item").
 *
 * Presence, as protobuf defines it (https://protobuf.dev/programming-guides/field_presence/): a singular
 * field has explicit presence when it is a message, a oneof member (proto3 `optional` is a synthetic
 * oneof), `required`, or any singular field of a proto2 file; in editions, when its resolved
 * features.field_presence (field, then enclosing messages, then file; default EXPLICIT) is not IMPLICIT.
 * Other singular fields (proto3 scalars and enums) have implicit presence: absent reads as the default.
 * Repeated fields and maps have no presence at all. */
#ifndef RTML_CODEC_PBDESC_H
#define RTML_CODEC_PBDESC_H
#include <stddef.h>
#include <stdint.h>

#include "base/pbwire.h"

/* ---- descriptors ------------------------------------------------------------------------------------- */

/* FieldDescriptorProto.Type values. */
enum {
    RTML_PB_DOUBLE = 1, RTML_PB_FLOAT = 2, RTML_PB_INT64 = 3, RTML_PB_UINT64 = 4, RTML_PB_INT32 = 5,
    RTML_PB_FIXED64 = 6, RTML_PB_FIXED32 = 7, RTML_PB_BOOL = 8, RTML_PB_STRING = 9, RTML_PB_GROUP = 10,
    RTML_PB_MESSAGE = 11, RTML_PB_BYTES = 12, RTML_PB_UINT32 = 13, RTML_PB_ENUM = 14, RTML_PB_SFIXED32 = 15,
    RTML_PB_SFIXED64 = 16, RTML_PB_SINT32 = 17, RTML_PB_SINT64 = 18
};
#define RTML_PB_LABEL_REQUIRED 2
#define RTML_PB_LABEL_REPEATED 3

/* Well-known types rtml reads as values (google/protobuf/timestamp.proto, duration.proto, wrappers.proto). */
typedef enum {
    RTML_PB_WKT_NONE = 0,
    RTML_PB_WKT_TIMESTAMP, /* {int64 seconds = 1; int32 nanos = 2} */
    RTML_PB_WKT_DURATION,  /* the same fields */
    RTML_PB_WKT_WRAPPER,   /* DoubleValue ... BytesValue: {T value = 1} */
} rtml_pb_wkt;

typedef enum { RTML_PB_SYNTAX_PROTO2 = 0, RTML_PB_SYNTAX_PROTO3, RTML_PB_SYNTAX_EDITIONS } rtml_pb_syntax;

typedef struct rtml_pb_message rtml_pb_message;
typedef struct rtml_pb_file rtml_pb_file;

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
    int32_t oneof_index;        /* -1: not in a oneof */
    int proto3_optional;
    int feature_presence;       /* editions: features.field_presence set on the field (0: not set) */
    int has_presence;           /* resolved: 1 explicit presence, 0 implicit (or repeated: no presence) */
} rtml_pb_field;

struct rtml_pb_message {
    char *name; /* fully qualified */
    rtml_pb_field *fields;
    size_t n_fields;
    const rtml_pb_file *file;
    const rtml_pb_message *parent; /* the enclosing message of a nested one, or NULL */
    uint32_t index;                /* its position among its parent's nested messages (or the file's) */
    rtml_pb_message **nested;      /* nested messages, in declaration order (owned by the set) */
    size_t n_nested;
    int map_entry;                 /* a map<K, V> field's entry message {K key = 1; V value = 2} */
    int feature_presence;          /* editions: features.field_presence of the message (0: not set) */
    rtml_pb_wkt wkt;
};

struct rtml_pb_file {
    char *name; /* "txn.proto" */
    rtml_pb_syntax syntax;
    int feature_presence;          /* editions: features.field_presence of the file (0: not set) */
    rtml_pb_message **messages;    /* top-level messages, in declaration order (owned by the set) */
    size_t n_messages;
};

typedef struct {
    rtml_pb_message **messages; /* every message, nested ones too */
    size_t n_messages;
    rtml_pb_enum **enums;
    size_t n_enums;
    rtml_pb_file **files;
    size_t n_files;
} rtml_pb_descriptors;

/* The deepest message-index path rtml follows (Confluent framing: top-level index, then nested ones). */
#define RTML_PB_MAX_INDEXES 64

/* Parse a serialized FileDescriptorSet and resolve every field's type_name. NULL with a reason. */
rtml_pb_descriptors *rtml_pb_descriptors_parse(const void *buf, size_t len, char *err, size_t errlen);
/* A message by its fully qualified name (a leading '.' is allowed), or NULL. */
const rtml_pb_message *rtml_pb_find_message(const rtml_pb_descriptors *d, const char *name);
const rtml_pb_field *rtml_pb_find_field(const rtml_pb_message *m, const char *name);
/* An enum value's name, or NULL when the number is not one of them. */
const rtml_pb_enum_value *rtml_pb_enum_find(const rtml_pb_enum *e, int32_t number);
/* The field with this number, or NULL. */
const rtml_pb_field *rtml_pb_field_by_number(const rtml_pb_message *m, uint32_t number);
/* Confluent message indexes: the message at idx[0] among f's top-level messages, then idx[1] among its
 * nested ones, and so on; NULL when an index is out of range. */
const rtml_pb_message *rtml_pb_message_at(const rtml_pb_file *f, const uint32_t *idx, size_t n);
/* The indexes of m in its file (the inverse of rtml_pb_message_at): how many, written to idx[0..max). */
size_t rtml_pb_message_indexes(const rtml_pb_message *m, uint32_t *idx, size_t max);
void rtml_pb_descriptors_free(rtml_pb_descriptors *d);
/* "double", "int32", ... for messages. */
const char *rtml_pb_type_name(int type);

#endif
