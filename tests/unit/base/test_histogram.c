/* test_histogram.c — histograms: exact Prometheus bucket counts at the boundaries (le inclusive), the
 * exposition text line by line (and through `promtool check metrics` when it is installed), quantiles within
 * the stated relative error (1/33) against sorted arrays for several distributions and at every fine-bucket
 * edge, windowed quantiles through a copy, and the edge cases: no values, NaN, zero, negatives, infinities. */
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/histogram.h"

/* The stated bound, with room for rounding in the bucket-value arithmetic. */
#define REL_ERR (1.0 / 33 + 1e-12)

/* ---- deterministic random numbers (xorshift64*) -------------------------------------------------------- */

static double uniform(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * 0x1.0p-53;
}

static double normal(uint64_t *s) {
    double u = uniform(s), v = uniform(s);
    return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Within the bound in the covered range; outside it, the saturated values histogram.h states. */
static int rel_ok(double estimate, double truth) {
    double a = fabs(truth), sign = truth < 0 ? -1 : 1;
    if (truth == 0) return estimate == 0;
    if (a < ldexp(1, RTML_HIST_EXP_MIN - 1)) return estimate == sign * ldexp(1, RTML_HIST_EXP_MIN - 2);
    if (a >= ldexp(1, RTML_HIST_EXP_MAX)) return estimate == sign * ldexp(1, RTML_HIST_EXP_MAX);
    return fabs(estimate - truth) <= REL_ERR * a;
}

/* ---- tests ------------------------------------------------------------------------------------------- */

static void test_init(void) {
    rtml_hist h;
    CHECK_EQ_INT(rtml_hist_init(&h, (const double[]){1, 1}, 2), -1);
    rtml_hist_free(&h); /* safe after a failed init */
    CHECK_EQ_INT(rtml_hist_init(&h, (const double[]){2, 1}, 2), -1);
    CHECK_EQ_INT(rtml_hist_init(&h, (const double[]){1, NAN}, 2), -1);
    CHECK_EQ_INT(rtml_hist_init(&h, (const double[]){1, INFINITY}, 2), -1);
    CHECK_EQ_INT(rtml_hist_init(&h, NULL, 0), 0); /* only +Inf */
    rtml_hist_add(&h, 3);
    rtml_buf out = RTML_BUF_INIT;
    rtml_hist_prometheus(&h, "x", "", &out);
    CHECK_STR(out.data, "x_bucket{le=\"+Inf\"} 1\nx_sum 3\nx_count 1\n");
    rtml_buf_free(&out);
    rtml_hist_free(&h);
    rtml_hist_free(&h); /* twice is fine */
    CHECK_EQ_INT(rtml_hist_latency_n, 16);
    CHECK_EQ_INT(rtml_hist_batch_n, 13);
    CHECK(rtml_hist_latency_bounds[0] == 0.0001 && rtml_hist_latency_bounds[15] == 10);
    CHECK(rtml_hist_batch_bounds[0] == 1 && rtml_hist_batch_bounds[12] == 4096);
}

/* le is inclusive: a value equal to a bound counts in that bound's bucket. The bounds array is copied. */
static void test_buckets_exact(void) {
    double bounds[] = {1, 2.5, 5};
    rtml_hist h;
    CHECK_EQ_INT(rtml_hist_init(&h, bounds, 3), 0);
    bounds[0] = 100; /* must not matter */
    double values[] = {-3, 0, 1, nextafter(1, 2), 2.5, 5, nextafter(5, 6), 1e9, NAN};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) rtml_hist_add(&h, values[i]);
    CHECK_EQ_INT(rtml_hist_count(&h), 8); /* NaN ignored */
    rtml_buf out = RTML_BUF_INIT;
    rtml_hist_prometheus(&h, "rtml_batch_size", "topic=\"a\",partition=\"0\"", &out);
    char expect[512];
    double sum = -3 + 0 + 1 + nextafter(1, 2) + 2.5 + 5 + nextafter(5, 6) + 1e9;
    snprintf(expect, sizeof expect,
             "rtml_batch_size_bucket{topic=\"a\",partition=\"0\",le=\"1\"} 3\n"
             "rtml_batch_size_bucket{topic=\"a\",partition=\"0\",le=\"2.5\"} 5\n"
             "rtml_batch_size_bucket{topic=\"a\",partition=\"0\",le=\"5\"} 6\n"
             "rtml_batch_size_bucket{topic=\"a\",partition=\"0\",le=\"+Inf\"} 8\n"
             "rtml_batch_size_sum{topic=\"a\",partition=\"0\"} %.17g\n"
             "rtml_batch_size_count{topic=\"a\",partition=\"0\"} 8\n", sum);
    /* %.17g of this sum happens to be its shortest exact form too; compare the numbers, then the text */
    CHECK(rtml_hist_sum(&h) == sum);
    CHECK_STR(out.data, expect);
    rtml_buf_free(&out);
    rtml_hist_free(&h);
}

