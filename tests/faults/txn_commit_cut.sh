#!/usr/bin/env bash
# The transaction coordinator unreachable for the commit itself (the long campaign's seed 5036): three broker
# restarts in a row kept EndTxn from getting through for over a minute. rtml retried the commit for its minute,
# then tried to abort, which librdkafka refuses while a timed-out commit still goes on in the background
# ("Conflicting commit_transaction API call is already in progress"); it retried that refusal in a tight loop
# for another minute (millions of log lines) and exited 1.
#
# Made certain here, on a broker of its own (port 29310) whose clients all go through a proxy
# (tests/lib/kafka_proxy.py on port 29315, scripts/kafka.sh --proxied) that cuts the connection at EndTxn
# (API key 26). transaction.timeout.ms is 120 s, so the coordinator does not time the transaction out first.
# exactly_once, SEA records with labels, malformed ones to the dead-letter topic.
#   1. After 20 commits, every EndTxn is cut for 65 s, longer than the minute the commit used to be retried:
#      rtml keeps resuming the commit until it gets through (its log says so past 60 s), never aborts into the
#      commit in flight, and runs to the end with exit 0 (before the fix: exit 1, after two minutes).
#   2. Every EndTxn after the 5th is cut, and rtml gets SIGTERM while its commit is retried: it stops within
#      30 s of the stop plus one 10-s call (STOP_GRACE_S) with exit 1 and says the transaction was not committed;
#      its log has no refused abort.
#   3. rtml started again with the proxy passing everything answers the rest: read_committed, every valid input
#      of both streams has exactly one prediction, every malformed one exactly one dead letter, and the
#      checkpoint learned every labelled record once.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
source "$RTML_ROOT/tests/faults/lib/eos_stream.sh" # proxied_broker, start_proxy, wait_exit, eos_stream, eos_check
proxied_broker 29310 29315 # sets KAFKA, BROKERS, pids; start_proxy, wait_exit

# ---- 1. EndTxn cut for 65 s: the commit is resumed until it gets through ------------------------------------
start_proxy "$T/proxy1.log" --cut 26 --after 20 --for 65
N=20000
eos_stream cc $N 127.0.0.1:$PROXY_PORT 120000
"$RTML" run -c "$T/run.yaml" --exit-on-idle 10 >"$T/run.out" 2>"$T/run.err" &
run=$!; pids+=($run)
wait_for_log "$T/run.err" "assigned [1-9]" 60 || fail "rtml got no partitions"
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 2000 >"$T/produce.log" 2>&1 ||
  { cat "$T/produce.log" >&2; fail "producing the stream failed"; }
wait_exit $run 200
grep -q "^cut: api_key 26" "$T/proxy1.log" || fail "the proxy never cut an EndTxn request"
echo "injected: $(grep -c '^cut:' "$T/proxy1.log") connections cut at EndTxn over 65 s"
[ "$RC" == 0 ] || { grep -E " (warn|error): " "$T/run.err" | grep -v "FAIL\|rejected" | tail -20 >&2; fail "rtml exited $RC"; }
pass "rtml ran to the end (exit 0)"
expect_grep "transaction commit: .*retrying \(([6-9][0-9]|[1-9][0-9][0-9]) s so far" "$T/run.err" \
  "rtml resumed the commit past the minute it used to give up after"
if grep -q "Conflicting" "$T/run.err"; then fail "rtml called another transaction API while the commit went on"; fi
pass "no call conflicted with the commit in flight"
expect_eq "$(json_get "$T/run.out" 'r["records"] - r["redelivered"] >= '$N)" True "every record was read"
cp "$T/run.err" "$T/run1.err"

# ---- 2. SIGTERM while the commit cannot get through: a bounded stop, exit 1, nothing committed twice ----------
start_proxy "$T/proxy2.log" --cut 26 --after 5 --for 3600
sea_stream 4000 7 2000 $N >"$T/in2.jsonl" # ids after the first stream's: the check matches outputs by id
"$RTML" run -c "$T/run.yaml" >"$T/run2.out" 2>"$T/run2.err" &
run=$!; pids+=($run)
wait_for_log "$T/run2.err" "assigned [1-9]" 60 || fail "rtml got no partitions (stop run)"
"$RTML" produce --topic "$IN" --input "$T/in2.jsonl" --key-field /id --rate 2000 >"$T/produce2.log" 2>&1 ||
  { cat "$T/produce2.log" >&2; fail "producing the second stream failed"; }
wait_for_log "$T/run2.err" "transaction commit: .*retrying" 60 || fail "the commit was never retried (stop run)"
stopped_at=$SECONDS
kill -TERM $run
wait_exit $run 90
took=$((SECONDS - stopped_at))
[ "$RC" == 1 ] || fail "rtml exited $RC after SIGTERM with its commit cut (expected 1: not committed)"
expect_grep "stopping with the transaction not committed" "$T/run2.err" "rtml said the transaction was not committed"
((took <= 50)) || fail "rtml took $took s to stop (at most 30 s after the stop, plus one 10-s call)"
pass "rtml stopped $took s after SIGTERM, exit 1"
if grep -q "Conflicting" "$T/run2.err"; then fail "rtml called another transaction API while the commit went on (stop run)"; fi

# ---- 3. the proxy passes everything again: a restart answers the rest, exactly once -------------------------
start_proxy "$T/proxy3.log" --cut 26 --after 100000000
"$RTML" run -c "$T/run.yaml" --exit-on-idle 10 >"$T/run.out" 2>"$T/run.err" &
run=$!; pids+=($run)
wait_exit $run 180
[ "$RC" == 0 ] || { grep -E " (warn|error): " "$T/run.err" | grep -v "FAIL\|rejected" | tail -20 >&2; fail "restart exited $RC"; }
pass "the restart ran to the end (exit 0)"
eos_check || fail "outputs, dead letters or learned count wrong after the cut commits and the stop"
echo "txn_commit_cut: all checks passed"
