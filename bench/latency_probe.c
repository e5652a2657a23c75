/* latency_probe.c — the `latency` benchmark's load and stopwatch: an open-loop producer and a consumer of the
 * pipeline's output in one process, so that both ends of every record's latency are read on one clock.
 *
 * usage: latency_probe BROKERS IN OUT RATE SECONDS [WARMUP_S]
 *
 * 1. Sends one "ping" record and waits (up to 120 s) until it comes out of OUT: the pipeline under test then
 *    has its partitions and has fetched, so no record of the measurement waits for a group join.
 * 2. Sends RATE * SECONDS SEA-like JSON records to IN on a fixed schedule (record i is due at t0 + i / RATE),
 *    whatever the pipeline does: an open loop, so a slow pipeline cannot slow the load and hide its own delay
 *    (coordinated omission). Each record's key is its index; pipelines keep the input's key on their output.
 * 3. Latency of record i = the moment its output is read from OUT - the moment it was due, in microseconds,
 *    on CLOCK_MONOTONIC. It covers the probe's own producer (linger.ms 1, Nagle off), the broker twice, the
 *    pipeline and the probe's consumer: end to end as a user's consumer sees it. With IN = OUT there is no
 *    pipeline: the figures are one Kafka hop, the floor under any pipeline's two.
 * Prints one JSON line: sent, received, duplicates, missing, then p50/p99/p99.9/max in milliseconds over
 * the records due after the first WARMUP_S seconds (default 1) and "all" over every record. Exits 0 when
 * every record came out, 1 otherwise. With LATENCY_PROBE_DUMP=FILE it also writes each record's due time and
 * latency (µs, -1 when it never came out) to FILE, to see when the slow ones happened. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PING_KEY "ping"

/* One measurement. due[i] is written by the sender, which then publishes sent = i + 1 (release) and only then
 * produces record i; the receiver reads due[i] only for an index below sent (acquire), so it never sees a due
 * time before it was written, and skips any index the sender has not reached (only a foreign record). */
typedef struct {
    rd_kafka_t *producer;
    const char *in;
    double rate;
    long n;
    int64_t *due;      /* ns, CLOCK_MONOTONIC; owned here */
    int64_t *seen_at;  /* ns, 0 until record i is read from OUT; owned here */
    long sent; /* read and written with __atomic builtins only */
    long produce_errors;     /* produce() calls refused (queue full), retried */
    long delivery_failures;  /* records the broker never acknowledged (the delivery callback's count) */
    char first_failure[160];
} probe;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t ns) {
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* The producer's delivery reports, served by rd_kafka_poll: in the main thread for the ping, then only in the
 * sender thread; main reads the counters after joining it. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    probe *p = opaque;
    if (m->err && p->delivery_failures++ == 0)
        snprintf(p->first_failure, sizeof p->first_failure, "%s", rd_kafka_err2str(m->err));
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *const *kv, probe *p) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
        rd_kafka_conf_set_opaque(c, p);
    }
    char err[256];
    for (; kv[0]; kv += 2)
        if (rd_kafka_conf_set(c, kv[0], kv[1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "latency_probe: %s: %s\n", kv[0], err);
            exit(2);
        }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "latency_probe: %s\n", err);
        exit(2);
    }
    return rk;
}

/* A SEA record (x1..x3 in [0, 10), label = x1 + x2 <= 8) from a 64-bit LCG: cheap, deterministic. */
static int sea_record(char *buf, size_t cap, long i, uint64_t *rng) {
    double x[3];
    for (int k = 0; k < 3; k++) {
        *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
        x[k] = (double)(*rng >> 11) / 9007199254740992.0 * 10.0;
    }
    return snprintf(buf, cap, "{\"id\":%ld,\"x1\":%.4f,\"x2\":%.4f,\"x3\":%.4f,\"label\":%d}", i, x[0], x[1], x[2],
                    x[0] + x[1] <= 8.0);
}

