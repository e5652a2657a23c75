#!/usr/bin/env bash
# The group coordinator crashes and is fenced out of the cluster's metadata while rtml runs exactly_once (the
# long campaign's seeds 4150 and 7055): rtml's producer then hung in rd_kafka_send_offsets_to_transaction for
# up to five minutes, its 10-s timeout ignored, logging nothing.
#
# Why (librdkafka #5456 and #5511, open upstream): a broker that drops out of a metadata response is
# decommissioned and its thread ends, but it stays in the coordinator cache; adding the offsets finds it there,
# not up, and waits for a broker state change to try again, and the call's timeout is never checked. Nothing
# changes state until the producer's next periodic metadata refresh (topic.metadata.refresh.interval.ms, 5 min
# by default) brings the restarted broker back. rtml now refreshes the producer's metadata every 10 s under
# exactly_once and closes its connections after 30 s idle (each a state change that restarts the lookup), where
# the kafka section does not set them (src/run/clients.c).
#
# A 3-broker KRaft cluster of its own (scripts/kafka.sh --brokers 3, ports 29130-29132, controllers
# 29140-29142), topics of 3 partitions with replication factor 3. exactly_once, SEA records with labels,
# malformed ones to the dead-letter topic, fed live. Once outputs flow, the node that coordinates rtml's group
# is killed (SIGKILL) and started again 4 s later: while it catches up, the cluster's metadata leaves it out,
# and rtml's producer, whose outputs it led, refreshes its metadata then. Asserts:
#   - the group's committed offsets reach the end of every input partition within 60 s of the last input
#     (before the fix: not within 4 minutes), and rtml exits 0 by itself;
#   - read_committed, through the cluster: every valid input has exactly one prediction, every malformed one
#     exactly one dead letter, and the checkpoint learned every labelled record once.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline, sea_stream
source "$RTML_ROOT/tests/faults/lib/cluster.sh" # wait_for, cluster_py
CPORT0=29130
N=60000
RATE=2000 # records/s: the stream lasts 30 s, the fault and the restart land inside it
KAFKA=("$RTML_ROOT/scripts/kafka.sh")
CL=(--brokers 3 --port "$CPORT0")
ALL="127.0.0.1:$CPORT0,127.0.0.1:$((CPORT0 + 1)),127.0.0.1:$((CPORT0 + 2))"
IN=$(uniq_name coord-in); OUT=$(uniq_name coord-out); DLQ=$(uniq_name coord-dlq); GROUP=$(uniq_name coord)
RUN_PID= PROD_PID=
cleanup() {
  local pid
  for pid in $RUN_PID $PROD_PID; do kill -9 "$pid" 2>/dev/null || true; done
  "${KAFKA[@]}" wipe "${CL[@]}" >/dev/null 2>&1 || true
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

started=$SECONDS
"${KAFKA[@]}" wipe "${CL[@]}" >/dev/null
"${KAFKA[@]}" start "${CL[@]}" >"$T/cluster.log" || { cat "$T/cluster.log" >&2; fail "the 3-broker cluster did not start"; }
pass "3-broker cluster up on $ALL ($((SECONDS - started)) s)"
for t in "$IN" "$OUT" "$DLQ"; do
  "$RTML" topics create "$t" --partitions 3 --replication-factor 3 --brokers "$ALL" >/dev/null
done
sea_stream $N 5 2000 >"$T/in.jsonl"
cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $ALL
  group.id: $GROUP
  group.instance.id: $GROUP-a
  auto.offset.reset: earliest
$(sea_pipeline "$IN" "$OUT" '{engine: native, type: logistic, optimizer: {name: adam, learning_rate: 0.01}}')
delivery: exactly_once
state: {dir: $T/state, checkpoint_every: 500ms}
dead_letter: {topic: $DLQ}
YAML

"$RTML" run -c "$T/run.yaml" --exit-on-idle 15 >"$T/run.out" 2>"$T/run.err" &
RUN_PID=$!
wait_for_log "$T/run.err" "assigned [1-9]" 60 || fail "rtml got no partitions"
"$RTML" produce --brokers "$ALL" --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate $RATE \
  >"$T/produce.out" 2>"$T/produce.err" &
PROD_PID=$!
flowing() { kill -0 $RUN_PID 2>/dev/null || { tail -20 "$T/run.err" >&2; fail "rtml ended before the fault"; }; cluster_py "$ALL" count "$OUT" 2000; }
wait_for "2000 predictions on $OUT" 60 flowing
node=$(cluster_py "$ALL" coordinator "$GROUP")
[[ "$node" =~ ^[123]$ ]] || fail "no coordinator for group $GROUP (got '$node')"
"${KAFKA[@]}" kill-node "$node" "${CL[@]}" >"$T/fault.log"
killed_at=$SECONDS
sleep 4 # the campaign's seed 7055: down for 3.91 s, back before its session ends (a fault's length, not a wait)
"${KAFKA[@]}" start-node "$node" "${CL[@]}" >"$T/restart.log" || { cat "$T/restart.log" >&2; fail "node $node did not restart"; }
echo "injected: SIGKILL to node $node, the coordinator of $GROUP; started again 4 s later, back after $((SECONDS - killed_at)) s"

set +e; wait $PROD_PID; prod_rc=$?; set -e
PROD_PID=
[ $prod_rc == 0 ] || { cat "$T/produce.err" >&2; fail "rtml produce exited $prod_rc"; }
at_end() {
  kill -0 $RUN_PID 2>/dev/null || return 0 # it ended: the checks below say whether it committed everything
  "$PY" "$LIB/committed.py" "$ALL" "$GROUP" "$IN" 2>/dev/null |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(c==e for c,e in d.values()) else 1)'
}
if ! (wait_for "committed offsets at the end of $IN after the last input" 60 at_end); then
  tail -5 "$T/run.err" >&2
  fail "rtml stopped committing (a transaction call blocked past its timeout?)"
fi
pass "committed offsets at the end of every partition of $IN"
deadline=$((SECONDS + 90))
while kill -0 $RUN_PID 2>/dev/null; do ((SECONDS < deadline)) || fail "rtml still running 90 s after the end"; sleep 0.5; done
set +e; wait $RUN_PID; rc=$?; set -e
RUN_PID=
[ $rc == 0 ] || { grep -E " (warn|error): " "$T/run.err" | tail -20 >&2; fail "rtml exited $rc"; }
pass "rtml exited 0 by itself"

"$PY" "$LIB/read_topic.py" "$ALL" "$IN" >"$T/in-topic.jsonl"
"$PY" "$LIB/read_topic.py" "$ALL" "$OUT" --isolation read_committed >"$T/out.jsonl"
"$PY" "$LIB/read_topic.py" "$ALL" "$DLQ" --isolation read_committed --headers >"$T/dlq.jsonl"
"$RTML" state -c "$T/run.yaml" >"$T/state.json" || fail "no checkpoint after the run"
"$PY" "$RTML_ROOT/tests/faults/lib/check_outputs.py" exactly_once "$T/in-topic.jsonl" "$T/out.jsonl" \
  "$T/dlq.jsonl" "$T/state.json" || fail "outputs, dead letters or learned count wrong after the coordinator's crash"
echo "coordinator_lost: all checks passed ($((SECONDS - started)) s)"
