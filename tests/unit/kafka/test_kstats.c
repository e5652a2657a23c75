/* test_kstats.c — librdkafka statistics parsed from REAL documents: a producer and a consumer against
 * librdkafka's built-in mock cluster (test.mock.num.brokers=1, no broker to start), statistics every 100 ms.
 * The producer writes 100 records to partition 0 and 40 to partition 1; the consumer (assign, no subscribe)
 * reads 60 + 40, commits 50 and 40, then stores 60 for partition 0 without committing it. The parsed figures
 * must be exactly those: hi 100/40, app 60/40, committed 50/40, stored 60/40, consumer_lag 50/0 (from the
 * committed offset, librdkafka >= 1.8), consumer_lag_stored 40/0. Then malformed documents fail with a
 * reason, and every truncation and many byte mutations of a real document parse or fail without a crash
 * (run under ASan in the sanitizer build). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "kafka/kstats.h"

#define TOPIC "kstats-test"

/* The last statistics document a handle emitted (owned), set by the stats callback on the polling thread. */
typedef struct {
    char *json;
    size_t len;
    int docs; /* how many were emitted */
} captured;

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    captured *c = opaque;
    free(c->json);
    c->json = strndup(json, len);
    c->len = len;
    c->docs++;
    return 0; /* librdkafka frees json */
}

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static rd_kafka_conf_t *conf_with(const char *const *kv, captured *c) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    for (; kv[0]; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "conf %s: %s\n", kv[0], err);
            CHECK(0);
        }
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_opaque(conf, c);
    return conf;
}

/* ---- the producer ------------------------------------------------------------------------------------ */

static void produce(rd_kafka_t *p, int32_t partition, int n) {
    for (int i = 0; i < n; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "record %d", i);
        rd_kafka_resp_err_t e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(partition),
                                                  RD_KAFKA_V_VALUE(v, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_END);
        CHECK_EQ_INT(e, RD_KAFKA_RESP_ERR_NO_ERROR);
    }
}

/* Polls the producer until a statistics document shows every record transmitted (or the deadline). */
static void check_producer_stats(rd_kafka_t *p, captured *c) {
    rtml_kstats s = {0};
    char err[256] = "";
    int done = 0;
    for (double deadline = mono() + 15; !done && mono() < deadline;) {
        int before = c->docs;
        rd_kafka_poll(p, 100);
        if (c->docs == before) continue;
        rtml_kstats_free(&s);
        CHECK_EQ_INT(rtml_kstats_parse(c->json, c->len, &s, err, sizeof err), 0);
        done = s.tx_msgs == 140;
    }
    CHECK_EQ_INT(s.tx_msgs, 140);
    CHECK_EQ_INT(s.rx_msgs, 0);
    CHECK_EQ_INT(s.msg_cnt, 0); /* flushed */
    CHECK_STR(s.type, "producer");
    CHECK(strncmp(s.name, "rdkafka#producer-", 17) == 0);
    rtml_kstats_free(&s);
}

/* ---- the consumer ------------------------------------------------------------------------------------ */

static void assign_both(rd_kafka_t *k) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(l, TOPIC, 1)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CHECK_EQ_INT(rd_kafka_assign(k, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
}

static void pause_partition0(rd_kafka_t *k) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, TOPIC, 0);
    rd_kafka_pause_partitions(k, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Reads partition 0 up to offset 59 (then pauses it: nothing more reaches the application) and all of
 * partition 1. Returns whether all 100 arrived in order before the deadline. */
static int consume(rd_kafka_t *k) {
    int64_t next[2] = {0, 0};
    int in_order = 1;
    for (double deadline = mono() + 20; (next[0] < 60 || next[1] < 40) && mono() < deadline;) {
        rd_kafka_poll(k, 0); /* statistics, on the main queue */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k, 100);
        if (!m) continue;
        if (!m->err && (m->partition == 0 || m->partition == 1)) {
            in_order &= m->offset == next[m->partition];
            next[m->partition] = m->offset + 1;
            if (m->partition == 0 && m->offset == 59) pause_partition0(k);
        }
        rd_kafka_message_destroy(m);
    }
    CHECK_EQ_INT(next[0], 60);
    CHECK_EQ_INT(next[1], 40);
    return in_order && next[0] == 60 && next[1] == 40;
}

static void store(rd_kafka_t *k, int64_t off0, int64_t off1) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset = off0;
    if (off1 >= 0) rd_kafka_topic_partition_list_add(l, TOPIC, 1)->offset = off1;
    CHECK_EQ_INT(rd_kafka_offsets_store(k, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
}

static const rtml_kstats_partition *find(const rtml_kstats *s, int32_t partition) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->parts[i].topic, TOPIC) == 0 && s->parts[i].partition == partition) return &s->parts[i];
    return NULL;
}

