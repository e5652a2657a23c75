/* fuzz_config.c — libFuzzer target for config.c: arbitrary bytes into rtml_config_parse.
 *
 * Beyond "no crash, no leak" (ASan/LSan), it checks the printer's promise: whatever parses, printed,
 * must parse again, and printing that must give the same text (print is a fixed point after one round). */
#include "config/config.h"
#include "base/rtml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print_to_string(const rtml_config *cfg, size_t *len) {
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        abort();
    rtml_config_print(cfg, f);
    fclose(f);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rtml_config cfg, back;
    char err[RTML_ERRLEN];
    size_t len, len2;
    if (rtml_config_parse("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof err) != 0)
        return 0;
    char *text = print_to_string(&cfg, &len);
    if (rtml_config_parse("printed.yaml", text, len, &back, err, sizeof err) != 0) {
        fprintf(stderr, "printed config does not parse: %s\n---\n%s---\n", err, text);
        abort();
    }
    char *again = print_to_string(&back, &len2);
    if (len != len2 || memcmp(text, again, len) != 0) {
        fprintf(stderr, "print is not stable:\n---\n%s---\n%s---\n", text, again);
        abort();
    }
    free(again);
    free(text);
    rtml_config_free(&back);
    rtml_config_free(&cfg);
    return 0;
}
