/* join.h — the pending-joins store: scored records waiting for a label that arrives later on its own topic.
 *
 * With `label.topic`, a scored feature record is kept here by its join key (its feature row and the scores it
 * was given) until the label with the same key arrives; then the pipeline evaluates those scores against the
 * label and learns the row (labels.c), and the entry is forgotten. A label can also arrive first: it
 * waits here ("early") until its features come. Everything is bounded and counted:
 *
 *   pending   a scored record without its label. Evicted when the label stream's clock (the newest label
 *             timestamp seen) passes its own timestamp + ttl (cause "ttl"), or, oldest first, when
 *             max_pending records wait (cause "capacity").
 *   early     a label without its record. Dropped, counted as "unknown", when the feature stream's clock
 *             passes its timestamp + wait, or, oldest first, past max_early.
 *   done      a key recently joined, kept (without payload) so that a second label for it is counted as a
 *             duplicate and learned nothing; "expired" likewise marks a key evicted unjoined, so that its label
 *             is counted as late rather than unknown. A mark lasts ttl of label clock from when it was made
 *             (the join or the eviction), and at most max_pending marks are kept (the oldest go first).
 * Each call first advances its stream's clock and evicts what the new clock expired, then looks the key up: a
 * label whose timestamp is past its record's ttl finds the record expired (late), not pending; and a label read
 * before its record but timestamped more than ttl after it is late too. So what is joined depends on the
 * streams' timestamps, not on which topic the consumer happened to read first (after a restart, one topic's
 * backlog can run far ahead of the other's).
 *
 * Clocks are the streams' own timestamps (milliseconds), not the wall clock: a replay or a backlog read at full
 * speed evicts exactly what a live stream would, and a label stream that lags behind (a consumer catching up)
 * evicts nothing early. Keys are 64-bit hashes of the key bytes (rtml_join_key); two keys that share a hash
 * (odds about n^2 / 2^65: 1 in 1.5 million at 5 million pending) would be taken for one.
 *
 * The data structure: entries live in one array, each on one of three doubly linked lists in arrival order
 * (pending, early, marks), so the oldest is always at a list's head; an open-addressing table (linear
 * probing, power of two, at most half full, backward-shift deletion) maps a key to its entry. A pending
 * entry owns one allocation holding its scores, dense inputs and sparse pairs. The whole store saves into a
 * checkpoint section and loads back, so that a restart neither loses a pending join nor learns one twice.
 *
 * Ownership: rtml_join_new() returns a store the caller frees with rtml_join_free(). Views handed out
 * (rtml_join_match) point into the store and stay valid until the next call that changes it. */
#ifndef RTML_JOIN_H
#define RTML_JOIN_H
#include <stddef.h>
#include <stdint.h>

#include "base/binfmt.h"
#include "engine/engine.h"

typedef struct {
    size_t n_dense, n_outputs; /* the shape of what a pending entry keeps */
    int64_t ttl_ms;            /* pending records and marks: evicted when the label clock is this far past (>= 0) */
    int64_t wait_ms;           /* early labels: dropped when the feature clock is this far past (>= 0) */
    size_t max_pending, max_early;
} rtml_join_limits;

typedef struct {
    uint64_t stored;             /* feature records kept to wait for their label */
    uint64_t labels;             /* label records seen (not counting re-delivered ones) */
    uint64_t joined;             /* labels matched to their record (evaluated and learned) */
    uint64_t joined_early;       /* ... of which the label came first */
    uint64_t duplicate_labels;   /* a second label for a key joined or waiting: ignored */
    uint64_t duplicate_features; /* a feature record whose key is already pending or joined: not kept */
    uint64_t late_labels;        /* labels for a record evicted before they came */
    uint64_t unknown_labels;     /* early labels whose record never came (dropped after wait / capacity) */
    uint64_t evicted_ttl, evicted_capacity; /* pending records evicted unjoined, by cause */
    uint64_t early_evicted_capacity;        /* early labels dropped by max_early (also in unknown_labels) */
    size_t pending, early, marks; /* held now */
    size_t bytes;                 /* memory held by the store: entries, table, payloads */
    int64_t feature_clock, label_clock; /* the newest timestamps seen, ms (INT64_MIN: none yet) */
} rtml_join_stats;

/* A pending record handed back by a join: the row it was scored on and its scores. */
typedef struct {
    rtml_row row;           /* dense, idx, val over the store's copy */
    const double *scores;   /* n_outputs */
    int64_t feature_ts;     /* its timestamp (ms) */
    double y;               /* the label (for a join found by put_features: the early label's) */
    int64_t label_ts;
} rtml_join_match;

typedef enum {
    RTML_JOIN_STORED = 0, /* put_features: kept, waiting. put_label: kept as early, waiting */
    RTML_JOIN_MATCHED,    /* joined: *m holds the record and its label */
    RTML_JOIN_DUPLICATE,  /* the key is already waiting or was joined: nothing kept */
    RTML_JOIN_LATE,       /* put_label: the record was evicted before its label came */
    RTML_JOIN_NOMEM       /* out of memory: nothing kept (counted by the caller as an eviction) */
} rtml_join_result;

typedef struct rtml_join rtml_join;

rtml_join *rtml_join_new(const rtml_join_limits *lim);
void rtml_join_free(rtml_join *j);

/* The 64-bit join key of a key's bytes (FNV-1a, then a 64-bit finaliser so every bit mixes). */
uint64_t rtml_join_key(const void *bytes, size_t len);

/* A scored feature record. STORED, MATCHED (an early label was waiting: *m holds this record's row and scores
 * and that label; the key is marked done), LATE (the label that waited is more than ttl after the record: it is
 * not learned), DUPLICATE, or NOMEM. */
rtml_join_result rtml_join_put_features(rtml_join *j, uint64_t key, int64_t ts_ms, const rtml_row *row,
                                        const double *scores, rtml_join_match *m);

/* A label. MATCHED (*m: the pending record, valid until the next call), STORED (early), DUPLICATE, LATE or
 * NOMEM. */
rtml_join_result rtml_join_put_label(rtml_join *j, uint64_t key, int64_t ts_ms, double y, rtml_join_match *m);

void rtml_join_stats_get(const rtml_join *j, rtml_join_stats *s);

/* The store as a checkpoint section, and back into an empty store made with the same limits' shape (0, or -1
 * with a reason; the store is then empty). */
void rtml_join_save(const rtml_join *j, rtml_writer *w);
int rtml_join_load(rtml_join *j, rtml_reader *r, char *err, size_t errlen);
/* Read a saved section's counters and how many records and labels it holds, without loading it (`rtml
 * state`): 0, or -1 when it is not one. */
int rtml_join_peek(rtml_reader *r, rtml_join_stats *s);

#endif
