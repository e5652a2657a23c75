/* fuzz_http.c — libFuzzer target for the HTTP response parser of `rtml top` (http_client.c), which reads
 * whatever the server at --url sends: status line, headers, Content-Length and chunked bodies. Each input
 * is parsed as a response the peer closed after and as one still open; either way it must be complete (1),
 * incomplete (0) or refused (-1) cleanly, and a complete one's body must be NUL-terminated at its length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/http_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int at_eof = 0; at_eof <= 1; at_eof++) {
        rtml_http_response r = {0};
        char err[256];
        int rc = rtml_http_parse_response((const char *)data, size, at_eof, &r, err, sizeof err);
        if (rc == 1) { /* complete: a status and a NUL-terminated body of the length it says */
            if (!r.body) abort();
            if (r.body[r.len] != '\0') abort(); /* the body is NUL-terminated */
            if (r.status < 100 || r.status > 999) abort();
        } else if (rc != 0 && rc != -1) {
            abort();
        }
        rtml_http_response_free(&r);
    }
    return 0;
}
