/* test_gen.c — the synthetic drift streams (gen.h): determinism, record shape, label rules, noise rate,
 * drift schedule (abrupt and gradual), hyperplane weight drift, and every rejected option.
 *
 * The records are checked through their text (parsed back here) as well as through the accessors, so the
 * JSON a consumer sees is what is verified. */
#include "check.h"
#include "cli/gen.h"
#include "base/rtml.h"
#include <stdint.h>
#include <stdlib.h>

/* The number after "key": in a JSON line (test-only, for the flat records gen writes). */
static double field(const char *line, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return NAN;
    return strtod(p + strlen(pat), NULL);
}

static rtml_gen_opts sea_opts(uint64_t n) {
    rtml_gen_opts o;
    rtml_gen_opts_init(&o);
    o.stream = RTML_GEN_SEA;
    o.n = n;
    return o;
}

static rtml_gen_opts hyper_opts(uint64_t n) {
    rtml_gen_opts o = sea_opts(n);
    o.stream = RTML_GEN_HYPERPLANE;
    return o;
}

static rtml_gen *make(const rtml_gen_opts *o) {
    char err[RTML_ERRLEN] = "";
    rtml_gen *g = rtml_gen_new(o, err, sizeof err);
    if (!g) fprintf(stderr, "rtml_gen_new: %s\n", err);
    CHECK(g != NULL);
    return g;
}

/* All records of a generator, newline-separated. */
static void all_text(const rtml_gen_opts *o, rtml_buf *out) {
    rtml_gen *g = make(o);
    if (!g) return;
    while (rtml_gen_next(g, out)) rtml_buf_putc(out, '\n');
    rtml_gen_free(g);
}

static int same_output(const rtml_gen_opts *a, const rtml_gen_opts *b) {
    rtml_buf x = RTML_BUF_INIT, y = RTML_BUF_INIT;
    all_text(a, &x);
    all_text(b, &y);
    int same = x.len == y.len && x.len > 0 && memcmp(x.data, y.data, x.len) == 0;
    rtml_buf_free(&x);
    rtml_buf_free(&y);
    return same;
}

static void test_determinism(void) {
    rtml_gen_opts a = sea_opts(5000), b = a;
    a.drift_at = b.drift_at = 2000;
    a.drift_width = b.drift_width = 500;
    CHECK(same_output(&a, &b));
    b.seed = 2;
    CHECK(!same_output(&a, &b));
    rtml_gen_opts h = hyper_opts(3000), h2 = h;
    h.mag_change = h2.mag_change = 0.001;
    h.drift_at = h2.drift_at = 1500;
    CHECK(same_output(&h, &h2));
    h2.seed = 99;
    CHECK(!same_output(&h, &h2));

    /* A known first record pins the format and the PRNG across machines and versions. */
    rtml_gen_opts one = sea_opts(1);
    rtml_buf line = RTML_BUF_INIT;
    all_text(&one, &line);
    CHECK_STR(line.data, "{\"id\":0,\"x1\":4.02351387961936,\"x2\":3.74604211856993,\"x3\":5.54895824748813,"
                         "\"label\":1}\n");
    rtml_buf_free(&line);
}

static void test_ids_and_end(void) {
    rtml_gen_opts o = sea_opts(1000);
    o.id_offset = 100;
    rtml_gen *g = make(&o);
    if (!g) return;
    rtml_buf line = RTML_BUF_INIT;
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        rtml_buf_reset(&line);
        ok &= rtml_gen_next(g, &line) == 1;
        ok &= strncmp(line.data, "{\"id\":", 6) == 0 && (long)field(line.data, "id") == 100 + i;
        ok &= line.data[line.len - 1] == '}' && !strchr(line.data, '\n');
    }
    CHECK(ok);
    rtml_buf_reset(&line);
    CHECK_EQ_INT(rtml_gen_next(g, &line), 0);
    CHECK_EQ_INT(line.len, 0);
    CHECK_EQ_INT(rtml_gen_next(g, &line), 0);
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

