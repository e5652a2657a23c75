# tests/monitor/lib/monitor.sh — shared by the monitor tests (sourced after tests/integration/lib/common.sh).
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
RUN_PID=
RUN_RC=

_monitor_cleanup() {
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -9 "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
  fi
  for t in "${TOPICS[@]:-}"; do [ -z "$t" ] || "$RTML" topics delete "$t" >/dev/null 2>&1 || true; done
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
TOPICS=()
trap _monitor_cleanup EXIT

start_run() {
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
