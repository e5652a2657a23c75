/* fuzz_oip.c — libFuzzer target for the serve endpoint's request parser (serve/oip.c), which reads whatever a
 * client POSTs to /v2/models/NAME/infer. The first byte picks how the rest is read: all JSON, or split into a
 * JSON header and binary tensor data (Triton's extension) at a length taken from the second byte; each body is
 * parsed under two sets of limits. A request must be accepted whole (its records and features within the body,
 * counted as its shape says) or refused with 400, 413 or 500 and a reason; never a crash, a leak or a read past
 * the body (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/oip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_one(const char *body, size_t len, long header_len, const rtml_oip_limits *lim) {
    rtml_oip_request r;
    char err[512] = "";
    int st = rtml_oip_parse(body, len, header_len, lim, &r, err, sizeof err);
    if (st != 0 && st != 400 && st != 413 && st != 500) abort();
    if (st != 0 && !err[0]) abort(); /* every refusal says why */
    if (st == 0) {
        if (r.n == 0 || r.n > lim->max_records) abort();
        for (size_t i = 0; r.kind == RTML_OIP_RECORDS && i < r.n; i++)
            if (r.records[i].len && !r.records[i].data) abort();
        volatile double sum = 0;
        for (size_t i = 0; r.kind == RTML_OIP_FEATURES && i < r.n * r.width; i++) sum += r.x[i]; /* all readable */
        (void)sum;
        if (r.kind == RTML_OIP_FEATURES && r.width != lim->n_inputs) abort();
    }
    rtml_oip_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    char *body = malloc(size - 2 + 1);
    if (!body) return 0;
    memcpy(body, data + 2, size - 2);
    body[size - 2] = '\0';
    long header_len = data[0] & 1 ? (long)(data[1] * 4) : -1;
    static const rtml_oip_limits small = {5, 3}, wide = {1000, 64};
    parse_one(body, size - 2, header_len, &small);
    parse_one(body, size - 2, header_len, &wide);
    free(body);
    return 0;
}
