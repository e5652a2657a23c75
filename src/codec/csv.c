/* csv.c — the CSV input format (RFC 4180): one record per message, typed cell by cell.
 *
 * Why its own parser: a record is one Kafka message, so the decoder sees exactly one record at a time and
 * can make one pass over it, remembering where each cell starts (no copy) and converting only the cells the
 * pipeline asked for.
 *
 * Decisions (tests/unit/test_csv.c pins each down):
 *  - Delimiter input.csv_delimiter (',' when 0). A cell starting with '"' is quoted: "" inside it is one
 *    quote, and delimiters and line breaks inside it are data. After the closing quote comes a delimiter or
 *    the end of the record. A '"' inside an unquoted cell is taken literally (as Python's csv module does).
 *  - One "\n", "\r\n" or "\r" at the very end of the buffer ends the record; a line break elsewhere outside
 *    quotes is an error (a message holds one record).
 *  - Columns: input.csv_columns when configured; otherwise, when input.csv_header is set (the default for
 *    JSON-less configs too), the FIRST record decoded is the header: it names the columns and decode
 *    returns 1. A leading UTF-8 byte-order mark on the header is dropped. With neither, "/0", "/1", ...
 *    name columns by position, and the first record fixes the number of cells.
 *  - A field path names the column whose name is the pointer's one segment, unescaped ("/a~1b" is "a/b").
 *    Paths of more than one segment are rejected at open. A name that is not a column (known only once the
 *    header is read) makes the field ABSENT in every record, so impute/reject rules apply; with configured
 *    columns it is an error at open. A name that appears twice in the header means its first column.
 *  - Every record must have as many cells as there are columns, else -1 "record has N fields, the header
 *    has M".
 *  - Values: an unquoted empty cell is NULL, a quoted empty cell ("") the empty STRING; a cell that is a
 *    strict number (JSON syntax, plus a leading '+', or inf/infinity/nan in any case with a sign) is a
 *    NUMBER (is_int and i64 when written as an integer that fits int64); true/false in any case is a BOOL;
 *    anything else is a STRING, pointing into the record unless it had "" escapes (then into scratch).
 *    Whitespace is data: " 12" is the string " 12". Bytes are not checked for UTF-8. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/codec.h"
#include "base/rtml.h"

typedef struct {
    size_t start, len; /* the cell's bytes in the record (inside the quotes when quoted) */
    int quoted, escaped;
} csv_cell;

typedef struct {
    char delim;
    int header_pending; /* the next record is the header */
    int by_index;       /* no names at all: fields are "/N" */
    char **names;       /* each field's column name (owned) */
    long *col;          /* each field's column index, -1 = not a column */
    size_t *first;      /* the first field naming the same column (itself if none): converted once */
    size_t n_fields;
    size_t n_cols;      /* 0 = not known yet */
    int cols_from_config;
    csv_cell *cells;    /* n_cols of them once known */
    char *text;         /* scratch for unescaped cells and number conversions */
    size_t text_cap;
} csv_state;

/* ---- scanning ---------------------------------------------------------------------------------------- */

