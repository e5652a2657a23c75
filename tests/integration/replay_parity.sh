#!/usr/bin/env bash
# `rtml replay` over a file and `rtml run` over the same records in one partition give the same metrics
# and the same predictions (the pipeline is one code path, processed in order).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
IN=$(uniq_name parity); OUT=$(uniq_name parity-scored); GROUP=$(uniq_name parity)
"$RTML" gen --stream sea --n 20000 --seed 9 --drift-at 10000 >"$T/sea.jsonl"
"$RTML" topics create "$IN" >/dev/null
"$RTML" topics create "$OUT" >/dev/null
"$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id >/dev/null
write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP"
expect_exit 0 "rtml run" -- "$RTML" run -c "$T/run.yaml" --exit-on-idle 4
cp "$T/out" "$T/run.json"
expect_exit 0 "rtml replay" -- "$RTML" replay -c "$T/run.yaml" --input "$T/sea.jsonl" --output "$T/replay.jsonl"
cp "$T/out" "$T/replay.json"
for m in accuracy logloss window_accuracy; do
  expect_eq "$(json_get "$T/run.json" "r['metrics']['$m']")" "$(json_get "$T/replay.json" "r['metrics']['$m']")" "run and replay agree on $m"
done
expect_eq "$(json_get "$T/run.json" 'r["learned"]')" "$(json_get "$T/replay.json" 'r["learned"]')" "run and replay agree on learned"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/out.jsonl"
"$PY" - "$T/out.jsonl" "$T/replay.jsonl" <<'PY' || fail "scores differ between run and replay"
import json, sys
run = {json.loads(l)["offset"]: json.loads(json.loads(l)["value"])["score"] for l in open(sys.argv[1])}
rep = [json.loads(l)["score"] for l in open(sys.argv[2])]
assert len(run) == len(rep) == 20000, (len(run), len(rep))
diff = [i for i in range(len(rep)) if run[i] != rep[i]]
assert not diff, f"{len(diff)} scores differ, first at {diff[0]}"
print("ok: all 20000 scores identical")
PY
for t in "$IN" "$OUT"; do "$RTML" topics delete "$t" >/dev/null; done
echo "replay_parity: all checks passed"
