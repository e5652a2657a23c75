/* features.h — the names of the transform kinds (config.h's rtml_transform_kind), as the config writes them. */
#ifndef RTML_CONFIG_FEATURES_H
#define RTML_CONFIG_FEATURES_H
#include "config/config.h"

/* "standardize", "clip", ... (both impute kinds: "impute"). */
const char *rtml_transform_name(rtml_transform_kind k);

#endif
