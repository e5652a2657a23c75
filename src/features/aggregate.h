/* aggregate.h — features over the recent past of a key (the config's aggregates section): count, sum, mean, min,
 * max, std, distinct, last and time since the last record, over sliding event-time windows or exponentially
 * decayed, per key (a card, a user), computed for each record from the records of its key that came before it.
 *
 * Point in time. A record at event time t gets values computed over the records of its key that arrived before it
 * with event times in [t - window, t): never itself, never a record at or after t. Then, once the pipeline has
 * accepted it (rtml_aggregates_add), it is added. A record older than its key's newest by at most
 * aggregates.lateness is placed among the others in event time; an older one is scored from what is kept but not
 * added (counted as late).
 *
 * Exactness. Windowed aggregates keep every event of the window: exact, as long as a key keeps at most
 * aggregates.max_events events (the oldest go first, counted as truncated). distinct is exact up to
 * aggregates.distinct_cap values in a window, then a HyperLogLog estimate (2^12 registers: a standard error of
 * 1.04 / 64 = 1.6%). std is the sample standard deviation (n - 1), absent below 2 values. Decayed aggregates
 * (half_life h) weigh a record of time s by 2^-((t - s) / h); a record's own and later records never count.
 * Without a window, count, sum, mean, min, max, std, last and time_since_last cover the key's whole history.
 * When no record of the key came before (or none in the window), count, sum and distinct are 0 and the others
 * absent (a feature's impute decides).
 *
 * State. One table per key source: a hash map of keys, each with its events in time order (as long as some
 * window or the lateness needs them), then folded into running figures (history, decay, last). At most
 * aggregates.max_keys keys per table (the least recently updated goes first, counted as evicted) and no key
 * whose newest record is older than the table's newest by aggregates.ttl (counted as expired). The whole state is
 * a checkpoint section, so after a restart the aggregates are what a crash-free run gives; the pipeline adds a
 * record only when it learns it (a re-delivered record already learned is never added twice). Not thread-safe:
 * one per pipeline. */
#ifndef RTML_FEATURES_AGGREGATE_H
#define RTML_FEATURES_AGGREGATE_H
#include <stddef.h>
#include <stdint.h>

#include "base/binfmt.h"
#include "base/buf.h"
#include "base/record.h"
#include "config/config.h"

typedef struct rtml_aggregates rtml_aggregates;

/* What a record brings besides its decoded fields: its Kafka key and timestamp (NULL / -1 when none). */
typedef struct {
    const void *key;
    size_t key_len;
    int64_t timestamp_ms;
} rtml_agg_origin;

/* NULL when the config has no aggregates (and no error), or NULL with the reason (out of memory). */
rtml_aggregates *rtml_aggregates_new(const rtml_config *cfg, char *err, size_t errlen);
void rtml_aggregates_free(rtml_aggregates *a);

/* The fields it reads (keys, the time, values: JSON Pointers, no duplicates), in the order compute() expects their
 * values. Owned by the aggregates. */
const char *const *rtml_aggregates_fields(const rtml_aggregates *a, size_t *n);

/* The values of every aggregate (config order, out[cfg->aggregates.n]) for this record: RTML_REJECT_NONE, or why the
 * record cannot have them (a missing key or time, a value of the wrong type) with a detail. The record is remembered
 * for rtml_aggregates_add(). */
rtml_reject rtml_aggregates_compute(rtml_aggregates *a, const rtml_value *in, const rtml_agg_origin *o,
                                    rtml_value *out, char *detail, size_t dlen);
/* Add the record of the last compute() (the pipeline accepted it and learns it). */
void rtml_aggregates_add(rtml_aggregates *a);

typedef struct {
    uint64_t keys;      /* held now, all tables */
    uint64_t evicted;   /* keys dropped for max_keys */
    uint64_t expired;   /* keys dropped for ttl */
    uint64_t late;      /* records older than lateness allows: scored, not added */
    uint64_t truncated; /* events dropped for max_events */
    uint64_t bytes;     /* memory held by keys and events */
} rtml_agg_stats;
void rtml_aggregates_stats(const rtml_aggregates *a, rtml_agg_stats *s);
/* ,"aggregates":{"keys":..,"evicted":..,...} for the report (nothing when a is NULL). */
void rtml_aggregates_report(const rtml_aggregates *a, rtml_buf *out);

/* The checkpoint section "aggregates": every key in eviction order with its events and running figures. load()
 * into aggregates made from the same config: 0, or -1 with a reason (another config's state, a damaged section);
 * on failure the state is empty. */
void rtml_aggregates_save(const rtml_aggregates *a, rtml_writer *w);
int rtml_aggregates_load(rtml_aggregates *a, rtml_reader *r, char *err, size_t errlen);

#endif