static void test_prometheus_numbers(void) {
    rtml_hist h;
    CHECK_EQ_INT(rtml_hist_init(&h, rtml_hist_latency_bounds, rtml_hist_latency_n), 0);
    rtml_hist_add(&h, 0.1);
    rtml_hist_add(&h, 0.2);
    rtml_buf out = RTML_BUF_INIT;
    rtml_hist_prometheus(&h, "rtml_e2e_latency_seconds", "", &out);
    static const char *const les[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                                      "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"};
    const char *p = out.data;
    for (int i = 0; i < 17; i++) {
        char line[128];
        snprintf(line, sizeof line, "rtml_e2e_latency_seconds_bucket{le=\"%s\"} %d\n", les[i], i < 9 ? 0 : i == 9 ? 1 : 2);
        CHECK(strncmp(p, line, strlen(line)) == 0);
        p = strchr(p, '\n') + 1;
    }
    CHECK_STR(p, "rtml_e2e_latency_seconds_sum 0.30000000000000004\nrtml_e2e_latency_seconds_count 2\n");
    rtml_buf_free(&out);

    rtml_hist_add(&h, INFINITY);
    rtml_buf_reset(&out);
    rtml_hist_prometheus(&h, "x", "", &out);
    CHECK(strstr(out.data, "x_bucket{le=\"10\"} 2\nx_bucket{le=\"+Inf\"} 3\nx_sum +Inf\nx_count 3\n") != NULL);
    rtml_hist_add(&h, -INFINITY);
    rtml_buf_reset(&out);
    rtml_hist_prometheus(&h, "x", "", &out);
    CHECK(strstr(out.data, "x_sum NaN\n") != NULL);
    CHECK(strstr(out.data, "x_bucket{le=\"0.0001\"} 1\n") != NULL); /* -Inf <= every bound */
    rtml_buf_free(&out);
    rtml_hist_free(&h);
}

/* Every line is `name{labels} value` in the text format; buckets cumulative, +Inf = _count. */
static void check_exposition_lines(const char *text) {
    regex_t re;
    CHECK(regcomp(&re, "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})? "
                       "([-+]?[0-9.eE+-]+|[+-]Inf|NaN)$", REG_EXTENDED | REG_NOSUB) == 0);
    char *copy = strdup(text), *save = NULL;
    int lines = 0, bad = 0;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save), lines++)
        if (l[0] != '#' && regexec(&re, l, 0, NULL, 0) != 0) {
            bad++;
            fprintf(stderr, "not a Prometheus sample line: %s\n", l);
        }
    CHECK(lines > 0);
    CHECK_EQ_INT(bad, 0);
    free(copy);
    regfree(&re);
}

/* A small exposition (with the HELP/TYPE lines the caller adds) through promtool, when it is installed. */
static void check_with_promtool(const char *body) {
    if (access("/usr/bin/promtool", X_OK) != 0) {
        fprintf(stderr, "test_histogram: /usr/bin/promtool not installed, promtool check skipped\n");
        return;
    }
    char path[] = "/tmp/rtml-test-hist-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%s", body);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/promtool check metrics < %s", path);
    CHECK_EQ_INT(system(cmd), 0);
    unlink(path);
}

static void test_exposition_format(void) {
    rtml_hist a, b;
    CHECK_EQ_INT(rtml_hist_init(&a, rtml_hist_latency_bounds, rtml_hist_latency_n), 0);
    CHECK_EQ_INT(rtml_hist_init(&b, rtml_hist_latency_bounds, rtml_hist_latency_n), 0);
    uint64_t s = 42;
    for (int i = 0; i < 1000; i++) rtml_hist_add(&a, exp(normal(&s) * 2 - 5));
    for (int i = 0; i < 10; i++) rtml_hist_add(&b, uniform(&s) * 20);
    rtml_buf out = RTML_BUF_INIT;
    rtml_buf_puts(&out, "# HELP rtml_processing_seconds Time from reading a record to handing its output over.\n"
                        "# TYPE rtml_processing_seconds histogram\n");
    rtml_hist_prometheus(&a, "rtml_processing_seconds", "topic=\"sea\",partition=\"0\"", &out);
    rtml_hist_prometheus(&b, "rtml_processing_seconds", "topic=\"sea\",partition=\"1\"", &out);
    check_exposition_lines(out.data);
    /* cumulative and ending at the count */
    uint64_t prev = 0, last = 0;
    int monotone = 1;
    for (const char *p = strstr(out.data, "partition=\"0\",le="); p; p = strstr(p + 1, "partition=\"0\",le=")) {
        last = strtoull(strchr(p, '}') + 2, NULL, 10);
        monotone &= last >= prev;
        prev = last;
    }
    CHECK(monotone);
    CHECK_EQ_INT(last, 1000);
    check_with_promtool(out.data);
    rtml_buf_free(&out);
    rtml_hist_free(&a);
    rtml_hist_free(&b);
}

