/* aggregates.h — names and defaults of the aggregates section (aggregates.c). */
#ifndef RTML_CONFIG_AGGREGATES_H
#define RTML_CONFIG_AGGREGATES_H
#include "config/config.h"

/* "count", "sum", "mean", "min", "max", "std", "distinct", "last", "time_since_last". */
const char *rtml_agg_fn_name(rtml_agg_fn fn);
/* aggregates.ttl, or its default (7 days). */
double rtml_aggregates_ttl(const rtml_config *cfg);

/* The field the records must be re-keyed by before they are aggregated (the aggregates' key when it is not the
 * Kafka key and the input is not `partitioned`), or NULL: no repartition. */
const char *rtml_aggregates_repartition_key(const rtml_config *cfg);

#endif
