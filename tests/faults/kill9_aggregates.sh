#!/usr/bin/env bash
# kill -9 of `rtml run` with per-key aggregates (docs/features.md), in both delivery modes: every answer equals a
# crash-free run's. The stream: 40,000 records of 1,500 cards (keyed by card: the aggregates' key is the Kafka key),
# event times out of order by up to 20 s, produced into one partition (one order: a crash-free run is then
# `rtml replay` of the same file). rtml (checkpoints every 200 ms, output.features: the aggregates as served) is
# killed with SIGKILL at random moments four times, then runs until idle. An independent consumer reads the
# predictions back: under exactly_once exactly one per input, under at_least_once at least one; and every one of
# them (duplicates included) has the prediction, score, model version and feature values of the replay's answer
# to the same record: no aggregate counted a record twice or missed one, and the model learned each label once.
set -euo pipefail
source "$RTML_ROOT/tests/lib/common.sh"

N=40000
"$PY" "$RTML_ROOT/tests/parity/lib/aggregates_ref.py" gen "$T/stream.jsonl" $N 1500 7 --disorder 20

config() { # FILE IN OUT GROUP MODE STATE
  cat >"$1" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $4
  group.instance.id: $4-instance
  session.timeout.ms: 6000
  auto.offset.reset: earliest
input: {topics: [$2], format: json}
aggregates:
  time: /ts_ms
  lateness: 30s
  list:
    - {name: cnt_10m, key: "@key", fn: count, window: 10m}
    - {name: mean_1h, key: "@key", field: /amount, fn: mean, window: 1h}
    - {name: distinct_1h, key: "@key", field: /merchant, fn: distinct, window: 1h}
    - {name: since_last, key: "@key", fn: time_since_last}
    - {name: ewm, key: "@key", field: /amount, fn: sum, half_life: 30m}
features:
  - {name: cnt_10m, aggregate: cnt_10m, transforms: [log1p]}
  - {name: mean_1h, aggregate: mean_1h, transforms: [{impute: 0}, log1p, standardize]}
  - {name: distinct_1h, aggregate: distinct_1h}
  - {name: since_last, aggregate: since_last, transforms: [{impute: 86400}, log1p, standardize]}
  - {name: ewm, aggregate: ewm, transforms: [log1p]}
  - {name: amount, transforms: [log1p, standardize]}
label: {field: /y}
model: {type: logistic, optimizer: {name: adam, learning_rate: 0.01}}
output: {topic: $3, format: json, features: true}
delivery: $5
state: {dir: $6, checkpoint_every: 200ms}
YAML
}

scenario() {
  local mode=$1 kills=$2 IN OUT GROUP
  IN=$(uniq_name agg9-$mode-in); OUT=$(uniq_name agg9-$mode-out); GROUP=$(uniq_name agg9-$mode)
  "$RTML" topics create "$IN" --partitions 1 >/dev/null
  "$RTML" topics create "$OUT" --partitions 2 >/dev/null
  config "$T/$mode.yaml" "$IN" "$OUT" "$GROUP" "$mode" "$T/state-$mode"
  # replay has no Kafka key: its config reads the card field where run reads the key
  sed -e 's|key: "@key"|key: /card|' -e "s|dir: $T/state-$mode|dir: $T/replay-state-$mode|" "$T/$mode.yaml" >"$T/replay-$mode.yaml"
  expect_exit 0 "$mode: the crash-free answers (rtml replay)" -- \
    "$RTML" replay -c "$T/replay-$mode.yaml" --input "$T/stream.jsonl" --output "$T/ref-$mode.jsonl"
  "$RTML" produce --topic "$IN" --input "$T/stream.jsonl" --key-field /card --rate 6000 >"$T/produce.log" 2>&1 &
  local producer=$! k pid
  for ((k = 1; k <= kills; k++)); do
    "$RTML" run -c "$T/$mode.yaml" >"$T/run-$mode-$k.out" 2>"$T/run-$mode-$k.err" &
    pid=$!
    wait_for_log "$T/run-$mode-$k.err" "assigned [1-9]" 90 || { kill -9 $pid; cat "$T/run-$mode-$k.err" >&2; fail "run $k never got its partition"; }
    sleep "$("$PY" -c 'import random; print(round(random.uniform(0.3, 1.5), 2))')"
    kill -9 $pid 2>/dev/null || fail "rtml exited before kill $k (see $T/run-$mode-$k.err)"
    wait $pid 2>/dev/null || true
    echo "injected: kill -9 #$k ($mode)"
  done
  wait $producer || { cat "$T/produce.log" >&2; fail "producing the stream failed"; }
  expect_exit 0 "$mode: rtml run after $kills kills, until idle" -- "$RTML" run -c "$T/$mode.yaml" --exit-on-idle 6
  local iso=read_uncommitted
  [ "$mode" == exactly_once ] && iso=read_committed
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation $iso >"$T/out-$mode.jsonl"
  "$PY" - "$mode" "$T/ref-$mode.jsonl" "$T/out-$mode.jsonl" <<'PYEOF' || fail "$mode: answers after kill -9 differ from the crash-free ones"
import json, sys
mode, ref_path, out_path = sys.argv[1:]
ref = [json.loads(l) for l in open(ref_path)]
seen = [0] * len(ref)
bad = 0
for line in open(out_path):
    o = json.loads(json.loads(line)["value"])
    i = o["source"]["offset"]  # one partition: the offset is the line
    seen[i] += 1
    r = ref[i]
    for k in ("prediction", "score", "model_version", "features"):
        if o[k] != r[k]:
            bad += 1
            if bad <= 5:
                print(f"record {i}: {k} after kills {o[k]} crash-free {r[k]}")
missing = sum(1 for s in seen if s == 0)
dups = sum(s - 1 for s in seen if s > 1)
print(f"{mode}: {len(ref)} inputs, {sum(seen)} answers, {missing} missing, {dups} duplicates, {bad} differ")
ok = not bad and not missing and (mode == "at_least_once" or not dups)
sys.exit(0 if ok else 1)
PYEOF
  pass "$mode: every answer equals the crash-free run's (features, prediction, score)"
  for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
}

scenario exactly_once 4
scenario at_least_once 4
echo "kill9_aggregates: all checks passed"
