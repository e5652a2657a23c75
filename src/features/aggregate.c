/* aggregate.c — per-key aggregates over event time (aggregate.h has the semantics; docs/features.md the rest).
 *
 * Layout. Aggregates with the same key source share a table: one hash lookup per record and table, and one copy
 * of each event. A key's events live in a ring in event-time order (a late record is moved into place); each
 * event holds its time, the numeric values its table's aggregates read (columns) and the 64-bit hashes distinct
 * reads. Events leave the ring once no window can reach them (older than the key's newest minus the longest
 * window and the lateness) and are folded into the key's history: a count, Welford's mean and M2, min, max, the
 * last value and time, and each decayed sum referenced at the time of the newest folded event. A query is then a
 * binary search for [t - window, t) and one pass over those events, plus the history for unwindowed and decayed
 * aggregates: exact, and linear in the events of the window (docs/features.md has the cost per key).
 *
 * Memory is held per key (its ring grows by doubling, up to max_events) and freed when the key is evicted
 * (max_keys, least recently updated first) or expired (ttl, by event time). */
#include "features/aggregate.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/rtml.h"
#include "config/aggregates.h"
#include "features/transforms.h"

#define STATE_VERSION 2u /* of the "aggregates" section; bump on any change to save() */
#define HLL_P 12
#define HLL_M (1u << HLL_P)
#define HIST_PER_COL 6 /* values present, mean, m2, min, max, last */
#define NO_TIME INT64_MIN

typedef struct {
    rtml_agg_fn fn;
    int64_t window_ms; /* 0: no window */
    double half_life_ms;
    int col, hcol, dslot; /* its numeric column, hash column, decayed slot; -1 when none */
    size_t out;           /* its index in the config (and in compute()'s out) */
} agg;

typedef struct key_entry key_entry;
struct key_entry {
    key_entry *newer, *older; /* the table's update order (eviction goes from the oldest) */
    char *key;
    uint32_t key_len, hash;
    int64_t max_time;          /* its newest event */
    uint32_t head, n, cap;     /* the ring: n events from head, cap a power of two */
    int64_t *times;
    double *nums;              /* cap * n_cols */
    uint64_t *hashes;          /* cap * n_hcols */
    uint64_t h_count;          /* folded events */
    int64_t h_time;            /* the newest folded event's time, NO_TIME before any */
    double *hist;              /* n_cols * HIST_PER_COL, then n_decay decayed sums (at h_time) */
};

typedef struct {
    const char *key_src; /* "@key" or a JSON Pointer (borrowed from the config) */
    int key_in;          /* its input, -1 for "@key" */
    agg *aggs;
    size_t n_aggs, n_cols, n_hcols, n_decay;
    int *col_in, *hcol_in;
    bool *col_skip, *hcol_skip; /* missing values skipped (NaN, hash 0) rather than refused */
    double *decay_h;     /* each decayed slot's half-life (ms) */
    int *decay_col;      /* its column, -1: a count */
    int64_t keep_ms;     /* how long events stay in the ring past the key's newest */
    key_entry **slots;   /* open addressing, NULL: empty; n_slots a power of two, at most half full */
    size_t n_slots, n_keys;
    key_entry *newest, *oldest;
    int64_t max_time;
    uint64_t evicted, expired, late, truncated;
    char *signature;     /* what a checkpoint's table must match */
    /* the record of the last compute() */
    key_entry *p_entry;
    const char *p_key;
    uint32_t p_key_len, p_hash;
    double *p_nums;
    uint64_t *p_hashes;
    char p_text[64]; /* a number key's text */
} table;

struct rtml_aggregates {
    const rtml_config *cfg;
    table *t;
    size_t n_tables;
    const char **fields;
    size_t n_fields;
    int time_in;       /* the time field's input, -1 for "@timestamp" */
    int64_t lateness_ms, ttl_ms;
    size_t max_keys, max_events, distinct_cap;
    int64_t p_time;
    bool p_valid;
    /* distinct: a set stamped by generation (never cleared), and HyperLogLog's registers */
    uint64_t *set_h;
    uint32_t *set_gen, gen;
    size_t set_cap;
    uint8_t hll[HLL_M];
    char text[64];
};

/* ---- helpers -------------------------------------------------------------------------------------------- */

static int64_t ms_of(double seconds) { return (int64_t)llround(seconds * 1000.0); }

static size_t add_field(rtml_aggregates *a, const char *f) {
    for (size_t i = 0; i < a->n_fields; i++)
        if (!strcmp(a->fields[i], f)) return i;
    a->fields[a->n_fields] = f;
    return a->n_fields++;
}

static const char *as_text(rtml_aggregates *a, const rtml_value *v, size_t *len) {
    return rtml_value_text(v, a->text, sizeof a->text, len);
}

static uint64_t hash64(const char *s, size_t len) {
    return (uint64_t)rtml_murmur3_32(s, len, 0) | (uint64_t)rtml_murmur3_32(s, len, 0x9747b28cu) << 32;
}

static inline uint32_t ring_at(const key_entry *e, uint32_t i) { return (e->head + i) & (e->cap - 1); }
static inline int64_t time_at(const key_entry *e, uint32_t i) { return e->times[ring_at(e, i)]; }

