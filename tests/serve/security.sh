#!/usr/bin/env bash
# The serve endpoint's security and limits, while a stream keeps flowing (issue 23): HTTPS with a self-made
# certificate, bearer tokens from a file, and every refusal with its status and a JSON error:
#   - health paths open; metadata and infer need a token: none 401, a wrong one 401 invalid_token, either of
#     the file's two tokens 200; tritonclient talks to it over TLS with a token; plain HTTP gets no answer;
#   - a body over serve.limits.body_bytes 413 (announced by Content-Length, or chunked), more records than
#     serve.limits.records 413, malformed JSON 400, a wrong datatype, shape, element count or input name 400, a
#     record missing a field 400, an unknown path 404, a wrong method 405, a version not served 404;
#   - slow clients are closed request_time after their request line (the reaper; silent ones by the idle timeout) while other requests are answered at once, and a
#     connection past serve.limits.connections is answered 503;
#   - meanwhile the stream reads all its 30,000 records, rtml never stalls or crashes, and no token and no byte of
#     the private key appears in the log, in `rtml check`, or on /metrics.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
source "$RTML_ROOT/tests/serve/lib/serve.sh"
N=30000
IN=$(uniq_name sv-sec); OUT=$(uniq_name sv-sec-out)
TOPICS=("$IN" "$OUT")
"$RTML" topics create "$IN" --partitions 1 >/dev/null
"$RTML" topics create "$OUT" --partitions 1 >/dev/null
"$RTML" gen --stream sea --n $N --seed 41 >"$T/in.jsonl"
"$RTML" gen --stream sea --n 20 --seed 42 >"$T/queries.jsonl"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
  -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 || fail "openssl: no certificate"
TOKEN1=$(openssl rand -hex 24) TOKEN2=$(openssl rand -hex 24)
printf '# serve tokens\n%s\n\n  %s  \n' "$TOKEN1" "$TOKEN2" >"$T/tokens.txt"
chmod 600 "$T/tokens.txt" "$T/key.pem"
sea_serve_config "$T/run.yaml" "$IN" "$OUT" "$T/state" "label: {field: /label}" "monitor: {listen: 127.0.0.1:0}" \
  "serve:" "  listen: 127.0.0.1:0" "  tls: {cert: $T/cert.pem, key: $T/key.pem}" "  auth: {tokens_file: $T/tokens.txt}" \
  "  limits: {body_bytes: 4096, records: 5, connections: 8, request_time: 1s, idle: 1s}"

"$RTML" check -c "$T/run.yaml" >"$T/check.txt"
expect_grep 'tokens_file: "\[redacted\]"' "$T/check.txt" "rtml check prints the tokens file as [redacted]"

