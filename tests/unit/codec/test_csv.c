/* test_csv.c — unit tests of the CSV decoder (src/codec/csv.c) through the decoder interface (codec.h).
 *
 * Every record is copied into a malloc'd buffer of exactly its length, so a sanitizer build catches a read
 * past the end. Sections: header handling, quoting, line endings, typing of cells, cell counts, errors with
 * offsets, configured columns, positional columns, and a randomized round trip (cells written with quotes
 * where needed, read back). */
#include "check.h"
#include "codec/codec.h"
#include "base/rtml.h"
#include <math.h>
#include <stdlib.h>

typedef struct {
    rtml_decoder *d;
    rtml_value out[16];
    char err[RTML_ERRLEN];
    char *rec;
} csv_t;

static rtml_config csv_config(char delim, int header, char **cols, size_t n_cols) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = RTML_FMT_CSV;
    cfg.input.csv_delimiter = delim;
    cfg.input.csv_header = header;
    cfg.input.csv_columns = cols;
    cfg.input.n_csv_columns = n_cols;
    return cfg;
}

static int csv_open(csv_t *t, const rtml_config *cfg, const char *const *fields, size_t n) {
    memset(t, 0, sizeof *t);
    t->d = rtml_decoder_open(cfg, fields, n, t->err, sizeof t->err);
    return t->d ? 0 : -1;
}

/* Decode s (exact copy, n bytes). */
static int csv_dec_n(csv_t *t, const char *s, size_t n) {
    free(t->rec);
    t->rec = malloc(n ? n : 1);
    if (n) memcpy(t->rec, s, n);
    t->err[0] = '\0';
    return rtml_decode(t->d, t->rec, n, t->out, t->err, sizeof t->err);
}

static int csv_dec(csv_t *t, const char *s) { return csv_dec_n(t, s, strlen(s)); }

static void csv_done(csv_t *t) {
    rtml_decoder_close(t->d);
    free(t->rec);
}

static int str_is(const rtml_value *v, const char *s) {
    return v->type == RTML_V_STRING && v->len == strlen(s) && memcmp(v->str, s, v->len) == 0;
}

static int int_is(const rtml_value *v, long long i) {
    return v->type == RTML_V_NUMBER && v->is_int && v->i64 == i && v->num == (double)i;
}

/* ---- header ----------------------------------------------------------------------------------------- */

static void test_header(void) {
    const char *f[] = {"/amount", "/merchant", "/missing", "/is_fraud"};
    rtml_config cfg = csv_config(0, 1, NULL, 0);
    csv_t t;
    CHECK(csv_open(&t, &cfg, f, 4) == 0);
    CHECK_EQ_INT(csv_dec(&t, "\xEF\xBB\xBFmerchant,amount,is_fraud\r\n"), 1); /* BOM dropped, header consumed */
    CHECK_EQ_INT(csv_dec(&t, "acme,12.5,true\n"), 0);
    CHECK(t.out[0].type == RTML_V_NUMBER && t.out[0].num == 12.5 && !t.out[0].is_int);
    CHECK(str_is(&t.out[1], "acme"));
    CHECK(t.out[2].type == RTML_V_ABSENT); /* not in the header: absent in every record */
    CHECK(t.out[3].type == RTML_V_BOOL && t.out[3].num == 1);
    CHECK_EQ_INT(csv_dec(&t, "\"big, shop\",7,FALSE"), 0);
    CHECK(str_is(&t.out[1], "big, shop"));
    CHECK(int_is(&t.out[0], 7));
    CHECK(t.out[3].type == RTML_V_BOOL && t.out[3].num == 0);
    /* A second line like the header is a record like any other. */
    CHECK_EQ_INT(csv_dec(&t, "merchant,amount,is_fraud"), 0);
    CHECK(str_is(&t.out[0], "amount"));
    csv_done(&t);

    /* Duplicate header names: the first column wins; two fields on one column share it. */
    const char *g[] = {"/a", "/b", "/a"};
    CHECK(csv_open(&t, &cfg, g, 3) == 0);
    CHECK_EQ_INT(csv_dec(&t, "a,b,a"), 1);
    CHECK_EQ_INT(csv_dec(&t, "\"x\"\"y\",2,3"), 0);
    CHECK(str_is(&t.out[0], "x\"y") && str_is(&t.out[2], "x\"y") && t.out[0].str == t.out[2].str);
    CHECK(int_is(&t.out[1], 2));
    csv_done(&t);

    /* A quoted header name with the delimiter in it, reached with an escaped pointer. */
    const char *h[] = {"/a,b", "/c~1d", "/e~0f"};
    CHECK(csv_open(&t, &cfg, h, 3) == 0);
    CHECK_EQ_INT(csv_dec(&t, "\"a,b\",c/d,e~f"), 1);
    CHECK_EQ_INT(csv_dec(&t, "1,2,3"), 0);
    CHECK(int_is(&t.out[0], 1) && int_is(&t.out[1], 2) && int_is(&t.out[2], 3));
    csv_done(&t);
}

