/* json.c — the zero-copy, one-pass JSON scanner of rtml's hot path (see json.h for the contract).
 *
 * Two halves. Compilation turns the JSON Pointers into a trie flattened into one array: each node's
 * children are contiguous and sorted by (length, bytes), so key lookup is a binary search, behind a 64-bit
 * filter on (length, first byte) that turns most unwanted keys away at once; and each node owns a range of
 * `order`, the output slots of the pointers ending at it and in its subtree. Scanning is one loop over the
 * document with an explicit stack of at most 64 frames; a frame remembers the trie node of its container,
 * or NULL when nothing below it is wanted, in which case keys are validated but never compared. String
 * bodies, the bulk of a record, are skipped eight bytes at a time (SWAR) up to the first quote, backslash,
 * control character or non-ASCII byte. */
#include "codec/json.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/numconv.h"
#include "base/rtml.h"
#include "base/utf8.h"

#define RTML_JSON_NONE UINT32_MAX

/* ---- the compiled trie --------------------------------------------------------------------------------- */

typedef struct {
    const char *key;     /* the segment, unescaped (~0 ~1 resolved); not NUL-terminated */
    uint32_t keylen;
    uint32_t index;      /* the array position the segment names, or RTML_JSON_NONE */
    uint32_t child;      /* children: nodes[child .. child + nchild) */
    uint32_t nchild;
    uint32_t index_limit; /* 1 + the largest child index; 0 when no child names an array position */
    uint32_t out_lo;     /* order[out_lo .. out_hi): the pointers that end at this node */
    uint32_t out_hi;
    uint32_t sub_hi;     /* order[out_lo .. sub_hi): the pointers that end in this subtree */
    uint32_t table;      /* its children by key: slots[table .. table + mask], 0 or 1 + a child's position */
    uint32_t mask;       /* the table's size - 1 (a power of two, at least twice the children) */
    uint64_t head;       /* the key's first 8 bytes (fewer: zero-padded), read as a little-endian word */
} rtml_json_node;

/* A key's first 8 bytes (zero-padded) as a little-endian word: most keys are shorter, so one compare of it and
 * of the length finds them. */
static inline uint64_t rtml_json_key_head(const char *key, size_t len) {
    uint64_t w = 0;
    for (size_t i = 0; i < len && i < 8; i++) w |= (uint64_t)(unsigned char)key[i] << (8 * i);
    return w;
}

static inline uint32_t rtml_json_key_slot(uint64_t head, size_t len, uint32_t mask) {
    return (uint32_t)(((head ^ len) * 0x9E3779B97F4A7C15ULL) >> 40) & mask;
}

struct rtml_json_paths {
    size_t n;              /* number of pointers */
    rtml_json_node *nodes; /* nodes[0] is the root (the document) */
    uint32_t nnodes;
    uint32_t *order;       /* pointer indices, in trie preorder */
    char *arena;           /* the unescaped segment bytes */
    uint32_t *slots;       /* every node's key table (rtml_json_node.table) */
};

/* While compiling: an unordered trie with sibling lists. */
typedef struct {
    uint32_t key_off, keylen;
    uint32_t first_child, next_sibling;
    uint32_t first_out; /* a list through next_out[] of the pointers ending here */
} rtml_json_bnode;

typedef struct {
    rtml_json_bnode *b;
    uint32_t nb, capb;
    uint32_t *next_out;
    char *arena;
    size_t arena_len;
} rtml_json_builder;

size_t rtml_json_paths_count(const rtml_json_paths *p) { return p ? p->n : 0; }

void rtml_json_paths_free(rtml_json_paths *p) {
    if (!p) return;
    free(p->nodes);
    free(p->order);
    free(p->arena);
    free(p->slots);
    free(p);
}

/* "0" or [1-9][0-9]{0,8} names an array position; anything else only an object key. */
static uint32_t rtml_json_segment_index(const char *s, size_t len) {
    if (len == 0 || len > 9 || (len > 1 && s[0] == '0')) return RTML_JSON_NONE;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return RTML_JSON_NONE;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    return v;
}

static uint32_t rtml_json_builder_add(rtml_json_builder *bd, uint32_t parent, uint32_t key_off,
                                      uint32_t keylen) {
    if (bd->nb == bd->capb) {
        uint32_t cap = bd->capb ? bd->capb * 2 : 64;
        rtml_json_bnode *nb = realloc(bd->b, (size_t)cap * sizeof *nb);
        if (!nb) return RTML_JSON_NONE;
        bd->b = nb;
        bd->capb = cap;
    }
    uint32_t id = bd->nb++;
    rtml_json_bnode *n = &bd->b[id];
    n->key_off = key_off;
    n->keylen = keylen;
    n->first_child = n->next_sibling = n->first_out = RTML_JSON_NONE;
    if (parent != RTML_JSON_NONE) {
        n->next_sibling = bd->b[parent].first_child;
        bd->b[parent].first_child = id;
    }
    return id;
}

/* The child of `parent` whose key is the segment at arena[off..off+len), created if missing. */
static uint32_t rtml_json_builder_child(rtml_json_builder *bd, uint32_t parent, uint32_t off, uint32_t len) {
    for (uint32_t c = bd->b[parent].first_child; c != RTML_JSON_NONE; c = bd->b[c].next_sibling)
        if (bd->b[c].keylen == len && memcmp(bd->arena + bd->b[c].key_off, bd->arena + off, len) == 0)
            return c;
    return rtml_json_builder_add(bd, parent, off, len);
}

/* "bad JSON pointer \"/a~2\": reason", the pointer cut to 80 bytes so the reason always fits. */
static int rtml_json_pointer_fail(char *err, size_t errlen, const char *ptr, const char *reason) {
    size_t n = strlen(ptr);
    return rtml_fail(err, errlen, "bad JSON pointer \"%.*s%s\": %s", (int)(n > 80 ? 80 : n), ptr, n > 80 ? "..." : "",
                     reason);
}

/* Parse pointer i (RFC 6901) into the builder's trie. */
static int rtml_json_builder_insert(rtml_json_builder *bd, const char *ptr, uint32_t i, char *err,
                                    size_t errlen) {
    if (!ptr) return rtml_fail(err, errlen, "JSON pointer %u is NULL", i);
    if (ptr[0] == '\0')
        return rtml_fail(err, errlen, "JSON pointer %u is \"\" (the whole document), which is not supported", i);
    if (ptr[0] != '/') return rtml_json_pointer_fail(err, errlen, ptr, "must start with '/'");
    uint32_t node = 0, depth = 0;
    const char *s = ptr;
    while (*s == '/') {
        s++;
        uint32_t off = (uint32_t)bd->arena_len;
        for (; *s && *s != '/'; s++) {
            char c = *s;
            if (c == '~') {
                if (s[1] != '0' && s[1] != '1')
                    return rtml_json_pointer_fail(err, errlen, ptr, "'~' must be followed by 0 or 1");
                c = s[1] == '0' ? '~' : '/';
                s++;
            }
            bd->arena[bd->arena_len++] = c;
        }
        if (++depth > RTML_JSON_MAX_DEPTH)
            return rtml_json_pointer_fail(err, errlen, ptr, "deeper than 64 levels, deeper than any valid document");
        node = rtml_json_builder_child(bd, node, off, (uint32_t)bd->arena_len - off);
        if (node == RTML_JSON_NONE) return rtml_fail(err, errlen, "out of memory compiling JSON pointers");
    }
    bd->next_out[i] = bd->b[node].first_out;
    bd->b[node].first_out = i;
    return 0;
}