/* The first event at or after t (n when none). */
static uint32_t lower_bound(const key_entry *e, int64_t t) {
    uint32_t lo = 0, hi = e->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (time_at(e, mid) < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* ---- building ------------------------------------------------------------------------------------------- */

static int table_of(rtml_aggregates *a, const char *key_src) {
    for (size_t i = 0; i < a->n_tables; i++)
        if (!strcmp(a->t[i].key_src, key_src)) return (int)i;
    table *t = &a->t[a->n_tables];
    t->key_src = key_src;
    t->key_in = strcmp(key_src, "@key") ? (int)add_field(a, key_src) : -1;
    t->max_time = NO_TIME;
    return (int)a->n_tables++;
}

/* The column (numeric or hash) that reads field, added on first use. */
static int column(int **in, size_t *n, size_t input) {
    for (size_t i = 0; i < *n; i++)
        if ((*in)[i] == (int)input) return (int)i;
    (*in)[*n] = (int)input;
    return (int)(*n)++;
}

static int add_agg(rtml_aggregates *a, table *t, const rtml_aggregate *spec, size_t out) {
    agg *g = &t->aggs[t->n_aggs++];
    *g = (agg){spec->fn, ms_of(spec->window_s), spec->half_life_s * 1000.0, -1, -1, -1, out};
    if (spec->field) { /* a column skips a missing value only if every aggregate of it does */
        size_t in = add_field(a, spec->field);
        if (spec->fn == RTML_AGG_DISTINCT) {
            g->hcol = column(&t->hcol_in, &t->n_hcols, in);
            t->hcol_skip[g->hcol] = t->hcol_skip[g->hcol] && spec->skip_missing;
        } else {
            g->col = column(&t->col_in, &t->n_cols, in);
            t->col_skip[g->col] = t->col_skip[g->col] && spec->skip_missing;
        }
    }
    if (g->half_life_ms > 0) {
        g->dslot = (int)t->n_decay;
        t->decay_h[t->n_decay] = g->half_life_ms;
        t->decay_col[t->n_decay++] = g->fn == RTML_AGG_COUNT ? -1 : g->col;
        if (g->fn == RTML_AGG_MEAN) { /* a decayed mean is a decayed sum over a decayed count */
            t->decay_h[t->n_decay] = g->half_life_ms;
            t->decay_col[t->n_decay++] = -1;
        }
    }
    if (g->window_ms + a->lateness_ms > t->keep_ms) t->keep_ms = g->window_ms + a->lateness_ms;
    return 0;
}

/* "key|fn:window:half_life:field|..." : a checkpoint's table is only read into the same aggregates. */
static int sign(table *t, const rtml_config *cfg) {
    rtml_buf b = RTML_BUF_INIT;
    rtml_buf_puts(&b, t->key_src);
    for (size_t i = 0; i < t->n_aggs; i++) {
        const rtml_aggregate *s = &cfg->aggregates.list[t->aggs[i].out];
        rtml_buf_printf(&b, "|%s:%s:%.17g:%.17g:%s", s->name, rtml_agg_fn_name(s->fn), s->window_s, s->half_life_s,
                        s->field ? s->field : "");
    }
    t->signature = b.data;
    return b.data ? 0 : -1;
}

static int alloc_table(table *t, size_t n) {
    t->aggs = calloc(n, sizeof *t->aggs);
    t->col_in = calloc(n, sizeof *t->col_in);
    t->hcol_in = calloc(n, sizeof *t->hcol_in);
    t->decay_h = calloc(2 * n, sizeof *t->decay_h);
    t->decay_col = calloc(2 * n, sizeof *t->decay_col);
    t->p_nums = calloc(n, sizeof *t->p_nums);
    t->p_hashes = calloc(n, sizeof *t->p_hashes);
    t->col_skip = calloc(n, sizeof *t->col_skip);
    t->hcol_skip = calloc(n, sizeof *t->hcol_skip);
    for (size_t i = 0; t->col_skip && t->hcol_skip && i < n; i++) t->col_skip[i] = t->hcol_skip[i] = true;
    return t->aggs && t->col_in && t->hcol_in && t->decay_h && t->decay_col && t->p_nums && t->p_hashes &&
                   t->col_skip && t->hcol_skip ? 0 : -1;
}

static int build(rtml_aggregates *a, const rtml_config *cfg) {
    size_t n = cfg->aggregates.n;
    if (!(a->t = calloc(n, sizeof *a->t)) || !(a->fields = calloc(2 * n + 1, sizeof *a->fields))) return -1;
    for (size_t i = 0; i < n; i++)
        if (alloc_table(&a->t[i], n) != 0) return -1;
    a->time_in = strcmp(cfg->aggregates.time, "@timestamp") ? (int)add_field(a, cfg->aggregates.time) : -1;
    for (size_t i = 0; i < n; i++) {
        const rtml_aggregate *spec = &cfg->aggregates.list[i];
        add_agg(a, &a->t[table_of(a, spec->key)], spec, i);
    }
    for (size_t i = 0; i < a->n_tables; i++) {
        if (a->t[i].keep_ms < a->lateness_ms) a->t[i].keep_ms = a->lateness_ms;
        if (sign(&a->t[i], cfg) != 0) return -1;
    }
    a->set_cap = 16;
    while (a->set_cap < 2 * a->distinct_cap) a->set_cap *= 2;
    a->set_h = calloc(a->set_cap, sizeof *a->set_h);
    a->set_gen = calloc(a->set_cap, sizeof *a->set_gen);
    return a->set_h && a->set_gen ? 0 : -1;
}

rtml_aggregates *rtml_aggregates_new(const rtml_config *cfg, char *err, size_t errlen) {
    if (!cfg->aggregates.n) return NULL;
    rtml_aggregates *a = calloc(1, sizeof *a);
    if (!a) return rtml_fail(err, errlen, "out of memory"), NULL;
    a->cfg = cfg;
    a->lateness_ms = ms_of(cfg->aggregates.lateness_s);
    a->ttl_ms = ms_of(rtml_aggregates_ttl(cfg));
    a->max_keys = cfg->aggregates.max_keys;
    a->max_events = cfg->aggregates.max_events;
    a->distinct_cap = cfg->aggregates.distinct_cap;
    if (build(a, cfg) != 0) {
        rtml_aggregates_free(a);
        return rtml_fail(err, errlen, "out of memory for the aggregates"), NULL;
    }
    return a;
}

static void entry_free(key_entry *e) {
    if (!e) return;
    free(e->key);
    free(e->times);
    free(e->nums);
    free(e->hashes);
    free(e->hist);
    free(e);
}

static void table_free(table *t) {
    for (key_entry *e = t->newest, *next; e; e = next) {
        next = e->older;
        entry_free(e);
    }
    free(t->slots);
    free(t->aggs);
    free(t->col_in);
    free(t->hcol_in);
    free(t->col_skip);
    free(t->hcol_skip);
    free(t->decay_h);
    free(t->decay_col);
    free(t->p_nums);
    free(t->p_hashes);
    free(t->signature);
}

void rtml_aggregates_free(rtml_aggregates *a) {
    if (!a) return;
    for (size_t i = 0; a->t && i < a->cfg->aggregates.n; i++) table_free(&a->t[i]);
    free(a->t);
    free(a->fields);
    free(a->set_h);
    free(a->set_gen);
    free(a);
}

const char *const *rtml_aggregates_fields(const rtml_aggregates *a, size_t *n) {
    *n = a->n_fields;
    return a->fields;
}

/* ---- the key map and the update order --------------------------------------------------------------------- */

static key_entry **find_slot(const table *t, const char *key, uint32_t len, uint32_t hash) {
    size_t mask = t->n_slots - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        key_entry *e = t->slots[i];
        if (!e || (e->hash == hash && e->key_len == len && !memcmp(e->key, key, len))) return &t->slots[i];
    }
}

static key_entry *lookup(const table *t, const char *key, uint32_t len, uint32_t hash) {
    return t->n_slots ? *find_slot(t, key, len, hash) : NULL;
}

static int grow_slots(table *t) {
    size_t n = t->n_slots ? t->n_slots * 2 : 64;
    key_entry **old = t->slots;
    size_t old_n = t->n_slots;
    if (!(t->slots = calloc(n, sizeof *t->slots))) return t->slots = old, -1;
    t->n_slots = n;
    for (size_t i = 0; i < old_n; i++)
        if (old[i]) *find_slot(t, old[i]->key, old[i]->key_len, old[i]->hash) = old[i];
    free(old);
    return 0;
}

/* Deletion without tombstones: the following members of the cluster move back into the hole. */
static void unmap(table *t, key_entry *e) {
    size_t mask = t->n_slots - 1, i = (size_t)(find_slot(t, e->key, e->key_len, e->hash) - t->slots);
    t->slots[i] = NULL;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        key_entry *m = t->slots[j];
        t->slots[j] = NULL;
        *find_slot(t, m->key, m->key_len, m->hash) = m;
    }
}

