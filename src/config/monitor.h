/* monitor.h — names from the monitor, drift and log sections (monitor.c): a drift action's name. */
#ifndef RTML_CONFIG_MONITOR_H
#define RTML_CONFIG_MONITOR_H
#include "config/config.h"

const char *rtml_drift_action_name(rtml_drift_action a); /* "alert", "reset", "rollback" */

#endif
