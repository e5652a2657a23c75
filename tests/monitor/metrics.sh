#!/usr/bin/env bash
# The monitor's endpoints against a real pipeline: `rtml run` with monitor.listen scores 20k SEA records
# and 20 malformed ones from a 2-partition topic through the test broker, and
#   - /healthz is 200 while it runs, /readyz becomes 200 once partitions are assigned;
#   - /metrics passes `promtool check metrics` and its figures are the run's: consumed per partition summing
#     to every record, learned = labelled, 20 failed and 20 dead letters (malformed), one end-to-end latency
#     sample per acknowledged output, one batch per record, lag 0 per partition once caught up, prequential
#     accuracy equal to /model's, the model version, process memory and CPU;
#   - /model names the engine and type, the learned count and the feature statistics, and never a secret
#     (neither does any other endpoint); /api/stats holds aligned series and the totals;
#   - unknown paths are 404, other methods 405; a second instance on the same port exits 2 naming it;
#   - SIGTERM exits 0 and the port closes;
#   - with log.format json every line rtml wrote on stderr (librdkafka's included) is a JSON object with
#     ts, level, pid and msg, and the repeated rejections carry their count.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
PORT=${RTML_MONITOR_PORT:-19464}
BASE=http://127.0.0.1:$PORT
SECRET=n0t-for-your-eyes-$RUN_ID
N=20000 BAD=20
IN=$(uniq_name mon); OUT=$(uniq_name mon-scored); DLQ=$(uniq_name mon-dlq); GROUP=$(uniq_name mon)
TOPICS=("$IN" "$OUT" "$DLQ")
command -v promtool >/dev/null || fail "promtool is not installed (scripts/setup.sh installs Debian's prometheus)"

"$RTML" topics create "$IN" --partitions 2 >/dev/null
"$RTML" topics create "$OUT" --partitions 2 >/dev/null
"$RTML" topics create "$DLQ" >/dev/null
"$RTML" gen --stream sea --n $N --seed 5 >"$T/in.jsonl"
for i in $(seq 1 $BAD); do echo "{\"id\": \"bad-$i\", \"x1\": oops}"; done >>"$T/in.jsonl"
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id >/dev/null 2>&1 || true # the bad lines have no key
TOTAL=$((N + BAD))

cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $GROUP
  auto.offset.reset: earliest
  sasl.password: $SECRET
$(sea_pipeline "$IN" "$OUT")
delivery: at_least_once
state: {dir: $T/state}
dead_letter: {topic: $DLQ}
monitor: {listen: 127.0.0.1:$PORT}
drift: {detector: adwin}
log: {level: info, format: json}
YAML
start_run "$T/run.yaml"
wait_until "/healthz answers 200" 30 http_get "$BASE/healthz"
wait_until "/readyz answers 200 (partitions assigned)" 60 http_get "$BASE/readyz"
consumed() { http_get "$BASE/metrics" "$T/m.txt" && [ "$(metric_sum "$T/m.txt" rtml_records_consumed_total)" == "$TOTAL" ]; }
wait_until "every record consumed ($TOTAL)" 60 consumed
acked() { http_get "$BASE/metrics" "$T/m.txt" && [ "$(metric "$T/m.txt" rtml_end_to_end_latency_seconds_count)" == "$TOTAL" ]; }
wait_until "every output acknowledged (one latency sample each)" 60 acked
lag_zero() {
  http_get "$BASE/metrics" "$T/m.txt" &&
    [ "$(metric "$T/m.txt" rtml_consumer_lag "topic=\"$IN\",partition=\"0\"")" == 0 ] &&
    [ "$(metric "$T/m.txt" rtml_consumer_lag "topic=\"$IN\",partition=\"1\"")" == 0 ]
}
wait_until "consumer lag 0 on both partitions (librdkafka statistics)" 30 lag_zero

http_get "$BASE/metrics" "$T/m.txt"
promtool check metrics <"$T/m.txt" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out" >&2; fail "promtool check metrics"; }
pass "promtool check metrics accepts /metrics ($(wc -l <"$T/m.txt") lines)"
p0=$(metric "$T/m.txt" rtml_records_consumed_total "topic=\"$IN\",partition=\"0\"")
p1=$(metric "$T/m.txt" rtml_records_consumed_total "topic=\"$IN\",partition=\"1\"")
[ "$p0" -gt 0 ] && [ "$p1" -gt 0 ] && pass "records consumed per partition ($p0 + $p1)" || fail "per-partition counts $p0 $p1"
expect_eq "$(metric_sum "$T/m.txt" rtml_records_learned_total)" $N "learned (every labelled record)"
expect_eq "$(metric_sum "$T/m.txt" rtml_records_failed_total)" $BAD "failed records"
expect_eq "$(metric_sum "$T/m.txt" rtml_records_produced_total)" $TOTAL "outputs acknowledged"
expect_eq "$(metric "$T/m.txt" rtml_dead_letters_total 'reason="malformed"')" $BAD "dead letters (malformed)"
expect_eq "$(metric "$T/m.txt" rtml_records_rejected_total 'reason="malformed"')" $BAD "rejected (malformed)"
expect_eq "$(metric "$T/m.txt" rtml_batch_size_records_count)" $N "model calls (native: one per record)"
expect_eq "$(metric "$T/m.txt" rtml_batch_size_records_bucket 'le="1"')" $N "batches of one record"
expect_eq "$(metric "$T/m.txt" rtml_processing_latency_seconds_count)" $N "processing latency samples"
expect_eq "$(metric "$T/m.txt" rtml_end_to_end_latency_seconds_bucket 'le="+Inf"')" $TOTAL "latency +Inf bucket"
expect_eq "$(metric "$T/m.txt" rtml_model_version)" 1 "model version"
expect_eq "$(metric "$T/m.txt" rtml_rebalances_total)" 1 "rebalances"
expect_eq "$(metric "$T/m.txt" rtml_partition_assigned "topic=\"$IN\",partition=\"1\"")" 1 "partition 1 assigned"
expect_eq "$(metric "$T/m.txt" rtml_prequential_evaluated_total)" $N "records evaluated"
expect_eq "$(metric "$T/m.txt" rtml_drift_events_total 'detector="adwin"')" 0 "no drift on a stationary stream"
rss=$(metric "$T/m.txt" process_resident_memory_bytes); cpu=$(metric "$T/m.txt" process_cpu_seconds_total)
"$PY" -c "import sys; sys.exit(not (5e6 < $rss < 2e9 and $cpu > 0))" && pass "process RSS $rss bytes, CPU $cpu s" \
  || fail "process figures: rss $rss cpu $cpu"