static void unlink_order(table *t, key_entry *e) {
    if (e->newer) e->newer->older = e->older;
    else t->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else t->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void link_newest(table *t, key_entry *e) {
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest) t->newest->newer = e;
    t->newest = e;
    if (!t->oldest) t->oldest = e;
}

static void drop(table *t, key_entry *e) {
    unmap(t, e);
    unlink_order(t, e);
    t->n_keys--;
    if (t->p_entry == e) t->p_entry = NULL;
    entry_free(e);
}

/* ---- events ----------------------------------------------------------------------------------------------- */

static size_t hist_len(const table *t) { return t->n_cols * HIST_PER_COL + t->n_decay; }

static key_entry *entry_new(const table *t, const char *key, uint32_t len, uint32_t hash) {
    key_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->key = malloc(len ? len : 1);
    e->hist = calloc(hist_len(t) ? hist_len(t) : 1, sizeof *e->hist);
    if (!e->key || !e->hist) {
        entry_free(e);
        return NULL;
    }
    memcpy(e->key, key, len);
    e->key_len = len, e->hash = hash;
    e->max_time = e->h_time = NO_TIME;
    for (size_t c = 0; c < t->n_cols; c++) {
        e->hist[c * HIST_PER_COL + 3] = INFINITY;  /* min */
        e->hist[c * HIST_PER_COL + 4] = -INFINITY; /* max */
    }
    return e;
}

