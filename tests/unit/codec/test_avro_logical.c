/* test_avro_logical.c — Avro logical types in the Avro decoder (src/codec/avro.c, avro_schema.c), on datums
 * that fastavro writes from the values producers hand it (datetime, date, time, Decimal, UUID;
 * tests/lib/peers.py avro-write, schema tests/integration/data/logical.avsc): times in seconds,
 * decimals as numbers, uuids as text, the same numbers the JSON decoder reads from their JSON text. Also the
 * logical types the specification says to ignore, on hand-written datums. */
#include <math.h>

#include "peers.h"

static rtml_decoder *open_dec(rtml_format fmt, const char *schema, const char *const *fields, size_t n, char *err) {
    rtml_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input.format = fmt;
    cfg.input.schema = (char *)schema;
    return rtml_decoder_open(&cfg, fields, n, err, RTML_ERRLEN);
}

static const char *const F[] = {"/d",   "/tm", "/tu",  "/ts",  "/tsu",  "/tsn",        "/lts",     "/ltsu",  "/dec",
                                "/decf", "/u", "/uf",  "/opt", "/days", "/days/1", "/amounts/eur", "/amounts"};
enum { D, TM, TU, TS, TSU, TSN, LTS, LTSU, DEC, DECF, U, UF, OPT, DAYS, DAYS1, EUR, AMOUNTS, NF };

static const char DATUMS[] =
    "{'d': date(2024, 3, 5), 'tm': time(14, 30, 15, 250000), 'tu': time(14, 30, 15, 123456), "
    "'ts': datetime(2024, 3, 5, 14, 30, 15, 250000, tzinfo=timezone.utc), "
    "'tsu': datetime(2024, 3, 5, 14, 30, 15, 123456, tzinfo=timezone.utc), 'tsn': 1709649015123456789, "
    "'lts': datetime(2024, 3, 5, 14, 30, 15, 250000), 'ltsu': datetime(2024, 3, 5, 14, 30, 15, 123456), "
    "'dec': Decimal('-12345.6789'), 'decf': Decimal('1234.50'), 'u': UUID('12345678-1234-5678-1234-567812345678'), "
    "'uf': b'\\x12\\x34\\x56\\x78\\x12\\x34\\x56\\x78\\x12\\x34\\x56\\x78\\x12\\x34\\x56\\x78', "
    "'opt': datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc), "
    "'days': [date(1970, 1, 1), date(1969, 12, 31)], 'amounts': {'eur': Decimal('0.05'), 'usd': Decimal('-1.00')}}\n"
    "{'d': date(1, 1, 1), 'tm': time(0, 0), 'tu': time(23, 59, 59, 999999), 'ts': 0, 'tsu': -1, 'tsn': -1, "
    "'lts': 0, 'ltsu': 0, 'dec': Decimal('123456789012345678901234567890.1234'), 'decf': Decimal('-0.01'), "
    "'u': UUID(int=0), 'uf': b'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff', "
    "'opt': None, 'days': [], 'amounts': {}}\n";

static int num_is(const rtml_value *v, const char *text) {
    return v->type == RTML_V_NUMBER && v->num == strtod(text, NULL) && !v->is_int;
}

static void check_first(const rtml_value *v) {
    CHECK(peers_int_is(&v[D], 1709596800));               /* 2024-03-05T00:00:00Z */
    CHECK(num_is(&v[TM], "52215.25") && num_is(&v[TU], "52215.123456"));
    CHECK(num_is(&v[TS], "1709649015.25") && num_is(&v[TSU], "1709649015.123456"));
    CHECK(num_is(&v[TSN], "1709649015.123456789"));
    CHECK(num_is(&v[LTS], "1709649015.25") && num_is(&v[LTSU], "1709649015.123456"));
    CHECK(num_is(&v[DEC], "-12345.6789") && num_is(&v[DECF], "1234.5"));
    CHECK(peers_str_is(&v[U], "12345678-1234-5678-1234-567812345678"));
    CHECK(peers_str_is(&v[UF], "12345678-1234-5678-1234-567812345678"));
    CHECK(num_is(&v[OPT], "-0.5"));
    CHECK(v[DAYS].type == RTML_V_ARRAY && v[DAYS].arr_len == 2 && v[DAYS].arr[0] == 0 && v[DAYS].arr[1] == -86400);
    CHECK(peers_int_is(&v[DAYS1], -86400));
    CHECK(num_is(&v[EUR], "0.05") && v[AMOUNTS].type == RTML_V_OTHER);
}