/* ---- quoting and line endings ------------------------------------------------------------------------ */

static void test_quoting(void) {
    const char *f[] = {"/a", "/b", "/c"};
    char *cols[] = {"a", "b", "c"};
    rtml_config cfg = csv_config(0, 1, cols, 3);
    csv_t t;
    CHECK(csv_open(&t, &cfg, f, 3) == 0);
    CHECK_EQ_INT(csv_dec(&t, "\"line1\nline2\",\"he said \"\"hi\"\"\",\"\""), 0);
    CHECK(str_is(&t.out[0], "line1\nline2"));
    CHECK(str_is(&t.out[1], "he said \"hi\""));
    CHECK(str_is(&t.out[2], "") && t.out[2].type == RTML_V_STRING); /* quoted empty: the empty string */
    CHECK_EQ_INT(csv_dec(&t, ",,\r\n"), 0);
    CHECK(t.out[0].type == RTML_V_NULL && t.out[1].type == RTML_V_NULL && t.out[2].type == RTML_V_NULL);
    CHECK_EQ_INT(csv_dec(&t, "x,\"\"\"\",5\r"), 0); /* lone CR at the end */
    CHECK(str_is(&t.out[1], "\"") && int_is(&t.out[2], 5));
    CHECK_EQ_INT(csv_dec(&t, "5'11\",b\"c,\"d\r\ne\"\n"), 0); /* quotes inside unquoted cells: literal */
    CHECK(str_is(&t.out[0], "5'11\"") && str_is(&t.out[1], "b\"c") && str_is(&t.out[2], "d\r\ne"));
    CHECK_EQ_INT(csv_dec(&t, "\"12\",\"true\", 3"), 0); /* quoted cells are typed by content; spaces are data */
    CHECK(int_is(&t.out[0], 12) && t.out[1].type == RTML_V_BOOL && str_is(&t.out[2], " 3"));
    csv_done(&t);
}

/* ---- typing of cells --------------------------------------------------------------------------------- */

static void expect_number(csv_t *t, const char *cell, double want, int is_int) {
    CHECK_EQ_INT(csv_dec(t, cell), 0);
    CHECK(t->out[0].type == RTML_V_NUMBER);
    CHECK_EQ_INT(t->out[0].is_int, is_int);
    if (isnan(want)) CHECK(isnan(t->out[0].num));
    else CHECK(t->out[0].num == want);
    if (t->out[0].type != RTML_V_NUMBER) fprintf(stderr, "  cell [%s] is %s\n", cell, rtml_vtype_name(t->out[0].type));
}

static void expect_string(csv_t *t, const char *cell) {
    CHECK_EQ_INT(csv_dec(t, cell), 0);
    CHECK(str_is(&t->out[0], cell));
    if (!str_is(&t->out[0], cell)) fprintf(stderr, "  cell [%s] is %s\n", cell, rtml_vtype_name(t->out[0].type));
}

