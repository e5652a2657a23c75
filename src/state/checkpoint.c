/* checkpoint.c — numbered, atomic, checksummed checkpoints of the pipeline and its positions (checkpoint.h). */
#include "state/checkpoint.h"

#include "pipeline/join.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/json_write.h"
#include "base/binfmt.h"
#include "base/clock.h"
#include "codec/json.h"
#include "base/log.h"
#include "base/rtml.h"
#include "pipeline/labels.h"

#define PREFIX "checkpoint-"
#define SUFFIX ".rtml"

void rtml_ckpt_path(const char *dir, uint64_t seq, char *out, size_t len) {
    snprintf(out, len, "%s/" PREFIX "%012" PRIu64 SUFFIX, dir, seq);
}

/* "checkpoint-000000000012.rtml" -> 12; 0 for any other name (sequence numbers start at 1). */
static uint64_t seq_of(const char *name) {
    size_t pl = strlen(PREFIX), sl = strlen(SUFFIX), n = strlen(name);
    if (n != pl + 12 + sl || strncmp(name, PREFIX, pl) != 0 || strcmp(name + pl + 12, SUFFIX) != 0) return 0;
    uint64_t v = 0;
    for (size_t i = pl; i < pl + 12; i++) {
        if (name[i] < '0' || name[i] > '9') return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    return v;
}

static int desc(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int rtml_ckpt_list(const char *dir, uint64_t **seqs, size_t *n) {
    *seqs = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t s = seq_of(e->d_name);
        if (!s) continue;
        if (*n == cap) {
            uint64_t *grown = realloc(*seqs, (cap = cap ? 2 * cap : 8) * sizeof **seqs);
            if (!grown) {
                closedir(d);
                free(*seqs), *seqs = NULL, *n = 0;
                return -1;
            }
            *seqs = grown;
        }
        (*seqs)[(*n)++] = s;
    }
    closedir(d);
    if (*n > 1) qsort(*seqs, *n, sizeof **seqs, desc);
    return 0;
}

/* A temporary file of a write that a crash interrupted ("checkpoint-N.rtml.tmp.PID"): never a checkpoint. */
static void remove_strays(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0 || !strstr(e->d_name, SUFFIX ".tmp.")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) rtml_log(RTML_LOG_INFO, "removed %s, left by an interrupted checkpoint", path);
    }
    closedir(d);
}

/* ---- the lock ---------------------------------------------------------------------------------------- */

int rtml_ckpt_lock(const char *dir, char *err, size_t errlen) {
    if (rtml_mkdirs(dir, err, errlen) != 0) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return rtml_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return rtml_fail(err, errlen, "%s is in use by another rtml (pid %s); each instance needs its own state.dir",
                         dir, pid[0] ? pid : "unknown");
    }
    char mine[32];
    int n = snprintf(mine, sizeof mine, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, mine, (size_t)n, 0) != n)
        rtml_log(RTML_LOG_WARN, "cannot write the pid into %s: %s", path, strerror(errno));
    return fd;
}

/* ---- write ------------------------------------------------------------------------------------------- */

static void encode_positions(const rtml_offsets *o, rtml_writer *w) {
    uint32_t n = 0;
    for (size_t i = 0; i < o->n; i++) n += o->parts[i].learn_next >= 0;
    rtml_w_u32(w, n);
    for (size_t i = 0; i < o->n; i++) {
        const rtml_partition_track *t = &o->parts[i];
        if (t->learn_next < 0) continue;
        rtml_w_str(w, t->topic, strlen(t->topic));
        rtml_w_u32(w, (uint32_t)t->partition);
        rtml_w_u64(w, (uint64_t)t->learn_next);
    }
}

/* A checkpoint's image; with_joins adds the pending joins (label.topic), which a published model version leaves
 * out: they belong to this instance's positions, and may be large. */
