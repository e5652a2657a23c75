/* metrics.h — what `rtml run` counts for its monitor, beyond the pipeline's own counters (pipeline.h):
 * per input partition, latencies, batch sizes.
 *
 * Everything here is updated by the run loop's one thread (run/runner.h) and read by the same thread when it renders
 * the monitor's documents (run/status.c), so nothing is locked.
 *
 * End-to-end latency is measured from an input record's Kafka timestamp to the acknowledgement of its output
 * (prediction or dead letter). The output's produce opaque is the record's ticket (offsets.h: slot << 40 |
 * sequence; under exactly_once a sequence of this file's own), so at the delivery report the ticket finds
 * the input's timestamp in a per-partition ring indexed by sequence, each entry tagged with its sequence.
 * The ring starts small (RTML_LAT_RING_MIN) and doubles whenever a record would overwrite one still in
 * flight, up to RTML_LAT_RING_MAX (more than the outputs rtml lets wait before it pauses its input): a
 * partition costs memory in proportion to what it really has in flight. Beyond the maximum, samples are
 * lost (counted in latency_untracked), never correctness: at_least_once's commits stay in offsets.h. */
#ifndef RTML_METRICS_H
#define RTML_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/histogram.h"

#define RTML_LAT_RING_MIN 1024   /* powers of two */
#define RTML_LAT_RING_MAX 131072

typedef struct {
    uint64_t consumed;  /* records read */
    uint64_t produced;  /* outputs acknowledged (predictions and dead letters) */
    uint64_t learned;   /* labelled records learned */
    uint64_t failed;    /* records rejected (dead-lettered, or counted without a dead-letter topic) */
    int64_t lag;        /* records not yet read: high watermark (read_committed: last stable offset) minus the
                           position, both from one librdkafka statistics document; -1 unknown */
    int64_t committed_lag; /* the same end minus the committed offset (rtml commits an input only once its
                              output is acknowledged, so this includes records in flight); -1 unknown */
    int64_t hi_offset;  /* the partition's high watermark, same source; -1 unknown */
    uint64_t next_seq;  /* exactly_once: the next latency sequence (at_least_once uses the offsets' tickets) */
    uint64_t *lat_tag;  /* ring: the sequence whose timestamp the entry holds (UINT64_MAX: none) */
    double *lat_ts;     /* ring: that record's timestamp, unix seconds */
    size_t lat_cap;     /* entries in the ring */
} rtml_part_metrics;

typedef struct {
    rtml_part_metrics *parts; /* indexed like the offsets' slots (owned) */
    size_t n, cap;
    rtml_hist e2e;        /* seconds, input timestamp -> output acknowledged */
    rtml_hist processing; /* seconds, record read -> output handed to the producer */
    rtml_hist batch;      /* records per engine call */
    uint64_t latency_untracked; /* acknowledgements whose timestamp had left the ring */
    uint64_t stats_received, stats_failed; /* librdkafka statistics documents */
} rtml_metrics;

/* 0, or -1 when out of memory. */
int rtml_metrics_init(rtml_metrics *m);
void rtml_metrics_free(rtml_metrics *m);
/* The metrics of offsets slot `slot`, created with its ring on first use; NULL when out of memory. */
rtml_part_metrics *rtml_metrics_part(rtml_metrics *m, int slot);
/* exactly_once: a ticket for a record of slot (the offsets make at_least_once's). */
uint64_t rtml_metrics_ticket(rtml_metrics *m, int slot);
/* The record with this ticket has Kafka timestamp ts (unix seconds) and its output is on its way. */
void rtml_metrics_sent(rtml_metrics *m, uint64_t ticket, double ts);
/* Its output was acknowledged at now (unix seconds): count it and observe the end-to-end latency. */
void rtml_metrics_acked(rtml_metrics *m, uint64_t ticket, double now);

#endif
