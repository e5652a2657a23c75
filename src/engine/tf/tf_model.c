/* tf_model.c — load a SavedModel into a TF session, read its signatures, export its variables as a new
 * version (see tf_model.h). */
#include "engine/tf/tf_model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/binfmt.h"
#include "base/log.h"

#include "base/rtml.h"

#define EXPORT_MARKER "rtml-export" /* in a version directory rtml wrote (pruning touches only those) */

/* A path into dst; -1 when it does not fit (then whatever uses dst fails on a cut name, never overflows). */
__attribute__((format(printf, 3, 4)))
static int pathf(char *dst, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, len, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

int rtml_tf_is_saved_model(const char *dir) {
    char path[4096];
    struct stat st;
    pathf(path, sizeof path, "%s/saved_model.pb", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ConfigProto with the two thread pool sizes: intra_op_parallelism_threads = 2, inter_op = 5, int32 varints
 * (a negative value is sign-extended to ten bytes, as protobuf writes it). */
static size_t thread_config(uint8_t *buf, long intra, long inter) {
    size_t n = 0;
    long fields[2][2] = {{0x10, intra}, {0x28, inter}};
    for (int f = 0; f < 2; f++) {
        buf[n++] = (uint8_t)fields[f][0];
        for (uint64_t v = (uint64_t)(int64_t)fields[f][1];; v >>= 7) {
            buf[n++] = (uint8_t)((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
    }
    return n;
}

rtml_tf_model *rtml_tf_model_load(const char *dir, int64_t version, size_t intra_threads, long inter_threads,
                                  char *err, size_t errlen) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rtml_fail(err, errlen, "SavedModel directory %s: %s", dir, stat(dir, &st) != 0 ? strerror(errno) : "not a directory");
        return NULL;
    }
    if (!rtml_tf_is_saved_model(dir)) {
        rtml_fail(err, errlen, "SavedModel directory %s has no saved_model.pb (a base directory needs numbered "
                               "version directories such as %s/1)", dir, dir);
        return NULL;
    }
    rtml_tf_model *m = calloc(1, sizeof *m);
    TF_Status *status = TF_NewStatus();
    TF_SessionOptions *opts = TF_NewSessionOptions();
    TF_Buffer *meta = TF_NewBuffer();
    uint8_t proto[32];
    size_t plen = thread_config(proto, (long)intra_threads, inter_threads);
    if (!m || !(m->dir = strdup(dir))) goto oom;
    m->version = version;
    TF_SetConfig(opts, proto, plen, status);
    if (TF_GetCode(status) != TF_OK) {
        rtml_fail(err, errlen, "TensorFlow thread settings: %s", TF_Message(status));
        goto fail;
    }
    m->graph = TF_NewGraph();
    const char *tags[] = {"serve"};
    m->session = TF_LoadSessionFromSavedModel(opts, NULL, dir, tags, 1, m->graph, meta, status);
    if (TF_GetCode(status) != TF_OK) {
        rtml_fail(err, errlen, "cannot load the SavedModel in %s (tag serve): %s", dir, TF_Message(status));
        m->session = NULL;
        goto fail;
    }
    char why[RTML_ERRLEN];
    if (!(m->meta = rtml_tf_meta_parse(meta->data, meta->length, why, sizeof why))) {
        rtml_fail(err, errlen, "SavedModel %s: cannot read its MetaGraphDef: %s", dir, why);
        goto fail;
    }
    TF_DeleteBuffer(meta);
    TF_DeleteSessionOptions(opts);
    TF_DeleteStatus(status);
    return m;
oom:
    rtml_fail(err, errlen, "out of memory");
fail:
    TF_DeleteBuffer(meta);
    TF_DeleteSessionOptions(opts);
    TF_DeleteStatus(status);
    rtml_tf_model_free(m);
    return NULL;
}

void rtml_tf_model_free(rtml_tf_model *m) {
    if (!m) return;
    if (m->session) {
        TF_Status *status = TF_NewStatus();
        TF_CloseSession(m->session, status);
        TF_DeleteSession(m->session, status);
        TF_DeleteStatus(status);
    }
    if (m->graph) TF_DeleteGraph(m->graph);
    rtml_tf_meta_free(m->meta);
    free(m->dir);
    free(m);
}

int rtml_tf_model_endpoint(const rtml_tf_model *m, const char *tensor, TF_Output *out, char *err, size_t errlen) {
    char op[1024];
    const char *colon = strrchr(tensor, ':');
    size_t len = colon ? (size_t)(colon - tensor) : strlen(tensor);
    long index = 0;
    if (colon) {
        char *end;
        index = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || index < 0) return rtml_fail(err, errlen, "bad tensor name '%s'", tensor);
    }
    if (len >= sizeof op) return rtml_fail(err, errlen, "tensor name too long: '%.60s...'", tensor);
    memcpy(op, tensor, len);
    op[len] = '\0';
    TF_Operation *oper = TF_GraphOperationByName(m->graph, op);
    if (!oper) return rtml_fail(err, errlen, "the graph has no operation '%s' (tensor %s)", op, tensor);
    if (index >= TF_OperationNumOutputs(oper))
        return rtml_fail(err, errlen, "operation '%s' has no output %ld", op, index);
    *out = (TF_Output){oper, (int)index};
    return 0;
}

/* ---- export --------------------------------------------------------------------------------------- */

static int fsync_path(const char *path, int directory) {
    int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Copy a regular file, fsynced. */
static int copy_file(const char *from, const char *to, char *err, size_t errlen) {
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
    if (rc == 0 && (ferror(in) || fflush(out) != 0 || fsync(fileno(out)) != 0)) rc = -1;
    int saved = errno;
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    if (rc != 0) return rtml_fail(err, errlen, "copying %s to %s: %s", from, to, strerror(saved ? saved : EIO));
    return 0;
}

/* Copy the regular files of one directory level (assets/ is flat in the SavedModels we meet). */
static int copy_dir_files(const char *from, const char *to, char *err, size_t errlen) {
    DIR *d = opendir(from);
    if (!d) return errno == ENOENT ? 0 : rtml_fail(err, errlen, "reading %s: %s", from, strerror(errno));
    if (mkdir(to, 0755) != 0) {
        closedir(d);
        return rtml_fail(err, errlen, "creating %s: %s", to, strerror(errno));
    }
    struct dirent *e;
    int rc = 0;
    char a[4096], b[4096];
    struct stat st;
    while (rc == 0 && (e = readdir(d))) {
        pathf(a, sizeof a, "%s/%s", from, e->d_name);
        pathf(b, sizeof b, "%s/%s", to, e->d_name);
        if (stat(a, &st) == 0 && S_ISREG(st.st_mode)) rc = copy_file(a, b, err, errlen);
    }
    closedir(d);
    return rc;
}

/* Remove a directory tree we built (two levels at most: the version, and variables/ or assets/). */
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    struct stat st;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        pathf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Run the saver: feed the checkpoint prefix to filename_tensor_name, fetch save_tensor_name. */
static int run_saver(const rtml_tf_model *m, const char *prefix, char *err, size_t errlen) {
    const rtml_tf_meta *meta = m->meta;
    if (!meta->has_saver || !meta->saver_filename || !meta->saver_save)
        return rtml_fail(err, errlen, "SavedModel %s has no saver_def: its variables cannot be saved", m->dir);
    TF_Output feed, fetch;
    if (rtml_tf_model_endpoint(m, meta->saver_filename, &feed, err, errlen) != 0 ||
        rtml_tf_model_endpoint(m, meta->saver_save, &fetch, err, errlen) != 0)
        return -1;
    TF_Tensor *name = TF_AllocateTensor(TF_STRING, NULL, 0, sizeof(TF_TString));
    TF_TString *s = TF_TensorData(name);
    TF_StringInit(s);
    TF_StringCopy(s, prefix, strlen(prefix));
    TF_Tensor *out = NULL;
    TF_Status *status = TF_NewStatus();
    TF_SessionRun(m->session, NULL, &feed, &name, 1, &fetch, &out, 1, NULL, 0, NULL, status);
    int rc = TF_GetCode(status) == TF_OK ? 0 : rtml_fail(err, errlen, "saving variables: %s", TF_Message(status));
    TF_StringDealloc(s);
    TF_DeleteTensor(name);
    if (out) TF_DeleteTensor(out);
    TF_DeleteStatus(status);
    return rc;
}

int rtml_tf_snapshot(const rtml_tf_model *m, const char *prefix, char *err, size_t errlen) {
    return run_saver(m, prefix, err, errlen);
}

int rtml_tf_restore(const rtml_tf_model *m, const char *prefix, char *err, size_t errlen) {
    const rtml_tf_meta *meta = m->meta;
    if (!meta->has_saver || !meta->saver_filename || !meta->saver_restore)
        return rtml_fail(err, errlen, "SavedModel %s has no saver_def restore op", m->dir);
    TF_Output feed;
    if (rtml_tf_model_endpoint(m, meta->saver_filename, &feed, err, errlen) != 0) return -1;
    TF_Operation *restore = TF_GraphOperationByName(m->graph, meta->saver_restore);
    if (!restore) return rtml_fail(err, errlen, "the graph has no restore operation '%s'", meta->saver_restore);
    TF_Tensor *name = TF_AllocateTensor(TF_STRING, NULL, 0, sizeof(TF_TString));
    TF_TString *s = TF_TensorData(name);
    TF_StringInit(s);
    TF_StringCopy(s, prefix, strlen(prefix));
    TF_Status *status = TF_NewStatus();
    const TF_Operation *targets[1] = {restore};
    TF_SessionRun(m->session, NULL, &feed, &name, 1, NULL, NULL, 0, targets, 1, NULL, status);
    int rc = TF_GetCode(status) == TF_OK ? 0 : rtml_fail(err, errlen, "restoring variables: %s", TF_Message(status));
    TF_StringDealloc(s);
    TF_DeleteTensor(name);
    TF_DeleteStatus(status);
    return rc;
}

void rtml_tf_remove_tree(const char *dir) { remove_tree(dir); }

int rtml_tf_export(const rtml_tf_model *m, const char *base, int64_t version, char *err, size_t errlen) {
    char tmp[4096], path[4096], from[4096], final[4096];
    if (rtml_mkdirs(base, err, errlen) != 0) return -1;
    if (pathf(tmp, sizeof tmp, "%s/.tmp-%lld-%ld", base, (long long)version, (long)getpid()) != 0 ||
        pathf(final, sizeof final, "%s/%lld", base, (long long)version) != 0)
        return rtml_fail(err, errlen, "export directory name too long: %.200s", base);
    remove_tree(tmp); /* a leftover from a crash of this very pid number */
    if (mkdir(tmp, 0755) != 0) return rtml_fail(err, errlen, "creating %s: %s", tmp, strerror(errno));
    pathf(from, sizeof from, "%s/saved_model.pb", m->dir);
    pathf(path, sizeof path, "%s/saved_model.pb", tmp);
    int rc = copy_file(from, path, err, errlen);
    if (rc == 0) {
        pathf(from, sizeof from, "%s/assets", m->dir);
        pathf(path, sizeof path, "%s/assets", tmp);
        rc = copy_dir_files(from, path, err, errlen);
    }
    if (rc == 0) {
        pathf(path, sizeof path, "%s/variables", tmp);
        if (mkdir(path, 0755) != 0) rc = rtml_fail(err, errlen, "creating %s: %s", path, strerror(errno));
    }
    if (rc == 0) {
        pathf(path, sizeof path, "%s/variables/variables", tmp);
        rc = run_saver(m, path, err, errlen);
    }
    if (rc == 0) { /* the marker: rtml wrote this version, from which one */
        pathf(path, sizeof path, "%s/" EXPORT_MARKER, tmp);
        FILE *f = fopen(path, "w");
        if (!f || fprintf(f, "exported by rtml %s from %s\n", RTML_VERSION, m->dir) < 0 || fclose(f) != 0)
            rc = rtml_fail(err, errlen, "writing %s: %s", path, strerror(errno));
    }
    if (rc == 0) { /* everything on disk before the rename makes it visible */
        pathf(path, sizeof path, "%s/variables", tmp);
        DIR *d = opendir(path);
        struct dirent *e;
        char file[4096];
        while (d && (e = readdir(d)))
            if (e->d_name[0] != '.') pathf(file, sizeof file, "%s/%s", path, e->d_name), fsync_path(file, 0);
        if (d) closedir(d);
        fsync_path(path, 1);
        fsync_path(tmp, 1);
        if (rename(tmp, final) != 0) rc = rtml_fail(err, errlen, "renaming %s to %s: %s", tmp, final, strerror(errno));
        else fsync_path(base, 1);
    }
    if (rc != 0) remove_tree(tmp);
    return rc;
}

/* A version directory's number: all digits, no leading zero, fits int64. 0 otherwise. */
static int64_t version_of(const char *name) {
    if (!*name || name[0] == '0' || strspn(name, "0123456789") != strlen(name) || strlen(name) > 18) return 0;
    return strtoll(name, NULL, 10);
}

int64_t rtml_tf_newest_version(const char *base) {
    DIR *d = opendir(base);
    if (!d) return 0;
    int64_t best = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        int64_t v = version_of(e->d_name);
        if (v <= best) continue;
        pathf(path, sizeof path, "%s/%s", base, e->d_name);
        if (rtml_tf_is_saved_model(path)) best = v;
    }
    closedir(d);
    return best;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The versions rtml wrote under base (marked), ascending; *n of them (caller frees). NULL when none. */
static int64_t *rtml_written(const char *base, size_t *n) {
    *n = 0;
    DIR *d = opendir(base);
    if (!d) return NULL;
    int64_t *mine = NULL;
    size_t cap = 0;
    struct dirent *e;
    char path[4096];
    struct stat st;
    while ((e = readdir(d))) {
        int64_t v = version_of(e->d_name);
        pathf(path, sizeof path, "%s/%s/" EXPORT_MARKER, base, e->d_name);
        if (!v || stat(path, &st) != 0) continue;
        if (*n == cap) {
            int64_t *grown = realloc(mine, (cap = cap ? 2 * cap : 16) * sizeof *mine);
            if (!grown) break;
            mine = grown;
        }
        mine[(*n)++] = v;
    }
    closedir(d);
    if (*n > 1) qsort(mine, *n, sizeof *mine, cmp_i64);
    return mine;
}

void rtml_tf_prune(const char *base, int64_t in_use, size_t keep) {
    size_t n;
    int64_t *mine = rtml_written(base, &n);
    char path[4096];
    for (size_t i = 0; i + keep < n; i++) {
        if (mine[i] == in_use) continue;
        pathf(path, sizeof path, "%s/%lld", base, (long long)mine[i]);
        remove_tree(path);
    }
    free(mine);
}

void rtml_tf_drop_newer(const char *base, int64_t version) {
    size_t n;
    int64_t *mine = rtml_written(base, &n);
    char path[4096];
    for (size_t i = 0; i < n; i++) {
        if (mine[i] <= version) continue;
        rtml_log(RTML_LOG_WARN, "removing model version %lld: written after the checkpoint rtml resumes from "
                 "(a crash came between them), so it holds learning no checkpoint accounts for", (long long)mine[i]);
        pathf(path, sizeof path, "%s/%lld", base, (long long)mine[i]);
        remove_tree(path);
    }
    free(mine);
}
