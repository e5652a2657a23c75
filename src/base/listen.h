/* listen.h — a listen address from the config ("HOST:PORT", "[V6]:PORT", ":PORT" for every address) as the
 * socket addresses to bind: the monitor's and the serve endpoint's, parsed the one way. */
#ifndef RTML_BASE_LISTEN_H
#define RTML_BASE_LISTEN_H
#include <stddef.h>

struct addrinfo;

/* The addresses of listen (getaddrinfo's, freed with freeaddrinfo), or NULL with a reason naming key (the config
 * key, e.g. "serve.listen") in err. */
struct addrinfo *rtml_listen_resolve(const char *listen, const char *key, char *err, size_t errlen);

#endif
