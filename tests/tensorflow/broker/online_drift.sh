#!/usr/bin/env bash
# tests/tensorflow/broker/online_drift.sh — a Keras classifier trained online by rtml through the real
# broker: 30k SEA records with an abrupt concept drift at 15k (rtml gen), 2 partitions, scored and learned
# in micro-batches of 32 by the train signature. Checks, from an independent consumer of both topics:
#   - a prediction for every input id, keys and sources matching (at least once, crash-free: exactly one);
#   - the model learns: accuracy over records 10k..15k well above chance;
#   - the drift hurts, and training recovers: accuracy right after the drift drops, and over the last 5k
#     records it is back within 6 points of what it was before the drift;
#   - the trained model was checkpointed as version 2, and the committed offsets reached the end.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"
IN=$(uniq_name tf-sea); OUT=$(uniq_name tf-sea-scored); GROUP=$(uniq_name tf-e2e)
N=30000 DRIFT=15000
"$RTML" topics create "$IN" --partitions 2 >/dev/null
"$RTML" topics create "$OUT" --partitions 2 >/dev/null
"$RTML" gen --stream sea --n $N --seed 5 --drift-at $DRIFT --variant 0 --drift-to 3 >"$T/sea.jsonl"
expect_exit 0 "produce $N records" -- "$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id

# A Keras classifier for SEA's three features, exported by rtml_tf (serving_default + train, Adam).
export_sea_keras "$T/model" 16
cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  auto.offset.reset: earliest
$(sea_keras_pipeline "$IN" "$OUT" "$T/model")
state: {dir: $T/state}
YAML
expect_exit 0 "rtml run until idle" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 5
cp "$T/out" "$T/report.json"
expect_eq "$(json_get "$T/report.json" 'r["records"]')" $N "records processed"
expect_eq "$(json_get "$T/report.json" 'r["learned"]')" $N "records learned"
expect_grep "model version 2 written to $T/model/2" "$T/err" "the trained model was checkpointed as version 2"

"$PY" "$RTML_ROOT/tests/lib/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
"$PY" "$RTML_ROOT/tests/lib/read_topic.py" "$BROKERS" "$OUT" >"$T/out.jsonl"
"$PY" - "$T/in.jsonl" "$T/out.jsonl" $N $DRIFT <<'PY' || fail "predictions or learning curve wrong"
import json, sys
n, drift = int(sys.argv[3]), int(sys.argv[4])
inputs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = json.loads(r["value"])
    inputs[(r["partition"], r["offset"])] = (r["key"], v["id"], v["label"])
correct, seen = {}, {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    p = json.loads(r["value"])
    key, rid, label = inputs[(p["source"]["partition"], p["source"]["offset"])]
    assert r["key"] == key == str(rid), (r["key"], key, rid)
    assert p["model_version"] in (1, 2), p
    seen[rid] = seen.get(rid, 0) + 1
    correct[rid] = int(p["prediction"] == label)
assert sorted(seen) == list(range(n)), f"{n - len(seen)} ids without a prediction"
assert all(c == 1 for c in seen.values()), "duplicate predictions in a crash-free run"
acc = lambda a, b: sum(correct[i] for i in range(a, b)) / (b - a)
before, after, end = acc(drift - 5000, drift), acc(drift, drift + 500), acc(n - 5000, n)
print(f"ok: {n} predictions, one per id; accuracy before the drift {before:.3f}, first 500 after {after:.3f}, "
      f"last 5000 {end:.3f}")
assert before >= 0.80, f"the model did not learn: {before:.3f}"
assert after <= before - 0.05, f"the drift did not show: {after:.3f} vs {before:.3f}"
assert end >= before - 0.06, f"no recovery after the drift: {end:.3f} vs {before:.3f}"
PY
"$PY" "$RTML_ROOT/tests/lib/committed.py" "$BROKERS" "$GROUP" "$IN" >"$T/committed.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d' "$T/committed.json" ||
  fail "committed offsets did not reach the end"
pass "committed offsets at the end of every partition"
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
