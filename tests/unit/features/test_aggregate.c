/* test_aggregate.c — per-key aggregates (src/features/aggregate.c) through their public interface: point in time,
 * the limits (max_keys, ttl, max_events, lateness) and their counters, decayed values, the reasons a record is
 * refused, and checkpoints (a state saved and loaded gives the same values; another config's state is refused).
 * The values over long random streams are tests/parity/aggregates.sh's (a Python reference and pandas). */
#include "check.h"
#include "base/binfmt.h"
#include "config/config.h"
#include "features/aggregate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A config of these aggregates (the YAML list's items) with the shared settings given, and a feature per aggregate. */
static int make(rtml_config *cfg, const char *settings, const char *const *items, size_t n) {
    char yaml[4096];
    int k = snprintf(yaml, sizeof yaml, "aggregates:\n  time: /t\n%s  list:\n", settings);
    for (size_t i = 0; i < n; i++) k += snprintf(yaml + k, sizeof yaml - (size_t)k, "    - %s\n", items[i]);
    k += snprintf(yaml + k, sizeof yaml - (size_t)k, "features:\n");
    for (size_t i = 0; i < n; i++) k += snprintf(yaml + k, sizeof yaml - (size_t)k, "  - {name: f%zu, aggregate: a%zu}\n", i, i);
    char err[512];
    int rc = rtml_config_parse("t.yaml", yaml, strlen(yaml), cfg, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

/* Inputs in the order of rtml_aggregates_fields: found by name. */
typedef struct {
    const char *key;
    double t; /* seconds */
    double v;
    const char *s;
} rec;

static void inputs(const rtml_aggregates *a, const rec *r, rtml_value *in) {
    size_t n;
    const char *const *f = rtml_aggregates_fields(a, &n);
    for (size_t i = 0; i < n; i++) {
        in[i] = (rtml_value){.type = RTML_V_ABSENT};
        if (!strcmp(f[i], "/k") && r->key) in[i] = (rtml_value){.type = RTML_V_STRING, .str = r->key, .len = strlen(r->key)};
        if (!strcmp(f[i], "/t")) in[i] = (rtml_value){.type = RTML_V_NUMBER, .num = r->t};
        if (!strcmp(f[i], "/v") && !isnan(r->v)) in[i] = (rtml_value){.type = RTML_V_NUMBER, .num = r->v};
        if (!strcmp(f[i], "/s") && r->s) in[i] = (rtml_value){.type = RTML_V_STRING, .str = r->s, .len = strlen(r->s)};
    }
}

/* compute then add one record; out gets its values. */
static rtml_reject feed(rtml_aggregates *a, const rec *r, rtml_value *out, int add) {
    rtml_value in[8];
    char detail[256];
    inputs(a, r, in);
    rtml_reject why = rtml_aggregates_compute(a, in, NULL, out, detail, sizeof detail);
    if (why == RTML_REJECT_NONE && add) rtml_aggregates_add(a);
    return why;
}

static double num(const rtml_value *v) { return v->type == RTML_V_NUMBER ? v->num : NAN; }

static void test_point_in_time(void) {
    static const char *const items[] = {"{name: a0, key: /k, fn: count, window: 10s}",
                                        "{name: a1, key: /k, field: /v, fn: sum, window: 10s}",
                                        "{name: a2, key: /k, fn: time_since_last}"};
    rtml_config cfg;
    if (make(&cfg, "  lateness: 5s\n", items, 3) != 0) return;
    char err[256];
    rtml_aggregates *a = rtml_aggregates_new(&cfg, err, sizeof err);
    CHECK(a != NULL);
    rtml_value out[3];
    CHECK(feed(a, &(rec){"x", 100, 1, NULL}, out, 1) == RTML_REJECT_NONE);
    CHECK(num(&out[0]) == 0 && num(&out[1]) == 0 && out[2].type == RTML_V_ABSENT); /* nothing before the first */
    feed(a, &(rec){"x", 100, 2, NULL}, out, 1);
    CHECK(num(&out[0]) == 0); /* [t - 10, t): the same time is not before it */
    feed(a, &(rec){"x", 105, 4, NULL}, out, 1);
    CHECK(num(&out[0]) == 2 && num(&out[1]) == 3 && num(&out[2]) == 5);
    feed(a, &(rec){"x", 103, 8, NULL}, out, 1); /* 2 s out of order: within lateness, placed before 105 */
    CHECK(num(&out[0]) == 2 && num(&out[1]) == 3 && num(&out[2]) == 3);
    feed(a, &(rec){"x", 110, 0, NULL}, out, 1);
    CHECK(num(&out[0]) == 4 && num(&out[1]) == 15 && num(&out[2]) == 5); /* [100, 110): all four */
    feed(a, &(rec){"y", 110, 5, NULL}, out, 1);
    CHECK(num(&out[0]) == 0); /* keys apart */
    feed(a, &(rec){"x", 90, 100, NULL}, out, 1); /* 20 s behind x's newest: beyond lateness, not kept */
    feed(a, &(rec){"x", 111, 0, NULL}, out, 0);
    CHECK(num(&out[0]) == 3 && num(&out[1]) == 12); /* 103, 105, 110: not the late one */
    rtml_agg_stats s;
    rtml_aggregates_stats(a, &s);
    CHECK_EQ_INT(s.late, 1);
    CHECK_EQ_INT(s.keys, 2);
    CHECK(s.bytes > 0);
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);
}

static void test_limits(void) {
    static const char *const items[] = {"{name: a0, key: /k, fn: count}"};
    rtml_config cfg;
    if (make(&cfg, "  max_keys: 3\n  ttl: 100s\n  max_events: 4\n", items, 1) != 0) return;
    char err[256];
    rtml_aggregates *a = rtml_aggregates_new(&cfg, err, sizeof err);
    rtml_value out[1];
    const char *keys[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) feed(a, &(rec){keys[i], 10 + i, 1, NULL}, out, 1);
    rtml_agg_stats s;
    rtml_aggregates_stats(a, &s);
    CHECK_EQ_INT(s.keys, 3);
    CHECK_EQ_INT(s.evicted, 1); /* "a", the least recently updated */
    feed(a, &(rec){"a", 20, 1, NULL}, out, 0);
    CHECK(num(&out[0]) == 0); /* forgotten */
    for (int i = 0; i < 10; i++) feed(a, &(rec){"b", 20 + i, 1, NULL}, out, 1);
    feed(a, &(rec){"b", 40, 1, NULL}, out, 0);
    CHECK(num(&out[0]) == 11); /* whole history: the ring's 4 plus the folded ones */
    feed(a, &(rec){"z", 500, 1, NULL}, out, 1); /* room for z: "c" goes; then "d" and "b" are past their ttl */
    rtml_aggregates_stats(a, &s);
    CHECK_EQ_INT(s.evicted, 2);
    CHECK_EQ_INT(s.expired, 2);
    CHECK_EQ_INT(s.keys, 1);
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);
}

