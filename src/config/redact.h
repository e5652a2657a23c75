/* redact.h — which configuration keys carry secrets (a password, a private key, a token), so that whatever shows
 * the configuration (`rtml check`, logs, the monitor's /model) prints "[redacted]" instead (redact.c: the rule and
 * why). */
#ifndef RTML_CONFIG_REDACT_H
#define RTML_CONFIG_REDACT_H
#include <stdbool.h>

bool rtml_config_is_secret(const char *key);

#endif
