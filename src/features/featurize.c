/* featurize.c — the feature pipeline (see featurize.h): a record's values -> one engine row.
 *
 * Row layout. The dense part comes first: one slot per numeric feature (a feature whose chain ends in a
 * number) and N slots per {array: N}, in config order. Then one sparse block per categorical feature, in
 * config order: one_hot N+1 inputs (N learned values in order of first appearance, then one bucket for
 * every value that did not fit), hash, cross and bag_of_words N inputs each.
 *
 * Categories. A string is its bytes; a whole number is its decimal text ("3", also for 3.0); a boolean is
 * "true" or "false"; any other number is "%.17g" text for hash and cross, and a wrong_type for one_hot.
 * Hashed text is prefixed by the feature name so two features' values do not collide systematically:
 *     hash:          "NAME=VALUE"
 *     cross:         "NAME=VALUE\x1fOTHER"     (0x1F, ASCII unit separator, between the two values)
 *     bag_of_words:  "NAME=token"              (tokens lower-cased, see rtml_next_token)
 * h = MurmurHash3_x86_32(text, seed 0); index = (h & 0x7fffffff) % N, value = -1 if bit 31 of h is set,
 * else +1 (signed hashing, Weinberger et al. 2009: collisions cancel in expectation instead of adding up).
 * bag_of_words adds the values of repeated tokens (and of colliding ones); the block is sorted by index.
 *
 * Statistics update before they transform (River's learn_one-then-transform_one): standardize by Welford's
 * mean and variance (std 0 gives 0), minmax by running min and max (max == min gives 0), impute mean by
 * the running mean of the values seen (0 before any). A record is featurised in two passes: the first
 * computes the whole row from copies of the statistics and can reject; only the second, for an accepted
 * record, stores the copies and adds new one_hot values. So a rejected record changes nothing.
 *
 * Hot path: no allocation per record. The row buffers are sized for the worst case when the featurizer
 * is built; only a one_hot vocabulary grows (amortised), at most N times in its life. */
#include "features/featurize.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_write.h"
#include "base/hash.h"
#include "base/rtml.h"
#include "base/stats.h"
#include "features/transforms.h"

#define LAYOUT_VERSION 1u /* of the "features" state section; bump on any change to save() */

/* A stateful step's running statistic: standardize (n, mean, m2), minmax (n, min, max), impute mean (n, mean). */
typedef struct {
    uint64_t n;
    double a, b;
} step_stat;

typedef struct {
    const rtml_feature *spec;     /* borrowed from the config */
    const rtml_transform *last;   /* its last step, or NULL */
    int sparse;                   /* the last step is one_hot, hash, cross or bag_of_words */
    size_t steps;                 /* the steps before a sparse last one (or all of them) */
    size_t value, other;          /* indexes into the fields (other: a cross's second field) */
    size_t offset;                /* its first input (dense slot or sparse block) */
    step_stat *stats, *pending;   /* one per transform; pending is the first pass's copy */
    rtml_vocab vocab;             /* one_hot */
    const char *cat;              /* one_hot: a value to add when the record is accepted */
    size_t cat_len;
    uint32_t cat_hash;
    int cat_new;
    enum { CHAIN_OTHER, CHAIN_STANDARDIZE, CHAIN_HASH } chain; /* [standardize] or [hash] alone: a fast path */
    rtml_murmur3_prefix name_eq;  /* "NAME=" hashed once (hash, cross, bag_of_words text starts with it) */
    char text[2][32];             /* numbers as category text: this value, a cross's other value */
} feature_state;

typedef struct {
    uint32_t idx;
    double val;
} sparse_entry;

struct rtml_featurizer {
    feature_state *f;
    size_t n;
    const char **fields; /* borrowed from the config, no duplicates */
    size_t n_fields;
    size_t n_dense, n_inputs;
    double *dense;
    sparse_entry *entries; /* the row's sparse part while it is built */
    uint32_t *idx;
    double *val;
    size_t max_nnz;
    size_t n_keep; /* features with something to keep after a row (all but [hash] chains): 0, no pass for them */
    char *scratch; /* text to hash */
    int frozen;    /* apply() transforms with what it would learn, but keeps no statistics (a re-delivered record) */
};

void rtml_featurizer_freeze(rtml_featurizer *fz, int frozen) { fz->frozen = frozen; }

/* ---- setup ---------------------------------------------------------------------------------------- */

/* The index of path among the fields, added if new. */
static size_t field_index(rtml_featurizer *fz, const char *path) {
    for (size_t i = 0; i < fz->n_fields; i++)
        if (strcmp(fz->fields[i], path) == 0)
            return i;
    fz->fields[fz->n_fields] = path;
    return fz->n_fields++;
}

/* The inputs a feature takes and the sparse entries it can make in one row. */
static size_t feature_width(const feature_state *fs) {
    if (!fs->last || (!fs->sparse && fs->last->kind != RTML_TX_ARRAY))
        return 1;
    return fs->last->kind == RTML_TX_ONE_HOT ? fs->last->n + 1 : fs->last->n;
}

