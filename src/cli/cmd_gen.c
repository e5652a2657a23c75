/* cmd_gen.c — `rtml gen`: write a synthetic labelled stream with known drift (gen.h) as JSON lines.
 *
 * It is the test-data and benchmark source of rtml: `rtml gen --stream sea --n 1000000 | rtml produce ...`.
 * Records are batched into a 256 KiB buffer and written with one fwrite per batch, which is what makes it
 * fast (over a million SEA records per second) without depending on stdio's buffer size. Every write is
 * checked: a full disk or a closed pipe (when SIGPIPE is ignored) ends the command with exit 1 and a message
 * instead of silently truncated data. Option values are parsed strictly ("10x" is an error, not 10); their
 * ranges are checked by rtml_gen_new(), the one place that knows them. */
#include "cli/progress.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/gen.h"
#include "base/rtml.h"
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEN_BATCH (256u * 1024u)

enum {
    OPT_STREAM = 256, OPT_N, OPT_SEED, OPT_NOISE, OPT_DRIFT_AT, OPT_DRIFT_WIDTH, OPT_VARIANT, OPT_DRIFT_TO,
    OPT_FEATURES, OPT_MAG_CHANGE, OPT_SIGMA_FLIP, OPT_ID_OFFSET,
};

/* Which options only make sense for one stream (bit = option - OPT_STREAM). */
#define BIT(opt) (1u << ((opt) - OPT_STREAM))
#define SEA_ONLY (BIT(OPT_VARIANT) | BIT(OPT_DRIFT_TO))
#define HYPERPLANE_ONLY (BIT(OPT_FEATURES) | BIT(OPT_MAG_CHANGE) | BIT(OPT_SIGMA_FLIP))

static const struct option gen_long_opts[] = {
    {"stream", required_argument, NULL, OPT_STREAM},
    {"n", required_argument, NULL, OPT_N},
    {"seed", required_argument, NULL, OPT_SEED},
    {"noise", required_argument, NULL, OPT_NOISE},
    {"drift-at", required_argument, NULL, OPT_DRIFT_AT},
    {"drift-width", required_argument, NULL, OPT_DRIFT_WIDTH},
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"drift-to", required_argument, NULL, OPT_DRIFT_TO},
    {"features", required_argument, NULL, OPT_FEATURES},
    {"mag-change", required_argument, NULL, OPT_MAG_CHANGE},
    {"sigma-flip", required_argument, NULL, OPT_SIGMA_FLIP},
    {"id-offset", required_argument, NULL, OPT_ID_OFFSET},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct {
    rtml_gen_opts o;
    const char *output; /* NULL = stdout */
    unsigned given;     /* BIT(opt) of each option seen */
} gen_args;

static void gen_usage(FILE *f) {
    fprintf(f,
        "usage: rtml gen --stream %s --n N [options]\n"
        "\n"
        "Write N synthetic labelled records as JSON lines, {\"id\":0,\"x1\":...,\"label\":1}, to stdout: streams\n"
        "with known concept drift and a known best possible accuracy (1 - noise), for tests and benchmarks.\n"
        "The same options and seed give the same bytes on every machine.\n"
        "\n"
        "streams:\n"
        "  sea                x1,x2,x3 in [0,10); label = x1 + x2 <= theta (Street & Kim 2001)\n"
        "  hyperplane         x1..xD in [0,1); label = sum w_i x_i > 0.5 sum w_i (Hulten et al. 2001)\n"
        "\n"
        "options:\n"
        "  --stream S         %s (required)\n"
        "  --n N              number of records, > 0 (required)\n"
        "  --seed S           PRNG seed (default 1)\n"
        "  --noise P          probability of flipping each label, 0..0.5 (default %g sea, %g hyperplane)\n"
        "  --drift-at K       switch to a new concept after K records (default: no drift)\n"
        "  --drift-width W    0: abrupt (default); W > 0: record i is from the new concept with\n"
        "                     probability 1/(1+exp(-4(i-K)/W))\n"
        "  --id-offset N      id of the first record (default 0)\n"
        "  -o, --output FILE  write to FILE instead of stdout\n"
        "  -h, --help         show this help\n"
        "sea:\n"
        "  --variant V        concept 0..3, theta 8, 9, 7, 9.5 (default 0)\n"
        "  --drift-to V       concept after the drift (default (V+2)%%4)\n"
        "hyperplane:\n"
        "  --features D       number of features (default 10)\n"
        "  --mag-change M     continuous drift: each weight moves by M after each record (default 0)\n"
        "  --sigma-flip S     probability that a weight's direction reverses, per record (default 0.1)\n"
        "                     (at --drift-at the weights are redrawn)\n"
        "\n"
        "exit status: 0 ok, 1 write error, 2 bad usage\n",
        rtml_gen_stream_names(), rtml_gen_stream_names(), RTML_GEN_SEA_NOISE, RTML_GEN_HYPERPLANE_NOISE);
}

