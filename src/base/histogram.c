/* histogram.c — Prometheus buckets plus log-linear buckets for quantiles (see histogram.h for the layout and
 * the error bound). */
#include "base/histogram.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double rtml_hist_latency_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                           0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
const size_t rtml_hist_latency_n = sizeof rtml_hist_latency_bounds / sizeof rtml_hist_latency_bounds[0];
const double rtml_hist_batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
const size_t rtml_hist_batch_n = sizeof rtml_hist_batch_bounds / sizeof rtml_hist_batch_bounds[0];

/* The fine slot of value 0; negative values sit below it, positive ones above, mirrored. */
#define ZERO_SLOT (RTML_HIST_FINE_MAG + 2)

int rtml_hist_init(rtml_hist *h, const double *bounds, size_t n_bounds) {
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < n_bounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) return -1;
    h->bounds = malloc((n_bounds ? n_bounds : 1) * sizeof *h->bounds);
    h->buckets = calloc(n_bounds + 1, sizeof *h->buckets);
    h->fine = calloc(RTML_HIST_FINE_N, sizeof *h->fine);
    if (!h->bounds || !h->buckets || !h->fine) {
        rtml_hist_free(h);
        return -1;
    }
    if (n_bounds) memcpy(h->bounds, bounds, n_bounds * sizeof *bounds);
    h->n_bounds = n_bounds;
    return 0;
}

void rtml_hist_free(rtml_hist *h) {
    free(h->bounds);
    free(h->buckets);
    free(h->fine);
    memset(h, 0, sizeof *h);
}