/* One pass over the record: cells[i] for i < cap; *count is the true number of cells. */
static int csv_scan(const csv_state *s, const char *buf, size_t len, csv_cell *cells, size_t cap, size_t *count,
                    char *err, size_t errlen) {
    size_t i = 0, n = 0;
    for (;;) {
        csv_cell c = {i, 0, 0, 0};
        if (i < len && buf[i] == '"') {
            size_t open = i++;
            c.quoted = 1;
            c.start = i;
            for (;; i++) {
                if (i >= len) return rtml_fail(err, errlen, "offset %zu: unterminated quoted field", open);
                if (buf[i] != '"') continue;
                if (i + 1 < len && buf[i + 1] == '"') {
                    c.escaped = 1;
                    i++;
                    continue;
                }
                break;
            }
            c.len = i - c.start;
            i++; /* the closing quote */
        } else {
            while (i < len && buf[i] != s->delim && buf[i] != '\n' && buf[i] != '\r') i++;
            c.len = i - c.start;
        }
        if (n < cap) cells[n] = c;
        n++;
        if (i >= len) break;
        if (buf[i] == s->delim) {
            i++;
            continue;
        }
        int end_ok = (buf[i] == '\n' && i + 1 == len) || (buf[i] == '\r' && i + 1 == len) ||
                     (buf[i] == '\r' && i + 2 == len && buf[i + 1] == '\n');
        if (end_ok) break;
        if (buf[i] == '\n' || buf[i] == '\r')
            return rtml_fail(err, errlen, "offset %zu: line break outside quotes before the end of the record "
                             "(one record per message)", i);
        return rtml_fail(err, errlen, "offset %zu: unexpected '%c' after a closing quote", i, buf[i]);
    }
    *count = n;
    return 0;
}

/* The cell's text: in the record, or unescaped ("" -> ") into *text. */
static const char *cell_text(const char *buf, const csv_cell *c, char **text, size_t *len) {
    if (!c->escaped) {
        *len = c->len;
        return buf + c->start;
    }
    char *out = *text, *o = out;
    for (size_t i = 0; i < c->len; i++) {
        *o++ = buf[c->start + i];
        if (buf[c->start + i] == '"') i++;
    }
    *len = (size_t)(o - out);
    *o = '\0';
    *text = o + 1;
    return out;
}

/* ---- values ------------------------------------------------------------------------------------------ */

static size_t digits(const char *p, size_t i, size_t n) {
    while (i < n && p[i] >= '0' && p[i] <= '9') i++;
    return i;
}

/* Strict JSON number syntax with an optional leading '+'; *integral when no fraction or exponent. */
static int is_number(const char *p, size_t n, int *integral) {
    size_t i = 0, j;
    if (i < n && (p[i] == '-' || p[i] == '+')) i++;
    if (i >= n) return 0;
    if (p[i] == '0') i++;
    else if (p[i] >= '1' && p[i] <= '9') i = digits(p, i, n);
    else return 0;
    *integral = 1;
    if (i < n && p[i] == '.') {
        if ((j = digits(p, i + 1, n)) == i + 1) return 0;
        i = j;
        *integral = 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        if ((j = digits(p, i, n)) == i) return 0;
        i = j;
        *integral = 0;
    }
    return i == n;
}

static int is_word(const char *p, size_t n, const char *w) { return strlen(w) == n && strncasecmp(p, w, n) == 0; }

/* inf, infinity, nan (any case, optional sign) -> *x. */
static int non_finite(const char *p, size_t n, double *x) {
    int neg = n && p[0] == '-';
    if (n && (p[0] == '-' || p[0] == '+')) p++, n--;
    if (is_word(p, n, "inf") || is_word(p, n, "infinity")) *x = neg ? -HUGE_VAL : HUGE_VAL;
    else if (is_word(p, n, "nan")) *x = neg ? -NAN : NAN;
    else return 0;
    return 1;
}

/* A number cell -> v; tmp has room for n + 1 bytes. */
static void to_number(const char *p, size_t n, int integral, char *tmp, rtml_value *v) {
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    v->type = RTML_V_NUMBER;
    if (integral) {
        errno = 0;
        long long i = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            v->is_int = 1;
            v->i64 = i;
            v->num = (double)i;
            return;
        }
    }
    v->num = strtod(tmp, NULL); /* overflow gives +-HUGE_VAL: a number that is not finite */
}

