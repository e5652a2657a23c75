# tests/parity/aggregates.sh — per-key aggregates (src/features/aggregate.c) against an independent Python reference
# and pandas, through `rtml replay` with output.features (the values the model saw).
#   1. 30,000 records over 2,000 keys (a few hot, many cold), event times out of order by up to 20 s, 1% of them an
#      hour late (beyond the 30 s lateness): count, sum, mean, min, max, std, distinct, last, time since last,
#      count over all history and a decayed mean, every value equal to the reference's (tests/parity/lib/
#      aggregates_ref.py: the records of the key that came before, with times in [t - window, t)).
#   2. 20,000 records in event-time order: count, sum, mean, min, max and std equal pandas'
#      groupby(key).rolling(window, on=time, closed="left").
#   3. distinct beyond distinct_cap: the HyperLogLog estimate within 3 standard errors (3 x 1.6%) of the truth.
set -euo pipefail
source "$RTML_ROOT/tests/lib/common.sh"
REF=$RTML_ROOT/tests/parity/lib/aggregates_ref.py
CFG=$RTML_ROOT/tests/parity/lib/aggregates.yaml

"$PY" "$REF" gen "$T/disorder.jsonl" 30000 2000 1 --disorder 20 --late 0.01
expect_exit 0 "replay, out of order" -- "$RTML" replay -c "$CFG" --input "$T/disorder.jsonl" --output "$T/disorder.out"
late=$(json_get "$T/out" 'r["aggregates"]["late"]')
[ "$late" -gt 200 ] || fail "the hour-late records were not counted as late: $late"
pass "$late records beyond the lateness counted as late (and kept out of the state)"
expect_exit 0 "every aggregate equals the reference's" -- "$PY" "$REF" check "$T/disorder.jsonl" "$T/disorder.out" 30

"$PY" "$REF" gen "$T/ordered.jsonl" 20000 1500 2 --disorder 0
expect_exit 0 "replay, in order" -- "$RTML" replay -c "$CFG" --input "$T/ordered.jsonl" --output "$T/ordered.out"
expect_exit 0 "windowed aggregates equal pandas' rolling" -- "$PY" "$REF" pandas "$T/ordered.jsonl" "$T/ordered.out"

# One key, 30,000 distinct merchants in the hour: far beyond a distinct_cap of 100.
"$PY" - "$T/many.jsonl" <<'PYEOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(30000):
        f.write(json.dumps({"card": "c0", "amount": 1.0, "merchant": f"m{i}", "ts_ms": 1_700_000_000_000 + i * 100,
                            "y": i % 2}) + "\n")
PYEOF
sed -e 's/  lateness: 30s/  lateness: 30s\n  distinct_cap: 100/' "$CFG" >"$T/hll.yaml"
expect_exit 0 "replay, many distinct values" -- "$RTML" replay -c "$T/hll.yaml" --input "$T/many.jsonl" --output "$T/many.out"
expect_exit 0 "HyperLogLog within 3 standard errors" -- "$PY" "$REF" hll "$T/many.out" 29999 0.048
