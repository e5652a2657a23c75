#!/usr/bin/env bash
# SASL authentication through the config's kafka: section alone, and secrets kept out of rtml's output.
#
# A broker of its own (scripts/kafka.sh --sasl, port 29150 or $RTML_FAULT_SASL_PORT: PLAINTEXT there for
# administration, SASL_PLAINTEXT on port+2) with a password made up for this run, so finding it anywhere is
# a leak and not a coincidence. rtml reaches the broker only through the SASL listener, by passthrough
# properties (security.protocol, sasl.mechanisms, sasl.username, sasl.password). Mechanism: SCRAM-SHA-256
# when rtml's librdkafka is 2.6.1 or newer, else PLAIN, because older librdkafka fails SCRAM against Kafka 4.x
# (it repeats the client nonce; librdkafka PR #4895), the same password either way. Asserts:
#   - `rtml check` prints the config with "[redacted]" for sasl.password, sasl.jaas.config, ssl.key.password,
#     and the password nowhere in its stdout or stderr;
#   - a 5000-record stream runs end to end through the SASL listener with librdkafka's `debug: all` and
#     RTML_LOG_LEVEL=debug: every input id gets a prediction, offsets are committed to the end, and the
#     password appears nowhere in rtml's stdout or stderr (librdkafka's own configuration dump redacts it);
#   - a wrong password makes `rtml run` fail by itself: a non-zero exit within 45 s, with the authentication
#     error in its log and neither password in it.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline
source "$RTML_ROOT/tests/faults/lib/secrets.sh"   # no_secret, stream_without_secrets
PORT0=${RTML_FAULT_SASL_PORT:-29150}
ADMIN=127.0.0.1:$PORT0   # PLAINTEXT: topics, the test producer and readers
SASL=127.0.0.1:$((PORT0 + 2))
N=5000
export RTML_KAFKA_SASL_USER=rtml
export RTML_KAFKA_SASL_PASSWORD="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-sasl"
PASS=$RTML_KAFKA_SASL_PASSWORD
WRONG="wrong-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-pw"
KAFKA=("$RTML_ROOT/scripts/kafka.sh")
IN=$(uniq_name sasl-in); OUT=$(uniq_name sasl-out); GROUP=$(uniq_name sasl)

cleanup() {
  "${KAFKA[@]}" wipe --sasl --port "$PORT0" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT


started=$SECONDS
"${KAFKA[@]}" wipe --sasl --port "$PORT0" >/dev/null
"${KAFKA[@]}" start --sasl --port "$PORT0" >"$T/broker.log" || { cat "$T/broker.log" >&2; fail "the SASL broker did not start"; }
pass "broker with SASL_PLAINTEXT on $SASL ($((SECONDS - started)) s): $(cat "$T/broker.log")"

rdk=$("$RTML" --version | sed -n 's/^librdkafka //p')
if "$PY" -c 'import sys; sys.exit(0 if tuple(map(int, sys.argv[1].split("."))) >= (2, 6, 1) else 1)' "$rdk"; then
  MECH=SCRAM-SHA-256
else
  MECH=PLAIN
  echo "note: librdkafka $rdk < 2.6.1 cannot authenticate with SCRAM against Kafka 4.x (librdkafka #4895): using PLAIN"
fi

"$RTML" topics create "$IN" --partitions 3 --brokers "$ADMIN" >/dev/null
"$RTML" topics create "$OUT" --partitions 3 --brokers "$ADMIN" >/dev/null
"$RTML" gen --stream sea --n $N --seed 11 >"$T/sea.jsonl"
expect_exit 0 "produce $N records (through the PLAINTEXT admin listener)" -- \
  "$RTML" produce --brokers "$ADMIN" --topic "$IN" --input "$T/sea.jsonl" --key-field /id

# write_config FILE PASSWORD [EXTRA KAFKA LINE...]
write_config() {
  local file=$1 pw=$2; shift 2
  {
    echo "kafka:"
    echo "  bootstrap.servers: $SASL"
    echo "  group.id: $GROUP"
    echo "  auto.offset.reset: earliest"
    echo "  security.protocol: SASL_PLAINTEXT"
    echo "  sasl.mechanisms: $MECH"
    echo "  sasl.username: $RTML_KAFKA_SASL_USER"
    echo "  sasl.password: $pw"
    for line in "$@"; do echo "  $line"; done
    cat <<YAML
$(sea_pipeline "$IN" "$OUT" '{engine: native, type: logistic}')
state: {dir: $T/state}
YAML
  } >"$file"
}

# 1. rtml check: the resolved config, secrets redacted (here also Java's jaas form and a TLS key password).
write_config "$T/check.yaml" "$PASS" \
  "sasl.jaas.config: 'org.apache.kafka.common.security.scram.ScramLoginModule required username=\"rtml\" password=\"$PASS\";'" \
  "ssl.key.password: $PASS"
expect_exit 0 "rtml check of a config with secrets" -- "$RTML" check -c "$T/check.yaml"
no_secret "$T/out" "$T/err"
expect_grep '^  sasl.password: "\[redacted\]"$' "$T/out" "check prints sasl.password as [redacted]"
expect_grep '^  sasl.jaas.config: "\[redacted\]"$' "$T/out" "check prints sasl.jaas.config as [redacted]"
expect_grep '^  ssl.key.password: "\[redacted\]"$' "$T/out" "check prints ssl.key.password as [redacted]"
expect_grep "^  sasl.username: $RTML_KAFKA_SASL_USER\$" "$T/out" "check still prints sasl.username"

# 2. The stream, through the SASL listener only, with every debug log librdkafka and rtml have.
write_config "$T/run.yaml" "$PASS" "debug: all"
stream_without_secrets "$T/run.yaml" "$SASL ($MECH)" sasl.password "sasl_plaintext://$SASL"

"$PY" "$LIB/read_topic.py" "$ADMIN" "$OUT" >"$T/out.jsonl"
"$PY" - "$T/out.jsonl" $N <<'PY' || fail "predictions do not cover the inputs"
import json, sys
ids = {json.loads(json.loads(l)["key"]) for l in open(sys.argv[1])}
n = int(sys.argv[2])
missing = sorted(set(range(n)) - ids)
assert not missing, f"{len(missing)} ids without a prediction, e.g. {missing[:5]}"
print(f"ok: every one of {n} input ids has a prediction")
PY
"$PY" "$LIB/committed.py" "$ADMIN" "$GROUP" "$IN" >"$T/committed.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(c==e for c,e in d.values()), d; print("ok: committed offsets at the end of every partition", d)' "$T/committed.json" \
  || fail "committed offsets did not reach the end: $(cat "$T/committed.json")"

# 3. A wrong password: rtml must give up by itself, saying why (no --exit-on-idle: a daemon's settings).
write_config "$T/wrong.yaml" "$WRONG"
t0=$SECONDS
set +e
RTML_LOG_LEVEL=debug timeout 45 "$RTML" run -c "$T/wrong.yaml" >"$T/wrong.out" 2>"$T/wrong.err"
rc=$?
set -e
no_secret "$T/wrong.out" "$T/wrong.err"
pass "no password in the failed run's output"
expect_grep "Authentication failed|SASL authentication error" "$T/wrong.err" "the authentication error is logged"
[ $rc != 124 ] || fail "wrong password: rtml run was still running after 45 s (killed by the test); it should give up"
[ $rc != 0 ] || fail "wrong password: rtml run exited 0 after $((SECONDS - t0)) s; it should fail"
pass "wrong password: rtml run failed by itself with exit $rc after $((SECONDS - t0)) s"
echo "sasl: all checks passed ($((SECONDS - started)) s)"