static size_t feature_nnz(const feature_state *fs) {
    if (!fs->sparse)
        return 0;
    return fs->last->kind == RTML_TX_BAG_OF_WORDS ? RTML_MAX_FEATURE_STRING / 2 + 1 : 1;
}

static int setup_feature(rtml_featurizer *fz, feature_state *fs, const rtml_feature *spec) {
    size_t nt = spec->n_transforms;
    fs->spec = spec;
    fs->last = nt ? &spec->transforms[nt - 1] : NULL;
    rtml_transform_kind k = fs->last ? fs->last->kind : RTML_TX_STANDARDIZE;
    fs->sparse = fs->last && (k == RTML_TX_ONE_HOT || k == RTML_TX_HASH || k == RTML_TX_CROSS ||
                              k == RTML_TX_BAG_OF_WORDS);
    fs->steps = fs->sparse ? nt - 1 : nt;
    fs->chain = nt != 1 ? CHAIN_OTHER : k == RTML_TX_STANDARDIZE ? CHAIN_STANDARDIZE : k == RTML_TX_HASH ? CHAIN_HASH
                                                                                                  : CHAIN_OTHER;
    size_t nl = strlen(spec->name);
    char *name_eq = malloc(nl + 1);
    if (!name_eq)
        return -1;
    memcpy(name_eq, spec->name, nl);
    name_eq[nl] = '=';
    rtml_murmur3_prefix_init(&fs->name_eq, name_eq, nl + 1, 0);
    free(name_eq);
    fs->value = field_index(fz, spec->field);
    fs->stats = calloc(nt ? nt : 1, sizeof *fs->stats);
    fs->pending = calloc(nt ? nt : 1, sizeof *fs->pending);
    return fs->stats && fs->pending ? 0 : -1;
}

/* Dense slots first, then the sparse blocks, both in config order. */
static void lay_out(rtml_featurizer *fz) {
    size_t at = 0, max_name = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < fz->n; i++) {
            feature_state *fs = &fz->f[i];
            if (fs->sparse != (int)pass)
                continue;
            fs->offset = at;
            at += feature_width(fs);
            fz->max_nnz += feature_nnz(fs);
            size_t name = strlen(fs->spec->name);
            max_name = name > max_name ? name : max_name;
        }
        if (pass == 0)
            fz->n_dense = at;
    }
    fz->n_inputs = at;
    fz->scratch = malloc(max_name + 2 * RTML_MAX_FEATURE_STRING + 8);
}

rtml_featurizer *rtml_featurizer_new(const rtml_config *cfg, char *err, size_t errlen) {
    rtml_featurizer *fz = calloc(1, sizeof *fz);
    size_t n = cfg->n_features, max_fields = 2 * n + 1;
    if (!fz || !(fz->f = calloc(n ? n : 1, sizeof *fz->f)) || !(fz->fields = calloc(max_fields, sizeof(char *))))
        goto oom;
    fz->n = n;
    for (size_t i = 0; i < n; i++)
        if (setup_feature(fz, &fz->f[i], &cfg->features[i]) != 0)
            goto oom;
    for (size_t i = 0; i < n; i++) /* crosses' second fields come after all the features' own */
        if (fz->f[i].last && fz->f[i].last->kind == RTML_TX_CROSS)
            fz->f[i].other = field_index(fz, fz->f[i].last->with);
    for (size_t i = 0; i < n; i++)
        fz->n_keep += fz->f[i].chain != CHAIN_HASH;
    lay_out(fz);
    if (fz->n_inputs > UINT32_MAX) {
        rtml_fail(err, errlen, "features: %zu inputs, more than a row can index", fz->n_inputs);
        rtml_featurizer_free(fz);
        return NULL;
    }
    fz->dense = calloc(fz->n_dense ? fz->n_dense : 1, sizeof *fz->dense);
    fz->entries = calloc(fz->max_nnz ? fz->max_nnz : 1, sizeof *fz->entries);
    fz->idx = calloc(fz->max_nnz ? fz->max_nnz : 1, sizeof *fz->idx);
    fz->val = calloc(fz->max_nnz ? fz->max_nnz : 1, sizeof *fz->val);
    if (!fz->scratch || !fz->dense || !fz->entries || !fz->idx || !fz->val)
        goto oom;
    return fz;
oom:
    rtml_featurizer_free(fz);
    rtml_fail(err, errlen, "out of memory for %zu features", n);
    return NULL;
}

void rtml_featurizer_free(rtml_featurizer *fz) {
    if (!fz)
        return;
    for (size_t i = 0; fz->f && i < fz->n; i++) {
        free(fz->f[i].stats);
        free(fz->f[i].pending);
        rtml_vocab_free(&fz->f[i].vocab);
    }
    free(fz->f);
    free(fz->fields);
    free(fz->dense);
    free(fz->entries);
    free(fz->idx);
    free(fz->val);
    free(fz->scratch);
    free(fz);
}

const char *const *rtml_featurizer_fields(const rtml_featurizer *fz, size_t *n) {
    *n = fz->n_fields;
    return fz->fields;
}