static void send_one(probe *p, const char *key, const char *value, int len) {
    while (rd_kafka_producev(p->producer, RD_KAFKA_V_TOPIC(p->in), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)value, (size_t)len),
                             RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (++p->produce_errors > 1000000) {
            fprintf(stderr, "latency_probe: cannot produce to %s\n", p->in);
            exit(1);
        }
        rd_kafka_poll(p->producer, 1);
    }
    rd_kafka_poll(p->producer, 0);
}

/* The sender thread: every record at its due time; when it wakes late it sends all that are due at once. */
static void *sender(void *arg) {
    probe *p = arg;
    uint64_t rng = 7;
    char key[32], value[160];
    int64_t t0 = now_ns() + 1000000;
    for (long i = 0; i < p->n; i++) {
        p->due[i] = t0 + (int64_t)((double)i * 1e9 / p->rate);
        if (now_ns() < p->due[i]) sleep_until(p->due[i]);
        snprintf(key, sizeof key, "%ld", i);
        /* Published before the record leaves: its output can be read before send_one returns. */
        __atomic_store_n(&p->sent, i + 1, __ATOMIC_RELEASE);
        send_one(p, key, value, sea_record(value, sizeof value, i, &rng));
    }
    rd_kafka_flush(p->producer, 30000);
    return NULL;
}

/* Assigns every partition of topic from its beginning (the topic is fresh: the ping is its first record). */
static int assign_all(rd_kafka_t *c, const char *topic) {
    rd_kafka_topic_t *t = rd_kafka_topic_new(c, topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c, 0, t, &md, 10000);
    rd_kafka_topic_destroy(t);
    if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
        fprintf(stderr, "latency_probe: no partitions for %s: %s\n", topic, rd_kafka_err2str(e));
        if (!e) rd_kafka_metadata_destroy(md);
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    e = rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    return e ? -1 : 0;
}

