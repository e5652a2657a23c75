/* cmd_drift.c — `rtml drift`: run one drift detector (drift.h) over a stream of numbers, one per line.
 *
 * It is how a user tunes a detector before putting it in a config: feed it an error log (0/1 per prediction,
 * or |error|) and see where it fires. It is also the test bench of the detectors against River's
 * (tests/parity/drift.sh). Each detection is one JSON line
 *     {"index":I,"estimation":E,"width":W,"change_at":C}
 * (I the 0-based index of the value, E/W the detector's estimate and the values it covers right after the
 * detection, C where the change began, see rtml_drift_state), and a last line {"values":N,"detections":K}.
 * Input is parsed strictly: a line that is not one finite number is an error naming the line (exit 2), and
 * DDM, which models error bits, takes only 0 and 1. */
#include "cli/args.h"
#include "cli/cli.h"
#include "pipeline/drift.h"
#include "base/rtml.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_DETECTOR = 256, OPT_DELTA, OPT_THRESHOLD, OPT_ALPHA, OPT_MIN_INSTANCES, OPT_WARNING, OPT_DRIFT };

static const struct option drift_long_opts[] = {
    {"detector", required_argument, NULL, OPT_DETECTOR},
    {"delta", required_argument, NULL, OPT_DELTA},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"alpha", required_argument, NULL, OPT_ALPHA},
    {"min-instances", required_argument, NULL, OPT_MIN_INSTANCES},
    {"warning-level", required_argument, NULL, OPT_WARNING},
    {"drift-level", required_argument, NULL, OPT_DRIFT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The detector parameter each tuning option sets (rtml_drift_uses' names), indexed by option - OPT_DELTA;
 * drift_long_opts lists the same options in the same order right after --detector. */
static const char *const param_of_opt[] = {"delta", "threshold", "alpha", "min_instances", "warning_level",
                                           "drift_level"};
#define N_PARAM_OPTS (sizeof param_of_opt / sizeof param_of_opt[0])

/* The parsed command line: the detector kind, the tuning options given (values still as text, applied over
 * the kind's defaults once the kind is known) and the input file (NULL = stdin). */
typedef struct {
    bool have_kind;
    rtml_drift_kind kind;
    const char *value[N_PARAM_OPTS]; /* NULL = not given */
    const char *input;
} drift_args;

static void drift_usage(FILE *f) {
    fprintf(f,
        "usage: rtml drift --detector adwin|page_hinkley|ddm [options] [FILE]\n"
        "\n"
        "Run a concept-drift detector over a stream of numbers, one per line (FILE, or stdin), as the pipeline\n"
        "runs it over a model's errors: 0 = right, 1 = wrong for a classifier, |error| for a regressor. Prints a\n"
        "JSON line per detection, {\"index\":I,\"estimation\":E,\"width\":W,\"change_at\":C} (I: 0-based index of\n"
        "the value; E: the detector's estimate of the mean over its W values; C: index where the change began),\n"
        "then {\"values\":N,\"detections\":K}. The detectors behave as River 0.26.1's (docs/drift.md).\n"
        "\n"
        "options (defaults are River's):\n"
        "  --detector D          adwin | page_hinkley | ddm (required)\n"
        "  --delta X             adwin: confidence (0.002); page_hinkley: tolerated change (0.005)\n"
        "  --threshold X         page_hinkley: detection threshold lambda (50)\n"
        "  --alpha X             page_hinkley: forgetting factor (0.9999)\n"
        "  --min-instances N     adwin: grace period (10); page_hinkley: min instances (30);\n"
        "                        ddm: warm start (30)\n"
        "  --warning-level X     ddm: warning threshold (2)\n"
        "  --drift-level X       ddm: drift threshold (3); ddm reads only 0 and 1\n"
        "  -h, --help            show this help\n"
        "\n"
        "exit status: 0 ok, 1 read or write error, 2 bad usage or a line that is not a number\n");
}

/* A bad-usage message on stderr; returns the exit code 2. */
static int drift_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int drift_bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("rtml drift: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(try 'rtml drift --help')\n", stderr);
    va_end(ap);
    return 2;
}

/* One finite number and nothing else but blanks around it; 0 or -1. */
static int parse_number(const char *s, double *out) {
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '\n' || *s == '\r') return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v)) return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
    if (*end) return -1;
    *out = v;
    return 0;
}