/* memcpy of n values, where a table without numeric (or hash) columns has no arrays at all (NULL, n 0). */
static void copy_vals(void *dst, const void *src, size_t n, size_t size) {
    if (n) memcpy(dst, src, n * size);
}

static int grow_ring(const table *t, key_entry *e, uint32_t cap) {
    int64_t *times = malloc(cap * sizeof *times);
    double *nums = t->n_cols ? malloc((size_t)cap * t->n_cols * sizeof *nums) : NULL;
    uint64_t *hashes = t->n_hcols ? malloc((size_t)cap * t->n_hcols * sizeof *hashes) : NULL;
    if (!times || (t->n_cols && !nums) || (t->n_hcols && !hashes)) {
        free(times), free(nums), free(hashes);
        return -1;
    }
    for (uint32_t i = 0; i < e->n; i++) { /* unwrapped: the oldest at 0 */
        uint32_t from = ring_at(e, i);
        times[i] = e->times[from];
        copy_vals(nums + (size_t)i * t->n_cols, e->nums + (size_t)from * t->n_cols, t->n_cols, sizeof *nums);
        copy_vals(hashes + (size_t)i * t->n_hcols, e->hashes + (size_t)from * t->n_hcols, t->n_hcols, sizeof *hashes);
    }
    free(e->times), free(e->nums), free(e->hashes);
    e->times = times, e->nums = nums, e->hashes = hashes;
    e->head = 0, e->cap = cap;
    return 0;
}

/* The oldest event into the history: counts, Welford, min, max, last, and the decayed sums (referenced at the
 * newest folded time; events fold in time order, so the reference only moves forward). */
static void fold_oldest(const table *t, key_entry *e) {
    uint32_t s = ring_at(e, 0);
    int64_t ti = e->times[s];
    const double *v = e->nums + (size_t)s * t->n_cols;
    double *h = e->hist;
    e->h_count++;
    for (size_t c = 0; c < t->n_cols; c++, h += HIST_PER_COL) { /* Welford over the values present */
        if (isnan(v[c])) continue;
        double d = v[c] - h[1];
        h[0] += 1;
        h[1] += d / h[0];
        h[2] += d * (v[c] - h[1]);
        if (v[c] < h[3]) h[3] = v[c];
        if (v[c] > h[4]) h[4] = v[c];
        h[5] = v[c];
    }
    double *dsum = e->hist + t->n_cols * HIST_PER_COL;
    for (size_t d = 0; d < t->n_decay; d++) {
        double decay = e->h_time == NO_TIME ? 0 : exp2(-(double)(ti - e->h_time) / t->decay_h[d]);
        dsum[d] = dsum[d] * decay + (t->decay_col[d] < 0 ? 1.0 : v[t->decay_col[d]]);
    }
    e->h_time = ti;
    e->head = (e->head + 1) & (e->cap - 1);
    e->n--;
}

/* Insert in time order (after events of the same time: arrival order among equals). */
static void insert_event(table *t, key_entry *e, int64_t ti) {
    uint32_t at = e->n && time_at(e, e->n - 1) > ti ? lower_bound(e, ti + 1) : e->n;
    for (uint32_t i = e->n; i > at; i--) { /* shift the later ones up by one */
        uint32_t to = ring_at(e, i), from = ring_at(e, i - 1);
        e->times[to] = e->times[from];
        copy_vals(e->nums + (size_t)to * t->n_cols, e->nums + (size_t)from * t->n_cols, t->n_cols, sizeof *e->nums);
        copy_vals(e->hashes + (size_t)to * t->n_hcols, e->hashes + (size_t)from * t->n_hcols, t->n_hcols,
                  sizeof *e->hashes);
    }
    uint32_t s = ring_at(e, at);
    e->times[s] = ti;
    copy_vals(e->nums + (size_t)s * t->n_cols, t->p_nums, t->n_cols, sizeof *e->nums);
    copy_vals(e->hashes + (size_t)s * t->n_hcols, t->p_hashes, t->n_hcols, sizeof *e->hashes);
    e->n++;
}

/* ---- computing ----------------------------------------------------------------------------------------------- */

static double decay(double dt_ms, double half_life_ms) { return exp2(-dt_ms / half_life_ms); }