int rtml_featurizer_span(const rtml_featurizer *fz, const char *name, size_t *offset, size_t *width, int *sparse) {
    for (size_t i = 0; i < fz->n; i++) {
        if (strcmp(fz->f[i].spec->name, name) != 0) continue;
        *offset = fz->f[i].offset;
        *width = feature_width(&fz->f[i]);
        *sparse = fz->f[i].sparse;
        return 0;
    }
    return -1;
}

/* One feature of a row: a number, a dense array, or a sparse block's inputs as {"index in the block": value}. */
static void feature_json(const feature_state *fs, const rtml_row *row, rtml_buf *out) {
    size_t w = feature_width(fs);
    if (fs->sparse) {
        rtml_buf_putc(out, '{');
        int first = 1;
        for (size_t k = 0; k < row->nnz; k++) {
            if (row->idx[k] < fs->offset || row->idx[k] >= fs->offset + w) continue;
            rtml_buf_printf(out, "%s\"%zu\":", first ? "" : ",", (size_t)row->idx[k] - fs->offset);
            rtml_buf_put_double(out, row->val[k]);
            first = 0;
        }
        rtml_buf_putc(out, '}');
    } else if (fs->last && fs->last->kind == RTML_TX_ARRAY) {
        for (size_t j = 0; j < w; j++) {
            rtml_buf_putc(out, j ? ',' : '[');
            rtml_buf_put_double(out, row->dense[fs->offset + j]);
        }
        rtml_buf_putc(out, ']');
    } else {
        rtml_buf_put_double(out, row->dense[fs->offset]);
    }
}

void rtml_featurizer_row_json(const rtml_featurizer *fz, const rtml_row *row, rtml_buf *out) {
    rtml_buf_putc(out, '{');
    for (size_t i = 0; i < fz->n; i++) {
        if (i) rtml_buf_putc(out, ',');
        rtml_json_put_string(out, fz->f[i].spec->name, strlen(fz->f[i].spec->name));
        rtml_buf_putc(out, ':');
        feature_json(&fz->f[i], row, out);
    }
    rtml_buf_putc(out, '}');
}

rtml_shape rtml_featurizer_shape(const rtml_featurizer *fz) { return (rtml_shape){fz->n_dense, fz->n_inputs, 0}; }

/* ---- one record: checks ---------------------------------------------------------------------------- */

/* The value flowing through a chain: the field's value until a numeric step makes it a number. */
typedef struct {
    const rtml_value *raw;
    double num;
    int is_num;
} flow;

typedef struct {
    char *detail;
    size_t len;
    const char *field;
} why;

__attribute__((format(printf, 3, 4)))
static rtml_reject reject(const why *w, rtml_reject r, const char *fmt, ...) {
    if (w->detail && w->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->detail, w->len, fmt, ap);
        va_end(ap);
    }
    return r;
}

static int is_missing(const rtml_value *v) { return v->type == RTML_V_ABSENT || v->type == RTML_V_NULL; }

/* What every value must pass whatever reads it: present (unless imputed), finite, not too long. */
static rtml_reject check_value(const rtml_value *v, int imputed, const why *w) {
    if (is_missing(v) && !imputed)
        return reject(w, RTML_REJECT_MISSING_FIELD, "field %s is missing", w->field);
    if (v->type == RTML_V_NUMBER && !isfinite(v->num))
        return reject(w, RTML_REJECT_NOT_FINITE, "field %s is not finite", w->field);
    if (v->type == RTML_V_STRING && v->len > RTML_MAX_FEATURE_STRING)
        return reject(w, RTML_REJECT_TOO_LARGE, "field %s is a string of %zu bytes, more than the %d a feature reads",
                      w->field, v->len, RTML_MAX_FEATURE_STRING);
    return RTML_REJECT_NONE;
}

/* The flow as a number (numbers and booleans), or a wrong_type. */
static rtml_reject need_number(flow *x, const why *w) {
    if (x->is_num)
        return RTML_REJECT_NONE;
    if (x->raw->type != RTML_V_NUMBER && x->raw->type != RTML_V_BOOL)
        return reject(w, RTML_REJECT_WRONG_TYPE, "field %s is not a number (%s)", w->field,
                      rtml_vtype_name(x->raw->type));
    x->num = x->raw->num;
    x->is_num = 1;
    return RTML_REJECT_NONE;
}

/* ---- one record: numeric steps --------------------------------------------------------------------- */

/* For standardize a step_stat holds Welford's (n, mean, m2); the update itself is stats.h's. */
static double standardize(step_stat *s, double x) {
    rtml_welford w = {s->n, s->a, s->b};
    rtml_welford_add(&w, x);
    *s = (step_stat){w.n, w.mean, w.m2};
    double sd = rtml_welford_std(&w);
    return sd > 0 ? (x - w.mean) / sd : 0.0;
}

static double minmax(step_stat *s, double x) {
    if (s->n++ == 0)
        s->a = s->b = x;
    s->a = x < s->a ? x : s->a;
    s->b = x > s->b ? x : s->b;
    return s->b > s->a ? (x - s->a) / (s->b - s->a) : 0.0;
}

