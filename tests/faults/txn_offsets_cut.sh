#!/usr/bin/env bash
# The transaction coordinator unreachable for adding offsets (the long campaign's seed 3064): a broker kill left
# rtml retrying AddOffsetsToTxn ("Local: Broker transport failure", retriable) for its whole minute of retries;
# the last error, neither fatal nor abortable, was taken as fatal and rtml exited 1.
#
# Made certain here, on a broker of its own (port 29300) whose clients all go through a proxy
# (tests/lib/kafka_proxy.py on port 29305, scripts/kafka.sh --proxied): after 20 AddOffsetsToTxn requests the
# proxy cuts the connection at every one for 170 s, longer than rtml's minute of retries (which ends after about
# 75 s: each try waits up to 20 s), and at every EndTxn meanwhile, so that the abort that follows cannot get
# through for more than a minute either (the long campaign's seed
# 6122: four broker restarts outlasted a minute of abort retries, and rtml exited 1). transaction.timeout.ms is
# 300 s, so the coordinator does not time the transaction out first (that case is faults.txn_timeout). Checked,
# exactly_once, 40k SEA records at 2,000/s:
#   1. rtml retries, then aborts the transaction, resumes the abort past a minute, answers the transaction's
#      records again (the log says so), and runs to the end with exit 0 (before the fixes: exit 1, "transaction
#      commit failed"; then exit 1, "abort transaction: Timed out");
#   2. --exit-on-idle does not count the minute spent retrying as idleness (the records that arrived meanwhile,
#      and those the abort rewound, are read: it stopped with most of the stream unread once);
#   3. read_committed: every valid input has exactly one prediction, every malformed one exactly one dead letter,
#      and the checkpoint learned every labelled record once.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
source "$RTML_ROOT/tests/faults/lib/eos_stream.sh" # proxied_broker, start_proxy, eos_stream, eos_check
proxied_broker 29300 29305 # sets KAFKA, BROKERS, pids; start_proxy, wait_exit
start_proxy "$T/proxy.log" --cut 25 --after 20 --for 170 --also 26

N=40000
eos_stream oc $N 127.0.0.1:$PROXY_PORT 300000

"$RTML" run -c "$T/run.yaml" --exit-on-idle 10 >"$T/run.out" 2>"$T/run.err" &
run=$!; pids+=($run)
wait_for_log "$T/run.err" "assigned [1-9]" 60 || fail "rtml got no partitions"
"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 2000 >"$T/produce.log" 2>&1 ||
  { cat "$T/produce.log" >&2; fail "producing the stream failed"; }
wait_exit $run 240
grep -q "^cut: api_key 25" "$T/proxy.log" || fail "the proxy never cut an AddOffsetsToTxn request"
echo "injected: $(grep -c '^cut: api_key 25' "$T/proxy.log") connections cut at AddOffsetsToTxn and $(grep -c '^cut: api_key 26' "$T/proxy.log") at EndTxn over 170 s"
grep -q "^cut: api_key 26" "$T/proxy.log" || fail "the proxy never cut an EndTxn request (the abort's)"
[ "$RC" == 0 ] || { grep -E " (warn|error): " "$T/run.err" | grep -v "FAIL\|rejected" | tail -20 >&2; fail "rtml exited $RC"; }
pass "rtml ran to the end (exit 0)"
expect_grep "transaction offsets: .*retrying" "$T/run.err" "rtml retried adding the offsets"
expect_grep "transaction aborted \(.*\): its records will be answered again" "$T/run.err" \
  "rtml aborted the transaction once the retries ran out, to answer its records again"
expect_grep "transaction abort: .*retrying \(([6-9][0-9]|[1-9][0-9][0-9]) s so far" "$T/run.err" \
  "rtml resumed the abort past the minute it used to give up after"
expect_eq "$(json_get "$T/run.out" 'r["records"] - r["redelivered"] >= '$N)" True "every record was read (not stopped as idle after the retries)"

eos_check || fail "outputs, dead letters or learned count wrong after the cut connections"
echo "txn_offsets_cut: all checks passed"
