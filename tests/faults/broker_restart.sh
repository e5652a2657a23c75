#!/usr/bin/env bash
# The broker restarted mid-stream: nothing lost, the pipeline resumes by itself. Two scenarios:
#   1. at_least_once, a dynamic member, the broker down 5 s;
#   2. exactly_once, a static member (group.instance.id) whose session (6 s) expires during a 12 s outage: its
#      partitions are lost and come back when it rejoins; or, depending on timing, librdkafka's rejoin fences its
#      own old membership, a fatal consumer error (librdkafka #3437) after which rtml replaces the consumer
#      (tests/faults/fenced_member.sh makes that case certain).
# A broker of its own (port 29200, a clean data dir, stopped at exit), topics of 3 partitions. 100k SEA
# records are produced at a steady rate (a live stream, not a backlog: rtml would finish a backlog of 100k
# before any outage could hit it) while `rtml run --exit-on-idle` scores them. Once predictions are flowing
# (the output topic holds more than 10k), the broker is stopped, kept down, and started again on the same
# data. Neither rtml nor the producer is touched. Then:
#   - the producer exits 0 (every input record acknowledged) and rtml exits 0 by itself (--exit-on-idle);
#   - every input id has a prediction on the output topic (at least once: duplicates allowed; exactly_once,
#     read_committed: exactly one), each keyed like its input and pointing at an input record with that id;
#   - the group's committed offsets reached the end of every input partition;
#   - rtml's report counts no rejected record (errors == 0) and at least every input record.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
PORT=29200
KAFKA=$RTML_ROOT/scripts/kafka.sh
BROKERS=127.0.0.1:$PORT
export RTML_BROKERS=$BROKERS
N=100000
RATE=4000          # records/s: the stream lasts ~25 s, the outage hits it after ~3 s
IDLE=45            # rtml's --exit-on-idle: longer than the gap the outage leaves in its input. Measured: 10-11 s
                   # without a broker, then up to 9 s until librdkafka reconnected (its backoff grows to 10 s), so
                   # ~20 s; 45 leaves room for a slow broker start on a busy machine.
RUN_PID=; PROD_PID=

cleanup() {
  for p in $RUN_PID $PROD_PID; do kill -TERM "$p" 2>/dev/null || true; done
  "$KAFKA" wipe --port $PORT >/dev/null 2>&1 || true   # stop, and remove its data
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# wait_exit PID SECONDS WHAT: wait for a background job to end (deadline), leave its exit code in $rc.
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "$3 still running after $2 s"
    sleep 0.5
  done
  set +e; wait "$pid"; rc=$?; set -e
}

# end_offsets TOPIC: the sum of the topic's end offsets (an independent client, not rtml's code).
end_offsets() {
  "$PY" - "$BROKERS" "$1" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "rtml-test-watch"})
try:
    parts = c.list_topics(sys.argv[2], timeout=10).topics[sys.argv[2]].partitions
    print(sum(c.get_watermark_offsets(TopicPartition(sys.argv[2], p), timeout=10)[1] for p in parts))
except Exception:
    print(0)  # not answering yet: the caller polls again
c.close()
PY
}

