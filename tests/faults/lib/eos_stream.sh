# tests/faults/lib/eos_stream.sh — one exactly_once pipeline over a live SEA stream, and the check of what it left
# on the topics (sourced by txn_timeout.sh and txn_offsets_cut.sh after common.sh and config.sh).
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
