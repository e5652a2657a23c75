/* avro_schema.h — Avro schemas, shared by the Avro decoder (avro.c) and the prediction encoder (avro_encode.c).
 *
 * A schema is parsed once from its .avsc JSON (with jansson: not the hot path) into a graph of type nodes.
 * Named types (record, enum, fixed) may be referenced by name, so the graph can be cyclic (a record holding
 * a union of null and itself); the schema owns every node, and nodes point at each other without owning.
 * Supported: null, boolean, int, long, float, double, bytes, string, record (and "error"), enum, array,
 * map, union, fixed; aliases, defaults and orders are accepted and ignored. Logical types:
 * date, time-millis, time-micros, timestamp-millis/micros/nanos, local-timestamp-millis/micros/nanos,
 * decimal (on bytes or fixed) and uuid (on string or fixed(16)) are kept on their node; as the Avro
 * specification asks, an unknown logical type, or one on a type it does not fit (a decimal whose scale
 * exceeds its precision, a date on a long), is ignored and the underlying type is read. */
#ifndef RTML_CODEC_AVRO_SCHEMA_H
#define RTML_CODEC_AVRO_SCHEMA_H
#include <stddef.h>
#include <stdint.h>

#define RTML_AVRO_MAX_DEPTH 64 /* deepest nesting of types a schema or a datum may have */

typedef enum {
    RTML_AVRO_NULL = 0,
    RTML_AVRO_BOOLEAN,
    RTML_AVRO_INT,
    RTML_AVRO_LONG,
    RTML_AVRO_FLOAT,
    RTML_AVRO_DOUBLE,
    RTML_AVRO_BYTES,
    RTML_AVRO_STRING,
    RTML_AVRO_RECORD,
    RTML_AVRO_ENUM,
    RTML_AVRO_ARRAY,
    RTML_AVRO_MAP,
    RTML_AVRO_UNION,
    RTML_AVRO_FIXED,
} rtml_avro_kind;

typedef enum {
    RTML_AVRO_LOGICAL_NONE = 0,
    RTML_AVRO_DATE,             /* int: days since 1970-01-01 */
    RTML_AVRO_TIME_MILLIS,      /* int: milliseconds after midnight */
    RTML_AVRO_TIME_MICROS,      /* long: microseconds after midnight */
    RTML_AVRO_TIMESTAMP_MILLIS, /* long: since the epoch, UTC (local-timestamp-*: on a local clock) */
    RTML_AVRO_TIMESTAMP_MICROS,
    RTML_AVRO_TIMESTAMP_NANOS,
    RTML_AVRO_DECIMAL,          /* bytes, fixed: a big-endian two's-complement integer, scaled by 10^-scale */
    RTML_AVRO_UUID,             /* string, or fixed(16): the 16 bytes */
} rtml_avro_logical;

typedef struct rtml_avro_type rtml_avro_type;
struct rtml_avro_type {
    rtml_avro_kind kind;
    rtml_avro_logical logical;
    int local;              /* a local-timestamp-* (a wall clock, no zone): read as the timestamp-* is */
    int scale;              /* decimal: digits after the point */
    char *name;             /* record, enum, fixed: the full name */
    size_t n;               /* record: fields; enum: symbols; union: branches; fixed: the size in bytes */
    char **names;           /* record: field names; enum: symbols */
    size_t *name_lens;      /* their lengths */
    rtml_avro_type **items; /* record: field types; union: branches; array, map: items[0] */
    int empty;              /* its encoding is always zero bytes (null, fixed(0), records of only such) */
    int state;              /* parsing only */
};

typedef struct rtml_avro_schema rtml_avro_schema;

/* Parse .avsc JSON text (len bytes). NULL with "input.schema: reason" style text in err. */
rtml_avro_schema *rtml_avro_schema_parse(const char *json, size_t len, char *err, size_t errlen);
/* Read and parse the file at path. */
rtml_avro_schema *rtml_avro_schema_load(const char *path, char *err, size_t errlen);
const rtml_avro_type *rtml_avro_schema_root(const rtml_avro_schema *s);
void rtml_avro_schema_free(rtml_avro_schema *s);
const char *rtml_avro_kind_name(rtml_avro_kind k);

#endif