typedef struct {
    const char *key;
    uint32_t keylen, bid;
} rtml_json_sortkey;

static int rtml_json_sortkey_cmp(const void *a, const void *b) {
    const rtml_json_sortkey *x = a, *y = b;
    if (x->keylen != y->keylen) return x->keylen < y->keylen ? -1 : 1;
    return memcmp(x->key, y->key, x->keylen);
}

/* Breadth-first copy of the builder trie into p->nodes, children contiguous and sorted. fb[f] is the
 * builder id of final node f. */
static int rtml_json_flatten(rtml_json_paths *p, const rtml_json_builder *bd, uint32_t *fb) {
    rtml_json_sortkey *tmp = malloc((size_t)bd->nb * sizeof *tmp);
    if (!tmp) return -1;
    p->nnodes = 1;
    fb[0] = 0;
    memset(&p->nodes[0], 0, sizeof p->nodes[0]);
    p->nodes[0].index = RTML_JSON_NONE;
    for (uint32_t f = 0; f < p->nnodes; f++) {
        uint32_t k = 0;
        for (uint32_t c = bd->b[fb[f]].first_child; c != RTML_JSON_NONE; c = bd->b[c].next_sibling)
            tmp[k++] = (rtml_json_sortkey){p->arena + bd->b[c].key_off, bd->b[c].keylen, c};
        qsort(tmp, k, sizeof *tmp, rtml_json_sortkey_cmp);
        rtml_json_node *node = &p->nodes[f];
        node->child = p->nnodes;
        node->nchild = k;
        node->index_limit = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t id = p->nnodes++;
            rtml_json_node *ch = &p->nodes[id];
            memset(ch, 0, sizeof *ch);
            ch->key = tmp[j].key;
            ch->keylen = tmp[j].keylen;
            ch->index = rtml_json_segment_index(ch->key, ch->keylen);
            fb[id] = tmp[j].bid;
            ch->head = rtml_json_key_head(ch->key, ch->keylen);
            if (ch->index != RTML_JSON_NONE && ch->index + 1 > node->index_limit) node->index_limit = ch->index + 1;
        }
    }
    free(tmp);
    return 0;
}

/* Preorder numbering of the output slots, so that a subtree owns one contiguous range of `order`.
 * Recursion is bounded by the 64-segment limit on pointers. */
static void rtml_json_number_outputs(rtml_json_paths *p, const rtml_json_builder *bd, const uint32_t *fb,
                                     uint32_t f, uint32_t *k) {
    rtml_json_node *node = &p->nodes[f];
    node->out_lo = *k;
    for (uint32_t i = bd->b[fb[f]].first_out; i != RTML_JSON_NONE; i = bd->next_out[i]) p->order[(*k)++] = i;
    node->out_hi = *k;
    for (uint32_t c = 0; c < node->nchild; c++) rtml_json_number_outputs(p, bd, fb, node->child + c, k);
    p->nodes[f].sub_hi = *k;
}

/* Each node's key table: open addressing, linear probing, at most half full. */
static int rtml_json_tables(rtml_json_paths *p) {
    size_t total = 0;
    for (uint32_t f = 0; f < p->nnodes; f++) {
        uint32_t size = 4;
        while (size < 2 * p->nodes[f].nchild) size *= 2;
        p->nodes[f].table = (uint32_t)total;
        p->nodes[f].mask = size - 1;
        total += size;
    }
    if (!(p->slots = calloc(total, sizeof *p->slots))) return -1;
    for (uint32_t f = 0; f < p->nnodes; f++) {
        const rtml_json_node *node = &p->nodes[f];
        uint32_t *t = p->slots + node->table;
        for (uint32_t c = 0; c < node->nchild; c++) {
            const rtml_json_node *ch = &p->nodes[node->child + c];
            uint32_t i = rtml_json_key_slot(ch->head, ch->keylen, node->mask);
            while (t[i]) i = (i + 1) & node->mask;
            t[i] = c + 1;
        }
    }
    return 0;
}

static int rtml_json_build(rtml_json_paths *p, rtml_json_builder *bd, const char *const *pointers, size_t n,
                           char *err, size_t errlen) {
    if (rtml_json_builder_add(bd, RTML_JSON_NONE, 0, 0) == RTML_JSON_NONE)
        return rtml_fail(err, errlen, "out of memory compiling JSON pointers");
    for (size_t i = 0; i < n; i++)
        if (rtml_json_builder_insert(bd, pointers[i], (uint32_t)i, err, errlen) < 0) return -1;
    p->nodes = malloc((size_t)bd->nb * sizeof *p->nodes);
    p->order = malloc((n ? n : 1) * sizeof *p->order);
    uint32_t *fb = malloc((size_t)bd->nb * sizeof *fb);
    int rc = (p->nodes && p->order && fb) ? rtml_json_flatten(p, bd, fb) : -1;
    if (rc == 0) rc = rtml_json_tables(p);
    if (rc == 0) {
        uint32_t k = 0;
        rtml_json_number_outputs(p, bd, fb, 0, &k);
    }
    free(fb);
    return rc < 0 ? rtml_fail(err, errlen, "out of memory compiling JSON pointers") : 0;
}

rtml_json_paths *rtml_json_paths_new(const char *const *pointers, size_t n, char *err, size_t errlen) {
    if (n > RTML_JSON_MAX_POINTERS) {
        rtml_fail(err, errlen, "%zu JSON pointers, at most %d are supported", n, RTML_JSON_MAX_POINTERS);
        return NULL;
    }
    if (n && !pointers) {
        rtml_fail(err, errlen, "no JSON pointers given");
        return NULL;
    }
    size_t total = 1;
    for (size_t i = 0; i < n; i++) total += pointers[i] ? strlen(pointers[i]) : 0;
    rtml_json_paths *p = calloc(1, sizeof *p);
    rtml_json_builder bd = {0};
    bd.arena = malloc(total);
    bd.next_out = malloc((n ? n : 1) * sizeof *bd.next_out);
    int ok = p && bd.arena && bd.next_out && total <= UINT32_MAX;
    if (!ok) rtml_fail(err, errlen, "out of memory compiling JSON pointers");
    if (p) {
        p->n = n;
        p->arena = bd.arena; /* the nodes point into it: it belongs to p from now on */
    } else {
        free(bd.arena);
    }
    if (ok) ok = rtml_json_build(p, &bd, pointers, n, err, errlen) == 0;
    free(bd.b);
    free(bd.next_out);
    if (ok) return p;
    rtml_json_paths_free(p);
    return NULL;
}

