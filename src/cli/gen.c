/* gen.c — the synthetic drift streams of gen.h (SEA, rotating hyperplane): PRNG, concepts, drift schedule
 * and the JSON text of each record.
 *
 * Everything that decides a label or a concept uses IEEE basic arithmetic only, so the output is the same
 * on every machine; the few places where a compiler could fuse a*b+c into an fma are guarded below (GCC in
 * ISO C mode, which the build uses, never contracts; clang needs the pragma). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#include "cli/gen.h"

#include "base/rng.h"
#include "base/rtml.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random streams (base/rng.h): one independent stream per purpose ---- */

enum { RNG_FEATURES = 1, RNG_NOISE, RNG_MIX, RNG_WEIGHTS0, RNG_WEIGHTS1 };

/* Features live on a grid of 10^15 points: k uniform in [0, 10^15), by rejection on 50 bits (no bias). */
#define GRID_POINTS 1000000000000000ULL
#define GRID_DIGITS 15

static inline uint64_t rng_grid(rtml_rng *r) {
    uint64_t k;
    do k = rtml_rng_next(r) >> 14;
    while (k >= GRID_POINTS);
    return k;
}

/* ---- drift schedule ---- */

/* exp(x) for |x| <= 40 with basic arithmetic only, so it is the same everywhere (libm exp may differ by an
 * ulp between libcs): x = k ln2 + r with |r| <= ln2/2 (fdlibm's split of ln2 keeps k*LN2_HI exact), e^r by
 * its Taylor series to r^14/14! (error < 1e-17), then an exact scaling by 2^k. */