/* impute: a missing value becomes the constant or the running mean; a present number updates the mean. */
static void impute(const rtml_transform *t, step_stat *s, flow *x) {
    if (is_missing(x->raw)) {
        x->num = t->kind == RTML_TX_IMPUTE_CONST ? t->a : s->a;
        x->is_num = 1;
    } else if (t->kind == RTML_TX_IMPUTE_MEAN &&
               (x->raw->type == RTML_V_NUMBER || x->raw->type == RTML_V_BOOL)) {
        s->n++;
        s->a += (x->raw->num - s->a) / (double)s->n;
    }
}

/* hour_of_day, day_of_week: a number of seconds (or milliseconds) or an ISO-8601 string. */
static rtml_reject time_step(const rtml_transform *t, flow *x, const why *w) {
    double secs;
    if (!x->is_num && x->raw->type == RTML_V_STRING) {
        if (rtml_parse_timestamp(x->raw->str, x->raw->len, &secs) != 0)
            return reject(w, RTML_REJECT_WRONG_TYPE, "field %s is not a timestamp ('%.40s%s')", w->field,
                          x->raw->str, x->raw->len > 40 ? "..." : "");
    } else if (x->is_num || x->raw->type == RTML_V_NUMBER) {
        secs = rtml_epoch_seconds(x->is_num ? x->num : x->raw->num);
    } else {
        return reject(w, RTML_REJECT_WRONG_TYPE, "field %s is not a timestamp (%s)", w->field,
                      rtml_vtype_name(x->raw->type));
    }
    x->num = t->kind == RTML_TX_HOUR_OF_DAY ? rtml_hour_of_day(secs) : rtml_day_of_week(secs);
    x->is_num = 1;
    return RTML_REJECT_NONE;
}

static rtml_reject step(const rtml_transform *t, step_stat *s, flow *x, const why *w) {
    rtml_reject r = RTML_REJECT_NONE;
    switch (t->kind) {
    case RTML_TX_IMPUTE_MEAN:
    case RTML_TX_IMPUTE_CONST: impute(t, s, x); break;
    case RTML_TX_HOUR_OF_DAY:
    case RTML_TX_DAY_OF_WEEK: r = time_step(t, x, w); break;
    default: r = need_number(x, w); break;
    }
    if (r != RTML_REJECT_NONE)
        return r;
    switch (t->kind) {
    case RTML_TX_STANDARDIZE: x->num = standardize(s, x->num); break;
    case RTML_TX_MINMAX: x->num = minmax(s, x->num); break;
    case RTML_TX_LOG1P: x->num = log1p(x->num > 0 ? x->num : 0); break;
    case RTML_TX_CLIP: x->num = x->num < t->a ? t->a : x->num > t->b ? t->b : x->num; break;
    case RTML_TX_BUCKETIZE: x->num = (double)rtml_bucket(t->bounds, t->n_bounds, x->num); break;
    default: break;
    }
    if (!isfinite(x->num) || !isfinite(s->a) || !isfinite(s->b)) /* an overflow, also of the statistics */
        return reject(w, RTML_REJECT_NOT_FINITE, "field %s is not finite after %s", w->field,
                      rtml_transform_name(t->kind));
    return RTML_REJECT_NONE;
}

/* ---- one record: categorical steps ----------------------------------------------------------------- */

/* The category text of a flow (see the top of the file); buf holds a number's text. */
static rtml_reject category(const flow *x, int whole_only, char *buf, const char **s, size_t *len, const why *w) {
    const rtml_value *v = x->raw;
    if (!x->is_num && v->type == RTML_V_STRING) {
        *s = v->str;
        *len = v->len;
        return RTML_REJECT_NONE;
    }
    if (!x->is_num && v->type == RTML_V_BOOL) {
        *s = v->num ? "true" : "false";
        *len = strlen(*s);
        return RTML_REJECT_NONE;
    }
    if (!x->is_num && v->type != RTML_V_NUMBER)
        return reject(w, RTML_REJECT_WRONG_TYPE, "field %s is not a category (%s)", w->field, rtml_vtype_name(v->type));
    double num = x->is_num ? x->num : v->num;
    *s = buf;
    if (!x->is_num && v->is_int)
        *len = (size_t)snprintf(buf, 32, "%lld", (long long)v->i64);
    else if ((*len = rtml_whole_text(num, buf, 32)) == 0 && whole_only)
        return reject(w, RTML_REJECT_WRONG_TYPE, "field %s: one_hot needs a string or a whole number, got %.17g",
                      w->field, num);
    else if (*len == 0)
        *len = (size_t)snprintf(buf, 32, "%.17g", num);
    return RTML_REJECT_NONE;
}

/* murmur3 of "NAME=a" or, with b, "NAME=a\x1fb". */
static uint32_t hash_text(char *scratch, const char *name, const char *a, size_t alen, const char *b, size_t blen) {
    size_t nl = strlen(name), n = nl + 1 + alen;
    memcpy(scratch, name, nl);
    scratch[nl] = '=';
    memcpy(scratch + nl + 1, a, alen);
    if (b) {
        scratch[n++] = '\x1f';
        memcpy(scratch + n, b, blen);
        n += blen;
    }
    return rtml_murmur3_32(scratch, n, 0);
}