/* Distinct values among the events [lo, hi): exact up to the cap, then HyperLogLog. */
static double distinct(rtml_aggregates *a, const table *t, const key_entry *e, int hcol, uint32_t lo, uint32_t hi) {
    size_t cap = 16, count = 0;
    while (cap < 2 * (size_t)(hi - lo) && cap < a->set_cap) cap *= 2;
    if (++a->gen == 0) { /* the stamps wrapped: clear them once */
        memset(a->set_gen, 0, a->set_cap * sizeof *a->set_gen);
        a->gen = 1;
    }
    for (uint32_t i = lo; i < hi; i++) {
        uint64_t h = e->hashes[(size_t)ring_at(e, i) * t->n_hcols + (size_t)hcol];
        if (!h) continue; /* no value (missing: skip) */
        size_t j = (size_t)h & (cap - 1);
        while (a->set_gen[j] == a->gen && a->set_h[j] != h) j = (j + 1) & (cap - 1);
        if (a->set_gen[j] == a->gen) continue;
        if (++count > a->distinct_cap) break;
        a->set_gen[j] = a->gen, a->set_h[j] = h;
    }
    if (count <= a->distinct_cap) return (double)count;
    memset(a->hll, 0, sizeof a->hll);
    for (uint32_t i = lo; i < hi; i++) {
        uint64_t h = e->hashes[(size_t)ring_at(e, i) * t->n_hcols + (size_t)hcol];
        if (!h) continue;
        uint32_t r = (uint32_t)(h >> (64 - HLL_P));
        uint64_t w = h << HLL_P;
        uint8_t rank = (uint8_t)(w ? __builtin_clzll(w) + 1 : 64 - HLL_P + 1);
        if (rank > a->hll[r]) a->hll[r] = rank;
    }
    double sum = 0;
    size_t zeros = 0;
    for (size_t r = 0; r < HLL_M; r++) {
        sum += ldexp(1.0, -a->hll[r]);
        zeros += a->hll[r] == 0;
    }
    double m = HLL_M, est = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (est <= 2.5 * m && zeros) est = m * log(m / (double)zeros); /* small range: linear counting */
    return round(est);
}

typedef struct {
    double n, sum, mean, m2, min, max;
} moments;

static void add_moment(moments *m, double v) {
    m->n++;
    m->sum += v;
    double d = v - m->mean;
    m->mean += d / m->n;
    m->m2 += d * (v - m->mean);
    if (v < m->min) m->min = v;
    if (v > m->max) m->max = v;
}

/* The history's moments of column c (Welford's steps continue from them when events follow). */
static moments history_moments(const key_entry *e, int c) {
    const double *h = e->hist + (size_t)c * HIST_PER_COL;
    moments m = {h[0], h[1] * h[0], h[1], h[2], h[3], h[4]};
    if (h[0] == 0) m.min = INFINITY, m.max = -INFINITY, m.mean = m.sum = m.m2 = 0;
    return m;
}

static void set_num(rtml_value *v, double x) { *v = (rtml_value){.type = RTML_V_NUMBER, .num = x}; }

/* Count, sum, mean, min, max, std over [lo, hi) (and the history first when unwindowed). */
static void moment_agg(const table *t, const key_entry *e, const agg *g, uint32_t lo, uint32_t hi, rtml_value *out) {
    moments m = {0, 0, 0, 0, INFINITY, -INFINITY};
    bool whole = g->window_ms == 0;
    if (whole && e) {
        if (g->col >= 0) m = history_moments(e, g->col);
        else m.n = (double)e->h_count;
    }
    for (uint32_t i = lo; e && i < hi; i++) {
        if (g->col < 0) {
            m.n++;
            continue;
        }
        /* Chan's merge of one value equals Welford's step; NaN: a record without the value (missing: skip) */
        double v = e->nums[(size_t)ring_at(e, i) * t->n_cols + (size_t)g->col];
        if (!isnan(v)) add_moment(&m, v);
    }
    switch (g->fn) {
    case RTML_AGG_COUNT: set_num(out, m.n); return;
    case RTML_AGG_SUM: set_num(out, m.n ? m.sum : 0); return;
    case RTML_AGG_MEAN: if (m.n) set_num(out, m.sum / m.n); return;
    case RTML_AGG_MIN: if (m.n) set_num(out, m.min); return;
    case RTML_AGG_MAX: if (m.n) set_num(out, m.max); return;
    case RTML_AGG_STD: if (m.n >= 2) set_num(out, sqrt(m.m2 / (m.n - 1))); return;
    default: return;
    }
}

/* The decayed sums of slot (and of its count, for a mean) at time t. */
static double decayed(const table *t, const key_entry *e, int slot, int64_t ti, uint32_t hi) {
    double h = t->decay_h[slot], v = 0;
    int col = t->decay_col[slot];
    if (e->h_time != NO_TIME) v = e->hist[t->n_cols * HIST_PER_COL + (size_t)slot] * decay((double)(ti - e->h_time), h);
    for (uint32_t i = 0; i < hi; i++) {
        uint32_t s = ring_at(e, i);
        double x = col < 0 ? 1.0 : e->nums[(size_t)s * t->n_cols + (size_t)col];
        if (!isnan(x)) v += x * decay((double)(ti - e->times[s]), h);
    }
    return v;
}

