/* cmd_topics.c — `rtml topics create|list|describe|delete`: topic administration through Kafka's Admin API.
 *
 * create waits until the broker's metadata shows every partition with a leader, so a producer started right
 * after it never races the topic into existence. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "kafka/kafka.h"
#include "base/rtml.h"

#define ADMIN_TIMEOUT_MS 30000

static void usage(FILE *f) {
    fprintf(f,
            "usage: rtml topics create NAME [--partitions N] [--replication-factor R] [--config K=V]...\n"
            "                              [--if-not-exists] [--brokers HOST:PORT]\n"
            "       rtml topics list [--all] [--brokers HOST:PORT]\n"
            "       rtml topics describe NAME [--brokers HOST:PORT]\n"
            "       rtml topics delete NAME [--if-exists] [--brokers HOST:PORT]\n"
            "\n"
            "Administers topics through the Kafka Admin API. --brokers defaults to $RTML_BROKERS or 127.0.0.1:9092.\n"
            "  --partitions N            partitions of a new topic (default 1)\n"
            "  --replication-factor R    replicas of each partition (default 1)\n"
            "  --config K=V              a topic config, e.g. cleanup.policy=compact (repeatable)\n"
            "  --if-not-exists           create: an existing topic is not an error\n"
            "  --if-exists               delete: a missing topic is not an error\n"
            "  --all                     list: include internal topics (__consumer_offsets, ...)\n");
}

typedef struct {
    const char *brokers;
    int partitions, replication;
    const char *configs[64];
    int n_configs;
    bool if_not_exists, if_exists, all;
} topics_opts;

/* Wait for the admin result event of the request sent on q. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q) {
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    if (!ev) fprintf(stderr, "rtml topics: no answer from the broker within %d s\n", ADMIN_TIMEOUT_MS / 1000);
    else if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "rtml topics: %s\n", rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        ev = NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op) {
    char err[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, ADMIN_TIMEOUT_MS, err, sizeof err);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS)
        rd_kafka_AdminOptions_set_operation_timeout(o, ADMIN_TIMEOUT_MS, err, sizeof err);
    return o;
}

/* Number of partitions with a leader, -1 if the topic is unknown. */
static int partitions_with_leader(rd_kafka_t *rk, const char *name) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, name, NULL);
    int n = -1;
    if (rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            n = 0;
            for (int i = 0; i < md->topics[0].partition_cnt; i++) n += md->topics[0].partitions[i].leader >= 0;
        }
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

static int wait_for_leaders(rd_kafka_t *rk, const char *name, int partitions) {
    time_t deadline = time(NULL) + 30;
    while (time(NULL) < deadline) {
        if (partitions_with_leader(rk, name) >= partitions) return 0;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "rtml topics: topic '%s' was created but its partitions have no leader after 30 s\n", name);
    return 1;
}

