#!/usr/bin/env bash
# A stop while exactly_once waits for committed offsets that another producer's open transaction holds (read
# while reviewing the long campaign's seed 8116). Under exactly_once rtml reads its partitions' committed offsets
# with require_stable and waits as long as a transaction has offsets pending for them; a SIGTERM ends that wait
# with the offsets unknown. The partitions were then started from the checkpoint's positions (or, with no
# checkpoint, from auto.offset.reset), as if nothing had been committed: a record fetched in the same poll was
# answered again and its transaction committed, an offset moved backwards.
#
# Made certain here: a run answers the whole topic and commits its end; a stock client (confluent-kafka) opens a
# transaction, adds offsets for the same group and dies without ending it, so the coordinator holds them as
# pending until transaction.timeout.ms (30 s); rtml starts with no checkpoint (its state.dir removed), so the
# unknown start is the topic's beginning, and gets SIGTERM once it says it is waiting. Checked: it exits 0, says it
# left the partitions for the next run, and read_committed the output still has exactly one prediction per input.
# Then a next run waits for the coordinator to abort the stranger's transaction, starts at the committed offsets
# (the topic's end) and answers nothing again.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
N=3000
IN=$(uniq_name su-in); OUT=$(uniq_name su-out); GROUP=$(uniq_name su)
sea_stream $N 5 1000000 >"$T/in.jsonl"
"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id >/dev/null
{
  printf 'kafka:\n  bootstrap.servers: %s\n  group.id: %s\n  auto.offset.reset: earliest\n' "$BROKERS" "$GROUP"
  sea_pipeline "$IN" "$OUT"
  printf 'delivery: exactly_once\nstate: {dir: %s/state, checkpoint_every: 1h}\n' "$T"
} >"$T/run.yaml"

expect_exit 0 "a first run answers the topic" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 3
count() { "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed | wc -l; }
expect_eq "$(count)" $N "predictions after the first run (read_committed)"

# A transaction that adds offsets for the group and is never ended: its producer exits without a word.
"$PY" - "$BROKERS" "$GROUP" "$IN" <<'PY'
import os, sys
from confluent_kafka import Consumer, Producer, TopicPartition
boot, group, topic = sys.argv[1:4]
c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
p = Producer({"bootstrap.servers": boot, "transactional.id": f"{group}-stranger", "transaction.timeout.ms": 30000})
p.init_transactions(30)
p.begin_transaction()
p.send_offsets_to_transaction([TopicPartition(topic, k, 1) for k in range(3)], c.consumer_group_metadata(), 30)
print("pending offsets sent", flush=True)
os._exit(0)  # no commit, no abort: the coordinator keeps them pending until the transaction times out
PY
"$PY" - "$BROKERS" "$GROUP" "$IN" >"$T/unstable.txt" <<'PY'
import sys
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
boot, group, topic = sys.argv[1:4]
a = AdminClient({"bootstrap.servers": boot})
req = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, k) for k in range(3)])]
try:
    res = a.list_consumer_group_offsets(req, require_stable=True, request_timeout=5)[group].result(timeout=10)
    print("; ".join(f"{tp.partition}: {tp.error.str() if tp.error else tp.offset}" for tp in res.topic_partitions))
except Exception as e:
    print(f"failed: {e}")
PY
expect_grep "unstable offsets" "$T/unstable.txt" "the group's offsets are held by the open transaction"

rm -rf "$T/state" # no checkpoint: an unknown start would be the topic's beginning
"$RTML" run -c "$T/run.yaml" --exit-on-idle 30 >"$T/run2.out" 2>"$T/run2.err" &
run=$!
wait_for_log "$T/run2.err" "waiting [0-9]+ s for the committed offsets" 60 ||
  { kill -9 $run; cat "$T/run2.err" >&2; fail "rtml did not wait for the pending offsets"; }
kill -TERM $run
set +e; wait $run; rc=$?; set -e
[ $rc -eq 0 ] || { cat "$T/run2.err" >&2; fail "rtml stopped while waiting: exit $rc, expected 0"; }
pass "stopped while waiting: exit 0"
expect_eq "$(count)" $N "predictions after the stop (read_committed): none answered again"
expect_grep "stopping before the committed offsets were read" "$T/run2.err" "it says the partitions are left for the next run"
"$RTML" run -c "$T/run.yaml" --exit-on-idle 5 >"$T/run3.out" 2>"$T/run3.err" || { cat "$T/run3.err" >&2; fail "the next run failed"; }
expect_eq "$(grep -cE "/[0-2]: committed ([1-9][0-9]*), learned up to \1: starting at \1$" "$T/run3.err")" 3 \
  "partitions the next run starts at their committed offsets"
expect_eq "$(count)" $N "predictions after the next run (read_committed)"
