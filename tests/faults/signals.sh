#!/usr/bin/env bash
# SIGTERM mid-stream, against the real broker, while records keep arriving (8k records/s):
#   - one SIGTERM: rtml finishes what it read, flushes, commits, checkpoints and exits 0 with its report; the
#     group's committed offsets equal the checkpoint's learned positions (nothing left to redo), and the
#     checkpoint's learned count equals the report's;
#   - two signals at once (SIGINT and SIGTERM): it exits at once with 128 + the second signal's number, without
#     the clean shutdown; the next run resumes from the state left behind, and in the end every input id has a
#     prediction and the model learned each labelled record exactly once.
# The checkpoint interval is long (1 min) so that the checkpoints these checks see are the shutdown's own.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/faults/lib/kill9.sh" # kill9_config, wait_for_log
IN=$(uniq_name sig-in); OUT=$(uniq_name sig-out); DLQ=$(uniq_name sig-dlq); GROUP=$(uniq_name sig)
"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
"$RTML" topics create "$DLQ" --partitions 1 >/dev/null
kill9_config "$T/sig.yaml" "$IN" "$OUT" "$DLQ" "$GROUP" at_least_once "$T/state"
sed -i 's/checkpoint_every: 200ms/checkpoint_every: 1m/' "$T/sig.yaml"
N=60000
"$RTML" gen --stream sea --n $N --seed 9 >"$T/in.jsonl"
labelled=$N
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 8000 >"$T/produce.log" 2>&1 &
producer=$!

# started_and_scoring LOG: until rtml has partitions and its output topic holds predictions.
started_and_scoring() {
  wait_for_log "$1" "assigned [1-9]" 90 || fail "rtml never got its partitions"
  "$PY" - "$BROKERS" "$OUT" <<'PY' || fail "no prediction within 60 s"
import sys, time
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "probe"})
parts = c.list_topics(sys.argv[2], timeout=10).topics[sys.argv[2]].partitions
deadline = time.time() + 60
while sum(c.get_watermark_offsets(TopicPartition(sys.argv[2], p), timeout=5)[1] for p in parts) < 1000:
    if time.time() > deadline: sys.exit(1)
    time.sleep(0.1)
PY
}

# ---- one SIGTERM: a clean stop ---------------------------------------------------------------------------
"$RTML" run -c "$T/sig.yaml" >"$T/run1.out" 2>"$T/run1.err" &
pid=$!
started_and_scoring "$T/run1.err"
kill -TERM $pid
echo "injected: SIGTERM to a running rtml"
deadline=$((SECONDS + 60))
while kill -0 $pid 2>/dev/null; do ((SECONDS < deadline)) || fail "still running 60 s after SIGTERM"; sleep 0.1; done
set +e; wait $pid; rc=$?; set -e
expect_eq "$rc" 0 "SIGTERM: exit 0"
expect_grep "signal 15: finishing in-flight records" "$T/run1.err" "SIGTERM: in-flight records finished"
"$RTML" state -c "$T/sig.yaml" >"$T/state1.json"
expect_eq "$(json_get "$T/state1.json" 'r["learned"]')" "$(json_get "$T/run1.out" 'r["model_learned"]')" \
  "SIGTERM: the checkpoint holds everything the run learned"
"$PY" "$LIB/committed.py" "$BROKERS" "$GROUP" "$IN" >"$T/committed.json"
"$PY" - "$T/committed.json" "$T/state1.json" "$IN" <<'PY' || fail "committed offsets differ from the checkpoint's positions"
import json, sys
committed = json.load(open(sys.argv[1]))
pos = json.loads(open(sys.argv[2]).read())["positions"]
for p, (c, _end) in committed.items():
    want = pos.get(f"{sys.argv[3]}/{p}", -1001)
    assert c == want or (c < 0 and want == -1001), f"partition {p}: committed {c}, learned up to {want}"
print("ok: SIGTERM: committed offsets == the checkpoint's learned positions", {k: v[0] for k, v in committed.items()})
PY

# ---- two signals at once: an immediate exit that still leaves a consistent state --------------------------
"$RTML" run -c "$T/sig.yaml" >"$T/run2.out" 2>"$T/run2.err" &
pid=$!
started_and_scoring "$T/run2.err"
kill -INT $pid; kill -TERM $pid
echo "injected: SIGINT and SIGTERM together"
deadline=$((SECONDS + 10))
while kill -0 $pid 2>/dev/null; do ((SECONDS < deadline)) || fail "still running 10 s after two signals"; sleep 0.05; done
set +e; wait $pid; rc=$?; set -e
[ "$rc" == 130 ] || [ "$rc" == 143 ] || { cat "$T/run2.err" >&2; fail "two signals: exit $rc, expected 130 or 143"; }
pass "two signals: immediate exit ($rc)"
expect_grep "second signal, exiting at once" "$T/run2.err" "two signals: said so"

wait $producer || fail "producing the stream failed"
expect_exit 0 "the next run, until idle" -- "$RTML" run -c "$T/sig.yaml" --exit-on-idle 5
"$RTML" state -c "$T/sig.yaml" >"$T/state3.json"
expect_eq "$(json_get "$T/state3.json" 'r["learned"]')" "$labelled" "learned exactly once: learned == labelled records"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" >"$T/preds.jsonl"
ids='import json, sys
print(len({json.loads(l)["key"] for l in open(sys.argv[1])}))'
expect_eq "$("$PY" -c "$ids" "$T/preds.jsonl")" $N "every input id has a prediction"
for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics delete "$t" >/dev/null; done
echo "signals: all checks passed"