/* Index of the Prometheus bucket of v: the first bound >= v, or n_bounds (+Inf). */
static size_t bucket_of(const rtml_hist *h, double v) {
    size_t lo = 0, hi = h->n_bounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= h->bounds[mid]) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* Slot of a magnitude a > 0 on one side of zero: 0 underflow, 1..FINE_MAG fine, FINE_MAG+1 overflow.
 * With a = f * 2^e, f in [0.5, 1) (frexp's split), read from the bits rather than by frexp(), which cost
 * the daemon about 70 instructions per record (two histograms per record; tests/unit: the same slots):
 * e is the biased exponent - 1022, and the sub-bucket (f - 0.5) * 2 SUB is the mantissa's top log2(SUB) bits.
 * Subnormals (biased exponent 0) fall below EXP_MIN, infinity (2047) above EXP_MAX. */
static size_t magnitude_slot(double a) {
    _Static_assert((RTML_HIST_SUB & (RTML_HIST_SUB - 1)) == 0 && RTML_HIST_SUB <= 1 << 20, "SUB: a power of two");
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1022;
    if (e < RTML_HIST_EXP_MIN) return 0;
    if (e > RTML_HIST_EXP_MAX) return RTML_HIST_FINE_MAG + 1;
    size_t sub = (size_t)((bits & ((UINT64_C(1) << 52) - 1)) >> (52 - __builtin_ctz(RTML_HIST_SUB)));
    return 1 + (size_t)(e - RTML_HIST_EXP_MIN) * RTML_HIST_SUB + sub;
}

static size_t fine_slot(double v) {
    if (v > 0) return ZERO_SLOT + 1 + magnitude_slot(v);
    if (v < 0) return ZERO_SLOT - 1 - magnitude_slot(-v);
    return ZERO_SLOT;
}

/* The value reported for a magnitude slot: for a fine slot [lo, hi), 2*lo*hi/(lo+hi), whose relative distance
 * to any value of the slot is at most (hi-lo)/(hi+lo). */
static double magnitude_value(size_t m) {
    if (m == 0) return ldexp(1, RTML_HIST_EXP_MIN - 2);
    if (m > RTML_HIST_FINE_MAG) return ldexp(1, RTML_HIST_EXP_MAX);
    size_t octave = (m - 1) / RTML_HIST_SUB, sub = (m - 1) % RTML_HIST_SUB;
    double unit = ldexp(1, RTML_HIST_EXP_MIN - 1 + (int)octave) / RTML_HIST_SUB; /* slot width */
    double lo = unit * (double)(RTML_HIST_SUB + sub), hi = lo + unit;
    return 2 * lo * hi / (lo + hi);
}

static double slot_value(size_t slot) {
    if (slot > ZERO_SLOT) return magnitude_value(slot - ZERO_SLOT - 1);
    if (slot < ZERO_SLOT) return -magnitude_value(ZERO_SLOT - 1 - slot);
    return 0;
}

void rtml_hist_add(rtml_hist *h, double v) {
    if (isnan(v)) return;
    h->buckets[bucket_of(h, v)]++;
    h->fine[fine_slot(v)]++;
    h->count++;
    h->sum += v;
}

void rtml_hist_copy(rtml_hist *dst, const rtml_hist *src) {
    if (dst->n_bounds == src->n_bounds)
        memcpy(dst->buckets, src->buckets, (src->n_bounds + 1) * sizeof *src->buckets);
    memcpy(dst->fine, src->fine, RTML_HIST_FINE_N * sizeof *src->fine);
    dst->count = src->count;
    dst->sum = src->sum;
}

/* Values in a fine slot since `before` (0 if before has more: it was not a copy of h). */
static uint64_t slot_count(const rtml_hist *h, const rtml_hist *before, size_t slot) {
    uint64_t now = h->fine[slot], then = before ? before->fine[slot] : 0;
    return now > then ? now - then : 0;
}

double rtml_hist_quantile(const rtml_hist *h, const rtml_hist *before, double q) {
    if (isnan(q)) return NAN;
    uint64_t total = 0;
    for (size_t s = 0; s < RTML_HIST_FINE_N; s++) total += slot_count(h, before, s);
    if (total == 0) return NAN;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    double r = ceil(q * (double)total);
    uint64_t rank = r < 1 ? 1 : r > (double)total ? total : (uint64_t)r; /* 1-based */
    uint64_t seen = 0;
    for (size_t s = 0; s < RTML_HIST_FINE_N; s++) {
        seen += slot_count(h, before, s);
        if (seen >= rank) return slot_value(s);
    }
    return NAN; /* not reached */
}

uint64_t rtml_hist_count(const rtml_hist *h) { return h->count; }
double rtml_hist_sum(const rtml_hist *h) { return h->sum; }

/* A number as Prometheus reads it, in tmp: the shortest of %.15g..%.17g that reads back exactly; +Inf, -Inf,
 * NaN. Returns tmp. */
static const char *format_number(double v, char tmp[32]) {
    if (isnan(v)) return strcpy(tmp, "NaN");
    if (isinf(v)) return strcpy(tmp, v > 0 ? "+Inf" : "-Inf");
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, 32, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    return tmp;
}

/* "name_suffix{labels}" or "name_suffix" when there are no labels. */
static void put_series(rtml_buf *out, const char *name, const char *suffix, const char *labels) {
    rtml_buf_printf(out, "%s%s", name, suffix);
    if (labels && *labels) rtml_buf_printf(out, "{%s}", labels);
}

static void put_bucket(rtml_buf *out, const char *name, const char *labels, const char *le, uint64_t n) {
    rtml_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels ? labels : "", labels && *labels ? "," : "",
                    le, (unsigned long long)n);
}

void rtml_hist_prometheus(const rtml_hist *h, const char *name, const char *labels, rtml_buf *out) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h->n_bounds; i++) {
        cumulative += h->buckets[i];
        char le[32];
        put_bucket(out, name, labels, format_number(h->bounds[i], le), cumulative);
    }
    put_bucket(out, name, labels, "+Inf", h->count);
    put_series(out, name, "_sum", labels);
    char sum[32];
    rtml_buf_printf(out, " %s\n", format_number(h->sum, sum));
    put_series(out, name, "_count", labels);
    rtml_buf_printf(out, " %llu\n", (unsigned long long)h->count);
}
