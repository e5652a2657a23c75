#!/usr/bin/env bash
# Binary formats through a real broker: SEA records as Confluent-framed Avro (fastavro) and as Protobuf
# (a descriptor set from protoc), scored by `rtml run`; Avro predictions read back by fastavro; CSV with
# configured columns. Malformed messages are counted and skipped; every good record gets one prediction.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
D=$RTML_ROOT/tests/integration/data
"$RTML" gen --stream sea --n 2000 --seed 11 >"$T/sea.jsonl"
protoc --include_imports --descriptor_set_out="$T/sea.desc" -I "$D" "$D/sea.proto"

run_format() { # FORMAT INPUT_SECTION OUTPUT_FORMAT
  local fmt=$1 IN OUT GROUP
  IN=$(uniq_name "fmt-$fmt"); OUT=$(uniq_name "fmt-$fmt-scored"); GROUP=$(uniq_name "fmt-$fmt")
  "$RTML" topics create "$IN" --partitions 2 >/dev/null
  "$RTML" topics create "$OUT" >/dev/null
  cat >"$T/$fmt.yaml" <<YAML
kafka: {bootstrap.servers: $BROKERS, group.id: $GROUP, auto.offset.reset: earliest}
input: ${2//TOPIC/$IN}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2, field: /x2, transforms: [standardize]}
  - {name: x3, field: /x3, transforms: [standardize]}
label: {field: /label}
model: {type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}
output: {topic: $OUT, format: $3, schema: $D/prediction.avsc}
state: {dir: $T/state-$fmt}
YAML
  [ "$3" == json ] && sed -i '/^output:/ s/, schema: [^}]*}/}/' "$T/$fmt.yaml"
  if [ "$fmt" == csv ]; then
    "$PY" -c 'import json,sys
print("id,x1,x2,x3,label")
for l in open(sys.argv[1]): r=json.loads(l); print(",".join(str(r[k]) for k in ("id","x1","x2","x3","label")))' "$T/sea.jsonl" \
      | tail -n +2 >"$T/sea.csv"
    printf '1,2\n"unterminated,1,2,3\n' >>"$T/sea.csv"
    "$RTML" produce --topic "$IN" --input "$T/sea.csv" >/dev/null
  else
    "$PY" "$LIB/binary_io.py" produce "$BROKERS" "$IN" "$fmt" "$D/sea.avsc" <"$T/sea.jsonl"
  fi
  expect_exit 0 "rtml run on $fmt input" -- "$RTML" run -c "$T/$fmt.yaml" --exit-on-idle 4
  cp "$T/out" "$T/$fmt.report"
  expect_eq "$(json_get "$T/$fmt.report" 'r["learned"]')" 2000 "$fmt: every good record learned"
  expect_eq "$(json_get "$T/$fmt.report" 'r["errors_by_reason"].get("malformed")')" "$4" "$fmt: malformed messages counted"
  expect_eq "$(json_get "$T/$fmt.report" 'r["metrics"]["accuracy"] > 0.83')" True "$fmt: prequential accuracy above 0.83"
  if [ "$3" == avro ]; then
    "$PY" "$LIB/binary_io.py" read "$BROKERS" "$OUT" "$D/prediction.avsc" >"$T/$fmt.out"
  else
    "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/$fmt.out"
  fi
  "$PY" - "$T/$fmt.out" "$IN" <<'PY' || fail "$fmt: predictions do not match inputs"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
vals = [r["value"] if isinstance(r["value"], dict) else json.loads(r["value"]) for r in rows]
assert len(rows) == 2000, len(rows)
assert all(v["source"]["topic"] == sys.argv[2] and v["prediction"] in (0, 1) and 0 <= v["score"] <= 1 for v in vals)
keys = sorted(int(r["key"]) for r in rows if r["key"] is not None) if rows[0]["key"] is not None else []
print(f"ok: 2000 predictions, sources and scores valid, {len(set(keys))} distinct keys")
PY
  for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
}

run_format avro "{topics: [TOPIC], format: avro, schema: $D/sea.avsc}" avro 3
run_format protobuf "{topics: [TOPIC], format: protobuf, schema: $T/sea.desc, message: rtml.it.Sea}" json 3
run_format csv "{topics: [TOPIC], format: csv, csv: {columns: [id, x1, x2, x3, label]}}" json 2
echo "formats: all checks passed"
