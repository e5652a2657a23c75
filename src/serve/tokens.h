/* tokens.h — bearer tokens for the serve endpoint (tokens.c): read once from serve.auth.tokens_file, compared in
 * constant time.
 *
 * The file holds one token a line (blank lines and lines starting with # are skipped; surrounding spaces are
 * not part of a token); a token is 16 to 4096 visible ASCII characters, so that it travels in a header as it
 * is. Only each token's SHA-256 digest is kept, and the file's bytes are wiped once read. A presented token is
 * digested and compared with every stored digest, all of them, with CRYPTO_memcmp: the time taken depends on
 * neither the presented token, nor its length, nor which stored token it matches. No message ever holds a
 * token: a bad line is named by its number. */
#ifndef RTML_SERVE_TOKENS_H
#define RTML_SERVE_TOKENS_H
#include <stddef.h>

typedef struct rtml_tokens rtml_tokens;

/* NULL with a reason: the file cannot be read, holds no token, or a line is not a token. */
rtml_tokens *rtml_tokens_load(const char *path, char *err, size_t errlen);
void rtml_tokens_free(rtml_tokens *t);
size_t rtml_tokens_count(const rtml_tokens *t);

/* 1 when the len bytes at presented are one of the tokens, else 0. */
int rtml_tokens_check(const rtml_tokens *t, const char *presented, size_t len);

/* The token of an Authorization header value "Bearer <token>" (the scheme in any case): 1 with *tok and *len
 * set, 0 when the value is not a bearer credential. */
int rtml_bearer_token(const char *header, const char **tok, size_t *len);

/* A file holding a secret (a token list, a TLS private key) read into one exact-size allocation, at most 1 MiB,
 * with a warning when other users can read it; NUL-terminated (not counted in *len). Give it back with
 * rtml_secret_free, which wipes it. NULL with a reason. */
char *rtml_secret_read(const char *path, const char *what, size_t *len, char *err, size_t errlen);
void rtml_secret_free(char *secret, size_t len);

#endif