/* Quantiles of n values from gen against the sorted values: the ceil(q*n)-th smallest, within REL_ERR. */
static void check_distribution(const char *name, double (*gen)(uint64_t *), size_t n) {
    static const double qs[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1};
    double *v = malloc(n * sizeof *v);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    rtml_hist h;
    CHECK_EQ_INT(rtml_hist_init(&h, rtml_hist_latency_bounds, rtml_hist_latency_n), 0);
    for (size_t i = 0; i < n; i++) rtml_hist_add(&h, v[i] = gen(&s));
    qsort(v, n, sizeof *v, cmp_double);
    int bad = 0;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t rank = (size_t)ceil(qs[i] * (double)n);
        double truth = v[rank ? rank - 1 : 0], est = rtml_hist_quantile(&h, NULL, qs[i]);
        if (!rel_ok(est, truth)) {
            bad++;
            fprintf(stderr, "%s: q=%g estimate %.17g, true %.17g\n", name, qs[i], est, truth);
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(rtml_hist_count(&h), n);
    rtml_hist_free(&h);
    free(v);
}

static double gen_uniform(uint64_t *s) { return uniform(s); }
static double gen_exponential(uint64_t *s) { return -0.01 * log(1 - uniform(s)); }   /* latencies, mean 10 ms */
static double gen_lognormal(uint64_t *s) { return exp(-5 + 3 * normal(s)); }         /* 9 decades */
static double gen_pareto(uint64_t *s) { return 1e-3 / pow(1 - uniform(s), 1 / 1.2); } /* heavy tail */
static double gen_normal(uint64_t *s) { return normal(s); }                           /* half negative */
static double gen_batch(uint64_t *s) { return uniform(s) < 0.1 ? 0 : floor(1 + 4096 * uniform(s) * uniform(s)); }

static void test_quantiles_random(void) {
    check_distribution("uniform", gen_uniform, 100000);
    check_distribution("exponential", gen_exponential, 100000);
    check_distribution("lognormal", gen_lognormal, 100000);
    check_distribution("pareto", gen_pareto, 100000);
    check_distribution("normal", gen_normal, 100000);
    check_distribution("batch sizes with zeros", gen_batch, 100000);
}

/* At and just below every fine-bucket edge, on both sides of zero, a single value is reported within the
 * bound: the bucket mapping and the reported values agree everywhere in the covered range. */
static void test_quantiles_edges(void) {
    rtml_hist h, before;
    CHECK_EQ_INT(rtml_hist_init(&h, NULL, 0), 0);
    CHECK_EQ_INT(rtml_hist_init(&before, NULL, 0), 0);
    int bad = 0, checked = 0;
    for (int e = RTML_HIST_EXP_MIN - 1; e < RTML_HIST_EXP_MAX; e++)
        for (int sub = 0; sub < RTML_HIST_SUB; sub++) {
            double edge = ldexp(1 + (double)sub / RTML_HIST_SUB, e);
            double vals[] = {edge, nextafter(edge, 0), -edge, -nextafter(edge, 0)};
            for (int k = 0; k < 4; k++) {
                if (fabs(vals[k]) < ldexp(1, RTML_HIST_EXP_MIN - 1)) continue; /* below the covered range */
                rtml_hist_copy(&before, &h);
                rtml_hist_add(&h, vals[k]);
                double est = rtml_hist_quantile(&h, &before, 0.5);
                checked++;
                if (!rel_ok(est, vals[k])) {
                    if (bad++ < 5) fprintf(stderr, "edge: value %.17g reported as %.17g\n", vals[k], est);
                }
            }
        }
    CHECK_EQ_INT(bad, 0);
    CHECK(checked > 4 * 16 * 50 - 10);
    /* Outside the covered range: underflow and overflow saturate, 0 is exact. */
    rtml_hist_copy(&before, &h);
    rtml_hist_add(&h, 1e-30);
    CHECK(rtml_hist_quantile(&h, &before, 0.5) == ldexp(1, RTML_HIST_EXP_MIN - 2));
    rtml_hist_copy(&before, &h); /* a subnormal (exponent bits 0: the slot is read from the bits) */
    rtml_hist_add(&h, 5e-324);
    CHECK(rtml_hist_quantile(&h, &before, 0.5) == ldexp(1, RTML_HIST_EXP_MIN - 2));
    rtml_hist_copy(&before, &h);
    rtml_hist_add(&h, 1e12);
    CHECK(rtml_hist_quantile(&h, &before, 0.5) == ldexp(1, RTML_HIST_EXP_MAX));
    rtml_hist_copy(&before, &h); /* infinity (exponent bits all ones) saturates like any overflow */
    rtml_hist_add(&h, INFINITY);
    CHECK(rtml_hist_quantile(&h, &before, 0.5) == ldexp(1, RTML_HIST_EXP_MAX));
    rtml_hist_copy(&before, &h);
    rtml_hist_add(&h, -1e12);
    CHECK(rtml_hist_quantile(&h, &before, 0.5) == -ldexp(1, RTML_HIST_EXP_MAX));
    rtml_hist_copy(&before, &h);
    rtml_hist_add(&h, 0.0);
    rtml_hist_add(&h, -0.0);
    CHECK(rtml_hist_quantile(&h, &before, 1) == 0);
    rtml_hist_free(&h);
    rtml_hist_free(&before);
}

/* The nearest-rank definition on values far apart (each in its own fine bucket): the ceil(q*n)-th smallest. */
static void test_nearest_rank(void) {
    rtml_hist h;
    CHECK_EQ_INT(rtml_hist_init(&h, NULL, 0), 0);
    for (int i = 1; i <= 4; i++) rtml_hist_add(&h, i * 10.0); /* 10, 20, 30, 40 */
    static const double qs[] = {0, 0.1, 0.25, 0.26, 0.5, 0.51, 0.75, 0.76, 1};
    static const double want[] = {10, 10, 10, 20, 20, 30, 30, 40, 40};
    for (int i = 0; i < 9; i++) {
        double est = rtml_hist_quantile(&h, NULL, qs[i]);
        if (!rel_ok(est, want[i])) fprintf(stderr, "q=%g: %.17g, want ~%g\n", qs[i], est, want[i]);
        CHECK(rel_ok(est, want[i]));
    }
    rtml_hist_free(&h);
}

static void test_windowed(void) {
    rtml_hist h, mark;
    CHECK_EQ_INT(rtml_hist_init(&h, rtml_hist_latency_bounds, rtml_hist_latency_n), 0);
    CHECK_EQ_INT(rtml_hist_init(&mark, rtml_hist_latency_bounds, rtml_hist_latency_n), 0);
    CHECK(isnan(rtml_hist_quantile(&h, NULL, 0.5))); /* nothing yet */
    for (int i = 1; i <= 1000; i++) rtml_hist_add(&h, i * 1e-6); /* 1 us .. 1 ms */
    rtml_hist_copy(&mark, &h);
    CHECK(isnan(rtml_hist_quantile(&h, &mark, 0.5))); /* nothing since the copy */
    for (int i = 1; i <= 100; i++) rtml_hist_add(&h, i * 0.1); /* 0.1 s .. 10 s */
    CHECK(rel_ok(rtml_hist_quantile(&h, &mark, 0), 0.1));
    CHECK(rel_ok(rtml_hist_quantile(&h, &mark, 0.5), 5.0));
    CHECK(rel_ok(rtml_hist_quantile(&h, &mark, 0.99), 9.9));
    CHECK(rel_ok(rtml_hist_quantile(&h, &mark, 1), 10));
    CHECK(rel_ok(rtml_hist_quantile(&h, NULL, 0.5), 550e-6)); /* since init: rank 550 of 1100 */
    CHECK(rel_ok(rtml_hist_quantile(&h, NULL, 0.95), 4.5));   /* rank 1045 */
    CHECK(rel_ok(rtml_hist_quantile(&h, &mark, -1), 0.1));    /* q clamped */
    CHECK(rel_ok(rtml_hist_quantile(&h, &mark, 7), 10));
    CHECK(isnan(rtml_hist_quantile(&h, &mark, NAN)));
    /* The copy carries the Prometheus view too. */
    CHECK_EQ_INT(rtml_hist_count(&mark), 1000);
    CHECK_NEAR(rtml_hist_sum(&mark), 1000 * 1001 / 2 * 1e-6, 1e-12);
    rtml_buf a = RTML_BUF_INIT, b = RTML_BUF_INIT;
    rtml_hist_copy(&mark, &h);
    rtml_hist_prometheus(&h, "x", "", &a);
    rtml_hist_prometheus(&mark, "x", "", &b);
    CHECK_STR(a.data, b.data);
    rtml_buf_free(&a);
    rtml_buf_free(&b);
    rtml_hist_free(&h);
    rtml_hist_free(&mark);
}

int main(void) {
    test_init();
    test_buckets_exact();
    test_prometheus_numbers();
    test_exposition_format();
    test_quantiles_random();
    test_quantiles_edges();
    test_nearest_rank();
    test_windowed();
    return check_exit("test_histogram");
}