static void test_window_truncation(void) {
    static const char *const items[] = {"{name: a0, key: /k, fn: count, window: 1h}"};
    rtml_config cfg;
    if (make(&cfg, "  max_events: 8\n", items, 1) != 0) return;
    rtml_aggregates *a = rtml_aggregates_new(&cfg, NULL, 0);
    rtml_value out[1];
    for (int i = 0; i < 20; i++) feed(a, &(rec){"k", i, 1, NULL}, out, 1);
    feed(a, &(rec){"k", 30, 1, NULL}, out, 0);
    CHECK(num(&out[0]) == 8); /* the window keeps at most max_events: stated, counted */
    rtml_agg_stats s;
    rtml_aggregates_stats(a, &s);
    CHECK_EQ_INT(s.truncated, 12);
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);
}

static void test_decay_and_distinct(void) {
    static const char *const items[] = {"{name: a0, key: /k, field: /v, fn: sum, half_life: 10s}",
                                        "{name: a1, key: /k, field: /v, fn: mean, half_life: 10s}",
                                        "{name: a2, key: /k, field: /s, fn: distinct, window: 1m}",
                                        "{name: a3, key: /k, field: /v, fn: std, window: 1m}"};
    rtml_config cfg;
    if (make(&cfg, "", items, 4) != 0) return;
    rtml_aggregates *a = rtml_aggregates_new(&cfg, NULL, 0);
    rtml_value out[4];
    feed(a, &(rec){"k", 0, 4, "u"}, out, 1);
    feed(a, &(rec){"k", 10, 2, "v"}, out, 1);
    CHECK_NEAR(num(&out[0]), 2, 1e-12); /* 4 halved once */
    CHECK_NEAR(num(&out[1]), 4, 1e-12);
    CHECK(out[3].type == RTML_V_ABSENT); /* std of one value */
    feed(a, &(rec){"k", 20, 0, "u"}, out, 1);
    CHECK_NEAR(num(&out[0]), 4 * 0.25 + 2 * 0.5, 1e-12);
    CHECK_NEAR(num(&out[1]), (4 * 0.25 + 2 * 0.5) / 0.75, 1e-12);
    CHECK(num(&out[2]) == 2);
    CHECK_NEAR(num(&out[3]), sqrt(2), 1e-12);
    feed(a, &(rec){"k", 30, 0, "w"}, out, 0);
    CHECK(num(&out[2]) == 2); /* u, v, u */
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);
}

