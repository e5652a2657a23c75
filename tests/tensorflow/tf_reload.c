/* tf_reload.c — hot reload of TensorFlow model versions, measured: `tf_reload BASE_DIR CONFIG N`.
 *
 * BASE_DIR holds version 1 of a SavedModel (TF Serving's layout). The program opens a pipeline on CONFIG
 * (whose model.tensorflow.saved_model is BASE_DIR, watched with a tiny reload_every), scores a batch, then N
 * times: publishes version k+1 (a copy of version 1, written as a writer should: into a hidden directory, then
 * renamed), scores batches until the pipeline reports version k+1, and checks that no record failed. It prints
 * the process's resident memory after each reload and fails when, after the first 10 reloads (TensorFlow's
 * one-time allocations), it grows by more than RTML_RELOAD_MAX_GROWTH_MB (default 30) over the rest.
 * Prints one JSON line: {"reloads":N,"rss_mb_after_10":...,"rss_mb_end":...,"failed_records":0}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "base/rtml.h"

static double rss_mb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    if (f) fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

/* Publish version v under base as a copy of version 1: into a hidden directory, then renamed into place. */
static int publish(const char *base, long v) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -r '%s/1' '%s/.new-%ld' && mv '%s/.new-%ld' '%s/%ld'", base, base, v, base, v, base, v);
    return system(cmd);
}

typedef struct {
    unsigned long ok, failed;
} counts;

static void count(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *prediction) {
    counts *c = ctx;
    if (why == RTML_REJECT_NONE && prediction && prediction->len) c->ok++;
    else c->failed++;
}

static void score_batch(rtml_pipeline *p, counts *c) {
    char detail[RTML_ERRLEN];
    const char *rec = "{\"x1\":0.1,\"x2\":-0.2,\"x3\":0.3,\"x4\":0.4}";
    int queued;
    for (int i = 0; i < 16; i++)
        if (rtml_pipeline_submit(p, rec, strlen(rec), NULL, 0, &queued, detail, sizeof detail) != RTML_REJECT_NONE)
            c->failed++;
    rtml_pipeline_flush(p, count, c);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: tf_reload BASE_DIR CONFIG N\n");
        return 2;
    }
    const char *base = argv[1];
    long n = strtol(argv[3], NULL, 10);
    const char *g = getenv("RTML_RELOAD_MAX_GROWTH_MB");
    double max_growth = g ? atof(g) : 30;
    char err[RTML_ERRLEN];
    rtml_config cfg;
    rtml_pipeline p;
    if (rtml_config_load(argv[2], &cfg, err, sizeof err) != 0 || rtml_pipeline_init(&p, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "tf_reload: %s\n", err);
        return 2;
    }
    counts c = {0, 0};
    score_batch(&p, &c);
    double after10 = 0, end = 0;
    int rc = 0;
    for (long k = 1; k <= n && rc == 0; k++) {
        long v = k + 1;
        if (publish(base, v) != 0) {
            fprintf(stderr, "tf_reload: cannot publish version %ld\n", v);
            rc = 1;
            break;
        }
        double deadline = rtml_now() + 30;
        while (p.engine->version != v && rtml_now() < deadline) score_batch(&p, &c);
        if (p.engine->version != v) {
            fprintf(stderr, "tf_reload: version %ld not loaded within 30 s (still %lld)\n", v, (long long)p.engine->version);
            rc = 1;
        }
        score_batch(&p, &c);
        end = rss_mb();
        if (k == 10) after10 = end;
        fprintf(stderr, "reload %ld: version %lld, rss %.1f MB\n", k, (long long)p.engine->version, end);
        if (k > 1) { /* keep the base small: the old versions are no longer needed */
            char cmd[8192];
            snprintf(cmd, sizeof cmd, "rm -rf '%s/%ld'", base, v - 1);
            if (system(cmd) != 0) rc = 1;
        }
    }
    printf("{\"reloads\":%ld,\"rss_mb_after_10\":%.1f,\"rss_mb_end\":%.1f,\"scored\":%lu,\"failed_records\":%lu}\n", n,
           after10, end, c.ok, c.failed);
    if (c.failed) {
        fprintf(stderr, "tf_reload: %lu records failed\n", c.failed);
        rc = 1;
    }
    if (n > 10 && end - after10 > max_growth) {
        fprintf(stderr, "tf_reload: resident memory grew %.1f MB over reloads 10..%ld (limit %.0f MB)\n", end - after10,
                n, max_growth);
        rc = 1;
    }
    rtml_pipeline_free(&p);
    rtml_config_free(&cfg);
    return rc;
}
