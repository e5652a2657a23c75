/* kafka_probe.c — proves, against a real broker, the three Kafka features rtml relies on, with the exact
 * librdkafka rtml links (Debian's 2.0.2). The broker version in deps/kafka/pom.xml was chosen by running this.
 *
 *   kafka_probe group        BOOTSTRAP TOPIC   two consumers, one group, cooperative-sticky: both get
 *                                              partitions, incremental rebalances, every record seen once
 *   kafka_probe idempotent   BOOTSTRAP TOPIC   enable.idempotence producer: all delivered, read back in order
 *   kafka_probe transactions BOOTSTRAP TOPIC   consume-transform-produce with send_offsets_to_transaction;
 *                                              an aborted transaction is invisible to read_committed and its
 *                                              offsets are not committed
 * The topic must exist (4 partitions for `group`, the others use partition 0 of TOPIC and TOPIC.out).
 * Prints what it checked; exits 0 when every check passed, 1 otherwise. */
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_RECORDS 2000

static int failures;

static void expect(bool ok, const char *what) {
    printf("  %-70s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static rd_kafka_conf_t *conf_new(const char *boot, const char *const *kv) {
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", boot, err, sizeof err) != RD_KAFKA_CONF_OK) goto bad;
    for (; kv && kv[0]; kv += 2)
        if (rd_kafka_conf_set(c, kv[0], kv[1], err, sizeof err) != RD_KAFKA_CONF_OK) goto bad;
    return c;
bad:
    fprintf(stderr, "kafka_probe: config: %s\n", err);
    exit(2);
}

static rd_kafka_t *client_new(rd_kafka_type_t type, rd_kafka_conf_t *c) {
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_probe: rd_kafka_new: %s\n", err);
        exit(1);
    }
    return rk;
}

/* ---- delivery accounting for producers ------------------------------------------------------------ */
typedef struct {
    int delivered, failed;
} dr_count;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    dr_count *c = opaque;
    if (m->err) c->failed++; else c->delivered++;
}

static rd_kafka_t *producer_new(const char *boot, const char *const *kv, dr_count *dc) {
    rd_kafka_conf_t *c = conf_new(boot, kv);
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_opaque(c, dc);
    return client_new(RD_KAFKA_PRODUCER, c);
}

static void produce_n(rd_kafka_t *p, const char *topic, int32_t partition, int from, int n) {
    for (int i = from; i < from + n; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "%d", i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                      RD_KAFKA_V_VALUE(v, (size_t)len), RD_KAFKA_V_KEY(v, (size_t)len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        if (e) {
            fprintf(stderr, "kafka_probe: produce: %s\n", rd_kafka_err2str(e));
            exit(1);
        }
        rd_kafka_poll(p, 0);
    }
}

/* ---- consumer helpers ---------------------------------------------------------------------------- */

/* Read partition `partition` of topic from the beginning until n records or the deadline; values into seen. */
static int read_values(const char *boot, const char *topic, int32_t partition, const char *isolation, int *seen,
                       int max, double deadline_s) {
    const char *kv[] = {"group.id", "kafka-probe-reader", "enable.auto.commit", "false",
                        "isolation.level", isolation, NULL};
    rd_kafka_t *c = client_new(RD_KAFKA_CONSUMER, conf_new(boot, kv));
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, topic, partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    int n = 0;
    double end = now_s() + deadline_s;
    while (n < max && now_s() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) seen[n++] = atoi((const char *)m->payload);
        rd_kafka_message_destroy(m);
    }
    /* Anything beyond max within a short grace period would be a duplicate: look for it. */
    double grace = now_s() + 1.5;
    while (now_s() < grace) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) n++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return n;
}

/* ---- 1. consumer groups, cooperative-sticky -------------------------------------------------------- */
typedef struct {
    int assigned_now;  /* partitions currently assigned */
    int rebalances;
    bool saw_cooperative;
} group_member;

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    group_member *gm = opaque;
    gm->rebalances++;
    if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0) {
        gm->saw_cooperative = true;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e) rd_kafka_error_destroy(e); else gm->assigned_now += parts->cnt;
        } else {
            /* Commit what was consumed before giving partitions away, so the next owner starts after it. */
            rd_kafka_commit(rk, NULL, 0);
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e) rd_kafka_error_destroy(e); else gm->assigned_now -= parts->cnt;
        }
    } else {
        rd_kafka_assign(rk, err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? parts : NULL);
        gm->assigned_now = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? parts->cnt : 0;
    }
}