/* A bad-usage message on stderr; returns the exit code 2. */
static int gen_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int gen_bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("rtml gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(try 'rtml gen --help')\n", stderr);
    va_end(ap);
    return 2;
}

static int parse_int_opt(const char *name, const char *val, int *out) {
    uint64_t v;
    if (rtml_arg_u64(val, INT_MAX, &v) < 0) return gen_bad("%s: '%s' is not a non-negative integer", name, val);
    *out = (int)v;
    return 0;
}

static int parse_i64_opt(const char *name, const char *val, int64_t *out) {
    uint64_t v;
    if (rtml_arg_u64(val, INT64_MAX, &v) < 0) return gen_bad("%s: '%s' is not a non-negative integer", name, val);
    *out = (int64_t)v;
    return 0;
}

static int parse_double_opt(const char *name, const char *val, double *out) {
    if (rtml_arg_double(val, out) < 0) return gen_bad("%s: '%s' is not a number", name, val);
    return 0;
}

static int parse_n(const char *val, uint64_t *out) {
    if (rtml_arg_u64(val, UINT64_MAX, out) < 0 || *out == 0)
        return gen_bad("--n: '%s' is not a positive integer", val);
    return 0;
}

static int parse_stream(const char *val, rtml_gen_stream *out) {
    int s = rtml_gen_stream_parse(val);
    if (s < 0) return gen_bad("--stream: unknown stream '%s' (expected %s)", val, rtml_gen_stream_names());
    *out = (rtml_gen_stream)s;
    return 0;
}

/* One option's value into the arguments; 0 or the exit code 2. */
static int gen_apply(gen_args *a, int opt, const char *val) {
    rtml_gen_opts *o = &a->o;
    switch (opt) {
    case OPT_STREAM: return parse_stream(val, &o->stream);
    case OPT_N: return parse_n(val, &o->n);
    case OPT_SEED: return rtml_arg_u64(val, UINT64_MAX, &o->seed) < 0
                          ? gen_bad("--seed: '%s' is not a non-negative integer", val) : 0;
    case OPT_NOISE: /* (negative means "default" in the API, but on the command line it is a mistake) */
        if (parse_double_opt("--noise", val, &o->noise) != 0) return 2;
        return o->noise < 0 ? gen_bad("--noise: %s is outside [0, 0.5]", val) : 0;
    case OPT_DRIFT_AT: return parse_i64_opt("--drift-at", val, &o->drift_at);
    case OPT_DRIFT_WIDTH: return parse_i64_opt("--drift-width", val, &o->drift_width);
    case OPT_VARIANT: return parse_int_opt("--variant", val, &o->variant);
    case OPT_DRIFT_TO: return parse_int_opt("--drift-to", val, &o->drift_to);
    case OPT_FEATURES: return parse_int_opt("--features", val, &o->features);
    case OPT_MAG_CHANGE: return parse_double_opt("--mag-change", val, &o->mag_change);
    case OPT_SIGMA_FLIP: return parse_double_opt("--sigma-flip", val, &o->sigma_flip);
    case OPT_ID_OFFSET: return parse_i64_opt("--id-offset", val, &o->id_offset);
    case 'o': a->output = val; return 0;
    default: return 2;
    }
}

/* The option as the user wrote it, for messages about it. */
static const char *opt_text(char **argv, int opt) {
    static char shortopt[3];
    if (opt > 0 && opt < 128) {
        snprintf(shortopt, sizeof shortopt, "-%c", opt);
        return shortopt;
    }
    return optind > 0 ? argv[optind - 1] : "?";
}

