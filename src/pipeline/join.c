/* join.c — the pending-joins store (see join.h for what it keeps, when it evicts, and why those clocks). */
#include "pipeline/join.h"

#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

#define NONE UINT32_MAX
#define MAX_ENTRIES (UINT32_MAX - 1)

enum { S_FREE = 0, S_PENDING, S_EARLY, S_DONE, S_EXPIRED };
enum { L_PENDING = 0, L_EARLY, L_MARKS, L__COUNT };

/* One key's entry. data (pending only) holds scores[n_outputs], dense[n_dense], val[nnz] as doubles, then
 * idx[nnz] as uint32; owned. A free entry's next links the free list. */
typedef struct {
    uint64_t key;
    int64_t ts; /* pending, marks: the record's timestamp; early: the label's */
    double y;   /* early: the label */
    double *data;
    uint32_t nnz;
    uint32_t prev, next;
    uint8_t state;
} entry;

typedef struct {
    uint32_t head, tail;
    size_t n;
} list;

struct rtml_join {
    rtml_join_limits lim;
    entry *e;
    size_t n_e, cap_e;  /* entries used (including freed ones on the free list) / allocated */
    uint32_t free_head;
    uint32_t *slots;    /* entry index + 1, 0 = empty; n_slots a power of two (or 0) */
    size_t n_slots, n_keys;
    list lists[L__COUNT];
    size_t payload_bytes;
    double *scratch;    /* the payload of the last record joined by a label: m's view of it */
    rtml_join_stats st; /* the counters (the sizes are filled in by rtml_join_stats_get) */
};

/* clock - ts > span, without overflow (timestamps come from anyone's producer, and from checkpoints). */
static bool past(int64_t clock, int64_t ts, int64_t span) {
    return clock != INT64_MIN && clock > ts && (uint64_t)clock - (uint64_t)ts > (uint64_t)span;
}

/* ---- keys and the table ----------------------------------------------------------------------------------- */

uint64_t rtml_join_key(const void *bytes, size_t len) {
    const unsigned char *b = bytes;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 33; /* murmur3's fmix64: FNV's low bits alone would crowd a power-of-two table */
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 33);
}

static uint32_t find(const rtml_join *j, uint64_t key) {
    if (!j->n_slots) return NONE;
    size_t mask = j->n_slots - 1;
    for (size_t i = key & mask;; i = (i + 1) & mask) {
        uint32_t s = j->slots[i];
        if (!s) return NONE;
        if (j->e[s - 1].key == key) return s - 1;
    }
}

static void place(uint32_t *slots, size_t n_slots, const entry *e, uint32_t idx) {
    size_t mask = n_slots - 1, i = e[idx].key & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = idx + 1;
}

/* Room for one more key: the table stays at most half full. */
static int reserve_key(rtml_join *j) {
    if ((j->n_keys + 1) * 2 <= j->n_slots) return 0;
    size_t n = j->n_slots ? j->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < j->n_slots; i++)
        if (j->slots[i]) place(slots, n, j->e, j->slots[i] - 1);
    free(j->slots);
    j->slots = slots, j->n_slots = n;
    return 0;
}

/* Linear probing's deletion without tombstones: later members of the cluster move back into the hole. */
static void unplace(rtml_join *j, uint64_t key) {
    size_t mask = j->n_slots - 1, i = key & mask;
    while (j->e[j->slots[i] - 1].key != key) i = (i + 1) & mask;
    for (size_t k = (i + 1) & mask; j->slots[k]; k = (k + 1) & mask) {
        size_t home = j->e[j->slots[k] - 1].key & mask;
        /* move k into the hole at i unless its home lies cyclically in (i, k] */
        if ((k > i && (home <= i || home > k)) || (k < i && home <= i && home > k)) {
            j->slots[i] = j->slots[k];
            i = k;
        }
    }
    j->slots[i] = 0;
    j->n_keys--;
}

/* ---- entries and lists ------------------------------------------------------------------------------------ */

