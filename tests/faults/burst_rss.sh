#!/usr/bin/env bash
# Bounded queues everywhere: a burst far above the sustainable rate, and a producer slower than the input,
# must not make rtml's memory grow with the size of the burst. Peak RSS stays flat.
#
# The burst is a backlog (an infinitely fast burst): 2M SEA records, each padded with a 200-byte string field
# (~300 bytes a record, 600 MB), in 3 partitions, on a broker of this test's own (port 29250: the slow variant
# needs a client quota, and a quota belongs on a broker no other test uses).
#   fast:  rtml over all of the backlog (10 N), then twice over it with --max-records N (N = 200k), each run in
#          a fresh group. Every run sees the whole backlog, so librdkafka's prefetch fills in each: the N runs'
#          peak is "the queues full", and what the 10 N run adds to it is whatever grows with the length of the
#          burst. (Measured: at N = 100k the peak still varied from 75 to 150 MB between runs, the prefetch not
#          always full yet; at 200k it was 150-162 MB every time. The larger of the two N peaks counts.)
#   slow:  500k records of the backlog while the broker throttles rtml's producer to SLOW_BYTES/s (a
#          producer_byte_rate quota on its client.id: the broker delays its produce responses), so predictions
#          go out ~15 times slower than records come in and unacknowledged ones pile up (checked: under half
#          the fast run's records/s). Its peak is held to the same bound against the fast N runs: the pile-up
#          must cost no more than a quarter of what full queues cost. (Not against a slow run of N: the broker
#          lets a new client send ~10 s worth before it throttles, so a short run is not slow at all, and a
#          slow pair of N and 10 N past that allowance takes minutes.)
# Peak RSS is the kernel's high-water mark for the process (ru_maxrss from wait4: exact, no sampling).
# Asserted: peak <= 1.25 peak(N) + 8 MB for the fast 10 N run and for the slow run; every run exits 0 with
# errors == 0; every input record below the group's committed offsets has a prediction on that run's output
# topic, the full fast run committed the end of every partition, and backpressure paused the slow run's input. The
# figures are printed as ok: lines.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline
PORT=29250
KAFKA=$RTML_ROOT/scripts/kafka.sh
BROKERS=127.0.0.1:$PORT
export RTML_BROKERS=$BROKERS
N=200000; TEN_N=2000000          # fast variant
SLOW_N=500000                    # slow variant: records (a throttled producer takes longer per record)
SLOW_BYTES=2000000               # producer_byte_rate quota, bytes/s (~14k predictions/s once it bites)
RATIO=1.25; SLACK_MB=8
IN=$(uniq_name burst); SLOW_CLIENT=$(uniq_name rtml-slow)

trap '"$KAFKA" wipe --port $PORT >/dev/null 2>&1 || true; rm -rf "$T"' EXIT   # wipe: 600 MB of backlog
"$KAFKA" wipe --port $PORT >/dev/null
"$KAFKA" start --port $PORT >/dev/null || fail "broker on port $PORT did not start"
pass "own broker on $BROKERS, clean data dir"

# write_config NAME OUTPUT_TOPIC [KAFKA_LINE...]: a SEA pipeline config (the pad field is read by no feature).
write_config() {
  local name=$1 out=$2; shift 2
  {
    echo "kafka:"
    echo "  bootstrap.servers: $BROKERS"
    echo "  group.id: $(uniq_name "$name")"
    echo "  auto.offset.reset: earliest"
    for line in "$@"; do echo "  $line"; done
    cat <<YAML
$(sea_pipeline "$IN" "$out")
delivery: at_least_once
state: {dir: $T/$name.state}
YAML
  } >"$T/$name.yaml"
  "$RTML" topics create "$out" --partitions 3 >/dev/null
}

# measure NAME [RUN_ARGS...]: rtml run -c $T/NAME.yaml RUN_ARGS, its report in $T/NAME.report, its log in
# $T/NAME.log; sets PEAK_MB (ru_maxrss of the process) and RUN_S. Fails on a non-zero exit or after 300 s.
# --exit-on-idle 10: the runs end by --max-records or at the end of the backlog; a shorter idle ended the slow run
# early on a loaded machine (199,268 of 500,000 records with 3 s, its fetches waiting behind the throttled producer).
measure() {
  local name=$1; shift
  "$PY" - "$T/$name" "$RTML" run -c "$T/$name.yaml" --exit-on-idle 10 "$@" >"$T/$name.peak" <<'PY' ||
import os, signal, subprocess, sys, time
base, cmd = sys.argv[1], sys.argv[2:]
t0 = time.time()
p = subprocess.Popen(cmd, stdout=open(base + ".report", "w"), stderr=open(base + ".log", "w"))
rss = []  # (seconds, VmRSS MB) every 0.5 s: shown only when something fails
while True:
    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
    if pid:
        break
    if time.time() - t0 > 300:
        p.send_signal(signal.SIGKILL)
        print(f"rtml run still running after 300 s; RSS MB over time: {rss}", file=sys.stderr)
        sys.exit(1)
    try:
        rss.append((round(time.time() - t0, 1), int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0]) // 1024))
    except (OSError, IndexError):
        pass
    time.sleep(0.5)
code = os.waitstatus_to_exitcode(status)
print(f"{ru.ru_maxrss / 1024:.1f} {time.time() - t0:.1f}")
if code != 0:
    print(f"rtml run exit {code}; RSS MB over time: {rss}", file=sys.stderr)
    sys.exit(1)
PY
    { tail -20 "$T/$name.log" >&2; fail "$name: rtml run failed"; }
  read -r PEAK_MB RUN_S <"$T/$name.peak"
  expect_eq "$(json_get "$T/$name.report" 'r["errors"]')" 0 "$name: records rejected"
}

