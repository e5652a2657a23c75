# tests/integration/lib/config.sh — write_config FILE INPUT_TOPIC OUTPUT_TOPIC GROUP: a SEA pipeline config
# for the test broker (sourced after common.sh).
write_config() {
  cat >"$1" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $4
  auto.offset.reset: earliest
input: {topics: [$2], format: json}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2, field: /x2, transforms: [standardize]}
  - {name: x3, field: /x3, transforms: [standardize]}
label: {field: /label}
model: {engine: native, type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}
output: {topic: $3, format: json}
delivery: at_least_once
state: {dir: $T/state}
YAML
}
