#!/usr/bin/env bash
# `rtml top` against a real pipeline: `rtml run` with a monitor section scores SEA records produced through
# the test broker, then
#   - `rtml top --once --url` prints one plain frame (no terminal control codes) whose figures agree with
#     the server: consumed > 0 and equal to api/stats, model version equal to /model's, every section shown;
#   - the live view (stdout not a terminal) prints a frame per interval and exits 0 on SIGINT;
#   - an unreachable URL exits 1 with "rtml top: cannot reach URL: reason", also once rtml has stopped;
#   - a bad URL or option exits 2; --help exits 0.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
PORT=${RTML_TOP_PORT:-19466}
BASE=http://127.0.0.1:$PORT
N=5000
IN=$(uniq_name top); OUT=$(uniq_name top-scored); GROUP=$(uniq_name top)
TOPICS=("$IN" "$OUT")
stats() { stats_has "$BASE" "$1"; }
# field NAME FILE: the number after "NAME " in rtml top's frame.
field() { grep -oE "(^| )$1 [0-9]+" "$2" | head -1 | grep -oE '[0-9]+$'; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

port_free "$PORT"

# ---- usage, before anything runs ---------------------------------------------------------------------
expect_exit 0 "rtml top --help" -- "$RTML" top --help
expect_grep "usage: rtml top" "$T/out" "--help prints the usage on stdout"
for bad in "ftp://127.0.0.1:$PORT" "127.0.0.1:$PORT" "http://127.0.0.1:99999" "http://:$PORT/" "https://127.0.0.1:$PORT"; do
  expect_exit 2 "rtml top --url $bad" -- "$RTML" top --once --url "$bad"
  expect_grep "^rtml top: bad URL" "$T/err" "a bad URL is named as such"
done
expect_exit 2 "rtml top --interval 0" -- "$RTML" top --once --interval 0
expect_exit 2 "rtml top with an unknown option" -- "$RTML" top --no-such-option
closed=$(free_port)
expect_exit 1 "rtml top against a closed port" -- "$RTML" top --once --url "http://127.0.0.1:$closed"
expect_grep "^rtml top: cannot reach http://127.0.0.1:$closed: Connection refused" "$T/err" "the reason is given"

# ---- against a running pipeline ------------------------------------------------------------------------
"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP"
printf 'monitor: {listen: 127.0.0.1:%s}\n' "$PORT" >>"$T/run.yaml"
"$RTML" gen --stream sea --n $N --seed 3 >"$T/sea.jsonl"
"$RTML" run -c "$T/run.yaml" >"$T/report.json" 2>"$T/run.log" &
RUN_PID=$!
wait_until "rtml run serves /healthz" 60 curl -sf --max-time 2 "$BASE/healthz"
expect_exit 0 "rtml produce $N records" -- "$RTML" produce --topic "$IN" --input "$T/sea.jsonl" --key-field /id
wait_until "rtml consumed all $N records" 60 stats "s['totals']['consumed'] >= $N"
wait_until "api/stats has a per-second sample, a windowed accuracy and the lag of every partition" 30 \
  stats '(len(s["series"]["t"]) >= 2 and s["series"]["quality"]["accuracy"][-1] is not None
             and s["totals"]["lag"] is not None and len(s["lag"]) == 3 and all(v[-1] is not None for v in s["lag"].values()))'

expect_exit 0 "rtml top --once" -- "$RTML" top --once --url "$BASE"
cp "$T/out" "$T/frame.txt"
cat "$T/frame.txt"
if grep -q $'\033' "$T/frame.txt"; then fail "--once printed terminal control codes"; fi
pass "--once prints no terminal control codes"
for section in "^rtml [0-9.]+ +pid [0-9]+ .* ready" "^model +native logistic \(binary\) +version [0-9]+ +learned $N" \
               "^records/s +in [0-9.]+ +out [0-9.]+" "^totals +consumed $N +produced $N +dead letters 0" \
               "^latency +p50 [0-9.]+ ms +p99 [0-9.]+ ms" "^lag +[0-9]+ total +$IN: p0 [0-9]+ +p1 [0-9]+ +p2 [0-9]+\$" \
               "^quality +accuracy 0\.[0-9]{4} +logloss [0-9.]+ +\(windowed\)" "^drift +[0-9]+ events?"; do
  expect_grep "$section" "$T/frame.txt" "the frame shows /$section/"
done
consumed=$(field consumed "$T/frame.txt")
[ "${consumed:-0}" -gt 0 ] && pass "consumed $consumed > 0" || fail "consumed '$consumed' is not > 0"
expect_eq "$consumed" "$(curl -sf "$BASE/api/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["totals"]["consumed"])')" \
  "consumed agrees with api/stats"
expect_eq "$(field version "$T/frame.txt")" "$(curl -sf "$BASE/model" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["version"])')" \
  "the model version agrees with /model"

# The live view: not a terminal here, so plain frames one after another; SIGINT ends it with exit 0.
set +e; timeout --preserve-status -s INT 3 "$RTML" top --interval 0.5 --url "$BASE" >"$T/live.txt" 2>"$T/live.err"; rc=$?; set -e
expect_eq "$rc" 0 "the live view exits 0 on SIGINT"
frames=$(grep -c '^rtml ' "$T/live.txt" || true)
[ "$frames" -ge 3 ] && pass "the live view printed $frames frames in 3 s" || fail "the live view printed $frames frames in 3 s"

kill -TERM "$RUN_PID"
set +e; wait "$RUN_PID"; rc=$?; set -e
RUN_PID=
expect_eq "$rc" 0 "rtml run stopped cleanly"
expect_exit 1 "rtml top once rtml has stopped" -- "$RTML" top --once --url "$BASE"
expect_grep "^rtml top: cannot reach $BASE: " "$T/err" "the reason is given"
"$RTML" topics delete "$IN" >/dev/null; "$RTML" topics delete "$OUT" >/dev/null
echo "top: all checks passed"