"$PY" - "$T/m.txt" <<'PY' || fail "latency histogram buckets are not cumulative"
import sys
prev = -1
for line in open(sys.argv[1]):
    if line.startswith("rtml_end_to_end_latency_seconds_bucket"):
        v = float(line.split()[-1]); assert v >= prev, line; prev = v
print("ok: latency buckets are cumulative")
PY

http_get "$BASE/model" "$T/model.json"
"$PY" - "$T/model.json" "$T/m.txt" $N <<'PY' || fail "/model"
import json, sys
m = json.load(open(sys.argv[1])); n = int(sys.argv[3])
assert m["engine"] == "native" and m["type"] == "logistic" and m["task"] == "binary", m
assert m["version"] == 1 and m["learned"] == n and m["evaluated"] == n, m
names = [f["name"] for f in m["features"]]
assert names == ["x1", "x2", "x3"], names
for f in m["features"]:
    s = f["statistics"][0]
    assert s["transform"] == "standardize" and s["n"] == n and 4.5 < s["mean"] < 5.5 and 2.5 < s["std"] < 3.2, f
assert m["kafka"]["sasl.password"] == "[redacted]", m["kafka"]
prom = {}
for line in open(sys.argv[2]):
    if line.startswith("rtml_prequential_accuracy{scope=\"cumulative\"}"): prom["acc"] = float(line.split()[-1])
assert abs(prom["acc"] - m["metrics"]["accuracy"]) < 1e-12, (prom, m["metrics"])
assert m["metrics"]["accuracy"] > 0.85, m["metrics"]
print("ok: /model: engine, type, version, learned, features with statistics, accuracy =", m["metrics"]["accuracy"])
PY

http_get "$BASE/api/stats" "$T/stats.json"
"$PY" - "$T/stats.json" $TOTAL "$IN" <<'PY' || fail "/api/stats"
import json, sys
s = json.load(open(sys.argv[1])); total = int(sys.argv[2]); topic = sys.argv[3]
assert s["ready"] is True and s["totals"]["consumed"] == total and s["totals"]["dead_letters"] == 20, s["totals"]
n = len(s["series"]["t"]); assert n >= 1
for k, v in s["series"].items():
    if k == "quality":
        for q in v.values(): assert len(q) == n
    else: assert len(v) == n, k
assert set(s["lag"]) == {topic + "/0", topic + "/1"} and all(len(v) == n for v in s["lag"].values()), s["lag"]
assert sum(x for x in s["series"]["in_rate"] if x) > 0, s["series"]["in_rate"]
print("ok: /api/stats: %d samples, totals %s" % (n, s["totals"]))
PY

for path in /metrics /model /api/stats / /healthz /readyz; do
  body=$(curl -s --max-time 5 "$BASE$path")
  case "$body" in *"$SECRET"*) fail "the secret appears in $path";; esac
done
pass "the kafka secret appears in no endpoint"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/no-such-page")" 404 "unknown path"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/metrics")" 405 "POST"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/")" 200 "dashboard page"

sed -e "s|dir: $T/state|dir: $T/state2|" -e "s|group.id: $GROUP|group.id: $GROUP-2|" "$T/run.yaml" >"$T/second.yaml"
expect_exit 2 "a second instance on the same monitor port" -- "$RTML" run -c "$T/second.yaml" --exit-on-idle 5
expect_grep "monitor.listen '127.0.0.1:$PORT': cannot listen" "$T/err" "the error names monitor.listen"

stop_run TERM
expect_eq "$RUN_RC" 0 "SIGTERM: clean exit"
curl -s --max-time 2 "$BASE/healthz" >/dev/null && fail "the port still answers after exit" || pass "the port is closed after exit"
"$PY" - "$T/run.log" <<'PY' || fail "log.format json"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines]
assert recs and all(set(r) >= {"ts", "level", "pid", "msg"} for r in recs), recs[:3]
rejected = [r for r in recs if "rejected" in r["msg"] and r["level"] == "warn"]
assert rejected and max(r.get("count", 0) for r in rejected) == 10, rejected[-1:]
print("ok: %d log lines, all JSON; %d rejections logged (rate-limited, with counts)" % (len(recs), len(rejected)))
PY
echo "monitor metrics: all checks passed"
