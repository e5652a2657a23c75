#!/usr/bin/env bash
# Fault: the leader of an input partition dies mid-stream, in a replicated cluster.
#
# A 3-broker KRaft cluster of its own (scripts/kafka.sh --brokers 3, ports 29100-29102 and controllers
# 29110-29112, or from $RTML_FAULT_CLUSTER_PORT), an input topic with 3 partitions and an output topic, both
# RF 3 (min.insync.replicas 2). 100k SEA records are produced at a fixed rate (acks=all, idempotent) while
# `rtml run` (kafka acks: all) scores them, so the stream is live when the fault hits. Once predictions are
# flowing, the broker that leads input partition 0 is killed (SIGKILL, a crash; RTML_FAULT_SIGNAL=TERM makes it
# a clean stop instead). Asserts:
#   - the producer still gets every record acknowledged, and rtml exits 0 by itself (--exit-on-idle) with no
#     rejected record;
#   - every input id has at least one prediction (at least once: duplicates allowed), read back through the
#     two surviving brokers only, with the input's key and source coordinates;
#   - the group's committed offsets reached the end of every input partition;
#   - the killed node restarts and rejoins: every partition of both topics has 3 in-sync replicas again.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline
source "$RTML_ROOT/tests/faults/lib/cluster.sh" # wait_for, cluster_py
CPORT0=${RTML_FAULT_CLUSTER_PORT:-29100}
SIGNAL=${RTML_FAULT_SIGNAL:-KILL}
N=100000
RATE=2500 # records/s: the stream lasts ~40 s, so the fault lands in the middle of it
KAFKA=("$RTML_ROOT/scripts/kafka.sh")
CL=(--brokers 3 --port "$CPORT0")
ALL="127.0.0.1:$CPORT0,127.0.0.1:$((CPORT0 + 1)),127.0.0.1:$((CPORT0 + 2))"
IN=$(uniq_name leader-in); OUT=$(uniq_name leader-out); GROUP=$(uniq_name leader)
case "$SIGNAL" in KILL) fault=kill-node ;; TERM) fault=stop-node ;; *) fail "RTML_FAULT_SIGNAL must be KILL or TERM" ;; esac

