#!/usr/bin/env bash
# bench/run.sh — rtml's benchmarks: `bench/run.sh` runs them all, `bench/run.sh engine` one scenario.
#
# Builds rtml (RelWithDebInfo, the default build, so callgrind can name functions) in build-bench/ unless
# RTML_BIN points at a binary, then runs each scenario; results go to bench/results/<date>-<scenario>.md
# (+ .png). Scenarios: engine (bench/engine.py: replay throughput beside River and Vowpal Wabbit);
# tensorflow (bench/tensorflow.py: a Keras MLP through Kafka, rtml's TensorFlow engine against a Python
# confluent-kafka + Keras consumer, on a private broker on port $BENCH_TF_PORT (39092) that this script starts
# and stops; plus the fixed cost of one TF_SessionRun, bench/tf_sessionrun.c, built here against the
# tensorflow wheel's C library); scaling (bench/scaling.py: records/s with 1 and 2 workers, 1 and 2 processes
# in one group, on a private broker on port $BENCH_SCALE_PORT (39192)); pipeline (bench/pipeline.py: topic to
# topic, the librdkafka passthrough bench/passthrough.c against rtml and confluent-kafka + River, on a private
# broker on port $BENCH_PIPE_PORT (39292)); latency (bench/latency.py: end-to-end latency under a fixed offered
# load, measured by bench/latency_probe.c, passthrough and rtml with and without the low-latency profile, on a
# private broker on port $BENCH_LAT_PORT (39392)); recovery (bench/recovery.py: restart to first output and
# takeover after kill -9, classic and KIP-848 group protocols, static and dynamic members, on a private broker
# on port $BENCH_RECOVERY_PORT (39492)); instructions (bench/instructions.py: instructions per record of `rtml
# replay` under callgrind, split by stage (decode, featurize, model, encode), for dense logistic and categorical
# FTRL; no broker; BENCH_INSTR_N records (20000), BENCH_BASELINE_BIN an older rtml measured beside it); serve
# (bench/serve.py: requests/s and p50/p99/p99.9 of single-record requests at fixed offered loads, open loop through
# tests/serve/oip_probe.c, for the native logistic and the TensorFlow MLP beside MLServer serving the equivalent
# scikit-learn model, on a private broker on port $BENCH_SERVE_PORT (39700); MLServer runs from a venv of its own,
# .deps/mlserver-venv, built here from deps/mlserver.lock: MLServer takes protobuf < 7, TensorFlow in .venv 7.36);
# aggregates (bench/aggregates.py: ten per-key aggregates over 1M keys in replay, their cost per record and per
# update, instructions beside the JSON decode, bytes per key, a Python peer, the fraud examples with and without
# velocity aggregates); daemon (bench/daemon.py: instructions per record of the whole `rtml run` process beside the
# passthrough's, topic to topic under callgrind, where the pipeline scenario's records/s are noise; on a private
# broker on port $BENCH_DAEMON_PORT (39592)). After the scenarios, bench/summary.py writes bench/results/<date>.md: the issue's targets
# against today's figures.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=$ROOT/.venv/bin/python
[ -x "$PY" ] || { echo "bench: $PY missing: run make setup" >&2; exit 2; }
if [ -z "${RTML_BIN:-}" ]; then
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTML_INTEGRATION=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j2 --target rtml >/dev/null
  RTML_BIN=$ROOT/build-bench/rtml
fi

# with_broker PORT CMD...: runs CMD with a private broker on PORT, which is stopped afterwards, whatever happens.
with_broker() {
  local port=$1; shift
  trap 'bash "$ROOT/scripts/kafka.sh" stop --port '"$port"' >/dev/null 2>&1 || true' EXIT
  bash "$ROOT/scripts/kafka.sh" start --port "$port"
  "$@"
  bash "$ROOT/scripts/kafka.sh" stop --port "$port"
  trap - EXIT
}

