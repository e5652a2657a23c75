/* test_checkpoint.c — checkpoints of the pipeline and its positions (checkpoint.h):
 *   - a round trip restores the model, feature statistics, metrics, class names and positions exactly;
 *   - only the `keep` newest are kept; strays of interrupted writes are removed;
 *   - a corrupt, truncated or foreign newest file falls back to the one before; all of them bad is an error;
 *   - a checkpoint of another model is refused, not silently replaced;
 *   - a re-delivered record (origin.learned) is scored but changes nothing: model, statistics, metrics. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/checkpoint.h"
#include "check.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "base/rtml.h"

static const char *CONFIG =
    "features:\n"
    "  - {name: x1, field: /x1, transforms: [standardize]}\n"
    "  - {name: c, field: /c, transforms: [{one_hot: 8}]}\n"
    "label: {field: /label}\n"
    "model: {engine: native, type: TYPE, optimizer: {name: adam, learning_rate: 0.05}}\n";

static void config_of(const char *type, rtml_config *cfg) {
    char yaml[512], err[RTML_ERRLEN];
    const char *at = strstr(CONFIG, "TYPE");
    snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - CONFIG), CONFIG, type, at + 4);
    CHECK(rtml_config_parse("t.yaml", yaml, strlen(yaml), cfg, err, sizeof err) == 0);
}

static void feed(rtml_pipeline *p, int from, int to, int learned) {
    char rec[128], err[RTML_ERRLEN];
    for (int i = from; i < to; i++) {
        snprintf(rec, sizeof rec, "{\"x1\":%d.5,\"c\":\"k%d\",\"label\":%d}", i % 7, i % 5, (i % 7 + i % 3) > 4);
        rtml_origin o = {.topic = "in", .partition = i % 2, .offset = i, .learned = learned};
        rtml_pipeline_process(p, rec, strlen(rec), &o, NULL, err, sizeof err);
    }
}

static void make_dir(char *dir) { CHECK(mkdtemp(dir) != NULL); }

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') snprintf(path, sizeof path, "%s/%s", dir, e->d_name), unlink(path);
    if (d) closedir(d);
    rmdir(dir);
}

static void test_round_trip_and_keep(void) {
    char dir[] = "/tmp/rtml-ckpt-XXXXXX", err[RTML_ERRLEN];
    make_dir(dir);
    rtml_config cfg;
    config_of("logistic", &cfg);
    rtml_pipeline a, b;
    CHECK(rtml_pipeline_init(&a, &cfg, err, sizeof err) == 0 && rtml_pipeline_init(&b, &cfg, err, sizeof err) == 0);
    rtml_offsets oa, ob;
    rtml_offsets_init(&oa, 16), rtml_offsets_init(&ob, 16);
    feed(&a, 0, 300, 0);
    int in0 = rtml_offsets_slot(&oa, "in", 0), in1 = rtml_offsets_slot(&oa, "in", 1);
    oa.parts[in0].learn_next = 300;
    oa.parts[in1].learn_next = 299;
    rtml_offsets_slot(&oa, "other", 0); /* never learned from: no position */
    for (uint64_t seq = 1; seq <= 5; seq++) CHECK(rtml_ckpt_write(dir, &a, &oa, seq, 3, err, sizeof err) == 0);
    uint64_t *seqs;
    size_t n;
    CHECK(rtml_ckpt_list(dir, &seqs, &n) == 0);
    CHECK(n == 3 && seqs[0] == 5 && seqs[2] == 3); /* the 3 newest, newest first */
    free(seqs);
    char stray[600];
    snprintf(stray, sizeof stray, "%s/checkpoint-000000000006.rtml.tmp.123", dir);
    FILE *f = fopen(stray, "w");
    fputs("half a checkpoint", f), fclose(f);

    uint64_t seq = 0;
    CHECK(rtml_ckpt_restore(dir, &b, &ob, &seq, err, sizeof err) == 1);
    CHECK(seq == 5);
    CHECK(access(stray, F_OK) != 0); /* removed */
    CHECK(b.engine->learned == 300 && b.eval.n == a.eval.n && b.eval.correct == a.eval.correct);
    int s0 = rtml_offsets_find(&ob, "in", 0), s1 = rtml_offsets_find(&ob, "in", 1);
    CHECK(s0 >= 0 && s1 >= 0 && ob.parts[s0].learn_next == 300 && ob.parts[s1].learn_next == 299);
    CHECK(!ob.parts[s0].assigned);
    CHECK(rtml_offsets_find(&ob, "other", 0) < 0);
    feed(&a, 300, 400, 0);
    feed(&b, 300, 400, 0);
    CHECK(memcmp(a.scores, b.scores, sizeof(double)) == 0);
    CHECK(rtml_eval_accuracy(&a.eval) == rtml_eval_accuracy(&b.eval));
    CHECK(rtml_eval_window_auc(&a.eval) == rtml_eval_window_auc(&b.eval));

    rtml_buf desc = RTML_BUF_INIT;
    char path[600];
    rtml_ckpt_path(dir, 5, path, sizeof path);
    CHECK(rtml_ckpt_describe(path, &desc, err, sizeof err) == 0);
    CHECK(strstr(desc.data, "\"learned\":300") && strstr(desc.data, "\"positions\":{\"in/0\":300,\"in/1\":299}"));
    rtml_buf_free(&desc);
    rtml_offsets_free(&oa), rtml_offsets_free(&ob);
    rtml_pipeline_free(&a), rtml_pipeline_free(&b);
    rtml_config_free(&cfg);
    remove_dir(dir);
}

