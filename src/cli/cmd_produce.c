/* cmd_produce.c — `rtml produce`: a JSON-lines file (or stdin) to a Kafka topic, one record per line.
 *
 * The Kafka key comes from a field of each line (--key-field /id: a string's text, or a number's literal).
 * Lines are sent byte for byte, valid JSON or not (tests use it to inject bad input); a line whose key field
 * cannot be read is sent without a key and counted. Every delivery report is checked: the exit code is 0
 * only if the broker acknowledged every record. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "cli/progress.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "codec/json.h"
#include "kafka/kafka.h"
#include "base/rtml.h"

typedef struct {
    const char *brokers, *topic, *input, *key_field;
    double rate; /* records per second, 0 = as fast as possible */
    int partition;
} produce_opts;

typedef struct {
    unsigned long long delivered, failed;
    char first_error[256];
} delivery_stats;

static void usage(FILE *f) {
    fprintf(f,
            "usage: rtml produce --topic T [--input FILE] [--key-field PATH] [--rate N] [--partition P]\n"
            "                    [--brokers HOST:PORT]\n"
            "\n"
            "Sends a JSON-lines file (default: stdin, or --input -) to topic T, one record per line.\n"
            "  --key-field PATH   JSON Pointer of the field whose value becomes the Kafka key (e.g. /id)\n"
            "  --rate N           at most N records per second (default: as fast as possible)\n"
            "  --partition P      send every record to partition P (default: by key)\n"
            "  --brokers          default $RTML_BROKERS or 127.0.0.1:9092\n"
            "Exits 0 only when the broker acknowledged every record.\n");
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    delivery_stats *ds = opaque;
    if (m->err) {
        if (ds->failed++ == 0) snprintf(ds->first_error, sizeof ds->first_error, "%s", rd_kafka_err2str(m->err));
    } else {
        ds->delivered++;
    }
}

/* The key of one line: points into line or into keybuf. Returns the length, or -1 when there is none. */
static long extract_key(const rtml_json_paths *paths, const char *line, size_t len, char *keybuf, size_t cap,
                        const char **key) {
    rtml_json_span s;
    if (rtml_json_extract(paths, line, len, &s, NULL, 0) != 0) return -1;
    if (s.type == RTML_JSON_STRING) {
        if (!s.escaped) {
            *key = s.ptr;
            return (long)s.len;
        }
        *key = keybuf;
        return rtml_json_unescape(&s, keybuf, cap);
    }
    if (s.type == RTML_JSON_NUMBER || s.type == RTML_JSON_TRUE || s.type == RTML_JSON_FALSE) {
        *key = s.ptr;
        return (long)s.len;
    }
    return -1;
}

/* Sleep until record number `sent` is due under the rate limit. */
static void pace(double started, unsigned long long sent, double rate, rd_kafka_t *rk) {
    if (rate <= 0) return;
    double due = started + (double)sent / rate;
    double wait = due - rtml_now();
    while (wait > 0) {
        rd_kafka_poll(rk, wait > 0.1 ? 100 : (int)(wait * 1000) + 1);
        wait = due - rtml_now();
    }
}

static int send_line(rd_kafka_t *rk, const produce_opts *o, const char *line, size_t len, const char *key,
                     size_t keylen) {
    rd_kafka_resp_err_t e;
    for (;;) {
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_PARTITION(o->partition),
                              RD_KAFKA_V_VALUE((void *)line, len),
                              RD_KAFKA_V_KEY((void *)key, keylen),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        rd_kafka_poll(rk, 50); /* local queue full: wait for deliveries to drain it */
    }
    if (e) {
        fprintf(stderr, "rtml produce: cannot send a record to %s: %s\n", o->topic, rd_kafka_err2str(e));
        return -1;
    }
    rd_kafka_poll(rk, 0);
    return 0;
}

