#!/usr/bin/env bash
# The live dashboard in a real browser, against a real pipeline: `rtml run` with a monitor section scores a
# rotating-hyperplane stream (3 features, the concept redrawn at record 20000; ADWIN with action reset, so the
# model version moves to 2) that `rtml gen | rtml produce --rate` feeds through the test broker for ~25 s.
# Then headless Chromium (Debian's chromium, driven by chromedriver from lib/browser.py) opens
# http://127.0.0.1:$PORT/ and the test asserts that:
#   - the page, its script and its style are served from the binary with the right content types, and an
#     unknown path is a 404;
#   - every chart (records/s, lag per partition, latency, windowed accuracy and log loss, model version)
#     draws at least MIN_POINTS points, each drift event of api/stats is marked on every chart, and
#     #model-version shows the version /model reports;
#   - once rtml is stopped (SIGTERM) the page says "disconnected", and rtml still exits 0.
# The screenshot goes to ${RTML_ARTIFACTS:-$RTML_ROOT/test-artifacts}/dashboard.png.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"
source "$RTML_ROOT/tests/lib/config.sh"
source "$RTML_ROOT/tests/monitor/lib/monitor.sh"
PORT=${RTML_DASHBOARD_PORT:-19465}
BASE=http://127.0.0.1:$PORT
ARTIFACTS=${RTML_ARTIFACTS:-$RTML_ROOT/test-artifacts}
SHOT=$ARTIFACTS/dashboard.png
N=50000 RATE=2000 DRIFT_AT=20000 MIN_POINTS=10
IN=$(uniq_name dash); OUT=$(uniq_name dash-scored); GROUP=$(uniq_name dash)
TOPICS=("$IN" "$OUT")
# stats EXPR: api/stats answers and the Python expression EXPR (on it, bound to s) is true.
stats() { stats_has "$BASE" "$1"; }
# served PATH TYPE: GET PATH answers 200 with a Content-Type starting with TYPE.
served() {
  local type
  type=$(curl -sf --max-time 5 -o /dev/null -w '%{content_type}' "$BASE$1") || fail "GET $1 failed"
  [[ $type == "$2"* ]] && pass "GET $1 is $type" || fail "GET $1: Content-Type '$type', expected $2"
}

port_free "$PORT"
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || fail "chromium and chromedriver (Debian packages) are needed"

"$RTML" topics create "$IN" --partitions 3 >/dev/null
"$RTML" topics create "$OUT" --partitions 3 >/dev/null
write_config "$T/run.yaml" "$IN" "$OUT" "$GROUP"
printf 'monitor: {listen: 127.0.0.1:%s}\ndrift: {detector: adwin, action: reset}\n' "$PORT" >>"$T/run.yaml"

"$RTML" run -c "$T/run.yaml" >"$T/report.json" 2>"$T/run.log" &
RUN_PID=$!
wait_until "rtml run serves /healthz" 60 curl -sf --max-time 2 "$BASE/healthz"
served / "text/html"
served /dashboard.js "text/javascript"
served /dashboard.css "text/css"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/no-such-file.js")
expect_eq "$code" 404 "an unknown path"

# A steady stream, so every per-second series fills: N records at RATE/s, the concept changing at DRIFT_AT
# (abrupt enough for ADWIN's defaults; the drift tests measure detection itself).
( "$RTML" gen --stream hyperplane --features 3 --sigma-flip 0 --n $N --seed 7 --drift-at $DRIFT_AT \
    | "$RTML" produce --topic "$IN" --key-field /id --rate $RATE >"$T/produce.out" 2>"$T/produce.err" ) &
PRODUCE_PID=$!
BG_PIDS=("$PRODUCE_PID")
wait_until "rtml consumes the stream" 60 stats 's["totals"]["consumed"] > 0'
wait_until "the producer sent all $N records" $((N / RATE + 60)) bash -c "! kill -0 $PRODUCE_PID"
wait "$PRODUCE_PID" || { cat "$T/produce.err" >&2; fail "rtml produce failed"; }
BG_PIDS=()
wait_until "rtml consumed all $N records" 60 stats "s['totals']['consumed'] >= $N"
wait_until "api/stats holds >= 15 s of series and the drift event" 30 \
  stats 'len(s["series"]["t"]) >= 15 and len(s["drift_events"]) >= 1'

mkdir -p "$ARTIFACTS"
rm -f "$SHOT"
"$PY" "$RTML_ROOT/tests/monitor/lib/browser.py" "$BASE" --screenshot "$SHOT" --min-points $MIN_POINTS \
  --timeout 60 --stop-pid "$RUN_PID" --driver-log "$T/chromedriver.log" \
  || { tail -30 "$T/chromedriver.log" >&2 || true; fail "the dashboard in headless Chromium (screenshot: $SHOT)"; }
"$PY" -c 'import sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; w=int.from_bytes(d[16:20],"big"); h=int.from_bytes(d[20:24],"big"); assert w>=800 and h>=600, (w,h); print(f"ok: {sys.argv[1]} is a {w}x{h} PNG")' "$SHOT" \
  || fail "the screenshot is not a full-size PNG"

set +e; wait "$RUN_PID"; rc=$?; set -e
RUN_PID=
[ "$rc" == 0 ] || { tail -20 "$T/run.log" >&2; fail "rtml run exited $rc after SIGTERM"; }
pass "rtml run stopped cleanly (exit 0)"
echo "dashboard: all checks passed; screenshot: $SHOT"
