/* fuzz_join.c — libFuzzer target for the checkpoint's pending-joins section (join.c's loader): a damaged or
 * foreign checkpoint reaches it after the file's CRC (a CRC only catches accidents).
 *
 * Each input is loaded into a store of a fixed shape. A load must fail cleanly (leaving an empty store) or
 * succeed; what loads must then take records and labels without a crash, and save to bytes that load back to
 * the same counts (the saver never writes what the loader refuses). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/join.h"
#include "base/rtml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const rtml_join_limits LIMITS = {.n_dense = 2, .n_outputs = 1, .ttl_ms = 1000, .wait_ms = 100,
                                        .max_pending = 64, .max_early = 16};

static void exercise(rtml_join *j) {
    double dense[2] = {1, 2}, val[1] = {3}, score = 0.5;
    uint32_t idx[1] = {4};
    rtml_row row = {.dense = dense, .idx = idx, .val = val, .nnz = 1};
    rtml_join_match m;
    for (uint64_t k = 0; k < 8; k++) {
        rtml_join_put_features(j, k, (int64_t)k * 10, &row, &score, &m);
        if (rtml_join_put_label(j, k * 3, (int64_t)k * 10 + 5, 1, &m) == RTML_JOIN_MATCHED &&
            (m.row.nnz > 1000000 || !m.scores))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rtml_join *j = rtml_join_new(&LIMITS);
    char err[RTML_ERRLEN];
    rtml_reader r = {data, size, 0, false};
    rtml_join_stats a, b;
    if (rtml_join_load(j, &r, err, sizeof err) != 0) {
        rtml_join_stats_get(j, &a);
        if (a.pending || a.early || a.marks) abort(); /* a refused section leaves nothing behind */
        rtml_join_free(j);
        return 0;
    }
    exercise(j);
    rtml_writer w = {RTML_BUF_INIT};
    rtml_join_save(j, &w);
    rtml_join *k = rtml_join_new(&LIMITS);
    rtml_reader again = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    if (rtml_join_load(k, &again, err, sizeof err) != 0) abort();
    rtml_join_stats_get(j, &a);
    rtml_join_stats_get(k, &b);
    if (a.pending != b.pending || a.early != b.early || a.marks != b.marks || a.joined != b.joined) abort();
    rtml_buf_free(&w.buf);
    rtml_join_free(j);
    rtml_join_free(k);
    return 0;
}