static void cell_value(const char *buf, const csv_cell *c, char **text, rtml_value *v) {
    *v = (rtml_value){0};
    size_t n;
    const char *p = cell_text(buf, c, text, &n);
    int integral;
    if (n == 0) {
        v->type = c->quoted ? RTML_V_STRING : RTML_V_NULL;
        v->str = p;
    } else if (is_number(p, n, &integral)) {
        to_number(p, n, integral, *text, v);
    } else if (non_finite(p, n, &v->num)) {
        v->type = RTML_V_NUMBER;
    } else if (is_word(p, n, "true") || is_word(p, n, "false")) {
        v->type = RTML_V_BOOL;
        v->num = tolower((unsigned char)p[0]) == 't';
    } else {
        v->type = RTML_V_STRING;
        v->str = p;
        v->len = n;
    }
}

/* ---- columns ----------------------------------------------------------------------------------------- */

/* Fields naming one column share its value: cells are converted (and unescaped into scratch) once. */
static void link_duplicates(csv_state *s) {
    for (size_t i = 0; i < s->n_fields; i++) {
        s->first[i] = i;
        for (size_t j = 0; j < i && s->col[i] >= 0; j++)
            if (s->col[j] == s->col[i]) {
                s->first[i] = j;
                break;
            }
    }
}

static int set_cols(csv_state *s, size_t n, char *err, size_t errlen) {
    csv_cell *c = calloc(n ? n : 1, sizeof *c);
    if (!c) return rtml_fail(err, errlen, "out of memory");
    free(s->cells);
    s->cells = c;
    s->n_cols = n;
    return 0;
}

/* Field i names column `name` (len bytes): remember its first position. */
static void match_column(csv_state *s, const char *name, size_t len, size_t col) {
    for (size_t i = 0; i < s->n_fields; i++)
        if (s->col[i] < 0 && s->names[i] && strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
            s->col[i] = (long)col;
}

static int columns_from_config(csv_state *s, const rtml_config *cfg, char *err, size_t errlen) {
    for (size_t c = 0; c < cfg->input.n_csv_columns; c++)
        match_column(s, cfg->input.csv_columns[c], strlen(cfg->input.csv_columns[c]), c);
    for (size_t i = 0; i < s->n_fields; i++)
        if (s->col[i] < 0)
            return rtml_fail(err, errlen, "input: CSV column '%s' (from /%s) is not in input.csv_columns",
                             s->names[i], s->names[i]);
    s->cols_from_config = 1;
    link_duplicates(s);
    return set_cols(s, cfg->input.n_csv_columns, err, errlen);
}

/* "/N" -> column N (by_index mode). */
static int columns_by_index(csv_state *s, char *err, size_t errlen) {
    for (size_t i = 0; i < s->n_fields; i++) {
        const char *nm = s->names[i];
        char *end;
        errno = 0;
        long v = strtol(nm, &end, 10);
        if (!*nm || *end || errno || v < 0 || !isdigit((unsigned char)nm[0]))
            return rtml_fail(err, errlen, "input: CSV field /%s: with no header and no input.csv_columns, "
                             "fields name columns by position (/0, /1, ...)", nm);
        s->col[i] = v;
    }
    link_duplicates(s);
    s->by_index = 1;
    return 0;
}

/* The header record: its cells name the columns. */
static int read_header(csv_state *s, const char *buf, size_t len, char *err, size_t errlen) {
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) buf += 3, len -= 3;
    size_t n;
    if (csv_scan(s, buf, len, NULL, 0, &n, err, errlen) != 0) return -1;
    if (set_cols(s, n, err, errlen) != 0) return -1;
    if (csv_scan(s, buf, len, s->cells, n, &n, err, errlen) != 0) return -1;
    char *text = s->text;
    for (size_t c = 0; c < n; c++) {
        size_t cl;
        const char *name = cell_text(buf, &s->cells[c], &text, &cl);
        match_column(s, name, cl, c);
    }
    link_duplicates(s);
    s->header_pending = 0;
    return 1;
}

/* ---- the decoder ------------------------------------------------------------------------------------- */