static sparse_entry signed_entry(size_t offset, size_t buckets, uint32_t h) {
    return (sparse_entry){(uint32_t)(offset + (h & 0x7fffffffu) % buckets), (h >> 31) ? -1.0 : 1.0};
}

/* one_hot: the value's slot, a new slot if there is room (added on commit), else the overflow bucket. */
static sparse_entry one_hot(feature_state *fs, const char *s, size_t len) {
    uint32_t h = rtml_murmur3_32(s, len, 0);
    long at = rtml_vocab_find(&fs->vocab, s, len, h);
    size_t cap = fs->last->n;
    if (at < 0 && fs->vocab.count < cap && rtml_vocab_reserve(&fs->vocab, len) == 0) {
        fs->cat = s;
        fs->cat_len = len;
        fs->cat_hash = h;
        fs->cat_new = 1;
        at = (long)fs->vocab.count;
    }
    return (sparse_entry){(uint32_t)(fs->offset + (at < 0 ? cap : (size_t)at)), 1.0};
}

/* Each token of the text, lower-cased and hashed with its sign into the block. */
static rtml_reject bag_of_words(rtml_featurizer *fz, const feature_state *fs, const rtml_value *v, size_t *nnz,
                                const why *w) {
    if (v->type != RTML_V_STRING)
        return reject(w, RTML_REJECT_WRONG_TYPE, "field %s is not text (%s)", w->field, rtml_vtype_name(v->type));
    const char *name = fs->spec->name;
    size_t nl = strlen(name), pos = 0, start, len;
    memcpy(fz->scratch, name, nl);
    fz->scratch[nl] = '=';
    while (rtml_next_token(v->str, v->len, &pos, &start, &len)) {
        for (size_t i = 0; i < len; i++) {
            char c = v->str[start + i];
            fz->scratch[nl + 1 + i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        fz->entries[(*nnz)++] = signed_entry(fs->offset, fs->last->n, rtml_murmur3_32(fz->scratch, nl + 1 + len, 0));
    }
    return RTML_REJECT_NONE;
}

static int by_index(const void *a, const void *b) {
    uint32_t x = ((const sparse_entry *)a)->idx, y = ((const sparse_entry *)b)->idx;
    return x < y ? -1 : x > y;
}

/* Sort entries [first, *nnz) by index and add up equal indices, dropping those that cancel to 0. */
static void merge_block(sparse_entry *e, size_t first, size_t *nnz) {
    size_t out = first;
    qsort(e + first, *nnz - first, sizeof *e, by_index);
    for (size_t i = first; i < *nnz; i++) {
        if (out > first && e[out - 1].idx == e[i].idx)
            e[out - 1].val += e[i].val;
        else
            e[out++] = e[i];
        if (e[out - 1].val == 0 && (i + 1 == *nnz || e[i + 1].idx != e[out - 1].idx))
            out--;
    }
    *nnz = out;
}

/* The sparse entry of a one_hot, hash or cross step applied to the flow. */
static rtml_reject categorical(rtml_featurizer *fz, feature_state *fs, const flow *x, const rtml_value *values,
                               size_t *nnz, const why *w) {
    const rtml_transform *t = fs->last;
    const char *a, *b = NULL;
    size_t alen, blen = 0;
    rtml_reject r = category(x, t->kind == RTML_TX_ONE_HOT, fs->text[0], &a, &alen, w);
    if (r != RTML_REJECT_NONE)
        return r;
    if (t->kind == RTML_TX_ONE_HOT) {
        fz->entries[(*nnz)++] = one_hot(fs, a, alen);
        return RTML_REJECT_NONE;
    }
    if (t->kind == RTML_TX_CROSS) {
        const why wo = {w->detail, w->len, fz->fields[fs->other]};
        const flow y = {&values[fs->other], 0, 0};
        if ((r = check_value(y.raw, 0, &wo)) != RTML_REJECT_NONE ||
            (r = category(&y, 0, fs->text[1], &b, &blen, &wo)) != RTML_REJECT_NONE)
            return r;
    }
    uint32_t h = hash_text(fz->scratch, fs->spec->name, a, alen, b, blen);
    fz->entries[(*nnz)++] = signed_entry(fs->offset, t->n, h);
    return RTML_REJECT_NONE;
}

/* {array: N}: exactly N finite numbers into the dense slots. */
static rtml_reject array(rtml_featurizer *fz, const feature_state *fs, const rtml_value *v, const why *w) {
    size_t n = fs->last->n;
    if (v->type != RTML_V_ARRAY)
        return reject(w, RTML_REJECT_WRONG_TYPE, "field %s is not an array (%s)", w->field, rtml_vtype_name(v->type));
    if (v->arr_len != n)
        return reject(w, RTML_REJECT_WRONG_TYPE, "array %s has %zu values, expected %zu", w->field, v->arr_len, n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v->arr[i]))
            return reject(w, RTML_REJECT_NOT_FINITE, "array %s has a non-finite value at [%zu]", w->field, i);
        fz->dense[fs->offset + i] = v->arr[i];
    }
    return RTML_REJECT_NONE;
}