/* Reads OUT until the ping came back (want_ping) or every record did, or the deadline. Returns duplicates. */
static long receive(rd_kafka_t *c, probe *p, int want_ping, int64_t deadline, long *received) {
    long dup = 0;
    int pinged = 0;
    while (now_ns() < deadline && (want_ping ? !pinged : *received < p->n)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        int64_t t = now_ns();
        char key[32] = "";
        if (!m->err && m->key && m->key_len < sizeof key) memcpy(key, m->key, m->key_len);
        rd_kafka_message_destroy(m);
        if (strcmp(key, PING_KEY) == 0) {
            pinged = 1;
            continue;
        }
        char *end;
        long i = strtol(key, &end, 10);
        if (!key[0] || *end || i < 0 || i >= __atomic_load_n(&p->sent, __ATOMIC_ACQUIRE)) continue;
        if (p->seen_at[i]) dup++;
        else {
            p->seen_at[i] = t;
            (*received)++;
        }
    }
    return want_ping && !pinged ? -1 : dup;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Prints "name":{"records","p50","p99","p999","max"} (ms) over the latencies of records due from `from`. */
static void print_stats(const probe *p, const char *name, int64_t from) {
    int64_t *lat = malloc((size_t)p->n * sizeof *lat);
    long k = 0;
    for (long i = 0; i < p->n && lat; i++)
        if (p->seen_at[i] && p->due[i] >= from) lat[k++] = p->seen_at[i] - p->due[i];
    if (!lat || k == 0) {
        printf("\"%s\":{\"records\":0}", name);
        free(lat);
        return;
    }
    qsort(lat, (size_t)k, sizeof *lat, cmp_i64);
#define PCT(q) ((double)lat[(long)((double)(k - 1) * (q))] / 1e6)
    printf("\"%s\":{\"records\":%ld,\"p50\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}", name, k, PCT(0.5),
           PCT(0.99), PCT(0.999), (double)lat[k - 1] / 1e6);
#undef PCT
    free(lat);
}

int main(int argc, char **argv) {
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: latency_probe BROKERS IN OUT RATE SECONDS [WARMUP_S]\n");
        return 2;
    }
    probe p = {.in = argv[2], .rate = atof(argv[4])};
    double seconds = atof(argv[5]), warmup = argc > 6 ? atof(argv[6]) : 1.0;
    p.n = (long)(p.rate * seconds);
    if (p.rate <= 0 || p.n <= 0 || warmup < 0 || warmup >= seconds) {
        fprintf(stderr, "latency_probe: RATE and SECONDS must be > 0, WARMUP_S in [0, SECONDS)\n");
        return 2;
    }
    p.due = calloc((size_t)p.n, sizeof *p.due);
    p.seen_at = calloc((size_t)p.n, sizeof *p.seen_at);
    /* The instrument adds as little as it can: Nagle off (librdkafka 2.0.2 leaves it on) and linger.ms 1, not 0:
     * with 0 every record is a produce request of its own, and at 10,000 records/s that load alone gave one
     * hop a p99 of 8-9 ms on this 2-core machine, against 2 ms with linger.ms 1 (LATENCY_PROBE_LINGER_MS). */
    const char *linger = getenv("LATENCY_PROBE_LINGER_MS") ? getenv("LATENCY_PROBE_LINGER_MS") : "1";
    const char *pkv[] = {"bootstrap.servers", argv[1], "linger.ms", linger, "enable.idempotence", "true",
                         "socket.nagle.disable", "true", NULL};
    const char *ckv[] = {"bootstrap.servers", argv[1], "group.id", "latency-probe", "enable.auto.commit", "false",
                         "fetch.wait.max.ms", "10", "socket.nagle.disable", "true", NULL};
    p.producer = client(RD_KAFKA_PRODUCER, pkv, &p);
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, ckv, &p);
    rd_kafka_poll_set_consumer(c);
    if (!p.due || !p.seen_at || assign_all(c, argv[3]) != 0) return 1;

    char value[160];
    uint64_t rng = 1;
    long received = 0;
    int64_t start = now_ns();
    send_one(&p, PING_KEY, value, sea_record(value, sizeof value, -1, &rng));
    if (receive(c, &p, 1, start + 120 * (int64_t)1000000000, &received) < 0) {
        fprintf(stderr, "latency_probe: the ping did not come out of %s within 120 s\n", argv[3]);
        return 1;
    }
    fprintf(stderr, "latency_probe: the ping came out of %s after %.2f s\n", argv[3], (double)(now_ns() - start) / 1e9);
    pthread_t th;
    if (pthread_create(&th, NULL, sender, &p) != 0) return 1;
    long dup = receive(c, &p, 0, now_ns() + (int64_t)((seconds + 30) * 1e9), &received);
    pthread_join(th, NULL);

    printf("{\"rate\":%.0f,\"seconds\":%.1f,\"sent\":%ld,\"received\":%ld,\"duplicates\":%ld,\"missing\":%ld,"
           "\"delivery_failures\":%ld,\"first_failure\":\"%s\",",
           p.rate, seconds, p.n, received, dup, p.n - received, p.delivery_failures, p.first_failure);
    print_stats(&p, "steady", p.due[0] + (int64_t)(warmup * 1e9));
    printf(",");
    print_stats(&p, "all", p.due[0]);
    printf("}\n");
    const char *dump = getenv("LATENCY_PROBE_DUMP"); /* every record's due time and latency, in µs */
    FILE *f = dump ? fopen(dump, "w") : NULL;
    for (long i = 0; f && i < p.n; i++)
        fprintf(f, "%ld %ld\n", (long)((p.due[i] - p.due[0]) / 1000),
                p.seen_at[i] ? (long)((p.seen_at[i] - p.due[i]) / 1000) : -1L);
    if (f) fclose(f);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p.producer);
    free(p.due);
    free(p.seen_at);
    return received == p.n ? 0 : 1;
}
