#!/usr/bin/env bash
# Checkpoints due more often than they can be written must not starve the stream (the campaign's seed 2066: a
# 3.4 MB checkpoint every 50 ms left about one record per loop between checkpoints, 10 records/s). A model of 2^20
# hashed weights (an 8 MB checkpoint) with checkpoint_every: 10ms over 30,000 records: the run gets through them
# all well within the deadline (each checkpoint that takes longer than a quarter of the interval defers the next
# by three times its duration), and it did checkpoint along the way.
set -euo pipefail
source "$RTML_ROOT/tests/lib/common.sh"
IN=$(uniq_name slowck-in); OUT=$(uniq_name slowck-out); GROUP=$(uniq_name slowck)
"$RTML" topics create "$IN" --partitions 1 >/dev/null
"$RTML" topics create "$OUT" --partitions 1 >/dev/null
"$RTML" gen --stream sea --n 30000 --seed 4 >"$T/sea.jsonl"
"$RTML" produce --topic "$IN" --input "$T/sea.jsonl" >/dev/null
cat >"$T/slow.yaml" <<YAML
kafka: {bootstrap.servers: $BROKERS, group.id: $GROUP, auto.offset.reset: earliest}
input: {topics: [$IN], format: json}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2h, field: /x2, transforms: [{hash: 1048576}]}
label: {field: /label}
model: {type: logistic}
output: {topic: $OUT, format: json}
state: {dir: $T/state, checkpoint_every: 10ms}
YAML
expect_exit 0 "30,000 records with an 8 MB checkpoint due every 10 ms (deadline 240 s)" -- \
  timeout 240 "$RTML" run -c "$T/slow.yaml" --exit-on-idle 5
expect_eq "$(json_get "$T/out" 'r["records"]')" 30000 "every record processed"
seq=$(json_get "$T/out" 'r["checkpoint_seq"]')
[ "$seq" -ge 3 ] || fail "it should have checkpointed along the way: checkpoint_seq $seq"
pass "it checkpointed along the way ($seq checkpoints)"
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
echo "slow_checkpoint: all checks passed"
