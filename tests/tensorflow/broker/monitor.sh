#!/usr/bin/env bash
# tests/tensorflow/broker/monitor.sh — the monitor of a TensorFlow pipeline, through the real broker: a Keras
# classifier trained online in micro-batches of 32 on 20k SEA records with a drift (concept 0 -> 3 at 10k)
# and a drift detector (alert: the only action a SavedModel allows). Checks:
#   - /metrics passes promtool; the batch-size histogram shows micro-batches (fewer model calls than
#     records, most of them full), processing latency is counted per record;
#   - /model says engine tensorflow, type saved_model, and the version of the SavedModel serving;
#   - a drift section with action reset is refused for a SavedModel (exit 2, naming drift.action).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/tensorflow/lib/tf.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
PORT=${RTML_TF_MONITOR_PORT:-19468}
BASE=http://127.0.0.1:$PORT
IN=$(uniq_name tf-mon); OUT=$(uniq_name tf-mon-scored); GROUP=$(uniq_name tf-mon)
TOPICS=("$IN" "$OUT")
N=20000
"$RTML" topics create "$IN" >/dev/null
"$RTML" topics create "$OUT" >/dev/null
"$RTML" gen --stream sea --n $N --seed 5 --drift-at 10000 --variant 0 --drift-to 3 >"$T/sea.jsonl"
"$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id >/dev/null 2>&1
export_sea_keras "$T/model" 16

write() { # FILE ACTION
  cat >"$1" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  auto.offset.reset: earliest
$(sea_keras_pipeline "$IN" "$OUT" "$T/model")
state: {dir: $T/state}
monitor: {listen: 127.0.0.1:$PORT}
drift: {detector: adwin, action: $2}
YAML
}
write "$T/reset.yaml" reset
expect_exit 2 "drift.action reset with a SavedModel" -- "$RTML" check -c "$T/reset.yaml"
expect_grep "drift.action: reset needs a native engine" "$T/err" "the error names drift.action"

write "$T/run.yaml" alert
start_run "$T/run.yaml" --exit-on-idle 10
done_all() { http_get "$BASE/metrics" "$T/m.txt" && [ "$(metric "$T/m.txt" rtml_prequential_evaluated_total)" == $N ]; }
wait_until "all $N records evaluated" 120 done_all
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out" >&2; fail "promtool check metrics"; }
pass "promtool check metrics"
calls=$(metric "$T/m.txt" rtml_batch_size_records_count)
records=$(metric "$T/m.txt" rtml_batch_size_records_sum)
full=$(( calls - $(metric "$T/m.txt" rtml_batch_size_records_bucket 'le="16"') ))
expect_eq "$records" $N "records through the model"
"$PY" -c "import sys; sys.exit(not ($calls < $N / 4 and $full * 2 > $calls))" &&
  pass "micro-batches: $calls model calls for $N records, $full of them over 16 records" ||
  fail "batch sizes: $calls calls, $full over 16"
expect_eq "$(metric "$T/m.txt" rtml_processing_latency_seconds_count)" $N "processing latency per record"
http_get "$BASE/model" "$T/model.json"
"$PY" - "$T/model.json" "$T/m.txt" <<'PY' || fail "/model"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["engine"] == "tensorflow" and m["type"] == "saved_model" and m["task"] == "binary", m
v = [l for l in open(sys.argv[2]) if l.startswith("rtml_model_version ")][0].split()[1]
assert int(float(v)) == m["version"] >= 1, (v, m["version"])
assert m["drift"]["detector"] == "adwin" and m["drift"]["action"] == "alert", m["drift"]
print("ok: /model: engine tensorflow, saved_model version %d, %d learned" % (m["version"], m["learned"]))
PY
stop_run TERM
expect_eq "$RUN_RC" 0 "clean exit"
echo "tensorflow monitor: all checks passed"