static void link_tail(rtml_join *j, int l, uint32_t idx) {
    list *L = &j->lists[l];
    j->e[idx].prev = L->tail, j->e[idx].next = NONE;
    if (L->tail != NONE) j->e[L->tail].next = idx;
    else L->head = idx;
    L->tail = idx;
    L->n++;
}

static void unlink_from(rtml_join *j, int l, uint32_t idx) {
    list *L = &j->lists[l];
    entry *x = &j->e[idx];
    if (x->prev != NONE) j->e[x->prev].next = x->next;
    else L->head = x->next;
    if (x->next != NONE) j->e[x->next].prev = x->prev;
    else L->tail = x->prev;
    L->n--;
}

static int list_of(uint8_t state) { return state == S_PENDING ? L_PENDING : state == S_EARLY ? L_EARLY : L_MARKS; }

static size_t payload_size(const rtml_join *j, uint32_t nnz) {
    return (j->lim.n_outputs + j->lim.n_dense + nnz) * sizeof(double) + nnz * sizeof(uint32_t);
}

static void drop_payload(rtml_join *j, entry *x) {
    if (!x->data) return;
    j->payload_bytes -= payload_size(j, x->nnz);
    free(x->data);
    x->data = NULL;
}

/* A new entry for key in state, at the tail of its list; NONE when out of memory. */
static uint32_t add_entry(rtml_join *j, uint64_t key, int64_t ts, uint8_t state) {
    if (reserve_key(j) != 0) return NONE;
    uint32_t idx = j->free_head;
    if (idx != NONE) {
        j->free_head = j->e[idx].next;
    } else {
        if (j->n_e == j->cap_e) {
            size_t cap = j->cap_e ? j->cap_e * 2 : 1024;
            if (cap > MAX_ENTRIES) return NONE;
            entry *e = realloc(j->e, cap * sizeof *e);
            if (!e) return NONE;
            j->e = e, j->cap_e = cap;
        }
        idx = (uint32_t)j->n_e++;
    }
    j->e[idx] = (entry){.key = key, .ts = ts, .state = state};
    place(j->slots, j->n_slots, j->e, idx);
    j->n_keys++;
    link_tail(j, list_of(state), idx);
    return idx;
}

static void remove_entry(rtml_join *j, uint32_t idx) {
    entry *x = &j->e[idx];
    unlink_from(j, list_of(x->state), idx);
    unplace(j, x->key);
    drop_payload(j, x);
    x->state = S_FREE;
    x->next = j->free_head;
    j->free_head = idx;
}

/* An entry becomes a mark (done or expired) with its payload freed. */
static void make_mark(rtml_join *j, uint32_t idx, uint8_t state, int64_t ts) {
    entry *x = &j->e[idx];
    unlink_from(j, list_of(x->state), idx);
    drop_payload(j, x);
    x->state = state, x->ts = ts;
    link_tail(j, L_MARKS, idx);
}

/* ---- eviction ------------------------------------------------------------------------------------------- */

/* A mark's time is the label clock when it is made (or ts before any label): a duplicate or late label is
 * recognised for ttl of label stream time after the join or the eviction. */
static int64_t mark_time(const rtml_join *j, int64_t ts) {
    return j->st.label_clock != INT64_MIN ? j->st.label_clock : ts;
}


static void evict(rtml_join *j) {
    list *P = &j->lists[L_PENDING], *E = &j->lists[L_EARLY], *M = &j->lists[L_MARKS];
    while (P->head != NONE && past(j->st.label_clock, j->e[P->head].ts, j->lim.ttl_ms)) {
        j->st.evicted_ttl++;
        make_mark(j, P->head, S_EXPIRED, mark_time(j, j->e[P->head].ts));
    }
    while (P->n > j->lim.max_pending) {
        j->st.evicted_capacity++;
        make_mark(j, P->head, S_EXPIRED, mark_time(j, j->e[P->head].ts));
    }
    while (E->head != NONE && past(j->st.feature_clock, j->e[E->head].ts, j->lim.wait_ms)) {
        j->st.unknown_labels++;
        remove_entry(j, E->head);
    }
    while (E->n > j->lim.max_early) {
        j->st.unknown_labels++, j->st.early_evicted_capacity++;
        remove_entry(j, E->head);
    }
    while (M->head != NONE && (M->n > j->lim.max_pending || past(j->st.label_clock, j->e[M->head].ts, j->lim.ttl_ms)))
        remove_entry(j, M->head);
}