/* ---- byte-level helpers --------------------------------------------------------------------------------- */

static inline int rtml_json_is_digit(unsigned char c) { return (unsigned char)(c - '0') < 10; }

static inline const char *rtml_json_skip_ws(const char *p, const char *end) {
    while (p < end && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* A byte that may stand for itself inside a string on the fast path: printable ASCII but '"' and '\\'. */
static inline int rtml_json_is_plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

/* Which of the 8 bytes at p need attention (quote, backslash, < 0x20, >= 0x80)? Returns a mask with the
 * high bit of each such byte set, 0 if none. Exact for the first such byte in memory order on little-endian
 * machines; the borrow tricks may flag bytes after it, which callers never look at. */
static inline uint64_t rtml_json_special8(const char *p) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t v;
    memcpy(&v, p, 8);
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | (v - ones * 0x20) | v) & highs;
}

#if defined(__SSE2__)
/* The same for 16 bytes with SSE2 (every x86-64 has it): a bit per byte needing attention. A signed compare
 * with 0x20 catches the control characters and, as negative bytes, every byte >= 0x80 at once. */
static inline unsigned rtml_json_special16(const char *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                             _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* Skip plain string bytes from p: returns the first byte needing attention, or end. */
static inline const char *rtml_json_skip_plain(const char *p, const char *end) {
#if defined(__SSE2__)
    while (end - p >= 16) {
        unsigned m = rtml_json_special16(p);
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (end - p >= 8) {
        uint64_t m = rtml_json_special8(p);
        if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && rtml_json_is_plain((unsigned char)*p)) p++;
    return p;
}

static int rtml_json_hex4(const char *p, uint32_t *cp) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        uint32_t d;
        if (rtml_json_is_digit(c)) d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (uint32_t)((c | 0x20) - 'a' + 10);
        else return -1;
        v = v << 4 | d;
    }
    *cp = v;
    return 0;
}

static int rtml_json_put_utf8(uint32_t cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escape at p (p[0] == '\\', p < end) into o (up to 4 bytes), setting *n. Returns the end of
 * the escape, or NULL if it is invalid; *why then says why (and *why is NULL when input ran out). */
static const char *rtml_json_decode_escape(const char *p, const char *end, char *o, int *n, const char **why) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    *why = NULL;
    if (end - p < 2) return NULL;
    const char *hit = p[1] ? memchr(from, p[1], sizeof from - 1) : NULL;
    if (hit) {
        o[0] = to[hit - from];
        *n = 1;
        return p + 2;
    }
    uint32_t cp, lo;
    if (p[1] != 'u') return *why = "invalid escape", NULL;
    if (end - p < 6) return NULL;
    if (rtml_json_hex4(p + 2, &cp) < 0) return *why = "invalid \\u escape", NULL;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return *why = "lone low surrogate in \\u escape", NULL;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 12 && (end - p < 7 || p[6] == '\\') && (end - p < 8 || p[7] == 'u')) return NULL;
        if (p[6] != '\\' || p[7] != 'u' || rtml_json_hex4(p + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
            return *why = "lone high surrogate in \\u escape", NULL;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    }
    *n = rtml_json_put_utf8(cp, o);
    return p + 6;
}

/* ---- the scanner ----------------------------------------------------------------------------------------- */

typedef struct {
    const char *doc;
    char *err;
    size_t errlen;
} rtml_json_ctx;

typedef struct {
    const rtml_json_node *node; /* trie node of this container, NULL when nothing inside is wanted */
    const char *start;          /* its opening bracket */
    uint32_t index;             /* arrays: position of the current element */
    int is_array;
} rtml_json_frame;

/* Report "offset N: reason" and return NULL, for the helpers that return the scan position. */
__attribute__((format(printf, 3, 4)))
static const char *rtml_json_fail_at(const rtml_json_ctx *c, const char *at, const char *fmt, ...) {
    if (!c->err || !c->errlen) return NULL;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rtml_fail(c->err, c->errlen, "offset %zu: %s", (size_t)(at - c->doc), why);
    return NULL;
}

static const char *rtml_json_scan_escape(const rtml_json_ctx *c, const char *p, const char *end,
                                         const char *open) {
    char o[4];
    int n;
    const char *why;
    const char *q = rtml_json_decode_escape(p, end, o, &n, &why);
    if (q) return q;
    if (!why) return rtml_json_fail_at(c, open, "unterminated string");
    return rtml_json_fail_at(c, p, "%s", why);
}

/* From p, somewhere inside the string that opens at `open`: returns just past the closing quote, or NULL. */
static const char *rtml_json_scan_string(const rtml_json_ctx *c, const char *open, const char *p, const char *end,
                                         int *escaped) {
    for (;;) {
        p = rtml_json_skip_plain(p, end);
        if (p == end) return rtml_json_fail_at(c, open, "unterminated string");
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') return p + 1;
        if (ch == '\\') {
            *escaped = 1;
            if (!(p = rtml_json_scan_escape(c, p, end, open))) return NULL;
        } else if (ch < 0x20) {
            return rtml_json_fail_at(c, p, "control character 0x%02x in string", ch);
        } else {
            int n = rtml_utf8_len((const unsigned char *)p, (size_t)(end - p));
            if (!n) return rtml_json_fail_at(c, p, "invalid UTF-8");
            p += n;
        }
    }
}

/* Which of the 8 bytes at p are not digits: the high bit of each such byte set (exact for the first one in
 * memory order, on little-endian machines: a carry only moves up from a byte already flagged). */
static inline uint64_t rtml_json_nondigit8(const char *p) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t v;
    memcpy(&v, p, 8);
    uint64_t x = v ^ (ones * '0'); /* digits become 0..9; every other byte is >= 10 */
    return ((x + ones * 0x76) | x) & highs;
}

static inline const char *rtml_json_skip_digits(const char *p, const char *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t m = rtml_json_nondigit8(p);
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end && rtml_json_is_digit((unsigned char)*p)) p++;
    return p;
}

/* p is at '-' or a digit; returns the end of the number, or NULL. */
static inline const char *rtml_json_scan_number(const rtml_json_ctx *c, const char *p, const char *end) {
    const char *s = p;
    if (*p == '-') p++;
    if (p == end || !rtml_json_is_digit((unsigned char)*p)) return rtml_json_fail_at(c, p, "digit expected after '-'");
    if (*p == '0') {
        if (++p < end && rtml_json_is_digit((unsigned char)*p))
            return rtml_json_fail_at(c, s, "leading zero in number");
    } else {
        p = rtml_json_skip_digits(p, end);
    }
    if (p < end && *p == '.') {
        if (++p == end || !rtml_json_is_digit((unsigned char)*p))
            return rtml_json_fail_at(c, p, "digit expected after '.'");
        p = rtml_json_skip_digits(p, end);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-')) p++;
        if (p == end || !rtml_json_is_digit((unsigned char)*p))
            return rtml_json_fail_at(c, p, "digit expected in exponent");
        p = rtml_json_skip_digits(p, end);
    }
    return p;
}