static int produce_stream(rd_kafka_t *rk, FILE *in, const produce_opts *o, const rtml_json_paths *paths,
                          unsigned long long *sent, unsigned long long *keyless) {
    char *line = NULL, keybuf[4096];
    size_t cap = 0;
    ssize_t n;
    double started = rtml_now();
    rtml_progress prog;
    rtml_progress_start(&prog, "produce");
    int rc = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        const char *key = NULL;
        long keylen = -1;
        if (paths) {
            keylen = extract_key(paths, line, len, keybuf, sizeof keybuf, &key);
            if (keylen < 0) (*keyless)++;
        }
        pace(started, *sent, o->rate, rk);
        if (send_line(rk, o, line, len, keylen >= 0 ? key : NULL, keylen >= 0 ? (size_t)keylen : 0) != 0) {
            rc = -1;
            break;
        }
        (*sent)++;
        if ((*sent & 1023) == 0) rtml_progress_update(&prog, *sent, 0);
    }
    if (rc == 0 && ferror(in)) {
        fprintf(stderr, "rtml produce: read error on %s: %s\n", o->input ? o->input : "stdin", strerror(errno));
        rc = -1;
    }
    rtml_progress_end(&prog, *sent);
    free(line);
    return rc;
}

static int parse_opts(int argc, char **argv, produce_opts *o) {
    static const struct option longopts[] = {
        {"brokers", required_argument, 0, 'b'}, {"topic", required_argument, 0, 't'},
        {"input", required_argument, 0, 'i'},   {"key-field", required_argument, 0, 'k'},
        {"rate", required_argument, 0, 'r'},    {"partition", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:t:i:k:r:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 'i': o->input = optarg; break;
        case 'k': o->key_field = optarg; break;
        case 'r':
            if (rtml_arg_double(optarg, &o->rate) != 0 || !(o->rate > 0)) {
                fprintf(stderr, "rtml produce: --rate must be a positive number, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'p': {
            uint64_t v;
            if (rtml_arg_u64(optarg, 1000000, &v) != 0) {
                fprintf(stderr, "rtml produce: --partition must be a partition number, got '%s'\n", optarg);
                return 2;
            }
            o->partition = (int)v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "rtml produce: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->topic) {
        fprintf(stderr, "rtml produce: --topic is required\n");
        return 2;
    }
    return -1;
}

int rtml_cmd_produce(int argc, char **argv) {
    produce_opts o = {.partition = RD_KAFKA_PARTITION_UA};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    char err[RTML_ERRLEN];
    rtml_json_paths *paths = NULL;
    if (o.key_field) {
        const char *ptrs[] = {o.key_field};
        if (!(paths = rtml_json_paths_new(ptrs, 1, err, sizeof err))) {
            fprintf(stderr, "rtml produce: --key-field: %s\n", err);
            return 2;
        }
    }
    FILE *in = stdin;
    if (o.input && strcmp(o.input, "-") != 0 && !(in = fopen(o.input, "r"))) {
        fprintf(stderr, "rtml produce: cannot open %s: %s\n", o.input, strerror(errno));
        rtml_json_paths_free(paths);
        return 1;
    }
    delivery_stats ds = {0, 0, ""};
    const char *kv[] = {"linger.ms", "5", "enable.idempotence", "true", NULL};
    rd_kafka_conf_t *conf = rtml_kafka_conf(rtml_kafka_default_brokers(o.brokers), kv, err, sizeof err);
    if (conf) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, &ds);
    }
    rd_kafka_t *rk = conf ? rtml_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err) : NULL;
    if (!rk) {
        fprintf(stderr, "rtml produce: %s\n", err);
        if (in != stdin) fclose(in);
        rtml_json_paths_free(paths);
        return conf ? 1 : 2;
    }
    unsigned long long sent = 0, keyless = 0;
    double t0 = rtml_now();
    rc = produce_stream(rk, in, &o, paths, &sent, &keyless) == 0 ? 0 : 1;
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "rtml produce: %llu records still undelivered after 60 s\n",
                sent - ds.delivered - ds.failed);
        rc = 1;
    }
    double secs = rtml_now() - t0;
    rd_kafka_destroy(rk);
    if (in != stdin) fclose(in);
    rtml_json_paths_free(paths);
    if (keyless) fprintf(stderr, "rtml produce: %llu records had no usable key field %s (sent without a key)\n",
                         keyless, o.key_field);
    if (ds.failed) {
        fprintf(stderr, "rtml produce: %llu records were not delivered (first error: %s)\n", ds.failed,
                ds.first_error);
        rc = 1;
    }
    printf("produced %llu records to %s: %llu acknowledged, %llu failed, %.2f s, %.0f records/s\n", sent, o.topic,
           ds.delivered, ds.failed, secs, secs > 0 ? (double)sent / secs : 0.0);
    return rc;
}
