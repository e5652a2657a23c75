#!/usr/bin/env bash
# Records as real producers write them, through a real broker (issue 24): 5,000 payments written three ways by
# the producers' own libraries (tests/lib/peers.py): JSON (json.dumps); Avro by fastavro with
# Confluent framing (a decimal, timestamp-millis, date, uuid, a nested record, optional unions, an enum, an
# array, a map); Protobuf by Python's protobuf runtime with Confluent framing and message indexes (proto3:
# half the kinds and most installments at their default, so never on the wire; a Timestamp, a wrapper,
# proto3 optional, repeated messages, a map). One config (the features below) scores each through
# `rtml run`, in one partition so that every run learns in the same order: every record is answered, none
# rejected, and every score equals the JSON run's (difference 0). Then the JSON input again with
# output.format protobuf and a schema id: Python's runtime reads the predictions back, framing included,
# and they equal the JSON predictions field by field.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
D=$RTML_ROOT/tests/integration/data
N=5000
"$PY" "$LIB/peers.py" wkt "$T/wkt.desc"
for p in peers prediction; do
  protoc --descriptor_set_in="$T/wkt.desc" --include_imports --descriptor_set_out="$T/$p.desc" -I "$D" "$p.proto"
done
"$PY" "$LIB/peers.py" payments "$T/peers.desc" "$D/payment.avsc" $N 2024 "$T"
expect_eq "$(wc -l <"$T/payments.pb.hex")" $N "the protobuf runtime wrote $N payments"
expect_eq "$(cut -c1-12 "$T/payments.pb.hex" | sort -u)" 000000000900 "Confluent framing: schema id 9, indexes [0]"
expect_eq "$(cut -c1-10 "$T/payments.avro.hex" | sort -u)" 0000000007 "Confluent framing: schema id 7"

FEATURES='features:
  - {name: amount, field: /amount, transforms: [log1p, standardize]}
  - {name: kind, field: /kind, transforms: [{one_hot: 8}]}
  - {name: installments, field: /installments, transforms: [standardize]}
  - {name: discount, field: /discount, transforms: [{impute: mean}, standardize]}
  - {name: hour, field: /created, transforms: [hour_of_day, {one_hot: 24}]}
  - {name: dow, field: /created, transforms: [day_of_week, {one_hot: 7}]}
  - {name: country, field: /merchant/country, transforms: [{hash: 64}]}
  - {name: tip, field: /tip, transforms: [{impute: mean}]}
  - {name: item0, field: /items/0/price, transforms: [{impute: 0}, standardize]}
  - {name: channel, field: /attrs/channel, transforms: [{impute: 0}, {hash: 16}]}
  - {name: first_time, field: /first_time, transforms: [{one_hot: 2}]}
label: {field: /label}
model: {type: logistic, optimizer: {name: adam, learning_rate: 0.02}}'

# run_format NAME FILE PRODUCE_FLAGS INPUT OUTPUT: produce FILE to a topic of its own, score it, dump the output.
run_format() {
  local name=$1 IN OUT GROUP
  IN=$(uniq_name "peers-$name"); OUT=$(uniq_name "peers-$name-scored"); GROUP=$(uniq_name "peers-$name")
  "$RTML" topics create "$IN" --partitions 1 >/dev/null
  "$RTML" topics create "$OUT" --partitions 1 >/dev/null
  "$PY" "$LIB/peers.py" produce "$BROKERS" "$IN" "$2" $3
  cat >"$T/$name.yaml" <<YAML
kafka: {bootstrap.servers: $BROKERS, group.id: $GROUP, auto.offset.reset: earliest}
input: ${4//TOPIC/$IN}
$FEATURES
output: ${5//TOPIC/$OUT}
state: {dir: $T/state-$name}
YAML
  expect_exit 0 "rtml run on $name" -- "$RTML" run -c "$T/$name.yaml" --exit-on-idle 4
  cp "$T/out" "$T/$name.report"
  expect_eq "$(json_get "$T/$name.report" 'r["records"]')" $N "$name: every record read"
  expect_eq "$(json_get "$T/$name.report" 'r["learned"]')" $N "$name: every record learned"
  expect_eq "$(json_get "$T/$name.report" 'r["errors"], r["errors_by_reason"]')" "(0, {})" "$name: none rejected"
  if [[ "$5" == *protobuf* ]]; then
    "$PY" "$LIB/peers.py" read-pb "$BROKERS" "$OUT" "$T/prediction.desc" rtml.out.Prediction --confluent >"$T/$name.out"
  else
    "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/$name.out"
  fi
  for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
}

run_format json "$T/payments.jsonl" "" "{topics: [TOPIC], format: json}" "{topic: TOPIC, format: json}"
run_format avro "$T/payments.avro.hex" --hex "{topics: [TOPIC], format: avro, schema: $D/payment.avsc}" \
  "{topic: TOPIC, format: json}"
run_format protobuf "$T/payments.pb.hex" --hex \
  "{topics: [TOPIC], format: protobuf, schema: $T/peers.desc, message: rtml.peers.Payment}" \
  "{topic: TOPIC, format: json}"
run_format pbout "$T/payments.jsonl" "" "{topics: [TOPIC], format: json}" \
  "{topic: TOPIC, format: protobuf, schema: $T/prediction.desc, message: rtml.out.Prediction, schema_id: 9}"

"$PY" - "$T" $N <<'PY' || fail "the formats' predictions differ from the JSON run's"
import json, sys
t, n = sys.argv[1], int(sys.argv[2])

def preds(name):
    out = {}
    for line in open(f"{t}/{name}.out"):
        r = json.loads(line)
        if name == "pbout":
            assert r["same"] and r["schema_id"] == 9 and r["indexes"] == [0], r
            v = r["value"]
        else:
            v = json.loads(r["value"])
        out[r["key"]] = v
    assert len(out) == n, (name, len(out))
    return out

js = preds("json")
for name in ("avro", "protobuf", "pbout"):
    other = preds(name)
    diff = max(abs(other[k]["score"] - js[k]["score"]) for k in js)
    same = sum(other[k]["prediction"] == js[k]["prediction"] and other[k]["model_version"] == js[k]["model_version"]
               and other[k]["source"]["offset"] == js[k]["source"]["offset"]
               and other[k]["source"]["partition"] == js[k]["source"]["partition"] for k in js)
    print(f"ok: {name}: {n} predictions, max |score - JSON score| = {diff}, "
          f"{same} with the same prediction, model_version and source offset")
    assert diff == 0 and same == n, name
PY
echo "formats_peers: all checks passed"