static void compute_one(rtml_aggregates *a, const table *t, const key_entry *e, const agg *g, int64_t ti,
                        rtml_value *out) {
    *out = (rtml_value){.type = RTML_V_ABSENT};
    uint32_t hi = e ? lower_bound(e, ti) : 0;
    uint32_t lo = e && g->window_ms ? lower_bound(e, ti - g->window_ms) : 0;
    if (g->dslot >= 0) {
        double s = e ? decayed(t, e, g->dslot, ti, hi) : 0;
        if (g->fn != RTML_AGG_MEAN) set_num(out, s);
        else if (e) {
            double n = decayed(t, e, g->dslot + 1, ti, hi);
            if (n > 0) set_num(out, s / n);
        }
        return;
    }
    switch (g->fn) {
    case RTML_AGG_DISTINCT: set_num(out, e ? distinct(a, t, e, g->hcol, lo, hi) : 0); return;
    case RTML_AGG_LAST: { /* the latest value present (missing: skip leaves gaps) */
        for (uint32_t i = hi; e && i > lo; i--) {
            double v = e->nums[(size_t)ring_at(e, i - 1) * t->n_cols + (size_t)g->col];
            if (!isnan(v)) {
                set_num(out, v);
                return;
            }
        }
        const double *h = e ? e->hist + (size_t)g->col * HIST_PER_COL : NULL;
        if (h && !g->window_ms && h[0] > 0) set_num(out, h[5]);
        return;
    }
    case RTML_AGG_TIME_SINCE_LAST: {
        int64_t when = NO_TIME;
        if (e && hi > lo) when = e->times[ring_at(e, hi - 1)];
        else if (e && !g->window_ms) when = e->h_time;
        if (when != NO_TIME) set_num(out, (double)(ti - when) / 1000.0);
        return;
    }
    default: moment_agg(t, e, g, lo, hi, out); return;
    }
}

static rtml_reject need(const char *what, const char *field, rtml_reject why, char *detail, size_t dlen) {
    rtml_fail(detail, dlen, "aggregates: %s %s", what, field);
    return why;
}

/* The record's time in milliseconds. */
static rtml_reject read_time(rtml_aggregates *a, const rtml_value *in, const rtml_agg_origin *o, char *detail,
                             size_t dlen) {
    if (a->time_in < 0) {
        if (!o || o->timestamp_ms < 0) return need("the record has no Kafka timestamp for", "@timestamp",
                                                   RTML_REJECT_MISSING_FIELD, detail, dlen);
        a->p_time = o->timestamp_ms;
        return RTML_REJECT_NONE;
    }
    const rtml_value *v = &in[a->time_in];
    double secs;
    if (v->type == RTML_V_NUMBER && isfinite(v->num)) secs = rtml_epoch_seconds(v->num);
    else if (v->type == RTML_V_STRING && rtml_parse_timestamp(v->str, v->len, &secs) == 0) {
    } else if (v->type == RTML_V_ABSENT || v->type == RTML_V_NULL) {
        return need("the event time is missing:", a->cfg->aggregates.time, RTML_REJECT_MISSING_FIELD, detail, dlen);
    } else {
        return need("the event time is neither epoch seconds/milliseconds nor ISO-8601:", a->cfg->aggregates.time,
                    RTML_REJECT_WRONG_TYPE, detail, dlen);
    }
    if (!(fabs(secs) < 1e13)) return need("the event time is out of range:", a->cfg->aggregates.time,
                                          RTML_REJECT_NOT_FINITE, detail, dlen);
    a->p_time = ms_of(secs);
    return RTML_REJECT_NONE;
}

/* The table's key and values for this record. */
static rtml_reject read_inputs(rtml_aggregates *a, table *t, const rtml_value *in, const rtml_agg_origin *o,
                               char *detail, size_t dlen) {
    size_t len = 0;
    const char *key = NULL;
    if (t->key_in < 0) {
        if (o && o->key) key = o->key, len = o->key_len;
    } else {
        key = as_text(a, &in[t->key_in], &len);
    }
    if (!key) return need("the key is missing:", t->key_src, RTML_REJECT_MISSING_FIELD, detail, dlen);
    t->p_key = key, t->p_key_len = (uint32_t)len, t->p_hash = rtml_murmur3_32(key, len, 0);
    if (key == a->text) { /* a number's text: keep it past the next conversion */
        memcpy(t->p_text, key, len);
        t->p_key = t->p_text;
    }
    for (size_t c = 0; c < t->n_cols; c++) {
        const rtml_value *v = &in[t->col_in[c]];
        const char *f = a->fields[t->col_in[c]];
        if ((v->type == RTML_V_ABSENT || v->type == RTML_V_NULL) && t->col_skip[c]) {
            t->p_nums[c] = NAN; /* no value: the aggregates of this column pass it by */
            continue;
        }
        if (v->type == RTML_V_ABSENT || v->type == RTML_V_NULL)
            return need("a value is missing:", f, RTML_REJECT_MISSING_FIELD, detail, dlen);
        if (v->type != RTML_V_NUMBER && v->type != RTML_V_BOOL)
            return need("a value is not a number:", f, RTML_REJECT_WRONG_TYPE, detail, dlen);
        if (!isfinite(v->num)) return need("a value is not finite:", f, RTML_REJECT_NOT_FINITE, detail, dlen);
        t->p_nums[c] = v->num;
    }
    for (size_t c = 0; c < t->n_hcols; c++) {
        const rtml_value *v = &in[t->hcol_in[c]];
        size_t n;
        const char *s = as_text(a, v, &n);
        if (!s && (v->type == RTML_V_ABSENT || v->type == RTML_V_NULL) && t->hcol_skip[c]) {
            t->p_hashes[c] = 0; /* no value: distinct passes it by */
            continue;
        }
        if (!s) return need(v->type == RTML_V_ABSENT || v->type == RTML_V_NULL ? "a value is missing:"
                                                                              : "a value cannot be counted:",
                            a->fields[t->hcol_in[c]],
                            v->type == RTML_V_ABSENT || v->type == RTML_V_NULL ? RTML_REJECT_MISSING_FIELD
                                                                               : RTML_REJECT_WRONG_TYPE,
                            detail, dlen);
        t->p_hashes[c] = hash64(s, n) | 1; /* never 0: that is "no value" */
    }
    return RTML_REJECT_NONE;
}

