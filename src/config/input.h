/* input.h — the name of a record format (config.h's rtml_format) as input.format and output.format write it. */
#ifndef RTML_CONFIG_INPUT_H
#define RTML_CONFIG_INPUT_H
#include "config/config.h"

/* "json", "csv", "avro", "protobuf". */
const char *rtml_format_name(rtml_format f);

#endif