/* getopt_long over argv; -1 to go on, or an exit code (0 after --help, 2 on bad usage). */
static int drift_parse(drift_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    optind = 0; /* full reset: glibc, musl and the BSDs all reinitialise on 0 */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", drift_long_opts, NULL)) != -1) {
        if (c == 'h') {
            drift_usage(stdout);
            return 0;
        }
        if (c == '?') return drift_bad("unknown or ambiguous option '%s'", argv[optind - 1]);
        if (c == ':') return drift_bad("option '%s' needs a value", argv[optind - 1]);
        if (c == OPT_DETECTOR) {
            if (rtml_drift_kind_parse(optarg, &a->kind) < 0 || a->kind == RTML_DRIFT_NONE)
                return drift_bad("--detector: unknown detector '%s' (adwin, page_hinkley, ddm)", optarg);
            a->have_kind = true;
        } else {
            a->value[c - OPT_DELTA] = optarg;
        }
    }
    if (optind + 1 < argc) return drift_bad("unexpected argument '%s'", argv[optind + 1]);
    if (optind < argc) a->input = argv[optind];
    if (!a->have_kind) return drift_bad("--detector is required (adwin, page_hinkley, ddm)");
    return -1;
}

/* The kind's defaults with the given options over them; 0 or the exit code 2. */
static int drift_params(const drift_args *a, rtml_drift_params *p) {
    rtml_drift_defaults(a->kind, p);
    double *field[N_PARAM_OPTS] = {&p->delta, &p->threshold, &p->alpha, NULL, &p->warning_level, &p->drift_level};
    for (size_t i = 0; i < N_PARAM_OPTS; i++) {
        const char *v = a->value[i], *opt = drift_long_opts[i + 1].name;
        if (!v) continue;
        if (!rtml_drift_uses(a->kind, param_of_opt[i]))
            return drift_bad("--%s does not apply to --detector %s", opt, rtml_drift_kind_name(a->kind));
        if (field[i] ? parse_number(v, field[i]) < 0 : rtml_arg_u64(v, UINT64_MAX, &p->min_instances) < 0)
            return drift_bad("--%s: '%s' is not a %s", opt, v, field[i] ? "number" : "non-negative integer");
    }
    char err[RTML_ERRLEN];
    if (rtml_drift_params_check(p, err, sizeof err) < 0) return drift_bad("%s", err);
    return 0;
}

/* The detection line for value `index`. */
static void print_detection(const rtml_drift *d, uint64_t index, rtml_buf *out) {
    rtml_drift_state s;
    rtml_drift_state_get(d, &s);
    rtml_buf_reset(out);
    rtml_buf_printf(out, "{\"index\":%llu,\"estimation\":", (unsigned long long)index);
    rtml_buf_put_double(out, s.estimation);
    rtml_buf_printf(out, ",\"width\":%llu,\"change_at\":%llu}\n", (unsigned long long)s.width,
                    (unsigned long long)s.change_at);
    fputs(out->data, stdout);
}

/* Feed every line of in to d; 0, or the exit code (2 for a bad line, 1 for a read error). */
static int drift_feed(rtml_drift *d, rtml_drift_kind kind, FILE *in, const char *name) {
    char *line = NULL;
    size_t cap = 0;
    uint64_t lineno = 0;
    rtml_buf out = RTML_BUF_INIT;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, in) >= 0) {
        lineno++;
        double x;
        if (parse_number(line, &x) < 0) {
            line[strcspn(line, "\r\n")] = '\0';
            rc = drift_bad("%s:%llu: not a number: '%.40s'", name, (unsigned long long)lineno, line);
        } else if (kind == RTML_DRIFT_DDM && x != 0 && x != 1)
            rc = drift_bad("%s:%llu: ddm reads error bits, 0 or 1, not %g", name, (unsigned long long)lineno, x);
        else if (rtml_drift_update(d, x))
            print_detection(d, lineno - 1, &out);
    }
    if (rc == 0 && ferror(in)) {
        fprintf(stderr, "rtml drift: reading %s: %s\n", name, strerror(errno));
        rc = 1;
    }
    free(line);
    rtml_buf_free(&out);
    return rc;
}

static int drift_run(const drift_args *a, const rtml_drift_params *p) {
    const char *name = a->input && strcmp(a->input, "-") != 0 ? a->input : "stdin";
    FILE *in = strcmp(name, "stdin") != 0 ? fopen(a->input, "r") : stdin;
    if (!in) {
        fprintf(stderr, "rtml drift: cannot open %s: %s\n", a->input, strerror(errno));
        return 1;
    }
    rtml_drift *d = rtml_drift_new(p);
    int rc = d ? drift_feed(d, a->kind, in, name) : 1;
    if (!d) fputs("rtml drift: out of memory\n", stderr);
    if (rc == 0) {
        rtml_drift_state s;
        rtml_drift_state_get(d, &s);
        printf("{\"values\":%llu,\"detections\":%llu}\n", (unsigned long long)s.seen,
               (unsigned long long)s.detections);
    }
    rtml_drift_free(d);
    if (in != stdin) fclose(in);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "rtml drift: writing stdout: %s\n", strerror(errno));
        if (rc == 0) rc = 1;
    }
    return rc;
}

int rtml_cmd_drift(int argc, char **argv) {
    drift_args a;
    int rc = drift_parse(&a, argc, argv);
    if (rc >= 0) return rc;
    rtml_drift_params p;
    if ((rc = drift_params(&a, &p)) != 0) return rc;
    return drift_run(&a, &p);
}
