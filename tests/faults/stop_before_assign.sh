#!/usr/bin/env bash
# A consumer stopped before its first assignment (librdkafka #4312: with Debian's librdkafka 2.0.2 destroying a
# cooperative-sticky consumer then aborted the process, `Assertion 'assignor_state' failed`; fixed in 2.3.0, and
# rtml now links 2.12.0). In both delivery modes, on a topic holding 20,000 records. To hold the assignment back
# for certain, the group first gets a member that dies: an rtml instance (static, session.timeout.ms 20 s, reading
# an empty topic of its own, so that it learns nothing the others would learn again) is killed once it has its
# partition, so every rebalance of the group waits for its session to expire. Meanwhile `rtml run` is
# stopped with SIGTERM as soon as it says it is running (subscribed, waiting for its assignment), six times in a
# row, then killed with SIGKILL the same way, twice. Each SIGTERM must end with exit 0 and no assertion, and none
# of the eight may have been assigned a partition. Then a run to idle (it gets the partitions once the dead
# member's session expired): every input has a prediction, exactly one under exactly_once (read_committed), and
# the models learned every labelled record once.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
N=20000
sea_stream $N 3 1000000 >"$T/sea.jsonl"

scenario() {
  local mode=$1 IN OUT GROUP early=0
  IN=$(uniq_name sb-$mode-in); OUT=$(uniq_name sb-$mode-out); GROUP=$(uniq_name sb-$mode)
  "$RTML" topics create "$IN" --partitions 3 >/dev/null
  "$RTML" topics create "$OUT" --partitions 3 >/dev/null
  "$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id >/dev/null
  cat >"$T/$mode.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  auto.offset.reset: earliest
$(sea_pipeline "$IN" "$OUT")
delivery: $mode
state: {dir: $T/state-$mode, checkpoint_every: 200ms}
YAML
  "$RTML" topics create "$IN-blocker" --partitions 1 >/dev/null
  sed -e "s/^  group.id: .*/&\n  group.instance.id: $GROUP-blocker\n  session.timeout.ms: 20000/" \
      -e "s|state-$mode|state-$mode-blocker|" -e "s|topics: \[$IN\]|topics: [$IN-blocker]|" \
      "$T/$mode.yaml" >"$T/$mode-blocker.yaml"
  "$RTML" run -c "$T/$mode-blocker.yaml" >/dev/null 2>"$T/blocker.err" &
  local blocker=$!
  wait_for_log "$T/blocker.err" "assigned [1-9]" 60 || { kill -9 $blocker; fail "$mode: the blocker got no partitions"; }
  kill -9 $blocker; wait $blocker 2>/dev/null || true
  for k in 1 2 3 4 5 6 7 8; do
    "$RTML" run -c "$T/$mode.yaml" >/dev/null 2>"$T/stop-$k.err" &
    local pid=$!
    wait_for_log "$T/stop-$k.err" "running:" 60 || { kill -9 $pid; fail "$mode: run $k did not start"; }
    if ((k <= 6)); then
      kill -TERM $pid
      set +e; wait $pid; local rc=$?; set -e
      grep -q "Assertion" "$T/stop-$k.err" && { cat "$T/stop-$k.err" >&2; fail "$mode: run $k aborted in librdkafka"; }
      ((rc == 0)) || { tail "$T/stop-$k.err" >&2; fail "$mode: SIGTERM before the assignment: exit $rc, expected 0"; }
    else
      kill -9 $pid; wait $pid 2>/dev/null || true
    fi
    grep -qE "assigned [1-9]" "$T/stop-$k.err" && fail "$mode: run $k got partitions (the path under test was not taken)"
  done
  pass "$mode: 6 SIGTERMs (exit 0, no assertion) and 2 SIGKILLs before the first assignment"
  expect_exit 0 "$mode: a run to idle after them" -- "$RTML" run -c "$T/$mode.yaml" --exit-on-idle 5
  local iso=read_uncommitted
  [ "$mode" == exactly_once ] && iso=read_committed
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation $iso >"$T/out.jsonl"
  echo -n >"$T/dlq.jsonl"
  "$RTML" state -c "$T/$mode.yaml" >"$T/state.json"
  "$PY" "$RTML_ROOT/tests/faults/lib/check_outputs.py" "$mode" "$T/in.jsonl" "$T/out.jsonl" "$T/dlq.jsonl" \
    "$T/state.json" || fail "$mode: outputs or learned count wrong"
}

scenario exactly_once
scenario at_least_once
echo "stop_before_assign: all checks passed"