rtml_reject rtml_aggregates_compute(rtml_aggregates *a, const rtml_value *in, const rtml_agg_origin *o,
                                    rtml_value *out, char *detail, size_t dlen) {
    a->p_valid = false;
    rtml_reject why = read_time(a, in, o, detail, dlen);
    if (why != RTML_REJECT_NONE) return why;
    for (size_t i = 0; i < a->n_tables; i++) {
        table *t = &a->t[i];
        if ((why = read_inputs(a, t, in, o, detail, dlen)) != RTML_REJECT_NONE) return why;
        t->p_entry = lookup(t, t->p_key, t->p_key_len, t->p_hash);
        for (size_t g = 0; g < t->n_aggs; g++)
            compute_one(a, t, t->p_entry, &t->aggs[g], a->p_time, &out[t->aggs[g].out]);
    }
    a->p_valid = true;
    return RTML_REJECT_NONE;
}

/* ---- adding --------------------------------------------------------------------------------------------------- */

/* A new key, making room first (max_keys: the least recently updated goes). */
static key_entry *admit(rtml_aggregates *a, table *t) {
    if (t->n_keys >= a->max_keys && t->oldest) {
        drop(t, t->oldest);
        t->evicted++;
    }
    if ((t->n_keys + 1) * 2 > t->n_slots && grow_slots(t) != 0) return NULL;
    key_entry *e = entry_new(t, t->p_key, t->p_key_len, t->p_hash);
    if (!e) return NULL;
    *find_slot(t, e->key, e->key_len, e->hash) = e;
    t->n_keys++;
    link_newest(t, e);
    return e;
}

static void add_to(rtml_aggregates *a, table *t) {
    key_entry *e = t->p_entry ? t->p_entry : admit(a, t);
    int64_t ti = a->p_time;
    if (!e) return; /* out of memory: the record goes unaggregated (the next one tries again) */
    if (e->max_time != NO_TIME && ti < e->max_time - a->lateness_ms) {
        t->late++;
        return;
    }
    if (e->n == e->cap) {
        if (e->cap >= a->max_events) {
            fold_oldest(t, e);
            t->truncated++;
        } else if (grow_ring(t, e, e->cap ? e->cap * 2 : 4) != 0) {
            return;
        }
    }
    insert_event(t, e, ti);
    if (ti > e->max_time) e->max_time = ti;
    if (ti > t->max_time) t->max_time = ti;
    while (e->n && time_at(e, 0) < e->max_time - t->keep_ms) fold_oldest(t, e);
    unlink_order(t, e);
    link_newest(t, e);
    while (t->oldest && t->oldest != e && t->oldest->max_time < t->max_time - a->ttl_ms) {
        drop(t, t->oldest);
        t->expired++;
    }
}

void rtml_aggregates_add(rtml_aggregates *a) {
    if (!a || !a->p_valid) return;
    a->p_valid = false;
    for (size_t i = 0; i < a->n_tables; i++) add_to(a, &a->t[i]);
}

/* ---- figures ---------------------------------------------------------------------------------------------------- */

void rtml_aggregates_stats(const rtml_aggregates *a, rtml_agg_stats *s) {
    *s = (rtml_agg_stats){0};
    for (size_t i = 0; a && i < a->n_tables; i++) {
        const table *t = &a->t[i];
        s->keys += t->n_keys, s->evicted += t->evicted, s->expired += t->expired;
        s->late += t->late, s->truncated += t->truncated;
        s->bytes += t->n_slots * sizeof *t->slots;
        size_t per_event = sizeof(int64_t) + t->n_cols * sizeof(double) + t->n_hcols * sizeof(uint64_t);
        for (const key_entry *e = t->newest; e; e = e->older)
            s->bytes += sizeof *e + e->key_len + (size_t)e->cap * per_event + hist_len(t) * sizeof(double);
    }
}

void rtml_aggregates_report(const rtml_aggregates *a, rtml_buf *out) {
    if (!a) return;
    rtml_agg_stats s;
    rtml_aggregates_stats(a, &s);
    rtml_buf_printf(out, ",\"aggregates\":{\"keys\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"expired\":%" PRIu64
                    ",\"late\":%" PRIu64 ",\"truncated\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
                    s.keys, s.evicted, s.expired, s.late, s.truncated, s.bytes);
}

/* ---- checkpoints ------------------------------------------------------------------------------------------------- */

