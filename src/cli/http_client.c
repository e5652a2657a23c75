/* http_client.c — the tiny HTTP/1.1 GET client behind `rtml top` (see http_client.h for what it is and is
 * not). Non-blocking socket + poll() so one deadline bounds connect, send and receive; the response is
 * parsed after every read, so a server that keeps the connection open after a complete message is fine. */
#include "cli/http_client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/rtml.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- URLs ------------------------------------------------------------------------------------------- */

/* Copies [s, s+n) into dst (size cap) as a string; -1 when it does not fit. */
static int copy_part(char *dst, size_t cap, const char *s, size_t n) {
    if (n >= cap) return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int parse_port(const char *s, size_t n, char *out, size_t cap) {
    if (n == 0 || n > 5) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    snprintf(out, cap, "%ld", v);
    return 0;
}

static int valid_host(const char *h, int ipv6) {
    if (!*h) return 0;
    for (const char *p = h; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (ipv6 ? !(isxdigit(c) || c == ':' || c == '.') : !(isalnum(c) || c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

int rtml_url_parse(const char *text, rtml_url *url, char *err, size_t errlen) {
    static const char scheme[] = "http://";
    memset(url, 0, sizeof *url);
    if (!text || strncasecmp(text, scheme, sizeof scheme - 1) != 0) {
        set_err(err, errlen, "only http://HOST[:PORT][/PATH] URLs are supported");
        return -1;
    }
    const char *auth = text + sizeof scheme - 1;
    size_t alen = strcspn(auth, "/?#");
    const char *path = auth + alen, *port = NULL;
    size_t hlen = alen;
    int ipv6 = auth[0] == '[';
    if (ipv6) {
        const char *close = memchr(auth, ']', alen);
        if (!close) return set_err(err, errlen, "unterminated [IPv6] host"), -1;
        if (close + 1 < path && close[1] != ':') return set_err(err, errlen, "junk after the [IPv6] host"), -1;
        port = close + 1 < path ? close + 2 : NULL;
        auth++;
        hlen = (size_t)(close - auth);
    } else {
        port = memchr(auth, ':', alen);
        if (port) hlen = (size_t)(port++ - auth);
    }
    if (copy_part(url->host, sizeof url->host, auth, hlen) != 0 || !valid_host(url->host, ipv6))
        return set_err(err, errlen, "missing or invalid host"), -1;
    if (!port) snprintf(url->port, sizeof url->port, "80");
    else if (parse_port(port, (size_t)(path - port), url->port, sizeof url->port) != 0)
        return set_err(err, errlen, "invalid port (1..65535)"), -1;
    size_t plen = strcspn(path, "#");
    if (*path != '/') { /* "http://h:1" or "http://h?x": the path is "/" (plus the query) */
        if (plen + 2 > sizeof url->path) return set_err(err, errlen, "path too long"), -1;
        url->path[0] = '/';
        return copy_part(url->path + 1, sizeof url->path - 1, path, plen);
    }
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
            return set_err(err, errlen, "invalid character in path"), -1;
    if (copy_part(url->path, sizeof url->path, path, plen) != 0) return set_err(err, errlen, "path too long"), -1;
    return 0;
}

/* ---- parsing a response ----------------------------------------------------------------------------- */

typedef struct {
    int status;
    int chunked;
    long long content_length; /* -1: none */
    size_t body_at;           /* offset of the first body byte */
} head_info;

/* The header value of line [s, e) if its name is `name` (case-insensitive), else NULL. */
static const char *header_value(const char *s, const char *e, const char *name) {
    size_t n = strlen(name);
    if ((size_t)(e - s) <= n || strncasecmp(s, name, n) != 0 || s[n] != ':') return NULL;
    s += n + 1;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    return s;
}

static int parse_head(const char *raw, size_t end, head_info *h, char *err, size_t errlen) {
    h->chunked = 0;
    h->content_length = -1;
    if (end < 12 || strncmp(raw, "HTTP/1.", 7) != 0 || raw[8] != ' ' || !isdigit((unsigned char)raw[9]) ||
        !isdigit((unsigned char)raw[10]) || !isdigit((unsigned char)raw[11]))
        return set_err(err, errlen, "not an HTTP/1.x response"), -1;
    h->status = (raw[9] - '0') * 100 + (raw[10] - '0') * 10 + (raw[11] - '0');
    if (h->status < 100) /* RFC 9110: a status code is 1xx to 5xx (found by fuzz_http: "HTTP/1.1 020") */
        return set_err(err, errlen, "not an HTTP/1.x response (status %03d)", h->status), -1;
    const char *line = memchr(raw, '\n', end);
    while (line && (size_t)(line + 1 - raw) < end) {
        const char *s = line + 1, *nl = memchr(s, '\n', end - (size_t)(s - raw));
        const char *e = nl ? nl : raw + end;
        if (e > s && e[-1] == '\r') e--;
        const char *v;
        if ((v = header_value(s, e, "content-length"))) {
            /* Digits up to the line's end, parsed here: the buffer is not NUL-terminated, so strtoll could
             * read past it (found by fuzz_http: "Content-Length: " followed by only line breaks). */
            long long n = 0;
            const char *p = v;
            for (; p < e && isdigit((unsigned char)*p) && n <= RTML_HTTP_MAX_RESPONSE; p++) n = n * 10 + (*p - '0');
            while (p < e && (*p == ' ' || *p == '\t')) p++;
            if (p == v || p != e) return set_err(err, errlen, "bad Content-Length"), -1;
            h->content_length = n;
        } else if ((v = header_value(s, e, "transfer-encoding"))) {
            for (const char *p = v; p + 7 <= e; p++)
                if (strncasecmp(p, "chunked", 7) == 0) h->chunked = 1;
        }
        line = nl;
    }
    return 0;
}

static int set_body(rtml_http_response *resp, int status, const char *data, size_t len) {
    char *body = malloc(len + 1);
    if (!body) return -1;
    if (len) memcpy(body, data, len);
    body[len] = '\0';
    resp->status = status;
    resp->body = body;
    resp->len = len;
    return 1;
}

/* Decodes a chunked body in b[0..n). 1 complete (*out malloc'd), 0 incomplete, -1 malformed. */
static int decode_chunked(const char *b, size_t n, int status, rtml_http_response *resp, char *err,
                          size_t errlen) {
    char *out = malloc(n + 1);
    if (!out) return set_err(err, errlen, "out of memory"), -1;
    size_t at = 0, olen = 0;
    for (;;) {
        const char *nl = memchr(b + at, '\n', n - at);
        if (!nl) break;
        /* The size's hex digits, parsed within the line (strtoull would skip line breaks and could read past
         * the buffer's end, which is not NUL-terminated). */
        unsigned long long size = 0;
        const char *stop = b + at;
        for (; stop < nl && isxdigit((unsigned char)*stop) && size <= RTML_HTTP_MAX_RESPONSE; stop++)
            size = size * 16 + (unsigned)(isdigit((unsigned char)*stop) ? *stop - '0' : (tolower(*stop) - 'a' + 10));
        int bad_end = *stop != '\r' && *stop != ';' && *stop != '\n' && *stop != ' ';
        if (stop == b + at || bad_end || size > RTML_HTTP_MAX_RESPONSE) {
            free(out);
            return set_err(err, errlen, "malformed chunk size"), -1;
        }
        at = (size_t)(nl - b) + 1;
        if (size == 0) { /* trailers until an empty line */
            for (;;) {
                const char *tl = memchr(b + at, '\n', n - at);
                if (!tl) goto incomplete;
                int empty = tl == b + at || (tl == b + at + 1 && b[at] == '\r');
                at = (size_t)(tl - b) + 1;
                if (empty) break;
            }
            out[olen] = '\0';
            resp->status = status;
            resp->body = out;
            resp->len = olen;
            return 1;
        }
        if (n - at < size + 1) break;
        memcpy(out + olen, b + at, size);
        olen += size;
        at += size;
        if (b[at] == '\r') {
            if (n - at < 2) break;
            at++;
        }
        if (b[at] != '\n') {
            free(out);
            return set_err(err, errlen, "chunk not followed by CRLF"), -1;
        }
        at++;
    }
incomplete:
    free(out);
    return 0;
}

int rtml_http_parse_response(const char *raw, size_t len, int at_eof, rtml_http_response *resp, char *err,
                             size_t errlen) {
    memset(resp, 0, sizeof *resp);
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len && !end; i++)
        if (raw[i] == '\r' && raw[i + 1] == '\n' && raw[i + 2] == '\r' && raw[i + 3] == '\n') end = raw + i;
    if (!end) {
        if (at_eof) return set_err(err, errlen, len ? "truncated response headers" : "empty response"), -1;
        if (len > 65536) return set_err(err, errlen, "response headers too large"), -1;
        return 0;
    }
    head_info h;
    if (parse_head(raw, (size_t)(end - raw), &h, err, errlen) != 0) return -1;
    h.body_at = (size_t)(end - raw) + 4;
    const char *body = raw + h.body_at;
    size_t have = len - h.body_at;
    int r;
    if (h.status == 204 || h.status == 304 || (h.status >= 100 && h.status < 200)) r = set_body(resp, h.status, "", 0);
    else if (h.chunked) {
        r = decode_chunked(body, have, h.status, resp, err, errlen);
        if (r == 0 && at_eof) return set_err(err, errlen, "truncated chunked body"), -1;
        return r;
    } else if (h.content_length >= 0) {
        if ((unsigned long long)h.content_length > RTML_HTTP_MAX_RESPONSE)
            return set_err(err, errlen, "response too large"), -1;
        if (have < (size_t)h.content_length && !at_eof) return 0;
        if (have < (size_t)h.content_length)
            return set_err(err, errlen, "truncated body (%zu of %lld bytes)", have, h.content_length), -1;
        r = set_body(resp, h.status, body, (size_t)h.content_length);
    } else {
        if (!at_eof) return 0; /* no length: the body ends when the server closes */
        r = set_body(resp, h.status, body, have);
    }
    if (r < 0) set_err(err, errlen, "out of memory");
    return r;
}

void rtml_http_response_free(rtml_http_response *resp) {
    if (!resp) return;
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* ---- the socket side -------------------------------------------------------------------------------- */

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, double deadline) {
    for (;;) {
        double left = deadline - mono_now();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* One connect attempt to ai, non-blocking, bounded by deadline. Returns the socket or -1 (errno set;
 * ETIMEDOUT when the deadline passed). */
static int connect_one(const struct addrinfo *ai, double deadline) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    int e = errno;
    if (e == EINPROGRESS) {
        int w = wait_fd(fd, POLLOUT, deadline);
        socklen_t sl = sizeof e;
        if (w == 0) e = ETIMEDOUT;
        else if (w < 0) e = errno;
        else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0) e = errno;
        if (e == 0) return fd;
    }
    close(fd);
    errno = e;
    return -1;
}

static int connect_url(const rtml_url *url, double deadline, double timeout_s, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(url->host, url->port, &hints, &res);
    if (g != 0) return set_err(err, errlen, "cannot resolve %s: %s", url->host, gai_strerror(g)), -1;
    int fd = -1, e = 0;
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        if (fd < 0) e = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (e == ETIMEDOUT) set_err(err, errlen, "connect timed out after %g s", timeout_s);
        else set_err(err, errlen, "%s", strerror(e));
    }
    return fd;
}

static int send_all(int fd, const char *data, size_t len, double deadline, char *err, size_t errlen) {
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) <= 0) return set_err(err, errlen, "timed out sending the request"), -1;
        } else {
            return set_err(err, errlen, "send: %s", strerror(errno)), -1;
        }
    }
    return 0;
}

