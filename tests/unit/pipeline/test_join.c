/* test_join.c — the pending-joins store: labels after and before their records, duplicates, late and unknown
 * labels, TTL and capacity evictions on the streams' own clocks, the hash table under churn (against a plain
 * model of it), and the checkpoint section's round trip and damage. */
#include <stdlib.h>

#include "check.h"
#include "pipeline/join.h"

static rtml_join_limits limits(size_t max_pending, size_t max_early) {
    return (rtml_join_limits){.n_dense = 2, .n_outputs = 1, .ttl_ms = 1000, .wait_ms = 100,
                              .max_pending = max_pending, .max_early = max_early};
}

/* A row of 2 dense values and one sparse pair, all derived from i. */
typedef struct {
    double dense[2], val[1], score;
    uint32_t idx[1];
    rtml_row row;
} test_row;

static void make_row(test_row *t, int i) {
    t->dense[0] = i, t->dense[1] = -i, t->val[0] = i * 0.5, t->idx[0] = 2 + (uint32_t)i % 7, t->score = i / 1000.0;
    t->row = (rtml_row){.dense = t->dense, .idx = t->idx, .val = t->val, .nnz = 1};
}

static uint64_t key(int i) {
    char b[16];
    int n = snprintf(b, sizeof b, "k%d", i);
    return rtml_join_key(b, (size_t)n);
}

static void check_match(const rtml_join_match *m, int i, double y) {
    CHECK_NEAR(m->row.dense[0], i, 0);
    CHECK_NEAR(m->row.dense[1], -i, 0);
    CHECK_EQ_INT(m->row.nnz, 1);
    CHECK_EQ_INT(m->row.idx[0], 2 + i % 7);
    CHECK_NEAR(m->row.val[0], i * 0.5, 0);
    CHECK_NEAR(m->scores[0], i / 1000.0, 0);
    CHECK_NEAR(m->y, y, 0);
}

static void test_label_after_and_before(void) {
    rtml_join_limits lim = limits(100, 100);
    rtml_join *j = rtml_join_new(&lim);
    test_row t;
    rtml_join_match m;
    make_row(&t, 5);
    CHECK_EQ_INT(rtml_join_put_features(j, key(5), 10, &t.row, &t.score, &m), RTML_JOIN_STORED);
    make_row(&t, 99); /* the store keeps its own copy */
    CHECK_EQ_INT(rtml_join_put_label(j, key(5), 30, 1, &m), RTML_JOIN_MATCHED);
    check_match(&m, 5, 1);
    CHECK_EQ_INT(m.feature_ts, 10);
    CHECK_EQ_INT(m.label_ts, 30);
    CHECK_EQ_INT(rtml_join_put_label(j, key(5), 31, 0, &m), RTML_JOIN_DUPLICATE); /* learned once */
    /* a label first: it waits, and the record joins it when it is scored */
    CHECK_EQ_INT(rtml_join_put_label(j, key(6), 40, 0, &m), RTML_JOIN_STORED);
    CHECK_EQ_INT(rtml_join_put_label(j, key(6), 41, 1, &m), RTML_JOIN_DUPLICATE);
    make_row(&t, 6);
    CHECK_EQ_INT(rtml_join_put_features(j, key(6), 35, &t.row, &t.score, &m), RTML_JOIN_MATCHED);
    check_match(&m, 6, 0);
    CHECK_EQ_INT(rtml_join_put_features(j, key(6), 36, &t.row, &t.score, &m), RTML_JOIN_DUPLICATE);
    /* a label read first but more than ttl (1000) after its record in stream time is late, not joined */
    CHECK_EQ_INT(rtml_join_put_label(j, key(7), 2000, 1, &m), RTML_JOIN_STORED);
    make_row(&t, 7);
    CHECK_EQ_INT(rtml_join_put_features(j, key(7), 999, &t.row, &t.score, &m), RTML_JOIN_LATE);
    CHECK_EQ_INT(rtml_join_put_label(j, key(7), 2001, 1, &m), RTML_JOIN_LATE);
    rtml_join_stats s;
    rtml_join_stats_get(j, &s);
    CHECK_EQ_INT(s.joined, 2);
    CHECK_EQ_INT(s.joined_early, 1);
    CHECK_EQ_INT(s.duplicate_labels, 2);
    CHECK_EQ_INT(s.duplicate_features, 1);
    CHECK_EQ_INT(s.late_labels, 2);
    CHECK_EQ_INT(s.evicted_ttl, 1);
    CHECK_EQ_INT(s.pending, 0);
    CHECK_EQ_INT(s.early, 0);
    CHECK_EQ_INT(s.marks, 1); /* the marks of 5 and 6 lasted ttl of label clock: 2001 - 41 > 1000 */
    rtml_join_free(j);
}

