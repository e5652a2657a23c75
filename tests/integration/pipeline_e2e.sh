#!/usr/bin/env bash
# End to end against the real broker: 50k SEA records produced with `rtml produce` into 3 partitions,
# scored and learned by `rtml run`, and read back by an independent consumer (confluent-kafka):
#   - exactly one prediction per input id (a crash-free run), every key preserved, and each prediction's
#     source coordinates point at the input record with that id;
#   - prequential accuracy within 5 points of the best any model can reach on this stream (1 - noise = 0.90);
#   - the group's committed offsets reached the end of every input partition (at least once, all done).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/integration/lib/common.sh"
source "$RTML_ROOT/tests/integration/lib/config.sh"
IN=$(uniq_name sea); OUT=$(uniq_name sea-scored); GROUP=$(uniq_name e2e)
N=50000

"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
"$RTML" gen --stream sea --n $N --seed 42 >"$T/sea.jsonl"
expect_exit 0 "rtml produce $N records keyed by /id" -- "$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id
expect_grep "produced $N records to $IN: $N acknowledged, 0 failed" "$T/out" "every record acknowledged"

write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP"
expect_exit 0 "rtml run until idle" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 5
cp "$T/out" "$T/report.json"
expect_eq "$(json_get "$T/report.json" 'r["records"]')" $N "records processed"
expect_eq "$(json_get "$T/report.json" 'r["learned"]')" $N "records learned"
expect_eq "$(json_get "$T/report.json" 'r["errors"]')" 0 "records rejected"
acc=$(json_get "$T/report.json" 'r["metrics"]["accuracy"]')
expect_eq "$("$PY" -c "print($acc >= 0.85)")" True "prequential accuracy $acc >= 0.90 - 0.05"

"$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/out.jsonl"
"$PY" - "$T/in.jsonl" "$T/out.jsonl" $N <<'PY' || fail "predictions do not match inputs one to one"
import json, sys
inputs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    inputs[(r["partition"], r["offset"])] = (r["key"], json.loads(r["value"])["id"])
n = int(sys.argv[3])
per_id = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    p = json.loads(r["value"])
    src = (p["source"]["partition"], p["source"]["offset"])
    key, rid = inputs[src]
    assert r["key"] == key == str(rid), f"key {r['key']} of prediction for {src} != input key {key} / id {rid}"
    assert p["prediction"] in (0, 1) and 0 <= p["score"] <= 1, p
    per_id[rid] = per_id.get(rid, 0) + 1
assert len(inputs) == n, f"{len(inputs)} inputs"
assert sorted(per_id) == list(range(n)), f"{n - len(per_id)} ids without a prediction"
dups = [i for i, c in per_id.items() if c != 1]
assert not dups, f"{len(dups)} ids with more than one prediction, e.g. {dups[:5]}"
print(f"ok: {n} predictions, exactly one per input id, keys and sources match")
PY

"$PY" "$LIB/committed.py" "$BROKERS" "$GROUP" "$IN" >"$T/committed.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d; print("ok: committed offsets at the end of every partition", d)' "$T/committed.json" \
  || fail "committed offsets did not reach the end"
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
echo "pipeline_e2e: all checks passed"
