#!/usr/bin/env bash
# Aggregates keyed by a field (/card) through the internal repartition topic, with two workers and exactly_once:
#   - 20,000 records of 800 cards, produced once both workers hold partitions, into an input topic of 3
#     partitions, keyed by card (so one card's records keep
#     their order: the aggregates are then deterministic), while the aggregates read /card (a field, so rtml
#     re-keys every record through "<group>-aggregates", created with the input's 3 partitions);
#   - every input has exactly one prediction (read_committed), keyed by its own key, with its own source;
#   - every prediction's features (output.features) equal `rtml replay`'s for the same record: the hop through the
#     internal topic and two workers give the aggregates of one pipeline over the whole stream;
#   - output.features_topic holds exactly one features record per input, equal to the prediction's features;
#   - /metrics shows the aggregates' state (promtool accepts it).
set -euo pipefail
source "$RTML_ROOT/tests/lib/common.sh"

IN=$(uniq_name rp-in); OUT=$(uniq_name rp-out); FEAT=$(uniq_name rp-feat); GROUP=$(uniq_name rp)
"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 2 >/dev/null
"$RTML" topics create "$FEAT" --partitions 2 >/dev/null
"$PY" "$RTML_ROOT/tests/parity/lib/aggregates_ref.py" gen "$T/raw.jsonl" 20000 800 3 --disorder 0
"$PY" - "$T/raw.jsonl" "$T/stream.jsonl" <<'PYEOF'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for i, line in enumerate(src):
        r = json.loads(line)
        r["id"] = i
        dst.write(json.dumps(r) + "\n")
PYEOF

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/rp.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  auto.offset.reset: earliest
input: {topics: [$IN], format: json}
aggregates:
  time: /ts_ms
  lateness: 1m
  list:
    - {name: cnt_10m, key: /card, fn: count, window: 10m}
    - {name: mean_1h, key: /card, field: /amount, fn: mean, window: 1h}
    - {name: distinct_1h, key: /card, field: /merchant, fn: distinct, window: 1h}
    - {name: since_last, key: /card, fn: time_since_last}
features:
  - {name: cnt_10m, aggregate: cnt_10m}
  - {name: mean_1h, aggregate: mean_1h, transforms: [{impute: -1}]}
  - {name: distinct_1h, aggregate: distinct_1h}
  - {name: since_last, aggregate: since_last, transforms: [{impute: -1}]}
  - {name: amount}
label: {field: /y}
output: {topic: $OUT, format: json, features: true, features_topic: $FEAT}
delivery: exactly_once
state: {dir: $T/state, checkpoint_every: 1s}
monitor: {listen: "127.0.0.1:$PORT"}
workers: 2
YAML
sed -e '/^kafka:/,/^input:/{/^input:/!d}' -e '/^workers:/d' -e '/^monitor:/d' "$T/rp.yaml" >"$T/replay.yaml"
expect_exit 0 "the reference: one pipeline over the whole stream (rtml replay)" -- \
  "$RTML" replay -c "$T/replay.yaml" --input "$T/stream.jsonl" --output "$T/ref.jsonl"

# The records are produced once both workers hold partitions: a key's state stays with the member that built it,
# so a partition that moves to a worker joining later would start its keys afresh (docs/features.md, "Keys and
# partitions"); this test is about the hop and the workers, not about that.
"$RTML" run -c "$T/rp.yaml" --exit-on-idle 8 >"$T/run.out" 2>"$T/run.err" &
pid=$!
for w in 0 1; do
  wait_for_log "$T/run.err" "worker $w: .*assigned [1-9]" 90 || { kill $pid; cat "$T/run.err" >&2; fail "worker $w got no partition"; }
done
"$RTML" produce --topic "$IN" --input "$T/stream.jsonl" --key-field /card >/dev/null
expect_grep "re-keyed through $GROUP-aggregates \(3 partitions\)" "$T/run.err" "the repartition topic has the input's 3 partitions"
# /metrics while it runs (worker 0 on PORT, worker 1 on PORT + 1: the one whose partitions of the repartition
# topic carry keys): the aggregates' state, in a format promtool accepts
ok=
for _ in $(seq 1 300); do
  for p in "$PORT" $((PORT + 1)); do
    if curl -sf "http://127.0.0.1:$p/metrics" >"$T/metrics.txt" && grep -q '^rtml_aggregate_keys [1-9]' "$T/metrics.txt"; then ok=1; break 2; fi
  done
  "$PY" -c 'import time; time.sleep(0.1)' # poll, bounded: 300 tries (30 s; the sanitizer build is slow)
done
[ -n "$ok" ] || fail "/metrics never showed aggregate keys"
promtool check metrics <"$T/metrics.txt" >/dev/null 2>"$T/promtool.err" || { cat "$T/promtool.err" >&2; fail "promtool refused /metrics"; }
pass "/metrics shows the aggregates' keys, and promtool accepts it"
wait $pid || { tail -20 "$T/run.err" >&2; fail "rtml run failed"; }
pass "two workers ran until idle (exit 0)"

"$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed >"$T/out.jsonl"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$FEAT" --isolation read_committed >"$T/feat.jsonl"
"$PY" - "$T/in.jsonl" "$T/out.jsonl" "$T/feat.jsonl" "$T/ref.jsonl" "$IN" <<'PYEOF' || fail "predictions or features wrong"
import json, sys
ins, outs, feats, ref, topic = sys.argv[1:]
by_pos = {}
for line in open(ins):
    r = json.loads(line)
    by_pos[(r["partition"], r["offset"])] = (json.loads(r["value"])["id"], r["key"])
ref = [json.loads(l)["features"] for l in open(ref)]
def read(path):
    got = {}
    for line in open(path):
        m = json.loads(line)
        v = json.loads(m["value"])
        s = v["source"]
        assert s["topic"] == topic, f"source topic {s['topic']}"
        i, key = by_pos[(s["partition"], s["offset"])]
        assert m["key"] == key, f"record {i}: key {m['key']} != its input's {key}"
        got.setdefault(i, []).append(v)
    return got
preds, fs = read(outs), read(feats)
n = len(by_pos)
bad = [i for i in range(n) if len(preds.get(i, [])) != 1 or len(fs.get(i, [])) != 1]
print(f"{n} inputs: {len(preds)} with predictions, {len(fs)} with features records, {len(bad)} not exactly one")
diff = [i for i in range(n) if i not in bad and (preds[i][0]["features"] != ref[i] or fs[i][0]["features"] != ref[i])]
for i in diff[:5]:
    print(f"record {i}: run {preds[i][0]['features']} replay {ref[i]}")
print(f"{len(diff)} records whose features differ from the replay's")
sys.exit(1 if bad or diff else 0)
PYEOF
pass "exactly one prediction and one features record per input, keyed and sourced like it, features equal to one pipeline's"
for t in "$IN" "$OUT" "$FEAT" "$GROUP-aggregates"; do "$RTML" topics delete "$t" >/dev/null 2>&1 || true; done
echo "aggregates_repartition: all checks passed"