RUN_PID= PROD_PID=
cleanup() {
  local pid
  for pid in $RUN_PID $PROD_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $RUN_PID $PROD_PID; do wait "$pid" 2>/dev/null || true; done
  "${KAFKA[@]}" wipe "${CL[@]}" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
alive() { kill -0 "$1" 2>/dev/null; }

started=$SECONDS
"${KAFKA[@]}" wipe "${CL[@]}" >/dev/null
"${KAFKA[@]}" start "${CL[@]}" >"$T/cluster.log" || { cat "$T/cluster.log" >&2; fail "the 3-broker cluster did not start"; }
pass "3-broker cluster up on $ALL ($((SECONDS - started)) s)"

"$RTML" topics create "$IN" --partitions 3 --replication-factor 3 --brokers "$ALL" >/dev/null
"$RTML" topics create "$OUT" --partitions 3 --replication-factor 3 --brokers "$ALL" >/dev/null
pass "topics $IN (3 partitions) and $OUT (3 partitions), replication factor 3"
"$RTML" gen --stream sea --n $N --seed 7 >"$T/sea.jsonl"

cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $ALL
  group.id: $GROUP
  auto.offset.reset: earliest
  acks: all
$(sea_pipeline "$IN" "$OUT")
delivery: at_least_once
state: {dir: $T/state}
YAML

# The producer is idempotent (so acks=all) and paced, and runs alongside rtml: records keep arriving on every
# partition while the leader is gone.
"$RTML" produce --brokers "$ALL" --topic "$IN" --input "$T/sea.jsonl" --key-field /id --rate $RATE \
  >"$T/produce.out" 2>"$T/produce.err" &
PROD_PID=$!
"$RTML" run -c "$T/run.yaml" --exit-on-idle 15 >"$T/report.json" 2>"$T/run.err" &
RUN_PID=$!

# The condition for the fault: predictions are flowing (and rtml has not died, which would make waiting moot).
flowing() { alive $RUN_PID || { tail -20 "$T/run.err" >&2; fail "rtml run ended before the fault"; }; cluster_py "$ALL" count "$OUT" 10000; }
wait_for "10000 predictions on $OUT" 90 flowing
alive $PROD_PID || fail "the producer ended before the fault (the stream should last ~$((N / RATE)) s)"
leader=$(cluster_py "$ALL" leader "$IN")
[[ "$leader" =~ ^[123]$ ]] || fail "no leader for $IN/0 (got '$leader')"
"${KAFKA[@]}" "$fault" "$leader" "${CL[@]}" >"$T/fault.log"
echo "injected: SIG$SIGNAL to node $leader (127.0.0.1:$((CPORT0 + leader - 1))), the leader of $IN/0, $((SECONDS - started)) s in, with 10000+ predictions out"
SURVIVORS=$(for k in 1 2 3; do ((k == leader)) || printf '127.0.0.1:%d,' $((CPORT0 + k - 1)); done)
SURVIVORS=${SURVIVORS%,}
new_leader() { local l; l=$(cluster_py "$SURVIVORS" leader "$IN") && [[ "$l" =~ ^[123]$ ]] && ((l != leader)); }
wait_for "a new leader for $IN/0" 60 new_leader
pass "partition 0 of $IN moved to node $(cluster_py "$SURVIVORS" leader "$IN")"

set +e
wait $PROD_PID; prod_rc=$?
PROD_PID=
wait $RUN_PID; run_rc=$?
RUN_PID=
set -e
[ $prod_rc == 0 ] || { cat "$T/produce.err" >&2; fail "rtml produce exited $prod_rc"; }
expect_grep "produced $N records to $IN: $N acknowledged, 0 failed" "$T/produce.out" "producer: every record acknowledged through the fault"
[ $run_rc == 0 ] || { tail -30 "$T/run.err" >&2; fail "rtml run exited $run_rc"; }
pass "rtml run exited 0 by itself ($((SECONDS - started)) s in)"
records=$(json_get "$T/report.json" 'r["records"]')
expect_eq "$("$PY" -c "print($records >= $N)")" True "records processed $records >= $N (more means redelivered after the fault)"
expect_eq "$(json_get "$T/report.json" 'r["errors"]')" 0 "records rejected"
grep -E "warn|error" "$T/run.err" | sed -n 1,5p | sed 's/^/  rtml said: /' || true

"$PY" "$LIB/read_topic.py" "$SURVIVORS" "$IN" >"$T/in.jsonl" || fail "cannot read $IN back through $SURVIVORS"
"$PY" "$LIB/read_topic.py" "$SURVIVORS" "$OUT" >"$T/out.jsonl" || fail "cannot read $OUT back through $SURVIVORS"
"$PY" "$LIB/check_predictions.py" "$T/in.jsonl" "$T/out.jsonl" $N || fail "predictions do not cover the inputs"

"$PY" "$LIB/committed.py" "$SURVIVORS" "$GROUP" "$IN" >"$T/committed.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d; print("ok: committed offsets at the end of every partition", d)' "$T/committed.json" \
  || fail "committed offsets did not reach the end: $(cat "$T/committed.json")"

"${KAFKA[@]}" start-node "$leader" "${CL[@]}" >"$T/restart.log" || { cat "$T/restart.log" >&2; fail "node $leader did not restart"; }
wait_for "3 in-sync replicas again on $IN and $OUT" 90 cluster_py "$ALL" full_isr "$IN" "$OUT"
pass "node $leader restarted and caught up: 3 in-sync replicas on every partition"
echo "cluster_leader: all checks passed ($((SECONDS - started)) s)"
