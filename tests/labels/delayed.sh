#!/usr/bin/env bash
# Labels that arrive later on their own topic (label.topic, issue 8), against the test broker:
#   1. parity: every label 50 records after its record; rtml's prequential accuracy on the delayed labels is
#      River's progressive_val_score(delay=50) on the same stream within 0.5 pp, and every label is joined;
#   2. messy labels (lib/label_stream.py): missing, duplicated, early, unknown and late (past a 5 s ttl), by
#      i % 20; the join's counts are exactly those the stream was made with, and the model learned each
#      joined record once;
#   3. kill -9 twice while joins are pending (checkpoints every 200 ms), then a restart to the end: the same
#      counts as in 2, learned = joined (nothing lost, nothing learned twice), every record predicted;
#   4. a backlog of both topics read at full speed with max_early 500: labels read ahead of their records wait
#      in Kafka (the label partitions pause), so none is dropped: the counts are still exact.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
STREAM_PY=$RTML_ROOT/tests/labels/lib/label_stream.py
N=20000
"$RTML" gen --stream sea --n $N --seed 11 >"$T/sea.jsonl"

# config FILE NAME [LABEL_KEYS]: features NAME-f, labels NAME-l, predictions NAME-out, its own group and state
config() {
  cat >"$1" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $(uniq_name lb-$2)
  session.timeout.ms: 6000
  auto.offset.reset: earliest
input: {topics: [$(uniq_name lb-$2-f)], format: json}
features:
  - {name: x1, field: /x1, transforms: [standardize]}
  - {name: x2, field: /x2, transforms: [standardize]}
  - {name: x3, field: /x3, transforms: [standardize]}
label: {topic: $(uniq_name lb-$2-l), key: /id, value: /y, ttl: 5s, wait: 1s${3:+, $3}}
model: {type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}
output: {topic: $(uniq_name lb-$2-out)}
state: {dir: $T/state-$2, checkpoint_every: 200ms}
YAML
  [ "$2" != messy ] || echo "monitor: {listen: 127.0.0.1:19481}" >>"$1"
  for t in f l out; do "$RTML" topics create "$(uniq_name lb-$2-$t)" --partitions 1 >/dev/null; done
}
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

# run NAME LOG [--messy]: rtml and the paced producer side by side, rtml until the topics are idle
run() {
  local name=$1 log=$2; shift 2
  "$RTML" run -c "$T/$name.yaml" --exit-on-idle 5 >"$T/$name.out" 2>"$log" &
  local r=$!; pids+=($r)
  wait_for_log "$log" "assigned [1-9]" 60 || { tail "$log" >&2; fail "$name: rtml got no partitions"; }
  "$PY" "$STREAM_PY" produce "$BROKERS" "$(uniq_name lb-$name-f)" "$(uniq_name lb-$name-l)" "$T/sea.jsonl" \
    "$T/$name-expect.json" --delay 50 --rate 4000 "$@" >"$T/$name-produce.log" || fail "$name: producing failed"
  if [ "$name" = messy ]; then # rtml is still running (until 5 s idle): its /metrics, checked by promtool
    curl -sf http://127.0.0.1:19481/metrics >"$T/metrics.txt" || fail "messy: no /metrics"
    promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 || { cat "$T/promtool.log" >&2; fail "promtool"; }
    for m in 'rtml_label_records_total{outcome="joined"}' 'rtml_label_evictions_total{cause="ttl"}' \
             rtml_label_join_hit_ratio rtml_label_pending_records 'rtml_label_delay_seconds_bucket{le="1"}'; do
      grep -qF "$m" "$T/metrics.txt" || fail "/metrics has no $m"
    done
    pass "/metrics: the join's counters, evictions, hit ratio, pending records and label delays (promtool ok)"
  fi
  wait $r || { tail -20 "$log" >&2; fail "$name: rtml failed"; }
}

predictions_ok() { # NAME: every record has a prediction (read back with an independent consumer)
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$(uniq_name lb-$1-f)" >"$T/$1-in.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$(uniq_name lb-$1-out)" >"$T/$1-preds.jsonl"
  "$PY" "$LIB/check_predictions.py" "$T/$1-in.jsonl" "$T/$1-preds.jsonl" $N || fail "$1: predictions"
}

