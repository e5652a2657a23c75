/* cmd_run.c — `rtml run`: its options, its signals, and one runner or a team of workers (run/ does the rest:
 * run/loop.h for one member, run/workers.h for several).
 *
 * Signals: the first SIGINT/SIGTERM finishes in-flight records, flushes, commits, checkpoints and exits 0;
 * a second one exits at once (status 128 + signal). That leaves the same consistent state as a crash: every
 * file rtml writes is replaced atomically, and Kafka holds only committed offsets and transactions. */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/rtml.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "config/scale.h"
#include "run/loop.h"
#include "run/workers.h"

static void on_signal(int sig) {
    if (rtml_run_stop) { /* the second signal: leave now; the state on disk and in Kafka is consistent */
        static const char msg[] = "rtml run: second signal, exiting at once\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + sig);
    }
    rtml_run_stop = sig;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: rtml run -c CONFIG [--max-records N] [--exit-on-idle SECONDS]\n"
            "\n"
            "Consumes the config's input topics, scores every record, learns from labelled ones, and produces\n"
            "one prediction per record to the output topic (delivery: at_least_once commits an input offset only\n"
            "after its prediction was acknowledged; exactly_once commits both in one Kafka transaction). Records\n"
            "that cannot be read go to dead_letter.topic. The model is checkpointed to state.dir and a restart\n"
            "resumes from it, learning every labelled record exactly once. Runs until SIGINT/SIGTERM, then\n"
            "finishes in-flight work, commits, checkpoints, and prints a final report as one JSON line on stdout\n"
            "(a second signal exits at once, leaving a consistent state).\n"
            "  -c, --config FILE        the YAML config (see `rtml check`)\n"
            "  --max-records N          stop after N input records (with workers: each worker)\n"
            "  --exit-on-idle SECONDS   stop when no record arrived for SECONDS after partitions were\n"
            "                           assigned (before that: max(SECONDS, 60)); time blocked or stopped\n"
            "                           is not idleness\n"
            "With label.topic, labels that arrive later on their own topic are joined with the scored records by\n"
            "key, then evaluated and learned (docs/labels.md).\n"
            "With `workers: N` in the config, N members of the group run in this process, each on its own thread\n"
            "with its own model and state.dir/worker-K (docs/scaling.md); the report then holds the totals and\n"
            "each worker's figures.\n");
}

static int parse_opts(int argc, char **argv, rtml_run_opts *o) {
    static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                             {"max-records", required_argument, 0, 'm'},
                                             {"exit-on-idle", required_argument, 0, 'i'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    uint64_t max_records;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config_path = optarg; break;
        case 'm':
            if (rtml_arg_u64(optarg, UINT64_MAX, &max_records) != 0 || max_records == 0) {
                fprintf(stderr, "rtml run: --max-records must be a positive integer, got '%s'\n", optarg);
                return 2;
            }
            o->max_records = max_records;
            break;
        case 'i':
            if (rtml_arg_double(optarg, &o->exit_on_idle) != 0 || !(o->exit_on_idle > 0)) {
                fprintf(stderr, "rtml run: --exit-on-idle must be a positive number of seconds, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !o->config_path) {
        fprintf(stderr, optind != argc ? "rtml run: unexpected argument '%s'\n" : "rtml run: -c CONFIG is required\n",
                optind < argc ? argv[optind] : "");
        return 2;
    }
    return -1;
}

int rtml_cmd_run(int argc, char **argv) {
    rtml_run_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    /* Before start(): a predictor may wait there for a first model version, and a signal must end the wait. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rtml_config cfg;
    char err[RTML_ERRLEN];
    unsigned workers = 1; /* a config that does not load is reported by the runner, with its exit status */
    if (rtml_config_load(o.config_path, &cfg, err, sizeof err) == 0) {
        workers = rtml_config_workers(&cfg);
        rtml_config_free(&cfg);
    }
    if (workers > 1) return rtml_run_workers(&o, workers);
    rtml_run_report figures;
    rtml_buf report = RTML_BUF_INIT;
    rc = rtml_run_instance(&o, NULL, &figures, &report);
    if (report.len) printf("%s\n", report.data);
    fflush(stdout);
    rtml_buf_free(&report);
    return rc;
}