static inline int rtml_json_is_alpha(unsigned char c) { return (unsigned char)((c | 0x20) - 'a') < 26; }

/* p is at 't', 'f' or 'n'; returns the end of true/false/null and sets *type, or NULL. */
static const char *rtml_json_scan_literal(const rtml_json_ctx *c, const char *p, const char *end,
                                          rtml_json_type *type) {
    static const char *const words[] = {"null", "false", "true"};
    int w = *p == 'n' ? 0 : *p == 'f' ? 1 : 2;
    size_t n = strlen(words[w]);
    int bad = (size_t)(end - p) < n || memcmp(p, words[w], n) != 0;
    if (bad || ((size_t)(end - p) > n && rtml_json_is_alpha((unsigned char)p[n]))) /* "truex" */
        return rtml_json_fail_at(c, p, "invalid literal (only true, false and null are allowed)");
    *type = (rtml_json_type)(RTML_JSON_NULL + w);
    return p + n;
}

static const char *rtml_json_unexpected(const rtml_json_ctx *c, const char *p, const char *end) {
    if (p == end) return rtml_json_fail_at(c, p, "unexpected end of input");
    unsigned char ch = (unsigned char)*p;
    if (rtml_json_is_alpha(ch))
        return rtml_json_fail_at(c, p, "invalid literal (only true, false and null are allowed)");
    if (ch > 0x20 && ch < 0x7f) return rtml_json_fail_at(c, p, "unexpected character '%c'", ch);
    return rtml_json_fail_at(c, p, "unexpected byte 0x%02x", ch);
}

/* Compare a document key (raw bytes between the quotes, containing escapes) with a plain segment. */
static int rtml_json_escaped_eq(const char *raw, size_t rawlen, const char *s, size_t len) {
    const char *p = raw, *end = raw + rawlen;
    size_t i = 0;
    while (p < end) {
        if (*p != '\\') {
            if (i == len || s[i++] != *p++) return 0;
            continue;
        }
        char o[4];
        int n;
        const char *why;
        if (!(p = rtml_json_decode_escape(p, end, o, &n, &why))) return 0;
        if (len - i < (size_t)n || memcmp(s + i, o, (size_t)n) != 0) return 0;
        i += (size_t)n;
    }
    return i == len;
}

/* The first 8 bytes of a document key (zero-padded past its end), as rtml_json_key_head reads a segment. */
static inline uint64_t rtml_json_doc_head(const char *raw, size_t rawlen, const char *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (end - raw >= 8) {
        uint64_t w;
        memcpy(&w, raw, 8);
        return rawlen >= 8 ? w : w & ((1ULL << (8 * rawlen)) - 1);
    }
#endif
    return rtml_json_key_head(raw, rawlen);
}

/* The child of node named by the document key (raw, rawlen; head: rtml_json_doc_head), or NULL. */
static const rtml_json_node *rtml_json_lookup_key(const rtml_json_paths *paths, const rtml_json_node *node,
                                                  const char *raw, size_t rawlen, uint64_t head, int escaped) {
    const rtml_json_node *kids = paths->nodes + node->child;
    if (escaped) {
        for (uint32_t i = 0; i < node->nchild; i++)
            if (rtml_json_escaped_eq(raw, rawlen, kids[i].key, kids[i].keylen)) return &kids[i];
        return NULL;
    }
    const uint32_t *t = paths->slots + node->table;
    for (uint32_t i = rtml_json_key_slot(head, rawlen, node->mask);; i = (i + 1) & node->mask) {
        if (!t[i]) return NULL;
        const rtml_json_node *k = &kids[t[i] - 1];
        if (k->keylen == rawlen && k->head == head && (rawlen <= 8 || memcmp(k->key + 8, raw + 8, rawlen - 8) == 0))
            return k;
    }
}

/* The child of node named by array position idx, or NULL. */
static inline const rtml_json_node *rtml_json_lookup_index(const rtml_json_paths *paths,
                                                           const rtml_json_node *node, uint32_t idx) {
    if (!node || idx >= node->index_limit) return NULL;
    const rtml_json_node *kids = paths->nodes + node->child;
    for (uint32_t i = 0; i < node->nchild; i++)
        if (kids[i].index == idx) return &kids[i];
    return NULL;
}

static inline void rtml_json_emit(const rtml_json_paths *paths, const rtml_json_node *node, rtml_json_span *out,
                                  rtml_json_type type, const char *ptr, size_t len, int escaped) {
    for (uint32_t k = node->out_lo; k < node->out_hi; k++)
        out[paths->order[k]] = (rtml_json_span){type, ptr, len, escaped, 0, 0, 0};
}

/* A wanted key starts its value: forget whatever an earlier occurrence of the same key provided (for its
 * whole subtree), so that with duplicate keys the last one wins. */
static inline void rtml_json_forget(const rtml_json_paths *paths, const rtml_json_node *node, rtml_json_span *out) {
    for (uint32_t k = node->out_lo; k < node->sub_hi; k++) out[paths->order[k]] = (rtml_json_span){0};
}

/* After an object key (p just past its closing quote): the ':' and the whitespace around it. */
static const char *rtml_json_scan_colon(const rtml_json_ctx *c, const char *p, const char *end) {
    p = rtml_json_skip_ws(p, end);
    if (p == end) return rtml_json_unexpected(c, p, end);
    if (*p != ':') return rtml_json_fail_at(c, p, "expected ':'");
    return rtml_json_skip_ws(p + 1, end);
}

/* ---- number conversion, as the number is scanned -----------------------------------------------------------
 * A wanted number's digits are gathered while they are validated, 8 at a time, into a 64-bit mantissa (its
 * first 19 digits), then Clinger's fast path: a mantissa within 2^53 and a decimal exponent within +-22 make
 * both operands exact doubles, so one IEEE multiplication or division gives the correctly rounded result.
 * Anything else (longer mantissas, far exponents) goes to rtml_parse_double (numconv.h: Eisel-Lemire via
 * std::from_chars), correctly rounded as well: the same double strtod gives, at a quarter of its cost. */

/* The value of 8 ASCII digits read as a little-endian word (the first digit in the lowest byte): pairs, then
 * quads, then all eight, each step one multiply-add on lanes twice as wide. */
