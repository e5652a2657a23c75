#!/usr/bin/env bash
# Answers learned from labels that come later (serve.log_topic + label.topic; issue 23):
#   - the stream scores 2,000 SEA records that carry no join key (predicted, never learned);
#   - 500 single-record requests with ids req-0..req-499 are answered and written to the log topic, keyed by their
#     id, with the record, its features as served and the prediction; 50 more (early-0..49) come after their
#     labels did;
#   - labels for req-0..req-399 arrive on label.topic (their key and 0/1): the stream reads the log topic back,
#     and each label joins its answered record: 450 learned (400 + the 50 early ones, joined as their log record
#     is read), 100 still waiting, and the prequential metrics are those of the served predictions: 450 evaluated,
#     the same accuracy as the client computes from what it was answered;
#   - the served model's learned count (metadata) moves to 450: the snapshots carry what the labels taught.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
source "$RTML_ROOT/tests/serve/lib/serve.sh"
IN=$(uniq_name sv-ln); OUT=$(uniq_name sv-ln-out); LOG=$(uniq_name sv-ln-log); LAB=$(uniq_name sv-ln-lab)
TOPICS=("$IN" "$OUT" "$LOG" "$LAB")
for t in "${TOPICS[@]}"; do "$RTML" topics create "$t" --partitions 1 >/dev/null; done
"$RTML" gen --stream sea --n 2000 --seed 31 | "$PY" -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l); d.pop("label"); print(json.dumps(d))' >"$T/in.jsonl"
"$RTML" gen --stream sea --n 550 --seed 32 >"$T/queries.jsonl"
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" >/dev/null 2>&1
sea_serve_config "$T/run.yaml" "$IN" "$OUT" "$T/state" \
  "label: {topic: $LAB, key: /key, value: /y, feature_key: /request, ttl: 1d, wait: 1d}" \
  "serve: {listen: 127.0.0.1:0, log_topic: $LOG}" "monitor: {listen: 127.0.0.1:0}"
labels() { # FROM TO PREFIX: label records for requests PREFIX-FROM..TO-1 (the query's own label)
  "$PY" - "$T/queries.jsonl" "$1" "$2" "$3" "$4" <<'PY' >"$T/labels-$3.jsonl"
import json, sys
q = [json.loads(l) for l in open(sys.argv[1])]
lo, hi, prefix, offset = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
for i in range(lo, hi): print(json.dumps({"key": f"{prefix}-{i}", "y": q[offset + i]["label"]}))
PY
  "$RTML" produce --topic "$LAB" --input "$T/labels-$3.jsonl" >/dev/null 2>&1
}
ask() { # PREFIX N OFFSET OUT: N single-record requests with ids PREFIX-i, record OFFSET + i
  "$PY" - "$BASE" "$T/queries.jsonl" "$@" <<'PY'
import json, sys, urllib.request
base, queries, prefix, n, offset, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
q = [l.strip() for l in open(queries)]
with open(out, "w") as f:
    for i in range(n):
        body = {"id": f"{prefix}-{i}", "inputs": [{"name": "records", "datatype": "BYTES", "shape": [1], "data": [q[offset + i]]}]}
        req = urllib.request.Request(f"{base}/v2/models/rtml/infer", json.dumps(body).encode(), {"Content-Type": "application/json"})
        r = json.load(urllib.request.urlopen(req, timeout=10))
        outs = {o["name"]: o["data"][0] for o in r["outputs"]}
        assert r["id"] == f"{prefix}-{i}" and outs["key"] == r["id"], r
        f.write(json.dumps({"id": r["id"], "prediction": outs["prediction"], "score": outs["score"],
                            "label": json.loads(q[offset + i])["label"]}) + "\n")
PY
}
start_run "$T/run.yaml"
PORT=$(serve_port)
BASE=http://127.0.0.1:$PORT
wait_until "the monitor's port in the log" 30 grep -q "monitor: http" "$T/run.log"
MON=http://$(sed -nE 's#.*monitor: http://([^/]+)/.*#\1#p' "$T/run.log" | tail -1)
metrics() { http_get "$MON/metrics" "$T/m.txt"; }
consumed() { metrics && [ "$(metric_sum "$T/m.txt" rtml_records_consumed_total)" == 2000 ]; }
wait_until "the stream scored its 2000 records" 60 consumed

labels 0 50 early 500 # the early ones' labels first: they wait for their records
ask req 500 0 "$T/answers-req.jsonl"
ask early 50 500 "$T/answers-early.jsonl"
read_back() { metrics && [ "$(metric "$T/m.txt" rtml_serve_log_read_total 'outcome="stored"')" == 500 ] &&
  [ "$(metric "$T/m.txt" rtml_serve_log_read_total 'outcome="joined"')" == 50 ]; }
wait_until "550 answers read back from the log topic: 500 stored, 50 joined with labels that came first" 60 read_back
labels 0 400 req 0
learned() { metrics && [ "$(metric "$T/m.txt" rtml_model_learned_records)" == 450 ]; }
wait_until "450 answered records learned (400 labels + 50 early ones)" 60 learned
expect_eq "$(metric "$T/m.txt" rtml_prequential_evaluated_total)" 450 "the prequential metrics count them"
expect_eq "$(metric "$T/m.txt" rtml_label_records_total 'outcome="joined"')" 450 "450 labels joined"
expect_eq "$(metric "$T/m.txt" rtml_label_pending_records)" 100 "100 answers still wait for their label"
expect_eq "$(metric "$T/m.txt" rtml_serve_log_records_total)" 550 "550 answers logged"
expect_eq "$(metric "$T/m.txt" rtml_label_unkeyed_records_total)" 2000 "the stream's own records have no key"
want=$(cat "$T/answers-early.jsonl" <(head -400 "$T/answers-req.jsonl") | "$PY" -c '
import json, sys
a = [json.loads(l) for l in sys.stdin]
print(sum(int(x["prediction"] == x["label"]) for x in a) / len(a))')
got=$(metric "$T/m.txt" rtml_prequential_accuracy 'scope="cumulative"')
"$PY" -c "import sys; sys.exit(abs($got - $want) > 1e-12)" || fail "prequential accuracy $got, the served answers' $want"
pass "prequential accuracy $got = the accuracy of the answers the client got"
served_learned() { [ "$(serve_learned "$BASE")" == 450 ]; }
wait_until "the served model learned them too (metadata: 450)" 10 served_learned

"$PY" "$LIB/read_topic.py" "$BROKERS" "$LOG" >"$T/log.jsonl"
"$PY" - "$T/log.jsonl" "$T/queries.jsonl" <<'PY' || fail "the log topic's records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
q = [l.strip() for l in open(sys.argv[2])]
assert len(recs) == 550, len(recs)
r = next(x for x in recs if x["key"] == "req-7")
v = json.loads(r["value"])
assert v["key"] == "req-7" and v["record"] == q[7], v
assert v["features"]["n_inputs"] == 3 and len(v["features"]["dense"]) == 3 and v["features"]["sparse"] == [], v
assert len(v["scores"]) == 1 and v["score"] == v["scores"][0] and v["prediction"] in (0, 1), v
print("ok: each answer in the log topic, keyed by its id: the record, its features as served, the prediction")
PY
stop_run TERM
expect_eq "$RUN_RC" 0 "rtml run stopped cleanly"