# outage MODE SECONDS [STATIC]: one scenario (see the top of this file).
outage() {
  local mode=$1 OUTAGE=$2 static=${3:-} IN OUT GROUP
  IN=$(uniq_name sea-$mode); OUT=$(uniq_name sea-scored-$mode); GROUP=$(uniq_name restart-$mode)
  echo "== $mode, broker down ${OUTAGE} s${static:+, static member (session 6 s)}"
  "$RTML" topics create "$IN" --partitions 3 >/dev/null
  "$RTML" topics create "$OUT" --partitions 3 >/dev/null
  rm -rf "$T/state"
  write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP"
  sed -i "s/^delivery: at_least_once/delivery: $mode/" "$T/run.yaml"
  [ -z "$static" ] || sed -i "s/^  group.id: .*/&\n  group.instance.id: $GROUP-a\n  session.timeout.ms: 6000/" "$T/run.yaml"

  "$RTML" run -c "$T/run.yaml" --exit-on-idle $IDLE >"$T/report.json" 2>"$T/run.log" &
  RUN_PID=$!
  "$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id --rate $RATE >"$T/produce.out" 2>"$T/produce.err" &
  PROD_PID=$!

  # Predictions are flowing: more than 10k on the output topic (deadline 120 s: joining the group and the first
  # fetches take seconds on a busy machine).
  deadline=$((SECONDS + 120))
  until (( $(end_offsets "$OUT") > 10000 )); do
    ((SECONDS < deadline)) || { tail -20 "$T/run.log" >&2; fail "fewer than 10k predictions after 120 s"; }
    kill -0 $RUN_PID 2>/dev/null || { tail -20 "$T/run.log" >&2; fail "rtml ended before the outage"; }
    sleep 0.5
  done
  before=$(end_offsets "$OUT")
  pass "predictions flowing before the outage ($before on $OUT)"

  t_down=$SECONDS
  "$KAFKA" stop --port $PORT >/dev/null                 # returns once the broker process has exited
  ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "port $PORT still answers after stop"
  kill -0 $RUN_PID 2>/dev/null || fail "rtml ended when the broker went down"
  sleep $OUTAGE    # the injected outage itself: the one fixed pause of this test, nothing waits on it
  "$KAFKA" start --port $PORT >/dev/null || fail "broker did not come back"
  down_s=$((SECONDS - t_down))
  pass "broker down and back: ${down_s} s without a broker (stop, ${OUTAGE} s down, start)"
  # The pipeline resumes by itself: new predictions appear (deadline 120 s; librdkafka reconnects with backoff).
  t_back=$SECONDS; after=$(end_offsets "$OUT")
  until (( $(end_offsets "$OUT") > after )); do
    ((SECONDS < t_back + 120)) || { tail -20 "$T/run.log" >&2; fail "no new prediction within 120 s of the restart"; }
    kill -0 $RUN_PID 2>/dev/null || break   # it may already be done: the checks below say whether all is there
    sleep 0.5
  done
  pass "predictions flowing again within $((SECONDS - t_back)) s of the broker's return"

  wait_exit $PROD_PID 300 "rtml produce"
  PROD_PID=
  ((rc == 0)) || { cat "$T/produce.err" >&2; fail "rtml produce exit $rc across the restart"; }
  expect_grep "produced $N records to $IN: $N acknowledged, 0 failed" "$T/produce.out" "the producer got every input record acknowledged"

  wait_exit $RUN_PID 300 "rtml run"
  RUN_PID=
  ((rc == 0)) || { tail -30 "$T/run.log" >&2; fail "rtml run exit $rc after the restart"; }
  pass "rtml run exited 0 by itself (--exit-on-idle $IDLE)"
  records=$(json_get "$T/report.json" 'r["records"]')
  expect_eq "$(json_get "$T/report.json" 'r["errors"]')" 0 "records rejected"
  expect_eq "$("$PY" -c "print($records >= $N)")" True "records processed $records >= $N"

  "$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl" || fail "reading $IN"
  local iso=read_uncommitted exact=
  [ "$mode" == exactly_once ] && iso=read_committed exact=--exactly-one
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation $iso >"$T/out.jsonl" || fail "reading $OUT"
  "$PY" "$LIB/check_predictions.py" "$T/in.jsonl" "$T/out.jsonl" $N $exact || fail "an input id has no prediction"

  "$PY" "$LIB/committed.py" "$BROKERS" "$GROUP" "$IN" >"$T/committed.json"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d; print("ok: committed offsets at the end of every partition", d)' "$T/committed.json" \
    || fail "committed offsets did not reach the end"
  errs=$(grep -c ' error: ' "$T/run.log" || true); own=$(grep ' error: ' "$T/run.log" | grep -vc ' kafka rdkafka#' || true)
  pass "rtml's log: $errs error line(s), $own of them not librdkafka's connection reports"
  if [ -n "$static" ]; then # the session expired; librdkafka's rejoin fences its old membership only sometimes
    expect_grep "session timed out" "$T/run.log" "the group session expired during the outage"
    pass "rtml went on: $(json_get "$T/report.json" 'r["consumer_rejoins"]') consumer(s) replaced after a fencing"
  fi
  for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
}

"$KAFKA" wipe --port $PORT >/dev/null
"$KAFKA" start --port $PORT >/dev/null || fail "broker on port $PORT did not start"
pass "own broker on $BROKERS, clean data dir"
"$RTML" gen --stream sea --n $N --seed 11 >"$T/sea.jsonl"
outage at_least_once 5
outage exactly_once 12 static
echo "broker_restart: all checks passed"
