/* passthrough.c — the `pipeline` benchmark's floor: consume a topic and produce every record's bytes, with
 * its key, to another topic, with no decoding and no model; at least once, as rtml's default (an input offset
 * is stored for commit only once its output is acknowledged). What any pipeline on this machine and broker can
 * do at most, so that rtml's figures read as a fraction of it.
 *
 * usage: passthrough BROKERS IN OUT N GROUP
 * Stops when N outputs were acknowledged; prints {"records","seconds","records_per_second"} (seconds from the
 * first record read to the last acknowledgement). The client settings are rtml's own defaults where they
 * matter for speed (queued.min.messages 1M for librdkafka 2.0.2's prefetch, linger.ms 2, idempotence). */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The benchmark's counters, shared with the delivery callback through the producer's opaque. */
typedef struct {
    rd_kafka_t *consumer;
    const char *in;
    long long acked, failed;
} bench;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static rd_kafka_conf_t *conf(const char *const *kv) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[256];
    for (; kv[0]; kv += 2)
        if (rd_kafka_conf_set(c, kv[0], kv[1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "passthrough: %s: %s\n", kv[0], err);
            exit(2);
        }
    return c;
}

/* The input's partition and offset travel as the produce opaque: partition << 48 | offset. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    bench *b = opaque;
    if (m->err) {
        b->failed++;
        return;
    }
    uintptr_t v = (uintptr_t)m->_private;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, b->in, (int32_t)(v >> 48))->offset = (int64_t)(v & 0xffffffffffffULL) + 1;
    rd_kafka_offsets_store(b->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    b->acked++;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: passthrough BROKERS IN OUT N GROUP\n");
        return 2;
    }
    bench b = {.in = argv[2]};
    long long n = atoll(argv[4]);
    const char *ckv[] = {"bootstrap.servers", argv[1], "group.id", argv[5], "auto.offset.reset", "earliest",
                         "enable.auto.offset.store", "false", "queued.min.messages", "1000000",
                         "partition.assignment.strategy", "cooperative-sticky", NULL};
    const char *pkv[] = {"bootstrap.servers", argv[1], "linger.ms", "2", "enable.idempotence", "true", NULL};
    char err[256];
    rd_kafka_conf_t *pc = conf(pkv);
    rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
    rd_kafka_conf_set_opaque(pc, &b);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    b.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf(ckv), err, sizeof err);
    if (!producer || !b.consumer) {
        fprintf(stderr, "passthrough: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(b.consumer);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, argv[2], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(b.consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    rd_kafka_topic_t *out = rd_kafka_topic_new(producer, argv[3], NULL);
    double first = 0, deadline = now() + 120;
    long long read = 0;
    while (b.acked + b.failed < n && now() < deadline) {
        rd_kafka_message_t *m = read < n ? rd_kafka_consumer_poll(b.consumer, 100) : NULL;
        rd_kafka_poll(producer, read < n ? 0 : 10);
        if (!m) continue;
        if (!m->err) {
            if (!first) first = now();
            void *opaque = (void *)(((uintptr_t)m->partition << 48) | ((uintptr_t)m->offset & 0xffffffffffffULL));
            while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len, m->key,
                                    m->key_len, opaque) != 0)
                rd_kafka_poll(producer, 10); /* queue full: wait for acknowledgements */
            read++;
        }
        rd_kafka_message_destroy(m);
    }
    double secs = now() - first;
    int ok = b.acked == n && b.failed == 0;
    printf("{\"records\":%lld,\"failed\":%lld,\"seconds\":%.6f,\"records_per_second\":%.1f}\n", b.acked, b.failed,
           secs, secs > 0 ? (double)b.acked / secs : 0);
    rd_kafka_consumer_close(b.consumer);
    rd_kafka_destroy(b.consumer);
    rd_kafka_topic_destroy(out);
    rd_kafka_flush(producer, 10000);
    rd_kafka_destroy(producer);
    return ok ? 0 : 1;
}
