/* http_client.h — a tiny HTTP/1.1 GET client over plain sockets, for `rtml top` (and tests) to read a
 * running rtml's monitor endpoints. Not a general client: http:// only, one request per connection
 * (Connection: close), bodies by Content-Length, chunked transfer coding or read to close, one overall
 * deadline for connect + send + receive. No global state; every result is owned by the caller. */
#ifndef RTML_HTTP_CLIENT_H
#define RTML_HTTP_CLIENT_H
#include <stddef.h>

/* A parsed http:// URL. host has no brackets (an IPv6 literal is "::1"); path starts with '/'. */
typedef struct {
    char host[256];
    char port[6];
    char path[1024];
} rtml_url;

/* Parses "http://HOST[:PORT][/PATH]" (HOST a name, an IPv4 or a bracketed IPv6 literal; PORT default 80).
 * Returns 0, or -1 with a reason in err. */
int rtml_url_parse(const char *text, rtml_url *url, char *err, size_t errlen);

typedef struct {
    int status;  /* e.g. 200 */
    char *body;  /* malloc'd, NUL-terminated (the NUL is not counted in len); free with rtml_http_response_free */
    size_t len;
} rtml_http_response;

/* Bodies larger than this are refused (the monitor's documents are a few hundred kB at most). */
#define RTML_HTTP_MAX_RESPONSE (64u << 20)

/* GET url->path from url->host:port within timeout_s seconds. Returns 0 with *resp filled (any status), or
 * -1 with a reason in err ("connection refused", "timed out after 2 s", ...) and *resp empty. */
int rtml_http_get(const rtml_url *url, double timeout_s, rtml_http_response *resp, char *err, size_t errlen);

/* Parses a raw HTTP/1.x response held in raw[0..len). at_eof: the peer closed the connection after it.
 * Returns 1 with *resp filled when the message is complete, 0 when more bytes are needed, -1 with a reason
 * in err when it is malformed. (rtml_http_get uses it after each read; exposed for the unit test.) */
int rtml_http_parse_response(const char *raw, size_t len, int at_eof, rtml_http_response *resp, char *err,
                             size_t errlen);

void rtml_http_response_free(rtml_http_response *resp);

#endif
