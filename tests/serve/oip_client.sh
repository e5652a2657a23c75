#!/usr/bin/env bash
# The serve endpoint against a stock Open Inference Protocol client (tritonclient[http], PyPI; issue 23):
#   - rtml run learns 5,000 SEA records from a topic, with serve on a free port;
#   - tritonclient checks live/ready, reads the model's metadata (records BYTES and features FP32 [-1, 3] in,
#     prediction and score out) and answers 300 new records as BYTES in JSON, as BYTES in Triton's binary
#     extension, and as the served features sent back as FP64 and FP32 tensors: the four agree (FP32 within
#     float precision);
#   - every answer says model_version 1 and 5,000 records learned;
#   - after a clean stop, `rtml replay --from-state --score-only` scores the same 300 records on the checkpoint the
#     stop wrote (the same model state): its scores equal the served ones exactly.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
source "$RTML_ROOT/tests/serve/lib/serve.sh"
N=5000 Q=300
IN=$(uniq_name sv-oip); OUT=$(uniq_name sv-oip-out)
TOPICS=("$IN" "$OUT")
"$RTML" topics create "$IN" --partitions 1 >/dev/null
"$RTML" topics create "$OUT" --partitions 1 >/dev/null
"$RTML" gen --stream sea --n $N --seed 21 >"$T/in.jsonl"
"$RTML" gen --stream sea --n $Q --seed 22 >"$T/queries.jsonl"
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id >/dev/null 2>&1
sea_serve_config "$T/run.yaml" "$IN" "$OUT" "$T/state" "label: {field: /label}" "serve: {listen: 127.0.0.1:0}"
start_run "$T/run.yaml"
PORT=$(serve_port)
BASE=http://127.0.0.1:$PORT
learned_all() { [ "$(serve_learned "$BASE")" == "$N" ]; }
wait_until "the served model learned all $N records" 120 learned_all

"$PY" "$RTML_ROOT/tests/serve/lib/oip_client.py" "$BASE" rtml "$T/queries.jsonl" "$T/served.json" ||
  fail "tritonclient against the endpoint"
pass "tritonclient: live, ready, metadata; BYTES (JSON and binary), FP64 and FP32 answers agree"
expect_eq "$(json_field "$T/served.json" 'sorted({(a["model_version"], a["learned"]) for a in d["answers"]})')" \
  "[('1', $N)]" "every answer: model_version 1, $N learned"
expect_eq "$(json_field "$T/served.json" '[i["name"] + ":" + i["datatype"] + str(i["shape"]) for i in d["metadata"]["inputs"]]')" \
  "['records:BYTES[-1]', 'features:FP32[-1, 3]']" "metadata: the inputs"
expect_eq "$(json_field "$T/served.json" 'd["metadata"]["parameters"]["fields"]')" "['/x1', '/x2', '/x3']" \
  "metadata: the fields the pipeline reads"

stop_run TERM
expect_eq "$RUN_RC" 0 "rtml run stopped cleanly (final checkpoint)"
"$RTML" replay -c "$T/run.yaml" --input "$T/queries.jsonl" --output "$T/replay.jsonl" --from-state "$T/state" \
  --score-only >"$T/replay.out" 2>"$T/replay.err" || { cat "$T/replay.err" >&2; fail "replay --from-state"; }
expect_eq "$(json_get "$T/replay.out" 'r["model_learned"]')" "$N" "replay starts from the same state ($N learned)"
expect_eq "$(json_get "$T/replay.out" 'r["learned"]')" 0 "replay --score-only learns nothing"
"$PY" - "$T/served.json" "$T/replay.jsonl" <<'PY' || fail "served scores differ from replay's"
import json, sys
served = json.load(open(sys.argv[1]))["bytes_json"]
replay = [json.loads(l)["score"] for l in open(sys.argv[2])]
assert len(served) == len(replay) == 300, (len(served), len(replay))
bad = [(i, a, b) for i, (a, b) in enumerate(zip(served, replay)) if a != b]
assert not bad, f"{len(bad)} differ, first {bad[:3]}"
print(f"ok: all {len(served)} served scores equal rtml replay's on the same model state, bit for bit")
PY