/* First pass for one feature: its inputs into the row, its statistics into pending. Changes no state. */
static rtml_reject compute(rtml_featurizer *fz, feature_state *fs, const rtml_value *values, size_t *nnz,
                           char *detail, size_t dlen) {
    const rtml_value *v = &values[fs->value];
    const why w = {detail, dlen, fz->fields[fs->value]};
    const rtml_transform *t = fs->spec->transforms;
    int imputed = fs->spec->n_transforms &&
                  (t[0].kind == RTML_TX_IMPUTE_MEAN || t[0].kind == RTML_TX_IMPUTE_CONST);
    rtml_reject r = check_value(v, imputed, &w);
    fs->cat_new = 0;
    if (r != RTML_REJECT_NONE)
        return r;
    for (size_t k = 0; k < fs->spec->n_transforms; k++)
        fs->pending[k] = fs->stats[k];
    if (fs->last && fs->last->kind == RTML_TX_ARRAY)
        return array(fz, fs, v, &w);
    if (fs->last && fs->last->kind == RTML_TX_BAG_OF_WORDS) {
        size_t first = *nnz;
        r = bag_of_words(fz, fs, v, nnz, &w);
        merge_block(fz->entries, first, nnz);
        return r;
    }
    flow x = {v, 0, 0};
    for (size_t k = 0; k < fs->steps; k++)
        if ((r = step(&t[k], &fs->pending[k], &x, &w)) != RTML_REJECT_NONE)
            return r;
    if (fs->sparse)
        return categorical(fz, fs, &x, values, nnz, &w);
    if ((r = need_number(&x, &w)) == RTML_REJECT_NONE)
        fz->dense[fs->offset] = x.num;
    return r;
}

/* Second pass for an accepted record: keep the new statistics and vocabulary values. */
static void commit(feature_state *fs) {
    for (size_t k = 0; k < fs->steps; k++)
        fs->stats[k] = fs->pending[k];
    if (fs->cat_new)
        rtml_vocab_add(&fs->vocab, fs->cat, fs->cat_len, fs->cat_hash);
    fs->cat_new = 0;
}

/* compute() for a [standardize] chain over a finite number, the usual dense feature: the same arithmetic in a
 * few instructions. 0 when it does not apply (another type, an overflow): compute() then decides, and rejects
 * exactly as it always has. */
static inline int standardize_fast(rtml_featurizer *fz, feature_state *fs, const rtml_value *v) {
    if (v->type != RTML_V_NUMBER)
        return 0;
    rtml_welford w = {fs->stats[0].n, fs->stats[0].a, fs->stats[0].b};
    rtml_welford_add(&w, v->num);
    double sd = rtml_welford_std(&w);
    double x = sd > 0 ? (v->num - w.mean) / sd : 0.0;
    /* One test for all: a NaN or infinite input, mean, m2 or result makes the sum NaN or infinite. (A sum that
     * overflows from finite terms only sends the record to compute(), which decides as it always has.) */
    if (!isfinite(x + w.mean + w.m2))
        return 0;
    fs->pending[0] = (step_stat){w.n, w.mean, w.m2};
    fs->cat_new = 0;
    fz->dense[fs->offset] = x;
    return 1;
}

/* compute() for a [hash] chain over a string, the usual categorical feature: "NAME=" was hashed once, only the
 * value is hashed here (no copy into the scratch text). 0 when it does not apply: compute() then decides. The
 * entry goes into the row's idx/val too: a row that no compute() added to needs no copy from entries. */
static inline int hash_fast(rtml_featurizer *fz, feature_state *fs, const rtml_value *v, size_t *nnz) {
    if (v->type != RTML_V_STRING || v->len > RTML_MAX_FEATURE_STRING)
        return 0;
    sparse_entry e = signed_entry(fs->offset, fs->last->n, rtml_murmur3_32_after(&fs->name_eq, v->str, v->len));
    size_t k = (*nnz)++;
    fz->entries[k] = e;
    fz->idx[k] = e.idx;
    fz->val[k] = e.val;
    fs->cat_new = 0;
    return 1;
}

