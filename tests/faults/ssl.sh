#!/usr/bin/env bash
# Mutual TLS through the config's kafka: section alone, and the client key's password kept out of rtml's output.
#
# A broker of its own (scripts/kafka.sh --ssl, port 29160 or $RTML_FAULT_SSL_PORT: PLAINTEXT there for
# administration, an SSL listener requiring client certificates on port+3), with a throwaway CA and a client
# key encrypted with a password made up for this run (RTML_KAFKA_SSL_KEY_PASSWORD), so finding it anywhere is
# a leak and not a coincidence. rtml reaches the broker only through the SSL listener, by passthrough
# properties (security.protocol: SSL, ssl.ca.location, ssl.certificate.location, ssl.key.location,
# ssl.key.password, as printed by `kafka.sh ssl-files`). Asserts:
#   - `rtml check` prints ssl.key.password as "[redacted]" (the key's location stays visible), and the
#     password nowhere in its stdout or stderr;
#   - a 5000-record stream runs end to end through the SSL listener with librdkafka's `debug: all` and
#     RTML_LOG_LEVEL=debug: every input id gets a prediction (read back on the PLAINTEXT port), offsets are
#     committed to the end, rtml's clients never used the PLAINTEXT listener, and the password appears nowhere
#     in rtml's stdout or stderr;
#   - clients the broker must refuse: no client certificate (the broker's "bad certificate" alert), a CA that
#     did not sign the broker's certificate ("certificate verify failed"): `rtml run --exit-on-idle 5` exits 1
#     by itself within 90 s, with the TLS error in its log (librdkafka 2.0.2 reports the wrong CA as -181 _SSL,
#     on which rtml stops at once, and the missing certificate as -195 _TRANSPORT, like a broker that is down,
#     so that run ends because no partition was assigned within 60 s). These two run in the background while the stream runs, to share the wait;
#   - a wrong ssl.key.password: `rtml run` fails at once (the client cannot be created), naming neither password.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh" # sea_pipeline
source "$RTML_ROOT/tests/faults/lib/secrets.sh"   # no_secret, stream_without_secrets
PORT0=${RTML_FAULT_SSL_PORT:-29160}
ADMIN=127.0.0.1:$PORT0   # PLAINTEXT: topics, the test producer and readers
TLSBOOT=127.0.0.1:$((PORT0 + 3))
N=5000
export RTML_KAFKA_SSL_KEY_PASSWORD="kp-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-ssl"
PASS=$RTML_KAFKA_SSL_KEY_PASSWORD
WRONG="wrong-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-kp"
KAFKA=("$RTML_ROOT/scripts/kafka.sh")
IN=$(uniq_name ssl-in); OUT=$(uniq_name ssl-out); GROUP=$(uniq_name ssl)
BG=()   # the refused clients running in the background: their names (pid in $T/NAME.pid)

