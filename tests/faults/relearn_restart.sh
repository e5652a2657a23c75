#!/usr/bin/env bash
# A restart whose checkpoint is far older than the last commit, with partitions that catch up unevenly
# (issue 18's regression test): committed offsets never move backwards, and under exactly_once no output
# is repeated.
#
# Input: 3 partitions, partition 1 long (200k records), partitions 0 and 2 short (500 each). The first run
# checkpoints only at its start (checkpoint_every: 1h), answers and commits everything, and is killed with
# SIGKILL: its checkpoint has learned nothing, the group has committed every offset. 3,000 more records then
# go to each short partition, and a second run resumes. It must learn every partition again from its start
# (without answering), and answer only the new records. Partitions 0 and 2 pass their committed offsets and
# open transactions (exactly_once) or store offsets (at_least_once) while partition 1 still re-learns far
# below its own; that commit must not carry partition 1 backwards. (It did: partition 1's group offset went
# back to where its re-learning stood, the next commit made that its new "answered up to", and the records in
# between were answered a second time: 80,243 predictions for 80,000 inputs in the report.)
#
# Checked by independent clients: the committed offsets, sampled every 50 ms during the second run, never
# decrease; every input has a prediction (exactly one under exactly_once) read back with read_committed; the
# malformed ones are dead letters; the model learned every labelled record exactly once.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
SAMPLER=$RTML_ROOT/tests/chaos/lib/sample_committed.py
SAMPLER_PID=
trap '[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

LONG=200000 SHORT=500 MORE=3000

# committed_all GROUP TOPIC: 0 when the group's committed offset is the end of every partition.
committed_all() {
  "$PY" "$LIB/committed.py" "$BROKERS" "$1" "$2" |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(c == e for c, e in d.values()) else 1)'
}

scenario() {
  local mode=$1 IN OUT DLQ GROUP
  IN=$(uniq_name rl-$mode-in); OUT=$(uniq_name rl-$mode-out); DLQ=$(uniq_name rl-$mode-dlq); GROUP=$(uniq_name rl-$mode)
  "$RTML" topics create "$IN" --partitions 3 >/dev/null
  "$RTML" topics create "$OUT" --partitions 3 >/dev/null
  "$RTML" topics create "$DLQ" --partitions 1 >/dev/null
  sea_stream $((LONG + 2 * SHORT + 2 * MORE)) 7 997 >"$T/all.jsonl"
  sed -n "1,${LONG}p" "$T/all.jsonl" >"$T/p1.jsonl"
  sed -n "$((LONG + 1)),$((LONG + SHORT))p" "$T/all.jsonl" >"$T/p0.jsonl"
  sed -n "$((LONG + SHORT + 1)),$((LONG + 2 * SHORT))p" "$T/all.jsonl" >"$T/p2.jsonl"
  sed -n "$((LONG + 2 * SHORT + 1)),$((LONG + 2 * SHORT + MORE))p" "$T/all.jsonl" >"$T/p0-more.jsonl"
  sed -n "$((LONG + 2 * SHORT + MORE + 1)),\$p" "$T/all.jsonl" >"$T/p2-more.jsonl"
  for p in 0 1 2; do "$RTML" produce --topic "$IN" --partition $p --key-field /id --input "$T/p$p.jsonl" >/dev/null; done
  cat >"$T/$mode.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  group.instance.id: $GROUP-instance
  session.timeout.ms: 6000
  auto.offset.reset: earliest
$([ "$mode" == at_least_once ] && echo "  auto.commit.interval.ms: 100   # commits while partition 1 re-learns")
$(sea_pipeline "$IN" "$OUT" '{engine: native, type: logistic, optimizer: {name: adam, learning_rate: 0.01}}')
delivery: $mode
state: {dir: $T/state-$mode, checkpoint_every: 1h}
dead_letter: {topic: $DLQ}
YAML

  # Run 1: answers and commits everything, checkpoints only at its start, then dies.
  "$RTML" run -c "$T/$mode.yaml" >"$T/run1.out" 2>"$T/run1.err" &
  local pid=$! deadline=$((SECONDS + 120))
  until committed_all "$GROUP" "$IN"; do
    ((SECONDS < deadline)) || { kill -9 $pid; tail -20 "$T/run1.err" >&2; fail "$mode: run 1 did not commit every offset in 120 s"; }
    kill -0 $pid 2>/dev/null || { tail -20 "$T/run1.err" >&2; fail "$mode: run 1 ended by itself"; }
    sleep 0.2
  done
  kill -9 $pid; wait $pid 2>/dev/null || true
  pass "$mode: run 1 committed all $((LONG + 2 * SHORT)) inputs, then was killed (its checkpoint learned nothing)"

  # Run 2, while the short partitions grow.
  "$RTML" produce --topic "$IN" --partition 0 --key-field /id --input "$T/p0-more.jsonl" >/dev/null
  "$RTML" produce --topic "$IN" --partition 2 --key-field /id --input "$T/p2-more.jsonl" >/dev/null
  rm -f "$T/samples-$mode.jsonl"
  "$PY" "$SAMPLER" "$BROKERS" "$GROUP" "$IN" "$T/samples-$mode.jsonl" --every 0.05 &
  SAMPLER_PID=$!
  wait_for_log "$T/samples-$mode.jsonl" '"0": ' 60 || fail "$mode: the sampler read no committed offset in 60 s"
  expect_exit 0 "$mode: run 2 until idle" -- "$RTML" run -c "$T/$mode.yaml" --exit-on-idle 5
  kill $SAMPLER_PID; wait $SAMPLER_PID 2>/dev/null || true; SAMPLER_PID=
  expect_grep "$IN/1: committed $LONG, learned up to 0: starting at 0" "$T/err" \
    "$mode: run 2 learns partition 1 again from 0 without answering it (committed $LONG)"

  "$PY" - "$T/samples-$mode.jsonl" <<'PY' || fail "$mode: a committed offset moved backwards"
import sys
sys.path.insert(0, __import__("os").environ["RTML_ROOT"] + "/tests/chaos/lib")
from sample_committed import check_monotonic, count
bad = check_monotonic(sys.argv[1])
for p, t, before, after in bad[:5]:
    print(f"partition {p}: committed {before} -> {after} at {t:.3f}", file=sys.stderr)
n = count(sys.argv[1])
assert n >= 10, f"only {n} samples"
sys.exit(1 if bad else 0)
PY
  pass "$mode: committed offsets never decreased ($(grep -c . "$T/samples-$mode.jsonl") samples)"

  local iso=read_uncommitted
  [ "$mode" == exactly_once ] && iso=read_committed
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation $iso >"$T/out.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$DLQ" --isolation $iso --headers >"$T/dlq.jsonl"
  "$RTML" state -c "$T/$mode.yaml" >"$T/state.json"
  "$PY" "$RTML_ROOT/tests/faults/lib/check_outputs.py" "$mode" "$T/in.jsonl" "$T/out.jsonl" "$T/dlq.jsonl" \
    "$T/state.json" || fail "$mode: outputs, dead letters or learned count wrong"
  for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics delete "$t" >/dev/null; done
}