static void build_image(const rtml_pipeline *p, const rtml_offsets *o, uint64_t seq, bool with_joins,
                        rtml_buf *image) {
    rtml_section extra[3] = {{"positions", {RTML_BUF_INIT}}, {"meta", {RTML_BUF_INIT}}, {"joins", {RTML_BUF_INIT}}};
    encode_positions(o, &extra[0].payload);
    rtml_w_u64(&extra[1].payload, seq);
    rtml_w_f64(&extra[1].payload, rtml_wall_time());
    rtml_w_str(&extra[1].payload, RTML_VERSION, strlen(RTML_VERSION));
    size_t n = 2;
    if (with_joins && p->join) rtml_pipeline_joins_save(p, &extra[n++].payload);
    rtml_pipeline_save(p, extra, n, image);
    for (size_t i = 0; i < 3; i++) rtml_buf_free(&extra[i].payload.buf);
}

void rtml_ckpt_image(const rtml_pipeline *p, const rtml_offsets *o, uint64_t seq, rtml_buf *image) {
    build_image(p, o, seq, false, image);
}

int rtml_ckpt_write(const char *dir, const rtml_pipeline *p, const rtml_offsets *o, uint64_t seq, unsigned keep,
                    char *err, size_t errlen) {
    if (rtml_mkdirs(dir, err, errlen) != 0) return -1;
    rtml_buf image = RTML_BUF_INIT;
    build_image(p, o, seq, true, &image);
    char path[4096];
    rtml_ckpt_path(dir, seq, path, sizeof path);
    int rc = rtml_state_write_file(path, &image, err, errlen);
    rtml_buf_free(&image);
    if (rc != 0) return -1;
    uint64_t *seqs;
    size_t n;
    if (rtml_ckpt_list(dir, &seqs, &n) == 0) {
        for (size_t i = keep ? keep : 1; i < n; i++) {
            rtml_ckpt_path(dir, seqs[i], path, sizeof path);
            if (unlink(path) != 0) rtml_log(RTML_LOG_WARN, "cannot remove old checkpoint %s: %s", path, strerror(errno));
        }
        free(seqs);
    }
    return 0;
}

/* ---- restore ----------------------------------------------------------------------------------------- */

static int decode_positions(const void *image, size_t len, rtml_offsets *o, char *err, size_t errlen) {
    rtml_reader r;
    if (!rtml_state_section(image, len, "positions", &r)) return rtml_fail(err, errlen, "no positions section");
    uint32_t n = rtml_r_u32(&r);
    for (uint32_t i = 0; i < n && !r.failed; i++) {
        size_t tl;
        const char *topic = rtml_r_str(&r, &tl);
        int32_t partition = (int32_t)rtml_r_u32(&r);
        int64_t next = (int64_t)rtml_r_u64(&r);
        if (!topic || r.failed || next < 0 || tl == 0 || tl > 255) break;
        char name[256];
        memcpy(name, topic, tl), name[tl] = '\0';
        int slot = rtml_offsets_known(o, name, partition);
        if (slot < 0) return rtml_fail(err, errlen, "out of memory");
        o->parts[slot].learn_next = next;
    }
    return r.failed || r.pos != r.len ? rtml_fail(err, errlen, "positions section is malformed") : 0;
}

int rtml_ckpt_load_image(const void *image, size_t len, rtml_pipeline *p, rtml_offsets *o, char *err,
                         size_t errlen) {
    if (rtml_pipeline_load(p, image, len, err, errlen) != 0) return -1;
    rtml_reader jr;
    if (p->join && rtml_state_section(image, len, "joins", &jr) && rtml_pipeline_joins_load(p, &jr, err, errlen) != 0)
        return -1;
    return decode_positions(image, len, o, err, errlen);
}

