#!/usr/bin/env bash
# A static member fenced: rtml replaces a consumer whose group.instance.id was taken over once, and stops when it
# is taken over again within a minute (another consumer really uses it).
#
# librdkafka makes a fenced static membership a fatal consumer error. It happens to rtml alone after a broker
# outage longer than session.timeout.ms (librdkafka #3437: its rejoin fences its own old membership, depending on
# timing); here a stock consumer (confluent-kafka) joins the group with rtml's group.instance.id, which fences
# rtml's membership for certain. Checked, exactly_once, on a live stream:
#   1. rtml says its consumer was fenced, replaces it (which fences the intruder in turn), and answers again;
#   2. the intruder comes back within the minute: rtml stops with exit 1 naming the group.instance.id that
#      another consumer uses;
#   3. read_committed, no input has two predictions, and rtml's restart with the intruder gone answers every
#      input: nothing lost, nothing twice.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
IN=$(uniq_name fm-in); OUT=$(uniq_name fm-out); GROUP=$(uniq_name fm)
N=60000
"$RTML" topics create "$IN" --partitions 2 >/dev/null
"$RTML" topics create "$OUT" --partitions 2 >/dev/null
"$RTML" gen --stream sea --n $N --seed 5 >"$T/in.jsonl"
cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  group.instance.id: $GROUP-a
  session.timeout.ms: 6000
  heartbeat.interval.ms: 500
  auto.offset.reset: earliest
$(sea_pipeline "$IN" "$OUT")
delivery: exactly_once
state: {dir: $T/state, checkpoint_every: 200ms}
YAML
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

# intrude: a confluent-kafka consumer with rtml's group.instance.id, until it is fenced itself (or 60 s).
intrude() {
  "$PY" - "$BROKERS" "$GROUP" "$GROUP-a" "$IN" <<'PY'
import sys, time
from confluent_kafka import Consumer, KafkaError, KafkaException
boot, group, instance, topic = sys.argv[1:5]
fatal = []
c = Consumer({"bootstrap.servers": boot, "group.id": group, "group.instance.id": instance, "log_level": 0,
              "error_cb": lambda e: fatal.append(e.str()) if e.fatal() else None,
              "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "enable.auto.commit": False,
              "partition.assignment.strategy": "cooperative-sticky"})
c.subscribe([topic])
deadline = time.time() + 60
try:
    while time.time() < deadline:
        m = c.poll(0.2)
        if m is not None and m.error() and m.error().code() == KafkaError._FATAL:
            fatal.append(m.error().str())
        if fatal:
            print(f"intruder: {fatal[0]}")
            sys.exit(0)
except KafkaException as e:
    print(f"intruder: {e}")
    sys.exit(0)
print("intruder: never fenced")
sys.exit(1)
PY
}

"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 3000 >"$T/produce.log" 2>&1 &
producer=$!; pids+=($producer)
"$RTML" run -c "$T/run.yaml" >"$T/run.out" 2>"$T/run.err" &
run=$!; pids+=($run)
wait_for_log "$T/run.err" "assigned [1-9]" 60 || fail "rtml got no partitions"

assignments() { grep -c "assigned [1-9]" "$T/run.err" || true; }
before=$(assignments)
intrude >"$T/intruder1.log" 2>&1 || { cat "$T/intruder1.log" >&2; fail "the first intruder was never fenced"; }
expect_grep "fenced" "$T/intruder1.log" "the intruder took rtml's group.instance.id, then was fenced by rtml's new consumer"
expect_grep "the consumer was fenced.*a new consumer joins the group" "$T/run.err" "rtml said its consumer was fenced, and replaced it"
deadline=$((SECONDS + 60))
until (( $(assignments) > before )); do
  kill -0 $run 2>/dev/null || { tail "$T/run.err" >&2; fail "rtml stopped after the first fencing"; }
  ((SECONDS < deadline)) || fail "rtml's new consumer got no partitions within 60 s"
  sleep 0.2
done
pass "rtml's new consumer has partitions again"

intrude >"$T/intruder2.log" 2>&1 & # it keeps the id: nothing fences it back
intruder=$!; pids+=($intruder)
deadline=$((SECONDS + 60))
while kill -0 $run 2>/dev/null; do ((SECONDS < deadline)) || fail "rtml still running 60 s after the second fencing"; sleep 0.2; done
set +e; wait $run; rc=$?; set -e
expect_eq "$rc" 1 "rtml fenced again within a minute: exit status"
expect_grep "fenced again .* another consumer uses group.instance.id $GROUP-a" "$T/run.err" "the error names the group.instance.id"
kill $intruder 2>/dev/null || true

wait $producer || fail "producing failed"
expect_exit 0 "rtml restarted with the intruder gone, until idle" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 6
"$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in-topic.jsonl"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed >"$T/out.jsonl"
"$PY" "$LIB/check_predictions.py" "$T/in-topic.jsonl" "$T/out.jsonl" $N --exactly-one || fail "not exactly one prediction per input"
echo "fenced_member: all checks passed"
