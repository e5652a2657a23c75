# tests/lib/config.sh — the SEA pipeline config the broker tests score with (sourced after
# common.sh).
#
# sea_pipeline IN OUT [MODEL]: the YAML that follows a `kafka:` section: input IN (JSON), three standardised
#   features, the label, MODEL (default: logistic regression, SGD 0.05) and output OUT.
# write_config FILE IN OUT GROUP: a whole config for the test broker, at least once, state in $T/state.
# sea_stream N SEED BAD_EVERY [FIRST_ID]: N SEA records (JSON lines on stdout, ids from FIRST_ID, default 0) where
#   every 5th has no label and every BAD_EVERY-th is malformed (x1 is a string: a dead letter, reason wrong_type).
sea_pipeline() {
  local model=${3:-}
  [ -n "$model" ] || model='{engine: native, type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}'
  cat <<YAML
input: {topics: [$1], format: json}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2, field: /x2, transforms: [standardize]}
  - {name: x3, field: /x3, transforms: [standardize]}
label: {field: /label}
model: $model
output: {topic: $2, format: json}
YAML
}

write_config() {
  {
    printf 'kafka:\n  bootstrap.servers: %s\n  group.id: %s\n  auto.offset.reset: earliest\n' "$BROKERS" "$4"
    sea_pipeline "$2" "$3"
    printf 'delivery: at_least_once\nstate: {dir: %s/state}\n' "$T"
  } >"$1"
}

sea_stream() {
  "$RTML" gen --stream sea --n "$1" --seed "$2" --id-offset "${4:-0}" | "$PY" -c '
import json, sys
bad = int(sys.argv[1])
for line in sys.stdin:
    r = json.loads(line)
    if r["id"] % 5 == 0: del r["label"]
    if r["id"] % bad == bad - 1: r["x1"] = "not a number"
    print(json.dumps(r))' "$3"
}