static void check_second(const rtml_value *v) {
    CHECK(peers_int_is(&v[D], -62135596800LL)); /* 0001-01-01 */
    CHECK(peers_int_is(&v[TM], 0) && num_is(&v[TU], "86399.999999"));
    CHECK(peers_int_is(&v[TS], 0) && num_is(&v[TSU], "-0.000001") && num_is(&v[TSN], "-0.000000001"));
    CHECK(num_is(&v[DEC], "123456789012345678901234567890.1234") && num_is(&v[DECF], "-0.01"));
    CHECK(peers_str_is(&v[U], "00000000-0000-0000-0000-000000000000"));
    CHECK(peers_str_is(&v[UF], "ffffffff-ffff-ffff-ffff-ffffffffffff"));
    CHECK(v[OPT].type == RTML_V_NULL);
    CHECK(v[DAYS].type == RTML_V_ARRAY && v[DAYS].arr_len == 0 && v[DAYS1].type == RTML_V_ABSENT);
    CHECK(v[EUR].type == RTML_V_ABSENT);
}

/* The JSON text of the same values reads as the very same numbers. */
static void check_json_form(const rtml_value *avro) {
    static const char doc[] = "{\"tm\": 52215.25, \"tu\": 52215.123456, \"ts\": 1709649015.25, "
                              "\"tsu\": 1709649015.123456, \"tsn\": 1709649015.123456789, \"dec\": -12345.6789, "
                              "\"decf\": 1234.50, \"d\": 1709596800, \"opt\": -0.5, \"amounts\": {\"eur\": 0.05}}";
    const char *f[] = {"/tm", "/tu", "/ts", "/tsu", "/tsn", "/dec", "/decf", "/d", "/opt", "/amounts/eur"};
    const int at[] = {TM, TU, TS, TSU, TSN, DEC, DECF, D, OPT, EUR};
    char err[RTML_ERRLEN];
    rtml_decoder *j = open_dec(RTML_FMT_JSON, NULL, f, 10, err);
    rtml_value v[10];
    CHECK(j && rtml_decode(j, doc, sizeof doc - 1, v, err, sizeof err) == 0);
    for (int i = 0; j && i < 10; i++) {
        CHECK(v[i].type == RTML_V_NUMBER && v[i].num == avro[at[i]].num && v[i].is_int == avro[at[i]].is_int);
        if (v[i].num != avro[at[i]].num)
            fprintf(stderr, "  %s: json %.17g, avro %.17g\n", f[i], v[i].num, avro[at[i]].num);
    }
    rtml_decoder_close(j);
}

static void test_fastavro(void) {
    char schema[1200], args[1400], err[RTML_ERRLEN];
    snprintf(schema, sizeof schema, "%s/tests/integration/data/logical.avsc", peers_root);
    blob b[3];
    size_t n, k;
    snprintf(args, sizeof args, "avro-write '%s'", schema);
    char *text = peers_run(args, DATUMS, &n);
    snprintf(args, sizeof args, "avro-write '%s' --confluent 7", schema);
    char *framed = peers_run(args,
                             "{'d': date(2024, 3, 5), 'tm': time(14, 30, 15, 250000), 'tu': 0, 'ts': 0, 'tsu': 0, "
                             "'tsn': 0, 'lts': 0, 'ltsu': 0, 'dec': Decimal('1'), 'decf': Decimal('0'), "
                             "'u': UUID(int=1), 'uf': b'0123456789abcdef', 'opt': 5, 'days': [], 'amounts': {}}\n",
                             &k);
    CHECK(text && framed && n == 2 && k == 1);
    if (!text || !framed || n != 2 || k != 1) {
        free(text);
        free(framed);
        return;
    }
    b[0] = peers_unhex(text);
    b[1] = peers_unhex(text + strlen(text) + 1);
    b[2] = peers_unhex(framed);
    rtml_decoder *d = open_dec(RTML_FMT_AVRO, schema, F, NF, err);
    CHECK(d != NULL);
    if (!d) fprintf(stderr, "  open: %s\n", err);
    rtml_value v[NF];
    uint8_t *keep = NULL;
    if (d) {
        CHECK_EQ_INT(peers_decode(d, b[0].data, b[0].len, v, err, &keep), 0);
        check_first(v);
        check_json_form(v);
        CHECK_EQ_INT(peers_decode(d, b[1].data, b[1].len, v, err, &keep), 0);
        check_second(v);
        CHECK(b[2].data[0] == 0 && b[2].data[4] == 7);
        CHECK_EQ_INT(peers_decode(d, b[2].data, b[2].len, v, err, &keep), 0);
        CHECK(peers_int_is(&v[D], 1709596800) && num_is(&v[TM], "52215.25") && num_is(&v[DEC], "1"));
        CHECK(num_is(&v[OPT], "0.000005") && peers_str_is(&v[UF], "30313233-3435-3637-3839-616263646566"));
    }
    free(keep);
    rtml_decoder_close(d);
    peers_free(b, 3);
    free(text);
    free(framed);
}

