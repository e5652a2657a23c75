/* stats.h — running statistics that update in O(1) per value and never store the stream.
 *
 * rtml_welford: mean and variance by Welford's algorithm (numerically stable where the textbook
 * sum/sum-of-squares formula cancels catastrophically on large means). Used by the `standardize`
 * transform and by evaluation. Plain values: copy, embed, save as they are. */
#ifndef RTML_STATS_H
#define RTML_STATS_H
#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t n;
    double mean;
    double m2; /* sum of squared deviations from the running mean */
} rtml_welford;

static inline void rtml_welford_add(rtml_welford *w, double x) {
    w->n++;
    double d = x - w->mean;
    w->mean += d / (double)w->n;
    w->m2 += d * (x - w->mean);
}
/* Population variance (divides by n), 0 before two values. Inline: standardize calls it per value. */
static inline double rtml_welford_var(const rtml_welford *w) { return w->n < 2 ? 0.0 : w->m2 / (double)w->n; }
static inline double rtml_welford_std(const rtml_welford *w) { return sqrt(rtml_welford_var(w)); }

#endif