static void test_evictions(void) {
    rtml_join_limits lim = limits(3, 2);
    rtml_join *j = rtml_join_new(&lim);
    test_row t;
    rtml_join_match m;
    for (int i = 0; i < 5; i++) { /* capacity 3: records 0 and 1 are evicted, oldest first */
        make_row(&t, i);
        CHECK_EQ_INT(rtml_join_put_features(j, key(i), 100 + i, &t.row, &t.score, &m), RTML_JOIN_STORED);
    }
    rtml_join_stats s;
    rtml_join_stats_get(j, &s);
    CHECK_EQ_INT(s.pending, 3);
    CHECK_EQ_INT(s.evicted_capacity, 2);
    CHECK_EQ_INT(rtml_join_put_label(j, key(0), 200, 1, &m), RTML_JOIN_LATE); /* counted late, not unknown */
    CHECK_EQ_INT(rtml_join_put_label(j, key(2), 300, 1, &m), RTML_JOIN_MATCHED);
    check_match(&m, 2, 1);
    /* the label clock reaches 103 + ttl + 1: records 3 and 4 (ts 103, 104) -> 3 is evicted by ttl */
    CHECK_EQ_INT(rtml_join_put_label(j, key(50), 1104, 1, &m), RTML_JOIN_STORED);
    rtml_join_stats_get(j, &s);
    CHECK_EQ_INT(s.evicted_ttl, 1);
    CHECK_EQ_INT(s.pending, 1);
    CHECK_EQ_INT(rtml_join_put_label(j, key(4), 1104, 0, &m), RTML_JOIN_MATCHED); /* 1104 - 104 is not > ttl */
    /* early labels: the feature clock passing their time + wait drops them as unknown; so does max_early */
    CHECK_EQ_INT(rtml_join_put_label(j, key(51), 1106, 1, &m), RTML_JOIN_STORED);
    CHECK_EQ_INT(rtml_join_put_label(j, key(52), 1107, 1, &m), RTML_JOIN_STORED); /* 3 early > 2: key 50 goes */
    rtml_join_stats_get(j, &s);
    CHECK_EQ_INT(s.early, 2);
    CHECK_EQ_INT(s.early_evicted_capacity, 1);
    make_row(&t, 60);
    CHECK_EQ_INT(rtml_join_put_features(j, key(60), 1207, &t.row, &t.score, &m), RTML_JOIN_STORED);
    rtml_join_stats_get(j, &s);
    CHECK_EQ_INT(s.early, 1); /* 1207 - 1106 > 100 drops 51; 1207 - 1107 = 100 keeps 52 */
    CHECK_EQ_INT(s.unknown_labels, 2);
    rtml_join_free(j);
}

/* Many keys in and out, checked against a plain array of what should be there (the table's deletion moves
 * entries back; a bug there loses or finds keys wrongly). */
