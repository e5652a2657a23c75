/* cmd_state.c — `rtml state`: what the checkpoints in a state directory hold, without starting anything.
 *
 * Operators ask "where will it resume, and how much has the model learned?"; tests ask "is the model after
 * crashes the same as without them?" (the digest). Reading a checkpoint needs no model, broker or TensorFlow. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "state/checkpoint.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/scale.h"
#include "base/rtml.h"

static void usage(FILE *f) {
    fprintf(f, "usage: rtml state (-c CONFIG | --dir DIR) [--all]\n"
               "\n"
               "Prints the newest valid checkpoint of the state directory (state.dir of CONFIG, or DIR) as one\n"
               "JSON line: path, seq, written_at, engine, learned (records the model learned), positions (per\n"
               "topic/partition, the offset from which records are not yet learned) and digest (equal digests,\n"
               "equal models). With --all, one line per checkpoint, newest first, invalid ones with their error.\n"
               "With -c and `workers: N`, the same for each worker's state.dir/worker-K, in worker order.\n"
               "Exit status: 0 ok, 1 no valid checkpoint, 2 bad usage or config.\n");
}

static int show(const char *dir, int all) {
    uint64_t *seqs;
    size_t n;
    if (rtml_ckpt_list(dir, &seqs, &n) != 0) {
        fprintf(stderr, "rtml state: cannot read %s\n", dir);
        return 1;
    }
    int found = 0;
    char path[4096], err[RTML_ERRLEN];
    for (size_t i = 0; i < n && (all || !found); i++) {
        rtml_ckpt_path(dir, seqs[i], path, sizeof path);
        rtml_buf out = RTML_BUF_INIT;
        err[0] = '\0';
        if (rtml_ckpt_describe(path, &out, err, sizeof err) == 0) {
            printf("%s\n", out.data);
            found = 1;
        } else if (all) {
            printf("{\"path\":\"%s\",\"seq\":%llu,\"error\":\"invalid\"}\n", path, (unsigned long long)seqs[i]);
            fprintf(stderr, "rtml state: %s: %s\n", path, err);
        } else {
            fprintf(stderr, "rtml state: %s skipped: %s\n", path, err);
        }
        rtml_buf_free(&out);
    }
    free(seqs);
    if (!found) fprintf(stderr, "rtml state: no valid checkpoint in %s\n", dir);
    return found ? 0 : 1;
}

int rtml_cmd_state(int argc, char **argv) {
    static const struct option longopts[] = {{"config", required_argument, 0, 'c'},
                                             {"dir", required_argument, 0, 'd'},
                                             {"all", no_argument, 0, 'a'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *config = NULL, *dir = NULL;
    int all = 0, c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'd': dir = optarg; break;
        case 'a': all = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !!config == !!dir) {
        fprintf(stderr, "rtml state: give either -c CONFIG or --dir DIR\n");
        return 2;
    }
    if (dir) return show(dir, all);
    rtml_config cfg;
    char err[RTML_ERRLEN];
    if (rtml_config_load(config, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml state: %s\n", err);
        return 2;
    }
    unsigned workers = rtml_config_workers(&cfg);
    int rc = 0;
    if (workers == 1) {
        rc = show(cfg.state.dir, all);
    } else { /* run/workers.c: each worker has its own directory; one without a checkpoint fails the whole */
        for (unsigned k = 0; k < workers; k++) {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/worker-%u", cfg.state.dir, k);
            if (show(sub, all) != 0) rc = 1;
        }
    }
    rtml_config_free(&cfg);
    return rc;
}
