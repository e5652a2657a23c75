# tests/serve/lib/serve.sh — shared by the serve tests (sourced after tests/lib/common.sh and
# tests/monitor/lib/monitor.sh, whose start_run, stop_run and wait_until it uses).
#
# Gives:
#   sea_serve_config FILE IN OUT STATE [YAML...]   a SEA pipeline (standardize | logistic) with serve on a free port
#   serve_port                     the port rtml run's log says it serves on (after start_run)
#   serve_learned BASE             the learned count the model's metadata reports ("" when it does not answer)
#   json_field FILE EXPR           a Python expression on the JSON document in FILE (bound to d)
sea_serve_config() {
  local file=$1 in=$2 out=$3 state=$4; shift 4
  cat >"$file" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $(uniq_name sv-$(basename "$file" .yaml))
  auto.offset.reset: earliest
input: {topics: [$in], format: json}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2, field: /x2, transforms: [standardize]}
  - {name: x3, field: /x3, transforms: [standardize]}
model: {type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}
output: {topic: $out}
state: {dir: $state, checkpoint_every: 1s}
YAML
  local line
  for line in "$@"; do echo "$line" >>"$file"; done
}

serve_port() {
  wait_until "rtml serves (its port in the log)" 60 grep -q "serve: Open Inference Protocol on" "$T/run.log" >&2
  sed -nE 's#.*serve: Open Inference Protocol on https?://[^:]+:([0-9]+)/.*#\1#p' "$T/run.log" | tail -1
}

serve_learned() {
  curl -sf --max-time 5 ${CURL_OPTS:-} "$1/v2/models/${MODEL:-rtml}" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["parameters"]["learned"])' 2>/dev/null || true
}

json_field() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