/* Logical types the specification says to ignore (unknown, or on a type they do not fit): the underlying
 * type is read. Written by hand, since fastavro refuses to write some of them. */
static void test_ignored(void) {
    static const char schema[] =
        "{\"type\":\"record\",\"name\":\"I\",\"fields\":["
        "{\"name\":\"a\",\"type\":{\"type\":\"long\",\"logicalType\":\"date\"}},"
        "{\"name\":\"b\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":2,\"scale\":3}},"
        "{\"name\":\"c\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":8,\"logicalType\":\"uuid\"}},"
        "{\"name\":\"e\",\"type\":{\"type\":\"int\",\"logicalType\":\"foo\"}},"
        "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"G\",\"size\":2,\"logicalType\":\"decimal\","
        "\"precision\":9}},"
        "{\"name\":\"g\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5}},"
        "{\"name\":\"h\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":1000}}]}";
    char path[1200], err[RTML_ERRLEN];
    snprintf(path, sizeof path, "%s", peers_path("ignored.avsc"));
    FILE *f = fopen(path, "w");
    fputs(schema, f);
    fclose(f);
    const char *fields[] = {"/a", "/b", "/c", "/e", "/f", "/g", "/h"};
    rtml_decoder *d = open_dec(RTML_FMT_AVRO, path, fields, 7, err);
    CHECK(d != NULL);
    if (!d) return;
    /* a: 5; b: "ab"; c: "abcdefgh"; e: 3; f: 01 02; g: ff 38 (-200); h: 300 bytes: 299 sign-extension zeros, 1 */
    uint8_t datum[400] = {0x0a, 0x04, 'a', 'b', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0x06, 0x01, 0x02, 0x04,
                          0xff, 0x38, 0xd8, 0x04};
    size_t len = 20;
    memset(datum + len, 0, 299);
    len += 299;
    datum[len++] = 1;
    rtml_value v[7];
    uint8_t *keep = NULL;
    CHECK_EQ_INT(peers_decode(d, datum, len, v, err, &keep), 0);
    CHECK(peers_int_is(&v[0], 5) && peers_str_is(&v[1], "ab") && peers_str_is(&v[2], "abcdefgh"));
    CHECK(peers_int_is(&v[3], 3) && v[4].type == RTML_V_STRING && v[4].len == 2);
    CHECK(peers_int_is(&v[5], -200) && peers_int_is(&v[6], 1));
    /* A decimal of more than 256 significant bytes is beyond any double: +inf, rejected as not finite. */
    memset(datum + 20, 0x7f, 300);
    CHECK_EQ_INT(peers_decode(d, datum, len, v, err, &keep), 0);
    CHECK(v[6].type == RTML_V_NUMBER && isinf(v[6].num) && v[6].num > 0);
    free(keep);
    rtml_decoder_close(d);
}

int main(void) {
    if (peers_setup() != 0) {
        fprintf(stderr, "test_avro_logical: set-up failed (.venv's python, fastavro)\n");
        return 1;
    }
    test_fastavro();
    test_ignored();
    peers_cleanup();
    return check_exit("test_avro_logical");
}