/* ---- the API -------------------------------------------------------------------------------------------- */

rtml_join *rtml_join_new(const rtml_join_limits *lim) {
    rtml_join *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->lim = *lim;
    if (!j->lim.max_pending) j->lim.max_pending = 1;
    j->free_head = NONE;
    for (int l = 0; l < L__COUNT; l++) j->lists[l] = (list){NONE, NONE, 0};
    j->st.feature_clock = j->st.label_clock = INT64_MIN;
    return j;
}

static void clear(rtml_join *j) {
    for (size_t i = 0; i < j->n_e; i++) free(j->e[i].data);
    free(j->e);
    free(j->slots);
    free(j->scratch);
    rtml_join_limits lim = j->lim;
    memset(j, 0, sizeof *j);
    j->lim = lim;
    j->free_head = NONE;
    for (int l = 0; l < L__COUNT; l++) j->lists[l] = (list){NONE, NONE, 0};
    j->st.feature_clock = j->st.label_clock = INT64_MIN;
}

void rtml_join_free(rtml_join *j) {
    if (!j) return;
    clear(j);
    free(j);
}

static void view(const rtml_join *j, double *data, uint32_t nnz, rtml_join_match *m) {
    size_t k = j->lim.n_outputs, d = j->lim.n_dense;
    m->scores = data;
    m->row = (rtml_row){.dense = data + k, .val = data + k + d, .idx = (const uint32_t *)(data + k + d + nnz),
                        .nnz = nnz};
}

rtml_join_result rtml_join_put_features(rtml_join *j, uint64_t key, int64_t ts_ms, const rtml_row *row,
                                        const double *scores, rtml_join_match *m) {
    if (ts_ms > j->st.feature_clock) j->st.feature_clock = ts_ms;
    evict(j); /* labels that waited past the new feature clock go first: they are not this record's to join */
    uint32_t idx = find(j, key);
    rtml_join_result res;
    if (idx != NONE && j->e[idx].state == S_EARLY && past(j->e[idx].ts, ts_ms, j->lim.ttl_ms)) {
        /* Its label was read first (the label topic ran ahead) but is later than the ttl in stream time: late,
         * as it would be had the record been read first. */
        j->st.late_labels++, j->st.evicted_ttl++;
        make_mark(j, idx, S_EXPIRED, mark_time(j, ts_ms));
        res = RTML_JOIN_LATE;
    } else if (idx != NONE && j->e[idx].state == S_EARLY) {
        *m = (rtml_join_match){.row = *row, .scores = scores, .feature_ts = ts_ms, .y = j->e[idx].y,
                               .label_ts = j->e[idx].ts};
        make_mark(j, idx, S_DONE, mark_time(j, ts_ms));
        j->st.joined++, j->st.joined_early++;
        res = RTML_JOIN_MATCHED;
    } else if (idx != NONE) {
        j->st.duplicate_features++;
        res = RTML_JOIN_DUPLICATE;
    } else if (row->nnz > UINT32_MAX / 2) {
        res = RTML_JOIN_NOMEM;
    } else {
        uint32_t nnz = (uint32_t)row->nnz;
        size_t k = j->lim.n_outputs, d = j->lim.n_dense, size = payload_size(j, nnz);
        double *data = malloc(size);
        if (!data || (idx = add_entry(j, key, ts_ms, S_PENDING)) == NONE) {
            free(data);
            return RTML_JOIN_NOMEM;
        }
        memcpy(data, scores, k * sizeof *data);
        if (d) memcpy(data + k, row->dense, d * sizeof *data);
        if (nnz) {
            memcpy(data + k + d, row->val, nnz * sizeof *data);
            memcpy(data + k + d + nnz, row->idx, nnz * sizeof(uint32_t));
        }
        j->e[idx].data = data, j->e[idx].nnz = nnz;
        j->payload_bytes += size;
        j->st.stored++;
        res = RTML_JOIN_STORED;
    }
    evict(j);
    return res;
}