cleanup() {
  local name pid
  for name in "${BG[@]}"; do   # only if the test failed before waiting for them
    pid=$(cat "$T/$name.pid" 2>/dev/null) || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  "${KAFKA[@]}" wipe --ssl --port "$PORT0" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT


started=$SECONDS
"${KAFKA[@]}" wipe --ssl --port "$PORT0" >/dev/null
"${KAFKA[@]}" start --ssl --port "$PORT0" >"$T/broker.log" || { cat "$T/broker.log" >&2; fail "the SSL broker did not start"; }
pass "broker with an SSL listener (client certificates required) on $TLSBOOT ($((SECONDS - started)) s): $(cat "$T/broker.log")"

# The listener's properties, as kafka.sh prints them (bootstrap.servers, security.protocol, ssl.*.location).
"${KAFKA[@]}" ssl-files --ssl --port "$PORT0" >"$T/ssl-files"
mapfile -t TLSPROPS < <(grep -v '^#' "$T/ssl-files")
CA=$(sed -n 's/^ssl\.ca\.location: //p' "$T/ssl-files")
KEY=$(sed -n 's/^ssl\.key\.location: //p' "$T/ssl-files")
expect_grep "^bootstrap.servers: $TLSBOOT\$" "$T/ssl-files" "kafka.sh ssl-files names the SSL listener"
[ -f "$CA" ] && [ -f "$KEY" ] && [ -f "$(sed -n 's/^ssl\.certificate\.location: //p' "$T/ssl-files")" ] ||
  fail "kafka.sh ssl-files names files that do not exist: $(cat "$T/ssl-files")"
expect_grep '^-----BEGIN ENCRYPTED PRIVATE KEY-----$' "$KEY" "the client key is encrypted"
! grep -qF "$PASS" "$T/broker.log" "$T/ssl-files" || fail "kafka.sh printed the client key's password"

# A CA of our own, which did not sign the broker's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other-ca.key" -out "$T/other-ca.pem" -days 1 \
  -subj "/CN=not the broker's CA" >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log" >&2; fail "openssl: no other CA"; }

"$RTML" topics create "$IN" --partitions 3 --brokers "$ADMIN" >/dev/null
"$RTML" topics create "$OUT" --partitions 3 --brokers "$ADMIN" >/dev/null
"$RTML" gen --stream sea --n $N --seed 12 >"$T/sea.jsonl"
expect_exit 0 "produce $N records (through the PLAINTEXT admin listener)" -- \
  "$RTML" produce --brokers "$ADMIN" --topic "$IN" --input "$T/sea.jsonl" --key-field /id

# write_config FILE GROUP KAFKA-LINE... : a config whose kafka: section is exactly these lines (plus group.id
# and auto.offset.reset).
write_config() {
  local file=$1 group=$2 line; shift 2
  {
    echo "kafka:"
    echo "  group.id: $group"
    echo "  auto.offset.reset: earliest"
    for line in "$@"; do echo "  $line"; done
    cat <<YAML
$(sea_pipeline "$IN" "$OUT" '{engine: native, type: logistic}')
state: {dir: $T/state-$(basename "$file" .yaml)}
YAML
  } >"$file"
}

# start_refused NAME: `rtml run -c $T/NAME.yaml --exit-on-idle 5` in the background (killed at 90 s); its exit
# code and seconds go to $T/NAME.rc.
start_refused() {
  local name=$1
  (
    t0=$SECONDS
    RTML_LOG_LEVEL=debug timeout 90 "$RTML" run -c "$T/$name.yaml" --exit-on-idle 5 >"$T/$name.out" 2>"$T/$name.err" &
    echo $! >"$T/$name.pid"
    set +e; wait $!; rc=$?
    echo "$rc $((SECONDS - t0))" >"$T/$name.rc"
  ) &
  BG+=("$name")
}

# 1. Clients the broker must refuse, started first: each takes about 60 s to give up (see the header).
write_config "$T/nocert.yaml" "$GROUP-nocert" "bootstrap.servers: $TLSBOOT" "security.protocol: SSL" "ssl.ca.location: $CA"
write_config "$T/wrongca.yaml" "$GROUP-wrongca" "${TLSPROPS[@]/#ssl.ca.location: */ssl.ca.location: $T/other-ca.pem}" \
  "ssl.key.password: $PASS"
grep -qF "ssl.ca.location: $T/other-ca.pem" "$T/wrongca.yaml" || fail "wrongca.yaml does not name the other CA"
start_refused nocert
start_refused wrongca
t_refused=$SECONDS

# 2. rtml check: the resolved config, the key's password redacted.
write_config "$T/run.yaml" "$GROUP" "${TLSPROPS[@]}" "ssl.key.password: $PASS" "debug: all"
expect_exit 0 "rtml check of a config with ssl.key.password" -- "$RTML" check -c "$T/run.yaml"
no_secret "$T/out" "$T/err"
expect_grep '^  ssl.key.password: "\[redacted\]"$' "$T/out" "check prints ssl.key.password as [redacted]"
expect_grep "^  ssl.key.location: $KEY\$" "$T/out" "check still prints ssl.key.location"

# 3. The stream, through the SSL listener only, with every debug log librdkafka and rtml have.
stream_without_secrets "$T/run.yaml" "$TLSBOOT (mutual TLS)" ssl.key.password "ssl://$TLSBOOT"
! grep -qiE "plaintext://127\.0\.0\.1:$PORT0\b" "$T/run.err" || fail "rtml's clients used the PLAINTEXT listener"
pass "rtml's clients never used the PLAINTEXT listener"

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

# 4. A wrong key password: the client cannot even be created; rtml says so at once.
write_config "$T/wrongkey.yaml" "$GROUP-wrongkey" "${TLSPROPS[@]}" "ssl.key.password: $WRONG"
set +e
RTML_LOG_LEVEL=debug timeout 45 "$RTML" run -c "$T/wrongkey.yaml" --exit-on-idle 5 >"$T/wrongkey.out" 2>"$T/wrongkey.err"
rc=$?
set -e
no_secret "$T/wrongkey.out" "$T/wrongkey.err"
expect_grep "ssl.key.location failed" "$T/wrongkey.err" "wrong ssl.key.password: the key error is logged"
[ $rc != 124 ] && [ $rc != 0 ] || fail "wrong ssl.key.password: rtml run exited $rc, expected a failure"
pass "wrong ssl.key.password: rtml run failed at once with exit $rc, no password in its output"

# 5. The refused clients: each must have ended by itself, exit 1, saying why.
t_wait=$SECONDS
wait
t_wait=$((SECONDS - t_wait))
BG=()
for name in nocert wrongca; do
  [ -f "$T/$name.rc" ] || fail "$name: no exit status"
  read -r rc secs <"$T/$name.rc"
  no_secret "$T/$name.out" "$T/$name.err"
  case $name in
    nocert) expect_grep "alert bad certificate|certificate required" "$T/$name.err" "no client certificate: the broker's TLS alert is logged" ;;
    wrongca) expect_grep "certificate verify failed" "$T/$name.err" "a CA that did not sign the broker: the verification error is logged" ;;
  esac
  if [ $name == nocert ]; then
    expect_grep "no partition of the input topics was assigned" "$T/$name.err" "$name: rtml says nothing was assigned"
  else
    expect_grep "error: kafka .*certificate verify failed.*check the sasl" "$T/$name.err" "$name: rtml stopped on the TLS error"
  fi
  [ "$rc" != 124 ] || fail "$name: rtml run was still running after 90 s (killed by the test); it should give up"
  expect_eq "$rc" 1 "$name: rtml run gave up by itself after $secs s, exit code"
done
pass "the refused clients ran alongside steps 2-4 ($t_wait s of the $((SECONDS - t_refused)) s they took were left to wait)"
echo "ssl: all checks passed ($((SECONDS - started)) s)"
