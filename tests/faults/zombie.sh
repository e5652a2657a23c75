#!/usr/bin/env bash
# A zombie under exactly_once, against the real broker: instance A is frozen (SIGSTOP) mid-stream, as a
# process stalled by GC, swap or a network partition would be; instance B, the same transactional.id and
# group.instance.id but its own state.dir (another host, as it were), takes over; then A is thawed (SIGCONT).
# Counted: A notices it was fenced, stops with exit 1 and says so, without committing anything; B runs to the
# end; a read_committed consumer sees exactly one prediction per input id (A's open transaction was aborted
# when B started). Also: a second process on a state.dir that is in use is refused at start (exit 2).
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/faults/lib/kill9.sh" # kill9_config, wait_for_log
IN=$(uniq_name z-in); OUT=$(uniq_name z-out); DLQ=$(uniq_name z-dlq); GROUP=$(uniq_name z)
"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
"$RTML" topics create "$DLQ" --partitions 1 >/dev/null
N=40000
"$RTML" gen --stream sea --n $N --seed 4 >"$T/in.jsonl"
kill9_config "$T/a.yaml" "$IN" "$OUT" "$DLQ" "$GROUP" exactly_once "$T/state-a"
sed -i "s/  session.timeout.ms: 6000/  session.timeout.ms: 6000\n  transactional.id: $GROUP-txn/" "$T/a.yaml"
sed "s|dir: $T/state-a|dir: $T/state-b|" "$T/a.yaml" >"$T/b.yaml"
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 8000 >"$T/produce.log" 2>&1 &
producer=$!

"$RTML" run -c "$T/a.yaml" >"$T/a.out" 2>"$T/a.err" &
a=$!
wait_for_log "$T/a.err" "assigned [1-9]" 90 || fail "A never got its partitions"
sleep 1 # A scores for a moment (part of the injected timing)
expect_exit 2 "a second process on A's state.dir is refused" -- "$RTML" run -c "$T/a.yaml" --exit-on-idle 1
expect_grep "state.dir: .*is in use by another rtml \(pid $a\)" "$T/err" "the refusal names the directory and A's pid"

kill -STOP $a
echo "injected: SIGSTOP to A (a zombie holding transactional.id $GROUP-txn)"
"$RTML" run -c "$T/b.yaml" --exit-on-idle 8 >"$T/b.out" 2>"$T/b.err" &
b=$!
wait_for_log "$T/b.err" "assigned [1-9]" 90 || fail "B never got the partitions"
sleep 2 # B works while A is frozen (injected timing)
kill -CONT $a
echo "injected: SIGCONT to A"
deadline=$((SECONDS + 90))
while kill -0 $a 2>/dev/null; do ((SECONDS < deadline)) || { kill -9 $a; fail "A still running 90 s after it was fenced"; }; sleep 0.2; done
set +e; wait $a; rc=$?; set -e
expect_eq "$rc" 1 "the zombie A exits 1"
expect_grep "error: .*(fenced|Fenced|FENCED)" "$T/a.err" "A says it was fenced"
wait $producer || fail "producing the stream failed"
set +e; wait $b; rc=$?; set -e
[ "$rc" == 0 ] || { tail -20 "$T/b.err" >&2; fail "B exited $rc"; }
pass "B ran to the end (exit 0)"

"$PY" "$LIB/read_topic.py" "$BROKERS" "$IN" >"$T/in-topic.jsonl"
"$PY" "$LIB/read_topic.py" "$BROKERS" "$OUT" --isolation read_committed >"$T/out.jsonl"
"$PY" - "$T/out.jsonl" $N <<'PY' || fail "read_committed predictions are not exactly one per input id"
import collections, json, sys
c = collections.Counter(json.loads(l)["key"] for l in open(sys.argv[1]))
n = int(sys.argv[2])
missing = n - len(c)
dups = sum(v - 1 for v in c.values())
assert missing == 0 and dups == 0, f"{missing} ids without a prediction, {dups} duplicates"
print(f"ok: read_committed: exactly one prediction for each of {n} ids despite the zombie")
PY
for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics delete "$t" >/dev/null; done
echo "zombie: all checks passed"