# build_c NAME [LIBS...]: bench/NAME.c to build-bench/NAME, against the librdkafka rtml links (scripts/setup.sh
# builds it into .deps/librdkafka; static, with its own dependencies from Debian), so both sides run one client.
build_c() {
  local rdk="$ROOT/.deps/librdkafka"
  mkdir -p "$ROOT/build-bench"
  # shellcheck disable=SC2046
  gcc -O2 -Wall -Wextra -std=c11 -D_POSIX_C_SOURCE=200809L -I"$rdk/include" "$ROOT/bench/$1.c" -o "$ROOT/build-bench/$1" \
    "$rdk/lib/librdkafka.a" $(pkg-config --libs zlib libcrypto libssl libsasl2 libzstd liblz4) -lm -ldl -lpthread -lrt "${@:2}"
}

# The tensorflow scenario: rtml must have the TensorFlow engine; the TF C library comes from .venv's wheel.
tensorflow() {
  "$RTML_BIN" --version | grep -q "tensorflow: built in" ||
    { echo "bench: $RTML_BIN has no TensorFlow engine (scripts/setup.sh installs the wheel it builds against)" >&2; return 2; }
  local tf; tf=$(echo "$ROOT"/.venv/lib/python3*/site-packages/tensorflow)
  [ -f "$tf/include/tensorflow/c/c_api.h" ] || { echo "bench: no TensorFlow C API in $tf" >&2; return 2; }
  local tfrun="$ROOT/build-bench/tf_sessionrun" port=${BENCH_TF_PORT:-39092}
  mkdir -p "$ROOT/build-bench"
  gcc -O2 -Wall -Wextra -std=c11 -I"$tf/include" "$ROOT/bench/tf_sessionrun.c" -o "$tfrun" \
    -L"$tf" -Wl,-rpath,"$tf" -l:libtensorflow_cc.so.2 -l:libtensorflow_framework.so.2
  with_broker "$port" env TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}" \
    BENCH_TF_PORT="$port" "$PY" "$ROOT/bench/tensorflow.py" "$RTML_BIN" "$tfrun" "$ROOT/bench/results"
}

# The scaling scenario: workers and instances against one private broker on this machine.
scaling() {
  local port=${BENCH_SCALE_PORT:-39192}
  with_broker "$port" env BENCH_SCALE_PORT="$port" "$PY" "$ROOT/bench/scaling.py" "$RTML_BIN" "$ROOT/bench/results"
}

# The pipeline scenario: passthrough (bench/passthrough.c, built here), rtml and Python + River, topic to topic.
pipeline() {
  local port=${BENCH_PIPE_PORT:-39292}
  build_c passthrough
  with_broker "$port" env BENCH_PIPE_PORT="$port" "$PY" "$ROOT/bench/pipeline.py" "$RTML_BIN" \
    "$ROOT/build-bench/passthrough" "$ROOT/bench/results"
}

# The recovery scenario: restart to first output and takeover after kill -9, per group membership variant.
recovery() {
  local port=${BENCH_RECOVERY_PORT:-39492}
  with_broker "$port" env BENCH_RECOVERY_PORT="$port" "$PY" "$ROOT/bench/recovery.py" "$RTML_BIN" "$ROOT/bench/results"
}

# The instructions scenario: callgrind (valgrind, a Debian package scripts/setup.sh installs) over `rtml replay`.
instructions() {
  command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
    { echo "bench: instructions needs valgrind (callgrind): run make setup" >&2; return 2; }
  # bench/choices.cc beside the binary, when it is a CMake build's (a build without simdjson or xxHash has no
  # such target: the scenario then measures rtml alone)
  local dir; dir=$(dirname "$RTML_BIN")
  [ -f "$dir/CMakeCache.txt" ] && cmake --build "$dir" --target bench_choices >/dev/null 2>&1
  "$PY" "$ROOT/bench/instructions.py" "$RTML_BIN" "$ROOT/bench/results"
}

