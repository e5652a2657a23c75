#!/usr/bin/env bash
# The three Kafka features rtml relies on, proved against the real broker with Debian's librdkafka 2.0.2
# (kafka_probe.c): consumer groups with cooperative-sticky, the idempotent producer, and transactions
# (send_offsets_to_transaction + read_committed). Topics are made with `rtml topics`, which this also tests.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
G=$(uniq_name probe-group); I=$(uniq_name probe-idem); X=$(uniq_name probe-txn)

expect_exit 0 "topics create with 4 partitions" -- "$RTML" topics create "$G" --partitions 4
expect_grep "created topic $G \(partitions 4, replication factor 1\)" "$T/out" "create reports partitions and RF"
expect_exit 0 "topics create with a config" -- "$RTML" topics create "$I" --config retention.ms=3600000
expect_exit 0 "topics create $X" -- "$RTML" topics create "$X"
expect_exit 0 "topics create $X.out" -- "$RTML" topics create "$X.out"
expect_exit 1 "creating an existing topic fails" -- "$RTML" topics create "$X"
expect_grep "already exists" "$T/err" "the error says the topic exists"
expect_exit 0 "--if-not-exists makes it fine" -- "$RTML" topics create "$X" --if-not-exists
expect_exit 0 "topics list" -- "$RTML" topics list
expect_grep "^$G	4$" "$T/out" "list shows the topic with its 4 partitions"
expect_exit 0 "topics describe" -- "$RTML" topics describe "$I"
expect_grep "^topic $I partitions=1 replication_factor=1" "$T/out" "describe shows partitions and RF"
expect_grep "^partition 0 leader=1 replicas=1 isr=1" "$T/out" "describe shows leader, replicas, ISR"
expect_grep "^config retention.ms=3600000" "$T/out" "describe shows the non-default config"
expect_exit 1 "describe of a missing topic fails" -- "$RTML" topics describe "no-such-$RUN_ID"
expect_exit 2 "bad partition count is a usage error" -- "$RTML" topics create x --partitions zero

for probe in "group $G" "idempotent $I" "transactions $X"; do
  set -- $probe
  expect_exit 0 "kafka_probe $1" -- "$KAFKA_PROBE" "$1" "$BROKERS" "$2"
  cat "$T/out"
done

expect_exit 0 "topics delete" -- "$RTML" topics delete "$I"
expect_exit 1 "delete of a missing topic fails" -- "$RTML" topics delete "no-such-$RUN_ID"
expect_exit 0 "delete --if-exists of a missing topic is fine" -- "$RTML" topics delete "no-such-$RUN_ID" --if-exists
for t in "$G" "$X" "$X.out"; do "$RTML" topics delete "$t" >/dev/null; done
echo "kafka_features: all checks passed"