static int topic_create(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *name, const topics_opts *o) {
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, o->partitions, o->replication, err, sizeof err);
    if (!nt) {
        fprintf(stderr, "rtml topics create: %s\n", err);
        return 2;
    }
    for (int i = 0; i < o->n_configs; i++) {
        char kv[512];
        snprintf(kv, sizeof kv, "%s", o->configs[i]);
        char *eq = strchr(kv, '=');
        *eq = '\0';
        rd_kafka_NewTopic_set_config(nt, kv, eq + 1);
    }
    rd_kafka_AdminOptions_t *ao = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_event_t *ev = wait_result(q);
    if (!ev) return 1;
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    int rc = 0;
    rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_UNKNOWN;
    if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && o->if_not_exists) {
        printf("topic %s already exists\n", name);
    } else if (e) {
        const char *msg = n ? rd_kafka_topic_result_error_string(res[0]) : NULL;
        fprintf(stderr, "rtml topics create %s: %s\n", name, msg ? msg : rd_kafka_err2str(e));
        rc = 1;
    } else {
        rc = wait_for_leaders(rk, name, o->partitions);
        if (rc == 0)
            printf("created topic %s (partitions %d, replication factor %d)\n", name, o->partitions, o->replication);
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

static int topic_delete(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *name, const topics_opts *o) {
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_AdminOptions_t *ao = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(rk, &dt, 1, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_event_t *ev = wait_result(q);
    if (!ev) return 1;
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_UNKNOWN;
    int rc = 0;
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && o->if_exists) {
        printf("topic %s does not exist\n", name);
    } else if (e) {
        fprintf(stderr, "rtml topics delete %s: %s\n", name, rd_kafka_err2str(e));
        rc = 1;
    } else {
        printf("deleted topic %s\n", name);
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

static int topic_list(rd_kafka_t *rk, const topics_opts *o) {
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, ADMIN_TIMEOUT_MS);
    if (e) {
        fprintf(stderr, "rtml topics list: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const char *name = md->topics[i].topic;
        if (!o->all && name[0] == '_' && name[1] == '_') continue;
        printf("%s\t%d\n", name, md->topics[i].partition_cnt);
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

static void print_ids(const char *label, const int32_t *ids, int n) {
    printf(" %s=", label);
    for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", ids[i]);
}

static int describe_configs(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *name) {
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    rd_kafka_AdminOptions_t *ao = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(rk, &cr, 1, ao, q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_ConfigResource_destroy(cr);
    rd_kafka_event_t *ev = wait_result(q);
    if (!ev) return 1;
    size_t n;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        size_t nc;
        const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(res[i], &nc);
        for (size_t j = 0; j < nc; j++) {
            if (rd_kafka_ConfigEntry_is_default(ents[j])) continue;
            const char *v = rd_kafka_ConfigEntry_value(ents[j]);
            printf("config %s=%s\n", rd_kafka_ConfigEntry_name(ents[j]), v ? v : "");
        }
    }
    rd_kafka_event_destroy(ev);
    return 0;
}

static int topic_describe(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *name) {
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, name, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, ADMIN_TIMEOUT_MS);
    rd_kafka_topic_destroy(t);
    if (e) {
        fprintf(stderr, "rtml topics describe: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    const struct rd_kafka_metadata_topic *mt = &md->topics[0];
    if (md->topic_cnt != 1 || mt->err) {
        fprintf(stderr, "rtml topics describe %s: %s\n", name,
                rd_kafka_err2str(md->topic_cnt ? mt->err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
        rd_kafka_metadata_destroy(md);
        return 1;
    }
    int rf = mt->partition_cnt ? mt->partitions[0].replica_cnt : 0;
    printf("topic %s partitions=%d replication_factor=%d\n", name, mt->partition_cnt, rf);
    for (int i = 0; i < mt->partition_cnt; i++) {
        const struct rd_kafka_metadata_partition *p = &mt->partitions[i];
        printf("partition %d leader=%d", p->id, p->leader);
        print_ids("replicas", p->replicas, p->replica_cnt);
        print_ids("isr", p->isrs, p->isr_cnt);
        printf("\n");
    }
    rd_kafka_metadata_destroy(md);
    return describe_configs(rk, q, name);
}

static int parse_positive(const char *s, int *out) {
    uint64_t v;
    if (rtml_arg_u64(s, 1000000, &v) != 0 || v < 1) return -1;
    *out = (int)v;
    return 0;
}

static int parse_opts(int argc, char **argv, topics_opts *o) {
    static const struct option longopts[] = {
        {"brokers", required_argument, 0, 'b'},      {"partitions", required_argument, 0, 'p'},
        {"replication-factor", required_argument, 0, 'r'}, {"config", required_argument, 0, 'c'},
        {"if-not-exists", no_argument, 0, 'N'},     {"if-exists", no_argument, 0, 'E'},
        {"all", no_argument, 0, 'a'},                {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:p:r:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 'p':
            if (parse_positive(optarg, &o->partitions) != 0) goto bad_number;
            break;
        case 'r':
            if (parse_positive(optarg, &o->replication) != 0) goto bad_number;
            break;
        case 'c':
            if (!strchr(optarg, '=') || optarg[0] == '=' || o->n_configs == 64 || strlen(optarg) >= 512) {
                fprintf(stderr, "rtml topics: --config takes KEY=VALUE, got '%s'\n", optarg);
                return 2;
            }
            o->configs[o->n_configs++] = optarg;
            break;
        case 'N': o->if_not_exists = true; break;
        case 'E': o->if_exists = true; break;
        case 'a': o->all = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    return -1;
bad_number:
    fprintf(stderr, "rtml topics: '%s' is not a positive integer\n", optarg);
    return 2;
}

int rtml_cmd_topics(int argc, char **argv) {
    topics_opts o = {.partitions = 1, .replication = 1};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *action = argv[optind];
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool needs_name = strcmp(action, "list") != 0;
    if (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "describe") && strcmp(action, "delete")) {
        fprintf(stderr, "rtml topics: unknown action '%s' (expected create, list, describe or delete)\n", action);
        return 2;
    }
    if ((needs_name && (!name || optind + 2 != argc)) || (!needs_name && optind + 1 != argc)) {
        fprintf(stderr, needs_name ? "rtml topics %s: takes exactly one topic name\n"
                                   : "rtml topics %s: takes no topic name\n", action);
        return 2;
    }
    char err[RTML_ERRLEN];
    /* Looking a topic up must never create it (brokers with auto.create.topics.enable would). */
    const char *kv[] = {"allow.auto.create.topics", "false", NULL};
    rd_kafka_conf_t *conf = rtml_kafka_conf(rtml_kafka_default_brokers(o.brokers), kv, err, sizeof err);
    rd_kafka_t *rk = conf ? rtml_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err) : NULL;
    if (!rk) {
        fprintf(stderr, "rtml topics: %s\n", err);
        return conf ? 1 : 2;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (strcmp(action, "create") == 0) rc = topic_create(rk, q, name, &o);
    else if (strcmp(action, "delete") == 0) rc = topic_delete(rk, q, name, &o);
    else if (strcmp(action, "describe") == 0) rc = topic_describe(rk, q, name);
    else rc = topic_list(rk, &o);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
