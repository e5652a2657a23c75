/* tokens.c — bearer tokens, kept as digests and compared in constant time (tokens.h). */
#include "serve/tokens.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/rtml.h"

#define DIGEST 32
#define MIN_LEN 16
#define MAX_LEN 4096
#define MAX_FILE (1 << 20)

struct rtml_tokens {
    unsigned char (*digest)[DIGEST];
    size_t n;
};

static int digest(const void *data, size_t len, unsigned char out[DIGEST]) {
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == DIGEST ? 0 : -1;
}

/* One line: empty or a comment (0), a token added (0), or -1 with the line's number in err. */
static int add_line(rtml_tokens *t, const char *line, size_t len, size_t lineno, char *err, size_t errlen) {
    while (len && isspace((unsigned char)line[len - 1])) len--;
    while (len && isspace((unsigned char)*line)) line++, len--;
    if (len == 0 || *line == '#') return 0;
    for (size_t i = 0; i < len; i++)
        if (line[i] < 0x21 || line[i] > 0x7e)
            return rtml_fail(err, errlen, "line %zu: a token is visible ASCII characters without spaces", lineno);
    if (len < MIN_LEN || len > MAX_LEN)
        return rtml_fail(err, errlen, "line %zu: a token must have %d to %d characters (this one has %zu)", lineno,
                         MIN_LEN, MAX_LEN, len);
    if (digest(line, len, t->digest[t->n]) != 0) return rtml_fail(err, errlen, "SHA-256 is not available");
    t->n++;
    return 0;
}

static int parse(rtml_tokens *t, const char *text, size_t len, char *err, size_t errlen) {
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    if (!(t->digest = calloc(lines, sizeof *t->digest))) return rtml_fail(err, errlen, "out of memory");
    size_t start = 0, lineno = 1;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n') continue;
        if (add_line(t, text + start, i - start, lineno++, err, errlen) != 0) return -1;
        start = i + 1;
    }
    return t->n ? 0 : rtml_fail(err, errlen, "no token in it (one a line; # starts a comment)");
}

/* The whole file into one exact-size allocation (no copies left behind by growing buffers), at most MAX_FILE. */
char *rtml_secret_read(const char *path, const char *what, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        rtml_fail(err, errlen, "cannot read it: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (st.st_mode & 077)
        rtml_log(RTML_LOG_WARN, "%s %s can be read by other users (chmod 600 it)", what, path);
    char *buf = st.st_size <= MAX_FILE ? malloc((size_t)st.st_size + 1) : NULL;
    size_t got = 0;
    ssize_t n = 1;
    while (buf && got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0) got += (size_t)n;
    close(fd);
    if (!buf || n < 0) {
        rtml_fail(err, errlen, !buf ? "larger than 1 MiB, or out of memory" : "read error");
        if (buf) OPENSSL_cleanse(buf, got);
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

void rtml_secret_free(char *secret, size_t len) {
    if (secret) OPENSSL_cleanse(secret, len);
    free(secret);
}

rtml_tokens *rtml_tokens_load(const char *path, char *err, size_t errlen) {
    char why[RTML_ERRLEN];
    size_t len = 0;
    char *text = rtml_secret_read(path, "serve.auth.tokens_file", &len, why, sizeof why);
    rtml_tokens *t = text ? calloc(1, sizeof *t) : NULL;
    int rc = !text ? -1 : t ? parse(t, text, len, why, sizeof why) : rtml_fail(why, sizeof why, "out of memory");
    rtml_secret_free(text, len);
    if (rc != 0) {
        rtml_fail(err, errlen, "serve.auth.tokens_file %s: %s", path, why);
        rtml_tokens_free(t);
        return NULL;
    }
    return t;
}

void rtml_tokens_free(rtml_tokens *t) {
    if (!t) return;
    if (t->digest) OPENSSL_cleanse(t->digest, t->n * sizeof *t->digest);
    free(t->digest);
    free(t);
}

size_t rtml_tokens_count(const rtml_tokens *t) { return t->n; }

int rtml_tokens_check(const rtml_tokens *t, const char *presented, size_t len) {
    unsigned char d[DIGEST];
    if (digest(presented, len, d) != 0) return 0;
    int match = 0;
    for (size_t i = 0; i < t->n; i++) match |= CRYPTO_memcmp(d, t->digest[i], DIGEST) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return match;
}

int rtml_bearer_token(const char *header, const char **tok, size_t *len) {
    static const char scheme[] = "bearer";
    if (!header) return 0;
    for (size_t i = 0; i < sizeof scheme - 1; i++)
        if (tolower((unsigned char)header[i]) != scheme[i]) return 0;
    const char *p = header + sizeof scheme - 1;
    if (*p != ' ') return 0;
    while (*p == ' ') p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == ' ') n--;
    if (!n) return 0;
    *tok = p;
    *len = n;
    return 1;
}
