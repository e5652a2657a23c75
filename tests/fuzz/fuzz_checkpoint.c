/* fuzz_checkpoint.c — libFuzzer target for checkpoint files (checkpoint.c, binfmt.c and every section loader:
 * features, model, eval, classes, drift, aggregates, positions).
 *
 * A mutated file nearly always fails its CRC-32 first, which would keep the fuzzer out of the section
 * decoders; so each input is tried twice: as it is, and with its last four bytes replaced by the right
 * checksum. Either way a load must fail cleanly or succeed, never crash, leak or read out of bounds. The
 * pipeline is a fresh one each time (a failed load leaves it half-loaded, by contract). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/binfmt.h"
#include "state/checkpoint.h"
#include "config/config.h"
#include "base/rtml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
    "aggregates:\n"
    "  time: /t\n"
    "  lateness: 5s\n"
    "  max_events: 8\n"
    "  list:\n"
    "    - {name: n, key: /c, fn: count, window: 1m}\n"
    "    - {name: m, key: /c, field: /x1, fn: mean, half_life: 30s}\n"
    "    - {name: d, key: /c, field: /x1, fn: distinct, window: 1m}\n"
    "    - {name: l, key: /c, field: /x1, fn: last}\n"
    "features:\n"
    "  - {name: x1, field: /x1, transforms: [standardize, {clip: [-3, 3]}]}\n"
    "  - {name: c, field: /c, transforms: [{one_hot: 8}]}\n"
    "  - {name: n, aggregate: n}\n"
    "  - {name: m, aggregate: m, transforms: [{impute: 0}]}\n"
    "  - {name: d, aggregate: d}\n"
    "  - {name: l, aggregate: l, transforms: [{impute: 0}]}\n"
    "label: {field: /label}\n"
    "model: {engine: native, type: softmax, classes: 3, optimizer: {name: adam, learning_rate: 0.05}}\n"
    "drift: {detector: adwin}\n";

static void try_load(const uint8_t *data, size_t size) {
    rtml_config cfg;
    rtml_pipeline p;
    rtml_offsets o;
    char err[RTML_ERRLEN];
    if (rtml_config_parse("fuzz.yaml", CONFIG, sizeof CONFIG - 1, &cfg, err, sizeof err) != 0) abort();
    if (rtml_pipeline_init(&p, &cfg, err, sizeof err) != 0) abort();
    rtml_offsets_init(&o, 4);
    if (rtml_ckpt_load_image(data, size, &p, &o, err, sizeof err) == 0) {
        const char *rec = "{\"x1\":1.5,\"c\":\"a\",\"t\":1700000000,\"label\":2}";
        rtml_pipeline_process(&p, rec, strlen(rec), NULL, NULL, err, sizeof err); /* a loaded model must work */
    }
    rtml_offsets_free(&o);
    rtml_pipeline_free(&p);
    rtml_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try_load(data, size);
    if (size < 16) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    uint32_t crc = rtml_crc32(0, fixed, size - 4);
    for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    try_load(fixed, size);
    free(fixed);
    return 0;
}