rtml_join_result rtml_join_put_label(rtml_join *j, uint64_t key, int64_t ts_ms, double y, rtml_join_match *m) {
    j->st.labels++;
    if (ts_ms > j->st.label_clock) j->st.label_clock = ts_ms;
    evict(j); /* a record whose ttl the new label clock passed is expired first: this label may be its late one */
    uint32_t idx = find(j, key);
    rtml_join_result res;
    if (idx == NONE) {
        if ((idx = add_entry(j, key, ts_ms, S_EARLY)) == NONE) return RTML_JOIN_NOMEM;
        j->e[idx].y = y;
        res = RTML_JOIN_STORED;
    } else if (j->e[idx].state == S_PENDING) {
        entry *x = &j->e[idx];
        free(j->scratch);
        j->scratch = x->data; /* the view outlives the entry's payload until the next call */
        j->payload_bytes -= payload_size(j, x->nnz);
        x->data = NULL;
        view(j, j->scratch, x->nnz, m);
        m->feature_ts = x->ts, m->y = y, m->label_ts = ts_ms;
        make_mark(j, idx, S_DONE, mark_time(j, ts_ms));
        j->st.joined++;
        res = RTML_JOIN_MATCHED;
    } else if (j->e[idx].state == S_EXPIRED) {
        j->st.late_labels++;
        res = RTML_JOIN_LATE;
    } else {
        j->st.duplicate_labels++;
        res = RTML_JOIN_DUPLICATE;
    }
    evict(j);
    return res;
}

void rtml_join_stats_get(const rtml_join *j, rtml_join_stats *s) {
    *s = j->st;
    s->pending = j->lists[L_PENDING].n;
    s->early = j->lists[L_EARLY].n;
    s->marks = j->lists[L_MARKS].n;
    s->bytes = sizeof *j + j->cap_e * sizeof(entry) + j->n_slots * sizeof(uint32_t) + j->payload_bytes;
}

/* ---- checkpoint section --------------------------------------------------------------------------------- */

#define JOIN_FORMAT 1

void rtml_join_save(const rtml_join *j, rtml_writer *w) {
    const rtml_join_stats *s = &j->st;
    rtml_w_u32(w, JOIN_FORMAT);
    rtml_w_u32(w, (uint32_t)j->lim.n_dense);
    rtml_w_u32(w, (uint32_t)j->lim.n_outputs);
    rtml_w_u64(w, (uint64_t)s->feature_clock);
    rtml_w_u64(w, (uint64_t)s->label_clock);
    const uint64_t counts[] = {s->stored, s->labels, s->joined, s->joined_early, s->duplicate_labels,
                               s->duplicate_features, s->late_labels, s->unknown_labels, s->evicted_ttl,
                               s->evicted_capacity, s->early_evicted_capacity};
    rtml_w_u32(w, (uint32_t)(sizeof counts / sizeof counts[0]));
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) rtml_w_u64(w, counts[i]);
    for (int l = 0; l < L__COUNT; l++) {
        rtml_w_u64(w, j->lists[l].n);
        for (uint32_t i = j->lists[l].head; i != NONE; i = j->e[i].next) {
            const entry *x = &j->e[i];
            rtml_w_u32(w, x->state);
            rtml_w_u64(w, x->key);
            rtml_w_u64(w, (uint64_t)x->ts);
            if (x->state == S_EARLY) rtml_w_f64(w, x->y);
            if (x->state != S_PENDING) continue;
            rtml_w_u32(w, x->nnz);
            size_t nd = j->lim.n_outputs + j->lim.n_dense + x->nnz;
            rtml_w_f64s(w, x->data, nd);
            const uint32_t *idx = (const uint32_t *)(x->data + nd);
            for (uint32_t k = 0; k < x->nnz; k++) rtml_w_u32(w, idx[k]);
        }
    }
}