static double det_exp(double x) {
    static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    static const double inv_fact[15] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
        1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
        1.0 / 6227020800.0, 1.0 / 87178291200.0};
    double kf = x * 1.4426950408889634;
    int k = (int)(kf < 0 ? kf - 0.5 : kf + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = inv_fact[14];
    for (int j = 13; j >= 0; j--) p = p * r + inv_fact[j];
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* 1/(1+e^-z). Beyond |z| = 40 the clamp changes nothing observable: p is then within 5e-18 of 0 or 1, finer
 * than the 2^-53 steps of the uniform draw it is compared with. */
static double det_sigmoid(double z) {
    if (z > 40) z = 40;
    if (z < -40) z = -40;
    return 1.0 / (1.0 + det_exp(-z));
}

/* ---- the generator ---- */

struct rtml_gen {
    rtml_gen_opts o;
    double noise;
    uint64_t emitted;
    rtml_rng feat_rng, noise_rng, mix_rng, w_rng[2];
    int dim;
    int int_digits;     /* digits before the point on the feature grid: 1 (SEA, [0,10)) or 0 ([0,1)) */
    double grid_div;    /* x = k / grid_div: 1e14 (SEA) or 1e15 (hyperplane) */
    double theta[2];    /* SEA: threshold of concepts 0 and 1 */
    double *w[2];       /* hyperplane: weights of concepts 0 and 1 */
    double *dir[2];     /* hyperplane: direction (+1/-1) in which each weight moves */
    double *x;          /* the last record's features */
    uint64_t *k;        /* ... and their grid points (what gets printed) */
    char *keys;         /* ',"x1":' ',"x2":' ... back to back */
    size_t *key_off;    /* key i is keys[key_off[i] .. key_off[i+1]) */
    size_t max_record;  /* upper bound on one record's length */
    int concept, true_label, label;
};

static const double SEA_THETA[4] = {8.0, 9.0, 7.0, 9.5};

void rtml_gen_opts_init(rtml_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->stream = RTML_GEN_SEA;
    o->n = 0;
    o->seed = 1;
    o->noise = -1;
    o->drift_at = -1;
    o->drift_width = 0;
    o->variant = 0;
    o->drift_to = -1;
    o->features = 10;
    o->mag_change = 0;
    o->sigma_flip = 0.1;
    o->id_offset = 0;
}

const char *rtml_gen_stream_names(void) { return "sea|hyperplane"; }

int rtml_gen_stream_parse(const char *name) {
    if (strcmp(name, "sea") == 0) return RTML_GEN_SEA;
    if (strcmp(name, "hyperplane") == 0) return RTML_GEN_HYPERPLANE;
    return -1;
}

const char *rtml_gen_stream_name(rtml_gen_stream s) {
    return s == RTML_GEN_SEA ? "sea" : s == RTML_GEN_HYPERPLANE ? "hyperplane" : "?";
}

static int check_common(const rtml_gen_opts *o, char *err, size_t errlen) {
    if (o->stream != RTML_GEN_SEA && o->stream != RTML_GEN_HYPERPLANE)
        return rtml_fail(err, errlen, "unknown stream kind %d (expected %s)", (int)o->stream,
                         rtml_gen_stream_names());
    if (o->n < 1) return rtml_fail(err, errlen, "n must be a positive number of records");
    if (o->id_offset < 0) return rtml_fail(err, errlen, "id offset must be >= 0 (got %lld)", (long long)o->id_offset);
    if (o->n - 1 > (uint64_t)(INT64_MAX - o->id_offset))
        return rtml_fail(err, errlen, "ids would overflow: id offset + n exceeds 2^63");
    if (isnan(o->noise) || o->noise > 0.5) /* negative means the default */
        return rtml_fail(err, errlen, "noise must be in [0, 0.5] (got %g)", o->noise);
    if (o->drift_at < -1) return rtml_fail(err, errlen, "drift point must be >= 0 (got %lld)", (long long)o->drift_at);
    if (o->drift_width < 0)
        return rtml_fail(err, errlen, "drift width must be >= 0 (got %lld)", (long long)o->drift_width);
    if (o->drift_width > 0 && o->drift_at < 0)
        return rtml_fail(err, errlen, "a drift width needs a drift point");
    return 0;
}

static int check_sea(const rtml_gen_opts *o, char *err, size_t errlen) {
    if (o->variant < 0 || o->variant > 3)
        return rtml_fail(err, errlen, "SEA variant must be 0..3 (got %d)", o->variant);
    if (o->drift_to < -1 || o->drift_to > 3)
        return rtml_fail(err, errlen, "SEA drift-to variant must be 0..3 (got %d)", o->drift_to);
    if (o->drift_at >= 0 && o->drift_to == o->variant)
        return rtml_fail(err, errlen, "drift-to variant equals the variant (%d): there would be no drift", o->variant);
    return 0;
}

static int check_hyperplane(const rtml_gen_opts *o, char *err, size_t errlen) {
    if (o->features < 1 || o->features > RTML_GEN_MAX_FEATURES)
        return rtml_fail(err, errlen, "features must be 1..%d (got %d)", RTML_GEN_MAX_FEATURES, o->features);
    if (!isfinite(o->mag_change) || o->mag_change < 0)
        return rtml_fail(err, errlen, "mag-change must be a finite number >= 0 (got %g)", o->mag_change);
    if (!(o->sigma_flip >= 0 && o->sigma_flip <= 1))
        return rtml_fail(err, errlen, "sigma-flip must be in [0, 1] (got %g)", o->sigma_flip);
    return 0;
}

static int check_opts(const rtml_gen_opts *o, char *err, size_t errlen) {
    if (check_common(o, err, errlen) < 0) return -1;
    return o->stream == RTML_GEN_SEA ? check_sea(o, err, errlen) : check_hyperplane(o, err, errlen);
}

/* The JSON keys of the features, precomputed so writing a record is copying. */
static int build_keys(rtml_gen *g) {
    size_t per = 16; /* ,"x" + up to 10 digits + ": */
    g->keys = malloc(per * (size_t)g->dim);
    g->key_off = malloc(sizeof *g->key_off * ((size_t)g->dim + 1));
    if (!g->keys || !g->key_off) return -1;
    size_t off = 0;
    for (int i = 0; i < g->dim; i++) {
        g->key_off[i] = off;
        int n = snprintf(g->keys + off, per, ",\"x%d\":", i + 1);
        off += (size_t)n;
    }
    g->key_off[g->dim] = off;
    /* {"id": + 20 digits + per feature (key + at most 17 characters of number) + ,"label":1} */
    g->max_record = 6 + 20 + off + 17 * (size_t)g->dim + 11;
    return 0;
}

static void init_weights(rtml_gen *g, int c) {
    for (int i = 0; i < g->dim; i++) {
        g->w[c][i] = rtml_rng_uniform(&g->w_rng[c]);
        g->dir[c][i] = 1.0;
    }
}

static int init_hyperplane(rtml_gen *g) {
    size_t d = (size_t)g->dim;
    for (int c = 0; c < 2; c++) {
        g->w[c] = malloc(sizeof(double) * d);
        g->dir[c] = malloc(sizeof(double) * d);
        if (!g->w[c] || !g->dir[c]) return -1;
        rtml_rng_seed_stream(&g->w_rng[c], g->o.seed, c == 0 ? RNG_WEIGHTS0 : RNG_WEIGHTS1);
        init_weights(g, c);
    }
    g->int_digits = 0;
    g->grid_div = 1e15;
    return 0;
}

static void init_sea(rtml_gen *g) {
    int to = g->o.drift_to >= 0 ? g->o.drift_to : (g->o.variant + 2) % 4;
    g->theta[0] = SEA_THETA[g->o.variant];
    g->theta[1] = SEA_THETA[to];
    g->int_digits = 1;
    g->grid_div = 1e14;
}

rtml_gen *rtml_gen_new(const rtml_gen_opts *o, char *err, size_t errlen) {
    if (check_opts(o, err, errlen) < 0) return NULL;
    rtml_gen *g = calloc(1, sizeof *g);
    if (!g) {
        rtml_fail(err, errlen, "out of memory");
        return NULL;
    }
    g->o = *o;
    int sea = o->stream == RTML_GEN_SEA;
    g->noise = o->noise >= 0 ? o->noise : sea ? RTML_GEN_SEA_NOISE : RTML_GEN_HYPERPLANE_NOISE;
    g->dim = sea ? 3 : o->features;
    rtml_rng_seed_stream(&g->feat_rng, o->seed, RNG_FEATURES);
    rtml_rng_seed_stream(&g->noise_rng, o->seed, RNG_NOISE);
    rtml_rng_seed_stream(&g->mix_rng, o->seed, RNG_MIX);
    g->x = calloc((size_t)g->dim, sizeof *g->x);
    g->k = calloc((size_t)g->dim, sizeof *g->k);
    int bad = !g->x || !g->k || build_keys(g) < 0;
    if (!bad && sea) init_sea(g);
    if (!bad && !sea) bad = init_hyperplane(g) < 0;
    if (bad) {
        rtml_fail(err, errlen, "out of memory (%d features)", g->dim);
        rtml_gen_free(g);
        return NULL;
    }
    return g;
}

double rtml_gen_new_concept_prob(const rtml_gen *g, uint64_t i) {
    if (g->o.drift_at < 0) return 0.0;
    if (g->o.drift_width == 0) return i >= (uint64_t)g->o.drift_at ? 1.0 : 0.0;
    double z = 4.0 * ((double)i - (double)g->o.drift_at) / (double)g->o.drift_width;
    return det_sigmoid(z);
}

static int pick_concept(rtml_gen *g) {
    if (g->o.drift_at < 0) return 0;
    if (g->o.drift_width == 0) return g->emitted >= (uint64_t)g->o.drift_at;
    return rtml_rng_uniform(&g->mix_rng) < rtml_gen_new_concept_prob(g, g->emitted);
}

static void draw_features(rtml_gen *g) {
    for (int i = 0; i < g->dim; i++) {
        g->k[i] = rng_grid(&g->feat_rng);
        g->x[i] = (double)g->k[i] / g->grid_div; /* both exact in binary, so correctly rounded */
    }
}

static int sea_label(const rtml_gen *g) { return g->x[0] + g->x[1] <= g->theta[g->concept]; }

static int hyperplane_label(const rtml_gen *g) {
    const double *w = g->w[g->concept];
    double dot = 0, sum = 0;
    for (int i = 0; i < g->dim; i++) {
        double wx = w[i] * g->x[i];
        dot += wx;
        sum += w[i];
    }
    return dot > 0.5 * sum;
}

/* Continuous drift (Hulten et al.; MOA's HyperplaneGenerator): each weight steps by mag_change in its
 * direction, then the direction reverses with probability sigma_flip. */
static void hyperplane_move(rtml_gen *g, int c) {
    double m = g->o.mag_change, s = g->o.sigma_flip;
    for (int i = 0; i < g->dim; i++) {
        double step = m * g->dir[c][i];
        g->w[c][i] += step;
        if (s > 0 && rtml_rng_uniform(&g->w_rng[c]) < s) g->dir[c][i] = -g->dir[c][i];
    }
}

static void drift_weights(rtml_gen *g) {
    if (g->o.stream != RTML_GEN_HYPERPLANE || g->o.mag_change == 0) return;
    hyperplane_move(g, 0);
    if (g->o.drift_at >= 0) hyperplane_move(g, 1);
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

/* The exact decimal of k / 10^(15 - int_digits), trailing zeros trimmed: "3.14159", "0.5", "7", "0". */
static char *put_grid(char *p, uint64_t k, int int_digits) {
    char d[GRID_DIGITS];
    for (int j = GRID_DIGITS - 1; j >= 0; j--) {
        d[j] = (char)('0' + k % 10);
        k /= 10;
    }
    *p++ = int_digits ? d[0] : '0';
    int end = GRID_DIGITS;
    while (end > int_digits && d[end - 1] == '0') end--;
    if (end > int_digits) {
        *p++ = '.';
        memcpy(p, d + int_digits, (size_t)(end - int_digits));
        p += end - int_digits;
    }
    return p;
}

static void write_record(const rtml_gen *g, rtml_buf *line) {
    rtml_buf_reserve(line, g->max_record);
    char *start = line->data + line->len, *p = start;
    memcpy(p, "{\"id\":", 6);
    p = put_u64(p + 6, (uint64_t)g->o.id_offset + g->emitted);
    for (int i = 0; i < g->dim; i++) {
        size_t klen = g->key_off[i + 1] - g->key_off[i];
        memcpy(p, g->keys + g->key_off[i], klen);
        p = put_grid(p + klen, g->k[i], g->int_digits);
    }
    memcpy(p, ",\"label\":", 9);
    p += 9;
    *p++ = (char)('0' + g->label);
    *p++ = '}';
    line->len += (size_t)(p - start);
    line->data[line->len] = '\0';
}

int rtml_gen_next(rtml_gen *g, rtml_buf *line) {
    if (g->emitted >= g->o.n) return 0;
    g->concept = pick_concept(g);
    draw_features(g);
    g->true_label = g->o.stream == RTML_GEN_SEA ? sea_label(g) : hyperplane_label(g);
    int flip = g->noise > 0 && rtml_rng_uniform(&g->noise_rng) < g->noise;
    g->label = g->true_label ^ flip;
    write_record(g, line);
    drift_weights(g);
    g->emitted++;
    return 1;
}

int rtml_gen_true_label(const rtml_gen *g) { return g->true_label; }
int rtml_gen_label(const rtml_gen *g) { return g->label; }
int rtml_gen_concept(const rtml_gen *g) { return g->concept; }
const double *rtml_gen_features(const rtml_gen *g) { return g->x; }
int rtml_gen_dim(const rtml_gen *g) { return g->dim; }
double rtml_gen_noise(const rtml_gen *g) { return g->noise; }
double rtml_gen_bayes_accuracy(const rtml_gen *g) { return 1.0 - g->noise; }

double rtml_gen_weight(const rtml_gen *g, int concept, int i) {
    if (g->o.stream != RTML_GEN_HYPERPLANE || concept < 0 || concept > 1 || i < 0 || i >= g->dim) return 0.0;
    return g->w[concept][i];
}

void rtml_gen_free(rtml_gen *g) {
    if (!g) return;
    for (int c = 0; c < 2; c++) {
        free(g->w[c]);
        free(g->dir[c]);
    }
    free(g->x);
    free(g->k);
    free(g->keys);
    free(g->key_off);
    free(g);
}
