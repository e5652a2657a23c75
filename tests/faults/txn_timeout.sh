#!/usr/bin/env bash
# A transaction the coordinator timed out (the long campaign's seed 3066): a broker outage on a loaded machine
# kept rtml's transaction open for over a minute; the coordinator aborted it and fenced the producer, rtml's
# abort failed "fenced by a newer instance" and it exited 1, although no other instance existed.
#
# Made certain here: transaction.timeout.ms is 3 s, and rtml is frozen (SIGSTOP) while its transaction holds
# outputs, until a read_committed consumer sees the coordinator close it (every partition's last stable offset
# back at its high watermark: aborted, since rtml could not commit). The consumer's session (45 s) outlives the
# freeze, so only the producer is affected. Checked after SIGCONT, exactly_once on a live stream:
#   1. rtml says the coordinator aborted the transaction and a new producer takes over, and goes on (exit 0 at
#      the end, its report counting the renewal);
#   2. read_committed: every valid input has exactly one prediction, every malformed one exactly one dead
#      letter, and the checkpoint learned every labelled record once (the aborted transaction's records were
#      answered again, not learned again).
# The other side, a producer fenced by a newer instance while its transaction is young, still stops the run:
# faults.zombie.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
source "$RTML_ROOT/tests/faults/lib/eos_stream.sh" # eos_stream, eos_check
N=60000
eos_stream tt $N "$BROKERS" 3000
pids=()
trap 'for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 5000 >"$T/produce.log" 2>&1 &
producer=$!; pids+=($producer)
"$RTML" run -c "$T/run.yaml" --exit-on-idle 8 >"$T/run.out" 2>"$T/run.err" &
run=$!; pids+=($run)
wait_for_log "$T/run.err" "assigned [1-9]" 60 || fail "rtml got no partitions"
lso() { "$PY" "$RTML_ROOT/tests/faults/lib/stable_offsets.py" "$BROKERS" "$OUT" "$@"; }
lso open 30 >/dev/null || fail "rtml never held an open transaction with outputs"

# Freeze rtml while a transaction of its holds outputs (between two transactions there is none: try again).
frozen=
for ((try = 1; try <= 10; try++)); do
  kill -0 $run 2>/dev/null || { tail "$T/run.err" >&2; fail "rtml exited before the freeze"; }
  kill -STOP $run
  if lso open 3 >"$T/lso-open.txt"; then frozen=1; break; fi
  kill -CONT $run
  lso open 10 >/dev/null || true # running again, outputs in flight: the next try
done
[ -n "$frozen" ] || fail "no open transaction caught in 10 freezes"
echo "injected: SIGSTOP to rtml with a transaction open ($(cat "$T/lso-open.txt"))"
lso closed 60 >"$T/lso-closed.txt" || { kill -CONT $run; fail "the coordinator never closed the frozen transaction: $(cat "$T/lso-closed.txt")"; }
echo "the coordinator aborted it: $(cat "$T/lso-closed.txt")"
kill -CONT $run
echo "injected: SIGCONT"

wait $producer || { cat "$T/produce.log" >&2; fail "producing the stream failed"; }
set +e; wait $run; rc=$?; set -e
[ "$rc" == 0 ] || { grep -E " (warn|error): " "$T/run.err" | grep -v FAIL | tail -20 >&2; fail "rtml exited $rc after its timed-out transaction"; }
pass "rtml ran to the end (exit 0)"
expect_grep "the transaction coordinator aborted a transaction open for [0-9]+ s.*a new producer takes over" "$T/run.err" \
  "rtml said the coordinator timed out its transaction, and replaced the producer"
renewals=$(json_get "$T/run.out" 'r["producer_renewals"]')
[ "$renewals" -ge 1 ] && pass "the report counts $renewals producer renewal(s)" || fail "the report counts no producer renewal"

eos_check || {
  cat "$T/lso-open.txt" "$T/lso-closed.txt" >&2
  fail "outputs, dead letters or learned count wrong after the timed-out transaction"
}
for t in "$IN" "$OUT" "$DLQ"; do "$RTML" topics delete "$t" >/dev/null; done
echo "txn_timeout: all checks passed"
