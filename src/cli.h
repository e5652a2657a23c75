/* cli.h — the subcommands of the rtml binary (main.c dispatches to them).
 *
 * Each command takes its own argv (argv[0] is the command name), parses it with getopt_long, answers
 * --help on stdout with exit 0, and returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage
 * or bad config. */
#ifndef RTML_CLI_H
#define RTML_CLI_H
#include <stdbool.h>

int rtml_cmd_run(int argc, char **argv);
int rtml_cmd_replay(int argc, char **argv);
int rtml_cmd_produce(int argc, char **argv);
int rtml_cmd_topics(int argc, char **argv);
int rtml_cmd_gen(int argc, char **argv);
int rtml_cmd_check(int argc, char **argv);
int rtml_cmd_state(int argc, char **argv);
int rtml_cmd_top(int argc, char **argv);
int rtml_cmd_drift(int argc, char **argv);
int rtml_cmd_model(int argc, char **argv);

/* Progress on stderr for long commands, shown only when stderr is a terminal. */
typedef struct {
    bool on;
    double started, last_shown;
    const char *what;
} rtml_progress;
void rtml_progress_start(rtml_progress *p, const char *what);
void rtml_progress_update(rtml_progress *p, unsigned long long done, unsigned long long total);
void rtml_progress_end(rtml_progress *p, unsigned long long done);

/* Monotonic clock in seconds. */
double rtml_now(void);
/* Wall-clock time in seconds since the epoch (what a checkpoint records as its time). */
double rtml_wall_time(void);

#endif