static void test_churn(void) {
    enum { N = 20000 };
    rtml_join_limits lim = {.n_dense = 2, .n_outputs = 1, .ttl_ms = INT64_MAX / 4, .wait_ms = INT64_MAX / 4,
                            .max_pending = N, .max_early = N};
    rtml_join *j = rtml_join_new(&lim);
    static signed char state[N]; /* 0 never seen, 1 pending, 2 joined */
    memset(state, 0, sizeof state);
    test_row t;
    rtml_join_match m;
    unsigned long long x = 7;
    int bad = 0;
    for (int step = 0; step < 200000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int i = (int)((x >> 33) % N);
        if ((x >> 20) & 1) {
            make_row(&t, i);
            rtml_join_result r = rtml_join_put_features(j, key(i), step, &t.row, &t.score, &m);
            bad += state[i] == 0 ? r != RTML_JOIN_STORED : r != RTML_JOIN_DUPLICATE;
            if (state[i] == 0) state[i] = 1;
        } else if (state[i] == 1) {
            rtml_join_result r = rtml_join_put_label(j, key(i), step, 1, &m);
            bad += r != RTML_JOIN_MATCHED || m.row.dense[0] != i;
            state[i] = 2;
        }
    }
    CHECK_EQ_INT(bad, 0);
    rtml_join_stats s;
    rtml_join_stats_get(j, &s);
    size_t pending = 0;
    for (int i = 0; i < N; i++) pending += state[i] == 1;
    CHECK_EQ_INT(s.pending, pending);
    CHECK(s.bytes > s.pending * 40); /* entries, table and payloads are counted */
    rtml_join_free(j);
}

static void test_save_load(void) {
    rtml_join_limits lim = limits(100, 100);
    rtml_join *j = rtml_join_new(&lim);
    test_row t;
    rtml_join_match m;
    for (int i = 0; i < 10; i++) {
        make_row(&t, i);
        rtml_join_put_features(j, key(i), 10 + i, &t.row, &t.score, &m);
    }
    rtml_join_put_label(j, key(3), 30, 1, &m);      /* joined: a mark */
    rtml_join_put_label(j, key(77), 31, 0, &m);     /* early */
    rtml_writer w = {RTML_BUF_INIT};
    rtml_join_save(j, &w);
    rtml_join *k = rtml_join_new(&lim);
    char err[256];
    rtml_reader r = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    CHECK_EQ_INT(rtml_join_load(k, &r, err, sizeof err), 0);
    rtml_join_stats a, b;
    rtml_join_stats_get(j, &a);
    rtml_join_stats_get(k, &b);
    CHECK_EQ_INT(b.pending, 9);
    CHECK_EQ_INT(b.early, 1);
    CHECK_EQ_INT(b.marks, 1);
    CHECK_EQ_INT(b.joined, a.joined);
    CHECK_EQ_INT(b.label_clock, 31);
    CHECK_EQ_INT(rtml_join_put_label(k, key(3), 40, 1, &m), RTML_JOIN_DUPLICATE); /* still learned once */
    CHECK_EQ_INT(rtml_join_put_label(k, key(8), 41, 0, &m), RTML_JOIN_MATCHED);
    check_match(&m, 8, 0);
    make_row(&t, 77);
    CHECK_EQ_INT(rtml_join_put_features(k, key(77), 42, &t.row, &t.score, &m), RTML_JOIN_MATCHED);
    /* every truncation is refused and leaves an empty store */
    for (size_t cut = 0; cut < w.buf.len; cut += 7) {
        rtml_reader tr = {(const unsigned char *)w.buf.data, cut, 0, false};
        CHECK_EQ_INT(rtml_join_load(k, &tr, err, sizeof err), -1);
        rtml_join_stats_get(k, &b);
        CHECK_EQ_INT(b.pending + b.early + b.marks, 0);
    }
    /* rows of another shape are refused */
    rtml_join_limits other = lim;
    other.n_dense = 3;
    rtml_join *o = rtml_join_new(&other);
    rtml_reader orr = {(const unsigned char *)w.buf.data, w.buf.len, 0, false};
    CHECK_EQ_INT(rtml_join_load(o, &orr, err, sizeof err), -1);
    CHECK(strstr(err, "2 inputs") != NULL);
    rtml_join_free(o);
    rtml_buf_free(&w.buf);
    rtml_join_free(j);
    rtml_join_free(k);
}

int main(void) {
    test_label_after_and_before();
    test_evictions();
    test_churn();
    test_save_load();
    return check_exit("test_join");
}
