/* histogram.h — histograms for latencies and batch sizes: exact Prometheus buckets and quantile estimates.
 *
 * One rtml_hist keeps two views of the same values:
 *   - exact counts per Prometheus bucket, with the `le` bounds given at init (le is inclusive: v <= le), which
 *     /metrics exposes as a Prometheus histogram (rtml_hist_prometheus);
 *   - fine log-linear buckets for quantiles (p50/p99 for the dashboard and `rtml top`): each power of two is
 *     cut into RTML_HIST_SUB = 16 equal sub-buckets, for magnitudes from 2^-24 (~6e-8) to 2^27 (~1.3e8), on
 *     both sides of zero, plus one slot for 0, and an underflow and an overflow slot per sign. A quantile is
 *     reported as the bucket's value that is closest in relative terms to every value of the bucket, so its
 *     relative error is at most (hi-lo)/(hi+lo) = 1/33 ~= 3.03% for |v| in [2^-24, 2^27). Zero is exact;
 *     below 2^-24 in magnitude a quantile reports +-2^-25; at or above 2^27 it reports +-2^27 (saturates).
 *     Memory: RTML_HIST_FINE_N (1637) counters, ~13 KB per histogram, fixed.
 *
 * A windowed quantile (e.g. p99 over the last minute) takes a copy of the histogram at the start of the window
 * (rtml_hist_copy) and asks rtml_hist_quantile(h, copy, q): counts are cumulative, so the difference is the
 * window's histogram. NaN values are ignored (neither counted nor summed); +-Inf count in the outer slots.
 *
 * Not thread-safe: the owner serialises adds, copies and reads (the metrics module holds its lock). */
#ifndef RTML_HISTOGRAM_H
#define RTML_HISTOGRAM_H
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RTML_HIST_SUB 16       /* sub-buckets per power of two */
#define RTML_HIST_EXP_MIN (-23) /* frexp() exponents covered: |v| in [2^(EXP_MIN-1), 2^EXP_MAX) */
#define RTML_HIST_EXP_MAX 27
#define RTML_HIST_FINE_MAG ((RTML_HIST_EXP_MAX - RTML_HIST_EXP_MIN + 1) * RTML_HIST_SUB) /* fine slots per sign */
#define RTML_HIST_FINE_N (2 * (RTML_HIST_FINE_MAG + 2) + 1)

typedef struct {
    double *bounds;     /* owned copy of the `le` bounds: finite, strictly ascending */
    size_t n_bounds;
    uint64_t *buckets;  /* n_bounds + 1, owned: [i] counts bounds[i-1] < v <= bounds[i]; [n_bounds] v > last */
    /* RTML_HIST_FINE_N, owned, ordered by value: negative overflow, negative fine slots (largest magnitude
     * first), negative underflow, zero, positive underflow, positive fine slots, positive overflow. */
    uint64_t *fine;
    uint64_t count;     /* values added (NaN excluded) */
    double sum;
} rtml_hist;

/* bounds: ascending, finite, copied; n_bounds may be 0 (only +Inf). Returns 0, or -1 (bad bounds, or out of
 * memory) with *h zeroed, so rtml_hist_free() is always safe. */
int rtml_hist_init(rtml_hist *h, const double *bounds, size_t n_bounds);
void rtml_hist_free(rtml_hist *h);
void rtml_hist_add(rtml_hist *h, double v); /* O(log n_bounds) */
/* dst: initialised with the same bounds as src (else only the fine buckets, count and sum are copied). */
void rtml_hist_copy(rtml_hist *dst, const rtml_hist *src);
/* Quantile q in [0,1] (clamped) of the values added since `before` was copied from h (before NULL: since
 * init): the nearest-rank quantile (the ceil(q*n)-th smallest value, the smallest for q = 0) within the
 * relative error stated above. NaN when there are no such values, or q is NaN. */
double rtml_hist_quantile(const rtml_hist *h, const rtml_hist *before, double q);
uint64_t rtml_hist_count(const rtml_hist *h);
double rtml_hist_sum(const rtml_hist *h);

/* Appends the Prometheus text lines of this histogram to out:
 *     name_bucket{labels,le="0.005"} 12    (cumulative, one per bound, then le="+Inf" = the count)
 *     name_sum{labels} 0.0345
 *     name_count{labels} 12
 * labels: "" (no braces on _sum/_count) or e.g. `topic="a",partition="0"`, already escaped. No HELP/TYPE
 * lines: the caller writes those once per family. Numbers are the shortest text that reads back exactly;
 * infinities and NaN as +Inf, -Inf, NaN. */
void rtml_hist_prometheus(const rtml_hist *h, const char *name, const char *labels, rtml_buf *out);

/* Latency bounds in seconds, 0.0001 .. 10 in 1-2.5-5 steps (16 bounds). */
extern const double rtml_hist_latency_bounds[];
extern const size_t rtml_hist_latency_n;
/* Batch-size bounds in records, 1, 2, 4, ..., 4096 (13 bounds). */
extern const double rtml_hist_batch_bounds[];
extern const size_t rtml_hist_batch_n;

#endif
