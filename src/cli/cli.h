/* cli.h — the subcommands of the rtml binary (main.c dispatches to them).
 *
 * Each command takes its own argv (argv[0] is the command name), parses it with getopt_long, answers
 * --help on stdout with exit 0, and returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage
 * or bad config. */
#ifndef RTML_CLI_H
#define RTML_CLI_H

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

#endif
