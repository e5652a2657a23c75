/* tf_api.c — find the TensorFlow C API's library, dlopen it once and resolve the functions rtml calls (see
 * tf_api.h: which file, and why it is loaded on use). */
#include "engine/tf/tf_api.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "base/rtml.h"

/* The build's default library (CMakeLists.txt: the .venv wheel's, or RTML_TF_LIBRARY_DEFAULT); "" for none. */
#ifndef RTML_TF_LIBRARY_DEFAULT
#define RTML_TF_LIBRARY_DEFAULT ""
#endif
#define TF_LIB_FILE "libtensorflow_cc.so.2"
#define TF_LIB_ENV "RTML_TENSORFLOW_LIBRARY"
#define TF_LIB_HOW                                                                                               \
    "set model.tensorflow.library in the config or the environment variable " TF_LIB_ENV " to " TF_LIB_FILE      \
    " or the directory that holds it (docs/tensorflow.md)"

rtml_tf_api_table rtml_tf_api;

/* The outcome of the one load: 0 not tried, 1 loaded, -1 failed (with the reason kept for later callers), and
 * which file it was. Written only by rtml_tf_load_library, which the main thread calls before any worker exists. */
static int load_state;
static int load_found; /* the file existed (a failure was dlopen's or dlsym's) */
static char load_error[RTML_ERRLEN];
static char loaded_path[4096];
static const char *loaded_from;

int rtml_tf_quiet_begin(void) {
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
    if (saved < 0 || null < 0) {
        if (saved >= 0) close(saved);
        if (null >= 0) close(null);
        return -1;
    }
    dup2(null, STDERR_FILENO);
    close(null);
    return saved;
}

void rtml_tf_quiet_end(int saved) {
    if (saved < 0) return;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

/* Every function rtml calls, and its slot in rtml_tf_api. */
#define TF_FN(name) {"TF_" #name, offsetof(rtml_tf_api_table, name)}
static const struct {
    const char *symbol;
    size_t offset;
} TF_FUNCTIONS[] = {
    TF_FN(AllocateTensor), TF_FN(CloseSession), TF_FN(DeleteBuffer), TF_FN(DeleteGraph), TF_FN(DeleteSession),
    TF_FN(DeleteSessionOptions), TF_FN(DeleteStatus), TF_FN(DeleteTensor), TF_FN(Dim), TF_FN(GetCode),
    TF_FN(GraphOperationByName), TF_FN(LoadSessionFromSavedModel), TF_FN(Message), TF_FN(NewBuffer),
    TF_FN(NewGraph), TF_FN(NewSessionOptions), TF_FN(NewStatus), TF_FN(NumDims), TF_FN(OperationNumOutputs),
    TF_FN(SessionRun), TF_FN(SetConfig), TF_FN(StringCopy), TF_FN(StringDealloc), TF_FN(StringInit),
    TF_FN(TensorByteSize), TF_FN(TensorData), TF_FN(TensorType), TF_FN(Version),
};
#undef TF_FN

/* The file to load and the setting that named it (tf_api.h: the order); 0, or -1 with why there is none. */
static int find_library(const char *configured, char *path, size_t len, const char **from, char *err,
                        size_t errlen) {
    const char *env = getenv(TF_LIB_ENV), *value = RTML_TF_LIBRARY_DEFAULT;
    *from = "the build's default";
    if (configured && *configured) {
        value = configured;
        *from = "model.tensorflow.library";
    } else if (env && *env) {
        value = env;
        *from = TF_LIB_ENV;
    }
    if (!*value) return rtml_fail(err, errlen, "no library is set; %s", TF_LIB_HOW);
    struct stat st;
    int dir = stat(value, &st) == 0 && S_ISDIR(st.st_mode);
    if (snprintf(path, len, dir ? "%s/" TF_LIB_FILE : "%s", value) >= (int)len)
        return rtml_fail(err, errlen, "the path in %s is too long", *from);
    if (stat(path, &st) != 0)
        return rtml_fail(err, errlen, "%s (from %s): %s; %s", path, *from, strerror(errno), TF_LIB_HOW);
    return 0;
}

/* dlopen the file quietly and fill rtml_tf_api; 0, or -1 with the reason. */
static int open_library(const char *path, const char *from, char *err, size_t errlen) {
    setenv("TF_CPP_MIN_LOG_LEVEL", "2", 0); /* read by TensorFlow's static initialisers; the user's value wins */
    int quiet = rtml_tf_quiet_begin();
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    rtml_tf_quiet_end(quiet);
    if (!lib) return rtml_fail(err, errlen, "%s (from %s) cannot be loaded: %s; %s", path, from, dlerror(), TF_LIB_HOW);
    for (size_t i = 0; i < sizeof TF_FUNCTIONS / sizeof TF_FUNCTIONS[0]; i++) {
        void *fn = dlsym(lib, TF_FUNCTIONS[i].symbol);
        if (!fn) return rtml_fail(err, errlen, "%s (from %s) has no %s: is it TensorFlow's C API?", path, from,
                                  TF_FUNCTIONS[i].symbol);
        memcpy((char *)&rtml_tf_api + TF_FUNCTIONS[i].offset, &fn, sizeof fn);
    }
    return 0;
}

static void load_once(const char *configured) {
    load_state = -1;
    if (find_library(configured, loaded_path, sizeof loaded_path, &loaded_from, load_error, sizeof load_error) != 0)
        return;
    load_found = 1;
    if (open_library(loaded_path, loaded_from, load_error, sizeof load_error) == 0) load_state = 1;
}

int rtml_tf_load_library(const char *configured, char *err, size_t errlen) {
    if (load_state == 0) load_once(configured);
    if (load_state != 1) return rtml_fail(err, errlen, "cannot load TensorFlow: %s", load_error);
    char path[sizeof loaded_path], why[RTML_ERRLEN];
    const char *from;
    if (configured && *configured && find_library(configured, path, sizeof path, &from, why, sizeof why) == 0 &&
        strcmp(path, loaded_path) != 0)
        return rtml_fail(err, errlen, "cannot load TensorFlow from %s (model.tensorflow.library): this process "
                         "already loaded %s (from %s), and a process holds one TensorFlow", path, loaded_path,
                         loaded_from);
    return 0;
}

const char *rtml_tf_library_info(char *buf, size_t len) {
    char err[RTML_ERRLEN];
    if (rtml_tf_load_library(NULL, err, sizeof err) == 0)
        snprintf(buf, len, "%s (from %s)", loaded_path, loaded_from);
    else snprintf(buf, len, "%s%s", load_found ? "" : "none found: ", load_error);
    return buf;
}