static inline uint64_t rtml_json_parse8(uint64_t v) {
    v -= 0x3030303030303030ULL;
    v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
    v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
    return (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;
}

static const uint64_t rtml_json_pow10_u64[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* A number's digits so far: the first 19 in mant, how many in all. */
typedef struct {
    uint64_t mant;
    unsigned ndigits;
} rtml_json_digits;

/* rtml_json_skip_digits that also adds the digits to a. A run shorter than 8 within one word is read from it
 * shifted up to the word's top, its bottom filled with '0's. */
static inline const char *rtml_json_take_digits(const char *p, const char *end, rtml_json_digits *a) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t w, m = rtml_json_nondigit8(p);
        memcpy(&w, p, 8);
        unsigned k = m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
        if (k && a->ndigits + k <= 19)
            a->mant = a->mant * rtml_json_pow10_u64[k] +
                      rtml_json_parse8(k == 8 ? w : (w << (8 * (8 - k))) | (0x3030303030303030ULL >> (8 * k)));
        a->ndigits += k;
        p += k;
        if (k < 8) return p;
    }
#endif
    for (; p < end && rtml_json_is_digit((unsigned char)*p); p++, a->ndigits++)
        if (a->ndigits < 19) a->mant = a->mant * 10 + (uint64_t)(*p - '0');
    return p;
}

/* The number s[0..len) from its parts into sp's num_state, num and i64 (json.h). */
static void rtml_json_convert(const char *s, size_t len, int neg, int plain, rtml_json_digits a, long e,
                              rtml_json_span *sp) {
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (plain && a.ndigits <= 19) { /* an integer, within int64 unless it overflows */
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (a.mant <= limit) {
            sp->i64 = neg ? (a.mant == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)a.mant) : (long long)a.mant;
            sp->num = (double)sp->i64;
            sp->num_state = 2;
            return;
        }
    }
    sp->num_state = -1;
    if (len > RTML_JSON_MAX_NUMBER) return;
    if (a.ndigits <= 19 && a.mant <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
        double d = (double)a.mant;
        d = e < 0 ? d / pow10[-e] : d * pow10[e];
        sp->num = neg ? -d : d;
        sp->num_state = 1;
        return;
    }
    double d;
    if (rtml_parse_double(s, len, &d) == 0 && !isinf(d)) sp->num = d, sp->num_state = 1;
}

/* rtml_json_scan_number that also converts the number into sp (json.h: num_state, num, i64). */
static const char *rtml_json_scan_number_value(const rtml_json_ctx *c, const char *p, const char *end,
                                               rtml_json_span *sp) {
    const char *s = p;
    rtml_json_digits a = {0, 0};
    int neg = *p == '-', plain = 1;
    long e = 0;
    p += neg;
    if (p == end || !rtml_json_is_digit((unsigned char)*p)) return rtml_json_fail_at(c, p, "digit expected after '-'");
    if (*p == '0') {
        a.ndigits = 1;
        if (++p < end && rtml_json_is_digit((unsigned char)*p))
            return rtml_json_fail_at(c, s, "leading zero in number");
    } else {
        p = rtml_json_take_digits(p, end, &a);
    }
    if (p < end && *p == '.') {
        if (++p == end || !rtml_json_is_digit((unsigned char)*p))
            return rtml_json_fail_at(c, p, "digit expected after '.'");
        unsigned before = a.ndigits;
        p = rtml_json_take_digits(p, end, &a);
        e = -(long)(a.ndigits - before);
        plain = 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        long x = 0;
        if (++p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p == end || !rtml_json_is_digit((unsigned char)*p))
            return rtml_json_fail_at(c, p, "digit expected in exponent");
        for (; p < end && rtml_json_is_digit((unsigned char)*p); p++)
            if (x < 100000) x = x * 10 + (*p - '0'); /* saturated: far beyond any double anyway */
        e += eneg ? -x : x;
        plain = 0;
    }
    rtml_json_convert(s, (size_t)(p - s), neg, plain, a, e, sp);
    return p;
}

/* The word's first k digits (1 <= k <= 7) moved to its top, '0's below: parse8 of it is their value. */
static inline uint64_t rtml_json_top_digits(uint64_t w, unsigned k) {
    return (w << (8 * (8 - k))) | (0x3030303030303030ULL >> (8 * k));
}

/* rtml_json_scan_number_value for the usual number, [-]D{1,7}[.D{1,16}] followed by a byte that ends it, with
 * 32 bytes left in the document: a few word operations and no loop. NULL for anything else (a longer integer
 * part, an exponent, a leading zero, an error): the caller then takes the general path, which decides. */
static inline const char *rtml_json_number_fast(const char *p, const char *end, rtml_json_span *sp) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    int neg = *p == '-';
    const char *d = p + neg;
    if (end - d < 26) return NULL; /* room for the words read below */
    uint64_t w, m = rtml_json_nondigit8(d), mant;
    unsigned k = m ? (unsigned)__builtin_ctzll(m) >> 3 : 8, nf = 0;
    if (k == 0 || k == 8 || (k > 1 && d[0] == '0')) return NULL;
    if (k == 1) {
        mant = (uint64_t)(d[0] - '0');
    } else {
        memcpy(&w, d, 8);
        mant = rtml_json_parse8(rtml_json_top_digits(w, k));
    }
    d += k;
    if (*d == '.') {
        m = rtml_json_nondigit8(d + 1);
        unsigned k2 = m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
        if (k2 == 0) return NULL;
        memcpy(&w, d + 1, 8);
        if (k2 < 8) {
            mant = mant * rtml_json_pow10_u64[k2] + rtml_json_parse8(rtml_json_top_digits(w, k2));
        } else {
            mant = mant * 100000000 + rtml_json_parse8(w);
            m = rtml_json_nondigit8(d + 9);
            unsigned k3 = m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
            if (k3 == 8 || k + 8 + k3 > 19) return NULL;
            if (k3) {
                memcpy(&w, d + 9, 8);
                mant = mant * rtml_json_pow10_u64[k3] + rtml_json_parse8(rtml_json_top_digits(w, k3));
            }
            k2 = 8 + k3;
        }
        nf = k2;
        d += 1 + k2;
    }
    if (*d == 'e' || *d == 'E') return NULL;
    if (!nf) { /* an integer of at most 7 digits */
        sp->i64 = neg ? -(long long)mant : (long long)mant;
        sp->num = (double)sp->i64;
        sp->num_state = 2;
        return d;
    }
    if (mant > (UINT64_C(1) << 53)) return NULL;
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                                   1e15, 1e16};
    double x = (double)mant / pow10[nf]; /* Clinger: both exact, one rounding */
    sp->num = neg ? -x : x;
    sp->num_state = 1;
    return d;
#else
    (void)p, (void)end, (void)sp;
    return NULL;
#endif
}

/* An object key, p at its opening quote: returns just past the closing quote (or NULL) and sets *head
 * (rtml_json_doc_head). Most keys are short and plain: one 8-byte load finds the closing quote and is the head. */
static inline const char *rtml_json_scan_key(const rtml_json_ctx *c, const char *p, const char *end, uint64_t *head,
                                             int *escaped) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (end - p >= 9) {
        uint64_t m = rtml_json_special8(p + 1);
        unsigned i = m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
        if (i < 8 && p[1 + i] == '"') {
            uint64_t w;
            memcpy(&w, p + 1, 8);
            *head = w & ((1ULL << (8 * i)) - 1);
            return p + i + 2;
        }
    }