"$RTML" produce --topic "$IN" --input "$T/in.jsonl" --key-field /id --rate 2000 >/dev/null 2>&1 &
BG_PIDS+=($!)
start_run "$T/run.yaml"
PORT=$(serve_port)
BASE=https://127.0.0.1:$PORT
wait_until "the monitor's port in the log" 30 grep -q "monitor: http" "$T/run.log"
MON=http://$(sed -nE 's#.*monitor: http://([^/]+)/.*#\1#p' "$T/run.log" | tail -1)
C=(curl -s --max-time 10 --cacert "$T/cert.pem")
# status URL [CURL ARGS...]: the status code; the body in $T/body, the headers in $T/headers
status() { local url=$1; shift; "${C[@]}" -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" "$BASE$url" || true; }
expect_status() { # WANT WHAT URL [ARGS...]: the status, and for an error a JSON body {"error": ...}
  local want=$1 what=$2; shift 2
  local got; got=$(status "$@")
  [ "$got" == "$want" ] || { cat "$T/body" >&2; fail "$what: status $got, expected $want"; }
  if [ "$want" -ge 400 ] && [ -s "$T/body" ]; then
    "$PY" -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e' "$T/body" || fail "$what: no JSON error"
    pass "$what: $got $(head -c 150 "$T/body")"
  else pass "$what: $got"; fi
}
AUTH=(-H "Authorization: Bearer $TOKEN1")
infer() { expect_status "$1" "$2" /v2/models/rtml/infer "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary "$3"; }
REC='"{\"x1\":1,\"x2\":2,\"x3\":3}"'

expect_status 200 "HTTPS: /v2/health/live without a token" /v2/health/live
expect_status 200 "HTTPS: /v2/health/ready without a token" /v2/health/ready
expect_status 401 "metadata without a token" /v2/models/rtml
expect_grep 'WWW-Authenticate: Bearer realm="rtml"' "$T/headers" "401 says Bearer (WWW-Authenticate)"
expect_status 401 "metadata with a wrong token" /v2/models/rtml -H "Authorization: Bearer ${TOKEN1}x"
expect_grep 'error="invalid_token"' "$T/headers" "a wrong token is invalid_token"
expect_status 401 "a token with another scheme" /v2/models/rtml -H "Authorization: Basic $TOKEN1"
expect_status 200 "metadata with the first token" /v2/models/rtml "${AUTH[@]}"
expect_status 200 "metadata with the second token" /v2/models/rtml -H "Authorization: bearer $TOKEN2"
got=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/health/live" || true)
[ "$got" != 200 ] && pass "plain HTTP on the HTTPS port gets no answer ($got)" || fail "plain HTTP answered"
head -3 "$T/queries.jsonl" >"$T/q3.jsonl"
"$PY" "$RTML_ROOT/tests/serve/lib/oip_client.py" "$BASE" rtml "$T/q3.jsonl" "$T/served.json" --token "$TOKEN2" \
  --cafile "$T/cert.pem" --live || fail "tritonclient over TLS with a token"
pass "tritonclient over TLS with a bearer token"

infer 200 "infer: one record" "{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[$REC]}]}"
head -c 5000 /dev/zero | tr '\0' ' ' >"$T/big.txt"
infer 413 "a body over 4096 bytes (Content-Length)" "@$T/big.txt"
expect_status 413 "a chunked body over 4096 bytes" /v2/models/rtml/infer "${AUTH[@]}" -H 'Transfer-Encoding: chunked' \
  --data-binary "@$T/big.txt"
infer 413 "6 records, over serve.limits.records" "{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[6],\"data\":[$REC,$REC,$REC,$REC,$REC,$REC]}]}"
infer 400 "malformed JSON" '{"inputs": [{"name": "records",'
infer 400 "not an object" '[1, 2, 3]'
infer 400 "no inputs" '{"id": "x"}'
infer 400 "records as FP32" "{\"inputs\":[{\"name\":\"records\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1.0]}]}"
infer 400 "features of the wrong width" '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}'
infer 400 "a shape that does not match the data" '{"inputs":[{"name":"features","datatype":"FP64","shape":[2,3],"data":[1,2,3]}]}'
infer 400 "features that are not numbers" '{"inputs":[{"name":"features","datatype":"FP64","shape":[1,3],"data":["a","b","c"]}]}'
infer 400 "an unknown input" '{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}'
infer 400 "an unknown output" "{\"inputs\":[{\"name\":\"records\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[$REC]}],\"outputs\":[{\"name\":\"nope\"}]}"
infer 400 "a record missing a field" '{"inputs":[{"name":"records","datatype":"BYTES","shape":[1],"data":["{\"x1\":1}"]}]}'
expect_grep "missing_field" "$T/body" "the refusal names the reason (missing_field)"
infer 400 "a record that is not JSON" '{"inputs":[{"name":"records","datatype":"BYTES","shape":[1],"data":["{oops"]}]}'
expect_status 404 "an unknown path" /v2/nothing "${AUTH[@]}"
expect_status 404 "an unknown model" /v2/models/other "${AUTH[@]}"
expect_status 404 "a version not served" /v2/models/rtml/versions/9 "${AUTH[@]}"
expect_status 200 "the version served" /v2/models/rtml/versions/1 "${AUTH[@]}"
expect_status 405 "GET on infer" /v2/models/rtml/infer "${AUTH[@]}"
expect_grep 'Allow: POST' "$T/headers" "405 says Allow: POST"

"$PY" "$RTML_ROOT/tests/serve/lib/slow_clients.py" 127.0.0.1 "$PORT" "$T/cert.pem" "$TOKEN1" 1 1 8 "$MON/metrics" ||
  fail "slow clients"
expect_status 200 "after the slow clients: metadata" /v2/models/rtml "${AUTH[@]}"

consumed() { http_get "$MON/metrics" "$T/m.txt" && [ "$(metric_sum "$T/m.txt" rtml_records_consumed_total)" == $N ]; }
wait_until "the stream read all $N records meanwhile" 120 consumed
for code in 401 404 405 413 503; do
  [ "$(metric "$T/m.txt" rtml_serve_requests_total "code=\"$code\"")" -ge 1 ] || fail "/metrics: no $code counted"
done
[ "$(metric "$T/m.txt" rtml_serve_closed_connections_total)" -ge 2 ] || fail "/metrics: slow connections not counted"
pass "/metrics counts the refusals by status and the slow connections closed"
key_body=$(grep -v -- '-----' "$T/key.pem" | tr -d '\n' | head -c 40)
for f in "$T/run.log" "$T/check.txt" "$T/m.txt"; do
  ! grep -qF -e "$TOKEN1" -e "$TOKEN2" -e "$key_body" "$f" || fail "a secret in $(basename "$f")"
done
pass "no token and no byte of the key in the log, rtml check or /metrics"
stop_run TERM
expect_eq "$RUN_RC" 0 "rtml run stopped cleanly"