static void test_types(void) {
    const char *f[] = {"/v"};
    char *cols[] = {"v"};
    rtml_config cfg = csv_config(0, 0, cols, 1);
    csv_t t;
    CHECK(csv_open(&t, &cfg, f, 1) == 0);
    expect_number(&t, "0", 0, 1);
    expect_number(&t, "-17", -17, 1);
    expect_number(&t, "+17", 17, 1);
    expect_number(&t, "9223372036854775807", 9223372036854775807.0, 1);
    CHECK(t.out[0].i64 == INT64_MAX);
    expect_number(&t, "-9223372036854775808", -9223372036854775808.0, 1);
    expect_number(&t, "9223372036854775808", 9223372036854775808.0, 0); /* past int64: a double */
    expect_number(&t, "1.5", 1.5, 0);
    expect_number(&t, "-2.5e3", -2500, 0);
    expect_number(&t, "1E+2", 100, 0);
    expect_number(&t, "1e400", HUGE_VAL, 0);
    expect_number(&t, "inf", HUGE_VAL, 0);
    expect_number(&t, "-Infinity", -HUGE_VAL, 0);
    expect_number(&t, "NaN", NAN, 0);
    expect_string(&t, "007");
    expect_string(&t, "1.");
    expect_string(&t, ".5");
    expect_string(&t, "1e");
    expect_string(&t, "+-1");
    expect_string(&t, "-");
    expect_string(&t, "0x10");
    expect_string(&t, "infinit");
    expect_string(&t, "truee");
    expect_string(&t, "12 ");
    CHECK_EQ_INT(csv_dec(&t, "True"), 0);
    CHECK(t.out[0].type == RTML_V_BOOL && t.out[0].num == 1);
    CHECK_EQ_INT(csv_dec(&t, ""), 0); /* an empty record: one empty cell */
    CHECK(t.out[0].type == RTML_V_NULL);
    /* A long number cell (conversion uses scratch, not a fixed buffer). */
    char big[600];
    memset(big, '1', sizeof big - 1);
    big[0] = '0', big[1] = '.', big[sizeof big - 1] = '\0';
    CHECK_EQ_INT(csv_dec(&t, big), 0);
    CHECK(t.out[0].type == RTML_V_NUMBER && fabs(t.out[0].num - 0.1111111111) < 1e-9);
    csv_done(&t);
}

/* ---- errors ------------------------------------------------------------------------------------------ */

static void expect_error(csv_t *t, const char *rec, const char *why) {
    int rc = csv_dec(t, rec);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(t->err, why) != NULL);
    if (rc != -1 || !strstr(t->err, why)) fprintf(stderr, "  [%s]: want \"%s\", got %d \"%s\"\n", rec, why, rc, t->err);
}