/* Reads until the response parses complete, the peer closes, or the deadline passes. */
static int receive(int fd, double deadline, double timeout_s, rtml_http_response *resp, char *err, size_t errlen) {
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap);
    int r = 0;
    while (buf && r == 0) {
        if (len == cap) {
            char *bigger = cap >= RTML_HTTP_MAX_RESPONSE + 65536 ? NULL : realloc(buf, cap * 2);
            if (!bigger) {
                set_err(err, errlen, "response too large");
                r = -1;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n > 0) len += (size_t)n;
        if (n > 0 || n == 0) r = rtml_http_parse_response(buf, len, n == 0, resp, err, errlen);
        else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            int w = wait_fd(fd, POLLIN, deadline);
            if (w == 0) set_err(err, errlen, "timed out after %g s waiting for the response", timeout_s);
            else if (w < 0) set_err(err, errlen, "poll: %s", strerror(errno));
            if (w <= 0) r = -1;
        } else {
            set_err(err, errlen, "recv: %s", strerror(errno));
            r = -1;
        }
    }
    if (!buf) set_err(err, errlen, "out of memory");
    free(buf);
    return r == 1 ? 0 : -1;
}

int rtml_http_get(const rtml_url *url, double timeout_s, rtml_http_response *resp, char *err, size_t errlen) {
    memset(resp, 0, sizeof *resp);
    double deadline = mono_now() + timeout_s;
    int fd = connect_url(url, deadline, timeout_s, err, errlen);
    if (fd < 0) return -1;
    int v6 = strchr(url->host, ':') != NULL;
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: rtml/%s\r\nAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     url->path, v6 ? "[" : "", url->host, v6 ? "]" : "", url->port, RTML_VERSION);
    int r = n > 0 && (size_t)n < sizeof req ? 0 : (set_err(err, errlen, "request too long"), -1);
    if (r == 0) r = send_all(fd, req, (size_t)n, deadline, err, errlen);
    if (r == 0) r = receive(fd, deadline, timeout_s, resp, err, errlen);
    close(fd);
    return r;
}