#endif
    const char *q = rtml_json_scan_string(c, p, p + 1, end, escaped);
    if (q) *head = rtml_json_doc_head(p + 1, (size_t)(q - p - 2), end);
    return q;
}

/* The whole scan: validation always, extraction when paths is non-NULL (out then has paths->n entries).
 * One loop with explicit states (labels) and an explicit stack, because this is the hot path:
 *   value  - p at the start of a value (whitespace skipped); cur is its trie node or NULL
 *   closed - p just past the closing bracket of the top frame
 *   after  - a value just ended: expect ',' or the closing bracket, or the end at top level
 *   key    - p where an object key must start */
static int rtml_json_scan(const rtml_json_paths *paths, const char *doc, size_t len, rtml_json_span *out,
                          char *err, size_t errlen) {
    rtml_json_ctx c = {doc, err, errlen};
    rtml_json_frame stack[RTML_JSON_MAX_DEPTH], *f = NULL;
    int depth = 0;
    const char *p = doc, *end = doc + len, *q;
    const rtml_json_node *cur = paths ? paths->nodes : NULL;
    rtml_json_type type = RTML_JSON_NULL;
    int escaped;
    uint64_t head;
    rtml_json_span number;

    p = rtml_json_skip_ws(p, end);
    if (paths && (p == end || *p != '{'))
        return p == end ? (rtml_json_unexpected(&c, p, end), -1)
                        : (rtml_json_fail_at(&c, p, "top-level value is not an object"), -1);
value:
    if (p == end) return rtml_json_unexpected(&c, p, end), -1;
    q = p;
    switch (*p) {
    case '{':
    case '[':
        if (depth == RTML_JSON_MAX_DEPTH)
            return rtml_json_fail_at(&c, p, "nesting deeper than %d levels", RTML_JSON_MAX_DEPTH), -1;
        f = &stack[depth++];
        *f = (rtml_json_frame){cur, p, 0, *p == '['};
        p = rtml_json_skip_ws(p + 1, end);
        if (p < end && *p == (f->is_array ? ']' : '}')) { p++; goto closed; }
        if (!f->is_array) goto key;
        cur = rtml_json_lookup_index(paths, f->node, 0);
        goto value;
    case '"':
        escaped = 0;
        p = rtml_json_skip_plain(p + 1, end);
        if (p < end && *p == '"') p++; /* the usual string: no escape, ASCII only */
        else if (!(p = rtml_json_scan_string(&c, q, p, end, &escaped))) return -1;
        if (cur) rtml_json_emit(paths, cur, out, RTML_JSON_STRING, q + 1, (size_t)(p - q - 2), escaped);
        goto after;
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        if (!cur) {
            if (!(p = rtml_json_scan_number(&c, p, end))) return -1;
            goto after;
        }
        number = (rtml_json_span){RTML_JSON_NUMBER, q, 0, 0, 0, 0, 0};
        const char *fast = rtml_json_number_fast(p, end, &number);
        if (!(p = fast ? fast : rtml_json_scan_number_value(&c, p, end, &number))) return -1;
        number.len = (size_t)(p - q);
        for (uint32_t k = cur->out_lo; k < cur->out_hi; k++) out[paths->order[k]] = number;
        goto after;
    case 't': case 'f': case 'n':
        if (!(p = rtml_json_scan_literal(&c, p, end, &type))) return -1;
        if (cur) rtml_json_emit(paths, cur, out, type, q, (size_t)(p - q), 0);
        goto after;
    default:
        return rtml_json_unexpected(&c, p, end), -1;
    }
closed:
    f = &stack[--depth];
    if (f->node) rtml_json_emit(paths, f->node, out, f->is_array ? RTML_JSON_ARRAY : RTML_JSON_OBJECT, f->start,
                                (size_t)(p - f->start), 0);
    f = depth ? &stack[depth - 1] : NULL;
after:
    p = rtml_json_skip_ws(p, end);
    if (!depth) return p == end ? 0 : (rtml_json_fail_at(&c, p, "unexpected data after the top-level value"), -1);
    if (p < end && *p == ',') {
        q = p;
        p = rtml_json_skip_ws(p + 1, end);
        if (p < end && (*p == '}' || *p == ']')) return rtml_json_fail_at(&c, q, "trailing comma"), -1;
        if (!f->is_array) goto key;
        if (f->index != UINT32_MAX) f->index++; /* saturate: never wraps around to position 0 */
        cur = rtml_json_lookup_index(paths, f->node, f->index);
        goto value;
    }
    if (p < end && *p == (f->is_array ? ']' : '}')) { p++; goto closed; }
    if (p == end) return rtml_json_unexpected(&c, p, end), -1;
    return rtml_json_fail_at(&c, p, f->is_array ? "expected ',' or ']'" : "expected ',' or '}'"), -1;
key:
    if (p == end) return rtml_json_unexpected(&c, p, end), -1;
    if (*p != '"') return rtml_json_fail_at(&c, p, "expected a string key"), -1;
    q = p;
    escaped = 0;
    if (!(p = rtml_json_scan_key(&c, p, end, &head, &escaped))) return -1;
    cur = NULL;
    if (f->node && f->node->nchild) {
        cur = rtml_json_lookup_key(paths, f->node, q + 1, (size_t)(p - q - 2), head, escaped);
        if (cur) rtml_json_forget(paths, cur, out);
    }
    if (p < end && *p == ':') p = rtml_json_skip_ws(p + 1, end); /* the usual colon, right after the key */
    else if (!(p = rtml_json_scan_colon(&c, p, end))) return -1;
    goto value;
}

int rtml_json_extract(const rtml_json_paths *p, const char *doc, size_t len, rtml_json_span *out, char *err,
                      size_t errlen) {
    if (!p) return rtml_fail(err, errlen, "no compiled JSON pointers");
    if (!doc && len) return rtml_fail(err, errlen, "NULL document");
    if (!out && p->n) return rtml_fail(err, errlen, "no output array");
    for (size_t i = 0; i < p->n; i++) out[i] = (rtml_json_span){0};
    int rc = rtml_json_scan(p, doc ? doc : "", len, out, err, errlen);
    if (rc < 0)
        for (size_t i = 0; i < p->n; i++) out[i] = (rtml_json_span){0};
    return rc;
}

/* ---- the shape cache ------------------------------------------------------------------------------------
 * A stream's records nearly always share one shape: the same keys in the same order, the same spacing; only the
 * values change. A shape remembers, for the last document scanned in full, the bytes between its top-level
 * values (literal i: from the end of value i-1, or the document's start, up to value i; then the tail after the
 * last value) and the trie node each value's key names. A document whose bytes between values are those same
 * bytes is valid wherever those are (they were, in the same place of the same grammar), so only its values need
 * scanning: no key is scanned or looked up, no whitespace or separator examined one at a time. Any difference
 * (another key, another order, a nested value, an error) and the full scan runs instead, from the start: the
 * results and errors are exactly rtml_json_extract's. Flat objects of scalars only: a nested value ends a shape.
 * A stream whose shapes keep changing stops trying after RTML_SHAPE_MISSES misses in a row, for
 * RTML_SHAPE_REST documents. */

