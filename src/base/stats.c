/* stats.c — running statistics (see stats.h). */
#include "base/stats.h"
#include <math.h>

double rtml_welford_var(const rtml_welford *w) { return w->n < 2 ? 0.0 : w->m2 / (double)w->n; }

double rtml_welford_std(const rtml_welford *w) { return sqrt(rtml_welford_var(w)); }