/* Overwrite checkpoint seq with damaged bytes: how = 0 flipped bit, 1 truncated, 2 foreign, 3 empty. */
static void damage(const char *dir, uint64_t seq, int how) {
    char path[600];
    rtml_ckpt_path(dir, seq, path, sizeof path);
    rtml_buf img;
    char err[RTML_ERRLEN];
    CHECK(rtml_state_read_file(path, &img, err, sizeof err) == 0);
    if (how == 0) img.data[img.len / 2] ^= 4;
    if (how == 1) img.len /= 2;
    if (how == 2) memcpy(img.data, "PK\3\4zipfile", 11);
    if (how == 3) img.len = 0;
    FILE *f = fopen(path, "wb");
    fwrite(img.data, 1, img.len, f);
    fclose(f);
    rtml_buf_free(&img);
}

static void test_fallback(void) {
    static const char *const what[] = {"flipped bit", "truncated", "foreign", "empty"};
    for (int how = 0; how < 4; how++) {
        char dir[] = "/tmp/rtml-ckpt-XXXXXX", err[RTML_ERRLEN];
        make_dir(dir);
        rtml_config cfg;
        config_of("logistic", &cfg);
        rtml_pipeline a, b;
        CHECK(rtml_pipeline_init(&a, &cfg, err, sizeof err) == 0);
        rtml_offsets oa, ob;
        rtml_offsets_init(&oa, 16), rtml_offsets_init(&ob, 16);
        int s = rtml_offsets_slot(&oa, "in", 0);
        feed(&a, 0, 100, 0);
        oa.parts[s].learn_next = 100;
        CHECK(rtml_ckpt_write(dir, &a, &oa, 1, 3, err, sizeof err) == 0);
        feed(&a, 100, 200, 0);
        oa.parts[s].learn_next = 200;
        CHECK(rtml_ckpt_write(dir, &a, &oa, 2, 3, err, sizeof err) == 0);
        damage(dir, 2, how);
        CHECK(rtml_pipeline_init(&b, &cfg, err, sizeof err) == 0);
        uint64_t seq = 0;
        int rc = rtml_ckpt_restore(dir, &b, &ob, &seq, err, sizeof err);
        CHECK(rc == 1 && seq == 1); /* the one before */
        CHECK(b.engine->learned == 100 && ob.parts[rtml_offsets_find(&ob, "in", 0)].learn_next == 100);
        if (rc != 1) fprintf(stderr, "  %s: %s\n", what[how], err);
        rtml_pipeline_free(&b);
        /* both bad: an error naming the directory, not a silent fresh start */
        damage(dir, 1, how);
        CHECK(rtml_pipeline_init(&b, &cfg, err, sizeof err) == 0);
        CHECK(rtml_ckpt_restore(dir, &b, &ob, &seq, err, sizeof err) == -1);
        CHECK(strstr(err, "none of the 2 checkpoint(s)") && strstr(err, dir));
        rtml_pipeline_free(&b);
        rtml_offsets_free(&oa), rtml_offsets_free(&ob);
        rtml_pipeline_free(&a);
        rtml_config_free(&cfg);
        remove_dir(dir);
    }
}