/* Whether a document knows all the figures yet: watermarks fetched, the commit seen, the store seen. */
static int settled(const rtml_kstats *s) {
    const rtml_kstats_partition *p0 = find(s, 0), *p1 = find(s, 1);
    return p0 && p1 && p0->hi_offset >= 0 && p1->hi_offset >= 0 && p0->committed_offset >= 0 &&
           p1->committed_offset >= 0 && p0->stored_offset == 60;
}

static void check_consumer_figures(const rtml_kstats *s, const char *json) {
    CHECK_STR(s->type, "consumer");
    CHECK(strncmp(s->name, "rdkafka#consumer-", 17) == 0);
    CHECK(s->rx_msgs >= 100 && s->rx_msgs <= 140); /* what was fetched, maybe beyond what was read */
    CHECK_EQ_INT(s->tx_msgs, 0);
    CHECK(s->age_s > 0 && s->age_s < 60);
    CHECK(s->replyq >= 0);
    CHECK_EQ_INT(s->n, 2); /* the UA partition -1, present in the document, is skipped */
    CHECK(strstr(json, "\"partition\":-1") != NULL);
    CHECK(s->n == 2 && s->parts[0].partition == 0 && s->parts[1].partition == 1); /* sorted */
    const rtml_kstats_partition *p0 = find(s, 0), *p1 = find(s, 1);
    if (!p0 || !p1) return;
    CHECK_EQ_INT(p0->hi_offset, 100);
    CHECK_EQ_INT(p0->lo_offset, 0);
    CHECK_EQ_INT(p0->app_offset, 60);
    CHECK_EQ_INT(p0->committed_offset, 50);
    CHECK_EQ_INT(p0->stored_offset, 60);
    CHECK_EQ_INT(p0->consumer_lag, 100 - 50);       /* from the committed offset */
    CHECK_EQ_INT(p0->consumer_lag_stored, 100 - 60); /* from the stored offset */
    CHECK(p0->desired);
    CHECK_EQ_INT(p1->hi_offset, 40);
    CHECK_EQ_INT(p1->ls_offset, 40);
    CHECK_EQ_INT(p1->app_offset, 40);
    CHECK_EQ_INT(p1->committed_offset, 40);
    CHECK_EQ_INT(p1->consumer_lag, 0);
    CHECK_EQ_INT(p1->next_offset, 40);
    /* fetchq_cnt is the length of the queue the partition's fetch queue forwards to, which for a consumer in a
     * group is the one consumer queue: the same figure on every partition (kstats.h says so; a librdkafka
     * upgrade that changes it should change the doc too). Records 60..99 of partition 0 were fetched. */
    CHECK_EQ_INT(p0->fetchq_cnt, p1->fetchq_cnt);
    CHECK(p0->fetchq_cnt >= 0 && p0->fetchq_cnt <= 41);
    CHECK_STR(p1->fetch_state, "active");
}

/* Runs the consumer; returns its last settled statistics document (caller frees), or NULL. */
static char *consumer_scenario(const char *bootstraps) {
    captured c = {0};
    const char *kv[] = {"bootstrap.servers", bootstraps, "group.id", "rtml-kstats-test", "enable.auto.commit", "false",
                        "enable.auto.offset.store", "false", "statistics.interval.ms", "100", NULL};
    char err[256];
    rd_kafka_t *k = rd_kafka_new(RD_KAFKA_CONSUMER, conf_with(kv, &c), err, sizeof err);
    CHECK(k != NULL);
    if (!k) return NULL;
    assign_both(k);
    if (consume(k)) {
        store(k, 50, 40);
        CHECK_EQ_INT(rd_kafka_commit(k, NULL, 0), RD_KAFKA_RESP_ERR_NO_ERROR); /* synchronous */
        store(k, 60, -1);
    }
    rtml_kstats s = {0};
    int ok = 0;
    int first = c.docs;
    for (double deadline = mono() + 15; !ok && mono() < deadline;) {
        int before = c.docs;
        rd_kafka_poll(k, 100);
        if (c.docs == before || c.docs < first + 2) continue; /* a document made after the commit */
        rtml_kstats_free(&s);
        CHECK_EQ_INT(rtml_kstats_parse(c.json, c.len, &s, err, sizeof err), 0);
        ok = settled(&s);
    }
    CHECK(ok);
    if (ok) check_consumer_figures(&s, c.json);
    rtml_kstats_free(&s);
    rd_kafka_consumer_close(k);
    rd_kafka_destroy(k);
    return c.json;
}