# check_predicted NAME OUTPUT_TOPIC [--all]: every input record below the group's committed offsets has a
# prediction on OUTPUT_TOPIC; with --all, the committed offsets are the end of every partition.
check_predicted() {
  local name=$1 out=$2 all=${3:-}
  local group; group=$(sed -n 's/^  group.id: //p' "$T/$name.yaml")
  "$PY" - "$BROKERS" "$IN" "$group" "$out" "$all" <<'PY' || fail "$name: input records without a prediction"
import json, sys
from confluent_kafka import Consumer, TopicPartition
boot, inp, group, out, want_all = sys.argv[1:6]
c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
parts = sorted(c.list_topics(inp, timeout=10).topics[inp].partitions)
committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition(inp, p) for p in parts], timeout=10)}
ends = {p: c.get_watermark_offsets(TopicPartition(inp, p), timeout=10)[1] for p in parts}
c.close()
if want_all:
    assert committed == ends, f"committed {committed} != end offsets {ends}"
r = Consumer({"bootstrap.servers": boot, "group.id": "rtml-test-reader", "enable.auto.commit": False})
oparts = sorted(r.list_topics(out, timeout=10).topics[out].partitions)
oends = {p: r.get_watermark_offsets(TopicPartition(out, p), timeout=10)[1] for p in oparts}
r.assign([TopicPartition(out, p, 0) for p in oparts])
seen = {p: bytearray(max(committed[p], 0)) for p in parts}
pos = {p: 0 for p in oparts}
while any(pos[p] < oends[p] for p in oparts):
    msgs = r.consume(1000, timeout=10)
    assert msgs, f"reading {out} stalled at {pos} of {oends}"
    for m in msgs:
        if m.error():
            continue
        pos[m.partition()] = m.offset() + 1
        s = json.loads(m.value())["source"]
        if s["topic"] == inp and s["offset"] < len(seen[s["partition"]]):
            seen[s["partition"]][s["offset"]] = 1
r.close()
missing = sum(len(b) - sum(b) for b in seen.values())
total = sum(len(b) for b in seen.values())
assert total > 0 and missing == 0, f"{missing} of {total} committed input records have no prediction"
print(f"ok: {total} committed input records, every one with a prediction on {out} ({sum(oends.values())} predictions)")
PY
}

# ratio_ok WHAT PEAK_N PEAK_BIG BIG_NAME: assert peak(BIG) <= RATIO x peak(N) + SLACK_MB, and print the figures.
ratio_ok() {
  local what=$1 small=$2 big=$3 name=$4 r
  r=$("$PY" -c "print(f'{$big / $small:.2f}')")
  if "$PY" -c "import sys; sys.exit(0 if $big <= $RATIO * $small + $SLACK_MB else 1)"; then
    pass "$what: peak RSS $small MB at N, $big MB $name, ratio $r (limit $RATIO x + $SLACK_MB MB)"
  else
    fail "$what: peak RSS $small MB at N, $big MB $name, ratio $r: memory grows (limit $RATIO x + $SLACK_MB MB)"
  fi
}

# ---- the backlog --------------------------------------------------------------------------------------------
"$RTML" topics create "$IN" --partitions 3 >/dev/null
PAD=$(printf '%0200d' 0 | tr 0 p)
"$RTML" gen --stream sea --n $TEN_N --seed 21 | sed "s/^{/{\"pad\":\"$PAD\",/" >"$T/burst.jsonl"
expect_exit 0 "produce the backlog: $TEN_N records of ~$(( $(stat -c %s "$T/burst.jsonl") / TEN_N )) bytes" -- \
  "$RTML" produce --topic "$IN" --input "$T/burst.jsonl" --key-field /id
rm -f "$T/burst.jsonl"