static void test_refusals(void) {
    static const char *const items[] = {"{name: a0, key: /k, field: /v, fn: mean, window: 1m}"};
    rtml_config cfg;
    if (make(&cfg, "", items, 1) != 0) return;
    rtml_aggregates *a = rtml_aggregates_new(&cfg, NULL, 0);
    rtml_value out[1];
    CHECK(feed(a, &(rec){NULL, 1, 1, NULL}, out, 1) == RTML_REJECT_MISSING_FIELD);
    CHECK(feed(a, &(rec){"k", 1, NAN, NULL}, out, 1) == RTML_REJECT_MISSING_FIELD);
    rtml_value in[4];
    size_t n;
    const char *const *f = rtml_aggregates_fields(a, &n);
    inputs(a, &(rec){"k", 1, 1, NULL}, in);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i], "/v")) in[i] = (rtml_value){.type = RTML_V_STRING, .str = "x", .len = 1};
    char detail[256];
    CHECK(rtml_aggregates_compute(a, in, NULL, out, detail, sizeof detail) == RTML_REJECT_WRONG_TYPE);
    CHECK(strstr(detail, "/v") != NULL);
    inputs(a, &(rec){"k", 1, 1, NULL}, in);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i], "/t")) in[i] = (rtml_value){.type = RTML_V_STRING, .str = "noon", .len = 4};
    CHECK(rtml_aggregates_compute(a, in, NULL, out, detail, sizeof detail) == RTML_REJECT_WRONG_TYPE);
    inputs(a, &(rec){"k", 1, 1, NULL}, in);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i], "/t")) in[i] = (rtml_value){.type = RTML_V_STRING, .str = "2026-12-07T10:00:00Z", .len = 20};
    CHECK(rtml_aggregates_compute(a, in, NULL, out, detail, sizeof detail) == RTML_REJECT_NONE); /* ISO-8601 */
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);
}

/* missing: skip — a record without the field counts for no value: mean, max, last and distinct pass it by, over the
 * window and over the whole history (values folded out of the ring), and count still counts it. Without the
 * setting the same record is refused. */
