#!/usr/bin/env bash
# Delayed labels under exactly_once: a label answers nothing, so no output opens a transaction for it, yet its
# offset must be committed. (The fault campaign, seed 1019: once every record was answered, the labels that came
# after the last record were learned but their offsets never committed: after a restart they were read again,
# and the group never reached the end of the label topic.) 10,000 SEA records are scored by a first run, which
# stops when idle (every record answered and committed, each waiting for its label); then their 10,000 labels
# arrive, and a second run reads only labels. Checked: the second run joins and learns every label; the group's
# committed offsets reach the end of both topics; a third run reads nothing again (records 0, learned unchanged).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
N=10000
F=$(uniq_name lx-f); L=$(uniq_name lx-l); OUT=$(uniq_name lx-out); GROUP=$(uniq_name lx)
for t in "$F" "$L" "$OUT"; do "$RTML" topics create "$t" --partitions 1 >/dev/null; done
"$RTML" gen --stream sea --n $N --seed 13 >"$T/sea.jsonl"
"$RTML" produce --topic "$F" --input "$T/sea.jsonl" --key-field /id >/dev/null
cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  auto.offset.reset: earliest
input: {topics: [$F], format: json}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2, field: /x2, transforms: [standardize]}
  - {name: x3, field: /x3, transforms: [standardize]}
label: {topic: $L, key: /id, value: /y, ttl: 1h, wait: 1h}
model: {type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}
output: {topic: $OUT}
delivery: exactly_once
state: {dir: $T/state}
YAML
expect_exit 0 "run 1: the records, until idle" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 4
expect_eq "$(json_get "$T/out" 'r["labels"]["pending"]')" $N "run 1: every record waits for its label"
"$PY" - "$BROKERS" "$L" "$T/sea.jsonl" <<'PY'
import json, sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": True})
for line in open(sys.argv[3]):
    r = json.loads(line)
    p.produce(sys.argv[2], json.dumps({"id": r["id"], "y": r["label"]}).encode(), key=str(r["id"]).encode())
    p.poll(0)
sys.exit(1 if p.flush(60) else 0)
PY
expect_exit 0 "run 2: the labels alone, until idle" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 4
expect_eq "$(json_get "$T/out" 'r["labels"]["joined"]')" $N "every label joined"
expect_eq "$(json_get "$T/out" 'r["learned"]')" $N "every joined record learned"
for t in "$F" "$L"; do
  "$PY" "$LIB/committed.py" "$BROKERS" "$GROUP" "$t" >"$T/committed.json"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if all(c == e for c, e in d.values()) else 1)' \
    "$T/committed.json" || { cat "$T/committed.json" >&2; fail "$t: the committed offset is not its end"; }
  pass "$t: committed up to its end $(cat "$T/committed.json")"
done
expect_exit 0 "run 3" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 3
expect_eq "$(json_get "$T/out" 'r["records"]')" 0 "run 3 reads nothing again"
expect_eq "$(json_get "$T/out" 'r["model_learned"]')" $N "the model's learned count is unchanged"
echo "labels exactly_once: all checks passed"