int rtml_ckpt_restore(const char *dir, rtml_pipeline *p, rtml_offsets *o, uint64_t *seq, char *err, size_t errlen) {
    remove_strays(dir);
    uint64_t *seqs;
    size_t n;
    if (rtml_ckpt_list(dir, &seqs, &n) != 0) return rtml_fail(err, errlen, "cannot read %s: %s", dir, strerror(errno));
    int rc = 0;
    char path[4096], why[RTML_ERRLEN];
    for (size_t i = 0; i < n && rc == 0; i++) {
        rtml_ckpt_path(dir, seqs[i], path, sizeof path);
        rtml_buf image;
        if (rtml_state_read_file(path, &image, why, sizeof why) != 0) {
            rtml_log(RTML_LOG_WARN, "checkpoint %s skipped: %s", path, why);
            continue;
        }
        if (rtml_state_check(image.data, image.len, why, sizeof why) != 0) {
            rtml_log(RTML_LOG_WARN, "checkpoint %s skipped (%s); falling back to the one before", path, why);
            rtml_buf_free(&image);
            continue;
        }
        /* A checksummed file that does not fit is another model's: refuse rather than start afresh. */
        if (rtml_ckpt_load_image(image.data, image.len, p, o, why, sizeof why) != 0) {
            rtml_fail(err, errlen, "%s does not fit this config: %s (move it away, or set another state.dir)", path, why);
            rc = -1;
        } else {
            *seq = seqs[i];
            rc = 1;
        }
        rtml_buf_free(&image);
    }
    if (rc == 0 && n > 0) {
        rtml_fail(err, errlen, "none of the %zu checkpoint(s) in %s is valid (see the warnings); move them away to "
                  "start afresh", n, dir);
        rc = -1;
    }
    free(seqs);
    return rc;
}

/* ---- describe ---------------------------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

static void describe_positions(rtml_reader *r, rtml_buf *out) {
    uint32_t n = rtml_r_u32(r);
    rtml_buf_puts(out, ",\"positions\":{");
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        size_t tl;
        const char *topic = rtml_r_str(r, &tl);
        uint32_t part = rtml_r_u32(r);
        uint64_t next = rtml_r_u64(r);
        if (!topic || r->failed) break;
        char key[300];
        int kl = snprintf(key, sizeof key, "%.*s/%u", (int)(tl < 255 ? tl : 255), topic, part);
        if (i) rtml_buf_putc(out, ',');
        rtml_json_put_string(out, key, (size_t)kl);
        rtml_buf_printf(out, ":%" PRIu64, next);
    }
    rtml_buf_putc(out, '}');
}

int rtml_ckpt_describe(const char *path, rtml_buf *out, char *err, size_t errlen) {
    rtml_buf image;
    if (rtml_state_read_file(path, &image, err, errlen) != 0) return -1;
    rtml_reader meta, model, features, pos;
    if (rtml_state_check(image.data, image.len, err, errlen) != 0 ||
        !rtml_state_section(image.data, image.len, "meta", &meta) ||
        !rtml_state_section(image.data, image.len, "model", &model) ||
        !rtml_state_section(image.data, image.len, "features", &features) ||
        !rtml_state_section(image.data, image.len, "positions", &pos)) {
        if (image.len && !err[0]) rtml_fail(err, errlen, "not an rtml checkpoint (sections missing)");
        rtml_buf_free(&image);
        return -1;
    }
    uint64_t h = fnv1a(UINT64_C(14695981039346656037), model.p, model.len);
    h = fnv1a(h, features.p, features.len);
    uint64_t seq = rtml_r_u64(&meta);
    double at = rtml_r_f64(&meta);
    size_t el;
    const char *engine = rtml_r_str(&model, &el);
    uint64_t learned = rtml_r_u64(&model);
    rtml_buf_puts(out, "{\"path\":");
    rtml_json_put_string(out, path, strlen(path));
    rtml_buf_printf(out, ",\"seq\":%" PRIu64 ",\"written_at\":", seq);
    rtml_buf_put_double(out, at);
    rtml_buf_puts(out, ",\"engine\":");
    rtml_json_put_string(out, engine ? engine : "", engine ? el : 0);
    rtml_buf_printf(out, ",\"learned\":%" PRIu64, learned);
    describe_positions(&pos, out);
    rtml_reader joins;
    if (rtml_state_section(image.data, image.len, "joins", &joins)) {
        rtml_join_stats js;
        if (rtml_join_peek(&joins, &js) == 0)
            rtml_buf_printf(out, ",\"joins\":{\"pending\":%zu,\"waiting\":%zu,\"joined\":%" PRIu64 "}", js.pending,
                            js.early, js.joined);
    }
    rtml_buf_printf(out, ",\"digest\":\"%016" PRIx64 "\"}", h);
    rtml_buf_free(&image);
    return 0;
}