#define RTML_SHAPE_MEMBERS 256  /* the most top-level members a shape holds */
#define RTML_SHAPE_BYTES 8192   /* and bytes between them, in all */
#define RTML_SHAPE_MISSES 8
#define RTML_SHAPE_REST 1024
#define SHAPE_NONE (-1) /* nothing wanted */
#define SHAPE_MANY (-2) /* several outputs, or a subtree to forget: rtml_json_emit */

struct rtml_json_shape {
    const rtml_json_paths *paths;  /* what it was learned for */
    uint32_t n;                    /* members; 0 with valid = 0: no shape */
    int valid;
    int complete;                  /* every output is one member's alone (slot): a scan that succeeds fills them all */
    uint32_t misses, rest;         /* misses in a row; documents left before trying again */
    uint32_t off[RTML_SHAPE_MEMBERS + 1], len[RTML_SHAPE_MEMBERS + 1]; /* literal i in bytes[off .. off + len) */
    const rtml_json_node *node[RTML_SHAPE_MEMBERS];
    int32_t slot[RTML_SHAPE_MEMBERS]; /* the one output a value fills, SHAPE_NONE, or SHAPE_MANY (see node) */
    uint32_t used;
    char bytes[RTML_SHAPE_BYTES + 8]; /* + 8: a literal is compared 8 bytes at a time */
};

rtml_json_shape *rtml_json_shape_new(void) { return calloc(1, sizeof(rtml_json_shape)); }

void rtml_json_shape_free(rtml_json_shape *sh) { free(sh); }

/* Keep doc[lo .. hi) as literal i; 0, or -1 when the shape is full. */
static int rtml_json_shape_keep(rtml_json_shape *sh, uint32_t i, const char *lo, const char *hi) {
    size_t n = (size_t)(hi - lo);
    if (n > RTML_SHAPE_BYTES - sh->used) return -1;
    memcpy(sh->bytes + sh->used, lo, n);
    sh->off[i] = sh->used;
    sh->len[i] = (uint32_t)n;
    sh->used += (uint32_t)n;
    return 0;
}

/* Learn the shape of doc, which the full scan has just accepted (so every step here succeeds). */
static void rtml_json_shape_learn(rtml_json_shape *sh, const rtml_json_paths *paths, const char *doc, size_t len) {
    rtml_json_ctx c = {doc, NULL, 0};
    const char *p = rtml_json_skip_ws(doc, doc + len), *end = doc + len, *lit = doc;
    const rtml_json_node *root = paths->nodes;
    rtml_json_type type;
    uint32_t i = 0;
    *sh = (rtml_json_shape){.paths = paths, .misses = sh->misses, .rest = sh->rest};
    p = rtml_json_skip_ws(p + 1, end);
    if (*p != '}') {
        for (;; i++) {
            uint64_t head;
            int escaped = 0;
            const char *q = p;
            if (i == RTML_SHAPE_MEMBERS || !(p = rtml_json_scan_key(&c, p, end, &head, &escaped))) return;
            const rtml_json_node *cur = root->nchild ? rtml_json_lookup_key(paths, root, q + 1, (size_t)(p - q - 2),
                                                                            head, escaped)
                                                     : NULL;
            sh->node[i] = cur;
            sh->slot[i] = !cur ? SHAPE_NONE
                          : cur->out_hi - cur->out_lo == 1 && cur->sub_hi == cur->out_hi ? (int32_t)paths->order[cur->out_lo]
                                                                                         : SHAPE_MANY;
            p = rtml_json_skip_ws(rtml_json_skip_ws(p, end) + 1, end); /* the ':' */
            if (rtml_json_shape_keep(sh, i, lit, p) != 0) return;
            if (*p == '"') p = rtml_json_scan_string(&c, p, p + 1, end, &escaped);
            else if (*p == '-' || rtml_json_is_digit((unsigned char)*p)) p = rtml_json_scan_number(&c, p, end);
            else if (*p == 't' || *p == 'f' || *p == 'n') p = rtml_json_scan_literal(&c, p, end, &type);
            else return; /* an object or an array: not a flat shape */
            lit = p;
            p = rtml_json_skip_ws(p, end);
            if (*p != ',') break;
            p = rtml_json_skip_ws(p + 1, end);
        }
        i++;
    }
    if (rtml_json_shape_keep(sh, i, lit, end) != 0) return;
    sh->n = i;
    sh->valid = 1;
    unsigned char seen[RTML_JSON_MAX_POINTERS] = {0};
    size_t covered = 0;
    int many = 0;
    for (uint32_t k = 0; k < i; k++) {
        if (sh->slot[k] == SHAPE_MANY) many = 1;
        else if (sh->slot[k] >= 0 && !seen[sh->slot[k]]) seen[sh->slot[k]] = 1, covered++;
    }
    sh->complete = !many && covered == paths->n;
}

/* Are the n bytes at p (before end) the literal lit? */
static inline int rtml_json_lit_eq(const char *p, const char *end, const char *lit, size_t n) {
    if ((size_t)(end - p) < n) return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n <= 8 && end - p >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, lit, 8);
        return n == 0 || ((a ^ b) << (64 - 8 * n)) == 0;
    }
#endif
    return memcmp(p, lit, n) == 0;
}

/* Value i of the document through the shape (type, text; number: converted): into its output. */
static inline void rtml_json_shape_emit(const rtml_json_shape *sh, uint32_t i, rtml_json_span *out,
                                        const rtml_json_span *v) {
    if (sh->slot[i] >= 0) {
        out[sh->slot[i]] = *v;
        return;
    }
    const rtml_json_node *cur = sh->node[i];
    rtml_json_forget(sh->paths, cur, out);
    for (uint32_t k = cur->out_lo; k < cur->out_hi; k++) out[sh->paths->order[k]] = *v;
}