static rd_kafka_t *group_consumer(const char *boot, const char *topic, const char *group, group_member *gm) {
    const char *kv[] = {"group.id", group, "partition.assignment.strategy", "cooperative-sticky",
                        "auto.offset.reset", "earliest", "session.timeout.ms", "6000",
                        "enable.auto.commit", "false", NULL};
    rd_kafka_conf_t *c = conf_new(boot, kv);
    rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    rd_kafka_conf_set_opaque(c, gm);
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, c);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "kafka_probe: subscribe: %s\n", rd_kafka_err2str(e));
        exit(1);
    }
    return rk;
}

static int count_poll(rd_kafka_t *c, char *seen, int n) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
    if (!m) return 0;
    int got = 0;
    if (!m->err) {
        int v = atoi((const char *)m->payload);
        if (v >= 0 && v < n) seen[v]++;
        got = 1;
    }
    rd_kafka_message_destroy(m);
    return got;
}

static void probe_group(const char *boot, const char *topic) {
    printf("consumer group, cooperative-sticky, 2 members on %s\n", topic);
    dr_count dc = {0, 0};
    rd_kafka_t *p = producer_new(boot, NULL, &dc);
    for (int part = 0; part < 4; part++) produce_n(p, topic, part, part * (N_RECORDS / 4), N_RECORDS / 4);
    rd_kafka_flush(p, 30000);
    rd_kafka_destroy(p);
    expect(dc.delivered == N_RECORDS, "all records for the group test delivered");

    char group[64];
    snprintf(group, sizeof group, "kafka-probe-%ld", (long)time(NULL));
    char *seen = calloc(N_RECORDS, 1);
    group_member a = {0, 0, false}, b = {0, 0, false};
    rd_kafka_t *ca = group_consumer(boot, topic, group, &a);
    int total = 0;
    double end = now_s() + 30;
    while (a.assigned_now < 4 && now_s() < end) total += count_poll(ca, seen, N_RECORDS);
    expect(a.assigned_now == 4, "first member gets all 4 partitions");
    rd_kafka_t *cb = group_consumer(boot, topic, group, &b);
    end = now_s() + 45;
    while ((b.assigned_now == 0 || a.assigned_now + b.assigned_now != 4 || total < N_RECORDS) && now_s() < end) {
        total += count_poll(ca, seen, N_RECORDS);
        total += count_poll(cb, seen, N_RECORDS);
    }
    expect(a.saw_cooperative && b.saw_cooperative, "rebalance protocol is COOPERATIVE for both members");
    expect(b.assigned_now > 0 && a.assigned_now > 0 && a.assigned_now + b.assigned_now == 4,
           "second member joins: partitions split between the two, incrementally");
    int once = 0;
    for (int i = 0; i < N_RECORDS; i++) once += seen[i] == 1;
    printf("  records seen exactly once: %d of %d (%d polls total)\n", once, N_RECORDS, total);
    expect(once == N_RECORDS, "every record consumed exactly once across the group");
    rd_kafka_consumer_close(cb);
    rd_kafka_destroy(cb);
    rd_kafka_consumer_close(ca);
    rd_kafka_destroy(ca);
    free(seen);
}

/* ---- 2. idempotent producer ----------------------------------------------------------------------- */
static void probe_idempotent(const char *boot, const char *topic) {
    printf("idempotent producer on %s\n", topic);
    dr_count dc = {0, 0};
    const char *kv[] = {"enable.idempotence", "true", "linger.ms", "5", NULL};
    rd_kafka_t *p = producer_new(boot, kv, &dc);
    produce_n(p, topic, 0, 0, N_RECORDS);
    rd_kafka_resp_err_t fe = rd_kafka_flush(p, 30000);
    char errstr[256];
    rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(p, errstr, sizeof errstr);
    rd_kafka_destroy(p);
    expect(fe == 0 && fatal == 0, "flush completes with no fatal idempotence error");
    expect(dc.delivered == N_RECORDS && dc.failed == 0, "every record acknowledged");
    int *seen = calloc(N_RECORDS + 16, sizeof *seen);
    int n = read_values(boot, topic, 0, "read_uncommitted", seen, N_RECORDS, 30);
    bool in_order = n == N_RECORDS;
    for (int i = 0; in_order && i < N_RECORDS; i++) in_order = seen[i] == i;
    expect(in_order, "read back: exactly N records, in order, no duplicates");
    free(seen);
}