/* ---- documents that are not statistics --------------------------------------------------------------- */

static void check_malformed(const char *doc, const char *reason) {
    rtml_kstats s;
    memset(&s, 0x5a, sizeof s);
    char err[256] = "";
    CHECK_EQ_INT(rtml_kstats_parse(doc, strlen(doc), &s, err, sizeof err), -1);
    if (strstr(err, reason) == NULL) fprintf(stderr, "for %s: got \"%s\", want \"%s\"\n", doc, err, reason);
    CHECK(strstr(err, reason) != NULL);
    CHECK(s.parts == NULL && s.n == 0 && s.name == NULL); /* zeroed */
    rtml_kstats_free(&s);
}

static void test_malformed(void) {
    check_malformed("", "statistics JSON: ");
    check_malformed("{\"name\":", "statistics JSON: ");
    check_malformed("[1,2]", "statistics JSON: the document is not an object");
    check_malformed("{\"topics\":[]}", "statistics JSON: \"topics\" is not an object");
    check_malformed("{\"topics\":{\"t\":{\"partitions\":5}}}", "statistics JSON: topic \"t\" has no \"partitions\" object");
    check_malformed("{\"topics\":{\"t\":{\"topic\":\"t\",\"partitions\":{\"0\":{\"partition\":0},\"1\":7}}}}",
                    "statistics JSON: partition 1 of \"t\" is not an object");
    /* Absent fields are -1 (or ""), not an error. */
    rtml_kstats s;
    char err[256];
    const char *minimal = "{\"topics\":{\"t\":{\"partitions\":{\"3\":{},\"-1\":{\"partition\":-1}}}}}";
    CHECK_EQ_INT(rtml_kstats_parse(minimal, strlen(minimal), &s, err, sizeof err), 0);
    CHECK_EQ_INT(s.n, 1);
    CHECK(s.n == 1 && s.parts[0].partition == 3 && s.parts[0].consumer_lag == -1 && s.parts[0].hi_offset == -1);
    CHECK(s.n == 1 && strcmp(s.parts[0].topic, "t") == 0 && strcmp(s.parts[0].fetch_state, "") == 0);
    CHECK(s.rx_msgs == -1 && s.age_s == -1 && strcmp(s.name, "") == 0);
    rtml_kstats_free(&s);
}

/* Every strict prefix of a real document is invalid JSON: -1, never a crash or a leak. Then byte mutations. */
static void test_truncations(const char *doc) {
    size_t len = strlen(doc);
    int rejected = 0, parsed = 0;
    rtml_kstats s;
    char err[256];
    for (size_t n = 0; n < len; n++) {
        if (rtml_kstats_parse(doc, n, &s, err, sizeof err) == 0) rtml_kstats_free(&s);
        else rejected++;
    }
    CHECK_EQ_INT(rejected, len);
    char *copy = malloc(len);
    uint64_t r = 88172645463325252ULL;
    static const char bytes[] = "{}[]\":,-01a\\ \x80\xff";
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, doc, len);
        for (int k = 0; k < 1 + i % 4; k++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            copy[r % len] = bytes[(r >> 32) % (sizeof bytes - 1)];
        }
        if (rtml_kstats_parse(copy, len, &s, err, sizeof err) == 0) {
            parsed++;
            rtml_kstats_free(&s);
        }
    }
    free(copy);
    CHECK(parsed > 0); /* some mutations (inside string values) still parse */
}

int main(void) {
    captured pc = {0};
    const char *pkv[] = {"test.mock.num.brokers", "1", "statistics.interval.ms", "100", "linger.ms", "5", NULL};
    char err[256];
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf_with(pkv, &pc), err, sizeof err);
    CHECK(p != NULL);
    if (!p) return check_exit("test_kstats");
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(p);
    CHECK(mc != NULL);
    CHECK_EQ_INT(rd_kafka_mock_topic_create(mc, TOPIC, 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    produce(p, 0, 100);
    produce(p, 1, 40);
    CHECK_EQ_INT(rd_kafka_flush(p, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
    check_producer_stats(p, &pc);

    char *doc = consumer_scenario(rd_kafka_mock_cluster_bootstraps(mc));
    test_malformed();
    CHECK(doc != NULL);
    if (doc) test_truncations(doc);
    if (getenv("RTML_KSTATS_DUMP") && doc) printf("%s\n", doc);
    free(doc);
    free(pc.json);
    rd_kafka_destroy(p);
    return check_exit("test_kstats");
}