static void save_entry(const table *t, const key_entry *e, rtml_writer *w) {
    rtml_w_str(w, e->key, e->key_len);
    rtml_w_u64(w, (uint64_t)e->max_time);
    rtml_w_u64(w, e->h_count);
    rtml_w_u64(w, (uint64_t)e->h_time);
    rtml_w_f64s(w, e->hist, hist_len(t));
    rtml_w_u32(w, e->n);
    for (uint32_t i = 0; i < e->n; i++) {
        uint32_t s = ring_at(e, i);
        rtml_w_u64(w, (uint64_t)e->times[s]);
        rtml_w_f64s(w, e->nums + (size_t)s * t->n_cols, t->n_cols);
        for (size_t c = 0; c < t->n_hcols; c++) rtml_w_u64(w, e->hashes[(size_t)s * t->n_hcols + c]);
    }
}

void rtml_aggregates_save(const rtml_aggregates *a, rtml_writer *w) {
    rtml_w_u32(w, STATE_VERSION);
    rtml_w_u32(w, (uint32_t)a->n_tables);
    for (size_t i = 0; i < a->n_tables; i++) {
        const table *t = &a->t[i];
        rtml_w_str(w, t->signature, strlen(t->signature));
        rtml_w_u64(w, (uint64_t)t->max_time);
        rtml_w_u64(w, t->evicted), rtml_w_u64(w, t->expired), rtml_w_u64(w, t->late), rtml_w_u64(w, t->truncated);
        rtml_w_u64(w, t->n_keys);
        for (const key_entry *e = t->oldest; e; e = e->newer) save_entry(t, e, w); /* loads back newest last */
    }
}

static void clear(table *t) {
    while (t->oldest) drop(t, t->oldest);
    t->max_time = NO_TIME;
    t->evicted = t->expired = t->late = t->truncated = 0;
}

static int load_entry(rtml_aggregates *a, table *t, rtml_reader *r) {
    size_t len;
    const char *key = rtml_r_str(r, &len);
    if (!key || len > UINT32_MAX) return -1;
    t->p_key = key, t->p_key_len = (uint32_t)len, t->p_hash = rtml_murmur3_32(key, len, 0);
    if (lookup(t, key, (uint32_t)len, t->p_hash)) return -1; /* a key twice: damaged */
    key_entry *e = admit(a, t);
    if (!e) return -1;
    e->max_time = (int64_t)rtml_r_u64(r);
    e->h_count = rtml_r_u64(r);
    e->h_time = (int64_t)rtml_r_u64(r);
    rtml_r_f64s(r, e->hist, hist_len(t));
    uint32_t n = rtml_r_u32(r);
    if (r->failed || n > a->max_events) return -1;
    uint32_t cap = 4;
    while (cap < n) cap *= 2;
    if (n && grow_ring(t, e, cap) != 0) return -1;
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        e->times[i] = (int64_t)rtml_r_u64(r);
        rtml_r_f64s(r, e->nums + (size_t)i * t->n_cols, t->n_cols);
        for (size_t c = 0; c < t->n_hcols; c++) e->hashes[(size_t)i * t->n_hcols + c] = rtml_r_u64(r);
        if (i && e->times[i] < e->times[i - 1]) return -1;
    }
    e->n = n;
    return r->failed ? -1 : 0;
}

static int load_table(rtml_aggregates *a, table *t, rtml_reader *r, char *err, size_t errlen) {
    size_t len;
    const char *sig = rtml_r_str(r, &len);
    if (!sig) return rtml_fail(err, errlen, "state file: the aggregates section is damaged");
    if (len != strlen(t->signature) || memcmp(sig, t->signature, len))
        return rtml_fail(err, errlen, "the checkpoint's aggregates were made by another aggregates section (%.*s); "
                         "this config's: %s", (int)(len < 200 ? len : 200), sig, t->signature);
    t->max_time = (int64_t)rtml_r_u64(r);
    t->evicted = rtml_r_u64(r), t->expired = rtml_r_u64(r), t->late = rtml_r_u64(r), t->truncated = rtml_r_u64(r);
    uint64_t n = rtml_r_u64(r);
    if (r->failed || n > a->max_keys) return rtml_fail(err, errlen, "state file: the aggregates section is damaged");
    for (uint64_t k = 0; k < n; k++)
        if (load_entry(a, t, r) != 0) return rtml_fail(err, errlen, "state file: the aggregates section is damaged");
    return 0;
}

int rtml_aggregates_load(rtml_aggregates *a, rtml_reader *r, char *err, size_t errlen) {
    uint32_t version = rtml_r_u32(r), n = rtml_r_u32(r);
    int rc = 0;
    if (r->failed || version != STATE_VERSION)
        rc = rtml_fail(err, errlen, "state file: aggregates state version %u, this rtml reads %u", version, STATE_VERSION);
    else if (n != a->n_tables)
        rc = rtml_fail(err, errlen, "the checkpoint's aggregates have %u key sources, this config %zu", n, a->n_tables);
    for (size_t i = 0; rc == 0 && i < a->n_tables; i++) rc = load_table(a, &a->t[i], r, err, errlen);
    if (rc != 0)
        for (size_t i = 0; i < a->n_tables; i++) clear(&a->t[i]);
    a->p_valid = false;
    return rc;
}