# 1. parity with River's progressive validation, delay 50
config "$T/clean.yaml" clean
run clean "$T/clean.err"
"$PY" "$STREAM_PY" check "$T/clean-expect.json" "$T/clean.out" || fail "clean: the join's counts"
"$PY" "$STREAM_PY" river "$T/sea.jsonl" "$T/clean.out" --delay 50 || fail "clean: accuracy differs from River's"
predictions_ok clean
pass "every delayed label joined once; prequential accuracy within 0.5 pp of River's"

# 2. missing, duplicated, early, unknown and late labels
config "$T/messy.yaml" messy
run messy "$T/messy.err" --messy
"$PY" "$STREAM_PY" check "$T/messy-expect.json" "$T/messy.out" || fail "messy: the join's counts"
predictions_ok messy
pass "missing, duplicate, early, unknown and late labels each counted; learned = joined"

# 3. kill -9 with pending joins, twice, then a restart to the end
config "$T/kill.yaml" kill
"$RTML" run -c "$T/kill.yaml" >"$T/kill-1.out" 2>"$T/kill-1.err" &
r=$!; pids+=($r)
wait_for_log "$T/kill-1.err" "assigned [1-9]" 60 || fail "kill: rtml got no partitions"
"$PY" "$STREAM_PY" produce "$BROKERS" "$(uniq_name lb-kill-f)" "$(uniq_name lb-kill-l)" "$T/sea.jsonl" \
  "$T/kill-expect.json" --delay 50 --rate 2500 --messy >"$T/kill-produce.log" &
producer=$!; pids+=($producer)
# pending_checkpoint: wait (30 s at most) until the newest checkpoint holds pending joins and learned records
pending_checkpoint() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    "$RTML" state -c "$T/kill.yaml" 2>/dev/null | "$PY" -c '
import json, sys
s = json.loads(sys.stdin.read())
sys.exit(0 if s.get("joins", {}).get("pending", 0) > 0 and s["learned"] > 0 else 1)' && return 0
    sleep 0.1
  done
  return 1
}
for k in 1 2; do
  wait_for_log "$T/kill-$k.err" "assigned [1-9]" 60 || fail "kill: run $k got no partitions"
  pending_checkpoint || fail "kill: no checkpoint with pending joins before kill $k"
  kill -9 $r; wait $r 2>/dev/null || true
  idle=(); [ $k = 2 ] && idle=(--exit-on-idle 5) # the last run goes on to the end of the stream
  "$RTML" run -c "$T/kill.yaml" "${idle[@]}" >"$T/kill-$((k + 1)).out" 2>"$T/kill-$((k + 1)).err" &
  r=$!; pids+=($r)
  wait_for_log "$T/kill-$((k + 1)).err" "restored [1-9][0-9]* pending joins" 60 ||
    { tail "$T/kill-$((k + 1)).err" >&2; fail "kill: restart $k restored no pending joins"; }
done
pass "killed twice with joins pending; each restart restored them from its checkpoint"
wait $producer || fail "kill: producing failed"
wait $r || { tail -20 "$T/kill-3.err" >&2; fail "kill: the last run did not end cleanly"; }
"$PY" "$STREAM_PY" check "$T/kill-expect.json" "$T/kill-3.out" --restarted || fail "kill: counts after restarts"
predictions_ok kill
# 4. both topics produced before rtml starts, with room for 500 waiting labels only
config "$T/backlog.yaml" backlog "max_early: 500"
"$PY" "$STREAM_PY" produce "$BROKERS" "$(uniq_name lb-backlog-f)" "$(uniq_name lb-backlog-l)" "$T/sea.jsonl" \
  "$T/backlog-expect.json" --delay 50 --messy >"$T/backlog-produce.log" || fail "backlog: producing failed"
"$RTML" run -c "$T/backlog.yaml" --exit-on-idle 4 >"$T/backlog.out" 2>"$T/backlog.err" || fail "backlog: rtml failed"
"$PY" "$STREAM_PY" check "$T/backlog-expect.json" "$T/backlog.out" || fail "backlog: the join's counts"
echo "backlog: label pauses $(json_get "$T/backlog.out" 'r["label_pauses"]')"
for name in clean messy kill backlog; do
  for t in f l out; do "$RTML" topics delete "$(uniq_name lb-$name-$t)" >/dev/null; done
done
echo "delayed labels: all checks passed"
