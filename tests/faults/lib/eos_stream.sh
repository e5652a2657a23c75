# tests/faults/lib/eos_stream.sh — one exactly_once pipeline over a live SEA stream, and the check of what it left
# on the topics, and a broker of its own behind tests/lib/kafka_proxy.py (sourced by txn_timeout.sh,
# txn_offsets_cut.sh and txn_commit_cut.sh after common.sh and config.sh).
#
# proxied_broker PORT PROXY_PORT
#   A fresh broker on PORT whose clients all go through PROXY_PORT (scripts/kafka.sh --proxied): sets KAFKA,
#   BROKERS (the broker itself, for the test's readers) and RTML_BROKERS, and an EXIT trap that kills every pid in
#   pids, wipes the broker and removes $T (unless KEEP_T).
# start_proxy LOG ARGS...
#   The proxy on PROXY_PORT in front of the broker, cutting as ARGS say (tests/lib/kafka_proxy.py); replaces the
#   one it started before. Fails the test if it does not listen within 30 s.
# wait_exit PID SECONDS
#   Waits for rtml to end and sets RC to its exit status; fails the test if it still runs after SECONDS.
#
# eos_stream TAG N BOOTSTRAP TXN_TIMEOUT_MS
#   Sets IN, OUT, DLQ, GROUP (unique names from TAG) and creates the topics (2, 2 and 1 partitions); writes
#   $T/in.jsonl (N SEA records, every 5th unlabelled, every 2000th malformed) and $T/run.yaml: a static member
#   reaching the brokers at BOOTSTRAP, logistic regression, exactly_once, checkpoints every 500 ms,
#   transaction.timeout.ms TXN_TIMEOUT_MS.
# eos_check
#   Reads the topics back (read_committed) and the checkpoint, then check_outputs.py: exactly one prediction per
#   valid input, one dead letter per malformed one, learned = labelled. On failure, prints rtml's warnings
#   ($T/run.err) and its report ($T/run.out) and returns 1.
eos_stream() {
  local tag=$1 n=$2 boot=$3 timeout_ms=$4
  IN=$(uniq_name "$tag-in"); OUT=$(uniq_name "$tag-out"); DLQ=$(uniq_name "$tag-dlq"); GROUP=$(uniq_name "$tag")
  "$RTML" topics create "$IN" --partitions 2 >/dev/null
  "$RTML" topics create "$OUT" --partitions 2 >/dev/null
  "$RTML" topics create "$DLQ" --partitions 1 >/dev/null
  sea_stream "$n" 5 2000 >"$T/in.jsonl"
  cat >"$T/run.yaml" <<YAML
kafka:
  bootstrap.servers: $boot
  group.id: $GROUP
  group.instance.id: $GROUP-a
  auto.offset.reset: earliest
  transaction.timeout.ms: $timeout_ms
$(sea_pipeline "$IN" "$OUT" '{engine: native, type: logistic, optimizer: {name: adam, learning_rate: 0.01}}')
delivery: exactly_once
state: {dir: $T/state, checkpoint_every: 500ms}
dead_letter: {topic: $DLQ}
YAML
}

eos_check() {
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in-topic.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed >"$T/out.jsonl"
  "$PY" "$LIB/read_topic.py" "$BROKERS" "$DLQ" --isolation read_committed --headers >"$T/dlq.jsonl"
  "$RTML" state -c "$T/run.yaml" >"$T/state.json" || { echo "no checkpoint after the run" >&2; return 1; }
  "$PY" "$RTML_ROOT/tests/faults/lib/check_outputs.py" exactly_once "$T/in-topic.jsonl" "$T/out.jsonl" \
    "$T/dlq.jsonl" "$T/state.json" && return 0
  grep -E " (warn|error): " "$T/run.err" | grep -v "FAIL\|rejected" | tail -30 >&2
  tail -c 600 "$T/run.out" >&2
  return 1
}

proxied_broker() {
  PORT=$1; PROXY_PORT=$2
  KAFKA=$RTML_ROOT/scripts/kafka.sh
  BROKERS=127.0.0.1:$PORT
  export RTML_BROKERS=$BROKERS
  pids=(); proxy=
  trap proxied_broker_cleanup EXIT
  "$KAFKA" wipe --port "$PORT" >/dev/null 2>&1 || true
  "$KAFKA" start --port "$PORT" --proxied "$PROXY_PORT" >/dev/null || fail "the test's broker did not start"
}

proxied_broker_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$KAFKA" wipe --port "$PORT" >/dev/null 2>&1 || true # stop, and remove its data
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}

start_proxy() {
  local log=$1; shift
  if [ -n "$proxy" ]; then kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true; fi
  "$PY" "$RTML_ROOT/tests/lib/kafka_proxy.py" "$PROXY_PORT" $((PORT + 4)) "$@" >"$log" 2>&1 &
  proxy=$!; pids+=("$proxy")
  wait_for_log "$log" "^listening" 30 || fail "the proxy did not start"
}

wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do ((SECONDS < deadline)) || fail "rtml still running after $2 s"; sleep 0.2; done
  set +e; wait "$1"; RC=$?; set -e
}