static void test_errors(void) {
    const char *f[] = {"/a", "/b"};
    rtml_config cfg = csv_config(';', 1, NULL, 0);
    csv_t t;
    CHECK(csv_open(&t, &cfg, f, 2) == 0);
    expect_error(&t, "a;\"b", "offset 2: unterminated quoted field"); /* the header too can be bad */
    CHECK_EQ_INT(csv_dec(&t, "a;b"), 1);
    expect_error(&t, "1;2;3", "record has 3 fields, the header has 2");
    expect_error(&t, "1", "record has 1 fields, the header has 2");
    expect_error(&t, "1;\"2", "offset 2: unterminated quoted field");
    expect_error(&t, "1;\"2\"x", "offset 5: unexpected 'x' after a closing quote");
    expect_error(&t, "1;2\n3;4", "offset 3: line break outside quotes");
    expect_error(&t, "1;2\n\n", "offset 3: line break outside quotes");
    expect_error(&t, "1;2\r\r\n", "offset 3: line break outside quotes");
    CHECK_EQ_INT(csv_dec(&t, "1,5;2"), 0); /* ',' is data with ';' as the delimiter */
    CHECK(str_is(&t.out[0], "1,5") && int_is(&t.out[1], 2));
    csv_done(&t);

    /* At open: nested paths, unknown configured columns, bad positional names, bad delimiters. */
    char *cols[] = {"a", "b"};
    rtml_config c2 = csv_config(0, 1, cols, 2);
    const char *nested[] = {"/a/b"}, *unknown[] = {"/zz"}, *bad[] = {"x"};
    CHECK(csv_open(&t, &c2, nested, 1) == -1 && strstr(t.err, "one segment"));
    CHECK(csv_open(&t, &c2, unknown, 1) == -1 && strstr(t.err, "CSV column 'zz' (from /zz) is not in input.csv_columns"));
    CHECK(csv_open(&t, &c2, bad, 1) == -1 && strstr(t.err, "starts with '/'"));
    rtml_config c3 = csv_config(0, 0, NULL, 0);
    CHECK(csv_open(&t, &c3, unknown, 1) == -1 && strstr(t.err, "by position"));
    rtml_config c4 = csv_config('"', 1, NULL, 0);
    CHECK(csv_open(&t, &c4, f, 2) == -1 && strstr(t.err, "csv_delimiter"));
}

/* ---- positional columns ------------------------------------------------------------------------------ */

static void test_by_index(void) {
    const char *f[] = {"/2", "/0", "/9"};
    rtml_config cfg = csv_config('\t', 0, NULL, 0);
    csv_t t;
    CHECK(csv_open(&t, &cfg, f, 3) == 0);
    CHECK_EQ_INT(csv_dec(&t, "a\tb\tc\n"), 0); /* no header: the first record is data */
    CHECK(str_is(&t.out[0], "c") && str_is(&t.out[1], "a") && t.out[2].type == RTML_V_ABSENT);
    expect_error(&t, "a\tb", "record has 2 fields, the first record has 3");
    csv_done(&t);
}

/* ---- randomized round trip --------------------------------------------------------------------------- */

static unsigned rng_next(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7FFF;
}

/* A random cell text from an alphabet full of CSV specials (never empty, never numeric-looking). */
static void random_cell(unsigned *seed, char *out, size_t *len) {
    static const char alpha[] = "xy,\"\r\n ;";
    size_t n = 1 + rng_next(seed) % 8;
    out[0] = 'z';
    for (size_t i = 1; i < n; i++) out[i] = alpha[rng_next(seed) % (sizeof alpha - 1)];
    *len = n;
}

static void test_random(void) {
    const char *f[] = {"/a", "/b", "/c", "/d"};
    char *cols[] = {"a", "b", "c", "d"};
    rtml_config cfg = csv_config(0, 1, cols, 4);
    csv_t t;
    CHECK(csv_open(&t, &cfg, f, 4) == 0);
    unsigned seed = 42;
    int bad = 0;
    for (int iter = 0; iter < 2000; iter++) {
        char cells[4][16], rec[256];
        size_t lens[4], n = 0;
        for (int c = 0; c < 4; c++) {
            random_cell(&seed, cells[c], &lens[c]);
            if (c) rec[n++] = ',';
            rec[n++] = '"';
            for (size_t i = 0; i < lens[c]; i++) {
                if (cells[c][i] == '"') rec[n++] = '"';
                rec[n++] = cells[c][i];
            }
            rec[n++] = '"';
        }
        if (iter % 2) rec[n++] = '\n';
        if (csv_dec_n(&t, rec, n) != 0) {
            bad++;
            continue;
        }
        for (int c = 0; c < 4; c++)
            if (t.out[c].type != RTML_V_STRING || t.out[c].len != lens[c] || memcmp(t.out[c].str, cells[c], lens[c]))
                bad++;
    }
    CHECK_EQ_INT(bad, 0);
    csv_done(&t);
}

int main(void) {
    test_header();
    test_quoting();
    test_types();
    test_errors();
    test_by_index();
    test_random();
    return check_exit("test_csv");
}