# A handover while re-learning: instance A restarts from a checkpoint that learned nothing, on two partitions
# whose outputs are all committed, read in small fetches (1 KB: about 10k records/s, so re-learning takes
# seconds), and is frozen (SIGSTOP) as soon as it has them; instance B joins the group; A, thawed, must hand one
# partition over in the middle of re-learning it. B starts at the committed
# offset, so A must finish re-learning that partition first (it reads the rest with a reader of its own):
# otherwise no model would ever learn the records in between. Then the two models together learned every
# labelled record exactly once, and every input has exactly one prediction.
handover_mid_relearn() {
  local IN OUT GROUP
  IN=$(uniq_name rl-ho-in); OUT=$(uniq_name rl-ho-out); GROUP=$(uniq_name rl-ho)
  "$RTML" topics create "$IN" --partitions 2 >/dev/null
  "$RTML" topics create "$OUT" --partitions 3 >/dev/null
  sea_stream 100000 9 1000000 >"$T/ho.jsonl"
  "$RTML" produce --topic "$IN" --key-field /id --input "$T/ho.jsonl" >/dev/null
  for who in a b; do
    cat >"$T/ho-$who.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
$([ $who == a ] && echo "  group.instance.id: $GROUP-a")
  auto.offset.reset: earliest
  fetch.message.max.bytes: 1024
  heartbeat.interval.ms: 100   # A hears of B's join at once when thawed
$(sea_pipeline "$IN" "$OUT")
delivery: exactly_once
state: {dir: $T/ho-state-$who, checkpoint_every: 1h}
YAML
  done
  "$RTML" run -c "$T/ho-a.yaml" >"$T/ho-a1.out" 2>"$T/ho-a1.err" &
  local pid=$! deadline=$((SECONDS + 120))
  until committed_all "$GROUP" "$IN"; do
    ((SECONDS < deadline)) || { kill -9 $pid; fail "handover: run 1 did not commit every offset in 120 s"; }
    sleep 0.2
  done
  kill -9 $pid; wait $pid 2>/dev/null || true
  "$RTML" run -c "$T/ho-a.yaml" --exit-on-idle 6 >"$T/ho-a2.out" 2>"$T/ho-a2.err" &
  local a=$!
  wait_for_log "$T/ho-a2.err" "assigned 2 partition" 60 || fail "handover: A's restart got no partitions"
  kill -STOP $a
  "$RTML" run -c "$T/ho-b.yaml" --exit-on-idle 6 >"$T/ho-b.out" 2>"$T/ho-b.err" &
  local b=$!
  wait_for_log "$T/ho-b.err" "running:" 60 || fail "handover: B did not start"
  sleep 1 # B's JoinGroup reaches the coordinator (the injected timing)
  kill -CONT $a
  wait $a || { tail "$T/ho-a2.err" >&2; fail "handover: A failed"; }
  wait $b || { tail "$T/ho-b.err" >&2; fail "handover: B failed"; }
  local learned labelled
  learned=$(( $("$RTML" state -c "$T/ho-a.yaml" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["learned"])') +
              $("$RTML" state -c "$T/ho-b.yaml" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["learned"])') ))
  labelled=$(grep -c '"label"' "$T/ho.jsonl")
  expect_eq "$learned" "$labelled" "A and B together learned every labelled record once"
  expect_grep "re-learned up to its committed offset [0-9]+ before the handover" "$T/ho-a2.err" \
    "A finished re-learning the partition it handed over before it went"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/ho-in.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed >"$T/ho-out.jsonl"
  "$PY" "$LIB/check_predictions.py" "$T/ho-in.jsonl" "$T/ho-out.jsonl" 100000 --exactly-one ||
    fail "handover: not exactly one prediction per input"
  for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
}

for mode in ${RELEARN_MODES:-exactly_once at_least_once}; do scenario "$mode"; done
handover_mid_relearn
echo "relearn_restart: all checks passed"
