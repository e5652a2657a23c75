/* tf_sessionrun.c — the fixed cost of one TF_SessionRun on a SavedModel, per batch size (bench/tensorflow.py).
 *
 *   tf_sessionrun SAVED_MODEL SERVE_IN SERVE_OUT TRAIN_IN TRAIN_LABEL TRAIN_LOSS WIDTH INTRA INTER REPS B...
 *
 * Loads SAVED_MODEL (tag serve) through the TensorFlow C API with the thread pools rtml configures
 * (intra_op_parallelism_threads = INTRA, inter_op = INTER), then for each batch size B: builds a float32
 * [B, WIDTH] input (and a [B] label), runs the serving signature (SERVE_IN -> SERVE_OUT) and, when TRAIN_IN
 * is not "-", the train signature (TRAIN_IN + TRAIN_LABEL -> TRAIN_LOSS) 50 times to warm up, then REPS times
 * timed. Only the TF_SessionRun call is timed (input tensors are built once, outside; output tensors are
 * freed outside the clock): this is the cost rtml pays per micro-batch on top of its own work.
 * Tensor names are the graph names from the MetaGraphDef's signatures (rtml_tf.export.describe prints them).
 * Prints one JSON line per (kind, batch): {"kind":"serve","batch":64,"reps":N,"median_us":..,"p10_us":..,
 * "p90_us":..,"p99_us":..,"first_us":..}; first_us is the first, untimed-for-the-median call (for the first
 * batch size: the cold call that instantiates the signature's function in the session). Built by bench/run.sh against the tensorflow wheel's libtensorflow_cc.so.2. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensorflow/c/c_api.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, TF_Status *s) {
    fprintf(stderr, "tf_sessionrun: %s: %s\n", what, s ? TF_Message(s) : "");
    exit(1);
}

/* "name:index" -> the graph endpoint. */
static TF_Output endpoint(TF_Graph *g, const char *tensor) {
    char op[512];
    const char *colon = strrchr(tensor, ':');
    size_t len = colon ? (size_t)(colon - tensor) : strlen(tensor);
    if (len >= sizeof op) die("tensor name too long", NULL);
    memcpy(op, tensor, len);
    op[len] = '\0';
    TF_Operation *o = TF_GraphOperationByName(g, op);
    if (!o) {
        fprintf(stderr, "tf_sessionrun: no operation '%s' in the graph\n", op);
        exit(1);
    }
    return (TF_Output){o, colon ? atoi(colon + 1) : 0};
}

/* ConfigProto: intra_op_parallelism_threads (field 2), inter_op_parallelism_threads (field 5), as rtml sets
 * them. int32 varints: a negative inter_op (TensorFlow: "all operations are performed in the caller's
 * thread", which rtml's config does not allow) is sign-extended to 64 bits, 10 bytes. */
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

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static TF_Tensor *floats(int64_t rows, int64_t cols, int rank) {
    int64_t dims[2] = {rows, cols};
    TF_Tensor *t = TF_AllocateTensor(TF_FLOAT, dims, rank, (size_t)(rows * cols) * sizeof(float));
    float *d = TF_TensorData(t);
    for (int64_t i = 0; i < rows * cols; i++) d[i] = (float)(rand() % 1000) / 100.0f;
    return t;
}

static void measure(TF_Session *sess, const char *kind, int batch, int reps, TF_Output *in, TF_Tensor **vals,
                    int n_in, TF_Output out) {
    TF_Status *s = TF_NewStatus();
    double *t = malloc((size_t)reps * sizeof *t), first = 0;
    for (int i = -50; i < reps; i++) {
        TF_Tensor *res = NULL;
        double t0 = now_us();
        TF_SessionRun(sess, NULL, in, vals, n_in, &out, &res, 1, NULL, 0, NULL, s);
        double dt = now_us() - t0;
        if (TF_GetCode(s) != TF_OK) die(kind, s);
        TF_DeleteTensor(res);
        if (i >= 0) t[i] = dt;
        else if (i == -50) first = dt;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    printf("{\"kind\":\"%s\",\"batch\":%d,\"reps\":%d,\"median_us\":%.2f,\"p10_us\":%.2f,\"p90_us\":%.2f,"
           "\"p99_us\":%.2f,\"first_us\":%.2f}\n", kind, batch, reps, t[reps / 2], t[reps / 10], t[reps * 9 / 10],
           t[reps * 99 / 100], first);
    fflush(stdout);
    free(t);
    TF_DeleteStatus(s);
}

int main(int argc, char **argv) {
    if (argc < 12) {
        fprintf(stderr, "usage: tf_sessionrun SAVED_MODEL SERVE_IN SERVE_OUT TRAIN_IN TRAIN_LABEL TRAIN_LOSS WIDTH "
                        "INTRA INTER REPS BATCH...\n");
        return 2;
    }
    int width = atoi(argv[7]), reps = atoi(argv[10]);
    TF_Status *s = TF_NewStatus();
    TF_SessionOptions *opts = TF_NewSessionOptions();
    uint8_t proto[32];
    TF_SetConfig(opts, proto, thread_config(proto, atol(argv[8]), atol(argv[9])), s);
    if (TF_GetCode(s) != TF_OK) die("session options", s);
    TF_Graph *g = TF_NewGraph();
    const char *tags[] = {"serve"};
    TF_Session *sess = TF_LoadSessionFromSavedModel(opts, NULL, argv[1], tags, 1, g, NULL, s);
    if (TF_GetCode(s) != TF_OK) die("loading the SavedModel", s);
    TF_Output serve_in = endpoint(g, argv[2]), serve_out = endpoint(g, argv[3]);
    int train = strcmp(argv[4], "-") != 0;
    TF_Output train_in[2], loss;
    if (train) {
        train_in[0] = endpoint(g, argv[4]);
        train_in[1] = endpoint(g, argv[5]);
        loss = endpoint(g, argv[6]);
    }
    for (int a = 11; a < argc; a++) {
        int b = atoi(argv[a]);
        TF_Tensor *x = floats(b, width, 2), *y = floats(b, 1, 1);
        float *yd = TF_TensorData(y);
        for (int i = 0; i < b; i++) yd[i] = yd[i] > 5.0f;
        measure(sess, "serve", b, reps, &serve_in, &x, 1, serve_out);
        if (train) {
            TF_Tensor *vals[2] = {x, y};
            measure(sess, "train", b, reps, train_in, vals, 2, loss);
        }
        TF_DeleteTensor(x);
        TF_DeleteTensor(y);
    }
    TF_CloseSession(sess, s);
    TF_DeleteSession(sess, s);
    TF_DeleteGraph(g);
    TF_DeleteSessionOptions(opts);
    TF_DeleteStatus(s);
    return 0;
}
