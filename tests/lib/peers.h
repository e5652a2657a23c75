/* peers.h — what the format tests share (test_protobuf_peers.c, test_protobuf_encode.c, test_format_parity.c):
 * the peers' own libraries, run as tests/lib/peers.py with .venv's python, write the records rtml
 * decodes and read back the records rtml encodes; protoc compiles the test schemas of tests/integration/data.
 *
 * Header-only, like check.h: one scratch directory per test executable (peers_setup, peers_cleanup). */
#ifndef RTML_TEST_PEERS_H
#define RTML_TEST_PEERS_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "codec/codec.h"
#include "base/rtml.h"

static char peers_root[1024], peers_tmp[64];

typedef struct {
    uint8_t *data;
    size_t len;
} blob;

/* A file in the scratch directory. */
static inline const char *peers_path(const char *name) {
    static char paths[8][1200];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", peers_tmp, name);
    return p;
}

/* Run a shell command; 0 when it exits 0. */
static inline int peers_sh(const char *cmd) {
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "  command failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

/* protoc NAME.proto of tests/integration/data into the scratch dir as NAME.desc, with the runtime's own
 * descriptors of the well-known types. */
static inline int peers_compile(const char *name) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "protoc --descriptor_set_in='%s' --include_imports --descriptor_set_out='%s/%s.desc' "
             "-I '%s/tests/integration/data' %s.proto",
             peers_path("wkt.desc"), peers_tmp, name, peers_root, name);
    return peers_sh(cmd);
}

/* The scratch dir, and the descriptor sets of peers.proto, peers2.proto and prediction.proto in it. */
static inline int peers_setup(void) {
    const char *d = getenv("RTML_TESTDATA"); /* tests/data */
    snprintf(peers_root, sizeof peers_root, "%s/../..", d ? d : "tests/data");
    strcpy(peers_tmp, "/tmp/rtml_peers_XXXXXX");
    if (!mkdtemp(peers_tmp)) return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/.venv/bin/python' '%s/tests/lib/peers.py' wkt '%s'", peers_root,
             peers_root, peers_path("wkt.desc"));
    if (peers_sh(cmd) != 0) {
        fprintf(stderr, "peers: .venv's python with protobuf is needed (scripts/setup.sh)\n");
        return -1;
    }
    return peers_compile("peers") || peers_compile("peers2") || peers_compile("prediction") ? -1 : 0;
}

static inline void peers_cleanup(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", peers_tmp);
    if (system(cmd) != 0) fprintf(stderr, "peers: could not remove %s\n", peers_tmp);
}

/* peers.py ARGS with `input` on stdin; its output lines, NUL-separated in one malloc'd text (NULL on failure). */
static inline char *peers_run(const char *args, const char *input, size_t *n_lines) {
    char in[1200], cmd[8192];
    *n_lines = 0;
    snprintf(in, sizeof in, "%s", peers_path("stdin.txt"));
    FILE *f = fopen(in, "w");
    if (!f) return NULL;
    fputs(input, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s/.venv/bin/python' '%s/tests/lib/peers.py' %s < '%s'", peers_root,
             peers_root, args, in);
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    size_t len = 0, cap = 0;
    int c;
    while (p && (c = fgetc(p)) != EOF) {
        if (len + 2 > cap) out = realloc(out, cap = cap * 2 + 256);
        if (c == '\n') c = '\0', ++*n_lines;
        out[len++] = (char)c;
    }
    int rc = p ? pclose(p) : -1;
    if (rc != 0) {
        fprintf(stderr, "  peers.py %s failed (%d)\n", args, rc);
        free(out);
        return NULL;
    }
    return out ? out : calloc(1, 1);
}

static inline int peers_hexval(int c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

static inline blob peers_unhex(const char *line) {
    blob b = {NULL, strlen(line) / 2};
    b.data = malloc(b.len ? b.len : 1);
    for (size_t k = 0; k < b.len; k++)
        b.data[k] = (uint8_t)(peers_hexval(line[2 * k]) << 4 | peers_hexval(line[2 * k + 1]));
    return b;
}

/* Messages written by the protobuf runtime from JSON lines (protobuf's JSON mapping): one blob per line, at
 * most max. confluent_id >= 0: Confluent-framed with that id. Returns how many. */
static inline size_t peers_pb_write(const char *desc, const char *message, long confluent_id, const char *json_lines,
                             blob *out, size_t max) {
    char args[2048];
    size_t n;
    if (confluent_id >= 0)
        snprintf(args, sizeof args, "pb-write '%s' %s --confluent %ld", desc, message, confluent_id);
    else snprintf(args, sizeof args, "pb-write '%s' %s", desc, message);
    char *text = peers_run(args, json_lines, &n);
    CHECK(text != NULL);
    if (!text) return 0;
    const char *line = text;
    for (size_t i = 0; i < n && i < max; i++) {
        out[i] = peers_unhex(line);
        line += strlen(line) + 1;
    }
    free(text);
    return n;
}

static inline void peers_free(blob *b, size_t n) {
    for (size_t i = 0; i < n; i++) free(b[i].data);
}

/* Decode an exact copy of (data, len); *keep holds the copy the values borrow from. */
static inline int peers_decode(rtml_decoder *d, const uint8_t *data, size_t len, rtml_value *out, char *err,
                               uint8_t **keep) {
    free(*keep);
    *keep = malloc(len ? len : 1);
    if (len) memcpy(*keep, data, len);
    err[0] = '\0';
    return rtml_decode(d, (const char *)*keep, len, out, err, RTML_ERRLEN);
}

static inline int peers_str_is(const rtml_value *v, const char *s) {
    return v->type == RTML_V_STRING && v->len == strlen(s) && memcmp(v->str, s, v->len) == 0;
}

static inline int peers_int_is(const rtml_value *v, long long i) {
    return v->type == RTML_V_NUMBER && v->is_int && v->i64 == i && v->num == (double)i;
}

static inline int peers_num_is(const rtml_value *v, double x) {
    return v->type == RTML_V_NUMBER && v->num == x;
}

#endif
