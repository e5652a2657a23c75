/* tf_api.c — dlopen the TensorFlow C API once and resolve the functions rtml calls (see tf_api.h). */
#include "engine/tf_api.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "rtml.h"

#ifndef RTML_TF_LIB_DIR
#define RTML_TF_LIB_DIR ""
#endif

rtml_tf_api_table rtml_tf_api;

/* The outcome of the one load: 0 not tried, 1 loaded, -1 failed (with the reason kept for later callers).
 * Written only by rtml_tf_load_library, which the main thread calls before any worker exists. */
static int load_state;
static char load_error[RTML_ERRLEN];

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

static int resolve(void *lib, const char *name, void **slot) {
    *slot = dlsym(lib, name);
    if (*slot) return 0;
    return rtml_fail(load_error, sizeof load_error, "the TensorFlow library has no %s", name);
}

int rtml_tf_load_library(char *err, size_t errlen) {
    if (load_state == 0) {
        const char *dir = getenv("RTML_TF_LIB_DIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/libtensorflow_cc.so.2", dir && *dir ? dir : RTML_TF_LIB_DIR);
        setenv("TF_CPP_MIN_LOG_LEVEL", "2", 0); /* read by TensorFlow's static initialisers; the user's value wins */
        int quiet = rtml_tf_quiet_begin();
        void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        rtml_tf_quiet_end(quiet);
        load_state = -1;
        if (!lib) {
            rtml_fail(load_error, sizeof load_error, "cannot load TensorFlow (%s): run scripts/setup.sh, which installs "
                      "the pinned tensorflow-cpu wheel into .venv, or set RTML_TF_LIB_DIR", dlerror());
        } else if (resolve(lib, "TF_AllocateTensor", (void **)&rtml_tf_api.AllocateTensor) != 0 ||
                   resolve(lib, "TF_CloseSession", (void **)&rtml_tf_api.CloseSession) != 0 ||
                   resolve(lib, "TF_DeleteBuffer", (void **)&rtml_tf_api.DeleteBuffer) != 0 ||
                   resolve(lib, "TF_DeleteGraph", (void **)&rtml_tf_api.DeleteGraph) != 0 ||
                   resolve(lib, "TF_DeleteSession", (void **)&rtml_tf_api.DeleteSession) != 0 ||
                   resolve(lib, "TF_DeleteSessionOptions", (void **)&rtml_tf_api.DeleteSessionOptions) != 0 ||
                   resolve(lib, "TF_DeleteStatus", (void **)&rtml_tf_api.DeleteStatus) != 0 ||
                   resolve(lib, "TF_DeleteTensor", (void **)&rtml_tf_api.DeleteTensor) != 0 ||
                   resolve(lib, "TF_Dim", (void **)&rtml_tf_api.Dim) != 0 ||
                   resolve(lib, "TF_GetCode", (void **)&rtml_tf_api.GetCode) != 0 ||
                   resolve(lib, "TF_GraphOperationByName", (void **)&rtml_tf_api.GraphOperationByName) != 0 ||
                   resolve(lib, "TF_LoadSessionFromSavedModel", (void **)&rtml_tf_api.LoadSessionFromSavedModel) != 0 ||
                   resolve(lib, "TF_Message", (void **)&rtml_tf_api.Message) != 0 ||
                   resolve(lib, "TF_NewBuffer", (void **)&rtml_tf_api.NewBuffer) != 0 ||
                   resolve(lib, "TF_NewGraph", (void **)&rtml_tf_api.NewGraph) != 0 ||
                   resolve(lib, "TF_NewSessionOptions", (void **)&rtml_tf_api.NewSessionOptions) != 0 ||
                   resolve(lib, "TF_NewStatus", (void **)&rtml_tf_api.NewStatus) != 0 ||
                   resolve(lib, "TF_NumDims", (void **)&rtml_tf_api.NumDims) != 0 ||
                   resolve(lib, "TF_OperationNumOutputs", (void **)&rtml_tf_api.OperationNumOutputs) != 0 ||
                   resolve(lib, "TF_SessionRun", (void **)&rtml_tf_api.SessionRun) != 0 ||
                   resolve(lib, "TF_SetConfig", (void **)&rtml_tf_api.SetConfig) != 0 ||
                   resolve(lib, "TF_StringCopy", (void **)&rtml_tf_api.StringCopy) != 0 ||
                   resolve(lib, "TF_StringDealloc", (void **)&rtml_tf_api.StringDealloc) != 0 ||
                   resolve(lib, "TF_StringInit", (void **)&rtml_tf_api.StringInit) != 0 ||
                   resolve(lib, "TF_TensorByteSize", (void **)&rtml_tf_api.TensorByteSize) != 0 ||
                   resolve(lib, "TF_TensorData", (void **)&rtml_tf_api.TensorData) != 0 ||
                   resolve(lib, "TF_TensorType", (void **)&rtml_tf_api.TensorType) != 0 ||
                   resolve(lib, "TF_Version", (void **)&rtml_tf_api.Version) == 0) {
            load_state = 1;
        }
    }
    if (load_state == 1) return 0;
    return rtml_fail(err, errlen, "%s", load_error);
}
