#!/usr/bin/env bash
# End to end against the real broker: 50k SEA records produced with `rtml produce` into 3 partitions,
# scored and learned by `rtml run`, and read back by an independent consumer (confluent-kafka):
#   - exactly one prediction per input id (a crash-free run), every key preserved, and each prediction's
#     source coordinates point at the input record with that id;
#   - prequential accuracy within 5 points of the best any model can reach on this stream (1 - noise = 0.90);
#   - the group's committed offsets reached the end of every input partition (at least once, all done).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
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
"$PY" "$LIB/check_predictions.py" "$T/in.jsonl" "$T/out.jsonl" $N --exactly-one || fail "predictions do not match inputs one to one"

"$PY" "$LIB/committed.py" "$BROKERS" "$GROUP" "$IN" >"$T/committed.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d; print("ok: committed offsets at the end of every partition", d)' "$T/committed.json" \
  || fail "committed offsets did not reach the end"
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
echo "pipeline_e2e: all checks passed"
