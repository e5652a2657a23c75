/* json_write.c — JSON string literals (json_write.h). */
#include "base/json_write.h"

#include "base/utf8.h"

/* A byte that stands for itself in a JSON string: printable ASCII but '"' and '\\'. */
static inline int is_plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void rtml_json_put_string(rtml_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    if (!s) s = "", len = 0;
    rtml_buf_reserve(b, len + 2);
    rtml_buf_putc(b, '"');
    size_t run = 0, i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)s[i];
        if (is_plain(ch)) { i++; continue; }
        int n = ch >= 0x80 ? rtml_utf8_len((const unsigned char *)s + i, len - i) : 0;
        if (n) { i += (size_t)n; continue; }
        rtml_buf_append(b, s + run, i - run);
        const char *short_esc = ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" : ch == '\n' ? "\\n" : ch == '\r' ? "\\r"
                              : ch == '\t' ? "\\t" : ch == '\b' ? "\\b" : ch == '\f' ? "\\f" : NULL;
        if (short_esc) {
            rtml_buf_append(b, short_esc, 2);
        } else if (ch < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            rtml_buf_append(b, u, 6);
        } else {
            rtml_buf_append(b, "\xEF\xBF\xBD", 3); /* invalid UTF-8 byte -> U+FFFD */
        }
        run = ++i;
    }
    rtml_buf_append(b, s + run, i - run);
    rtml_buf_putc(b, '"');
}