static void test_missing_skip(void) {
    static const char *const items[] = {"{name: a0, key: /k, field: /v, fn: mean, window: 10s, missing: skip}",
                                        "{name: a1, key: /k, field: /v, fn: max, missing: skip}",
                                        "{name: a2, key: /k, field: /v, fn: last, missing: skip}",
                                        "{name: a3, key: /k, field: /s, fn: distinct, window: 10s, missing: skip}",
                                        "{name: a4, key: /k, fn: count, window: 10s}"};
    rtml_config cfg;
    if (make(&cfg, "  max_events: 2\n", items, 5) != 0) return;
    char err[256];
    rtml_aggregates *a = rtml_aggregates_new(&cfg, err, sizeof err);
    CHECK(a != NULL);
    rtml_value out[5];
    CHECK(feed(a, &(rec){"x", 100, 4, "m1"}, out, 1) == RTML_REJECT_NONE);
    CHECK(feed(a, &(rec){"x", 101, NAN, NULL}, out, 1) == RTML_REJECT_NONE); /* no value, no merchant */
    CHECK(num(&out[0]) == 4 && num(&out[1]) == 4 && num(&out[2]) == 4 && num(&out[3]) == 1 && num(&out[4]) == 1);
    CHECK(feed(a, &(rec){"x", 102, NAN, NULL}, out, 1) == RTML_REJECT_NONE);
    /* the ring holds 2 events: 100 was folded into the history; max and last still see it */
    CHECK(num(&out[0]) == 4 && num(&out[1]) == 4 && num(&out[2]) == 4 && num(&out[3]) == 1 && num(&out[4]) == 2);
    CHECK(feed(a, &(rec){"x", 103, 2, "m2"}, out, 1) == RTML_REJECT_NONE);
    CHECK(num(&out[1]) == 4 && num(&out[2]) == 4);
    feed(a, &(rec){"x", 104, NAN, NULL}, out, 1);
    CHECK(num(&out[1]) == 4 && num(&out[2]) == 2);
    feed(a, &(rec){"y", 104, NAN, NULL}, out, 1);
    feed(a, &(rec){"y", 105, 1, NULL}, out, 1);
    CHECK(out[0].type == RTML_V_ABSENT && out[1].type == RTML_V_ABSENT && out[2].type == RTML_V_ABSENT); /* none yet */
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);

    static const char *const strict[] = {"{name: a0, key: /k, field: /v, fn: mean, window: 10s}"};
    if (make(&cfg, "", strict, 1) != 0) return;
    a = rtml_aggregates_new(&cfg, err, sizeof err);
    CHECK(a != NULL);
    CHECK(feed(a, &(rec){"x", 100, NAN, NULL}, out, 1) == RTML_REJECT_MISSING_FIELD);
    rtml_aggregates_free(a);
    rtml_config_free(&cfg);
}

static void test_checkpoint(void) {
    static const char *const items[] = {"{name: a0, key: /k, field: /v, fn: mean, window: 1m}",
                                        "{name: a1, key: /k, field: /v, fn: sum, half_life: 20s}",
                                        "{name: a2, key: /k, field: /s, fn: distinct, window: 1m}",
                                        "{name: a3, key: /k, fn: count}"};
    rtml_config cfg, other;
    if (make(&cfg, "  max_events: 16\n", items, 4) != 0 || make(&other, "", items, 2) != 0) return;
    rtml_aggregates *a = rtml_aggregates_new(&cfg, NULL, 0), *b = rtml_aggregates_new(&cfg, NULL, 0);
    rtml_value out[4], got[4];
    const char *names[] = {"p", "q", "r"}, *cats[] = {"x", "y", "z", "w"};
    for (int i = 0; i < 200; i++) feed(a, &(rec){names[i % 3], i * 0.7, i % 11, cats[i % 4]}, out, 1);
    rtml_writer w = {RTML_BUF_INIT};
    rtml_aggregates_save(a, &w);
    rtml_reader r = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    char err[256];
    CHECK(rtml_aggregates_load(b, &r, err, sizeof err) == 0);
    for (int i = 200; i < 260; i++) { /* the same values from here on */
        rec x = {names[i % 3], i * 0.7, i % 11, cats[i % 4]};
        feed(a, &x, out, 1);
        feed(b, &x, got, 1);
        for (int j = 0; j < 4; j++) CHECK(out[j].type == got[j].type && (out[j].type != RTML_V_NUMBER || out[j].num == got[j].num));
    }
    rtml_aggregates *c = rtml_aggregates_new(&other, NULL, 0);
    r = (rtml_reader){(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    CHECK(rtml_aggregates_load(c, &r, err, sizeof err) != 0);
    CHECK(strstr(err, "another aggregates section") != NULL);
    r = (rtml_reader){(const unsigned char *)w.buf.data, w.buf.len / 2, 0, false}; /* cut short */
    CHECK(rtml_aggregates_load(b, &r, err, sizeof err) != 0);
    rtml_agg_stats s;
    rtml_aggregates_stats(b, &s);
    CHECK_EQ_INT(s.keys, 0); /* a failed load leaves nothing half-loaded */
    rtml_buf_free(&w.buf);
    rtml_aggregates_free(a), rtml_aggregates_free(b), rtml_aggregates_free(c);
    rtml_config_free(&cfg), rtml_config_free(&other);
}

int main(void) {
    test_point_in_time();
    test_limits();
    test_window_truncation();
    test_decay_and_distinct();
    test_refusals();
    test_missing_skip();
    test_checkpoint();
    return check_exit("test_aggregate");
}
