/* redact.c — which configuration keys carry secrets (redact.h: rtml_config_is_secret).
 *
 * One rule, shared by everything that shows configuration to people (`rtml check`, the logs, the
 * monitor's /model), so a secret cannot leak through one path that forgot a key the others know.
 *
 * The rule matches words, not a list of librdkafka's properties: the kafka section is passed through
 * verbatim, so it may hold properties this build has never heard of (a newer librdkafka's, a plugin's), and a
 * list would let those through. A key is secret when, case-insensitively, it contains
 *   password, passwd, secret, credential, private, token   sasl.password, ssl.key.password,
 *                                       ssl.keystore.password, sasl.oauthbearer.client.secret, ...
 *   jaas                                sasl.jaas.config (Java's form; it embeds the password)
 *   .pem                                ssl.key.pem, ssl.certificate.pem (inline key material)
 *   oauthbearer.config                  sasl.oauthbearer.config (librdkafka marks it sensitive: it can carry
 *                                       principal and extension values)
 * This also hides a few values that are not secret (ssl.ca.pem, sasl.oauthbearer.token.endpoint.url): showing
 * too little is the safe side of the trade. Paths to key files (ssl.key.location, ssl.keystore.location) stay
 * visible: a path is what one needs to debug a config, and reading the file needs access to the machine. */
#include "config/redact.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

/* Does key contain word, ignoring ASCII case? (strcasestr is a GNU extension; rtml builds as C11 + POSIX.) */
static bool contains_nocase(const char *key, const char *word) {
    size_t n = strlen(word);
    for (const char *p = key; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == word[i]) i++;
        if (i == n) return true;
    }
    return false;
}

bool rtml_config_is_secret(const char *key) {
    static const char *const words[] = {"password", "passwd", "secret", "credential", "private", "token",
                                        "jaas", ".pem", "oauthbearer.config", NULL};
    if (!key) return false;
    for (size_t i = 0; words[i]; i++)
        if (contains_nocase(key, words[i])) return true;
    return false;
}
