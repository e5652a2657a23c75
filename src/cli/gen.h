/* gen.h — synthetic labelled streams with known concept drift, for testing and benchmarking rtml.
 *
 * Two classic drift benchmarks, each a binary classification stream whose ground truth is known exactly:
 *   SEA (Street & Kim, 2001): x1,x2,x3 uniform in [0,10), label = x1 + x2 <= theta; the four concept
 *     variants 0..3 use theta 8, 9, 7, 9.5.
 *   Rotating hyperplane (Hulten et al., 2001): x_1..x_d uniform in [0,1), label = sum w_i x_i > 0.5 sum w_i;
 *     the weights can move a little after every record (continuous drift) and are redrawn at a drift point.
 * A drift at record K is abrupt (width 0) or gradual: record i then comes from the new concept with
 * probability 1/(1+exp(-4(i-K)/W)), the sigmoid of MOA/River's ConceptDriftStream. Label noise flips each
 * label independently with probability `noise`, so 1 - noise is the best accuracy any model can reach.
 *
 * Output is one JSON object per record: {"id":N,"x1":...,...,"label":0|1}; numbers read back exactly.
 *
 * Determinism: the same options give the same bytes on every run and machine. The PRNG is our own
 * (splitmix64 seeding xoshiro256**), with one independent sub-stream per purpose (features, noise, drift
 * mixing, weights), so e.g. changing --noise does not change the features. Features are drawn from a decimal
 * grid of 10^15 points (SEA: steps of 1e-14, hyperplane: 1e-15); the double is k / 10^p, correctly rounded,
 * and its text is the exact decimal k·10^-p, which strtod maps back to the same double. That makes printing a
 * matter of integer formatting (fast: >1M SEA records/s) while keeping the round trip exact. Label decisions
 * use only IEEE basic arithmetic (the drift sigmoid has its own exp), never libm. */
#ifndef RTML_GEN_H
#define RTML_GEN_H
#include "base/buf.h"
#include <stddef.h>
#include <stdint.h>

typedef enum { RTML_GEN_SEA = 0, RTML_GEN_HYPERPLANE = 1 } rtml_gen_stream;

typedef struct {
    rtml_gen_stream stream;
    uint64_t n;          /* records to emit, >= 1 */
    uint64_t seed;       /* default 1 */
    double noise;        /* label flip probability in [0, 0.5]; negative = the stream's default */
    int64_t drift_at;    /* records emitted before the change; -1 = no drift */
    int64_t drift_width; /* 0 = abrupt; W > 0 = sigmoid transition of width W */
    int variant;         /* SEA concept 0..3 (default 0) */
    int drift_to;        /* SEA concept after the drift, 0..3; -1 = (variant + 2) % 4 */
    int features;        /* hyperplane dimension d, 1..RTML_GEN_MAX_FEATURES (default 10) */
    double mag_change;   /* hyperplane: each weight moves by mag_change * (+-1) after each record (>= 0) */
    double sigma_flip;   /* hyperplane: probability that a weight's direction reverses, per record [0, 1] */
    int64_t id_offset;   /* first id (>= 0) */
} rtml_gen_opts;

#define RTML_GEN_MAX_FEATURES 100000
#define RTML_GEN_SEA_NOISE 0.10
#define RTML_GEN_HYPERPLANE_NOISE 0.05

typedef struct rtml_gen rtml_gen;

/* Fill o with the defaults above (stream SEA, n 0: the caller must set n). */
void rtml_gen_opts_init(rtml_gen_opts *o);

/* "sea|hyperplane", for help text; and name <-> kind (-1 if unknown). */
const char *rtml_gen_stream_names(void);
int rtml_gen_stream_parse(const char *name);
const char *rtml_gen_stream_name(rtml_gen_stream s);

/* Validate the options and build a generator; NULL with a reason in err on bad options. */
rtml_gen *rtml_gen_new(const rtml_gen_opts *o, char *err, size_t errlen);

/* Append the next record (no newline) to line and return 1; return 0 once n records were emitted. */
int rtml_gen_next(rtml_gen *g, rtml_buf *line);

/* About the last record emitted: its label before noise, its label as written, its concept (0 = the
 * initial concept, 1 = the one after the drift) and its feature values (rtml_gen_dim() of them). */
int rtml_gen_true_label(const rtml_gen *g);
int rtml_gen_label(const rtml_gen *g);
int rtml_gen_concept(const rtml_gen *g);
const double *rtml_gen_features(const rtml_gen *g);
int rtml_gen_dim(const rtml_gen *g);

/* The effective noise and the best accuracy any model can get on this stream (1 - noise). */
double rtml_gen_noise(const rtml_gen *g);
double rtml_gen_bayes_accuracy(const rtml_gen *g);

/* Probability that record i (0-based) comes from the new concept: 0 with no drift; a step at drift_at when
 * the width is 0; the sigmoid otherwise. */
double rtml_gen_new_concept_prob(const rtml_gen *g, uint64_t i);

/* Hyperplane only: current weight i of concept c (0 or 1); 0 for SEA. For tests and diagnostics. */
double rtml_gen_weight(const rtml_gen *g, int concept, int i);

void rtml_gen_free(rtml_gen *g);

#endif