# ---- fast: the output side keeps up; only the input arrives faster than rtml can score --------------------------
# 10 N first: the first run over a freshly written topic can find the broker slow to serve it, and then the
# prefetch fills late; 10 N has time to fill it anyway, N may not. N runs twice and its larger peak counts (a run
# that the broker fed slower than rtml scores is not a burst).
write_config fast-10n "$(uniq_name burst-fast-10n)"
measure fast-10n
peak_10n=$PEAK_MB
fast_rate=$(json_get "$T/fast-10n.report" 'round(r["records_per_second"])')
expect_eq "$(json_get "$T/fast-10n.report" 'r["records"]')" $TEN_N "fast, 10 N: records processed"
pass "fast, 10 N = $TEN_N: peak RSS $PEAK_MB MB, $RUN_S s, $fast_rate records/s"
check_predicted fast-10n "$(uniq_name burst-fast-10n)" --all
peak_n=0
for i in 1 2; do
  write_config fast-n$i "$(uniq_name burst-fast-n$i)"
  measure fast-n$i --max-records $N
  pass "fast, N = $N (run $i): peak RSS $PEAK_MB MB, $RUN_S s"
  check_predicted fast-n$i "$(uniq_name burst-fast-n$i)"
  peak_n=$("$PY" -c "print(max($peak_n, $PEAK_MB))")
done

# ---- slow: the broker throttles rtml's producer; unacknowledged predictions pile up ---------------------------
# AlterClientQuotas (API key 49, v0) by hand: confluent-kafka has no client-quota call and the broker jars carry
# no kafka-configs tool. The quota applies to produce requests of SLOW_CLIENT only.
"$PY" - "$BROKERS" "$SLOW_CLIENT" $SLOW_BYTES <<'PY' || fail "setting the producer_byte_rate quota"
import socket, struct, sys
def s(t): b = t.encode(); return struct.pack(">h", len(b)) + b
host, port = sys.argv[1].rsplit(":", 1)
body = (struct.pack(">i", 1)                                                  # one entry
        + struct.pack(">i", 1) + s("client-id") + s(sys.argv[2])               # its entity
        + struct.pack(">i", 1) + s("producer_byte_rate") + struct.pack(">d?", float(sys.argv[3]), False)
        + struct.pack(">?", False))                                           # validate_only
req = struct.pack(">hhi", 49, 0, 1) + s("rtml-test-quota") + body
sock = socket.create_connection((host, int(port)), timeout=10)
sock.sendall(struct.pack(">i", len(req)) + req)
def recv(n):
    b = b""
    while len(b) < n:
        chunk = sock.recv(n - len(b))
        assert chunk, "broker closed the connection"
        b += chunk
    return b
resp = recv(struct.unpack(">i", recv(4))[0])
corr, throttle, entries, err = struct.unpack(">iiih", resp[:14])
assert corr == 1 and entries == 1 and err == 0, f"AlterClientQuotas: error code {err}"
PY
pass "broker throttles client.id $SLOW_CLIENT to $SLOW_BYTES bytes/s of produce"
write_config slow "$(uniq_name burst-slow)" "client.id: $SLOW_CLIENT"
measure slow --max-records $SLOW_N
peak_slow=$PEAK_MB
slow_rate=$(json_get "$T/slow.report" 'round(r["records_per_second"])')
expect_eq "$(json_get "$T/slow.report" 'r["records"]')" $SLOW_N "slow: records processed"
pass "slow, $SLOW_N records: peak RSS $PEAK_MB MB, $RUN_S s, $slow_rate records/s (fast: $fast_rate)"
"$PY" -c "import sys; sys.exit(0 if 2 * $slow_rate < $fast_rate else 1)" ||
  fail "slow: $slow_rate records/s is not below half the fast run's $fast_rate: the quota did not slow the output"
# Backpressure: 50,000 predictions unacknowledged for longer than rtml waits for its producer (1 s) pause the
# input; in this run they stay above that for most of it.
pauses=$(json_get "$T/slow.report" 'r["pauses"]')
[ "$pauses" -ge 1 ] || fail "slow: the input was never paused (report pauses $pauses) though the output fell behind"
pass "slow: backpressure paused the input $pauses time(s) (fast 10 N run: $(json_get "$T/fast-10n.report" 'r["pauses"]'))"
inflight=$(grep -o 'in flight [0-9]*' "$T/slow.log" | awk '{print $3}' | sort -n | tail -1)
[ -n "$inflight" ] && pass "slow: up to $inflight predictions in flight in rtml's status lines"
check_predicted slow "$(uniq_name burst-slow)"

ratio_ok "fast (a backlog, output keeps up)" "$peak_n" "$peak_10n" "at 10 N"
ratio_ok "slow (a backlog, producer throttled)" "$peak_n" "$peak_slow" "in the slow run"
echo "burst_rss: all checks passed"
