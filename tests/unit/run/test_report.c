/* test_report.c — `rtml run`'s report (src/run/report.c): a team's figures are the sums of its workers', its span
 * runs from the first worker's first record to the last worker's last, and each worker's own report follows. */
#include "check.h"
#include "run/report.h"

#include <jansson.h>
#include <string.h>

static void test_team(void) {
    rtml_run_report a = {.records = 10, .learned = 7, .errors = 1, .redelivered = 2, .model_learned = 9,
                         .dead_letters = 1, .checkpoint_seq = 4, .checkpoint_failures = 1, .pauses = 3,
                         .transactions = 5, .transactions_aborted = 1, .handover_uncommitted = 2,
                         .handover_unlearned = 1, .stale_dropped = 6, .label_pauses = 2, .consumer_rejoins = 1,
                         .first_at = 1000.5, .last_at = 1010.5};
    rtml_run_report b = {.records = 30, .learned = 20, .first_at = 1002, .last_at = 1020.5, .consumer_rejoins = 2};
    rtml_run_report idle = {0}; /* a worker without partitions: no records, no span */
    rtml_run_report sum = {0};
    rtml_run_report_add(&sum, &a);
    rtml_run_report_add(&sum, &idle);
    rtml_run_report_add(&sum, &b);
    CHECK_EQ_INT(sum.records, 40);
    CHECK_EQ_INT(sum.learned, 27);
    CHECK_EQ_INT(sum.consumer_rejoins, 3);
    CHECK(sum.first_at == 1000.5 && sum.last_at == 1020.5);

    rtml_buf each[3] = {RTML_BUF_INIT, RTML_BUF_INIT, RTML_BUF_INIT}, out = RTML_BUF_INIT;
    rtml_buf_puts(&each[0], "{\"records\":10}");
    rtml_buf_puts(&each[2], "{\"records\":30}");
    rtml_run_report_team_json(&sum, 3, each, &out);
    json_error_t e;
    json_t *doc = json_loads(out.data, 0, &e);
    CHECK(doc != NULL);
    if (doc) {
        CHECK_EQ_INT(json_integer_value(json_object_get(doc, "workers")), 3);
        CHECK_EQ_INT(json_integer_value(json_object_get(doc, "records")), 40);
        CHECK_EQ_INT(json_integer_value(json_object_get(doc, "handover_uncommitted")), 2);
        CHECK_NEAR(json_number_value(json_object_get(doc, "seconds")), 20, 1e-9);
        CHECK_NEAR(json_number_value(json_object_get(doc, "records_per_second")), 2, 1e-9);
        json_t *per = json_object_get(doc, "per_worker");
        CHECK(json_array_size(per) == 3);
        CHECK(json_is_null(json_array_get(per, 1))); /* a worker that never reported */
        CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(per, 2), "records")), 30);
        json_decref(doc);
    }
    for (int k = 0; k < 3; k++) rtml_buf_free(&each[k]);
    rtml_buf_free(&out);
}

int main(void) {
    test_team();
    return check_exit("test_report");
}