static void test_other_model_refused_and_empty_dir(void) {
    char dir[] = "/tmp/rtml-ckpt-XXXXXX", err[RTML_ERRLEN];
    make_dir(dir);
    rtml_config c1, c2;
    config_of("logistic", &c1);
    config_of("ftrl", &c2);
    rtml_pipeline a, b;
    rtml_offsets o;
    rtml_offsets_init(&o, 16);
    CHECK(rtml_pipeline_init(&a, &c1, err, sizeof err) == 0 && rtml_pipeline_init(&b, &c2, err, sizeof err) == 0);
    uint64_t seq = 0;
    CHECK(rtml_ckpt_restore(dir, &b, &o, &seq, err, sizeof err) == 0); /* nothing there: a fresh start */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/not/yet", dir);
    CHECK(rtml_ckpt_restore(missing, &b, &o, &seq, err, sizeof err) == 0);
    CHECK(rtml_ckpt_write(missing, &a, &o, 1, 3, err, sizeof err) == 0); /* created on first write */
    CHECK(rtml_ckpt_restore(missing, &b, &o, &seq, err, sizeof err) == -1);
    CHECK(strstr(err, "does not fit this config") && strstr(err, "holds a native/logistic model"));
    rtml_offsets_free(&o);
    rtml_pipeline_free(&a), rtml_pipeline_free(&b);
    rtml_config_free(&c1), rtml_config_free(&c2);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/not", dir);
    remove_dir(missing), remove_dir(sub), remove_dir(dir);
}

/* Re-delivered records (already in the model) are scored, but learned, evaluated and counted in statistics
 * never again: the model after them is bit-identical to the model before. */
static void test_redelivered_changes_nothing(void) {
    char err[RTML_ERRLEN];
    rtml_config cfg;
    config_of("logistic", &cfg);
    rtml_pipeline a;
    CHECK(rtml_pipeline_init(&a, &cfg, err, sizeof err) == 0);
    feed(&a, 0, 200, 0);
    rtml_buf before = RTML_BUF_INIT, after = RTML_BUF_INIT;
    rtml_pipeline_save(&a, NULL, 0, &before);
    uint64_t predicted = a.predicted;
    feed(&a, 150, 260, 1); /* includes new categories k0..k4 already seen, and values that would move stats */
    rtml_pipeline_save(&a, NULL, 0, &after);
    CHECK(before.len == after.len && memcmp(before.data, after.data, before.len) == 0);
    CHECK(a.predicted == predicted + 110 && a.redelivered == 110);
    rtml_buf_free(&before), rtml_buf_free(&after);
    rtml_pipeline_free(&a);
    rtml_config_free(&cfg);
}

int main(void) {
    test_round_trip_and_keep();
    test_fallback();
    test_other_model_refused_and_empty_dir();
    test_redelivered_changes_nothing();
    return check_exit("test_checkpoint");
}