static int csv_open(rtml_decoder *d, const rtml_config *cfg, const char *const *fields, size_t n, char *err,
                    size_t errlen) {
    csv_state *s = calloc(1, sizeof *s);
    if (!s) return rtml_fail(err, errlen, "out of memory");
    d->impl = s;
    s->delim = cfg->input.csv_delimiter ? cfg->input.csv_delimiter : ',';
    if (s->delim == '"' || s->delim == '\n' || s->delim == '\r')
        return rtml_fail(err, errlen, "input.csv_delimiter: cannot be a quote or a line break");
    s->n_fields = n;
    if (!(s->names = calloc(n ? n : 1, sizeof *s->names)) || !(s->col = malloc((n ? n : 1) * sizeof *s->col)) ||
        !(s->first = malloc((n ? n : 1) * sizeof *s->first)))
        return rtml_fail(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t nseg;
        char **segs = rtml_pointer_split(fields[i], &nseg, err, errlen);
        if (!segs) return -1;
        if (nseg != 1) {
            free(segs);
            return rtml_fail(err, errlen, "input: CSV field %s: a CSV column is named by one segment ('/name')",
                             fields[i]);
        }
        s->names[i] = strdup(segs[0]);
        free(segs);
        if (!s->names[i]) return rtml_fail(err, errlen, "out of memory");
        s->col[i] = -1;
    }
    if (cfg->input.n_csv_columns) return columns_from_config(s, cfg, err, errlen);
    if (cfg->input.csv_header) {
        s->header_pending = 1;
        return 0;
    }
    return columns_by_index(s, err, errlen);
}

static int reserve(csv_state *s, size_t len) {
    if (len + 64 <= s->text_cap) return 0;
    char *t = realloc(s->text, len + 64);
    if (!t) return -1;
    s->text = t;
    s->text_cap = len + 64;
    return 0;
}

/* The record's cells into out; -1 with a reason. */
static int csv_record(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    csv_state *s = d->impl;
    if (reserve(s, len) != 0) return rtml_fail(err, errlen, "out of memory for a record of %zu bytes", len);
    if (s->header_pending) return read_header(s, buf, len, err, errlen);
    size_t n;
    if (s->by_index && !s->n_cols) {
        if (csv_scan(s, buf, len, NULL, 0, &n, err, errlen) != 0 || set_cols(s, n, err, errlen) != 0) return -1;
    }
    if (csv_scan(s, buf, len, s->cells, s->n_cols, &n, err, errlen) != 0) return -1;
    if (n != s->n_cols)
        return rtml_fail(err, errlen, "record has %zu fields, the %s has %zu", n,
                         s->by_index ? "first record" : s->cols_from_config ? "input.csv_columns list" : "header",
                         s->n_cols);
    /* Scratch: unescaped cells take at most their own length + 1, number conversions at most len + 1 more. */
    char *text = s->text;
    for (size_t i = 0; i < d->n_fields; i++) {
        if (s->col[i] < 0 || (size_t)s->col[i] >= s->n_cols) {
            out[i] = (rtml_value){.type = RTML_V_ABSENT};
            continue;
        }
        if (s->first[i] != i) {
            out[i] = out[s->first[i]];
            continue;
        }
        cell_value(buf, &s->cells[s->col[i]], &text, &out[i]);
    }
    return 0;
}

static int csv_decode(rtml_decoder *d, const char *buf, size_t len, rtml_value *out, char *err, size_t errlen) {
    int rc = csv_record(d, buf, len, out, err, errlen);
    if (rc < 0)
        for (size_t i = 0; i < d->n_fields; i++) out[i] = (rtml_value){.type = RTML_V_ABSENT}; /* nothing on failure */
    return rc;
}

static void csv_close(rtml_decoder *d) {
    csv_state *s = d->impl;
    if (!s) return;
    for (size_t i = 0; s->names && i < s->n_fields; i++) free(s->names[i]);
    free(s->names);
    free(s->col);
    free(s->first);
    free(s->cells);
    free(s->text);
    free(s);
}

const rtml_decoder_ops rtml_csv_decoder = {"csv", csv_open, csv_decode, csv_close};
