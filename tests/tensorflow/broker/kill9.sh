#!/usr/bin/env bash
# tests/tensorflow/broker/kill9.sh — learned exactly once with the TensorFlow engine: a Keras classifier
# trained online by rtml, killed with SIGKILL twice mid-stream (checkpoints every 300 ms: a SavedModel
# version, then the checkpoint file naming it), restarted each time, then run until idle.
# Counted afterwards: every input id has a prediction; the newest SavedModel version is the one the final
# checkpoint wrote (a kill between writing a version and the checkpoint file leaves a version no checkpoint
# names: the next run removes it rather than ever loading it), and the learned count equals the number of
# labelled records.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"
source "$RTML_ROOT/tests/faults/lib/kill9.sh" # wait_for_log
IN=$(uniq_name tfk-in); OUT=$(uniq_name tfk-out); GROUP=$(uniq_name tfk)
N=24000
"$RTML" topics create "$IN" --partitions 2 >/dev/null
"$RTML" topics create "$OUT" --partitions 2 >/dev/null
"$RTML" gen --stream sea --n $N --seed 8 | "$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["id"] % 4 == 0: del r["label"]
    print(json.dumps(r))' >"$T/sea.jsonl"
labelled=$(grep -c '"label"' "$T/sea.jsonl")
export_sea_keras "$T/model" 8
cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  group.instance.id: $GROUP-1
  session.timeout.ms: 6000
  auto.offset.reset: earliest
$(sea_keras_pipeline "$IN" "$OUT" "$T/model")
state: {dir: $T/state, checkpoint_every: 300ms}
YAML
"$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id --rate 2000 >"$T/produce.log" 2>&1 &
producer=$!
for k in 1 2; do
  "$RTML" run -c "$T/run.yaml" >"$T/run-$k.out" 2>"$T/run-$k.err" &
  pid=$!
  wait_for_log "$T/run-$k.err" "assigned [1-9]" 120 || { kill -9 $pid; fail "run $k never got its partitions"; }
  wait_for_log "$T/run-$k.err" "model version [0-9]+ written" 60 || { kill -9 $pid; fail "run $k wrote no version"; }
  sleep "$("$PY" -c 'import random; print(round(random.uniform(0.1, 1.0), 2))')" # the random moment (the fault)
  kill -9 $pid || fail "rtml exited before kill $k"
  wait $pid 2>/dev/null || true
  echo "injected: kill -9 #$k; versions now: $(ls "$T/model" | sort -n | tr '\n' ' ')"
done
wait $producer || fail "producing the stream failed"
expect_exit 0 "rtml run after 2 kills, until idle" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 5
expect_grep "resuming from checkpoint" "$T/err" "the last run resumed from a checkpoint"
last=$(grep -oE "model version [0-9]+ written" "$T/err" | tail -1 | grep -oE "[0-9]+")
expect_eq "$(ls "$T/model" | sort -n | tail -1)" "$last" \
  "the newest SavedModel version is the final checkpoint's (versions no checkpoint names were removed)"
"$RTML" state -c "$T/run.yaml" >"$T/state.json"
expect_eq "$(json_get "$T/state.json" 'r["learned"]')" "$labelled" "learned exactly once: learned == labelled records"
"$PY" "$RTML_ROOT/tests/lib/read_topic.py" "$BROKERS" "$OUT" >"$T/out.jsonl"
ids='import json, sys
print(len({json.loads(l)["key"] for l in open(sys.argv[1])}))'
expect_eq "$("$PY" -c "$ids" "$T/out.jsonl")" $N "every input id has a prediction"
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
echo "tensorflow kill9: all checks passed"