rtml_reject rtml_featurizer_apply(rtml_featurizer *fz, const rtml_value *values, rtml_row *row, char *detail,
                                  size_t dlen) {
    size_t nnz = 0;
    int computed = 0; /* a feature took compute(): its entries are in entries only */
    for (size_t i = 0; i < fz->n; i++) {
        feature_state *fs = &fz->f[i];
        if (fs->chain == CHAIN_STANDARDIZE && standardize_fast(fz, fs, &values[fs->value]))
            continue;
        if (fs->chain == CHAIN_HASH && hash_fast(fz, fs, &values[fs->value], &nnz))
            continue;
        computed = 1;
        rtml_reject r = compute(fz, fs, values, &nnz, detail, dlen);
        if (r != RTML_REJECT_NONE) {
            for (size_t j = 0; j <= i; j++)
                fz->f[j].cat_new = 0;
            return r;
        }
    }
    for (size_t i = 0, n_kept = fz->n_keep ? fz->n : 0; i < n_kept; i++) {
        feature_state *fs = &fz->f[i];
        if (fs->chain == CHAIN_HASH)
            continue; /* nothing to keep: no statistics before it, no vocabulary */
        if (fz->frozen) fs->cat_new = 0;
        else if (fs->chain == CHAIN_STANDARDIZE) fs->stats[0] = fs->pending[0];
        else commit(fs);
    }
    for (size_t i = 0, n_copied = computed ? nnz : 0; i < n_copied; i++) {
        fz->idx[i] = fz->entries[i].idx;
        fz->val[i] = fz->entries[i].val;
    }
    *row = (rtml_row){.dense = fz->dense, .idx = fz->idx, .val = fz->val, .nnz = nnz};
    return RTML_REJECT_NONE;
}

/* ---- state ----------------------------------------------------------------------------------------- *
 * Layout 1: u32 version | u32 features | per feature: str name | u32 transforms | per transform: u32 kind,
 * u64 parameter n, u64 stat n, f64 stat a, f64 stat b | u32 vocabulary size | that many str values. */

void rtml_featurizer_save(const rtml_featurizer *fz, rtml_writer *w) {
    rtml_w_u32(w, LAYOUT_VERSION);
    rtml_w_u32(w, (uint32_t)fz->n);
    for (size_t i = 0; i < fz->n; i++) {
        const feature_state *fs = &fz->f[i];
        rtml_w_str(w, fs->spec->name, strlen(fs->spec->name));
        rtml_w_u32(w, (uint32_t)fs->spec->n_transforms);
        for (size_t k = 0; k < fs->spec->n_transforms; k++) {
            rtml_w_u32(w, (uint32_t)fs->spec->transforms[k].kind);
            rtml_w_u64(w, fs->spec->transforms[k].n);
            rtml_w_u64(w, fs->stats[k].n);
            rtml_w_f64(w, fs->stats[k].a);
            rtml_w_f64(w, fs->stats[k].b);
        }
        rtml_w_u32(w, (uint32_t)fs->vocab.count);
        for (size_t e = 0; e < fs->vocab.count; e++) {
            size_t len;
            const char *s = rtml_vocab_get(&fs->vocab, e, &len);
            rtml_w_str(w, s, len);
        }
    }
}

/* One feature's transforms and statistics into fs->pending, checked against the config. */
static int load_stats(feature_state *fs, rtml_reader *r, char *err, size_t errlen) {
    const rtml_feature *spec = fs->spec;
    uint32_t nt = rtml_r_u32(r);
    if (!r->failed && nt != spec->n_transforms)
        return rtml_fail(err, errlen, "state: feature '%s' has %u transforms in the state file, %zu in the config",
                         spec->name, nt, spec->n_transforms);
    for (size_t k = 0; k < spec->n_transforms && !r->failed; k++) {
        uint32_t kind = rtml_r_u32(r);
        uint64_t n = rtml_r_u64(r);
        const rtml_transform *t = &spec->transforms[k];
        if (!r->failed && (kind != (uint32_t)t->kind || n != t->n))
            return rtml_fail(err, errlen,
                             "state: feature '%s' transform %zu is %s (%llu) in the state file, %s (%zu) in the "
                             "config", spec->name, k, rtml_transform_name((rtml_transform_kind)kind),
                             (unsigned long long)n, rtml_transform_name(t->kind), t->n);
        fs->pending[k].n = rtml_r_u64(r);
        fs->pending[k].a = rtml_r_f64(r);
        fs->pending[k].b = rtml_r_f64(r);
    }
    return 0;
}

/* One feature's vocabulary into v (a fresh one). */
static int load_vocab(const feature_state *fs, rtml_reader *r, rtml_vocab *v, char *err, size_t errlen) {
    uint32_t count = rtml_r_u32(r);
    size_t cap = fs->last && fs->last->kind == RTML_TX_ONE_HOT ? fs->last->n : 0;
    if (!r->failed && count > cap)
        return rtml_fail(err, errlen, "state: feature '%s' has %u vocabulary values in the state file, the config "
                         "allows %zu", fs->spec->name, count, cap);
    for (uint32_t e = 0; e < count && !r->failed; e++) {
        size_t len;
        const char *s = rtml_r_str(r, &len);
        uint32_t h = s ? rtml_murmur3_32(s, len, 0) : 0;
        if (!s)
            break;
        if (rtml_vocab_find(v, s, len, h) >= 0)
            return rtml_fail(err, errlen, "state: feature '%s' lists a vocabulary value twice", fs->spec->name);
        if (rtml_vocab_reserve(v, len) != 0)
            return rtml_fail(err, errlen, "out of memory loading the vocabulary of '%s'", fs->spec->name);
        rtml_vocab_add(v, s, len, h);
    }
    return 0;
}

