#!/usr/bin/env bash
# `rtml produce`: keys from a field (strings unescaped, numbers as written), lines sent byte for byte
# (even invalid JSON), stdin input, --partition, --rate as an upper bound, and a non-zero exit when the
# broker does not acknowledge (an unknown topic).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
TOPIC=$(uniq_name produce)
"$RTML" topics create "$TOPIC" --partitions 2 >/dev/null
printf '%s\n' '{"id":"a\u00e9","v":1}' '{"id":17,"v":2}' 'not json' '{"v":3}' '' '{"id":"x","v":4}' >"$T/in.jsonl"
expect_exit 0 "produce from stdin to partition 1" -- bash -c "\"$RTML\" produce --topic $TOPIC --key-field /id --partition 1 <\"$T/in.jsonl\""
expect_grep "produced 5 records to $TOPIC: 5 acknowledged, 0 failed" "$T/out" "the empty line is skipped, the rest acknowledged"
expect_grep "2 records had no usable key field /id" "$T/err" "lines without a key are counted"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$TOPIC" >"$T/got.jsonl"
"$PY" - "$T/got.jsonl" <<'PY' || fail "records or keys differ"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
assert [g["partition"] for g in got] == [1] * 5, got
assert [g["key"] for g in got] == ["a\u00e9", "17", None, None, "x"], [g["key"] for g in got]
assert got[2]["value"] == "not json", got[2]
assert got[0]["value"] == '{"id":"a\\u00e9","v":1}', got[0]
print("ok: keys unescaped, numbers as written, invalid lines sent as they are, all on partition 1")
PY
"$RTML" gen --stream sea --n 300 >"$T/sea.jsonl"
start=$(date +%s%N)
expect_exit 0 "produce --rate 1000" -- "$RTML" produce --topic "$TOPIC" --input "$T/sea.jsonl" --rate 1000
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
# 300 records at <= 1000/s cannot take less than 299 ms (a lower bound only: no upper bound is asserted).
(( elapsed_ms >= 290 )) && pass "--rate holds 300 records to >= 0.29 s (took $elapsed_ms ms)" || fail "--rate 1000 sent 300 records in $elapsed_ms ms"
"$PY" -c 'print("{\"id\":1,\"blob\":\"" + "x" * 2000000 + "\"}")' >"$T/big.jsonl"
expect_exit 1 "a record the client cannot send (2 MB > message.max.bytes) fails the command" -- "$RTML" produce --topic "$TOPIC" --input "$T/big.jsonl"
expect_grep "cannot send a record to $TOPIC" "$T/err" "the failure is reported"
expect_exit 1 "produce from a missing file fails" -- "$RTML" produce --topic "$TOPIC" --input "$T/none.jsonl"
"$RTML" topics delete "$TOPIC" >/dev/null
echo "produce: all checks passed"
