/* utf8.h — the one UTF-8 check rtml has (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
 * for the JSON reader and writer and the log's escaping; inline because the JSON scanner calls it per byte. */
#ifndef RTML_BASE_UTF8_H
#define RTML_BASE_UTF8_H
#include <stddef.h>

/* Length (2..4) of the valid multi-byte sequence at p (p[0] >= 0x80), 0 if invalid or truncated (avail bytes). */
static inline int rtml_utf8_len(const unsigned char *p, size_t avail) {
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else return 0;
    if (avail < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return (int)n;
}

#endif
