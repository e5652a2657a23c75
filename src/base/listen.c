/* listen.c — listen addresses (listen.h). */
#include "base/listen.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "base/rtml.h"

struct addrinfo *rtml_listen_resolve(const char *listen, const char *key, char *err, size_t errlen) {
    char host[256];
    const char *colon = strrchr(listen, ':');
    size_t hlen = colon ? (size_t)(colon - listen) : 0;
    if (!colon || hlen >= sizeof host) {
        rtml_fail(err, errlen, "%s '%s' is not HOST:PORT", key, listen);
        return NULL;
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    char *h = host;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') host[hlen - 1] = '\0', h++;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int e = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
    if (e) {
        rtml_fail(err, errlen, "%s '%s': %s", key, listen, gai_strerror(e));
        return NULL;
    }
    return ai;
}