/* getopt_long over argv; returns -1 to go on, or an exit code (0 after --help, 2 on bad usage). */
static int gen_parse(gen_args *a, int argc, char **argv) {
    rtml_gen_opts_init(&a->o);
    a->output = NULL;
    a->given = 0;
    optind = 0; /* full reset: glibc, musl and the BSDs all reinitialise on 0 */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", gen_long_opts, NULL)) != -1) {
        if (c == 'h') {
            gen_usage(stdout);
            return 0;
        }
        if (c == '?') return gen_bad("unknown or ambiguous option '%s'", opt_text(argv, optopt));
        if (c == ':') return gen_bad("option '%s' needs a value", opt_text(argv, optopt));
        if (c >= OPT_STREAM) a->given |= BIT(c);
        if (gen_apply(a, c, optarg) != 0) return 2;
    }
    if (optind < argc) return gen_bad("unexpected argument '%s'", argv[optind]);
    return -1;
}

static int gen_check_given(const gen_args *a) {
    if (!(a->given & BIT(OPT_STREAM))) return gen_bad("--stream is required (%s)", rtml_gen_stream_names());
    if (!(a->given & BIT(OPT_N))) return gen_bad("--n N is required");
    int sea = a->o.stream == RTML_GEN_SEA;
    unsigned wrong = a->given & (sea ? HYPERPLANE_ONLY : SEA_ONLY);
    if (wrong) {
        const char *opt = NULL;
        for (const struct option *lo = gen_long_opts; lo->name && !opt; lo++)
            if (lo->val >= OPT_STREAM && (wrong & BIT(lo->val))) opt = lo->name;
        return gen_bad("--%s does not apply to --stream %s", opt, rtml_gen_stream_name(a->o.stream));
    }
    return 0;
}

/* Write the batch; -1 after reporting the error. */
static int gen_flush(FILE *fp, const char *name, rtml_buf *out) {
    if (out->len && fwrite(out->data, 1, out->len, fp) != out->len) {
        fprintf(stderr, "rtml gen: writing %s: %s\n", name, strerror(errno));
        return -1;
    }
    rtml_buf_reset(out);
    return 0;
}

/* Flush (stdout) or close (a file); -1 after reporting the error unless quiet (already reported). */
static int gen_close(FILE *fp, const char *name, int quiet) {
    errno = 0;
    int bad = fp == stdout ? (fflush(fp) != 0 || ferror(fp)) : fclose(fp) != 0;
    if (bad && !quiet) fprintf(stderr, "rtml gen: writing %s: %s\n", name, errno ? strerror(errno) : "I/O error");
    return bad ? -1 : 0;
}

static int gen_write(rtml_gen *g, uint64_t n, FILE *fp, const char *name) {
    rtml_buf out = RTML_BUF_INIT;
    rtml_buf_reserve(&out, GEN_BATCH + 4096);
    rtml_progress pr;
    rtml_progress_start(&pr, "rtml gen");
    if (isatty(fileno(fp))) pr.on = false; /* records on the terminal: a progress line would garble them */
    unsigned long long done = 0;
    int rc = 0;
    while (rtml_gen_next(g, &out)) {
        rtml_buf_putc(&out, '\n');
        done++;
        if (out.len < GEN_BATCH) continue;
        if (gen_flush(fp, name, &out) < 0) {
            rc = 1;
            break;
        }
        rtml_progress_update(&pr, done, n);
    }
    rtml_progress_end(&pr, done);
    if (rc == 0 && gen_flush(fp, name, &out) < 0) rc = 1;
    rtml_buf_free(&out);
    return rc;
}

static int gen_run(const gen_args *a) {
    char err[RTML_ERRLEN];
    rtml_gen *g = rtml_gen_new(&a->o, err, sizeof err);
    if (!g) return gen_bad("%s", err);
    FILE *fp = stdout;
    const char *name = a->output ? a->output : "stdout";
    if (a->output && !(fp = fopen(a->output, "w"))) {
        fprintf(stderr, "rtml gen: cannot open %s: %s\n", a->output, strerror(errno));
        rtml_gen_free(g);
        return 1;
    }
    int rc = gen_write(g, a->o.n, fp, name);
    if (gen_close(fp, name, rc != 0) < 0) rc = 1;
    rtml_gen_free(g);
    return rc;
}

int rtml_cmd_gen(int argc, char **argv) {
    gen_args a;
    int rc = gen_parse(&a, argc, argv);
    if (rc >= 0) return rc;
    if ((rc = gen_check_given(&a)) != 0) return rc;
    return gen_run(&a);
}
