/* aggregates.h — names and defaults of the aggregates section (aggregates.c). */
#ifndef RTML_CONFIG_AGGREGATES_H
#define RTML_CONFIG_AGGREGATES_H
#include "config/config.h"

/* "count", "sum", "mean", "min", "max", "std", "distinct", "last", "time_since_last". */
const char *rtml_agg_fn_name(rtml_agg_fn fn);
/* aggregates.ttl, or its default (7 days). */
double rtml_aggregates_ttl(const rtml_config *cfg);

#endif