static int load_entry(rtml_join *j, rtml_reader *r, int l) {
    uint32_t state = rtml_r_u32(r);
    uint64_t key = rtml_r_u64(r);
    int64_t ts = (int64_t)rtml_r_u64(r);
    if (r->failed || list_of((uint8_t)state) != l || state == S_FREE || state > S_EXPIRED || find(j, key) != NONE)
        return -1;
    double y = state == S_EARLY ? rtml_r_f64(r) : 0;
    double *data = NULL;
    uint32_t nnz = 0;
    if (state == S_PENDING) {
        nnz = rtml_r_u32(r);
        size_t nd = j->lim.n_outputs + j->lim.n_dense + (size_t)nnz;
        /* each stored value takes at least 4 bytes: a count the section cannot hold is refused before malloc */
        if (r->failed || nnz > (r->len - r->pos) / 4 || !(data = malloc(payload_size(j, nnz)))) return -1;
        rtml_r_f64s(r, data, nd);
        uint32_t *idx = (uint32_t *)(data + nd);
        for (uint32_t k = 0; k < nnz; k++) idx[k] = rtml_r_u32(r);
        if (r->failed) {
            free(data);
            return -1;
        }
    }
    uint32_t at = add_entry(j, key, ts, (uint8_t)state);
    if (at == NONE) {
        free(data);
        return -1;
    }
    j->e[at].y = y, j->e[at].data = data, j->e[at].nnz = nnz;
    if (data) j->payload_bytes += payload_size(j, nnz);
    return 0;
}

/* The section's head: format, shape, clocks and counters. 0, or -1. */
static int read_head(rtml_reader *r, uint32_t *nd, uint32_t *no, rtml_join_stats *s) {
    uint32_t format = rtml_r_u32(r);
    *nd = rtml_r_u32(r), *no = rtml_r_u32(r);
    s->feature_clock = (int64_t)rtml_r_u64(r);
    s->label_clock = (int64_t)rtml_r_u64(r);
    uint64_t *counts[] = {&s->stored, &s->labels, &s->joined, &s->joined_early, &s->duplicate_labels,
                          &s->duplicate_features, &s->late_labels, &s->unknown_labels, &s->evicted_ttl,
                          &s->evicted_capacity, &s->early_evicted_capacity};
    uint32_t nc = rtml_r_u32(r);
    if (r->failed || format != JOIN_FORMAT || nc != sizeof counts / sizeof counts[0]) return -1;
    for (uint32_t i = 0; i < nc; i++) *counts[i] = rtml_r_u64(r);
    return r->failed ? -1 : 0;
}

int rtml_join_peek(rtml_reader *r, rtml_join_stats *s) {
    *s = (rtml_join_stats){0};
    uint32_t nd, no;
    if (read_head(r, &nd, &no, s) != 0) return -1;
    s->pending = (size_t)rtml_r_u64(r); /* the pending list comes first; the early list's count follows it */
    return r->failed ? -1 : 0;
}

int rtml_join_load(rtml_join *j, rtml_reader *r, char *err, size_t errlen) {
    clear(j);
    uint32_t nd, no;
    rtml_join_stats *s = &j->st;
    if (read_head(r, &nd, &no, s) != 0) {
        clear(j);
        return rtml_fail(err, errlen, "pending joins section is malformed or of an unknown format");
    }
    if (nd != j->lim.n_dense || no != j->lim.n_outputs) {
        clear(j);
        return rtml_fail(err, errlen, "pending joins hold rows of %u inputs and %u outputs, the model has %zu and %zu",
                         nd, no, j->lim.n_dense, j->lim.n_outputs);
    }
    for (int l = 0; l < L__COUNT && !r->failed; l++) {
        uint64_t n = rtml_r_u64(r);
        if (n > (r->len - r->pos) / 20) goto bad; /* an entry takes at least 20 bytes */
        for (uint64_t i = 0; i < n; i++)
            if (load_entry(j, r, l) != 0) goto bad;
    }
    if (!r->failed) return 0;
bad:
    clear(j);
    return rtml_fail(err, errlen, "pending joins section is malformed");
}
