# tests/lib/common.sh — shared by the integration and CLI test scripts (sourced, not run).
#
# Gives: $RTML (the binary), $BROKERS (the test broker), $PY (.venv's python), a scratch dir $T removed at
# exit, unique names (so reruns on one broker never see each other's data), and small assertions that print
# what they check and fail the script with a reason.
set -euo pipefail
: "${RTML_BIN:?RTML_BIN must point at the rtml binary (ctest sets it)}"
: "${RTML_ROOT:?RTML_ROOT must point at the source tree (ctest sets it)}"
RTML=$RTML_BIN
BROKERS=127.0.0.1:${RTML_KAFKA_PORT:-19092}
export RTML_BROKERS=$BROKERS
PY=$RTML_ROOT/.venv/bin/python
LIB=$RTML_ROOT/tests/lib
T=$(mktemp -d /tmp/rtml-test.XXXXXX)
trap '[ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
RUN_ID=$(date +%s)-$$

uniq_name() { echo "$1-$RUN_ID"; }

pass() { echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" == "$2" ] && pass "$3 ($1)" || fail "$3: got '$1', expected '$2'"; }

# expect_exit CODE WHAT -- COMMAND...   (runs COMMAND, output in $T/out and $T/err)
expect_exit() {
  local want=$1 what=$2; shift 3
  set +e; "$@" >"$T/out" 2>"$T/err"; local got=$?; set -e
  [ "$got" == "$want" ] || { cat "$T/err" >&2; fail "$what: exit $got, expected $want"; }
  pass "$what (exit $got)"
}

# expect_grep PATTERN FILE WHAT
expect_grep() { grep -qE -- "$1" "$2" && pass "$3" || { sed -n 1,20p "$2" >&2; fail "$3: no /$1/ in $(basename "$2")"; }; }

# wait_for_log FILE REGEX SECONDS: until a line matches (0), or the deadline passes (1).
wait_for_log() {
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# json_get FILE EXPR: evaluate a Python expression on the last JSON line of FILE (bound to r).
json_get() { "$PY" -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"; }
