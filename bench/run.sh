#!/usr/bin/env bash
# bench/run.sh — rtml's benchmarks: `bench/run.sh` runs them all, `bench/run.sh engine` one scenario.
#
# Builds rtml (RelWithDebInfo, the default build, so callgrind can name functions) in build-bench/ unless
# RTML_BIN points at a binary, then runs each scenario; results go to bench/results/<date>-<scenario>.md
# (+ .png). Scenarios: engine (bench/engine.py: replay throughput beside River and Vowpal Wabbit).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python
[ -x "$PY" ] || { echo "bench: $PY missing: run make setup" >&2; exit 2; }
if [ -z "${RTML_BIN:-}" ]; then
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTML_INTEGRATION=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j2 --target rtml >/dev/null
  RTML_BIN=$ROOT/build-bench/rtml
fi
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(engine)
for s in "${scenarios[@]}"; do
  case $s in
    engine) "$PY" "$ROOT/bench/engine.py" "$RTML_BIN" "$ROOT/bench/results" ;;
    *) echo "bench: unknown scenario '$s' (expected: engine)" >&2; exit 2 ;;
  esac
done