# The daemon scenario: rtml run and the passthrough, each under callgrind, on the same topic.
daemon() {
  local port=${BENCH_DAEMON_PORT:-39592}
  build_c passthrough
  with_broker "$port" env BENCH_DAEMON_PORT="$port" "$PY" "$ROOT/bench/daemon.py" "$RTML_BIN" \
    "$ROOT/build-bench/passthrough" "$ROOT/bench/results"
}

# The latency scenario: the probe (open-loop producer + output consumer) against passthrough and rtml.
latency() {
  local port=${BENCH_LAT_PORT:-39392}
  build_c passthrough
  build_c latency_probe -lpthread
  with_broker "$port" env BENCH_LAT_PORT="$port" "$PY" "$ROOT/bench/latency.py" "$RTML_BIN" \
    "$ROOT/build-bench/passthrough" "$ROOT/build-bench/latency_probe" "$ROOT/bench/results"
}

# MLServer's own venv, from its pinned lock (never installed by hand, never into .venv); rebuilt when the lock
# changes. Prints its python.
mlserver_venv() {
  local venv="$ROOT/.deps/mlserver-venv" stamp
  stamp="$venv/.stamp-$(sha256sum "$ROOT/deps/mlserver.lock" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "bench: building $venv from deps/mlserver.lock" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$ROOT/deps/mlserver.lock" >&2
    touch "$stamp"
  fi
  echo "$venv/bin/python"
}

# The serve scenario: rtml's endpoint (native, TensorFlow) and MLServer under the same open-loop probe.
serve() {
  local port=${BENCH_SERVE_PORT:-39700} mlpy
  mkdir -p "$ROOT/build-bench"
  gcc -O2 -Wall -Wextra -std=c11 "$ROOT/tests/serve/oip_probe.c" -o "$ROOT/build-bench/oip_probe"
  mlpy=$(mlserver_venv)
  with_broker "$port" env BENCH_SERVE_PORT="$port" "$PY" "$ROOT/bench/serve.py" "$RTML_BIN" \
    "$ROOT/build-bench/oip_probe" "$ROOT/bench/results" "$mlpy"
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(pipeline latency tensorflow engine instructions daemon scaling recovery serve aggregates)
# One scenario runs here, under set -e; several run as one child each (RTML_BIN set, so it builds nothing
# again), so that a scenario that fails is reported and the others still run: one broken scenario loses no
# other figures. bench/summary.py runs last either way.
run_scenario() {
  case $1 in
    engine) "$PY" "$ROOT/bench/engine.py" "$RTML_BIN" "$ROOT/bench/results" ;;
    tensorflow) tensorflow ;;
    scaling) scaling ;;
    pipeline) pipeline ;;
    latency) latency ;;
    recovery) recovery ;;
    instructions) instructions ;;
    serve) serve ;;
    aggregates) "$PY" "$ROOT/bench/aggregates.py" "$RTML_BIN" "$ROOT/bench/results" ;;
    daemon) daemon ;;
  esac
}
for s in "${scenarios[@]}"; do
  case $s in
    engine | tensorflow | scaling | pipeline | latency | recovery | instructions | serve | aggregates | daemon) ;;
    *) echo "bench: unknown scenario '$s' (expected: pipeline, latency, tensorflow, engine, instructions, scaling, recovery, serve, aggregates, daemon)" >&2; exit 2 ;;
  esac
done
if [ ${#scenarios[@]} -eq 1 ]; then
  run_scenario "${scenarios[0]}"
  [ -n "${BENCH_CHILD:-}" ] || "$PY" "$ROOT/bench/summary.py" "$ROOT/bench/results"
  exit 0
fi
failed=()
for s in "${scenarios[@]}"; do
  RTML_BIN=$RTML_BIN BENCH_CHILD=1 bash "$0" "$s" || { failed+=("$s"); echo "bench: scenario $s FAILED (above); going on" >&2; }
done
"$PY" "$ROOT/bench/summary.py" "$ROOT/bench/results"
if [ ${#failed[@]} -gt 0 ]; then echo "bench: failed scenarios: ${failed[*]}" >&2; exit 1; fi
echo "bench: all ${#scenarios[@]} scenarios done"