/* The document's values through the shape; 0, or -1 where it differs (out then holds partial results). */
static int rtml_json_shape_scan(const rtml_json_shape *sh, const char *doc, size_t len, rtml_json_span *out) {
    rtml_json_ctx c = {doc, NULL, 0};
    const char *p = doc, *end = doc + len;
    rtml_json_type type = RTML_JSON_NULL;
    for (uint32_t i = 0; i < sh->n; i++) {
        if (!rtml_json_lit_eq(p, end, sh->bytes + sh->off[i], sh->len[i])) return -1;
        p += sh->len[i];
        const char *q = p;
        int escaped = 0, wanted = sh->slot[i] != SHAPE_NONE;
        rtml_json_span v = {RTML_JSON_NULL, q, 0, 0, 0, 0, 0};
        if (p == end) return -1;
        switch (*p) {
        case '"':
            p = rtml_json_skip_plain(p + 1, end);
            if (p < end && *p == '"') p++;
            else if (!(p = rtml_json_scan_string(&c, q, p, end, &escaped))) return -1;
            v = (rtml_json_span){RTML_JSON_STRING, q + 1, (size_t)(p - q - 2), escaped, 0, 0, 0};
            break;
        case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
            if (!wanted) {
                if (!(p = rtml_json_scan_number(&c, p, end))) return -1;
                continue;
            }
            v.type = RTML_JSON_NUMBER;
            const char *f = rtml_json_number_fast(p, end, &v);
            if (!(p = f ? f : rtml_json_scan_number_value(&c, p, end, &v))) return -1;
            v.len = (size_t)(p - q);
            break;
        case 't': case 'f': case 'n':
            if (!(p = rtml_json_scan_literal(&c, p, end, &type))) return -1;
            v.type = type, v.len = (size_t)(p - q);
            break;
        default: return -1;
        }
        if (wanted) rtml_json_shape_emit(sh, i, out, &v);
    }
    const char *tail = sh->bytes + sh->off[sh->n];
    return (size_t)(end - p) == sh->len[sh->n] && memcmp(p, tail, sh->len[sh->n]) == 0 ? 0 : -1;
}

int rtml_json_extract_shaped(const rtml_json_paths *p, rtml_json_shape *sh, const char *doc, size_t len,
                             rtml_json_span *out, char *err, size_t errlen) {
    if (!sh || !p || !doc || (!out && p->n)) return rtml_json_extract(p, doc, len, out, err, errlen);
    int shaped = !sh->rest && sh->valid && sh->paths == p;
    if (!shaped || !sh->complete) /* a complete shape's scan writes every output, or fails and clears them */
        for (size_t i = 0; i < p->n; i++) out[i] = (rtml_json_span){0};
    if (sh->rest) {
        sh->rest--;
    } else if (shaped) {
        if (rtml_json_shape_scan(sh, doc, len, out) == 0) {
            sh->misses = 0;
            return 0;
        }
        for (size_t i = 0; i < p->n; i++) out[i] = (rtml_json_span){0};
        if (++sh->misses >= RTML_SHAPE_MISSES) sh->rest = RTML_SHAPE_REST, sh->misses = 0;
    }
    int rc = rtml_json_scan(p, doc, len, out, err, errlen);
    if (rc < 0) {
        for (size_t i = 0; i < p->n; i++) out[i] = (rtml_json_span){0};
        return rc;
    }
    if (!sh->rest) rtml_json_shape_learn(sh, p, doc, len);
    return 0;
}

int rtml_json_validate(const char *doc, size_t len, char *err, size_t errlen) {
    if (!doc && len) return rtml_fail(err, errlen, "NULL document");
    return rtml_json_scan(NULL, doc ? doc : "", len, NULL, err, errlen);
}

/* ---- conversions --------------------------------------------------------------------------------------- */

/* Is the span exactly one strict JSON number? */
static int rtml_json_is_number(const rtml_json_span *v) {
    if (!v || v->type != RTML_JSON_NUMBER || !v->ptr || !v->len) return 0;
    rtml_json_ctx c = {v->ptr, NULL, 0};
    const char *end = v->ptr + v->len;
    if (*v->ptr != '-' && !rtml_json_is_digit((unsigned char)*v->ptr)) return 0;
    return rtml_json_scan_number(&c, v->ptr, end) == end;
}

/* A NUMBER span's conversion: the one extract made, or one made now from its text. */
static void rtml_json_span_number(const rtml_json_span *v, rtml_json_span *conv) {
    *conv = *v;
    if (v->num_state) return;
    rtml_json_ctx c = {v->ptr, NULL, 0};
    const char *end = v->ptr + v->len;
    if (!v->len || rtml_json_scan_number_value(&c, v->ptr, end, conv) != end) conv->num_state = -1;
}

int rtml_json_number_value(const rtml_json_span *v, double *out, int *is_int, long long *i64) {
    rtml_json_span conv;
    rtml_json_span_number(v, &conv);
    *is_int = conv.num_state == 2;
    if (conv.num_state == 2) *i64 = conv.i64;
    if (conv.num_state < 0) return -1;
    *out = conv.num;
    return 0;
}

int rtml_json_as_double(const rtml_json_span *v, double *out) {
    if (v && (v->type == RTML_JSON_TRUE || v->type == RTML_JSON_FALSE)) {
        *out = v->type == RTML_JSON_TRUE ? 1.0 : 0.0;
        return 0;
    }
    if (!rtml_json_is_number(v)) return -1;
    rtml_json_span conv;
    rtml_json_span_number(v, &conv);
    if (conv.num_state < 0) return -1;
    *out = conv.num_state == 2 && conv.i64 == 0 && v->ptr[0] == '-' ? -0.0 : conv.num; /* "-0": strtod's -0.0 */
    return 0;
}

int rtml_json_as_int64(const rtml_json_span *v, long long *out) {
    if (!rtml_json_is_number(v)) return -1;
    const char *p = v->ptr, *end = v->ptr + v->len;
    int neg = *p == '-';
    p += neg;
    unsigned long long limit = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX, acc = 0;
    for (; p < end; p++) {
        if (!rtml_json_is_digit((unsigned char)*p)) return -1; /* fraction or exponent */
        unsigned d = (unsigned)(*p - '0');
        if (acc > (limit - d) / 10) return -1;
        acc = acc * 10 + d;
    }
    *out = neg ? (acc == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(long long)acc) : (long long)acc;
    return 0;
}

long rtml_json_unescape(const rtml_json_span *v, char *buf, size_t cap) {
    if (!v || v->type != RTML_JSON_STRING || !buf || (!v->ptr && v->len)) return -1;
    const char *p = v->ptr, *end = v->ptr + v->len;
    size_t n = 0;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs ? bs : end) - p);
        if (run >= cap - n) return -1;
        memcpy(buf + n, p, run);
        n += run;
        p += run;
        if (!bs) break;
        char o[4];
        int k;
        const char *why;
        if (!(p = rtml_json_decode_escape(p, end, o, &k, &why)) || (size_t)k >= cap - n) return -1;
        memcpy(buf + n, o, (size_t)k);
        n += (size_t)k;
    }
    if (n >= cap || n > (size_t)LONG_MAX) return -1;
    buf[n] = '\0';
    return (long)n;
}

int rtml_json_string_eq(const rtml_json_span *v, const char *s, size_t len) {
    if (!v || v->type != RTML_JSON_STRING || (!v->ptr && v->len)) return 0;
    if (!v->escaped) return v->len == len && (len == 0 || memcmp(v->ptr, s, len) == 0);
    return rtml_json_escaped_eq(v->ptr, v->len, s, len);
}

const char *rtml_json_type_name(rtml_json_type t) {
    static const char *const names[] = {"absent", "null", "false", "true", "number", "string", "object", "array"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