/* Features in range, and the text reads back to exactly the generator's double; where %.15g prints without
 * an exponent (x >= 1e-4), the text is also exactly what rtml_buf_put_double writes. */
static void check_features(const rtml_gen_opts *o, double hi) {
    rtml_gen *g = make(o);
    if (!g) return;
    rtml_buf line = RTML_BUF_INIT, ref = RTML_BUF_INIT;
    int in_range = 1, exact = 1, same_text = 1, dim = rtml_gen_dim(g);
    while (rtml_gen_next(g, &line)) {
        const double *x = rtml_gen_features(g);
        for (int i = 0; i < dim; i++) {
            char key[16], pat[24];
            snprintf(key, sizeof key, "x%d", i + 1);
            in_range &= x[i] >= 0 && x[i] < hi;
            exact &= field(line.data, key) == x[i];
            if (x[i] < 1e-4) continue;
            rtml_buf_reset(&ref);
            rtml_buf_put_double(&ref, x[i]);
            snprintf(pat, sizeof pat, "\"%s\":", key);
            const char *p = strstr(line.data, pat) + strlen(pat);
            same_text &= strncmp(p, ref.data, ref.len) == 0 && (p[ref.len] == ',' || p[ref.len] == '}');
        }
        rtml_buf_reset(&line);
    }
    CHECK(in_range);
    CHECK(exact);
    CHECK(same_text);
    rtml_gen_free(g);
    rtml_buf_free(&line);
    rtml_buf_free(&ref);
}

static void test_feature_ranges(void) {
    rtml_gen_opts s = sea_opts(50000), h = hyper_opts(20000);
    check_features(&s, 10.0);
    check_features(&h, 1.0);
    h.features = 3;
    rtml_gen *g = make(&h);
    if (g) CHECK_EQ_INT(rtml_gen_dim(g), 3);
    rtml_gen_free(g);
}

/* Over n records: the true label follows the rule, and the written label differs from it at the noise rate
 * (within 3 sigma). */