static int load_feature(feature_state *fs, size_t i, rtml_reader *r, rtml_vocab *v, char *err, size_t errlen) {
    size_t len;
    const char *name = rtml_r_str(r, &len);
    if (name && (len != strlen(fs->spec->name) || memcmp(name, fs->spec->name, len) != 0))
        return rtml_fail(err, errlen, "state: feature %zu is '%.*s' in the state file, '%s' in the config", i,
                         (int)(len > 60 ? 60 : len), name, fs->spec->name);
    if (load_stats(fs, r, err, errlen) != 0)
        return -1;
    return load_vocab(fs, r, v, err, errlen);
}

static int load_all(rtml_featurizer *fz, rtml_reader *r, rtml_vocab *vocabs, char *err, size_t errlen) {
    uint32_t version = rtml_r_u32(r), n = rtml_r_u32(r);
    if (r->failed)
        return rtml_fail(err, errlen, "state: feature statistics are truncated");
    if (version != LAYOUT_VERSION)
        return rtml_fail(err, errlen, "state: feature statistics have layout version %u; this rtml reads %u", version,
                         LAYOUT_VERSION);
    if (n != fz->n)
        return rtml_fail(err, errlen, "state: the state file has statistics for %u features, the config has %zu", n,
                         fz->n);
    for (size_t i = 0; i < fz->n && !r->failed; i++)
        if (load_feature(&fz->f[i], i, r, &vocabs[i], err, errlen) != 0)
            return -1;
    return r->failed ? rtml_fail(err, errlen, "state: feature statistics are truncated") : 0;
}

/* Everything is read into fresh copies and installed only when all of it checks out. */
int rtml_featurizer_load(rtml_featurizer *fz, rtml_reader *r, char *err, size_t errlen) {
    rtml_vocab *vocabs = calloc(fz->n ? fz->n : 1, sizeof *vocabs);
    if (!vocabs)
        return rtml_fail(err, errlen, "out of memory loading feature statistics");
    int rc = load_all(fz, r, vocabs, err, errlen);
    for (size_t i = 0; i < fz->n; i++) {
        feature_state *fs = &fz->f[i];
        if (rc == 0) {
            memcpy(fs->stats, fs->pending, fs->spec->n_transforms * sizeof *fs->stats);
            rtml_vocab_free(&fs->vocab);
            fs->vocab = vocabs[i];
        } else {
            rtml_vocab_free(&vocabs[i]);
        }
        fs->cat_new = 0;
    }
    free(vocabs);
    return rc;
}

/* ---- description (the monitor's /model) ----------------------------------------------------------- */

static void stat_json(const rtml_transform *t, const step_stat *s, rtml_buf *out) {
    rtml_buf_printf(out, "{\"transform\":\"%s\",\"n\":%llu", rtml_transform_name(t->kind), (unsigned long long)s->n);
    if (t->kind == RTML_TX_STANDARDIZE) {
        rtml_buf_puts(out, ",\"mean\":");
        rtml_buf_put_double(out, s->a);
        rtml_buf_puts(out, ",\"std\":");
        rtml_welford w = {s->n, s->a, s->b};
        rtml_buf_put_double(out, rtml_welford_std(&w)); /* the one standardize divides by */
    } else if (t->kind == RTML_TX_MINMAX && s->n) {
        rtml_buf_puts(out, ",\"min\":");
        rtml_buf_put_double(out, s->a);
        rtml_buf_puts(out, ",\"max\":");
        rtml_buf_put_double(out, s->b);
    } else if (t->kind == RTML_TX_IMPUTE_MEAN) {
        rtml_buf_puts(out, ",\"mean\":");
        rtml_buf_put_double(out, s->a);
    }
    rtml_buf_putc(out, '}');
}

void rtml_featurizer_json(const rtml_featurizer *f, rtml_buf *out) {
    rtml_buf_putc(out, '[');
    for (size_t i = 0; i < f->n; i++) {
        const feature_state *fs = &f->f[i];
        if (i) rtml_buf_putc(out, ',');
        rtml_buf_puts(out, "{\"name\":");
        rtml_json_put_string(out, fs->spec->name, strlen(fs->spec->name));
        rtml_buf_puts(out, ",\"field\":");
        rtml_json_put_string(out, fs->spec->field, strlen(fs->spec->field));
        rtml_buf_puts(out, ",\"statistics\":[");
        int first = 1;
        for (size_t k = 0; k < fs->spec->n_transforms; k++) {
            rtml_transform_kind kind = fs->spec->transforms[k].kind;
            if (kind != RTML_TX_STANDARDIZE && kind != RTML_TX_MINMAX && kind != RTML_TX_IMPUTE_MEAN) continue;
            if (!first) rtml_buf_putc(out, ',');
            stat_json(&fs->spec->transforms[k], &fs->stats[k], out);
            first = 0;
        }
        rtml_buf_putc(out, ']');
        if (fs->last && fs->last->kind == RTML_TX_ONE_HOT)
            rtml_buf_printf(out, ",\"categories\":%zu", fs->vocab.count);
        rtml_buf_putc(out, '}');
    }
    rtml_buf_putc(out, ']');
}
