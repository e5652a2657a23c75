# tests/faults/lib/kill9.sh — kill -9 of `rtml run` at random moments of a live stream, then the counts that
# prove nothing was lost or learned twice (sourced by kill9_*.sh after common.sh).
#
# kill9_scenario MODE PARTITIONS KILLS
#   The stream: 100k SEA records, every 5th without a label, every 2000th malformed (x1 is a string, so it
#   must go to the dead-letter topic), produced at 8k records/s while rtml runs (about 12 s of stream).
#   rtml (delivery MODE, checkpoints every 200 ms, static group membership so a restart takes over at once)
#   is started, and once it has its partitions it is killed with SIGKILL after a random 0.2-1.5 s, KILLS
#   times; then it runs until the topic is idle and exits by itself. Then, read back by an independent
#   consumer (read_committed under exactly_once):
#     - every valid input id has a prediction (exactly one under exactly_once, at least one otherwise), and
#       every prediction's source points at the input record with that id;
#     - every malformed record is in the dead-letter topic (exactly once under exactly_once);
#     - the checkpoint's learned count equals the number of labelled valid records;
#     - with one partition (a deterministic order): the final model's digest and the cumulative metrics
#       equal those of a run over the same topic without any crash.
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline, sea_stream

kill9_scenario() {
  local mode=$1 parts=$2 kills=$3
  local tag=$1-$2p IN OUT DLQ GROUP
  IN=$(uniq_name k9-$tag-in); OUT=$(uniq_name k9-$tag-out); DLQ=$(uniq_name k9-$tag-dlq); GROUP=$(uniq_name k9-$tag)
  local N=100000
  "$RTML" topics create "$IN" --partitions "$parts" >/dev/null
  "$RTML" topics create "$OUT" --partitions 3 >/dev/null
  "$RTML" topics create "$DLQ" --partitions 1 >/dev/null
  sea_stream $N 5 2000 >"$T/stream-$tag.jsonl"

  kill9_config "$T/k9-$tag.yaml" "$IN" "$OUT" "$DLQ" "$GROUP" "$mode" "$T/state-$tag"
  "$RTML" produce --topic "$IN" --input "$T/stream-$tag.jsonl" --key-field /id --rate 8000 >"$T/produce.log" 2>&1 &
  local producer=$!

  local k pid
  for ((k = 1; k <= kills; k++)); do
    "$RTML" run -c "$T/k9-$tag.yaml" >"$T/run-$tag-$k.out" 2>"$T/run-$tag-$k.err" &
    pid=$!
    wait_for_log "$T/run-$tag-$k.err" "assigned [1-9]" 90 || { kill -9 $pid; cat "$T/run-$tag-$k.err" >&2; fail "run $k never got its partitions"; }
    sleep "$("$PY" -c 'import random; print(round(random.uniform(0.2, 1.5), 2))')" # the random moment (the fault)
    kill -9 $pid 2>/dev/null || fail "rtml exited before kill $k (see $T/run-$tag-$k.err)"
    wait $pid 2>/dev/null || true
    echo "injected: kill -9 #$k after $(grep -c . "$T/run-$tag-$k.err") log lines; checkpoints now: $(ls "$T/state-$tag" 2>/dev/null | tr '\n' ' ')"
  done
  wait $producer || { cat "$T/produce.log" >&2; fail "producing the stream failed"; }
  expect_exit 0 "rtml run after $kills kills, until idle" -- "$RTML" run -c "$T/k9-$tag.yaml" --exit-on-idle 6
  cp "$T/out" "$T/final-$tag.json"
  grep -h "resuming from checkpoint" "$T"/run-$tag-*.err "$T/err" | sed 's/.*info: /  /' | head -20

  local iso=read_uncommitted
  [ "$mode" == exactly_once ] && iso=read_committed
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation $iso >"$T/out.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$DLQ" --isolation $iso --headers >"$T/dlq.jsonl"
  "$RTML" state -c "$T/k9-$tag.yaml" >"$T/state-$tag.json" || fail "no checkpoint after the run"
  "$PY" "$RTML_ROOT/tests/faults/lib/check_outputs.py" "$mode" "$T/in.jsonl" "$T/out.jsonl" "$T/dlq.jsonl" \
    "$T/state-$tag.json" || {
    grep -hE " (warn|error): | committed " "$T"/run-$tag-*.err "$T/err" | sed 's/^[^ ]* //' | head -60 >&2 # how each run started
    fail "$mode: outputs, dead letters or learned count wrong after $kills kills"
  }

  if [ "$parts" == 1 ]; then
    kill9_config "$T/ref-$tag.yaml" "$IN" "$(uniq_name k9-ref-$tag-out)" "$(uniq_name k9-ref-$tag-dlq)" "$(uniq_name k9-ref-$tag)" \
      "$mode" "$T/ref-state-$tag"
    "$RTML" topics create "$(uniq_name k9-ref-$tag-out)" --partitions 3 >/dev/null
    "$RTML" topics create "$(uniq_name k9-ref-$tag-dlq)" --partitions 1 >/dev/null
    expect_exit 0 "reference run without crashes" -- "$RTML" run -c "$T/ref-$tag.yaml" --exit-on-idle 6
    cp "$T/out" "$T/ref-$tag.json"
    "$RTML" state -c "$T/ref-$tag.yaml" >"$T/ref-state-$tag.json"
    expect_eq "$(json_get "$T/state-$tag.json" 'r["digest"]')" "$(json_get "$T/ref-state-$tag.json" 'r["digest"]')" \
      "model after $kills kills == model without crashes (digest)"
    expect_eq "$(json_get "$T/final-$tag.json" 'r["metrics"]')" "$(json_get "$T/ref-$tag.json" 'r["metrics"]')" \
      "prequential metrics after $kills kills == without crashes"
    "$RTML" topics delete "$(uniq_name k9-ref-$tag-out)" >/dev/null
    "$RTML" topics delete "$(uniq_name k9-ref-$tag-dlq)" >/dev/null
  fi
  for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics delete "$t" >/dev/null; done
}

# kill9_config FILE IN OUT DLQ GROUP MODE STATE_DIR
kill9_config() {
  cat >"$1" <<YAML
kafka:
  bootstrap.servers: $BROKERS
  group.id: $5
  group.instance.id: $5-instance   # static membership: a restarted instance takes its partitions back at once
  session.timeout.ms: 6000
  auto.offset.reset: earliest
$(sea_pipeline "$2" "$3" '{engine: native, type: logistic, optimizer: {name: adam, learning_rate: 0.01}}')
delivery: $6
state: {dir: $7, checkpoint_every: 200ms}
dead_letter: {topic: $4}
YAML
}