static void test_sea_labels(double noise, double theta, int variant) {
    const int n = 100000;
    rtml_gen_opts o = sea_opts(n);
    o.noise = noise;
    o.variant = variant;
    rtml_gen *g = make(&o);
    if (!g) return;
    rtml_buf line = RTML_BUF_INIT;
    int rule_ok = 1, label_ok = 1, flips = 0;
    while (rtml_gen_next(g, &line)) {
        double x1 = field(line.data, "x1"), x2 = field(line.data, "x2");
        int label = (int)field(line.data, "label");
        rule_ok &= rtml_gen_true_label(g) == (x1 + x2 <= theta);
        label_ok &= label == rtml_gen_label(g) && (label == 0 || label == 1);
        flips += label != rtml_gen_true_label(g);
        rtml_buf_reset(&line);
    }
    CHECK(rule_ok);
    CHECK(label_ok);
    double sigma = sqrt(noise * (1 - noise) / n);
    CHECK_NEAR((double)flips / n, noise, 3 * sigma + 1e-12);
    CHECK_NEAR(rtml_gen_bayes_accuracy(g), 1 - noise, 1e-15);
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

static void test_labels_and_noise(void) {
    test_sea_labels(0.10, 8.0, 0);
    test_sea_labels(0.0, 9.0, 1);
    test_sea_labels(0.25, 7.0, 2);
    test_sea_labels(0.5, 9.5, 3);

    /* Defaults: SEA 0.10, hyperplane 0.05; the hyperplane's noise rate too. */
    rtml_gen_opts s = sea_opts(10), h = hyper_opts(100000);
    rtml_gen *g = make(&s);
    if (g) CHECK_NEAR(rtml_gen_noise(g), 0.10, 0);
    rtml_gen_free(g);
    g = make(&h);
    if (!g) return;
    CHECK_NEAR(rtml_gen_bayes_accuracy(g), 0.95, 1e-15);
    rtml_buf line = RTML_BUF_INIT;
    int flips = 0, ones = 0;
    while (rtml_gen_next(g, &line)) {
        flips += rtml_gen_label(g) != rtml_gen_true_label(g);
        ones += rtml_gen_true_label(g);
        rtml_buf_reset(&line);
    }
    CHECK_NEAR(flips / 100000.0, 0.05, 3 * sqrt(0.05 * 0.95 / 100000));
    CHECK(ones > 20000 && ones < 80000); /* both classes occur */
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

/* Abrupt drift at K: concept 0 before, 1 from record K on, and the true label follows the new theta. */
static void check_sea_drift(int variant, int drift_to, double theta_before, double theta_after) {
    rtml_gen_opts o = sea_opts(2000);
    o.variant = variant;
    o.drift_to = drift_to;
    o.drift_at = 700;
    rtml_gen *g = make(&o);
    if (!g) return;
    rtml_buf line = RTML_BUF_INIT;
    int concept_ok = 1, rule_ok = 1, differ = 0;
    for (int i = 0; rtml_gen_next(g, &line); i++) {
        double s = field(line.data, "x1") + field(line.data, "x2");
        double theta = i < 700 ? theta_before : theta_after;
        concept_ok &= rtml_gen_concept(g) == (i >= 700);
        rule_ok &= rtml_gen_true_label(g) == (s <= theta);
        differ += i >= 700 && (s <= theta_before) != (s <= theta_after);
        rtml_buf_reset(&line);
    }
    CHECK(concept_ok);
    CHECK(rule_ok);
    CHECK(differ > 0); /* the change is visible in the labels */
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

static void test_sea_drift(void) {
    check_sea_drift(0, -1, 8.0, 7.0); /* default target: (0+2)%4 = variant 2 */
    check_sea_drift(0, 3, 8.0, 9.5);
    check_sea_drift(1, -1, 9.0, 9.5);
    rtml_gen_opts o = sea_opts(100);
    o.drift_at = 0;
    rtml_gen *g = make(&o);
    rtml_buf line = RTML_BUF_INIT;
    if (g && rtml_gen_next(g, &line)) CHECK_EQ_INT(rtml_gen_concept(g), 1);
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

/* Gradual drift: the share of new-concept records in each window follows the sigmoid. */
static void test_gradual_drift(void) {
    const int n = 100000, K = 50000, W = 20000, win = 5000;
    rtml_gen_opts o = sea_opts(n);
    o.drift_at = K;
    o.drift_width = W;
    rtml_gen *g = make(&o);
    if (!g) return;
    CHECK_NEAR(rtml_gen_new_concept_prob(g, K), 0.5, 1e-15);
    double worst = 0;
    for (int i = 0; i < n; i += 97) {
        double want = 1.0 / (1.0 + exp(-4.0 * (i - K) / W));
        double d = fabs(rtml_gen_new_concept_prob(g, (uint64_t)i) - want);
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-14);
    rtml_buf line = RTML_BUF_INIT;
    int ok = 1, in_win = 0;
    double expect = 0;
    for (int i = 0; rtml_gen_next(g, &line); i++) {
        in_win += rtml_gen_concept(g);
        expect += rtml_gen_new_concept_prob(g, (uint64_t)i);
        if ((i + 1) % win == 0) {
            double sd = sqrt(expect * (1 - expect / win)) + 1e-9; /* binomial-ish bound on the count */
            if (fabs(in_win - expect) > 4 * sd + 1) {
                ok = 0;
                fprintf(stderr, "window ending %d: %d new-concept records, expected %.1f\n", i, in_win, expect);
            }
            in_win = 0;
            expect = 0;
        }
        rtml_buf_reset(&line);
    }
    CHECK(ok);
    rtml_gen_free(g);
    rtml_buf_free(&line);

    /* Far from the centre the mix is pure. */
    rtml_gen_opts far = sea_opts(10);
    far.drift_at = 1000000;
    far.drift_width = 10;
    g = make(&far);
    if (g) CHECK(rtml_gen_new_concept_prob(g, 0) < 1e-17);
    if (g) CHECK_NEAR(rtml_gen_new_concept_prob(g, 2000000), 1.0, 0);
    rtml_gen_free(g);
}

static void test_hyperplane_rule_and_redraw(void) {
    rtml_gen_opts o = hyper_opts(4000);
    o.features = 5;
    o.drift_at = 2000;
    rtml_gen *g = make(&o);
    if (!g) return;
    int differ = 0;
    for (int i = 0; i < 5; i++) differ += rtml_gen_weight(g, 0, i) != rtml_gen_weight(g, 1, i);
    CHECK_EQ_INT(differ, 5); /* redrawn weights */
    rtml_buf line = RTML_BUF_INIT;
    int rule_ok = 1, concept_ok = 1;
    for (int i = 0; rtml_gen_next(g, &line); i++) {
        int c = rtml_gen_concept(g);
        double dot = 0, sum = 0;
        for (int j = 0; j < 5; j++) {
            char key[16];
            snprintf(key, sizeof key, "x%d", j + 1);
            double w = rtml_gen_weight(g, c, j);
            dot += w * field(line.data, key);
            sum += w;
        }
        rule_ok &= rtml_gen_true_label(g) == (dot > 0.5 * sum);
        concept_ok &= c == (i >= 2000);
        rtml_buf_reset(&line);
    }
    CHECK(rule_ok);
    CHECK(concept_ok);
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

/* Run n records and return weight 0..d-1 of concept 0 before and after. */
static void weights_after(rtml_gen_opts *o, int n, double *before, double *after) {
    o->n = (uint64_t)n;
    rtml_gen *g = make(o);
    if (!g) return;
    for (int i = 0; i < o->features; i++) before[i] = rtml_gen_weight(g, 0, i);
    rtml_buf line = RTML_BUF_INIT;
    while (rtml_gen_next(g, &line)) rtml_buf_reset(&line);
    for (int i = 0; i < o->features; i++) after[i] = rtml_gen_weight(g, 0, i);
    rtml_gen_free(g);
    rtml_buf_free(&line);
}

static void test_hyperplane_mag_change(void) {
    double b[4] = {0}, a[4] = {0};
    rtml_gen_opts o = hyper_opts(1);
    o.features = 4;
    weights_after(&o, 1000, b, a); /* mag_change 0: static */
    for (int i = 0; i < 4; i++) CHECK_NEAR(a[i], b[i], 0);

    o.mag_change = 0.001;
    o.sigma_flip = 0; /* always forward: +1000 * 0.001 */
    weights_after(&o, 1000, b, a);
    for (int i = 0; i < 4; i++) CHECK_NEAR(a[i] - b[i], 1.0, 1e-9);

    o.sigma_flip = 1; /* reverses after every step: back and forth */
    weights_after(&o, 1001, b, a);
    for (int i = 0; i < 4; i++) CHECK_NEAR(a[i] - b[i], 0.001, 1e-12);

    o.sigma_flip = 0.1; /* a random walk: moved, but by at most n * m */
    weights_after(&o, 1000, b, a);
    int moved = 0;
    for (int i = 0; i < 4; i++) {
        moved += a[i] != b[i];
        CHECK(fabs(a[i] - b[i]) <= 1.0 + 1e-9);
    }
    CHECK(moved > 0);

    rtml_gen *g = make(&o); /* out-of-range questions answer 0 */
    if (g) CHECK_NEAR(rtml_gen_weight(g, 0, -1) + rtml_gen_weight(g, 2, 0) + rtml_gen_weight(g, 0, 4), 0, 0);
    rtml_gen_free(g);
    rtml_gen_opts s = sea_opts(1);
    g = make(&s);
    if (g) CHECK_NEAR(rtml_gen_weight(g, 0, 0), 0, 0);
    rtml_gen_free(g);
}

static void expect_bad(const rtml_gen_opts *o, const char *why) {
    char err[RTML_ERRLEN] = "";
    rtml_gen *g = rtml_gen_new(o, err, sizeof err);
    if (g) fprintf(stderr, "accepted bad options: %s\n", why);
    CHECK(g == NULL);
    CHECK(err[0] != '\0');
    rtml_gen_free(g);
    CHECK(rtml_gen_new(o, NULL, 0) == NULL); /* err is optional */
}

static void test_bad_options(void) {
    rtml_gen_opts o;
    o = sea_opts(0), expect_bad(&o, "n = 0");
    o = sea_opts(10), o.stream = (rtml_gen_stream)7, expect_bad(&o, "stream kind");
    o = sea_opts(10), o.noise = 0.6, expect_bad(&o, "noise > 0.5");
    o = sea_opts(10), o.noise = NAN, expect_bad(&o, "noise NaN");
    o = sea_opts(10), o.variant = -1, expect_bad(&o, "variant -1");
    o = sea_opts(10), o.variant = 4, expect_bad(&o, "variant 4");
    o = sea_opts(10), o.drift_to = 4, expect_bad(&o, "drift_to 4");
    o = sea_opts(10), o.drift_to = -2, expect_bad(&o, "drift_to -2");
    o = sea_opts(10), o.drift_at = 5, o.drift_to = 0, expect_bad(&o, "drift to the same variant");
    o = sea_opts(10), o.drift_at = -2, expect_bad(&o, "drift_at -2");
    o = sea_opts(10), o.drift_at = 5, o.drift_width = -1, expect_bad(&o, "width -1");
    o = sea_opts(10), o.drift_width = 5, expect_bad(&o, "width without drift point");
    o = sea_opts(10), o.id_offset = -1, expect_bad(&o, "id_offset -1");
    o = sea_opts(10), o.id_offset = INT64_MAX - 5, expect_bad(&o, "ids overflow");
    o = hyper_opts(10), o.features = 0, expect_bad(&o, "features 0");
    o = hyper_opts(10), o.features = RTML_GEN_MAX_FEATURES + 1, expect_bad(&o, "too many features");
    o = hyper_opts(10), o.mag_change = -0.1, expect_bad(&o, "mag_change < 0");
    o = hyper_opts(10), o.mag_change = INFINITY, expect_bad(&o, "mag_change inf");
    o = hyper_opts(10), o.sigma_flip = 1.5, expect_bad(&o, "sigma_flip > 1");
    o = hyper_opts(10), o.sigma_flip = -0.5, expect_bad(&o, "sigma_flip < 0");

    /* The edges that are fine. */
    o = sea_opts(10), o.id_offset = INT64_MAX - 9;
    rtml_gen *g = make(&o);
    rtml_gen_free(g);
    o = sea_opts(10), o.noise = 0.5, o.drift_at = 20, o.drift_to = 1;
    g = make(&o);
    rtml_gen_free(g);
    rtml_gen_free(NULL);
}

static void test_stream_names(void) {
    CHECK(strstr(rtml_gen_stream_names(), "sea") != NULL);
    CHECK(strstr(rtml_gen_stream_names(), "hyperplane") != NULL);
    CHECK_EQ_INT(rtml_gen_stream_parse("sea"), RTML_GEN_SEA);
    CHECK_EQ_INT(rtml_gen_stream_parse("hyperplane"), RTML_GEN_HYPERPLANE);
    CHECK_EQ_INT(rtml_gen_stream_parse("SEA"), -1);
    CHECK_STR(rtml_gen_stream_name(RTML_GEN_HYPERPLANE), "hyperplane");
}

int main(void) {
    test_determinism();
    test_ids_and_end();
    test_feature_ranges();
    test_labels_and_noise();
    test_sea_drift();
    test_gradual_drift();
    test_hyperplane_rule_and_redraw();
    test_hyperplane_mag_change();
    test_bad_options();
    test_stream_names();
    return check_exit("test_gen");
}