/* ---- 3. transactions ------------------------------------------------------------------------------ */
static bool txn_ok(rd_kafka_error_t *e, const char *what) {
    if (!e) return true;
    fprintf(stderr, "  %s: %s\n", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return false;
}

/* Copy N_RECORDS/2 input records to out in one transaction that commits, the rest in one that aborts. */
static bool transform_in_txns(const char *boot, const char *in, const char *out, const char *group) {
    const char *pkv[] = {"transactional.id", group, NULL};
    dr_count dc = {0, 0};
    rd_kafka_t *p = producer_new(boot, pkv, &dc);
    const char *ckv[] = {"group.id", group, "enable.auto.commit", "false", "auto.offset.reset", "earliest",
                         "isolation.level", "read_committed", NULL};
    rd_kafka_t *c = client_new(RD_KAFKA_CONSUMER, conf_new(boot, ckv));
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, in, 0);
    rd_kafka_subscribe(c, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    bool ok = txn_ok(rd_kafka_init_transactions(p, 30000), "init_transactions");
    for (int round = 0; ok && round < 2; round++) {
        ok = txn_ok(rd_kafka_begin_transaction(p), "begin_transaction");
        int copied = 0;
        int64_t next = -1;
        double end = now_s() + 30;
        while (ok && copied < N_RECORDS / 2 && now_s() < end) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
            if (!m) continue;
            if (!m->err) {
                rd_kafka_producev(p, RD_KAFKA_V_TOPIC(out), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END);
                next = m->offset + 1;
                copied++;
            }
            rd_kafka_message_destroy(m);
        }
        ok = ok && copied == N_RECORDS / 2;
        rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(offs, in, 0)->offset = next;
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(c);
        ok = ok && txn_ok(rd_kafka_send_offsets_to_transaction(p, offs, md, 30000), "send_offsets_to_transaction");
        rd_kafka_consumer_group_metadata_destroy(md);
        rd_kafka_topic_partition_list_destroy(offs);
        if (round == 0) ok = ok && txn_ok(rd_kafka_commit_transaction(p, 30000), "commit_transaction");
        else ok = ok && txn_ok(rd_kafka_abort_transaction(p, 30000), "abort_transaction");
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
    return ok;
}

static int64_t committed_offset(const char *boot, const char *topic, const char *group) {
    const char *kv[] = {"group.id", group, NULL};
    rd_kafka_t *c = client_new(RD_KAFKA_CONSUMER, conf_new(boot, kv));
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, topic, 0);
    int64_t off = -1;
    if (rd_kafka_committed(c, tp, 10000) == 0) off = tp->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(tp);
    rd_kafka_destroy(c);
    return off;
}

static void probe_transactions(const char *boot, const char *topic) {
    char out[256], group[96];
    snprintf(out, sizeof out, "%s.out", topic);
    snprintf(group, sizeof group, "kafka-probe-txn-%ld", (long)time(NULL));
    printf("transactions: %s -> %s, send_offsets_to_transaction, read_committed\n", topic, out);
    dr_count dc = {0, 0};
    rd_kafka_t *p = producer_new(boot, NULL, &dc);
    produce_n(p, topic, 0, 0, N_RECORDS);
    rd_kafka_flush(p, 30000);
    rd_kafka_destroy(p);
    expect(dc.delivered == N_RECORDS, "input records delivered");
    expect(transform_in_txns(boot, topic, out, group), "one committed and one aborted transaction");
    int *seen = calloc(N_RECORDS + 16, sizeof *seen);
    int n_rc = read_values(boot, out, 0, "read_committed", seen, N_RECORDS, 10);
    bool first_half = n_rc == N_RECORDS / 2;
    for (int i = 0; first_half && i < n_rc; i++) first_half = seen[i] == i;
    printf("  read_committed sees %d records\n", n_rc);
    expect(first_half, "read_committed sees exactly the committed transaction's records");
    int n_ru = read_values(boot, out, 0, "read_uncommitted", seen, N_RECORDS, 10);
    printf("  read_uncommitted sees %d records\n", n_ru);
    expect(n_ru == N_RECORDS, "read_uncommitted also sees the aborted ones (so the test can tell)");
    int64_t off = committed_offset(boot, topic, group);
    printf("  committed offset of the group: %lld\n", (long long)off);
    expect(off == N_RECORDS / 2, "group offset = end of the committed transaction, not the aborted one");
    free(seen);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: kafka_probe group|idempotent|transactions BOOTSTRAP TOPIC\n");
        return 2;
    }
    printf("librdkafka %s\n", rd_kafka_version_str());
    if (strcmp(argv[1], "group") == 0) probe_group(argv[2], argv[3]);
    else if (strcmp(argv[1], "idempotent") == 0) probe_idempotent(argv[2], argv[3]);
    else if (strcmp(argv[1], "transactions") == 0) probe_transactions(argv[2], argv[3]);
    else {
        fprintf(stderr, "kafka_probe: unknown probe '%s'\n", argv[1]);
        return 2;
    }
    printf("%s: %s\n", argv[1], failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
