/* main.c — the rtml command line: dispatches `rtml COMMAND ...` to the commands in cmd_*.c.
 *
 * Exit codes everywhere: 0 ok, 1 runtime failure, 2 bad usage or bad config. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "base/rtml.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", rtml_cmd_run, "stream: consume, score, learn, produce predictions (Kafka)"},
    {"replay", rtml_cmd_replay, "the same pipeline over a JSON-lines file, with a final report"},
    {"produce", rtml_cmd_produce, "send a JSON-lines file to a topic, keyed by a field"},
    {"topics", rtml_cmd_topics, "create, list, describe or delete topics"},
    {"gen", rtml_cmd_gen, "generate a synthetic labelled stream (SEA, hyperplane) as JSON lines"},
    {"check", rtml_cmd_check, "validate a config and print it resolved"},
    {"state", rtml_cmd_state, "show the checkpoints of a state directory (where a run resumes)"},
    {"top", rtml_cmd_top, "show a running pipeline's key figures live in the terminal"},
    {"drift", rtml_cmd_drift, "run a drift detector over a stream of numbers (tune settings on your error log)"},
    {"model", rtml_cmd_model, "list, show, pin, roll back or publish the versions in a model topic"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "rtml %s — real-time machine learning on Kafka streams\n\n"
               "usage: rtml COMMAND [OPTIONS]    (rtml COMMAND --help for its options)\n\ncommands:\n",
            RTML_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version  print versions, and which TensorFlow library is loaded\n  --help     this text\n"
               "\nExit status: 0 ok, 1 runtime failure, 2 bad usage or bad config.\n");
}

/* The TensorFlow lines load the library (a second or two) to say which file and which version it is. */
static void version(void) {
    printf("rtml %s\nlibrdkafka %s\n", RTML_VERSION, rd_kafka_version_str());
    if (!rtml_tf_available()) {
        printf("tensorflow: not built in\n");
        return;
    }
    char lib[RTML_ERRLEN + 64];
    printf("tensorflow: built in (%s)\n", rtml_tf_version());
    printf("tensorflow library: %s\n", rtml_tf_library_info(lib, sizeof lib));
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        version();
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "rtml: unknown command '%s' (see rtml --help)\n", argv[1]);
    return 2;
}
