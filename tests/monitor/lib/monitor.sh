# tests/monitor/lib/monitor.sh — shared by the monitor tests (sourced after tests/lib/common.sh).
#
# Gives:
#   start_run CONFIG [ARGS...]   rtml run in the background (pid in $RUN_PID, stdout $T/run.out, stderr
#                                $T/run.log); killed at exit if still running
#   stop_run [SIGNAL]            signal it (default TERM) and wait; its exit status in $RUN_RC
#   wait_until WHAT SECONDS CMD  poll CMD every 0.2 s until it succeeds; fail the test at the deadline, or at
#                                once if rtml run died meanwhile
#   http_get URL [FILE]          the body on stdout (or into FILE); fails on a status other than 200
#   metric FILE NAME [LABELS]    the value of one sample of a Prometheus exposition ("" when absent)
#   metric_sum FILE NAME         the sum of a family's samples
#   stats_has BASE EXPR          BASE/api/stats answers and the Python expression EXPR (on it, as s) holds
#   port_free PORT               fail the test when something already listens on 127.0.0.1:PORT
# At exit: rtml run and every pid in BG_PIDS are killed, the topics in TOPICS deleted, $T removed.
RUN_PID=
RUN_RC=
BG_PIDS=()

_monitor_cleanup() {
  local pid
  for pid in "${BG_PIDS[@]:-}" $RUN_PID; do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for t in "${TOPICS[@]:-}"; do [ -z "$t" ] || "$RTML" topics delete "$t" >/dev/null 2>&1 || true; done
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
TOPICS=()
trap _monitor_cleanup EXIT

start_run() {
  # Emptied here, not only by the child's redirection: that one happens in the background, and a wait_until on
  # the log of a second run could otherwise read the first run's lines (tests/serve/load.sh took the stopped
  # run's serve port, or none when the truncation came between its grep and its sed).
  : >"$T/run.out"
  : >"$T/run.log"
  "$RTML" run -c "$@" >"$T/run.out" 2>"$T/run.log" &
  RUN_PID=$!
}

stop_run() {
  kill "-${1:-TERM}" "$RUN_PID" 2>/dev/null || true
  set +e; wait "$RUN_PID"; RUN_RC=$?; set -e
  RUN_PID=
}

wait_until() {
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    if [ -n "$RUN_PID" ] && ! kill -0 "$RUN_PID" 2>/dev/null; then
      tail -20 "$T/run.log" >&2; fail "rtml run exited while waiting for: $what"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { tail -20 "$T/run.log" >&2; fail "timed out waiting for: $what"; }
    sleep 0.2
  done
  pass "$what"
}

http_get() {
  if [ $# -ge 2 ]; then curl -sf --max-time 5 -o "$2" "$1"; else curl -sf --max-time 5 "$1"; fi
}

metric() {
  "$PY" - "$@" <<'PY'
import sys
path, name = sys.argv[1], sys.argv[2]
labels = sys.argv[3] if len(sys.argv) > 3 else ""
want = name + ("{" + labels + "}" if labels else "")
for line in open(path):
    if line.startswith("#"): continue
    key, _, value = line.rstrip("\n").rpartition(" ")
    if key == want: print(value); break
PY
}

metric_sum() {
  "$PY" - "$@" <<'PY'
import sys
path, name = sys.argv[1], sys.argv[2]
total = 0.0
for line in open(path):
    if line.startswith("#"): continue
    key, _, value = line.rstrip("\n").rpartition(" ")
    if key == name or key.startswith(name + "{"): total += float(value)
print(int(total) if total == int(total) else total)
PY
}

stats_has() {
  curl -sf --max-time 2 "$1/api/stats" |
    "$PY" -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}

port_free() {
  "$PY" -c 'import socket,sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)' "$1" \
    || fail "port $1 is taken (each monitor test has a variable to move it)"
}
